//! The `[[connectors]]` entries of the config file, resolved into `connect::ConnectorSpec`s.
//!
//! ```toml
//! [[connectors]]
//! name = "line-3-export"       # unique; letters, digits, `.`, `_`, `-`
//! kind = "jsonl"               # a kind `connect::Kinds` knows
//! principal = "connector-line-3"   # an existing principal it stores as
//! poll_interval_seconds = 5    # default 5
//! [connectors.settings]        # the kind's own settings
//! path = "/var/export/line-3.jsonl"
//! ```
//!
//! Secrets are never required inline: a settings key ending in `_env` names an environment
//! variable and one ending in `_file` a file; each is replaced by the key without the suffix
//! holding the variable's value or the file's contents (trailing newline removed), so
//! `password_env = "MES_PASSWORD"` hands the kind `password`. A missing variable or file is
//! an error naming the connector and the key. This is the one place the binary reads an
//! environment variable the configuration names rather than one of its own flags'.

use std::time::Duration;

use anyhow::{Context, bail};
use serde::Deserialize;

/// One `[[connectors]]` entry as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectorSection {
    pub name: String,
    pub kind: String,
    pub principal: String,
    #[serde(default = "default_poll_seconds")]
    pub poll_interval_seconds: f64,
    #[serde(default = "empty_table")]
    pub settings: toml::Table,
}

fn default_poll_seconds() -> f64 {
    5.0
}

fn empty_table() -> toml::Table {
    toml::Table::new()
}

/// How secrets named in the settings are read (the process environment and files, or a
/// test's own).
pub trait SecretSource {
    fn var(&self, name: &str) -> Option<String>;
    fn file(&self, path: &str) -> std::io::Result<String>;
}

/// The process's environment and file system.
pub struct ProcessSecrets;

impl SecretSource for ProcessSecrets {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }

    fn file(&self, path: &str) -> std::io::Result<String> {
        std::fs::read_to_string(path)
    }
}

/// Checks the entries and resolves them into specs.
pub fn resolve(
    sections: &[ConnectorSection],
    secrets: &dyn SecretSource,
) -> anyhow::Result<Vec<connect::ConnectorSpec>> {
    let mut specs = Vec::new();
    for section in sections {
        let name = &section.name;
        let valid_name = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
        if !valid_name {
            bail!(
                "config [[connectors]]: name `{name}` must be 1 to 64 letters, digits, `.`, `_` or `-`"
            );
        }
        if specs
            .iter()
            .any(|s: &connect::ConnectorSpec| s.name == *name)
        {
            bail!("config [[connectors]]: two connectors are named `{name}`");
        }
        let seconds = section.poll_interval_seconds;
        if !(seconds.is_finite() && (0.01..=86_400.0).contains(&seconds)) {
            bail!(
                "config connector `{name}`: poll_interval_seconds must be 0.01 to 86400, not {seconds}"
            );
        }
        let settings = resolve_secrets(name, &section.settings, secrets)?;
        specs.push(connect::ConnectorSpec {
            name: name.clone(),
            kind: section.kind.clone(),
            principal: section.principal.clone(),
            poll_interval: Duration::from_secs_f64(seconds),
            settings: serde_json::to_value(settings)
                .with_context(|| format!("config connector `{name}`: settings"))?,
        });
    }
    Ok(specs)
}

