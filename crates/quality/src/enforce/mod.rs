//! Enforcement: quality results in, alerts and the reactions the policy decides out.
//!
//! An [`Enforcer`] is fed quality results in log order. It keeps one chart per
//! characteristic: phase I collects the first `phase1_points` points (individual values,
//! complete subgroups of the same `sample`, or counts with their sizes) — more if they do not
//! yet come from `phase1_min_orders` distinct orders — freezes the limits
//! with the batch chart functions, then re-charts those points and every later one through a
//! streaming [`ChartMonitor`](crate::ChartMonitor) (EWMA and tabular CUSUM characteristics stream through small
//! recursions here). A point that fires a rule, falls beyond a limit or whose dispersion
//! (MR, R, S) is out of control raises an [`Alert`]. For phase-II alerts the
//! [`ResolvedPolicy`](crate::policy::ResolvedPolicy) decides by severity what is held — the measured item, or the item and
//! what is linked to it through the caller's [`Genealogy`] — and whether a nonconformance
//! opens (at most one per characteristic per `nc_cooldown_points`). Phase-I alerts are
//! reported but trigger nothing: the limits did not exist when that material was made.
//!
//! **One-sided specifications.** A characteristic with only an upper specification limit
//! (leak rate, residual monomer: smaller is better) has its good side *below* the centre
//! line; with only a lower limit, *above* it ([`CharacteristicSpec::good_side`]). A signal
//! is on the good side when its evidence lies wholly there:
//!
//! * beyond a control limit (rule 1, an EWMA or CUSUM limit): the point is beyond the limit
//!   on the good side (below the LCL with only a USL; a CUSUM's lower sum);
//! * a run or zone pattern (Nelson 2, 5, 6; Western Electric 2, 3, 4): every point of the
//!   rule's window lies strictly on the good side of the centre line
//!   ([`Monitor::pattern_side`](crate::Monitor::pattern_side));
//! * a trend (Nelson 3): every point of its six lies on the good side *and* it runs toward
//!   it (falling, with only a USL).
//!
//! Everything else counts against the material as before: the other side, a window that
//! straddles the centre line, the rules without a side (alternation, stratification,
//! mixture) and dispersion signals (MR, R, S). A point's severity is that of its adverse
//! signals only (minor when there are none); a point whose every signal is on the good side
//! is reported — [`Alert::good_side`], with [`Alert::good_side_rules`] naming them — and
//! holds nothing and opens no nonconformance, whatever the policy does at that severity: a
//! process that got better, or a gauge that reads low, is worth a look, not a quarantine.
//! Characteristics charted on a log scale are judged on it; the logarithm keeps the order
//! of values, so "below the centre line" there is below the geometric mean in measured units.
//! Two limits, or none, have no good side: every signal counts.
//!
//! The enforcer is pure and deterministic; its running state ([`EnforcerState`]) serialises,
//! so a caller can persist it with the alerts it produced and resume after a restart with the
//! same answers. [`chart`] replays one characteristic's results into a [`ChartView`].
//!
//! Code map: `input` (what the enforcer reads: characteristics, results, items and the
//! caller's genealogy), `output` (what it answers: alerts, holds, nonconformances, chart
//! points), `state` (the serialisable running state), `enforcer` (the [`Enforcer`]: results
//! to points, points to alerts and reactions), `freeze` (limits frozen from phase I and each
//! later point charted against them), `view` ([`chart`], one characteristic replayed).

mod enforcer;
mod freeze;
mod input;
mod output;
mod state;
mod view;

pub use enforcer::Enforcer;
pub use input::{CharacteristicSpec, Genealogy, ItemKind, ItemRef, NoGenealogy, ResultInput};
pub use output::{Alert, ChartPoint, ChartView, HoldAction, HoldLink, Limits, NcAction, Outcome};
pub use state::EnforcerState;
pub use view::chart;

#[cfg(test)]
mod one_sided_tests;
#[cfg(test)]
mod tests;
