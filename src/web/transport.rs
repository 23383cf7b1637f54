//! SIP over WebSocket (RFC 7118): sub-protocol `sip`, one SIP message per
//! frame. Outgoing messages are sent as text frames; incoming text and
//! binary frames are both handed on as bytes.
//!
//! A page may open the WebSocket before the wasm has even loaded (issue 15:
//! the handshake then overlaps the download and compile):
//! `embed/early-socket.js` leaves it in `globalThis.__softphoneEarly` as
//! `{url, ws, queue, timer}`, the frames it received meanwhile in `queue`.
//! [`connect`] takes it when the URL is the same and it is not closed;
//! [`release_early`] closes one that no connection took.

use gloo_timers::callback::Timeout;
use js_sys::{Array, ArrayBuffer, Reflect, Uint8Array};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{BinaryType, CloseEvent, Event, MessageEvent, WebSocket};

/// How long to wait for the WebSocket handshake before giving up.
const CONNECT_TIMEOUT_MS: u32 = 10_000;

/// Where `embed/early-socket.js` leaves a WebSocket it opened early.
const EARLY: &str = "__softphoneEarly";

/// What happens on a connection, in order: `Open`, any number of
/// `Message`s, then `Closed`; or just `Failed`. Nothing after the
/// [`Connection`] is dropped.
#[derive(Debug)]
pub enum TransportEvent {
    Open,
    Message(Vec<u8>),
    /// The connection was open and is now closed.
    Closed(String),
    /// The connection could not be opened; the text is for the user.
    Failed(String),
}

type OnEvent = Rc<dyn Fn(TransportEvent)>;

/// The sending half of a connection. Sends are synchronous
/// (`WebSocket.send`), so that what is sent while the page is being closed
/// still leaves. Dropping it closes the WebSocket.
pub struct Connection {
    ws: Option<WebSocket>,
    /// The WebSocket's handlers, kept alive while it is ours.
    _handlers: Vec<Closure<dyn FnMut(Event)>>,
    /// What they share (the handshake's timeout with it).
    _shared: Option<Rc<Shared>>,
}

impl Connection {
    /// Send one SIP message now. False if the connection is not open.
    pub fn send(&self, msg: Vec<u8>) -> bool {
        let Some(ws) = self.ws.as_ref() else {
            return false;
        };
        if ws.ready_state() != WebSocket::OPEN {
            return false;
        }
        let sent = match String::from_utf8(msg) {
            Ok(text) => ws.send_with_str(&text),
            Err(e) => ws.send_with_u8_array(e.as_bytes()),
        };
        sent.is_ok()
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        if let Some(s) = &self._shared {
            // the handshake timer is cleared (it holds the shared part)
            s.timeout.borrow_mut().take();
        }
        if let Some(ws) = self.ws.take() {
            unhook(&ws);
            let _ = ws.close();
        }
    }
}

fn unhook(ws: &WebSocket) {
    ws.set_onopen(None);
    ws.set_onmessage(None);
    ws.set_onerror(None);
    ws.set_onclose(None);
}

/// Open a WebSocket to `url` (or take the one opened early for it);
/// `on_event` is called with everything that happens on it. When the
/// early socket is already open, `Open` and the frames it queued are given
/// at once, from within this call: the caller must queue them (the driver
/// does), not act on them re-entrantly.
pub fn connect(url: String, on_event: impl Fn(TransportEvent) + 'static) -> Connection {
    let on_event: OnEvent = Rc::new(on_event);
    let (ws, queued) = match take_early(&url) {
        Some(early) => {
            crate::log::info!("connecting to {url} (the page opened it early)");
            early
        }
        None => {
            crate::log::info!("connecting to {url}");
            match WebSocket::new_with_str(&url, "sip") {
                Ok(ws) => (ws, Vec::new()),
                Err(e) => {
                    crate::log::warn!("WebSocket to {url} refused: {e:?}");
                    on_event(TransportEvent::Failed(invalid(&url)));
                    return Connection {
                        ws: None,
                        _handlers: Vec::new(),
                        _shared: None,
                    };
                }
            }
        }
    };
    ws.set_binary_type(BinaryType::Arraybuffer);
    let shared = Rc::new(Shared {
        opened: Cell::new(ws.ready_state() == WebSocket::OPEN),
        timeout: RefCell::new(None),
        on_event,
        ws,
        url,
    });
    let handler = |f: fn(&Shared, Event)| {
        let s = shared.clone();
        Closure::<dyn FnMut(Event)>::new(move |e: Event| f(&s, e))
    };
    let on_open = handler(|s, _| {
        s.timeout.borrow_mut().take();
        s.opened.set(true);
        if s.ws.protocol() != "sip" {
            crate::log::warn!(
                "server did not accept sub-protocol sip: {:?}",
                s.ws.protocol()
            );
        }
        crate::log::info!("connected to {}", s.url);
        (s.on_event)(TransportEvent::Open);
    });
    let on_message = handler(|s, e| {
        if let Some(bytes) = e.dyn_ref::<MessageEvent>().and_then(|m| frame(&m.data())) {
            (s.on_event)(TransportEvent::Message(bytes));
        }
    });
    let on_close = handler(|s, e| {
        s.timeout.borrow_mut().take();
        unhook(&s.ws);
        let (code, reason) = e
            .dyn_ref::<CloseEvent>()
            .map(|c| (c.code(), c.reason()))
            .unwrap_or_default();
        let url = &s.url;
        if s.opened.get() {
            crate::log::info!("WebSocket to {url} closed ({code} {reason:?})");
            (s.on_event)(TransportEvent::Closed(format!(
                "the connection to {url} was closed"
            )));
        } else {
            crate::log::warn!("WebSocket connect to {url} failed ({code} {reason:?})");
            (s.on_event)(TransportEvent::Failed(unreachable(url)));
        }
    });
    let ws = &shared.ws;
    ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    // (an error is always followed by a close: that one reports it)

    if shared.opened.get() {
        crate::log::info!("connected to {}", shared.url);
        (shared.on_event)(TransportEvent::Open);
        for bytes in queued {
            (shared.on_event)(TransportEvent::Message(bytes));
        }
    } else {
        let s = shared.clone();
        *shared.timeout.borrow_mut() = Some(Timeout::new(CONNECT_TIMEOUT_MS, move || {
            crate::log::warn!("WebSocket connect to {} timed out", s.url);
            unhook(&s.ws);
            let _ = s.ws.close();
            (s.on_event)(TransportEvent::Failed(unreachable(&s.url)));
        }));
    }
    Connection {
        ws: Some(shared.ws.clone()),
        _handlers: vec![on_open, on_message, on_close],
        _shared: Some(shared),
    }
}

