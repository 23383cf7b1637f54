// Shared pieces of the end-to-end tests (call.mjs runs the scenarios):
// options, time limits, page handling through the app's DOM contract, the
// call steps every scenario uses, and access to the PBX (pbx/pbx.sh) and
// sipp. Nothing here knows the app's internals.
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pageProbe } from './page-probe.mjs';
import { serveStatic } from './static-server.mjs';
import { launchChromium } from './chromium.mjs';
import { launchFirefox } from './firefox.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, '..', '..');

// ---------- options ----------
const argv = process.argv.slice(2);
export function opt(name, def) {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = argv[i + 1];
  return v === undefined || v.startsWith('--') ? true : v;
}
export const DIST = path.resolve(opt('dist', path.join(ROOT, 'dist')));
export const ART = path.resolve(opt('artifacts', path.join(ROOT, 'tests', 'artifacts')));
export const WS = opt('ws', 'ws://127.0.0.1:8088');
export const DOMAIN = '127.0.0.1';
export const PBX_SH = path.join(ROOT, 'pbx', 'pbx.sh');
export const SIPP_DIR = path.join(ROOT, 'pbx', 'sipp');
/** The browser the scenarios run in: --browser chromium (default) | firefox. */
export const BROWSER = String(opt('browser', 'chromium'));
if (!['chromium', 'firefox'].includes(BROWSER)) throw new Error(`--browser ${BROWSER}: chromium or firefox`);

/**
 * Launch a browser by name ('chromium' | 'firefox'); `launch` holds the
 * options of launchChromium / launchFirefox (executablePath, headed, ...).
 */
export function launchBrowser(kind = BROWSER, launch = {}) {
  return kind === 'firefox' ? launchFirefox(launch) : launchChromium(launch);
}

/** 'chromium' or 'firefox': the kind of a launched browser. */
export const kindOf = (browser) => browser.browserType().name();

// per-step limits (ms)
export const T = {
  load: 30000, // page load incl. wasm compile
  register: 15000,
  ring: 15000,
  answer: 15000,
  media: 10000,
  hangup: 10000,
  error: 20000,
  ui: 5000,
};

fs.mkdirSync(ART, { recursive: true });
export const openLogs = [];

// ---------- small helpers ----------
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const r1 = (x) => (x === null || x === undefined ? null : Math.round(x * 10) / 10);

/**
 * Run fn, failing with a clear message after ms (+ 3 s of grace, so that the
 * waits inside fn, which have the same limit, fail first with details).
 */
