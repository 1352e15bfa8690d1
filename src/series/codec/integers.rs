//! Integer codec: i64 / u64 values as deltas, coded per block with the cheapest of four
//! bit-level codes; long runs of zero deltas (repeated values) cost a few bits.
//!
//! The residual coder in this module (`encode_residuals` / `decode_residuals`) is shared with
//! the timestamp codec, which feeds it delta-of-deltas instead of deltas.
//!
//! # Stream format (one LSB-first bitstream, zero-padded to a byte)
//!
//! ```text
//! varbits  count n                      (7-bit width w, then w bits)
//! varbits  zigzag(first value)          (only when n >= 1; u64 values are taken as i64 bits)
//! tokens   the n-1 deltas (wrapping u64 differences, read as i64)
//! ```
//!
//! Tokens, until all residuals are covered (bits in the order they are read):
//!
//! ```text
//! 1                        block of 128 residuals, same header as the previous block
//! 0 1 s                    block of 128, header = previous header ± 1 (s = 1: minus)
//! 0 0 1 h:8                block of 128, explicit header
//! 0 0 0 1 gamma(len - 32)  run of len (>= 32) zero residuals
//! 0 0 0 0 (len-1):7 H      shorter block (before a run, or at the end); H is `1` (same),
//!                          `0 1 s` (± 1) or `0 0 h:8`
//! ```
//!
//! The "previous header" starts as Rice k = 6. Block parameters drift slowly in real data,
//! so most headers cost 1–3 bits instead of 8 (the encoder counts that in its choice).
//!
//! A block header is the byte `mode << 6 | param`:
//!
//! | mode | name | param | payload |
//! |------|------|-------|---------|
//! | 0 | frame of reference | width w (0..=63) | varbits zigzag(min), then n × w bits of `r - min` |
//! | 1 | Rice | k (0..=63) | n × k low bits of zigzag(r), then n unary quotients `zigzag(r) >> k` |
//! | 2 | Exp-Golomb | k (0..=63) | n unary lengths L, then n × (L + k) payload bits |
//! | 3 | raw | 0 | n × 64 bits |
//!
//! A unary code is q zero bits then a one. The split layout (all fixed-width fields of a
//! block, then all unary fields, or the other way round) is what makes decoding fast:
//! fixed-width fields are unpacked 8 at a time with compile-time shifts, and unary fields
//! are decoded a byte at a time through a table of set-bit positions, without a branch per
//! value. A block is only coded with Rice / Exp-Golomb when that is cheaper than raw, which
//! bounds its unary section (the decoder rejects longer ones).
//!
//! Exp-Golomb of order k codes z as `L = floor(log2((z >> k) + 1))` in unary, followed by
//! `L + k` bits `p`, with `z = ((2^L - 1) << k) + p`. It suits heavy-tailed residuals (mostly
//! small, a few large jumps), Rice suits Laplacian-like noise, frame of reference suits
//! near-uniform data and constant non-zero deltas (width 0).

use super::CodecError;
use super::bits::{
    ALIGNED_BYTES, BitReader, BitWriter, UNPACK_COUNT, bit_width, get_bits64, mask, unpack,
    unzigzag, zigzag,
};

/// Residuals per block.
pub(crate) const BLOCK: usize = UNPACK_COUNT;
const BLOCK_LOG2: u32 = 7;
/// Shortest run of zero residuals coded as a run token.
pub(crate) const MIN_RUN: usize = 32;

const MODE_FOR: u64 = 0;
const MODE_RICE: u64 = 1;
const MODE_EG: u64 = 2;
const MODE_RAW: u64 = 3;

// ---------------------------------------------------------------------------------------------
// Public API

/// Appends the encoding of `values` to `out`.
pub fn encode_i64(values: &[i64], out: &mut Vec<u8>) {
    let mut residuals = Vec::with_capacity(values.len().saturating_sub(1));
    residuals.extend(values.windows(2).map(|w| w[1].wrapping_sub(w[0])));
    let mut w = BitWriter::new(out);
    w.write_varbits(values.len() as u64);
    if let Some(&first) = values.first() {
        w.write_varbits(zigzag(first));
        encode_residuals(&mut w, &residuals);
    }
    w.finish();
}

/// Appends the encoding of `values` to `out` (same format as i64, on the same bits).
pub fn encode_u64(values: &[u64], out: &mut Vec<u8>) {
    let mut residuals = Vec::with_capacity(values.len().saturating_sub(1));
    residuals.extend(values.windows(2).map(|w| w[1].wrapping_sub(w[0]) as i64));
    let mut w = BitWriter::new(out);
    w.write_varbits(values.len() as u64);
    if let Some(&first) = values.first() {
        w.write_varbits(zigzag(first as i64));
        encode_residuals(&mut w, &residuals);
    }
    w.finish();
}

/// Decodes a stream written by [`encode_i64`] holding exactly `expected` values, appending
/// them to `out`. `bytes` must be exactly the stream (trailing bytes are an error).
pub fn decode_i64(bytes: &[u8], expected: usize, out: &mut Vec<i64>) -> Result<(), CodecError> {
    decode_integers_with(
        bytes,
        expected,
        out,
        |out: &mut Vec<i64>, deltas: &mut [u64], last: &mut u64| {
            let mut acc = *last;
            out.extend(deltas.iter().map(|&d| {
                acc = acc.wrapping_add(d);
                acc as i64
            }));
            *last = acc;
        },
    )
}

