//! The driver: the one pump between the browser and the [`Phone`] (in the
//! manner of quinn's `ConnectionDriver`). It gives the phone every input
//! with the current time, carries out its outputs (the WebSocket, WebRTC,
//! tones, storage, the tab title and notifications, the host page's
//! events), keeps one timer armed for [`Phone::poll_timeout`], and hands
//! the phone's view to the UI. It decides nothing itself.
//!
//! Inputs are queued and given to the phone one at a time, so that
//! carrying out an output can never re-enter it: no `RefCell` borrow is
//! held while outputs are carried out, nor across an `await`.

use super::attention::{self, Attention};
use super::storage::{self, Settings};
use super::transport::{self, Connection, TransportEvent};
use super::{keys, lists, media, recordings};
use crate::app::alerts::ToneChanges;
use crate::app::lists::Lists;
use crate::app::phone::{Action, AppInput, AppOutput, Phone, PhoneConfig};
use crate::app::view::PhoneView;
use crate::sip::{Command, Input, Instant};
use gloo_timers::callback::Timeout;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;

/// Where the view goes after each batch of inputs (the UI's signals): the
/// phone's view, and the tabs' lists when they changed.
pub type ViewSink = Rc<dyn Fn(&PhoneView, Option<&Lists>)>;

struct Driver {
    phone: Phone,
    /// The WebSocket and its number.
    connection: Option<(u64, Connection)>,
    /// The one timer, for [`Phone::poll_timeout`].
    timer: Option<(Instant, Timeout)>,
    /// The event listeners this driver added (removed by [`shutdown`]).
    listeners: Vec<Listener>,
    /// The tab title and notification of a ringing call.
    attention: Attention,
    on_view: ViewSink,
    /// [`Phone::lists_version`] as last shown.
    lists_shown: Option<u64>,
}

/// One event listener, kept so that it can be removed again.
struct Listener {
    target: web_sys::EventTarget,
    event: &'static str,
    closure: Closure<dyn FnMut(web_sys::Event)>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self
            .target
            .remove_event_listener_with_callback(self.event, self.closure.as_ref().unchecked_ref());
    }
}

thread_local! {
    /// The page's one driver (JavaScript callbacks reach it here).
    static DRIVER: RefCell<Option<Driver>> = const { RefCell::new(None) };
    static QUEUE: RefCell<VecDeque<AppInput>> = const { RefCell::new(VecDeque::new()) };
    static BUSY: Cell<bool> = const { Cell::new(false) };
}

fn with_driver<R>(f: impl FnOnce(&mut Driver) -> R) -> Option<R> {
    DRIVER.with(|d| d.borrow_mut().as_mut().map(f))
}

/// Where the phone listens to the keyboard.
pub enum Keys {
    /// The whole page (the app).
    Page,
    /// Only inside this element (an embedded phone must not take the host
    /// page's keys).
    Within(web_sys::EventTarget),
    /// Nowhere (the library build: the host page has its own controls).
    Off,
}

/// Start the phone; its view goes to `on_view`. Listens to the browser's
/// `online`, `offline`, `beforeunload` and `pagehide` events, and to the
/// keyboard as `keys` says.
pub fn init(
    keys: Keys,
    settings_open: bool,
    on_view: impl Fn(&PhoneView, Option<&Lists>) + 'static,
) {
    let webrtc = media::webrtc_available();
    if !webrtc {
        crate::log::warn!("no RTCPeerConnection in this browser: calls are off");
    }
    let (prefs, stored_unreadable) = storage::load_checked();
    let config = PhoneConfig {
        embedded: !matches!(keys, Keys::Page),
        webrtc,
        prefs,
        stored_unreadable,
        instance_id: storage::instance_id(),
        settings_open,
        seed: random_seed(),
        wall_ms: js_sys::Date::now(),
    };
    let phone = Phone::new(config, Instant::now());
    let on_view: ViewSink = Rc::new(on_view);
    DRIVER.with(|d| {
        *d.borrow_mut() = Some(Driver {
            phone,
            connection: None,
            timer: None,
            listeners: Vec::new(),
            attention: Attention::default(),
            on_view,
            lists_shown: None,
        })
    });
    input(AppInput::PageHidden(page_hidden()));
    let Some(window) = web_sys::window() else {
        return;
    };
    let window: web_sys::EventTarget = window.into();
    listen(&window, "online", move |_| {
        input(AppInput::Network { online: true })
    });
    listen(&window, "offline", move |_| {
        input(AppInput::Network { online: false })
    });
    // (the log lines of signing out reach the console before the page goes)
    let hide = |_| {
        dispatch(Action::PageHide);
        super::logging::flush();
    };
    listen(&window, "beforeunload", hide);
    listen(&window, "pagehide", hide);
    if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
        listen(&doc.into(), "visibilitychange", move |_| {
            input(AppInput::PageHidden(page_hidden()))
        });
    }
    match keys {
        Keys::Page => listen(&window, "keydown", on_key),
        Keys::Within(el) => listen(&el, "keydown", on_key),
        Keys::Off => {}
    }
}

