// Every screen of the phone, audited (issue 14), end to end in Chromium:
//   screens   each state — the settings before signing in and with an
//             error, idle on each tab (with a call in the history, a
//             contact with its lamp, a message), ringing, in a call with
//             the keypad, on hold, two lines, an error banner, the
//             embedded widget and its host page — in the light and the
//             dark theme at 390x844 and 1280x800:
//             * axe-core (npm) finds no serious or critical violation
//               (with its "label-content-name-mismatch" rule on: a
//               button's name contains its visible text);
//             * layout: no sideways scroll, no control cut off (outside
//               the screen or its text clipped) or overlapping another;
//               at 1280 px the lists are beside the phone;
//             * the keyboard focus ring has a contrast of at least 3:1;
//             * a screenshot of each (tests/artifacts/screens-*.png).
//             Ringing also checks that the call is announced (an
//             aria-live region with the caller) and the focus is on Answer;
//             the host page has one <main> landmark.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import {
  T, sleep, step, openPage, shot, fillSettings, waitReg, waitPhone, expectNoError, user,
  callAndAnswer, hangUp, clearBindings, waitVisible, waitCount,
} from './lib.mjs';

const require = createRequire(import.meta.url);
const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const SIZES = [
  { width: 390, height: 844 },
  { width: 1280, height: 800 },
];
const THEMES = ['light', 'dark'];
const SC = 'screens';

/** axe-core's serious and critical violations on the page now. */
async function axeViolations(page) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE);
  return page.evaluate(async () => {
    const res = await window.axe.run(document, {
      resultTypes: ['violations'],
      rules: { 'label-content-name-mismatch': { enabled: true } },
    });
    return res.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({
        id: v.id,
        impact: v.impact,
        nodes: v.nodes.slice(0, 4).map((n) => `${n.target.join(' > ')}: ${(n.failureSummary || '').replace(/\s+/g, ' ').slice(0, 200)}`),
      }));
  });
}

/**
 * Layout problems on the page now, within `root` (a selector, looked up
 * through open shadow roots too): sideways scroll; visible controls outside
 * the screen's width, with clipped text, or overlapping another control.
 */
function layoutProblems(root) {
  const find = (sel) => {
    const stack = [document];
    while (stack.length) {
      const at = stack.pop();
      const hit = at.querySelector(sel);
      if (hit) return hit;
      for (const el of at.querySelectorAll('*')) if (el.shadowRoot) stack.push(el.shadowRoot);
    }
    return null;
  };
  const out = [];
  const de = document.documentElement;
  if (de.scrollWidth > de.clientWidth + 1) out.push(`the page scrolls sideways (${de.scrollWidth} px in ${de.clientWidth})`);
  const top = find(root);
  if (!top) return [`no ${root}`];
  const name = (el) => el.id ? `#${el.id}` : `${el.tagName.toLowerCase()}${el.className && typeof el.className === 'string' ? `.${el.className.trim().split(/\s+/).join('.')}` : ''}${el.dataset.key ? `[${el.dataset.key}]` : ''}`;
  const controls = [...top.querySelectorAll('button, input, select, textarea, summary, a[href]')].filter((el) => {
    if (el.closest('[hidden]') || el.type === 'hidden') return false;
    // (inside a closed <details>, display: none, visibility: hidden)
    if (el.checkVisibility && !el.checkVisibility({ contentVisibilityAuto: true, visibilityProperty: true })) return false;
    const s = getComputedStyle(el);
    if (s.visibility === 'hidden' || s.display === 'none') return false;
    const b = el.getBoundingClientRect();
    // the screen-reader-only ones are 1x1
    return b.width > 2 && b.height > 2;
  });
  const rects = controls.map((el) => ({ el, b: el.getBoundingClientRect() }));
  for (const { el, b } of rects) {
    if (b.left < -1 || b.right > window.innerWidth + 1) out.push(`${name(el)} is cut off at the side (${Math.round(b.left)}-${Math.round(b.right)} px of ${window.innerWidth})`);
    if ((el.tagName === 'BUTTON' || el.tagName === 'SUMMARY') && el.scrollWidth > el.clientWidth + 2 && getComputedStyle(el).overflowX !== 'visible') {
      out.push(`${name(el)}'s label is clipped (${el.scrollWidth} px in ${el.clientWidth})`);
    }
  }
  for (let i = 0; i < rects.length; i++) {
    for (let j = i + 1; j < rects.length; j++) {
      const a = rects[i], c = rects[j];
      if (a.el.contains(c.el) || c.el.contains(a.el)) continue;
      const w = Math.min(a.b.right, c.b.right) - Math.max(a.b.left, c.b.left);
      const h = Math.min(a.b.bottom, c.b.bottom) - Math.max(a.b.top, c.b.top);
      if (w > 2 && h > 2) out.push(`${name(a.el)} overlaps ${name(c.el)} (${Math.round(w)}x${Math.round(h)} px)`);
    }
  }
  return out;
}

