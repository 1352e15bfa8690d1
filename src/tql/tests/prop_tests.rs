//! Properties: nothing panics, summaries agree with decoded points, `Display` round-trips,
//! vector arithmetic agrees with a naive model.

use std::sync::{Arc, OnceLock};

use proptest::prelude::*;

use super::{f, i, run_range, scalars_of, series_of};
use crate::series::types::{Column, Value};
use crate::tql::memory::{MemorySource, labels};
use crate::tql::{SeriesSource, execute, parse};

/// Case count: `PROPTEST_CASES` when set (for long runs), else `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A small database the generated queries run against.
fn fixture() -> Arc<MemorySource> {
    static SRC: OnceLock<Arc<MemorySource>> = OnceLock::new();
    SRC.get_or_init(|| {
        let mut s = MemorySource::new().with_chunk_size(3).with_now(25);
        let ts: Vec<i64> = vec![-5, 0, 1, 3, 4, 8, 10, 11, 15, 20, 30];
        let ints: Vec<i64> = vec![7, -3, 0, 12, i64::MAX, -1, 5, i64::MIN, 2, 9, 4];
        s.add(
            labels("x", &[("k", "a"), ("j", "1")]),
            &ts,
            Column::Integer64(ints),
        )
        .unwrap();
        s.add(
            labels("x", &[("k", "b")]),
            &ts[2..],
            Column::Float64(vec![
                1.5,
                f64::NAN,
                -2.0,
                1e300,
                0.0,
                -0.0,
                f64::INFINITY,
                3.25,
                8.0,
            ]),
        )
        .unwrap();
        s.add(
            labels("y", &[("k", "a")]),
            &[2, 3, 9],
            Column::UInteger64(vec![0, u64::MAX, 5]),
        )
        .unwrap();
        s.add(
            labels("y", &[("k", "c")]),
            &[1, 30],
            Column::Integer64(vec![4, -4]),
        )
        .unwrap();
        s.add(labels("z", &[]), &[], Column::Float64(vec![]))
            .unwrap();
        Arc::new(s)
    })
    .clone()
}

/// Runs a query to the end through every reading interface; must never panic.
fn exercise(q: &str, start: Option<i64>, end: Option<i64>) {
    let source: Arc<dyn SeriesSource> = fixture();
    if let Ok(mut exec) = execute(q, start, end, source.clone()) {
        let _ = exec.series_count();
        let _ = exec.labels(0);
        let _ = exec.labels(usize::MAX);
        if exec.is_scalar() {
            while let Ok(Some(_)) = exec.next_scalar() {}
        } else {
            for _ in 0..3 {
                if !matches!(exec.next_point(), Ok(Some(_))) {
                    break;
                }
            }
            while let Ok(Some(_)) = exec.next_batch() {}
        }
    }
    if let Ok(exec) = execute(q, start, end, source) {
        let _ = exec.collect();
    }
}

fn leaf() -> impl Strategy<Value = String> {
    let metric = prop::sample::select(vec![
        "x",
        "x",
        "y",
        "y",
        "z",
        "w",
        "X",
        "sum",
        "{k=\"a\"}",
        "{__name__=~\"x|y\"}",
    ]);
    let matcher = prop::sample::select(vec![
        "",
        "{k=\"a\"}",
        "{k!=\"a\"}",
        "{k=~\"a|b\"}",
        "{k!~\".*\"}",
        "{j=\"\"}",
        "{k=~\"(\"}",
    ]);
    let range = prop::sample::select(vec!["", "[1ms]", "[5ms]", "[1s]", "[1h30m]", "[1y]"]);
    let selector = (metric, matcher, range).prop_map(|(m, l, r)| {
        if m.starts_with('{') {
            format!("{m}{r}")
        } else {
            format!("{m}{l}{r}")
        }
    });
    let number = prop::sample::select(vec![
        "0",
        "1",
        "2",
        "3",
        "0.5",
        "1e3",
        "NaN",
        "Inf",
        "9223372036854775807",
        "18446744073709551615",
    ])
    .prop_map(str::to_string);
    prop_oneof![3 => selector, 2 => number]
}

