//! Talking to an OData peer over HTTP: signing in (the OAuth password grant with HTTP Basic
//! client credentials, refreshed before expiry, signed in afresh once on a 401), and reading
//! answers into typed errors — 429/503 (and 502/504, a failed connection, a timeout) with
//! `Retry-After` are `Unavailable`, a refusal of our credentials `Unauthorized`, an answer we
//! cannot read `Broken`, naming what is wrong.

use std::time::{Duration, Instant, SystemTime};

use reqwest::{Method, StatusCode, Url};
use serde_json::Value;

use super::config::{AuthConfig, ConfigError};
use crate::source::PeerError;

/// Credentials resolved from the configuration (secrets read once, at start).
#[derive(Clone)]
pub enum Credentials {
    None,
    Password(Box<PasswordGrant>),
}

/// The OAuth password grant's parameters.
#[derive(Clone)]
pub struct PasswordGrant {
    pub token_url: Url,
    pub username: String,
    pub password: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub scope: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::None => f.write_str("Credentials::None"),
            Credentials::Password(grant) => f
                .debug_struct("Credentials::Password")
                .field("token_url", &grant.token_url.as_str())
                .field("username", &grant.username)
                .field("client_id", &grant.client_id)
                .finish_non_exhaustive(),
        }
    }
}

impl Credentials {
    /// The credentials the configuration gives (secrets already resolved).
    pub fn resolve(base_url: &str, auth: &AuthConfig) -> Result<Credentials, ConfigError> {
        match auth {
            AuthConfig::None => Ok(Credentials::None),
            AuthConfig::Password {
                token_path,
                username,
                password,
                client_id,
                client_secret,
                scope,
            } => {
                let token_url = Url::parse(base_url)
                    .and_then(|base| base.join(token_path))
                    .map_err(|e| ConfigError {
                        setting: "auth.token_path".into(),
                        message: e.to_string(),
                    })?;
                Ok(Credentials::Password(Box::new(PasswordGrant {
                    token_url,
                    username: username.clone(),
                    password: password.0.clone(),
                    client_id: client_id.clone(),
                    client_secret: client_secret.as_ref().map(|s| s.0.clone()),
                    scope: scope.clone(),
                })))
            }
        }
    }
}

/// A token in hand.
#[derive(Debug, Clone)]
struct Token {
    access: String,
    refresh: Option<String>,
    /// When to stop using it: a fifth of its life (at least a second, at most a minute)
    /// before it expires.
    renew_at: Instant,
}

/// Counts of what signing in did, for tests and counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuthCounts {
    pub sign_ins: u64,
    pub refreshes: u64,
}

/// An HTTP client bound to one peer's credentials.
pub struct Peer {
    client: reqwest::Client,
    credentials: Credentials,
    token: Option<Token>,
    pub counts: AuthCounts,
}

impl Peer {
    pub fn new(credentials: Credentials, timeout: Duration) -> Result<Peer, PeerError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| PeerError::Broken(format!("making the HTTP client: {e}")))?;
        Ok(Peer {
            client,
            credentials,
            token: None,
            counts: AuthCounts::default(),
        })
    }

    /// GETs a JSON document.
    pub async fn get_json(&mut self, url: &Url) -> Result<Value, PeerError> {
        self.send_json(Method::GET, url, None).await
    }

    /// Sends a request (with a JSON body when given) and reads the JSON answer, signing in
    /// as needed and afresh once when the peer answers 401.
    pub async fn send_json(
        &mut self,
        method: Method,
        url: &Url,
        body: Option<&Value>,
    ) -> Result<Value, PeerError> {
        let answer = self.exchange(method, url, body).await?;
        read_json(url, answer).await
    }

    /// Sends a request, signed in, and hands back the peer's answer whatever its status
    /// (after one fresh sign-in on a 401).
    pub async fn exchange(
        &mut self,
        method: Method,
        url: &Url,
        body: Option<&Value>,
    ) -> Result<reqwest::Response, PeerError> {
        let mut signed_in_afresh = false;
        loop {
            let bearer = self.bearer().await?;
            let mut request = self
                .client
                .request(method.clone(), url.clone())
                .header("Accept", "application/json");
            if let Some(token) = &bearer {
                request = request.bearer_auth(token);
            }
            if let Some(body) = body {
                request = request.json(body);
            }
            let answer = request
                .send()
                .await
                .map_err(|e| unreachable_peer(url, &e))?;
            if answer.status() == StatusCode::UNAUTHORIZED
                && matches!(self.credentials, Credentials::Password(_))
                && !signed_in_afresh
            {
                self.token = None;
                signed_in_afresh = true;
                continue;
            }
            return Ok(answer);
        }
    }

    /// The access token to send, signing in or refreshing first when needed.
    async fn bearer(&mut self) -> Result<Option<String>, PeerError> {
        let Credentials::Password(_) = &self.credentials else {
            return Ok(None);
        };
        match &self.token {
            Some(token) if Instant::now() < token.renew_at => {
                return Ok(Some(token.access.clone()));
            }
            Some(Token {
                refresh: Some(refresh),
                ..
            }) => {
                let refresh = refresh.clone();
                match self
                    .token_grant(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
                    .await
                {
                    Ok(token) => {
                        self.counts.refreshes += 1;
                        self.token = Some(token);
                    }
                    // A refused refresh token: sign in with the password instead.
                    Err(PeerError::Unauthorized(_)) => self.sign_in().await?,
                    Err(other) => return Err(other),
                }
            }
            _ => self.sign_in().await?,
        }
        Ok(self.token.as_ref().map(|t| t.access.clone()))
    }

    async fn sign_in(&mut self) -> Result<(), PeerError> {
        let Credentials::Password(grant) = self.credentials.clone() else {
            return Ok(());
        };
        let PasswordGrant {
            username,
            password,
            scope,
            ..
        } = *grant;
        let token = self
            .token_grant(&[
                ("grant_type", "password"),
                ("username", &username),
                ("password", &password),
                ("scope", &scope),
            ])
            .await?;
        self.counts.sign_ins += 1;
        self.token = Some(token);
        Ok(())
    }

    async fn token_grant(&self, form: &[(&str, &str)]) -> Result<Token, PeerError> {
        let Credentials::Password(grant) = &self.credentials else {
            return Err(PeerError::Broken("no credentials to sign in with".into()));
        };
        let PasswordGrant {
            token_url,
            client_id,
            client_secret,
            ..
        } = grant.as_ref();
        let answer = self
            .client
            .post(token_url.clone())
            .basic_auth(client_id, client_secret.as_deref())
            .header("Accept", "application/json")
            .form(form)
            .send()
            .await
            .map_err(|e| unreachable_peer(token_url, &e))?;
        let status = answer.status();
        if matches!(
            status,
            StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
        ) {
            let text = answer.text().await.unwrap_or_default();
            return Err(PeerError::Unauthorized(format!(
                "{token_url} answered {status}: {}",
                oauth_error(&text)
            )));
        }
        let body = read_json(token_url, answer).await?;
        let access = body
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                PeerError::Broken(format!("{token_url}: the answer has no access_token"))
            })?;
        let expires_in = match body.get("expires_in") {
            None | Some(Value::Null) => 3600,
            Some(v) => v
                .as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .ok_or_else(|| {
                    PeerError::Broken(format!(
                        "{token_url}: expires_in is {v}, not a number of seconds"
                    ))
                })?,
        };
        // Renewed a fifth of its life early (at least a second, at most a minute).
        let margin = (expires_in / 5).clamp(1, 60);
        Ok(Token {
            access: access.to_string(),
            refresh: body
                .get("refresh_token")
                .and_then(Value::as_str)
                .map(str::to_string),
            renew_at: Instant::now() + Duration::from_secs(expires_in.saturating_sub(margin)),
        })
    }
}

