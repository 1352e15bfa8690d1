//! The data file: creation with real preallocation, one long-lived mapping, durable range
//! syncs, growth, and the writer's OS lock. It knows where blocks are, not what they hold.

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use memmap2::{MmapOptions, MmapRaw};

use crate::error::{Error, Result};
use crate::format::PAGE_SIZE;
use crate::format::header::{
    BLOCK_COUNT_OFFSET, CATALOG_VERSION_OFFSET, FileHeader, HEADER_SIZE, HeaderError,
};

/// The ceiling on blocks of a growable file created with "no cap", and on the bytes it may
/// reach: the mapping is reserved once for this size, so it never moves.
pub const GROWABLE_BLOCK_CEILING: u64 = 1 << 20;
pub const GROWABLE_BYTE_CEILING: u64 = 1 << 40;
/// Largest block: offsets inside a block are 32-bit.
pub const MAX_BLOCK_SIZE: u64 = 1 << 31;
/// A growable file grows by doubling, but by at most this many bytes at a time.
pub const MAX_GROWTH_BYTES: u64 = 1 << 30;

/// The two files of a nanots store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilePaths {
    pub data: PathBuf,
    pub catalog: PathBuf,
}

impl FilePaths {
    /// `x.nts` (or `x`, which becomes `x.nts`) and its catalog `x.db` beside it.
    pub fn new(path: &Path) -> FilePaths {
        let data = if path.extension().is_some_and(|e| e == "nts") {
            path.to_path_buf()
        } else {
            let mut s = path.as_os_str().to_os_string();
            s.push(".nts");
            PathBuf::from(s)
        };
        let catalog = data.with_extension("db");
        FilePaths { data, catalog }
    }

    /// The SQLite side files that a stale catalog may leave behind.
    pub fn catalog_side_files(&self) -> [PathBuf; 2] {
        let wal = format!("{}-wal", self.catalog.display());
        let shm = format!("{}-shm", self.catalog.display());
        [PathBuf::from(wal), PathBuf::from(shm)]
    }
}

pub fn validate_block_size(block_size: u64) -> Result<()> {
    let reason = if block_size == 0 || !block_size.is_multiple_of(PAGE_SIZE) {
        "it must be a positive multiple of the page size (4096 bytes)"
    } else if block_size > MAX_BLOCK_SIZE {
        "it must be at most 2 GiB"
    } else {
        return Ok(());
    };
    Err(Error::InvalidBlockSize { block_size, reason })
}

/// Reserves `len` bytes of real disk space from `offset`, so that a full disk is reported now.
fn preallocate(file: &File, offset: u64, len: u64) -> Result<()> {
    // SAFETY: posix_fallocate only reads the descriptor and two integers.
    let rc = unsafe {
        libc::posix_fallocate(file.as_raw_fd(), offset as libc::off_t, len as libc::off_t)
    };
    match rc {
        0 => Ok(()),
        // Filesystems without fallocate support: fall back to extending the file.
        libc::EOPNOTSUPP | libc::EINVAL => {
            let end = offset + len;
            if file.metadata()?.len() < end {
                file.set_len(end)?;
            }
            Ok(())
        }
        errno => Err(Error::Io(std::io::Error::from_raw_os_error(errno))),
    }
}

/// Creates the data file with its header and `header.initial_blocks` preallocated blocks.
pub fn create_data_file(path: &Path, header: &FileHeader) -> Result<()> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|source| Error::CantOpen {
            path: path.to_path_buf(),
            source,
        })?;
    let total = header.block_offset(header.initial_blocks);
    let result = (|| {
        preallocate(&file, 0, total)?;
        let mut page = vec![0u8; HEADER_SIZE as usize];
        header.encode(&mut page);
        std::os::unix::fs::FileExt::write_all_at(&file, &page, 0)?;
        file.sync_all()?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(path);
    }
    result
}

/// The open data file and its mapping, shared by the writer and readers of one process.
pub struct Storage {
    pub path: PathBuf,
    file: File,
    map: MmapRaw,
    pub header: FileHeader,
    /// Blocks the mapping covers; the live block count never exceeds it.
    capacity: u64,
    pub writable: bool,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Storage")
            .field("path", &self.path)
            .field("header", &self.header)
            .finish()
    }
}

