// Scenarios where the signalling path breaks during an active call with
// audio flowing between two pages (the media path, browser to browser, is
// not touched):
//
//   pbx-restart  Kamailio is stopped (pbx/pbx.sh stop): both pages show
//                #reg-status=reconnecting while the call panel stays
//                (#phone=active); after OUTAGE_MS it is started again and the
//                time from "started" to both pages "registered" is measured
//                (bound REREGISTER_MS). Then the call is still up on both,
//                audio still flows both ways (inbound bytes grow over 2 s),
//                and a BYE from B ends the call on A (signalling works again).
//                Variant "peer gone" (same scenario, second part): during a
//                second outage page B is closed; after the restart A must end
//                the call by itself, with a message, within PEER_GONE_MS.
//   ws-kill      the PBX closes one page's WebSocket (RPC ws.close of that
//                connection); that page reconnects and re-registers (time
//                measured, bound REREGISTER_MS), the other stays registered,
//                the call and audio go on, and a BYE from the other page ends
//                it on the one that reconnected.
//   ws-kill-video the same with a video call (issue 16): after B's new
//                WebSocket and registration, decoded video frames still
//                grow on both pages, as does the audio.
//
// The PBX log is kept across the restart (PBX_LOG_APPEND=1 for pbx.sh).
import {
  T, sleep, step, openPage, shot, waitPhone, waitReg, errorText, textOf, phoneState, regState, user,
  registerAll, callAndAnswer, audioBothWays, newestAudio, hangUp, contactOf, pbx, rpc, framesOverTime,
} from './lib.mjs';

const OUTAGE_MS = 4000; // how long the PBX stays down
const REREGISTER_MS = 40000; // PBX started (or WS closed) -> registered again
const LOST_MS = 10000; // PBX stopped -> page shows "reconnecting"
const PEER_GONE_MS = 60000; // PBX back -> the lone caller ended the call

/** Phone / registration states seen on a page since t (page clock). */
const statesSince = (P, t) =>
  P.page.evaluate((since) => window.__probe.states.filter((s) => s.t >= since), t);
const pageNow = (P) => P.page.evaluate(() => performance.now());

const visible = (P, sel) =>
  P.page.evaluate((s) => {
    const el = document.querySelector(s);
    return !!el && el.getClientRects().length > 0;
  }, sel);

/** Inbound audio bytes grow on both pages over `ms` (the newest connection). */
async function audioGrows(pages, ms = 2000) {
  const before = await Promise.all(pages.map((p) => newestAudio(p.page)));
  await sleep(ms);
  const after = await Promise.all(pages.map((p) => newestAudio(p.page)));
  const out = Object.fromEntries(pages.map((p, i) => [p.name, { before: before[i].bytes, after: after[i].bytes, state: after[i].state }]));
  const stuck = pages.filter((p, i) => !(after[i].bytes > before[i].bytes)).map((p) => p.name);
  if (stuck.length) throw new Error(`audio stopped on ${stuck.join(', ')}: ${JSON.stringify(out)}`);
  return out;
}

/** Wait until every page is registered; returns ms per page from t0 (Date.now()). */
async function allRegistered(pages, t0, ms) {
  const at = {};
  await Promise.all(
    pages.map(async (p) => {
      await waitReg(p.page, 'registered', ms);
      at[p.name] = Date.now() - t0;
    }),
  );
  return at;
}

/** Start a call A -> B with audio both ways (`video`: a video call, answered with video). */
async function activeCall(A, B, number, r, video = false) {
  if (video) {
    await step(`A: video call to ${number}, B answers with video`, T.ring + T.answer, async () => {
      await A.page.fill('#dial-input', number);
      await A.page.click('#video-call-button');
      await waitPhone(B.page, 'incoming', T.ring);
      await B.page.click('#answer-video-button');
      await Promise.all([waitPhone(A.page, 'active', T.answer), waitPhone(B.page, 'active', T.answer)]);
    });
    r.video_before = await step('video both ways', T.media * 2, () => videoGrows([A, B], 1000));
  } else {
    await callAndAnswer(A, B, number);
  }
  r.audio_before = await step('audio both ways', T.media, () => audioBothWays([A, B]));
}