fn oauth_error(text: &str) -> String {
    match serde_json::from_str::<Value>(text) {
        Ok(body) => {
            let code = body.get("error").and_then(Value::as_str).unwrap_or("");
            let description = body
                .get("error_description")
                .and_then(Value::as_str)
                .unwrap_or("");
            format!("{code} {description}").trim().to_string()
        }
        Err(_) => text.chars().take(200).collect(),
    }
}

pub(crate) fn unreachable_peer(url: &Url, error: &reqwest::Error) -> PeerError {
    let what = if error.is_timeout() {
        "timed out"
    } else {
        "could not be reached"
    };
    PeerError::Unavailable {
        message: format!("{url} {what}: {error}"),
        retry_after: None,
    }
}

/// Reads an answer: a 2xx JSON body, or the typed error its status means.
pub async fn read_json(url: &Url, answer: reqwest::Response) -> Result<Value, PeerError> {
    let status = answer.status();
    let retry_after = answer
        .headers()
        .get("Retry-After")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, SystemTime::now()));
    let text = answer.text().await.map_err(|e| unreachable_peer(url, &e))?;
    if status.is_success() {
        return serde_json::from_str(&text)
            .map_err(|e| PeerError::Broken(format!("{url}: the answer is not JSON ({e})")));
    }
    let message = format!("{url} answered {status}: {}", odata_error(&text));
    Err(match status {
        StatusCode::TOO_MANY_REQUESTS
        | StatusCode::SERVICE_UNAVAILABLE
        | StatusCode::BAD_GATEWAY
        | StatusCode::GATEWAY_TIMEOUT
        | StatusCode::INTERNAL_SERVER_ERROR => PeerError::Unavailable {
            message,
            retry_after,
        },
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => PeerError::Unauthorized(message),
        _ => PeerError::Broken(message),
    })
}

/// The message of an OData error body (`{"error": {"code", "message"}}`), else the text.
fn odata_error(text: &str) -> String {
    let body: Option<Value> = serde_json::from_str(text).ok();
    let error = body.as_ref().and_then(|b| b.get("error"));
    match error {
        Some(error) => {
            let code = error.get("code").map(|c| match c {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
            let message = error.get("message").and_then(Value::as_str).unwrap_or("");
            match code {
                Some(code) => format!("{code}: {message}"),
                None => message.to_string(),
            }
        }
        None => text.chars().take(200).collect(),
    }
}

/// `Retry-After`: a number of seconds, or an HTTP date (a past one is "now").
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    let now = jiff::Timestamp::try_from(now).ok()?;
    let wait = when.as_millisecond() - now.as_millisecond();
    Some(Duration::from_millis(u64::try_from(wait).unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_seconds_or_an_http_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn an_odata_error_body_is_read_for_its_message() {
        assert_eq!(
            odata_error(r#"{"error":{"code":"400","message":"Parsing URL failed"}}"#),
            "400: Parsing URL failed"
        );
        assert_eq!(odata_error("<html>down</html>"), "<html>down</html>");
    }

    #[test]
    fn credentials_never_show_their_secrets() {
        let credentials = Credentials::Password(Box::new(PasswordGrant {
            token_url: Url::parse("http://h/sit-auth/OAuth/Token").unwrap(),
            username: "u".into(),
            password: "hunter2".into(),
            client_id: "c".into(),
            client_secret: Some("s3cret".into()),
            scope: "global".into(),
        }));
        let shown = format!("{credentials:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("s3cret"),
            "{shown}"
        );
    }
}
