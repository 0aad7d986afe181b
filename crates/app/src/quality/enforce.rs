//! Enforcement: every quality result logged since the enforcer's cursor is fed through
//! `quality::enforce::Enforcer` under the enterprise policy, and the alerts and
//! nonconformances it decides are stored with the enforcer's state in one audited write. The
//! holds it decides are not placed here: the quality agent proposes them through governance
//! ([`super::hold_agent`]), and they are placed when a proposal applies.
//!
//! The genealogy the enforcer follows (which order made and consumed which lot or serial) is
//! read from the folded plant state ([`StateGenealogy`]).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use model::{Event, EventKind, PlantState, Timestamp};
use quality::enforce::{
    CharacteristicSpec, Enforcer, EnforcerState, Genealogy, ItemKind, ItemRef, ResultInput,
};
use quality::nc::Nonconformance;
use quality::policy::{Mode, QualityPolicy};
use store::{Actor, EnforceRun, NcTransition, NewAlert, NewNc, QualityWrite, Store, StoreError};

use super::hold_agent::{self, Decided};
use crate::App;

/// The principal of quality writes the policy makes.
pub fn enforcer_actor() -> Actor {
    Actor::service(format!("quality-enforcer/{}", env!("CARGO_PKG_VERSION")))
}

/// `kind:id` of an actor, as the nonconformance history names who did what.
pub fn principal(actor: &Actor) -> String {
    format!("{}:{}", actor.kind.as_str(), actor.id)
}

/// The characteristics of the plant's inspection plans, each with the mode of the routing
/// that makes the inspected material.
pub fn characteristic_specs(plant: &model::Plant) -> Vec<CharacteristicSpec> {
    let mut specs = Vec::new();
    for plan in &plant.inspection_plans {
        let mode = plant
            .routings
            .iter()
            .find(|r| r.product == plan.material)
            .map_or(Mode::Process, |r| match r.mode {
                model::Mode::Discrete => Mode::Discrete,
                model::Mode::Process => Mode::Process,
                model::Mode::Repetitive => Mode::Repetitive,
            });
        for c in &plan.characteristics {
            let chart = serde_json::to_value(c.chart)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            specs.push(CharacteristicSpec {
                id: c.id.to_string(),
                mode,
                chart,
                subgroup_size: c.subgroup_size as usize,
                lsl: c.lsl,
                usl: c.usl,
            });
        }
    }
    specs
}

/// Genealogy over the folded plant state: which order made and consumed which lot or serial.
pub struct StateGenealogy<'a> {
    state: &'a PlantState,
    consumed: BTreeMap<&'a str, Vec<ItemRef>>,
    produced: BTreeMap<&'a str, Vec<ItemRef>>,
}

