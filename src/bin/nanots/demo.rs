//! `nanots demo`: records synthetic camera streams while a reader follows them, measures seeks,
//! imports a real (or synthetic) metric dataset and queries it with TQL.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nanots::{Connection, ConnectionOptions, QueryResult, TimeUnit};

use crate::CliError;
use crate::chart::{self, ChartOptions, ChartSeries};
use crate::import::{self, ImportOptions, Naming};
use crate::output::{human_bytes, thousands};
use crate::timefmt::{format_duration, format_timestamp};

const CAMERAS: u32 = 4;
const FRAME_INTERVAL_US: i64 = 33_333;
const GOP: u64 = 30;
/// 2024-01-01T00:00:00Z in microseconds: the recording starts at a readable time.
const BASE_TS_US: i64 = 1_704_067_200_000_000;
const BLOCK_SIZE: u64 = 4 << 20;
const PATTERN_LEN: usize = 1 << 18;

struct Plan {
    quick: bool,
    frames_per_camera: u64,
    seeks: usize,
    sensor_minutes: i64,
}

impl Plan {
    fn new(quick: bool) -> Plan {
        if quick {
            Plan {
                quick,
                frames_per_camera: 150,
                seeks: 2_000,
                sensor_minutes: 14 * 1440,
            }
        } else {
            Plan {
                quick,
                frames_per_camera: 1_800,
                seeks: 20_000,
                sensor_minutes: 365 * 1440,
            }
        }
    }
}

/// SplitMix64: a tiny, well-mixed deterministic generator; the demo needs reproducible sizes
/// and payloads, not cryptographic randomness.
fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn frame_ts(i: u64) -> i64 {
    BASE_TS_US + i as i64 * FRAME_INTERVAL_US
}

fn is_keyframe(i: u64) -> bool {
    i.is_multiple_of(GOP)
}

/// I-frames ~60–120 KB, P-frames ~8–25 KB, fixed by camera and frame index.
fn frame_size(cam: u32, i: u64) -> usize {
    let h = splitmix((u64::from(cam) << 40) ^ i);
    if is_keyframe(i) {
        60_000 + (h % 60_001) as usize
    } else {
        8_000 + (h % 17_001) as usize
    }
}

/// The payload is a function of (camera, timestamp): a 16-byte header, then a window into a
/// shared random pattern starting at an offset derived from both. Building it is a few
/// memcpys, so the demo measures the store rather than a byte generator.
fn fill_payload(buf: &mut Vec<u8>, pattern: &[u8], cam: u32, ts: i64, size: usize) {
    buf.clear();
    buf.extend_from_slice(&ts.to_le_bytes());
    buf.extend_from_slice(&cam.to_le_bytes());
    buf.extend_from_slice(&(size as u32).to_le_bytes());
    let mut off = (splitmix(ts as u64 ^ u64::from(cam)) % pattern.len() as u64) as usize;
    while buf.len() < size {
        let take = (size - buf.len()).min(pattern.len() - off);
        buf.extend_from_slice(&pattern[off..off + take]);
        off = 0;
    }
    buf.truncate(size);
}

fn make_pattern() -> Vec<u8> {
    let mut p = Vec::with_capacity(PATTERN_LEN);
    let mut s = 0x5EED_u64;
    while p.len() < PATTERN_LEN {
        s = splitmix(s);
        p.extend_from_slice(&s.to_le_bytes());
    }
    p
}

fn tag(cam: u32) -> String {
    format!("cam-{cam}")
}

/// Percentile of sorted nanosecond samples.
fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let idx = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn fail(what: &str) -> impl Fn(nanots::Error) -> CliError + '_ {
    move |e| CliError::Failed(format!("demo: {what}: {e}"))
}

struct FrameFigures {
    frames: u64,
    bytes: u64,
    write_secs: f64,
}

