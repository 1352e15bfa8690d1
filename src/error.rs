//! The crate's one error type. Every variant has a stable numeric code (the C API exposes it)
//! and a `Display` that says what happened and what to do about it.

use std::fmt;
use std::io;
use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in nanots.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be opened or created.
    CantOpen { path: PathBuf, source: io::Error },
    /// The data file does not start with the nanots magic: it is not a nanots file.
    BadMagic { path: PathBuf },
    /// The data file or catalog was written by an unknown format version.
    BadVersion { found: u32, supported: u32 },
    /// The SQLite catalog is not a nanots catalog or has an unknown schema.
    Schema(String),
    /// No block is free and none can be reclaimed (or the file reached its cap).
    NoFreeBlocks,
    /// The block size is not a positive multiple of the page size, or is too large.
    InvalidBlockSize {
        block_size: u64,
        reason: &'static str,
    },
    /// A stream already has a live write context.
    DuplicateStream(String),
    /// A key `(timestamp, secondary key)` did not strictly increase within its stream.
    NonMonotonicTimestamp {
        stream: String,
        last: (i64, u64),
        given: (i64, u64),
    },
    /// A frame can never fit in one block.
    FrameTooLarge { size: usize, max: usize },
    /// An argument is outside what the call accepts.
    InvalidArgument(String),
    /// Stored bytes failed a check (checksum, layout, catalog agreement).
    Corrupt(String),
    /// An operating-system I/O error.
    Io(io::Error),
    /// An error from the SQLite catalog.
    Sqlite(rusqlite::Error),
    /// The file exists and overwriting was not requested.
    AlreadyExists(PathBuf),
    /// A fixed-size file needs at least one block.
    InvalidBlockCount(u64),
    /// Another writer (in this or another process) holds the file's writer lock.
    WriterLocked(PathBuf),
    /// No stream with this name or tag exists.
    StreamNotFound(String),
    /// A value of the wrong type for the stream was inserted (TachyonDB E4).
    WrongValueType {
        stream: String,
        expected: &'static str,
        given: &'static str,
    },
    /// A TQL selector matched no stream (TachyonDB E3).
    NoMatchingStream(String),
    /// A TQL query has a syntax error (TachyonDB E6); the message shows where.
    Syntax(String),
    /// A TQL query failed while running: integer overflow, `%` by zero, bad argument.
    Query(String),
    /// The stream already exists (with the same label set).
    StreamExists(String),
}

impl Error {
    /// Stable numeric code, never reused for another meaning.
    pub fn code(&self) -> u32 {
        match self {
            Error::CantOpen { .. } => 1,
            Error::BadMagic { .. } => 2,
            Error::BadVersion { .. } => 3,
            Error::Schema(_) => 4,
            Error::NoFreeBlocks => 5,
            Error::InvalidBlockSize { .. } => 6,
            Error::DuplicateStream(_) => 7,
            Error::NonMonotonicTimestamp { .. } => 8,
            Error::FrameTooLarge { .. } => 9,
            Error::InvalidArgument(_) => 10,
            Error::Corrupt(_) => 11,
            Error::Io(_) => 12,
            Error::Sqlite(_) => 13,
            Error::AlreadyExists(_) => 14,
            Error::InvalidBlockCount(_) => 15,
            Error::WriterLocked(_) => 16,
            Error::StreamNotFound(_) => 17,
            Error::WrongValueType { .. } => 18,
            Error::NoMatchingStream(_) => 19,
            Error::Syntax(_) => 20,
            Error::Query(_) => 21,
            Error::StreamExists(_) => 22,
        }
    }

    pub(crate) fn corrupt(message: impl Into<String>) -> Error {
        Error::Corrupt(message.into())
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Error {
        Error::InvalidArgument(message.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::CantOpen { path, source } => write!(
                f,
                "cannot open {}: {source}; check that the path exists and is accessible",
                path.display()
            ),
            Error::BadMagic { path } => write!(
                f,
                "{} is not a nanots data file (wrong magic); pass the .nts file that nanots::allocate created",
                path.display()
            ),
            Error::BadVersion { found, supported } => write!(
                f,
                "format version {found} is not supported (this build reads version {supported}); open it with a matching nanots release"
            ),
            Error::Schema(msg) => write!(
                f,
                "the catalog is not a nanots catalog this build understands: {msg}"
            ),
            Error::NoFreeBlocks => write!(
                f,
                "no free block: the file is full and nothing can be reclaimed; free blocks with free_blocks, enable auto-reclaim, or allocate a larger file"
            ),
            Error::InvalidBlockSize { block_size, reason } => {
                write!(f, "invalid block size {block_size}: {reason}")
            }
            Error::DuplicateStream(tag) => write!(
                f,
                "stream '{tag}' already has a live write context; drop it before creating another"
            ),
            Error::NonMonotonicTimestamp {
                stream,
                last,
                given,
            } => write!(
                f,
                "out-of-order key in stream '{stream}': ({}, {}) is not after the last key ({}, {}); keys must strictly increase (nothing was written)",
                given.0, given.1, last.0, last.1
            ),
            Error::FrameTooLarge { size, max } => write!(
                f,
                "frame of {size} bytes can never fit in a block (at most {max} bytes); use a larger block size"
            ),
            Error::InvalidArgument(msg) => write!(f, "invalid argument: {msg}"),
            Error::Corrupt(msg) => write!(
                f,
                "corrupt data: {msg}; reopen with a writer to run recovery, or restore from a copy"
            ),
            Error::Io(e) => write!(f, "I/O error: {e}"),
            Error::Sqlite(e) => write!(f, "catalog (SQLite) error: {e}"),
            Error::AlreadyExists(path) => write!(
                f,
                "{} already exists; choose another path or ask to overwrite it",
                path.display()
            ),
            Error::InvalidBlockCount(n) => write!(
                f,
                "invalid block count {n}: a fixed-size file needs at least one block"
            ),
            Error::WriterLocked(path) => write!(
                f,
                "{} is already open for writing by another writer; only one writer at a time may open a file",
                path.display()
            ),
            Error::StreamNotFound(name) => write!(f, "no stream named '{name}' exists"),
            Error::WrongValueType {
                stream,
                expected,
                given,
            } => write!(
                f,
                "E4: stream '{stream}' holds {expected} values, not {given}"
            ),
            Error::NoMatchingStream(sel) => write!(f, "E3: no stream matches {sel}"),
            Error::Syntax(msg) => write!(f, "E6: {msg}"),
            Error::Query(msg) => write!(f, "query error: {msg}"),
            Error::StreamExists(name) => write!(f, "stream '{name}' already exists"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::CantOpen { source, .. } => Some(source),
            Error::Io(e) => Some(e),
            Error::Sqlite(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Io(e)
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Sqlite(e)
    }
}
