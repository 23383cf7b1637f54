//! What the UI shows, as signals. The driver (`web::driver`) writes them from
//! the core's events; the components only read them.

use crate::sip::CallId;
use leptos::prelude::*;
use leptos::reactive::graph::Source;
use std::cell::Cell;

pub use crate::app::view::{short_uri, CallPhase, CallView, RegView};

/// The account's state in words (`#reg-status`).
impl RegView {
    pub fn text(&self) -> String {
        match self {
            RegView::Unregistered => "Not signed in".into(),
            RegView::Connecting => "Connecting to the server…".into(),
            RegView::Registering => "Signing in…".into(),
            RegView::Registered { aor } => format!("Online as {}", short_uri(aor)),
            RegView::Unregistering => "Signing out…".into(),
            RegView::Failed(_) => "Not signed in: sign-in failed".into(),
            RegView::Reconnecting {
                server, attempt, ..
            } => {
                format!("Reconnecting to {server} (attempt {attempt})…")
            }
            RegView::Offline => "No network: waiting for it to come back…".into(),
        }
    }

    /// [`RegView::text`] at time `now_ms` (`Date.now()`): a reconnection
    /// counts down the seconds to its next attempt.
    pub fn text_at(&self, now_ms: f64) -> String {
        match self {
            RegView::Reconnecting {
                server,
                attempt,
                at_ms,
            } => {
                let secs = ((at_ms - now_ms) / 1000.0).ceil().max(0.0) as u64;
                if secs == 0 {
                    format!("Reconnecting to {server} now… (attempt {attempt})")
                } else {
                    format!("Reconnecting to {server} in {secs} s (attempt {attempt})…")
                }
            }
            other => other.text(),
        }
    }
}

/// The call's state in words.
impl CallView {
    pub fn status_text(&self) -> &'static str {
        match self.phase {
            CallPhase::Active if self.local_hold => "On hold",
            CallPhase::Calling => "Calling…",
            CallPhase::Ringing => "Ringing…",
            CallPhase::Incoming => "Incoming call",
            CallPhase::Answering => "Connecting…",
            CallPhase::Active => "Connected",
        }
    }
}

/// Mark every reader of `s` changed and empty its list of readers (see
/// [`PhoneState::forget_gone_readers`]).
fn forget_gone<T: 'static + Send + Sync>(s: RwSignal<T>) {
    s.notify();
    s.clear_subscribers();
}

/// All UI state. `Copy`: pass it around freely.
#[derive(Clone, Copy)]
pub struct PhoneState {
    pub reg: RwSignal<RegView>,
    /// The call in focus (a copy of its entry in `lines`): what `#incoming`
    /// and `#in-call` show. Written only through the line methods below.
    pub call: RwSignal<Option<CallView>>,
    /// Every call in progress, oldest first.
    pub lines: RwSignal<Vec<CallView>>,
    /// The call in focus.
    pub focus: RwSignal<Option<CallId>>,
    /// The lines mixed into a local conference (empty: none).
    pub conference: RwSignal<Vec<CallId>>,
    /// Do not disturb.
    pub dnd: RwSignal<bool>,
    /// The error banner; `None` hides it.
    pub error: RwSignal<Option<String>>,
    /// The notice line ("The other party hung up.").
    pub notice: RwSignal<Option<String>>,
    /// Whether the settings form is shown.
    pub settings_open: RwSignal<bool>,
}

impl PhoneState {
    pub fn new(settings_open: bool) -> PhoneState {
        PhoneState {
            reg: RwSignal::new(RegView::Unregistered),
            call: RwSignal::new(None),
            lines: RwSignal::new(Vec::new()),
            focus: RwSignal::new(None),
            conference: RwSignal::new(Vec::new()),
            dnd: RwSignal::new(false),
            error: RwSignal::new(None),
            notice: RwSignal::new(None),
            settings_open: RwSignal::new(settings_open),
        }
    }

