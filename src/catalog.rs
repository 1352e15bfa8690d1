//! The SQLite catalog: every SQL statement the crate runs lives here. It is the durable record
//! of streams, segments (one per write context) and the use of every block; the data file holds
//! the frames.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};

use crate::error::{Error, Result};
use crate::format::block::Key;

/// Schema versions, oldest first; each entry upgrades from the previous version.
const MIGRATIONS: &[&str] = &[
    // Version 1.
    "CREATE TABLE streams(
        id INTEGER PRIMARY KEY,
        tag TEXT NOT NULL UNIQUE,
        next_seq INTEGER NOT NULL DEFAULT 0,
        last_ts INTEGER,
        last_sk INTEGER
    );
    CREATE TABLE segments(
        id INTEGER PRIMARY KEY,
        stream_id INTEGER NOT NULL,
        metadata TEXT NOT NULL,
        created_ms INTEGER NOT NULL
    );
    CREATE TABLE blocks(
        idx INTEGER PRIMARY KEY,
        state INTEGER NOT NULL DEFAULT 0,
        generation INTEGER NOT NULL DEFAULT 0,
        stream_id INTEGER,
        segment_id INTEGER,
        seq INTEGER,
        first_ts INTEGER, first_sk INTEGER,
        last_ts INTEGER, last_sk INTEGER,
        frames INTEGER NOT NULL DEFAULT 0,
        bytes INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX blocks_by_stream ON blocks(stream_id, seq);
    CREATE INDEX blocks_by_state ON blocks(state, generation);",
    // Version 2: numeric streams (the TQL layer). A series is stored as the frame stream whose
    // tag is the series' canonical name.
    "CREATE TABLE series(
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        metric TEXT NOT NULL,
        value_type INTEGER NOT NULL,
        created_ms INTEGER NOT NULL
    );
    CREATE TABLE series_labels(
        series_id INTEGER NOT NULL,
        name TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY(series_id, name)
    );",
];

/// What a block is being used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockState {
    Free,
    /// Claimed by a write context that has not finished it.
    Open,
    Finished,
}

impl BlockState {
    fn to_sql(self) -> i64 {
        match self {
            BlockState::Free => 0,
            BlockState::Open => 1,
            BlockState::Finished => 2,
        }
    }

    fn from_sql(v: i64) -> Result<BlockState> {
        match v {
            0 => Ok(BlockState::Free),
            1 => Ok(BlockState::Open),
            2 => Ok(BlockState::Finished),
            other => Err(Error::corrupt(format!(
                "catalog: unknown block state {other}"
            ))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamRow {
    pub id: u64,
    pub tag: String,
    pub next_seq: u64,
    pub last: Option<Key>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentRow {
    pub id: u64,
    pub stream_id: u64,
    pub metadata: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockRow {
    pub index: u64,
    pub state: BlockState,
    pub generation: u64,
    pub stream_id: u64,
    pub segment_id: u64,
    pub seq: u64,
    pub first: Option<Key>,
    pub last: Option<Key>,
    pub frames: u64,
    pub bytes: u64,
}

/// A numeric series as the catalog records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesRow {
    pub id: u64,
    pub name: String,
    pub labels: crate::series::types::Labels,
    pub value_type: u8,
}

/// A block just claimed for a write context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimedBlock {
    pub index: u64,
    pub generation: u64,
    pub seq: u64,
    pub version: u64,
    /// The block was never used before (its bytes are still the zeros of preallocation).
    pub fresh: bool,
}

/// A block a write context is done with, to be recorded as finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FinishedBlock {
    pub index: u64,
    /// First and last key; `None` when the block holds no frame.
    pub extent: Option<(Key, Key)>,
    pub frames: u64,
    pub bytes: u64,
}

/// Everything readers need to build their in-memory directory.
#[derive(Debug, Default)]
pub struct CatalogSnapshot {
    pub streams: Vec<StreamRow>,
    pub segments: Vec<SegmentRow>,
    /// Non-free blocks.
    pub blocks: Vec<BlockRow>,
}

pub struct Catalog {
    conn: Connection,
}

fn key_from(ts: Option<i64>, sk: Option<i64>) -> Option<Key> {
    ts.map(|t| Key::new(t, sk.unwrap_or(0) as u64))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Catalog {
    /// Creates a new catalog for a data file of `block_count` blocks.
    pub fn create(path: &Path, block_size: u64, block_count: u64) -> Result<Catalog> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
        )?;
        let mut catalog = Catalog { conn };
        catalog.configure()?;
        let tx = catalog.conn.transaction()?;
        tx.execute_batch("CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);")?;
        for (i, sql) in MIGRATIONS.iter().enumerate() {
            tx.execute_batch(sql)?;
            tx.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES('schema_version', ?1)",
                [i as i64 + 1],
            )?;
        }
        for (key, value) in [
            ("next_generation", 1i64),
            ("catalog_version", 1),
            ("block_size", block_size as i64),
        ] {
            tx.execute(
                "INSERT INTO meta(key, value) VALUES(?1, ?2)",
                params![key, value],
            )?;
        }
        {
            let mut insert = tx.prepare("INSERT INTO blocks(idx) VALUES(?1)")?;
            for index in 0..block_count {
                insert.execute([index as i64])?;
            }
        }
        tx.commit()?;
        Ok(catalog)
    }

    /// Opens an existing catalog, upgrading its schema if it is older than this build's.
    pub fn open(path: &Path, writable: bool) -> Result<Catalog> {
        if !path.exists() {
            return Err(Error::CantOpen {
                path: path.to_path_buf(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "catalog file is missing",
                ),
            });
        }
        let flags = if writable {
            OpenFlags::SQLITE_OPEN_READ_WRITE
        } else {
            OpenFlags::SQLITE_OPEN_READ_ONLY
        };
        let conn = Connection::open_with_flags(path, flags)?;
        let mut catalog = Catalog { conn };
        catalog.configure()?;
        let version = catalog.schema_version()?;
        if version > MIGRATIONS.len() as i64 {
            return Err(Error::BadVersion {
                found: version as u32,
                supported: MIGRATIONS.len() as u32,
            });
        }
        if writable && version < MIGRATIONS.len() as i64 {
            let tx = catalog.conn.transaction()?;
            for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
                tx.execute_batch(sql)?;
                tx.execute(
                    "UPDATE meta SET value = ?1 WHERE key = 'schema_version'",
                    [i as i64 + 1],
                )?;
            }
            tx.commit()?;
        }
        Ok(catalog)
    }

