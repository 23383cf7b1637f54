// The first screen a new user meets (issue 14), end to end:
//   first-screen   at 1280x800 and 390x844, before signing in: the account
//                  card's "Save and sign in" is in view without scrolling,
//                  the page does not scroll sideways, the preferences wait
//                  under "More settings" (closed), the dialpad is not shown
//                  (a hint says to sign in); pressing Save with no password
//                  shows the reason next to the button and moves the focus
//                  to it; screenshots of both widths.
import { T, sleep, step, openPage, shot } from './lib.mjs';

const SIZES = [
  { width: 1280, height: 800 },
  { width: 390, height: 844 },
];

async function firstScreen(browser, base, r) {
  const SC = 'first-screen';
  const P = await openPage(browser, base, SC, 'A');
  r.pages = [P];
  r.sizes = [];
  const problems = [];
  for (const size of SIZES) {
    await P.page.setViewportSize(size);
    await P.page.evaluate(() => window.scrollTo(0, 0));
    await sleep(200);
    const m = await P.page.evaluate(() => {
      const rect = (sel) => {
        const el = document.querySelector(sel);
        if (!el) return null;
        const b = el.getBoundingClientRect();
        return { top: Math.round(b.top), bottom: Math.round(b.bottom), left: Math.round(b.left), right: Math.round(b.right) };
      };
      const de = document.documentElement;
      return {
        save: rect('#save-register'),
        viewport: { w: window.innerWidth, h: window.innerHeight },
        sideways: de.scrollWidth > de.clientWidth + 1,
        more_open: document.getElementById('more-settings')?.open ?? null,
        dialpad: !!document.getElementById('dialpad'),
        hint: document.getElementById('dial-hint')?.textContent.trim() || null,
      };
    });
    r.sizes.push({ size, ...m });
    const at = `${size.width}x${size.height}`;
    if (!m.save) problems.push(`${at}: no #save-register`);
    else if (m.save.bottom > m.viewport.h || m.save.top < 0) problems.push(`${at}: Save is at ${m.save.top}-${m.save.bottom} px, outside the ${m.viewport.h} px screen`);
    if (m.sideways) problems.push(`${at}: the page scrolls sideways`);
    if (m.more_open !== false) problems.push(`${at}: "More settings" is ${m.more_open === null ? 'missing' : 'open'}`);
    if (m.dialpad) problems.push(`${at}: the dialpad shows before signing in`);
    if (!m.hint) problems.push(`${at}: no hint to sign in`);
    r.screenshots.push(await shot(P.page, SC, `settings-${at}`));
  }
  // Save with no password: the reason next to the button, with the focus
  await step('an error next to Save, focused', T.ui, async () => {
    await P.page.fill('#sip-uri', 'sip:1000@127.0.0.1');
    await P.page.fill('#password', '');
    await P.page.click('#save-register');
    await P.page.waitForSelector('#settings-error:not([hidden])', { timeout: T.ui });
  });
  const e = await P.page.evaluate(() => {
    const el = document.getElementById('settings-error');
    const save = document.getElementById('save-register').getBoundingClientRect();
    const b = el.getBoundingClientRect();
    return { text: el.textContent.trim(), focused: document.activeElement === el, gap: Math.round(b.top - save.bottom), inView: b.bottom <= window.innerHeight };
  });
  r.save_error = e;
  if (!e.text) problems.push('the error next to Save is empty');
  if (!e.focused) problems.push('the focus did not move to the error');
  if (e.gap < 0 || e.gap > 80) problems.push(`the error is ${e.gap} px from Save`);
  if (!e.inView) problems.push('the error is out of view');
  r.screenshots.push(await shot(P.page, SC, 'error-390x844'));
  if (problems.length) throw new Error(problems.join('; '));
}

export const FIRSTRUN = { 'first-screen': firstScreen };
