// Init script of every benchmark page (context.addInitScript), for the
// softphone and the JsSIP page alike: both show their state through the same
// DOM contract (#reg-status[data-state], #phone[data-phone], #incoming,
// #call-button), so one probe times both the same way. All times are
// performance.now() of the page (ms since its navigation started).
//
//   window.__bench.states   [{t, reg, phone, incoming}] every change of
//                           #reg-status data-state, #phone data-phone and
//                           "#incoming is visible" (a MutationObserver: no
//                           polling)
//   window.__bench.wsIn     [{t, first}] SIP frames received on a WebSocket
//                           (the first line), seen by a listener added in the
//                           WebSocket constructor, so before the page's own
//   window.__bench.wsOut    [{t, first, cseq}] SIP frames sent
//   window.__bench.wsCreated / wsOpened  times WebSockets were made / opened
//   window.__bench.started  when trunk announced the app's wasm started
//   window.__bench.calls    one entry per click on #call-button:
//                           {clickAt, pcAt, localAt, remoteAt, iceAt,
//                           connectedAt, audioAt, packets}: the peer
//                           connection created, its local description set
//                           (offer), remote description set (answer), ICE
//                           "connected", connection "connected" (DTLS done),
//                           first audio packet received (audioAt: the
//                           earlier of the remote track's unmute and
//                           non-empty receiver synchronization sources,
//                           polled every 5 ms; statsAt: getStats
//                           packetsReceived > 0), ICE candidates seen
//   window.__bench.answers  the same for each peer connection made without a
//                           click (incoming calls): offerAt = remote offer set
//   window.__wasmMemory()   byte length of the wasm memories of the page (every
//                           instance WebAssembly.instantiate(Streaming) made:
//                           the app's or the library build's), null for JsSIP
//   window.__benchPcs()     open peer connections (weakly held)
//
// The function is serialized by Playwright: it must be self-contained.
export function benchProbe() {
  if (window.__bench) return;
  const now = () => performance.now();
  const B = (window.__bench = { states: [], wsIn: [], wsOut: [], calls: [], answers: [], wsCreated: [], wsOpened: [], started: null });

  // ---- wasm memory: of every instance the page makes (the app's, the
  // library build's), seen where WebAssembly instantiates them ----
  window.addEventListener('TrunkApplicationStarted', () => {
    B.started = now();
  });
  const memories = [];
  const grab = (r) => {
    const inst = r && r.instance ? r.instance : r;
    const mem = inst && inst.exports && inst.exports.memory;
    if (mem instanceof WebAssembly.Memory && !memories.includes(mem)) memories.push(mem);
    return r;
  };
  for (const k of ['instantiate', 'instantiateStreaming']) {
    const orig = WebAssembly[k];
    if (typeof orig === 'function') WebAssembly[k] = function (...a) { return orig.apply(this, a).then(grab); };
  }
  window.__wasmMemory = () => (memories.length ? memories.reduce((n, m) => n + m.buffer.byteLength, 0) : null);

  // ---- WebSocket: SIP frames in and out, timestamped first ----
  const firstLine = (d) => {
    if (typeof d === 'string') return d.slice(0, d.indexOf('\r\n') >= 0 ? d.indexOf('\r\n') : 80);
    try {
      const u8 = d instanceof ArrayBuffer ? new Uint8Array(d) : ArrayBuffer.isView(d) ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength) : null;
      if (!u8) return '';
      const s = new TextDecoder().decode(u8.subarray(0, 200));
      return s.slice(0, s.indexOf('\r\n') >= 0 ? s.indexOf('\r\n') : 80);
    } catch (e) {
      return '';
    }
  };
  const cseqOf = (d) => {
    const s = typeof d === 'string' ? d : '';
    const m = /\r\n(?:CSeq):\s*\d+\s+(\S+)/i.exec(s);
    return m ? m[1] : null;
  };
  const OrigWS = window.WebSocket;
  if (OrigWS) {
    class BenchWebSocket extends OrigWS {
      constructor(...args) {
        super(...args);
        B.wsCreated.push(now());
        this.addEventListener('open', () => B.wsOpened.push(now()));
        this.addEventListener('message', (e) => {
          B.wsIn.push({ t: now(), first: firstLine(e.data), cseq: cseqOf(e.data) });
          if (B.wsIn.length > 5000) B.wsIn.splice(0, 1000);
        });
      }
      send(data) {
        B.wsOut.push({ t: now(), first: firstLine(data), cseq: cseqOf(data) });
        if (B.wsOut.length > 5000) B.wsOut.splice(0, 1000);
        return super.send(data);
      }
    }
    window.WebSocket = BenchWebSocket;
  }

  // ---- peer connections: a timeline of the newest one after a click ----
  let refs = [];
  const pcs = () => {
    refs = refs.filter((r) => {
      const pc = r.deref();
      return pc && pc.signalingState !== 'closed';
    });
    return refs.map((r) => r.deref());
  };
  window.__benchPcs = pcs;
  let current = null; // the call entry waiting for its peer connection
  // the newest connection made without a click (an incoming call's, or one
  // a phone prepared while the number was typed: issue 15); a click takes
  // it when it has never had a remote offer
  let loose = null;
  const OrigPC = window.RTCPeerConnection;
  if (OrigPC) {
    class BenchPeerConnection extends OrigPC {
      constructor(...args) {
        super(...args);
        refs.push(new WeakRef(this));
        // the entry this connection's events go to (a click may move it)
        const h = { c: current };
        if (!h.c || h.c.pcAt !== null) {
          // not after a click on "call": a connection for an incoming call
          // (or prepared for the next outgoing one)
          h.c = {
            clickAt: null, pcAt: null, localAt: null, gatheredAt: null, remoteAt: null, offerAt: null,
            iceAt: null, connectedAt: null, audioAt: null, unmuteAt: null, ssrcAt: null, statsAt: null,
            packets: 0, pc: null, firstCandidateAt: null, lastCandidateAt: null, candidates: 0,
          };
          B.answers.push(h.c);
          if (B.answers.length > 200) B.answers.splice(0, 100);
          loose = h;
        }
        {
          h.c.pcAt = now();
          h.c.pc = new WeakRef(this);
          this.addEventListener('iceconnectionstatechange', () => {
            if (h.c.iceAt === null && (this.iceConnectionState === 'connected' || this.iceConnectionState === 'completed')) h.c.iceAt = now();
          });
          this.addEventListener('connectionstatechange', () => {
            if (h.c.connectedAt === null && this.connectionState === 'connected') h.c.connectedAt = now();
          });
          this.addEventListener('icecandidate', (e) => {
            if (e.candidate && e.candidate.candidate) {
              if (h.c.firstCandidateAt === null) h.c.firstCandidateAt = now();
              h.c.lastCandidateAt = now();
              h.c.candidates += 1;
            }
          });
          // the remote track is muted until its first RTP packet arrives
          this.addEventListener('track', (e) => {
            if (e.track.kind !== 'audio') return;
            const mark = () => {
              if (h.c.unmuteAt === null) h.c.unmuteAt = now();
            };
            if (!e.track.muted) mark();
            else e.track.addEventListener('unmute', mark, { once: true });
          });
          this.addEventListener('icegatheringstatechange', () => {
            if (h.c.gatheredAt === null && this.iceGatheringState === 'complete') h.c.gatheredAt = now();
          });
          const origLocal = this.setLocalDescription.bind(this);
          this.setLocalDescription = (...a) => {
            if (h.c.localAt === null) h.c.localAt = now();
            return origLocal(...a);
          };
          const origRemote = this.setRemoteDescription.bind(this);
          this.setRemoteDescription = (...a) => {
            const d = a[0];
            if (h.c.remoteAt === null && d && d.type === 'answer') h.c.remoteAt = now();
            if (h.c.offerAt === null && d && d.type === 'offer') h.c.offerAt = now();
            return origRemote(...a);
          };
        }
      }
    }
    window.RTCPeerConnection = BenchPeerConnection;
  }

  async function packetsOf(pc) {
    let packets = 0;
    try {
      const stats = await pc.getStats();
      stats.forEach((s) => {
        if (s.type === 'inbound-rtp' && (s.kind === 'audio' || s.mediaType === 'audio')) packets += s.packetsReceived || 0;
      });
    } catch (e) {
      // a closed connection may refuse getStats
    }
    return packets;
  }

  // first audio packet: the remote track's "unmute" (Chromium unmutes it on
  // the first RTP packet), and, polled every 5 ms, the receiver's
  // synchronization sources (filled from received packets, not cached);
  // getStats packetsReceived > 0 is recorded too (Chromium caches getStats
  // results for a while, so it is late by up to tens of ms)
  function watchAudio(c) {
    const deadline = c.clickAt + 20000;
    const tick = async () => {
      const pc = c.pc && c.pc.deref();
      if (pc) {
        if (c.ssrcAt === null) {
          for (const r of pc.getReceivers()) {
            if (r.track && r.track.kind === 'audio' && r.getSynchronizationSources().length > 0) {
              c.ssrcAt = now();
              break;
            }
          }
        }
        if (c.statsAt === null) {
          const p = await packetsOf(pc);
          if (p > 0) {
            c.statsAt = now();
            c.packets = p;
          }
        }
        const firsts = [c.unmuteAt, c.ssrcAt].filter((x) => x !== null);
        if (c.audioAt === null && firsts.length) c.audioAt = Math.min(...firsts);
        if (c.audioAt !== null && c.statsAt !== null) return;
      }
      if (now() < deadline) setTimeout(tick, 5);
    };
    setTimeout(tick, 5);
  }

  document.addEventListener(
    'click',
    (e) => {
      const el = e.target && e.target.closest ? e.target.closest('#call-button') : null;
      if (!el) return;
      const c = {
        clickAt: now(), pcAt: null, localAt: null, gatheredAt: null, remoteAt: null, offerAt: null,
        iceAt: null, connectedAt: null, audioAt: null, unmuteAt: null, ssrcAt: null, statsAt: null,
        packets: 0, pc: null, firstCandidateAt: null, lastCandidateAt: null, candidates: 0,
      };
      const pc = loose && loose.c.pc && loose.c.pc.deref();
      if (pc && pc.signalingState !== 'closed' && loose.c.offerAt === null) {
        // made before the click (the phone prepared it): its times so far
        // are this call's (negative: before the click)
        for (const k of ['pcAt', 'localAt', 'gatheredAt', 'firstCandidateAt', 'lastCandidateAt', 'candidates', 'pc']) c[k] = loose.c[k];
        const i = B.answers.indexOf(loose.c);
        if (i >= 0) B.answers.splice(i, 1);
        loose.c = c;
        loose = null;
      }
      current = c;
      B.calls.push(c);
      if (B.calls.length > 200) B.calls.splice(0, 100);
      watchAudio(c);
    },
    true,
  );

  // ---- states (MutationObserver) ----
  let last = '';
  function sample() {
    const reg = document.getElementById('reg-status');
    const phone = document.getElementById('phone');
    const inc = document.getElementById('incoming');
    const cur = {
      reg: reg ? reg.getAttribute('data-state') : null,
      phone: phone ? phone.getAttribute('data-phone') : null,
      incoming: !!inc && !inc.hidden && inc.getClientRects().length > 0,
    };
    const key = `${cur.reg}|${cur.phone}|${cur.incoming}`;
    if (key === last) return;
    last = key;
    B.states.push({ t: now(), ...cur });
    if (B.states.length > 5000) B.states.splice(0, 1000);
  }
  new MutationObserver(sample).observe(document, {
    subtree: true,
    childList: true,
    attributes: true,
    attributeFilter: ['data-state', 'data-phone', 'hidden', 'style', 'class'],
  });
}
