//! Selectors: matching streams by metric and labels, and reading their chunks inside the
//! query window.
//!
//! Matching follows PromQL: a label the stream doesn't have matches as the empty string, so
//! `x{host!="a"}` includes streams without `host`; regexes are fully anchored; `__name__`
//! matches the metric name. Matching streams are ordered by their labels, so results don't
//! depend on the order storage lists streams in.

use std::sync::Arc;

use regex::Regex;

use super::{Buf, SeriesReader, Step, VectorNode};
use crate::series::types::{Labels, ValueType};
use crate::tql::ast::{MatchOp, Selector};
use crate::tql::error::TqlError;
use crate::tql::source::{ChunkCursor, SeriesSource, StreamInfo};

enum Compiled {
    Equal(String),
    NotEqual(String),
    Regex(Regex),
    NotRegex(Regex),
}

fn label_value<'a>(labels: &'a Labels, name: &str) -> &'a str {
    if name == "__name__" {
        &labels.metric
    } else {
        labels.labels.get(name).map_or("", String::as_str)
    }
}

fn compile(pattern: &str) -> Result<Regex, TqlError> {
    // The pattern is wrapped, not prefixed, so that alternations stay anchored: `a|b` must
    // match all of "a" or all of "b".
    Regex::new(&format!("^(?:{pattern})$"))
        .map_err(|e| TqlError::InvalidArgument(format!("invalid regex \"{pattern}\": {e}")))
}

/// The streams matching `selector`, sorted by labels. Errors for invalid regexes; an empty
/// result is the caller's to report.
pub(crate) fn select(
    streams: &[StreamInfo],
    selector: &Selector,
) -> Result<Vec<StreamInfo>, TqlError> {
    let mut matchers = Vec::with_capacity(selector.matchers.len() + 1);
    if let Some(metric) = &selector.metric {
        matchers.push(("__name__", Compiled::Equal(metric.clone())));
    }
    for m in &selector.matchers {
        let compiled = match m.op {
            MatchOp::Equal => Compiled::Equal(m.value.clone()),
            MatchOp::NotEqual => Compiled::NotEqual(m.value.clone()),
            MatchOp::RegexMatch => Compiled::Regex(compile(&m.value)?),
            MatchOp::RegexNoMatch => Compiled::NotRegex(compile(&m.value)?),
        };
        matchers.push((m.name.as_str(), compiled));
    }
    let mut selected: Vec<StreamInfo> = streams
        .iter()
        .filter(|s| {
            matchers.iter().all(|(name, m)| {
                let value = label_value(&s.labels, name);
                match m {
                    Compiled::Equal(v) => value == v,
                    Compiled::NotEqual(v) => value != v,
                    Compiled::Regex(r) => r.is_match(value),
                    Compiled::NotRegex(r) => !r.is_match(value),
                }
            })
        })
        .cloned()
        .collect();
    selected.sort_by(|a, b| a.labels.cmp(&b.labels).then(a.id.cmp(&b.id)));
    Ok(selected)
}

/// The matched streams of one selector, read inside `[lo, hi]`.
pub(crate) struct SelectorNode {
    pub source: Arc<dyn SeriesSource>,
    pub streams: Vec<StreamInfo>,
    pub lo: i64,
    pub hi: i64,
}

impl VectorNode for SelectorNode {
    fn series_count(&self) -> usize {
        self.streams.len()
    }

    fn labels(&self, series: usize) -> &Labels {
        self.streams
            .get(series)
            .map_or(&super::EMPTY_LABELS, |s| &s.labels)
    }

    fn value_type(&self, series: usize) -> ValueType {
        self.streams
            .get(series)
            .map_or(ValueType::Integer64, |s| s.value_type)
    }

    fn open(&self, series: usize) -> Result<Box<dyn SeriesReader>, TqlError> {
        let Some(stream) = self.streams.get(series) else {
            return Ok(Box::new(super::EmptyReader));
        };
        if self.lo > self.hi {
            return Ok(Box::new(super::EmptyReader));
        }
        let cursor = self.source.chunks(stream.id, self.lo, self.hi)?;
        Ok(Box::new(ChunkReader {
            cursor,
            lo: self.lo,
            hi: self.hi,
            value_type: stream.value_type,
        }))
    }
}

/// Reads one stream chunk by chunk, keeping only the points inside `[lo, hi]`.
pub(crate) struct ChunkReader {
    cursor: Box<dyn ChunkCursor + Send>,
    lo: i64,
    hi: i64,
    value_type: ValueType,
}

impl ChunkReader {
    fn decode(&mut self, buf: &mut Buf) -> Result<(), TqlError> {
        buf.prepare(self.value_type);
        self.cursor.decode(&mut buf.ts, &mut buf.vals)?;
        if buf.vals.value_type() != self.value_type {
            return Err(TqlError::Source(format!(
                "a chunk decoded as {} in a stream of {}",
                buf.vals.value_type().short_name(),
                self.value_type.short_name()
            )));
        }
        if buf.ts.len() != buf.vals.len() {
            return Err(TqlError::Source(format!(
                "a chunk decoded {} timestamps but {} values",
                buf.ts.len(),
                buf.vals.len()
            )));
        }
        let (lo, hi) = (self.lo, self.hi);
        let start = buf.ts.partition_point(|&t| t < lo);
        let end = buf.ts.partition_point(|&t| t <= hi);
        buf.set_range(start, end);
        Ok(())
    }
}

impl SeriesReader for ChunkReader {
    fn next(&mut self, buf: &mut Buf, want_summary: bool) -> Result<Step, TqlError> {
        loop {
            let Some(summary) = self.cursor.next_chunk()? else {
                return Ok(Step::End);
            };
            if summary.count == 0
                || summary.last_timestamp < self.lo
                || summary.first_timestamp > self.hi
            {
                continue;
            }
            if want_summary
                && summary.first_timestamp >= self.lo
                && summary.last_timestamp <= self.hi
            {
                if summary.value_type != self.value_type {
                    return Err(TqlError::Source(format!(
                        "a chunk summary of {} in a stream of {}",
                        summary.value_type.short_name(),
                        self.value_type.short_name()
                    )));
                }
                return Ok(Step::Summary(summary));
            }
            self.decode(buf)?;
            if !buf.is_empty() {
                return Ok(Step::Points);
            }
        }
    }

    fn load(&mut self, buf: &mut Buf) -> Result<(), TqlError> {
        self.decode(buf)
    }
}
