//! Quality actions proposed rather than taken: a principal that may not place or release
//! holds or move nonconformances itself (an AI agent, whose role grants neither
//! `write_quality` nor `dispose_quality`) asks for one as a governed proposal, made through
//! `crate::govern::submit` like the quality agent's:
//!
//! - [`propose_hold`]: a `quality_hold` of one lot, serial or order;
//! - [`propose_release`]: the release of one hold record (`nc_disposition`);
//! - [`propose_nc_transition`]: one step of a nonconformance's workflow (`nc_disposition`),
//!   checked against the workflow now.
//!
//! The gate is the policy's for the item's real areas (computed from the store by
//! `govern::evidence`, never from the request; an NC's area is derived here from its items).
//! Where the policy lets a proposal apply by itself, it is still carried out only on behalf of
//! a principal allowed to do it (`crate::govern::holds`, `crate::govern::nc`), so an agent's
//! proposal waits for a person who may to apply it. [`governance_summary`] says which.
//!
//! What it must not do: place or release a hold or move an NC directly, or take an item's
//! areas from the caller.

use std::collections::BTreeMap;

use govern::{
    ActionKind, Change, Entity, Evidence, Field, HoldValue, Principal, Proposal, ProposalDraft,
    Trigger,
};
use quality::enforce::ItemKind;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::item_kind;
use crate::scope::Reach;
use crate::{App, AppError};

/// What the evidence of a proposal asked for through a tool door names as its engine.
pub const ENGINE: &str = "proposal-request";

/// A hold asked for.
#[derive(Debug, Clone)]
pub struct HoldProposal {
    /// lot, serial or order.
    pub item_kind: String,
    pub item_id: String,
    pub reason: String,
    /// minor, major or critical.
    pub severity: String,
    /// The alert it rests on, if any.
    pub alert: Option<String>,
}

fn entity(kind: ItemKind) -> Entity {
    match kind {
        ItemKind::Lot => Entity::Lot,
        ItemKind::Serial => Entity::Serial,
        ItemKind::Order => Entity::Order,
    }
}

/// Proposes to hold one item as `who`: 404 for an item `who` does not read (as if it did not
/// exist), the proposal otherwise, with its gate and status as governance left it.
pub async fn propose_hold(
    app: &App,
    who: &Principal,
    request: HoldProposal,
) -> Result<Proposal, AppError> {
    let kind = item_kind(&request.item_kind, "item_kind")?;
    let id = request.item_id.trim();
    if id.is_empty() {
        return Err(AppError::Invalid("`item_id` must not be empty".into()));
    }
    if request.reason.trim().is_empty() {
        return Err(AppError::Invalid("`reason` must not be empty".into()));
    }
    let reach = Reach::of(app, who).await?;
    let Some(areas) = reach.item_areas(kind, id) else {
        return Err(AppError::NotFound(format!(
            "{} `{id}` does not exist in the plant state",
            request.item_kind
        )));
    };
    if !reach.reads(&areas) {
        return Err(AppError::NotFound(format!(
            "{} `{id}` does not exist in the plant state",
            request.item_kind
        )));
    }
    if let Some(alert) = &request.alert {
        let filter = store::AlertFilter {
            characteristic: None,
            severity: None,
            limit: 0,
            offset: 0,
        };
        let alerts = super::all_alerts(app, who, filter).await?;
        if !alerts.iter().any(|a| &a.id == alert) {
            return Err(AppError::NotFound(format!(
                "alert `{alert}` does not exist"
            )));
        }
    }
    let hold = HoldValue {
        reason: request.reason.trim().to_owned(),
        severity: request.severity.trim().to_owned(),
        alert: request.alert.clone(),
        link: Some("item".into()),
        hold: None,
    };
    let diff = vec![Change {
        entity: entity(kind),
        id: id.to_owned(),
        field: Field::Hold,
        before: Value::Null,
        after: serde_json::to_value(&hold)
            .map_err(|e| AppError::Internal(format!("a hold does not serialise: {e}")))?,
        shift_minutes: None,
        high_priority: false,
    }];
    let area = areas
        .iter()
        .next()
        .map(ToString::to_string)
        .or_else(|| {
            reach
                .catalog()
                .plant()
                .areas
                .first()
                .map(|a| a.id.to_string())
        })
        .unwrap_or_default();
    let mut digest = Sha256::new();
    digest.update(serde_json::to_vec(&diff).unwrap_or_default());
    let title: String = format!("Hold {} `{id}`: {}", request.item_kind, hold.reason)
        .chars()
        .take(govern::proposal::MAX_TITLE_CHARS)
        .collect();
    let held = |n: f64| BTreeMap::from([("items_held".to_owned(), n)]);
    let draft = ProposalDraft {
        kind: ActionKind::QualityHold,
        area,
        title,
        evidence: Evidence {
            input_sha256: model::wire::hex(&digest.finalize()),
            engine: ENGINE.into(),
            engine_version: env!("CARGO_PKG_VERSION").into(),
            trigger: Trigger::Principal {
                principal: who.id.clone(),
            },
            kpis_before: held(0.0),
            kpis_after: held(1.0),
        },
        diff,
    };
    crate::govern::submit(app, who, draft).await
}

