//! The vectorised, streaming executor.
//!
//! A query is planned into a tree of nodes. Vector-shaped nodes ([`VectorNode`]) know their
//! output series (labels and value type) right after planning, and open an independent
//! [`SeriesReader`] per series that yields the series' points in time order, one block at a
//! time, into a buffer owned by the caller. Scalar-shaped nodes ([`ScalarNode`]) compute one
//! optional value per group, once, on first use.
//!
//! Memory stays bounded by blocks, not by series length: a selector holds one decoded chunk, a
//! vector∘vector operator one block per side, a sub-period aggregate one block per member
//! series and one accumulator, `topk` its k best points (per bucket with `[P]`).

pub(crate) mod aggregate;
pub(crate) mod arith;
pub(crate) mod binary;
pub(crate) mod kernels;
pub(crate) mod plan;
pub(crate) mod scalar;
pub(crate) mod selection;
pub(crate) mod subperiod;
pub(crate) mod topk;

use crate::series::types::{ChunkSummary, Column, Labels, Value, ValueType};
use crate::tql::error::TqlError;

/// Points produced per block by operators that build their own output.
pub(crate) const BLOCK: usize = 1024;

/// A borrowed run of values of one type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValuesRef<'a> {
    Integer64(&'a [i64]),
    UInteger64(&'a [u64]),
    Float64(&'a [f64]),
}

impl<'a> ValuesRef<'a> {
    pub fn len(&self) -> usize {
        match self {
            ValuesRef::Integer64(v) => v.len(),
            ValuesRef::UInteger64(v) => v.len(),
            ValuesRef::Float64(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn value_type(&self) -> ValueType {
        match self {
            ValuesRef::Integer64(_) => ValueType::Integer64,
            ValuesRef::UInteger64(_) => ValueType::UInteger64,
            ValuesRef::Float64(_) => ValueType::Float64,
        }
    }

    pub fn get(&self, index: usize) -> Option<Value> {
        match self {
            ValuesRef::Integer64(v) => v.get(index).map(|&x| Value::Integer64(x)),
            ValuesRef::UInteger64(v) => v.get(index).map(|&x| Value::UInteger64(x)),
            ValuesRef::Float64(v) => v.get(index).map(|&x| Value::Float64(x)),
        }
    }

    /// The sub-range `start..end` (clamped to the length).
    pub fn slice(&self, start: usize, end: usize) -> ValuesRef<'a> {
        let end = end.min(self.len());
        let start = start.min(end);
        match *self {
            ValuesRef::Integer64(v) => ValuesRef::Integer64(&v[start..end]),
            ValuesRef::UInteger64(v) => ValuesRef::UInteger64(&v[start..end]),
            ValuesRef::Float64(v) => ValuesRef::Float64(&v[start..end]),
        }
    }

    /// Appends these values to `column`; returns false if the types differ.
    pub fn append_to(&self, column: &mut Column) -> bool {
        match (self, column) {
            (ValuesRef::Integer64(s), Column::Integer64(d)) => d.extend_from_slice(s),
            (ValuesRef::UInteger64(s), Column::UInteger64(d)) => d.extend_from_slice(s),
            (ValuesRef::Float64(s), Column::Float64(d)) => d.extend_from_slice(s),
            _ => return false,
        }
        true
    }
}

/// A block of points: `ts[start..end]` and `vals[start..end]` are the live points. The vectors
/// are reused from block to block. Invariant: `start <= end <= min(ts.len(), vals.len())`.
pub(crate) struct Buf {
    pub ts: Vec<i64>,
    pub vals: Column,
    pub start: usize,
    pub end: usize,
}

impl Buf {
    pub fn new(value_type: ValueType) -> Buf {
        Buf {
            ts: Vec::new(),
            vals: Column::new(value_type),
            start: 0,
            end: 0,
        }
    }

    /// Empties the buffer and makes its column of type `value_type`, keeping the allocations
    /// when the type doesn't change.
    pub fn prepare(&mut self, value_type: ValueType) {
        if self.vals.value_type() == value_type {
            self.vals.clear();
        } else {
            self.vals = Column::new(value_type);
        }
        self.ts.clear();
        self.start = 0;
        self.end = 0;
    }

    /// Marks everything pushed since `prepare` as live.
    pub fn set_all(&mut self) {
        self.start = 0;
        self.end = self.ts.len().min(self.vals.len());
    }

    /// Marks `start..end` live, clamped to keep the invariant.
    pub fn set_range(&mut self, start: usize, end: usize) {
        self.end = end.min(self.ts.len()).min(self.vals.len());
        self.start = start.min(self.end);
    }

    pub fn is_empty(&self) -> bool {
        self.start >= self.end
    }

    pub fn timestamps(&self) -> &[i64] {
        &self.ts[self.start..self.end]
    }

    pub fn values(&self) -> ValuesRef<'_> {
        values_of(&self.vals, self.start, self.end)
    }

    /// The value at absolute index `i`, which must be `< self.end`.
    #[inline]
    pub fn value(&self, i: usize) -> Value {
        match &self.vals {
            Column::Integer64(v) => Value::Integer64(v[i]),
            Column::UInteger64(v) => Value::UInteger64(v[i]),
            Column::Float64(v) => Value::Float64(v[i]),
        }
    }
}

/// `column[start..end]` as a [`ValuesRef`], clamped to the column's length.
pub(crate) fn values_of(column: &Column, start: usize, end: usize) -> ValuesRef<'_> {
    let whole = match column {
        Column::Integer64(v) => ValuesRef::Integer64(v),
        Column::UInteger64(v) => ValuesRef::UInteger64(v),
        Column::Float64(v) => ValuesRef::Float64(v),
    };
    whole.slice(start, end)
}

/// What [`SeriesReader::next`] produced.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Step {
    /// The series has no more points.
    End,
    /// A whole stored chunk lying entirely inside the query window, not decoded. The caller
    /// either uses the summary or calls [`SeriesReader::load`] for its points.
    Summary(ChunkSummary),
    /// The buffer holds the next points (at least one).
    Points,
}

/// Reads one output series in time order.
pub(crate) trait SeriesReader: Send {
    /// Moves to the next block. With `want_summary`, a whole chunk inside the window may be
    /// answered with [`Step::Summary`] instead of being decoded; otherwise the points are
    /// placed in `buf`.
    fn next(&mut self, buf: &mut Buf, want_summary: bool) -> Result<Step, TqlError>;

    /// Decodes into `buf` the chunk whose summary `next` just returned.
    fn load(&mut self, buf: &mut Buf) -> Result<(), TqlError>;
}

/// A reader of an empty series.
pub(crate) struct EmptyReader;

impl SeriesReader for EmptyReader {
    fn next(&mut self, _buf: &mut Buf, _want_summary: bool) -> Result<Step, TqlError> {
        Ok(Step::End)
    }

    fn load(&mut self, buf: &mut Buf) -> Result<(), TqlError> {
        buf.start = 0;
        buf.end = 0;
        Ok(())
    }
}

/// Calls `next` without summaries, looping past empty blocks; `false` at the end.
pub(crate) fn next_points(reader: &mut dyn SeriesReader, buf: &mut Buf) -> Result<bool, TqlError> {
    loop {
        match reader.next(buf, false)? {
            Step::End => return Ok(false),
            Step::Summary(_) => reader.load(buf)?,
            Step::Points => {}
        }
        if !buf.is_empty() {
            return Ok(true);
        }
    }
}

/// A vector-shaped plan node: a fixed list of output series, each readable independently and
/// any number of times.
pub(crate) trait VectorNode: Send + Sync {
    fn series_count(&self) -> usize;
    fn labels(&self, series: usize) -> &Labels;
    fn value_type(&self, series: usize) -> ValueType;
    fn open(&self, series: usize) -> Result<Box<dyn SeriesReader>, TqlError>;
}

/// Labels without the metric name: what vector matching compares and what most operators
/// output (PromQL drops `__name__` from computed results).
pub(crate) fn without_metric(labels: &Labels) -> Labels {
    Labels {
        metric: String::new(),
        labels: labels.labels.clone(),
    }
}

pub(crate) static EMPTY_LABELS: Labels = Labels {
    metric: String::new(),
    labels: std::collections::BTreeMap::new(),
};
