// Issue 12, "proven outside the lab": the phone in two browsers at once,
// over wss:// with a certificate from a local CA, through a TURN relay only,
// and in a browser without WebRTC. Run by call.mjs (--only NAME), in the
// browser of --browser (chromium by default); the scenarios that need the
// other browser too launch it themselves.
//
//   mixed-browsers   a page in this browser (1000) and one in the other
//                    (1001): each calls the other, audio both ways each time
//   wss-call         Chromium (1000) and Firefox (1001) over
//                    wss://127.0.0.1:8443: both browsers trust the PBX's
//                    throw-away CA through their own certificate stores (an
//                    NSS database: Chromium's HOME/.pki/nssdb, a Firefox
//                    profile's cert9.db), no certificate check is turned
//                    off; Via SIP/2.0/WSS and Contact transport=wss; a call
//                    with audio both ways
//   wss-untrusted    this browser without the CA: the phone says it cannot
//                    reach the server and names the certificate as the cause
//   turn-udp         two pages with "Only through a TURN relay" and the
//   turn-tcp         local coturn (pbx/turn.sh) over UDP, then over TCP:
//                    the selected pair is relay <-> relay on both sides,
//                    audio both ways
//   turn-wrong-password  relay only, wrong TURN password: the call fails at
//                    once with a message about the TURN credentials, and
//                    the callee never rings
//   no-webrtc        a page without RTCPeerConnection: says so at start,
//                    still registers, and an incoming call is declined (488)
//                    without ringing
import fs from 'node:fs';
import path from 'node:path';
import {
  ART, T, step, openPage, fillSettings, openSettings, waitReg, waitPhone, waitError, errorText, textOf,
  user, callAndAnswer, audioBothWays, hangUp, newestAudio, probe, r1, run, launchBrowser, kindOf,
  clearBindings, registerAll,
} from './lib.mjs';
import { launchChromium } from './chromium.mjs';
import { launchFirefoxProfile } from './firefox.mjs';

const TRACE = 'outside';
const WSS = 'wss://127.0.0.1:8443';
const TURN = '127.0.0.1:3478';
const PBX_RUN_DIR = `/tmp/softphone-pbx${process.env.PBX_NETNS ? `/netns-${process.env.PBX_NETNS}` : ''}`;
const CA = path.join(PBX_RUN_DIR, 'tls', 'ca.pem');

/** An NSS certificate database in `dir` that trusts the test CA (and nothing else added). */
async function nssTrustingCa(dir) {
  if (!fs.existsSync(CA)) throw new Error(`no test CA at ${CA}: the PBX was started without wss:// (pbx/pbx.sh start)`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const args of [
    ['-N', '-d', `sql:${dir}`, '--empty-password'],
    ['-A', '-d', `sql:${dir}`, '-n', 'softphone-test-ca', '-t', 'C,,', '-i', CA],
  ]) {
    const r = await run('certutil', args, { timeout: 15000 });
    if (r.code !== 0) throw new Error(`certutil ${args[0]}: exit ${r.code} ${r.stderr.trim()}`);
  }
}

/** Register pages (settings per page, with their TURN settings); register ms per page. */
const register = (pages, settings) =>
  registerAll(pages, settings, { afterFill: (P, s) => (s.turn ? turnSettings(P, s.turn) : null) });

/** The ICE server line and "Only through a TURN relay" in the Advanced part. */
async function turnSettings(P, { line, relayOnly = true }) {
  await openSettings(P.page);
  if (!(await P.page.evaluate(() => document.getElementById('advanced')?.open))) {
    await P.page.click('#advanced > summary');
  }
  await P.page.fill('#ice-servers', line);
  await P.page.setChecked('#relay-only', relayOnly);
}

/** A calls B (number), audio both ways, A hangs up; the call's figures. */
async function callBothWays(A, B, number) {
  const { ringMs, answerMs } = await callAndAnswer(A, B, number);
  await step('audio both ways', T.media, () => audioBothWays([A, B]));
  const pa = await probe(A.page);
  const clickToAudio = pa.audio && pa.audio.firstAt !== null ? r1(pa.audio.firstAt - pa.audio.clickAt) : null;
  const [a, b] = [await newestAudio(A.page), await newestAudio(B.page)];
  await hangUp(A, B);
  return {
    ring_ms: ringMs,
    answer_ms: answerMs,
    click_to_audio_ms: clickToAudio,
    pair: { [A.name]: a.pair, [B.name]: b.pair },
    pair_types: { [A.name]: a.pairTypes, [B.name]: b.pairTypes },
  };
}

