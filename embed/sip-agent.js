// sip-agent.js: the phone without its UI, for pages that draw their own
// (the library build; docs/embedding.md "Your own UI").
//
//   import { createAgent } from 'https://phone.example/sip-agent.js';
//   const agent = await createAgent({ ws: 'wss://pbx.example:8089',
//     uri: 'sip:1000@example.com', user: '1000', password: '…' });
//   agent.on('incomingcall', (e) => …); agent.call('1001');
//
// The same phone, commands and events as SipPhone.mount() (sip-phone.js),
// from a build without the Leptos UI. Types: sip-phone.d.ts. This file is a
// template: scripts/agent-hook.mjs fills in the library's module and wasm
// names at build time and writes dist/sip-agent.js. The wasm is loaded by
// createAgent(), not before; its WebSocket is opened then too, while the
// wasm loads (early-socket.js).

import { firstServer, openEarly } from './early-socket.js';

const AGENT_JS = '__SIP_AGENT_JS__';
const AGENT_WASM = '__SIP_AGENT_WASM__';

/** The commands of a phone (sip-phone.js's Phone has the same). */
export const NAMES = ['register', 'unregister', 'call', 'answer', 'hangup', 'hold', 'resume',
  'mute', 'unmute', 'sendDtmf', 'transfer', 'message', 'prepare',
  'videoOn', 'videoOff', 'shareScreen', 'stopSharing', 'record', 'stopRecording'];

/** register({ password, user, uri, ws, displayName }) or register(password) */
export function registerArgs(credentials) {
  const c = typeof credentials === 'string' ? { password: credentials } : (credentials || {});
  return [c.password, c.user ?? c.authUser, c.uri, c.ws, c.displayName].map((v) => (v == null ? '' : String(v)));
}

/** Turn a config object into the flat [name, value, …] list the wasm takes. */
export function configPairs(config) {
  const out = [];
  for (const [k, v] of Object.entries(config || {})) {
    if (v === null || v === undefined) continue;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
      out.push(k, String(v));
    } else if (k === 'iceServers' && Array.isArray(v)) {
      // [{urls, username, credential}] -> "url [username credential]" lines
      out.push(k, v.flatMap((s) => [].concat(s.urls).map((u) =>
        [u, s.username, s.credential].filter(Boolean).join(' '))).join('\n'));
    } else if (Array.isArray(v)) {
      // a list (audioCodecs: ['PCMU', 'PCMA']) -> "PCMU,PCMA"
      out.push(k, v.map(String).join(','));
    }
  }
  return out;
}

/**
 * Give `proto` the phone's commands, each run through `this._run(name,
 * args)`: register(credentials) (a password or token from your own
 * backend, in memory only), unregister(), call(target, { video }),
 * answer({ video }) (video: with the camera), hangup(),
 * hold(), resume(), mute(), unmute(), sendDtmf(digits), transfer(target),
 * message(to, text), prepare() (the user started dialling: the next call's
 * microphone and offer are made ready, released if no call follows).
 */
export function defineCommands(proto) {
  for (const name of NAMES) {
    proto[name] = name === 'register'
      ? function (credentials = {}) { this._run('register', registerArgs(credentials)); }
      : function (...args) { this._run(name, commandArgs(name, args)); };
  }
}

/**
 * A command's arguments as the wasm takes them (strings): the options of
 * call(target, { video }) and answer({ video }) become "video" or "".
 */
export function commandArgs(name, args) {
  const video = (o) => (o && typeof o === 'object' && o.video ? 'video' : '');
  if (name === 'call') return [args[0], video(args[1])];
  if (name === 'answer') return [video(args[0])];
  return args;
}

/** Run one command in `wasm` (null: gone, and `gone` is the error's text). */
export function runCommand(wasm, name, args, gone) {
  if (!wasm) throw new Error(gone);
  wasm.embed_command(name, args.map((a) => (a === undefined || a === null ? '' : String(a))));
}