/// Listen to `event` on `target` until [`shutdown`].
fn listen(
    target: &web_sys::EventTarget,
    event: &'static str,
    f: impl Fn(web_sys::Event) + 'static,
) {
    let closure = Closure::<dyn FnMut(web_sys::Event)>::new(f);
    if target
        .add_event_listener_with_callback(event, closure.as_ref().unchecked_ref())
        .is_err()
    {
        crate::log::warn!("cannot listen to the {event} event");
        return;
    }
    with_driver(|d| {
        d.listeners.push(Listener {
            target: target.clone(),
            event,
            closure,
        })
    });
}

/// Stop the phone for good (an embedded phone is unmounted): hang up every
/// call and sign out (the messages leave at once: WebSocket sends are
/// synchronous), then close the WebSocket, stop the timer, every media
/// track, peer connection and sound, and remove the event listeners.
/// [`init`] may start it again afterwards.
pub fn shutdown() {
    dispatch(Action::PageHide);
    with_driver(|d| d.attention.show(None));
    // dropping the driver drops its connection (closes the WebSocket), its
    // timer (cleared) and its listeners (removed)
    let driver = DRIVER.with(|d| d.borrow_mut().take());
    QUEUE.with(|q| q.borrow_mut().clear());
    drop(driver);
    media::shutdown();
    crate::log::info!("phone stopped");
    super::logging::flush();
}

// ---------------------------------------------------------------- inputs

/// A user action (from the UI, the host page or a key).
pub fn dispatch(action: Action) {
    input(AppInput::Action(action));
}

/// Give the core any command for the current account (views such as
/// messages and contacts use it). False when no account is set up.
pub fn command(cmd: Command) -> bool {
    let has = with_driver(|d| d.phone.has_account()).unwrap_or(false);
    if has {
        dispatch(Action::Core(cmd));
    }
    has
}

/// The phone's view now (the embedding API reads it).
pub fn view<R>(f: impl FnOnce(&PhoneView) -> R) -> Option<R> {
    with_driver(|d| f(d.phone.view()))
}

/// The tabs' lists now.
pub fn lists<R>(f: impl FnOnce(&Lists) -> R) -> Option<R> {
    with_driver(|d| f(d.phone.lists()))
}

fn page_hidden() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_some_and(|d| d.hidden())
}

/// Give the phone an input (from any source: UI, transport, media, timer).
fn input(i: AppInput) {
    QUEUE.with(|q| q.borrow_mut().push_back(i));
    if BUSY.with(|b| b.replace(true)) {
        return; // the loop below, further up the stack, will get to it
    }
    pump();
    BUSY.with(|b| b.set(false));
}

/// Every queued input through the phone, each followed by its outputs;
/// then the timer and the view.
fn pump() {
    while let Some(i) = QUEUE.with(|q| q.borrow_mut().pop_front()) {
        log_input(&i);
        let outputs = with_driver(|d| {
            d.phone.handle_input(Instant::now(), i);
            std::iter::from_fn(|| d.phone.poll_output()).collect::<Vec<_>>()
        });
        for output in outputs.into_iter().flatten() {
            act(output);
        }
    }
    let Some((view, lists, on_view)) = with_driver(|d| {
        arm_timer(d);
        let version = d.phone.lists_version();
        let lists = (d.lists_shown != Some(version)).then(|| {
            d.lists_shown = Some(version);
            d.phone.lists().clone()
        });
        (d.phone.view().clone(), lists, d.on_view.clone())
    }) else {
        return;
    };
    on_view(&view, lists.as_ref());
}

