//! A small element tree read with `quick-xml`, and the escaping the XML writers need.
//!
//! EPCIS and B2MML documents are small per event, and both importers want to look at an
//! element's children by name in any order, so the whole document is read into [`Element`]s
//! first. Names keep the prefix as written (`example:myField`); the `xmlns` declarations seen
//! anywhere are collected so writers can declare the same prefixes again.
//!
//! Reading is bounded ([`crate::limits`]): nesting deeper than [`MAX_XML_DEPTH`], a name
//! longer than [`MAX_NAME_BYTES`] or a text longer than
//! [`MAX_TEXT_BYTES`](crate::limits::MAX_TEXT_BYTES) is refused where it is met, so no tree
//! deeper than the bound is ever built (every walk over an [`Element`], and its drop,
//! recurses at most that deep). White space between child elements is layout and is not
//! kept.

use std::collections::BTreeMap;

use quick_xml::Reader;
use quick_xml::events::Event;

use crate::error::ImportError;
use crate::limits::{Limit, MAX_NAME_BYTES, MAX_XML_DEPTH, text_fits};

/// One element: its qualified name as written, attributes, text and children in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Element {
    pub name: String,
    pub attributes: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    /// The name without its prefix.
    pub fn local(&self) -> &str {
        self.name.rsplit(':').next().unwrap_or(&self.name)
    }

    /// The first child whose local name is `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.local() == name)
    }

    /// Every child whose local name is `name`.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.local() == name)
    }

    /// The trimmed text of the first child named `name`.
    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.trim())
    }

    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A parsed document: the root element and every `xmlns:prefix` declared in it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Document {
    pub root: Element,
    /// Prefix (empty for the default namespace) → namespace URI.
    pub namespaces: BTreeMap<String, String>,
}

fn xml_error(reader: &Reader<&[u8]>, message: impl std::fmt::Display) -> ImportError {
    ImportError::document(
        format!("byte {}", reader.buffer_position()),
        format!("malformed XML: {message}"),
    )
}

/// Refuses a name longer than [`MAX_NAME_BYTES`] or that is not an XML 1.0 `Name` (a name
/// with `=` or `/` in it, say, which a writer could not write back as a name).
fn name_fits(reader: &Reader<&[u8]>, name: &[u8]) -> Result<(), ImportError> {
    if name.len() > MAX_NAME_BYTES {
        return Err(ImportError::limit(
            Limit::NameBytes(MAX_NAME_BYTES),
            format!("byte {}", reader.buffer_position()),
            format!("a name of {} bytes", name.len()),
        ));
    }
    match std::str::from_utf8(name) {
        Ok(text) if is_xml_name(text) => Ok(()),
        _ => Err(xml_error(
            reader,
            format!(
                "`{}` is not an XML name",
                String::from_utf8_lossy(name).escape_debug()
            ),
        )),
    }
}

/// Whether `name` matches XML 1.0's `Name` production (fifth edition, 2.3).
pub fn is_xml_name(name: &str) -> bool {
    fn start(c: char) -> bool {
        matches!(c,
            ':' | 'A'..='Z' | '_' | 'a'..='z' | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}'
            | '\u{F8}'..='\u{2FF}' | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}'
            | '\u{200C}'..='\u{200D}' | '\u{2070}'..='\u{218F}' | '\u{2C00}'..='\u{2FEF}'
            | '\u{3001}'..='\u{D7FF}' | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}'
            | '\u{10000}'..='\u{EFFFF}')
    }
    fn rest(c: char) -> bool {
        start(c)
            || matches!(c, '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
    }
    let mut chars = name.chars();
    chars.next().is_some_and(start) && chars.all(rest)
}

/// Refuses an element that would open below `open` elements once there are
/// [`MAX_XML_DEPTH`] of them.
fn depth_fits(reader: &Reader<&[u8]>, open: usize) -> Result<(), ImportError> {
    if open >= MAX_XML_DEPTH {
        return Err(ImportError::limit(
            Limit::Depth(MAX_XML_DEPTH),
            format!("byte {}", reader.buffer_position()),
            format!("an element at depth {}", open + 1),
        ));
    }
    Ok(())
}

/// Adds text read inside `top` (the innermost open element), within
/// [`MAX_TEXT_BYTES`](crate::limits::MAX_TEXT_BYTES).
fn push_text(top: &mut Element, text: &str) -> Result<(), ImportError> {
    // White space between child elements is layout: keeping it would make a long list's
    // text grow with the list.
    if !top.children.is_empty() && text.trim().is_empty() {
        return Ok(());
    }
    text_fits(&top.name, top.text.len() + text.len())?;
    top.text.push_str(text);
    Ok(())
}

