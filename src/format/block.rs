//! Block layout: a 64-byte header, fixed-size index entries growing from the left, frame
//! payloads growing from the right. The block is full when the next entry and its payload would
//! overlap. Every frame's checksum covers the block's generation, the entry's fields and the
//! payload, so a frame left over from an earlier use of the block, or a torn one, never
//! validates.

use super::{crc32c, get_u32, get_u64, put_u32, put_u64};

pub const BLOCK_MAGIC: u32 = u32::from_le_bytes(*b"NBLK");
pub const BLOCK_HEADER_SIZE: usize = 64;
pub const ENTRY_SIZE: usize = 32;
/// Offset of the commit count (u32) the writer advances with a release store.
pub const COMMIT_COUNT_OFFSET: usize = 4;
/// Offset of the generation (u64) readers re-check after copying a frame.
pub const GENERATION_OFFSET: usize = 8;

const HEADER_CHECKSUM_OFFSET: usize = 56;
const ENTRY_CHECKED_LEN: usize = 28;

/// The order of frames in a stream: timestamp, then secondary key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Key {
    pub timestamp: i64,
    pub secondary_key: u64,
}

impl Key {
    pub const MIN: Key = Key {
        timestamp: i64::MIN,
        secondary_key: 0,
    };
    pub const MAX: Key = Key {
        timestamp: i64::MAX,
        secondary_key: u64::MAX,
    };

    pub fn new(timestamp: i64, secondary_key: u64) -> Key {
        Key {
            timestamp,
            secondary_key,
        }
    }
}

/// The static fields of a block header (the commit count lives beside them and is atomic).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockHeader {
    pub generation: u64,
    pub stream_id: u64,
    pub sequence: u64,
    pub segment_id: u64,
}

impl BlockHeader {
    /// Writes the header with a commit count of 0.
    pub fn encode(&self, out: &mut [u8]) {
        out[..BLOCK_HEADER_SIZE].fill(0);
        put_u32(out, 0, BLOCK_MAGIC);
        put_u64(out, GENERATION_OFFSET, self.generation);
        put_u64(out, 16, self.stream_id);
        put_u64(out, 24, self.sequence);
        put_u64(out, 32, self.segment_id);
        let crc = header_checksum(out);
        put_u32(out, HEADER_CHECKSUM_OFFSET, crc);
    }

    /// Decodes a header, `None` when the magic or checksum is wrong (a block never written, or
    /// a torn header).
    pub fn decode(bytes: &[u8]) -> Option<BlockHeader> {
        if bytes.len() < BLOCK_HEADER_SIZE || get_u32(bytes, 0) != BLOCK_MAGIC {
            return None;
        }
        if header_checksum(bytes) != get_u32(bytes, HEADER_CHECKSUM_OFFSET) {
            return None;
        }
        Some(BlockHeader {
            generation: get_u64(bytes, GENERATION_OFFSET),
            stream_id: get_u64(bytes, 16),
            sequence: get_u64(bytes, 24),
            segment_id: get_u64(bytes, 32),
        })
    }
}

/// The checksum skips the commit count, which changes with every frame.
fn header_checksum(bytes: &[u8]) -> u32 {
    let crc = crc32c::update(0, &bytes[0..COMMIT_COUNT_OFFSET]);
    crc32c::update(crc, &bytes[GENERATION_OFFSET..HEADER_CHECKSUM_OFFSET])
}

/// One index entry: where a frame is and what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexEntry {
    pub key: Key,
    /// Payload offset from the start of the block.
    pub offset: u32,
    pub length: u32,
    pub flags: u32,
    pub checksum: u32,
}

impl IndexEntry {
    pub fn encode(&self, out: &mut [u8; ENTRY_SIZE]) {
        out[0..8].copy_from_slice(&self.key.timestamp.to_le_bytes());
        put_u64(out, 8, self.key.secondary_key);
        put_u32(out, 16, self.offset);
        put_u32(out, 20, self.length);
        put_u32(out, 24, self.flags);
        put_u32(out, 28, self.checksum);
    }

    pub fn decode(bytes: &[u8; ENTRY_SIZE]) -> IndexEntry {
        IndexEntry {
            key: Key::new(get_u64(bytes, 0) as i64, get_u64(bytes, 8)),
            offset: get_u32(bytes, 16),
            length: get_u32(bytes, 20),
            flags: get_u32(bytes, 24),
            checksum: get_u32(bytes, 28),
        }
    }

