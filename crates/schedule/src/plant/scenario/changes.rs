//! A scenario's changes to the problem: overtime windows after the shifts of the bottleneck
//! and the pools its work needs, deferred due dates of the lowest-weight orders, the check of
//! changes brought back to be committed, and applying them.

use std::collections::BTreeSet;

use super::super::interval::covered_minutes;
use super::super::problem::{Interval, PlantProblem, PlantSchedule};
use super::{Deferral, Overtime, ScenarioChanges, ScenarioKind, ScenarioOptions};

/// Windows after each window of `availability`, `extra` minutes long, clipped to the next
/// window and the horizon.
pub(super) fn overtime_windows(
    availability: &[Interval],
    extra: i64,
    horizon: i64,
) -> Vec<Interval> {
    let mut sorted: Vec<Interval> = availability.to_vec();
    sorted.sort_by_key(|w| (w.start, w.end));
    let mut out = Vec::new();
    for (i, w) in sorted.iter().enumerate() {
        let next = sorted[i + 1..]
            .iter()
            .map(|n| n.start)
            .filter(|&s| s >= w.end)
            .min()
            .unwrap_or(horizon);
        // A later window that overlaps this one's end leaves no gap to fill.
        if sorted.iter().any(|o| o.start <= w.end && o.end > w.end) {
            continue;
        }
        let end = (w.end + extra).min(next).min(horizon);
        if end > w.end {
            out.push(Interval { start: w.end, end });
        }
    }
    out
}

pub(super) fn overtime_changes(
    problem: &PlantProblem,
    bottleneck: &str,
    extra: i64,
) -> Result<Vec<Overtime>, String> {
    let unit = problem
        .units
        .iter()
        .find(|u| u.id == bottleneck)
        .ok_or_else(|| format!("unit `{bottleneck}` not in the problem"))?;
    let h = problem.horizon_minutes;
    let mut out = Vec::new();
    if let Some(w) = &unit.availability {
        let windows = overtime_windows(w, extra, h);
        if !windows.is_empty() {
            out.push(Overtime {
                kind: "unit".into(),
                id: unit.id.clone(),
                windows,
            });
        }
    }
    let crew: BTreeSet<&str> = problem
        .operations
        .iter()
        .filter(|op| op.alternatives.iter().any(|a| a.unit == bottleneck))
        .flat_map(|op| op.pools.iter().map(|p| p.pool.as_str()))
        .collect();
    for pool in &problem.pools {
        if !crew.contains(pool.id.as_str()) {
            continue;
        }
        if let Some(w) = &pool.availability {
            let windows = overtime_windows(w, extra, h);
            if !windows.is_empty() {
                out.push(Overtime {
                    kind: "pool".into(),
                    id: pool.id.clone(),
                    windows,
                });
            }
        }
    }
    if out.is_empty() {
        return Err(format!(
            "the bottleneck `{bottleneck}` has no gap between shifts inside the horizon to fill"
        ));
    }
    Ok(out)
}

pub(super) fn deferrals(problem: &PlantProblem, minutes: i64) -> Result<Vec<Deferral>, String> {
    let weights = problem.orders.iter().map(|o| o.weight);
    let lightest = weights.clone().fold(f64::INFINITY, f64::min);
    let heaviest = weights.fold(f64::NEG_INFINITY, f64::max);
    if problem.orders.is_empty() || lightest >= heaviest {
        return Err("every order has the same weight: none is of lower priority".into());
    }
    let out: Vec<Deferral> = problem
        .orders
        .iter()
        .filter(|o| o.weight <= lightest)
        .filter_map(|o| {
            o.due.map(|due| Deferral {
                order: o.id.clone(),
                weight: o.weight,
                due,
                deferred_due: due + minutes,
            })
        })
        .collect();
    if out.is_empty() {
        return Err("no order of the lowest weight has a due date to defer".into());
    }
    Ok(out)
}

/// The problem a scenario's schedule is built for and judged against: the original with the
/// scenario's overtime windows. Deferred due dates only steer the search; lateness is judged
/// against the original ones.
pub fn problem_with(original: &PlantProblem, changes: &ScenarioChanges) -> PlantProblem {
    apply_changes(original, changes, false)
}

