//! Recovery on open: what an interrupted writer leaves behind is repaired to its valid prefix.

mod common;

use common::{TempDir, collect, payload};
use nanots::{Reader, Writer, allocate};
use rusqlite::Connection;

const BLOCK: u64 = 64 * 1024;
const HEADER: u64 = 4096;

/// Writes `n` frames of 1000 bytes to stream "s" and leaves the block open, as a crash would:
/// the context is leaked so it never finishes its block.
fn crashed_writer(name: &str, n: i64) -> (TempDir, std::path::PathBuf) {
    let dir = TempDir::new(name);
    let path = dir.file("r.nts");
    allocate(&path, BLOCK, 4).unwrap();
    let writer = Writer::open(&path, false).unwrap();
    let mut ctx = writer.create_write_context("s", "meta").unwrap();
    for ts in 0..n {
        ctx.write(&payload("s", ts, 1000), ts, 0).unwrap();
    }
    ctx.flush().unwrap();
    std::mem::forget(ctx);
    std::mem::forget(writer);
    (dir, path)
}

/// The open block's index (the only used block) and the file offset of frame `i`'s entry.
fn entry_offset(i: u64) -> u64 {
    HEADER + 64 + 32 * i
}

fn patch(path: &std::path::Path, offset: u64, bytes: &[u8]) {
    use std::os::unix::fs::FileExt;
    let file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    file.write_all_at(bytes, offset).unwrap();
}

fn read_u32(path: &std::path::Path, offset: u64) -> u32 {
    use std::os::unix::fs::FileExt;
    let file = std::fs::File::open(path).unwrap();
    let mut b = [0u8; 4];
    file.read_exact_at(&mut b, offset).unwrap();
    u32::from_le_bytes(b)
}

/// Opens a writer (running recovery) in a fresh process-like state and returns the frames.
fn recover_and_read(path: &std::path::Path) -> (nanots::RecoveryReport, Vec<(i64, Vec<u8>)>) {
    // The leaked writer still holds the file's lock, as a crashed process would until it died:
    // recover a copy of the files instead.
    let copy_dir = path.parent().unwrap().join("copy");
    std::fs::create_dir_all(&copy_dir).unwrap();
    for ext in ["nts", "db", "db-wal"] {
        let from = path.with_extension(ext);
        if from.exists() {
            std::fs::copy(&from, copy_dir.join(format!("r.{ext}"))).unwrap();
        }
    }
    let copy = copy_dir.join("r.nts");
    let writer = Writer::open(&copy, false).unwrap();
    let report = writer.recovery_report().clone();
    drop(writer);
    let frames = collect(&Reader::open(&copy).unwrap(), "s", i64::MIN, i64::MAX);
    for (ts, data) in &frames {
        assert_eq!(
            data,
            &payload("s", *ts, 1000),
            "recovered frame {ts} is not what was written"
        );
    }
    (report, frames)
}

