//! Enforcement: quality results in, alerts and the reactions the policy decides out.
//!
//! An [`Enforcer`] is fed quality results in log order. It keeps one chart per
//! characteristic: phase I collects the first `phase1_points` points (individual values,
//! complete subgroups of the same `sample`, or counts with their sizes) — more if they do not
//! yet come from `phase1_min_orders` distinct orders — freezes the limits
//! with the batch chart functions, then re-charts those points and every later one through a
//! streaming [`ChartMonitor`] (EWMA and tabular CUSUM characteristics stream through small
//! recursions here). A point that fires a rule, falls beyond a limit or whose dispersion
//! (MR, R, S) is out of control raises an [`Alert`]. For phase-II alerts the
//! [`ResolvedPolicy`] decides by severity what is held — the measured item, or the item and
//! what is linked to it through the caller's [`Genealogy`] — and whether a nonconformance
//! opens (at most one per characteristic per `nc_cooldown_points`). Phase-I alerts are
//! reported but trigger nothing: the limits did not exist when that material was made.
//!
//! The enforcer is pure and deterministic; its running state ([`EnforcerState`]) serialises,
//! so a caller can persist it with the alerts it produced and resume after a restart with the
//! same answers. [`chart`] replays one characteristic's results into a [`ChartView`].

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::api::ChartKind;
use crate::nc::EpochMillis;
use crate::phase2::ChartMonitor;
use crate::policy::{HoldScope, Mode, QualityPolicy, ResolvedPolicy, Severity, Transform};
use crate::rules::{PointLimits, RuleSet, Violation};
use crate::shewhart::{self, ShewhartChart, ShewhartOptions};

/// What the inspection plan says about one characteristic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CharacteristicSpec {
    /// Characteristic id.
    pub id: String,
    /// Mode of the work it is measured on.
    pub mode: Mode,
    /// Chart kind (`imr`, `xbar_r`, `xbar_s`, `p`, `np`, `c`, `u`, `ewma`, `cusum`).
    pub chart: String,
    /// Values per subgroup (X̄ charts).
    pub subgroup_size: usize,
    /// Lower specification limit.
    pub lsl: Option<f64>,
    /// Upper specification limit.
    pub usl: Option<f64>,
}

/// Kind of a traceable item.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// A lot, batch or lot code.
    Lot,
    /// A serial number.
    Serial,
    /// A production order (stands for everything it makes).
    Order,
}

impl ItemKind {
    /// The snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            ItemKind::Lot => "lot",
            ItemKind::Serial => "serial",
            ItemKind::Order => "order",
        }
    }
}

/// A lot, serial or order.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub struct ItemRef {
    /// What it is.
    pub kind: ItemKind,
    /// Its id.
    pub id: String,
}

impl ItemRef {
    /// A lot.
    pub fn lot(id: impl Into<String>) -> ItemRef {
        ItemRef {
            kind: ItemKind::Lot,
            id: id.into(),
        }
    }

    /// A serial.
    pub fn serial(id: impl Into<String>) -> ItemRef {
        ItemRef {
            kind: ItemKind::Serial,
            id: id.into(),
        }
    }

    /// An order.
    pub fn order(id: impl Into<String>) -> ItemRef {
        ItemRef {
            kind: ItemKind::Order,
            id: id.into(),
        }
    }

    /// `lot:ID`, `serial:ID` or `order:ID`.
    pub fn key(&self) -> String {
        format!("{}:{}", self.kind.name(), self.id)
    }
}

/// Genealogy as the enforcer needs it (the caller builds it from its plant state).
pub trait Genealogy {
    /// Lots and serials the item came from: what the order that made it consumed (for an
    /// order, what it consumed).
    fn upstream(&self, item: &ItemRef) -> Vec<ItemRef>;
    /// Lots and serials made from the item: what the orders that consumed it produced (for
    /// an order, what it produced).
    fn downstream(&self, item: &ItemRef) -> Vec<ItemRef>;
}

/// No genealogy at all (linked holds then hold the item only).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoGenealogy;

impl Genealogy for NoGenealogy {
    fn upstream(&self, _: &ItemRef) -> Vec<ItemRef> {
        Vec::new()
    }

    fn downstream(&self, _: &ItemRef) -> Vec<ItemRef> {
        Vec::new()
    }
}

