//! Reproducible nanots-vs-SQLite comparison for the frame workloads of the performance table.
//!
//! Runs every workload a fixed number of times (after one discarded warm-up repetition),
//! nanots and its SQLite peer back to back within each repetition so they share the machine's
//! noise, and prints a markdown table: medians, the median of the per-repetition ratios and
//! their min–max spread. The workloads are the ones `benches/frames.rs` measures (same code).
//!
//! ```text
//! cargo run --release --example frames_compare            # 5 repetitions + warm-up, 1–2 minutes
//! cargo run --release --example frames_compare -- --reps 3
//! ```

#[path = "../benches/frames_support/mod.rs"]
mod frames_support;

use std::hint::black_box;
use std::time::{Duration, Instant};

use frames_support::{self as s, NtsAppender, NtsPair, Poll, Scratch, SqlAppender, SqlPair};

/// Blocks in the append files (120 MiB), recycled with auto-reclaim so every repetition after
/// the warm-up writes into blocks that were used before: the steady state of a recorder.
const APPEND_BLOCKS: u64 = 12;

/// One row of the table. Values are nanoseconds per operation; lower is better.
struct Row {
    workload: String,
    nts: Vec<f64>,
    peer: Vec<f64>,
    peer_name: &'static str,
    /// Target on the ratio `peer / nanots`, if any.
    target_ratio: Option<f64>,
    target: &'static str,
    /// Bytes per operation, to print MB/s beside ns/op.
    bytes: Option<f64>,
}

impl Row {
    fn new(workload: &str, peer_name: &'static str, target: &'static str) -> Row {
        Row {
            workload: workload.to_string(),
            nts: Vec::new(),
            peer: Vec::new(),
            peer_name,
            target_ratio: None,
            target,
            bytes: None,
        }
    }

    fn ratio_target(mut self, r: f64) -> Row {
        self.target_ratio = Some(r);
        self
    }

    fn bytes(mut self, b: usize) -> Row {
        self.bytes = Some(b as f64);
        self
    }

    fn ratios(&self) -> Vec<f64> {
        self.nts
            .iter()
            .zip(&self.peer)
            .map(|(n, p)| p / n)
            .collect()
    }
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn min_max(v: &[f64]) -> (f64, f64) {
    v.iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        })
}

fn fmt_ns(ns: f64, bytes: Option<f64>) -> String {
    let t = if ns >= 10_000.0 {
        format!("{:.1} µs", ns / 1000.0)
    } else if ns >= 100.0 {
        format!("{ns:.0} ns")
    } else {
        format!("{ns:.1} ns")
    };
    match bytes {
        // bytes per ns = GB/s; print MB/s.
        Some(b) => format!("{t} ({:.0} MB/s)", b / ns * 1000.0),
        None => t,
    }
}

fn ns_per(d: Duration, ops: u64) -> f64 {
    d.as_nanos() as f64 / ops as f64
}

fn time<F: FnOnce()>(f: F) -> Duration {
    let t = Instant::now();
    f();
    t.elapsed()
}

/// Percentiles of per-operation latencies with the timer's own cost taken off.
fn percentiles(mut lat: Vec<u64>, overhead: u64) -> String {
    lat.sort_unstable();
    let p = |q: f64| {
        let i = ((lat.len() as f64 - 1.0) * q).round() as usize;
        lat[i].saturating_sub(overhead)
    };
    let over_1ms = lat.iter().filter(|&&l| l > 1_000_000).count();
    format!(
        "p50 {} ns, p99 {} ns, p99.9 {} ns, max {:.2} ms, {} of {} over 1 ms",
        p(0.5),
        p(0.99),
        p(0.999),
        p(1.0) as f64 / 1e6,
        over_1ms,
        lat.len()
    )
}

struct Args {
    reps: usize,
}

fn args() -> Args {
    let mut reps = 5;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--reps" => {
                reps = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|&r: &usize| r > 0)
                    .unwrap_or_else(|| usage())
            }
            // `cargo bench` style flags passed through by habit are ignored.
            "--bench" => {}
            _ => usage(),
        }
    }
    Args { reps }
}

fn usage() -> ! {
    eprintln!("usage: frames_compare [--reps N]");
    std::process::exit(2)
}

