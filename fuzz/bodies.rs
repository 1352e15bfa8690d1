//! The bodies of the fuzz targets, one public function per target. The cargo-fuzz targets in
//! `fuzz_targets/` call them, and `tests/fuzz_bodies.rs` runs the same functions over the
//! committed corpus (`fuzz/corpus/<target>/`) and proptest inputs on every `cargo test`, so a
//! finding stays covered once its input is added to the corpus.
//!
//! Only public APIs are used. A body panics only on a broken property: a crash, a value that
//! fails to round-trip, or (outside fuzzing) a frame returned with bytes other than the ones
//! written under its key.
//!
//! Under `cfg(fuzzing)` (cargo fuzz) the "never wrong bytes" oracle of `block_parse` is off:
//! libFuzzer's comparison tracing can copy a computed CRC into a forged index entry, and a
//! forged frame with a valid checksum is, by design, indistinguishable from a real one. Random
//! mutations (the tests) cannot forge checksums, so there the oracle holds.

#![allow(dead_code)]

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use nanots::format::block::{
    BlockHeader, ENTRY_SIZE, IndexEntry, entry_offset, max_entries, valid_prefix,
};
use nanots::format::crc32c;
use nanots::format::header::{FileHeader, HEADER_SIZE};
use nanots::series::chunk::{MAX_CHUNK_POINTS, decode_chunk, encode_chunk, read_summary};
use nanots::series::name::parse_stream_name;
use nanots::{Column, Connection, Reader, Value, ValueType, Writer, allocate};

/// Whether returned frames are checked against what was written (see the module docs).
const STRICT_FRAMES: bool = !cfg!(fuzzing);

// ---------------------------------------------------------------------------------------------
// Scratch space

/// A per-process directory for the files the bodies create: tmpfs when there is one (SQLite's
/// fsyncs cost nothing there, which matters at thousands of executions per second).
pub fn scratch_root() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let shm = Path::new("/dev/shm");
        let base = if shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        // Directories of processes that are gone (a fuzzer or test run that ended) go first.
        if let Ok(entries) = std::fs::read_dir(&base) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if let Some(pid) = name.strip_prefix("nanots-fuzz-")
                    && !Path::new("/proc").join(pid).exists()
                {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
        let root = base.join(format!("nanots-fuzz-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        root
    })
}

/// Removes this process's scratch directory (the tests call it when they are done).
pub fn cleanup() {
    let _ = std::fs::remove_dir_all(scratch_root());
}

struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = scratch_root().join(format!("run-{}", N.fetch_add(1, Ordering::Relaxed)));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// ---------------------------------------------------------------------------------------------
// block_parse

pub const BLOCK: u64 = 4096;
pub const BLOCKS: u64 = 4;
pub const TAGS: [&str; 2] = ["a", "b"];
/// Frames per stream in the template: "a" spans a finished block and an open one, "b" has one
/// open block, one block is free.
const TEMPLATE_FRAMES: [i64; 2] = [24, 6];

/// The payload of frame `ts` of stream `tag`, recomputable by any checker.
pub fn frame_payload(tag: usize, ts: i64) -> Vec<u8> {
    let len = 20 + (ts.unsigned_abs() as usize * 37 + tag * 11) % 280;
    let mut seed = (ts as u64) ^ ((tag as u64 + 1) << 56) ^ 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 56) as u8
        })
        .collect()
}

/// A small store as a crash leaves it (copied while the writer is live): its data file and
/// catalog files.
pub struct BlockTemplate {
    pub data: Vec<u8>,
    pub catalog: Vec<(String, Vec<u8>)>,
}