impl Storage {
    /// Opens and maps an existing data file, read-write when `writable`.
    pub fn open(path: &Path, writable: bool) -> Result<Storage> {
        let file = OpenOptions::new()
            .read(true)
            .write(writable)
            .open(path)
            .map_err(|source| Error::CantOpen {
                path: path.to_path_buf(),
                source,
            })?;
        let file_len = file.metadata()?.len();
        let mut page = vec![0u8; 80];
        let read = std::os::unix::fs::FileExt::read_at(&file, &mut page, 0)?;
        let header = FileHeader::decode(&page[..read]).map_err(|e| match e {
            HeaderError::TooShort | HeaderError::BadMagic => Error::BadMagic {
                path: path.to_path_buf(),
            },
            HeaderError::BadVersion(found) => Error::BadVersion {
                found,
                supported: crate::format::header::FORMAT_VERSION,
            },
            HeaderError::BadChecksum => {
                Error::corrupt(format!("{}: file header checksum mismatch", path.display()))
            }
            HeaderError::Invalid(what) => Error::corrupt(format!(
                "{}: file header has an invalid {what}",
                path.display()
            )),
        })?;
        validate_block_size(header.block_size)?;
        // A checksum is not trust: a shape no allocation writes must not size the mapping or
        // the per-block tables (an overflow, or gigabytes of pins).
        let ceiling = (GROWABLE_BYTE_CEILING / header.block_size).clamp(1, GROWABLE_BLOCK_CEILING);
        if (header.growable && header.max_blocks > ceiling)
            || (!header.growable && header.max_blocks != header.initial_blocks)
            || header
                .max_blocks
                .checked_mul(header.block_size)
                .is_none_or(|b| b > u64::MAX / 2)
        {
            return Err(Error::corrupt(format!(
                "{}: file header has an impossible shape",
                path.display()
            )));
        }
        let capacity = header.max_blocks;
        let map_len = header.block_offset(capacity).max(HEADER_SIZE);
        let mut options = MmapOptions::new();
        options.len(map_len as usize);
        // The mapping is reserved for the file's largest size so it never has to move; pages
        // past the end of the file are never touched (every access checks the block count).
        let map = if writable {
            options.map_raw(&file)
        } else {
            options.map_raw_read_only(&file)
        }?;
        let storage = Storage {
            path: path.to_path_buf(),
            file,
            map,
            header,
            capacity,
            writable,
        };
        let count = storage.block_count();
        if count == 0 || count > capacity || (!header.growable && count != header.initial_blocks) {
            return Err(Error::corrupt(format!(
                "{}: header block count {count} is outside 1..={capacity}",
                path.display()
            )));
        }
        if file_len < header.block_offset(count) {
            return Err(Error::corrupt(format!(
                "{}: file is {file_len} bytes but its header promises {count} blocks ({} bytes); it was truncated",
                path.display(),
                header.block_offset(count)
            )));
        }
        Ok(storage)
    }

    fn header_word(&self, offset: usize) -> &AtomicU64 {
        // SAFETY: the header page is always mapped (map_len >= HEADER_SIZE), the offset is
        // 8-byte aligned inside it (the mapping is page-aligned), and every access to these
        // words, in any process, is atomic.
        unsafe { AtomicU64::from_ptr(self.map.as_mut_ptr().add(offset).cast::<u64>()) }
    }

    /// Blocks currently in the file (grows for growable files).
    pub fn block_count(&self) -> u64 {
        self.header_word(BLOCK_COUNT_OFFSET).load(Ordering::Acquire)
    }

    /// The catalog version readers compare with their directory's.
    pub fn catalog_version(&self) -> u64 {
        self.header_word(CATALOG_VERSION_OFFSET)
            .load(Ordering::Acquire)
    }

    /// Announces a catalog change to every reader (no-op on a read-only mapping).
    pub fn publish_catalog_version(&self, version: u64) {
        if self.writable {
            self.header_word(CATALOG_VERSION_OFFSET)
                .fetch_max(version, Ordering::AcqRel);
        }
    }

    pub fn block_size(&self) -> u64 {
        self.header.block_size
    }

    /// Base pointer of block `index`, or `None` if the block is not in the file.
    pub fn block_ptr(&self, index: u64) -> Option<*mut u8> {
        if index >= self.block_count() {
            return None;
        }
        let offset = self.header.block_offset(index) as usize;
        // SAFETY: index < block_count <= capacity, so the whole block lies inside the mapping
        // and inside the file.
        Some(unsafe { self.map.as_mut_ptr().add(offset) })
    }