/// One quality result, as the enforcer reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultInput {
    /// Id of the event that recorded it.
    pub event_id: String,
    /// When it was measured.
    pub at: EpochMillis,
    /// Characteristic id.
    pub characteristic: String,
    /// Measured value (a count for attribute charts).
    pub value: f64,
    /// Subgroup number.
    pub sample: Option<u64>,
    /// Inspected size (attribute charts).
    pub sample_size: Option<f64>,
    /// Order measured.
    pub order: Option<String>,
    /// Lot or batch measured.
    pub lot: Option<String>,
    /// Serial measured.
    pub serial: Option<String>,
}

impl ResultInput {
    fn items(&self) -> Vec<ItemRef> {
        let mut items = Vec::new();
        if let Some(s) = &self.serial {
            items.push(ItemRef::serial(s));
        }
        if let Some(l) = &self.lot {
            items.push(ItemRef::lot(l));
        }
        if let Some(o) = &self.order {
            items.push(ItemRef::order(o));
        }
        items
    }
}

/// Center and limits of one plotted point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Limits {
    /// Center line.
    pub center: f64,
    /// Lower control limit.
    pub lcl: f64,
    /// Upper control limit.
    pub ucl: f64,
}

/// A point that violated the policy's rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Alert {
    /// `AL-<characteristic>-<index>`.
    pub id: String,
    /// Characteristic id.
    pub characteristic: String,
    /// Mode.
    pub mode: Mode,
    /// Chart kind.
    pub chart: String,
    /// 0-based index of the point on the characteristic's chart.
    pub index: usize,
    /// 1 while the limits were being established, 2 after.
    pub phase: u8,
    /// Rule set of the rules.
    pub rule_set: RuleSet,
    /// Fired rules (numbers of the rule set).
    pub rules: Vec<u8>,
    /// Strictly beyond a control limit.
    pub beyond_limits: bool,
    /// The dispersion chart (MR, R, S) is out of control at this point.
    pub dispersion_out_of_control: bool,
    /// Most severe of the signals.
    pub severity: Severity,
    /// Plotted value.
    pub value: f64,
    /// Limits of the point.
    pub limits: Limits,
    /// Items measured (serials, lots, orders).
    pub items: Vec<ItemRef>,
    /// Events of the results that make up the point.
    pub event_ids: Vec<String>,
    /// Time of the last result of the point.
    pub at: EpochMillis,
    /// Version of the policy that judged it.
    pub policy_version: String,
}

/// How a held item relates to the alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HoldLink {
    /// The item measured.
    Item,
    /// Upstream of it (what it was made from).
    Upstream,
    /// Downstream of it (what was made from it).
    Downstream,
}

/// An item to put on hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HoldAction {
    /// The item.
    pub item: ItemRef,
    /// How it relates to the alert.
    pub link: HoldLink,
    /// Why, in words.
    pub reason: String,
    /// The alert that caused it.
    pub alert_id: String,
    /// Characteristic.
    pub characteristic: String,
    /// When (the alert's time).
    pub at: EpochMillis,
}

/// A nonconformance to open.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NcAction {
    /// `NC-<characteristic>-<index>`.
    pub id: String,
    /// What was found.
    pub description: String,
    /// Items concerned (keys `lot:…`, `serial:…`, `order:…`).
    pub items: Vec<String>,
    /// The alert that caused it.
    pub alert_id: String,
    /// Characteristic.
    pub characteristic: String,
    /// Severity of the alert.
    pub severity: Severity,
    /// When (the alert's time).
    pub at: EpochMillis,
}

/// What one [`Enforcer::feed`] produced.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Outcome {
    /// New alerts, in order.
    pub alerts: Vec<Alert>,
    /// Items to hold (each item at most once per feed).
    pub holds: Vec<HoldAction>,
    /// Nonconformances to open.
    pub nonconformances: Vec<NcAction>,
    /// Results ignored: unknown characteristic, unsupported chart, or a value the chart
    /// cannot take (an incomplete subgroup, a size that differs from an np chart's).
    pub skipped: u64,
}

/// One plotted point of a [`ChartView`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ChartPoint {
    /// 0-based index.
    pub index: usize,
    /// 1 (limits being established) or 2 (frozen limits).
    pub phase: u8,
    /// Plotted value.
    pub value: f64,
    /// Limits of the point.
    pub limits: Limits,
    /// Fired rules.
    pub rules: Vec<u8>,
    /// Strictly beyond a limit.
    pub beyond_limits: bool,
    /// Dispersion out of control.
    pub dispersion_out_of_control: bool,
    /// Items measured.
    pub items: Vec<ItemRef>,
    /// Time of the last result of the point.
    pub at: EpochMillis,
}