/// The table with every `KEY_env` and `KEY_file` replaced by `KEY` (nested tables too);
/// `connector` names the table in errors.
pub(crate) fn resolve_secrets(
    connector: &str,
    table: &toml::Table,
    secrets: &dyn SecretSource,
) -> anyhow::Result<toml::Table> {
    let mut resolved = toml::Table::new();
    for (key, value) in table {
        let named = value.as_str();
        let (plain, secret) = if let Some(plain) = key.strip_suffix("_env") {
            let var = named.with_context(|| {
                format!("config connector `{connector}`: `{key}` must name an environment variable")
            })?;
            let value = secrets.var(var).with_context(|| {
                format!("config connector `{connector}`: `{key}` names environment variable `{var}`, which is not set")
            })?;
            (plain, value)
        } else if let Some(plain) = key.strip_suffix("_file") {
            let path = named.with_context(|| {
                format!("config connector `{connector}`: `{key}` must name a file")
            })?;
            let text = secrets.file(path).with_context(|| {
                format!(
                    "config connector `{connector}`: `{key}` names file {path}, which does not read"
                )
            })?;
            (plain, text.trim_end_matches(['\n', '\r']).to_owned())
        } else {
            let value = match value {
                toml::Value::Table(inner) => {
                    toml::Value::Table(resolve_secrets(connector, inner, secrets)?)
                }
                other => other.clone(),
            };
            resolved.insert(key.clone(), value);
            continue;
        };
        if table.contains_key(plain) {
            bail!("config connector `{connector}`: both `{plain}` and `{key}` are given; give one");
        }
        resolved.insert(plain.to_owned(), toml::Value::String(secret));
    }
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed;

    impl SecretSource for Fixed {
        fn var(&self, name: &str) -> Option<String> {
            (name == "MES_PASSWORD").then(|| "s3cret".to_owned())
        }

        fn file(&self, path: &str) -> std::io::Result<String> {
            match path {
                "/run/secrets/client" => Ok("client-secret\n".into()),
                _ => Err(std::io::Error::from(std::io::ErrorKind::NotFound)),
            }
        }
    }

    fn sections(text: &str) -> Vec<ConnectorSection> {
        #[derive(Deserialize)]
        struct File {
            connectors: Vec<ConnectorSection>,
        }
        toml::from_str::<File>(text).unwrap().connectors
    }

    #[test]
    fn entries_resolve_with_secrets_from_the_environment_and_files() {
        let specs = resolve(
            &sections(
                r#"
[[connectors]]
name = "mes"
kind = "odata"
principal = "connector-mes"
poll_interval_seconds = 2.5
[connectors.settings]
base_url = "http://127.0.0.1:1"
password_env = "MES_PASSWORD"
[connectors.settings.client]
secret_file = "/run/secrets/client"
"#,
            ),
            &Fixed,
        )
        .unwrap();
        assert_eq!(specs.len(), 1);
        assert_eq!(specs[0].poll_interval, Duration::from_millis(2500));
        assert_eq!(
            specs[0].settings,
            serde_json::json!({
                "base_url": "http://127.0.0.1:1",
                "password": "s3cret",
                "client": {"secret": "client-secret"},
            })
        );
    }

    #[test]
    fn bad_entries_are_refused_by_name() {
        let error = |text: &str| resolve(&sections(text), &Fixed).unwrap_err().to_string();
        let base = "[[connectors]]\nkind = \"jsonl\"\nprincipal = \"p\"\n";
        assert!(error(&format!("{base}name = \"a b\"\n")).contains("name `a b`"));
        assert!(
            error(&format!("{base}name = \"a\"\n{base}name = \"a\"\n")).contains("two connectors")
        );
        assert!(
            error(&format!("{base}name = \"a\"\npoll_interval_seconds = 0\n"))
                .contains("poll_interval_seconds")
        );
        let missing = error(&format!(
            "{base}name = \"a\"\n[connectors.settings]\ntoken_env = \"NOPE\"\n"
        ));
        assert!(missing.contains("`NOPE`"), "{missing}");
        let both = error(&format!(
            "{base}name = \"a\"\n[connectors.settings]\npassword = \"x\"\npassword_env = \"MES_PASSWORD\"\n"
        ));
        assert!(both.contains("give one"), "{both}");
        let unknown = toml::from_str::<std::collections::BTreeMap<String, Vec<ConnectorSection>>>(
            "connectors = [{ name = \"a\", kind = \"k\", principal = \"p\", extra = 1 }]",
        );
        assert!(unknown.unwrap_err().to_string().contains("extra"));
    }
}