/// Decodes a stream written by [`encode_u64`]; see [`decode_i64`].
pub fn decode_u64(bytes: &[u8], expected: usize, out: &mut Vec<u64>) -> Result<(), CodecError> {
    decode_integers_with(
        bytes,
        expected,
        out,
        |out: &mut Vec<u64>, deltas: &mut [u64], last: &mut u64| {
            let mut acc = *last;
            out.extend(deltas.iter().map(|&d| {
                acc = acc.wrapping_add(d);
                acc
            }));
            *last = acc;
        },
    )
}

/// Decodes an integer stream. `emit(out, deltas, last)` (which may overwrite `deltas`) appends the values given by the
/// running sum of `deltas` (u64 bits, at most [`BLOCK`] at a time) starting from `*last` to
/// `out`, converting them as it likes, and leaves the last value in `*last`.
pub(crate) fn decode_integers_with<T, F: FnMut(&mut Vec<T>, &mut [u64], &mut u64)>(
    bytes: &[u8],
    expected: usize,
    out: &mut Vec<T>,
    mut emit: F,
) -> Result<(), CodecError> {
    let mut r = BitReader::new(bytes);
    let n = r.read_varbits("integer count")?;
    if n != expected as u64 {
        return Err(CodecError::CountMismatch {
            what: "integer stream",
            expected,
            found: usize::try_from(n).unwrap_or(usize::MAX),
        });
    }
    if expected > 0 {
        let first = unzigzag(r.read_varbits("first integer")?) as u64;
        out.reserve(expected);
        let mut last = 0;
        emit(out, &mut [first], &mut last);
        let mut sink = DeltaSink { out, last, emit };
        decode_residuals(&mut r, expected - 1, &mut sink)?;
    }
    r.finish("integer stream")
}

struct DeltaSink<'a, T, F> {
    out: &'a mut Vec<T>,
    last: u64,
    emit: F,
}

