//! Readers: any number, in any thread or process. They read the catalog only to rebuild their
//! in-memory directory when its version moves, never per seek.

use std::path::Path;
use std::sync::Arc;

use crate::directory::{BlockRef, StreamDir};
use crate::error::Result;
use crate::format::block::Key;
use crate::iterator::{BlockAccess, Frame, FrameIterator};
use crate::shared::SharedFile;

/// A run of a stream's blocks with nothing missing between them, written by one write context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContiguousSegment {
    pub start: i64,
    pub end: i64,
    /// The run's last block is still being written, so `end` will move.
    pub open: bool,
}

/// One stream as `file_info` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamSummary {
    pub tag: String,
    pub blocks: u64,
    pub frames: u64,
    pub bytes: u64,
    pub first_timestamp: Option<i64>,
    pub last_timestamp: Option<i64>,
    pub segments: usize,
}

/// The shape and use of a data file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    pub block_size: u64,
    pub block_count: u64,
    pub max_blocks: u64,
    pub growable: bool,
    pub blocks_used: u64,
    pub blocks_free: u64,
    pub streams: Vec<StreamSummary>,
}

pub struct Reader {
    shared: Arc<SharedFile>,
}

impl Reader {
    pub fn open(path: impl AsRef<Path>) -> Result<Reader> {
        let shared = SharedFile::open(path.as_ref(), false)?;
        // Fail now, not on first use, if the catalog is missing or foreign.
        shared.directory()?;
        Ok(Reader { shared })
    }

    /// An iterator over stream `tag`, positioned on its first frame (invalid if it has none).
    pub fn iter(&self, tag: &str) -> Result<FrameIterator> {
        FrameIterator::new(self.shared.clone(), tag)
    }

    /// Calls `callback` for every frame with `start <= timestamp <= end`, in key order, until
    /// it returns `false`.
    pub fn read(
        &self,
        tag: &str,
        start: i64,
        end: i64,
        mut callback: impl FnMut(&Frame<'_>) -> bool,
    ) -> Result<()> {
        if start > end {
            return Ok(());
        }
        let mut it = self.iter(tag)?;
        let mut more = it.find(start)?;
        while more {
            let Some(frame) = it.frame() else { break };
            if frame.timestamp > end || !callback(&frame) {
                break;
            }
            more = it.next()?;
        }
        Ok(())
    }

    /// Streams with at least one frame in `[start, end]`, sorted.
    pub fn stream_tags(&self, start: i64, end: i64) -> Result<Vec<String>> {
        let directory = self.shared.directory()?;
        let mut tags: Vec<String> = directory
            .streams
            .values()
            .filter(|s| {
                s.blocks.iter().any(|b| {
                    self.extent(b)
                        .is_some_and(|(f, l)| f.timestamp <= end && l.timestamp >= start)
                })
            })
            .map(|s| s.tag.clone())
            .collect();
        tags.sort();
        Ok(tags)
    }

    /// Runs of blocks of `tag` overlapping `[start, end]`. A run ends where a block is missing
    /// (freed or reclaimed) or where a new write context began.
    pub fn contiguous_segments(
        &self,
        tag: &str,
        start: i64,
        end: i64,
    ) -> Result<Vec<ContiguousSegment>> {
        let directory = self.shared.directory()?;
        let Some(stream) = directory.stream(tag) else {
            return Ok(Vec::new());
        };
        let mut runs: Vec<ContiguousSegment> = Vec::new();
        let mut previous: Option<&BlockRef> = None;
        for block in &stream.blocks {
            let Some((first, last)) = self.extent(block) else {
                continue;
            };
            let continues = previous
                .is_some_and(|p| p.seq + 1 == block.seq && p.segment_id == block.segment_id);
            match runs.last_mut() {
                Some(run) if continues => {
                    run.end = last.timestamp;
                    run.open = block.open;
                }
                _ => runs.push(ContiguousSegment {
                    start: first.timestamp,
                    end: last.timestamp,
                    open: block.open,
                }),
            }
            previous = Some(block);
        }
        runs.retain(|r| r.start <= end && r.end >= start);
        Ok(runs)
    }

    /// The file's shape, its block use and a summary per stream.
    pub fn file_info(&self) -> Result<FileInfo> {
        let directory = self.shared.directory()?;
        let storage = &self.shared.storage;
        let mut streams: Vec<StreamSummary> = directory
            .streams
            .values()
            .map(|s| self.summarize(s))
            .collect();
        streams.sort_by(|a, b| a.tag.cmp(&b.tag));
        let blocks_used: u64 = streams.iter().map(|s| s.blocks).sum();
        let block_count = storage.block_count();
        Ok(FileInfo {
            block_size: storage.block_size(),
            block_count,
            max_blocks: storage.header.max_blocks,
            growable: storage.header.growable,
            blocks_used,
            blocks_free: block_count.saturating_sub(blocks_used),
            streams,
        })
    }

    fn summarize(&self, stream: &StreamDir) -> StreamSummary {
        let mut summary = StreamSummary {
            tag: stream.tag.clone(),
            blocks: stream.blocks.len() as u64,
            frames: 0,
            bytes: 0,
            first_timestamp: None,
            last_timestamp: None,
            segments: 0,
        };
        let mut last_segment = None;
        for block in &stream.blocks {
            if block.open {
                if let Some(access) = BlockAccess::new(&self.shared, block.index) {
                    summary.frames += access.count() as u64;
                }
            } else {
                summary.frames += block.frames;
                summary.bytes += block.bytes;
            }
            if let Some((first, last)) = self.extent(block) {
                summary.first_timestamp.get_or_insert(first.timestamp);
                summary.last_timestamp = Some(last.timestamp);
            }
            if last_segment != Some(block.segment_id) {
                summary.segments += 1;
                last_segment = Some(block.segment_id);
            }
        }
        summary
    }

    /// First and last keys of a block: from the catalog when finished, live when open.
    fn extent(&self, block: &BlockRef) -> Option<(Key, Key)> {
        match (block.first, block.last) {
            (Some(first), Some(last)) if !block.open => Some((first, last)),
            _ => BlockAccess::new(&self.shared, block.index)
                .filter(|a| a.generation() == block.generation)
                .and_then(|a| a.extent()),
        }
    }
}
