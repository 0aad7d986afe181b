//! How much of the server one client may take: the configurable bounds on connections,
//! time, bodies, event batches and token verifications, and the middleware that holds every
//! request to its deadline and to its endpoint's body limit.
//!
//! [`Limits`] is read by the binary from the `[server.limits]` table of its config file
//! (every field optional, defaulting to [`Limits::default`]) and handed to
//! [`crate::AppState::with_limits`]; [`crate::serve`] applies the connection bounds,
//! [`crate::router`] the per-request ones, [`crate::auth::TokenCache`] the verification ones.
//! Every refusal is problem+json that names the bound, so a client can tell what to change.
//!
//! This module decides no domain question: it bounds resources only.

use std::time::Duration;

use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::problem::Problem;

/// Deepest nesting of arrays and objects in a JSON request body: the one bound of JSON read
/// from outside, shared with the genealogy importer.
pub use model::json_scan::MAX_JSON_DEPTH;

/// Every resource bound of the server. The defaults suit one plant's service on a small
/// machine (2 cores): see each field.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Open connections at once; further clients wait in the listen backlog. Default 1024.
    pub max_connections: usize,
    /// Seconds a connection may take to send a request's headers, and may sit idle between
    /// requests, before it is closed. Default 10.
    pub header_read_timeout_seconds: u64,
    /// Seconds from a request's headers to its answer, reading the body included; past it the
    /// answer is 408 and the handler is stopped. Default 120 (a solve runs at most 30 s).
    pub request_timeout_seconds: u64,
    /// Largest request body, in bytes, of every endpoint but the event batch. Default 64 MiB.
    pub max_body_bytes: usize,
    /// Largest body of `POST /v1/events`, in bytes. Default 8 MiB.
    pub max_event_batch_bytes: usize,
    /// Most events in one batch of `POST /v1/events`. Default 10,000.
    pub max_events_per_batch: usize,
    /// Longest string in an event batch (an id, a reason, a customer), in bytes as sent.
    /// Default 4 KiB.
    pub max_event_field_bytes: usize,
    /// argon2 token verifications running at once (each holds 19 MiB and a core for about
    /// 25 ms). Default: half the cores, at least 1 — the other half keeps serving while a
    /// flood of wrong secrets fills every slot.
    pub concurrent_verifications: usize,
    /// Verifications waiting for one of those slots; further ones answer 503 with
    /// `Retry-After`. Default 32.
    pub queued_verifications: usize,
    /// Failed verifications of one token id within a failure window before further attempts
    /// on that id answer 429 until the window ends. Default 10.
    pub failures_per_token: u32,
    /// Failed verifications from one client address within a failure window before its
    /// further unverified tokens answer 429 until the window ends. Default 30.
    pub failures_per_client: u32,
    /// Length of the failure window, in seconds; also how long a failed token is remembered
    /// (and answered 401 without being verified again). Default 60.
    pub failure_window_seconds: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_connections: 1024,
            header_read_timeout_seconds: 10,
            request_timeout_seconds: 120,
            max_body_bytes: 64 * 1024 * 1024,
            max_event_batch_bytes: 8 * 1024 * 1024,
            max_events_per_batch: 10_000,
            max_event_field_bytes: 4 * 1024,
            concurrent_verifications: std::thread::available_parallelism()
                .map_or(1, |cores| (cores.get() / 2).max(1)),
            queued_verifications: 32,
            failures_per_token: 10,
            failures_per_client: 30,
            failure_window_seconds: 60,
        }
    }
}

/// A bound that cannot work (zero connections, a zero timeout).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("server limit `{field}` {message}")]
pub struct LimitError {
    pub field: &'static str,
    pub message: &'static str,
}

