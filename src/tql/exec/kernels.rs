//! Typed loops for vector ∘ scalar: the same results as [`super::arith`] applied point by
//! point, without building a `Value` per point.

use super::arith::{self, fit};
use super::binary::Mode;
use super::{Buf, ValuesRef};
use crate::series::types::{Column, Value, ValueType};
use crate::tql::ast::BinaryOp;
use crate::tql::error::TqlError;

/// A column element type.
trait Elem: Copy {
    const TYPE: ValueType;
    fn to_f64(self) -> f64;
    /// Exact for integers; floats never take the integer paths.
    fn to_i128(self) -> i128;
    fn push(self, column: &mut Column) -> bool;
}

impl Elem for i64 {
    const TYPE: ValueType = ValueType::Integer64;
    fn to_f64(self) -> f64 {
        self as f64
    }
    fn to_i128(self) -> i128 {
        self as i128
    }
    fn push(self, column: &mut Column) -> bool {
        column.push(Value::Integer64(self))
    }
}

impl Elem for u64 {
    const TYPE: ValueType = ValueType::UInteger64;
    fn to_f64(self) -> f64 {
        self as f64
    }
    fn to_i128(self) -> i128 {
        self as i128
    }
    fn push(self, column: &mut Column) -> bool {
        column.push(Value::UInteger64(self))
    }
}

impl Elem for f64 {
    const TYPE: ValueType = ValueType::Float64;
    fn to_f64(self) -> f64 {
        self
    }
    fn to_i128(self) -> i128 {
        self as i128
    }
    fn push(self, column: &mut Column) -> bool {
        column.push(Value::Float64(self))
    }
}

fn scalar_i128(v: Value) -> i128 {
    match v {
        Value::Integer64(x) => x as i128,
        Value::UInteger64(x) => x as i128,
        Value::Float64(x) => x as i128,
    }
}

#[inline]
fn float_op(op: BinaryOp, a: f64, b: f64) -> f64 {
    match op {
        BinaryOp::Add => a + b,
        BinaryOp::Sub => a - b,
        BinaryOp::Mul => a * b,
        BinaryOp::Div => a / b,
        BinaryOp::Mod => a % b,
        _ => a.powf(b),
    }
}

#[inline]
fn int_op(op: BinaryOp, a: i128, b: i128) -> Result<i128, TqlError> {
    match op {
        BinaryOp::Add => a.checked_add(b),
        BinaryOp::Sub => a.checked_sub(b),
        BinaryOp::Mul => a.checked_mul(b),
        BinaryOp::Mod => {
            if b == 0 {
                return Err(TqlError::DivisionByZero);
            }
            a.checked_rem(b)
        }
        _ => None,
    }
    .ok_or(TqlError::Overflow)
}

#[inline]
fn holds(op: BinaryOp, ord: Option<std::cmp::Ordering>) -> bool {
    use std::cmp::Ordering::*;
    match op {
        BinaryOp::Eq => ord == Some(Equal),
        BinaryOp::Ne => ord != Some(Equal),
        BinaryOp::Lt => ord == Some(Less),
        BinaryOp::Gt => ord == Some(Greater),
        BinaryOp::Le => matches!(ord, Some(Less | Equal)),
        BinaryOp::Ge => matches!(ord, Some(Greater | Equal)),
        _ => false,
    }
}

