//! What the core reports as data rather than sentences: the warnings of
//! [`Event::Warning`](super::Event::Warning), the errors of
//! [`UserAgent::new`](super::UserAgent::new) and
//! [`UserAgent::handle_input`](super::UserAgent::handle_input). The phone's
//! words for them are made in `app::words`.

use super::{CallId, Party};
use std::fmt;

/// Something went wrong that the user may want to know about but that
/// ended nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Warning {
    /// [`Command::Call`](super::Command::Call) on a phone without media
    /// (no WebRTC, see `Command::SetMediaAvailable`).
    NoMedia,
    /// What was typed for a call or a transfer cannot be called.
    BadTarget(BadTarget),
    /// An attended transfer whose two calls are not both established.
    AttendedTransferNeedsTwoCalls { call: CallId, consult: CallId },
    /// A malformed message from the server was dropped (its details are in
    /// the log only: they may quote text the sender chose).
    MalformedMessage,
    /// `call` is not established: `action` cannot be done now.
    NotEstablished { call: CallId, action: CallAction },
    /// Hold (`hold`) or resume (`!hold`) did not happen.
    HoldFailed {
        call: CallId,
        hold: bool,
        cause: HoldFailure,
    },
    /// A key of `SendDtmf` is not a DTMF key: nothing was sent.
    NotADtmfKey { call: CallId, key: char },
    /// The peer refused our INFO for a key press with `code` (`reason`);
    /// `dropped` more queued keys were not sent.
    DtmfRefused {
        call: CallId,
        code: u16,
        reason: String,
        dropped: usize,
    },
    /// A transfer of `call` was asked while one is in progress.
    TransferInProgress { call: CallId },
    /// A call from `from` was refused (488) without ringing: its offer has
    /// none of the audio codecs of `Command::SetAudioCodecs`; it offered
    /// these voice codecs.
    IncompatibleOffer { from: Party, offered: Vec<String> },
}

/// What needs an established call (see [`Warning::NotEstablished`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallAction {
    /// Hold or resume.
    Hold,
    Dtmf,
    Transfer,
    /// The camera on or off (a new offer).
    Camera,
    /// Recording the call (the phone's own rule).
    Record,
}

/// Why hold or resume did not happen (see [`Warning::HoldFailed`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HoldFailure {
    /// The 2xx to our re-INVITE had no SDP.
    NoSdpInAnswer,
    /// The peer answered our re-INVITE with this code.
    Refused(u16),
    /// The browser could not make the new offer (its reason).
    Media(String),
}

/// Why what the user typed cannot be called (`call::target_uri`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BadTarget {
    Empty,
    /// It contains control characters.
    ControlCharacters,
    /// It is not a number or a SIP address (the trimmed input).
    NotCallable(String),
}

/// Messages and subscriptions report a bad target in their `reason`
/// strings, so this one keeps its sentence here.
impl fmt::Display for BadTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BadTarget::Empty => f.write_str("Enter a number or a SIP address to call."),
            BadTarget::ControlCharacters => {
                f.write_str("The number or address contains characters that cannot be called.")
            }
            BadTarget::NotCallable(t) => write!(
                f,
                "\"{t}\" is not a number or SIP address that can be called."
            ),
        }
    }
}

impl std::error::Error for BadTarget {}

/// Why an [`AccountConfig`](super::AccountConfig) cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// The address of record does not parse (`reason`: the parser's).
    InvalidAddress { aor: String, reason: String },
    /// The address of record has no user part.
    NoUser { aor: String },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::InvalidAddress { aor, reason } => {
                write!(f, "invalid SIP address {aor:?}: {reason}")
            }
            ConfigError::NoUser { aor } => write!(f, "SIP address {aor:?} without a user part"),
        }
    }
}

impl std::error::Error for ConfigError {}
/// An input the user agent refused: nothing happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InputError {
    /// The input names a call the agent does not know (never was, or
    /// ended and forgotten).
    UnknownCall(CallId),
    /// `Command::Answer` for a call that is not ringing here.
    NotRinging(CallId),
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputError::UnknownCall(c) => write!(f, "unknown call {c}"),
            InputError::NotRinging(c) => write!(f, "{c} is not ringing: nothing to answer"),
        }
    }
}

impl std::error::Error for InputError {}
