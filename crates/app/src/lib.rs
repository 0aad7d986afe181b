//! The application layer of mixplane: every use-case as a plain Rust API.
//!
//! An edge — the HTTP API in `server`, the `mixplane` CLI, and the connectors, agents and
//! dashboards to come — turns its input into a call of a use-case here and its answer into
//! its own output. The use-cases run over the [`store`] and the pure engines (`schedule`,
//! `quality`, `trace`, `govern`, `sim`): they read and write through the store (which audits
//! every write with the acting principal), call the engines, and answer with domain values or
//! one typed [`AppError`].
//!
//! - [`App`] holds what the use-cases share: the store, the governance settings (policy,
//!   sinks, pseudonymiser, id source), the genealogy index cache and the injected [`Clock`].
//! - The acting principal is [`govern::Principal`] (id, kind, role, scope); turning a bearer
//!   token into one is the edge's business.
//! - Modules by use-case: [`govern`] (proposals and sinks), [`quality`] (enforcement,
//!   holds, nonconformances, the release gate), [`trace`] (imports, genealogy queries),
//!   [`schedule`] (optimize, solve, check, explain, repair), [`scenario`] (what-ifs and their
//!   commit), [`events`] (ingest, the event log and the audit trail), [`principals`]
//!   (principals and tokens, touched only by callers they are within), [`plant`] (orders
//!   and work-center views), [`scope`] (which areas an object is in, and who reads or acts
//!   on it: the object-level rule every use-case applies),
//!   [`plan`] (schedule → simulator plan), [`agents`] (proposers that run in process),
//!   [`live_sim`] (the simulated plant running live into the store, fed back the dispatches
//!   the MES carries out), [`connectors`] (a connector's batch stored as its principal with
//!   its dead letters and cursor, and the status registry of the running connectors),
//!   [`tool_calls`] (the audit record of each tool call an agent makes through a tool door).
//!
//! Architecture invariant: this crate speaks no protocol. It depends on no edge (`server`,
//! axum, the binary) and reads the time only through [`Clock`]; engines stay pure below it.

pub mod access;
pub mod agents;
pub mod clock;
pub mod conditional;
pub mod connectors;
pub mod error;
pub mod events;
pub mod govern;
pub mod isa95;
pub mod kpis;
pub mod leader;
pub mod live_sim;
pub mod odata;
pub mod plan;
pub mod plant;
pub mod principals;
pub mod quality;
pub mod scenario;
pub mod schedule;
pub mod scope;
pub mod sessions;
pub mod tool_calls;
pub mod trace;

use std::sync::Arc;

pub use crate::clock::{Clock, FixedClock, IdSource, ProcessIds, SequentialIds, SystemClock};
pub use crate::error::AppError;
pub use crate::govern::{Governance, MesCommands, MesDelivery, SinkKind};

use model::Timestamp;

/// What every use-case can reach. Cheap to clone: everything is shared.
#[derive(Debug, Clone)]
pub struct App {
    pub store: Arc<store::Store>,
    /// Policy, sinks, the pseudonymiser and the proposal id source.
    pub governance: Arc<Governance>,
    /// The genealogy index, rebuilt when the store changed.
    pub trace_index: Arc<trace::IndexCache>,
    /// Where "now" comes from.
    pub clock: Arc<dyn Clock>,
    /// The runtime status of the service's connectors (empty when none run).
    pub connectors: Arc<connectors::Registry>,
    /// How strictly EPCIS documents are taken (strict unless configured lenient).
    pub epcis_validation: trace::EpcisValidation,
    /// The drifts a simulator injected into the plant this store follows, where known (the
    /// live plant's): the ground truth the rollout KPIs score detection against.
    known_drifts: Arc<std::sync::RwLock<Vec<::govern::kpis::KnownDrift>>>,
    /// Decoded alerts by filter, each under the audit seq it was read at
    /// (`quality::all_alerts`).
    alerts_read: Arc<quality::AlertsRead>,
}

impl App {
    /// The use-cases over `store` with the default governance and the system clock.
    pub fn new(store: Arc<store::Store>) -> App {
        App {
            store,
            governance: Arc::new(Governance::default()),
            trace_index: Arc::default(),
            clock: Arc::new(SystemClock),
            connectors: Arc::default(),
            epcis_validation: trace::EpcisValidation::default(),
            known_drifts: Arc::default(),
            alerts_read: Arc::new(quality::AlertsRead::new(quality::ALERT_READS_KEPT)),
        }
    }

    /// Records the drifts a simulator injected (shared by every clone of this `App`).
    pub fn know_drifts(&self, drifts: Vec<::govern::kpis::KnownDrift>) {
        let mut known = self
            .known_drifts
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *known = drifts;
    }

    /// The drifts recorded by [`App::know_drifts`].
    pub fn known_drifts(&self) -> Vec<::govern::kpis::KnownDrift> {
        self.known_drifts
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The same use-cases taking EPCIS documents as `validation` says.
    pub fn with_epcis_validation(mut self, validation: trace::EpcisValidation) -> App {
        self.epcis_validation = validation;
        self
    }

    /// The same use-cases with these governance settings (policy, sinks).
    pub fn with_governance(mut self, governance: Governance) -> App {
        self.governance = Arc::new(governance);
        self
    }

    /// The same use-cases reading the time from `clock`.
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> App {
        self.clock = Arc::new(clock);
        self
    }

    /// The current instant of the injected clock.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The plant hierarchy scopes are checked against, if a plant is loaded.
    pub async fn hierarchy(&self) -> Option<::govern::Hierarchy> {
        self.store
            .plant()
            .await
            .map(|catalog| ::govern::Hierarchy::from_plant(catalog.plant()))
    }

    /// The plant hierarchy, or [`AppError::NoPlant`].
    pub async fn plant_hierarchy(&self) -> Result<::govern::Hierarchy, AppError> {
        self.hierarchy().await.ok_or(AppError::NoPlant)
    }

    /// The loaded plant, or [`AppError::NoPlant`].
    pub async fn catalog(&self) -> Result<Arc<model::Catalog>, AppError> {
        self.store.plant().await.ok_or(AppError::NoPlant)
    }
}

/// Runs CPU-bound work (a solver, a checker) on the blocking pool, off the async runtime.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| AppError::Internal("the scheduler failed; see the server log".into()))?
}
