//! Governance at the edge: the server's governance settings from the data directory (the
//! policy file and the file sink), the demo's admin token, and the demo's re-sequencing rule
//! that produces proposals so the approval flow can be tried with curl.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use govern::{
    ActionKind, Change, Evidence, Policy, Principal, PrincipalKind, Proposal, ProposalDraft, Role,
    Scope, Status, Trigger,
};
use model::{OrderState, OrderStatus, PlantState, Priority};
use serde_json::json;
use sha2::{Digest, Sha256};

/// The policy file in a data directory.
pub fn policy_path(data_dir: &Path) -> PathBuf {
    data_dir.join("policy.toml")
}

/// The policy of a data directory: `policy.toml`, written from the shipped default when it
/// does not exist yet. Says whether it was written.
pub fn load_policy(data_dir: &Path) -> anyhow::Result<(Policy, bool)> {
    let path = policy_path(data_dir);
    let written = !path.exists();
    if written {
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("creating {}", data_dir.display()))?;
        std::fs::write(&path, govern::policy::DEFAULT_POLICY_TOML)
            .with_context(|| format!("writing the default policy to {}", path.display()))?;
    }
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let policy = Policy::from_toml(&text).with_context(|| format!("policy {}", path.display()))?;
    Ok((policy, written))
}

/// The server state over `store` with the data directory's policy, the simulated MES as the
/// default sink and `<data-dir>/applied-changes.jsonl` as the file sink.
pub fn app_state(
    store: std::sync::Arc<store::Store>,
    data_dir: &Path,
) -> anyhow::Result<server::AppState> {
    let (policy, _) = load_policy(data_dir)?;
    let governance = server::govern_api::Governance::new(
        policy,
        server::sink::SinkKind::MesSim,
        Some(data_dir.join("applied-changes.jsonl")),
    );
    Ok(server::AppState::new(store).with_governance(governance))
}

/// The demo's administrator.
pub const DEMO_ADMIN: &str = "demo-admin";

/// Revokes the previous demo admin's tokens and issues a new one.
pub async fn demo_admin_token(store: &store::Store) -> anyhow::Result<String> {
    let write = || store::GovernanceWrite::by(super::cli_actor(), None);
    store
        .revoke_tokens(DEMO_ADMIN, write())
        .await
        .context("revoking the previous demo admin tokens")?;
    let issued = store
        .create_token(
            DEMO_ADMIN,
            PrincipalKind::Person,
            Role::Admin,
            Scope::All,
            store::TokenHashing::Standard,
            write(),
        )
        .await
        .context("creating the demo admin token")?;
    Ok(issued.token)
}

/// The demo's re-sequencing rule, as an engine would be: name and version.
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
    let mut open: Vec<&OrderState> = state.orders.values().filter(|o| open(o)).collect();
    open.sort_by_key(|o| (o.order.due, o.order.id.clone()));
    let snapshot: Vec<_> = open
        .iter()
        .map(|o| (o.order.id.as_str(), o.order.due, o.order.priority))
        .collect();
    let input_sha256 = {
        let bytes = serde_json::to_vec(&snapshot).expect("snapshots serialise");
        Sha256::digest(&bytes)
            .iter()
            .fold(String::new(), |mut s, b| {
                let _ = write!(s, "{b:02x}");
                s
            })
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
                    entity: "order".into(),
                    id: urgent.order.id.to_string(),
                    field: "priority".into(),
                    before: json!(urgent.order.priority),
                    after: json!(Priority::High),
                    shift_minutes: None,
                    high_priority: false,
                },
                Change {
                    entity: "order".into(),
                    id: relief.order.id.to_string(),
                    field: "due".into(),
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
                entity: "order".into(),
                id: low.order.id.to_string(),
                field: "priority".into(),
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

/// Clears the previous demo's proposals, runs the re-sequencing rule and submits its
/// proposals through the server's governance (so the policy decides which apply by
/// themselves). Returns them.
pub async fn demo_proposals(
    app: &server::AppState,
    trigger_event: Option<&str>,
) -> anyhow::Result<Vec<Proposal>> {
    app.store
        .clear_proposals(store::GovernanceWrite::by(super::cli_actor(), None))
        .await
        .context("clearing the previous demo's proposals")?;
    let snapshot = app.store.snapshot().await;
    let catalog = snapshot.catalog.context("no plant is loaded")?;
    let engine = Principal::new(
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
            .context("the plant has no areas")?;
        let proposal = server::govern_api::submit(app, &engine, draft)
            .await
            .map_err(|problem| anyhow::anyhow!("submitting a proposal: {}", problem.detail))?;
        proposals.push(proposal);
    }
    Ok(proposals)
}

/// The governance part of the demo's printout: the proposals and how to approve one.
pub fn summary(token: &str, proposals: &[Proposal], bind: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\nProposals (GET /v1/proposals)");
    for p in proposals {
        let state = match p.status {
            Status::Proposed => format!(
                "waiting for {} approval(s): {}",
                p.gate.approvals,
                p.gate.reasons.join("; ")
            ),
            Status::Applied => format!(
                "applied by itself ({}) through {}",
                p.applied.as_ref().map_or("", |o| o.by.as_str()),
                p.applied.as_ref().map_or("", |o| o.sink.as_str())
            ),
            other => other.to_string(),
        };
        let _ = writeln!(out, "  {} {}\n      {state}", p.id, p.title);
    }
    let waiting = proposals.iter().find(|p| p.status == Status::Proposed);
    let _ = writeln!(out, "\n  try:\n    export MIXPLANE_TOKEN={token}");
    let _ = writeln!(
        out,
        "    curl -H \"Authorization: Bearer $MIXPLANE_TOKEN\" 'http://{bind}/v1/proposals?status=proposed'"
    );
    if let Some(p) = waiting {
        let _ = writeln!(
            out,
            "    curl -X POST -H \"Authorization: Bearer $MIXPLANE_TOKEN\" http://{bind}/v1/proposals/{}/approve",
            p.id
        );
        let _ = writeln!(
            out,
            "    curl -X POST -H \"Authorization: Bearer $MIXPLANE_TOKEN\" http://{bind}/v1/proposals/{}/apply",
            p.id
        );
    }
    out
}