/// Whether XML 1.0 can carry `c` at all, literally or as a character reference (its `Char`
/// production): not the C0 controls other than tab, line feed and carriage return, nor a
/// surrogate (impossible in a `char`), nor U+FFFE and U+FFFF.
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | ' '..='\u{fffd}' | '\u{10000}'..)
}

/// The first character XML 1.0 cannot carry, with its byte offset.
fn first_non_xml_char(text: &str) -> Option<(usize, char)> {
    text.char_indices().find(|&(_, c)| !is_xml_char(c))
}

fn non_xml_char_error(at: usize, c: char) -> ImportError {
    ImportError::document(
        format!("byte {at}"),
        format!(
            "malformed XML: character U+{:04X} is not allowed in XML 1.0, not even as a character reference",
            u32::from(c)
        ),
    )
}

/// The line-end normalisation of XML 1.0 (2.11): `\r\n` and a lone `\r` read as `\n`.
/// Only literal text is normalised; a `&#13;` reference is read as the carriage return it
/// names.
fn normalise_line_ends(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains('\r') {
        text.replace("\r\n", "\n").replace('\r', "\n").into()
    } else {
        text.into()
    }
}

/// An attribute's value as XML 1.0 reads it (3.3.3, for an attribute of no declared type):
/// every literal tab, line end and carriage return is a space, then references are resolved,
/// so that `&#10;` is a line feed and a literal one is not.
fn attribute_value(raw: &str) -> Result<String, quick_xml::escape::EscapeError> {
    let spaced: String = normalise_line_ends(raw)
        .chars()
        .map(|c| if matches!(c, '\t' | '\n') { ' ' } else { c })
        .collect();
    quick_xml::escape::unescape(&spaced).map(std::borrow::Cow::into_owned)
}

/// Reads a whole document. A leading byte-order mark is skipped. A character XML 1.0 cannot
/// carry (a form feed, say), literally or as a reference, is malformed, so that whatever is
/// read can be written back as XML and read again the same.
pub fn parse(text: &str) -> Result<Document, ImportError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if let Some((at, c)) = first_non_xml_char(text) {
        return Err(non_xml_char_error(at, c));
    }
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(false);
    let mut stack: Vec<Element> = Vec::new();
    let mut namespaces = BTreeMap::new();
    let mut root: Option<Element> = None;
    let open = |start: &quick_xml::events::BytesStart<'_>,
                namespaces: &mut BTreeMap<String, String>,
                reader: &Reader<&[u8]>|
     -> Result<Element, ImportError> {
        name_fits(reader, start.name().as_ref())?;
        let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
        let mut attributes = Vec::new();
        for attr in start.attributes() {
            let attr = attr.map_err(|e| xml_error(reader, e))?;
            name_fits(reader, attr.key.as_ref())?;
            let key = String::from_utf8_lossy(attr.key.as_ref()).into_owned();
            text_fits(&key, attr.value.len())?;
            let raw = std::str::from_utf8(&attr.value).map_err(|e| xml_error(reader, e))?;
            let value = attribute_value(raw).map_err(|e| xml_error(reader, e))?;
            if let Some((_, c)) = first_non_xml_char(&value) {
                return Err(non_xml_char_error(reader.buffer_position() as usize, c));
            }
            if key == "xmlns" {
                namespaces.insert(String::new(), value);
            } else if let Some(prefix) = key.strip_prefix("xmlns:") {
                namespaces.insert(prefix.to_owned(), value);
            } else {
                attributes.push((key, value));
            }
        }
        Ok(Element {
            name,
            attributes,
            ..Element::default()
        })
    };
    loop {
        let event = reader.read_event().map_err(|e| xml_error(&reader, e))?;
        match event {
            Event::Start(start) => {
                depth_fits(&reader, stack.len())?;
                let element = open(&start, &mut namespaces, &reader)?;
                stack.push(element);
            }
            Event::Empty(start) => {
                depth_fits(&reader, stack.len())?;
                let element = open(&start, &mut namespaces, &reader)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None if root.is_none() => root = Some(element),
                    None => return Err(xml_error(&reader, "more than one root element")),
                }
            }
            Event::End(_) => {
                let element = stack
                    .pop()
                    .ok_or_else(|| xml_error(&reader, "unbalanced end tag"))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None if root.is_none() => root = Some(element),
                    None => return Err(xml_error(&reader, "more than one root element")),
                }
            }
            Event::Text(t) => {
                let decoded = t.decode().map_err(|e| xml_error(&reader, e))?;
                let decoded = normalise_line_ends(&decoded);
                match stack.last_mut() {
                    Some(top) => push_text(top, &decoded)?,
                    None if decoded.trim().is_empty() => {}
                    None => return Err(xml_error(&reader, "text outside the root element")),
                }
            }
            Event::CData(t) => {
                let decoded = t.decode().map_err(|e| xml_error(&reader, e))?;
                if let Some(top) = stack.last_mut() {
                    push_text(top, &normalise_line_ends(&decoded))?;
                }
            }
            Event::GeneralRef(r) => {
                let resolved = if r.is_char_ref() {
                    r.resolve_char_ref()
                        .map_err(|e| xml_error(&reader, e))?
                        .map(String::from)
                } else {
                    let name = r.decode().map_err(|e| xml_error(&reader, e))?;
                    quick_xml::escape::resolve_predefined_entity(&name).map(str::to_owned)
                };
                let resolved =
                    resolved.ok_or_else(|| xml_error(&reader, "unknown entity reference"))?;
                if let Some((_, c)) = first_non_xml_char(&resolved) {
                    return Err(non_xml_char_error(reader.buffer_position() as usize, c));
                }
                if let Some(top) = stack.last_mut() {
                    push_text(top, &resolved)?;
                }
            }
            Event::Eof => break,
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(ImportError::document(
            stack.last().map(|e| e.name.clone()).unwrap_or_default(),
            "malformed XML: the document ends inside this element",
        ));
    }
    let root = root.ok_or_else(|| ImportError::document("", "malformed XML: no root element"))?;
    Ok(Document { root, namespaces })
}

