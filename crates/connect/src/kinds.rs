//! Connector kinds by name: what a `[[connectors]]` entry of the configuration becomes.
//!
//! A kind is a name (`jsonl`, `odata`) and a factory that builds a [`Source`] from the
//! entry's [`ConnectorSpec`] (its own settings are the `settings` table, with secrets already
//! resolved by the binary, which alone reads the environment and files named in the
//! configuration). [`Kinds::builtin`] lists the kinds this crate ships; a new kind is one
//! module with a `Source` and one line there.
//!
//! [`Source`] returns `impl Future`, so it is not object-safe; [`DynSource`] is its boxed
//! twin, implemented for every source, so the service can hold connectors of several kinds.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::source::{Batch, PeerError, Source};

/// One configured connector.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectorSpec {
    /// Unique among the connectors (`mes-discrete`).
    pub name: String,
    /// Which factory builds it (`jsonl`).
    pub kind: String,
    /// The principal whose scope and audit it stores under (must exist in the store).
    pub principal: String,
    /// How long to wait after a poll that found nothing more.
    pub poll_interval: Duration,
    /// The kind's own settings (the configuration's `settings` table as JSON).
    pub settings: serde_json::Value,
}

impl ConnectorSpec {
    /// The settings read as a kind's own type; an error names the connector and the field.
    pub fn settings<T: DeserializeOwned>(&self) -> Result<T, ConnectError> {
        serde_json::from_value(self.settings.clone()).map_err(|e| ConnectError::Settings {
            connector: self.name.clone(),
            message: e.to_string(),
        })
    }
}

/// Why connectors cannot be built or started.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("connector `{connector}`: kind `{kind}` is not known (known kinds: {known})")]
    UnknownKind {
        connector: String,
        kind: String,
        known: String,
    },
    #[error("connector `{connector}`: its settings do not read: {message}")]
    Settings { connector: String, message: String },
    #[error("two connectors are named `{0}`; names must be unique")]
    DuplicateName(String),
    #[error("connector `{connector}`: principal `{principal}` does not exist in the store")]
    NoPrincipal {
        connector: String,
        principal: String,
    },
    #[error("connector `{connector}`: {source}")]
    App {
        connector: String,
        #[source]
        source: Box<app::AppError>,
    },
    #[error("reading the connectors' dead letters: {0}")]
    Store(#[source] Box<store::StoreError>),
}

/// A boxed future, for [`DynSource`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// [`Source`] behind a pointer: what the service holds.
pub trait DynSource: Send {
    fn name(&self) -> &str;
    fn poll_boxed<'a>(
        &'a mut self,
        cursor: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Batch, PeerError>>;
    fn check_boxed(&mut self) -> BoxFuture<'_, Result<(), PeerError>>;
    fn acknowledge_boxed(&mut self) -> BoxFuture<'_, Result<(), PeerError>>;
    fn close_boxed(&mut self) -> BoxFuture<'_, ()>;
}

impl<S: Source> DynSource for S {
    fn name(&self) -> &str {
        Source::name(self)
    }

    fn poll_boxed<'a>(
        &'a mut self,
        cursor: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Batch, PeerError>> {
        Box::pin(self.poll(cursor))
    }

    fn check_boxed(&mut self) -> BoxFuture<'_, Result<(), PeerError>> {
        Box::pin(self.check())
    }

    fn acknowledge_boxed(&mut self) -> BoxFuture<'_, Result<(), PeerError>> {
        Box::pin(self.acknowledge())
    }

    fn close_boxed(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(self.close())
    }
}

/// A connector of any kind.
pub struct AnySource(pub Box<dyn DynSource>);

impl Source for AnySource {
    fn name(&self) -> &str {
        self.0.name()
    }

    async fn poll(&mut self, cursor: Option<&str>) -> Result<Batch, PeerError> {
        self.0.poll_boxed(cursor).await
    }

    async fn check(&mut self) -> Result<(), PeerError> {
        self.0.check_boxed().await
    }

    async fn acknowledge(&mut self) -> Result<(), PeerError> {
        self.0.acknowledge_boxed().await
    }

    async fn close(&mut self) {
        self.0.close_boxed().await
    }
}

/// Builds a kind's source from a spec. A closure, so a kind may hold what it needs beyond
/// the spec (the OData source maps rows against the store's state: it holds the `App`).
pub type Factory =
    std::sync::Arc<dyn Fn(&ConnectorSpec) -> Result<AnySource, ConnectError> + Send + Sync>;

/// The kinds a service can build, by name.
#[derive(Clone)]
pub struct Kinds {
    factories: BTreeMap<&'static str, Factory>,
}

impl std::fmt::Debug for Kinds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kinds")
            .field("kinds", &self.names())
            .finish()
    }
}

impl Kinds {
    /// No kind at all.
    pub fn empty() -> Kinds {
        Kinds {
            factories: BTreeMap::new(),
        }
    }

    /// The kinds this crate ships.
    pub fn builtin() -> Kinds {
        let kinds = Kinds::empty()
            .with(crate::jsonl::KIND, crate::jsonl::factory)
            .with(crate::mqtt::KIND, crate::mqtt::factory);
        #[cfg(feature = "nats")]
        let kinds = kinds.with(crate::nats::KIND, crate::nats::factory);
        #[cfg(feature = "opcua")]
        let kinds = kinds.with(crate::opcua::KIND, crate::opcua::factory);
        kinds
    }

    /// The kinds this crate ships and those that need the application: `odata` (its rows
    /// are mapped against the store's state).
    pub fn for_app(app: &app::App) -> Kinds {
        Kinds::builtin().with(crate::odata::KIND, crate::odata::factory(app.clone()))
    }

    /// These kinds and `kind`, built by `factory` (replacing a kind of that name).
    pub fn with(
        mut self,
        kind: &'static str,
        factory: impl Fn(&ConnectorSpec) -> Result<AnySource, ConnectError> + Send + Sync + 'static,
    ) -> Kinds {
        self.factories.insert(kind, std::sync::Arc::new(factory));
        self
    }

    /// The kinds' names, sorted.
    pub fn names(&self) -> Vec<&'static str> {
        self.factories.keys().copied().collect()
    }

    /// Builds the source a spec describes.
    pub fn build(&self, spec: &ConnectorSpec) -> Result<AnySource, ConnectError> {
        let factory =
            self.factories
                .get(spec.kind.as_str())
                .ok_or_else(|| ConnectError::UnknownKind {
                    connector: spec.name.clone(),
                    kind: spec.kind.clone(),
                    known: self.names().join(", "),
                })?;
        factory(spec)
    }
}
