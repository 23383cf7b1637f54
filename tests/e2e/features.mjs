// Desk-phone features (issue 5), end to end: real Kamailio, Chromium pages,
// only through the DOM contract of issue 5 (ids, data attributes, aria-*).
//
// Every scenario starts by removing all PBX bindings of its users (sipp
// REGISTER Contact: *, Expires: 0), so that a registration left by another
// scenario cannot fork its calls, and registers fresh pages.
//
//   hold-resume        A holds B: A's #hold-button pressed + #call-hold-status,
//                      B's #call-remote-hold; the re-INVITE offers sendonly or
//                      inactive; no audio reaches the held side (inbound bytes
//                      stop growing, or energy ~0) and none comes back to A;
//                      resume: audio both ways again, flags gone
//   mute               A mutes: B's inbound audio energy (Chromium's fake
//                      microphone beeps) drops to ~0, comes back on unmute;
//                      before that, #call-quality has numeric data-rtt-ms,
//                      data-jitter-ms, data-loss-pct, data-mos (1..5) and an svg
//   dtmf-info          A (#dtmf-method=info) keys 1 2 3 # on #in-call-dialpad:
//                      B's #dtmf-received shows "123#", A sent INFOs
//   dtmf-rfc4733       the SDP offer and answer carry telephone-event; keys
//                      go to RTCDTMFSender.insertDTMF, tonechange events fire
//                      and the tone buffer drains; no INFO sent
//   dtmf-fast          ten keypad clicks 30 ms apart, then ten key presses
//                      30 ms apart: by INFO all twenty reach B in order
//                      (#dtmf-received); by RFC 4733 all twenty leave A's
//                      RTCDTMFSender in order (tonechange), none dropped
//   blind-transfer     A-B, B transfers A to C (#transfer-blind): C rings
//                      showing A, answers, audio A<->C, B idle, B's REFER got
//                      202 and NOTIFY sipfrag 200, a status was shown
//   attended-transfer  A-B, B adds a call to C (#add-call-button: A held),
//                      C answers, B #transfer-attended: A-C connected (audio),
//                      B idle
//   call-waiting       A-B, C calls A: a second li.line rings on A, answer it:
//                      B is held; swap; hang up each line
//   conference         A calls B, adds C, #conference-button: B and C active;
//                      with mute as the switch (A muted throughout): all
//                      muted -> silence, only C unmuted -> B hears energy,
//                      only B unmuted -> C hears energy
//   auto-answer        B has #auto-answer: A's call is answered without a click
//   dnd                B has #dnd-toggle on: A's call gets busy (486/600/603),
//                      B never rings
//   history            outgoing (A), incoming and missed (B) in #history with
//                      m:ss durations; .history-redial dials again
//   messages           A -> B MESSAGE: delivered on A, shown on B as text
//   presence           A watches B (contact lamp): available, busy while B
//                      is in a call, available again
//   voicemail          sipp NOTIFY message-summary through the PBX:
//                      #voicemail[data-waiting=true] with the count, then false
//   title-notification B's title "Incoming call – <name>" while ringing, a
//                      Notification when the tab is hidden; ringtone on B and
//                      ringback on A (local sounds started, their audio
//                      contexts running); after the call both contexts are
//                      suspended within 8 s, and run again for the next call
//   keyboard-a11y      Tab reaches every contract control, each has an
//                      accessible name; h m digits Enter Escape shortcuts;
//                      360 px wide: no horizontal overflow
//   codecs             (issue 16) A's #audio-codecs "PCMU": A's INVITE offers
//                      PCMU (+ telephone-event) only, the call has audio both
//                      ways and getStats shows audio/PCMU sent and received on
//                      both pages; B calls A (B offers opus first): A's answer
//                      has PCMU only, PCMU both ways again; B's codecs "G722":
//                      A's call is refused at once (488, Warning 305), B never
//                      rings and says why in #notice (caller, codecs offered),
//                      A says the other phone cannot take the audio
//   video-codecs       (issue 16) A's #video-codecs "vp9": A's video call
//                      offers VP9 (with rtx, red, ulpfec) only, and getStats
//                      shows video/VP9 sent and received on both pages; B's
//                      video call (VP8 first): A's answer has VP9 only, VP9
//                      both ways again
//   video-call         (issue 16) A presses #video-call-button: its preview
//                      shows at once; B rings with #answer-video-button and
//                      answers with it: inbound video framesDecoded grows on
//                      both pages, each remote picture (#call-video
//                      video.remote-video, drawn into a canvas) is not black
//                      and has detail, audio flows both ways; hang-up empties
//                      #call-video and stops the cameras. Again, B answers
//                      with #answer-button (no camera): B sees A's picture, A
//                      gets no video frames, audio both ways. In the first
//                      call A's #camera-button turns the camera off (B's
//                      picture goes, no frames) and on (it comes back); hold
//                      takes both pictures away, resume brings them back; in an
//                      audio call it turns the camera on: B sees A
//   video-no-camera    A's browser refuses the camera: A's video call still
//                      offers to receive video, B answers with video, A says
//                      "The camera could not be used (access to it was
//                      denied)", audio both ways, A sees B, B gets no video,
//                      A's Camera button stays off (pressed again: refused)
//   camera-choice      after a first video call (the camera allowed) A's
//                      #camera-select lists the camera; chosen and saved, the
//                      next video call sends that device; still chosen after
//   screen-share       A-B video call: A's #share-button: B's picture of A
//                      turns wide (the fake screen, 16:9, in place of the 4:3
//                      camera, no re-INVITE), A previews it; again: the camera
//                      comes back. In an audio call: sharing adds the video
//                      (B sees the screen), stopping takes it away; audio on
//   video-waiting      (issue 16) A-B video call; C calls A, A answers the
//                      waiting line: the video with B stops both ways (held);
//                      A swaps back: it flows both ways again, C waits held
//   video-transfer     (issue 16) A-B video call, B transfers A to C
//                      (#transfer-blind): A's INVITE to C offers video, C
//                      rings with #answer-video-button and answers with it:
//                      audio A<->C, video frames decoded on both, neither
//                      picture black, both previews shown, B idle
//   record             (issue 16) A-B call, A sends a 600 Hz tone and B a
//                      1400 Hz one; A presses #record-button (#call-recording
//                      shows), B records a while and stops; A hangs up (its
//                      recording stops with the call). Each History lists a
//                      stored recording (li.recording, data-bytes > 0); the
//                      stored Blob (IndexedDB) decoded by decodeAudioData has
//                      both tones on both sides; Play plays it in
//                      #recording-player; Download saves a .webm of the same
//                      size; Delete (A) and Delete recordings (B) empty the
//                      store. Then a video call recorded by B: its stored
//                      recording is video/webm and plays with a picture
//   early-media        sipp answers 183 with SDP, then 486: the page applies
//                      the provisional answer (remote description pranswer
//                      or answer) and shows no error until the 486
//
// Users: each scenario uses its own pair or trio of 1000..1009 (bindings
// cleared first); the sipp UAS of early-media registers as 1009 on
// 127.0.0.1:5091 and is removed again.
import fs from 'node:fs';
import path from 'node:path';
import { pageSendsTone } from './peer.mjs';
import {
  ART, T, sleep, step, openPage, shot, fillSettings, openSettings, phoneState, textOf, errorText,
  waitReg, waitPhone, waitText, expectNoError, user, callAndAnswer, audioBothWays, newestAudio, hangUp, sipp,
  sipHeader, visible, waitVisible, waitAttr, waitCount, energyOver, clearBindings, leavePage, sipBody, pbx,
  sdpAudioCodecs, framesOverTime, streamCodecs, sdpCodecs,
} from './lib.mjs';

const TRACE = 'features-sipp';
fs.mkdirSync(path.join(ART, TRACE), { recursive: true });

// audio power thresholds (mean of level^2 over the window): Chromium's fake
// microphone beeps (a loud tone of some tens of ms, twice a second); silence
// is exactly 0 apart from codec noise
const SOUND = 1e-4;
const SILENCE = 1e-5;

// ---------- helpers ----------

/**
 * Open one page per user, clear their PBX bindings, fill the settings (plus
 * the issue 5 fields in `extra[i]`), register all. Returns the pages.
 */
async function setup(browser, base, r, SC, people, extra = []) {
  await step('clear PBX bindings', 30000, () => clearBindings(people.map((p) => p.n), TRACE));
  const pages = [];
  r.pages = pages;
  for (const p of people) pages.push(await openPage(browser, base, SC, p.page, p.init ? { init: p.init } : {}));
  await step('fill settings', T.ui * pages.length * 2, async () => {
    for (let i = 0; i < pages.length; i++) {
      await fillSettings(pages[i].page, user(people[i].n, people[i].name));
      if (extra[i]) await extraSettings(pages[i], extra[i]);
    }
  });
  await step(`register ${pages.map((p) => p.name).join(' ')}`, T.register, async () => {
    await Promise.all(pages.map((p) => p.page.click('#save-register')));
    await Promise.all(pages.map((p) => waitReg(p.page, 'registered', T.register)));
  });
  await step('idle after register', T.ui, async () => {
    for (const p of pages) {
      await waitPhone(p.page, 'idle', T.ui);
      await expectNoError(p.page, p.name);
    }
  });
  return pages;
}

/**
 * Issue 5 settings fields: { dtmf: 'info'|'rfc4733', autoAnswer: bool }, and
 * issue 16's { codecs: '#audio-codecs text', videoCodecs: '#video-codecs text' }.
 */
async function extraSettings(P, x) {
  await openSettings(P.page);
  if (x.dtmf) {
    try {
      await P.page.selectOption('#dtmf-method', x.dtmf, { timeout: T.ui });
    } catch {
      throw new Error(`${P.name}: cannot choose ${x.dtmf} in #dtmf-method`);
    }
  }
  if (x.codecs !== undefined) {
    try {
      await P.page.fill('#audio-codecs', x.codecs, { timeout: T.ui });
    } catch {
      throw new Error(`${P.name}: cannot fill #audio-codecs`);
    }
  }
  if (x.videoCodecs !== undefined) {
    try {
      await P.page.fill('#video-codecs', x.videoCodecs, { timeout: T.ui });
    } catch {
      throw new Error(`${P.name}: cannot fill #video-codecs`);
    }
  }
  if (x.autoAnswer !== undefined) {
    try {
      await P.page.setChecked('#auto-answer', x.autoAnswer, { timeout: T.ui });
    } catch {
      throw new Error(`${P.name}: cannot set #auto-answer`);
    }
  }
  if (x.recordCalls) {
    try {
      await P.page.selectOption('#record-policy', x.recordCalls, { timeout: T.ui });
    } catch {
      throw new Error(`${P.name}: cannot choose ${x.recordCalls} in #record-policy`);
    }
  }
}

/** Click a control of the contract, with a clear error when it is missing. */
async function press(P, sel, ms = T.ui) {
  try {
    await P.page.click(sel, { timeout: ms });
  } catch (e) {
    throw new Error(`${P.name}: cannot click ${sel} (${e.message.split('\n')[0]})`);
  }
}

/** Dial `number` from the phone view. */
async function dial(P, number) {
  await P.page.fill('#dial-input', number);
  await press(P, '#call-button');
}

const pageNow = (P) => P.page.evaluate(() => performance.now());
const statesSince = (P, t) =>
  P.page.evaluate((since) => window.__probe.states.filter((s) => s.t >= since).map((s) => s.phone), t);

/** Audio reaches `P` (newest connection): bytes grow and/or energy over the window. */
async function hears(P, ms = 1500) {
  return energyOver(P.page, ms);
}

/** Audio sender tracks of a page: enabled flag, or null when the sender has no track. */
const senderTracks = (P) =>
  P.page.evaluate(() =>
    window.__pcs().flatMap((pc) => pc.getSenders().map((s) => (s.track ? s.track.enabled : null))),
  );

/** The first SIP request with this method the page sent after `since` (Date.now()). */
const sentAfter = (P, method, since = 0) =>
  P.frames.filter((f) => f.dir === '>>' && f.at >= since && f.text.startsWith(`${method} `));
const receivedAfter = (P, method, since = 0) =>
  P.frames.filter((f) => f.dir === '<<' && f.at >= since && f.text.startsWith(`${method} `));
const responsesAfter = (P, dir, cseqMethod, since = 0) =>
  P.frames.filter(
    (f) => f.dir === dir && f.at >= since && f.text.startsWith('SIP/2.0 ') && new RegExp(`\\s${cseqMethod}$`).test(sipHeader(f.text, 'CSeq') || ''),
  );
const statusOf = (f) => Number(f.text.slice(8, 11));

/**
 * What `pick` finds among the frames, waiting up to `ms` for it: the test
 * hears of a frame a little after the page has acted on it (a page shows
 * "active" before its 200 OK reaches the test). Undefined when not there.
 */
async function frameWithin(pick, ms = T.ui) {
  const end = Date.now() + ms;
  for (;;) {
    const f = pick();
    if (f || Date.now() >= end) return f;
    await sleep(50);
  }
}

/** Direction attribute of the audio m-line of an SDP (sendrecv when none). */
function sdpDirection(sdp) {
  const audio = sdp.split(/\r?\nm=/).find((s) => s.startsWith('audio') || s.startsWith('m=audio')) || sdp;
  const m = /\r?\na=(sendrecv|sendonly|recvonly|inactive)/.exec(audio);
  return m ? m[1] : 'sendrecv';
}

// ---------- scenarios ----------

