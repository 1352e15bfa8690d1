//! Open-time validation and repair, run by the writer under its lock before anything is
//! written. The catalog says which blocks were in use; the blocks' own bytes say how much of
//! that use survived.

use std::collections::HashMap;

use crate::catalog::{BlockState, Catalog, FinishedBlock};
use crate::error::Result;
use crate::format::block::{BLOCK_HEADER_SIZE, BlockHeader, valid_prefix};
use crate::shared::SharedFile;

/// What recovery found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Blocks left open by an earlier writer.
    pub open_blocks: u64,
    /// Open blocks finished with their true extent.
    pub blocks_finished: u64,
    /// Open or foreign blocks freed because they held nothing valid.
    pub blocks_freed: u64,
    /// Frames kept in open blocks.
    pub frames_kept: u64,
    /// Frames cut from open blocks (torn, corrupt, or counted but never written).
    pub frames_dropped: u64,
    /// Blocks whose header named a use the catalog never recorded; cleared.
    pub orphans_cleared: u64,
    /// Finished blocks whose damaged header was rewritten from the catalog.
    pub headers_repaired: u64,
    /// Catalog rows added for blocks it had no row for.
    pub rows_added: u64,
}

impl RecoveryReport {
    pub fn repaired_anything(&self) -> bool {
        *self != RecoveryReport::default()
    }
}

pub fn recover(shared: &SharedFile, catalog: &mut Catalog) -> Result<RecoveryReport> {
    let storage = &shared.storage;
    let mut report = RecoveryReport::default();
    let block_count = storage.block_count();
    let block_size = storage.block_size() as usize;

    // Catalog rows must cover exactly the file's blocks.
    catalog.drop_blocks_from(block_count)?;
    let rows_before = catalog.block_count_rows()?;
    if rows_before < block_count {
        catalog.add_free_blocks(0, block_count)?;
        report.rows_added = block_count - rows_before;
    }
    let next_generation = catalog.meta("next_generation")?.unwrap_or(1) as u64;
    let rows: HashMap<u64, _> = catalog
        .all_blocks()?
        .into_iter()
        .map(|r| (r.index, r))
        .collect();

    let mut highest_generation = 0;
    for index in 0..block_count {
        let Some(base) = storage.block_ptr(index) else {
            break;
        };
        // SAFETY: the block lies inside the mapping and the file (index < block_count). This
        // process holds the writer lock, so no one else writes these bytes while the slice
        // lives; readers only read.
        let bytes = unsafe { std::slice::from_raw_parts(base as *const u8, block_size) };
        let header = BlockHeader::decode(&bytes[..BLOCK_HEADER_SIZE]);
        if let Some(h) = header {
            highest_generation = highest_generation.max(h.generation);
        }
        let Some(row) = rows.get(&index) else {
            continue;
        };
        match row.state {
            BlockState::Open => {
                report.open_blocks += 1;
                let claimed = storage
                    .commit_count(base)
                    .load(std::sync::atomic::Ordering::Acquire)
                    as usize;
                let prefix = match header {
                    Some(h) if h.generation == row.generation && h.stream_id == row.stream_id => {
                        Some(valid_prefix(bytes, row.generation, claimed))
                    }
                    _ => None,
                };
                let kept = prefix.map_or(0, |p| p.count);
                report.frames_dropped += claimed.saturating_sub(kept) as u64;
                report.frames_kept += kept as u64;
                if kept < claimed && header.is_some() {
                    storage
                        .commit_count(base)
                        .store(kept as u32, std::sync::atomic::Ordering::Release);
                    storage
                        .sync_range(storage.header.block_offset(index), BLOCK_HEADER_SIZE as u64)?;
                }
                match prefix.and_then(|p| Some((p, p.first.zip(p.last)?))) {
                    Some((p, extent)) => {
                        catalog.finish_block(&FinishedBlock {
                            index,
                            extent: Some(extent),
                            frames: p.count as u64,
                            bytes: (block_size - p.data_start) as u64,
                        })?;
                        report.blocks_finished += 1;
                    }
                    None => {
                        catalog.release_blocks(&[index])?;
                        report.blocks_freed += 1;
                    }
                }
            }
            BlockState::Finished => match header {
                // A finished block's frames are checked against the catalog's generation, so a
                // damaged header loses nothing: rewrite it.
                None => {
                    let fresh = BlockHeader {
                        generation: row.generation,
                        stream_id: row.stream_id,
                        sequence: row.seq,
                        segment_id: row.segment_id,
                    };
                    let mut header_bytes = [0u8; BLOCK_HEADER_SIZE];
                    fresh.encode(&mut header_bytes);
                    header_bytes[4..8].copy_from_slice(&(row.frames as u32).to_le_bytes());
                    // SAFETY: as above; this process is the only writer.
                    unsafe {
                        std::ptr::copy_nonoverlapping(
                            header_bytes.as_ptr(),
                            base,
                            BLOCK_HEADER_SIZE,
                        )
                    };
                    storage
                        .sync_range(storage.header.block_offset(index), BLOCK_HEADER_SIZE as u64)?;
                    report.headers_repaired += 1;
                }
                Some(h) if h.generation != row.generation || h.stream_id != row.stream_id => {
                    catalog.release_blocks(&[index])?;
                    report.blocks_freed += 1;
                }
                Some(_) => {
                    // The commit count lies outside the header checksum: restore the catalog's
                    // count as far as the block's frames bear it out.
                    let count = storage.commit_count(base);
                    if count.load(std::sync::atomic::Ordering::Acquire) as u64 != row.frames {
                        let valid = valid_prefix(bytes, row.generation, row.frames as usize).count;
                        count.store(valid as u32, std::sync::atomic::Ordering::Release);
                        storage.sync_range(
                            storage.header.block_offset(index),
                            BLOCK_HEADER_SIZE as u64,
                        )?;
                        report.headers_repaired += 1;
                    }
                }
            },
            BlockState::Free => {
                // A header from a use the catalog never recorded (the claim's commit was lost):
                // clear it so the block cannot be mistaken for data.
                if header.is_some_and(|h| h.generation >= next_generation)
                    && shared.pins.try_claim(index)
                {
                    // SAFETY: as above, and the block is claimed against in-process readers.
                    unsafe { std::ptr::write_bytes(base, 0, BLOCK_HEADER_SIZE) };
                    let synced = storage
                        .sync_range(storage.header.block_offset(index), BLOCK_HEADER_SIZE as u64);
                    shared.pins.release_claim(index);
                    synced?;
                    report.orphans_cleared += 1;
                }
            }
        }
    }
    if highest_generation > 0 {
        catalog.ensure_generation_above(highest_generation)?;
    }
    Ok(report)
}