export async function step(label, ms, fn) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label}: timed out after ${ms} ms`)), ms + 3000);
  });
  try {
    return await Promise.race([fn(), limit]);
  } catch (e) {
    if (e.message.startsWith(`${label}:`)) throw e;
    throw new Error(`${label}: ${e.message.split('\n')[0]}`);
  } finally {
    clearTimeout(timer);
  }
}

export function pageLog(file) {
  const stream = fs.createWriteStream(path.join(ART, file));
  openLogs.push(stream);
  const t0 = Date.now();
  return (line) => stream.write(`${String(Date.now() - t0).padStart(6)} ${line}\n`);
}

/**
 * New isolated context (own storage) + page, with probe and logging.
 * Returns { context, page, name, log, pageErrors, frames } where frames is
 * the SIP traffic of the page ({dir: '>>'|'<<', text, at}) and
 * consoleLines its console, newest last, at most the last 400 of each (the
 * log file has them all).
 */
/** CSP hash of "body {}", the style Playwright adds while it takes a screenshot in Firefox. */
const PLAYWRIGHT_SCREENSHOT_STYLE = 'sha256-YjaKGiklmzC6wjXA513HAMmzus8VE61XCOT+SmwNZWA=';
const frameHandlers = new WeakMap(); // Firefox context -> Map(page -> frame handler)
const firstTaken = new WeakSet(); // profile contexts whose first blank page is in use

export async function openPage(browser, base, scenario, name, { path: sub = '', ready = '#phone', init = [] } = {}) {
  // a Browser gets a new context per page; a BrowserContext (Firefox with
  // its own profile, launchFirefoxProfile) is used as it is
  const own = typeof browser.newContext === 'function';
  const context = own ? await browser.newContext({ viewport: { width: 900, height: 900 } }) : browser;
  const kind = own ? kindOf(browser) : 'firefox';
  const log = pageLog(`${scenario}-${name}.log`);
  const P = { context, page: null, name, log, kind, pageErrors: [], frames: [], consoleLines: [], wsCount: 0, wsUrls: [], wsClosedAt: [] };
  // SIP over WebSocket, both directions, whole messages (indented)
  const sip = (dir, t) => {
    P.frames.push({ dir, text: t, at: Date.now() });
    if (P.frames.length > 400) P.frames.splice(0, P.frames.length - 400);
    const [first, ...rest] = t.replace(/\r\n$/, '').split('\r\n');
    log(`ws ${dir} ${first}${rest.map((l) => `\n         ${l}`).join('')}`);
  };
  const wsOpened = (url) => {
    P.wsCount += 1;
    P.wsUrls.push(url);
    log(`websocket open ${url}`);
  };
  const wsClosed = () => {
    P.wsClosedAt.push(Date.now());
    log('websocket closed');
  };
  const onFrame = (ev, data) => {
    if (ev === 'open') wsOpened(data);
    else if (ev === 'close') wsClosed();
    else sip(ev, String(data));
  };
  if (kind === 'firefox') {
    // no WebSocket events over BiDi: the page probe reports each frame
    // through a binding, one per context, which finds the page's handler
    if (!frameHandlers.has(context)) {
      const handlers = new Map();
      frameHandlers.set(context, handlers);
      await context.exposeBinding('__sipFrame', (source, ev, data) => handlers.get(source.page)?.(ev, data));
      await context.addInitScript(pageProbe);
    }
  } else {
    await context.addInitScript(pageProbe);
  }
  for (const script of init) await context.addInitScript(script);
  // a profile's context opens with one blank page: the first openPage takes it
  const blank = !own && !firstTaken.has(context) ? context.pages().find((p) => p.url() === 'about:blank') : null;
  if (!own) firstTaken.add(context);
  const page = blank || (await context.newPage());
  if (kind === 'firefox') frameHandlers.get(context).set(page, onFrame);
  P.page = page;
  page.on('console', (m) => {
    const line = `console.${m.type()}: ${m.text()}`;
    P.consoleLines.push(line);
    if (P.consoleLines.length > 400) P.consoleLines.splice(0, P.consoleLines.length - 400);
    log(line);
  });
  page.on('pageerror', (e) => {
    log(`pageerror: ${e.message}`);
    // Playwright's own screenshot step adds a <style>body {}</style> (its
    // "sync animations" in Firefox); a page's CSP refuses it, and Firefox
    // reports the refusal as a page error. That one is not the app's.
    if (e.message.includes(`'${PLAYWRIGHT_SCREENSHOT_STYLE}'`)) return;
    P.pageErrors.push(e.message);
  });
  page.on('requestfailed', (r) => log(`requestfailed: ${r.url()} ${r.failure()?.errorText}`));
  page.on('crash', () => {
    P.pageErrors.push('page crashed');
    log('page crashed');
  });
  page.on('websocket', (ws) => {
    wsOpened(ws.url());
    const text = (p) => (typeof p === 'string' ? p : Buffer.from(p).toString('utf8'));
    ws.on('framesent', (f) => sip('>>', text(f.payload)));
    ws.on('framereceived', (f) => sip('<<', text(f.payload)));
    ws.on('socketerror', (e) => log(`websocket error ${e}`));
    ws.on('close', wsClosed);
  });
  page.setDefaultTimeout(T.ui);
  await step(`${name}: load app`, T.load, async () => {
    await page.goto(base + sub, { waitUntil: 'load', timeout: T.load });
    // the app is up when its root element exists
    await page.waitForSelector(ready, { state: 'attached', timeout: T.load });
  });
  return P;
}

export async function shot(page, scenario, state) {
  const file = `${scenario}-${state}.png`;
  await page.screenshot({ path: path.join(ART, file), fullPage: true, timeout: T.ui }).catch(() => {});
  return file;
}

/** Make the settings form visible (it may be hidden while registered). */
export async function openSettings(page) {
  if (!(await page.isVisible('#settings-form'))) {
    await page.click('#open-settings');
    await page.waitForSelector('#settings-form', { state: 'visible' });
  }
  // the preferences and the advanced part are under "More settings"
  if (!(await page.locator('#more-settings').evaluate((el) => el.open))) {
    await page.click('#more-settings > summary');
  }
}

export async function fillSettings(page, s) {
  await openSettings(page);
  await page.fill('#ws-url', s.ws);
  await page.fill('#sip-uri', s.uri);
  await page.fill('#auth-user', s.user);
  await page.fill('#password', s.password);
  await page.fill('#display-name', s.name);
}

export const regState = (page) => page.getAttribute('#reg-status', 'data-state').catch(() => null);
export const phoneState = (page) => page.getAttribute('#phone', 'data-phone').catch(() => null);
export const textOf = (page, sel) =>
  page.evaluate((s) => {
    const el = document.querySelector(s);
    return el ? el.textContent.trim() : null;
  }, sel);

/** The #error banner: visible with non-empty text. */
export async function errorText(page) {
  return page.evaluate(() => {
    const el = document.getElementById('error');
    if (!el) return null;
    const t = el.textContent.trim();
    const visible = !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
    return visible && t ? t : null;
  });
}

export async function waitReg(page, state, ms) {
  try {
    await page.waitForSelector(`#reg-status[data-state="${state}"]`, { state: 'attached', timeout: ms });
  } catch {
    const err = await errorText(page).catch(() => null);
    throw new Error(`reg-status is "${await regState(page)}", want "${state}"${err ? ` (error: ${err})` : ''}`);
  }
}

