//! Float codec: f64 values, bit-exact (NaN payloads, ±inf, −0.0, subnormals).
//!
//! Each call keeps the smaller of two encodings (the decimal one on a tie, as it decodes
//! faster); the XOR one is only produced when a cheap lower bound of its size does not
//! already exceed the decimal one (see [`encode_f64`]):
//!
//! * **Decimal**: the smallest `d` in `0..=18` such that every value `v` satisfies
//!   `((v * 10^d).round() as i64) as f64 / 10^d == v` bit for bit (both operations are
//!   correctly rounded IEEE operations, so the decoder reproduces `v` exactly). The integers
//!   are then coded with the integer codec (delta + adaptive blocks). Sensor data printed
//!   with a fixed number of decimals (e.g. `234.84`) compresses far better this way. Any value
//!   that fails the check (NaN, infinities, −0.0, values with more digits) rejects the code.
//! * **XOR** (Gorilla-style): the first value raw, then each value XOR its predecessor: `0`
//!   for a repeat; `10` + the meaningful bits when they fit in the previous leading/trailing
//!   zero window; `11` + 6-bit leading zero count + 6-bit (meaningful length − 1) + bits.
//!
//! # Stream format
//!
//! ```text
//! byte 0   tag: 1 = XOR, 2 = decimal
//! XOR:     bitstream: varbits count, 64-bit first value, XOR codes
//! decimal: byte 1 = d, then an integer-codec stream of the scaled values
//! ```

use super::CodecError;
use super::bits::{BitReader, BitWriter, bit_width, mask};
use super::integers::{decode_integers_with, encode_i64};

const TAG_XOR: u8 = 1;
const TAG_DECIMAL: u8 = 2;

/// Largest number of decimal digits tried by the decimal code.
pub const MAX_DECIMAL_DIGITS: u8 = 18;

/// Exact powers of ten (every one up to 1e22 is exactly representable).
const POW10: [f64; MAX_DECIMAL_DIGITS as usize + 1] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18,
];

/// Which code a float stream uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FloatEncoding {
    Xor,
    Decimal { digits: u8 },
}

/// Appends the smaller of the XOR and the decimal encoding of `values` to `out`; returns the
/// one chosen.
///
/// The XOR encoding is only produced when it can win: a cheap lower bound of its size (one
/// bit per repeat, else 2 control bits plus the XOR's meaningful bits, see
/// [`xor_at_least`]) is accumulated first, and as soon as it reaches the size of the decimal
/// encoding the decimal one is kept. The result is the same as encoding both ways.
pub fn encode_f64(values: &[f64], out: &mut Vec<u8>) -> FloatEncoding {
    let start = out.len();
    let decimal = encode_f64_decimal(values, out);
    let decimal_len = out.len() - start;
    if let Some(digits) = decimal
        && xor_at_least(values, decimal_len)
    {
        return FloatEncoding::Decimal { digits };
    }
    let mut xor = Vec::with_capacity(if decimal.is_some() {
        decimal_len
    } else {
        values.len() * 8
    });
    encode_f64_xor(values, &mut xor);
    match decimal {
        Some(digits) if decimal_len <= xor.len() => FloatEncoding::Decimal { digits },
        _ => {
            out.truncate(start);
            out.extend_from_slice(&xor);
            FloatEncoding::Xor
        }
    }
}

