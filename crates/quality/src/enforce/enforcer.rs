//! The [`Enforcer`]: results become plotted points (subgroups wait until complete), points
//! are charted, and a signalling point becomes an alert with the holds and nonconformance its
//! severity calls for.

use std::collections::{BTreeMap, BTreeSet};

use crate::api::ChartKind;
use crate::monitor::Side;
use crate::policy::{HoldScope, QualityPolicy, ResolvedPolicy, Severity, Transform};
use crate::rules::{PointLimits, RuleSet};

use super::freeze::{freeze, step};
use super::input::{CharacteristicSpec, Genealogy, ItemKind, ItemRef, ResultInput};
use super::output::{Alert, ChartPoint, HoldAction, HoldLink, Limits, NcAction, Outcome};
use super::state::{EnforcerState, Pending};

/// Streams quality results through one chart per characteristic under a [`QualityPolicy`].
#[derive(Debug, Clone)]
pub struct Enforcer {
    pub(super) policy: QualityPolicy,
    pub(super) specs: BTreeMap<String, CharacteristicSpec>,
    pub(super) state: EnforcerState,
    pub(super) trace: Option<Vec<ChartPoint>>,
}

/// What a charted point fired.
pub(super) struct Signal {
    pub(super) value: f64,
    pub(super) limits: Limits,
    pub(super) rules: Vec<u8>,
    /// The side of the centre line of each fired rule's pattern (parallel to `rules`).
    pub(super) sides: Vec<Option<Side>>,
    pub(super) beyond: bool,
    /// The side of the limit the point is beyond.
    pub(super) beyond_side: Option<Side>,
    pub(super) dispersion: bool,
}

impl Signal {
    /// A chart whose one signal is its limit (EWMA, CUSUM): beyond it (on `side`) or not.
    pub(super) fn limit_only(
        value: f64,
        limits: Limits,
        beyond: bool,
        side: Option<Side>,
    ) -> Signal {
        Signal {
            value,
            limits,
            rules: if beyond { vec![1] } else { Vec::new() },
            sides: if beyond { vec![side] } else { Vec::new() },
            beyond,
            beyond_side: side,
            dispersion: false,
        }
    }
}

pub(super) fn plain(l: PointLimits) -> Limits {
    Limits {
        center: l.center,
        lcl: l.lcl,
        ucl: l.ucl,
    }
}

impl Enforcer {
    /// A fresh enforcer for these characteristics.
    pub fn new(policy: QualityPolicy, specs: Vec<CharacteristicSpec>) -> Enforcer {
        Enforcer::resume(policy, specs, EnforcerState::default())
    }

    /// An enforcer that continues from a saved state.
    pub fn resume(
        policy: QualityPolicy,
        specs: Vec<CharacteristicSpec>,
        state: EnforcerState,
    ) -> Enforcer {
        Enforcer {
            policy,
            specs: specs.into_iter().map(|s| (s.id.clone(), s)).collect(),
            state,
            trace: None,
        }
    }

    /// The running state (serialise it to resume later).
    pub fn state(&self) -> &EnforcerState {
        &self.state
    }

    /// The policy.
    pub fn policy(&self) -> &QualityPolicy {
        &self.policy
    }

    /// The resolved policy of a known characteristic.
    pub fn resolved(&self, id: &str) -> Option<ResolvedPolicy> {
        self.specs
            .get(id)
            .map(|s| self.policy.resolve(s.mode, &s.id))
    }

    /// Feeds results in order and returns the alerts and reactions they cause.
    pub fn feed(&mut self, results: &[ResultInput], genealogy: &dyn Genealogy) -> Outcome {
        let mut out = Outcome::default();
        for r in results {
            self.state.results += 1;
            let Some(spec) = self.specs.get(&r.characteristic).cloned() else {
                out.skipped += 1;
                continue;
            };
            let policy = self.policy.resolve(spec.mode, &spec.id);
            let scale = charted_scale(&spec, &policy);
            let transformed;
            let r = if scale == Transform::None {
                r
            } else {
                let Some(value) = scale.forward(r.value) else {
                    // A value the scale cannot take (zero or negative on a log chart).
                    self.state
                        .characteristics
                        .entry(spec.id.clone())
                        .or_default()
                        .skipped += 1;
                    out.skipped += 1;
                    continue;
                };
                transformed = ResultInput { value, ..r.clone() };
                &transformed
            };
            for point in self.collect(&spec, r, &mut out) {
                self.chart_point(&spec, &policy, point, genealogy, &mut out);
            }
        }
        // Each item is held once per feed (the first reason wins).
        let mut seen = BTreeSet::new();
        out.holds.retain(|h| seen.insert(h.item.clone()));
        out
    }

