//! Reproducible nanots-vs-SQLite comparison for the numeric workloads of the performance table.
//!
//! Runs every workload a fixed number of times (after one discarded warm-up repetition), nanots
//! and SQLite back to back within each repetition so they share the machine's noise, and
//! prints a markdown table: medians, the median of the per-repetition ratios and their min–max
//! spread, then bytes per point. The workloads are the code `benches/series.rs` measures.
//!
//! ```text
//! cargo run --release --example series_compare            # 5 repetitions, about a minute
//! cargo run --release --example series_compare -- --reps 3
//! ```

#[path = "../benches/series.rs"]
#[allow(dead_code)]
mod bench;

use std::cell::OnceCell;
use std::hint::black_box;
use std::time::{Duration, Instant};

use bench::support::{self as s, ReadSet, Scratch, Set};

/// One row of the table; times in seconds per run of the workload.
struct Row {
    workload: String,
    nts: Vec<f64>,
    sql: Vec<f64>,
    target_ratio: Option<f64>,
    target: String,
}

impl Row {
    fn ratios(&self) -> Vec<f64> {
        self.nts.iter().zip(&self.sql).map(|(n, q)| q / n).collect()
    }
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn min_max(v: &[f64]) -> (f64, f64) {
    v.iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        })
}

fn fmt_time(secs: f64) -> String {
    if secs >= 1.0 {
        format!("{secs:.2} s")
    } else if secs >= 1e-3 {
        format!("{:.2} ms", secs * 1e3)
    } else {
        format!("{:.1} µs", secs * 1e6)
    }
}

fn time<T>(f: impl FnOnce() -> T) -> f64 {
    let t = Instant::now();
    black_box(f());
    t.elapsed().as_secs_f64()
}

/// Times a short workload by repeating it until at least `min` has passed; seconds per run.
fn time_repeated<T>(min: Duration, mut f: impl FnMut() -> T) -> f64 {
    let t = Instant::now();
    let mut runs = 0u32;
    while runs == 0 || t.elapsed() < min {
        black_box(f());
        runs += 1;
    }
    t.elapsed().as_secs_f64() / f64::from(runs)
}

struct Args {
    reps: usize,
    /// Run only workloads whose name contains this.
    only: Option<String>,
    /// Run only one side ("nanots" or "sqlite"), for profiling.
    side: Option<String>,
}

fn args() -> Args {
    let mut reps = 5;
    let mut only = None;
    let mut side = None;
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
            "--only" => only = Some(it.next().unwrap_or_else(|| usage())),
            "--side" => {
                side = it.next().filter(|v| v == "nanots" || v == "sqlite");
                if side.is_none() {
                    usage()
                }
            }
            "--bench" => {}
            _ => usage(),
        }
    }
    Args { reps, only, side }
}

fn usage() -> ! {
    eprintln!("usage: series_compare [--reps N] [--only SUBSTRING] [--side nanots|sqlite]");
    std::process::exit(2)
}

/// The read set, built (and its answers checked) when a workload first needs it.
#[derive(Clone, Copy)]
struct LazyReadSet<'a>(&'a OnceCell<ReadSet>);

impl<'a> LazyReadSet<'a> {
    fn get(self) -> &'a ReadSet {
        self.0.get_or_init(|| {
            let t = Instant::now();
            let rs = ReadSet::build("cmp-read");
            rs.verify();
            eprintln!(
                "read set built, nanots and SQLite answers checked equal ({:.1} s)",
                t.elapsed().as_secs_f64()
            );
            rs
        })
    }
}

/// One workload: nanots and SQLite closures, each returning seconds per run.
struct Workload<'a> {
    row: Row,
    nts: Box<dyn FnMut() -> f64 + 'a>,
    sql: Box<dyn FnMut() -> f64 + 'a>,
}

fn workload<'a>(
    name: String,
    target: Option<f64>,
    nts: impl FnMut() -> f64 + 'a,
    sql: impl FnMut() -> f64 + 'a,
) -> Workload<'a> {
    Workload {
        row: Row {
            workload: name,
            nts: Vec::new(),
            sql: Vec::new(),
            target_ratio: target,
            target: target.map_or_else(|| "—".to_string(), |t| format!("≥ {t:.0}×")),
        },
        nts: Box::new(nts),
        sql: Box::new(sql),
    }
}

