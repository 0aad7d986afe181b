//! The body of `POST /v1/events`: a JSON array of events, held to the batch bounds of
//! [`Limits`](crate::limits::Limits) before it is parsed.
//!
//! One 53 MB batch once took 1.2 GB to parse and held the store's writer for 8 s. The body
//! limit of the route bounds the bytes; here one pass over those bytes ([`json_scan`]: no
//! parsing, no allocation) counts the array's elements and measures every string and the
//! nesting, so a batch of too many events is a 413 and a string past the field limit a 422
//! (naming the event's index), both saying the limit, before anything is built from the body.
//! A body that is not JSON is left to the parser, which names the line and column.
//!
//! This module checks sizes only; what an event may contain is `model`'s to say.

use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use model::Event;

use crate::AppState;
use crate::extract::{RawBody, json_problem, says_json, too_deep};
use crate::limits::{BodyLimit, MAX_JSON_DEPTH};
use crate::problem::Problem;
use model::json_scan;

/// A batch of events within the batch bounds.
pub struct EventBatch(pub Vec<Event>);

impl FromRequest<AppState> for EventBatch {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Problem> {
        let limit = req.extensions().get::<BodyLimit>().copied();
        if !says_json(req.headers()) {
            return Err(Problem::unsupported_media_type(
                "the body must be JSON with `Content-Type: application/json`",
            ));
        }
        let RawBody(bytes) = RawBody::from_request(req, state).await?;
        let shape = json_scan::measure(&bytes, state.limits.max_event_field_bytes, MAX_JSON_DEPTH);
        if let Some(offset) = shape.too_deep {
            return Err(too_deep(offset));
        }
        let max_events = state.limits.max_events_per_batch;
        if shape.elements > max_events {
            return Err(Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "batch-too-large",
                format!(
                    "a batch holds at most {max_events} events; this one holds {}: send it in several batches",
                    shape.elements
                ),
            ));
        }
        if let Some(long) = shape.long_string {
            return Err(Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "field-too-long",
                format!(
                    "event at index {}: a string of {} bytes (at byte {}) is longer than the limit of {} bytes for one field",
                    long.element, long.bytes, long.offset, state.limits.max_event_field_bytes
                ),
            ));
        }
        axum::Json::<Vec<Event>>::from_bytes(&bytes)
            .map(|axum::Json(events)| EventBatch(events))
            .map_err(|rejection| json_problem(rejection, limit))
    }
}
