//! Browser edges around the sans-IO core: thin adapters, no SIP logic.
//!
//! * [`driver`] owns the [`Phone`](crate::app::phone::Phone), feeds it
//!   inputs, carries out its outputs, keeps its one timer armed and hands
//!   its view to the UI (through a callback: `web` never imports `ui`).
//! * [`transport`] is the SIP-over-WebSocket connection.
//! * [`media`] is WebRTC: microphone, peer connection, remote audio.
//! * [`storage`] keeps the account settings in session/local storage;
//!   [`lists`] the tabs' lists (history, messages, contacts) per account.
//! * [`logging`] sends the log ([`crate::log`]) to the browser console.
//! * [`panic`] reports a panic in the console and on the page.
//! * [`layout`] tells the phone the width it has (for the wide layout).
//! * [`embed`] is the embedding API: the phone in a host page's element
//!   or iframe, driven from JavaScript (docs/embedding.md).

pub mod attention;
pub mod driver;
pub mod embed;
pub mod keys;
pub mod layout;
pub mod lists;
pub mod logging;
pub mod media;
pub mod panic;
pub mod recordings;
pub mod storage;
pub mod transport;

/// Panic banner and logging: the first thing, for the app, the embedded
/// phone and the library build alike.
pub fn init_runtime() {
    mark("softphone:start");
    panic::install();
    logging::init();
    crate::log::info!("softphone {} starting", env!("CARGO_PKG_VERSION"));
}

/// Run `f` in a new task (a zero timeout): after the view's updates and
/// whatever else this task set going.
pub fn next_task(f: impl FnOnce() + 'static) {
    wasm_bindgen_futures::spawn_local(async move {
        gloo_timers::future::TimeoutFuture::new(0).await;
        f();
    });
}

/// A User Timing mark (`performance.mark`): where a page load goes shows in
/// the browser's performance panel and in `bench/run.mjs`'s load timeline.
pub fn mark(name: &str) {
    if let Some(p) = web_sys::window().and_then(|w| w.performance()) {
        let _ = p.mark(name);
    }
}