pub fn block_template() -> &'static BlockTemplate {
    static TEMPLATE: OnceLock<BlockTemplate> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let dir = Scratch::new();
        let path = dir.0.join("template.nts");
        allocate(&path, BLOCK, BLOCKS).unwrap();
        let writer = Writer::open(&path, false).unwrap();
        let mut contexts = Vec::new();
        for (t, tag) in TAGS.iter().enumerate() {
            let mut ctx = writer.create_write_context(tag, "fuzz").unwrap();
            for ts in 0..TEMPLATE_FRAMES[t] {
                ctx.write(&frame_payload(t, ts), ts, 0).unwrap();
            }
            ctx.flush().unwrap();
            contexts.push(ctx);
        }
        let data = std::fs::read(&path).unwrap();
        let mut catalog = Vec::new();
        for suffix in ["", "-wal"] {
            let p = format!("{}{suffix}", path.with_extension("db").display());
            if let Ok(bytes) = std::fs::read(&p) {
                catalog.push((suffix.to_string(), bytes));
            }
        }
        drop(contexts);
        drop(writer);
        BlockTemplate { data, catalog }
    })
}

/// Block and file parsing over arbitrary bytes. The first byte picks what the rest is:
/// - `0 mod 4`: only the pure decoders;
/// - `1 mod 4`: bytes written over the template's blocks (from the end of the header page);
/// - `2 mod 4`: bytes written over the template from offset 0 (header page first); with the
///   top bit set, the header checksum is recomputed so that the fields themselves are fuzzed;
/// - `3 mod 4`: the whole data file, beside the template's catalog.
///
/// The pure decoders (`FileHeader::decode`, `BlockHeader::decode`, `valid_prefix`) run on the
/// rest in every mode; the last three modes then open the file with a reader (no repair) and
/// with `Writer::open` (recovery), read every stream and append a frame.
pub fn block_parse(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    decoders(rest);
    let template = block_template();
    let file = match mode % 4 {
        0 => return,
        1 => overlay(&template.data, HEADER_SIZE as usize, rest),
        2 => {
            let mut file = overlay(&template.data, 0, rest);
            if mode & 0x80 != 0 && file.len() >= 60 {
                let crc = crc32c::checksum(&file[..56]);
                file[56..60].copy_from_slice(&crc.to_le_bytes());
            }
            file
        }
        _ => rest.to_vec(),
    };
    open_and_check(&file, template);
}

fn overlay(base: &[u8], at: usize, bytes: &[u8]) -> Vec<u8> {
    let mut file = base.to_vec();
    let end = (at + bytes.len()).min(file.len());
    file[at..end].copy_from_slice(&bytes[..end - at]);
    file
}

fn decoders(bytes: &[u8]) {
    let _ = FileHeader::decode(bytes);
    if let Some(header) = BlockHeader::decode(bytes) {
        let mut again = [0u8; 64];
        header.encode(&mut again);
        assert_eq!(
            BlockHeader::decode(&again),
            Some(header),
            "block header round trip"
        );
    }
    let word = |at: usize, n: usize| -> u64 {
        bytes.get(at..at + n).map_or(0, |b| {
            let mut buf = [0u8; 8];
            buf[..n].copy_from_slice(b);
            u64::from_le_bytes(buf)
        })
    };
    let generation = word(8, 8);
    let claimed = word(4, 4) as usize;
    let prefix = valid_prefix(bytes, generation, claimed);
    assert!(prefix.count <= claimed.min(max_entries(bytes.len() as u64)));
    assert!(prefix.data_start <= bytes.len());
    // Every frame the prefix counts sits where the writer puts it and re-validates.
    let mut end = bytes.len();
    let mut last = None;
    for i in 0..prefix.count {
        let raw: [u8; ENTRY_SIZE] = bytes[entry_offset(i)..entry_offset(i) + ENTRY_SIZE]
            .try_into()
            .unwrap();
        let entry = IndexEntry::decode(&raw);
        let offset = entry.offset as usize;
        assert_eq!(
            offset + entry.length as usize,
            end,
            "payloads are contiguous"
        );
        assert!(offset >= entry_offset(i + 1), "payload overlaps the index");
        assert_eq!(
            entry.expected_checksum(generation, &bytes[offset..end]),
            entry.checksum
        );
        assert!(last < Some(entry.key), "keys strictly increase");
        if i == 0 {
            assert_eq!(prefix.first, Some(entry.key));
        }
        last = Some(entry.key);
        end = offset;
    }
    assert_eq!(prefix.last, last);
    assert_eq!(prefix.data_start, end);
}

