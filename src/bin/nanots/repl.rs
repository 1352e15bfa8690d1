//! The interactive shell and its script mode: dot-command parsing and the read loops.

use std::io::{self, BufRead, Write};
use std::path::Path;

use nanots::ValueType;

use crate::CliError;
use crate::commands::{Outcome, Session};

pub const DOT_HELP: &str = "\
Commands:
  .help                                   this text
  .create <stream> [i64|u64|f64]          create a stream (default f64)
  .write [-c|--create] [-t i64|u64|f64] <csv> <stream>
                                          insert a CSV file (header row; timestamp, value)
  .delete <stream>                        delete a stream and its data
  .info stat                              database statistics
  .info streams                           one row per stream
  .range <start> <end>                    window for queries; `-` is unbounded; integers in
                                          the database unit or dates (.range alone shows it)
  .mode [-o graphical|tabular|csv|json|file] [-p <path>]
                                          how query results are shown (.mode alone shows it)
  .timer on|off                           print how long each line took
  .exit                                   leave (Ctrl-D too)
Anything else is a TQL query, e.g. avg(temperature{device=\"a\"})[10m]";

#[derive(Debug, Clone, PartialEq)]
pub enum Dot {
    Help,
    Create {
        stream: String,
        value_type: ValueType,
    },
    Write {
        create: bool,
        value_type: Option<ValueType>,
        path: String,
        stream: String,
    },
    Delete {
        stream: String,
    },
    InfoStat,
    InfoStreams,
    /// `None`: show the current window.
    Range(Option<(String, String)>),
    Mode {
        output: Option<String>,
        path: Option<String>,
    },
    /// `None`: show the current setting.
    Timer(Option<bool>),
    Exit,
}

/// Splits a command line into words. Whitespace separates words except inside `{...}` and
/// double quotes (stream names like `m{a="x y"}` stay whole); a word wrapped entirely in
/// single quotes loses them (paths with spaces).
pub fn tokenize(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut depth = 0usize;
    let mut in_double = false;
    let mut in_single = false;
    let mut chars = line.chars();
    let mut started = false;
    while let Some(c) = chars.next() {
        if in_single {
            if c == '\'' {
                in_single = false;
            } else {
                cur.push(c);
            }
            continue;
        }
        if in_double {
            cur.push(c);
            if c == '\\' {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            } else if c == '"' {
                in_double = false;
            }
            continue;
        }
        match c {
            c if c.is_whitespace() && depth == 0 => {
                if started {
                    words.push(std::mem::take(&mut cur));
                    started = false;
                }
            }
            '\'' if depth == 0 => {
                in_single = true;
                started = true;
            }
            '"' => {
                in_double = true;
                started = true;
                cur.push(c);
            }
            '{' => {
                depth += 1;
                started = true;
                cur.push(c);
            }
            '}' => {
                depth = depth.saturating_sub(1);
                started = true;
                cur.push(c);
            }
            c => {
                started = true;
                cur.push(c);
            }
        }
    }
    if in_single || in_double {
        return Err("unterminated quote".into());
    }
    if depth > 0 {
        return Err("unbalanced `{`".into());
    }
    if started {
        words.push(cur);
    }
    Ok(words)
}

fn value_type(s: &str) -> Result<ValueType, String> {
    ValueType::from_short_name(s).ok_or_else(|| format!("unknown value type `{s}` (i64, u64, f64)"))
}

/// Parses a line that starts with `.`.
pub fn parse_dot(line: &str) -> Result<Dot, String> {
    let words = tokenize(line.trim())?;
    let Some(cmd) = words.first() else {
        return Err("empty command".into());
    };
    let args = &words[1..];
    let usage = |u: &str| format!("usage: {u}");
    match cmd.as_str() {
        ".help" | ".h" | ".?" => Ok(Dot::Help),
        ".exit" | ".quit" | ".q" => Ok(Dot::Exit),
        ".create" => match args {
            [stream] => Ok(Dot::Create {
                stream: stream.clone(),
                value_type: ValueType::Float64,
            }),
            [stream, t] => Ok(Dot::Create {
                stream: stream.clone(),
                value_type: value_type(t)?,
            }),
            _ => Err(usage(".create <stream> [i64|u64|f64]")),
        },
        ".write" => {
            let u = ".write [-c|--create] [-t i64|u64|f64] <csv> <stream>";
            let mut create = false;
            let mut vt = None;
            let mut positional = Vec::new();
            let mut it = args.iter();
            while let Some(a) = it.next() {
                match a.as_str() {
                    "-c" | "--create" | "-create" => create = true,
                    "-t" | "--type" => {
                        let t = it.next().ok_or_else(|| usage(u))?;
                        vt = Some(value_type(t)?);
                    }
                    s if s.starts_with('-') && s.len() > 1 => {
                        return Err(format!("unknown option `{s}`; {}", usage(u)));
                    }
                    _ => positional.push(a.clone()),
                }
            }
            match <[String; 2]>::try_from(positional) {
                Ok([path, stream]) => Ok(Dot::Write {
                    create,
                    value_type: vt,
                    path,
                    stream,
                }),
                Err(_) => Err(usage(u)),
            }
        }
        ".delete" => match args {
            [stream] => Ok(Dot::Delete {
                stream: stream.clone(),
            }),
            _ => Err(usage(".delete <stream>")),
        },
        ".info" => match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
            [] | ["stat"] | ["stats"] => Ok(Dot::InfoStat),
            ["streams"] => Ok(Dot::InfoStreams),
            _ => Err(usage(".info stat|streams")),
        },
        ".range" => match args {
            [] => Ok(Dot::Range(None)),
            [s, e] => Ok(Dot::Range(Some((s.clone(), e.clone())))),
            _ => Err(usage(".range <start> <end>   (`-` for unbounded)")),
        },
        ".mode" => {
            let u = ".mode [-o graphical|tabular|csv|json|file] [-p <path>]";
            let mut output = None;
            let mut path = None;
            let mut it = args.iter();
            while let Some(a) = it.next() {
                match a.as_str() {
                    "-o" | "--output-mode" | "--output" => {
                        output = Some(it.next().ok_or_else(|| usage(u))?.clone());
                    }
                    "-p" | "--path" => path = Some(it.next().ok_or_else(|| usage(u))?.clone()),
                    s if s.starts_with('-') => {
                        return Err(format!("unknown option `{s}`; {}", usage(u)));
                    }
                    s if output.is_none() => output = Some(s.to_string()),
                    _ => return Err(usage(u)),
                }
            }
            if let Some(o) = &output
                && !matches!(
                    o.as_str(),
                    "graphical" | "tabular" | "csv" | "json" | "file" | "chart" | "table"
                )
            {
                return Err(format!("unknown output mode `{o}`; {}", usage(u)));
            }
            Ok(Dot::Mode { output, path })
        }
        ".timer" => match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
            [] => Ok(Dot::Timer(None)),
            ["on"] => Ok(Dot::Timer(Some(true))),
            ["off"] => Ok(Dot::Timer(Some(false))),
            _ => Err(usage(".timer on|off")),
        },
        other => Err(format!("unknown command `{other}` (try .help)")),
    }
}

