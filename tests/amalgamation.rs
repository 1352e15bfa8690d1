//! The amalgamated source (`amalgamated/nanots.rs`): it is what the generator produces from
//! the current sources, and a crate that copies it in builds and runs offline.
//!
//! Regenerate with `cargo run --example amalgamate`.

#[allow(dead_code)]
#[path = "../tools/amalgamate.rs"]
mod amalgamate;

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn committed_amalgamation_is_fresh() {
    let fresh = amalgamate::generate(root()).unwrap();
    for (path, text) in [
        (amalgamate::SOURCE_PATH, &fresh.source),
        (amalgamate::DEPENDENCIES_PATH, &fresh.dependencies),
    ] {
        let committed = std::fs::read_to_string(root().join(path)).unwrap_or_default();
        if committed != *text {
            let line = committed
                .lines()
                .zip(text.lines())
                .position(|(a, b)| a != b)
                .map_or_else(
                    || "the line counts".to_string(),
                    |n| format!("line {}", n + 1),
                );
            panic!(
                "{path} is stale (first difference at {line}): regenerate it with `{}`",
                amalgamate::COMMAND
            );
        }
    }
}

#[test]
fn the_generator_inlines_modules_and_rewrites_crate_paths_only_in_code() {
    let source = amalgamate::generate(root()).unwrap().source;
    assert!(source.contains("pub mod format {"));
    assert!(source.contains("pub mod block {"));
    assert!(source.contains("use crate::nanots::error::"));
    assert!(!source.contains("#[cfg(test)]"), "test code left in");
    assert!(!source.contains("loom"), "loom code left in");
    // Every `mod x;` was inlined.
    for line in source.lines() {
        let line = line.trim();
        assert!(
            !(line.starts_with("mod ")
                || line.starts_with("pub mod ")
                || line.starts_with("pub(crate) mod "))
                || !line.ends_with(';'),
            "not inlined: {line}"
        );
    }
}

/// The expected output of `amalgamated/example_main.rs`.
const EXPECTED_OUTPUT: &str = "\
read back 100 frames
seek to 2010 lands on t=2040 \"frame 51\" (metadata \"codec=h264\")
one back: t=2000
max by (room) (temperature): {room=\"lab\"} = 24.5
max by (room) (temperature): {room=\"office\"} = 26.5
temperature{room=\"lab\"} from 10 s to 12 s: [10000, 11000, 12000] Float64([20.0, 20.5, 21.0])
";

/// Builds a scratch crate made of the amalgamated file, the dependency lines and the example
/// program, offline, against nanots's own `Cargo.lock`, and runs it. The crate and its target
/// directory live under `target/amalgam-check`, so later runs are incremental (the first one
/// compiles SQLite).
#[test]
fn a_crate_that_copies_the_amalgamation_in_builds_and_runs_offline() {
    let work = root().join("target/amalgam-check");
    let krate = work.join("crate");
    std::fs::create_dir_all(krate.join("src")).unwrap();
    let dependencies = std::fs::read_to_string(root().join(amalgamate::DEPENDENCIES_PATH)).unwrap();
    let manifest = format!(
        "[package]\nname = \"nanots-amalgam-check\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         # Not part of any enclosing workspace.\n[workspace]\n\n{dependencies}"
    );
    write_if_changed(&krate.join("Cargo.toml"), manifest.as_bytes());
    for (from, to) in [
        (amalgamate::SOURCE_PATH, "src/nanots.rs"),
        ("amalgamated/example_main.rs", "src/main.rs"),
        ("Cargo.lock", "Cargo.lock"),
    ] {
        let bytes = std::fs::read(root().join(from)).unwrap();
        write_if_changed(&krate.join(to), &bytes);
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["run", "--offline", "--quiet"])
        .current_dir(&krate)
        .env("CARGO_TARGET_DIR", work.join("target"))
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the scratch crate failed to build or run:\n{stderr}\n{stdout}"
    );
    assert!(
        !stderr.contains("warning"),
        "the amalgamated source builds with warnings:\n{stderr}"
    );
    assert_eq!(stdout, EXPECTED_OUTPUT);
}

/// Writes only when the bytes differ, so cargo's fingerprints (mtimes) stay valid.
fn write_if_changed(path: &PathBuf, bytes: &[u8]) {
    if std::fs::read(path).ok().as_deref() != Some(bytes) {
        std::fs::write(path, bytes).unwrap();
    }
}
