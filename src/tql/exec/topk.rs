//! `topk(k, v)` and `bottomk(k, v)`: the k largest / smallest points, with their timestamps
//! and series.
//!
//! Order: by value (largest first for topk, smallest first for bottomk); ties go to the earlier
//! timestamp, then to the lower series index; NaN sorts after every number for both. `k` must
//! be a single scalar ≥ 0 (a float must be a whole number).
//!
//! With `by`/`without`, each group keeps its own k; with `[P]` each bucket of each group
//! does. The result holds only the selected points (k per group and bucket), read once:
//! series by series without `[P]` (one heap of k per group), bucket by bucket with `[P]`.
//! At the top level points stream group by group, bucket by bucket, in value order within a
//! bucket; used as a vector (inside an operator or another aggregate) each input series
//! yields its selected points in time order.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::{Arc, OnceLock};

use super::aggregate::Groups;
use super::arith::cmp_values;
use super::scalar::ScalarNode;
use super::subperiod::{BucketSink, BucketWalker};
use super::{BLOCK, Buf, SeriesReader, Step, ValuesRef, VectorNode, next_points};
use crate::series::types::{ChunkSummary, Labels, Value, ValueType};
use crate::tql::error::TqlError;

#[derive(Debug, Clone, Copy)]
struct Candidate {
    value: Value,
    timestamp: i64,
    series: usize,
}

fn is_nan(v: Value) -> bool {
    matches!(v, Value::Float64(x) if x.is_nan())
}

/// `Less` when `a` ranks before `b`.
fn rank(a: &Candidate, b: &Candidate, bottom: bool) -> Ordering {
    let by_value = match (is_nan(a.value), is_nan(b.value)) {
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        (true, true) => Ordering::Equal,
        (false, false) => {
            let ord = cmp_values(a.value, b.value).unwrap_or(Ordering::Equal);
            if bottom { ord } else { ord.reverse() }
        }
    };
    by_value
        .then(a.timestamp.cmp(&b.timestamp))
        .then(a.series.cmp(&b.series))
}

/// A heap entry ordered so that the heap's top is the worst kept candidate.
struct Entry {
    candidate: Candidate,
    bottom: bool,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        rank(&self.candidate, &other.candidate, self.bottom)
    }
}

/// Keeps the k best candidates offered.
struct Best {
    k: usize,
    bottom: bool,
    heap: BinaryHeap<Entry>,
    /// Series index of each member of the group being read.
    members: Vec<usize>,
}

impl Best {
    fn offer(&mut self, candidate: Candidate) {
        if self.k == 0 {
            return;
        }
        if self.heap.len() < self.k {
            self.heap.push(Entry {
                candidate,
                bottom: self.bottom,
            });
        } else if let Some(mut worst) = self.heap.peek_mut()
            && rank(&candidate, &worst.candidate, self.bottom) == Ordering::Less
        {
            worst.candidate = candidate;
        }
    }

    fn offer_all(&mut self, series: usize, timestamps: &[i64], values: ValuesRef<'_>) {
        for (i, &timestamp) in timestamps.iter().enumerate() {
            if let Some(value) = values.get(i) {
                self.offer(Candidate {
                    value,
                    timestamp,
                    series,
                });
            }
        }
    }

    /// Moves the kept candidates, best first, to `out`.
    fn drain_into(&mut self, out: &mut Vec<(usize, i64, Value)>) {
        let heap = std::mem::take(&mut self.heap);
        out.extend(
            heap.into_sorted_vec()
                .into_iter()
                .map(|e| (e.candidate.series, e.candidate.timestamp, e.candidate.value)),
        );
    }
}

impl BucketSink for Best {
    fn summary(&mut self, _member: usize, _summary: &ChunkSummary) -> Result<(), TqlError> {
        // The walker is created without summaries for topk.
        Ok(())
    }

    fn values(
        &mut self,
        member: usize,
        timestamps: &[i64],
        values: ValuesRef<'_>,
    ) -> Result<(), TqlError> {
        let series = self.members.get(member).copied().unwrap_or(usize::MAX);
        self.offer_all(series, timestamps, values);
        Ok(())
    }
}

/// The selected points: in output order, and per series in time order.
pub(crate) struct TopkResult {
    pub points: Vec<(usize, i64, Value)>,
    per_series: Vec<Vec<(i64, Value)>>,
}

pub(crate) struct TopkNode {
    input: Arc<dyn VectorNode>,
    groups: Groups,
    k: Arc<ScalarNode>,
    bottom: bool,
    period: Option<i64>,
    result: OnceLock<Result<Arc<TopkResult>, TqlError>>,
}

