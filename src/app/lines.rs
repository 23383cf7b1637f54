//! The line rules: what happens to a call that comes in, which calls go on
//! hold when another is answered, called or taken off hold, which call an
//! Answer or a key means. Pure, over the lines on screen; the driver carries
//! it out.

use super::view::{CallPhase, CallView, MAX_LINES};
use crate::sip::CallId;

/// What to do with an incoming call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IncomingAction {
    /// Every line is taken: decline it (busy).
    Decline,
    /// It replaces one of our calls (RFC 3891, an attended transfer to us):
    /// answer at once; the old call ends.
    AnswerReplacing(CallId),
    /// Auto-answer is on and it is the only call: answer after this many
    /// seconds (0: at once).
    AutoAnswer { after_secs: u32 },
    /// Ring.
    Ring,
}

/// The longest auto-answer delay a caller may ask for.
pub const MAX_AUTO_ANSWER_SECS: u32 = 60;

/// The call of ours that an incoming call replaces (RFC 3891 Replaces).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Replaced {
    pub call: CallId,
    /// That call is still on a line here.
    pub on_line: bool,
}

/// The rule for a new incoming call. `lines`: calls up now; `replaces`: the
/// call of ours it replaces, if any; `auto_answer`: the user's setting;
/// `asked_delay`: the delay the caller asked for (Call-Info answer-after),
/// if any.
pub fn on_incoming(
    lines: usize,
    replaces: Option<Replaced>,
    auto_answer: bool,
    asked_delay: Option<u32>,
) -> IncomingAction {
    // a call replacing one of ours does not need a free line: the old one ends
    if lines >= MAX_LINES && replaces.is_none() {
        return IncomingAction::Decline;
    }
    if let Some(old) = replaces.filter(|r| r.on_line) {
        return IncomingAction::AnswerReplacing(old.call);
    }
    if auto_answer && lines == 0 {
        return IncomingAction::AutoAnswer {
            after_secs: asked_delay.unwrap_or(0).min(MAX_AUTO_ANSWER_SECS),
        };
    }
    IncomingAction::Ring
}

/// The live calls (established, not held by us) other than `keep`: they go
/// on hold when another call is made, answered or resumed, so that only one
/// call has our microphone at a time.
pub fn to_hold(lines: &[CallView], keep: &[CallId]) -> Vec<CallId> {
    lines
        .iter()
        .filter(|c| c.is_live() && !keep.contains(&c.id))
        .map(|c| c.id)
        .collect()
}

/// The call an Answer means: the focused call if it rings here, else the
/// oldest ringing one.
pub fn to_answer(lines: &[CallView], focused: Option<&CallView>) -> Option<CallId> {
    focused
        .filter(|c| c.phase == CallPhase::Incoming)
        .or_else(|| lines.iter().find(|c| c.phase == CallPhase::Incoming))
        .map(|c| c.id)
}

/// Another established line than `call` (attended transfer, conference).
pub fn other_active(lines: &[CallView], call: CallId) -> Option<CallId> {
    lines
        .iter()
        .find(|c| c.id != call && c.phase == CallPhase::Active)
        .map(|c| c.id)
}

/// What choosing a line in the list does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Swap {
    /// It rings here: answer it (the live call goes on hold).
    Answer,
    /// Focus it, holding the live calls; `resume`: it is ours on hold.
    Focus { resume: bool },
}

pub fn swap(target: &CallView) -> Swap {
    match target.phase {
        CallPhase::Incoming => Swap::Answer,
        phase => Swap::Focus {
            resume: phase == CallPhase::Active && target.local_hold,
        },
    }
}

/// What Hold (the button, or `h`) does to the focused call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HoldToggle {
    /// It is on hold: resume it, holding the other live calls first.
    Resume,
    /// Hold it; `end_conference`: it is in the conference, which ends.
    Hold { end_conference: bool },
}

/// None: the call is not established (nothing to hold).
pub fn hold_toggle(call: &CallView, in_conference: bool) -> Option<HoldToggle> {
    if call.phase != CallPhase::Active {
        return None;
    }
    Some(if call.local_hold {
        HoldToggle::Resume
    } else {
        HoldToggle::Hold {
            end_conference: in_conference,
        }
    })
}

