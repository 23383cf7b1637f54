//! The phone's sentences, in one place: what the screen shows for a
//! [`Notice`] or a [`TransferView`], and what the host page's `error`
//! events say. The models above hold data; only this file makes words of it.

use super::lists::Tab;
use super::view::{short_uri, Notice, RecordError, TransferView};
use crate::sip::{CallAction, ConfigError, EndReason, HoldFailure, Warning};

/// Control characters out, at most 80 characters: the text comes from the
/// network.
fn clean(reason: &str) -> String {
    reason
        .chars()
        .filter(|c| !c.is_control())
        .take(80)
        .collect()
}

impl TransferView {
    pub fn text(&self) -> String {
        match self {
            TransferView::Blind { target } => format!("Transferring to {target}…"),
            TransferView::Attended => "Transferring…".into(),
            TransferView::Progress { code, reason } => {
                format!("Transfer: {code} {}", clean(reason))
            }
            TransferView::Done { code, reason } if (200..300).contains(code) => {
                format!("Transferred ({code} {})", clean(reason))
            }
            TransferView::Done { code, reason } => {
                format!("The transfer failed: {code} {}", clean(reason))
            }
        }
    }
}

impl Notice {
    pub fn text(&self) -> String {
        match self {
            Notice::Text(t) => t.clone(),
            Notice::Warning(w) => w.text(),
            Notice::HangUpFirst => "Hang up before changing the account.".into(),
            Notice::SettingsSaved => "Settings saved.".into(),
            Notice::BadAccount(e) => format!("These settings cannot be used: {}", e.text()),
            Notice::NoWebRtc => "This browser cannot make or take calls: it has no WebRTC \
                 (RTCPeerConnection). You can still sign in for messages and presence; \
                 incoming calls are declined."
                .into(),
            Notice::StoredSettingsUnreadable(why) => format!(
                "The saved settings could not be read ({why}), so the phone started without \
                 them: fill in the account settings again."
            ),
            Notice::NothingToCall => "Enter a number or a sip: address to call.".into(),
            Notice::LinesFull => "Two calls are up already: hang up one of them first.".into(),
            Notice::NotConnectedNow => {
                "Not connected to the server right now: wait until the phone is online again."
                    .into()
            }
            Notice::NotSignedIn => "You are not connected: fill in the account settings and \
                 press \"Save and sign in\"."
                .into(),
            Notice::NoTransferTarget => {
                "Enter the number or address to transfer the call to.".into()
            }
            Notice::NeedSecondCall => {
                "An attended transfer needs a second call: add a call first.".into()
            }
            Notice::ConferenceNeedsTwo => "A conference needs two connected calls.".into(),
            Notice::Conference => "Conference: everyone hears everyone.".into(),
            Notice::ConferenceAudioOnly(true) => {
                "Conference: everyone hears everyone. A conference is audio only: \
                 your camera and screen sharing are off."
                    .into()
            }
            Notice::ConferenceAudioOnly(false) => {
                "A conference is audio only: the camera and screen sharing stay off.".into()
            }
            Notice::MixFailed(e) => format!("The calls could not be merged: {e}"),
            Notice::Lost { reason } => {
                format!("Lost the connection to the server ({reason}). Reconnecting…")
            }
            Notice::Unreachable(reason) | Notice::RegistrationFailed(reason) => reason.clone(),
            Notice::Transferred => "The call was transferred.".into(),
            Notice::TransferFailed { code, reason } => TransferView::Done {
                code: *code,
                reason: reason.clone(),
            }
            .text(),
            Notice::TransferredTo(target) => {
                format!("The other party transferred you to {}.", short_uri(target))
            }
            Notice::NoShare(why) => format!("The screen could not be shared ({why})."),
            Notice::RecordingOff => {
                "Recording is off: turn it on in the settings (Record calls).".into()
            }
            Notice::Recording(e) => match e {
                RecordError::Recorder(why) => {
                    format!("This call cannot be recorded here ({why}).")
                }
                RecordError::Full => "The recording could not be kept: the browser's storage \
                     for this page is full. Delete old recordings in History."
                    .into(),
                RecordError::Storage(why) => {
                    format!("The recording could not be kept ({why}).")
                }
                RecordError::Missing => {
                    "That recording is no longer stored in this browser.".into()
                }
            },
            Notice::NoCamera(why) => {
                format!("The camera could not be used ({why}): the call goes on without it.")
            }
            Notice::AnsweredWithoutVideo(label) => {
                format!("{label} answered without video: the call has sound only.")
            }
            Notice::Ended { reason, label } => {
                let text = ended(reason);
                match label {
                    Some(label) => format!("{label}: {text}"),
                    None => text,
                }
            }
            Notice::CallingOnceSignedIn(target) => format!("Calling {target} once signed in…"),
        }
    }
}

