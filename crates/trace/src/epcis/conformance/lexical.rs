//! The lexical forms of the schemas' types (XSD decimals, doubles, date-times; URIs).

/// `xsd:double`: a decimal with an optional exponent, or `INF`, `-INF`, `NaN`.
pub(super) fn xsd_double(b: &[u8]) -> bool {
    if matches!(b, b"INF" | b"-INF" | b"+INF" | b"NaN") {
        return true;
    }
    let (mantissa, exponent) = match b.iter().position(|&c| c == b'e' || c == b'E') {
        Some(p) => (&b[..p], Some(&b[p + 1..])),
        None => (b, None),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e
            .strip_prefix(b"+")
            .or_else(|| e.strip_prefix(b"-"))
            .unwrap_or(e);
        !e.is_empty() && e.iter().all(u8::is_ascii_digit)
    });
    exponent_ok && xsd_decimal(mantissa)
}

pub(super) fn xsd_boolean(b: &[u8]) -> bool {
    matches!(b, b"true" | b"false" | b"1" | b"0")
}

/// `xsd:hexBinary`: hexadecimal digits, two to an octet.
pub(super) fn xsd_hex_binary(b: &[u8]) -> bool {
    b.len().is_multiple_of(2) && b.iter().all(u8::is_ascii_hexdigit)
}

/// The JSON schema's `eventTimeZoneOffset` pattern: `+` or `-`, then `00:00` to `13:59`
/// or `14:00`.
pub(super) fn schema_offset(b: &[u8]) -> bool {
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    b.len() == 6
        && matches!(b[0], b'+' | b'-')
        && b[3] == b':'
        && digits(1..3)
        && digits(4..6)
        && ((b[1..3] < b"14"[..] && b[4] <= b'5') || &b[1..6] == b"14:00")
}

/// The EPCIS 2.0 XSD's `DateTimeStamp` pattern: `yyyy-mm-ddThh:mm:ss`, an optional
/// fraction, then `Z` or an offset as [`schema_offset`] reads it; and a real date.
pub(super) fn xsd_date_time(b: &[u8]) -> bool {
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    let two = |i: usize| u32::from(b[i] - b'0') * 10 + u32::from(b[i + 1] - b'0');
    let shape = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    if !shape || two(11) > 23 || two(14) > 59 || two(17) > 59 {
        return false;
    }
    let mut rest = &b[19..];
    if let Some(fraction) = rest.strip_prefix(b".") {
        let n = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return false;
        }
        rest = &fraction[n..];
    }
    // The calendar (month 01 to 12, the day within the month) is `Timestamp::parse`'s.
    (rest == b"Z" || schema_offset(rest))
        && std::str::from_utf8(b).is_ok_and(|t| model::Timestamp::parse(t).is_ok())
}

/// JSON Schema's `date-time` format: RFC 3339's `date-time` (`T`, not a space, between
/// date and time).
pub(super) fn rfc3339_date_time(text: &str) -> bool {
    matches!(text.as_bytes().get(10), Some(b'T' | b't')) && model::Timestamp::parse(text).is_ok()
}

/// `xsd:decimal`: an optional sign, digits with at most one decimal point, no exponent.
pub(super) fn xsd_decimal(b: &[u8]) -> bool {
    let b = b
        .strip_prefix(b"+")
        .or_else(|| b.strip_prefix(b"-"))
        .unwrap_or(b);
    let (whole, fraction) = match b.iter().position(|&c| c == b'.') {
        Some(p) => (&b[..p], &b[p + 1..]),
        None => (b, &b[..0]),
    };
    (!whole.is_empty() || !fraction.is_empty())
        && whole.iter().chain(fraction).all(u8::is_ascii_digit)
}

/// JSON Schema's `uri` format, as far as it can be told without a full RFC 3986 parser: a
/// scheme (a letter, then letters, digits, `+`, `-` or `.`), a colon, and no whitespace or
/// control characters.
pub(super) fn is_uri(text: &str) -> bool {
    let Some((scheme, _)) = text.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && !text.chars().any(|c| c.is_whitespace() || c.is_control())
}
