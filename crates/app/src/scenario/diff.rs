//! The proposal a committed scenario (or any candidate plan) becomes: its diff against the
//! plan in force, its title, and its KPIs by name.

use std::collections::{BTreeMap, BTreeSet};

use govern::{Change, Entity, Field};
use model::Priority;
use schedule::plant::problem::{Assignment, Interval, PlantProblem, PlantSchedule};
use schedule::plant::scenario::{ScenarioChanges, ScenarioKind, ScenarioKpis};
use serde_json::{Value, json};

use super::ChosenScenario;

fn at(problem: &PlantProblem, minute: i64) -> Value {
    json!(problem.horizon_start.plus_minutes(minute as f64))
}

fn window_json(problem: &PlantProblem, w: &Interval) -> Value {
    json!({ "start": at(problem, w.start), "end": at(problem, w.end) })
}

/// The diff a MES needs to carry the scenario out, and the units it touches:
/// 1. each deferred order's due date (`order.due`, with `shift_minutes`);
/// 2. each unit's or pool's overtime windows (`unit.overtime_windows` /
///    `pool.overtime_windows`, before `[]`);
/// 3. each operation whose unit or start differs from the plan in force (`operation.unit`,
///    `operation.start` with `shift_minutes`; before `null` when the plan lacks it).
///
/// Changes of high-priority orders (weight of `high` or more) are flagged.
pub(super) fn diff(
    problem: &PlantProblem,
    chosen: &ChosenScenario,
    baseline: Option<&PlantSchedule>,
) -> (Vec<Change>, BTreeSet<String>) {
    diff_of(problem, &chosen.changes, &chosen.schedule, baseline)
}

/// [`diff`] of any schedule of `problem` (with the scenario `changes` it was made under;
/// none for a plain plan) against the plan in force: what a candidate plan asks the MES to
/// do. An operation the problem fixes as running is a fact, not a change, and is left out.
pub(crate) fn diff_of(
    problem: &PlantProblem,
    scenario_changes: &ScenarioChanges,
    schedule: &PlantSchedule,
    baseline: Option<&PlantSchedule>,
) -> (Vec<Change>, BTreeSet<String>) {
    let weight: BTreeMap<&str, f64> = problem
        .orders
        .iter()
        .map(|o| (o.id.as_str(), o.weight))
        .collect();
    let high = |order: &str| {
        weight
            .get(order)
            .is_some_and(|w| *w >= Priority::High.weight())
    };
    let order_of: BTreeMap<&str, &str> = problem
        .operations
        .iter()
        .map(|op| (op.id.as_str(), op.order.as_str()))
        .collect();
    let mut changes = Vec::new();
    let mut units = BTreeSet::new();
    for d in &scenario_changes.deferred {
        changes.push(Change {
            entity: Entity::Order,
            id: d.order.clone(),
            field: Field::Due,
            before: at(problem, d.due),
            after: at(problem, d.deferred_due),
            shift_minutes: Some(d.deferred_due - d.due),
            high_priority: high(&d.order),
        });
    }
    for ot in &scenario_changes.overtime {
        if ot.kind == "unit" {
            units.insert(ot.id.clone());
        }
        changes.push(Change {
            entity: ot.kind.as_str().into(),
            id: ot.id.clone(),
            field: Field::OvertimeWindows,
            before: json!([]),
            after: Value::Array(ot.windows.iter().map(|w| window_json(problem, w)).collect()),
            shift_minutes: None,
            high_priority: false,
        });
    }
    let before: BTreeMap<&str, &Assignment> = baseline
        .map(|b| b.assignments.iter().map(|a| (a.op.as_str(), a)).collect())
        .unwrap_or_default();
    let running: BTreeSet<&str> = problem
        .operations
        .iter()
        .filter(|op| op.fixed.as_ref().is_some_and(|f| f.in_progress))
        .map(|op| op.id.as_str())
        .collect();
    let mut after: Vec<&Assignment> = schedule
        .assignments
        .iter()
        .filter(|a| !running.contains(a.op.as_str()))
        .collect();
    after.sort_by(|a, b| a.op.cmp(&b.op));
    for a in after {
        let high_priority = order_of.get(a.op.as_str()).is_some_and(|o| high(o));
        let was = before.get(a.op.as_str());
        let change = |field: Field, before: Value, after: Value, shift: Option<i64>| Change {
            entity: Entity::Operation,
            id: a.op.clone(),
            field,
            before,
            after,
            shift_minutes: shift,
            high_priority,
        };
        if was.is_none_or(|b| b.unit != a.unit) {
            changes.push(change(
                Field::Unit,
                was.map_or(Value::Null, |b| json!(b.unit)),
                json!(a.unit),
                None,
            ));
            units.insert(a.unit.clone());
            if let Some(b) = was {
                units.insert(b.unit.clone());
            }
        }
        if was.is_none_or(|b| b.start != a.start) {
            changes.push(change(
                Field::Start,
                was.map_or(Value::Null, |b| at(problem, b.start)),
                at(problem, a.start),
                was.map(|b| a.start - b.start),
            ));
            units.insert(a.unit.clone());
        }
    }
    (changes, units)
}

/// `Scenario <kind>: late orders 3 → 1, weighted tardiness …` (headline KPIs, plan → scenario).
pub(super) fn title(
    kind: ScenarioKind,
    before: &BTreeMap<String, f64>,
    after: &BTreeMap<String, f64>,
    diff: &[Change],
) -> String {
    let headline = [
        ("late orders", "late_orders", 0),
        ("weighted tardiness", "weighted_tardiness", 0),
        ("changeover cost", "changeover_cost", 0),
        ("makespan", "makespan_minutes", 0),
        ("on-time risk", "on_time_risk", 3),
    ];
    let parts: Vec<String> = headline
        .iter()
        .map(|(label, key, digits)| {
            let a = after[*key];
            match before.get(*key) {
                Some(b) => format!("{label} {b:.digits$} → {a:.digits$}"),
                None => format!("{label} {a:.digits$}"),
            }
        })
        .collect();
    let moved = diff
        .iter()
        .filter(|c| c.entity == Entity::Operation)
        .map(|c| c.id.as_str())
        .collect::<BTreeSet<_>>()
        .len();
    format!(
        "Scenario {kind}: {}{}; {moved} operation(s) moved",
        parts.join(", "),
        if before.is_empty() {
            " (no plan in force)"
        } else {
            ""
        }
    )
}

/// The evidence's KPIs: the engine's, by name.
pub(crate) fn kpi_map(kpis: &ScenarioKpis) -> BTreeMap<String, f64> {
    let Value::Object(fields) = json!(kpis) else {
        unreachable!("KPIs serialise as an object")
    };
    fields
        .into_iter()
        .filter_map(|(name, value)| Some((name, value.as_f64()?)))
        .collect()
}
