//! The re-sequencing agent: a deliberately simple rule over the current plant state that
//! proposes schedule changes, so that the approval flow can be tried end to end (`mixplane
//! demo` runs it). It proposes through [`crate::govern::submit`] as the agent principal
//! [`RESEQUENCE_ENGINE`], exactly like any other proposer: the policy decides which of its
//! proposals wait for approval and which apply by themselves.

use govern::{
    ActionKind, Change, Entity, Evidence, Field, Principal, PrincipalKind, Proposal, ProposalDraft,
    Role, Scope, Trigger,
};
use model::{OrderState, OrderStatus, PlantState, Priority};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::{App, AppError};

/// The agent's name, as its proposals' evidence names the engine.
pub const RESEQUENCE_ENGINE: &str = "mixplane-resequence";

fn open(order: &OrderState) -> bool {
    matches!(
        order.status,
        OrderStatus::Planned | OrderStatus::Released | OrderStatus::InProgress
    )
}

/// Proposals of a deliberately simple rule over the current state:
///
/// 1. *Re-sequence*: the open low- or medium-priority order due first is raised to high
///    priority, and the open high-priority order due last makes room by moving its due date
///    90 minutes later — above the default policy's 60-minute threshold, so it waits for
///    approval.
/// 2. *Expedite*: the open low-priority order due next is raised to medium — within the
///    thresholds, so `assisted` applies it by itself.
pub fn resequence(state: &PlantState, trigger_event: Option<&str>) -> Vec<ProposalDraft> {
    let mut open: Vec<&OrderState> = state
        .orders
        .values()
        .map(|o| &**o)
        .filter(|o| open(o))
        .collect();
    open.sort_by_key(|o| (o.order.due, o.order.id.clone()));
    let snapshot: Vec<_> = open
        .iter()
        .map(|o| (o.order.id.as_str(), o.order.due, o.order.priority))
        .collect();
    let input_sha256 = {
        let bytes = serde_json::to_vec(&snapshot).expect("snapshots serialise");
        model::wire::hex(&Sha256::digest(&bytes))
    };
    let clock = state.clock.unwrap_or_default();
    let past_due = |orders: &[(&str, model::Timestamp)]| {
        orders.iter().filter(|(_, due)| *due < clock).count() as f64
    };
    let evidence = |before: f64, after: f64, name: &str| Evidence {
        input_sha256: input_sha256.clone(),
        engine: RESEQUENCE_ENGINE.into(),
        engine_version: env!("CARGO_PKG_VERSION").into(),
        trigger: match trigger_event {
            Some(id) => Trigger::Event {
                event_id: id.to_owned(),
            },
            None => Trigger::Principal {
                principal: "mixplane demo".into(),
            },
        },
        kpis_before: [
            (name.to_owned(), before),
            ("open_orders".into(), open.len() as f64),
        ]
        .into(),
        kpis_after: [
            (name.to_owned(), after),
            ("open_orders".into(), open.len() as f64),
        ]
        .into(),
    };
    let mut drafts = Vec::new();

    let urgent = open.iter().find(|o| o.order.priority != Priority::High);
    let relief = open
        .iter()
        .rev()
        .find(|o| o.order.priority == Priority::High);
    if let (Some(urgent), Some(relief)) = (urgent, relief)
        && urgent.order.id != relief.order.id
    {
        let moved = relief.order.due.plus_minutes(90.0);
        let dues: Vec<(&str, model::Timestamp)> = open
            .iter()
            .map(|o| (o.order.id.as_str(), o.order.due))
            .collect();
        let after: Vec<(&str, model::Timestamp)> = dues
            .iter()
            .map(|&(id, due)| {
                (
                    id,
                    if id == relief.order.id.as_str() {
                        moved
                    } else {
                        due
                    },
                )
            })
            .collect();
        drafts.push(ProposalDraft {
            kind: ActionKind::ScheduleChange,
            area: String::new(),
            title: format!(
                "Re-sequence: run {} (due {}) as high priority; {} makes room, due +90 min",
                urgent.order.id, urgent.order.due, relief.order.id
            ),
            evidence: evidence(past_due(&dues), past_due(&after), "orders_past_due"),
            diff: vec![
                Change {
                    entity: Entity::Order,
                    id: urgent.order.id.to_string(),
                    field: Field::Priority,
                    before: json!(urgent.order.priority),
                    after: json!(Priority::High),
                    shift_minutes: None,
                    high_priority: false,
                },
                Change {
                    entity: Entity::Order,
                    id: relief.order.id.to_string(),
                    field: Field::Due,
                    before: json!(relief.order.due),
                    after: json!(moved),
                    shift_minutes: Some(90),
                    high_priority: true,
                },
            ],
        });
    }
    if let Some(low) = open.iter().find(|o| {
        o.order.priority == Priority::Low
            && Some(o.order.id.clone()) != urgent.map(|u| u.order.id.clone())
    }) {
        drafts.push(ProposalDraft {
            kind: ActionKind::ScheduleChange,
            area: String::new(),
            title: format!(
                "Expedite: raise {} (due {}) from low to medium priority",
                low.order.id, low.order.due
            ),
            evidence: evidence(0.0, 0.0, "priority_inversions"),
            diff: vec![Change {
                entity: Entity::Order,
                id: low.order.id.to_string(),
                field: Field::Priority,
                before: json!(Priority::Low),
                after: json!(Priority::Medium),
                shift_minutes: None,
                high_priority: false,
            }],
        });
    }
    drafts
}

/// The area an order's first step runs in (unit → work center → area).
fn order_area(catalog: &model::Catalog, order: &OrderState) -> Option<String> {
    let plant = catalog.plant();
    let routing = plant
        .routings
        .iter()
        .find(|r| r.id == order.order.routing)?;
    let unit_id = &routing.steps.first()?.alternatives.first()?.unit;
    let unit = plant.units.iter().find(|u| u.id == *unit_id)?;
    let work_center = plant
        .work_centers
        .iter()
        .find(|wc| wc.id == unit.work_center)?;
    Some(work_center.area.to_string())
}

/// Runs the rule over the current state and submits its proposals as the agent, each in the
/// area where the order of its first change starts (the plant's first area otherwise).
/// `trigger_event` is the event the run answers, named in the evidence.
pub async fn propose(app: &App, trigger_event: Option<&str>) -> Result<Vec<Proposal>, AppError> {
    let snapshot = app.store.snapshot().await;
    let catalog = snapshot.catalog.ok_or(AppError::NoPlant)?;
    let agent = Principal::new(
        RESEQUENCE_ENGINE,
        PrincipalKind::Agent,
        Role::Agent,
        Scope::All,
    );
    let mut proposals = Vec::new();
    for mut draft in resequence(&snapshot.state, trigger_event) {
        let first = &draft.diff[0].id;
        let order = &snapshot.state.orders[&model::OrderId::from(first.as_str())];
        draft.area = order_area(&catalog, order)
            .or_else(|| catalog.plant().areas.first().map(|a| a.id.to_string()))
            .ok_or_else(|| AppError::Invalid("the plant has no areas".into()))?;
        proposals.push(crate::govern::submit(app, &agent, draft).await?);
    }
    Ok(proposals)
}
