//! Workloads shared by the criterion bench (`benches/frames.rs`) and the comparison printer
//! (`examples/frames_compare.rs`), so both measure exactly the same code.
//!
//! Every nanots workload has a SQLite peer doing the same job on the same data:
//! - WAL mode, `synchronous=NORMAL`, one transaction per 1 MiB of payload. In WAL mode NORMAL
//!   does not sync on commit; SQLite syncs the WAL and the database at each checkpoint (every
//!   ~4 MiB of WAL with the default `wal_autocheckpoint=1000` pages). That is the closest SQLite
//!   setting to nanots' `Durability::BlockBoundary`, which syncs once per finished block: both
//!   may lose the last few MiB on power loss, neither loses data on a process crash.
//! - Frames go into `frames(ts INTEGER PRIMARY KEY, data BLOB)`; the two-stream workload uses
//!   `frames2(stream INTEGER, ts INTEGER, data BLOB, PRIMARY KEY(stream, ts)) WITHOUT ROWID`.
//! - Prepared statements are cached and kept for the whole loop.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nanots::{AllocateOptions, Durability, Reader, WriteContext, Writer, WriterOptions};
use rusqlite::{Connection, params};

pub const KIB: usize = 1 << 10;
pub const MIB: usize = 1 << 20;
/// The block size every frame workload uses (the one the brief names for 4 KiB frames).
pub const BLOCK_10M: u64 = 10 * MIB as u64;
/// SQLite commits once this much payload was inserted.
pub const SQL_COMMIT_BYTES: usize = MIB;
/// Timestamps are microseconds, one frame every millisecond.
pub const TS_STEP: i64 = 1_000;

// ---------------------------------------------------------------------------------------------
// Scratch space and payloads
// ---------------------------------------------------------------------------------------------

/// A directory under the system temp dir, removed when dropped.
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("nanots-bench-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create scratch dir");
        Scratch(dir)
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Fills `out` with bytes anyone can recompute from `(stream, ts)`.
pub fn fill_payload(stream: u64, ts: i64, out: &mut [u8]) {
    let seed = mix(stream.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ ts as u64);
    let mut chunks = out.chunks_exact_mut(8);
    let mut i = 0u64;
    for chunk in &mut chunks {
        chunk.copy_from_slice(&mix(seed.wrapping_add(i)).to_le_bytes());
        i += 1;
    }
    let rest = chunks.into_remainder();
    let len = rest.len();
    rest.copy_from_slice(&mix(seed.wrapping_add(i)).to_le_bytes()[..len]);
}

/// Whether `data` is what `fill_payload(stream, ts, ..)` would write, without allocating.
pub fn check_payload(stream: u64, ts: i64, data: &[u8]) -> bool {
    let seed = mix(stream.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ ts as u64);
    let mut chunks = data.chunks_exact(8);
    let mut i = 0u64;
    for chunk in &mut chunks {
        if chunk != mix(seed.wrapping_add(i)).to_le_bytes() {
            return false;
        }
        i += 1;
    }
    let rest = chunks.remainder();
    rest == &mix(seed.wrapping_add(i)).to_le_bytes()[..rest.len()]
}

/// A small set of distinct payloads the append loops cycle through, prepared up front so that
/// generating bytes is not part of what is measured.
pub fn payloads(len: usize, count: usize) -> Vec<Vec<u8>> {
    (0..count)
        .map(|i| {
            let mut v = vec![0u8; len];
            fill_payload(0, i as i64, &mut v);
            v
        })
        .collect()
}

/// Reads every byte of a frame (word sums), the same work for both engines.
#[inline]
pub fn touch(data: &[u8]) -> u64 {
    let mut chunks = data.chunks_exact(8);
    let mut sum = 0u64;
    for c in &mut chunks {
        sum = sum.wrapping_add(u64::from_le_bytes(c.try_into().unwrap_or([0; 8])));
    }
    for &b in chunks.remainder() {
        sum = sum.wrapping_add(b as u64);
    }
    sum.wrapping_add(data.len() as u64)
}

