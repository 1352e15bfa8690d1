//! Simulated power loss. Killing a process keeps the page cache, so it cannot show what a power
//! cut keeps; this test builds that state itself.
//!
//! The writer's `sync_observer` is called after every data file sync with the synced range. The
//! test keeps a "durable image" of the data file: a copy of the freshly allocated file into which
//! every synced range (rounded out to whole pages, as `msync` writes whole pages) is copied from
//! the live file at the moment it is synced. The SQLite catalog runs with `synchronous=FULL`, so
//! it is durable at every commit: its files (`.db`, `-wal`) as they are at the cut are what a
//! power cut keeps. The cut is taken on the writing thread itself (between two writes, or from
//! inside the observer in the middle of a sync sequence), so data file and catalog are
//! snapshotted consistently.
//!
//! From the snapshot the test builds the post-cut state — the durable image, optionally with
//! "torn" writes: some unsynced pages from the live file, and a partial page — opens it with
//! `Writer::open` (recovery) and checks:
//! - no frame that is returned is ever wrong (every frame equals its derivable payload), also
//!   when a reader opens the image before any recovery ran;
//! - every stream is a prefix of what was written (consecutive keys from the first, no holes);
//! - what is lost is bounded by the durability mode: `EveryFrame` loses nothing acknowledged;
//!   `BlockBoundary` keeps everything up to the last `flush()` and every finished block;
//!   `EveryBytes(n)` additionally loses less than `n` bytes of acknowledged frames; `Never`
//!   keeps everything up to the last `flush()`;
//! - writing continues after recovery with the next key.
//!
//! Files are fixed-size or growable (a growth is a whole-file fsync, which the observer does not
//! report; the shadow notices the larger file at the next reported sync and takes it whole),
//! with or without auto-reclaim.
//!
//! `NANOTS_POWER_LOSS_ITERATIONS=N` runs N cuts (default 300; 60 for `Never`); `NANOTS_SEED=S`
//! replays a run.

mod common;

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::payload;
use nanots::format::block::{ENTRY_SIZE, fits, max_entries};
use nanots::{Durability, Error, Reader, Writer, WriterOptions, allocate, allocate_growable};
use parking_lot::Mutex;

const PAGE: usize = 4096;
const BLOCK: u64 = 16 * 1024;
const STREAMS: [&str; 3] = ["video", "audio{ch=\"1\"}", "meta"];

/// A scratch directory on tmpfs when the machine has one: the simulation does not need a real
/// disk (for power_loss, durability is modelled in memory; for crash, SIGKILL keeps the page
/// cache anyway), and fsyncs on tmpfs cost nothing, so many more iterations fit the time budget.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let shm = Path::new("/dev/shm");
        let base = if shm.is_dir() && std::env::var_os("NANOTS_REAL_DISK").is_none() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("nanots-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// SplitMix64: small, seedable, good enough to pick cut points.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }

    fn chance(&mut self, one_in: u64) -> bool {
        self.below(one_in) == 0
    }
}

