//! The quality agent: the holds the enforcer decides become `quality_hold` proposals, made
//! through governance like anyone else's.
//!
//! After an enforcement run has stored its alerts and nonconformances, every alert whose
//! reaction holds items becomes one proposal by the agent principal [`agent`]
//! (`mixplane-quality`, kind and role `agent`, scope all), one per alert with all its items:
//! each item a `hold` change (`lot`, `serial` or `order`; `before` `null`, `after` a
//! [`HoldValue`] with the reason, severity, alert and genealogy link), with evidence naming
//! the engine (`quality-enforcer` and the crate version), the alert as trigger
//! ([`Trigger::QualityAlert`]: rules, point, limits, results, and each item's genealogy path)
//! and KPIs (items and quantity held). `crate::govern::submit` assesses the diff against the
//! store (the items' real areas, whether they are on hold), so the gate is the policy's for
//! those areas: `closed_loop` places the holds at once (`crate::govern` applies a
//! `quality_hold` by placing its holds in the quality store), `copilot` waits for an
//! approver, and meanwhile [`pending_holds`] lets the release gate refuse the item.
//!
//! Idempotent: an item already on hold, or in a hold proposal of the agent still waiting
//! (proposed, or approved and not applied), is not proposed again; an alert left with nothing
//! to hold makes no proposal. Items the plant state does not know (a result naming a lot never
//! produced, received or booked here) cannot be held through governance: they are named in
//! the finding, logged, and the alert's nonconformance still blocks them at the release gate.
//!
//! The enforcement run and its proposals are two writes: a crash in between leaves the run's
//! alerts and nonconformances stored and its holds unproposed (its nonconformances name the
//! items, so the release gate still blocks them).

use std::collections::{BTreeMap, BTreeSet};

use govern::{
    ActionKind, AlertFinding, Change, ControlLimits, Entity, Evidence, Field, HeldItem, HoldValue,
    Principal, PrincipalKind, ProposalDraft, Role, Scope, Status, Trigger,
};
use model::{PlantState, Timestamp};
use quality::enforce::{Alert, Genealogy, HoldAction, ItemKind, ItemRef};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use store::{ProposalFilter, StoreError};

use super::StateGenealogy;
use crate::{App, AppError};

/// The agent's principal id.
pub const AGENT: &str = "mixplane-quality";

/// The engine its evidence names (with [`ENGINE_VERSION`]).
pub const ENGINE: &str = "quality-enforcer";

/// The version of the engine.
pub const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The quality agent: proposes holds everywhere, approves nothing.
pub fn agent() -> Principal {
    Principal::new(AGENT, PrincipalKind::Agent, Role::Agent, Scope::All)
}

/// What one enforcement run decided to hold, with the alerts that decided it.
#[derive(Debug, Default)]
pub(crate) struct Decided {
    pub alerts: Vec<Alert>,
    pub holds: Vec<HoldAction>,
}

/// What [`propose_holds`] did.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Made {
    /// Proposals stored.
    pub proposals: usize,
    /// Items held by the proposals that applied by themselves.
    pub held: usize,
}

fn entity(kind: ItemKind) -> Entity {
    match kind {
        ItemKind::Lot => Entity::Lot,
        ItemKind::Serial => Entity::Serial,
        ItemKind::Order => Entity::Order,
    }
}

fn known(state: &PlantState, item: &ItemRef) -> bool {
    match item.kind {
        ItemKind::Lot => state.lots.contains_key(&item.id.as_str().into()),
        ItemKind::Serial => state.serials.contains_key(&item.id.as_str().into()),
        ItemKind::Order => state.orders.contains_key(&item.id.as_str().into()),
    }
}

/// The genealogy from a measured item of `alert` to `hold`'s item, as `kind:ID` steps.
fn path(genealogy: &StateGenealogy<'_>, alert: &Alert, hold: &HoldAction) -> Vec<String> {
    let target = &hold.item;
    let link = serde_json::to_value(hold.link).unwrap_or_default();
    let mut found: Option<Vec<ItemRef>> = None;
    for measured in &alert.items {
        if found.is_some() {
            break;
        }
        if measured == target {
            found = Some(vec![target.clone()]);
        } else if link == "upstream" && genealogy.upstream(measured).contains(target) {
            let via = genealogy.producer(measured).map(ItemRef::order);
            found = Some(
                std::iter::once(measured.clone())
                    .chain(via)
                    .chain([target.clone()])
                    .collect(),
            );
        } else if link == "downstream" {
            found = genealogy.consumers(measured).into_iter().find_map(|order| {
                let order = ItemRef::order(order);
                genealogy
                    .downstream(&order)
                    .contains(target)
                    .then(|| vec![measured.clone(), order, target.clone()])
            });
        }
    }
    let mut steps = found.unwrap_or_else(|| vec![target.clone()]);
    steps.dedup();
    steps.iter().map(ItemRef::key).collect()
}

