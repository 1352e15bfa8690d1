//! Terminal line charts drawn with Unicode braille: every character cell holds a 2×4 dot grid,
//! so a chart has twice the horizontal and four times the vertical resolution of the text.

use crate::timefmt::format_axis_label;

/// Terminal size in character cells (columns, rows).
pub fn terminal_size() -> (usize, usize) {
    for fd in [libc::STDOUT_FILENO, libc::STDERR_FILENO, libc::STDIN_FILENO] {
        // SAFETY: TIOCGWINSZ writes one `winsize` into the struct we pass; it fails cleanly
        // (returning -1) when the descriptor is not a terminal.
        let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
        let rc = unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) };
        if rc == 0 && ws.ws_col > 0 && ws.ws_row > 0 {
            return (usize::from(ws.ws_col), usize::from(ws.ws_row));
        }
    }
    let env = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|&v| v > 0)
            .unwrap_or(default)
    };
    (env("COLUMNS", 80), env("LINES", 24))
}

/// Dot bit of braille pattern U+2800+bits for sub-cell column `dx` (0–1), row `dy` (0–3).
fn braille_bit(dx: usize, dy: usize) -> u8 {
    const BITS: [[u8; 4]; 2] = [[0x01, 0x02, 0x04, 0x40], [0x08, 0x10, 0x20, 0x80]];
    BITS[dx][dy]
}

struct Canvas {
    cols: usize,
    rows: usize,
    cells: Vec<u8>,
}

impl Canvas {
    fn new(cols: usize, rows: usize) -> Canvas {
        Canvas {
            cols,
            rows,
            cells: vec![0; cols * rows],
        }
    }
    fn width(&self) -> usize {
        self.cols * 2
    }
    fn height(&self) -> usize {
        self.rows * 4
    }
    /// `y` counts from the bottom.
    fn set(&mut self, x: usize, y: usize) {
        if x >= self.width() || y >= self.height() {
            return;
        }
        let yt = self.height() - 1 - y;
        self.cells[(yt / 4) * self.cols + x / 2] |= braille_bit(x % 2, yt % 4);
    }
    fn vline(&mut self, x: usize, y0: usize, y1: usize) {
        for y in y0.min(y1)..=y0.max(y1) {
            self.set(x, y);
        }
    }
    fn row_string(&self, r: usize) -> String {
        self.cells[r * self.cols..(r + 1) * self.cols]
            .iter()
            .map(|&b| char::from_u32(0x2800 + u32::from(b)).unwrap_or(' '))
            .collect()
    }
}

/// One series to draw.
pub struct ChartSeries<'a> {
    pub title: String,
    pub timestamps: &'a [i64],
    pub values: Vec<f64>,
}

pub struct ChartOptions {
    /// Total width in character cells, labels included.
    pub width: usize,
    /// Rows of plot area (axis and labels come on top of these).
    pub plot_rows: usize,
    /// Database timestamp units per second.
    pub ups: i64,
    pub color: bool,
}

