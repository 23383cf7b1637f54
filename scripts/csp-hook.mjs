#!/usr/bin/env node
// Trunk post_build hook (Trunk.toml [[hooks]]): make the built page run
// under a strict Content-Security-Policy (no inline script at all).
//
// Trunk writes the wasm loader as an inline <script type="module"> into
// index.html. This hook, run on $TRUNK_STAGING_DIR before Trunk moves it to
// dist/ (so for `trunk build` and `trunk serve` alike):
//   1. moves every inline <script> into its own file, loader-<hash>.js
//      (content-hashed like Trunk's own files), loaded with
//      <script type="module" src=… integrity="sha384-…">, and gives the
//      page's other scripts (its own files) their integrity too;
//   2. puts <meta http-equiv="Content-Security-Policy" content="…"> first
//      in <head>, so it covers everything after it.
// It fails the build (exit 1, with a reason) when the page does not look
// as expected, rather than ship a page that the policy would break.
//
// Usage outside Trunk (a check): node scripts/csp-hook.mjs <dir with index.html>
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

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

const dir = process.argv[2] || process.env.TRUNK_STAGING_DIR;
if (!dir) fail('no directory: run by Trunk (TRUNK_STAGING_DIR) or give one as argument');
const publicUrl = (process.env.TRUNK_PUBLIC_URL || '/').replace(/\/?$/, '/');
const htmlPath = path.join(dir, 'index.html');
if (!fs.existsSync(htmlPath)) fail(`no index.html in ${dir}`);
let html = fs.readFileSync(htmlPath, 'utf8');

if (html.includes('http-equiv="Content-Security-Policy"')) {
  fail(`${htmlPath} has a Content-Security-Policy already (run once per build)`);
}

// 1. inline scripts -> files
const sri = (data) => `sha384-${crypto.createHash('sha384').update(data).digest('base64')}`;
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
