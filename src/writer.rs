//! The writer: one per file (an OS lock enforces it across processes), any number of write
//! contexts, one per live stream. A context owns its current block outright, so appending a
//! frame takes no lock: copy the payload, write the index entry, publish with a release store
//! of the commit count. Locks are taken only at block transitions.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::catalog::{Catalog, ClaimedBlock, FinishedBlock};
use crate::error::{Error, Result};
use crate::format::block::{
    BLOCK_HEADER_SIZE, BlockHeader, ENTRY_SIZE, IndexEntry, Key, entry_offset, fits, max_entries,
    max_frame_size,
};
use crate::recovery::{RecoveryReport, recover};
use crate::shared::SharedFile;
use crate::storage::WriterLock;

/// When written frames are forced to disk. Whatever the mode, a block's frames are synced
/// before the catalog records the block as finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// Sync when a block is finished and on `flush()` (the default).
    #[default]
    BlockBoundary,
    /// Sync after every frame: nothing acknowledged is ever lost, at a large cost in speed.
    EveryFrame,
    /// Sync once at least this many bytes were written since the last sync.
    EveryBytes(u64),
    /// Sync on the first write after this much time passed since the last sync.
    Interval(Duration),
    /// Never sync frames within a block; the OS writes them back when it likes. A finished
    /// block and `flush()` still sync.
    Never,
}

/// Called after every data file sync with the synced byte range; used by power-loss tests to
/// know what a real power cut would have kept.
pub type SyncObserver = Arc<dyn Fn(u64, u64) + Send + Sync>;

/// How a writer behaves.
#[derive(Clone, Default)]
pub struct WriterOptions {
    /// Reuse the oldest finished block when no block is free.
    pub auto_reclaim: bool,
    pub durability: Durability,
    pub sync_observer: Option<SyncObserver>,
}

impl WriterOptions {
    pub fn auto_reclaim(mut self, on: bool) -> Self {
        self.auto_reclaim = on;
        self
    }

    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    pub fn sync_observer(mut self, observer: SyncObserver) -> Self {
        self.sync_observer = Some(observer);
        self
    }
}

impl std::fmt::Debug for WriterOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriterOptions")
            .field("auto_reclaim", &self.auto_reclaim)
            .field("durability", &self.durability)
            .finish()
    }
}

struct WriterInner {
    shared: Arc<SharedFile>,
    catalog: Mutex<Catalog>,
    live_streams: Mutex<HashSet<String>>,
    options: WriterOptions,
    _lock: WriterLock,
}

/// The writer of one data file. Cheap to share between threads (`&Writer` is enough to create
/// write contexts).
pub struct Writer {
    inner: Arc<WriterInner>,
    recovery: RecoveryReport,
}

impl Writer {
    /// Opens `path` for writing with default durability: takes the writer lock, then recovers
    /// whatever an earlier writer left unfinished.
    pub fn open(path: impl AsRef<Path>, auto_reclaim: bool) -> Result<Writer> {
        Writer::open_with(path, WriterOptions::default().auto_reclaim(auto_reclaim))
    }

    pub fn open_with(path: impl AsRef<Path>, options: WriterOptions) -> Result<Writer> {
        let paths = crate::storage::FilePaths::new(path.as_ref());
        let lock = WriterLock::acquire(&paths.data)?;
        let shared = SharedFile::open(&paths.data, true)?;
        if !shared.storage.writable {
            return Err(Error::CantOpen {
                path: paths.data.clone(),
                source: std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    "data file is read-only",
                ),
            });
        }
        let mut catalog = Catalog::open(&paths.catalog, true)?;
        let recovery = recover(&shared, &mut catalog)?;
        shared.storage.publish_catalog_version(catalog.version()?);
        Ok(Writer {
            inner: Arc::new(WriterInner {
                shared,
                catalog: Mutex::new(catalog),
                live_streams: Mutex::new(HashSet::new()),
                options,
                _lock: lock,
            }),
            recovery,
        })
    }

    /// Whether a write context for `stream_tag` is alive.
    pub fn has_live_context(&self, stream_tag: &str) -> bool {
        self.inner.live_streams.lock().contains(stream_tag)
    }

    /// What recovery found and repaired when this writer opened the file.
    pub fn recovery_report(&self) -> &RecoveryReport {
        &self.recovery
    }

    /// Starts writing stream `stream_tag` as a new segment carrying `metadata`.
    pub fn create_write_context(&self, stream_tag: &str, metadata: &str) -> Result<WriteContext> {
        if !self
            .inner
            .live_streams
            .lock()
            .insert(stream_tag.to_string())
        {
            return Err(Error::DuplicateStream(stream_tag.to_string()));
        }
        let started = self
            .inner
            .catalog
            .lock()
            .begin_segment(stream_tag, metadata);
        let (stream, segment_id) = match started {
            Ok(v) => v,
            Err(e) => {
                self.inner.live_streams.lock().remove(stream_tag);
                return Err(e);
            }
        };
        Ok(WriteContext {
            inner: self.inner.clone(),
            tag: stream_tag.to_string(),
            stream_id: stream.id,
            segment_id,
            block: None,
            last_key: stream.last,
            unsynced_bytes: 0,
            last_sync: Instant::now(),
            max_frame: max_frame_size(self.inner.shared.storage.block_size()),
        })
    }
}

