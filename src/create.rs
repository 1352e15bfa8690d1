//! Creating data files, and freeing blocks by time range.

use std::path::Path;

use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::format::block::max_frame_size;
use crate::format::header::{FEATURE_CRC32C, FileHeader};
use crate::shared::SharedFile;
use crate::storage::{
    FilePaths, GROWABLE_BLOCK_CEILING, GROWABLE_BYTE_CEILING, create_data_file, validate_block_size,
};

/// How to create a data file; `nanots::allocate` and `allocate_growable` cover the usual cases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllocateOptions {
    pub block_size: u64,
    /// Blocks to preallocate now.
    pub blocks: u64,
    /// `Some(cap)` makes the file growable up to `cap` blocks (0 = the engine's ceiling).
    pub growable_cap: Option<u64>,
    /// Replace an existing file (and its catalog, including stale `-wal`/`-shm` files).
    pub overwrite: bool,
}

impl AllocateOptions {
    pub fn fixed(block_size: u64, blocks: u64) -> Self {
        AllocateOptions {
            block_size,
            blocks,
            growable_cap: None,
            overwrite: false,
        }
    }

    pub fn growable(block_size: u64, max_blocks: u64) -> Self {
        AllocateOptions {
            block_size,
            blocks: 1,
            growable_cap: Some(max_blocks),
            overwrite: false,
        }
    }

    pub fn overwrite(mut self, yes: bool) -> Self {
        self.overwrite = yes;
        self
    }
}

/// Creates `<name>.nts` with `n_blocks` preallocated blocks of `block_size` bytes, and its
/// catalog `<name>.db`. Refuses an existing file.
pub fn allocate(path: impl AsRef<Path>, block_size: u64, n_blocks: u64) -> Result<()> {
    allocate_with(path, &AllocateOptions::fixed(block_size, n_blocks))
}

/// Creates a file that starts with one block and grows on demand (doubling, at most 1 GiB at a
/// time) up to `max_blocks` (0 = no cap beyond the engine's ceiling of 2^20 blocks / 1 TiB).
pub fn allocate_growable(path: impl AsRef<Path>, block_size: u64, max_blocks: u64) -> Result<()> {
    allocate_with(path, &AllocateOptions::growable(block_size, max_blocks))
}

pub fn allocate_with(path: impl AsRef<Path>, options: &AllocateOptions) -> Result<()> {
    let paths = FilePaths::new(path.as_ref());
    validate_block_size(options.block_size)?;
    if max_frame_size(options.block_size) == 0 {
        return Err(Error::InvalidBlockSize {
            block_size: options.block_size,
            reason: "too small to hold one frame",
        });
    }
    let ceiling = GROWABLE_BLOCK_CEILING
        .min(GROWABLE_BYTE_CEILING / options.block_size)
        .max(1);
    let (initial, max, growable) = match options.growable_cap {
        None => {
            if options.blocks == 0 {
                return Err(Error::InvalidBlockCount(0));
            }
            (options.blocks, options.blocks, false)
        }
        Some(cap) => {
            let max = if cap == 0 { ceiling } else { cap };
            if max > ceiling {
                return Err(Error::invalid(format!(
                    "a growable file may hold at most {ceiling} blocks of this size"
                )));
            }
            (options.blocks.clamp(1, max), max, true)
        }
    };
    if options.overwrite {
        for file in [&paths.data, &paths.catalog]
            .into_iter()
            .chain(paths.catalog_side_files().iter())
        {
            match std::fs::remove_file(file) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::Io(e)),
            }
        }
    } else {
        for file in [&paths.data, &paths.catalog] {
            if file.exists() {
                return Err(Error::AlreadyExists(file.clone()));
            }
        }
    }
    let header = FileHeader {
        block_size: options.block_size,
        initial_blocks: initial,
        max_blocks: max,
        growable,
        features: FEATURE_CRC32C,
    };
    create_data_file(&paths.data, &header)?;
    // Stale side files of an old catalog would be replayed into the new one.
    for side in paths.catalog_side_files() {
        let _ = std::fs::remove_file(side);
    }
    if let Err(e) = Catalog::create(&paths.catalog, options.block_size, initial) {
        let _ = std::fs::remove_file(&paths.data);
        let _ = std::fs::remove_file(&paths.catalog);
        return Err(e);
    }
    Ok(())
}

/// Frees the finished blocks of stream `tag` that lie entirely inside `[start, end]`. Blocks a
/// reader of this process is using are skipped (they stay for a later call). Returns how many
/// blocks were freed.
pub fn free_blocks(path: impl AsRef<Path>, tag: &str, start: i64, end: i64) -> Result<u64> {
    if start > end {
        return Err(Error::invalid(format!("start {start} is after end {end}")));
    }
    let shared = SharedFile::open(path.as_ref(), true)?;
    let mut catalog = Catalog::open(&shared.paths.catalog, true)?;
    let Some(stream) = catalog.stream(tag)? else {
        return Ok(0);
    };
    let candidates = catalog.finished_blocks_within(stream.id, start, end)?;
    let claimed: Vec<u64> = candidates
        .iter()
        .map(|b| b.index)
        .filter(|&i| shared.pins.try_claim(i))
        .collect();
    if claimed.is_empty() {
        return Ok(0);
    }
    let released = catalog.release_blocks(&claimed);
    for &index in &claimed {
        shared.pins.release_claim(index);
    }
    shared.storage.publish_catalog_version(released?);
    Ok(claimed.len() as u64)
}
