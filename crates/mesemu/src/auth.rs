//! The emulator's OAuth: the password and refresh-token grants of
//! `POST /sit-auth/OAuth/Token`, as Opcenter's identity service answers them, and the bearer
//! check every `/sit-svc` route makes.
//!
//! Tokens are opaque: SHA-256 of a per-process secret and a counter, so they cannot be
//! guessed from the seed. Access tokens expire after the configured lifetime (measured on
//! the wall clock, like a real identity service); a refresh token lives ten lifetimes and is
//! single-use (a refresh answers a new pair and retires the old refresh token).

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Who may sign in: one user and one client, as a connector is configured with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
    pub client_id: String,
    pub client_secret: String,
}

impl Default for Credentials {
    /// The defaults the binary prints at start and the README shows.
    fn default() -> Self {
        Credentials {
            username: "mixplane".into(),
            password: "mixplane-emulator".into(),
            client_id: "mixplane-connector".into(),
            client_secret: "emulator-secret".into(),
        }
    }
}

/// The form of a token request (`application/x-www-form-urlencoded`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub scope: Option<String>,
    pub refresh_token: Option<String>,
}

/// A granted token pair, as the token endpoint answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenAnswer {
    pub access_token: String,
    pub refresh_token: String,
    /// Seconds the access token lives.
    pub expires_in: u64,
    pub token_type: String,
    pub scope: String,
}

/// Why a token request is refused, as the OAuth error codes of RFC 6749 §5.2.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrantError {
    #[error("invalid_client: {0}")]
    InvalidClient(String),
    #[error("invalid_grant: {0}")]
    InvalidGrant(String),
    #[error("invalid_request: {0}")]
    InvalidRequest(String),
    #[error("unsupported_grant_type: {0}")]
    UnsupportedGrantType(String),
    #[error("invalid_scope: {0}")]
    InvalidScope(String),
}

impl GrantError {
    /// The `error` code of the answer body.
    pub fn code(&self) -> &'static str {
        match self {
            GrantError::InvalidClient(_) => "invalid_client",
            GrantError::InvalidGrant(_) => "invalid_grant",
            GrantError::InvalidRequest(_) => "invalid_request",
            GrantError::UnsupportedGrantType(_) => "unsupported_grant_type",
            GrantError::InvalidScope(_) => "invalid_scope",
        }
    }

    /// The explanation of the answer body.
    pub fn description(&self) -> &str {
        match self {
            GrantError::InvalidClient(m)
            | GrantError::InvalidGrant(m)
            | GrantError::InvalidRequest(m)
            | GrantError::UnsupportedGrantType(m)
            | GrantError::InvalidScope(m) => m,
        }
    }
}

/// Why a bearer token is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BearerError {
    #[error("no bearer token: send `Authorization: Bearer <access_token>`")]
    Missing,
    #[error("the access token is not known")]
    Unknown,
    #[error("the access token has expired")]
    Expired,
}

/// The tokens issued so far, and the lifetime of new ones.
#[derive(Debug)]
pub struct Tokens {
    credentials: Credentials,
    lifetime: Duration,
    secret: u64,
    issued: u64,
    access: HashMap<String, Instant>,
    refresh: HashMap<String, Instant>,
}

/// The one scope the emulator grants (Opcenter's clients ask for `global`).
pub const SCOPE: &str = "global";

impl Tokens {
    /// No token issued yet; new access tokens live `lifetime`.
    pub fn new(credentials: Credentials, lifetime: Duration) -> Tokens {
        // A fresh random key from the standard library: nothing to configure, nothing to leak.
        let secret = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        Tokens {
            credentials,
            lifetime,
            secret,
            issued: 0,
            access: HashMap::new(),
            refresh: HashMap::new(),
        }
    }

    /// The credentials a sign-in must present.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The lifetime of access tokens issued from now on.
    pub fn set_lifetime(&mut self, lifetime: Duration) {
        self.lifetime = lifetime;
    }

    /// Every access token issued so far expires now (refresh tokens stay valid, as when an
    /// identity service's access tokens time out before the client expected).
    pub fn expire_all(&mut self, now: Instant) {
        for expiry in self.access.values_mut() {
            *expiry = (*expiry).min(now);
        }
    }

    /// Answers a token request whose `Authorization` header was `authorization`.
    pub fn grant(
        &mut self,
        authorization: Option<&str>,
        request: &TokenRequest,
        now: Instant,
    ) -> Result<TokenAnswer, GrantError> {
        let (id, secret) = authorization.and_then(basic_credentials).ok_or_else(|| {
            GrantError::InvalidClient("send the client credentials as HTTP Basic".into())
        })?;
        if id != self.credentials.client_id || secret != self.credentials.client_secret {
            return Err(GrantError::InvalidClient(
                "unknown client or wrong client secret".into(),
            ));
        }
        match request.grant_type.as_deref() {
            Some("password") => {
                if let Some(scope) = &request.scope
                    && scope != SCOPE
                {
                    return Err(GrantError::InvalidScope(format!(
                        "scope `{scope}` is not granted; ask for `{SCOPE}`"
                    )));
                }
                let (Some(user), Some(password)) = (&request.username, &request.password) else {
                    return Err(GrantError::InvalidRequest(
                        "the password grant needs `username` and `password`".into(),
                    ));
                };
                if *user != self.credentials.username || *password != self.credentials.password {
                    return Err(GrantError::InvalidGrant(
                        "wrong username or password".into(),
                    ));
                }
            }
            Some("refresh_token") => {
                let Some(token) = &request.refresh_token else {
                    return Err(GrantError::InvalidRequest(
                        "the refresh_token grant needs `refresh_token`".into(),
                    ));
                };
                match self.refresh.remove(token) {
                    Some(expiry) if expiry > now => {}
                    Some(_) => {
                        return Err(GrantError::InvalidGrant("refresh token expired".into()));
                    }
                    None => {
                        return Err(GrantError::InvalidGrant(
                            "refresh token unknown or already used".into(),
                        ));
                    }
                }
            }
            Some(other) => {
                return Err(GrantError::UnsupportedGrantType(format!(
                    "grant type `{other}` is not supported; use `password` or `refresh_token`"
                )));
            }
            None => {
                return Err(GrantError::InvalidRequest("no `grant_type`".into()));
            }
        }
        Ok(self.issue(now))
    }

