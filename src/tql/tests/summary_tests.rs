//! Whole chunks inside the window (and inside one bucket) are aggregated from their summaries
//! without decoding.

use std::sync::Arc;

use super::{f, i, run_range, scalar, scalars_of, series_of, u};
use crate::series::types::Column;
use crate::tql::memory::{MemorySource, labels};
use crate::tql::{SeriesSource, execute};

/// 100 points at t = 1..=100 with value t, in chunks of 10: [1..10], [11..20], ...
fn hundred() -> Arc<MemorySource> {
    let mut s = MemorySource::new().with_chunk_size(10);
    let ts: Vec<i64> = (1..=100).collect();
    s.add(
        labels("x", &[("k", "a")]),
        &ts,
        Column::Integer64(ts.clone()),
    )
    .unwrap();
    s.add(
        labels("x", &[("k", "b")]),
        &ts,
        Column::Float64(ts.iter().map(|&t| t as f64 / 2.0).collect()),
    )
    .unwrap();
    Arc::new(s)
}

fn decodes(src: &Arc<MemorySource>, q: &str, start: Option<i64>, end: Option<i64>) -> u64 {
    src.reset_counters();
    run_range(src, q, start, end).unwrap();
    src.decode_count()
}

#[test]
fn whole_range_aggregates_decode_nothing() {
    let src = hundred();
    for q in [
        "sum(x)",
        "count(x)",
        "avg(x)",
        "min(x)",
        "max(x)",
        "sum by (k) (x)",
        "max without (k) (x)",
    ] {
        assert_eq!(decodes(&src, q, None, None), 0, "{q}");
    }
    src.reset_counters();
    assert_eq!(scalar(&src, r#"sum(x{k="a"})"#), Some(i(5050)));
    assert_eq!(scalar(&src, r#"sum(x{k="b"})"#), Some(f(2525.0)));
    assert_eq!(scalar(&src, r#"max(x{k="b"})"#), Some(f(50.0)));
    assert_eq!(scalar(&src, r#"min(x{k="a"})"#), Some(i(1)));
    assert_eq!(scalar(&src, "count(x)"), Some(u(200)));
    assert_eq!(src.decode_count(), 0);
    // 20 summaries were read per query over both streams.
    src.reset_counters();
    scalar(&src, "count(x)");
    assert_eq!(src.chunk_count(), 20);
}

#[test]
fn partial_windows_decode_only_the_edges() {
    let src = hundred();
    // [15, 85]: chunks [11..20] and [81..90] straddle the edges; [21..80] are whole.
    assert_eq!(decodes(&src, r#"sum(x{k="a"})"#, Some(15), Some(85)), 2);
    let r = scalars_of(&run_range(&src, r#"sum(x{k="a"})"#, Some(15), Some(85)).unwrap());
    assert_eq!(r[0].1, i((15..=85).sum()));
    // Edges exactly on chunk boundaries decode nothing.
    assert_eq!(decodes(&src, r#"sum(x{k="a"})"#, Some(11), Some(90)), 0);
    // A range selector: (100 - 25, 100] = [76, 100].
    assert_eq!(decodes(&src, r#"sum(x{k="a"}[25ms])"#, None, Some(100)), 1);
}

#[test]
fn sub_periods_use_summaries_of_chunks_inside_one_bucket() {
    let src = hundred();
    // P = 20: every chunk lies inside one bucket.
    assert_eq!(decodes(&src, r#"sum(x{k="a"})[20ms]"#, None, None), 0);
    let r = series_of(&run_range(&src, r#"sum(x{k="a"})[20ms]"#, None, None).unwrap());
    let expected: Vec<_> = (1..=5)
        .map(|n| (n * 20, i((n * 20 - 19..=n * 20).sum())))
        .collect();
    assert_eq!(r[0].1, expected);
    // P = 15: [11..20], [41..50] and [71..80] straddle 15, 45 and 75.
    assert_eq!(decodes(&src, r#"sum(x{k="a"})[15ms]"#, None, None), 3);
    let r = series_of(&run_range(&src, r#"max(x{k="a"})[15ms]"#, None, None).unwrap());
    let ends: Vec<i64> = r[0].1.iter().map(|p| p.0).collect();
    assert_eq!(ends, vec![15, 30, 45, 60, 75, 90, 105]);
    assert_eq!(r[0].1[6], (105, i(100)));
    // Across two streams in one group, each stream's whole chunks count.
    assert_eq!(decodes(&src, "avg(x)[20ms]", None, None), 0);
    assert_eq!(decodes(&src, "avg(x)[15ms]", None, None), 6);
}

#[test]
fn reading_points_decodes_each_chunk_once() {
    let src = hundred();
    assert_eq!(decodes(&src, "x", None, None), 20);
    assert_eq!(decodes(&src, "x", Some(15), Some(24)), 4);
    // Operators that need values decode.
    assert_eq!(decodes(&src, "sum(x > 0)", None, None), 20);
    assert_eq!(decodes(&src, "topk(1, x)", None, None), 20);
    // Streaming: a chunk is decoded only when reached.
    src.reset_counters();
    let source: Arc<dyn SeriesSource> = src.clone();
    let mut exec = execute("x", None, None, source).unwrap();
    assert_eq!(src.decode_count(), 0);
    for _ in 0..11 {
        exec.next_point().unwrap();
    }
    assert_eq!(src.decode_count(), 2);
}