/// Formats a y-axis value compactly, keeping enough digits to tell min from max apart.
pub fn format_value(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if !(1e-3..1e9).contains(&a) {
        return format!("{v:.3e}");
    }
    let s = if a >= 1000.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.4}")
    };
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Renders one chart: title, y labels (max at the top, min at the bottom), plot, time axis.
/// Many points per dot column are drawn as a vertical min–max bar joined to the neighbours,
/// so spikes stay visible at any zoom.
pub fn render(series: &ChartSeries, opts: &ChartOptions) -> String {
    let mut out = String::new();
    out.push_str(&series.title);
    out.push('\n');
    let points: Vec<(i64, f64)> = series
        .timestamps
        .iter()
        .zip(&series.values)
        .filter(|(_, v)| v.is_finite())
        .map(|(&t, &v)| (t, v))
        .collect();
    if points.is_empty() {
        out.push_str("  (no data)\n");
        return out;
    }
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for &(_, v) in &points {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    let t0 = points.iter().map(|p| p.0).min().unwrap_or(0);
    let t1 = points.iter().map(|p| p.0).max().unwrap_or(0);
    let hi_label = format_value(hi);
    let lo_label = format_value(lo);
    let label_w = hi_label.chars().count().max(lo_label.chars().count());
    let cols = opts.width.saturating_sub(label_w + 2).max(10);
    let rows = opts.plot_rows.max(2);
    let mut canvas = Canvas::new(cols, rows);
    let (w, h) = (canvas.width(), canvas.height());
    let span_t = (t1 as i128 - t0 as i128).max(1);
    let span_v = hi - lo;
    let px = |t: i64| -> usize { ((t as i128 - t0 as i128) * (w as i128 - 1) / span_t) as usize };
    let py = |v: f64| -> usize {
        if span_v <= 0.0 {
            h / 2
        } else {
            (((v - lo) / span_v) * (h - 1) as f64).round() as usize
        }
    };
    // Per dot column: (first, last, min, max) dot row.
    let mut columns: Vec<Option<(usize, usize, usize, usize)>> = vec![None; w];
    for &(t, v) in &points {
        let x = px(t).min(w - 1);
        let y = py(v).min(h - 1);
        columns[x] = Some(match columns[x] {
            None => (y, y, y, y),
            Some((f, _, mn, mx)) => (f, y, mn.min(y), mx.max(y)),
        });
    }
    let mut prev: Option<(usize, usize)> = None;
    for (x, c) in columns.iter().enumerate() {
        let Some((first, last, mn, mx)) = *c else {
            continue;
        };
        canvas.vline(x, mn, mx);
        if let Some((px_, py_)) = prev {
            draw_line(&mut canvas, px_, py_, x, first);
        }
        prev = Some((x, last));
    }
    let (on, off) = if opts.color {
        ("\x1b[36m", "\x1b[0m")
    } else {
        ("", "")
    };
    for r in 0..rows {
        let label = if r == 0 {
            hi_label.as_str()
        } else if r == rows - 1 {
            lo_label.as_str()
        } else {
            ""
        };
        let tick = if r == 0 || r == rows - 1 {
            '┤'
        } else {
            '│'
        };
        out.push_str(&format!(
            "{label:>label_w$} {tick}{on}{}{off}\n",
            canvas.row_string(r)
        ));
    }
    out.push_str(&format!("{:>label_w$} └{}\n", "", "─".repeat(cols)));
    out.push_str(&time_axis(t0, t1, cols, label_w + 2, opts.ups));
    out
}

/// Bresenham between two dots.
fn draw_line(c: &mut Canvas, x0: usize, y0: usize, x1: usize, y1: usize) {
    let (mut x, mut y) = (x0 as i64, y0 as i64);
    let (x1, y1) = (x1 as i64, y1 as i64);
    let dx = (x1 - x).abs();
    let dy = -(y1 - y).abs();
    let sx = if x < x1 { 1 } else { -1 };
    let sy = if y < y1 { 1 } else { -1 };
    let mut err = dx + dy;
    loop {
        c.set(x as usize, y as usize);
        if x == x1 && y == y1 {
            break;
        }
        let e2 = 2 * err;
        if e2 >= dy {
            err += dy;
            x += sx;
        }
        if e2 <= dx {
            err += dx;
            y += sy;
        }
    }
}

/// Time labels under the plot: as many as fit with some spacing, the first left-aligned at the
/// plot's start and the last right-aligned at its end.
fn time_axis(t0: i64, t1: i64, cols: usize, indent: usize, ups: i64) -> String {
    let span = t1.saturating_sub(t0);
    let mut line: Vec<char> = vec![' '; indent + cols];
    if t0 == t1 {
        put(&mut line, indent, &format_axis_label(t0, ups, 0));
    } else {
        // The widest label format is 11 characters; leave room between neighbours.
        let n = (cols / 15).clamp(2, 6);
        let step = (span as i128 / (n as i128 - 1)) as i64;
        for i in 0..n {
            let t = t0 + ((span as i128) * i as i128 / (n as i128 - 1)) as i64;
            let label = format_axis_label(t, ups, step);
            let lw = label.chars().count();
            let x = indent + cols.saturating_sub(1) * i / (n - 1);
            let start = if i == 0 {
                indent
            } else if i == n - 1 {
                (indent + cols).saturating_sub(lw)
            } else {
                x.saturating_sub(lw / 2)
            };
            put(&mut line, start, &label);
        }
    }
    let mut s: String = line.into_iter().collect();
    s = s.trim_end().to_string();
    s.push('\n');
    s
}

fn put(line: &mut Vec<char>, at: usize, text: &str) {
    for (i, ch) in text.chars().enumerate() {
        if at + i < line.len() {
            line[at + i] = ch;
        } else {
            line.push(ch);
        }
    }
}

/// Plot rows for `n` charts on a terminal of `term_rows` rows: the charts share the screen,
/// but each keeps a readable minimum and a sensible maximum.
pub fn plot_rows_for(term_rows: usize, n: usize) -> usize {
    let per = term_rows.saturating_sub(2) / n.clamp(1, 3);
    per.saturating_sub(4).clamp(4, 24)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(width: usize, rows: usize) -> ChartOptions {
        ChartOptions {
            width,
            plot_rows: rows,
            ups: 1000,
            color: false,
        }
    }

    #[test]
    fn draws_a_rising_line_with_labels() {
        let ts: Vec<i64> = (0..100).map(|i| 1_700_000_000_000 + i * 60_000).collect();
        let s = ChartSeries {
            title: "temp{dev=\"a\"}".into(),
            timestamps: &ts,
            values: (0..100).map(|i| i as f64).collect(),
        };
        let text = render(&s, &opts(60, 6));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "temp{dev=\"a\"}");
        assert!(lines[1].starts_with("99 ┤"), "{text}");
        assert!(lines[6].starts_with(" 0 ┤"), "{text}");
        assert!(lines[7].contains('└'));
        assert!(lines[8].contains("11-14 22:13"), "{text}");
        assert!(lines[8].ends_with("11-14 23:52"), "{text}");
        assert!(lines[8].chars().count() <= 60);
        // Rising: the top row has dots only at the right, the bottom only at the left.
        let top: Vec<char> = lines[1].chars().skip(4).collect();
        let bottom: Vec<char> = lines[6].chars().skip(4).collect();
        assert_eq!(top[0], '\u{2800}');
        assert_ne!(*top.last().unwrap(), '\u{2800}');
        assert_ne!(bottom[0], '\u{2800}');
        assert_eq!(*bottom.last().unwrap(), '\u{2800}');
        for l in &lines[1..7] {
            assert_eq!(l.chars().count(), 60, "{l}");
        }
    }

    #[test]
    fn degenerate_inputs_do_not_panic() {
        let ts = [5i64];
        for vals in [vec![1.0], vec![f64::NAN]] {
            let s = ChartSeries {
                title: "x".into(),
                timestamps: &ts,
                values: vals,
            };
            let _ = render(&s, &opts(3, 0));
        }
        let ts = [i64::MIN, i64::MAX];
        let s = ChartSeries {
            title: "x".into(),
            timestamps: &ts,
            values: vec![f64::MIN, f64::MAX],
        };
        let text = render(&s, &opts(40, 4));
        assert!(text.contains('└'));
        let empty = ChartSeries {
            title: "e".into(),
            timestamps: &[],
            values: vec![],
        };
        assert!(render(&empty, &opts(40, 4)).contains("no data"));
    }

    #[test]
    fn braille_bits_cover_the_cell() {
        let mut all = 0u8;
        for dx in 0..2 {
            for dy in 0..4 {
                all |= braille_bit(dx, dy);
            }
        }
        assert_eq!(all, 0xff);
        let mut c = Canvas::new(1, 1);
        c.set(0, 3);
        assert_eq!(c.row_string(0), "\u{2801}");
    }

    #[test]
    fn value_labels() {
        assert_eq!(format_value(234.84), "234.84");
        assert_eq!(format_value(1.5), "1.5");
        assert_eq!(format_value(12345.6), "12346");
        assert_eq!(format_value(0.0), "0");
        assert_eq!(format_value(1e12), "1.000e12");
        assert_eq!(plot_rows_for(24, 1), 18);
        assert_eq!(plot_rows_for(24, 4), 4);
    }
}
