//! The facade the TachyonDB manual describes: `Connection`, `Inserter`, `Query`. A database is
//! a directory holding one growable data file of 64 KiB blocks (`data.nts`) and its catalog
//! (`data.db`), which also records the numeric streams and the timestamp unit.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;

use crate::catalog::Catalog;
use crate::create::{allocate_growable, free_blocks};
use crate::error::{Error, Result};
use crate::reader::Reader;
use crate::series::chunk::{decode_chunk, read_summary};
use crate::series::inserter::Inserter;
use crate::series::name::parse_stream_name;
use crate::series::source::StoreSource;
use crate::series::types::{Column, Labels, Value, ValueType};
use crate::tql::{self, StreamInfo, TqlError};
use crate::writer::{Writer, WriterOptions};

pub use crate::tql::{QueryResult, SeriesResult};

/// Block size of databases created by `Connection`. Every stream fills blocks of its own, so a
/// database of many small streams wants small blocks; every block transition costs a catalog
/// commit and a sync, so a large import wants big ones. 256 KiB holds ~250k points at about
/// one byte per point (a 2M-point column needs 9 transitions) while 1000 streams take 256 MiB.
pub const DEFAULT_BLOCK_SIZE: u64 = 256 * 1024;

/// The unit of a database's timestamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimeUnit {
    Seconds,
    #[default]
    Milliseconds,
    Microseconds,
    Nanoseconds,
}

impl TimeUnit {
    pub fn units_per_second(self) -> i64 {
        match self {
            TimeUnit::Seconds => 1,
            TimeUnit::Milliseconds => 1_000,
            TimeUnit::Microseconds => 1_000_000,
            TimeUnit::Nanoseconds => 1_000_000_000,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            TimeUnit::Seconds => "s",
            TimeUnit::Milliseconds => "ms",
            TimeUnit::Microseconds => "us",
            TimeUnit::Nanoseconds => "ns",
        }
    }

    fn code(self) -> i64 {
        match self {
            TimeUnit::Seconds => 0,
            TimeUnit::Milliseconds => 3,
            TimeUnit::Microseconds => 6,
            TimeUnit::Nanoseconds => 9,
        }
    }

    fn from_code(code: i64) -> Option<TimeUnit> {
        [
            TimeUnit::Seconds,
            TimeUnit::Milliseconds,
            TimeUnit::Microseconds,
            TimeUnit::Nanoseconds,
        ]
        .into_iter()
        .find(|u| u.code() == code)
    }
}

/// How to create a database (ignored when it exists: it keeps what it was created with).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionOptions {
    pub time_unit: TimeUnit,
    pub block_size: u64,
}

impl Default for ConnectionOptions {
    fn default() -> Self {
        ConnectionOptions {
            time_unit: TimeUnit::Milliseconds,
            block_size: DEFAULT_BLOCK_SIZE,
        }
    }
}

/// One stream in a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamStats {
    pub name: String,
    pub labels: Labels,
    pub value_type: ValueType,
    pub points: u64,
    pub first_timestamp: Option<i64>,
    pub last_timestamp: Option<i64>,
    /// Bytes of compressed chunks.
    pub bytes: u64,
}

/// The whole database at a glance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseStats {
    pub streams: u64,
    pub points: u64,
    pub bytes_used: u64,
    pub bytes_allocated: u64,
    pub blocks_used: u64,
    pub blocks_free: u64,
    pub block_size: u64,
}

/// What `check` verified and found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    pub blocks_checked: u64,
    pub frames_checked: u64,
    pub chunks_checked: u64,
    pub points_checked: u64,
    pub problems: Vec<String>,
}

impl CheckReport {
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// The streams a query can see, each with the frame tag it is stored under.
pub(crate) type StreamList = Arc<Vec<(StreamInfo, String)>>;

struct Shared {
    data_path: PathBuf,
    time_unit: TimeUnit,
    catalog: Mutex<Catalog>,
    reader: Arc<Reader>,
    /// Opened on first write, so read-only users never take the writer lock.
    writer: Mutex<Option<Arc<Writer>>>,
    /// Streams as of the last change this connection made (or saw).
    streams: Mutex<Option<StreamList>>,
}

/// An open database. Cheap to clone; every clone shares one writer and one reader.
#[derive(Clone)]
pub struct Connection {
    shared: Arc<Shared>,
}

impl Connection {
    /// Opens the database in `dir`, creating the directory and an empty database (timestamps
    /// in milliseconds) if missing.
    pub fn new(dir: impl AsRef<Path>) -> Result<Connection> {
        Connection::open_with(dir, ConnectionOptions::default())
    }

