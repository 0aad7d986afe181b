//! How deep and how large an imported document may be, and the checks every reader makes.
//!
//! Documents come from other systems and from anyone holding an import scope, so no reader
//! may be made to recurse without bound (a tree 35,000 elements deep overflows a thread's
//! stack while it is walked, and again while it is dropped) or to hold one string of any
//! size. The bounds are far above what EPCIS or B2MML documents need:
//!
//! - XML: elements nest at most [`MAX_XML_DEPTH`] deep (the root is depth 1); an element or
//!   attribute name holds at most [`MAX_NAME_BYTES`]; an element's text (white space between
//!   child elements aside) and an attribute value hold at most [`MAX_TEXT_BYTES`]. Checked
//!   while reading ([`crate::xml::parse`]), before the tree is deeper than the bound.
//! - JSON: arrays and objects nest at most [`MAX_JSON_DEPTH`] deep (half of `serde_json`'s own
//!   limit, which stops its recursive descent before any deeper value exists: what is imported
//!   is answered again inside larger documents — an EPCIS query's result, a trace — and those
//!   must stay within the 128 levels serde_json and most clients read, as the server's request
//!   bodies do); a string or member name holds at most [`MAX_TEXT_BYTES`]. Checked by [`parse_json`] for the full reader and
//!   by the fast path's own string and skip types, so both paths refuse the same documents.
//!
//! A refusal is an [`ImportError`] whose [`limit`](ImportError::limit) names the bound, with
//! where it was hit (`byte N` in XML, `line L column C` in JSON).

use std::fmt;

use serde_json::Value;

use crate::error::ImportError;

/// Deepest XML element nesting, the root element being depth 1.
pub const MAX_XML_DEPTH: usize = 64;

/// Deepest JSON nesting of arrays and objects, the outermost being level 1: the one bound of
/// JSON read from outside (`model::json_scan`), which the server's request bodies share, so
/// that a stored document read back inside a larger answer stays within `serde_json`'s 128
/// levels.
pub const MAX_JSON_DEPTH: usize = model::json_scan::MAX_JSON_DEPTH;

/// Longest XML element or attribute name, in bytes.
pub const MAX_NAME_BYTES: usize = 1024;

/// Longest text: an XML element's text or attribute value, a JSON string or member name,
/// in bytes.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;

/// A bound a document went past.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Elements (XML) or arrays and objects (JSON) nested deeper than this many levels.
    Depth(usize),
    /// An element or attribute name longer than this many bytes.
    NameBytes(usize),
    /// A text, attribute value, string or member name longer than this many bytes.
    TextBytes(usize),
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Limit::Depth(n) => write!(f, "nesting depth limit of {n} levels"),
            Limit::NameBytes(n) => write!(f, "name length limit of {n} bytes"),
            Limit::TextBytes(n) => write!(f, "text length limit of {n} bytes"),
        }
    }
}

/// Reads `text` as a JSON value within the bounds above. A malformed document is refused
/// with `malformed` (the prefix of the message) and serde_json's description.
pub fn parse_json(text: &str, malformed: &str) -> Result<Value, ImportError> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        // serde_json's own refusal of depth carries no kind to match on: a bracket past the
        // bound at or before where serde_json stopped is the reason.
        if let Some((line, column)) = too_deep(text)
            && (line, column) <= (e.line(), e.column())
        {
            return ImportError::limit(
                Limit::Depth(MAX_JSON_DEPTH),
                format!("line {line} column {column}"),
                "an array or object nested this deep",
            );
        }
        ImportError::document(
            format!("line {} column {}", e.line(), e.column()),
            format!("{malformed}: {e}"),
        )
    })?;
    // serde_json itself reads up to 127 levels; the bound is lower.
    if let Some((line, column)) = too_deep(text) {
        return Err(ImportError::limit(
            Limit::Depth(MAX_JSON_DEPTH),
            format!("line {line} column {column}"),
            "an array or object nested this deep",
        ));
    }
    check_json_strings(&value)?;
    Ok(value)
}

