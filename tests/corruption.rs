//! Damaged files: bit flips anywhere in the data file, truncation, a missing, foreign or junk
//! catalog, wrong versions, files that are not nanots files, and crafted headers. Each gives a
//! typed error or a repair that keeps every valid frame — never a panic, never a hang (every
//! open and read runs in a thread with a deadline), and never wrong bytes: a frame that is
//! returned always equals what was written under its key.
//!
//! The flips are seeded loops; `NANOTS_SEED=S` replays a run and `NANOTS_CORRUPTION_ITERATIONS`
//! raises the count.

mod common;

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use common::{TempDir, payload};
use nanots::format::block::{BLOCK_HEADER_SIZE, ENTRY_SIZE, IndexEntry, entry_offset};
use nanots::format::header::{FEATURE_CRC32C, FileHeader, HEADER_SIZE};
use nanots::{Error, Reader, Writer, allocate};

const BLOCK: u64 = 16 * 1024;
const BLOCKS: u64 = 12;
const STREAMS: [&str; 3] = ["alpha", "beta", "gamma"];
const FRAMES: i64 = 36;
const DEADLINE: Duration = Duration::from_secs(30);

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

fn seed() -> u64 {
    let seed = std::env::var("NANOTS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    println!("NANOTS_SEED={seed}");
    seed
}

fn iterations(default: u64) -> u64 {
    std::env::var("NANOTS_CORRUPTION_ITERATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn frame_len(stream: usize, ts: i64) -> usize {
    (ts as usize * 977 + stream * 131) % 1500 + usize::from(ts % 7 == 0) * 2500
}

fn frame_bytes(stream: usize, ts: i64) -> Vec<u8> {
    payload(STREAMS[stream], ts, frame_len(stream, ts))
}

/// Runs `f` in a thread and fails the test if it does not finish in time (a hang) or panics.
fn guarded<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(DEADLINE) {
        Ok(value) => {
            handle.join().unwrap();
            value
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what}: no answer within {DEADLINE:?} (hang)")
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            let panic = handle.join().unwrap_err();
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!("{what}: panicked: {msg}")
        }
    }
}

/// The files of a store, as bytes: a crash-time copy, so some blocks are still open.
#[derive(Clone)]
struct Template {
    data: Vec<u8>,
    catalog: Vec<(String, Vec<u8>)>,
}

impl Template {
    /// Writes three streams, finishing some blocks and leaving one open per stream, and copies
    /// the files while the writer is live (what a crash would leave).
    fn build() -> Template {
        let dir = TempDir::new("corrupt-template");
        let path = dir.file("t.nts");
        allocate(&path, BLOCK, BLOCKS).unwrap();
        let writer = Writer::open(&path, false).unwrap();
        let mut contexts: Vec<_> = STREAMS
            .iter()
            .map(|t| writer.create_write_context(t, "m").unwrap())
            .collect();
        for ts in 0..FRAMES {
            for (s, ctx) in contexts.iter_mut().enumerate() {
                ctx.write(&frame_bytes(s, ts), ts, 0).unwrap();
            }
        }
        for ctx in &mut contexts {
            ctx.flush().unwrap();
        }
        let template = Template::copy_of(&path);
        drop(contexts);
        drop(writer);
        template
    }

    fn copy_of(path: &Path) -> Template {
        let data = std::fs::read(path).unwrap();
        let mut catalog = Vec::new();
        for suffix in ["", "-wal"] {
            let p = format!("{}{suffix}", path.with_extension("db").display());
            if let Ok(bytes) = std::fs::read(&p) {
                catalog.push((suffix.to_string(), bytes));
            }
        }
        Template { data, catalog }
    }

    fn write_to(&self, dir: &Path, name: &str) -> PathBuf {
        let path = dir.join(format!("{name}.nts"));
        std::fs::write(&path, &self.data).unwrap();
        for (suffix, bytes) in &self.catalog {
            std::fs::write(
                format!("{}{suffix}", path.with_extension("db").display()),
                bytes,
            )
            .unwrap();
        }
        path
    }