    /// Turns a result into zero or one plotted point (subgroups wait until complete).
    fn collect(
        &mut self,
        spec: &CharacteristicSpec,
        r: &ResultInput,
        out: &mut Outcome,
    ) -> Vec<Pending> {
        let st = self
            .state
            .characteristics
            .entry(spec.id.clone())
            .or_default();
        let one = Pending {
            values: vec![r.value],
            size: r.sample_size,
            items: r.items(),
            event_ids: vec![r.event_id.clone()],
            at: r.at,
        };
        match ChartKind::parse(&spec.chart) {
            Ok(ChartKind::XbarR | ChartKind::XbarS) => {
                let n = spec.subgroup_size.max(2);
                if let Some((sample, _)) = &st.subgroup
                    && *sample != r.sample
                {
                    // A new sample before the last one completed: the last is incomplete.
                    st.subgroup = None;
                    st.skipped += 1;
                    out.skipped += 1;
                }
                let (_, group) = st.subgroup.get_or_insert_with(|| {
                    (
                        r.sample,
                        Pending {
                            values: Vec::new(),
                            size: None,
                            items: Vec::new(),
                            event_ids: Vec::new(),
                            at: r.at,
                        },
                    )
                });
                group.values.push(r.value);
                for item in one.items {
                    if !group.items.contains(&item) {
                        group.items.push(item);
                    }
                }
                group.event_ids.push(r.event_id.clone());
                group.at = group.at.max(r.at);
                if group.values.len() >= n {
                    let (_, group) = st.subgroup.take().expect("just filled");
                    vec![group]
                } else {
                    Vec::new()
                }
            }
            Ok(
                ChartKind::Imr
                | ChartKind::P
                | ChartKind::Np
                | ChartKind::C
                | ChartKind::U
                | ChartKind::Ewma
                | ChartKind::Cusum,
            ) => vec![one],
            _ => {
                st.skipped += 1;
                out.skipped += 1;
                Vec::new()
            }
        }
    }

    fn chart_point(
        &mut self,
        spec: &CharacteristicSpec,
        policy: &ResolvedPolicy,
        point: Pending,
        genealogy: &dyn Genealogy,
        out: &mut Outcome,
    ) {
        let st = self
            .state
            .characteristics
            .entry(spec.id.clone())
            .or_default();
        if st.frozen.is_none() {
            st.phase1.push(point);
            let m = st.phase1.len();
            let enough = |k: usize| {
                k >= policy.phase1_points
                    && (k >= 10 * policy.phase1_points
                        || distinct_orders(&st.phase1[..k]) >= policy.phase1_min_orders)
            };
            // Freeze when there is first enough; after a failed estimate, retry every
            // `phase1_points` more points.
            let retry = enough(m) && (!enough(m - 1) || m.is_multiple_of(policy.phase1_points));
            if !retry {
                return;
            }
            let Some(frozen) = freeze(spec, policy, &st.phase1) else {
                return;
            };
            st.frozen = Some(frozen);
            let phase1 = std::mem::take(&mut st.phase1);
            for p in phase1 {
                self.monitor_point(spec, policy, p, 1, genealogy, out);
            }
        } else {
            self.monitor_point(spec, policy, point, 2, genealogy, out);
        }
    }

