// sip-phone.js: the softphone for any web page (README "Embed it").
//
//   <script type="module" src="https://phone.example/sip-phone.js"></script>
//   <sip-phone ws="wss://pbx.example:8089" uri="sip:1000@example.com"></sip-phone>
//
// or from JavaScript: const phone = await SipPhone.mount(element, config);
// without the UI (your own buttons): await SipPhone.createAgent(config),
// from sip-agent.js. Types: sip-phone.d.ts. This file is a template:
// scripts/embed-hook.mjs fills in the app's module name, its wasm and the
// styles at build time and writes dist/sip-phone.js. The wasm is loaded on the first mount, not before.

import {
  NAMES, commandArgs, connectEarly, createAgent, configPairs, defineCommands, loader, registerArgs, registerWith,
  runCommand, stateOf,
} from './sip-agent.js';

const APP_JS = '__SIP_PHONE_APP_JS__';
const APP_WASM = '__SIP_PHONE_APP_WASM__';
const CSS = __SIP_PHONE_CSS__;

const loadApp = loader(new URL(APP_JS, import.meta.url), new URL(APP_WASM, import.meta.url));
/** Load the phone's wasm once (module import + instantiate). */
function loadWasm() {
  // tells the app's main() not to take over the page
  globalThis.__sipPhoneEmbed = true;
  return loadApp();
}

let sheet = null;
/** The phone's styles in its shadow root; the host page's CSS stays out. */
function adoptStyles(root) {
  if (root.adoptedStyleSheets !== undefined && typeof CSSStyleSheet === 'function'
      && 'replaceSync' in CSSStyleSheet.prototype) {
    if (!sheet) {
      sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
    }
    root.adoptedStyleSheets = [sheet];
  } else {
    const style = document.createElement('style');
    style.textContent = CSS;
    root.append(style);
  }
}

let mounted = null; // one phone per page

/** The handle of a mounted phone: commands, events, state, unmount. */
class Phone {
  #host; #root; #wasm; #launcher; #unlink = null; #listeners = [];

  constructor(host, root, wasm, launcher) {
    this.#host = host;
    this.#root = root;
    this.#wasm = wasm;
    this.#launcher = launcher;
  }

