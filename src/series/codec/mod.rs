//! Compression codecs for numeric streams.
//!
//! * [`timestamps`]: strictly increasing i64 timestamps, delta-of-delta with zero runs.
//! * [`integers`]: i64 / u64 values, delta + adaptive per-block coding (frame of reference,
//!   Rice or Exp-Golomb, chosen per block of 128 residuals).
//! * [`floats`]: f64 values, the smaller of a Gorilla-style XOR code and a decimal-scaled
//!   integer code (used only when every value survives the scaling bit-exactly).
//! * [`bits`]: the bit writer/reader underneath.
//!
//! All decoders take untrusted bytes: they never panic, never allocate more than the expected
//! point count allows, and report problems as [`CodecError`].

pub mod bits;
pub mod floats;
pub mod integers;
pub mod timestamps;

use std::fmt;

pub use floats::{
    FloatEncoding, decimal_digits, decode_f64, encode_f64, encode_f64_decimal, encode_f64_xor,
    float_encoding,
};
pub use integers::{decode_i64, decode_u64, encode_i64, encode_u64};
pub use timestamps::{decode_timestamps, encode_timestamps};

/// Everything that can go wrong while encoding or decoding a stream or a chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodecError {
    /// The input ended before the named field was complete.
    Truncated(&'static str),
    /// An unknown tag/identifier byte.
    BadTag { what: &'static str, tag: u8 },
    /// The input is structurally invalid (a value out of range, an impossible code...).
    Corrupt(&'static str),
    /// A count stored in the input disagrees with the one expected.
    CountMismatch {
        what: &'static str,
        expected: usize,
        found: usize,
    },
    /// Bytes left over after the end of an encoded stream.
    TrailingBytes { what: &'static str, extra: usize },
    /// The encoder was given timestamps that are not strictly increasing.
    TimestampsNotIncreasing {
        index: usize,
        previous: i64,
        current: i64,
    },
    /// A chunk must hold at least one point.
    Empty,
    /// Timestamps and values of different lengths.
    LengthMismatch { timestamps: usize, values: usize },
    /// More points than a chunk may hold.
    TooManyPoints { count: usize, max: usize },
    /// A decoded field disagrees with the chunk header (count, first/last timestamp...).
    HeaderMismatch(&'static str),
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CodecError::Truncated(what) => write!(f, "truncated input: {what} is incomplete"),
            CodecError::BadTag { what, tag } => write!(f, "bad tag {tag:#04x} for {what}"),
            CodecError::Corrupt(what) => write!(f, "corrupt input: invalid {what}"),
            CodecError::CountMismatch {
                what,
                expected,
                found,
            } => {
                write!(
                    f,
                    "count mismatch in {what}: expected {expected}, found {found}"
                )
            }
            CodecError::TrailingBytes { what, extra } => {
                write!(f, "{extra} unexpected trailing byte(s) after {what}")
            }
            CodecError::TimestampsNotIncreasing {
                index,
                previous,
                current,
            } => write!(
                f,
                "timestamps not strictly increasing: timestamp {current} at index {index} \
                 follows {previous}"
            ),
            CodecError::Empty => write!(f, "a chunk needs at least one point"),
            CodecError::LengthMismatch { timestamps, values } => write!(
                f,
                "length mismatch: {timestamps} timestamps but {values} values"
            ),
            CodecError::TooManyPoints { count, max } => {
                write!(f, "too many points: {count} (at most {max} per chunk)")
            }
            CodecError::HeaderMismatch(what) => {
                write!(f, "chunk header disagrees with the decoded data: {what}")
            }
        }
    }
}

impl std::error::Error for CodecError {}
