//! The interface between TQL and storage. The storage layer implements [`SeriesSource`]; the
//! executor matches selectors, windows, decodes and aggregates on its own.

use crate::series::types::{ChunkSummary, Column, Labels, ValueType};
use crate::tql::error::TqlError;

/// One stream as the executor sees it: an id for [`SeriesSource::chunks`], its identity and
/// the type its values have.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamInfo {
    pub id: u64,
    pub labels: Labels,
    pub value_type: ValueType,
}

/// Where the executor reads streams from.
pub trait SeriesSource: Send + Sync {
    /// Every stream in the database; the executor matches selectors itself.
    fn streams(&self) -> Result<Vec<StreamInfo>, TqlError>;

    /// Chunks of one stream whose `[first, last]` timestamp range overlaps `[start, end]`
    /// (both inclusive), in time order. Returning chunks outside the range is tolerated (the
    /// executor skips them) but wastes work.
    fn chunks(
        &self,
        stream_id: u64,
        start: i64,
        end: i64,
    ) -> Result<Box<dyn ChunkCursor + Send>, TqlError>;

    /// "Now" in the database's timestamp unit; `sel[d]` ends here when the query has no end.
    fn now(&self) -> i64;

    /// The database's timestamp unit, as the number of units in one second (1000 for
    /// milliseconds, 1 for seconds, 1_000_000_000 for nanoseconds). Durations in queries are
    /// converted with it.
    fn units_per_second(&self) -> i64;
}

/// A forward cursor over the chunks of one stream.
pub trait ChunkCursor {
    /// Advances to the next chunk; returns its summary (cheap, no decoding) or `None` at the
    /// end.
    fn next_chunk(&mut self) -> Result<Option<ChunkSummary>, TqlError>;

    /// Decodes the current chunk (the one whose summary was last returned): clears and fills
    /// both. The executor hands in a `values` column of the stream's type and reuses both
    /// vectors from chunk to chunk, so an implementation should fill them in place.
    fn decode(&mut self, timestamps: &mut Vec<i64>, values: &mut Column) -> Result<(), TqlError>;
}
