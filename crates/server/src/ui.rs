//! The web dashboard's door: its assets, sign-in and sign-out, and the live stream of
//! changes its pages wake on.
//!
//! - `GET /` is the dashboard's page and `GET /ui/<file>` its scripts and styles, all
//!   embedded in the binary at build time (`build.rs` over `crates/server/ui/`), served
//!   with a content security policy that runs only our own scripts. With a folder given
//!   (`AppState::with_ui_dir`, which the binary sets from `MIXPLANE_UI_DIR`), the files are
//!   read from it on every request instead, to work on them without rebuilding.
//! - `POST /ui/session` signs in with a bearer token and sets the session cookie
//!   ([`crate::ui_session`]); `GET /ui/session` tells the dashboard who is signed in, with
//!   which role, scope and permissions, and the CSRF token its writes carry; `DELETE
//!   /ui/session` signs out. Sign-ins and sign-outs are audited (`app::sessions`).
//! - `GET /ui/events` is a stream of server-sent events: after every committed write, at
//!   most once a second, which topics changed (`plan`, `proposals`, `quality`, `trace`,
//!   `events`, `audit`) and the audit head's seq. It carries no data: pages refetch through
//!   the API, which applies the reader's scope.
//!
//! The dashboard itself reads and writes only through the REST API (`/v1/…`), with the
//! session standing for the token: the same principals, roles, scopes and audit as any
//! other client. What must not be here: any data of the plant, or any rule of who may do
//! what.

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use govern::{Permission, Principal};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::problem::Problem;
use crate::ui_session;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/ui_assets.rs"));
}

/// The environment variable the binary reads for a folder to serve the dashboard's files
/// from.
pub const UI_DIR_VAR: &str = "MIXPLANE_UI_DIR";

/// Only our own scripts run, and pages connect only to this server. Inline styles are
/// allowed: charts position their marks with them.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// A live stream ends after this long; the browser's `EventSource` reconnects by itself,
/// authenticating again.
const STREAM_LIFETIME: Duration = Duration::from_secs(600);
/// Writes closer together than this are told as one change.
const COALESCE: Duration = Duration::from_secs(1);
/// Audit records read to name the topics of one change; past it, every topic is named.
const TOPIC_WINDOW: u32 = 1000;

/// The dashboard's routes, beside the API's route table.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/ui/{*file}", get(asset))
        .route(
            "/ui/session",
            get(session_info).post(sign_in).delete(sign_out),
        )
        .route("/ui/events", get(events))
}

/// The dashboard's files, by path under `ui/`.
pub fn assets() -> &'static [(&'static str, &'static [u8])] {
    embedded::ASSETS
}

async fn index(State(app): State<AppState>, headers: HeaderMap) -> Response {
    file_response(app.ui_dir.as_deref(), "index.html", &headers)
}

async fn asset(
    State(app): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    file_response(app.ui_dir.as_deref(), &file, &headers)
}

