//! What the commands do: the REPL session's state and every database subcommand.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use nanots::{Connection, ConnectionOptions, QueryResult, TimeUnit, ValueType};

use crate::CliError;
use crate::args::{DbCmd, Format, ImportArgs, NewDb};
use crate::import::{self, ImportOptions, Naming};
use crate::output::{self, Align, OutputCtx, human_bytes, thousands};
use crate::repl::{DOT_HELP, Dot, parse_dot};
use crate::timefmt::{format_duration, format_timestamp, parse_bound};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Graphical,
    Tabular,
    Csv,
    Json,
    File,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Graphical => "graphical",
            Mode::Tabular => "tabular",
            Mode::Csv => "csv",
            Mode::Json => "json",
            Mode::File => "file",
        }
    }
}

pub fn parse_unit(s: &str) -> Result<TimeUnit, CliError> {
    match s {
        "s" | "sec" | "seconds" => Ok(TimeUnit::Seconds),
        "ms" | "milliseconds" => Ok(TimeUnit::Milliseconds),
        "us" | "µs" | "microseconds" => Ok(TimeUnit::Microseconds),
        "ns" | "nanoseconds" => Ok(TimeUnit::Nanoseconds),
        _ => Err(CliError::Usage(format!(
            "unknown time unit `{s}` (s, ms, us, ns)"
        ))),
    }
}

/// Opens a database. `create` allows a missing directory to become a new database; read-only
/// subcommands refuse, so that a typo in the path does not silently create an empty one.
pub fn open_db(dir: &Path, new_db: &NewDb, create: bool) -> Result<Connection, CliError> {
    if !create && !dir.exists() {
        return Err(CliError::Failed(format!(
            "no database at {} (run `nanots {}` to create one)",
            dir.display(),
            dir.display()
        )));
    }
    let mut opts = ConnectionOptions::default();
    if let Some(u) = &new_db.unit {
        opts.time_unit = parse_unit(u)?;
    }
    if let Some(b) = new_db.block_size {
        opts.block_size = b;
    }
    Connection::open_with(dir, opts)
        .map_err(|e| CliError::Failed(format!("cannot open database {}: {e}", dir.display())))
}

pub enum Outcome {
    Continue,
    Exit,
}

pub struct Session {
    pub conn: Connection,
    pub mode: Mode,
    pub file_path: Option<PathBuf>,
    pub start: Option<i64>,
    pub end: Option<i64>,
    pub timer: bool,
    pub color: bool,
}

impl Session {
    pub fn new(conn: Connection, interactive: bool, color: bool) -> Session {
        Session {
            conn,
            mode: if interactive {
                Mode::Graphical
            } else {
                Mode::Tabular
            },
            file_path: None,
            start: None,
            end: None,
            timer: false,
            color,
        }
    }

