//! TQL's view of the store: streams from the catalog, chunks from frame iterators.

use std::sync::Arc;

use crate::iterator::FrameIterator;
use crate::reader::Reader;
use crate::series::chunk::{decode_chunk, read_summary};
use crate::series::types::{ChunkSummary, Column};
use crate::tql::{ChunkCursor, SeriesSource, StreamInfo, TqlError};

/// A snapshot of the database's streams, with the frame tag each is stored under.
pub(crate) struct StoreSource {
    pub reader: Arc<Reader>,
    pub streams: crate::connection::StreamList,
    pub units_per_second: i64,
}

impl SeriesSource for StoreSource {
    fn streams(&self) -> Result<Vec<StreamInfo>, TqlError> {
        Ok(self.streams.iter().map(|(info, _)| info.clone()).collect())
    }

    fn chunks(
        &self,
        stream_id: u64,
        start: i64,
        end: i64,
    ) -> Result<Box<dyn ChunkCursor + Send>, TqlError> {
        let Some((_, tag)) = self.streams.iter().find(|(info, _)| info.id == stream_id) else {
            return Err(TqlError::Source(format!("unknown stream id {stream_id}")));
        };
        let frames = self.reader.iter(tag).map_err(source_error)?;
        Ok(Box::new(ChunkFrames {
            frames,
            start,
            end,
            started: false,
        }))
    }

    fn now(&self) -> i64 {
        let elapsed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        (elapsed.as_nanos() * self.units_per_second as u128 / 1_000_000_000) as i64
    }

    fn units_per_second(&self) -> i64 {
        self.units_per_second
    }
}

pub(crate) fn source_error(e: crate::Error) -> TqlError {
    TqlError::Source(e.to_string())
}

/// Chunks overlapping `[start, end]`: frames are keyed by their chunk's last timestamp, so the
/// first candidate is one seek away, and the scan stops at the first chunk starting after `end`.
struct ChunkFrames {
    frames: FrameIterator,
    start: i64,
    end: i64,
    started: bool,
}

impl ChunkCursor for ChunkFrames {
    fn next_chunk(&mut self) -> Result<Option<ChunkSummary>, TqlError> {
        let moved = if self.started {
            self.frames.next()
        } else {
            self.started = true;
            self.frames.find(self.start)
        };
        if !moved.map_err(source_error)? {
            return Ok(None);
        }
        let Some(frame) = self.frames.frame() else {
            return Ok(None);
        };
        let summary = read_summary(frame.data)
            .map_err(|e| TqlError::Source(format!("corrupt chunk: {e}")))?;
        if summary.first_timestamp > self.end {
            return Ok(None);
        }
        Ok(Some(summary))
    }

    fn decode(&mut self, timestamps: &mut Vec<i64>, values: &mut Column) -> Result<(), TqlError> {
        let Some(frame) = self.frames.frame() else {
            return Err(TqlError::Source(
                "decode called without a current chunk".into(),
            ));
        };
        decode_chunk(frame.data, timestamps, values)
            .map_err(|e| TqlError::Source(format!("corrupt chunk: {e}")))?;
        Ok(())
    }
}