/// The block a write context is filling.
struct ActiveBlock {
    index: u64,
    generation: u64,
    base: *mut u8,
    count: usize,
    data_start: usize,
    first: Option<Key>,
    last: Option<Key>,
    payload_bytes: u64,
    synced_data_start: usize,
}

/// Writes one stream. Not `Sync`: use it from one thread at a time (it may move between
/// threads). Dropping it finishes and syncs its block; `close` does the same and reports errors.
pub struct WriteContext {
    inner: Arc<WriterInner>,
    tag: String,
    stream_id: u64,
    segment_id: u64,
    block: Option<ActiveBlock>,
    last_key: Option<Key>,
    unsynced_bytes: u64,
    last_sync: Instant,
    max_frame: usize,
}

// SAFETY: the raw block pointer points into the mapping owned by `inner.shared`, which the
// context keeps alive; the block is claimed for this context alone, so moving the context to
// another thread moves exclusive ownership of those bytes with it.
unsafe impl Send for WriteContext {}

impl WriteContext {
    pub fn stream_tag(&self) -> &str {
        &self.tag
    }

    /// The largest frame this file accepts.
    pub fn max_frame_size(&self) -> usize {
        self.max_frame
    }

    /// The last key written to this stream (by this or an earlier context).
    pub fn last_key(&self) -> Option<Key> {
        self.last_key
    }

    /// Appends a frame with secondary key 0.
    pub fn write(&mut self, data: &[u8], timestamp: i64, flags: u32) -> Result<()> {
        self.write_with_key(data, timestamp, 0, flags)
    }

    /// Appends a frame. `(timestamp, secondary_key)` must be greater than the stream's last key.
    pub fn write_with_key(
        &mut self,
        data: &[u8],
        timestamp: i64,
        secondary_key: u64,
        flags: u32,
    ) -> Result<()> {
        let key = Key::new(timestamp, secondary_key);
        if let Some(last) = self.last_key
            && key <= last
        {
            return Err(Error::NonMonotonicTimestamp {
                stream: self.tag.clone(),
                last: (last.timestamp, last.secondary_key),
                given: (timestamp, secondary_key),
            });
        }
        if data.len() > self.max_frame {
            return Err(Error::FrameTooLarge {
                size: data.len(),
                max: self.max_frame,
            });
        }
        let block_size = self.inner.shared.storage.block_size();
        let has_room = self.block.as_ref().is_some_and(|b| {
            b.count < max_entries(block_size) && fits(b.count, b.data_start, data.len())
        });
        if !has_room {
            self.start_next_block()?;
        }
        let Some(block) = self.block.as_mut() else {
            return Err(Error::corrupt("write context lost its block"));
        };
        let offset = block.data_start - data.len();
        let entry = IndexEntry::new(block.generation, key, offset as u32, flags, data);
        let mut entry_bytes = [0u8; ENTRY_SIZE];
        entry.encode(&mut entry_bytes);
        // SAFETY: `fits` guaranteed [offset, data_start) and the entry slot lie inside the
        // block and do not overlap each other or any published frame; the block belongs to
        // this context alone, and readers do not read past the commit count published below.
        unsafe {
            std::ptr::copy_nonoverlapping(data.as_ptr(), block.base.add(offset), data.len());
            std::ptr::copy_nonoverlapping(
                entry_bytes.as_ptr(),
                block.base.add(entry_offset(block.count)),
                ENTRY_SIZE,
            );
        }
        block.count += 1;
        self.inner
            .shared
            .storage
            .commit_count(block.base)
            .store(block.count as u32, std::sync::atomic::Ordering::Release);
        block.data_start = offset;
        block.first.get_or_insert(key);
        block.last = Some(key);
        block.payload_bytes += data.len() as u64;
        self.last_key = Some(key);
        self.unsynced_bytes += (data.len() + ENTRY_SIZE) as u64;
        match self.inner.options.durability {
            Durability::EveryFrame => self.sync_block(),
            Durability::EveryBytes(n) if self.unsynced_bytes >= n => self.sync_block(),
            Durability::Interval(every) if self.last_sync.elapsed() >= every => self.sync_block(),
            _ => Ok(()),
        }
    }