    /// Builds the entry for a payload at `offset`, computing its checksum.
    pub fn new(generation: u64, key: Key, offset: u32, flags: u32, payload: &[u8]) -> IndexEntry {
        let mut entry = IndexEntry {
            key,
            offset,
            length: payload.len() as u32,
            flags,
            checksum: 0,
        };
        entry.checksum = entry.expected_checksum(generation, payload);
        entry
    }

    /// The checksum this entry must carry for `payload` in a block of `generation`.
    pub fn expected_checksum(&self, generation: u64, payload: &[u8]) -> u32 {
        let mut bytes = [0u8; ENTRY_SIZE];
        self.encode(&mut bytes);
        let crc = crc32c::update(0, &generation.to_le_bytes());
        let crc = crc32c::update(crc, &bytes[..ENTRY_CHECKED_LEN]);
        crc32c::update(crc, payload)
    }
}

/// Offset of index entry `index` from the start of the block.
pub fn entry_offset(index: usize) -> usize {
    BLOCK_HEADER_SIZE + index * ENTRY_SIZE
}

/// The most index entries a block can hold (all frames empty).
pub fn max_entries(block_size: u64) -> usize {
    (block_size as usize).saturating_sub(BLOCK_HEADER_SIZE) / ENTRY_SIZE
}

/// The largest payload a block of `block_size` can hold: one entry, the rest payload.
pub fn max_frame_size(block_size: u64) -> usize {
    (block_size as usize).saturating_sub(BLOCK_HEADER_SIZE + ENTRY_SIZE)
}

/// Whether a frame of `length` bytes fits as entry number `count` (0-based) when the payloads
/// already written start at `data_start`.
pub fn fits(count: usize, data_start: usize, length: usize) -> bool {
    let entries_end = entry_offset(count + 1);
    data_start >= entries_end && data_start - entries_end >= length
}

/// Checks that `entry`, the `index`-th of its block, sits where the writer would have put it:
/// right below the previous payload (`data_start`), clear of the index area.
pub fn entry_is_well_placed(entry: &IndexEntry, index: usize, data_start: usize) -> bool {
    let offset = entry.offset as usize;
    let end = offset.checked_add(entry.length as usize);
    end == Some(data_start) && offset >= entry_offset(index + 1)
}

/// What survives in a block: the longest prefix of frames that are well placed, strictly
/// increasing and carry the right checksum for `generation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValidPrefix {
    pub count: usize,
    pub first: Option<Key>,
    pub last: Option<Key>,
    /// Offset of the lowest valid payload (`block.len()` when there is none).
    pub data_start: usize,
}