fn query() -> impl Strategy<Value = String> {
    leaf().prop_recursive(4, 24, 3, |inner| {
        let op = prop::sample::select(vec![
            "+", "-", "*", "/", "%", "^", "==", "!=", "<", ">", "<=", ">=", "> bool", "== bool",
        ]);
        let func = prop::sample::select(vec!["sum", "count", "avg", "min", "max", "SUM", "Max"]);
        let grouping = prop::sample::select(vec![
            "",
            " by (k)",
            " without (k)",
            " by ()",
            " by (__name__)",
        ]);
        let period = prop::sample::select(vec!["", "[1ms]", "[3ms]", "[10ms]", "[1d]"]);
        let topk = prop::sample::select(vec!["topk", "bottomk"]);
        let k = prop::sample::select(vec!["0", "1", "2", "5", "1.5", "-1", "count(x)"])
            .prop_map(str::to_string);
        prop_oneof![
            (inner.clone(), op, inner.clone()).prop_map(|(a, o, b)| format!("{a} {o} {b}")),
            (
                inner.clone(),
                prop::sample::select(vec!["+", "*", "-"]),
                inner.clone()
            )
                .prop_map(|(a, o, b)| format!("({a}) {o} ({b})")),
            inner.clone().prop_map(|a| format!("-{a}")),
            inner.clone().prop_map(|a| format!("-({a})")),
            (
                func.clone(),
                grouping.clone(),
                inner.clone(),
                period.clone()
            )
                .prop_map(|(fun, g, a, p)| format!("{fun}{g} ({a}){p}")),
            (func, inner.clone(), grouping.clone())
                .prop_map(|(fun, a, g)| format!("{fun}({a}){g}")),
            (
                topk,
                grouping,
                prop_oneof![3 => k, 1 => inner.clone()],
                inner,
                period
            )
                .prop_map(|(t, g, k, a, p)| format!("{t}{g}({k}, {a}){p}")),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(512), .. ProptestConfig::default() })]

    #[test]
    fn random_strings_never_panic(q in "[a-z(){}\\[\\],=!~+\\-*/%^<>\"' 0-9.#\n\\\\_:]{0,40}") {
        let _ = parse(&q).map(|e| e.to_string());
        exercise(&q, None, None);
    }

    #[test]
    fn arbitrary_unicode_never_panics(q in any::<String>()) {
        let _ = parse(&q);
        exercise(&q, Some(0), Some(10));
    }

    #[test]
    fn grammar_queries_never_panic_and_round_trip(
        q in query(),
        start in prop::option::of(-10i64..20),
        end in prop::option::of(0i64..40),
    ) {
        exercise(&q, start, end);
        if let Ok(e) = parse(&q) {
            let shown = e.to_string();
            let again = parse(&shown);
            prop_assert!(again.is_ok(), "{} -> {}: {:?}", q, shown, again);
            let again = again.unwrap();
            // NaN != NaN, so compare the canonical texts, which are equal iff the trees are.
            prop_assert_eq!(again.to_string(), shown.clone());
            if !shown.contains("NaN") {
                prop_assert_eq!(again.without_spans(), e.without_spans());
            }
        }
    }
}

/// Integer and float data where float sums are exact (multiples of 0.5, small).
fn data() -> impl Strategy<Value = (Vec<i64>, Vec<i64>, Vec<f64>)> {
    (1usize..60).prop_flat_map(|n| {
        (
            -200i64..0,
            prop::collection::vec(1i64..12, n),
            prop::collection::vec(-1_000_000i64..1_000_000, n),
            prop::collection::vec((-1000i32..1000).prop_map(|v| v as f64 / 2.0), n),
        )
            .prop_map(|(first, gaps, ints, floats)| {
                let ts = gaps
                    .iter()
                    .scan(first, |t, g| {
                        *t += g;
                        Some(*t)
                    })
                    .collect();
                (ts, ints, floats)
            })
    })
}

fn naive(func: &str, values: &[f64]) -> Option<f64> {
    if func == "count" {
        return Some(values.len() as f64);
    }
    if values.is_empty() {
        return None;
    }
    Some(match func {
        "sum" => values.iter().sum(),
        "avg" => values.iter().sum::<f64>() / values.len() as f64,
        "min" => values.iter().copied().fold(f64::INFINITY, f64::min),
        "max" => values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        _ => unreachable!(),
    })
}

