// Smaller release files (issue 15, "everything the page loads"), used by the
// build hooks (csp-hook.mjs for the app, agent-hook.mjs for the library,
// embed-hook.mjs for sip-phone.js); debug builds are left as they are.
//
//   shortImports(wasm, js)  wasm-bindgen names every import of the wasm
//       `__wbg_<name>_<16 hex digits>` in a module `./<crate>_bg.js`, and
//       its JS module defines each one under that name: 17 KB of names in
//       the app's wasm, whose hex digits gzip cannot shrink, and the same
//       again in the JS. They become `_0`, `_1`, … in one module `w`, in
//       both files, checked one for one (a name not found exactly once in
//       the JS fails the build instead of shipping a wasm that cannot
//       start).
//   minifyJs(text), minifyCss(text)  esbuild's minifier (npm esbuild in
//       .tools/, installed by scripts/setup.sh).
//   sri(bytes)  the integrity value of a file (sha384), as Trunk writes it.
import crypto from 'node:crypto';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export class ShrinkError extends Error {}

function esbuild() {
  try {
    return createRequire(path.join(ROOT, '.tools', 'package.json'))('esbuild');
  } catch (e) {
    throw new ShrinkError(`no esbuild in .tools/ (run scripts/setup.sh): ${e.message}`);
  }
}

export function minifyJs(text) {
  return esbuild().transformSync(text, { loader: 'js', format: 'esm', minify: true, target: 'es2020', charset: 'utf8' }).code;
}

export function minifyCss(text) {
  return esbuild().transformSync(text, { loader: 'css', minify: true, charset: 'utf8' }).code;
}

export const sri = (data) => `sha384-${crypto.createHash('sha384').update(data).digest('base64')}`;

// ---- the wasm's import section ----

function readU32(buf, pos) {
  let result = 0;
  let shift = 0;
  for (;;) {
    if (pos >= buf.length) throw new ShrinkError('wasm: LEB128 past the end');
    const b = buf[pos++];
    result += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return [result, pos];
    shift += 7;
    if (shift > 63) throw new ShrinkError('wasm: LEB128 too long');
  }
}

function u32(n) {
  const out = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}

function readName(buf, pos) {
  const [len, p] = readU32(buf, pos);
  if (p + len > buf.length) throw new ShrinkError('wasm: a name past the end');
  return [buf.subarray(p, p + len).toString('utf8'), p + len];
}

const nameBytes = (s) => Buffer.concat([u32(Buffer.byteLength(s)), Buffer.from(s, 'utf8')]);

/** `_0`, `_1`, … `_z`, `_10`: short, and valid JS identifiers. */
export const shortName = (i) => `_${i.toString(36)}`;

/**
 * The wasm with its imports renamed (module `w`, names `_0`, `_1`, …) and
 * the wasm-bindgen JS module with the same names. Every import must be a
 * function of the one module `./<name>_bg.js` that the JS defines, each
 * name exactly once in the JS; anything else throws ShrinkError.
 */
export function shortImports(wasm, js) {
  if (wasm.readUInt32LE(0) !== 0x6d736100 || wasm.readUInt32LE(4) !== 1) throw new ShrinkError('not a wasm module (version 1)');
  const parts = [wasm.subarray(0, 8)];
  const renamed = new Map();
  let moduleName = null;
  let pos = 8;
  while (pos < wasm.length) {
    const id = wasm[pos];
    const [size, body] = readU32(wasm, pos + 1);
    const end = body + size;
    if (end > wasm.length) throw new ShrinkError('wasm: a section past the end');
    if (id !== 2) {
      parts.push(wasm.subarray(pos, end));
      pos = end;
      continue;
    }
    let [count, p] = readU32(wasm, body);
    const entries = [u32(count)];
    for (let i = 0; i < count; i++) {
      let mod;
      let name;
      [mod, p] = readName(wasm, p);
      [name, p] = readName(wasm, p);
      if (wasm[p] !== 0x00) throw new ShrinkError(`wasm: import ${mod}.${name} is not a function`);
      const [, descEnd] = readU32(wasm, p + 1);
      if (moduleName === null) moduleName = mod;
      if (mod !== moduleName) throw new ShrinkError(`wasm: imports from two modules (${moduleName}, ${mod})`);
      if (!/^\.\/[\w-]+_bg\.js$/.test(mod)) throw new ShrinkError(`wasm: import module ${mod} is not wasm-bindgen's`);
      if (renamed.has(name)) throw new ShrinkError(`wasm: import ${name} twice`);
      const short = shortName(renamed.size);
      renamed.set(name, short);
      entries.push(nameBytes('w'), nameBytes(short), wasm.subarray(p, descEnd));
      p = descEnd;
    }
    if (p !== end) throw new ShrinkError('wasm: the import section has bytes after its imports');
    const content = Buffer.concat(entries);
    parts.push(Buffer.from([2]), u32(content.length), content);
    pos = end;
  }
  if (moduleName === null) throw new ShrinkError('wasm: no imports (is this wasm-bindgen output?)');

  let out = js;
  const quoted = JSON.stringify(moduleName);
  if (out.split(quoted).length !== 2) throw new ShrinkError(`js: ${quoted} is not there exactly once`);
  out = out.replace(quoted, 'w');
  for (const [name, short] of renamed) {
    const key = new RegExp(`(^|[^\\w$])${name.replace(/\$/g, '\\$')}(?![\\w$])`, 'g');
    const found = out.match(key) || [];
    if (found.length !== 1) throw new ShrinkError(`js: import ${name} found ${found.length} times, not once`);
    out = out.replace(key, (_, before) => `${before}${short}`);
  }
  return { wasm: Buffer.concat(parts), js: out, count: renamed.size };
}
