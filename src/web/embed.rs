//! The embedding API in the browser (docs/embedding.md): `sip-phone.js`
//! mounts the phone into a host page's element (in its Shadow DOM) and
//! drives it through the exports of `main.rs`, which call [`mount`],
//! [`command`], [`snapshot`] and [`unmount`] here. Events go back to the
//! host page as DOM `CustomEvent`s on the host element, or, when the whole
//! app runs in an iframe, as `postMessage`s to the one origin it was given
//! ([`start_frame_bridge`]).
//!
//! What the host may configure, the commands, the events and the origin
//! check are pure and tested natively in `crate::app::embed`.

use super::{driver, media, panic, storage};
use crate::app::embed::{self as api, ApiCommand, ApiEvent, EmbedConfig, Value};
use crate::app::phone::{Action, TabAction};
use crate::app::settings::Settings;
use crate::app::view::CallPhase;
use crate::sip::Command;
use js_sys::{Array, Object, Reflect};
use std::any::Any;
use std::cell::RefCell;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

type MessageListener = Closure<dyn FnMut(web_sys::MessageEvent)>;

/// Where the host page's events go.
enum Sink {
    /// `CustomEvent`s dispatched on the host element.
    Element(web_sys::EventTarget),
    /// `postMessage` to the parent window, to this origin only.
    Frame {
        parent: web_sys::Window,
        origin: String,
    },
}

thread_local! {
    static SINK: RefCell<Option<Sink>> = const { RefCell::new(None) };
    /// The mounted app (Leptos' unmount handle): dropping it removes the
    /// view and disposes its reactive owner.
    static MOUNTED: RefCell<Option<Box<dyn Any>>> = const { RefCell::new(None) };
    /// The iframe bridge's `message` listener.
    static BRIDGE: RefCell<Option<MessageListener>> = const { RefCell::new(None) };
}