  _run(name, args = []) { runCommand(this.#wasm, name, args, 'sip-phone: this phone was unmounted'); }

  /** The registration state and the calls, as plain data. */
  get state() { return stateOf(this.#wasm); }

  /** The element the events are dispatched on. */
  get element() { return this.#host; }

  /** Listen to an event; returns a function that stops listening. */
  on(type, listener) {
    this.#host.addEventListener(type, listener);
    const off = () => this.#host.removeEventListener(type, listener);
    this.#listeners.push(off);
    return off;
  }

  /** Hand `tel:`, `sip:` and `sips:` links under `root` to this phone. */
  handleLinks(root = document) {
    this.#unlink?.();
    const onClick = (ev) => {
      if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey) return;
      const a = ev.composedPath().find((n) => n instanceof Element && n.matches('a[href]'));
      if (!a) return;
      const href = a.getAttribute('href').trim();
      if (!/^(tel|sips?):/i.test(href)) return;
      ev.preventDefault();
      this.expand();
      try {
        this.call(href);
      } catch (e) {
        this.#host.dispatchEvent(new CustomEvent('error', {
          detail: { message: String(e.message || e), fatal: false },
        }));
      }
    };
    root.addEventListener('click', onClick, true);
    this.#unlink = () => root.removeEventListener('click', onClick, true);
    return this.#unlink;
  }

  /** Open the floating phone (no-op inline). */
  expand() { this.#launcher?.(true); }
  collapse() { this.#launcher?.(false); }

  /** Hang up, sign out, close the WebSocket, stop every timer, track and
   * peer connection, and remove the phone from the element. */
  async unmount() {
    if (!this.#wasm) return;
    const wasm = this.#wasm;
    this.#wasm = null;
    this.#unlink?.();
    await wasm.embed_unmount();
    for (const off of this.#listeners) off();
    this.#root.replaceChildren();
    this.#root.adoptedStyleSheets = [];
    if (mounted === this) mounted = null;
  }
}
defineCommands(Phone.prototype);

/**
 * Mount the phone into `element` (in its Shadow DOM). `config`: ws, uri,
 * user, displayName, password, credentials (async () => ({ password, user })),
 * register, theme, layout, clickToCall, iceServers, relayOnly, autoAnswer, dtmf,
 * audioCodecs, videoCodecs, recordCalls.
 */
export async function mount(element, config = {}) {
  if (!(element instanceof HTMLElement)) throw new TypeError('sip-phone: mount() needs an element');
  if (mounted) throw new Error('sip-phone: a phone is already mounted on this page (one per page): unmount it first');
  connectEarly(config);
  const wasm = await loadWasm();
  if (mounted) throw new Error('sip-phone: a phone is already mounted on this page (one per page): unmount it first');
  const root = element.shadowRoot ?? element.attachShadow({ mode: 'open' });
  root.replaceChildren();
  adoptStyles(root);
  const frame = document.createElement('div');
  frame.className = 'sp-frame';
  frame.setAttribute('part', 'frame');
  const container = document.createElement('div');
  container.className = 'sp-root';
  container.setAttribute('part', 'phone');
  const layout = String(config.layout || element.getAttribute('layout') || 'inline');
  frame.dataset.layout = layout;
  let setOpen = null;
  if (layout === 'floating') {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'sp-launcher';
    button.setAttribute('part', 'launcher');
    button.textContent = '☎';
    setOpen = (open) => {
      frame.dataset.open = String(open);
      button.setAttribute('aria-expanded', String(open));
      button.setAttribute('aria-label', open ? 'Hide the phone' : 'Show the phone');
    };
    button.addEventListener('click', () => setOpen(frame.dataset.open !== 'true'));
    setOpen(config.open !== false && config.open !== 'false');
    frame.append(button);
  }
  frame.append(container);
  root.append(frame);
  const plain = { ...config };
  const credentials = typeof config.credentials === 'function' ? config.credentials : null;
  if (credentials) plain.register = false; // after the credentials come
  let warnings;
  try {
    warnings = wasm.embed_mount(container, element, configPairs(plain));
  } catch (e) {
    root.replaceChildren();
    throw e;
  }
  for (const w of warnings) console.warn(`sip-phone: ${w}`);
  const phone = new Phone(element, root, wasm, setOpen);
  mounted = phone;
  if (setOpen) phone.on('incomingcall', () => setOpen(true));
  const clickToCall = config.clickToCall ?? config['click-to-call'];
  if (clickToCall !== undefined && clickToCall !== false && clickToCall !== 'false') {
    phone.handleLinks(document);
  }
  if (credentials && config.register !== false && config.register !== 'false') {
    await registerWith(phone, credentials, element);
  }
  return phone;
}

/**
 * Drive the phone running in an iframe (the app opened as
 * `/?embed=frame&parent=<this page's origin>`) over postMessage. Only
 * messages from that frame and `origin` are accepted; commands are posted
 * to `origin` only.
 */
export function connectFrame(iframe, { origin }) {
  const target = new URL(origin).origin;
  const events = new EventTarget();
  const pending = new Map();
  let nextId = 1;
  let resolveReady;
  const ready = new Promise((r) => { resolveReady = r; });
  const onMessage = (ev) => {
    if (ev.source !== iframe.contentWindow || ev.origin !== target) return;
    const m = ev.data;
    if (!m || m.source !== 'sip-phone') return;
    resolveReady();
    if (m.type === 'event') {
      events.dispatchEvent(new CustomEvent(m.event, { detail: m.detail }));
    } else if (m.type === 'result' && pending.has(m.id)) {
      const { resolve, reject } = pending.get(m.id);
      pending.delete(m.id);
      if (m.ok) resolve(m.value); else reject(new Error(`sip-phone: ${m.error}`));
    }
  };
  window.addEventListener('message', onMessage);
  const send = (cmd, args = []) => new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject });
    iframe.contentWindow.postMessage(
      { source: 'sip-phone', cmd, id, args: args.map((a) => (a == null ? '' : String(a))) }, target);
  });
  // the frame may have loaded before us: ask until it answers (10 s at most)
  let tries = 0;
  const ping = setInterval(() => {
    if (++tries > 40) { clearInterval(ping); return; }
    send('ping').catch(() => {});
  }, 250);
  ready.then(() => clearInterval(ping));
  const api = {
    ready,
    register: (c = {}) => {
      return send('register', registerArgs(c));
    },
    state: () => send('state'),
    addEventListener: (t, f, o) => events.addEventListener(t, f, o),
    removeEventListener: (t, f, o) => events.removeEventListener(t, f, o),
    close: () => {
      clearInterval(ping);
      window.removeEventListener('message', onMessage);
      for (const { reject } of pending.values()) reject(new Error('sip-phone: closed'));
      pending.clear();
    },
  };
  for (const n of NAMES) if (!(n in api)) api[n] = (...a) => send(n, commandArgs(n, a));
  return api;
}

/** `<sip-phone>`: the attributes are the config (ws, uri, user,
 * display-name, theme, layout, click-to-call, register, …); the element
 * has the Phone methods once `await el.ready` resolves. */
class SipPhoneElement extends HTMLElement {
  static observedAttributes = ['theme'];
  #phone = null;
  #ready = null;

  /** theme="light|dark|auto" also switches a mounted phone. */
  attributeChangedCallback(name, _old, value) {
    const root = this.shadowRoot && this.shadowRoot.querySelector('.sp-root');
    if (name === 'theme' && root && ['light', 'dark', 'auto'].includes(value)) root.dataset.theme = value;
  }

  connectedCallback() {
    if (this.#ready) return;
    const config = {};
    for (const a of this.attributes) config[a.name] = a.value;
    this.#ready = mount(this, config).then((p) => {
      this.#phone = p;
      this.dispatchEvent(new CustomEvent('ready'));
      return p;
    }, (e) => {
      this.dispatchEvent(new CustomEvent('error', { detail: { message: String(e.message || e), fatal: true } }));
      throw e;
    });
    this.#ready.catch(() => {});
  }

  disconnectedCallback() {
    // moved within the page: still connected after this task
    queueMicrotask(() => { if (!this.isConnected) this.unmount(); });
  }

  /** Resolves to the Phone once mounted. */
  get ready() { return this.#ready ?? Promise.reject(new Error('sip-phone: not in the page')); }
  get phone() { return this.#phone; }
  get state() { return this.#phone ? this.#phone.state : { registration: 'unmounted', calls: [] }; }

  async unmount() {
    const p = this.#phone;
    this.#phone = null;
    this.#ready = null;
    if (p) await p.unmount();
  }
}
for (const n of [...NAMES, 'handleLinks', 'expand', 'collapse', 'on']) {
  SipPhoneElement.prototype[n] = function (...args) {
    const p = this.phone;
    if (!p) throw new Error('sip-phone: not mounted yet (await element.ready)');
    return p[n](...args);
  };
}

if (!customElements.get('sip-phone')) customElements.define('sip-phone', SipPhoneElement);

export const SipPhone = { mount, createAgent, connectFrame, version: '__SIP_PHONE_VERSION__' };
globalThis.SipPhone = SipPhone;
export default SipPhone;
