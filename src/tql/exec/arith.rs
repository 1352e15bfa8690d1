//! Type rules and arithmetic on single values.
//!
//! * Result type: f64 if either operand is f64 or the operator is `/` or `^`; otherwise i64 if
//!   either operand is i64 or the operator is `-`; otherwise u64.
//! * Integer arithmetic is exact: it runs in i128 and the result must fit the result type, or
//!   the query fails with `Overflow` (never wraps). Integer `%` by zero is `DivisionByZero`;
//!   `%` follows the sign of the dividend, like f64's `%` (fmod).
//! * Floats follow IEEE 754.
//! * Comparisons between integers are exact; with a float involved both sides compare as f64.
//!   Comparison results (scalar comparisons and `bool`) are u64 1 or 0.

use std::cmp::Ordering;

use crate::series::types::{Value, ValueType};
use crate::tql::ast::BinaryOp;
use crate::tql::error::TqlError;

/// The type of `a op b` for an arithmetic operator.
pub fn result_type(op: BinaryOp, a: ValueType, b: ValueType) -> ValueType {
    if a == ValueType::Float64
        || b == ValueType::Float64
        || matches!(op, BinaryOp::Div | BinaryOp::Pow)
    {
        ValueType::Float64
    } else if a == ValueType::Integer64 || b == ValueType::Integer64 || op == BinaryOp::Sub {
        ValueType::Integer64
    } else {
        ValueType::UInteger64
    }
}

/// The type several values take when combined (aggregating streams of different types):
/// f64 if any is f64, else i64 if any is i64, else u64.
pub fn combined_type(types: impl IntoIterator<Item = ValueType>) -> Option<ValueType> {
    types
        .into_iter()
        .reduce(|a, b| result_type(BinaryOp::Add, a, b))
}

#[inline]
fn as_i128(v: Value) -> i128 {
    match v {
        Value::Integer64(x) => x as i128,
        Value::UInteger64(x) => x as i128,
        Value::Float64(x) => x as i128,
    }
}

/// Puts an exact integer into `to`, failing with `Overflow` if it doesn't fit.
#[inline]
pub fn fit(v: i128, to: ValueType) -> Result<Value, TqlError> {
    match to {
        ValueType::Integer64 => i64::try_from(v)
            .map(Value::Integer64)
            .map_err(|_| TqlError::Overflow),
        ValueType::UInteger64 => u64::try_from(v)
            .map(Value::UInteger64)
            .map_err(|_| TqlError::Overflow),
        ValueType::Float64 => Ok(Value::Float64(v as f64)),
    }
}

/// Converts a value to another type: integers exactly (or `Overflow`), to f64 by rounding.
pub fn convert(v: Value, to: ValueType) -> Result<Value, TqlError> {
    match (v, to) {
        (Value::Float64(_), ValueType::Float64) => Ok(v),
        (_, ValueType::Float64) => Ok(Value::Float64(v.as_f64())),
        (Value::Float64(x), _) => {
            if x.is_finite() && x.fract() == 0.0 && x.abs() < 1.8e19 {
                fit(x as i128, to)
            } else {
                Err(TqlError::Overflow)
            }
        }
        _ => fit(as_i128(v), to),
    }
}

/// `a op b` for an arithmetic operator (`+ - * / % ^`).
#[inline]
pub fn arith(op: BinaryOp, a: Value, b: Value) -> Result<Value, TqlError> {
    let out = result_type(op, a.value_type(), b.value_type());
    if out == ValueType::Float64 {
        let (x, y) = (a.as_f64(), b.as_f64());
        let r = match op {
            BinaryOp::Add => x + y,
            BinaryOp::Sub => x - y,
            BinaryOp::Mul => x * y,
            BinaryOp::Div => x / y,
            BinaryOp::Mod => x % y,
            BinaryOp::Pow => x.powf(y),
            _ => return Ok(Value::UInteger64(compare(op, a, b) as u64)),
        };
        return Ok(Value::Float64(r));
    }
    let (x, y) = (as_i128(a), as_i128(b));
    let r = match op {
        BinaryOp::Add => x.checked_add(y),
        BinaryOp::Sub => x.checked_sub(y),
        BinaryOp::Mul => x.checked_mul(y),
        BinaryOp::Mod => {
            if y == 0 {
                return Err(TqlError::DivisionByZero);
            }
            x.checked_rem(y)
        }
        // `/` and `^` are always f64, handled above.
        BinaryOp::Div | BinaryOp::Pow => None,
        _ => return Ok(Value::UInteger64(compare(op, a, b) as u64)),
    };
    fit(r.ok_or(TqlError::Overflow)?, out)
}