export async function waitPhone(page, states, ms) {
  const want = [].concat(states);
  try {
    await page.waitForFunction(
      (w) => w.includes(document.getElementById('phone')?.getAttribute('data-phone')),
      want,
      { timeout: ms, polling: 20 },
    );
  } catch {
    const err = await errorText(page).catch(() => null);
    throw new Error(`phone is "${await phoneState(page)}", want ${want.join('|')}${err ? ` (error: ${err})` : ''}`);
  }
}

/** Wait until the text of sel matches re (a RegExp). */
export async function waitText(page, sel, re, ms, who) {
  try {
    await page.waitForFunction(
      ([s, src, flags]) => new RegExp(src, flags).test(document.querySelector(s)?.textContent || ''),
      [sel, re.source, re.flags],
      { timeout: ms, polling: 50 },
    );
  } catch {
    throw new Error(`${who}: ${sel} is ${JSON.stringify(await textOf(page, sel))}, want ${re}`);
  }
}

/** Wait until the visible #error banner matches re. */
export async function waitError(page, re, ms, who) {
  try {
    await page.waitForFunction(
      ([src, flags]) => {
        const el = document.getElementById('error');
        return !!el && el.getClientRects().length > 0 && new RegExp(src, flags).test(el.textContent);
      },
      [re.source, re.flags],
      { timeout: ms, polling: 50 },
    );
  } catch {
    throw new Error(`${who}: #error is ${JSON.stringify(await errorText(page))}, want ${re}`);
  }
}

export async function expectNoError(page, who) {
  const err = await errorText(page);
  if (err) throw new Error(`${who}: unexpected error shown: ${err}`);
}

export const probe = (page) => page.evaluate(() => window.__probe);

export const user = (n, name) => ({
  ws: WS,
  uri: `sip:${n}@${DOMAIN}`,
  user: String(n),
  password: `secret${n}`,
  name,
});

// ---------- steps shared by the scenarios ----------

/**
 * Fill the settings of every page (then `afterFill(page, settings)`, for
 * more fields) and register them all. Returns each page's time from the
 * click on "Save and sign in" to registered (ms, by page name).
 */