impl<T, F: FnMut(&mut Vec<T>, &mut [u64], &mut u64)> Sink for DeltaSink<'_, T, F> {
    #[inline]
    fn run(&mut self, mut len: usize) -> Result<(), CodecError> {
        while len > 0 {
            // Fresh zeros every time: the emitter may overwrite the slice.
            let mut zeros = [0u64; BLOCK];
            let part = len.min(BLOCK);
            (self.emit)(self.out, &mut zeros[..part], &mut self.last);
            len -= part;
        }
        Ok(())
    }

    #[inline]
    fn block(&mut self, residuals: &mut [u64]) -> Result<(), CodecError> {
        (self.emit)(self.out, residuals, &mut self.last);
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Residual token stream (shared with the timestamp codec)

/// Receives decoded residuals.
pub(crate) trait Sink {
    /// `len` zero residuals.
    fn run(&mut self, len: usize) -> Result<(), CodecError>;
    /// A block of residuals (i64 bits); the sink may overwrite the slice.
    fn block(&mut self, residuals: &mut [u64]) -> Result<(), CodecError>;
}

/// Header a stream starts from: the first block header is coded relative to it.
const INITIAL_HEADER: u8 = (MODE_RICE as u8) << 6 | 6;

/// Writes the header of a block relative to the previous block's header: `1` same, `01 s`
/// previous ± 1 (`s` = 1 for minus), `00 h:8` explicit (see [`header_bits`]).
fn write_header_code(w: &mut BitWriter, header: u8, prev: u8) {
    if header == prev {
        w.write(0b1, 1);
    } else if header == prev.wrapping_add(1) {
        w.write(0b010, 3);
    } else if header == prev.wrapping_sub(1) {
        w.write(0b110, 3);
    } else {
        w.write(0b00, 2);
        w.write(header as u64, 8);
    }
}

/// Bits a full block's header costs after `prev` (see [`encode_residuals`]).
fn header_bits(header: u8, prev: u8) -> u64 {
    if header == prev {
        1
    } else if header == prev.wrapping_add(1) || header == prev.wrapping_sub(1) {
        3
    } else {
        11
    }
}

fn read_header_code(r: &mut BitReader, prev: u8) -> u8 {
    if r.read_bit() {
        prev
    } else if r.read_bit() {
        if r.read_bit() {
            prev.wrapping_sub(1)
        } else {
            prev.wrapping_add(1)
        }
    } else {
        r.read(8) as u8
    }
}

/// Writes the token stream for `residuals`:
///
/// ```text
/// 1                        full block, same header as the previous block
/// 01 s                     full block, header = previous ± 1 (s = 1: minus)
/// 001 h:8                  full block, explicit header
/// 0001 gamma(len - 32)     run of len zero residuals
/// 0000 (len-1):7 H         shorter block; H: 1 same | 01 s | 00 h:8
/// ```
pub(crate) fn encode_residuals(w: &mut BitWriter, residuals: &[i64]) {
    let m = residuals.len();
    let mut prev = INITIAL_HEADER;
    let mut zbuf = [0u64; BLOCK];
    let mut i = 0;
    while i < m {
        let run = residuals[i..].iter().take_while(|&&r| r == 0).count();
        if run >= MIN_RUN {
            w.write(0b1000, 4);
            w.write_gamma((run - MIN_RUN) as u64);
            i += run;
            continue;
        }
        // A block: up to BLOCK residuals, cut short where a run of MIN_RUN zeros begins (such
        // a run cannot begin at `start`, the check above just ruled that out).
        let start = i;
        let end = m.min(start + BLOCK);
        let mut j = end;
        let mut zeros = 0usize;
        for (at, &r) in residuals[start..end].iter().enumerate() {
            // Branch-free: a zero residual extends the count, anything else resets it.
            zeros = (zeros + 1) * usize::from(r == 0);
            if zeros == MIN_RUN {
                j = start + at + 1 - MIN_RUN;
                break;
            }
        }
        let block = &residuals[start..j];
        let z = &mut zbuf[..block.len()];
        let mode = choose_mode(block, z, prev);
        let header = mode.header();
        if block.len() == BLOCK {
            if header == prev {
                w.write(0b1, 1);
            } else if header == prev.wrapping_add(1) {
                w.write(0b010, 3);
            } else if header == prev.wrapping_sub(1) {
                w.write(0b110, 3);
            } else {
                w.write(0b100, 3);
                w.write(header as u64, 8);
            }
        } else {
            w.write(0b0000, 4);
            w.write((block.len() - 1) as u64, BLOCK_LOG2);
            write_header_code(w, header, prev);
        }
        write_block(w, block, z, mode);
        prev = header;
        i = j;
    }
}

/// Reads the token stream for exactly `m` residuals into `sink`.
pub(crate) fn decode_residuals<S: Sink>(
    r: &mut BitReader,
    m: usize,
    sink: &mut S,
) -> Result<(), CodecError> {
    let mut scratch = Scratch::new();
    let mut prev = INITIAL_HEADER;
    let mut done = 0;
    while done < m {
        let left = m - done;
        let (len, header) = if r.read_bit() {
            (BLOCK, prev)
        } else if r.read_bit() {
            (
                BLOCK,
                if r.read_bit() {
                    prev.wrapping_sub(1)
                } else {
                    prev.wrapping_add(1)
                },
            )
        } else if r.read_bit() {
            (BLOCK, r.read(8) as u8)
        } else if r.read_bit() {
            let extra = r.read_gamma("run length")?;
            let len = usize::try_from(extra)
                .ok()
                .and_then(|e| e.checked_add(MIN_RUN))
                .filter(|&len| len <= left)
                .ok_or(CodecError::Corrupt("run length exceeds the point count"))?;
            sink.run(len)?;
            done += len;
            continue;
        } else {
            let len = r.read(BLOCK_LOG2) as usize + 1;
            (len, read_header_code(r, prev))
        };
        r.check("block header")?;
        if len > left {
            return Err(CodecError::Corrupt("block length exceeds the point count"));
        }
        let end = decode_block(r.data(), r.pos(), header, len, &mut scratch)?;
        r.set_pos(end);
        r.check("block")?;
        sink.block(&mut scratch.out[..len])?;
        prev = header;
        done += len;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Blocks

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    For { width: u32, min: i64 },
    Rice { k: u32 },
    ExpGolomb { k: u32 },
    Raw,
}

impl Mode {
    fn header(self) -> u8 {
        let (mode, param) = match self {
            Mode::For { width, .. } => (MODE_FOR, width),
            Mode::Rice { k } => (MODE_RICE, k),
            Mode::ExpGolomb { k } => (MODE_EG, k),
            Mode::Raw => (MODE_RAW, 0),
        };
        (mode << 6) as u8 | param as u8
    }
}

/// Bits of the Rice code of `z` (n × (1 + k) + Σ z >> k), saturating.
fn rice_cost(z: &[u64], k: u32) -> u64 {
    let mut q = 0u64;
    for &x in z {
        q = q.saturating_add(x >> k);
    }
    q.saturating_add(z.len() as u64 * (1 + k as u64))
}

/// Bits of the Exp-Golomb code of `z`; `None` when some value cannot be coded with this k.
fn eg_cost(z: &[u64], k: u32) -> Option<u64> {
    let mut bits = 0u64;
    for &x in z {
        let m = (x >> k).checked_add(1)?;
        bits += 2 * (bit_width(m) as u64 - 1);
    }
    Some(bits + z.len() as u64 * (1 + k as u64))
}

/// Widest zigzagged residual [`choose_mode`] handles on its fast path: sums of 128 such
/// values fit in a u64, and `z + 2^k` cannot overflow.
const FAST_MAX_WIDTH: u32 = 56;

/// The cheapest coding of a block, header included (coded relative to `prev`); also fills
/// `z` with the zigzagged residuals.
///
/// The candidates are those of [`choose_mode_exhaustive`], which this returns the same mode
/// as, but evaluated more cheaply when every zigzagged residual has at most
/// [`FAST_MAX_WIDTH`] bits (the usual case):
///
/// * one pass for zigzag, min, max, sum (a u64 suffices) and the width histogram;
/// * one pass for the Rice costs of all four k candidates at once;
/// * Exp-Golomb candidates are evaluated only when their histogram estimate, which is a
///   lower bound of their cost, beats the best cost so far; and then exactly, as the
///   estimate plus 2 bits per quotient `q >= 1` with `q + 1` a power of two (the values
///   whose length exceeds the estimate by one), in one pass for all candidates.
fn choose_mode(residuals: &[i64], z: &mut [u64], prev: u8) -> Mode {
    let n = residuals.len().min(z.len());
    let (residuals, z) = (&residuals[..n], &mut z[..n]);
    let mut min = i64::MAX;
    let mut max = i64::MIN;
    let mut or = 0u64;
    let mut sum = 0u64;
    for (zi, &r) in z.iter_mut().zip(residuals) {
        let x = zigzag(r);
        *zi = x;
        min = min.min(r);
        max = max.max(r);
        or |= x;
        sum = sum.wrapping_add(x);
    }
    let widest = bit_width(or);
    if widest > FAST_MAX_WIDTH || n == 0 {
        return choose_mode_exhaustive(residuals, z, prev);
    }
    // Width histogram, split in four so that equal widths in a row do not wait on each
    // other's increments.
    let mut hist = [[0u8; 64]; 4];
    let mut quads = z.chunks_exact(4);
    for q in &mut quads {
        for (h, &x) in hist.iter_mut().zip(q) {
            h[(bit_width(x) & 63) as usize] += 1;
        }
    }
    for &x in quads.remainder() {
        hist[0][(bit_width(x) & 63) as usize] += 1;
    }
    let mut widths = [0u64; 64];
    for (b, w) in widths.iter_mut().enumerate().take(widest as usize + 1) {
        *w = hist.iter().map(|h| h[b] as u64).sum();
    }

    let n = n as u64;
    let hdr = |m: Mode| header_bits(m.header(), prev);
    let mut best = Mode::Raw;
    let mut best_cost = 64 * n + hdr(Mode::Raw);
    let width = bit_width(max.wrapping_sub(min) as u64);
    if width < 64 {
        let mode = Mode::For { width, min };
        let cost = 7 + bit_width(zigzag(min)) as u64 + n * width as u64 + hdr(mode);
        if cost <= best_cost {
            best = mode;
            best_cost = cost;
        }
    }
    // Rice, k in kb - 2 ..= kb + 1 (clamped at 0): all four quotient sums in one pass.
    let kb = bit_width(sum / n);
    let k0 = kb.saturating_sub(2);
    let klast = kb + 1; // <= 57
    let (mut q0, mut q1, mut q2, mut q3) = (0u64, 0u64, 0u64, 0u64);
    for &x in z.iter() {
        q0 += x >> k0;
        q1 += x >> (k0 + 1);
        q2 += x >> (k0 + 2);
        q3 += x >> (k0 + 3);
    }
    let q = [q0, q1, q2, q3];
    for (j, &qj) in q.iter().enumerate() {
        let k = k0 + j as u32;
        if k > klast {
            break;
        }
        let mode = Mode::Rice { k };
        let cost = qj + n * (1 + k as u64) + hdr(mode);
        if cost < best_cost {
            best = mode;
            best_cost = cost;
        }
    }
    // Exp-Golomb: the estimate of `choose_mode_exhaustive`, restricted to the k where it
    // can change (above `widest - 1` it only grows).
    let est = |k: u32| -> u64 {
        let mut extra = 0u64;
        for (b, &h) in widths
            .iter()
            .enumerate()
            .take(widest as usize + 1)
            .skip(k as usize + 2)
        {
            extra += h * (b as u64 - k as u64 - 1);
        }
        n * (1 + k as u64) + 2 * extra
    };
    let (mut cnt, mut wsum) = (0u64, 0u64);
    let top = widest.saturating_sub(1);
    let mut est_best = (u64::MAX, 0u32);
    for k in (0..=top).rev() {
        let b = k as usize + 2;
        if b <= widest as usize {
            cnt += widths[b];
            wsum += widths[b] * b as u64;
        }
        let e = n * (1 + k as u64) + 2 * (wsum - (k as u64 + 1) * cnt);
        if e <= est_best.0 {
            est_best = (e, k);
        }
    }
    let ke = est_best.1;
    let ks = ke.saturating_sub(1);
    let mut cand = [(0u32, 0u64); 3];
    let mut nc = 0;
    for k in ks..=(ke + 1).min(63) {
        let e = est(k) + hdr(Mode::ExpGolomb { k });
        if e < best_cost {
            cand[nc] = (k, e);
            nc += 1;
        }
    }
    if nc > 0 {
        // Per candidate, the quotients `q >= 1` with `q + 1` a power of two: those with
        // `q & (q + 1) == 0`, minus the zero quotients (`z < 2^k`, from the histogram).
        // `q < 2^56`, so `0 - y` has its top bit set exactly when `y != 0` (no branch, no
        // 64-bit compare: this vectorizes).
        let nonzero = |y: u64| 0u64.wrapping_sub(y) >> 63;
        let (k0, k1, k2) = (cand[0].0, cand[1].0, cand[2].0);
        let (mut e0, mut e1, mut e2) = (0u64, 0u64, 0u64);
        for &x in z.iter() {
            let (q0, q1, q2) = (x >> k0, x >> k1, x >> k2);
            e0 += nonzero(q0 & (q0 + 1));
            e1 += nonzero(q1 & (q1 + 1));
            e2 += nonzero(q2 & (q2 + 1));
        }
        let small = |k: u32| -> u64 { widths[..=(k.min(widest) as usize)].iter().sum() };
        let extra = [n - e0 - small(k0), n - e1 - small(k1), n - e2 - small(k2)];
        for (&(k, e), &x) in cand[..nc].iter().zip(&extra) {
            let cost = e + 2 * x;
            if cost < best_cost {
                best = Mode::ExpGolomb { k };
                best_cost = cost;
            }
        }
    }
    best
}

/// The cheapest coding of a block among a few candidates per mode, header included: the
/// reference implementation of [`choose_mode`], used directly for blocks with very wide
/// residuals.
fn choose_mode_exhaustive(residuals: &[i64], z: &mut [u64], prev: u8) -> Mode {
    let n = residuals.len() as u64;
    let mut min = i64::MAX;
    let mut max = i64::MIN;
    let mut sum = 0u128;
    // Histogram of bit widths, for the Exp-Golomb parameter estimate.
    let mut widths = [0u32; 65];
    for (zi, &r) in z.iter_mut().zip(residuals) {
        *zi = zigzag(r);
        min = min.min(r);
        max = max.max(r);
        sum += *zi as u128;
        widths[bit_width(*zi) as usize] += 1;
    }
    let hdr = |m: Mode| header_bits(m.header(), prev);
    let mut best = Mode::Raw;
    let mut best_cost = 64 * n + hdr(Mode::Raw);
    let width = bit_width(max.wrapping_sub(min) as u64);
    if width < 64 {
        let mode = Mode::For { width, min };
        let cost = 7 + bit_width(zigzag(min)) as u64 + n * width as u64 + hdr(mode);
        if cost <= best_cost {
            best = mode;
            best_cost = cost;
        }
    }
    // Rice: the optimum is near log2 of the mean.
    let mean = (sum / n as u128).min(u64::MAX as u128) as u64;
    let kb = bit_width(mean);
    for k in kb.saturating_sub(2)..=(kb + 1).min(63) {
        let mode = Mode::Rice { k };
        let cost = rice_cost(z, k).saturating_add(hdr(mode));
        if cost < best_cost {
            best = mode;
            best_cost = cost;
        }
    }
    // Exp-Golomb: a value of width b > k costs about 1 + k + 2 (b - k - 1) bits, so the cost
    // of every k follows from the width histogram; the exact cost is then evaluated around
    // the estimated optimum. Suffix sums over the histogram: cnt = Σ h[b], wsum = Σ h[b]·b
    // for b >= k + 2.
    let (mut cnt, mut wsum) = (0u64, 0u64);
    let mut est_best = (u64::MAX, 0u32);
    for k in (0..=63u32).rev() {
        let b = k as usize + 2;
        if b <= 64 {
            cnt += widths[b] as u64;
            wsum += widths[b] as u64 * b as u64;
        }
        let est = n * (1 + k as u64) + 2 * (wsum - (k as u64 + 1) * cnt);
        if est <= est_best.0 {
            est_best = (est, k);
        }
    }
    let ke = est_best.1;
    for k in ke.saturating_sub(1)..=(ke + 1).min(63) {
        let mode = Mode::ExpGolomb { k };
        let cost = eg_cost(z, k).map_or(u64::MAX, |c| c + hdr(mode));
        if cost < best_cost {
            best = mode;
            best_cost = cost;
        }
    }
    best
}

/// Writes the payload of a block (the header is written by the caller).
fn write_block(w: &mut BitWriter, residuals: &[i64], z: &[u64], mode: Mode) {
    let n = z.len();
    match mode {
        Mode::For { width, min } => {
            w.write_varbits(zigzag(min));
            w.bulk(n * width as usize, |f| {
                if width <= 56 {
                    for &r in residuals {
                        f.put(r.wrapping_sub(min) as u64, width);
                    }
                } else {
                    for &r in residuals {
                        f.put_wide(r.wrapping_sub(min) as u64, width);
                    }
                }
            });
        }
        Mode::Rice { k } => {
            // The mode choice (cheaper than raw) keeps this within what the decoder accepts.
            debug_assert!(
                z.len() as u64 + rice_cost(z, k) - z.len() as u64 * (1 + k as u64)
                    <= MAX_UNARY_BITS as u64 - 8
            );
            w.bulk(n * (k as usize + 2), |f| {
                if k <= 56 {
                    let m = mask(k);
                    for &x in z {
                        f.put(x & m, k);
                    }
                } else {
                    for &x in z {
                        f.put_wide(x, k);
                    }
                }
                for &x in z {
                    f.put_unary(x >> k);
                }
            });
        }
        Mode::ExpGolomb { k } => {
            w.bulk(n * (k as usize + 4), |f| {
                for &x in z {
                    f.put_unary(bit_width((x >> k) + 1) as u64 - 1);
                }
                for &x in z {
                    let len = bit_width((x >> k) + 1) - 1;
                    // p = z - ((2^len - 1) << k), which has len + k bits.
                    let p = x - (((1u64 << len) - 1) << k);
                    f.put_wide(p, len + k);
                }
            });
        }
        Mode::Raw => {
            w.bulk(n * 64, |f| {
                for &r in residuals {
                    f.put_wide(r as u64, 64);
                }
            });
        }
    }
}

/// Powers of two, to avoid variable shifts (slow without BMI2) in the Exp-Golomb loop.
const POW2: [u64; 64] = {
    let mut t = [0u64; 64];
    let mut i = 0;
    while i < 64 {
        t[i] = 1 << i;
        i += 1;
    }
    t
};

/// Longest unary section of a block the encoder can produce: a block is only coded with Rice
/// or Exp-Golomb when that is cheaper than 64 bits per value, which bounds the unary bits.
const MAX_UNARY_BITS: usize = 64 * BLOCK + 64;

/// For each byte value: the number of set bits, and their bit indexes (padded with zeros).
const ONES_COUNT: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = (b as u8).count_ones() as u8;
        b += 1;
    }
    t
};
const ONES_AT: [[u8; 8]; 256] = {
    let mut t = [[0u8; 8]; 256];
    let mut b = 0;
    while b < 256 {
        let mut c = 0;
        let mut bit = 0;
        while bit < 8 {
            if b & (1 << bit) != 0 {
                t[b][c] = bit as u8;
                c += 1;
            }
            bit += 1;
        }
        b += 1;
    }
    t
};