fn record_frames(dir: &Path, plan: &Plan, out: &mut dyn Write) -> Result<FrameFigures, CliError> {
    let path = dir.join("frames.nts");
    let per_camera_bytes = plan.frames_per_camera * 20_000;
    // Enough blocks for everything plus one partly filled block per camera and some slack,
    // so that auto-reclaim (on, as a recorder would run) never has to recycle during the demo.
    let blocks =
        (u64::from(CAMERAS) * per_camera_bytes).div_ceil(BLOCK_SIZE) + 2 * u64::from(CAMERAS) + 4;
    nanots::allocate(&path, BLOCK_SIZE, blocks).map_err(fail("allocating the frame file"))?;
    writeln!(
        out,
        "== 1. Frames: {CAMERAS} cameras at 30 fps, {} frames each, into {} ({} blocks of {}, auto-reclaim on)",
        thousands(plan.frames_per_camera),
        path.display(),
        blocks,
        human_bytes(BLOCK_SIZE)
    )?;
    let pattern = Arc::new(make_pattern());
    let writer = nanots::Writer::open(&path, true).map_err(fail("opening the writer"))?;
    let mut contexts = Vec::new();
    for cam in 0..CAMERAS {
        let meta = format!("{{\"codec\":\"synthetic\",\"fps\":30,\"camera\":{cam}}}");
        contexts.push(
            writer
                .create_write_context(&tag(cam), &meta)
                .map_err(fail("creating a write context"))?,
        );
    }
    let writers_done = Arc::new(AtomicBool::new(false));
    let n = plan.frames_per_camera;
    let started = Instant::now();

    let reader_handle = {
        let path = path.clone();
        let pattern = pattern.clone();
        let done = writers_done.clone();
        std::thread::spawn(move || follow_and_verify(&path, &pattern, n, &done))
    };
    let mut handles = Vec::new();
    for (cam, mut ctx) in (0..CAMERAS).zip(contexts) {
        let pattern = pattern.clone();
        handles.push(std::thread::spawn(move || -> Result<u64, String> {
            let mut buf = Vec::with_capacity(130_000);
            let mut bytes = 0u64;
            for i in 0..n {
                let size = frame_size(cam, i);
                let ts = frame_ts(i);
                fill_payload(&mut buf, &pattern, cam, ts, size);
                ctx.write(&buf, ts, u32::from(is_keyframe(i)))
                    .map_err(|e| format!("camera {cam}, frame {i}: {e}"))?;
                bytes += size as u64;
            }
            ctx.flush()
                .map_err(|e| format!("camera {cam}: flush: {e}"))?;
            Ok(bytes)
        }));
    }
    let mut bytes = 0u64;
    let mut first_err = None;
    for h in handles {
        match h.join() {
            Ok(Ok(b)) => bytes += b,
            Ok(Err(e)) => first_err = first_err.or(Some(e)),
            Err(_) => first_err = first_err.or(Some("a writer thread panicked".to_string())),
        }
    }
    let write_secs = started.elapsed().as_secs_f64();
    writers_done.store(true, Ordering::Release);
    let verify = reader_handle
        .join()
        .map_err(|_| CliError::Failed("demo: the reader thread panicked".into()))?;
    if let Some(e) = first_err {
        return Err(CliError::Failed(format!("demo: writing frames: {e}")));
    }
    let verify = verify.map_err(|e| CliError::Failed(format!("demo: live reader: {e}")))?;
    let frames = n * u64::from(CAMERAS);
    writeln!(
        out,
        "wrote {} frames ({}) from {CAMERAS} threads in {}: {} frames/s, {:.0} MB/s",
        thousands(frames),
        human_bytes(bytes),
        format_duration(write_secs),
        thousands((frames as f64 / write_secs) as u64),
        bytes as f64 / write_secs / 1e6
    )?;
    writeln!(
        out,
        "live reader verified {} of {} frames ({} mismatches, {} read while recording)",
        thousands(verify.verified),
        thousands(frames),
        verify.mismatches,
        thousands(verify.live)
    )?;
    if verify.verified != frames || verify.mismatches != 0 {
        return Err(CliError::Failed(
            "demo: the live reader did not see every frame intact".into(),
        ));
    }
    seek_benchmark(&path, &pattern, plan, out)?;
    Ok(FrameFigures {
        frames,
        bytes,
        write_secs,
    })
}

struct Verified {
    verified: u64,
    mismatches: u64,
    live: u64,
}

