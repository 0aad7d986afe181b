//! The OData v4 read surface at `/odata/`, for BI tools and integrators who think in OData:
//! the service document, `$metadata` (CSDL XML from `app::odata::schema`), each entity set
//! (`/odata/Orders`), one entity by key (`/odata/Orders('O-1')`) and a set's count
//! (`/odata/Orders/$count`). A handler reads the path and the raw query string
//! (`odata::QueryOptions::parse`), authenticates the bearer token as every REST route does,
//! and calls `app::odata::read`, which checks the set's REST permission and the caller's
//! scope and runs the query in the database.
//!
//! These routes are not in the REST route table: their permission depends on the entity set
//! named in the path, and their errors are OData JSON error bodies (`{"error": {…}}`), not
//! problem+json; every answer carries `OData-Version: 4.0` (which `problem::
//! ensure_problem_json` recognises and leaves alone). Server-driven paging: at most
//! [`MAX_PAGE`] rows a page, or fewer when the client prefers (`Prefer:
//! odata.maxpagesize=N`), with `@odata.nextLink` to the next.

use axum::Router;
use std::net::SocketAddr;

use axum::Extension;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use odata::csdl::ODataError;
use odata::{Literal, QueryOptions};
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::Caller;
use crate::problem::Problem;

/// The largest page served.
pub const MAX_PAGE: u64 = 1000;

const ODATA_VERSION: &str = "OData-Version";
const JSON: &str = "application/json;odata.metadata=minimal;odata.streaming=true";

/// The `/odata/` routes, to merge into the API's router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/odata", get(service_document))
        .route("/odata/", get(service_document))
        .route("/odata/$metadata", get(metadata))
        .route("/odata/{segment}", get(entity_set))
        .route("/odata/{segment}/{sub}", get(entity_set_count))
}

/// An OData error answer (boxed parts: it travels in every handler's `Result`).
struct Failure {
    status: StatusCode,
    error: Box<ODataError>,
    caller: Option<Box<Caller>>,
}

impl Failure {
    fn new(status: StatusCode, code: &str, message: &str) -> Failure {
        Failure {
            status,
            error: Box::new(ODataError::new(code, message)),
            caller: None,
        }
    }
}

impl From<Problem> for Failure {
    fn from(problem: Problem) -> Failure {
        let status =
            StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let code = status
            .canonical_reason()
            .unwrap_or("Error")
            .replace(' ', "");
        Failure::new(status, &code, &problem.detail)
    }
}

impl From<app::odata::ReadError> for Failure {
    fn from(error: app::odata::ReadError) -> Failure {
        use app::odata::ReadError as E;
        match error {
            E::Bad(m) => Failure::new(StatusCode::BAD_REQUEST, "BadRequest", &m),
            E::Unsupported(m) => Failure::new(StatusCode::NOT_IMPLEMENTED, "NotImplemented", &m),
            E::NotFound(m) => Failure::new(StatusCode::NOT_FOUND, "NotFound", &m),
            E::App(e) => Problem::from(e).into(),
        }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            [(header::CONTENT_TYPE, "application/json")],
            self.error.to_json().to_string(),
        )
            .into_response();
        with_version(&mut response);
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(caller) = self.caller {
            response.extensions_mut().insert(*caller);
        }
        response
    }
}

fn with_version(response: &mut Response) {
    response
        .headers_mut()
        .insert(ODATA_VERSION, HeaderValue::from_static("4.0"));
}

/// The peer's address, which the token verification gate limits failures by (set by
/// `crate::serve` for every connection).
type Peer = Option<Extension<ConnectInfo<SocketAddr>>>;

/// The principal of the request's bearer token (401 as an OData error otherwise), verified
/// as every REST route verifies it.
async fn caller(state: &AppState, headers: &HeaderMap, peer: &Peer) -> Result<Caller, Failure> {
    let client = peer.as_ref().map(|Extension(ConnectInfo(a))| a.ip());
    let principal = crate::auth::authenticate(state, headers, client).await?;
    Ok(Caller(principal))
}

/// The service root as the client reached it, for absolute links.
fn service_root(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}/odata/")
}

fn answer(caller: Caller, content_type: &'static str, body: String) -> Response {
    let mut response = ([(header::CONTENT_TYPE, content_type)], body).into_response();
    with_version(&mut response);
    response.extensions_mut().insert(caller);
    response
}

async fn service_document(
    State(state): State<AppState>,
    peer: Peer,
    headers: HeaderMap,
) -> Response {
    match caller(&state, &headers, &peer).await {
        Ok(caller) => {
            let document = app::odata::schema::schema().service_document(&service_root(&headers));
            answer(caller, JSON, document.to_string())
        }
        Err(failure) => failure.into_response(),
    }
}