    pub fn open_with(dir: impl AsRef<Path>, options: ConnectionOptions) -> Result<Connection> {
        let dir = dir.as_ref();
        let data_path = dir.join("data.nts");
        let catalog_path = data_path.with_extension("db");
        if !data_path.exists() {
            std::fs::create_dir_all(dir).map_err(|source| Error::CantOpen {
                path: dir.to_path_buf(),
                source,
            })?;
            allocate_growable(&data_path, options.block_size, 0)?;
            Catalog::open(&catalog_path, true)?.set_meta("time_unit", options.time_unit.code())?;
        }
        let catalog = Catalog::open(&catalog_path, true)?;
        let time_unit = match catalog.meta("time_unit")? {
            Some(code) => TimeUnit::from_code(code)
                .ok_or_else(|| Error::Schema(format!("unknown time unit code {code}")))?,
            None => {
                return Err(Error::Schema(format!(
                    "{} is a frame file, not a nanots database",
                    data_path.display()
                )));
            }
        };
        let reader = Arc::new(Reader::open(&data_path)?);
        Ok(Connection {
            shared: Arc::new(Shared {
                data_path,
                time_unit,
                catalog: Mutex::new(catalog),
                reader,
                writer: Mutex::new(None),
                streams: Mutex::new(None),
            }),
        })
    }

    pub fn time_unit(&self) -> TimeUnit {
        self.shared.time_unit
    }

    /// Path of the data file (the catalog is beside it with extension `.db`).
    pub fn data_path(&self) -> &Path {
        &self.shared.data_path
    }

    fn writer(&self) -> Result<Arc<Writer>> {
        let mut slot = self.shared.writer.lock();
        if let Some(writer) = slot.as_ref() {
            return Ok(writer.clone());
        }
        let writer = Arc::new(Writer::open_with(
            &self.shared.data_path,
            WriterOptions::default(),
        )?);
        *slot = Some(writer.clone());
        Ok(writer)
    }

    fn stream_list(&self) -> Result<StreamList> {
        let mut cache = self.shared.streams.lock();
        if let Some(list) = cache.as_ref() {
            return Ok(list.clone());
        }
        let rows = self.shared.catalog.lock().all_series()?;
        let list: Vec<(StreamInfo, String)> = rows
            .into_iter()
            .filter_map(|row| {
                let value_type = ValueType::from_tag(row.value_type)?;
                Some((
                    StreamInfo {
                        id: row.id,
                        labels: row.labels,
                        value_type,
                    },
                    row.name,
                ))
            })
            .collect();
        let list = Arc::new(list);
        *cache = Some(list.clone());
        Ok(list)
    }

    fn forget_stream_list(&self) {
        *self.shared.streams.lock() = None;
    }

    fn find_stream(&self, stream: &str) -> Result<(Labels, Option<(StreamInfo, String)>)> {
        let labels = parse_stream_name(stream)?;
        let name = labels.to_string();
        // Another connection (or process) may have created it: look at the catalog on a miss.
        for fresh in [false, true] {
            if fresh {
                self.forget_stream_list();
            }
            if let Some(found) = self.stream_list()?.iter().find(|(_, n)| *n == name) {
                return Ok((labels, Some(found.clone())));
            }
        }
        Ok((labels, None))
    }

    /// Creates a stream of `value_type`. The name's label set is its identity.
    pub fn create_stream(&self, stream: &str, value_type: ValueType) -> Result<()> {
        let labels = parse_stream_name(stream)?;
        let name = labels.to_string();
        let created = self
            .shared
            .catalog
            .lock()
            .create_series(&name, &labels, value_type.tag())?;
        self.forget_stream_list();
        match created {
            Some(_) => Ok(()),
            None => Err(Error::StreamExists(name)),
        }
    }

    pub fn check_stream_exists(&self, stream: &str) -> Result<bool> {
        Ok(self.find_stream(stream)?.1.is_some())
    }

