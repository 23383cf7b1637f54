//! The phone: one sans-IO object above the SIP core, in the shape of the
//! core itself (str0m's `Rtc`, quinn-proto's `Connection`). It owns the
//! [`UserAgent`] of the account and everything the browser driver used to
//! decide: the line rules (focus, holding the other line, conference,
//! auto-answer), reconnection and back-off, the alerts (as data), the
//! notices, the host page's events, and the view model ([`PhoneView`]).
//!
//! How to drive it (`web::driver` is the one driver in the browser; the
//! native tests drive it on a virtual clock):
//! - [`Phone::handle_input`] with the current time for every input: a user
//!   action, a WebSocket event, a WebRTC result, the network, the timer.
//! - then [`Phone::poll_output`] until `None`, and carry out each output
//!   (send bytes, open or close the WebSocket, media requests, tones,
//!   storage, host-page events);
//! - then [`Phone::poll_timeout`]: the one deadline for everything (the
//!   core's timers, the next reconnection attempt, auto-answer); when it
//!   passes, call [`Phone::handle_input`] with [`AppInput::Timeout`];
//! - [`Phone::view`] is what the screen shows, after any input.
//!
//! Every account ("Save and sign in") has a number, and every WebSocket of
//! it another: inputs about an older account's media or an abandoned
//! WebSocket are dropped.

use super::alerts::{Alerts, ToneChanges};
use super::connection::{self, AfterLoss};
use super::contacts::{Contact, RegWatch};
use super::embed::{self as api, ApiEvent};
use super::history::Recording;
use super::history::{Entry, Tracker};
use super::keys::{self, KeyAction};
use super::lines::{self, HoldToggle, IncomingAction, Replaced, Swap};
use super::lists::{Lists, Stored};
use super::messaging::Message;
use super::settings::{self, MediaConfig, Settings};
use super::view::{
    CallPhase, CallView, Notice, PhoneView, RecordError, RegView, TransferView, MAX_LINES,
};
use crate::sip::reconnect::Reconnect;
use crate::sip::Duration;
use crate::sip::{
    CallId, CallState, Command, EndReason, Event, Input, Instant, MediaRequest, Output, Party,
    RegistrationState, UserAgent,
};
use std::collections::VecDeque;

/// How long a passing notice ("The other party hung up.") stays on screen.
pub const NOTICE_FADE: Duration = Duration::from_secs(20);

/// What the user (or the host page, or a key) asks of the phone.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Save the settings and sign in with them (during a call: only the
    /// phone preferences change).
    SignIn(Box<Settings>),
    /// Call a number or a `sip:` address.
    Call(String),
    /// The same with the camera: a video call.
    VideoCall(String),
    /// Turn the camera of the call in focus on or off (a new offer).
    ToggleCamera,
    /// Share the screen in the call in focus (in place of the camera), or
    /// stop sharing it.
    ToggleShare,
    /// Start or stop recording the call in focus.
    ToggleRecord,
    /// Call once signed in (a `sip:`/`tel:` link opened the phone).
    CallWhenSignedIn(String),
    /// Answer the call in focus, else the oldest ringing one.
    Answer,
    /// Answer this line (the live call goes on hold first).
    AnswerLine(CallId),
    /// Answer the ringing call in focus (else the oldest) with the camera.
    AnswerVideo,
    /// Hang up, cancel or decline the call in focus.
    Hangup,
    HangupLine(CallId),
    /// Focus another line: the call in focus goes on hold, the other one
    /// is taken off hold (an incoming one is answered).
    SwapTo(CallId),
    ToggleHold,
    ToggleMute,
    /// DTMF digits in the call in focus, by the method of the settings.
    SendDtmf(String),
    TransferBlind(String),
    /// Connect the peer of the call in focus to the peer of the other line.
    TransferAttended,
    /// Merge the two established lines into a local conference.
    Conference,
    SetDnd(bool),
    /// Any command for the current account (messages, contacts).
    Core(Command),
    /// In the tabs beside the phone (history, messages, contacts).
    Tab(TabAction),
    /// Show an error or a notice made by the page.
    ShowError(Notice),
    ShowNotice(Notice),
    DismissError,
    /// Take the notice line down.
    DismissNotice,
    /// Open or close the settings form.
    ShowSettings(bool),
    /// The page is going away: hang up and sign out, once per account.
    PageHide,
    /// The user is entering a number to call (a digit typed or pressed):
    /// the media of the call is prepared meanwhile, and released if no
    /// call follows within [`PREPARED_FOR`].
    Dialling,
}

