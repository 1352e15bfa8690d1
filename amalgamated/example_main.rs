//! A program that uses the amalgamated nanots: copy `nanots.rs` beside this file as
//! `src/nanots.rs`, this file as `src/main.rs`, and the lines of `dependencies.toml` into
//! `Cargo.toml`. It writes frames, reads them back, seeks, and runs a TQL query.
//! (`tests/amalgamation.rs` builds and runs exactly that.)

mod nanots;

use nanots::{Connection, Reader, ValueType, Writer, allocate};

fn main() -> Result<(), nanots::Error> {
    let dir = std::env::temp_dir().join(format!("nanots-example-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;

    // Frames: a 512 KiB file of 64 KiB blocks, one stream of 100 frames, 40 ms apart.
    let path = dir.join("frames.nts");
    allocate(&path, 64 * 1024, 8)?;
    {
        let writer = Writer::open(&path, false)?;
        let mut camera = writer.create_write_context("camera", "codec=h264")?;
        for i in 0..100i64 {
            camera.write(format!("frame {i}").as_bytes(), i * 40, 0)?;
        }
        // Dropping the context finishes its block.
    }
    let reader = Reader::open(&path)?;
    let mut count = 0;
    reader.read("camera", 0, i64::MAX, |_frame| {
        count += 1;
        true
    })?;
    println!("read back {count} frames");
    let mut it = reader.iter("camera")?;
    it.find(2010)?;
    if let Some(frame) = it.frame() {
        println!(
            "seek to 2010 lands on t={} {:?} (metadata {:?})",
            frame.timestamp,
            String::from_utf8_lossy(frame.data),
            frame.metadata
        );
    }
    it.prev()?;
    if let Some(frame) = it.frame() {
        println!("one back: t={}", frame.timestamp);
    }

    // Numbers and TQL.
    let db = Connection::new(dir.join("metrics"))?;
    for room in ["lab", "office"] {
        let name = format!("temperature{{room=\"{room}\"}}");
        db.create_stream(&name, ValueType::Float64)?;
        let mut inserter = db.prepare_insert(&name)?;
        for i in 0..60i64 {
            let base = if room == "lab" { 20.0 } else { 22.0 };
            inserter.insert(i * 1000, base + (i % 10) as f64 * 0.5)?;
        }
        inserter.flush()?;
    }
    let mut query = db.prepare_query("max by (room) (temperature)", None, None)?;
    let mut lines = Vec::new();
    while let Some((group, value)) = query.try_next_scalar()? {
        lines.push(format!("{} = {value}", query.labels(group)));
    }
    lines.sort();
    for line in lines {
        println!("max by (room) (temperature): {line}");
    }
    let window = db.prepare_query("temperature{room=\"lab\"}", Some(10_000), Some(12_000))?;
    if let nanots::QueryResult::Series(series) = window.collect()? {
        for s in series {
            println!(
                "{} from 10 s to 12 s: {:?} {:?}",
                s.labels, s.timestamps, s.values
            );
        }
    }

    drop(db);
    drop(reader);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
