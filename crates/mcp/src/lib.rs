//! The MCP server of mixplane: the door an AI agent uses, with governed tools over the
//! use-cases of `app`.
//!
//! Owns the tool table ([`tools`]: names, descriptions, argument schemas, the permission each
//! needs), the translation of each call into a use-case ([`calls`], [`propose`]), the errors
//! a model can act on ([`error`]), and the two transports: stdio ([`serve_stdio`], for
//! `mixplane mcp --token …`) and Streamable HTTP ([`http_service`], which `server` mounts at
//! `/mcp` behind its bearer-token check).
//!
//! Every call, whatever the transport:
//!
//! 1. resolves the principal from the store (over stdio from the token's id at each call, so
//!    a revoked token or a changed role or scope takes effect at once; over HTTP the server
//!    resolved it for the request);
//! 2. runs the route-level rule (`app::access::authorize`: the role grants the tool's
//!    permission, the scope reaches the plant's site); the use-case applies object-level
//!    scope (`app::scope`) to reads as to writes;
//! 3. pseudonymises and masks the answer as the policy says (`govern::Pseudonymizer`, the
//!    REST API's own rule for agents): everything read through this door is read by an agent;
//! 4. is audited (`app::tool_calls`), refused or answered, under the principal; an answer
//!    whose record cannot be written is withheld.
//!
//! What it must not do: speak SQL, call an engine or the store around `app`, decide who may
//! do what (the use-cases and governance do), or offer a tool that approves, rejects or
//! applies a proposal — agents never approve, whatever their role would allow.

pub mod args;
pub mod calls;
pub mod error;
pub mod propose;
pub mod tools;

use std::sync::Arc;

use app::App;
use app::tool_calls::{Outcome, ToolCall};
use govern::Principal;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
    ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use serde_json::Value;

pub use rmcp::transport::StreamableHttpService;

use crate::error::ToolError;

/// Who is calling.
#[derive(Debug, Clone)]
pub enum Caller {
    /// Resolved by the transport for this request (HTTP: the server's bearer check).
    Resolved(Principal),
    /// The token a long-lived session was opened with, by its id: the principal is read
    /// from the store at every call.
    Token(String),
}

/// One MCP session's server: the use-cases and who calls them.
#[derive(Debug, Clone)]
pub struct McpServer {
    app: App,
    caller: Caller,
    /// The transport, named in each call's audit record.
    door: &'static str,
}

/// What `serve_stdio` may fail with.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("the token is unknown, revoked or malformed in this store")]
    BadToken,
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("the MCP session failed: {0}")]
    Session(String),
}

impl McpServer {
    /// A server for `caller` over `app`, through `door` (`mcp-stdio`, `mcp-http`).
    pub fn new(app: App, caller: Caller, door: &'static str) -> McpServer {
        McpServer { app, caller, door }
    }

    async fn principal(&self) -> Result<Principal, ToolError> {
        match &self.caller {
            Caller::Resolved(principal) => Ok(principal.clone()),
            Caller::Token(id) => self
                .app
                .store
                .token_principal(id)
                .await
                .map_err(|e| ToolError::App(e.into()))?
                .ok_or(ToolError::Revoked),
        }
    }

