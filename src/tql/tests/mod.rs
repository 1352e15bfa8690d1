//! Tests of the TQL surface: lexer, parser, executor, summaries and properties.

mod exec_tests;
mod lexer_tests;
mod parser_tests;
mod prop_tests;
mod summary_tests;

use std::sync::Arc;

use crate::series::types::{Column, Labels, Value};
use crate::tql::memory::{MemorySource, labels};
use crate::tql::{QueryResult, SeriesSource, TqlError, execute};

pub(crate) fn i(v: i64) -> Value {
    Value::Integer64(v)
}

pub(crate) fn u(v: u64) -> Value {
    Value::UInteger64(v)
}

pub(crate) fn f(v: f64) -> Value {
    Value::Float64(v)
}

/// Adds a stream; `spec` is `metric{a="1",...}` written as (metric, pairs).
pub(crate) fn add(
    src: &mut MemorySource,
    metric: &str,
    pairs: &[(&str, &str)],
    points: &[(i64, Value)],
) {
    let ts: Vec<i64> = points.iter().map(|p| p.0).collect();
    let mut col = Column::new(
        points
            .first()
            .map_or(crate::series::types::ValueType::Integer64, |p| {
                p.1.value_type()
            }),
    );
    for p in points {
        assert!(col.push(p.1));
    }
    src.add(labels(metric, pairs), &ts, col).unwrap();
}

pub(crate) fn run_range(
    src: &Arc<MemorySource>,
    q: &str,
    start: Option<i64>,
    end: Option<i64>,
) -> Result<QueryResult, TqlError> {
    let source: Arc<dyn SeriesSource> = src.clone();
    execute(q, start, end, source)?.collect()
}

pub(crate) fn run(src: &Arc<MemorySource>, q: &str) -> QueryResult {
    run_range(src, q, None, None).unwrap_or_else(|e| panic!("{q}: {e}"))
}

/// A series result as (labels in canonical text, points).
pub(crate) type Points = Vec<(String, Vec<(i64, Value)>)>;

pub(crate) fn series_of(r: &QueryResult) -> Points {
    let QueryResult::Series(s) = r else {
        panic!("expected series, got {r:?}")
    };
    s.iter()
        .map(|s| {
            let pts = s
                .timestamps
                .iter()
                .enumerate()
                .map(|(k, &t)| (t, s.values.get(k).unwrap()))
                .collect();
            (s.labels.to_string(), pts)
        })
        .collect()
}

pub(crate) fn scalars_of(r: &QueryResult) -> Vec<(String, Value)> {
    let QueryResult::Scalars(s) = r else {
        panic!("expected scalars, got {r:?}")
    };
    s.iter().map(|(l, v)| (l.to_string(), *v)).collect()
}

pub(crate) fn series(src: &Arc<MemorySource>, q: &str) -> Points {
    series_of(&run(src, q))
}

pub(crate) fn scalars(src: &Arc<MemorySource>, q: &str) -> Vec<(String, Value)> {
    scalars_of(&run(src, q))
}

/// The single unlabelled scalar of a query, if it has a value.
pub(crate) fn scalar(src: &Arc<MemorySource>, q: &str) -> Option<Value> {
    let s = scalars(src, q);
    assert!(s.len() <= 1, "{q}: {s:?}");
    s.first().map(|(l, v)| {
        assert_eq!(l, "", "{q}");
        *v
    })
}

pub(crate) fn error(src: &Arc<MemorySource>, q: &str) -> TqlError {
    match run_range(src, q, None, None) {
        Err(e) => e,
        Ok(r) => panic!("{q}: expected an error, got {r:?}"),
    }
}

#[allow(dead_code)]
pub(crate) fn no_labels() -> Labels {
    Labels::default()
}
