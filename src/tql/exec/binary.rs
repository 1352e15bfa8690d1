//! Binary operators involving vectors, and unary minus on vectors.
//!
//! Matching (vector∘vector, and labelled scalars from `by`/`without` against anything):
//! * Series are compared by their labels without the metric name.
//! * If one side has exactly one series (or group) and the other several, the lone one pairs
//!   with every series of the other side, and each output takes that series' labels.
//! * If both sides have exactly one, they pair whatever their labels: the output takes the
//!   labels if they are equal, the larger set if one contains the other, and otherwise the
//!   labels they have in common.
//! * Otherwise series pair one-to-one by equal labels; unmatched series are dropped, and a
//!   label set that appears more than once on a side while having a partner is an error
//!   (PromQL's "many-to-many matching not allowed").
//!
//! vector∘vector: output timestamps are the union of both sides. Where only one side has a
//! point, the other side's value is linearly interpolated between its neighbours (integers
//! rounded half away from zero), its first value held before its first point and its last
//! value after its last point. A pair where one side has no point at all yields nothing.
//!
//! Output labels: arithmetic and `bool` comparisons drop the metric name. A filtering
//! comparison against a scalar keeps the vector's labels including the metric name (as
//! PromQL does); a filtering comparison between vectors outputs the matched labels without
//! the metric name, like every vector∘vector operator.

use std::collections::HashMap;
use std::sync::Arc;

use super::arith;
use super::scalar::ScalarNode;
use super::{BLOCK, Buf, EmptyReader, SeriesReader, Step, VectorNode, next_points, without_metric};
use crate::series::types::{Labels, Value, ValueType};
use crate::tql::ast::BinaryOp;
use crate::tql::error::TqlError;

/// Which output a pair of series/groups produces.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Pairing {
    pub left: usize,
    pub right: usize,
    pub labels: Labels,
}

fn is_subset(small: &Labels, big: &Labels) -> bool {
    small
        .labels
        .iter()
        .all(|(k, v)| big.labels.get(k) == Some(v))
}

/// Pairs series by label sets `left` and `right` (already without metric names), following the
/// rules in the module documentation.
pub(crate) fn pair(
    left: &[Labels],
    right: &[Labels],
    op: BinaryOp,
) -> Result<Vec<Pairing>, TqlError> {
    match (left.len(), right.len()) {
        (0, _) | (_, 0) => Ok(Vec::new()),
        (1, 1) => {
            let (l, r) = (&left[0], &right[0]);
            let labels = if is_subset(l, r) {
                r.clone()
            } else if is_subset(r, l) {
                l.clone()
            } else {
                Labels {
                    metric: String::new(),
                    labels: l
                        .labels
                        .iter()
                        .filter(|(k, v)| r.labels.get(*k) == Some(*v))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                }
            };
            Ok(vec![Pairing {
                left: 0,
                right: 0,
                labels,
            }])
        }
        (1, _) => Ok(right
            .iter()
            .enumerate()
            .map(|(j, labels)| Pairing {
                left: 0,
                right: j,
                labels: labels.clone(),
            })
            .collect()),
        (_, 1) => Ok(left
            .iter()
            .enumerate()
            .map(|(i, labels)| Pairing {
                left: i,
                right: 0,
                labels: labels.clone(),
            })
            .collect()),
        _ => {
            let mut right_index: HashMap<&Labels, (usize, usize)> = HashMap::new();
            for (j, labels) in right.iter().enumerate() {
                right_index.entry(labels).or_insert((j, 0)).1 += 1;
            }
            let mut left_count: HashMap<&Labels, usize> = HashMap::new();
            for labels in left {
                *left_count.entry(labels).or_insert(0) += 1;
            }
            let mut pairs = Vec::new();
            for (i, labels) in left.iter().enumerate() {
                if let Some(&(j, right_n)) = right_index.get(labels) {
                    if right_n > 1 || left_count.get(labels).copied().unwrap_or(0) > 1 {
                        return Err(TqlError::InvalidArgument(format!(
                            "several series with labels {} on one side of '{}': matching must be one-to-one",
                            if labels.labels.is_empty() {
                                "{}".to_string()
                            } else {
                                labels.to_string()
                            },
                            op.symbol()
                        )));
                    }
                    pairs.push(Pairing {
                        left: i,
                        right: j,
                        labels: labels.clone(),
                    });
                }
            }
            Ok(pairs)
        }
    }
}

