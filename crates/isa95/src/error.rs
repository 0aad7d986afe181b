//! Why an ISA-95 document was refused: the XML itself, the document as a whole, one request
//! of a schedule, or one element of a recipe, each naming the field at fault.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A fault inside one request of a schedule (a B2MML `ProductionRequest` or
/// `OperationsRequest`), naming the request's `ID` (or its position when it has none) and
/// the field as a path inside it (`SegmentRequirement[1].EarliestStartTime`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, thiserror::Error)]
#[error("request `{request}`: field `{field}`: {message}")]
#[schemars(rename = "ScheduleRequestError")]
pub struct RequestError {
    pub request: String,
    pub field: String,
    pub message: String,
}

impl RequestError {
    pub fn new(
        request: impl Into<String>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> RequestError {
        RequestError {
            request: request.into(),
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Why a document could not be read or mapped.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Isa95Error {
    /// Malformed XML or XML past the readers' bounds (`trace::limits`).
    #[error(transparent)]
    Xml(#[from] trace::ImportError),
    /// The document as a whole: its namespace, its root, a field outside any request.
    #[error("document rejected, nothing imported: field `{field}`: {message}")]
    Document { field: String, message: String },
    /// One request of a schedule (the whole document is refused for it).
    #[error("document rejected, nothing imported: {0}")]
    Request(RequestError),
    /// One element of a recipe, named by its `ID` and description.
    #[error("recipe rejected: {element}: field `{field}`: {message}")]
    Recipe {
        element: String,
        field: String,
        message: String,
    },
}

impl Isa95Error {
    pub fn document(field: impl Into<String>, message: impl Into<String>) -> Isa95Error {
        Isa95Error::Document {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn recipe(
        element: impl Into<String>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Isa95Error {
        Isa95Error::Recipe {
            element: element.into(),
            field: field.into(),
            message: message.into(),
        }
    }
}

impl From<RequestError> for Isa95Error {
    fn from(error: RequestError) -> Isa95Error {
        Isa95Error::Request(error)
    }
}