    pub fn unit_name(&self) -> &'static str {
        self.conn.time_unit().name()
    }

    fn ups(&self) -> i64 {
        self.conn.time_unit().units_per_second()
    }

    fn ctx<'a>(&self, query: &'a str) -> OutputCtx<'a> {
        OutputCtx {
            ups: self.ups(),
            color: self.color,
            query,
        }
    }

    fn bound_text(&self, b: Option<i64>) -> String {
        match b {
            None => "-".into(),
            Some(t) => format!("{} ({t})", format_timestamp(t, self.ups())),
        }
    }

    pub fn execute_line(&mut self, line: &str, out: &mut dyn Write) -> Result<Outcome, CliError> {
        let started = Instant::now();
        // Only work worth timing is timed: queries and imports, not settings.
        let (outcome, timed) = if line.starts_with('.') {
            let dot = parse_dot(line).map_err(CliError::Failed)?;
            let timed = matches!(dot, Dot::Write { .. });
            (self.execute_dot(dot, out)?, timed)
        } else {
            self.run_query(line, out)?;
            (Outcome::Continue, true)
        };
        if self.timer && timed {
            writeln!(
                out,
                "Run Time: {}",
                format_duration(started.elapsed().as_secs_f64())
            )?;
        }
        Ok(outcome)
    }

    fn run_query(&mut self, tql: &str, out: &mut dyn Write) -> Result<(), CliError> {
        let res = self
            .conn
            .prepare_query(tql, self.start, self.end)?
            .collect()?;
        let format = match self.mode {
            Mode::Graphical => Format::Chart,
            Mode::Tabular => Format::Table,
            Mode::Csv => Format::Csv,
            Mode::Json => Format::Json,
            Mode::File => {
                let path = self.file_path.clone().ok_or_else(|| {
                    CliError::Failed("file mode needs a path: .mode -o file -p <path>".into())
                })?;
                let file = std::fs::File::create(&path).map_err(|e| {
                    CliError::Failed(format!("cannot write {}: {e}", path.display()))
                })?;
                let mut w = std::io::BufWriter::new(file);
                output::write_result(&mut w, &res, Format::Csv, &self.ctx(tql))?;
                w.flush()?;
                let rows = match &res {
                    QueryResult::Scalars(s) => s.len(),
                    QueryResult::Series(s) => s.iter().map(|x| x.timestamps.len()).sum(),
                };
                writeln!(out, "wrote {rows} rows to {}", path.display())?;
                return Ok(());
            }
        };
        output::write_result(out, &res, format, &self.ctx(tql))?;
        Ok(())
    }

    fn execute_dot(&mut self, dot: Dot, out: &mut dyn Write) -> Result<Outcome, CliError> {
        match dot {
            Dot::Help => writeln!(out, "{DOT_HELP}")?,
            Dot::Exit => return Ok(Outcome::Exit),
            Dot::Create { stream, value_type } => {
                self.conn.create_stream(&stream, value_type)?;
                writeln!(out, "created {stream} ({})", value_type.short_name())?;
            }
            Dot::Write {
                create,
                value_type,
                path,
                stream,
            } => {
                let mut opts = ImportOptions::new(Naming::Stream(stream));
                opts.create = create;
                opts.value_type = value_type.unwrap_or(ValueType::Float64);
                opts.progress = crate::progress::stderr_is_tty();
                let summary = import::import_csv(&self.conn, Path::new(&path), &opts)?;
                writeln!(out, "{}", summary.line())?;
            }
            Dot::Delete { stream } => {
                if !self.conn.check_stream_exists(&stream)? {
                    return Err(CliError::Failed(format!("no stream {stream}")));
                }
                self.conn.delete_stream(&stream)?;
                writeln!(out, "deleted {stream}")?;
            }
            Dot::InfoStat => write_stats(&self.conn, out)?,
            Dot::InfoStreams => write_streams(&self.conn, out)?,
            Dot::Range(None) => {
                writeln!(
                    out,
                    "range: {} .. {}",
                    self.bound_text(self.start),
                    self.bound_text(self.end)
                )?;
            }
            Dot::Range(Some((s, e))) => {
                let ups = self.ups();
                let start = parse_bound(&s, ups).map_err(CliError::Failed)?;
                let end = parse_bound(&e, ups).map_err(CliError::Failed)?;
                if let (Some(a), Some(b)) = (start, end)
                    && a > b
                {
                    return Err(CliError::Failed(format!(
                        "range start `{s}` is after its end `{e}`"
                    )));
                }
                self.start = start;
                self.end = end;
                writeln!(
                    out,
                    "range: {} .. {}",
                    self.bound_text(start),
                    self.bound_text(end)
                )?;
            }
            Dot::Mode { output, path } => {
                if let Some(p) = path {
                    self.file_path = Some(PathBuf::from(p));
                }
                if let Some(o) = output {
                    let mode = match o.as_str() {
                        "graphical" | "chart" => Mode::Graphical,
                        "tabular" | "table" => Mode::Tabular,
                        "csv" => Mode::Csv,
                        "json" => Mode::Json,
                        _ => Mode::File,
                    };
                    if mode == Mode::File && self.file_path.is_none() {
                        return Err(CliError::Failed(
                            "file mode needs a path: .mode -o file -p <path>".into(),
                        ));
                    }
                    self.mode = mode;
                }
                match (&self.mode, &self.file_path) {
                    (Mode::File, Some(p)) => writeln!(out, "mode: file ({})", p.display())?,
                    (m, _) => writeln!(out, "mode: {}", m.name())?,
                }
            }
            Dot::Timer(None) => writeln!(out, "timer: {}", if self.timer { "on" } else { "off" })?,
            Dot::Timer(Some(on)) => {
                self.timer = on;
                writeln!(out, "timer: {}", if on { "on" } else { "off" })?;
            }
        }
        Ok(Outcome::Continue)
    }
}