/// How long media prepared while dialling waits for the call.
pub const PREPARED_FOR: Duration = Duration::from_secs(15);

impl Action {
    /// The action's kind, for the log (not `Debug`: see [`crate::sip::Event::name`]).
    pub fn name(&self) -> &'static str {
        match self {
            Action::SignIn(_) => "sign in",
            Action::Call(_) => "call",
            Action::VideoCall(_) => "video call",
            Action::ToggleCamera => "toggle camera",
            Action::ToggleShare => "toggle screen sharing",
            Action::ToggleRecord => "toggle recording",
            Action::AnswerVideo => "answer with video",
            Action::CallWhenSignedIn(_) => "call when signed in",
            Action::Answer => "answer",
            Action::AnswerLine(_) => "answer line",
            Action::Hangup => "hang up",
            Action::HangupLine(_) => "hang up line",
            Action::SwapTo(_) => "swap to",
            Action::ToggleHold => "toggle hold",
            Action::ToggleMute => "toggle mute",
            Action::SendDtmf(_) => "send DTMF",
            Action::TransferBlind(_) => "blind transfer",
            Action::TransferAttended => "attended transfer",
            Action::Conference => "conference",
            Action::SetDnd(_) => "do not disturb",
            Action::Core(_) => "core command",
            Action::Tab(_) => "tab",
            Action::ShowError(_) => "show error",
            Action::ShowNotice(_) => "show notice",
            Action::DismissError => "dismiss error",
            Action::DismissNotice => "dismiss notice",
            Action::ShowSettings(_) => "settings",
            Action::PageHide => "page hide",
            Action::Dialling => "dialling",
        }
    }
}

/// Everything that happens to the phone.
#[derive(Clone, Debug, PartialEq)]
pub enum AppInput {
    Action(Action),
    /// WebSocket `conn` is open.
    Opened {
        conn: u64,
    },
    /// Bytes from WebSocket `conn`.
    Received {
        conn: u64,
        bytes: Vec<u8>,
    },
    /// WebSocket `conn` closed after being open.
    Closed {
        conn: u64,
        reason: String,
    },
    /// WebSocket `conn` could not be opened.
    Failed {
        conn: u64,
        reason: String,
    },
    /// A WebRTC result (local SDP, failure, ICE) for a media request of
    /// account `account`.
    Media {
        account: u64,
        input: Input,
    },
    /// The browser's `online`/`offline` events.
    Network {
        online: bool,
    },
    /// The stored lists of `account` ([`AppOutput::Load`]).
    Loaded {
        account: String,
        history: Vec<Entry>,
        messages: Vec<Message>,
        contacts: Vec<Contact>,
    },
    /// The page was hidden (another tab, minimised) or shown again.
    PageHidden(bool),
    /// Mixing a conference failed.
    MixFailed(String),
    /// Screen sharing in `call` (of account `account`) stopped by itself:
    /// the browser's own "stop sharing", or it could not start (why, in
    /// words).
    ShareStopped {
        account: u64,
        call: CallId,
        reason: Option<String>,
    },
    /// The camera of `call` (of account `account`) could not be opened
    /// (why, in words): the call goes on without it.
    CameraFailed {
        account: u64,
        call: CallId,
        reason: String,
    },
    /// Recording `id` is stored: its size, and whether it has a picture.
    RecordingSaved {
        id: String,
        bytes: u64,
        video: bool,
    },
    /// Recording `id` failed (not made, not kept, or not found to play).
    RecordingFailed {
        id: String,
        error: RecordError,
    },
    /// Recording `id` is ready to play at `url` ([`AppOutput::PlayRecording`]).
    RecordingOpened {
        id: String,
        url: String,
        video: bool,
    },
    /// The settings could not be stored.
    SaveFailed(String),
    /// [`Phone::poll_timeout`] has passed.
    Timeout,
}

