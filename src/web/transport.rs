//! SIP over WebSocket (RFC 7118): sub-protocol `sip`, one SIP message per
//! frame. Outgoing messages are sent as text frames; incoming text and
//! binary frames are both handed on as bytes.

use futures::channel::mpsc;
use futures::future::{select, Either};
use futures::{SinkExt, StreamExt};
use gloo_timers::future::TimeoutFuture;
use wasm_bindgen_futures::spawn_local;
use ws_stream_wasm::{WsErr, WsMessage, WsMeta};

/// How long to wait for the WebSocket handshake before giving up.
const CONNECT_TIMEOUT_MS: u32 = 10_000;

/// What happens on a connection, in order: `Open`, any number of
/// `Message`s, then `Closed`; or just `Failed`.
#[derive(Debug)]
pub enum TransportEvent {
    Open,
    Message(Vec<u8>),
    /// The connection was open and is now closed.
    Closed(String),
    /// The connection could not be opened; the text is for the user.
    Failed(String),
}

/// The sending half of a connection. Dropping it closes the WebSocket once
/// everything queued has been sent.
pub struct Connection {
    tx: mpsc::UnboundedSender<Vec<u8>>,
}

impl Connection {
    /// Queue one SIP message. False if the connection is gone.
    pub fn send(&self, msg: Vec<u8>) -> bool {
        self.tx.unbounded_send(msg).is_ok()
    }
}

/// Open a WebSocket to `url`; `on_event` is called with everything that
/// happens on it (never re-entrantly: always from a spawned task).
pub fn connect(url: String, on_event: impl Fn(TransportEvent) + 'static) -> Connection {
    let (tx, rx) = mpsc::unbounded::<Vec<u8>>();
    spawn_local(run(url, rx, on_event));
    Connection { tx }
}

async fn run(
    url: String,
    mut rx: mpsc::UnboundedReceiver<Vec<u8>>,
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
    if meta.protocol() != "sip" {
        tracing::warn!(
            "server did not accept sub-protocol sip: {:?}",
            meta.protocol()
        );
    }
    tracing::info!("connected to {url}");
    on_event(TransportEvent::Open);

    let (mut sink, mut incoming) = stream.split();

    // writer: everything queued, in order; when the Connection is dropped
    // (the channel ends), close the socket after the queued messages.
    let writer_url = url.clone();
    spawn_local(async move {
        while let Some(msg) = rx.next().await {
            let frame = match String::from_utf8(msg) {
                Ok(text) => WsMessage::Text(text),
                Err(e) => WsMessage::Binary(e.into_bytes()),
            };
            if let Err(e) = sink.send(frame).await {
                tracing::warn!("WebSocket send to {writer_url} failed: {e}");
                break;
            }
        }
        let _ = meta.close().await;
    });

    while let Some(msg) = incoming.next().await {
        let bytes = match msg {
            WsMessage::Text(t) => t.into_bytes(),
            WsMessage::Binary(b) => b,
        };
        on_event(TransportEvent::Message(bytes));
    }
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

/// What the user reads when nothing answers at `url`.
fn unreachable(url: &str) -> String {
    format!("Cannot reach the server at {url}: is it running?")
}
