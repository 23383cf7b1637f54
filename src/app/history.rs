//! Call history, built from the core's events (pure: no clock, no storage).
//!
//! [`Tracker`] watches [`Event::IncomingCall`] and [`Event::CallState`] with
//! the time of each event (ms since the epoch) and gives a finished
//! [`Entry`] when a call ends: outgoing, incoming (answered) or missed (an
//! incoming call that never became active: the caller gave up, we declined
//! it, or it was refused while we were busy). [`Book`] keeps the lists of
//! several accounts, each trimmed to its last entries, as stored in the
//! browser (`softphone.history`, JSON).

use crate::sip::{CallId, CallState, EndReason, Event, Party};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How many entries are kept per account.
pub const MAX_ENTRIES: usize = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Incoming,
    Outgoing,
    Missed,
}

impl Direction {
    /// `data-direction` of a history item.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Incoming => "incoming",
            Direction::Outgoing => "outgoing",
            Direction::Missed => "missed",
        }
    }

    /// Words for a screen reader and a tooltip.
    pub fn label(self) -> &'static str {
        match self {
            Direction::Incoming => "Incoming call",
            Direction::Outgoing => "Outgoing call",
            Direction::Missed => "Missed call",
        }
    }
}

/// One finished call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub direction: Direction,
    /// Display name, else the user part of the address.
    pub peer_label: String,
    /// What to dial to call back: the address of the other party.
    pub peer_uri: String,
    /// When the call started (ringing or dialled), ms since the epoch.
    pub start_ms: f64,
    /// Talk time in whole seconds (0 when never answered).
    pub duration_secs: u64,
    /// How the call ended, for the user (may be empty).
    #[serde(default)]
    pub outcome: String,
    /// The call's recordings, kept in the browser (oldest first).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recordings: Vec<Recording>,
}

/// One recording of a call: its key in the browser's recording store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recording {
    pub id: String,
    /// Its size once stored (0: still being saved).
    pub bytes: u64,
    /// It has a picture (a video call).
    pub video: bool,
}

impl Recording {
    /// A new recording, not stored yet.
    pub fn new(id: String) -> Recording {
        Recording {
            id,
            bytes: 0,
            video: false,
        }
    }

    /// Its size for the person: `12 KB`, `3.4 MB` (nothing while saving).
    pub fn size_text(&self) -> String {
        match self.bytes {
            0 => "saving…".into(),
            b if b < 1_000_000 => format!("{} KB", b.div_ceil(1000)),
            b => {
                let tenths = (b + 50_000) / 100_000;
                format!("{}.{} MB", tenths / 10, tenths % 10)
            }
        }
    }
}

impl Entry {
    /// The talk time as `m:ss`.
    pub fn duration_text(&self) -> String {
        format_duration(self.duration_secs)
    }

    /// What the redial button dials: the address, else the label.
    pub fn redial_target(&self) -> &str {
        if self.peer_uri.trim().is_empty() {
            &self.peer_label
        } else {
            &self.peer_uri
        }
    }
}

/// `m:ss` (minutes are not wrapped into hours: `75:03`).
pub fn format_duration(secs: u64) -> String {
    format!("{}:{:02}", secs / 60, secs % 60)
}

#[derive(Clone, Debug)]
struct Pending {
    incoming: bool,
    peer: Party,
    start_ms: f64,
    active_ms: Option<f64>,
}

/// Follows the calls of one user agent and reports each as it ends.
#[derive(Clone, Debug, Default)]
pub struct Tracker {
    calls: litemap::LiteMap<CallId, Pending>,
}

impl Tracker {
    pub fn new() -> Tracker {
        Tracker::default()
    }

    /// Forget the calls in progress (a new account: a new user agent).
    pub fn reset(&mut self) {
        self.calls.clear();
    }

    /// Calls being followed.
    pub fn in_progress(&self) -> usize {
        self.calls.len()
    }

    /// Observe one event at `now_ms`; a finished call gives its entry.
    pub fn on_event(&mut self, now_ms: f64, event: &Event) -> Option<Entry> {
        match event {
            Event::IncomingCall { call, from, .. } => {
                self.calls.insert(
                    *call,
                    Pending {
                        incoming: true,
                        peer: from.clone(),
                        start_ms: now_ms,
                        active_ms: None,
                    },
                );
                None
            }
            Event::CallState { call, state } => self.on_call_state(now_ms, *call, state),
            _ => None,
        }
    }

