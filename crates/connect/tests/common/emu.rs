//! The MES emulator (`mesemu`) on a free loopback port with a manual clock, and the admin
//! calls the tests use (advance the plant, set faults), over real HTTP.

use mesemu::client::Client;
use mesemu::{Config, Emulator};
use serde_json::{Value, json};

pub struct Emu {
    pub emulator: Emulator,
    pub base: String,
    pub config: Config,
    client: Client,
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
        let client = Client::new(base.clone(), config.credentials.clone());
        Emu {
            emulator,
            base,
            config,
            client,
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
        self.client.admin(path, &body).await.unwrap()
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
        let token = self.client.sign_in().await.unwrap();
        self.client
            .rows(
                &token,
                &format!("/sit-svc/Application/{app}/odata/{set}?$orderby=ModifiedOn,Id"),
            )
            .await
            .unwrap()
    }
}
