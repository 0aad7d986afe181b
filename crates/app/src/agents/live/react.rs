//! The reactions themselves: each starts from the plant as it is now (the store's current
//! problem and the plan in force expressed on it), runs an engine with a fixed iteration
//! budget and a seed drawn from the events it answers, and proposes the result through
//! [`crate::schedule::in_force::propose`] as its agent — the policy decides whether it applies
//! by itself or waits for a planner.

use govern::{Principal, PrincipalKind, Proposal, Role, Scope, Trigger};
use schedule::plant::problem::{PlantProblem, PlantSchedule};
use schedule::plant::repair::repair;
use schedule::plant::scenario::{ScenarioOptions, ScenarioReport, run_scenarios};
use schedule::plant::{PlantSolveOptions, check};
use schedule::{Termination, TimeLimit};
use sha2::{Digest, Sha256};

use super::Reaction;
use super::settings::AgentSettings;
use crate::schedule::in_force::{self, Alternative, PlanDraft, PlanVersion};
use crate::{App, AppError, blocking};

/// The agent that repairs the plan when equipment goes down or comes back.
pub const REPAIR_AGENT: &str = "mixplane-repair";
/// The agent that makes the plan again around released, changed, cancelled and rush orders,
/// and around material that arrives or is held.
pub const REPLAN_AGENT: &str = "mixplane-replan";
/// The agent that proposes, on a cadence, a plan that beats the one in force.
pub const IMPROVE_AGENT: &str = "mixplane-improve";

/// The principal an agent acts as: an agent, with the agent role and the scope it is given.
pub fn agent(name: &str, scope: &Scope) -> Principal {
    Principal::new(name, PrincipalKind::Agent, Role::Agent, scope.clone())
}

/// The engine an agent's evidence names (its `modified_by`).
fn engine(name: &str) -> String {
    format!("{name}/schedule-{}", env!("CARGO_PKG_VERSION"))
}

/// The seed of a reaction: the settings' seed mixed with the events it answers, so the same
/// events give the same plan and different bursts explore differently.
pub fn seed_for(base: u64, causes: &[String]) -> u64 {
    let mut hash = Sha256::new();
    hash.update(base.to_le_bytes());
    for cause in causes {
        hash.update(cause.as_bytes());
        hash.update([0]);
    }
    let digest = hash.finalize();
    u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"))
}

/// What a reaction did.
#[derive(Debug, Clone)]
pub enum Outcome {
    Proposed(Box<Proposal>),
    /// Nothing to propose, and why (the plan already fits; no plan in force; …).
    Nothing(String),
}

/// A wall-clock safety net behind the iteration budget: the budget decides the answer (so it
/// is reproducible); the net only stops a search the machine is too slow for.
fn safety_net(seconds: f64) -> impl Termination {
    let started = std::time::Instant::now();
    TimeLimit {
        clock: move || started.elapsed().as_secs_f64(),
        limit_seconds: seconds,
    }
}

fn solve_options(seed: u64, iterations: u64) -> PlantSolveOptions {
    PlantSolveOptions {
        seed,
        threads: 1,
        max_iterations: Some(iterations),
        objective: None,
    }
}

/// The plant now, and the plan in force on it (`None` when no plan is in force).
async fn starting_point(app: &App) -> Result<(PlantProblem, Option<PlanVersion>), AppError> {
    let problem = in_force::current_problem(app).await?;
    let plan = in_force::in_force(app).await?;
    Ok((problem, plan))
}

/// The plan in force on `problem`, as the engines may start from it: what the plan placed
/// before minute 0 and the plant has not started is left out, so that a repair places it
/// again from now instead of freezing it in the past as if it had run.
fn starting_schedule(plan: &PlanVersion, problem: &PlantProblem) -> PlantSchedule {
    let fixed: std::collections::HashSet<&str> = problem
        .operations
        .iter()
        .filter(|op| op.fixed.is_some())
        .map(|op| op.id.as_str())
        .collect();
    let mut schedule = in_force::rebase(plan, problem);
    schedule
        .assignments
        .retain(|a| a.start >= 0 || fixed.contains(a.op.as_str()));
    schedule
}

/// The plan in force repaired around the plant as it is now, held where it was and moved only
/// as far as `problem` needs, with the problem it is feasible for: `problem` less a maximum
/// wait behind a running step that the plant can no longer keep (the repair names and drops
/// such waits), judged by `problem`'s own objective. CPU-bound.
fn repaired(
    problem: &PlantProblem,
    current: &PlantSchedule,
    seed: u64,
    iterations: u64,
    net: f64,
) -> Result<(PlantSchedule, PlantProblem), AppError> {
    let out = repair(
        problem,
        current,
        &[],
        0,
        &solve_options(seed, iterations),
        &mut safety_net(net),
    )
    .map_err(AppError::impossible)?;
    let kept = in_force::relaxed(problem, out.problem, &out.schedule)?;
    Ok((out.schedule, kept))
}

/// `a, b, c and 4 more`: a list short enough for a title.
fn listed(items: &[String]) -> String {
    const SHOWN: usize = 3;
    let shown = items
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    match items.len().saturating_sub(SHOWN) {
        0 => shown,
        more => format!("{shown} and {more} more"),
    }
}

