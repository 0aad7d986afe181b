//! A client of a running emulator, for the harnesses that drive one (tests, benchmarks):
//! sign in as the configured user, read a query page after page following
//! `@odata.nextLink`, and call the admin routes. Errors name the request; a harness reports
//! them and stops.

use serde_json::Value;

use crate::auth::Credentials;

/// A request to the emulator that failed, named.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ClientError(String);

/// The emulator at `base` (`http://127.0.0.1:PORT`), as its configured user.
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    credentials: Credentials,
    http: reqwest::Client,
}

impl Client {
    pub fn new(base: impl Into<String>, credentials: Credentials) -> Client {
        Client {
            base: base.into(),
            credentials,
            http: reqwest::Client::new(),
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// A fresh access token: the password grant, with the client's Basic credentials.
    pub async fn sign_in(&self) -> Result<String, ClientError> {
        let c = &self.credentials;
        let answer = self
            .http
            .post(format!("{}/sit-auth/OAuth/Token", self.base))
            .basic_auth(&c.client_id, Some(&c.client_secret))
            .form(&[
                ("grant_type", "password"),
                ("username", c.username.as_str()),
                ("password", c.password.as_str()),
                ("scope", "global"),
            ])
            .send()
            .await;
        let answer: Value = json_of("POST /sit-auth/OAuth/Token", answer).await?;
        answer["access_token"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| ClientError(format!("the token answer has no access_token: {answer}")))
    }

    /// The page at `url` (absolute), read with `token`.
    pub async fn page(&self, token: &str, url: &str) -> Result<Value, ClientError> {
        let answer = self.http.get(url).bearer_auth(token).send().await;
        json_of(&format!("GET {url}"), answer).await
    }

    /// Every row of `path_and_query` (`/sit-svc/Application/{app}/odata/{set}?…`), page
    /// after page.
    pub async fn rows(&self, token: &str, path_and_query: &str) -> Result<Vec<Value>, ClientError> {
        let mut rows = Vec::new();
        let mut next = Some(format!("{}{path_and_query}", self.base));
        while let Some(url) = next.take() {
            let page = self.page(token, &url).await?;
            let Some(values) = page["value"].as_array() else {
                return Err(ClientError(format!("GET {url}: no `value` list: {page}")));
            };
            rows.extend(values.iter().cloned());
            next = next_link(&url, &page);
        }
        Ok(rows)
    }

    /// Runs the command `name` of `app` with `body` (wrapped as `{"command": body}`); the
    /// answer (`Succeeded`, or `Error` with its code), whatever its status.
    pub async fn command(
        &self,
        token: &str,
        app: &str,
        name: &str,
        body: &Value,
    ) -> Result<Value, ClientError> {
        let what = format!("POST {app}/{name}");
        let response = self
            .http
            .post(format!(
                "{}/sit-svc/Application/{app}/odata/{name}",
                self.base
            ))
            .bearer_auth(token)
            .json(&serde_json::json!({ "command": body }))
            .send()
            .await
            .map_err(|e| ClientError(format!("{what}: {e}")))?;
        response
            .json()
            .await
            .map_err(|e| ClientError(format!("{what}: {e}")))
    }

    /// POSTs `body` to an admin route (`/emulator/advance`, `/emulator/faults`) as the
    /// configured user; the answer, or `null` when it is empty.
    pub async fn admin(&self, path: &str, body: &Value) -> Result<Value, ClientError> {
        let c = &self.credentials;
        let answer = self
            .http
            .post(format!("{}{path}", self.base))
            .basic_auth(&c.username, Some(&c.password))
            .json(body)
            .send()
            .await;
        json_of(&format!("POST {path}"), answer).await
    }
}

/// The absolute URL of the page after `page` (read from `url`), if the emulator linked one.
pub fn next_link(url: &str, page: &Value) -> Option<String> {
    let link = page["@odata.nextLink"].as_str()?;
    let base = reqwest::Url::parse(url).ok()?;
    base.join(link).ok().map(String::from)
}

/// The JSON of a successful answer (`null` when empty), else the request and the answer.
async fn json_of(
    what: &str,
    answer: Result<reqwest::Response, reqwest::Error>,
) -> Result<Value, ClientError> {
    let response = answer.map_err(|e| ClientError(format!("{what}: {e}")))?;
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|e| ClientError(format!("{what}: reading the answer: {e}")))?;
    if !status.is_success() {
        return Err(ClientError(format!("{what}: {status} {text}")));
    }
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(&text).map_err(|e| ClientError(format!("{what}: {e}: {text}")))
}
