//! A child process writes while this process reads live, through its own mapping and catalog
//! connection.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{TempDir, payload};
use nanots::{Reader, Writer, allocate};

const FRAMES: i64 = 3000;

fn frame_len(ts: i64) -> usize {
    100 + (ts as usize * 31) % 2000
}

/// The child's role: write FRAMES frames slowly enough that the parent reads them live.
#[test]
fn child_writer() {
    let Ok(path) = std::env::var("NANOTS_CHILD_PATH") else {
        return; // Only runs as the child of `reader_in_another_process_follows_live`.
    };
    let writer = Writer::open(&path, true).unwrap();
    let mut ctx = writer.create_write_context("live", "child").unwrap();
    for ts in 0..FRAMES {
        ctx.write(&payload("live", ts, frame_len(ts)), ts, 0)
            .unwrap();
        if ts % 100 == 0 {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

#[test]
fn reader_in_another_process_follows_live() {
    let dir = TempDir::new("xproc");
    let path = dir.file("x.nts");
    allocate(&path, 64 * 1024, 64).unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_writer", "--nocapture"])
        .env("NANOTS_CHILD_PATH", &path)
        .spawn()
        .unwrap();
    let reader = Reader::open(&path).unwrap();
    let mut it = reader.iter("live").unwrap();
    let mut next_expected = 0i64;
    let mut seen_while_running = 0;
    let deadline = Instant::now() + Duration::from_secs(60);
    while next_expected < FRAMES && Instant::now() < deadline {
        let moved = if it.valid() { true } else { it.next().unwrap() };
        if !moved {
            std::thread::sleep(Duration::from_millis(1));
            continue;
        }
        let frame = it.frame().unwrap();
        assert_eq!(
            frame.timestamp, next_expected,
            "frames arrive in order, none missing"
        );
        assert_eq!(
            frame.data,
            payload("live", frame.timestamp, frame_len(frame.timestamp)).as_slice()
        );
        assert_eq!(frame.metadata, "child");
        if child.try_wait().unwrap().is_none() {
            seen_while_running += 1;
        }
        next_expected += 1;
        it.next().unwrap();
    }
    let status = child.wait().unwrap();
    assert!(status.success());
    assert_eq!(next_expected, FRAMES);
    assert!(
        seen_while_running > 0,
        "the reader must have read while the child was writing"
    );
}
