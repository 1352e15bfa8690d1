//! Turns query text into tokens with byte positions.
//!
//! The lexer never fails: a lexical error becomes a final [`TokenKind::Error`] token, so that
//! the parser reports whichever error comes first in the text.

use crate::series::types::Value;

/// The kinds of token. Keywords (`sum`, `by`, `bool`, ...) are plain identifiers here; the
/// parser recognises them case-insensitively where they are allowed.
#[derive(Debug, Clone, PartialEq)]
pub enum TokenKind {
    /// `[A-Za-z_:][A-Za-z0-9_:.]*`
    Ident(String),
    /// An integer literal (i64, or u64 when it is larger than `i64::MAX`) or a float literal
    /// (it has a `.` or an exponent).
    Number(Value),
    /// A quoted string with its escapes resolved.
    Str(String),
    /// A duration such as `5m` or `1h30m`, in milliseconds.
    Duration(i64),
    LParen,
    RParen,
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    Comma,
    /// `=`
    Assign,
    /// `!=`
    NotEqual,
    /// `=~`
    RegexMatch,
    /// `!~`
    RegexNoMatch,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Caret,
    /// `==`
    EqualEqual,
    Less,
    Greater,
    LessEqual,
    GreaterEqual,
    Eof,
    /// A lexical error at this token's position: what was expected and what was found there.
    Error {
        expected: String,
        found: String,
    },
}

/// A token and the byte range `start..end` it covers in the query.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub kind: TokenKind,
    pub start: usize,
    pub end: usize,
}

/// Duration units, longest spelling first so that `ms` wins over `m`.
const UNITS: [(&str, i64); 7] = [
    ("ms", 1),
    ("s", 1_000),
    ("m", 60_000),
    ("h", 3_600_000),
    ("d", 86_400_000),
    ("w", 604_800_000),
    ("y", 31_536_000_000),
];

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == ':'
}

fn is_ident_continue(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':' || c == '.'
}

/// Splits `src` into tokens. The result always ends with exactly one `Eof` or `Error` token.
pub fn tokenize(src: &str) -> Vec<Token> {
    let mut lexer = Lexer { src, pos: 0 };
    let mut tokens = Vec::new();
    loop {
        let token = lexer.next_token();
        let last = matches!(token.kind, TokenKind::Eof | TokenKind::Error { .. });
        tokens.push(token);
        if last {
            return tokens;
        }
    }
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
}