async function mixedBrowsers(browser, base, r) {
  const mine = kindOf(browser);
  const otherKind = mine === 'firefox' ? 'chromium' : 'firefox';
  await step('clear PBX bindings', 30000, () => clearBindings([1000, 1001], TRACE));
  const other = await step(`launch ${otherKind}`, 30000, () => launchBrowser(otherKind));
  r.cleanup = () => other.close();
  const A = await openPage(browser, base, 'mixed-browsers', mine);
  const B = await openPage(other, base, 'mixed-browsers', otherKind);
  r.pages = [A, B];
  r.browsers = { [mine]: browser.version(), [otherKind]: other.version() };
  r.register_ms = await register([A, B], [user(1000, 'Alice'), user(1001, 'Bob')]);
  r[`${mine}_calls_${otherKind}`] = await callBothWays(A, B, '1001');
  r[`${otherKind}_calls_${mine}`] = await callBothWays(B, A, '1000');
}

async function wssCall(browser, base, r) {
  await step('clear PBX bindings', 30000, () => clearBindings([1000, 1001], TRACE));
  const home = path.join(ART, 'tmp', 'chromium-home');
  const profile = path.join(ART, 'tmp', 'firefox-profile');
  await step('trust the test CA (NSS databases)', 30000, async () => {
    await nssTrustingCa(path.join(home, '.pki', 'nssdb'));
    await nssTrustingCa(profile);
  });
  const chromium = await step('launch chromium (CA trusted)', 30000, () => launchChromium({ home }));
  let firefox = null;
  r.cleanup = async () => {
    await chromium.close().catch(() => {});
    if (firefox) await firefox.close().catch(() => {});
  };
  firefox = await step('launch firefox (own profile, CA trusted)', 30000, () => launchFirefoxProfile(profile));
  const A = await openPage(chromium, base, 'wss-call', 'chromium');
  const B = await openPage(firefox, base, 'wss-call', 'firefox');
  r.pages = [A, B];
  r.register_ms = await register([A, B], [{ ...user(1000, 'Alice'), ws: WSS }, { ...user(1001, 'Bob'), ws: WSS }]);
  // RFC 7118: Via SIP/2.0/WSS, and the Contact's transport=wss
  for (const P of [A, B]) {
    const reg = P.frames.find((f) => f.dir === '>>' && f.text.startsWith('REGISTER '));
    if (!reg) throw new Error(`${P.name}: no REGISTER seen`);
    const via = /^Via:\s*(\S+)/im.exec(reg.text)?.[1];
    const contact = /^Contact:\s*(.*)$/im.exec(reg.text)?.[1] || '';
    r[`register_${P.name}`] = { via, contact: contact.trim() };
    if (via !== 'SIP/2.0/WSS') throw new Error(`${P.name}: REGISTER Via is ${via}, want SIP/2.0/WSS`);
    if (!/;transport=wss\b/i.test(contact)) throw new Error(`${P.name}: REGISTER Contact ${contact} has no transport=wss`);
  }
  r.chromium_calls_firefox = await callBothWays(A, B, '1001');
}

async function wssUntrusted(browser, base, r) {
  const P = await openPage(browser, base, 'wss-untrusted', 'page');
  r.pages = [P];
  await step('fill settings', T.ui, () => fillSettings(P.page, { ...user(1002, 'Carol'), ws: WSS }));
  await step('error shown', T.error, async () => {
    await P.page.click('#save-register');
    await waitError(P.page, /certificate/i, T.error, P.name);
  });
  r.error_text = await errorText(P.page);
  if (!r.error_text.includes('https://127.0.0.1:8443')) {
    throw new Error(`the message does not say where to look: ${JSON.stringify(r.error_text)}`);
  }
}