/// Follows all cameras from one thread, reading whatever is new after the last frame seen,
/// until every frame has been read or the writers are done and nothing new appears.
fn follow_and_verify(
    path: &Path,
    pattern: &[u8],
    per_camera: u64,
    writers_done: &AtomicBool,
) -> Result<Verified, String> {
    let reader = nanots::Reader::open(path).map_err(|e| e.to_string())?;
    let mut next = vec![0u64; CAMERAS as usize];
    let mut v = Verified {
        verified: 0,
        mismatches: 0,
        live: 0,
    };
    let mut expected = Vec::with_capacity(130_000);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let done_before_pass = writers_done.load(Ordering::Acquire);
        let mut progressed = false;
        for cam in 0..CAMERAS {
            let i0 = next[cam as usize];
            if i0 >= per_camera {
                continue;
            }
            let mut i = i0;
            reader
                .read(&tag(cam), frame_ts(i0), i64::MAX, |f| {
                    if f.timestamp != frame_ts(i) {
                        v.mismatches += 1;
                    } else {
                        fill_payload(&mut expected, pattern, cam, f.timestamp, frame_size(cam, i));
                        if f.data != expected.as_slice() {
                            v.mismatches += 1;
                        }
                    }
                    v.verified += 1;
                    if !done_before_pass {
                        v.live += 1;
                    }
                    i += 1;
                    i < per_camera
                })
                .map_err(|e| e.to_string())?;
            progressed |= i > i0;
            next[cam as usize] = i;
        }
        if next.iter().all(|&n| n >= per_camera) || (done_before_pass && !progressed) {
            return Ok(v);
        }
        if Instant::now() > deadline {
            return Err("timed out following the writers".into());
        }
        if !progressed {
            std::thread::sleep(Duration::from_micros(500));
        }
    }
}

fn seek_benchmark(
    path: &Path,
    pattern: &[u8],
    plan: &Plan,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let reader = nanots::Reader::open(path).map_err(fail("opening a reader"))?;
    let mut iters = Vec::new();
    for cam in 0..CAMERAS {
        iters.push(
            reader
                .iter(&tag(cam))
                .map_err(fail("creating an iterator"))?,
        );
    }
    let mut samples = Vec::with_capacity(plan.seeks);
    let mut wrong = 0u64;
    let mut seed = 42u64;
    let mut expected = Vec::new();
    for _ in 0..plan.seeks {
        seed = splitmix(seed);
        let cam = (seed % u64::from(CAMERAS)) as u32;
        let i = (seed >> 8) % plan.frames_per_camera;
        let ts = frame_ts(i);
        let it = &mut iters[cam as usize];
        let t0 = Instant::now();
        let _ = it.find(ts);
        let found = it.frame().map(|f| f.timestamp);
        samples.push(t0.elapsed().as_nanos() as u64);
        if found != Some(ts) {
            wrong += 1;
        } else if samples.len() % 64 == 0 {
            // Spot-check payloads outside the timed region.
            fill_payload(&mut expected, pattern, cam, ts, frame_size(cam, i));
            if it
                .frame()
                .map(|f| f.data != expected.as_slice())
                .unwrap_or(true)
            {
                wrong += 1;
            }
        }
    }
    samples.sort_unstable();
    writeln!(
        out,
        "random seeks: {} over {CAMERAS} streams: p50 {}, p99 {} ({} wrong)",
        thousands(plan.seeks as u64),
        format_duration(percentile(&samples, 0.50) as f64 / 1e9),
        format_duration(percentile(&samples, 0.99) as f64 / 1e9),
        wrong
    )?;
    if wrong > 0 {
        return Err(CliError::Failed(
            "demo: a seek landed on the wrong frame".into(),
        ));
    }
    Ok(())
}

fn dataset_path() -> Option<PathBuf> {
    let rel = Path::new("../shared/data/householdpower.csv.xz");
    let candidates = [
        rel.to_path_buf(),
        Path::new(env!("CARGO_MANIFEST_DIR")).join(rel),
    ];
    candidates.into_iter().find(|p| p.is_file())
}

/// Writes a year (or two weeks) of per-minute temperature and humidity readings as CSV, so
/// the fallback exercises the same import path as the real dataset.
fn write_synthetic_csv(path: &Path, minutes: i64) -> Result<(), CliError> {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(w, "date_time,temperature,humidity")?;
    let base = 1_704_067_200_i64; // 2024-01-01T00:00:00Z
    let mut s = 7u64;
    for m in 0..minutes {
        s = splitmix(s);
        let noise = (s % 1000) as f64 / 1000.0 - 0.5;
        let day = m as f64 / 1440.0;
        let season = (day / 365.0 * std::f64::consts::TAU).sin();
        let daily = (day * std::f64::consts::TAU).sin();
        let temp = 12.0 + 8.0 * season + 4.0 * daily + noise;
        let hum = 60.0 - 10.0 * season - 8.0 * daily + 2.0 * noise;
        writeln!(
            w,
            "{},{:.2},{:.1}",
            format_timestamp((base + m * 60) * 1000, 1000),
            temp,
            hum
        )?;
    }
    w.flush()?;
    Ok(())
}

struct Dataset {
    metric: &'static str,
    a: &'static str,
    b: &'static str,
    /// An expression over two vectors, with what it means.
    expr: String,
    expr_meaning: &'static str,
}