impl Limits {
    /// Refuses bounds that would stop the server from serving at all.
    pub fn validate(&self) -> Result<(), LimitError> {
        let positive = [
            ("max_connections", self.max_connections as u64),
            (
                "header_read_timeout_seconds",
                self.header_read_timeout_seconds,
            ),
            ("request_timeout_seconds", self.request_timeout_seconds),
            ("max_body_bytes", self.max_body_bytes as u64),
            ("max_event_batch_bytes", self.max_event_batch_bytes as u64),
            ("max_events_per_batch", self.max_events_per_batch as u64),
            ("max_event_field_bytes", self.max_event_field_bytes as u64),
            (
                "concurrent_verifications",
                self.concurrent_verifications as u64,
            ),
            ("failures_per_token", u64::from(self.failures_per_token)),
            ("failures_per_client", u64::from(self.failures_per_client)),
            ("failure_window_seconds", self.failure_window_seconds),
        ];
        match positive.iter().find(|(_, value)| *value == 0) {
            Some((field, _)) => Err(LimitError {
                field,
                message: "must be at least 1",
            }),
            None => Ok(()),
        }
    }

    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_secs(self.header_read_timeout_seconds)
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_seconds)
    }

    pub fn failure_window(&self) -> Duration {
        Duration::from_secs(self.failure_window_seconds)
    }
}

/// The body limit of the request being served, set by [`body_limit`] for the extractors of
/// [`crate::extract`] to name in a 413.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyLimit(pub usize);

impl BodyLimit {
    /// The 413 for a body past this limit.
    pub fn problem(self) -> Problem {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            format!(
                "the request body is larger than this endpoint's limit of {} bytes",
                self.0
            ),
        )
    }
}

/// Middleware: refuses a body whose `Content-Length` is past `limit` before reading any of
/// it, and records the limit for the extractors (which stop a body without a length at the
/// same bound, through axum's `DefaultBodyLimit`).
pub async fn body_limit(limit: usize, mut request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return BodyLimit(limit).problem().into_response();
    }
    request.extensions_mut().insert(BodyLimit(limit));
    let response = next.run(request).await;
    // A body without a length stopped at the limit by an extractor of axum's own (`Bytes`)
    // answers in text; say the limit instead.
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_problem {
        return BodyLimit(limit).problem().into_response();
    }
    response
}

/// Middleware: runs the rest of the request in a task of its own, so that past `timeout`
/// it is stopped (at its next await) and answered 408, and a handler that panics is
/// answered 500 instead of dropping the connection; both as problem+json.
pub async fn deadline(timeout: Duration, request: Request, next: Next) -> Response {
    let mut task = tokio::spawn(next.run(request));
    match tokio::time::timeout(timeout, &mut task).await {
        Ok(Ok(response)) => response,
        Ok(Err(error)) => {
            tracing::error!(%error, "a request handler failed");
            Problem::internal("the request failed inside the server (see the server log)")
                .into_response()
        }
        Err(_) => {
            task.abort();
            Problem::new(
                StatusCode::REQUEST_TIMEOUT,
                "request-timeout",
                format!(
                    "the request was not answered within the server's limit of {} s",
                    timeout.as_secs()
                ),
            )
            .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_a_zero_bound_is_refused_by_name() {
        assert_eq!(Limits::default().validate(), Ok(()));
        let limits = Limits {
            concurrent_verifications: 0,
            ..Limits::default()
        };
        let error = limits.validate().unwrap_err();
        assert_eq!(error.field, "concurrent_verifications");
        assert_eq!(
            error.to_string(),
            "server limit `concurrent_verifications` must be at least 1"
        );
    }

    #[test]
    fn limits_read_from_a_partial_table_keep_the_other_defaults() {
        let limits: Limits =
            serde_json::from_str(r#"{"max_connections": 8, "failures_per_token": 3}"#).unwrap();
        assert_eq!(limits.max_connections, 8);
        assert_eq!(limits.failures_per_token, 3);
        assert_eq!(limits.max_events_per_batch, 10_000);
        let error = serde_json::from_str::<Limits>(r#"{"max_conections": 8}"#).unwrap_err();
        assert!(error.to_string().contains("max_conections"), "{error}");
    }
}
