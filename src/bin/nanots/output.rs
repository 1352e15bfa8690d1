//! Rendering of query results and listings: aligned tables, CSV, JSON lines and charts.

use std::io::{self, Write};

use nanots::{Column, Labels, QueryResult, Value};

use crate::args::Format;
use crate::chart::{self, ChartOptions, ChartSeries};
use crate::timefmt::format_timestamp;

/// What rendering needs to know about the database and the terminal.
#[derive(Debug, Clone, Copy)]
pub struct OutputCtx<'a> {
    /// Database timestamp units per second.
    pub ups: i64,
    pub color: bool,
    /// The query, which names a series that has no labels (an aggregate or an expression).
    pub query: &'a str,
}

impl OutputCtx<'_> {
    fn title(&self, l: &Labels) -> String {
        if *l == Labels::default() && !self.query.is_empty() {
            self.query.to_string()
        } else {
            series_name(l)
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// An aligned text table; widths count characters, not bytes, so labels with non-ASCII values
/// still line up.
pub fn write_table(
    out: &mut dyn Write,
    headers: &[&str],
    align: &[Align],
    rows: &[Vec<String>],
) -> io::Result<()> {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| -> String {
        let mut s = String::new();
        for (i, cell) in cells.enumerate() {
            let w = widths.get(i).copied().unwrap_or(0);
            let pad = w.saturating_sub(cell.chars().count());
            if i > 0 {
                s.push_str("  ");
            }
            match align.get(i).copied().unwrap_or(Align::Left) {
                Align::Left => {
                    s.push_str(cell);
                    s.push_str(&" ".repeat(pad));
                }
                Align::Right => {
                    s.push_str(&" ".repeat(pad));
                    s.push_str(cell);
                }
            }
        }
        s.trim_end().to_string()
    };
    writeln!(out, "{}", line(&mut headers.iter().copied()))?;
    let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w)).collect();
    writeln!(out, "{}", line(&mut rule.iter().map(String::as_str)))?;
    for row in rows {
        writeln!(out, "{}", line(&mut row.iter().map(String::as_str)))?;
    }
    Ok(())
}

/// Quotes a CSV field when it holds a comma, quote or line break.
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// JSON has no NaN or infinity; they become `null`.
pub fn json_value(v: Value) -> String {
    match v {
        Value::Float64(f) if !f.is_finite() => "null".into(),
        v => v.to_string(),
    }
}

pub fn json_labels(l: &Labels) -> String {
    let mut s = String::from("{");
    s.push_str(&format!("\"__name__\":{}", json_string(&l.metric)));
    for (k, v) in &l.labels {
        s.push_str(&format!(",{}:{}", json_string(k), json_string(v)));
    }
    s.push('}');
    s
}

/// A series' display name; an expression result without a metric name shows as `{}`.
pub fn series_name(l: &Labels) -> String {
    let s = l.to_string();
    if s.is_empty() { "{}".into() } else { s }
}

fn column_f64(c: &Column) -> Vec<f64> {
    match c {
        Column::Integer64(v) => v.iter().map(|&x| x as f64).collect(),
        Column::UInteger64(v) => v.iter().map(|&x| x as f64).collect(),
        Column::Float64(v) => v.clone(),
    }
}

pub fn write_result(
    out: &mut dyn Write,
    res: &QueryResult,
    format: Format,
    ctx: &OutputCtx,
) -> io::Result<()> {
    match res {
        QueryResult::Scalars(scalars) => write_scalars(out, scalars, format),
        QueryResult::Series(series) => {
            if series.is_empty() {
                if matches!(format, Format::Table | Format::Chart) {
                    writeln!(out, "(no data)")?;
                } else if format == Format::Csv {
                    writeln!(out, "series,timestamp,value")?;
                }
                return Ok(());
            }
            match format {
                Format::Table => write_series_table(out, series, ctx),
                Format::Csv => {
                    writeln!(out, "series,timestamp,value")?;
                    write_series_csv_rows(out, series)
                }
                Format::Json => write_series_json(out, series),
                Format::Chart => write_series_charts(out, series, ctx),
            }
        }
    }
}

