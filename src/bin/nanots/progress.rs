//! A one-line progress bar on stderr, drawn only when stderr is a terminal.

use std::io::Write;
use std::time::{Duration, Instant};

pub fn stderr_is_tty() -> bool {
    // SAFETY: isatty only inspects the descriptor.
    unsafe { libc::isatty(libc::STDERR_FILENO) == 1 }
}

pub fn stdout_is_tty() -> bool {
    // SAFETY: isatty only inspects the descriptor.
    unsafe { libc::isatty(libc::STDOUT_FILENO) == 1 }
}

pub fn stdin_is_tty() -> bool {
    // SAFETY: isatty only inspects the descriptor.
    unsafe { libc::isatty(libc::STDIN_FILENO) == 1 }
}

pub struct Progress {
    enabled: bool,
    total: u64,
    label: &'static str,
    started: Instant,
    last_draw: Option<Instant>,
    drawn: bool,
}

impl Progress {
    /// `total` is in the same unit as the `done` values passed to `update` (0: unknown).
    pub fn new(enabled: bool, total: u64, label: &'static str) -> Progress {
        Progress {
            enabled,
            total,
            label,
            started: Instant::now(),
            last_draw: None,
            drawn: false,
        }
    }

    /// Redraws at most ten times a second, so the bar costs nothing measurable.
    pub fn update(&mut self, done: u64, items: u64) {
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        if let Some(last) = self.last_draw
            && now.duration_since(last) < Duration::from_millis(100)
        {
            return;
        }
        self.last_draw = Some(now);
        let line = render_bar(
            self.label,
            done,
            self.total,
            items,
            now.duration_since(self.started).as_secs_f64(),
        );
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{line}\x1b[K");
        let _ = err.flush();
        self.drawn = true;
    }

    pub fn finish(&mut self) {
        if self.drawn {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
            self.drawn = false;
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

pub fn render_bar(label: &str, done: u64, total: u64, items: u64, secs: f64) -> String {
    const WIDTH: usize = 30;
    let rate = if secs > 0.0 { items as f64 / secs } else { 0.0 };
    if total == 0 {
        return format!("{label} {} rows ({:.0} rows/s)", items, rate);
    }
    let frac = (done as f64 / total as f64).clamp(0.0, 1.0);
    let filled = (frac * WIDTH as f64).round() as usize;
    format!(
        "{label} [{}{}] {:>3.0}%  {} rows ({:.0} rows/s)",
        "#".repeat(filled),
        "-".repeat(WIDTH - filled),
        frac * 100.0,
        items,
        rate
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bar() {
        assert_eq!(
            render_bar("importing", 50, 100, 10, 2.0),
            "importing [###############---------------]  50%  10 rows (5 rows/s)"
        );
        assert_eq!(render_bar("x", 5, 0, 7, 0.0), "x 7 rows (0 rows/s)");
        assert!(render_bar("x", 500, 100, 1, 1.0).contains("100%"));
    }
}
