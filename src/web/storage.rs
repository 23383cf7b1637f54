//! Account settings in the browser's storage.
//!
//! Saved to both `sessionStorage` (this tab) and `localStorage` (the default
//! for new tabs); loaded from `sessionStorage` first. So two tabs of one
//! browser can be two different accounts, and a new tab starts with the
//! account used last.

use gloo_storage::{LocalStorage, SessionStorage, Storage};
use serde::{Deserialize, Serialize};

const KEY: &str = "softphone.settings";

#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub ws_url: String,
    pub sip_uri: String,
    pub auth_user: String,
    pub password: String,
    pub display_name: String,
}

/// Never prints the password.
impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("ws_url", &self.ws_url)
            .field("sip_uri", &self.sip_uri)
            .field("auth_user", &self.auth_user)
            .field(
                "password",
                &if self.password.is_empty() { "" } else { "***" },
            )
            .field("display_name", &self.display_name)
            .finish()
    }
}

/// The stored settings, or defaults (the WebSocket URL points at port 8088
/// of the host that served the page).
pub fn load() -> Settings {
    if let Ok(s) = SessionStorage::get::<Settings>(KEY) {
        return s;
    }
    if let Ok(s) = LocalStorage::get::<Settings>(KEY) {
        return s;
    }
    Settings {
        ws_url: default_ws_url(),
        ..Settings::default()
    }
}

/// Whether this tab has saved settings of its own (used to sign in again
/// after a reload).
pub fn has_session_settings() -> bool {
    SessionStorage::get::<Settings>(KEY).is_ok()
}

/// Save to both storages. Fails only if the browser refuses storage
/// (private mode quotas, disabled storage); the caller shows the error.
pub fn save(settings: &Settings) -> Result<(), String> {
    let session = SessionStorage::set(KEY, settings);
    let local = LocalStorage::set(KEY, settings);
    match (session, local) {
        (Err(e), Err(_)) => Err(format!("The settings could not be saved: {e}")),
        _ => Ok(()),
    }
}

fn default_ws_url() -> String {
    let host = web_sys::window()
        .and_then(|w| w.location().hostname().ok())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "127.0.0.1".to_string());
    let secure = web_sys::window()
        .and_then(|w| w.location().protocol().ok())
        .is_some_and(|p| p == "https:");
    if secure {
        format!("wss://{host}:8089")
    } else {
        format!("ws://{host}:8088")
    }
}
