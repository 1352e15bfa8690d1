//! Bit-level I/O shared by the codecs.
//!
//! Bits are packed LSB-first: the first bit written is bit 0 of byte 0. A value of `n` bits is
//! stored with its least significant bit first, so reading `n` bits at bit position `p` is
//! `(le_u64_at(p / 8) >> (p % 8)) & mask(n)` for any `n <= 56`: one unaligned load, a shift and
//! a mask. The decoders use that form directly (`get_bits`) at absolute bit positions, which
//! keeps most loads independent of each other (no serial "bit cursor" dependency chain).
//!
//! Reading never panics: loads past the end of the input see zero bytes, and the readers check
//! the position against the input length at their boundaries ([`BitReader::check`]), so a
//! truncated stream turns into [`CodecError::Truncated`] instead of an out-of-bounds access.

use super::CodecError;

/// `n` low bits set, for `n` in `0..=64`.
#[inline(always)]
pub(crate) fn mask(n: u32) -> u64 {
    if n >= 64 { u64::MAX } else { (1u64 << n) - 1 }
}

/// Number of significant bits of `x` (0 for 0, 64 for values with the top bit set).
#[inline(always)]
pub(crate) fn bit_width(x: u64) -> u32 {
    64 - x.leading_zeros()
}

/// Zig-zag: maps small magnitudes of either sign to small unsigned numbers.
#[inline(always)]
pub(crate) fn zigzag(x: i64) -> u64 {
    ((x << 1) ^ (x >> 63)) as u64
}

/// Inverse of [`zigzag`].
#[inline(always)]
pub(crate) fn unzigzag(z: u64) -> i64 {
    ((z >> 1) as i64) ^ -((z & 1) as i64)
}

/// Little-endian u64 starting at byte `i`; bytes past the end of `data` read as zero.
#[inline(always)]
pub(crate) fn load_le(data: &[u8], i: usize) -> u64 {
    match data.get(i..).and_then(|s| s.first_chunk::<8>()) {
        Some(bytes) => u64::from_le_bytes(*bytes),
        None => load_le_tail(data, i),
    }
}

#[cold]
fn load_le_tail(data: &[u8], i: usize) -> u64 {
    let mut buf = [0u8; 8];
    if let Some(rest) = data.get(i..) {
        let n = rest.len().min(8);
        buf[..n].copy_from_slice(&rest[..n]);
    }
    u64::from_le_bytes(buf)
}

/// `width` bits (`width <= 56`) at absolute bit position `pos`. Past the end reads zeros.
#[inline(always)]
pub(crate) fn get_bits(data: &[u8], pos: usize, width: u32) -> u64 {
    debug_assert!(width <= 56);
    (load_le(data, pos >> 3) >> (pos & 7)) & mask(width)
}

/// `width` bits (`width <= 64`) at absolute bit position `pos`. Past the end reads zeros.
#[inline(always)]
pub(crate) fn get_bits64(data: &[u8], pos: usize, width: u32) -> u64 {
    if width <= 56 {
        get_bits(data, pos, width)
    } else {
        let lo = get_bits(data, pos, 32);
        let hi = get_bits(data, pos + 32, width - 32);
        lo | (hi << 32)
    }
}

/// Values unpacked at a time by [`unpack`].
pub(crate) const UNPACK_COUNT: usize = 128;
/// Widest field [`unpack`] handles with the unrolled fast path.
const FAST_WIDTH: usize = 56;
/// Realigned copy of up to `UNPACK_COUNT × FAST_WIDTH` bits, plus room for the 8-byte loads
/// of the last group.
pub(crate) const ALIGNED_BYTES: usize = UNPACK_COUNT * FAST_WIDTH / 8 + 16;

