//! SIP over WebSocket (RFC 7118): sub-protocol `sip`, one SIP message per
//! frame. Outgoing messages are sent as text frames; incoming text and
//! binary frames are both handed on as bytes.

use futures::channel::oneshot;
use futures::future::{select, Either};
use futures::StreamExt;
use gloo_timers::future::TimeoutFuture;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen_futures::spawn_local;
use web_sys::WebSocket;
use ws_stream_wasm::{WsErr, WsMessage, WsMeta};

/// How long to wait for the WebSocket handshake before giving up.
const CONNECT_TIMEOUT_MS: u32 = 10_000;

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

/// The sending half of a connection. Sends are synchronous
/// (`WebSocket.send`), so that what is sent while the page is being closed
/// still leaves. Dropping it closes the WebSocket.
pub struct Connection {
    socket: Rc<RefCell<Option<WebSocket>>>,
    /// Ends the reader task's wait when the connection is dropped early.
    _stop: oneshot::Sender<()>,
}

impl Connection {
    /// Send one SIP message now. False if the connection is not open.
    pub fn send(&self, msg: Vec<u8>) -> bool {
        let socket = self.socket.borrow();
        let Some(ws) = socket.as_ref() else {
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
        if let Some(ws) = self.socket.borrow_mut().take() {
            let _ = ws.close();
        }
    }
}

/// Open a WebSocket to `url`; `on_event` is called with everything that
/// happens on it (never re-entrantly: always from a spawned task).
pub fn connect(url: String, on_event: impl Fn(TransportEvent) + 'static) -> Connection {
    let socket = Rc::new(RefCell::new(None));
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    spawn_local(run(url, socket.clone(), stop_rx, on_event));
    Connection {
        socket,
        _stop: stop_tx,
    }
}

async fn run(
    url: String,
    socket: Rc<RefCell<Option<WebSocket>>>,
    mut stop: oneshot::Receiver<()>,
    on_event: impl Fn(TransportEvent) + 'static,
) {
    tracing::info!("connecting to {url}");
    let connect = Box::pin(WsMeta::connect(url.as_str(), Some(vec!["sip"])));
    let timeout = TimeoutFuture::new(CONNECT_TIMEOUT_MS);
    let (meta, stream) = match select(connect, timeout).await {
        Either::Left((Ok(pair), _)) => pair,
        Either::Left((Err(e), _)) => {
            tracing::warn!("WebSocket connect to {url} failed: {e}");
            on_event(TransportEvent::Failed(connect_error(&url, &e)));
            return;
        }
        Either::Right(_) => {
            tracing::warn!("WebSocket connect to {url} timed out");
            on_event(TransportEvent::Failed(unreachable(&url)));
            return;
        }
    };
    if matches!(stop.try_recv(), Ok(Some(())) | Err(_)) {
        // the Connection was dropped while connecting
        let _ = meta.wrapped().close();
        return;
    }
    if meta.protocol() != "sip" {
        tracing::warn!(
            "server did not accept sub-protocol sip: {:?}",
            meta.protocol()
        );
    }
    *socket.borrow_mut() = Some(meta.wrapped().clone());
    tracing::info!("connected to {url}");
    on_event(TransportEvent::Open);

    let mut incoming = stream;
    loop {
        match select(incoming.next(), &mut stop).await {
            Either::Left((Some(msg), _)) => {
                let bytes = match msg {
                    WsMessage::Text(t) => t.into_bytes(),
                    WsMessage::Binary(b) => b,
                };
                on_event(TransportEvent::Message(bytes));
            }
            Either::Left((None, _)) => break,
            Either::Right(_) => {
                // dropped by the driver: it knows, no event
                let _ = meta.wrapped().close();
                return;
            }
        }
    }
    socket.borrow_mut().take();
    tracing::info!("WebSocket to {url} closed");
    on_event(TransportEvent::Closed(format!(
        "the connection to {url} was closed"
    )));
}

fn connect_error(url: &str, e: &WsErr) -> String {
    match e {
        WsErr::InvalidUrl { .. } => {
            format!("The server address {url} is not a valid WebSocket URL.")
        }
        _ => unreachable(url),
    }
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
