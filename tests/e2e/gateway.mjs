#!/usr/bin/env node
// Media gateway end to end (issue 7): the browser phone and plain-RTP SIP
// endpoints through Kamailio + rtpengine (pbx/gateway.sh, started by
// pbx/pbx.sh). Same set-up as call.mjs; run it inside the PBX's namespace:
//   PBX_NETNS=wt-x pbx/pbx.sh start
//   ip netns exec wt-x node tests/e2e/gateway.mjs --dist dist
//
// Scenarios (each passes or fails on its own):
//   echo-test       page 1004 calls the echo number 9196 (a sipp UAS that
//                   sends every RTP packet back, behind rtpengine). The
//                   page's outgoing track is replaced by a Web Audio
//                   oscillator (TONE_HZ) whose gain is switched on in
//                   bursts; the outgoing tone and the remote track go into
//                   one sample-aligned recorder (an AudioWorklet), so the round-trip
//                   delay is (onset of the tone in the remote audio) - (onset
//                   of the tone sent), per burst. The returned tone's
//                   frequency is measured (DFT peak, refined) and must be
//                   within FREQ_TOL_HZ; no tone may be heard before one is
//                   sent. The codec is PCMU (the echo answers only PCMU).
//                   rtpengine's own counters (ng "query") must show packets
//                   relayed both ways, and the session must be gone after
//                   the hang-up.
//                   The page offers the browser's codecs (opus first).
//   echo-pcmu       the same with the settings' audio codecs "PCMU" (issue
//                   16): the page's offer lists PCMU and telephone-event
//                   only, and everything above still holds.
//   echo-video      (issue 16) the same dialled as a video call: the echo
//                   answers with sound only, the page says "answered without
//                   video" and everything above still holds.
//   sipp-caller     a sipp UAC (pbx/sipp/gateway/uac-rtp.xml, RTP/AVP PCMU,
//                   no ICE/DTLS) calls page 1005 through the PBX; the page
//                   rings, the test answers, the page receives audio (inbound
//                   bytes grow, energy above SOUND) whose frequency is the
//                   tone sipp plays (SIPP_TONE_HZ, a mu-law file made here);
//                   rtpengine relayed the page's audio to sipp too; the page
//                   hangs up: sipp gets the BYE and ends with its one call
//                   successful, the rtpengine session is gone.
//   browser-direct  pages 1006 -> 1007: the callee's INVITE SDP carries the
//                   caller's own DTLS fingerprint and ICE credentials (not
//                   rtpengine's), and rtpengine has no session with that
//                   Call-ID while the call has audio: browser <-> browser
//                   calls stay direct.
//
// When rtpengine does not answer on udp 127.0.0.1:22222 (not installed or
// not started), every scenario fails at once saying so: nothing is skipped.
//
// Options: --dist DIR, --artifacts DIR, --ws URL, --only name[,name],
// --results FILE (default e2e-gateway-results.json, in the artifacts dir),
// --watchdog MS (default 180000), --chromium PATH.
// Output: one JSON summary on stdout (also <artifacts>/<results file>),
// screenshots <artifacts>/gw-<scenario>-<state>.png, page logs
// <artifacts>/gw-<scenario>-<page>.log, sipp traces <artifacts>/gateway-sipp/;
// last line "N passed, N failed". Exit 1 if any failed.
import fs from 'node:fs';
import path from 'node:path';
import dgram from 'node:dgram';
import {
  opt, DIST, ART, T, SIPP_DIR, sleep, step, openPage, shot, registerAll, phoneState, textOf, waitText,
  errorText, waitPhone, waitAttr, expectNoError, user, callAndAnswer, audioBothWays, newestAudio, hangUp, run, audioCodecs, sdpAudioCodecs,
  sippMessages, sippFlow, energyOver, clearBindings, sipBody, leavePage, runScenarios,
} from './lib.mjs';

const WATCHDOG_MS = Number(opt('watchdog', 180000));
const CHROMIUM = opt('chromium', '/usr/bin/chromium');
const ONLY = opt('only', null);
const RESULTS = opt('results', 'e2e-gateway-results.json');
const ALL = ['echo-test', 'echo-pcmu', 'echo-video', 'sipp-caller', 'browser-direct'];
const SCENARIOS = ALL.filter((s) => !ONLY || String(ONLY).split(',').includes(s));

const ECHO_NUMBER = '9196';
const NG = { host: '127.0.0.1', port: 22222 };
const TRACE = 'gateway-sipp';
fs.mkdirSync(path.join(ART, TRACE), { recursive: true });

