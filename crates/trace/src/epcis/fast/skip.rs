//! Values the fast path reads past ([`Skip`], [`AnyArray`], [`AnyObject`], [`AnyStr`]), held
//! to the full reader's bounds ([`crate::limits`]) without decoding them.
//!
//! serde_json skips a value (`IgnoredAny`, `RawValue`) by scanning its text, without a depth
//! limit; decoding it instead (every string unescaped, every number converted, one visitor
//! call per member) costs several times the scan. So a skipped value is taken as the text
//! serde_json scanned (a borrowed `RawValue`) and checked by [`fits`]: one cheap pass over its
//! bytes, and a closer look only when that pass sees something that might break a bound.
//!
//! The check must never accept a value the full reader refuses; it may doubt one the full
//! reader takes, since the fast path then leaves the whole document to the full reader. What
//! the full reader (`serde_json::Value`, then [`crate::limits::check_json_strings`]) refuses
//! in a value whose syntax is fine: arrays and objects nested deeper than [`MAX_JSON_DEPTH`]
//! counted from the document's root (so each skipped value says how many enclose it, `OPEN`),
//! a string or member name longer than [`MAX_TEXT_BYTES`] once unescaped, a `\u` escape of
//! half a surrogate pair, and a number too large for an `f64`.
//!
//! This module must not keep or decode what it skips: the fast path reads nothing from it.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde_json::value::RawValue;

use crate::limits::{MAX_JSON_DEPTH, MAX_TEXT_BYTES};

/// Any JSON value inside `OPEN` arrays and objects, not kept; within the full reader's bounds
/// (see the module docs), else not read.
pub(super) struct Skip<const OPEN: usize>;

impl<'de, const OPEN: usize> Deserialize<'de> for Skip<OPEN> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        skipped::<D, OPEN>(d, |_| true, "any value").map(|()| Skip)
    }
}

/// A JSON array inside `OPEN` arrays and objects; its elements are not read.
pub(super) struct AnyArray<const OPEN: usize>;

impl<'de, const OPEN: usize> Deserialize<'de> for AnyArray<OPEN> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        skipped::<D, OPEN>(d, |raw| raw.starts_with('['), "an array").map(|()| AnyArray)
    }
}

/// A JSON object inside `OPEN` arrays and objects; its members are not read.
pub(super) struct AnyObject<const OPEN: usize>;

impl<'de, const OPEN: usize> Deserialize<'de> for AnyObject<OPEN> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        skipped::<D, OPEN>(d, |raw| raw.starts_with('{'), "an object").map(|()| AnyObject)
    }
}

/// A JSON string of at most [`MAX_TEXT_BYTES`], not kept: neither copied nor, when it
/// holds no escape, unescaped.
pub(super) struct AnyStr;

impl<'de> Deserialize<'de> for AnyStr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = AnyStr;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<AnyStr, E> {
                super::raw::bounded(v).map(|()| AnyStr)
            }
        }
        d.deserialize_str(V)
    }
}

/// Reads the next value as the text serde_json scanned, and accepts it when `shape` holds
/// and it [`fits`] inside `OPEN` arrays and objects.
fn skipped<'de, D: Deserializer<'de>, const OPEN: usize>(
    d: D,
    shape: fn(&str) -> bool,
    what: &'static str,
) -> Result<(), D::Error> {
    let raw = <&RawValue>::deserialize(d)?.get();
    if !shape(raw) {
        return Err(de::Error::invalid_type(
            de::Unexpected::Other("another value"),
            &what,
        ));
    }
    if !fits(raw, OPEN) {
        return Err(de::Error::custom(
            "a skipped value past a bound of the full reader (or too close to tell)",
        ));
    }
    Ok(())
}

/// The most digits a number without an exponent may have and still be a finite `f64`:
/// below 10^308, whatever its digits.
const PLAIN_NUMBER_DIGITS: usize = 308;

/// The most digits a value may hold for its numbers with an exponent of one digit to need no
/// closer look: each is below 10^290 times 10^9.
const DIGITS_FOR_SHORT_EXPONENTS: usize = 290;

