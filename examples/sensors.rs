//! Sensor data end to end: imports the household-power dataset (one house near Paris, one
//! sample a minute for four years, 2,075,259 rows) into a fresh database, then asks TQL a few
//! questions about it.
//!
//! ```text
//! cargo run --release --example sensors
//! ```
//!
//! The data is read from `../shared/data/householdpower.csv.xz` (next to the project) through
//! `xz -dc`. Without the file or the `xz` tool, a synthetic series of the same size stands in,
//! and the output says so.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use nanots::{Column, Connection, Value, ValueType};

const VOLTAGE: &str = r#"power{column="Voltage"}"#;
const ACTIVE: &str = r#"power{column="Global_active_power"}"#;
const ROWS: usize = 2_075_259;
const DAY_MS: i64 = 86_400_000;

/// Columns of the dataset this example uses; timestamps in ms since the epoch (UTC).
struct Data {
    ts: Vec<i64>,
    voltage: Vec<f64>,
    active: Vec<f64>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/householdpower.csv.xz");
    let started = Instant::now();
    let data = match load(&path) {
        Ok(d) => {
            println!(
                "read {} rows from {} in {:.2} s",
                d.ts.len(),
                path.display(),
                started.elapsed().as_secs_f64()
            );
            d
        }
        Err(why) => {
            println!("SKIPPING the real dataset: {why}.");
            println!("Using a SYNTHETIC series of {ROWS} points instead; numbers below are not");
            println!("those of the real data.");
            synthetic()
        }
    };

    let dir = TempDir::new();
    let conn = Connection::new(&dir.0)?;
    conn.create_stream(VOLTAGE, ValueType::Float64)?;
    conn.create_stream(ACTIVE, ValueType::Float64)?;

    // Import: one batch per stream, then flush (durable and visible).
    let started = Instant::now();
    for (stream, values) in [(VOLTAGE, &data.voltage), (ACTIVE, &data.active)] {
        let mut inserter = conn.prepare_insert(stream)?;
        inserter.insert_batch(&data.ts, &Column::Float64(values.clone()))?;
        inserter.flush()?;
    }
    let secs = started.elapsed().as_secs_f64();
    let points = 2 * data.ts.len();
    println!(
        "imported {points} points (2 streams) in {:.3} s: {:.1} M points/s",
        secs,
        points as f64 / secs / 1e6
    );
    println!();

    // Whole-column aggregates: answered from per-chunk summaries, without decoding.
    for query in [
        format!("count({VOLTAGE})"),
        format!("avg({VOLTAGE})"),
        format!("max({VOLTAGE})"),
        format!("min({VOLTAGE})"),
        format!("max({ACTIVE})"),
    ] {
        let t = Instant::now();
        let mut q = conn.prepare_query(&query, None, None)?;
        let value = q.next_scalar().ok_or("no value")?;
        println!(
            "{query:45} = {:>12}   ({:.2} ms)",
            show(value),
            t.elapsed().as_secs_f64() * 1e3
        );
    }
    println!();

    // Aggregates per sub-period: one point per bucket, stamped with the bucket's end.
    for (query, shown) in [
        (format!("avg({VOLTAGE})[1d]"), 5),
        (format!("max({ACTIVE})[30d]"), 6),
    ] {
        let t = Instant::now();
        let mut q = conn.prepare_query(&query, None, None)?;
        let mut buckets = Vec::new();
        while let Some(p) = q.next_vector() {
            buckets.push(p);
        }
        if let Some(e) = q.error() {
            return Err(e.to_string().into());
        }
        println!(
            "{query}: {} buckets ({:.2} ms)",
            buckets.len(),
            t.elapsed().as_secs_f64() * 1e3
        );
        for p in buckets.iter().take(shown) {
            println!("  up to {}  {:>10}", date(p.timestamp), show(p.value));
        }
        if buckets.len() > shown {
            println!("  ... {} more", buckets.len() - shown);
        }
        println!();
    }

    // vector ∘ vector: the current in amperes, point by point (the streams share timestamps).
    let query = format!("{ACTIVE} * 1000 / {VOLTAGE}");
    let t = Instant::now();
    let mut q = conn.prepare_query(&query, None, None)?;
    let mut count = 0usize;
    let mut first = Vec::new();
    while let Some(p) = q.next_vector() {
        if first.len() < 5 {
            first.push(p);
        }
        count += 1;
    }
    println!(
        "{query}: {count} points ({:.1} ms)",
        t.elapsed().as_secs_f64() * 1e3
    );
    for p in &first {
        println!("  {}  {:>10}", datetime(p.timestamp), show(p.value));
    }
    println!();

