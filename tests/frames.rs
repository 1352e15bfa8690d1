//! The frame API as a NanoTS user relies on it.

mod common;

use common::{TempDir, collect, payload};
use nanots::{
    AllocateOptions, Error, Reader, Writer, allocate, allocate_growable, allocate_with, free_blocks,
};

const BLOCK: u64 = 64 * 1024;

fn setup(name: &str, blocks: u64) -> (TempDir, std::path::PathBuf) {
    let dir = TempDir::new(name);
    let path = dir.file("store.nts");
    allocate(&path, BLOCK, blocks).unwrap();
    (dir, path)
}

#[test]
fn allocate_creates_both_files_and_refuses_bad_arguments() {
    let dir = TempDir::new("alloc");
    let path = dir.file("a.nts");
    allocate(&path, BLOCK, 4).unwrap();
    assert!(dir.file("a.db").exists());
    let len = std::fs::metadata(&path).unwrap().len();
    assert_eq!(len, 4096 + 4 * BLOCK);
    assert!(matches!(
        allocate(&path, BLOCK, 4),
        Err(Error::AlreadyExists(_))
    ));
    allocate_with(&path, &AllocateOptions::fixed(BLOCK, 2).overwrite(true)).unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 4096 + 2 * BLOCK);
    assert!(matches!(
        allocate(dir.file("b.nts"), 1000, 4),
        Err(Error::InvalidBlockSize { .. })
    ));
    assert!(matches!(
        allocate(dir.file("c.nts"), 0, 4),
        Err(Error::InvalidBlockSize { .. })
    ));
    assert!(matches!(
        allocate(dir.file("d.nts"), BLOCK, 0),
        Err(Error::InvalidBlockCount(0))
    ));
    // A name without extension gets `.nts` and `.db`.
    allocate(dir.file("plain"), BLOCK, 1).unwrap();
    assert!(dir.file("plain.nts").exists() && dir.file("plain.db").exists());
}

#[test]
fn overwrite_removes_stale_wal_files() {
    let dir = TempDir::new("stale");
    let path = dir.file("s.nts");
    std::fs::write(dir.file("s.db-wal"), b"garbage that must not be replayed").unwrap();
    std::fs::write(&path, b"old").unwrap();
    allocate_with(&path, &AllocateOptions::fixed(BLOCK, 2).overwrite(true)).unwrap();
    let writer = Writer::open(&path, false).unwrap();
    let mut ctx = writer.create_write_context("x", "").unwrap();
    ctx.write(b"ok", 1, 0).unwrap();
    drop(ctx);
    assert_eq!(
        collect(&Reader::open(&path).unwrap(), "x", 0, 10),
        vec![(1, b"ok".to_vec())]
    );
}

#[test]
fn basic_write_and_read_with_flags_metadata_and_bounds() {
    let (_dir, path) = setup("basic", 8);
    let writer = Writer::open(&path, false).unwrap();
    let mut ctx = writer.create_write_context("video", "sdp:v=0").unwrap();
    for ts in 0..100 {
        ctx.write(&payload("video", ts, 100), ts, (ts % 3) as u32)
            .unwrap();
    }
    ctx.flush().unwrap();
    let reader = Reader::open(&path).unwrap();
    let mut seen = Vec::new();
    reader
        .read("video", 10, 20, |f| {
            assert_eq!(f.data, payload("video", f.timestamp, 100).as_slice());
            assert_eq!(f.flags, (f.timestamp % 3) as u32);
            assert_eq!(f.metadata, "sdp:v=0");
            seen.push(f.timestamp);
            true
        })
        .unwrap();
    assert_eq!(seen, (10..=20).collect::<Vec<_>>());
    // The callback can stop the scan.
    let mut n = 0;
    reader
        .read("video", 0, 99, |_| {
            n += 1;
            n < 5
        })
        .unwrap();
    assert_eq!(n, 5);
    // Unknown streams and empty ranges give nothing.
    assert!(collect(&reader, "nope", 0, 100).is_empty());
    assert!(collect(&reader, "video", 50, 10).is_empty());
}