    /// Every frame: (block index, entry index, entry) for blocks with a valid header.
    fn frames(&self) -> Vec<(u64, usize, IndexEntry)> {
        let mut out = Vec::new();
        for block in 0..BLOCKS {
            let base = block_base(block);
            let count =
                u32::from_le_bytes(self.data[base + 4..base + 8].try_into().unwrap()) as usize;
            for i in 0..count {
                let at = base + entry_offset(i);
                let bytes: [u8; ENTRY_SIZE] = self.data[at..at + ENTRY_SIZE].try_into().unwrap();
                out.push((block, i, IndexEntry::decode(&bytes)));
            }
        }
        out
    }
}

fn block_base(block: u64) -> usize {
    (HEADER_SIZE + block * BLOCK) as usize
}

/// What reading one stream gave: the keys of right frames, and the errors met.
#[derive(Debug, Default)]
struct Outcome {
    keys: Vec<i64>,
    errors: Vec<String>,
}

/// Looks up every key written, one seek each, checking every frame returned. A frame is never
/// wrong; a seek may fail with a typed error, which is recorded.
fn probe(reader: &Reader, s: usize, recovered: bool) -> Outcome {
    let mut outcome = Outcome::default();
    let mut it = match reader.iter(STREAMS[s]) {
        Ok(it) => it,
        Err(e) => {
            outcome.errors.push(e.to_string());
            return outcome;
        }
    };
    for ts in 0..FRAMES {
        match it.find(ts) {
            Ok(true) => {
                let frame = it.frame().unwrap();
                assert_eq!(
                    frame.data,
                    frame_bytes(s, frame.timestamp),
                    "stream {} key {}: wrong bytes returned",
                    STREAMS[s],
                    frame.timestamp
                );
                assert!(frame.timestamp >= ts, "find({ts}) went backwards");
                if frame.timestamp == ts {
                    outcome.keys.push(ts);
                }
            }
            Ok(false) => {}
            Err(e) => {
                // Before recovery a damaged block header reads as a block reused under the
                // reader (no frame found); recovery rewrites such headers from the catalog.
                assert!(
                    matches!(e, Error::Corrupt(_)),
                    "unexpected error kind: {e} (recovered: {recovered})"
                );
                outcome.errors.push(format!("{ts}: {e}"));
            }
        }
    }
    // A forward scan returns only right frames, in increasing order, until it ends or fails.
    if let Ok(it) = reader.iter(STREAMS[s]) {
        let mut last = None;
        for frame in it {
            let Ok(frame) = frame else { break };
            assert_eq!(
                frame.data,
                frame_bytes(s, frame.timestamp),
                "scan: wrong bytes"
            );
            assert!(last < Some(frame.timestamp), "scan: keys went backwards");
            last = Some(frame.timestamp);
        }
    }
    outcome
}

/// Opens with a reader (no repair) and then with a writer (recovery), probing every stream
/// each time, under a deadline. Returns the outcomes after recovery, or the typed open error.
fn open_and_probe(path: PathBuf) -> (Vec<Outcome>, Result<Vec<Outcome>, String>) {
    open_and_probe_with(path, true)
}

/// `before`: also read before recovery.
fn open_and_probe_with(
    path: PathBuf,
    before: bool,
) -> (Vec<Outcome>, Result<Vec<Outcome>, String>) {
    guarded("open and read", move || {
        let before = match Reader::open(&path) {
            Ok(reader) if before => (0..STREAMS.len())
                .map(|s| probe(&reader, s, false))
                .collect(),
            _ => Vec::new(),
        };
        let after = match Writer::open(&path, false) {
            Ok(writer) => {
                let outcomes = Reader::open(&path)
                    .map(|reader| {
                        (0..STREAMS.len())
                            .map(|s| probe(&reader, s, true))
                            .collect()
                    })
                    .map_err(|e| e.to_string());
                drop(writer);
                outcomes
            }
            Err(e) => Err(e.to_string()),
        };
        (before, after)
    })
}