fn as_f64(v: Value) -> f64 {
    v.as_f64()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(256), .. ProptestConfig::default() })]

    #[test]
    fn summaries_agree_with_decoded_points(
        (ts, ints, floats) in data(),
        chunk in 1usize..12,
        start in prop::option::of(-250i64..250),
        end in prop::option::of(-250i64..250),
        period in 1i64..40,
        func in prop::sample::select(vec!["sum", "count", "avg", "min", "max"]),
        float in any::<bool>(),
    ) {
        let mut s = MemorySource::new().with_chunk_size(chunk);
        let col = if float { Column::Float64(floats.clone()) } else { Column::Integer64(ints.clone()) };
        s.add(labels("m", &[]), &ts, col).unwrap();
        let src = Arc::new(s);
        let value = |k: usize| if float { floats[k] } else { ints[k] as f64 };
        let lo = start.unwrap_or(i64::MIN);
        let hi = end.unwrap_or(i64::MAX);
        let inside: Vec<usize> = (0..ts.len()).filter(|&k| ts[k] >= lo && ts[k] <= hi).collect();

        // Over the whole window.
        let got = scalars_of(&run_range(&src, &format!("{func}(m)"), start, end).unwrap());
        let want = naive(func, &inside.iter().map(|&k| value(k)).collect::<Vec<_>>());
        prop_assert_eq!(got.first().map(|g| as_f64(g.1)), want);
        if let Some((_, v)) = got.first() {
            let expected_type = match (func, float) {
                ("count", _) => crate::series::types::ValueType::UInteger64,
                ("avg", _) | (_, true) => crate::series::types::ValueType::Float64,
                _ => crate::series::types::ValueType::Integer64,
            };
            prop_assert_eq!(v.value_type(), expected_type);
        }

        // Per sub-period.
        let got = series_of(&run_range(&src, &format!("{func}(m)[{period}ms]"), start, end).unwrap());
        let mut want: Vec<(i64, f64)> = Vec::new();
        let mut bucket: Vec<f64> = Vec::new();
        let mut current = None;
        for &k in &inside {
            let n = ts[k].div_euclid(period) + i64::from(ts[k].rem_euclid(period) != 0);
            if current.is_some_and(|c| c != n) {
                want.push((current.unwrap() * period, naive(func, &bucket).unwrap()));
                bucket.clear();
            }
            current = Some(n);
            bucket.push(value(k));
        }
        if let Some(c) = current {
            want.push((c * period, naive(func, &bucket).unwrap()));
        }
        let got: Vec<(i64, f64)> = got[0].1.iter().map(|&(t, v)| (t, as_f64(v))).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn vector_arithmetic_matches_a_naive_model(
        a in prop::collection::btree_map(-50i64..50, (-100i32..100).prop_map(|v| v as f64 / 4.0), 1..20),
        b in prop::collection::btree_map(-50i64..50, (-100i32..100).prop_map(|v| v as f64 / 4.0), 1..20),
        chunk in 1usize..6,
    ) {
        let mut s = MemorySource::new().with_chunk_size(chunk);
        let a: Vec<(i64, f64)> = a.into_iter().collect();
        let b: Vec<(i64, f64)> = b.into_iter().collect();
        s.add_points(labels("a", &[]), &a).unwrap();
        s.add_points(labels("b", &[]), &b).unwrap();
        let src = Arc::new(s);
        // The naive model: the value of a series at t by holding / interpolating.
        let at = |p: &[(i64, f64)], t: i64| -> f64 {
            if let Some(&(_, v)) = p.iter().find(|q| q.0 == t) {
                return v;
            }
            match (p.iter().rev().find(|q| q.0 < t), p.iter().find(|q| q.0 > t)) {
                (Some(&(t0, v0)), Some(&(t1, v1))) => v0 + (v1 - v0) * ((t - t0) as f64 / (t1 - t0) as f64),
                (None, Some(&(_, v1))) => v1,
                (Some(&(_, v0)), None) => v0,
                (None, None) => unreachable!(),
            }
        };
        let mut times: Vec<i64> = a.iter().chain(&b).map(|p| p.0).collect();
        times.sort_unstable();
        times.dedup();
        let got = series_of(&run_range(&src, "a - b", None, None).unwrap());
        let want: Vec<(i64, Value)> = times.iter().map(|&t| (t, f(at(&a, t) - at(&b, t)))).collect();
        prop_assert_eq!(&got[0].1, &want);
        let got = series_of(&run_range(&src, "a > b", None, None).unwrap());
        let want: Vec<(i64, Value)> = times
            .iter()
            .filter(|&&t| at(&a, t) > at(&b, t))
            .map(|&t| (t, f(at(&a, t))))
            .collect();
        prop_assert_eq!(&got[0].1, &want);
    }

    #[test]
    fn integer_interpolation_rounds_half_away_from_zero(
        v0 in -1000i64..1000, v1 in -1000i64..1000, gap in 1i64..10, off in 0i64..10,
    ) {
        let off = off % gap;
        let mut s = MemorySource::new();
        s.add_points(labels("a", &[]), &[(0, v0), (gap, v1)]).unwrap();
        s.add_points(labels("b", &[]), &[(off, 0i64)]).unwrap();
        let src = Arc::new(s);
        let got = series_of(&run_range(&src, "a + b", None, None).unwrap());
        let exact = v0 as f64 + (v1 - v0) as f64 * off as f64 / gap as f64;
        let want = exact.round() as i64; // f64::round rounds half away from zero
        let at_off = got[0].1.iter().find(|p| p.0 == off).map(|p| p.1);
        prop_assert_eq!(at_off, Some(i(want)));
    }
}
