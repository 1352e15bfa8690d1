//! The inserter: buffers samples of one stream and writes them as compressed chunk frames.
//! A chunk frame's key is its last timestamp, so "the first chunk ending at or after t" is one
//! seek.

use crate::error::{Error, Result};
use crate::series::chunk::{MAX_CHUNK_POINTS, encode_chunk};
use crate::series::types::{Column, Value, ValueType};
use crate::writer::WriteContext;

/// Inserts samples into one numeric stream. Samples become visible to queries and durable on
/// `flush()` (or when a chunk fills); dropping the inserter flushes.
pub struct Inserter {
    stream: String,
    value_type: ValueType,
    context: WriteContext,
    timestamps: Vec<i64>,
    values: Column,
    /// The last timestamp accepted (buffered or stored).
    last_timestamp: Option<i64>,
    encoded: Vec<u8>,
    points_per_chunk: usize,
}

impl Inserter {
    pub(crate) fn new(stream: String, value_type: ValueType, context: WriteContext) -> Inserter {
        let last_timestamp = context.last_key().map(|k| k.timestamp);
        Inserter {
            stream,
            value_type,
            context,
            timestamps: Vec::with_capacity(MAX_CHUNK_POINTS),
            values: Column::new(value_type),
            last_timestamp,
            encoded: Vec::new(),
            points_per_chunk: MAX_CHUNK_POINTS,
        }
    }

    pub fn stream(&self) -> &str {
        &self.stream
    }

    pub fn value_type(&self) -> ValueType {
        self.value_type
    }

    /// Inserts one sample. Its type must be the stream's (E4) and its timestamp later than
    /// every earlier one (E5); on error nothing is inserted.
    pub fn insert(&mut self, timestamp: i64, value: impl Into<Value>) -> Result<()> {
        let value = value.into();
        self.check_type(value.value_type())?;
        self.check_order(timestamp)?;
        self.timestamps.push(timestamp);
        self.values.push(value);
        self.last_timestamp = Some(timestamp);
        if self.timestamps.len() >= self.points_per_chunk {
            self.write_buffer()?;
        }
        Ok(())
    }

    pub fn insert_integer64(&mut self, timestamp: i64, value: i64) -> Result<()> {
        self.insert(timestamp, value)
    }

    pub fn insert_uinteger64(&mut self, timestamp: i64, value: u64) -> Result<()> {
        self.insert(timestamp, value)
    }

    pub fn insert_float64(&mut self, timestamp: i64, value: f64) -> Result<()> {
        self.insert(timestamp, value)
    }

    /// Inserts many samples at once; they are checked first, so on error nothing is inserted.
    pub fn insert_batch(&mut self, timestamps: &[i64], values: &Column) -> Result<()> {
        if timestamps.len() != values.len() {
            return Err(Error::invalid(format!(
                "batch has {} timestamps but {} values",
                timestamps.len(),
                values.len()
            )));
        }
        self.check_type(values.value_type())?;
        let mut previous = self.last_timestamp;
        for &ts in timestamps {
            if previous.is_some_and(|p| ts <= p) {
                return Err(self.out_of_order(previous, ts));
            }
            previous = Some(ts);
        }
        let mut offset = 0;
        while offset < timestamps.len() {
            let room = self.points_per_chunk - self.timestamps.len();
            let take = room.min(timestamps.len() - offset);
            self.timestamps
                .extend_from_slice(&timestamps[offset..offset + take]);
            append_range(&mut self.values, values, offset, offset + take);
            offset += take;
            if self.timestamps.len() >= self.points_per_chunk {
                self.write_buffer()?;
            }
        }
        self.last_timestamp = previous;
        Ok(())
    }

    /// Writes buffered samples and makes everything inserted so far durable and visible.
    pub fn flush(&mut self) -> Result<()> {
        self.write_buffer()?;
        self.context.flush()
    }

    fn check_type(&self, given: ValueType) -> Result<()> {
        if given != self.value_type {
            return Err(Error::WrongValueType {
                stream: self.stream.clone(),
                expected: self.value_type.short_name(),
                given: given.short_name(),
            });
        }
        Ok(())
    }

    fn check_order(&self, timestamp: i64) -> Result<()> {
        if self.last_timestamp.is_some_and(|last| timestamp <= last) {
            return Err(self.out_of_order(self.last_timestamp, timestamp));
        }
        Ok(())
    }

    fn out_of_order(&self, last: Option<i64>, given: i64) -> Error {
        Error::NonMonotonicTimestamp {
            stream: self.stream.clone(),
            last: (last.unwrap_or(i64::MIN), 0),
            given: (given, 0),
        }
    }

    fn write_buffer(&mut self) -> Result<()> {
        if self.timestamps.is_empty() {
            return Ok(());
        }
        let timestamps = std::mem::take(&mut self.timestamps);
        let values = std::mem::replace(&mut self.values, Column::new(self.value_type));
        let result = self.write_chunks(&timestamps, &values, 0, timestamps.len());
        // Keep the allocations for the next chunk.
        self.timestamps = timestamps;
        self.timestamps.clear();
        self.values = values;
        self.values.clear();
        result
    }

    /// Writes points `[from, to)` as one chunk frame, halving the range until it fits a block.
    fn write_chunks(
        &mut self,
        timestamps: &[i64],
        values: &Column,
        from: usize,
        to: usize,
    ) -> Result<()> {
        let mut part = Column::new(self.value_type);
        append_range(&mut part, values, from, to);
        self.encoded.clear();
        encode_chunk(&timestamps[from..to], &part, &mut self.encoded)
            .map_err(|e| Error::corrupt(format!("encoding a chunk of {}: {e}", self.stream)))?;
        if self.encoded.len() > self.context.max_frame_size() && to - from > 1 {
            let mid = from + (to - from) / 2;
            self.write_chunks(timestamps, values, from, mid)?;
            return self.write_chunks(timestamps, values, mid, to);
        }
        self.context.write(
            &self.encoded,
            timestamps[to - 1],
            u32::from(self.value_type.tag()),
        )
    }
}

fn append_range(dest: &mut Column, src: &Column, from: usize, to: usize) {
    match (dest, src) {
        (Column::Integer64(d), Column::Integer64(s)) => d.extend_from_slice(&s[from..to]),
        (Column::UInteger64(d), Column::UInteger64(s)) => d.extend_from_slice(&s[from..to]),
        (Column::Float64(d), Column::Float64(s)) => d.extend_from_slice(&s[from..to]),
        // Types are checked before anything is appended.
        _ => {}
    }
}

impl Drop for Inserter {
    fn drop(&mut self) {
        // Errors cannot be reported from drop; call flush() to see them.
        let _ = self.write_buffer();
    }
}