/// What the phone asks of the browser.
#[derive(Clone, Debug, PartialEq)]
pub enum AppOutput {
    /// Open WebSocket number `conn` to `url` (closing any other).
    Connect {
        conn: u64,
        url: String,
    },
    /// Close the WebSocket.
    Disconnect,
    /// Bytes for the open WebSocket.
    Send(Vec<u8>),
    /// A WebRTC request of account `account` (results come back as
    /// [`AppInput::Media`] with that number).
    Media {
        account: u64,
        request: MediaRequest,
        /// A new call's offer or answer: with the camera too.
        camera: bool,
    },
    /// How new peer connections are made.
    ConfigureMedia(MediaConfig),
    /// Close every peer connection (a new account), and any prepared media.
    CloseAllMedia,
    /// Open the microphone and make an offer for the next outgoing call
    /// now (the user is dialling); its `CreateOffer` takes it.
    PrepareMedia,
    /// Release the prepared media if no call took it.
    ReleaseMedia,
    /// Mix these calls into one conference (empty: end it).
    Mix(Vec<CallId>),
    SetMuted {
        call: CallId,
        muted: bool,
    },
    /// Turn the camera of `call` (of account `account`) on or off; the
    /// browser then asks the core for a new offer (`Command::Renegotiate`,
    /// as [`AppInput::Media`] of that account).
    Camera {
        account: u64,
        call: CallId,
        on: bool,
    },
    /// Share the screen in `call` (of account `account`) or stop; the
    /// browser asks for a new offer when the video stream must change
    /// (as for [`AppOutput::Camera`]).
    Share {
        account: u64,
        call: CallId,
        on: bool,
    },
    /// Start recording `call` as recording `id` (both sides mixed, and
    /// the picture when the call has one), or stop (`None`: the browser
    /// then stores it and answers [`AppInput::RecordingSaved`] or
    /// [`AppInput::RecordingFailed`]). A call that closes stops its
    /// recording the same way.
    Record {
        call: CallId,
        id: Option<String>,
    },
    /// Open stored recording `id` for playing ([`AppInput::RecordingOpened`]).
    PlayRecording {
        id: String,
    },
    /// Save stored recording `id` as a file named `name` (the browser adds
    /// the extension of its format).
    DownloadRecording {
        id: String,
        name: String,
    },
    /// Delete these stored recordings.
    DeleteRecordings(Vec<String>),
    /// An address made for playing is no longer needed.
    ReleaseUrl(String),
    /// Tones to switch on or off.
    Tones(ToneChanges),
    /// The call ringing here and its caller's name, for the tab title and
    /// a desktop notification (not for an embedded phone: those are the
    /// host page's); `None`: nothing rings.
    Attention(Option<(CallId, String)>),
    /// Ask for the permission to show notifications.
    AskNotificationPermission,
    /// Store these settings.
    Save(Settings),
    /// Store the do-not-disturb choice with the settings.
    SaveDnd(bool),
    /// Load the stored lists of `account` (answer with [`AppInput::Loaded`]).
    Load {
        account: String,
    },
    /// Store one list of `account` (the other accounts' lists stay).
    Store {
        account: String,
        lists: Stored,
    },
    /// An event for the host page (`<sip-phone>`).
    Host(ApiEvent),
}

/// How a phone starts.
#[derive(Clone, Debug)]
pub struct PhoneConfig {
    /// Embedded in a host page: the title and notifications are the host's.
    pub embedded: bool,
    /// The browser has WebRTC.
    pub webrtc: bool,
    /// The settings last saved.
    pub prefs: Settings,
    /// Saved settings were there but could not be read (why): the phone
    /// starts without them and says so.
    pub stored_unreadable: Option<String>,
    /// This browser's `+sip.instance` id.
    pub instance_id: String,
    /// The settings form is open at start.
    pub settings_open: bool,
    /// Seed of the phone's random numbers (Call-IDs, tags, back-off jitter).
    pub seed: u64,
    /// Milliseconds since the epoch at the `now` the phone starts with:
    /// the times of the history and the messages are counted from it.
    pub wall_ms: f64,
}