fn run<E: Elem>(
    input: &[E],
    ts: &[i64],
    op: BinaryOp,
    mode: Mode,
    scalar: Value,
    scalar_left: bool,
    out: &mut Buf,
) -> Result<(), TqlError> {
    let floats = E::TYPE == ValueType::Float64 || scalar.value_type() == ValueType::Float64;
    match mode {
        Mode::Arith => {
            let out_type = arith::result_type(op, E::TYPE, scalar.value_type());
            if out_type == ValueType::Float64 {
                let s = scalar.as_f64();
                let Column::Float64(dst) = &mut out.vals else {
                    return Ok(());
                };
                if scalar_left {
                    dst.extend(input.iter().map(|&x| float_op(op, s, x.to_f64())));
                } else {
                    dst.extend(input.iter().map(|&x| float_op(op, x.to_f64(), s)));
                }
            } else {
                let s = scalar_i128(scalar);
                for &x in input {
                    let (a, b) = if scalar_left {
                        (s, x.to_i128())
                    } else {
                        (x.to_i128(), s)
                    };
                    out.vals.push(fit(int_op(op, a, b)?, out_type)?);
                }
            }
            out.ts.extend_from_slice(ts);
        }
        Mode::Filter | Mode::Bool => {
            let keep_all = mode == Mode::Bool;
            let (sf, si) = (scalar.as_f64(), scalar_i128(scalar));
            for (&x, &t) in input.iter().zip(ts) {
                let ord = if floats {
                    let (a, b) = if scalar_left {
                        (sf, x.to_f64())
                    } else {
                        (x.to_f64(), sf)
                    };
                    a.partial_cmp(&b)
                } else {
                    let (a, b) = if scalar_left {
                        (si, x.to_i128())
                    } else {
                        (x.to_i128(), si)
                    };
                    Some(a.cmp(&b))
                };
                let ok = holds(op, ord);
                if keep_all {
                    out.vals.push(Value::UInteger64(ok as u64));
                    out.ts.push(t);
                } else if ok && x.push(&mut out.vals) {
                    out.ts.push(t);
                }
            }
        }
    }
    Ok(())
}

/// Applies `vector op scalar` (or `scalar op vector`) to a block, appending to `out`, whose
/// column must already have the output type.
pub(crate) fn vector_scalar(
    values: ValuesRef<'_>,
    ts: &[i64],
    op: BinaryOp,
    mode: Mode,
    scalar: Value,
    scalar_left: bool,
    out: &mut Buf,
) -> Result<(), TqlError> {
    match values {
        ValuesRef::Integer64(v) => run(v, ts, op, mode, scalar, scalar_left, out),
        ValuesRef::UInteger64(v) => run(v, ts, op, mode, scalar, scalar_left, out),
        ValuesRef::Float64(v) => run(v, ts, op, mode, scalar, scalar_left, out),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            prop_oneof![any::<i64>(), -5i64..5].prop_map(Value::Integer64),
            prop_oneof![any::<u64>(), 0u64..5].prop_map(Value::UInteger64),
            prop_oneof![any::<f64>(), (-5i32..5).prop_map(f64::from)].prop_map(Value::Float64),
        ]
    }

    fn op() -> impl Strategy<Value = BinaryOp> {
        prop::sample::select(vec![
            BinaryOp::Add,
            BinaryOp::Sub,
            BinaryOp::Mul,
            BinaryOp::Div,
            BinaryOp::Mod,
            BinaryOp::Pow,
            BinaryOp::Eq,
            BinaryOp::Ne,
            BinaryOp::Lt,
            BinaryOp::Gt,
            BinaryOp::Le,
            BinaryOp::Ge,
        ])
    }

    fn same(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Float64(x), Value::Float64(y)) => {
                x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
            }
            _ => a == b,
        }
    }

    proptest! {
        /// The typed loops agree with `arith` applied to each value.
        #[test]
        fn kernels_match_scalar_arithmetic(
            v in value(), s in value(), op in op(), scalar_left in any::<bool>(), bool_mode in any::<bool>(),
        ) {
            let mode = Mode::of(op, bool_mode);
            let mut column = Column::new(v.value_type());
            column.push(v);
            let (a, b) = if scalar_left { (s, v) } else { (v, s) };
            let expected: Result<Option<Value>, TqlError> = match mode {
                Mode::Arith => arith::arith(op, a, b).map(Some),
                Mode::Filter => Ok(arith::compare(op, a, b).then_some(v)),
                Mode::Bool => Ok(Some(Value::UInteger64(arith::compare(op, a, b) as u64))),
            };
            let out_type = match mode {
                Mode::Arith => arith::result_type(op, a.value_type(), b.value_type()),
                Mode::Filter => v.value_type(),
                Mode::Bool => ValueType::UInteger64,
            };
            let mut out = Buf::new(out_type);
            let got = vector_scalar(super::super::values_of(&column, 0, 1), &[7], op, mode, s, scalar_left, &mut out)
                .map(|()| out.vals.get(0));
            match (&got, &expected) {
                (Ok(Some(g)), Ok(Some(e))) => prop_assert!(same(g, e), "{:?} vs {:?}", got, expected),
                _ => prop_assert_eq!(got, expected),
            }
        }
    }
}
