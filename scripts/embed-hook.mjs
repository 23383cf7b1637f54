#!/usr/bin/env node
// Trunk post_build hook (Trunk.toml [[hooks]]): the embeddable phone
// (docs/embedding.md). In $TRUNK_STAGING_DIR, next to the app:
//   sip-phone.js      embed/sip-phone.js with the app's module and wasm file
//                     names (content-hashed by Trunk) and the styles filled in;
//                     a stable name, so host pages can link to it
//   sip-phone.d.ts    the TypeScript declarations
//   embed/…           the example host pages (host.html, frame.html, …)
// The styles are style/main.css + style/views.css (":root" -> ".sp-root",
// "rem" -> var(--sp-rem): the host page's root font size must not scale the
// phone) + style/embed.css, adopted in the phone's shadow root.
// Fails the build (exit 1) with a reason when something is missing.
//
// In a release build the styles and sip-phone.js are minified.
//
// Usage outside Trunk (a check): node scripts/embed-hook.mjs <built dir> [--release]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { minifyCss, minifyJs } from './shrink.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
function fail(msg) {
  console.error(`embed-hook: ${msg}`);
  process.exit(1);
}

const dir = process.argv.slice(2).find((a) => !a.startsWith('--')) || process.env.TRUNK_STAGING_DIR;
if (!dir) fail('no directory: run by Trunk (TRUNK_STAGING_DIR) or give one as argument');
const files = fs.readdirSync(dir);
const wasm = files.filter((f) => /^softphone-[0-9a-f]+_bg\.wasm$/.test(f));
const js = files.filter((f) => /^softphone-[0-9a-f]+\.js$/.test(f));
if (wasm.length !== 1 || js.length !== 1) {
  fail(`expected one softphone-<hash>.js and one softphone-<hash>_bg.wasm in ${dir}, found ${js.join(', ') || 'no js'} / ${wasm.join(', ') || 'no wasm'}`);
}

/**
 * A stylesheet for the shadow root: no :root, no rem, and the narrow-screen
 * rules (`@media (max-width: …)`) follow the phone's own width (a container
 * query on .sp-root, style/embed.css), not the host page's: a phone in a
 * 340 px corner of a wide page is as narrow as one on a small screen.
 */
export function shadowCss(css) {
  return css
    .replace(/:root\b/g, '.sp-root')
    .replace(/(\d*\.?\d+)rem\b/g, 'calc($1 * var(--sp-rem))')
    .replace(/@media\s*\(max-width:\s*([^)]+)\)/g, '@container sp-phone (max-width: $1)');
}

const read = (p) => fs.readFileSync(path.join(ROOT, p), 'utf8');
const release = process.argv.includes('--release') || process.env.TRUNK_PROFILE === 'release';
let css = [
  shadowCss(read('style/main.css')),
  shadowCss(read('style/views.css')),
  read('style/embed.css'),
].join('\n');
const version = JSON.parse(JSON.stringify(read('Cargo.toml').match(/^version\s*=\s*"([^"]+)"/m)?.[1] || '0'));

let template = read('embed/sip-phone.js');
const fill = (name, value) => {
  if (!template.includes(name)) fail(`embed/sip-phone.js has no ${name}`);
  template = template.split(name).join(value);
};
// a release build: the styles and the script minified (scripts/shrink.mjs)
try {
  if (release) css = minifyCss(css);
} catch (e) {
  fail(`minifying the styles: ${e.message}`);
}
fill("'__SIP_PHONE_APP_JS__'", JSON.stringify(`./${js[0]}`));
fill("'__SIP_PHONE_APP_WASM__'", JSON.stringify(`./${wasm[0]}`));
fill('__SIP_PHONE_CSS__', JSON.stringify(css));
fill('__SIP_PHONE_VERSION__', version);
try {
  if (release) template = minifyJs(template);
} catch (e) {
  fail(`minifying sip-phone.js: ${e.message}`);
}
fs.writeFileSync(path.join(dir, 'sip-phone.js'), template);
fs.copyFileSync(path.join(ROOT, 'embed/sip-phone.d.ts'), path.join(dir, 'sip-phone.d.ts'));

// the example host pages
const out = path.join(dir, 'embed');
fs.mkdirSync(out, { recursive: true });
let copied = 0;
for (const f of fs.readdirSync(path.join(ROOT, 'embed'))) {
  // the loaders are templates (filled here and by agent-hook.mjs)
  if (/^sip-(phone|agent)\.(js|d\.ts)$/.test(f)) continue;
  fs.copyFileSync(path.join(ROOT, 'embed', f), path.join(out, f));
  copied += 1;
}
console.log(`embed-hook: sip-phone.js (${template.length} bytes, app ${js[0]}), sip-phone.d.ts, ${copied} example file(s) in embed/`);
