//! Four cameras recording into one nanots file while it is being read.
//!
//! - Four writer threads, one write context each, append H.264-like frames as fast as the
//!   engine allows: an I-frame of 60–120 KB every 30 frames, P-frames of 8–25 KB between,
//!   timestamps 33,333 µs apart (30 fps). Sizes and bytes are pseudo-random but derivable from
//!   (camera, frame number), so any reader can check every byte.
//! - A live reader follows camera 0 from its first frame, verifying each frame as it arrives.
//! - A seeker thread jumps to random already-written timestamps of random cameras.
//! - The file (10 MiB blocks) is smaller than the recording, so auto-reclaim recycles the
//!   oldest blocks while all this runs; readers must never see a torn or foreign frame.
//!
//! ```text
//! cargo run --release --example video_frames [-- FRAMES_PER_CAMERA [BLOCKS]]
//! ```

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use nanots::{AllocateOptions, Reader, Writer, WriterOptions};

const CAMERAS: usize = 4;
const FRAME_INTERVAL_US: i64 = 33_333;
const GOP: u64 = 30;
const KEY_FRAME: u32 = 1;
const BLOCK_SIZE: u64 = 10 << 20;

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn tag(camera: usize) -> String {
    format!("camera-{camera}")
}

/// Size and flags of frame `n` of `camera`: what an encoder with a 30-frame GOP would emit.
fn frame_shape(camera: usize, n: u64) -> (usize, u32) {
    let r = mix(((camera as u64) << 40) ^ n ^ 0x5EED);
    let position_in_gop = n % GOP;
    if position_in_gop == 0 {
        (60_000 + (r % 60_001) as usize, KEY_FRAME)
    } else {
        (8_000 + (r % 17_001) as usize, 0)
    }
}

