//! What should ring, and what the tab and the desktop should say, from the
//! lines on screen: as data. The browser side (`web::driver`) switches the
//! tones, the title and the notification when this changes.

use super::view::{CallPhase, CallView};
use crate::sip::CallId;

/// The alerts the lines call for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Alerts {
    /// The loud ringtone: a call rings here and no other call is up.
    pub ringtone: bool,
    /// The quiet tone of a call waiting during another call (the waiting
    /// call also shows in the line list).
    pub soft_ring: bool,
    /// Our own ringback: the focused outgoing call rings at the far end,
    /// which plays no early media of its own.
    pub ringback: bool,
    /// The call ringing here, with the name to show (tab title,
    /// notification); the first one when several ring.
    pub incoming: Option<(CallId, String)>,
}

/// The tones to switch on (true) or off (false); `None` leaves one as it is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ToneChanges {
    pub ringtone: Option<bool>,
    pub soft_ring: Option<bool>,
    pub ringback: Option<bool>,
}

impl ToneChanges {
    pub fn any(&self) -> bool {
        *self != ToneChanges::default()
    }
}

impl Alerts {
    /// The alerts for `lines`, where `focused` is the call on the main panel.
    pub fn of(lines: &[CallView], focused: Option<&CallView>) -> Alerts {
        let incoming = lines
            .iter()
            .find(|c| c.phase == CallPhase::Incoming)
            .map(|c| (c.id, c.peer_label.clone()));
        let busy = lines.iter().any(|c| c.phase != CallPhase::Incoming);
        let ringback = focused.is_some_and(|c| c.phase == CallPhase::Ringing && !c.early_media);
        Alerts {
            ringtone: incoming.is_some() && !busy,
            soft_ring: incoming.is_some() && busy,
            ringback,
            incoming,
        }
    }

    /// Which tones differ from `before`.
    pub fn tone_changes(&self, before: &Alerts) -> ToneChanges {
        let change = |now: bool, was: bool| (now != was).then_some(now);
        ToneChanges {
            ringtone: change(self.ringtone, before.ringtone),
            soft_ring: change(self.soft_ring, before.soft_ring),
            ringback: change(self.ringback, before.ringback),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::testing::line;

    #[test]
    fn nothing_rings_without_calls() {
        assert_eq!(Alerts::of(&[], None), Alerts::default());
    }

    #[test]
    fn a_lone_incoming_call_rings_loudly_and_is_named() {
        let l = [line(1, CallPhase::Incoming, Some("Bob"))];
        let a = Alerts::of(&l, l.first());
        assert!(a.ringtone && !a.soft_ring && !a.ringback);
        assert_eq!(a.incoming, Some((CallId(1), "Bob".into())));
    }

    #[test]
    fn a_call_waiting_rings_softly() {
        let l = [
            line(1, CallPhase::Active, Some("Ann")),
            line(2, CallPhase::Incoming, Some("Bob")),
        ];
        let a = Alerts::of(&l, l.first());
        assert!(!a.ringtone && a.soft_ring);
        assert_eq!(a.incoming, Some((CallId(2), "Bob".into())));
    }

    #[test]
    fn an_outgoing_call_rings_back_unless_the_far_end_plays_its_own() {
        let mut l = [line(1, CallPhase::Ringing, Some("Ann"))];
        assert!(Alerts::of(&l, l.first()).ringback);
        l[0].early_media = true;
        assert!(!Alerts::of(&l, l.first()).ringback);
        // only the focused call: a ringing call on the other line is quiet
        l[0].early_media = false;
        let other = line(2, CallPhase::Active, Some("Bob"));
        assert!(!Alerts::of(&l, Some(&other)).ringback);
        // not before it rings, nor once answered
        for phase in [CallPhase::Calling, CallPhase::Active] {
            l[0].phase = phase;
            assert!(!Alerts::of(&l, l.first()).ringback, "{phase:?}");
        }
    }

    #[test]
    fn two_calls_ringing_here_name_the_first() {
        let l = [
            line(1, CallPhase::Incoming, Some("Bob")),
            line(2, CallPhase::Incoming, Some("Cy")),
        ];
        let a = Alerts::of(&l, l.first());
        assert!(a.ringtone && !a.soft_ring);
        assert_eq!(a.incoming, Some((CallId(1), "Bob".into())));
    }

    #[test]
    fn only_what_changed_is_switched() {
        let ringing = [line(1, CallPhase::Incoming, Some("Bob"))];
        let quiet = Alerts::default();
        let loud = Alerts::of(&ringing, ringing.first());
        let c = loud.tone_changes(&quiet);
        assert_eq!(
            c,
            ToneChanges {
                ringtone: Some(true),
                soft_ring: None,
                ringback: None
            }
        );
        assert!(c.any());
        assert!(!loud.tone_changes(&loud).any());
        // answered while another call waits: the loud tone stops, the soft starts
        let waiting = [
            line(1, CallPhase::Active, Some("Bob")),
            line(2, CallPhase::Incoming, Some("Cy")),
        ];
        let c = Alerts::of(&waiting, waiting.first()).tone_changes(&loud);
        assert_eq!(
            (c.ringtone, c.soft_ring, c.ringback),
            (Some(false), Some(true), None)
        );
    }
}
