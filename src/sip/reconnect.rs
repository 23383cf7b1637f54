//! When and where to connect again after the WebSocket is lost: the
//! configured servers in order (failover), then exponential back-off with
//! jitter and a cap. Pure: the driver asks, then arms its own timer.

use super::rng::Rng;
use super::Duration;

/// The first back-off step, and the cap.
pub const BASE: Duration = Duration::from_secs(1);
pub const CAP: Duration = Duration::from_secs(30);
/// The pause before trying the next server of the list after a failure.
pub const NEXT_SERVER: Duration = Duration::from_millis(250);

/// The next connection attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    pub server: String,
    /// Attempts since the connection was lost (1 for the first).
    pub number: u32,
    pub delay: Duration,
}

pub struct Reconnect {
    servers: Vec<String>,
    /// The server in use (or being tried).
    index: usize,
    /// Failed attempts since the last successful connection.
    failures: u32,
    /// Full rounds of the server list that failed.
    rounds: u32,
    rng: Rng,
}

impl Reconnect {
    /// `servers` must not be empty (an empty list uses an empty URL, which
    /// fails to connect and backs off forever).
    pub fn new(servers: Vec<String>, seed: u64) -> Reconnect {
        let servers = if servers.is_empty() {
            vec![String::new()]
        } else {
            servers
        };
        Reconnect {
            servers,
            index: 0,
            failures: 0,
            rounds: 0,
            rng: Rng::new(seed),
        }
    }

    /// The server to connect to now.
    pub fn current(&self) -> &str {
        &self.servers[self.index]
    }

    pub fn servers(&self) -> &[String] {
        &self.servers
    }

    /// A connection is open: the back-off starts over, and the server that
    /// worked stays first choice.
    pub fn on_connected(&mut self) {
        self.failures = 0;
        self.rounds = 0;
    }

    /// The network came back (browser `online`): try again right away,
    /// starting from the first server.
    pub fn reset(&mut self) {
        self.index = 0;
        self.failures = 0;
        self.rounds = 0;
    }

    /// The connection closed, or an attempt failed: where and when to try
    /// next. A connection that was up is tried again first (after a short
    /// jittered pause); a failed attempt moves to the next server; when
    /// every server has failed, the pause grows: base·2^round, capped, with
    /// "equal jitter" (half fixed, half random) so that many phones that
    /// lost the same server do not come back in step.
    pub fn on_lost(&mut self, was_connected: bool) -> Attempt {
        if !was_connected {
            self.index += 1;
            if self.index >= self.servers.len() {
                self.index = 0;
                self.rounds = self.rounds.saturating_add(1);
            }
        }
        self.failures = self.failures.saturating_add(1);
        let delay = if !was_connected && self.index != 0 {
            NEXT_SERVER
        } else {
            self.backoff(self.rounds)
        };
        Attempt {
            server: self.current().to_string(),
            number: self.failures,
            delay,
        }
    }

    fn backoff(&mut self, round: u32) -> Duration {
        let full = BASE
            .saturating_mul(1u32 << round.min(16))
            .min(CAP)
            .as_millis() as u64;
        let half = full / 2;
        Duration::from_millis(half + self.rng.below(half + 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("wss://s{i}.example")).collect()
    }

    #[test]
    fn a_dropped_connection_retries_the_same_server_after_about_a_second() {
        let mut r = Reconnect::new(list(2), 1);
        let a = r.on_lost(true);
        assert_eq!(a.server, "wss://s1.example");
        assert_eq!(a.number, 1);
        assert!(
            a.delay >= Duration::from_millis(500) && a.delay <= BASE,
            "{a:?}"
        );
    }

    #[test]
    fn failed_attempts_walk_the_list_then_back_off_with_a_cap() {
        let mut r = Reconnect::new(list(3), 7);
        r.on_lost(true); // s1 dropped; the retry of s1 fails:
        let a = r.on_lost(false);
        assert_eq!(
            (a.server.as_str(), a.delay),
            ("wss://s2.example", NEXT_SERVER)
        );
        let a = r.on_lost(false);
        assert_eq!(
            (a.server.as_str(), a.delay),
            ("wss://s3.example", NEXT_SERVER)
        );
        // every server failed once: back to s1 after 1..2 s
        let a = r.on_lost(false);
        assert_eq!(a.server, "wss://s1.example");
        assert!(a.delay >= Duration::from_secs(1) && a.delay <= Duration::from_secs(2));
        let mut last = Duration::ZERO;
        for _ in 0..40 {
            let a = r.on_lost(false);
            if a.server == "wss://s1.example" {
                last = a.delay;
            }
            assert!(a.delay <= CAP);
        }
        assert!(
            last >= CAP / 2,
            "capped back-off keeps its fixed half: {last:?}"
        );
        assert_eq!(r.on_lost(false).number, 45);
    }

    #[test]
    fn jitter_spreads_phones_apart() {
        let delays: Vec<Duration> = (0..20)
            .map(|seed| {
                let mut r = Reconnect::new(list(1), seed);
                for _ in 0..4 {
                    r.on_lost(false);
                }
                r.on_lost(false).delay
            })
            .collect();
        let min = delays.iter().min().copied().unwrap_or_default();
        let max = delays.iter().max().copied().unwrap_or_default();
        assert!(max - min >= Duration::from_secs(2), "{min:?}..{max:?}");
        assert!(delays
            .iter()
            .all(|d| *d >= Duration::from_secs(8) && *d <= Duration::from_secs(30)));
    }

    #[test]
    fn success_resets_the_backoff_and_online_resets_the_server() {
        let mut r = Reconnect::new(list(2), 3);
        for _ in 0..6 {
            r.on_lost(false);
        }
        r.on_connected();
        let a = r.on_lost(true);
        assert!(a.delay <= BASE);
        assert_eq!(a.number, 1);
        r.on_lost(false);
        assert_eq!(r.current(), "wss://s2.example");
        r.reset();
        assert_eq!(r.current(), "wss://s1.example");
    }
}