#[test]
fn empty_frames_empty_metadata_and_timestamp_zero() {
    let (_dir, path) = setup("empty", 4);
    let writer = Writer::open(&path, false).unwrap();
    let mut ctx = writer.create_write_context("s", "").unwrap();
    ctx.write(&[], 0, 0).unwrap();
    ctx.write(b"", 1, 0).unwrap();
    drop(ctx);
    let reader = Reader::open(&path).unwrap();
    let mut it = reader.iter("s").unwrap();
    assert!(it.valid());
    let f = it.frame().unwrap();
    assert_eq!((f.timestamp, f.data.len(), f.metadata), (0, 0, ""));
    assert!(it.next().unwrap());
    assert!(!it.next().unwrap());
    assert_eq!(reader.contiguous_segments("s", 0, 0).unwrap().len(), 1);
}

#[test]
fn keys_must_strictly_increase_even_across_write_contexts() {
    let (_dir, path) = setup("mono", 4);
    let writer = Writer::open(&path, false).unwrap();
    let mut ctx = writer.create_write_context("s", "").unwrap();
    ctx.write(b"a", 10, 0).unwrap();
    assert!(matches!(
        ctx.write(b"b", 10, 0),
        Err(Error::NonMonotonicTimestamp { .. })
    ));
    assert!(matches!(
        ctx.write(b"b", 9, 0),
        Err(Error::NonMonotonicTimestamp { .. })
    ));
    ctx.write_with_key(b"c", 10, 1, 0).unwrap();
    drop(ctx);
    let mut ctx = writer.create_write_context("s", "").unwrap();
    assert!(matches!(
        ctx.write(b"d", 10, 1),
        Err(Error::NonMonotonicTimestamp { .. })
    ));
    ctx.write(b"e", 11, 0).unwrap();
    drop(ctx);
    drop(writer);
    // The last key survives reopening the writer.
    let writer = Writer::open(&path, false).unwrap();
    let mut ctx = writer.create_write_context("s", "").unwrap();
    assert!(matches!(
        ctx.write(b"f", 11, 0),
        Err(Error::NonMonotonicTimestamp { .. })
    ));
    ctx.write(b"g", 12, 0).unwrap();
    drop(ctx);
    let got: Vec<_> = collect(&Reader::open(&path).unwrap(), "s", i64::MIN, i64::MAX)
        .into_iter()
        .map(|(t, d)| (t, d[0]))
        .collect();
    assert_eq!(got, vec![(10, b'a'), (10, b'c'), (11, b'e'), (12, b'g')]);
}

#[test]
fn duplicate_live_stream_and_second_writer_are_refused() {
    let (_dir, path) = setup("dup", 4);
    let writer = Writer::open(&path, false).unwrap();
    let ctx = writer.create_write_context("cam", "").unwrap();
    assert!(matches!(
        writer.create_write_context("cam", ""),
        Err(Error::DuplicateStream(_))
    ));
    assert!(matches!(
        Writer::open(&path, false),
        Err(Error::WriterLocked(_))
    ));
    drop(ctx);
    let _again = writer.create_write_context("cam", "").unwrap();
}

#[test]
fn frame_size_limits() {
    let (_dir, path) = setup("sizes", 8);
    let writer = Writer::open(&path, false).unwrap();
    let mut ctx = writer.create_write_context("s", "").unwrap();
    let max = ctx.max_frame_size();
    assert_eq!(max, BLOCK as usize - 64 - 32);
    assert!(matches!(
        ctx.write(&vec![0; max + 1], 0, 0),
        Err(Error::FrameTooLarge { .. })
    ));
    // Mixed sizes up to the maximum, each forcing block transitions.
    let sizes = [max, 1, max, 0, max / 2, max / 2 + 1, 17, max];
    for (i, &size) in sizes.iter().enumerate() {
        ctx.write(&payload("s", i as i64, size), i as i64, 0)
            .unwrap();
    }
    drop(ctx);
    let got = collect(&Reader::open(&path).unwrap(), "s", 0, 100);
    assert_eq!(got.len(), sizes.len());
    for (i, (ts, data)) in got.iter().enumerate() {
        assert_eq!(*ts, i as i64);
        assert_eq!(data, &payload("s", i as i64, sizes[i]));
    }
}

