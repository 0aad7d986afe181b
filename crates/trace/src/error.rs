//! The import error: which document, which event, which field, and what is wrong.
//!
//! Every importer rejects a whole document on the first fault it finds, so the caller can
//! store all of a document or none of it.

use std::fmt;

use crate::limits::Limit;

/// Why a document could not be imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct ImportError {
    /// 0-based position of the event (or B2MML material actual) in the document, if the
    /// fault is inside one.
    pub index: Option<usize>,
    /// The event's id, when it has one.
    pub event_id: Option<String>,
    /// The field at fault, as a path (`epcList[2]`, `eventTime`, `MaterialActual.Quantity`).
    pub field: String,
    pub message: String,
    /// The bound the document went past, when that is why it was refused (then `field`
    /// says where: `byte N`, `line L column C` or the member holding a long string).
    pub limit: Option<Limit>,
}

impl ImportError {
    pub fn document(field: impl Into<String>, message: impl Into<String>) -> ImportError {
        ImportError {
            index: None,
            event_id: None,
            field: field.into(),
            message: message.into(),
            limit: None,
        }
    }

    /// A refusal because `what` (a text, an element, …) at `field` goes past `limit`.
    pub fn limit(limit: Limit, field: impl Into<String>, what: impl fmt::Display) -> ImportError {
        ImportError {
            index: None,
            event_id: None,
            field: field.into(),
            message: format!("{what} exceeds the {limit}"),
            limit: Some(limit),
        }
    }

    pub fn event(
        index: usize,
        event_id: Option<&str>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> ImportError {
        ImportError {
            index: Some(index),
            event_id: event_id.map(str::to_owned),
            field: field.into(),
            message: message.into(),
            limit: None,
        }
    }

    fn describe(&self) -> String {
        let mut out = String::from("document rejected, nothing imported: ");
        if let Some(index) = self.index {
            out.push_str(&format!("event {index}"));
            if let Some(id) = &self.event_id {
                out.push_str(&format!(" (id `{id}`)"));
            }
            out.push_str(": ");
        }
        if !self.field.is_empty() {
            out.push_str(&format!("field `{}`: ", self.field));
        }
        out.push_str(&self.message);
        out
    }
}
