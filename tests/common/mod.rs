#![allow(dead_code)]
//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A scratch directory removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("nanots-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A payload anyone can recompute from the stream and key, so readers can check every byte.
pub fn payload(stream: &str, timestamp: i64, len: usize) -> Vec<u8> {
    let mut seed = timestamp as u64 ^ 0x9E37_79B9_7F4A_7C15;
    for b in stream.bytes() {
        seed = seed.rotate_left(5) ^ b as u64;
    }
    (0..len)
        .map(|i| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407 + i as u64);
            (seed >> 56) as u8
        })
        .collect()
}

pub fn collect(reader: &nanots::Reader, tag: &str, start: i64, end: i64) -> Vec<(i64, Vec<u8>)> {
    let mut out = Vec::new();
    reader
        .read(tag, start, end, |f| {
            out.push((f.timestamp, f.data.to_vec()));
            true
        })
        .unwrap();
    out
}
