//! Keyboard shortcuts: which key does what to the call on screen. The browser
//! side filters out typing in text fields and Ctrl/Alt/Meta first.

use super::view::{CallPhase, CallView};

/// What a key press asks of the phone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyAction {
    Answer,
    HangUp,
    ToggleHold,
    ToggleMute,
    /// One DTMF digit (`0-9`, `*`, `#`).
    Dtmf(char),
}

/// The action of `key` (a DOM `KeyboardEvent.key`) for the focused call;
/// `on_control`: the focus is on a button or link, where Enter presses it;
/// `ringing`: a call rings here. None: the key is not ours.
pub fn action(
    key: &str,
    on_control: bool,
    call: Option<&CallView>,
    ringing: bool,
) -> Option<KeyAction> {
    let call = call?;
    let mut chars = key.chars();
    let single = match (chars.next(), chars.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    };
    match key {
        "Enter" if !on_control => ringing.then_some(KeyAction::Answer),
        "Escape" => Some(KeyAction::HangUp),
        "h" | "H" if call.phase == CallPhase::Active => Some(KeyAction::ToggleHold),
        "m" | "M" if call.phase != CallPhase::Incoming => Some(KeyAction::ToggleMute),
        _ => single
            .filter(|c| {
                call.phase == CallPhase::Active && (c.is_ascii_digit() || *c == '*' || *c == '#')
            })
            .map(KeyAction::Dtmf),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::testing::line;

    #[test]
    fn no_call_no_shortcut() {
        for key in ["Enter", "Escape", "h", "m", "1"] {
            assert_eq!(action(key, false, None, true), None, "{key}");
        }
    }

    #[test]
    fn enter_answers_a_ringing_call_unless_a_button_has_the_focus() {
        let c = line(1, CallPhase::Incoming, None);
        assert_eq!(
            action("Enter", false, Some(&c), true),
            Some(KeyAction::Answer)
        );
        assert_eq!(action("Enter", true, Some(&c), true), None);
        // nothing rings: Enter is not ours
        assert_eq!(
            action(
                "Enter",
                false,
                Some(&line(1, CallPhase::Active, None)),
                false
            ),
            None
        );
    }

    #[test]
    fn escape_hangs_up_in_any_phase() {
        for phase in [
            CallPhase::Calling,
            CallPhase::Ringing,
            CallPhase::Incoming,
            CallPhase::Active,
        ] {
            assert_eq!(
                action("Escape", false, Some(&line(1, phase, None)), false),
                Some(KeyAction::HangUp)
            );
        }
    }

    #[test]
    fn hold_only_when_active_mute_unless_it_rings_here() {
        let active = line(1, CallPhase::Active, None);
        assert_eq!(
            action("h", false, Some(&active), false),
            Some(KeyAction::ToggleHold)
        );
        assert_eq!(
            action("H", false, Some(&active), false),
            Some(KeyAction::ToggleHold)
        );
        assert_eq!(
            action("h", false, Some(&line(1, CallPhase::Ringing, None)), false),
            None
        );
        assert_eq!(
            action("M", false, Some(&line(1, CallPhase::Calling, None)), false),
            Some(KeyAction::ToggleMute)
        );
        assert_eq!(
            action("m", false, Some(&line(1, CallPhase::Incoming, None)), true),
            None
        );
    }

    #[test]
    fn digits_star_and_hash_are_dtmf_in_an_active_call_only() {
        let active = line(1, CallPhase::Active, None);
        for (key, digit) in [("0", '0'), ("9", '9'), ("*", '*'), ("#", '#')] {
            assert_eq!(
                action(key, false, Some(&active), false),
                Some(KeyAction::Dtmf(digit))
            );
        }
        assert_eq!(
            action("5", false, Some(&line(1, CallPhase::Ringing, None)), false),
            None
        );
        // not a single digit, or not a DTMF key
        for key in ["12", "a", "F5", "é", ""] {
            assert_eq!(action(key, false, Some(&active), false), None, "{key}");
        }
    }
}
