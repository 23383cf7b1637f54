//! A browser softphone: a sans-IO SIP user agent (`sip`), and, on wasm32 only,
//! the browser edges (`web`) and the Leptos UI (`ui`).

pub mod settings;
pub mod sip;

#[cfg(target_arch = "wasm32")]
pub mod web;

#[cfg(target_arch = "wasm32")]
pub mod ui;