/// Chart data of one characteristic under the policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ChartView {
    /// Characteristic id.
    pub characteristic: String,
    /// Chart kind.
    pub chart: String,
    /// Mode.
    pub mode: Mode,
    /// `phase1` (collecting points), `monitoring` (limits frozen) or `unsupported`.
    pub status: String,
    /// The resolved policy.
    pub policy: ResolvedPolicy,
    /// The scale the chart was computed on (`log` charts report values and limits back in
    /// measured units).
    pub transform: Transform,
    /// Frozen center and limits (the first point's for p and u charts); none in phase I.
    pub limits: Option<Limits>,
    /// Points charted so far (phase I points appear once the limits freeze).
    pub points: Vec<ChartPoint>,
    /// Rule violations `{rule, index}`.
    pub violations: Vec<Violation>,
    /// Indices strictly beyond a limit.
    pub points_out_of_control: Vec<usize>,
    /// Points waiting for phase I to complete.
    pub pending_phase1: usize,
    /// Results that could not be charted.
    pub skipped: u64,
}

/// One plotted point before it is charted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Pending {
    values: Vec<f64>,
    size: Option<f64>,
    items: Vec<ItemRef>,
    event_ids: Vec<String>,
    at: EpochMillis,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
enum Engine {
    Individuals(ChartMonitor),
    Subgroups(ChartMonitor),
    Proportion(ChartMonitor),
    Counts(ChartMonitor),
    Rate(ChartMonitor),
    Ewma {
        mu: f64,
        sigma: f64,
        lambda: f64,
        l: f64,
        z: f64,
        t: u64,
    },
    Cusum {
        mu: f64,
        sigma: f64,
        k: f64,
        h: f64,
        hi: f64,
        lo: f64,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Frozen {
    engine: Engine,
    limits: PointLimits,
    nsigma: f64,
    /// p̄ (p charts) or ū (u charts): limits vary with the size.
    rate_center: Option<f64>,
}

/// Running state of one characteristic.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct CharState {
    phase1: Vec<Pending>,
    frozen: Option<Frozen>,
    /// Subgroup being collected: its sample number and results.
    subgroup: Option<(Option<u64>, Pending)>,
    points: usize,
    last_nc: Option<usize>,
    skipped: u64,
}

/// The serialisable running state of an [`Enforcer`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EnforcerState {
    characteristics: BTreeMap<String, CharState>,
    /// Results fed so far.
    pub results: u64,
}

/// Streams quality results through one chart per characteristic under a [`QualityPolicy`].
#[derive(Debug, Clone)]
pub struct Enforcer {
    policy: QualityPolicy,
    specs: BTreeMap<String, CharacteristicSpec>,
    state: EnforcerState,
    trace: Option<Vec<ChartPoint>>,
}

/// What a charted point fired.
struct Signal {
    value: f64,
    limits: Limits,
    rules: Vec<u8>,
    beyond: bool,
    dispersion: bool,
}

