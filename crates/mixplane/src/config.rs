//! Configuration in two stages: a TOML file gives raw values, command-line flags override
//! them, and [`Settings`] is the resolved result.
//!
//! Precedence, highest first: flag, environment (`MIXPLANE_DATA_DIR`, `MIXPLANE_BIND`,
//! `MIXPLANE_LOG`, `MIXPLANE_LOG_FORMAT` — read by clap as the flags' `env`, so `--help`
//! names them), config file, built-in default.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

/// The config file as written; every field optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub data_dir: Option<PathBuf>,
    /// The store's database URL (`postgres://…`); the data directory's SQLite file otherwise.
    pub database: Option<String>,
    #[serde(default)]
    pub server: ServerSection,
    #[serde(default)]
    pub log: LogSection,
    /// The live agents (`[agents]`): see `app::agents::live::AgentSettings`.
    #[serde(default)]
    pub agents: app::agents::live::AgentSettings,
    /// The connectors `serve` runs (`[[connectors]]`): see `crate::connector_config`.
    #[serde(default)]
    pub connectors: Vec<crate::connector_config::ConnectorSection>,
    /// Where approved changes go (`[governance]`): see [`GovernanceSection`].
    #[serde(default)]
    pub governance: GovernanceSection,
    /// Genealogy documents (`[trace]`): see [`TraceSection`].
    #[serde(default)]
    pub trace: TraceSection,
}

/// `[trace]`: how strictly EPCIS documents are taken at capture and import.
///
/// ```toml
/// [trace]
/// epcis = "lenient"    # strict (default): refuse what a conformant capture interface refuses
/// ```
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceSection {
    pub epcis: Option<app::trace::EpcisValidation>,
}

/// `[governance]`: the default sink, and the external MES of the `mes` sink.
///
/// ```toml
/// [governance]
/// sink = "mes"                          # mes-sim (default), file or mes
/// [governance.mes]                      # connect::odata::MesSinkConfig
/// base_url = "http://127.0.0.1:8700"
/// [governance.mes.auth]
/// kind = "password"
/// username = "mixplane"
/// password_env = "MES_PASSWORD"         # → `password`, as for connectors
/// client_id = "mixplane-connector"
/// client_secret_file = "/run/secrets/mes-client"
/// ```
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GovernanceSection {
    pub sink: Option<String>,
    pub mes: Option<toml::Table>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    pub bind: Option<String>,
    /// Resource bounds (`[server.limits]`): connections, timeouts, body and batch sizes,
    /// token verifications; each key optional, see `server::limits::Limits`.
    #[serde(default)]
    pub limits: server::limits::Limits,
    /// HTTPS (`[server.tls]`: `cert_file`, `key_file`, PEM), with the `tls` feature.
    pub tls: Option<TlsFiles>,
}

/// The PEM files of `[server.tls]`: the certificate chain (leaf first) and its private key.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFiles {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSection {
    pub level: Option<String>,
    /// `text` (default) or `json` (one JSON object a line).
    pub format: Option<String>,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Human-readable lines, coloured only when stderr is a terminal.
    Text,
    /// One JSON object a line, for log collectors.
    Json,
}

model::wire_enum!(LogFormat, "log format", [Text, Json]);

/// How much is logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl From<LogLevel> for tracing::Level {
    fn from(level: LogLevel) -> tracing::Level {
        match level {
            LogLevel::Error => tracing::Level::ERROR,
            LogLevel::Warn => tracing::Level::WARN,
            LogLevel::Info => tracing::Level::INFO,
            LogLevel::Debug => tracing::Level::DEBUG,
            LogLevel::Trace => tracing::Level::TRACE,
        }
    }
}

