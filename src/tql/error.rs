//! The one error type of the TQL surface: parsing, planning and execution all return it.

use std::fmt;

/// Everything that can go wrong while parsing or running a TQL query.
///
/// The executor never panics on user input or on data it reads; every failure ends up here.
#[derive(Debug, Clone, PartialEq)]
pub enum TqlError {
    /// The query text is not valid TQL (manual code E6). `line` and `column` are 1-based;
    /// columns count characters, not bytes. `query` is the whole query text, so that `Display`
    /// can show the offending line with a caret under `column`.
    Syntax {
        line: usize,
        column: usize,
        expected: String,
        found: String,
        query: String,
    },
    /// A selector matched no stream (manual code E3). `selector` is the selector as written in
    /// canonical form.
    NoMatchingStream { selector: String },
    /// An integer result did not fit its type (i64 or u64). Integers never wrap around.
    Overflow,
    /// Integer `%` with a zero divisor. (`/` always produces f64, so it follows IEEE 754.)
    DivisionByZero,
    /// A well-formed query asked for something impossible: `topk` with a `k` that is not a
    /// single scalar ≥ 0, an invalid regex, a duration that the database's time unit cannot
    /// express, ambiguous vector matching, ...
    InvalidArgument(String),
    /// An error reported by the storage layer behind [`crate::tql::source::SeriesSource`],
    /// carried as text so that the storage layer can convert its own errors to and from it.
    Source(String),
}

impl TqlError {
    /// The code of the error. `E6` (syntax error in a query) and `E3` (reading a non-existent
    /// stream) are the codes of the TachyonDB manual; the other variants have no manual code and
    /// answer with a stable lower-case identifier instead (`overflow`, `division_by_zero`,
    /// `invalid_argument`, `source`).
    pub fn code(&self) -> &'static str {
        match self {
            TqlError::Syntax { .. } => "E6",
            TqlError::NoMatchingStream { .. } => "E3",
            TqlError::Overflow => "overflow",
            TqlError::DivisionByZero => "division_by_zero",
            TqlError::InvalidArgument(_) => "invalid_argument",
            TqlError::Source(_) => "source",
        }
    }

    /// Builds a syntax error for the byte offset `offset` of `query`.
    pub(crate) fn syntax_at(
        query: &str,
        offset: usize,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> TqlError {
        let (line, column) = line_column(query, offset);
        TqlError::Syntax {
            line,
            column,
            expected: expected.into(),
            found: found.into(),
            query: query.to_string(),
        }
    }
}

/// The 1-based line and column (in characters) of byte offset `offset` of `text`. Offsets past
/// the end, or inside a multi-byte character, are clamped to the nearest valid position before.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

impl fmt::Display for TqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TqlError::Syntax {
                line,
                column,
                expected,
                found,
                query,
            } => {
                write!(
                    f,
                    "syntax error at line {line}, column {column}: expected {expected} but found {found}"
                )?;
                // The offending line, then a caret under the column. Tabs before the column are
                // repeated so that the caret lines up in a terminal.
                if let Some(text) = query.split('\n').nth(line.saturating_sub(1)) {
                    let text = text.strip_suffix('\r').unwrap_or(text);
                    write!(f, "\n  {text}\n  ")?;
                    for c in text.chars().take(column.saturating_sub(1)) {
                        f.write_str(if c == '\t' { "\t" } else { " " })?;
                    }
                    f.write_str("^")?;
                }
                Ok(())
            }
            TqlError::NoMatchingStream { selector } => {
                write!(f, "no stream matches the selector {selector}")
            }
            TqlError::Overflow => f.write_str("integer overflow: the result does not fit its type"),
            TqlError::DivisionByZero => f.write_str("integer division by zero in '%'"),
            TqlError::InvalidArgument(msg) => write!(f, "invalid argument: {msg}"),
            TqlError::Source(msg) => write!(f, "storage error: {msg}"),
        }
    }
}

impl std::error::Error for TqlError {}
