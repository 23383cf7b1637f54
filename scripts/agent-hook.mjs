#!/usr/bin/env node
// Trunk post_build hook (Trunk.toml [[hooks]]): the library build (issue
// 15), the phone without its UI, next to the app in $TRUNK_STAGING_DIR:
//   sip-agent.js                   embed/sip-agent.js with the names below
//                                  filled in (a stable name: pages link it)
//   sip-agent.d.ts                 its TypeScript declarations
//   early-socket.js                opens the WebSocket while the wasm loads
//   sip-agent-core-<hash>.js       wasm-bindgen's module of the library
//   sip-agent-core-<hash>_bg.wasm  the library (wasm-opt'd as the app's is)
// In a release build the wasm and its JS get short import names and the
// JS files are minified (scripts/shrink.mjs), as the app's are.
// It builds the bin `softphone-agent` with --no-default-features (no
// Leptos), in the profile Trunk builds (TRUNK_PROFILE), with the pinned
// wasm-bindgen and wasm-opt that Trunk uses (scripts/env.sh puts them on
// PATH). Fails the build (exit 1) with a reason.
//
// Usage outside Trunk: node scripts/agent-hook.mjs <dir> [--release]
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { minifyJs, shortImports } from './shrink.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
function fail(msg) {
  console.error(`agent-hook: ${msg}`);
  process.exit(1);
}

const dir = process.argv.slice(2).find((a) => !a.startsWith('--')) || process.env.TRUNK_STAGING_DIR;
if (!dir) fail('no directory: run by Trunk (TRUNK_STAGING_DIR) or give one as argument');
const release = process.argv.includes('--release') || process.env.TRUNK_PROFILE === 'release';
const profile = release ? 'release' : 'debug';

function run(cmd, args) {
  try {
    execFileSync(cmd, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  } catch (e) {
    fail(`${cmd} ${args.join(' ')} failed (${e.status ?? e.message})`);
  }
}

run('cargo', ['build', '--target', 'wasm32-unknown-unknown', '--no-default-features',
  '--bin', 'softphone-agent', ...(release ? ['--release'] : [])]);
const targetDir = process.env.CARGO_TARGET_DIR ? path.resolve(ROOT, process.env.CARGO_TARGET_DIR) : path.join(ROOT, 'target');
const built = path.join(targetDir, 'wasm32-unknown-unknown', profile, 'softphone-agent.wasm');
if (!fs.existsSync(built)) fail(`no ${built} after cargo build`);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sip-agent-'));
try {
  run('wasm-bindgen', ['--target', 'web', '--no-typescript', '--out-dir', tmp, '--out-name', 'sip-agent-core', built]);
  const wasmTmp = path.join(tmp, 'sip-agent-core_bg.wasm');
  if (release) {
    // as the app's (index.html): -Oz, then flatten + rereloop and -Oz twice
    const opt = path.join(tmp, 'opt.wasm');
    run('wasm-opt', ['-Oz', '--flatten', '--rereloop', '-Oz', '-Oz', '--output', opt, wasmTmp]);
    fs.renameSync(opt, wasmTmp);
  }
  let js = fs.readFileSync(path.join(tmp, 'sip-agent-core.js'), 'utf8');
  let wasm = fs.readFileSync(wasmTmp);
  if (release) {
    // short import names, minified JS (scripts/shrink.mjs)
    try {
      const short = shortImports(wasm, js);
      wasm = short.wasm;
      js = minifyJs(short.js);
    } catch (e) {
      fail(`making the release files smaller: ${e.message}`);
    }
  }
  const hash = crypto.createHash('sha256').update(js).update(wasm).digest('hex').slice(0, 16);
  const jsName = `sip-agent-core-${hash}.js`;
  const wasmName = `sip-agent-core-${hash}_bg.wasm`;
  fs.writeFileSync(path.join(dir, jsName), js);
  fs.writeFileSync(path.join(dir, wasmName), wasm);

  let template = fs.readFileSync(path.join(ROOT, 'embed/sip-agent.js'), 'utf8');
  const fill = (name, value) => {
    if (!template.includes(name)) fail(`embed/sip-agent.js has no ${name}`);
    template = template.split(name).join(value);
  };
  fill("'__SIP_AGENT_JS__'", JSON.stringify(`./${jsName}`));
  fill("'__SIP_AGENT_WASM__'", JSON.stringify(`./${wasmName}`));
  if (release) {
    try {
      template = minifyJs(template);
    } catch (e) {
      fail(`minifying sip-agent.js: ${e.message}`);
    }
  }
  fs.writeFileSync(path.join(dir, 'sip-agent.js'), template);
  fs.copyFileSync(path.join(ROOT, 'embed/sip-agent.d.ts'), path.join(dir, 'sip-agent.d.ts'));
  // sip-agent.js imports it (index.html has it copied too)
  fs.copyFileSync(path.join(ROOT, 'embed/early-socket.js'), path.join(dir, 'early-socket.js'));
  console.log(`agent-hook: sip-agent.js, ${jsName} and ${wasmName} (${wasm.length} bytes, ${profile})`);
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
