//! Recursive-descent parser from tokens to [`Expr`], with PromQL's precedence:
//!
//! | binding  | operators                      | associativity |
//! |----------|--------------------------------|---------------|
//! | tightest | `^`                            | right         |
//! |          | unary `-` / `+`                | prefix        |
//! |          | `*` `/` `%`                    | left          |
//! |          | `+` `-`                        | left          |
//! | loosest  | `==` `!=` `<` `>` `<=` `>=`    | left          |
//!
//! The parser also checks shapes (scalar or vector) where the language fixes them: the
//! argument of an aggregation must be a vector, and `k` of `topk`/`bottomk` a scalar.

use crate::series::types::Value;
use crate::tql::ast::{
    AggFunc, Aggregate, Binary, BinaryOp, Duration, Expr, ExprKind, Grouping, MatchOp, Matcher,
    Selector, Span,
};
use crate::tql::error::TqlError;
use crate::tql::lexer::{Token, TokenKind, describe, tokenize};

/// Deepest nesting of expressions the parser accepts; deeper queries are a syntax error rather
/// than a stack overflow.
///
/// Each level costs a few kilobytes of stack in debug builds, so 64 levels stay far below the
/// 2 MiB of a default thread while leaving room for any realistic query.
pub const MAX_DEPTH: usize = 64;

/// Parses a whole query.
pub fn parse(query: &str) -> Result<Expr, TqlError> {
    let mut parser = Parser {
        query,
        tokens: tokenize(query),
        pos: 0,
    };
    let (expr, _) = parser.expr(0)?;
    let token = parser.peek();
    if token.kind != TokenKind::Eof {
        return Err(parser.error_at(parser.pos, "an operator or end of query"));
    }
    Ok(expr)
}

struct Parser<'a> {
    query: &'a str,
    tokens: Vec<Token>,
    pos: usize,
}

/// An expression and the depth of its tree.
type Parsed = (Expr, usize);