fn template() -> &'static Template {
    static TEMPLATE: std::sync::OnceLock<Template> = std::sync::OnceLock::new();
    TEMPLATE.get_or_init(Template::build)
}

#[test]
fn the_undamaged_template_reads_back_completely() {
    let dir = TempDir::new("corrupt-clean");
    let path = template().write_to(dir.path(), "clean");
    let (before, after) = open_and_probe(path);
    for outcomes in [before, after.unwrap()] {
        for o in outcomes {
            assert_eq!(o.keys, (0..FRAMES).collect::<Vec<_>>());
            assert!(o.errors.is_empty());
        }
    }
}

/// A flipped payload bit makes exactly that frame unreadable (a `Corrupt` error), never wrong;
/// every other frame stays readable, before recovery and after it, except that recovery cuts an
/// open block at its first bad frame (its valid prefix).
#[test]
fn a_flipped_payload_bit_costs_that_frame_and_never_returns_wrong_bytes() {
    let mut rng = Rng(seed());
    let template = template();
    // A stream's first frame is left out here: see the next test.
    let frames: Vec<_> = template
        .frames()
        .into_iter()
        .filter(|(_, _, e)| e.length > 0 && e.key.timestamp > 0)
        .collect();
    let dir = TempDir::new("corrupt-payload");
    for round in 0..iterations(24) {
        let (block, entry_index, entry) = frames[rng.below(frames.len() as u64) as usize];
        let mut damaged = template.clone();
        let at =
            block_base(block) + entry.offset as usize + rng.below(entry.length as u64) as usize;
        damaged.data[at] ^= 1 << rng.below(8);
        let path = damaged.write_to(dir.path(), &format!("p{round}"));
        let (before, after) = open_and_probe(path);
        let after = after.expect("recovery must repair a payload flip");
        let ts = entry.key.timestamp;
        // Which stream the damaged frame belongs to: the one whose key set lost it.
        let hit: Vec<usize> = (0..STREAMS.len())
            .filter(|&s| !before[s].keys.contains(&ts))
            .collect();
        assert_eq!(
            hit.len(),
            1,
            "exactly one frame is lost before recovery: {before:?}"
        );
        let s = hit[0];
        assert!(
            before[s]
                .errors
                .iter()
                .any(|e| e.starts_with(&format!("{ts}:"))),
            "round {round}: block {block} entry {entry_index} key {ts} of {}: {:?}",
            STREAMS[s],
            before[s]
        );
        for (other, o) in before.iter().enumerate() {
            let expected: Vec<i64> = (0..FRAMES).filter(|&k| other != s || k != ts).collect();
            assert_eq!(
                o.keys, expected,
                "round {round}: frames lost besides the damaged one"
            );
        }
        // After recovery the damaged frame is gone (never wrong); what else may go is the rest of
        // its block if that block was open.
        assert!(!after[s].keys.contains(&ts));
        let lost: Vec<i64> = (0..FRAMES).filter(|k| !after[s].keys.contains(k)).collect();
        assert!(
            lost.len() == 1 || lost.iter().all(|&k| k >= ts),
            "round {round}: block {block} entry {entry_index}: recovery lost {lost:?}"
        );
    }
}

/// A damaged first frame costs that frame only: the rest of the stream stays reachable by seek
/// and by range reads (creating the iterator, which seeks to the first frame, must not fail).
#[test]
fn a_damaged_first_frame_leaves_the_rest_of_the_stream_readable() {
    let template = template();
    let (block, _, entry) = template
        .frames()
        .into_iter()
        .find(|(_, i, e)| *i == 0 && e.key.timestamp == 0 && e.length > 0)
        .unwrap();
    let mut damaged = template.clone();
    damaged.data[block_base(block) + entry.offset as usize] ^= 0x10;
    let dir = TempDir::new("corrupt-first");
    let path = damaged.write_to(dir.path(), "first");
    let reader = Reader::open(&path).unwrap();
    let damaged_stream = (0..STREAMS.len())
        .find(|&s| {
            reader.iter(STREAMS[s]).is_err() || probe(&reader, s, false).keys.first() != Some(&0)
        })
        .unwrap();
    let outcome = probe(&reader, damaged_stream, false);
    assert_eq!(
        outcome.keys,
        (1..FRAMES).collect::<Vec<_>>(),
        "{:?}",
        outcome.errors
    );
    let mut range = Vec::new();
    reader
        .read(STREAMS[damaged_stream], 10, 20, |f| {
            range.push(f.timestamp);
            true
        })
        .unwrap();
    assert_eq!(range, (10..=20).collect::<Vec<_>>());
}

