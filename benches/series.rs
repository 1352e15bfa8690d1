//! Numeric-stream benchmarks: every nanots workload beside its SQLite peer, on the same data,
//! in one criterion group per workload.
//!
//! Data: the household-power dataset (`../shared/data/householdpower.csv.xz`, 2,075,259 rows,
//! one per minute; `Voltage` and `Global_active_power` as f64 streams, timestamps in ms), and a
//! synthetic 120k-point i64 random walk (small steps, one point per second). Without `xz` or
//! the file, a synthetic series of the same size and shape stands in, and the run says so.
//!
//! SQLite peer: rusqlite (bundled), one table per stream `(ts INTEGER PRIMARY KEY, value REAL)`
//! (`INTEGER` for the walk), WAL, `synchronous=FULL` (a commit is durable, as a nanots
//! `flush()` is), all rows inserted in one transaction with a cached prepared statement.
//!
//! Workloads (the rows of the performance table in the design brief):
//! 1. insert + flush: a fresh database, `insert_batch` of the whole column, `flush` (≥ 10×)
//! 2. full-range vector read drained with `next_vector` (≥ 20×)
//! 3. `sum` / `avg` / `max` over the whole column (≥ 50×)
//! 4. `avg(...)[1h]`
//! 5. `power{column="Global_active_power"} * 1000 / power{column="Voltage"}` (SQLite: a join)
//! 6. bytes per point, printed at the start
//!
//! `cargo bench --bench series` (a few minutes). For a ratio table with medians over
//! repetitions: `cargo run --release --example series_compare`, which runs the same code.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use support::{ReadSet, Scratch, Set};

/// Everything the criterion bench and `examples/series_compare.rs` share, so that both
/// measure exactly the same code.
#[allow(dead_code)]
pub mod support {
    use std::io::{BufRead, BufReader};
    use std::path::{Path, PathBuf};
    use std::process::{Command, Stdio};
    use std::sync::OnceLock;
    use std::time::{Duration, Instant};

    use nanots::{Column, Connection, Value, ValueType};
    use rusqlite::types::ValueRef;

    pub const DATA_FILE: &str = "householdpower.csv.xz";
    /// Rows of the real dataset; the synthetic stand-in has as many.
    pub const POWER_ROWS: usize = 2_075_259;
    pub const WALK_POINTS: usize = 120_000;
    pub const VOLTAGE: &str = r#"power{column="Voltage"}"#;
    pub const ACTIVE: &str = r#"power{column="Global_active_power"}"#;
    pub const WALK: &str = r#"walk{kind="synthetic"}"#;
    /// The vector∘vector expression and its SQL equivalent (same timestamps on both sides,
    /// so nanots' union of timestamps is the join's intersection).
    pub const EXPR: &str =
        r#"power{column="Global_active_power"} * 1000 / power{column="Voltage"}"#;
    pub const EXPR_SQL: &str = "SELECT a.ts, a.value * 1000 / v.value FROM active a \
                                JOIN voltage v ON v.ts = a.ts ORDER BY a.ts";
    /// One hour in the database's unit (milliseconds).
    pub const HOUR_MS: i64 = 3_600_000;

    // -----------------------------------------------------------------------------------------
    // Data
    // -----------------------------------------------------------------------------------------

    /// The household-power columns used here.
    pub struct Power {
        pub ts: Vec<i64>,
        pub voltage: Column,
        pub active: Column,
        /// Where the data came from, for the report ("real ..." or "SYNTHETIC ...").
        pub origin: String,
        pub real: bool,
    }

    pub struct Walk {
        pub ts: Vec<i64>,
        pub values: Column,
    }