/// Whether [`encode_f64_xor`] surely takes at least `bytes` bytes, from a lower bound of its
/// size: the tag, the count and first value, then per value one bit for a repeat, else the
/// 2 control bits plus the XOR's meaningful bits (the real code adds the window overhead).
/// Stops as soon as the bound reaches `bytes`, which for decimal data is early.
fn xor_at_least(values: &[f64], bytes: usize) -> bool {
    let Some((&first, _)) = values.split_first() else {
        return bytes <= 2;
    };
    // xor bytes = 1 + ceil(bits / 8) >= bytes when bits >= 8 (bytes - 1).
    let target = 8 * (bytes.saturating_sub(1) as u64);
    let mut bits = 7 + bit_width(values.len() as u64) as u64 + 64;
    let mut prev = first.to_bits();
    for chunk in values[1..].chunks(64) {
        if bits >= target {
            return true;
        }
        let mut part = 0u64;
        for &v in chunk {
            let b = v.to_bits();
            let x = b ^ prev;
            prev = b;
            // 2 control bits + meaningful bits (wraps for x = 0, which takes the other arm).
            let code = 66u64.wrapping_sub((x.leading_zeros() + x.trailing_zeros()) as u64);
            part += if x == 0 { 1 } else { code };
        }
        bits += part;
    }
    bits >= target
}

/// Appends the XOR encoding of `values` to `out`.
pub fn encode_f64_xor(values: &[f64], out: &mut Vec<u8>) {
    out.push(TAG_XOR);
    let mut w = BitWriter::new(out);
    w.write_varbits(values.len() as u64);
    if let Some((first, rest)) = values.split_first() {
        let mut prev = first.to_bits();
        w.write(prev, 64);
        // Current window: leading zeros and trailing zeros; none before the first `11` code.
        let mut window: Option<(u32, u32)> = None;
        for v in rest {
            let bits = v.to_bits();
            let x = bits ^ prev;
            prev = bits;
            if x == 0 {
                w.write(0, 1);
                continue;
            }
            let (lead, trail) = (x.leading_zeros(), x.trailing_zeros());
            match window {
                Some((wl, wt)) if lead >= wl && trail >= wt => {
                    // Bits `1` then `0`, LSB first.
                    w.write(0b01, 2);
                    w.write(x >> wt, 64 - wl - wt);
                }
                _ => {
                    let sig = 64 - lead - trail;
                    w.write(0b11, 2);
                    w.write(lead as u64, 6);
                    w.write(sig as u64 - 1, 6);
                    w.write(x >> trail, sig);
                    window = Some((lead, trail));
                }
            }
        }
    }
    w.finish();
}

/// The smallest number of decimal digits `d` with which every value survives
/// `(v * 10^d).round() as i64` and back bit-exactly; `None` when there is none up to
/// [`MAX_DECIMAL_DIGITS`].
pub fn decimal_digits(values: &[f64]) -> Option<u8> {
    scale_values(values, &mut Vec::new())
}

/// `1.5 × 2^52`: for `|x| < 2^51`, `x + MAGIC` is `MAGIC + x` rounded to an integer (to
/// nearest, ties to even), and its bits are those of `MAGIC` plus that integer.
const MAGIC: f64 = 6_755_399_441_055_744.0;
/// `2^51`, the bound of the magic-number rounding.
const MAGIC_LIMIT: f64 = 2_251_799_813_685_248.0;

/// [`decimal_digits`], also leaving the scaled integers in `ints` (cleared first).
///
/// One pass per tried `d` (normally one in all): the values are scaled 8 at a time without
/// branches, rounding with the magic number instead of `f64::round` (a libm call). That
/// rounds ties to even rather than away from zero, but never changes the outcome: for
/// `|x| < 2^51` a value whose `x = v · 10^d` is a tie `k + 1/2` survives with neither `k` nor
/// `k + 1` (if `i / 10^d` rounded to `v`, `v · 10^d` would be within `2^51 · 2^-53` of `i`,
/// and its rounding within `1/8` more, so not at distance 1/2), and elsewhere both roundings
/// agree. Groups holding a value outside that range (or one that fails) take the scalar
/// reference [`scale_exact`]. When a value fails, `d` is raised until it passes and the scan
/// restarts, which yields the smallest `d` that all values pass.
fn scale_values(values: &[f64], ints: &mut Vec<i64>) -> Option<u8> {
    let mut d = 0usize;
    'search: loop {
        ints.clear();
        ints.reserve(values.len());
        let p = POW10[d];
        let mut groups = values.chunks_exact(8);
        for group in &mut groups {
            let mut scaled = [0i64; 8];
            let mut ok = true;
            for (s, &v) in scaled.iter_mut().zip(group) {
                let x = v * p;
                let y = x + MAGIC;
                let back = (y - MAGIC) / p;
                ok &= (x.abs() < MAGIC_LIMIT) & (back.to_bits() == v.to_bits());
                *s = y.to_bits().wrapping_sub(MAGIC.to_bits()) as i64;
            }
            if ok {
                ints.extend_from_slice(&scaled);
                continue;
            }
            for &v in group {
                match scale_exact(v, d) {
                    Some(i) => ints.push(i),
                    None => {
                        d = first_passing_digits(v, d + 1)?;
                        continue 'search;
                    }
                }
            }
        }
        for &v in groups.remainder() {
            match scale_exact(v, d) {
                Some(i) => ints.push(i),
                None => {
                    d = first_passing_digits(v, d + 1)?;
                    continue 'search;
                }
            }
        }
        return Some(d as u8);
    }
}