fn log_input(i: &AppInput) {
    match i {
        AppInput::Received { bytes, .. } => {
            crate::log::debug!("SIP <<< received\n{}", String::from_utf8_lossy(bytes))
        }
        AppInput::Media {
            input: Input::LocalSdp { call, sdp },
            ..
        } => crate::log::debug!("{call}: local SDP\n{sdp}"),
        AppInput::Timeout => crate::log::trace!("timeout"),
        // (no `Debug` of whole inputs here: it would pull the formatting of
        // every type they carry into the wasm, for lines that are off by
        // default)
        AppInput::Action(a) => crate::log::debug!("input: {}", a.name()),
        AppInput::Media {
            input: Input::MediaFailed { call, reason },
            ..
        } => crate::log::debug!("{call}: media failed: {reason}"),
        AppInput::Media {
            input: Input::IceFailed { call },
            ..
        } => crate::log::debug!("{call}: ICE failed"),
        AppInput::Media { .. } => crate::log::debug!("input: media"),
        AppInput::Opened { conn } => crate::log::debug!("input: WebSocket {conn} open"),
        AppInput::Closed { conn, reason } => {
            crate::log::debug!("input: WebSocket {conn} closed: {reason}")
        }
        AppInput::Failed { conn, reason } => {
            crate::log::debug!("input: WebSocket {conn} failed: {reason}")
        }
        AppInput::Network { online } => crate::log::debug!("input: online {online}"),
        AppInput::RecordingSaved { id, bytes, .. } => {
            crate::log::debug!("input: recording {id} stored ({bytes} bytes)")
        }
        AppInput::RecordingFailed { id, .. } => crate::log::debug!("input: recording {id} failed"),
        AppInput::RecordingOpened { id, .. } => crate::log::debug!("input: recording {id} open"),
        AppInput::Loaded {
            account,
            history,
            messages,
            contacts,
        } => crate::log::debug!(
            "input: lists of {account}: {} calls, {} messages, {} contacts",
            history.len(),
            messages.len(),
            contacts.len()
        ),
        AppInput::PageHidden(hidden) => crate::log::debug!("input: page hidden {hidden}"),
        AppInput::MixFailed(e) => crate::log::debug!("input: mixing failed: {e}"),
        AppInput::ShareStopped { call, reason, .. } => {
            crate::log::debug!("input: {call}: screen sharing stopped {reason:?}")
        }
        AppInput::CameraFailed { call, reason, .. } => {
            crate::log::debug!("input: {call}: no camera: {reason}")
        }
        AppInput::SaveFailed(e) => crate::log::debug!("input: saving failed: {e}"),
    }
}

/// Arm the one timer for the phone's next deadline (if it moved).
fn arm_timer(d: &mut Driver) {
    let deadline = d.phone.poll_timeout();
    if d.timer.as_ref().map(|(at, _)| *at) == deadline {
        return;
    }
    d.timer = deadline.map(|at| {
        let wait = at.saturating_duration_since(Instant::now());
        // round up, so the deadline has passed when the timer fires
        let ms = u32::try_from(wait.as_millis().saturating_add(1)).unwrap_or(u32::MAX);
        let timeout = Timeout::new(ms, move || {
            // run outside the timer callback, which is dropped by re-arming
            spawn_local(async move {
                with_driver(|d| d.timer = None);
                input(AppInput::Timeout);
            });
        });
        (at, timeout)
    });
}

fn on_transport(conn: u64, ev: TransportEvent) {
    input(match ev {
        TransportEvent::Open => AppInput::Opened { conn },
        TransportEvent::Message(bytes) => AppInput::Received { conn, bytes },
        TransportEvent::Closed(reason) => AppInput::Closed { conn, reason },
        TransportEvent::Failed(reason) => AppInput::Failed { conn, reason },
    });
}

// ---------------------------------------------------------------- outputs

