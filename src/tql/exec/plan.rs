//! From the syntax tree to a tree of executable nodes.
//!
//! Planning resolves everything that doesn't need point data: the streams each selector
//! matches (an empty match is E3), each selector's time window, durations in database units,
//! groups, vector matching, and the value type of every output. Reading starts only when
//! the caller asks for results.

use std::sync::Arc;

use super::VectorNode;
use super::aggregate::make_groups;
use super::arith;
use super::binary::{NegNode, VectorScalarNode, VectorVectorNode, pair};
use super::scalar::{ScalarKind, ScalarNode, scalar_binary_type};
use super::selection::{SelectorNode, select};
use super::subperiod::SubPeriodNode;
use super::topk::TopkNode;
use crate::series::types::{Labels, ValueType};
use crate::tql::ast::{AggFunc, Aggregate, Expr, ExprKind, Selector};
use crate::tql::error::TqlError;
use crate::tql::source::{SeriesSource, StreamInfo};

pub(crate) enum Plan {
    Scalar(Arc<ScalarNode>),
    Vector(Arc<dyn VectorNode>),
    /// `topk`/`bottomk` at the top of the query: points stream in value order.
    Points(Arc<TopkNode>),
}

pub(crate) struct Planner {
    source: Arc<dyn SeriesSource>,
    streams: Option<Vec<StreamInfo>>,
    start: i64,
    end: i64,
    /// Where `sel[d]` windows end: the query's end, or the source's "now" without one.
    range_end: i64,
    units_per_second: i64,
}