/// Runs one reaction to its proposal.
pub async fn react(
    app: &App,
    settings: &AgentSettings,
    reaction: &Reaction,
) -> Result<Outcome, AppError> {
    let (problem, plan) = starting_point(app).await?;
    let Some(plan) = plan else {
        return Ok(Outcome::Nothing(
            "no plan is in force to repair; make one first (POST /v1/schedule/plan)".into(),
        ));
    };
    let current = starting_schedule(&plan, &problem);
    let seed = seed_for(settings.seed, reaction.causes());
    let trigger = Trigger::Event {
        event_id: reaction
            .causes()
            .first()
            .cloned()
            .unwrap_or_else(|| "agents".into()),
    };
    match reaction {
        Reaction::Equipment { down, up, .. } => {
            let iterations = settings.repair_iterations;
            let net = settings.safety_net_seconds;
            let (repaired, problem) =
                blocking(move || repaired(&problem, &current, seed, iterations, net)).await?;
            let what = match (down.is_empty(), up.is_empty()) {
                (false, true) => format!("{} down", listed(down)),
                (true, false) => format!("{} back up", listed(up)),
                _ => format!("{} down, {} back up", listed(down), listed(up)),
            };
            propose(
                app,
                settings,
                REPAIR_AGENT,
                &plan,
                PlanDraftParts {
                    title: format!("Repair: {what}"),
                    focus: down.first().or(up.first()).cloned(),
                    problem,
                    schedule: repaired,
                    trigger,
                    alternatives: Vec::new(),
                },
            )
            .await
        }
        Reaction::Orders { orders, rush, .. } => {
            let iterations = settings.replan_iterations;
            let scenario_iterations = settings.scenario_iterations;
            let risk_runs = settings.risk_runs;
            let net = settings.safety_net_seconds;
            let (schedule, report, problem) = blocking(move || {
                // The what-ifs and the proposal are judged on the problem the repair kept.
                let (held, problem) = repaired(&problem, &current, seed, iterations, net)?;
                let options = ScenarioOptions {
                    seed,
                    threads: 1,
                    max_iterations: Some(scenario_iterations),
                    risk_runs,
                    ..Default::default()
                };
                let report = run_scenarios(
                    &problem,
                    Some(&held),
                    &options,
                    &mut |_| Box::new(safety_net(net)) as Box<dyn Termination>,
                    &mut |_, _| {},
                )
                .map_err(|e| AppError::Impossible(e.to_string()))?;
                let chosen = best_without_changes(&problem, &report).unwrap_or(held);
                Ok((chosen, report, problem))
            })
            .await?;
            let what = if rush.is_empty() {
                format!("orders {}", listed(orders))
            } else {
                format!("rush order(s) {}", listed(rush))
            };
            propose(
                app,
                settings,
                REPLAN_AGENT,
                &plan,
                PlanDraftParts {
                    title: format!("Re-plan around {what}"),
                    focus: None,
                    problem,
                    schedule,
                    trigger,
                    alternatives: alternatives(&report),
                },
            )
            .await
        }
        Reaction::Materials {
            materials,
            lots_held,
            late,
            ..
        } => {
            let iterations = settings.replan_iterations;
            let net = settings.safety_net_seconds;
            let (repaired, problem) =
                blocking(move || repaired(&problem, &current, seed, iterations, net)).await?;
            let what = if !lots_held.is_empty() {
                format!("lot(s) {} held", listed(lots_held))
            } else if !late.is_empty() {
                format!("receipt(s) {} late", listed(late))
            } else {
                format!("material {} received", listed(materials))
            };
            propose(
                app,
                settings,
                REPLAN_AGENT,
                &plan,
                PlanDraftParts {
                    title: format!("Re-plan: {what}"),
                    focus: None,
                    problem,
                    schedule: repaired,
                    trigger,
                    alternatives: Vec::new(),
                },
            )
            .await
        }
    }
}

/// The best-ranked what-if whose schedule needs no change to the problem (an objective
/// preset or the plan itself): it is what a proposal of operations can carry. Overtime and
/// deferrals stay alternatives the planner may commit.
fn best_without_changes(problem: &PlantProblem, report: &ScenarioReport) -> Option<PlantSchedule> {
    report
        .scenarios
        .iter()
        .filter(|s| s.changes == Default::default())
        .find(|s| check(problem, &s.schedule).feasible)
        .map(|s| s.schedule.clone())
}

/// The ranked what-ifs as a planner sees them beside the proposal.
fn alternatives(report: &ScenarioReport) -> Vec<Alternative> {
    report
        .scenarios
        .iter()
        .map(Alternative::from_scenario)
        .collect()
}

