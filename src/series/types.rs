//! Value types shared by the numeric layer: the codecs, the inserter, the TQL executor and the
//! `Connection` facade all speak in these.

use std::collections::BTreeMap;
use std::fmt;

/// The value type of a numeric stream, fixed when the stream is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueType {
    Integer64,
    UInteger64,
    Float64,
}

impl ValueType {
    /// Stable one-byte tag used on disk and in the catalog.
    pub fn tag(self) -> u8 {
        match self {
            ValueType::Integer64 => 1,
            ValueType::UInteger64 => 2,
            ValueType::Float64 => 3,
        }
    }

    pub fn from_tag(tag: u8) -> Option<ValueType> {
        match tag {
            1 => Some(ValueType::Integer64),
            2 => Some(ValueType::UInteger64),
            3 => Some(ValueType::Float64),
            _ => None,
        }
    }

    /// Short name used by the CLI and in listings: `i64`, `u64`, `f64`.
    pub fn short_name(self) -> &'static str {
        match self {
            ValueType::Integer64 => "i64",
            ValueType::UInteger64 => "u64",
            ValueType::Float64 => "f64",
        }
    }

    pub fn from_short_name(name: &str) -> Option<ValueType> {
        match name {
            "i64" => Some(ValueType::Integer64),
            "u64" => Some(ValueType::UInteger64),
            "f64" => Some(ValueType::Float64),
            _ => None,
        }
    }
}

/// One numeric value of any of the three stream types.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    Integer64(i64),
    UInteger64(u64),
    Float64(f64),
}

impl Value {
    pub fn value_type(self) -> ValueType {
        match self {
            Value::Integer64(_) => ValueType::Integer64,
            Value::UInteger64(_) => ValueType::UInteger64,
            Value::Float64(_) => ValueType::Float64,
        }
    }

    pub fn as_f64(self) -> f64 {
        match self {
            Value::Integer64(v) => v as f64,
            Value::UInteger64(v) => v as f64,
            Value::Float64(v) => v,
        }
    }

    /// Integers convert exactly when they fit (saturating otherwise); floats truncate toward
    /// zero, saturating at the bounds, NaN gives 0 (Rust's `as` semantics).
    pub fn as_i64(self) -> i64 {
        match self {
            Value::Integer64(v) => v,
            Value::UInteger64(v) => i64::try_from(v).unwrap_or(i64::MAX),
            Value::Float64(v) => v as i64,
        }
    }

    /// Like [`Value::as_i64`]; negative values give 0.
    pub fn as_u64(self) -> u64 {
        match self {
            Value::Integer64(v) => u64::try_from(v).unwrap_or(0),
            Value::UInteger64(v) => v,
            Value::Float64(v) => v as u64,
        }
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Integer64(v)
    }
}

impl From<u64> for Value {
    fn from(v: u64) -> Self {
        Value::UInteger64(v)
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float64(v)
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Integer64(v) => write!(f, "{v}"),
            Value::UInteger64(v) => write!(f, "{v}"),
            Value::Float64(v) => write!(f, "{v}"),
        }
    }
}

/// A column of values of one type, as decoded from a chunk or produced by the executor.
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    Integer64(Vec<i64>),
    UInteger64(Vec<u64>),
    Float64(Vec<f64>),
}

impl Column {
    pub fn new(value_type: ValueType) -> Column {
        match value_type {
            ValueType::Integer64 => Column::Integer64(Vec::new()),
            ValueType::UInteger64 => Column::UInteger64(Vec::new()),
            ValueType::Float64 => Column::Float64(Vec::new()),
        }
    }

    pub fn value_type(&self) -> ValueType {
        match self {
            Column::Integer64(_) => ValueType::Integer64,
            Column::UInteger64(_) => ValueType::UInteger64,
            Column::Float64(_) => ValueType::Float64,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Column::Integer64(v) => v.len(),
            Column::UInteger64(v) => v.len(),
            Column::Float64(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn clear(&mut self) {
        match self {
            Column::Integer64(v) => v.clear(),
            Column::UInteger64(v) => v.clear(),
            Column::Float64(v) => v.clear(),
        }
    }

    /// The value at `index`, if it exists.
    pub fn get(&self, index: usize) -> Option<Value> {
        match self {
            Column::Integer64(v) => v.get(index).map(|&x| Value::Integer64(x)),
            Column::UInteger64(v) => v.get(index).map(|&x| Value::UInteger64(x)),
            Column::Float64(v) => v.get(index).map(|&x| Value::Float64(x)),
        }
    }

    /// Appends `value`; returns `false` (and appends nothing) when its type differs.
    pub fn push(&mut self, value: Value) -> bool {
        match (self, value) {
            (Column::Integer64(v), Value::Integer64(x)) => v.push(x),
            (Column::UInteger64(v), Value::UInteger64(x)) => v.push(x),
            (Column::Float64(v), Value::Float64(x)) => v.push(x),
            _ => return false,
        }
        true
    }
}

/// The sum of a chunk's values, kept wide enough that summing one chunk never overflows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WideSum {
    Integer(i128),
    Float(f64),
}

/// What a chunk frame records about its points, so that aggregates over whole chunks can be
/// answered without decoding them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChunkSummary {
    pub value_type: ValueType,
    pub count: u32,
    pub first_timestamp: i64,
    pub last_timestamp: i64,
    pub sum: WideSum,
    /// Smallest value; for floats NaN is ignored unless every value is NaN.
    pub min: Value,
    /// Largest value; for floats NaN is ignored unless every value is NaN.
    pub max: Value,
}

/// A stream's identity: its metric name and its full label set.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Labels {
    pub metric: String,
    pub labels: BTreeMap<String, String>,
}

impl fmt::Display for Labels {
    /// Canonical form: `metric{a="1",b="2"}` with labels sorted and quotes/backslashes escaped;
    /// just `metric` when there are no labels.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.metric)?;
        if self.labels.is_empty() {
            return Ok(());
        }
        f.write_str("{")?;
        for (i, (k, v)) in self.labels.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{k}=\"")?;
            for c in v.chars() {
                match c {
                    '"' => f.write_str("\\\"")?,
                    '\\' => f.write_str("\\\\")?,
                    '\n' => f.write_str("\\n")?,
                    c => write!(f, "{c}")?,
                }
            }
            f.write_str("\"")?;
        }
        f.write_str("}")
    }
}