pub fn write_stats(conn: &Connection, out: &mut dyn Write) -> Result<(), CliError> {
    let s = conn.stats()?;
    let rows: Vec<(&str, String)> = vec![
        ("streams", thousands(s.streams)),
        ("points", thousands(s.points)),
        (
            "bytes used",
            format!("{} ({})", human_bytes(s.bytes_used), s.bytes_used),
        ),
        (
            "bytes allocated",
            format!("{} ({})", human_bytes(s.bytes_allocated), s.bytes_allocated),
        ),
        ("blocks used", thousands(s.blocks_used)),
        ("blocks free", thousands(s.blocks_free)),
        ("block size", human_bytes(s.block_size)),
        (
            "bytes/point",
            if s.points > 0 {
                format!("{:.2}", s.bytes_used as f64 / s.points as f64)
            } else {
                "-".into()
            },
        ),
        ("time unit", conn.time_unit().name().to_string()),
    ];
    for (k, v) in rows {
        writeln!(out, "{k:<16} {v}")?;
    }
    Ok(())
}

pub fn write_streams(conn: &Connection, out: &mut dyn Write) -> Result<(), CliError> {
    let ups = conn.time_unit().units_per_second();
    let streams = conn.streams()?;
    if streams.is_empty() {
        writeln!(out, "(no streams)")?;
        return Ok(());
    }
    let ts = |t: Option<i64>| {
        t.map(|t| format_timestamp(t, ups))
            .unwrap_or_else(|| "-".into())
    };
    let rows: Vec<Vec<String>> = streams
        .iter()
        .map(|s| {
            vec![
                s.name.clone(),
                s.value_type.short_name().to_string(),
                thousands(s.points),
                ts(s.first_timestamp),
                ts(s.last_timestamp),
                thousands(s.bytes),
            ]
        })
        .collect();
    output::write_table(
        out,
        &[
            "stream",
            "type",
            "points",
            "first (UTC)",
            "last (UTC)",
            "bytes",
        ],
        &[
            Align::Left,
            Align::Left,
            Align::Right,
            Align::Left,
            Align::Left,
            Align::Right,
        ],
        &rows,
    )?;
    Ok(())
}

