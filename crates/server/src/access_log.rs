//! The access log: one `tracing` event per request, with its method, path, status, latency
//! and the authenticated principal (`-` when there is none), at target `mixplane::access`.
//!
//! It wraps the whole router, so it sees every answer — including a 401, a 404 from the
//! fallback and a 413 from the body limit. The principal comes from the response's
//! extensions, where [`crate::auth::layer`] leaves the [`Caller`] it authenticated.

use std::time::Instant;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

use crate::auth::Caller;

/// The target of access-log events.
pub const TARGET: &str = "mixplane::access";

/// Runs the request and logs one line about it.
pub async fn layer(request: Request, next: Next) -> Response {
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
    response
}