impl TopkNode {
    pub fn new(
        input: Arc<dyn VectorNode>,
        groups: Groups,
        k: Arc<ScalarNode>,
        bottom: bool,
        period: Option<i64>,
    ) -> TopkNode {
        TopkNode {
            input,
            groups,
            k,
            bottom,
            period,
            result: OnceLock::new(),
        }
    }

    fn k(&self) -> Result<usize, TqlError> {
        let values = self.k.values()?;
        let name = if self.bottom { "bottomk" } else { "topk" };
        let [value] = values.as_slice() else {
            return Err(TqlError::InvalidArgument(format!(
                "k of {name} must be a single scalar, not {} labelled scalars",
                values.len()
            )));
        };
        let Some(value) = *value else {
            return Err(TqlError::InvalidArgument(format!(
                "k of {name} has no value"
            )));
        };
        let k = match value {
            Value::Integer64(v) => u64::try_from(v).ok(),
            Value::UInteger64(v) => Some(v),
            Value::Float64(v) if v >= 0.0 && v.fract() == 0.0 => Some(if v >= u64::MAX as f64 {
                u64::MAX
            } else {
                v as u64
            }),
            Value::Float64(_) => None,
        };
        match k {
            Some(k) => Ok(usize::try_from(k).unwrap_or(usize::MAX)),
            None => Err(TqlError::InvalidArgument(format!(
                "k of {name} must be a whole number ≥ 0, not {value}"
            ))),
        }
    }

    /// Computes (once) the selected points.
    pub fn result(&self) -> Result<Arc<TopkResult>, TqlError> {
        self.result
            .get_or_init(|| self.compute().map(Arc::new))
            .clone()
    }

    fn compute(&self) -> Result<TopkResult, TqlError> {
        let k = self.k()?;
        let mut points = Vec::new();
        if k > 0 {
            for members in &self.groups.members {
                let mut best = Best {
                    k,
                    bottom: self.bottom,
                    heap: BinaryHeap::new(),
                    members: members.clone(),
                };
                match self.period {
                    Some(period) => {
                        let mut walker =
                            BucketWalker::new(self.input.as_ref(), members, period, false)?;
                        while walker.next_bucket(&mut best)?.is_some() {
                            best.drain_into(&mut points);
                        }
                    }
                    None => {
                        for &m in members {
                            let mut reader = self.input.open(m)?;
                            let mut buf = Buf::new(self.input.value_type(m));
                            while next_points(reader.as_mut(), &mut buf)? {
                                best.offer_all(m, buf.timestamps(), buf.values());
                            }
                        }
                        best.drain_into(&mut points);
                    }
                }
            }
        }
        let mut per_series = vec![Vec::new(); self.input.series_count()];
        for &(series, t, v) in &points {
            if let Some(list) = per_series.get_mut(series) {
                list.push((t, v));
            }
        }
        for list in &mut per_series {
            list.sort_by_key(|p| p.0);
        }
        Ok(TopkResult { points, per_series })
    }
}

impl VectorNode for TopkNode {
    fn series_count(&self) -> usize {
        self.input.series_count()
    }

    fn labels(&self, series: usize) -> &Labels {
        self.input.labels(series)
    }

    fn value_type(&self, series: usize) -> ValueType {
        self.input.value_type(series)
    }

    fn open(&self, series: usize) -> Result<Box<dyn SeriesReader>, TqlError> {
        Ok(Box::new(TopkSeriesReader {
            result: self.result()?,
            series,
            pos: 0,
            value_type: self.value_type(series),
        }))
    }
}

/// One input series' selected points, in time order.
struct TopkSeriesReader {
    result: Arc<TopkResult>,
    series: usize,
    pos: usize,
    value_type: ValueType,
}

impl SeriesReader for TopkSeriesReader {
    fn next(&mut self, buf: &mut Buf, _want_summary: bool) -> Result<Step, TqlError> {
        buf.prepare(self.value_type);
        let list = self
            .result
            .per_series
            .get(self.series)
            .map_or(&[][..], |l| l.as_slice());
        while self.pos < list.len() && buf.ts.len() < BLOCK {
            let (t, v) = list[self.pos];
            self.pos += 1;
            if buf.vals.push(v) {
                buf.ts.push(t);
            }
        }
        buf.set_all();
        Ok(if buf.is_empty() {
            Step::End
        } else {
            Step::Points
        })
    }

    fn load(&mut self, buf: &mut Buf) -> Result<(), TqlError> {
        buf.set_range(0, 0);
        Ok(())
    }
}