/// Whether the full reader takes `raw` — one JSON value of correct syntax, as serde_json
/// scanned it, inside `open` arrays and objects — within its bounds. `false` also when unsure.
pub(super) fn fits(raw: &str, open: usize) -> bool {
    let b = raw.as_bytes();
    let Some(room) = MAX_JSON_DEPTH.checked_sub(open) else {
        return false;
    };
    if b.len() > MAX_TEXT_BYTES {
        return scan(b, room);
    }
    match b.first() {
        // A string (as short as `raw`): only a `\u` escape can be refused.
        Some(b'"') => return !b.contains(&b'\\') || escapes_fit(b),
        Some(b'-' | b'0'..=b'9') => return finite_number(b),
        Some(b't' | b'f' | b'n') => return true,
        _ => {}
    }
    // No string is longer than `raw`, so none is too long. One pass over the bytes bounds the
    // rest: the deepest nesting is at most the opening brackets; only a `\u` escape can name a
    // surrogate; with few digits, only an exponent of two digits or more can leave the `f64`
    // range (strings count too: the bounds are upper ones).
    let summary = Summary::of(b);
    if summary.openings > room || summary.digits > DIGITS_FOR_SHORT_EXPONENTS {
        return scan(b, room);
    }
    (!summary.unicode_escape || escapes_fit(b))
        && (summary.exponent_chunks == 0 || exponents_fit(b, summary.exponent_chunks, room))
}

/// What one pass over a value's bytes tells, each an upper bound.
struct Summary {
    /// `[` and `{` bytes, in strings or not.
    openings: usize,
    /// ASCII digits, in strings or not.
    digits: usize,
    /// A backslash followed by `u`.
    unicode_escape: bool,
    /// The chunks ([`CHUNK`] bytes each) holding an exponent of two digits or more (`e` or
    /// `E`, maybe a sign, two digits): bit `k` for chunk `k`, bit 63 for chunk 63 and every
    /// one after it.
    exponent_chunks: u64,
}

/// Bytes [`Summary::of`] looks at together (each with the three after it), counting in `u8`.
const CHUNK: usize = 64;

impl Summary {
    fn of(b: &[u8]) -> Summary {
        let mut summary = Summary {
            openings: 0,
            digits: 0,
            unicode_escape: false,
            exponent_chunks: 0,
        };
        let Some(&first) = b.first() else {
            return summary;
        };
        summary.openings = usize::from(first | 0x20 == b'{');
        summary.digits = usize::from(first.is_ascii_digit());
        let pairs = b.len() - 1;
        let mut unicode = 0u8;
        for k in 0..pairs.div_ceil(CHUNK) {
            // Each byte with the three after it, a fixed number at a time (the last chunk
            // padded with spaces, which count for nothing): a loop that vectorises whole.
            let start = k * CHUNK;
            let mut padded = [b' '; CHUNK + 3];
            let window = match b.get(start..start + CHUNK + 3) {
                Some(whole) => whole,
                None => {
                    padded[..b.len() - start].copy_from_slice(&b[start..]);
                    &padded
                }
            };
            let (openings, digits, flags) = chunk_summary(window);
            summary.openings += usize::from(openings);
            summary.digits += usize::from(digits);
            unicode |= flags & 1;
            summary.exponent_chunks |= u64::from(flags >> 1) << k.min(63);
        }
        summary.unicode_escape = unicode != 0;
        summary
    }
}

/// For the bytes `window[i]`, `i < CHUNK`, each with the three after it: how many of the
/// next bytes are `[` or `{`, how many are digits, and flags: 1 when a backslash is followed
/// by `u`, 2 when an exponent of two digits or more starts. Branch-free, so that it compiles
/// to vector instructions.
fn chunk_summary(window: &[u8]) -> (u8, u8, u8) {
    let digit = |c: u8| u8::from(c.wrapping_sub(b'0') < 10);
    let (mut openings, mut digits, mut unicode, mut exponent) = (0u8, 0u8, 0u8, 0u8);
    let next = window[1..].iter().zip(&window[2..]).zip(&window[3..]);
    for (&c, ((&c1, &c2), &c3)) in window[..CHUNK].iter().zip(next) {
        // `[` (0x5B) and `{` (0x7B) are the bytes that are `{` with bit 5 set.
        openings += u8::from(c1 | 0x20 == b'{');
        digits += digit(c1);
        unicode |= u8::from(c == b'\\') & u8::from(c1 == b'u');
        let sign = u8::from(c1 == b'-') | u8::from(c1 == b'+');
        let long = (digit(c1) & digit(c2)) | (sign & digit(c2) & digit(c3));
        exponent |= u8::from(c | 0x20 == b'e') & long;
    }
    (openings, digits, unicode | exponent << 1)
}

/// Whether every `\u` escape in `b` names a whole character: not a lone half of a surrogate
/// pair, which the full reader refuses (serde_json skips it). Walks from escape to escape:
/// in JSON text every backslash starts an escape, and an escape says how long it is.
fn escapes_fit(b: &[u8]) -> bool {
    let mut at = 0;
    while let Some(found) = b
        .get(at..)
        .and_then(|rest| rest.iter().position(|&c| c == b'\\'))
    {
        match escape_len(b, at + found) {
            Some(len) => at += found + len,
            None => return false,
        }
    }
    true
}

