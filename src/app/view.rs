//! The view model: what the screen shows of the account and of each call,
//! as plain data (the `data-*` values the page and its tests read come from
//! here). The sentences made of it are the UI's (`ui::state`).

use crate::sip::{CallId, EndReason, Instant, Party};

/// At most this many calls the user can have up at once (the lines of the
/// screen; "Add call" is off at this count, and a further incoming call is
/// declined). The core allows a few more at its level
/// (`sip::call::MAX_CALLS`): a call that is ending or being replaced still
/// counts there for a moment.
pub const MAX_LINES: usize = 2;
const _: () = assert!(MAX_LINES <= crate::sip::MAX_CALLS);

/// The account's state as shown in `#reg-status`.
#[derive(Clone, Debug, PartialEq)]
pub enum RegView {
    /// Never signed in, or signed out.
    Unregistered,
    /// Opening the WebSocket.
    Connecting,
    Registering,
    Registered {
        aor: String,
    },
    Unregistering,
    Failed(String),
    /// The connection was lost; the next attempt goes to `server` at
    /// `at`, attempt number `attempt`.
    Reconnecting {
        server: String,
        attempt: u32,
        at: Instant,
    },
    /// The browser says there is no network: waiting for it to come back.
    Offline,
}

impl RegView {
    /// `data-state` of `#reg-status`.
    pub fn data_state(&self) -> &'static str {
        match self {
            RegView::Unregistered | RegView::Unregistering => "unregistered",
            RegView::Connecting => "connecting",
            RegView::Registering => "registering",
            RegView::Registered { .. } => "registered",
            RegView::Failed(_) => "failed",
            RegView::Reconnecting { .. } => "reconnecting",
            RegView::Offline => "offline",
        }
    }
}

/// Where a call is, as far as the screen is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallPhase {
    /// Outgoing, before the far end rings.
    Calling,
    /// Outgoing, ringing at the far end.
    Ringing,
    /// Incoming, ringing here.
    Incoming,
    /// Incoming, answered, being set up.
    Answering,
    Active,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CallView {
    pub id: CallId,
    pub phase: CallPhase,
    /// Display name, else the user part.
    pub peer_label: String,
    /// The number (user part) or address, shown next to a display name.
    pub peer_number: String,
    /// When the call became active.
    pub active_since: Option<Instant>,
    /// The other party has put the call on hold.
    pub remote_hold: bool,
    /// The connection to the server is down; the call waits for it.
    pub link_down: bool,
    /// We have put the call on hold (the core confirmed it).
    pub local_hold: bool,
    /// Our microphone is muted in this call.
    pub muted: bool,
    /// DTMF digits the other side sent (SIP INFO), oldest first.
    pub dtmf_received: String,
    /// Progress of our transfer of this call, if any.
    pub transfer: Option<TransferView>,
    /// The far end plays its own audio before answering: no local ringback.
    pub early_media: bool,
    /// A ringing call that offers video: it can be answered with the camera.
    pub video_offered: bool,
    /// Our camera was asked for when this call was placed or answered.
    pub camera: bool,
    /// We share our screen in this call.
    pub sharing: bool,
    /// This call is being recorded.
    pub recording: bool,
}

impl CallView {
    pub fn new(id: CallId, phase: CallPhase, peer: &Party) -> CallView {
        let mut view = CallView {
            id,
            phase,
            peer_label: String::new(),
            peer_number: String::new(),
            active_since: None,
            remote_hold: false,
            link_down: false,
            local_hold: false,
            muted: false,
            dtmf_received: String::new(),
            transfer: None,
            early_media: false,
            video_offered: false,
            camera: false,
            sharing: false,
            recording: false,
        };
        view.set_peer(peer);
        view
    }

    pub fn set_peer(&mut self, peer: &Party) {
        let label = peer.label();
        let number = short_uri(&peer.uri);
        self.peer_label = if label.trim().is_empty() {
            number.clone()
        } else {
            label
        };
        self.peer_number = number;
    }

    /// `data-phone` of `#phone` while this call exists.
    pub fn data_phone(&self) -> &'static str {
        match self.phase {
            CallPhase::Calling => "calling",
            CallPhase::Ringing => "ringing",
            CallPhase::Incoming => "incoming",
            CallPhase::Answering | CallPhase::Active => "active",
        }
    }

    /// `data-state` of the call's `li.line`.
    pub fn line_state(&self) -> &'static str {
        match self.phase {
            CallPhase::Calling => "calling",
            CallPhase::Ringing => "ringing",
            CallPhase::Incoming => "incoming",
            CallPhase::Answering => "answering",
            CallPhase::Active if self.local_hold => "held",
            CallPhase::Active => "active",
        }
    }

    /// Established and not held by us: its audio is live.
    pub fn is_live(&self) -> bool {
        self.phase == CallPhase::Active && !self.local_hold
    }
}

