//! CSV import: a header row, a timestamp column, one or more value columns; plain, gzip or xz,
//! read as a stream and inserted in batches.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Instant;

use nanots::{Column, Connection, Inserter, Labels, ValueType};

use crate::CliError;
use crate::progress::Progress;
use crate::timefmt::parse_timestamp;

/// How value columns map to stream names.
#[derive(Debug, Clone)]
pub enum Naming {
    /// The one value column goes to this stream.
    Stream(String),
    /// Column `C` goes to `metric{column="C", labels...}`.
    Metric {
        metric: String,
        labels: Vec<(String, String)>,
    },
    /// Column `C` goes to the stream named after its (sanitised) header, with these labels.
    Header { labels: Vec<(String, String)> },
}

#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub naming: Naming,
    /// Only these value columns (by header name), in file order.
    pub columns: Option<Vec<String>>,
    pub create: bool,
    /// Type of the streams this import creates.
    pub value_type: ValueType,
    pub progress: bool,
    /// Rows buffered per column before one `insert_batch`.
    pub batch_rows: usize,
    /// Stop after this many data rows (the demo's shortened runs).
    pub max_rows: Option<u64>,
}

impl ImportOptions {
    pub fn new(naming: Naming) -> ImportOptions {
        ImportOptions {
            naming,
            columns: None,
            create: false,
            value_type: ValueType::Float64,
            progress: false,
            batch_rows: 65_536,
            max_rows: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ImportSummary {
    pub rows: u64,
    pub points: u64,
    pub streams: Vec<String>,
    pub seconds: f64,
}

impl ImportSummary {
    pub fn line(&self) -> String {
        let rate = if self.seconds > 0.0 {
            self.points as f64 / self.seconds
        } else {
            0.0
        };
        format!(
            "imported {} points into {} stream{} from {} rows in {:.2} s ({} points/s)",
            crate::output::thousands(self.points),
            self.streams.len(),
            if self.streams.len() == 1 { "" } else { "s" },
            crate::output::thousands(self.rows),
            self.seconds,
            crate::output::thousands(rate as u64)
        )
    }
}

/// Counts the compressed bytes consumed, so progress can be shown against the file size.
struct CountingReader<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// An opened input: the decompressed bytes, a counter of bytes read from the file itself, and
/// the file's size (the last two give the progress fraction).
pub struct Input {
    pub reader: Box<dyn Read + Send>,
    pub consumed: Arc<AtomicU64>,
    pub size: u64,
}

/// Opens a CSV file, decompressing `.gz` and `.xz` on the fly.
pub fn open_input(path: &Path) -> Result<Input, CliError> {
    let file = File::open(path)
        .map_err(|e| CliError::Failed(format!("cannot open {}: {e}", path.display())))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let count = Arc::new(AtomicU64::new(0));
    let counted = BufReader::with_capacity(
        1 << 16,
        CountingReader {
            inner: file,
            count: count.clone(),
        },
    );
    let name = path.to_string_lossy().to_ascii_lowercase();
    let reader: Box<dyn Read + Send> = if name.ends_with(".xz") {
        Box::new(xz2::read::XzDecoder::new_multi_decoder(counted))
    } else if name.ends_with(".gz") {
        Box::new(flate2::read::MultiGzDecoder::new(counted))
    } else {
        Box::new(counted)
    };
    Ok(Input {
        reader,
        consumed: count,
        size,
    })
}

/// Lines of the input, decompressed and split into blocks of whole lines on a separate thread,
/// so that decompression overlaps parsing and inserting.
pub struct LineSource {
    rx: mpsc::Receiver<io::Result<String>>,
    chunk: String,
    pos: usize,
    thread: Option<std::thread::JoinHandle<()>>,
}

const CHUNK_BYTES: usize = 1 << 20;

impl LineSource {
    pub fn new(reader: Box<dyn Read + Send>) -> LineSource {
        LineSource::with_chunk_size(reader, CHUNK_BYTES)
    }

    fn with_chunk_size(mut reader: Box<dyn Read + Send>, chunk_bytes: usize) -> LineSource {
        let (tx, rx) = mpsc::sync_channel::<io::Result<String>>(4);
        let thread = std::thread::spawn(move || {
            let mut carry: Vec<u8> = Vec::new();
            // Reused, so it is zeroed once rather than once per block.
            let mut scratch = vec![0u8; chunk_bytes];
            loop {
                let mut filled = 0;
                let mut eof = false;
                while filled < scratch.len() {
                    match reader.read(&mut scratch[filled..]) {
                        Ok(0) => {
                            eof = true;
                            break;
                        }
                        Ok(n) => filled += n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => {
                            let _ = tx.send(Err(e));
                            return;
                        }
                    }
                }
                let mut buf = std::mem::take(&mut carry);
                buf.extend_from_slice(&scratch[..filled]);
                if !eof {
                    // Keep the partial last line for the next block.
                    match buf.iter().rposition(|&b| b == b'\n') {
                        Some(i) => carry = buf.split_off(i + 1),
                        None => {
                            carry = buf;
                            continue;
                        }
                    }
                }
                // Invalid UTF-8 becomes U+FFFD, which then fails to parse with a line number.
                let text = String::from_utf8(buf)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
                if (!text.is_empty() && tx.send(Ok(text)).is_err()) || eof {
                    return;
                }
            }
        });
        LineSource {
            rx,
            chunk: String::new(),
            pos: 0,
            thread: Some(thread),
        }
    }

    /// The next line without its line terminator, or `None` at the end of the input.
    pub fn next_line(&mut self) -> io::Result<Option<&str>> {
        while self.pos >= self.chunk.len() {
            match self.rx.recv() {
                Ok(chunk) => {
                    self.chunk = chunk?;
                    self.pos = 0;
                }
                Err(_) => return Ok(None),
            }
        }
        let rest = &self.chunk[self.pos..];
        let (line, advance) = match rest.find('\n') {
            Some(i) => (&rest[..i], i + 1),
            None => (rest, rest.len()),
        };
        self.pos += advance;
        Ok(Some(line.strip_suffix('\r').unwrap_or(line)))
    }
}

impl Drop for LineSource {
    fn drop(&mut self) {
        // Closing the channel stops the thread at its next send.
        let (_, dead) = mpsc::sync_channel(0);
        self.rx = dead;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Splits one CSV line into fields, honouring double quotes (`""` inside quotes is a quote).
pub fn split_csv<'a>(line: &'a str, fields: &mut Vec<std::borrow::Cow<'a, str>>) {
    fields.clear();
    if !line.contains('"') {
        fields.extend(line.split(',').map(std::borrow::Cow::Borrowed));
        return;
    }
    let mut cur = String::new();
    let mut in_quotes = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if in_quotes && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => in_quotes = !in_quotes,
            ',' if !in_quotes => fields.push(std::borrow::Cow::Owned(std::mem::take(&mut cur))),
            c => cur.push(c),
        }
    }
    fields.push(std::borrow::Cow::Owned(cur));
}

/// Turns a header into a valid metric name: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
pub fn sanitize_metric(name: &str) -> String {
    let mut s: String = name
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == ':' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    s
}

pub fn stream_name(naming: &Naming, column: &str) -> String {
    match naming {
        Naming::Stream(s) => s.clone(),
        Naming::Metric { metric, labels } => {
            let mut l = Labels {
                metric: metric.clone(),
                ..Labels::default()
            };
            l.labels.insert("column".into(), column.to_string());
            for (k, v) in labels {
                l.labels.insert(k.clone(), v.clone());
            }
            l.to_string()
        }
        Naming::Header { labels } => {
            let mut l = Labels {
                metric: sanitize_metric(column),
                ..Labels::default()
            };
            for (k, v) in labels {
                l.labels.insert(k.clone(), v.clone());
            }
            l.to_string()
        }
    }
}

struct Target {
    header_index: usize,
    name: String,
    inserter: Inserter,
    timestamps: Vec<i64>,
    values: Column,
    points: u64,
}

impl Target {
    fn flush_batch(&mut self, line_no: u64) -> Result<(), CliError> {
        if self.timestamps.is_empty() {
            return Ok(());
        }
        self.inserter
            .insert_batch(&self.timestamps, &self.values)
            .map_err(|e| {
                CliError::Failed(format!(
                    "inserting into {} (rows up to line {line_no}): {e}",
                    self.name
                ))
            })?;
        self.points += self.timestamps.len() as u64;
        self.timestamps.clear();
        self.values.clear();
        Ok(())
    }
}

fn parse_cell(column: &mut Column, cell: &str) -> Result<(), String> {
    let ok = match column {
        Column::Integer64(v) => cell.parse::<i64>().map(|x| v.push(x)).is_ok(),
        Column::UInteger64(v) => cell.parse::<u64>().map(|x| v.push(x)).is_ok(),
        Column::Float64(v) => cell.parse::<f64>().map(|x| v.push(x)).is_ok(),
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{cell}` is not a valid {}",
            column.value_type().short_name()
        ))
    }
}

/// `str::trim` without its cost in the common case of nothing to trim (unoptimised builds pay
/// dearly for the general version on every cell).
pub fn trim_fast(s: &str) -> &str {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(f), Some(l)) if f.is_ascii_whitespace() || l.is_ascii_whitespace() => s.trim(),
        _ => s,
    }
}

/// Parses one data row's cells into the targets' buffers. `fields` is only used for lines with
/// quotes; the common case walks the line once without allocating.
fn parse_row(
    text: &str,
    ts: &mut Option<i64>,
    ups: i64,
    header: &[String],
    targets: &mut [Target],
) -> Result<(), String> {
    let quoted;
    let mut cells: Box<dyn Iterator<Item = &str>> = if text.contains('"') {
        let mut f = Vec::new();
        split_csv(text, &mut f);
        quoted = f
            .into_iter()
            .map(|c| c.into_owned())
            .collect::<Vec<String>>();
        Box::new(quoted.iter().map(String::as_str))
    } else {
        Box::new(text.split(','))
    };
    let first = cells.next().unwrap_or("");
    let t = parse_timestamp(first, ups)?;
    *ts = Some(t);
    let mut next_target = 0;
    let mut column = 1;
    for cell in cells {
        if let Some(target) = targets.get_mut(next_target)
            && target.header_index == column
        {
            next_target += 1;
            let cell = trim_fast(cell);
            if !cell.is_empty() {
                parse_cell(&mut target.values, cell)
                    .map_err(|m| format!("column `{}`: {m}", header[column]))?;
                target.timestamps.push(t);
            }
        }
        column += 1;
    }
    if column != header.len() {
        return Err(format!("expected {} fields, found {column}", header.len()));
    }
    Ok(())
}

/// Reads the CSV and inserts every selected column into its stream.
pub fn import_csv(
    conn: &Connection,
    path: &Path,
    opts: &ImportOptions,
) -> Result<ImportSummary, CliError> {
    let started = Instant::now();
    let Input {
        reader,
        consumed: counter,
        size,
    } = open_input(path)?;
    let mut lines = LineSource::new(reader);
    let ups = conn.time_unit().units_per_second();
    let read_err = |e: io::Error| CliError::Failed(format!("reading {}: {e}", path.display()));
    let at = |line_no: u64| format!("{} line {line_no}", path.display());

    let mut line_no: u64 = 0;
    // The first non-empty line: a header, unless its first field already is a timestamp.
    let mut first_data: Option<String> = None;
    let header: Vec<String> = loop {
        let Some(line) = lines.next_line().map_err(read_err)? else {
            return Err(CliError::Failed(format!(
                "{}: no header row (the file is empty)",
                path.display()
            )));
        };
        line_no += 1;
        let text = line.trim_start_matches('\u{feff}');
        if text.trim().is_empty() {
            continue;
        }
        let mut fields = Vec::new();
        split_csv(text, &mut fields);
        if fields.len() < 2 {
            return Err(CliError::Failed(format!(
                "{}: expected a timestamp column and at least one value column",
                at(line_no)
            )));
        }
        if parse_timestamp(&fields[0], ups).is_ok() {
            let mut h = vec!["timestamp".to_string()];
            h.extend((1..fields.len()).map(|i| {
                if fields.len() == 2 {
                    "value".to_string()
                } else {
                    format!("value{i}")
                }
            }));
            first_data = Some(text.to_string());
            break h;
        }
        break fields.iter().map(|f| f.trim().to_string()).collect();
    };

    let selected: Vec<usize> = match &opts.columns {
        None => (1..header.len()).collect(),
        Some(wanted) => {
            let mut idx = Vec::new();
            for w in wanted {
                let i = header[1..].iter().position(|h| h == w).ok_or_else(|| {
                    CliError::Failed(format!(
                        "{}: no column `{w}` (columns: {})",
                        path.display(),
                        header[1..].join(", ")
                    ))
                })?;
                idx.push(i + 1);
            }
            idx.sort_unstable();
            idx.dedup();
            idx
        }
    };
    if matches!(opts.naming, Naming::Stream(_)) && selected.len() != 1 {
        return Err(CliError::Failed(format!(
            "{} has {} value columns but a single stream was given; use --metric (one stream per \
             column) or --columns",
            path.display(),
            selected.len()
        )));
    }

    let mut targets = Vec::with_capacity(selected.len());
    for &i in &selected {
        let name = stream_name(&opts.naming, &header[i]);
        if !conn.check_stream_exists(&name)? {
            if !opts.create {
                return Err(CliError::Failed(format!(
                    "stream {name} does not exist (use --create to create it)"
                )));
            }
            conn.create_stream(&name, opts.value_type)?;
        }
        let inserter = conn.prepare_insert(&name)?;
        let vt = inserter.value_type();
        targets.push(Target {
            header_index: i,
            name,
            inserter,
            timestamps: Vec::with_capacity(opts.batch_rows),
            values: Column::new(vt),
            points: 0,
        });
    }

    let mut progress = Progress::new(opts.progress, size, "importing");
    let mut rows: u64 = 0;
    let mut buffered = 0usize;
    let mut last_ts: Option<i64> = None;
    let first_line_no = line_no;
    loop {
        if opts.max_rows.is_some_and(|m| rows >= m) {
            break;
        }
        let pending = first_data.take();
        let text: &str = match &pending {
            Some(p) => p,
            None => match lines.next_line().map_err(read_err)? {
                Some(l) => {
                    line_no += 1;
                    l
                }
                None => break,
            },
        };
        if text.is_empty() || (text.as_bytes()[0].is_ascii_whitespace() && text.trim().is_empty()) {
            continue;
        }
        let here = if pending.is_some() {
            first_line_no
        } else {
            line_no
        };
        let mut ts = None;
        parse_row(text, &mut ts, ups, &header, &mut targets)
            .map_err(|m| CliError::Failed(format!("{}: {m}", at(here))))?;
        if let (Some(t), Some(last)) = (ts, last_ts)
            && t <= last
        {
            let shown = text.split(',').next().unwrap_or("").trim();
            return Err(CliError::Failed(format!(
                "{}: timestamp `{shown}` is not after the previous row's; rows must be in \
                 increasing time order",
                at(here)
            )));
        }
        last_ts = ts;
        rows += 1;
        buffered += 1;
        if buffered >= opts.batch_rows {
            for t in targets.iter_mut() {
                t.flush_batch(here)?;
            }
            buffered = 0;
            progress.update(counter.load(Ordering::Relaxed), rows);
        }
    }
    for t in targets.iter_mut() {
        t.flush_batch(line_no)?;
        t.inserter
            .flush()
            .map_err(|e| CliError::Failed(format!("flushing {}: {e}", t.name)))?;
    }
    progress.finish();
    Ok(ImportSummary {
        rows,
        points: targets.iter().map(|t| t.points).sum(),
        streams: targets.iter().map(|t| t.name.clone()).collect(),
        seconds: started.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_lines(text: &str, chunk: usize) -> Vec<String> {
        let mut src =
            LineSource::with_chunk_size(Box::new(std::io::Cursor::new(text.to_string())), chunk);
        let mut out = Vec::new();
        while let Some(l) = src.next_line().unwrap() {
            out.push(l.to_string());
        }
        out
    }

    #[test]
    fn lines_survive_chunk_boundaries() {
        let text = "header,x\r\n1,22\n333,4444\n\n55555,6";
        let expected = vec!["header,x", "1,22", "333,4444", "", "55555,6"];
        for chunk in [1, 2, 3, 5, 7, 64, 1 << 20] {
            assert_eq!(all_lines(text, chunk), expected, "chunk {chunk}");
        }
        assert!(all_lines("", 4).is_empty());
        assert_eq!(all_lines("a\n", 4), vec!["a"]);
        // A consumer that stops early must not hang the reader thread.
        let mut src =
            LineSource::with_chunk_size(Box::new(std::io::Cursor::new("x\n".repeat(100_000))), 16);
        assert_eq!(src.next_line().unwrap(), Some("x"));
        drop(src);
    }

    #[test]
    fn csv_splitting() {
        let mut f = Vec::new();
        split_csv("a,b,,c", &mut f);
        assert_eq!(f, vec!["a", "b", "", "c"]);
        split_csv("\"x,y\",\"say \"\"hi\"\"\",3", &mut f);
        assert_eq!(f, vec!["x,y", "say \"hi\"", "3"]);
    }

    #[test]
    fn names() {
        assert_eq!(
            sanitize_metric("Global active-power"),
            "Global_active_power"
        );
        assert_eq!(sanitize_metric("1x"), "_1x");
        assert_eq!(
            stream_name(
                &Naming::Metric {
                    metric: "power".into(),
                    labels: vec![("house".into(), "a\"b".into())]
                },
                "Voltage"
            ),
            "power{column=\"Voltage\",house=\"a\\\"b\"}"
        );
        assert_eq!(
            stream_name(&Naming::Header { labels: vec![] }, "temp"),
            "temp"
        );
    }

    proptest::proptest! {
        /// The line parsers see arbitrary user files: they must never panic, and a line without
        /// quotes splits exactly like `str::split`.
        #[test]
        fn parsers_never_panic(line in "[0-9a-zT:Z+., \"\\-é\u{feff}]{0,40}") {
            let mut fields = Vec::new();
            split_csv(&line, &mut fields);
            if !line.contains('"') {
                let plain: Vec<&str> = line.split(',').collect();
                proptest::prop_assert_eq!(fields.iter().map(|c| c.as_ref()).collect::<Vec<_>>(), plain);
            }
            for f in &fields {
                let _ = crate::timefmt::parse_timestamp(f, 1_000_000_000);
                let _ = crate::timefmt::parse_bound(f, 1);
                for vt in [ValueType::Integer64, ValueType::UInteger64, ValueType::Float64] {
                    let _ = parse_cell(&mut Column::new(vt), trim_fast(f));
                }
            }
        }
    }

    #[test]
    fn cells() {
        let mut c = Column::new(ValueType::UInteger64);
        assert!(parse_cell(&mut c, "12").is_ok());
        assert!(parse_cell(&mut c, "-1").is_err());
        let mut c = Column::new(ValueType::Float64);
        assert!(parse_cell(&mut c, "234.84").is_ok());
        assert_eq!(
            parse_cell(&mut c, "x1"),
            Err("`x1` is not a valid f64".into())
        );
    }
}
