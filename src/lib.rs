//! A browser softphone: a sans-IO SIP user agent (`sip`), the phone's models
//! above it (`app`), and, on wasm32 only, the browser edges (`web`) and the
//! Leptos UI (`ui`, feature `ui`: the library build has none).

/// Heap accounting for memory measurements (feature `alloc-stats`).
#[cfg(any(test, feature = "alloc-stats"))]
pub mod alloc_stats;
pub mod app;
pub mod log;
pub mod sip;

#[cfg(target_arch = "wasm32")]
pub mod web;

#[cfg(all(target_arch = "wasm32", feature = "ui"))]
pub mod ui;

#[cfg(target_arch = "wasm32")]
pub mod bench;

/// The pure part of the panic banner (its text), unit-tested natively; in
/// the browser it is `web::panic`.
#[cfg(all(test, not(target_arch = "wasm32")))]
#[path = "web/panic.rs"]
mod panic_banner_text;

#[cfg(all(test, not(target_arch = "wasm32")))]
#[path = "web/logging.rs"]
mod console_log_lines;
