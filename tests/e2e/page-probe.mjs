// Code that runs inside every test page before the app's own scripts
// (context.addInitScript). It observes the app from the outside, so the app
// needs no test hooks:
//
//   window.__pcs()     the RTCPeerConnections the page created that are not
//                      closed and not garbage-collected (held by WeakRef, so
//                      the probe itself keeps no connection alive)
//   window.__wasmMemory()  byte length of the app's wasm linear memory (the
//                      instance exports come with trunk's TrunkApplicationStarted
//                      event), or null before the app started
//   window.__probe     timestamps (performance.now(), ms):
//     .clicks[id]      last click on an element with that id (capture phase)
//     .first[key]      first time a state was seen: "reg:registered",
//                      "phone:active", ... (#reg-status data-state, #phone data-phone)
//     .states          every change of those two, [{t, reg, phone}]
//     .audio           { clickAt, firstAt, bytes } first inbound-rtp audio
//                      bytesReceived > 0 after a click on #call-button
//                      (getStats polled every 20 ms)
//   window.__inboundAudio()  -> total inbound-rtp audio bytesReceived over the
//                      open peer connections (oldest first), and per connection: state, bytes,
//                      packets, selected ICE pair ("local <-> remote") and its
//                      candidate types (pairTypes: {local, remote}, e.g. "relay/udp")
//   window.__inboundEnergy()  -> per open peer connection (oldest first) the
//                      inbound-rtp audio totalAudioEnergy, totalSamplesDuration,
//                      audioLevel, bytesReceived (issue 5: mute, hold and
//                      conference compare the energy over a time window)
//   window.__probe.dtmf  { inserted: tones given to RTCDTMFSender.insertDTMF,
//                      tones: [{t, tone}] every tonechange ("" = buffer
//                      drained), buffer(): toneBuffer of the last sender }
//   window.__probe.notifications  [{t, title, body}] every `new Notification`;
//                      .notificationRequests  calls of Notification.requestPermission
//   window.__probe.sounds  [{t, kind}] local sounds started: "source" (Web
//                      Audio AudioScheduledSourceNode.start: oscillator or
//                      buffer) or "media" (HTMLMediaElement.play without a
//                      MediaStream)
//   window.__probe.sockets  the URL of every WebSocket the page made
//   window.__wasmStackUsed(size)  how deep the wasm's stack (its first
//                      `size` bytes) has been used
//   window.__sipFrame(ev, data)  (Firefox: a binding the test installs, as
//                      BiDi has no WebSocket frame events) is called with
//                      ('open', url), ('>>', text) for each frame sent,
//                      ('<<', text) for each frame received, ('close')
//   window.__setHidden(bool)  test fixture: pretend the tab is hidden (or
//                      visible again): document.hidden, visibilityState,
//                      hasFocus() and a "visibilitychange" event
//
// The function below is serialized by Playwright: it must be self-contained.
export function pageProbe() {
  if (window.__probe) return;
  const now = () => performance.now();
  const probe = (window.__probe = { clicks: {}, first: {}, states: [], audio: null });

  // ---- wasm memory (trunk's loader announces the instance exports) ----
  let wasmExports = null;
  window.addEventListener('TrunkApplicationStarted', (e) => {
    wasmExports = e.detail && e.detail.wasm;
  });
  window.__wasmMemory = () =>
    wasmExports && wasmExports.memory ? wasmExports.memory.buffer.byteLength : null;
  // the deepest the wasm's stack has gone, in bytes: the stack is the
  // first `size` bytes of the memory and grows down from `size`; memory
  // starts zeroed, so the lowest non-zero byte below `size` marks it
  window.__wasmStackUsed = (size) => {
    if (!wasmExports || !wasmExports.memory) return null;
    const b = new Uint8Array(wasmExports.memory.buffer, 0, size);
    let i = 0;
    while (i < size && b[i] === 0) i++;
    return size - i;
  };

  // ---- WebSocket frames, for the test (reported where it installed __sipFrame) ----
  const OrigWS = window.WebSocket;
  if (OrigWS) {
    const report = (...a) => {
      try {
        if (typeof window.__sipFrame === 'function') window.__sipFrame(...a);
      } catch (e) {
        // the binding is gone while the page unloads
      }
    };
    const text = (d) => (typeof d === 'string' ? d : d instanceof ArrayBuffer ? new TextDecoder().decode(d) : String(d));
    probe.sockets = [];
    class RecordedWebSocket extends OrigWS {
      constructor(...args) {
        super(...args);
        probe.sockets.push(String(args[0]));
        report('open', String(args[0]));
        this.addEventListener('message', (e) => report('<<', text(e.data)));
        this.addEventListener('close', () => report('close'));
      }
      send(data) {
        report('>>', text(data));
        return super.send(data);
      }
    }
    window.WebSocket = RecordedWebSocket;
  }

  // ---- RTCPeerConnection registry (weak: the app decides their lifetime) ----
  let refs = [];
  const pcs = () => {
    refs = refs.filter((r) => {
      const pc = r.deref();
      return pc && pc.signalingState !== 'closed';
    });
    return refs.map((r) => r.deref());
  };
  window.__pcs = pcs;
  const Orig = window.RTCPeerConnection;
  if (Orig) {
    class RecordedPeerConnection extends Orig {
      constructor(...args) {
        super(...args);
        refs.push(new WeakRef(this));
      }
    }
    window.RTCPeerConnection = RecordedPeerConnection;
    if (window.webkitRTCPeerConnection) window.webkitRTCPeerConnection = RecordedPeerConnection;
  }

  async function inboundAudio() {
    const per = [];
    for (const pc of pcs()) {
      let bytes = 0;
      let packets = 0;
      let pair = null;
      let pairTypes = null;
      try {
        const stats = await pc.getStats();
        stats.forEach((s) => {
          if (s.type === 'inbound-rtp' && (s.kind === 'audio' || s.mediaType === 'audio')) {
            bytes += s.bytesReceived || 0;
            packets += s.packetsReceived || 0;
          }
          if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') {
            const l = stats.get(s.localCandidateId);
            const r = stats.get(s.remoteCandidateId);
            const addr = (c) => (c ? `${c.address || c.ip}:${c.port}/${c.protocol}` : '?');
            pair = `${addr(l)} <-> ${addr(r)}`;
            // host | srflx | prflx | relay, and the relay's own protocol
            // (udp or tcp between the browser and the TURN server)
            const type = (c) => (c ? `${c.candidateType}${c.relayProtocol ? `/${c.relayProtocol}` : ''}` : '?');
            pairTypes = { local: type(l), remote: type(r) };
          }
        });
      } catch (e) {
        // closed connections may refuse getStats
      }
      per.push({ state: pc.connectionState, bytes, packets, pair, pairTypes });
    }
    return { bytes: per.reduce((a, p) => a + p.bytes, 0), connections: per };
  }
  window.__inboundAudio = inboundAudio;

  // ---- inbound audio energy (issue 5) ----
  window.__inboundEnergy = async () => {
    const per = [];
    for (const pc of pcs()) {
      const x = { energy: 0, duration: 0, level: 0, bytes: 0, state: pc.connectionState };
      try {
        const stats = await pc.getStats();
        stats.forEach((s) => {
          if (s.type === 'inbound-rtp' && (s.kind === 'audio' || s.mediaType === 'audio')) {
            x.energy += s.totalAudioEnergy || 0;
            x.duration += s.totalSamplesDuration || 0;
            x.level = Math.max(x.level, s.audioLevel || 0);
            x.bytes += s.bytesReceived || 0;
          }
        });
      } catch (e) {
        // closed connections may refuse getStats
      }
      per.push(x);
    }
    return per;
  };

  // ---- DTMF sender (RFC 4733): what the app inserts, and the tone events ----
  let lastSender = null;
  const dtmf = (probe.dtmf = { inserted: [], tones: [], buffer: () => (lastSender ? lastSender.toneBuffer : null) });
  const watched = new WeakSet();
  if (window.RTCDTMFSender && window.RTCDTMFSender.prototype.insertDTMF) {
    const origInsert = window.RTCDTMFSender.prototype.insertDTMF;
    window.RTCDTMFSender.prototype.insertDTMF = function (tones, ...rest) {
      dtmf.inserted.push(String(tones));
      lastSender = this;
      if (!watched.has(this)) {
        watched.add(this);
        this.addEventListener('tonechange', (e) => dtmf.tones.push({ t: now(), tone: e.tone }));
      }
      return origInsert.call(this, tones, ...rest);
    };
  }

  // ---- desktop notifications ----
  probe.notifications = [];
  probe.notificationRequests = 0;
  if (window.Notification) {
    const OrigN = window.Notification;
    class RecordedNotification extends OrigN {
      constructor(title, options) {
        super(title, options);
        probe.notifications.push({ t: now(), title: String(title), body: options && options.body ? String(options.body) : '' });
      }
    }
    Object.defineProperty(RecordedNotification, 'permission', { get: () => OrigN.permission });
    RecordedNotification.requestPermission = (...a) => {
      probe.notificationRequests += 1;
      return OrigN.requestPermission(...a);
    };
    window.Notification = RecordedNotification;
  }

  // ---- local sounds (ringtone, ringback, tones) ----
  probe.sounds = [];
  // the audio contexts the page's tones play on, and their states now
  const toneContexts = [];
  window.__toneContextStates = () => toneContexts.map((c) => c.state);
  if (window.AudioScheduledSourceNode) {
    const origStart = window.AudioScheduledSourceNode.prototype.start;
    window.AudioScheduledSourceNode.prototype.start = function (...a) {
      probe.sounds.push({ t: now(), kind: 'source' });
      if (this.context && !toneContexts.includes(this.context)) toneContexts.push(this.context);
      return origStart.apply(this, a);
    };
  }
  if (window.HTMLMediaElement) {
    const origPlay = window.HTMLMediaElement.prototype.play;
    window.HTMLMediaElement.prototype.play = function (...a) {
      // a MediaStream is call audio, not a local sound
      if (!this.srcObject) probe.sounds.push({ t: now(), kind: 'media' });
      return origPlay.apply(this, a);
    };
  }

  // ---- "the tab is hidden" (test fixture) ----
  let hidden = null;
  {
    const hiddenDesc = Object.getOwnPropertyDescriptor(Document.prototype, 'hidden');
    const stateDesc = Object.getOwnPropertyDescriptor(Document.prototype, 'visibilityState');
    const origHasFocus = Document.prototype.hasFocus;
    if (hiddenDesc && stateDesc) {
      Object.defineProperty(document, 'hidden', {
        configurable: true,
        get() {
          return hidden === null ? hiddenDesc.get.call(this) : hidden;
        },
      });
      Object.defineProperty(document, 'visibilityState', {
        configurable: true,
        get() {
          return hidden === null ? stateDesc.get.call(this) : hidden ? 'hidden' : 'visible';
        },
      });
      document.hasFocus = function () {
        return hidden ? false : origHasFocus.call(this);
      };
    }
  }
  window.__setHidden = (h) => {
    hidden = !!h;
    document.dispatchEvent(new Event('visibilitychange'));
  };

  // ---- click-to-audio: poll getStats every 20 ms after a click on #call-button ----
  function startAudioProbe(clickAt) {
    const audio = (probe.audio = { clickAt, firstAt: null, bytes: 0 });
    const deadline = clickAt + 30000;
    const timer = setInterval(async () => {
      if (audio.firstAt !== null || now() > deadline) return clearInterval(timer);
      const { bytes } = await inboundAudio();
      if (bytes > 0 && audio.firstAt === null) {
        audio.firstAt = now();
        audio.bytes = bytes;
        clearInterval(timer);
      }
    }, 20);
  }

  document.addEventListener(
    'click',
    (e) => {
      const el = e.target && e.target.closest ? e.target.closest('[id]') : null;
      if (!el) return;
      const t = now();
      probe.clicks[el.id] = t;
      if (el.id === 'call-button') startAudioProbe(t);
    },
    true,
  );
  // a form submit by Enter also counts as a click on its submit button
  document.addEventListener(
    'submit',
    (e) => {
      if (e.target && e.target.id === 'settings-form' && probe.clicks['save-register'] === undefined) {
        probe.clicks['save-register'] = now();
      }
    },
    true,
  );

  // ---- state transitions of #reg-status and #phone ----
  let last = { reg: null, phone: null };
  function sample() {
    const reg = document.getElementById('reg-status');
    const phone = document.getElementById('phone');
    const cur = {
      reg: reg ? reg.getAttribute('data-state') : null,
      phone: phone ? phone.getAttribute('data-phone') : null,
    };
    if (cur.reg === last.reg && cur.phone === last.phone) return;
    const t = now();
    probe.states.push({ t: Math.round(t * 10) / 10, ...cur });
    if (cur.reg && probe.first['reg:' + cur.reg] === undefined) probe.first['reg:' + cur.reg] = t;
    if (cur.phone && probe.first['phone:' + cur.phone] === undefined) probe.first['phone:' + cur.phone] = t;
    last = cur;
  }
  new MutationObserver(sample).observe(document, {
    subtree: true,
    childList: true,
    attributes: true,
    attributeFilter: ['data-state', 'data-phone'],
  });
}