fn file_response(dir: Option<&std::path::Path>, name: &str, request: &HeaderMap) -> Response {
    let Some(bytes) = file_bytes(dir, name) else {
        return Problem::not_found(format!("the dashboard has no file `{name}`")).into_response();
    };
    let etag = format!(
        "\"{}\"",
        model::wire::hex(&Sha256::digest(bytes.as_ref())[..12])
    );
    let mut response = if request
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        Response::new(Body::from(bytes))
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(name)),
    );
    // Revalidated on every load (cheap with the ETag), so a new binary's files show at once.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, etag);
    }
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// The file's bytes: from `dir` when given, else embedded. A name that climbs out of the
/// folder is not a file of the dashboard.
fn file_bytes(dir: Option<&std::path::Path>, name: &str) -> Option<Bytes> {
    if name.split('/').any(|part| part == ".." || part.is_empty()) || name.contains('\\') {
        return None;
    }
    if let Some(dir) = dir {
        return std::fs::read(dir.join(name)).ok().map(Bytes::from);
    }
    assets()
        .iter()
        .find(|(path, _)| *path == name)
        .map(|(_, bytes)| Bytes::from_static(bytes))
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") | Some("mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

/// Who is signed in, as the dashboard needs to know it.
#[derive(Debug, Serialize)]
pub struct SessionInfo {
    pub principal: String,
    pub kind: String,
    pub role: String,
    pub scope: serde_json::Value,
    /// What the role may do (`govern::Permission` wire names): the dashboard offers nothing
    /// else.
    pub permissions: Vec<Permission>,
    /// The token a write of this session carries in `X-CSRF-Token`.
    pub csrf: String,
}

impl SessionInfo {
    fn new(principal: &Principal, csrf: String) -> SessionInfo {
        SessionInfo {
            principal: principal.id.clone(),
            kind: principal.kind.as_str().to_owned(),
            role: principal.role.as_str().to_owned(),
            scope: serde_json::to_value(&principal.scope).unwrap_or_default(),
            permissions: principal.role.permissions().to_vec(),
            csrf,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignIn {
    token: String,
}

async fn sign_in(
    State(app): State<AppState>,
    peer: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    // A page of another site can post a form here, but not JSON without asking first.
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_json {
        return Err(Problem::unsupported_media_type(
            "sign in with a JSON body `{\"token\": \"mxp_…\"}` and `Content-Type: application/json`",
        ));
    }
    let request: SignIn = serde_json::from_slice(&body).map_err(|e| {
        Problem::malformed_json(format!(
            "the sign-in body must be `{{\"token\": \"mxp_…\"}}`: {e}"
        ))
    })?;
    let token = request.token.trim();
    let client = peer.map(|axum::Extension(ConnectInfo(a))| a.ip());
    let principal = app.tokens.principal(&app.store, token, client).await?;
    let token_id = store::token_id(token).ok_or_else(|| {
        Problem::unauthorized("the bearer token is unknown, revoked or malformed")
    })?;
    let (id, csrf) = app.sessions.open(token_id, &principal.id);
    if let Err(error) = app::sessions::signed_in(
        &app,
        &principal,
        &ui_session::reference(&id),
        client.map(|c| c.to_string()),
    )
    .await
    {
        // A sign-in that cannot be audited does not open a session.
        app.sessions.close(&id);
        return Err(error.into());
    }
    let mut response = axum::Json(SessionInfo::new(&principal, csrf)).into_response();
    let cookie = HeaderValue::from_str(&ui_session::set_cookie(&id, false))
        .map_err(|_| Problem::internal("the session cookie is not a header value"))?;
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// The session of the request's cookie and its live principal, or 401.
async fn signed_in(
    app: &AppState,
    headers: &HeaderMap,
) -> Result<(String, ui_session::Session, Principal), Problem> {
    let id = ui_session::cookie_session(headers)
        .ok_or_else(|| Problem::unauthorized("not signed in: no dashboard session cookie"))?;
    let principal = crate::auth::authenticate(app, headers, None).await?;
    let session = app
        .sessions
        .touch(id)
        .ok_or_else(|| Problem::unauthorized("the dashboard session is over; sign in again"))?;
    Ok((id.to_owned(), session, principal))
}

async fn session_info(
    State(app): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let (_, session, principal) = signed_in(&app, &headers).await?;
    let mut response = axum::Json(SessionInfo::new(&principal, session.csrf)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

async fn sign_out(State(app): State<AppState>, headers: HeaderMap) -> Result<Response, Problem> {
    let (id, session, principal) = signed_in(&app, &headers).await?;
    ui_session::check_csrf(&Method::DELETE, &headers, &session)?;
    app.sessions.close(&id);
    app::sessions::signed_out(&app, &principal, &ui_session::reference(&id), "signed_out").await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Ok(cookie) = HeaderValue::from_str(&ui_session::clear_cookie()) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// What one change tells the dashboard.
#[derive(Debug, Serialize, PartialEq)]
pub struct Change {
    /// The audit head after the change.
    pub seq: i64,
    pub topics: BTreeSet<&'static str>,
}

/// The topics an audit action touches (`audit` always).
pub fn topics_of(action: &str) -> Vec<&'static str> {
    let (area, _) = action.split_once('.').unwrap_or((action, ""));
    let mut topics = vec!["audit"];
    topics.extend_from_slice(match area {
        "events" | "connector" => &["events", "plan", "quality", "trace"][..],
        "proposal" => &["proposals", "plan"],
        "plan" | "plans" => &["plan"],
        "quality" | "hold" | "nc" | "alert" => &["quality"],
        "trace" | "recall" => &["trace"],
        "plant" | "store" | "projections" => &ALL_TOPICS,
        _ => &[],
    });
    topics
}

const ALL_TOPICS: [&str; 6] = ["plan", "proposals", "quality", "trace", "events", "audit"];

async fn events(
    State(app): State<AppState>,
    peer: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let client = peer.map(|axum::Extension(ConnectInfo(a))| a.ip());
    let principal = crate::auth::authenticate(&app, &headers, client).await?;
    app::access::authorize(&app, &principal, Permission::ReadPlant).await?;
    let (sender, receiver) = tokio::sync::mpsc::channel::<Event>(4);
    tokio::spawn(watch_changes(app, headers, sender));
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver
            .recv()
            .await
            .map(|event| (Ok::<_, Infallible>(event), receiver))
    });
    let mut response = Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Sends a change event after each burst of writes until the client goes, the stream's
/// lifetime ends, the server shuts down, or the caller no longer authenticates.
async fn watch_changes(
    app: AppState,
    headers: HeaderMap,
    sender: tokio::sync::mpsc::Sender<Event>,
) {
    let mut changes = app.store.changes();
    let mut closing = app.closing.subscribe();
    let mut seen = *changes.borrow_and_update();
    let end = tokio::time::Instant::now() + STREAM_LIFETIME;
    let hello = Event::default()
        .event("hello")
        .data(format!("{{\"seq\":{seen}}}"));
    if sender.send(hello).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            changed = changes.changed() => if changed.is_err() { return },
            _ = closing.changed() => return,
            () = tokio::time::sleep_until(end) => return,
            () = sender.closed() => return,
        }
        tokio::time::sleep(COALESCE).await;
        let head = *changes.borrow_and_update();
        if head <= seen {
            continue;
        }
        if crate::auth::authenticate(&app, &headers, None)
            .await
            .is_err()
        {
            return;
        }
        let change = Change {
            seq: head,
            topics: topics_between(&app.store, seen, head).await,
        };
        seen = head;
        let Ok(event) = Event::default().event("change").json_data(&change) else {
            return;
        };
        if sender.send(event).await.is_err() {
            return;
        }
    }
}

async fn topics_between(store: &store::Store, after: i64, head: i64) -> BTreeSet<&'static str> {
    let all = || ALL_TOPICS.into_iter().collect();
    if head - after > i64::from(TOPIC_WINDOW) {
        return all();
    }
    match store.audit_log(after, TOPIC_WINDOW).await {
        Ok(records) => records
            .iter()
            .flat_map(|record| topics_of(&record.action))
            .collect(),
        Err(_) => all(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_and_its_shell_are_embedded() {
        for name in ["index.html", "app.js", "app.css"] {
            assert!(
                assets().iter().any(|(path, _)| *path == name),
                "{name} is not embedded"
            );
        }
        assert!(!assets().iter().any(|(path, _)| *path == "README.md"));
    }

    #[test]
    fn names_that_leave_the_folder_are_not_files() {
        let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ui");
        for dir in [None, Some(here.as_path())] {
            assert!(file_bytes(dir, "../Cargo.toml").is_none());
            assert!(file_bytes(dir, "pages/../../build.rs").is_none());
            assert!(file_bytes(dir, "/etc/passwd").is_none());
            assert!(file_bytes(dir, "app.js").is_some());
        }
    }

    #[test]
    fn every_action_names_the_audit_topic_and_appends_wake_the_plan() {
        assert_eq!(topics_of("session.sign_in"), vec!["audit"]);
        assert!(topics_of("events.append").contains(&"plan"));
        assert!(topics_of("proposal.approve").contains(&"proposals"));
        assert!(topics_of("quality.enforce").contains(&"quality"));
        assert_eq!(topics_of("store.reset").len(), ALL_TOPICS.len() + 1);
    }
}
