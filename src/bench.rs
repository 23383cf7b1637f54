//! Exports for the benchmark (`scripts/bench.sh`, `bench/run.mjs`): the SIP
//! parse throughput of the phone, measured in the page next to JsSIP's
//! parser. Reached from the page as `window.wasmBindings.bench_parse_one()`
//! and `window.wasmBindings.bench_parse_loop()`.
//!
//! Both go through [`classify`], the one entry point every frame from the
//! network takes in the phone: framing (start line, CRLF lines, folding,
//! `Content-Length` and the body), every header split and its name made
//! canonical, and the typed checks of `Call-ID`, `From`, `To` (name-addr),
//! `CSeq`, the top `Via`, `Max-Forwards` and `Content-Length`. Nothing here
//! is a shortcut around it.

use crate::sip::message::{classify, Incoming};
use wasm_bindgen::prelude::wasm_bindgen;

/// 1 for a frame that parses as a request, 2 for a response, 0 otherwise
/// (keep-alive or malformed), so the caller can check that every message
/// of its set was accepted.
fn kind(bytes: &[u8]) -> u32 {
    match classify(bytes) {
        Incoming::Request(_) => 1,
        Incoming::Response(_) => 2,
        Incoming::KeepAlive | Incoming::Malformed { .. } => 0,
    }
}

/// Parse one message, given as a JS string (copied into wasm memory as UTF-8
/// by the binding, as a received WebSocket text frame is): the cost of one
/// frame as the phone pays it.
#[wasm_bindgen]
pub fn bench_parse_one(message: &str) -> u32 {
    kind(message.as_bytes())
}

/// Parse every message of `messages` `rounds` times inside wasm (no
/// JS-to-wasm call per message). Returns how many parses were accepted as a
/// request or a response: `messages.len() * rounds` when all are good.
#[wasm_bindgen]
pub fn bench_parse_loop(messages: Vec<String>, rounds: u32) -> u32 {
    let mut accepted = 0u32;
    for _ in 0..rounds {
        for m in &messages {
            if kind(m.as_bytes()) != 0 {
                accepted = accepted.saturating_add(1);
            }
        }
    }
    accepted
}
