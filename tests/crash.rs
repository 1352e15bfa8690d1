//! Crash safety: a child process writes several streams and is killed with SIGKILL at random
//! moments; the parent reopens the file with `Writer::open` (recovery) and checks what is left.
//!
//! The child is this test binary run again (`--exact crash_child`, selected by the
//! `NANOTS_CRASH_CHILD` environment variable). It writes three streams from three threads with
//! payloads derivable from stream and key, flushes now and then, and records each completed
//! flush by appending the flushed key to a side file (and fsyncing it) *after* `flush()`
//! returned. After each kill the parent checks that
//! - recovery succeeds and every frame present is intact,
//! - each stream is a prefix of what was written: consecutive keys from 0, no holes,
//! - everything up to the last recorded flush is there,
//! - writing continues: it appends after the last key and reads it back.
//!
//! The same file is reused across kills (so recovery also runs over files that earlier
//! recoveries repaired) until it is full, then a fresh one is allocated.
//!
//! SIGKILL keeps the page cache, so this proves crash consistency, not power-loss durability;
//! `tests/power_loss.rs` covers that. `NANOTS_CRASH_ITERATIONS=N` runs N kills (default 50).

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::payload;
use nanots::{Error, Reader, Writer, allocate};

const CHILD_ENV: &str = "NANOTS_CRASH_CHILD";
const STREAMS: [&str; 3] = ["cam/front", "cam/back", "telemetry"];
const BLOCK: u64 = 32 * 1024;
const BLOCKS: u64 = 256;

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

    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

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
}

fn frame_len(stream: usize, ts: i64) -> usize {
    let mut h = (ts as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (stream as u64 + 7);
    h ^= h >> 31;
    h = h.wrapping_mul(0x94D0_49BB_1331_11EB);
    h ^= h >> 29;
    match h % 16 {
        0 => 0,
        1 => 2000 + (h >> 8) as usize % 6000,
        _ => 1 + (h >> 8) as usize % 700,
    }
}

fn frame_bytes(stream: usize, ts: i64) -> Vec<u8> {
    payload(STREAMS[stream], ts, frame_len(stream, ts))
}

fn flushed_log(dir: &Path, stream: usize) -> PathBuf {
    dir.join(format!("flushed-{stream}"))
}

/// Appends `ts` to the stream's flush log and makes the line durable.
fn record_flush(dir: &Path, stream: usize, ts: i64) {
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(flushed_log(dir, stream))
        .unwrap();
    log.write_all(format!("{ts}\n").as_bytes()).unwrap();
    log.sync_data().unwrap();
}

/// The last key whose flush completed (complete lines only: a kill may cut a line short).
fn last_flushed(dir: &Path, stream: usize) -> Option<i64> {
    let text = std::fs::read_to_string(flushed_log(dir, stream)).unwrap_or_default();
    let complete = match text.rfind('\n') {
        Some(end) => &text[..end],
        None => return None,
    };
    complete.lines().filter_map(|l| l.parse().ok()).max()
}

/// The child's role: write until killed (or until the file is full).
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return; // Run as a normal test: nothing to do.
    };
    let dir = PathBuf::from(dir);
    let path = dir.join("store.nts");
    let writer = Writer::open(&path, false).unwrap();
    std::fs::write(dir.join("ready"), b"").unwrap();
    let seed = std::process::id() as u64 ^ Instant::now().elapsed().as_nanos() as u64;
    std::thread::scope(|scope| {
        for (s, tag) in STREAMS.iter().enumerate() {
            let writer = &writer;
            let dir = &dir;
            scope.spawn(move || {
                let mut rng = Rng(seed.wrapping_add(s as u64 * 7919));
                let mut ctx = writer.create_write_context(tag, "crash").unwrap();
                let mut ts = ctx.last_key().map_or(0, |k| k.timestamp + 1);
                loop {
                    match ctx.write(&frame_bytes(s, ts), ts, 0) {
                        Ok(()) => {}
                        Err(Error::NoFreeBlocks) => return,
                        Err(e) => panic!("child write failed: {e}"),
                    }
                    if rng.below(24) == 0 {
                        ctx.flush().unwrap();
                        record_flush(dir, s, ts);
                    }
                    ts += 1;
                }
            });
        }
    });
    std::fs::write(dir.join("full"), b"").unwrap();
}

#[derive(Debug, Default)]
struct Totals {
    kills: u64,
    kills_while_writing: u64,
    fresh_files: u64,
    frames_checked: u64,
    beyond_last_flush: u64,
    frames_dropped_by_recovery: u64,
    blocks_settled: u64,
}

fn spawn_child(dir: &Path) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, dir)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("child-stderr")).unwrap())
        .spawn()
        .unwrap()
}