/// Unpacks `UNPACK_COUNT` consecutive `width`-bit fields (`width <= 64`) starting at bit `pos`
/// into `out`. Fields past the end of `data` read as zero; fields past the caller's count are
/// simply ignored by the caller, so blocks shorter than `UNPACK_COUNT` need no special case.
///
/// The fast path first copies the bits into a byte-aligned buffer (a few word shifts), then
/// extracts 8 fields from every `width` bytes with compile-time offsets and shifts.
#[inline]
pub(crate) fn unpack(
    data: &[u8],
    pos: usize,
    width: u32,
    buf: &mut [u8; ALIGNED_BYTES],
    out: &mut [u64; UNPACK_COUNT],
) {
    let width = width as usize;
    if width == 0 {
        *out = [0; UNPACK_COUNT];
        return;
    }
    if width > FAST_WIDTH {
        for (i, o) in out.iter_mut().enumerate() {
            *o = get_bits64(data, pos + i * width, width as u32);
        }
        return;
    }
    // 128 fields of `width` bits are exactly 2 × width words.
    let words = 2 * width;
    let (byte, shift) = (pos >> 3, (pos & 7) as u32);
    for (i, dst) in buf.chunks_exact_mut(8).take(words).enumerate() {
        let lo = load_le(data, byte + 8 * i);
        let hi = load_le(data, byte + 8 * i + 8);
        // `(hi << 1) << (63 - shift)` is `hi << (64 - shift)` without the shift-by-64 case.
        let word = (lo >> shift) | ((hi << 1) << (63 - shift));
        dst.copy_from_slice(&word.to_le_bytes());
    }
    macro_rules! dispatch {
        ($($k:literal)*) => {
            match width {
                $($k => unpack_aligned::<$k>(buf, out),)*
                _ => {}
            }
        };
    }
    dispatch!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30
        31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56);
}

/// 8 fields of `K` bits occupy exactly `K` bytes: field `j` of group `g` is at byte
/// `g·K + j·K/8`, bit `j·K mod 8`, all constants once `K` is.
#[inline(always)]
fn unpack_aligned<const K: usize>(buf: &[u8; ALIGNED_BYTES], out: &mut [u64; UNPACK_COUNT]) {
    let mask = (1u64 << K) - 1;
    for (g, dst) in out.chunks_exact_mut(8).enumerate() {
        // g <= 15 and K <= 56: g·K + K + 8 <= ALIGNED_BYTES.
        let group = &buf[g * K..g * K + K + 8];
        for (j, o) in dst.iter_mut().enumerate() {
            let bit = j * K;
            let mut word = [0u8; 8];
            word.copy_from_slice(&group[bit / 8..bit / 8 + 8]);
            *o = (u64::from_le_bytes(word) >> (bit % 8)) & mask;
        }
    }
}

/// Appends bits to a byte vector through a 64-bit accumulator.
pub struct BitWriter<'a> {
    out: &'a mut Vec<u8>,
    start: usize,
    acc: u64,
    /// Number of pending bits in `acc`, always `< 64`.
    pending: u32,
}

impl<'a> BitWriter<'a> {
    /// Starts writing at the current end of `out` (existing bytes are kept).
    pub fn new(out: &'a mut Vec<u8>) -> Self {
        let start = out.len();
        BitWriter {
            out,
            start,
            acc: 0,
            pending: 0,
        }
    }

    /// Writes the low `n` bits of `value` (`n <= 64`); higher bits of `value` are ignored.
    #[inline(always)]
    pub fn write(&mut self, value: u64, n: u32) {
        debug_assert!(n <= 64);
        if n == 0 {
            return;
        }
        let value = value & mask(n);
        self.acc |= value << self.pending;
        let total = self.pending + n;
        if total >= 64 {
            self.out.extend_from_slice(&self.acc.to_le_bytes());
            // Bits of `value` that did not fit; `pending > 0` here unless `n == 64`.
            self.acc = if self.pending == 0 {
                0
            } else {
                value >> (64 - self.pending)
            };
            self.pending = total - 64;
        } else {
            self.pending = total;
        }
    }

    #[inline(always)]
    pub fn write_bit(&mut self, bit: bool) {
        self.write(bit as u64, 1);
    }

    /// Unary code of `q`: `q` zero bits followed by a one bit.
    #[inline]
    pub fn write_unary(&mut self, mut q: u64) {
        while q >= 63 {
            self.write(0, 63);
            q -= 63;
        }
        self.write(1u64 << q, q as u32 + 1);
    }

    /// Elias-gamma code of `x + 1` (so 0 costs one bit); `x < u64::MAX`.
    pub fn write_gamma(&mut self, x: u64) {
        let v = x.saturating_add(1);
        let len = bit_width(v) - 1;
        self.write_unary(len as u64);
        self.write(v, len);
    }