/** Decoded video frames grow on both pages over `ms`. */
async function videoGrows(pages, ms = 2000) {
  const grown = await framesOverTime(pages.map((p) => [p, -1]), ms);
  const out = Object.fromEntries(pages.map((p, i) => [p.name, grown[i]]));
  const stuck = pages.filter((p, i) => !(grown[i] > 0)).map((p) => p.name);
  if (stuck.length) throw new Error(`video stopped on ${stuck.join(', ')}: frames decoded ${JSON.stringify(out)}`);
  return out;
}

/** Both pages still in the call, with the call panel. */
async function stillInCall(pages) {
  for (const p of pages) {
    const s = await phoneState(p.page);
    if (s !== 'active') throw new Error(`${p.name}: phone is "${s}", want active (error: ${await errorText(p.page)})`);
    if (!(await visible(p, '#in-call'))) throw new Error(`${p.name}: #in-call is not visible`);
  }
}

export async function scenarioPbxRestart(browser, base, r) {
  try {
    await pbxRestart(browser, base, r);
  } finally {
    // whatever happened, leave the PBX running for the next scenario
    await pbx(['start'], 30000).catch((e) => {
      r.pbx_left_stopped = e.message;
    });
  }
}

async function pbxRestart(browser, base, r) {
  const SC = 'pbx-restart';
  const A = await openPage(browser, base, SC, 'A');
  const B = await openPage(browser, base, SC, 'B');
  r.pages = [A, B];
  await registerAll([A, B], [user(1000, 'Alice'), user(1001, 'Bob')]);
  await activeCall(A, B, '1001', r);

  // ----- outage -----
  const tA = await pageNow(A);
  const tB = await pageNow(B);
  const stopAt = Date.now();
  await step('stop the PBX', 20000, () => pbx(['stop'], 20000));
  await step('both pages reconnecting, call panel kept', LOST_MS, async () => {
    await Promise.all([waitReg(A.page, 'reconnecting', LOST_MS), waitReg(B.page, 'reconnecting', LOST_MS)]);
    await stillInCall([A, B]);
  });
  r.lost_detected_ms = Date.now() - stopAt;
  r.call_link_shown = { A: await visible(A, '#call-link'), B: await visible(B, '#call-link') };
  r.call_link_text = await textOf(A.page, '#call-link');
  r.screenshots.push(await shot(A.page, SC, 'outage-A'));
  await sleep(Math.max(0, OUTAGE_MS - (Date.now() - stopAt)));
  // still in the call during the whole outage
  await step('call panel kept during the outage', T.ui, () => stillInCall([A, B]));

  // ----- back -----
  // measured from the start command (conservative: it includes the config
  // check before Kamailio listens) and from pbx.sh start returning (ports up)
  const startCmdAt = Date.now();
  await step('start the PBX', 30000, () => pbx(['start'], 30000));
  const startAt = Date.now();
  r.pbx_start_ms = startAt - startCmdAt;
  r.outage_ms = startAt - stopAt;
  r.reregister_ms = await step('both registered again', REREGISTER_MS, () => allRegistered([A, B], startCmdAt, REREGISTER_MS));
  r.reregister_ms_after_ports_up = Object.fromEntries(Object.entries(r.reregister_ms).map(([k, v]) => [k, v - r.pbx_start_ms]));
  r.screenshots.push(await shot(A.page, SC, 'reregistered-A'));
  r.states_during_outage = {
    A: (await statesSince(A, tA)).map((s) => `${Math.round(s.t - tA)} ${s.reg}/${s.phone}`),
    B: (await statesSince(B, tB)).map((s) => `${Math.round(s.t - tB)} ${s.reg}/${s.phone}`),
  };
  await step('call still up', T.ui, () => stillInCall([A, B]));
  r.audio_after = await step('audio still flows both ways', 5000, () => audioGrows([A, B], 2000));
  if (r.call_link_shown.A === false || r.call_link_shown.B === false) {
    // recorded, and checked after the hang-up so the rest still runs
    r.call_link_missing = true;
  }

  // ----- signalling works again: B hangs up, A sees it -----
  const byeAt = Date.now();
  await hangUp(B, A);
  r.bye_to_idle_ms = Date.now() - byeAt;
  r.notice_A = await textOf(A.page, '#notice');

  // ----- peer gone: B disappears during an outage -----
  await activeCall(A, B, '1001', (r.peer_gone = {}));
  await step('stop the PBX (peer gone)', 20000, () => pbx(['stop'], 20000));
  await waitReg(A.page, 'reconnecting', LOST_MS);
  await B.context.close();
  r.pages = [A];
  await sleep(1000);
  const back = Date.now();
  await step('start the PBX (peer gone)', 30000, () => pbx(['start'], 30000));
  await step('A registered again (peer gone)', REREGISTER_MS, () => waitReg(A.page, 'registered', REREGISTER_MS));
  r.peer_gone.reregister_ms = Date.now() - back;
  await step('A ends the call by itself', PEER_GONE_MS, () => waitPhone(A.page, 'idle', PEER_GONE_MS));
  r.peer_gone.call_ended_ms = Date.now() - back;
  r.peer_gone.error = await errorText(A.page);
  r.peer_gone.notice = await textOf(A.page, '#notice');
  r.screenshots.push(await shot(A.page, SC, 'peer-gone-A'));
  if (!r.peer_gone.error && !r.peer_gone.notice) throw new Error('peer gone: A ended the call without telling why');
  if (r.call_link_missing) throw new Error(`#call-link not shown during the outage: ${JSON.stringify(r.call_link_shown)}`);
}

