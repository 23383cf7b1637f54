#!/usr/bin/env node
// End-to-end test of the softphone against the real Kamailio (pbx/pbx.sh),
// in Debian's Chromium (/usr/bin/chromium) driven by playwright-core.
//
// scripts/test.sh runs it inside the network namespace of the PBX:
//   PBX_NETNS=softphone-e2e pbx/pbx.sh start
//   ip netns exec softphone-e2e node tests/e2e/call.mjs
// It also works in the host namespace against pbx/pbx.sh start.
//
// The built app (dist/, from `trunk build --release`) is served by a small
// static server started here on 127.0.0.1. Pages talk to the app only
// through its DOM contract (ids and data attributes, see NOTES.md).
//
// Scenarios (each passes or fails on its own):
//   call            1000 (Alice, page A) calls 1001 (Bob, page B): register,
//                   ring, answer, audio both ways (getStats), hang up
//   wrong-password  1002 with a wrong password: error shown, reg failed
//   server-down     WebSocket URL with nothing listening: error shown
//   hostile-peer    sipp sends 1004 odd/malformed requests and answers its
//                   calls oddly; the page survives and still calls (hostile.mjs)
//   load-100        100 calls in a row between two pages; wasm memory and JS
//                   heap growth bounded (load.mjs)
//   pbx-restart     Kamailio stopped and started during a call: the call and
//                   its audio survive, re-registration timed; then the peer
//                   vanishes during an outage (reconnect.mjs)
//   ws-kill         the PBX closes one page's WebSocket during a call (reconnect.mjs)
//   hold-resume, mute, dtmf-info, dtmf-rfc4733, blind-transfer,
//   attended-transfer, call-waiting, conference, auto-answer, dnd, history,
//   messages, presence, voicemail, title-notification, keyboard-a11y,
//   early-media, page-close, page-reload, tab-close
//                   desk-phone features of issue 5 (features.mjs); leaving
//                   the page during a call three ways (issue 12)
//   mixed-browsers, wss-call, wss-untrusted, turn-udp, turn-tcp,
//   turn-wrong-password, no-webrtc
//                   issue 12: Chromium <-> Firefox, wss:// with a local CA,
//                   TURN relay only, no WebRTC (outside.mjs)
//   browser-calls-baresip, baresip-calls-browser
//                   issue 12: baresip (not a browser; ICE + DTLS-SRTP) and
//                   the page call each other, a tone checked each way
//                   (baresip.mjs)
// lib.mjs has the shared helpers; figures.mjs prints a results file's figures.
//
// Options: --dist DIR (default <repo>/dist), --artifacts DIR (default
// <repo>/tests/artifacts), --ws URL (default ws://127.0.0.1:8088),
// --only name[,name] (default: all), --results FILE (default
// e2e-results.json, in the artifacts dir), --watchdog MS (default 180000),
// --chromium PATH, --browser chromium|firefox (default chromium; Firefox ESR
// through WebDriver BiDi, firefox.mjs), --load-calls N (load-100; debugging
// only), --headed (debugging only). pbx-restart and ws-kill drive the PBX through
// pbx/pbx.sh (PBX_NETNS from the environment).
// Output: one JSON summary on stdout (also <artifacts>/<results file>),
// screenshots <artifacts>/<scenario>-<state>.png, page consoles and SIP
// WebSocket frames <artifacts>/<scenario>-<page>.log; last line
// "N passed, N failed". Exit 1 if any failed.
import {
  opt, DIST, BROWSER, T, sleep, r1, step, openPage, shot, fillSettings,
  regState, phoneState, textOf, errorText, waitReg, waitPhone, waitText, expectNoError, probe, user,
  runScenarios,
} from './lib.mjs';
import { scenarioHostilePeer } from './hostile.mjs';
import { scenarioLoad } from './load.mjs';
import { scenarioPbxRestart, scenarioWsKill, scenarioWsKillVideo } from './reconnect.mjs';
import { FEATURES, leaveAll } from './features.mjs';
import { EMBED } from './embed.mjs';
import { OUTSIDE } from './outside.mjs';
import { BARESIP } from './baresip.mjs';
import { CLUSTER_SCENARIOS } from './cluster.mjs';
import { LINPHONE } from './linphone.mjs';
import { DEMO } from './demo.mjs';
import { FIRSTRUN } from './firstrun.mjs';
import { SCREENS } from './screens.mjs';
import { AGENT } from './agent.mjs';

