//! The syntax tree of a TQL query, with source positions.
//!
//! `Display` prints an expression in canonical TQL that parses back to the same tree (up to
//! spans): parentheses only where precedence needs them, aggregation grouping in prefix
//! position, strings double-quoted, floats always with a `.` or an exponent.

use std::fmt;

use crate::series::types::Value;

/// A byte range `start..end` of the query text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// An expression and the part of the query it was parsed from. Parentheses leave no node of
/// their own: `(a + b)` is the `Binary` node of `a + b`.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// A literal: `3` (i64), `18446744073709551615` (u64, too large for i64), `2.5`, `1e3`,
    /// `Inf`, `NaN` (f64). Literals are never negative: `-3` is a unary minus.
    Number(Value),
    Selector(Selector),
    Aggregate(Aggregate),
    /// Unary minus. (Unary plus is accepted and leaves no node.)
    Neg(Box<Expr>),
    Binary(Box<Binary>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Binary {
    pub op: BinaryOp,
    /// `bool` after a comparison operator: give 1/0 instead of filtering.
    pub return_bool: bool,
    pub lhs: Expr,
    pub rhs: Expr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
}

impl BinaryOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
            BinaryOp::Pow => "^",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Gt => ">",
            BinaryOp::Le => "<=",
            BinaryOp::Ge => ">=",
        }
    }

    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Gt | BinaryOp::Le | BinaryOp::Ge
        )
    }

    /// Binding strength: comparisons 1, `+ -` 2, `* / %` 3, `^` 5 (unary minus is 4).
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOp::Eq
            | BinaryOp::Ne
            | BinaryOp::Lt
            | BinaryOp::Gt
            | BinaryOp::Le
            | BinaryOp::Ge => 1,
            BinaryOp::Add | BinaryOp::Sub => 2,
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => 3,
            BinaryOp::Pow => 5,
        }
    }

    pub fn right_associative(self) -> bool {
        self == BinaryOp::Pow
    }
}

/// Precedence of unary minus: tighter than `* / %`, looser than `^` (`-2^2` is `-(2^2)`).
pub const NEG_PRECEDENCE: u8 = 4;

/// `metric{label op "value", ...}` with an optional `[duration]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Selector {
    /// The metric name, when written before the braces.
    pub metric: Option<String>,
    pub matchers: Vec<Matcher>,
    /// `sel[d]`: keep only `(end - d, end]`.
    pub range: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Matcher {
    /// A label name; `__name__` matches the metric name.
    pub name: String,
    pub op: MatchOp,
    pub value: String,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchOp {
    Equal,
    NotEqual,
    RegexMatch,
    RegexNoMatch,
}

impl MatchOp {
    pub fn symbol(self) -> &'static str {
        match self {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::RegexMatch => "=~",
            MatchOp::RegexNoMatch => "!~",
        }
    }
}

/// `func [by|without (labels)] ([param,] expr) [by|without (labels)] [[period]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregate {
    pub func: AggFunc,
    pub grouping: Option<Grouping>,
    /// `k` of `topk`/`bottomk`; `None` for the other functions.
    pub param: Option<Box<Expr>>,
    pub expr: Box<Expr>,
    /// `agg(v)[P]`: aggregate per sub-period of length `P`.
    pub period: Option<Duration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AggFunc {
    Sum,
    Count,
    Avg,
    Min,
    Max,
    Topk,
    Bottomk,
}

impl AggFunc {
    pub fn name(self) -> &'static str {
        match self {
            AggFunc::Sum => "sum",
            AggFunc::Count => "count",
            AggFunc::Avg => "avg",
            AggFunc::Min => "min",
            AggFunc::Max => "max",
            AggFunc::Topk => "topk",
            AggFunc::Bottomk => "bottomk",
        }
    }

    /// Case-insensitive lookup of an aggregation keyword.
    pub fn from_keyword(word: &str) -> Option<AggFunc> {
        [
            AggFunc::Sum,
            AggFunc::Count,
            AggFunc::Avg,
            AggFunc::Min,
            AggFunc::Max,
            AggFunc::Topk,
            AggFunc::Bottomk,
        ]
        .into_iter()
        .find(|f| f.name().eq_ignore_ascii_case(word))
    }

    pub fn takes_param(self) -> bool {
        matches!(self, AggFunc::Topk | AggFunc::Bottomk)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Grouping {
    By(Vec<String>),
    Without(Vec<String>),
}

/// A duration as written, in milliseconds (`1y` = 365 days). It becomes database time units
/// only at execution, through the source's `units_per_second`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Duration {
    pub millis: i64,
}

