// The embeddable phone (issue 6, README "Embed it"), end to end: real
// Kamailio, Chromium pages, only through the documented API (sip-phone.js,
// sip-phone.d.ts) and what a user sees.
//
//   embed-element      dist/embed/host.html (<sip-phone>, password given at
//                      run time with register()): registered, call() to a
//                      second page (the app) which answers, audio both ways,
//                      the events in order (registration ... callstate calling,
//                      ringing, active, ended), hangup() via the API, then the
//                      element removed: the WebSocket is closed, no media
//                      track live, no peer connection open, no audio context
//                      open, no timer or interval of the phone left, no new
//                      WebSocket in the next 3 s, the PBX binding gone
//                      Then call("1001", { video: true }): B rings with a
//                      video answer, answers with it, the widget shows B's
//                      picture; videoOff()/videoOn() give `video` events,
//                      record()/stopRecording() `recording` events of one
//                      recording (state.calls[0] recording, camera); hangup().
//   embed-mount        SipPhone.mount(div, { credentials: async () => … ,
//                      theme: "dark" }): registers with the token from the
//                      callback, the dark theme applies, nothing of the
//                      password in localStorage/sessionStorage (audioCodecs
//                      ['ulaw', 'alaw'] taken), a second mount and a bad
//                      config (a theme, a codec) are refused with a clear error, bad
//                      command arguments throw, unmount and mount again work
//   embed-click-to-call  a tel: link of the host page rings the other page
//                      (the link is not followed), sip: too
//   embed-hostile-css  host.html?hostile (a stylesheet with !important on
//                      "*", font sizes, paddings, display, all: unset): the
//                      phone looks the same, pixel for pixel within 0.5 %
//   embed-frame        dist/embed/frame.html with the app on another origin
//                      in an iframe (SipPhone.connectFrame): register, call,
//                      events, hangup over postMessage; a message from the
//                      wrong origin is ignored (and logged); with a wrong
//                      parent= the bridge stays off
//   embed-readme       README "Embed it"'s snippet, run as a page: it signs in
//   protocol-handler   the app at /?call=sip%3A1001%40… calls 1001 once signed
//                      in and drops the parameter; the settings button asks
//                      for the sip: and tel: handlers at /?call=%s
import fs from 'node:fs';
import path from 'node:path';
import {
  ART, DIST, ROOT, T, sleep, step, openPage, shot, fillSettings, openSettings, waitReg, waitPhone, expectNoError,
  user, audioBothWays, clearBindings, errorText,
} from './lib.mjs';
import { serveStatic } from './static-server.mjs';

const TRACE = 'embed-sipp';
fs.mkdirSync(path.join(ART, TRACE), { recursive: true });
const EVENT_TYPES = ['registration', 'incomingcall', 'callstate', 'hold', 'error', 'ready'];

// Runs in every host page before its scripts: records the phone's events
// (they bubble and are composed) and everything that could leak.
function embedProbe() {
  if (window.__leaks) return;
  const now = () => performance.now();
  window.__events = [];
  for (const type of ['registration', 'incomingcall', 'callstate', 'hold', 'video', 'recording', 'error', 'ready']) {
    document.addEventListener(type, (e) => {
      if (!(e instanceof CustomEvent)) return;
      window.__events.push({ type, detail: e.detail, t: now(), target: e.target && (e.target.id || e.target.localName) });
    }, true);
  }
  const L = (window.__leaks = { sockets: [], tracks: [], contexts: [], timers: new Map(), intervals: new Map(), protocol: [] });
  const WS = window.WebSocket;
  window.WebSocket = class extends WS {
    constructor(...a) {
      super(...a);
      L.sockets.push({ ws: this, at: now(), url: String(a[0]) });
    }
  };
  const md = navigator.mediaDevices;
  if (md && md.getUserMedia) {
    const gum = md.getUserMedia.bind(md);
    md.getUserMedia = async (c) => {
      const s = await gum(c);
      for (const t of s.getTracks()) L.tracks.push(t);
      return s;
    };
  }
  const clone = MediaStreamTrack.prototype.clone;
  MediaStreamTrack.prototype.clone = function () {
    const t = clone.call(this);
    L.tracks.push(t);
    return t;
  };
  const AC = window.AudioContext;
  if (AC) {
    window.AudioContext = class extends AC {
      constructor(...a) {
        super(...a);
        L.contexts.push(this);
      }
    };
  }
  const st = window.setTimeout.bind(window);
  const ct = window.clearTimeout.bind(window);
  const si = window.setInterval.bind(window);
  const ci = window.clearInterval.bind(window);
  window.setTimeout = function (fn, ms, ...rest) {
    let id;
    const f = typeof fn === 'function' ? function (...a) { L.timers.delete(id); return fn.apply(this, a); } : fn;
    id = st(f, ms, ...rest);
    L.timers.set(id, { ms: Number(ms) || 0, at: now() });
    return id;
  };
  window.clearTimeout = (id) => { L.timers.delete(id); return ct(id); };
  window.setInterval = function (fn, ms, ...rest) {
    const id = si(fn, ms, ...rest);
    L.intervals.set(id, { ms: Number(ms) || 0, at: now() });
    return id;
  };
  window.clearInterval = (id) => { L.intervals.delete(id); return ci(id); };
  if (navigator.registerProtocolHandler) {
    const rph = navigator.registerProtocolHandler.bind(navigator);
    navigator.registerProtocolHandler = (scheme, url, ...rest) => {
      L.protocol.push({ scheme, url });
      try { return rph(scheme, url, ...rest); } catch (e) { L.protocol.push({ error: String(e) }); return undefined; }
    };
  }
  window.__leakReport = (since) => ({
    openSockets: L.sockets.filter((s) => s.ws.readyState === 0 || s.ws.readyState === 1).map((s) => s.url),
    socketsCreated: L.sockets.length,
    socketsSince: L.sockets.filter((s) => s.at >= since).length,
    liveTracks: L.tracks.filter((t) => t.readyState === 'live').length,
    tracksSeen: L.tracks.length,
    openContexts: L.contexts.filter((c) => c.state !== 'closed').length,
    contextsSeen: L.contexts.length,
    timers: [...L.timers.values()].filter((t) => t.at >= since).map((t) => t.ms),
    intervals: [...L.intervals.values()].filter((t) => t.at >= since).map((t) => t.ms),
    pcs: window.__pcs ? window.__pcs().length : null,
    audioElements: document.querySelectorAll('audio').length,
  });
}