    /// The commit count word of block `index`.
    pub fn commit_count(&self, block: *mut u8) -> &AtomicU32 {
        // SAFETY: `block` comes from block_ptr, so the header lies inside the mapping; offset 4
        // of a page-aligned block is 4-byte aligned; all accesses to it are atomic.
        unsafe { AtomicU32::from_ptr(block.add(crate::format::block::COMMIT_COUNT_OFFSET).cast()) }
    }

    /// The generation word of block `index`, read atomically so readers can re-check it.
    pub fn generation_word(&self, block: *mut u8) -> &AtomicU64 {
        // SAFETY: as for commit_count; offset 8 is 8-byte aligned. The writer stores the
        // generation through the same atomic when it claims a block.
        unsafe { AtomicU64::from_ptr(block.add(crate::format::block::GENERATION_OFFSET).cast()) }
    }

    /// Writes the byte range `[offset, offset + len)` of the file to disk.
    pub fn sync_range(&self, offset: u64, len: u64) -> Result<()> {
        if len == 0 || !self.writable {
            return Ok(());
        }
        let start = offset / PAGE_SIZE * PAGE_SIZE;
        let end = (offset + len).min(self.header.block_offset(self.block_count()));
        if end <= start {
            return Ok(());
        }
        // SAFETY: [start, end) lies inside the mapping (end is clamped to the file's blocks)
        // and start is page-aligned, as msync requires.
        let rc = unsafe {
            libc::msync(
                self.map.as_mut_ptr().add(start as usize).cast(),
                (end - start) as usize,
                libc::MS_SYNC,
            )
        };
        if rc != 0 {
            return Err(Error::Io(std::io::Error::last_os_error()));
        }
        Ok(())
    }

    /// Asks the kernel to fault in a block's pages ahead of the writer (best effort).
    pub fn prefault_block(&self, index: u64) {
        #[cfg(target_os = "linux")]
        if let Some(ptr) = self.block_ptr(index) {
            const MADV_POPULATE_WRITE: libc::c_int = 23;
            // SAFETY: the block lies inside the mapping; madvise only changes paging and its
            // failure (old kernels) is harmless, so the result is ignored.
            unsafe {
                libc::madvise(
                    ptr.cast(),
                    self.header.block_size as usize,
                    MADV_POPULATE_WRITE,
                );
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = index;
    }

    /// How many blocks a growable file should have after its next growth, or `None` at its cap.
    pub fn next_growth(&self) -> Option<u64> {
        let count = self.block_count();
        if !self.header.growable || count >= self.capacity {
            return None;
        }
        let step_cap = (MAX_GROWTH_BYTES / self.header.block_size).max(1);
        Some((count + count.clamp(1, step_cap)).min(self.capacity))
    }

    /// Extends the file to `new_count` blocks, preallocated, then publishes the new count.
    pub fn grow_to(&self, new_count: u64) -> Result<()> {
        let count = self.block_count();
        if new_count <= count {
            return Ok(());
        }
        if new_count > self.capacity {
            return Err(Error::NoFreeBlocks);
        }
        let from = self.header.block_offset(count);
        preallocate(&self.file, from, self.header.block_offset(new_count) - from)?;
        self.file.sync_all()?;
        self.header_word(BLOCK_COUNT_OFFSET)
            .store(new_count, Ordering::Release);
        self.sync_range(0, HEADER_SIZE)
    }
}

/// Holds the exclusive writer lock on a data file for as long as it lives.
#[derive(Debug)]
pub struct WriterLock {
    _file: File,
}

impl WriterLock {
    pub fn acquire(path: &Path) -> Result<WriterLock> {
        let file = OpenOptions::new()
            .read(true)
            .open(path)
            .map_err(|source| Error::CantOpen {
                path: path.to_path_buf(),
                source,
            })?;
        // flock locks belong to the open file description, so a second Writer in this same
        // process (another description) is refused just like one in another process.
        // SAFETY: flock only reads the descriptor.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc != 0 {
            let err = std::io::Error::last_os_error();
            return Err(if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
                Error::WriterLocked(path.to_path_buf())
            } else {
                Error::Io(err)
            });
        }
        Ok(WriterLock { _file: file })
    }
}