/// What became of a proposal just submitted, in words a caller acts on: applied by itself
/// under the policy, or waiting (for whom, and why).
pub fn governance_summary(proposal: &Proposal) -> Value {
    let applied = proposal.applied.is_some();
    let waits_for = if applied {
        Value::Null
    } else if proposal.status == govern::Status::Approved {
        // The gate let it through but carrying it out on the proposer's behalf was refused
        // (an agent may not place holds itself): someone permitted applies it.
        json!(
            "a person permitted to carry it out must apply it (the policy approved it, but it could not be applied on the proposer's behalf)"
        )
    } else {
        let roles: Vec<&str> = proposal
            .gate
            .approver_roles
            .iter()
            .map(|r| r.as_str())
            .collect();
        json!(format!(
            "{} approval(s) from a person with role {}",
            proposal.gate.approvals,
            roles.join(" or ")
        ))
    };
    json!({
        "proposal": proposal.id,
        "status": proposal.status,
        "applied_by_itself": applied,
        "autonomy": proposal.autonomy,
        "waits_for": waits_for,
        "reasons": proposal.gate.reasons,
        "expires_at": proposal.expires_at,
    })
}

/// Proposes to move a nonconformance through its workflow as `who` (an `nc_disposition`
/// proposal, carried out by `crate::govern::nc` when a person applies it): 404 for an NC `who`
/// does not read, 403 when it concerns an item outside `who`'s area, and the workflow's own
/// refusal when the command does not apply to the NC as it is now.
pub async fn propose_nc_transition(
    app: &App,
    who: &Principal,
    id: &str,
    command: quality::nc::NcCommand,
) -> Result<Proposal, AppError> {
    let reach = Reach::of(app, who).await?;
    let not_found = || AppError::NotFound(format!("nonconformance `{id}` does not exist"));
    let stored = app
        .store
        .nonconformance(id)
        .await?
        .filter(|nc| super::reads_nc(&reach, nc))
        .ok_or_else(not_found)?;
    super::check_acts_on_nc(&reach, &stored)?;
    let area = stored
        .items
        .iter()
        .filter_map(|item| crate::scope::parse_key(item))
        .filter_map(|(kind, item)| reach.item_areas(kind, item))
        .flatten()
        .next()
        .map(|a| a.to_string())
        .or_else(|| {
            reach
                .catalog()
                .plant()
                .areas
                .first()
                .map(|a| a.id.to_string())
        })
        .unwrap_or_default();
    let view = super::nc_view(stored)?;
    // The workflow must take the command now, so that a person approves a move that can be
    // made (it is checked again, against the NC's version, when it is applied).
    let mut trial = view.nonconformance.clone();
    let at = app.now().0.max(trial.history.last().map_or(0, |r| r.at));
    trial
        .apply(&command, &who.id, at)
        .map_err(|error| AppError::Nonconformance {
            id: id.to_owned(),
            error,
        })?;
    let diff = vec![Change {
        entity: Entity::Other("nc".into()),
        id: id.to_owned(),
        field: Field::Other(crate::govern::nc::TRANSITION.into()),
        before: json!({ "state": view.nonconformance.state.name(), "version": view.version }),
        after: serde_json::to_value(&command)
            .map_err(|e| AppError::Internal(format!("a command does not serialise: {e}")))?,
        shift_minutes: None,
        high_priority: false,
    }];
    let mut digest = Sha256::new();
    digest.update(serde_json::to_vec(&diff).unwrap_or_default());
    let title: String = format!(
        "Nonconformance `{id}`: {} ({} → {})",
        command.name(),
        view.nonconformance.state.name(),
        trial.state.name()
    )
    .chars()
    .take(govern::proposal::MAX_TITLE_CHARS)
    .collect();
    let draft = ProposalDraft {
        kind: ActionKind::NcDisposition,
        area,
        title,
        evidence: Evidence {
            input_sha256: model::wire::hex(&digest.finalize()),
            engine: ENGINE.into(),
            engine_version: env!("CARGO_PKG_VERSION").into(),
            trigger: Trigger::Principal {
                principal: who.id.clone(),
            },
            kpis_before: BTreeMap::new(),
            kpis_after: BTreeMap::new(),
        },
        diff,
    };
    crate::govern::submit(app, who, draft).await
}

