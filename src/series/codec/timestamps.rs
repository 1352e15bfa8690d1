//! Timestamp codec: strictly increasing i64 timestamps as delta-of-deltas.
//!
//! # Stream format (one LSB-first bitstream, zero-padded to a byte)
//!
//! ```text
//! varbits  count n
//! varbits  zigzag(t0)                   (n >= 1)
//! varbits  t1 - t0 as u64 (>= 1)        (n >= 2)
//! tokens   the n-2 delta-of-deltas      (the residual token stream of the integer codec)
//! ```
//!
//! Deltas are computed in wrapping u64 arithmetic: for strictly increasing i64 timestamps the
//! true delta is in `1..=u64::MAX`, so it is exact in u64. Delta-of-deltas are wrapping u64
//! differences read as i64 (a bijection modulo 2^64), so every strictly increasing sequence,
//! including jumps across the whole i64 range, round-trips exactly.
//!
//! Regular sampling gives zero delta-of-deltas, which the token stream codes as runs: a chunk
//! of perfectly regular timestamps costs about 15 bytes whatever its length. Jittered sampling
//! gives small residuals that the Rice / Exp-Golomb blocks code in a few bits each.
//!
//! The decoder checks that what it produces is strictly increasing (no zero delta, no
//! overflow past `i64::MAX`), so damaged input cannot yield an unordered sequence.

use super::CodecError;
use super::bits::{BitReader, BitWriter, unzigzag, zigzag};
use super::integers::{Sink, decode_residuals, encode_residuals};

/// Appends the encoding of `timestamps` to `out`; errors (leaving `out` untouched) unless they
/// are strictly increasing.
pub fn encode_timestamps(timestamps: &[i64], out: &mut Vec<u8>) -> Result<(), CodecError> {
    // Check the order without a branch per timestamp; locate the culprit only on failure.
    let unordered = timestamps
        .windows(2)
        .fold(false, |bad, w| bad | (w[1] <= w[0]));
    if unordered && let Some(i) = timestamps.windows(2).position(|w| w[1] <= w[0]) {
        return Err(CodecError::TimestampsNotIncreasing {
            index: i + 1,
            previous: timestamps[i],
            current: timestamps[i + 1],
        });
    }
    let mut dods = Vec::with_capacity(timestamps.len().saturating_sub(2));
    dods.extend(timestamps.windows(3).map(|w| {
        let (d0, d1) = (
            w[1].wrapping_sub(w[0]) as u64,
            w[2].wrapping_sub(w[1]) as u64,
        );
        d1.wrapping_sub(d0) as i64
    }));
    let mut w = BitWriter::new(out);
    w.write_varbits(timestamps.len() as u64);
    if let Some(&t0) = timestamps.first() {
        w.write_varbits(zigzag(t0));
        if let Some(&t1) = timestamps.get(1) {
            w.write_varbits(t1.wrapping_sub(t0) as u64);
            encode_residuals(&mut w, &dods);
        }
    }
    w.finish();
    Ok(())
}

/// Decodes a stream written by [`encode_timestamps`] holding exactly `expected` timestamps,
/// appending them to `out`. `bytes` must be exactly the stream.
pub fn decode_timestamps(
    bytes: &[u8],
    expected: usize,
    out: &mut Vec<i64>,
) -> Result<(), CodecError> {
    let mut r = BitReader::new(bytes);
    let n = r.read_varbits("timestamp count")?;
    if n != expected as u64 {
        return Err(CodecError::CountMismatch {
            what: "timestamp stream",
            expected,
            found: usize::try_from(n).unwrap_or(usize::MAX),
        });
    }
    if expected > 0 {
        let t0 = unzigzag(r.read_varbits("first timestamp")?);
        out.reserve(expected);
        out.push(t0);
        if expected > 1 {
            let delta = r.read_varbits("first delta")?;
            let t1 = match t0.checked_add_unsigned(delta) {
                Some(t1) if delta > 0 => t1,
                _ => {
                    return Err(CodecError::Corrupt(
                        "first delta (timestamps not increasing)",
                    ));
                }
            };
            out.push(t1);
            let mut sink = TimestampSink { out, t: t1, delta };
            decode_residuals(&mut r, expected - 2, &mut sink)?;
        }
    }
    r.finish("timestamp stream")
}

struct TimestampSink<'a> {
    out: &'a mut Vec<i64>,
    t: i64,
    delta: u64,
}

