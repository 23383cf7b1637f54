// Calls between the page and a phone that is not a browser (baresip.mjs,
// linphone.mjs): the page signs in, calls the phone or is called by it, and
// tones go both ways. What the page hears (the dominant frequency of its
// remote track), a tone the page sends instead of its microphone, the tone
// in a WAV file the phone recorded, and the SDP the phone sent.
import fs from 'node:fs';
import { T, sleep, step, waitPhone, waitReg, newestAudio, fillSettings, user } from './lib.mjs';

const FREQ_TOL_HZ = 15;

/**
 * Dominant frequency (Hz) of the remote audio track of the page's newest
 * call, over ms. Chromium: an AnalyserNode. Firefox (no running
 * AudioContext without an audio output): MediaRecorder, then the recording
 * decoded by an OfflineAudioContext and a DFT of its samples.
 */
export const pageHears = (P, ms) => (P.kind === 'firefox' ? pageHearsRecorded(P.page, ms) : pageHearsLive(P.page, ms));

/** The recorded last second comes back as samples; the DFT is dominantHz's. */
async function pageHearsRecorded(page, ms) {
  const got = await page.evaluate(async (ms) => {
    const pc = window.__pcs().at(-1);
    const receiver = pc && pc.getReceivers().find((x) => x.track && x.track.kind === 'audio');
    if (!receiver) return { error: 'no audio receiver' };
    const rec = new MediaRecorder(new MediaStream([receiver.track]));
    const chunks = [];
    rec.ondataavailable = (e) => chunks.push(e.data);
    const stopped = new Promise((r) => (rec.onstop = r));
    rec.start();
    await new Promise((r) => setTimeout(r, ms));
    rec.stop();
    await stopped;
    const bytes = await new Blob(chunks).arrayBuffer();
    const audio = await new OfflineAudioContext(1, 48000, 48000).decodeAudioData(bytes);
    const x = audio.getChannelData(0);
    const last = x.subarray(Math.max(0, x.length - audio.sampleRate));
    return { samples: Array.from(last), rate: audio.sampleRate, recorded_s: Math.round(audio.duration * 10) / 10 };
  }, ms);
  if (got.error) return got;
  return { hz: dominantHz(got.samples, got.rate), recorded_s: got.recorded_s };
}

/** The strongest frequency of samples x (DFT magnitude, 100 to 3900 Hz in 5 Hz steps). */
export function dominantHz(x, rate) {
  let best = { hz: 0, p: 0 };
  for (let hz = 100; hz <= 3900; hz += 5) {
    let re = 0;
    let im = 0;
    const w = (2 * Math.PI * hz) / rate;
    for (let i = 0; i < x.length; i++) {
      re += x[i] * Math.cos(w * i);
      im += x[i] * Math.sin(w * i);
    }
    const p = re * re + im * im;
    if (p > best.p) best = { hz, p };
  }
  return best.hz;
}

const pageHearsLive = (page, ms) =>
  page.evaluate(async (ms) => {
    const pc = window.__pcs().at(-1);
    const receiver = pc && pc.getReceivers().find((x) => x.track && x.track.kind === 'audio');
    if (!receiver) return { error: 'no audio receiver' };
    const ctx = new AudioContext({ sampleRate: 48000 });
    const an = ctx.createAnalyser();
    an.fftSize = 16384;
    an.smoothingTimeConstant = 0.8;
    ctx.createMediaStreamSource(new MediaStream([receiver.track])).connect(an);
    await ctx.resume();
    await new Promise((r) => setTimeout(r, ms));
    const db = new Float32Array(an.frequencyBinCount);
    an.getFloatFrequencyData(db);
    let best = 0;
    for (let i = 1; i < db.length; i++) if (db[i] > db[best]) best = i;
    await ctx.close();
    return { hz: (best * ctx.sampleRate) / an.fftSize, db: Math.round(db[best]) };
  }, ms);

/**
 * Replace the page's microphone in the newest call by a sine of hz (once the
 * call has its microphone: the page shows "active" as soon as Answer is
 * pressed, while the microphone and the answer are still being made). In
 * Firefox the fake microphone already is that sine (firefox.mjs), unless
 * `webAudio` says to make it there too (Firefox runs Web Audio only with a
 * sound server: scripts/pulse.sh).
 */