impl Duration {
    /// The duration in database units, for a database whose timestamps count
    /// `units_per_second` units per second.
    ///
    /// Durations must be whole multiples of the database unit: `500ms` on a database that counts
    /// seconds is an `InvalidArgument` error rather than silently rounding to `0s` or `1s`.
    /// A duration that does not fit in an i64 of database units is also `InvalidArgument`.
    pub fn to_units(self, units_per_second: i64) -> Result<i64, crate::tql::TqlError> {
        use crate::tql::TqlError;
        if units_per_second <= 0 {
            return Err(TqlError::InvalidArgument(format!(
                "the database reports {units_per_second} time units per second"
            )));
        }
        let scaled = self.millis as i128 * units_per_second as i128;
        if scaled % 1000 != 0 {
            return Err(TqlError::InvalidArgument(format!(
                "duration {self} is not a whole number of the database's time unit \
                 (1/{units_per_second} s)"
            )));
        }
        i64::try_from(scaled / 1000).map_err(|_| {
            TqlError::InvalidArgument(format!(
                "duration {self} is too long for the database's time unit"
            ))
        })
    }
}

impl fmt::Display for Duration {
    /// Canonical form: the largest units first, e.g. `1h30m`, `1y2d`, `500ms`; `0s` for zero.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [(&str, i64); 7] = [
            ("y", 31_536_000_000),
            ("w", 604_800_000),
            ("d", 86_400_000),
            ("h", 3_600_000),
            ("m", 60_000),
            ("s", 1_000),
            ("ms", 1),
        ];
        if self.millis <= 0 {
            // The parser only produces positive durations; anything else is printed plainly.
            return write!(f, "{}ms", self.millis);
        }
        let mut rest = self.millis;
        for (unit, size) in UNITS {
            if rest >= size {
                write!(f, "{}{unit}", rest / size)?;
                rest %= size;
            }
        }
        Ok(())
    }
}

/// Quotes a string as a TQL double-quoted literal.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() && (c as u32) <= 0xFFFF => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Words the parser reserves in expression position, so they can't be bare metric names
/// (`{__name__="sum"}` still selects a metric called `sum`).
pub fn is_reserved(word: &str) -> bool {
    AggFunc::from_keyword(word).is_some()
        || ["by", "without", "bool", "inf", "nan"]
            .iter()
            .any(|k| k.eq_ignore_ascii_case(word))
}

fn is_plain_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':' || c == '.')
}

impl Expr {
    /// Whether the expression is scalar-shaped: a literal, an aggregation without sub-period
    /// other than topk/bottomk, or operators over those. Everything else is a vector.
    pub fn is_scalar(&self) -> bool {
        match &self.kind {
            ExprKind::Number(_) => true,
            ExprKind::Selector(_) => false,
            ExprKind::Aggregate(a) => a.period.is_none() && !a.func.takes_param(),
            ExprKind::Neg(e) => e.is_scalar(),
            ExprKind::Binary(b) => b.lhs.is_scalar() && b.rhs.is_scalar(),
        }
    }

    /// A copy with every span (including matcher spans) set to zero, for comparing trees
    /// regardless of how they were written.
    pub fn without_spans(&self) -> Expr {
        let kind = match &self.kind {
            ExprKind::Number(v) => ExprKind::Number(*v),
            ExprKind::Selector(s) => ExprKind::Selector(Selector {
                metric: s.metric.clone(),
                matchers: s
                    .matchers
                    .iter()
                    .map(|m| Matcher {
                        span: Span::default(),
                        ..m.clone()
                    })
                    .collect(),
                range: s.range,
            }),
            ExprKind::Aggregate(a) => ExprKind::Aggregate(Aggregate {
                func: a.func,
                grouping: a.grouping.clone(),
                param: a.param.as_ref().map(|p| Box::new(p.without_spans())),
                expr: Box::new(a.expr.without_spans()),
                period: a.period,
            }),
            ExprKind::Neg(e) => ExprKind::Neg(Box::new(e.without_spans())),
            ExprKind::Binary(b) => ExprKind::Binary(Box::new(Binary {
                op: b.op,
                return_bool: b.return_bool,
                lhs: b.lhs.without_spans(),
                rhs: b.rhs.without_spans(),
            })),
        };
        Expr {
            kind,
            span: Span::default(),
        }
    }