impl Lexer<'_> {
    fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn skip_trivia(&mut self) {
        while let Some(c) = self.peek() {
            if c == '#' {
                while let Some(c) = self.peek() {
                    if c == '\n' {
                        break;
                    }
                    self.bump();
                }
            } else if c.is_whitespace() {
                self.bump();
            } else {
                break;
            }
        }
    }

    fn error(&self, start: usize, expected: impl Into<String>, found: impl Into<String>) -> Token {
        Token {
            kind: TokenKind::Error {
                expected: expected.into(),
                found: found.into(),
            },
            start,
            end: start,
        }
    }

    fn next_token(&mut self) -> Token {
        self.skip_trivia();
        let start = self.pos;
        let Some(c) = self.bump() else {
            return Token {
                kind: TokenKind::Eof,
                start,
                end: start,
            };
        };
        let two = |lexer: &mut Self, next: char, yes: TokenKind, no: TokenKind| {
            if lexer.peek() == Some(next) {
                lexer.bump();
                yes
            } else {
                no
            }
        };
        let kind = match c {
            '(' => TokenKind::LParen,
            ')' => TokenKind::RParen,
            '{' => TokenKind::LBrace,
            '}' => TokenKind::RBrace,
            '[' => TokenKind::LBracket,
            ']' => TokenKind::RBracket,
            ',' => TokenKind::Comma,
            '+' => TokenKind::Plus,
            '-' => TokenKind::Minus,
            '*' => TokenKind::Star,
            '/' => TokenKind::Slash,
            '%' => TokenKind::Percent,
            '^' => TokenKind::Caret,
            '<' => two(self, '=', TokenKind::LessEqual, TokenKind::Less),
            '>' => two(self, '=', TokenKind::GreaterEqual, TokenKind::Greater),
            '=' => match self.peek() {
                Some('=') => {
                    self.bump();
                    TokenKind::EqualEqual
                }
                Some('~') => {
                    self.bump();
                    TokenKind::RegexMatch
                }
                _ => TokenKind::Assign,
            },
            '!' => match self.peek() {
                Some('=') => {
                    self.bump();
                    TokenKind::NotEqual
                }
                Some('~') => {
                    self.bump();
                    TokenKind::RegexNoMatch
                }
                other => {
                    return self.error(self.pos, "'=' or '~' after '!'", describe_char(other));
                }
            },
            '"' | '\'' => return self.string(start, c),
            c if c.is_ascii_digit()
                || (c == '.' && self.peek().is_some_and(|d| d.is_ascii_digit())) =>
            {
                self.pos = start;
                return self.number(start);
            }
            c if is_ident_start(c) => {
                while self.peek().is_some_and(is_ident_continue) {
                    self.bump();
                }
                TokenKind::Ident(self.src[start..self.pos].to_string())
            }
            other => {
                return self.error(
                    start,
                    "an expression or operator",
                    describe_char(Some(other)),
                );
            }
        };
        Token {
            kind,
            start,
            end: self.pos,
        }
    }

    fn string(&mut self, start: usize, quote: char) -> Token {
        let mut value = String::new();
        loop {
            let here = self.pos;
            match self.bump() {
                None => {
                    return self.error(here, format!("closing {quote}"), "end of query");
                }
                Some('\n') => {
                    return self.error(here, format!("closing {quote}"), "end of line");
                }
                Some(c) if c == quote => break,
                Some('\\') => match self.bump() {
                    Some('\\') => value.push('\\'),
                    Some('"') => value.push('"'),
                    Some('\'') => value.push('\''),
                    Some('n') => value.push('\n'),
                    Some('t') => value.push('\t'),
                    Some('r') => value.push('\r'),
                    Some('u') => {
                        let digits_start = self.pos;
                        let mut code = 0u32;
                        for _ in 0..4 {
                            match self.peek().and_then(|c| c.to_digit(16)) {
                                Some(d) => {
                                    code = code * 16 + d;
                                    self.bump();
                                }
                                None => {
                                    return self.error(
                                        self.pos,
                                        "four hexadecimal digits after \\u",
                                        describe_char(self.peek()),
                                    );
                                }
                            }
                        }
                        match char::from_u32(code) {
                            Some(c) => value.push(c),
                            None => {
                                return self.error(
                                    digits_start,
                                    "a Unicode scalar value after \\u",
                                    format!("\\u{}", &self.src[digits_start..self.pos]),
                                );
                            }
                        }
                    }
                    other => {
                        return self.error(
                            here,
                            "an escape sequence (\\\\ \\\" \\' \\n \\t \\r \\uXXXX)",
                            match other {
                                Some(c) => format!("'\\{c}'"),
                                None => "end of query".to_string(),
                            },
                        );
                    }
                },
                Some(c) => value.push(c),
            }
        }
        Token {
            kind: TokenKind::Str(value),
            start,
            end: self.pos,
        }
    }

    fn digits(&mut self) -> usize {
        let begin = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.bump();
        }
        self.pos - begin
    }

    fn number(&mut self, start: usize) -> Token {
        let int_digits = self.digits();
        let mut is_float = false;
        if self.peek() == Some('.') {
            self.bump();
            self.digits();
            is_float = true;
        }
        if matches!(self.peek(), Some('e' | 'E')) {
            // An exponent only when digits follow; otherwise the `e` is not part of the number.
            let save = self.pos;
            self.bump();
            if matches!(self.peek(), Some('+' | '-')) {
                self.bump();
            }
            if self.digits() > 0 {
                is_float = true;
            } else {
                self.pos = save;
            }
        }
        if !is_float
            && int_digits > 0
            && self
                .peek()
                .is_some_and(|c| UNITS.iter().any(|u| u.0.starts_with(c)))
        {
            self.pos = start;
            return self.duration(start);
        }
        let text = &self.src[start..self.pos];
        let kind = if is_float {
            match text.parse::<f64>() {
                Ok(v) => TokenKind::Number(Value::Float64(v)),
                Err(_) => return self.error(start, "a number", format!("'{text}'")),
            }
        } else if let Ok(v) = text.parse::<i64>() {
            TokenKind::Number(Value::Integer64(v))
        } else if let Ok(v) = text.parse::<u64>() {
            TokenKind::Number(Value::UInteger64(v))
        } else {
            return self.error(
                start,
                "an integer literal no larger than 18446744073709551615",
                text.to_string(),
            );
        };
        Token {
            kind,
            start,
            end: self.pos,
        }
    }

    /// `(<digits><unit>)+` with units in decreasing order, each at most once.
    fn duration(&mut self, start: usize) -> Token {
        let mut total: i64 = 0;
        let mut last_unit = None::<usize>;
        loop {
            let num_start = self.pos;
            if self.digits() == 0 {
                break;
            }
            let text = &self.src[num_start..self.pos];
            let rest = &self.src[self.pos..];
            let Some((index, (unit, factor))) = UNITS
                .iter()
                .enumerate()
                .find(|(_, (u, _))| rest.starts_with(u))
            else {
                return self.error(
                    self.pos,
                    "a duration unit (ms, s, m, h, d, w, y)",
                    describe_char(self.peek()),
                );
            };
            // Units must come in decreasing size: y w d h m s ms. UNITS lists them by
            // increasing size, so the index is the rank.
            let rank = index;
            if last_unit.is_some_and(|last| rank >= last) {
                return self.error(
                    num_start,
                    "duration units in decreasing order, each at most once",
                    format!("'{text}{unit}'"),
                );
            }
            last_unit = Some(rank);
            self.pos += unit.len();
            let value = text
                .parse::<i64>()
                .ok()
                .and_then(|n| n.checked_mul(*factor))
                .and_then(|n| total.checked_add(n));
            match value {
                Some(v) => total = v,
                None => {
                    return self.error(
                        start,
                        "a duration that fits in 64 bits of milliseconds",
                        self.src[start..self.pos].to_string(),
                    );
                }
            }
        }
        if self.peek().is_some_and(is_ident_continue) {
            return self.error(
                self.pos,
                "a duration unit (ms, s, m, h, d, w, y)",
                describe_char(self.peek()),
            );
        }
        Token {
            kind: TokenKind::Duration(total),
            start,
            end: self.pos,
        }
    }
}