/** The registration state and the calls, as plain data (`wasm` null: gone). */
export function stateOf(wasm) {
  return wasm ? wasm.embed_state() : { registration: 'unmounted', calls: [] };
}

/**
 * Open the WebSocket now, while the wasm loads, when the phone will sign in
 * as soon as it starts (a password given, or a credentials callback).
 */
export function connectEarly(config) {
  const c = config || {};
  if (c.register === false || c.register === 'false') return;
  if (!c.password && typeof c.credentials !== 'function') return;
  openEarly(firstServer(c.ws));
}

/** Ask for the credentials callback's answer and sign in with it (an error event when it fails). */
export async function registerWith(phone, credentials, target) {
  try {
    phone.register(await credentials());
  } catch (e) {
    target.dispatchEvent(new CustomEvent('error', {
      detail: { message: `credentials: ${e && e.message ? e.message : e}`, fatal: false },
    }));
  }
}

/**
 * A loader of a wasm-bindgen module (`js`) and its wasm (URLs): it loads
 * them once, when first called, both at once (the wasm is compiled while
 * it streams in); a failed load may be tried again.
 */
export function loader(js, wasm) {
  let loading = null;
  return () => {
    if (!loading) {
      const response = fetch(wasm);
      response.catch(() => {}); // reported by the init below
      loading = import(js.href).then(async (m) => {
        await m.default({ module_or_path: response });
        return m;
      });
      loading.catch(() => { loading = null; });
    }
    return loading;
  };
}

/** Load the library's wasm once. */
const load = loader(new URL(AGENT_JS, import.meta.url), new URL(AGENT_WASM, import.meta.url));

let current = null; // one phone per page

/** A phone without a view: the commands, `state`, and the events (it is an EventTarget). */
export class Agent extends EventTarget {
  #wasm;

  constructor(wasm) {
    super();
    this.#wasm = wasm;
  }

  _run(name, args = []) { runCommand(this.#wasm, name, args, 'sip-agent: this agent was closed'); }

  /** The registration state and the calls, as plain data. */
  get state() { return stateOf(this.#wasm); }

  /** Listen to an event; returns a function that stops listening. */
  on(type, listener) {
    this.addEventListener(type, listener);
    return () => this.removeEventListener(type, listener);
  }

  /** The pictures of a call (its `call` from the events or `state`): an
   * element with the other side's video and our preview, to put anywhere
   * in the page; null when there is no such call. */
  videoBox(call) { return this.#wasm ? this.#wasm.embed_video(String(call)) : null; }

  /** Hang up, sign out, close the WebSocket, stop every timer, track and peer connection. */
  async close() {
    if (!this.#wasm) return;
    const wasm = this.#wasm;
    this.#wasm = null;
    await wasm.embed_unmount();
    if (current === this) current = null;
  }
}
defineCommands(Agent.prototype);

/**
 * Start a phone without a view. `config` as for SipPhone.mount() (ws, uri,
 * user, displayName, password, credentials, register, iceServers,
 * relayOnly, autoAnswer, dtmf, audioCodecs, videoCodecs, recordCalls); theme, layout and
 * clickToCall do not apply.
 */
export async function createAgent(config = {}) {
  if (current) throw new Error('sip-agent: a phone is already running on this page (one per page): close it first');
  connectEarly(config);
  const wasm = await load();
  if (current) throw new Error('sip-agent: a phone is already running on this page (one per page): close it first');
  const agent = new Agent(wasm);
  const plain = { ...config };
  const credentials = typeof config.credentials === 'function' ? config.credentials : null;
  if (credentials) plain.register = false; // after the credentials come
  for (const w of wasm.agent_start(agent, configPairs(plain))) console.warn(`sip-agent: ${w}`);
  current = agent;
  if (credentials && config.register !== false && config.register !== 'false') {
    await registerWith(agent, credentials, agent);
  }
  return agent;
}

export default createAgent;
