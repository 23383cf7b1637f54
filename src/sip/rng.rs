//! A small deterministic generator for tags, branches and Call-IDs.
//!
//! The core never asks the platform for randomness: the driver seeds it (from
//! `crypto.getRandomValues` in the browser, a constant in tests), so every run
//! of a test is the same. The values only need to be unique, not secret.

/// SplitMix64.
#[derive(Clone, Debug)]
pub struct Rng {
    state: u64,
}

const ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (`bound` > 0).
    pub fn below(&mut self, bound: u64) -> u64 {
        if bound == 0 {
            0
        } else {
            self.next_u64() % bound
        }
    }

    /// `len` characters from `[a-z0-9]`.
    pub fn token(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| ALPHABET[(self.next_u64() % ALPHABET.len() as u64) as usize] as char)
            .collect()
    }

    /// A Via branch with the RFC 3261 magic cookie.
    pub fn branch(&mut self) -> String {
        format!("z9hG4bK{}", self.token(16))
    }

    /// Eight lowercase hex digits (digest cnonce).
    pub fn hex32(&mut self) -> String {
        format!("{:08x}", self.next_u64() as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence_and_distinct_tokens() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        let ta: Vec<String> = (0..100).map(|_| a.token(10)).collect();
        let tb: Vec<String> = (0..100).map(|_| b.token(10)).collect();
        assert_eq!(ta, tb);
        let mut sorted = ta.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 100);
        assert!(a.branch().starts_with("z9hG4bK"));
        assert!(ta
            .iter()
            .all(|t| t.len() == 10 && t.bytes().all(|c| ALPHABET.contains(&c))));
    }

    #[test]
    fn below_stays_in_range() {
        let mut r = Rng::new(1);
        assert!((0..1000).all(|_| r.below(5) < 5));
        assert_eq!(r.below(0), 0);
    }
}