// ---------- helpers ----------

const events = (P, since = 0) => P.page.evaluate((s) => window.__events.filter((e) => e.t >= s), since);
const pageNow = (P) => P.page.evaluate(() => performance.now());

/** Wait until an event matching `pred` (run in node) was recorded after `since`. */
async function waitEvent(P, what, pred, ms, since = 0) {
  const end = Date.now() + ms;
  let seen = [];
  while (Date.now() < end) {
    seen = await events(P, since);
    const hit = seen.find(pred);
    if (hit) return hit;
    await sleep(50);
  }
  throw new Error(`${P.name}: no ${what} event within ${ms} ms; events: ${JSON.stringify(seen.map((e) => [e.type, e.detail && e.detail.state]))}`);
}

const isReg = (state) => (e) => e.type === 'registration' && e.detail.state === state;
const isCall = (state) => (e) => e.type === 'callstate' && e.detail.state === state;

/** The app on a page of its own, signed in as user n. */
async function appPage(browser, base, SC, n, name, page) {
  const P = await openPage(browser, base, SC, page);
  await fillSettings(P.page, user(n, name));
  await step(`${page}: register`, T.register, async () => {
    await P.page.click('#save-register');
    await waitReg(P.page, 'registered', T.register);
  });
  return P;
}

/** A host page (dist/embed/<file>) with the probes; ready when <sip-phone> is defined. */
async function hostPage(browser, base, SC, name, file) {
  return openPage(browser, base, SC, name, { path: `embed/${file}`, ready: 'body', init: [embedProbe] });
}

/** The leak report after unmounting, for everything made since `since`. */
async function leaksAfter(P, since) {
  const r = await P.page.evaluate((s) => window.__leakReport(s), since);
  const bad = [];
  if (r.openSockets.length) bad.push(`WebSocket still open: ${r.openSockets.join(', ')}`);
  if (r.liveTracks) bad.push(`${r.liveTracks} media track(s) still live`);
  if (r.pcs) bad.push(`${r.pcs} peer connection(s) not closed`);
  if (r.openContexts) bad.push(`${r.openContexts} audio context(s) not closed`);
  if (r.timers.length) bad.push(`timers pending: ${JSON.stringify(r.timers)} ms`);
  if (r.intervals.length) bad.push(`intervals running: ${JSON.stringify(r.intervals)} ms`);
  if (r.audioElements) bad.push(`${r.audioElements} <audio> element(s) left`);
  return { report: r, bad };
}

async function expectNoPageErrors(P) {
  if (P.pageErrors.length) throw new Error(`${P.name}: page errors: ${P.pageErrors.join(' | ')}`);
}

// ---------- scenarios ----------

