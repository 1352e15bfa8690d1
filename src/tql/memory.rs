//! An in-memory [`SeriesSource`] for tests, examples and benchmarks of the executor.
//!
//! Streams are cut into chunks of a configurable number of points, each with a
//! [`ChunkSummary`] computed the way storage computes it, and the source counts `decode`
//! calls so that tests can check that whole chunks were answered from their summaries.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::series::types::{ChunkSummary, Column, Labels, Value, ValueType};
use crate::tql::error::TqlError;
use crate::tql::source::{ChunkCursor, SeriesSource, StreamInfo};

/// Builds a [`Labels`] from a metric name and label pairs.
pub fn labels(metric: &str, pairs: &[(&str, &str)]) -> Labels {
    Labels {
        metric: metric.to_string(),
        labels: pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
    }
}

struct MemChunk {
    summary: ChunkSummary,
    timestamps: Vec<i64>,
    values: Column,
}

struct MemStream {
    info: StreamInfo,
    chunks: Arc<Vec<MemChunk>>,
}

/// A database held in memory. Timestamps are milliseconds unless
/// [`MemorySource::with_units_per_second`] says otherwise.
pub struct MemorySource {
    streams: Vec<MemStream>,
    chunk_size: usize,
    now: i64,
    units_per_second: i64,
    decodes: Arc<AtomicU64>,
    chunk_reads: Arc<AtomicU64>,
}

impl Default for MemorySource {
    fn default() -> Self {
        MemorySource::new()
    }
}

