//! Worked examples for each rule of the TQL specification, computed by hand.

use std::sync::Arc;

use super::{add, error, f, i, run_range, scalar, scalars, series, series_of, u};
use crate::series::types::{Column, Value};
use crate::tql::memory::{MemorySource, labels};
use crate::tql::{QueryResult, SeriesSource, TqlError, execute};

fn source(build: impl FnOnce(&mut MemorySource)) -> Arc<MemorySource> {
    let mut src = MemorySource::new().with_chunk_size(2);
    build(&mut src);
    Arc::new(src)
}

fn pts(values: &[(i64, Value)]) -> Vec<(i64, Value)> {
    values.to_vec()
}

#[test]
fn quickstart() {
    let mut src = MemorySource::new().with_chunk_size(16);
    let ts: Vec<i64> = (0..100).collect();
    src.add(
        labels("latency", &[("service", "web")]),
        &ts,
        Column::Integer64((0..100).collect()),
    )
    .unwrap();
    let src = Arc::new(src);
    let s = series(&src, r#"latency{service="web"}"#);
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].0, r#"latency{service="web"}"#);
    assert_eq!(s[0].1.len(), 100);
    assert_eq!(s[0].1[99], (99, i(99)));
    assert_eq!(
        scalar(&src, r#"sum(latency{service="web"})"#),
        Some(i(4950))
    );

    // The same through the streaming interface.
    let source: Arc<dyn SeriesSource> = src.clone();
    let mut exec = execute(r#"latency{service="web"}"#, None, None, source.clone()).unwrap();
    assert!(!exec.is_scalar());
    assert_eq!(exec.series_count(), 1);
    assert_eq!(exec.labels(0).to_string(), r#"latency{service="web"}"#);
    let mut n = 0;
    while let Some((series, t, v)) = exec.next_point().unwrap() {
        assert_eq!((series, v), (0, i(t)));
        n += 1;
    }
    assert_eq!(n, 100);
    let mut exec = execute(r#"sum(latency{service="web"})"#, None, None, source).unwrap();
    assert!(exec.is_scalar());
    assert_eq!(exec.next_point().unwrap(), None);
    assert_eq!(exec.next_scalar().unwrap(), Some((0, i(4950))));
    assert_eq!(exec.next_scalar().unwrap(), None);
}

fn two_hosts() -> Arc<MemorySource> {
    source(|s| {
        add(
            s,
            "cpu",
            &[("host", "b"), ("dc", "eu")],
            &[(1, i(10)), (2, i(20)), (3, i(30))],
        );
        add(
            s,
            "cpu",
            &[("host", "a"), ("dc", "eu")],
            &[(1, i(1)), (2, i(2)), (3, i(3))],
        );
        add(s, "cpu", &[("host", "c")], &[(1, i(100))]);
        add(s, "mem", &[("host", "a")], &[(1, u(7))]);
    })
}

#[test]
fn selector_matching() {
    let src = two_hosts();
    let names = |q: &str| series(&src, q).into_iter().map(|s| s.0).collect::<Vec<_>>();
    // Sorted by labels, whatever order storage lists them in.
    assert_eq!(
        names("cpu"),
        vec![
            r#"cpu{dc="eu",host="a"}"#,
            r#"cpu{dc="eu",host="b"}"#,
            r#"cpu{host="c"}"#
        ]
    );
    assert_eq!(names(r#"cpu{host="a"}"#), vec![r#"cpu{dc="eu",host="a"}"#]);
    assert_eq!(
        names(r#"cpu{host!="a"}"#),
        vec![r#"cpu{dc="eu",host="b"}"#, r#"cpu{host="c"}"#]
    );
    // Regexes are fully anchored.
    assert_eq!(names(r#"cpu{host=~"a|b"}"#).len(), 2);
    assert_eq!(names(r#"cpu{host=~"[ab]"}"#).len(), 2);
    assert_eq!(
        names(r#"cpu{host!~"a|c"}"#),
        vec![r#"cpu{dc="eu",host="b"}"#]
    );
    // A missing label matches as "".
    assert_eq!(names(r#"cpu{dc=""}"#), vec![r#"cpu{host="c"}"#]);
    assert_eq!(names(r#"cpu{dc!="eu"}"#), vec![r#"cpu{host="c"}"#]);
    // __name__ and selectors without a metric name.
    assert_eq!(
        names(r#"{host="a"}"#),
        vec![r#"cpu{dc="eu",host="a"}"#, r#"mem{host="a"}"#]
    );
    assert_eq!(names(r#"{__name__=~"m.*"}"#), vec![r#"mem{host="a"}"#]);

    let e = error(&src, r#"cpu{host="zzz"}"#);
    assert_eq!(e.code(), "E3");
    assert_eq!(
        e,
        TqlError::NoMatchingStream {
            selector: r#"cpu{host="zzz"}"#.into()
        }
    );
    assert_eq!(error(&src, "disk").code(), "E3");
    // E3 from anywhere in the query, even when the rest would work.
    assert_eq!(error(&src, "sum(cpu) + sum(disk)").code(), "E3");
    assert!(
        matches!(error(&src, r#"cpu{host=~"("}"#), TqlError::InvalidArgument(m) if m.contains("regex"))
    );
}

#[test]
fn windows_are_inclusive_and_optional() {
    let src = source(|s| {
        add(
            s,
            "x",
            &[],
            &[(10, i(1)), (20, i(2)), (30, i(3)), (40, i(4)), (50, i(5))],
        )
    });
    let ts = |start, end| -> Vec<i64> {
        series_of(&run_range(&src, "x", start, end).unwrap())[0]
            .1
            .iter()
            .map(|p| p.0)
            .collect()
    };
    assert_eq!(ts(Some(20), Some(40)), vec![20, 30, 40]);
    assert_eq!(ts(Some(21), Some(39)), vec![30]);
    assert_eq!(ts(None, Some(20)), vec![10, 20]);
    assert_eq!(ts(Some(40), None), vec![40, 50]);
    assert_eq!(ts(None, None), vec![10, 20, 30, 40, 50]);
    // An empty window: the series is still there, with no points.
    assert_eq!(ts(Some(100), None), Vec::<i64>::new());
    assert_eq!(ts(Some(40), Some(20)), Vec::<i64>::new());
}

#[test]
fn range_selector_uses_end_or_now() {
    let mut s = MemorySource::new().with_chunk_size(2).with_now(50);
    add(
        &mut s,
        "x",
        &[],
        &[
            (10, i(1)),
            (20, i(2)),
            (30, i(3)),
            (40, i(4)),
            (50, i(5)),
            (60, i(6)),
        ],
    );
    let src = Arc::new(s);
    let ts = |q: &str, start, end| -> Vec<i64> {
        series_of(&run_range(&src, q, start, end).unwrap())[0]
            .1
            .iter()
            .map(|p| p.0)
            .collect()
    };
    // (end - d, end] with the query's end: (45 - 20, 45] = (25, 45].
    assert_eq!(ts("x[20ms]", None, Some(45)), vec![30, 40]);
    // The lower bound is exclusive: (50 - 20, 50] = (30, 50].
    assert_eq!(ts("x[20ms]", None, Some(50)), vec![40, 50]);
    // Without an end, now() = 50 is the end; points after now are excluded.
    assert_eq!(ts("x[20ms]", None, None), vec![40, 50]);
    // The query start still applies.
    assert_eq!(ts("x[30ms]", Some(45), None), vec![50]);
    assert_eq!(ts("x[1s]", None, None), vec![10, 20, 30, 40, 50]);
    // Durations count in the database's unit: a seconds database.
    let mut s = MemorySource::new().with_units_per_second(1).with_now(1000);
    add(
        &mut s,
        "x",
        &[],
        &[(0, i(0)), (880, i(1)), (941, i(2)), (1000, i(3))],
    );
    let src = Arc::new(s);
    let r = series_of(&run_range(&src, "x[1m]", None, None).unwrap());
    assert_eq!(r[0].1, vec![(941, i(2)), (1000, i(3))]);
    // (880, 1000]: the lower bound is exclusive.
    let r = series_of(&run_range(&src, "x[2m]", None, None).unwrap());
    assert_eq!(r[0].1.len(), 2);
    // 500ms can't be expressed in seconds.
    assert!(matches!(
        run_range(&src, "x[500ms]", None, None),
        Err(TqlError::InvalidArgument(_))
    ));
    assert!(matches!(
        run_range(&src, "x[1500ms]", None, None),
        Err(TqlError::InvalidArgument(_))
    ));
    assert!(run_range(&src, "x[2000ms]", None, None).is_ok());
}

#[test]
fn aggregates_over_time() {
    let src = source(|s| {
        add(
            s,
            "x",
            &[("k", "a")],
            &[(1, i(5)), (2, i(-3)), (3, i(10)), (4, i(0)), (5, i(-8))],
        );
        add(s, "x", &[("k", "b")], &[(1, i(1)), (7, i(2))]);
        add(s, "fl", &[], &[(1, f(1.5)), (2, f(-2.5)), (3, f(4.0))]);
        add(s, "un", &[], &[(1, u(3)), (2, u(u64::MAX - 10))]);
    });
    // Over every matched stream together.
    assert_eq!(scalar(&src, "sum(x)"), Some(i(5 - 3 + 10 - 8 + 1 + 2)));
    assert_eq!(scalar(&src, "count(x)"), Some(u(7)));
    assert_eq!(scalar(&src, "avg(x)"), Some(f(7.0 / 7.0)));
    assert_eq!(scalar(&src, "min(x)"), Some(i(-8)));
    assert_eq!(scalar(&src, "max(x)"), Some(i(10)));
    assert_eq!(scalar(&src, r#"sum(x{k="a"})"#), Some(i(4)));
    assert_eq!(scalar(&src, r#"avg(x{k="a"})"#), Some(f(0.8)));
    // Floats keep f64, count is u64, avg f64.
    assert_eq!(scalar(&src, "sum(fl)"), Some(f(3.0)));
    assert_eq!(scalar(&src, "min(fl)"), Some(f(-2.5)));
    assert_eq!(scalar(&src, "max(fl)"), Some(f(4.0)));
    assert_eq!(scalar(&src, "avg(fl)"), Some(f(1.0)));
    assert_eq!(scalar(&src, "count(fl)"), Some(u(3)));
    // u64 stays u64.
    assert_eq!(scalar(&src, "sum(un)"), Some(u(u64::MAX - 7)));
    assert_eq!(scalar(&src, "max(un)"), Some(u(u64::MAX - 10)));
    // Mixed types in one aggregate combine like `+`: i64 and f64 give f64.
    assert_eq!(scalar(&src, r#"sum({__name__=~"x|fl"})"#), Some(f(10.0)));
    assert_eq!(scalar(&src, r#"max({__name__=~"x|fl"})"#), Some(f(10.0)));
    // u64 and i64 give i64; the u64 max doesn't fit.
    assert_eq!(
        error(&src, r#"sum({__name__=~"x|un"})"#),
        TqlError::Overflow
    );
    assert_eq!(scalar(&src, r#"min({__name__=~"x|un"})"#), Some(i(-8)));
    assert_eq!(
        error(&src, r#"max({__name__=~"x|un"})"#),
        TqlError::Overflow
    );
}

#[test]
fn empty_windows() {
    let src = source(|s| add(s, "x", &[], &[(1, i(5)), (2, i(6))]));
    for q in ["sum(x)", "avg(x)", "min(x)", "max(x)"] {
        assert_eq!(scalars_in(&src, q, Some(10), Some(20)), vec![], "{q}");
    }
    assert_eq!(
        scalars_in(&src, "count(x)", Some(10), Some(20)),
        vec![(String::new(), u(0))]
    );
    assert_eq!(
        scalars_in(&src, "count by (a) (x)", Some(10), Some(20)),
        vec![(String::new(), u(0))]
    );
    assert_eq!(scalars_in(&src, "sum(x) + 1", Some(10), Some(20)), vec![]);
    // u64 + i64 literal is i64.
    assert_eq!(
        scalars_in(&src, "count(x) + 1", Some(10), Some(20)),
        vec![(String::new(), i(1))]
    );
    let r = series_of(&run_range(&src, "sum(x)[5ms]", Some(10), Some(20)).unwrap());
    assert_eq!(r, vec![(String::new(), vec![])]);
    let r = series_of(&run_range(&src, "x * 2", Some(10), Some(20)).unwrap());
    assert_eq!(r, vec![(String::new(), vec![])]);
    let r = series_of(&run_range(&src, "x + x", Some(10), Some(20)).unwrap());
    assert_eq!(r, vec![(String::new(), vec![])]);
    let r = series_of(&run_range(&src, "topk(3, x)", Some(10), Some(20)).unwrap());
    assert_eq!(r, vec![]);
}

fn scalars_in(
    src: &Arc<MemorySource>,
    q: &str,
    start: Option<i64>,
    end: Option<i64>,
) -> Vec<(String, Value)> {
    super::scalars_of(&run_range(src, q, start, end).unwrap())
}

#[test]
fn integer_sums_accumulate_wide() {
    let src = source(|s| {
        add(
            s,
            "big",
            &[],
            &[
                (1, i(i64::MAX)),
                (2, i(i64::MAX)),
                (3, i(-i64::MAX)),
                (4, i(-i64::MAX)),
                (5, i(7)),
            ],
        );
        add(s, "over", &[], &[(1, i(i64::MAX)), (2, i(1))]);
        add(s, "under", &[], &[(1, i(i64::MIN)), (2, i(-1))]);
        add(s, "ubig", &[], &[(1, u(u64::MAX)), (2, u(u64::MAX))]);
    });
    // Intermediate sums beyond i64 are fine when the result fits.
    assert_eq!(scalar(&src, "sum(big)"), Some(i(7)));
    assert_eq!(scalar(&src, "avg(big)"), Some(f(7.0 / 5.0)));
    assert_eq!(error(&src, "sum(over)"), TqlError::Overflow);
    assert_eq!(error(&src, "sum(under)"), TqlError::Overflow);
    assert_eq!(error(&src, "sum(ubig)"), TqlError::Overflow);
    assert_eq!(scalar(&src, "avg(ubig)"), Some(f(u64::MAX as f64)));
    assert_eq!(error(&src, "sum(over)[2ms]"), TqlError::Overflow);
    assert_eq!(
        series(&src, "sum(over)[1ms]")[0].1,
        vec![(1, i(i64::MAX)), (2, i(1))]
    );
}

#[test]
fn grouping_by_and_without() {
    let src = source(|s| {
        add(
            s,
            "req",
            &[("svc", "web"), ("code", "200")],
            &[(1, i(10)), (2, i(20))],
        );
        add(s, "req", &[("svc", "web"), ("code", "500")], &[(1, i(1))]);
        add(
            s,
            "req",
            &[("svc", "db"), ("code", "200")],
            &[(1, i(5)), (9, i(6))],
        );
        add(s, "req", &[("code", "200")], &[(3, i(100))]);
    });
    let by_svc = vec![
        (String::new(), i(100)),
        (r#"{svc="db"}"#.to_string(), i(11)),
        (r#"{svc="web"}"#.to_string(), i(31)),
    ];
    assert_eq!(scalars(&src, "sum by (svc) (req)"), by_svc);
    assert_eq!(scalars(&src, "sum(req) by (svc)"), by_svc);
    assert_eq!(scalars(&src, "SUM(req) BY (svc)"), by_svc);
    assert_eq!(
        scalars(&src, "count without (svc) (req)"),
        vec![
            (r#"{code="200"}"#.to_string(), u(5)),
            (r#"{code="500"}"#.to_string(), u(1))
        ]
    );
    assert_eq!(
        scalars(&src, "max by (svc, code) (req)"),
        vec![
            (r#"{code="200"}"#.to_string(), i(100)),
            (r#"{code="200",svc="db"}"#.to_string(), i(6)),
            (r#"{code="200",svc="web"}"#.to_string(), i(20)),
            (r#"{code="500",svc="web"}"#.to_string(), i(1)),
        ]
    );
    // by (__name__) keeps the metric name.
    assert_eq!(
        scalars(&src, "sum by (__name__) (req)"),
        vec![("req".to_string(), i(142))]
    );
    // by () is one group.
    assert_eq!(
        scalars(&src, "sum by () (req)"),
        vec![(String::new(), i(142))]
    );
    // Groups are known after planning; groups without a value are skipped by next_scalar.
    let source: Arc<dyn SeriesSource> = src.clone();
    let mut exec = execute("min by (svc) (req)", Some(2), Some(3), source).unwrap();
    assert!(exec.is_scalar());
    assert_eq!(exec.series_count(), 3);
    assert_eq!(exec.labels(1).to_string(), r#"{svc="db"}"#);
    assert_eq!(exec.labels(99).to_string(), "");
    assert_eq!(exec.next_scalar().unwrap(), Some((0, i(100))));
    assert_eq!(exec.next_scalar().unwrap(), Some((2, i(20))));
    assert_eq!(exec.next_scalar().unwrap(), None);
}

#[test]
fn sub_periods() {
    let src = source(|s| {
        // P = 10: buckets (0,10], (10,20], (20,30], ...
        add(
            s,
            "x",
            &[("k", "a")],
            &[
                (0, i(1)),
                (1, i(2)),
                (10, i(3)),
                (11, i(4)),
                (20, i(5)),
                (35, i(6)),
            ],
        );
        add(s, "x", &[("k", "b")], &[(10, i(100)), (40, i(200))]);
        add(
            s,
            "neg",
            &[],
            &[(-15, i(1)), (-10, i(2)), (-9, i(3)), (0, i(4))],
        );
        add(
            s,
            "fl",
            &[],
            &[(1, f(1.0)), (2, f(f64::NAN)), (11, f(f64::NAN))],
        );
    });
    // A point exactly at n·P belongs to bucket n; output at the bucket's end; empty buckets
    // (here (20,30]) produce nothing.
    assert_eq!(
        series(&src, r#"sum(x{k="a"})[10ms]"#),
        vec![(
            String::new(),
            pts(&[(0, i(1)), (10, i(5)), (20, i(9)), (40, i(6))])
        )]
    );
    // Across streams: both series' points fall into the shared buckets.
    assert_eq!(
        series(&src, "sum(x)[10ms]"),
        vec![(
            String::new(),
            pts(&[(0, i(1)), (10, i(105)), (20, i(9)), (40, i(206))])
        )]
    );
    assert_eq!(
        series(&src, "count(x)[10ms]")[0].1,
        pts(&[(0, u(1)), (10, u(3)), (20, u(2)), (40, u(2))])
    );
    assert_eq!(
        series(&src, "avg(x)[20ms]")[0].1,
        pts(&[
            (0, f(1.0)),
            (20, f((2.0 + 3.0 + 100.0 + 4.0 + 5.0) / 5.0)),
            (40, f(103.0))
        ])
    );
    assert_eq!(
        series(&src, "max(x)[1h]")[0].1,
        pts(&[(0, i(1)), (3_600_000, i(200))])
    );
    // Negative timestamps align to multiples of P too: (-20,-10], (-10,0].
    assert_eq!(
        series(&src, "sum(neg)[10ms]")[0].1,
        pts(&[(-10, i(3)), (0, i(7))])
    );
    // min/max ignore NaN unless the bucket holds only NaN.
    let r = series(&src, "min(fl)[10ms]");
    assert_eq!(r[0].1[0], (10, f(1.0)));
    assert!(matches!(r[0].1[1], (20, Value::Float64(x)) if x.is_nan()));
    // One series per group.
    assert_eq!(
        series(&src, "sum by (k) (x)[10ms]"),
        vec![
            (
                r#"{k="a"}"#.to_string(),
                pts(&[(0, i(1)), (10, i(5)), (20, i(9)), (40, i(6))])
            ),
            (r#"{k="b"}"#.to_string(), pts(&[(10, i(100)), (40, i(200))])),
        ]
    );
    // Window edges cut buckets.
    let r = series_of(&run_range(&src, r#"sum(x{k="a"})[10ms]"#, Some(1), Some(20)).unwrap());
    assert_eq!(r[0].1, pts(&[(10, i(5)), (20, i(9))]));
    // A sub-period result is a vector: it can be aggregated again.
    assert_eq!(scalar(&src, r#"max(sum(x{k="a"})[10ms])"#), Some(i(9)));
    assert_eq!(scalar(&src, "count(sum(x)[10ms])"), Some(u(4)));
}

#[test]
fn scalar_arithmetic_and_types() {
    let src = source(|s| add(s, "x", &[], &[(1, i(1))]));
    let v = |q: &str| scalar(&src, q).unwrap_or_else(|| panic!("{q}: no value"));
    assert_eq!(v("2 + 3 * 4"), i(14));
    assert_eq!(v("(2 + 3) * 4"), i(20));
    assert_eq!(v("7 / 2"), f(3.5));
    assert_eq!(v("7 % 3"), i(1));
    assert_eq!(v("-7 % 3"), i(-1));
    assert_eq!(v("7.5 % 2"), f(1.5));
    assert_eq!(v("2 ^ 3 ^ 2"), f(512.0));
    assert_eq!(v("-2 ^ 2"), f(-4.0));
    assert_eq!(v("(-2) ^ 2"), f(4.0));
    assert_eq!(v("2 - -3"), i(5));
    assert_eq!(v("1.5 + 1"), f(2.5));
    assert_eq!(v("1e3"), f(1000.0));
    // Literals too large for i64 are u64; `-` makes i64.
    assert_eq!(v("18446744073709551615"), u(u64::MAX));
    assert_eq!(v("-9223372036854775808"), i(i64::MIN));
    assert_eq!(v("9223372036854775808 - 1"), i(i64::MAX));
    assert_eq!(error(&src, "9223372036854775808 + 1"), TqlError::Overflow);
    assert_eq!(error(&src, "9223372036854775807 + 1"), TqlError::Overflow);
    assert_eq!(error(&src, "-9223372036854775807 - 2"), TqlError::Overflow);
    assert_eq!(error(&src, "18446744073709551615 * 2"), TqlError::Overflow);
    assert_eq!(error(&src, "--9223372036854775808"), TqlError::Overflow);
    assert_eq!(error(&src, "7 % 0"), TqlError::DivisionByZero);
    assert_eq!(error(&src, "7 % 0").code(), "division_by_zero");
    assert!(matches!(v("7 % 0.0"), Value::Float64(x) if x.is_nan()));
    assert_eq!(v("7 / 0"), f(f64::INFINITY));
    assert!(matches!(v("NaN"), Value::Float64(x) if x.is_nan()));
    // Comparisons give u64 1 or 0, with or without bool.
    assert_eq!(v("3 > 2"), u(1));
    assert_eq!(v("3 < 2"), u(0));
    assert_eq!(v("3 == bool 3.0"), u(1));
    assert_eq!(v("NaN == NaN"), u(0));
    assert_eq!(v("NaN != NaN"), u(1));
    assert_eq!(v("1 + 2 > 2"), u(1));
    // Aggregates in arithmetic.
    assert_eq!(v("sum(x) * 10 - count(x)"), i(9));
    assert_eq!(v("count(x) - count(x)"), i(0));
    assert_eq!(v("count(x) + count(x)"), u(2));
}

#[test]
fn labelled_scalars_match_by_labels() {
    let src = source(|s| {
        add(s, "a", &[("h", "1")], &[(1, i(10))]);
        add(s, "a", &[("h", "2")], &[(1, i(20))]);
        add(s, "b", &[("h", "1")], &[(1, i(1))]);
        add(s, "b", &[("h", "3")], &[(1, i(3))]);
    });
    assert_eq!(
        scalars(&src, "sum by (h) (a) + 1"),
        vec![(r#"{h="1"}"#.into(), i(11)), (r#"{h="2"}"#.into(), i(21))]
    );
    assert_eq!(
        scalars(&src, "sum by (h) (a) - sum by (h) (b)"),
        vec![(r#"{h="1"}"#.into(), i(9))]
    );
    assert_eq!(
        scalars(&src, "sum by (h) (a) / sum(b)"),
        vec![(r#"{h="1"}"#.into(), f(2.5)), (r#"{h="2"}"#.into(), f(5.0))]
    );
}

fn interleaved() -> Arc<MemorySource> {
    source(|s| {
        add(s, "l", &[], &[(0, i(10)), (10, i(20))]);
        add(s, "r", &[], &[(5, i(100))]);
        add(
            s,
            "a",
            &[("x", "1")],
            &[(0, i(0)), (2, i(1)), (4, i(-1)), (6, i(-2))],
        );
        add(s, "b", &[("x", "1")], &[(1, i(0)), (3, i(0)), (5, i(0))]);
        add(s, "fa", &[("x", "1")], &[(0, f(1.0)), (4, f(2.0))]);
        add(s, "fb", &[("x", "1")], &[(1, f(0.5)), (3, f(0.25))]);
    })
}

#[test]
fn vector_vector_interpolates_and_holds() {
    let src = interleaved();
    // Union of timestamps 0, 5, 10. At 0 the right side holds its first value (100); at 5 the
    // left side interpolates 10→20 to 15; at 10 the right side holds its last value.
    assert_eq!(
        series(&src, "l + r"),
        vec![(
            String::new(),
            pts(&[(0, i(110)), (5, i(115)), (10, i(120))])
        )]
    );
    assert_eq!(
        series(&src, "l - r")[0].1,
        pts(&[(0, i(-90)), (5, i(-85)), (10, i(-80))])
    );
    assert_eq!(
        series(&src, "r - l")[0].1,
        pts(&[(0, i(90)), (5, i(85)), (10, i(80))])
    );
    assert_eq!(
        series(&src, "l * r")[0].1,
        pts(&[(0, i(1000)), (5, i(1500)), (10, i(2000))])
    );
    assert_eq!(
        series(&src, "r / l")[0].1,
        pts(&[(0, f(10.0)), (5, f(100.0 / 15.0)), (10, f(5.0))])
    );
    assert_eq!(
        series(&src, "r % l")[0].1,
        pts(&[(0, i(0)), (5, i(10)), (10, i(0))])
    );
    // Integer interpolation rounds half away from zero: a at 1 is 0.5 → 1, at 3 is 0 → 0,
    // at 5 is -1.5 → -2.
    assert_eq!(
        series(&src, "a + b")[0].1,
        pts(&[
            (0, i(0)),
            (1, i(1)),
            (2, i(1)),
            (3, i(0)),
            (4, i(-1)),
            (5, i(-2)),
            (6, i(-2))
        ])
    );
    // b before its first point holds 0; after its last, 0.
    assert_eq!(
        series(&src, "b - a")[0].1,
        pts(&[
            (0, i(0)),
            (1, i(-1)),
            (2, i(-1)),
            (3, i(0)),
            (4, i(1)),
            (5, i(2)),
            (6, i(2))
        ])
    );
    // Floats interpolate exactly: fa at 1 = 1.25, at 3 = 1.75; fb holds 0.5 at 0 and 0.25 at 4.
    assert_eq!(
        series(&src, "fa * fb")[0].1,
        pts(&[(0, f(0.5)), (1, f(0.625)), (3, f(0.4375)), (4, f(0.5))])
    );
    // Mixed int/float operands give f64; the integer side interpolates as an integer.
    assert_eq!(
        series(&src, "fb + b")[0].1,
        pts(&[(1, f(0.5)), (3, f(0.25)), (5, f(0.25))])
    );
}

#[test]
fn vector_vector_comparisons_filter_or_bool() {
    let src = interleaved();
    // Left values kept where the comparison holds (interpolated at right-only timestamps).
    assert_eq!(series(&src, "l > r")[0].1, pts(&[]));
    assert_eq!(
        series(&src, "r > l")[0].1,
        pts(&[(0, i(100)), (5, i(100)), (10, i(100))])
    );
    assert_eq!(
        series(&src, "a >= b")[0].1,
        pts(&[(0, i(0)), (1, i(1)), (2, i(1)), (3, i(0))])
    );
    assert_eq!(
        series(&src, "a < bool b")[0].1,
        pts(&[
            (0, u(0)),
            (1, u(0)),
            (2, u(0)),
            (3, u(0)),
            (4, u(1)),
            (5, u(1)),
            (6, u(1))
        ])
    );
    assert_eq!(
        series(&src, "l == bool r")[0].1,
        pts(&[(0, u(0)), (5, u(0)), (10, u(0))])
    );
}

#[test]
fn vector_matching() {
    let src = source(|s| {
        add(s, "used", &[("host", "a")], &[(1, i(3))]);
        add(s, "used", &[("host", "b")], &[(1, i(5))]);
        add(s, "used", &[("host", "c")], &[(1, i(7))]);
        add(s, "total", &[("host", "a")], &[(1, i(10))]);
        add(s, "total", &[("host", "b")], &[(1, i(20))]);
        add(s, "total", &[("host", "d")], &[(1, i(40))]);
        add(s, "scale", &[("unit", "x")], &[(1, i(2))]);
        add(s, "dup", &[("host", "a")], &[(1, i(1))]);
        add(s, "dup2", &[("host", "a")], &[(1, i(1))]);
        add(s, "one", &[("host", "a"), ("dc", "eu")], &[(1, i(1))]);
    });
    // One-to-one on labels without the metric name; unmatched series are dropped.
    assert_eq!(
        series(&src, "used / total"),
        vec![
            (r#"{host="a"}"#.to_string(), pts(&[(1, f(0.3))])),
            (r#"{host="b"}"#.to_string(), pts(&[(1, f(0.25))])),
        ]
    );
    // A lone series pairs with every series on the other side, taking their labels.
    assert_eq!(
        series(&src, "used * scale"),
        vec![
            (r#"{host="a"}"#.to_string(), pts(&[(1, i(6))])),
            (r#"{host="b"}"#.to_string(), pts(&[(1, i(10))])),
            (r#"{host="c"}"#.to_string(), pts(&[(1, i(14))])),
        ]
    );
    assert_eq!(
        series(&src, "scale - used")[2],
        (r#"{host="c"}"#.to_string(), pts(&[(1, i(-5))]))
    );
    // One against one pairs whatever the labels: the larger set when one contains the other,
    // the common labels otherwise.
    assert_eq!(
        series(&src, r#"used{host="a"} + one"#)[0].0,
        r#"{dc="eu",host="a"}"#
    );
    assert_eq!(
        series(&src, r#"used{host="a"} - used{host="b"}"#)[0],
        (String::new(), pts(&[(1, i(-2))]))
    );
    // Several series with the same labels on one side: ambiguous.
    assert!(matches!(
        error(&src, r#"{__name__=~"dup|dup2|used"} + total"#),
        TqlError::InvalidArgument(_)
    ));
}

#[test]
fn vector_scalar_operand_order_and_types() {
    let src = source(|s| {
        add(s, "x", &[("k", "v")], &[(1, i(10)), (2, i(-4)), (3, i(7))]);
        add(s, "ux", &[], &[(1, u(5)), (2, u(0))]);
        add(s, "fx", &[], &[(1, f(0.5)), (2, f(-1.5))]);
    });
    assert_eq!(
        series(&src, "x - 2")[0].1,
        pts(&[(1, i(8)), (2, i(-6)), (3, i(5))])
    );
    assert_eq!(
        series(&src, "2 - x")[0].1,
        pts(&[(1, i(-8)), (2, i(6)), (3, i(-5))])
    );
    assert_eq!(
        series(&src, "x / 4")[0].1,
        pts(&[(1, f(2.5)), (2, f(-1.0)), (3, f(1.75))])
    );
    assert_eq!(
        series(&src, "20 / x")[0].1,
        pts(&[(1, f(2.0)), (2, f(-5.0)), (3, f(20.0 / 7.0))])
    );
    assert_eq!(
        series(&src, "x % 3")[0].1,
        pts(&[(1, i(1)), (2, i(-1)), (3, i(1))])
    );
    assert_eq!(
        series(&src, "x ^ 2")[0].1,
        pts(&[(1, f(100.0)), (2, f(16.0)), (3, f(49.0))])
    );
    assert_eq!(
        series(&src, "-x")[0].1,
        pts(&[(1, i(-10)), (2, i(4)), (3, i(-7))])
    );
    assert_eq!(series(&src, "-x")[0].0, r#"{k="v"}"#);
    // u64 ∘ i64 literal is i64; u64 - is i64; u64 + u64 stays u64.
    assert_eq!(series(&src, "ux + 1")[0].1, pts(&[(1, i(6)), (2, i(1))]));
    assert_eq!(series(&src, "ux * ux")[0].1, pts(&[(1, u(25)), (2, u(0))]));
    assert_eq!(series(&src, "ux - ux")[0].1, pts(&[(1, i(0)), (2, i(0))]));
    assert_eq!(series(&src, "-ux")[0].1, pts(&[(1, i(-5)), (2, i(0))]));
    assert_eq!(
        series(&src, "fx * 2")[0].1,
        pts(&[(1, f(1.0)), (2, f(-3.0))])
    );
    assert_eq!(
        series(&src, "1 - fx")[0].1,
        pts(&[(1, f(0.5)), (2, f(2.5))])
    );
    assert_eq!(
        series(&src, "fx % 1")[0].1,
        pts(&[(1, f(0.5)), (2, f(-0.5))])
    );
    // Errors surface while reading.
    assert_eq!(error(&src, "x % 0"), TqlError::DivisionByZero);
    assert_eq!(error(&src, "10 % ux"), TqlError::DivisionByZero);
    assert_eq!(error(&src, "x * 9223372036854775807"), TqlError::Overflow);
    assert_eq!(
        error(&src, "x - 9223372036854775807 - 9223372036854775807"),
        TqlError::Overflow
    );
    // Arithmetic drops the metric name.
    assert_eq!(series(&src, "x + 0")[0].0, r#"{k="v"}"#);
    // A scalar with no value gives no points.
    assert_eq!(
        series_of(&run_range(&src, "x + sum(x)", Some(3), Some(3)).unwrap())[0].1,
        pts(&[(3, i(14))])
    );
    assert_eq!(
        series_of(&run_range(&src, "fx + sum(ux)", Some(3), Some(3)).unwrap())[0].1,
        pts(&[])
    );
}

#[test]
fn vector_scalar_comparisons_filter_or_bool() {
    let src = source(|s| {
        add(s, "x", &[("k", "v")], &[(1, i(10)), (2, i(-4)), (3, i(7))]);
        add(s, "fx", &[], &[(1, f(f64::NAN)), (2, f(2.0))]);
    });
    // Filters keep the vector's values and labels (metric included, as in PromQL).
    assert_eq!(
        series(&src, "x > 5"),
        vec![(r#"x{k="v"}"#.to_string(), pts(&[(1, i(10)), (3, i(7))]))]
    );
    assert_eq!(series(&src, "5 < x")[0].1, pts(&[(1, i(10)), (3, i(7))]));
    assert_eq!(series(&src, "5 > x")[0].1, pts(&[(2, i(-4))]));
    assert_eq!(series(&src, "x == 7")[0].1, pts(&[(3, i(7))]));
    assert_eq!(series(&src, "x != 7")[0].1, pts(&[(1, i(10)), (2, i(-4))]));
    assert_eq!(series(&src, "x <= -4")[0].1, pts(&[(2, i(-4))]));
    assert_eq!(series(&src, "x >= 7.5")[0].1, pts(&[(1, i(10))]));
    // With bool: 1/0 for every point, u64, without the metric name.
    assert_eq!(
        series(&src, "x > bool 5"),
        vec![(
            r#"{k="v"}"#.to_string(),
            pts(&[(1, u(1)), (2, u(0)), (3, u(1))])
        )]
    );
    assert_eq!(
        series(&src, "5 > bool x")[0].1,
        pts(&[(1, u(0)), (2, u(1)), (3, u(0))])
    );
    // NaN compares false (except !=).
    assert_eq!(series(&src, "fx > 0")[0].1, pts(&[(2, f(2.0))]));
    assert_eq!(series(&src, "fx != 2")[0].1.len(), 1);
    // Filtered vectors aggregate.
    assert_eq!(scalar(&src, "sum(x > 0)"), Some(i(17)));
    assert_eq!(scalar(&src, "count(x > bool 0)"), Some(u(3)));
}

#[test]
fn series_starting_and_ending_at_different_times() {
    let src = source(|s| {
        add(s, "early", &[], &[(0, i(0)), (10, i(10)), (20, i(20))]);
        add(
            s,
            "late",
            &[],
            &[(15, i(1000)), (25, i(2000)), (35, i(3000))],
        );
    });
    // early holds 20 after 20; late holds 1000 before 15; 10→20 interpolates at 15 to 15;
    // 1000→2000 at 20 is 1500.
    assert_eq!(
        series(&src, "early + late")[0].1,
        pts(&[
            (0, i(1000)),
            (10, i(1010)),
            (15, i(1015)),
            (20, i(1520)),
            (25, i(2020)),
            (35, i(3020)),
        ])
    );
    // Restricted windows interpolate only from points inside them.
    let r = series_of(&run_range(&src, "early + late", Some(12), Some(30)).unwrap());
    assert_eq!(r[0].1, pts(&[(15, i(1020)), (20, i(1520)), (25, i(2020))]));
}

#[test]
fn topk_and_bottomk() {
    let src = source(|s| {
        add(
            s,
            "x",
            &[("k", "a")],
            &[(1, i(5)), (2, i(9)), (3, i(1)), (4, i(9))],
        );
        add(s, "x", &[("k", "b")], &[(1, i(9)), (2, i(3)), (5, i(7))]);
        add(
            s,
            "fl",
            &[],
            &[
                (1, f(f64::NAN)),
                (2, f(1.0)),
                (3, f(-1.0)),
                (4, f(f64::NAN)),
            ],
        );
    });
    let source: Arc<dyn SeriesSource> = src.clone();
    let points = |q: &str| -> Vec<(usize, i64, Value)> {
        let mut exec = execute(q, None, None, source.clone()).unwrap();
        let mut out = Vec::new();
        while let Some(p) = exec.next_point().unwrap() {
            out.push(p);
        }
        out
    };
    // Value order, ties to the earlier timestamp, then the lower series.
    assert_eq!(
        points("topk(3, x)"),
        vec![(1, 1, i(9)), (0, 2, i(9)), (0, 4, i(9))]
    );
    assert_eq!(points("topk(4, x)")[3], (1, 5, i(7)));
    assert_eq!(points("bottomk(2, x)"), vec![(0, 3, i(1)), (1, 2, i(3))]);
    assert_eq!(points("topk(0, x)"), vec![]);
    assert_eq!(points("topk(100, x)").len(), 7);
    assert_eq!(points("topk(2.0, x)").len(), 2);
    assert_eq!(points("topk(1 + 1, x)").len(), 2);
    assert_eq!(points("topk(count(fl) - 2, x)").len(), 2);
    // NaN sorts last for both.
    let nan_last = |p: &Vec<(usize, i64, Value)>| p.iter().map(|x| x.1).collect::<Vec<_>>();
    assert_eq!(nan_last(&points("topk(4, fl)")), vec![2, 3, 1, 4]);
    assert_eq!(nan_last(&points("bottomk(3, fl)")), vec![3, 2, 1]);
    // Labels through the series index.
    let exec = execute("topk(1, x)", None, None, source.clone()).unwrap();
    assert_eq!(exec.series_count(), 2);
    assert_eq!(exec.labels(1).to_string(), r#"x{k="b"}"#);
    // collect: series in order of their first point, points in time order.
    assert_eq!(
        series(&src, "topk(3, x)"),
        vec![
            (r#"x{k="b"}"#.to_string(), pts(&[(1, i(9))])),
            (r#"x{k="a"}"#.to_string(), pts(&[(2, i(9)), (4, i(9))])),
        ]
    );
    // k must be a whole scalar ≥ 0.
    assert!(matches!(
        error(&src, "topk(-1, x)"),
        TqlError::InvalidArgument(_)
    ));
    assert!(matches!(
        error(&src, "topk(1.5, x)"),
        TqlError::InvalidArgument(_)
    ));
    assert!(matches!(
        error(&src, "topk(NaN, x)"),
        TqlError::InvalidArgument(_)
    ));
    assert!(matches!(
        error(&src, "topk(sum by (k) (x), x)"),
        TqlError::InvalidArgument(_)
    ));
    assert!(matches!(
        run_range(&src, "topk(sum(x), x)", Some(100), None),
        Err(TqlError::InvalidArgument(_))
    ));
    // by: k per group, group by group.
    assert_eq!(
        points("bottomk by (k) (1, x)"),
        vec![(0, 3, i(1)), (1, 2, i(3))]
    );
    // [P]: k per bucket, buckets in time order: (0,2], (2,4], (4,6].
    assert_eq!(
        points("topk(1, x)[2ms]"),
        vec![(1, 1, i(9)), (0, 4, i(9)), (1, 5, i(7))]
    );
    assert_eq!(
        points("bottomk(2, x)[2ms]"),
        vec![
            (1, 2, i(3)),
            (0, 1, i(5)),
            (0, 3, i(1)),
            (0, 4, i(9)),
            (1, 5, i(7))
        ]
    );
    // As a vector inside other expressions: per series, in time order.
    assert_eq!(scalar(&src, "sum(topk(2, x))"), Some(i(18)));
    assert_eq!(
        series(&src, "topk(2, x) * 10"),
        vec![
            (r#"{k="a"}"#.to_string(), pts(&[(2, i(90))])),
            (r#"{k="b"}"#.to_string(), pts(&[(1, i(90))])),
        ]
    );
}

#[test]
fn next_batch_and_mixed_reading() {
    let mut s = MemorySource::new().with_chunk_size(3);
    add(
        &mut s,
        "x",
        &[("k", "a")],
        &(0..10).map(|t| (t, i(t))).collect::<Vec<_>>(),
    );
    add(
        &mut s,
        "x",
        &[("k", "b")],
        &(0..4).map(|t| (t, f(t as f64))).collect::<Vec<_>>(),
    );
    let src = Arc::new(s);
    let source: Arc<dyn SeriesSource> = src.clone();
    let mut exec = execute("x", None, None, source.clone()).unwrap();
    let mut seen = Vec::new();
    while let Some(b) = exec.next_batch().unwrap() {
        seen.push((b.series, b.timestamps.to_vec(), b.values.len()));
    }
    assert_eq!(
        seen,
        vec![
            (0, vec![0, 1, 2], 3),
            (0, vec![3, 4, 5], 3),
            (0, vec![6, 7, 8], 3),
            (0, vec![9], 1),
            (1, vec![0, 1, 2], 3),
            (1, vec![3], 1),
        ]
    );
    // Reading part with next_point, then collect the rest.
    let mut exec = execute("x", None, None, source.clone()).unwrap();
    for _ in 0..4 {
        exec.next_point().unwrap();
    }
    let rest = series_of(&exec.collect().unwrap());
    assert_eq!(rest.len(), 2);
    assert_eq!(rest[0].1.first(), Some(&(4, i(4))));
    assert_eq!(rest[0].1.len(), 6);
    assert_eq!(rest[1].1.len(), 4);
    // A scalar query has no points or batches.
    let mut exec = execute("sum(x)", None, None, source).unwrap();
    assert!(exec.next_batch().unwrap().is_none());
    assert_eq!(
        exec.collect().unwrap(),
        QueryResult::Scalars(vec![(Default::default(), f(45.0 + 6.0))])
    );
}

/// A source whose cursors fail, to check that storage errors surface and nothing panics.
struct Failing;

impl SeriesSource for Failing {
    fn streams(&self) -> Result<Vec<crate::tql::StreamInfo>, TqlError> {
        Ok(vec![crate::tql::StreamInfo {
            id: 1,
            labels: labels("x", &[]),
            value_type: crate::series::types::ValueType::Integer64,
        }])
    }

    fn chunks(
        &self,
        _id: u64,
        _start: i64,
        _end: i64,
    ) -> Result<Box<dyn crate::tql::ChunkCursor + Send>, TqlError> {
        Err(TqlError::Source("disk on fire".into()))
    }

    fn now(&self) -> i64 {
        0
    }

    fn units_per_second(&self) -> i64 {
        1000
    }
}

#[test]
fn storage_errors_surface() {
    let source: Arc<dyn SeriesSource> = Arc::new(Failing);
    for q in ["x", "sum(x)", "x + x", "sum(x)[1s]", "topk(1, x)", "x * 2"] {
        let mut exec = execute(q, None, None, source.clone()).unwrap();
        let first = if exec.is_scalar() {
            exec.next_scalar().map(|_| ())
        } else {
            exec.next_point().map(|_| ())
        };
        assert_eq!(first, Err(TqlError::Source("disk on fire".into())), "{q}");
        assert_eq!(first.unwrap_err().code(), "source");
        // After an error the execution is finished.
        assert_eq!(exec.next_point(), Ok(None));
    }
}

#[test]
fn bad_units_are_reported() {
    let mut s = MemorySource::new().with_units_per_second(0);
    add(&mut s, "x", &[], &[(1, i(1))]);
    let src = Arc::new(s);
    assert!(matches!(error(&src, "x[1s]"), TqlError::InvalidArgument(_)));
    // Nanoseconds: 1y fits, 300y doesn't.
    let mut s = MemorySource::new().with_units_per_second(1_000_000_000);
    add(&mut s, "x", &[], &[(1, i(1))]);
    let src = Arc::new(s);
    assert!(run_range(&src, "sum(x)[1y]", None, None).is_ok());
    assert!(matches!(
        error(&src, "sum(x)[300y]"),
        TqlError::InvalidArgument(_)
    ));
}

#[test]
fn extreme_timestamps_do_not_panic() {
    let src = source(|s| {
        add(
            s,
            "x",
            &[],
            &[(i64::MIN, i(1)), (0, i(2)), (i64::MAX, i(3))],
        )
    });
    assert_eq!(series(&src, "x")[0].1.len(), 3);
    assert_eq!(error(&src, "sum(x)[2ms]"), TqlError::Overflow);
    assert_eq!(series(&src, "x + x")[0].1.len(), 3);
    assert_eq!(series(&src, "x[1y]")[0].1, pts(&[(0, i(2))]));
    let r = run_range(&src, "x[1y]", None, Some(i64::MIN));
    assert_eq!(series_of(&r.unwrap())[0].1, pts(&[(i64::MIN, i(1))]));
}

#[test]
fn execution_is_send() {
    fn assert_send<T: Send>() {}
    assert_send::<crate::tql::Execution>();
    assert_send::<crate::tql::TqlError>();
}

#[test]
fn execute_a_parsed_expression() {
    let src = source(|s| add(s, "x", &[], &[(1, i(2)), (2, i(3))]));
    let expr = crate::tql::parse("sum(x) * 2").unwrap();
    let source: Arc<dyn SeriesSource> = src.clone();
    let r = crate::tql::execute_expr(&expr, None, None, source)
        .unwrap()
        .collect()
        .unwrap();
    assert_eq!(super::scalars_of(&r), vec![(String::new(), i(10))]);
}