/// Numeric order of two values of any types; `None` when a NaN is involved.
#[inline]
pub fn cmp_values(a: Value, b: Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Float64(_), _) | (_, Value::Float64(_)) => a.as_f64().partial_cmp(&b.as_f64()),
        _ => Some(as_i128(a).cmp(&as_i128(b))),
    }
}

/// `a op b` for a comparison operator, IEEE semantics for NaN (only `!=` holds).
#[inline]
pub fn compare(op: BinaryOp, a: Value, b: Value) -> bool {
    let ord = cmp_values(a, b);
    match op {
        BinaryOp::Eq => ord == Some(Ordering::Equal),
        BinaryOp::Ne => ord != Some(Ordering::Equal),
        BinaryOp::Lt => ord == Some(Ordering::Less),
        BinaryOp::Gt => ord == Some(Ordering::Greater),
        BinaryOp::Le => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
        BinaryOp::Ge => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
        _ => false,
    }
}

/// Unary minus: f64 stays f64, integers become i64 (like `0 - x`), failing on overflow.
#[inline]
pub fn negate(v: Value) -> Result<Value, TqlError> {
    match v {
        Value::Float64(x) => Ok(Value::Float64(-x)),
        other => fit(-as_i128(other), ValueType::Integer64),
    }
}

/// The type of `-x` for `x` of type `t`.
pub fn negate_type(t: ValueType) -> ValueType {
    match t {
        ValueType::Float64 => ValueType::Float64,
        _ => ValueType::Integer64,
    }
}

/// `n / d` rounded half away from zero, for `d > 0`.
fn div_round(n: i128, d: i128) -> i128 {
    let q = n / d;
    let r = n % d;
    if r.unsigned_abs() * 2 >= d.unsigned_abs() {
        q + n.signum()
    } else {
        q
    }
}