/// What a connection's handlers share.
struct Shared {
    /// The handshake is done.
    opened: Cell<bool>,
    /// Gives up on a handshake that takes too long.
    timeout: RefCell<Option<Timeout>>,
    on_event: OnEvent,
    ws: WebSocket,
    url: String,
}

/// A frame's bytes: text or binary (`ArrayBuffer`).
fn frame(data: &JsValue) -> Option<Vec<u8>> {
    if let Some(text) = data.as_string() {
        return Some(text.into_bytes());
    }
    data.dyn_ref::<ArrayBuffer>()
        .map(|b| Uint8Array::new(b).to_vec())
}

/// The WebSocket the page opened early for `url`, if it is not closed,
/// with the frames it received meanwhile. Anything else there is closed.
fn take_early(url: &str) -> Option<(WebSocket, Vec<Vec<u8>>)> {
    let (early, ws) = take_global()?;
    let same = Reflect::get(&early, &"url".into())
        .ok()
        .and_then(|u| u.as_string())
        .is_some_and(|u| u == url);
    let state = ws.ready_state();
    if !same || (state != WebSocket::CONNECTING && state != WebSocket::OPEN) {
        let _ = ws.close();
        return None;
    }
    let queued = Reflect::get(&early, &"queue".into())
        .ok()
        .and_then(|q| q.dyn_into::<Array>().ok())
        .map(|q| q.iter().filter_map(|d| frame(&d)).collect())
        .unwrap_or_default();
    Some((ws, queued))
}

/// Remove the early socket's record (and its timer) from the page: the
/// record, and its WebSocket, which the page's script no longer listens to.
fn take_global() -> Option<(JsValue, WebSocket)> {
    let global = js_sys::global();
    let early = Reflect::get(&global, &EARLY.into()).ok()?;
    if !early.is_object() {
        return None;
    }
    let _ = Reflect::delete_property(global.unchecked_ref::<js_sys::Object>(), &EARLY.into());
    if let (Some(w), Some(t)) = (
        web_sys::window(),
        Reflect::get(&early, &"timer".into())
            .ok()
            .and_then(|t| t.as_f64()),
    ) {
        w.clear_timeout_with_handle(t as i32);
    }
    let ws: WebSocket = Reflect::get(&early, &"ws".into()).ok()?.dyn_into().ok()?;
    unhook(&ws);
    Some((early, ws))
}

/// Close a WebSocket the page opened early that no connection took (the
/// phone did not sign in with it).
pub fn release_early() {
    let Some((_, ws)) = take_global() else {
        return;
    };
    crate::log::info!("closing the WebSocket the page opened early: not used");
    let _ = ws.close();
}

fn invalid(url: &str) -> String {
    format!("The server address {url} is not a valid WebSocket URL.")
}

/// What the user reads when nothing answers at `url`. A browser gives no
/// reason for a failed WebSocket, so for `wss://` the sentence also names
/// the usual cause: a certificate the browser does not trust.
fn unreachable(url: &str) -> String {
    if url
        .get(..6)
        .is_some_and(|s| s.eq_ignore_ascii_case("wss://"))
    {
        let https = format!("https://{}", &url[6..]);
        format!(
            "Cannot reach the server at {url}: is it running, and does this browser trust its \
             certificate? A certificate that is self-signed, expired, or made for another name \
             is refused without a word: open {https} in a new tab to see what the browser says."
        )
    } else {
        format!("Cannot reach the server at {url}: is it running?")
    }
}