/// Deterministic xorshift for seek keys.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

// ---------------------------------------------------------------------------------------------
// nanots side
// ---------------------------------------------------------------------------------------------

/// Creates a fixed-size data file (overwriting) and opens its writer.
pub fn nts_writer(path: &Path, block_size: u64, blocks: u64, auto_reclaim: bool) -> Writer {
    nanots::allocate_with(
        path,
        &AllocateOptions::fixed(block_size, blocks).overwrite(true),
    )
    .expect("allocate nanots file");
    Writer::open_with(
        path,
        WriterOptions::default()
            .auto_reclaim(auto_reclaim)
            .durability(Durability::BlockBoundary),
    )
    .expect("open nanots writer")
}

/// One nanots stream being appended to, with block-boundary durability. The file is recycled
/// with auto-reclaim, so it can be written forever.
pub struct NtsAppender {
    pub path: PathBuf,
    // Field order: the context must drop (finish its block) before the writer.
    pub ctx: WriteContext,
    pub writer: Writer,
    pub next_ts: i64,
}

impl NtsAppender {
    pub fn new(path: &Path, block_size: u64, blocks: u64, tag: &str) -> NtsAppender {
        let writer = nts_writer(path, block_size, blocks, true);
        let ctx = writer.create_write_context(tag, "bench").expect("context");
        NtsAppender {
            path: path.to_path_buf(),
            ctx,
            writer,
            next_ts: 0,
        }
    }

    pub fn append_n(&mut self, n: u64, payloads: &[Vec<u8>]) {
        append_n(&mut self.ctx, &mut self.next_ts, n, payloads);
    }
}

#[inline]
pub fn append_n(ctx: &mut WriteContext, next_ts: &mut i64, n: u64, payloads: &[Vec<u8>]) {
    let mut ts = *next_ts;
    let count = payloads.len();
    for i in 0..n as usize {
        ctx.write(&payloads[i % count], ts, 0)
            .expect("nanots write");
        ts += TS_STEP;
    }
    *next_ts = ts;
}

/// Appends `n` frames and returns each write's latency in nanoseconds (timer cost included;
/// see `timer_overhead_ns`).
pub fn append_latencies(app: &mut NtsAppender, n: usize, payloads: &[Vec<u8>]) -> Vec<u64> {
    let mut lat = Vec::with_capacity(n);
    let count = payloads.len();
    for i in 0..n {
        let t = Instant::now();
        app.ctx
            .write(&payloads[i % count], app.next_ts, 0)
            .expect("nanots write");
        lat.push(t.elapsed().as_nanos() as u64);
        app.next_ts += TS_STEP;
    }
    lat
}

/// The median cost of one `Instant::now()` + `elapsed()` pair.
pub fn timer_overhead_ns() -> u64 {
    let mut v: Vec<u64> = (0..10_001)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(());
            t.elapsed().as_nanos() as u64
        })
        .collect();
    v.sort_unstable();
    v[v.len() / 2]
}

// ---------------------------------------------------------------------------------------------
// SQLite side
// ---------------------------------------------------------------------------------------------

/// Opens (creating) a SQLite database configured as the peer: WAL, `synchronous` as given.
pub fn sql_open(path: &Path, synchronous: &str) -> Connection {
    let conn = Connection::open(path).expect("open sqlite");
    let mode: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .expect("wal");
    assert!(mode.eq_ignore_ascii_case("wal"), "sqlite refused WAL");
    conn.execute_batch(&format!("PRAGMA synchronous={synchronous};"))
        .expect("synchronous");
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS frames (ts INTEGER PRIMARY KEY, data BLOB NOT NULL);
         CREATE TABLE IF NOT EXISTS frames2 (stream INTEGER NOT NULL, ts INTEGER NOT NULL,
             data BLOB NOT NULL, PRIMARY KEY (stream, ts)) WITHOUT ROWID;",
    )
    .expect("schema");
    conn
}

