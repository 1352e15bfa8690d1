//! Byte layouts of the data file, as pure functions over byte slices. Nothing here knows about
//! files, SQL or threads. The tables in `DESIGN.md` describe the same layouts.

pub mod block;
pub mod crc32c;
pub mod header;

/// The page size block sizes must be a multiple of (and the size of the file header).
pub const PAGE_SIZE: u64 = 4096;

pub(crate) fn get_u32(bytes: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(b)
}

pub(crate) fn get_u64(bytes: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(b)
}

pub(crate) fn put_u32(bytes: &mut [u8], at: usize, v: u32) {
    bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

pub(crate) fn put_u64(bytes: &mut [u8], at: usize, v: u64) {
    bytes[at..at + 8].copy_from_slice(&v.to_le_bytes());
}
