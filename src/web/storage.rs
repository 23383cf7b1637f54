//! Account settings in the browser's storage.
//!
//! Saved to both `sessionStorage` (this tab) and `localStorage` (the default
//! for new tabs); loaded from `sessionStorage` first. So two tabs of one
//! browser can be two different accounts, and a new tab starts with the
//! account used last.
//!
//! The password is stored with the rest, so that a reload signs in again;
//! it is never logged: [`Settings`]' `Debug` hides it.
//!
//! [`instance_id`] is this browser's RFC 5626 instance id, made once and
//! kept in `localStorage`.
//!
//! The JSON is written and read by [`crate::app::json`] (not `serde_json`, for
//! size); [`get_item`] and [`set_item`] reach the storage as `gloo-storage`
//! did before.

use crate::app::json;
pub use crate::app::settings::Settings;
use crate::app::settings::{instance_id_from_random, is_valid_instance_id};
use std::cell::RefCell;
use wasm_bindgen::{JsCast, UnwrapThrowExt};

const KEY: &str = "softphone.settings";
const INSTANCE_KEY: &str = "softphone.instance";

thread_local! {
    /// The instance id of this page, once known (also when storage fails).
    static INSTANCE: RefCell<Option<String>> = const { RefCell::new(None) };
    /// The settings of an embedded phone (docs/embedding.md): kept in
    /// memory only, never written to the browser's storage, so that a
    /// password or token the host page gives stays out of it.
    static MEMORY: RefCell<Option<Settings>> = const { RefCell::new(None) };
}

/// From now on (until [`forget_memory`]) the settings live in memory only:
/// [`load`] returns them and [`save`] replaces them.
pub fn keep_in_memory(settings: Settings) {
    MEMORY.with(|m| *m.borrow_mut() = Some(settings));
}

/// Drop the in-memory settings (the embedded phone was unmounted).
pub fn forget_memory() {
    MEMORY.with(|m| *m.borrow_mut() = None);
}

/// The stored settings, or defaults (the WebSocket URL points at port 8088
/// of the host that served the page).
pub fn load() -> Settings {
    load_checked().0
}

/// [`load`], and why stored settings were not used when some were there
/// but none could be read (damaged, or written by something else).
pub fn load_checked() -> (Settings, Option<String>) {
    if let Some(s) = MEMORY.with(|m| m.borrow().clone()) {
        return (s, None);
    }
    let mut unreadable = None;
    for local in [false, true] {
        match get_item(local, KEY).map(|t| json::settings_from_json(&t)) {
            Some(Ok(s)) => return (s, None),
            Some(Err(why)) => unreadable = unreadable.or(Some(why)),
            None => {}
        }
    }
    let defaults = Settings {
        ws_url: default_ws_url(),
        ..Settings::default()
    };
    (defaults, unreadable)
}

/// Whether this tab has saved settings of its own (used to sign in again
/// after a reload).
pub fn has_session_settings() -> bool {
    get_item(false, KEY).is_some_and(|t| json::settings_from_json(&t).is_ok())
}

/// Save to both storages. Fails only if the browser refuses storage
/// (private mode quotas, disabled storage); the caller shows the error.
pub fn save(settings: &Settings) -> Result<(), String> {
    let in_memory = MEMORY.with(|m| {
        let mut m = m.borrow_mut();
        m.as_mut().map(|kept| *kept = settings.clone()).is_some()
    });
    if in_memory {
        return Ok(());
    }
    let text = json::settings_to_json(settings);
    let session = set_item(false, KEY, &text);
    let local = set_item(true, KEY, &text);
    match (session, local) {
        (Err(e), Err(_)) => Err(format!("The settings could not be saved: {e}")),
        _ => Ok(()),
    }
}

/// `localStorage` (`local`) or `sessionStorage`; like `gloo-storage`, this
/// throws when the browser has none (callers that must not throw check
/// first, as `web::lists` does).
fn area(local: bool) -> web_sys::Storage {
    let window = web_sys::window().expect_throw("no window");
    if local {
        window
            .local_storage()
            .expect_throw("failed to get local_storage")
            .expect_throw("no local storage")
    } else {
        window
            .session_storage()
            .expect_throw("failed to get session_storage")
            .expect_throw("no session storage")
    }
}

/// The stored text under `key`, `None` when there is none.
pub fn get_item(local: bool, key: &str) -> Option<String> {
    area(local)
        .get_item(key)
        .expect_throw("unreachable: get_item does not throw an exception")
}

/// Store `text` under `key`; the error is the browser's (e.g.
/// `QuotaExceededError: ...`).
pub fn set_item(local: bool, key: &str, text: &str) -> Result<(), String> {
    area(local)
        .set_item(key, text)
        .map_err(|e| match e.dyn_into::<js_sys::Error>() {
            Ok(e) => String::from(e.to_string()),
            Err(other) => format!("{other:?}"),
        })
}

pub fn default_ws_url() -> String {
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

/// This browser's instance id: a UUID v4 made once from
/// `crypto.getRandomValues` and kept in `localStorage` (`softphone.instance`),
/// so it stays the same across reloads and tabs. A stored value that is not
/// such a UUID is replaced.
pub fn instance_id() -> String {
    if let Some(id) = INSTANCE.with(|i| i.borrow().clone()) {
        return id;
    }
    // not gloo's LocalStorage::raw(): it throws when storage is disabled
    let local = web_sys::window().and_then(|w| w.local_storage().ok().flatten());
    let stored = local
        .as_ref()
        .and_then(|l| l.get_item(INSTANCE_KEY).ok().flatten())
        .filter(|s| is_valid_instance_id(s));
    let id = match stored {
        Some(id) => id,
        None => {
            let id = instance_id_from_random(random_bytes());
            let kept = local
                .as_ref()
                .is_some_and(|l| l.set_item(INSTANCE_KEY, &id).is_ok());
            if !kept {
                crate::log::warn!("the instance id could not be kept: storage is not available");
            }
            crate::log::info!("new instance id {id}");
            id
        }
    };
    INSTANCE.with(|i| *i.borrow_mut() = Some(id.clone()));
    id
}

/// 16 random bytes from `crypto.getRandomValues` (every browser that runs
/// WebAssembly has it); should it fail, `Math.random`, which is enough for
/// an identifier that only needs to be unique.
fn random_bytes() -> [u8; 16] {
    let mut bytes = [0u8; 16];
    let from_crypto = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .is_some_and(|c| c.get_random_values_with_u8_array(&mut bytes).is_ok());
    if !from_crypto {
        crate::log::warn!("crypto.getRandomValues failed: the instance id uses Math.random");
        for b in bytes.iter_mut() {
            *b = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    bytes
}