    /// Makes every frame written so far durable.
    pub fn flush(&mut self) -> Result<()> {
        self.sync_block()
    }

    /// Finishes the current block (synced, recorded in the catalog) and ends the context.
    pub fn close(mut self) -> Result<()> {
        self.finish_block()
    }

    fn sync_block(&mut self) -> Result<()> {
        let storage = &self.inner.shared.storage;
        let Some(block) = self.block.as_mut() else {
            return Ok(());
        };
        let base = storage.header.block_offset(block.index);
        // Two ranges: the header (commit count) with the index entries, then the new payloads.
        // Pages synced before are clean, so msync skips them cheaply.
        let ranges = [
            (base, entry_offset(block.count) as u64),
            (
                base + block.data_start as u64,
                (block.synced_data_start - block.data_start) as u64,
            ),
        ];
        for (offset, len) in ranges {
            self.inner.sync(offset, len)?;
        }
        block.synced_data_start = block.data_start;
        self.unsynced_bytes = 0;
        self.last_sync = Instant::now();
        Ok(())
    }

    /// Syncs the current block and hands it back for the catalog to record as finished.
    fn take_finished_block(&mut self) -> Result<Option<FinishedBlock>> {
        if self.block.is_none() {
            return Ok(None);
        }
        // Synced in every mode, `Never` included: the catalog is about to record the block as
        // finished and recovery trusts finished blocks; an unsynced one would leave a hole after
        // a power cut, with the stream's recorded last key ahead of its data.
        self.sync_block()?;
        Ok(self.block.take().map(|block| FinishedBlock {
            index: block.index,
            extent: block.first.zip(block.last),
            frames: block.count as u64,
            bytes: block.payload_bytes,
        }))
    }

    fn finish_block(&mut self) -> Result<()> {
        match self.take_finished_block()? {
            Some(finished) => self
                .inner
                .record_finish(&mut self.inner.catalog.lock(), &finished),
            None => Ok(()),
        }
    }

    fn start_next_block(&mut self) -> Result<()> {
        // The old block is finished in the same catalog transaction that claims the new one:
        // one durable commit per block transition instead of two.
        let finished = self.take_finished_block()?;
        let claimed = self
            .inner
            .claim_block(self.stream_id, self.segment_id, finished.as_ref())?;
        let storage = &self.inner.shared.storage;
        let Some(base) = storage.block_ptr(claimed.index) else {
            return Err(Error::corrupt(format!(
                "claimed block {} is outside the file",
                claimed.index
            )));
        };
        let block_size = storage.block_size() as usize;
        self.block = Some(ActiveBlock {
            index: claimed.index,
            generation: claimed.generation,
            base,
            count: 0,
            data_start: block_size,
            first: None,
            last: None,
            payload_bytes: 0,
            synced_data_start: block_size,
        });
        Ok(())
    }
}

impl Drop for WriteContext {
    fn drop(&mut self) {
        // Errors cannot be reported from drop; recovery settles the block on the next open.
        let _ = self.finish_block();
        self.inner.live_streams.lock().remove(&self.tag);
    }
}

impl WriterInner {
    fn sync(&self, offset: u64, len: u64) -> Result<()> {
        if len == 0 {
            return Ok(());
        }
        self.shared.storage.sync_range(offset, len)?;
        if let Some(observer) = &self.options.sync_observer {
            observer(offset, len);
        }
        Ok(())
    }

    /// Finds a block for a stream — a free one, a new one if the file can grow, else the oldest
    /// finished one if auto-reclaim is on — and prepares it: catalog first, then a new header
    /// synced before any frame is written.
    fn claim_block(
        &self,
        stream_id: u64,
        segment_id: u64,
        finishing: Option<&FinishedBlock>,
    ) -> Result<ClaimedBlock> {
        let mut catalog = self.catalog.lock();
        let claimed = self.find_and_claim(&mut catalog, stream_id, segment_id, finishing);
        let claimed = match claimed {
            Ok(claimed) => claimed,
            Err(e) => {
                // The old block must still be recorded as finished.
                if let Some(finished) = finishing {
                    self.record_finish(&mut catalog, finished)?;
                }
                return Err(e);
            }
        };
        drop(catalog);
        let storage = &self.shared.storage;
        // Readers may use the block as soon as its new header is in place (it holds no frames
        // yet); the sync that makes the header durable does not need to keep them out.
        let prepared = self.write_block_header(&claimed, stream_id, segment_id);
        self.shared.pins.release_claim(claimed.index);
        prepared?;
        // A block never used before holds only the zeros of preallocation: there are no old
        // frames to retire, so its header need not be durable before frames are written (the
        // first sync of the block covers it).
        if !claimed.fresh {
            self.sync(
                storage.header.block_offset(claimed.index),
                BLOCK_HEADER_SIZE as u64,
            )?;
        }
        storage.publish_catalog_version(claimed.version);
        // Faulting a large block in takes milliseconds: do it beside the writer, not on its path.
        if storage.block_size() >= 1 << 20 {
            let shared = self.shared.clone();
            let index = claimed.index;
            let spawned = std::thread::Builder::new()
                .name("nanots-prefault".into())
                .spawn(move || shared.storage.prefault_block(index));
            if spawned.is_err() {
                storage.prefault_block(claimed.index);
            }
        } else {
            storage.prefault_block(claimed.index);
        }
        Ok(claimed)
    }

