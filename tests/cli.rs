//! End-to-end tests of the `nanots` binary: every subcommand, the piped REPL, the interactive
//! REPL through a pseudo-terminal, error exits and the quick demo.
#![cfg(feature = "cli")]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_nanots");

/// A fresh directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "nanots-cli-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn join(&self, p: &str) -> PathBuf {
        self.0.join(p)
    }
    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn finish(o: Output) -> Run {
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn nanots(args: &[&str]) -> Run {
    nanots_in(args, None, &[])
}

fn nanots_in(args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("COLUMNS", "80")
        .env("LINES", "24");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn nanots");
    {
        let mut input = child.stdin.take().unwrap();
        if let Some(s) = stdin {
            input.write_all(s.as_bytes()).unwrap();
        }
    }
    finish(child.wait_with_output().unwrap())
}

fn ok(r: &Run) {
    assert_eq!(r.code, 0, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Three hours of a rising value, as a small CSV the tests import.
const TEMP_CSV: &str = "time,value\n\
2024-01-01T00:00:00Z,1.5\n\
2024-01-01T01:00:00Z,2.5\n\
2024-01-01T02:00:00Z,4\n\
2024-01-01T03:00:00Z,3\n";

fn db_with_temp(t: &TempDir) -> PathBuf {
    let db = t.join("db");
    let csv = t.write("temp.csv", TEMP_CSV);
    let r = nanots(&[
        s(&db),
        "import",
        s(&csv),
        "--stream",
        "temp{dev=\"a\"}",
        "--create",
    ]);
    ok(&r);
    db
}

#[test]
fn help_on_every_subcommand() {
    let r = nanots(&["--help"]);
    ok(&r);
    assert!(r.stdout.contains("Usage:"));
    let t = TempDir::new("help");
    let db = t.join("db");
    let db = s(&db);
    for args in [
        &[db, "--help"][..],
        &[db, "query", "--help"],
        &[db, "import", "--help"],
        &[db, "export", "--help"],
        &[db, "streams", "--help"],
        &[db, "info", "--help"],
        &[db, "check", "--help"],
        &["frames", "--help"],
        &["frames", "allocate", "--help"],
        &["frames", "ls", "--help"],
        &["frames", "dump", "--help"],
        &["frames", "free", "--help"],
        &["demo", "--help"],
    ] {
        let r = nanots(args);
        ok(&r);
        assert!(r.stdout.starts_with("nanots"), "{args:?}: {}", r.stdout);
    }
    assert!(!Path::new(db).exists(), "--help never creates a database");
}

#[test]
fn usage_errors_exit_2() {
    let t = TempDir::new("usage");
    let db = db_with_temp(&t);
    let r = nanots(&[s(&db), "frobnicate"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .starts_with("error: unknown subcommand `frobnicate`")
    );
    assert!(r.stderr.contains("Usage:"));
    assert!(r.stdout.is_empty());
    assert_eq!(nanots(&[]).code, 2);
    assert_eq!(nanots(&[s(&db), "query", "x", "--format", "xml"]).code, 2);
    let r = nanots(&[s(&db), "query", "temp", "--start", "yesterday"]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert_eq!(
        nanots(&[
            "frames",
            "allocate",
            "x",
            "--block-size",
            "9XB",
            "--blocks",
            "1"
        ])
        .code,
        2
    );
}

#[test]
fn failures_are_one_line_and_exit_1() {
    let t = TempDir::new("fail");
    let r = nanots(&[s(&t.join("missing")), "streams"]);
    assert_eq!(r.code, 1);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.starts_with("error: no database at"));
    assert!(
        !t.join("missing").exists(),
        "a read-only subcommand must not create a database"
    );

    let db = db_with_temp(&t);
    let r = nanots(&[
        s(&db),
        "import",
        s(&t.join("nope.csv")),
        "--stream",
        "x",
        "--create",
    ]);
    assert_eq!(r.code, 1);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    let csv = t.write("other.csv", "t,v\n1,2\n");
    let r = nanots(&[s(&db), "import", s(&csv), "--stream", "absent"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("does not exist (use --create"),
        "{}",
        r.stderr
    );
}

#[test]
fn tql_syntax_error_shows_a_caret() {
    let t = TempDir::new("caret");
    let db = db_with_temp(&t);
    let r = nanots(&[s(&db), "query", "avg(temp"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.starts_with("error: "), "{}", r.stderr);
    assert!(r.stderr.contains('^'), "{}", r.stderr);
}

#[test]
fn query_in_every_format() {
    let t = TempDir::new("query");
    let db = db_with_temp(&t);
    let r = nanots(&[s(&db), "query", "avg(temp{dev=\"a\"})"]);
    ok(&r);
    assert_eq!(r.stdout, "2.75\n");

    let r = nanots(&[s(&db), "query", "temp", "--start", "2024-01-01T02:00:00Z"]);
    ok(&r);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines[0], "temp{dev=\"a\"}");
    assert!(lines[1].contains("timestamp") && lines[1].contains("time (UTC)"));
    assert!(
        lines[3].contains("1704074400000  2024-01-01 02:00:00"),
        "{}",
        r.stdout
    );
    assert!(lines[3].ends_with(" 4"));
    assert_eq!(lines.last().copied(), Some("(2 points)"));

    let r = nanots(&[
        s(&db),
        "query",
        "temp",
        "--format",
        "csv",
        "--end",
        "1704070800000",
    ]);
    ok(&r);
    assert_eq!(
        r.stdout,
        "series,timestamp,value\n\"temp{dev=\"\"a\"\"}\",1704067200000,1.5\n\"temp{dev=\"\"a\"\"}\",1704070800000,2.5\n"
    );

    let r = nanots(&[s(&db), "query", "temp", "--format", "json"]);
    ok(&r);
    assert!(r.stdout.starts_with(
        "{\"series\":\"temp{dev=\\\"a\\\"}\",\"labels\":{\"__name__\":\"temp\",\"dev\":\"a\"},\"points\":[[1704067200000,1.5],"
    ), "{}", r.stdout);
    assert_eq!(r.stdout.lines().count(), 1);

    let r = nanots(&[s(&db), "query", "temp", "--format", "chart"]);
    ok(&r);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(lines[0].starts_with("temp{dev=\"a\"}"), "{}", r.stdout);
    assert!(lines[1].starts_with("  4 ┤"), "{}", r.stdout);
    assert!(r.stdout.contains("1.5 ┤"));
    assert!(
        r.stdout
            .chars()
            .any(|c| ('\u{2801}'..='\u{28ff}').contains(&c))
    );
    assert!(r.stdout.contains("2024-01-01") || r.stdout.contains("01-01 00:00"));
    assert!(
        lines.iter().all(|l| l.chars().count() <= 80),
        "{}",
        r.stdout
    );
}

#[test]
fn import_every_timestamp_format() {
    let t = TempDir::new("tsformats");
    let db = t.join("db");
    let cases = [
        ("int", "ts,v\n1704067200000,1\n1704067260000,2\n"),
        (
            "rfc",
            "ts,v\n2024-01-01T00:00:00Z,1\n2024-01-01T01:01:00+01:00,2\n",
        ),
        (
            "frac",
            "ts,v\n2024-01-01T00:00:00.000Z,1\n2024-01-01T00:01:00.000000Z,2\n",
        ),
        (
            "space",
            "ts,v\n2024-01-01 00:00:00,1\n2024-01-01 00:01:00,2\n",
        ),
        ("date", "ts,v\n2024-01-01,1\n2024-01-02,2\n"),
    ];
    for (name, text) in cases {
        let csv = t.write(&format!("{name}.csv"), text);
        let r = nanots(&[
            s(&db),
            "import",
            s(&csv),
            "--stream",
            name,
            "--create",
            "--type",
            "i64",
        ]);
        ok(&r);
        assert!(
            r.stdout
                .starts_with("imported 2 points into 1 stream from 2 rows in "),
            "{}",
            r.stdout
        );
        assert!(r.stdout.contains("points/s"));
        let r = nanots(&[s(&db), "export", name]);
        ok(&r);
        let expect_second = if name == "date" {
            1704153600000i64
        } else {
            1704067260000
        };
        assert_eq!(
            r.stdout,
            format!("series,timestamp,value\n{name},1704067200000,1\n{name},{expect_second},2\n")
        );
    }
    let r = nanots(&[s(&db), "streams"]);
    ok(&r);
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with("rfc ") && l.contains(" i64 "))
    );
}

#[test]
fn import_multi_column_plain_gz_and_xz() {
    let t = TempDir::new("multi");
    let db = t.join("db");
    let text = "date_time,Voltage,Global_active_power,Sub\n\
2006-12-16 17:24:00,234.84,4.216,1\n\
2006-12-16 17:25:00,233.63,,2\n\
2006-12-16 17:26:00,233.29,5.374,3\n";
    let plain = t.write("p.csv", text);
    let r = nanots(&[
        s(&db),
        "import",
        s(&plain),
        "--metric",
        "power",
        "--label",
        "house=a",
        "--create",
    ]);
    ok(&r);
    assert!(
        r.stdout
            .starts_with("imported 8 points into 3 streams from 3 rows"),
        "{}",
        r.stdout
    );
    let r = nanots(&[
        s(&db),
        "query",
        "count(power{column=\"Global_active_power\",house=\"a\"})",
    ]);
    ok(&r);
    assert_eq!(r.stdout.trim(), "2");

    let gz = t.join("p.csv.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::default(),
    );
    enc.write_all(text.as_bytes()).unwrap();
    enc.finish().unwrap();
    let xz = t.join("p.csv.xz");
    let mut enc = xz2::write::XzEncoder::new(std::fs::File::create(&xz).unwrap(), 6);
    enc.write_all(text.as_bytes()).unwrap();
    enc.finish().unwrap();
    for (file, house) in [(&gz, "gz"), (&xz, "xz")] {
        let label = format!("house={house}");
        let r = nanots(&[
            s(&db),
            "import",
            s(file),
            "--metric",
            "power",
            "--label",
            &label,
            "--columns",
            "Voltage,Global_active_power",
            "--create",
        ]);
        ok(&r);
        assert!(
            r.stdout.starts_with("imported 5 points into 2 streams"),
            "{}",
            r.stdout
        );
        let q = format!("max(power{{column=\"Voltage\",house=\"{house}\"}})");
        let r = nanots(&[s(&db), "query", &q]);
        ok(&r);
        assert_eq!(r.stdout.trim(), "234.84");
    }
}

#[test]
fn import_bad_rows_name_the_line() {
    let t = TempDir::new("badrows");
    let db = t.join("db");
    for (text, needle) in [
        (
            "t,v\n1,1\n2,oops\n",
            "line 3: column `v`: `oops` is not a valid f64",
        ),
        (
            "t,v\n1,1\nnot-a-time,2\n",
            "line 3: invalid time `not-a-time`",
        ),
        ("t,v\n1,1\n2,2,3\n", "line 3: expected 2 fields, found 3"),
        ("t,v\n5,1\n4,2\n", "line 3: timestamp `4` is not after"),
    ] {
        let csv = t.write("bad.csv", text);
        let r = nanots(&[s(&db), "import", s(&csv), "--stream", "x", "--create"]);
        assert_eq!(r.code, 1, "{text}");
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
        assert!(r.stderr.contains(needle), "{text}: {}", r.stderr);
    }
}

#[test]
fn export_streams_info() {
    let t = TempDir::new("export");
    let db = db_with_temp(&t);
    let r = nanots(&[
        s(&db),
        "export",
        "temp",
        "--format",
        "json",
        "--start",
        "2024-01-01 03:00:00",
    ]);
    ok(&r);
    assert_eq!(
        r.stdout,
        "{\"series\":\"temp{dev=\\\"a\\\"}\",\"labels\":{\"__name__\":\"temp\",\"dev\":\"a\"},\"points\":[[1704078000000,3]]}\n"
    );
    let r = nanots(&[s(&db), "streams"]);
    ok(&r);
    let lines: Vec<&str> = r.stdout.lines().collect();
    for h in [
        "stream",
        "type",
        "points",
        "first (UTC)",
        "last (UTC)",
        "bytes",
    ] {
        assert!(lines[0].contains(h), "{}", r.stdout);
    }
    assert!(lines[2].starts_with("temp{dev=\"a\"}  f64"), "{}", r.stdout);
    assert!(lines[2].contains("2024-01-01 00:00:00  2024-01-01 03:00:00"));
    let r = nanots(&[s(&db), "info"]);
    ok(&r);
    for k in [
        "streams ",
        "points ",
        "bytes used ",
        "bytes allocated ",
        "blocks used ",
        "blocks free ",
    ] {
        assert!(
            r.stdout.lines().any(|l| l.starts_with(k)),
            "{k}: {}",
            r.stdout
        );
    }
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with("points") && l.ends_with(" 4"))
    );
    let r = nanots(&[s(&db), "export", "count(temp)"]);
    assert_eq!(r.code, 1);
}

#[test]
fn piped_script_runs_every_dot_command() {
    let t = TempDir::new("script");
    let db = t.join("db");
    let csv = t.write("a.csv", TEMP_CSV);
    let out_csv = t.join("out.csv");
    let script = format!(
        "# comment lines are skipped\n\
.help\n\
.create temp{{dev=\"a\"}} f64\n\
.create counter i64\n\
.write {csv} temp{{dev=\"a\"}}\n\
.write -c -t u64 {int} hits\n\
.info stat\n\
.info streams\n\
avg(temp{{dev=\"a\"}})\n\
.range 2024-01-01T01:00:00Z -\n\
temp{{dev=\"a\"}}\n\
.range\n\
.range - -\n\
.mode csv\n\
count(temp)\n\
temp\n\
.mode json\n\
temp\n\
.mode -o file -p {out}\n\
temp\n\
.mode graphical\n\
temp\n\
.mode tabular\n\
.timer on\n\
count(temp)\n\
.timer off\n\
.delete counter\n\
avg(temp\n\
.bogus\n\
.exit\n\
count(temp)\n",
        csv = s(&csv),
        int = s(&t.write("int.csv", "t,v\n1,10\n2,20\n")),
        out = s(&out_csv)
    );
    let r = nanots_in(&[s(&db)], Some(&script), &[]);
    assert_eq!(
        r.code, 1,
        "a failing line makes the exit status 1\n{}",
        r.stderr
    );
    let o = &r.stdout;
    assert!(!o.contains("nanots>"), "no prompt when not a terminal");
    assert!(!o.contains('\x1b'), "no colours when not a terminal");
    assert!(o.contains("Commands:") && o.contains(".mode"));
    assert!(o.contains("created temp{dev=\"a\"} (f64)"));
    assert!(o.contains("created counter (i64)"));
    assert!(o.contains("imported 4 points into 1 stream from 4 rows"));
    assert!(o.contains("imported 2 points into 1 stream from 2 rows"));
    assert!(
        o.lines()
            .any(|l| l.starts_with("streams") && l.ends_with(" 3")),
        "{o}"
    );
    assert!(
        o.lines()
            .any(|l| l.starts_with("hits") && l.contains("u64")),
        "{o}"
    );
    assert!(o.contains("\n2.75\n"));
    assert!(o.contains("range: 2024-01-01 01:00:00 (1704070800000) .. -"));
    assert!(o.contains("(3 points)"), "the window applies: {o}");
    assert!(o.contains("range: - .. -"));
    assert!(o.contains("mode: csv\n4\nseries,timestamp,value\n"), "{o}");
    assert!(o.contains("mode: json\n{\"series\":\"temp{dev=\\\"a\\\"}\""));
    assert!(o.contains(&format!("mode: file ({})\nwrote 4 rows to", s(&out_csv))));
    assert!(o.contains("mode: graphical\ntemp{dev=\"a\"}  (4 points, UTC)"));
    assert!(o.contains("Run Time: "));
    assert!(o.contains("deleted counter"));
    let after_exit = o.rsplit("timer: off").next().unwrap_or("");
    assert!(
        !after_exit.contains("\n4\n"),
        "nothing runs after .exit: {o}"
    );
    let csv_text = std::fs::read_to_string(&out_csv).unwrap();
    assert!(
        csv_text.starts_with("series,timestamp,value\n\"temp{dev=\"\"a\"\"}\",1704067200000,1.5\n")
    );
    // Errors name their line and go to stderr.
    let e = &r.stderr;
    assert!(e.contains("error: line 28: "), "{e}");
    assert!(e.contains('^'), "{e}");
    assert!(
        e.contains("error: line 29: unknown command `.bogus`"),
        "{e}"
    );
    assert!(
        !std::fs::read_to_string(db.join(".nanots_history"))
            .map(|h| h.contains(".bogus"))
            .unwrap_or(false)
    );

    // A clean script exits 0.
    let r = nanots_in(&[s(&db)], Some(".info stat\ncount(temp)\n"), &[]);
    ok(&r);
}

#[test]
fn frames_allocate_ls_dump_free() {
    let t = TempDir::new("frames");
    let f = t.join("f.nts");
    let r = nanots(&[
        "frames",
        "allocate",
        s(&f),
        "--block-size",
        "64KiB",
        "--blocks",
        "32",
    ]);
    ok(&r);
    assert_eq!(
        r.stdout,
        format!("allocated {}: 32 blocks of 64.0 KiB (2.00 MiB)\n", s(&f))
    );
    let r = nanots(&[
        "frames",
        "allocate",
        s(&f),
        "--block-size",
        "64KiB",
        "--blocks",
        "16",
    ]);
    assert_eq!(r.code, 1, "never overwrites");
    let g = t.join("g.nts");
    ok(&nanots(&[
        "frames",
        "allocate",
        s(&g),
        "--block-size",
        "1MiB",
        "--growable",
        "--max",
        "4",
    ]));

    {
        let w = nanots::Writer::open(&f, true).unwrap();
        let mut ctx = w.create_write_context("cam", "meta").unwrap();
        for i in 0..100i64 {
            let data = vec![(i % 251) as u8; 10_000];
            ctx.write(&data, 1_000 + i * 10, u32::from(i % 10 == 0))
                .unwrap();
        }
        ctx.flush().unwrap();
    }
    let r = nanots(&["frames", "ls", s(&f)]);
    ok(&r);
    assert!(r.stdout.contains("block size   64.0 KiB"), "{}", r.stdout);
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with("cam ") && l.contains(" 100 ")),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("segments of cam:"));

    let r = nanots(&[
        "frames",
        "dump",
        s(&f),
        "cam",
        "--start",
        "1000",
        "--end",
        "1020",
        "--hex",
    ]);
    ok(&r);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines[0], "timestamp,time_utc,flags,size,block_sequence");
    assert!(
        lines[1].starts_with("1000,1970-01-01T00:00:00.001000Z,0x1,10000,"),
        "{}",
        r.stdout
    );
    assert!(lines[2].starts_with("  00000000  00 00 00"), "{}", r.stdout);
    // Repeated lines collapse to `*`, as in `hexdump -C`.
    assert_eq!(lines[3], "  *", "{}", r.stdout);
    assert!(lines[4].starts_with("  00002710"), "{}", r.stdout);
    assert!(lines[5].starts_with("1010,"), "{}", r.stdout);
    assert_eq!(r.stderr.trim(), "3 frames");

    let r = nanots(&["frames", "free", s(&f), "cam", "0", "1500"]);
    ok(&r);
    assert!(r.stdout.starts_with("freed "), "{}", r.stdout);
    let r = nanots(&["frames", "dump", s(&f), "nope"]);
    assert_eq!(r.code, 1);
    assert_eq!(r.stderr.lines().count(), 1);
}

