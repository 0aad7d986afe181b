//! The primitive values of OData literals that JSON has no type for: `Edm.Guid`, `Edm.Date`
//! and `Edm.DateTimeOffset`, each read from its OData/RFC 3339 text and written back.
//!
//! A `DateTimeOffset` keeps the local date and time and the offset it was written with (so an
//! expression renders as it was read); comparisons use [`DateTimeOffset::instant`], the UTC
//! instant, never the text.

use std::fmt;

/// An `Edm.Guid`: 128 bits, written `8-4-4-4-12` hex digits, read in either case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Guid(pub u128);

impl Guid {
    /// Reads exactly `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (hex, either case).
    pub fn parse(text: &str) -> Option<Guid> {
        let bytes = text.as_bytes();
        if bytes.len() != 36 {
            return None;
        }
        let mut value: u128 = 0;
        for (i, &b) in bytes.iter().enumerate() {
            if matches!(i, 8 | 13 | 18 | 23) {
                if b != b'-' {
                    return None;
                }
                continue;
            }
            let digit = (b as char).to_digit(16)?;
            value = (value << 4) | u128::from(digit);
        }
        Some(Guid(value))
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex = format!("{:032x}", self.0);
        write!(
            f,
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        )
    }
}

/// An `Edm.Date`: a calendar day, years 0000–9999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl Date {
    /// A valid date, or `None` (month 1–12, the day within the month, leap years counted).
    pub fn new(year: u16, month: u8, day: u8) -> Option<Date> {
        let valid = year <= 9999 && (1..=12).contains(&month) && day >= 1;
        (valid && day <= days_in_month(year, month)).then_some(Date { year, month, day })
    }

    /// Reads exactly `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Option<Date> {
        match parse_date_prefix(text.as_bytes()) {
            Some((date, 10)) if text.len() == 10 => Some(date),
            _ => None,
        }
    }

    /// Days since 1970-01-01 (negative before).
    pub fn days_since_epoch(&self) -> i64 {
        // The proleptic Gregorian day count of H. Hinnant's `days_from_civil`.
        let (y, m, d) = (
            i64::from(self.year),
            i64::from(self.month),
            i64::from(self.day),
        );
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

fn is_leap(year: u16) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn digits(bytes: &[u8], at: usize, n: usize) -> Option<u32> {
    let slice = bytes.get(at..at + n)?;
    slice.iter().try_fold(0u32, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
    })
}

/// A date at the start of `bytes` and the bytes it took (always 10).
pub(crate) fn parse_date_prefix(bytes: &[u8]) -> Option<(Date, usize)> {
    let year = digits(bytes, 0, 4)?;
    if bytes.get(4) != Some(&b'-') || bytes.get(7) != Some(&b'-') {
        return None;
    }
    let month = digits(bytes, 5, 2)?;
    let day = digits(bytes, 8, 2)?;
    let date = Date::new(year as u16, month as u8, day as u8)?;
    Some((date, 10))
}

/// An `Edm.DateTimeOffset`: a local date and time with the offset from UTC it was written
/// with, to the nanosecond.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DateTimeOffset {
    pub date: Date,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    pub nanos: u32,
    /// Minutes east of UTC, −23:59 to +23:59 (`Z` is 0).
    pub offset_minutes: i16,
}

impl DateTimeOffset {
    /// Reads the whole of `text` as RFC 3339 / OData (`2026-12-01T08:00:00.000Z`, seconds
    /// optional, `Z` or `±hh:mm`).
    pub fn parse(text: &str) -> Option<DateTimeOffset> {
        match parse_date_time_prefix(text.as_bytes()) {
            Some((value, len)) if len == text.len() => Some(value),
            _ => None,
        }
    }

    /// The UTC instant: seconds since 1970-01-01T00:00:00Z and the nanoseconds within it.
    pub fn instant(&self) -> (i64, u32) {
        let local = self.date.days_since_epoch() * 86_400
            + i64::from(self.hour) * 3_600
            + i64::from(self.minute) * 60
            + i64::from(self.second);
        (local - i64::from(self.offset_minutes) * 60, self.nanos)
    }
}

impl fmt::Display for DateTimeOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}T{:02}:{:02}:{:02}",
            self.date, self.hour, self.minute, self.second
        )?;
        if self.nanos != 0 {
            let fraction = format!("{:09}", self.nanos);
            write!(f, ".{}", fraction.trim_end_matches('0'))?;
        }
        if self.offset_minutes == 0 {
            return f.write_str("Z");
        }
        let sign = if self.offset_minutes < 0 { '-' } else { '+' };
        let offset = self.offset_minutes.unsigned_abs();
        write!(f, "{sign}{:02}:{:02}", offset / 60, offset % 60)
    }
}