// The echo-test tone. 1 kHz is in the middle of G.711's 300-3400 Hz band;
// PCMU changes amplitudes (8-bit logarithmic quantisation, ~38 dB SNR) but
// cannot move a frequency, and every clock here is the same machine's, so
// the returned tone is 1000 Hz up to the measurement: a 0.4 s window gives
// 2.5 Hz bins, refined to 0.1 Hz around the peak. FREQ_TOL_HZ = 15 Hz is
// therefore loose for a correct path and tight against anything else (the
// fake microphone's beep, a harmonic, a resampling error of 1.5 %).
const TONE_HZ = 1000;
const TONE_AMP = 0.5;
const FREQ_TOL_HZ = 15;
const BURSTS = 3; // tone bursts, each measured
const BURST_ON_S = 0.7;
const BURST_PERIOD_S = 1.5;
// a measured round trip above this is a failure (on loopback it is some
// tens of ms: packetisation, jitter buffer, the relay twice)
const MAX_ROUND_TRIP_MS = 1000;
// sipp-caller: the tone sipp plays (a file of exactly 1 s, whole periods, so
// that its loop has no seam)
const SIPP_TONE_HZ = 700;
// mean inbound power (totalAudioEnergy / totalSamplesDuration) that counts as sound
const SOUND = 1e-4;

// ---------- rtpengine's control protocol (ng: bencode over UDP) ----------

function bencode(v) {
  if (typeof v === 'number') return `i${Math.trunc(v)}e`;
  if (typeof v === 'string') return `${Buffer.byteLength(v)}:${v}`;
  if (Array.isArray(v)) return `l${v.map(bencode).join('')}e`;
  return `d${Object.keys(v).sort().map((k) => bencode(k) + bencode(v[k])).join('')}e`;
}

/** Decode bencode from a Buffer; strings come back as latin1 text. */
function bdecode(buf) {
  let i = 0;
  const next = () => {
    const c = String.fromCharCode(buf[i]);
    if (c === 'i') {
      const end = buf.indexOf(0x65, i); // 'e'
      const n = Number(buf.toString('latin1', i + 1, end));
      i = end + 1;
      return n;
    }
    if (c === 'l' || c === 'd') {
      i += 1;
      const items = [];
      while (buf[i] !== 0x65) {
        if (i >= buf.length) throw new Error('bencode: truncated');
        items.push(next());
      }
      i += 1;
      if (c === 'l') return items;
      const o = {};
      for (let k = 0; k < items.length; k += 2) o[items[k]] = items[k + 1];
      return o;
    }
    if (c >= '0' && c <= '9') {
      const colon = buf.indexOf(0x3a, i); // ':'
      const len = Number(buf.toString('latin1', i, colon));
      const s = buf.toString('latin1', colon + 1, colon + 1 + len);
      i = colon + 1 + len;
      return s;
    }
    throw new Error(`bencode: unexpected ${JSON.stringify(c)} at ${i}`);
  };
  return next();
}

let ngSeq = 0;
/** One ng command to rtpengine; resolves to the decoded answer (1.5 s at most). */
function ng(command, args = {}) {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    const cookie = `gw${process.pid}_${++ngSeq}`;
    const timer = setTimeout(() => {
      sock.close();
      reject(new Error(`rtpengine does not answer "${command}" on udp ${NG.host}:${NG.port}`));
    }, 1500);
    sock.on('message', (msg) => {
      const sp = msg.indexOf(0x20);
      if (msg.toString('latin1', 0, sp) !== cookie) return;
      clearTimeout(timer);
      sock.close();
      try {
        resolve(bdecode(msg.subarray(sp + 1)));
      } catch (e) {
        reject(e);
      }
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      sock.close();
      reject(e);
    });
    sock.send(`${cookie} ${bencode({ command, ...args })}`, NG.port, NG.host);
  });
}

/** The gateway must be there: otherwise fail with what to do (never skip). */
async function requireGateway(r) {
  let pong;
  try {
    pong = await ng('ping');
  } catch (e) {
    throw new Error(
      `media gateway missing: ${e.message}. rtpengine is not installed or not running ` +
        '(scripts/setup.sh installs the Debian package rtpengine-daemon; pbx/pbx.sh start starts it; pbx/pbx.sh status shows it)',
    );
  }
  if (pong.result !== 'pong') throw new Error(`rtpengine answered ping with ${JSON.stringify(pong)}`);
  r.rtpengine = 'pong';
}

/** Call-IDs of rtpengine's sessions. */
async function ngCalls() {
  const l = await ng('list', { limit: 100 });
  if (l.result !== 'ok') throw new Error(`rtpengine list: ${JSON.stringify(l)}`);
  return l.calls || [];
}

/**
 * Packets rtpengine received per endpoint of a call (ng "query"):
 * { tags: { <from-tag or to-tag>: packets received from that side } }.
 */
async function ngPackets(callId) {
  const q = await ng('query', { 'call-id': callId });
  if (q.result !== 'ok') throw new Error(`rtpengine query ${callId}: ${JSON.stringify(q)}`);
  const out = {};
  for (const [tag, t] of Object.entries(q.tags || {})) {
    let packets = 0;
    for (const m of t.medias || []) {
      for (const s of m.streams || []) packets += (s.stats && s.stats.packets) || 0;
    }
    out[tag] = packets;
  }
  return out;
}

/** Wait until rtpengine has no session with callId (ms at most); returns the ms it took. */
async function ngGone(callId, ms) {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (!(await ngCalls()).includes(callId)) return Date.now() - t0;
    await sleep(100);
  }
  throw new Error(`rtpengine still has the session ${callId} ${ms} ms after the hang-up`);
}

// ---------- helpers ----------