fn main() {
    let args = args();
    let reps = args.reps;
    let started = Instant::now();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    eprintln!(
        "frames_compare: {reps} repetitions (+1 warm-up), {} CPUs, load {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    let overhead = s::timer_overhead_ns();
    notes.push(format!(
        "timer overhead subtracted from per-op latencies: {overhead} ns"
    ));

    append_64(reps, overhead, &mut rows, &mut notes);
    append_4k(reps, &mut rows, &mut notes);
    seeks(reps, overhead, &mut rows, &mut notes);
    scans(reps, &mut rows);
    parallel(reps, &mut rows, &mut notes);
    followers(reps, &mut rows, &mut notes);

    println!();
    println!(
        "| workload | nanots | peer | peer result | ratio (median) | ratio min–max | target | met |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for row in &rows {
        let ratios = row.ratios();
        let r = median(&ratios);
        let (lo, hi) = min_max(&ratios);
        let met = match row.target_ratio {
            Some(t) if lo >= t => "yes",
            Some(t) if r >= t => "median only",
            Some(_) => "no",
            None => "—",
        };
        println!(
            "| {} | {} | {} | {} | {:.2}× | {:.2}–{:.2}× | {} | {} |",
            row.workload,
            fmt_ns(median(&row.nts), row.bytes),
            row.peer_name,
            fmt_ns(median(&row.peer), row.bytes),
            r,
            lo,
            hi,
            row.target,
            met
        );
    }
    println!();
    for note in &notes {
        println!("- {note}");
    }
    println!("- total run time {:.0} s", started.elapsed().as_secs_f64());
}

/// Workload 1: append 64 B frames to one stream, 10 MiB blocks (and 1 MiB blocks for
/// comparison).
fn append_64(reps: usize, overhead: u64, rows: &mut Vec<Row>, notes: &mut Vec<String>) {
    eprintln!("append 64 B ...");
    let scratch = Scratch::new("cmp-append64");
    let payloads = s::payloads(64, 64);
    let (n_nts, n_nts_1m, n_sql) = (2_000_000u64, 300_000u64, 200_000u64);
    let mut row = Row::new(
        "append 64 B, 1 stream, 10 MiB blocks",
        "SQLite",
        "≥ 20×; p50 ≤ 100 ns",
    )
    .ratio_target(20.0)
    .bytes(64);
    let mut row_1m = Row::new(
        "append 64 B, 1 stream, 1 MiB blocks",
        "SQLite",
        "(sensitivity)",
    )
    .bytes(64);
    let mut nts = NtsAppender::new(&scratch.file("a.nts"), s::BLOCK_10M, APPEND_BLOCKS, "s");
    let mut nts_1m = NtsAppender::new(&scratch.file("b.nts"), s::MIB as u64, 120, "s");
    let mut sql = SqlAppender::new(&scratch.file("a.sqlite"), "NORMAL");
    for rep in 0..=reps {
        let a = ns_per(time(|| nts.append_n(n_nts, &payloads)), n_nts);
        let b = ns_per(time(|| nts_1m.append_n(n_nts_1m, &payloads)), n_nts_1m);
        sql.reset_if_larger(2_000_000);
        let c = ns_per(time(|| sql.append_n(n_sql, &payloads)), n_sql);
        if rep > 0 {
            row.nts.push(a);
            row_1m.nts.push(b);
            row.peer.push(c);
            row_1m.peer.push(c);
        }
    }
    let lat = s::append_latencies(&mut nts, 2_000_000, &payloads);
    notes.push(format!(
        "append 64 B (10 MiB blocks) per-write latency over 2M writes: {}",
        percentiles(lat, overhead)
    ));
    let lat = s::append_latencies(&mut nts_1m, 300_000, &payloads);
    notes.push(format!(
        "append 64 B (1 MiB blocks) per-write latency over 300k writes: {}",
        percentiles(lat, overhead)
    ));
    rows.push(row);
    rows.push(row_1m);
}

/// Workload 2: append 4 KiB frames, 10 MiB blocks, block-level sync; also the disk's own
/// bandwidth.
fn append_4k(reps: usize, rows: &mut Vec<Row>, notes: &mut Vec<String>) {
    eprintln!("append 4 KiB ...");
    let scratch = Scratch::new("cmp-append4k");
    let size = 4 * s::KIB;
    let payloads = s::payloads(size, 16);
    let (n_nts, n_sql) = (60_000u64, 25_000u64);
    let mut row = Row::new(
        "append 4 KiB, 1 stream, 10 MiB blocks",
        "SQLite",
        "≥ 2×; ≥ 80 % of disk",
    )
    .ratio_target(2.0)
    .bytes(size);
    let mut disk = Row::new(
        "append 4 KiB vs raw disk (write + fdatasync, 256 MiB)",
        "disk",
        "nanots ≥ 80 % of disk",
    )
    .ratio_target(0.8)
    .bytes(size);
    let mut nts = NtsAppender::new(&scratch.file("a.nts"), s::BLOCK_10M, APPEND_BLOCKS, "s");
    let mut sql = SqlAppender::new(&scratch.file("a.sqlite"), "NORMAL");
    for rep in 0..=reps {
        let a = ns_per(time(|| nts.append_n(n_nts, &payloads)), n_nts);
        sql.reset_if_larger(100_000);
        let b = ns_per(time(|| sql.append_n(n_sql, &payloads)), n_sql);
        let bw = s::disk_write_bandwidth(&scratch, 256 * s::MIB);
        if rep > 0 {
            row.nts.push(a);
            row.peer.push(b);
            disk.nts.push(a);
            // ns per 4 KiB at the disk's bandwidth.
            disk.peer.push(size as f64 / bw * 1e9);
        }
    }
    notes.push(
        "the disk row's ratio is nanots' bandwidth as a fraction of the raw disk's \
         (1.0 = the physical limit)"
            .to_string(),
    );
    rows.push(row);
    rows.push(disk);
}

/// Workload 3: random seeks to existing timestamps, 64 B and 4 KiB frames.
fn seeks(reps: usize, overhead: u64, rows: &mut Vec<Row>, notes: &mut Vec<String>) {
    for (frames, len, target) in [(100_000u64, 64usize, true), (100_000, 4 * s::KIB, false)] {
        eprintln!("seek {len} B ...");
        let set = s::build_read_set(&format!("cmp-seek{len}"), frames, len);
        let label = if len >= s::KIB {
            format!("{} KiB", len / s::KIB)
        } else {
            format!("{len} B")
        };
        let mut row = Row::new(
            &format!("random seek, {}k frames of {label}", frames / 1000),
            "SQLite",
            if target {
                "≥ 10×; p50 < 0.5 µs"
            } else {
                "(sensitivity)"
            },
        );
        if target {
            row = row.ratio_target(10.0);
        }
        let keys = s::seek_keys(frames, 200_000, 11);
        let mut it = set.reader.iter(s::READ_TAG).expect("iter");
        let mut stmt = set.sql.prepare_cached(s::SQL_SEEK).expect("prepare");
        let n_sql = 50_000;
        for rep in 0..=reps {
            let a = ns_per(
                time(|| {
                    for &k in &keys {
                        black_box(s::nts_seek(&mut it, k));
                    }
                }),
                keys.len() as u64,
            );
            let b = ns_per(
                time(|| {
                    for &k in &keys[..n_sql] {
                        black_box(s::sql_seek(&mut stmt, k));
                    }
                }),
                n_sql as u64,
            );
            if rep > 0 {
                row.nts.push(a);
                row.peer.push(b);
            }
        }
        let lat = |f: &mut dyn FnMut(i64) -> u64| -> Vec<u64> {
            keys[..n_sql]
                .iter()
                .map(|&k| {
                    let t = Instant::now();
                    black_box(f(k));
                    t.elapsed().as_nanos() as u64
                })
                .collect()
        };
        let nts_lat = lat(&mut |k| s::nts_seek(&mut it, k));
        let sql_lat = lat(&mut |k| s::sql_seek(&mut stmt, k));
        notes.push(format!(
            "seek {label}: nanots {}; SQLite {}",
            percentiles(nts_lat, overhead),
            percentiles(sql_lat, overhead)
        ));
        rows.push(row);
    }
}

/// Workload 4: forward scans, touching every byte.
fn scans(reps: usize, rows: &mut Vec<Row>) {
    for (frames, len, target) in [(100_000u64, 64usize, true), (100_000, 4 * s::KIB, false)] {
        eprintln!("scan {len} B ...");
        let set = s::build_read_set(&format!("cmp-scan{len}"), frames, len);
        let label = if len >= s::KIB {
            format!("{} KiB", len / s::KIB)
        } else {
            format!("{len} B")
        };
        let mut row = Row::new(
            &format!(
                "forward scan, {}k frames of {label} (per frame)",
                frames / 1000
            ),
            "SQLite",
            if target { "≥ 10×" } else { "(sensitivity)" },
        )
        .bytes(len);
        if target {
            row = row.ratio_target(10.0);
        }
        let passes = if len >= s::KIB { 2 } else { 5 };
        for rep in 0..=reps {
            let a = ns_per(
                time(|| {
                    for _ in 0..passes {
                        black_box(s::nts_scan(&set));
                    }
                }),
                frames * passes,
            );
            let b = ns_per(
                time(|| {
                    black_box(s::sql_scan(&set));
                }),
                frames,
            );
            if rep > 0 {
                row.nts.push(a);
                row.peer.push(b);
            }
        }
        rows.push(row);
    }
}

/// Workload 5: two streams written in parallel.
fn parallel(reps: usize, rows: &mut Vec<Row>, notes: &mut Vec<String>) {
    eprintln!("two streams ...");
    let scratch = Scratch::new("cmp-parallel");
    let payloads = s::payloads(64, 64);
    let (n_nts, n_sql, n_sql2) = (1_000_000u64, 100_000u64, 30_000u64);
    let mut row = Row::new(
        "2 streams × 64 B, nanots 2 threads (per frame)",
        "SQLite, 1 writer interleaving",
        "—",
    )
    .bytes(64);
    let mut row2 = Row::new(
        "2 streams × 64 B, nanots 2 threads (per frame)",
        "SQLite, 2 connections (busy wait)",
        "—",
    )
    .bytes(64);
    let mut nts = NtsPair::new(&scratch.file("p.nts"), APPEND_BLOCKS);
    let mut sql = SqlPair::new(&scratch.file("p.sqlite"));
    for rep in 0..=reps {
        let a = ns_per(time(|| nts.append_parallel(n_nts, &payloads)), 2 * n_nts);
        sql.reset_if_larger(2_000_000);
        let b = ns_per(time(|| sql.append_interleaved(n_sql, &payloads)), 2 * n_sql);
        let c = ns_per(
            s::sql_two_connections(&scratch.file("p2.sqlite"), n_sql2, &payloads),
            2 * n_sql2,
        );
        if rep > 0 {
            row.nts.push(a);
            row.peer.push(b);
            row2.nts.push(a);
            row2.peer.push(c);
        }
    }
    notes.push(
        "two streams: frames/s of both streams together; compare with the one-stream append \
         row for the parallel speed-up"
            .to_string(),
    );
    rows.push(row);
    rows.push(row2);
}

/// Workload 6: one writer with two live readers vs the writer alone (ratio = kept fraction).
fn followers(reps: usize, rows: &mut Vec<Row>, notes: &mut Vec<String>) {
    let cases = [
        (
            64usize,
            2_000_000u64,
            Poll::Sleep(Duration::from_micros(100)),
            true,
        ),
        (64, 2_000_000, Poll::Spin, false),
        (
            4 * s::KIB,
            60_000,
            Poll::Sleep(Duration::from_micros(100)),
            false,
        ),
    ];
    for (len, n, poll, target) in cases {
        eprintln!("writer + 2 readers, {len} B, {poll:?} ...");
        let scratch = Scratch::new("cmp-followers");
        let payloads = s::payloads(len, 16);
        let poll_label = match poll {
            Poll::Sleep(d) => format!("sleep {} µs when caught up", d.as_micros()),
            Poll::Spin => "yield-spin when caught up".to_string(),
        };
        let mut row = Row::new(
            &format!("writer {len} B + 2 live readers ({poll_label})"),
            "writer alone",
            if target {
                "keeps ≥ 80 %"
            } else {
                "(sensitivity)"
            },
        )
        .bytes(len);
        if target {
            row = row.ratio_target(0.8);
        }
        let mut nts = NtsAppender::new(&scratch.file("r.nts"), s::BLOCK_10M, APPEND_BLOCKS, "s");
        let mut read_fraction = Vec::new();
        for rep in 0..=reps {
            // Alternate the order so neither case always runs on a warmer cache.
            let mut solo = 0.0;
            let mut with = 0.0;
            let mut read = Vec::new();
            for case in [rep % 2, 1 - rep % 2] {
                if case == 0 {
                    solo = ns_per(time(|| nts.append_n(n, &payloads)), n);
                } else {
                    let (d, counts) = s::append_with_followers(&mut nts, n, &payloads, 2, poll);
                    with = ns_per(d, n);
                    read = counts;
                }
            }
            if rep > 0 {
                // Row ratio is peer / nanots: solo time / time with readers = rate kept.
                row.nts.push(with);
                row.peer.push(solo);
                read_fraction.extend(read.iter().map(|&r| r as f64 / n as f64));
            }
        }
        let (lo, hi) = min_max(&read_fraction);
        notes.push(format!(
            "writer {len} B + readers ({poll_label}): each reader saw {:.1}–{:.1} % of the \
             frames written while it ran",
            lo * 100.0,
            hi * 100.0
        ));
        rows.push(row);
    }
}