async function holdResume(browser, base, r) {
  const SC = 'hold-resume';
  const [A, B] = await setup(browser, base, r, SC, [{ n: 1000, name: 'Alice', page: 'A' }, { n: 1001, name: 'Bob', page: 'B' }]);
  r.screenshots.push(await shot(A.page, SC, 'idle-A'));
  await callAndAnswer(A, B, '1001');
  await step('audio both ways', T.media, () => audioBothWays([A, B]));
  r.screenshots.push(await shot(A.page, SC, 'in-call-A'));

  const holdTop = () => A.page.evaluate(() => Math.round(document.getElementById('hold-button').getBoundingClientRect().top));
  r.hold_button_top = [await holdTop()];
  const holdAt = Date.now();
  await press(A, '#hold-button');
  await step('both ends show the hold', T.answer, async () => {
    await waitAttr(A.page, '#hold-button', 'aria-pressed', 'true', T.answer, 'A');
    await waitText(A.page, '#call-hold-status', /on hold/i, T.answer, 'A');
    await waitVisible(B.page, '#call-remote-hold', T.answer, 'B');
  });
  r.hold_shown_ms = Date.now() - holdAt;
  // the pressed Resume button under the pointer stays readable (issue 14:
  // the hover colours once made it white on light grey, 1.23:1), and the
  // hold shows once, without moving the controls
  r.hold_button_top.push(await holdTop());
  if (r.hold_button_top[0] !== r.hold_button_top[1]) throw new Error(`A: the hold moved the controls (${r.hold_button_top.join(' -> ')} px)`);
  await A.page.hover('#hold-button');
  await sleep(100);
  r.pressed_hover_contrast = await A.page.evaluate(() => {
    const el = document.getElementById('hold-button');
    const cs = getComputedStyle(el);
    const rgb = (c) => (c.match(/[\d.]+/g) || []).slice(0, 3).map(Number);
    const lum = ([r, g, b]) => {
      const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    // the filter (brightness) is left out: it brightens both alike
    const [a, b] = [lum(rgb(cs.color)), lum(rgb(cs.backgroundColor))];
    return Math.round(((Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)) * 100) / 100;
  });
  await A.page.mouse.move(0, 0);
  if (!(r.pressed_hover_contrast >= 4.5)) throw new Error(`A: the pressed #hold-button under the pointer has contrast ${r.pressed_hover_contrast}:1`);
  r.on_hold_texts_A = await A.page.evaluate(() => (document.getElementById('in-call').textContent.match(/on hold/gi) || []).length);
  if (r.on_hold_texts_A !== 1) throw new Error(`A: "On hold" shows ${r.on_hold_texts_A} times`);
  const reinvite = sentAfter(A, 'INVITE', holdAt)[0];
  r.hold_offer_direction = reinvite ? sdpDirection(sipBody(reinvite.text)) : null;
  r.line_state_A = await A.page.getAttribute('#lines li.line', 'data-state').catch(() => null);
  r.screenshots.push(await shot(A.page, SC, 'on-hold-A'));
  r.screenshots.push(await shot(B.page, SC, 'on-hold-B'));
  await sleep(1000); // let the media direction settle and the jitter buffers drain
  const [heldB, heldA] = await Promise.all([hears(B, 2000), hears(A, 2000)]);
  r.sender_tracks_A_while_holding = await senderTracks(A);
  r.transceivers_A_while_holding = await A.page.evaluate(() =>
    window.__pcs().flatMap((pc) => pc.getTransceivers().map((t) => `${t.direction}/${t.currentDirection}`)),
  );
  r.while_held = { B: heldB, A: heldA };
  const problems = [];
  if (!['sendonly', 'inactive'].includes(r.hold_offer_direction)) problems.push(`A's hold re-INVITE offers ${r.hold_offer_direction}, want sendonly|inactive`);
  if (heldB.bytes > 0 && heldB.power > SILENCE) problems.push(`the held side B still hears A (${JSON.stringify(heldB)})`);
  if (heldA.bytes > 0 && heldA.power > SILENCE) problems.push(`A still hears B while holding (${JSON.stringify(heldA)})`);

  const resumeAt = Date.now();
  await press(A, '#hold-button');
  await step('hold flags cleared', T.answer, async () => {
    await waitAttr(A.page, '#hold-button', 'aria-pressed', 'false', T.answer, 'A');
    await B.page.waitForSelector('#call-remote-hold', { state: 'hidden', timeout: T.answer });
    const t = await textOf(A.page, '#call-hold-status');
    if (t && /on hold/i.test(t) && (await visible(A.page, '#call-hold-status'))) throw new Error(`A: #call-hold-status still "${t}"`);
  });
  r.resume_ms = Date.now() - resumeAt;
  const after = await Promise.all([hears(A, 2000), hears(B, 2000)]);
  r.after_resume = { A: after[0], B: after[1] };
  for (const [who, x] of [['A', after[0]], ['B', after[1]]]) {
    if (!(x.bytes > 0 && x.power > SOUND)) problems.push(`${who} hears nothing after the resume (${JSON.stringify(x)})`);
  }
  await hangUp(A, B);
  if (problems.length) throw new Error(problems.join('; '));
}

async function mute(browser, base, r) {
  const SC = 'mute';
  const [A, B] = await setup(browser, base, r, SC, [{ n: 1002, name: 'Carol', page: 'A' }, { n: 1003, name: 'Dave', page: 'B' }]);
  await callAndAnswer(A, B, '1003');
  await step('audio both ways', T.media, () => audioBothWays([A, B]));
  await sleep(500);
  r.before = await hears(B, 2000);
  // the call quality figures (polled every second by the page)
  r.quality = await A.page.evaluate(() => {
    const q = document.getElementById('call-quality');
    if (!q) return null;
    const n = (a) => (q.getAttribute(a) === null || q.getAttribute(a) === '' ? null : Number(q.getAttribute(a)));
    return { rtt: n('data-rtt-ms'), jitter: n('data-jitter-ms'), loss: n('data-loss-pct'), mos: n('data-mos'), svg: !!q.querySelector('svg') };
  });
  const q = r.quality;
  if (!q || !q.svg || ![q.rtt, q.jitter, q.loss].every((x) => Number.isFinite(x) && x >= 0) || !(q.mos >= 1 && q.mos <= 5)) {
    throw new Error(`A: #call-quality figures missing or out of range: ${JSON.stringify(q)}`);
  }
  if (!(r.before.power > SOUND)) throw new Error(`B hears no sound from A before the mute: ${JSON.stringify(r.before)}`);
  await press(A, '#mute-button');
  await waitAttr(A.page, '#mute-button', 'aria-pressed', 'true', T.ui, 'A');
  await sleep(800); // the sound already on its way drains from B's jitter buffer
  r.muted = await hears(B, 2000);
  r.sender_tracks_enabled_while_muted = await senderTracks(A);
  r.screenshots.push(await shot(A.page, SC, 'muted-A'));
  await press(A, '#mute-button');
  await waitAttr(A.page, '#mute-button', 'aria-pressed', 'false', T.ui, 'A');
  await sleep(300);
  r.unmuted = await hears(B, 2000);
  // mute must not be a hold: no re-INVITE needed, the call stays up
  r.phone_A = await phoneState(A.page);
  await hangUp(A, B);
  if (!(r.muted.power < SILENCE)) throw new Error(`B still hears A while A is muted: ${JSON.stringify(r.muted)}`);
  if (!(r.unmuted.power > SOUND)) throw new Error(`B hears nothing after the unmute: ${JSON.stringify(r.unmuted)}`);
}

/** Open the in-call dialpad and key `digits`. */
async function keyDigits(P, digits) {
  if (!(await visible(P.page, '#in-call-dialpad'))) {
    await press(P, '#dtmf-button');
    await waitVisible(P.page, '#in-call-dialpad', T.ui, P.name);
  }
  for (const d of digits) {
    await press(P, `#in-call-dialpad button[data-digit="${d}"]`);
    await sleep(250); // a person's pace; RFC 4733 tones last ~100 ms + gap
  }
}

/** Erin (A, tones by SIP INFO) calls Frank (B), who answers: the start of the INFO scenarios. */
async function infoCall(browser, base, r, SC) {
  const [A, B] = await setup(
    browser, base, r, SC,
    [{ n: 1004, name: 'Erin', page: 'A' }, { n: 1005, name: 'Frank', page: 'B' }],
    [{ dtmf: 'info' }],
  );
  await callAndAnswer(A, B, '1005');
  return [A, B];
}

async function dtmfInfo(browser, base, r) {
  const SC = 'dtmf-info';
  const [A, B] = await infoCall(browser, base, r, SC);
  const t0 = Date.now();
  await keyDigits(A, '123#');
  await waitText(B.page, '#dtmf-received', /123#/, T.answer, 'B');
  r.dtmf_received_B = await textOf(B.page, '#dtmf-received');
  const infos = sentAfter(A, 'INFO', t0);
  r.info_sent = infos.map((f) => `${sipHeader(f.text, 'Content-Type')}: ${sipBody(f.text).trim().replace(/\r\n/g, ' ')}`);
  r.info_answers = responsesAfter(A, '<<', 'INFO', t0).map(statusOf);
  r.screenshots.push(await shot(B.page, SC, 'received-B'));
  await hangUp(A, B);
  if (infos.length < 4) throw new Error(`A sent ${infos.length} INFO request(s) for 4 digits`);
}

async function dtmfRfc4733(browser, base, r) {
  const SC = 'dtmf-rfc4733';
  const [A, B] = await setup(
    browser, base, r, SC,
    [{ n: 1006, name: 'Gina', page: 'A' }, { n: 1007, name: 'Hugo', page: 'B' }],
    [{ dtmf: 'rfc4733' }],
  );
  const t0 = Date.now();
  await callAndAnswer(A, B, '1007');
  const offer = sentAfter(A, 'INVITE', t0)[0];
  const answer = responsesAfter(A, '<<', 'INVITE', t0).find((f) => statusOf(f) === 200);
  r.offer_telephone_event = !!offer && /a=rtpmap:\d+ telephone-event\/8000/i.test(sipBody(offer.text));
  r.answer_telephone_event = !!answer && /a=rtpmap:\d+ telephone-event\/8000/i.test(sipBody(answer.text));
  if (!r.offer_telephone_event || !r.answer_telephone_event) {
    throw new Error(`telephone-event not negotiated: offer ${r.offer_telephone_event}, answer ${r.answer_telephone_event}`);
  }
  const k0 = Date.now();
  await keyDigits(A, '159');
  await step('tones played and buffer drained', 5000, async () => {
    await A.page.waitForFunction(
      () => {
        const d = window.__probe.dtmf;
        const tones = d.tones.map((x) => x.tone).join(',');
        return /1.*5.*9/.test(tones) && d.tones.length > 0 && d.tones[d.tones.length - 1].tone === '' && !d.buffer();
      },
      null,
      { timeout: 5000, polling: 50 },
    ).catch(async () => {
      const d = await A.page.evaluate(() => ({ inserted: window.__probe.dtmf.inserted, tones: window.__probe.dtmf.tones.map((x) => x.tone), buffer: window.__probe.dtmf.buffer() }));
      throw new Error(`DTMF sender: ${JSON.stringify(d)}`);
    });
  });
  const d = await A.page.evaluate(() => ({ inserted: window.__probe.dtmf.inserted, tones: window.__probe.dtmf.tones.map((x) => x.tone) }));
  r.inserted = d.inserted;
  r.tonechange = d.tones;
  r.info_sent = sentAfter(A, 'INFO', k0).length;
  await hangUp(A, B);
  if (r.info_sent) throw new Error(`A sent ${r.info_sent} INFO request(s) although the method is rfc4733`);
}

/**
 * The video of the newest peer connection and of the call panel: inbound
 * video framesDecoded, and the remote picture and the preview as shown
 * (size, mean and spread of the luminance of a canvas copy).
 */
const videoState = (P) =>
  P.page.evaluate(async () => {
    const pc = window.__pcs().at(-1);
    let frames = 0;
    if (pc) {
      (await pc.getStats()).forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video') frames += s.framesDecoded || 0;
      });
    }
    const picture = (sel) => {
      const v = document.querySelector(sel);
      if (!v || !v.hasAttribute('data-live') || !v.videoWidth) return null;
      const c = document.createElement('canvas');
      c.width = 64;
      c.height = 48;
      const g = c.getContext('2d');
      g.drawImage(v, 0, 0, c.width, c.height);
      const d = g.getImageData(0, 0, c.width, c.height).data;
      let sum = 0;
      let sq = 0;
      const n = d.length / 4;
      for (let i = 0; i < d.length; i += 4) {
        const y = 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2];
        sum += y;
        sq += y * y;
      }
      const mean = sum / n;
      const shown = v.getBoundingClientRect();
      return { w: v.videoWidth, h: v.videoHeight, mean: Math.round(mean), spread: Math.round(Math.sqrt(Math.max(0, sq / n - mean * mean))), shown_px: Math.round(shown.width) };
    };
    return {
      frames,
      remote: picture('#call-video video.remote-video'),
      preview: picture('#call-video video.local-video'),
      boxes: document.querySelectorAll('#call-video .video-box').length,
    };
  });

/** Wait until `P` has decoded more than `n` video frames; returns its videoState. */
async function framesOver(P, n, ms) {
  const end = Date.now() + ms;
  let s = null;
  while (Date.now() < end) {
    s = await videoState(P);
    if (s.frames > n) return s;
    await sleep(200);
  }
  throw new Error(`${P.name}: ${s ? s.frames : 0} video frames decoded within ${ms} ms, want more than ${n}`);
}

const notBlack = (pic) => pic && pic.w > 0 && (pic.mean > 16 || pic.spread > 8);