impl MemorySource {
    /// An empty millisecond database with chunks of 1024 points and `now() == 0`.
    pub fn new() -> MemorySource {
        MemorySource {
            streams: Vec::new(),
            chunk_size: 1024,
            now: 0,
            units_per_second: 1000,
            decodes: Arc::new(AtomicU64::new(0)),
            chunk_reads: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Points per chunk for streams added from now on (at least 1).
    pub fn with_chunk_size(mut self, chunk_size: usize) -> MemorySource {
        self.chunk_size = chunk_size.max(1);
        self
    }

    pub fn with_now(mut self, now: i64) -> MemorySource {
        self.now = now;
        self
    }

    pub fn with_units_per_second(mut self, units_per_second: i64) -> MemorySource {
        self.units_per_second = units_per_second;
        self
    }

    pub fn set_now(&mut self, now: i64) {
        self.now = now;
    }

    /// Adds a stream and returns its id. Timestamps must be strictly increasing and as many as
    /// the values, as storage guarantees.
    pub fn add(
        &mut self,
        labels: Labels,
        timestamps: &[i64],
        values: Column,
    ) -> Result<u64, TqlError> {
        if timestamps.len() != values.len() {
            return Err(TqlError::InvalidArgument(format!(
                "{} timestamps but {} values",
                timestamps.len(),
                values.len()
            )));
        }
        if timestamps.windows(2).any(|w| w[0] >= w[1]) {
            return Err(TqlError::InvalidArgument(
                "timestamps must be strictly increasing".into(),
            ));
        }
        let value_type = values.value_type();
        let mut chunks = Vec::new();
        let mut start = 0;
        while start < timestamps.len() {
            let end = (start + self.chunk_size).min(timestamps.len());
            let chunk_values = slice_column(&values, start, end);
            chunks.push(MemChunk {
                summary: summarize(&timestamps[start..end], &chunk_values),
                timestamps: timestamps[start..end].to_vec(),
                values: chunk_values,
            });
            start = end;
        }
        let id = self.streams.len() as u64;
        self.streams.push(MemStream {
            info: StreamInfo {
                id,
                labels,
                value_type,
            },
            chunks: Arc::new(chunks),
        });
        Ok(id)
    }

    /// Convenience for tests: a stream of `(timestamp, value)` pairs of one type.
    pub fn add_points<V: Into<Value> + Copy>(
        &mut self,
        labels: Labels,
        points: &[(i64, V)],
    ) -> Result<u64, TqlError> {
        let timestamps: Vec<i64> = points.iter().map(|p| p.0).collect();
        let value_type = points
            .first()
            .map_or(ValueType::Integer64, |p| p.1.into().value_type());
        let mut values = Column::new(value_type);
        for p in points {
            if !values.push(p.1.into()) {
                return Err(TqlError::InvalidArgument("mixed value types".into()));
            }
        }
        self.add(labels, &timestamps, values)
    }

    /// How many times `ChunkCursor::decode` was called since creation or the last reset.
    pub fn decode_count(&self) -> u64 {
        self.decodes.load(Ordering::Relaxed)
    }

    /// How many chunk summaries cursors handed out since creation or the last reset.
    pub fn chunk_count(&self) -> u64 {
        self.chunk_reads.load(Ordering::Relaxed)
    }

    pub fn reset_counters(&self) {
        self.decodes.store(0, Ordering::Relaxed);
        self.chunk_reads.store(0, Ordering::Relaxed);
    }
}

fn slice_column(values: &Column, start: usize, end: usize) -> Column {
    match values {
        Column::Integer64(v) => Column::Integer64(v[start..end].to_vec()),
        Column::UInteger64(v) => Column::UInteger64(v[start..end].to_vec()),
        Column::Float64(v) => Column::Float64(v[start..end].to_vec()),
    }
}

/// The summary storage keeps for a chunk (the same function the chunk codec uses).
pub use crate::series::chunk::summarize;

impl SeriesSource for MemorySource {
    fn streams(&self) -> Result<Vec<StreamInfo>, TqlError> {
        Ok(self.streams.iter().map(|s| s.info.clone()).collect())
    }

    fn chunks(
        &self,
        stream_id: u64,
        start: i64,
        end: i64,
    ) -> Result<Box<dyn ChunkCursor + Send>, TqlError> {
        let stream = usize::try_from(stream_id)
            .ok()
            .and_then(|i| self.streams.get(i))
            .ok_or_else(|| TqlError::Source(format!("no stream with id {stream_id}")))?;
        Ok(Box::new(MemCursor {
            chunks: Arc::clone(&stream.chunks),
            next: 0,
            current: None,
            start,
            end,
            decodes: Arc::clone(&self.decodes),
            chunk_reads: Arc::clone(&self.chunk_reads),
        }))
    }

    fn now(&self) -> i64 {
        self.now
    }

    fn units_per_second(&self) -> i64 {
        self.units_per_second
    }
}

struct MemCursor {
    chunks: Arc<Vec<MemChunk>>,
    next: usize,
    current: Option<usize>,
    start: i64,
    end: i64,
    decodes: Arc<AtomicU64>,
    chunk_reads: Arc<AtomicU64>,
}

impl ChunkCursor for MemCursor {
    fn next_chunk(&mut self) -> Result<Option<ChunkSummary>, TqlError> {
        while let Some(chunk) = self.chunks.get(self.next) {
            let index = self.next;
            self.next += 1;
            let s = &chunk.summary;
            if s.last_timestamp < self.start || s.first_timestamp > self.end {
                continue;
            }
            self.current = Some(index);
            self.chunk_reads.fetch_add(1, Ordering::Relaxed);
            return Ok(Some(*s));
        }
        self.current = None;
        Ok(None)
    }

    fn decode(&mut self, timestamps: &mut Vec<i64>, values: &mut Column) -> Result<(), TqlError> {
        let chunk = self
            .current
            .and_then(|i| self.chunks.get(i))
            .ok_or_else(|| TqlError::Source("decode without a current chunk".into()))?;
        self.decodes.fetch_add(1, Ordering::Relaxed);
        timestamps.clear();
        timestamps.extend_from_slice(&chunk.timestamps);
        match (&chunk.values, values) {
            (Column::Integer64(src), Column::Integer64(dst)) => {
                dst.clear();
                dst.extend_from_slice(src);
            }
            (Column::UInteger64(src), Column::UInteger64(dst)) => {
                dst.clear();
                dst.extend_from_slice(src);
            }
            (Column::Float64(src), Column::Float64(dst)) => {
                dst.clear();
                dst.extend_from_slice(src);
            }
            (src, dst) => *dst = src.clone(),
        }
        Ok(())
    }
}
