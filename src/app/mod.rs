//! The phone model above the SIP core: plain Rust like `sip` (no web-sys, no
//! async, no clock), tested natively. Today it holds the phone's data
//! models: settings, call history, contacts, messages, call quality, the
//! embedding API's types and the JSON they are stored as, and the view model
//! (`view`: the account and the calls as the screen shows them). Issue 13 moves the
//! line rules, reconnection, alerts and the view model here from the
//! browser driver.

pub mod alerts;
pub mod connection;
pub mod contacts;
pub mod embed;
pub mod history;
pub mod json;
pub mod keys;
pub mod lines;
pub mod messaging;
pub mod quality;
pub mod settings;
pub mod view;

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