export async function registerAll(pages, settings, { afterFill = null } = {}) {
  await step('fill settings', T.ui * pages.length * (afterFill ? 2 : 1), async () => {
    for (let i = 0; i < pages.length; i++) {
      await fillSettings(pages[i].page, settings[i]);
      if (afterFill) await afterFill(pages[i], settings[i]);
    }
  });
  await step(`register ${pages.map((p) => p.name).join(' and ')}`, T.register, async () => {
    await Promise.all(pages.map((p) => p.page.click('#save-register')));
    await Promise.all(pages.map((p) => waitReg(p.page, 'registered', T.register)));
  });
  await step('idle after register', T.ui, async () => {
    for (const p of pages) {
      await waitPhone(p.page, 'idle', T.ui);
      await expectNoError(p.page, p.name);
    }
  });
  const ms = {};
  for (const p of pages) {
    const pr = await probe(p.page);
    ms[p.name] = r1(pr.first['reg:registered'] - pr.clicks['save-register']);
  }
  return ms;
}

/** Inbound audio of the newest peer connection of a page (bytes, packets, state). */
export async function newestAudio(page) {
  const a = await page.evaluate(() => window.__inboundAudio());
  const last = a.connections[a.connections.length - 1];
  return last ? { ...last, count: a.connections.length } : { bytes: 0, packets: 0, state: null, count: 0 };
}

/**
 * A dials `number`, B rings and answers, both active. Returns
 * { ringMs, answerMs } (from the click on #call-button).
 */
export async function callAndAnswer(A, B, number, ms = {}) {
  const ring = ms.ring || T.ring;
  const answer = ms.answer || T.answer;
  const t0 = Date.now();
  await step(`${A.name} dials ${number}`, T.ui, async () => {
    await A.page.fill('#dial-input', number);
    await A.page.click('#call-button');
  });
  await step(`${B.name} rings`, ring, async () => {
    await waitPhone(B.page, 'incoming', ring);
    await B.page.waitForSelector('#incoming', { state: 'visible', timeout: ring });
  });
  const ringMs = Date.now() - t0;
  await step(`${B.name} answers`, answer, async () => {
    await B.page.click('#answer-button');
    await Promise.all([waitPhone(A.page, 'active', answer), waitPhone(B.page, 'active', answer)]);
  });
  return { ringMs, answerMs: Date.now() - t0 };
}

/**
 * Audio flows both ways on the newest peer connection of each page: its
 * inbound-rtp bytes grow past `after` (per page name, default 0) within ms.
 * Returns the byte counts seen.
 */
export async function audioBothWays(pages, ms = T.media, after = {}) {
  const end = Date.now() + ms;
  let last = {};
  while (Date.now() < end) {
    const got = await Promise.all(pages.map((p) => newestAudio(p.page)));
    last = Object.fromEntries(pages.map((p, i) => [p.name, got[i].bytes]));
    if (pages.every((p, i) => got[i].bytes > (after[p.name] || 0))) return last;
    await sleep(100);
  }
  throw new Error(`audio does not flow both ways within ${ms} ms: bytes ${JSON.stringify(last)}, needed more than ${JSON.stringify(after)}`);
}

/**
 * The negotiated `kind` ('audio', 'video') codecs of the newest peer
 * connection of a page, from getStats: { out, in } as "audio/PCMU/8000"
 * (null when there is no connection yet).
 */
export const streamCodecs = (page, kind) =>
  page.evaluate(async (kind) => {
    const pc = window.__pcs().at(-1);
    if (!pc) return null;
    const st = await pc.getStats();
    const out = {};
    st.forEach((s) => {
      if ((s.type === 'outbound-rtp' || s.type === 'inbound-rtp') && s.kind === kind && s.codecId) {
        const c = st.get(s.codecId);
        out[s.type === 'outbound-rtp' ? 'out' : 'in'] = c ? `${c.mimeType}/${c.clockRate}` : null;
      }
    });
    return out;
  }, kind);