fn print_error(e: &CliError, prefix: &str, color: bool) {
    let mut err = io::stderr().lock();
    if color {
        let _ = writeln!(err, "\x1b[31merror:\x1b[0m {prefix}{e}");
    } else {
        let _ = writeln!(err, "error: {prefix}{e}");
    }
}

/// Reads commands from a non-terminal input, one per line, without prompts. Returns whether
/// every line succeeded.
pub fn run_script(session: &mut Session, input: impl BufRead) -> Result<bool, CliError> {
    let mut ok = true;
    let stdout = io::stdout();
    for (i, line) in input.lines().enumerate() {
        let line = line.map_err(|e| CliError::Failed(format!("reading input: {e}")))?;
        let trimmed = line.trim();
        // `#` and `--` lines are comments so that scripts can explain themselves.
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with("--") {
            continue;
        }
        let mut out = stdout.lock();
        let result = session.execute_line(trimmed, &mut out);
        let _ = out.flush();
        match result {
            Ok(Outcome::Exit) => break,
            Ok(Outcome::Continue) => {}
            Err(e) => {
                ok = false;
                print_error(&e, &format!("line {}: ", i + 1), false);
            }
        }
    }
    Ok(ok)
}

/// The interactive shell: line editing, history in `<db_dir>/.nanots_history`, Ctrl-C cancels
/// the line, Ctrl-D leaves.
pub fn run_interactive(session: &mut Session, db_dir: &Path) -> Result<(), CliError> {
    use rustyline::error::ReadlineError;
    let config = rustyline::Config::builder()
        .auto_add_history(false)
        .max_history_size(5000)
        .map_err(|e| CliError::Failed(format!("line editor: {e}")))?
        .build();
    let mut editor: rustyline::DefaultEditor = rustyline::Editor::with_config(config)
        .map_err(|e| CliError::Failed(format!("line editor: {e}")))?;
    let history = db_dir.join(".nanots_history");
    // A missing history file is normal on first use.
    let _ = editor.load_history(&history);
    let color = session.color;
    let prompt = if color {
        "\x1b[1;32mnanots>\x1b[0m "
    } else {
        "nanots> "
    };
    println!(
        "nanots {} — database {} (time unit {}). Type .help for commands, Ctrl-D to leave.",
        env!("CARGO_PKG_VERSION"),
        db_dir.display(),
        session.unit_name()
    );
    loop {
        match editor.readline(prompt) {
            Ok(line) => {
                let trimmed = line.trim();
                if trimmed.is_empty() {
                    continue;
                }
                let _ = editor.add_history_entry(trimmed);
                let _ = editor.save_history(&history);
                let stdout = io::stdout();
                let mut out = stdout.lock();
                let result = session.execute_line(trimmed, &mut out);
                let _ = out.flush();
                match result {
                    Ok(Outcome::Exit) => break,
                    Ok(Outcome::Continue) => {}
                    Err(e) => print_error(&e, "", color),
                }
            }
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(CliError::Failed(format!("reading input: {e}"))),
        }
    }
    let _ = editor.save_history(&history);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizer_keeps_selectors_whole() {
        assert_eq!(
            tokenize(".write data.csv demo{label=\"a b\", x=\"}\"}").unwrap(),
            vec![".write", "data.csv", "demo{label=\"a b\", x=\"}\"}"]
        );
        assert_eq!(
            tokenize(".write 'my file.csv'  s").unwrap(),
            vec![".write", "my file.csv", "s"]
        );
        assert!(tokenize(".create x{a=\"b").is_err());
        assert!(tokenize(".create x{a=\"b\"").is_err());
        assert_eq!(tokenize("   ").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn every_dot_command() {
        assert_eq!(parse_dot(".help"), Ok(Dot::Help));
        assert_eq!(parse_dot(".exit"), Ok(Dot::Exit));
        assert_eq!(
            parse_dot(".create m{a=\"1\"} i64"),
            Ok(Dot::Create {
                stream: "m{a=\"1\"}".into(),
                value_type: ValueType::Integer64
            })
        );
        assert_eq!(
            parse_dot(".create m"),
            Ok(Dot::Create {
                stream: "m".into(),
                value_type: ValueType::Float64
            })
        );
        assert_eq!(
            parse_dot(".write -c -t u64 d.csv m"),
            Ok(Dot::Write {
                create: true,
                value_type: Some(ValueType::UInteger64),
                path: "d.csv".into(),
                stream: "m".into()
            })
        );
        assert_eq!(
            parse_dot(".write d.csv m --create"),
            Ok(Dot::Write {
                create: true,
                value_type: None,
                path: "d.csv".into(),
                stream: "m".into()
            })
        );
        assert_eq!(
            parse_dot(".delete m"),
            Ok(Dot::Delete { stream: "m".into() })
        );
        assert_eq!(parse_dot(".info stat"), Ok(Dot::InfoStat));
        assert_eq!(parse_dot(".info streams"), Ok(Dot::InfoStreams));
        assert_eq!(
            parse_dot(".range - 2024-01-01"),
            Ok(Dot::Range(Some(("-".into(), "2024-01-01".into()))))
        );
        assert_eq!(parse_dot(".range"), Ok(Dot::Range(None)));
        assert_eq!(
            parse_dot(".mode -o file -p out.csv"),
            Ok(Dot::Mode {
                output: Some("file".into()),
                path: Some("out.csv".into())
            })
        );
        assert_eq!(
            parse_dot(".mode csv"),
            Ok(Dot::Mode {
                output: Some("csv".into()),
                path: None
            })
        );
        assert_eq!(parse_dot(".timer on"), Ok(Dot::Timer(Some(true))));
        assert_eq!(parse_dot(".timer"), Ok(Dot::Timer(None)));
    }

    #[test]
    fn dot_errors() {
        for bad in [
            ".nope",
            ".create",
            ".create m f32",
            ".create a b c",
            ".write a",
            ".write -x a b",
            ".write -t",
            ".delete",
            ".info foo",
            ".range 1",
            ".mode -o xml",
            ".mode -p",
            ".timer maybe",
            ".create m{",
        ] {
            assert!(parse_dot(bad).is_err(), "{bad}");
        }
    }
}