impl Tab {
    pub fn title(self) -> &'static str {
        match self {
            Tab::Phone => "Phone",
            Tab::History => "History",
            Tab::Contacts => "Contacts",
            Tab::Messages => "Messages",
        }
    }
}

impl crate::app::quality::Grade {
    pub fn text(self) -> &'static str {
        match self {
            crate::app::quality::Grade::Good => "good",
            crate::app::quality::Grade::Fair => "fair",
            crate::app::quality::Grade::Poor => "poor",
        }
    }
}

/// Why a call ended, in a sentence.
pub fn ended(reason: &EndReason) -> String {
    match reason {
        EndReason::LocalHangup => "Call ended.".into(),
        EndReason::RemoteHangup => "The other party hung up.".into(),
        EndReason::CallerCancelled => "Missed call: the caller hung up.".into(),
        EndReason::Busy => "The person you called is busy.".into(),
        EndReason::Declined => "The call was declined.".into(),
        EndReason::NotFound => "The number you called does not exist.".into(),
        EndReason::Unavailable => {
            "The person you called is not available right now (not online).".into()
        }
        EndReason::Cancelled => "The call was cancelled.".into(),
        EndReason::SessionExpired => {
            "The call was lost: the other side stopped confirming it (session timer).".into()
        }
        EndReason::NoAnswer => "No answer.".into(),
        EndReason::NotAcceptable => "The other phone cannot take this call's audio: it has none of \
                                     the audio codecs offered, or no WebRTC. Check the audio codecs \
                                     in the settings."
            .into(),
        EndReason::AuthFailed => {
            "The server refused the call: check the user name and password.".into()
        }
        EndReason::Failed { code, reason } => format!("The call failed: {code} {reason}."),
        EndReason::Media(r) => format!("Audio problem: {r}"),
        EndReason::Network(r) => format!("Connection lost: {r}"),
        EndReason::Transferred => "Call transferred.".into(),
    }
}

impl Warning {
    /// The core's warning in a sentence.
    pub fn text(&self) -> String {
        match self {
            Warning::NoMedia => {
                "This browser cannot make calls: it has no WebRTC (RTCPeerConnection).".into()
            }
            Warning::BadTarget(bad) => bad.to_string(),
            Warning::AttendedTransferNeedsTwoCalls { .. } => {
                "Attended transfer needs two established calls.".into()
            }
            Warning::MalformedMessage => {
                "Ignored a malformed message from the server (details in the browser console)."
                    .into()
            }
            Warning::NotEstablished { action, .. } => match action {
                CallAction::Hold => "Only an established call can be put on hold or resumed.",
                CallAction::Dtmf => "Keys (DTMF) can only be sent during an established call.",
                CallAction::Transfer => "Only an established call can be transferred.",
                CallAction::Camera => {
                    "The camera and screen sharing work only in an established call."
                }
                CallAction::Record => "Only an established call can be recorded.",
            }
            .into(),
            Warning::HoldFailed { hold, cause, .. } => {
                let why = match cause {
                    HoldFailure::NoSdpInAnswer => "the answer had no audio description".into(),
                    HoldFailure::Refused(code) => format!("the other side answered {code}"),
                    HoldFailure::Media(reason) => reason.clone(),
                };
                if *hold {
                    format!("Could not put the call on hold ({why}): it goes on as before.")
                } else {
                    format!("Could not take the call off hold ({why}): it stays on hold.")
                }
            }
            Warning::NotADtmfKey { key, .. } => {
                let shown: String = key.escape_default().collect();
                format!("\"{shown}\" is not a phone key (0-9, *, #, A-D): nothing was sent.")
            }
            Warning::DtmfRefused {
                code,
                reason,
                dropped,
                ..
            } => format!(
                "The other side refused a key press ({code} {reason}){}.",
                if *dropped > 0 {
                    format!("; {dropped} more not sent")
                } else {
                    String::new()
                }
            ),
            Warning::TransferInProgress { .. } => {
                "A transfer of this call is already in progress.".into()
            }
            Warning::IncompatibleOffer { from, offered } => format!(
                "A call from {} was refused: it offers none of the audio codecs of your \
                 settings (it offers {}).",
                from.label(),
                if offered.is_empty() {
                    "none".to_string()
                } else {
                    offered.join(", ")
                }
            ),
        }
    }
}

