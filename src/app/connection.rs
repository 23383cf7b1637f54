//! What the phone does when its WebSocket is lost or an attempt fails: give
//! up and say so (no server of the list ever answered), or try again, where
//! and when (`sip::reconnect`), and what the screen says meanwhile. Pure;
//! the driver arms the timer and opens the socket.

use crate::sip::reconnect::{Attempt, Reconnect};

/// The plan after a lost connection or a failed attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AfterLoss {
    /// The first connection of this account never came up on any server
    /// of the list: the settings are wrong or the servers down. Show the
    /// failure and wait for the user (the server list starts over).
    GiveUp,
    /// Try `attempt.server` after `attempt.delay`.
    Retry {
        attempt: Attempt,
        /// A connection that was up went down: tell the user (a failed
        /// attempt while reconnecting says nothing new).
        notice: bool,
        /// The browser says there is no network: show "offline" rather
        /// than a countdown (attempts go on: a server on this machine or
        /// the LAN may still answer).
        offline: bool,
    },
}

/// The plan for a loss. `was_open`: the lost WebSocket had been open (else
/// an attempt failed); `ever_connected`: this account has had an open
/// WebSocket before; `online`: the browser's `navigator.onLine`.
pub fn after_loss(
    reconnect: &mut Reconnect,
    was_open: bool,
    ever_connected: bool,
    online: bool,
) -> AfterLoss {
    let attempt = reconnect.on_lost(was_open);
    // the walk through the list came back to the first server
    let all_failed = !was_open && !ever_connected && reconnect.current() == reconnect.servers()[0];
    if all_failed {
        reconnect.reset();
        return AfterLoss::GiveUp;
    }
    AfterLoss::Retry {
        attempt,
        notice: was_open,
        offline: !online,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::reconnect::NEXT_SERVER;

    fn servers(n: usize) -> Reconnect {
        Reconnect::new((1..=n).map(|i| format!("wss://s{i}.example")).collect(), 3)
    }

    fn retry(plan: AfterLoss) -> (Attempt, bool, bool) {
        match plan {
            AfterLoss::Retry {
                attempt,
                notice,
                offline,
            } => (attempt, notice, offline),
            AfterLoss::GiveUp => panic!("gave up"),
        }
    }

    #[test]
    fn a_first_sign_in_that_reaches_no_server_gives_up_after_the_whole_list() {
        let mut r = servers(2);
        let (a, notice, _) = retry(after_loss(&mut r, false, false, true));
        assert_eq!(
            (a.server.as_str(), a.delay, notice),
            ("wss://s2.example", NEXT_SERVER, false)
        );
        assert_eq!(after_loss(&mut r, false, false, true), AfterLoss::GiveUp);
        // the list starts over for the next try of the user
        assert_eq!(r.current(), "wss://s1.example");
    }

    #[test]
    fn a_single_server_that_never_answered_gives_up_at_once() {
        let mut r = servers(1);
        assert_eq!(after_loss(&mut r, false, false, true), AfterLoss::GiveUp);
    }

    #[test]
    fn a_lost_connection_is_retried_with_a_notice_and_never_given_up() {
        let mut r = servers(2);
        let (a, notice, offline) = retry(after_loss(&mut r, true, true, true));
        assert_eq!(
            (a.server.as_str(), a.number, notice, offline),
            ("wss://s1.example", 1, true, false)
        );
        // its retries fail, on every server, many times: still retrying,
        // without a new notice each time
        for _ in 0..20 {
            let (_, notice, _) = retry(after_loss(&mut r, false, true, true));
            assert!(!notice);
        }
    }

    #[test]
    fn after_a_drop_the_next_server_is_tried_when_the_first_refuses() {
        let mut r = servers(2);
        retry(after_loss(&mut r, true, true, true));
        let (a, _, _) = retry(after_loss(&mut r, false, true, true));
        assert_eq!(
            (a.server.as_str(), a.delay),
            ("wss://s2.example", NEXT_SERVER)
        );
    }

    #[test]
    fn offline_is_shown_as_such_and_attempts_go_on() {
        let mut r = servers(1);
        let (a, notice, offline) = retry(after_loss(&mut r, true, true, false));
        assert!(notice && offline);
        assert_eq!(a.server, "wss://s1.example");
    }
}
