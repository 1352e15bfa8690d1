use crate::series::types::Value;
use crate::tql::lexer::{TokenKind, tokenize};

fn kinds(src: &str) -> Vec<TokenKind> {
    tokenize(src).into_iter().map(|t| t.kind).collect()
}

fn ident(s: &str) -> TokenKind {
    TokenKind::Ident(s.to_string())
}

#[test]
fn punctuation_and_operators() {
    use TokenKind::*;
    assert_eq!(
        kinds("( ) { } [ ] , = != =~ !~ + - * / % ^ == < > <= >="),
        vec![
            LParen,
            RParen,
            LBrace,
            RBrace,
            LBracket,
            RBracket,
            Comma,
            Assign,
            NotEqual,
            RegexMatch,
            RegexNoMatch,
            Plus,
            Minus,
            Star,
            Slash,
            Percent,
            Caret,
            EqualEqual,
            Less,
            Greater,
            LessEqual,
            GreaterEqual,
            Eof
        ]
    );
    // No whitespace needed.
    assert_eq!(kinds("a<=b"), vec![ident("a"), LessEqual, ident("b"), Eof]);
    assert_eq!(
        kinds("a==-1"),
        vec![
            ident("a"),
            EqualEqual,
            Minus,
            Number(Value::Integer64(1)),
            Eof
        ]
    );
}

#[test]
fn numbers() {
    use TokenKind::*;
    assert_eq!(kinds("42"), vec![Number(Value::Integer64(42)), Eof]);
    assert_eq!(kinds("4.5"), vec![Number(Value::Float64(4.5)), Eof]);
    assert_eq!(kinds(".5"), vec![Number(Value::Float64(0.5)), Eof]);
    assert_eq!(kinds("5."), vec![Number(Value::Float64(5.0)), Eof]);
    assert_eq!(kinds("1e3"), vec![Number(Value::Float64(1000.0)), Eof]);
    assert_eq!(kinds("2.5E-1"), vec![Number(Value::Float64(0.25)), Eof]);
    assert_eq!(
        kinds("9223372036854775807 9223372036854775808"),
        vec![
            Number(Value::Integer64(i64::MAX)),
            Number(Value::UInteger64(1 << 63)),
            Eof
        ]
    );
    assert!(matches!(kinds("18446744073709551616")[0], Error { .. }));
    // `1e` is the number 1 followed by the identifier `e`.
    assert_eq!(
        kinds("1e"),
        vec![Number(Value::Integer64(1)), ident("e"), Eof]
    );
}

#[test]
fn durations() {
    use TokenKind::*;
    assert_eq!(kinds("5ms"), vec![Duration(5), Eof]);
    assert_eq!(kinds("5s"), vec![Duration(5_000), Eof]);
    assert_eq!(kinds("5m"), vec![Duration(300_000), Eof]);
    assert_eq!(kinds("2h"), vec![Duration(7_200_000), Eof]);
    assert_eq!(kinds("1d"), vec![Duration(86_400_000), Eof]);
    assert_eq!(kinds("1w"), vec![Duration(604_800_000), Eof]);
    assert_eq!(kinds("1y"), vec![Duration(365 * 86_400_000), Eof]);
    assert_eq!(kinds("1h30m"), vec![Duration(5_400_000), Eof]);
    assert_eq!(
        kinds("1d2h3m4s5ms"),
        vec![Duration(86_400_000 + 7_200_000 + 180_000 + 4_000 + 5), Eof]
    );
    assert!(matches!(kinds("30m1h")[0], Error { .. }));
    assert!(matches!(kinds("1m1m")[0], Error { .. }));
    assert!(matches!(kinds("1h30")[0], Error { .. }));
    assert!(matches!(kinds("5mx")[0], Error { .. }));
    assert!(matches!(kinds("999999999999y")[0], Error { .. }));
}

#[test]
fn strings_and_escapes() {
    use TokenKind::*;
    assert_eq!(kinds(r#""a b""#), vec![Str("a b".into()), Eof]);
    assert_eq!(kinds("'a b'"), vec![Str("a b".into()), Eof]);
    assert_eq!(
        kinds(r#""\\ \" \' \n \t \u00e9""#),
        vec![Str("\\ \" ' \n \t é".into()), Eof]
    );
    assert_eq!(kinds(r#"'it\'s "x"'"#), vec![Str("it's \"x\"".into()), Eof]);
    assert_eq!(kinds("\"héllo ☃\""), vec![Str("héllo ☃".into()), Eof]);
    assert!(matches!(kinds(r#""\q""#)[0], Error { .. }));
    assert!(matches!(kinds(r#""\u12""#)[0], Error { .. }));
    assert!(matches!(kinds(r#""\ud800""#)[0], Error { .. }));
    assert!(matches!(kinds(r#""abc"#)[0], Error { .. }));
    assert!(matches!(kinds("\"ab\ncd\"")[0], Error { .. }));
}

#[test]
fn identifiers_comments_whitespace() {
    use TokenKind::*;
    assert_eq!(
        kinds("sum # a comment ( \n  by\t\r\n(x) # trailing"),
        vec![ident("sum"), ident("by"), LParen, ident("x"), RParen, Eof]
    );
    assert_eq!(kinds("a_b:c.d"), vec![ident("a_b:c.d"), Eof]);
    assert_eq!(
        kinds("SUM By BOOL"),
        vec![ident("SUM"), ident("By"), ident("BOOL"), Eof]
    );
    assert!(matches!(kinds("a @ b")[1], Error { .. }));
    assert!(matches!(kinds("a ! b")[1], Error { .. }));
}

#[test]
fn positions() {
    let tokens = tokenize("sum(\n  x)");
    let spans: Vec<(usize, usize)> = tokens.iter().map(|t| (t.start, t.end)).collect();
    assert_eq!(spans, vec![(0, 3), (3, 4), (7, 8), (8, 9), (9, 9)]);
}