/// The smallest `d >= from` with which `v` survives the scaling.
fn first_passing_digits(v: f64, from: usize) -> Option<usize> {
    (from..=MAX_DECIMAL_DIGITS as usize).find(|&d| scale_exact(v, d).is_some())
}

/// The reference scaling: `Some((v * 10^d).round() as i64)` when dividing it back by `10^d`
/// gives `v` bit for bit.
#[inline]
fn scale_exact(v: f64, d: usize) -> Option<i64> {
    let p = POW10[d];
    let i = (v * p).round() as i64;
    ((i as f64 / p).to_bits() == v.to_bits()).then_some(i)
}

/// Appends the decimal encoding of `values` to `out` and returns the digits used; returns
/// `None` (leaving `out` untouched) when some value does not survive the scaling exactly.
pub fn encode_f64_decimal(values: &[f64], out: &mut Vec<u8>) -> Option<u8> {
    let mut ints = Vec::new();
    let d = scale_values(values, &mut ints)?;
    out.push(TAG_DECIMAL);
    out.push(d);
    encode_i64(&ints, out);
    Some(d)
}

/// The encoding a float stream uses (from its first bytes).
pub fn float_encoding(bytes: &[u8]) -> Result<FloatEncoding, CodecError> {
    match bytes.first() {
        None => Err(CodecError::Truncated("float stream tag")),
        Some(&TAG_XOR) => Ok(FloatEncoding::Xor),
        Some(&TAG_DECIMAL) => match bytes.get(1) {
            None => Err(CodecError::Truncated("decimal digits")),
            Some(&d) if d <= MAX_DECIMAL_DIGITS => Ok(FloatEncoding::Decimal { digits: d }),
            Some(&d) => Err(CodecError::BadTag {
                what: "decimal digits",
                tag: d,
            }),
        },
        Some(&tag) => Err(CodecError::BadTag {
            what: "float stream",
            tag,
        }),
    }
}

/// Decodes a stream written by [`encode_f64`] (either encoding) holding exactly `expected`
/// values, appending them to `out`. `bytes` must be exactly the stream.
pub fn decode_f64(bytes: &[u8], expected: usize, out: &mut Vec<f64>) -> Result<(), CodecError> {
    match float_encoding(bytes)? {
        FloatEncoding::Decimal { digits } => {
            let p = POW10[digits as usize];
            decode_integers_with(
                &bytes[2..],
                expected,
                out,
                |out: &mut Vec<f64>, deltas: &mut [u64], last: &mut u64| {
                    emit_scaled(out, deltas, last, p)
                },
            )
        }
        FloatEncoding::Xor => decode_xor(&bytes[1..], expected, out),
    }
}

