//! Request extractors whose rejections are problem+json naming what is wrong.
//!
//! axum's own `Json` and `Query` reject with plain text; a client integrating with mixplane
//! should get the same machine-readable error shape everywhere.

use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::problem::Problem;

/// A JSON body; malformed JSON is a 400 and a well-formed body of the wrong shape a 422,
/// both naming the line, column or field.
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Json(value)),
            Err(JsonRejection::JsonDataError(e)) => Err(Problem::unprocessable(source_text(&e))),
            Err(JsonRejection::JsonSyntaxError(e)) => Err(Problem::malformed_json(source_text(&e))),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(Problem::unsupported_media_type(
                "the body must be JSON with `Content-Type: application/json`",
            )),
            Err(other) => Err(Problem::bad_request(other.body_text())),
        }
    }
}

/// Query parameters; a bad value is a 400 naming the parameter.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Query(value)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => Err(Problem::bad_request(
                format!("invalid query string: {}", source_text(&e)),
            )),
            Err(other) => Err(Problem::bad_request(other.body_text())),
        }
    }
}

/// A JSON body that may be absent (an empty body is the type's default).
pub struct OptionalJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for OptionalJson<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| Problem::bad_request(e.body_text()))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(T::default()));
        }
        serde_json::from_slice(&bytes)
            .map(OptionalJson)
            .map_err(|e| Problem::unprocessable(e.to_string()))
    }
}

// axum's rejection text is "Failed to …: <serde message>"; the serde part names the field,
// line and column, which is what a client needs.
fn source_text(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text = inner.to_string();
        source = inner.source();
    }
    text
}