impl ConfigError {
    /// Why the account cannot be used, in a sentence.
    pub fn text(&self) -> String {
        match self {
            ConfigError::InvalidAddress { aor, reason } => format!(
                "The SIP address \"{aor}\" is not valid ({reason}); it looks like sip:1000@example.com."
            ),
            ConfigError::NoUser { aor } => format!(
                "The SIP address \"{aor}\" has no user part; it looks like sip:1000@example.com."
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transfer_progress_in_words_with_the_network_text_cleaned() {
        let p = TransferView::Progress {
            code: 180,
            reason: "Ring\u{7}ing".into(),
        };
        assert_eq!(p.text(), "Transfer: 180 Ringing");
        let done = |code| TransferView::Done {
            code,
            reason: "x".repeat(200),
        };
        assert_eq!(
            done(200).text().chars().count(),
            "Transferred (200 )".len() + 80
        );
        assert!(done(486).text().starts_with("The transfer failed: 486 "));
    }

    #[test]
    fn an_ended_call_is_named_only_when_asked() {
        let n = Notice::Ended {
            reason: EndReason::Busy,
            label: Some("Bob".into()),
        };
        assert_eq!(n.text(), "Bob: The person you called is busy.");
        let n = Notice::Ended {
            reason: EndReason::RemoteHangup,
            label: None,
        };
        assert_eq!(n.text(), "The other party hung up.");
    }

    #[test]
    fn the_core_warnings_in_words() {
        use crate::sip::{BadTarget, CallId};
        let call = CallId(1);
        let hold = |hold, cause| Warning::HoldFailed { call, hold, cause };
        let refused = |dropped| Warning::DtmfRefused {
            call,
            code: 488,
            reason: "Nope".into(),
            dropped,
        };
        let cases = [
            (
                Warning::NoMedia,
                "This browser cannot make calls: it has no WebRTC (RTCPeerConnection).",
            ),
            (
                Warning::BadTarget(BadTarget::Empty),
                "Enter a number or a SIP address to call.",
            ),
            (
                Warning::BadTarget(BadTarget::ControlCharacters),
                "The number or address contains characters that cannot be called.",
            ),
            (
                Warning::BadTarget(BadTarget::NotCallable("a b".into())),
                "\"a b\" is not a number or SIP address that can be called.",
            ),
            (
                Warning::AttendedTransferNeedsTwoCalls {
                    call,
                    consult: CallId(2),
                },
                "Attended transfer needs two established calls.",
            ),
            (
                Warning::MalformedMessage,
                "Ignored a malformed message from the server (details in the browser console).",
            ),
            (
                Warning::NotEstablished {
                    call,
                    action: CallAction::Hold,
                },
                "Only an established call can be put on hold or resumed.",
            ),
            (
                Warning::NotEstablished {
                    call,
                    action: CallAction::Dtmf,
                },
                "Keys (DTMF) can only be sent during an established call.",
            ),
            (
                Warning::NotEstablished {
                    call,
                    action: CallAction::Transfer,
                },
                "Only an established call can be transferred.",
            ),
            (
                hold(true, HoldFailure::NoSdpInAnswer),
                "Could not put the call on hold (the answer had no audio description): it goes on as before.",
            ),
            (
                hold(false, HoldFailure::Refused(500)),
                "Could not take the call off hold (the other side answered 500): it stays on hold.",
            ),
            (
                hold(true, HoldFailure::Media("no mic".into())),
                "Could not put the call on hold (no mic): it goes on as before.",
            ),
            (
                Warning::NotADtmfKey { call, key: '\u{7}' },
                "\"\\u{7}\" is not a phone key (0-9, *, #, A-D): nothing was sent.",
            ),
            (refused(0), "The other side refused a key press (488 Nope)."),
            (
                refused(2),
                "The other side refused a key press (488 Nope); 2 more not sent.",
            ),
            (
                Warning::TransferInProgress { call },
                "A transfer of this call is already in progress.",
            ),
            (
                Warning::IncompatibleOffer {
                    from: crate::sip::Party {
                        display_name: Some("Ann".into()),
                        uri: "sip:1000@example.com".into(),
                    },
                    offered: vec!["opus".into(), "G722".into()],
                },
                "A call from Ann was refused: it offers none of the audio codecs of your \
                 settings (it offers opus, G722).",
            ),
        ];
        for (warning, text) in cases {
            assert_eq!(warning.text(), text);
            assert_eq!(Notice::Warning(warning).text(), text);
        }
    }

    #[test]
    fn a_refused_account_in_words() {
        let bad = ConfigError::NoUser {
            aor: "sip:example.com".into(),
        };
        assert_eq!(
            Notice::BadAccount(bad).text(),
            "These settings cannot be used: The SIP address \"sip:example.com\" has no user \
             part; it looks like sip:1000@example.com."
        );
        let bad = ConfigError::InvalidAddress {
            aor: "x".into(),
            reason: "no scheme".into(),
        };
        assert_eq!(
            bad.text(),
            "The SIP address \"x\" is not valid (no scheme); it looks like sip:1000@example.com."
        );
    }
}