fn seed(camera: usize, ts: i64) -> u64 {
    mix((camera as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ ts as u64)
}

/// The bytes of the frame at `ts` of `camera`.
fn fill_frame(camera: usize, ts: i64, out: &mut Vec<u8>, len: usize) {
    out.clear();
    let s = seed(camera, ts);
    let mut i = 0u64;
    while out.len() + 8 <= len {
        out.extend_from_slice(&mix(s.wrapping_add(i)).to_le_bytes());
        i += 1;
    }
    let rest = len - out.len();
    out.extend_from_slice(&mix(s.wrapping_add(i)).to_le_bytes()[..rest]);
}

/// Whether a frame read back is exactly what the writer of `camera` wrote at its timestamp.
fn verify(camera: usize, timestamp: i64, flags: u32, data: &[u8]) -> bool {
    if timestamp < 0 || timestamp % FRAME_INTERVAL_US != 0 {
        return false;
    }
    let (len, expected_flags) = frame_shape(camera, (timestamp / FRAME_INTERVAL_US) as u64);
    if data.len() != len || flags != expected_flags {
        return false;
    }
    let s = seed(camera, timestamp);
    let mut chunks = data.chunks_exact(8);
    let mut i = 0u64;
    for chunk in &mut chunks {
        if chunk != mix(s.wrapping_add(i)).to_le_bytes() {
            return false;
        }
        i += 1;
    }
    let rest = chunks.remainder();
    rest == &mix(s.wrapping_add(i)).to_le_bytes()[..rest.len()]
}

struct WriterStats {
    frames: u64,
    bytes: u64,
    elapsed: Duration,
    error: Option<nanots::Error>,
}

/// Frames each camera has written so far, so the seeker only asks for timestamps that exist.
struct Progress {
    written: [AtomicU64; CAMERAS],
    writers_done: AtomicBool,
}

fn record(writer: &Writer, camera: usize, frames: u64, progress: &Progress) -> WriterStats {
    let mut stats = WriterStats {
        frames: 0,
        bytes: 0,
        elapsed: Duration::ZERO,
        error: None,
    };
    let mut ctx = match writer.create_write_context(&tag(camera), "codec=h264 fps=30 gop=30") {
        Ok(ctx) => ctx,
        Err(e) => {
            stats.error = Some(e);
            return stats;
        }
    };
    let mut buf = Vec::with_capacity(128 * 1024);
    let start = Instant::now();
    for n in 0..frames {
        let ts = n as i64 * FRAME_INTERVAL_US;
        let (len, flags) = frame_shape(camera, n);
        fill_frame(camera, ts, &mut buf, len);
        if let Err(e) = ctx.write(&buf, ts, flags) {
            // E.g. `NoFreeBlocks`: every block is either being written or pinned by a reader.
            stats.error = Some(e);
            break;
        }
        stats.frames += 1;
        stats.bytes += len as u64;
        progress.written[camera].store(n + 1, Ordering::Release);
    }
    if let Err(e) = ctx.close() {
        stats.error.get_or_insert(e);
    }
    stats.elapsed = start.elapsed();
    stats
}

#[derive(Default)]
struct FollowStats {
    verified: u64,
    failures: u64,
    /// Frames the follower never saw because auto-reclaim recycled them before it got there.
    skipped: u64,
    /// Errors the engine returned (e.g. a frame that failed its checksum); they count as
    /// integrity failures, and the follower re-seeks past them.
    errors: u64,
    first_error: Option<String>,
}

/// `next()`; after an error, records it and looks again from `resume`.
fn advance(it: &mut nanots::FrameIterator, resume: i64, stats: &mut FollowStats) -> bool {
    match it.next() {
        Ok(found) => found,
        Err(e) => {
            stats.errors += 1;
            stats.first_error.get_or_insert_with(|| e.to_string());
            it.find(resume).unwrap_or(false)
        }
    }
}

/// Follows camera 0 live from its first frame until the writer has finished and every frame
/// still in the file was read.
fn follow(path: &Path, frames: u64, progress: &Progress) -> FollowStats {
    let reader = Reader::open(path).expect("open reader");
    let mut it = reader.iter(&tag(0)).expect("iterator");
    let mut stats = FollowStats::default();
    let mut expected_next = 0i64;
    let last_ts = (frames as i64 - 1) * FRAME_INTERVAL_US;
    // The iterator starts on the first frame if there is one; otherwise `next()` finds it.
    let mut have = it.valid();
    loop {
        if !have {
            have = advance(&mut it, expected_next, &mut stats);
        }
        if !have {
            let done = progress.writers_done.load(Ordering::Acquire);
            if done && expected_next > last_ts {
                break;
            }
            if done {
                // The writer finished; one more look picks up its last frames.
                have = advance(&mut it, expected_next, &mut stats);
                if !have {
                    break;
                }
                continue;
            }
            std::thread::sleep(Duration::from_micros(200));
            continue;
        }
        let f = it.frame().expect("valid iterator has a frame");
        if verify(0, f.timestamp, f.flags, f.data) && f.timestamp >= expected_next {
            stats.verified += 1;
            stats.skipped += ((f.timestamp - expected_next) / FRAME_INTERVAL_US) as u64;
        } else {
            stats.failures += 1;
        }
        expected_next = f.timestamp + FRAME_INTERVAL_US;
        have = false;
    }
    stats
}

#[derive(Default)]
struct SeekStats {
    latencies_ns: Vec<u64>,
    exact: u64,
    /// The asked-for frame was recycled; the seek landed on the oldest frame after it.
    later: u64,
    not_found: u64,
    failures: u64,
    /// Errors the engine returned; they count as integrity failures.
    errors: u64,
    first_error: Option<String>,
}

/// Random seeks to already-written timestamps until the writers are done.
fn seek(path: &Path, progress: &Progress) -> SeekStats {
    let reader = Reader::open(path).expect("open reader");
    let mut iters: Vec<_> = (0..CAMERAS)
        .map(|c| reader.iter(&tag(c)).expect("iterator"))
        .collect();
    let mut stats = SeekStats::default();
    let mut rng = 0x2545_F491_4F6C_DD1Du64;
    while !progress.writers_done.load(Ordering::Acquire) {
        rng = mix(rng);
        let camera = (rng % CAMERAS as u64) as usize;
        let written = progress.written[camera].load(Ordering::Acquire);
        if written == 0 {
            std::thread::yield_now();
            continue;
        }
        let target = ((rng >> 8) % written) as i64 * FRAME_INTERVAL_US;
        let it = &mut iters[camera];
        let t = Instant::now();
        let found = match it.find(target) {
            Ok(found) => found,
            Err(e) => {
                stats.errors += 1;
                stats.first_error.get_or_insert_with(|| e.to_string());
                continue;
            }
        };
        stats.latencies_ns.push(t.elapsed().as_nanos() as u64);
        match it.frame() {
            Some(f) if found => {
                if !verify(camera, f.timestamp, f.flags, f.data) || f.timestamp < target {
                    stats.failures += 1;
                } else if f.timestamp == target {
                    stats.exact += 1;
                } else {
                    stats.later += 1;
                }
            }
            _ => stats.not_found += 1,
        }
        // A viewer scrubbing a timeline does not seek back to back.
        std::thread::sleep(Duration::from_micros(50));
    }
    stats
}

fn percentile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() as f64 - 1.0) * q).round() as usize]
}