/** Video calls of issue 16: with the camera on both sides, then one. */
async function videoCall(browser, base, r) {
  const SC = 'video-call';
  const [A, B] = await setup(
    browser, base, r, SC,
    [{ n: 1002, name: 'Vera', page: 'A' }, { n: 1003, name: 'Walt', page: 'B' }],
  );
  // 1. both cameras
  await step('A: video call to 1003', T.ui, async () => {
    await A.page.fill('#dial-input', '1003');
    await press(A, '#video-call-button');
  });
  await step('B rings with a video answer', T.ring, async () => {
    await waitPhone(B.page, 'incoming', T.ring);
    await waitVisible(B.page, '#answer-video-button', T.ring, 'B');
  });
  r.preview_A_calling = (await videoState(A)).preview;
  r.screenshots.push(await shot(A.page, SC, 'calling-A'));
  await press(B, '#answer-video-button');
  await step('both active', T.answer, () => Promise.all([waitPhone(A.page, 'active', T.answer), waitPhone(B.page, 'active', T.answer)]));
  await step('audio both ways', T.media, () => audioBothWays([A, B]));
  const a = await step('A decodes video', T.media * 2, () => framesOver(A, 30, T.media * 2));
  const b = await step('B decodes video', T.media * 2, () => framesOver(B, 30, T.media * 2));
  await sleep(300);
  r.A = await videoState(A);
  r.B = await videoState(B);
  r.notice_A = await textOf(A.page, '#notice');
  r.screenshots.push(await shot(A.page, SC, 'in-call-A'));
  // A's camera off: B's picture goes (a re-INVITE); on again: it comes back
  const liveOnB = () => B.page.evaluate(() => !!document.querySelector('#call-video video.remote-video[data-live]'));
  await press(A, '#camera-button');
  await step('A: camera off, B\'s picture of A goes', T.answer, async () => {
    await waitAttr(A.page, '#camera-button', 'aria-pressed', 'false', T.answer, 'A');
    await B.page.waitForFunction(() => !document.querySelector('#call-video video.remote-video[data-live]'), null, { timeout: T.answer, polling: 50 });
  });
  const off0 = (await videoState(B)).frames;
  await sleep(1000);
  r.camera_off = { B_frames_in_1s: (await videoState(B)).frames - off0, A_preview: (await videoState(A)).preview };
  await press(A, '#camera-button');
  await step('A: camera on, B sees A again', T.media * 2, async () => {
    await waitAttr(A.page, '#camera-button', 'aria-pressed', 'true', T.answer, 'A');
    await B.page.waitForFunction(() => !!document.querySelector('#call-video video.remote-video[data-live]'), null, { timeout: T.media * 2, polling: 50 });
    await framesOver(B, (await videoState(B)).frames + 10, T.media * 2);
  });
  r.camera_on_again = { B: (await videoState(B)).remote, live: await liveOnB() };
  // hold: both pictures go (nothing is sent either way); resume: they come back
  await press(A, '#hold-button');
  await step('A holds: the pictures go', T.answer, async () => {
    await waitAttr(A.page, '#hold-button', 'aria-pressed', 'true', T.answer, 'A');
    await B.page.waitForFunction(() => !document.querySelector('#call-video video.remote-video[data-live]'), null, { timeout: T.answer, polling: 50 });
    await A.page.waitForFunction(() => !document.querySelector('#call-video video.remote-video[data-live]'), null, { timeout: T.answer, polling: 50 });
  });
  await press(A, '#hold-button');
  await step('A resumes: both pictures come back', T.media * 2, async () => {
    await waitAttr(A.page, '#hold-button', 'aria-pressed', 'false', T.answer, 'A');
    await framesOver(A, (await videoState(A)).frames + 10, T.media * 2);
    await framesOver(B, (await videoState(B)).frames + 10, T.media * 2);
  });
  r.resumed = { A: (await videoState(A)).remote, B: (await videoState(B)).remote };
  if (!notBlack(r.resumed.A) || !notBlack(r.resumed.B)) throw new Error(`the pictures after the resume: ${JSON.stringify(r.resumed)}`);
  if (r.camera_off.B_frames_in_1s > 2) throw new Error(`B still decodes A's video with A's camera off: ${r.camera_off.B_frames_in_1s} frames in 1 s`);
  if (r.camera_off.A_preview) throw new Error(`A's preview stays with its camera off: ${JSON.stringify(r.camera_off.A_preview)}`);
  if (!notBlack(r.camera_on_again.B)) throw new Error(`B's picture of A after the camera came back: ${JSON.stringify(r.camera_on_again.B)}`);
  r.screenshots.push(await shot(B.page, SC, 'in-call-B'));
  // the camera tracks, to see them stopped after the hang-up
  const keepCamera = () => {
    const v = document.querySelector('#call-video video.local-video');
    window.__camera = v && v.srcObject ? v.srcObject.getVideoTracks() : [];
    return window.__camera.length;
  };
  r.camera_tracks = await Promise.all([A, B].map((P) => P.page.evaluate(keepCamera)));
  await hangUp(A, B);
  await sleep(300);
  r.after = { A: await videoState(A), B: await videoState(B) };
  r.cameras_live_after = await Promise.all([A, B].map((P) => P.page.evaluate(() => window.__camera.filter((t) => t.readyState === 'live').length)));
  for (const [name, s] of [['A', r.A], ['B', r.B]]) {
    if (!notBlack(s.remote)) throw new Error(`${name}: the other side's picture is black or missing: ${JSON.stringify(s.remote)}`);
    if (!notBlack(s.preview)) throw new Error(`${name}: no preview of its own camera: ${JSON.stringify(s.preview)}`);
    if (!(s.remote.shown_px > s.preview.shown_px)) throw new Error(`${name}: the other side's picture (${s.remote.shown_px} px) is not larger than the preview (${s.preview.shown_px} px)`);
  }
  if (/without video/.test(r.notice_A || '')) throw new Error(`A says ${JSON.stringify(r.notice_A)} although B answered with video`);
  if (!notBlack(r.preview_A_calling)) throw new Error(`A: no preview while calling: ${JSON.stringify(r.preview_A_calling)}`);
  if (r.after.A.boxes || r.after.B.boxes) throw new Error(`a video box is left after the hang-up: ${JSON.stringify(r.after)}`);
  if (r.camera_tracks.some((n) => n !== 1) || r.cameras_live_after.some((n) => n)) {
    throw new Error(`camera tracks in the call ${JSON.stringify(r.camera_tracks)}, still live after the hang-up ${JSON.stringify(r.cameras_live_after)}`);
  }
  r.frames = { A: a.frames, B: b.frames };

  // 2. B answers without its camera: it sees A, A sees nothing
  await step('A: video call again', T.ui, async () => {
    await A.page.fill('#dial-input', '1003');
    await press(A, '#video-call-button');
  });
  await step('B rings', T.ring, () => waitPhone(B.page, 'incoming', T.ring));
  await press(B, '#answer-button');
  await step('both active (B without camera)', T.answer, () => Promise.all([waitPhone(A.page, 'active', T.answer), waitPhone(B.page, 'active', T.answer)]));
  await step('audio both ways (B without camera)', T.media, () => audioBothWays([A, B]));
  await step('B decodes A\'s video', T.media * 2, () => framesOver(B, 30, T.media * 2));
  await sleep(1000);
  r.one_way = { A: await videoState(A), B: await videoState(B) };
  await hangUp(A, B);
  if (!notBlack(r.one_way.B.remote)) throw new Error(`B (no camera) does not see A: ${JSON.stringify(r.one_way.B.remote)}`);
  if (r.one_way.B.preview) throw new Error(`B answered without its camera but previews one: ${JSON.stringify(r.one_way.B.preview)}`);
  if (r.one_way.A.frames > 0 || r.one_way.A.remote) throw new Error(`A got video from B, who answered without a camera: ${JSON.stringify(r.one_way.A)}`);

  // 3. an audio call: A turns its camera on (a re-INVITE adds video), B sees A
  await callAndAnswer(A, B, '1003');
  await step('audio both ways (audio call)', T.media, () => audioBothWays([A, B]));
  if ((await videoState(B)).remote) throw new Error('B shows a picture in an audio call');
  await press(A, '#camera-button');
  await step('A: camera on in an audio call, B sees A', T.media * 2, () => framesOver(B, 20, T.media * 2));
  await sleep(300);
  r.added = { B: (await videoState(B)).remote, A_preview: (await videoState(A)).preview };
  await step('audio both ways still', T.media, () => audioBothWays([A, B]));
  await hangUp(A, B);
  if (!notBlack(r.added.B)) throw new Error(`B's picture of A after A turned its camera on: ${JSON.stringify(r.added.B)}`);
  if (!notBlack(r.added.A_preview)) throw new Error(`A has no preview after turning its camera on: ${JSON.stringify(r.added.A_preview)}`);
}

/** The camera of the settings: listed, chosen, used, remembered. */
async function cameraChoice(browser, base, r) {
  const SC = 'camera-choice';
  const [A, B] = await setup(browser, base, r, SC, [{ n: 1006, name: 'Gina', page: 'A' }, { n: 1007, name: 'Hugo', page: 'B' }]);
  // a first video call: the browser lets the page see its cameras after
  await step('A: a video call (the camera allowed)', T.ring, async () => {
    await A.page.fill('#dial-input', '1007');
    await press(A, '#video-call-button');
    await waitPhone(B.page, 'incoming', T.ring);
  });
  await press(B, '#answer-button');
  await step('active', T.answer, () => waitPhone(A.page, 'active', T.answer));
  await hangUp(A, B);
  await openSettings(A.page);
  const cams = await step('A: cameras listed in #camera-select', 8000, async () => {
    for (let i = 0; i < 40; i++) {
      const o = await A.page.evaluate(() => [...document.querySelectorAll('#camera-select option')].map((e) => ({ v: e.value, t: e.textContent })));
      if (o.some((c) => c.v)) return o;
      await sleep(200);
    }
    throw new Error('A: no camera in #camera-select');
  });
  r.cameras = cams;
  const cam = cams.filter((c) => c.v).at(-1);
  await A.page.selectOption('#camera-select', cam.v);
  r.screenshots.push(await shot(A.page, SC, 'settings-A'));
  await press(A, '#save-register');
  await waitReg(A.page, 'registered', T.register);
  await step('A: video call with the chosen camera', T.ring, async () => {
    await A.page.fill('#dial-input', '1007');
    await press(A, '#video-call-button');
    await waitPhone(B.page, 'incoming', T.ring);
  });
  await press(B, '#answer-video-button');
  await step('active', T.answer, () => waitPhone(A.page, 'active', T.answer));
  await step('B sees A', T.media * 2, () => framesOver(B, 10, T.media * 2));
  r.sent = await A.page.evaluate(() =>
    window.__pcs().at(-1).getSenders().filter((s) => s.track && s.track.kind === 'video').map((s) => ({ label: s.track.label, deviceId: s.track.getSettings().deviceId })));
  await hangUp(A, B);
  await openSettings(A.page);
  r.remembered = await A.page.evaluate(() => document.getElementById('camera-select').value);
  if (!r.sent.length || r.sent[0].deviceId !== cam.v) throw new Error(`A sends ${JSON.stringify(r.sent)}, want the camera ${JSON.stringify(cam)}`);
  if (r.remembered !== cam.v) throw new Error(`#camera-select shows ${JSON.stringify(r.remembered)} after the call, want ${cam.v}`);
}

/** The shape of a picture: wide (a screen, 16:9) or not (the camera, 4:3). */
const wide = (pic) => !!pic && pic.w / pic.h > 1.5;

/** Wait until B's picture of A is (or is not) wide; returns it. */
async function pictureWide(P, want, ms) {
  const end = Date.now() + ms;
  let s = null;
  while (Date.now() < end) {
    s = await videoState(P);
    if (s.remote && wide(s.remote) === want) return s.remote;
    await sleep(100);
  }
  throw new Error(`${P.name}: the picture is ${JSON.stringify(s && s.remote)}, want ${want ? 'a wide screen' : 'the camera (4:3)'}`);
}

/** Screen sharing (issue 16): in place of the camera, and added to an audio call. */
async function screenShare(browser, base, r) {
  const SC = 'screen-share';
  const [A, B] = await setup(browser, base, r, SC, [{ n: 1000, name: 'Alice', page: 'A' }, { n: 1001, name: 'Bob', page: 'B' }]);
  // 1. a video call: the camera, the screen in its place, the camera again
  await step('A: video call', T.ring, async () => {
    await A.page.fill('#dial-input', '1001');
    await press(A, '#video-call-button');
    await waitPhone(B.page, 'incoming', T.ring);
  });
  await press(B, '#answer-video-button');
  await step('active', T.answer, () => waitPhone(A.page, 'active', T.answer));
  await step('B sees A\'s camera', T.media * 2, () => framesOver(B, 10, T.media * 2));
  r.camera = await pictureWide(B, false, T.media);
  const invites0 = sentAfter(A, 'INVITE').length;
  await press(A, '#share-button');
  await waitAttr(A.page, '#share-button', 'aria-pressed', 'true', T.ui, 'A');
  r.screen = await step('B sees A\'s screen', T.media * 2, () => pictureWide(B, true, T.media * 2));
  r.screen_preview_A = (await videoState(A)).preview;
  r.screenshots.push(await shot(B.page, SC, 'screen-B'));
  r.reinvites_for_share = sentAfter(A, 'INVITE').length - invites0;
  await press(A, '#share-button');
  await waitAttr(A.page, '#share-button', 'aria-pressed', 'false', T.ui, 'A');
  r.camera_again = await step('B sees A\'s camera again', T.media * 2, () => pictureWide(B, false, T.media * 2));
  await hangUp(A, B);
  // 2. an audio call: sharing adds the video stream (a re-INVITE), stopping takes it away
  await callAndAnswer(A, B, '1001');
  await press(A, '#share-button');
  r.screen_in_audio_call = await step('B sees A\'s screen (audio call)', T.media * 2, () => pictureWide(B, true, T.media * 2));
  await press(A, '#share-button');
  await step('B\'s picture goes', T.answer, () =>
    B.page.waitForFunction(() => !document.querySelector('#call-video video.remote-video[data-live]'), null, { timeout: T.answer, polling: 50 }));
  await step('audio both ways', T.media, () => audioBothWays([A, B]));
  await hangUp(A, B);
  if (!wide(r.screen_preview_A)) throw new Error(`A's preview while sharing is ${JSON.stringify(r.screen_preview_A)}, want the screen`);
  if (r.reinvites_for_share !== 0) throw new Error(`sharing in place of the camera sent ${r.reinvites_for_share} re-INVITE(s), want none (the track is replaced)`);
  if (!notBlack(r.screen) || !notBlack(r.camera_again)) throw new Error(`B's pictures: ${JSON.stringify({ screen: r.screen, camera: r.camera_again })}`);
}

/** P transfers its call to `number` (Transfer, the number, Blind transfer). */
async function transferBlind(P, number) {
  await press(P, '#transfer-button');
  await waitVisible(P.page, '#transfer-form', T.ui, P.name);
  await P.page.fill('#transfer-target', number);
  await press(P, '#transfer-blind');
}

/** `from` video-calls `number` (the page `to`), which answers with its camera: both active. */
async function videoCallAnswered(from, to, number) {
  await step(`${from.name}: video call to ${to.name}, answered with video`, T.ring + T.answer, async () => {
    await from.page.fill('#dial-input', number);
    await press(from, '#video-call-button');
    await waitPhone(to.page, 'incoming', T.ring);
    await press(to, '#answer-video-button');
    await Promise.all([waitPhone(from.page, 'active', T.answer), waitPhone(to.page, 'active', T.answer)]);
  });
}

/** Video through call waiting (issue 16): held with the line, back with the swap. */
async function videoWaiting(browser, base, r) {
  const SC = 'video-waiting';
  const [A, B, C] = await setup(browser, base, r, SC, [
    { n: 1004, name: 'Ada', page: 'A' }, { n: 1005, name: 'Ben', page: 'B' }, { n: 1006, name: 'Cyd', page: 'C' },
  ]);
  await videoCallAnswered(A, B, '1005');
  // A's first connection is the call with B; B has only that one
  const AB = [[A, 0], [B, 0]];
  await step('video both ways', T.media * 2, async () => {
    const end = Date.now() + T.media * 2;
    while (Date.now() < end) {
      r.frames_before = await framesOverTime(AB, 1000);
      if (r.frames_before.every((n) => n > 0)) return;
    }
    throw new Error(`no video both ways: ${JSON.stringify(r.frames_before)}`);
  });
  await step('C calls A: a second line rings', T.ring, async () => {
    await C.page.fill('#dial-input', '1004');
    await press(C, '#call-button');
    await waitCount(A.page, '#lines li.line[data-state="incoming"]', 1, T.ring, 'A');
  });
  await press(A, '#lines li.line[data-state="incoming"] .line-answer');
  await step('A with C, B held', T.answer, async () => {
    await waitPhone(C.page, 'active', T.answer);
    await waitCount(A.page, '#lines li.line[data-state="held"]', 1, T.answer, 'A');
  });
  await sleep(1500); // frames already on their way
  r.frames_held = await framesOverTime(AB, 2000);
  r.screenshots.push(await shot(A.page, SC, 'with-C-B-held-A'));
  await press(A, '#lines li.line[data-state="held"] .line-swap');
  await step('back with B: video both ways again', T.media * 2, async () => {
    const end = Date.now() + T.media * 2;
    while (Date.now() < end) {
      r.frames_back = await framesOverTime(AB, 1000);
      if (r.frames_back.every((n) => n > 0)) return;
    }
    throw new Error(`the video did not come back both ways: ${JSON.stringify(r.frames_back)}`);
  });
  r.screenshots.push(await shot(A.page, SC, 'back-with-B-A'));
  await press(A, '#lines li.line[data-state="held"] .line-hangup');
  await step('C hung up', T.hangup, () => waitPhone(C.page, 'idle', T.hangup));
  await hangUp(A, B);
  if (r.frames_held.some((n) => n > 5)) throw new Error(`video went on while B's call was held: ${JSON.stringify(r.frames_held)}`);
}

/**
 * Press `button` on P and take the download it starts: { name, bytes }. In
 * Chromium the browser's own download, saved and measured; Firefox over
 * WebDriver BiDi reports no download, so there the page's download link is
 * taken as it is clicked and its file fetched in the page.
 */
