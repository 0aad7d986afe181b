//! RFC 9457 problem details: the one place where errors become HTTP responses.
//!
//! Handlers return `Result<_, Problem>`; library errors convert into a `Problem` here, so the
//! status code, title and wording of every error the API gives are decided in one file.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use schemars::JsonSchema;
use serde::Serialize;

/// An `application/problem+json` body.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// What exactly is wrong, naming the field, line or id at fault.
    pub detail: String,
    /// Individual problems when there are several (a plant with many validation errors).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

impl Problem {
    pub fn new(status: StatusCode, kind: &str, detail: impl Into<String>) -> Problem {
        Problem {
            kind: format!("urn:mixplane:problem:{kind}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
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
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"mixplane\""),
            );
        }
        response
    }
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
            E::NoPlant => Problem::new(StatusCode::CONFLICT, "no-plant", error.to_string()),
            E::LogNotEmpty { .. } => {
                Problem::new(StatusCode::CONFLICT, "log-not-empty", error.to_string())
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