/// The value at `t` on the straight line through `(t0, v0)` and `(t1, v1)`, in the type of
/// `v0`. Integers are rounded half away from zero (exactly, in i128, whenever the product
/// fits; through f64 otherwise).
pub fn interpolate(t0: i64, v0: Value, t1: i64, v1: Value, t: i64) -> Value {
    if t1 <= t0 || t <= t0 {
        return v0;
    }
    if t >= t1 {
        return v1;
    }
    let span = t1 as i128 - t0 as i128;
    let offset = t as i128 - t0 as i128;
    let int = |a: i128, b: i128| -> i128 {
        // Round the whole value, not just the offset from `a`: a + x can be a half with the
        // opposite sign of x.
        let exact = (b - a)
            .checked_mul(offset)
            .and_then(|n| a.checked_mul(span)?.checked_add(n));
        match exact {
            Some(n) => div_round(n, span),
            None => {
                let f = a as f64 + (b - a) as f64 * (offset as f64 / span as f64);
                (f.round() as i128).clamp(a.min(b), a.max(b))
            }
        }
    };
    match (v0, v1) {
        (Value::Float64(a), Value::Float64(b)) => {
            Value::Float64(a + (b - a) * (offset as f64 / span as f64))
        }
        (Value::Integer64(a), Value::Integer64(b)) => {
            // The result lies between a and b, so it fits.
            Value::Integer64(int(a as i128, b as i128) as i64)
        }
        (Value::UInteger64(a), Value::UInteger64(b)) => {
            Value::UInteger64(int(a as i128, b as i128) as u64)
        }
        // A series has one type; mixed pairs can't happen, but stay total.
        (a, _) => a,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types() {
        use ValueType::*;
        assert_eq!(
            result_type(BinaryOp::Add, UInteger64, UInteger64),
            UInteger64
        );
        assert_eq!(
            result_type(BinaryOp::Sub, UInteger64, UInteger64),
            Integer64
        );
        assert_eq!(result_type(BinaryOp::Mul, UInteger64, Integer64), Integer64);
        assert_eq!(result_type(BinaryOp::Div, Integer64, Integer64), Float64);
        assert_eq!(result_type(BinaryOp::Pow, UInteger64, UInteger64), Float64);
        assert_eq!(result_type(BinaryOp::Mod, Float64, UInteger64), Float64);
    }

    #[test]
    fn integer_arith_is_checked() {
        assert_eq!(
            arith(
                BinaryOp::Add,
                Value::Integer64(i64::MAX),
                Value::Integer64(1)
            ),
            Err(TqlError::Overflow)
        );
        assert_eq!(
            arith(BinaryOp::Sub, Value::UInteger64(1), Value::UInteger64(2)),
            Ok(Value::Integer64(-1))
        );
        assert_eq!(
            arith(
                BinaryOp::Add,
                Value::UInteger64(u64::MAX),
                Value::UInteger64(1)
            ),
            Err(TqlError::Overflow)
        );
        assert_eq!(
            arith(
                BinaryOp::Mul,
                Value::UInteger64(u64::MAX),
                Value::UInteger64(u64::MAX)
            ),
            Err(TqlError::Overflow)
        );
        assert_eq!(
            arith(
                BinaryOp::Mod,
                Value::Integer64(i64::MIN),
                Value::Integer64(-1)
            ),
            Ok(Value::Integer64(0))
        );
        assert_eq!(
            arith(BinaryOp::Mod, Value::Integer64(-7), Value::Integer64(3)),
            Ok(Value::Integer64(-1))
        );
        assert_eq!(
            arith(BinaryOp::Mod, Value::Integer64(7), Value::Integer64(0)),
            Err(TqlError::DivisionByZero)
        );
        assert_eq!(
            arith(BinaryOp::Mod, Value::Float64(7.5), Value::Float64(2.0)),
            Ok(Value::Float64(1.5))
        );
        assert_eq!(
            arith(BinaryOp::Div, Value::Integer64(7), Value::Integer64(2)),
            Ok(Value::Float64(3.5))
        );
        assert_eq!(
            negate(Value::UInteger64(1 << 63)),
            Ok(Value::Integer64(i64::MIN))
        );
        assert_eq!(negate(Value::Integer64(i64::MIN)), Err(TqlError::Overflow));
    }

    #[test]
    fn comparisons() {
        assert!(compare(
            BinaryOp::Gt,
            Value::UInteger64(u64::MAX),
            Value::Integer64(-1)
        ));
        assert!(!compare(
            BinaryOp::Eq,
            Value::Float64(f64::NAN),
            Value::Float64(f64::NAN)
        ));
        assert!(compare(
            BinaryOp::Ne,
            Value::Float64(f64::NAN),
            Value::Float64(f64::NAN)
        ));
        assert!(compare(
            BinaryOp::Le,
            Value::Integer64(3),
            Value::Float64(3.0)
        ));
    }

    #[test]
    fn interpolation_rounds_half_away_from_zero() {
        let i =
            |a: i64, b: i64, t: i64| interpolate(0, Value::Integer64(a), 2, Value::Integer64(b), t);
        assert_eq!(i(0, 1, 1), Value::Integer64(1)); // 0.5 -> 1
        assert_eq!(i(0, -1, 1), Value::Integer64(-1)); // -0.5 -> -1
        assert_eq!(i(1, 2, 1), Value::Integer64(2)); // 1.5 -> 2
        assert_eq!(i(-1, -2, 1), Value::Integer64(-2)); // -1.5 -> -2
        assert_eq!(
            interpolate(0, Value::Integer64(0), 3, Value::Integer64(1), 1),
            Value::Integer64(0)
        ); // 0.33 -> 0
        assert_eq!(
            interpolate(
                0,
                Value::Integer64(i64::MIN),
                2,
                Value::Integer64(i64::MAX),
                1
            ),
            Value::Integer64(-1)
        ); // the exact midpoint of MIN and MAX is -0.5
        assert_eq!(
            interpolate(0, Value::UInteger64(0), 4, Value::UInteger64(u64::MAX), 2),
            Value::UInteger64(u64::MAX / 2 + 1)
        );
        assert_eq!(
            interpolate(10, Value::Float64(1.0), 20, Value::Float64(2.0), 15),
            Value::Float64(1.5)
        );
    }
}