async function downloadOf(P, button) {
  if (P.kind !== 'firefox') {
    const [dl] = await Promise.all([P.page.waitForEvent('download', { timeout: T.media }), press(P, button)]);
    const file = path.join(ART, `download-${P.name}-${dl.suggestedFilename()}`);
    await dl.saveAs(file);
    const got = { name: dl.suggestedFilename(), bytes: fs.statSync(file).size };
    fs.unlinkSync(file);
    return got;
  }
  await P.page.evaluate(() => {
    // the page's CSP lets it fetch no blob: address, so the blobs are
    // noted as their addresses are made, and the clicked link's looked up
    window.__download = null;
    const blobs = new Map();
    const make = URL.createObjectURL;
    URL.createObjectURL = (b) => {
      const url = make.call(URL, b);
      blobs.set(url, b);
      return url;
    };
    const click = HTMLElement.prototype.click;
    HTMLElement.prototype.click = function () {
      if (this instanceof HTMLAnchorElement && this.hasAttribute('download')) {
        const blob = blobs.get(this.href);
        window.__download = { name: this.getAttribute('download'), bytes: blob ? blob.size : -1, known: !!blob };
        HTMLElement.prototype.click = click;
        URL.createObjectURL = make;
        return;
      }
      click.call(this);
    };
  });
  await press(P, button);
  await P.page.waitForFunction(() => window.__download, null, { timeout: T.media, polling: 50 });
  return P.page.evaluate(() => window.__download);
}

/** Video through a transfer (issue 16): the transferred call keeps the camera. */
async function videoTransfer(browser, base, r) {
  const SC = 'video-transfer';
  const [A, B, C] = await setup(browser, base, r, SC, [
    { n: 1002, name: 'Ada', page: 'A' }, { n: 1003, name: 'Ben', page: 'B' }, { n: 1006, name: 'Cyd', page: 'C' },
  ]);
  await videoCallAnswered(A, B, '1003');
  await step('A decodes B\'s video', T.media * 2, () => framesOver(A, 10, T.media * 2));
  const t0 = Date.now();
  await transferBlind(B, '1006');
  await step('C rings with a video answer', T.ring, async () => {
    await waitPhone(C.page, 'incoming', T.ring);
    await waitVisible(C.page, '#answer-video-button', T.ring, 'C');
  });
  r.screenshots.push(await shot(C.page, SC, 'ringing-C'));
  await press(C, '#answer-video-button');
  await step('A and C active, B idle', T.answer * 2, () =>
    Promise.all([waitPhone(A.page, 'active', T.answer), waitPhone(C.page, 'active', T.answer), waitPhone(B.page, 'idle', T.answer * 2)]));
  // A's offer to C (its newest INVITE) had video
  r.offer_A_to_C_video = sentAfter(A, 'INVITE', t0).some((f) => /\r?\nm=video [1-9]/.test(f.text));
  await step('audio A-C', T.media, () => audioBothWays([A, C]));
  await step('A decodes C\'s video', T.media * 2, () => framesOver(A, 30, T.media * 2));
  await step('C decodes A\'s video', T.media * 2, () => framesOver(C, 30, T.media * 2));
  await sleep(300);
  r.A = await videoState(A);
  r.C = await videoState(C);
  r.screenshots.push(await shot(A.page, SC, 'with-C-A'));
  r.screenshots.push(await shot(C.page, SC, 'with-A-C'));
  await hangUp(A, C);
  if (!r.offer_A_to_C_video) throw new Error('A\'s INVITE to C offered no video');
  for (const [name, s] of [['A', r.A], ['C', r.C]]) {
    if (!notBlack(s.remote)) throw new Error(`${name}: the other side's picture is black or missing: ${JSON.stringify(s.remote)}`);
    if (!notBlack(s.preview)) throw new Error(`${name}: no preview of its own camera: ${JSON.stringify(s.preview)}`);
  }
}

/** In the page: the stored recordings (IndexedDB), each { id, type, size }. */
const storedRecordings = (P) =>
  P.page.evaluate(async () => {
    const dbs = await indexedDB.databases();
    if (!dbs.some((d) => d.name === 'softphone-recordings')) return [];
    const db = await new Promise((res, rej) => {
      const q = indexedDB.open('softphone-recordings');
      q.onsuccess = () => res(q.result);
      q.onerror = () => rej(q.error);
    });
    const all = await new Promise((res, rej) => {
      const t = db.transaction('recordings');
      const keys = t.objectStore('recordings').getAllKeys();
      const vals = t.objectStore('recordings').getAll();
      t.oncomplete = () => res(keys.result.map((id, i) => ({ id, type: vals.result[i].type, size: vals.result[i].size })));
      t.onerror = () => rej(t.error);
    });
    db.close();
    return all;
  });

/**
 * In the page: recording `id` decoded (decodeAudioData), and the power of
 * each of `freqs` (Goertzel, over the middle second of channel 0) against
 * the strongest of some frequencies where no tone is.
 */
const recordedTones = (P, id, freqs) =>
  P.page.evaluate(async ({ id, freqs }) => {
    const db = await new Promise((res, rej) => {
      const q = indexedDB.open('softphone-recordings');
      q.onsuccess = () => res(q.result);
      q.onerror = () => rej(q.error);
    });
    const blob = await new Promise((res, rej) => {
      const q = db.transaction('recordings').objectStore('recordings').get(id);
      q.onsuccess = () => res(q.result);
      q.onerror = () => rej(q.error);
    });
    db.close();
    const audio = await new OfflineAudioContext(1, 48000, 48000).decodeAudioData(await blob.arrayBuffer());
    const x = audio.getChannelData(0);
    const mid = Math.floor(x.length / 2);
    const w = x.subarray(Math.max(0, mid - 24000), Math.min(x.length, mid + 24000));
    const power = (hz) => {
      const k = (2 * Math.PI * hz) / audio.sampleRate;
      let re = 0;
      let im = 0;
      for (let i = 0; i < w.length; i++) {
        re += w[i] * Math.cos(k * i);
        im += w[i] * Math.sin(k * i);
      }
      return (re * re + im * im) / (w.length * w.length);
    };
    const noise = Math.max(...[350, 1000, 1900, 2700].map(power));
    return { seconds: Math.round(audio.duration * 10) / 10, tones: freqs.map(power), noise };
  }, { id, freqs });

/**
 * Throw unless the recording `t` (of recordedTones) lasts `least` seconds and
 * holds each of `freqs` 10 times over the noise; `label` names it.
 */
function expectTones(label, t, freqs, least) {
  if (!(t.seconds >= least)) throw new Error(`${label} lasts ${t.seconds} s, want at least ${least}`);
  t.tones.forEach((p, i) => {
    if (!(p > 10 * t.noise)) throw new Error(`${label}: the ${freqs[i]} Hz tone is not in it (${JSON.stringify(t)})`);
  });
}

/** The recordings History lists: [{ id, bytes, label }], once none is still being saved. */
async function listedRecordings(P, n) {
  await press(P, '#tab-history');
  await step(`${P.name}: ${n} recording(s) stored and listed`, T.media, () =>
    P.page.waitForFunction(
      (n) => {
        const ls = [...document.querySelectorAll('#history li.recording')];
        return ls.length === n && ls.every((l) => Number(l.dataset.bytes) > 0);
      },
      n, { timeout: T.media, polling: 100 },
    ));
  return P.page.$$eval('#history li.recording', (ls) =>
    ls.map((l) => ({ id: l.dataset.id, bytes: Number(l.dataset.bytes), label: l.querySelector('.recording-label')?.textContent.trim() })));
}

/** B's log line when it answered a call without waiting for its microphone (issue 15). */
const ANSWERED_FIRST = 'the microphone joins the call answered without waiting for it';

/** Both pages show the call active (the callee answers by itself). */
const bothActive = (A, B) => Promise.all([waitPhone(A.page, 'active', T.ring + T.answer), waitPhone(B.page, 'active', T.ring + T.answer)]);

/**
 * In the page (an init script): the microphone is a 1400 Hz tone that takes
 * 400 ms to open, so that a call answered without waiting for it (issue 15)
 * is up, and recording, before it comes.
 */
function slowToneMicrophone() {
  const real = MediaDevices.prototype.getUserMedia;
  MediaDevices.prototype.getUserMedia = async function (c) {
    if (!c || !c.audio || c.video) return real.call(this, c);
    await new Promise((r) => setTimeout(r, 400));
    const ctx = new AudioContext({ sampleRate: 48000 });
    const osc = ctx.createOscillator();
    osc.frequency.value = 1400;
    const out = ctx.createMediaStreamDestination();
    osc.connect(out);
    osc.start();
    return out.stream;
  };
}

/**
 * "Every call" recording (issue 16) of calls answered by themselves: the
 * second is answered without waiting for the microphone (issue 15), whose
 * track joins the call, and the recording that began at the answer, later.
 * Both recordings hold both sides.
 */
async function recordAnsweredFirst(browser, base, r) {
  const SC = 'record-answered-first';
  const [TONE_A, TONE_B] = [600, 1400];
  const [A, B] = await setup(
    browser, base, r, SC,
    [{ n: 1002, name: 'Kim', page: 'A' }, { n: 1003, name: 'Lou', page: 'B', init: [slowToneMicrophone] }],
    [null, { autoAnswer: true, recordCalls: 'always' }],
  );
  for (const n of [1, 2]) {
    await dial(A, '1003');
    await step(`call ${n}: B answers by itself`, T.ring + T.answer, () => bothActive(A, B));
    await step(`call ${n}: A sends ${TONE_A} Hz`, T.media, () => pageSendsTone(A, TONE_A, true));
    await step(`call ${n}: audio both ways`, T.media, () => audioBothWays([A, B]));
    await waitVisible(B.page, '#call-recording', T.ui, 'B');
    await sleep(2500);
    await hangUp(A, B);
  }
  r.answered_first = B.consoleLines.filter((l) => l.includes(ANSWERED_FIRST)).length;
  if (r.answered_first !== 1) throw new Error(`B answered ${r.answered_first} call(s) without waiting for its microphone, want the second one`);
  const listed = await listedRecordings(B, 2);
  r.tones = [];
  for (const rec of listed) {
    const t = await step(`B's recording ${rec.id} has both tones`, T.media, () => recordedTones(B, rec.id, [TONE_A, TONE_B]));
    r.tones.push(t);
    expectTones(`B's recording ${rec.id}`, t, [TONE_A, TONE_B], 1.5);
  }
}

/** Play the first listed recording: the player's media (a <video> for both kinds) plays (time passes). */
async function playsBack(P, tag) {
  await press(P, '#history li.recording .recording-play');
  return step(`${P.name}: the recording plays`, T.media, async () => {
    const h = await P.page.waitForFunction(
      (tag) => {
        const m = document.querySelector(`#recording-player ${tag}`);
        return m && m.currentTime > 0.5 && { time: m.currentTime, width: m.videoWidth || 0 };
      },
      tag, { timeout: T.media, polling: 100 },
    );
    return h.jsonValue();
  });
}