function turnCall(transport) {
  return async (browser, base, r) => {
    const name = `turn-${transport}`;
    await step('clear PBX bindings', 30000, () => clearBindings([1004, 1005], TRACE));
    const A = await openPage(browser, base, name, 'A');
    const B = await openPage(browser, base, name, 'B');
    r.pages = [A, B];
    const line = (n) => `turn:${TURN}?transport=${transport} turn${n} turnsecret${n}`;
    r.register_ms = await register([A, B], [
      { ...user(1004, 'Erin'), turn: { line: line(1) } },
      { ...user(1005, 'Frank'), turn: { line: line(2) } },
    ]);
    const call = await callBothWays(A, B, '1005');
    Object.assign(r, call);
    for (const [who, t] of Object.entries(call.pair_types)) {
      if (!t || t.local !== `relay/${transport}` || !String(t.remote).startsWith('relay')) {
        throw new Error(`${who}: selected pair ${JSON.stringify(t)} (${call.pair[who]}), want relay/${transport} <-> relay`);
      }
    }
  };
}

async function turnWrongPassword(browser, base, r) {
  await step('clear PBX bindings', 30000, () => clearBindings([1004, 1005], TRACE));
  const A = await openPage(browser, base, 'turn-wrong-password', 'A');
  const B = await openPage(browser, base, 'turn-wrong-password', 'B');
  r.pages = [A, B];
  await register([A, B], [
    { ...user(1004, 'Erin'), turn: { line: `turn:${TURN}?transport=udp turn1 not-the-password` } },
    user(1005, 'Frank'),
  ]);
  await step('A dials 1005', T.ui, async () => {
    await A.page.fill('#dial-input', '1005');
    await A.page.click('#call-button');
  });
  await step('A says the TURN server refused the credentials', T.error, async () => {
    await waitError(A.page, /TURN/, T.error, 'A');
    await waitPhone(A.page, 'idle', T.error);
  });
  r.error_text = await errorText(A.page);
  const pb = await probe(B.page);
  if (pb.first['phone:incoming'] !== undefined) throw new Error('B rang for a call that could never carry audio');
  if (!/password|credential|refused/i.test(r.error_text)) throw new Error(`A's message does not name the credentials: ${r.error_text}`);
}

async function noWebrtc(browser, base, r) {
  await step('clear PBX bindings', 30000, () => clearBindings([1006, 1007], TRACE));
  const A = await openPage(browser, base, 'no-webrtc', 'A');
  // a browser without WebRTC (after the probe, which wraps the original)
  const B = await openPage(browser, base, 'no-webrtc', 'B', {
    init: [() => {
      delete window.RTCPeerConnection;
      delete window.webkitRTCPeerConnection;
    }],
  });
  r.pages = [A, B];
  await step('B says at start that it cannot call', T.ui, () => waitError(B.page, /WebRTC/, T.ui, 'B'));
  r.start_message_B = await errorText(B.page);
  await step('fill settings', T.ui * 2, async () => {
    await fillSettings(A.page, user(1006, 'Grace'));
    await fillSettings(B.page, user(1007, 'Heidi'));
  });
  await step('both register', T.register, async () => {
    await Promise.all([A.page.click('#save-register'), B.page.click('#save-register')]);
    await Promise.all([waitReg(A.page, 'registered', T.register), waitReg(B.page, 'registered', T.register)]);
  });
  r.message_after_register_B = await errorText(B.page);
  if (!/WebRTC/.test(r.message_after_register_B || '')) throw new Error(`B no longer says it cannot call: ${r.message_after_register_B}`);
  const t0 = Date.now();
  await step('A calls 1007: declined at once', T.ring, async () => {
    await A.page.fill('#dial-input', '1007');
    await A.page.click('#call-button');
    await waitPhone(A.page, 'idle', T.ring);
  });
  r.declined_ms = Date.now() - t0;
  r.message_A = await errorText(A.page);
  r.notice_A = await textOf(A.page, '#notice');
  const got488 = A.frames.some((f) => f.dir === '<<' && /^SIP\/2\.0 488 /.test(f.text) && /^CSeq:\s*\d+ INVITE/im.test(f.text));
  if (!got488) throw new Error('A did not receive 488 to its INVITE');
  const pb = await probe(B.page);
  if (pb.first['phone:incoming'] !== undefined) throw new Error('B rang although it cannot take the call');
}

export const OUTSIDE = {
  'mixed-browsers': mixedBrowsers,
  'wss-call': wssCall,
  'wss-untrusted': wssUntrusted,
  'turn-udp': turnCall('udp'),
  'turn-tcp': turnCall('tcp'),
  'turn-wrong-password': turnWrongPassword,
  'no-webrtc': noWebrtc,
};
