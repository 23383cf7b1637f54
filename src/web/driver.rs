//! The driver: owns the [`UserAgent`], feeds it inputs with the current
//! time, drains its outputs after every input and acts on them (SIP bytes to
//! the WebSocket, events to the UI signals, media requests to WebRTC), and
//! keeps one timer armed for [`UserAgent::poll_timeout`].
//!
//! Inputs are queued and processed one at a time, so that acting on an
//! output can never re-enter the agent: no `RefCell` borrow is held while
//! outputs are acted on, nor across an `await` (the driver never awaits).
//!
//! Every connection (one per "Save and register") has a generation number;
//! inputs from an older connection, its timer or its media are dropped.

use super::media;
use super::storage::{self, Settings};
use super::transport::{self, Connection, TransportEvent};
use crate::sip::{
    AccountConfig, CallId, CallState, Command, EndReason, Event, Input, Instant, Output,
    RegistrationState, Transport, UserAgent,
};
use crate::ui::state::{CallPhase, CallView, PhoneState, RegView};
use gloo_timers::callback::Timeout;
use leptos::prelude::{Set, Update, WithUntracked};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use wasm_bindgen_futures::spawn_local;

struct Driver {
    state: PhoneState,
    /// Generation of the current account/connection.
    generation: u64,
    agent: Option<Rc<RefCell<UserAgent>>>,
    connection: Option<Connection>,
    /// The WebSocket is open.
    connected: bool,
    /// The WebSocket of this generation has been open at least once: when
    /// it closes, reconnect (with a growing delay).
    was_open: bool,
    /// Reconnection attempts since the connection was lost.
    retries: u32,
    retry_timer: Option<Timeout>,
    url: String,
    aor: String,
    /// The agent's one timer.
    timer: Option<Timeout>,
    /// The call on screen (one at a time).
    current_call: Option<CallId>,
}

/// Work for the agent, processed in order.
enum Job {
    Input(Input),
    /// The WebSocket is gone (or could not be opened): feed `Disconnected`
    /// (once), tell the user, and reconnect if it had been open before.
    Lost {
        reason: String,
        user_message: String,
        /// Whether the agent still has to be told.
        tell_agent: bool,
        reconnect: bool,
    },
}

