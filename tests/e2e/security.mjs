#!/usr/bin/env node
// Security end-to-end checks of the softphone, against the real Kamailio
// (pbx/pbx.sh), in Debian's Chromium driven by playwright-core; same set-up
// as call.mjs (run it the same way, inside the PBX's network namespace):
//   PBX_NETNS=sp-web pbx/pbx.sh start
//   ip netns exec sp-web node tests/e2e/security.mjs --dist dist \
//       --debug-dist target/dist-debug
//
// Scenarios (each passes or fails on its own):
//   csp             the page runs under its Content-Security-Policy: the meta
//                   is first in <head>, no inline script is left, the app
//                   loads and registers with zero securitypolicyviolation
//                   events; an injected inline script is blocked (so the
//                   policy is really enforced); the release build has no
//                   test export (__softphone_test_panic)
//   xss             a display name made of HTML, sent by page A in a call to
//                   page B, shows as literal text in #incoming-from; no
//                   element is created, no handler runs (window.__xss)
//   password-log    the passwords never appear in any page's console, nor
//                   in any SIP frame sent (checked over every page opened by
//                   this run; the console must have logged the account, so
//                   the capture demonstrably works)
//   insecure-ws     ws://example.com (not this computer) is refused with the
//                   reason and no WebSocket is opened; with #allow-insecure
//                   ticked the phone tries it
//   panic-banner    in a debug build (--debug-dist, from `trunk build --dist
//                   target/dist-debug`), window.wasmBindings.__softphone_test_panic()
//                   panics: #fatal (role=alert) shows the sentence and the
//                   panic message as text. Without --debug-dist it is
//                   reported as skipped (neither passed nor failed).
//   deep-storage    stored settings nested 10,000 deep: the phone starts
//                   as without them and says so (#error), no panic, and
//                   the wasm's stack stays
//                   under a quarter of its 128 KiB (release) and half (the
//                   debug build, when --debug-dist is given)
//
// Options: --dist DIR (default <repo>/dist), --debug-dist DIR, --artifacts DIR
// (default <repo>/tests/artifacts), --ws URL (default ws://127.0.0.1:8088),
// --only name[,name], --watchdog MS (default 180000), --chromium PATH.
// Output: one JSON summary on stdout (also <artifacts>/security-results.json),
// screenshots <artifacts>/security-<scenario>-<state>.png, page consoles and
// SIP frames <artifacts>/security-<scenario>-<page>.log; last line
// "N passed, N failed". Exit 1 if any failed.
import path from 'node:path';
import { serveStatic } from './static-server.mjs';
import { pageProbe } from './page-probe.mjs';
import { opt, DIST, ART, WS, DOMAIN, sleep, step, pageLog, runScenarios } from './lib.mjs';

const DEBUG_DIST = opt('debug-dist', null) ? path.resolve(opt('debug-dist')) : null;
const REMOTE_WS = 'ws://example.com:8088'; // not this computer (never resolved here)
const WATCHDOG_MS = Number(opt('watchdog', 180000));
const CHROMIUM = opt('chromium', '/usr/bin/chromium');
const ONLY = opt('only', null);
const SCENARIOS = ['csp', 'xss', 'password-log', 'insecure-ws', 'panic-banner', 'deep-storage'].filter(
  (s) => !ONLY || String(ONLY).split(',').includes(s),
);
const XSS_NAME = '<img src=x onerror="window.__xss=1">Eve';
const BANNER = 'The phone stopped because of an internal error. Reload the page to start it again.';

const T = { load: 30000, register: 15000, ring: 15000, hangup: 10000, error: 20000, ui: 5000 };

// every console line and every SIP frame sent, of every page: for password-log
const seen = { console: [], sent: [], passwords: new Set() };

// Runs in the page before the app: records CSP violations.
function cspProbe() {
  window.__csp = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__csp.push({
      directive: e.effectiveDirective || e.violatedDirective,
      blocked: e.blockedURI,
      sample: e.sample,
      source: e.sourceFile,
      line: e.lineNumber,
    });
  });
}

