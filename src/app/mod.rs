//! The phone model above the SIP core: plain Rust like `sip` (no web-sys, no
//! async, no clock), tested natively (`tests/app_phone.rs` runs whole phones
//! on the two-phone bed). [`phone::Phone`] owns the user agent and decides
//! everything the browser used to: line rules (`lines`), reconnection
//! (`connection`), alerts (`alerts`), keys (`keys`) and the view model
//! (`view`; its sentences in `words`). Beside it, the phone's data models:
//! settings, call history, contacts, messages, call quality, the embedding
//! API's types and the JSON they are stored as.

pub mod alerts;
pub mod connection;
pub mod contacts;
pub mod embed;
pub mod history;
pub mod json;
pub mod keys;
pub mod lines;
pub mod lists;
pub mod messaging;
pub mod phone;
pub mod quality;
pub mod settings;
pub mod view;
pub mod words;

/// Helpers of the app modules' tests: a party, a line on screen.
#[cfg(test)]
pub(crate) mod testing {
    use super::view::{CallPhase, CallView};
    use crate::sip::{CallId, Party};

    pub fn party(name: Option<&str>, uri: &str) -> Party {
        Party {
            display_name: name.map(str::to_string),
            uri: uri.to_string(),
        }
    }

    /// Line `id` in `phase`, with `sip:<id>@x` named `name` at the far end.
    pub fn line(id: u32, phase: CallPhase, name: Option<&str>) -> CallView {
        CallView::new(CallId(id), phase, &party(name, &format!("sip:{id}@x")))
    }
}