/** <sip-phone> on the example host page, driven by its API. */
async function embedElement(browser, base, r) {
  const SC = 'embed-element';
  await step('clear PBX bindings', 30000, () => clearBindings([1000, 1001], TRACE));
  const B = await appPage(browser, base, SC, 1001, 'Bob', 'B');
  const H = await hostPage(browser, base, SC, 'H', 'host.html');
  r.pages = [B, H];
  const t0 = await pageNow(H);
  await step('H: <sip-phone> mounted', T.load, () =>
    H.page.evaluate(async () => { await document.getElementById('softphone').ready; }));
  await step('H: the settings form shows (no password yet), nothing in the host page changed', T.ui, async () => {
    await H.page.waitForSelector('sip-phone #settings-form', { state: 'visible', timeout: T.ui });
    const title = await H.page.title();
    if (!/Acme/.test(title)) throw new Error(`host title changed: ${title}`);
  });
  const tReg = await pageNow(H);
  await step('H: register({ user, password }) at run time', T.register, async () => {
    await H.page.evaluate(() => document.getElementById('softphone').register({ user: '1000', password: 'secret1000' }));
    await waitEvent(H, 'registration registered', isReg('registered'), T.register, tReg);
  });
  r.register_ms = Math.round((await waitEvent(H, 'registered', isReg('registered'), 10, tReg)).t - tReg);
  const tCall = await pageNow(H);
  await step('H: call("1001"), B rings', T.ring, async () => {
    await H.page.evaluate(() => document.getElementById('softphone').call('1001'));
    await waitPhone(B.page, 'incoming', T.ring);
  });
  const inc = await B.page.evaluate(() => document.getElementById('incoming-from')?.textContent || '');
  await step('B answers, H active', T.answer || 10000, async () => {
    await B.page.click('#answer-button');
    await waitEvent(H, 'callstate active', isCall('active'), 10000, tCall);
  });
  await step('audio both ways', T.media, () => audioBothWays([H, B]));
  const st = await H.page.evaluate(() => document.getElementById('softphone').state);
  if (st.registration !== 'registered' || st.calls.length !== 1 || st.calls[0].state !== 'active') {
    throw new Error(`H: state is ${JSON.stringify(st)}, want registered with one active call`);
  }
  // hold, resume, mute, unmute and DTMF through the API
  const tHold = await pageNow(H);
  await step('H: hold() then resume()', T.media, async () => {
    await H.page.evaluate(() => document.getElementById('softphone').hold());
    await waitEvent(H, 'hold on', (e) => e.type === 'hold' && e.detail.onHold && e.detail.by === 'local', T.media, tHold);
    await H.page.evaluate(() => document.getElementById('softphone').resume());
    await waitEvent(H, 'hold off', (e) => e.type === 'hold' && !e.detail.onHold, T.media, tHold);
  });
  r.muted = await H.page.evaluate(() => {
    const el = document.getElementById('softphone');
    el.mute();
    const on = el.state.calls[0].muted;
    el.unmute();
    el.sendDtmf('1');
    return [on, el.state.calls[0].muted];
  });
  if (JSON.stringify(r.muted) !== '[true,false]') throw new Error(`H: mute()/unmute() gave muted ${JSON.stringify(r.muted)}`);
  await step('H: hangup(), both idle', T.hangup, async () => {
    await H.page.evaluate(() => document.getElementById('softphone').hangup());
    await waitEvent(H, 'callstate ended', isCall('ended'), T.hangup, tCall);
    await waitPhone(B.page, 'idle', T.hangup);
  });
  // the events in order
  const all = await events(H, t0);
  r.events = all.map((e) => `${e.type}:${e.detail && (e.detail.state || e.detail.message || '')}`);
  const calls = all.filter((e) => e.type === 'callstate').map((e) => e.detail.state);
  if (JSON.stringify(calls) !== JSON.stringify(['calling', 'ringing', 'active', 'ended'])) {
    throw new Error(`H: callstate events ${JSON.stringify(calls)}, want calling, ringing, active, ended`);
  }
  const iReg = all.findIndex(isReg('registered'));
  const iCalling = all.findIndex(isCall('calling'));
  if (iReg < 0 || iReg > iCalling) throw new Error(`H: registered (${iReg}) not before calling (${iCalling})`);
  const ended = all.find(isCall('ended'));
  if (ended.detail.reason !== 'local-hangup') throw new Error(`H: ended with ${JSON.stringify(ended.detail)}, want local-hangup`);
  const active = all.find(isCall('active'));
  if (!/1001/.test(active.detail.peer && active.detail.peer.uri)) throw new Error(`H: active peer ${JSON.stringify(active.detail.peer)}`);
  const calls1 = all.filter((e) => e.detail && e.detail.call).map((e) => e.detail.call);
  if (new Set(calls1).size !== 1) throw new Error(`H: events name several calls: ${calls1}`);
  if (!/Alice|1000/.test(inc)) r.note = `B showed the caller as ${JSON.stringify(inc)}`;
  if (all.some((e) => e.target !== 'softphone')) throw new Error('H: an event was not dispatched on the <sip-phone> element');
  await shot(H.page, SC, 'idle-after-call-H');
  // the floating phone is narrow (340 px) on a wide page: its narrow layout
  // follows its own width, so nothing sticks out of it or is cut short
  r.clipped = await H.page.evaluate(() => {
    const root = document.getElementById('softphone').shadowRoot.querySelector('.sp-root');
    const box = root.getBoundingClientRect();
    const out = [];
    for (const el of root.querySelectorAll('.top *, .tabs *, #reg-status, .key, #call-button, #dial-input')) {
      const b = el.getBoundingClientRect();
      if (b.width === 0) continue;
      const name = el.id ? `#${el.id}` : `.${el.className}`;
      if (b.left < box.left - 0.5 || b.right > box.right + 0.5) out.push(`${name} at ${Math.round(b.left)}-${Math.round(b.right)} outside ${Math.round(box.left)}-${Math.round(box.right)}`);
      else if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== 'visible') out.push(`${name} text cut (${el.scrollWidth} > ${el.clientWidth} px)`);
    }
    if (root.scrollWidth > root.clientWidth + 1) out.push(`the phone scrolls sideways (${root.scrollWidth} > ${root.clientWidth} px)`);
    return out;
  });
  if (r.clipped.length) throw new Error(`H: the floating phone's layout overflows: ${r.clipped.join('; ')}`);
  // theme="dark" on the element switches the mounted phone
  r.theme_switch = await H.page.evaluate(() => {
    const el = document.getElementById('softphone');
    const bg = () => getComputedStyle(el.shadowRoot.querySelector('.sp-root')).backgroundColor;
    el.setAttribute('theme', 'light');
    const light = bg();
    el.setAttribute('theme', 'dark');
    return [light, bg()];
  });
  if (r.theme_switch[0] === r.theme_switch[1]) throw new Error(`theme attribute: background stays ${r.theme_switch[0]}`);

  // a video call through the API (issue 16): B answers with its camera and
  // the widget shows B's picture in its call panel
  const tVideo = await pageNow(H);
  await step('H: call("1001", { video: true }), B rings with a video answer', T.ring, async () => {
    await H.page.evaluate(() => document.getElementById('softphone').call('1001', { video: true }));
    await waitPhone(B.page, 'incoming', T.ring);
    await B.page.waitForSelector('#answer-video-button', { state: 'visible', timeout: T.ring });
  });
  await step('B answers with video, H active', T.answer, async () => {
    await B.page.click('#answer-video-button');
    await waitEvent(H, 'callstate active', isCall('active'), T.answer, tVideo);
  });
  r.widget_video = await step('H: the widget shows B\'s picture', T.media * 2, async () => {
    const h = await H.page.waitForFunction(() => {
      const v = document.getElementById('softphone').shadowRoot.querySelector('#call-video video.remote-video[data-live]');
      return v && v.videoWidth > 0 ? { w: v.videoWidth, h: v.videoHeight, shown_px: Math.round(v.getBoundingClientRect().width) } : null;
    }, null, { timeout: T.media * 2, polling: 100 });
    return h.jsonValue();
  });
  await shot(H.page, SC, 'video-call-H');
  // the camera and recording through the API, each with its event and state
  const api = (name) => H.page.evaluate((n) => document.getElementById('softphone')[n](), name);
  const callOf = () => H.page.evaluate(() => document.getElementById('softphone').state.calls[0] || null);
  const tApi = await pageNow(H);
  await step('H: videoOff(): a video event, the camera off', T.answer, async () => {
    await api('videoOff');
    await waitEvent(H, 'video camera false', (e) => e.type === 'video' && e.detail.camera === false, T.answer, tApi);
  });
  await step('H: videoOn(): the camera on again', T.answer, async () => {
    await api('videoOn');
    await waitEvent(H, 'video camera true', (e) => e.type === 'video' && e.detail.camera === true, T.answer, tApi);
  });
  await step('H: record(): a recording event, the call records', T.ui, async () => {
    await api('record');
    await waitEvent(H, 'recording true', (e) => e.type === 'recording' && e.detail.recording === true, T.ui, tApi);
  });
  r.api_call_state = await callOf();
  if (!r.api_call_state || !r.api_call_state.recording || !r.api_call_state.camera) {
    throw new Error(`H: state.calls[0] while recording with the camera: ${JSON.stringify(r.api_call_state)}`);
  }
  await sleep(1500);
  await step('H: stopRecording(): the recording stops', T.ui, async () => {
    await api('stopRecording');
    await waitEvent(H, 'recording false', (e) => e.type === 'recording' && e.detail.recording === false, T.ui, tApi);
  });
  r.api_recording_ids = (await events(H, tApi)).filter((e) => e.type === 'recording').map((e) => e.detail.id);
  if (new Set(r.api_recording_ids).size !== 1 || !r.api_recording_ids[0]) {
    throw new Error(`H: recording events name ${JSON.stringify(r.api_recording_ids)}, want one recording`);
  }
  await step('H: hangup() of the video call', T.hangup, async () => {
    await H.page.evaluate(() => document.getElementById('softphone').hangup());
    await waitPhone(B.page, 'idle', T.hangup);
  });

  // unmount: the element removed from the page
  const wsBefore = H.wsCount;
  const tUnmount = Date.now();
  await step('H: element removed -> unmounted', T.hangup, async () => {
    await H.page.evaluate(() => document.getElementById('softphone').remove());
    await H.page.waitForFunction(() => {
      const el = document.querySelector('sip-phone');
      return !el || (el.shadowRoot && el.shadowRoot.childElementCount === 0);
    }, null, { timeout: 5000 });
  });
  await step('H: the WebSocket closes', 5000, async () => {
    await H.page.waitForFunction(() => window.__leakReport(0).openSockets.length === 0, null, { timeout: 5000, polling: 50 });
  });
  r.ws_closed_ms = Date.now() - tUnmount;
  await sleep(1000); // short timers (a tone's fade, a quality poll) may still fire
  const leaks = await leaksAfter(H, t0);
  r.after_unmount = leaks.report;
  if (leaks.bad.length) throw new Error(`H after unmount: ${leaks.bad.join('; ')}`);
  await sleep(3000);
  const later = await H.page.evaluate((s) => window.__leakReport(s), t0);
  if (later.socketsCreated !== leaks.report.socketsCreated || H.wsCount !== wsBefore) {
    throw new Error(`H: a new WebSocket was opened after unmount (${later.socketsCreated} vs ${leaks.report.socketsCreated})`);
  }
  r.unregister_sent = H.frames.some((f) => f.dir === '>>' && f.text.startsWith('REGISTER ') && /\r\nExpires: 0\r\n/i.test(f.text));
  if (!r.unregister_sent) throw new Error('H: no REGISTER with Expires: 0 was sent when unmounting');
  await expectNoPageErrors(H);
  // the host page still works: the phone mounts again
  await step('H: a new <sip-phone> mounts again', T.load, async () => {
    await H.page.click('#host-mount');
    await H.page.evaluate(async () => { await document.querySelector('sip-phone').ready; });
    await H.page.waitForSelector('sip-phone #settings-form', { state: 'visible', timeout: T.ui });
  });
  await H.page.evaluate(() => document.querySelector('sip-phone').remove());
}

