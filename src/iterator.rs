//! Reading frames: a bidirectional, seekable iterator over one stream. Seeks are two binary
//! searches in memory (block, then index entry). Every frame is copied out of the mapping and
//! then validated (placement, checksum with the block's generation, generation unchanged after
//! the copy), so a block reused under the reader is detected instead of returned.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::directory::{BlockRef, StreamDir};
use crate::error::{Error, Result};
use crate::format::block::{ENTRY_SIZE, IndexEntry, Key, entry_offset, max_entries};
use crate::shared::SharedFile;

/// A frame, borrowed from the iterator that read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    pub data: &'a [u8],
    pub timestamp: i64,
    pub secondary_key: u64,
    pub flags: u32,
    /// The per-stream sequence number of the block holding the frame.
    pub block_sequence: u64,
    /// The metadata of the write context (segment) that wrote the frame.
    pub metadata: &'a str,
}

impl Frame<'_> {
    pub fn key(&self) -> Key {
        Key::new(self.timestamp, self.secondary_key)
    }

    pub fn to_owned(&self) -> OwnedFrame {
        OwnedFrame {
            data: self.data.to_vec(),
            timestamp: self.timestamp,
            secondary_key: self.secondary_key,
            flags: self.flags,
            block_sequence: self.block_sequence,
            metadata: self.metadata.to_string(),
        }
    }
}

/// A frame that owns its bytes, as yielded by the `Iterator` implementation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedFrame {
    pub data: Vec<u8>,
    pub timestamp: i64,
    pub secondary_key: u64,
    pub flags: u32,
    pub block_sequence: u64,
    pub metadata: String,
}

/// Raw, bounds-checked access to one block of the mapping.
pub(crate) struct BlockAccess<'a> {
    shared: &'a SharedFile,
    base: *mut u8,
}

