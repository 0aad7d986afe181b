//! `schedule`: the finite-scheduling engine of mixplane (capability C2).
//!
//! Two engines, peers that share only the termination conditions ([`termination`]) and the
//! seeded generator (`model::rng`):
//! - [`jobshop`], the benchmark core: the job-shop problem model (jobs with ordered
//!   operations, each with one or more (machine, duration) alternatives), parsers for the
//!   standard benchmark formats (JSPLIB, Brandimarte `.fjs`, `bounds.csv`), an independent
//!   feasibility checker that shares no code with the solver, an anytime, multi-threaded,
//!   seed-deterministic tabu search, and a benchmark runner returning gap tables. Its main
//!   items are re-exported here ([`solve`], [`check`], [`parse_jsplib`], …);
//! - [`plant`], the mixed-mode engine: discrete, process and repetitive work on shared
//!   units, pools and materials, with its own independent checker, repair, risk, what-if
//!   scenarios and explanations.
//!
//! ```
//! use schedule::{Never, SolveOptions, check, parse_jsplib, solve};
//!
//! let problem = parse_jsplib("2 2\n0 3 1 2\n1 4 0 1\n").unwrap();
//! let options = SolveOptions { seed: 7, threads: 2, max_iterations: Some(1_000), ..Default::default() };
//! let result = solve(&problem, &options, &mut Never, &mut |_progress| {}).unwrap();
//! let report = check(&problem, &result.schedule.ops, Some(result.schedule.makespan));
//! assert!(report.is_feasible());
//! assert_eq!(result.schedule.makespan, 6);
//! ```
//!
//! For a time limit pass a [`TimeLimit`] whose `clock` reads the caller's `Instant`; for
//! cancellation a [`StopFlag`]; combine both with [`Either`].
//!
//! Architecture invariants — what this crate must NOT do:
//! - no I/O (files, network, stdout) outside `examples/`, `benches/` and tests;
//! - no clock: time limits arrive through the caller-supplied [`termination::Termination`];
//! - no HTTP, SQL or async runtime; plain data in, plain data out.

mod index;
pub mod jobshop;
pub mod plant;
pub mod termination;

/// Kept at its old path for the callers that name the module (`schedule::bench::…`).
pub use jobshop::bench;
pub use jobshop::checker::{CheckReport, Violation, check};
pub use jobshop::parse::{BoundRow, ParseError, parse_bounds, parse_fjs, parse_jsplib};
pub use jobshop::problem::{Alternative, Job, Operation, Problem, ProblemError};
pub use jobshop::schedule::{Schedule, ScheduledOp};
pub use jobshop::search::{Progress, SolveError, SolveOptions, SolveResult, solve};
pub use termination::{Either, Never, StopFlag, Termination, TimeLimit};