impl<'a> StateGenealogy<'a> {
    pub fn new(state: &'a PlantState) -> StateGenealogy<'a> {
        let mut consumed: BTreeMap<&str, Vec<ItemRef>> = BTreeMap::new();
        let mut produced: BTreeMap<&str, Vec<ItemRef>> = BTreeMap::new();
        for (id, lot) in &state.lots {
            for order in &lot.consumed_by {
                consumed
                    .entry(order.as_str())
                    .or_default()
                    .push(ItemRef::lot(id.as_str()));
            }
            if let Some(order) = &lot.produced_by {
                produced
                    .entry(order.as_str())
                    .or_default()
                    .push(ItemRef::lot(id.as_str()));
            }
        }
        for (id, serial) in &state.serials {
            if let Some(order) = &serial.consumed_by {
                consumed
                    .entry(order.as_str())
                    .or_default()
                    .push(ItemRef::serial(id.as_str()));
            }
            if let Some(order) = &serial.produced_by {
                produced
                    .entry(order.as_str())
                    .or_default()
                    .push(ItemRef::serial(id.as_str()));
            }
        }
        StateGenealogy {
            state,
            consumed,
            produced,
        }
    }

    /// The order that made an item (an order is its own).
    pub fn producer(&self, item: &ItemRef) -> Option<String> {
        match item.kind {
            ItemKind::Order => Some(item.id.clone()),
            ItemKind::Lot => self
                .state
                .lots
                .get(&item.id.as_str().into())
                .and_then(|l| l.produced_by.as_ref())
                .map(ToString::to_string),
            ItemKind::Serial => self
                .state
                .serials
                .get(&item.id.as_str().into())
                .and_then(|s| s.produced_by.as_ref())
                .map(ToString::to_string),
        }
    }

    pub fn consumers(&self, item: &ItemRef) -> Vec<String> {
        match item.kind {
            ItemKind::Order => vec![item.id.clone()],
            ItemKind::Lot => self
                .state
                .lots
                .get(&item.id.as_str().into())
                .map(|l| l.consumed_by.iter().map(ToString::to_string).collect())
                .unwrap_or_default(),
            ItemKind::Serial => self
                .state
                .serials
                .get(&item.id.as_str().into())
                .and_then(|s| s.consumed_by.as_ref())
                .map(|o| vec![o.to_string()])
                .unwrap_or_default(),
        }
    }
}

impl Genealogy for StateGenealogy<'_> {
    fn upstream(&self, item: &ItemRef) -> Vec<ItemRef> {
        self.producer(item)
            .and_then(|o| self.consumed.get(o.as_str()).cloned())
            .unwrap_or_default()
    }

    fn downstream(&self, item: &ItemRef) -> Vec<ItemRef> {
        if item.kind == ItemKind::Order {
            return self
                .produced
                .get(item.id.as_str())
                .cloned()
                .unwrap_or_default();
        }
        self.consumers(item)
            .iter()
            .flat_map(|o| self.produced.get(o.as_str()).cloned().unwrap_or_default())
            .collect()
    }
}

pub fn result_input(event: &Event) -> Option<ResultInput> {
    let EventKind::QualityResultRecorded {
        characteristic,
        value,
        sample,
        sample_size,
        order,
        lot,
        serial,
        ..
    } = &event.kind
    else {
        return None;
    };
    Some(ResultInput {
        event_id: event.id.to_string(),
        at: event.time.0,
        characteristic: characteristic.to_string(),
        value: *value,
        sample: *sample,
        sample_size: *sample_size,
        order: order.as_ref().map(ToString::to_string),
        lot: lot.as_ref().map(ToString::to_string),
        serial: serial.as_ref().map(ToString::to_string),
    })
}

/// Serialises enforcement runs with the proposals they make.
static RUNNING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// [`enforce_app`] for a caller holding only a store (the CLI): the holds are proposed under
/// the default governance (the shipped policy, process ids, the system clock). A server runs
/// [`enforce_app`] with its own.
pub async fn enforce(store: &Store) -> Result<Option<EnforceRun>, StoreError> {
    enforce_app(&App::new(Arc::new(store.clone()))).await
}

/// Judges every quality result logged since the enforcer's cursor under the enterprise
/// policy, stores the alerts and NCs decided, and has the quality agent propose the holds
/// decided (none when nothing is new). `holds` of the answer counts the items held by
/// proposals that applied by themselves, `hold_proposals` the proposals made.
pub async fn enforce_app(app: &App) -> Result<Option<EnforceRun>, StoreError> {
    // One run and its proposals at a time: a reader catching up waits until the holds of a
    // run in progress are proposed (or placed), so the release gate never sees the alert
    // without them.
    let _running = RUNNING.lock().await;
    // Nothing new to judge (the common case of a read catching up): no write transaction,
    // which would take the database's write lock and queue behind ingest. Asked under
    // `RUNNING`, so a reader still waits for a run in progress to propose its holds.
    if !app.store.quality_pending().await? {
        return Ok(None);
    }
    let decided = Arc::new(Mutex::new(Decided::default()));
    let Some(mut run) = judge(&app.store, decided.clone()).await? else {
        return Ok(None);
    };
    let decided = std::mem::take(&mut *decided.lock().unwrap_or_else(|e| e.into_inner()));
    let made = hold_agent::propose_holds(app, decided).await?;
    run.hold_proposals = made.proposals;
    run.holds = made.held;
    Ok(Some(run))
}