    fn on_call_state(&mut self, now_ms: f64, call: CallId, state: &CallState) -> Option<Entry> {
        match state {
            CallState::Calling { to } => {
                // the first Calling starts the call; a later one (a retry
                // with credentials) keeps the start time
                self.calls.entry(call).or_insert(Pending {
                    incoming: false,
                    peer: to.clone(),
                    start_ms: now_ms,
                    active_ms: None,
                });
                None
            }
            CallState::Active { peer } => {
                if let Some(p) = self.calls.get_mut(&call) {
                    if p.active_ms.is_none() {
                        p.active_ms = Some(now_ms);
                    }
                    let named = peer
                        .display_name
                        .as_deref()
                        .is_some_and(|n| !n.trim().is_empty());
                    if named {
                        p.peer.display_name = peer.display_name.clone();
                    }
                    if p.peer.uri.trim().is_empty() {
                        p.peer.uri = peer.uri.clone();
                    }
                }
                None
            }
            CallState::Ended(reason) => {
                let p = self.calls.remove(&call)?;
                Some(finish(p, now_ms, reason))
            }
            CallState::Ringing | CallState::Answering => None,
        }
    }
}

fn finish(p: Pending, now_ms: f64, reason: &EndReason) -> Entry {
    let direction = match (p.incoming, p.active_ms) {
        (false, _) => Direction::Outgoing,
        (true, Some(_)) => Direction::Incoming,
        (true, None) => Direction::Missed,
    };
    let duration_secs = match p.active_ms {
        Some(t) if now_ms > t && (now_ms - t).is_finite() => ((now_ms - t) / 1000.0) as u64,
        _ => 0,
    };
    let outcome = match reason {
        EndReason::LocalHangup | EndReason::RemoteHangup if p.active_ms.is_some() => String::new(),
        EndReason::LocalHangup if p.incoming => "Declined".into(),
        EndReason::LocalHangup => "Cancelled".into(),
        EndReason::CallerCancelled => "The caller hung up".into(),
        other => super::words::ended(other).trim_end_matches('.').to_string(),
    };
    let mut peer_label = p.peer.label();
    if peer_label.trim().is_empty() {
        peer_label = p.peer.uri.clone();
    }
    Entry {
        direction,
        peer_label,
        peer_uri: p.peer.uri,
        start_ms: p.start_ms,
        duration_secs,
        outcome,
        recordings: Vec::new(),
    }
}

/// The recordings of `list` (their keys).
pub fn recording_ids(list: &[Entry]) -> Vec<String> {
    list.iter()
        .flat_map(|e| e.recordings.iter().map(|r| r.id.clone()))
        .collect()
}

/// Whether `list` lists recording `id`.
pub fn has_recording(list: &[Entry], id: &str) -> bool {
    list.iter().any(|e| e.recordings.iter().any(|r| r.id == id))
}

/// The recording `id` of `list`, for a change.
pub fn recording_mut<'a>(list: &'a mut [Entry], id: &str) -> Option<&'a mut Recording> {
    list.iter_mut()
        .flat_map(|e| e.recordings.iter_mut())
        .find(|r| r.id == id)
}

/// Take recording `id` out of `list`: whether it was there.
pub fn remove_recording(list: &mut [Entry], id: &str) -> bool {
    list.iter_mut().any(|e| {
        let before = e.recordings.len();
        e.recordings.retain(|r| r.id != id);
        e.recordings.len() != before
    })
}

/// Lists of records per account (address of record), newest last, each
/// trimmed to a maximum length. Serialized as a JSON object.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Book<T> {
    pub accounts: BTreeMap<String, Vec<T>>,
}

impl<T> Default for Book<T> {
    fn default() -> Self {
        Book {
            accounts: BTreeMap::new(),
        }
    }
}

impl<T: Clone> Book<T> {
    /// The records of `account` (oldest first).
    pub fn list(&self, account: &str) -> Vec<T> {
        self.accounts
            .get(&account_key(account))
            .cloned()
            .unwrap_or_default()
    }

    /// Append a record, dropping the oldest beyond `max`.
    pub fn push(&mut self, account: &str, item: T, max: usize) {
        let list = self.accounts.entry(account_key(account)).or_default();
        list.push(item);
        trim(list, max);
    }

    /// Replace the records of `account` (trimmed to `max`).
    pub fn set(&mut self, account: &str, mut items: Vec<T>, max: usize) {
        trim(&mut items, max);
        self.accounts.insert(account_key(account), items);
    }
}

/// Keep the last `max` items.
pub fn trim<T>(list: &mut Vec<T>, max: usize) {
    if list.len() > max {
        list.drain(..list.len() - max);
    }
}