/** Contrast of the focus ring of the control focused by the keyboard, against the colour behind it. */
function focusRing() {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const s = getComputedStyle(el);
  // rgb(r, g, b) / rgba(r, g, b, a), or color(srgb r g b / a) (color-mix)
  const parse = (c) => {
    const m = /rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)/.exec(c);
    if (m) return [Number(m[1]), Number(m[2]), Number(m[3]), m[4] === undefined ? 1 : Number(m[4])];
    const k = /color\(srgb ([\d.]+) ([\d.]+) ([\d.]+)(?: \/ ([\d.]+))?\)/.exec(c);
    return k ? [Number(k[1]) * 255, Number(k[2]) * 255, Number(k[3]) * 255, k[4] === undefined ? 1 : Number(k[4])] : null;
  };
  // the first opaque background behind the element
  let bg = null;
  for (let p = el.parentElement; p && !bg; p = p.parentElement) {
    const c = parse(getComputedStyle(p).backgroundColor);
    if (c && c[3] >= 0.99) bg = c;
  }
  bg = bg || parse(getComputedStyle(document.body).backgroundColor) || [255, 255, 255, 1];
  const ring = parse(s.outlineColor);
  if (!ring || s.outlineStyle === 'none' || parseFloat(s.outlineWidth) === 0) return { id: el.id || el.className, ratio: 0, why: `no outline (${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor}; focus ${el.matches(':focus')}, visible ${el.matches(':focus-visible')}, document ${document.hasFocus()})` };
  const mix = ring.slice(0, 3).map((v, i) => v * ring[3] + bg[i] * (1 - ring[3]));
  const lum = (c) => {
    const [r, g, b] = c.map((v) => {
      const x = v / 255;
      return x <= 0.04045 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [l1, l2] = [lum(mix), lum(bg.slice(0, 3))].sort((a, b) => b - a);
  return { id: el.id || el.className, ratio: Math.round(((l1 + 0.05) / (l2 + 0.05)) * 100) / 100, ring: s.outlineColor, bg: `rgb(${bg.slice(0, 3).join(',')})` };
}

/**
 * Audit the page in state `state`: each theme and size. `prepare(size)`
 * runs after each resize (to put the state back where a narrow screen
 * needs a tab chosen); `wide` checks the lists beside the phone at 1280.
 */
async function audit(P, r, problems, state, { root = '#phone', prepare = null, wide = true } = {}) {
  for (const size of SIZES) {
    await P.page.setViewportSize(size);
    for (const theme of THEMES) {
      await P.page.emulateMedia({ colorScheme: theme });
      await sleep(250); // the width reaches the phone; transitions end
      if (prepare) await prepare(size);
      await P.page.evaluate(() => window.scrollTo(0, 0));
      const at = `${state} ${theme} ${size.width}`;
      const v = await axeViolations(P.page);
      for (const x of v) problems.push(`${at}: axe ${x.impact} ${x.id}: ${x.nodes.join(' | ')}`);
      for (const p of await P.page.evaluate(layoutProblems, root)) problems.push(`${at}: ${p}`);
      if (wide && size.width >= 1024 && root === '#phone') {
        const side = await P.page.evaluate(() => {
          const phone = document.getElementById('view-phone');
          const list = [...document.querySelectorAll('#view-history, #view-contacts, #view-messages')].find((el) => !el.hidden);
          if (!phone || phone.hidden || !list) return { ok: false, why: `phone ${phone && !phone.hidden ? 'shown' : 'hidden'}, list ${list ? list.id : 'none'}` };
          const a = phone.getBoundingClientRect();
          const b = list.getBoundingClientRect();
          return { ok: b.left >= a.right, why: `phone ${Math.round(a.left)}-${Math.round(a.right)}, ${list.id} ${Math.round(b.left)}-${Math.round(b.right)}` };
        });
        if (!side.ok) problems.push(`${at}: the lists are not beside the phone (${side.why})`);
      }
      r.audited.push({ state, theme, width: size.width, violations: v.length });
      r.screenshots.push(await shot(P.page, SC, `${state}-${theme}-${size.width}`));
    }
  }
  await P.page.emulateMedia({ colorScheme: 'light' });
  await P.page.setViewportSize({ width: 900, height: 900 });
}

/** Tab to a few controls; each focus ring has a contrast of at least 3:1 in both themes. */
async function focusRings(P, r, problems, where) {
  for (const theme of THEMES) {
    await P.page.emulateMedia({ colorScheme: theme });
    // the document must have the focus for :focus-visible to apply (other
    // pages were opened after it; Firefox's emulateMedia over BiDi takes
    // it away): a click on the page's empty corner gives it back
    await P.page.bringToFront();
    await P.page.mouse.click(2, 2);
    await P.page.evaluate(() => document.activeElement && document.activeElement.blur());
    for (let i = 0; i < 6; i++) {
      await P.page.keyboard.press('Tab');
      // Firefox driven over WebDriver BiDi does not always count the
      // driver's Tab as keyboard use: focus the same control as the
      // keyboard would (focusVisible), then measure its ring
      await P.page.evaluate(() => {
        const el = document.activeElement;
        if (el && el !== document.body && !el.matches(':focus-visible')) {
          el.blur();
          el.focus({ focusVisible: true });
        }
      });
      const f = await P.page.evaluate(focusRing);
      if (!f) continue;
      r.focus_rings.push({ where, theme, ...f });
      if (f.ratio < 3) problems.push(`${where} ${theme}: the focus ring of ${f.id} has a contrast of ${f.ratio}:1 (${f.ring || f.why} on ${f.bg || '?'})`);
    }
  }
  await P.page.emulateMedia({ colorScheme: 'light' });
  if (!r.focus_rings.some((f) => f.where === where)) problems.push(`${where}: no focus ring measured`);
}

/** Show tab `id` on a narrow screen (on a wide one the phone is always in view). */
const showTab = (P, tab) => async (size) => {
  if (size.width < 1024 || tab !== 'phone') await P.page.click(`#tab-${tab}`);
};

async function screens(browser, base, r) {
  r.audited = [];
  r.focus_rings = [];
  const problems = [];
  await step('clear PBX bindings', 30000, () => clearBindings([1004, 1005, 1006], 'screens'));
  const A = await openPage(browser, base, SC, 'A');
  r.pages = [A];

  // ---- before signing in
  await audit(A, r, problems, 'settings', { wide: false });
  await focusRings(A, r, problems, 'settings');
  await A.page.fill('#sip-uri', 'sip:1004@127.0.0.1');
  await A.page.click('#save-register');
  await waitVisible(A.page, '#settings-error', T.ui, 'A');
  await audit(A, r, problems, 'settings-error', { wide: false });

  // ---- signed in: A, and B and C who call
  const B = await openPage(browser, base, SC, 'B');
  const C = await openPage(browser, base, SC, 'C');
  r.pages = [A, B, C];
  await step('sign in A B C', T.register * 2, async () => {
    const who = [[A, 1004, 'Ada'], [B, 1005, 'Bo'], [C, 1006, 'Cy']];
    for (const [P, n, name] of who) await fillSettings(P.page, user(n, name));
    await Promise.all(who.map(([P]) => P.page.click('#save-register')));
    await Promise.all(who.map(([P]) => waitReg(P.page, 'registered', T.register)));
    for (const [P] of who) await expectNoError(P.page, P.name);
  });
  await audit(A, r, problems, 'idle-phone', { prepare: showTab(A, 'phone') });
  await focusRings(A, r, problems, 'idle');

  // ---- ringing: announced, focus on Answer
  await B.page.fill('#dial-input', '1004');
  await B.page.click('#call-button');
  await step('A rings', T.ring, () => waitPhone(A.page, 'incoming', T.ring));
  await sleep(300);
  const ring = await A.page.evaluate(() => {
    const live = [...document.querySelectorAll('[aria-live], [role="alert"], [role="status"]')]
      .filter((el) => !el.closest('[hidden]'))
      .map((el) => el.textContent.replace(/\s+/g, ' ').trim());
    return { focus: document.activeElement?.id || null, live };
  });
  r.ringing = ring;
  if (ring.focus !== 'answer-button') problems.push(`ringing: the focus is on ${ring.focus}, not on Answer`);
  if (!ring.live.some((t) => /incoming call/i.test(t) && /Bo|1005/.test(t))) problems.push(`ringing: no live region announces the call and the caller (${JSON.stringify(ring.live)})`);
  await audit(A, r, problems, 'ringing');

  // ---- in the call, with the keypad
  await A.page.click('#answer-button');
  await step('A-B in a call', T.answer, () => Promise.all([waitPhone(A.page, 'active', T.answer), waitPhone(B.page, 'active', T.answer)]));
  await A.page.click('#dtmf-button');
  await waitVisible(A.page, '#in-call-dialpad', T.ui, 'A');
  await audit(A, r, problems, 'in-call-keypad');
  await focusRings(A, r, problems, 'in call');
  await A.page.click('#dtmf-button');

  // ---- on hold
  await A.page.click('#hold-button');
  await step('A holds', T.answer, () => waitVisible(A.page, '#call-hold-status', T.answer, 'A'));
  await audit(A, r, problems, 'on-hold');
  await A.page.click('#hold-button');
  await step('A resumes', T.answer, () => A.page.waitForSelector('#call-hold-status', { state: 'hidden', timeout: T.answer }));

  // ---- two lines: C calls, A answers (B is held)
  await C.page.fill('#dial-input', '1004');
  await C.page.click('#call-button');
  await step('a second line rings on A', T.ring, () => waitCount(A.page, '#lines li.line[data-state="incoming"]', 1, T.ring, 'A'));
  await audit(A, r, problems, 'two-lines-ringing');
  await A.page.click('#lines li.line[data-state="incoming"] .line-answer');
  await step('A with C, B held', T.answer, () => waitCount(A.page, '#lines li.line[data-state="held"]', 1, T.answer, 'A'));
  await audit(A, r, problems, 'two-lines');
  await A.page.click('#lines li.line[data-state="held"] .line-hangup');
  await step('B hung up', T.hangup, () => waitPhone(B.page, 'idle', T.hangup));
  await hangUp(A, C);

  // ---- an error banner: nobody at 1099
  await A.page.fill('#dial-input', '1099');
  await A.page.click('#call-button');
  await step('an error shows', T.answer, () => waitVisible(A.page, '#error', T.answer, 'A'));
  await audit(A, r, problems, 'error');
  await A.page.click('.banner.error .dismiss');

  // ---- the tabs with something in them: a message from B, B a contact
  await B.page.click('#tab-messages');
  await B.page.fill('#message-to', '1004');
  await B.page.fill('#message-text', 'Call me back, please');
  await B.page.click('#message-send');
  await A.page.click('#tab-contacts');
  await A.page.fill('#contact-add-uri', '1005');
  await A.page.click('#contact-add-button');
  await step('B is a contact with a lamp', T.answer, () => waitCount(A.page, '#contacts li.contact', 1, T.answer, 'A'));
  // and one A sends (a sent bubble has its own colours)
  await step('B gets a message from A', T.answer, async () => {
    await A.page.click('#tab-messages');
    await A.page.fill('#message-to', '1005');
    await A.page.fill('#message-text', 'Will do');
    await A.page.click('#message-send');
    await waitCount(A.page, '#message-list li.message[data-direction="out"]', 1, T.answer, 'A');
  });
  for (const tab of ['history', 'contacts', 'messages']) {
    await audit(A, r, problems, `idle-${tab}`, { prepare: showTab(A, tab) });
  }

  // ---- the embedded widget (opened) and its host page
  const H = await openPage(browser, base, SC, 'H', { path: 'embed/host.html', ready: 'body' });
  r.pages.push(H);
  await step('H: <sip-phone> mounted and opened', T.load, async () => {
    await H.page.evaluate(async () => { await document.getElementById('softphone').ready; });
    // the floating phone opens at first; the launcher shows it if not
    if ((await H.page.getAttribute('sip-phone .sp-launcher', 'aria-expanded')) !== 'true') await H.page.click('sip-phone .sp-launcher');
    await H.page.waitForSelector('sip-phone #settings-form', { state: 'visible', timeout: T.ui });
  });
  const mains = await H.page.evaluate(() => {
    let n = 0;
    const stack = [document];
    while (stack.length) {
      const at = stack.pop();
      n += at.querySelectorAll('main, [role="main"]').length;
      for (const el of at.querySelectorAll('*')) if (el.shadowRoot) stack.push(el.shadowRoot);
    }
    return n;
  });
  r.host_main_landmarks = mains;
  if (mains !== 1) problems.push(`host page: ${mains} main landmarks with the phone in it, want 1`);
  await audit(H, r, problems, 'embedded', { root: '.sp-root', wide: false });

  if (problems.length) {
    r.problems = problems;
    throw new Error(`${problems.length} problems: ${problems.slice(0, 30).join('; ')}${problems.length > 30 ? ' …' : ''}`);
  }
}

export const SCREENS = { screens };
