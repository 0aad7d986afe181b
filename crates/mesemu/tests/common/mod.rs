//! The integration tests' harness: an emulator on a free loopback port with a manual clock
//! (speed 0, so nothing depends on timing), and a client that signs in and speaks to it over
//! real HTTP.

#![allow(dead_code)]

use std::time::Duration;

use mesemu::auth::{Credentials, TokenAnswer};
use mesemu::{Config, Emulator};
use serde_json::Value;

pub struct Emu {
    pub emulator: Emulator,
    pub base: String,
    pub client: reqwest::Client,
    pub credentials: Credentials,
}

/// The manual-clock configuration the tests start from.
pub fn config() -> Config {
    Config {
        speed: 0.0,
        page_size: 25,
        days: 20.0,
        ..Config::default()
    }
}

impl Emu {
    pub async fn start(config: Config) -> Emu {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let credentials = config.credentials.clone();
        let emulator = Emulator::start(listener, config).await.unwrap();
        let base = format!("http://{}", emulator.addr());
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        Emu {
            emulator,
            base,
            client,
            credentials,
        }
    }

    /// The URL of a path on the emulator.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The URL of a resource of an app's OData service.
    pub fn service(&self, app: &str, resource: &str) -> String {
        self.url(&format!("/sit-svc/Application/{app}/odata/{resource}"))
    }

    /// A token request with the client's Basic credentials.
    pub async fn token_request(&self, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(self.url("/sit-auth/OAuth/Token"))
            .basic_auth(
                &self.credentials.client_id,
                Some(&self.credentials.client_secret),
            )
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// Signs in with the password grant.
    pub async fn sign_in(&self) -> TokenAnswer {
        let c = &self.credentials;
        let response = self
            .token_request(&[
                ("grant_type", "password"),
                ("username", &c.username),
                ("password", &c.password),
                ("scope", "global"),
            ])
            .await;
        assert_eq!(response.status(), 200, "sign-in refused");
        response.json().await.unwrap()
    }

    /// GET with a bearer token.
    pub async fn get(&self, url: &str, token: &str) -> reqwest::Response {
        self.client
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// GET with a bearer token, expecting 200 and JSON.
    pub async fn get_json(&self, url: &str, token: &str) -> Value {
        let response = self.get(url, token).await;
        let status = response.status();
        let body = response.text().await.unwrap();
        assert_eq!(status, 200, "GET {url}: {body}");
        serde_json::from_str(&body).unwrap()
    }

    /// Every row of a collection URL, following `@odata.nextLink` to the end; answers the
    /// rows and the number of pages.
    pub async fn all_pages(&self, url: &str, token: &str) -> (Vec<Value>, usize) {
        let mut rows = Vec::new();
        let mut next = Some(url.to_owned());
        let mut pages = 0;
        while let Some(url) = next.take() {
            let page = self.get_json(&url, token).await;
            pages += 1;
            rows.extend(page["value"].as_array().unwrap().iter().cloned());
            next = page["@odata.nextLink"].as_str().map(str::to_owned);
            assert!(pages < 10_000, "paging does not end");
        }
        (rows, pages)
    }

    /// POST a command's body to an app's service.
    pub async fn command(
        &self,
        app: &str,
        name: &str,
        token: &str,
        body: &Value,
    ) -> reqwest::Response {
        self.client
            .post(self.service(app, name))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// POST to an admin route, expecting 200.
    pub async fn admin(&self, path: &str, body: Value) -> Value {
        let response = self
            .client
            .post(self.url(path))
            .basic_auth(&self.credentials.username, Some(&self.credentials.password))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(status, 200, "POST {path}: {text}");
        serde_json::from_str(&text).unwrap()
    }

    /// Moves the plant on by `minutes`.
    pub async fn advance(&self, minutes: f64) -> Value {
        self.admin(
            "/emulator/advance",
            serde_json::json!({ "minutes": minutes }),
        )
        .await
    }

    /// Sets faults.
    pub async fn faults(&self, body: Value) -> Value {
        self.admin("/emulator/faults", body).await
    }
}
