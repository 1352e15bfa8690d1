//! Calendar arithmetic, timestamp parsing and formatting. All times are UTC; timestamps are
//! integers in the database's unit, given here as `ups` (units per second).

const SECS_PER_DAY: i64 = 86_400;

/// Days since 1970-01-01 of a proleptic Gregorian date. Works in 400-year eras so that the
/// leap-year rule needs no loop.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`]: (year, month 1–12, day 1–31).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        _ => 28,
    }
}

/// A broken-down UTC time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// Sub-second part in units (0 ≤ frac < ups).
    pub frac: i64,
}

pub fn to_civil(ts: i64, ups: i64) -> Civil {
    let secs = ts.div_euclid(ups);
    let frac = ts.rem_euclid(ups);
    let days = secs.div_euclid(SECS_PER_DAY);
    let sod = secs.rem_euclid(SECS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    Civil {
        year,
        month,
        day,
        hour: (sod / 3600) as u32,
        minute: (sod % 3600 / 60) as u32,
        second: (sod % 60) as u32,
        frac,
    }
}

/// Number of decimal digits of a sub-second fraction in this unit (ms → 3, µs → 6, …).
fn frac_digits(ups: i64) -> usize {
    let mut n = 0;
    let mut u = ups;
    while u >= 10 {
        u /= 10;
        n += 1;
    }
    n
}

fn push_frac(out: &mut String, frac: i64, ups: i64) {
    let digits = frac_digits(ups);
    if frac != 0 && digits > 0 {
        out.push_str(&format!(".{frac:0digits$}"));
    }
}

/// `YYYY-MM-DD HH:MM:SS[.fff]`: the fraction appears only when it is not zero, with as many
/// digits as the unit has.
pub fn format_timestamp(ts: i64, ups: i64) -> String {
    let c = to_civil(ts, ups);
    let mut s = format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    );
    push_frac(&mut s, c.frac, ups);
    s
}

/// RFC 3339 in UTC with a `Z` suffix.
pub fn format_rfc3339(ts: i64, ups: i64) -> String {
    let c = to_civil(ts, ups);
    let mut s = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    );
    push_frac(&mut s, c.frac, ups);
    s.push('Z');
    s
}

/// A short label for a chart's time axis, as precise as the distance `step` between
/// neighbouring labels requires (so that neighbours never read the same).
pub fn format_axis_label(ts: i64, ups: i64, step: i64) -> String {
    let c = to_civil(ts, ups);
    let step_secs = step / ups.max(1);
    if step_secs >= SECS_PER_DAY {
        format!("{:04}-{:02}-{:02}", c.year, c.month, c.day)
    } else if step_secs >= 60 {
        format!("{:02}-{:02} {:02}:{:02}", c.month, c.day, c.hour, c.minute)
    } else if step_secs >= 1 {
        format!("{:02}:{:02}:{:02}", c.hour, c.minute, c.second)
    } else {
        let digits = frac_digits(ups).min(3);
        if digits == 0 {
            return format!("{:02}:{:02}:{:02}", c.hour, c.minute, c.second);
        }
        let scaled = c.frac / (ups / 10_i64.pow(digits as u32));
        format!("{:02}:{:02}.{:0digits$}", c.minute, c.second, scaled)
    }
}