/// Random bit flips anywhere in the file: header page, block headers, commit counts, index
/// entries, payloads, unused space.
#[test]
fn random_bit_flips_anywhere_never_panic_hang_or_return_wrong_bytes() {
    let mut rng = Rng(seed());
    let template = template();
    let dir = TempDir::new("corrupt-random");
    let mut opened = 0;
    let mut typed_errors = 0;
    let rounds = iterations(60);
    for round in 0..rounds {
        let mut damaged = template.clone();
        let flips = 1 + rng.below(12);
        for _ in 0..flips {
            // Half the flips land in the structured parts (file header, block headers, index
            // entries), where they do the most damage.
            let at = if rng.below(2) == 0 {
                rng.below(damaged.data.len() as u64) as usize
            } else {
                let block = rng.below(BLOCKS + 1);
                if block == BLOCKS {
                    rng.below(80) as usize
                } else {
                    block_base(block)
                        + rng.below((BLOCK_HEADER_SIZE + 8 * ENTRY_SIZE) as u64) as usize
                }
            };
            damaged.data[at] ^= 1 << rng.below(8);
        }
        let path = damaged.write_to(dir.path(), &format!("r{round}"));
        match open_and_probe(path).1 {
            Ok(_) => opened += 1,
            Err(_) => typed_errors += 1,
        }
    }
    println!(
        "{rounds} damaged files: {opened} opened and read, {typed_errors} refused with a typed error"
    );
}

/// The commit count sits outside the header checksum (it changes with every frame). For a
/// finished block the catalog knows the true count, so recovery restores it.
#[test]
fn a_damaged_commit_count_of_a_finished_block_is_repaired_from_the_catalog() {
    let template = template();
    // Block 0 is alpha's first block, finished when alpha moved on.
    let count_at = block_base(0) + 4;
    let count = u32::from_le_bytes(template.data[count_at..count_at + 4].try_into().unwrap());
    assert!(count > 1);
    let dir = TempDir::new("corrupt-count");
    for (name, damaged_count) in [
        ("low", count / 2),
        ("zero", 0),
        ("high", count + 5),
        ("huge", u32::MAX),
    ] {
        let mut damaged = template.clone();
        damaged.data[count_at..count_at + 4].copy_from_slice(&damaged_count.to_le_bytes());
        let path = damaged.write_to(dir.path(), name);
        let after = open_and_probe(path).1.unwrap();
        for (s, o) in after.iter().enumerate() {
            assert_eq!(
                o.keys,
                (0..FRAMES).collect::<Vec<_>>(),
                "{name}: stream {} lost frames after recovery",
                STREAMS[s]
            );
            assert!(o.errors.is_empty(), "{name}: {:?}", o.errors);
        }
    }
}

