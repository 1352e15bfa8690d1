//! Frame API benchmarks, each nanots workload beside its SQLite peer in one criterion group.
//!
//! Peer setup and durability (see `frames_support`): SQLite in WAL mode with
//! `synchronous=NORMAL`, one transaction per 1 MiB of payload; nanots with
//! `Durability::BlockBoundary` and 10 MiB blocks. Both lose at most the last few MiB on power
//! loss and nothing on a crash.
//!
//! `cargo bench --bench frames` (about two minutes); `-- --quick` for a rough pass. For a
//! ratio table with medians over repetitions use `cargo run --release --example frames_compare`.

mod frames_support;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use frames_support::{self as s, NtsAppender, NtsPair, Poll, Scratch, SqlAppender, SqlPair};

/// Blocks in the append files: 240 MiB, recycled with auto-reclaim.
const APPEND_BLOCKS: u64 = 24;
/// Rows after which a SQLite append database is started over (outside the timed region).
const SQL_MAX_ROWS_64: u64 = 4_000_000;
const SQL_MAX_ROWS_4K: u64 = 100_000;
/// Frames in the prebuilt stream for seeks and scans.
const READ_FRAMES: u64 = 100_000;

/// Workload 1: append 64 B frames to one stream.
fn append_64(c: &mut Criterion) {
    let scratch = Scratch::new("crit-append64");
    let payloads = s::payloads(64, 64);
    let mut group = c.benchmark_group("append_64B");
    group.throughput(Throughput::Elements(1));
    let mut nts = NtsAppender::new(
        &scratch.file("a.nts"),
        s::BLOCK_10M,
        APPEND_BLOCKS,
        "stream",
    );
    group.bench_function("nanots", |b| {
        b.iter_custom(|iters| {
            let t = Instant::now();
            nts.append_n(iters, &payloads);
            t.elapsed()
        })
    });
    drop(nts);
    let mut sql = SqlAppender::new(&scratch.file("a.sqlite"), "NORMAL");
    group.bench_function("sqlite", |b| {
        b.iter_custom(|iters| {
            sql.reset_if_larger(SQL_MAX_ROWS_64);
            let t = Instant::now();
            sql.append_n(iters, &payloads);
            t.elapsed()
        })
    });
    group.finish();
}

/// Workload 2: append 4 KiB frames, 10 MiB blocks, block-level sync.
fn append_4k(c: &mut Criterion) {
    let scratch = Scratch::new("crit-append4k");
    let payloads = s::payloads(4 * s::KIB, 16);
    let mut group = c.benchmark_group("append_4KiB");
    group.throughput(Throughput::Bytes(4 * s::KIB as u64));
    let mut nts = NtsAppender::new(
        &scratch.file("a.nts"),
        s::BLOCK_10M,
        APPEND_BLOCKS,
        "stream",
    );
    group.bench_function("nanots", |b| {
        b.iter_custom(|iters| {
            let t = Instant::now();
            nts.append_n(iters, &payloads);
            t.elapsed()
        })
    });
    drop(nts);
    let mut sql = SqlAppender::new(&scratch.file("a.sqlite"), "NORMAL");
    group.bench_function("sqlite", |b| {
        b.iter_custom(|iters| {
            sql.reset_if_larger(SQL_MAX_ROWS_4K);
            let t = Instant::now();
            sql.append_n(iters, &payloads);
            t.elapsed()
        })
    });
    group.finish();
}

/// Workload 3: random seek to an existing timestamp among 100k 64 B frames.
fn seek(c: &mut Criterion) {
    let set = s::build_read_set("crit-seek", READ_FRAMES, 64);
    let keys = s::seek_keys(READ_FRAMES, 1 << 16, 7);
    let mask = keys.len() - 1;
    let mut group = c.benchmark_group("seek_100k");
    group.throughput(Throughput::Elements(1));
    let mut it = set.reader.iter(s::READ_TAG).expect("iter");
    let mut i = 0usize;
    group.bench_function("nanots", |b| {
        b.iter(|| {
            i = (i + 1) & mask;
            black_box(s::nts_seek(&mut it, keys[i]))
        })
    });
    let mut stmt = set.sql.prepare_cached(s::SQL_SEEK).expect("prepare");
    group.bench_function("sqlite", |b| {
        b.iter(|| {
            i = (i + 1) & mask;
            black_box(s::sql_seek(&mut stmt, keys[i]))
        })
    });
    group.finish();
}

/// Workload 4: forward scan of a 100k-frame stream (64 B frames), touching every byte.
fn scan(c: &mut Criterion) {
    let set = s::build_read_set("crit-scan", READ_FRAMES, 64);
    let mut group = c.benchmark_group("scan_100k");
    group.throughput(Throughput::Elements(READ_FRAMES));
    group.bench_function("nanots", |b| {
        b.iter(|| {
            let (n, acc) = s::nts_scan(&set);
            assert_eq!(n, READ_FRAMES);
            black_box(acc)
        })
    });
    group.bench_function("sqlite", |b| {
        b.iter(|| {
            let (n, acc) = s::sql_scan(&set);
            assert_eq!(n, READ_FRAMES);
            black_box(acc)
        })
    });
    group.finish();
}

/// Workload 5: two streams of 64 B frames written in parallel. nanots: two threads, two write
/// contexts. SQLite: one connection interleaving both streams (its best case; see `SqlPair`).
fn parallel(c: &mut Criterion) {
    let scratch = Scratch::new("crit-parallel");
    let payloads = s::payloads(64, 64);
    let mut group = c.benchmark_group("two_streams_64B");
    // One element = one frame on each stream.
    group.throughput(Throughput::Elements(2));
    let mut nts = NtsPair::new(&scratch.file("p.nts"), APPEND_BLOCKS);
    group.bench_function("nanots_2_threads", |b| {
        b.iter_custom(|iters| {
            let t = Instant::now();
            nts.append_parallel(iters, &payloads);
            t.elapsed()
        })
    });
    drop(nts);
    let mut sql = SqlPair::new(&scratch.file("p.sqlite"));
    group.bench_function("sqlite_1_writer", |b| {
        b.iter_custom(|iters| {
            sql.reset_if_larger(SQL_MAX_ROWS_64);
            let t = Instant::now();
            sql.append_interleaved(iters, &payloads);
            t.elapsed()
        })
    });
    group.finish();
}

/// Workload 6: one writer (64 B frames) with two live readers following the stream, vs the
/// writer alone. The readers sleep 100 µs whenever `next()` finds nothing new.
fn writer_with_readers(c: &mut Criterion) {
    let scratch = Scratch::new("crit-readers");
    let payloads = s::payloads(64, 64);
    let mut group = c.benchmark_group("writer_2_readers_64B");
    group.throughput(Throughput::Elements(1));
    let mut nts = NtsAppender::new(
        &scratch.file("r.nts"),
        s::BLOCK_10M,
        APPEND_BLOCKS,
        "stream",
    );
    group.bench_function("writer_alone", |b| {
        b.iter_custom(|iters| {
            let t = Instant::now();
            nts.append_n(iters, &payloads);
            t.elapsed()
        })
    });
    group.bench_function("writer_with_2_readers", |b| {
        b.iter_custom(|iters| {
            let poll = Poll::Sleep(Duration::from_micros(100));
            s::append_with_followers(&mut nts, iters, &payloads, 2, poll).0
        })
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = append_64, append_4k, seek, scan, parallel, writer_with_readers
}
criterion_main!(benches);
