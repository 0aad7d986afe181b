//! What an operator tunes about the live agents (`[agents]` in the configuration file):
//! whether they run, how a burst of events is gathered, the engines' budgets, the improver's
//! cadence and threshold, and the scope the agents act in.

use serde::Deserialize;

/// The live agents' settings; every field has a default.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AgentSettings {
    /// Run the agents under `serve` and `demo`.
    pub enabled: bool,
    /// How often the log is looked at for new events, milliseconds.
    pub poll_ms: u64,
    /// A burst ends when no further trigger arrives for this long, milliseconds.
    pub quiet_ms: u64,
    /// …or at the latest this long after its first trigger, milliseconds.
    pub max_wait_ms: u64,
    /// Improvement iterations of a repair after equipment goes down or comes back.
    pub repair_iterations: u64,
    /// Improvement iterations of a re-plan around orders or material.
    pub replan_iterations: u64,
    /// Improvement iterations of each what-if offered beside a re-plan.
    pub scenario_iterations: u64,
    /// Monte Carlo runs of each what-if's lateness risk.
    pub risk_runs: usize,
    /// Improvement iterations of the cadence improver.
    pub improve_iterations: u64,
    /// Plant minutes between two runs of the improver; 0 = never.
    pub improve_every_minutes: i64,
    /// The improver proposes only a plan whose objective is at least this much lower, percent.
    pub improve_min_percent: f64,
    /// A search that has not used its iteration budget stops after this long anyway, seconds
    /// (a slow machine's safety net; the budget, not the clock, decides the answer).
    pub safety_net_seconds: f64,
    /// The base of every reaction's seed.
    pub seed: u64,
    /// The scope the agents act in: `*`, `site:<id>` or `area:<id>`.
    #[serde(deserialize_with = "scope")]
    pub scope: govern::Scope,
}

fn scope<'de, D: serde::Deserializer<'de>>(d: D) -> Result<govern::Scope, D::Error> {
    let text = String::deserialize(d)?;
    text.parse().map_err(serde::de::Error::custom)
}

impl Default for AgentSettings {
    fn default() -> AgentSettings {
        AgentSettings {
            enabled: true,
            poll_ms: 50,
            quiet_ms: 150,
            max_wait_ms: 500,
            repair_iterations: 300,
            replan_iterations: 300,
            scenario_iterations: 150,
            risk_runs: 50,
            improve_iterations: 2_000,
            improve_every_minutes: 240,
            improve_min_percent: 5.0,
            safety_net_seconds: 5.0,
            seed: 0,
            scope: govern::Scope::All,
        }
    }
}

impl AgentSettings {
    /// Refuses settings that cannot work, naming the field.
    pub fn validate(&self) -> Result<(), String> {
        let positive = [
            ("poll_ms", self.poll_ms),
            ("max_wait_ms", self.max_wait_ms),
            ("repair_iterations", self.repair_iterations),
            ("replan_iterations", self.replan_iterations),
            ("scenario_iterations", self.scenario_iterations),
            ("improve_iterations", self.improve_iterations),
        ];
        for (name, value) in positive {
            if value == 0 {
                return Err(format!("agents.{name}: must be at least 1"));
            }
        }
        if self.quiet_ms > self.max_wait_ms {
            return Err(format!(
                "agents.quiet_ms: {} is longer than agents.max_wait_ms {}",
                self.quiet_ms, self.max_wait_ms
            ));
        }
        if !(1..=10_000).contains(&self.risk_runs) {
            return Err(format!(
                "agents.risk_runs: must be 1 to 10000, got {}",
                self.risk_runs
            ));
        }
        if self.improve_every_minutes < 0 {
            return Err("agents.improve_every_minutes: must be 0 (never) or more".into());
        }
        if !(self.improve_min_percent.is_finite() && self.improve_min_percent >= 0.0) {
            return Err("agents.improve_min_percent: must be 0 or more".into());
        }
        if !(self.safety_net_seconds.is_finite() && self.safety_net_seconds > 0.0) {
            return Err("agents.safety_net_seconds: must be more than 0".into());
        }
        Ok(())
    }
}
