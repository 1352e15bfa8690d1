//! Aggregation over time: grouping of series, the accumulator, and the scalar aggregates.
//!
//! * `sum`, `min`, `max` keep the input type; when a group mixes stream types they take the
//!   combined type (f64 if any is f64, else i64 if any is i64, else u64). `count` is u64 and
//!   `avg` f64.
//! * Integer sums accumulate exactly in i128 and fail with `Overflow` only if the final result
//!   doesn't fit the output type.
//! * `min`/`max` ignore NaN unless every value is NaN (as chunk summaries do).
//! * Empty input: `count` is 0, the others have no value.
//! * Whole chunks inside the window are added from their [`ChunkSummary`] without decoding.
//! * Groups (`by`/`without`) are labelled by the kept labels without the metric name (as in
//!   PromQL; `by (__name__)` keeps it) and sorted by those labels.

use std::collections::BTreeMap;

use super::arith::{self, cmp_values};
use super::{Buf, Step, ValuesRef, VectorNode};
use crate::series::types::{ChunkSummary, Labels, Value, ValueType, WideSum};
use crate::tql::ast::{AggFunc, Grouping};
use crate::tql::error::TqlError;

/// Series grouped for an aggregation.
pub(crate) struct Groups {
    pub labels: Vec<Labels>,
    pub members: Vec<Vec<usize>>,
    /// The combined value type of each group's members.
    pub types: Vec<ValueType>,
}

