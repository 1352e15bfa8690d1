//! One open data file per process: the mapping, the reader pins and the directory snapshot are
//! shared by every writer and reader of that file in this process, so the writer sees the
//! readers' pins and readers reuse one directory.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};

use parking_lot::Mutex;

use crate::catalog::Catalog;
use crate::directory::Directory;
use crate::error::Result;
use crate::pins::PinTable;
use crate::storage::{FilePaths, Storage};

pub struct SharedFile {
    pub paths: FilePaths,
    pub storage: Storage,
    pub pins: PinTable,
    directory: Mutex<Arc<Directory>>,
    /// Read connection used to rebuild the directory, opened on first use.
    catalog: Mutex<Option<Catalog>>,
}

static OPEN_FILES: Mutex<Vec<(PathBuf, Weak<SharedFile>)>> = Mutex::new(Vec::new());

impl SharedFile {
    /// The process-wide shared state of the file at `path`, opened if needed. A writer asks for
    /// a writable mapping; if only a read-only one is open, a new writable one replaces it in
    /// the registry (readers of the old one validate every frame, so they stay safe).
    pub fn open(path: &Path, writable: bool) -> Result<Arc<SharedFile>> {
        let paths = FilePaths::new(path);
        let key = std::fs::canonicalize(&paths.data).map_err(|source| crate::Error::CantOpen {
            path: paths.data.clone(),
            source,
        })?;
        let mut open_files = OPEN_FILES.lock();
        open_files.retain(|(_, weak)| weak.strong_count() > 0);
        if let Some(shared) = open_files
            .iter()
            .filter(|(p, _)| *p == key)
            .filter_map(|(_, weak)| weak.upgrade())
            .find(|s| s.storage.writable || !writable)
        {
            return Ok(shared);
        }
        let storage = match Storage::open(&paths.data, true) {
            // Readers without write permission still get a read-only mapping; they never
            // write, and they validate every frame.
            Err(crate::Error::CantOpen { source, .. })
                if !writable && source.kind() == std::io::ErrorKind::PermissionDenied =>
            {
                Storage::open(&paths.data, false)?
            }
            other => other?,
        };
        let pins = PinTable::new(storage.header.max_blocks as usize);
        let shared = Arc::new(SharedFile {
            paths,
            storage,
            pins,
            directory: Mutex::new(Arc::new(Directory::never_loaded())),
            catalog: Mutex::new(None),
        });
        open_files.retain(|(p, _)| *p != key);
        open_files.push((key, Arc::downgrade(&shared)));
        Ok(shared)
    }

    /// The current directory, rebuilt from the catalog if the catalog version moved.
    pub fn directory(&self) -> Result<Arc<Directory>> {
        {
            let current = self.directory.lock();
            if current.seen_version == self.storage.catalog_version() {
                return Ok(current.clone());
            }
        }
        self.reload_directory(false)
    }

    /// Rebuilds the directory from the catalog; `force` even when the version did not move
    /// (a reader found a block gone, e.g. freed by another process).
    pub fn reload_directory(&self, force: bool) -> Result<Arc<Directory>> {
        // One reload at a time; the others wait and take its result.
        let mut catalog_slot = self.catalog.lock();
        let version = self.storage.catalog_version();
        if !force {
            let current = self.directory.lock();
            if current.seen_version == version {
                return Ok(current.clone());
            }
        }
        let catalog = match catalog_slot.take() {
            Some(catalog) => catalog,
            None => Catalog::open(&self.paths.catalog, true)
                .or_else(|_| Catalog::open(&self.paths.catalog, false))?,
        };
        let catalog = catalog_slot.insert(catalog);
        let snapshot = catalog.snapshot()?;
        let directory = Arc::new(Directory::from_catalog(snapshot, version));
        *self.directory.lock() = directory.clone();
        Ok(directory)
    }
}