    fn monitor_point(
        &mut self,
        spec: &CharacteristicSpec,
        policy: &ResolvedPolicy,
        p: Pending,
        phase: u8,
        genealogy: &dyn Genealogy,
        out: &mut Outcome,
    ) {
        let st = self
            .state
            .characteristics
            .get_mut(&spec.id)
            .expect("state exists once a point is charted");
        let frozen = st.frozen.as_mut().expect("monitoring needs frozen limits");
        let Some(signal) = step(frozen, &p) else {
            st.skipped += 1;
            out.skipped += 1;
            return;
        };
        let index = st.points;
        st.points += 1;
        let scale = charted_scale(spec, policy);
        let signal = Signal {
            value: scale.back(signal.value),
            limits: back(scale, signal.limits),
            ..signal
        };
        if let Some(trace) = &mut self.trace {
            trace.push(ChartPoint {
                index,
                phase,
                value: signal.value,
                limits: signal.limits,
                rules: signal.rules.clone(),
                beyond_limits: signal.beyond,
                dispersion_out_of_control: signal.dispersion,
                items: p.items.clone(),
                at: p.at,
            });
        }
        if signal.rules.is_empty() && !signal.beyond && !signal.dispersion {
            return;
        }
        let judged = judge(spec, policy, &signal);
        let alert = Alert {
            id: format!("AL-{}-{index:06}", spec.id),
            characteristic: spec.id.clone(),
            mode: spec.mode,
            chart: spec.chart.clone(),
            index,
            phase,
            rule_set: policy.rule_set,
            rules: signal.rules.clone(),
            beyond_limits: signal.beyond,
            dispersion_out_of_control: signal.dispersion,
            good_side: !judged.adverse,
            good_side_rules: judged.good_side_rules,
            severity: judged.severity,
            value: signal.value,
            limits: signal.limits,
            items: p.items.clone(),
            event_ids: p.event_ids.clone(),
            at: p.at,
            policy_version: self.policy.version.clone(),
        };
        let severity = judged.severity;
        // A point whose every signal is on the good side of a one-sided specification is
        // reported only, whatever the policy does at its severity.
        if phase == 2 && judged.adverse {
            let reaction = policy.reaction(severity);
            let what = describe(&alert);
            let primary: Vec<ItemRef> = primary_items(&p.items);
            let mut held: Vec<(ItemRef, HoldLink)> = Vec::new();
            if reaction.hold != HoldScope::None {
                held.extend(primary.iter().map(|i| (i.clone(), HoldLink::Item)));
            }
            if reaction.hold == HoldScope::Linked {
                // Genealogy of the measured items themselves: what they were made from and
                // what was made from them (not their siblings from the same order). A serial
                // the genealogy does not know yet (measured before it was booked) is traced
                // upstream through the order it was measured on.
                for item in &primary {
                    let mut up = genealogy.upstream(item);
                    if up.is_empty() && item.kind != ItemKind::Order {
                        for order in p.items.iter().filter(|i| i.kind == ItemKind::Order) {
                            up.extend(genealogy.upstream(order));
                        }
                    }
                    held.extend(up.into_iter().map(|i| (i, HoldLink::Upstream)));
                    for down in genealogy.downstream(item) {
                        held.push((down, HoldLink::Downstream));
                    }
                }
            }
            let mut seen = BTreeSet::new();
            held.retain(|(i, _)| seen.insert(i.clone()));
            for (item, link) in &held {
                out.holds.push(HoldAction {
                    item: item.clone(),
                    link: *link,
                    reason: what.clone(),
                    alert_id: alert.id.clone(),
                    characteristic: spec.id.clone(),
                    at: p.at,
                });
            }
            let cooled = st
                .last_nc
                .is_none_or(|last| index >= last + policy.nc_cooldown_points);
            if reaction.nonconformance && cooled {
                st.last_nc = Some(index);
                let mut items: Vec<String> = p.items.iter().map(ItemRef::key).collect();
                for (item, _) in &held {
                    let key = item.key();
                    if !items.contains(&key) {
                        items.push(key);
                    }
                }
                out.nonconformances.push(NcAction {
                    id: format!("NC-{}-{index:06}", spec.id),
                    description: what,
                    items,
                    alert_id: alert.id.clone(),
                    characteristic: spec.id.clone(),
                    severity,
                    at: p.at,
                });
            }
        }
        out.alerts.push(alert);
    }
}

/// How a signalling point counts against the material.
struct Judged {
    /// Severity of the adverse signals (minor when every signal is on the good side).
    severity: Severity,
    /// Some signal is adverse: on the bad side, or with no side (dispersion, alternation,
    /// stratification, mixture, a pattern straddling the centre line) — or the
    /// specification is not one-sided.
    adverse: bool,
    /// Fired rules whose pattern lies on the good side.
    good_side_rules: Vec<u8>,
}