fn open_and_check(file: &[u8], template: &BlockTemplate) {
    let dir = Scratch::new();
    let path = dir.0.join("f.nts");
    std::fs::write(&path, file).unwrap();
    for (suffix, bytes) in &template.catalog {
        std::fs::write(
            format!("{}{suffix}", path.with_extension("db").display()),
            bytes,
        )
        .unwrap();
    }
    if let Ok(reader) = Reader::open(&path) {
        check_frames(&reader);
    }
    let Ok(writer) = Writer::open(&path, false) else {
        return;
    };
    if let Ok(reader) = Reader::open(&path) {
        check_frames(&reader);
    }
    // Writing goes on after recovery (a full file or a bad key is a typed error, fine).
    for (t, tag) in TAGS.iter().enumerate() {
        if let Ok(mut ctx) = writer.create_write_context(tag, "") {
            let next = ctx.last_key().map_or(0, |k| k.timestamp.saturating_add(1));
            let _ = ctx.write(&frame_payload(t, next), next, 0);
        }
    }
}

fn check_frames(reader: &Reader) {
    for (t, tag) in TAGS.iter().enumerate() {
        let Ok(it) = reader.iter(tag) else { continue };
        for frame in it.into_iter().take(10_000) {
            let Ok(frame) = frame else { break };
            if STRICT_FRAMES {
                assert_eq!(
                    frame.data,
                    frame_payload(t, frame.timestamp),
                    "stream {tag} frame {}: wrong bytes returned",
                    frame.timestamp
                );
            }
        }
    }
}

/// Seeds: the template's header page and blocks under each mode, and a few variations.
pub fn block_parse_seeds() -> Vec<Vec<u8>> {
    let t = &block_template().data;
    let blocks = &t[HEADER_SIZE as usize..];
    let mut seeds = vec![
        [&[0u8][..], &blocks[..BLOCK as usize]].concat(),
        [&[1u8][..], blocks].concat(),
        [&[1u8][..], &blocks[BLOCK as usize..2 * BLOCK as usize]].concat(),
        [&[2u8][..], &t[..HEADER_SIZE as usize]].concat(),
        [&[0x82u8][..], &t[..HEADER_SIZE as usize]].concat(),
        [&[3u8][..], t].concat(),
        [&[3u8][..], &t[..HEADER_SIZE as usize + BLOCK as usize]].concat(),
        vec![1u8; 64],
        vec![3u8; 80],
    ];
    for (i, block) in blocks.chunks(BLOCK as usize).enumerate() {
        seeds.push([&[(i as u8) << 2][..], block].concat());
    }
    seeds
}

// ---------------------------------------------------------------------------------------------
// chunk_decode

/// The chunk codec. An even first byte: the rest is a chunk frame to decode (header summary,
/// timestamp and value streams); whatever decodes must agree with its header and survive
/// re-encoding. An odd first byte: the rest describes points (value type, strictly increasing
/// timestamps, raw values) that are encoded and must decode to exactly themselves.
pub fn chunk_decode(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        decode_any(rest);
    } else {
        round_trip(mode >> 1, rest);
    }
}

fn same_column(a: &Column, b: &Column) -> bool {
    match (a, b) {
        (Column::Float64(x), Column::Float64(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits())
        }
        _ => a == b,
    }
}