/// How a comparison or arithmetic operator produces output values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Arith,
    /// Comparison without `bool`: keep the point (with the vector's / left value) when true.
    Filter,
    /// Comparison with `bool`: u64 1 or 0 for every point.
    Bool,
}

impl Mode {
    pub fn of(op: BinaryOp, return_bool: bool) -> Mode {
        match (op.is_comparison(), return_bool) {
            (false, _) => Mode::Arith,
            (true, false) => Mode::Filter,
            (true, true) => Mode::Bool,
        }
    }

    /// The output type for operands `a` (the kept side for filters) and `b`.
    pub fn output_type(self, op: BinaryOp, a: ValueType, b: ValueType) -> ValueType {
        match self {
            Mode::Arith => arith::result_type(op, a, b),
            Mode::Filter => a,
            Mode::Bool => ValueType::UInteger64,
        }
    }
}

/// Applies the operator to `a op b`, pushing the result (if any) with timestamp `t`. `keep` is
/// the value a filter keeps.
#[inline]
fn emit(
    buf: &mut Buf,
    mode: Mode,
    op: BinaryOp,
    t: i64,
    a: Value,
    b: Value,
    keep: Value,
) -> Result<(), TqlError> {
    let out = match mode {
        Mode::Arith => arith::arith(op, a, b)?,
        Mode::Filter => {
            if !arith::compare(op, a, b) {
                return Ok(());
            }
            keep
        }
        Mode::Bool => Value::UInteger64(arith::compare(op, a, b) as u64),
    };
    if buf.vals.push(out) {
        buf.ts.push(t);
    }
    Ok(())
}

struct VsOutput {
    series: usize,
    group: usize,
    labels: Labels,
    value_type: ValueType,
}

/// vector ∘ scalar and scalar ∘ vector, applied point by point.
pub(crate) struct VectorScalarNode {
    vector: Arc<dyn VectorNode>,
    scalar: Arc<ScalarNode>,
    op: BinaryOp,
    mode: Mode,
    scalar_left: bool,
    outputs: Vec<VsOutput>,
}

impl VectorScalarNode {
    pub fn new(
        vector: Arc<dyn VectorNode>,
        scalar: Arc<ScalarNode>,
        op: BinaryOp,
        return_bool: bool,
        scalar_left: bool,
    ) -> Result<VectorScalarNode, TqlError> {
        let mode = Mode::of(op, return_bool);
        let pairs: Vec<(usize, usize, Labels)> = if scalar.labels.len() == 1 {
            // One scalar applies to every series.
            (0..vector.series_count())
                .map(|i| (i, 0, without_metric(vector.labels(i))))
                .collect()
        } else {
            let keys: Vec<Labels> = (0..vector.series_count())
                .map(|i| without_metric(vector.labels(i)))
                .collect();
            pair(&keys, &scalar.labels, op)?
                .into_iter()
                .map(|p| (p.left, p.right, p.labels))
                .collect()
        };
        let outputs = pairs
            .into_iter()
            .map(|(series, group, labels)| {
                let vt = vector.value_type(series);
                let st = scalar
                    .types
                    .get(group)
                    .copied()
                    .unwrap_or(ValueType::Integer64);
                let value_type = if scalar_left {
                    match mode {
                        Mode::Filter => vt,
                        _ => mode.output_type(op, st, vt),
                    }
                } else {
                    mode.output_type(op, vt, st)
                };
                let labels = if mode == Mode::Filter {
                    vector.labels(series).clone()
                } else {
                    labels
                };
                VsOutput {
                    series,
                    group,
                    labels,
                    value_type,
                }
            })
            .collect();
        Ok(VectorScalarNode {
            vector,
            scalar,
            op,
            mode,
            scalar_left,
            outputs,
        })
    }
}

impl VectorNode for VectorScalarNode {
    fn series_count(&self) -> usize {
        self.outputs.len()
    }

    fn labels(&self, series: usize) -> &Labels {
        self.outputs
            .get(series)
            .map_or(&super::EMPTY_LABELS, |o| &o.labels)
    }

    fn value_type(&self, series: usize) -> ValueType {
        self.outputs
            .get(series)
            .map_or(ValueType::Integer64, |o| o.value_type)
    }

