// The library build (issue 15): the phone without its UI, end to end.
//   agent-call   dist/embed/agent.html (the example page that draws its own
//                buttons, sip-agent.js) signs in as 1000 with its own form;
//                it calls the app (1001), which answers: audio both ways
//                (the beeps of each fake microphone heard on the other
//                side); hold and resume from the page's buttons (the app
//                sees the remote hold); tones by sendDtmf(); a MESSAGE each
//                way (the page's `message` and `messagestatus` events); the
//                app hangs up; the events came in order (registration …
//                callstate calling, ringing, active, hold, ended); then an
//                incoming call answered with answer(); a video call
//                (call(…, { video: true }), B answers with video) whose
//                pictures the page shows with videoBox(call): B's picture
//                plays in it (issue 16); close(): the
//                registration is gone at the PBX and no WebSocket is open.
//                The page loads no Leptos: its wasm is the library's
//                (sip-agent-core-*), not the app's.
import {
  T, sleep, step, openPage, fillSettings, waitReg, waitPhone, waitVisible, waitText, user, shot,
  audioBothWays, energyOver, clearBindings, contactOf,
} from './lib.mjs';

const SOUND = 1e-4;

/** Events the agent page saw (recorded by the probe below). */
const agentProbe = () => {
  window.__agentEvents = [];
  const seen = new WeakSet();
  const hook = setInterval(() => {
    const a = window.agent;
    if (!a || seen.has(a)) return;
    seen.add(a);
    for (const t of ['registration', 'incomingcall', 'callstate', 'hold', 'message', 'messagestatus', 'error']) {
      a.addEventListener(t, (e) => window.__agentEvents.push({ type: t, detail: e.detail, t: performance.now() }));
    }
  }, 5);
  window.addEventListener('pagehide', () => clearInterval(hook));
  // the WebSockets the page opens, to check close() closes them
  const WS = window.WebSocket;
  window.__sockets = [];
  window.WebSocket = function (...args) {
    const ws = new WS(...args);
    window.__sockets.push(ws);
    return ws;
  };
  window.WebSocket.prototype = WS.prototype;
  Object.assign(window.WebSocket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
};

const agentEvents = (P) => P.page.evaluate(() => window.__agentEvents);

async function waitAgentEvent(P, what, pred, ms) {
  const end = Date.now() + ms;
  let seen = [];
  while (Date.now() < end) {
    seen = await agentEvents(P);
    const hit = seen.find(pred);
    if (hit) return hit;
    await sleep(50);
  }
  throw new Error(`${P.name}: no ${what} event within ${ms} ms; events: ${JSON.stringify(seen.map((e) => [e.type, e.detail && (e.detail.state ?? e.detail.text)]))}`);
}

async function agentCall(browser, base, r) {
  const SC = 'agent-call';
  await step('clear PBX bindings', 30000, () => clearBindings([1000, 1001], 'agent'));
  const B = await openPage(browser, base, SC, 'B');
  await fillSettings(B.page, user(1001, 'Bob'));
  await step('B: register', T.register, async () => {
    await B.page.click('#save-register');
    await waitReg(B.page, 'registered', T.register);
  });
  const H = await openPage(browser, base, SC, 'H', { path: 'embed/agent.html', ready: 'body', init: [agentProbe] });
  r.pages = [B, H];
  await step('H: the agent is up', T.load, () => H.page.waitForFunction(() => window.agent && window.__agentEvents, null, { timeout: T.load }));
  r.wasm = await H.page.evaluate(() => performance.getEntriesByType('resource').map((e) => e.name.split('/').pop()).filter((n) => n.endsWith('.wasm')));
  if (r.wasm.length !== 1 || !/^sip-agent-core-[0-9a-f]+_bg\.wasm$/.test(r.wasm[0])) throw new Error(`the agent page loaded ${JSON.stringify(r.wasm)}, want only the library's wasm`);

  // its own form signs in
  await H.page.click('#signin button');
  await step('H: registered (event and the page\'s own status)', T.register, async () => {
    await waitAgentEvent(H, 'registration registered', (e) => e.type === 'registration' && e.detail.state === 'registered', T.register);
    await waitText(H.page, '#status', /^registered$/, T.ui, 'H');
  });

  // H calls B with its own button; B answers
  const t0 = await H.page.evaluate(() => performance.now());
  await H.page.fill('#to', '1001');
  await H.page.click('#call');
  await step('B rings, answers', T.ring + T.answer, async () => {
    await waitPhone(B.page, 'incoming', T.ring);
    await B.page.click('#answer-button');
    await waitAgentEvent(H, 'callstate active', (e) => e.type === 'callstate' && e.detail.state === 'active', T.answer);
  });
  await step('audio both ways', T.media, () => audioBothWays([H, B]));
  r.h_hears = await energyOver(H.page, 1500);
  r.b_hears = await energyOver(B.page, 1500);
  if (!(r.h_hears.power > SOUND)) throw new Error(`H hears nothing of B's microphone: ${JSON.stringify(r.h_hears)}`);
  if (!(r.b_hears.power > SOUND)) throw new Error(`B hears nothing of H's microphone: ${JSON.stringify(r.b_hears)}`);

  // hold and resume from the page's buttons
  await H.page.click('#hold');
  await step('B sees the remote hold', T.answer, () => waitVisible(B.page, '#call-remote-hold', T.answer, 'B'));
  await H.page.click('#resume');
  await step('B: resumed', T.answer, () => B.page.waitForSelector('#call-remote-hold', { state: 'hidden', timeout: T.answer }));
  await H.page.evaluate(() => window.agent.sendDtmf('12'));
  r.state_in_call = await H.page.evaluate(() => window.agent.state);
  if (r.state_in_call.calls.length !== 1 || r.state_in_call.calls[0].state !== 'active') throw new Error(`state in the call: ${JSON.stringify(r.state_in_call)}`);
  // a command that cannot run throws (the page logs it)
  r.bad_command = await H.page.evaluate(() => { try { window.agent.sendDtmf('x'); return null; } catch (e) { return e.message; } });
  if (!r.bad_command) throw new Error('sendDtmf("x") did not throw');

  // messages each way
  await H.page.click('#message');
  await step('B gets "hello"; H is told it was delivered', T.answer, async () => {
    await B.page.click('#tab-messages');
    await waitText(B.page, '#message-list', /hello/, T.answer, 'B');
    await waitAgentEvent(H, 'messagestatus', (e) => e.type === 'messagestatus' && e.detail.delivered === true, T.answer);
  });
  await B.page.fill('#message-to', '1000');
  await B.page.fill('#message-text', 'hi from the app');
  await B.page.click('#message-send');
  await step('H gets the message event', T.answer, () => waitAgentEvent(H, 'message', (e) => e.type === 'message' && e.detail.text === 'hi from the app', T.answer));
  await B.page.click('#tab-phone');

  // B hangs up
  await B.page.click('#hangup-button');
  await step('H: ended', T.hangup, () => waitAgentEvent(H, 'callstate ended', (e) => e.type === 'callstate' && e.detail.state === 'ended', T.hangup));
  const order = (await agentEvents(H)).filter((e) => e.t >= t0).map((e) => (e.type === 'callstate' ? e.detail.state : e.type));
  r.order = order;
  const want = ['calling', 'active', 'hold', 'hold', 'ended'];
  let at = 0;
  for (const w of order) if (w === want[at]) at += 1;
  if (at < want.length) throw new Error(`events out of order: ${order.join(' ')} (want ${want.join(' ')} among them)`);

  // B calls H: answered with answer()
  await B.page.fill('#dial-input', '1000');
  await B.page.click('#call-button');
  await step('H: incomingcall; answer()', T.ring + T.answer, async () => {
    await waitAgentEvent(H, 'incomingcall', (e) => e.type === 'incomingcall', T.ring);
    await H.page.click('#answer');
    await waitPhone(B.page, 'active', T.answer);
  });
  await step('audio both ways (second call)', T.media, () => audioBothWays([H, B]));
  await step('B hangs up the second call', T.hangup, async () => {
    await B.page.click('#hangup-button');
    await H.page.waitForFunction(() => window.agent.state.calls.length === 0, null, { timeout: T.hangup, polling: 50 });
  });

  // a video call: the page shows its pictures where it likes (videoBox)
  await H.page.evaluate(() => window.agent.call('1001', { video: true }));
  await step('B rings with video, answers with video', T.ring + T.answer, async () => {
    await waitPhone(B.page, 'incoming', T.ring);
    await B.page.click('#answer-video-button');
    await waitPhone(B.page, 'active', T.answer);
  });
  r.video_box = await step('H: videoBox(call) in the page plays B\'s picture', T.media * 2, async () => {
    const call = await H.page.evaluate(() => window.agent.state.calls[0]?.call);
    await H.page.evaluate((c) => {
      const box = window.agent.videoBox(c);
      if (box) document.body.append(box);
    }, call);
    const h = await H.page.waitForFunction(() => {
      const v = document.querySelector('body > .video-box video.remote-video');
      return v && v.videoWidth > 0 && v.currentTime > 0 && { w: v.videoWidth, h: v.videoHeight, shown_px: Math.round(v.getBoundingClientRect().width) };
    }, null, { timeout: T.media * 2, polling: 100 });
    return h.jsonValue();
  });
  r.video_box_unknown = await H.page.evaluate(() => window.agent.videoBox('999'));
  if (r.video_box_unknown !== null) throw new Error('videoBox of no call is not null');
  r.screenshots.push(await shot(H.page, SC, 'video-box-H'));

  // close(): hung up, signed out, the WebSocket closed
  await H.page.evaluate(() => window.agent.close());
  await step('B: the call ended', T.hangup, () => waitPhone(B.page, 'idle', T.hangup));
  r.after_close = await H.page.evaluate(() => ({
    state: window.agent.state,
    open: window.__sockets.filter((s) => s.readyState === 0 || s.readyState === 1).length,
  }));
  if (r.after_close.state.registration !== 'unmounted') throw new Error(`state after close: ${JSON.stringify(r.after_close.state)}`);
  if (r.after_close.open) throw new Error(`${r.after_close.open} WebSocket(s) still open after close()`);
  r.binding_after_close = await contactOf(H, 'sip:1000@127.0.0.1');
  if (r.binding_after_close) throw new Error(`1000 is still registered at the PBX after close(): ${r.binding_after_close}`);
}

export const AGENT = { 'agent-call': agentCall };