/// The length of frame `ts` of stream `stream`: mostly small, sometimes empty, sometimes large
/// enough that only a few fit a block, so block transitions are frequent.
fn frame_len(stream: usize, ts: i64) -> usize {
    let mut h = (ts as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (stream as u64 + 1);
    h ^= h >> 29;
    h = h.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    h ^= h >> 32;
    match h % 32 {
        0 => 0,
        1 => 4000 + (h >> 8) as usize % 8000,
        2..=5 => 1000 + (h >> 8) as usize % 2000,
        _ => 1 + (h >> 8) as usize % 400,
    }
}

fn frame_bytes(stream: usize, ts: i64) -> Vec<u8> {
    payload(STREAMS[stream], ts, frame_len(stream, ts))
}

/// What the writing thread knows at the cut, per stream.
#[derive(Debug, Clone, Default)]
struct Acked {
    /// Frames whose `write` returned Ok (keys 0..written).
    written: [i64; 3],
    /// Frames covered by a `flush()` that returned Ok.
    flushed: [i64; 3],
    /// Frames in blocks that an acknowledged write moved past (finished, hence synced first).
    finished: [i64; 3],
    /// Frames whose `write` was called (keys 0..started): nothing beyond may ever appear.
    writes_started: [i64; 3],
}

/// A consistent post-cut snapshot.
struct Cut {
    image: Vec<u8>,
    live: Vec<u8>,
    catalog: Vec<(String, Vec<u8>)>,
    acked: Acked,
    /// Which sync call the cut interrupted (`None`: between two writes).
    at_sync: Option<usize>,
    /// With auto-reclaim: each stream's first key still live at the cut (older blocks were
    /// legitimately reclaimed); `None` when unknown.
    first_live: [Option<i64>; 3],
}

struct Shadow {
    live: File,
    data_path: PathBuf,
    catalog_path: PathBuf,
    image: Vec<u8>,
    syncs: usize,
    cut_at_sync: Option<usize>,
    acked: Acked,
    cut: Option<Cut>,
    /// Ask a reader for each stream's first live key at the cut (needed with auto-reclaim).
    probe_first_live: bool,
}

impl Shadow {
    fn record_sync(&mut self, offset: u64, len: u64) {
        // A growable file grows with a whole-file fsync (not reported to the observer) before
        // the claim whose header sync lands here: everything written so far is durable.
        let live_len = self.live.metadata().unwrap().len() as usize;
        if live_len > self.image.len() {
            self.image = std::fs::read(&self.data_path).unwrap();
        }
        let start = (offset as usize) / PAGE * PAGE;
        let end = ((offset + len) as usize).div_ceil(PAGE) * PAGE;
        let end = end.min(self.image.len());
        self.live
            .read_exact_at(&mut self.image[start..end], start as u64)
            .unwrap();
        self.syncs += 1;
        if self.cut.is_none() && self.cut_at_sync == Some(self.syncs) {
            self.take_cut(Some(self.syncs));
        }
    }

    fn take_cut(&mut self, at_sync: Option<usize>) {
        let live = std::fs::read(&self.data_path).unwrap();
        let mut catalog = Vec::new();
        for suffix in ["", "-wal"] {
            let path = format!("{}{suffix}", self.catalog_path.display());
            if let Ok(bytes) = std::fs::read(&path) {
                catalog.push((suffix.to_string(), bytes));
            }
        }
        let mut first_live = [None; 3];
        if self.probe_first_live
            && let Ok(reader) = Reader::open(&self.data_path)
        {
            for (s, tag) in STREAMS.iter().enumerate() {
                // A block being claimed right now cannot be pinned, which reads as an error:
                // then the first live key stays unknown.
                if let Ok(it) = reader.iter(tag) {
                    first_live[s] = it.frame().map(|f| f.timestamp);
                }
            }
        }
        self.cut = Some(Cut {
            image: self.image.clone(),
            live,
            catalog,
            acked: self.acked.clone(),
            at_sync,
            first_live,
        });
    }
}

#[derive(Debug, Clone, Copy)]
struct Config {
    durability: Durability,
    blocks: u64,
    /// Start with one block and grow up to `blocks`.
    growable: bool,
    auto_reclaim: bool,
    writes: usize,
    /// Cut after this many writes, or at this sync call.
    cut_after_writes: Option<usize>,
    cut_at_sync: Option<usize>,
    flush_one_in: u64,
    torn: bool,
}

#[derive(Debug, Default)]
struct Totals {
    iterations: u64,
    cuts_inside_sync: u64,
    torn: u64,
    frames_written: u64,
    frames_checked: u64,
    frames_beyond_guarantee: u64,
    frames_lost: u64,
    raw_frames_checked: u64,
    raw_errors: u64,
}

/// Runs one write session, cuts power, and returns the snapshot.
fn write_and_cut(dir: &Path, config: &Config, rng: &mut Rng) -> Option<Cut> {
    let path = dir.join("live.nts");
    if config.growable {
        allocate_growable(&path, BLOCK, config.blocks).unwrap();
    } else {
        allocate(&path, BLOCK, config.blocks).unwrap();
    }
    let image = std::fs::read(&path).unwrap();
    let shadow = Arc::new(Mutex::new(Shadow {
        live: File::open(&path).unwrap(),
        data_path: path.clone(),
        catalog_path: path.with_extension("db"),
        image,
        syncs: 0,
        cut_at_sync: config.cut_at_sync,
        acked: Acked::default(),
        cut: None,
        probe_first_live: config.auto_reclaim,
    }));
    let observer = {
        let shadow = shadow.clone();
        Arc::new(move |offset: u64, len: u64| shadow.lock().record_sync(offset, len))
    };
    let options = WriterOptions::default()
        .durability(config.durability)
        .auto_reclaim(config.auto_reclaim)
        .sync_observer(observer);
    let writer = Writer::open_with(&path, options).unwrap();
    let mut contexts: Vec<_> = STREAMS
        .iter()
        .map(|tag| writer.create_write_context(tag, "power").unwrap())
        .collect();
    // The block layout each stream's frames get, mirrored to know which blocks are finished.
    let mut layout: [Option<(usize, usize)>; 3] = [None; 3];
    let mut next = [0i64; 3];
    for n in 0..config.writes {
        if config.cut_after_writes == Some(n) {
            let mut s = shadow.lock();
            if s.cut.is_none() {
                s.take_cut(None);
            }
        }
        if shadow.lock().cut.is_some() {
            break;
        }
        let s = rng.below(3) as usize;
        let ts = next[s];
        let data = frame_bytes(s, ts);
        shadow.lock().acked.writes_started[s] = ts + 1;
        match contexts[s].write(&data, ts, 0) {
            Ok(()) => {}
            Err(Error::NoFreeBlocks) => break,
            Err(e) => panic!("write failed: {e}"),
        }
        next[s] += 1;
        let starts_block = match layout[s] {
            Some((count, start)) => !(count < max_entries(BLOCK) && fits(count, start, data.len())),
            None => true,
        };
        let (count, start) = if starts_block {
            (0, BLOCK as usize)
        } else {
            layout[s].unwrap()
        };
        layout[s] = Some((count + 1, start - data.len()));
        {
            let mut sh = shadow.lock();
            sh.acked.written[s] = ts + 1;
            if starts_block {
                sh.acked.finished[s] = ts;
            }
        }
        if rng.chance(config.flush_one_in) {
            contexts[s].flush().unwrap();
            let mut sh = shadow.lock();
            sh.acked.flushed[s] = sh.acked.written[s];
        }
    }
    {
        let mut s = shadow.lock();
        if s.cut.is_none() {
            // The cut point was never reached: cut at the end of the session.
            s.take_cut(None);
        }
    }
    drop(contexts);
    drop(writer);
    shadow.lock().cut.take()
}

/// The post-cut data file: the durable image, plus torn writes when asked.
fn post_cut_image(cut: &Cut, torn: bool, rng: &mut Rng) -> Vec<u8> {
    let mut image = cut.image.clone();
    if !torn {
        return image;
    }
    let dirty: Vec<usize> = (0..image.len() / PAGE)
        .filter(|&p| image[p * PAGE..(p + 1) * PAGE] != cut.live[p * PAGE..(p + 1) * PAGE])
        .collect();
    if dirty.is_empty() {
        return image;
    }
    // Some unsynced pages made it to disk before the cut (the OS writes back in any order)...
    for &page in &dirty {
        if rng.chance(2) {
            let range = page * PAGE..(page + 1) * PAGE;
            image[range.clone()].copy_from_slice(&cut.live[range]);
        }
    }
    // ...and one page was cut in the middle: a prefix of it is new, the rest old.
    let page = dirty[rng.below(dirty.len() as u64) as usize];
    let cut_at = if rng.chance(2) {
        rng.below(8) as usize * 512
    } else {
        rng.below(PAGE as u64) as usize
    };
    let range = page * PAGE..page * PAGE + cut_at;
    image[range.clone()].copy_from_slice(&cut.live[range]);
    image
}

fn materialize(dir: &Path, name: &str, image: &[u8], cut: &Cut) -> PathBuf {
    let path = dir.join(format!("{name}.nts"));
    std::fs::write(&path, image).unwrap();
    for (suffix, bytes) in &cut.catalog {
        std::fs::write(
            format!("{}{suffix}", path.with_extension("db").display()),
            bytes,
        )
        .unwrap();
    }
    path
}

/// Reads a stream and checks every frame against its derivable payload. Returns the keys read,
/// and the error that stopped reading if one did.
fn read_stream(reader: &Reader, s: usize) -> (Vec<i64>, Option<Error>) {
    let mut keys = Vec::new();
    let it = match reader.iter(STREAMS[s]) {
        Ok(it) => it,
        Err(e) => return (keys, Some(e)),
    };
    for frame in it {
        let frame = match frame {
            Ok(f) => f,
            Err(e) => return (keys, Some(e)),
        };
        assert_eq!(
            frame.data,
            frame_bytes(s, frame.timestamp),
            "stream {} frame {} came back with wrong bytes",
            STREAMS[s],
            frame.timestamp
        );
        if let Some(&last) = keys.last() {
            assert!(frame.timestamp > last, "keys went backwards");
        }
        keys.push(frame.timestamp);
    }
    (keys, None)
}

fn check_cut(config: &Config, cut: &Cut, dir: &Path, rng: &mut Rng, totals: &mut Totals) {
    let image = post_cut_image(cut, config.torn, rng);
    let acked = &cut.acked;

    // A reader that opens the image before any recovery may fail, but never returns wrong bytes.
    let raw = materialize(dir, "raw", &image, cut);
    if let Ok(reader) = Reader::open(&raw) {
        for s in 0..STREAMS.len() {
            let (keys, err) = read_stream(&reader, s);
            totals.raw_frames_checked += keys.len() as u64;
            totals.raw_errors += u64::from(err.is_some());
        }
    }

    let path = materialize(dir, "cut", &image, cut);
    let writer = Writer::open(&path, config.auto_reclaim)
        .unwrap_or_else(|e| panic!("recovery failed after the cut ({config:?}): {e}"));
    let report = writer.recovery_report().clone();
    let reader = Reader::open(&path).unwrap();
    let mut last_keys = [None; 3];
    for s in 0..STREAMS.len() {
        let (keys, err) = read_stream(&reader, s);
        let context = format!(
            "stream {} ({config:?}, cut at sync {:?}, acked {acked:?}, recovery {report:?}): read {} frames {:?}..{:?}",
            STREAMS[s],
            cut.at_sync,
            keys.len(),
            keys.first(),
            keys.last(),
        );
        assert!(
            err.is_none(),
            "{context}: reading after recovery failed: {:?}",
            err
        );
        // A prefix: consecutive keys; from 0 unless reclaim dropped the oldest blocks.
        if let Some(&first) = keys.first() {
            if !config.auto_reclaim {
                assert_eq!(first, 0, "{context}: the stream lost its beginning");
            }
            for pair in keys.windows(2) {
                assert_eq!(pair[1], pair[0] + 1, "{context}: hole after {}", pair[0]);
            }
        }
        let end = keys.last().map_or(0, |k| k + 1);
        assert!(
            end <= acked.writes_started[s],
            "{context}: frames appeared that were never written"
        );
        // What the durability mode promises.
        let mut guaranteed = acked.flushed[s];
        match config.durability {
            Durability::EveryFrame => guaranteed = acked.written[s],
            Durability::BlockBoundary | Durability::EveryBytes(_) => {
                guaranteed = guaranteed.max(acked.finished[s]);
            }
            _ => {}
        }
        if !config.auto_reclaim {
            assert!(
                end >= guaranteed,
                "{context}: lost frames the mode guarantees (kept up to {end}, guaranteed {guaranteed})"
            );
        } else if let Some(first_live) = cut.first_live[s] {
            // Reclaim legitimately dropped everything below `first_live`; the rest is owed.
            if let Some(&first) = keys.first() {
                assert!(
                    first >= first_live,
                    "{context}: a reclaimed frame came back ({first} < {first_live})"
                );
            }
            if guaranteed > first_live {
                assert!(
                    keys.first() == Some(&first_live) && end >= guaranteed,
                    "{context}: lost frames the mode guarantees (live from {first_live}, guaranteed up to {guaranteed})"
                );
            }
        }
        if let Durability::EveryBytes(n) = config.durability
            && (!config.auto_reclaim || !keys.is_empty())
        {
            let lost: u64 = (end..acked.written[s])
                .map(|ts| (frame_len(s, ts) + ENTRY_SIZE) as u64)
                .sum();
            assert!(
                lost < n,
                "{context}: EveryBytes({n}) lost {lost} bytes of acknowledged frames"
            );
        }
        totals.frames_checked += keys.len() as u64;
        totals.frames_written += acked.written[s] as u64;
        totals.frames_beyond_guarantee += (end - guaranteed.min(end)) as u64;
        totals.frames_lost += (acked.written[s] - end.min(acked.written[s])) as u64;
        last_keys[s] = keys.last().copied();
    }

    // Writing goes on after the last surviving key.
    let mut contexts = Vec::new();
    for (s, tag) in STREAMS.iter().enumerate() {
        let mut ctx = writer.create_write_context(tag, "after").unwrap();
        let mut next = last_keys[s].map_or(0, |k| k + 1);
        if let Some(last) = ctx.last_key()
            && config.auto_reclaim
        {
            // The stream's newest surviving frames may have been reclaimed; keys never go back.
            next = next.max(last.timestamp + 1);
            last_keys[s] = Some(next - 1);
        } else if let Some(last) = ctx.last_key() {
            assert!(
                last.timestamp < next,
                "stream {tag}: the catalog remembers key {} but only {:?} survived ({config:?}, recovery {report:?})",
                last.timestamp,
                last_keys[s]
            );
        }
        for ts in next..next + 3 {
            ctx.write(&frame_bytes(s, ts), ts, 0).unwrap();
        }
        ctx.flush().unwrap();
        contexts.push(ctx);
    }
    for (s, last) in last_keys.iter().enumerate() {
        let (keys, err) = read_stream(&reader, s);
        assert!(err.is_none(), "after appending: {err:?}");
        assert_eq!(keys.last().copied(), Some(last.map_or(0, |k| k + 1) + 2));
    }
    drop(contexts);
    drop(writer);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    BlockBoundary,
    EveryFrame,
    EveryBytes,
    Never,
}

fn random_config(rng: &mut Rng, modes: &[Mode]) -> Config {
    let durability = match modes[rng.below(modes.len() as u64) as usize] {
        Mode::BlockBoundary => Durability::BlockBoundary,
        Mode::EveryFrame => Durability::EveryFrame,
        Mode::EveryBytes => Durability::EveryBytes(1024 + rng.below(24 * 1024)),
        Mode::Never => Durability::Never,
    };
    let auto_reclaim = rng.chance(5);
    let blocks = if auto_reclaim { 6 } else { 48 };
    let growable = rng.chance(4);
    let writes = 20 + rng.below(400) as usize;
    let (cut_after_writes, cut_at_sync) = if rng.chance(2) {
        (Some(rng.below(writes as u64) as usize), None)
    } else {
        // Sync calls per write vary by mode; aim somewhere inside the session.
        let per_write = if durability == Durability::EveryFrame {
            3
        } else {
            1
        };
        (
            None,
            Some(1 + rng.below((writes * per_write) as u64 / 4 + 2) as usize),
        )
    };
    Config {
        durability,
        blocks,
        growable,
        auto_reclaim,
        writes,
        cut_after_writes,
        cut_at_sync,
        flush_one_in: 4 + rng.below(60),
        torn: rng.chance(2),
    }
}

fn seed() -> u64 {
    std::env::var("NANOTS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        })
}

fn iterations(default: u64) -> u64 {
    std::env::var("NANOTS_POWER_LOSS_ITERATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn random_cuts(modes: &[Mode], default_iterations: u64) {
    let seed = seed();
    println!("power_loss {modes:?}: NANOTS_SEED={seed}");
    let mut rng = Rng(seed);
    let mut totals = Totals::default();
    let started = std::time::Instant::now();
    for iteration in 0..iterations(default_iterations) {
        let config = random_config(&mut rng, modes);
        let dir = Scratch::new("power");
        let t0 = std::time::Instant::now();
        let Some(cut) = write_and_cut(dir.path(), &config, &mut rng) else {
            continue;
        };
        let t1 = t0.elapsed();
        totals.iterations += 1;
        totals.cuts_inside_sync += u64::from(cut.at_sync.is_some());
        totals.torn += u64::from(config.torn);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            check_cut(&config, &cut, dir.path(), &mut rng, &mut totals)
        }));
        if std::env::var_os("NANOTS_VERBOSE").is_some() {
            eprintln!(
                "{iteration}: write {t1:.1?} check {:.1?} {config:?}",
                t0.elapsed() - t1
            );
        }
        if let Err(panic) = result {
            eprintln!(
                "power_loss: iteration {iteration} failed with NANOTS_SEED={seed}: {config:?}"
            );
            std::panic::resume_unwind(panic);
        }
    }
    println!(
        "power_loss {modes:?}: {} cuts ({} inside a sync sequence, {} with torn pages) in {:.1?}: {} frames written, {} checked after recovery ({} beyond what the mode guarantees, {} lost), {} read from unrecovered images ({} reads stopped by a typed error)",
        totals.iterations,
        totals.cuts_inside_sync,
        totals.torn,
        started.elapsed(),
        totals.frames_written,
        totals.frames_checked,
        totals.frames_beyond_guarantee,
        totals.frames_lost,
        totals.raw_frames_checked,
        totals.raw_errors,
    );
}