impl<'a> BlockAccess<'a> {
    pub fn new(shared: &'a SharedFile, index: u64) -> Option<BlockAccess<'a>> {
        shared
            .storage
            .block_ptr(index)
            .map(|base| BlockAccess { shared, base })
    }

    /// Published frames, capped by what a block can hold whatever the word says.
    pub fn count(&self) -> usize {
        let published = self
            .shared
            .storage
            .commit_count(self.base)
            .load(Ordering::Acquire) as usize;
        published.min(max_entries(self.shared.storage.block_size()))
    }

    pub fn generation(&self) -> u64 {
        self.shared
            .storage
            .generation_word(self.base)
            .load(Ordering::Acquire)
    }

    /// Index entry `index`; callers keep `index < count()`.
    pub fn entry(&self, index: usize) -> IndexEntry {
        let mut bytes = [0u8; ENTRY_SIZE];
        // SAFETY: index < max_entries, so the entry lies inside the block, which lies inside
        // the mapping. The bytes are copied, never referenced: a writer in another process may
        // rewrite a reused block at any time, and the copy is validated before use.
        unsafe {
            std::ptr::copy_nonoverlapping(
                self.base.add(entry_offset(index)),
                bytes.as_mut_ptr(),
                ENTRY_SIZE,
            );
        }
        IndexEntry::decode(&bytes)
    }

    /// First entry in `0..count` whose key is >= `key`.
    pub fn lower_bound(&self, key: Key, count: usize) -> usize {
        let (mut lo, mut hi) = (0, count);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.entry(mid).key < key {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// Copies frame `index` into `buf` and validates it; `None` if it is not a frame of
    /// `generation` (torn, corrupt, or the block was reused).
    pub fn copy_frame(
        &self,
        index: usize,
        generation: u64,
        buf: &mut Vec<u8>,
    ) -> Option<IndexEntry> {
        let block_size = self.shared.storage.block_size() as usize;
        let entry = self.entry(index);
        let offset = entry.offset as usize;
        let end = offset.checked_add(entry.length as usize)?;
        if end > block_size || offset < entry_offset(index + 1) {
            return None;
        }
        buf.clear();
        buf.reserve(entry.length as usize);
        // SAFETY: [offset, end) lies inside the block (checked above); `buf` has room for
        // `length` bytes (reserved above) and does not overlap the mapping. Copied, not
        // referenced, for the reason given in `entry`.
        unsafe {
            std::ptr::copy_nonoverlapping(
                self.base.add(offset),
                buf.as_mut_ptr(),
                entry.length as usize,
            );
            buf.set_len(entry.length as usize);
        }
        // Orders the copy before the generation re-check (the reader half of a seqlock; the
        // writer fences after storing a new generation).
        std::sync::atomic::fence(Ordering::Acquire);
        if entry.expected_checksum(generation, buf) != entry.checksum
            || self.generation() != generation
        {
            return None;
        }
        Some(entry)
    }

    /// A copy of the whole block.
    pub fn copy_block(&self) -> Vec<u8> {
        let len = self.shared.storage.block_size() as usize;
        let mut bytes = vec![0u8; len];
        // SAFETY: the block lies inside the mapping; copied, not referenced (see `entry`).
        unsafe { std::ptr::copy_nonoverlapping(self.base, bytes.as_mut_ptr(), len) };
        bytes
    }

    /// First and last keys of the published frames, read without validation (for listings).
    pub fn extent(&self) -> Option<(Key, Key)> {
        let count = self.count();
        (count > 0).then(|| (self.entry(0).key, self.entry(count - 1).key))
    }
}

/// A block's first and last key: from the catalog once finished, read live while open (`None`
/// when it holds no frame or was reused since the directory was read).
pub(crate) fn block_extent(shared: &SharedFile, block: &BlockRef) -> Option<(Key, Key)> {
    match (block.first, block.last) {
        (Some(first), Some(last)) if !block.open => Some((first, last)),
        _ => BlockAccess::new(shared, block.index)
            .filter(|a| a.generation() == block.generation)
            .and_then(|a| a.extent()),
    }
}

/// Where a navigation that finds nothing leaves the iterator: the next `next()` looks at or
/// after `resume`, the next `prev()` before it.
#[derive(Debug, Clone, Copy)]
struct Position {
    block: usize,
    entry: usize,
}

#[derive(Debug, Clone)]
struct Current {
    key: Key,
    flags: u32,
    block_sequence: u64,
    metadata: Arc<str>,
}

/// How many times a navigation reads the directory (the first time, then forced reloads) after
/// finding blocks reused under it. When blocks keep disappearing faster than the catalog says
/// where their data went, the frames sought are being destroyed: the navigation then reports
/// no frame, like at the live tail, and a later call looks again.
const MAX_ATTEMPTS: usize = 3;

enum PinOutcome {
    Held,
    /// The block is being set up for the use the directory names: no frames yet.
    Preparing,
    Reused,
}

enum Step {
    Found,
    NotFound,
    /// The block was reused or freed since the directory was read: its frames are gone.
    Reused,
    /// A frame of the expected generation failed validation: corrupt, unless a fresh
    /// directory says otherwise.
    Invalid,
}

/// A bidirectional iterator over one stream, positioned on a frame or invalid.
///
/// It follows the stream live: frames appended after it was created are visible, also in
/// blocks it already visited, and `next()` after running off the end picks up new frames.
pub struct FrameIterator {
    shared: Arc<SharedFile>,
    tag: String,
    stream: Option<Arc<StreamDir>>,
    /// The directory version `stream` was taken from.
    stream_version: Option<u64>,
    pinned: Option<u64>,
    position: Option<Position>,
    current: Option<Current>,
    /// Where `next()` looks when the iterator is invalid; `None` once past the largest key.
    resume: Option<Key>,
    buf: Vec<u8>,
}

impl FrameIterator {
    pub(crate) fn new(shared: Arc<SharedFile>, tag: &str) -> Result<FrameIterator> {
        let mut it = FrameIterator {
            shared,
            tag: tag.to_string(),
            stream: None,
            stream_version: None,
            pinned: None,
            position: None,
            current: None,
            resume: Some(Key::MIN),
            buf: Vec::new(),
        };
        // A damaged first frame must not make the whole stream unreachable: the iterator comes
        // back invalid, seeks still work, and the first `next()` reports the damage.
        match it.reset() {
            Ok(_) | Err(Error::Corrupt(_)) => Ok(it),
            Err(e) => Err(e),
        }
    }

    pub fn valid(&self) -> bool {
        self.current.is_some()
    }

    /// The frame the iterator is on.
    pub fn frame(&self) -> Option<Frame<'_>> {
        self.current.as_ref().map(|c| Frame {
            data: &self.buf,
            timestamp: c.key.timestamp,
            secondary_key: c.key.secondary_key,
            flags: c.flags,
            block_sequence: c.block_sequence,
            metadata: &c.metadata,
        })
    }

    /// Moves to the first frame.
    pub fn reset(&mut self) -> Result<bool> {
        self.seek_at_or_after(Key::MIN)
    }

    /// Moves to the first frame with timestamp >= `timestamp`.
    pub fn find(&mut self, timestamp: i64) -> Result<bool> {
        self.seek_at_or_after(Key::new(timestamp, 0))
    }

    /// Moves to the first frame with key >= `(timestamp, secondary_key)`.
    pub fn find_key(&mut self, timestamp: i64, secondary_key: u64) -> Result<bool> {
        self.seek_at_or_after(Key::new(timestamp, secondary_key))
    }

    /// Moves to the last frame.
    pub fn seek_end(&mut self) -> Result<bool> {
        self.seek_before(None)
    }

    /// Moves to the following frame. When the iterator is invalid after running off the end,
    /// this looks again for frames written since.
    // NanoTS users know `next`/`prev`; forward iteration through `Iterator` is `into_iter()`.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<bool> {
        let (Some(position), Some(current)) = (self.position, self.current.as_ref()) else {
            return match self.resume {
                Some(resume) => self.seek_at_or_after(resume),
                None => Ok(false),
            };
        };
        let key = current.key;
        match self.step_forward(position) {
            Step::Found => Ok(true),
            Step::NotFound if !self.directory_moved()? => {
                self.invalidate(successor(key));
                Ok(false)
            }
            // The stream moved on to blocks this directory does not know, or a block was
            // reused under us: look the key up afresh.
            _ => self.seek_after(key),
        }
    }

    /// Moves to the preceding frame.
    pub fn prev(&mut self) -> Result<bool> {
        let (Some(position), Some(current)) = (self.position, self.current.as_ref()) else {
            return self.seek_before(self.resume);
        };
        let key = current.key;
        if position.entry > 0
            && matches!(self.load(position.block, position.entry - 1), Step::Found)
        {
            return Ok(true);
        }
        let found = self.seek_before(Some(key))?;
        if !found {
            self.invalidate(Some(Key::MIN));
        }
        Ok(found)
    }

    /// The fast path of `next()`: the following entry of this block, or the first frame of a
    /// later block this directory knows.
    fn step_forward(&mut self, position: Position) -> Step {
        match self.load(position.block, position.entry + 1) {
            Step::NotFound => {}
            other => return other,
        }
        let blocks = self.stream.as_ref().map_or(0, |s| s.blocks.len());
        for next_block in position.block + 1..blocks {
            match self.load(next_block, 0) {
                Step::NotFound => continue,
                other => return other,
            }
        }
        Step::NotFound
    }

    fn seek_after(&mut self, key: Key) -> Result<bool> {
        match successor(key) {
            Some(next) => self.seek_at_or_after(next),
            None => {
                self.invalidate(None);
                Ok(false)
            }
        }
    }

    fn seek_at_or_after(&mut self, key: Key) -> Result<bool> {
        self.search(Some(key), |it, stream| {
            // Blocks entirely below the key are skipped; an open block's extent is read live.
            let first = stream.blocks.partition_point(|b| {
                block_extent(&it.shared, b).is_some_and(|(_, last)| last < key)
            });
            let mut stale = false;
            for block in first..stream.blocks.len() {
                let Some(access) = BlockAccess::new(&it.shared, stream.blocks[block].index) else {
                    stale = true;
                    continue;
                };
                let entry = access.lower_bound(key, access.count());
                match it.load(block, entry) {
                    // A reused block's frames are gone: the answer is in a later block.
                    Step::Reused => stale = true,
                    Step::NotFound => {}
                    found_or_invalid => return (found_or_invalid, stale),
                }
            }
            (Step::NotFound, stale)
        })
    }

    /// Moves to the last frame with a key below `limit` (or the very last frame).
    fn seek_before(&mut self, limit: Option<Key>) -> Result<bool> {
        self.search(Some(Key::MIN), |it, stream| {
            let mut block = match limit {
                None => stream.blocks.len(),
                Some(limit) => {
                    let below = stream.blocks.partition_point(|b| {
                        block_extent(&it.shared, b).is_some_and(|(first, _)| first < limit)
                    });
                    (below + 1).min(stream.blocks.len())
                }
            };
            let mut stale = false;
            while block > 0 {
                block -= 1;
                let Some(access) = BlockAccess::new(&it.shared, stream.blocks[block].index) else {
                    stale = true;
                    continue;
                };
                let count = access.count();
                let end = limit.map_or(count, |l| access.lower_bound(l, count));
                if end == 0 {
                    continue;
                }
                match it.load(block, end - 1) {
                    Step::Reused => stale = true,
                    Step::NotFound => {}
                    found_or_invalid => return (found_or_invalid, stale),
                }
            }
            (Step::NotFound, stale)
        })
    }

    /// Runs `scan` (which reports what it found and whether it met reused blocks) over the
    /// directory, reloading it while blocks turned out reused, until a frame is found, nothing
    /// is there for sure, or the same frame fails validation after a reload (corrupt). When
    /// nothing is found the iterator is left invalid, resuming at `resume`.
    fn search(
        &mut self,
        resume: Option<Key>,
        mut scan: impl FnMut(&mut Self, &StreamDir) -> (Step, bool),
    ) -> Result<bool> {
        let mut invalid_seen = false;
        for attempt in 0..MAX_ATTEMPTS {
            let Some(stream) = self.refresh(attempt > 0)? else {
                break;
            };
            match scan(self, &stream) {
                (Step::Found, _) => return Ok(true),
                (Step::Invalid, _) if invalid_seen => return Err(self.corrupt_frame()),
                (Step::Invalid, _) => invalid_seen = true,
                (_, true) => {}
                (_, false) => break,
            }
        }
        self.invalidate(resume);
        Ok(false)
    }

    /// Pins the block, copies and validates frame `entry` of it, and positions there.
    fn load(&mut self, block: usize, entry: usize) -> Step {
        let Some(block_ref) = self.stream.as_ref().and_then(|s| s.blocks.get(block)) else {
            return Step::NotFound;
        };
        let (index, generation, seq, open) = (
            block_ref.index,
            block_ref.generation,
            block_ref.seq,
            block_ref.open,
        );
        match self.pin(index, generation, open) {
            PinOutcome::Held => {}
            PinOutcome::Preparing => return Step::NotFound,
            PinOutcome::Reused => return Step::Reused,
        }
        let Some(access) = BlockAccess::new(&self.shared, index) else {
            return Step::Reused;
        };
        if entry >= access.count() {
            return Step::NotFound;
        }
        let Some(index_entry) = access.copy_frame(entry, generation, &mut self.buf) else {
            self.current = None;
            // Re-checked after the copy: a changed generation means reuse, not corruption.
            return if access.generation() == generation {
                Step::Invalid
            } else {
                Step::Reused
            };
        };
        // Within one block the segment metadata stays the same: no reference counting per frame.
        let same_block = self.position.is_some_and(|p| p.block == block);
        let metadata = match self.current.take() {
            Some(current) if same_block && current.block_sequence == seq => current.metadata,
            _ => match self.stream.as_ref().and_then(|s| s.blocks.get(block)) {
                Some(b) => b.metadata.clone(),
                None => Arc::from(""),
            },
        };
        self.position = Some(Position { block, entry });
        self.current = Some(Current {
            key: index_entry.key,
            flags: index_entry.flags,
            block_sequence: seq,
            metadata,
        });
        Step::Found
    }

    /// Holds a pin on `block` (and only on it) so the writer in this process will not reuse
    /// it while the iterator stands there.
    fn pin(&mut self, index: u64, expected_generation: u64, open: bool) -> PinOutcome {
        if self.pinned != Some(index) {
            self.unpin();
            if !self.shared.pins.pin(index) {
                // The writer is setting the block up for a new use. If the directory names it
                // as the open block, that is the use being prepared: it has no frames yet.
                return if open {
                    PinOutcome::Preparing
                } else {
                    PinOutcome::Reused
                };
            }
            self.pinned = Some(index);
        }
        let generation = BlockAccess::new(&self.shared, index).map(|a| a.generation());
        if generation == Some(expected_generation) {
            PinOutcome::Held
        } else if open && generation.is_some_and(|g| g < expected_generation) {
            // The catalog already records the new use, the header is not written yet.
            PinOutcome::Preparing
        } else {
            PinOutcome::Reused
        }
    }

    fn unpin(&mut self) {
        if let Some(index) = self.pinned.take() {
            self.shared.pins.unpin(index);
        }
    }

    fn invalidate(&mut self, resume: Option<Key>) {
        self.position = None;
        self.current = None;
        self.resume = resume;
        self.unpin();
    }

    fn refresh(&mut self, force: bool) -> Result<Option<Arc<StreamDir>>> {
        // Unchanged catalog version: the stream the iterator holds is current (no lock).
        if !force && self.stream_version == Some(self.shared.storage.catalog_version()) {
            return Ok(self.stream.clone());
        }
        let directory = if force {
            self.shared.reload_directory(true)?
        } else {
            self.shared.directory()?
        };
        self.stream = directory.stream(&self.tag).cloned();
        self.stream_version = Some(directory.seen_version);
        Ok(self.stream.clone())
    }

    fn directory_moved(&self) -> Result<bool> {
        if self.stream_version == Some(self.shared.storage.catalog_version()) {
            return Ok(false);
        }
        let latest = self.shared.directory()?;
        let now = latest.stream(&self.tag);
        Ok(match (&self.stream, now) {
            (Some(a), Some(b)) => !Arc::ptr_eq(a, b),
            (None, None) => false,
            _ => true,
        })
    }

    fn corrupt_frame(&mut self) -> Error {
        self.invalidate(self.resume);
        Error::corrupt(format!(
            "stream '{}': a frame failed its checksum in a block the catalog still lists",
            self.tag
        ))
    }
}

fn successor(key: Key) -> Option<Key> {
    if key.secondary_key < u64::MAX {
        Some(Key::new(key.timestamp, key.secondary_key + 1))
    } else if key.timestamp < i64::MAX {
        Some(Key::new(key.timestamp + 1, 0))
    } else {
        None
    }
}

impl Drop for FrameIterator {
    fn drop(&mut self) {
        self.unpin();
    }
}

/// Forward scan through Rust's `Iterator`: `for frame in reader.iter(tag)? { ... }`.
impl IntoIterator for FrameIterator {
    type Item = Result<OwnedFrame>;
    type IntoIter = Frames;

    fn into_iter(self) -> Frames {
        Frames { it: self }
    }
}

/// Yields owned frames from the iterator's position onward. After `None` (the end of the
/// stream), a later `next()` yields frames written since.
pub struct Frames {
    it: FrameIterator,
}

impl Frames {
    /// Back to the seekable iterator.
    pub fn into_inner(self) -> FrameIterator {
        self.it
    }
}

impl Iterator for Frames {
    type Item = Result<OwnedFrame>;

    fn next(&mut self) -> Option<Result<OwnedFrame>> {
        if !self.it.valid()
            && let Err(e) = self.it.next()
        {
            return Some(Err(e));
        }
        let frame = self.it.frame()?.to_owned();
        if let Err(e) = self.it.next() {
            return Some(Err(e));
        }
        Some(Ok(frame))
    }
}