/// Resolved settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub data_dir: PathBuf,
    /// The store's database URL, when it is not the data directory's SQLite file.
    pub database: Option<String>,
    pub bind: String,
    pub log_level: tracing::Level,
    pub log_format: LogFormat,
    /// The server's resource bounds, from the file's `[server.limits]` (defaults otherwise).
    pub limits: server::limits::Limits,
    /// HTTPS, from the file's `[server.tls]`; plain HTTP without it.
    pub tls: Option<TlsFiles>,
    /// The live agents' settings, from the file's `[agents]` (defaults otherwise).
    pub agents: app::agents::live::AgentSettings,
    /// The connectors, from the file's `[[connectors]]`, secrets resolved.
    pub connectors: Vec<connect::ConnectorSpec>,
    /// The default sink, from `[governance] sink` (`mes-sim` otherwise).
    pub default_sink: app::SinkKind,
    /// The `mes` sink's MES, from `[governance.mes]`, secrets resolved.
    pub mes: Option<connect::odata::MesSinkConfig>,
    /// How strictly EPCIS documents are taken, from `[trace] epcis` (strict otherwise).
    pub epcis_validation: app::trace::EpcisValidation,
}

impl Settings {
    /// Where the store is: `database` when set, else the data directory's SQLite file.
    pub fn store_at(&self) -> crate::commands::StoreAt<'_> {
        crate::commands::StoreAt {
            data_dir: &self.data_dir,
            database: self.database.as_deref(),
        }
    }
}

pub const DEFAULT_DATA_DIR: &str = "./mixplane-data";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

impl FileConfig {
    pub fn load(path: &Path) -> anyhow::Result<FileConfig> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("config file {}", path.display()))
    }
}

