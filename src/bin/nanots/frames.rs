//! `nanots frames ...`: direct access to a frame file through the storage layer's API.

use std::io::Write;

use crate::CliError;
use crate::args::FramesCmd;
use crate::output::{Align, human_bytes, thousands, write_table};
use crate::timefmt::{format_rfc3339, parse_bound, parse_timestamp};

/// Frame timestamps carry no unit; dates are converted as microseconds, the common unit of
/// video and audio capture.
const FRAME_UPS: i64 = 1_000_000;

fn ts_arg(s: &str, what: &str) -> Result<i64, CliError> {
    parse_timestamp(s, FRAME_UPS).map_err(|m| CliError::Usage(format!("{what}: {m}")))
}

fn bound(s: Option<&str>, default: i64, what: &str) -> Result<i64, CliError> {
    match s {
        None => Ok(default),
        Some(s) => Ok(parse_bound(s, FRAME_UPS)
            .map_err(|m| CliError::Usage(format!("{what}: {m}")))?
            .unwrap_or(default)),
    }
}

/// The library reads an unknown tag as an empty stream; on the command line that is almost
/// always a typo, so say which streams exist.
fn require_stream(reader: &nanots::Reader, tag: &str) -> Result<(), CliError> {
    let tags = reader.stream_tags(i64::MIN, i64::MAX)?;
    if tags.iter().any(|t| t == tag) {
        return Ok(());
    }
    let known = if tags.is_empty() {
        "the file has no streams".to_string()
    } else {
        format!("streams: {}", tags.join(", "))
    };
    Err(CliError::Failed(format!("no stream `{tag}` ({known})")))
}

pub fn run(cmd: FramesCmd, out: &mut dyn Write) -> Result<i32, CliError> {
    match cmd {
        FramesCmd::Allocate {
            file,
            block_size,
            blocks,
            growable,
            max,
        } => {
            let shown = nanots::FilePaths::new(&file).data;
            match blocks {
                Some(n) => {
                    nanots::allocate(&file, block_size, n)?;
                    writeln!(
                        out,
                        "allocated {}: {} blocks of {} ({})",
                        shown.display(),
                        thousands(n),
                        human_bytes(block_size),
                        human_bytes(block_size.saturating_mul(n))
                    )?;
                }
                None => {
                    debug_assert!(growable);
                    nanots::allocate_growable(&file, block_size, max)?;
                    let cap = if max == 0 {
                        "no cap".to_string()
                    } else {
                        format!("at most {} blocks", thousands(max))
                    };
                    writeln!(
                        out,
                        "allocated {}: growable, blocks of {}, {cap}",
                        shown.display(),
                        human_bytes(block_size)
                    )?;
                }
            }
            Ok(0)
        }
        FramesCmd::Ls { file } => {
            let reader = nanots::Reader::open(&file)?;
            let info = reader.file_info()?;
            writeln!(out, "file         {}", file.display())?;
            writeln!(out, "block size   {}", human_bytes(info.block_size))?;
            if info.growable {
                let cap = if info.max_blocks == 0 {
                    "no cap".to_string()
                } else {
                    thousands(info.max_blocks)
                };
                writeln!(
                    out,
                    "blocks       {} (growable, max {cap})",
                    thousands(info.block_count)
                )?;
            } else {
                writeln!(out, "blocks       {}", thousands(info.block_count))?;
            }
            writeln!(
                out,
                "used / free  {} / {}",
                thousands(info.blocks_used),
                thousands(info.blocks_free)
            )?;
            writeln!(out)?;
            if info.streams.is_empty() {
                writeln!(out, "(no streams)")?;
                return Ok(0);
            }
            let fmt = |t: Option<i64>| t.map(|t| t.to_string()).unwrap_or_else(|| "-".into());
            let rows: Vec<Vec<String>> = info
                .streams
                .iter()
                .map(|s| {
                    vec![
                        s.tag.clone(),
                        thousands(s.blocks),
                        thousands(s.frames),
                        human_bytes(s.bytes),
                        s.segments.to_string(),
                        fmt(s.first_timestamp),
                        fmt(s.last_timestamp),
                    ]
                })
                .collect();
            write_table(
                out,
                &[
                    "stream", "blocks", "frames", "bytes", "segments", "first", "last",
                ],
                &[
                    Align::Left,
                    Align::Right,
                    Align::Right,
                    Align::Right,
                    Align::Right,
                    Align::Right,
                    Align::Right,
                ],
                &rows,
            )?;
            for s in &info.streams {
                let segs = reader.contiguous_segments(&s.tag, i64::MIN, i64::MAX)?;
                writeln!(out)?;
                writeln!(out, "segments of {}: {}", s.tag, segs.len())?;
                for seg in segs {
                    writeln!(
                        out,
                        "  {} .. {}{}",
                        seg.start,
                        seg.end,
                        if seg.open { " (open)" } else { "" }
                    )?;
                }
            }
            Ok(0)
        }
        FramesCmd::Dump {
            file,
            tag,
            start,
            end,
            hex,
        } => {
            let start = bound(start.as_deref(), i64::MIN, "--start")?;
            let end = bound(end.as_deref(), i64::MAX, "--end")?;
            let reader = nanots::Reader::open(&file)?;
            require_stream(&reader, &tag)?;
            writeln!(out, "timestamp,time_utc,flags,size,block_sequence")?;
            let mut io_err = None;
            let mut n = 0u64;
            reader.read(&tag, start, end, |f| {
                n += 1;
                let r = writeln!(
                    out,
                    "{},{},{:#x},{},{}",
                    f.timestamp,
                    format_rfc3339(f.timestamp, FRAME_UPS),
                    f.flags,
                    f.data.len(),
                    f.block_sequence
                )
                .and_then(|_| if hex { write_hex(out, f.data) } else { Ok(()) });
                match r {
                    Ok(()) => true,
                    Err(e) => {
                        io_err = Some(e);
                        false
                    }
                }
            })?;
            if let Some(e) = io_err {
                return Err(e.into());
            }
            // The count goes to stderr so that stdout stays machine-readable.
            eprintln!("{} frames", thousands(n));
            Ok(0)
        }
        FramesCmd::Free {
            file,
            tag,
            start,
            end,
        } => {
            let s = ts_arg(&start, "<start>")?;
            let e = ts_arg(&end, "<end>")?;
            if s > e {
                return Err(CliError::Usage(format!(
                    "<start> `{start}` is after <end> `{end}`"
                )));
            }
            require_stream(&nanots::Reader::open(&file)?, &tag)?;
            let freed = nanots::free_blocks(&file, &tag, s, e)?;
            writeln!(out, "freed {} blocks of {tag}", thousands(freed))?;
            Ok(0)
        }
    }
}

