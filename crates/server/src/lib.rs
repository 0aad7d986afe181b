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
pub mod extract;
pub mod govern_api;
pub mod openapi;
pub mod principals_api;
pub mod problem;
pub mod quality_api;
pub mod routes;
pub mod scenario_api;
pub mod schedule_api;
pub mod trace_api;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, Uri};
use tokio::net::TcpListener;

use crate::problem::Problem;

/// What every handler can reach: the use-cases ([`app::App`], also reachable through
/// `Deref`) and what only the HTTP edge needs.
#[derive(Clone)]
pub struct AppState {
    pub app: app::App,
    pub openapi: Arc<serde_json::Value>,
    /// Verified bearer tokens.
    pub tokens: Arc<auth::TokenCache>,
}

impl AppState {
    /// The API over `store` with the default governance and the system clock.
    pub fn new(store: Arc<store::Store>) -> AppState {
        AppState::from_app(app::App::new(store))
    }

    /// The API over these use-cases.
    pub fn from_app(app: app::App) -> AppState {
        AppState {
            app,
            openapi: Arc::new(openapi::document(&api::endpoints())),
            tokens: Arc::default(),
        }
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

/// Largest request body accepted: a generous batch of events.
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// The full router, built from the route table. Every endpoint's handler is wrapped in
/// [`auth::layer`] with the endpoint's permission, so none is reachable without its rule;
/// the whole router is wrapped in the [`access_log`].
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
        .layer(axum::middleware::from_fn(access_log::layer))
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