fn remove_sqlite(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

/// The SQLite peer of `NtsAppender`: one row per frame, commit every 1 MiB of payload.
pub struct SqlAppender {
    pub path: PathBuf,
    synchronous: &'static str,
    pub conn: Connection,
    pub next_ts: i64,
    pending: usize,
    pub rows: u64,
}

impl SqlAppender {
    pub fn new(path: &Path, synchronous: &'static str) -> SqlAppender {
        remove_sqlite(path);
        let conn = sql_open(path, synchronous);
        SqlAppender {
            path: path.to_path_buf(),
            synchronous,
            conn,
            next_ts: 0,
            pending: 0,
            rows: 0,
        }
    }

    /// Starts over with an empty database when this one holds more than `max_rows`, so that
    /// long runs measure a database of bounded size (call it outside timed regions).
    pub fn reset_if_larger(&mut self, max_rows: u64) {
        if self.rows > max_rows {
            self.commit();
            let path = self.path.clone();
            let fresh = Connection::open_in_memory().expect("placeholder");
            drop(std::mem::replace(&mut self.conn, fresh));
            *self = SqlAppender::new(&path, self.synchronous);
        }
    }

    pub fn append_n(&mut self, n: u64, payloads: &[Vec<u8>]) {
        let count = payloads.len();
        let conn = &self.conn;
        let mut stmt = conn
            .prepare_cached("INSERT INTO frames (ts, data) VALUES (?1, ?2)")
            .expect("prepare");
        let mut ts = self.next_ts;
        for i in 0..n as usize {
            if self.pending == 0 {
                conn.execute_batch("BEGIN").expect("begin");
            }
            let data = &payloads[i % count];
            stmt.execute(params![ts, data]).expect("insert");
            ts += TS_STEP;
            self.pending += data.len();
            if self.pending >= SQL_COMMIT_BYTES {
                conn.execute_batch("COMMIT").expect("commit");
                self.pending = 0;
            }
        }
        self.next_ts = ts;
        self.rows += n;
    }

    pub fn commit(&mut self) {
        if self.pending > 0 {
            self.conn.execute_batch("COMMIT").expect("commit");
            self.pending = 0;
        }
    }
}

impl Drop for SqlAppender {
    fn drop(&mut self) {
        if self.pending > 0 {
            let _ = self.conn.execute_batch("COMMIT");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Read workloads: one stream of `n` frames in both engines
// ---------------------------------------------------------------------------------------------

pub struct ReadSet {
    pub n: u64,
    pub frame_len: usize,
    pub nts_path: PathBuf,
    pub reader: Reader,
    pub sql: Connection,
    pub _scratch: Scratch,
}

pub const READ_TAG: &str = "s";

/// Writes `n` frames of `frame_len` bytes (timestamps `i * TS_STEP`, payloads from
/// `fill_payload(0, ts)`) into a fresh nanots file and a fresh SQLite database.
pub fn build_read_set(name: &str, n: u64, frame_len: usize) -> ReadSet {
    let scratch = Scratch::new(name);
    let nts_path = scratch.file("read.nts");
    let sql_path = scratch.file("read.sqlite");
    let bytes_needed = n * (frame_len as u64 + 32);
    let blocks = bytes_needed / (BLOCK_10M - 4096) + 2;
    let mut buf = vec![0u8; frame_len];
    {
        let writer = nts_writer(&nts_path, BLOCK_10M, blocks, false);
        let mut ctx = writer.create_write_context(READ_TAG, "bench").expect("ctx");
        for i in 0..n as i64 {
            fill_payload(0, i * TS_STEP, &mut buf);
            ctx.write(&buf, i * TS_STEP, 0).expect("write");
        }
        ctx.close().expect("close");
    }
    let sql = sql_open(&sql_path, "NORMAL");
    {
        let tx = sql.unchecked_transaction().expect("tx");
        {
            let mut stmt = tx
                .prepare("INSERT INTO frames (ts, data) VALUES (?1, ?2)")
                .expect("prepare");
            for i in 0..n as i64 {
                fill_payload(0, i * TS_STEP, &mut buf);
                stmt.execute(params![i * TS_STEP, &buf]).expect("insert");
            }
        }
        tx.commit().expect("commit");
    }
    sql.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
        .expect("checkpoint");
    let reader = Reader::open(&nts_path).expect("reader");
    ReadSet {
        n,
        frame_len,
        nts_path,
        reader,
        sql,
        _scratch: scratch,
    }
}

/// Random existing timestamps for the seek workloads.
pub fn seek_keys(n_frames: u64, count: usize, seed: u64) -> Vec<i64> {
    let mut rng = Rng::new(seed);
    (0..count)
        .map(|_| rng.below(n_frames) as i64 * TS_STEP)
        .collect()
}

/// One nanots seek: position on the frame and look at it.
#[inline]
pub fn nts_seek(it: &mut nanots::FrameIterator, ts: i64) -> u64 {
    let found = it.find(ts).expect("find");
    debug_assert!(found);
    let f = it.frame().expect("frame");
    debug_assert_eq!(f.timestamp, ts);
    f.data.len() as u64 + f.data.first().copied().unwrap_or(0) as u64
}

/// The SQLite peer: an indexed point query through a cached prepared statement.
#[inline]
pub fn sql_seek(stmt: &mut rusqlite::CachedStatement<'_>, ts: i64) -> u64 {
    stmt.query_row([ts], |r| {
        let data = r.get_ref(0)?.as_blob()?;
        Ok(data.len() as u64 + data.first().copied().unwrap_or(0) as u64)
    })
    .expect("select")
}

pub const SQL_SEEK: &str = "SELECT data FROM frames WHERE ts = ?1";
pub const SQL_SCAN: &str = "SELECT ts, data FROM frames ORDER BY ts";

/// Reads the whole stream with `Reader::read`, touching every byte. Returns (frames, checksum).
pub fn nts_scan(set: &ReadSet) -> (u64, u64) {
    let (mut n, mut acc) = (0u64, 0u64);
    set.reader
        .read(READ_TAG, i64::MIN, i64::MAX, |f| {
            acc = acc.wrapping_add(touch(f.data)) ^ f.timestamp as u64;
            n += 1;
            true
        })
        .expect("read");
    (n, acc)
}

/// The SQLite peer: `SELECT ts, data ... ORDER BY ts`, touching every byte.
pub fn sql_scan(set: &ReadSet) -> (u64, u64) {
    let (mut n, mut acc) = (0u64, 0u64);
    let mut stmt = set.sql.prepare_cached(SQL_SCAN).expect("prepare");
    let mut rows = stmt.query([]).expect("query");
    while let Some(row) = rows.next().expect("row") {
        let ts: i64 = row.get(0).expect("ts");
        let data = row.get_ref(1).expect("data").as_blob().expect("blob");
        acc = acc.wrapping_add(touch(data)) ^ ts as u64;
        n += 1;
    }
    (n, acc)
}

// ---------------------------------------------------------------------------------------------
// Two streams written in parallel
// ---------------------------------------------------------------------------------------------

/// Two nanots write contexts in one file, each driven by its own thread.
pub struct NtsPair {
    pub ctxs: [WriteContext; 2],
    pub writer: Writer,
    pub next_ts: [i64; 2],
}

impl NtsPair {
    pub fn new(path: &Path, blocks: u64) -> NtsPair {
        let writer = nts_writer(path, BLOCK_10M, blocks, true);
        let a = writer.create_write_context("a", "bench").expect("ctx a");
        let b = writer.create_write_context("b", "bench").expect("ctx b");
        NtsPair {
            ctxs: [a, b],
            writer,
            next_ts: [0, 0],
        }
    }

    /// Writes `per_stream` frames to each stream from two threads.
    pub fn append_parallel(&mut self, per_stream: u64, payloads: &[Vec<u8>]) {
        let [ca, cb] = &mut self.ctxs;
        let [ta, tb] = &mut self.next_ts;
        std::thread::scope(|s| {
            s.spawn(|| append_n(ca, ta, per_stream, payloads));
            append_n(cb, tb, per_stream, payloads);
        });
    }
}

/// The SQLite peer of `NtsPair`. SQLite has one writer at a time per database (a second
/// connection would wait on the write lock in SQLite's sleeping busy handler), so its best case
/// is one connection on one thread interleaving both streams; that is what this does.
pub struct SqlPair {
    pub path: PathBuf,
    pub conn: Connection,
    pub next_ts: i64,
    pending: usize,
    pub rows: u64,
}

impl SqlPair {
    pub fn new(path: &Path) -> SqlPair {
        remove_sqlite(path);
        SqlPair {
            path: path.to_path_buf(),
            conn: sql_open(path, "NORMAL"),
            next_ts: 0,
            pending: 0,
            rows: 0,
        }
    }

    pub fn reset_if_larger(&mut self, max_rows: u64) {
        if self.rows > max_rows {
            self.commit();
            let path = self.path.clone();
            let fresh = Connection::open_in_memory().expect("placeholder");
            drop(std::mem::replace(&mut self.conn, fresh));
            *self = SqlPair::new(&path);
        }
    }

    pub fn append_interleaved(&mut self, per_stream: u64, payloads: &[Vec<u8>]) {
        let count = payloads.len();
        let conn = &self.conn;
        let mut stmt = conn
            .prepare_cached("INSERT INTO frames2 (stream, ts, data) VALUES (?1, ?2, ?3)")
            .expect("prepare");
        let mut ts = self.next_ts;
        for i in 0..per_stream as usize {
            for stream in 0..2i64 {
                if self.pending == 0 {
                    conn.execute_batch("BEGIN").expect("begin");
                }
                let data = &payloads[i % count];
                stmt.execute(params![stream, ts, data]).expect("insert");
                self.pending += data.len();
                if self.pending >= SQL_COMMIT_BYTES {
                    conn.execute_batch("COMMIT").expect("commit");
                    self.pending = 0;
                }
            }
            ts += TS_STEP;
        }
        self.next_ts = ts;
        self.rows += 2 * per_stream;
    }

    pub fn commit(&mut self) {
        if self.pending > 0 {
            self.conn.execute_batch("COMMIT").expect("commit");
            self.pending = 0;
        }
    }
}

impl Drop for SqlPair {
    fn drop(&mut self) {
        if self.pending > 0 {
            let _ = self.conn.execute_batch("COMMIT");
        }
    }
}

/// The other way to run SQLite with two writer threads: a connection per thread, each taking
/// the write lock with `BEGIN IMMEDIATE` and waiting in SQLite's busy handler while the other
/// holds it. Returns the elapsed time for `per_stream` frames on each of two streams.
pub fn sql_two_connections(path: &Path, per_stream: u64, payloads: &[Vec<u8>]) -> Duration {
    remove_sqlite(path);
    drop(sql_open(path, "NORMAL"));
    let start = Instant::now();
    std::thread::scope(|s| {
        for stream in 0..2i64 {
            s.spawn(move || {
                let conn = sql_open(path, "NORMAL");
                conn.busy_timeout(Duration::from_secs(60)).expect("busy");
                let mut stmt = conn
                    .prepare_cached("INSERT INTO frames2 (stream, ts, data) VALUES (?1, ?2, ?3)")
                    .expect("prepare");
                let count = payloads.len();
                let mut pending = 0;
                for i in 0..per_stream as usize {
                    if pending == 0 {
                        conn.execute_batch("BEGIN IMMEDIATE").expect("begin");
                    }
                    let data = &payloads[i % count];
                    stmt.execute(params![stream, i as i64 * TS_STEP, data])
                        .expect("insert");
                    pending += data.len();
                    if pending >= SQL_COMMIT_BYTES {
                        conn.execute_batch("COMMIT").expect("commit");
                        pending = 0;
                    }
                }
                if pending > 0 {
                    conn.execute_batch("COMMIT").expect("commit");
                }
            });
        }
    });
    start.elapsed()
}

// ---------------------------------------------------------------------------------------------
// One writer, live readers
// ---------------------------------------------------------------------------------------------

/// What a live reader does when it has caught up with the writer (`next()` returned false).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Poll {
    /// Sleep this long, then call `next()` again: a follower that tolerates some lag.
    Sleep(Duration),
    /// `yield_now()` and call `next()` again at once: the most aggressive follower.
    Spin,
}

/// Live readers following `tag`; each returns how many frames it read and a checksum.
pub struct Followers<'scope> {
    stop: &'scope AtomicBool,
    handles: Vec<std::thread::ScopedJoinHandle<'scope, (u64, u64)>>,
}

impl<'scope> Followers<'scope> {
    /// Starts `count` readers positioned at the stream's end and waits until each is ready.
    pub fn start<'env>(
        scope: &'scope std::thread::Scope<'scope, 'env>,
        path: &'env Path,
        tag: &'env str,
        count: usize,
        poll: Poll,
        stop: &'scope AtomicBool,
    ) -> Followers<'scope> {
        let ready = std::sync::Arc::new(std::sync::Barrier::new(count + 1));
        let handles = (0..count)
            .map(|_| {
                let ready = ready.clone();
                scope.spawn(move || {
                    let reader = Reader::open(path).expect("reader");
                    let mut it = reader.iter(tag).expect("iter");
                    it.seek_end().expect("seek_end");
                    ready.wait();
                    let (mut n, mut acc) = (0u64, 0u64);
                    while !stop.load(Ordering::Relaxed) {
                        if it.next().expect("next") {
                            let f = it.frame().expect("frame");
                            acc = acc.wrapping_add(touch(f.data));
                            n += 1;
                        } else {
                            match poll {
                                Poll::Sleep(d) => std::thread::sleep(d),
                                Poll::Spin => std::thread::yield_now(),
                            }
                        }
                    }
                    (n, acc)
                })
            })
            .collect();
        ready.wait();
        Followers { stop, handles }
    }

    /// Stops the readers and returns the frames each one read.
    pub fn stop(self) -> Vec<u64> {
        self.stop.store(true, Ordering::Relaxed);
        self.handles
            .into_iter()
            .map(|h| h.join().expect("reader thread").0)
            .collect()
    }
}

