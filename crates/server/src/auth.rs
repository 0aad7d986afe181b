//! Authentication and authorisation of every request, from the route table.
//!
//! [`crate::router`] wraps each endpoint's handler in [`layer`] with the endpoint's
//! [`Permission`], so no endpoint can be reached without its rule being checked:
//!
//! - `Permission::Public` needs no token;
//! - otherwise `Authorization: Bearer <token>` is required — missing, malformed, unknown or
//!   revoked tokens get 401 problem+json with `WWW-Authenticate: Bearer` — or, from the web
//!   dashboard, its session cookie, which stands for the token it signed in with; a write
//!   by cookie needs the session's CSRF token ([`crate::ui_session`]);
//! - the principal's role must grant the permission and its scope must reach the plant's
//!   site, else 403 (object-level scope — an order's, a lot's or a proposal's areas — is
//!   checked by the use-cases in `app`, `app::scope` for the rule, with the principal the
//!   handler passes on);
//! - the principal is handed to the handler as a [`Caller`], and is the audited actor of
//!   every write;
//! - responses to agents are pseudonymised (operator identities → HMAC pseudonyms, recipe
//!   parameters masked) before they leave the server.
//!
//! A verified token is cached by its SHA-256, so argon2 runs once per token and process; every
//! request still checks that the token is live (not revoked) and takes the principal's current
//! role and scope — from memory while the database's audit head has not moved since they were
//! read ([`store::Store::live_principal`]: every governance change moves it). Each request
//! runs in [`store::Store::fresh_from_start`], so its reads look at the database for what
//! other nodes wrote once, not once per read. A token not yet verified passes the
//! [`VerificationGate`] first (bounded concurrency and queue, failed tokens remembered,
//! failures limited per token id and client address), and every token that does not
//! authenticate gets the same 401.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Mutex;

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use govern::{Permission, Principal};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::limits::Limits;
use crate::problem::Problem;
use crate::ui_session;
use crate::verification::{Admission, VerificationGate};

/// The header through which callers used to name themselves; now set only by [`layer`], from
/// the authenticated principal (`kind:id`).
pub const ACTOR_HEADER: &str = "x-mixplane-actor";

/// The authenticated principal of a request.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl Caller {
    /// The audit actor for this caller.
    pub fn actor(&self) -> store::Actor {
        store::actor_of(&self.0)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Caller, Problem> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| Problem::unauthorized("this endpoint needs a bearer token"))
    }
}

/// Marks a response whose content its handler already pseudonymised (the MCP route's tool
/// results): [`layer`] leaves it as it is instead of protecting it a second time.
#[derive(Debug, Clone, Copy)]
pub struct Protected;

/// Verified tokens (SHA-256 of the token → token id), and the [`VerificationGate`] every
/// token not yet verified passes before argon2 runs.
#[derive(Debug)]
pub struct TokenCache {
    verified: Mutex<HashMap<[u8; 32], String>>,
    gate: VerificationGate,
}

const CACHE_LIMIT: usize = 10_000;

/// The one answer to a token that does not authenticate, whatever the reason (unknown id,
/// wrong secret, revoked, malformed), so that answers do not tell which ids exist.
const TOKEN_REFUSED: &str = "the bearer token is unknown, revoked or malformed";

impl Default for TokenCache {
    fn default() -> TokenCache {
        TokenCache::new(&Limits::default())
    }
}

impl TokenCache {
    /// An empty cache whose gate holds to `limits`' verification bounds.
    pub fn new(limits: &Limits) -> TokenCache {
        TokenCache {
            verified: Mutex::default(),
            gate: VerificationGate::new(limits),
        }
    }

    /// The live principal of a token from `client`, verifying it with argon2 only the first
    /// time, and only as far as the gate admits: 401 for a token that does not verify (or
    /// failed recently), 429 past the failure limits, 503 when every verification slot and
    /// queue place is taken.
    pub async fn principal(
        &self,
        store: &store::Store,
        token: &str,
        client: Option<IpAddr>,
    ) -> Result<Principal, Problem> {
        let refused = || Problem::unauthorized(TOKEN_REFUSED);
        let Some(token_id) = store::token_id(token) else {
            return Err(refused());
        };
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let cached = self
            .verified
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&digest)
            .cloned();
        if let Some(token_id) = cached {
            return store.live_principal(&token_id).await?.ok_or_else(refused);
        }
        let slot = match self.gate.admit(&digest, token_id, client).await {
            Admission::Verify(slot) => slot,
            Admission::KnownBad => return Err(refused()),
            Admission::Throttled { retry_after } => {
                let seconds = retry_after.as_secs().max(1);
                return Err(Problem::too_many_requests(
                    format!(
                        "too many failed token verifications for this token id or client address; try again in {seconds} s"
                    ),
                    seconds,
                ));
            }
            Admission::Busy { retry_after } => {
                return Err(Problem::unavailable(
                    "every token verification slot is taken; try again shortly",
                    retry_after.as_secs().max(1),
                ));
            }
        };
        let principal = store.authenticate(token).await?;
        drop(slot);
        let Some(principal) = principal else {
            self.gate.record_failure(digest, token_id, client);
            return Err(refused());
        };
        let mut verified = self
            .verified
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if verified.len() >= CACHE_LIMIT {
            verified.clear();
        }
        verified.insert(digest, token_id.to_owned());
        Ok(principal)
    }

    /// The most argon2 verifications that have run at once (never more than the configured
    /// concurrency).
    pub fn most_concurrent_verifications(&self) -> usize {
        self.gate.most_running()
    }
}

