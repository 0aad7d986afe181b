//! A small XML writer: elements opened and closed in the order the schemas give, two spaces
//! of indentation, text escaped with the escaping `trace`'s writers use.

use trace::xml::escape;

/// Builds one document as text.
#[derive(Debug, Default)]
pub(crate) struct XmlWriter {
    out: String,
    open: Vec<String>,
}

impl XmlWriter {
    pub(crate) fn new() -> XmlWriter {
        XmlWriter {
            out: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"),
            open: Vec::new(),
        }
    }

    fn indent(&mut self) {
        for _ in 0..self.open.len() {
            self.out.push_str("  ");
        }
    }

    /// Opens `name` with `attributes` (already in the order wanted).
    pub(crate) fn open(&mut self, name: &str, attributes: &[(&str, &str)]) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        for (key, value) in attributes {
            self.out.push_str(&format!(" {key}=\"{}\"", escape(value)));
        }
        self.out.push_str(">\n");
        self.open.push(name.to_owned());
    }

    /// Closes the innermost open element.
    pub(crate) fn close(&mut self) {
        if let Some(name) = self.open.pop() {
            self.indent();
            self.out.push_str(&format!("</{name}>\n"));
        }
    }

    /// An element holding only text.
    pub(crate) fn leaf(&mut self, name: &str, text: &str) {
        self.indent();
        self.out
            .push_str(&format!("<{name}>{}</{name}>\n", escape(text)));
    }

    /// An empty element (`<Sync/>`).
    pub(crate) fn empty(&mut self, name: &str) {
        self.indent();
        self.out.push_str(&format!("<{name}/>\n"));
    }

    pub(crate) fn finish(mut self) -> String {
        while !self.open.is_empty() {
            self.close();
        }
        self.out
    }
}