/// Delays between reconnection attempts: 1, 2, 4, 8, 16, then 30 s.
fn retry_delay_ms(retries: u32) -> u32 {
    1000u32.saturating_mul(1 << retries.min(5)).min(30_000)
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

/// Start the driver with the UI's state.
pub fn init(state: PhoneState) {
    DRIVER.with(|d| {
        *d.borrow_mut() = Some(Driver {
            state,
            generation: 0,
            agent: None,
            connection: None,
            connected: false,
            was_open: false,
            retries: 0,
            retry_timer: None,
            url: String::new(),
            aor: String::new(),
            timer: None,
            current_call: None,
        })
    });
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
    let config = match account_config(&settings) {
        Ok(c) => c,
        Err(msg) => {
            state.reg.set(RegView::Failed(msg.clone()));
            state.show_error(msg);
            return;
        }
    };
    if let Err(msg) = storage::save(&settings) {
        state.show_error(msg);
    }
    tracing::info!("signing in: {settings:?}");

    // the previous account: sign out (best effort), close its connection
    let old = with_driver(|d| {
        let old_gen = d.generation;
        let was_registered = d.connected
            && d.state
                .reg
                .with_untracked(|r| r.data_state() == "registered");
        (old_gen, was_registered)
    });
    if let Some((old_gen, true)) = old {
        feed(old_gen, Input::Command(Command::Unregister));
    }
    media::close_all();

    let aor = config.aor.clone();
    let agent = match UserAgent::new(config, random_seed()) {
        Ok(a) => a,
        Err(e) => {
            let msg = format!("These settings cannot be used: {e}");
            with_driver(|d| {
                d.generation += 1;
                d.agent = None;
                d.connection = None;
                d.connected = false;
                d.timer = None;
            });
            state.reg.set(RegView::Failed(msg.clone()));
            state.show_error(msg);
            return;
        }
    };
    let url = settings.ws_url.trim().to_string();
    let generation = with_driver(|d| {
        d.generation += 1;
        d.agent = Some(Rc::new(RefCell::new(agent)));
        d.connection = None; // closes the old WebSocket after its queue
        d.connected = false;
        d.was_open = false;
        d.retries = 0;
        d.retry_timer = None;
        d.timer = None;
        d.current_call = None;
        d.url = url.clone();
        d.aor = aor;
        d.generation
    });
    let Some(generation) = generation else { return };
    state.reg.set(RegView::Connecting);
    state.call.set(None);

    let connection = transport::connect(url.clone(), move |ev| on_transport(generation, ev));
    with_driver(|d| {
        if d.generation == generation {
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
        state.show_error(
            "You are not connected: fill in the account settings and press \"Save and sign in\".",
        );
        return;
    }
    state.clear_messages();
    tracing::info!("calling {target}");
    feed(generation, Input::Command(Command::Call { target }));
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

fn account_config(s: &Settings) -> Result<AccountConfig, String> {
    let url = s.ws_url.trim();
    if url.is_empty() {
        return Err("Enter the server address, for example ws://127.0.0.1:8088.".into());
    }
    let transport = Transport::from_url(url).ok_or_else(|| {
        format!("The server address must start with ws:// or wss:// (it is \"{url}\").")
    })?;
    let mut aor = s.sip_uri.trim().to_string();
    if aor.is_empty() {
        return Err("Enter your SIP address, for example sip:1000@127.0.0.1.".into());
    }
    let lower = aor.to_ascii_lowercase();
    if !lower.starts_with("sip:") && !lower.starts_with("sips:") {
        aor = format!("sip:{aor}");
    }
    if !aor.contains('@') {
        return Err(format!(
            "Your SIP address needs a domain, for example sip:1000@127.0.0.1 (it is \"{aor}\")."
        ));
    }
    let mut config = AccountConfig::new(&aor, &s.password, transport);
    config.auth_user = s.auth_user.trim().to_string();
    config.display_name = s.display_name.trim().to_string();
    Ok(config)
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

fn on_transport(generation: u64, ev: TransportEvent) {
    let url = with_driver(|d| d.url.clone()).unwrap_or_default();
    match ev {
        TransportEvent::Open => {
            with_driver(|d| {
                if d.generation == generation {
                    d.connected = true;
                    d.was_open = true;
                    d.retries = 0;
                }
            });
            feed(generation, Input::Connected);
            feed(generation, Input::Command(Command::Register));
        }
        TransportEvent::Message(bytes) => {
            tracing::debug!("SIP <<< received\n{}", String::from_utf8_lossy(&bytes));
            feed(generation, Input::Received(bytes));
        }
        TransportEvent::Closed(reason) => {
            with_driver(|d| {
                if d.generation == generation {
                    d.connected = false;
                    d.connection = None;
                }
            });
            enqueue(
                generation,
                Job::Lost {
                    reason,
                    user_message: format!(
                        "Lost the connection to the server at {url}. Reconnecting…"
                    ),
                    tell_agent: true,
                    reconnect: true,
                },
            );
        }
        TransportEvent::Failed(message) => {
            // a failed reconnection attempt: the agent knows already
            let reconnecting = with_driver(|d| {
                if d.generation == generation {
                    d.connected = false;
                    d.connection = None;
                }
                d.was_open
            })
            .unwrap_or(false);
            enqueue(
                generation,
                Job::Lost {
                    reason: message.clone(),
                    user_message: if reconnecting {
                        format!("{message} Trying again…")
                    } else {
                        message
                    },
                    tell_agent: !reconnecting,
                    reconnect: reconnecting,
                },
            );
        }
    }
}

/// Open the WebSocket again after it was lost (if nothing changed meanwhile).
fn reconnect(generation: u64) {
    let url = with_driver(|d| {
        d.retry_timer = None;
        (d.generation == generation && d.connection.is_none() && d.agent.is_some())
            .then(|| d.url.clone())
    })
    .flatten();
    let Some(url) = url else { return };
    tracing::info!("reconnecting to {url}");
    if let Some(state) = state() {
        state.reg.set(RegView::Connecting);
    }
    let connection = transport::connect(url, move |ev| on_transport(generation, ev));
    with_driver(|d| {
        if d.generation == generation {
            d.connection = Some(connection);
        }
    });
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
        return; // an older connection, or no agent
    };
    let (input, lost) = match job {
        Job::Input(input) => (Some(input), None),
        Job::Lost {
            reason,
            user_message,
            tell_agent,
            reconnect,
        } => (
            tell_agent.then_some(Input::Disconnected { reason }),
            Some((user_message, reconnect)),
        ),
    };
    if let Some(input) = input {
        step(generation, &agent, input);
    }
    if let (Some((msg, retry)), Some(state)) = (lost, state()) {
        if let Some(call) = with_driver(|d| d.current_call.take()).flatten() {
            media::handle(crate::sip::MediaRequest::Close { call }, report(generation));
            state.call.set(None);
        }
        state.show_error(msg.clone());
        if retry {
            state.reg.set(RegView::Connecting);
            let delay = with_driver(|d| {
                let delay = retry_delay_ms(d.retries);
                d.retries = d.retries.saturating_add(1);
                delay
            })
            .unwrap_or(30_000);
            tracing::info!("reconnecting in {delay} ms");
            let timer = Timeout::new(delay, move || {
                spawn_local(async move { reconnect(generation) });
            });
            with_driver(|d| {
                if d.generation == generation {
                    d.retry_timer = Some(timer);
                }
            });
        } else {
            state.reg.set(RegView::Failed(msg));
        }
    }
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
        Output::Reconnect { reason } => tracing::warn!("reconnect asked: {reason}"),
    }
}

fn on_event(generation: u64, event: Event) {
    let Some(state) = state() else { return };
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
                }
                RegView::Failed(reason) => {
                    state.show_error(reason.clone());
                    state.settings_open.set(true);
                }
                _ => {}
            }
            state.reg.set(view);
        }
        Event::IncomingCall { call, from } => {
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
            tracing::info!("{call}: remote hold {on_hold}");
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