/// The page was loaded by `sip-phone.js` (it sets `__sipPhoneEmbed`
/// before loading the wasm): `main` must not take over the page.
pub fn is_embed_page() -> bool {
    Reflect::get(&js_sys::global(), &JsValue::from_str("__sipPhoneEmbed"))
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

fn to_js(v: &Value) -> JsValue {
    match v {
        Value::Str(s) => JsValue::from_str(s),
        Value::Bool(b) => JsValue::from_bool(*b),
        Value::Null => JsValue::NULL,
        Value::Obj(fields) => object(fields),
    }
}

fn object(fields: &[(&'static str, Value)]) -> JsValue {
    let o = Object::new();
    for (k, v) in fields {
        let _ = Reflect::set(&o, &JsValue::from_str(k), &to_js(v));
    }
    o.into()
}

fn set(o: &Object, k: &str, v: impl Into<JsValue>) {
    let _ = Reflect::set(o, &JsValue::from_str(k), &v.into());
}

/// Send one event to the host page (nothing when not embedded).
pub fn emit(event: ApiEvent) {
    // a panic inside a host's listener path must not find SINK borrowed
    let sent = SINK.try_with(|s| {
        let Ok(sink) = s.try_borrow() else { return };
        // (the page's own phone has no host: nothing is built, it rings sooner)
        let Some(sink) = sink.as_ref() else { return };
        let detail = object(&event.detail);
        match sink {
            Sink::Element(target) => {
                let init = web_sys::CustomEventInit::new();
                init.set_bubbles(true);
                init.set_composed(true);
                init.set_detail(&detail);
                match web_sys::CustomEvent::new_with_event_init_dict(event.name, &init) {
                    Ok(ev) => {
                        let _ = target.dispatch_event(&ev);
                    }
                    Err(_) => crate::log::warn!("cannot make the {} event", event.name),
                }
            }
            Sink::Frame { parent, origin } => {
                let msg = Object::new();
                set(&msg, "source", "sip-phone");
                set(&msg, "type", "event");
                set(&msg, "event", event.name);
                set(&msg, "detail", detail.clone());
                if parent.post_message(&msg, origin).is_err() {
                    crate::log::warn!("cannot post the {} event to {origin}", event.name);
                }
            }
        }
    });
    if sent.is_err() {
        crate::log::debug!("event {} dropped: page closing", event.name);
    }
}

fn has_sink() -> bool {
    SINK.try_with(|s| s.try_borrow().map(|s| s.is_some()).unwrap_or(false))
        .unwrap_or(false)
}

/// A panic: the host page gets a fatal `error` event.
pub fn on_panic(detail: &str) {
    if has_sink() {
        emit(api::error_event(detail, true));
    }
}

fn js_error(msg: impl AsRef<str>) -> JsValue {
    js_sys::Error::new(msg.as_ref()).into()
}

/// Mount the phone into `container` (inside the host element's shadow
/// root), configured by `pairs` (name, value, name, value, …); events go
/// to `events` (the host element); `mount_ui` puts the app into the
/// container (`ui::mount_embedded`: given by `main`, so that this edge does
/// not depend on the UI). Returns the configuration warnings.
pub fn mount(
    container: web_sys::HtmlElement,
    events: web_sys::EventTarget,
    pairs: Vec<String>,
    mount_ui: fn(web_sys::HtmlElement, Option<Settings>) -> Box<dyn Any>,
) -> Result<Vec<String>, JsValue> {
    let (config, sign_in, warnings) = prepare(events, &pairs)?;
    let _ = container.set_attribute("data-theme", config.theme.as_str());
    panic::set_banner_parent(Some(container.clone().into()));
    let handle = mount_ui(container, sign_in);
    super::transport::release_early();
    super::mark("softphone:mounted");
    MOUNTED.with(|m| *m.borrow_mut() = Some(handle));
    Ok(warnings)
}

/// Start the phone without a view (the library build,
/// `SipPhone.createAgent`): the same phone, commands and events as
/// [`mount`], no keys, the host page draws its own controls.
pub fn start_agent(
    events: web_sys::EventTarget,
    pairs: Vec<String>,
) -> Result<Vec<String>, JsValue> {
    let (_, sign_in, warnings) = prepare(events, &pairs)?;
    driver::init(driver::Keys::Off, sign_in.is_none(), |_, _| {});
    if let Some(s) = sign_in {
        driver::dispatch(Action::SignIn(Box::new(s)));
    }
    super::transport::release_early();
    MOUNTED.with(|m| *m.borrow_mut() = Some(Box::new(())));
    Ok(warnings)
}

/// What [`mount`] and [`start_agent`] share: one phone per page, the
/// configuration read (and its warnings logged), the settings kept in
/// memory only, the host's events target. Returns the configuration, the
/// settings to sign in with at once (when told to and a password is
/// given), and the warnings.
fn prepare(
    events: web_sys::EventTarget,
    pairs: &[String],
) -> Result<(EmbedConfig, Option<Settings>, Vec<String>), JsValue> {
    if MOUNTED.with(|m| m.borrow().is_some()) {
        return Err(js_error(
            "a phone is already mounted on this page: unmount it first (one phone per page)",
        ));
    }
    let (config, warnings) = EmbedConfig::from_pairs(pairs.chunks(2).filter_map(|kv| match kv {
        [k, v] => Some((k.as_str(), v.as_str())),
        _ => None,
    }))
    .map_err(js_error)?;
    for w in &warnings {
        crate::log::warn!("sip-phone: {w}");
    }
    crate::log::info!("sip-phone: starting as {} via {}", config.uri, config.ws);
    let defaults = Settings {
        ws_url: storage::default_ws_url(),
        ..Settings::default()
    };
    let settings = config.settings(&defaults);
    // in memory only: nothing the host gives is written to storage
    storage::keep_in_memory(settings.clone());
    SINK.with(|s| *s.borrow_mut() = Some(Sink::Element(events)));
    let sign_in = (config.register && !settings.password.is_empty()).then_some(settings);
    Ok((config, sign_in, warnings))
}

/// The exports both builds share (the app's `main.rs` and the library's
/// `agent.rs` each expand it: an export must be in the binary's own crate):
/// `embed_command`, `embed_state`, `embed_video`, `embed_unmount`.
#[macro_export]
macro_rules! embed_exports {
    () => {
        /// One command: register, unregister, call, answer, hangup, hold,
        /// resume, mute, unmute, sendDtmf, transfer, message.
        #[wasm_bindgen::prelude::wasm_bindgen]
        pub fn embed_command(name: String, args: Vec<String>) -> Result<(), wasm_bindgen::JsValue> {
            $crate::web::embed::command(&name, args)
        }

        /// The registration and the calls, as plain data.
        #[wasm_bindgen::prelude::wasm_bindgen]
        pub fn embed_state() -> wasm_bindgen::JsValue {
            $crate::web::embed::snapshot()
        }

        /// The video box of a call (the other side's picture and our
        /// preview) for the host page to show, or null.
        #[wasm_bindgen::prelude::wasm_bindgen]
        pub fn embed_video(call: String) -> wasm_bindgen::JsValue {
            $crate::web::embed::video_box(&call)
        }

        /// Stop and remove the phone (after the current event handlers).
        #[wasm_bindgen::prelude::wasm_bindgen]
        pub async fn embed_unmount() {
            // never inside the driver's own work (a host's event listener
            // may call unmount()): after the current task
            let _ = wasm_bindgen_futures::JsFuture::from(js_sys::Promise::resolve(
                &wasm_bindgen::JsValue::NULL,
            ))
            .await;
            $crate::web::embed::unmount();
        }
    };
}

/// The video box of call `call` (the number of its events and state):
/// `div.video-box` with the other side's picture (`video.remote-video`,
/// `data-live` while it comes) and our preview (`video.local-video`), for
/// a host page to put where it likes (the library build has no view of its
/// own); null when there is no such call. It stays the call's until the
/// hang-up, then is empty.
pub fn video_box(call: &str) -> JsValue {
    call.trim()
        .parse::<u32>()
        .ok()
        .and_then(|n| media::video_box(crate::sip::CallId(n)))
        .map_or(JsValue::NULL, JsValue::from)
}

/// Stop the phone and remove it: calls hung up, signed out, WebSocket
/// closed, timers, tracks, peer connections and listeners gone.
pub fn unmount() {
    let mounted = MOUNTED.with(|m| m.borrow_mut().take());
    if mounted.is_none() {
        return;
    }
    driver::shutdown();
    // the view and its owner (effects, intervals) go
    drop(mounted);
    SINK.with(|s| *s.borrow_mut() = None);
    panic::set_banner_parent(None);
    storage::forget_memory();
    crate::log::info!("sip-phone: unmounted");
}

/// Run one API command (from `sip-phone.js` or the iframe bridge).
pub fn command(name: &str, args: Vec<String>) -> Result<(), JsValue> {
    let cmd = ApiCommand::parse(name, &args).map_err(js_error)?;
    run(cmd).map_err(js_error)
}

fn run(cmd: ApiCommand) -> Result<(), String> {
    let Some((focused, ringing, active, registered, may_record)) = driver::view(|v| {
        (
            v.focused().cloned(),
            v.ringing(),
            v.active_focus().is_some(),
            matches!(v.reg, crate::app::view::RegView::Registered { .. }),
            v.may_record,
        )
    }) else {
        return Err("the phone is not mounted".into());
    };
    match cmd {
        ApiCommand::Register {
            password,
            auth_user,
            uri,
            ws,
            display_name,
        } => {
            let mut s = storage::load();
            let replace = |field: &mut String, value: Option<String>| {
                if let Some(v) = value {
                    *field = v;
                }
            };
            replace(&mut s.password, password);
            replace(&mut s.auth_user, auth_user);
            replace(&mut s.sip_uri, uri);
            replace(&mut s.ws_url, ws);
            replace(&mut s.display_name, display_name);
            if s.password.is_empty() {
                return Err("register() needs a password or token".into());
            }
            driver::dispatch(Action::SignIn(Box::new(s)));
        }
        ApiCommand::Unregister => {
            if !driver::command(Command::Unregister) {
                return Err("not signed in".into());
            }
        }
        ApiCommand::Call { target, video } => driver::dispatch(if video {
            Action::VideoCall(target)
        } else {
            Action::Call(target)
        }),
        ApiCommand::Answer { video } => {
            if !ringing {
                return Err("no incoming call to answer".into());
            }
            driver::dispatch(if video {
                Action::AnswerVideo
            } else {
                Action::Answer
            });
        }
        ApiCommand::Hangup => {
            if focused.is_none() {
                return Err("no call to hang up".into());
            }
            driver::dispatch(Action::Hangup);
        }
        ApiCommand::Hold | ApiCommand::Resume => {
            let want = cmd == ApiCommand::Hold;
            let c = focused
                .filter(|c| c.phase == CallPhase::Active)
                .ok_or("no established call")?;
            if c.local_hold != want {
                driver::dispatch(Action::ToggleHold);
            }
        }
        ApiCommand::Mute | ApiCommand::Unmute => {
            let want = cmd == ApiCommand::Mute;
            let c = focused
                .filter(|c| c.phase != CallPhase::Incoming)
                .ok_or("no call")?;
            if c.muted != want {
                driver::dispatch(Action::ToggleMute);
            }
        }
        ApiCommand::SendDtmf { digits } => {
            if !active {
                return Err("no established call".into());
            }
            driver::dispatch(Action::SendDtmf(digits));
        }
        ApiCommand::Transfer { target } => {
            if !active {
                return Err("no established call".into());
            }
            driver::dispatch(Action::TransferBlind(target));
        }
        ApiCommand::Message { to, text } => {
            if !registered {
                return Err("not signed in".into());
            }
            driver::dispatch(Action::Tab(TabAction::SendMessage { to, text }));
        }
        // (nothing to prepare when not signed in: the phone knows)
        ApiCommand::Prepare => driver::dispatch(Action::Dialling),
        ApiCommand::Record { on: true } if !may_record => {
            return Err("recording is off (the record-calls setting is never)".into());
        }
        ApiCommand::Video { on } | ApiCommand::Share { on } | ApiCommand::Record { on } => {
            let c = focused
                .filter(|c| c.phase == CallPhase::Active)
                .ok_or("no established call")?;
            let (now, action) = match cmd {
                ApiCommand::Video { .. } => (c.camera, Action::ToggleCamera),
                ApiCommand::Share { .. } => (c.sharing, Action::ToggleShare),
                _ => (c.recording, Action::ToggleRecord),
            };
            if now != on {
                driver::dispatch(action);
            }
        }
    }
    Ok(())
}

/// `phone.state`: the registration and the calls, as plain data.
pub fn snapshot() -> JsValue {
    let o = Object::new();
    let Some(view) = driver::view(|v| v.clone()) else {
        set(&o, "registration", "unmounted");
        set(&o, "calls", Array::new());
        return o.into();
    };
    set(&o, "registration", view.reg.data_state());
    let focus = view.focus;
    let calls = Array::new();
    {
        for c in &view.lines {
            let call = Object::new();
            set(&call, "call", c.id.0.to_string());
            let phase = match c.phase {
                CallPhase::Calling => "calling",
                CallPhase::Ringing => "ringing",
                CallPhase::Incoming => "incoming",
                CallPhase::Answering => "answering",
                CallPhase::Active => "active",
            };
            set(&call, "state", phase);
            set(&call, "peer", c.peer_label.as_str());
            set(&call, "number", c.peer_number.as_str());
            set(&call, "held", c.local_hold);
            set(&call, "remoteHeld", c.remote_hold);
            set(&call, "muted", c.muted);
            set(&call, "camera", c.camera);
            set(&call, "sharing", c.sharing);
            set(&call, "recording", c.recording);
            set(&call, "focused", focus == Some(c.id));
            calls.push(&call);
        }
    }
    set(&o, "calls", calls);
    o.into()
}

// ------------------------------------------------------------ iframe bridge

/// When the app runs in an iframe opened as `/?embed=frame&parent=<origin>`,
/// talk to the parent window over `postMessage`, with that origin only:
/// commands from any other origin or window are dropped (and logged), and
/// events are posted to that origin, never to `*`. Returns whether the
/// bridge is on.
pub fn start_frame_bridge(query: &str) -> bool {
    if api::query_param(query, "embed").as_deref() != Some("frame") {
        return false;
    }
    let Some(window) = web_sys::window() else {
        return false;
    };
    let Some(origin) = api::query_param(query, "parent").and_then(|o| api::parse_origin(&o)) else {
        crate::log::warn!("embed=frame without a valid parent=<origin>: the bridge stays off");
        return false;
    };
    let parent = match window.parent() {
        Ok(Some(p)) if p != window => p,
        _ => {
            crate::log::warn!("embed=frame, but the page is not in a frame: the bridge stays off");
            return false;
        }
    };
    // the browser knows who frames us: it must be the origin we were given
    let framer = Reflect::get(&window.location(), &JsValue::from_str("ancestorOrigins"))
        .ok()
        .and_then(|list| Reflect::get(&list, &JsValue::from_f64(0.0)).ok())
        .and_then(|o| o.as_string());
    if let Some(framer) = framer.filter(|f| !api::origin_allowed(&origin, f)) {
        crate::log::warn!("framed by {framer}, not by parent={origin}: the bridge stays off");
        return false;
    }
    // what the host sends (a password, a token) stays in memory
    storage::keep_in_memory(storage::load());
    SINK.with(|s| {
        *s.borrow_mut() = Some(Sink::Frame {
            parent: parent.clone(),
            origin: origin.clone(),
        })
    });
    let expected = origin.clone();
    let handler =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
            on_frame_message(&ev, &expected, &parent)
        });
    if window
        .add_event_listener_with_callback("message", handler.as_ref().unchecked_ref())
        .is_err()
    {
        crate::log::warn!("cannot listen to messages: the bridge stays off");
        return false;
    }
    BRIDGE.with(|b| *b.borrow_mut() = Some(handler));
    crate::log::info!("iframe bridge on, talking to {origin}");
    emit(ApiEvent {
        name: "ready",
        detail: vec![],
    });
    true
}

fn on_frame_message(ev: &web_sys::MessageEvent, origin: &str, parent: &web_sys::Window) {
    // (a cross-origin parent is a WindowProxy that is no `instanceof
    // Window`: compare the objects themselves)
    let parent_value: &JsValue = parent.as_ref();
    let from_parent = ev
        .source()
        .is_some_and(|s| JsValue::from(s) == *parent_value);
    if !api::origin_allowed(origin, &ev.origin()) || !from_parent {
        crate::log::warn!(
            "iframe bridge: ignored a message from {} (only {origin} is allowed)",
            ev.origin()
        );
        return;
    }
    let data = ev.data();
    let get = |k: &str| Reflect::get(&data, &JsValue::from_str(k)).ok();
    if get("source").and_then(|s| s.as_string()).as_deref() != Some("sip-phone") {
        return; // someone else's message
    }
    let Some(cmd) = get("cmd").and_then(|c| c.as_string()) else {
        return;
    };
    let args: Vec<String> = get("args")
        .filter(Array::is_array)
        .map(|a| {
            Array::from(&a)
                .iter()
                .filter_map(|v| v.as_string())
                .collect()
        })
        .unwrap_or_default();
    let result = if cmd == "ping" || cmd == "state" {
        Ok(())
    } else {
        ApiCommand::parse(&cmd, &args).and_then(run)
    };
    let reply = Object::new();
    set(&reply, "source", "sip-phone");
    set(&reply, "type", "result");
    set(&reply, "id", get("id").unwrap_or(JsValue::NULL));
    set(&reply, "ok", result.is_ok());
    match result {
        Ok(()) if cmd == "state" => set(&reply, "value", snapshot()),
        Ok(()) => {}
        Err(e) => set(&reply, "error", e),
    }
    let _ = parent.post_message(&reply, origin);
}

/// `?call=<link>` (the protocol handler's address): call it once signed
/// in; the parameter is removed from the address so that a reload does not
/// call again.
pub fn call_on_start(query: &str) {
    let Some(target) = api::call_param(query) else {
        return;
    };
    if let Some(w) = web_sys::window() {
        let path = w.location().pathname().unwrap_or_else(|_| "/".into());
        if let Ok(h) = w.history() {
            let _ = h.replace_state_with_url(&JsValue::NULL, "", Some(&path));
        }
    }
    driver::dispatch(Action::CallWhenSignedIn(target));
}

/// Ask the browser to open `sip:` and `tel:` links with this app
/// (`/?call=%s`); the browser may ask the user first.
pub fn register_protocol_handlers() -> Result<(), String> {
    let w = web_sys::window().ok_or("no window")?;
    let origin = w.location().origin().map_err(|_| "no origin")?;
    let url = format!("{origin}/?call=%s");
    for scheme in ["sip", "tel"] {
        w.navigator()
            .register_protocol_handler(scheme, &url, "Softphone")
            .map_err(|e| {
                let why = e
                    .dyn_ref::<js_sys::Error>()
                    .map(|e| String::from(e.message()))
                    .unwrap_or_else(|| "refused".into());
                format!("The browser did not accept this app for {scheme}: links: {why}")
            })?;
    }
    Ok(())
}