    /// The dataset directory: `<project>/../shared/data`.
    pub fn data_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join("shared")
            .join("data")
    }

    /// The power columns, parsed once per process.
    pub fn power() -> &'static Power {
        static POWER: OnceLock<Power> = OnceLock::new();
        POWER.get_or_init(|| {
            let path = data_dir().join(DATA_FILE);
            let started = Instant::now();
            match load_power(&path) {
                Ok(p) => {
                    eprintln!(
                        "loaded {} rows of {} in {:.1} s",
                        p.ts.len(),
                        path.display(),
                        started.elapsed().as_secs_f64()
                    );
                    p
                }
                Err(why) => {
                    eprintln!(
                        "SKIPPING the real dataset: {why}.\n\
                         Falling back to a SYNTHETIC series of {POWER_ROWS} points (random \
                         walks shaped like Voltage and Global_active_power); sizes and \
                         ratios below are NOT those of the real data."
                    );
                    synthetic_power(why)
                }
            }
        })
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
    /// `days_from_civil`).
    pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400; // [0, 399]
        let mp = (m + 9) % 12; // March = 0
        let doy = (153 * mp + 2) / 5 + d - 1; // [0, 365]
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
        era * 146_097 + doe - 719_468
    }

    fn digits(s: &[u8]) -> Option<i64> {
        if s.is_empty() {
            return None;
        }
        s.iter().try_fold(0i64, |acc, &b| {
            b.is_ascii_digit().then(|| acc * 10 + i64::from(b - b'0'))
        })
    }

    /// `YYYY-MM-DD HH:MM:SS`, taken as UTC, in milliseconds since the epoch.
    pub fn parse_datetime_ms(s: &[u8]) -> Option<i64> {
        if s.len() != 19 || s[4] != b'-' || s[7] != b'-' || s[10] != b' ' {
            return None;
        }
        if s[13] != b':' || s[16] != b':' {
            return None;
        }
        let (y, mo, d) = (digits(&s[0..4])?, digits(&s[5..7])?, digits(&s[8..10])?);
        let (h, mi, se) = (
            digits(&s[11..13])?,
            digits(&s[14..16])?,
            digits(&s[17..19])?,
        );
        if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
            return None;
        }
        let seconds = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + se;
        Some(seconds * 1000)
    }

    fn parse_f64(field: &[u8]) -> Option<f64> {
        std::str::from_utf8(field).ok()?.trim().parse().ok()
    }

    /// Streams the file through `xz -dc` and keeps date_time, Global_active_power, Voltage.
    fn load_power(path: &Path) -> Result<Power, String> {
        if !path.exists() {
            return Err(format!("{} is absent", path.display()));
        }
        let mut child = Command::new("xz")
            .arg("-dc")
            .arg(path)
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run `xz -dc` ({e}); is xz installed?"))?;
        let stdout = child.stdout.take().ok_or("xz gave no stdout")?;
        let mut input = BufReader::with_capacity(1 << 20, stdout);
        let mut ts = Vec::with_capacity(POWER_ROWS);
        let mut voltage = Vec::with_capacity(POWER_ROWS);
        let mut active = Vec::with_capacity(POWER_ROWS);
        let mut line = Vec::with_capacity(256);
        let mut columns: Option<(usize, usize, usize)> = None;
        let mut line_no = 0usize;
        loop {
            line.clear();
            let n = input
                .read_until(b'\n', &mut line)
                .map_err(|e| format!("reading xz output: {e}"))?;
            if n == 0 {
                break;
            }
            line_no += 1;
            let text = line.strip_suffix(b"\n").unwrap_or(&line);
            let text = text.strip_suffix(b"\r").unwrap_or(text);
            if text.is_empty() {
                continue;
            }
            let Some((c_ts, c_active, c_voltage)) = columns else {
                let names: Vec<&[u8]> = text.split(|&b| b == b',').collect();
                let find = |name: &str| {
                    names
                        .iter()
                        .position(|n| *n == name.as_bytes())
                        .ok_or_else(|| format!("no column {name} in the header"))
                };
                columns = Some((
                    find("date_time")?,
                    find("Global_active_power")?,
                    find("Voltage")?,
                ));
                continue;
            };
            let (mut t, mut a, mut v) = (None, None, None);
            for (i, field) in text.split(|&b| b == b',').enumerate() {
                if i == c_ts {
                    t = parse_datetime_ms(field);
                } else if i == c_active {
                    a = parse_f64(field);
                } else if i == c_voltage {
                    v = parse_f64(field);
                }
            }
            match (t, a, v) {
                (Some(t), Some(a), Some(v)) => {
                    ts.push(t);
                    active.push(a);
                    voltage.push(v);
                }
                _ => {
                    let _ = child.kill();
                    return Err(format!(
                        "line {line_no} does not parse: {}",
                        String::from_utf8_lossy(text)
                    ));
                }
            }
        }
        let status = child.wait().map_err(|e| format!("waiting for xz: {e}"))?;
        if !status.success() {
            return Err(format!("xz -dc failed ({status})"));
        }
        if ts.is_empty() {
            return Err("the file holds no rows".into());
        }
        if ts.windows(2).any(|w| w[1] <= w[0]) {
            return Err("timestamps are not strictly increasing".into());
        }
        if ts.len() != POWER_ROWS {
            eprintln!(
                "warning: {} rows, not the documented {POWER_ROWS}",
                ts.len()
            );
        }
        Ok(Power {
            origin: format!("real household-power data, {} rows", ts.len()),
            ts,
            voltage: Column::Float64(voltage),
            active: Column::Float64(active),
            real: true,
        })
    }

    /// A deterministic PRNG (SplitMix64): no external crates, same data every run.
    pub struct Rng(u64);

    impl Rng {
        pub fn new(seed: u64) -> Rng {
            Rng(seed)
        }

        pub fn next_u64(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        /// Uniform in `[-k, k]`.
        pub fn step(&mut self, k: i64) -> i64 {
            (self.next_u64() % (2 * k as u64 + 1)) as i64 - k
        }
    }

    /// Same size and cadence as the real data: one point a minute from 2006-12-16 17:24 UTC;
    /// voltage a walk around 240 V in centivolts, active power a walk in watts (kW, 3 decimals).
    fn synthetic_power(why: String) -> Power {
        let start = days_from_civil(2006, 12, 16) * 86_400_000 + (17 * 60 + 24) * 60_000;
        let mut rng = Rng::new(42);
        let (mut cv, mut w) = (24_000i64, 1_000i64);
        let mut ts = Vec::with_capacity(POWER_ROWS);
        let mut voltage = Vec::with_capacity(POWER_ROWS);
        let mut active = Vec::with_capacity(POWER_ROWS);
        for i in 0..POWER_ROWS {
            cv = (cv + rng.step(40)).clamp(22_500, 25_500);
            w = (w + rng.step(60)).clamp(76, 11_000);
            ts.push(start + i as i64 * 60_000);
            voltage.push(cv as f64 / 100.0);
            active.push(w as f64 / 1000.0);
        }
        Power {
            origin: format!("SYNTHETIC stand-in ({why}), {POWER_ROWS} points"),
            ts,
            voltage: Column::Float64(voltage),
            active: Column::Float64(active),
            real: false,
        }
    }

    /// The 120k-point i64 random walk: steps in [-3, 3], one point per second (ms timestamps).
    pub fn walk() -> &'static Walk {
        static WALK_DATA: OnceLock<Walk> = OnceLock::new();
        WALK_DATA.get_or_init(|| {
            let start = days_from_civil(2024, 1, 1) * 86_400_000;
            let mut rng = Rng::new(7);
            let mut v = 1_000i64;
            let mut ts = Vec::with_capacity(WALK_POINTS);
            let mut values = Vec::with_capacity(WALK_POINTS);
            for i in 0..WALK_POINTS {
                v += rng.step(3);
                ts.push(start + i as i64 * 1000);
                values.push(v);
            }
            Walk {
                ts,
                values: Column::Integer64(values),
            }
        })
    }

    /// The two datasets every single-stream workload runs on.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Set {
        /// The 2,075,259-point Voltage column (f64).
        Voltage,
        /// The synthetic 120k-point i64 walk.
        Walk,
    }

    impl Set {
        pub const ALL: [Set; 2] = [Set::Voltage, Set::Walk];

        pub fn label(self) -> &'static str {
            match self {
                Set::Voltage => "voltage",
                Set::Walk => "walk",
            }
        }

        pub fn describe(self) -> &'static str {
            match self {
                Set::Voltage => "Voltage, 2.08M f64",
                Set::Walk => "walk, 120k i64",
            }
        }

        pub fn stream(self) -> &'static str {
            match self {
                Set::Voltage => VOLTAGE,
                Set::Walk => WALK,
            }
        }

        pub fn table(self) -> &'static str {
            match self {
                Set::Voltage => "voltage",
                Set::Walk => "walk",
            }
        }

        pub fn value_type(self) -> ValueType {
            match self {
                Set::Voltage => ValueType::Float64,
                Set::Walk => ValueType::Integer64,
            }
        }

        fn sql_type(self) -> &'static str {
            match self {
                Set::Voltage => "REAL",
                Set::Walk => "INTEGER",
            }
        }

        pub fn data(self) -> (&'static [i64], &'static Column) {
            match self {
                Set::Voltage => (&power().ts, &power().voltage),
                Set::Walk => (&walk().ts, &walk().values),
            }
        }

        pub fn points(self) -> usize {
            self.data().0.len()
        }
    }

    // -----------------------------------------------------------------------------------------
    // Scratch space
    // -----------------------------------------------------------------------------------------

    /// A directory under the system temp dir, removed when dropped.
    pub struct Scratch {
        dir: PathBuf,
        next: std::cell::Cell<u64>,
    }

    impl Scratch {
        pub fn new(name: &str) -> Scratch {
            let dir =
                std::env::temp_dir().join(format!("nanots-series-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("create scratch dir");
            Scratch {
                dir,
                next: std::cell::Cell::new(0),
            }
        }

        pub fn path(&self, name: &str) -> PathBuf {
            self.dir.join(name)
        }

        /// A path not used before in this scratch directory.
        pub fn fresh(&self, prefix: &str) -> PathBuf {
            let n = self.next.get();
            self.next.set(n + 1);
            self.dir.join(format!("{prefix}-{n}"))
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    pub fn remove_sqlite(path: &Path) {
        for suffix in ["", "-wal", "-shm"] {
            let mut p = path.as_os_str().to_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(PathBuf::from(p));
        }
    }

    // -----------------------------------------------------------------------------------------
    // Checksums: every read workload folds what it reads into one of these so nothing is
    // optimised away, and so nanots and SQLite can be checked to agree.
    // -----------------------------------------------------------------------------------------

    #[derive(Debug, Clone, Copy, Default, PartialEq)]
    pub struct Acc {
        pub points: u64,
        pub ts: i64,
        pub int: i64,
        pub float: f64,
    }

    impl Acc {
        #[inline]
        pub fn add_ts(&mut self, ts: i64) {
            self.points += 1;
            self.ts = self.ts.wrapping_add(ts);
        }

        #[inline]
        pub fn add_value(&mut self, v: Value) {
            match v {
                Value::Integer64(x) => self.int = self.int.wrapping_add(x),
                Value::UInteger64(x) => self.int = self.int.wrapping_add(x as i64),
                Value::Float64(x) => self.float += x,
            }
        }

        #[inline]
        pub fn add_sql(&mut self, v: ValueRef<'_>) {
            match v {
                ValueRef::Integer(x) => self.int = self.int.wrapping_add(x),
                ValueRef::Real(x) => self.float += x,
                _ => {}
            }
        }

        /// Same points and timestamps, same integer sum, float sums equal to 1e-9 relative.
        pub fn agrees(&self, other: &Acc) -> bool {
            let close = (self.float - other.float).abs()
                <= 1e-9 * self.float.abs().max(other.float.abs()).max(1.0);
            self.points == other.points && self.ts == other.ts && self.int == other.int && close
        }
    }

    fn scalar_of(v: ValueRef<'_>) -> Value {
        match v {
            ValueRef::Integer(x) => Value::Integer64(x),
            ValueRef::Real(x) => Value::Float64(x),
            _ => Value::Float64(f64::NAN),
        }
    }

    /// Whether two scalars agree (integers exactly, floats to 1e-9 relative).
    pub fn scalars_agree(a: Value, b: Value) -> bool {
        match (a, b) {
            (Value::Float64(_), _) | (_, Value::Float64(_)) => {
                let (x, y) = (a.as_f64(), b.as_f64());
                (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0)
            }
            _ => a.as_i64() == b.as_i64(),
        }
    }

    // -----------------------------------------------------------------------------------------
    // 1. Insert + flush
    // -----------------------------------------------------------------------------------------

    /// Creates a database in `dir`, inserts the whole set with `insert_batch` and flushes.
    /// Returns the time taken and the open connection (closing is not timed).
    pub fn nts_insert(dir: &Path, set: Set) -> (Duration, Connection) {
        let (ts, values) = set.data();
        let started = Instant::now();
        let conn = Connection::new(dir).expect("nanots: create database");
        conn.create_stream(set.stream(), set.value_type())
            .expect("create stream");
        let mut inserter = conn.prepare_insert(set.stream()).expect("prepare_insert");
        inserter.insert_batch(ts, values).expect("insert_batch");
        inserter.flush().expect("flush");
        let elapsed = started.elapsed();
        drop(inserter);
        (elapsed, conn)
    }

    /// Opens (creating) a SQLite database configured as the peer.
    pub fn sql_open(path: &Path) -> rusqlite::Connection {
        let conn = rusqlite::Connection::open(path).expect("open sqlite");
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .expect("wal");
        assert!(mode.eq_ignore_ascii_case("wal"), "sqlite refused WAL");
        conn.execute_batch("PRAGMA synchronous=FULL;")
            .expect("synchronous");
        conn
    }

    /// Fills `table` with the set's points in one transaction.
    pub fn sql_fill(
        conn: &mut rusqlite::Connection,
        table: &str,
        set: Set,
        ts: &[i64],
        values: &Column,
    ) {
        conn.execute_batch(&format!(
            "CREATE TABLE {table} (ts INTEGER PRIMARY KEY, value {} NOT NULL);",
            set.sql_type()
        ))
        .expect("create table");
        let tx = conn.transaction().expect("begin");
        {
            let mut stmt = tx
                .prepare_cached(&format!("INSERT INTO {table} (ts, value) VALUES (?1, ?2)"))
                .expect("prepare insert");
            match values {
                Column::Float64(v) => {
                    for (&t, &x) in ts.iter().zip(v) {
                        stmt.execute((t, x)).expect("insert");
                    }
                }
                Column::Integer64(v) => {
                    for (&t, &x) in ts.iter().zip(v) {
                        stmt.execute((t, x)).expect("insert");
                    }
                }
                Column::UInteger64(v) => {
                    for (&t, &x) in ts.iter().zip(v) {
                        stmt.execute((t, x as i64)).expect("insert");
                    }
                }
            }
        }
        tx.commit().expect("commit");
    }

    /// Creates a SQLite database at `path`, creates the table and inserts the whole set in one
    /// transaction. Returns the time taken (up to a durable commit) and the open connection.
    pub fn sql_insert(path: &Path, set: Set) -> (Duration, rusqlite::Connection) {
        let (ts, values) = set.data();
        remove_sqlite(path);
        let started = Instant::now();
        let mut conn = sql_open(path);
        sql_fill(&mut conn, set.table(), set, ts, values);
        (started.elapsed(), conn)
    }

    /// Writes back every dirty page of the machine (`sync`), untimed, so that an insert does
    /// not pay at its first fsync for the previous workload's writes (the file system's
    /// journal makes one file's fsync wait for others' pending metadata).
    pub fn settle() {
        let _ = Command::new("sync").status();
    }

    /// One timed insert into a fresh nanots database under `scratch`, cleaned up afterwards.
    pub fn nts_insert_once(scratch: &Scratch, set: Set) -> Duration {
        settle();
        let dir = scratch.fresh("nts-insert");
        let (elapsed, conn) = nts_insert(&dir, set);
        drop(conn);
        let _ = std::fs::remove_dir_all(&dir);
        elapsed
    }

    /// One timed insert into a fresh SQLite database under `scratch`, cleaned up afterwards.
    pub fn sql_insert_once(scratch: &Scratch, set: Set) -> Duration {
        settle();
        let path = scratch.fresh("sql-insert.sqlite");
        let (elapsed, conn) = sql_insert(&path, set);
        drop(conn);
        remove_sqlite(&path);
        elapsed
    }

    // -----------------------------------------------------------------------------------------
    // The read set: one nanots database and one SQLite database holding every stream
    // -----------------------------------------------------------------------------------------

    pub struct ReadSet {
        pub nts: Connection,
        pub sql: rusqlite::Connection,
        _scratch: Scratch,
    }

    impl ReadSet {
        pub fn build(name: &str) -> ReadSet {
            let scratch = Scratch::new(name);
            let p = power();
            let (walk_ts, walk_values) = Set::Walk.data();
            let nts = Connection::new(scratch.path("nts")).expect("nanots: create database");
            for (stream, vt, ts, values) in [
                (VOLTAGE, ValueType::Float64, &p.ts[..], &p.voltage),
                (ACTIVE, ValueType::Float64, &p.ts[..], &p.active),
                (WALK, ValueType::Integer64, walk_ts, walk_values),
            ] {
                nts.create_stream(stream, vt).expect("create stream");
                let mut ins = nts.prepare_insert(stream).expect("prepare_insert");
                ins.insert_batch(ts, values).expect("insert_batch");
                ins.flush().expect("flush");
            }
            let mut sql = sql_open(&scratch.path("read.sqlite"));
            sql_fill(&mut sql, "voltage", Set::Voltage, &p.ts, &p.voltage);
            sql_fill(&mut sql, "active", Set::Voltage, &p.ts, &p.active);
            sql_fill(&mut sql, "walk", Set::Walk, walk_ts, walk_values);
            sql.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); ANALYZE;")
                .expect("checkpoint");
            ReadSet {
                nts,
                sql,
                _scratch: scratch,
            }
        }

        // 2. Full-range vector read.

        pub fn nts_read(&self, set: Set) -> Acc {
            let mut q = self
                .nts
                .prepare_query(set.stream(), None, None)
                .expect("prepare_query");
            let mut acc = Acc::default();
            while let Some(p) = q.next_vector() {
                acc.add_ts(p.timestamp);
                acc.add_value(p.value);
            }
            assert!(q.error().is_none(), "query failed: {:?}", q.error());
            acc
        }

        /// The same read into memory with `Query::collect` (not a table row with a target:
        /// it separates the per-point cost of `next_vector` from decoding).
        pub fn nts_collect(&self, set: Set) -> usize {
            let result = self
                .nts
                .prepare_query(set.stream(), None, None)
                .expect("prepare_query")
                .collect()
                .expect("collect");
            match result {
                nanots::QueryResult::Series(series) => {
                    series.iter().map(|s| s.timestamps.len()).sum()
                }
                nanots::QueryResult::Scalars(_) => 0,
            }
        }

        pub fn sql_read(&self, set: Set) -> Acc {
            let sql = format!("SELECT ts, value FROM {} ORDER BY ts", set.table());
            self.sql_rows(&sql)
        }

        fn sql_rows(&self, sql: &str) -> Acc {
            let mut stmt = self.sql.prepare_cached(sql).expect("prepare");
            let mut rows = stmt.query([]).expect("query");
            let mut acc = Acc::default();
            while let Some(row) = rows.next().expect("step") {
                acc.add_ts(row.get::<_, i64>(0).expect("ts"));
                acc.add_sql(row.get_ref(1).expect("value"));
            }
            acc
        }

        // 3. Whole-column aggregates.

        pub fn nts_aggregate(&self, func: &str, set: Set) -> Value {
            let mut q = self
                .nts
                .prepare_query(&format!("{func}({})", set.stream()), None, None)
                .expect("prepare_query");
            q.next_scalar().expect("a scalar")
        }

        pub fn sql_aggregate(&self, func: &str, set: Set) -> Value {
            let sql = format!("SELECT {}(value) FROM {}", func.to_uppercase(), set.table());
            let mut stmt = self.sql.prepare_cached(&sql).expect("prepare");
            stmt.query_row([], |r| Ok(scalar_of(r.get_ref(0)?)))
                .expect("aggregate")
        }

        // 4. avg per hour. nanots' bucket n is ((n-1)h, nh], stamped nh; the SQL groups the
        // same way so that both return the same rows.

        pub fn nts_hourly(&self, set: Set) -> Acc {
            let mut q = self
                .nts
                .prepare_query(&format!("avg({})[1h]", set.stream()), None, None)
                .expect("prepare_query");
            let mut acc = Acc::default();
            while let Some(p) = q.next_vector() {
                acc.add_ts(p.timestamp);
                // Both sides as f64 averages.
                acc.float += p.value.as_f64();
            }
            acc
        }

        pub fn sql_hourly(&self, set: Set) -> Acc {
            let sql = format!(
                "SELECT (ts + {h} - 1) / {h} * {h} AS b, AVG(value) FROM {} GROUP BY b ORDER BY b",
                set.table(),
                h = HOUR_MS
            );
            self.sql_rows(&sql)
        }

        // 5. vector ∘ vector.

        pub fn nts_expr(&self) -> Acc {
            let mut q = self
                .nts
                .prepare_query(EXPR, None, None)
                .expect("prepare_query");
            let mut acc = Acc::default();
            while let Some(p) = q.next_vector() {
                acc.add_ts(p.timestamp);
                acc.add_value(p.value);
            }
            acc
        }

        pub fn sql_expr(&self) -> Acc {
            self.sql_rows(EXPR_SQL)
        }

        /// Runs every query once on both sides and panics if they disagree: a ratio between
        /// two different answers would mean nothing.
        pub fn verify(&self) {
            for set in Set::ALL {
                let (a, b) = (self.nts_read(set), self.sql_read(set));
                assert!(a.agrees(&b), "{set:?} read: nanots {a:?} vs SQLite {b:?}");
                assert_eq!(a.points as usize, set.points());
                for func in ["sum", "avg", "max", "min", "count"] {
                    let (a, b) = (self.nts_aggregate(func, set), self.sql_aggregate(func, set));
                    assert!(
                        scalars_agree(a, b),
                        "{set:?} {func}: nanots {a} vs SQLite {b}"
                    );
                }
                let (a, b) = (self.nts_hourly(set), self.sql_hourly(set));
                assert!(
                    a.agrees(&b),
                    "{set:?} avg[1h]: nanots {a:?} vs SQLite {b:?}"
                );
            }
            let (a, b) = (self.nts_expr(), self.sql_expr());
            assert!(a.agrees(&b), "expression: nanots {a:?} vs SQLite {b:?}");
        }
    }

    // -----------------------------------------------------------------------------------------
    // 6. Bytes per point
    // -----------------------------------------------------------------------------------------

    pub struct Size {
        pub set: Set,
        pub points: u64,
        /// Compressed chunk bytes per point (`Connection::streams`).
        pub nts_chunks: f64,
        /// nanots blocks in use (chunks plus the room left at the end of each block) per point.
        pub nts_blocks: f64,
        /// Whole nanots database (data file as allocated + catalog) per point.
        pub nts_files: f64,
        /// SQLite database file (after a checkpoint) per point.
        pub sql_file: f64,
    }

    fn file_len(path: &Path) -> u64 {
        std::fs::metadata(path).map_or(0, |m| m.len())
    }

    /// Sizes of a single-stream database of each kind holding `set`.
    pub fn sizes(set: Set) -> Size {
        let scratch = Scratch::new(&format!("size-{}", set.label()));
        let (_, conn) = nts_insert(&scratch.path("nts"), set);
        let streams = conn.streams().expect("streams");
        let stream = streams.first().expect("one stream");
        let points = stream.points;
        let nts_chunks = stream.bytes as f64 / points as f64;
        let stats = conn.stats().expect("stats");
        let nts_blocks = (stats.blocks_used * stats.block_size) as f64 / points as f64;
        drop(conn);
        let dir = scratch.path("nts");
        let files: u64 = ["data.nts", "data.db", "data.db-wal"]
            .iter()
            .map(|f| file_len(&dir.join(f)))
            .sum();
        let path = scratch.path("size.sqlite");
        let (_, sql) = sql_insert(&path, set);
        sql.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
            .expect("checkpoint");
        drop(sql);
        Size {
            set,
            points,
            nts_chunks,
            nts_blocks,
            nts_files: files as f64 / points as f64,
            sql_file: file_len(&path) as f64 / points as f64,
        }
    }

    pub fn size_lines(sizes: &[Size]) -> Vec<String> {
        sizes
            .iter()
            .map(|s| {
                format!(
                    "bytes/point, {} ({} points): nanots {:.3} B/pt in chunks, {:.3} B/pt in \
                     blocks used, {:.3} B/pt for the whole database (data file as allocated + \
                     catalog); SQLite {:.2} B/pt; Gorilla 1.37 B/pt, TachyonDB 8.2 B/pt (Voltage)",
                    s.set.describe(),
                    s.points,
                    s.nts_chunks,
                    s.nts_blocks,
                    s.nts_files,
                    s.sql_file
                )
            })
            .collect()
    }
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args()
}

fn insert(c: &mut Criterion) {
    let scratch = Scratch::new("crit-insert");
    let mut group = c.benchmark_group("insert_flush");
    for set in Set::ALL {
        group.throughput(Throughput::Elements(set.points() as u64));
        group.bench_function(BenchmarkId::new("nanots", set.label()), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| support::nts_insert_once(&scratch, set))
                    .sum()
            })
        });
        group.bench_function(BenchmarkId::new("sqlite", set.label()), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| support::sql_insert_once(&scratch, set))
                    .sum()
            })
        });
    }
    group.finish();
}

