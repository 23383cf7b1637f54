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