/// Where our transfer of a call is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransferView {
    /// A blind transfer to `target` was asked.
    Blind { target: String },
    /// An attended transfer was asked.
    Attended,
    /// The transfer target answered `code` (`reason`): not final yet.
    Progress { code: u16, reason: String },
    /// The transfer ended with `code`: 2xx succeeded.
    Done { code: u16, reason: String },
}

/// What the phone tells the user in the error banner or the notice line:
/// as data; the sentences are made in `app::words`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// A sentence made elsewhere (a settings check, the browser, the page).
    Text(String),
    /// A core warning (a re-INVITE refused, a message that failed…).
    Warning(crate::sip::Warning),
    /// The account cannot change during a call.
    HangUpFirst,
    SettingsSaved,
    /// The core refused the account (`UserAgent::new`).
    BadAccount(crate::sip::ConfigError),
    /// No `RTCPeerConnection`: no calls, messages and presence still work.
    NoWebRtc,
    /// The saved settings could not be read (why); the phone started
    /// without them.
    StoredSettingsUnreadable(String),
    /// "Call" with nothing typed.
    NothingToCall,
    /// [`MAX_LINES`] calls are up.
    LinesFull,
    /// Signed in, but the connection is down right now.
    NotConnectedNow,
    /// Never signed in.
    NotSignedIn,
    NoTransferTarget,
    NeedSecondCall,
    ConferenceNeedsTwo,
    Conference,
    /// A conference is audio only: the cameras and screens of its calls
    /// were turned off (`true`), or one cannot be turned on (`false`).
    ConferenceAudioOnly(bool),
    MixFailed(String),
    /// The connection was lost; reconnecting.
    Lost {
        reason: String,
    },
    /// No server of the list ever answered.
    Unreachable(String),
    /// Registration failed.
    RegistrationFailed(String),
    Transferred,
    TransferFailed {
        code: u16,
        reason: String,
    },
    /// The other party transferred us to `label`.
    TransferredTo(String),
    /// `label` answered our video call without video: sound only.
    AnsweredWithoutVideo(String),
    /// The camera could not be opened (why): the call goes on without it.
    NoCamera(String),
    /// The screen could not be shared (why).
    NoShare(String),
    /// Recording is off in the settings.
    RecordingOff,
    /// A recording could not be made, kept or opened.
    Recording(RecordError),
    /// A call ended; `label` names it when another call stays on screen.
    Ended {
        reason: EndReason,
        label: Option<String>,
    },
    /// `?call=` link: calling once signed in.
    CallingOnceSignedIn(String),
}

impl Notice {
    /// A passing notice goes by itself after a while; one about a state
    /// that lasts (the connection is being re-established, a link waits
    /// for the sign-in, no WebRTC) stays until that changes.
    pub fn fades(&self) -> bool {
        !matches!(
            self,
            Notice::Lost { .. } | Notice::CallingOnceSignedIn(_) | Notice::NoWebRtc
        )
    }
}

/// Why a recording failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordError {
    /// The browser cannot record the call (why): nothing was recorded.
    Recorder(String),
    /// The browser's storage for this page is full: the recording is lost.
    Full,
    /// The recording could not be stored (why): it is lost.
    Storage(String),
    /// The recording is no longer in the browser's storage.
    Missing,
}

/// Everything the screen shows of the phone, as plain data (`Phone::view`).
#[derive(Clone, Debug, PartialEq)]
pub struct PhoneView {
    pub reg: RegView,
    /// Every call in progress, oldest first.
    pub lines: Vec<CallView>,
    /// The call on the main panel.
    pub focus: Option<CallId>,
    /// The lines mixed into a local conference (empty: none).
    pub conference: Vec<CallId>,
    /// Do not disturb.
    pub dnd: bool,
    /// The error banner.
    pub error: Option<Notice>,
    /// The notice line.
    pub notice: Option<Notice>,
    /// The settings form is open.
    pub settings_open: bool,
    /// Calls may be recorded (the settings do not say never): the calls
    /// have a Record button.
    pub may_record: bool,
}

impl PhoneView {
    pub fn new(settings_open: bool, prefs: &crate::app::settings::Settings) -> PhoneView {
        PhoneView {
            reg: RegView::Unregistered,
            lines: Vec::new(),
            focus: None,
            conference: Vec::new(),
            dnd: prefs.dnd,
            error: None,
            notice: None,
            settings_open,
            may_record: prefs.record_calls != crate::app::settings::RecordPolicy::Never,
        }
    }

    pub fn line(&self, id: CallId) -> Option<&CallView> {
        self.lines.iter().find(|c| c.id == id)
    }

    /// The call in focus.
    pub fn focused(&self) -> Option<&CallView> {
        self.focus.and_then(|id| self.line(id))
    }

