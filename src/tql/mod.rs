//! TQL: a PromQL variant that aggregates over time.
//!
//! [`parse`] turns a query into an [`ast::Expr`]; [`execute`] plans it against a
//! [`SeriesSource`] and returns an [`Execution`] that produces results lazily.
//!
//! ```text
//! latency{service="web"}                       every point of the stream
//! latency{service="web"}[1h]                   the last hour before the query end (or now)
//! sum(latency)                                 one scalar: the sum over time of every match
//! avg by (service) (latency)                   one labelled scalar per service
//! max(latency)[10m]                            a series: max per 10-minute bucket
//! topk(3, latency)                             the three largest points
//! latency{service="web"} - latency{service="db"}   pointwise, with interpolation
//! ```
//!
//! # Structure
//!
//! * `lexer` → tokens with byte positions; `parser` → [`ast::Expr`] with spans, checking
//!   shapes (aggregation arguments are vectors, `k` is a scalar) and nesting depth.
//! * `exec::plan` turns the tree into nodes once the streams are known: selectors are
//!   matched (E3 when nothing matches), windows and durations resolved in database units,
//!   groups formed, vector matching decided, and every output's labels and value type fixed.
//! * Vector nodes open one reader per output series; a reader fills a caller-owned block
//!   buffer (timestamps + typed column) and may instead hand back a chunk's summary when
//!   the chunk lies wholly inside the window and the caller can use it (aggregates).
//!   Operators: selector (one decoded chunk), vector∘scalar and unary minus (typed loops per
//!   block), vector∘vector (a merge with one block of lookahead per side), sub-period
//!   aggregate (members merged bucket by bucket, one accumulator), topk (k per group and
//!   bucket). Scalar nodes (literals, aggregates, operators over them) compute once, lazily.
//! * [`Execution`] serves points from one block buffer, so [`Execution::next_point`] is an
//!   index and a type match; readers and nodes are only called once per block.
//!
//! Semantics follow the project's TQL specification; where it is silent they follow PromQL,
//! and each such choice is documented on the module that implements it
//! (`exec::selection`, `exec::aggregate`, `exec::subperiod`, `exec::topk`, `exec::binary`,
//! `exec::arith`).

pub mod ast;
pub mod error;
mod exec;
pub mod lexer;
pub mod memory;
pub mod parser;
pub mod source;

#[cfg(test)]
mod tests;

use std::sync::Arc;

pub use error::TqlError;
pub use exec::ValuesRef;
pub use source::{ChunkCursor, SeriesSource, StreamInfo};

use crate::series::types::{Column, Labels, Value};
use exec::plan::{Plan, Planner};
use exec::scalar::{ScalarNode, ScalarValues};
use exec::topk::{TopkNode, TopkResult};
use exec::{Buf, EMPTY_LABELS, SeriesReader, VectorNode, next_points};

/// Parses a query into its syntax tree. Syntax errors are [`TqlError::Syntax`] (E6).
pub fn parse(query: &str) -> Result<ast::Expr, TqlError> {
    parser::parse(query)
}

/// Parses and plans `query` over `[start, end]` (inclusive; `None` is unbounded).
///
/// Planning lists the streams once and resolves every selector (one that matches nothing is
/// [`TqlError::NoMatchingStream`], E3); no chunk is read until results are asked for.
pub fn execute(
    query: &str,
    start: Option<i64>,
    end: Option<i64>,
    source: Arc<dyn SeriesSource>,
) -> Result<Execution, TqlError> {
    let expr = parse(query)?;
    execute_expr(&expr, start, end, source)
}

/// Like [`execute`], for a query already parsed.
pub fn execute_expr(
    expr: &ast::Expr,
    start: Option<i64>,
    end: Option<i64>,
    source: Arc<dyn SeriesSource>,
) -> Result<Execution, TqlError> {
    let plan = Planner::new(source, start, end).plan_root(expr)?;
    Ok(Execution::new(plan))
}

/// A whole result, as [`Execution::collect`] gathers it.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryResult {
    /// One value per group (a single unlabelled one without `by`/`without`). Groups without
    /// a value (an empty window for anything but `count`) are left out.
    Scalars(Vec<(Labels, Value)>),
    /// Every output series, in series index order, including those without points in the
    /// window. For `topk`/`bottomk`, only the series holding selected points, in the order
    /// their first point is produced, each with its points in time order.
    Series(Vec<SeriesResult>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct SeriesResult {
    pub labels: Labels,
    pub timestamps: Vec<i64>,
    pub values: Column,
}

/// A block of consecutive points of one series, from [`Execution::next_batch`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Batch<'a> {
    pub series: usize,
    pub timestamps: &'a [i64],
    pub values: ValuesRef<'a>,
}

/// A planned query, producing its results on demand.
///
/// After an error, the execution is finished: later calls return `Ok(None)` (labels and
/// series count stay available).
pub struct Execution {
    /// Points ready to hand out: `buf[pos..buf.end]`, all of series `series`. Every reading
    /// method serves from here first, so the per-point path is an index and a type match.
    buf: Buf,
    pos: usize,
    series: usize,
    finished: bool,
    state: State,
}