fn main() -> nanots::Result<()> {
    let mut args = std::env::args().skip(1);
    let frames: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(6_000);
    let blocks: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(16);
    // Auto-reclaim needs a finished block that no reader holds: 4 blocks are being written and
    // every positioned iterator pins the block it stands on (5 here), so fewer than 10 blocks
    // can run out (`NoFreeBlocks`).
    let blocks = if blocks < 10 {
        eprintln!("using 10 blocks, the fewest this example can run with");
        10
    } else {
        blocks
    };

    let dir = std::env::temp_dir().join(format!("nanots-video-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("cameras.nts");
    nanots::allocate_with(
        &path,
        &AllocateOptions::fixed(BLOCK_SIZE, blocks).overwrite(true),
    )?;
    let writer = Writer::open_with(&path, WriterOptions::default().auto_reclaim(true))?;
    println!(
        "{CAMERAS} cameras × {frames} frames into {blocks} blocks of {} MiB (auto-reclaim on)",
        BLOCK_SIZE >> 20
    );

    let progress = Progress {
        written: std::array::from_fn(|_| AtomicU64::new(0)),
        writers_done: AtomicBool::new(false),
    };
    let started = Instant::now();
    let (writers, follow_stats, seek_stats) = std::thread::scope(|s| {
        let follower = s.spawn(|| follow(&path, frames, &progress));
        let seeker = s.spawn(|| seek(&path, &progress));
        let handles: Vec<_> = (0..CAMERAS)
            .map(|camera| {
                let (writer, progress) = (&writer, &progress);
                s.spawn(move || record(writer, camera, frames, progress))
            })
            .collect();
        let writers: Vec<WriterStats> = handles
            .into_iter()
            .map(|h| h.join().expect("writer thread"))
            .collect();
        progress.writers_done.store(true, Ordering::Release);
        (
            writers,
            follower.join().expect("follower thread"),
            seeker.join().expect("seeker thread"),
        )
    });
    let wall = started.elapsed();

    println!("\nwriters (each its own thread and write context):");
    let mut total_frames = 0;
    let mut total_bytes = 0;
    for (camera, w) in writers.iter().enumerate() {
        let secs = w.elapsed.as_secs_f64();
        println!(
            "  {}: {} frames, {:.1} MB in {:.2} s = {:.0} frames/s, {:.1} MB/s",
            tag(camera),
            w.frames,
            w.bytes as f64 / 1e6,
            secs,
            w.frames as f64 / secs,
            w.bytes as f64 / 1e6 / secs
        );
        if let Some(e) = &w.error {
            println!("    {} stopped early: {e}", tag(camera));
        }
        total_frames += w.frames;
        total_bytes += w.bytes;
    }
    let write_secs = writers
        .iter()
        .map(|w| w.elapsed)
        .max()
        .unwrap_or_default()
        .as_secs_f64();
    println!(
        "  total: {total_frames} frames, {:.1} MB in {write_secs:.2} s = {:.0} frames/s, {:.1} MB/s \
         ({:.0}× real time for {CAMERAS} cameras at 30 fps)",
        total_bytes as f64 / 1e6,
        total_frames as f64 / write_secs,
        total_bytes as f64 / 1e6 / write_secs,
        (total_frames as f64 / CAMERAS as f64 / 30.0) / write_secs
    );

    println!("\nlive reader on {}:", tag(0));
    println!(
        "  verified {} frames, skipped {} (recycled before it got there), integrity failures {}, \
         engine errors {}",
        follow_stats.verified, follow_stats.skipped, follow_stats.failures, follow_stats.errors
    );
    if let Some(e) = &follow_stats.first_error {
        println!("  first error: {e}");
    }

    let mut lat = seek_stats.latencies_ns.clone();
    lat.sort_unstable();
    println!("\nrandom seeks while recording:");
    println!(
        "  {} seeks: p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs",
        lat.len(),
        percentile(&lat, 0.5) as f64 / 1e3,
        percentile(&lat, 0.99) as f64 / 1e3,
        percentile(&lat, 1.0) as f64 / 1e3
    );
    println!(
        "  {} exact, {} landed later (target recycled), {} found nothing, integrity failures {}, \
         engine errors {}",
        seek_stats.exact,
        seek_stats.later,
        seek_stats.not_found,
        seek_stats.failures,
        seek_stats.errors
    );
    if let Some(e) = &seek_stats.first_error {
        println!("  first error: {e}");
    }

    // After the run: every frame still in the file must verify.
    let reader = Reader::open(&path)?;
    let mut final_ok = 0u64;
    let mut final_bad = 0u64;
    for camera in 0..CAMERAS {
        reader.read(&tag(camera), i64::MIN, i64::MAX, |f| {
            if verify(camera, f.timestamp, f.flags, f.data) {
                final_ok += 1;
            } else {
                final_bad += 1;
            }
            true
        })?;
    }
    let info = reader.file_info()?;
    println!(
        "\nafter the run: {final_ok} frames still stored (the rest recycled), {final_bad} integrity failures; \
         {} of {} blocks in use",
        info.blocks_used, info.block_count
    );
    println!("wall time {:.2} s", wall.as_secs_f64());

    let failures = follow_stats.failures
        + follow_stats.errors
        + seek_stats.failures
        + seek_stats.errors
        + final_bad;
    let writer_errors = writers.iter().filter(|w| w.error.is_some()).count();
    drop(reader);
    drop(writer);
    std::fs::remove_dir_all(&dir)?;
    if failures > 0 || writer_errors > 0 {
        eprintln!(
            "FAILED: {failures} frames did not verify, {writer_errors} writers stopped early"
        );
        std::process::exit(1);
    }
    Ok(())
}