fn act(output: AppOutput) {
    match output {
        AppOutput::Connect { conn, url } => {
            let connection = transport::connect(url, move |ev| on_transport(conn, ev));
            with_driver(|d| d.connection = Some((conn, connection)));
        }
        AppOutput::Disconnect => {
            // dropping it closes the WebSocket
            let old = with_driver(|d| d.connection.take()).flatten();
            drop(old);
        }
        AppOutput::Send(bytes) => {
            crate::log::debug!("SIP >>> sent\n{}", String::from_utf8_lossy(&bytes));
            let sent = with_driver(|d| d.connection.as_ref().map(|(_, c)| c.send(bytes)))
                .flatten()
                .unwrap_or(false);
            if !sent {
                crate::log::warn!("not connected: a SIP message was dropped");
            }
        }
        AppOutput::Media {
            account,
            request,
            camera,
        } => {
            let report: media::Report =
                Rc::new(move |i: Input| input(AppInput::Media { account, input: i }));
            media::handle(request, report, camera.then(|| camera_failed(account)));
        }
        AppOutput::ConfigureMedia(config) => media::configure(config),
        AppOutput::CloseAllMedia => media::close_all(),
        AppOutput::PrepareMedia => media::prepare(),
        AppOutput::ReleaseMedia => media::release_prepared(),
        AppOutput::Mix(calls) => {
            if let Err(e) = media::conference(&calls) {
                input(AppInput::MixFailed(e));
            }
        }
        AppOutput::SetMuted { call, muted } => media::set_muted(call, muted),
        AppOutput::Share { account, call, on } => {
            let report: media::Report =
                Rc::new(move |i: Input| input(AppInput::Media { account, input: i }));
            let stopped: media::ShareStopped = Rc::new(move |call, reason| {
                input(AppInput::ShareStopped {
                    account,
                    call,
                    reason,
                })
            });
            media::set_sharing(call, on, report, stopped);
        }
        AppOutput::Camera { account, call, on } => {
            let report: media::Report =
                Rc::new(move |i: Input| input(AppInput::Media { account, input: i }));
            media::set_camera(call, on, report, camera_failed(account));
        }
        AppOutput::Record { call, id } => media::set_recording(call, id, Rc::new(input)),
        AppOutput::PlayRecording { id } => recordings::play(id, Rc::new(input)),
        AppOutput::DownloadRecording { id, name } => recordings::download(id, name, Rc::new(input)),
        AppOutput::DeleteRecordings(ids) => recordings::remove(ids, Rc::new(input)),
        AppOutput::ReleaseUrl(url) => recordings::release(&url),
        AppOutput::Tones(changes) => tones(changes),
        // setting the page's title takes milliseconds
        AppOutput::Attention(incoming) => after_view(move || {
            with_driver(|d| d.attention.show(incoming));
        }),
        AppOutput::AskNotificationPermission => attention::ask_permission(),
        AppOutput::Save(settings) => save(&settings),
        AppOutput::SaveDnd(on) => {
            let mut stored = storage::load();
            if stored.dnd != on {
                stored.dnd = on;
                save(&stored);
            }
        }
        AppOutput::Load { account } => input(lists::load(account)),
        AppOutput::Store {
            account,
            lists: list,
        } => lists::store(&account, list),
        AppOutput::Host(event) => super::embed::emit(event),
    }
}

fn save(settings: &Settings) {
    if let Err(msg) = storage::save(settings) {
        input(AppInput::SaveFailed(msg));
    }
}

/// Run `f` in a new task, after the screen has shown the change that
/// asked for it (the view's updates run at the end of this task), unless
/// the phone has stopped meanwhile (unmounted). For what the user does
/// not see, and takes milliseconds: a ringing call shows first.
fn after_view(f: impl FnOnce() + 'static) {
    super::next_task(move || {
        if with_driver(|_| ()).is_some() {
            f();
        }
    });
}

/// Switch the tones after the view: starting a tone opens the audio
/// device, which takes milliseconds.
fn tones(changes: ToneChanges) {
    after_view(move || {
        if let Some(on) = changes.ringtone {
            media::ringtone(on);
        }
        if let Some(on) = changes.soft_ring {
            media::ringtone_soft(on);
        }
        if let Some(on) = changes.ringback {
            media::ringback(on);
        }
    });
}

/// 64 random bits from `crypto.getRandomValues`, else `Math.random`.
fn random_seed() -> u64 {
    let mut bytes = [0u8; 8];
    let from_crypto = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .is_some_and(|c| c.get_random_values_with_u8_array(&mut bytes).is_ok());
    if from_crypto {
        u64::from_le_bytes(bytes)
    } else {
        let hi = (js_sys::Math::random() * 4294967296.0) as u64;
        let lo = (js_sys::Math::random() * 4294967296.0) as u64;
        (hi << 32) ^ lo ^ (js_sys::Date::now() as u64)
    }
}

/// A key press: the phone says whether it is one of its shortcuts.
fn on_key(e: web_sys::Event) {
    let Some((key, on_control)) = keys::phone_key(&e) else {
        return;
    };
    let action = with_driver(|d| d.phone.key_action(&key, on_control)).flatten();
    if let Some(action) = action {
        e.prevent_default();
        dispatch(action);
    }
}

/// Where the media says that a call's camera could not be opened.
fn camera_failed(account: u64) -> media::CameraFailed {
    Rc::new(move |call, reason| {
        input(AppInput::CameraFailed {
            account,
            call,
            reason,
        })
    })
}
