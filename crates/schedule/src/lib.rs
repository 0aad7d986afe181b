//! `schedule`: the finite-scheduling engine of mixplane (capability C2).
//!
//! What this crate owns:
//! - the scheduling problem model ([`problem`]): jobs with ordered operations, each with one
//!   or more (machine, duration) alternatives — the core that the mixed-mode constraints
//!   (release/due dates, changeovers, pooled resources, materials) will grow on;
//! - parsers for the standard benchmark formats ([`parse`]): JSPLIB job shop, Brandimarte
//!   `.fjs` flexible job shop and the `bounds.csv` tables;
//! - an independent feasibility checker ([`checker`]) that shares no code with the solver;
//! - an anytime, multi-threaded, seed-deterministic optimiser ([`search`]): tabu search on
//!   critical blocks (N7 moves with approximate evaluation) plus machine reassignment for the
//!   flexible case;
//! - a benchmark runner ([`bench`]) returning gap tables.
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

pub mod bench;
pub mod checker;
pub mod parse;
pub mod plant;
pub mod problem;
pub mod rng;
pub mod schedule;
pub mod search;
pub mod termination;

pub use checker::{CheckReport, Violation, check};
pub use parse::{BoundRow, ParseError, parse_bounds, parse_fjs, parse_jsplib};
pub use problem::{Alternative, Job, Operation, Problem, ProblemError};
pub use schedule::{Schedule, ScheduledOp};
pub use search::{Progress, SolveError, SolveOptions, SolveResult, solve};
pub use termination::{Either, Never, StopFlag, Termination, TimeLimit};