const SIP = (P, dir, re) => P.frames.filter((f) => f.dir === dir && re.test(f.text));
const callIdOf = (text) => /^(?:Call-ID|i):\s*(\S+)/im.exec(text)?.[1] || null;

/** Open pages, clear the users' PBX bindings, register. */
async function setup(browser, base, r, SC, people, { codecs = null } = {}) {
  await step('clear PBX bindings', 30000, () => clearBindings(people.map((p) => p.n), TRACE));
  const pages = [];
  r.pages = pages;
  for (const p of people) pages.push(await openPage(browser, base, `gw-${SC}`, p.page));
  // the settings' audio codecs (issue 16), when asked for
  const afterFill = codecs === null ? null : (P) => P.page.fill('#audio-codecs', codecs, { timeout: T.ui });
  await registerAll(pages, people.map((p) => user(p.n, p.name)), { afterFill });
  return pages;
}

// ---------- in the page: tone out, remote audio in, one sample clock ----------

// The recorder runs on the audio thread (an AudioWorklet), so a busy page
// cannot lose samples: it hands over blocks of BLOCK frames of both
// channels, each stamped with its first frame (the context's currentFrame).
// The page's CSP allows scripts of its own origin only, and Playwright does
// not intercept worklet requests: the test serves a copy of dist/ with this
// one module added at TAP_PATH (the app's own files are unchanged).
const TAP_PATH = '/__gateway-test-tap.js';
const TAP_MODULE = `
const BLOCK = 4096;
class GatewayTestTap extends AudioWorkletProcessor {
  constructor() {
    super();
    this.on = false;
    this.fresh();
    this.port.onmessage = (e) => { this.on = !!e.data; };
  }
  fresh() {
    this.local = new Float32Array(BLOCK);
    this.remote = new Float32Array(BLOCK);
    this.n = 0;
    this.start = -1;
  }
  process(inputs) {
    if (!this.on) return true;
    const chans = inputs[0] || [];
    const len = chans[0] ? chans[0].length : 128;
    if (this.start < 0) this.start = currentFrame;
    if (chans[0]) this.local.set(chans[0].subarray(0, Math.min(len, BLOCK - this.n)), this.n);
    if (chans[1]) this.remote.set(chans[1].subarray(0, Math.min(len, BLOCK - this.n)), this.n);
    this.n += len;
    if (this.n >= BLOCK) {
      this.port.postMessage({ frame: this.start, local: this.local, remote: this.remote }, [this.local.buffer, this.remote.buffer]);
      this.fresh();
    }
    return true;
  }
}
registerProcessor('gateway-test-tap', GatewayTestTap);
`;

/** A copy of dist/ with the recorder module added; returns its directory. */
function distWithTap() {
  const dir = path.join(ART, 'gateway-dist');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.cpSync(DIST, dir, { recursive: true });
  fs.writeFileSync(path.join(dir, TAP_PATH.slice(1)), TAP_MODULE);
  return dir;
}

/**
 * Build the measuring rig in the page: oscillator -> gain (0) -> the call's
 * sender (replaceTrack) and channel 0 of the recorder; the remote track ->
 * channel 1. Both channels of a block are the same instants, so onsets can
 * be compared sample by sample; blocks carry their frame number, so a
 * rendering gap shows as a gap. hz = null: no tone, the remote track only
 * (sipp-caller).
 */
async function installRig({ hz, tapPath }) {
  const pc = window.__pcs().at(-1);
  if (!pc) throw new Error('no peer connection');
  const sender = pc.getSenders().find((s) => s.track && s.track.kind === 'audio');
  const receiver = pc.getReceivers().find((x) => x.track && x.track.kind === 'audio');
  if (!receiver || (hz && !sender)) throw new Error(`no audio sender/receiver (${!!sender}/${!!receiver})`);
  const ctx = new AudioContext({ sampleRate: 48000 });
  await ctx.audioWorklet.addModule(tapPath);
  const merger = ctx.createChannelMerger(2);
  let gain = null;
  let dest = null;
  if (hz) {
    const osc = ctx.createOscillator();
    osc.frequency.value = hz;
    gain = ctx.createGain();
    gain.gain.value = 0;
    osc.connect(gain);
    dest = ctx.createMediaStreamDestination();
    gain.connect(dest);
    gain.connect(merger, 0, 0);
    osc.start();
  }
  ctx.createMediaStreamSource(new MediaStream([receiver.track])).connect(merger, 0, 1);
  const tap = new AudioWorkletNode(ctx, 'gateway-test-tap', {
    numberOfInputs: 1,
    numberOfOutputs: 1,
    outputChannelCount: [1],
    channelCount: 2,
    channelCountMode: 'explicit',
    channelInterpretation: 'discrete',
  });
  merger.connect(tap);
  const sink = ctx.createGain();
  sink.gain.value = 0;
  tap.connect(sink);
  sink.connect(ctx.destination);
  const rig = { ctx, gain, tap, blocks: [] };
  rig.record = (on) => tap.port.postMessage(on);
  tap.port.onmessage = (e) => rig.blocks.push(e.data);
  window.__rig = rig;
  await ctx.resume();
  if (hz) await sender.replaceTrack(dest.stream.getAudioTracks()[0]);
  return { state: ctx.state, rate: ctx.sampleRate };
}

