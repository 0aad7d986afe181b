//! OData v4: the change-feed source that reads an Opcenter-style MES (or any OData v4
//! server, e.g. SAP CAP) by modified time, and the command sink that writes approved
//! proposals to it as commands.
//!
//! - `config` — the connector's TOML table; secrets from the environment or a file.
//! - `http` — sign-in (OAuth password grant, refresh before expiry, afresh once on 401) and
//!   the mapping of HTTP answers to `PeerError`s.
//! - `cursor` — the change feed's position (modified time + `Id`) and its `$filter`.
//! - `profile` — `ProfileMapper`: rows mapped by `opcenter::map_row` against the store's state.
//! - `sink` — `OdataCommandSink`: `app`'s `mes` sink, change sets as MES commands.
//! - `source` — `ChangeReader` (pages of rows) and `OdataSource` (the runner's `Source`).
//!
//! Must not: store anything itself (the runner does, through `app`), or know Opcenter's
//! rows beyond `Id` and the modified time (the `opcenter` profile maps them).

pub mod config;
pub mod cursor;
pub mod http;
pub mod profile;
pub mod sink;
pub mod source;

pub use self::config::{AuthConfig, ConfigError, OdataConfig};
pub use self::cursor::Cursor;
pub use self::profile::ProfileMapper;
pub use self::sink::{MesSinkConfig, OdataCommandSink};
pub use self::source::{ChangeReader, OdataSource, Page, RowMapper, Unmapped};

/// The kind's name in `[[connectors]]`.
pub const KIND: &str = "odata";

/// The `odata` kind's factory: an [`OdataSource`] of the entry's [`OdataConfig`] settings,
/// mapping rows with the `opcenter` profile against `app`'s store.
pub fn factory(
    app: app::App,
) -> impl Fn(&crate::ConnectorSpec) -> Result<crate::AnySource, crate::ConnectError>
+ Send
+ Sync
+ 'static {
    move |spec| {
        let config: OdataConfig = spec.settings()?;
        if opcenter::EntitySet::find(&config.app, &config.entity_set).is_none() {
            return Err(crate::ConnectError::Settings {
                connector: spec.name.clone(),
                message: format!(
                    "the opcenter profile has no entity set `{}` in app `{}`",
                    config.entity_set, config.app
                ),
            });
        }
        let source = OdataSource::new(&spec.name, config, ProfileMapper::new(app.clone()))
            .map_err(|e| crate::ConnectError::Settings {
                connector: spec.name.clone(),
                message: e.to_string(),
            })?;
        Ok(crate::AnySource(Box::new(source)))
    }
}
