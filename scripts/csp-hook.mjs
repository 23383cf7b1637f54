#!/usr/bin/env node
// Trunk post_build hook (Trunk.toml [[hooks]]): make the built page run
// under a strict Content-Security-Policy (no inline script at all).
//
// Trunk writes the wasm loader as an inline <script type="module"> into
// index.html. This hook, run on $TRUNK_STAGING_DIR before Trunk moves it to
// dist/ (so for `trunk build` and `trunk serve` alike):
//   0. in a release build, makes the app's files smaller (short import
//      names in the wasm and its JS, JS and CSS minified: scripts/
//      shrink.mjs) and computes Trunk's integrity attributes again;
//   1. moves every inline <script> into its own file, loader-<hash>.js
//      (content-hashed like Trunk's own files), loaded with
//      <script type="module" src=… integrity="sha384-…">, and gives the
//      page's other scripts (its own files) their integrity too;
//   2. puts <meta http-equiv="Content-Security-Policy" content="…"> first
//      in <head>, so it covers everything after it.
// It fails the build (exit 1, with a reason) when the page does not look
// as expected, rather than ship a page that the policy would break.
//
// Usage outside Trunk (a check): node scripts/csp-hook.mjs <dir with index.html> [--release]
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { minifyCss, minifyJs, shortImports, sri } from './shrink.mjs';

// Each directive is explained in docs/security.md.
export const POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "connect-src 'self' ws: wss:",
  "style-src 'self'",
  "img-src 'self' data:",
  "media-src 'self' blob: mediastream:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

function fail(msg) {
  console.error(`csp-hook: ${msg}`);
  process.exit(1);
}

const dir = process.argv.slice(2).find((a) => !a.startsWith('--')) || process.env.TRUNK_STAGING_DIR;
if (!dir) fail('no directory: run by Trunk (TRUNK_STAGING_DIR) or give one as argument');
const publicUrl = (process.env.TRUNK_PUBLIC_URL || '/').replace(/\/?$/, '/');
const release = process.argv.includes('--release') || process.env.TRUNK_PROFILE === 'release';
const htmlPath = path.join(dir, 'index.html');
if (!fs.existsSync(htmlPath)) fail(`no index.html in ${dir}`);
let html = fs.readFileSync(htmlPath, 'utf8');

if (html.includes('http-equiv="Content-Security-Policy"')) {
  fail(`${htmlPath} has a Content-Security-Policy already (run once per build)`);
}

// 0. a release build: the app's wasm-bindgen module and wasm with short
// import names and minified, its stylesheets minified (scripts/shrink.mjs),
// and every integrity attribute Trunk wrote computed again from the file
if (release) {
  const files = fs.readdirSync(dir);
  const wasm = files.filter((f) => /^softphone-[0-9a-f]+_bg\.wasm$/.test(f));
  const js = files.filter((f) => /^softphone-[0-9a-f]+\.js$/.test(f));
  if (wasm.length !== 1 || js.length !== 1) fail(`expected one softphone-<hash>.js and _bg.wasm in ${dir}`);
  const before = [...wasm, ...js].reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
  try {
    const short = shortImports(fs.readFileSync(path.join(dir, wasm[0])), fs.readFileSync(path.join(dir, js[0]), 'utf8'));
    fs.writeFileSync(path.join(dir, wasm[0]), short.wasm);
    fs.writeFileSync(path.join(dir, js[0]), minifyJs(short.js));
    for (const css of files.filter((f) => f.endsWith('.css'))) {
      fs.writeFileSync(path.join(dir, css), minifyCss(fs.readFileSync(path.join(dir, css), 'utf8')));
    }
    console.log(`csp-hook: ${short.count} imports renamed; wasm and its JS ${before} -> ${short.wasm.length + fs.statSync(path.join(dir, js[0])).size} bytes; stylesheets minified`);
  } catch (e) {
    fail(`making the release files smaller: ${e.message}`);
  }
  html = html.replace(/<(link|script)\b[^>]*\bintegrity\s*=\s*"[^"]*"[^>]*>/gi, (tag) => {
    const ref = /\b(?:href|src)\s*=\s*"([^"]+)"/i.exec(tag);
    if (!ref || !ref[1].startsWith(publicUrl)) return tag;
    const file = path.join(dir, ref[1].slice(publicUrl.length).replace(/[#?].*$/, ''));
    if (!fs.existsSync(file)) fail(`${ref[1]}: no such file in the build`);
    return tag.replace(/\bintegrity\s*=\s*"[^"]*"/i, `integrity="${sri(fs.readFileSync(file))}"`);
  });
}

// 1. inline scripts -> files
let moved = 0;
html = html.replace(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi, (whole, attrs, body) => {
  if (/\bsrc\s*=/i.test(attrs)) return whole; // already external
  if (/type\s*=\s*["']?(application\/(ld\+)?json|importmap)/i.test(attrs)) {
    fail('an inline JSON/importmap script: not handled');
  }
  const isModule = /type\s*=\s*["']?module/i.test(attrs);
  const code = `${body.trim()}\n`;
  const hash = crypto.createHash('sha256').update(code).digest('hex').slice(0, 16);
  const file = `loader-${hash}.js`;
  fs.writeFileSync(path.join(dir, file), code);
  moved += 1;
  const type = isModule ? ' type="module"' : '';
  return `<script${type} src="${publicUrl}${file}" integrity="${sri(code)}"></script>`;
});
if (moved === 0) fail('no inline loader script found: has Trunk\'s output changed?');
// 1b. the page's own external scripts (index.html's early-socket.js) get
// integrity too, from the file Trunk copied
html = html.replace(/<script\b([^>]*)><\/script>/gi, (whole, attrs) => {
  if (/\bintegrity\s*=/i.test(attrs)) return whole;
  const src = /\bsrc\s*=\s*"([^"]+)"/i.exec(attrs);
  if (!src || !src[1].startsWith(publicUrl)) fail(`a script that is not the page's own file: ${whole}`);
  const file = path.join(dir, src[1].slice(publicUrl.length).replace(/[#?].*$/, ''));
  if (!fs.existsSync(file)) fail(`${src[1]}: no such file in the build (a copy-file link missing?)`);
  return `<script${attrs} integrity="${sri(fs.readFileSync(file))}"></script>`;
});
if (/<script\b(?![^>]*\bsrc\s*=)[^>]*>/i.test(html)) fail('an inline script is left');
if (/\son[a-z]+\s*=/i.test(html.replace(/<script[\s\S]*?<\/script>/gi, ''))) {
  fail('an inline event handler attribute (on…=) is in index.html');
}
if (/\sstyle\s*=/i.test(html)) fail('an inline style attribute is in index.html');

// 2. the policy, first in <head>
const meta = `<meta http-equiv="Content-Security-Policy" content="${POLICY}" />`;
const withMeta = html.replace(/<head(\s[^>]*)?>/i, (h) => `${h}\n    ${meta}`);
if (withMeta === html) fail('no <head> in index.html');
fs.writeFileSync(htmlPath, withMeta);
console.log(`csp-hook: ${moved} inline script(s) moved to files; Content-Security-Policy set in ${htmlPath}`);
