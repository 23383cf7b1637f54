//! The sans-IO SIP user agent.
//!
//! Nothing in this module touches the network, a clock, a timer or the DOM. The
//! driver (in `web/` for the browser, the test harness natively) feeds
//! [`Input`]s with the current time to [`UserAgent::handle_input`] (an
//! [`InputError`] when it refuses one: nothing happened), drains
//! [`Output`]s with [`UserAgent::poll_output`] until it returns `None`, and
//! arms one timer for [`UserAgent::poll_timeout`], feeding [`Input::Timeout`]
//! when it fires.

// The API: the user agent and its types below, and the parser (`message`:
// sip-inspect, the fuzz targets and the tests read SIP with it). `sdp` and
// `auth` stay public for the fuzz harness (`sdp::answer_as_dtls_server`)
// and the test bed's registrar (`auth::verify`, `Credentials`, SDP
// directions); the rest is the core's own.
mod agent;
pub mod auth;
pub(crate) mod call;
mod dialog;
mod errors;
mod event_bodies;
mod im;
pub mod message;
pub(crate) mod reconnect;
pub(crate) mod refer;
mod registration;
mod rng;
pub mod sdp;
mod subscription;
mod timers;
mod transaction;

pub use agent::{TableSizes, UserAgent};
pub use call::{ICE_FAILED, MAX_CALLS};
pub use errors::{BadTarget, CallAction, ConfigError, HoldFailure, InputError, Warning};
pub use registration::MAX_AUTH_ATTEMPTS;
pub use web_time::{Duration, Instant};

use std::fmt;

/// How the user agent reaches its server: SIP over WebSocket (RFC 7118).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Ws,
    Wss,
}

impl Transport {
    /// The transport as written in a Via header (`SIP/2.0/WS`).
    pub fn via_name(self) -> &'static str {
        match self {
            Transport::Ws => "WS",
            Transport::Wss => "WSS",
        }
    }
    /// The `transport=` URI parameter value.
    pub fn uri_param(self) -> &'static str {
        match self {
            Transport::Ws => "ws",
            Transport::Wss => "wss",
        }
    }
    /// `ws://…` gives `Ws`, `wss://…` gives `Wss`, anything else `None`.
    pub fn from_url(url: &str) -> Option<Transport> {
        let lower = url.trim().to_ascii_lowercase();
        if lower.starts_with("wss://") {
            Some(Transport::Wss)
        } else if lower.starts_with("ws://") {
            Some(Transport::Ws)
        } else {
            None
        }
    }
}

/// The account the user agent registers and calls with. Its `Debug` never
/// shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct AccountConfig {
    /// Address of record, e.g. `sip:1000@example.com`.
    pub aor: String,
    /// Digest user name; empty means the user part of `aor`.
    pub auth_user: String,
    pub password: String,
    /// Shown to the called party; may be empty.
    pub display_name: String,
    pub transport: Transport,
    /// Requested registration lifetime in seconds.
    pub register_expires: u32,
    /// `User-Agent` header value.
    pub user_agent: String,
    /// RFC 5626 instance id: a UUID (`8-4-4-4-12` hex) kept by the browser
    /// across reloads, sent as `+sip.instance="<urn:uuid:…>"`. Empty: none.
    pub instance_id: String,
    /// Seconds between CRLF keep-alive pings (RFC 5626 4.4.1); 0: none.
    pub keepalive_secs: u32,
    /// Publish our presence (PUBLISH, RFC 3903) while registered, so that
    /// other phones can show our lamp: available, or on the phone.
    pub publish_presence: bool,
}

impl fmt::Debug for AccountConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountConfig")
            .field("aor", &self.aor)
            .field("auth_user", &self.auth_user)
            .field(
                "password",
                &if self.password.is_empty() { "" } else { "***" },
            )
            .field("display_name", &self.display_name)
            .field("transport", &self.transport)
            .field("register_expires", &self.register_expires)
            .field("user_agent", &self.user_agent)
            .field("instance_id", &self.instance_id)
            .field("keepalive_secs", &self.keepalive_secs)
            .field("publish_presence", &self.publish_presence)
            .finish()
    }
}

impl AccountConfig {
    pub fn new(aor: &str, password: &str, transport: Transport) -> AccountConfig {
        AccountConfig {
            aor: aor.to_string(),
            auth_user: String::new(),
            password: password.to_string(),
            display_name: String::new(),
            transport,
            register_expires: 600,
            user_agent: concat!("rust-softphone/", env!("CARGO_PKG_VERSION")).to_string(),
            instance_id: String::new(),
            keepalive_secs: 30,
            publish_presence: true,
        }
    }
}