fn decode_any(bytes: &[u8]) {
    let summary = read_summary(bytes);
    let mut timestamps = Vec::new();
    let mut values = Column::new(ValueType::Float64);
    match decode_chunk(bytes, &mut timestamps, &mut values) {
        Ok(decoded) => {
            let header = summary.expect("a chunk that decodes has a readable summary");
            assert_eq!(format!("{decoded:?}"), format!("{header:?}"));
            let n = decoded.count as usize;
            assert_eq!((timestamps.len(), values.len()), (n, n));
            assert_eq!(values.value_type(), decoded.value_type);
            assert_eq!(timestamps.first(), Some(&decoded.first_timestamp));
            assert_eq!(timestamps.last(), Some(&decoded.last_timestamp));
            assert!(
                timestamps.windows(2).all(|w| w[0] < w[1]),
                "decoded timestamps must strictly increase"
            );
            let mut again = Vec::new();
            encode_chunk(&timestamps, &values, &mut again).expect("decoded points re-encode");
            let mut t2 = Vec::new();
            let mut v2 = Column::new(ValueType::Integer64);
            decode_chunk(&again, &mut t2, &mut v2).expect("re-encoded chunk decodes");
            assert_eq!(t2, timestamps);
            assert!(same_column(&v2, &values), "values changed in a re-encode");
        }
        Err(_) => {
            assert!(
                timestamps.is_empty() && values.is_empty(),
                "outputs cleared on error"
            );
        }
    }
}

fn round_trip(selector: u8, bytes: &[u8]) {
    let value_type = match selector % 3 {
        0 => ValueType::Integer64,
        1 => ValueType::UInteger64,
        _ => ValueType::Float64,
    };
    let Some(start) = bytes.get(..8) else { return };
    let mut ts = i64::from_le_bytes(start.try_into().unwrap());
    let mut timestamps = Vec::new();
    let mut values = Column::new(value_type);
    // Records of 10 bytes: a 2-byte step (0xFFFF: a jump taken from the value bits) and 8
    // bytes of value.
    for record in bytes[8..].chunks_exact(10).take(MAX_CHUNK_POINTS) {
        let step = u16::from_le_bytes([record[0], record[1]]);
        let raw = u64::from_le_bytes(record[2..10].try_into().unwrap());
        if !timestamps.is_empty() {
            let delta = if step == 0xFFFF {
                raw >> 1
            } else {
                u64::from(step)
            } + 1;
            match ts.checked_add_unsigned(delta) {
                Some(next) => ts = next,
                None => break,
            }
        }
        timestamps.push(ts);
        let value = match value_type {
            ValueType::Integer64 => Value::Integer64(raw as i64),
            ValueType::UInteger64 => Value::UInteger64(raw),
            ValueType::Float64 => Value::Float64(f64::from_bits(raw)),
        };
        assert!(values.push(value));
    }
    if timestamps.is_empty() {
        return;
    }
    let mut out = Vec::new();
    let written = encode_chunk(&timestamps, &values, &mut out).expect("valid points encode");
    let mut t2 = Vec::new();
    let mut v2 = Column::new(ValueType::Float64);
    let read = decode_chunk(&out, &mut t2, &mut v2).expect("an encoded chunk decodes");
    assert_eq!(format!("{written:?}"), format!("{read:?}"));
    assert_eq!(t2, timestamps);
    assert!(same_column(&v2, &values), "values changed in a round trip");
    // Any prefix of a chunk frame is an error, never a panic or a wrong decode.
    let cut = out.len() / 2;
    assert!(decode_chunk(&out[..cut], &mut t2, &mut v2).is_err());
}

/// Seeds: real chunks of each type (regular, jittered, extreme), and point descriptions.
pub fn chunk_decode_seeds() -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    let columns = [
        Column::Integer64((0..50).map(|i| (i * i) - 700).collect()),
        Column::UInteger64((0..50).map(|i| 1_000_000 + i * 3).collect()),
        Column::Float64((0..50).map(|i| 20.0 + (i as f64) * 0.25).collect()),
        Column::Float64((0..50).map(|i| (i as f64).sin() * 1e-3).collect()),
        Column::Integer64(vec![i64::MIN, i64::MAX, 0, -1, 1]),
        Column::Float64(vec![
            f64::NAN,
            f64::INFINITY,
            -0.0,
            f64::MIN_POSITIVE,
            f64::MAX,
        ]),
    ];
    let timestamp_sets: [Vec<i64>; 3] = [
        (0..50).map(|i| 1_700_000_000_000 + i * 1000).collect(),
        (0..50).map(|i| i * 1000 + (i * 7919) % 13).collect(),
        vec![i64::MIN, -5, 0, 7, i64::MAX],
    ];
    for values in &columns {
        for timestamps in &timestamp_sets {
            if timestamps.len() != values.len() {
                continue;
            }
            let mut out = Vec::new();
            encode_chunk(timestamps, values, &mut out).unwrap();
            seeds.push([&[0u8][..], &out].concat());
        }
    }
    for (mode, points) in [(1u8, 20usize), (3, 20), (5, 20), (5, 3), (1, 1)] {
        let mut seed = vec![mode];
        seed.extend_from_slice(&1_600_000_000_000i64.to_le_bytes());
        for i in 0..points {
            seed.extend_from_slice(&(if i % 7 == 6 { 0xFFFFu16 } else { 999 }).to_le_bytes());
            seed.extend_from_slice(&(20.5f64 + i as f64).to_bits().to_le_bytes());
        }
        seeds.push(seed);
    }
    seeds
}