    fn configure(&mut self) -> Result<()> {
        self.conn.busy_timeout(Duration::from_secs(5))?;
        // WAL lets readers in any process read while the writer commits; FULL makes every
        // block transition durable before the block is written.
        let mode: String = self
            .conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") && !self.conn.is_readonly(rusqlite::MAIN_DB)? {
            return Err(Error::Schema(format!(
                "could not switch the catalog to WAL (got {mode})"
            )));
        }
        self.conn.execute_batch("PRAGMA synchronous=FULL;")?;
        Ok(())
    }

    fn schema_version(&self) -> Result<i64> {
        let has_meta: Option<String> = self
            .conn
            .query_row(
                "SELECT name FROM sqlite_master WHERE type='table' AND name='meta'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| Error::Schema(format!("not a SQLite database nanots can read: {e}")))?;
        if has_meta.is_none() {
            return Err(Error::Schema(
                "the catalog has no meta table: it is not a nanots catalog".into(),
            ));
        }
        self.meta("schema_version")?
            .ok_or_else(|| Error::Schema("the catalog records no schema version".into()))
    }

    pub fn meta(&self, key: &str) -> Result<Option<i64>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    pub fn set_meta(&self, key: &str, value: i64) -> Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)",
            params![key, value],
        )?;
        Ok(())
    }

    pub fn version(&self) -> Result<u64> {
        Ok(self.meta("catalog_version")?.unwrap_or(0) as u64)
    }

    fn bump_version(tx: &rusqlite::Transaction<'_>) -> Result<u64> {
        let v: i64 = tx.query_row(
            "UPDATE meta SET value = value + 1 WHERE key = 'catalog_version' RETURNING value",
            [],
            |r| r.get(0),
        )?;
        Ok(v as u64)
    }

    fn write_tx(&mut self) -> Result<rusqlite::Transaction<'_>> {
        Ok(self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?)
    }

    pub fn stream(&self, tag: &str) -> Result<Option<StreamRow>> {
        Ok(self
            .conn
            .query_row(
                "SELECT id, tag, next_seq, last_ts, last_sk FROM streams WHERE tag = ?1",
                [tag],
                Self::stream_from_row,
            )
            .optional()?)
    }

    fn stream_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StreamRow> {
        Ok(StreamRow {
            id: r.get::<_, i64>(0)? as u64,
            tag: r.get(1)?,
            next_seq: r.get::<_, i64>(2)? as u64,
            last: key_from(r.get(3)?, r.get(4)?),
        })
    }

    /// Starts a segment (one write context) of stream `tag`, creating the stream if needed.
    pub fn begin_segment(&mut self, tag: &str, metadata: &str) -> Result<(StreamRow, u64)> {
        let tx = self.write_tx()?;
        tx.execute("INSERT OR IGNORE INTO streams(tag) VALUES(?1)", [tag])?;
        let stream = tx.query_row(
            "SELECT id, tag, next_seq, last_ts, last_sk FROM streams WHERE tag = ?1",
            [tag],
            Self::stream_from_row,
        )?;
        tx.execute(
            "INSERT INTO segments(stream_id, metadata, created_ms) VALUES(?1, ?2, ?3)",
            params![stream.id as i64, metadata, now_ms()],
        )?;
        let segment = tx.last_insert_rowid() as u64;
        tx.commit()?;
        Ok((stream, segment))
    }

    /// Free blocks, lowest index first.
    pub fn free_blocks(&self, limit: usize) -> Result<Vec<u64>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT idx FROM blocks WHERE state = 0 ORDER BY idx LIMIT ?1")?;
        let rows = stmt.query_map([limit as i64], |r| r.get::<_, i64>(0))?;
        Ok(rows
            .map(|r| r.map(|v| v as u64))
            .collect::<rusqlite::Result<_>>()?)
    }

    /// Finished blocks of every stream, the earliest written first: reclaim candidates.
    pub fn oldest_finished_blocks(&self, limit: usize) -> Result<Vec<BlockRow>> {
        self.select_blocks(
            "WHERE state = 2 ORDER BY generation LIMIT ?1",
            [limit as i64],
        )
    }

    /// Claims block `index` for a segment: records the new use with a fresh generation. The
    /// block must be free, or finished when `reclaim` is set.
    pub fn claim_block(
        &mut self,
        index: u64,
        reclaim: bool,
        stream_id: u64,
        segment_id: u64,
        finishing: Option<&FinishedBlock>,
    ) -> Result<ClaimedBlock> {
        let tx = self.write_tx()?;
        if let Some(finished) = finishing {
            Self::record_finished(&tx, finished)?;
        }
        let previous_generation: i64 = tx.query_row(
            "SELECT generation FROM blocks WHERE idx = ?1",
            [index as i64],
            |r| r.get(0),
        )?;
        let generation: i64 = tx.query_row(
            "UPDATE meta SET value = value + 1 WHERE key = 'next_generation' RETURNING value - 1",
            [],
            |r| r.get(0),
        )?;
        let seq: i64 = tx.query_row(
            "UPDATE streams SET next_seq = next_seq + 1 WHERE id = ?1 RETURNING next_seq - 1",
            [stream_id as i64],
            |r| r.get(0),
        )?;
        let allowed = if reclaim {
            BlockState::Finished
        } else {
            BlockState::Free
        };
        let changed = tx.execute(
            "UPDATE blocks SET state = 1, generation = ?2, stream_id = ?3, segment_id = ?4, seq = ?5,
                first_ts = NULL, first_sk = NULL, last_ts = NULL, last_sk = NULL, frames = 0, bytes = 0
             WHERE idx = ?1 AND state = ?6",
            params![index as i64, generation, stream_id as i64, segment_id as i64, seq, allowed.to_sql()],
        )?;
        if changed != 1 {
            return Err(Error::corrupt(format!(
                "catalog: block {index} was not available to claim"
            )));
        }
        let version = Self::bump_version(&tx)?;
        tx.commit()?;
        Ok(ClaimedBlock {
            index,
            generation: generation as u64,
            seq: seq as u64,
            version,
            fresh: previous_generation == 0,
        })
    }

    /// Records a finished block and its stream's last key.
    pub fn finish_block(&mut self, finished: &FinishedBlock) -> Result<u64> {
        let tx = self.write_tx()?;
        Self::record_finished(&tx, finished)?;
        let version = Self::bump_version(&tx)?;
        tx.commit()?;
        Ok(version)
    }

    fn record_finished(tx: &rusqlite::Transaction<'_>, finished: &FinishedBlock) -> Result<()> {
        let Some((first, last)) = finished.extent else {
            return Err(Error::invalid(
                "an empty block cannot be recorded as finished",
            ));
        };
        let stream_id: i64 = tx.query_row(
            "UPDATE blocks SET state = 2, first_ts = ?2, first_sk = ?3, last_ts = ?4, last_sk = ?5, frames = ?6, bytes = ?7
             WHERE idx = ?1 RETURNING stream_id",
            params![
                finished.index as i64,
                first.timestamp,
                first.secondary_key as i64,
                last.timestamp,
                last.secondary_key as i64,
                finished.frames as i64,
                finished.bytes as i64
            ],
            |r| r.get(0),
        )?;
        Self::raise_last_key(tx, stream_id as u64, last)
    }

    fn raise_last_key(tx: &rusqlite::Transaction<'_>, stream_id: u64, last: Key) -> Result<()> {
        let current: Option<(Option<i64>, Option<i64>)> = tx
            .query_row(
                "SELECT last_ts, last_sk FROM streams WHERE id = ?1",
                [stream_id as i64],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let known = current.and_then(|(ts, sk)| key_from(ts, sk));
        if known.is_none_or(|k| k < last) {
            tx.execute(
                "UPDATE streams SET last_ts = ?2, last_sk = ?3 WHERE id = ?1",
                params![stream_id as i64, last.timestamp, last.secondary_key as i64],
            )?;
        }
        Ok(())
    }

    /// Marks blocks free. Returns the new catalog version.
    pub fn release_blocks(&mut self, indexes: &[u64]) -> Result<u64> {
        let tx = self.write_tx()?;
        for &index in indexes {
            tx.execute(
                "UPDATE blocks SET state = 0, stream_id = NULL, segment_id = NULL, seq = NULL,
                    first_ts = NULL, first_sk = NULL, last_ts = NULL, last_sk = NULL, frames = 0, bytes = 0
                 WHERE idx = ?1",
                [index as i64],
            )?;
        }
        let version = Self::bump_version(&tx)?;
        tx.commit()?;
        Ok(version)
    }

    /// Finished blocks of `stream_id` lying entirely inside `[start, end]` (timestamps).
    pub fn finished_blocks_within(
        &self,
        stream_id: u64,
        start: i64,
        end: i64,
    ) -> Result<Vec<BlockRow>> {
        self.select_blocks(
            "WHERE state = 2 AND stream_id = ?1 AND first_ts >= ?2 AND last_ts <= ?3 ORDER BY seq",
            params![stream_id as i64, start, end],
        )
    }

    /// Adds rows for blocks `[from, to)` as free (after the file grew).
    pub fn add_free_blocks(&mut self, from: u64, to: u64) -> Result<u64> {
        let tx = self.write_tx()?;
        {
            let mut insert = tx.prepare("INSERT OR IGNORE INTO blocks(idx) VALUES(?1)")?;
            for index in from..to {
                insert.execute([index as i64])?;
            }
        }
        let version = Self::bump_version(&tx)?;
        tx.commit()?;
        Ok(version)
    }

    /// Removes rows for blocks at or past `count` (a growth the data file never recorded).
    pub fn drop_blocks_from(&mut self, count: u64) -> Result<usize> {
        Ok(self
            .conn
            .execute("DELETE FROM blocks WHERE idx >= ?1", [count as i64])?)
    }

    pub fn all_blocks(&self) -> Result<Vec<BlockRow>> {
        self.select_blocks("ORDER BY idx", [])
    }

    pub fn block_count_rows(&self) -> Result<u64> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM blocks", [], |r| r.get::<_, i64>(0))?
            as u64)
    }

    fn select_blocks(&self, tail: &str, params: impl rusqlite::Params) -> Result<Vec<BlockRow>> {
        Self::select_blocks_on(&self.conn, tail, params)
    }

    fn select_blocks_on(
        conn: &Connection,
        tail: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<BlockRow>> {
        let sql = format!(
            "SELECT idx, state, generation, stream_id, segment_id, seq, first_ts, first_sk, last_ts, last_sk, frames, bytes FROM blocks {tail}"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(params)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(BlockRow {
                index: r.get::<_, i64>(0)? as u64,
                state: BlockState::from_sql(r.get(1)?)?,
                generation: r.get::<_, i64>(2)? as u64,
                stream_id: r.get::<_, Option<i64>>(3)?.unwrap_or(0) as u64,
                segment_id: r.get::<_, Option<i64>>(4)?.unwrap_or(0) as u64,
                seq: r.get::<_, Option<i64>>(5)?.unwrap_or(0) as u64,
                first: key_from(r.get(6)?, r.get(7)?),
                last: key_from(r.get(8)?, r.get(9)?),
                frames: r.get::<_, i64>(10)? as u64,
                bytes: r.get::<_, i64>(11)? as u64,
            });
        }
        Ok(out)
    }

    /// Everything readers need, read in one transaction so it is consistent.
    pub fn snapshot(&mut self) -> Result<CatalogSnapshot> {
        let tx = self.conn.transaction()?;
        let streams = {
            let mut stmt =
                tx.prepare_cached("SELECT id, tag, next_seq, last_ts, last_sk FROM streams")?;
            stmt.query_map([], Self::stream_from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?
        };
        let segments = {
            let mut stmt = tx.prepare_cached(
                "SELECT id, stream_id, metadata FROM segments WHERE id IN (SELECT segment_id FROM blocks WHERE state != 0)",
            )?;
            stmt.query_map([], |r| {
                Ok(SegmentRow {
                    id: r.get::<_, i64>(0)? as u64,
                    stream_id: r.get::<_, i64>(1)? as u64,
                    metadata: r.get(2)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?
        };
        let blocks = Self::select_blocks_on(&tx, "WHERE state != 0 ORDER BY stream_id, seq", [])?;
        Ok(CatalogSnapshot {
            streams,
            segments,
            blocks,
        })
    }

    /// Makes sure future generations are above `seen` (a generation found in a block header).
    pub fn ensure_generation_above(&self, seen: u64) -> Result<()> {
        self.conn.execute(
            "UPDATE meta SET value = ?1 WHERE key = 'next_generation' AND value <= ?1",
            [seen as i64 + 1],
        )?;
        Ok(())
    }

    /// Deletes a frame stream's rows once none of its blocks is in use.
    pub fn forget_stream(&mut self, tag: &str) -> Result<()> {
        let tx = self.write_tx()?;
        let Some(id) = tx
            .query_row("SELECT id FROM streams WHERE tag = ?1", [tag], |r| {
                r.get::<_, i64>(0)
            })
            .optional()?
        else {
            return Ok(());
        };
        let used: i64 = tx.query_row(
            "SELECT COUNT(*) FROM blocks WHERE stream_id = ?1 AND state != 0",
            [id],
            |r| r.get(0),
        )?;
        if used > 0 {
            return Err(Error::invalid(format!(
                "stream '{tag}' still has {used} blocks in use (a reader holds them); try again"
            )));
        }
        tx.execute("DELETE FROM segments WHERE stream_id = ?1", [id])?;
        tx.execute("DELETE FROM streams WHERE id = ?1", [id])?;
        Self::bump_version(&tx)?;
        tx.commit()?;
        Ok(())
    }

    /// Registers a numeric series; `Ok(None)` if the name exists.
    pub fn create_series(
        &mut self,
        name: &str,
        labels: &crate::series::types::Labels,
        value_type: u8,
    ) -> Result<Option<u64>> {
        let tx = self.write_tx()?;
        let inserted = tx.execute(
            "INSERT OR IGNORE INTO series(name, metric, value_type, created_ms) VALUES(?1, ?2, ?3, ?4)",
            params![name, labels.metric, value_type, now_ms()],
        )?;
        if inserted == 0 {
            return Ok(None);
        }
        let id = tx.last_insert_rowid();
        for (k, v) in &labels.labels {
            tx.execute(
                "INSERT INTO series_labels(series_id, name, value) VALUES(?1, ?2, ?3)",
                params![id, k, v],
            )?;
        }
        tx.commit()?;
        Ok(Some(id as u64))
    }

    pub fn delete_series(&mut self, id: u64) -> Result<()> {
        let tx = self.write_tx()?;
        tx.execute(
            "DELETE FROM series_labels WHERE series_id = ?1",
            [id as i64],
        )?;
        tx.execute("DELETE FROM series WHERE id = ?1", [id as i64])?;
        tx.commit()?;
        Ok(())
    }

    /// Every numeric series: id, canonical name, metric, value type tag, labels.
    pub fn all_series(&self) -> Result<Vec<SeriesRow>> {
        let mut labels: std::collections::HashMap<i64, std::collections::BTreeMap<String, String>> =
            std::collections::HashMap::new();
        {
            let mut stmt = self
                .conn
                .prepare_cached("SELECT series_id, name, value FROM series_labels")?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                labels
                    .entry(r.get(0)?)
                    .or_default()
                    .insert(r.get(1)?, r.get(2)?);
            }
        }
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, name, metric, value_type FROM series ORDER BY name")?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            out.push(SeriesRow {
                id: id as u64,
                name: r.get(1)?,
                labels: crate::series::types::Labels {
                    metric: r.get(2)?,
                    labels: labels.remove(&id).unwrap_or_default(),
                },
                value_type: r.get::<_, i64>(3)? as u8,
            });
        }
        Ok(out)
    }
}