/// Work space of the block decoder, allocated once per stream (zeroing it per block showed up
/// in profiles).
pub(crate) struct Scratch {
    /// The decoded residuals of the current block.
    pub(crate) out: [u64; BLOCK],
    aligned: [u8; ALIGNED_BYTES],
    ones: [u32; BLOCK + 8],
    widths: [u32; BLOCK],
    payload: [u8; 1040],
}

impl Scratch {
    pub(crate) fn new() -> Self {
        Scratch {
            out: [0; BLOCK],
            aligned: [0; ALIGNED_BYTES],
            ones: [0; BLOCK + 8],
            widths: [0; BLOCK],
            payload: [0; 1040],
        }
    }
}

/// Decodes `n` unary codes (zeros ended by a one) starting at bit `pos`: fills `at[..n]`
/// with the bit positions of their terminating ones, relative to bit 0 of byte `pos / 8`.
/// Returns the position after the last code. Code `j` is `at[j] - at[j - 1] - 1` (with
/// `at[-1] = pos % 8 - 1`), at most `MAX_UNARY_BITS`.
///
/// Works a byte at a time: a table gives the indexes of the byte's set bits, all eight
/// candidates are stored and the output index advances by the byte's popcount, so there is
/// no branch per value.
#[inline(always)]
fn decode_unary(
    data: &[u8],
    pos: usize,
    n: usize,
    at: &mut [u32; BLOCK + 8],
) -> Result<usize, CodecError> {
    let n = n.min(BLOCK);
    if n == 0 {
        return Ok(pos);
    }
    let first_byte = pos >> 3;
    let skip = (pos & 7) as u32;
    let end_byte = data.len().min(first_byte + MAX_UNARY_BITS / 8);
    let mut i = 0;
    let mut base = 0u32;
    let mut byte = first_byte;
    let mut bits = match data.get(byte) {
        Some(&b) => b & (0xFFu8 << skip),
        None => return Err(CodecError::Truncated("unary code")),
    };
    loop {
        let ones = &ONES_AT[bits as usize];
        if let Some(dst) = at.get_mut(i..i + 8) {
            for (d, &o) in dst.iter_mut().zip(ones) {
                *d = base + o as u32;
            }
        }
        i += ONES_COUNT[bits as usize] as usize;
        if i >= n {
            break;
        }
        base += 8;
        byte += 1;
        if byte >= end_byte {
            return Err(if byte >= data.len() {
                CodecError::Truncated("unary code")
            } else {
                CodecError::Corrupt("unary code (too long)")
            });
        }
        bits = data[byte];
    }
    Ok(first_byte * 8 + at[n - 1] as usize + 1)
}