    fn open(&self, series: usize) -> Result<Box<dyn SeriesReader>, TqlError> {
        let Some(o) = self.outputs.get(series) else {
            return Ok(Box::new(EmptyReader));
        };
        let values = self.scalar.values()?;
        let Some(scalar) = values.get(o.group).copied().flatten() else {
            return Ok(Box::new(EmptyReader));
        };
        Ok(Box::new(MapReader {
            child: self.vector.open(o.series)?,
            child_buf: Buf::new(self.vector.value_type(o.series)),
            map: Map::Binary {
                op: self.op,
                mode: self.mode,
                scalar,
                scalar_left: self.scalar_left,
            },
            out: o.value_type,
        }))
    }
}

/// Unary minus on a vector: f64 stays f64, integers become i64; the metric name is dropped.
pub(crate) struct NegNode {
    inner: Arc<dyn VectorNode>,
    labels: Vec<Labels>,
}

impl NegNode {
    pub fn new(inner: Arc<dyn VectorNode>) -> NegNode {
        let labels = (0..inner.series_count())
            .map(|i| without_metric(inner.labels(i)))
            .collect();
        NegNode { inner, labels }
    }
}

impl VectorNode for NegNode {
    fn series_count(&self) -> usize {
        self.labels.len()
    }

    fn labels(&self, series: usize) -> &Labels {
        self.labels.get(series).unwrap_or(&super::EMPTY_LABELS)
    }

    fn value_type(&self, series: usize) -> ValueType {
        arith::negate_type(self.inner.value_type(series))
    }

    fn open(&self, series: usize) -> Result<Box<dyn SeriesReader>, TqlError> {
        Ok(Box::new(MapReader {
            child: self.inner.open(series)?,
            child_buf: Buf::new(self.inner.value_type(series)),
            map: Map::Neg,
            out: self.value_type(series),
        }))
    }
}

enum Map {
    Binary {
        op: BinaryOp,
        mode: Mode,
        scalar: Value,
        scalar_left: bool,
    },
    Neg,
}

/// Applies a per-point function to each block of a child series.
struct MapReader {
    child: Box<dyn SeriesReader>,
    child_buf: Buf,
    map: Map,
    out: ValueType,
}

impl MapReader {
    fn apply(&self, buf: &mut Buf) -> Result<(), TqlError> {
        let src = &self.child_buf;
        match self.map {
            Map::Neg => {
                for i in src.start..src.end {
                    if buf.vals.push(arith::negate(src.value(i))?) {
                        buf.ts.push(src.ts[i]);
                    }
                }
            }
            Map::Binary {
                op,
                mode,
                scalar,
                scalar_left,
            } => super::kernels::vector_scalar(
                src.values(),
                src.timestamps(),
                op,
                mode,
                scalar,
                scalar_left,
                buf,
            )?,
        }
        Ok(())
    }
}

impl SeriesReader for MapReader {
    fn next(&mut self, buf: &mut Buf, _want_summary: bool) -> Result<Step, TqlError> {
        loop {
            if !next_points(self.child.as_mut(), &mut self.child_buf)? {
                return Ok(Step::End);
            }
            buf.prepare(self.out);
            self.apply(buf)?;
            buf.set_all();
            if !buf.is_empty() {
                return Ok(Step::Points);
            }
        }
    }

    fn load(&mut self, buf: &mut Buf) -> Result<(), TqlError> {
        // Never answers with a summary, so there is nothing to load.
        buf.set_range(0, 0);
        Ok(())
    }
}

struct VvOutput {
    left: usize,
    right: usize,
    labels: Labels,
    value_type: ValueType,
}

/// vector ∘ vector with interpolation.
pub(crate) struct VectorVectorNode {
    left: Arc<dyn VectorNode>,
    right: Arc<dyn VectorNode>,
    op: BinaryOp,
    mode: Mode,
    outputs: Vec<VvOutput>,
}

impl VectorVectorNode {
    pub fn new(
        left: Arc<dyn VectorNode>,
        right: Arc<dyn VectorNode>,
        op: BinaryOp,
        return_bool: bool,
    ) -> Result<VectorVectorNode, TqlError> {
        let mode = Mode::of(op, return_bool);
        let keys = |n: &Arc<dyn VectorNode>| -> Vec<Labels> {
            (0..n.series_count())
                .map(|i| without_metric(n.labels(i)))
                .collect()
        };
        let outputs = pair(&keys(&left), &keys(&right), op)?
            .into_iter()
            .map(|p| VvOutput {
                value_type: mode.output_type(
                    op,
                    left.value_type(p.left),
                    right.value_type(p.right),
                ),
                left: p.left,
                right: p.right,
                labels: p.labels,
            })
            .collect();
        Ok(VectorVectorNode {
            left,
            right,
            op,
            mode,
            outputs,
        })
    }
}