fn run_numeric(dir: &Path, plan: &Plan, out: &mut dyn Write) -> Result<(u64, f64, f64), CliError> {
    let db_dir = dir.join("db");
    let conn = Connection::open_with(
        &db_dir,
        // Two large streams: 1 MiB blocks mean fewer block transitions, each of which syncs.
        ConnectionOptions {
            time_unit: TimeUnit::Milliseconds,
            block_size: 1 << 20,
        },
    )
    .map_err(fail("opening the database"))?;
    let real = if plan.quick { None } else { dataset_path() };
    let (csv, ds, columns) = match real {
        Some(p) => {
            writeln!(
                out,
                "\n== 2. Metrics: household power dataset ({}), Voltage and Global_active_power",
                p.display()
            )?;
            (
                p,
                Dataset {
                    metric: "power",
                    a: "Voltage",
                    b: "Global_active_power",
                    expr:
                        "power{column=\"Global_active_power\"} * 1000 / power{column=\"Voltage\"}"
                            .into(),
                    expr_meaning: "current drawn, in amperes",
                },
                vec!["Voltage".to_string(), "Global_active_power".to_string()],
            )
        }
        None => {
            let why = if plan.quick {
                "NANOTS_DEMO_QUICK is set"
            } else {
                "../shared/data/householdpower.csv.xz was not found"
            };
            let p = dir.join("sensors.csv");
            writeln!(
                out,
                "\n== 2. Metrics: synthetic sensors ({why}): {} per-minute readings written to {}",
                thousands(plan.sensor_minutes as u64),
                p.display()
            )?;
            write_synthetic_csv(&p, plan.sensor_minutes)?;
            (
                p,
                Dataset {
                    metric: "sensor",
                    a: "temperature",
                    b: "humidity",
                    expr: "sensor{column=\"humidity\"} - sensor{column=\"temperature\"}".into(),
                    expr_meaning: "humidity minus temperature",
                },
                vec!["temperature".to_string(), "humidity".to_string()],
            )
        }
    };
    let mut opts = ImportOptions::new(Naming::Metric {
        metric: ds.metric.to_string(),
        labels: Vec::new(),
    });
    opts.columns = Some(columns);
    opts.create = true;
    opts.progress = crate::progress::stderr_is_tty();
    let summary = import::import_csv(&conn, &csv, &opts)?;
    writeln!(out, "{}", summary.line())?;
    let streams = conn.streams().map_err(fail("listing streams"))?;
    let (points, bytes) = streams
        .iter()
        .fold((0u64, 0u64), |(p, b), s| (p + s.points, b + s.bytes));
    let bpp = if points > 0 {
        bytes as f64 / points as f64
    } else {
        0.0
    };
    writeln!(
        out,
        "storage: {:.2} bytes/point ({} for {} points)",
        bpp,
        human_bytes(bytes),
        thousands(points)
    )?;

    let sel_a = format!("{}{{column=\"{}\"}}", ds.metric, ds.a);
    let sel_b = format!("{}{{column=\"{}\"}}", ds.metric, ds.b);
    writeln!(out)?;
    for q in [
        format!("count({sel_a})"),
        format!("avg({sel_a})"),
        format!("max({sel_b})"),
    ] {
        let t0 = Instant::now();
        let res = conn.prepare_query(&q, None, None).and_then(|q| q.collect());
        let took = format_duration(t0.elapsed().as_secs_f64());
        match res {
            Ok(QueryResult::Scalars(s)) if s.len() == 1 => {
                writeln!(out, "{q:<44} = {:<22} ({took})", s[0].1.to_string())?;
            }
            Ok(other) => writeln!(out, "{q:<44} = unexpected result {other:?}")?,
            Err(e) => writeln!(out, "{q:<44} failed: {e}")?,
        }
    }

    let q = format!("avg({sel_a})[1d]");
    let t0 = Instant::now();
    match conn.prepare_query(&q, None, None).and_then(|q| q.collect()) {
        Ok(QueryResult::Series(series)) => {
            let took = format_duration(t0.elapsed().as_secs_f64());
            writeln!(out, "\n{q}: {} series in {took}", series.len())?;
            if let Some(s) = series.first() {
                let values = (0..s.values.len())
                    .filter_map(|i| s.values.get(i).map(|v| v.as_f64()))
                    .collect();
                let cs = ChartSeries {
                    title: format!("{q}  ({} daily averages, UTC)", s.timestamps.len()),
                    timestamps: &s.timestamps,
                    values,
                };
                let (cols, _) = chart::terminal_size();
                let text = chart::render(
                    &cs,
                    &ChartOptions {
                        width: cols.clamp(40, 120) - 1,
                        plot_rows: 10,
                        ups: 1000,
                        color: crate::progress::stdout_is_tty(),
                    },
                );
                out.write_all(text.as_bytes())?;
            }
        }
        Ok(other) => writeln!(out, "{q}: unexpected result {other:?}")?,
        Err(e) => writeln!(out, "{q} failed: {e}")?,
    }

    let t0 = Instant::now();
    match conn
        .prepare_query(&ds.expr, None, None)
        .and_then(|q| q.collect())
    {
        Ok(QueryResult::Series(series)) => {
            let secs = t0.elapsed().as_secs_f64();
            let n: usize = series.iter().map(|s| s.timestamps.len()).sum();
            let expr_rate = n as f64 / secs.max(1e-9);
            writeln!(
                out,
                "\n{}\n  ({}): {} points in {} ({} points/s)",
                ds.expr,
                ds.expr_meaning,
                thousands(n as u64),
                format_duration(secs),
                thousands(expr_rate as u64)
            )?;
            if let Some(s) = series.first() {
                for i in 0..s.timestamps.len().min(3) {
                    if let Some(v) = s.values.get(i) {
                        writeln!(
                            out,
                            "  {}  {:.3}",
                            format_timestamp(s.timestamps[i], 1000),
                            v.as_f64()
                        )?;
                    }
                }
            }
        }
        Ok(other) => writeln!(out, "{}: unexpected result {other:?}", ds.expr)?,
        Err(e) => writeln!(out, "{} failed: {e}", ds.expr)?,
    }
    let rate = summary.points as f64 / summary.seconds.max(1e-9);
    Ok((summary.points, rate, bpp))
}

