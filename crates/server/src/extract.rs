//! Request extractors whose rejections are problem+json naming what is wrong.
//!
//! axum's own `Json`, `Query` and `Bytes` reject with plain text; a client integrating with
//! mixplane should get the same machine-readable error shape everywhere. A body past its
//! endpoint's limit is a 413 naming the limit ([`BodyLimit`]); a JSON body nested deeper
//! than [`MAX_JSON_DEPTH`] is a 422 before it is parsed. Rejections of extractors used
//! directly (axum's `Path`, `Bytes`) are turned into problem+json by
//! [`crate::problem::ensure_problem_json`].

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;

use crate::limits::{BodyLimit, MAX_JSON_DEPTH};
use crate::problem::Problem;
use model::json_scan;

/// The problem for one of axum's rejections: its own status, and for a body past its limit
/// the limit of the endpoint.
fn rejected(status: StatusCode, text: String, limit: Option<BodyLimit>) -> Problem {
    match limit {
        Some(limit) if status == StatusCode::PAYLOAD_TOO_LARGE => limit.problem(),
        _ => Problem::from_status(status, text),
    }
}

/// The problem for a JSON body axum refused (`limit` is the endpoint's body limit).
pub fn json_problem(rejection: JsonRejection, limit: Option<BodyLimit>) -> Problem {
    match rejection {
        JsonRejection::JsonDataError(e) => Problem::unprocessable(source_text(&e)),
        JsonRejection::JsonSyntaxError(e) => Problem::malformed_json(source_text(&e)),
        JsonRejection::MissingJsonContentType(_) => Problem::unsupported_media_type(
            "the body must be JSON with `Content-Type: application/json`",
        ),
        other => rejected(other.status(), other.body_text(), limit),
    }
}

/// Whether the request says its body is JSON (`application/json` or `application/*+json`),
/// as axum's `Json` requires.
pub fn says_json(headers: &HeaderMap) -> bool {
    let Some(essence) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
    else {
        return false;
    };
    let essence = essence.trim().to_ascii_lowercase();
    essence
        .strip_prefix("application/")
        .is_some_and(|subtype| subtype == "json" || subtype.ends_with("+json"))
}

/// The 422 for a JSON body nested past [`MAX_JSON_DEPTH`] at byte `offset`.
pub fn too_deep(offset: usize) -> Problem {
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "nesting-too-deep",
        format!(
            "the JSON body nests arrays and objects deeper than the limit of {MAX_JSON_DEPTH} levels (at byte {offset})"
        ),
    )
}

/// Refuses a JSON body nested deeper than [`MAX_JSON_DEPTH`], before it is parsed.
pub fn within_depth(bytes: &[u8]) -> Result<(), Problem> {
    match json_scan::measure(bytes, usize::MAX, MAX_JSON_DEPTH).too_deep {
        Some(offset) => Err(too_deep(offset)),
        None => Ok(()),
    }
}

/// The whole request body, within its endpoint's limit.
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        let limit = req.extensions().get::<BodyLimit>().copied();
        Bytes::from_request(req, state)
            .await
            .map(RawBody)
            .map_err(|e: BytesRejection| rejected(e.status(), e.body_text(), limit))
    }
}

/// A JSON body; malformed JSON is a 400 and a well-formed body of the wrong shape (or nested
/// past [`MAX_JSON_DEPTH`]) a 422, naming the line, column, field or byte.
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        let limit = req.extensions().get::<BodyLimit>().copied();
        if !says_json(req.headers()) {
            return Err(Problem::unsupported_media_type(
                "the body must be JSON with `Content-Type: application/json`",
            ));
        }
        let RawBody(bytes) = RawBody::from_request(req, state).await?;
        within_depth(&bytes)?;
        axum::Json::<T>::from_bytes(&bytes)
            .map(|axum::Json(value)| Json(value))
            .map_err(|rejection| json_problem(rejection, limit))
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
            Err(other) => Err(rejected(other.status(), other.body_text(), None)),
        }
    }
}

/// A JSON body that may be absent (an empty body is the type's default).
pub struct OptionalJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for OptionalJson<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        let RawBody(bytes) = RawBody::from_request(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(T::default()));
        }
        within_depth(&bytes)?;
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
