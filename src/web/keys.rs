//! The keyboard: which presses reach the phone. `h` hold/resume, `m` mute,
//! `0-9 * #` DTMF, Enter answers, Escape hangs up (the phone decides, from
//! `app::keys`); never while typing in a text field, nor with
//! Ctrl/Alt/Meta, nor a held key repeating.

use js_sys::Reflect;
use wasm_bindgen::{JsCast, JsValue};

/// The key of a `keydown` event that may be the phone's, and whether the
/// focus is on a button or link (where Enter presses it); `None`: not ours.
pub fn phone_key(e: &web_sys::Event) -> Option<(String, bool)> {
    let flag = |name: &str| {
        Reflect::get(e, &JsValue::from_str(name))
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(false)
    };
    if flag("ctrlKey") || flag("altKey") || flag("metaKey") || flag("repeat") {
        return None;
    }
    let key = Reflect::get(e, &JsValue::from_str("key"))
        .ok()
        .and_then(|k| k.as_string())
        .unwrap_or_default();
    let target = e
        .target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok());
    let tag = target
        .as_ref()
        .map(|t| t.tag_name().to_ascii_lowercase())
        .unwrap_or_default();
    let editing = matches!(tag.as_str(), "input" | "textarea" | "select")
        || target.as_ref().is_some_and(|t| t.is_content_editable());
    if editing {
        return None;
    }
    // Enter and space on a focused button press that button
    let on_control = matches!(tag.as_str(), "button" | "a" | "summary");
    Some((key, on_control))
}
