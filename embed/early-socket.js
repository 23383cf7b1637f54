// early-socket.js: open the phone's WebSocket while its wasm is still
// downloading and compiling (issue 15), so that the handshake is done when
// the first REGISTER is ready. The wasm takes it over (src/web/transport.rs)
// when it connects to the same address; one it does not take is closed.
//
// Two users:
//  - sip-agent.js and sip-phone.js import openEarly() and call it when a
//    phone is to sign in at once;
//  - the app's page (index.html) loads this file as "early-socket.js#page":
//    a tab that had signed in signs in again after a reload, so its saved
//    account's server is opened at once.

const SLOT = '__softphoneEarly';
/** Closed if the phone has not taken it by then. */
const UNUSED_MS = 30000;

/** The first of the server addresses (separated by spaces, commas or newlines). */
export function firstServer(text) {
  return String(text || '').split(/[\s,]+/).find((u) => u) || '';
}

/**
 * Open a WebSocket (sub-protocol "sip") to `url` for the phone to take;
 * the frames it receives meanwhile are kept. Never throws: a URL the
 * browser refuses is left for the phone to report.
 */
export function openEarly(url) {
  if (!/^wss?:\/\//i.test(url) || typeof WebSocket !== 'function') return;
  const prev = globalThis[SLOT];
  if (prev) {
    if (prev.url === url) return;
    clearTimeout(prev.timer);
    prev.ws.close();
  }
  let ws;
  try {
    ws = new WebSocket(url, 'sip');
  } catch {
    return;
  }
  ws.binaryType = 'arraybuffer';
  const early = { url, ws, queue: [], timer: 0 };
  ws.onmessage = (e) => early.queue.push(e.data);
  early.timer = setTimeout(() => {
    if (globalThis[SLOT] !== early) return;
    delete globalThis[SLOT];
    ws.onmessage = null;
    ws.close();
  }, UNUSED_MS);
  globalThis[SLOT] = early;
}

// The app's page: the account this tab signed in with (src/web/storage.rs
// keeps it in sessionStorage under this key; a tab without one shows the
// sign-in card and connects nowhere yet).
if (new URL(import.meta.url).hash === '#page') {
  try {
    const saved = JSON.parse(sessionStorage.getItem('softphone.settings') || 'null');
    if (saved && saved.sip_uri && saved.password) openEarly(firstServer(saved.ws_url));
  } catch {
    // no storage, or not ours: the phone decides by itself
  }
}
