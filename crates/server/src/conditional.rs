//! `ETag`, `If-Match` and `If-None-Match` (RFC 9110 §13) for the objects that take
//! conditional writes: proposals, holds and nonconformances. The tags and the check are
//! `app::conditional`'s; here they are read from and written to headers.

use app::conditional::Expected;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::problem::Problem;

/// What `If-Match` expects, if the request sent one: `*` or a list of entity tags.
pub fn if_match(headers: &HeaderMap) -> Result<Option<Expected>, Problem> {
    let values: Vec<&HeaderValue> = headers.get_all(header::IF_MATCH).iter().collect();
    if values.is_empty() {
        return Ok(None);
    }
    let mut tags = Vec::new();
    for value in values {
        let text = value
            .to_str()
            .map_err(|_| Problem::bad_request("header `If-Match` is not ASCII"))?;
        match Expected::parse(text)
            .map_err(|why| Problem::bad_request(format!("header `If-Match`: {why}")))?
        {
            Expected::Any => return Ok(Some(Expected::Any)),
            Expected::Tags(more) => tags.extend(more),
        }
    }
    Ok(Some(Expected::Tags(tags)))
}

/// Whether `If-None-Match` names `current` (or is `*`): a GET is then answered 304. Weak
/// comparison, as RFC 9110 §13.1.2 asks of it.
pub fn not_modified(headers: &HeaderMap, current: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == current)
}

/// A JSON answer with the `ETag` of the object it shows.
pub struct Tagged<T> {
    pub status: StatusCode,
    pub body: T,
    pub etag: String,
}

impl<T> Tagged<T> {
    pub fn ok(body: T, etag: String) -> Tagged<T> {
        Tagged {
            status: StatusCode::OK,
            body,
            etag,
        }
    }
}

impl<T: Serialize> IntoResponse for Tagged<T> {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body)).into_response();
        if let Ok(value) = HeaderValue::from_str(&self.etag) {
            response.headers_mut().insert(header::ETAG, value);
        }
        response
    }
}

/// A GET answer: 304 with the tag when the client's copy is current, else the body.
pub fn get_answer<T: Serialize>(headers: &HeaderMap, body: T, etag: String) -> Response {
    if not_modified(headers, &etag) {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        if let Ok(value) = HeaderValue::from_str(&etag) {
            response.headers_mut().insert(header::ETAG, value);
        }
        return response;
    }
    Tagged::ok(body, etag).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(name: header::HeaderName, value: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(name, HeaderValue::from_str(value).unwrap());
        map
    }

    #[test]
    fn if_match_reads_tags_and_star_and_refuses_the_unquoted() {
        assert_eq!(if_match(&HeaderMap::new()).unwrap(), None);
        let both = if_match(&headers(header::IF_MATCH, "\"v1\", \"v2\"")).unwrap();
        assert!(both.as_ref().unwrap().matches("\"v2\""));
        assert!(!both.unwrap().matches("\"v3\""));
        assert_eq!(
            if_match(&headers(header::IF_MATCH, "*")).unwrap(),
            Some(Expected::Any)
        );
        // A weak tag is kept as sent, so the strong comparison never matches it.
        let weak = if_match(&headers(header::IF_MATCH, "W/\"v1\"")).unwrap();
        assert!(!weak.unwrap().matches("\"v1\""));
        let err = if_match(&headers(header::IF_MATCH, "v1")).unwrap_err();
        assert!(err.detail.contains("If-Match"), "{}", err.detail);
    }

    #[test]
    fn if_none_match_compares_weakly() {
        assert!(not_modified(
            &headers(header::IF_NONE_MATCH, "W/\"v1\""),
            "\"v1\""
        ));
        assert!(!not_modified(
            &headers(header::IF_NONE_MATCH, "\"v2\""),
            "\"v1\""
        ));
    }
}