/** Call recording (issue 16): both sides in the recording, kept, played, downloaded, deleted. */
async function record(browser, base, r) {
  const SC = 'record';
  const [A, B] = await setup(browser, base, r, SC, [{ n: 1002, name: 'Kim', page: 'A' }, { n: 1003, name: 'Lou', page: 'B' }]);
  const [TONE_A, TONE_B] = [600, 1400];
  await callAndAnswer(A, B, '1003');
  await step('tones: A 600 Hz, B 1400 Hz', T.media, () => Promise.all([pageSendsTone(A, TONE_A, true), pageSendsTone(B, TONE_B, true)]));
  await press(A, '#record-button');
  await step('A shows it records', T.ui, async () => {
    await waitVisible(A.page, '#call-recording', T.ui, 'A');
    await waitAttr(A.page, '#record-button', 'aria-pressed', 'true', T.ui, 'A');
  });
  r.screenshots.push(await shot(A.page, SC, 'recording-A'));
  await sleep(1000);
  await press(B, '#record-button');
  await waitVisible(B.page, '#call-recording', T.ui, 'B');
  await sleep(2500);
  await press(B, '#record-button');
  await step('B stops recording, the call goes on', T.ui, async () => {
    await waitAttr(B.page, '#record-button', 'aria-pressed', 'false', T.ui, 'B');
    await B.page.waitForSelector('#call-recording', { state: 'detached', timeout: T.ui });
  });
  await sleep(500);
  await hangUp(A, B);
  const listedA = await listedRecordings(A, 1);
  const listedB = await listedRecordings(B, 1);
  r.listed = { A: listedA, B: listedB };
  r.screenshots.push(await shot(A.page, SC, 'recordings-list-A'));
  const storedA = await storedRecordings(A);
  r.stored_A = storedA;
  if (storedA.length !== 1 || storedA[0].id !== listedA[0].id || storedA[0].size !== listedA[0].bytes) {
    throw new Error(`A's store ${JSON.stringify(storedA)} is not what History lists ${JSON.stringify(listedA)}`);
  }
  r.tones_A = await step('A\'s recording has both tones', T.media, () => recordedTones(A, listedA[0].id, [TONE_A, TONE_B]));
  r.tones_B = await step('B\'s recording has both tones', T.media, () => recordedTones(B, listedB[0].id, [TONE_A, TONE_B]));
  expectTones('A\'s recording', r.tones_A, [TONE_A, TONE_B], 3);
  expectTones('B\'s recording', r.tones_B, [TONE_A, TONE_B], 1.5);
  r.played_A = await playsBack(A, 'video');
  r.download_A = await step('A downloads it', T.media, () => downloadOf(A, '#history li.recording .recording-download'));
  if (!/^call-.*\.(webm|ogg)$/.test(r.download_A.name) || r.download_A.bytes !== listedA[0].bytes) {
    throw new Error(`A's download ${JSON.stringify(r.download_A)}, want call-….webm (or .ogg, Firefox's audio) of ${listedA[0].bytes} bytes`);
  }
  await press(A, '#history li.recording .recording-delete');
  await step('A: deleted: not listed, not stored, no player', T.ui, async () => {
    await A.page.waitForSelector('#history li.recording', { state: 'detached', timeout: T.ui });
    await A.page.waitForSelector('#recording-player', { state: 'detached', timeout: T.ui });
  });
  r.stored_A_after_delete = await storedRecordings(A);
  // a video call that B records: a recording with a picture
  await step('A: video call', T.ring, async () => {
    await press(A, '#tab-phone');
    await A.page.fill('#dial-input', '1003');
    await press(A, '#video-call-button');
    await waitPhone(B.page, 'incoming', T.ring);
  });
  await press(B, '#answer-video-button');
  await step('active', T.answer, () => Promise.all([waitPhone(A.page, 'active', T.answer), waitPhone(B.page, 'active', T.answer)]));
  await step('B sees A', T.media * 2, () => framesOver(B, 10, T.media * 2));
  await press(B, '#record-button');
  await waitVisible(B.page, '#call-recording', T.ui, 'B');
  await sleep(2500);
  await hangUp(B, A);
  const listedB2 = await listedRecordings(B, 2);
  r.listed_B_video = listedB2;
  r.stored_B = await storedRecordings(B);
  const video = r.stored_B.find((x) => x.id === listedB2.find((l) => /Video/.test(l.label))?.id);
  if (!video || !/^video\//.test(video.type)) throw new Error(`B's video call recording: ${JSON.stringify({ listed: listedB2, stored: r.stored_B })}`);
  r.played_B_video = await playsBack(B, 'video');
  if (!(r.played_B_video.width > 0)) throw new Error(`B's video recording plays without a picture: ${JSON.stringify(r.played_B_video)}`);
  await press(B, '#recordings-delete-all');
  await step('B: all deleted', T.ui, () => B.page.waitForSelector('#history li.recording', { state: 'detached', timeout: T.ui }));
  r.stored_B_after_delete = await storedRecordings(B);
  if (r.stored_A_after_delete.length !== 0 || r.stored_B_after_delete.length !== 0) {
    throw new Error(`the stores are not empty after deleting: ${JSON.stringify({ A: r.stored_A_after_delete, B: r.stored_B_after_delete })}`);
  }
}

/** In the page: the browser refuses the camera (as when the user says no). */
function denyCamera() {
  const md = navigator.mediaDevices;
  const open = md.getUserMedia.bind(md);
  md.getUserMedia = (c) => (c && c.video ? Promise.reject(new DOMException('Permission denied', 'NotAllowedError')) : open(c));
}

/** A video call whose camera is refused: said, and the call goes on. */
async function videoNoCamera(browser, base, r) {
  const SC = 'video-no-camera';
  const [A, B] = await setup(
    browser, base, r, SC,
    [{ n: 1004, name: 'Ada', page: 'A', init: [denyCamera] }, { n: 1005, name: 'Ben', page: 'B' }],
  );
  await step('A: video call to 1005 (no camera)', T.ui, async () => {
    await A.page.fill('#dial-input', '1005');
    await press(A, '#video-call-button');
  });
  await step('B rings with a video answer', T.ring, async () => {
    await waitPhone(B.page, 'incoming', T.ring);
    await waitVisible(B.page, '#answer-video-button', T.ring, 'B');
  });
  await press(B, '#answer-video-button');
  await step('both active', T.answer, () => Promise.all([waitPhone(A.page, 'active', T.answer), waitPhone(B.page, 'active', T.answer)]));
  await step('A says the camera could not be used', T.ui, () => waitText(A.page, '#notice', /camera could not be used \(access to it was denied\)/, T.ui, 'A'));
  r.notice_A = await textOf(A.page, '#notice');
  await step('audio both ways', T.media, () => audioBothWays([A, B]));
  await step('A sees B', T.media * 2, () => framesOver(A, 20, T.media * 2));
  await sleep(500);
  r.A = await videoState(A);
  r.B = await videoState(B);
  r.camera_button_A = await A.page.getAttribute('#camera-button', 'aria-pressed');
  r.screenshots.push(await shot(A.page, SC, 'in-call-A'));
  // pressing Camera again: refused again, said again, the call goes on
  await press(A, '#camera-button');
  await step('A: Camera again, refused again', T.ui, () => waitAttr(A.page, '#camera-button', 'aria-pressed', 'false', T.ui, 'A'));
  await hangUp(A, B);
  if (!notBlack(r.A.remote)) throw new Error(`A does not see B: ${JSON.stringify(r.A.remote)}`);
  if (r.A.preview) throw new Error(`A previews a camera it could not open: ${JSON.stringify(r.A.preview)}`);
  if (r.B.frames > 0 || r.B.remote) throw new Error(`B got video from A, whose camera was refused: ${JSON.stringify(r.B)}`);
  if (r.camera_button_A !== 'false') throw new Error(`A's Camera button says ${r.camera_button_A}, want off`);
}

/** The codec order of issue 16, honoured in offers and answers. */
async function codecs(browser, base, r) {
  const SC = 'codecs';
  const [A, B] = await setup(
    browser, base, r, SC,
    [{ n: 1006, name: 'Gina', page: 'A' }, { n: 1007, name: 'Hugo', page: 'B' }],
    [{ codecs: 'PCMU' }],
  );
  const onlyPcmu = (list) => list.includes('PCMU') && list.every((c) => c === 'PCMU' || c === 'telephone-event');
  const pcmuBothWays = async (what) => {
    await step(`${what}: audio both ways`, T.media, () => audioBothWays([A, B]));
    await codecBothWays([A, B], 'audio', 'PCMU', r, what);
  };

  // 1. A offers
  let t0 = Date.now();
  await callAndAnswer(A, B, '1007');
  const offer = sentAfter(A, 'INVITE', t0)[0];
  r.offer_codecs_A = offer ? sdpAudioCodecs(sipBody(offer.text)) : null;
  if (!offer || !onlyPcmu(r.offer_codecs_A)) throw new Error(`A's offer lists ${JSON.stringify(r.offer_codecs_A)}, want PCMU and telephone-event only`);
  if (!r.offer_codecs_A.includes('telephone-event')) throw new Error('A\'s offer lost telephone-event (DTMF)');
  await pcmuBothWays('A-offers');
  await hangUp(A, B);

  // 2. B offers (its own default list, opus first); A answers
  t0 = Date.now();
  await callAndAnswer(B, A, '1006');
  const bOffer = sentAfter(B, 'INVITE', t0)[0];
  r.offer_codecs_B = bOffer ? sdpAudioCodecs(sipBody(bOffer.text)) : null;
  if (!r.offer_codecs_B || r.offer_codecs_B[0] !== 'opus') throw new Error(`B's offer lists ${JSON.stringify(r.offer_codecs_B)}, want the browser's (opus first)`);
  const ok = await frameWithin(() => responsesAfter(A, '>>', 'INVITE', t0).find((f) => statusOf(f) === 200));
  r.answer_codecs_A = ok ? sdpAudioCodecs(sipBody(ok.text)) : null;
  if (!ok || !onlyPcmu(r.answer_codecs_A)) throw new Error(`A's answer lists ${JSON.stringify(r.answer_codecs_A)}, want PCMU and telephone-event only`);
  await pcmuBothWays('B-offers');
  await hangUp(B, A);

  // 3. nothing in common: B takes G722 only, A (PCMU) calls
  await step('B: audio codecs G722', T.register, async () => {
    await extraSettings(B, { codecs: 'G722' });
    await B.page.click('#save-register');
    await waitReg(B.page, 'registered', T.register);
  });
  t0 = Date.now();
  await step('A dials 1007', T.ui, async () => {
    await A.page.fill('#dial-input', '1007');
    await A.page.click('#call-button');
  });
  await step('A: the call is refused', T.ring, () => waitPhone(A.page, 'idle', T.ring));
  r.refused_ms = Date.now() - t0;
  const refusal = await frameWithin(() => responsesAfter(B, '>>', 'INVITE', t0).find((f) => statusOf(f) >= 300));
  r.refusal_B = refusal ? `${statusOf(refusal)} / Warning: ${sipHeader(refusal.text, 'Warning')}` : null;
  r.rang_B = responsesAfter(B, '>>', 'INVITE', t0).filter((f) => statusOf(f) === 180).length;
  r.shown_A = (await errorText(A.page)) || (await textOf(A.page, '#notice'));
  await waitText(B.page, '#notice', /refused.*none of the audio codecs/i, T.ui, 'B');
  r.notice_B = await textOf(B.page, '#notice');
  r.screenshots.push(await shot(B.page, SC, 'refused-B'));
  if (!refusal || statusOf(refusal) !== 488 || !/^305 /.test(sipHeader(refusal.text, 'Warning') || '')) {
    throw new Error(`B answered A's PCMU-only call with ${JSON.stringify(r.refusal_B)}, want 488 with Warning 305`);
  }
  if (r.rang_B) throw new Error('B rang for a call it cannot take');
  if (!/audio codecs/.test(r.shown_A || '')) throw new Error(`A shows ${JSON.stringify(r.shown_A)} for the refused call, want the not-acceptable message`);
  if (!/PCMU/.test(r.notice_B) || !/Gina/.test(r.notice_B)) throw new Error(`B's notice ${JSON.stringify(r.notice_B)} does not name the caller and the codec offered`);
}

/**
 * Each page sends and receives `kind` ('audio', 'video') with `codec`
 * (getStats of its newest connection); the figures go to r.stats_<what>.
 */
async function codecBothWays(pages, kind, codec, r, what) {
  const got = {};
  for (const P of pages) got[P.name] = await streamCodecs(P.page, kind);
  r[`stats_${what}`] = got;
  const want = new RegExp(`^${kind}/${codec}/`, 'i');
  for (const [name, c] of Object.entries(got)) {
    if (!want.test(c?.out || '') || !want.test(c?.in || '')) {
      throw new Error(`${what}: ${name} sends/receives ${JSON.stringify(c)}, want ${kind}/${codec} both ways`);
    }
  }
}

/** Video codec choice (issue 16): A takes VP9 only; offered, answered and sent so. */
async function videoCodecs(browser, base, r) {
  const SC = 'video-codecs';
  const [A, B] = await setup(
    browser, base, r, SC,
    [{ n: 1006, name: 'Gina', page: 'A' }, { n: 1007, name: 'Hugo', page: 'B' }],
    [{ videoCodecs: 'vp9' }],
  );
  // VP9 and what rides on it (retransmission, error correction) only
  const onlyVp9 = (list) => list.includes('VP9') && list.every((c) => ['VP9', 'rtx', 'red', 'ulpfec', 'flexfec-03'].includes(c));
  const vp9BothWays = async (what) => {
    await step(`${what}: video both ways`, T.media * 2, async () => {
      await framesOver(A, 10, T.media * 2);
      await framesOver(B, 10, T.media * 2);
    });
    await codecBothWays([A, B], 'video', 'VP9', r, what);
  };
  // 1. A offers
  let t0 = Date.now();
  await videoCallAnswered(A, B, '1007');
  const offer = sentAfter(A, 'INVITE', t0)[0];
  r.offer_codecs_A = offer ? sdpCodecs(sipBody(offer.text), 'video') : null;
  if (!offer || !onlyVp9(r.offer_codecs_A)) throw new Error(`A's offer lists the video codecs ${JSON.stringify(r.offer_codecs_A)}, want VP9 (and rtx, red, ulpfec) only`);
  await vp9BothWays('A-offers');
  await hangUp(A, B);
  // 2. B offers (its browser's list, VP8 first); A answers
  t0 = Date.now();
  await videoCallAnswered(B, A, '1006');
  const bOffer = sentAfter(B, 'INVITE', t0)[0];
  r.offer_codecs_B = bOffer ? sdpCodecs(sipBody(bOffer.text), 'video') : null;
  if (!r.offer_codecs_B || r.offer_codecs_B[0] !== 'VP8') throw new Error(`B's offer lists ${JSON.stringify(r.offer_codecs_B)}, want the browser's (VP8 first)`);
  const ok = await frameWithin(() => responsesAfter(A, '>>', 'INVITE', t0).find((f) => statusOf(f) === 200));
  r.answer_codecs_A = ok ? sdpCodecs(sipBody(ok.text), 'video') : null;
  if (!ok || !onlyVp9(r.answer_codecs_A)) throw new Error(`A's answer lists the video codecs ${JSON.stringify(r.answer_codecs_A)}, want VP9 (and rtx, red, ulpfec) only`);
  await vp9BothWays('B-offers');
  r.screenshots.push(await shot(A.page, SC, 'vp9-A'));
  await hangUp(B, A);
}

/**
 * Ten clicks on the in-call keypad 30 ms apart (in the page: a person
 * drumming), then the same ten digits reversed on the keyboard 30 ms apart.
 * Returns the twenty digits in the order pressed.
 */
async function keyFast(P) {
  const clicks = '1234567890';
  const keys = '0987654321';
  if (!(await visible(P.page, '#in-call-dialpad'))) {
    await press(P, '#dtmf-button');
    await waitVisible(P.page, '#in-call-dialpad', T.ui, P.name);
  }
  await P.page.evaluate(async (digits) => {
    for (const d of digits) {
      document.querySelector(`#in-call-dialpad button[data-digit="${d}"]`).click();
      await new Promise((ok) => setTimeout(ok, 30));
    }
  }, clicks);
  // the keyboard: outside any text field (the focus on the page body)
  await P.page.evaluate(() => document.activeElement && document.activeElement.blur());
  for (const d of keys) {
    await P.page.keyboard.press(d);
    await sleep(30);
  }
  return clicks + keys;
}

async function dtmfFast(browser, base, r) {
  const SC = 'dtmf-fast';
  // by INFO: every digit reaches the other phone, in order
  const [A, B] = await infoCall(browser, base, r, SC);
  const t0 = Date.now();
  const want = await keyFast(A);
  await waitText(B.page, '#dtmf-received', new RegExp(`${want}$`), 10000, 'B').catch(async () => {
    throw new Error(`INFO: B received ${JSON.stringify(await textOf(B.page, '#dtmf-received'))}, want ${want}`);
  });
  r.info_received_B = await textOf(B.page, '#dtmf-received');
  r.info_sent = sentAfter(A, 'INFO', t0).map((f) => (/Signal=(\S+)/.exec(sipBody(f.text)) || [])[1]).join('');
  if (r.info_sent !== want) throw new Error(`INFO: A sent ${r.info_sent}, want ${want}`);
  await hangUp(A, B);
  await leaveAll([A, B]);
  // by RFC 4733: every digit leaves the sender, in order
  const [C, D] = await setup(
    browser, base, r, SC,
    [{ n: 1006, name: 'Gina', page: 'C' }, { n: 1007, name: 'Hugo', page: 'D' }],
    [{ dtmf: 'rfc4733' }],
  );
  r.pages = [A, B, C, D];
  await callAndAnswer(C, D, '1007');
  const want2 = await keyFast(C);
  const played = async () => C.page.evaluate(() => window.__probe.dtmf.tones.map((x) => x.tone).filter((t) => t).join(''));
  await step('every tone played in order', 15000, async () => {
    const end = Date.now() + 15000;
    for (;;) {
      const done = await C.page.evaluate(() => !window.__probe.dtmf.buffer());
      r.rfc4733_played = await played();
      if (done && r.rfc4733_played.length >= want2.length) break;
      if (Date.now() > end) break;
      await sleep(100);
    }
  });
  r.rfc4733_inserted = await C.page.evaluate(() => window.__probe.dtmf.inserted);
  await hangUp(C, D);
  if (r.rfc4733_played !== want2) throw new Error(`RFC 4733: the sender played ${r.rfc4733_played}, want ${want2}`);
}

/** B's transfer status texts seen until B is idle (polled). */
async function watchUntilIdle(P, ms) {
  const seen = new Set();
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const [st, notice, phone] = await Promise.all([textOf(P.page, '#transfer-status'), textOf(P.page, '#notice'), phoneState(P.page)]);
    if (st) seen.add(`status: ${st}`);
    if (notice) seen.add(`notice: ${notice}`);
    if (phone === 'idle') return [...seen];
    await sleep(100);
  }
  throw new Error(`${P.name}: not idle within ${ms} ms (phone ${await phoneState(P.page)}; seen ${JSON.stringify([...seen])})`);
}

function referChecks(P, since, r) {
  const refer = sentAfter(P, 'REFER', since)[0];
  r.refer_to = refer ? sipHeader(refer.text, 'Refer-To') : null;
  r.refer_answer = responsesAfter(P, '<<', 'REFER', since).map(statusOf);
  r.notify_sipfrag = receivedAfter(P, 'NOTIFY', since).map((f) => sipBody(f.text).split('\r\n')[0]);
  const out = [];
  if (!refer) out.push('no REFER sent');
  else if (!r.refer_answer.includes(202) && !r.refer_answer.includes(200)) out.push(`REFER answered ${r.refer_answer.join(',') || 'nothing'}`);
  return out;
}