/// Proposes to release one hold as `who`: a `hold` change from the hold (naming its record)
/// to none, an `nc_disposition` proposal under the shipped policy. 404 for a hold `who` does
/// not read; refused for a hold already released, and for one placed by hand with neither a
/// severity nor an alert (the gate's evidence needs the hold's severity: a person releases
/// it directly).
pub async fn propose_release(
    app: &App,
    who: &Principal,
    hold_id: &str,
    reason: &str,
) -> Result<Proposal, AppError> {
    if reason.trim().is_empty() {
        return Err(AppError::Invalid("`reason` must not be empty".into()));
    }
    let (hold, _) = super::hold(app, who, hold_id).await?;
    if !hold.active {
        return Err(AppError::HoldReleased(format!(
            "hold `{hold_id}` was already released by {}",
            hold.released_by.unwrap_or_default()
        )));
    }
    let kind = item_kind(&hold.item_kind, "item_kind")?;
    let severity = hold_severity(app, who, &hold).await?.ok_or_else(|| {
        AppError::Invalid(format!(
            "hold `{hold_id}` was placed by hand with no severity or alert, which a release \
             proposal's evidence needs; a person releases it directly (`mixplane holds release`)"
        ))
    })?;
    let before = HoldValue {
        reason: hold.reason.clone(),
        severity,
        alert: hold.alert_id.clone(),
        link: Some(hold.link.clone()),
        hold: Some(hold.id.clone()),
    };
    let diff = vec![Change {
        entity: entity(kind),
        id: hold.item_id.clone(),
        field: Field::Hold,
        before: serde_json::to_value(&before)
            .map_err(|e| AppError::Internal(format!("a hold does not serialise: {e}")))?,
        after: Value::Null,
        shift_minutes: None,
        high_priority: false,
    }];
    let reach = Reach::of(app, who).await?;
    let area = reach
        .item_areas(kind, &hold.item_id)
        .and_then(|areas| areas.into_iter().next())
        .map(|a| a.to_string())
        .or_else(|| {
            reach
                .catalog()
                .plant()
                .areas
                .first()
                .map(|a| a.id.to_string())
        })
        .unwrap_or_default();
    let mut digest = Sha256::new();
    digest.update(serde_json::to_vec(&diff).unwrap_or_default());
    let title: String = format!(
        "Release {} `{}` (hold {hold_id}): {}",
        hold.item_kind,
        hold.item_id,
        reason.trim()
    )
    .chars()
    .take(govern::proposal::MAX_TITLE_CHARS)
    .collect();
    let held = |n: f64| BTreeMap::from([("items_held".to_owned(), n)]);
    let draft = ProposalDraft {
        kind: ActionKind::NcDisposition,
        area,
        title,
        evidence: Evidence {
            input_sha256: model::wire::hex(&digest.finalize()),
            engine: ENGINE.into(),
            engine_version: env!("CARGO_PKG_VERSION").into(),
            trigger: Trigger::Principal {
                principal: who.id.clone(),
            },
            kpis_before: held(1.0),
            kpis_after: held(0.0),
        },
        diff,
    };
    crate::govern::submit(app, who, draft).await
}

/// The severity a hold was placed with: from the proposal that placed it, else from the
/// alert it rests on; `None` for a hold placed by hand without an alert.
async fn hold_severity(
    app: &App,
    who: &Principal,
    hold: &store::Hold,
) -> Result<Option<String>, AppError> {
    if let Some(id) = &hold.proposal
        && let Some(stored) = app.store.proposal(id).await?
    {
        let placed = stored.proposal.diff.iter().find_map(|c| {
            (c.field == Field::Hold && c.id == hold.item_id)
                .then(|| serde_json::from_value::<HoldValue>(c.after.clone()).ok())
                .flatten()
        });
        if let Some(value) = placed {
            return Ok(Some(value.severity));
        }
    }
    let Some(alert) = &hold.alert_id else {
        return Ok(None);
    };
    let filter = store::AlertFilter {
        characteristic: None,
        severity: None,
        limit: 0,
        offset: 0,
    };
    let alerts = super::all_alerts(app, who, filter).await?;
    Ok(alerts
        .iter()
        .find(|a| &a.id == alert)
        .and_then(|a| serde_json::to_value(a.severity).ok())
        .and_then(|v| v.as_str().map(str::to_owned)))
}