const DEAD_WS = 'ws://127.0.0.1:8099'; // nothing listens there
const WATCHDOG_MS = Number(opt('watchdog', 180000));
const CHROMIUM = opt('chromium', '/usr/bin/chromium');
const HEADED = opt('headed', false) === true;
const ONLY = opt('only', null);
const RESULTS = opt('results', 'e2e-results.json');
const ALL = ['call', 'wrong-password', 'server-down', 'hostile-peer', 'load-100', ...Object.keys(FEATURES), ...Object.keys(EMBED), ...Object.keys(OUTSIDE), ...Object.keys(BARESIP), ...Object.keys(LINPHONE), ...Object.keys(DEMO), ...Object.keys(FIRSTRUN), ...Object.keys(SCREENS), ...Object.keys(AGENT), 'pbx-restart', 'ws-kill', 'ws-kill-video', ...Object.keys(CLUSTER_SCENARIOS)];
const SCENARIOS = ALL.filter((s) => !ONLY || String(ONLY).split(',').includes(s));

// ---------- scenarios ----------

async function scenarioCall(browser, base, r) {
  const A = await openPage(browser, base, 'call', 'A');
  const B = await openPage(browser, base, 'call', 'B');
  r.pages = [A, B];
  const alice = user(1000, 'Alice');
  const bob = user(1001, 'Bob');

  // ----- register both -----
  await step('fill settings', T.ui * 2, async () => {
    await fillSettings(A.page, alice);
    await fillSettings(B.page, bob);
  });
  r.screenshots.push(await shot(A.page, 'call', 'settings'));
  await step('register A and B', T.register, async () => {
    await Promise.all([A.page.click('#save-register'), B.page.click('#save-register')]);
    await Promise.all([waitReg(A.page, 'registered', T.register), waitReg(B.page, 'registered', T.register)]);
  });
  const [pA0, pB0] = await Promise.all([probe(A.page), probe(B.page)]);
  r.register_ms = {
    A: r1(pA0.first['reg:registered'] - pA0.clicks['save-register']),
    B: r1(pB0.first['reg:registered'] - pB0.clicks['save-register']),
  };
  await step('idle after register', T.ui, async () => {
    await waitPhone(A.page, 'idle', T.ui);
    await waitPhone(B.page, 'idle', T.ui);
    await expectNoError(A.page, 'A');
    await expectNoError(B.page, 'B');
  });
  r.screenshots.push(await shot(A.page, 'call', 'registered-idle'));
  r.screenshots.push(await shot(B.page, 'call', 'registered-idle-B'));

  // ----- A calls 1001 -----
  await step('dial', T.ui, async () => {
    await A.page.fill('#dial-input', '1001');
    await A.page.click('#call-button');
  });
  await step('B rings', T.ring, async () => {
    await waitPhone(B.page, 'incoming', T.ring);
    await B.page.waitForSelector('#incoming', { state: 'visible', timeout: T.ui });
    await waitText(B.page, '#incoming-from', /1000|Alice/, T.ui, 'B');
  });
  r.incoming_from = await textOf(B.page, '#incoming-from');
  r.caller_state_while_ringing = await phoneState(A.page);
  if (!['calling', 'ringing'].includes(r.caller_state_while_ringing)) {
    throw new Error(`A: phone is "${r.caller_state_while_ringing}" while B rings, want calling|ringing`);
  }
  r.screenshots.push(await shot(B.page, 'call', 'ringing'));
  r.screenshots.push(await shot(A.page, 'call', 'ringing-A'));

  // ----- B answers -----
  await step('B answers', T.answer, async () => {
    await B.page.click('#answer-button');
    await Promise.all([waitPhone(A.page, 'active', T.answer), waitPhone(B.page, 'active', T.answer)]);
    await A.page.waitForSelector('#in-call', { state: 'visible', timeout: T.ui });
    await B.page.waitForSelector('#in-call', { state: 'visible', timeout: T.ui });
  });
  r.call_peer = { A: await textOf(A.page, '#call-peer'), B: await textOf(B.page, '#call-peer') };

  // ----- audio both ways (getStats inbound-rtp audio bytesReceived) -----
  await step('audio flows', T.media, async () => {
    const end = Date.now() + T.media;
    while (Date.now() < end) {
      const [a, b] = await Promise.all([
        A.page.evaluate(() => window.__inboundAudio()),
        B.page.evaluate(() => window.__inboundAudio()),
      ]);
      r.inbound_audio_bytes = { A: a.bytes, B: b.bytes };
      r.peer_connections = { A: a.connections, B: b.connections };
      if (a.bytes > 0 && b.bytes > 0) return;
      await sleep(100);
    }
    throw new Error(`no inbound audio: ${JSON.stringify(r.inbound_audio_bytes)}`);
  });
  const pA1 = await probe(A.page);
  const pB1 = await probe(B.page);
  if (pA1.audio && pA1.audio.firstAt !== null) {
    r.click_to_audio_ms = r1(pA1.audio.firstAt - pA1.audio.clickAt);
  }
  // cross-page intervals: page clocks are converted to epoch ms (timeOrigin)
  const [oA, oB] = await Promise.all([
    A.page.evaluate(() => performance.timeOrigin),
    B.page.evaluate(() => performance.timeOrigin),
  ]);
  const span = (o1, t1, o2, t2) => (t1 === undefined || t2 === undefined ? null : r1(o2 + t2 - (o1 + t1)));
  r.click_to_incoming_ms = span(oA, pA1.clicks['call-button'], oB, pB1.first['phone:incoming']);
  r.answer_to_active_ms = span(oB, pB1.clicks['answer-button'], oA, pA1.first['phone:active']);

  // details of the in-call panel: checked after the hang-up, so that a
  // deviation here still lets the rest of the call be exercised
  await sleep(1100); // let the timer tick once
  {
    const [a, b] = await Promise.all([
      A.page.evaluate(() => window.__inboundAudio()),
      B.page.evaluate(() => window.__inboundAudio()),
    ]);
    r.inbound_audio_bytes_1s_later = { A: a.bytes, B: b.bytes };
    r.peer_connections = { A: a.connections, B: b.connections };
  }
  r.call_timer = { A: await textOf(A.page, '#call-timer'), B: await textOf(B.page, '#call-timer') };
  const contract = [];
  for (const [who, t] of Object.entries(r.call_timer)) {
    if (!/^\d{2}:\d{2}$/.test(t || '')) contract.push(`${who}: #call-timer "${t}" is not mm:ss`);
  }
  for (const [who, t] of Object.entries(r.call_peer)) {
    if (!t) contract.push(`${who}: #call-peer is empty`);
  }
  // an audio call makes no <video> elements (web/media/video.rs: they come
  // with a call's first picture; making them held up the answer)
  const videos = (p) => p.evaluate(() => document.querySelectorAll('video').length);
  r.video_elements = { A: await videos(A.page), B: await videos(B.page) };
  for (const [who, n] of Object.entries(r.video_elements)) {
    if (n !== 0) contract.push(`${who}: ${n} <video> elements in an audio call`);
  }
  r.screenshots.push(await shot(A.page, 'call', 'in-call-A'));
  r.screenshots.push(await shot(B.page, 'call', 'in-call-B'));

  // ----- A hangs up -----
  await step('hang up', T.hangup, async () => {
    await A.page.click('#hangup-button');
    await Promise.all([waitPhone(A.page, 'idle', T.hangup), waitPhone(B.page, 'idle', T.hangup)]);
    await waitText(B.page, '#notice', /hung up/i, T.ui, 'B');
  });
  r.notice_B = await textOf(B.page, '#notice');
  r.screenshots.push(await shot(A.page, 'call', 'idle-after-hangup-A'));
  r.screenshots.push(await shot(B.page, 'call', 'idle-after-hangup-B'));
  // state history "t reg/phone" (ms since page start)
  const hist = async (p) => (await probe(p)).states.map((x) => `${Math.round(x.t)} ${x.reg}/${x.phone}`);
  r.states = { A: await hist(A.page), B: await hist(B.page) };
  // the wasm's stack (.cargo/config.toml: 128 KiB) after a whole call: a
  // quarter of it at most, so that deeper paths keep a wide margin
  const STACK = 128 * 1024;
  r.wasm_stack_used = {
    A: await A.page.evaluate((n) => window.__wasmStackUsed(n), STACK),
    B: await B.page.evaluate((n) => window.__wasmStackUsed(n), STACK),
  };
  for (const [who, used] of Object.entries(r.wasm_stack_used)) {
    if (used === null) contract.push(`${who}: no wasm memory to look at`);
    else if (used > STACK / 4) contract.push(`${who}: the wasm used ${used} bytes of its ${STACK}-byte stack (more than a quarter)`);
  }
  if (contract.length) throw new Error(contract.join('; '));
}