/** Switch the tone on in bursts (times on the AudioContext clock). */
function scheduleBursts({ amp, n, on, period, lead }) {
  const rig = window.__rig;
  const t0 = rig.ctx.currentTime + lead;
  for (let i = 0; i < n; i++) {
    rig.gain.gain.setValueAtTime(amp, t0 + i * period);
    rig.gain.gain.setValueAtTime(0, t0 + i * period + on);
  }
  return t0;
}

/**
 * Analyse what was recorded (runs in the page; self-contained):
 *  - the blocks are placed by their frame numbers; missing frames (none
 *    unless the audio thread skipped rendering) are marked, and no window
 *    that touches them counts;
 *  - tone onsets of channel 0 (sent) and channel 1 (received): the first
 *    5 ms window (hop 1 ms) whose energy is mostly at hz (Goertzel) and whose
 *    RMS is above minRms, after at least gapS without one;
 *  - the received tone's frequency in windows of winS: one fromS after each
 *    received onset (withLocal) or back to back from fromS after the first
 *    one; DFT magnitude scanned 100-3900 Hz in 2.5 Hz steps, refined in
 *    0.1 Hz steps around the peak; purity = that bin's share of the window's
 *    energy (1 for a pure tone); the median window counts;
 *  - whether channel 1 had the tone during the preS seconds before the
 *    first sent onset.
 */
async function analyse({ hz, minRms, gapS, fromS, winS, preS, withLocal }) {
  const rig = window.__rig;
  rig.record(false);
  // the last blocks may still be on their way from the audio thread
  await new Promise((r) => setTimeout(r, 300));
  const rate = rig.ctx.sampleRate;
  const blocks = rig.blocks;
  rig.blocks = [];
  if (!blocks.length) return { rate, seconds: 0, missed_blocks: 0, sent_onsets_s: [], got_onsets_s: [], round_trip_ms: [], windows: [] };
  // blocks are placed by their first frame: a rendering gap stays a gap
  const B = blocks[0].local.length;
  const f0 = blocks[0].frame;
  const n = blocks[blocks.length - 1].frame - f0 + B;
  const local = new Float32Array(n);
  const remote = new Float32Array(n);
  const have = new Uint8Array(n);
  for (const b of blocks) {
    const o = b.frame - f0;
    local.set(b.local, o);
    remote.set(b.remote, o);
    have.fill(1, o, o + B);
  }
  // prefix sums of missing samples: is [i, i+len) complete?
  const miss = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) miss[i + 1] = miss[i] + (have[i] ? 0 : 1);
  const complete = (i, len) => i >= 0 && i + len <= n && miss[i + len] - miss[i] === 0;
  const goertzel = (x, start, len, f) => {
    const w = (2 * Math.PI * f) / rate;
    const c = 2 * Math.cos(w);
    let s1 = 0;
    let s2 = 0;
    for (let i = start; i < start + len; i++) {
      const s0 = x[i] + c * s1 - s2;
      s2 = s1;
      s1 = s0;
    }
    return s1 * s1 + s2 * s2 - c * s1 * s2; // |X(f)|^2
  };
  const energy = (x, start, len) => {
    let e = 0;
    for (let i = start; i < start + len; i++) e += x[i] * x[i];
    return e;
  };
  const WIN = Math.round(rate * 0.005);
  const HOP = Math.round(rate * 0.001);
  // tone share of a window: |X|^2 * 2 / (N * energy), 1 for a pure tone at hz
  const toneAt = (x, i) => {
    if (!complete(i, WIN)) return false;
    const e = energy(x, i, WIN);
    if (Math.sqrt(e / WIN) < minRms) return false;
    return (goertzel(x, i, WIN, hz) * 2) / (WIN * e) > 0.6;
  };
  const onsets = (x) => {
    const found = [];
    let lastTone = -Infinity;
    for (let i = 0; i + WIN <= x.length; i += HOP) {
      if (!toneAt(x, i)) continue;
      if (i - lastTone > gapS * rate) found.push(i);
      lastTone = i;
    }
    return found;
  };
  const s3 = (i) => Math.round((i / rate) * 1000) / 1000;
  const sent = withLocal ? onsets(local) : [];
  const got = onsets(remote);
  const res = {
    rate,
    seconds: Math.round((n / rate) * 100) / 100,
    block: B,
    missed_blocks: Math.round(miss[n] / B),
    sent_onsets_s: sent.map(s3),
    got_onsets_s: got.map(s3),
    round_trip_ms: [],
    returned: [],
  };
  for (let k = 0; k < sent.length; k++) {
    const next = k + 1 < sent.length ? sent[k + 1] : Infinity;
    const back = got.find((g) => g >= sent[k] && g < next);
    // a missed block between the two onsets would hide part of the delay:
    // such a burst is not measured
    const whole = back !== undefined && complete(sent[k], back - sent[k] + 1);
    res.round_trip_ms.push(whole ? Math.round(((back - sent[k]) / rate) * 10000) / 10 : null);
    res.returned.push(back !== undefined);
  }
  if (withLocal && sent.length) {
    const pre0 = Math.max(0, sent[0] - Math.round(preS * rate));
    res.pre_onset_s = Math.round(((sent[0] - pre0) / rate) * 100) / 100;
    res.tone_before_sent = got.some((g) => g >= pre0 && g < sent[0]);
    res.pre_onset_rms = Math.sqrt(energy(remote, pre0, sent[0] - pre0) / Math.max(1, sent[0] - pre0));
  }
  // frequency of the received tone
  const peak = (from, len) => {
    let best = 0;
    let bestP = -1;
    for (let f = 100; f <= 3900; f += 2.5) {
      const p = goertzel(remote, from, len, f);
      if (p > bestP) {
        bestP = p;
        best = f;
      }
    }
    const coarse = best;
    for (let k = -25; k <= 25; k++) {
      const f = coarse + k / 10;
      const p = goertzel(remote, from, len, f);
      if (p > bestP) {
        bestP = p;
        best = f;
      }
    }
    const e = energy(remote, from, len);
    return {
      at_s: s3(from),
      frequency_hz: Math.round(best * 10) / 10,
      purity: Math.round(((bestP * 2) / (len * e)) * 1000) / 1000,
      rms: Math.round(Math.sqrt(e / len) * 1000) / 1000,
    };
  };
  const len = Math.round(winS * rate);
  let starts = [];
  if (withLocal) {
    starts = got.filter((g) => sent.length && g >= sent[0]).map((g) => g + Math.round(fromS * rate));
  } else if (got.length) {
    for (let from = got[0] + Math.round(fromS * rate); from + len <= n; from += len) starts.push(from);
  }
  res.windows = starts.filter((from) => complete(from, len)).map((from) => peak(from, len));
  const mid = (xs) => {
    const v = [...xs].sort((a, b) => a - b);
    return v.length ? v[Math.floor((v.length - 1) / 2)] : null;
  };
  if (res.windows.length) {
    // the median window (a glitch of the jitter buffer in one window does not decide)
    res.frequency_hz = mid(res.windows.map((w) => w.frequency_hz));
    res.purity = mid(res.windows.map((w) => w.purity));
    res.tone_rms = mid(res.windows.map((w) => w.rms));
  }
  return res;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : null;
};

