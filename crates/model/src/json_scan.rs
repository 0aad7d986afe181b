//! One pass over a JSON text, before it is parsed: how many elements its top-level array
//! has, how deep it nests, and its first string past a length — found without building
//! anything and without recursion, so that a reader's bounds hold before a parser allocates
//! or recurses. The server's request bodies and event batches and the genealogy importer's
//! documents are all measured here, against the one nesting bound [`MAX_JSON_DEPTH`].
//!
//! The pass tracks only nesting depth and whether it is inside a string; on text that is not
//! JSON its figures mean nothing, and the parser that runs next refuses the text, naming the
//! line and column. It decides nothing about what the JSON means.

/// Deepest nesting of arrays and objects in JSON read from outside (request bodies, imported
/// documents), the outermost being level 1. Far above what any document needs, and low
/// enough that whatever is kept and answered later inside a larger document (a proposal's
/// change inside a list of proposals, an imported event inside an EPCIS query result) stays
/// within the 128 levels that serde_json, and many clients, read.
pub const MAX_JSON_DEPTH: usize = 64;

/// A string past the length bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LongString {
    /// 0-based index of the top-level array element it is in.
    pub element: usize,
    /// Its length in bytes as sent (escapes included), quotes excluded.
    pub bytes: usize,
    /// Byte offset of its opening quote.
    pub offset: usize,
}

/// What one pass over a JSON text found, up to the first bound it went past.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// Elements of the top-level array (0 when the text is not an array).
    pub elements: usize,
    /// The first string longer than the length bound.
    pub long_string: Option<LongString>,
    /// Byte offset of the first bracket or brace past the depth bound.
    pub too_deep: Option<usize>,
}

/// Counts the elements of the top-level array of `text`, and stops at its first string longer
/// than `max_string` bytes or its first array or object nested deeper than `max_depth` (the
/// outermost being depth 1).
pub fn measure(text: &[u8], max_string: usize, max_depth: usize) -> Shape {
    let is_array = text.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
    let mut shape = Shape {
        elements: 0,
        long_string: None,
        too_deep: None,
    };
    let mut depth = 0usize;
    let mut element = 0usize;
    let mut seen_in_element = false;
    let mut string_start: Option<usize> = None;
    let mut escaped = false;
    for (at, &byte) in text.iter().enumerate() {
        if let Some(start) = string_start {
            if escaped {
                escaped = false;
            } else if byte == b'\\' {
                escaped = true;
            } else if byte == b'"' {
                string_start = None;
                let bytes = at - start - 1;
                if bytes > max_string {
                    shape.long_string = Some(LongString {
                        element,
                        bytes,
                        offset: start,
                    });
                    return shape;
                }
            }
            continue;
        }
        if is_array && depth == 1 && !byte.is_ascii_whitespace() && byte != b']' {
            if byte == b',' {
                element += 1;
                seen_in_element = false;
            } else if !seen_in_element {
                seen_in_element = true;
                shape.elements += 1;
            }
        }
        match byte {
            b'"' => string_start = Some(at),
            b'[' | b'{' => {
                depth += 1;
                if depth > max_depth {
                    shape.too_deep = Some(at);
                    return shape;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    shape
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_the_elements_of_the_top_level_array_only() {
        let shape = measure(
            br#" [ {"a": [1, 2, {"b": ","}]}, {"c": "]"}, 3 ] "#,
            100,
            10,
        );
        assert_eq!(shape.elements, 3);
        assert_eq!(shape.long_string, None);
        assert_eq!(shape.too_deep, None);
        assert_eq!(measure(b"[]", 100, 10).elements, 0);
        assert_eq!(measure(b"[ ]", 100, 10).elements, 0);
        assert_eq!(measure(br#"{"a": 1, "b": 2}"#, 100, 10).elements, 0);
    }

    #[test]
    fn finds_the_first_long_string_with_its_element() {
        let text = format!(
            r#"[{{"id": "e1"}}, {{"id": "e2", "reason": "{}"}}]"#,
            "x".repeat(9)
        );
        let shape = measure(text.as_bytes(), 8, 10);
        let long = shape.long_string.expect("a long string");
        assert_eq!(long.element, 1);
        assert_eq!(long.bytes, 9);
        assert_eq!(&text[long.offset..long.offset + 2], "\"x");
        assert_eq!(measure(text.as_bytes(), 9, 10).long_string, None);
    }

    #[test]
    fn escaped_quotes_do_not_end_a_string() {
        let shape = measure(br#"["a\"],[\\", "b"]"#, 100, 10);
        assert_eq!(shape.elements, 2);
        let shape = measure(br#"["a\"b\"c"]"#, 6, 10);
        assert_eq!(shape.long_string.map(|l| l.bytes), Some(7));
    }

    #[test]
    fn finds_the_first_bracket_past_the_depth_bound_outside_strings() {
        assert_eq!(measure(br#"[[{"a": [1]}]]"#, 100, 4).too_deep, None);
        assert_eq!(measure(br#"[[{"a": [1]}]]"#, 100, 3).too_deep, Some(8));
        assert_eq!(measure(br#"["[[[[[["]"#, 100, 1).too_deep, None);
    }
}