async function scenarioError(browser, base, r, scenario, settings) {
  const P = await openPage(browser, base, scenario, 'page');
  r.pages = [P];
  await step('fill settings', T.ui, () => fillSettings(P.page, settings));
  await step('error shown', T.error, async () => {
    await P.page.click('#save-register');
    await P.page.waitForFunction(
      () => {
        const el = document.getElementById('error');
        return !!el && el.textContent.trim() !== '' && el.getClientRects().length > 0;
      },
      null,
      { timeout: T.error, polling: 50 },
    );
  });
  r.error_text = await errorText(P.page);
  r.reg_state = await regState(P.page);
  r.screenshots.push(await shot(P.page, scenario, 'error'));
  return P;
}

async function scenarioWrongPassword(browser, base, r) {
  const settings = { ...user(1002, 'Carol'), password: 'not-the-password' };
  const P = await scenarioError(browser, base, r, 'wrong-password', settings);
  await step('reg-status failed', T.ui, () => waitReg(P.page, 'failed', T.ui));
  r.reg_state = await regState(P.page);
}

async function scenarioServerDown(browser, base, r) {
  await scenarioError(browser, base, r, 'server-down', { ...user(1003, 'Dave'), ws: DEAD_WS });
}

const RUN = {
  call: scenarioCall,
  'wrong-password': scenarioWrongPassword,
  'server-down': scenarioServerDown,
  'hostile-peer': scenarioHostilePeer,
  'load-100': scenarioLoad,
  'pbx-restart': scenarioPbxRestart,
  'ws-kill': scenarioWsKill,
  'ws-kill-video': scenarioWsKillVideo,
  ...FEATURES,
  ...EMBED,
  ...OUTSIDE,
  ...BARESIP,
  ...LINPHONE,
  ...DEMO,
  ...FIRSTRUN,
  ...SCREENS,
  ...AGENT,
  ...CLUSTER_SCENARIOS,
};

// ---------- main ----------
await runScenarios({
  scenarios: SCENARIOS,
  run: RUN,
  serve: DIST,
  results: RESULTS,
  watchdogMs: WATCHDOG_MS,
  launch: BROWSER === 'firefox' ? { headed: HEADED } : { executablePath: CHROMIUM, headed: HEADED },
  // desk-phone scenarios: close the pages as a person closes a tab (the
  // app unregisters on pagehide), so that no stale binding forks a call
  // of the next scenario
  leave: (pages, name) => (FEATURES[name] || EMBED[name] || OUTSIDE[name] || BARESIP[name] || LINPHONE[name] ? leaveAll(pages) : undefined),
});