#[test]
fn check_healthy_and_corrupted() {
    let t = TempDir::new("check");
    let db = t.join("db");
    let rows: String = (0..20_000)
        .map(|i| {
            format!(
                "{},{}\n",
                1_700_000_000_000i64 + i * 1000,
                (i % 97) as f64 * 0.5
            )
        })
        .collect();
    let csv = t.write("big.csv", &format!("t,v\n{rows}"));
    ok(&nanots(&[
        s(&db),
        "import",
        s(&csv),
        "--stream",
        "big",
        "--create",
    ]));
    let r = nanots(&[s(&db), "check"]);
    ok(&r);
    assert!(r.stdout.contains("ok: no problems found"), "{}", r.stdout);

    // The data file's name is fixed by the library: `<db_dir>/data.nts`.
    corrupt_data_file(&db.join("data.nts"));
    let r = nanots(&[s(&db), "check"]);
    assert_eq!(r.code, 1, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("CORRUPT") || r.stderr.contains("error"),
        "{}{}",
        r.stdout,
        r.stderr
    );
}

/// Flips 64 bytes in the middle of the data file's frame payloads. Frames grow from the right
/// end of a block, so the last run of non-zero bytes (gaps under 256 zero bytes allowed) is
/// chunk data.
fn corrupt_data_file(path: &Path) {
    let mut data = std::fs::read(path).unwrap();
    let end = data
        .iter()
        .rposition(|&b| b != 0)
        .expect("data file has data");
    let mut start = end;
    let mut zeros = 0;
    while start > 0 && zeros < 256 {
        start -= 1;
        zeros = if data[start] == 0 { zeros + 1 } else { 0 };
    }
    let mid = (start + end) / 2;
    for b in &mut data[mid..mid + 64] {
        *b ^= 0xff;
    }
    std::fs::write(path, data).unwrap();
}