/// A call, as the core names it. Stable for the life of the user agent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallId(pub u32);

impl fmt::Display for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "call#{}", self.0)
    }
}

/// Everything that can happen to the user agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// The transport is open: the user agent may send.
    Connected,
    /// The transport closed or failed.
    Disconnected { reason: String },
    /// One SIP message (one WebSocket frame).
    Received(Vec<u8>),
    /// The user asked for something.
    Command(Command),
    /// The browser produced the local SDP asked for by a [`MediaRequest`].
    LocalSdp { call: CallId, sdp: String },
    /// The browser could not do what a [`MediaRequest`] asked (microphone
    /// denied, SDP rejected, ICE failed …). The call ends with this reason.
    MediaFailed { call: CallId, reason: String },
    /// The call's ICE connection failed (`iceConnectionState` "failed"): the
    /// core restarts ICE with a re-INVITE once, then ends the call.
    IceFailed { call: CallId },
    /// The deadline from [`UserAgent::poll_timeout`] has passed.
    Timeout,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Register,
    Unregister,
    /// Call a number, a user name or a full `sip:` URI. The answer is a
    /// [`MediaRequest::CreateOffer`] for the new call, then an INVITE.
    Call {
        target: String,
    },
    /// Answer an incoming call: a [`MediaRequest::CreateAnswer`] follows.
    Answer {
        call: CallId,
    },
    /// End a call in any state: CANCEL before an answer, 486/603 to an
    /// incoming call not yet answered, BYE once established.
    Hangup {
        call: CallId,
    },
    /// The page is going away: hang up every call and unregister (best
    /// effort: whatever can be sent now is sent).
    Shutdown,
    /// Put a call on hold (re-INVITE with a `sendonly` offer, or `inactive`
    /// when the peer holds too) / take it off hold. [`Event::LocalHold`] follows.
    Hold {
        call: CallId,
    },
    Resume {
        call: CallId,
    },
    /// The browser's media of an established call changed (the camera
    /// turned on or off): a re-INVITE with its new offer, now or after the
    /// exchange in progress (whose own new offer may already carry it).
    Renegotiate {
        call: CallId,
    },
    /// Send DTMF digits (`0-9 * # A-D`) in an established call: RFC 4733
    /// through the browser ([`MediaRequest::SendDtmf`]) or SIP INFO
    /// (`application/dtmf-relay`, one INFO per digit, in order).
    SendDtmf {
        call: CallId,
        digits: String,
        method: DtmfMethod,
    },
    /// Blind transfer: REFER the peer of `call` to `target` (a number or
    /// URI, as for [`Command::Call`]). Progress: [`Event::TransferProgress`].
    Transfer {
        call: CallId,
        target: String,
    },
    /// Attended transfer: REFER the peer of `call` to the peer of `consult`
    /// (`Refer-To` with `Replaces` of the consult dialog).
    AttendedTransfer {
        call: CallId,
        consult: CallId,
    },
    /// Send an instant message (SIP MESSAGE, `text/plain`). `id` is the
    /// caller's; the outcome comes as [`Event::MessageStatus`].
    SendMessage {
        id: u32,
        to: String,
        text: String,
    },
    /// Watch `target` (a number or URI) with SUBSCRIBE for `package`,
    /// refreshed until [`Command::Unsubscribe`].
    Subscribe {
        target: String,
        package: EventPackage,
    },
    Unsubscribe {
        target: String,
        package: EventPackage,
    },
    /// Do not disturb: new incoming calls are refused with 486.
    SetDnd {
        on: bool,
    },
    /// The audio codecs this phone takes (SDP names such as `PCMU`, most
    /// wanted first; empty, the default: any). A new incoming INVITE whose
    /// offer has none of them is refused at once with 488 (`Warning: 305`),
    /// without ringing, and [`Warning::IncompatibleOffer`] says so.
    SetAudioCodecs {
        codecs: Vec<String>,
    },
    /// Whether this phone can carry a call's media at all (a browser
    /// without WebRTC cannot). Without media, a new incoming INVITE is
    /// refused with 488 at once, without ringing, and `Call` only gives an
    /// [`Event::Warning`]; registration, messages and presence are
    /// unaffected. On by default.
    SetMediaAvailable {
        available: bool,
    },
}

/// How DTMF digits are sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DtmfMethod {
    /// RFC 4733 telephone-events in the RTP stream (`RTCDTMFSender`).
    Rfc4733,
    /// SIP INFO with `application/dtmf-relay`.
    Info,
}