impl Sink for TimestampSink<'_> {
    #[inline]
    fn run(&mut self, len: usize) -> Result<(), CodecError> {
        // The delta is unchanged (non-zero, checked when it was produced); only the end of
        // the run can overflow.
        let end = self.t as i128 + len as i128 * self.delta as i128;
        if end > i64::MAX as i128 {
            return Err(CodecError::Corrupt("timestamp run (overflows i64)"));
        }
        let (t, delta) = (self.t, self.delta as i64);
        let mut next = t;
        self.out.extend((0..len).map(|_| {
            next = next.wrapping_add(delta);
            next
        }));
        self.t = end as i64;
        Ok(())
    }

    #[inline]
    fn block(&mut self, dods: &mut [u64]) -> Result<(), CodecError> {
        let (mut t, mut delta) = (self.t, self.delta);
        // With wrapping arithmetic, `t + delta` is valid (delta != 0, no overflow past
        // i64::MAX) exactly when the wrapped result is greater than `t`, whatever the delta.
        let mut bad = false;
        for x in dods.iter_mut() {
            delta = delta.wrapping_add(*x);
            let next = t.wrapping_add(delta as i64);
            bad |= next <= t;
            t = next;
            *x = t as u64;
        }
        if bad {
            return Err(CodecError::Corrupt("timestamps (not strictly increasing)"));
        }
        self.t = t;
        self.delta = delta;
        self.out.extend(dods.iter().map(|&x| x as i64));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn round_trip(ts: &[i64]) -> usize {
        let mut buf = Vec::new();
        encode_timestamps(ts, &mut buf).unwrap();
        let mut out = Vec::new();
        decode_timestamps(&buf, ts.len(), &mut out).unwrap();
        assert_eq!(out, ts);
        buf.len()
    }

    #[test]
    fn small_cases() {
        round_trip(&[]);
        round_trip(&[i64::MIN]);
        round_trip(&[i64::MAX]);
        round_trip(&[i64::MIN, i64::MAX]);
        round_trip(&[i64::MIN, 0, i64::MAX]);
        round_trip(&[i64::MIN, i64::MIN + 1, i64::MAX - 1, i64::MAX]);
        round_trip(&[-5, -4, -2, 1, 5, 10]);
    }

    #[test]
    fn regular_sampling_costs_almost_nothing() {
        let ts: Vec<i64> = (0..8192).map(|i| 1_166_289_840_000 + i * 60_000).collect();
        let bytes = round_trip(&ts);
        assert!(bytes <= 16, "{bytes} bytes for 8192 regular timestamps");
        let ts: Vec<i64> = (0..100_000).map(|i| i * 1_000).collect();
        assert!(round_trip(&ts) <= 16);
    }

    #[test]
    fn jittered_and_gappy_sampling() {
        let mut seed = 7u64;
        let mut t = 1_700_000_000_000i64;
        let mut ts = Vec::new();
        for i in 0..8192 {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
            let jitter = ((seed >> 33) % 21) as i64 - 10;
            t += 10_000 + jitter + if i % 1000 == 999 { 3_600_000 } else { 0 };
            ts.push(t);
        }
        let bytes = round_trip(&ts);
        // ~±10 ms jitter: about 6 bits of delta-of-delta per point.
        assert!(bytes < 8192, "{bytes} bytes");
    }

    #[test]
    fn rejects_non_increasing() {
        let mut buf = vec![1, 2, 3];
        let err = encode_timestamps(&[1, 2, 2], &mut buf).unwrap_err();
        assert_eq!(
            err,
            CodecError::TimestampsNotIncreasing {
                index: 2,
                previous: 2,
                current: 2
            }
        );
        assert!(err.to_string().contains("not strictly increasing"));
        assert_eq!(buf, [1, 2, 3]);
        assert!(encode_timestamps(&[5, 4], &mut buf).is_err());
        assert!(encode_timestamps(&[i64::MAX, i64::MIN], &mut buf).is_err());
    }

    #[test]
    fn count_mismatch() {
        let mut buf = Vec::new();
        encode_timestamps(&[1, 2, 3], &mut buf).unwrap();
        let mut out = Vec::new();
        assert!(matches!(
            decode_timestamps(&buf, 4, &mut out),
            Err(CodecError::CountMismatch {
                expected: 4,
                found: 3,
                ..
            })
        ));
    }

    /// Strictly increasing sequences mixing regular steps, jitter and huge jumps.
    fn arb_timestamps() -> impl Strategy<Value = Vec<i64>> {
        let step = prop_oneof![
            3 => Just(60_000u64),
            2 => 1u64..100,
            1 => 1u64..=u64::MAX,
            1 => (1u64 << 62)..=u64::MAX,
        ];
        (
            any::<i64>(),
            prop::collection::vec((step, 1usize..50), 0..40),
        )
            .prop_map(|(start, steps)| {
                let mut ts = vec![start];
                let mut t = start;
                'outer: for (step, reps) in steps {
                    for _ in 0..reps {
                        match t.checked_add_unsigned(step) {
                            Some(next) => {
                                t = next;
                                ts.push(t);
                            }
                            None => break 'outer,
                        }
                    }
                }
                ts
            })
    }

    proptest! {
        #[test]
        fn timestamps_round_trip(ts in arb_timestamps()) {
            round_trip(&ts);
        }

        #[test]
        fn sorted_random_round_trip(mut ts in prop::collection::vec(any::<i64>(), 0..500)) {
            ts.sort_unstable();
            ts.dedup();
            round_trip(&ts);
        }

        #[test]
        fn damaged_streams_never_panic(ts in arb_timestamps(), flip in any::<usize>(), cut in any::<usize>()) {
            let mut buf = Vec::new();
            encode_timestamps(&ts, &mut buf).unwrap();
            let mut out = Vec::new();
            let _ = decode_timestamps(&buf[..cut % (buf.len() + 1)], ts.len(), &mut out);
            prop_assert!(out.len() <= ts.len());
            let mut flipped = buf.clone();
            let bit = flip % (flipped.len() * 8);
            flipped[bit / 8] ^= 1 << (bit % 8);
            out.clear();
            if decode_timestamps(&flipped, ts.len(), &mut out).is_ok() {
                prop_assert!(out.windows(2).all(|w| w[0] < w[1]));
            }
        }
    }
}