/// A duration in seconds, with a unit that keeps three significant digits readable.
pub fn format_duration(secs: f64) -> String {
    if secs >= 100.0 {
        format!("{secs:.0} s")
    } else if secs >= 1.0 {
        format!("{secs:.2} s")
    } else if secs >= 1e-3 {
        format!("{:.2} ms", secs * 1e3)
    } else if secs >= 1e-6 {
        format!("{:.2} µs", secs * 1e6)
    } else {
        format!("{:.0} ns", secs * 1e9)
    }
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn digits(&mut self, n: usize) -> Option<u32> {
        let end = self.i.checked_add(n)?;
        let s = self.b.get(self.i..end)?;
        let mut v = 0u32;
        for &c in s {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + u32::from(c - b'0');
        }
        self.i = end;
        Some(v)
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn done(&self) -> bool {
        self.i == self.b.len()
    }
}

/// Parses a timestamp given as an integer in the database unit, an RFC 3339 time (`T` or a
/// space between date and time, fractional seconds, `Z` or `±HH:MM`; no offset means UTC),
/// `YYYY-MM-DD HH:MM[:SS]` or `YYYY-MM-DD`. Fraction digits finer than the unit are truncated.
pub fn parse_timestamp(text: &str, ups: i64) -> Result<i64, String> {
    let s = crate::import::trim_fast(text);
    let b = s.as_bytes();
    let looks_like_date = b.len() >= 10 && b[4] == b'-' && b[..4].iter().all(u8::is_ascii_digit);
    if !looks_like_date {
        return s.parse::<i64>().map_err(|_| {
            format!(
                "invalid time `{s}`: expected an integer in the database unit, \
                 RFC 3339 (2024-01-31T12:00:00Z), `YYYY-MM-DD HH:MM:SS` or `YYYY-MM-DD`"
            )
        });
    }
    parse_date_time(b, ups).ok_or_else(|| format!("invalid date/time `{s}`"))
}

fn parse_date_time(b: &[u8], ups: i64) -> Option<i64> {
    let mut c = Cursor { b, i: 0 };
    let year = i64::from(c.digits(4)?);
    if !c.eat(b'-') {
        return None;
    }
    let month = c.digits(2)?;
    if !c.eat(b'-') {
        return None;
    }
    let day = c.digits(2)?;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    let (mut hour, mut minute, mut second, mut frac) = (0u32, 0u32, 0u32, 0i64);
    let mut offset_secs = 0i64;
    if !c.done() {
        if !(c.eat(b'T') || c.eat(b't') || c.eat(b' ')) {
            return None;
        }
        hour = c.digits(2)?;
        if !c.eat(b':') {
            return None;
        }
        minute = c.digits(2)?;
        if c.eat(b':') {
            second = c.digits(2)?;
            if c.eat(b'.') || c.eat(b',') {
                let start = c.i;
                let mut value = 0i64;
                let mut scale = ups;
                while let Some(d) = c.peek().filter(u8::is_ascii_digit) {
                    c.i += 1;
                    if scale >= 10 {
                        scale /= 10;
                        value += i64::from(d - b'0') * scale;
                    }
                }
                if c.i == start {
                    return None;
                }
                frac = value;
            }
        }
        // Leap seconds (`:60`) are not representable in a Unix timestamp.
        if hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        match c.peek() {
            None => {}
            Some(b'Z' | b'z') => {
                c.i += 1;
            }
            Some(sign @ (b'+' | b'-')) => {
                c.i += 1;
                let oh = c.digits(2)?;
                c.eat(b':');
                let om = c.digits(2)?;
                if oh > 23 || om > 59 {
                    return None;
                }
                let off = i64::from(oh * 3600 + om * 60);
                offset_secs = if sign == b'+' { off } else { -off };
            }
            Some(_) => return None,
        }
        if !c.done() {
            return None;
        }
    }
    let days = days_from_civil(year, month, day);
    let secs = days * SECS_PER_DAY + i64::from(hour * 3600 + minute * 60 + second) - offset_secs;
    secs.checked_mul(ups)?.checked_add(frac)
}

/// Parses a `.range`/`--start`/`--end` bound: `-` (or empty) is unbounded.
pub fn parse_bound(text: &str, ups: i64) -> Result<Option<i64>, String> {
    let t = text.trim();
    if t.is_empty() || t == "-" {
        Ok(None)
    } else {
        parse_timestamp(t, ups).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip_over_many_years() {
        for days in (-800_000..800_000).step_by(7) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    }

    #[test]
    fn parses_every_format() {
        let ms = 1000;
        assert_eq!(parse_timestamp("1700000000000", ms), Ok(1_700_000_000_000));
        assert_eq!(parse_timestamp("-5", ms), Ok(-5));
        assert_eq!(parse_timestamp("1970-01-01", ms), Ok(0));
        assert_eq!(
            parse_timestamp("2006-12-16 17:24:00", ms),
            Ok(1_166_289_840_000)
        );
        assert_eq!(
            parse_timestamp("2006-12-16T17:24:00Z", ms),
            Ok(1_166_289_840_000)
        );
        assert_eq!(
            parse_timestamp("2006-12-16T17:24:00.5Z", ms),
            Ok(1_166_289_840_500)
        );
        assert_eq!(
            parse_timestamp("2006-12-16T18:24:00+01:00", ms),
            Ok(1_166_289_840_000)
        );
        assert_eq!(
            parse_timestamp("2006-12-16T16:24:00-0100", ms),
            Ok(1_166_289_840_000)
        );
        assert_eq!(
            parse_timestamp("2006-12-16 17:24", ms),
            Ok(1_166_289_840_000)
        );
        assert_eq!(parse_timestamp(" 2024-02-29 ", 1), Ok(1_709_164_800));
        // Finer fractions than the unit are truncated, coarser ones scaled.
        assert_eq!(
            parse_timestamp("1970-01-01T00:00:01.123456789Z", 1_000_000),
            Ok(1_123_456)
        );
        assert_eq!(parse_timestamp("1970-01-01T00:00:01.9Z", 1), Ok(1));
        assert_eq!(parse_timestamp("1969-12-31T23:59:59.5Z", 1000), Ok(-500));
    }

    #[test]
    fn rejects_bad_input_without_panicking() {
        for bad in [
            "",
            "abc",
            "2024-13-01",
            "2023-02-29",
            "2024-01-01X",
            "2024-01-01 25:00:00",
            "2024-01-01T10:00:00+",
            "2024-01-01T10:00:00.Z",
            "2024-01-01T10",
            "99999999999999999999",
            "2024-01-01T10:00:00Z junk",
            "2024-1-01",
            "2024-01-01T1a:00:00",
            "٣٣٣٣-01-01",
        ] {
            assert!(parse_timestamp(bad, 1000).is_err(), "{bad}");
        }
        // Overflow in the unit conversion is an error, not a wrap.
        assert!(parse_timestamp("9999-12-31T23:59:59Z", 1_000_000_000).is_err());
    }

    #[test]
    fn formats() {
        assert_eq!(
            format_timestamp(1_166_289_840_000, 1000),
            "2006-12-16 17:24:00"
        );
        assert_eq!(
            format_timestamp(1_166_289_840_042, 1000),
            "2006-12-16 17:24:00.042"
        );
        assert_eq!(format_rfc3339(-1, 1000), "1969-12-31T23:59:59.999Z");
        assert_eq!(format_rfc3339(86_400, 1), "1970-01-02T00:00:00Z");
        let t = parse_timestamp("2024-05-06T07:08:09.123456Z", 1_000_000).unwrap();
        assert_eq!(format_rfc3339(t, 1_000_000), "2024-05-06T07:08:09.123456Z");
        assert_eq!(
            format_axis_label(t, 1_000_000, 2 * 86_400_000_000),
            "2024-05-06"
        );
        assert_eq!(
            format_axis_label(t, 1_000_000, 3_600_000_000),
            "05-06 07:08"
        );
        assert_eq!(format_axis_label(t, 1_000_000, 10_000_000), "07:08:09");
        assert_eq!(format_axis_label(t, 1_000_000, 100_000), "08:09.123");
        assert_eq!(format_duration(0.0123), "12.30 ms");
        assert_eq!(format_duration(2.5), "2.50 s");
    }

    proptest::proptest! {
        /// Every representable second formats and parses back to itself.
        #[test]
        fn format_parse_round_trip(secs in -62_135_596_800i64..253_402_300_799, frac in 0i64..1000) {
            let ts = secs * 1000 + frac;
            proptest::prop_assert_eq!(parse_timestamp(&format_rfc3339(ts, 1000), 1000), Ok(ts));
            proptest::prop_assert_eq!(parse_timestamp(&format_timestamp(ts, 1000), 1000), Ok(ts));
        }
    }

    #[test]
    fn bounds() {
        assert_eq!(parse_bound("-", 1000), Ok(None));
        assert_eq!(parse_bound("10", 1000), Ok(Some(10)));
        assert!(parse_bound("x", 1000).is_err());
    }
}