/// SIP event packages we subscribe to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventPackage {
    /// RFC 3856, PIDF bodies.
    Presence,
    /// RFC 4235, dialog-info bodies (busy/ringing lamps).
    Dialog,
    /// RFC 3842, message waiting (voicemail).
    MessageSummary,
}

impl EventPackage {
    /// The `Event` header token.
    pub fn token(self) -> &'static str {
        match self {
            EventPackage::Presence => "presence",
            EventPackage::Dialog => "dialog",
            EventPackage::MessageSummary => "message-summary",
        }
    }
}

/// What a presence or dialog subscription says about someone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PresenceStatus {
    Available,
    /// In a call (presence "on-the-phone"/busy, or a confirmed dialog).
    Busy,
    /// A call is ringing there (an early dialog).
    Ringing,
    Away,
    Offline,
    Unknown,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Bytes of one SIP message to send on the transport (one frame).
    Send(Vec<u8>),
    Event(Event),
    Media(MediaRequest),
    /// The connection is dead although the socket looks open (a keep-alive
    /// ping got no pong): close it and connect again.
    Reconnect {
        reason: String,
    },
}

/// What the browser must do with media for a call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MediaRequest {
    /// Get the microphone, create a peer connection and an offer; answer
    /// with [`Input::LocalSdp`] or [`Input::MediaFailed`].
    CreateOffer { call: CallId },
    /// Get the microphone, apply the remote offer, create an answer; reply
    /// with [`Input::LocalSdp`] or [`Input::MediaFailed`].
    CreateAnswer { call: CallId, remote_sdp: String },
    /// Apply the remote answer to the call's peer connection; `provisional`
    /// for early media (a 183 with SDP: `pranswer`), the final answer follows.
    SetRemoteAnswer {
        call: CallId,
        sdp: String,
        provisional: bool,
    },
    /// Play DTMF digits into the call's audio (RFC 4733, `RTCDTMFSender`).
    SendDtmf { call: CallId, digits: String },
    /// A new offer on the call's existing peer connection (re-INVITE, or a
    /// 2xx to an offerless re-INVITE), with `iceRestart` when asked; reply
    /// with [`Input::LocalSdp`] or [`Input::MediaFailed`].
    /// `hold`: offer `sendonly` (or `inactive` when the peer holds too);
    /// otherwise `sendrecv`.
    Reoffer {
        call: CallId,
        ice_restart: bool,
        hold: bool,
    },
    /// Apply a new remote offer (re-INVITE or UPDATE from the peer) to the
    /// call's existing peer connection and create an answer; reply with
    /// [`Input::LocalSdp`] or [`Input::MediaFailed`].
    Reanswer { call: CallId, remote_sdp: String },
    /// Our re-offer was refused: roll the peer connection back to the last
    /// agreed session (`setLocalDescription({type: "rollback"})`). No reply.
    Rollback { call: CallId },
    /// Close the call's peer connection and release the microphone.
    Close { call: CallId },
}

/// The other party of a call.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Party {
    pub display_name: Option<String>,
    pub uri: String,
}