/// A lone scalar prints as a plain number in every format (a number is valid CSV and JSON);
/// labelled scalars from `by` print one `labels value` line each.
fn write_scalars(
    out: &mut dyn Write,
    scalars: &[(Labels, Value)],
    format: Format,
) -> io::Result<()> {
    if let [(labels, v)] = scalars
        && *labels == Labels::default()
    {
        return writeln!(
            out,
            "{}",
            if format == Format::Json {
                json_value(*v)
            } else {
                v.to_string()
            }
        );
    }
    match format {
        Format::Csv => {
            writeln!(out, "series,value")?;
            for (l, v) in scalars {
                writeln!(out, "{},{}", csv_field(&l.to_string()), v)?;
            }
        }
        Format::Json => {
            for (l, v) in scalars {
                writeln!(
                    out,
                    "{{\"series\":{},\"labels\":{},\"value\":{}}}",
                    json_string(&l.to_string()),
                    json_labels(l),
                    json_value(*v)
                )?;
            }
        }
        Format::Table | Format::Chart => {
            let rows: Vec<Vec<String>> = scalars
                .iter()
                .map(|(l, v)| vec![series_name(l), v.to_string()])
                .collect();
            for r in rows {
                writeln!(out, "{} {}", r[0], r[1])?;
            }
        }
    }
    Ok(())
}

fn write_series_table(
    out: &mut dyn Write,
    series: &[nanots::SeriesResult],
    ctx: &OutputCtx,
) -> io::Result<()> {
    for (i, s) in series.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        writeln!(out, "{}", ctx.title(&s.labels))?;
        let rows: Vec<Vec<String>> = s
            .timestamps
            .iter()
            .enumerate()
            .map(|(j, &t)| {
                vec![
                    t.to_string(),
                    format_timestamp(t, ctx.ups),
                    s.values.get(j).map(|v| v.to_string()).unwrap_or_default(),
                ]
            })
            .collect();
        write_table(
            out,
            &["timestamp", "time (UTC)", "value"],
            &[Align::Right, Align::Left, Align::Right],
            &rows,
        )?;
        writeln!(out, "({} points)", s.timestamps.len())?;
    }
    Ok(())
}

pub fn write_series_csv_rows(
    out: &mut dyn Write,
    series: &[nanots::SeriesResult],
) -> io::Result<()> {
    for s in series {
        let name = csv_field(&s.labels.to_string());
        for (j, &t) in s.timestamps.iter().enumerate() {
            if let Some(v) = s.values.get(j) {
                writeln!(out, "{name},{t},{v}")?;
            }
        }
    }
    Ok(())
}

pub fn write_series_json(out: &mut dyn Write, series: &[nanots::SeriesResult]) -> io::Result<()> {
    for s in series {
        write!(
            out,
            "{{\"series\":{},\"labels\":{},\"points\":[",
            json_string(&s.labels.to_string()),
            json_labels(&s.labels)
        )?;
        for (j, &t) in s.timestamps.iter().enumerate() {
            if let Some(v) = s.values.get(j) {
                if j > 0 {
                    write!(out, ",")?;
                }
                write!(out, "[{t},{}]", json_value(v))?;
            }
        }
        writeln!(out, "]}}")?;
    }
    Ok(())
}

pub fn write_series_charts(
    out: &mut dyn Write,
    series: &[nanots::SeriesResult],
    ctx: &OutputCtx,
) -> io::Result<()> {
    let (cols, rows) = chart::terminal_size();
    let plot_rows = chart::plot_rows_for(rows, series.len());
    for s in series {
        let cs = ChartSeries {
            title: format!(
                "{}  ({} points, UTC)",
                ctx.title(&s.labels),
                s.timestamps.len()
            ),
            timestamps: &s.timestamps,
            values: column_f64(&s.values),
        };
        let text = chart::render(
            &cs,
            &ChartOptions {
                width: cols.saturating_sub(1),
                plot_rows,
                ups: ctx.ups,
                color: ctx.color,
            },
        );
        out.write_all(text.as_bytes())?;
    }
    Ok(())
}