/// Appends `n` frames to `app`'s stream while `readers` live readers follow it; returns the
/// writer's elapsed time (reader start-up and shutdown excluded) and the frames each read.
pub fn append_with_followers(
    app: &mut NtsAppender,
    n: u64,
    payloads: &[Vec<u8>],
    readers: usize,
    poll: Poll,
) -> (Duration, Vec<u64>) {
    let stop = AtomicBool::new(false);
    let path = app.path.clone();
    let tag = app.ctx.stream_tag().to_string();
    std::thread::scope(|s| {
        let followers = Followers::start(s, &path, &tag, readers, poll, &stop);
        let t = Instant::now();
        app.append_n(n, payloads);
        let elapsed = t.elapsed();
        (elapsed, followers.stop())
    })
}

// ---------------------------------------------------------------------------------------------
// Disk reference
// ---------------------------------------------------------------------------------------------

/// Sequential write bandwidth of the disk under `dir`: `bytes` written with `write` in 1 MiB
/// pieces, then `fdatasync`. Bytes per second.
pub fn disk_write_bandwidth(dir: &Scratch, bytes: usize) -> f64 {
    use std::io::Write;
    let path = dir.file("disk-probe.bin");
    let chunk = vec![0xA5u8; MIB];
    let mut file = std::fs::File::create(&path).expect("probe file");
    let t = Instant::now();
    for _ in 0..bytes / MIB {
        file.write_all(&chunk).expect("probe write");
    }
    file.sync_data().expect("probe sync");
    let secs = t.elapsed().as_secs_f64();
    drop(file);
    let _ = std::fs::remove_file(&path);
    bytes as f64 / secs
}