    /// Deletes a stream and frees its blocks. Refused while an inserter for it is alive.
    pub fn delete_stream(&self, stream: &str) -> Result<()> {
        let (labels, found) = self.find_stream(stream)?;
        let Some((info, tag)) = found else {
            return Err(Error::StreamNotFound(labels.to_string()));
        };
        // The writer's recovery settles blocks an earlier crash left open, so all are finished
        // unless an inserter is writing right now.
        if self.writer()?.has_live_context(&tag) {
            return Err(Error::invalid(format!(
                "stream {tag} has a live inserter; drop it first"
            )));
        }
        free_blocks(&self.shared.data_path, &tag, i64::MIN, i64::MAX)?;
        let mut catalog = self.shared.catalog.lock();
        catalog.forget_stream(&tag)?;
        catalog.delete_series(info.id)?;
        drop(catalog);
        self.forget_stream_list();
        Ok(())
    }

    /// Every stream with its type, points, time range and compressed bytes.
    pub fn streams(&self) -> Result<Vec<StreamStats>> {
        self.forget_stream_list();
        let list = self.stream_list()?;
        let mut out = Vec::with_capacity(list.len());
        for (info, tag) in list.iter() {
            let mut stats = StreamStats {
                name: tag.clone(),
                labels: info.labels.clone(),
                value_type: info.value_type,
                points: 0,
                first_timestamp: None,
                last_timestamp: None,
                bytes: 0,
            };
            let mut frames = self.shared.reader.iter(tag)?;
            while let Some(frame) = frames.frame() {
                let summary = read_summary(frame.data)
                    .map_err(|e| Error::corrupt(format!("{tag}: chunk header: {e}")))?;
                stats.points += u64::from(summary.count);
                stats.first_timestamp.get_or_insert(summary.first_timestamp);
                stats.last_timestamp = Some(summary.last_timestamp);
                stats.bytes += frame.data.len() as u64;
                frames.next()?;
            }
            out.push(stats);
        }
        Ok(out)
    }

    /// Totals for the whole database.
    pub fn stats(&self) -> Result<DatabaseStats> {
        let streams = self.streams()?;
        let info = self.shared.reader.file_info()?;
        let catalog_bytes: u64 = [
            self.shared.data_path.with_extension("db"),
            self.shared.data_path.with_extension("db-wal"),
        ]
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
        let data_bytes = std::fs::metadata(&self.shared.data_path)?.len();
        Ok(DatabaseStats {
            streams: streams.len() as u64,
            points: streams.iter().map(|s| s.points).sum(),
            bytes_used: streams.iter().map(|s| s.bytes).sum(),
            bytes_allocated: data_bytes + catalog_bytes,
            blocks_used: info.blocks_used,
            blocks_free: info.blocks_free,
            block_size: info.block_size,
        })
    }

    /// An inserter for `stream`, which must exist (E3 otherwise).
    pub fn prepare_insert(&self, stream: &str) -> Result<Inserter> {
        let (labels, found) = self.find_stream(stream)?;
        let Some((info, tag)) = found else {
            return Err(Error::NoMatchingStream(labels.to_string()));
        };
        let context = self.writer()?.create_write_context(&tag, "")?;
        Ok(Inserter::new(tag, info.value_type, context))
    }

    /// Plans `query` over `[start, end]` (inclusive; `None` = unbounded).
    pub fn prepare_query(
        &self,
        query: &str,
        start: Option<i64>,
        end: Option<i64>,
    ) -> Result<Query> {
        self.forget_stream_list();
        let source = Arc::new(StoreSource {
            reader: self.shared.reader.clone(),
            streams: self.stream_list()?,
            units_per_second: self.shared.time_unit.units_per_second(),
        });
        let execution = tql::execute(query, start, end, source).map_err(query_error)?;
        Ok(Query {
            execution,
            error: None,
        })
    }