/// Hex dump in the style of `hexdump -C`: 16 bytes a line with an ASCII column, runs of
/// identical lines shown once followed by `*`, and the end offset on the last line.
pub fn write_hex(out: &mut dyn Write, data: &[u8]) -> std::io::Result<()> {
    let mut previous: Option<&[u8]> = None;
    let mut starred = false;
    for (i, chunk) in data.chunks(16).enumerate() {
        if previous == Some(chunk) && chunk.len() == 16 {
            if !starred {
                writeln!(out, "  *")?;
                starred = true;
            }
            continue;
        }
        previous = Some(chunk);
        starred = false;
        let mut hex = String::with_capacity(50);
        for (j, b) in chunk.iter().enumerate() {
            if j == 8 {
                hex.push(' ');
            }
            hex.push_str(&format!("{b:02x} "));
        }
        let ascii: String = chunk
            .iter()
            .map(|&b| {
                if b.is_ascii_graphic() || b == b' ' {
                    b as char
                } else {
                    '.'
                }
            })
            .collect();
        writeln!(out, "  {:08x}  {hex:<49} |{ascii}|", i * 16)?;
    }
    if starred || !data.len().is_multiple_of(16) {
        writeln!(out, "  {:08x}", data.len())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_dump() {
        let mut buf = Vec::new();
        write_hex(&mut buf, b"hello, world!\x00\x01\x02\x03").unwrap();
        let s = String::from_utf8(buf).unwrap();
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[2], "  00000011");
        assert!(
            lines[0].starts_with("  00000000  68 65 6c 6c 6f 2c 20 77  6f 72"),
            "{s}"
        );
        assert!(lines[0].ends_with("|hello, world!...|"), "{s}");
        assert!(lines[1].starts_with("  00000010  03"));
        let mut buf = Vec::new();
        write_hex(&mut buf, &[7u8; 64]).unwrap();
        let s = String::from_utf8(buf).unwrap();
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(lines.len(), 3, "{s}");
        assert_eq!(lines[1], "  *");
        assert_eq!(lines[2], "  00000040");
    }
}