#[test]
fn a_catalog_row_left_open_is_finished_with_its_true_end() {
    let (_dir, path) = crashed_writer("open-row", 10);
    let (report, frames) = recover_and_read(&path);
    assert_eq!(frames.len(), 10);
    assert_eq!(
        (
            report.open_blocks,
            report.blocks_finished,
            report.frames_kept
        ),
        (1, 1, 10)
    );
    let copy = path.parent().unwrap().join("copy/r.nts");
    // The catalog now records the true end key and new writes continue after it.
    let db = Connection::open(copy.with_extension("db")).unwrap();
    let (state, last): (i64, i64) = db
        .query_row(
            "SELECT state, last_ts FROM blocks WHERE state != 0",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((state, last), (2, 9));
    let writer = Writer::open(&copy, false).unwrap();
    let mut ctx = writer.create_write_context("s", "").unwrap();
    assert!(
        ctx.write(b"x", 9, 0).is_err(),
        "the recovered last key is enforced"
    );
    ctx.write(&payload("s", 10, 1000), 10, 0).unwrap();
}

#[test]
fn a_torn_last_frame_is_cut() {
    let (_dir, path) = crashed_writer("torn", 10);
    // Frame 9's payload sits lowest in the block; tear its first bytes.
    let offset = HEADER + BLOCK - 10 * 1000;
    patch(&path, offset, &[0xAA; 100]);
    let (report, frames) = recover_and_read(&path);
    assert_eq!(frames.len(), 9);
    assert_eq!(report.frames_dropped, 1);
}

#[test]
fn a_corrupted_payload_in_the_middle_keeps_the_prefix_before_it() {
    let (_dir, path) = crashed_writer("mid", 10);
    let frame4_payload = HEADER + BLOCK - 5 * 1000;
    patch(&path, frame4_payload + 500, &[0x01]);
    let (report, frames) = recover_and_read(&path);
    assert_eq!(
        frames.iter().map(|f| f.0).collect::<Vec<_>>(),
        (0..4).collect::<Vec<_>>()
    );
    assert_eq!(report.frames_dropped, 6);
}

#[test]
fn a_commit_count_past_the_written_frames_is_lowered() {
    let (_dir, path) = crashed_writer("count", 5);
    assert_eq!(read_u32(&path, HEADER + 4), 5);
    patch(&path, HEADER + 4, &40u32.to_le_bytes());
    let (report, frames) = recover_and_read(&path);
    assert_eq!(frames.len(), 5);
    assert_eq!(report.frames_dropped, 35);
    let copy = path.parent().unwrap().join("copy/r.nts");
    assert_eq!(
        read_u32(&copy, HEADER + 4),
        5,
        "the commit count is repaired on disk"
    );
}

#[test]
fn an_entry_pointing_outside_the_block_is_cut() {
    let (_dir, path) = crashed_writer("wild", 6);
    // Entry 3's offset field (bytes 16..20 of the entry).
    patch(&path, entry_offset(3) + 16, &u32::MAX.to_le_bytes());
    let (_, frames) = recover_and_read(&path);
    assert_eq!(frames.len(), 3);
}

#[test]
fn an_open_block_with_nothing_valid_is_freed() {
    let (_dir, path) = crashed_writer("nothing", 3);
    patch(&path, entry_offset(0), &[0xFF; 8]);
    let (report, frames) = recover_and_read(&path);
    assert!(frames.is_empty());
    assert_eq!(report.blocks_freed, 1);
    let copy = path.parent().unwrap().join("copy/r.nts");
    assert_eq!(
        Reader::open(&copy)
            .unwrap()
            .file_info()
            .unwrap()
            .blocks_free,
        4
    );
}

#[test]
fn a_block_the_catalog_forgot_is_cleared_and_reused() {
    let (_dir, path) = crashed_writer("forgot", 4);
    // Lose the claim: the catalog says the block is free, the block header says in use.
    let db = Connection::open(path.with_extension("db")).unwrap();
    db.execute(
        "UPDATE blocks SET state = 0, stream_id = NULL WHERE state = 1",
        [],
    )
    .unwrap();
    db.execute(
        "UPDATE meta SET value = 1 WHERE key = 'next_generation'",
        [],
    )
    .unwrap();
    drop(db);
    let (report, frames) = recover_and_read(&path);
    assert!(frames.is_empty());
    assert_eq!(report.orphans_cleared, 1);
    // New generations are above the forgotten one, so the old frames can never validate.
    let copy = path.parent().unwrap().join("copy/r.nts");
    let writer = Writer::open(&copy, false).unwrap();
    let mut ctx = writer.create_write_context("s", "").unwrap();
    ctx.write(&payload("s", 100, 1000), 100, 0).unwrap();
    drop(ctx);
    let got = collect(&Reader::open(&copy).unwrap(), "s", i64::MIN, i64::MAX);
    assert_eq!(got.iter().map(|f| f.0).collect::<Vec<_>>(), vec![100]);
}

#[test]
fn a_damaged_header_of_a_finished_block_is_rewritten_from_the_catalog() {
    let dir = TempDir::new("hdr");
    let path = dir.file("r.nts");
    allocate(&path, BLOCK, 4).unwrap();
    {
        let writer = Writer::open(&path, false).unwrap();
        let mut ctx = writer.create_write_context("s", "").unwrap();
        for ts in 0..5 {
            ctx.write(&payload("s", ts, 1000), ts, 0).unwrap();
        }
    }
    patch(&path, HEADER + 20, &[0x55]); // stream id byte, covered by the header checksum
    let writer = Writer::open(&path, false).unwrap();
    assert_eq!(writer.recovery_report().headers_repaired, 1);
    drop(writer);
    assert_eq!(collect(&Reader::open(&path).unwrap(), "s", 0, 10).len(), 5);
}