impl Party {
    /// The display name if there is one, else the user part (or whole URI).
    pub fn label(&self) -> String {
        if let Some(d) = self
            .display_name
            .as_deref()
            .filter(|d| !d.trim().is_empty())
        {
            return d.to_string();
        }
        let u = self
            .uri
            .trim_start_matches("sips:")
            .trim_start_matches("sip:");
        match u.split_once('@') {
            Some((user, _)) if !user.is_empty() => user.to_string(),
            _ => u.split(';').next().unwrap_or(u).to_string(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    Registration(RegistrationState),
    /// A new incoming call is ringing here. `auto_answer_after`: the caller
    /// asked to be answered automatically after that many seconds
    /// (`Call-Info: …;answer-after=N`, or `Alert-Info` auto-answer as 0).
    /// `replaces`: it replaces that call of ours (RFC 3891, attended
    /// transfer): answer it, the old call ends by itself.
    IncomingCall {
        call: CallId,
        from: Party,
        auto_answer_after: Option<u32>,
        replaces: Option<CallId>,
        /// The offer has a video stream (a video call).
        video: bool,
    },
    /// We put the call on hold / resumed it (the re-INVITE succeeded).
    LocalHold {
        call: CallId,
        on_hold: bool,
    },
    /// A DTMF digit from the other side (SIP INFO).
    DtmfReceived {
        call: CallId,
        digit: char,
    },
    /// The far end plays audio before answering (183 with SDP): no local ringback.
    EarlyMedia {
        call: CallId,
    },
    /// Progress of our REFER for `call` (NOTIFY with a sipfrag): the status
    /// line of the transfer target's answer; `done` at the final one. The
    /// call is hung up by the core after a 2xx.
    TransferProgress {
        call: CallId,
        code: u16,
        reason: String,
        done: bool,
    },
    /// The peer of `call` transferred us (REFER): the core is calling
    /// `target` as `new_call`, and ends `call` once that is answered. Comes
    /// before `new_call`'s first state and its offer.
    Transferred {
        call: CallId,
        target: String,
        new_call: CallId,
    },
    /// An instant message arrived.
    MessageReceived {
        from: Party,
        text: String,
    },
    /// The outcome of [`Command::SendMessage`] `id`.
    MessageStatus {
        id: u32,
        delivered: bool,
        reason: String,
    },
    /// A presence or dialog subscription's news about `target` (the URI as
    /// given to [`Command::Subscribe`]).
    Presence {
        target: String,
        status: PresenceStatus,
        note: Option<String>,
    },
    /// Message waiting indication (RFC 3842).
    Voicemail {
        waiting: bool,
        new: u32,
        old: u32,
    },
    /// A subscription was refused or ended for good; the reason is human.
    SubscriptionFailed {
        target: String,
        package: EventPackage,
        reason: String,
    },
    /// A call changed state.
    CallState {
        call: CallId,
        state: CallState,
    },
    /// The other party put the call on hold (`sendonly`/`inactive` offer)
    /// or resumed it.
    RemoteHold {
        call: CallId,
        on_hold: bool,
    },
    /// Something went wrong that the user may want to know about but that
    /// ended nothing (a malformed message was dropped, …).
    Warning(Warning),
}

impl Event {
    /// The event's kind, for the log (not `Debug`, which would bring the
    /// formatting of everything an event carries into the wasm).
    pub fn name(&self) -> &'static str {
        match self {
            Event::Registration(_) => "registration",
            Event::IncomingCall { .. } => "incoming call",
            Event::LocalHold { .. } => "local hold",
            Event::DtmfReceived { .. } => "DTMF received",
            Event::EarlyMedia { .. } => "early media",
            Event::TransferProgress { .. } => "transfer progress",
            Event::Transferred { .. } => "transferred",
            Event::MessageReceived { .. } => "message received",
            Event::MessageStatus { .. } => "message status",
            Event::Presence { .. } => "presence",
            Event::Voicemail { .. } => "voicemail",
            Event::SubscriptionFailed { .. } => "subscription failed",
            Event::CallState { .. } => "call state",
            Event::RemoteHold { .. } => "remote hold",
            Event::Warning(_) => "warning",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegistrationState {
    Unregistered,
    Registering,
    /// Registered, for `expires` seconds (as granted by the registrar).
    Registered {
        expires: u32,
    },
    Unregistering,
    /// The registrar refused or never answered; the reason is human.
    Failed {
        reason: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallState {
    /// Outgoing: waiting for the local offer, then for the first answer.
    Calling { to: Party },
    /// Outgoing: the callee is ringing (180/183).
    Ringing,
    /// Incoming: the user answered, the answer is being prepared/sent.
    Answering,
    /// The call is established (2xx sent or received).
    Active { peer: Party },
    /// The call is over (`app::words::ended` says why in words).
    Ended(EndReason),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EndReason {
    /// We hung up (BYE, CANCEL, or declined).
    LocalHangup,
    /// The other party hung up.
    RemoteHangup,
    /// The caller gave up before we answered.
    CallerCancelled,
    /// The callee is busy (486, 600).
    Busy,
    /// The callee declined (603).
    Declined,
    /// No such user (404, 604).
    NotFound,
    /// The callee is not reachable right now (480).
    Unavailable,
    /// The call was cancelled elsewhere (487 we did not ask for).
    Cancelled,
    /// The session timer ran out: no refresh from the other side (RFC 4028).
    SessionExpired,
    /// No answer in time (408, timer B, no ACK).
    NoAnswer,
    /// The callee cannot take the session offered (488, 606): none of its
    /// codecs, or no media at all there.
    NotAcceptable,
    /// Authentication for the call failed.
    AuthFailed,
    /// Any other final failure response.
    Failed { code: u16, reason: String },
    /// The microphone or the peer connection failed.
    Media(String),
    /// The connection to the server was lost.
    Network(String),
    /// The call was handed over: we transferred it, we were transferred
    /// and the new call is up, or a new call replaced it (RFC 3891).
    Transferred,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_debug_hides_the_password() {
        let c = AccountConfig::new("sip:1000@example.com", "hunter2-secret", Transport::Wss);
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2-secret"), "{shown}");
        assert!(shown.contains("***") && shown.contains("sip:1000@example.com"));
    }
}
