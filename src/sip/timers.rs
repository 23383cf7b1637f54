//! The timer table (in the manner of quinn-proto): every deadline of the user
//! agent lives here, keyed by what it is for. The driver only ever sees the
//! earliest one ([`Timers::next`]).

use super::{Duration, Instant};
use litemap::LiteMap;

/// RFC 3261 T1: round-trip estimate.
pub const T1: Duration = Duration::from_millis(500);
/// RFC 3261 T2: maximum retransmit interval for non-INVITE requests and 2xx.
pub const T2: Duration = Duration::from_secs(4);
/// 64·T1: timers B, F, H and the 2xx-without-ACK give-up time.
pub const TIMEOUT_64T1: Duration = Duration::from_secs(32);

#[derive(Clone, Debug)]
pub struct Timers<K: Ord + Clone> {
    deadlines: LiteMap<K, Instant>,
}

impl<K: Ord + Clone> Default for Timers<K> {
    fn default() -> Self {
        Timers {
            deadlines: LiteMap::new(),
        }
    }
}

impl<K: Ord + Clone> Timers<K> {
    /// Arm (or re-arm) `key` to fire at `at`.
    pub fn set(&mut self, key: K, at: Instant) {
        self.deadlines.insert(key, at);
    }

    pub fn cancel(&mut self, key: &K) {
        self.deadlines.remove(key);
    }

    /// Cancel every timer whose key matches.
    pub fn cancel_where(&mut self, mut pred: impl FnMut(&K) -> bool) {
        self.deadlines.retain(|k, _| !pred(k));
    }

    /// How many timers are armed.
    pub fn len(&self) -> usize {
        self.deadlines.len()
    }

    pub fn is_set(&self, key: &K) -> bool {
        self.deadlines.contains_key(key)
    }

    pub fn deadline(&self, key: &K) -> Option<Instant> {
        self.deadlines.get(key).copied()
    }

    /// The earliest deadline.
    pub fn next(&self) -> Option<Instant> {
        self.deadlines.values().min().copied()
    }

    /// Remove and return the timers due at `now`, earliest first.
    pub fn take_expired(&mut self, now: Instant) -> Vec<K> {
        let mut due: Vec<(Instant, K)> = self
            .deadlines
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(k, at)| (*at, k.clone()))
            .collect();
        // earliest first, equal times in table order: an insertion sort,
        // as few timers are due at once (and `sort_by_key` would put a
        // stable sort of some 3 KB into the wasm for each kind of key)
        for i in 1..due.len() {
            let mut j = i;
            while j > 0 && due[j - 1].0 > due[j].0 {
                due.swap(j - 1, j);
                j -= 1;
            }
        }
        for (_, k) in &due {
            self.deadlines.remove(k);
        }
        due.into_iter().map(|(_, k)| k).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_first_and_rearm() {
        let t0 = Instant::now();
        let mut t: Timers<u8> = Timers::default();
        assert_eq!(t.next(), None);
        t.set(1, t0 + Duration::from_secs(5));
        t.set(2, t0 + Duration::from_secs(1));
        t.set(3, t0 + Duration::from_secs(3));
        assert_eq!(t.next(), Some(t0 + Duration::from_secs(1)));
        t.set(2, t0 + Duration::from_secs(10));
        assert_eq!(t.next(), Some(t0 + Duration::from_secs(3)));
        assert_eq!(t.take_expired(t0 + Duration::from_secs(6)), vec![3, 1]);
        assert_eq!(
            t.take_expired(t0 + Duration::from_secs(6)),
            Vec::<u8>::new()
        );
        t.cancel(&2);
        assert_eq!(t.next(), None);
    }
}