    /// Verifies every block, frame and chunk: checksums, ordering, catalog agreement.
    pub fn check(&self) -> Result<CheckReport> {
        let frames = self.shared.reader.verify()?;
        let mut report = CheckReport {
            blocks_checked: frames.blocks_checked,
            frames_checked: frames.frames_checked,
            problems: frames.problems,
            ..CheckReport::default()
        };
        let mut timestamps = Vec::new();
        for (info, tag) in self.stream_list()?.iter() {
            let mut values = Column::new(info.value_type);
            let mut previous_last: Option<i64> = None;
            let mut frames = match self.shared.reader.iter(tag) {
                Ok(it) => it,
                Err(e) => {
                    report.problems.push(format!("{tag}: {e}"));
                    continue;
                }
            };
            while let Some(frame) = frames.frame() {
                match decode_chunk(frame.data, &mut timestamps, &mut values) {
                    Ok(summary) => {
                        report.chunks_checked += 1;
                        report.points_checked += u64::from(summary.count);
                        if values.value_type() != info.value_type {
                            report.problems.push(format!(
                                "{tag}: chunk at {} holds {} values",
                                frame.timestamp,
                                values.value_type().short_name()
                            ));
                        }
                        if summary.last_timestamp != frame.timestamp {
                            report.problems.push(format!(
                                "{tag}: chunk ends at {} but is keyed {}",
                                summary.last_timestamp, frame.timestamp
                            ));
                        }
                        if previous_last.is_some_and(|p| summary.first_timestamp <= p) {
                            report.problems.push(format!(
                                "{tag}: chunk starting at {} overlaps the previous one",
                                summary.first_timestamp
                            ));
                        }
                        previous_last = Some(summary.last_timestamp);
                    }
                    Err(e) => report
                        .problems
                        .push(format!("{tag}: chunk at {}: {e}", frame.timestamp)),
                }
                match frames.next() {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(e) => {
                        report.problems.push(format!("{tag}: {e}"));
                        break;
                    }
                }
            }
        }
        Ok(report)
    }
}

fn query_error(e: TqlError) -> Error {
    match e {
        TqlError::Syntax { .. } => Error::Syntax(e.to_string()),
        TqlError::NoMatchingStream { selector } => Error::NoMatchingStream(selector),
        other => Error::Query(other.to_string()),
    }
}

/// One point of a vector result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Vector {
    pub timestamp: i64,
    pub value: Value,
}

/// A planned query; results are produced as they are asked for.
pub struct Query {
    execution: tql::Execution,
    error: Option<Error>,
}

impl Query {
    /// Whether the result is scalars (aggregates) rather than series of points.
    pub fn is_scalar(&self) -> bool {
        self.execution.is_scalar()
    }

    /// The next scalar, or `None` at the end (or on error: see [`Query::error`]).
    pub fn next_scalar(&mut self) -> Option<Value> {
        self.try_next_scalar().ok().flatten().map(|(_, v)| v)
    }

    /// The next point, or `None` at the end (or on error: see [`Query::error`]).
    #[inline]
    pub fn next_vector(&mut self) -> Option<Vector> {
        match self.execution.next_point() {
            Ok(Some((_, timestamp, value))) => Some(Vector { timestamp, value }),
            Ok(None) => None,
            Err(e) => {
                self.record(e);
                None
            }
        }
    }

    /// The next scalar with the index of its group (see [`Query::labels`]).
    pub fn try_next_scalar(&mut self) -> Result<Option<(usize, Value)>> {
        match self.execution.next_scalar() {
            Ok(next) => Ok(next),
            Err(e) => Err(self.record(e)),
        }
    }

    /// The next point with the index of its series (see [`Query::labels`]).
    #[inline]
    pub fn try_next_vector(&mut self) -> Result<Option<(usize, Vector)>> {
        match self.execution.next_point() {
            Ok(Some((series, timestamp, value))) => Ok(Some((series, Vector { timestamp, value }))),
            Ok(None) => Ok(None),
            Err(e) => Err(self.record(e)),
        }
    }

    /// The next run of consecutive points of one series: the fastest way to read a vector
    /// result (no per-point call).
    pub fn next_batch(&mut self) -> Result<Option<tql::Batch<'_>>> {
        match self.execution.next_batch() {
            Ok(batch) => Ok(batch),
            Err(e) => Err(query_error(e)),
        }
    }

    #[cold]
    fn record(&mut self, e: TqlError) -> Error {
        let error = query_error(e);
        if self.error.is_none() {
            self.error = Some(Error::Query(error.to_string()));
        }
        error
    }

    /// The error that ended the results early, if any.
    pub fn error(&self) -> Option<&Error> {
        self.error.as_ref()
    }

    /// Labels of output series or group `index`.
    pub fn labels(&self, index: usize) -> &Labels {
        self.execution.labels(index)
    }

    pub fn series_count(&self) -> usize {
        self.execution.series_count()
    }

    /// Takes the whole result with each series' labels.
    pub fn collect(self) -> Result<QueryResult> {
        self.execution.collect().map_err(query_error)
    }
}
