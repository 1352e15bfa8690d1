//! Scalar-shaped nodes: literals, aggregates without sub-period, and operators over them.
//!
//! A scalar node has one or more groups (several only under `by`/`without`), each with labels
//! and a static value type known after planning, and computes one optional value per group,
//! once, on first use.

use std::sync::{Arc, OnceLock};

use super::VectorNode;
use super::aggregate::{Groups, eval_aggregate, output_type};
use super::arith;
use crate::series::types::{Labels, Value, ValueType};
use crate::tql::ast::{AggFunc, BinaryOp};
use crate::tql::error::TqlError;

pub(crate) enum ScalarKind {
    Literal(Value),
    Aggregate {
        input: Arc<dyn VectorNode>,
        groups: Groups,
        func: AggFunc,
    },
    Binary {
        op: BinaryOp,
        lhs: Arc<ScalarNode>,
        rhs: Arc<ScalarNode>,
        /// (lhs group, rhs group) for each output group.
        pairs: Vec<(usize, usize)>,
    },
    Neg(Arc<ScalarNode>),
}

pub(crate) type ScalarValues = Arc<Vec<Option<Value>>>;

pub(crate) struct ScalarNode {
    pub labels: Vec<Labels>,
    pub types: Vec<ValueType>,
    pub kind: ScalarKind,
    cache: OnceLock<Result<ScalarValues, TqlError>>,
}

impl ScalarNode {
    pub fn literal(v: Value) -> ScalarNode {
        ScalarNode::new(
            vec![Labels::default()],
            vec![v.value_type()],
            ScalarKind::Literal(v),
        )
    }

    pub fn new(labels: Vec<Labels>, types: Vec<ValueType>, kind: ScalarKind) -> ScalarNode {
        ScalarNode {
            labels,
            types,
            kind,
            cache: OnceLock::new(),
        }
    }

    pub fn aggregate(input: Arc<dyn VectorNode>, groups: Groups, func: AggFunc) -> ScalarNode {
        let labels = groups.labels.clone();
        let types = groups.types.iter().map(|&t| output_type(func, t)).collect();
        ScalarNode::new(
            labels,
            types,
            ScalarKind::Aggregate {
                input,
                groups,
                func,
            },
        )
    }

    /// One optional value per group, computed on the first call.
    pub fn values(&self) -> Result<ScalarValues, TqlError> {
        self.cache
            .get_or_init(|| self.compute().map(Arc::new))
            .clone()
    }

    fn compute(&self) -> Result<Vec<Option<Value>>, TqlError> {
        match &self.kind {
            ScalarKind::Literal(v) => Ok(vec![Some(*v)]),
            ScalarKind::Aggregate {
                input,
                groups,
                func,
            } => eval_aggregate(input.as_ref(), groups, *func),
            ScalarKind::Neg(inner) => inner
                .values()?
                .iter()
                .map(|v| v.map(arith::negate).transpose())
                .collect(),
            ScalarKind::Binary {
                op,
                lhs,
                rhs,
                pairs,
            } => {
                let (l, r) = (lhs.values()?, rhs.values()?);
                pairs
                    .iter()
                    .map(|&(i, j)| {
                        match (l.get(i).copied().flatten(), r.get(j).copied().flatten()) {
                            (Some(a), Some(b)) => scalar_binary(*op, a, b).map(Some),
                            _ => Ok(None),
                        }
                    })
                    .collect()
            }
        }
    }
}

/// scalar ∘ scalar: comparisons give u64 1/0 (with or without `bool`).
pub(crate) fn scalar_binary(op: BinaryOp, a: Value, b: Value) -> Result<Value, TqlError> {
    if op.is_comparison() {
        Ok(Value::UInteger64(arith::compare(op, a, b) as u64))
    } else {
        arith::arith(op, a, b)
    }
}

/// The static type of scalar ∘ scalar.
pub(crate) fn scalar_binary_type(op: BinaryOp, a: ValueType, b: ValueType) -> ValueType {
    if op.is_comparison() {
        ValueType::UInteger64
    } else {
        arith::result_type(op, a, b)
    }
}