fn group_key(labels: &Labels, grouping: &Grouping) -> Labels {
    match grouping {
        Grouping::By(names) => Labels {
            metric: if names.iter().any(|n| n == "__name__") {
                labels.metric.clone()
            } else {
                String::new()
            },
            labels: labels
                .labels
                .iter()
                .filter(|(k, _)| names.contains(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        },
        Grouping::Without(names) => Labels {
            metric: String::new(),
            labels: labels
                .labels
                .iter()
                .filter(|(k, _)| !names.contains(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        },
    }
}

/// Groups the series of `input`. Without grouping there is exactly one group, with empty
/// labels, even when the input has no series.
pub(crate) fn make_groups(input: &dyn VectorNode, grouping: Option<&Grouping>) -> Groups {
    let mut map: BTreeMap<Labels, Vec<usize>> = BTreeMap::new();
    for i in 0..input.series_count() {
        let key = match grouping {
            Some(g) => group_key(input.labels(i), g),
            None => Labels::default(),
        };
        map.entry(key).or_default().push(i);
    }
    if grouping.is_none() && map.is_empty() {
        map.insert(Labels::default(), Vec::new());
    }
    let mut groups = Groups {
        labels: Vec::with_capacity(map.len()),
        members: Vec::with_capacity(map.len()),
        types: Vec::with_capacity(map.len()),
    };
    for (labels, members) in map {
        let t = arith::combined_type(members.iter().map(|&m| input.value_type(m)))
            .unwrap_or(ValueType::Integer64);
        groups.labels.push(labels);
        groups.members.push(members);
        groups.types.push(t);
    }
    groups
}

/// The output type of `func` over inputs of combined type `input`.
pub(crate) fn output_type(func: AggFunc, input: ValueType) -> ValueType {
    match func {
        AggFunc::Count => ValueType::UInteger64,
        AggFunc::Avg => ValueType::Float64,
        _ => input,
    }
}

/// Accumulates one aggregate. Only what `func` needs is computed.
#[derive(Debug, Clone)]
pub(crate) struct Acc {
    func: AggFunc,
    count: u64,
    int_sum: i128,
    float_sum: f64,
    /// The min (for `min`) or max (for `max`) of the non-NaN values so far.
    best: Option<Value>,
    saw_nan: bool,
}

fn float_extreme(values: &[f64], max: bool) -> (Option<f64>, bool) {
    let mut best = if max {
        f64::NEG_INFINITY
    } else {
        f64::INFINITY
    };
    let mut any = false;
    let mut nan = false;
    for &x in values {
        if x.is_nan() {
            nan = true;
        } else {
            any = true;
            best = if max { best.max(x) } else { best.min(x) };
        }
    }
    (any.then_some(best), nan)
}

impl Acc {
    pub fn new(func: AggFunc) -> Acc {
        Acc {
            func,
            count: 0,
            int_sum: 0,
            float_sum: 0.0,
            best: None,
            saw_nan: false,
        }
    }

    pub fn reset(&mut self) {
        *self = Acc::new(self.func);
    }

    fn offer(&mut self, v: Value) {
        if matches!(v, Value::Float64(x) if x.is_nan()) {
            self.saw_nan = true;
            return;
        }
        let replace = match self.best {
            None => true,
            Some(b) => {
                let ord = cmp_values(v, b);
                if self.func == AggFunc::Max {
                    ord == Some(std::cmp::Ordering::Greater)
                } else {
                    ord == Some(std::cmp::Ordering::Less)
                }
            }
        };
        if replace {
            self.best = Some(v);
        }
    }

    fn add_int(&mut self, sum: i128) -> Result<(), TqlError> {
        self.int_sum = self.int_sum.checked_add(sum).ok_or(TqlError::Overflow)?;
        Ok(())
    }

    /// Adds a whole chunk from its summary.
    pub fn add_summary(&mut self, s: &ChunkSummary) -> Result<(), TqlError> {
        if s.count == 0 {
            return Ok(());
        }
        self.count += u64::from(s.count);
        match self.func {
            AggFunc::Sum | AggFunc::Avg => match s.sum {
                WideSum::Integer(i) => self.add_int(i)?,
                WideSum::Float(f) => self.float_sum += f,
            },
            AggFunc::Min => self.offer(s.min),
            AggFunc::Max => self.offer(s.max),
            _ => {}
        }
        Ok(())
    }

    /// Adds decoded points.
    pub fn add_values(&mut self, values: ValuesRef<'_>) -> Result<(), TqlError> {
        if values.is_empty() {
            return Ok(());
        }
        self.count += values.len() as u64;
        match self.func {
            AggFunc::Sum | AggFunc::Avg => match values {
                ValuesRef::Integer64(v) => self.add_int(v.iter().map(|&x| x as i128).sum())?,
                ValuesRef::UInteger64(v) => self.add_int(v.iter().map(|&x| x as i128).sum())?,
                ValuesRef::Float64(v) => {
                    let mut s = self.float_sum;
                    for &x in v {
                        s += x;
                    }
                    self.float_sum = s;
                }
            },
            AggFunc::Min | AggFunc::Max => {
                let max = self.func == AggFunc::Max;
                match values {
                    ValuesRef::Integer64(v) => {
                        let e = if max { v.iter().max() } else { v.iter().min() };
                        if let Some(&e) = e {
                            self.offer(Value::Integer64(e));
                        }
                    }
                    ValuesRef::UInteger64(v) => {
                        let e = if max { v.iter().max() } else { v.iter().min() };
                        if let Some(&e) = e {
                            self.offer(Value::UInteger64(e));
                        }
                    }
                    ValuesRef::Float64(v) => {
                        let (e, nan) = float_extreme(v, max);
                        self.saw_nan |= nan;
                        if let Some(e) = e {
                            self.offer(Value::Float64(e));
                        }
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The aggregate, converted to `out` (see [`output_type`]); `None` for an empty input
    /// except for `count`.
    pub fn finish(&self, out: ValueType) -> Result<Option<Value>, TqlError> {
        if self.func == AggFunc::Count {
            return Ok(Some(Value::UInteger64(self.count)));
        }
        if self.count == 0 {
            return Ok(None);
        }
        match self.func {
            AggFunc::Sum => {
                if out == ValueType::Float64 {
                    Ok(Some(Value::Float64(self.float_sum + self.int_sum as f64)))
                } else {
                    arith::fit(self.int_sum, out).map(Some)
                }
            }
            AggFunc::Avg => Ok(Some(Value::Float64(
                (self.float_sum + self.int_sum as f64) / self.count as f64,
            ))),
            AggFunc::Min | AggFunc::Max => match self.best {
                Some(v) => arith::convert(v, out).map(Some),
                None if self.saw_nan => Ok(Some(Value::Float64(f64::NAN))),
                None => Ok(None),
            },
            _ => Ok(None),
        }
    }
}

/// Reads every member of every group and returns one optional value per group.
pub(crate) fn eval_aggregate(
    input: &dyn VectorNode,
    groups: &Groups,
    func: AggFunc,
) -> Result<Vec<Option<Value>>, TqlError> {
    let mut out = Vec::with_capacity(groups.members.len());
    let mut acc = Acc::new(func);
    let mut buf = Buf::new(ValueType::Integer64);
    // `count` needs no values at all and min/max/sum/avg are all answered by summaries, so
    // every aggregate asks for summaries.
    for (members, &t) in groups.members.iter().zip(&groups.types) {
        acc.reset();
        for &m in members {
            let mut reader = input.open(m)?;
            loop {
                match reader.next(&mut buf, true)? {
                    Step::End => break,
                    Step::Summary(s) => acc.add_summary(&s)?,
                    Step::Points => acc.add_values(buf.values())?,
                }
            }
        }
        out.push(acc.finish(output_type(func, t))?);
    }
    Ok(out)
}