fn main() {
    let Args { reps, only, side } = args();
    let started = Instant::now();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    eprintln!(
        "series_compare: {reps} repetitions (+1 warm-up), {} CPUs, load {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    let origin = s::power().origin.clone();
    eprintln!("data: {origin}");
    // Sizes are skipped when only some workloads run (profiling).
    let sizes: Vec<_> = match only {
        None => Set::ALL.into_iter().map(s::sizes).collect(),
        Some(_) => Vec::new(),
    };
    // Built on first use, inside the discarded warm-up repetition.
    let read_set = OnceCell::new();
    let rs = &LazyReadSet(&read_set);

    let scratch = &Scratch::new("cmp-insert");
    // Reads are short: repeat each until this much time has passed and take the mean.
    let min = Duration::from_millis(150);
    let mut work: Vec<Workload<'_>> = Vec::new();
    for set in Set::ALL {
        let d = set.describe();
        work.push(workload(
            format!("insert + flush ({d})"),
            Some(10.0),
            move || s::nts_insert_once(scratch, set).as_secs_f64(),
            move || s::sql_insert_once(scratch, set).as_secs_f64(),
        ));
    }
    for set in Set::ALL {
        let d = set.describe();
        work.push(workload(
            format!("full-range vector read ({d})"),
            Some(20.0),
            move || time_repeated(min, || rs.get().nts_read(set)),
            move || time_repeated(min, || rs.get().sql_read(set)),
        ));
        if set == Set::Voltage {
            // Not a target: the same read with `collect()` instead of a `next_vector` loop,
            // to tell the per-point cost of `next_vector` from decoding.
            work.push(workload(
                format!("full-range read with `collect()` ({d})"),
                None,
                move || time_repeated(min, || rs.get().nts_collect(set)),
                move || time_repeated(min, || rs.get().sql_read(set)),
            ));
        }
        for func in ["sum", "avg", "max"] {
            work.push(workload(
                format!("`{func}` whole column ({d})"),
                Some(50.0),
                move || time_repeated(min, || rs.get().nts_aggregate(func, set)),
                move || time_repeated(min, || rs.get().sql_aggregate(func, set)),
            ));
        }
        work.push(workload(
            format!("`avg(...)[1h]` ({d})"),
            None,
            move || time_repeated(min, || rs.get().nts_hourly(set)),
            move || time_repeated(min, || rs.get().sql_hourly(set)),
        ));
    }
    work.push(workload(
        "`active * 1000 / voltage` (2.08M points; SQLite JOIN)".to_string(),
        None,
        move || time(|| rs.get().nts_expr()),
        move || time(|| rs.get().sql_expr()),
    ));

    if let Some(only) = &only {
        work.retain(|w| w.row.workload.contains(only.as_str()));
    }
    for rep in 0..=reps {
        eprintln!(
            "repetition {rep}/{reps}{} ...",
            if rep == 0 { " (warm-up)" } else { "" }
        );
        for w in work.iter_mut() {
            let a = if side.as_deref() == Some("sqlite") {
                f64::NAN
            } else {
                (w.nts)()
            };
            let b = if side.as_deref() == Some("nanots") {
                f64::NAN
            } else {
                (w.sql)()
            };
            if rep > 0 {
                w.row.nts.push(a);
                w.row.sql.push(b);
            }
        }
    }

    println!();
    println!("data: {origin}; {reps} repetitions, medians");
    println!();
    println!("| workload | nanots | SQLite | ratio | ratio min–max | target | met |");
    println!("|---|---|---|---|---|---|---|");
    for w in &work {
        let row = &w.row;
        let ratios = row.ratios();
        let r = median(&ratios);
        let (lo, hi) = min_max(&ratios);
        let met = match row.target_ratio {
            _ if !r.is_finite() => "—",
            Some(t) if lo >= t => "yes",
            Some(t) if r >= t => "median only",
            Some(_) => "no",
            None => "—",
        };
        println!(
            "| {} | {} | {} | {:.1}× | {:.1}–{:.1}× | {} | {} |",
            row.workload,
            fmt_time(median(&row.nts)),
            fmt_time(median(&row.sql)),
            r,
            lo,
            hi,
            row.target,
            met
        );
    }
    println!();
    println!(
        "| data | nanots chunks | nanots blocks used | nanots whole db | SQLite file | Gorilla | \
         TachyonDB |"
    );
    println!("|---|---|---|---|---|---|---|");
    for sz in &sizes {
        println!(
            "| {} | {:.3} B/pt | {:.3} B/pt | {:.3} B/pt | {:.2} B/pt | 1.37 B/pt | 8.2 B/pt |",
            sz.set.describe(),
            sz.nts_chunks,
            sz.nts_blocks,
            sz.nts_files,
            sz.sql_file
        );
    }
    println!();
    println!(
        "- blocks used = the blocks (256 KiB, `DEFAULT_BLOCK_SIZE`) holding the stream (chunks + the tail of each block a \
         chunk did not fit); whole db = data file as allocated (it grows by doubling) + SQLite \
         catalog; the bytes-per-point target (≤ 1.0 B/pt) is on the chunks"
    );
    println!("- total run time {:.0} s", started.elapsed().as_secs_f64());
}
