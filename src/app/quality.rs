//! Call quality as a MOS estimate (1 to 4.5) from what `getStats` gives:
//! round-trip time, jitter and packet loss, through a simplified ITU-T
//! G.107 E-model. Pure: unit-tested natively, used by `web::media`.
//!
//! The simplifications (the usual ones for VoIP monitoring):
//! - one-way delay = RTT / 2 + 2 × jitter (the jitter buffer) + 10 ms for
//!   the codec frame;
//! - the delay impairment `Id` = 0.024 d + 0.11 (d − 177.3) for d > 177.3 ms;
//! - the loss impairment `Ie-eff` = Ie + (95 − Ie) · Ppl / (Ppl + Bpl) with
//!   Ie = 0 and Bpl = 25.1 (a wideband codec with packet loss concealment,
//!   random loss);
//! - R = 93.2 − Id − Ie-eff, and MOS = 1 + 0.035 R + 7·10⁻⁶ R (R − 60)(100 − R).

/// Codec frame and processing delay added to the one-way delay (ms).
const CODEC_DELAY_MS: f64 = 10.0;
/// Packet-loss robustness factor (G.113 for G.711 with PLC; Opus is better,
/// so this is on the careful side).
const BPL: f64 = 25.1;
/// The R factor of a perfect narrowband call (G.107 default values).
const R0: f64 = 93.2;

/// A figure from the network: negative, NaN or infinite counts as 0.
fn sane(x: f64) -> f64 {
    if x.is_finite() && x > 0.0 {
        x
    } else {
        0.0
    }
}

/// The one-way delay the E-model uses (ms).
pub fn effective_delay_ms(rtt_ms: f64, jitter_ms: f64) -> f64 {
    sane(rtt_ms) / 2.0 + 2.0 * sane(jitter_ms) + CODEC_DELAY_MS
}

/// The transmission rating factor R (0 to 100).
pub fn r_factor(rtt_ms: f64, jitter_ms: f64, loss_pct: f64) -> f64 {
    let d = effective_delay_ms(rtt_ms, jitter_ms);
    let id = 0.024 * d + if d > 177.3 { 0.11 * (d - 177.3) } else { 0.0 };
    let ppl = sane(loss_pct).min(100.0);
    let ie_eff = 95.0 * ppl / (ppl + BPL);
    (R0 - id - ie_eff).clamp(0.0, 100.0)
}

/// R to MOS (G.107 Annex B).
pub fn mos_from_r(r: f64) -> f64 {
    if !r.is_finite() || r <= 0.0 {
        1.0
    } else if r >= 100.0 {
        4.5
    } else {
        (1.0 + 0.035 * r + 7.0e-6 * r * (r - 60.0) * (100.0 - r)).clamp(1.0, 4.5)
    }
}

/// The estimated MOS for a call with these figures (RTT and jitter in ms,
/// loss in percent).
pub fn mos(rtt_ms: f64, jitter_ms: f64, loss_pct: f64) -> f64 {
    mos_from_r(r_factor(rtt_ms, jitter_ms, loss_pct))
}

/// The call quality in a word, from the MOS (G.107's user satisfaction
/// bands: 4.0 and up "satisfied", 3.6 to 4.0 "some users dissatisfied",
/// below that "many dissatisfied").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grade {
    Good,
    Fair,
    Poor,
}

impl Grade {
    pub fn of(mos: f64) -> Grade {
        if !mos.is_finite() || mos < 3.6 {
            Grade::Poor
        } else if mos < 4.0 {
            Grade::Fair
        } else {
            Grade::Good
        }
    }
}