/// Every single-bit flip in the file header's first 80 bytes either is refused with a typed
/// error or (for the bytes outside the checksum) changes nothing a reader can see.
#[test]
fn file_header_flips_are_refused_or_harmless() {
    let template = template();
    let dir = TempDir::new("corrupt-header");
    let mut refused = 0;
    let paths: Vec<PathBuf> = (0..80 * 8)
        .step_by(3)
        .map(|bit| {
            let mut damaged = template.clone();
            damaged.data[bit / 8] ^= 1 << (bit % 8);
            damaged.write_to(dir.path(), &format!("h{bit}"))
        })
        .collect();
    for path in paths {
        let opened = guarded("open a damaged header", move || {
            match Reader::open(&path) {
                Ok(reader) => {
                    for s in 0..STREAMS.len() {
                        probe(&reader, s, false);
                    }
                }
                Err(e) => assert!(
                    matches!(
                        e,
                        Error::BadMagic { .. }
                            | Error::BadVersion { .. }
                            | Error::Corrupt(_)
                            | Error::InvalidBlockSize { .. }
                    ),
                    "{e}"
                ),
            }
            match Writer::open(&path, false) {
                Ok(_) => true,
                Err(e) => {
                    assert!(
                        matches!(
                            e,
                            Error::BadMagic { .. }
                                | Error::BadVersion { .. }
                                | Error::Corrupt(_)
                                | Error::InvalidBlockSize { .. }
                        ),
                        "{e}"
                    );
                    false
                }
            }
        });
        refused += usize::from(!opened);
    }
    assert!(refused > 100, "flips in the checked header must be refused");
}

#[test]
fn truncated_data_files_give_typed_errors() {
    let template = template();
    let dir = TempDir::new("corrupt-trunc");
    let len = template.data.len();
    for cut in [
        0,
        10,
        79,
        80,
        4095,
        4096,
        4097,
        len / 2,
        len - BLOCK as usize,
        len - 1,
    ] {
        let mut damaged = template.clone();
        damaged.data.truncate(cut);
        let path = damaged.write_to(dir.path(), &format!("t{cut}"));
        let (reader, writer) = guarded("open a truncated file", move || {
            (
                Reader::open(&path).map(|_| ()),
                Writer::open(&path, false).map(|_| ()),
            )
        });
        for result in [reader, writer] {
            match result {
                Err(Error::BadMagic { .. }) => assert!(cut < 80),
                Err(Error::Corrupt(msg)) => assert!(msg.contains("truncated"), "{msg}"),
                other => panic!("a file cut to {cut} bytes gave {other:?}"),
            }
        }
    }
}

#[test]
fn missing_foreign_and_junk_catalogs_give_typed_errors() {
    let template = template();
    let dir = TempDir::new("corrupt-catalog");
    let fresh = |name: &str| {
        let path = template.write_to(dir.path(), name);
        let db = path.with_extension("db");
        let _ = std::fs::remove_file(format!("{}-wal", db.display()));
        (path, db)
    };
    let outcome = |path: PathBuf| {
        guarded("open with a bad catalog", move || {
            (
                Reader::open(&path).map(|_| ()),
                Writer::open(&path, false).map(|_| ()),
            )
        })
    };

    // Deleted.
    let (path, db) = fresh("deleted");
    std::fs::remove_file(&db).unwrap();
    let (r, w) = outcome(path);
    assert!(matches!(r, Err(Error::CantOpen { .. })), "{r:?}");
    assert!(matches!(w, Err(Error::CantOpen { .. })), "{w:?}");
    assert!(!db.exists(), "opening must not create an empty catalog");

    // A SQLite database without our tables.
    let (path, db) = fresh("foreign");
    std::fs::remove_file(&db).unwrap();
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("CREATE TABLE photos(id INTEGER PRIMARY KEY, name TEXT); INSERT INTO photos(name) VALUES('cat');")
        .unwrap();
    let (r, w) = outcome(path);
    assert!(matches!(r, Err(Error::Schema(_))), "{r:?}");
    assert!(matches!(w, Err(Error::Schema(_))), "{w:?}");

    // Not a database at all, and an empty file.
    for (name, bytes) in [("junk", vec![0x5Au8; 8192]), ("empty", Vec::new())] {
        let (path, db) = fresh(name);
        std::fs::write(&db, &bytes).unwrap();
        let (r, w) = outcome(path);
        for result in [r, w] {
            assert!(
                matches!(result, Err(Error::Schema(_) | Error::Sqlite(_))),
                "{name}: {result:?}"
            );
        }
    }

    // A nanots catalog with a block row in a state no version wrote.
    let (path, db) = fresh("state");
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute("UPDATE blocks SET state = 9 WHERE idx = 0", [])
        .unwrap();
    let (r, w) = outcome(path);
    assert!(matches!(r, Err(Error::Corrupt(_))), "{r:?}");
    assert!(matches!(w, Err(Error::Corrupt(_))), "{w:?}");
}