export const pageSendsTone = (P, hz, webAudio = P.kind !== 'firefox') =>
  P.page.evaluate(async ({ hz, webAudio }) => {
    let sender = null;
    for (let i = 0; i < 100 && !sender; i++) {
      const pc = window.__pcs().at(-1);
      sender = pc && pc.getSenders().find((s) => s.track && s.track.kind === 'audio');
      if (!sender) await new Promise((r) => setTimeout(r, 50));
    }
    if (!sender) throw new Error('no audio sender within 5 s');
    if (!webAudio) return;
    const ctx = new AudioContext({ sampleRate: 48000 });
    const osc = ctx.createOscillator();
    osc.frequency.value = hz;
    const gain = ctx.createGain();
    gain.gain.value = 0.3;
    const dest = ctx.createMediaStreamDestination();
    osc.connect(gain).connect(dest);
    osc.start();
    await ctx.resume();
    await sender.replaceTrack(dest.stream.getAudioTracks()[0]);
    window.__toneCtx = ctx;
  }, { hz, webAudio });

/**
 * The last second of a 16-bit PCM WAV file: its dominant frequency and RMS
 * (the first channel), with the file's rate, channels and length.
 */
export function wavTone(file) {
  if (!fs.existsSync(file)) return { error: `no WAV ${file}` };
  const buf = fs.readFileSync(file);
  let off = 12;
  let fmt = null;
  let data = null;
  while (off + 8 <= buf.length) {
    const id = buf.toString('ascii', off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    if (id === 'fmt ') fmt = { channels: buf.readUInt16LE(off + 10), rate: buf.readUInt32LE(off + 12), bits: buf.readUInt16LE(off + 22) };
    if (id === 'data') data = buf.subarray(off + 8, Math.min(buf.length, off + 8 + size));
    off += 8 + size + (size % 2);
  }
  if (!fmt || !data || fmt.bits !== 16) return { error: `unreadable WAV ${file} ${JSON.stringify(fmt)}` };
  const frames = Math.floor(data.length / (2 * fmt.channels));
  const n = Math.min(frames, fmt.rate); // the last second
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = data.readInt16LE(((frames - n + i) * fmt.channels) * 2) / 32768;
  const rms = Math.sqrt(x.reduce((a, v) => a + v * v, 0) / n);
  return { rate: fmt.rate, channels: fmt.channels, seconds: Math.round((frames / fmt.rate) * 10) / 10, rms: Math.round(rms * 1e4) / 1e4, hz: dominantHz(x, fmt.rate) };
}

/** Write a mono 16-bit WAV of a sine of hz (amplitude 0.4), `seconds` long. */
export function writeToneWav(file, hz, seconds, rate = 16000) {
  const n = Math.round(seconds * rate);
  const buf = Buffer.alloc(44 + 2 * n);
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(36 + 2 * n, 4);
  buf.write('WAVEfmt ', 8, 'ascii');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20); // PCM
  buf.writeUInt16LE(1, 22); // mono
  buf.writeUInt32LE(rate, 24);
  buf.writeUInt32LE(2 * rate, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(2 * n, 40);
  for (let i = 0; i < n; i++) buf.writeInt16LE(Math.round(0.4 * 32767 * Math.sin((2 * Math.PI * hz * i) / rate)), 44 + 2 * i);
  fs.writeFileSync(file, buf);
}

/**
 * A call of the page with a phone that is not a browser is up: the page sends
 * pageHz and must hear the phone's peerHz; then the page hangs up and
 * `peerHears()` (what the phone recorded: { hz, rms } or { error }) must
 * have pageHz. Sets r.page_hears, r.inbound (the page's newest inbound audio
 * and its selected ICE pair: the caller checks who the page's peer is),
 * r.<peer>_hears.
 */
export async function toneBothWays(P, r, { peer, peerHz, pageHz, peerHears }) {
  await step('page sends its tone', 10000, () => pageSendsTone(P, pageHz));
  // the tone is steady: a window that missed it (the first packets, or a
  // recording that started in a gap) is measured again, at most three
  r.page_hears = await step(`page hears ${peer}`, 15000, async () => {
    let got;
    for (let window = 1; window <= 3; window++) {
      got = { ...(await pageHears(P, 1500)), window };
      if (!got.error && Math.abs(got.hz - peerHz) <= FREQ_TOL_HZ) break;
    }
    return got;
  });
  await sleep(1500); // the phone's recording gets a second of the page's tone
  r.inbound = await newestAudio(P.page);
  await step('the page hangs up', T.hangup, async () => {
    await P.page.click('#hangup-button');
    await waitPhone(P.page, 'idle', T.hangup);
  });
  // the phone closes its recording on the BYE, in its own time: under load
  // the file can still lack its header; read it again for up to 5 s
  let heard = peerHears();
  for (let t0 = Date.now(); heard.error && Date.now() - t0 < 5000; heard = peerHears()) await sleep(250);
  r[`${peer}_hears`] = heard;
  if (r.page_hears.error || Math.abs(r.page_hears.hz - peerHz) > FREQ_TOL_HZ) {
    throw new Error(`the page hears ${JSON.stringify(r.page_hears)}, want ${peer}'s ${peerHz} Hz`);
  }
  if (heard.error || Math.abs(heard.hz - pageHz) > FREQ_TOL_HZ || !(heard.rms > 0.01)) {
    throw new Error(`${peer} hears ${JSON.stringify(heard)}, want the page's ${pageHz} Hz`);
  }
}

/** The remote end "address:port" of the page's selected ICE pair (r.inbound.pair), or null. */
export const remoteOfPair = (pair) => /^[\d.]+:\d+\/udp <-> ([\d.]+:\d+)\/udp$/.exec(pair || '')?.[1] || null;

/** The page signs in as 1000. */
export async function registerPage(P) {
  await step('fill settings', T.ui, () => fillSettings(P.page, user(1000, 'Alice')));
  await step('register', T.register, async () => {
    await P.page.click('#save-register');
    await waitReg(P.page, 'registered', T.register);
  });
}

/** What an SDP says of its media: profile, ICE, DTLS (fingerprint, role), rtcp-mux. */
export function sdpFacts(text) {
  return {
    profile: /m=audio \d+ (\S+)/.exec(text)?.[1],
    ice: /a=ice-ufrag:/.test(text),
    fingerprint: /a=fingerprint:/.test(text),
    setup: /a=setup:(\S+)/.exec(text)?.[1],
    rtcp_mux: /a=rtcp-mux/.test(text),
  };
}

/** The page dials `number`, the phone answers by itself. Returns { answered_ms, sdp } (the 200's). */
export async function pageCalls(P, number, peer) {
  const t0 = Date.now();
  await step(`the page calls ${number}; ${peer} answers`, T.answer, async () => {
    await P.page.fill('#dial-input', number);
    await P.page.click('#call-button');
    await waitPhone(P.page, 'active', T.answer);
  });
  const ok = P.frames.filter((f) => f.dir === '<<' && /^SIP\/2\.0 200 /.test(f.text) && /CSeq:\s*\d+ INVITE/i.test(f.text)).at(-1);
  return { answered_ms: Date.now() - t0, sdp: sdpFacts(ok ? ok.text : '') };
}

/** `dial()` makes the phone call the page, which rings and answers. Returns { answered_ms, dial, sdp } (the INVITE's). */
export async function pageIsCalled(P, peer, dial) {
  const t0 = Date.now();
  const dialed = await step(`${peer} dials 1000`, T.ui, dial);
  await step('the page rings and answers', T.ring, async () => {
    await waitPhone(P.page, 'incoming', T.ring);
    await P.page.click('#answer-button');
    await waitPhone(P.page, 'active', T.answer);
  });
  const inv = P.frames.filter((f) => f.dir === '<<' && f.text.startsWith('INVITE ')).at(-1);
  return { answered_ms: Date.now() - t0, dial: dialed, sdp: sdpFacts(inv ? inv.text : '') };
}
