// scripts/shrink.mjs: the release build's short import names and minifier.
// Run by scripts/test.sh: node --test tests/scripts/
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import { minifyCss, minifyJs, shortImports, shortName, ShrinkError } from '../../scripts/shrink.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A wasm module from its text, by binaryen's wasm-as in .tools/. */
function wasmOf(wat) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shrink-test-'));
  try {
    fs.writeFileSync(path.join(dir, 'm.wat'), wat);
    execFileSync(path.join(ROOT, '.tools/node_modules/.bin/wasm-as'), [path.join(dir, 'm.wat'), '-o', path.join(dir, 'm.wasm')]);
    return fs.readFileSync(path.join(dir, 'm.wasm'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// the shape of wasm-bindgen's output: functions imported from one module,
// a table and a memory of its own, an export that calls the imports
const WAT = `(module
  (import "./app_bg.js" "__wbg_add_0123456789abcdef" (func $add (param i32 i32) (result i32)))
  (import "./app_bg.js" "__wbg_log_fedcba9876543210" (func $log (param i32)))
  (memory (export "memory") 1)
  (func (export "run") (param i32) (result i32)
    (call $log (local.get 0))
    (call $add (local.get 0) (i32.const 40))))`;

// wasm-bindgen's JS: the imports defined by name in one object per module
const JS = `let logged = [];
function __wbg_get_imports() {
    const import0 = {
        __proto__: null,
        __wbg_add_0123456789abcdef: function(a, b) { return a + b; },
        __wbg_log_fedcba9876543210: function(x) { logged.push(x); },
    };
    return { __proto__: null, "./app_bg.js": import0 };
}
export function imports() { return __wbg_get_imports(); }
export function log() { return logged; }
`;

async function load(js) {
  return import(`data:text/javascript,${encodeURIComponent(js)}`);
}

test('the renamed wasm runs with the renamed JS, minified or not', async () => {
  const wasm = wasmOf(WAT);
  const out = shortImports(wasm, JS);
  assert.equal(out.count, 2);
  const imports = WebAssembly.Module.imports(new WebAssembly.Module(out.wasm));
  assert.deepEqual(imports.map((i) => `${i.module}.${i.name}`), ['w._0', 'w._1']);
  assert.ok(out.wasm.length < wasm.length);
  assert.ok(!out.js.includes('0123456789abcdef') && !out.js.includes('fedcba9876543210') && !out.js.includes('app_bg'));
  for (const js of [out.js, minifyJs(out.js)]) {
    const mod = await load(js);
    const { instance } = await WebAssembly.instantiate(out.wasm, mod.imports());
    assert.equal(instance.exports.run(2), 42);
    assert.deepEqual(mod.log(), [2]);
  }
  // the original pair does not fit the renamed halves
  await assert.rejects(WebAssembly.instantiate(out.wasm, (await load(JS)).imports()));
});

test('short names are distinct identifiers', () => {
  const names = Array.from({ length: 2000 }, (_, i) => shortName(i));
  assert.equal(new Set(names).size, names.length);
  for (const n of names) assert.match(n, /^[A-Za-z_$][\w$]*$/);
});

test('what it cannot rename safely fails instead', () => {
  const wasm = wasmOf(WAT);
  // a name the JS has twice (or not at all)
  const twice = JS.replace('logged.push(x);', 'logged.push(x); /* __wbg_add_0123456789abcdef */');
  assert.throws(() => shortImports(wasm, twice), ShrinkError);
  assert.throws(() => shortImports(wasm, JS.replace('__wbg_log_fedcba9876543210:', 'other:')), ShrinkError);
  // a module the JS does not name
  assert.throws(() => shortImports(wasm, JS.replace('"./app_bg.js"', '"./other_bg.js"')), ShrinkError);
  // imports from a second module, or not functions
  const two = wasmOf(WAT.replace('(import "./app_bg.js" "__wbg_log', '(import "./snippet.js" "__wbg_log'));
  assert.throws(() => shortImports(two, JS), ShrinkError);
  const mem = wasmOf(WAT.replace('(memory (export "memory") 1)', '(import "./app_bg.js" "memory" (memory 1))'));
  assert.throws(() => shortImports(mem, JS), ShrinkError);
  // not wasm, or cut short
  assert.throws(() => shortImports(Buffer.from('not wasm at all'), JS), ShrinkError);
  assert.throws(() => shortImports(wasm.subarray(0, 20), JS), ShrinkError);
});

test('the minifiers keep what the page needs', async () => {
  const js = minifyJs('export function greet(name) { const greeting = "hello, " + name; return greeting; }\n');
  assert.ok(js.length < 70);
  assert.equal((await load(js)).greet('you'), 'hello, you');
  const css = minifyCss('.a  {  color : red ; }\n\n[hidden] { display: none !important; }\n');
  assert.equal(css.trim(), '.a{color:red}[hidden]{display:none!important}');
});
