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

fn name_fits(reader: &Reader<&[u8]>, name: &[u8]) -> Result<(), ImportError> {
    if name.len() > MAX_NAME_BYTES {
        return Err(ImportError::limit(
            Limit::NameBytes(MAX_NAME_BYTES),
            format!("byte {}", reader.buffer_position()),
            format!("a name of {} bytes", name.len()),
        ));
    }
    Ok(())
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

/// Reads a whole document. A leading byte-order mark is skipped.
pub fn parse(text: &str) -> Result<Document, ImportError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
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
            let value = attr
                .unescape_value()
                .map_err(|e| xml_error(reader, e))?
                .into_owned();
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
                match stack.last_mut() {
                    Some(top) => push_text(top, &decoded)?,
                    None if decoded.trim().is_empty() => {}
                    None => return Err(xml_error(&reader, "text outside the root element")),
                }
            }
            Event::CData(t) => {
                let decoded = t.decode().map_err(|e| xml_error(&reader, e))?;
                if let Some(top) = stack.last_mut() {
                    push_text(top, &decoded)?;
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

/// Escapes text for element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
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
}