impl VectorNode for VectorVectorNode {
    fn series_count(&self) -> usize {
        self.outputs.len()
    }

    fn labels(&self, series: usize) -> &Labels {
        self.outputs
            .get(series)
            .map_or(&super::EMPTY_LABELS, |o| &o.labels)
    }

    fn value_type(&self, series: usize) -> ValueType {
        self.outputs
            .get(series)
            .map_or(ValueType::Integer64, |o| o.value_type)
    }

    fn open(&self, series: usize) -> Result<Box<dyn SeriesReader>, TqlError> {
        let Some(o) = self.outputs.get(series) else {
            return Ok(Box::new(EmptyReader));
        };
        Ok(Box::new(MergeReader {
            left: Side::new(self.left.open(o.left)?, self.left.value_type(o.left)),
            right: Side::new(self.right.open(o.right)?, self.right.value_type(o.right)),
            op: self.op,
            mode: self.mode,
            out: o.value_type,
        }))
    }
}

/// One input of a merge: its current block, the next unconsumed point and the last consumed.
struct Side {
    reader: Box<dyn SeriesReader>,
    buf: Buf,
    pos: usize,
    prev: Option<(i64, Value)>,
    done: bool,
}

impl Side {
    fn new(reader: Box<dyn SeriesReader>, value_type: ValueType) -> Side {
        Side {
            reader,
            buf: Buf::new(value_type),
            pos: 0,
            prev: None,
            done: false,
        }
    }

    /// The next unconsumed point.
    #[inline]
    fn peek(&mut self) -> Result<Option<(i64, Value)>, TqlError> {
        if self.pos >= self.buf.end {
            if self.done || !next_points(self.reader.as_mut(), &mut self.buf)? {
                self.done = true;
                return Ok(None);
            }
            self.pos = self.buf.start;
        }
        Ok(Some((self.buf.ts[self.pos], self.buf.value(self.pos))))
    }

    #[inline]
    fn consume(&mut self, point: (i64, Value)) {
        self.prev = Some(point);
        self.pos += 1;
    }

    /// This side's value at `t`, which lies after its consumed points and before `next`.
    #[inline]
    fn value_at(&self, t: i64, next: Option<(i64, Value)>) -> Option<Value> {
        match (self.prev, next) {
            (Some((t0, v0)), Some((t1, v1))) => Some(arith::interpolate(t0, v0, t1, v1, t)),
            (None, Some((_, v1))) => Some(v1),
            (Some((_, v0)), None) => Some(v0),
            (None, None) => None,
        }
    }
}

struct MergeReader {
    left: Side,
    right: Side,
    op: BinaryOp,
    mode: Mode,
    out: ValueType,
}

impl SeriesReader for MergeReader {
    fn next(&mut self, buf: &mut Buf, _want_summary: bool) -> Result<Step, TqlError> {
        buf.prepare(self.out);
        while buf.ts.len() < BLOCK {
            let l = self.left.peek()?;
            let r = self.right.peek()?;
            let (t, a, b) = match (l, r) {
                (None, None) => break,
                (Some(x), None) => {
                    let Some(b) = self.right.value_at(x.0, None) else {
                        break; // the right side has no point at all
                    };
                    self.left.consume(x);
                    (x.0, x.1, b)
                }
                (None, Some(y)) => {
                    let Some(a) = self.left.value_at(y.0, None) else {
                        break;
                    };
                    self.right.consume(y);
                    (y.0, a, y.1)
                }
                (Some(x), Some(y)) => {
                    if x.0 == y.0 {
                        self.left.consume(x);
                        self.right.consume(y);
                        (x.0, x.1, y.1)
                    } else if x.0 < y.0 {
                        let b = self.right.value_at(x.0, Some(y)).unwrap_or(y.1);
                        self.left.consume(x);
                        (x.0, x.1, b)
                    } else {
                        let a = self.left.value_at(y.0, Some(x)).unwrap_or(x.1);
                        self.right.consume(y);
                        (y.0, a, y.1)
                    }
                }
            };
            emit(buf, self.mode, self.op, t, a, b, a)?;
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