fn read(c: &mut Criterion, rs: &ReadSet) {
    let mut group = c.benchmark_group("full_read");
    for set in Set::ALL {
        group.throughput(Throughput::Elements(set.points() as u64));
        group.bench_function(BenchmarkId::new("nanots", set.label()), |b| {
            b.iter(|| black_box(rs.nts_read(set)))
        });
        group.bench_function(BenchmarkId::new("sqlite", set.label()), |b| {
            b.iter(|| black_box(rs.sql_read(set)))
        });
    }
    group.finish();
}

fn aggregates(c: &mut Criterion, rs: &ReadSet) {
    let mut group = c.benchmark_group("aggregate");
    for set in Set::ALL {
        group.throughput(Throughput::Elements(set.points() as u64));
        for func in ["sum", "avg", "max"] {
            let id = format!("{func}/{}", set.label());
            group.bench_function(BenchmarkId::new("nanots", &id), |b| {
                b.iter(|| black_box(rs.nts_aggregate(func, set)))
            });
            group.bench_function(BenchmarkId::new("sqlite", &id), |b| {
                b.iter(|| black_box(rs.sql_aggregate(func, set)))
            });
        }
    }
    group.finish();
}

fn hourly(c: &mut Criterion, rs: &ReadSet) {
    let mut group = c.benchmark_group("avg_1h");
    for set in Set::ALL {
        group.throughput(Throughput::Elements(set.points() as u64));
        group.bench_function(BenchmarkId::new("nanots", set.label()), |b| {
            b.iter(|| black_box(rs.nts_hourly(set)))
        });
        group.bench_function(BenchmarkId::new("sqlite", set.label()), |b| {
            b.iter(|| black_box(rs.sql_hourly(set)))
        });
    }
    group.finish();
}

fn expression(c: &mut Criterion, rs: &ReadSet) {
    let mut group = c.benchmark_group("vector_op_vector");
    group.throughput(Throughput::Elements(Set::Voltage.points() as u64));
    group.bench_function("nanots", |b| b.iter(|| black_box(rs.nts_expr())));
    group.bench_function("sqlite", |b| b.iter(|| black_box(rs.sql_expr())));
    group.finish();
}

fn main() {
    let mut c = config();
    let started = Instant::now();
    eprintln!("series bench: data = {}", support::power().origin);
    let sizes: Vec<_> = Set::ALL.into_iter().map(support::sizes).collect();
    for line in support::size_lines(&sizes) {
        eprintln!("{line}");
    }
    let rs = ReadSet::build("crit-read");
    rs.verify();
    eprintln!(
        "read set built and nanots/SQLite answers checked equal ({:.1} s)",
        started.elapsed().as_secs_f64()
    );
    insert(&mut c);
    read(&mut c, &rs);
    aggregates(&mut c, &rs);
    hourly(&mut c, &rs);
    expression(&mut c, &rs);
    c.final_summary();
}