    fn issue(&mut self, now: Instant) -> TokenAnswer {
        let access_token = self.next_token("access");
        let refresh_token = self.next_token("refresh");
        self.access
            .insert(access_token.clone(), now + self.lifetime);
        self.refresh
            .insert(refresh_token.clone(), now + self.lifetime * 10);
        // Expired ones are forgotten as new ones are made, so the maps stay small.
        self.access.retain(|_, expiry| *expiry > now);
        self.refresh.retain(|_, expiry| *expiry > now);
        TokenAnswer {
            access_token,
            refresh_token,
            expires_in: self.lifetime.as_secs(),
            token_type: "Bearer".into(),
            scope: SCOPE.into(),
        }
    }

    fn next_token(&mut self, kind: &str) -> String {
        self.issued += 1;
        let mut digest = Sha256::new();
        digest.update(self.secret.to_le_bytes());
        digest.update(self.issued.to_le_bytes());
        digest.update(kind.as_bytes());
        digest
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Checks the `Authorization` header of a service request.
    pub fn check_bearer(
        &self,
        authorization: Option<&str>,
        now: Instant,
    ) -> Result<(), BearerError> {
        let token = authorization
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(BearerError::Missing)?;
        match self.access.get(token) {
            Some(expiry) if *expiry > now => Ok(()),
            Some(_) => Err(BearerError::Expired),
            None => Err(BearerError::Unknown),
        }
    }

    /// Whether `authorization` is HTTP Basic with the user's name and password (the admin
    /// routes' check).
    pub fn is_user(&self, authorization: Option<&str>) -> bool {
        authorization
            .and_then(basic_credentials)
            .is_some_and(|(user, password)| {
                user == self.credentials.username && password == self.credentials.password
            })
    }
}

/// The name and password of an HTTP Basic `Authorization` header.
pub fn basic_credentials(header: &str) -> Option<(String, String)> {
    let encoded = header.strip_prefix("Basic ")?.trim();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(id: &str, secret: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
        )
    }

    fn password_grant() -> TokenRequest {
        let c = Credentials::default();
        TokenRequest {
            grant_type: Some("password".into()),
            username: Some(c.username),
            password: Some(c.password),
            scope: Some(SCOPE.into()),
            refresh_token: None,
        }
    }

    #[test]
    fn password_then_refresh_then_expiry() {
        let c = Credentials::default();
        let client = basic(&c.client_id, &c.client_secret);
        let mut tokens = Tokens::new(c, Duration::from_secs(60));
        let t0 = Instant::now();
        let first = tokens.grant(Some(&client), &password_grant(), t0).unwrap();
        assert_eq!(first.expires_in, 60);
        let bearer = format!("Bearer {}", first.access_token);
        assert_eq!(tokens.check_bearer(Some(&bearer), t0), Ok(()));
        assert_eq!(
            tokens.check_bearer(Some(&bearer), t0 + Duration::from_secs(61)),
            Err(BearerError::Expired)
        );
        let refresh = TokenRequest {
            grant_type: Some("refresh_token".into()),
            refresh_token: Some(first.refresh_token.clone()),
            ..TokenRequest::default()
        };
        let second = tokens.grant(Some(&client), &refresh, t0).unwrap();
        assert_ne!(second.access_token, first.access_token);
        // A refresh token is used once.
        assert!(matches!(
            tokens.grant(Some(&client), &refresh, t0),
            Err(GrantError::InvalidGrant(_))
        ));
        tokens.expire_all(t0);
        assert_eq!(
            tokens.check_bearer(Some(&format!("Bearer {}", second.access_token)), t0),
            Err(BearerError::Expired)
        );
    }

    #[test]
    fn wrong_client_password_or_grant_is_refused_by_name() {
        let c = Credentials::default();
        let mut tokens = Tokens::new(c.clone(), Duration::from_secs(60));
        let now = Instant::now();
        let wrong_client = basic(&c.client_id, "nope");
        assert_eq!(
            tokens
                .grant(Some(&wrong_client), &password_grant(), now)
                .unwrap_err()
                .code(),
            "invalid_client"
        );
        let client = basic(&c.client_id, &c.client_secret);
        let mut wrong = password_grant();
        wrong.password = Some("nope".into());
        assert_eq!(
            tokens.grant(Some(&client), &wrong, now).unwrap_err().code(),
            "invalid_grant"
        );
        wrong.grant_type = Some("client_credentials".into());
        assert_eq!(
            tokens.grant(Some(&client), &wrong, now).unwrap_err().code(),
            "unsupported_grant_type"
        );
        assert_eq!(tokens.check_bearer(None, now), Err(BearerError::Missing));
        assert_eq!(
            tokens.check_bearer(Some("Bearer abc"), now),
            Err(BearerError::Unknown)
        );
    }
}