/// Resolves settings from the flags of `data` (their environment variables included, read
/// by clap), the config file they name and `bind_flag`.
pub fn resolve(data: &crate::DataArgs, bind_flag: Option<String>) -> anyhow::Result<Settings> {
    let config = match data.config.as_deref() {
        Some(path) => FileConfig::load(path)?,
        None => FileConfig::default(),
    };
    let data_dir = data
        .data_dir
        .clone()
        .or(config.data_dir)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
    let database = data.database.clone().or(config.database);
    let bind = bind_flag
        .or(config.server.bind)
        .unwrap_or_else(|| DEFAULT_BIND.to_owned());
    let log_level = match data.log_level {
        Some(level) => level.into(),
        None => {
            let text = config.log.level.unwrap_or_else(|| "info".to_owned());
            text.parse().map_err(|_| {
                anyhow::anyhow!(
                    "config [log] level `{text}` is not one of error, warn, info, debug, trace"
                )
            })?
        }
    };
    let log_format = match data.log_format {
        Some(format) => format,
        None => config
            .log
            .format
            .as_deref()
            .unwrap_or("text")
            .parse::<LogFormat>()?,
    };
    let limits = config.server.limits;
    limits.validate()?;
    let tls = config.server.tls;
    let agents = config.agents;
    agents
        .validate()
        .map_err(|e| anyhow::anyhow!("config: {e}"))?;
    let connectors = crate::connector_config::resolve(
        &config.connectors,
        &crate::connector_config::ProcessSecrets,
    )?;
    let default_sink = match config.governance.sink.as_deref() {
        None => app::SinkKind::MesSim,
        Some(name) => name
            .parse::<app::SinkKind>()
            .map_err(|e| anyhow::anyhow!("config [governance] sink: {e}"))?,
    };
    let mes = match &config.governance.mes {
        None => None,
        Some(table) => {
            let resolved = crate::connector_config::resolve_secrets(
                "[governance.mes]",
                table,
                &crate::connector_config::ProcessSecrets,
            )?;
            Some(
                toml::Value::Table(resolved)
                    .try_into::<connect::odata::MesSinkConfig>()
                    .context("config [governance.mes]")?,
            )
        }
    };
    if default_sink == app::SinkKind::Mes && mes.is_none() {
        anyhow::bail!("config [governance] sink = \"mes\" needs a [governance.mes] section");
    }
    Ok(Settings {
        data_dir,
        database,
        bind,
        log_level,
        log_format,
        limits,
        tls,
        agents,
        connectors,
        default_sink,
        mes,
        epcis_validation: config.trace.epcis.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_values_are_read_and_unknown_keys_rejected() {
        let config: FileConfig =
            toml::from_str("data_dir = \"/tmp/x\"\n[server]\nbind = \"0.0.0.0:9\"\n").unwrap();
        assert_eq!(config.data_dir.as_deref(), Some(Path::new("/tmp/x")));
        assert_eq!(config.server.bind.as_deref(), Some("0.0.0.0:9"));
        let error = toml::from_str::<FileConfig>("[server]\nport = 1\n").unwrap_err();
        assert!(error.to_string().contains("port"), "{error}");
        let config: FileConfig = toml::from_str(
            "[server.limits]\nmax_connections = 64\nheader_read_timeout_seconds = 5\n",
        )
        .unwrap();
        assert_eq!(config.server.limits.max_connections, 64);
        assert_eq!(config.server.limits.header_read_timeout_seconds, 5);
        assert_eq!(
            config.server.limits.max_events_per_batch,
            server::limits::Limits::default().max_events_per_batch
        );
        let error =
            toml::from_str::<FileConfig>("[server.limits]\nmax_conections = 1\n").unwrap_err();
        assert!(error.to_string().contains("max_conections"), "{error}");
        let config: FileConfig = toml::from_str("[log]\nformat = \"json\"\n").unwrap();
        assert_eq!(config.log.format.as_deref(), Some("json"));
        assert_eq!("json".parse::<LogFormat>().unwrap(), LogFormat::Json);
        assert_eq!(
            "xml".parse::<LogFormat>().unwrap_err().to_string(),
            "unknown log format `xml` (expected text or json)"
        );
    }

    #[test]
    fn the_governance_section_names_the_default_sink_and_the_mes() {
        let config: FileConfig = toml::from_str(
            "[governance]\nsink = \"mes\"\n[governance.mes]\nbase_url = \"http://127.0.0.1:8700\"\n",
        )
        .unwrap();
        assert_eq!(config.governance.sink.as_deref(), Some("mes"));
        let table = config.governance.mes.unwrap();
        let mes: connect::odata::MesSinkConfig = toml::Value::Table(table).try_into().unwrap();
        assert_eq!(mes.base_url, "http://127.0.0.1:8700");
        assert_eq!(mes.attempts, 3);
        assert!(toml::from_str::<FileConfig>("[governance]\nsinks = \"mes\"\n").is_err());
    }

    #[test]
    fn the_agents_section_is_read_checked_and_refuses_unknown_keys() {
        let config: FileConfig =
            toml::from_str("[agents]\nenabled = false\nquiet_ms = 100\nscope = \"area:A-PROC\"\n")
                .unwrap();
        assert!(!config.agents.enabled);
        assert_eq!(config.agents.quiet_ms, 100);
        assert_eq!(config.agents.scope.to_string(), "area:A-PROC");
        let error = toml::from_str::<FileConfig>("[agents]\nquiet = 1\n").unwrap_err();
        assert!(error.to_string().contains("quiet"), "{error}");
        let error = toml::from_str::<FileConfig>("[agents]\nscope = \"everything\"\n").unwrap_err();
        assert!(error.to_string().contains("everything"), "{error}");
        let config: FileConfig = toml::from_str("[agents]\nrepair_iterations = 0\n").unwrap();
        assert_eq!(
            config.agents.validate().unwrap_err(),
            "agents.repair_iterations: must be at least 1"
        );
    }

    #[test]
    fn flags_override_the_file() {
        let dir = std::env::temp_dir().join(format!("mixplane-config-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("mixplane.toml");
        std::fs::write(&path, "data_dir = \"/from/file\"\n[server]\nbind = \"127.0.0.1:1\"\n[log]\nlevel = \"debug\"\n").unwrap();
        let mut data = crate::DataArgs {
            data_dir: Some(PathBuf::from("/from/flag")),
            database: None,
            config: Some(path.clone()),
            log_level: None,
            log_format: None,
        };
        let settings = resolve(&data, None).unwrap();
        assert_eq!(settings.data_dir, PathBuf::from("/from/flag"));
        assert_eq!(settings.bind, "127.0.0.1:1");
        assert_eq!(settings.log_level, tracing::Level::DEBUG);
        data.log_level = Some(LogLevel::Warn);
        data.data_dir = None;
        let settings = resolve(&data, Some("127.0.0.1:2".into())).unwrap();
        assert_eq!(settings.data_dir, PathBuf::from("/from/file"));
        assert_eq!(settings.bind, "127.0.0.1:2");
        assert_eq!(settings.log_level, tracing::Level::WARN);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