fn plain(l: PointLimits) -> Limits {
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
        let mut severity = if signal.dispersion {
            policy.dispersion_severity
        } else {
            Severity::Minor
        };
        for &r in &signal.rules {
            let s = policy.rule_severity(r);
            if s.weight() > severity.weight() {
                severity = s;
            }
        }
        if signal.beyond && Severity::Critical.weight() > severity.weight() {
            severity = policy.rule_severity(1);
        }
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
            severity,
            value: signal.value,
            limits: signal.limits,
            items: p.items.clone(),
            event_ids: p.event_ids.clone(),
            at: p.at,
            policy_version: self.policy.version.clone(),
        };
        if phase == 2 {
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

/// Distinct orders among the points; points that name no order at all (a CSV upload) cannot
/// be told apart, so then there is no constraint.
fn distinct_orders(points: &[Pending]) -> usize {
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
fn charted_scale(spec: &CharacteristicSpec, policy: &ResolvedPolicy) -> Transform {
    match ChartKind::parse(&spec.chart) {
        Ok(ChartKind::Imr | ChartKind::XbarR | ChartKind::XbarS | ChartKind::Ewma) => {
            policy.transform
        }
        _ => Transform::None,
    }
}

fn back(scale: Transform, l: Limits) -> Limits {
    Limits {
        center: scale.back(l.center),
        lcl: scale.back(l.lcl),
        ucl: scale.back(l.ucl),
    }
}

/// The items a point stands for: its serials, else its lots, else its orders.
fn primary_items(items: &[ItemRef]) -> Vec<ItemRef> {
    for kind in [ItemKind::Serial, ItemKind::Lot, ItemKind::Order] {
        let of: Vec<ItemRef> = items.iter().filter(|i| i.kind == kind).cloned().collect();
        if !of.is_empty() {
            return of;
        }
    }
    Vec::new()
}

fn describe(a: &Alert) -> String {
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
    format!(
        "{} point {} ({} {}): {}",
        a.characteristic,
        a.index,
        a.severity.name(),
        a.chart,
        parts.join("; ")
    )
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// Mean and MR̄/d2 σ of individual values (None when σ is not positive).
fn individuals_estimate(values: &[f64]) -> Option<(f64, f64)> {
    if values.len() < 2 {
        return None;
    }
    let mr =
        values.windows(2).map(|w| (w[1] - w[0]).abs()).sum::<f64>() / (values.len() - 1) as f64;
    let sigma = mr / crate::constants::d2(2)?;
    (sigma > 0.0 && sigma.is_finite()).then(|| (mean(values), sigma))
}

/// Freezes the limits from the phase-I points, or says it cannot yet.
fn freeze(
    spec: &CharacteristicSpec,
    policy: &ResolvedPolicy,
    points: &[Pending],
) -> Option<Frozen> {
    let kind = ChartKind::parse(&spec.chart).ok()?;
    let opts = ShewhartOptions {
        phase1_indices: None,
        rules: policy.selection(),
        nsigma: policy.nsigma,
        iterate: policy.phase1_iterate,
        known_center: None,
        known_sigma: None,
    };
    let first = |p: &Pending| p.values[0];
    let sizes: Vec<f64> = points.iter().map(|p| p.size.unwrap_or(1.0)).collect();
    let counts: Vec<f64> = points.iter().map(first).collect();
    let sel = policy.selection();
    let shewhart = |chart: ShewhartChart, engine: Engine, rate: Option<f64>| {
        let limits = chart.point_limits(0);
        let ok = limits.sigma > 0.0 && limits.sigma.is_finite();
        ok.then_some(Frozen {
            engine,
            limits,
            nsigma: policy.nsigma,
            rate_center: rate,
        })
    };
    match kind {
        ChartKind::Imr => {
            let chart = shewhart::imr(&counts, &opts).ok()?;
            let m = ChartMonitor::individuals(&chart, sel).ok()?;
            shewhart(chart, Engine::Individuals(m), None)
        }
        ChartKind::XbarR | ChartKind::XbarS => {
            let groups: Vec<Vec<f64>> = points.iter().map(|p| p.values.clone()).collect();
            let n = groups[0].len();
            let chart = if kind == ChartKind::XbarR {
                shewhart::xbar_r(&groups, &opts)
            } else {
                shewhart::xbar_s(&groups, &opts)
            }
            .ok()?;
            let m = ChartMonitor::subgroups(&chart, n, sel).ok()?;
            shewhart(chart, Engine::Subgroups(m), None)
        }
        ChartKind::P => {
            let chart = shewhart::p_chart(&counts, &sizes, &opts).ok()?;
            let pbar = chart.pbar?;
            let m = ChartMonitor::proportion(&chart, policy.nsigma, sel).ok()?;
            shewhart(chart, Engine::Proportion(m), Some(pbar))
        }
        ChartKind::Np => {
            let chart = shewhart::np_chart(&counts, &sizes, &opts).ok()?;
            let m = ChartMonitor::counts(&chart, Some(sizes[0]), sel).ok()?;
            shewhart(chart, Engine::Counts(m), None)
        }
        ChartKind::C => {
            let chart = shewhart::c_chart(&counts, &opts).ok()?;
            let m = ChartMonitor::counts(&chart, None, sel).ok()?;
            shewhart(chart, Engine::Counts(m), None)
        }
        ChartKind::U => {
            let chart = shewhart::u_chart(&counts, &sizes, &opts).ok()?;
            let ubar = chart.center.at(0);
            let m = ChartMonitor::rate(&chart, policy.nsigma, sel).ok()?;
            shewhart(chart, Engine::Rate(m), Some(ubar))
        }
        ChartKind::Ewma => {
            let (mu, sigma) = individuals_estimate(&counts)?;
            let (lambda, l) = (policy.ewma_lambda, policy.ewma_l);
            let w = l * sigma * (lambda / (2.0 - lambda)).sqrt();
            Some(Frozen {
                engine: Engine::Ewma {
                    mu,
                    sigma,
                    lambda,
                    l,
                    z: mu,
                    t: 0,
                },
                limits: PointLimits {
                    center: mu,
                    sigma,
                    lcl: mu - w,
                    ucl: mu + w,
                },
                nsigma: l,
                rate_center: None,
            })
        }
        ChartKind::Cusum => {
            let (mu, sigma) = individuals_estimate(&counts)?;
            let h = policy.cusum_h * sigma;
            Some(Frozen {
                engine: Engine::Cusum {
                    mu,
                    sigma,
                    k: policy.cusum_k,
                    h: policy.cusum_h,
                    hi: 0.0,
                    lo: 0.0,
                },
                limits: PointLimits {
                    center: 0.0,
                    sigma,
                    lcl: -h,
                    ucl: h,
                },
                nsigma: policy.cusum_h,
                rate_center: None,
            })
        }
        _ => None,
    }
}

/// Charts one point against the frozen limits (None when the chart cannot take it).
fn step(f: &mut Frozen, p: &Pending) -> Option<Signal> {
    let from = |o: crate::phase2::PointOutcome, limits: Limits| Signal {
        value: o.statistic,
        limits,
        rules: o.fired.rules().collect(),
        beyond: o.fired.out_of_control(),
        dispersion: o.secondary_out_of_control,
    };
    let size = p.size.unwrap_or(1.0);
    let constant = plain(f.limits);
    match &mut f.engine {
        Engine::Individuals(m) => m.push_value(p.values[0]).ok().map(|o| from(o, constant)),
        Engine::Subgroups(m) => m.push_subgroup(&p.values).ok().map(|o| from(o, constant)),
        Engine::Counts(m) => m
            .push_count(p.values[0], size)
            .ok()
            .map(|o| from(o, constant)),
        Engine::Proportion(m) | Engine::Rate(m) => {
            let o = m.push_count(p.values[0], size).ok()?;
            let c = f.rate_center.unwrap_or(f.limits.center);
            let is_p = matches!(f.engine, Engine::Proportion(_));
            let s = if is_p {
                (c * (1.0 - c) / size).sqrt()
            } else {
                (c / size).sqrt()
            };
            let ucl = c + f.nsigma * s;
            let limits = Limits {
                center: c,
                lcl: (c - f.nsigma * s).max(0.0),
                ucl: if is_p { ucl.min(1.0) } else { ucl },
            };
            Some(from(o, limits))
        }
        Engine::Ewma {
            mu,
            sigma,
            lambda,
            l,
            z,
            t,
        } => {
            let x = p.values[0];
            if !x.is_finite() {
                return None;
            }
            *t += 1;
            *z = *lambda * x + (1.0 - *lambda) * *z;
            let factor = *lambda / (2.0 - *lambda) * (1.0 - (1.0 - *lambda).powf(2.0 * *t as f64));
            let w = *l * *sigma * factor.sqrt();
            let limits = Limits {
                center: *mu,
                lcl: *mu - w,
                ucl: *mu + w,
            };
            let beyond = *z > limits.ucl || *z < limits.lcl;
            Some(Signal {
                value: *z,
                limits,
                rules: if beyond { vec![1] } else { Vec::new() },
                beyond,
                dispersion: false,
            })
        }
        Engine::Cusum {
            mu,
            sigma,
            k,
            h,
            hi,
            lo,
        } => {
            let x = p.values[0];
            if !x.is_finite() {
                return None;
            }
            let kk = *k * *sigma;
            *hi = (x - (*mu + kk) + *hi).max(0.0);
            *lo = ((*mu - kk) - x + *lo).max(0.0);
            let hh = *h * *sigma;
            let value = if *hi >= *lo { *hi } else { -*lo };
            let beyond = *hi > hh || *lo > hh;
            Some(Signal {
                value,
                limits: Limits {
                    center: 0.0,
                    lcl: -hh,
                    ucl: hh,
                },
                rules: if beyond { vec![1] } else { Vec::new() },
                beyond,
                dispersion: false,
            })
        }
    }
}

/// Charts one characteristic's results (in order) under the policy: the data behind a
/// control chart display, computed exactly as the enforcer computes it.
pub fn chart(
    policy: &QualityPolicy,
    spec: &CharacteristicSpec,
    results: &[ResultInput],
) -> ChartView {
    let mut e = Enforcer::new(policy.clone(), vec![spec.clone()]);
    e.trace = Some(Vec::new());
    let outcome = e.feed(results, &NoGenealogy);
    let points = e.trace.take().unwrap_or_default();
    let st = e.state.characteristics.remove(&spec.id).unwrap_or_default();
    let supported = matches!(
        ChartKind::parse(&spec.chart),
        Ok(ChartKind::Imr
            | ChartKind::XbarR
            | ChartKind::XbarS
            | ChartKind::P
            | ChartKind::Np
            | ChartKind::C
            | ChartKind::U
            | ChartKind::Ewma
            | ChartKind::Cusum)
    );
    let status = if !supported {
        "unsupported"
    } else if st.frozen.is_some() {
        "monitoring"
    } else {
        "phase1"
    };
    let violations = points
        .iter()
        .flat_map(|p| {
            p.rules.iter().map(|&rule| Violation {
                rule,
                index: p.index,
            })
        })
        .collect();
    let points_out_of_control = points
        .iter()
        .filter(|p| p.beyond_limits)
        .map(|p| p.index)
        .collect();
    let resolved = policy.resolve(spec.mode, &spec.id);
    let scale = charted_scale(spec, &resolved);
    ChartView {
        characteristic: spec.id.clone(),
        chart: spec.chart.clone(),
        mode: spec.mode,
        status: status.into(),
        transform: scale,
        policy: resolved,
        limits: st.frozen.as_ref().map(|f| back(scale, plain(f.limits))),
        points,
        violations,
        points_out_of_control,
        pending_phase1: st.phase1.len(),
        skipped: outcome.skipped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(id: &str, mode: Mode, chart: &str, n: usize) -> CharacteristicSpec {
        CharacteristicSpec {
            id: id.into(),
            mode,
            chart: chart.into(),
            subgroup_size: n,
            lsl: None,
            usl: None,
        }
    }

    fn result(i: usize, c: &str, value: f64) -> ResultInput {
        ResultInput {
            event_id: format!("q-{c}-{i}"),
            at: i as i64 * 1000,
            characteristic: c.into(),
            value,
            sample: Some(i as u64),
            sample_size: None,
            order: Some(format!("MO-{}", i / 5)),
            lot: Some(format!("B-{i}")),
            serial: None,
        }
    }

    struct Chain;

    impl Genealogy for Chain {
        fn upstream(&self, item: &ItemRef) -> Vec<ItemRef> {
            if item.kind == ItemKind::Lot {
                vec![ItemRef::lot(format!("RM-for-{}", item.id))]
            } else {
                Vec::new()
            }
        }

        fn downstream(&self, item: &ItemRef) -> Vec<ItemRef> {
            if item.kind == ItemKind::Lot {
                vec![ItemRef::serial(format!("SN-from-{}", item.id))]
            } else {
                Vec::new()
            }
        }
    }

    // A deterministic in-control wiggle.
    fn noise(i: usize) -> f64 {
        [0.3, -0.5, 0.8, -0.2, 0.1, -0.9, 0.6, -0.4, 0.2, -0.1][i % 10]
    }

    /// Standard normal draws from a fixed SplitMix64 stream (Box–Muller).
    fn normals(n: usize) -> Vec<f64> {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut uniform = move || {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            ((z >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        };
        (0..n)
            .map(|_| {
                let (u1, u2) = (uniform(), uniform());
                (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
            })
            .collect()
    }

    #[test]
    fn log_scale_tames_a_skewed_characteristic_and_reports_measured_units() {
        let mut policy = QualityPolicy::enterprise_default();
        policy.characteristics.insert(
            "LEAK-LOG".into(),
            crate::policy::PolicyLayer {
                transform: Some(Transform::Log),
                phase1_points: Some(400),
                ..Default::default()
            },
        );
        policy.characteristics.insert(
            "LEAK-RAW".into(),
            crate::policy::PolicyLayer {
                phase1_points: Some(400),
                ..Default::default()
            },
        );
        let leak: Vec<f64> = normals(3000)
            .iter()
            .map(|z| 0.8 * (0.3 * z).exp())
            .collect();
        let beyond = |id: &str| {
            let s = spec(id, Mode::Discrete, "imr", 1);
            let rs: Vec<ResultInput> = leak
                .iter()
                .enumerate()
                .map(|(i, v)| result(i, id, *v))
                .collect();
            let view = chart(&policy, &s, &rs);
            let n = view
                .points
                .iter()
                .filter(|p| p.phase == 2 && p.beyond_limits)
                .count();
            (n, view)
        };
        let (raw, raw_view) = beyond("LEAK-RAW");
        let (log, log_view) = beyond("LEAK-LOG");
        assert_eq!(raw_view.transform, Transform::None);
        assert_eq!(log_view.transform, Transform::Log);
        // About 0.27 % of 2,900 in-control points on the right scale; the raw scale's upper
        // limit sits inside the long right tail.
        assert!(log <= 15, "log scale: {log} points beyond limits");
        assert!(raw >= 2 * log.max(5), "raw {raw} vs log {log}");
        let raw_limits = raw_view.limits.unwrap();
        let l = log_view.limits.unwrap();
        assert!(l.lcl > 0.0, "{l:?}");
        assert!(
            l.ucl - l.center > l.center - l.lcl,
            "asymmetric in measured units: {l:?}"
        );
        assert!(
            (l.center - 0.8).abs() < 0.1,
            "geometric mean near 0.8: {l:?}"
        );
        assert!(raw_limits.ucl < l.ucl);
        // Points are reported in measured units too.
        let first = &log_view.points[0];
        assert!((first.value - leak[0]).abs() < 1e-9);

        // A value a log scale cannot take is skipped, not charted.
        let s = spec("LEAK-LOG", Mode::Discrete, "imr", 1);
        let mut e = Enforcer::new(policy.clone(), vec![s]);
        let out = e.feed(
            &[result(0, "LEAK-LOG", 0.0), result(1, "LEAK-LOG", -1.0)],
            &NoGenealogy,
        );
        assert_eq!(out.skipped, 2);
    }

    #[test]
    fn phase1_spans_the_policy_s_minimum_of_orders() {
        let policy = QualityPolicy::enterprise_default();
        let resolved = policy.resolve(Mode::Discrete, "GAP");
        assert_eq!(resolved.phase1_min_orders, 3);
        let n = resolved.phase1_points;
        // One long order first: its points alone do not freeze the limits.
        let in_order = |i: usize, order: &str| ResultInput {
            order: Some(order.into()),
            ..result(i, "GAP", 5.0 + noise(i))
        };
        let s = spec("GAP", Mode::Discrete, "imr", 1);
        let mut rs: Vec<ResultInput> = (0..2 * n).map(|i| in_order(i, "MO-A")).collect();
        rs.extend((2 * n..2 * n + 3).map(|i| in_order(i, "MO-B")));
        let view = chart(&policy, &s, &rs);
        assert_eq!(view.status, "phase1");
        assert_eq!(view.pending_phase1, 2 * n + 3);
        // The first point of a third order completes phase I.
        rs.push(in_order(2 * n + 3, "MO-C"));
        let view = chart(&policy, &s, &rs);
        assert_eq!(view.status, "monitoring");
        assert_eq!(view.points.len(), 2 * n + 4);
        // Points that name no order are not held back, and a never-ending single order
        // freezes after ten times the phase-I length.
        let anonymous: Vec<ResultInput> = (0..n)
            .map(|i| ResultInput {
                order: None,
                ..result(i, "GAP", 5.0 + noise(i))
            })
            .collect();
        assert_eq!(chart(&policy, &s, &anonymous).status, "monitoring");
        let single: Vec<ResultInput> = (0..10 * n).map(|i| in_order(i, "MO-A")).collect();
        assert_eq!(chart(&policy, &s, &single[..10 * n - 1]).status, "phase1");
        assert_eq!(chart(&policy, &s, &single).status, "monitoring");
    }

    #[test]
    fn phase1_then_alert_hold_linked_and_one_nc() {
        let policy = QualityPolicy::enterprise_default();
        let s = spec("VISC", Mode::Process, "imr", 1);
        let mut e = Enforcer::new(policy.clone(), vec![s.clone()]);
        let phase1 = policy.resolve(Mode::Process, "VISC").phase1_points;
        let mut rs: Vec<ResultInput> = (0..phase1)
            .map(|i| result(i, "VISC", 100.0 + noise(i)))
            .collect();
        let out = e.feed(&rs, &Chain);
        assert!(out.alerts.is_empty(), "{:?}", out.alerts);
        // Two points far beyond the limits: an alert each, one NC (cooldown), linked holds.
        rs = vec![
            result(phase1, "VISC", 130.0),
            result(phase1 + 1, "VISC", 131.0),
        ];
        let out = e.feed(&rs, &Chain);
        assert_eq!(out.alerts.len(), 2);
        let a = &out.alerts[0];
        assert_eq!(
            (a.index, a.phase, a.severity),
            (phase1, 2, Severity::Critical)
        );
        assert!(a.beyond_limits && a.rules.contains(&1));
        assert_eq!(out.nonconformances.len(), 1);
        let keys: Vec<String> = out.holds.iter().map(|h| h.item.key()).collect();
        let lot = format!("lot:B-{phase1}");
        assert!(keys.contains(&lot), "{keys:?}");
        assert!(keys.contains(&format!("lot:RM-for-B-{phase1}")), "{keys:?}");
        assert!(
            keys.contains(&format!("serial:SN-from-B-{phase1}")),
            "{keys:?}"
        );
        assert!(out.nonconformances[0].items.contains(&lot));
    }

    #[test]
    fn resumed_state_gives_the_same_answers() {
        let policy = QualityPolicy::enterprise_default();
        let specs = vec![
            spec("W", Mode::Repetitive, "xbar_s", 5),
            spec("L", Mode::Discrete, "imr", 1),
            spec("N", Mode::Process, "ewma", 1),
        ];
        let mut all = Vec::new();
        for i in 0..400 {
            let drift = if i > 250 {
                (i - 250) as f64 * 0.02
            } else {
                0.0
            };
            all.push(result(i, "L", 5.0 + noise(i * 7) + drift));
            all.push(result(i, "N", 12.5 + 0.1 * noise(i * 3) + drift * 0.05));
            let mut w = result(i / 5, "W", 400.0 + noise(i) + drift);
            w.event_id = format!("w-{i}");
            all.push(w);
        }
        let mut one = Enforcer::new(policy.clone(), specs.clone());
        let whole = one.feed(&all, &Chain);
        let mut two = Enforcer::new(policy.clone(), specs.clone());
        let mut parts = Outcome::default();
        for chunk in all.chunks(97) {
            let json = serde_json::to_string(two.state()).unwrap();
            let state: EnforcerState = serde_json::from_str(&json).unwrap();
            two = Enforcer::resume(policy.clone(), specs.clone(), state);
            let o = two.feed(chunk, &Chain);
            parts.alerts.extend(o.alerts);
            parts.nonconformances.extend(o.nonconformances);
        }
        assert!(!whole.alerts.is_empty());
        assert_eq!(whole.alerts, parts.alerts);
        assert_eq!(whole.nonconformances, parts.nonconformances);
        // Every alert of the drifting characteristics lies where the data moved, or is a
        // phase-I or pattern alert; the chart view agrees with the enforcer.
        let view = chart(
            &policy,
            &specs[1],
            &all.iter()
                .filter(|r| r.characteristic == "L")
                .cloned()
                .collect::<Vec<_>>(),
        );
        assert_eq!(view.status, "monitoring");
        let from_view: Vec<usize> = view
            .points
            .iter()
            .filter(|p| !p.rules.is_empty() || p.beyond_limits || p.dispersion_out_of_control)
            .map(|p| p.index)
            .collect();
        let from_alerts: Vec<usize> = whole
            .alerts
            .iter()
            .filter(|a| a.characteristic == "L")
            .map(|a| a.index)
            .collect();
        assert_eq!(from_view, from_alerts);
    }

    #[test]
    fn subgroups_p_and_unknown_characteristics() {
        let policy = QualityPolicy::enterprise_default();
        let specs = vec![
            spec("BORE", Mode::Discrete, "xbar_r", 5),
            spec("FAIL", Mode::Discrete, "p", 1),
        ];
        let mut e = Enforcer::new(policy.clone(), specs);
        let mut rs = Vec::new();
        for g in 0..40u64 {
            for k in 0..5 {
                rs.push(ResultInput {
                    sample: Some(g),
                    ..result(
                        g as usize * 5 + k,
                        "BORE",
                        22.0 + 0.01 * noise(g as usize + k * 3),
                    )
                });
            }
            rs.push(ResultInput {
                sample_size: Some(50.0 + (g % 3) as f64 * 10.0),
                ..result(g as usize, "FAIL", (g % 4) as f64)
            });
        }
        rs.push(result(0, "NOPE", 1.0));
        let out = e.feed(&rs, &NoGenealogy);
        assert_eq!(out.skipped, 1);
        let view = chart(
            &policy,
            &spec("BORE", Mode::Discrete, "xbar_r", 5),
            &rs.iter()
                .filter(|r| r.characteristic == "BORE")
                .cloned()
                .collect::<Vec<_>>(),
        );
        assert_eq!(view.points.len(), 40);
        assert_eq!(view.status, "monitoring");
        let p = chart(
            &policy,
            &spec("FAIL", Mode::Discrete, "p", 1),
            &rs.iter()
                .filter(|r| r.characteristic == "FAIL")
                .cloned()
                .collect::<Vec<_>>(),
        );
        assert_eq!(p.points.len(), 40);
        // p-chart limits vary with the size.
        assert!(p.points[0].limits.ucl != p.points[1].limits.ucl);
    }
}