/** SipPhone.mount(div, config) with a credentials callback, dark theme. */
async function embedMount(browser, base, r) {
  const SC = 'embed-mount';
  await step('clear PBX bindings', 30000, () => clearBindings([1002], TRACE));
  const H = await hostPage(browser, base, SC, 'H', 'host.html');
  r.pages = [H];
  // this scenario mounts its own phone: drop the page's <sip-phone> first
  await H.page.evaluate(async () => {
    const el = document.getElementById('softphone');
    await el.ready;
    await el.unmount();
    el.remove();
  });
  const t0 = await pageNow(H);
  const out = await step('mount with credentials callback', T.register, () => H.page.evaluate(async () => {
    const div = document.createElement('div');
    div.id = 'mounted';
    div.style.width = '360px';
    document.querySelector('main').append(div);
    let asked = 0;
    window.phone = await SipPhone.mount(div, {
      uri: 'sip:1002@127.0.0.1',
      user: '1002',
      displayName: 'Carol',
      theme: 'dark',
      audioCodecs: ['ulaw', 'alaw'],
      videoCodecs: ['VP9', 'VP8'],
      credentials: async () => { asked += 1; return { password: 'secret1002' }; },
    });
    return { asked, type: typeof window.phone.call };
  }));
  if (out.asked !== 1 || out.type !== 'function') throw new Error(`mount: ${JSON.stringify(out)}`);
  await waitEvent(H, 'registration registered', isReg('registered'), T.register, t0);
  const regEvent = (await events(H, t0)).find(isReg('registered'));
  if (regEvent.target !== 'mounted') throw new Error(`events go to ${regEvent.target}, want the mount element`);
  r.dark = await H.page.evaluate(() => {
    const root = document.getElementById('mounted').shadowRoot.querySelector('.sp-root');
    const bg = getComputedStyle(root).backgroundColor;
    const m = bg.match(/\d+/g).map(Number);
    return { bg, luminance: (m[0] * 299 + m[1] * 587 + m[2] * 114) / 1000, theme: root.dataset.theme };
  });
  if (r.dark.luminance > 80) throw new Error(`dark theme: background ${r.dark.bg}`);
  await shot(H.page, SC, 'dark-H');
  // the password is nowhere in the browser's storage
  const stored = await H.page.evaluate(() => {
    const all = [];
    for (const s of [localStorage, sessionStorage]) for (let i = 0; i < s.length; i++) all.push(s.getItem(s.key(i)));
    return all.join('\n');
  });
  if (stored.includes('secret1002')) throw new Error('the password was written to localStorage/sessionStorage');
  // the host's custom properties reach the phone
  r.accent = await H.page.evaluate(() => {
    const div = document.getElementById('mounted');
    div.style.setProperty('--sip-phone-accent', 'rgb(200, 10, 20)');
    const button = div.shadowRoot.querySelector('.tab[aria-selected="true"]');
    return getComputedStyle(button).backgroundColor;
  });
  if (r.accent !== 'rgb(200, 10, 20)') throw new Error(`--sip-phone-accent not applied: the selected tab is ${r.accent}`);
  const tUnreg = await pageNow(H);
  await step('unregister()', T.register, async () => {
    await H.page.evaluate(() => window.phone.unregister());
    await waitEvent(H, 'registration unregistered', isReg('unregistered'), T.register, tUnreg);
  });
  // refusals, each with a clear message
  r.refusals = await H.page.evaluate(async () => {
    const msg = async (f) => { try { await f(); return null; } catch (e) { return String(e.message || e); } };
    return {
      second: await msg(() => SipPhone.mount(document.body.appendChild(document.createElement('div')), {})),
      dtmf: await msg(() => window.phone.sendDtmf('12x')),
      call: await msg(() => window.phone.call('')),
      answer: await msg(() => window.phone.answer()),
    };
  });
  const want = { second: /one per page|already mounted/, dtmf: /DTMF digit/, call: /needs a number/, answer: /no incoming call/ };
  for (const [k, re] of Object.entries(want)) {
    if (!re.test(r.refusals[k] || '')) throw new Error(`${k}: refused with ${JSON.stringify(r.refusals[k])}, want ${re}`);
  }
  await step('unmount', T.hangup, () => H.page.evaluate(() => window.phone.unmount()));
  await sleep(1000);
  const leaks = await leaksAfter(H, t0);
  if (leaks.bad.length) throw new Error(`after unmount: ${leaks.bad.join('; ')}`);
  // a bad config is refused before anything starts: a theme, a codec list
  // (an array) with a codec the phone does not know, a video codec list
  const refusal = (config) => H.page.evaluate(async (config) => {
    try {
      await SipPhone.mount(document.getElementById('mounted'), config);
      return null;
    } catch (e) {
      return String(e.message || e);
    }
  }, config);
  r.bad_config = await refusal({ theme: 'pink' });
  if (!/theme/.test(r.bad_config || '')) throw new Error(`a bad theme was refused with ${JSON.stringify(r.bad_config)}`);
  r.bad_codecs = await refusal({ audioCodecs: ['PCMU', 'silk'] });
  if (!/audioCodecs.*"silk"/.test(r.bad_codecs || '')) throw new Error(`an unknown codec was refused with ${JSON.stringify(r.bad_codecs)}`);
  r.bad_video_codecs = await refusal({ videoCodecs: 'VP9 theora' });
  if (!/videoCodecs.*"theora"/.test(r.bad_video_codecs || '')) throw new Error(`an unknown video codec was refused with ${JSON.stringify(r.bad_video_codecs)}`);
  // and mount again, light, password in the config
  const t1 = await pageNow(H);
  await step('mount again (light)', T.register, async () => {
    await H.page.evaluate(async () => {
      window.phone = await SipPhone.mount(document.getElementById('mounted'), {
        uri: 'sip:1002@127.0.0.1', password: 'secret1002', theme: 'light',
      });
    });
    await waitEvent(H, 'registration registered', isReg('registered'), T.register, t1);
  });
  const light = await H.page.evaluate(() =>
    getComputedStyle(document.getElementById('mounted').shadowRoot.querySelector('.sp-root')).backgroundColor);
  if (light === r.dark.bg) throw new Error(`light theme has the dark background ${light}`);
  await H.page.evaluate(() => window.phone.unmount());
  await expectNoPageErrors(H);
}