/// Appends `x as i64 as f64 / p` for the running sum `x` of `deltas` from `*last`. When every
/// integer is within ±2^51 (always, for sensor data) the conversion uses the exact
/// magic-number trick, which vectorizes (there is no packed i64 → f64 conversion before
/// AVX-512), so the divisions run two or four at a time.
#[inline]
fn emit_scaled(out: &mut Vec<f64>, deltas: &mut [u64], last: &mut u64, p: f64) {
    const MAGIC: f64 = 6_755_399_441_055_744.0; // 2^52 + 2^51
    let mut acc = *last;
    let mut outside = 0u64;
    for x in deltas.iter_mut() {
        acc = acc.wrapping_add(*x);
        *x = acc;
        outside |= acc.wrapping_add(1 << 51) >> 52;
    }
    *last = acc;
    if outside != 0 {
        out.extend(deltas.iter().map(|&x| x as i64 as f64 / p));
    } else if p == 1.0 {
        // d = 0 (integral values): dividing by 1 changes nothing, skip it.
        out.extend(
            deltas
                .iter()
                .map(|&x| f64::from_bits(x.wrapping_add(MAGIC.to_bits())) - MAGIC),
        );
    } else {
        // Exact for -2^51 <= x < 2^51: the bits are those of 2^52 + 2^51 + x.
        out.extend(
            deltas
                .iter()
                .map(|&x| (f64::from_bits(x.wrapping_add(MAGIC.to_bits())) - MAGIC) / p),
        );
    }
}

