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
//! page closing (`pagehide`) hangs up and unregisters.

use super::media;
use super::storage::{self, Settings};
use super::transport::{self, Connection, TransportEvent};
use crate::settings;
use crate::sip::reconnect::Reconnect;
use crate::sip::{
    CallId, CallState, Command, EndReason, Event, Input, Instant, Output, RegistrationState,
    UserAgent,
};
use crate::ui::state::{CallPhase, CallView, PhoneState, RegView};
use gloo_timers::callback::Timeout;
use leptos::prelude::{Set, Update, WithUntracked};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
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
    /// The call on screen (one at a time).
    current_call: Option<CallId>,
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
/// `online`, `offline` and `pagehide` events.
pub fn init(state: PhoneState) {
    // `navigator.onLine` is not trusted at start: it is false on machines
    // whose only network is loopback, where a local PBX works fine. Only
    // the `offline`/`online` events count.
    let online = true;
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
            current_call: None,
        })
    });
    listen("online", || on_network(true));
    listen("offline", || on_network(false));
    listen("pagehide", on_page_hide);
}

/// A window event listener for the life of the page.
fn listen(event: &str, f: impl Fn() + 'static) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let closure = Closure::<dyn FnMut(web_sys::Event)>::new(move |_e: web_sys::Event| f());
    if window
        .add_event_listener_with_callback(event, closure.as_ref().unchecked_ref())
        .is_err()
    {
        tracing::warn!("cannot listen to the {event} event");
    }
    // the driver lives as long as the page
    closure.forget();
}

// ---------------------------------------------------------------- commands

