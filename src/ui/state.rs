//! What the UI shows, as signals: the phone's view ([`PhoneView`]), set by
//! [`PhoneState::apply`] after each batch of inputs; the components only
//! read them and send actions through `web::driver::dispatch`.

use crate::sip::CallId;
use leptos::prelude::*;
use leptos::reactive::graph::Source;
use std::cell::Cell;

pub use crate::app::view::{short_uri, CallPhase, CallView, RegView};
use crate::app::view::{Notice, PhoneView};
use crate::sip::Instant;

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

    /// [`RegView::text`] at time `now`: a reconnection counts down the
    /// seconds to its next attempt.
    pub fn text_at(&self, now: Instant) -> String {
        match self {
            RegView::Reconnecting {
                server,
                attempt,
                at,
            } => {
                let secs = at.saturating_duration_since(now).as_millis().div_ceil(1000);
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
    /// Calls have a Record button (the settings allow recording).
    pub may_record: RwSignal<bool>,
    /// Whether the dialpad is open during a call, for a second line ("Add
    /// call"; the UI's own state).
    pub adding: RwSignal<bool>,
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
            may_record: RwSignal::new(true),
            adding: RwSignal::new(false),
        }
    }

    /// `data-phone` of `#phone`.
    pub fn data_phone(&self) -> &'static str {
        self.call
            .with(|c| c.as_ref().map(CallView::data_phone).unwrap_or("idle"))
    }

    /// What a screen reader is told at once (`#announce`): a call ringing,
    /// with who calls; a second one ringing while in a call.
    pub fn announcement(&self) -> String {
        let who = |c: &CallView| {
            if c.peer_number.is_empty() || c.peer_number == c.peer_label {
                c.peer_label.clone()
            } else {
                format!("{} ({})", c.peer_label, c.peer_number)
            }
        };
        let focus = self.focus.get();
        self.lines.with(|lines| {
            let ringing = lines.iter().filter(|c| c.phase == CallPhase::Incoming);
            let mut out = Vec::new();
            for c in ringing {
                if Some(c.id) == focus || lines.len() == 1 {
                    out.push(format!("Incoming call from {}", who(c)));
                } else {
                    out.push(format!(
                        "Another call from {}: Answer or Decline on its line",
                        who(c)
                    ));
                }
            }
            out.join(". ")
        })
    }

    /// The call in focus, if it is established (not reactive).
    pub fn active_focus(&self) -> Option<CallId> {
        self.call.with_untracked(|c| {
            c.as_ref()
                .filter(|c| c.phase == CallPhase::Active)
                .map(|c| c.id)
        })
    }

    /// Show the phone's view: each signal is set only when its part of the
    /// view changed (the components re-render only what changed).
    pub fn apply(&self, v: &PhoneView) {
        fn put<T: PartialEq + Send + Sync + 'static>(s: RwSignal<T>, value: T) {
            if s.with_untracked(|old| *old != value) {
                s.set(value);
            }
        }
        let fewer = self.lines.with_untracked(|l| {
            l.iter()
                .any(|old| v.lines.iter().all(|new| new.id != old.id))
        });
        put(self.reg, v.reg.clone());
        put(self.lines, v.lines.clone());
        put(self.focus, v.focus);
        put(self.call, v.focused().cloned());
        put(self.conference, v.conference.clone());
        put(self.dnd, v.dnd);
        put(self.error, v.error.as_ref().map(Notice::text));
        put(self.notice, v.notice.as_ref().map(Notice::text));
        put(self.settings_open, v.settings_open);
        put(self.may_record, v.may_record);
        if fewer {
            self.forget_gone_readers();
        }
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
        crate::web::next_task(move || {
            PENDING.with(|p| p.set(false));
            // (a signal disposed meanwhile, an unmounted phone, is skipped)
            forget_gone(this.call);
            forget_gone(this.lines);
            forget_gone(this.focus);
            forget_gone(this.conference);
        });
    }
}
