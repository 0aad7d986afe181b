//! What applying a `quality_hold` proposal's holds does: a hold is mixplane's own record (the
//! quality store's `quality_holds`, the one the release gate reads), not an MES event, so a
//! diff of `hold` changes (`lot`, `serial`, `order`) is carried out here rather than by a
//! sink. Applying places one hold per item naming the proposal (audited as
//! `quality.hold.place`), rolling back releases exactly the holds the proposal placed that
//! are still in force (`quality.hold.release`); the answer has the shape of a sink's and is
//! recorded in the proposal and its audit record the same way, under the name
//! [`HOLDS_SINK`]. Like the MES sink, it acts only within the scope of the principal on whose
//! behalf it delivers, and only for a principal that may place and release holds itself
//! (permission `write_quality`, as `POST /v1/quality/holds` asks) or the quality agent: a
//! planner's hold proposal waits until someone who may hold applies it, even where the policy
//! would let it apply by itself.
//!
//! A release proposal (`before` the hold, naming its record in `hold`; `after` `null`)
//! releases that hold record when it applies, and its rollback places the hold again.
//!
//! A repeated apply (an answer lost before the proposal recorded it) finds the holds it placed
//! (or released) and succeeds without doing it twice.

use std::collections::BTreeSet;

use govern::{Change, Field, HoldValue, Permission, Principal, Proposal};
use serde_json::{Value, json};
use store::{HoldRelease, NewHold};

use crate::{App, AppError};

/// The name a hold delivery answers and is recorded under.
pub const HOLDS_SINK: &str = "quality-holds";

/// Whether a change places or releases a quality hold.
pub fn is_hold(change: &Change) -> bool {
    change.field == Field::Hold
}

/// The items (`kind:ID`) among `diff`'s hold changes that are on hold now.
pub(crate) async fn held_items(app: &App, diff: &[Change]) -> Result<BTreeSet<String>, AppError> {
    let items: Vec<(String, String)> = diff
        .iter()
        .filter(|c| is_hold(c))
        .map(|c| (c.entity.to_string(), c.id.clone()))
        .collect();
    if items.is_empty() {
        return Ok(BTreeSet::new());
    }
    Ok(app
        .store
        .active_holds_on(&items)
        .await?
        .into_iter()
        .map(|h| format!("{}:{}", h.item_kind, h.item_id))
        .collect())
}

fn error(message: impl Into<String>) -> Value {
    json!({ "sink": HOLDS_SINK, "status": "Error", "message": message.into() })
}

/// Places (`apply`) or releases (`rollback`) the holds of `diff`, every change of which is a
/// hold change, for `proposal`, on behalf of `on_behalf`. `Ok` and `Err` are answers, as a
/// sink's.
pub(crate) async fn deliver(
    app: &App,
    proposal: &Proposal,
    diff: &[Change],
    direction: &str,
    actor: &store::Actor,
    on_behalf: &Principal,
) -> Result<Value, Value> {
    let hierarchy = app
        .plant_hierarchy()
        .await
        .map_err(|e| error(e.to_string()))?;
    if *on_behalf != crate::quality::hold_agent::agent()
        && !on_behalf.role.allows(Permission::WriteQuality)
    {
        let mut answer = error(format!(
            "{} (role {}) may not place or release quality holds",
            on_behalf.id, on_behalf.role
        ));
        answer["reason"] = json!("scope");
        return Err(answer);
    }
    if let Some(gap) = proposal.scope_gap(on_behalf, &hierarchy) {
        let mut answer = error(format!(
            "{} (scope {}) may not hold items in {gap}",
            on_behalf.id, on_behalf.scope
        ));
        answer["reason"] = json!("scope");
        return Err(answer);
    }
    let releases = diff.iter().filter(|c| c.after.is_null()).count();
    if releases > 0 && releases < diff.len() {
        return Err(error(
            "the diff both places and releases holds; propose the releases apart",
        ));
    }
    if releases > 0 && direction == "apply" {
        return release_named(app, proposal, diff, actor).await;
    }
    // Releases being rolled back place their holds again, below, like a placement.
    if releases > 0 {
        let reason = format!("rollback of proposal {}", proposal.id);
        let released = app
            .store
            .release_proposal_holds(actor, &proposal.id, &reason)
            .await
            .map_err(|e| error(e.to_string()))?;
        return Ok(json!({
            "sink": HOLDS_SINK,
            "status": "Succeeded",
            "released": released.iter().map(|h| &h.id).collect::<Vec<_>>(),
        }));
    }
    let now = app.now();
    let mut holds = Vec::new();
    for change in diff {
        let value: HoldValue = serde_json::from_value(change.after.clone()).map_err(|e| {
            error(format!(
                "{}.hold of `{}`: `after` is not a hold: {e}",
                change.entity, change.id
            ))
        })?;
        holds.push(NewHold {
            item_kind: change.entity.to_string(),
            item_id: change.id.clone(),
            link: value.link.unwrap_or_else(|| "item".into()),
            reason: value.reason,
            alert_id: value.alert,
            at: now,
            proposal: Some(proposal.id.clone()),
        });
    }
    let outcome = app
        .store
        .place_proposal_holds(actor, &proposal.id, holds)
        .await
        .map_err(|e| error(e.to_string()))?;
    Ok(json!({
        "sink": HOLDS_SINK,
        "status": "Succeeded",
        "holds": outcome.placed.iter().map(|h| &h.id).collect::<Vec<_>>(),
        "placed": outcome.new,
        "already_held": outcome.already_held.iter()
            .map(|h| json!({ "item": format!("{}:{}", h.item_kind, h.item_id), "hold": h.id }))
            .collect::<Vec<_>>(),
    }))
}

/// Releases the hold each change of a release proposal names in its `before`: that hold and
/// no other, so a hold placed on the item since the proposal stays in force. A repeated
/// delivery finds the hold released with this proposal's reason and succeeds again.
async fn release_named(
    app: &App,
    proposal: &Proposal,
    diff: &[Change],
    actor: &store::Actor,
) -> Result<Value, Value> {
    let reason = format!("proposal {}: {}", proposal.id, proposal.title);
    let mut released = Vec::new();
    for change in diff {
        let value: HoldValue = serde_json::from_value(change.before.clone()).map_err(|e| {
            error(format!(
                "{}.hold of `{}`: `before` is not a hold: {e}",
                change.entity, change.id
            ))
        })?;
        let Some(id) = value.hold else {
            return Err(error(format!(
                "{}.hold of `{}`: `before` names no hold record to release",
                change.entity, change.id
            )));
        };
        let outcome = app
            .store
            .release_hold_if(&id, actor, &reason, |_| true)
            .await
            .map_err(|e| error(e.to_string()))?;
        match outcome {
            HoldRelease::Released(hold) => released.push(hold.id),
            HoldRelease::AlreadyReleased(hold)
                if hold.release_reason.as_deref() == Some(reason.as_str()) =>
            {
                released.push(hold.id);
            }
            HoldRelease::AlreadyReleased(hold) => {
                return Err(error(format!(
                    "hold `{id}` was released meanwhile by {}",
                    hold.released_by.unwrap_or_default()
                )));
            }
            HoldRelease::NotFound | HoldRelease::Refused(_) => {
                return Err(error(format!("hold `{id}` does not exist")));
            }
        }
    }
    Ok(json!({ "sink": HOLDS_SINK, "status": "Succeeded", "released": released }))
}
