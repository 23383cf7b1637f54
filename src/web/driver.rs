//! The driver: owns the [`UserAgent`], feeds it inputs with the current
//! time, drains its outputs after every input and acts on them (SIP bytes to
//! the WebSocket, events to the UI signals, media requests to WebRTC), and
//! keeps one timer armed for [`UserAgent::poll_timeout`].
//!
//! Inputs are queued and processed one at a time, so that acting on an
//! output can never re-enter the agent: no `RefCell` borrow is held while
//! outputs are acted on, nor across an `await` (the driver never awaits).
//!
//! Every account ("Save and sign in") has a generation number, and every
//! WebSocket of it a connection number; events from an older account or an
//! abandoned connection, its timer or its media are dropped.
//!
//! Connection policy: when the WebSocket closes (or the core finds it dead
//! through a missing keep-alive pong), the call in progress stays up — its
//! media do not need the server — and the driver reconnects with
//! [`Reconnect`] (the configured servers in order, then back-off with
//! jitter), registers again, and the core refreshes the call. The browser's
//! `offline` event pauses the attempts, `online` resumes them at once; the
//! page closing (`beforeunload` or `pagehide`, the first of them) hangs up
//! and unregisters.

use super::media;
use super::storage::{self, Settings};
use super::transport::{self, Connection, TransportEvent};
use crate::app::alerts::{Alerts, ToneChanges};
use crate::app::connection::{self, AfterLoss};
use crate::app::keys::{self, KeyAction};
use crate::app::lines::{self, HoldToggle, IncomingAction, Replaced, Swap};
use crate::app::settings;
use crate::app::view::{CallPhase, CallView, RegView, MAX_LINES};
use crate::sip::reconnect::Reconnect;
use crate::sip::{
    CallId, CallState, Command, EndReason, Event, Input, Instant, Output, Party, RegistrationState,
    UserAgent,
};
use crate::ui::state::PhoneState;
use gloo_timers::callback::Timeout;
use js_sys::Reflect;
use leptos::prelude::{GetUntracked, Set, WithUntracked};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::spawn_local;