    /// `data-phone` of `#phone`.
    pub fn data_phone(&self) -> &'static str {
        self.call
            .with(|c| c.as_ref().map(CallView::data_phone).unwrap_or("idle"))
    }

    /// The call in focus, if it is established (not reactive).
    pub fn active_focus(&self) -> Option<CallId> {
        self.call.with_untracked(|c| {
            c.as_ref()
                .filter(|c| c.phase == CallPhase::Active)
                .map(|c| c.id)
        })
    }

    /// A copy of one line.
    pub fn line(&self, id: CallId) -> Option<CallView> {
        self.lines
            .with_untracked(|l| l.iter().find(|c| c.id == id).cloned())
    }

    /// The ids of every line, oldest first.
    pub fn line_ids(&self) -> Vec<CallId> {
        self.lines
            .with_untracked(|l| l.iter().map(|c| c.id).collect())
    }

    pub fn focused(&self) -> Option<CallId> {
        self.focus.get_untracked()
    }

    /// Add a line (replacing one with the same id), focused or not.
    pub fn add_line(&self, view: CallView, focus: bool) {
        let id = view.id;
        self.lines
            .update(|l| match l.iter_mut().find(|c| c.id == id) {
                Some(old) => *old = view,
                None => l.push(view),
            });
        if focus || self.focus.get_untracked().is_none() {
            self.focus.set(Some(id));
        }
        self.sync();
    }

    /// Change one line (nothing if there is no such line).
    pub fn update_line(&self, id: CallId, f: impl FnOnce(&mut CallView)) {
        let mut found = false;
        self.lines.update(|l| {
            if let Some(c) = l.iter_mut().find(|c| c.id == id) {
                f(c);
                found = true;
            }
        });
        if found {
            self.sync();
        }
    }

    /// Change every line.
    pub fn update_all(&self, f: impl Fn(&mut CallView)) {
        self.lines.update(|l| l.iter_mut().for_each(&f));
        self.sync();
    }

    /// Remove a line; the focus goes to the newest line left, if any.
    pub fn remove_line(&self, id: CallId) {
        self.lines.update(|l| l.retain(|c| c.id != id));
        if self.focus.get_untracked() == Some(id) {
            let next = self.lines.with_untracked(|l| l.last().map(|c| c.id));
            self.focus.set(next);
        }
        self.conference.update(|c| c.retain(|x| *x != id));
        self.sync();
        self.forget_gone_readers();
    }

    /// Focus a line (nothing if there is no such line).
    pub fn set_focus(&self, id: CallId) {
        if self.line(id).is_some() {
            self.focus.set(Some(id));
            self.sync();
        }
    }

    /// Forget every line.
    pub fn clear_lines(&self) {
        self.lines.set(Vec::new());
        self.focus.set(None);
        self.conference.set(Vec::new());
        self.sync();
        self.forget_gone_readers();
    }

    /// Once the page has caught up with a call that ended (its panels
    /// removed), drop the effects that are gone from the reader lists of
    /// the call signals.
    ///
    /// Leptos 0.8 (reactive_graph 0.2) does not take a dropped effect or
    /// memo off the list of the signals it read: the list keeps a weak
    /// reference, which keeps the effect's block (about 50 bytes, plus the
    /// list entry) allocated for as long as the signal lives. The in-call
    /// and incoming panels are made anew for each call and read these
    /// long-lived signals from some 25 effects, so every call left about
    /// 1.6 KiB behind for good. Here every reader is marked changed and the
    /// lists are emptied: the live ones run again and read (subscribe)
    /// anew, the gone ones are forgotten. Deferred with a zero timeout, so
    /// that the effects that remove the panels have run first.
    fn forget_gone_readers(&self) {
        thread_local! {
            static PENDING: Cell<bool> = const { Cell::new(false) };
        }
        if PENDING.with(|p| p.replace(true)) {
            return;
        }
        let this = *self;
        wasm_bindgen_futures::spawn_local(async move {
            gloo_timers::future::TimeoutFuture::new(0).await;
            PENDING.with(|p| p.set(false));
            // (a signal disposed meanwhile, an unmounted phone, is skipped)
            forget_gone(this.call);
            forget_gone(this.lines);
            forget_gone(this.focus);
            forget_gone(this.conference);
        });
    }

    /// `call` follows the focused line.
    fn sync(&self) {
        let focused = self.focus.get_untracked().and_then(|id| self.line(id));
        if self.call.with_untracked(|c| *c != focused) {
            self.call.set(focused);
        }
    }

    pub fn show_error(&self, text: impl Into<String>) {
        let text = text.into();
        tracing::warn!("error shown: {text}");
        self.error.set(Some(text));
    }

    pub fn show_notice(&self, text: impl Into<String>) {
        self.notice.set(Some(text.into()));
    }

    pub fn clear_messages(&self) {
        self.error.set(None);
        self.notice.set(None);
    }
}
