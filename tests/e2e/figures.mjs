#!/usr/bin/env node
// The measured figures of an e2e results file, a few lines for the test
// summary (scripts/test.sh prints them under the steps):
//   node tests/e2e/figures.mjs tests/artifacts/e2e-load-results.json
import fs from 'node:fs';

const r = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const KiB = (b) => (b === null || b === undefined ? '?' : `${(b / 1024).toFixed(0)} KiB`);
const out = (s) => console.log(`       ${s}`);

for (const s of r.scenarios) {
  if (s.name === 'call' && s.register_ms) {
    out(`call: register A ${s.register_ms.A} ms, B ${s.register_ms.B} ms; click to first audio ${s.click_to_audio_ms} ms`);
  }
  if (s.name === 'hostile-peer' && s.checks) {
    const all = Object.entries(s.checks);
    const bad = all.filter(([, c]) => !c.ok).map(([k]) => k);
    const skipped = all.filter(([, c]) => c.skipped).map(([k]) => k);
    out(`hostile-peer: ${all.length - bad.length}/${all.length} checks ok${bad.length ? `; failed: ${bad.join(', ')}` : ''}${skipped.length ? `; skipped: ${skipped.join(', ')}` : ''}`);
  }
  if (s.name === 'load-100') {
    out(`load-100: ${s.calls_ok}/${s.calls_planned} calls in ${((s.loop_ms || 0) / 1000).toFixed(1)} s${s.call_ms ? `, per call median ${s.call_ms.median} ms, max ${s.call_ms.max} ms` : ''}`);
    for (const [who, m] of Object.entries(s.memory || {})) {
      out(`  ${who}: wasm memory ${KiB(m.wasm_after_call_1)} -> ${KiB(m.wasm_after_last_call)} (+${KiB(m.wasm_growth)}), JS heap after GC ${KiB(m.js_heap_after_call_1)} -> ${KiB(m.js_heap_after_last_call)} (${m.js_heap_growth >= 0 ? '+' : ''}${KiB(m.js_heap_growth)})`);
    }
  }
  if (s.name === 'pbx-restart' && s.reregister_ms) {
    out(`pbx-restart: outage ${s.outage_ms} ms; registered again A ${s.reregister_ms.A} ms, B ${s.reregister_ms.B} ms after the start command; BYE -> idle ${s.bye_to_idle_ms} ms`);
    if (s.peer_gone && s.peer_gone.call_ended_ms) {
      out(`  peer gone: call ended ${s.peer_gone.call_ended_ms} ms after the PBX came back: "${s.peer_gone.error || s.peer_gone.notice}"`);
    }
  }
  if (s.name === 'embed-element' && s.after_unmount) {
    const u = s.after_unmount;
    out(`embed-element: registered ${s.register_ms} ms after register(); unmount closed the WebSocket in ${s.ws_closed_ms} ms; left: ${u.openSockets.length} sockets, ${u.liveTracks} live tracks, ${u.pcs} peer connections, ${u.openContexts} audio contexts, ${u.timers.length} timers, ${u.intervals.length} intervals`);
  }
  if (s.name === 'embed-hostile-css' && s.diff) {
    out(`embed-hostile-css: ${s.diff.diff} of ${s.diff.a[0] * s.diff.a[1]} pixels differ (${(s.diff.ratio * 100).toFixed(2)} %)`);
  }
  if (s.name === 'echo-test' && s.round_trip_ms) {
    out(`echo-test: round trip ${(s.round_trip_ms.each || []).join(', ')} ms (median ${s.round_trip_ms.median}); returned tone ${s.frequency_hz} Hz (purity ${s.purity}); codec ${s.codecs && s.codecs.out}`);
  }
  if (s.name === 'sipp-caller' && s.energy) {
    out(`sipp-caller: page hears ${s.frequency_hz} Hz (purity ${s.purity}), power ${s.energy.power.toExponential(1)}; rtpengine packets ${JSON.stringify(s.rtpengine_packets)}`);
  }
  if (s.name === 'ws-kill' && s.reregister_ms) {
    out(`ws-kill: B registered again ${s.reregister_ms.B} ms after ws.close (close event after ${s.ws_close_event_ms} ms); BYE -> idle ${s.bye_to_idle_ms} ms`);
  }
}