fn bearer(headers: &HeaderMap) -> Result<&str, Problem> {
    let value = headers.get(header::AUTHORIZATION).ok_or_else(|| {
        Problem::unauthorized(
            "this endpoint needs `Authorization: Bearer <token>` (`mixplane token create`)",
        )
    })?;
    let text = value
        .to_str()
        .map_err(|_| Problem::unauthorized("the Authorization header is not text"))?;
    let (scheme, token) = text.split_once(' ').ok_or_else(|| {
        Problem::unauthorized("the Authorization header must be `Bearer <token>`")
    })?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(Problem::unauthorized(
            "the Authorization header must be `Bearer <token>`",
        ));
    }
    Ok(token.trim())
}

/// The middleware function for an endpoint requiring `permission` (see [`layer`]).
pub fn guard(
    permission: Permission,
) -> impl Fn(State<AppState>, Request, Next) -> Pin<Box<dyn Future<Output = Response> + Send>>
+ Clone
+ Send
+ Sync
+ 'static {
    move |app, request, next| {
        Box::pin(async move {
            // Authentication, authorisation and the handler's reads look at the database for
            // what other nodes wrote once between them, not once each.
            let store = app.store.clone();
            store
                .fresh_from_start(layer(app, permission, request, next))
                .await
        })
    }
}

/// Checks a request against `permission` and runs it as the authenticated principal.
pub async fn layer(
    State(app): State<AppState>,
    permission: Permission,
    mut request: Request,
    next: Next,
) -> Response {
    // The caller's identity comes from its token alone: a self-declared actor header (the
    // pre-authentication convention) is dropped, and set from the principal for handlers
    // that still read it.
    request.headers_mut().remove(ACTOR_HEADER);
    if permission == Permission::Public {
        return next.run(request).await;
    }
    let principal = match authenticate_request(
        &app,
        request.method(),
        request.headers(),
        client_of(&request),
    )
    .await
    {
        Ok(principal) => principal,
        Err(problem) => return problem.into_response(),
    };
    if let Err(problem) = authorize(&app, &principal, permission).await {
        let mut response = problem.into_response();
        response.extensions_mut().insert(Caller(principal));
        return response;
    }
    let is_agent = app::access::reads_pseudonymised(&principal);
    if let Ok(value) =
        HeaderValue::from_str(&format!("{}:{}", principal.kind.as_str(), principal.id))
    {
        request.headers_mut().insert(ACTOR_HEADER, value);
    }
    request.extensions_mut().insert(Caller(principal.clone()));
    let mut response = next.run(request).await;
    // For the access log, which wraps the router and cannot see the request's extensions.
    response.extensions_mut().insert(Caller(principal));
    if is_agent && response.extensions().get::<Protected>().is_none() {
        return pseudonymise(&app, response).await;
    }
    response
}

/// The address of the request's peer: set by `crate::serve` for every connection, absent
/// when the router is called directly.
fn client_of(request: &Request) -> Option<IpAddr> {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(address)| address.ip())
}

/// The principal of a read: its bearer token's, or its dashboard session's.
pub(crate) async fn authenticate(
    app: &AppState,
    headers: &HeaderMap,
    client: Option<IpAddr>,
) -> Result<Principal, Problem> {
    authenticate_request(app, &Method::GET, headers, client).await
}

/// The principal of a request: its bearer token's or, without one, its dashboard session's
/// ([`crate::ui_session`]), whose writes must carry the session's CSRF token.
pub(crate) async fn authenticate_request(
    app: &AppState,
    method: &Method,
    headers: &HeaderMap,
    client: Option<IpAddr>,
) -> Result<Principal, Problem> {
    if let Some(id) = ui_session::cookie_session(headers) {
        let session = app.sessions.touch(id).ok_or_else(|| {
            Problem::unauthorized("the dashboard session is over or unknown; sign in again")
        })?;
        ui_session::check_csrf(method, headers, &session)?;
        return match app.store.live_principal(&session.token_id).await? {
            Some(principal) => Ok(principal),
            None => {
                // The token was revoked: its sessions end with it.
                app.sessions.close(id);
                Err(Problem::unauthorized(TOKEN_REFUSED))
            }
        };
    }
    let token = bearer(headers)?;
    app.tokens.principal(&app.store, token, client).await
}

async fn authorize(
    app: &AppState,
    principal: &Principal,
    permission: Permission,
) -> Result<(), Problem> {
    // The one rule, shared with the CLI's daily-task commands.
    Ok(app::access::authorize(app, principal, permission).await?)
}

/// Replaces operator identities and the names of principals (`govern::PRINCIPAL_FIELDS`) by
/// pseudonyms and masks recipe parameters in a JSON response.
async fn pseudonymise(app: &AppState, response: Response) -> Response {
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.starts_with("application/json") || v.starts_with("application/problem+json")
        });
    if !is_json {
        return response;
    }
    let pseudonymizer = match app.governance.pseudonymizer(&app.store).await {
        Ok(p) => p,
        Err(error) => return Problem::from(error).into_response(),
    };
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return Problem::internal("reading the response to pseudonymise it failed").into_response();
    };
    let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Problem::internal("the response to pseudonymise is not JSON").into_response();
    };
    pseudonymizer.protect(&mut value);
    let body = serde_json::to_vec(&value).expect("JSON values serialise");
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert("x-mixplane-pseudonymised", HeaderValue::from_static("true"));
    Response::from_parts(parts, Body::from(body))
}