    /// Runs one tool call as the caller: authorised, answered, pseudonymised and audited.
    /// `Err` is what the model reads as the tool's error.
    pub async fn call(&self, name: &str, arguments: Value) -> Result<Value, ToolError> {
        let who = self.principal().await?;
        let Some(tool) = tools::find(name) else {
            let error = ToolError::UnknownTool {
                name: name.to_owned(),
                known: tools::names(),
            };
            self.audit(&who, name, &arguments, failed(&error)).await?;
            return Err(error);
        };
        let result = self.run(tool, &who, &arguments).await;
        let outcome = match &result {
            Ok(value) => match (value["governance"]["proposal"].as_str(), tool.read_only) {
                (Some(id), false) => Outcome::Proposed {
                    proposal: id.to_owned(),
                    status: value["governance"]["status"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                },
                _ => Outcome::Answered,
            },
            Err(error) => failed(error),
        };
        self.audit(&who, tool.name, &arguments, outcome).await?;
        result
    }

    async fn run(
        &self,
        tool: &'static tools::ToolSpec,
        who: &Principal,
        arguments: &Value,
    ) -> Result<Value, ToolError> {
        app::access::authorize(&self.app, who, tool.permission)
            .await
            .map_err(|error| match error {
                app::AppError::Forbidden(_) if !who.role.allows(tool.permission) => {
                    ToolError::Permission {
                        tool: tool.name,
                        permission: permission_name(tool.permission),
                        role: who.role.to_string(),
                    }
                }
                other => ToolError::from_app(tool.name, &who.scope, other),
            })?;
        let call = calls::Call {
            app: &self.app,
            who,
            tool: tool.name,
        };
        let mut answer = call.run(arguments).await?;
        let pseudonymizer = self
            .app
            .governance
            .pseudonymizer(&self.app.store)
            .await
            .map_err(ToolError::App)?;
        pseudonymizer.protect(&mut answer);
        // A tool's structured content is an object: a list answer is wrapped.
        if !answer.is_object() {
            answer = serde_json::json!({ "items": answer });
        }
        Ok(answer)
    }

    async fn audit(
        &self,
        who: &Principal,
        tool: &str,
        arguments: &Value,
        outcome: Outcome,
    ) -> Result<(), ToolError> {
        let call = ToolCall {
            door: self.door,
            tool,
            arguments,
            outcome,
        };
        app::tool_calls::record(&self.app, who, call)
            .await
            .map_err(ToolError::Audit)
    }
}

fn failed(error: &ToolError) -> Outcome {
    if error.is_refusal() {
        Outcome::Refused {
            reason: error.to_string(),
        }
    } else {
        Outcome::Failed {
            error: error.to_string(),
        }
    }
}

fn permission_name(permission: govern::Permission) -> String {
    serde_json::to_value(permission)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("{permission:?}"))
}

/// The tools as `tools/list` answers them.
pub fn tool_list() -> Vec<Tool> {
    tools::TOOLS
        .iter()
        .map(|spec| {
            let annotations = ToolAnnotations::with_title(spec.title)
                .read_only(spec.read_only)
                .destructive(false)
                .idempotent(spec.read_only)
                .open_world(false);
            Tool::new(spec.name, spec.description, Arc::new((spec.schema)()))
                .with_title(spec.title)
                .with_annotations(annotations)
        })
        .collect()
}

const INSTRUCTIONS: &str = "mixplane is the control plane of a mixed-mode plant. Read tools \
    answer orders, work centers, the schedule in force, lateness and bottlenecks, SPC charts, \
    alerts, holds, nonconformances, the release gate and genealogy, limited to this agent's \
    scope and with people's identities pseudonymised. Propose tools make governed proposals: \
    each answer says whether it applied by itself under the policy or waits for a person. \
    Agents never approve. Every call is audited.";

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("mixplane", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(tool_list()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        tool_list().into_iter().find(|t| t.name == name)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let arguments = request.arguments.map_or(Value::Null, Value::Object);
        let result = match self.call(&request.name, arguments).await {
            Ok(value) => CallToolResult::structured(value),
            Err(error) => {
                tracing::info!(tool = %request.name, %error, "MCP tool call refused or failed");
                CallToolResult::error(vec![ContentBlock::text(error.to_string())])
            }
        };
        Ok(result.into())
    }
}

/// Serves MCP over stdin/stdout as the principal of `token` until the client closes the
/// session. The token is verified once (argon2) and its principal read again at every call.
pub async fn serve_stdio(app: App, token: &str) -> Result<(), ServeError> {
    let principal = app
        .store
        .authenticate(token)
        .await?
        .ok_or(ServeError::BadToken)?;
    let token_id = store::token_id(token).ok_or(ServeError::BadToken)?;
    tracing::info!(principal = %principal.id, role = %principal.role, scope = %principal.scope, "serving MCP on stdio");
    let server = McpServer::new(app, Caller::Token(token_id.to_owned()), "mcp-stdio");
    let running = server
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| ServeError::Session(e.to_string()))?;
    running
        .waiting()
        .await
        .map_err(|e| ServeError::Session(e.to_string()))?;
    Ok(())
}

/// The Streamable HTTP service for one request of `principal` (already authenticated by the
/// server from its bearer token). Stateless and answering plain JSON: every POST is a whole
/// exchange, so each request's principal is the one its own token names.
pub fn http_service(
    app: App,
    principal: Principal,
) -> StreamableHttpService<McpServer, NeverSessionManager> {
    let config = rmcp::transport::StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        // The host check guards unauthenticated local servers against DNS rebinding; every
        // request here carries a bearer token a rebinding page does not have, and the API is
        // served under whatever name its deployment gives it.
        .disable_allowed_hosts();
    StreamableHttpService::new(
        move || {
            Ok(McpServer::new(
                app.clone(),
                Caller::Resolved(principal.clone()),
                "mcp-http",
            ))
        },
        Arc::new(NeverSessionManager::default()),
        config,
    )
}
