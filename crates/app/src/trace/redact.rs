//! Genealogy answers within the reader's scope: which nodes of a trace or a recall an
//! area-scoped reader may see, and the answer with the others redacted.
//!
//! A plant-local lot, serial or order (`urn:mixplane:lot:…`) is in the areas
//! [`crate::scope::Reach`] finds for it, a plant unit in its work center's area; one the
//! plant state does not know cannot be placed and is hidden. Everything else — GS1 keys
//! from imported EPCIS documents, pallets, customers, locations, products — names nothing the
//! plant model puts in an area and is site-wide, readable by every scope of the site.
//!
//! A trace keeps its shape: a node the reader does not read stays in the list and the tree as
//! a redacted node (`redacted:N`, its kind, depth and link kept; its id, label, time,
//! location, quantity and event dropped), and the answer counts them. A recall leaves
//! redacted items out of its lists and counts them per list; its totals stay those of the
//! whole recall. A reconciliation leaves out the findings on nodes the reader does not read
//! and counts them. A trace or recall starting from something the reader does not read is not
//! found, like any other object of another area.
//!
//! Pure: it reads the [`Reach`] it is given and nothing else.

use std::collections::HashMap;

use schemars::JsonSchema;
use serde::Serialize;
use trace::epcis::Retraction;
use trace::query::{Name, TraceStep, TraceTree};
use trace::recall::{RecallItem, RecallReport};
use trace::reconcile::BalanceStatus;
use trace::{Id, IdKind, ReconcileReport, TraceReport};

use crate::scope::Reach;
use quality::enforce::ItemKind;

const LOCAL: &str = "urn:mixplane:";

/// Whether `reach` reads the genealogy node `id` of `kind` (see the module docs).
pub fn reads_node(reach: &Reach, kind: IdKind, id: &str) -> bool {
    if reach.is_site_wide() {
        return true;
    }
    let Some(local) = id
        .strip_prefix(LOCAL)
        .and_then(|rest| rest.split_once(':'))
        .map(|(_, local)| local)
    else {
        return true;
    };
    let item = match kind {
        IdKind::Lot => ItemKind::Lot,
        IdKind::Serial => ItemKind::Serial,
        IdKind::Order => ItemKind::Order,
        IdKind::Unit => {
            return reach
                .catalog()
                .unit_area(&local.into())
                .is_some_and(|area| reach.reads_area(area));
        }
        _ => return true,
    };
    reach.reads_item(item, local)
}

/// A trace within the reader's scope.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ScopedTrace {
    #[serde(flatten)]
    pub report: TraceReport,
    /// Nodes outside the reader's scope, shown as `redacted:N` nodes.
    pub redacted: usize,
    /// Events that named what the trace shows and were retracted by an error declaration:
    /// their links are not in it.
    pub retracted: Vec<Retraction>,
}

/// `report` with the nodes `reach` does not read redacted (see the module docs).
pub fn trace_report(reach: &Reach, mut report: TraceReport) -> ScopedTrace {
    let mut aliases: HashMap<Name, Name> = HashMap::new();
    for step in &report.nodes {
        if !reads_node(reach, step.kind, &step.id) {
            let alias = Name::from(format!("redacted:{}", aliases.len() + 1).as_str());
            aliases.insert(step.id.clone(), alias);
        }
    }
    if aliases.is_empty() {
        return ScopedTrace {
            report,
            redacted: 0,
            retracted: Vec::new(),
        };
    }
    for step in &mut report.nodes {
        redact_step(reach, &aliases, step);
    }
    redact_tree(reach, &aliases, &mut report.tree);
    ScopedTrace {
        report,
        redacted: aliases.len(),
        retracted: Vec::new(),
    }
}

fn redact_step(reach: &Reach, aliases: &HashMap<Name, Name>, step: &mut TraceStep) {
    let mut parent_redacted = false;
    if let Some(parent) = step.parent.as_mut()
        && let Some(alias) = aliases.get(parent)
    {
        *parent = alias.clone();
        parent_redacted = true;
    }
    if parent_redacted && step.kind != IdKind::Order {
        // The link from a redacted node to a visible lot, serial or pallet is the redacted
        // node's business (a purchased lot consumed into another area's order: when, how much,
        // where and by which event); a visible order's own link stays.
        step.time = None;
        step.location = None;
        step.quantity = None;
        step.uom = None;
        step.event = None;
    }
    if let Some(alias) = aliases.get(&step.id) {
        step.id = alias.clone();
        step.label = Name::from("redacted");
        step.time = None;
        step.location = None;
        step.quantity = None;
        step.uom = None;
        step.event = None;
    } else if step
        .location
        .as_ref()
        .is_some_and(|l| !reads_node(reach, IdKind::Unit, l))
    {
        // A visible node made at another area's unit: the place is that area's business.
        step.location = None;
    }
}