/// A date-time at the start of `bytes` and how many bytes it took: `YYYY-MM-DDThh:mm`,
/// optionally `:ss` and `.fraction` (1–12 digits, kept to the nanosecond), then `Z` or
/// `±hh:mm`.
pub(crate) fn parse_date_time_prefix(bytes: &[u8]) -> Option<(DateTimeOffset, usize)> {
    let (date, mut at) = parse_date_prefix(bytes)?;
    if !matches!(bytes.get(at), Some(b'T' | b't')) {
        return None;
    }
    let hour = digits(bytes, at + 1, 2)?;
    if bytes.get(at + 3) != Some(&b':') {
        return None;
    }
    let minute = digits(bytes, at + 4, 2)?;
    at += 6;
    let mut second = 0;
    let mut nanos = 0u32;
    if bytes.get(at) == Some(&b':') {
        second = digits(bytes, at + 1, 2)?;
        at += 3;
        if bytes.get(at) == Some(&b'.') {
            at += 1;
            let start = at;
            while at < bytes.len() && bytes[at].is_ascii_digit() {
                if at - start < 9 {
                    nanos = nanos * 10 + u32::from(bytes[at] - b'0');
                }
                at += 1;
            }
            let count = at - start;
            if count == 0 || count > 12 {
                return None;
            }
            for _ in count..9 {
                nanos *= 10;
            }
        }
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let offset_minutes = match bytes.get(at) {
        Some(b'Z' | b'z') => {
            at += 1;
            0
        }
        Some(&sign @ (b'+' | b'-')) => {
            let oh = digits(bytes, at + 1, 2)?;
            if bytes.get(at + 3) != Some(&b':') {
                return None;
            }
            let om = digits(bytes, at + 4, 2)?;
            if oh > 23 || om > 59 {
                return None;
            }
            at += 6;
            let minutes = (oh * 60 + om) as i16;
            if sign == b'-' { -minutes } else { minutes }
        }
        _ => return None,
    };
    let value = DateTimeOffset {
        date,
        hour: hour as u8,
        minute: minute as u8,
        second: second as u8,
        nanos,
        offset_minutes,
    };
    Some((value, at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_read_in_either_case_and_write_lower_case() {
        let g = Guid::parse("3F2B1C4D-0000-4A5B-9C8D-ABCDEF012345").unwrap();
        assert_eq!(g.to_string(), "3f2b1c4d-0000-4a5b-9c8d-abcdef012345");
        assert_eq!(Guid::parse(&g.to_string()), Some(g));
        assert_eq!(Guid::parse("3f2b1c4d-0000-4a5b-9c8d-abcdef01234"), None);
        assert_eq!(Guid::parse("3f2b1c4d00000-4a5b-9c8d-abcdef012345"), None);
        assert_eq!(Guid::parse("3f2b1c4d-0000-4a5b-9c8d-abcdef01234g"), None);
    }

    #[test]
    fn dates_check_the_calendar() {
        assert!(Date::parse("2024-02-29").is_some());
        assert!(Date::parse("2026-02-29").is_none());
        assert!(Date::parse("2026-13-01").is_none());
        assert!(Date::parse("2026-04-31").is_none());
        assert_eq!(Date::parse("1970-01-01").unwrap().days_since_epoch(), 0);
        assert_eq!(
            Date::parse("2000-03-01").unwrap().days_since_epoch(),
            11_017
        );
    }

    #[test]
    fn date_times_compare_as_instants() {
        let z = DateTimeOffset::parse("2026-12-01T08:00:00.000Z").unwrap();
        let plus = DateTimeOffset::parse("2026-12-01T09:00:00+01:00").unwrap();
        assert_ne!(z, plus);
        assert_eq!(z.instant(), plus.instant());
        let short = DateTimeOffset::parse("2026-12-01T08:00Z").unwrap();
        assert_eq!(short.instant(), z.instant());
        let fine = DateTimeOffset::parse("2026-12-01T08:00:00.123456789123-00:30").unwrap();
        assert_eq!(fine.nanos, 123_456_789);
        assert_eq!(fine.to_string(), "2026-12-01T08:00:00.123456789-00:30");
        assert_eq!(DateTimeOffset::parse(&z.to_string()), Some(z));
        for bad in [
            "2026-12-01T24:00:00Z",
            "2026-12-01T08:00:00",
            "2026-12-01T08:00:60Z",
            "2026-12-01T08:00:00.Z",
            "2026-12-01T08:00:00+1:00",
            "2026-12-01 08:00:00Z",
        ] {
            assert_eq!(DateTimeOffset::parse(bad), None, "{bad}");
        }
    }
}