/// Escapes text for element content and attribute values. Tabs and line ends are written as
/// references, which a reader keeps as they are (a literal one would be a space in an
/// attribute, and a carriage return a line feed anywhere). A character XML 1.0 cannot carry
/// at all (a form feed from a JSON-LD document, say) is written as U+FFFD, the replacement
/// character, so that the document stays well-formed and shows where something was.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if !is_xml_char(c) => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_entities_namespaces_and_empty_elements() {
        let doc = parse(
            "\u{feff}<?xml version='1.0'?><a xmlns='urn:x' xmlns:p='urn:p'><b k=\"1&amp;2\">x &lt; y&#65;</b><p:c/></a>",
        )
        .unwrap();
        assert_eq!(doc.namespaces["p"], "urn:p");
        assert_eq!(doc.root.child("b").unwrap().text, "x < yA");
        assert_eq!(doc.root.child("b").unwrap().attribute("k"), Some("1&2"));
        assert_eq!(doc.root.children[1].name, "p:c");
        assert!(parse("<a><b></a>").is_err());
        assert!(parse("").is_err());
    }

    #[test]
    fn normalises_attributes_and_line_ends_and_refuses_what_xml_cannot_carry() {
        let doc = parse("<a k=\"x\ty\r\nz&#10;\">l1\r\nl2\rl3&#13;</a>").unwrap();
        assert_eq!(doc.root.attributes[0].1, "x y z\n");
        assert_eq!(doc.root.text, "l1\nl2\nl3\r");
        assert!(parse("<a>&#0;</a>").is_err());
        for bad in [
            "<a=b/>",
            "<a><b=c:d/></a>",
            "<a k=b='1'/>",
            "<1a/>",
            "<a b/c='1'/>",
        ] {
            assert!(
                parse(bad).is_err(),
                "{bad:?} has a name that is not an XML name"
            );
        }
        assert!(is_xml_name("epcis:EPCISDocument") && is_xml_name("é.x-1_y"));
        for bad in [
            "<a>\u{c}</a>",
            "<a k='\u{1}'/>",
            "<a k='&#x1F;'/>",
            "<a>\u{ffff}</a>",
        ] {
            let error = parse(bad).unwrap_err().to_string();
            assert!(error.contains("not allowed in XML 1.0"), "{bad:?}: {error}");
        }
    }

    #[test]
    fn escapes_what_a_reader_would_change_and_replaces_what_xml_cannot_carry() {
        let text = "a\tb\nc\rd\u{c}e <&>";
        let doc = parse(&format!("<a k=\"{0}\">{0}</a>", escape(text))).unwrap();
        let kept = "a\tb\nc\rd\u{fffd}e <&>";
        assert_eq!(doc.root.attributes[0].1, kept);
        assert_eq!(doc.root.text, kept);
    }
}