/// Catalog rows that disagree with the data file: the frames are checked against the
/// catalog's generation, so nothing wrong is ever returned after recovery, which repairs what
/// it can. (Before recovery a reader trusts the catalog's stream of a block whose generation
/// matches: a row moved to another stream reads as that stream's frames — a known limit noted
/// in DESIGN.md — so only the recovered store is checked here.)
#[test]
fn catalog_rows_that_disagree_with_the_blocks_never_yield_wrong_frames() {
    let template = template();
    let dir = TempDir::new("corrupt-rows");
    let edits = [
        "UPDATE blocks SET generation = generation + 1000 WHERE idx = 1",
        "UPDATE blocks SET frames = 999, last_ts = 999999 WHERE state = 2",
        "UPDATE blocks SET first_ts = 5000, last_ts = 4000 WHERE idx = 0",
        "DELETE FROM blocks WHERE idx >= 3",
        "UPDATE blocks SET stream_id = (SELECT MAX(id) FROM streams) WHERE idx = 0",
        "UPDATE blocks SET state = 1 WHERE state = 2",
        "UPDATE blocks SET state = 2 WHERE state = 1",
        "UPDATE blocks SET state = 0",
        "DELETE FROM streams",
        "UPDATE meta SET value = 1 WHERE key = 'next_generation'",
    ];
    for (i, sql) in edits.iter().enumerate() {
        let path = template.write_to(dir.path(), &format!("e{i}"));
        rusqlite::Connection::open(path.with_extension("db"))
            .unwrap()
            .execute_batch(sql)
            .unwrap();
        // `probe` asserts that every frame returned is right.
        let result = std::panic::catch_unwind(|| open_and_probe_with(path, false));
        match result {
            Ok((_, Err(e))) => println!("{sql}: refused: {e}"),
            Ok(_) => {}
            Err(_) => panic!("after `{sql}`: see the panic above"),
        }
    }
}

/// The catalog of another store beside this data file: its rows name generations this file's
/// frames do not carry, so no frame validates against the wrong row.
#[test]
fn another_stores_catalog_never_yields_foreign_frames() {
    let template = template();
    let dir = TempDir::new("corrupt-swap");
    let other_path = dir.file("other.nts");
    allocate(&other_path, BLOCK, BLOCKS).unwrap();
    {
        let writer = Writer::open(&other_path, false).unwrap();
        for tag in STREAMS {
            let mut ctx = writer.create_write_context(tag, "").unwrap();
            for ts in 0..5 {
                ctx.write(b"from the other store", ts * 1000, 0).unwrap();
            }
        }
    }
    let path = template.write_to(dir.path(), "swapped");
    let db = path.with_extension("db");
    let _ = std::fs::remove_file(format!("{}-wal", db.display()));
    std::fs::copy(other_path.with_extension("db"), &db).unwrap();
    // `probe` asserts every returned frame is one this data file really holds under its key.
    let _ = open_and_probe(path);
}

