//! Instants and durations as integers, with RFC 3339 at the edges.
//!
//! Engines need integer time (deterministic arithmetic, cheap comparisons); people and other
//! systems need RFC 3339 UTC. A [`Timestamp`] is milliseconds since the Unix epoch and
//! serialises as an RFC 3339 string, so both needs are met by one type.

use std::borrow::Cow;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Milliseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

const MS_PER_MINUTE: i64 = 60_000;
const MS_PER_DAY: i64 = 86_400_000;

impl Timestamp {
    /// The instant `minutes` after this one.
    pub fn plus_minutes(self, minutes: f64) -> Timestamp {
        Timestamp(self.0 + (minutes * MS_PER_MINUTE as f64).round() as i64)
    }

    /// Whole and fractional minutes from `earlier` to `self`.
    pub fn minutes_since(self, earlier: Timestamp) -> f64 {
        (self.0 - earlier.0) as f64 / MS_PER_MINUTE as f64
    }

    /// Parses RFC 3339 (`2026-03-02T06:00:00Z`, optional fraction, `Z` or `±hh:mm` offset
    /// with hours 00 to 23 and minutes 00 to 59, see [`parse_offset`]).
    pub fn parse(text: &str) -> Result<Timestamp, TimeParseError> {
        parse_rfc3339(text).map_err(|why| TimeParseError {
            text: text.to_owned(),
            why,
        })
    }
}

/// A string that is not an RFC 3339 date-time, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not an RFC 3339 date-time such as 2026-03-02T06:00:00Z: {why}")]
pub struct TimeParseError {
    pub text: String,
    pub why: &'static str,
}

/// Reads a UTC offset `±hh:mm` (hours 00 to 23, minutes 00 to 59; `-00:00` is allowed, as
/// RFC 3339 allows it) as signed minutes east of UTC; otherwise says what is wrong.
pub fn parse_offset(text: &str) -> Result<i64, &'static str> {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        b[range.clone()].iter().all(u8::is_ascii_digit).then(|| {
            b[range]
                .iter()
                .fold(0i64, |n, d| n * 10 + i64::from(d - b'0'))
        })
    };
    if b.len() != 6 || !matches!(b[0], b'+' | b'-') || b[3] != b':' {
        return Err("the offset is not `Z` or `±hh:mm`");
    }
    let (Some(hours), Some(minutes)) = (digits(1..3), digits(4..6)) else {
        return Err("the offset is not `Z` or `±hh:mm`");
    };
    if hours > 23 {
        return Err("offset hours must be 00 to 23");
    }
    if minutes > 59 {
        return Err("offset minutes must be 00 to 59");
    }
    let sign = if b[0] == b'-' { -1 } else { 1 };
    Ok(sign * (hours * 60 + minutes))
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.0.div_euclid(MS_PER_DAY);
        let ms_of_day = self.0.rem_euclid(MS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        let secs = ms_of_day / 1000;
        let millis = ms_of_day % 1000;
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
            secs / 3600,
            (secs / 60) % 60,
            secs % 60
        )?;
        if millis != 0 {
            write!(f, ".{millis:03}")?;
        }
        f.write_str("Z")
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = Cow::<'de, str>::deserialize(deserializer)?;
        Timestamp::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Timestamp {
    fn schema_name() -> Cow<'static, str> {
        "Timestamp".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "format": "date-time",
            "description": "RFC 3339 date-time, UTC recommended"
        })
    }
}

