// Scenario "load-100": 100 calls in a row between two pages, without a
// reload: A (1006) calls B (1007), B answers, audio flows both ways on the
// call's own peer connection, one side hangs up (A on odd calls, B on even
// ones), both back to idle. Each call has 10 s, the whole loop 6 min.
//
// Memory, after call 1 and after the last call, on both pages (after the
// hang-up, once both are idle): the app's wasm linear memory (bytes) and the
// JS heap in use after a forced garbage collection (CDP). The scenario passes
// only if every call succeeds and the growth between the two measurements
// stays within LIMITS (it is printed in the results either way).
//
// wasm_memory_series has the wasm memory after calls 1, 25, 50, 75, 100.
// --load-calls N changes the number of calls (debugging only).
import { opt, step, openPage, shot, registerAll, callAndAnswer, audioBothWays, hangUp, memoryOf, user, sleep } from './lib.mjs';

const SC = 'load-100';
const MiB = 1024 * 1024;
export const LIMITS = { wasm_growth_bytes: 1 * MiB, js_heap_growth_bytes: 5 * MiB };
const CALL_MS = 10000;
const LOOP_MS = 6 * 60 * 1000;

export async function scenarioLoad(browser, base, r) {
  const N = Number(opt('load-calls', 100));
  const A = await openPage(browser, base, SC, 'A');
  const B = await openPage(browser, base, SC, 'B');
  r.pages = [A, B];
  await registerAll([A, B], [user(1006, 'Lena'), user(1007, 'Lars')]);

  r.calls_planned = N;
  r.calls_ok = 0;
  r.limits = LIMITS;
  const ms = [];
  const t0 = Date.now();
  let first = null;
  const wasmSeries = [];
  r.wasm_memory_series = wasmSeries;
  for (let i = 1; i <= N; i++) {
    if (Date.now() - t0 > LOOP_MS) throw new Error(`only ${i - 1} of ${N} calls within ${LOOP_MS / 1000} s`);
    const c0 = Date.now();
    await step(`call ${i}`, CALL_MS, async () => {
      await callAndAnswer(A, B, '1007', { ring: 8000, answer: 8000 });
      await audioBothWays([A, B], 5000);
      if (i % 2) await hangUp(A, B, 5000);
      else await hangUp(B, A, 5000);
    });
    ms.push(Date.now() - c0);
    r.calls_ok = i;
    if (i === 1) {
      first = { A: await memoryOf(A), B: await memoryOf(B) };
      r.screenshots.push(await shot(A.page, SC, 'after-call-1-A'));
    }
    if (i === 1 || i % 25 === 0) {
      // wasm memory only (cheap, no GC): does it grow with every call?
      const [a, b] = await Promise.all([A, B].map((P) => P.page.evaluate(() => window.__wasmMemory())));
      wasmSeries.push({ call: i, A: a, B: b });
    }
  }
  r.loop_ms = Date.now() - t0;
  await sleep(200);
  const last = { A: await memoryOf(A), B: await memoryOf(B) };
  r.screenshots.push(await shot(A.page, SC, `after-call-${N}-A`));
  r.screenshots.push(await shot(B.page, SC, `after-call-${N}-B`));
  ms.sort((a, b) => a - b);
  r.call_ms = {
    min: ms[0],
    median: ms[Math.floor(ms.length / 2)],
    p95: ms[Math.min(ms.length - 1, Math.floor(ms.length * 0.95))],
    max: ms[ms.length - 1],
  };
  r.memory = {};
  const over = [];
  for (const who of ['A', 'B']) {
    const f = first[who];
    const l = last[who];
    const m = {
      wasm_after_call_1: f.wasm_memory,
      wasm_after_last_call: l.wasm_memory,
      wasm_growth: l.wasm_memory - f.wasm_memory,
      js_heap_after_call_1: f.js_heap_used,
      js_heap_after_last_call: l.js_heap_used,
      js_heap_growth: l.js_heap_used - f.js_heap_used,
    };
    r.memory[who] = m;
    if (f.wasm_memory === null || l.wasm_memory === null) over.push(`${who}: wasm memory not readable`);
    else if (m.wasm_growth > LIMITS.wasm_growth_bytes) over.push(`${who}: wasm memory grew ${m.wasm_growth} bytes`);
    if (m.js_heap_growth > LIMITS.js_heap_growth_bytes) over.push(`${who}: JS heap grew ${m.js_heap_growth} bytes`);
  }
  r.open_peer_connections = {
    A: await A.page.evaluate(() => window.__pcs().length),
    B: await B.page.evaluate(() => window.__pcs().length),
  };
  if (r.open_peer_connections.A > 1 || r.open_peer_connections.B > 1) {
    over.push(`peer connections left open after ${N} calls: ${JSON.stringify(r.open_peer_connections)}`);
  }
  if (over.length) throw new Error(`after ${N} calls: ${over.join('; ')} (limits ${JSON.stringify(LIMITS)})`);
}