export const audioCodecs = (page) => streamCodecs(page, 'audio');

/** The codec names of the first m=<kind> stream of an SDP body, in its order. */
export function sdpCodecs(sdp, kind) {
  const m = new RegExp(`^m=${kind} \\d+ \\S+ ([^\\r\\n]*)$`, 'm').exec(sdp || '');
  if (!m) return [];
  // the stream's own lines: to the next m=
  const rest = sdp.slice(m.index + m[0].length);
  const next = rest.search(/^m=/m);
  const lines = next < 0 ? rest : rest.slice(0, next);
  return m[1].trim().split(/\s+/).map((pt) => {
    const map = new RegExp(`^a=rtpmap:${pt} ([^/\\s]+)`, 'm').exec(lines);
    const fixed = kind === 'audio' ? { 0: 'PCMU', 8: 'PCMA', 9: 'G722' }[pt] : undefined;
    return map ? map[1] : fixed || `pt${pt}`;
  });
}

export const sdpAudioCodecs = (sdp) => sdpCodecs(sdp, 'audio');

/** Decoded video frames of a page's peer connection `index` (default the newest): inbound-rtp framesDecoded from getStats. */
export const framesDecoded = (P, index = -1) =>
  P.page.evaluate(async (i) => {
    const pc = window.__pcs().at(i);
    if (!pc) return 0;
    let n = 0;
    (await pc.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') n += s.framesDecoded || 0;
    });
    return n;
  }, index);

/** How many video frames each [page, connection index] decoded over `ms`. */
export async function framesOverTime(list, ms) {
  const before = await Promise.all(list.map(([P, i]) => framesDecoded(P, i)));
  await sleep(ms);
  const after = await Promise.all(list.map(([P, i]) => framesDecoded(P, i)));
  return after.map((a, k) => a - before[k]);
}

/** A hangs up; both pages back to idle. */
export async function hangUp(A, B, ms = T.hangup) {
  await step(`${A.name} hangs up`, ms, async () => {
    await A.page.click('#hangup-button');
    await Promise.all([waitPhone(A.page, 'idle', ms), waitPhone(B.page, 'idle', ms)]);
  });
}

/** JS heap after a forced GC (CDP), and the wasm linear memory size, in bytes. */
export async function memoryOf(P) {
  if (!P.cdp) P.cdp = await P.context.newCDPSession(P.page);
  await P.cdp.send('HeapProfiler.collectGarbage');
  await P.cdp.send('HeapProfiler.collectGarbage');
  const heap = await P.cdp.send('Runtime.getHeapUsage');
  const wasm = await P.page.evaluate(() => (window.__wasmMemory ? window.__wasmMemory() : null));
  return { js_heap_used: heap.usedSize, js_heap_total: heap.totalSize, wasm_memory: wasm };
}

// ---------- processes: pbx.sh, sipp ----------

/**
 * Run a command (no shell), with a hard time limit. Resolves to
 * { code, signal, stdout, stderr, ms } (never rejects).
 */
export function run(cmd, args, { timeout = 30000, env, input } = {}) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(cmd, args, { env: { ...process.env, ...(env || {}) }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: -1, signal: null, stdout, stderr: stderr + String(e), ms: Date.now() - t0 });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - t0 });
    });
    if (input) child.stdin.end(input);
    else child.stdin.end();
  });
}

/**
 * pbx/pbx.sh <args> (it honours PBX_NETNS from the environment; `env` adds
 * more, e.g. PBX_NODE for the cluster). A restart from here appends to the
 * PBX log instead of starting a new one.
 */