/// Bytes with a binary unit: `512 B`, `1.50 KiB`, `34.0 MiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if v >= 100.0 {
        format!("{v:.0} {}", UNITS[u])
    } else if v >= 10.0 {
        format!("{v:.1} {}", UNITS[u])
    } else {
        format!("{v:.2} {}", UNITS[u])
    }
}

/// An integer with thousands separators, for figures people read: `2,075,259`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use nanots::SeriesResult;
    use std::collections::BTreeMap;

    fn labels(metric: &str, kv: &[(&str, &str)]) -> Labels {
        Labels {
            metric: metric.into(),
            labels: kv
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
        }
    }

    fn render(res: &QueryResult, f: Format) -> String {
        let mut buf = Vec::new();
        write_result(
            &mut buf,
            res,
            f,
            &OutputCtx {
                ups: 1000,
                color: false,
                query: "q",
            },
        )
        .unwrap();
        String::from_utf8(buf).unwrap()
    }

    fn sample() -> QueryResult {
        QueryResult::Series(vec![SeriesResult {
            labels: labels("t", &[("d", "a,\"b\"")]),
            timestamps: vec![0, 1500],
            values: Column::Float64(vec![1.5, f64::NAN]),
        }])
    }

    #[test]
    fn scalars() {
        let one = QueryResult::Scalars(vec![(Labels::default(), Value::Float64(46.0))]);
        for f in [Format::Table, Format::Csv, Format::Json, Format::Chart] {
            assert_eq!(render(&one, f), "46\n");
        }
        let by = QueryResult::Scalars(vec![
            (labels("", &[("d", "a")]), Value::Integer64(3)),
            (labels("", &[("d", "b")]), Value::Integer64(4)),
        ]);
        assert_eq!(render(&by, Format::Table), "{d=\"a\"} 3\n{d=\"b\"} 4\n");
        assert_eq!(
            render(&by, Format::Csv),
            "series,value\n\"{d=\"\"a\"\"}\",3\n\"{d=\"\"b\"\"}\",4\n"
        );
        assert!(render(&by, Format::Json).starts_with("{\"series\":\"{d=\\\"a\\\"}\",\"labels\":{\"__name__\":\"\",\"d\":\"a\"},\"value\":3}\n"));
    }

    #[test]
    fn series_formats() {
        let r = sample();
        assert_eq!(
            render(&r, Format::Csv),
            "series,timestamp,value\n\"t{d=\"\"a,\\\"\"b\\\"\"\"\"}\",0,1.5\n\"t{d=\"\"a,\\\"\"b\\\"\"\"\"}\",1500,NaN\n"
        );
        assert_eq!(
            render(&r, Format::Json),
            "{\"series\":\"t{d=\\\"a,\\\\\\\"b\\\\\\\"\\\"}\",\"labels\":{\"__name__\":\"t\",\"d\":\"a,\\\"b\\\"\"},\"points\":[[0,1.5],[1500,null]]}\n"
        );
        let table = render(&r, Format::Table);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines[1], "timestamp  time (UTC)               value");
        assert_eq!(lines[3], "        0  1970-01-01 00:00:00        1.5");
        assert_eq!(lines[4], "     1500  1970-01-01 00:00:01.500    NaN");
        assert_eq!(lines[5], "(2 points)");
        assert!(render(&r, Format::Chart).contains('┤'));
        let empty = QueryResult::Series(vec![]);
        assert_eq!(render(&empty, Format::Table), "(no data)\n");
        assert_eq!(render(&empty, Format::Json), "");
    }

    #[test]
    fn helpers() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.50 KiB");
        assert_eq!(human_bytes(34 << 20), "34.0 MiB");
        assert_eq!(thousands(2_075_259), "2,075,259");
        assert_eq!(thousands(999), "999");
        assert_eq!(json_string("a\u{1}"), "\"a\\u0001\"");
        let mut buf = Vec::new();
        write_table(
            &mut buf,
            &["name", "n"],
            &[Align::Left, Align::Right],
            &[vec!["é".into(), "10".into()]],
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "name   n\n----  --\né     10\n"
        );
    }
}
