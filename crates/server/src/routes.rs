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
/// endpoint cannot be added without an access rule; roles map to sets of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
    /// Anyone, without a token (health, the API document).
    Public,
    /// Read plant structure, orders and state.
    ReadPlant,
    /// Read the event log.
    ReadEvents,
    /// Append events.
    WriteEvents,
    /// Read the audit trail.
    ReadAudit,
    /// Read quality data: charts, alerts, holds, nonconformances.
    ReadQuality,
    /// Record quality results, run analyses that write, place and release holds.
    WriteQuality,
    /// Move a nonconformance through its workflow and decide its disposition.
    DisposeQuality,
}

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
    /// Whether the endpoint writes (and so is audited).
    pub writes: bool,
    /// What the caller must be permitted to do.
    pub permission: Permission,
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