export async function pbx(args, timeout = 30000, env = {}) {
  const r = await run('bash', [PBX_SH, ...args], { timeout, env: { PBX_LOG_APPEND: '1', ...env } });
  if (r.code !== 0) throw new Error(`pbx.sh ${args.join(' ')}: exit ${r.code} ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return r.stdout;
}

/** A Kamailio RPC (kamcmd through pbx.sh rpc). */
export const rpc = (...args) => pbx(['rpc', ...args], 10000);

/**
 * The PBX's view of a page's registration: the usrloc contact of `aor` whose
 * Address is the Contact the page registered. Returns
 * { address, received, port, tcpconnId } or null.
 */
export async function contactOf(P, aor) {
  const sent = P.frames.filter((f) => f.dir === '>>' && f.text.startsWith('REGISTER '));
  const last = sent[sent.length - 1];
  const m = last && /\r\nContact:\s*<([^>]+)>/i.exec(last.text);
  if (!m) return null;
  const mine = m[1];
  const out = await rpc('ul.lookup', 'location', aor);
  for (const block of out.split(/Contact: \{/).slice(1)) {
    const addr = /Address: (\S+)/.exec(block)?.[1];
    if (addr !== mine) continue;
    const received = /Received: (\S+)/.exec(block)?.[1] || null;
    const port = received ? Number(/:(\d+)/.exec(received.replace(/^sip:/, ''))?.[1]) : null;
    const tcpconnId = Number(/Tcpconn-Id: (-?\d+)/.exec(block)?.[1]);
    return { address: addr, received, port, tcpconnId };
  }
  return null;
}

/** Split a sipp -trace_msg file into messages: [{dir: 'sent'|'received', text}]. */
export function sippMessages(file) {
  let raw = '';
  try {
    raw = fs.readFileSync(file, 'latin1');
  } catch {
    return [];
  }
  const out = [];
  const re = /^(?:UDP|TCP) message (sent|received)[^\n]*\n\n([\s\S]*?)(?=\n-{20,}|$(?![\s\S]))/gm;
  let m;
  while ((m = re.exec(raw))) out.push({ dir: m[1], text: m[2].trim() });
  return out;
}

/** First lines of a sipp trace, e.g. ["> INVITE", "< 100", "< 488", "> ACK"]. */
export function sippFlow(msgs) {
  return msgs.map((m) => {
    const first = m.text.split('\n')[0];
    const resp = /^SIP\/2\.0 (\d{3})/.exec(first);
    return `${m.dir === 'sent' ? '>' : '<'} ${resp ? resp[1] : first.split(' ')[0]}`;
  });
}

/** A header of a SIP message text (first occurrence), or null. */
export function sipHeader(text, name) {
  const m = new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(text);
  return m ? m[1].trim() : null;
}

/**
 * Run sipp with a scenario of pbx/sipp/, message trace in
 * <ART>/<traceName>.msg. rawKeys: { name: "printf %b escapes" } become
 * "-key name <bytes>" (e.g. "caf\\xe9" for a Latin-1 byte, which a JS string
 * argument cannot carry). Resolves to { code, ms, msgs, flow, out }.
 */
export async function sipp(scenarioFile, args, traceName, { timeout = 30000, rawKeys = {} } = {}) {
  const msgFile = path.join(ART, `${traceName}.msg`);
  fs.mkdirSync(path.dirname(msgFile), { recursive: true });
  fs.rmSync(msgFile, { force: true });
  const env = {};
  let script = 'exec sipp "$@"';
  Object.entries(rawKeys).forEach(([k, v], i) => {
    env[`SIPP_RAW_${i}`] = v;
    script += ` -key ${k} "$(printf '%b' "$SIPP_RAW_${i}")"`;
  });
  const r = await run(
    'bash',
    [
      '-c', script, 'sipp',
      ...args,
      '-sf', path.join(SIPP_DIR, scenarioFile),
      '-nostdin',
      '-trace_msg', '-message_file', msgFile,
      '-trace_err', '-error_file', path.join(ART, `${traceName}.err`),
    ],
    { timeout, env },
  );
  fs.writeFileSync(path.join(ART, `${traceName}.out`), `${r.stdout}\n${r.stderr}`);
  const msgs = sippMessages(msgFile);
  return { code: r.code, ms: r.ms, msgs, flow: sippFlow(msgs), out: r.stdout };
}

// ---------- issue 5 (desk-phone features, features.mjs) ----------

/** Is sel in the page and rendered (has a layout box)? */
export const visible = (page, sel) =>
  page.evaluate((s) => {
    const el = document.querySelector(s);
    return !!el && el.getClientRects().length > 0;
  }, sel);

export async function waitVisible(page, sel, ms, who) {
  try {
    await page.waitForSelector(sel, { state: 'visible', timeout: ms });
  } catch {
    throw new Error(`${who}: ${sel} not visible within ${ms} ms`);
  }
}

/** Wait until attribute attr of sel is one of values (string or array). */
export async function waitAttr(page, sel, attr, values, ms, who) {
  const want = [].concat(values).map(String);
  try {
    await page.waitForFunction(
      ([s, a, w]) => {
        const el = document.querySelector(s);
        return !!el && w.includes(el.getAttribute(a));
      },
      [sel, attr, want],
      { timeout: ms, polling: 50 },
    );
  } catch {
    const got = await page.getAttribute(sel, attr, { timeout: 500 }).catch(() => '(no element)');
    throw new Error(`${who}: ${sel} [${attr}] is ${JSON.stringify(got)}, want ${want.join('|')}`);
  }
}

/** Wait until at least n elements match sel. */
export async function waitCount(page, sel, n, ms, who) {
  try {
    await page.waitForFunction(([s, k]) => document.querySelectorAll(s).length >= k, [sel, n], { timeout: ms, polling: 50 });
  } catch {
    const got = await page.evaluate((s) => document.querySelectorAll(s).length, sel).catch(() => '?');
    throw new Error(`${who}: ${got} element(s) match ${sel}, want at least ${n}`);
  }
}

/**
 * Inbound audio energy of the newest peer connection over `ms`: mean power
 * (delta totalAudioEnergy / delta totalSamplesDuration), bytes received in
 * the window and the last audioLevel. `index` picks another connection
 * (0 = oldest); the conference scenario compares several.
 */
export async function energyOver(page, ms = 2000, index = -1) {
  const pick = (per) => (index < 0 ? per[per.length + index] : per[index]) || { energy: 0, duration: 0, bytes: 0, level: 0 };
  const a = pick(await page.evaluate(() => window.__inboundEnergy()));
  await sleep(ms);
  const b = pick(await page.evaluate(() => window.__inboundEnergy()));
  const dd = b.duration - a.duration;
  return {
    power: dd > 0 ? (b.energy - a.energy) / dd : 0,
    bytes: b.bytes - a.bytes,
    level: b.level,
    seconds: Math.round(dd * 100) / 100,
  };
}

/**
 * Remove every binding of the given users at the PBX (sipp REGISTER
 * Contact: * with Expires: 0), so that a leftover registration of an
 * earlier run or scenario cannot fork the calls of this one.
 */
let sippPort = 5201;
export async function clearBindings(numbers, traceDir) {
  for (const n of numbers) {
    const res = await sipp(
      'hostile/register-contact.xml',
      ['127.0.0.1:5060', '-s', String(n), '-au', String(n), '-ap', `secret${n}`, '-key', 'contact', '*', '-key', 'expires', '0',
        '-i', '127.0.0.1', '-p', String(sippPort++), '-m', '1', '-timeout', '10s', '-timeout_error'],
      `${traceDir}/unregister-${n}`,
      { timeout: 15000 },
    );
    if (res.code !== 0) throw new Error(`clearing the bindings of ${n} failed: sipp exit ${res.code} (${res.flow.join(' ')})`);
    if (sippPort > 5290) sippPort = 5201;
  }
}

/**
 * Leave a page the way a person closes a tab: navigate away (pagehide, the
 * app unregisters and hangs up), bounded.
 */
export async function leavePage(P) {
  await P.page.goto('about:blank', { timeout: 3000 }).catch(() => {});
}

/** Body of a SIP message text ('' when none). */
export const sipBody = (text) => {
  const i = text.indexOf('\r\n\r\n');
  return i < 0 ? '' : text.slice(i + 4);
};

// ---------- the main of a scenario file ----------

/**
 * Serve `serve` (a directory) on 127.0.0.1, launch the browser of
 * --browser (`launch`: options of launchChromium / launchFirefox) and run each name of `scenarios` as
 * `run[name](browser, baseUrl, r)`, where r = { name, ok, screenshots } is
 * the scenario's record: it passes when it returns, fails when it throws
 * (each page of r.pages gets a failure screenshot, through
 * `shotFn(page, name, state)`), and counts as neither when it sets
 * r.skipped (the reason). After each scenario `leave(pages)` (if given) and
 * the pages' contexts are closed. A watchdog ends the run after
 * `watchdogMs`, marking what did not finish. Writes <ART>/<results> (the
 * summary, with `summary`'s keys added), prints it and the closing line
 * "N passed, N failed", closes `logs`, and exits 1 if any failed.
 */
export async function runScenarios({
  scenarios, run, serve, results: resultsFile, watchdogMs, launch = {}, summary = {},
  leave = null, shotFn = shot, logs = openLogs,
}) {
  const started = Date.now();
  const results = [];
  let browser;
  let server;
  let finished = false;
  const finish = async (extraError) => {
    if (finished) return;
    finished = true;
    // snapshot now: after a watchdog the scenario loop may still be running
    const final = results.slice();
    for (const name of scenarios) {
      if (!final.find((r) => r.name === name)) final.push({ name, ok: false, error: extraError || 'not run' });
    }
    try {
      if (browser) await Promise.race([browser.close(), sleep(5000)]);
    } catch {
      /* already gone */
    }
    if (server) await Promise.race([server.close(), sleep(2000)]);
    for (const s of logs) s.end();
    const counted = final.filter((r) => !r.skipped);
    const passed = counted.filter((r) => r.ok).length;
    const failed = counted.length - passed;
    const out = {
      ok: failed === 0,
      total_ms: Date.now() - started,
      ws: WS,
      dist: DIST,
      artifacts: ART,
      ...summary,
      browser: browser ? `${BROWSER} ${browser.version()}` : null,
      skipped: final.filter((r) => r.skipped).map((r) => r.name),
      scenarios: final,
    };
    fs.writeFileSync(path.join(ART, resultsFile), JSON.stringify(out, null, 2) + '\n');
    console.log(JSON.stringify(out, null, 2));
    console.log(`${passed} passed, ${failed} failed`);
    process.exit(failed === 0 ? 0 : 1);
  };
  const watchdog = setTimeout(() => finish(`watchdog: not finished within ${watchdogMs} ms`), watchdogMs);
  try {
    server = await serveStatic(serve);
    browser = await step(`launch ${BROWSER}`, 30000, () => launchBrowser(BROWSER, launch));
    for (const name of scenarios) {
      const r = { name, ok: false, screenshots: [] };
      const t0 = Date.now();
      try {
        await run[name](browser, server.url, r);
        r.ok = !r.skipped;
      } catch (e) {
        r.error = e.message;
        for (const p of r.pages || []) {
          r.screenshots.push(await shotFn(p.page, name, `failure-${p.name}`));
          p.log(`FAILED: ${e.message}`);
        }
      }
      if (leave) await leave(r.pages || [], name);
      for (const p of r.pages || []) await p.context.close().catch(() => {});
      delete r.pages;
      // browsers a scenario launched itself (r.cleanup), bounded
      if (r.cleanup) await Promise.race([Promise.resolve().then(r.cleanup).catch(() => {}), sleep(10000)]);
      delete r.cleanup;
      r.ms = Date.now() - t0;
      results.push(r);
      const verdict = r.skipped ? 'SKIP' : r.ok ? 'PASS' : 'FAIL';
      const why = r.skipped ? `: ${r.skipped}` : r.error ? `: ${r.error}` : '';
      console.error(`${verdict} ${name} (${r.ms} ms)${why}`);
    }
  } catch (e) {
    clearTimeout(watchdog);
    await finish(e.message);
  }
  clearTimeout(watchdog);
  await finish();
}