    /// Any u64 as a 7-bit width followed by that many bits.
    pub fn write_varbits(&mut self, x: u64) {
        let w = bit_width(x);
        self.write(w as u64, 7);
        self.write(x, w);
    }

    /// Runs `f` with a [`FastWriter`] that appends to this writer's bits; `reserve_bits` is
    /// a hint of how many bits `f` writes (writing more is fine, only slower).
    ///
    /// The accumulator's complete bytes are moved to the output first, so the fast writer
    /// starts with fewer than 8 pending bits; its state is taken back afterwards.
    #[inline]
    pub(crate) fn bulk<R>(
        &mut self,
        reserve_bits: usize,
        f: impl FnOnce(&mut FastWriter) -> R,
    ) -> R {
        let whole = (self.pending / 8) as usize;
        self.out.extend_from_slice(&self.acc.to_le_bytes()[..whole]);
        // `whole <= 7`: the shift is at most 56.
        let acc = self.acc >> (whole * 8);
        let byte = self.out.len();
        self.out.resize(byte + reserve_bits / 8 + 16, 0);
        let mut fw = FastWriter {
            out: &mut *self.out,
            byte,
            acc,
            pending: self.pending & 7,
        };
        let r = f(&mut fw);
        let (byte, acc, pending) = (fw.byte, fw.acc, fw.pending);
        self.out.truncate(byte);
        self.acc = acc;
        self.pending = pending;
        r
    }

    /// Bits written so far by this writer.
    pub fn bit_len(&self) -> usize {
        (self.out.len() - self.start) * 8 + self.pending as usize
    }

    /// Flushes the pending bits (zero-padded to a whole byte).
    pub fn finish(self) {
        let bytes = self.pending.div_ceil(8) as usize;
        self.out.extend_from_slice(&self.acc.to_le_bytes()[..bytes]);
    }
}

/// Branch-free bit appender for the per-value loops of the encoders (see [`BitWriter::bulk`]).
///
/// Every [`put`](Self::put) stores the whole accumulator as 8 bytes at the current byte
/// position (the output is kept at least 8 bytes longer than that position), then advances
/// by the completed bytes; no data-dependent branch, and the position lives in a register.
pub(crate) struct FastWriter<'a> {
    out: &'a mut Vec<u8>,
    /// Index in `out` of the byte that receives the pending bits.
    byte: usize,
    /// Pending bits (`pending < 8` between calls); higher bits are zero.
    acc: u64,
    pending: u32,
}

impl FastWriter<'_> {
    /// Appends the `n <= 56` low bits of `value`, which must have no higher bit set.
    #[inline(always)]
    pub(crate) fn put(&mut self, value: u64, n: u32) {
        debug_assert!(n <= 56 && value >> n == 0);
        self.acc |= value << self.pending;
        self.pending += n;
        let at = self.byte;
        match self.out.get_mut(at..at + 8) {
            Some(dst) => dst.copy_from_slice(&self.acc.to_le_bytes()),
            // A free function: passing `self` would keep the state out of registers.
            None => grow_and_store(self.out, at, self.acc),
        }
        // pending <= 63, so the shift is at most 56.
        let adv = self.pending >> 3;
        self.byte += adv as usize;
        self.acc >>= adv * 8;
        self.pending &= 7;
    }

    /// Appends the low `n <= 64` bits of `value` (higher bits are ignored).
    #[inline(always)]
    pub(crate) fn put_wide(&mut self, value: u64, n: u32) {
        if n <= 56 {
            self.put(value & mask(n), n);
        } else {
            self.put(value & 0xFFFF_FFFF, 32);
            self.put((value >> 32) & mask(n - 32), n - 32);
        }
    }

    /// Unary code of `q`: `q` zero bits followed by a one bit.
    #[inline(always)]
    pub(crate) fn put_unary(&mut self, mut q: u64) {
        // (No out-of-line helper taking `self`: that would keep the state out of registers.)
        while q >= 56 {
            self.put(0, 56);
            q -= 56;
        }
        self.put(1 << q, q as u32 + 1);
    }
}