// ---------- scenarios ----------

/**
 * The echo test; with `codecs`, that text in the page's #audio-codecs; with
 * `video`, dialled with #video-call-button (the echo answers sound only).
 */
const scenarioEcho = (SC, { codecs = null, video = false } = {}) => async (browser, base, r) => {
  await requireGateway(r);
  const [A] = await setup(browser, base, r, SC, [{ n: 1004, name: 'Echo Tester', page: 'A' }], { codecs });
  const t0 = Date.now();
  await step(`A dials ${ECHO_NUMBER}`, T.ui, async () => {
    await A.page.fill('#dial-input', ECHO_NUMBER);
    await A.page.click(video ? '#video-call-button' : '#call-button');
  });
  await step('the echo test answers', T.answer, () => waitPhone(A.page, 'active', T.answer));
  if (video) {
    // a video call answered with sound only: said, and the call goes on
    await step('A: answered without video', T.ui, () => waitText(A.page, '#notice', /answered without video/, T.ui, 'A'));
    r.notice = await textOf(A.page, '#notice');
  }
  r.answer_ms = Date.now() - t0;
  await step('echoed audio arrives', T.media, async () => {
    const end = Date.now() + T.media;
    while (Date.now() < end) {
      const a = await newestAudio(A.page);
      r.inbound = a;
      if (a.bytes > 0) return;
      await sleep(100);
    }
    throw new Error(`no inbound audio from the echo: ${JSON.stringify(r.inbound)}`);
  });
  r.first_audio_ms = Date.now() - t0;
  r.codecs = await audioCodecs(A.page);
  r.screenshots.push(await shot(A.page, `gw-${SC}`, 'in-call-A'));
  const invite = SIP(A, '>>', /^INVITE /).at(-1);
  const callId = invite && callIdOf(invite.text);
  r.call_id = callId;
  r.offer_codecs = invite ? sdpAudioCodecs(sipBody(invite.text)) : null;
  // what the page got from the gateway: rtpengine's ICE and fingerprint
  const answer = SIP(A, '<<', /^SIP\/2\.0 200 /).find((f) => callIdOf(f.text) === callId && /\r\nm=audio/.test(f.text));
  r.answer_sdp_from_gateway = answer
    ? { ice: /a=ice-ufrag:/.test(answer.text), fingerprint: /a=fingerprint:/.test(answer.text), profile: /m=audio \d+ (\S+)/.exec(answer.text)?.[1] }
    : null;

  // ----- hold and resume: two re-INVITEs through rtpengine to the echo -----
  const holdAt = Date.now();
  await step('hold', T.answer, async () => {
    await A.page.click('#hold-button');
    await waitAttr(A.page, '#hold-button', 'aria-pressed', 'true', T.answer, 'A');
  });
  await step('resume', T.answer, async () => {
    await A.page.click('#hold-button');
    await waitAttr(A.page, '#hold-button', 'aria-pressed', 'false', T.answer, 'A');
  });
  r.reinvite_replies = SIP(A, '<<', /^SIP\/2\.0 \d+ [^\r]*\r\n[\s\S]*CSeq: \d+ INVITE/)
    .filter((f) => f.at >= holdAt && callIdOf(f.text) === callId)
    .map((f) => f.text.split('\r\n')[0].slice(8, 11));
  await expectNoError(A.page, 'A after hold and resume');
  if ((await phoneState(A.page)) !== 'active') throw new Error(`A: phone is "${await phoneState(A.page)}" after hold and resume`);

  // ----- the tone: bursts out, onsets back -----
  r.rig = await step('install the tone rig', T.ui, () => A.page.evaluate(installRig, { hz: TONE_HZ, tapPath: TAP_PATH }));
  await sleep(1500); // silence goes round first: jitter buffers settle
  await A.page.evaluate(() => window.__rig.record(true));
  await sleep(500); // recorded silence before the first burst
  await A.page.evaluate(scheduleBursts, { amp: TONE_AMP, n: BURSTS, on: BURST_ON_S, period: BURST_PERIOD_S, lead: 0.05 });
  await sleep((BURSTS * BURST_PERIOD_S + 0.8) * 1000);
  const an = await step('analyse', 10000, () =>
    A.page.evaluate(analyse, { hz: TONE_HZ, minRms: 0.02, gapS: 0.3, fromS: 0.1, winS: 0.4, preS: 0.5, withLocal: true }),
  );
  r.analysis = an;
  const rtts = an.round_trip_ms.filter((x) => x !== null);
  r.round_trip_ms = { each: an.round_trip_ms, median: median(rtts), min: rtts.length ? Math.min(...rtts) : null, max: rtts.length ? Math.max(...rtts) : null };
  r.frequency_hz = an.frequency_hz ?? null;
  r.purity = an.purity ?? null;

  // ----- rtpengine relayed both ways -----
  if (callId) r.rtpengine_packets = await ngPackets(callId).catch((e) => ({ error: e.message }));

  // ----- hang up: the call and the gateway session end -----
  await step('A hangs up', T.hangup, async () => {
    await A.page.click('#hangup-button');
    await waitPhone(A.page, 'idle', T.hangup);
  });
  if (callId) r.session_gone_ms = await step('rtpengine session deleted', 5000, () => ngGone(callId, 5000));
  r.error_after = await errorText(A.page);

  // ----- verdicts (after the hang-up, so that all figures are recorded) -----
  if (!callId) throw new Error('no INVITE seen from the page');
  if (!r.answer_sdp_from_gateway || !r.answer_sdp_from_gateway.ice || !r.answer_sdp_from_gateway.fingerprint) {
    throw new Error(`the 200 to the page has no ICE/DTLS from the gateway: ${JSON.stringify(r.answer_sdp_from_gateway)}`);
  }
  if (!/PCMU/i.test(r.codecs?.out || '')) throw new Error(`the page sends ${JSON.stringify(r.codecs)}, want PCMU (the echo answers PCMU only)`);
  if (codecs !== null && !(r.offer_codecs || []).every((c) => c === 'PCMU' || c === 'telephone-event')) {
    throw new Error(`with the audio codecs "${codecs}" the page offered ${JSON.stringify(r.offer_codecs)}, want PCMU and telephone-event only`);
  }
  const invites = SIP(A, '>>', /^INVITE /);
  r.offer_video = invites.length ? /\r\nm=video [1-9]/.test(invites[0].text) : null;
  if (r.offer_video !== video) throw new Error(`the page's offer ${video ? 'has no' : 'has a'} video stream`);
  if (codecs === null && (r.offer_codecs || [])[0] !== 'opus') {
    throw new Error(`with the browser's codecs the page offered ${JSON.stringify(r.offer_codecs)}, want opus first`);
  }
  if (an.sent_onsets_s.length !== BURSTS) throw new Error(`the page sent ${an.sent_onsets_s.length} tone bursts, want ${BURSTS} (rig: ${JSON.stringify(r.rig)})`);
  if (an.tone_before_sent) throw new Error(`a ${TONE_HZ} Hz tone was received before any was sent (${JSON.stringify(an.got_onsets_s)})`);
  const back = an.returned.filter(Boolean).length;
  if (back !== BURSTS) {
    throw new Error(`the tone came back for ${back} of ${BURSTS} bursts (sent at ${an.sent_onsets_s} s, received at ${an.got_onsets_s} s)`);
  }
  // a burst whose round trip spans a block the page's main thread missed is
  // not timed; at least two of three must be
  if (rtts.length < BURSTS - 1) {
    throw new Error(`only ${rtts.length} of ${BURSTS} round trips could be timed (${an.missed_blocks} blocks missing from the recording)`);
  }
  if (r.round_trip_ms.max > MAX_ROUND_TRIP_MS) throw new Error(`round trip ${r.round_trip_ms.max} ms > ${MAX_ROUND_TRIP_MS} ms`);
  if (r.frequency_hz === null || Math.abs(r.frequency_hz - TONE_HZ) > FREQ_TOL_HZ) {
    throw new Error(`the returned tone is ${r.frequency_hz} Hz, want ${TONE_HZ} ± ${FREQ_TOL_HZ} Hz`);
  }
  if (!(r.purity > 0.5)) throw new Error(`the returned tone is not clean: ${r.purity} of its energy at ${r.frequency_hz} Hz`);
  const pk = r.rtpengine_packets || {};
  if (pk.error || Object.keys(pk).length < 2 || !Object.values(pk).every((n) => n > 0)) {
    throw new Error(`rtpengine did not relay packets from both sides: ${JSON.stringify(pk)}`);
  }
};