pub fn run(dir: Option<PathBuf>, out: &mut dyn Write) -> Result<i32, CliError> {
    let quick = std::env::var("NANOTS_DEMO_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
    let plan = Plan::new(quick);
    let (dir, temporary) = match dir {
        Some(d) => {
            std::fs::create_dir_all(&d)?;
            if d.join("frames.nts").exists() || d.join("db").exists() {
                return Err(CliError::Failed(format!(
                    "{} already holds a demo (frames.nts or db/); remove them or pick another directory",
                    d.display()
                )));
            }
            (d, false)
        }
        None => {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0);
            let d =
                std::env::temp_dir().join(format!("nanots-demo-{}-{nanos}", std::process::id()));
            std::fs::create_dir_all(&d)?;
            (d, true)
        }
    };
    writeln!(
        out,
        "nanots demo{} in {}{}\n",
        if quick { " (quick)" } else { "" },
        dir.display(),
        if temporary { " (temporary)" } else { "" }
    )?;
    let started = Instant::now();
    let result = record_frames(&dir, &plan, out).and_then(|f| {
        let (points, rate, bpp) = run_numeric(&dir, &plan, out)?;
        Ok((f, points, rate, bpp))
    });
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
    let (f, points, rate, bpp) = result?;
    writeln!(
        out,
        "\n== Summary: frames {} frames/s ({:.0} MB/s); import {} points/s; {:.2} bytes/point; {} points; total {}{}",
        thousands((f.frames as f64 / f.write_secs) as u64),
        f.bytes as f64 / f.write_secs / 1e6,
        thousands(rate as u64),
        bpp,
        thousands(points),
        format_duration(started.elapsed().as_secs_f64()),
        if temporary {
            " (temporary files removed)"
        } else {
            ""
        }
    )?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_plan_is_deterministic_and_in_range() {
        for i in 0..300 {
            let s = frame_size(1, i);
            if is_keyframe(i) {
                assert!((60_000..=120_000).contains(&s));
            } else {
                assert!((8_000..=25_000).contains(&s));
            }
            assert_eq!(s, frame_size(1, i));
        }
        assert_eq!(frame_ts(1) - frame_ts(0), 33_333);
        let p = make_pattern();
        let mut a = Vec::new();
        let mut b = Vec::new();
        fill_payload(&mut a, &p, 2, frame_ts(7), 100_000);
        fill_payload(&mut b, &p, 2, frame_ts(7), 100_000);
        assert_eq!(a.len(), 100_000);
        assert_eq!(a, b);
        fill_payload(&mut b, &p, 3, frame_ts(7), 100_000);
        assert_ne!(a, b);
        assert_eq!(percentile(&[1, 2, 3, 4, 5], 0.5), 3);
    }
}
