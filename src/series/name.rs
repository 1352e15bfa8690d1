//! Stream names: `metric` or `metric{label="value",...}`. A stream's identity is its full label
//! set, written canonically with labels sorted (the `Display` of [`Labels`]).

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::series::types::Labels;

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == ':'
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':'
}

/// Parses a stream name. Whitespace around tokens is allowed; values are single- or
/// double-quoted with backslash escapes; a label may appear only once.
pub fn parse_stream_name(input: &str) -> Result<Labels> {
    let bad = |what: &str| Error::invalid(format!("bad stream name {input:?}: {what}"));
    let mut chars = input.trim().chars().peekable();
    let mut metric = String::new();
    while let Some(&c) = chars.peek() {
        if (metric.is_empty() && is_name_start(c)) || (!metric.is_empty() && is_name_char(c)) {
            metric.push(c);
            chars.next();
        } else {
            break;
        }
    }
    if metric.is_empty() {
        return Err(bad(
            "expected a metric name (letters, digits, '_' or ':', not starting with a digit)",
        ));
    }
    let mut labels = BTreeMap::new();
    let skip_ws = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
    };
    skip_ws(&mut chars);
    match chars.next() {
        None => return Ok(Labels { metric, labels }),
        Some('{') => {}
        Some(c) => return Err(bad(&format!("unexpected {c:?} after the metric name"))),
    }
    loop {
        skip_ws(&mut chars);
        if chars.peek() == Some(&'}') {
            chars.next();
            break;
        }
        let mut name = String::new();
        while let Some(&c) = chars.peek() {
            if (name.is_empty() && (c.is_ascii_alphabetic() || c == '_'))
                || (!name.is_empty() && (c.is_ascii_alphanumeric() || c == '_'))
            {
                name.push(c);
                chars.next();
            } else {
                break;
            }
        }
        if name.is_empty() {
            return Err(bad("expected a label name"));
        }
        skip_ws(&mut chars);
        if chars.next() != Some('=') {
            return Err(bad(&format!(
                "expected '=' after label {name} (stream names use only '=')"
            )));
        }
        skip_ws(&mut chars);
        let quote = match chars.next() {
            Some(q @ ('"' | '\'')) => q,
            _ => return Err(bad(&format!("expected a quoted value for label {name}"))),
        };
        let mut value = String::new();
        loop {
            match chars.next() {
                None => return Err(bad("unterminated label value")),
                Some(c) if c == quote => break,
                Some('\\') => match chars.next() {
                    Some('n') => value.push('\n'),
                    Some('t') => value.push('\t'),
                    Some(c @ ('\\' | '"' | '\'')) => value.push(c),
                    _ => return Err(bad("unknown escape in label value")),
                },
                Some(c) => value.push(c),
            }
        }
        if labels.insert(name.clone(), value).is_some() {
            return Err(bad(&format!("label {name} appears twice")));
        }
        skip_ws(&mut chars);
        match chars.next() {
            Some(',') => continue,
            Some('}') => break,
            _ => return Err(bad("expected ',' or '}' after a label value")),
        }
    }
    skip_ws(&mut chars);
    if let Some(c) = chars.next() {
        return Err(bad(&format!("unexpected {c:?} after '}}'")));
    }
    Ok(Labels { metric, labels })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_canonicalises() {
        let l = parse_stream_name(r#" latency { service = "web", az='eu-1' } "#).unwrap();
        assert_eq!(l.metric, "latency");
        assert_eq!(l.to_string(), r#"latency{az="eu-1",service="web"}"#);
        assert_eq!(parse_stream_name("up").unwrap().to_string(), "up");
        assert_eq!(parse_stream_name("up{}").unwrap().to_string(), "up");
        let escaped = parse_stream_name(r#"m{a="q\"b\\c"}"#).unwrap();
        assert_eq!(escaped.labels["a"], "q\"b\\c");
        assert_eq!(parse_stream_name(&escaped.to_string()).unwrap(), escaped);
    }

    #[test]
    fn rejects_malformed_names() {
        for bad in [
            "",
            "1abc",
            "m{a=1}",
            "m{a=\"1\"",
            "m{a=\"1\",a=\"2\"}",
            "m{a!=\"1\"}",
            "m x",
            "m{=\"v\"}",
        ] {
            assert!(parse_stream_name(bad).is_err(), "{bad:?} must be rejected");
        }
    }

    proptest! {
        #[test]
        fn canonical_form_round_trips(
            metric in "[a-z_:][a-z0-9_:]{0,8}",
            labels in proptest::collection::btree_map("[a-z_][a-z0-9_]{0,5}", "\\PC{0,6}", 0..4),
        ) {
            let l = Labels { metric, labels };
            prop_assert_eq!(parse_stream_name(&l.to_string()).unwrap(), l);
        }

        #[test]
        fn never_panics(s in "\\PC{0,30}") {
            let _ = parse_stream_name(&s);
        }
    }
}
