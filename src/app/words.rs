//! The phone's sentences, in one place: what the screen shows for a
//! [`Notice`] or a [`TransferView`], and what the host page's `error`
//! events say. The models above hold data; only this file makes words of it.

use super::lists::Tab;
use super::view::{short_uri, Notice, TransferView};
use crate::sip::EndReason;

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
            Notice::Text(t) | Notice::Warning(t) => t.clone(),
            Notice::HangUpFirst => "Hang up before changing the account.".into(),
            Notice::SettingsSaved => "Settings saved.".into(),
            Notice::BadAccount(e) => format!("These settings cannot be used: {e}"),
            Notice::NoWebRtc => "This browser cannot make or take calls: it has no WebRTC \
                 (RTCPeerConnection). You can still sign in for messages and presence; \
                 incoming calls are declined."
                .into(),
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

/// Why a call ended, in a sentence.
pub fn ended(reason: &EndReason) -> String {
    reason.message()
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
}
