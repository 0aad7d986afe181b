//! The job-shop benchmark core: classic and flexible job shops, the shape of the public
//! benchmark sets, with the makespan as the one objective.
//!
//! - [`problem`]: jobs with ordered operations, each with one or more (machine, duration)
//!   alternatives;
//! - [`parse`]: the standard benchmark formats: JSPLIB job shop, Brandimarte `.fjs` flexible
//!   job shop and the `bounds.csv` tables;
//! - [`checker`]: the independent feasibility checker (shares no code with the solver);
//! - [`search`]: the anytime, multi-threaded, seed-deterministic optimiser: tabu search on
//!   critical blocks (N7 moves with approximate evaluation) plus machine reassignment for the
//!   flexible case;
//! - [`schedule`]: the solver's output;
//! - [`bench`]: the benchmark runner returning gap tables.
//!
//! Its peer [`crate::plant`] is the mixed-mode engine; the two share only
//! [`crate::termination`] and the seeded generator of `model`.

pub mod bench;
pub mod checker;
pub mod parse;
pub mod problem;
pub mod schedule;
pub mod search;