/// The digits of `typed` that are DTMF (`0-9 * # A-D`), in order.
pub fn dtmf_digits(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| c.is_ascii_digit() || matches!(c, '*' | '#' | 'A'..='D'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::testing;

    /// Line `id` in `phase`, on hold by us or not.
    fn line(id: u32, phase: CallPhase, held: bool) -> CallView {
        let mut c = testing::line(id, phase, None);
        c.local_hold = held;
        c
    }

    #[test]
    fn only_live_calls_are_held_and_never_the_kept_ones() {
        let l = [
            line(1, CallPhase::Active, false),
            line(2, CallPhase::Active, true),
            line(3, CallPhase::Ringing, false),
            line(4, CallPhase::Incoming, false),
        ];
        assert_eq!(to_hold(&l, &[]), [CallId(1)]);
        assert_eq!(to_hold(&l, &[CallId(1)]), []);
        assert_eq!(to_hold(&[], &[]), []);
    }

    #[test]
    fn answer_means_the_focused_ringing_call_else_the_oldest() {
        let l = [
            line(1, CallPhase::Active, false),
            line(2, CallPhase::Incoming, false),
            line(3, CallPhase::Incoming, false),
        ];
        assert_eq!(to_answer(&l, Some(&l[2])), Some(CallId(3)));
        assert_eq!(to_answer(&l, Some(&l[0])), Some(CallId(2)));
        assert_eq!(to_answer(&l, None), Some(CallId(2)));
        assert_eq!(to_answer(&l[..1], Some(&l[0])), None);
    }

    #[test]
    fn the_other_active_line() {
        let l = [
            line(1, CallPhase::Active, false),
            line(2, CallPhase::Ringing, false),
            line(3, CallPhase::Active, true),
        ];
        assert_eq!(other_active(&l, CallId(1)), Some(CallId(3)));
        assert_eq!(other_active(&l, CallId(3)), Some(CallId(1)));
        assert_eq!(other_active(&l[..2], CallId(1)), None);
    }

    #[test]
    fn choosing_a_line() {
        assert_eq!(swap(&line(1, CallPhase::Incoming, false)), Swap::Answer);
        assert_eq!(
            swap(&line(1, CallPhase::Active, true)),
            Swap::Focus { resume: true }
        );
        assert_eq!(
            swap(&line(1, CallPhase::Active, false)),
            Swap::Focus { resume: false }
        );
        assert_eq!(
            swap(&line(1, CallPhase::Ringing, false)),
            Swap::Focus { resume: false }
        );
    }

    #[test]
    fn hold_toggles_an_established_call_only() {
        assert_eq!(
            hold_toggle(&line(1, CallPhase::Active, true), false),
            Some(HoldToggle::Resume)
        );
        assert_eq!(
            hold_toggle(&line(1, CallPhase::Active, false), true),
            Some(HoldToggle::Hold {
                end_conference: true
            })
        );
        assert_eq!(
            hold_toggle(&line(1, CallPhase::Active, false), false),
            Some(HoldToggle::Hold {
                end_conference: false
            })
        );
        for phase in [
            CallPhase::Calling,
            CallPhase::Ringing,
            CallPhase::Incoming,
            CallPhase::Answering,
        ] {
            assert_eq!(
                hold_toggle(&line(1, phase, false), false),
                None,
                "{phase:?}"
            );
        }
    }

    #[test]
    fn dtmf_keeps_the_sixteen_keys_only() {
        assert_eq!(dtmf_digits("1-800 *#ABCDabcd x9"), "1800*#ABCD9");
        assert_eq!(dtmf_digits(""), "");
        assert_eq!(dtmf_digits("é½"), "");
    }

    #[test]
    fn a_free_line_rings() {
        assert_eq!(on_incoming(0, None, false, None), IncomingAction::Ring);
        assert_eq!(on_incoming(1, None, false, None), IncomingAction::Ring);
    }

    #[test]
    fn all_lines_taken_declines() {
        assert_eq!(
            on_incoming(MAX_LINES, None, false, None),
            IncomingAction::Decline
        );
        assert_eq!(
            on_incoming(MAX_LINES, None, true, Some(0)),
            IncomingAction::Decline
        );
    }

    #[test]
    fn a_replacing_call_is_answered_even_when_the_lines_are_full() {
        let old = Replaced {
            call: CallId(7),
            on_line: true,
        };
        for lines in [1, MAX_LINES] {
            assert_eq!(
                on_incoming(lines, Some(old), false, None),
                IncomingAction::AnswerReplacing(CallId(7))
            );
        }
    }

    #[test]
    fn a_call_replacing_one_that_is_gone_rings_as_a_new_call() {
        let gone = Replaced {
            call: CallId(7),
            on_line: false,
        };
        assert_eq!(
            on_incoming(1, Some(gone), false, None),
            IncomingAction::Ring
        );
        // it still does not need a free line (the old one was ours)
        assert_eq!(
            on_incoming(MAX_LINES, Some(gone), false, None),
            IncomingAction::Ring
        );
        assert_eq!(
            on_incoming(0, Some(gone), true, Some(2)),
            IncomingAction::AutoAnswer { after_secs: 2 }
        );
    }

    #[test]
    fn auto_answer_only_for_the_only_call_after_the_asked_delay_within_a_minute() {
        assert_eq!(
            on_incoming(0, None, true, None),
            IncomingAction::AutoAnswer { after_secs: 0 }
        );
        assert_eq!(
            on_incoming(0, None, true, Some(5)),
            IncomingAction::AutoAnswer { after_secs: 5 }
        );
        assert_eq!(
            on_incoming(0, None, true, Some(3600)),
            IncomingAction::AutoAnswer {
                after_secs: MAX_AUTO_ANSWER_SECS
            }
        );
        // during another call it rings instead (call waiting)
        assert_eq!(on_incoming(1, None, true, Some(0)), IncomingAction::Ring);
    }
}