/// Runs the enforcer and stores its alerts, NCs and state; the holds it decides (with their
/// alerts) are left in `decided`.
async fn judge(
    store: &Store,
    decided: Arc<Mutex<Decided>>,
) -> Result<Option<EnforceRun>, StoreError> {
    if store.plant().await.is_none() {
        return Ok(None);
    }
    let actor = enforcer_actor();
    let by = principal(&actor);
    store
        .enforce_quality(&actor, move |batch| {
            let policy = QualityPolicy::enterprise_default();
            let catalog = batch
                .snapshot
                .catalog
                .clone()
                .ok_or_else(|| "no plant is loaded".to_string())?;
            let specs = characteristic_specs(catalog.plant());
            let state: EnforcerState = match &batch.previous_state {
                Some(text) => serde_json::from_str(text)
                    .map_err(|e| format!("saved enforcer state does not decode: {e}"))?,
                None => EnforcerState::default(),
            };
            let mut enforcer = Enforcer::resume(policy, specs, state);
            let inputs: Vec<ResultInput> = batch
                .results
                .iter()
                .filter_map(|e| result_input(&e.event))
                .collect();
            let genealogy = StateGenealogy::new(&batch.snapshot.state);
            let outcome = enforcer.feed(&inputs, &genealogy);
            let alerts = outcome
                .alerts
                .iter()
                .map(|a| NewAlert {
                    id: a.id.clone(),
                    characteristic: a.characteristic.clone(),
                    severity: a.severity.name().to_owned(),
                    phase: a.phase,
                    at: Timestamp(a.at),
                    body: serde_json::to_value(a).unwrap_or_default(),
                })
                .collect();
            let holding: BTreeSet<&str> =
                outcome.holds.iter().map(|h| h.alert_id.as_str()).collect();
            *decided.lock().unwrap_or_else(|e| e.into_inner()) = Decided {
                alerts: outcome
                    .alerts
                    .iter()
                    .filter(|a| holding.contains(a.id.as_str()))
                    .cloned()
                    .collect(),
                holds: outcome.holds.clone(),
            };
            let mut nonconformances = Vec::new();
            for nc in &outcome.nonconformances {
                let opened =
                    Nonconformance::open(&nc.id, &nc.description, nc.items.clone(), &by, nc.at)
                        .map_err(|e| e.to_string())?;
                nonconformances.push(NewNc {
                    id: nc.id.clone(),
                    state: opened.state.name().to_owned(),
                    characteristic: Some(nc.characteristic.clone()),
                    alert_id: Some(nc.alert_id.clone()),
                    items: nc.items.clone(),
                    at: Timestamp(nc.at),
                    transitions: transitions(&opened, 0),
                    body: serde_json::to_value(&opened).unwrap_or_default(),
                });
            }
            Ok(QualityWrite {
                state: serde_json::to_string(enforcer.state()).map_err(|e| e.to_string())?,
                policy_version: enforcer.policy().version.clone(),
                alerts,
                holds: Vec::new(),
                nonconformances,
            })
        })
        .await
}

/// History entries of `nc` from index `from` on, as the store keeps them.
pub fn transitions(nc: &Nonconformance, from: usize) -> Vec<NcTransition> {
    nc.history
        .iter()
        .skip(from)
        .map(|r| NcTransition {
            action: r.action.clone(),
            from: r.from.name().to_owned(),
            to: r.to.name().to_owned(),
            by: r.by.clone(),
            at: Timestamp(r.at),
            detail: r.detail.clone(),
        })
        .collect()
}
