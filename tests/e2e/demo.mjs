// The demo's web server (scripts/serve-demo.mjs, what scripts/demo.sh
// runs after `trunk build --release`), end to end (issue 14):
//   demo-serve   the server prints the instructions last (its last lines are
//                the stop hint and the address); it serves the release build
//                (the same .wasm bytes as dist/, far below a debug build's
//                7.4 MB); twenty page loads while files under src/ and fuzz/
//                change every 50 ms each show the phone, none a blank page.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, DIST, T, sleep, step, openPage, shot } from './lib.mjs';

/** Start the demo server on a free port; resolves to { url, out, stop }. */
async function startDemoServer() {
  const child = spawn('node', [path.join(ROOT, 'scripts/serve-demo.mjs'), '--dist', DIST, '--port', '0'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the demo server did not start: ${out}`)), 10000);
    const check = () => {
      const m = /serving (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout.on('data', check);
    child.on('exit', (code) => reject(new Error(`the demo server ended (${code}): ${out}`)));
  });
  return {
    url,
    out: () => out,
    stop: () => new Promise((resolve) => {
      child.once('exit', resolve);
      child.kill('SIGTERM');
      setTimeout(resolve, 3000);
    }),
  };
}

async function demoServe(browser, _base, r) {
  const SC = 'demo-serve';
  const server = await startDemoServer();
  const touched = [path.join(ROOT, 'src', '.demo-touch'), path.join(ROOT, 'fuzz', '.demo-touch')];
  let writing = true;
  try {
    // the instructions come last
    const lines = server.out().trimEnd().split('\n');
    r.last_lines = lines.slice(-2).map((l) => l.trim());
    if (!/^Stop:/.test(r.last_lines[0]) || !/^serving http/.test(r.last_lines[1])) {
      throw new Error(`the demo's last lines are ${JSON.stringify(r.last_lines)}`);
    }
    // the release build, byte for byte
    const wasmName = fs.readdirSync(DIST).find((f) => /^softphone-.*\.wasm$/.test(f)); // the app's
    const onDisk = fs.readFileSync(path.join(DIST, wasmName));
    const served = Buffer.from(await (await fetch(new URL(wasmName, server.url))).arrayBuffer());
    r.wasm = { file: wasmName, bytes: served.length };
    if (!served.equals(onDisk)) throw new Error('the served .wasm differs from dist/');
    if (served.length > 3_000_000) throw new Error(`the served .wasm has ${served.length} bytes: not a release build`);
    // page loads while files change
    const writer = (async () => {
      let n = 0;
      while (writing) {
        for (const f of touched) fs.writeFileSync(f, String(n++));
        await sleep(50);
      }
    })();
    const P = await openPage(browser, server.url, SC, 'A');
    r.pages = [P];
    r.loads = 0;
    await step('twenty page loads during file changes', 20 * T.load, async () => {
      for (let i = 0; i < 20; i++) {
        await P.page.goto(server.url, { waitUntil: 'load', timeout: T.load });
        await P.page.waitForSelector('#phone[data-phone] #reg-status[data-state]', { timeout: T.load });
        r.loads += 1;
      }
    });
    r.screenshots.push(await shot(P.page, SC, 'served'));
    writing = false;
    await writer;
  } finally {
    writing = false;
    for (const f of touched) fs.rmSync(f, { force: true });
    await server.stop();
  }
}

export const DEMO = { 'demo-serve': demoServe };
