//! The HTTP API of mixplane.
//!
//! Owns routing, request parsing, the mapping of errors to RFC 9457 problem+json, and the
//! OpenAPI document — all built from one route table ([`api::endpoints`]). Every endpoint is
//! guarded by its permission ([`auth`]: bearer tokens, roles, plant scopes); every write goes
//! through the store, which audits it with the authenticated principal.
//!
//! Architecture invariant: only this crate speaks HTTP. It holds no domain logic of its own:
//! a handler extracts, authorises, calls a use-case of `app` and answers; every error becomes
//! problem+json in [`problem`].

pub mod access_log;
pub mod api;
pub mod auth;
pub mod conditional;
pub mod connectors_api;
pub mod docs;
pub mod event_batch;
pub mod extract;
pub mod govern_api;
pub mod isa95_api;
pub mod limits;
pub mod mcp_api;
pub mod metrics;
pub mod odata_api;
pub mod openapi;
pub mod openapi_content;
pub mod paging;
pub mod principals_api;
pub mod problem;
pub mod quality_api;
pub mod routes;
pub mod scenario_api;
pub mod schedule_api;
mod serve;
#[cfg(feature = "tls")]
pub mod tls;
pub mod trace_api;
pub mod ui;
pub mod ui_session;
pub mod verification;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, Uri};
use axum::routing::MethodRouter;

use crate::limits::Limits;
use crate::problem::Problem;

pub use crate::serve::serve;
#[cfg(feature = "tls")]
pub use crate::serve::serve_tls;

/// What every handler can reach: the use-cases ([`app::App`], also reachable through
/// `Deref`) and what only the HTTP edge needs.
#[derive(Clone)]
pub struct AppState {
    pub app: app::App,
    pub openapi: Arc<serde_json::Value>,
    /// The API reference page (`/docs`), rendered from `openapi`.
    pub docs: Arc<str>,
    /// Verified bearer tokens.
    pub tokens: Arc<auth::TokenCache>,
    /// The resource bounds of connections, requests, bodies and verifications.
    pub limits: Arc<Limits>,
    /// The live agents running beside this server, once they run (`GET /v1/agents` reports
    /// them): at the start, or when this node becomes the plant's leader (`app::leader`).
    pub agents: Arc<std::sync::OnceLock<app::agents::live::AgentsHandle>>,
    /// Request counts and latencies for `/metrics`.
    pub metrics: Arc<metrics::Metrics>,
    /// The web dashboard's open sessions.
    pub sessions: Arc<ui_session::Sessions>,
    /// Set when the server shuts down, so that live streams end and the drain can finish.
    pub closing: Arc<tokio::sync::watch::Sender<bool>>,
    /// A folder to serve the dashboard's files from instead of those embedded (set by the
    /// binary from `MIXPLANE_UI_DIR`, for work on them without rebuilding).
    pub ui_dir: Option<Arc<std::path::Path>>,
}

impl AppState {
    /// The API over `store` with the default governance and the system clock.
    pub fn new(store: Arc<store::Store>) -> AppState {
        AppState::from_app(app::App::new(store))
    }

    /// The API over these use-cases.
    pub fn from_app(app: app::App) -> AppState {
        let openapi = openapi::document(&api::endpoints());
        AppState {
            app,
            docs: docs::page(&openapi).into(),
            openapi: Arc::new(openapi),
            tokens: Arc::default(),
            limits: Arc::default(),
            agents: Arc::default(),
            metrics: Arc::default(),
            sessions: Arc::default(),
            closing: Arc::new(tokio::sync::watch::channel(false).0),
            ui_dir: None,
        }
    }

    /// The same state reporting these running agents.
    pub fn with_agents(self, agents: app::agents::live::AgentsHandle) -> AppState {
        // A new state's slot is empty; a second call keeps the first agents.
        let _ = self.agents.set(agents);
        self
    }

    /// The same state serving the dashboard's files from `dir` instead of the binary.
    pub fn with_ui_dir(mut self, dir: std::path::PathBuf) -> AppState {
        self.ui_dir = Some(dir.into());
        self
    }

    /// The same state held to these resource bounds (a fresh token cache, whose gate
    /// follows them).
    pub fn with_limits(mut self, limits: Limits) -> AppState {
        self.tokens = Arc::new(auth::TokenCache::new(&limits));
        self.limits = Arc::new(limits);
        self
    }

    /// The same state with these governance settings (policy, sinks).
    pub fn with_governance(mut self, governance: app::Governance) -> AppState {
        self.app = self.app.with_governance(governance);
        self
    }
}

impl std::ops::Deref for AppState {
    type Target = app::App;

    fn deref(&self) -> &app::App {
        &self.app
    }
}

/// The body limit of an endpoint: the event batch has its own, lower one.
fn body_limit_of(endpoint: &routes::Endpoint, limits: &Limits) -> usize {
    if endpoint.operation_id == api::INGEST_EVENTS {
        limits.max_event_batch_bytes
    } else {
        limits.max_body_bytes
    }
}

/// The full router, built from the route table. Every endpoint's handler is wrapped in
/// [`auth::layer`] with the endpoint's permission, so none is reachable without its rule,
/// and in its body limit ([`limits::body_limit`]); every request runs under the request
/// deadline ([`limits::deadline`]); the whole router is wrapped in the [`access_log`].
pub fn router(state: AppState) -> Router {
    let limits = state.limits.clone();
    let mut router = Router::new();
    for endpoint in api::endpoints() {
        let guard =
            axum::middleware::from_fn_with_state(state.clone(), auth::guard(endpoint.permission));
        let body_limit = body_limit_of(&endpoint, &limits);
        // One layer a statement: each `layer` call needs its error type named.
        let handler: MethodRouter<AppState> = (endpoint.handler)().layer(guard);
        let handler: MethodRouter<AppState> = handler.layer(DefaultBodyLimit::max(body_limit));
        let handler: MethodRouter<AppState> = handler.layer(axum::middleware::from_fn(
            move |request: axum::extract::Request, next: axum::middleware::Next| {
                limits::body_limit(body_limit, request, next)
            },
        ));
        // The route template, for the metrics: labels must not carry ids.
        let route = metrics::RouteLabel(endpoint.path);
        let handler: MethodRouter<AppState> = handler.layer(axum::middleware::map_response(
            move |mut response: axum::response::Response| async move {
                response.extensions_mut().insert(route);
                response
            },
        ));
        router = router.route(endpoint.path, handler);
    }
    let timeout = limits.request_timeout();
    router
        .merge(odata_api::routes())
        .merge(ui::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn(
            move |request: axum::extract::Request, next: axum::middleware::Next| {
                limits::deadline(timeout, request, next)
            },
        ))
        .layer(axum::middleware::from_fn(problem::ensure_problem_json))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            access_log::layer,
        ))
        .with_state(state)
}

async fn not_found(uri: Uri) -> Problem {
    Problem::not_found(format!(
        "no endpoint at `{}`; see /v1/openapi.json",
        uri.path()
    ))
}

async fn method_not_allowed(method: Method, uri: Uri) -> Problem {
    Problem::method_not_allowed(format!(
        "`{method}` is not allowed on `{}`; see /v1/openapi.json",
        uri.path()
    ))
}