    /// The call in focus, if it is established.
    pub fn active_focus(&self) -> Option<CallId> {
        self.focused()
            .filter(|c| c.phase == CallPhase::Active)
            .map(|c| c.id)
    }

    /// A call rings here.
    pub fn ringing(&self) -> bool {
        self.lines.iter().any(|c| c.phase == CallPhase::Incoming)
    }

    pub fn is_registered(&self) -> bool {
        matches!(self.reg, RegView::Registered { .. })
    }
}

/// `sip:1000@example.com;transport=ws` -> `1000`; a URI without a user part
/// is shown without `sip:` and parameters.
pub fn short_uri(uri: &str) -> String {
    let u = uri.trim();
    let u = u.strip_prefix('<').unwrap_or(u);
    let u = u.split('>').next().unwrap_or(u);
    let u = u
        .strip_prefix("sips:")
        .or_else(|| u.strip_prefix("sip:"))
        .unwrap_or(u);
    let u = u.split(';').next().unwrap_or(u);
    match u.split_once('@') {
        Some((user, _)) if !user.is_empty() => user.to_string(),
        _ => u.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::testing::party;

    #[test]
    fn reg_states_for_the_page() {
        let all = [
            (RegView::Unregistered, "unregistered"),
            (RegView::Unregistering, "unregistered"),
            (RegView::Connecting, "connecting"),
            (RegView::Registering, "registering"),
            (
                RegView::Registered {
                    aor: "sip:1000@x".into(),
                },
                "registered",
            ),
            (RegView::Failed("401".into()), "failed"),
            (
                RegView::Reconnecting {
                    server: "wss://a".into(),
                    attempt: 2,
                    at: Instant::now(),
                },
                "reconnecting",
            ),
            (RegView::Offline, "offline"),
        ];
        for (view, want) in all {
            assert_eq!(view.data_state(), want, "{view:?}");
        }
    }

    #[test]
    fn a_call_shows_the_display_name_and_the_number() {
        let v = CallView::new(
            CallId(1),
            CallPhase::Incoming,
            &party(Some("Bob"), "sip:1001@example.com;transport=ws"),
        );
        assert_eq!(
            (v.peer_label.as_str(), v.peer_number.as_str()),
            ("Bob", "1001")
        );
        // no display name (or a blank one): the number twice
        let v = CallView::new(
            CallId(2),
            CallPhase::Calling,
            &party(Some("  "), "sip:1002@x"),
        );
        assert_eq!(
            (v.peer_label.as_str(), v.peer_number.as_str()),
            ("1002", "1002")
        );
    }

    #[test]
    fn set_peer_follows_a_transfer() {
        let mut v = CallView::new(CallId(1), CallPhase::Active, &party(None, "sip:1001@x"));
        v.set_peer(&party(Some("Carol"), "sip:1003@x"));
        assert_eq!(
            (v.peer_label.as_str(), v.peer_number.as_str()),
            ("Carol", "1003")
        );
    }

    #[test]
    fn phases_for_the_page_and_the_line_list() {
        let mut v = CallView::new(CallId(1), CallPhase::Calling, &party(None, "sip:1@x"));
        let mut seen = Vec::new();
        for phase in [
            CallPhase::Calling,
            CallPhase::Ringing,
            CallPhase::Incoming,
            CallPhase::Answering,
            CallPhase::Active,
        ] {
            v.phase = phase;
            seen.push((v.data_phone(), v.line_state()));
        }
        assert_eq!(
            seen,
            [
                ("calling", "calling"),
                ("ringing", "ringing"),
                ("incoming", "incoming"),
                ("active", "answering"),
                ("active", "active"),
            ]
        );
        v.local_hold = true;
        assert_eq!((v.data_phone(), v.line_state()), ("active", "held"));
    }

    #[test]
    fn only_an_active_call_we_do_not_hold_is_live() {
        let mut v = CallView::new(CallId(1), CallPhase::Answering, &party(None, "sip:1@x"));
        assert!(!v.is_live());
        v.phase = CallPhase::Active;
        assert!(v.is_live());
        v.local_hold = true;
        assert!(!v.is_live());
        // held by the other side: still ours to hear when they resume
        v.local_hold = false;
        v.remote_hold = true;
        assert!(v.is_live());
    }

    #[test]
    fn short_uri_forms() {
        assert_eq!(short_uri("sip:1000@example.com;transport=ws"), "1000");
        assert_eq!(short_uri(" <sips:alice@example.com>;tag=x "), "alice");
        assert_eq!(short_uri("sip:example.com;lr"), "example.com");
        assert_eq!(short_uri("sip:@example.com"), "@example.com");
        assert_eq!(short_uri("1000"), "1000");
        assert_eq!(short_uri(""), "");
    }
}