fn redact_tree(reach: &Reach, aliases: &HashMap<Name, Name>, tree: &mut TraceTree) {
    // Iterative, so that a deep genealogy cannot overflow the stack.
    let mut stack = vec![tree];
    while let Some(node) = stack.pop() {
        redact_step(reach, aliases, &mut node.step);
        stack.extend(node.children.iter_mut());
    }
}

/// The items of a recall outside the reader's scope, per list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct RecallRedactions {
    pub orders: usize,
    pub lots: usize,
    pub serials: usize,
    pub pallets: usize,
    pub other: usize,
}

/// A recall within the reader's scope.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ScopedRecall {
    #[serde(flatten)]
    pub report: RecallReport,
    /// Affected items outside the reader's scope, left out of the lists (the totals count
    /// them).
    pub redacted: RecallRedactions,
    /// Events that named the seeds or affected items and were retracted by an error
    /// declaration: the recall does not follow their links.
    pub retracted: Vec<Retraction>,
}

/// `report` without the items `reach` does not read, counted (see the module docs).
pub fn recall_report(reach: &Reach, mut report: RecallReport) -> ScopedRecall {
    let keep = |items: &mut Vec<RecallItem>| {
        let before = items.len();
        items.retain(|item| reads_node(reach, item.kind, &item.id));
        before - items.len()
    };
    let redacted = RecallRedactions {
        orders: keep(&mut report.orders),
        lots: keep(&mut report.lots),
        serials: keep(&mut report.serials),
        pallets: keep(&mut report.pallets),
        other: keep(&mut report.other),
    };
    ScopedRecall {
        report,
        redacted,
        retracted: Vec::new(),
    }
}

/// The retractions of `all` that named any of `ids` (canonical ids a report shows), each
/// with only the ids `reach` reads; one that named nothing the reader reads is left out.
pub fn retractions_for<'i>(
    reach: &Reach,
    all: &[Retraction],
    ids: impl IntoIterator<Item = &'i str>,
) -> Vec<Retraction> {
    let readable = |id: &str| {
        let kind = Id::parse(id).map_or(IdKind::Other, |parsed| parsed.kind);
        reads_node(reach, kind, id)
    };
    trace::epcis::retraction::touching(all, ids)
        .into_iter()
        .filter_map(|r| {
            let ids: Vec<String> = r.ids.iter().filter(|id| readable(id)).cloned().collect();
            (!ids.is_empty()).then(|| Retraction { ids, ..r.clone() })
        })
        .collect()
}

/// A reconciliation within the reader's scope.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ScopedReconcile {
    #[serde(flatten)]
    pub report: ReconcileReport,
    /// Findings (unproduced consumptions, balances, orphan serials) outside the reader's
    /// scope, left out; `out_of_balance` counts only the balances shown.
    pub redacted: usize,
}

/// `report` without the findings on nodes `reach` does not read, counted.
pub fn reconcile_report(reach: &Reach, mut report: ReconcileReport) -> ScopedReconcile {
    let before = report.consumption_without_producer.len()
        + report.mass_balance.len()
        + report.orphan_serials.len();
    report
        .consumption_without_producer
        .retain(|u| reads_node(reach, u.kind, &u.id));
    for unproduced in &mut report.consumption_without_producer {
        unproduced
            .orders
            .retain(|label| reach.reads_item(ItemKind::Order, label));
    }
    report
        .mass_balance
        .retain(|b| reads_node(reach, IdKind::Order, &b.order));
    report
        .orphan_serials
        .retain(|o| reads_node(reach, IdKind::Serial, &o.id));
    report.out_of_balance = report
        .mass_balance
        .iter()
        .filter(|b| !matches!(b.status, BalanceStatus::Ok | BalanceStatus::Unchecked))
        .count();
    let after = report.consumption_without_producer.len()
        + report.mass_balance.len()
        + report.orphan_serials.len();
    ScopedReconcile {
        report,
        redacted: before - after,
    }
}
