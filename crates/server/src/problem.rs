//! RFC 9457 problem details: the one place where errors become HTTP responses.
//!
//! Handlers return `Result<_, Problem>`; the use-cases' [`AppError`] and the libraries'
//! errors convert into a `Problem` here, so the status code, problem type and wording of
//! every error the API gives are decided in one file.

use app::AppError;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use govern::GovernError;
use quality::nc::NcError;
use schemars::JsonSchema;
use serde::Serialize;

/// An `application/problem+json` body.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    /// The reason phrase of the status.
    pub title: String,
    /// The HTTP status code of the answer.
    pub status: u16,
    /// What exactly is wrong, naming the field, line or id at fault.
    pub detail: String,
    /// Individual problems when there are several (a plant with many validation errors).
    // Absent when there is none; `default` makes the schema say it is optional.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// With a 412 (`stale-version`): the object's current tag and its last change. Boxed, as
    /// it is rare and every handler's error is a `Problem`.
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub stale: Option<Box<StaleVersion>>,
    /// Seconds after which the request may be tried again: sent as `Retry-After`.
    #[serde(skip)]
    // Seconds fit in 32 bits; a `Problem` stays small enough to be every handler's error.
    pub retry_after: Option<u32>,
}

/// What a 412 says beside the detail.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct StaleVersion {
    /// The object's current entity tag (also sent as `ETag`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_etag: Option<String>,
    /// Who changed the object last, when and how, from the audit trail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changed: Option<app::conditional::LastChange>,
}

impl Problem {
    pub fn new(status: StatusCode, kind: &str, detail: impl Into<String>) -> Problem {
        Problem {
            kind: format!("urn:mixplane:problem:{kind}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
            stale: None,
            retry_after: None,
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::BAD_REQUEST, "bad-request", detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::NOT_FOUND, "not-found", detail)
    }

    pub fn unprocessable(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-content", detail)
    }

    pub fn internal(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", detail)
    }

    /// A 401 problem (answered with the `WWW-Authenticate` challenge).
    pub fn unauthorized(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
    }

    /// A 403 problem.
    pub fn forbidden(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    /// A 409 problem of kind `kind`.
    pub fn conflict(kind: &str, detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::CONFLICT, kind, detail)
    }

    /// A 400 for a body that is not JSON.
    pub fn malformed_json(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::BAD_REQUEST, "malformed-json", detail)
    }

    /// A 415 for a body of another media type.
    pub fn unsupported_media_type(detail: impl Into<String>) -> Problem {
        Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            detail,
        )
    }

    /// A 405 for a method the path does not serve.
    pub fn method_not_allowed(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed", detail)
    }

    /// A 429: this client or token has failed too often; it may try again after
    /// `retry_after` seconds.
    pub fn too_many_requests(detail: impl Into<String>, retry_after: u64) -> Problem {
        let mut problem = Problem::new(StatusCode::TOO_MANY_REQUESTS, "too-many-requests", detail);
        problem.retry_after = Some(u32::try_from(retry_after).unwrap_or(u32::MAX));
        problem
    }

    /// A 503: the server is at a bound it does not queue past; try again after `retry_after`
    /// seconds.
    pub fn unavailable(detail: impl Into<String>, retry_after: u64) -> Problem {
        let mut problem = Problem::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", detail);
        problem.retry_after = Some(u32::try_from(retry_after).unwrap_or(u32::MAX));
        problem
    }

    /// A problem of `status` whose kind follows from the status (for rejections made outside
    /// this crate: axum's extractors, the router).
    pub fn from_status(status: StatusCode, detail: impl Into<String>) -> Problem {
        let kind = match status {
            StatusCode::BAD_REQUEST => "bad-request",
            StatusCode::NOT_FOUND => "not-found",
            StatusCode::METHOD_NOT_ALLOWED => "method-not-allowed",
            StatusCode::REQUEST_TIMEOUT => "request-timeout",
            StatusCode::PAYLOAD_TOO_LARGE => "payload-too-large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported-media-type",
            StatusCode::UNPROCESSABLE_ENTITY => "invalid-content",
            _ if status.is_server_error() => "internal",
            _ => "rejected-request",
        };
        Problem::new(status, kind, detail)
    }

    /// This problem with a list of individual problems.
    fn with_errors(mut self, errors: Vec<String>) -> Problem {
        self.errors = errors;
        self
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body,
        )
            .into_response();
        if let Some(tag) = self
            .stale
            .as_ref()
            .and_then(|s| s.current_etag.as_deref())
            .and_then(|t| header::HeaderValue::from_str(t).ok())
        {
            response.headers_mut().insert(header::ETAG, tag);
        }
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
        }
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"mixplane\""),
            );
        }
        response
    }
}

/// Middleware: an error answer that is not problem+json yet (a rejection by one of axum's
/// own extractors, such as a path parameter that is not UTF-8) becomes one, with its status,
/// its text as the detail and its other headers (`Allow`, `Retry-After`) kept.
pub async fn ensure_problem_json(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/problem+json"));
    // The OData surface answers its errors as OData error bodies, marked by its version header.
    let is_odata = response.headers().contains_key("odata-version");
    if !(status.is_client_error() || status.is_server_error()) || is_problem || is_odata {
        return response;
    }
    let (parts, body) = response.into_parts();
    // Rejection texts are one line; a longer body is not one of them.
    let text = axum::body::to_bytes(body, 16 * 1024)
        .await
        .ok()
        .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_owned())
        .filter(|text| !text.is_empty())
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned());
    let mut problem = Problem::from_status(status, text).into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            problem.headers_mut().insert(name, value.clone());
        }
    }
    *problem.extensions_mut() = parts.extensions;
    problem
}

