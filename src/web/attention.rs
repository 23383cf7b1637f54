//! The tab title and the desktop notification while a call rings here
//! (`AppOutput::Attention`), and the permission to notify
//! (`AppOutput::AskNotificationPermission`). Effects only: which call rings
//! and under what name is the phone's (`app::alerts`).

use crate::sip::CallId;
use js_sys::Reflect;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

/// What the page shows to get attention, so that it can be taken back.
#[derive(Default)]
pub struct Attention {
    /// The page title before "Incoming call – …" replaced it.
    saved_title: Option<String>,
    /// The desktop notification on screen, and the call it is about.
    notification: Option<(CallId, JsValue)>,
}

impl Attention {
    /// "Incoming call – <name>" as the tab title while a call rings here
    /// (the old title back afterwards), and a desktop notification for it
    /// when the tab is hidden.
    pub fn show(&mut self, incoming: Option<(CallId, String)>) {
        let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        match incoming {
            Some((call, name)) => {
                if self.saved_title.is_none() {
                    self.saved_title = Some(doc.title());
                }
                doc.set_title(&format!("Incoming call – {name}"));
                self.notify(call, &name);
            }
            None => {
                if let Some(old) = self.saved_title.take() {
                    doc.set_title(&old);
                }
                self.close_notification();
            }
        }
    }

    /// A desktop notification for the ringing call when the tab is hidden;
    /// clicking it brings the tab forward (and closes it).
    fn notify(&mut self, call: CallId, name: &str) {
        if self.notification.as_ref().is_some_and(|(c, _)| *c == call) {
            return;
        }
        let Some(window) = web_sys::window() else {
            return;
        };
        let hidden = window.document().is_some_and(|d| d.hidden());
        if !hidden || permission() != "granted" {
            return;
        }
        let Some(api) = notification_api() else {
            return;
        };
        let options = js_sys::Object::new();
        let _ = Reflect::set(&options, &"body".into(), &JsValue::from_str(name));
        let _ = Reflect::set(&options, &"tag".into(), &"softphone-incoming".into());
        let _ = Reflect::set(&options, &"requireInteraction".into(), &JsValue::TRUE);
        let args = js_sys::Array::of2(&JsValue::from_str("Incoming call"), &options);
        let Ok(note) = Reflect::construct(&api, &args) else {
            return;
        };
        let shown = note.clone();
        let onclick = Closure::once_into_js(move || {
            if let Some(w) = web_sys::window() {
                let _ = w.focus();
            }
            close(&shown);
        });
        let _ = Reflect::set(&note, &"onclick".into(), &onclick);
        self.close_notification();
        self.notification = Some((call, note));
    }

    pub fn close_notification(&mut self) {
        if let Some((_, note)) = self.notification.take() {
            close(&note);
        }
    }
}

fn close(note: &JsValue) {
    if let Ok(close) = Reflect::get(note, &"close".into()) {
        if let Ok(close) = close.dyn_into::<js_sys::Function>() {
            let _ = close.call0(note);
        }
    }
}

/// The browser's `Notification` constructor, if it has one.
fn notification_api() -> Option<js_sys::Function> {
    let window = web_sys::window()?;
    Reflect::get(&window, &JsValue::from_str("Notification"))
        .ok()?
        .dyn_into::<js_sys::Function>()
        .ok()
}

fn permission() -> String {
    notification_api()
        .and_then(|n| Reflect::get(&n, &JsValue::from_str("permission")).ok())
        .and_then(|p| p.as_string())
        .unwrap_or_default()
}

/// Ask for the permission to show notifications (first use only: the
/// browser remembers the answer). Called from a user action.
pub fn ask_permission() {
    let Some(api) = notification_api() else {
        return;
    };
    if permission() != "default" {
        return;
    }
    if let Ok(ask) = Reflect::get(&api, &JsValue::from_str("requestPermission")) {
        if let Ok(ask) = ask.dyn_into::<js_sys::Function>() {
            // the answer is read again when a call comes in
            let _ = ask.call0(&api);
        }
    }
}