/// The length of the escape whose backslash is at `b[at]`, `None` when the full reader
/// refuses it (a lone surrogate) or the text is not what serde_json scanned.
fn escape_len(b: &[u8], at: usize) -> Option<usize> {
    if b.get(at + 1) != Some(&b'u') {
        return Some(2);
    }
    let unit = hex4(b, at + 2)?;
    match unit {
        0xD800..=0xDBFF => {
            let next = at + 6;
            let low = (b.get(next..next + 2) == Some(b"\\u"))
                .then(|| hex4(b, next + 2))
                .flatten()?;
            (0xDC00..=0xDFFF).contains(&low).then_some(12)
        }
        0xDC00..=0xDFFF => None,
        _ => Some(6),
    }
}

fn hex4(b: &[u8], at: usize) -> Option<u16> {
    let digits = std::str::from_utf8(b.get(at..at + 4)?).ok()?;
    u16::from_str_radix(digits, 16).ok()
}

/// Whether every run of number characters around an exponent of two digits or more in the
/// chunks `exponent_chunks` marks reads as a finite number; if one does not (it may be text
/// in a string), the exact [`scan`] decides.
fn exponents_fit(b: &[u8], exponent_chunks: u64, room: usize) -> bool {
    let number_char = |c: &u8| matches!(c, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E');
    let mut chunks = exponent_chunks;
    while chunks != 0 {
        let k = chunks.trailing_zeros() as usize;
        chunks &= chunks - 1;
        let end = if k == 63 { b.len() } else { (k + 1) * CHUNK };
        for at in k * CHUNK..end.min(b.len()) {
            let after = |n: usize| b.get(at + n).copied().unwrap_or(b' ');
            let long = after(1).is_ascii_digit() && after(2).is_ascii_digit()
                || matches!(after(1), b'-' | b'+')
                    && after(2).is_ascii_digit()
                    && after(3).is_ascii_digit();
            if b[at] | 0x20 != b'e' || !long {
                continue;
            }
            let start = b[..at]
                .iter()
                .rposition(|c| !number_char(c))
                .map_or(0, |s| s + 1);
            let end = b[at..]
                .iter()
                .position(|c| !number_char(c))
                .map_or(b.len(), |e| at + e);
            if !finite_number(&b[start..end]) {
                return scan(b, room);
            }
        }
    }
    true
}

/// Whether `token` is a JSON number the full reader takes: read by serde_json itself, so a
/// number out of `f64` range is refused exactly as the full reader refuses it.
fn finite_number(token: &[u8]) -> bool {
    // Below 10^200 times 10^99 whatever the digits: no need to ask serde_json.
    let small = token
        .iter()
        .position(|c| c | 0x20 == b'e')
        .is_some_and(|e| {
            let exponent = token[e + 1..]
                .strip_prefix(b"-")
                .or_else(|| token[e + 1..].strip_prefix(b"+"));
            let exponent = exponent.unwrap_or(&token[e + 1..]);
            e <= 200
                && (1..=2).contains(&exponent.len())
                && exponent.iter().all(u8::is_ascii_digit)
                && token[..e]
                    .iter()
                    .all(|c| c.is_ascii_digit() || matches!(c, b'-' | b'.'))
        });
    small || serde_json::from_slice::<f64>(token).is_ok()
}

/// The exact check, token by token: nesting within `room` more levels, every string at
/// most [`MAX_TEXT_BYTES`] as written (unescaped it is no longer), escapes whole characters,
/// numbers finite.
fn scan(b: &[u8], room: usize) -> bool {
    let mut depth = 0usize;
    let mut at = 0;
    while at < b.len() {
        match b[at] {
            b'[' | b'{' => {
                depth += 1;
                if depth > room {
                    return false;
                }
                at += 1;
            }
            b']' | b'}' => {
                depth = depth.saturating_sub(1);
                at += 1;
            }
            b'"' => {
                let start = at + 1;
                let mut end = start;
                loop {
                    let rest = b.get(end..).unwrap_or_default();
                    let Some(found) = rest.iter().position(|&c| c == b'"' || c == b'\\') else {
                        return false;
                    };
                    end += found;
                    if b[end] == b'"' {
                        break;
                    }
                    match escape_len(b, end) {
                        Some(len) => end += len,
                        None => return false,
                    }
                }
                if end - start > MAX_TEXT_BYTES {
                    return false;
                }
                at = end + 1;
            }
            b'-' | b'0'..=b'9' => {
                let len = b[at..]
                    .iter()
                    .position(|c| !matches!(c, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
                    .unwrap_or(b.len() - at);
                let token = &b[at..at + len];
                let plain = !token.iter().any(|c| c | 0x20 == b'e');
                if !(plain && len <= PLAIN_NUMBER_DIGITS || finite_number(token)) {
                    return false;
                }
                at += len;
            }
            _ => at += 1,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the full reader says of `value` inside `open` arrays and objects.
    fn full_reader_takes(value: &str, open: usize) -> bool {
        let text = format!("{}{value}{}", "[".repeat(open), "]".repeat(open));
        crate::limits::parse_json(&text, "m").is_ok()
    }

    fn agree(value: &str, open: usize) {
        assert!(serde_json::from_str::<&RawValue>(value).is_ok(), "{value}");
        let full = full_reader_takes(value, open);
        assert_eq!(fits(value, open), full, "{value} inside {open}");
    }

    #[test]
    fn values_the_full_reader_refuses_are_never_accepted() {
        let room = MAX_JSON_DEPTH - 4;
        let at_bound = format!("{}1{}", "[".repeat(room), "]".repeat(room));
        let past = format!("{}1{}", "[".repeat(room + 1), "]".repeat(room + 1));
        assert!(fits(&at_bound, 4) && full_reader_takes(&at_bound, 4));
        assert!(!fits(&past, 4) && !full_reader_takes(&past, 4));
        // Brackets inside strings do not nest.
        let in_strings = format!("[\"{}\",1]", "[{".repeat(MAX_JSON_DEPTH));
        assert!(fits(&in_strings, 4) && full_reader_takes(&in_strings, 4));

        let long = format!("{{\"a\":\"{}\"}}", "x".repeat(MAX_TEXT_BYTES + 1));
        let fits_exactly = format!("{{\"a\":\"{}\"}}", "x".repeat(MAX_TEXT_BYTES));
        let long_key = format!("{{\"{}\":1}}", "k".repeat(MAX_TEXT_BYTES + 1));
        assert!(!fits(&long, 4) && !full_reader_takes(&long, 4));
        assert!(!fits(&long_key, 4) && !full_reader_takes(&long_key, 4));
        assert!(fits(&fits_exactly, 4) && full_reader_takes(&fits_exactly, 4));

        for lone in [
            r#""\uD800""#,
            r#""a\uDC00b""#,
            r#""\uD800\u0041""#,
            r#""\uD83D\n""#,
        ] {
            assert!(!fits(lone, 4) && !full_reader_takes(lone, 4), "{lone}");
        }
        for whole in [
            r#""\uD83D\uDE00""#,
            r#""\u00fc\\u""#,
            r#""\\uD800""#,
            r#""\"\n""#,
        ] {
            assert!(fits(whole, 4) && full_reader_takes(whole, 4), "{whole}");
        }

        let huge = format!("[{}]", "9".repeat(PLAIN_NUMBER_DIGITS + 2));
        // Many digits and an exponent of one digit: past `f64` all the same.
        let long_mantissa = format!("[{}e9]", "9".repeat(DIGITS_FOR_SHORT_EXPONENTS + 10));
        for big in ["1e400", "-1E309", "[0.5e+99999]", &huge, &long_mantissa] {
            assert!(!fits(big, 4) && !full_reader_takes(big, 4), "{big}");
        }
        let long_fraction = format!("[0.{}e9,7e1]", "1".repeat(DIGITS_FOR_SHORT_EXPONENTS + 10));
        for fine in [
            "1e-400",
            "1.5e-9",
            "[2E+10,\"3e999\",\"e12\"]",
            &long_fraction,
            "{\"x\":\"550e8400-e29b\"}",
        ] {
            assert!(fits(fine, 4) && full_reader_takes(fine, 4), "{fine}");
        }
    }

    #[test]
    fn the_check_agrees_with_the_full_reader_on_mixed_values() {
        let values = [
            "null",
            "true",
            "-0.0",
            r#"{"ex:a":[1,2,{"ex:b":"c\u00e9\"]"}],"n":null}"#,
            r#"["\\", "\\\\u", "tab\t?"]"#,
            r#"{"k":"4000001e3","v":[1e308,1.7976931348623157e308,1.8e308]}"#,
        ];
        for open in [1, 4, 6, MAX_JSON_DEPTH - 1] {
            for v in values {
                agree(v, open);
            }
        }
        assert!(!fits("[]", MAX_JSON_DEPTH));
        assert!(fits("1", MAX_JSON_DEPTH));
    }
}