/// Packet loss in percent between two `getStats` readings of an inbound
/// stream (`packetsLost`, `packetsReceived`, both cumulative): over the
/// interval when packets came in it, else over the whole call so far.
/// `packetsLost` may go down (late duplicates); that counts as no loss.
pub fn loss_pct(previous: Option<(f64, f64)>, lost: f64, received: f64) -> f64 {
    let (lost, received) = (sane(lost), sane(received));
    let (dl, dr) = match previous {
        Some((pl, pr)) if received > sane(pr) => (lost - sane(pl), received - sane(pr)),
        _ => (lost, received),
    };
    let dl = dl.max(0.0);
    if dl + dr <= 0.0 {
        return 0.0;
    }
    (100.0 * dl / (dl + dr)).clamp(0.0, 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quality_in_a_word() {
        assert_eq!(Grade::of(mos(20.0, 2.0, 0.0)), Grade::Good);
        assert_eq!(Grade::of(3.8), Grade::Fair);
        assert_eq!(Grade::of(mos(400.0, 60.0, 8.0)), Grade::Poor);
        assert_eq!(Grade::of(f64::NAN), Grade::Poor);
    }

    #[test]
    fn perfect_network_is_the_top_of_the_scale() {
        let m = mos(0.0, 0.0, 0.0);
        // R = 93.2 - 0.24 -> MOS 4.41
        assert!((m - 4.41).abs() < 0.01, "{m}");
        assert!((r_factor(0.0, 0.0, 0.0) - 92.96).abs() < 1e-9);
    }

    #[test]
    fn known_values() {
        // 200 ms RTT, 10 ms jitter, no loss: d = 100 + 20 + 10 = 130,
        // Id = 3.12, R = 90.08
        assert!((r_factor(200.0, 10.0, 0.0) - 90.08).abs() < 1e-9);
        // 5 % loss: Ie-eff = 95 * 5 / 30.1
        let r = r_factor(0.0, 0.0, 5.0);
        assert!((r - (92.96 - 95.0 * 5.0 / 30.1)).abs() < 1e-9, "{r}");
        // long delay: d = 400 + 10 -> Id = 9.84 + 0.11 * 232.7
        let r = r_factor(800.0, 0.0, 0.0);
        assert!((r - (93.2 - 9.84 - 0.11 * 232.7)).abs() < 1e-9, "{r}");
        assert!((mos_from_r(50.0) - 2.575).abs() < 1e-12);
    }

    #[test]
    fn worse_figures_give_a_lower_score() {
        let base = mos(50.0, 5.0, 0.5);
        assert!(mos(300.0, 5.0, 0.5) < base);
        assert!(mos(50.0, 60.0, 0.5) < base);
        assert!(mos(50.0, 5.0, 8.0) < base);
        let mut last = 5.0;
        for loss in [0.0, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0] {
            let m = mos(20.0, 2.0, loss);
            assert!(m < last, "{loss}: {m} !< {last}");
            last = m;
        }
    }

    #[test]
    fn always_between_one_and_four_and_a_half() {
        for &x in &[f64::NAN, f64::INFINITY, -5.0, 0.0, 1e9, 1e300] {
            for (r, j, l) in [(x, 0.0, 0.0), (0.0, x, 0.0), (0.0, 0.0, x), (x, x, x)] {
                let m = mos(r, j, l);
                assert!((1.0..=4.5).contains(&m), "{r} {j} {l}: {m}");
            }
        }
        assert_eq!(
            mos(0.0, 0.0, 100.0),
            mos_from_r(93.2 - 0.24 - 95.0 * 100.0 / 125.1)
        );
        assert_eq!(mos_from_r(f64::NAN), 1.0);
        assert_eq!(mos_from_r(-3.0), 1.0);
        assert_eq!(mos_from_r(120.0), 4.5);
        // nonsense counts as zero
        assert_eq!(mos(-100.0, f64::NAN, -1.0), mos(0.0, 0.0, 0.0));
    }

    #[test]
    fn loss_over_the_interval() {
        // first reading: whole call
        assert_eq!(loss_pct(None, 5.0, 95.0), 5.0);
        // then only what changed: 10 lost of 10 + 40 in the interval
        assert_eq!(loss_pct(Some((5.0, 95.0)), 15.0, 135.0), 20.0);
        // nothing new came in: whole call
        assert_eq!(loss_pct(Some((5.0, 95.0)), 5.0, 95.0), 5.0);
        // lost went down (duplicates): no loss in the interval
        assert_eq!(loss_pct(Some((5.0, 95.0)), 3.0, 195.0), 0.0);
        assert_eq!(loss_pct(None, 0.0, 0.0), 0.0);
        assert_eq!(loss_pct(None, f64::NAN, -1.0), 0.0);
        assert_eq!(loss_pct(None, 10.0, 0.0), 100.0);
    }
}

/// `v` with `digits` decimals (at most 6), as `format!("{v:.digits$}")`
/// writes it (the last digit rounded half away from zero, where the
/// standard rounds ties to even), without `core`'s float formatting,
/// which the wasm then need not carry (see `app::json`'s floats).
pub fn fixed(v: f64, digits: u32) -> String {
    if !v.is_finite() {
        return if v.is_nan() {
            "NaN".into()
        } else if v > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        };
    }
    let scale = 10u64.pow(digits.min(6));
    // (saturates beyond 1.8e19: no figure shown here comes near)
    let n = (v.abs() * scale as f64).round() as u64;
    let sign = if v.is_sign_negative() { "-" } else { "" };
    let (whole, part) = (n / scale, n % scale);
    match digits.min(6) {
        0 => format!("{sign}{whole}"),
        d => format!("{sign}{whole}.{part:0width$}", width = d as usize),
    }
}

#[cfg(test)]
mod fixed_tests {
    use super::fixed;

    #[test]
    fn fixed_writes_what_the_standard_formatting_writes() {
        for d in 0..4u32 {
            for i in -3000..3000i32 {
                // thirds and sevenths: never a tie, so both round alike
                for v in [f64::from(i) / 3.0, f64::from(i) / 7.0 + 0.001] {
                    assert_eq!(fixed(v, d), format!("{v:.*}", d as usize), "{v} {d}");
                }
            }
        }
        assert_eq!(fixed(4.25, 1), "4.3", "a tie goes away from zero");
        assert_eq!(fixed(-0.04, 1), "-0.0");
        assert_eq!(fixed(f64::NAN, 1), "NaN");
        assert_eq!(fixed(123.456, 9), "123.456000");
    }
}