async fn metadata(State(state): State<AppState>, peer: Peer, headers: HeaderMap) -> Response {
    let caller = match caller(&state, &headers, &peer).await {
        Ok(caller) => caller,
        Err(failure) => return failure.into_response(),
    };
    match app::odata::schema::schema().to_xml() {
        Ok(xml) => answer(caller, "application/xml", xml),
        Err(error) => Failure::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            &format!("the service's model is inconsistent: {error}"),
        )
        .into_response(),
    }
}

/// `Set`, or `Set(key)`: the set's name and the key literal.
fn parse_segment(segment: &str) -> Result<(&str, Option<Literal>), Failure> {
    let Some(open) = segment.find('(') else {
        return Ok((segment, None));
    };
    let bad = || {
        Failure::new(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            &format!("`{segment}`: a key is written `Set('text')` or `Set(123)`"),
        )
    };
    let inner = segment[open + 1..].strip_suffix(')').ok_or_else(bad)?;
    let key = if let Some(text) = inner.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')) {
        Literal::String(text.replace("''", "'"))
    } else {
        Literal::Integer(inner.parse().map_err(|_| bad())?)
    };
    Ok((&segment[..open], Some(key)))
}

/// The page size the client prefers, if it says (`Prefer: odata.maxpagesize=N`).
fn preferred_page(headers: &HeaderMap) -> Option<u64> {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|p| p.trim().strip_prefix("odata.maxpagesize="))
        .find_map(|n| n.trim().parse::<u64>().ok())
        .filter(|n| *n > 0)
}

async fn entity_set(
    State(state): State<AppState>,
    Path(segment): Path<String>,
    RawQuery(query): RawQuery,
    peer: Peer,
    headers: HeaderMap,
) -> Response {
    read(&state, &segment, None, query.as_deref(), &headers, &peer)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn entity_set_count(
    State(state): State<AppState>,
    Path((segment, sub)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    peer: Peer,
    headers: HeaderMap,
) -> Response {
    read(
        &state,
        &segment,
        Some(&sub),
        query.as_deref(),
        &headers,
        &peer,
    )
    .await
    .unwrap_or_else(IntoResponse::into_response)
}

async fn read(
    state: &AppState,
    segment: &str,
    sub: Option<&str>,
    query: Option<&str>,
    headers: &HeaderMap,
    peer: &Peer,
) -> Result<Response, Failure> {
    let caller = caller(state, headers, peer).await?;
    let with_caller = |mut failure: Failure| {
        failure.caller = Some(Box::new(caller.clone()));
        failure
    };
    let (set, key) = parse_segment(segment).map_err(with_caller)?;
    // Form-encoding clients (python-odata through `requests`, most HTTP libraries given a
    // parameter map) write a space as `+`, so here `+` is a space and a plus is `%2B`; the
    // next links this surface writes encode a plus as `%2B`, so they read back the same.
    let raw = query.unwrap_or_default().replace('+', "%20");
    let mut options = QueryOptions::parse(&raw).map_err(|e| {
        with_caller(Failure {
            status: StatusCode::BAD_REQUEST,
            error: Box::new(ODataError::from(&e)),
            caller: None,
        })
    })?;
    let counting = match sub {
        None => false,
        Some("$count") if key.is_none() => true,
        Some(other) => {
            return Err(with_caller(Failure::new(
                StatusCode::NOT_IMPLEMENTED,
                "NotImplemented",
                &format!(
                    "the path segment `{other}` after `{segment}` is not supported (only `$count` after a set)"
                ),
            )));
        }
    };
    if counting {
        options.count = true;
        options.top = Some(0);
    }
    let preferred = preferred_page(headers);
    let page = preferred.map_or(MAX_PAGE, |p| p.min(MAX_PAGE));
    let answer_rows = app::odata::read(&state.app, &caller.0, set, key.as_ref(), &options, page)
        .await
        .map_err(|e| with_caller(e.into()))?;
    if counting {
        let count = answer_rows.count.unwrap_or_default().to_string();
        return Ok(answer(caller, "text/plain", count));
    }
    let root = service_root(headers);
    let context = match &key {
        Some(_) => format!("{root}$metadata#{set}/$entity"),
        None => format!("{root}$metadata#{set}"),
    };
    let body = match key {
        Some(_) => {
            let mut entity = answer_rows.rows.into_iter().next().unwrap_or(Value::Null);
            if let Value::Object(map) = &mut entity {
                map.insert("@odata.context".into(), Value::String(context));
            }
            entity
        }
        None => {
            let mut body = json!({ "@odata.context": context });
            if let Some(count) = answer_rows.count {
                body["@odata.count"] = json!(count);
            }
            body["value"] = Value::Array(answer_rows.rows);
            if let Some(next) = answer_rows.next {
                body["@odata.nextLink"] = json!(format!("{root}{set}?{}", next.to_query_string()));
            }
            body
        }
    };
    let mut response = answer(caller, JSON, body.to_string());
    if let Some(p) = preferred
        && let Ok(v) = HeaderValue::from_str(&format!("odata.maxpagesize={}", p.min(MAX_PAGE)))
    {
        response.headers_mut().insert("preference-applied", v);
    }
    Ok(response)
}