#[test]
fn block_size_equal_to_one_page_holds_its_largest_frame() {
    let dir = TempDir::new("page");
    let path = dir.file("p.nts");
    allocate(&path, 4096, 3).unwrap();
    let writer = Writer::open(&path, false).unwrap();
    let mut ctx = writer.create_write_context("s", "").unwrap();
    let max = ctx.max_frame_size();
    ctx.write(&vec![1; max], 1, 0).unwrap();
    ctx.write(&vec![2; max], 2, 0).unwrap();
    ctx.write(&vec![3; max], 3, 0).unwrap();
    assert!(matches!(
        ctx.write(&vec![4; max], 4, 0),
        Err(Error::NoFreeBlocks)
    ));
    drop(ctx);
    assert_eq!(collect(&Reader::open(&path).unwrap(), "s", 0, 10).len(), 3);
}

#[test]
fn exhaustion_without_reclaim_loses_nothing() {
    let (_dir, path) = setup("exhaust", 2);
    let writer = Writer::open(&path, false).unwrap();
    let mut ctx = writer.create_write_context("s", "").unwrap();
    let frame = vec![7u8; 20_000];
    let mut written = 0;
    let err = loop {
        match ctx.write(&frame, written, 0) {
            Ok(()) => written += 1,
            Err(e) => break e,
        }
    };
    assert!(matches!(err, Error::NoFreeBlocks), "{err}");
    assert_eq!(written, 6, "three 20 KB frames fit a 64 KiB block");
    drop(ctx);
    assert_eq!(
        collect(&Reader::open(&path).unwrap(), "s", 0, 100).len(),
        written as usize
    );
}

#[test]
fn auto_reclaim_reuses_the_oldest_block() {
    let (_dir, path) = setup("reclaim", 3);
    let writer = Writer::open(&path, true).unwrap();
    let mut ctx = writer.create_write_context("s", "").unwrap();
    let frame = vec![1u8; 30_000];
    for ts in 0..20 {
        ctx.write(&frame, ts, 0).unwrap();
    }
    drop(ctx);
    let got = collect(&Reader::open(&path).unwrap(), "s", 0, 100);
    let stamps: Vec<i64> = got.iter().map(|(t, _)| *t).collect();
    // Two frames per block, three blocks: the newest six remain.
    assert_eq!(stamps, (14..20).collect::<Vec<_>>());
}

#[test]
fn growable_file_grows_until_its_cap() {
    let dir = TempDir::new("grow");
    let path = dir.file("g.nts");
    allocate_growable(&path, BLOCK, 5).unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 4096 + BLOCK);
    let writer = Writer::open(&path, false).unwrap();
    let mut ctx = writer.create_write_context("s", "").unwrap();
    let frame = vec![3u8; 40_000];
    let mut n = 0;
    while ctx.write(&frame, n, 0).is_ok() {
        n += 1;
    }
    assert_eq!(n, 5);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 4096 + 5 * BLOCK);
    drop(ctx);
    let info = Reader::open(&path).unwrap().file_info().unwrap();
    assert_eq!(
        (info.block_count, info.blocks_used, info.growable),
        (5, 5, true)
    );
}

