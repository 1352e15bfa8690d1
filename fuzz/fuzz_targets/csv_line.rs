#![no_main]
//! Fuzz target `csv_line`: the body lives in `fuzz/bodies.rs`, which `tests/fuzz_bodies.rs` also
//! runs over the committed corpus on every `cargo test`.

#[path = "../bodies.rs"]
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| bodies::csv_line(data));
