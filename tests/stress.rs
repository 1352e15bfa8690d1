//! One writer recycling a small file while readers check every payload, and the guarantees
//! that keep the writer from waiting on readers.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::{TempDir, payload};
use nanots::{Error, Reader, Writer, allocate};

const BLOCK: u64 = 64 * 1024;

fn frame_len(ts: i64) -> usize {
    (ts as usize * 7919) % 3000
}

#[test]
fn readers_never_see_torn_or_foreign_frames_while_the_writer_recycles() {
    let dir = TempDir::new("stress");
    let path = dir.file("s.nts");
    allocate(&path, BLOCK, 8).unwrap();
    let writer = Writer::open(&path, true).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let checked = Arc::new(AtomicU64::new(0));
    let seconds: u64 = std::env::var("NANOTS_STRESS_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);

    let mut readers = Vec::new();
    for r in 0..3 {
        let (path, stop, checked) = (path.clone(), stop.clone(), checked.clone());
        readers.push(std::thread::spawn(move || {
            let reader = Reader::open(&path).unwrap();
            let mut rng = 0x1234_5678u64 + r;
            let mut failures = 0u64;
            while !stop.load(Ordering::Relaxed) {
                for tag in ["a", "b"] {
                    let mut it = reader.iter(tag).unwrap();
                    // Alternate: follow forward from the start, or seek randomly.
                    rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1);
                    if r == 2 {
                        let _ = it.find((rng >> 40) as i64 % 200_000).unwrap();
                    }
                    let mut steps = 0;
                    while it.valid() && steps < 2000 {
                        let f = it.frame().unwrap();
                        if f.data != payload(tag, f.timestamp, frame_len(f.timestamp)).as_slice() {
                            failures += 1;
                        }
                        checked.fetch_add(1, Ordering::Relaxed);
                        steps += 1;
                        if r == 1 && steps % 3 == 0 {
                            it.prev().unwrap();
                            it.next().unwrap();
                        }
                        it.next().unwrap();
                    }
                }
            }
            failures
        }));
    }

    let mut written = 0u64;
    let mut a = writer.create_write_context("a", "").unwrap();
    let mut b = writer.create_write_context("b", "").unwrap();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut ts = 0i64;
    while Instant::now() < deadline {
        a.write(&payload("a", ts, frame_len(ts)), ts, 0).unwrap();
        b.write(&payload("b", ts, frame_len(ts)), ts, 0).unwrap();
        written += 2;
        ts += 1;
    }
    stop.store(true, Ordering::Relaxed);
    let failures: u64 = readers.into_iter().map(|h| h.join().unwrap()).sum();
    let checked = checked.load(Ordering::Relaxed);
    println!(
        "stress: {written} frames written ({} blocks' worth), {checked} frames checked, {failures} failures",
        written * 1500 / BLOCK
    );
    assert_eq!(failures, 0);
    assert!(
        checked > 1000,
        "readers must actually have read (checked {checked})"
    );
    assert!(
        written * 1500 > 8 * BLOCK * 4,
        "the writer must have recycled the file several times"
    );
}

#[test]
fn the_writer_skips_a_block_a_reader_holds_instead_of_waiting() {
    let dir = TempDir::new("skip");
    let path = dir.file("s.nts");
    allocate(&path, BLOCK, 4).unwrap();
    let writer = Writer::open(&path, true).unwrap();
    let mut ctx = writer.create_write_context("s", "").unwrap();
    let frame = vec![5u8; 30_000];
    for ts in 0..4 {
        ctx.write(&frame, ts, 0).unwrap();
    }
    // A reader parks on the oldest frame and never moves.
    let reader = Reader::open(&path).unwrap();
    let parked = reader.iter("s").unwrap();
    assert_eq!(parked.frame().unwrap().timestamp, 0);
    // The writer cycles through the file many times, skipping the pinned block.
    for ts in 4..200 {
        ctx.write(&frame, ts, 0).unwrap();
    }
    // The parked reader still holds intact data.
    assert_eq!(parked.frame().unwrap().data, frame.as_slice());
    let mut fresh = reader.iter("s").unwrap();
    assert_eq!(
        fresh.frame().unwrap().timestamp,
        0,
        "the pinned block survived reclaim"
    );
    assert!(fresh.next().unwrap());
    assert_eq!(
        fresh.frame().unwrap().timestamp,
        1,
        "the second frame of the pinned block"
    );
    assert!(fresh.next().unwrap());
    assert!(
        fresh.frame().unwrap().timestamp > 150,
        "everything else was recycled"
    );
    drop(fresh);
    drop(parked);
    // With every finished block pinned, the writer reports NoFreeBlocks at once.
    let mut pins = Vec::new();
    let mut it = reader.iter("s").unwrap();
    loop {
        pins.push(reader.iter("s").unwrap());
        let last = pins.last_mut().unwrap();
        let ts = it.frame().unwrap().timestamp;
        last.find(ts).unwrap();
        // Jump to the next block.
        let seq = it.frame().unwrap().block_sequence;
        while it.valid() && it.frame().unwrap().block_sequence == seq {
            it.next().unwrap();
        }
        if !it.valid() {
            break;
        }
    }
    let mut result = Ok(());
    for ts in 200..210 {
        result = ctx.write(&frame, ts, 0);
        if result.is_err() {
            break;
        }
    }
    assert!(matches!(result, Err(Error::NoFreeBlocks)), "{result:?}");
}