#[test]
fn seek_semantics() {
    let (_dir, path) = setup("seek", 8);
    let writer = Writer::open(&path, false).unwrap();
    let mut ctx = writer.create_write_context("s", "").unwrap();
    for i in 0..1000i64 {
        ctx.write(&payload("s", i * 10, 200), i * 10, 0).unwrap();
    }
    drop(ctx);
    let reader = Reader::open(&path).unwrap();
    let mut it = reader.iter("s").unwrap();
    // Before the first frame: the first frame.
    assert!(it.find(-100).unwrap());
    assert_eq!(it.frame().unwrap().timestamp, 0);
    // Between frames: the next one.
    assert!(it.find(5).unwrap());
    assert_eq!(it.frame().unwrap().timestamp, 10);
    // Exact.
    assert!(it.find(5550).unwrap());
    assert_eq!(it.frame().unwrap().timestamp, 5550);
    assert_eq!(it.frame().unwrap().data, payload("s", 5550, 200).as_slice());
    // Past the end: invalid, and prev() from there gives the last frame.
    assert!(!it.find(100_000).unwrap());
    assert!(!it.valid());
    assert!(it.prev().unwrap());
    assert_eq!(it.frame().unwrap().timestamp, 9990);
    // Every frame is reachable by seek, across blocks.
    for i in (0..1000i64).step_by(37) {
        assert!(it.find(i * 10).unwrap());
        assert_eq!(it.frame().unwrap().timestamp, i * 10);
    }
    assert!(it.seek_end().unwrap());
    assert_eq!(it.frame().unwrap().timestamp, 9990);
    assert!(it.reset().unwrap());
    assert_eq!(it.frame().unwrap().timestamp, 0);
}

#[test]
fn bidirectional_navigation_at_the_edges() {
    let (_dir, path) = setup("nav", 8);
    let writer = Writer::open(&path, false).unwrap();
    let mut ctx = writer.create_write_context("s", "").unwrap();
    for ts in 0..300 {
        ctx.write(&vec![0u8; 700], ts, 0).unwrap();
    }
    drop(ctx);
    let reader = Reader::open(&path).unwrap();
    let mut it = reader.iter("s").unwrap();
    assert!(!it.prev().unwrap(), "nothing before the first frame");
    assert!(
        it.next().unwrap(),
        "next after falling off the start gives the first frame"
    );
    assert_eq!(it.frame().unwrap().timestamp, 0);
    let mut forward = vec![0];
    while it.next().unwrap() {
        forward.push(it.frame().unwrap().timestamp);
    }
    assert_eq!(forward, (0..300).collect::<Vec<_>>());
    assert!(
        it.prev().unwrap(),
        "prev after falling off the end gives the last frame"
    );
    let mut backward = vec![it.frame().unwrap().timestamp];
    while it.prev().unwrap() {
        backward.push(it.frame().unwrap().timestamp);
    }
    assert_eq!(backward, (0..300).rev().collect::<Vec<_>>());
    let blocks: std::collections::BTreeSet<u64> = reader
        .iter("s")
        .unwrap()
        .into_iter()
        .map(|f| f.unwrap().block_sequence)
        .collect();
    assert!(blocks.len() > 2, "the test must cross blocks");
}

#[test]
fn several_streams_and_stream_tags_by_time() {
    let (_dir, path) = setup("streams", 8);
    let writer = Writer::open(&path, false).unwrap();
    let mut a = writer.create_write_context("a", "").unwrap();
    let mut b = writer.create_write_context("b", "").unwrap();
    for ts in 0..50 {
        a.write(&payload("a", ts, 50), ts, 0).unwrap();
        b.write(&payload("b", ts + 100, 50), ts + 100, 0).unwrap();
    }
    drop(a);
    let reader = Reader::open(&path).unwrap();
    assert_eq!(reader.stream_tags(0, 10).unwrap(), vec!["a"]);
    assert_eq!(
        reader.stream_tags(120, 130).unwrap(),
        vec!["b"],
        "open blocks count too"
    );
    assert_eq!(reader.stream_tags(40, 110).unwrap(), vec!["a", "b"]);
    assert!(reader.stream_tags(60, 90).unwrap().is_empty());
    drop(b);
    for (tag, base) in [("a", 0), ("b", 100)] {
        let got = collect(&reader, tag, i64::MIN, i64::MAX);
        assert_eq!(got.len(), 50);
        assert!(
            got.iter()
                .all(|(ts, d)| *d == payload(tag, *ts, 50) && *ts >= base)
        );
    }
}