fn decode_xor(bytes: &[u8], expected: usize, out: &mut Vec<f64>) -> Result<(), CodecError> {
    let mut r = BitReader::new(bytes);
    let n = r.read_varbits("float count")?;
    if n != expected as u64 {
        return Err(CodecError::CountMismatch {
            what: "float stream",
            expected,
            found: usize::try_from(n).unwrap_or(usize::MAX),
        });
    }
    if expected == 0 {
        return r.finish("float stream");
    }
    out.reserve(expected);
    let mut prev = r.read(64);
    out.push(f64::from_bits(prev));
    let (mut lead, mut sig, mut have_window) = (0u32, 0u32, false);
    for _ in 1..expected {
        // Each code is at most 2 + 12 + 64 bits; checking every value keeps garbage bounded
        // by the input length.
        r.check("XOR float code")?;
        let control = r.read(2);
        if control & 1 != 0 {
            if control & 2 != 0 {
                lead = r.read(6) as u32;
                sig = r.read(6) as u32 + 1;
                if lead + sig > 64 {
                    return Err(CodecError::Corrupt("XOR float window"));
                }
                have_window = true;
            } else if !have_window {
                return Err(CodecError::Corrupt(
                    "XOR float code (window reused before set)",
                ));
            }
            let trail = 64 - lead - sig;
            prev ^= (r.read(sig) & mask(sig)) << trail;
        } else {
            // A single zero bit: the value repeats (the second control bit belongs to the
            // next code).
            r.set_pos(r.pos() - 1);
        }
        out.push(f64::from_bits(prev));
    }
    r.finish("float stream")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn round_trip(values: &[f64]) -> (FloatEncoding, usize) {
        let mut buf = Vec::new();
        let enc = encode_f64(values, &mut buf);
        assert_eq!(float_encoding(&buf).unwrap(), enc);
        let mut out = Vec::new();
        decode_f64(&buf, values.len(), &mut out).unwrap();
        let a: Vec<u64> = values.iter().map(|v| v.to_bits()).collect();
        let b: Vec<u64> = out.iter().map(|v| v.to_bits()).collect();
        assert_eq!(a, b);
        // The XOR code must round-trip on its own too.
        let mut xor = Vec::new();
        encode_f64_xor(values, &mut xor);
        out.clear();
        decode_f64(&xor, values.len(), &mut out).unwrap();
        let c: Vec<u64> = out.iter().map(|v| v.to_bits()).collect();
        assert_eq!(a, c);
        (enc, buf.len())
    }

    #[test]
    fn special_values() {
        let specials = [
            0.0,
            -0.0,
            f64::NAN,
            -f64::NAN,
            f64::from_bits(0x7ff0_0000_0000_0001),
            f64::from_bits(0xfff8_dead_beef_0001),
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MIN,
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::from_bits(1),
            -f64::from_bits(1),
            f64::EPSILON,
            1.0,
            -1.0,
        ];
        round_trip(&specials);
        for &v in &specials {
            round_trip(&[v]);
            round_trip(&[v, v, v]);
        }
        round_trip(&[]);
    }

    #[test]
    fn two_decimal_data_uses_decimal() {
        let values: Vec<f64> = (0..8192)
            .map(|i| 230.0 + ((i * 37) % 1000) as f64 / 100.0)
            .collect();
        let (enc, _) = round_trip(&values);
        assert_eq!(enc, FloatEncoding::Decimal { digits: 2 });
        let ints: Vec<f64> = (0..100).map(|i| (i % 7) as f64).collect();
        assert_eq!(round_trip(&ints).0, FloatEncoding::Decimal { digits: 0 });
        assert_eq!(decimal_digits(&[0.1, 0.25, 1.125]), Some(3));
    }

    #[test]
    fn decimal_with_huge_integers() {
        // Scaled integers beyond ±2^51 take the exact scalar conversion path.
        let values = [1e17, -2e17, 3.5e17, 1.0, 2f64.powi(52), -(2f64.powi(53))];
        assert_eq!(decimal_digits(&values), Some(0));
        let mut buf = Vec::new();
        assert_eq!(encode_f64_decimal(&values, &mut buf), Some(0));
        let mut out = Vec::new();
        decode_f64(&buf, values.len(), &mut out).unwrap();
        assert_eq!(out, values);
        let values: Vec<f64> = (0..300)
            .map(|i| {
                if i % 7 == 0 {
                    1e15 + i as f64
                } else {
                    i as f64 / 8.0
                }
            })
            .collect();
        round_trip(&values);
    }

    #[test]
    fn random_bits_use_xor() {
        let mut seed = 99u64;
        let values: Vec<f64> = (0..1000)
            .map(|_| {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                f64::from_bits(seed)
            })
            .collect();
        assert_eq!(round_trip(&values).0, FloatEncoding::Xor);
    }

    #[test]
    fn negative_zero_is_not_decimal() {
        assert_eq!(decimal_digits(&[1.5, -0.0, 2.0]), None);
        let mut values: Vec<f64> = (0..500).map(|i| i as f64 / 4.0).collect();
        values[100] = -0.0;
        let (enc, _) = round_trip(&values);
        assert_eq!(enc, FloatEncoding::Xor);
        assert_eq!(decimal_digits(&[0.0, 1.0]), Some(0));
        assert_eq!(decimal_digits(&[f64::NAN]), None);
        assert_eq!(decimal_digits(&[f64::INFINITY]), None);
        assert_eq!(decimal_digits(&[std::f64::consts::PI * 1e-10]), None);
        assert_eq!(decimal_digits(&[0.1 + 0.2]), Some(17));
    }

    #[test]
    fn constant_values_are_tiny() {
        let (_, len) = round_trip(&vec![3.25; 8192]);
        assert!(len <= 16, "{len}");
        let (_, len) = round_trip(&vec![f64::NAN; 8192]);
        assert!(len <= 8192 / 8 + 16, "{len}");
    }

    #[test]
    fn bad_tags() {
        let mut out = Vec::new();
        assert!(matches!(
            decode_f64(&[], 0, &mut out),
            Err(CodecError::Truncated(_))
        ));
        assert!(matches!(
            decode_f64(&[9, 0], 0, &mut out),
            Err(CodecError::BadTag { .. })
        ));
        assert!(matches!(
            decode_f64(&[2, 19, 0], 0, &mut out),
            Err(CodecError::BadTag { .. })
        ));
    }

    fn arb_f64() -> impl Strategy<Value = f64> {
        prop_oneof![
            any::<u64>().prop_map(f64::from_bits),
            (-100_000i64..100_000).prop_map(|i| i as f64 / 100.0),
            prop::sample::select(vec![
                0.0,
                -0.0,
                f64::NAN,
                f64::from_bits(0x7ff0_0000_0000_0001),
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::MIN,
                f64::MAX,
                f64::from_bits(1),
            ]),
        ]
    }

    /// The definition: the smallest `d` that every value passes with `f64::round`.
    fn reference_digits(values: &[f64]) -> Option<u8> {
        (0..=MAX_DECIMAL_DIGITS)
            .find(|&d| values.iter().all(|&v| scale_exact(v, d as usize).is_some()))
    }

    /// Encodes both ways and keeps the smaller (the decimal one on a tie).
    fn reference_encoding(values: &[f64]) -> Vec<u8> {
        let mut decimal = Vec::new();
        let mut xor = Vec::new();
        encode_f64_xor(values, &mut xor);
        match encode_f64_decimal(values, &mut decimal) {
            Some(_) if decimal.len() <= xor.len() => decimal,
            _ => xor,
        }
    }

    fn check_against_reference(values: &[f64]) -> Result<(), TestCaseError> {
        let digits = reference_digits(values);
        let mut ints = Vec::new();
        prop_assert_eq!(scale_values(values, &mut ints), digits);
        if let Some(d) = digits {
            let expected: Vec<i64> = values
                .iter()
                .map(|&v| scale_exact(v, d as usize).unwrap())
                .collect();
            prop_assert_eq!(ints, expected);
        }
        let mut buf = Vec::new();
        encode_f64(values, &mut buf);
        prop_assert_eq!(buf, reference_encoding(values));
        Ok(())
    }

    #[test]
    fn rounding_ties_and_range_edges() {
        let big = 2f64.powi(51);
        for values in [
            vec![0.5, 1.5, 2.5, -0.5, -2.5],
            vec![big - 0.5, big, -big, big + 1.0, big / 100.0 + 0.25],
            vec![0.125, 1e-300, 5e-324, 1e18, 9.2e18, 1e19],
            vec![0.3, 0.1 + 0.2, 1.0 / 3.0],
        ] {
            check_against_reference(&values).unwrap();
        }
    }

    fn arb_decimalish() -> impl Strategy<Value = f64> {
        prop_oneof![
            (any::<i64>(), 0usize..19).prop_map(|(i, d)| i as f64 / POW10[d]),
            (-(1i64 << 53)..(1i64 << 53), 0u32..12)
                .prop_map(|(i, s)| i as f64 / (1u64 << s) as f64),
            (-2_000_000i64..2_000_000, 0usize..8).prop_map(|(i, d)| i as f64 / POW10[d]),
            arb_f64(),
        ]
    }

    proptest! {
        #[test]
        fn fast_scaling_matches_reference(values in prop::collection::vec(arb_decimalish(), 0..60)) {
            check_against_reference(&values)?;
        }

        #[test]
        fn floats_round_trip(values in prop::collection::vec(arb_f64(), 0..400)) {
            round_trip(&values);
        }

        #[test]
        fn decimal_round_trip(ints in prop::collection::vec(-10_000_000i64..10_000_000, 1..400), d in 0usize..7) {
            let values: Vec<f64> = ints.iter().map(|&i| i as f64 / POW10[d]).collect();
            let digits = decimal_digits(&values);
            prop_assert!(digits.is_some_and(|x| x as usize <= d));
            round_trip(&values);
        }

        #[test]
        fn damaged_streams_never_panic(values in prop::collection::vec(arb_f64(), 1..300), flip in any::<usize>(), cut in any::<usize>()) {
            let mut buf = Vec::new();
            encode_f64(&values, &mut buf);
            let mut out = Vec::new();
            let _ = decode_f64(&buf[..cut % (buf.len() + 1)], values.len(), &mut out);
            prop_assert!(out.len() <= values.len());
            let mut flipped = buf.clone();
            let bit = flip % (flipped.len() * 8);
            flipped[bit / 8] ^= 1 << (bit % 8);
            out.clear();
            let _ = decode_f64(&flipped, values.len(), &mut out);
            prop_assert!(out.len() <= values.len());
        }
    }
}
