//! The MCP server over Streamable HTTP at `POST /mcp`: the route of the `mcp` crate's tools on
//! the API's port, behind the same bearer tokens as every route.
//!
//! The route-level guard ([`crate::auth`]) authenticates the token and resolves the principal
//! from the store for each request, as for every endpoint; the permission declared here is
//! the door's minimum (reading the plant), and each tool then checks its own permission and
//! the object's scope through `app`. The service is stateless and answers JSON (no session,
//! no server-sent events), so every POST is one whole exchange under its own token.
//!
//! The tool results are pseudonymised by the `mcp` crate (for both transports), so this
//! route's answers are marked [`crate::auth::Protected`] and not protected a second time.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use govern::Permission;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::AppState;
use crate::auth::{Caller, Protected};
use crate::routes::Endpoint;

/// The path of the MCP endpoint.
pub const MCP_PATH: &str = "/mcp";

/// A JSON-RPC 2.0 message of the Model Context Protocol (a request, a notification or a
/// batch of them); see the MCP specification's Streamable HTTP transport.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct McpMessage {
    /// Always `2.0`.
    pub jsonrpc: String,
    /// The request id; absent in a notification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Value>,
    /// `initialize`, `tools/list`, `tools/call`, … (requests and notifications).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<Value>,
    /// A response's result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// A response's error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
}

pub fn endpoints() -> Vec<Endpoint> {
    vec![Endpoint {
        method: Method::POST,
        path: MCP_PATH,
        operation_id: "mcp",
        summary: "The MCP server (Streamable HTTP, stateless, JSON answers): governed tools for AI agents; send `Accept: application/json, text/event-stream`",
        tag: "agents",
        params: &[],
        request: Some(|g| g.subschema_for::<McpMessage>()),
        response: |g| g.subschema_for::<McpMessage>(),
        success_status: 200,
        permission: Permission::ReadPlant,
        conflicts: &[],
        handler: || post(mcp),
    }]
}

async fn mcp(State(state): State<AppState>, caller: Caller, request: Request) -> Response {
    let service = mcp::http_service(state.app.clone(), caller.0);
    let mut response = service.handle(request).await.map(Body::new).into_response();
    response.extensions_mut().insert(Protected);
    response
}