struct Driver {
    state: PhoneState,
    /// Generation of the current account.
    generation: u64,
    agent: Option<Rc<RefCell<UserAgent>>>,
    connection: Option<Connection>,
    /// Number of the current WebSocket of this account.
    conn_id: u64,
    /// The WebSocket is open.
    connected: bool,
    /// A WebSocket of this account has been open at least once: from then
    /// on a lost connection is retried for ever.
    ever_connected: bool,
    reconnect: Option<Reconnect>,
    retry_timer: Option<Timeout>,
    /// The browser's `navigator.onLine`.
    online: bool,
    aor: String,
    /// The agent's one timer.
    timer: Option<Timeout>,
    /// The phone preferences of the settings last saved (DTMF method,
    /// auto-answer, DND, devices, volume). Never logged: it holds the
    /// password too.
    prefs: Settings,
    /// The auto-answer countdown of an incoming call.
    auto_answer: Option<(CallId, Timeout)>,
    /// What the phone is doing to get attention (ringtone, title, …).
    alerts: AlertsShown,
    /// Embedded in a host page (README "Embed it"): the page's title and
    /// desktop notifications are the host's, not ours.
    embedded: bool,
    /// The event listeners this driver added (removed by [`shutdown`]).
    listeners: Vec<Listener>,
    /// The account (generation) that was signed out because the page is
    /// going away: `beforeunload` and `pagehide` sign out only once.
    signed_out: Option<u64>,
    /// The notice shown when the connection was lost: taken down when the
    /// phone is registered again, unless another notice replaced it.
    lost_notice: Option<String>,
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

/// Ringtone, ringback, tab title and notification as last set, so that
/// each is switched only when it changes.
#[derive(Default)]
struct AlertsShown {
    /// The tones as last switched (`app::alerts`).
    tones: Alerts,
    /// The page title before "Incoming call – …" replaced it.
    saved_title: Option<String>,
    /// The desktop notification on screen.
    notification: Option<wasm_bindgen::JsValue>,
    /// The incoming call the notification is about.
    notified: Option<CallId>,
}

/// Work for the agent, processed in order.
enum Job {
    Input(Input),
    /// The WebSocket `conn_id` is gone, or could not be opened.
    Lost {
        conn_id: u64,
        reason: String,
        /// It had been open (else: an attempt failed).
        was_open: bool,
    },
}

thread_local! {
    static DRIVER: RefCell<Option<Driver>> = const { RefCell::new(None) };
    static QUEUE: RefCell<VecDeque<(u64, Job)>> = const { RefCell::new(VecDeque::new()) };
    static BUSY: Cell<bool> = const { Cell::new(false) };
}

fn with_driver<R>(f: impl FnOnce(&mut Driver) -> R) -> Option<R> {
    DRIVER.with(|d| d.borrow_mut().as_mut().map(f))
}

fn state() -> Option<PhoneState> {
    with_driver(|d| d.state)
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Start the driver with the UI's state, and listen to the browser's
/// `online`, `offline`, `beforeunload` and `pagehide` events, and to the keyboard: on the
/// whole page, or only inside `keys_on` (an embedded phone must not take
/// the host page's keys).
pub fn init(state: PhoneState, keys_on: Option<web_sys::EventTarget>) {
    // `navigator.onLine` is not trusted at start: it is false on machines
    // whose only network is loopback, where a local PBX works fine. Only
    // the `offline`/`online` events count.
    let online = true;
    let embedded = keys_on.is_some();
    let prefs = storage::load();
    state.dnd.set(prefs.dnd);
    DRIVER.with(|d| {
        *d.borrow_mut() = Some(Driver {
            state,
            generation: 0,
            agent: None,
            connection: None,
            conn_id: 0,
            connected: false,
            ever_connected: false,
            reconnect: None,
            retry_timer: None,
            online,
            aor: String::new(),
            timer: None,
            prefs,
            auto_answer: None,
            alerts: AlertsShown::default(),
            embedded,
            listeners: Vec::new(),
            signed_out: None,
            lost_notice: None,
        })
    });
    let Some(window) = web_sys::window() else {
        return;
    };
    let window: web_sys::EventTarget = window.into();
    if !media::webrtc_available() {
        tracing::warn!("no RTCPeerConnection in this browser: calls are off");
        say_no_webrtc(state);
    }
    listen(&window, "online", move |_| on_network(true));
    listen(&window, "offline", move |_| on_network(false));
    listen(&window, "beforeunload", move |_| on_page_hide());
    listen(&window, "pagehide", move |_| on_page_hide());
    listen(&keys_on.unwrap_or(window), "keydown", on_key);
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
        tracing::warn!("cannot listen to the {event} event");
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
/// synchronous), then close the WebSocket, stop every timer, media track,
/// peer connection and sound, and remove the event listeners. [`init`]
/// may start it again afterwards.
pub fn shutdown() {
    on_page_hide();
    close_notification();
    set_incoming_title(None);
    // dropping the driver drops its connection (closes the WebSocket), its
    // timers (cleared) and its listeners (removed)
    let driver = DRIVER.with(|d| d.borrow_mut().take());
    QUEUE.with(|q| q.borrow_mut().clear());
    drop(driver);
    media::shutdown();
    tracing::info!("phone stopped");
}

// ---------------------------------------------------------------- commands

/// Save the settings and sign in with them: a new user agent, a new
/// WebSocket, then `Register` once it is open.
pub fn register(settings: Settings) {
    let Some(state) = state() else { return };
    state.clear_messages();
    if with_driver(|d| !d.embedded) == Some(true) {
        ask_notification_permission();
    }
    if in_call(state) {
        // during a call only the phone preferences can change
        let same = with_driver(|d| d.agent.is_some() && d.prefs.same_account(&settings));
        if same != Some(true) {
            state.show_error("Hang up before changing the account.");
            return;
        }
        if let Ok(prepared) = settings::prepare(&settings, &storage::instance_id()) {
            if let Err(msg) = storage::save(&settings) {
                state.show_error(msg);
            }
            apply_prefs(&prepared, &settings);
            state.settings_open.set(false);
            state.show_notice("Settings saved.");
        }
        return;
    }
    let prepared = match settings::prepare(&settings, &storage::instance_id()) {
        Ok(p) => p,
        Err(msg) => {
            state.reg.set(RegView::Failed(msg.clone()));
            state.show_error(msg);
            return;
        }
    };
    if let Err(msg) = storage::save(&settings) {
        state.show_error(msg);
    }
    tracing::info!("signing in: {prepared:?}");

    // the previous account: sign out (best effort), close its connection
    let old = with_driver(|d| {
        let was_registered = d.connected
            && d.state
                .reg
                .with_untracked(|r| r.data_state() == "registered");
        (d.generation, was_registered)
    });
    if let Some((old_gen, true)) = old {
        feed(old_gen, Input::Command(Command::Unregister));
    }
    media::close_all();
    apply_prefs(&prepared, &settings);

    let aor = prepared.config.aor.clone();
    let agent = match UserAgent::new(prepared.config, random_seed()) {
        Ok(a) => a,
        Err(e) => {
            let msg = format!("These settings cannot be used: {e}");
            with_driver(|d| {
                d.generation += 1;
                d.agent = None;
                d.connection = None;
                d.connected = false;
                d.timer = None;
                d.retry_timer = None;
            });
            state.reg.set(RegView::Failed(msg.clone()));
            state.show_error(msg);
            return;
        }
    };
    let reconnect = Reconnect::new(prepared.servers, random_seed());
    let generation = with_driver(|d| {
        d.generation += 1;
        d.agent = Some(Rc::new(RefCell::new(agent)));
        d.connection = None; // closes the old WebSocket
        d.connected = false;
        d.ever_connected = false;
        d.reconnect = Some(reconnect);
        d.retry_timer = None;
        d.timer = None;
        d.auto_answer = None;
        d.aor = aor;
        d.generation
    });
    let Some(generation) = generation else { return };
    state.clear_lines();
    refresh_alerts(state);
    if settings.dnd {
        feed(generation, Input::Command(Command::SetDnd { on: true }));
    }
    if !media::webrtc_available() {
        feed(
            generation,
            Input::Command(Command::SetMediaAvailable { available: false }),
        );
        say_no_webrtc(state);
    }
    open_connection(generation);
}

/// Without WebRTC the phone says so at start (and again after signing in,
/// which clears the messages): it can sign in for messages and presence,
/// and declines incoming calls (488) without ringing.
fn say_no_webrtc(state: PhoneState) {
    state.show_error(
        "This browser cannot make or take calls: it has no WebRTC (RTCPeerConnection). \
         You can still sign in for messages and presence; incoming calls are declined.",
    );
}

/// Media settings to WebRTC, the phone preferences to the driver.
fn apply_prefs(prepared: &settings::Prepared, s: &Settings) {
    let device = |id: &str| (!id.trim().is_empty()).then(|| id.trim().to_string());
    media::configure(media::MediaConfig {
        ice_servers: prepared.ice_servers.clone(),
        relay_only: prepared.relay_only,
        gather_timeout_ms: prepared.ice_gather_timeout_ms,
        mic_device: device(&s.mic_device),
        speaker_device: device(&s.speaker_device),
        echo_cancellation: s.echo_cancellation,
        noise_suppression: s.noise_suppression,
        auto_gain: s.auto_gain,
        ring_volume: s.ring_gain(),
    });
    let dnd_changed = with_driver(|d| {
        let changed = d.prefs.dnd != s.dnd;
        d.prefs = s.clone();
        changed
    });
    if let Some(state) = state() {
        state.dnd.set(s.dnd);
    }
    if dnd_changed == Some(true) {
        command(Command::SetDnd { on: s.dnd });
    }
}

fn in_call(state: PhoneState) -> bool {
    state.lines.with_untracked(|l| !l.is_empty())
}

/// Open a WebSocket to the current server of the list.
fn open_connection(generation: u64) {
    let target = with_driver(|d| {
        d.retry_timer = None;
        if d.generation != generation || d.agent.is_none() || d.connection.is_some() {
            return None;
        }
        let url = d.reconnect.as_ref()?.current().to_string();
        d.conn_id += 1;
        Some((url, d.conn_id))
    })
    .flatten();
    let Some((url, conn_id)) = target else { return };
    if let Some(state) = state() {
        let reconnecting = state
            .reg
            .with_untracked(|r| matches!(r, RegView::Reconnecting { .. }));
        if !reconnecting {
            state.reg.set(RegView::Connecting);
        }
    }
    let connection = transport::connect(url, move |ev| on_transport(generation, conn_id, ev));
    with_driver(|d| {
        if d.generation == generation && d.conn_id == conn_id {
            d.connection = Some(connection);
        }
    });
}

/// Call a number or a `sip:` URI.
pub fn call(target: String) {
    let Some(state) = state() else { return };
    let target = target.trim().to_string();
    if target.is_empty() {
        state.show_error("Enter a number or a sip: address to call.");
        return;
    }
    let ready = with_driver(|d| (d.generation, d.agent.is_some() && d.connected));
    let Some((generation, ready)) = ready else {
        return;
    };
    if state.lines.with_untracked(|l| l.len()) >= MAX_LINES {
        state.show_error("Two calls are up already: hang up one of them first.");
        return;
    }
    if !ready {
        let reconnecting = state
            .reg
            .with_untracked(|r| matches!(r, RegView::Reconnecting { .. } | RegView::Offline));
        state.show_error(if reconnecting {
            "Not connected to the server right now: wait until the phone is online again."
        } else {
            "You are not connected: fill in the account settings and press \"Save and sign in\"."
        });
        return;
    }
    state.clear_messages();
    // the call we are in waits on hold meanwhile
    hold_live_calls(generation, state, None);
    tracing::info!("calling {target}");
    feed(generation, Input::Command(Command::Call { target }));
}

/// Put every live call (established, not on hold, not mixed into a
/// conference) except `keep` on hold.
fn hold_live_calls(generation: u64, state: PhoneState, keep: Option<CallId>) {
    let live = state
        .lines
        .with_untracked(|l| lines::to_hold(l, keep.as_slice()));
    if !live.is_empty() {
        end_conference(state);
    }
    for call in live {
        tracing::info!("{call}: holding it for the other line");
        feed(generation, Input::Command(Command::Hold { call }));
    }
}

fn end_conference(state: PhoneState) {
    if state.conference.with_untracked(|c| !c.is_empty()) {
        let _ = media::conference(&[]); // ending one cannot fail
        state.conference.set(Vec::new());
    }
}

fn generation() -> Option<u64> {
    with_driver(|d| d.agent.is_some().then_some(d.generation)).flatten()
}

/// Give the core any command for the current account (views such as
/// messages and contacts use it). False when no account is set up.
pub fn command(cmd: Command) -> bool {
    let generation = with_driver(|d| d.agent.is_some().then_some(d.generation)).flatten();
    match generation {
        Some(generation) => {
            feed(generation, Input::Command(cmd));
            true
        }
        None => false,
    }
}

/// Answer the incoming call: the one in focus, else the oldest ringing.
pub fn answer() {
    let Some(state) = state() else { return };
    let ringing = state.lines.with_untracked(|l| {
        state
            .call
            .with_untracked(|f| lines::to_answer(l, f.as_ref()))
    });
    if let Some(call) = ringing {
        answer_line(call);
    }
}

/// Answer one incoming line: the live call (if any) goes on hold first,
/// and the answered line takes the focus.
pub fn answer_line(call: CallId) {
    answer_replacing(call, None);
}

/// Answer `call`; `replaced` (ending by itself) is not put on hold.
fn answer_replacing(call: CallId, replaced: Option<CallId>) {
    let Some(state) = state() else { return };
    let Some(generation) = generation() else {
        return;
    };
    if state
        .line(call)
        .is_none_or(|c| c.phase != CallPhase::Incoming)
    {
        return;
    }
    with_driver(|d| d.auto_answer = None);
    state.clear_messages();
    let keep: Vec<CallId> = std::iter::once(call).chain(replaced).collect();
    let live = state.lines.with_untracked(|l| lines::to_hold(l, &keep));
    if !live.is_empty() {
        end_conference(state);
    }
    for other in live {
        tracing::info!("{other}: holding it to answer {call}");
        feed(generation, Input::Command(Command::Hold { call: other }));
    }
    state.set_focus(call);
    feed(generation, Input::Command(Command::Answer { call }));
    refresh_alerts(state);
}

/// Hang up, cancel or decline the call on screen.
pub fn hangup() {
    if let Some(call) = state().and_then(|s| s.focused()) {
        hangup_line(call);
    }
}

/// Hang up, cancel or decline one line.
pub fn hangup_line(call: CallId) {
    if let Some(generation) = generation() {
        feed(generation, Input::Command(Command::Hangup { call }));
    }
}

/// Focus another line: the call in focus goes on hold, the other one is
/// taken off hold (an incoming one is answered).
pub fn swap_to(call: CallId) {
    let Some(state) = state() else { return };
    let Some(generation) = generation() else {
        return;
    };
    let Some(target) = state.line(call) else {
        return;
    };
    let resume = match lines::swap(&target) {
        Swap::Answer => {
            answer_line(call);
            return;
        }
        Swap::Focus { resume } => resume,
    };
    hold_live_calls(generation, state, Some(call));
    if resume {
        feed(generation, Input::Command(Command::Resume { call }));
    }
    state.set_focus(call);
    refresh_alerts(state);
}

/// Hold or resume the call in focus.
pub fn toggle_hold() {
    let Some(state) = state() else { return };
    let Some(generation) = generation() else {
        return;
    };
    let Some(c) = state.call.get_untracked() else {
        return;
    };
    let in_conference = state.conference.with_untracked(|k| k.contains(&c.id));
    match lines::hold_toggle(&c, in_conference) {
        None => {}
        Some(HoldToggle::Resume) => {
            // only one live call at a time (outside a conference)
            hold_live_calls(generation, state, Some(c.id));
            feed(generation, Input::Command(Command::Resume { call: c.id }));
        }
        Some(HoldToggle::Hold {
            end_conference: end,
        }) => {
            if end {
                end_conference(state);
            }
            feed(generation, Input::Command(Command::Hold { call: c.id }));
        }
    }
}

/// Mute or unmute the microphone in the call in focus.
pub fn toggle_mute() {
    let Some(state) = state() else { return };
    let Some(c) = state.call.get_untracked() else {
        return;
    };
    if c.phase == CallPhase::Incoming {
        return;
    }
    let muted = !c.muted;
    media::set_muted(c.id, muted);
    state.update_line(c.id, |l| l.muted = muted);
}

/// Send DTMF digits in the call in focus, by the method of the settings.
pub fn send_dtmf(digits: &str) {
    let Some(state) = state() else { return };
    let Some(generation) = generation() else {
        return;
    };
    let digits = lines::dtmf_digits(digits);
    let Some(call) = state.active_focus() else {
        return;
    };
    if digits.is_empty() {
        return;
    }
    let method =
        with_driver(|d| d.prefs.dtmf_method.method()).unwrap_or(crate::sip::DtmfMethod::Rfc4733);
    feed(
        generation,
        Input::Command(Command::SendDtmf {
            call,
            digits,
            method,
        }),
    );
}

/// Blind transfer of the call in focus to `target`.
pub fn transfer_blind(target: String) {
    let Some(state) = state() else { return };
    let target = target.trim().to_string();
    if target.is_empty() {
        state.show_error("Enter the number or address to transfer the call to.");
        return;
    }
    let Some(call) = state.active_focus() else {
        return;
    };
    state.update_line(call, |c| {
        c.transfer_status = Some(format!("Transferring to {target}…"))
    });
    command(Command::Transfer { call, target });
}

/// Attended transfer: the peer of the call in focus is connected to the
/// peer of the other line.
pub fn transfer_attended() {
    let Some(state) = state() else { return };
    let Some(call) = state.active_focus() else {
        return;
    };
    let Some(consult) = other_active_line(state, call) else {
        state.show_error("An attended transfer needs a second call: add a call first.");
        return;
    };
    state.update_line(call, |c| c.transfer_status = Some("Transferring…".into()));
    command(Command::AttendedTransfer { call, consult });
}

/// Merge the two established lines into a local conference.
pub fn conference() {
    let Some(state) = state() else { return };
    let Some(generation) = generation() else {
        return;
    };
    let Some(a) = state.active_focus() else {
        return;
    };
    let Some(b) = other_active_line(state, a) else {
        state.show_error("A conference needs two connected calls.");
        return;
    };
    for id in [a, b] {
        if state.line(id).is_some_and(|c| c.local_hold) {
            feed(generation, Input::Command(Command::Resume { call: id }));
        }
    }
    match media::conference(&[a, b]) {
        Ok(()) => {
            state.conference.set(vec![a, b]);
            state.show_notice("Conference: everyone hears everyone.");
        }
        Err(e) => state.show_error(format!("The calls could not be merged: {e}")),
    }
}

/// Do not disturb on or off (remembered with the settings).
pub fn set_dnd(on: bool) {
    let Some(state) = state() else { return };
    state.dnd.set(on);
    with_driver(|d| d.prefs.dnd = on);
    let mut stored = storage::load();
    if stored.dnd != on {
        stored.dnd = on;
        if let Err(msg) = storage::save(&stored) {
            state.show_error(msg);
        }
    }
    command(Command::SetDnd { on });
}

/// Another established line than `call`.
fn other_active_line(state: PhoneState, call: CallId) -> Option<CallId> {
    state.lines.with_untracked(|l| lines::other_active(l, call))
}

/// The page is going away: hang up and unregister while the socket is
/// still there (sends are synchronous). Called on `beforeunload` and again
/// on `pagehide`: Firefox closes the WebSocket between the two (on a reload
/// or a navigation), Chromium after both, and a tab closed without
/// `beforeunload` has only `pagehide`; whichever comes first signs out, the
/// later one finds the account already signed out and does nothing.
fn on_page_hide() {
    let generation = with_driver(|d| {
        let generation = d.agent.is_some().then_some(d.generation)?;
        if d.signed_out == Some(generation) {
            return None;
        }
        d.signed_out = Some(generation);
        Some(generation)
    })
    .flatten();
    if let Some(generation) = generation {
        tracing::info!("page closing: hanging up and signing out");
        feed(generation, Input::Command(Command::Shutdown));
    }
}

/// The browser's `online`/`offline` events.
fn on_network(online: bool) {
    tracing::info!("browser says {}", if online { "online" } else { "offline" });
    let found = with_driver(|d| {
        d.online = online;
        (d.generation, d.agent.is_some(), d.connected)
    });
    let Some((generation, has_agent, connected)) = found else {
        return;
    };
    if !has_agent || connected {
        return; // nothing to do, or the socket is still fine
    }
    if online {
        // try at once, from the first server
        with_driver(|d| {
            d.retry_timer = None;
            if let Some(r) = d.reconnect.as_mut() {
                r.reset();
            }
        });
        open_connection(generation);
    } else if let Some(state) = state() {
        // the scheduled attempt stays (see on_lost)
        state.reg.set(RegView::Offline);
    }
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

// ---------------------------------------------------------------- inputs

fn on_transport(generation: u64, conn_id: u64, ev: TransportEvent) {
    let current = with_driver(|d| d.generation == generation && d.conn_id == conn_id);
    if current != Some(true) {
        return; // an abandoned connection
    }
    match ev {
        TransportEvent::Open => {
            with_driver(|d| {
                d.connected = true;
                d.ever_connected = true;
                if let Some(r) = d.reconnect.as_mut() {
                    r.on_connected();
                }
            });
            feed(generation, Input::Connected);
            feed(generation, Input::Command(Command::Register));
        }
        TransportEvent::Message(bytes) => {
            tracing::debug!("SIP <<< received\n{}", String::from_utf8_lossy(&bytes));
            feed(generation, Input::Received(bytes));
        }
        TransportEvent::Closed(reason) => enqueue(
            generation,
            Job::Lost {
                conn_id,
                reason,
                was_open: true,
            },
        ),
        TransportEvent::Failed(message) => enqueue(
            generation,
            Job::Lost {
                conn_id,
                reason: message,
                was_open: false,
            },
        ),
    }
}

/// Give the agent an input (from any source: UI, transport, media, timer).
pub fn feed(generation: u64, input: Input) {
    enqueue(generation, Job::Input(input));
}

fn enqueue(generation: u64, job: Job) {
    QUEUE.with(|q| q.borrow_mut().push_back((generation, job)));
    if BUSY.with(|b| b.replace(true)) {
        return; // the loop below, further up the stack, will get to it
    }
    while let Some((generation, job)) = QUEUE.with(|q| q.borrow_mut().pop_front()) {
        run_job(generation, job);
    }
    BUSY.with(|b| b.set(false));
}

fn run_job(generation: u64, job: Job) {
    let found = with_driver(|d| {
        if d.generation == generation {
            d.agent.clone()
        } else {
            None
        }
    });
    let Some(agent) = found.flatten() else {
        return; // an older account, or no agent
    };
    match job {
        Job::Input(input) => step(generation, &agent, input),
        Job::Lost {
            conn_id,
            reason,
            was_open,
        } => on_lost(generation, &agent, conn_id, reason, was_open),
    }
}

/// The connection `conn_id` is gone: tell the agent, keep the call, and
/// plan the next attempt (or give up if no server ever answered).
fn on_lost(
    generation: u64,
    agent: &Rc<RefCell<UserAgent>>,
    conn_id: u64,
    reason: String,
    was_open: bool,
) {
    let plan = with_driver(|d| {
        if d.conn_id != conn_id {
            return None; // already replaced
        }
        d.connection = None;
        d.connected = false;
        let (ever, online) = (d.ever_connected, d.online);
        Some(
            d.reconnect
                .as_mut()
                .map(|r| connection::after_loss(r, was_open, ever, online)),
        )
    })
    .flatten();
    // None: already replaced; Some(None): no account to reconnect
    let Some(plan) = plan else {
        return;
    };
    tracing::warn!("connection lost: {reason}");
    if was_open {
        step(
            generation,
            agent,
            Input::Disconnected {
                reason: reason.clone(),
            },
        );
    }
    let Some(state) = state() else { return };
    if in_call(state) {
        state.update_all(|c| c.link_down = true);
    }
    let (attempt, notice, offline) = match plan {
        None => return,
        Some(AfterLoss::GiveUp) => {
            // no server of the list ever answered: the settings are wrong,
            // or the server is down; say so and wait for the user
            state.reg.set(RegView::Failed(reason.clone()));
            state.show_error(reason);
            return;
        }
        Some(AfterLoss::Retry {
            attempt,
            notice,
            offline,
        }) => (attempt, notice, offline),
    };
    let delay_ms = u32::try_from(attempt.delay.as_millis()).unwrap_or(u32::MAX);
    tracing::info!(
        "reconnecting to {} in {delay_ms} ms (attempt {})",
        attempt.server,
        attempt.number
    );
    if notice {
        let notice = format!("Lost the connection to the server ({reason}). Reconnecting…");
        with_driver(|d| d.lost_notice = Some(notice.clone()));
        state.show_notice(notice);
    }
    // offline: attempts go on (a server on this machine or the LAN may
    // still answer), and the `online` event tries again at once
    state.reg.set(if offline {
        RegView::Offline
    } else {
        RegView::Reconnecting {
            server: attempt.server.clone(),
            attempt: attempt.number,
            at_ms: now_ms() + f64::from(delay_ms),
        }
    });
    let timer = Timeout::new(delay_ms, move || {
        spawn_local(async move { open_connection(generation) });
    });
    with_driver(|d| {
        if d.generation == generation {
            d.retry_timer = Some(timer);
        }
    });
}

/// One input through the agent, then its outputs.
fn step(generation: u64, agent: &Rc<RefCell<UserAgent>>, input: Input) {
    log_input(&input);

    // the agent is borrowed only here: outputs are collected, then acted on
    let (outputs, deadline) = {
        let mut ua = agent.borrow_mut();
        let now = Instant::now();
        ua.handle_input(now, input);
        let mut outputs = Vec::new();
        while let Some(o) = ua.poll_output() {
            outputs.push(o);
        }
        (outputs, ua.poll_timeout())
    };
    arm_timer(generation, deadline);
    for output in outputs {
        act(generation, output);
    }
}

fn log_input(input: &Input) {
    match input {
        Input::Received(_) => {} // logged as text on arrival
        Input::LocalSdp { call, sdp } => tracing::debug!("{call}: local SDP\n{sdp}"),
        Input::Timeout => tracing::trace!("timeout"),
        other => tracing::debug!("input {other:?}"),
    }
}

/// Arm the one timer for the agent's next deadline (replacing the old one).
fn arm_timer(generation: u64, deadline: Option<Instant>) {
    let timer = deadline.map(|at| {
        let wait = at.saturating_duration_since(Instant::now());
        // round up, so the deadline has passed when the timer fires
        let ms = u32::try_from(wait.as_millis().saturating_add(1)).unwrap_or(u32::MAX);
        Timeout::new(ms, move || {
            // run outside the timer callback, which is dropped by re-arming
            spawn_local(async move { feed(generation, Input::Timeout) });
        })
    });
    with_driver(|d| {
        if d.generation == generation {
            d.timer = timer;
        }
    });
}

fn report(generation: u64) -> media::Report {
    Rc::new(move |input: Input| feed(generation, input))
}

// ---------------------------------------------------------------- outputs

fn act(generation: u64, output: Output) {
    match output {
        Output::Send(bytes) => {
            tracing::debug!("SIP >>> sent\n{}", String::from_utf8_lossy(&bytes));
            let sent = with_driver(|d| d.connection.as_ref().map(|c| c.send(bytes)))
                .flatten()
                .unwrap_or(false);
            if !sent {
                tracing::warn!("not connected: a SIP message was dropped");
            }
        }
        Output::Media(request) => media::handle(request, report(generation)),
        Output::Event(event) => on_event(generation, event),
        Output::Reconnect { reason } => {
            // the socket looks open but is dead: drop it and start over
            if let Some(conn_id) =
                with_driver(|d| d.connection.is_some().then_some(d.conn_id)).flatten()
            {
                enqueue(
                    generation,
                    Job::Lost {
                        conn_id,
                        reason,
                        was_open: true,
                    },
                );
            }
        }
    }
}

fn on_event(generation: u64, event: Event) {
    let Some(state) = state() else { return };
    super::extras::on_event(&event);
    super::embed::on_core_event(&event);
    tracing::debug!("event {event:?}");
    match event {
        Event::Registration(reg) => {
            let aor = with_driver(|d| d.aor.clone()).unwrap_or_default();
            let was_registered = state
                .reg
                .with_untracked(|r| matches!(r, RegView::Registered { .. }));
            let view = match reg {
                RegistrationState::Unregistered => RegView::Unregistered,
                RegistrationState::Registering => {
                    if was_registered {
                        return; // a refresh: still online meanwhile
                    }
                    RegView::Registering
                }
                RegistrationState::Registered { .. } => RegView::Registered { aor },
                RegistrationState::Unregistering => RegView::Unregistering,
                RegistrationState::Failed { reason } => RegView::Failed(reason),
            };
            match &view {
                RegView::Registered { .. } if !was_registered => {
                    state.error.set(None);
                    if !media::webrtc_available() {
                        // signed in, still unable to call: keep saying so
                        say_no_webrtc(state);
                    }
                    state.settings_open.set(false);
                    // back after a lost connection: the call is reachable again
                    let lost = with_driver(|d| d.lost_notice.take()).flatten();
                    if lost.is_some() && state.notice.with_untracked(|n| *n == lost) {
                        state.notice.set(None);
                    }
                    if in_call(state) {
                        state.update_all(|c| c.link_down = false);
                    }
                }
                RegView::Failed(reason) => {
                    state.show_error(reason.clone());
                    state.settings_open.set(true);
                }
                _ => {}
            }
            state.reg.set(view);
        }
        Event::IncomingCall {
            call,
            from,
            auto_answer_after,
            replaces,
        } => on_incoming(generation, state, call, from, auto_answer_after, replaces),
        Event::CallState { call, state: cs } => on_call_state(call, cs, state),
        Event::RemoteHold { call, on_hold } => {
            tracing::info!(
                "{call}: the other party {}",
                if on_hold {
                    "put the call on hold"
                } else {
                    "resumed the call"
                }
            );
            state.update_line(call, |c| c.remote_hold = on_hold);
        }
        Event::LocalHold { call, on_hold } => {
            tracing::info!("{call}: {}", if on_hold { "on hold" } else { "resumed" });
            state.update_line(call, |c| c.local_hold = on_hold);
            if on_hold && state.conference.with_untracked(|k| k.contains(&call)) {
                end_conference(state);
            }
        }
        Event::DtmfReceived { call, digit } => {
            // only DTMF characters are shown (the text comes from the network)
            if digit.is_ascii_digit() || matches!(digit, '*' | '#' | 'A'..='D') {
                state.update_line(call, |c| {
                    c.dtmf_received.push(digit);
                    // keep the last 32
                    let n = c.dtmf_received.chars().count();
                    if n > 32 {
                        c.dtmf_received = c.dtmf_received.chars().skip(n - 32).collect();
                    }
                });
            }
        }
        Event::EarlyMedia { call } => {
            state.update_line(call, |c| c.early_media = true);
            refresh_alerts(state);
        }
        Event::TransferProgress {
            call,
            code,
            reason,
            done,
        } => {
            let text = transfer_text(code, &reason, done);
            state.update_line(call, |c| c.transfer_status = Some(text.clone()));
            if done && (200..300).contains(&code) {
                state.show_notice("The call was transferred.");
            } else if done {
                state.show_error(text);
            }
        }
        Event::Transferred {
            call,
            target,
            new_call,
        } => {
            tracing::info!("{call}: transferred by the other party to {target} ({new_call})");
            let label = crate::app::view::short_uri(&target);
            state.show_notice(format!("The other party transferred you to {label}."));
            // the new call shows up with its Calling state and takes the focus
        }
        Event::MessageReceived { .. }
        | Event::MessageStatus { .. }
        | Event::Presence { .. }
        | Event::Voicemail { .. }
        | Event::SubscriptionFailed { .. } => {
            // shown by the views (extras::on_event)
        }
        Event::Warning(text) => {
            tracing::warn!("{text}");
            state.show_notice(text);
        }
    }
}

fn on_call_state(call: CallId, cs: CallState, state: PhoneState) {
    let known = state.line(call).is_some();
    match cs {
        CallState::Calling { to } => {
            // a call we just started (or one the core makes for a transfer)
            if !known {
                state.notice.set(None);
            }
            state.add_line(CallView::new(call, CallPhase::Calling, &to), true);
        }
        _ if !known => tracing::debug!("{call}: not on screen: {cs:?}"),
        CallState::Ringing => set_phase(state, call, CallPhase::Ringing),
        CallState::Answering => set_phase(state, call, CallPhase::Answering),
        CallState::Active { peer } => {
            state.update_line(call, |c| {
                c.phase = CallPhase::Active;
                // keep a display name we already have if the answer has none
                let named = peer
                    .display_name
                    .as_deref()
                    .is_some_and(|n| !n.trim().is_empty());
                if named || c.peer_label.is_empty() {
                    c.set_peer(&peer);
                }
                if c.active_since.is_none() {
                    c.active_since = Some(js_sys::Date::now());
                }
            });
        }
        CallState::Ended(reason) => {
            tracing::info!("{call}: ended: {reason:?}");
            let was_focused = state.focused() == Some(call);
            let label = state.line(call).map(|c| c.peer_label).unwrap_or_default();
            with_driver(|d| {
                if d.auto_answer.as_ref().is_some_and(|(c, _)| *c == call) {
                    d.auto_answer = None;
                }
            });
            if state.conference.with_untracked(|k| k.contains(&call)) {
                end_conference(state);
            }
            state.remove_line(call);
            let text = reason.message();
            let text = if was_focused || label.is_empty() || !in_call(state) {
                text
            } else {
                format!("{label}: {text}")
            };
            match reason {
                EndReason::LocalHangup | EndReason::RemoteHangup | EndReason::CallerCancelled => {
                    state.show_notice(text)
                }
                _ => state.show_error(text),
            }
        }
    }
    refresh_alerts(state);
}

/// A new incoming call: on screen (focused if nothing else is up), ringing,
/// and answered by itself when it replaces one of ours or auto-answer says so.
fn on_incoming(
    generation: u64,
    state: PhoneState,
    call: CallId,
    from: Party,
    auto_answer_after: Option<u32>,
    replaces: Option<CallId>,
) {
    let lines = state.lines.with_untracked(|l| l.len());
    let replaced = replaces.map(|old| Replaced {
        call: old,
        on_line: state.line(old).is_some(),
    });
    let auto = with_driver(|d| d.prefs.auto_answer).unwrap_or(false);
    let action = lines::on_incoming(lines, replaced, auto, auto_answer_after);
    if action == IncomingAction::Decline {
        tracing::info!("{call}: busy, rejecting the call from {}", from.uri);
        feed(generation, Input::Command(Command::Hangup { call }));
        return;
    }
    tracing::info!("{call}: incoming call from {}", from.uri);
    let first = lines == 0;
    if first {
        state.notice.set(None);
    }
    state.add_line(CallView::new(call, CallPhase::Incoming, &from), first);
    if let IncomingAction::AnswerReplacing(old) = action {
        tracing::info!("{call}: replaces {old}: answering at once");
        answer_replacing(call, Some(old));
        return;
    }
    if let IncomingAction::AutoAnswer { after_secs: secs } = action {
        tracing::info!("{call}: auto-answer in {secs} s");
        if secs == 0 {
            answer_line(call);
            return;
        }
        let timer = Timeout::new(secs * 1000, move || {
            spawn_local(async move {
                let due = with_driver(|d| {
                    let due = d.auto_answer.as_ref().is_some_and(|(c, _)| *c == call);
                    if due {
                        d.auto_answer = None;
                    }
                    due
                });
                if due == Some(true) {
                    answer_line(call);
                }
            })
        });
        with_driver(|d| d.auto_answer = Some((call, timer)));
    }
    refresh_alerts(state);
}

/// "180 Ringing" while the transfer goes on; a sentence at the end.
fn transfer_text(code: u16, reason: &str, done: bool) -> String {
    let reason: String = reason
        .chars()
        .filter(|c| !c.is_control())
        .take(80)
        .collect();
    match (done, code) {
        (true, 200..=299) => format!("Transferred ({code} {reason})"),
        (true, _) => format!("The transfer failed: {code} {reason}"),
        (false, _) => format!("Transfer: {code} {reason}"),
    }
}

// ---------------------------------------------------------------- alerts

/// Ringtone, ringback, tab title and notification after any change of the
/// lines.
fn refresh_alerts(state: PhoneState) {
    let now = state.lines.with_untracked(|l| {
        state
            .call
            .with_untracked(|focused| Alerts::of(l, focused.as_ref()))
    });
    let incoming = now.incoming.clone();
    let changes = with_driver(|d| {
        let changes = now.tone_changes(&d.alerts.tones);
        d.alerts.tones = now;
        changes
    });
    if let Some(ToneChanges {
        ringtone: tone,
        soft_ring: soft,
        ringback: back,
    }) = changes.filter(ToneChanges::any)
    {
        // after the screen has shown the change (a new task): starting a
        // tone opens the audio device, which takes milliseconds
        spawn_local(async move {
            gloo_timers::future::TimeoutFuture::new(0).await;
            if with_driver(|_| ()).is_none() {
                return; // stopped meanwhile (unmounted)
            }
            if let Some(on) = tone {
                media::ringtone(on);
            }
            if let Some(on) = soft {
                media::ringtone_soft(on);
            }
            if let Some(on) = back {
                media::ringback(on);
            }
        });
    }
    if with_driver(|d| d.embedded).unwrap_or(true) {
        // the host page's title and notifications are its own: it has the
        // `incomingcall` event
        return;
    }
    set_incoming_title(incoming.as_ref().map(|(_, name)| name.as_str()));
    match incoming {
        Some((call, name)) => notify_incoming(call, &name),
        None => close_notification(),
    }
}

/// "Incoming call – <name>" as the tab title while a call rings here;
/// the old title back afterwards.
fn set_incoming_title(name: Option<&str>) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    match name {
        Some(name) => {
            with_driver(|d| {
                if d.alerts.saved_title.is_none() {
                    d.alerts.saved_title = Some(doc.title());
                }
            });
            doc.set_title(&format!("Incoming call – {name}"));
        }
        None => {
            if let Some(Some(old)) = with_driver(|d| d.alerts.saved_title.take()) {
                doc.set_title(&old);
            }
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

fn notification_permission() -> String {
    notification_api()
        .and_then(|n| Reflect::get(&n, &JsValue::from_str("permission")).ok())
        .and_then(|p| p.as_string())
        .unwrap_or_default()
}

/// Ask for the permission to show notifications (first use only: the
/// browser remembers the answer). Called from a user action.
fn ask_notification_permission() {
    let Some(api) = notification_api() else {
        return;
    };
    if notification_permission() != "default" {
        return;
    }
    if let Ok(ask) = Reflect::get(&api, &JsValue::from_str("requestPermission")) {
        if let Ok(ask) = ask.dyn_into::<js_sys::Function>() {
            // the answer is read again when a call comes in
            let _ = ask.call0(&api);
        }
    }
}

/// A desktop notification for the ringing call when the tab is hidden;
/// clicking it brings the tab forward.
fn notify_incoming(call: CallId, name: &str) {
    let already = with_driver(|d| d.alerts.notified == Some(call)).unwrap_or(true);
    if already {
        return;
    }
    let Some(window) = web_sys::window() else {
        return;
    };
    let hidden = window.document().is_some_and(|d| d.hidden());
    if !hidden || notification_permission() != "granted" {
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
    let onclick = Closure::once_into_js(move || {
        if let Some(w) = web_sys::window() {
            let _ = w.focus();
        }
        close_notification();
    });
    let _ = Reflect::set(&note, &"onclick".into(), &onclick);
    close_notification();
    with_driver(|d| {
        d.alerts.notification = Some(note);
        d.alerts.notified = Some(call);
    });
}

fn close_notification() {
    let note = with_driver(|d| {
        d.alerts.notified = None;
        d.alerts.notification.take()
    })
    .flatten();
    if let Some(note) = note {
        if let Ok(close) = Reflect::get(&note, &"close".into()) {
            if let Ok(close) = close.dyn_into::<js_sys::Function>() {
                let _ = close.call0(&note);
            }
        }
    }
}

// ---------------------------------------------------------------- keyboard

/// `h` hold/resume, `m` mute, `0-9 * #` DTMF, Enter answers, Escape hangs
/// up; never while typing in a text field (nor with Ctrl/Alt/Meta).
fn on_key(e: web_sys::Event) {
    {
        let flag = |name: &str| {
            Reflect::get(&e, &JsValue::from_str(name))
                .ok()
                .and_then(|v| v.as_bool())
                .unwrap_or(false)
        };
        if flag("ctrlKey") || flag("altKey") || flag("metaKey") || flag("repeat") {
            return;
        }
        let key = Reflect::get(&e, &JsValue::from_str("key"))
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
            return;
        }
        // Enter and space on a focused button press that button
        let on_control = matches!(tag.as_str(), "button" | "a" | "summary");
        if on_keyboard(&key, on_control) {
            e.prevent_default();
        }
    }
}

/// One key press outside text fields; true if it was used.
fn on_keyboard(key: &str, on_control: bool) -> bool {
    let Some(state) = state() else { return false };
    let ringing = state
        .lines
        .with_untracked(|l| l.iter().any(|c| c.phase == CallPhase::Incoming));
    let Some(action) = state
        .call
        .with_untracked(|c| keys::action(key, on_control, c.as_ref(), ringing))
    else {
        return false;
    };
    match action {
        KeyAction::Answer => answer(),
        KeyAction::HangUp => hangup(),
        KeyAction::ToggleHold => toggle_hold(),
        KeyAction::ToggleMute => toggle_mute(),
        KeyAction::Dtmf(digit) => send_dtmf(&digit.to_string()),
    }
    true
}

fn set_phase(state: PhoneState, call: CallId, phase: CallPhase) {
    state.update_line(call, |c| c.phase = phase);
}