fn clamp_i64(v: i128) -> i64 {
    v.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

impl Planner {
    pub fn new(source: Arc<dyn SeriesSource>, start: Option<i64>, end: Option<i64>) -> Planner {
        let range_end = end.unwrap_or_else(|| source.now());
        let units_per_second = source.units_per_second();
        Planner {
            source,
            streams: None,
            start: start.unwrap_or(i64::MIN),
            end: end.unwrap_or(i64::MAX),
            range_end,
            units_per_second,
        }
    }

    pub fn plan_root(&mut self, expr: &Expr) -> Result<Plan, TqlError> {
        if let ExprKind::Aggregate(a) = &expr.kind
            && a.func.takes_param()
        {
            return Ok(Plan::Points(self.topk(a)?));
        }
        self.plan(expr)
    }

    fn plan(&mut self, expr: &Expr) -> Result<Plan, TqlError> {
        match &expr.kind {
            ExprKind::Number(v) => Ok(Plan::Scalar(Arc::new(ScalarNode::literal(*v)))),
            ExprKind::Selector(s) => Ok(Plan::Vector(self.selector(s)?)),
            ExprKind::Aggregate(a) => self.aggregate(a),
            ExprKind::Neg(inner) => Ok(match self.plan(inner)? {
                Plan::Scalar(s) => {
                    let types = s.types.iter().map(|&t| arith::negate_type(t)).collect();
                    Plan::Scalar(Arc::new(ScalarNode::new(
                        s.labels.clone(),
                        types,
                        ScalarKind::Neg(s),
                    )))
                }
                Plan::Vector(v) => Plan::Vector(Arc::new(NegNode::new(v))),
                Plan::Points(p) => Plan::Vector(Arc::new(NegNode::new(p))),
            }),
            ExprKind::Binary(b) => {
                let lhs = self.plan(&b.lhs)?;
                let rhs = self.plan(&b.rhs)?;
                Ok(match (lhs, rhs) {
                    (Plan::Scalar(l), Plan::Scalar(r)) => {
                        let pairs = pair(&l.labels, &r.labels, b.op)?;
                        let labels = pairs.iter().map(|p| p.labels.clone()).collect();
                        let types = pairs
                            .iter()
                            .map(|p| {
                                scalar_binary_type(
                                    b.op,
                                    l.types.get(p.left).copied().unwrap_or(ValueType::Integer64),
                                    r.types
                                        .get(p.right)
                                        .copied()
                                        .unwrap_or(ValueType::Integer64),
                                )
                            })
                            .collect();
                        let kind = ScalarKind::Binary {
                            op: b.op,
                            lhs: l,
                            rhs: r,
                            pairs: pairs.iter().map(|p| (p.left, p.right)).collect(),
                        };
                        Plan::Scalar(Arc::new(ScalarNode::new(labels, types, kind)))
                    }
                    (Plan::Scalar(s), v) => Plan::Vector(Arc::new(VectorScalarNode::new(
                        into_vector(v),
                        s,
                        b.op,
                        b.return_bool,
                        true,
                    )?)),
                    (v, Plan::Scalar(s)) => Plan::Vector(Arc::new(VectorScalarNode::new(
                        into_vector(v),
                        s,
                        b.op,
                        b.return_bool,
                        false,
                    )?)),
                    (l, r) => Plan::Vector(Arc::new(VectorVectorNode::new(
                        into_vector(l),
                        into_vector(r),
                        b.op,
                        b.return_bool,
                    )?)),
                })
            }
        }
    }

    fn vector(&mut self, expr: &Expr) -> Result<Arc<dyn VectorNode>, TqlError> {
        match self.plan(expr)? {
            Plan::Scalar(_) => Err(TqlError::InvalidArgument(format!(
                "expected a vector expression, found {expr}"
            ))),
            other => Ok(into_vector(other)),
        }
    }

    fn scalar(&mut self, expr: &Expr) -> Result<Arc<ScalarNode>, TqlError> {
        match self.plan(expr)? {
            Plan::Scalar(s) => Ok(s),
            _ => Err(TqlError::InvalidArgument(format!(
                "expected a scalar expression, found {expr}"
            ))),
        }
    }

    fn period(&self, a: &Aggregate) -> Result<Option<i64>, TqlError> {
        match a.period {
            None => Ok(None),
            Some(p) => {
                let units = p.to_units(self.units_per_second)?;
                if units <= 0 {
                    return Err(TqlError::InvalidArgument(format!(
                        "sub-period {p} must be longer than zero"
                    )));
                }
                Ok(Some(units))
            }
        }
    }

    fn topk(&mut self, a: &Aggregate) -> Result<Arc<TopkNode>, TqlError> {
        let Some(param) = &a.param else {
            return Err(TqlError::InvalidArgument(format!(
                "{} needs k",
                a.func.name()
            )));
        };
        let k = self.scalar(param)?;
        let input = self.vector(&a.expr)?;
        let groups = make_groups(input.as_ref(), a.grouping.as_ref());
        let period = self.period(a)?;
        Ok(Arc::new(TopkNode::new(
            input,
            groups,
            k,
            a.func == AggFunc::Bottomk,
            period,
        )))
    }

    fn aggregate(&mut self, a: &Aggregate) -> Result<Plan, TqlError> {
        if a.func.takes_param() {
            return Ok(Plan::Vector(self.topk(a)?));
        }
        let input = self.vector(&a.expr)?;
        let groups = make_groups(input.as_ref(), a.grouping.as_ref());
        Ok(match self.period(a)? {
            Some(period) => {
                Plan::Vector(Arc::new(SubPeriodNode::new(input, groups, a.func, period)))
            }
            None => Plan::Scalar(Arc::new(ScalarNode::aggregate(input, groups, a.func))),
        })
    }

    fn selector(&mut self, s: &Selector) -> Result<Arc<dyn VectorNode>, TqlError> {
        if self.streams.is_none() {
            self.streams = Some(self.source.streams()?);
        }
        let streams = select(self.streams.as_deref().unwrap_or(&[]), s)?;
        if streams.is_empty() {
            return Err(TqlError::NoMatchingStream {
                selector: s.to_string(),
            });
        }
        let (mut lo, mut hi) = (self.start, self.end);
        if let Some(range) = s.range {
            // (end - d, end]
            let d = range.to_units(self.units_per_second)?;
            lo = lo.max(clamp_i64(self.range_end as i128 - d as i128 + 1));
            hi = hi.min(self.range_end);
        }
        Ok(Arc::new(SelectorNode {
            source: Arc::clone(&self.source),
            streams,
            lo,
            hi,
        }))
    }
}

fn into_vector(plan: Plan) -> Arc<dyn VectorNode> {
    match plan {
        Plan::Vector(v) => v,
        Plan::Points(p) => p,
        // Callers only pass vector plans; an empty vector keeps this total.
        Plan::Scalar(_) => Arc::new(EmptyVector),
    }
}

struct EmptyVector;

impl VectorNode for EmptyVector {
    fn series_count(&self) -> usize {
        0
    }

    fn labels(&self, _series: usize) -> &Labels {
        &super::EMPTY_LABELS
    }

    fn value_type(&self, _series: usize) -> ValueType {
        ValueType::Integer64
    }

    fn open(&self, _series: usize) -> Result<Box<dyn super::SeriesReader>, TqlError> {
        Ok(Box::new(super::EmptyReader))
    }
}
