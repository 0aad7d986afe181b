//! The route table: every endpoint is declared once, and both the axum router and the
//! OpenAPI document are built from this table, so they cannot disagree.

use axum::http::Method;
use axum::routing::MethodRouter;
use schemars::{Schema, SchemaGenerator};

use crate::AppState;

/// Where a parameter is read from.
#[derive(Debug, Clone, Copy)]
pub enum ParamIn {
    Path,
    Query,
}

/// A documented path or query parameter.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    pub name: &'static str,
    pub location: ParamIn,
    pub description: &'static str,
    /// A JSON Schema type name: `string`, `integer`.
    pub schema_type: &'static str,
    pub required: bool,
    /// The closed set of values it takes ([`Param::one_of`], [`Param::list_of`]), named by
    /// the type the handler parses it into (`names(Mode::ALL)`), so that the document
    /// cannot list a value the server refuses; `None` when any value of its type parses.
    pub values: Option<ValuesFn>,
    /// A comma-separated list of values (`style: form, explode: false`).
    pub list: bool,
    /// A JSON Schema `format` of its values, e.g. `date-time` for an RFC 3339 instant.
    pub format: Option<&'static str>,
}

/// The wire names of a closed set of values.
pub type ValuesFn = fn() -> Vec<String>;

/// The wire names of `all` (a `wire_enum!` type's `ALL`, or a list of names).
pub fn names<T: std::fmt::Display>(all: &[T]) -> Vec<String> {
    all.iter().map(ToString::to_string).collect()
}

impl Param {
    /// The same parameter taking one of `values` (an `enum` in the OpenAPI document).
    pub const fn one_of(mut self, values: ValuesFn) -> Param {
        self.values = Some(values);
        self
    }

    /// The same parameter as a comma-separated list, each item one of `values`.
    pub const fn list_of(mut self, values: ValuesFn) -> Param {
        self.values = Some(values);
        self.list = true;
        self
    }

    /// The same parameter as an RFC 3339 instant (`format: date-time`).
    pub const fn instant(mut self) -> Param {
        self.format = Some("date-time");
        self
    }
}

pub type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

/// What a caller must be allowed to do to call an endpoint. Every endpoint names one, so an
/// endpoint cannot be added without an access rule. The enum and the roles that grant each
/// permission live in `govern::rbac`; [`crate::auth`] enforces them for every route.
pub use govern::Permission;

/// One endpoint: what the OpenAPI document says and the handler that serves it.
pub struct Endpoint {
    pub method: Method,
    pub path: &'static str,
    pub operation_id: &'static str,
    pub summary: &'static str,
    pub tag: &'static str,
    pub params: &'static [Param],
    pub request: Option<SchemaFn>,
    /// The 2xx response body.
    pub response: SchemaFn,
    pub success_status: u16,
    /// What the caller must be permitted to do.
    pub permission: Permission,
    /// The problem types of the 409s the handler answers when what it acts on is in a state
    /// that refuses the request (a name taken, a proposal decided, a hold released); empty
    /// when it answers none. Listed here so that the OpenAPI document declares them.
    pub conflicts: &'static [&'static str],
    pub handler: fn() -> MethodRouter<AppState>,
}

pub const fn query(
    name: &'static str,
    schema_type: &'static str,
    description: &'static str,
) -> Param {
    Param {
        name,
        location: ParamIn::Query,
        description,
        schema_type,
        required: false,
        values: None,
        list: false,
        format: None,
    }
}

pub const fn path(name: &'static str, description: &'static str) -> Param {
    Param {
        name,
        location: ParamIn::Path,
        description,
        schema_type: "string",
        required: true,
        values: None,
        list: false,
        format: None,
    }
}
