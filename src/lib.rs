//! nanots: an embedded time-series store.
//!
//! Frames (opaque bytes with a timestamp) live in one preallocated, memory-mapped file of
//! fixed-size blocks, with a SQLite catalog beside it; numeric streams and the TQL query
//! language sit on top. See `README.md` for a tour and `DESIGN.md` for the layouts and
//! protocols.

pub mod error;
pub mod format;
pub mod series;
pub mod tql;

mod catalog;
mod connection;
mod create;
mod directory;
mod iterator;
mod pins;
mod reader;
mod recovery;
mod shared;
mod storage;
mod writer;

pub use connection::{
    CheckReport, Connection, ConnectionOptions, DEFAULT_BLOCK_SIZE, DatabaseStats, Query,
    QueryResult, SeriesResult, StreamStats, TimeUnit, Vector,
};
pub use create::{AllocateOptions, allocate, allocate_growable, allocate_with, free_blocks};
pub use error::{Error, Result};
pub use format::block::Key;
pub use iterator::{Frame, FrameIterator, Frames, OwnedFrame};
pub use reader::{ContiguousSegment, FileInfo, Reader, StreamSummary, VerifyReport};
pub use recovery::RecoveryReport;
pub use series::inserter::Inserter;
pub use series::types::{Column, Labels, Value, ValueType};
pub use storage::FilePaths;
pub use writer::{Durability, SyncObserver, WriteContext, Writer, WriterOptions};