#[test]
fn random_power_cuts_never_return_wrong_frames_and_keep_what_the_mode_promises() {
    random_cuts(
        &[Mode::BlockBoundary, Mode::EveryFrame, Mode::EveryBytes],
        300,
    );
}

/// `Durability::Never` promises only what `flush()` covered, and prefixes. A block must be
/// synced before the catalog records it as finished even in this mode; otherwise after a cut
/// the catalog names frames the data file never got: holes, and a remembered last key ahead of
/// what survived.
#[test]
fn random_power_cuts_in_never_mode_keep_prefixes() {
    random_cuts(&[Mode::Never], 60);
}

/// A deterministic case: in `Never` mode a `flush()` must make every frame written so far
/// durable, including those in blocks the stream already moved past.
#[test]
fn never_mode_flush_covers_frames_in_finished_blocks() {
    let dir = Scratch::new("never");
    let config = Config {
        durability: Durability::Never,
        blocks: 48,
        growable: false,
        auto_reclaim: false,
        writes: 200,
        cut_after_writes: None,
        cut_at_sync: None,
        flush_one_in: u64::MAX,
        torn: false,
    };
    let path = dir.path().join("live.nts");
    allocate(&path, BLOCK, config.blocks).unwrap();
    let image = std::fs::read(&path).unwrap();
    let shadow = Arc::new(Mutex::new(Shadow {
        live: File::open(&path).unwrap(),
        data_path: path.clone(),
        catalog_path: path.with_extension("db"),
        image,
        syncs: 0,
        cut_at_sync: None,
        acked: Acked::default(),
        cut: None,
        probe_first_live: false,
    }));
    let observer = {
        let shadow = shadow.clone();
        Arc::new(move |offset: u64, len: u64| shadow.lock().record_sync(offset, len))
    };
    let writer = Writer::open_with(
        &path,
        WriterOptions::default()
            .durability(Durability::Never)
            .sync_observer(observer),
    )
    .unwrap();
    let mut ctx = writer.create_write_context(STREAMS[0], "").unwrap();
    let mut written = 0;
    let mut bytes = 0;
    while bytes < 3 * BLOCK as usize {
        let data = frame_bytes(0, written);
        ctx.write(&data, written, 0).unwrap();
        bytes += data.len() + ENTRY_SIZE;
        written += 1;
    }
    ctx.flush().unwrap();
    shadow.lock().take_cut(None);
    drop(ctx);
    drop(writer);
    let cut = shadow.lock().cut.take().unwrap();
    let recovered = materialize(dir.path(), "cut", &cut.image, &cut);
    drop(Writer::open(&recovered, false).unwrap());
    let (keys, err) = read_stream(&Reader::open(&recovered).unwrap(), 0);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(
        keys.len() as i64,
        written,
        "flush() returned, yet a power cut lost frames of earlier blocks"
    );
}