/// The lists of the tabs: not asked for yet, asked for, or shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ListsState {
    None,
    Loading,
    Shown,
}

/// The WebSocket of the account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Socket {
    None,
    Opening(u64),
    Open(u64),
}

impl Socket {
    fn id(self) -> Option<u64> {
        match self {
            Socket::None => None,
            Socket::Opening(c) | Socket::Open(c) => Some(c),
        }
    }
}

pub struct Phone {
    embedded: bool,
    /// The offer or answer the core asks for next is a video call's (set
    /// only around a video call's or video answer's command).
    camera_next: bool,
    /// The call the other party transferred us to from a call with our
    /// camera on: its offer is a video call's too.
    camera_transfer: Option<CallId>,
    webrtc: bool,
    instance_id: String,
    rng: u64,
    now: Instant,
    /// Number of the current account.
    account: u64,
    agent: Option<UserAgent>,
    /// Number of the last WebSocket asked for.
    conn: u64,
    socket: Socket,
    /// A WebSocket of this account has been open: a lost connection is
    /// then retried for ever.
    ever_connected: bool,
    reconnect: Option<Reconnect>,
    retry_at: Option<Instant>,
    /// The browser's `navigator.onLine`, as its events said.
    online: bool,
    aor: String,
    /// The settings last saved (DTMF method, auto-answer, DND…). Never
    /// logged: it holds the password.
    prefs: Settings,
    auto_answer: Option<(CallId, Instant)>,
    /// The alerts as last given out.
    alerts: Alerts,
    /// The account signed out because the page is going away.
    signed_out: Option<u64>,
    /// When the notice on screen goes by itself.
    notice_until: Option<Instant>,
    /// The notice shown when the connection was lost: taken down when the
    /// phone is registered again, unless another notice replaced it.
    lost_notice: Option<Notice>,
    /// A link to call once signed in.
    call_when_registered: Option<String>,
    /// Media prepared for a call being dialled, released at this time.
    prepared_until: Option<Instant>,
    /// The registration as last told to the host page.
    host_reg: Option<(&'static str, Option<String>)>,
    view: PhoneView,
    /// The tabs' lists, and a number that changes with them.
    lists: Lists,
    lists_version: u64,
    lists_state: ListsState,
    /// Follows the calls for the history.
    tracker: Tracker,
    /// The recordings of the calls in progress (the history takes them
    /// when the call ends).
    recordings: litemap::LiteMap<CallId, Vec<Recording>>,
    /// When to subscribe to the contacts' presence again.
    watch: RegWatch,
    /// The highest message id used.
    last_message_id: u32,
    /// The page is hidden (a received message counts as unread).
    hidden: bool,
    /// A time and the wall clock at it (ms since the epoch).
    wall: (Instant, f64),
    out: VecDeque<AppOutput>,
}

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Phone {
    pub fn new(config: PhoneConfig, now: Instant) -> Phone {
        let mut phone = Phone {
            embedded: config.embedded,
            webrtc: config.webrtc,
            instance_id: config.instance_id,
            rng: config.seed,
            now,
            account: 0,
            agent: None,
            conn: 0,
            socket: Socket::None,
            ever_connected: false,
            reconnect: None,
            retry_at: None,
            // `navigator.onLine` is not trusted at start: it is false on
            // machines whose only network is loopback, where a local PBX
            // works fine; only the `offline`/`online` events count
            online: true,
            aor: String::new(),
            view: PhoneView::new(config.settings_open, &config.prefs),
            prefs: config.prefs,
            auto_answer: None,
            alerts: Alerts::default(),
            signed_out: None,
            notice_until: None,
            lost_notice: None,
            call_when_registered: None,
            prepared_until: None,
            camera_next: false,
            camera_transfer: None,
            host_reg: None,
            lists: Lists::default(),
            lists_version: 0,
            lists_state: ListsState::None,
            tracker: Tracker::new(),
            recordings: litemap::LiteMap::new(),
            watch: RegWatch::default(),
            last_message_id: 0,
            hidden: false,
            wall: (now, config.wall_ms),
            out: VecDeque::new(),
        };
        phone.tell_host_registration();
        phone.switch_lists();
        if !phone.webrtc {
            phone.show_error(Notice::NoWebRtc);
        }
        if let Some(why) = config.stored_unreadable {
            crate::log::warn!("the saved settings cannot be read, not used: {why}");
            phone.show_error(Notice::StoredSettingsUnreadable(why));
        }
        phone
    }

    /// What the screen shows.
    pub fn view(&self) -> &PhoneView {
        &self.view
    }

    /// An account is set up (signed in, or trying to).
    pub fn has_account(&self) -> bool {
        self.agent.is_some()
    }

    /// Number of the current account (tags media requests and results).
    pub fn account(&self) -> u64 {
        self.account
    }

    /// The next output to carry out. Call after every
    /// [`Phone::handle_input`] until it returns `None`.
    pub fn poll_output(&mut self) -> Option<AppOutput> {
        self.out.pop_front()
    }

    /// When to call [`Phone::handle_input`] with [`AppInput::Timeout`]
    /// next: the earliest of the core's timers, the next reconnection
    /// attempt, an auto-answer countdown, a passing notice and the release
    /// of media prepared while dialling. Ask again after every input.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.agent.as_ref().and_then(UserAgent::poll_timeout),
            self.retry_at,
            self.auto_answer.map(|(_, at)| at),
            self.notice_until,
            self.prepared_until,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// What a key press outside text fields asks (None: not a key of ours).
    pub fn key_action(&self, key: &str, on_control: bool) -> Option<Action> {
        let action = keys::action(key, on_control, self.view.focused(), self.view.ringing())?;
        Some(match action {
            KeyAction::Answer => Action::Answer,
            KeyAction::HangUp => Action::Hangup,
            KeyAction::ToggleHold => Action::ToggleHold,
            KeyAction::ToggleMute => Action::ToggleMute,
            KeyAction::Dtmf(d) => Action::SendDtmf(d.to_string()),
        })
    }

    pub fn handle_input(&mut self, now: Instant, input: AppInput) {
        self.now = self.now.max(now);
        match input {
            AppInput::Action(action) => self.act(action),
            AppInput::Opened { conn } => self.on_open(conn),
            AppInput::Received { conn, bytes } => {
                if self.socket == Socket::Open(conn) {
                    self.feed(Input::Received(bytes));
                }
            }
            AppInput::Closed { conn, reason } => self.on_lost(conn, reason, true),
            AppInput::Failed { conn, reason } => self.on_lost(conn, reason, false),
            AppInput::Media { account, input } => {
                if account == self.account {
                    self.feed(input);
                }
            }
            AppInput::Network { online } => self.on_network(online),
            AppInput::ShareStopped {
                account,
                call,
                reason,
            } => self.video_stopped(
                account,
                call,
                |c| &mut c.sharing,
                reason.map(Notice::NoShare),
            ),
            AppInput::CameraFailed {
                account,
                call,
                reason,
            } => self.video_stopped(
                account,
                call,
                |c| &mut c.camera,
                Some(Notice::NoCamera(reason)),
            ),
            AppInput::MixFailed(e) => {
                self.view.conference.clear();
                if matches!(
                    self.view.notice,
                    Some(Notice::Conference | Notice::ConferenceAudioOnly(true))
                ) {
                    self.view.notice = None;
                }
                self.show_error(Notice::MixFailed(e));
            }
            AppInput::RecordingSaved { id, bytes, video } => {
                self.recording_saved(&id, bytes, video)
            }
            AppInput::RecordingFailed { id, error } => self.recording_failed(&id, error),
            AppInput::RecordingOpened { id, url, video } => self.recording_opened(id, url, video),
            AppInput::SaveFailed(e) => self.show_error(Notice::Text(e)),
            AppInput::Loaded {
                account,
                history,
                messages,
                contacts,
            } => self.loaded(account, history, messages, contacts),
            AppInput::PageHidden(hidden) => self.hidden = hidden,
            AppInput::Timeout => self.on_timeout(),
        }
    }

    // ------------------------------------------------------------ the core

    /// One input to the user agent, then its outputs (events handled here,
    /// the rest given out in order). Commands from event handlers go to
    /// the agent's queue and are drained by the same loop.
    fn feed(&mut self, input: Input) {
        let now = self.now;
        let Some(agent) = self.agent.as_mut() else {
            return;
        };
        if let Err(e) = agent.handle_input(now, input) {
            // nothing happened; the phone goes on
            crate::log::warn!("the user agent refused an input: {e}");
        }
        self.drain();
    }

    fn command(&mut self, cmd: Command) {
        self.feed(Input::Command(cmd));
    }

    /// The browser stopped a video source of `call` (of account
    /// `account`): its flag (`flag`) goes off, and `notice` says why.
    fn video_stopped(
        &mut self,
        account: u64,
        call: CallId,
        flag: fn(&mut CallView) -> &mut bool,
        notice: Option<Notice>,
    ) {
        if account != self.account || self.view.line(call).is_none() {
            return;
        }
        self.set_video_flag(call, flag, false);
        if let Some(n) = notice {
            self.show_notice(n);
        }
    }

    /// Set a video flag (`flag`: the camera or the screen) of `call`, and
    /// tell the host page (`video`).
    fn set_video_flag(&mut self, call: CallId, flag: fn(&mut CallView) -> &mut bool, on: bool) {
        if let Some(c) = self.line_mut(call) {
            *flag(c) = on;
            let event = api::video_event(call, c.camera, c.sharing);
            self.out.push_back(AppOutput::Host(event));
        }
    }

    /// Whether `request` is the offer or answer of a call placed or
    /// answered with the camera (marked on its line); tells the user when
    /// the answer to such a call has no video.
    fn camera_for(&mut self, request: &MediaRequest) -> bool {
        match request {
            MediaRequest::CreateOffer { call } | MediaRequest::CreateAnswer { call, .. } => {
                self.set_video_flag(*call, |c| &mut c.camera, true);
                true
            }
            _ => false,
        }
    }

    /// Whether `request` is the offer of the call we were transferred to
    /// from a call with the camera on (and forget that call then).
    fn takes_transfer_camera(&mut self, request: &MediaRequest) -> bool {
        match (request, self.camera_transfer) {
            (MediaRequest::CreateOffer { call }, Some(c)) if *call == c => {
                self.camera_transfer = None;
                true
            }
            _ => false,
        }
    }

    /// A final answer without video to a call we placed with the camera.
    fn check_video_answer(&mut self, request: &MediaRequest) {
        if let MediaRequest::SetRemoteAnswer {
            call,
            sdp,
            provisional: false,
        } = request
        {
            let label = self
                .view
                .line(*call)
                .filter(|c| c.camera)
                .map(|c| c.peer_label.clone());
            if let Some(label) = label.filter(|_| !crate::sip::sdp::has_video(sdp)) {
                crate::log::info!("{call}: answered without video");
                self.set_video_flag(*call, |c| &mut c.camera, false);
                self.show_notice(Notice::AnsweredWithoutVideo(label));
            }
        }
    }

    fn drain(&mut self) {
        while let Some(output) = self.agent.as_mut().and_then(UserAgent::poll_output) {
            match output {
                Output::Send(bytes) => self.out.push_back(AppOutput::Send(bytes)),
                Output::Media(request) => {
                    let camera = (self.camera_next || self.takes_transfer_camera(&request))
                        && self.camera_for(&request);
                    self.check_video_answer(&request);
                    self.out.push_back(AppOutput::Media {
                        account: self.account,
                        request,
                        camera,
                    })
                }
                Output::Event(event) => self.on_event(event),
                Output::Reconnect { reason } => {
                    // the socket looks open but is dead: drop it, start over
                    if let Some(conn) = self.socket.id() {
                        self.on_lost(conn, reason, true);
                    }
                }
            }
        }
    }

    fn on_timeout(&mut self) {
        let now = self.now;
        if self.notice_until.is_some_and(|at| at <= now) {
            self.notice_until = None;
            self.view.notice = None;
        }
        if self.retry_at.is_some_and(|at| at <= now) {
            self.retry_at = None;
            self.open_connection();
        }
        if self.prepared_until.is_some_and(|at| at <= now) {
            self.release_prepared();
        }
        if let Some((call, at)) = self.auto_answer {
            if at <= now {
                self.auto_answer = None;
                self.answer_replacing(call, None);
            }
        }
        let due = self
            .agent
            .as_ref()
            .and_then(UserAgent::poll_timeout)
            .is_some_and(|at| at <= now);
        if due {
            self.feed(Input::Timeout);
        }
    }

    fn next_seed(&mut self) -> u64 {
        splitmix(&mut self.rng)
    }

    // --------------------------------------------------------- the screen

    fn show_error(&mut self, n: Notice) {
        if self.view.error.as_ref() != Some(&n) {
            let text = n.text();
            if !text.is_empty() {
                self.out
                    .push_back(AppOutput::Host(api::error_event(&text, false)));
            }
        }
        self.view.error = Some(n);
    }

    /// Show a notice; one that [`Notice::fades`] goes after [`NOTICE_FADE`].
    fn show_notice(&mut self, n: Notice) {
        self.notice_until = n.fades().then(|| self.now + NOTICE_FADE);
        self.view.notice = Some(n);
    }

    fn clear_messages(&mut self) {
        self.view.error = None;
        self.view.notice = None;
    }

    fn set_reg(&mut self, reg: RegView) {
        self.view.reg = reg;
        self.tell_host_registration();
    }

    /// A `registration` event for the host page when the state (or the
    /// reason of a failure) changed.
    fn tell_host_registration(&mut self) {
        let r = &self.view.reg;
        let reason = match r {
            RegView::Failed(reason) => Some(reason.clone()),
            _ => None,
        };
        let key = (r.data_state(), reason);
        if self.host_reg.as_ref() == Some(&key) {
            return;
        }
        let aor = match r {
            RegView::Registered { aor } => Some(aor.as_str()),
            _ => None,
        };
        let event = api::registration_event(key.0, aor, key.1.as_deref());
        self.out.push_back(AppOutput::Host(event));
        self.host_reg = Some(key);
    }

    fn line_mut(&mut self, id: CallId) -> Option<&mut CallView> {
        self.view.lines.iter_mut().find(|c| c.id == id)
    }

    fn update_line(&mut self, id: CallId, f: impl FnOnce(&mut CallView)) {
        if let Some(c) = self.line_mut(id) {
            f(c);
        }
    }

    /// Add a line (replacing one with the same id), focused or not.
    fn add_line(&mut self, view: CallView, focus: bool) {
        let id = view.id;
        match self.line_mut(id) {
            Some(old) => *old = view,
            None => self.view.lines.push(view),
        }
        if focus || self.view.focus.is_none() {
            self.view.focus = Some(id);
        }
    }

    /// Remove a line; the focus goes to the newest line left, if any.
    fn remove_line(&mut self, id: CallId) {
        self.view.lines.retain(|c| c.id != id);
        if self.view.focus == Some(id) {
            self.view.focus = self.view.lines.last().map(|c| c.id);
        }
        self.view.conference.retain(|x| *x != id);
    }

    fn set_focus(&mut self, id: CallId) {
        if self.view.line(id).is_some() {
            self.view.focus = Some(id);
        }
    }

    fn in_call(&self) -> bool {
        !self.view.lines.is_empty()
    }

    /// The tones, the tab title and the notification after any change of
    /// the lines.
    fn refresh_alerts(&mut self) {
        let now = Alerts::of(&self.view.lines, self.view.focused());
        let changes = now.tone_changes(&self.alerts);
        if changes.any() {
            self.out.push_back(AppOutput::Tones(changes));
        }
        if !self.embedded {
            self.out
                .push_back(AppOutput::Attention(now.incoming.clone()));
        }
        self.alerts = now;
    }
}

mod actions;
mod events;
mod link;
mod record;
mod tabs;

pub use record::RecordingAction;
pub use tabs::TabAction;
#[cfg(test)]
mod tests;
