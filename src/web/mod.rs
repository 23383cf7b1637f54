//! Browser edges around the sans-IO core: thin adapters, no SIP logic.
//!
//! * [`driver`] owns the [`UserAgent`](crate::sip::UserAgent), feeds it
//!   inputs, drains its outputs and keeps its one timer armed.
//! * [`transport`] is the SIP-over-WebSocket connection.
//! * [`media`] is WebRTC: microphone, peer connection, remote audio.
//! * [`storage`] keeps the account settings in session/local storage.
//! * [`logging`] sends panics and `tracing` to the browser console.

pub mod driver;
pub mod logging;
pub mod media;
pub mod storage;
pub mod transport;