#[test]
fn quick_demo() {
    let t = TempDir::new("demo");
    let dir = t.join("demo");
    let r = nanots_in(&["demo", s(&dir)], None, &[("NANOTS_DEMO_QUICK", "1")]);
    ok(&r);
    let o = &r.stdout;
    for needle in [
        "== 1. Frames: 4 cameras at 30 fps",
        "live reader verified 600 of 600 frames (0 mismatches",
        "random seeks: 2,000 over 4 streams: p50 ",
        "(0 wrong)",
        "synthetic sensors (NANOTS_DEMO_QUICK is set)",
        "count(sensor{column=\"temperature\"})",
        "= 20160",
        "avg(sensor{column=\"temperature\"})[1d]",
        "┤",
        "bytes/point",
        "== Summary: frames ",
    ] {
        assert!(o.contains(needle), "missing `{needle}` in:\n{o}");
    }
    assert!(dir.join("frames.nts").exists(), "a given directory is kept");
    let r = nanots_in(&["demo", s(&dir)], None, &[("NANOTS_DEMO_QUICK", "1")]);
    assert_eq!(r.code, 1, "refuses to reuse a demo directory");
}

/// The interactive shell on a pseudo-terminal, as a person at a terminal would run it.
struct PtySession {
    child: std::process::Child,
    writer: std::fs::File,
    rx: std::sync::mpsc::Receiver<Vec<u8>>,
    screen: String,
    /// How much of `screen` earlier waits have consumed.
    seen: usize,
}