/** tel: and sip: links of the host page go to the phone. */
async function embedClickToCall(browser, base, r) {
  const SC = 'embed-click-to-call';
  await step('clear PBX bindings', 30000, () => clearBindings([1000, 1001], TRACE));
  const B = await appPage(browser, base, SC, 1001, 'Bob', 'B');
  const H = await hostPage(browser, base, SC, 'H', 'host.html');
  r.pages = [B, H];
  const t0 = await pageNow(H);
  await H.page.evaluate(async () => { await document.getElementById('softphone').ready; });
  // (the open floating phone covers the host's own form at this size)
  await H.page.evaluate(() => document.getElementById('softphone').register({ password: 'secret1000' }));
  await waitEvent(H, 'registration registered', isReg('registered'), T.register, t0);
  for (const link of ['#tel-1001', '#sip-1001']) {
    const t = await pageNow(H);
    const url = H.page.url();
    await step(`H: click ${link}, B rings`, T.ring, async () => {
      await H.page.click(link);
      await waitPhone(B.page, 'incoming', T.ring);
    });
    if (H.page.url() !== url) throw new Error(`H: the link was followed: ${H.page.url()}`);
    await step('B declines, H ends', T.hangup, async () => {
      await B.page.click('#decline-button');
      await waitEvent(H, 'callstate ended', isCall('ended'), T.hangup, t);
    });
    await waitPhone(B.page, 'idle', T.hangup);
    r[link] = (await events(H, t)).filter((e) => e.type === 'callstate').map((e) => e.detail.state + (e.detail.reason ? `(${e.detail.reason})` : ''));
  }
  await H.page.evaluate(() => document.getElementById('softphone').unmount());
}

