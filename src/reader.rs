//! Readers: any number, in any thread or process. They read the catalog only to rebuild their
//! in-memory directory when its version moves, never per seek.

use std::path::Path;
use std::sync::Arc;

use crate::directory::{BlockRef, StreamDir};
use crate::error::Result;
use crate::format::block::{BlockHeader, Key, valid_prefix};
use crate::iterator::{BlockAccess, Frame, FrameIterator, block_extent};
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

/// What `Reader::verify` checked and found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    pub blocks_checked: u64,
    pub frames_checked: u64,
    pub problems: Vec<String>,
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
                    block_extent(&self.shared, b)
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
            let Some((first, last)) = block_extent(&self.shared, block) else {
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

    /// Checks every block in use: header, every frame's placement and checksum, key order
    /// within and across blocks, and agreement with the catalog.
    pub fn verify(&self) -> Result<VerifyReport> {
        let directory = self.shared.directory()?;
        let mut report = VerifyReport::default();
        let mut streams: Vec<&Arc<StreamDir>> = directory.streams.values().collect();
        streams.sort_by(|a, b| a.tag.cmp(&b.tag));
        for stream in streams {
            let mut previous: Option<Key> = None;
            for block in &stream.blocks {
                let tag = &stream.tag;
                let Some(access) = BlockAccess::new(&self.shared, block.index) else {
                    report.problems.push(format!(
                        "{tag}: block {} lies outside the file",
                        block.index
                    ));
                    continue;
                };
                // A pinned block cannot be reused while it is copied; one being reused is skipped.
                if !self.shared.pins.pin(block.index) {
                    continue;
                }
                let bytes = access.copy_block();
                let count = access.count();
                self.shared.pins.unpin(block.index);
                report.blocks_checked += 1;
                match BlockHeader::decode(&bytes) {
                    None => report
                        .problems
                        .push(format!("{tag}: block {} has a damaged header", block.index)),
                    Some(h) if h.generation != block.generation => report.problems.push(format!(
                        "{tag}: block {} belongs to use {} but the catalog says {}",
                        block.index, h.generation, block.generation
                    )),
                    Some(_) => {}
                }
                let prefix = valid_prefix(&bytes, block.generation, count);
                report.frames_checked += prefix.count as u64;
                if prefix.count < count {
                    report.problems.push(format!(
                        "{tag}: block {} frame {} of {count} fails its checksum or placement",
                        block.index, prefix.count
                    ));
                }
                if !block.open {
                    if block.frames != count as u64 {
                        report.problems.push(format!(
                            "{tag}: block {} holds {count} frames but the catalog records {}",
                            block.index, block.frames
                        ));
                    }
                    if prefix.count == count
                        && (prefix.first != block.first || prefix.last != block.last)
                    {
                        report.problems.push(format!(
                            "{tag}: block {} key range disagrees with the catalog",
                            block.index
                        ));
                    }
                }
                if let (Some(prev), Some(first)) = (previous, prefix.first)
                    && first <= prev
                {
                    report.problems.push(format!(
                        "{tag}: block {} starts before the previous block ends",
                        block.index
                    ));
                }
                previous = prefix.last.or(previous);
            }
        }
        Ok(report)
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
            if let Some((first, last)) = block_extent(&self.shared, block) {
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
}