/// The cadence improver: a plan of the plant as it is now, searched from scratch, proposed
/// only when its objective beats the plan in force by `settings.improve_min_percent`.
pub async fn improve(app: &App, settings: &AgentSettings) -> Result<Outcome, AppError> {
    let (problem, plan) = starting_point(app).await?;
    let Some(plan) = plan else {
        return Ok(Outcome::Nothing("no plan is in force to improve".into()));
    };
    let current = starting_schedule(&plan, &problem);
    let seed = seed_for(
        settings.seed,
        &[format!("improve@{}", problem.horizon_start)],
    );
    let iterations = settings.improve_iterations;
    let net = settings.safety_net_seconds;
    let min_percent = settings.improve_min_percent;
    let hold_iterations = settings.repair_iterations;
    let verdict = blocking(move || {
        // The plan in force as the plant can still follow it: held where it was, moved only
        // as far as the plant's position needs.
        let (held, _) = repaired(&problem, &current, seed, hold_iterations, net)?;
        let (fresh_problem, schedule) = in_force::solve_current_with(
            &problem,
            &solve_options(seed, iterations),
            &mut safety_net(net),
        )?;
        // Both judged by the plant's own objective (no stability term: the question is
        // whether a different plan is better, not whether it is close).
        let old = check(&problem, &held).kpis.objective;
        let new = check(&problem, &schedule).kpis.objective;
        let gain = if old > 0.0 {
            (old - new) / old * 100.0
        } else {
            0.0
        };
        Ok((gain >= min_percent).then_some((fresh_problem, schedule, gain)))
    })
    .await?;
    let Some((problem, schedule, gain)) = verdict else {
        return Ok(Outcome::Nothing(format!(
            "no plan beats the one in force by {min_percent} % or more"
        )));
    };
    let title = format!("Improve the plan in force: objective −{gain:.1} %");
    propose(
        app,
        settings,
        IMPROVE_AGENT,
        &plan,
        PlanDraftParts {
            title,
            focus: None,
            problem,
            schedule,
            trigger: Trigger::Principal {
                principal: IMPROVE_AGENT.into(),
            },
            alternatives: Vec::new(),
        },
    )
    .await
}

struct PlanDraftParts {
    title: String,
    /// The unit the reaction is about (a unit down), whose area the proposal belongs to.
    focus: Option<String>,
    problem: PlantProblem,
    schedule: PlantSchedule,
    trigger: Trigger,
    alternatives: Vec<Alternative>,
}

async fn propose(
    app: &App,
    settings: &AgentSettings,
    name: &str,
    basis: &PlanVersion,
    parts: PlanDraftParts,
) -> Result<Outcome, AppError> {
    let who = agent(name, &settings.scope);
    let catalog = app.catalog().await?;
    let area = match &parts.focus {
        Some(unit) => catalog
            .unit_area(&model::UnitId::from(unit.as_str()))
            .map(ToString::to_string),
        None => None,
    }
    .or_else(|| {
        let before = in_force::rebase(basis, &parts.problem);
        busiest_area(&catalog, &before, &parts.schedule)
    });
    let draft = PlanDraft {
        title: parts.title,
        area,
        problem: parts.problem,
        schedule: parts.schedule,
        basis: Some(basis.header.version),
        trigger: parts.trigger,
        engine: engine(name),
        alternatives: parts.alternatives,
    };
    match in_force::propose(app, &who, draft).await {
        Ok(proposal) => Ok(Outcome::Proposed(Box::new(proposal))),
        Err(AppError::NothingToCommit(why)) => Ok(Outcome::Nothing(why)),
        Err(e) => Err(e),
    }
}

/// The area with the most operations whose unit or start differs between `before` and
/// `after` (ties to the first by name): the proposal's primary area. Every area the change
/// touches is computed by governance anyway; this one only names where it mostly acts.
fn busiest_area(
    catalog: &model::Catalog,
    before: &PlantSchedule,
    after: &PlantSchedule,
) -> Option<String> {
    let was: std::collections::HashMap<&str, (&str, i64)> = before
        .assignments
        .iter()
        .map(|a| (a.op.as_str(), (a.unit.as_str(), a.start)))
        .collect();
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for a in &after.assignments {
        if was.get(a.op.as_str()) == Some(&(a.unit.as_str(), a.start)) {
            continue;
        }
        if let Some(area) = catalog.unit_area(&model::UnitId::from(a.unit.as_str())) {
            *counts.entry(area.to_string()).or_default() += 1;
        }
    }
    let most = counts.values().copied().max()?;
    counts.into_iter().find(|(_, n)| *n == most).map(|(a, _)| a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_list_at_most_three_names() {
        let names: Vec<String> = (1..=7).map(|i| format!("MAT-{i}")).collect();
        assert_eq!(listed(&names[..2]), "MAT-1, MAT-2");
        assert_eq!(listed(&names), "MAT-1, MAT-2, MAT-3 and 4 more");
    }

    #[test]
    fn the_seed_depends_on_the_events_answered_and_on_nothing_else() {
        let a = seed_for(7, &["e1".into(), "e2".into()]);
        assert_eq!(a, seed_for(7, &["e1".into(), "e2".into()]));
        assert_ne!(a, seed_for(7, &["e1".into()]));
        assert_ne!(a, seed_for(8, &["e1".into(), "e2".into()]));
        // The separator keeps ["e1e2"] apart from ["e1", "e2"].
        assert_ne!(a, seed_for(7, &["e1e2".into()]));
    }
}
