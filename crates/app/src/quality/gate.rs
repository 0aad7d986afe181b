//! The release gate: may a lot or serial ship? Blocked by holds on it or on the order that
//! made it, by holds proposed on either and still waiting for approval or application (a
//! `quality_hold` proposal: "hold proposed, awaiting approval"), and by open (or
//! scrap/return) nonconformances on it or upstream of it. An
//! area-scoped reader asks only about items it reads; upstream items of other areas are
//! counted, not named, but what they block still blocks.

use std::collections::BTreeSet;
use std::sync::Arc;

use govern::Principal;
use model::PlantState;
use quality::enforce::{Genealogy, ItemKind, ItemRef};
use quality::nc::{NcSummary, ReleaseDecision};
use schemars::JsonSchema;
use serde::Serialize;

use super::{StateGenealogy, catch_up, nc_view};
use crate::{App, AppError};

/// May an item ship, and if not, why.
#[derive(Debug, Serialize, JsonSchema)]
pub struct GateAnswer {
    pub item: ItemRef,
    /// The item is known to the plant state (produced or received here).
    pub known: bool,
    /// Whether it may ship.
    pub allowed: bool,
    /// The decision with one reason per blocking hold or nonconformance.
    pub decision: ReleaseDecision,
    /// What was checked: the item, the order that made it and what it was made from (those
    /// the reader reads).
    pub checked: Vec<String>,
    /// Checked items outside the reader's scope, left out of `checked`. Their blocking
    /// holds and nonconformances still count in the decision, named by id only.
    #[serde(default)]
    pub redacted: usize,
}

/// The release decision for `item` (a lot or a serial), after catching enforcement up. An
/// item outside `who`'s scope is not found (see [`crate::scope`]).
pub async fn release_gate(
    app: &App,
    who: &Principal,
    item: ItemRef,
) -> Result<GateAnswer, AppError> {
    catch_up(app).await;
    let reach = crate::scope::Reach::of(app, who).await?;
    if !reach.reads_item(item.kind, &item.id) {
        return Err(AppError::NotFound(format!(
            "{} `{}` does not exist",
            item.kind.name(),
            item.id
        )));
    }
    let state: Arc<PlantState> = app.store.state().await;
    let genealogy = StateGenealogy::new(&state);
    let known = match item.kind {
        ItemKind::Lot => state.lots.contains_key(&item.id.as_str().into()),
        _ => state.serials.contains_key(&item.id.as_str().into()),
    };
    // The item, its producer, and everything upstream of it (a few generations).
    let mut checked: BTreeSet<ItemRef> = BTreeSet::from([item.clone()]);
    let mut frontier = vec![item.clone()];
    for _ in 0..4 {
        let mut next = Vec::new();
        for i in &frontier {
            if let Some(order) = genealogy.producer(i) {
                let o = ItemRef::order(order);
                if checked.insert(o.clone()) {
                    next.push(o);
                }
            }
            for up in genealogy.upstream(i) {
                if checked.insert(up.clone()) {
                    next.push(up);
                }
            }
        }
        frontier = next;
    }
    // Holds count on the item and on the order that made it (an order hold stands for its
    // output); nonconformances on anything checked.
    let producer = genealogy.producer(&item).map(ItemRef::order);
    let hold_items: Vec<(String, String)> = std::iter::once(item.clone())
        .chain(producer)
        .map(|i| (i.kind.name().to_owned(), i.id))
        .collect();
    let holds = app.store.active_holds_on(&hold_items).await?;
    let keys: Vec<String> = checked.iter().map(ItemRef::key).collect();
    let ncs = app.store.nonconformances_on(&keys).await?;
    let gate_holds: Vec<quality::nc::Hold> = holds
        .iter()
        .map(|h| quality::nc::Hold {
            id: h.id.clone(),
            reason: format!("{}:{} on hold: {}", h.item_kind, h.item_id, h.reason),
            released: !h.active,
        })
        .collect();
    let pending = super::hold_agent::pending_holds(app, false).await?;
    let proposed: Vec<(String, String)> = hold_items
        .iter()
        .filter_map(|(kind, id)| {
            let key = format!("{kind}:{id}");
            pending.get(&key).map(|(proposal, status)| {
                let waiting = if *status == govern::Status::Proposed {
                    "awaiting approval"
                } else {
                    "approved, awaiting application"
                };
                (
                    proposal.clone(),
                    format!("{key}: hold proposed in {proposal}, {waiting}"),
                )
            })
        })
        .collect();
    let summaries: Vec<NcSummary> = ncs
        .into_iter()
        .map(|s| nc_view(s).map(|v| NcSummary::from(&v.nonconformance)))
        .collect::<Result<_, _>>()?;
    let decision = quality::nc::release_gate_pending(&gate_holds, &proposed, &summaries);
    let allowed = decision.is_allowed();
    let shown: Vec<String> = keys
        .iter()
        .filter(|key| reach.reads_item_key(key))
        .cloned()
        .collect();
    let redacted = keys.len() - shown.len();
    Ok(GateAnswer {
        item,
        known,
        allowed,
        decision,
        checked: shown,
        redacted,
    })
}