/** Compare two PNG screenshots in the browser: the share of pixels that differ. */
async function pixelDiff(page, a, b) {
  return page.evaluate(async ([x, y]) => {
    const load = (b64) => new Promise((res, rej) => {
      const img = new Image();
      img.onload = () => res(img);
      img.onerror = () => rej(new Error('bad png'));
      img.src = `data:image/png;base64,${b64}`;
    });
    const [i1, i2] = await Promise.all([load(x), load(y)]);
    if (i1.width !== i2.width || i1.height !== i2.height) {
      return { sameSize: false, a: [i1.width, i1.height], b: [i2.width, i2.height], ratio: 1 };
    }
    const data = (img) => {
      const c = document.createElement('canvas');
      c.width = img.width;
      c.height = img.height;
      const g = c.getContext('2d');
      g.drawImage(img, 0, 0);
      return g.getImageData(0, 0, img.width, img.height).data;
    };
    const d1 = data(i1);
    const d2 = data(i2);
    let diff = 0;
    for (let i = 0; i < d1.length; i += 4) {
      if (Math.abs(d1[i] - d2[i]) > 24 || Math.abs(d1[i + 1] - d2[i + 1]) > 24 || Math.abs(d1[i + 2] - d2[i + 2]) > 24) diff += 1;
    }
    return { sameSize: true, a: [i1.width, i1.height], diff, ratio: diff / (d1.length / 4) };
  }, [a.toString('base64'), b.toString('base64')]);
}

