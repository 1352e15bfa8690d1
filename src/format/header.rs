//! The file header: the first page of the data file.
//!
//! Bytes 0..60 are written once at allocation and covered by a checksum. Bytes 64..80 are two
//! live counters that change while the file is in use (the current block count of a growable
//! file, and the catalog version readers poll); they sit outside the checksum and are accessed
//! atomically through the mapping.

use super::{PAGE_SIZE, crc32c, get_u32, get_u64, put_u32, put_u64};

pub const MAGIC: [u8; 8] = *b"NANOTS\x00\x01";
pub const FORMAT_VERSION: u32 = 1;
/// The header occupies one page so that blocks start page-aligned.
pub const HEADER_SIZE: u64 = PAGE_SIZE;

/// Offset of the live block count (u64).
pub const BLOCK_COUNT_OFFSET: usize = 64;
/// Offset of the catalog version (u64), bumped after every catalog change readers must see.
pub const CATALOG_VERSION_OFFSET: usize = 72;

const CHECKED_LEN: usize = 56;
const CHECKSUM_OFFSET: usize = 56;

/// Feature bit: frames and headers carry CRC32C checksums (always set by this version).
pub const FEATURE_CRC32C: u64 = 1;

/// The static part of the file header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileHeader {
    pub block_size: u64,
    /// Blocks allocated at creation.
    pub initial_blocks: u64,
    /// The most blocks the file may hold: the block count of a fixed file, the cap of a growable
    /// one (never 0: "no cap" is stored as the engine's ceiling).
    pub max_blocks: u64,
    pub growable: bool,
    pub features: u64,
}

/// Why a header could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderError {
    TooShort,
    BadMagic,
    BadVersion(u32),
    BadChecksum,
    Invalid(&'static str),
}

impl FileHeader {
    pub fn encode(&self, out: &mut [u8]) {
        out[..HEADER_SIZE as usize].fill(0);
        out[0..8].copy_from_slice(&MAGIC);
        put_u32(out, 8, FORMAT_VERSION);
        put_u32(out, 12, HEADER_SIZE as u32);
        put_u64(out, 16, self.block_size);
        put_u64(out, 24, self.initial_blocks);
        put_u64(out, 32, self.max_blocks);
        put_u64(out, 40, u64::from(self.growable));
        put_u64(out, 48, self.features);
        let crc = crc32c::checksum(&out[..CHECKED_LEN]);
        put_u32(out, CHECKSUM_OFFSET, crc);
        put_u64(out, BLOCK_COUNT_OFFSET, self.initial_blocks);
        put_u64(out, CATALOG_VERSION_OFFSET, 0);
    }

    pub fn decode(bytes: &[u8]) -> Result<FileHeader, HeaderError> {
        if bytes.len() < 80 {
            return Err(HeaderError::TooShort);
        }
        if bytes[0..8] != MAGIC {
            return Err(HeaderError::BadMagic);
        }
        let version = get_u32(bytes, 8);
        if version != FORMAT_VERSION {
            return Err(HeaderError::BadVersion(version));
        }
        if crc32c::checksum(&bytes[..CHECKED_LEN]) != get_u32(bytes, CHECKSUM_OFFSET) {
            return Err(HeaderError::BadChecksum);
        }
        if get_u32(bytes, 12) as u64 != HEADER_SIZE {
            return Err(HeaderError::Invalid("header size"));
        }
        let header = FileHeader {
            block_size: get_u64(bytes, 16),
            initial_blocks: get_u64(bytes, 24),
            max_blocks: get_u64(bytes, 32),
            growable: get_u64(bytes, 40) != 0,
            features: get_u64(bytes, 48),
        };
        if header.block_size == 0 || !header.block_size.is_multiple_of(PAGE_SIZE) {
            return Err(HeaderError::Invalid("block size"));
        }
        if header.max_blocks == 0 || header.initial_blocks > header.max_blocks {
            return Err(HeaderError::Invalid("block counts"));
        }
        Ok(header)
    }

    /// Byte offset of block `index` in the file.
    pub fn block_offset(&self, index: u64) -> u64 {
        HEADER_SIZE + index * self.block_size
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> FileHeader {
        FileHeader {
            block_size: 1 << 20,
            initial_blocks: 8,
            max_blocks: 64,
            growable: true,
            features: FEATURE_CRC32C,
        }
    }

    #[test]
    fn round_trip() {
        let mut page = vec![0u8; HEADER_SIZE as usize];
        sample().encode(&mut page);
        assert_eq!(FileHeader::decode(&page), Ok(sample()));
        assert_eq!(get_u64(&page, BLOCK_COUNT_OFFSET), 8);
    }

    #[test]
    fn rejects_foreign_and_damaged_headers() {
        let mut page = vec![0u8; HEADER_SIZE as usize];
        sample().encode(&mut page);
        let mut wrong_magic = page.clone();
        wrong_magic[0] = b'X';
        assert_eq!(FileHeader::decode(&wrong_magic), Err(HeaderError::BadMagic));
        let mut wrong_version = page.clone();
        put_u32(&mut wrong_version, 8, 99);
        assert_eq!(
            FileHeader::decode(&wrong_version),
            Err(HeaderError::BadVersion(99))
        );
        let mut flipped = page.clone();
        flipped[20] ^= 1;
        assert_eq!(FileHeader::decode(&flipped), Err(HeaderError::BadChecksum));
        assert_eq!(FileHeader::decode(&page[..10]), Err(HeaderError::TooShort));
    }

    proptest! {
        #[test]
        fn any_bit_flip_in_the_checked_part_is_caught(bit in 0usize..(CHECKED_LEN + 4) * 8) {
            let mut page = vec![0u8; HEADER_SIZE as usize];
            sample().encode(&mut page);
            page[bit / 8] ^= 1 << (bit % 8);
            prop_assert!(FileHeader::decode(&page).is_err());
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = FileHeader::decode(&bytes);
        }
    }
}