/// Save the settings and sign in with them: a new user agent, a new
/// WebSocket, then `Register` once it is open.
pub fn register(settings: Settings) {
    let Some(state) = state() else { return };
    state.clear_messages();
    if with_driver(|d| d.current_call.is_some()).unwrap_or(false) {
        state.show_error("Hang up before changing the account.");
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
    media::configure(media::MediaConfig {
        ice_servers: prepared.ice_servers.clone(),
        gather_timeout_ms: prepared.ice_gather_timeout_ms,
        ..media::MediaConfig::default()
    });

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
        d.current_call = None;
        d.aor = aor;
        d.generation
    });
    let Some(generation) = generation else { return };
    state.call.set(None);
    open_connection(generation);
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
    let ready = with_driver(|d| {
        (
            d.generation,
            d.agent.is_some() && d.connected,
            d.current_call,
        )
    });
    let Some((generation, ready, current)) = ready else {
        return;
    };
    if current.is_some() {
        return; // one call at a time
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
    tracing::info!("calling {target}");
    feed(generation, Input::Command(Command::Call { target }));
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

/// Answer the incoming call.
pub fn answer() {
    let found = with_driver(|d| (d.generation, d.current_call));
    if let Some((generation, Some(call))) = found {
        if let Some(state) = state() {
            state.clear_messages();
        }
        feed(generation, Input::Command(Command::Answer { call }));
    }
}

/// Hang up, cancel or decline the call on screen.
pub fn hangup() {
    let found = with_driver(|d| (d.generation, d.current_call));
    if let Some((generation, Some(call))) = found {
        feed(generation, Input::Command(Command::Hangup { call }));
    }
}

/// The page is going away: hang up and unregister while the socket is
/// still there (sends are synchronous).
fn on_page_hide() {
    let generation = with_driver(|d| d.agent.is_some().then_some(d.generation)).flatten();
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
        let first_try_failed = !was_open && !d.ever_connected;
        let attempt = d.reconnect.as_mut().map(|r| r.on_lost(was_open));
        let all_failed = first_try_failed
            && d.reconnect
                .as_ref()
                .is_some_and(|r| r.current() == r.servers()[0]);
        Some((attempt, all_failed, d.online))
    })
    .flatten();
    let Some((attempt, all_failed, online)) = plan else {
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
    if with_driver(|d| d.current_call.is_some()).unwrap_or(false) {
        state.call.update(|c| {
            if let Some(c) = c.as_mut() {
                c.link_down = true;
            }
        });
    }
    if all_failed {
        // no server of the list ever answered: the settings are wrong, or
        // the server is down; say so and wait for the user
        with_driver(|d| d.reconnect.as_mut().map(Reconnect::reset));
        state.reg.set(RegView::Failed(reason.clone()));
        state.show_error(reason);
        return;
    }
    let Some(attempt) = attempt else { return };
    let delay_ms = u32::try_from(attempt.delay.as_millis()).unwrap_or(u32::MAX);
    tracing::info!(
        "reconnecting to {} in {delay_ms} ms (attempt {})",
        attempt.server,
        attempt.number
    );
    if was_open {
        state.show_notice(format!(
            "Lost the connection to the server ({reason}). Reconnecting…"
        ));
    }
    // offline: attempts go on (a server on this machine or the LAN may
    // still answer), and the `online` event tries again at once
    state.reg.set(if online {
        RegView::Reconnecting {
            server: attempt.server.clone(),
            attempt: attempt.number,
            at_ms: now_ms() + f64::from(delay_ms),
        }
    } else {
        RegView::Offline
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
                    state.settings_open.set(false);
                    // back after a lost connection: the call is reachable again
                    if state.notice.with_untracked(|n| {
                        n.as_deref()
                            .is_some_and(|t| t.starts_with("Lost the connection"))
                    }) {
                        state.notice.set(None);
                    }
                    state.call.update(|c| {
                        if let Some(c) = c.as_mut() {
                            c.link_down = false;
                        }
                    });
                }
                RegView::Failed(reason) => {
                    state.show_error(reason.clone());
                    state.settings_open.set(true);
                }
                _ => {}
            }
            state.reg.set(view);
        }
        Event::IncomingCall { call, from, .. } => {
            let busy = with_driver(|d| {
                if d.current_call.is_some() {
                    true
                } else {
                    d.current_call = Some(call);
                    false
                }
            })
            .unwrap_or(true);
            if busy {
                tracing::info!("{call}: busy, rejecting the call from {}", from.uri);
                feed(generation, Input::Command(Command::Hangup { call }));
                return;
            }
            tracing::info!("{call}: incoming call from {}", from.uri);
            state.notice.set(None);
            state
                .call
                .set(Some(CallView::new(call, CallPhase::Incoming, &from)));
        }
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
            state.call.update(|c| {
                if let Some(c) = c.as_mut().filter(|c| c.id == call) {
                    c.remote_hold = on_hold;
                }
            });
        }
        other @ (Event::LocalHold { .. }
        | Event::DtmfReceived { .. }
        | Event::EarlyMedia { .. }
        | Event::TransferProgress { .. }
        | Event::Transferred { .. }
        | Event::MessageReceived { .. }
        | Event::MessageStatus { .. }
        | Event::Presence { .. }
        | Event::Voicemail { .. }
        | Event::SubscriptionFailed { .. }) => {
            // issue 5 work in progress: not shown yet
            tracing::info!("not shown yet: {other:?}");
        }
        Event::Warning(text) => {
            tracing::warn!("{text}");
            state.show_notice(text);
        }
    }
}

fn on_call_state(call: CallId, cs: CallState, state: PhoneState) {
    let current = with_driver(|d| {
        if d.current_call.is_none() && matches!(cs, CallState::Calling { .. }) {
            d.current_call = Some(call); // the call we just started
        }
        d.current_call
    })
    .flatten();
    if current != Some(call) {
        tracing::debug!("{call}: not on screen: {cs:?}");
        return;
    }
    match cs {
        CallState::Calling { to } => {
            state.notice.set(None);
            state
                .call
                .set(Some(CallView::new(call, CallPhase::Calling, &to)));
        }
        CallState::Ringing => set_phase(state, call, CallPhase::Ringing),
        CallState::Answering => set_phase(state, call, CallPhase::Answering),
        CallState::Active { peer } => {
            state.call.update(|c| {
                if let Some(c) = c.as_mut().filter(|c| c.id == call) {
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
                }
            });
        }
        CallState::Ended(reason) => {
            tracing::info!("{call}: ended: {reason:?}");
            with_driver(|d| d.current_call = None);
            state.call.set(None);
            let text = reason.message();
            match reason {
                EndReason::LocalHangup | EndReason::RemoteHangup | EndReason::CallerCancelled => {
                    state.show_notice(text)
                }
                _ => state.show_error(text),
            }
        }
    }
}

fn set_phase(state: PhoneState, call: CallId, phase: CallPhase) {
    state.call.update(|c| {
        if let Some(c) = c.as_mut().filter(|c| c.id == call) {
            c.phase = phase;
        }
    });
}
