//! The MES emulator (`mesemu`) on a free loopback port with a manual clock, and the admin
//! calls the tests use (advance the plant, set faults), over real HTTP.

use mesemu::{Config, Emulator};
use serde_json::{Value, json};

pub struct Emu {
    pub emulator: Emulator,
    pub base: String,
    pub config: Config,
    client: reqwest::Client,
}

/// A manual clock (nothing depends on timing) and small pages.
pub fn config() -> Config {
    Config {
        speed: 0.0,
        page_size: 25,
        days: 10.0,
        ..Config::default()
    }
}

impl Emu {
    pub async fn start(config: Config) -> Emu {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let emulator = Emulator::start(listener, config.clone()).await.unwrap();
        let base = format!("http://{}", emulator.addr());
        Emu {
            emulator,
            base,
            config,
            client: reqwest::Client::new(),
        }
    }

    /// The `auth` settings table of a connector signing in with the emulator's credentials.
    pub fn auth_toml(&self) -> String {
        let c = &self.config.credentials;
        format!(
            "[auth]\nkind = \"password\"\nusername = {:?}\npassword = {:?}\nclient_id = {:?}\nclient_secret = {:?}\n",
            c.username, c.password, c.client_id, c.client_secret
        )
    }

    pub async fn admin(&self, path: &str, body: Value) -> Value {
        let c = &self.config.credentials;
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .basic_auth(&c.username, Some(&c.password))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_success(), "POST {path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    pub async fn advance(&self, minutes: f64) -> Value {
        self.admin("/emulator/advance", json!({ "minutes": minutes }))
            .await
    }

    pub async fn faults(&self, body: Value) -> Value {
        self.admin("/emulator/faults", body).await
    }

    /// Every row of a set, read directly (signed in, following next links).
    pub async fn rows(&self, app: &str, set: &str) -> Vec<Value> {
        let c = &self.config.credentials;
        let token: Value = self
            .client
            .post(format!("{}/sit-auth/OAuth/Token", self.base))
            .basic_auth(&c.client_id, Some(&c.client_secret))
            .form(&[
                ("grant_type", "password"),
                ("username", c.username.as_str()),
                ("password", c.password.as_str()),
                ("scope", "global"),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = token["access_token"].as_str().unwrap().to_owned();
        let mut rows = Vec::new();
        let mut next = Some(format!(
            "{}/sit-svc/Application/{app}/odata/{set}?$orderby=ModifiedOn,Id",
            self.base
        ));
        while let Some(url) = next.take() {
            let page: Value = self
                .client
                .get(&url)
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            rows.extend(page["value"].as_array().unwrap().iter().cloned());
            next = page["@odata.nextLink"].as_str().map(|link| {
                reqwest::Url::parse(&url)
                    .unwrap()
                    .join(link)
                    .unwrap()
                    .to_string()
            });
        }
        rows
    }
}