// ---------------------------------------------------------------------------------------------
// tql_parse

/// Most points a query may produce before the body stops reading it.
const QUERY_POINT_LIMIT: usize = 50_000;

thread_local! {
    static FIXTURE: RefCell<Option<(Scratch, Connection)>> = const { RefCell::new(None) };
}

/// A small TQL database: two labelled float streams, an integer and an unsigned stream, with
/// gaps, negative values and zeros, over about three minutes in milliseconds.
fn with_fixture(f: impl FnOnce(&Connection)) {
    FIXTURE.with(|slot| {
        let mut slot = slot.borrow_mut();
        let (_, conn) = slot.get_or_insert_with(|| {
            let dir = Scratch::new();
            let conn = Connection::new(dir.0.join("db")).unwrap();
            let streams: [(&str, ValueType); 4] = [
                ("temp{room=\"a\",floor=\"1\"}", ValueType::Float64),
                ("temp{room=\"b\",floor=\"2\"}", ValueType::Float64),
                ("requests{code=\"200\"}", ValueType::Integer64),
                ("bytes", ValueType::UInteger64),
            ];
            for (s, (name, value_type)) in streams.iter().enumerate() {
                conn.create_stream(name, *value_type).unwrap();
                let mut inserter = conn.prepare_insert(name).unwrap();
                for i in 0..180i64 {
                    if (i + s as i64) % 17 == 0 {
                        continue; // gaps
                    }
                    let ts = i * 1000 + s as i64 * 250;
                    let value = match value_type {
                        ValueType::Float64 => Value::Float64((i as f64 * 0.37).sin() * 10.0),
                        ValueType::Integer64 => Value::Integer64(i - 90),
                        ValueType::UInteger64 => Value::UInteger64(i as u64 * 1000),
                    };
                    inserter.insert(ts, value).unwrap();
                }
                inserter.flush().unwrap();
            }
            (dir, conn)
        });
        f(conn)
    });
}

/// TQL: the parser over any text (its `Display` must parse back to the same text), then the
/// planner and executor over the fixture database, reading up to a bound of results.
pub fn tql_parse(data: &[u8]) {
    let query = String::from_utf8_lossy(data);
    if let Ok(expr) = nanots::tql::parse(&query) {
        let shown = expr.to_string();
        let again = nanots::tql::parse(&shown)
            .unwrap_or_else(|e| panic!("{query:?} displays as {shown:?}, which fails: {e}"));
        assert_eq!(
            again.to_string(),
            shown,
            "Display of {query:?} does not round-trip"
        );
    }
    let windows = [
        (None, None),
        (Some(30_000), Some(90_000)),
        (Some(5), Some(5)),
    ];
    let window = windows[data.len() % windows.len()];
    with_fixture(|conn| {
        let Ok(mut q) = conn.prepare_query(&query, window.0, window.1) else {
            return;
        };
        let mut n = 0;
        if q.is_scalar() {
            while let Ok(Some(_)) = q.try_next_scalar() {
                n += 1;
                if n > QUERY_POINT_LIMIT {
                    break;
                }
            }
        } else {
            while let Ok(Some(_)) = q.try_next_vector() {
                n += 1;
                if n > QUERY_POINT_LIMIT {
                    break;
                }
            }
        }
    });
}