fn describe_char(c: Option<char>) -> String {
    match c {
        None => "end of query".to_string(),
        Some('\n') => "end of line".to_string(),
        Some(c) if c.is_whitespace() => "whitespace".to_string(),
        Some(c) => format!("'{c}'"),
    }
}

/// How a token is named in "expected X but found Y".
pub fn describe(kind: &TokenKind) -> String {
    match kind {
        TokenKind::Ident(name) => format!("identifier '{name}'"),
        TokenKind::Number(v) => match v {
            Value::Float64(f) => format!("number {f:?}"),
            other => format!("number {other}"),
        },
        TokenKind::Str(s) => format!("string {}", crate::tql::ast::quote(s)),
        TokenKind::Duration(ms) => {
            format!("duration {}", crate::tql::ast::Duration { millis: *ms })
        }
        TokenKind::LParen => "'('".into(),
        TokenKind::RParen => "')'".into(),
        TokenKind::LBrace => "'{'".into(),
        TokenKind::RBrace => "'}'".into(),
        TokenKind::LBracket => "'['".into(),
        TokenKind::RBracket => "']'".into(),
        TokenKind::Comma => "','".into(),
        TokenKind::Assign => "'='".into(),
        TokenKind::NotEqual => "'!='".into(),
        TokenKind::RegexMatch => "'=~'".into(),
        TokenKind::RegexNoMatch => "'!~'".into(),
        TokenKind::Plus => "'+'".into(),
        TokenKind::Minus => "'-'".into(),
        TokenKind::Star => "'*'".into(),
        TokenKind::Slash => "'/'".into(),
        TokenKind::Percent => "'%'".into(),
        TokenKind::Caret => "'^'".into(),
        TokenKind::EqualEqual => "'=='".into(),
        TokenKind::Less => "'<'".into(),
        TokenKind::Greater => "'>'".into(),
        TokenKind::LessEqual => "'<='".into(),
        TokenKind::GreaterEqual => "'>='".into(),
        TokenKind::Eof => "end of query".into(),
        TokenKind::Error { found, .. } => found.clone(),
    }
}