impl PtySession {
    fn start(db: &Path) -> PtySession {
        use std::os::fd::{FromRawFd, OwnedFd};
        use std::os::unix::process::CommandExt;

        let (mut master_fd, mut slave_fd) = (-1, -1);
        let ws = libc::winsize {
            ws_row: 30,
            ws_col: 100,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: openpty writes two descriptors into the ints we pass; the name and termios
        // pointers may be null.
        let rc = unsafe {
            libc::openpty(
                &mut master_fd,
                &mut slave_fd,
                std::ptr::null_mut(),
                std::ptr::null(),
                &ws,
            )
        };
        assert_eq!(rc, 0, "openpty failed");
        // SAFETY: both descriptors were just returned by openpty and nothing else owns them.
        let master = unsafe { OwnedFd::from_raw_fd(master_fd) };
        let slave = unsafe { OwnedFd::from_raw_fd(slave_fd) };
        let mut cmd = Command::new(BIN);
        cmd.arg(s(db))
            .stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave))
            .env("TERM", "xterm");
        // SAFETY: only async-signal-safe calls between fork and exec: a new session whose
        // controlling terminal is the pty, as a shell would give it.
        unsafe {
            cmd.pre_exec(|| {
                libc::setsid();
                libc::ioctl(0, libc::TIOCSCTTY as _, 0);
                Ok(())
            });
        }
        let child = cmd.spawn().unwrap();
        // The parent's copies of the slave side must be closed so that reads end at exit.
        drop(cmd);
        let mut reader = std::fs::File::from(master.try_clone().unwrap());
        let writer = std::fs::File::from(master);
        let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            // Ends with EIO once the child has exited and the slave side is closed.
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        PtySession {
            child,
            writer,
            rx,
            screen: String::new(),
            seen: 0,
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).unwrap();
    }

    /// Waits until `needle` appears in the output after the previous match.
    fn wait_for(&mut self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(pos) = self.screen[self.seen..].find(needle) {
                self.seen += pos + needle.len();
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "timed out waiting for {needle:?}; screen so far:\n{}",
                self.screen
            );
            if let Ok(chunk) = self.rx.recv_timeout(left.min(Duration::from_millis(200))) {
                self.screen.push_str(&String::from_utf8_lossy(&chunk));
                // Answer cursor-position queries as a terminal would.
                if self.screen.ends_with("\x1b[6n") {
                    self.send(b"\x1b[1;1R");
                }
            }
        }
    }

    fn wait_exit(mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st;
            }
            assert!(
                Instant::now() < deadline,
                "the REPL did not exit; screen:\n{}",
                self.screen
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Drives the interactive shell through a pseudo-terminal: the prompt appears, queries and
/// commands run, Ctrl-C cancels a half-typed line, `.exit` and Ctrl-D leave, and the history
/// file records the lines.
#[test]
fn interactive_repl_in_a_pty() {
    let t = TempDir::new("pty");
    let db = db_with_temp(&t);
    let mut pty = PtySession::start(&db);
    pty.wait_for("nanots>");
    pty.send(b"avg(temp)\r");
    pty.wait_for("2.75");
    pty.wait_for("nanots>");
    pty.send(b".info streams\r");
    pty.wait_for("first (UTC)");
    pty.wait_for("nanots>");
    // Ctrl-C drops the half-typed line: nothing runs and the next line works.
    pty.send(b"this is not tql");
    pty.wait_for("tql");
    pty.send(b"\x03");
    pty.wait_for("nanots>");
    pty.send(b"count(temp)\r");
    pty.wait_for("4\r\n");
    pty.send(b".exit\r");
    let status = pty.wait_exit();
    assert!(status.success(), "{status:?}");
    let history = std::fs::read_to_string(db.join(".nanots_history")).unwrap();
    assert!(
        history.contains("avg(temp)") && history.contains(".exit"),
        "{history}"
    );
    assert!(!history.contains("this is not tql"), "{history}");

    // Ctrl-D on an empty line leaves too; the history is there for the next session.
    let mut pty = PtySession::start(&db);
    pty.wait_for("nanots>");
    pty.send(b"\x1b[A");
    pty.wait_for(".exit");
    pty.send(b"\x15\x04");
    let status = pty.wait_exit();
    assert!(status.success(), "{status:?}");
}