#[test]
fn wrong_versions_give_typed_errors() {
    let template = template();
    let dir = TempDir::new("corrupt-version");
    let mut damaged = template.clone();
    damaged.data[8..12].copy_from_slice(&2u32.to_le_bytes());
    let path = damaged.write_to(dir.path(), "data-version");
    let p = path.clone();
    let r = guarded("open", move || Reader::open(&p).map(|_| ()));
    assert!(
        matches!(r, Err(Error::BadVersion { found: 2, .. })),
        "{r:?}"
    );
    let w = guarded("open", move || Writer::open(&path, false).map(|_| ()));
    assert!(
        matches!(w, Err(Error::BadVersion { found: 2, .. })),
        "{w:?}"
    );

    let path = template.write_to(dir.path(), "catalog-version");
    rusqlite::Connection::open(path.with_extension("db"))
        .unwrap()
        .execute(
            "UPDATE meta SET value = 99 WHERE key = 'schema_version'",
            [],
        )
        .unwrap();
    let p = path.clone();
    let r = guarded("open", move || Reader::open(&p).map(|_| ()));
    assert!(
        matches!(r, Err(Error::BadVersion { found: 99, .. })),
        "{r:?}"
    );
    let w = guarded("open", move || Writer::open(&path, false).map(|_| ()));
    assert!(
        matches!(w, Err(Error::BadVersion { found: 99, .. })),
        "{w:?}"
    );
}

#[test]
fn files_that_are_not_nanots_files_are_refused() {
    let template = template();
    let dir = TempDir::new("corrupt-foreign");
    let sqlite_file = dir.file("real.sqlite");
    rusqlite::Connection::open(&sqlite_file)
        .unwrap()
        .execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES(1);")
        .unwrap();
    let contents: Vec<(&str, Vec<u8>)> = vec![
        ("text", b"timestamp,value\n1,2\n".repeat(500)),
        ("zeros", vec![0u8; 64 * 1024]),
        (
            "png",
            [b"\x89PNG\r\n\x1a\n".as_slice(), &[7u8; 9000]].concat(),
        ),
        ("sqlite", std::fs::read(&sqlite_file).unwrap()),
        // The nanots magic with a garbage rest.
        (
            "magic",
            [b"NANOTS\x00\x01".as_slice(), &[0xFFu8; 9000]].concat(),
        ),
    ];
    for (name, bytes) in contents {
        let mut damaged = template.clone();
        damaged.data = bytes;
        let path = damaged.write_to(dir.path(), name);
        let (r, w) = guarded("open a foreign file", move || {
            (
                Reader::open(&path).map(|_| ()),
                Writer::open(&path, false).map(|_| ()),
            )
        });
        for result in [r, w] {
            assert!(
                matches!(
                    result,
                    Err(Error::BadMagic { .. } | Error::BadVersion { .. } | Error::Corrupt(_))
                ),
                "{name}: {result:?}"
            );
        }
    }
}

/// Headers with a valid checksum but a shape no allocation writes: they must be refused before
/// they size the mapping or the per-block tables (an overflow, or gigabytes of pins).
#[test]
fn crafted_headers_with_impossible_shapes_are_refused() {
    let template = template();
    let dir = TempDir::new("corrupt-crafted");
    let shapes = [
        // A fixed file whose cap is far beyond its size.
        ("fixed-cap", BLOCK, BLOCKS, 1 << 28, false),
        // A cap whose byte size overflows u64.
        ("overflow", 1 << 31, 1, u64::MAX / 2, true),
        ("overflow-fixed", 1 << 31, u64::MAX / 4, u64::MAX / 4, false),
        // A growable cap above the engine's ceiling.
        ("growable-cap", 4096, 1, 1 << 40, true),
        // A block size beyond the 2 GiB limit.
        ("block-size", 1 << 40, 1, 1, false),
    ];
    for (name, block_size, initial, max, growable) in shapes {
        let mut damaged = template.clone();
        let header = FileHeader {
            block_size,
            initial_blocks: initial,
            max_blocks: max,
            growable,
            features: FEATURE_CRC32C,
        };
        header.encode(&mut damaged.data[..HEADER_SIZE as usize]);
        let path = damaged.write_to(dir.path(), name);
        let (r, w) = guarded(name, move || {
            (
                Reader::open(&path).map(|_| ()),
                Writer::open(&path, false).map(|_| ()),
            )
        });
        for result in [r, w] {
            assert!(
                matches!(
                    result,
                    Err(Error::Corrupt(_) | Error::InvalidBlockSize { .. })
                ),
                "{name}: {result:?}"
            );
        }
    }
}