async function blindTransfer(browser, base, r) {
  const SC = 'blind-transfer';
  const [A, B, C] = await setup(browser, base, r, SC, [
    { n: 1000, name: 'Alice', page: 'A' },
    { n: 1001, name: 'Bob', page: 'B' },
    { n: 1008, name: 'Carl', page: 'C' },
  ]);
  await callAndAnswer(A, B, '1001');
  await step('audio A-B', T.media, () => audioBothWays([A, B]));
  const t0 = Date.now();
  await transferBlind(B, '1008');
  await step('C rings showing A', T.ring, async () => {
    await waitPhone(C.page, 'incoming', T.ring);
    await waitText(C.page, '#incoming-from', /Alice|1000/, T.ui, 'C');
  });
  r.screenshots.push(await shot(C.page, SC, 'ringing-C'));
  const idleB = watchUntilIdle(B, T.ring + T.answer);
  await press(C, '#answer-button');
  await step('A and C active', T.answer, () => Promise.all([waitPhone(A.page, 'active', T.answer), waitPhone(C.page, 'active', T.answer)]));
  const bytesA = (await newestAudio(A.page)).bytes;
  await step('audio A-C', T.media, () => audioBothWays([A, C], T.media, { A: bytesA }));
  r.transfer_status_B = await idleB;
  const problems = referChecks(B, t0, r);
  r.screenshots.push(await shot(A.page, SC, 'transferred-A'));
  r.screenshots.push(await shot(B.page, SC, 'after-B'));
  if (!r.transfer_status_B.some((s) => /transfer/i.test(s))) problems.push(`B showed no transfer status: ${JSON.stringify(r.transfer_status_B)}`);
  await hangUp(A, C);
  if (problems.length) throw new Error(problems.join('; '));
}

async function attendedTransfer(browser, base, r) {
  const SC = 'attended-transfer';
  const [A, B, C] = await setup(browser, base, r, SC, [
    { n: 1002, name: 'Anna', page: 'A' },
    { n: 1003, name: 'Ben', page: 'B' },
    { n: 1005, name: 'Cleo', page: 'C' },
  ]);
  await callAndAnswer(A, B, '1003');
  await step('audio A-B', T.media, () => audioBothWays([A, B]));
  const t0 = Date.now();
  // "Add call": B's dialpad for a second line; A is held while B calls
  await press(B, '#add-call-button');
  await callAndAnswer(B, C, '1005');
  await step('A is held', T.answer, () => waitVisible(A.page, '#call-remote-hold', T.answer, 'A'));
  await step('two lines on B', T.ui, async () => {
    await waitCount(B.page, '#lines li.line', 2, T.ui, 'B');
    await waitCount(B.page, '#lines li.line[data-state="held"]', 1, T.ui, 'B');
  });
  r.screenshots.push(await shot(B.page, SC, 'two-lines-B'));
  await press(B, '#transfer-button');
  await waitVisible(B.page, '#transfer-form', T.ui, 'B');
  const idleB = watchUntilIdle(B, T.answer * 2);
  await press(B, '#transfer-attended');
  await step('A and C connected', T.answer, async () => {
    await waitPhone(A.page, 'active', T.answer);
    await waitPhone(C.page, 'active', T.answer);
    await A.page.waitForSelector('#call-remote-hold', { state: 'hidden', timeout: T.answer });
  });
  r.transfer_status_B = await idleB;
  const problems = referChecks(B, t0, r);
  r.replaces = [...sentAfter(A, 'INVITE', t0), ...receivedAfter(A, 'INVITE', t0), ...sentAfter(C, 'INVITE', t0), ...receivedAfter(C, 'INVITE', t0)]
    .map((f) => sipHeader(f.text, 'Replaces'))
    .filter(Boolean);
  await step('audio A-C', T.media, async () => {
    const a = await hears(A, 1500);
    const c = await hears(C, 1500);
    r.audio_A_C = { A: a, C: c };
    if (!(a.bytes > 0 && c.bytes > 0)) throw new Error(`no audio A<->C: ${JSON.stringify(r.audio_A_C)}`);
  });
  r.screenshots.push(await shot(A.page, SC, 'transferred-A'));
  await hangUp(A, C);
  if (problems.length) throw new Error(problems.join('; '));
}

async function callWaiting(browser, base, r) {
  const SC = 'call-waiting';
  const [A, B, C] = await setup(browser, base, r, SC, [
    { n: 1004, name: 'Ada', page: 'A' },
    { n: 1006, name: 'Bert', page: 'B' },
    { n: 1007, name: 'Cyd', page: 'C' },
  ]);
  await callAndAnswer(B, A, '1004');
  await step('audio A-B', T.media, () => audioBothWays([A, B]));
  // a waiting call can be declined: the caller is told, A's call goes on
  await dial(C, '1004');
  await step('a second line rings on A (to decline)', T.ring, () =>
    waitCount(A.page, '#lines li.line[data-state="incoming"]', 1, T.ring, 'A'),
  );
  await press(A, '#lines li.line[data-state="incoming"] .line-decline');
  await step('declined: C idle, A still with B', T.hangup, async () => {
    await waitPhone(C.page, 'idle', T.hangup);
    await A.page.waitForFunction(
      () => document.querySelectorAll('#lines li.line[data-state="incoming"]').length === 0,
      null,
      { timeout: T.ui, polling: 50 },
    );
  });
  r.declined_message_C = await errorText(C.page);
  r.phone_A_after_decline = await phoneState(A.page);
  if (r.phone_A_after_decline !== 'active') throw new Error(`A is ${r.phone_A_after_decline} after declining the waiting call`);
  if (!r.declined_message_C) throw new Error('C shows no message after being declined');
  await dial(C, '1004');
  await step('a second line rings on A', T.ring, async () => {
    await waitCount(A.page, '#lines li.line', 2, T.ring, 'A');
    await waitCount(A.page, '#lines li.line[data-state="incoming"]', 1, T.ui, 'A');
  });
  r.phone_A_while_waiting = await phoneState(A.page);
  r.screenshots.push(await shot(A.page, SC, 'two-lines-ringing-A'));
  await press(A, '#lines li.line[data-state="incoming"] .line-answer');
  await step('C active, B held', T.answer, async () => {
    await waitPhone(C.page, 'active', T.answer);
    await waitVisible(B.page, '#call-remote-hold', T.answer, 'B');
    await waitCount(A.page, '#lines li.line[data-state="held"]', 1, T.answer, 'A');
  });
  r.c_hears_a = await hears(C, 1500);
  r.lines_after_answer = await A.page.$$eval('#lines li.line', (ls) => ls.map((l) => `${l.dataset.line}:${l.dataset.state}`));
  r.screenshots.push(await shot(A.page, SC, 'two-lines-A'));
  // swap back to B
  await press(A, '#lines li.line[data-state="held"] .line-swap');
  await step('swapped: B active, C held', T.answer, async () => {
    await B.page.waitForSelector('#call-remote-hold', { state: 'hidden', timeout: T.answer });
    await waitVisible(C.page, '#call-remote-hold', T.answer, 'C');
  });
  r.lines_after_swap = await A.page.$$eval('#lines li.line', (ls) => ls.map((l) => `${l.dataset.line}:${l.dataset.state}`));
  // hang up each line on A
  await press(A, '#lines li.line[data-state="held"] .line-hangup');
  await step('C hung up', T.hangup, () => waitPhone(C.page, 'idle', T.hangup));
  r.lines_with_one_call = await A.page.$$eval('#lines li.line', (ls) => ls.length);
  await press(A, r.lines_with_one_call ? '#lines li.line .line-hangup' : '#hangup-button');
  await step('B hung up, A idle', T.hangup, () => Promise.all([waitPhone(B.page, 'idle', T.hangup), waitPhone(A.page, 'idle', T.hangup)]));
  if (!(r.c_hears_a.bytes > 0)) throw new Error(`C hears nothing from A after the answer: ${JSON.stringify(r.c_hears_a)}`);
}

async function conference(browser, base, r) {
  const SC = 'conference';
  const [A, B, C] = await setup(browser, base, r, SC, [
    { n: 1007, name: 'Amy', page: 'A' },
    { n: 1008, name: 'Bea', page: 'B' },
    { n: 1009, name: 'Cal', page: 'C' },
  ]);
  await callAndAnswer(A, B, '1008');
  await press(A, '#add-call-button');
  await callAndAnswer(A, C, '1009');
  await press(A, '#conference-button');
  await step('B and C both active, not held', T.answer, async () => {
    await B.page.waitForSelector('#call-remote-hold', { state: 'hidden', timeout: T.answer });
    await C.page.waitForSelector('#call-remote-hold', { state: 'hidden', timeout: T.answer });
    await waitPhone(B.page, 'active', T.ui);
    await waitPhone(C.page, 'active', T.ui);
  });
  r.screenshots.push(await shot(A.page, SC, 'conference-A'));
  // Who hears whom, with mute as the switch: A stays muted, so whatever B
  // or C hears comes through A's mix from the other one. First everyone is
  // muted (silence expected: this proves the mute works, else the check
  // below proves nothing), then only C speaks (B must hear it), then only B
  // (C must hear it).
  const setMute = async (P, on) => {
    if ((await P.page.getAttribute('#mute-button', 'aria-pressed').catch(() => null)) !== String(on)) await press(P, '#mute-button');
    await waitAttr(P.page, '#mute-button', 'aria-pressed', String(on), T.ui, P.name);
  };
  await setMute(A, true);
  await setMute(B, true);
  await setMute(C, true);
  // the path through A's mix has two jitter buffers (C→A, A→B): let the
  // last sound before the mutes drain before listening for silence
  await sleep(1500);
  [r.all_muted_b, r.all_muted_c] = await Promise.all([hears(B, 2000), hears(C, 2000)]);
  // evidence for a failure: what A sends on each connection
  r.a_senders_all_muted = await A.page.evaluate(() =>
    window.__pcs().flatMap((pc, i) => pc.getSenders().map((x) => (x.track ? `pc${i}: ${x.track.label || x.track.kind} enabled=${x.track.enabled}` : `pc${i}: no track`))),
  );
  await setMute(C, false);
  await sleep(500);
  r.c_speaks_b_hears = await hears(B, 2000);
  await setMute(C, true);
  await setMute(B, false);
  await sleep(500);
  r.b_speaks_c_hears = await hears(C, 2000);
  // A hangs up: once per line if one press ends only the call in focus
  r.hangup_presses = 0;
  for (let i = 0; i < 3 && (await phoneState(A.page)) !== 'idle'; i++) {
    await press(A, '#hangup-button');
    r.hangup_presses += 1;
    await waitPhone(A.page, 'idle', 1500).catch(() => {});
  }
  await step('all idle', T.hangup, () => Promise.all([A, B, C].map((p) => waitPhone(p.page, 'idle', T.hangup))));
  if (!(r.all_muted_b.power < SILENCE && r.all_muted_c.power < SILENCE)) {
    throw new Error(
      `with A, B and C all muted B or C still hears sound, so A does not send the (muted) conference mix and who hears whom cannot be told: B ${JSON.stringify(r.all_muted_b)}, C ${JSON.stringify(r.all_muted_c)}; A sends ${JSON.stringify(r.a_senders_all_muted)}`,
    );
  }
  if (!(r.c_speaks_b_hears.power > SOUND)) throw new Error(`B does not hear C through the conference: ${JSON.stringify(r.c_speaks_b_hears)}`);
  if (!(r.b_speaks_c_hears.power > SOUND)) throw new Error(`C does not hear B through the conference: ${JSON.stringify(r.b_speaks_c_hears)}`);
}


async function autoAnswer(browser, base, r) {
  const SC = 'auto-answer';
  const [A, B] = await setup(
    browser, base, r, SC,
    [{ n: 1000, name: 'Alma', page: 'A' }, { n: 1001, name: 'Bo', page: 'B' }],
    [null, { autoAnswer: true }],
  );
  const t0 = Date.now();
  await dial(A, '1001');
  await step('B answers by itself', T.ring + T.answer, () => bothActive(A, B));
  r.auto_answer_ms = Date.now() - t0;
  r.answer_clicked = (await B.page.evaluate(() => window.__probe.clicks['answer-button'])) !== undefined;
  await step('audio both ways', T.media, () => audioBothWays([A, B]));
  await hangUp(A, B);
  if (r.answer_clicked) throw new Error('the answer button was clicked');
  // issue 15: B's microphone has opened in this page, so B answers the next
  // call without waiting for it to open again; its track follows the 200 OK
  const answeredFirst = () => B.consoleLines.some((l) => l.includes(ANSWERED_FIRST));
  if (answeredFirst()) throw new Error('B answered its first call before its microphone was open');
  await dial(A, '1001');
  await step('B answers a second call by itself', T.ring + T.answer, () => bothActive(A, B));
  await step('audio both ways, B answered first', T.media, () => audioBothWays([A, B]));
  r.answered_before_mic = answeredFirst();
  await hangUp(A, B);
  if (!r.answered_before_mic) throw new Error('B waited for its microphone to answer the second call');
}

async function dnd(browser, base, r) {
  const SC = 'dnd';
  const [A, B] = await setup(browser, base, r, SC, [{ n: 1002, name: 'Ali', page: 'A' }, { n: 1003, name: 'Bix', page: 'B' }]);
  await press(B, '#dnd-toggle');
  await waitAttr(B.page, '#dnd-toggle', 'aria-pressed', 'true', T.ui, 'B');
  r.screenshots.push(await shot(B.page, SC, 'dnd-on-B'));
  const tB = await pageNow(B);
  const t0 = Date.now();
  await dial(A, '1003');
  await step('A gets busy', T.ring, () => waitPhone(A.page, 'idle', T.ring));
  r.busy_ms = Date.now() - t0;
  r.final_A = responsesAfter(A, '<<', 'INVITE', t0).map(statusOf).filter((c) => c >= 200);
  r.shown_A = (await errorText(A.page)) || (await textOf(A.page, '#notice'));
  r.states_B = await statesSince(B, tB);
  if (r.states_B.includes('incoming')) throw new Error('B rang although DND is on');
  if (!r.final_A.some((c) => [486, 600, 603].includes(c))) throw new Error(`A's call ended with ${r.final_A.join(',')}, want 486|600|603`);
  if (!/busy|disturb|unavailable|declin/i.test(r.shown_A || '')) throw new Error(`A shows ${JSON.stringify(r.shown_A)}, want a busy message`);
  // DND off: calls ring again
  await press(B, '#dnd-toggle');
  await waitAttr(B.page, '#dnd-toggle', 'aria-pressed', 'false', T.ui, 'B');
  await callAndAnswer(A, B, '1003');
  await hangUp(A, B);
}

/** The history items of a page: [{direction, peer, duration}]. */
async function historyOf(P) {
  await press(P, '#tab-history');
  await waitVisible(P.page, '#history', T.ui, P.name);
  return P.page.$$eval('#history li.history-item', (ls) =>
    ls.map((l) => ({
      direction: l.dataset.direction,
      peer: l.querySelector('.history-peer')?.textContent.trim() ?? null,
      duration: l.querySelector('.history-duration')?.textContent.trim() ?? null,
    })),
  );
}