    // Storage: compressed chunk bytes per point, against the published figures.
    println!("storage (compressed chunks):");
    for s in conn.streams()? {
        let per_point = s.bytes as f64 / s.points.max(1) as f64;
        println!(
            "  {:42} {:>9} points {:>10} bytes  {:.3} B/pt  ({:.1}× smaller than Gorilla's \
             1.37 B/pt, {:.1}× smaller than TachyonDB's 8.2 B/pt)",
            s.name,
            s.points,
            s.bytes,
            per_point,
            1.37 / per_point,
            8.2 / per_point
        );
    }
    let stats = conn.stats()?;
    println!(
        "  whole database: {} blocks of {} KiB in use, {} bytes on disk with the catalog",
        stats.blocks_used,
        stats.block_size / 1024,
        stats.bytes_allocated
    );
    Ok(())
}

fn show(v: Value) -> String {
    match v {
        Value::Float64(x) => format!("{x:.3}"),
        other => other.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------

fn load(path: &Path) -> Result<Data, String> {
    if !path.exists() {
        return Err(format!("{} is absent", path.display()));
    }
    let mut child = Command::new("xz")
        .arg("-dc")
        .arg(path)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run `xz -dc` ({e})"))?;
    let stdout = child.stdout.take().ok_or("xz gave no output")?;
    let mut input = BufReader::with_capacity(1 << 20, stdout);
    let mut data = Data {
        ts: Vec::with_capacity(ROWS),
        voltage: Vec::with_capacity(ROWS),
        active: Vec::with_capacity(ROWS),
    };
    let mut line = Vec::new();
    // date_time, Global_active_power, Global_reactive_power, Voltage, ...
    let mut header = true;
    loop {
        line.clear();
        if input
            .read_until(b'\n', &mut line)
            .map_err(|e| e.to_string())?
            == 0
        {
            break;
        }
        let text = line.trim_ascii_end();
        if header {
            if !text.starts_with(b"date_time,Global_active_power,Global_reactive_power,Voltage") {
                return Err("unexpected header line".into());
            }
            header = false;
            continue;
        }
        let mut fields = text.split(|&b| b == b',');
        let parsed = (|| {
            let ts = parse_datetime_ms(fields.next()?)?;
            let active = parse_f64(fields.next()?)?;
            let _reactive = fields.next()?;
            let voltage = parse_f64(fields.next()?)?;
            Some((ts, active, voltage))
        })();
        let Some((ts, active, voltage)) = parsed else {
            let _ = child.kill();
            return Err(format!(
                "cannot parse line {}: {}",
                data.ts.len() + 2,
                String::from_utf8_lossy(text)
            ));
        };
        data.ts.push(ts);
        data.active.push(active);
        data.voltage.push(voltage);
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if !status.success() || data.ts.is_empty() {
        return Err(format!("xz -dc failed ({status})"));
    }
    Ok(data)
}

fn parse_f64(field: &[u8]) -> Option<f64> {
    std::str::from_utf8(field).ok()?.parse().ok()
}

fn number(s: &[u8]) -> Option<i64> {
    s.iter().try_fold(0i64, |n, &b| {
        b.is_ascii_digit().then(|| n * 10 + i64::from(b - b'0'))
    })
}

/// `YYYY-MM-DD HH:MM:SS` taken as UTC, in ms since the epoch.
fn parse_datetime_ms(s: &[u8]) -> Option<i64> {
    if s.len() != 19 || s[4] != b'-' || s[7] != b'-' || s[10] != b' ' {
        return None;
    }
    let days = days_from_civil(number(&s[0..4])?, number(&s[5..7])?, number(&s[8..10])?);
    let secs = number(&s[11..13])? * 3600 + number(&s[14..16])? * 60 + number(&s[17..19])?;
    Some((days * 86_400 + secs) * 1000)
}

/// Days since 1970-01-01 of a Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn date(ms: i64) -> String {
    let (y, m, d) = civil_from_days(ms.div_euclid(DAY_MS));
    format!("{y:04}-{m:02}-{d:02}")
}

fn datetime(ms: i64) -> String {
    let secs = ms.rem_euclid(DAY_MS) / 1000;
    format!(
        "{} {:02}:{:02}:{:02}",
        date(ms),
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Same size and cadence as the real data (a point a minute from 2006-12-16 17:24), values
/// from deterministic random walks with the real columns' precision.
fn synthetic() -> Data {
    let start = days_from_civil(2006, 12, 16) * DAY_MS + (17 * 60 + 24) * 60_000;
    let mut state = 42u64;
    let mut step = |k: i64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % (2 * k as u64 + 1)) as i64 - k
    };
    let (mut centivolts, mut watts) = (24_000i64, 1_000i64);
    let mut data = Data {
        ts: Vec::with_capacity(ROWS),
        voltage: Vec::with_capacity(ROWS),
        active: Vec::with_capacity(ROWS),
    };
    for i in 0..ROWS {
        centivolts = (centivolts + step(40)).clamp(22_500, 25_500);
        watts = (watts + step(60)).clamp(76, 11_000);
        data.ts.push(start + i as i64 * 60_000);
        data.voltage.push(centivolts as f64 / 100.0);
        data.active.push(watts as f64 / 1000.0);
    }
    data
}

/// A database directory under the system temp dir, removed at the end.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let dir = std::env::temp_dir().join(format!("nanots-sensors-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