/// Checks that `changes` are what scenario `kind` could have made of `problem` (for a
/// scenario brought back to be committed): its kind's own changes only, overtime only right
/// after a shift of a unit or pool that works to a calendar, deferral only of the
/// lowest-weight orders from their own due dates. The error names the change and what is
/// wrong with it.
pub fn check_changes(
    problem: &PlantProblem,
    kind: ScenarioKind,
    changes: &ScenarioChanges,
) -> Result<(), String> {
    let bad = |m: String| Err(m);
    let wants_overtime = kind == ScenarioKind::OvertimeOnBottleneck;
    let wants_deferral = kind == ScenarioKind::DeferLowPriority;
    if wants_overtime == changes.overtime.is_empty() {
        return bad(format!(
            "changes.overtime: scenario `{kind}` {}",
            if wants_overtime {
                "must list its overtime windows"
            } else {
                "adds no overtime"
            }
        ));
    }
    if wants_deferral == changes.deferred.is_empty() {
        return bad(format!(
            "changes.deferred: scenario `{kind}` {}",
            if wants_deferral {
                "must list its deferred orders"
            } else {
                "defers no order"
            }
        ));
    }
    let horizon = problem.horizon_minutes;
    for (i, ot) in changes.overtime.iter().enumerate() {
        let at = format!("changes.overtime[{i}]");
        let calendar = match ot.kind.as_str() {
            "unit" => match problem.units.iter().find(|u| u.id == ot.id) {
                Some(u) => u.availability.as_ref(),
                None => return bad(format!("{at}: unit `{}` is not in the problem", ot.id)),
            },
            "pool" => match problem.pools.iter().find(|p| p.id == ot.id) {
                Some(p) => p.availability.as_ref(),
                None => return bad(format!("{at}: pool `{}` is not in the problem", ot.id)),
            },
            other => return bad(format!("{at}.kind: `{other}` (expected unit or pool)")),
        };
        let Some(shifts) = calendar else {
            return bad(format!(
                "{at}: {} `{}` works no calendar (always available); overtime means nothing there",
                ot.kind, ot.id
            ));
        };
        if ot.windows.is_empty() {
            return bad(format!("{at}.windows: empty"));
        }
        for (j, w) in ot.windows.iter().enumerate() {
            let at = format!("{at}.windows[{j}] [{}, {})", w.start, w.end);
            if !(0 <= w.start && w.start < w.end && w.end <= horizon) {
                return bad(format!(
                    "{at}: not a window inside the horizon [0, {horizon})"
                ));
            }
            if w.end - w.start > 24 * 60 {
                return bad(format!("{at}: longer than 1440 minutes of overtime"));
            }
            if !shifts.iter().any(|s| s.end == w.start) {
                return bad(format!(
                    "{at}: does not start at the end of a shift of {} `{}`",
                    ot.kind, ot.id
                ));
            }
            if let Some(s) = shifts.iter().find(|s| s.start < w.end && w.start < s.end) {
                return bad(format!(
                    "{at}: overlaps the shift [{}, {}) of {} `{}`",
                    s.start, s.end, ot.kind, ot.id
                ));
            }
        }
    }
    if !changes.deferred.is_empty() {
        let lightest = problem
            .orders
            .iter()
            .map(|o| o.weight)
            .fold(f64::INFINITY, f64::min);
        for (i, d) in changes.deferred.iter().enumerate() {
            let at = format!("changes.deferred[{i}]");
            let Some(order) = problem.orders.iter().find(|o| o.id == d.order) else {
                return bad(format!("{at}: order `{}` is not in the problem", d.order));
            };
            if order.due != Some(d.due) {
                return bad(format!(
                    "{at}: order `{}` is due at minute {}, not {}",
                    d.order,
                    order
                        .due
                        .map_or_else(|| "(no due date)".to_owned(), |m| m.to_string()),
                    d.due
                ));
            }
            if d.deferred_due <= d.due {
                return bad(format!(
                    "{at}: deferred_due {} is not later than due {}",
                    d.deferred_due, d.due
                ));
            }
            if order.weight > lightest {
                return bad(format!(
                    "{at}: order `{}` has weight {}, above the lowest weight {lightest}; only the lowest-priority orders are deferred",
                    d.order, order.weight
                ));
            }
        }
    }
    Ok(())
}

/// The original problem with a scenario's changes; `deferred_dues` chooses whether deferred
/// orders carry their deferred due date (for the optimiser) or the original (for judging).
pub(super) fn apply_changes(
    original: &PlantProblem,
    changes: &ScenarioChanges,
    deferred_dues: bool,
) -> PlantProblem {
    let mut p = original.clone();
    for ot in &changes.overtime {
        let target = if ot.kind == "unit" {
            p.units
                .iter_mut()
                .find(|u| u.id == ot.id)
                .and_then(|u| u.availability.as_mut())
        } else {
            p.pools
                .iter_mut()
                .find(|x| x.id == ot.id)
                .and_then(|x| x.availability.as_mut())
        };
        if let Some(windows) = target {
            windows.extend(ot.windows.iter().copied());
            windows.sort_by_key(|w| (w.start, w.end));
        }
    }
    if deferred_dues {
        for d in &changes.deferred {
            if let Some(o) = p.orders.iter_mut().find(|o| o.id == d.order) {
                o.due = Some(d.deferred_due);
            }
        }
    }
    p
}

pub(super) fn overtime_used(changes: &ScenarioChanges, schedule: &PlantSchedule) -> i64 {
    changes
        .overtime
        .iter()
        .filter(|ot| ot.kind == "unit")
        .map(|ot| {
            schedule
                .assignments
                .iter()
                .filter(|a| a.unit == ot.id)
                .map(|a| {
                    covered_minutes(ot.windows.iter().map(|w| (w.start, w.end)), a.start, a.end)
                })
                .sum::<i64>()
        })
        .sum()
}

pub(super) fn describe(
    kind: ScenarioKind,
    changes: &ScenarioChanges,
    options: &ScenarioOptions,
) -> String {
    match kind {
        ScenarioKind::AsPlanned => "the plan as given, under its own objective".into(),
        ScenarioKind::MaximizeThroughput => "objective preset maximize_throughput".into(),
        ScenarioKind::MinimizeTardiness => "objective preset minimize_tardiness".into(),
        ScenarioKind::MinimizeChangeovers => "objective preset minimize_changeovers".into(),
        ScenarioKind::OvertimeOnBottleneck => {
            let names: Vec<String> = changes
                .overtime
                .iter()
                .map(|o| format!("{} {}", o.kind, o.id))
                .collect();
            format!(
                "{} minutes of overtime after each shift on {}",
                options.overtime_minutes,
                names.join(", ")
            )
        }
        ScenarioKind::DeferLowPriority => format!(
            "{} lowest-priority orders due {} minutes later (judged against the original dates)",
            changes.deferred.len(),
            options.defer_minutes
        ),
    }
}
