//! Command-line parsing: a small hand-written parser so that every subcommand has its own
//! `--help` and errors name the offending argument.

use std::path::PathBuf;

pub const USAGE: &str = "\
Usage:
  nanots [--unit s|ms|us|ns] [--block-size SIZE] <db_dir>
                                      open (or create) a database and start the REPL
  nanots <db_dir> query '<tql>' [--start T] [--end T] [--format table|csv|json|chart]
  nanots <db_dir> import <file.csv[.gz|.xz]> [--stream S | --metric M [--label k=v]...]
                         [--columns a,b] [--create] [--type i64|u64|f64]
  nanots <db_dir> export '<selector>' [--start T] [--end T] [--format csv|json]
  nanots <db_dir> streams
  nanots <db_dir> info
  nanots <db_dir> check
  nanots frames allocate <file> --block-size SIZE (--blocks N | --growable [--max N])
  nanots frames ls <file>
  nanots frames dump <file> <tag> [--start T] [--end T] [--hex]
  nanots frames free <file> <tag> <start> <end>
  nanots demo [<dir>]

Times T are integers in the database unit, RFC 3339 (2024-01-31T12:00:00Z),
`YYYY-MM-DD HH:MM:SS` or `YYYY-MM-DD` (UTC). Run `nanots <db_dir> <subcommand> --help`
or `nanots frames <subcommand> --help` for details.";

pub const HELP_REPL: &str = "\
nanots [--unit s|ms|us|ns] [--block-size SIZE] <db_dir>

Opens the database in <db_dir>, creating it when missing, and starts an interactive shell.
--unit (default ms) and --block-size (default 64KiB; larger suits a few big streams) apply
when a database is created, with any subcommand. Lines starting with `.` are
commands (type .help); anything else is a TQL query. When standard input is not a terminal the
lines are read without prompts, errors go to stderr and the exit status is 1 if any failed.";

pub const HELP_QUERY: &str = "\
nanots <db_dir> query '<tql>' [--start T] [--end T] [--format table|csv|json|chart]

Runs one TQL query over [start, end] (default: everything) and prints the result.
  --format table   aligned table (default)
  --format csv     series,timestamp,value rows
  --format json    one JSON object per series per line
  --format chart   a terminal line chart per series";

pub const HELP_IMPORT: &str = "\
nanots <db_dir> import <file.csv> [options]