async function history(browser, base, r) {
  const SC = 'history';
  const [A, B] = await setup(browser, base, r, SC, [{ n: 1004, name: 'Abe', page: 'A' }, { n: 1005, name: 'Bev', page: 'B' }]);
  // answered call, ~2 s
  await callAndAnswer(A, B, '1005');
  await sleep(2100);
  await hangUp(A, B);
  // missed call on B: A cancels while B rings
  await dial(A, '1005');
  await step('B rings (missed call)', T.ring, () => waitPhone(B.page, 'incoming', T.ring));
  await press(A, '#hangup-button');
  await step('both idle', T.hangup, () => Promise.all([waitPhone(A.page, 'idle', T.hangup), waitPhone(B.page, 'idle', T.hangup)]));
  await sleep(300);
  r.history_A = await historyOf(A);
  r.history_B = await historyOf(B);
  r.screenshots.push(await shot(B.page, SC, 'history-B'));
  const problems = [];
  const out = r.history_A.filter((h) => h.direction === 'outgoing');
  if (out.length < 2) problems.push(`A: ${out.length} outgoing item(s), want 2`);
  if (!r.history_B.some((h) => h.direction === 'incoming')) problems.push('B: no incoming item');
  if (!r.history_B.some((h) => h.direction === 'missed')) problems.push('B: no missed item');
  for (const h of [...r.history_A, ...r.history_B]) {
    if (!/Abe|Bev|100[45]/.test(h.peer || '')) problems.push(`item with peer ${JSON.stringify(h.peer)}`);
    if (h.duration !== null && !/^\d+:\d{2}$/.test(h.duration)) problems.push(`duration ${JSON.stringify(h.duration)} is not m:ss`);
  }
  const answered = r.history_B.find((h) => h.direction === 'incoming');
  if (answered && !/^0:0[1-9]$|^0:[1-5]\d$/.test(answered.duration || '')) problems.push(`B's incoming call lasted ${answered.duration}, want about 0:02`);
  if (problems.length) throw new Error(problems.join('; '));
  // redial from A's newest item
  const t0 = Date.now();
  await press(A, '#history li.history-item .history-redial');
  await step('redial rings B', T.ring, () => waitPhone(B.page, 'incoming', T.ring));
  const inv = sentAfter(A, 'INVITE', t0)[0];
  r.redial_uri = inv ? inv.text.split('\r\n')[0] : null;
  await press(B, '#decline-button');
  await step('both idle', T.hangup, () => Promise.all([waitPhone(A.page, 'idle', T.hangup), waitPhone(B.page, 'idle', T.hangup)]));
}

const ODD_TEXT = 'Hi <b>Bev</b> & <img src=x onerror=alert(1)> ☎ ünï';

async function messages(browser, base, r) {
  const SC = 'messages';
  const [A, B] = await setup(browser, base, r, SC, [{ n: 1005, name: 'Abby', page: 'A' }, { n: 1006, name: 'Bev', page: 'B' }]);
  await press(A, '#tab-messages');
  await press(B, '#tab-messages');
  await A.page.fill('#message-to', '1006');
  await A.page.fill('#message-text', ODD_TEXT);
  const t0 = Date.now();
  await press(A, '#message-send');
  await step('delivered on A', T.answer, () => waitAttr(A.page, '#message-list li.message[data-direction="out"]', 'data-status', 'delivered', T.answer, 'A'));
  r.delivered_ms = Date.now() - t0;
  await step('shown on B', T.ui, () => waitText(B.page, '#message-list li.message[data-direction="in"]', /Hi <b>Bev<\/b> &/, T.ui, 'B'));
  r.markup_in_B = await B.page.evaluate(() => document.querySelectorAll('#message-list b, #message-list img').length);
  r.message_sent = sentAfter(A, 'MESSAGE', t0).map((f) => sipHeader(f.text, 'Content-Type'));
  r.screenshots.push(await shot(A.page, SC, 'sent-A'));
  r.screenshots.push(await shot(B.page, SC, 'received-B'));
  if (r.markup_in_B) throw new Error(`the message text was rendered as HTML on B (${r.markup_in_B} element(s))`);
  // a message to nobody registered: failed on A
  await A.page.fill('#message-to', '1099');
  await A.page.fill('#message-text', 'nobody');
  await press(A, '#message-send');
  await step('failed to 1099', T.answer, () =>
    A.page
      .waitForFunction(
        () => [...document.querySelectorAll('#message-list li.message[data-direction="out"]')].some((li) => /nobody/.test(li.textContent) && li.dataset.status === 'failed'),
        null,
        { timeout: T.answer, polling: 50 },
      )
      .catch(async () => {
        const got = await A.page.$$eval('#message-list li.message', (ls) => ls.map((l) => `${l.dataset.direction}/${l.dataset.status}: ${l.textContent.trim().slice(0, 40)}`));
        throw new Error(`A: no failed message "nobody" in ${JSON.stringify(got)}`);
      }),
  );
}

async function presence(browser, base, r) {
  const SC = 'presence';
  const [A, B, C] = await setup(browser, base, r, SC, [
    { n: 1007, name: 'Ava', page: 'A' },
    { n: 1008, name: 'Ben', page: 'B' },
    { n: 1000, name: 'Cid', page: 'C' },
  ]);
  const uri = 'sip:1008@127.0.0.1';
  const lamp = `#contacts li.contact[data-uri="${uri}"]`;
  await press(A, '#tab-contacts');
  await A.page.fill('#contact-add-uri', uri);
  await press(A, '#contact-add-button');
  await waitCount(A.page, lamp, 1, T.ui, 'A');
  const t0 = Date.now();
  await step('B available', 15000, () => waitAttr(A.page, lamp, 'data-presence', 'available', 15000, 'A'));
  r.available_ms = Date.now() - t0;
  r.screenshots.push(await shot(A.page, SC, 'available-A'));
  await callAndAnswer(B, C, '1000');
  const t1 = Date.now();
  await step('B busy', 15000, () => waitAttr(A.page, lamp, 'data-presence', 'busy', 15000, 'A'));
  r.busy_ms = Date.now() - t1;
  r.screenshots.push(await shot(A.page, SC, 'busy-A'));
  await hangUp(B, C);
  const t2 = Date.now();
  await step('B available again', 15000, () => waitAttr(A.page, lamp, 'data-presence', 'available', 15000, 'A'));
  r.available_again_ms = Date.now() - t2;
  r.publish_B = sentAfter(B, 'PUBLISH', 0).length;
  r.subscribe_A = sentAfter(A, 'SUBSCRIBE', 0).map((f) => sipHeader(f.text, 'Event'));
}

async function voicemail(browser, base, r) {
  const SC = 'voicemail';
  const [A] = await setup(browser, base, r, SC, [{ n: 1001, name: 'Vic', page: 'A' }]);
  const notify = (waiting, voice, name) =>
    sipp(
      'features/mwi-notify.xml',
      ['127.0.0.1:5060', '-s', '1001', '-key', 'waiting', waiting, '-key', 'voice', voice, '-i', '127.0.0.1', '-p', '5095', '-m', '1', '-timeout', '10s', '-timeout_error'],
      `${TRACE}/${name}`,
      { timeout: 15000 },
    );
  const on = await notify('yes', '3/1 (0/0)', 'mwi-on');
  r.sipp_on = on.flow.join(' ');
  if (on.code !== 0) throw new Error(`NOTIFY message-summary: sipp exit ${on.code} (${r.sipp_on})`);
  await step('voicemail waiting, 3 new', T.ui, async () => {
    await waitAttr(A.page, '#voicemail', 'data-waiting', 'true', T.ui, 'A');
    await waitText(A.page, '#voicemail', /\b3\b/, T.ui, 'A');
  });
  r.voicemail_text = await textOf(A.page, '#voicemail');
  r.screenshots.push(await shot(A.page, SC, 'waiting-A'));
  const off = await notify('no', '0/1 (0/0)', 'mwi-off');
  r.sipp_off = off.flow.join(' ');
  await step('voicemail not waiting', T.ui, () => waitAttr(A.page, '#voicemail', 'data-waiting', 'false', T.ui, 'A'));
}

async function titleNotification(browser, base, r) {
  const SC = 'title-notification';
  const [A, B] = await setup(browser, base, r, SC, [{ n: 1002, name: 'Tara', page: 'A' }, { n: 1003, name: 'Theo', page: 'B' }]);
  await B.context.grantPermissions(['notifications']).catch(() => {});
  r.title_idle = await B.page.title();
  // first call: visible tab, the title changes
  await dial(A, '1003');
  await step('B rings', T.ring, () => waitPhone(B.page, 'incoming', T.ring));
  await step('title while ringing', T.ui, () =>
    B.page.waitForFunction(() => /Incoming call\s*[–-]\s*(Tara|1002)/.test(document.title), null, { timeout: T.ui }).catch(async () => {
      throw new Error(`B: title is ${JSON.stringify(await B.page.title())}`);
    }),
  );
  r.title_ringing = await B.page.title();
  await sleep(500);
  const [sB, sA] = await Promise.all([B.page.evaluate(() => window.__probe.sounds), A.page.evaluate(() => window.__probe.sounds)]);
  r.sounds_while_ringing = { B: sB.length, A: sA.length };
  r.screenshots.push(await shot(B.page, SC, 'ringing-B'));
  // the states of the tones' audio contexts (page-probe.mjs) on A and B, and
  // a wait until `pred` holds for them on both pages
  const toneStates = () => Promise.all([A, B].map((P) => P.page.evaluate(() => window.__toneContextStates())));
  const untilBoth = (pred, ms, failure) =>
    Promise.all([A, B].map((P) => P.page.waitForFunction(pred, null, { timeout: ms, polling: 50 }))).catch(async () => {
      throw new Error(`${failure} (A, B): ${JSON.stringify(await toneStates())}`);
    });
  r.tone_contexts_while_ringing = await toneStates();
  await press(B, '#decline-button');
  await step('both idle', T.hangup, () => Promise.all([waitPhone(A.page, 'idle', T.hangup), waitPhone(B.page, 'idle', T.hangup)]));
  await sleep(200);
  r.title_after = await B.page.title();
  // nothing plays now: the tones' audio context is suspended (web/audio.rs,
  // 3 s after its last use), not left running with the output open
  await step('tone contexts suspended', 8000, () =>
    untilBoth(() => window.__toneContextStates().every((s) => s === 'suspended'), 8000, "the tones' audio contexts still run 8 s after the call"),
  );
  r.tone_contexts_idle = await toneStates();
  // second call: hidden tab, a desktop notification
  await B.page.evaluate(() => window.__setHidden(true));
  await dial(A, '1003');
  await step('B rings (hidden tab)', T.ring, () => waitPhone(B.page, 'incoming', T.ring));
  await step('notification shown', T.ui, () =>
    B.page.waitForFunction(() => window.__probe.notifications.length > 0, null, { timeout: T.ui }).catch(() => {
      throw new Error('B: no desktop notification while hidden and ringing');
    }),
  );
  r.notifications = await B.page.evaluate(() => window.__probe.notifications);
  r.notification_requests = await B.page.evaluate(() => window.__probe.notificationRequests);
  // ringing again: the context runs again
  await step('tone contexts running again', T.ui, () =>
    untilBoth(() => window.__toneContextStates().includes('running'), T.ui, "the tones' audio contexts did not run again for the second call"),
  );
  r.tone_contexts_ringing_again = await toneStates();
  await press(A, '#hangup-button');
  await step('both idle', T.hangup, () => Promise.all([waitPhone(A.page, 'idle', T.hangup), waitPhone(B.page, 'idle', T.hangup)]));
  const problems = [];
  if (r.title_after !== r.title_idle) problems.push(`title after the call ${JSON.stringify(r.title_after)}, was ${JSON.stringify(r.title_idle)}`);
  if (!r.notifications.some((n) => /Tara|1002/.test(`${n.title} ${n.body}`))) problems.push(`notification does not name the caller: ${JSON.stringify(r.notifications)}`);
  if (!(sB.length > 0)) problems.push('no ringtone started on B (no Web Audio source / media play)');
  if (!(sA.length > 0)) problems.push('no ringback started on A (no Web Audio source / media play)');
  // (else the suspension above proves nothing)
  r.tone_contexts_while_ringing.forEach((states, i) => {
    if (!states.includes('running')) problems.push(`${'AB'[i]}: no tone context ran while ringing: ${JSON.stringify(states)}`);
  });
  if (problems.length) throw new Error(problems.join('; '));
}

/** Tab through the page (at most n presses); the controls reached, with accessible names. */
async function tabWalk(P, n = 80) {
  const cdp = await P.context.newCDPSession(P.page);
  await P.page.evaluate(() => document.activeElement && document.activeElement.blur());
  const seen = [];
  const keys = new Set();
  for (let i = 0; i < n; i++) {
    await P.page.keyboard.press('Tab');
    const { result } = await cdp.send('Runtime.evaluate', { expression: 'document.activeElement' });
    if (!result.objectId) continue;
    const got = await P.page.evaluate(() => {
      const el = document.activeElement;
      if (!el || el === document.body) return null;
      // a marker per element: wrap-around detection even without ids
      if (!el.dataset.e2eTab) el.dataset.e2eTab = String(Math.random()).slice(2);
      const cls = typeof el.className === 'string' && el.className ? `.${el.className.trim().split(/\s+/).join('.')}` : '';
      const line = el.closest('li.line, li.contact, li.history-item');
      const where = line ? `${line.tagName.toLowerCase()}.${line.className.split(' ')[0]}[${line.dataset.line || line.dataset.uri || ''}] ` : '';
      const digit = el.dataset.digit ? `[data-digit="${el.dataset.digit}"]` : '';
      return { key: el.dataset.e2eTab, id: where + (el.id ? `#${el.id}` : `${el.tagName.toLowerCase()}${cls}${digit}`) };
    });
    if (!got) continue;
    if (keys.has(got.key)) break; // wrapped around
    keys.add(got.key);
    const id = got.id;
    const ax = await cdp.send('Accessibility.getPartialAXTree', { objectId: result.objectId, fetchRelatives: false }).catch(() => null);
    const node = ax && ax.nodes && ax.nodes.find((x) => !x.ignored);
    seen.push({ id, name: node && node.name ? String(node.name.value || '').trim() : '', role: node && node.role ? node.role.value : null });
  }
  await cdp.detach().catch(() => {});
  return seen;
}

async function noOverflow(P, label) {
  const w = await P.page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
  return w.scroll > w.client ? `${label}: ${w.scroll} px wide content in a ${w.client} px viewport` : null;
}

