//! The OData connector's own settings: its `[connectors.settings]` table in `mixplane.toml`.
//! Secrets arrive resolved: the binary replaces `password_env`/`password_file` (and
//! `client_secret_env`/`_file`) by `password` (`client_secret`) read from the environment or
//! the file (`docs/connectors.md`, rule 19), so none is required inline.

use std::time::Duration;

use serde::Deserialize;

/// One OData source: an app's entity set read by its modified time.
///
/// ```toml
/// base_url = "http://127.0.0.1:8700"   # the MES's origin
/// app = "AppU4DM"
/// entity_set = "WorkOrder"
/// page_size = 500
/// [auth]
/// kind = "password"
/// username = "mixplane"
/// password_env = "MES_PASSWORD"            # → `password`, resolved by the binary
/// client_id = "mixplane"
/// client_secret_file = "/etc/mixplane/mes-client-secret"   # → `client_secret`
/// ```
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OdataConfig {
    /// The MES's origin (`http://host:port`); the service and token paths are joined to it.
    pub base_url: String,
    /// The Opcenter app (`AppU4DM`, `Material`, …).
    pub app: String,
    /// The entity set read (`WorkOrder`, …).
    pub entity_set: String,
    /// The app's service root, `{app}` replaced; the reference's by default.
    #[serde(default = "default_service_path")]
    pub service_path: String,
    /// Rows asked for per request (`$top`); the server may answer fewer and a next link.
    #[serde(default = "default_page_size")]
    pub page_size: u32,
    /// How long one HTTP exchange may take.
    #[serde(default = "default_timeout_seconds")]
    pub timeout_seconds: u64,
    /// The modified-time property the change feed is read by.
    #[serde(default = "default_modified")]
    pub modified_property: String,
    /// Read only rows modified after this instant on the first poll (RFC 3339); all rows
    /// when unset.
    #[serde(default)]
    pub start_after: Option<String>,
    /// How many polls a row that refers to what is not stored yet (an operation before its
    /// work order, read by another connector) is read again before it is dead-lettered.
    #[serde(default = "default_max_waiting_polls")]
    pub max_waiting_polls: u32,
    #[serde(default)]
    pub auth: AuthConfig,
}

/// At the default 5 s interval, over a minute and a half for another connector to store
/// what a row refers to.
pub const DEFAULT_MAX_WAITING_POLLS: u32 = 20;

fn default_max_waiting_polls() -> u32 {
    DEFAULT_MAX_WAITING_POLLS
}

fn default_service_path() -> String {
    "/sit-svc/Application/{app}/odata/".to_string()
}
fn default_page_size() -> u32 {
    500
}
fn default_timeout_seconds() -> u64 {
    30
}
fn default_modified() -> String {
    "ModifiedOn".to_string()
}

/// How the connector signs in.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum AuthConfig {
    /// A peer that asks for no credentials (the CAP conformance peer).
    #[default]
    None,
    /// The OAuth 2 password grant, client credentials in HTTP Basic, as Opcenter's
    /// `/sit-auth/OAuth/Token`; tokens refreshed with the `refresh_token` grant before they
    /// expire.
    Password {
        #[serde(default = "default_token_path")]
        token_path: String,
        username: String,
        password: Secret,
        client_id: String,
        #[serde(default)]
        client_secret: Option<Secret>,
        #[serde(default = "default_scope")]
        scope: String,
    },
}

/// A secret value: never shown by `Debug`.
#[derive(Clone, Deserialize, PartialEq)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

fn default_token_path() -> String {
    "/sit-auth/OAuth/Token".to_string()
}
fn default_scope() -> String {
    "global".to_string()
}

/// A setting that cannot be used, named.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("odata connector setting `{setting}`: {message}")]
pub struct ConfigError {
    pub setting: String,
    pub message: String,
}

fn config_error(setting: &str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        setting: setting.to_string(),
        message: message.into(),
    }
}