/** Raw G.711 mu-law of a sine: `seconds` of `hz` at 8 kHz, amplitude amp (0..1). */
function ulawTone(hz, seconds, amp) {
  const n = Math.round(8000 * seconds);
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    let x = Math.round(amp * 32767 * Math.sin((2 * Math.PI * hz * i) / 8000));
    // G.711 mu-law: sign, 3-bit segment, 4-bit step, bias 132, inverted
    const sign = x < 0 ? 0x80 : 0;
    if (x < 0) x = -x;
    x = Math.min(x, 32635) + 132;
    let seg = 7;
    while (seg > 0 && !(x & (0x4000 >> (7 - seg)))) seg -= 1;
    const mant = (x >> (seg + 3)) & 0x0f;
    out[i] = ~(sign | (seg << 4) | mant) & 0xff;
  }
  return out;
}

async function scenarioSippCaller(browser, base, r) {
  const SC = 'sipp-caller';
  await requireGateway(r);
  const dir = path.join(ART, TRACE);
  fs.writeFileSync(path.join(dir, 'tone.ulaw'), ulawTone(SIPP_TONE_HZ, 1, 0.3));
  const [B] = await setup(browser, base, r, SC, [{ n: 1005, name: 'Browser', page: 'B' }]);
  const msgFile = path.join(dir, 'uac-rtp.msg');
  fs.rmSync(msgFile, { force: true });
  // sipp runs in the directory of tone.ulaw (rtp_stream takes a plain path)
  const uac = run(
    'bash',
    [
      '-c', 'cd "$1" && shift && exec sipp "$@"', 'sipp', dir,
      '127.0.0.1:5060', '-sf', path.join(SIPP_DIR, 'gateway', 'uac-rtp.xml'), '-s', '1005',
      '-i', '127.0.0.1', '-p', '5170', '-mi', '127.0.0.1', '-mp', '40010', '-m', '1',
      '-timeout', '60s', '-timeout_error', '-nostdin',
      '-trace_msg', '-message_file', msgFile, '-trace_err', '-error_file', path.join(dir, 'uac-rtp.err'),
    ],
    { timeout: 70000 },
  );
  let uacDone = null;
  uac.then((x) => (uacDone = x));
  const t0 = Date.now();
  try {
    await step('B rings', T.ring, async () => {
      try {
        await waitPhone(B.page, 'incoming', T.ring);
      } catch (e) {
        if (uacDone) throw new Error(`${e.message}; sipp ended first (exit ${uacDone.code}: ${sippFlow(sippMessages(msgFile)).join(' ')})`);
        throw e;
      }
    });
    r.ring_ms = Date.now() - t0;
    r.incoming_from = await textOf(B.page, '#incoming-from');
    const inv = SIP(B, '<<', /^INVITE /).at(-1);
    r.call_id = inv && callIdOf(inv.text);
    const offer = inv ? sipBody(inv.text) : '';
    r.offer_to_browser = { profile: /m=audio \d+ (\S+)/.exec(offer)?.[1], ice: /a=ice-ufrag:/.test(offer), fingerprint: /a=fingerprint:/.test(offer), rtcp_mux: /a=rtcp-mux/.test(offer) };
    r.screenshots.push(await shot(B.page, `gw-${SC}`, 'ringing-B'));
    await step('B answers', T.answer, async () => {
      await B.page.click('#answer-button');
      await waitPhone(B.page, 'active', T.answer);
    });
    r.answer_ms = Date.now() - t0;
    await step('audio from sipp', T.media, async () => {
      const end = Date.now() + T.media;
      while (Date.now() < end) {
        const a = await newestAudio(B.page);
        r.inbound = a;
        if (a.bytes > 0) return;
        await sleep(100);
      }
      throw new Error(`no inbound audio at B: ${JSON.stringify(r.inbound)}`);
    });
    r.first_audio_ms = Date.now() - t0;
    r.codecs = await audioCodecs(B.page);
    await step('listen', T.ui, () => B.page.evaluate(installRig, { hz: null, tapPath: TAP_PATH }));
    await B.page.evaluate(() => window.__rig.record(true));
    r.energy = await energyOver(B.page, 2000);
    const an = await step('analyse', 10000, () =>
      B.page.evaluate(analyse, { hz: SIPP_TONE_HZ, minRms: 0.02, gapS: 0.3, fromS: 0.05, winS: 0.4, preS: 0, withLocal: false }),
    );
    r.analysis = { seconds: an.seconds, missed_blocks: an.missed_blocks, got_onsets_s: an.got_onsets_s, windows: an.windows };
    r.frequency_hz = an.frequency_hz ?? null;
    r.purity = an.purity ?? null;
    r.tone_rms = an.tone_rms ?? null;
    if (r.call_id) r.rtpengine_packets = await ngPackets(r.call_id).catch((e) => ({ error: e.message }));
    r.screenshots.push(await shot(B.page, `gw-${SC}`, 'in-call-B'));
    await step('B hangs up, sipp gets the BYE', 15000, async () => {
      await B.page.click('#hangup-button');
      await waitPhone(B.page, 'idle', T.hangup);
      const res = await uac;
      r.sipp_exit = res.code;
    });
  } finally {
    const res = await Promise.race([uac, sleep(15000).then(() => null)]);
    r.sipp_flow = sippFlow(sippMessages(msgFile)).join(' ');
    if (!res) r.sipp_exit = 'still running (killed by its time limit)';
  }
  if (r.call_id) r.session_gone_ms = await step('rtpengine session deleted', 5000, () => ngGone(r.call_id, 5000));

  if (r.sipp_exit !== 0) throw new Error(`sipp did not finish its call: exit ${r.sipp_exit} (${r.sipp_flow})`);
  if (!/< BYE > 200$/.test(r.sipp_flow)) throw new Error(`sipp flow ${r.sipp_flow}: want the page's BYE answered last`);
  if (r.offer_to_browser.profile !== 'UDP/TLS/RTP/SAVPF' || !r.offer_to_browser.ice || !r.offer_to_browser.fingerprint) {
    throw new Error(`the page was offered ${JSON.stringify(r.offer_to_browser)}, want the gateway's WebRTC offer`);
  }
  if (!(r.energy.power > SOUND)) throw new Error(`B hears nothing: ${JSON.stringify(r.energy)}`);
  if (r.frequency_hz === null || Math.abs(r.frequency_hz - SIPP_TONE_HZ) > FREQ_TOL_HZ) {
    throw new Error(`B hears ${r.frequency_hz} Hz, want sipp's ${SIPP_TONE_HZ} ± ${FREQ_TOL_HZ} Hz`);
  }
  if (!(r.purity > 0.5)) throw new Error(`what B hears is not sipp's clean tone: ${r.purity} of its energy at ${r.frequency_hz} Hz`);
  const pk = r.rtpengine_packets || {};
  if (pk.error || Object.keys(pk).length < 2 || !Object.values(pk).every((n) => n > 0)) {
    throw new Error(`rtpengine did not relay packets from both sides: ${JSON.stringify(pk)}`);
  }
}

