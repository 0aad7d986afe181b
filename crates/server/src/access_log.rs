//! The access log: one `tracing` event per request, with its method, path, status, latency
//! and the authenticated principal (`-` when there is none), at target `mixplane::access`.
//!
//! It wraps the whole router, so it sees every answer — including a 401, a 404 from the
//! fallback and a 413 from the body limit. The principal comes from the response's
//! extensions, where [`crate::auth::layer`] leaves the [`Caller`] it authenticated. The same
//! pass counts the request for `/metrics` ([`crate::metrics`]) under its route template.

use std::time::Instant;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::AppState;
use crate::auth::Caller;
use crate::metrics::RouteLabel;

/// The target of access-log events.
pub const TARGET: &str = "mixplane::access";

/// Runs the request, logs one line about it and counts it.
pub async fn layer(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let principal = response.extensions().get::<Caller>().map_or_else(
        || "-".to_owned(),
        |c| format!("{}:{}", c.0.kind.as_str(), c.0.id),
    );
    tracing::info!(
        target: TARGET,
        method = %method,
        path = %path,
        status = response.status().as_u16(),
        latency_ms = started.elapsed().as_secs_f64() * 1000.0,
        principal = %principal,
        "request"
    );
    let route = response
        .extensions()
        .get::<RouteLabel>()
        .map_or_else(|| route_outside_table(&path), |label| label.0);
    app.metrics.observe(
        route,
        method.as_str(),
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// The label of a request no route of the table answered: its door, never its path.
fn route_outside_table(path: &str) -> &'static str {
    if path == "/odata" || path.starts_with("/odata/") {
        "/odata"
    } else if path == "/" || path.starts_with("/ui/") {
        "/ui"
    } else {
        "unmatched"
    }
}