enum State {
    Scalar {
        node: Arc<ScalarNode>,
        values: Option<ScalarValues>,
        next: usize,
    },
    Vector {
        node: Arc<dyn VectorNode>,
        /// Reader of series `Execution::series`, while it has points left.
        reader: Option<Box<dyn SeriesReader>>,
        next_series: usize,
    },
    Points {
        node: Arc<TopkNode>,
        result: Option<Arc<TopkResult>>,
        /// Index in `result.points` of the first point not yet in `buf`.
        next: usize,
    },
}

impl Execution {
    fn new(plan: Plan) -> Execution {
        let state = match plan {
            Plan::Scalar(node) => State::Scalar {
                node,
                values: None,
                next: 0,
            },
            Plan::Vector(node) => State::Vector {
                node,
                reader: None,
                next_series: 0,
            },
            Plan::Points(node) => State::Points {
                node,
                result: None,
                next: 0,
            },
        };
        Execution {
            buf: Buf::new(crate::series::types::ValueType::Integer64),
            pos: 0,
            series: 0,
            finished: false,
            state,
        }
    }

    /// Scalar-shaped result: aggregates without sub-period, literals and operators over them
    /// (possibly several labelled scalars with `by`/`without`). Read it with
    /// [`Execution::next_scalar`]; [`Execution::next_point`] yields nothing for it.
    pub fn is_scalar(&self) -> bool {
        matches!(self.state, State::Scalar { .. })
    }

    /// Labels of output series (or group) `series`; empty labels for an index out of range.
    pub fn labels(&self, series: usize) -> &Labels {
        match &self.state {
            State::Scalar { node, .. } => node.labels.get(series).unwrap_or(&EMPTY_LABELS),
            State::Vector { node, .. } if series < node.series_count() => node.labels(series),
            State::Points { node, .. } if series < node.series_count() => node.labels(series),
            _ => &EMPTY_LABELS,
        }
    }

    /// Number of output series (or groups). Known in full as soon as the query is planned.
    /// For `topk`/`bottomk` these are the input series, which the points refer to.
    pub fn series_count(&self) -> usize {
        match &self.state {
            State::Scalar { node, .. } => node.labels.len(),
            State::Vector { node, .. } => node.series_count(),
            State::Points { node, .. } => node.series_count(),
        }
    }

    fn fail<T>(&mut self, e: TqlError) -> Result<T, TqlError> {
        self.finished = true;
        self.pos = self.buf.end;
        Err(e)
    }

    /// The next `(group index, value)` of a scalar result, skipping groups without a value.
    /// `None` at the end, and always for vector results.
    pub fn next_scalar(&mut self) -> Result<Option<(usize, Value)>, TqlError> {
        if self.finished {
            return Ok(None);
        }
        let State::Scalar { node, values, next } = &mut self.state else {
            return Ok(None);
        };
        if values.is_none() {
            match node.values() {
                Ok(v) => *values = Some(v),
                Err(e) => return self.fail(e),
            }
        }
        let values = values.as_ref().map_or(&[][..], |v| v.as_slice());
        while *next < values.len() {
            let i = *next;
            *next += 1;
            if let Some(v) = values[i] {
                return Ok(Some((i, v)));
            }
        }
        Ok(None)
    }

    /// The next `(series index, timestamp, value)` of a vector result: series by series in
    /// time order, or for a top-level `topk`/`bottomk` in value order. `None` at the end, and
    /// always for scalar results.
    #[inline]
    pub fn next_point(&mut self) -> Result<Option<(usize, i64, Value)>, TqlError> {
        if self.pos < self.buf.end {
            let i = self.pos;
            self.pos += 1;
            return Ok(Some((self.series, self.buf.ts[i], self.buf.value(i))));
        }
        self.next_point_slow()
    }

    #[inline(never)]
    fn next_point_slow(&mut self) -> Result<Option<(usize, i64, Value)>, TqlError> {
        match self.refill() {
            Ok(true) => {
                let i = self.pos;
                self.pos += 1;
                Ok(Some((self.series, self.buf.ts[i], self.buf.value(i))))
            }
            Ok(false) => Ok(None),
            Err(e) => self.fail(e),
        }
    }