/// Decodes one block of `n` residuals (payload at bit `pos`) into `out[..n]` (as i64 bits);
/// returns the bit position after the block. The caller checks it against the input length.
fn decode_block(
    data: &[u8],
    pos: usize,
    header: u8,
    n: usize,
    s: &mut Scratch,
) -> Result<usize, CodecError> {
    let n = n.min(BLOCK);
    let out = &mut s.out;
    let param = (header & 63) as u32;
    match (header >> 6) as u64 {
        MODE_FOR => {
            let mut r = BitReader::new(data);
            r.set_pos(pos);
            let min = unzigzag(r.read_varbits("block reference")?) as u64;
            let pos = r.pos();
            unpack(data, pos, param, &mut s.aligned, out);
            for o in out.iter_mut() {
                *o = min.wrapping_add(*o);
            }
            Ok(pos + n * param as usize)
        }
        MODE_RICE => {
            let k = param;
            unpack(data, pos, k, &mut s.aligned, out);
            let unary_pos = pos + n * k as usize;
            let end = decode_unary(data, unary_pos, n, &mut s.ones)?;
            let mut prev = ((unary_pos & 7) as u32).wrapping_sub(1);
            // A quotient (< MAX_UNARY_BITS < 2^14) must leave room for the k remainder bits.
            if k > 50 {
                let mut p = prev;
                for &a in &s.ones[..n] {
                    let q = a.wrapping_sub(p).wrapping_sub(1) as u64;
                    p = a;
                    if q >> (64 - k) != 0 {
                        return Err(CodecError::Corrupt("Rice quotient"));
                    }
                }
            }
            for (o, &a) in out.iter_mut().zip(&s.ones[..n]) {
                let q = a.wrapping_sub(prev).wrapping_sub(1) as u64;
                prev = a;
                *o = unzigzag(*o | (q << k)) as u64;
            }
            Ok(end)
        }
        MODE_EG => {
            let k = param;
            let unary_pos = pos;
            let mut pos = decode_unary(data, unary_pos, n, &mut s.ones)?;
            let first_prev = ((unary_pos & 7) as u32).wrapping_sub(1);
            // Payload widths (len + k); the one-load path handles up to 56 bits each.
            let mut prev = first_prev;
            let mut widest = 0u32;
            let mut total = 0usize;
            for (w, &a) in s.widths.iter_mut().zip(&s.ones[..n]) {
                let len = a.wrapping_sub(prev).wrapping_sub(1);
                prev = a;
                widest = widest.max(len);
                *w = len.wrapping_add(k);
                total += *w as usize;
            }
            let widest = widest.saturating_add(k);
            prev = first_prev;
            if widest <= 56 {
                // Copy the payload into a fixed buffer (at most 7 + 128 × 56 bits, 897 bytes)
                // so that the loads below need no bounds checks.
                let first = pos >> 3;
                let bytes = ((pos & 7) + total).div_ceil(8);
                let src = data.get(first..).unwrap_or(&[]);
                let avail = bytes.min(src.len());
                s.payload[..avail].copy_from_slice(&src[..avail]);
                s.payload[avail..avail + 8].fill(0);
                // z = ((2^len - 1) << k) + p = (p + 2^w) - 2^k with w = len + k.
                let kbit = 1u64 << k;
                let buf = &s.payload;
                let mut rel = pos & 7;
                for (o, &w) in out.iter_mut().zip(&s.widths[..n]) {
                    let at = (rel >> 3) & 1023;
                    let mut word = [0u8; 8];
                    word.copy_from_slice(&buf[at..at + 8]);
                    let top = POW2[(w & 63) as usize];
                    let p = (u64::from_le_bytes(word) >> (rel & 7)) & (top - 1);
                    rel += w as usize;
                    *o = unzigzag((p + top) - kbit) as u64;
                }
                return Ok(pos + total);
            }
            let mut overflow = false;
            for (o, &a) in out.iter_mut().zip(&s.ones[..n]) {
                let len = a.wrapping_sub(prev).wrapping_sub(1) as u64;
                prev = a;
                // len <= 63 and len + k <= 64, else the value cannot fit in 64 bits.
                if len > 63 || len + k as u64 > 64 {
                    return Err(CodecError::Corrupt("Exp-Golomb length"));
                }
                let len = len as u32;
                let width = len + k;
                let p = get_bits64(data, pos, width);
                pos += width as usize;
                let (z, of) = (((1u64 << len) - 1) << k).overflowing_add(p);
                overflow |= of;
                *o = unzigzag(z) as u64;
            }
            if overflow {
                return Err(CodecError::Corrupt("Exp-Golomb value"));
            }
            Ok(pos)
        }
        _ => {
            if param != 0 {
                return Err(CodecError::BadTag {
                    what: "block header",
                    tag: header,
                });
            }
            unpack(data, pos, 64, &mut s.aligned, out);
            Ok(pos + n * 64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn round_trip_i64(values: &[i64]) -> usize {
        let mut buf = Vec::new();
        encode_i64(values, &mut buf);
        let mut out = vec![7i64];
        decode_i64(&buf, values.len(), &mut out).unwrap();
        assert_eq!(out[0], 7, "decode must append");
        assert_eq!(&out[1..], values);
        buf.len()
    }

    fn round_trip_u64(values: &[u64]) -> usize {
        let mut buf = Vec::new();
        encode_u64(values, &mut buf);
        let mut out = Vec::new();
        decode_u64(&buf, values.len(), &mut out).unwrap();
        assert_eq!(out, values);
        buf.len()
    }

    /// Round-trips a residual sequence coded with a forced block mode.
    fn forced_block(residuals: &[i64], mode: Mode) -> Vec<u64> {
        let mut buf = Vec::new();
        let mut w = BitWriter::new(&mut buf);
        let z: Vec<u64> = residuals.iter().map(|&r| zigzag(r)).collect();
        write_block(&mut w, residuals, &z, mode);
        w.finish();
        let mut scratch = Scratch::new();
        let end = decode_block(&buf, 0, mode.header(), residuals.len(), &mut scratch).unwrap();
        assert_eq!(end.div_ceil(8), buf.len());
        scratch.out[..residuals.len()].to_vec()
    }

    #[test]
    fn empty_and_single() {
        assert!(round_trip_i64(&[]) <= 1);
        round_trip_i64(&[i64::MIN]);
        round_trip_i64(&[i64::MAX]);
        round_trip_u64(&[u64::MAX]);
    }

    #[test]
    fn extremes() {
        round_trip_i64(&[i64::MIN, i64::MAX, i64::MIN, 0, -1, i64::MAX, i64::MAX - 1]);
        round_trip_u64(&[0, u64::MAX, 0, u64::MAX, 1 << 63, (1 << 63) - 1]);
        let alternating: Vec<i64> = (0..1000)
            .map(|i| if i % 2 == 0 { i64::MIN } else { i64::MAX })
            .collect();
        round_trip_i64(&alternating);
    }

    #[test]
    fn constant_values_cost_almost_nothing() {
        let values = vec![123_456_789i64; 8192];
        let bytes = round_trip_i64(&values);
        assert!(bytes <= 12, "{bytes} bytes");
        // A constant non-zero delta: frame-of-reference blocks of width 0.
        let ramp: Vec<i64> = (0..8192).map(|i| 1_000 + 7 * i).collect();
        let bytes = round_trip_i64(&ramp);
        assert!(bytes <= 8192 / 128 * 3 + 8, "{bytes} bytes");
    }

    #[test]
    fn runs_between_blocks() {
        let mut values = Vec::new();
        for i in 0..5000i64 {
            values.push(if (i / 300) % 2 == 0 { 5 } else { i * i % 97 });
        }
        round_trip_i64(&values);
    }

    #[test]
    fn every_mode_round_trips() {
        let residuals: Vec<i64> = (0..BLOCK as i64)
            .map(|i| (i * 7919) % 2001 - 1000)
            .collect();
        for mode in [
            Mode::For {
                width: 11,
                min: -1000,
            },
            Mode::Rice { k: 8 },
            Mode::Rice { k: 5 },
            Mode::Rice { k: 60 },
            Mode::ExpGolomb { k: 0 },
            Mode::ExpGolomb { k: 9 },
            Mode::ExpGolomb { k: 63 },
            Mode::Raw,
        ] {
            let out = forced_block(&residuals, mode);
            let back: Vec<i64> = out.iter().map(|&x| x as i64).collect();
            assert_eq!(back, residuals, "{mode:?}");
        }
        let extreme = [i64::MIN, i64::MAX, 0, -1, 1];
        for mode in [
            Mode::Rice { k: 63 },
            Mode::ExpGolomb { k: 1 },
            Mode::ExpGolomb { k: 63 },
            Mode::Raw,
        ] {
            let out = forced_block(&extreme, mode);
            let back: Vec<i64> = out.iter().map(|&x| x as i64).collect();
            assert_eq!(back, extreme, "{mode:?}");
        }
    }

    /// The candidate neighbourhoods in `choose_mode` against an exhaustive parameter search.
    #[test]
    fn mode_choice_close_to_exhaustive() {
        let mut seed = 0x1234_5678_9abc_def0u64;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let (mut chosen, mut exhaustive, mut mismatches) = (0u64, 0u64, 0);
        for trial in 0..400 {
            let scale = 1 + trial % 20;
            let residuals: Vec<i64> = (0..BLOCK)
                .map(|_| {
                    let r = rnd();
                    // Laplacian-ish noise plus rare large outliers.
                    let mag = (r >> 40) % (1 << scale);
                    let v = if r % 50 == 0 { mag << 12 } else { mag };
                    if r & 1 == 0 { v as i64 } else { -(v as i64) }
                })
                .collect();
            let mut z = vec![0u64; BLOCK];
            let mode = choose_mode(&residuals, &mut z, INITIAL_HEADER);
            let cost = |m: Mode| {
                let mut buf = Vec::new();
                let mut w = BitWriter::new(&mut buf);
                write_block(&mut w, &residuals, &z, m);
                w.bit_len() as u64
            };
            let payload = |m: Mode| match m {
                Mode::Rice { k } => rice_cost(&z, k),
                Mode::ExpGolomb { k } => eg_cost(&z, k).unwrap_or(u64::MAX),
                m => cost(m),
            };
            // The cost model matches what is written.
            assert_eq!(payload(mode), cost(mode));
            chosen += payload(mode);
            let mut best = payload(mode);
            let mut best_mode = mode;
            for k in 0..64 {
                for m in [Mode::Rice { k }, Mode::ExpGolomb { k }] {
                    if payload(m) < best {
                        best = payload(m);
                        best_mode = m;
                    }
                }
            }
            if best_mode != mode {
                mismatches += 1;
            }
            exhaustive += best;
        }
        assert!(
            chosen as f64 <= exhaustive as f64 * 1.002,
            "{chosen} vs {exhaustive}"
        );
        assert!(mismatches <= 20, "{mismatches} of 400 blocks not optimal");
    }

    /// The fast evaluation in `choose_mode` picks exactly what the reference does.
    #[test]
    fn fast_mode_choice_matches_exhaustive() {
        let mut seed = 0x0bad_cafe_dead_beefu64;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for trial in 0..3000u64 {
            let len = if trial % 3 == 0 {
                1 + (rnd() % BLOCK as u64) as usize
            } else {
                BLOCK
            };
            let bits = trial % 58;
            let residuals: Vec<i64> = (0..len)
                .map(|_| {
                    let r = rnd();
                    let mag = match trial % 4 {
                        0 => r >> (64 - bits.max(1)),
                        1 => (r >> 40) % (1 + bits * bits),
                        2 if r % 23 == 0 => (r >> 8) >> (8 + bits / 2),
                        2 => (r >> 50) % 7,
                        _ => (1u64 << (bits % 20)) - 1 + (r % 3),
                    };
                    if r & 1 == 0 {
                        mag as i64
                    } else {
                        (mag as i64).wrapping_neg()
                    }
                })
                .collect();
            let prev = (rnd() % 256) as u8;
            let mut z1 = vec![0u64; len];
            let mut z2 = vec![0u64; len];
            let fast = choose_mode(&residuals, &mut z1, prev);
            let reference = choose_mode_exhaustive(&residuals, &mut z2, prev);
            assert_eq!(fast, reference, "trial {trial}");
            assert_eq!(z1, z2);
        }
    }

    #[test]
    fn garbage_never_panics() {
        let mut seed = 42u64;
        for len in 0..600 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    (seed >> 56) as u8
                })
                .collect();
            let mut out = Vec::new();
            let _ = decode_i64(&bytes, 8192, &mut out);
            assert!(out.len() <= 8192);
        }
    }

    fn arb_i64() -> impl Strategy<Value = i64> {
        prop_oneof![
            any::<i64>(),
            -1000i64..1000,
            Just(i64::MIN),
            Just(i64::MAX),
            Just(0),
        ]
    }

    proptest! {
        #[test]
        fn i64_round_trip(values in prop::collection::vec(arb_i64(), 0..700)) {
            round_trip_i64(&values);
        }

        #[test]
        fn i64_round_trip_with_runs(parts in prop::collection::vec((arb_i64(), 1usize..80), 0..40)) {
            let values: Vec<i64> = parts.iter().flat_map(|&(v, n)| std::iter::repeat_n(v, n)).collect();
            round_trip_i64(&values);
        }

        #[test]
        fn random_walk_round_trip(start in any::<i64>(), steps in prop::collection::vec(-300i64..300, 0..600)) {
            let mut v = start;
            let values: Vec<i64> = steps.iter().map(|&s| { v = v.wrapping_add(s); v }).collect();
            round_trip_i64(&values);
        }

        #[test]
        fn u64_round_trip(values in prop::collection::vec(prop_oneof![any::<u64>(), 0u64..100, Just(u64::MAX)], 0..700)) {
            round_trip_u64(&values);
        }

        #[test]
        fn damaged_streams_never_panic(values in prop::collection::vec(arb_i64(), 1..400), flip in any::<usize>(), cut in any::<usize>()) {
            let mut buf = Vec::new();
            encode_i64(&values, &mut buf);
            let mut out = Vec::new();
            let cut = cut % (buf.len() + 1);
            let _ = decode_i64(&buf[..cut], values.len(), &mut out);
            prop_assert!(out.len() <= values.len());
            let mut flipped = buf.clone();
            let bit = flip % (flipped.len() * 8);
            flipped[bit / 8] ^= 1 << (bit % 8);
            out.clear();
            let _ = decode_i64(&flipped, values.len(), &mut out);
            prop_assert!(out.len() <= values.len());
        }
    }
}
