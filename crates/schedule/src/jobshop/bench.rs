//! Benchmark runner: solve a list of named instances, re-verify every answer with the
//! independent [`super::checker`], and report gaps to the best known upper bounds, per
//! instance and per instance group.
//!
//! No clock here: the caller supplies one [`Termination`] per instance (e.g. a closure
//! reading `Instant` for a time limit).

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::checker::{Violation, check};
use super::problem::Problem;
use super::search::{SolveError, SolveOptions, solve};
use crate::termination::Termination;

/// One benchmark instance.
#[derive(Debug, Clone)]
pub struct BenchInstance {
    /// Name, e.g. `ta01` or `mk03`.
    pub name: String,
    /// The problem.
    pub problem: Problem,
    /// Best known makespan (BKS), if any.
    pub best_known: Option<u64>,
    /// Proven optimum, if any: the search stops once it reaches it.
    pub optimum: Option<u64>,
}

/// One result row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchRow {
    /// Instance name.
    pub instance: String,
    /// Group of the instance (see [`instance_group`]).
    pub group: String,
    /// Makespan found (checked feasible).
    pub makespan: u64,
    /// Best known makespan.
    pub best_known: Option<u64>,
    /// `100 * (makespan - best_known) / best_known`.
    pub gap_percent: Option<f64>,
    /// Iterations summed over threads.
    pub iterations: u64,
}

/// Mean gap of one group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupRow {
    /// Group name.
    pub group: String,
    /// Number of instances with a known bound.
    pub count: usize,
    /// Mean gap in percent.
    pub mean_gap_percent: f64,
}

/// Full report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchReport {
    /// One row per instance, in input order.
    pub rows: Vec<BenchRow>,
    /// One row per group, in order of first appearance.
    pub groups: Vec<GroupRow>,
}

/// Why a benchmark run failed.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum BenchError {
    /// The solver refused the instance.
    #[error("instance {instance}: {source}")]
    Solve {
        /// Instance name.
        instance: String,
        /// Cause.
        source: SolveError,
    },
    /// The checker found the solver's schedule infeasible — a solver bug.
    #[error("instance {instance}: solver returned an INFEASIBLE schedule: {violations:?}")]
    Infeasible {
        /// Instance name.
        instance: String,
        /// What the checker found.
        violations: Vec<Violation>,
    },
}

/// Group of a benchmark instance name: `ft06`/`ft10`/`ft20` alone, `la01-05` … `la36-40`,
/// `abz5-6`, `abz7-9`, `orb01-05`, `orb06-10`, `swv01-05` …, `yn`, `ta01-10` …, `mk01-10`.
pub fn instance_group(name: &str) -> String {
    let digits: String = name.chars().filter(char::is_ascii_digit).collect();
    let prefix: String = name.chars().take_while(|c| !c.is_ascii_digit()).collect();
    let num: u32 = digits.parse().unwrap_or(0);
    let range = |size: u32| {
        let lo = (num.saturating_sub(1) / size) * size + 1;
        format!("{prefix}{lo:02}-{:02}", lo + size - 1)
    };
    match prefix.as_str() {
        "ft" => name.to_string(),
        "la" | "orb" | "swv" => range(5),
        "ta" => range(10),
        "abz" => {
            if num <= 6 {
                "abz5-6".into()
            } else {
                "abz7-9".into()
            }
        }
        "yn" => "yn".into(),
        "mk" => {
            if num <= 10 {
                "mk01-10".into()
            } else {
                "mk11-15".into()
            }
        }
        _ => prefix,
    }
}

/// Runs every instance with `options`, using `termination_for(name)` as its stop rule;
/// `on_row` sees each row as soon as it is ready. Fails on the first infeasible answer.
pub fn run_bench(
    instances: &[BenchInstance],
    options: &SolveOptions,
    termination_for: &mut dyn FnMut(&str) -> Box<dyn Termination>,
    on_row: &mut dyn FnMut(&BenchRow),
) -> Result<BenchReport, BenchError> {
    let mut rows = Vec::with_capacity(instances.len());
    for inst in instances {
        let mut term = termination_for(&inst.name);
        let mut opts = options.clone();
        if inst.optimum.is_some() {
            opts.target_makespan = inst.optimum;
        }
        let res = solve(&inst.problem, &opts, term.as_mut(), &mut |_| {}).map_err(|source| {
            BenchError::Solve {
                instance: inst.name.clone(),
                source,
            }
        })?;
        let report = check(
            &inst.problem,
            &res.schedule.ops,
            Some(res.schedule.makespan),
        );
        if !report.is_feasible() {
            return Err(BenchError::Infeasible {
                instance: inst.name.clone(),
                violations: report.violations,
            });
        }
        let makespan = report.makespan;
        let gap_percent = inst
            .best_known
            .filter(|&b| b > 0)
            .map(|b| 100.0 * (makespan as f64 - b as f64) / b as f64);
        let row = BenchRow {
            instance: inst.name.clone(),
            group: instance_group(&inst.name),
            makespan,
            best_known: inst.best_known,
            gap_percent,
            iterations: res.iterations,
        };
        on_row(&row);
        rows.push(row);
    }
    let groups = group_means(&rows);
    Ok(BenchReport { rows, groups })
}

/// Mean gap per group, in order of first appearance.
pub fn group_means(rows: &[BenchRow]) -> Vec<GroupRow> {
    let mut groups: Vec<(String, f64, usize)> = Vec::new();
    for r in rows {
        let Some(g) = r.gap_percent else { continue };
        match groups.iter_mut().find(|x| x.0 == r.group) {
            Some(x) => {
                x.1 += g;
                x.2 += 1;
            }
            None => groups.push((r.group.clone(), g, 1)),
        }
    }
    groups
        .into_iter()
        .map(|(group, sum, count)| GroupRow {
            group,
            count,
            mean_gap_percent: sum / count as f64,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups() {
        assert_eq!(instance_group("ft10"), "ft10");
        assert_eq!(instance_group("la36"), "la36-40");
        assert_eq!(instance_group("la05"), "la01-05");
        assert_eq!(instance_group("abz8"), "abz7-9");
        assert_eq!(instance_group("orb03"), "orb01-05");
        assert_eq!(instance_group("ta21"), "ta21-30");
        assert_eq!(instance_group("ta30"), "ta21-30");
        assert_eq!(instance_group("mk07"), "mk01-10");
        assert_eq!(instance_group("yn3"), "yn");
    }
}