    fn record_finish(&self, catalog: &mut Catalog, finished: &FinishedBlock) -> Result<()> {
        let version = match finished.extent {
            Some(_) => catalog.finish_block(finished)?,
            // Nothing was written: give the block back.
            None => catalog.release_blocks(&[finished.index])?,
        };
        self.shared.storage.publish_catalog_version(version);
        Ok(())
    }

    /// Picks a block and records the claim (with `finishing`, if any, in the same transaction).
    fn find_and_claim(
        &self,
        catalog: &mut Catalog,
        stream_id: u64,
        segment_id: u64,
        finishing: Option<&FinishedBlock>,
    ) -> Result<ClaimedBlock> {
        let storage = &self.shared.storage;
        let pins = &self.shared.pins;
        // An empty finishing block is released on its own, not folded into the claim.
        let finishing = match finishing {
            Some(f) if f.extent.is_none() => {
                self.record_finish(catalog, f)?;
                None
            }
            other => other,
        };
        loop {
            // A free block may still be pinned by a reader with an older directory.
            let free = catalog.free_blocks(64)?;
            if let Some(&index) = free.iter().find(|&&i| pins.try_claim(i)) {
                return self.record_claim(catalog, index, false, stream_id, segment_id, finishing);
            }
            if free.is_empty()
                && let Some(new_count) = storage.next_growth()
            {
                let old_count = storage.block_count();
                storage.grow_to(new_count)?;
                let version = catalog.add_free_blocks(old_count, new_count)?;
                storage.publish_catalog_version(version);
                continue;
            }
            if self.options.auto_reclaim {
                let candidates = catalog.oldest_finished_blocks(64)?;
                if let Some(victim) = candidates.iter().find(|b| pins.try_claim(b.index)) {
                    return self.record_claim(
                        catalog,
                        victim.index,
                        true,
                        stream_id,
                        segment_id,
                        finishing,
                    );
                }
            }
            return Err(Error::NoFreeBlocks);
        }
    }

    fn record_claim(
        &self,
        catalog: &mut Catalog,
        index: u64,
        reclaim: bool,
        stream_id: u64,
        segment_id: u64,
        finishing: Option<&FinishedBlock>,
    ) -> Result<ClaimedBlock> {
        catalog
            .claim_block(index, reclaim, stream_id, segment_id, finishing)
            .inspect_err(|_| {
                self.shared.pins.release_claim(index);
            })
    }

    /// Writes the block's new header (commit count 0, new generation), which retires every
    /// frame of the block's earlier use: their checksums name the old generation.
    fn write_block_header(
        &self,
        claimed: &ClaimedBlock,
        stream_id: u64,
        segment_id: u64,
    ) -> Result<()> {
        let storage = &self.shared.storage;
        let Some(base) = storage.block_ptr(claimed.index) else {
            return Err(Error::corrupt(format!(
                "block {} is outside the file",
                claimed.index
            )));
        };
        let header = BlockHeader {
            generation: claimed.generation,
            stream_id,
            sequence: claimed.seq,
            segment_id,
        };
        let mut bytes = [0u8; BLOCK_HEADER_SIZE];
        header.encode(&mut bytes);
        storage
            .commit_count(base)
            .store(0, std::sync::atomic::Ordering::Release);
        storage
            .generation_word(base)
            .store(claimed.generation, std::sync::atomic::Ordering::Release);
        // SAFETY: the block is claimed (no in-process reader holds it) and lies inside the
        // mapping; bytes 0..4 and 16..64 are plain header fields, the atomic words at 4..16
        // were stored just above.
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), base, 4);
            std::ptr::copy_nonoverlapping(
                bytes.as_ptr().add(16),
                base.add(16),
                BLOCK_HEADER_SIZE - 16,
            );
        }
        self.sync(
            storage.header.block_offset(claimed.index),
            BLOCK_HEADER_SIZE as u64,
        )
    }
}