    /// The next block of consecutive points of one series (the rest of the current block
    /// if [`Execution::next_point`] was used before). The fastest way to read a vector
    /// result; for a top-level `topk`, each batch is a run of points of one series.
    pub fn next_batch(&mut self) -> Result<Option<Batch<'_>>, TqlError> {
        if self.pos >= self.buf.end {
            match self.refill() {
                Ok(true) => {}
                Ok(false) => return Ok(None),
                Err(e) => return self.fail(e),
            }
        }
        let (start, end) = (self.pos, self.buf.end);
        self.pos = end;
        Ok(Some(Batch {
            series: self.series,
            timestamps: &self.buf.ts[start..end],
            values: exec::values_of(&self.buf.vals, start, end),
        }))
    }

    /// Loads the next non-empty block into `buf`; `false` at the end.
    fn refill(&mut self) -> Result<bool, TqlError> {
        if self.finished {
            return Ok(false);
        }
        match &mut self.state {
            State::Scalar { .. } => Ok(false),
            State::Vector {
                node,
                reader,
                next_series,
            } => loop {
                if let Some(r) = reader.as_mut() {
                    if next_points(r.as_mut(), &mut self.buf)? {
                        self.pos = self.buf.start;
                        return Ok(true);
                    }
                    *reader = None;
                }
                if *next_series >= node.series_count() {
                    self.finished = true;
                    return Ok(false);
                }
                self.series = *next_series;
                *next_series += 1;
                *reader = Some(node.open(self.series)?);
            },
            State::Points { node, result, next } => {
                if result.is_none() {
                    *result = Some(node.result()?);
                }
                let points = result.as_ref().map_or(&[][..], |r| r.points.as_slice());
                let Some(&(series, _, _)) = points.get(*next) else {
                    self.finished = true;
                    return Ok(false);
                };
                // A run of consecutive points of one series (so of one type).
                self.buf.prepare(node.value_type(series));
                while let Some(&(s, t, v)) = points.get(*next) {
                    if s != series {
                        break;
                    }
                    *next += 1;
                    if self.buf.vals.push(v) {
                        self.buf.ts.push(t);
                    }
                }
                self.buf.set_all();
                self.series = series;
                self.pos = self.buf.start;
                Ok(true)
            }
        }
    }

    /// Reads everything that is left into memory.
    pub fn collect(mut self) -> Result<QueryResult, TqlError> {
        if self.is_scalar() {
            let mut out = Vec::new();
            while let Some((i, v)) = self.next_scalar()? {
                out.push((self.labels(i).clone(), v));
            }
            return Ok(QueryResult::Scalars(out));
        }
        if matches!(self.state, State::Points { .. }) {
            return self.collect_points();
        }
        let State::Vector {
            node,
            reader,
            next_series,
        } = &mut self.state
        else {
            return Ok(QueryResult::Series(Vec::new()));
        };
        if self.finished {
            return Ok(QueryResult::Series(Vec::new()));
        }
        // A series already partly read with next_point continues where it was.
        let partial = reader.is_some() || self.pos < self.buf.end;
        let first = if partial { self.series } else { *next_series };
        let count = node.series_count();
        let mut out: Vec<SeriesResult> = (first..count)
            .map(|series| SeriesResult {
                labels: node.labels(series).clone(),
                timestamps: Vec::new(),
                values: Column::new(node.value_type(series)),
            })
            .collect();
        let mut rest = first;
        if partial {
            rest += 1;
            if let Some(r) = out.first_mut() {
                r.timestamps
                    .extend_from_slice(&self.buf.ts[self.pos..self.buf.end]);
                exec::values_of(&self.buf.vals, self.pos, self.buf.end).append_to(&mut r.values);
                if let Some(mut reader) = reader.take() {
                    while next_points(reader.as_mut(), &mut self.buf)? {
                        r.timestamps.extend_from_slice(self.buf.timestamps());
                        self.buf.values().append_to(&mut r.values);
                    }
                }
            }
        }
        for (series, r) in (rest..count).zip(out.iter_mut().skip(rest - first)) {
            let mut reader = node.open(series)?;
            while next_points(reader.as_mut(), &mut self.buf)? {
                r.timestamps.extend_from_slice(self.buf.timestamps());
                self.buf.values().append_to(&mut r.values);
            }
        }
        Ok(QueryResult::Series(out))
    }

    /// topk/bottomk: the series holding selected points, in the order of their first point,
    /// each with its points in time order.
    fn collect_points(mut self) -> Result<QueryResult, TqlError> {
        let mut order: Vec<usize> = Vec::new();
        let mut points: Vec<Vec<(i64, Value)>> = Vec::new();
        let mut index_of = std::collections::HashMap::new();
        while let Some((series, t, v)) = self.next_point()? {
            let i = *index_of.entry(series).or_insert_with(|| {
                order.push(series);
                points.push(Vec::new());
                points.len() - 1
            });
            points[i].push((t, v));
        }
        let out = order
            .into_iter()
            .zip(points)
            .map(|(series, mut pts)| {
                pts.sort_by_key(|p| p.0);
                let mut values = Column::new(self.buf.vals.value_type());
                if let Some(&(_, v)) = pts.first() {
                    values = Column::new(v.value_type());
                }
                let timestamps = pts.iter().map(|p| p.0).collect();
                for (_, v) in pts {
                    values.push(v);
                }
                SeriesResult {
                    labels: self.labels(series).clone(),
                    timestamps,
                    values,
                }
            })
            .collect();
        Ok(QueryResult::Series(out))
    }
}