export const scenarioWsKill = (browser, base, r) => wsKill(browser, base, r, false);
export const scenarioWsKillVideo = (browser, base, r) => wsKill(browser, base, r, true);

async function wsKill(browser, base, r, video) {
  const SC = video ? 'ws-kill-video' : 'ws-kill';
  const A = await openPage(browser, base, SC, 'A');
  const B = await openPage(browser, base, SC, 'B');
  r.pages = [A, B];
  await registerAll([A, B], [user(1003, 'Dave'), user(1008, 'Hana')]);
  await activeCall(A, B, '1008', r, video);

  // the PBX closes B's WebSocket
  const ct = await contactOf(B, '1008@127.0.0.1');
  if (!ct || !(ct.tcpconnId > 0)) throw new Error(`no WebSocket connection of B at the PBX: ${JSON.stringify(ct)}`);
  r.ws_connection = ct;
  const tB = await pageNow(B);
  const killAt = Date.now();
  r.ws_close = (await rpc('ws.close', String(ct.tcpconnId))).trim();
  await step('B notices the lost connection', LOST_MS, async () => {
    await B.page.waitForFunction(
      (since) => window.__probe.states.some((s) => s.t >= since && s.reg !== 'registered'),
      tB,
      { timeout: LOST_MS, polling: 20 },
    );
  });
  r.lost_detected_ms = Date.now() - killAt;
  // Chromium fires "close" only when the TCP connection ends after the
  // closing handshake: this is the part of the recovery the page cannot help
  r.ws_close_event_ms = B.wsClosedAt.length ? B.wsClosedAt[0] - killAt : null;
  r.reregister_ms = await step('B registered again', REREGISTER_MS, () => allRegistered([B], killAt, REREGISTER_MS));
  r.states_B = (await statesSince(B, tB)).map((s) => `${Math.round(s.t - tB)} ${s.reg}/${s.phone}`);
  r.reg_A = await regState(A.page);
  if (r.reg_A !== 'registered') throw new Error(`A's registration is ${r.reg_A} (only B's WebSocket was closed)`);
  const newCt = await contactOf(B, '1008@127.0.0.1');
  r.ws_connection_after = newCt;
  if (B.wsCount < 2) throw new Error(`B did not open a new WebSocket (${B.wsCount})`);
  await step('call still up', T.ui, () => stillInCall([A, B]));
  r.audio_after = await step('audio still flows both ways', 5000, () => audioGrows([A, B], 2000));
  if (video) r.video_after = await step('video still flows both ways', 5000, () => videoGrows([A, B], 2000));
  r.screenshots.push(await shot(B.page, SC, 'after-reconnect-B'));

  // signalling to the reconnected page works: A hangs up, B sees it
  const byeAt = Date.now();
  await hangUp(A, B);
  r.bye_to_idle_ms = Date.now() - byeAt;
  r.notice_B = await textOf(B.page, '#notice');
}