/** A hostile host stylesheet does not change the phone. */
async function embedHostileCss(browser, base, r) {
  const SC = 'embed-hostile-css';
  const shots = {};
  r.pages = [];
  for (const variant of ['plain', 'hostile']) {
    const H = await hostPage(browser, base, SC, variant, variant === 'hostile' ? 'host.html?hostile' : 'host.html');
    r.pages.push(H);
    await H.page.evaluate(async () => { await document.getElementById('softphone').ready; });
    await H.page.waitForSelector('sip-phone #settings-form', { state: 'visible', timeout: T.ui });
    if (variant === 'hostile') {
      // the hostile sheet is in force on the host page itself
      const f = await H.page.evaluate(() => getComputedStyle(document.querySelector('h1')).fontSize);
      if (f !== '22px') throw new Error(`hostile.css not applied to the host page (h1 font-size ${f})`);
    }
    await sleep(300);
    const root = H.page.locator('sip-phone .sp-root');
    shots[variant] = await root.screenshot({ animations: 'disabled', caret: 'hide', timeout: T.ui });
    fs.writeFileSync(path.join(ART, `${SC}-${variant}.png`), shots[variant]);
    r[`box_${variant}`] = await root.boundingBox();
  }
  r.diff = await pixelDiff(r.pages[0].page, shots.plain, shots.hostile);
  if (!r.diff.sameSize) throw new Error(`the phone's size changed under hostile CSS: ${JSON.stringify(r.diff)}`);
  if (r.diff.ratio > 0.005) throw new Error(`${(r.diff.ratio * 100).toFixed(2)} % of the phone's pixels changed under hostile CSS (see ${SC}-*.png)`);
  for (const H of r.pages) await H.page.evaluate(() => document.getElementById('softphone').unmount());
}

/** The app in an iframe on another origin, over postMessage. */
async function embedFrame(browser, base, r) {
  const SC = 'embed-frame';
  await step('clear PBX bindings', 30000, () => clearBindings([1000, 1001], TRACE));
  // the phone's origin: the same files on a second port
  const other = await serveStatic(DIST);
  try {
    await embedFrameWith(browser, base, r, SC, new URL(other.url).origin);
  } finally {
    await other.close();
  }
}

async function embedFrameWith(browser, base, r, SC, phoneOrigin) {
  const B = await appPage(browser, base, SC, 1001, 'Bob', 'B');
  const H = await hostPage(browser, base, SC, 'H', `frame.html?phone=${encodeURIComponent(phoneOrigin)}`);
  r.pages = [B, H];
  await step('H: the frame is ready', T.load, () => H.page.evaluate(() => window.framePhone.ready));
  const frame = H.page.frames().find((f) => f.url().startsWith(phoneOrigin));
  if (!frame) throw new Error(`no frame from ${phoneOrigin}`);
  const t0 = await pageNow(H);
  const fev = () => H.page.evaluate(() => window.__frameEvents || []);
  await H.page.evaluate(() => {
    window.__frameEvents = [];
    for (const t of ['registration', 'incomingcall', 'callstate', 'hold', 'error']) {
      window.framePhone.addEventListener(t, (e) => window.__frameEvents.push({ type: t, detail: e.detail, t: performance.now() }));
    }
  });
  const waitF = async (what, pred, ms) => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      const hit = (await fev()).find(pred);
      if (hit) return hit;
      await sleep(50);
    }
    throw new Error(`H: no ${what} from the frame within ${ms} ms: ${JSON.stringify((await fev()).map((e) => [e.type, e.detail && e.detail.state]))}`);
  };
  await step('register over postMessage', T.register, async () => {
    await H.page.evaluate(() => window.framePhone.register({ uri: 'sip:1000@127.0.0.1', user: '1000', password: 'secret1000' }));
    await waitF('registration registered', isReg('registered'), T.register);
  });
  // a message from another origin (the frame's own window) is dropped
  await frame.evaluate(() => window.postMessage({ source: 'sip-phone', cmd: 'call', args: ['1001'], id: 99 }, '*'));
  await sleep(1500);
  const b1 = await B.page.evaluate(() => document.getElementById('phone').dataset.phone);
  if (b1 !== 'idle') throw new Error(`B is ${b1}: a message from the wrong origin placed a call`);
  if (!H.consoleLines.some((l) => /ignored a message from/.test(l))) throw new Error('the frame did not log the message it ignored');
  await step('call over postMessage, B rings and answers', T.ring + 10000, async () => {
    await H.page.evaluate(() => window.framePhone.call('1001'));
    await waitPhone(B.page, 'incoming', T.ring);
    await B.page.click('#answer-button');
    await waitF('callstate active', isCall('active'), 10000);
  });
  const state = await H.page.evaluate(() => window.framePhone.state());
  if (!state.calls.length || state.calls[0].state !== 'active') throw new Error(`frame state ${JSON.stringify(state)}`);
  const refused = await H.page.evaluate(() => window.framePhone.sendDtmf('x').then(() => null, (e) => e.message));
  if (!/DTMF digit/.test(refused || '')) throw new Error(`a bad command over postMessage: ${JSON.stringify(refused)}`);
  await step('hangup over postMessage', T.hangup, async () => {
    await H.page.evaluate(() => window.framePhone.hangup());
    await waitF('callstate ended', isCall('ended'), T.hangup);
    await waitPhone(B.page, 'idle', T.hangup);
  });
  r.events = (await fev()).map((e) => `${e.type}:${e.detail.state || ''}`);
  const calls = (await fev()).filter((e) => e.type === 'callstate').map((e) => e.detail.state);
  if (JSON.stringify(calls) !== JSON.stringify(['calling', 'ringing', 'active', 'ended'])) {
    throw new Error(`callstate over postMessage: ${JSON.stringify(calls)}`);
  }
  r.register_since_ready_ms = Math.round((await fev()).find(isReg('registered')).t - t0);
  // a frame told to talk to another origin gives this page nothing
  const W = await hostPage(browser, base, SC, 'W', `frame.html?badparent&phone=${encodeURIComponent(phoneOrigin)}`);
  r.pages.push(W);
  const wrong = await W.page.evaluate(() => Promise.race([
    window.framePhone.ready.then(() => 'ready'),
    new Promise((res) => setTimeout(() => res('silent'), 4000)),
  ]));
  if (wrong !== 'silent') throw new Error('a frame with a wrong parent= talked to this page');
  if (!W.consoleLines.some((l) => /bridge stays off/.test(l))) throw new Error('the frame did not log why its bridge is off');
}