/** New isolated context (own storage) + page, with probes and logging. */
async function openPage(browser, base, scenario, name) {
  const context = await browser.newContext({ viewport: { width: 900, height: 900 } });
  await context.addInitScript(pageProbe);
  await context.addInitScript(cspProbe);
  const page = await context.newPage();
  const log = pageLog(`security-${scenario}-${name}.log`);
  const sockets = [];
  page.on('console', (m) => {
    seen.console.push({ page: `${scenario}/${name}`, text: m.text() });
    log(`console.${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => log(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => log(`requestfailed: ${r.url()} ${r.failure()?.errorText}`));
  page.on('crash', () => log('page crashed'));
  page.on('websocket', (ws) => {
    sockets.push(ws.url());
    log(`websocket open ${ws.url()}`);
    const text = (p) => (typeof p === 'string' ? p : Buffer.from(p).toString('utf8'));
    const sip = (dir, p) => {
      const [first, ...rest] = text(p).replace(/\r\n$/, '').split('\r\n');
      log(`ws ${dir} ${first}${rest.map((l) => `\n         ${l}`).join('')}`);
    };
    ws.on('framesent', (f) => {
      seen.sent.push({ page: `${scenario}/${name}`, text: text(f.payload) });
      sip('>>', f.payload);
    });
    ws.on('framereceived', (f) => sip('<<', f.payload));
    ws.on('socketerror', (e) => log(`websocket error ${e}`));
    ws.on('close', () => log('websocket closed'));
  });
  page.setDefaultTimeout(T.ui);
  await step(`${name}: load app`, T.load, async () => {
    await page.goto(base, { waitUntil: 'load', timeout: T.load });
    await page.waitForSelector('#phone', { state: 'attached', timeout: T.load });
  });
  return { context, page, name, log, sockets };
}

async function shot(page, scenario, state) {
  const file = `security-${scenario}-${state}.png`;
  await page.screenshot({ path: path.join(ART, file), fullPage: true, timeout: T.ui }).catch(() => {});
  return file;
}

async function openSettings(page) {
  if (!(await page.isVisible('#settings-form'))) {
    await page.click('#open-settings');
    await page.waitForSelector('#settings-form', { state: 'visible' });
  }
  // the preferences and the advanced part are under "More settings"
  if (!(await page.locator('#more-settings').evaluate((el) => el.open))) {
    await page.click('#more-settings > summary');
  }
}

async function fillSettings(page, s) {
  await openSettings(page);
  await page.fill('#ws-url', s.ws);
  await page.fill('#sip-uri', s.uri);
  await page.fill('#auth-user', s.user);
  await page.fill('#password', s.password);
  await page.fill('#display-name', s.name);
  seen.passwords.add(s.password);
}

const regState = (page) => page.getAttribute('#reg-status', 'data-state').catch(() => null);
const phoneState = (page) => page.getAttribute('#phone', 'data-phone').catch(() => null);
const textOf = (page, sel) =>
  page.evaluate((s) => {
    const el = document.querySelector(s);
    return el ? el.textContent.trim() : null;
  }, sel);

async function errorText(page) {
  return page.evaluate(() => {
    const el = document.getElementById('error');
    if (!el) return null;
    const t = el.textContent.trim();
    const visible = !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
    return visible && t ? t : null;
  });
}

async function waitReg(page, state, ms) {
  try {
    await page.waitForSelector(`#reg-status[data-state="${state}"]`, { state: 'attached', timeout: ms });
  } catch {
    const err = await errorText(page).catch(() => null);
    throw new Error(`reg-status is "${await regState(page)}", want "${state}"${err ? ` (error: ${err})` : ''}`);
  }
}

async function waitPhone(page, states, ms) {
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

async function waitError(page, ms) {
  await page.waitForFunction(
    () => {
      const el = document.getElementById('error');
      return !!el && el.textContent.trim() !== '' && el.getClientRects().length > 0;
    },
    null,
    { timeout: ms, polling: 50 },
  );
  return errorText(page);
}

const violations = (page) => page.evaluate(() => window.__csp.slice());

const user = (n, name) => ({
  ws: WS,
  uri: `sip:${n}@${DOMAIN}`,
  user: String(n),
  password: `secret${n}`,
  name,
});

// ---------- scenarios ----------
async function scenarioCsp(browser, base, r) {
  const P = await openPage(browser, base, 'csp', 'page');
  r.pages = [P];
  const page = P.page;
  const doc = await page.evaluate(() => {
    const meta = document.querySelector('meta[http-equiv="Content-Security-Policy"]');
    return {
      policy: meta ? meta.getAttribute('content') : null,
      first_in_head: document.head.firstElementChild === meta && !!meta,
      inline_scripts: [...document.scripts].filter((s) => !s.src).length,
      external_scripts: [...document.scripts].map((s) => ({ src: s.src, integrity: s.integrity })),
      test_export: typeof (window.wasmBindings || {}).__softphone_test_panic,
      has_bindings: typeof window.wasmBindings === 'object',
    };
  });
  Object.assign(r, doc);
  const problems = [];
  if (!doc.policy) problems.push('no Content-Security-Policy meta');
  else {
    for (const d of ["script-src 'self' 'wasm-unsafe-eval'", "object-src 'none'", "style-src 'self'", "base-uri 'none'"]) {
      if (!doc.policy.includes(d)) problems.push(`policy lacks "${d}"`);
    }
    if (/unsafe-inline|unsafe-eval|unsafe-hashes/.test(doc.policy.replaceAll("'wasm-unsafe-eval'", ''))) {
      problems.push('policy allows unsafe-inline or unsafe-eval');
    }
  }
  if (!doc.first_in_head) problems.push('the policy meta is not the first element of <head>');
  if (doc.inline_scripts !== 0) problems.push(`${doc.inline_scripts} inline script(s) in the page`);
  if (!doc.external_scripts.every((s) => s.integrity.startsWith('sha384-'))) {
    problems.push('a script without integrity (SRI)');
  }
  if (!doc.has_bindings) problems.push('the wasm loader did not run (window.wasmBindings missing)');
  if (doc.test_export !== 'undefined') problems.push('the release build exports __softphone_test_panic');
  if (problems.length) throw new Error(problems.join('; '));

  // sign in, then look for violations (styles, scripts, connections, media)
  await step('register', T.register, async () => {
    await fillSettings(page, user(1004, 'Csp Check'));
    await page.click('#save-register');
    await waitReg(page, 'registered', T.register);
  });
  await openSettings(page); // the form with its advanced part, rendered under the policy
  await page.click('#advanced summary');
  await sleep(300);
  r.screenshots.push(await shot(page, 'csp', 'registered'));
  r.violations = await violations(page);
  if (r.violations.length) throw new Error(`CSP violations: ${JSON.stringify(r.violations)}`);

  // the policy is enforced: an inline script added now is blocked
  r.inline_blocked = await page.evaluate(async () => {
    const s = document.createElement('script');
    s.textContent = 'window.__inlineRan = 1';
    document.head.appendChild(s);
    await new Promise((res) => setTimeout(res, 200));
    return { ran: window.__inlineRan === 1, violations: window.__csp.map((v) => v.directive) };
  });
  if (r.inline_blocked.ran) throw new Error('an injected inline script ran: the policy is not enforced');
  if (!r.inline_blocked.violations.some((d) => d.startsWith('script-src'))) {
    throw new Error(`no script-src violation reported for the injected script: ${JSON.stringify(r.inline_blocked)}`);
  }
}

async function scenarioXss(browser, base, r) {
  const A = await openPage(browser, base, 'xss', 'A');
  const B = await openPage(browser, base, 'xss', 'B');
  r.pages = [A, B];
  await step('register A and B', T.register, async () => {
    await fillSettings(A.page, user(1005, XSS_NAME));
    await fillSettings(B.page, user(1006, 'Bob'));
    await Promise.all([A.page.click('#save-register'), B.page.click('#save-register')]);
    await Promise.all([waitReg(A.page, 'registered', T.register), waitReg(B.page, 'registered', T.register)]);
  });
  await step('A calls B', T.ring, async () => {
    await A.page.fill('#dial-input', '1006');
    await A.page.click('#call-button');
    await waitPhone(B.page, 'incoming', T.ring);
    await B.page.waitForSelector('#incoming', { state: 'visible', timeout: T.ui });
  });
  await sleep(500); // time for a handler (onerror of a broken image) to run
  const look = (p) =>
    p.evaluate(() => {
      const from = document.getElementById('incoming-from');
      return {
        text: from ? from.textContent.trim() : null,
        elements_in_from: from ? [...from.querySelectorAll('*')].map((e) => e.tagName.toLowerCase()) : null,
        imgs: document.querySelectorAll('img').length,
        onerror_attrs: document.querySelectorAll('[onerror]').length,
        xss: window.__xss === undefined ? null : window.__xss,
      };
    });
  r.B = await look(B.page);
  const a = await A.page.evaluate(() => ({ xss: window.__xss === undefined ? null : window.__xss }));
  r.screenshots.push(await shot(B.page, 'xss', 'incoming'));
  const problems = [];
  if (!r.B.text || !r.B.text.includes('<img src=x onerror=') || !r.B.text.includes('>Eve')) {
    problems.push(`#incoming-from is ${JSON.stringify(r.B.text)}, want the display name as literal text`);
  }
  if (r.B.text !== `${XSS_NAME} 1005`) r.exact_text_note = `expected ${JSON.stringify(`${XSS_NAME} 1005`)}`;
  if (r.B.elements_in_from.some((t) => !['span'].includes(t))) {
    problems.push(`#incoming-from holds elements ${r.B.elements_in_from.join(',')}`);
  }
  if (r.B.imgs !== 0 || r.B.onerror_attrs !== 0) problems.push(`B: ${r.B.imgs} img, ${r.B.onerror_attrs} [onerror] in the page`);
  if (r.B.xss !== null || a.xss !== null) problems.push('window.__xss was set');
  await step('B declines', T.hangup, async () => {
    await B.page.click('#decline-button');
    await Promise.all([waitPhone(A.page, 'idle', T.hangup), waitPhone(B.page, 'idle', T.hangup)]);
  });
  if (problems.length) throw new Error(problems.join('; '));
}

async function scenarioPasswordLog(browser, base, r) {
  // one more page of its own: a successful sign-in and a failed one
  const P = await openPage(browser, base, 'password-log', 'page');
  r.pages = [P];
  await step('register', T.register, async () => {
    await fillSettings(P.page, user(1007, 'Pat'));
    await P.page.click('#save-register');
    await waitReg(P.page, 'registered', T.register);
  });
  await step('wrong password', T.error, async () => {
    await fillSettings(P.page, { ...user(1007, 'Pat'), password: 'wrong-Pa55word-1007' });
    await P.page.click('#save-register');
    await waitReg(P.page, 'failed', T.error);
  });
  await sleep(300);
  const passwords = [...seen.passwords];
  r.passwords_checked = passwords.length;
  r.console_lines = seen.console.length;
  r.frames_sent = seen.sent.length;
  // the capture works: the console did log this account (so silence about
  // the password means something)
  if (!seen.console.some((l) => l.text.includes('1007'))) {
    throw new Error('the console never mentioned account 1007: console capture is not working');
  }
  if (!seen.sent.some((f) => f.text.startsWith('REGISTER '))) throw new Error('no REGISTER frame was captured');
  const leaks = [];
  for (const pw of passwords) {
    for (const l of seen.console) if (l.text.includes(pw)) leaks.push(`console of ${l.page}: ${l.text.slice(0, 120)}`);
    for (const f of seen.sent) if (f.text.includes(pw)) leaks.push(`SIP frame sent by ${f.page}`);
  }
  if (leaks.length) throw new Error(`a password leaked: ${leaks.slice(0, 5).join(' | ')}`);
}

async function scenarioInsecureWs(browser, base, r) {
  const P = await openPage(browser, base, 'insecure-ws', 'page');
  r.pages = [P];
  const page = P.page;
  await step('refused', T.error, async () => {
    await fillSettings(page, { ...user(1008, 'Remo'), ws: REMOTE_WS });
    await page.click('#save-register');
    r.error_text = await waitError(page, T.error);
  });
  await sleep(1000); // nothing may be attempted meanwhile
  r.sockets_when_refused = P.sockets.slice();
  r.reg_when_refused = await regState(page);
  r.screenshots.push(await shot(page, 'insecure-ws', 'refused'));
  const problems = [];
  for (const want of [REMOTE_WS, 'not encrypted', 'wss://', 'Allow unencrypted ws:// to a remote server']) {
    if (!r.error_text.includes(want)) problems.push(`the error does not say "${want}"`);
  }
  if (r.sockets_when_refused.length) problems.push(`WebSocket(s) opened: ${r.sockets_when_refused.join(' ')}`);
  if (['connecting', 'registering', 'registered'].includes(r.reg_when_refused)) {
    problems.push(`reg-status is "${r.reg_when_refused}"`);
  }
  if (problems.length) throw new Error(problems.join('; '));

  await step('allowed', T.error, async () => {
    await page.check('#allow-insecure');
    await page.click('#save-register');
    const end = Date.now() + T.error;
    while (!P.sockets.some((u) => u.startsWith(REMOTE_WS)) && Date.now() < end) await sleep(50);
  });
  r.sockets_when_allowed = P.sockets.slice();
  if (!r.sockets_when_allowed.some((u) => u.startsWith(REMOTE_WS))) {
    throw new Error(`with #allow-insecure no WebSocket to ${REMOTE_WS} was attempted`);
  }
  r.screenshots.push(await shot(page, 'insecure-ws', 'allowed'));
}

async function scenarioPanic(browser, r) {
  if (!DEBUG_DIST) {
    r.skipped = 'no --debug-dist: build one with `trunk build --dist target/dist-debug` (see the header)';
    return;
  }
  const server = await serveStatic(DEBUG_DIST);
  try {
    const P = await openPage(browser, server.url, 'panic-banner', 'page');
    r.pages = [P];
    const page = P.page;
    r.before = await page.evaluate(() => ({
      fatal: !!document.getElementById('fatal'),
      exported: typeof (window.wasmBindings || {}).__softphone_test_panic,
    }));
    if (r.before.exported !== 'function') throw new Error(`the debug build has no test export (${r.before.exported})`);
    if (r.before.fatal) throw new Error('#fatal is there before any panic');
    r.call = await page.evaluate(() => {
      try {
        window.wasmBindings.__softphone_test_panic('<b id="boom">boom</b>');
        return 'returned';
      } catch (e) {
        return `threw ${e && e.name}`;
      }
    });
    await page.waitForSelector('#fatal', { state: 'visible', timeout: T.ui });
    r.banner = await page.evaluate(() => {
      const f = document.getElementById('fatal');
      const box = f.getBoundingClientRect();
      return {
        role: f.getAttribute('role'),
        text: f.textContent,
        elements: [...f.querySelectorAll('*')].map((e) => e.tagName.toLowerCase()),
        position: getComputedStyle(f).position,
        top: box.top,
        boom_element: !!document.getElementById('boom'),
      };
    });
    r.violations = await violations(page);
    r.screenshots.push(await shot(page, 'panic-banner', 'banner'));
    const problems = [];
    if (r.banner.role !== 'alert') problems.push(`role is ${r.banner.role}`);
    if (!r.banner.text.includes(BANNER)) problems.push('the sentence is missing');
    if (!r.banner.text.includes('test panic asked by the page: <b id="boom">boom</b>')) {
      problems.push('the panic message is not shown as text');
    }
    if (r.banner.boom_element || r.banner.elements.some((t) => t !== 'p')) problems.push('the message became HTML');
    if (r.banner.position !== 'fixed') problems.push(`position is ${r.banner.position}`);
    if (r.violations.length) problems.push(`CSP violations: ${JSON.stringify(r.violations)}`);
    if (problems.length) throw new Error(problems.join('; '));
  } finally {
    await server.close();
  }
}

/**
 * Stored settings nested 10,000 deep (a hostile or broken storage): the
 * phone starts as without settings, and the reader's depth limit keeps the
 * wasm's small stack (.cargo/config.toml: 128 KiB) far from full, in the
 * release build and in the debug build (larger frames).
 */
async function scenarioDeepStorage(browser, base, r) {
  const STACK = 128 * 1024;
  const deep = `{"ws_url":"ws://127.0.0.1:9","future":${'['.repeat(10000)}${']'.repeat(10000)}}`;
  const builds = [['release', base, STACK / 4]];
  let server = null;
  if (DEBUG_DIST) {
    server = await serveStatic(DEBUG_DIST);
    builds.push(['debug', server.url, STACK / 2]);
  } else {
    r.debug_skipped = 'no --debug-dist';
  }
  r.pages = [];
  r.stack_used = {};
  try {
    for (const [build, url, limit] of builds) {
      const context = await browser.newContext({ viewport: { width: 900, height: 900 } });
      await context.addInitScript(pageProbe);
      await context.addInitScript((text) => {
        sessionStorage.setItem('softphone.settings', text);
        localStorage.setItem('softphone.settings', text);
      }, deep);
      const page = await context.newPage();
      const log = pageLog(`security-deep-storage-${build}.log`);
      const errors = [];
      page.on('console', (m) => log(`console.${m.type()}: ${m.text()}`));
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('crash', () => errors.push('page crashed'));
      r.pages.push({ context, page, name: build, log });
      await step(`${build}: load with the deep settings`, T.load, async () => {
        await page.goto(url, { waitUntil: 'load', timeout: T.load });
        await page.waitForSelector('#phone', { state: 'attached', timeout: T.load });
      });
      await sleep(1000);
      const seen = await page.evaluate((n) => ({
        fatal: !!document.getElementById('fatal'),
        stack: window.__wasmStackUsed(n),
        ws: document.getElementById('ws-url')?.value ?? null,
      }), STACK);
      seen.error = await errorText(page);
      r.stack_used[build] = seen.stack;
      r[build] = seen;
      r.screenshots.push(await shot(page, 'deep-storage', build));
      const problems = [];
      if (seen.fatal || errors.length) problems.push(`the phone stopped: ${errors.join('; ') || '#fatal'}`);
      if (seen.ws === 'ws://127.0.0.1:9') problems.push('the too-deep settings were taken');
      if (!/saved settings could not be read/i.test(seen.error || '')) problems.push(`no message about the unreadable settings (error: ${JSON.stringify(seen.error)})`);
      if (seen.stack === null || seen.stack > limit) problems.push(`the wasm used ${seen.stack} bytes of its ${STACK}-byte stack (limit ${limit})`);
      if (problems.length) throw new Error(`${build}: ${problems.join('; ')}`);
    }
  } finally {
    if (server) await server.close();
  }
}

const RUN = {
  csp: (b, base, r) => scenarioCsp(b, base, r),
  xss: (b, base, r) => scenarioXss(b, base, r),
  'password-log': (b, base, r) => scenarioPasswordLog(b, base, r),
  'insecure-ws': (b, base, r) => scenarioInsecureWs(b, base, r),
  'panic-banner': (b, _base, r) => scenarioPanic(b, r),
  'deep-storage': (b, base, r) => scenarioDeepStorage(b, base, r),
};

// ---------- main ----------
await runScenarios({
  scenarios: SCENARIOS,
  run: RUN,
  serve: DIST,
  results: 'security-results.json',
  watchdogMs: WATCHDOG_MS,
  launch: { executablePath: CHROMIUM },
  summary: { debug_dist: DEBUG_DIST },
  shotFn: shot,
});