/// Splits a point's signals into good-side and adverse ones (see the module docs): the
/// severity comes from the adverse ones only, so a good-side signal never raises it.
fn judge(spec: &CharacteristicSpec, policy: &ResolvedPolicy, signal: &Signal) -> Judged {
    let good = spec.good_side();
    let on_good = |side: Option<Side>| good.is_some() && side == good;
    let mut severity = if signal.dispersion {
        policy.dispersion_severity
    } else {
        Severity::Minor
    };
    let mut adverse = signal.dispersion;
    let mut good_side_rules = Vec::new();
    let mut worse = |s: Severity| {
        if s.weight() > severity.weight() {
            severity = s;
        }
    };
    for (&r, &side) in signal.rules.iter().zip(&signal.sides) {
        if on_good(side) {
            good_side_rules.push(r);
        } else {
            adverse = true;
            worse(policy.rule_severity(r));
        }
    }
    if signal.beyond && !on_good(signal.beyond_side) {
        adverse = true;
        worse(policy.rule_severity(1));
    }
    Judged {
        severity,
        adverse,
        good_side_rules,
    }
}

/// Distinct orders among the points; points that name no order at all (a CSV upload) cannot
/// be told apart, so then there is no constraint.
pub(super) fn distinct_orders(points: &[Pending]) -> usize {
    let orders: BTreeSet<&str> = points
        .iter()
        .flat_map(|p| p.items.iter())
        .filter(|i| i.kind == ItemKind::Order)
        .map(|i| i.id.as_str())
        .collect();
    if orders.is_empty() {
        usize::MAX
    } else {
        orders.len()
    }
}

/// The scale a characteristic is charted on: the policy's transform for variables charts
/// of individual values and means; measured units for attribute and CUSUM charts, whose
/// plotted statistics are counts and cumulative sums.
pub(super) fn charted_scale(spec: &CharacteristicSpec, policy: &ResolvedPolicy) -> Transform {
    match ChartKind::parse(&spec.chart) {
        Ok(ChartKind::Imr | ChartKind::XbarR | ChartKind::XbarS | ChartKind::Ewma) => {
            policy.transform
        }
        _ => Transform::None,
    }
}

pub(super) fn back(scale: Transform, l: Limits) -> Limits {
    Limits {
        center: scale.back(l.center),
        lcl: scale.back(l.lcl),
        ucl: scale.back(l.ucl),
    }
}

/// The items a point stands for: its serials, else its lots, else its orders.
pub(super) fn primary_items(items: &[ItemRef]) -> Vec<ItemRef> {
    for kind in [ItemKind::Serial, ItemKind::Lot, ItemKind::Order] {
        let of: Vec<ItemRef> = items.iter().filter(|i| i.kind == kind).cloned().collect();
        if !of.is_empty() {
            return of;
        }
    }
    Vec::new()
}

pub(super) fn describe(a: &Alert) -> String {
    let mut parts = Vec::new();
    if !a.rules.is_empty() {
        let set = match a.rule_set {
            RuleSet::Nelson => "Nelson",
            RuleSet::WesternElectric => "Western Electric",
        };
        let list: Vec<String> = a.rules.iter().map(u8::to_string).collect();
        parts.push(format!("{set} rule {}", list.join(", ")));
    }
    if a.beyond_limits {
        parts.push(format!(
            "value {} beyond [{:.6}, {:.6}]",
            a.value, a.limits.lcl, a.limits.ucl
        ));
    }
    if a.dispersion_out_of_control {
        parts.push("dispersion out of control".into());
    }
    if !a.good_side_rules.is_empty() || a.good_side {
        let list: Vec<String> = a.good_side_rules.iter().map(u8::to_string).collect();
        parts.push(if a.good_side {
            "on the good side of a one-sided specification: reported, nothing held".to_string()
        } else {
            format!(
                "rule {} on the good side of a one-sided specification",
                list.join(", ")
            )
        });
    }
    format!(
        "{} point {} ({} {}): {}",
        a.characteristic,
        a.index,
        a.severity.name(),
        a.chart,
        parts.join("; ")
    )
}
