//! The line rules: what happens to a call that comes in, given the lines
//! already up and the user's preferences. Pure; the driver carries it out.

use super::view::MAX_LINES;
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

#[cfg(test)]
mod tests {
    use super::*;

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
