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
//! binary call [`analyze`] and convert at the edge. The conventions follow the SPC
//! vectors README (`testdata/quality/vectors/README.md`), which is the contract.
//!
//! Entry points:
//!
//! * JSON contract: [`analyze`] / [`analyze_json`] with [`AnalyzeRequest`] →
//!   [`AnalyzeResponse`] (the request and response shapes of the SPC vectors);
//! * CSV: [`csv::parse_csv`], [`csv::request_from_csv`], [`csv::analyze_csv`] with
//!   [`csv::CsvOptions`];
//! * phase II streaming: [`ChartMonitor`] (from a charted phase I) and the bare rule
//!   evaluator [`Monitor`];
//! * typed charts: [`shewhart`], [`ewma`], [`cusum`], [`capability`], [`t2`];
//! * root cause: [`rootcause::rank`], [`rootcause::rank_boolean`], [`rootcause::rank_numeric`],
//!   and through genealogy from the plant's events, [`upstream::rank_upstream`];
//! * enforcement: [`policy::QualityPolicy`] (the enterprise rule set, shipped in
//!   `data/quality-policy.json`) and [`enforce::Enforcer`] (results → alerts, holds, NCs),
//!   [`enforce::chart`] for chart data;
//! * nonconformance: [`nc::Nonconformance::open`] / [`nc::Nonconformance::apply`] and
//!   [`nc::release_gate`].
//!
//! Code map: `special` (log-gamma, incomplete beta/gamma, Beta/F quantiles, Φ),
//! `constants` (d2, d3, c4 and factors), `estimate` (validation, phase-I estimators),
//! `rules` (rule selection and the batch evaluator — the independent checker of `monitor`),
//! `monitor` (O(1) streaming rules), `phase2` (streaming charts), `api` (JSON contract),
//! `policy` (the enterprise rule set), `enforce` (alerts and reactions), `time` (integer
//! times inside, RFC 3339 at the edges).
//!
//! Architecture invariant: this crate is pure. It does no I/O, reads no clock and knows no
//! database or HTTP; results, limits and times arrive as arguments, and alerts, holds and
//! nonconformances leave as values for the caller to persist.

pub mod api;
pub mod capability;
pub mod constants;
pub mod csv;
pub mod cusum;
pub mod enforce;
pub mod error;
pub mod estimate;
pub mod ewma;
pub mod monitor;
pub mod nc;
pub mod phase2;
pub mod policy;
pub mod rootcause;
pub mod rules;
pub mod shewhart;
pub mod special;
pub mod t2;
pub mod time;
pub mod upstream;

pub use crate::csv::{CsvOptions, analyze_csv, request_from_csv};
pub use api::{AnalyzeRequest, AnalyzeResponse, ChartKind, analyze, analyze_json};
pub use error::QualityError;
pub use monitor::{Fired, Monitor, Side};
pub use phase2::{ChartMonitor, PointOutcome};
pub use rules::{PointLimits, RuleSelection, RuleSet, Violation};
