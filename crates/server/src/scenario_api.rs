//! `POST /v1/schedule/scenarios`: 3–5 what-if schedules of a native problem, each with KPIs
//! and Monte Carlo on-time risk per order, ranked by weighted KPIs (`schedule::plant::scenario`).
//!
//! The wall-clock budget covers all scenarios together and is split evenly between them;
//! with `iterations` and no time limit the answer is reproducible for a seed. Every returned
//! schedule has passed the independent checker against its scenario's problem (the original
//! plus the scenario's overtime windows); one that does not is a 500, never an answer.

use std::time::Instant;

use axum::http::Method;
use axum::routing::post;
use schemars::JsonSchema;
use serde::Deserialize;

use schedule::plant::problem::{PlantProblem, PlantSchedule};
use schedule::plant::scenario::{
    RankingWeights, ScenarioError, ScenarioKind, ScenarioOptions, ScenarioReport, run_scenarios,
};
use schedule::{Termination, TimeLimit};

use crate::api::Json200;
use crate::extract::Json;
use crate::problem::Problem;
use crate::routes::{Endpoint, Permission};
use crate::schedule_api::{blocking, checked, impossible};

pub fn endpoints() -> Vec<Endpoint> {
    vec![Endpoint {
        method: Method::POST,
        path: "/v1/schedule/scenarios",
        operation_id: "scheduleScenarios",
        summary: "What-if schedules (objective presets, overtime on the bottleneck, deferral of low-priority orders) with on-time risk per order, ranked by weighted KPIs",
        tag: "schedule",
        params: &[],
        request: Some(|g| g.subschema_for::<ScenariosRequest>()),
        response: |g| g.subschema_for::<ScenarioReport>(),
        success_status: 200,
        writes: false,
        permission: Permission::WriteSchedule,
        handler: || post(scenarios),
    }]
}

/// A native problem and what to compare.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenariosRequest {
    pub problem: PlantProblem,
    /// The schedule in force: `as_planned` is this plan and every what-if starts from it
    /// (without it `as_planned` is solved too).
    #[serde(default)]
    pub plan: Option<PlantSchedule>,
    /// What-ifs after `as_planned` (2 to 5); default `maximize_throughput`,
    /// `minimize_changeovers`, `overtime_on_bottleneck`, `defer_low_priority`.
    #[serde(default)]
    pub scenarios: Option<Vec<ScenarioKind>>,
    /// KPI weights of the ranking (default 1 each).
    #[serde(default)]
    pub ranking: Option<RankingWeights>,
    /// Monte Carlo runs per scenario (default 200).
    #[serde(default)]
    pub risk_runs: Option<usize>,
    /// Log-sigma of the duration factor in the risk runs (default 0.15).
    #[serde(default)]
    pub duration_spread: Option<f64>,
    /// Overtime after each shift of the bottleneck, minutes (default 120).
    #[serde(default)]
    pub overtime_minutes: Option<i64>,
    /// How much later the lowest-priority orders may finish, minutes (default 1440).
    #[serde(default)]
    pub defer_minutes: Option<i64>,
    /// Wall-clock budget for all scenarios together, seconds (default 5, at most 60).
    #[serde(default)]
    pub time_limit_seconds: Option<f64>,
    /// Iteration budget per thread and scenario (reproducible answers).
    #[serde(default)]
    pub iterations: Option<u64>,
    #[serde(default)]
    pub seed: u64,
    /// Search threads (1 to 4).
    #[serde(default)]
    pub threads: Option<usize>,
}

impl ScenariosRequest {
    fn options(&self) -> ScenarioOptions {
        let d = ScenarioOptions::default();
        ScenarioOptions {
            seed: self.seed,
            threads: self.threads.unwrap_or(1).clamp(1, 4),
            max_iterations: self.iterations,
            scenarios: self.scenarios.clone().unwrap_or(d.scenarios),
            risk_runs: self.risk_runs.unwrap_or(d.risk_runs),
            duration_spread: self.duration_spread.unwrap_or(d.duration_spread),
            overtime_minutes: self.overtime_minutes.unwrap_or(d.overtime_minutes),
            defer_minutes: self.defer_minutes.unwrap_or(d.defer_minutes),
            ranking: self.ranking.unwrap_or(d.ranking),
        }
    }

    /// Seconds each scenario may search.
    fn slice_seconds(&self, scenarios: usize) -> f64 {
        let total = match (self.time_limit_seconds, self.iterations) {
            (Some(t), _) => t.clamp(0.0, 60.0),
            // An iteration budget alone: the clock is only a safety net.
            (None, Some(_)) => 60.0,
            (None, None) => 5.0,
        };
        total / scenarios.max(1) as f64
    }
}

async fn scenarios(
    Json(request): Json<ScenariosRequest>,
) -> Result<Json200<ScenarioReport>, Problem> {
    blocking(move || {
        let options = request.options();
        let slice = request.slice_seconds(options.scenarios.len() + 1);
        let mut termination_for = |_kind| {
            let started = Instant::now();
            Box::new(TimeLimit {
                clock: move || started.elapsed().as_secs_f64(),
                limit_seconds: slice,
            }) as Box<dyn Termination>
        };
        let report = run_scenarios(
            &request.problem,
            request.plan.as_ref(),
            &options,
            &mut termination_for,
            &mut |_, _| {},
        )
        .map_err(|e| match e {
            ScenarioError::Options(message) => Problem::unprocessable(message),
            ScenarioError::Solve(e) => impossible(e),
        })?;
        for s in &report.scenarios {
            checked(
                &report.problem_of(&request.problem, s.scenario),
                &s.schedule,
            )?;
        }
        Ok(Json200(report))
    })
    .await
}