/// The slow path of [`FastWriter::put`]: makes room (doubling) and stores `acc` at `at`.
#[cold]
#[inline(never)]
fn grow_and_store(out: &mut Vec<u8>, at: usize, acc: u64) {
    let len = out.len().max(64);
    out.resize(at + 8 + len, 0);
    out[at..at + 8].copy_from_slice(&acc.to_le_bytes());
}

/// Reads bits at an absolute position; reads past the end return zeros and are caught by
/// [`BitReader::check`] (the decoders call it at every token boundary).
#[derive(Clone, Copy)]
pub struct BitReader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> BitReader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        BitReader { data, pos: 0 }
    }

    #[inline(always)]
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// Current bit position.
    #[inline(always)]
    pub fn pos(&self) -> usize {
        self.pos
    }

    #[inline(always)]
    pub fn set_pos(&mut self, pos: usize) {
        self.pos = pos;
    }

    /// Total number of bits in the input.
    #[inline(always)]
    pub fn limit(&self) -> usize {
        self.data.len() * 8
    }

    /// Errors when the position went past the end of the input.
    #[inline(always)]
    pub fn check(&self, what: &'static str) -> Result<(), CodecError> {
        if self.pos > self.limit() {
            Err(CodecError::Truncated(what))
        } else {
            Ok(())
        }
    }

    /// Reads `n <= 64` bits.
    #[inline(always)]
    pub fn read(&mut self, n: u32) -> u64 {
        let v = get_bits64(self.data, self.pos, n);
        self.pos += n as usize;
        v
    }

    #[inline(always)]
    pub fn read_bit(&mut self) -> bool {
        self.read(1) != 0
    }

    /// Reads a unary code (zeros terminated by a one); errors past the end of the input or
    /// when the count exceeds `max`.
    #[inline]
    pub fn read_unary(&mut self, max: u64, what: &'static str) -> Result<u64, CodecError> {
        let start = self.pos;
        loop {
            let word = get_bits(self.data, self.pos, 56);
            if word != 0 {
                self.pos += word.trailing_zeros() as usize + 1;
                break;
            }
            self.pos += 56;
            if self.pos > self.limit() {
                return Err(CodecError::Truncated(what));
            }
        }
        let q = (self.pos - start - 1) as u64;
        if q > max {
            return Err(CodecError::Corrupt(what));
        }
        self.check(what)?;
        Ok(q)
    }

    /// Inverse of [`BitWriter::write_gamma`].
    pub fn read_gamma(&mut self, what: &'static str) -> Result<u64, CodecError> {
        let len = self.read_unary(63, what)? as u32;
        let v = (1u64 << len) | self.read(len);
        self.check(what)?;
        Ok(v - 1)
    }

    /// Inverse of [`BitWriter::write_varbits`].
    pub fn read_varbits(&mut self, what: &'static str) -> Result<u64, CodecError> {
        let w = self.read(7) as u32;
        if w > 64 {
            return Err(CodecError::Corrupt(what));
        }
        let v = self.read(w);
        self.check(what)?;
        // A non-minimal width (top bit clear) is never written: reject it as corruption.
        if w > 0 && v >> (w - 1) != 1 {
            return Err(CodecError::Corrupt(what));
        }
        Ok(v)
    }

    /// After the last field: the stream must end within the final byte (zero padding only).
    pub fn finish(&self, what: &'static str) -> Result<(), CodecError> {
        self.check(what)?;
        let used = self.pos.div_ceil(8);
        if used != self.data.len() {
            return Err(CodecError::TrailingBytes {
                what,
                extra: self.data.len() - used,
            });
        }
        let pad = (used * 8 - self.pos) as u32;
        if pad > 0 && get_bits(self.data, self.pos, pad) != 0 {
            return Err(CodecError::Corrupt(what));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn zigzag_extremes() {
        for x in [0, 1, -1, i64::MIN, i64::MAX, 12345, -98765] {
            assert_eq!(unzigzag(zigzag(x)), x);
        }
        assert_eq!(zigzag(-1), 1);
        assert_eq!(zigzag(i64::MIN), u64::MAX);
    }

    #[test]
    fn unpack_every_width() {
        for width in 0..=64u32 {
            for offset in [0usize, 1, 5, 7, 8, 13] {
                let fields: Vec<u64> = (0..UNPACK_COUNT as u64)
                    .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15) & mask(width))
                    .collect();
                let mut buf = Vec::new();
                let mut w = BitWriter::new(&mut buf);
                w.write(0x55, offset as u32);
                for &f in &fields {
                    w.write(f, width);
                }
                w.finish();
                let mut out = [0u64; UNPACK_COUNT];
                let mut aligned = [0u8; ALIGNED_BYTES];
                unpack(&buf, offset, width, &mut aligned, &mut out);
                assert_eq!(&out[..], &fields[..], "width {width} offset {offset}");
                // Truncated input: no panic, the fields that are present still decode.
                let cut = buf.len() / 2;
                unpack(&buf[..cut], offset, width, &mut aligned, &mut out);
                let complete = (cut * 8).saturating_sub(offset) / width.max(1) as usize;
                assert_eq!(
                    &out[..complete.min(UNPACK_COUNT)],
                    &fields[..complete.min(UNPACK_COUNT)]
                );
            }
        }
    }

    #[test]
    fn reads_past_end_are_errors() {
        let mut r = BitReader::new(&[0u8, 0]);
        assert!(r.read_unary(1000, "x").is_err());
        let mut r = BitReader::new(&[]);
        assert!(r.read_varbits("x").is_err());
        let mut r = BitReader::new(&[0xff]);
        r.read(64);
        assert!(r.check("x").is_err());
    }

    proptest! {
        /// The fast writer produces exactly the bits of the plain one, interleaved with it.
        #[test]
        fn fast_writer_matches(fields in prop::collection::vec((any::<u64>(), 0u32..=64, 0u8..4), 0..300), split in 0usize..300) {
            let mut fast = vec![0x5A];
            let mut w = BitWriter::new(&mut fast);
            let split = split.min(fields.len());
            for &(v, n, kind) in &fields[..split] {
                match kind {
                    1 => w.write_unary(v % 300),
                    2 => w.write(v & mask(n.min(56)), n.min(56)),
                    _ => w.write(v, n),
                }
            }
            w.bulk(fields.len(), |f| {
                for &(v, n, kind) in &fields[split..] {
                    match kind {
                        0 => f.put_wide(v, n),
                        1 => f.put_unary(v % 300),
                        2 => f.put(v & mask(n.min(56)), n.min(56)),
                        _ => f.put_wide(v, n),
                    }
                }
            });
            w.write(0b101, 3);
            let bits = w.bit_len();
            w.finish();
            let mut plain = vec![0x5A];
            let mut w = BitWriter::new(&mut plain);
            for &(v, n, kind) in &fields {
                match kind {
                    1 => w.write_unary(v % 300),
                    2 => w.write(v & mask(n.min(56)), n.min(56)),
                    _ => w.write(v, n),
                }
            }
            w.write(0b101, 3);
            prop_assert_eq!(w.bit_len(), bits);
            w.finish();
            prop_assert_eq!(plain, fast);
        }

        #[test]
        fn fields_round_trip(fields in prop::collection::vec((any::<u64>(), 0u32..=64, 0u8..4), 0..200)) {
            let mut buf = vec![0xAB]; // existing content must be kept
            let mut w = BitWriter::new(&mut buf);
            for &(v, n, kind) in &fields {
                match kind {
                    0 => w.write(v, n),
                    1 => w.write_unary(v % 300),
                    2 => w.write_gamma(v >> 1),
                    _ => w.write_varbits(v),
                }
            }
            let bits = w.bit_len();
            w.finish();
            prop_assert_eq!(buf[0], 0xAB);
            prop_assert_eq!(buf.len() - 1, bits.div_ceil(8));
            let mut r = BitReader::new(&buf[1..]);
            for &(v, n, kind) in &fields {
                match kind {
                    0 => prop_assert_eq!(r.read(n), v & mask(n)),
                    1 => prop_assert_eq!(r.read_unary(1000, "u").unwrap(), v % 300),
                    2 => prop_assert_eq!(r.read_gamma("g").unwrap(), v >> 1),
                    _ => prop_assert_eq!(r.read_varbits("v").unwrap(), v),
                }
            }
            prop_assert!(r.finish("end").is_ok());
        }
    }
}
