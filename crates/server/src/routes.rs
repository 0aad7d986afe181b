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
    }
}

pub const fn path(name: &'static str, description: &'static str) -> Param {
    Param {
        name,
        location: ParamIn::Path,
        description,
        schema_type: "string",
        required: true,
    }
}
