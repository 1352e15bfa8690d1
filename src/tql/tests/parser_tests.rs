use crate::series::types::Value;
use crate::tql::TqlError;
use crate::tql::ast::*;
use crate::tql::parse;

fn canon(q: &str) -> String {
    match parse(q) {
        Ok(e) => e.to_string(),
        Err(e) => panic!("{q}: {e}"),
    }
}

fn same(a: &str, b: &str) {
    assert_eq!(
        parse(a).unwrap().without_spans(),
        parse(b).unwrap().without_spans(),
        "{a} vs {b}"
    );
}

fn err(q: &str) -> (usize, usize, String, String) {
    match parse(q) {
        Err(TqlError::Syntax {
            line,
            column,
            expected,
            found,
            ..
        }) => (line, column, expected, found),
        other => panic!("{q}: expected a syntax error, got {other:?}"),
    }
}

#[test]
fn selectors() {
    let e =
        parse(r#"http_requests{job="api", code!="500", path=~"/a.*", method!~'GET|PUT'}"#).unwrap();
    let ExprKind::Selector(s) = &e.kind else {
        panic!()
    };
    assert_eq!(s.metric.as_deref(), Some("http_requests"));
    let ms: Vec<(&str, MatchOp, &str)> = s
        .matchers
        .iter()
        .map(|m| (m.name.as_str(), m.op, m.value.as_str()))
        .collect();
    assert_eq!(
        ms,
        vec![
            ("job", MatchOp::Equal, "api"),
            ("code", MatchOp::NotEqual, "500"),
            ("path", MatchOp::RegexMatch, "/a.*"),
            ("method", MatchOp::RegexNoMatch, "GET|PUT"),
        ]
    );
    assert_eq!(s.range, None);
    assert_eq!(e.span, Span::new(0, 70));
    assert_eq!(s.matchers[0].span, Span::new(14, 23));

    let e = parse("x[1h30m]").unwrap();
    let ExprKind::Selector(s) = &e.kind else {
        panic!()
    };
    assert_eq!(s.range, Some(Duration { millis: 5_400_000 }));
    assert_eq!(e.span, Span::new(0, 8));

    assert_eq!(canon("x{}"), "x");
    assert_eq!(canon(r#"{job="a"}"#), r#"{job="a"}"#);
    assert_eq!(canon(r#"x{a="1",}"#), r#"x{a="1"}"#);
    // Keywords are fine as label names.
    assert_eq!(canon(r#"x{by="1", sum='2'}"#), r#"x{by="1", sum="2"}"#);
    assert_eq!(canon("latency:rate5m.p99"), "latency:rate5m.p99");
}

#[test]
fn numbers_and_unary() {
    let e = parse("-3").unwrap();
    assert_eq!(
        e.without_spans().kind,
        ExprKind::Neg(Box::new(Expr {
            kind: ExprKind::Number(Value::Integer64(3)),
            span: Span::default()
        }))
    );
    assert_eq!(canon("+3"), "3");
    assert_eq!(canon("- - x"), "- -x");
    assert_eq!(canon("2.0"), "2.0");
    assert_eq!(canon("1e300"), "1e300");
    assert_eq!(canon("inf + NaN"), "Inf + NaN");
    assert!(
        matches!(parse("Inf").unwrap().kind, ExprKind::Number(Value::Float64(f)) if f.is_infinite())
    );
}

#[test]
fn precedence_and_associativity() {
    same("1 + 2 * 3", "1 + (2 * 3)");
    same("1 * 2 + 3", "(1 * 2) + 3");
    same("1 - 2 - 3", "(1 - 2) - 3");
    same("2 ^ 3 ^ 2", "2 ^ (3 ^ 2)");
    same("-2 ^ 2", "-(2 ^ 2)");
    same("2 ^ -1", "2 ^ (-1)");
    same("-a * b", "(-a) * b");
    same("a + b > c * d", "(a + b) > (c * d)");
    same("a > b == c", "(a > b) == c");
    same("a % b / c", "(a % b) / c");
    assert_eq!(canon("(1 + 2) * 3"), "(1 + 2) * 3");
    assert_eq!(canon("1 - (2 - 3)"), "1 - (2 - 3)");
    assert_eq!(canon("(2 ^ 3) ^ 2"), "(2 ^ 3) ^ 2");
    assert_eq!(canon("(-2) ^ 2"), "(-2) ^ 2");
    assert_eq!(canon("-(a + b)"), "-(a + b)");
    assert_eq!(canon("((x))"), "x");
}

#[test]
fn comparisons_and_bool() {
    let e = parse("x > bool 3").unwrap();
    let ExprKind::Binary(b) = &e.kind else {
        panic!()
    };
    assert!(b.return_bool);
    assert_eq!(b.op, BinaryOp::Gt);
    assert_eq!(canon("x >= BOOL 3"), "x >= bool 3");
    for op in ["==", "!=", "<", ">", "<=", ">="] {
        assert_eq!(canon(&format!("a {op} b")), format!("a {op} b"));
    }
    let (_, col, expected, _) = err("x + bool 3");
    assert_eq!(col, 5);
    assert!(expected.contains("bool"), "{expected}");
}

#[test]
fn aggregations() {
    let e = parse("sum by (a, b) (x)").unwrap();
    let ExprKind::Aggregate(a) = &e.kind else {
        panic!()
    };
    assert_eq!(a.func, AggFunc::Sum);
    assert_eq!(a.grouping, Some(Grouping::By(vec!["a".into(), "b".into()])));
    assert_eq!(a.period, None);
    same("sum by (a, b) (x)", "sum(x) by (a, b)");
    same("SUM BY (a) (x)", "sum(x) by (a)");
    same("avg without (a) (x)", "avg(x) without (a)");
    same("count(x) BY ()", "count by () (x)");
    assert_eq!(canon("max(x)[10m]"), "max(x)[10m]");
    assert_eq!(canon("min(x) by (a,)[1h]"), "min by (a) (x)[1h]");
    assert_eq!(canon("topk(3, x)"), "topk(3, x)");
    assert_eq!(
        canon("bottomk by (a) (2 + 1, x)[5m]"),
        "bottomk by (a) (2 + 1, x)[5m]"
    );
    assert_eq!(canon("topk(sum(y), x)"), "topk(sum(y), x)");
    assert_eq!(canon("sum(x[5m])"), "sum(x[5m])");
    assert_eq!(canon("sum(sum(x)[1h])"), "sum(sum(x)[1h])");
    assert_eq!(canon("sum(x) / count(x)"), "sum(x) / count(x)");
    assert_eq!(canon("sum(-x * 2)"), "sum(-x * 2)");
    let e = parse("sum(x)[1h] + 1").unwrap();
    assert_eq!(e.span, Span::new(0, 14));
    assert!(!e.is_scalar());
    assert!(parse("sum(x) by (a) + 1").unwrap().is_scalar());
    assert!(!parse("topk(1, x)").unwrap().is_scalar());
}

#[test]
fn aggregation_errors() {
    assert_eq!(
        err("sum(3)"),
        (
            1,
            5,
            "a vector expression as the argument of sum".into(),
            "a scalar expression".into()
        )
    );
    assert_eq!(
        err("topk(x, x)"),
        (
            1,
            6,
            "a scalar k for topk".into(),
            "a vector expression".into()
        )
    );
    let (_, col, expected, found) = err("topk(x)");
    assert_eq!((col, found.as_str()), (7, "')'"));
    assert!(expected.starts_with("','"), "{expected}");
    assert_eq!(err("sum(x, y)"), (1, 6, "')'".into(), "','".into()));
    assert_eq!(
        err("sum x"),
        (
            1,
            5,
            "'(' or by/without after an aggregation".into(),
            "identifier 'x'".into()
        )
    );
    assert_eq!(err("sum by (a) (x) by (b)").1, 16);
    assert_eq!(
        err("sum by a (x)"),
        (1, 8, "'(' after by/without".into(), "identifier 'a'".into())
    );
    assert_eq!(err("sum(x)[0s]").1, 8);
    assert_eq!(
        err("sum(x)[5]"),
        (
            1,
            8,
            "a duration such as 5m or 1h30m".into(),
            "number 5".into()
        )
    );
    assert_eq!(err("(x)[5m]").1, 4);
}

#[test]
fn error_positions() {
    assert_eq!(err("sum(x"), (1, 6, "')'".into(), "end of query".into()));
    // End of query is reported right after the last token, even with trailing lines.
    assert_eq!(
        err("sum(\n  x   \n\n # comment\n"),
        (2, 4, "')'".into(), "end of query".into())
    );
    assert_eq!(
        err("x +\n  * 2"),
        (2, 3, "an expression".into(), "'*'".into())
    );
    assert_eq!(
        err("x{a=\"1\" b=\"2\"}"),
        (1, 9, "',' or '}'".into(), "identifier 'b'".into())
    );
    assert_eq!(
        err("x{a=1}"),
        (1, 5, "a quoted string".into(), "number 1".into())
    );
    assert_eq!(
        err("x{a}"),
        (
            1,
            4,
            "a label matcher operator ('=', '!=', '=~' or '!~')".into(),
            "'}'".into()
        )
    );
    assert_eq!(err("{}").1, 1);
    assert_eq!(
        err("x y"),
        (
            1,
            3,
            "an operator or end of query".into(),
            "identifier 'y'".into()
        )
    );
    assert_eq!(
        err(""),
        (1, 1, "an expression".into(), "end of query".into())
    );
    assert_eq!(err("x + \"s\"").1, 5);
    assert_eq!(err("x + 5m").1, 5);
    assert_eq!(
        err("by"),
        (1, 1, "an expression".into(), "identifier 'by'".into())
    );
    // Lexical errors come out at their own position.
    assert_eq!(
        err("x{a=\"\\q\"}"),
        (
            1,
            6,
            "an escape sequence (\\\\ \\\" \\' \\n \\t \\r \\uXXXX)".into(),
            "'\\q'".into()
        )
    );
    assert_eq!(err("sum(x)\n + é").2, "an expression or operator");
    assert_eq!(err("sum(x)\n + é").0, 2);
    assert_eq!(err("sum(x)\n + é").1, 4);
    assert_eq!(
        err("x{a=\"abc"),
        (1, 9, "closing \"".into(), "end of query".into())
    );
    assert_eq!(err("x[30m1h]").1, 6);
    // Columns count characters, not bytes.
    assert_eq!(err("x{a=\"é\"} +").1, 11);
}

#[test]
fn error_display_shows_line_and_caret() {
    let e = parse("sum(\n  rate + )").unwrap_err();
    assert_eq!(e.code(), "E6");
    assert_eq!(
        e.to_string(),
        "syntax error at line 2, column 10: expected an expression but found ')'\n    rate + )\n           ^"
    );
    let e = parse("sum(x").unwrap_err();
    assert_eq!(
        e.to_string(),
        "syntax error at line 1, column 6: expected ')' but found end of query\n  sum(x\n       ^"
    );
    let e = parse("\tx +").unwrap_err();
    assert_eq!(
        e.to_string(),
        "syntax error at line 1, column 5: expected an expression but found end of query\n  \tx +\n  \t   ^"
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = format!("{}x{}", "(".repeat(10_000), ")".repeat(10_000));
    assert!(matches!(parse(&deep), Err(TqlError::Syntax { .. })));
    let long = vec!["1"; 10_000].join(" + ");
    assert!(matches!(parse(&long), Err(TqlError::Syntax { .. })));
    let negs = format!("{}1", "-".repeat(10_000));
    assert!(matches!(parse(&negs), Err(TqlError::Syntax { .. })));
    let pows = vec!["2"; 10_000].join("^");
    assert!(matches!(parse(&pows), Err(TqlError::Syntax { .. })));
    let aggs = format!("{}x{}", "sum(sum(x)[1h] + ".repeat(200), ")".repeat(200));
    assert!(parse(&aggs).is_err());
    // Moderately deep is fine.
    let ok = format!("{}x{}", "(".repeat(50), ")".repeat(50));
    assert!(parse(&ok).is_ok());
    let ok = vec!["1"; 50].join(" + ");
    assert!(parse(&ok).is_ok());
}

#[test]
fn display_round_trips() {
    for q in [
        r#"a{b="c\"d\\e\nf", g!~"h|i"}[1y2w3d4h5m6s7ms] * -2.5e-3 ^ 2"#,
        "sum by (a) (x > bool 3)[10m] - avg(y) without (b)",
        "topk by (a) (2, -x)[1h] / bottomk(1, y)",
        "1 - (2 - (3 ^ 4) ^ 5) % 6 <= 7",
        "-(-(x))",
        "sum(x)",
        "{__name__=~\"a.*\"}",
        "18446744073709551615 - 9223372036854775808",
    ] {
        let e = parse(q).unwrap();
        let shown = e.to_string();
        let again = parse(&shown).unwrap_or_else(|err| panic!("{shown}: {err}"));
        assert_eq!(again.without_spans(), e.without_spans(), "{q} -> {shown}");
        assert_eq!(again.to_string(), shown);
    }
}

#[test]
fn multi_line_queries_with_comments() {
    let q = "# average latency per service\nAVG BY (service) (  # grouped\n\tlatency{env='prod'}[1H30M]\n)[10m] # per ten minutes\n";
    let e = parse(q);
    // Duration units are case-sensitive like PromQL's: `1H30M` is not a duration.
    assert!(e.is_err());
    let q = "# average latency per service\nAVG BY (service) (  # grouped\n\tlatency{env='prod'}[1h30m]\n)[10m] # per ten minutes\n";
    assert_eq!(
        canon(q),
        r#"avg by (service) (latency{env="prod"}[1h30m])[10m]"#
    );
    let e = parse(q).unwrap();
    assert_eq!(crate::tql::error::line_column(q, e.span.start), (2, 1));
    assert_eq!(crate::tql::error::line_column(q, e.span.end), (4, 7));
    let ExprKind::Aggregate(a) = &e.kind else {
        panic!()
    };
    assert_eq!(crate::tql::error::line_column(q, a.expr.span.start), (3, 2));
}

#[test]
fn keywords_are_case_insensitive_and_reserved() {
    same("TopK(1, x)", "topk(1, x)");
    same("BottomK WITHOUT (a) (1, x)", "bottomk without (a) (1, x)");
    same("x != BOOL y", "x != bool y");
    same("min(x) Without (a)", "min without (a) (x)");
    // Aggregation names are not metric names; {__name__="..."} selects such a metric.
    assert!(parse("count").is_err());
    assert!(parse("max + 1").is_err());
    assert_eq!(canon(r#"{__name__="count"}"#), r#"{__name__="count"}"#);
}

#[test]
fn error_values_and_codes() {
    use crate::tql::TqlError;
    assert_eq!(TqlError::Overflow.code(), "overflow");
    assert_eq!(TqlError::DivisionByZero.code(), "division_by_zero");
    assert_eq!(
        TqlError::InvalidArgument("x".into()).code(),
        "invalid_argument"
    );
    assert_eq!(TqlError::Source("x".into()).code(), "source");
    assert_eq!(
        TqlError::NoMatchingStream {
            selector: "a".into()
        }
        .code(),
        "E3"
    );
    assert_eq!(
        TqlError::NoMatchingStream {
            selector: r#"a{b="c"}"#.into()
        }
        .to_string(),
        r#"no stream matches the selector a{b="c"}"#
    );
    let boxed: Box<dyn std::error::Error> = Box::new(TqlError::Overflow);
    assert!(boxed.to_string().contains("overflow"));
}