/// Scans `block` (the whole block's bytes) for its valid prefix of at most `claimed` frames.
/// Pure and total: any bytes give an answer, never a panic.
pub fn valid_prefix(block: &[u8], generation: u64, claimed: usize) -> ValidPrefix {
    let claimed = claimed.min(max_entries(block.len() as u64));
    let mut result = ValidPrefix {
        count: 0,
        first: None,
        last: None,
        data_start: block.len(),
    };
    for index in 0..claimed {
        let at = entry_offset(index);
        let Some(raw) = block.get(at..at + ENTRY_SIZE) else {
            break;
        };
        let mut bytes = [0u8; ENTRY_SIZE];
        bytes.copy_from_slice(raw);
        let entry = IndexEntry::decode(&bytes);
        if !entry_is_well_placed(&entry, index, result.data_start) {
            break;
        }
        if result.last.is_some_and(|last| entry.key <= last) {
            break;
        }
        let payload = &block[entry.offset as usize..result.data_start];
        if entry.expected_checksum(generation, payload) != entry.checksum {
            break;
        }
        result.count = index + 1;
        result.first.get_or_insert(entry.key);
        result.last = Some(entry.key);
        result.data_start = entry.offset as usize;
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Lays frames out exactly as the writer does, in a plain buffer.
    fn build_block(size: usize, generation: u64, frames: &[(Key, Vec<u8>)]) -> Vec<u8> {
        let mut block = vec![0u8; size];
        BlockHeader {
            generation,
            stream_id: 3,
            sequence: 7,
            segment_id: 9,
        }
        .encode(&mut block);
        let mut data_start = size;
        for (i, (key, payload)) in frames.iter().enumerate() {
            assert!(fits(i, data_start, payload.len()));
            let offset = data_start - payload.len();
            block[offset..data_start].copy_from_slice(payload);
            let entry = IndexEntry::new(generation, *key, offset as u32, i as u32, payload);
            let mut bytes = [0u8; ENTRY_SIZE];
            entry.encode(&mut bytes);
            block[entry_offset(i)..entry_offset(i) + ENTRY_SIZE].copy_from_slice(&bytes);
            data_start = offset;
        }
        put_u32(&mut block, COMMIT_COUNT_OFFSET, frames.len() as u32);
        block
    }

    fn frames_strategy() -> impl Strategy<Value = Vec<(Key, Vec<u8>)>> {
        proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..200), 0..12).prop_map(
            |payloads| {
                payloads
                    .into_iter()
                    .enumerate()
                    .map(|(i, p)| (Key::new(i as i64 * 10 - 5, i as u64), p))
                    .collect()
            },
        )
    }

    #[test]
    fn header_round_trip_and_damage() {
        let mut bytes = [0u8; BLOCK_HEADER_SIZE];
        let header = BlockHeader {
            generation: 42,
            stream_id: 1,
            sequence: 2,
            segment_id: 3,
        };
        header.encode(&mut bytes);
        assert_eq!(BlockHeader::decode(&bytes), Some(header));
        // The commit count is outside the checksum.
        put_u32(&mut bytes, COMMIT_COUNT_OFFSET, 17);
        assert_eq!(BlockHeader::decode(&bytes), Some(header));
        bytes[GENERATION_OFFSET] ^= 1;
        assert_eq!(BlockHeader::decode(&bytes), None);
    }

    #[test]
    fn largest_frame_fits_and_one_more_byte_does_not() {
        let size = 4096u64;
        let max = max_frame_size(size);
        assert!(fits(0, size as usize, max));
        assert!(!fits(0, size as usize, max + 1));
        let block = build_block(size as usize, 1, &[(Key::new(0, 0), vec![7u8; max])]);
        assert_eq!(valid_prefix(&block, 1, 1).count, 1);
    }

    proptest! {
        #[test]
        fn written_frames_validate_and_keep_their_bytes(frames in frames_strategy()) {
            let block = build_block(4096, 5, &frames);
            let prefix = valid_prefix(&block, 5, frames.len());
            prop_assert_eq!(prefix.count, frames.len());
            let mut end = block.len();
            for (i, (key, payload)) in frames.iter().enumerate() {
                let mut bytes = [0u8; ENTRY_SIZE];
                bytes.copy_from_slice(&block[entry_offset(i)..entry_offset(i) + ENTRY_SIZE]);
                let entry = IndexEntry::decode(&bytes);
                prop_assert_eq!(entry.key, *key);
                prop_assert_eq!(&block[entry.offset as usize..end], payload.as_slice());
                // Layout invariants: index area and payload area never overlap.
                prop_assert!(entry.offset as usize >= entry_offset(i + 1));
                end = entry.offset as usize;
            }
            prop_assert_eq!(prefix.data_start, end);
        }

        #[test]
        fn another_generation_validates_nothing(frames in frames_strategy()) {
            let block = build_block(4096, 5, &frames);
            prop_assert_eq!(valid_prefix(&block, 6, frames.len()).count, 0);
        }

        #[test]
        fn a_damaged_byte_cuts_the_prefix_at_or_before_its_frame(
            frames in frames_strategy(), at in 64usize..4096, bit in 0u8..8,
        ) {
            let mut block = build_block(4096, 5, &frames);
            block[at] ^= 1 << bit;
            let prefix = valid_prefix(&block, 5, frames.len());
            prop_assert!(prefix.count <= frames.len());
            // Every frame that still validates is byte-for-byte the original one.
            let mut end = block.len();
            for (i, (key, payload)) in frames.iter().take(prefix.count).enumerate() {
                let mut bytes = [0u8; ENTRY_SIZE];
                bytes.copy_from_slice(&block[entry_offset(i)..entry_offset(i) + ENTRY_SIZE]);
                let entry = IndexEntry::decode(&bytes);
                prop_assert_eq!(entry.key, *key);
                prop_assert_eq!(&block[entry.offset as usize..end], payload.as_slice());
                end = entry.offset as usize;
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1024), claimed in 0usize..100) {
            let _ = valid_prefix(&bytes, 0, claimed);
            let _ = BlockHeader::decode(&bytes);
        }
    }
}