#[test]
fn successive_write_contexts_read_back_in_order_within_bounds() {
    let (_dir, path) = setup("succ", 16);
    let writer = Writer::open(&path, false).unwrap();
    for round in 0..4i64 {
        let mut ctx = writer
            .create_write_context("s", &format!("round {round}"))
            .unwrap();
        for i in 0..30 {
            let ts = round * 1000 + i * 10;
            ctx.write(&payload("s", ts, 3000), ts, 0).unwrap();
        }
    }
    let reader = Reader::open(&path).unwrap();
    let mut seen = Vec::new();
    reader
        .read("s", 1005, 2100, |f| {
            seen.push((f.timestamp, f.metadata.to_string()));
            true
        })
        .unwrap();
    assert_eq!(seen.first().unwrap(), &(1010, "round 1".to_string()));
    assert_eq!(seen.last().unwrap(), &(2100, "round 2".to_string()));
    assert!(
        seen.windows(2).all(|w| w[0].0 < w[1].0),
        "strictly in key order"
    );
    assert_eq!(seen.len(), 29 + 11);
}

#[test]
fn free_blocks_leaves_gaps_that_contiguous_segments_reports() {
    let (_dir, path) = setup("free", 16);
    let writer = Writer::open(&path, false).unwrap();
    let mut ctx = writer.create_write_context("s", "").unwrap();
    // 20 KB frames: three per block, so block k holds timestamps 3k..3k+2.
    for ts in 0..30 {
        ctx.write(&vec![9u8; 20_000], ts, 0).unwrap();
    }
    let reader = Reader::open(&path).unwrap();
    assert_eq!(
        reader.contiguous_segments("s", 0, 100).unwrap(),
        vec![nanots::ContiguousSegment {
            start: 0,
            end: 29,
            open: true
        }]
    );
    // Frees blocks 2..=4 (timestamps 6..=14); a block only partly inside stays.
    assert_eq!(free_blocks(&path, "s", 5, 15).unwrap(), 3);
    let segments = reader.contiguous_segments("s", 0, 100).unwrap();
    assert_eq!(
        segments,
        vec![
            nanots::ContiguousSegment {
                start: 0,
                end: 5,
                open: false
            },
            nanots::ContiguousSegment {
                start: 15,
                end: 29,
                open: true
            },
        ]
    );
    let stamps: Vec<i64> = collect(&reader, "s", 0, 100)
        .into_iter()
        .map(|(t, _)| t)
        .collect();
    assert_eq!(stamps, (0..6).chain(15..30).collect::<Vec<_>>());
    // The freed blocks are reused.
    // 6 blocks were never used and 3 were freed: exactly 9 more blocks of frames fit.
    for ts in 30..57 {
        ctx.write(&vec![9u8; 20_000], ts, 0).unwrap();
    }
    assert!(matches!(
        ctx.write(&vec![9u8; 20_000], 57, 0),
        Err(Error::NoFreeBlocks)
    ));
    drop(ctx);
    assert_eq!(collect(&reader, "s", 0, 100).len(), 6 + 15 + 27);
    assert!(matches!(
        free_blocks(&path, "s", 10, 5),
        Err(Error::InvalidArgument(_))
    ));
    assert_eq!(free_blocks(&path, "unknown", 0, 10).unwrap(), 0);
}

