//! `quality`: the statistical process control (SPC) engine of mixplane.
//!
//! **What it owns.** Control charts (I-MR, X̄-R, X̄-S, p, np, c, u, EWMA, tabular CUSUM,
//! Hotelling T²) with phase-I limit estimation and phase-II monitoring; Nelson and Western
//! Electric run rules, batch ([`rules::evaluate`]) and streaming ([`monitor::Monitor`]);
//! process capability; the control-chart constants; the JSON request/response contract
//! ([`analyze`]); CSV input parsing ([`csv`]); cross-mode root-cause ranking
//! ([`rootcause`]); the nonconformance workflow and the release gate ([`nc`]).
//!
//! **Architecture invariant.** This crate is pure: plain data in, plain data out. It does no
//! I/O, reads no clock (timestamps are passed in by the caller), touches no database and
//! prints nothing. It knows nothing about HTTP, SQL or the CLI; `server` and the `mixplane`
//! binary call [`analyze`] and convert at the edge. The conventions follow the shared
//! vectors README (`shared/quality/vectors/README.md`), which is the contract.
//!
//! Entry points: [`analyze`] / [`AnalyzeRequest`] / [`AnalyzeResponse`];
//! [`csv::parse_csv`] and [`csv::request_from_csv`]; [`rootcause::rank_boolean`] and
//! [`rootcause::rank_numeric`]; [`nc::Nonconformance`] and [`nc::release_gate`].

pub mod api;
pub mod capability;
pub mod constants;
pub mod csv;
pub mod cusum;
pub mod error;
pub mod estimate;
pub mod ewma;
pub mod monitor;
pub mod nc;
pub mod phase2;
pub mod rootcause;
pub mod rules;
pub mod shewhart;
pub mod special;
pub mod t2;

pub use api::{AnalyzeRequest, AnalyzeResponse, ChartKind, analyze, analyze_json};
pub use error::QualityError;
pub use monitor::{Fired, Monitor};
pub use phase2::{ChartMonitor, PointOutcome};
pub use rules::{PointLimits, RuleSelection, RuleSet, Violation};