async function scenarioDirect(browser, base, r) {
  const SC = 'browser-direct';
  await requireGateway(r);
  const [C, D] = await setup(browser, base, r, SC, [
    { n: 1006, name: 'Carla', page: 'C' },
    { n: 1007, name: 'Dan', page: 'D' },
  ]);
  await callAndAnswer(C, D, '1007');
  r.audio = await step('audio both ways', T.media, () => audioBothWays([C, D]));
  const inv = SIP(D, '<<', /^INVITE /).at(-1);
  r.call_id = inv && callIdOf(inv.text);
  const got = inv ? sipBody(inv.text) : '';
  const mine = await C.page.evaluate(() => window.__pcs().at(-1)?.localDescription?.sdp || '');
  const fp = (s) => /a=fingerprint:(\S+ \S+)/.exec(s)?.[1] || null;
  const ufrag = (s) => /a=ice-ufrag:(\S+)/.exec(s)?.[1] || null;
  r.fingerprint = { caller: fp(mine), callee_got: fp(got) };
  r.ice_ufrag = { caller: ufrag(mine), callee_got: ufrag(got) };
  r.rtpengine_calls = await ngCalls();
  await hangUp(C, D);
  if (!r.call_id) throw new Error('D saw no INVITE');
  if (!r.fingerprint.caller || r.fingerprint.caller !== r.fingerprint.callee_got) {
    throw new Error(`D did not get C's own DTLS fingerprint: ${JSON.stringify(r.fingerprint)}`);
  }
  if (!r.ice_ufrag.caller || r.ice_ufrag.caller !== r.ice_ufrag.callee_got) {
    throw new Error(`D did not get C's own ICE credentials: ${JSON.stringify(r.ice_ufrag)}`);
  }
  if (r.rtpengine_calls.includes(r.call_id)) throw new Error(`rtpengine has a session for the browser-to-browser call ${r.call_id}`);
}

const RUN = { 'echo-test': scenarioEcho('echo-test'), 'echo-pcmu': scenarioEcho('echo-pcmu', { codecs: 'PCMU' }), 'echo-video': scenarioEcho('echo-video', { video: true }), 'sipp-caller': scenarioSippCaller, 'browser-direct': scenarioDirect };

// ---------- main ----------
await runScenarios({
  scenarios: SCENARIOS,
  run: RUN,
  serve: distWithTap(),
  results: RESULTS,
  watchdogMs: WATCHDOG_MS,
  // the measuring AudioContext starts without a click
  launch: { executablePath: CHROMIUM, extra: ['--autoplay-policy=no-user-gesture-required'] },
  // close the pages as a person closes a tab (the app unregisters)
  leave: (pages) => Promise.all(pages.map((p) => leavePage(p))),
  shotFn: (page, name, state) => shot(page, `gw-${name}`, state),
});
