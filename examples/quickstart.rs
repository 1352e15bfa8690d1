//! Quickstart: create a store, write a few frames, read them back three ways.
//!
//! ```text
//! cargo run --example quickstart
//! ```

use nanots::{AllocateOptions, Reader, Writer};

fn main() -> nanots::Result<()> {
    // A store is two files: `<name>.nts` (the preallocated, memory-mapped frames) and
    // `<name>.db` (a small SQLite catalog beside it). Put them in a scratch directory.
    let dir = std::env::temp_dir().join(format!("nanots-quickstart-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("quickstart.nts");

    // 16 blocks of 64 KiB. Each block belongs to one stream at a time; a full file either
    // refuses writes or, with auto-reclaim, recycles its oldest block.
    nanots::allocate_with(
        &path,
        &AllocateOptions::fixed(64 * 1024, 16).overwrite(true),
    )?;
    println!("created {}", path.display());

    // --- Writing -------------------------------------------------------------------------
    {
        // One writer per file (an OS lock enforces it); `false` = no auto-reclaim.
        let writer = Writer::open(&path, false)?;
        // A write context appends to one stream; the metadata string travels with its frames.
        let mut ctx = writer.create_write_context("camera-1", "codec=h264 fps=10")?;
        for i in 0..10i64 {
            // Timestamps are plain i64 (here: milliseconds) and must increase per stream.
            let ts = 1_000 + i * 100;
            // Flags are yours to define; here bit 0 marks a key frame.
            let flags = u32::from(i % 5 == 0);
            ctx.write(format!("frame #{i}").as_bytes(), ts, flags)?;
        }
        // `close` syncs the frames to disk and records the block in the catalog. Dropping the
        // context does the same but cannot report errors.
        ctx.close()?;
    }

    // --- Reading a time range --------------------------------------------------------------
    // Readers may run while a writer is still appending, in this process or another.
    let reader = Reader::open(&path)?;
    println!("\nread(\"camera-1\", 1200, 1500):");
    reader.read("camera-1", 1_200, 1_500, |frame| {
        println!(
            "  ts={} flags={} data={:?} metadata={:?}",
            frame.timestamp,
            frame.flags,
            String::from_utf8_lossy(frame.data),
            frame.metadata
        );
        true // return false to stop early
    })?;

    // --- Seeking and walking with an iterator ---------------------------------------------
    let mut it = reader.iter("camera-1")?;
    // `find` lands on the first frame at or after the timestamp: 1250 has no frame, so 1300.
    let found = it.find(1_250)?;
    println!("\nfind(1250) -> {found}, now at {}", describe(&it));
    it.next()?;
    println!("next()     -> {}", describe(&it));
    it.prev()?;
    it.prev()?;
    println!("prev() x2  -> {}", describe(&it));

    // Walk back to the previous key frame (flag bit 0), as a video player would on a seek.
    while it.valid() && it.frame().is_some_and(|f| f.flags & 1 == 0) {
        it.prev()?;
    }
    println!("back to key frame -> {}", describe(&it));

    // Running off either end leaves the iterator invalid; `next()` at the end would pick up
    // frames written later, which is how a live reader follows a stream.
    it.seek_end()?;
    println!("seek_end() -> {}", describe(&it));
    let more = it.next()?;
    println!("next()     -> {more}, valid: {}", it.valid());
    let past = it.find(5_000)?;
    println!("find(5000) -> {past} (nothing at or after it)");

    // --- What the file holds ----------------------------------------------------------------
    let info = reader.file_info()?;
    println!(
        "\nfile: {} blocks of {} KiB, {} used",
        info.block_count,
        info.block_size / 1024,
        info.blocks_used
    );
    for s in &info.streams {
        println!(
            "  stream {:?}: {} frames, {:?}..={:?}",
            s.tag, s.frames, s.first_timestamp, s.last_timestamp
        );
    }
    println!("streams in [0, 2000]: {:?}", reader.stream_tags(0, 2_000)?);
    println!(
        "segments of camera-1: {:?}",
        reader.contiguous_segments("camera-1", 0, i64::MAX)?
    );

    drop(it);
    drop(reader);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

fn describe(it: &nanots::FrameIterator) -> String {
    match it.frame() {
        Some(f) => format!(
            "ts={} flags={} {:?}",
            f.timestamp,
            f.flags,
            String::from_utf8_lossy(f.data)
        ),
        None => "(invalid)".to_string(),
    }
}