/// The key of an account: its address, trimmed and lower case.
pub fn account_key(aor: &str) -> String {
    aor.trim().to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::testing::party;

    fn incoming(call: u32, from: Party) -> Event {
        Event::IncomingCall {
            call: CallId(call),
            from,
            auto_answer_after: None,
            replaces: None,
            video: false,
        }
    }

    fn state(call: u32, state: CallState) -> Event {
        Event::CallState {
            call: CallId(call),
            state,
        }
    }

    #[test]
    fn outgoing_answered_call_has_talk_time() {
        let mut t = Tracker::new();
        let to = party(None, "sip:1001@example.com");
        assert_eq!(
            t.on_event(1_000.0, &state(1, CallState::Calling { to: to.clone() })),
            None
        );
        assert_eq!(t.on_event(2_000.0, &state(1, CallState::Ringing)), None);
        let peer = party(Some("Bob"), "sip:1001@example.com");
        assert_eq!(
            t.on_event(5_000.0, &state(1, CallState::Active { peer })),
            None
        );
        let e = t
            .on_event(
                5_000.0 + 83_900.0,
                &state(1, CallState::Ended(EndReason::RemoteHangup)),
            )
            .expect("an entry");
        assert_eq!(e.direction, Direction::Outgoing);
        assert_eq!(e.peer_label, "Bob");
        assert_eq!(e.peer_uri, "sip:1001@example.com");
        assert_eq!(e.start_ms, 1_000.0);
        assert_eq!(e.duration_secs, 83);
        assert_eq!(e.duration_text(), "1:23");
        assert_eq!(e.outcome, "");
        assert_eq!(t.in_progress(), 0);
    }

    #[test]
    fn outgoing_unanswered_call_is_outgoing_with_zero_duration() {
        let mut t = Tracker::new();
        let to = party(None, "sip:1002@example.com");
        t.on_event(0.0, &state(3, CallState::Calling { to }));
        let e = t
            .on_event(9_000.0, &state(3, CallState::Ended(EndReason::Busy)))
            .unwrap();
        assert_eq!(e.direction, Direction::Outgoing);
        assert_eq!(e.duration_secs, 0);
        assert_eq!(e.duration_text(), "0:00");
        assert_eq!(e.peer_label, "1002");
        assert_eq!(e.outcome, "The person you called is busy");
    }

    #[test]
    fn answered_incoming_call_is_incoming() {
        let mut t = Tracker::new();
        t.on_event(10_000.0, &incoming(2, party(Some("Alice"), "sip:a@x")));
        t.on_event(12_000.0, &state(2, CallState::Answering));
        t.on_event(
            12_500.0,
            &state(
                2,
                CallState::Active {
                    peer: party(None, "sip:a@x"),
                },
            ),
        );
        let e = t
            .on_event(
                12_500.0 + 605_000.0,
                &state(2, CallState::Ended(EndReason::LocalHangup)),
            )
            .unwrap();
        assert_eq!(e.direction, Direction::Incoming);
        // the name from the INVITE stays when the answer has none
        assert_eq!(e.peer_label, "Alice");
        assert_eq!(e.duration_text(), "10:05");
        assert_eq!(e.start_ms, 10_000.0);
    }

    #[test]
    fn incoming_never_active_is_missed() {
        for reason in [
            EndReason::CallerCancelled,
            EndReason::LocalHangup,
            EndReason::Network("gone".into()),
        ] {
            let mut t = Tracker::new();
            t.on_event(0.0, &incoming(7, party(None, "sip:1003@x")));
            t.on_event(1_000.0, &state(7, CallState::Answering));
            let e = t
                .on_event(4_000.0, &state(7, CallState::Ended(reason.clone())))
                .unwrap();
            assert_eq!(e.direction, Direction::Missed, "{reason:?}");
            assert_eq!(e.duration_secs, 0);
        }
        let mut t = Tracker::new();
        t.on_event(0.0, &incoming(8, party(None, "sip:1003@x")));
        let e = t
            .on_event(1.0, &state(8, CallState::Ended(EndReason::CallerCancelled)))
            .unwrap();
        assert_eq!(e.outcome, "The caller hung up");
    }

    #[test]
    fn two_calls_at_once_are_followed_apart() {
        let mut t = Tracker::new();
        t.on_event(
            0.0,
            &state(
                1,
                CallState::Calling {
                    to: party(None, "sip:1@x"),
                },
            ),
        );
        t.on_event(
            0.0,
            &state(
                1,
                CallState::Active {
                    peer: party(None, "sip:1@x"),
                },
            ),
        );
        t.on_event(1_000.0, &incoming(2, party(None, "sip:2@x")));
        let missed = t
            .on_event(2_000.0, &state(2, CallState::Ended(EndReason::LocalHangup)))
            .unwrap();
        assert_eq!(missed.direction, Direction::Missed);
        assert_eq!(missed.peer_label, "2");
        assert_eq!(missed.outcome, "Declined");
        let out = t
            .on_event(
                61_000.0,
                &state(1, CallState::Ended(EndReason::LocalHangup)),
            )
            .unwrap();
        assert_eq!(out.direction, Direction::Outgoing);
        assert_eq!(out.duration_text(), "1:01");
    }

    #[test]
    fn unknown_or_repeated_end_gives_nothing() {
        let mut t = Tracker::new();
        assert_eq!(
            t.on_event(0.0, &state(9, CallState::Ended(EndReason::LocalHangup))),
            None
        );
        t.on_event(
            0.0,
            &state(
                9,
                CallState::Calling {
                    to: party(None, "sip:9@x"),
                },
            ),
        );
        assert!(t
            .on_event(1.0, &state(9, CallState::Ended(EndReason::NoAnswer)))
            .is_some());
        assert_eq!(
            t.on_event(2.0, &state(9, CallState::Ended(EndReason::NoAnswer))),
            None
        );
    }

    #[test]
    fn a_second_calling_keeps_the_start_and_reset_forgets() {
        let mut t = Tracker::new();
        let to = party(None, "sip:5@x");
        t.on_event(100.0, &state(5, CallState::Calling { to: to.clone() }));
        t.on_event(900.0, &state(5, CallState::Calling { to }));
        let e = t
            .on_event(1_000.0, &state(5, CallState::Ended(EndReason::Declined)))
            .unwrap();
        assert_eq!(e.start_ms, 100.0);
        t.on_event(
            0.0,
            &state(
                4,
                CallState::Calling {
                    to: party(None, "sip:4@x"),
                },
            ),
        );
        let e = t
            .on_event(1.0, &state(4, CallState::Ended(EndReason::LocalHangup)))
            .unwrap();
        assert_eq!(
            (e.direction, e.outcome.as_str()),
            (Direction::Outgoing, "Cancelled")
        );
        t.on_event(0.0, &incoming(6, party(None, "sip:6@x")));
        t.reset();
        assert_eq!(t.in_progress(), 0);
    }

    #[test]
    fn clock_going_backwards_gives_zero_not_a_panic() {
        let mut t = Tracker::new();
        t.on_event(
            5_000.0,
            &state(
                1,
                CallState::Calling {
                    to: party(None, "sip:1@x"),
                },
            ),
        );
        t.on_event(
            5_000.0,
            &state(
                1,
                CallState::Active {
                    peer: party(None, "sip:1@x"),
                },
            ),
        );
        let e = t
            .on_event(1_000.0, &state(1, CallState::Ended(EndReason::LocalHangup)))
            .unwrap();
        assert_eq!(e.duration_secs, 0);
    }

    #[test]
    fn durations_format_as_minutes_and_seconds() {
        assert_eq!(format_duration(0), "0:00");
        assert_eq!(format_duration(9), "0:09");
        assert_eq!(format_duration(60), "1:00");
        assert_eq!(format_duration(3_725), "62:05");
    }

    #[test]
    fn book_keeps_the_last_entries_per_account() {
        let mut b: Book<u32> = Book::default();
        for i in 0..(MAX_ENTRIES as u32 + 5) {
            b.push("sip:1000@x", i, MAX_ENTRIES);
        }
        b.push(" SIP:2000@x ", 7, MAX_ENTRIES);
        let a = b.list("sip:1000@x");
        assert_eq!(a.len(), MAX_ENTRIES);
        assert_eq!(a.first(), Some(&5));
        assert_eq!(a.last(), Some(&(MAX_ENTRIES as u32 + 4)));
        assert_eq!(b.list("sip:2000@x"), vec![7]);
        assert!(b.list("sip:3000@x").is_empty());
        b.set("sip:2000@x", vec![1, 2, 3], 2);
        assert_eq!(b.list("sip:2000@x"), vec![2, 3]);
    }

    #[test]
    fn entries_survive_json() {
        let mut b: Book<Entry> = Book::default();
        b.push(
            "sip:1000@x",
            Entry {
                direction: Direction::Missed,
                peer_label: "<b>Eve</b>".into(),
                peer_uri: "sip:eve@x".into(),
                start_ms: 1.5e12,
                duration_secs: 0,
                outcome: String::new(),
                recordings: Vec::new(),
            },
            MAX_ENTRIES,
        );
        let json = serde_json::to_string(&b).unwrap();
        assert!(json.contains("\"missed\""), "{json}");
        let back: Book<Entry> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, b);
        assert_eq!(back.list("sip:1000@x")[0].redial_target(), "sip:eve@x");
    }
}