/// Reopens after a kill and checks every stream; returns each stream's last key.
fn verify(dir: &Path, totals: &mut Totals) -> [Option<i64>; 3] {
    let path = dir.join("store.nts");
    let writer = Writer::open(&path, false).expect("recovery after a kill");
    let report = writer.recovery_report().clone();
    totals.frames_dropped_by_recovery += report.frames_dropped;
    totals.blocks_settled += report.blocks_finished + report.blocks_freed;
    let reader = Reader::open(&path).unwrap();
    let mut last = [None; 3];
    for (s, tag) in STREAMS.iter().enumerate() {
        let mut expected = 0i64;
        for frame in reader.iter(tag).unwrap() {
            let frame = frame.unwrap_or_else(|e| panic!("{tag}: read after recovery failed: {e}"));
            assert_eq!(
                frame.timestamp, expected,
                "{tag}: not a prefix (hole or reordering), recovery {report:?}"
            );
            assert_eq!(
                frame.data,
                frame_bytes(s, frame.timestamp),
                "{tag}: frame {} came back damaged",
                frame.timestamp
            );
            expected += 1;
        }
        totals.frames_checked += expected as u64;
        last[s] = expected.checked_sub(1).filter(|&k| k >= 0);
        let flushed = last_flushed(dir, s);
        if let Some(flushed) = flushed {
            assert!(
                last[s].is_some_and(|l| l >= flushed),
                "{tag}: flush of key {flushed} completed, yet only {:?} survived (recovery {report:?})",
                last[s]
            );
        }
        totals.beyond_last_flush += (expected - flushed.map_or(0, |f| f + 1)).max(0) as u64;
    }
    // Writing continues after the last key; the new frames are flushed and read back.
    if !dir.join("full").exists() {
        for (s, tag) in STREAMS.iter().enumerate() {
            let mut ctx = writer.create_write_context(tag, "parent").unwrap();
            let next = last[s].map_or(0, |l| l + 1);
            assert_eq!(
                ctx.last_key().map(|k| k.timestamp),
                last[s],
                "{tag}: catalog last key"
            );
            for ts in next..next + 2 {
                match ctx.write(&frame_bytes(s, ts), ts, 0) {
                    Ok(()) => {}
                    Err(Error::NoFreeBlocks) => break,
                    Err(e) => panic!("{tag}: writing after recovery failed: {e}"),
                }
                last[s] = Some(ts);
            }
            ctx.flush().unwrap();
            if let Some(l) = last[s] {
                record_flush(dir, s, l);
            }
            let mut it = reader.iter(tag).unwrap();
            assert!(it.seek_end().unwrap());
            assert_eq!(it.frame().map(|f| f.timestamp), last[s]);
        }
    }
    last
}

fn iterations() -> u64 {
    std::env::var("NANOTS_CRASH_ITERATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50)
}

#[test]
fn killed_writers_leave_intact_prefixes_that_keep_every_flush() {
    let seed = std::env::var("NANOTS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    println!("crash: NANOTS_SEED={seed}");
    let mut rng = Rng(seed);
    let started = Instant::now();
    let mut totals = Totals::default();
    let mut dir = Scratch::new("crash");
    let mut fresh = true;
    for _ in 0..iterations() {
        if fresh {
            dir = Scratch::new("crash");
            allocate(dir.file("store.nts"), BLOCK, BLOCKS).unwrap();
            totals.fresh_files += 1;
            fresh = false;
        }
        let _ = std::fs::remove_file(dir.file("ready"));
        let mut child = spawn_child(dir.path());
        // Mostly kill while the child writes; sometimes while it starts up or recovers.
        if rng.below(6) != 0 {
            let deadline = Instant::now() + Duration::from_secs(10);
            while !dir.file("ready").exists() && Instant::now() < deadline {
                if child.try_wait().unwrap().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_micros(300));
            }
            std::thread::sleep(Duration::from_micros(rng.below(40_000)));
        } else {
            std::thread::sleep(Duration::from_micros(rng.below(15_000)));
        }
        let was_writing = dir.file("ready").exists();
        // SAFETY: kill only sends a signal to the child this test spawned and still owns.
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGKILL) };
        let status = child.wait().unwrap();
        if status.code().is_some() && !dir.file("full").exists() {
            let stderr = std::fs::read_to_string(dir.file("child-stderr")).unwrap_or_default();
            panic!("the child exited by itself ({status}):\n{stderr}");
        }
        totals.kills += 1;
        totals.kills_while_writing += u64::from(was_writing);
        verify(dir.path(), &mut totals);
        if dir.file("full").exists() {
            fresh = true;
        }
    }
    println!(
        "crash: {} kills ({} while writing, {} files) in {:.1?}: {} frames checked, {} recovered beyond the last completed flush; recovery dropped {} torn frames and settled {} open blocks",
        totals.kills,
        totals.kills_while_writing,
        totals.fresh_files,
        started.elapsed(),
        totals.frames_checked,
        totals.beyond_last_flush,
        totals.frames_dropped_by_recovery,
        totals.blocks_settled,
    );
}