/// Items (`kind:ID`) that quality_hold proposals waiting for a decision or an application
/// would hold, each with its proposal's id and status; only the agent's when `agent_only`.
/// Expired proposals wait for nothing and are left out.
pub(crate) async fn pending_holds(
    app: &App,
    agent_only: bool,
) -> Result<BTreeMap<String, (String, Status)>, StoreError> {
    let now = app.now();
    let mut pending = BTreeMap::new();
    for status in [Status::Proposed, Status::Approved] {
        let mut offset = 0;
        loop {
            let page = app
                .store
                .proposals(&ProposalFilter {
                    status: Some(status),
                    kind: Some(ActionKind::QualityHold),
                    limit: store::MAX_PAGE,
                    offset,
                    ..ProposalFilter::default()
                })
                .await?;
            let read = page.items.len();
            for mut proposal in page.items {
                let mine = proposal.proposed_by == AGENT
                    && proposal.proposed_by_kind == PrincipalKind::Agent;
                if proposal.expire_if_due(now) || (agent_only && !mine) {
                    continue;
                }
                for change in &proposal.diff {
                    if change.field == Field::Hold && !change.after.is_null() {
                        let key = format!("{}:{}", change.entity, change.id);
                        pending
                            .entry(key)
                            .or_insert_with(|| (proposal.id.clone(), proposal.status));
                    }
                }
            }
            offset += read as u32;
            if read == 0 || u64::from(offset) >= page.total {
                break;
            }
        }
    }
    Ok(pending)
}

/// The areas of the items a diff holds, as the plant says; the first is the draft's area.
fn first_area(app_catalog: &model::Catalog, state: &PlantState, diff: &[Change]) -> Option<String> {
    use govern::Facts as _;
    let facts = govern::PlantView {
        catalog: app_catalog,
        state,
    };
    diff.iter()
        .filter_map(|c| match c.entity {
            Entity::Lot => facts.lot_areas(&c.id),
            Entity::Serial => facts.serial_areas(&c.id),
            _ => facts.order(&c.id).map(|o| o.areas),
        })
        .flatten()
        .next()
}

/// Proposes the holds of one enforcement run (see the module docs).
pub(crate) async fn propose_holds(app: &App, decided: Decided) -> Result<Made, StoreError> {
    let mut made = Made::default();
    if decided.holds.is_empty() {
        return Ok(made);
    }
    let snapshot = app.store.snapshot().await;
    let Some(catalog) = snapshot.catalog.clone() else {
        return Ok(made);
    };
    let state = &snapshot.state;
    let genealogy = StateGenealogy::new(state);
    let items: Vec<(String, String)> = decided
        .holds
        .iter()
        .map(|h| (h.item.kind.name().to_owned(), h.item.id.clone()))
        .collect();
    let held: BTreeSet<String> = app
        .store
        .active_holds_on(&items)
        .await?
        .into_iter()
        .map(|h| format!("{}:{}", h.item_kind, h.item_id))
        .collect();
    let pending = pending_holds(app, true).await?;
    let proposer = agent();
    for alert in &decided.alerts {
        let holds: Vec<&HoldAction> = decided
            .holds
            .iter()
            .filter(|h| h.alert_id == alert.id)
            .filter(|h| !held.contains(&h.item.key()) && !pending.contains_key(&h.item.key()))
            .collect();
        if holds.is_empty() {
            continue;
        }
        let (known_holds, unknown): (Vec<&HoldAction>, Vec<&HoldAction>) =
            holds.into_iter().partition(|h| known(state, &h.item));
        let unknown: Vec<String> = unknown.iter().map(|h| h.item.key()).collect();
        if known_holds.is_empty() {
            tracing::warn!(
                alert = %alert.id, items = ?unknown,
                "the alert's holds name items the plant does not know; nothing to propose"
            );
            continue;
        }
        let draft = draft(&catalog, state, &genealogy, alert, &known_holds, unknown);
        let count = draft.diff.len();
        match crate::govern::submit(app, &proposer, draft).await {
            Ok(proposal) => {
                made.proposals += 1;
                if proposal.status == Status::Applied {
                    made.held += count;
                }
            }
            Err(AppError::Store(error)) => return Err(error),
            Err(error) => {
                tracing::error!(alert = %alert.id, %error, "the quality agent's hold proposal was refused");
            }
        }
    }
    Ok(made)
}