impl OdataConfig {
    /// Checks what deserialising cannot: the URL, the names, the page size, the start.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let url = reqwest::Url::parse(&self.base_url)
            .map_err(|e| config_error("base_url", format!("{:?}: {e}", self.base_url)))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(config_error("base_url", "the scheme must be http or https"));
        }
        for (setting, name) in [
            ("app", &self.app),
            ("entity_set", &self.entity_set),
            ("modified_property", &self.modified_property),
        ] {
            if !is_identifier(name) {
                return Err(config_error(
                    setting,
                    format!("{name:?} is not an OData identifier"),
                ));
            }
        }
        if self.page_size == 0 || self.page_size > 10_000 {
            return Err(config_error("page_size", "must be between 1 and 10000"));
        }
        if self.timeout_seconds == 0 {
            return Err(config_error("timeout_seconds", "must be at least 1"));
        }
        if let Some(start) = &self.start_after {
            super::cursor::check_timestamp(start)
                .map_err(|message| config_error("start_after", message))?;
        }
        Ok(())
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_seconds)
    }

    /// The entity set's URL.
    pub fn entity_set_url(&self) -> Result<reqwest::Url, ConfigError> {
        let root = self.service_root()?;
        root.join(&self.entity_set)
            .map_err(|e| config_error("entity_set", e.to_string()))
    }

    /// The app's service root (ends with `/`).
    pub fn service_root(&self) -> Result<reqwest::Url, ConfigError> {
        let mut path = self.service_path.replace("{app}", &self.app);
        if !path.ends_with('/') {
            path.push('/');
        }
        let base = reqwest::Url::parse(&self.base_url)
            .map_err(|e| config_error("base_url", e.to_string()))?;
        base.join(&path)
            .map_err(|e| config_error("service_path", e.to_string()))
    }
}

/// An OData simple identifier: a letter or `_`, then letters, digits or `_`.
pub(crate) fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 128
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<OdataConfig, String> {
        toml::from_str::<OdataConfig>(text).map_err(|e| e.to_string())
    }

    #[test]
    fn reads_a_password_connector() {
        let config = parse(
            r#"
            base_url = "http://127.0.0.1:8700"
            app = "AppU4DM"
            entity_set = "WorkOrder"
            [auth]
            kind = "password"
            username = "mixplane"
            password = "from MES_PASSWORD"
            client_id = "mixplane"
            client_secret = "from a file"
            "#,
        )
        .unwrap();
        config.validate().unwrap();
        assert_eq!(
            config.entity_set_url().unwrap().as_str(),
            "http://127.0.0.1:8700/sit-svc/Application/AppU4DM/odata/WorkOrder"
        );
        assert!(matches!(config.auth, AuthConfig::Password { ref scope, .. } if scope == "global"));
    }

    #[test]
    fn refuses_what_it_cannot_use() {
        let base = "base_url = \"http://h\"\napp = \"AppU4DM\"\n";
        assert!(parse(&format!("{base}entity_set = \"W\"\nusername = \"x\"")).is_err());
        let bad_set = parse(&format!("{base}entity_set = \"W'x\"")).unwrap();
        assert_eq!(bad_set.validate().unwrap_err().setting, "entity_set");
        let bad_start = parse(&format!(
            "{base}entity_set = \"W\"\nstart_after = \"yesterday\""
        ))
        .unwrap();
        assert_eq!(bad_start.validate().unwrap_err().setting, "start_after");
        let bad_page = parse(&format!("{base}entity_set = \"W\"\npage_size = 0")).unwrap();
        assert_eq!(bad_page.validate().unwrap_err().setting, "page_size");
    }

    #[test]
    fn secrets_are_never_shown() {
        let config = parse(
            "base_url = \"http://h\"\napp = \"A\"\nentity_set = \"W\"\n[auth]\nkind = \"password\"\n\
             username = \"u\"\npassword = \"hunter2\"\nclient_id = \"c\"\nclient_secret = \"s3cret\"\n",
        )
        .unwrap();
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("s3cret"),
            "{shown}"
        );
    }
}
