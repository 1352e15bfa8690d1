//! Runs the fuzz targets' bodies (`fuzz/bodies.rs`, shared with `fuzz/fuzz_targets/`) over the
//! committed corpus (`fuzz/corpus/<target>/`) and over proptest inputs, so every `cargo test`
//! covers what the fuzzers found and checks.
//!
//! `cargo test --test fuzz_bodies -- --ignored write_seed_corpus` regenerates the seed files
//! (`seed-*`) of the corpus from the bodies' seed generators; files found by fuzzing sit beside
//! them under other names and are kept.

#[path = "../fuzz/bodies.rs"]
mod bodies;

use std::path::{Path, PathBuf};

use proptest::prelude::*;

fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target)
}

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(corpus_dir(target))
        .unwrap_or_else(|e| panic!("fuzz/corpus/{target}: {e}"))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    files.sort();
    files
}

fn run_corpus(target: &str) {
    let (_, body, _) = bodies::targets()
        .into_iter()
        .find(|(name, _, _)| *name == target)
        .unwrap();
    let files = corpus(target);
    assert!(
        files.len() >= 5,
        "fuzz/corpus/{target} has only {} files",
        files.len()
    );
    for (path, bytes) in &files {
        let result = std::panic::catch_unwind(|| body(bytes));
        if let Err(panic) = result {
            eprintln!("corpus file {} failed", path.display());
            std::panic::resume_unwind(panic);
        }
    }
}

#[test]
fn block_parse_corpus() {
    run_corpus("block_parse");
}

#[test]
fn chunk_decode_corpus() {
    run_corpus("chunk_decode");
}

#[test]
fn tql_parse_corpus() {
    run_corpus("tql_parse");
}

#[test]
fn csv_line_corpus() {
    run_corpus("csv_line");
}

/// A seed with a few bytes changed: random mutations reach far deeper than random bytes.
fn mutated(seeds: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    let count = seeds.len();
    (
        0..count,
        proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8),
    )
        .prop_map(move |(i, edits)| {
            let mut bytes = seeds[i].clone();
            for (at, value, kind) in edits {
                if bytes.is_empty() {
                    bytes.push(value);
                    continue;
                }
                let at = at.index(bytes.len());
                match kind {
                    0 => bytes[at] ^= value | 1,
                    1 => bytes.truncate(at.max(1)),
                    _ => bytes.insert(at, value),
                }
            }
            bytes
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn block_parse_mutations(bytes in mutated(bodies::block_parse_seeds())) {
        bodies::block_parse(&bytes);
    }

    #[test]
    fn block_parse_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..6000)) {
        bodies::block_parse(&bytes);
    }

    #[test]
    fn chunk_decode_mutations(bytes in mutated(bodies::chunk_decode_seeds())) {
        bodies::chunk_decode(&bytes);
    }

    #[test]
    fn chunk_decode_random_points(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let mut bytes = bytes;
        if let Some(first) = bytes.first_mut() {
            *first |= 1;
        }
        bodies::chunk_decode(&bytes);
    }

    #[test]
    fn tql_parse_mutations(bytes in mutated(bodies::tql_parse_seeds())) {
        bodies::tql_parse(&bytes);
    }

    #[test]
    fn tql_parse_token_soup(parts in proptest::collection::vec(
        prop::sample::select(vec![
            "temp", "requests", "bytes", "sum", "avg", "max", "min", "count", "topk", "by",
            "without", "bool", "(", ")", "{", "}", "[", "]", ",", "=", "!=", "=~", "!~", "+",
            "-", "*", "/", "%", "^", ">", "<", "==", "1", "0", "2.5", "1e308", "-1", "1m",
            "10s", "1ms", "\"a\"", "room", "floor", " ",
        ]),
        0..24,
    )) {
        bodies::tql_parse(parts.concat().as_bytes());
    }

    #[test]
    fn csv_line_mutations(bytes in mutated(bodies::csv_line_seeds())) {
        bodies::csv_line(&bytes);
    }
}

/// Writes the seed corpus (`fuzz/corpus/<target>/seed-NN`) from the seed generators.
#[test]
#[ignore = "run by hand to regenerate the committed seed corpus"]
fn write_seed_corpus() {
    for (target, _, seeds) in bodies::targets() {
        let dir = corpus_dir(target);
        std::fs::create_dir_all(&dir).unwrap();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("seed-")
            {
                std::fs::remove_file(path).unwrap();
            }
        }
        for (i, seed) in seeds().into_iter().enumerate() {
            std::fs::write(dir.join(format!("seed-{i:02}")), seed).unwrap();
        }
    }
}