impl Parser<'_> {
    fn peek(&self) -> &Token {
        // `tokenize` always ends with Eof or Error, and the parser never moves past either.
        &self.tokens[self.pos.min(self.tokens.len() - 1)]
    }

    fn advance(&mut self) -> Token {
        let token = self.peek().clone();
        if !matches!(token.kind, TokenKind::Eof | TokenKind::Error { .. }) {
            self.pos += 1;
        }
        token
    }

    /// The position an error about token `index` points at. End of query points just after
    /// the last token, so that trailing blank lines and comments don't move it away.
    fn error_at(&self, index: usize, expected: &str) -> TqlError {
        let token = &self.tokens[index.min(self.tokens.len() - 1)];
        match &token.kind {
            TokenKind::Error { expected, found } => {
                TqlError::syntax_at(self.query, token.start, expected, found)
            }
            TokenKind::Eof => {
                let offset = if index > 0 {
                    self.tokens[index - 1].end
                } else {
                    0
                };
                TqlError::syntax_at(self.query, offset, expected, "end of query")
            }
            kind => TqlError::syntax_at(self.query, token.start, expected, describe(kind)),
        }
    }

    fn error(&self, expected: &str) -> TqlError {
        self.error_at(self.pos, expected)
    }

    fn expect(&mut self, kind: TokenKind, expected: &str) -> Result<Token, TqlError> {
        if self.peek().kind == kind {
            Ok(self.advance())
        } else {
            Err(self.error(expected))
        }
    }

    fn peek_keyword(&self, word: &str) -> bool {
        matches!(&self.peek().kind, TokenKind::Ident(name) if name.eq_ignore_ascii_case(word))
    }

    fn check_depth(&self, depth: usize, start: usize) -> Result<(), TqlError> {
        if depth > MAX_DEPTH {
            let offset = self.tokens[start.min(self.tokens.len() - 1)].start;
            return Err(TqlError::syntax_at(
                self.query,
                offset,
                format!("an expression nested at most {MAX_DEPTH} levels deep"),
                "a deeper expression",
            ));
        }
        Ok(())
    }

    fn expr(&mut self, depth: usize) -> Result<Parsed, TqlError> {
        self.binary_expr(0, depth)
    }

    /// The binary operator at the current token, other than `^` (which binds tighter than
    /// unary minus and is parsed in [`Parser::power`]).
    fn peek_binary_op(&self) -> Option<BinaryOp> {
        Some(match self.peek().kind {
            TokenKind::EqualEqual => BinaryOp::Eq,
            TokenKind::NotEqual => BinaryOp::Ne,
            TokenKind::Less => BinaryOp::Lt,
            TokenKind::Greater => BinaryOp::Gt,
            TokenKind::LessEqual => BinaryOp::Le,
            TokenKind::GreaterEqual => BinaryOp::Ge,
            TokenKind::Plus => BinaryOp::Add,
            TokenKind::Minus => BinaryOp::Sub,
            TokenKind::Star => BinaryOp::Mul,
            TokenKind::Slash => BinaryOp::Div,
            TokenKind::Percent => BinaryOp::Mod,
            _ => return None,
        })
    }

    /// Precedence climbing over the left-associative levels (comparisons, `+ -`, `* / %`).
    /// Frames are kept small on purpose: nesting depth costs stack in debug builds.
    fn binary_expr(&mut self, min_precedence: u8, depth: usize) -> Result<Parsed, TqlError> {
        self.check_depth(depth, self.pos)?;
        let (mut lhs, mut d) = self.unary(depth)?;
        while let Some(op) = self.peek_binary_op() {
            if op.precedence() < min_precedence {
                break;
            }
            let op_index = self.pos;
            self.advance();
            let return_bool = self.bool_modifier(op)?;
            let (rhs, rd) = self.binary_expr(op.precedence() + 1, depth)?;
            (lhs, d) = self.binary(op, return_bool, lhs, rhs, d.max(rd) + 1, op_index)?;
        }
        Ok((lhs, d))
    }

    /// Consumes `bool` after a comparison; rejects it after any other operator.
    fn bool_modifier(&mut self, op: BinaryOp) -> Result<bool, TqlError> {
        if !self.peek_keyword("bool") {
            return Ok(false);
        }
        if !op.is_comparison() {
            return Err(self.error(&format!(
                "an expression after '{}' ('bool' only modifies comparisons)",
                op.symbol()
            )));
        }
        self.advance();
        Ok(true)
    }

    fn binary(
        &self,
        op: BinaryOp,
        return_bool: bool,
        lhs: Expr,
        rhs: Expr,
        depth: usize,
        op_index: usize,
    ) -> Result<Parsed, TqlError> {
        self.check_depth(depth, op_index)?;
        let span = lhs.span.to(rhs.span);
        Ok((
            Expr {
                kind: ExprKind::Binary(Box::new(Binary {
                    op,
                    return_bool,
                    lhs,
                    rhs,
                })),
                span,
            },
            depth,
        ))
    }

    fn unary(&mut self, depth: usize) -> Result<Parsed, TqlError> {
        self.check_depth(depth, self.pos)?;
        match self.peek().kind {
            TokenKind::Minus => {
                let start = self.advance().start;
                let (inner, d) = self.unary(depth + 1)?;
                Ok(negation(start, inner, d))
            }
            TokenKind::Plus => {
                self.advance();
                self.unary(depth + 1)
            }
            _ => self.power(depth),
        }
    }

    fn power(&mut self, depth: usize) -> Result<Parsed, TqlError> {
        let (base, d) = self.primary(depth)?;
        if self.peek().kind != TokenKind::Caret {
            return Ok((base, d));
        }
        let op_index = self.pos;
        self.advance();
        self.bool_modifier(BinaryOp::Pow)?;
        let (exponent, ed) = self.unary(depth + 1)?;
        self.binary(
            BinaryOp::Pow,
            false,
            base,
            exponent,
            d.max(ed) + 1,
            op_index,
        )
    }

    /// Dispatches to the recursive forms (parentheses, aggregations) or to [`Parser::atom`].
    fn primary(&mut self, depth: usize) -> Result<Parsed, TqlError> {
        match &self.peek().kind {
            TokenKind::LParen => self.parenthesised(depth),
            TokenKind::Ident(name) => match AggFunc::from_keyword(name) {
                Some(func) => self.aggregate(func, depth),
                None => self.atom(),
            },
            _ => self.atom(),
        }
    }

    fn parenthesised(&mut self, depth: usize) -> Result<Parsed, TqlError> {
        self.advance();
        let inner = self.expr(depth + 1)?;
        self.expect(TokenKind::RParen, "')'")?;
        if self.peek().kind == TokenKind::LBracket {
            return Err(self.error(
                "an operator or end of query ('[duration]' only follows a selector or an aggregation)",
            ));
        }
        Ok(inner)
    }

    /// Numbers and selectors: the expressions that contain no other expression.
    #[inline(never)]
    fn atom(&mut self) -> Result<Parsed, TqlError> {
        let token = self.peek().clone();
        match &token.kind {
            TokenKind::Number(v) => {
                self.advance();
                Ok((self.number(*v, &token), 1))
            }
            TokenKind::LBrace => {
                let selector = self.selector(None, token.start)?;
                Ok((selector, 1))
            }
            TokenKind::Ident(name) => {
                if name.eq_ignore_ascii_case("inf") {
                    self.advance();
                    return Ok((self.number(Value::Float64(f64::INFINITY), &token), 1));
                }
                if name.eq_ignore_ascii_case("nan") {
                    self.advance();
                    return Ok((self.number(Value::Float64(f64::NAN), &token), 1));
                }
                if ["by", "without", "bool"]
                    .iter()
                    .any(|k| k.eq_ignore_ascii_case(name))
                {
                    return Err(self.error("an expression"));
                }
                let name = name.clone();
                self.advance();
                let selector = self.selector(Some(name), token.start)?;
                Ok((selector, 1))
            }
            TokenKind::Str(_) => {
                Err(self.error("an expression (strings only appear in label matchers)"))
            }
            TokenKind::Duration(_) => {
                Err(self.error("an expression (durations only appear in '[...]')"))
            }
            _ => Err(self.error("an expression")),
        }
    }

    fn number(&self, v: Value, token: &Token) -> Expr {
        Expr {
            kind: ExprKind::Number(v),
            span: Span::new(token.start, token.end),
        }
    }

    /// The rest of a selector after its optional metric name.
    fn selector(&mut self, metric: Option<String>, start: usize) -> Result<Expr, TqlError> {
        let mut matchers = Vec::new();
        let mut end = self.tokens[self.pos.saturating_sub(1)].end;
        if self.peek().kind == TokenKind::LBrace {
            let brace_index = self.pos;
            self.advance();
            loop {
                if self.peek().kind == TokenKind::RBrace {
                    break;
                }
                let name_token = self.peek().clone();
                let TokenKind::Ident(name) = &name_token.kind else {
                    return Err(self.error(if matchers.is_empty() {
                        "a label name or '}'"
                    } else {
                        "a label name"
                    }));
                };
                let name = name.clone();
                self.advance();
                let op = match self.peek().kind {
                    TokenKind::Assign => MatchOp::Equal,
                    TokenKind::NotEqual => MatchOp::NotEqual,
                    TokenKind::RegexMatch => MatchOp::RegexMatch,
                    TokenKind::RegexNoMatch => MatchOp::RegexNoMatch,
                    _ => {
                        return Err(
                            self.error("a label matcher operator ('=', '!=', '=~' or '!~')")
                        );
                    }
                };
                self.advance();
                let value_token = self.peek().clone();
                let TokenKind::Str(value) = &value_token.kind else {
                    return Err(self.error("a quoted string"));
                };
                self.advance();
                matchers.push(Matcher {
                    name,
                    op,
                    value: value.clone(),
                    span: Span::new(name_token.start, value_token.end),
                });
                match self.peek().kind {
                    TokenKind::Comma => {
                        self.advance();
                    }
                    TokenKind::RBrace => {}
                    _ => return Err(self.error("',' or '}'")),
                }
            }
            end = self.advance().end;
            if metric.is_none() && matchers.is_empty() {
                let offset = self.tokens[brace_index].start;
                return Err(TqlError::syntax_at(
                    self.query,
                    offset,
                    "a metric name or at least one label matcher",
                    "an empty selector '{}'",
                ));
            }
        }
        let range = if self.peek().kind == TokenKind::LBracket {
            let (d, close) = self.duration_in_brackets()?;
            end = close;
            Some(d)
        } else {
            None
        };
        Ok(Expr {
            kind: ExprKind::Selector(Selector {
                metric,
                matchers,
                range,
            }),
            span: Span::new(start, end),
        })
    }

    /// `[duration]`; returns the duration and the end offset of `]`.
    fn duration_in_brackets(&mut self) -> Result<(Duration, usize), TqlError> {
        self.advance();
        let TokenKind::Duration(ms) = self.peek().kind else {
            return Err(self.error("a duration such as 5m or 1h30m"));
        };
        if ms <= 0 {
            return Err(self.error("a duration longer than zero"));
        }
        self.advance();
        let close = self.expect(TokenKind::RBracket, "']'")?;
        Ok((Duration { millis: ms }, close.end))
    }

    fn grouping(&mut self) -> Result<Option<Grouping>, TqlError> {
        let by = if self.peek_keyword("by") {
            true
        } else if self.peek_keyword("without") {
            false
        } else {
            return Ok(None);
        };
        self.advance();
        self.expect(TokenKind::LParen, "'(' after by/without")?;
        let mut labels = Vec::new();
        loop {
            match &self.peek().kind {
                TokenKind::RParen => break,
                TokenKind::Ident(name) => {
                    labels.push(name.clone());
                    self.advance();
                }
                _ => {
                    return Err(self.error(if labels.is_empty() {
                        "a label name or ')'"
                    } else {
                        "a label name"
                    }));
                }
            }
            match self.peek().kind {
                TokenKind::Comma => {
                    self.advance();
                }
                TokenKind::RParen => {}
                _ => return Err(self.error("',' or ')'")),
            }
        }
        self.advance();
        Ok(Some(if by {
            Grouping::By(labels)
        } else {
            Grouping::Without(labels)
        }))
    }

    fn aggregate(&mut self, func: AggFunc, depth: usize) -> Result<Parsed, TqlError> {
        let (start, grouping) = self.aggregate_head()?;
        let param = if func.takes_param() {
            let k = self.expr(depth + 1)?;
            self.param_comma(func)?;
            Some(k)
        } else {
            None
        };
        let arg = self.expr(depth + 1)?;
        self.aggregate_tail(func, start, grouping, param, arg)
    }

    /// The aggregation keyword and an optional prefix `by`/`without`, up to and including `(`.
    #[inline(never)]
    fn aggregate_head(&mut self) -> Result<(usize, Option<Grouping>), TqlError> {
        let start = self.advance().start;
        let grouping = self.grouping()?;
        if self.peek().kind != TokenKind::LParen {
            return Err(self.error(if grouping.is_some() {
                "'('"
            } else {
                "'(' or by/without after an aggregation"
            }));
        }
        self.advance();
        Ok((start, grouping))
    }

    #[inline(never)]
    fn param_comma(&mut self, func: AggFunc) -> Result<(), TqlError> {
        if self.peek().kind != TokenKind::Comma {
            return Err(self.error(&format!("',' ({} takes k and a vector)", func.name())));
        }
        self.advance();
        Ok(())
    }

    /// `)`, shape checks, an optional suffix `by`/`without` and an optional `[period]`.
    #[inline(never)]
    fn aggregate_tail(
        &mut self,
        func: AggFunc,
        start: usize,
        mut grouping: Option<Grouping>,
        param: Option<Parsed>,
        arg: Parsed,
    ) -> Result<Parsed, TqlError> {
        let (expr, arg_depth) = arg;
        let mut end = self.expect(TokenKind::RParen, "')'")?.end;
        let mut max_depth = arg_depth;
        let param = match param {
            Some((k, k_depth)) => {
                max_depth = max_depth.max(k_depth);
                if !k.is_scalar() {
                    return Err(TqlError::syntax_at(
                        self.query,
                        k.span.start,
                        format!("a scalar k for {}", func.name()),
                        "a vector expression",
                    ));
                }
                Some(Box::new(k))
            }
            None => None,
        };
        if expr.is_scalar() {
            return Err(TqlError::syntax_at(
                self.query,
                expr.span.start,
                format!("a vector expression as the argument of {}", func.name()),
                "a scalar expression",
            ));
        }
        if grouping.is_none() {
            grouping = self.grouping()?;
            if grouping.is_some() {
                end = self.tokens[self.pos - 1].end;
            }
        } else if self.peek_keyword("by") || self.peek_keyword("without") {
            return Err(self.error("at most one by/without clause"));
        }
        let period = if self.peek().kind == TokenKind::LBracket {
            let (p, close) = self.duration_in_brackets()?;
            end = close;
            Some(p)
        } else {
            None
        };
        let depth_here = max_depth + 1;
        self.check_depth(depth_here, self.pos)?;
        Ok((
            Expr {
                kind: ExprKind::Aggregate(Aggregate {
                    func,
                    grouping,
                    param,
                    expr: Box::new(expr),
                    period,
                }),
                span: Span::new(start, end),
            },
            depth_here,
        ))
    }
}

fn negation(start: usize, inner: Expr, depth: usize) -> Parsed {
    let span = Span::new(start, inner.span.end);
    (
        Expr {
            kind: ExprKind::Neg(Box::new(inner)),
            span,
        },
        depth + 1,
    )
}
