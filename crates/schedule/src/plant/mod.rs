//! The mixed-mode scheduling engine: discrete, process and repetitive work on shared units,
//! pools and materials.
//!
//! - [`problem`]: the native JSON problem format (with a JSON Schema); its validation
//!   (`PlantProblem::validate`) lives in `validate.rs`;
//! - [`from_model`]: the mapping from the plant model and its current state to a problem;
//! - [`anytime`]: a solve that records the best objective over time (for benchmarks);
//! - [`bound`]: lower bounds on every objective term (how far a plan may be from the best);
//! - [`checker`]: the independent checker (shares no code with the solver);
//! - [`construct`]: the compiled model and the schedule generation scheme (first feasible);
//! - [`improve`]: the anytime, multi-threaded, seed-deterministic optimiser;
//! - [`repair`]: rescheduling after downtime or a rush order, moving as little as needed;
//! - [`generate`]: seeded random instances using every constraint type;
//! - [`risk`]: on-time-delivery risk per order by Monte Carlo over durations;
//! - [`scenario`]: what-if schedules (presets, overtime on the bottleneck, deferral of
//!   low-priority orders) ranked by weighted KPIs including that risk;
//! - [`explain`]: for each late order the chain of waits that made it late, and the load of
//!   every unit and pool ranked as bottlenecks (from the problem and any schedule).
//!
//! Like the rest of the crate it is pure: no I/O and no clock.

pub mod anytime;
pub mod bound;
mod chain;
pub mod checker;
pub mod construct;
pub mod exact;
pub mod explain;
pub mod from_model;
pub mod generate;
pub mod improve;
mod interval;
pub mod problem;
pub mod repair;
pub mod risk;
pub mod scenario;
mod validate;

pub use checker::{CheckReport, Kpis, Violation, check};
pub use construct::{Model, Score};
pub use explain::{Explanation, explain};
pub use improve::{
    PlantProgress, PlantSolution, PlantSolveError, PlantSolveOptions, first_feasible, improve,
    solve_plant,
};
pub use problem::{
    Assignment, Objective, PlantProblem, PlantSchedule, Preset, ProblemError, problem_schema,
};
