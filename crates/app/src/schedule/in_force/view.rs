//! What a reader sees of the plan in force and of the current problem: times in RFC 3339
//! beside the minutes, and, for a reader scoped to an area, only what runs on that area's
//! units (decided here from the store's plant, never from the request; `crate::scope`).

use std::collections::BTreeSet;

use govern::Principal;
use model::Timestamp;
use schemars::JsonSchema;
use serde::Serialize;

use schedule::plant::bound::Optimality;
use schedule::plant::checker::Kpis;
use schedule::plant::problem::PlantProblem;

use super::{PlanHeader, PlanVersion, current_problem, in_force};
use crate::scope::Reach;
use crate::{App, AppError};

/// One assignment of the plan in force, in minutes and as instants.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct AssignmentAt {
    pub op: String,
    pub unit: String,
    /// Minutes from the plan's `horizon_start`.
    pub start: i64,
    pub end: i64,
    pub start_at: Timestamp,
    pub end_at: Timestamp,
}

/// The plan in force as `GET /v1/schedule` answers it.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct PlanAnswer {
    #[serde(flatten)]
    pub header: PlanHeader,
    /// The checker's KPIs of the whole plan (every area).
    pub kpis: Kpis,
    /// The plan is at most `gap_percent` % from the best possible for the problem it was
    /// made for (absent for plans put in force before this was computed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub optimality: Option<Optimality>,
    /// The area the assignments are limited to (the reader's), none for the whole plan.
    pub area: Option<String>,
    /// Assignments in start order (of the reader's area's units only, for an area reader).
    pub assignments: Vec<AssignmentAt>,
}

/// The current problem as `GET /v1/schedule/problem` answers it.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ProblemAnswer {
    /// The area the problem is limited to (the reader's), none for the whole plant.
    pub area: Option<String>,
    pub problem: PlantProblem,
}

/// The units of the reader's area; none for a site-wide reader.
pub(super) fn area_units(reach: &Reach) -> Option<BTreeSet<String>> {
    if reach.is_site_wide() {
        return None;
    }
    Some(
        reach
            .catalog()
            .plant()
            .units
            .iter()
            .filter(|u| {
                reach
                    .catalog()
                    .unit_area(&u.id)
                    .is_some_and(|area| reach.reads_area(area))
            })
            .map(|u| u.id.to_string())
            .collect(),
    )
}

fn own_area(who: &Principal) -> Option<String> {
    match &who.scope {
        govern::Scope::Area(area) => Some(area.clone()),
        _ => None,
    }
}

/// The plan in force as `who` may read it; `None` when no plan is in force.
pub async fn view(app: &App, who: &Principal) -> Result<Option<PlanAnswer>, AppError> {
    let reach = Reach::of(app, who).await?;
    let Some(plan) = in_force(app).await? else {
        return Ok(None);
    };
    Ok(Some(answer(plan, area_units(&reach), own_area(who))))
}

fn answer(plan: PlanVersion, units: Option<BTreeSet<String>>, area: Option<String>) -> PlanAnswer {
    let start = plan.header.horizon_start;
    let at = |minute: i64| start.plus_minutes(minute as f64);
    let mut assignments: Vec<AssignmentAt> = plan
        .schedule
        .assignments
        .iter()
        .filter(|a| units.as_ref().is_none_or(|u| u.contains(&a.unit)))
        .map(|a| AssignmentAt {
            op: a.op.clone(),
            unit: a.unit.clone(),
            start: a.start,
            end: a.end,
            start_at: at(a.start),
            end_at: at(a.end),
        })
        .collect();
    assignments.sort_by(|a, b| (a.start, &a.unit, &a.op).cmp(&(b.start, &b.unit, &b.op)));
    PlanAnswer {
        header: plan.header,
        kpis: plan.kpis,
        optimality: plan.optimality,
        area: units.and(area),
        assignments,
    }
}

/// The current problem as `who` may read it: for an area reader, only its area's units, the
/// operations that can run on them (with only those alternatives, and predecessors among
/// them), and the orders of those operations.
pub async fn problem_for(app: &App, who: &Principal) -> Result<ProblemAnswer, AppError> {
    let reach = Reach::of(app, who).await?;
    let mut problem = current_problem(app).await?;
    let Some(units) = area_units(&reach) else {
        return Ok(ProblemAnswer {
            area: None,
            problem,
        });
    };
    problem.units.retain(|u| units.contains(&u.id));
    problem.operations.retain_mut(|op| {
        op.alternatives.retain(|alt| units.contains(&alt.unit));
        !op.alternatives.is_empty()
    });
    let ops: BTreeSet<String> = problem.operations.iter().map(|op| op.id.clone()).collect();
    for op in &mut problem.operations {
        op.predecessors.retain(|lag| ops.contains(&lag.op));
    }
    let orders: BTreeSet<&str> = problem
        .operations
        .iter()
        .map(|op| op.order.as_str())
        .collect();
    problem.orders.retain(|o| orders.contains(o.id.as_str()));
    problem.reference.retain(|a| units.contains(&a.unit));
    Ok(ProblemAnswer {
        area: own_area(who),
        problem,
    })
}
