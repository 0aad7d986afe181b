//! The change feed's position: the last row's modified time and `Id`, and the query that
//! reads what comes after it.
//!
//! Rows are read in `$orderby={modified},Id` and after a cursor by
//! `{modified} gt T or ({modified} eq T and Id gt G)`: several rows may share a modified
//! time, and the `Id` breaks the tie, so paging never loses or repeats one. Only the server
//! compares GUIDs (for `gt` and for the order alike), so its own GUID order — string order on
//! CAP's SQLite, SQL Server's byte order on Opcenter — is used consistently.

use std::fmt;

/// Where a source stands: after the row `(modified, id)`, or after the instant `modified`
/// alone (the configured start).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// As the server wrote it (checked to be an RFC 3339 instant).
    pub modified: String,
    /// A GUID; `None` for a start instant.
    pub id: Option<String>,
}

impl Cursor {
    /// Reads a stored cursor (`<modified>` or `<modified>|<id>`).
    pub fn parse(text: &str) -> Result<Cursor, String> {
        let (modified, id) = match text.split_once('|') {
            Some((modified, id)) => (modified, Some(id)),
            None => (text, None),
        };
        check_timestamp(modified)?;
        if let Some(id) = id {
            check_guid(id)?;
        }
        Ok(Cursor {
            modified: modified.to_string(),
            id: id.map(str::to_string),
        })
    }

    /// The `$filter` expression reading the rows after this cursor.
    pub fn filter(&self, modified_property: &str) -> String {
        let (property, time) = (modified_property, &self.modified);
        match &self.id {
            Some(id) => {
                format!("{property} gt {time} or ({property} eq {time} and Id gt {id})")
            }
            None => format!("{property} gt {time}"),
        }
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.id {
            Some(id) => write!(f, "{}|{id}", self.modified),
            None => f.write_str(&self.modified),
        }
    }
}

/// An `Edm.DateTimeOffset` as a literal may be written: RFC 3339 with a zone.
pub fn check_timestamp(text: &str) -> Result<(), String> {
    let safe = text
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b':' | b'.' | b'T' | b'Z' | b'+'));
    if !safe || text.len() > 40 {
        return Err(format!("{text:?} is not an RFC 3339 instant"));
    }
    text.parse::<jiff::Timestamp>()
        .map(|_| ())
        .map_err(|e| format!("{text:?} is not an RFC 3339 instant: {e}"))
}

/// An `Edm.Guid`: 8-4-4-4-12 hexadecimal digits.
pub fn check_guid(text: &str) -> Result<(), String> {
    let groups: Vec<&str> = text.split('-').collect();
    let lengths = [8, 4, 4, 4, 12];
    let ok = groups.len() == 5
        && groups
            .iter()
            .zip(lengths)
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()));
    if ok {
        Ok(())
    } else {
        Err(format!("{text:?} is not a GUID"))
    }
}

/// Percent-encodes a query value: everything but the unreserved characters and `$`
/// (`%20` for a space: CAP refuses the form encoding's `+`).
pub fn encode_query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'$') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_cursor_reads_after_its_row_with_ties_broken_by_id() {
        let cursor =
            Cursor::parse("2026-12-01T06:00:00.000Z|5f50f112-4536-5e2a-ab01-4fbf7a4c939a").unwrap();
        assert_eq!(
            cursor.filter("ModifiedOn"),
            "ModifiedOn gt 2026-12-01T06:00:00.000Z or (ModifiedOn eq 2026-12-01T06:00:00.000Z \
             and Id gt 5f50f112-4536-5e2a-ab01-4fbf7a4c939a)"
        );
        let start = Cursor::parse("2026-12-01T06:00:00+01:00").unwrap();
        assert_eq!(
            start.filter("ModifiedOn"),
            "ModifiedOn gt 2026-12-01T06:00:00+01:00"
        );
        assert_eq!(
            encode_query_value(&start.filter("ModifiedOn")),
            "ModifiedOn%20gt%202026-12-01T06%3A00%3A00%2B01%3A00"
        );
    }

    #[test]
    fn a_cursor_refuses_what_could_change_the_query() {
        for bad in [
            "",
            "yesterday",
            "2026-12-01T06:00:00Z) or (true",
            "2026-12-01T06:00:00Z|1 or 1",
            "2026-12-01T06:00:00Z|5f50f112-4536-5e2a-ab01-4fbf7a4c939",
            "2026-12-01T06:00:00",
        ] {
            assert!(Cursor::parse(bad).is_err(), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn a_cursor_reads_back_as_written(
            secs in 0i64..4_000_000_000, millis in 0u32..1000, id in proptest::array::uniform16(any::<u8>()),
        ) {
            let time = jiff::Timestamp::new(secs, (millis * 1_000_000) as i32).unwrap();
            let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
            let guid = format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..]);
            let cursor = Cursor { modified: time.to_string(), id: Some(guid) };
            prop_assert_eq!(Cursor::parse(&cursor.to_string()).unwrap(), cursor);
        }

        #[test]
        fn parsing_never_panics(text in ".{0,60}") {
            let _ = Cursor::parse(&text);
        }
    }
}