    fn precedence(&self) -> u8 {
        match &self.kind {
            ExprKind::Binary(b) => b.op.precedence(),
            ExprKind::Neg(_) => NEG_PRECEDENCE,
            _ => u8::MAX,
        }
    }
}

fn write_number(f: &mut fmt::Formatter<'_>, v: Value) -> fmt::Result {
    match v {
        Value::Integer64(i) => write!(f, "{i}"),
        Value::UInteger64(u) => write!(f, "{u}"),
        Value::Float64(x) if x.is_nan() => f.write_str("NaN"),
        Value::Float64(x) if x.is_infinite() => f.write_str(if x > 0.0 { "Inf" } else { "-Inf" }),
        // `{:?}` always keeps a `.` or an exponent, so the literal stays a float.
        Value::Float64(x) => write!(f, "{x:?}"),
    }
}

fn write_child(f: &mut fmt::Formatter<'_>, e: &Expr, parens: bool) -> fmt::Result {
    if parens {
        write!(f, "({e})")
    } else {
        write!(f, "{e}")
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Number(v) => write_number(f, *v),
            ExprKind::Selector(s) => write!(f, "{s}"),
            ExprKind::Aggregate(a) => write!(f, "{a}"),
            ExprKind::Neg(e) => {
                // `- -x` rather than `--x`, and negative literals in parentheses.
                f.write_str("-")?;
                let parens = e.precedence() < NEG_PRECEDENCE
                    || matches!(e.kind, ExprKind::Number(Value::Float64(x)) if x.is_sign_negative());
                if !parens && matches!(e.kind, ExprKind::Neg(_)) {
                    f.write_str(" ")?;
                }
                write_child(f, e, parens)
            }
            ExprKind::Binary(b) => {
                let p = b.op.precedence();
                let (lp, rp) = (b.lhs.precedence(), b.rhs.precedence());
                let left_parens = if b.op.right_associative() {
                    // `(-a) ^ b` and `(a ^ b) ^ c` need them; unary minus binds looser than `^`.
                    lp <= p
                } else {
                    lp < p
                };
                let right_parens = if b.op.right_associative() {
                    rp < p && rp != NEG_PRECEDENCE
                } else {
                    rp <= p && rp != NEG_PRECEDENCE
                };
                write_child(f, &b.lhs, left_parens)?;
                write!(f, " {}", b.op.symbol())?;
                if b.return_bool {
                    f.write_str(" bool")?;
                }
                f.write_str(" ")?;
                write_child(f, &b.rhs, right_parens)
            }
        }
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut matchers: Vec<String> = Vec::new();
        match &self.metric {
            Some(m) if is_plain_name(m) && !is_reserved(m) => f.write_str(m)?,
            Some(m) => matchers.push(format!("__name__={}", quote(m))),
            None => {}
        }
        for m in &self.matchers {
            matchers.push(format!("{}{}{}", m.name, m.op.symbol(), quote(&m.value)));
        }
        if !matchers.is_empty() || self.metric.is_none() {
            write!(f, "{{{}}}", matchers.join(", "))?;
        }
        if let Some(range) = self.range {
            write!(f, "[{range}]")?;
        }
        Ok(())
    }
}

impl fmt::Display for Grouping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (word, labels) = match self {
            Grouping::By(l) => ("by", l),
            Grouping::Without(l) => ("without", l),
        };
        write!(f, "{word} ({})", labels.join(", "))
    }
}

impl fmt::Display for Aggregate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.func.name())?;
        if let Some(g) = &self.grouping {
            write!(f, " {g} ")?;
        }
        f.write_str("(")?;
        if let Some(p) = &self.param {
            write!(f, "{p}, ")?;
        }
        write!(f, "{})", self.expr)?;
        if let Some(p) = self.period {
            write!(f, "[{p}]")?;
        }
        Ok(())
    }
}