/// The proposal of one alert's holds.
fn draft(
    catalog: &model::Catalog,
    state: &PlantState,
    genealogy: &StateGenealogy<'_>,
    alert: &Alert,
    holds: &[&HoldAction],
    unknown: Vec<String>,
) -> ProposalDraft {
    let severity = alert.severity.name().to_owned();
    let mut diff = Vec::new();
    let mut held = Vec::new();
    let (mut lots, mut serials, mut orders, mut quantity) = (0.0, 0.0, 0.0, 0.0);
    for hold in holds {
        let link = serde_json::to_value(hold.link)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned));
        let value = HoldValue {
            reason: hold
                .reason
                .chars()
                .take(govern::evidence::MAX_HOLD_REASON_CHARS)
                .collect(),
            severity: severity.clone(),
            alert: Some(alert.id.clone()),
            link: link.clone(),
            hold: None,
        };
        diff.push(Change {
            entity: entity(hold.item.kind),
            id: hold.item.id.clone(),
            field: Field::Hold,
            before: Value::Null,
            after: json!(value),
            shift_minutes: None,
            high_priority: false,
        });
        held.push(HeldItem {
            item: hold.item.key(),
            link: link.unwrap_or_default(),
            path: path(genealogy, alert, hold),
        });
        match hold.item.kind {
            ItemKind::Lot => {
                lots += 1.0;
                quantity += state
                    .lots
                    .get(&hold.item.id.as_str().into())
                    .map_or(0.0, |l| l.on_hand().max(0.0));
            }
            ItemKind::Serial => {
                serials += 1.0;
                quantity += 1.0;
            }
            ItemKind::Order => orders += 1.0,
        }
    }
    let kpis = |l: f64, s: f64, o: f64, q: f64| {
        BTreeMap::from([
            ("lots_held".to_owned(), l),
            ("serials_held".to_owned(), s),
            ("orders_held".to_owned(), o),
            ("quantity_held".to_owned(), q),
        ])
    };
    let finding = AlertFinding {
        alert: alert.id.clone(),
        characteristic: alert.characteristic.clone(),
        severity: severity.clone(),
        chart: alert.chart.clone(),
        rule_set: serde_json::to_value(alert.rule_set)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        rules: alert.rules.clone(),
        beyond_limits: alert.beyond_limits,
        dispersion_out_of_control: alert.dispersion_out_of_control,
        point: alert.index,
        value: alert.value,
        limits: ControlLimits {
            center: alert.limits.center,
            lcl: alert.limits.lcl,
            ucl: alert.limits.ucl,
        },
        results: alert.event_ids.clone(),
        measured: alert.items.iter().map(ItemRef::key).collect(),
        at: Timestamp(alert.at),
        holds: held,
        unknown,
    };
    let mut digest = Sha256::new();
    digest.update(serde_json::to_vec(alert).unwrap_or_default());
    digest.update(serde_json::to_vec(&diff).unwrap_or_default());
    let area = first_area(catalog, state, &diff)
        .or_else(|| {
            crate::scope::characteristic_areas(catalog, &alert.characteristic)
                .and_then(|a| a.into_iter().next().map(|a| a.to_string()))
        })
        .or_else(|| catalog.plant().areas.first().map(|a| a.id.to_string()))
        .unwrap_or_default();
    let title: String = format!(
        "Hold {} item(s) after {severity} alert {}",
        diff.len(),
        alert.id
    )
    .chars()
    .take(govern::proposal::MAX_TITLE_CHARS)
    .collect();
    ProposalDraft {
        kind: ActionKind::QualityHold,
        area,
        title,
        evidence: Evidence {
            input_sha256: model::wire::hex(&digest.finalize()),
            engine: ENGINE.into(),
            engine_version: ENGINE_VERSION.into(),
            trigger: Trigger::QualityAlert {
                event_id: alert.event_ids.last().cloned().unwrap_or_default(),
                finding: Box::new(finding),
            },
            kpis_before: kpis(0.0, 0.0, 0.0, 0.0),
            kpis_after: kpis(lots, serials, orders, quantity),
        },
        diff,
    }
}