// Days since the epoch to a proleptic Gregorian date, after Howard Hinnant's
// public description of the "civil_from_days" algorithm.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let month = i64::from(month);
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn parse_rfc3339(text: &str) -> Result<Timestamp, &'static str> {
    const SHAPE: &str =
        "expected yyyy-mm-ddThh:mm:ss with an optional fraction and `Z` or `±hh:mm`";
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return Err(SHAPE);
    }
    if b[13] != b':' || b[16] != b':' {
        return Err(SHAPE);
    }
    let num = |range: std::ops::Range<usize>| -> Result<i64, &'static str> {
        let s = text.get(range).ok_or(SHAPE)?;
        if !s.bytes().all(|c| c.is_ascii_digit()) {
            return Err(SHAPE);
        }
        s.parse().map_err(|_| SHAPE)
    };
    let (year, month, day) = (num(0..4)?, num(5..7)? as u32, num(8..10)? as u32);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return Err("no such date");
    }
    if hour > 23 || minute > 59 || second > 60 {
        return Err("no such time of day");
    }
    let mut rest = &text[19..];
    let mut millis = 0i64;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(SHAPE);
        }
        for (i, c) in frac[..digits].bytes().take(3).enumerate() {
            millis += i64::from(c - b'0') * [100, 10, 1][i];
        }
        rest = &frac[digits..];
    }
    let offset_minutes = match rest {
        "Z" | "z" => 0,
        _ => parse_offset(rest)?,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second.min(59) - offset_minutes * 60;
    Ok(Timestamp(secs * 1000 + millis))
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn formats_and_parses_known_instants() {
        let t = Timestamp::parse("2026-03-02T06:00:00Z").unwrap();
        assert_eq!(t.0, 1_772_431_200_000);
        assert_eq!(t.to_string(), "2026-03-02T06:00:00Z");
        let offset = Timestamp::parse("2026-03-02T07:30:00.250+01:30").unwrap();
        assert_eq!(offset.to_string(), "2026-03-02T06:00:00.250Z");
        assert_eq!(Timestamp(0).to_string(), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn rejects_malformed_text() {
        for bad in [
            "",
            "2026-02-30T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-01-01 00:00",
            "x026-01-01T00:00:00Z",
            "2026-01-01T00:00:00+0100",
            "2026-01-01T00:00:00++1:00",
            "2026-01-01T00:00:00+1a:00",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn offsets_past_a_day_or_an_hour_are_refused_with_the_reason() {
        for (bad, why) in [
            ("2026-03-02T06:00:00+24:00", "offset hours must be 00 to 23"),
            ("2026-03-02T06:00:00-99:00", "offset hours must be 00 to 23"),
            (
                "2026-03-02T06:00:00+23:60",
                "offset minutes must be 00 to 59",
            ),
            (
                "2026-03-02T06:00:00-05:99",
                "offset minutes must be 00 to 59",
            ),
        ] {
            let err = Timestamp::parse(bad).unwrap_err();
            assert_eq!(err.why, why, "{bad}");
            assert!(err.to_string().contains(why), "{err}");
            assert!(err.to_string().contains(bad), "{err}");
        }
        let edge = Timestamp::parse("2026-03-02T23:59:00+23:59").unwrap();
        assert_eq!(edge.to_string(), "2026-03-02T00:00:00Z");
        assert_eq!(parse_offset("-00:00"), Ok(0));
        assert_eq!(parse_offset("-05:30"), Ok(-330));
    }

    proptest! {
        #[test]
        fn display_then_parse_is_identity(ms in -62_000_000_000_000i64..253_000_000_000_000i64) {
            let t = Timestamp(ms);
            prop_assert_eq!(Timestamp::parse(&t.to_string()).unwrap(), t);
        }

        #[test]
        fn valid_offsets_round_trip(
            ms in -62_000_000_000_000i64..253_000_000_000_000i64,
            east in any::<bool>(),
            hours in 0i64..24,
            minutes in 0i64..60,
        ) {
            let offset = if east { 1 } else { -1 } * (hours * 60 + minutes);
            let sign = if east { '+' } else { '-' };
            // The instant's local wall clock at that offset, written with the offset.
            let local = Timestamp(ms + offset * MS_PER_MINUTE).to_string();
            let text = format!("{}{sign}{hours:02}:{minutes:02}", local.trim_end_matches('Z'));
            prop_assert_eq!(Timestamp::parse(&text), Ok(Timestamp(ms)));
        }

        #[test]
        fn out_of_range_offsets_are_refused(
            hours in 0u32..100,
            minutes in 0u32..100,
            east in any::<bool>(),
        ) {
            let sign = if east { '+' } else { '-' };
            let text = format!("2026-03-02T06:00:00{sign}{hours:02}:{minutes:02}");
            let parsed = Timestamp::parse(&text);
            prop_assert_eq!(parsed.is_ok(), hours <= 23 && minutes <= 59, "{}", text);
        }

        #[test]
        fn parse_never_panics(text in "\\PC{0,40}") {
            let _ = Timestamp::parse(&text);
        }
    }
}