Imports a CSV file with a header row. The first column is the timestamp (an integer in the
database unit, RFC 3339, `YYYY-MM-DD HH:MM:SS` or `YYYY-MM-DD`); every other column is a
value column. Files ending in .gz or .xz are decompressed while reading.
  --stream S        the stream for a file with one value column
  --metric M        each value column C becomes the stream M{column=\"C\",...}
  --label k=v       extra label for --metric streams (repeatable)
  --columns a,b     import only these value columns
  --create          create missing streams
  --type T          value type of created streams: i64, u64 or f64 (default f64)
Without --stream or --metric each column becomes a stream named after its header.
Empty cells are skipped; any other bad cell stops the import with its line number.";

pub const HELP_EXPORT: &str = "\
nanots <db_dir> export '<selector>' [--start T] [--end T] [--format csv|json]

Prints every point of the matching streams: csv (default) as series,timestamp,value rows,
json as one object per series per line: {\"series\":..,\"labels\":{..},\"points\":[[t,v],..]}.";

pub const HELP_STREAMS: &str = "\
nanots <db_dir> streams

Lists the streams: name, type, points, first and last timestamp, bytes.";

pub const HELP_INFO: &str = "\
nanots <db_dir> info

Prints database statistics: streams, points, bytes used and allocated, blocks used and free.";

pub const HELP_CHECK: &str = "\
nanots <db_dir> check

Verifies every block, frame and chunk of the database. Exits with status 1 if it finds
corruption.";

pub const HELP_FRAMES: &str = "\
nanots frames <allocate|ls|dump|free> ...

Works directly on a frame file (the storage layer):
  nanots frames allocate <file> --block-size SIZE (--blocks N | --growable [--max N])
  nanots frames ls <file>
  nanots frames dump <file> <tag> [--start T] [--end T] [--hex]
  nanots frames free <file> <tag> <start> <end>";

pub const HELP_FRAMES_ALLOCATE: &str = "\
nanots frames allocate <file> --block-size SIZE (--blocks N | --growable [--max N])

Creates a frame file of N blocks (preallocated), or a growable one capped at --max blocks
(0 or absent: no cap). SIZE takes suffixes: 4096, 512KiB, 10MiB, 1GiB (KB/MB/GB are powers of
1000, K/M/G and KiB/MiB/GiB powers of 1024).";

pub const HELP_FRAMES_LS: &str = "\
nanots frames ls <file>

Lists the file's geometry, its streams with their contiguous segments, and blocks used/free.";

pub const HELP_FRAMES_DUMP: &str = "\
nanots frames dump <file> <tag> [--start T] [--end T] [--hex]

Prints one line per frame of stream <tag> in [start, end]: timestamp, flags, size, block
sequence. --hex adds a hex dump of each payload. Frame timestamps are raw integers; dates are
converted as microseconds.";

pub const HELP_FRAMES_FREE: &str = "\
nanots frames free <file> <tag> <start> <end>

Frees the blocks of stream <tag> that lie entirely within [start, end].";

pub const HELP_DEMO: &str = "\
nanots demo [<dir>]

Records four synthetic 30 fps camera streams from four threads while a reader follows and
verifies them, measures random seeks, imports the household power dataset (or synthetic
sensors when it is absent), runs TQL queries and prints throughput figures. Uses a temporary
directory unless <dir> is given. NANOTS_DEMO_QUICK=1 runs a much shorter version.";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Csv,
    Json,
    Chart,
}

impl Format {
    fn parse(s: &str, allowed: &[Format]) -> Result<Format, String> {
        let f = match s {
            "table" | "tabular" => Format::Table,
            "csv" => Format::Csv,
            "json" => Format::Json,
            "chart" | "graphical" => Format::Chart,
            _ => return Err(format!("unknown format `{s}`")),
        };
        if allowed.contains(&f) {
            Ok(f)
        } else {
            Err(format!("format `{s}` is not available here"))
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportArgs {
    pub file: PathBuf,
    pub stream: Option<String>,
    pub metric: Option<String>,
    pub labels: Vec<(String, String)>,
    pub columns: Option<Vec<String>>,
    pub create: bool,
    pub value_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FramesCmd {
    Allocate {
        file: PathBuf,
        block_size: u64,
        blocks: Option<u64>,
        growable: bool,
        max: u64,
    },
    Ls {
        file: PathBuf,
    },
    Dump {
        file: PathBuf,
        tag: String,
        start: Option<String>,
        end: Option<String>,
        hex: bool,
    },
    Free {
        file: PathBuf,
        tag: String,
        start: String,
        end: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum DbCmd {
    Repl,
    Query {
        tql: String,
        start: Option<String>,
        end: Option<String>,
        format: Format,
    },
    Import(ImportArgs),
    Export {
        selector: String,
        start: Option<String>,
        end: Option<String>,
        format: Format,
    },
    Streams,
    Info,
    Check,
}

/// How to create the database if it does not exist yet.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewDb {
    pub unit: Option<String>,
    pub block_size: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Db {
        dir: PathBuf,
        new_db: NewDb,
        cmd: DbCmd,
    },
    Frames(FramesCmd),
    Demo {
        dir: Option<PathBuf>,
    },
}

/// Why parsing stopped: help was asked for (print to stdout, exit 0) or the arguments are wrong
/// (print the message and the usage to stderr, exit 2).
#[derive(Debug, PartialEq)]
pub enum ArgError {
    Help(&'static str),
    Usage {
        message: String,
        usage: &'static str,
    },
}

fn usage_err(message: impl Into<String>, usage: &'static str) -> ArgError {
    ArgError::Usage {
        message: message.into(),
        usage,
    }
}

/// One subcommand's options: long name, optional short name, and whether it takes a value.
struct Spec {
    options: &'static [(&'static str, Option<char>, bool)],
    help: &'static str,
}

#[derive(Debug, Default)]
struct Parsed {
    values: Vec<(&'static str, String)>,
    flags: Vec<&'static str>,
    positional: Vec<String>,
}

impl Parsed {
    fn value(&self, name: &str) -> Option<String> {
        self.values
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
    }
    fn all(&self, name: &str) -> impl Iterator<Item = &String> {
        self.values
            .iter()
            .filter(move |(n, _)| *n == name)
            .map(|(_, v)| v)
    }
    fn flag(&self, name: &str) -> bool {
        self.flags.contains(&name)
    }
}

/// A lone `-` and negative numbers are positional values, not options.
fn is_option(arg: &str) -> bool {
    arg.starts_with('-') && arg.len() > 1 && !arg[1..].starts_with(|c: char| c.is_ascii_digit())
}

fn parse_with(args: &[String], spec: &Spec) -> Result<Parsed, ArgError> {
    let mut out = Parsed::default();
    let mut i = 0;
    let mut only_positional = false;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if only_positional || !is_option(arg) {
            out.positional.push(arg.clone());
            continue;
        }
        if arg == "--" {
            only_positional = true;
            continue;
        }
        if arg == "--help" || arg == "-h" {
            return Err(ArgError::Help(spec.help));
        }
        let (name, inline) = match arg.strip_prefix("--") {
            Some(rest) => match rest.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None => (rest.to_string(), None),
            },
            None => (arg[1..].to_string(), None),
        };
        let found = spec.options.iter().find(|(long, short, _)| {
            if arg.starts_with("--") {
                *long == name
            } else {
                name.chars().count() == 1 && name.chars().next() == *short
            }
        });
        let Some(&(long, _, takes_value)) = found else {
            return Err(usage_err(format!("unknown option `{arg}`"), spec.help));
        };
        if takes_value {
            let value = match inline {
                Some(v) => v,
                None => {
                    let v = args.get(i).ok_or_else(|| {
                        usage_err(format!("option `{arg}` needs a value"), spec.help)
                    })?;
                    i += 1;
                    v.clone()
                }
            };
            out.values.push((long, value));
        } else {
            if inline.is_some() {
                return Err(usage_err(
                    format!("option `--{long}` takes no value"),
                    spec.help,
                ));
            }
            out.flags.push(long);
        }
    }
    Ok(out)
}

fn expect_positional(
    p: &Parsed,
    names: &[&str],
    optional_tail: usize,
    help: &'static str,
) -> Result<(), ArgError> {
    let n = p.positional.len();
    let required = names.len() - optional_tail;
    if n < required {
        return Err(usage_err(format!("missing <{}>", names[n]), help));
    }
    if n > names.len() {
        return Err(usage_err(
            format!("unexpected argument `{}`", p.positional[names.len()]),
            help,
        ));
    }
    Ok(())
}

/// Parses a count such as `--blocks 16`.
fn parse_count(s: &str, what: &str, help: &'static str) -> Result<u64, ArgError> {
    s.parse::<u64>()
        .map_err(|_| usage_err(format!("{what}: `{s}` is not a non-negative integer"), help))
}

/// Parses a byte size: a number with an optional suffix (B, K/KiB, KB, M/MiB, MB, G/GiB, GB,
/// T/TiB, TB). The number may have a fraction when the result is a whole number of bytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let s = text.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, suffix) = s.split_at(split);
    let mult: u64 = match suffix.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "ki" | "kib" => 1 << 10,
        "kb" => 1_000,
        "m" | "mi" | "mib" => 1 << 20,
        "mb" => 1_000_000,
        "g" | "gi" | "gib" => 1 << 30,
        "gb" => 1_000_000_000,
        "t" | "ti" | "tib" => 1 << 40,
        "tb" => 1_000_000_000_000,
        _ => return Err(format!("invalid size `{s}`: unknown suffix `{suffix}`")),
    };
    if num.is_empty() {
        return Err(format!("invalid size `{s}`"));
    }
    if let Ok(n) = num.parse::<u64>() {
        return n
            .checked_mul(mult)
            .ok_or_else(|| format!("size `{s}` is too large"));
    }
    let f: f64 = num.parse().map_err(|_| format!("invalid size `{s}`"))?;
    let bytes = f * mult as f64;
    if bytes.fract() != 0.0 || bytes > u64::MAX as f64 {
        return Err(format!("size `{s}` is not a whole number of bytes"));
    }
    Ok(bytes as u64)
}

pub fn parse_args(args: &[String]) -> Result<Command, ArgError> {
    let mut rest = args;
    let mut new_db = NewDb::default();
    loop {
        let first = rest.first().map(String::as_str);
        // Creation options come before <db_dir>, as `--opt value` or `--opt=value`.
        let creation = first.and_then(|a| {
            ["--unit", "--block-size"].into_iter().find_map(|name| {
                if a == name {
                    Some((name, rest.get(1).cloned(), 2))
                } else {
                    a.strip_prefix(name)
                        .and_then(|r| r.strip_prefix('='))
                        .map(|v| (name, Some(v.to_string()), 1))
                }
            })
        });
        if let Some((name, value, used)) = creation {
            let value =
                value.ok_or_else(|| usage_err(format!("option `{name}` needs a value"), USAGE))?;
            if name == "--unit" {
                new_db.unit = Some(value);
            } else {
                new_db.block_size = Some(parse_size(&value).map_err(|m| usage_err(m, USAGE))?);
            }
            rest = &rest[used..];
            continue;
        }
        match first {
            None => return Err(usage_err("missing <db_dir>", USAGE)),
            Some("-h" | "--help" | "help") => return Err(ArgError::Help(USAGE)),
            Some("frames") => return parse_frames(&rest[1..]).map(Command::Frames),
            Some("demo") => {
                let p = parse_with(
                    &rest[1..],
                    &Spec {
                        options: &[],
                        help: HELP_DEMO,
                    },
                )?;
                expect_positional(&p, &["dir"], 1, HELP_DEMO)?;
                return Ok(Command::Demo {
                    dir: p.positional.first().map(PathBuf::from),
                });
            }
            Some(a) if is_option(a) => {
                return Err(usage_err(format!("unknown option `{a}`"), USAGE));
            }
            Some(dir) => {
                let dir = PathBuf::from(dir);
                let cmd = parse_db_cmd(&rest[1..])?;
                return Ok(Command::Db { dir, new_db, cmd });
            }
        }
    }
}

fn parse_db_cmd(args: &[String]) -> Result<DbCmd, ArgError> {
    let Some(sub) = args.first() else {
        return Ok(DbCmd::Repl);
    };
    let rest = &args[1..];
    let range_opts: &[(&str, Option<char>, bool)] = &[
        ("start", Some('s'), true),
        ("end", Some('e'), true),
        ("format", Some('f'), true),
    ];
    match sub.as_str() {
        "-h" | "--help" => Err(ArgError::Help(HELP_REPL)),
        "query" => {
            let p = parse_with(
                rest,
                &Spec {
                    options: range_opts,
                    help: HELP_QUERY,
                },
            )?;
            expect_positional(&p, &["tql"], 0, HELP_QUERY)?;
            let format = match p.value("format") {
                Some(f) => Format::parse(
                    &f,
                    &[Format::Table, Format::Csv, Format::Json, Format::Chart],
                )
                .map_err(|m| usage_err(m, HELP_QUERY))?,
                None => Format::Table,
            };
            Ok(DbCmd::Query {
                tql: p.positional[0].clone(),
                start: p.value("start"),
                end: p.value("end"),
                format,
            })
        }
        "export" => {
            let p = parse_with(
                rest,
                &Spec {
                    options: range_opts,
                    help: HELP_EXPORT,
                },
            )?;
            expect_positional(&p, &["selector"], 0, HELP_EXPORT)?;
            let format = match p.value("format") {
                Some(f) => Format::parse(&f, &[Format::Csv, Format::Json])
                    .map_err(|m| usage_err(m, HELP_EXPORT))?,
                None => Format::Csv,
            };
            Ok(DbCmd::Export {
                selector: p.positional[0].clone(),
                start: p.value("start"),
                end: p.value("end"),
                format,
            })
        }
        "import" => {
            let p = parse_with(
                rest,
                &Spec {
                    options: &[
                        ("stream", None, true),
                        ("metric", Some('m'), true),
                        ("label", Some('l'), true),
                        ("columns", None, true),
                        ("create", Some('c'), false),
                        ("type", Some('t'), true),
                    ],
                    help: HELP_IMPORT,
                },
            )?;
            expect_positional(&p, &["file.csv"], 0, HELP_IMPORT)?;
            if p.value("stream").is_some() && p.value("metric").is_some() {
                return Err(usage_err(
                    "--stream and --metric cannot be used together",
                    HELP_IMPORT,
                ));
            }
            let mut labels = Vec::new();
            for l in p.all("label") {
                let (k, v) = l.split_once('=').ok_or_else(|| {
                    usage_err(format!("--label `{l}` is not of the form k=v"), HELP_IMPORT)
                })?;
                labels.push((k.trim().to_string(), v.to_string()));
            }
            if let Some(t) = p.value("type")
                && !matches!(t.as_str(), "i64" | "u64" | "f64")
            {
                return Err(usage_err(
                    format!("--type `{t}`: expected i64, u64 or f64"),
                    HELP_IMPORT,
                ));
            }
            Ok(DbCmd::Import(ImportArgs {
                file: PathBuf::from(&p.positional[0]),
                stream: p.value("stream"),
                metric: p.value("metric"),
                labels,
                columns: p
                    .value("columns")
                    .map(|c| c.split(',').map(|s| s.trim().to_string()).collect()),
                create: p.flag("create"),
                value_type: p.value("type"),
            }))
        }
        "streams" | "info" | "check" => {
            let help = match sub.as_str() {
                "streams" => HELP_STREAMS,
                "info" => HELP_INFO,
                _ => HELP_CHECK,
            };
            let p = parse_with(rest, &Spec { options: &[], help })?;
            expect_positional(&p, &[], 0, help)?;
            Ok(match sub.as_str() {
                "streams" => DbCmd::Streams,
                "info" => DbCmd::Info,
                _ => DbCmd::Check,
            })
        }
        other => Err(usage_err(format!("unknown subcommand `{other}`"), USAGE)),
    }
}

fn parse_frames(args: &[String]) -> Result<FramesCmd, ArgError> {
    let Some(sub) = args.first() else {
        return Err(usage_err("missing frames subcommand", HELP_FRAMES));
    };
    let rest = &args[1..];
    match sub.as_str() {
        "-h" | "--help" => Err(ArgError::Help(HELP_FRAMES)),
        "allocate" => {
            let help = HELP_FRAMES_ALLOCATE;
            let p = parse_with(
                rest,
                &Spec {
                    options: &[
                        ("block-size", Some('b'), true),
                        ("blocks", Some('n'), true),
                        ("growable", Some('g'), false),
                        ("max", None, true),
                    ],
                    help,
                },
            )?;
            expect_positional(&p, &["file"], 0, help)?;
            let bs = p
                .value("block-size")
                .ok_or_else(|| usage_err("missing --block-size", help))?;
            let block_size = parse_size(&bs).map_err(|m| usage_err(m, help))?;
            let blocks = p
                .value("blocks")
                .map(|b| parse_count(&b, "--blocks", help))
                .transpose()?;
            let growable = p.flag("growable");
            let max = p
                .value("max")
                .map(|b| parse_count(&b, "--max", help))
                .transpose()?;
            match (blocks, growable) {
                (Some(_), true) => {
                    return Err(usage_err("use either --blocks or --growable", help));
                }
                (None, false) => return Err(usage_err("missing --blocks N or --growable", help)),
                _ => {}
            }
            if max.is_some() && !growable {
                return Err(usage_err("--max only applies to --growable", help));
            }
            Ok(FramesCmd::Allocate {
                file: PathBuf::from(&p.positional[0]),
                block_size,
                blocks,
                growable,
                max: max.unwrap_or(0),
            })
        }
        "ls" => {
            let p = parse_with(
                rest,
                &Spec {
                    options: &[],
                    help: HELP_FRAMES_LS,
                },
            )?;
            expect_positional(&p, &["file"], 0, HELP_FRAMES_LS)?;
            Ok(FramesCmd::Ls {
                file: PathBuf::from(&p.positional[0]),
            })
        }
        "dump" => {
            let p = parse_with(
                rest,
                &Spec {
                    options: &[
                        ("start", Some('s'), true),
                        ("end", Some('e'), true),
                        ("hex", Some('x'), false),
                    ],
                    help: HELP_FRAMES_DUMP,
                },
            )?;
            expect_positional(&p, &["file", "tag"], 0, HELP_FRAMES_DUMP)?;
            Ok(FramesCmd::Dump {
                file: PathBuf::from(&p.positional[0]),
                tag: p.positional[1].clone(),
                start: p.value("start"),
                end: p.value("end"),
                hex: p.flag("hex"),
            })
        }
        "free" => {
            let p = parse_with(
                rest,
                &Spec {
                    options: &[],
                    help: HELP_FRAMES_FREE,
                },
            )?;
            expect_positional(&p, &["file", "tag", "start", "end"], 0, HELP_FRAMES_FREE)?;
            Ok(FramesCmd::Free {
                file: PathBuf::from(&p.positional[0]),
                tag: p.positional[1].clone(),
                start: p.positional[2].clone(),
                end: p.positional[3].clone(),
            })
        }
        other => Err(usage_err(
            format!("unknown frames subcommand `{other}`"),
            HELP_FRAMES,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn repl_and_unit() {
        assert_eq!(
            parse_args(&v(&["db"])),
            Ok(Command::Db {
                dir: "db".into(),
                new_db: NewDb::default(),
                cmd: DbCmd::Repl
            })
        );
        assert_eq!(
            parse_args(&v(&["--unit", "us", "--block-size=1MiB", "db"])),
            Ok(Command::Db {
                dir: "db".into(),
                new_db: NewDb {
                    unit: Some("us".into()),
                    block_size: Some(1 << 20)
                },
                cmd: DbCmd::Repl
            })
        );
    }

    #[test]
    fn query_options_in_any_order() {
        let c = parse_args(&v(&[
            "db",
            "query",
            "--start=2024-01-01",
            "avg(x)",
            "-f",
            "csv",
            "--end",
            "-5",
        ]))
        .unwrap();
        assert_eq!(
            c,
            Command::Db {
                dir: "db".into(),
                new_db: NewDb::default(),
                cmd: DbCmd::Query {
                    tql: "avg(x)".into(),
                    start: Some("2024-01-01".into()),
                    end: Some("-5".into()),
                    format: Format::Csv
                }
            }
        );
    }

    #[test]
    fn help_everywhere() {
        assert_eq!(parse_args(&v(&["--help"])), Err(ArgError::Help(USAGE)));
        assert_eq!(
            parse_args(&v(&["db", "query", "--help"])),
            Err(ArgError::Help(HELP_QUERY))
        );
        assert_eq!(
            parse_args(&v(&["db", "import", "-h"])),
            Err(ArgError::Help(HELP_IMPORT))
        );
        assert_eq!(
            parse_args(&v(&["db", "--help"])),
            Err(ArgError::Help(HELP_REPL))
        );
        assert_eq!(
            parse_args(&v(&["frames", "dump", "--help"])),
            Err(ArgError::Help(HELP_FRAMES_DUMP))
        );
        assert_eq!(
            parse_args(&v(&["demo", "--help"])),
            Err(ArgError::Help(HELP_DEMO))
        );
        for sub in ["streams", "info", "check", "export"] {
            assert!(matches!(
                parse_args(&v(&["db", sub, "--help"])),
                Err(ArgError::Help(_))
            ));
        }
        for sub in ["allocate", "ls", "free"] {
            assert!(matches!(
                parse_args(&v(&["frames", sub, "--help"])),
                Err(ArgError::Help(_))
            ));
        }
    }

    #[test]
    fn usage_errors() {
        for bad in [
            &["db", "frobnicate"][..],
            &[],
            &["db", "query"],
            &["db", "query", "x", "--format", "xml"],
            &["db", "query", "x", "--bogus"],
            &["db", "query", "x", "--start"],
            &["db", "export", "x", "--format", "chart"],
            &["db", "streams", "extra"],
            &["db", "import", "f.csv", "--label", "novalue"],
            &["db", "import", "f.csv", "--type", "f32"],
            &["db", "import", "f.csv", "--stream", "a", "--metric", "b"],
            &["frames", "allocate", "f", "--block-size", "10MiB"],
            &[
                "frames",
                "allocate",
                "f",
                "--block-size",
                "10XB",
                "--blocks",
                "3",
            ],
            &[
                "frames",
                "allocate",
                "f",
                "--block-size",
                "1M",
                "--blocks",
                "3",
                "--growable",
            ],
            &[
                "frames",
                "allocate",
                "f",
                "--block-size",
                "1M",
                "--blocks",
                "3",
                "--max",
                "9",
            ],
            &["frames", "free", "f", "t", "1"],
            &["frames", "nope"],
            &["--bogus"],
        ] {
            assert!(
                matches!(parse_args(&v(bad)), Err(ArgError::Usage { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn import_and_frames() {
        let c = parse_args(&v(&[
            "db",
            "import",
            "p.csv.xz",
            "--metric",
            "power",
            "--label",
            "house=a",
            "-l",
            "x=1=2",
            "--create",
            "--type",
            "f64",
            "--columns",
            "Voltage, Global_active_power",
        ]))
        .unwrap();
        let Command::Db {
            cmd: DbCmd::Import(a),
            ..
        } = c
        else {
            panic!("{c:?}")
        };
        assert_eq!(a.metric.as_deref(), Some("power"));
        assert_eq!(
            a.labels,
            vec![("house".into(), "a".into()), ("x".into(), "1=2".into())]
        );
        assert!(a.create);
        assert_eq!(
            a.columns,
            Some(vec![
                "Voltage".to_string(),
                "Global_active_power".to_string()
            ])
        );
        assert_eq!(
            parse_args(&v(&[
                "frames",
                "allocate",
                "f",
                "--block-size",
                "10MiB",
                "--growable",
                "--max",
                "8"
            ])),
            Ok(Command::Frames(FramesCmd::Allocate {
                file: "f".into(),
                block_size: 10 << 20,
                blocks: None,
                growable: true,
                max: 8
            }))
        );
        assert_eq!(
            parse_args(&v(&["frames", "free", "f", "cam", "-10", "20"])),
            Ok(Command::Frames(FramesCmd::Free {
                file: "f".into(),
                tag: "cam".into(),
                start: "-10".into(),
                end: "20".into()
            }))
        );
        assert_eq!(parse_args(&v(&["demo"])), Ok(Command::Demo { dir: None }));
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("10MiB"), Ok(10 << 20));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("512k"), Ok(512 << 10));
        assert_eq!(parse_size("1.5KiB"), Ok(1536));
        assert_eq!(parse_size("2 GB"), Ok(2_000_000_000));
        assert_eq!(parse_size("1TiB"), Ok(1 << 40));
        for bad in [
            "",
            "MiB",
            "1.2.3M",
            "10XB",
            "0.3",
            "99999999999999999999TiB",
            "-1",
        ] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }
}