#[test]
fn secondary_keys_with_duplicates_and_extremes() {
    let (_dir, path) = setup("sk", 8);
    let writer = Writer::open(&path, false).unwrap();
    let mut ctx = writer.create_write_context("trades", "").unwrap();
    let keys = [
        (i64::MIN, 0u64),
        (i64::MIN, u64::MAX),
        (-1, 5),
        (0, 0),
        (0, 1),
        (0, u64::MAX),
        (7, 3),
        (7, 4),
        (i64::MAX, 0),
        (i64::MAX, u64::MAX),
    ];
    for (i, &(ts, sk)) in keys.iter().enumerate() {
        ctx.write_with_key(&[i as u8], ts, sk, 0).unwrap();
    }
    assert!(ctx.write_with_key(b"x", i64::MAX, u64::MAX, 0).is_err());
    drop(ctx);
    let reader = Reader::open(&path).unwrap();
    let mut it = reader.iter("trades").unwrap();
    assert!(it.find_key(0, 1).unwrap());
    assert_eq!(it.frame().unwrap().data, &[4]);
    assert!(it.find_key(0, 2).unwrap());
    assert_eq!(
        (
            it.frame().unwrap().timestamp,
            it.frame().unwrap().secondary_key
        ),
        (0, u64::MAX)
    );
    assert!(it.find(7).unwrap());
    assert_eq!(it.frame().unwrap().secondary_key, 3);
    assert!(it.find_key(i64::MAX, u64::MAX).unwrap());
    assert!(!it.next().unwrap());
    let all: Vec<(i64, u64)> = reader
        .iter("trades")
        .unwrap()
        .into_iter()
        .map(|f| f.unwrap())
        .map(|f| (f.timestamp, f.secondary_key))
        .collect();
    assert_eq!(all, keys.to_vec());
    // Equal timestamps all fall inside an inclusive range.
    assert_eq!(collect(&reader, "trades", 0, 7).len(), 5);
}

#[test]
fn iterator_sees_frames_appended_later_in_a_block_it_visited() {
    let (_dir, path) = setup("tail", 8);
    let writer = Writer::open(&path, false).unwrap();
    let mut ctx = writer.create_write_context("live", "").unwrap();
    ctx.write(b"0", 0, 0).unwrap();
    let reader = Reader::open(&path).unwrap();
    let mut it = reader.iter("live").unwrap();
    assert!(it.valid());
    assert!(!it.next().unwrap());
    ctx.write(b"1", 1, 0).unwrap();
    assert!(
        it.next().unwrap(),
        "a frame appended to the visited block is seen"
    );
    assert_eq!(it.frame().unwrap().data, b"1");
    // Fill the block so the stream moves on to a new one.
    for ts in 2..40 {
        ctx.write(&vec![ts as u8; 4000], ts, 0).unwrap();
    }
    let mut last = 1;
    while it.next().unwrap() {
        last = it.frame().unwrap().timestamp;
    }
    assert_eq!(last, 39);
    // An iterator created before the stream existed sees it later.
    let mut early = reader.iter("later").unwrap();
    assert!(!early.valid());
    let mut later = writer.create_write_context("later", "").unwrap();
    later.write(b"x", 5, 0).unwrap();
    assert!(early.next().unwrap());
    // The Rust Iterator resumes too.
    let mut frames = reader.iter("live").unwrap().into_iter();
    assert_eq!(frames.by_ref().count(), 40);
    ctx.write(b"41", 41, 0).unwrap();
    assert_eq!(frames.next().unwrap().unwrap().timestamp, 41);
}

#[test]
fn wrong_files_give_typed_errors() {
    let dir = TempDir::new("wrong");
    let junk = dir.file("junk.nts");
    std::fs::write(&junk, vec![0x42u8; 10_000]).unwrap();
    assert!(matches!(Reader::open(&junk), Err(Error::BadMagic { .. })));
    assert!(matches!(
        Writer::open(&junk, false),
        Err(Error::BadMagic { .. })
    ));
    assert!(matches!(
        Reader::open(dir.file("missing.nts")),
        Err(Error::CantOpen { .. })
    ));
    let path = dir.file("v.nts");
    allocate(&path, BLOCK, 2).unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[8] = 9; // format version
    std::fs::write(&path, &bytes).unwrap();
    assert!(matches!(
        Reader::open(&path),
        Err(Error::BadVersion { found: 9, .. })
    ));
}

#[test]
fn errors_have_stable_codes_and_helpful_messages() {
    let e = Error::NoFreeBlocks;
    assert_eq!(e.code(), 5);
    assert!(e.to_string().contains("free_blocks"));
    let e = Error::FrameTooLarge { size: 10, max: 5 };
    assert_eq!(e.code(), 9);
    assert!(e.to_string().contains("larger block size"));
}
