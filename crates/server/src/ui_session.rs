//! The web dashboard's sessions: a browser signs in once with a bearer token and then holds
//! a session cookie instead.
//!
//! - The cookie (`mixplane_session`) is a random id, `HttpOnly` (no script reads it),
//!   `SameSite=Strict` (no other site's page sends it) and `Path=/`. The session keeps only
//!   the token's id, so every request still reads the principal's current role and scope
//!   and a revoked token ends its sessions at the next request.
//! - Writes authenticated by the cookie must carry the session's CSRF token in
//!   `X-CSRF-Token` (a synchronizer token the dashboard got when it signed in); reads need
//!   not. A request with a bearer token is not cookie-authenticated and needs none.
//! - Sessions end when signed out, after [`IDLE`] without a request, or [`LIFETIME`] after
//!   sign-in, whichever comes first. They live in this process's memory: a restart signs
//!   everyone out.
//!
//! What it must not do: decide what a principal may do. [`crate::auth`] authorises every
//! request the same way whether its principal came from a token or a session.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, Method, header};
use sha2::{Digest, Sha256};

use crate::problem::Problem;

/// The session cookie's name.
pub const COOKIE: &str = "mixplane_session";
/// The header a cookie-authenticated write carries its CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// A session without a request for this long is over.
pub const IDLE: Duration = Duration::from_secs(8 * 3600);
/// A session is over this long after its sign-in, however busy.
pub const LIFETIME: Duration = Duration::from_secs(24 * 3600);
/// At most this many sessions are open; the least recently used is closed for a new one.
pub const MAX_SESSIONS: usize = 10_000;

/// One browser's session.
#[derive(Debug, Clone)]
pub struct Session {
    /// The id of the token it signed in with (`store::token_id`).
    pub token_id: String,
    /// The principal it signed in as, for the sign-out record.
    pub principal: String,
    pub csrf: String,
    opened: Instant,
    last_seen: Instant,
}

impl Session {
    fn over(&self, now: Instant) -> bool {
        now.duration_since(self.last_seen) > IDLE || now.duration_since(self.opened) > LIFETIME
    }
}

/// The open sessions of this process, by id.
#[derive(Debug, Default)]
pub struct Sessions {
    open: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    /// Opens a session for `token_id`'s principal; returns its id and CSRF token. Sessions
    /// past their time are swept first, then the least recently used one if still full.
    pub fn open(&self, token_id: &str, principal: &str) -> (String, String) {
        let id = store::random_hex(32);
        let csrf = store::random_hex(32);
        let now = Instant::now();
        let mut open = self.lock();
        open.retain(|_, s| !s.over(now));
        if open.len() >= MAX_SESSIONS
            && let Some(oldest) = open
                .iter()
                .min_by_key(|(_, s)| s.last_seen)
                .map(|(id, _)| id.clone())
        {
            open.remove(&oldest);
        }
        open.insert(
            id.clone(),
            Session {
                token_id: token_id.to_owned(),
                principal: principal.to_owned(),
                csrf: csrf.clone(),
                opened: now,
                last_seen: now,
            },
        );
        (id, csrf)
    }

    /// The live session of `id`, marked as seen now; `None` when there is none or it is
    /// over (and then it is closed).
    pub fn touch(&self, id: &str) -> Option<Session> {
        let now = Instant::now();
        let mut open = self.lock();
        let session = open.get_mut(id)?;
        if session.over(now) {
            open.remove(id);
            return None;
        }
        session.last_seen = now;
        Some(session.clone())
    }

    /// Closes the session of `id`, returning it if it was open.
    pub fn close(&self, id: &str) -> Option<Session> {
        self.lock().remove(id)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The session id of the request's cookie, if it sends one and no bearer token: a request
/// that names a token is authenticated by the token alone.
pub fn cookie_session(headers: &HeaderMap) -> Option<&str> {
    if headers.contains_key(header::AUTHORIZATION) {
        return None;
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|value| value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Refuses a cookie-authenticated write whose `X-CSRF-Token` is not the session's.
pub fn check_csrf(method: &Method, headers: &HeaderMap, session: &Session) -> Result<(), Problem> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let sent = headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if same_secret(sent, &session.csrf) {
        Ok(())
    } else {
        Err(Problem::forbidden(
            "a write with the session cookie needs the session's CSRF token in `X-CSRF-Token` (the dashboard sends it; sign in again if it is lost)",
        ))
    }
}

/// Compares two secrets in time independent of where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    let (a, b): ([u8; 32], [u8; 32]) = (Sha256::digest(a).into(), Sha256::digest(b).into());
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// A short, non-secret name of a session for the audit trail: the start of its id's hash.
pub fn reference(id: &str) -> String {
    model::wire::hex(&Sha256::digest(id.as_bytes())[..6])
}

/// The `Set-Cookie` value that opens a session in the browser (`secure` over TLS).
pub fn set_cookie(id: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{secure}",
        LIFETIME.as_secs()
    )
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie() -> String {
    format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0")
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    #[test]
    fn the_cookie_is_read_only_without_a_bearer_token_and_only_when_well_formed() {
        let id = "a".repeat(64);
        let cookie = format!("theme=dark; {COOKIE}={id}");
        assert_eq!(
            cookie_session(&headers(&[("cookie", &cookie)])),
            Some(id.as_str())
        );
        assert_eq!(
            cookie_session(&headers(&[
                ("cookie", &cookie),
                ("authorization", "Bearer x")
            ])),
            None
        );
        assert_eq!(
            cookie_session(&headers(&[("cookie", &format!("{COOKIE}=short"))])),
            None
        );
        assert_eq!(cookie_session(&headers(&[])), None);
    }

    #[test]
    fn writes_need_the_sessions_csrf_token_and_reads_do_not() {
        let sessions = Sessions::default();
        let (id, csrf) = sessions.open("0123456789abcdef", "ann");
        let session = sessions.touch(&id).unwrap();
        assert!(check_csrf(&Method::GET, &headers(&[]), &session).is_ok());
        assert!(check_csrf(&Method::POST, &headers(&[]), &session).is_err());
        assert!(check_csrf(&Method::POST, &headers(&[(CSRF_HEADER, "nope")]), &session).is_err());
        assert!(check_csrf(&Method::DELETE, &headers(&[(CSRF_HEADER, &csrf)]), &session).is_ok());
    }

    #[test]
    fn a_closed_session_is_gone_and_ids_are_not_reused() {
        let sessions = Sessions::default();
        let (a, _) = sessions.open("0123456789abcdef", "ann");
        let (b, _) = sessions.open("0123456789abcdef", "ann");
        assert_ne!(a, b);
        assert_eq!(sessions.close(&a).unwrap().principal, "ann");
        assert!(sessions.touch(&a).is_none());
        assert!(sessions.touch(&b).is_some());
    }

    #[test]
    fn the_cookie_is_http_only_and_same_site_strict() {
        let cookie = set_cookie(&"b".repeat(64), false);
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
        assert!(!cookie.contains("Secure"));
        assert!(set_cookie("x", true).ends_with("; Secure"));
    }
}