/// Where (1-based line and column, as serde_json counts) the first array or object deeper
/// than [`MAX_JSON_DEPTH`] opens, if one does.
pub fn too_deep(text: &str) -> Option<(usize, usize)> {
    let offset = model::json_scan::measure(text.as_bytes(), usize::MAX, MAX_JSON_DEPTH).too_deep?;
    let before = &text.as_bytes()[..offset];
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |at| at + 1);
    Some((line, offset - line_start + 1))
}

/// Refuses a value holding a string or member name longer than [`MAX_TEXT_BYTES`]. Walks
/// with its own stack: the value's depth costs no thread stack.
pub fn check_json_strings(value: &Value) -> Result<(), ImportError> {
    let mut stack: Vec<(&str, &Value)> = vec![("", value)];
    while let Some((key, value)) = stack.pop() {
        match value {
            Value::String(s) => text_fits(key, s.len())?,
            Value::Array(items) => stack.extend(items.iter().map(|v| (key, v))),
            Value::Object(map) => {
                for (k, v) in map {
                    text_fits(k, k.len())?;
                    stack.push((k.as_str(), v));
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
    Ok(())
}

/// Refuses a text of `len` bytes at `field` longer than [`MAX_TEXT_BYTES`].
pub fn text_fits(field: &str, len: usize) -> Result<(), ImportError> {
    if len > MAX_TEXT_BYTES {
        let field: String = if field.len() > 80 {
            let cut = (0..=80)
                .rev()
                .find(|&i| field.is_char_boundary(i))
                .unwrap_or(0);
            format!("{}…", &field[..cut])
        } else {
            field.to_owned()
        };
        return Err(ImportError::limit(
            Limit::TextBytes(MAX_TEXT_BYTES),
            field,
            format!("a text of {len} bytes"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_is_counted_outside_strings_only() {
        let deep = format!(
            "{}{}",
            "[".repeat(MAX_JSON_DEPTH),
            "]".repeat(MAX_JSON_DEPTH)
        );
        assert_eq!(too_deep(&deep), None);
        let deeper = format!("[\"[[\\\"{{\",\n{}", "[".repeat(MAX_JSON_DEPTH));
        assert_eq!(too_deep(&deeper), Some((2, MAX_JSON_DEPTH)));
    }

    #[test]
    fn the_reader_refuses_exactly_past_the_documented_depth() {
        let at = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(parse_json(&at(MAX_JSON_DEPTH), "malformed JSON").is_ok());
        // Past serde_json's own limit too, the refusal names this bound.
        for n in [MAX_JSON_DEPTH + 1, 200] {
            let err = parse_json(&at(n), "malformed JSON").unwrap_err();
            assert_eq!(err.limit, Some(Limit::Depth(MAX_JSON_DEPTH)), "{n}");
        }
        let err = parse_json(&at(MAX_JSON_DEPTH + 1), "malformed JSON").unwrap_err();
        assert_eq!(err.limit, Some(Limit::Depth(MAX_JSON_DEPTH)));
        assert_eq!(err.field, format!("line 1 column {}", MAX_JSON_DEPTH + 1));
    }

    #[test]
    fn an_earlier_syntax_error_is_reported_before_later_depth() {
        let text = format!("[1,,{}", "[".repeat(MAX_JSON_DEPTH + 1));
        let err = parse_json(&text, "malformed JSON").unwrap_err();
        assert_eq!(err.limit, None);
        assert!(err.message.starts_with("malformed JSON: "), "{err}");
    }

    #[test]
    fn long_strings_and_member_names_are_refused_by_name() {
        let long = "x".repeat(MAX_TEXT_BYTES + 1);
        let err = parse_json(&format!("{{\"a\":[\"{long}\"]}}"), "m").unwrap_err();
        assert_eq!(err.limit, Some(Limit::TextBytes(MAX_TEXT_BYTES)));
        assert_eq!(err.field, "a");
        let err = parse_json(&format!("{{\"{long}\":1}}"), "m").unwrap_err();
        assert!(err.field.ends_with('…'));
        let fits = "x".repeat(MAX_TEXT_BYTES);
        assert!(parse_json(&format!("{{\"{fits}\":\"{fits}\"}}"), "m").is_ok());
    }
}
