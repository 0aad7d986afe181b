//! The HTTP API of mixplane.
//!
//! Owns routing, request parsing, the mapping of errors to RFC 9457 problem+json, and the
//! OpenAPI document — all built from one route table ([`api::endpoints`]). Every endpoint is
//! guarded by its permission ([`auth`]: bearer tokens, roles, plant scopes); every write goes
//! through the store, which audits it with the authenticated principal.
//!
//! Architecture invariant: only this crate speaks HTTP. It holds no domain logic of its own:
//! it parses, calls the store or an engine, and serialises the answer.

pub mod api;
pub mod auth;
pub mod extract;
pub mod govern_api;
pub mod openapi;
pub mod principals_api;
pub mod problem;
pub mod quality_api;
pub mod routes;
pub mod scenario_api;
pub mod schedule_api;
pub mod sink;
pub mod trace_api;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, StatusCode, Uri};
use tokio::net::TcpListener;

use crate::problem::Problem;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<store::Store>,
    pub openapi: Arc<serde_json::Value>,
    /// Policy, sinks, verified tokens and the pseudonymiser.
    pub governance: Arc<govern_api::Governance>,
    /// The genealogy index, rebuilt when the store changed.
    pub trace_index: Arc<trace_api::IndexCache>,
}

impl AppState {
    pub fn new(store: Arc<store::Store>) -> AppState {
        AppState {
            store,
            openapi: Arc::new(openapi::document(&api::endpoints())),
            governance: Arc::new(govern_api::Governance::default()),
            trace_index: Arc::default(),
        }
    }

    /// The same state with these governance settings (policy, sinks).
    pub fn with_governance(mut self, governance: govern_api::Governance) -> AppState {
        self.governance = Arc::new(governance);
        self
    }
}

/// Largest request body accepted: a generous batch of events.
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// The full router, built from the route table. Every endpoint's handler is wrapped in
/// [`auth::layer`] with the endpoint's permission, so none is reachable without its rule.
pub fn router(state: AppState) -> Router {
    let mut router = Router::new();
    for endpoint in api::endpoints() {
        let guard =
            axum::middleware::from_fn_with_state(state.clone(), auth::guard(endpoint.permission));
        router = router.route(endpoint.path, (endpoint.handler)().layer(guard));
    }
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

async fn not_found(uri: Uri) -> Problem {
    Problem::not_found(format!(
        "no endpoint at `{}`; see /v1/openapi.json",
        uri.path()
    ))
}

async fn method_not_allowed(method: Method, uri: Uri) -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        format!(
            "`{method}` is not allowed on `{}`; see /v1/openapi.json",
            uri.path()
        ),
    )
}

/// Serves the API on `listener` until `shutdown` completes, then drains open requests.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}