pub fn tql_parse_seeds() -> Vec<Vec<u8>> {
    [
        "temp",
        "temp{room=\"a\"}",
        "temp{room=~\"a|b\",floor!=\"3\"}",
        "temp{room!~\"c.*\"}[1m]",
        "sum(temp)",
        "avg by (room) (temp)",
        "max(temp)[10s]",
        "min without (floor) (temp)[30s]",
        "count(requests)",
        "topk(3, temp)",
        "bottomk(2, requests)",
        "temp{room=\"a\"} - temp{room=\"b\"}",
        "temp * 2 + 1",
        "-temp ^ 2",
        "requests % 7",
        "requests / 0",
        "bytes - 1",
        "sum(bytes) / count(bytes)",
        "temp > bool 0",
        "(temp + temp) * -(1 - 2)",
        "sum by (room) (temp)[1m]",
        "nosuchmetric",
        "sum(",
        "temp{room=\"a\"",
        "1 + 2 * 3",
        "avg(temp)[1ms]",
        "stddev(temp)",
        "temp offset 1m",
    ]
    .iter()
    .map(|q| q.as_bytes().to_vec())
    .collect()
}

// ---------------------------------------------------------------------------------------------
// csv_line

/// The library side of a CSV import line. The CLI's own line parser (`split_csv`, `parse_row`,
/// `parse_timestamp` in `src/bin/nanots/`) lives in the binary and cannot be reached from here;
/// this covers what the import hands to the library: stream names built from headers and
/// `--stream` (their canonical form must parse back to the same labels), and values, whose
/// printed form must read back unchanged (what an export/import round trip relies on).
pub fn csv_line(data: &[u8]) {
    let line = String::from_utf8_lossy(data);
    let mut cells = line.split(',');
    let first = cells.next().unwrap_or("");
    for name in [first, &line] {
        if let Ok(labels) = parse_stream_name(name) {
            let shown = labels.to_string();
            let again = parse_stream_name(&shown)
                .unwrap_or_else(|e| panic!("{name:?} is shown as {shown:?}, which fails: {e}"));
            assert_eq!(again, labels, "stream name {name:?} does not round-trip");
            assert_eq!(again.to_string(), shown);
        }
    }
    for cell in cells {
        let cell = cell.trim();
        if let Ok(v) = cell.parse::<i64>() {
            assert_eq!(Value::Integer64(v).to_string().parse::<i64>(), Ok(v));
        }
        if let Ok(v) = cell.parse::<u64>() {
            assert_eq!(Value::UInteger64(v).to_string().parse::<u64>(), Ok(v));
        }
        if let Ok(v) = cell.parse::<f64>() {
            let back: f64 = Value::Float64(v).to_string().parse().unwrap();
            assert!(back.to_bits() == v.to_bits() || (v.is_nan() && back.is_nan()));
        }
    }
}

pub fn csv_line_seeds() -> Vec<Vec<u8>> {
    [
        "temperature,21.5,22",
        "temperature{device=\"iot-a\"},1.5e3,-0",
        "cpu{host=\"a\",core=\"1\"},18446744073709551615,-9223372036854775808",
        "m{a='single',b=\"dq\\\"esc\"},NaN,inf",
        "  spaced { x = \"1\" } ,  42 ",
        "bad{,1",
        "m{a=\"1\",a=\"2\"},1",
        "m{a=\"line\\nbreak\\ttab\\\\\"},0.1",
        "_:colon:name,1e-310",
        "2024-01-31T12:00:00Z,1,2,3",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect()
}

/// A target's body.
pub type Body = fn(&[u8]);
/// A target's seed generator.
pub type Seeds = fn() -> Vec<Vec<u8>>;

/// Every target: its name, its body and its seed generator.
pub fn targets() -> [(&'static str, Body, Seeds); 4] {
    [
        ("block_parse", block_parse, block_parse_seeds),
        ("chunk_decode", chunk_decode, chunk_decode_seeds),
        ("tql_parse", tql_parse, tql_parse_seeds),
        ("csv_line", csv_line, csv_line_seeds),
    ]
}