/// Runs one database subcommand, writing its normal output to `out`. Returns the exit status.
pub fn run_db_cmd(
    dir: &Path,
    new_db: &NewDb,
    cmd: DbCmd,
    out: &mut dyn Write,
) -> Result<i32, CliError> {
    match cmd {
        DbCmd::Repl => {
            let conn = open_db(dir, new_db, true)?;
            let interactive = crate::progress::stdin_is_tty();
            let color = interactive && crate::progress::stdout_is_tty();
            let mut session = Session::new(conn, interactive, color);
            if interactive {
                crate::repl::run_interactive(&mut session, dir)?;
                Ok(0)
            } else {
                let stdin = std::io::stdin();
                let ok = crate::repl::run_script(&mut session, stdin.lock())?;
                Ok(if ok { 0 } else { 1 })
            }
        }
        DbCmd::Query {
            tql,
            start,
            end,
            format,
        } => {
            let conn = open_db(dir, new_db, false)?;
            let ups = conn.time_unit().units_per_second();
            let start = bound_arg(start.as_deref(), ups, "--start")?;
            let end = bound_arg(end.as_deref(), ups, "--end")?;
            let res = conn.prepare_query(&tql, start, end)?.collect()?;
            let ctx = OutputCtx {
                ups,
                color: format == Format::Chart && crate::progress::stdout_is_tty(),
                query: &tql,
            };
            output::write_result(out, &res, format, &ctx)?;
            Ok(0)
        }
        DbCmd::Export {
            selector,
            start,
            end,
            format,
        } => {
            let conn = open_db(dir, new_db, false)?;
            let ups = conn.time_unit().units_per_second();
            let start = bound_arg(start.as_deref(), ups, "--start")?;
            let end = bound_arg(end.as_deref(), ups, "--end")?;
            let res = conn.prepare_query(&selector, start, end)?.collect()?;
            let QueryResult::Series(series) = res else {
                return Err(CliError::Failed(format!(
                    "`{selector}` gives a scalar; export takes a selector (use query for scalars)"
                )));
            };
            if format == Format::Json {
                output::write_series_json(out, &series)?;
            } else {
                writeln!(out, "series,timestamp,value")?;
                output::write_series_csv_rows(out, &series)?;
            }
            Ok(0)
        }
        DbCmd::Import(a) => {
            let conn = open_db(dir, new_db, true)?;
            let summary = run_import(&conn, &a)?;
            writeln!(out, "{}", summary.line())?;
            Ok(0)
        }
        DbCmd::Streams => {
            let conn = open_db(dir, new_db, false)?;
            write_streams(&conn, out)?;
            Ok(0)
        }
        DbCmd::Info => {
            let conn = open_db(dir, new_db, false)?;
            writeln!(out, "database         {}", dir.display())?;
            write_stats(&conn, out)?;
            Ok(0)
        }
        DbCmd::Check => {
            let conn = open_db(dir, new_db, false)?;
            let report = conn.check()?;
            writeln!(
                out,
                "checked {} blocks, {} frames, {} chunks, {} points",
                thousands(report.blocks_checked),
                thousands(report.frames_checked),
                thousands(report.chunks_checked),
                thousands(report.points_checked)
            )?;
            if report.is_ok() {
                writeln!(out, "ok: no problems found")?;
                Ok(0)
            } else {
                for p in &report.problems {
                    writeln!(out, "problem: {p}")?;
                }
                writeln!(
                    out,
                    "CORRUPT: {} problem{} found",
                    report.problems.len(),
                    if report.problems.len() == 1 { "" } else { "s" }
                )?;
                Ok(1)
            }
        }
    }
}

fn bound_arg(v: Option<&str>, ups: i64, what: &str) -> Result<Option<i64>, CliError> {
    match v {
        None => Ok(None),
        Some(s) => parse_bound(s, ups).map_err(|m| CliError::Usage(format!("{what}: {m}"))),
    }
}

pub fn run_import(conn: &Connection, a: &ImportArgs) -> Result<import::ImportSummary, CliError> {
    let naming = match (&a.stream, &a.metric) {
        (Some(s), _) => {
            if !a.labels.is_empty() {
                return Err(CliError::Usage(
                    "--label applies to --metric (put labels in the --stream name)".into(),
                ));
            }
            Naming::Stream(s.clone())
        }
        (None, Some(m)) => Naming::Metric {
            metric: m.clone(),
            labels: a.labels.clone(),
        },
        (None, None) => Naming::Header {
            labels: a.labels.clone(),
        },
    };
    let mut opts = ImportOptions::new(naming);
    opts.columns = a.columns.clone();
    opts.create = a.create;
    opts.value_type = a
        .value_type
        .as_deref()
        .and_then(ValueType::from_short_name)
        .unwrap_or(ValueType::Float64);
    opts.progress = crate::progress::stderr_is_tty();
    import::import_csv(conn, &a.file, &opts)
}
