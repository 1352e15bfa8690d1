//! The in-memory directory readers search: per stream, its blocks in key order. Built from the
//! catalog, shared as an immutable snapshot, replaced whole when the catalog version moves.

use std::collections::HashMap;
use std::sync::Arc;

use crate::catalog::{BlockState, CatalogSnapshot};
use crate::format::block::Key;

#[derive(Debug, Clone)]
pub struct BlockRef {
    pub index: u64,
    pub generation: u64,
    pub seq: u64,
    pub segment_id: u64,
    pub metadata: Arc<str>,
    /// Known for finished blocks; an open block's extent is read live from the block.
    pub first: Option<Key>,
    pub last: Option<Key>,
    pub frames: u64,
    pub bytes: u64,
    pub open: bool,
}

#[derive(Debug)]
pub struct StreamDir {
    pub tag: String,
    /// Ordered by sequence, which is also key order (keys increase across write contexts).
    pub blocks: Vec<BlockRef>,
}

#[derive(Debug, Default)]
pub struct Directory {
    /// The header's catalog version seen just before this snapshot was read.
    pub seen_version: u64,
    pub streams: HashMap<String, Arc<StreamDir>>,
}

impl Directory {
    pub fn from_catalog(snapshot: CatalogSnapshot, seen_version: u64) -> Directory {
        let metadata: HashMap<u64, Arc<str>> = snapshot
            .segments
            .into_iter()
            .map(|s| (s.id, Arc::from(s.metadata.as_str())))
            .collect();
        let empty: Arc<str> = Arc::from("");
        let mut by_stream: HashMap<u64, Vec<BlockRef>> = HashMap::new();
        for row in snapshot.blocks {
            if row.state == BlockState::Free {
                continue;
            }
            by_stream.entry(row.stream_id).or_default().push(BlockRef {
                index: row.index,
                generation: row.generation,
                seq: row.seq,
                segment_id: row.segment_id,
                metadata: metadata
                    .get(&row.segment_id)
                    .cloned()
                    .unwrap_or_else(|| empty.clone()),
                first: row.first,
                last: row.last,
                frames: row.frames,
                bytes: row.bytes,
                open: row.state == BlockState::Open,
            });
        }
        let streams = snapshot
            .streams
            .into_iter()
            .map(|s| {
                let mut blocks = by_stream.remove(&s.id).unwrap_or_default();
                blocks.sort_by_key(|b| b.seq);
                (s.tag.clone(), Arc::new(StreamDir { tag: s.tag, blocks }))
            })
            .collect();
        Directory {
            seen_version,
            streams,
        }
    }

    /// A directory that any catalog version replaces.
    pub fn never_loaded() -> Directory {
        Directory {
            seen_version: u64::MAX,
            streams: HashMap::new(),
        }
    }

    pub fn stream(&self, tag: &str) -> Option<&Arc<StreamDir>> {
        self.streams.get(tag)
    }
}