async function keyboardA11y(browser, base, r) {
  const SC = 'keyboard-a11y';
  const [A, B] = await setup(
    browser, base, r, SC,
    [{ n: 1004, name: 'Kay', page: 'A' }, { n: 1005, name: 'Lee', page: 'B' }],
    [{ dtmf: 'info' }],
  );
  const problems = [];
  const need = (walk, ids, when) => {
    for (const id of ids) if (!walk.some((x) => x.id.endsWith(id))) problems.push(`${when}: Tab never reaches ${id}`);
    for (const x of walk) if (!x.name) problems.push(`${when}: ${x.id} has no accessible name`);
  };
  r.tab_idle = await tabWalk(A);
  need(r.tab_idle, ['#dial-input', '#call-button', '#dnd-toggle', '#open-settings'], 'idle');
  // the view tabs are one Tab stop (WAI-ARIA tabs: roving tabindex); the
  // arrow keys move between them
  r.tab_stop = r.tab_idle.filter((x) => /^#tab-/.test(x.id)).map((x) => x.id);
  if (r.tab_stop.length !== 1) problems.push(`idle: ${r.tab_stop.length} view tabs are Tab stops (${r.tab_stop.join(' ')}), want 1`);
  else {
    await A.page.focus(r.tab_stop[0]);
    r.tab_arrows = [];
    for (let i = 0; i < 4; i++) {
      await A.page.keyboard.press('ArrowRight');
      r.tab_arrows.push(await A.page.evaluate(() => `#${document.activeElement?.id}`));
    }
    for (const id of ['#tab-phone', '#tab-history', '#tab-contacts', '#tab-messages']) {
      if (!r.tab_arrows.includes(id)) problems.push(`idle: ArrowRight on the view tabs never reaches ${id} (${r.tab_arrows.join(' ')})`);
    }
    r.tab_names = await A.page.$$eval('[role="tab"]', (ts) => ts.map((t) => `${t.id}: ${(t.getAttribute('aria-label') || t.textContent).trim()}`));
    for (const t of r.tab_names) if (/:\s*$/.test(t)) problems.push(`tab ${t} has no name`);
    await press(A, '#tab-phone');
  }

  // Enter answers a ringing call (B), keys in the call
  await dial(A, '1005');
  await step('B rings', T.ring, () => waitPhone(B.page, 'incoming', T.ring));
  await B.page.evaluate(() => document.activeElement && document.activeElement.blur());
  await B.page.keyboard.press('Enter');
  await step('Enter answers', T.answer, () => Promise.all([waitPhone(A.page, 'active', T.answer), waitPhone(B.page, 'active', T.answer)]));
  r.tab_in_call = await tabWalk(A);
  need(r.tab_in_call, ['#hold-button', '#mute-button', '#dtmf-button', '#transfer-button', '#add-call-button', '#hangup-button'], 'in call');
  await A.page.evaluate(() => document.activeElement && document.activeElement.blur());
  const keyCheck = async (key, sel, want) => {
    await A.page.keyboard.press(key);
    await waitAttr(A.page, sel, 'aria-pressed', want, T.answer, `A after "${key}"`).catch((e) => problems.push(e.message));
  };
  await keyCheck('m', '#mute-button', 'true');
  await keyCheck('m', '#mute-button', 'false');
  await keyCheck('h', '#hold-button', 'true');
  await keyCheck('h', '#hold-button', 'false');
  for (const d of '42*') {
    await A.page.keyboard.press(d);
    await sleep(200);
  }
  await waitText(B.page, '#dtmf-received', /42\*/, T.answer, 'B').catch((e) => problems.push(e.message));
  // narrow screen
  await A.page.setViewportSize({ width: 360, height: 740 });
  await sleep(300);
  r.screenshots.push(await shot(A.page, SC, 'in-call-360'));
  const o1 = await noOverflow(A, 'in call at 360 px');
  if (o1) problems.push(o1);
  await A.page.keyboard.press('Escape');
  await step('Escape hangs up', T.hangup, () => Promise.all([waitPhone(A.page, 'idle', T.hangup), waitPhone(B.page, 'idle', T.hangup)]));
  r.screenshots.push(await shot(A.page, SC, 'idle-360'));
  const o2 = await noOverflow(A, 'idle at 360 px');
  if (o2) problems.push(o2);
  if (problems.length) throw new Error(problems.join('; '));
}

async function earlyMedia(browser, base, r) {
  const SC = 'early-media';
  const UAS_PORT = 5091;
  const [A] = await setup(browser, base, r, SC, [{ n: 1006, name: 'Eve', page: 'A' }]);
  await step('clear 1009', 15000, () => clearBindings([1009], TRACE));
  const reg = await sipp(
    'hostile/register-contact.xml',
    ['127.0.0.1:5060', '-s', '1009', '-au', '1009', '-ap', 'secret1009', '-key', 'contact', `<sip:1009@127.0.0.1:${UAS_PORT}>`, '-key', 'expires', '120',
      '-i', '127.0.0.1', '-p', '5096', '-m', '1', '-timeout', '10s', '-timeout_error'],
    `${TRACE}/register-uas-1009`,
    { timeout: 15000 },
  );
  if (reg.code !== 0) throw new Error(`register the sipp UAS: exit ${reg.code} (${reg.flow.join(' ')})`);
  try {
    const uas = sipp('features/uas-early-media.xml', ['-i', '127.0.0.1', '-p', String(UAS_PORT), '-m', '1', '-timeout', '20s', '-timeout_error'], `${TRACE}/uas-early-media`, { timeout: 25000 });
    await sleep(300);
    const t0 = Date.now();
    await dial(A, '1009');
    await step('183 applied', T.ring, () =>
      A.page
        .waitForFunction(
          () =>
            window.__pcs().some((pc) => pc.remoteDescription && ['pranswer', 'answer'].includes(pc.remoteDescription.type)) ||
            document.getElementById('phone')?.getAttribute('data-phone') === 'idle',
          null,
          { timeout: T.ring, polling: 50 },
        )
        .then(async () => {
          if ((await phoneState(A.page)) === 'idle') throw new Error('the call ended first');
        })
        .catch(async (e) => {
          throw new Error(`A: no remote description after the 183 (${e.message.split('\n')[0]}; state ${await phoneState(A.page)}, error ${await errorText(A.page)})`);
        }),
    );
    r.remote_type = await A.page.evaluate(() => window.__pcs().map((pc) => pc.remoteDescription && pc.remoteDescription.type));
    r.phone_during_183 = await phoneState(A.page);
    r.got_183 = responsesAfter(A, '<<', 'INVITE', t0).map(statusOf);
    r.screenshots.push(await shot(A.page, SC, 'early-media-A'));
    const res = await uas;
    r.uas_flow = res.flow.join(' ');
    await step('A idle after the 486', T.hangup, () => waitPhone(A.page, 'idle', T.hangup));
    if (!['ringing', 'calling', 'early'].includes(r.phone_during_183)) throw new Error(`A shows "${r.phone_during_183}" during early media`);
  } finally {
    await clearBindings([1009], TRACE).catch(() => {});
  }
}

/**
 * Microphone and speaker choice, constraints and the level meter: A picks
 * the second fake microphone (Chromium's fake device offers several), turns
 * echo cancellation off and a speaker where there is one; the call then
 * sends that microphone's track with those settings, plays through that
 * speaker, and the settings form's meter moves.
 */
async function audioDevices(browser, base, r) {
  const SC = 'audio-devices';
  const [A, B] = await setup(browser, base, r, SC, [{ n: 1002, name: 'Carol', page: 'A' }, { n: 1003, name: 'Dave', page: 'B' }]);
  await openSettings(A.page);
  // the devices are listed once the form is open (the level preview asks
  // for the microphone: labels come with the permission)
  const opts = await step('A: microphones listed', 8000, async () => {
    for (let i = 0; i < 40; i++) {
      const o = await A.page.evaluate(() => ({
        mics: [...document.querySelectorAll('#mic-select option')].map((e) => ({ v: e.value, t: e.textContent })),
        speakers: [...document.querySelectorAll('#speaker-select option')].map((e) => ({ v: e.value, t: e.textContent })),
      }));
      if (o.mics.filter((m) => m.v).length >= 2) return o;
      await sleep(200);
    }
    throw new Error('A: fewer than two microphones in #mic-select');
  });
  r.options = opts;
  // the meter: the fake microphone beeps, so within 3 s the level rises
  r.meter_max = await step('A: #mic-level moves', 5000, async () => {
    let max = 0;
    for (let i = 0; i < 30; i++) {
      max = Math.max(max, await A.page.evaluate(() => Number(document.getElementById('mic-level')?.value || 0)));
      if (max > 0.01) break;
      await sleep(100);
    }
    return max;
  });
  if (!(r.meter_max > 0.01)) throw new Error(`A: #mic-level stays at ${r.meter_max}`);
  const mic = opts.mics.filter((m) => m.v)[1];
  const speaker = opts.speakers.find((s) => s.v);
  await A.page.selectOption('#mic-select', mic.v);
  if (speaker) await A.page.selectOption('#speaker-select', speaker.v);
  await A.page.setChecked('#echo-cancel', false);
  r.chosen = { mic, speaker: speaker || null };
  r.screenshots.push(await shot(A.page, SC, 'settings-A'));
  await press(A, '#save-register');
  await waitReg(A.page, 'registered', T.register);
  await callAndAnswer(A, B, '1003');
  await step('audio both ways', T.media, () => audioBothWays([A, B]));
  r.sent = await A.page.evaluate(() =>
    window.__pcs().flatMap((pc) =>
      pc.getSenders().filter((s) => s.track && s.track.kind === 'audio').map((s) => {
        const st = s.track.getSettings();
        return { label: s.track.label, deviceId: st.deviceId, echoCancellation: st.echoCancellation };
      }),
    ),
  );
  r.sink = await A.page.evaluate(() => [...document.querySelectorAll('audio')].map((a) => a.sinkId));
  await hangUp(A, B);
  const sent = r.sent[r.sent.length - 1];
  if (!sent) throw new Error('A: no audio sender in the call');
  if (sent.deviceId !== mic.v) throw new Error(`A sends ${JSON.stringify(sent)}, want the microphone ${JSON.stringify(mic)}`);
  if (sent.echoCancellation !== false) throw new Error(`A's microphone has echoCancellation ${sent.echoCancellation}, want false`);
  if (speaker && !r.sink.includes(speaker.v)) {
    throw new Error(`A's call audio plays on ${JSON.stringify(r.sink)}, want the speaker ${speaker.v}`);
  }
  if (!speaker) r.note = 'no selectable speaker in this browser: speaker choice not checked';
}

/** Lines of the PBX log that match re (the whole log of this run). */
async function pbxLines(re) {
  const out = await pbx(['log', '1000000'], 15000);
  return out.split('\n').filter((l) => re.test(l));
}

/**
 * Leaving the page during a call, three ways a person does it: navigate
 * away (page-close), reload (page-reload), close the tab (tab-close, with
 * beforeunload as a person's tab close has). Each must hang up (the PBX
 * relays B's BYE, A sees the hang-up) and remove the binding (the PBX logs
 * B's un-REGISTER), whichever order the browser fires beforeunload, the
 * WebSocket close and pagehide in (Firefox closes the socket between
 * beforeunload and pagehide). After page-close and tab-close a new call to
 * B fails at once (404: no binding left). After page-reload B signs in again
 * on the WebSocket its page opened before the wasm ran (one socket only).
 */
function leaveDuringCall(how) {
  return async (browser, base, r) => {
    const SC = `page-${how}`;
    const [A, B] = await setup(browser, base, r, SC, [{ n: 1000, name: 'Alice', page: 'A' }, { n: 1001, name: 'Bob', page: 'B' }]);
    await callAndAnswer(A, B, '1001');
    await step('audio both ways', T.media, () => audioBothWays([A, B]));
    const byeRe = /in-dialog BYE: from sip:1001@/;
    const unregRe = /unregister: sip:1001@/;
    const [byes0, unregs0] = [(await pbxLines(byeRe)).length, (await pbxLines(unregRe)).length];
    const t0 = Date.now();
    if (how === 'reload') await B.page.reload({ timeout: T.load }).catch((e) => B.log(`reload: ${e.message}`));
    else if (how === 'tab') await B.page.close({ runBeforeUnload: true });
    else await leavePage(B);
    await step('A: the call ends when B leaves', T.hangup, () => waitPhone(A.page, 'idle', T.hangup));
    r.hangup_seen_ms = Date.now() - t0;
    r.notice_A = await textOf(A.page, '#notice');
    r.bye_received_A = A.frames.some((f) => f.dir === '<<' && f.at >= t0 && f.text.startsWith('BYE '));
    await step('the PBX saw the BYE and the un-REGISTER', T.hangup, async () => {
      const end = Date.now() + T.hangup;
      for (;;) {
        const byes = (await pbxLines(byeRe)).length - byes0;
        const unregs = (await pbxLines(unregRe)).length - unregs0;
        r.pbx = { byes, unregisters: unregs };
        if (byes > 0 && unregs > 0) return;
        if (Date.now() > end) throw new Error(`PBX log since B left: ${byes} BYE, ${unregs} un-REGISTER from 1001`);
        await sleep(200);
      }
    });
    if (!/hung up/i.test(r.notice_A || '')) throw new Error(`A's notice is ${JSON.stringify(r.notice_A)}, want "The other party hung up."`);
    if (!r.bye_received_A) throw new Error('A received no BYE after B left');
    if (how === 'reload') {
      // the reloaded tab signs in again on the one WebSocket its page
      // opened before the wasm ran (early-socket.js; issue 15), and the
      // REGISTER left before the view was drawn
      await step('B registered again after the reload', T.register, () => waitReg(B.page, 'registered', T.register));
      const load = await B.page.evaluate(() => ({
        sockets: window.__probe.sockets,
        early_left: '__softphoneEarly' in globalThis,
        marks: performance.getEntriesByType('mark').map((m) => [m.name, Math.round(m.startTime)]),
      }));
      r.reload = load;
      if (load.sockets.length !== 1) throw new Error(`the reloaded page made ${load.sockets.length} WebSockets (${load.sockets.join(', ')}), want 1: the early one, taken over`);
      if (load.early_left) throw new Error('the early WebSocket was not taken over (globalThis.__softphoneEarly is still there)');
      return;
    }
    // a new call to 1001: the PBX has no binding left, so it fails at once
    const t1 = Date.now();
    await dial(A, '1001');
    await step('A: calling the closed page fails at once', T.ring, () => waitPhone(A.page, 'idle', T.ring));
    r.recall_failed_ms = Date.now() - t1;
    r.recall_message_A = await errorText(A.page);
    if (!/does not exist/.test(r.recall_message_A || '')) {
      throw new Error(`A's call to the closed page ended with ${JSON.stringify(r.recall_message_A)}, want the 404 message (no binding left)`);
    }
    if (r.recall_failed_ms > 5000) throw new Error(`the call to the closed page took ${r.recall_failed_ms} ms to fail`);
  };
}

export const FEATURES = {
  'hold-resume': holdResume,
  mute,
  'dtmf-info': dtmfInfo,
  'dtmf-rfc4733': dtmfRfc4733,
  'dtmf-fast': dtmfFast,
  'blind-transfer': blindTransfer,
  'attended-transfer': attendedTransfer,
  'call-waiting': callWaiting,
  conference,
  'auto-answer': autoAnswer,
  dnd,
  history,
  messages,
  presence,
  voicemail,
  'title-notification': titleNotification,
  'keyboard-a11y': keyboardA11y,
  codecs,
  'video-codecs': videoCodecs,
  'video-call': videoCall,
  'video-no-camera': videoNoCamera,
  'camera-choice': cameraChoice,
  'screen-share': screenShare,
  'video-waiting': videoWaiting,
  'video-transfer': videoTransfer,
  record,
  'record-answered-first': recordAnsweredFirst,
  'early-media': earlyMedia,
  'audio-devices': audioDevices,
  'page-close': leaveDuringCall('close'),
  'page-reload': leaveDuringCall('reload'),
  'tab-close': leaveDuringCall('tab'),
};

/** Leave every page of a scenario (unregister on pagehide), bounded. */
export async function leaveAll(pages) {
  await Promise.all((pages || []).map((p) => leavePage(p)));
}