impl From<store::StoreError> for Problem {
    fn from(error: store::StoreError) -> Problem {
        use store::StoreError as E;
        match &error {
            E::Invalid { .. } | E::Decode { .. } => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-event",
                error.to_string(),
            ),
            E::PlantInvalid(errors) => {
                let mut problem = Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid-plant",
                    error.to_string(),
                );
                problem.errors = errors.0.iter().map(ToString::to_string).collect();
                problem
            }
            E::Conflict { .. } => {
                Problem::new(StatusCode::CONFLICT, "event-conflict", error.to_string())
            }
            E::BadFilter { .. } => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-filter",
                error.to_string(),
            ),
            E::NoPlant => Problem::new(StatusCode::CONFLICT, "no-plant", error.to_string()),
            E::LogNotEmpty { .. } => {
                Problem::new(StatusCode::CONFLICT, "log-not-empty", error.to_string())
            }
            E::Principal(refusal) => {
                use store::PrincipalError as P;
                let (status, kind) = match refusal {
                    P::Name(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid-principal-name"),
                    P::Unknown(_) => (StatusCode::NOT_FOUND, "not-found"),
                    P::Exists(_) => (StatusCode::CONFLICT, "principal-exists"),
                    P::Changed(_) => (StatusCode::CONFLICT, "principal-changed"),
                    P::LastGlobalAdmin(_) => (StatusCode::CONFLICT, "last-global-admin"),
                };
                Problem::new(status, kind, error.to_string())
            }
            _ => {
                tracing::error!(%error, "store failure");
                Problem::internal(
                    "the store failed; the request changed nothing (see the server log)",
                )
            }
        }
    }
}

impl From<AppError> for Problem {
    fn from(error: AppError) -> Problem {
        let detail = error.to_string();
        let unprocessable = |kind| Problem::new(StatusCode::UNPROCESSABLE_ENTITY, kind, &*detail);
        match error {
            AppError::Store(e) => e.into(),
            AppError::Govern(e) => e.into(),
            AppError::Document(e) => unprocessable("invalid-document").with_errors(vec![format!(
                "index={} id={} field={}",
                e.index.map_or("-".into(), |i| i.to_string()),
                e.event_id.as_deref().unwrap_or("-"),
                e.field
            )]),
            AppError::Corrupt(e) => {
                tracing::error!(error = %e, "stored genealogy does not decode");
                Problem::internal("stored genealogy does not decode (see the server log)")
            }
            AppError::NoPlant => Problem::conflict("no-plant", detail),
            AppError::NotFound(_) => Problem::not_found(detail),
            AppError::Forbidden(_) => Problem::forbidden(detail),
            AppError::BadRequest(_) => Problem::bad_request(detail),
            AppError::Invalid(_) => Problem::unprocessable(detail),
            AppError::Impossible(_) => unprocessable("impossible-schedule"),
            AppError::InvalidSchedule(_) => unprocessable("invalid-schedule"),
            AppError::Infeasible { violations, .. } => {
                unprocessable("infeasible-schedule").with_errors(violations)
            }
            AppError::NothingToCommit(_) => unprocessable("nothing-to-commit"),
            AppError::ProposalChanged(_) => Problem::conflict("proposal-changed", detail),
            AppError::Sink(_) => Problem::new(StatusCode::BAD_GATEWAY, "sink-error", detail),
            AppError::AlreadyOnHold(_) => Problem::conflict("already-on-hold", detail),
            AppError::HoldReleased(_) => Problem::conflict("hold-released", detail),
            AppError::Nonconformance { error, .. } => {
                let status = match error {
                    NcError::UnknownCapaAction { .. } => StatusCode::UNPROCESSABLE_ENTITY,
                    NcError::MissingPrincipal => StatusCode::BAD_REQUEST,
                    _ => StatusCode::CONFLICT,
                };
                let kind = match error {
                    NcError::InvalidTransition { .. } => "invalid-transition",
                    _ => "nonconformance-rule",
                };
                Problem::new(status, kind, detail)
            }
            AppError::ConcurrentTransition(_) => Problem::conflict("concurrent-transition", detail),
            AppError::Stale {
                what,
                current,
                changed,
            } => {
                // The name of who changed it is in `changed`, a member the pseudonymiser
                // rewrites for agents, not in the free text.
                let detail = format!(
                    "{what} changed since the version `If-Match` named (it is now {current}); `changed` says who changed it last and when"
                );
                let mut problem =
                    Problem::new(StatusCode::PRECONDITION_FAILED, "stale-version", detail);
                // "a newer version" when the object moved on during the write itself.
                problem.stale = Some(Box::new(StaleVersion {
                    current_etag: current.starts_with('"').then_some(current),
                    changed,
                }));
                problem
            }
            AppError::Internal(_) => Problem::internal(detail),
        }
    }
}

impl From<GovernError> for Problem {
    fn from(error: GovernError) -> Problem {
        match &error {
            GovernError::Forbidden(_) => Problem::forbidden(error.to_string()),
            GovernError::Conflict(_) => Problem::conflict("proposal-state", error.to_string()),
            GovernError::Stale(_) => Problem::conflict("stale-before", error.to_string()),
            GovernError::Invalid(_) => Problem::unprocessable(error.to_string()),
        }
    }
}
