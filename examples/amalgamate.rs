//! Writes the amalgamated source `amalgamated/nanots.rs` and `amalgamated/dependencies.toml`:
//!
//! ```text
//! cargo run --example amalgamate
//! ```
//!
//! The generator itself is `tools/amalgamate.rs` (std only), which `tests/amalgamation.rs` also
//! uses to check that the committed files are fresh.

#[path = "../tools/amalgamate.rs"]
mod amalgamate;

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    match amalgamate::write(root) {
        Ok(()) => println!(
            "wrote {} and {}",
            amalgamate::SOURCE_PATH,
            amalgamate::DEPENDENCIES_PATH
        ),
        Err(e) => {
            eprintln!("amalgamate: {e}");
            std::process::exit(1);
        }
    }
}