/** /?call=<link> and the protocol handler button of the app. */
async function protocolHandler(browser, base, r) {
  const SC = 'protocol-handler';
  await step('clear PBX bindings', 30000, () => clearBindings([1000, 1001], TRACE));
  const B = await appPage(browser, base, SC, 1001, 'Bob', 'B');
  const A = await openPage(browser, base, SC, 'A', { init: [embedProbe] });
  r.pages = [B, A];
  await fillSettings(A.page, user(1000, 'Alice'));
  await A.page.click('#save-register');
  await waitReg(A.page, 'registered', T.register);
  await openSettings(A.page);
  await A.page.click('#advanced summary');
  await A.page.click('#protocol-handler');
  r.registered = await A.page.evaluate(() => window.__leaks.protocol);
  const want = `${new URL(base).origin}/?call=%s`;
  for (const scheme of ['sip', 'tel']) {
    if (!r.registered.some((p) => p.scheme === scheme && p.url === want)) {
      throw new Error(`registerProtocolHandler(${scheme}, ${want}) not asked: ${JSON.stringify(r.registered)}`);
    }
  }
  // the browser opens the handler's address: the app signs in (this tab's
  // session) and calls
  await step('A: /?call=sip%3A1001%40127.0.0.1 rings B', T.load + T.ring, async () => {
    await A.page.goto(`${base}?call=${encodeURIComponent('sip:1001@127.0.0.1')}`);
    await waitPhone(B.page, 'incoming', T.load + T.ring);
  });
  r.url_after = A.page.url();
  if (r.url_after.includes('call=')) throw new Error(`the ?call= parameter stayed: ${r.url_after}`);
  await B.page.click('#decline-button');
  await waitPhone(A.page, 'idle', T.hangup);
  const err = await errorText(A.page);
  if (!/declined|busy/i.test(err || '')) r.note = `A shows ${JSON.stringify(err)}`;
  await expectNoError(B.page, 'B');
}

/** The README's copy-paste snippet, as a page: it signs in. */
async function embedReadme(browser, base, r) {
  const SC = 'embed-readme';
  await step('clear PBX bindings', 30000, () => clearBindings([1000], TRACE));
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const at = readme.indexOf('tests/e2e/embed.mjs (embed-readme) runs this block');
  const m = at < 0 ? null : readme.slice(at).match(/```html\n([\s\S]*?)```/);
  if (!m) throw new Error('no snippet block in README "Embed it"');
  fs.writeFileSync(path.join(DIST, 'embed', 'readme-snippet.html'), `<!doctype html>\n<meta charset="utf-8">\n<title>README snippet</title>\n${m[1]}`);
  const H = await hostPage(browser, base, SC, 'H', 'readme-snippet.html');
  r.pages = [H];
  await step('the snippet signs in', T.load + T.register, async () => {
    await H.page.waitForSelector('sip-phone #reg-status[data-state="registered"]', { timeout: T.load + T.register });
  });
  r.events = (await events(H)).map((e) => `${e.type}:${e.detail && e.detail.state ? e.detail.state : ''}`);
  await expectNoPageErrors(H);
  await H.page.evaluate(() => document.querySelector('sip-phone').unmount());
}

export const EMBED = {
  'embed-readme': embedReadme,
  'embed-element': embedElement,
  'embed-mount': embedMount,
  'embed-click-to-call': embedClickToCall,
  'embed-hostile-css': embedHostileCss,
  'embed-frame': embedFrame,
  'protocol-handler': protocolHandler,
};
