//! Root cause through genealogy: which upstream process parameters and component lots,
//! across modes, best explain a characteristic's results (or a defect seen in several, such
//! as the failure counts of every assembly) over a window.
//!
//! The join, from the plant's events alone:
//! - each result is tied to the order that made the measured item (its `order`, else the
//!   order that produced its lot or serial). A result becomes its percentile among the
//!   results of its characteristic (a count over its sample size for attribute data), so
//!   characteristics of different scales can be pooled; an order's signal is the mean of its
//!   results' percentiles, so items of one order, which share every upstream value, count
//!   once;
//! - from that order the genealogy is walked upstream (`material_consumed` → the order that
//!   produced the lot or serial → what that order consumed, …) up to [`RootCauseQuery::depth`]
//!   orders deep. Every order on the way contributes its process parameters, named by routing,
//!   step and parameter; where several lots of one material were consumed, their producers'
//!   values are averaged by the quantity taken (a path's weight is the product of its shares);
//! - a purchased lot reached on the way is a candidate too: 1 for the measured orders whose
//!   ancestry consumed it, 0 for its neighbours, the orders that took other lots of its
//!   material while it was in use or just before or after. A bad delivery is so compared
//!   with the deliveries next to it; compared with every other lot, any lot would stand for
//!   its weeks, and a slow drift of something else would make the last lots look bad.
//! - candidates whose values are the same on every order (lots of two components always
//!   consumed together, say) cannot be told apart by the data: each names the others
//!   (`same_evidence`), so a reader investigates them together.
//!
//! Each candidate is scored by [`crate::rootcause::rank_numeric`] (Spearman's ρ and its
//! p-value) and the ranking is by significance (p-value, then |ρ|, then name): a lot used by
//! a few orders cannot reach the ρ of a parameter every order has, but it can be as
//! significant. A Benjamini–Hochberg q-value accompanies each p-value, since many candidates
//! are tried at once.
//!
//! Pure: events in, a report out; no clock, no I/O.

use std::collections::{BTreeMap, BTreeSet};

use model::{Event, EventKind, LotId, MaterialId, OrderId, RoutingId, SerialId, Timestamp};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::rootcause::{Association, ParameterValues, RootCauseError, rank_numeric};

/// What to explain and how far to look.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RootCauseQuery {
    /// The characteristics whose results are explained (one, or several that show the same
    /// defect on different products).
    pub characteristics: Vec<String>,
    /// Which way is bad: a component lot is a cause only when its orders are worse than its
    /// neighbours (a parameter may be a cause either way).
    #[serde(default)]
    pub worse: Worse,
    /// Results recorded at or after this time.
    #[serde(default)]
    pub from: Option<Timestamp>,
    /// Results recorded before this time.
    #[serde(default)]
    pub to: Option<Timestamp>,
    /// Orders upstream of the measured one (the measured order is depth 0).
    #[serde(default = "default_depth")]
    pub depth: u32,
    /// A candidate needs values on at least this many orders to be ranked.
    #[serde(default = "default_min_support")]
    pub min_support: usize,
}

/// Which direction of a characteristic is a defect.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Worse {
    /// Higher values are worse (an upper specification only, a defect count).
    Higher,
    /// Lower values are worse (a lower specification only).
    Lower,
    /// Either way (two-sided specifications).
    #[default]
    Either,
}

fn default_depth() -> u32 {
    4
}

fn default_min_support() -> usize {
    8
}

impl RootCauseQuery {
    /// The query for `characteristic` over all time with the default depth and support.
    pub fn new(characteristic: impl Into<String>) -> RootCauseQuery {
        RootCauseQuery {
            characteristics: vec![characteristic.into()],
            worse: Worse::Either,
            from: None,
            to: None,
            depth: default_depth(),
            min_support: default_min_support(),
        }
    }
}

/// Why a ranking could not be made.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum UpstreamError {
    /// No result of the characteristics in the window could be tied to an order.
    #[error(
        "no result of {} in the window is tied to an order ({results} results, none with an order, or a lot or serial an order produced)",
        quoted(characteristics)
    )]
    NothingLinked {
        /// The characteristics asked about.
        characteristics: Vec<String>,
        /// Its results in the window.
        results: usize,
    },
    /// No characteristic named.
    #[error("name at least one characteristic")]
    NoCharacteristic,
    /// `min_support` below 3 (a rank correlation needs three points).
    #[error("min_support must be at least 3, got {0}")]
    MinSupport(usize),
    /// `from` is not before `to`.
    #[error("the window is empty: from {from} is not before to {to}")]
    EmptyWindow {
        /// Start of the window.
        from: Timestamp,
        /// End of the window.
        to: Timestamp,
    },
    /// The ranking itself failed.
    #[error(transparent)]
    Rank(#[from] RootCauseError),
}

fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a candidate cause is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CauseKind {
    /// A process parameter of one step (0-based) of one routing.
    Parameter {
        /// The routing (recipe, line run) whose step it is.
        routing: RoutingId,
        /// 0-based step.
        step: u32,
        /// The parameter's name.
        parameter: String,
    },
    /// A delivered lot of purchased material, against other lots of the same material.
    ComponentLot {
        /// The purchased material.
        material: MaterialId,
        /// The lot.
        lot: LotId,
        /// Its supplier, when the receipt named one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        supplier: Option<String>,
    },
}

impl CauseKind {
    /// A readable, unique name: `RCP-EA100 step 2 reactor_temperature`, `lot PL-… (RES-…)`.
    pub fn name(&self) -> String {
        match self {
            CauseKind::Parameter {
                routing,
                step,
                parameter,
            } => format!("{routing} step {} {parameter}", step + 1),
            CauseKind::ComponentLot { material, lot, .. } => format!("lot {lot} ({material})"),
        }
    }
}

/// One ranked candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Cause {
    /// 1 for the most significant.
    pub rank: usize,
    /// What it is.
    pub cause: CauseKind,
    /// Spearman's ρ (the effect size, signed: positive when higher values go with a higher
    /// signal), its t statistic and two-sided p-value, over the orders with a value.
    pub association: Association,
    /// The Benjamini–Hochberg adjusted p-value over every candidate ranked.
    pub q_value: Option<f64>,
    /// Other ranked candidates with exactly the same values on every order: the data cannot
    /// tell them from this one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub same_evidence: Vec<String>,
    /// Measured orders with a value for this candidate.
    pub orders: usize,
    /// Results (items) behind those orders.
    pub items: usize,
}

/// The ranking and what it rests on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RootCauseReport {
    /// The characteristics explained.
    pub characteristics: Vec<String>,
    /// The window, as asked.
    pub from: Option<Timestamp>,
    /// The window, as asked.
    pub to: Option<Timestamp>,
    /// Results of the characteristics in the window.
    pub results: usize,
    /// Of those, tied to an order.
    pub linked_results: usize,
    /// Measured orders (the units of the analysis).
    pub orders: usize,
    /// Candidates found upstream, and how many had enough support to be ranked.
    pub candidates: usize,
    /// Ranked candidates, most significant first.
    pub causes: Vec<Cause>,
}

/// The genealogy and parameters the events record.
#[derive(Default)]
struct Genealogy<'e> {
    routing_of: BTreeMap<&'e OrderId, &'e RoutingId>,
    parameters: BTreeMap<&'e OrderId, Vec<(u32, &'e str, f64)>>,
    /// Per consuming order: (material, producing order or purchased lot, quantity).
    consumed: BTreeMap<&'e OrderId, Vec<(&'e MaterialId, Source<'e>, f64)>>,
    lot_producer: BTreeMap<&'e LotId, &'e OrderId>,
    serial_producer: BTreeMap<&'e SerialId, &'e OrderId>,
    received: BTreeMap<&'e LotId, Option<&'e str>>,
}

#[derive(Clone, Copy, PartialEq, PartialOrd)]
enum Source<'e> {
    Lot(&'e LotId),
    Serial(&'e SerialId),
}

impl<'e> Genealogy<'e> {
    fn of(events: &'e [Event]) -> Genealogy<'e> {
        let mut g = Genealogy::default();
        for event in events {
            match &event.kind {
                EventKind::OrderReleased { order } => {
                    g.routing_of.insert(&order.id, &order.routing);
                }
                EventKind::OperationCompleted {
                    order,
                    step,
                    parameters,
                    ..
                } => {
                    let list = g.parameters.entry(order).or_default();
                    for (name, value) in parameters.iter().filter(|(_, v)| v.is_finite()) {
                        list.push((*step, name.as_str(), *value));
                    }
                }
                EventKind::MaterialConsumed {
                    order,
                    material,
                    lot,
                    serial,
                    quantity,
                    ..
                } => {
                    let source = match (lot, serial) {
                        (_, Some(s)) => Source::Serial(s),
                        (Some(l), None) => Source::Lot(l),
                        (None, None) => continue,
                    };
                    g.consumed.entry(order).or_default().push((
                        material,
                        source,
                        quantity.max(0.0),
                    ));
                }
                EventKind::MaterialProduced {
                    order,
                    lot,
                    serials,
                    ..
                } => {
                    if let Some(lot) = lot {
                        g.lot_producer.insert(lot, order);
                    }
                    for serial in serials {
                        g.serial_producer.insert(serial, order);
                    }
                }
                EventKind::MaterialReceived { lot, supplier, .. } => {
                    g.received.insert(lot, supplier.as_deref());
                }
                _ => {}
            }
        }
        // One order however the events arrived, so sums run in the same order.
        for list in g.parameters.values_mut() {
            list.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)).then(a.2.total_cmp(&b.2)));
        }
        for list in g.consumed.values_mut() {
            list.sort_by(|a, b| {
                (a.0, a.1)
                    .partial_cmp(&(b.0, b.1))
                    .unwrap_or(std::cmp::Ordering::Equal)
                    .then(a.2.total_cmp(&b.2))
            });
        }
        g
    }

    fn producer(&self, source: Source<'e>) -> Option<&'e OrderId> {
        match source {
            Source::Lot(l) => self.lot_producer.get(l).copied(),
            Source::Serial(s) => self.serial_producer.get(s).copied(),
        }
    }

    /// The candidates' values for one measured order: parameters as weighted means over the
    /// paths reaching them, component lots as 1 (this lot) or 0 (another lot of its material).
    fn upstream(&self, order: &'e OrderId, depth: u32) -> BTreeMap<CauseKind, f64> {
        let mut sums: BTreeMap<CauseKind, (f64, f64)> = BTreeMap::new();
        let mut lots_by_material: BTreeMap<&MaterialId, BTreeSet<&LotId>> = BTreeMap::new();
        let mut stack = vec![(order, 1.0_f64, 0_u32, vec![order])];
        while let Some((current, weight, level, path)) = stack.pop() {
            if let (Some(routing), Some(values)) =
                (self.routing_of.get(current), self.parameters.get(current))
            {
                for &(step, name, value) in values {
                    let key = CauseKind::Parameter {
                        routing: (*routing).clone(),
                        step,
                        parameter: name.to_owned(),
                    };
                    let entry = sums.entry(key).or_default();
                    entry.0 += weight * value;
                    entry.1 += weight;
                }
            }
            let Some(inputs) = self.consumed.get(current) else {
                continue;
            };
            let mut per_material: BTreeMap<&MaterialId, f64> = BTreeMap::new();
            for (material, _, quantity) in inputs {
                *per_material.entry(material).or_default() += quantity;
            }
            for &(material, source, quantity) in inputs {
                if let Source::Lot(lot) = source
                    && self.received.contains_key(lot)
                {
                    lots_by_material.entry(material).or_default().insert(lot);
                    continue;
                }
                let Some(producer) = self.producer(source) else {
                    continue;
                };
                let total = per_material[material];
                if level >= depth || path.contains(&producer) || total <= 0.0 {
                    continue;
                }
                let mut next_path = path.clone();
                next_path.push(producer);
                stack.push((producer, weight * quantity / total, level + 1, next_path));
            }
        }
        let mut values: BTreeMap<CauseKind, f64> = sums
            .into_iter()
            .filter(|(_, (_, w))| *w > 0.0)
            .map(|(k, (s, w))| (k, s / w))
            .collect();
        for (material, lots) in lots_by_material {
            for lot in lots {
                values.insert(self.lot_cause(material, lot), 1.0);
            }
        }
        values
    }

    fn lot_cause(&self, material: &MaterialId, lot: &LotId) -> CauseKind {
        CauseKind::ComponentLot {
            material: material.clone(),
            lot: lot.clone(),
            supplier: self.received.get(lot).copied().flatten().map(str::to_owned),
        }
    }
}

/// Ranks the upstream causes of `query.characteristics`' results in `events` (the plant's
/// events in any order; those of other kinds are ignored).
pub fn rank_upstream(
    events: &[Event],
    query: &RootCauseQuery,
) -> Result<RootCauseReport, UpstreamError> {
    if query.characteristics.is_empty() {
        return Err(UpstreamError::NoCharacteristic);
    }
    if query.min_support < 3 {
        return Err(UpstreamError::MinSupport(query.min_support));
    }
    if let (Some(from), Some(to)) = (query.from, query.to)
        && from >= to
    {
        return Err(UpstreamError::EmptyWindow { from, to });
    }
    let genealogy = Genealogy::of(events);
    let (results, measured) = measured_results(events, query, &genealogy);
    if measured.is_empty() {
        return Err(UpstreamError::NothingLinked {
            characteristics: query.characteristics.clone(),
            results,
        });
    }
    let linked_results = measured.len();
    // Per measured order: percentile sum, results and the first result's time.
    let mut signal: BTreeMap<&OrderId, (f64, usize, i64)> = BTreeMap::new();
    for (order, percentile, time) in measured {
        let entry = signal.entry(order).or_insert((0.0, 0, time));
        entry.0 += percentile;
        entry.1 += 1;
        entry.2 = entry.2.min(time);
    }
    let orders: Vec<(&OrderId, f64, usize)> = signal
        .iter()
        .map(|(o, (sum, n, _))| (*o, sum / *n as f64, *n))
        .collect();
    let times: Vec<i64> = signal.values().map(|(_, _, t)| *t).collect();
    let upstream: Vec<BTreeMap<CauseKind, f64>> = orders
        .iter()
        .map(|(o, _, _)| genealogy.upstream(o, query.depth))
        .collect();
    let (candidates, columns) = columns(&upstream, &times, query.min_support);
    let y: Vec<f64> = orders.iter().map(|(_, y, _)| *y).collect();
    let support: Vec<usize> = orders.iter().map(|(_, _, n)| *n).collect();
    let causes = ranked_causes(&y, &support, &columns, query.worse)?;
    Ok(RootCauseReport {
        characteristics: query.characteristics.clone(),
        from: query.from,
        to: query.to,
        results,
        linked_results,
        orders: orders.len(),
        candidates,
        causes,
    })
}

/// One result: the order that made the measured item (if any), its value, its time.
type Measured<'e> = (Option<&'e OrderId>, f64, i64);

/// The results of the query's characteristics in its window (how many), and each one tied to
/// an order: (the order, its percentile among its characteristic's results, its time).
fn measured_results<'e>(
    events: &'e [Event],
    query: &RootCauseQuery,
    genealogy: &Genealogy<'e>,
) -> (usize, Vec<(&'e OrderId, f64, i64)>) {
    let in_window =
        |t: Timestamp| query.from.is_none_or(|f| t >= f) && query.to.is_none_or(|e| t < e);
    let mut by_characteristic: BTreeMap<&str, Vec<Measured<'e>>> = BTreeMap::new();
    for event in events.iter().filter(|e| in_window(e.time)) {
        let EventKind::QualityResultRecorded {
            characteristic,
            value,
            sample_size,
            order,
            lot,
            serial,
            ..
        } = &event.kind
        else {
            continue;
        };
        if !query
            .characteristics
            .iter()
            .any(|c| c == characteristic.as_str())
            || !value.is_finite()
        {
            continue;
        }
        let measured = order
            .as_ref()
            .or_else(|| {
                lot.as_ref()
                    .and_then(|l| genealogy.lot_producer.get(l).copied())
            })
            .or_else(|| {
                serial
                    .as_ref()
                    .and_then(|s| genealogy.serial_producer.get(s).copied())
            });
        let y = match sample_size {
            Some(n) if *n > 0.0 => value / n,
            _ => *value,
        };
        by_characteristic
            .entry(characteristic.as_str())
            .or_default()
            .push((measured, y, event.time.0));
    }
    let mut results = 0;
    let mut out = Vec::new();
    for list in by_characteristic.values_mut() {
        results += list.len();
        // Ties share their mid-rank; the order of equal results does not matter.
        list.sort_by(|a, b| a.1.total_cmp(&b.1));
        let n = list.len() as f64;
        let mut i = 0;
        while i < list.len() {
            let j = list[i..].iter().take_while(|x| x.1 == list[i].1).count() + i;
            let percentile = (i + j + 1) as f64 / 2.0 / n;
            out.extend(
                list[i..j]
                    .iter()
                    .filter_map(|(order, _, time)| order.map(|o| (o, percentile, *time))),
            );
            i = j;
        }
    }
    (results, out)
}

/// Scores every column against the signal and orders the causes by significance, leaving out
/// lots whose orders are better, not worse, than their neighbours.
fn ranked_causes(
    y: &[f64],
    support: &[usize],
    columns: &[Column],
    worse: Worse,
) -> Result<Vec<Cause>, UpstreamError> {
    let parameters: Vec<ParameterValues> = columns
        .iter()
        .map(|(kind, values)| ParameterValues {
            name: kind.name(),
            values: values.clone(),
        })
        .collect();
    let ranked = rank_numeric(y, &parameters)?;
    let by_name: BTreeMap<String, (&CauseKind, &Vec<Option<f64>>)> =
        columns.iter().map(|(k, v)| (k.name(), (k, v))).collect();
    let mut causes: Vec<Cause> = ranked
        .into_iter()
        .filter_map(|association| {
            let (kind, values) = by_name[&association.name];
            let effect = association.effect.unwrap_or(0.0);
            let against = match worse {
                Worse::Higher => effect <= 0.0,
                Worse::Lower => effect >= 0.0,
                Worse::Either => false,
            };
            if against && matches!(kind, CauseKind::ComponentLot { .. }) {
                return None;
            }
            let present: Vec<usize> = (0..values.len()).filter(|&i| values[i].is_some()).collect();
            Some(Cause {
                rank: 0,
                same_evidence: Vec::new(),
                cause: kind.clone(),
                orders: present.len(),
                items: present.iter().map(|&i| support[i]).sum(),
                q_value: None,
                association,
            })
        })
        .collect();
    causes.sort_by(|a, b| significance(&a.association, &b.association));
    benjamini_hochberg(&mut causes);
    link_same_evidence(&mut causes, &by_name);
    for (i, cause) in causes.iter_mut().enumerate() {
        cause.rank = i + 1;
    }
    Ok(causes)
}

type Column = (CauseKind, Vec<Option<f64>>);

/// The candidates' value columns over the measured orders (measured at `times`), keeping
/// those with `min_support` values (and, for a lot, at least two orders on each side). A
/// lot's 0s are its neighbours ([`lot_neighbours`]); other orders have no value.
fn columns(
    upstream: &[BTreeMap<CauseKind, f64>],
    times: &[i64],
    min_support: usize,
) -> (usize, Vec<Column>) {
    let mut kinds: BTreeSet<&CauseKind> = BTreeSet::new();
    let mut materials_of: Vec<BTreeSet<&MaterialId>> = Vec::with_capacity(upstream.len());
    for values in upstream {
        kinds.extend(values.keys());
        materials_of.push(
            values
                .keys()
                .filter_map(|k| match k {
                    CauseKind::ComponentLot { material, .. } => Some(material),
                    CauseKind::Parameter { .. } => None,
                })
                .collect(),
        );
    }
    let candidates = kinds.len();
    let mut out = Vec::new();
    for kind in kinds {
        let values: Vec<Option<f64>> = match kind {
            CauseKind::Parameter { .. } => upstream.iter().map(|v| v.get(kind).copied()).collect(),
            CauseKind::ComponentLot { material, .. } => {
                let zeros = lot_neighbours(upstream, &materials_of, times, kind, material);
                (0..upstream.len())
                    .map(|i| match upstream[i].get(kind) {
                        Some(v) => Some(*v),
                        None => zeros.contains(&i).then_some(0.0),
                    })
                    .collect()
            }
        };
        let present = values.iter().flatten().count();
        let ones = values.iter().flatten().filter(|v| **v == 1.0).count();
        let two_sided = match kind {
            CauseKind::ComponentLot { .. } => ones >= 2 && present - ones >= 2,
            CauseKind::Parameter { .. } => true,
        };
        if present >= min_support && two_sided {
            out.push((kind.clone(), values));
        }
    }
    (candidates, out)
}

/// The measured orders a lot is compared with: those that took other lots of its material
/// while it was in use, or within one span of that time before or after it (at least an
/// hour). Measured with `mixplane spc root-cause-evaluate` on development seeds 1..100,
/// wider windows (three spans) or as many neighbours before as after found more bad
/// deliveries in the top three but ranked a lot used while the EA-100 reactor temperature
/// crept above the temperature; one span found both.
fn lot_neighbours(
    upstream: &[BTreeMap<CauseKind, f64>],
    materials_of: &[BTreeSet<&MaterialId>],
    times: &[i64],
    kind: &CauseKind,
    material: &MaterialId,
) -> BTreeSet<usize> {
    let (mut first, mut last) = (i64::MAX, i64::MIN);
    for (values, &time) in upstream.iter().zip(times) {
        if values.contains_key(kind) {
            first = first.min(time);
            last = last.max(time);
        }
    }
    let width = (last - first).max(3_600_000);
    let (from, to) = (first.saturating_sub(width), last.saturating_add(width));
    (0..upstream.len())
        .filter(|&i| {
            materials_of[i].contains(material)
                && !upstream[i].contains_key(kind)
                && (from..=to).contains(&times[i])
        })
        .collect()
}

/// Names, on each cause, the other causes whose value columns are identical.
fn link_same_evidence(
    causes: &mut [Cause],
    columns: &BTreeMap<String, (&CauseKind, &Vec<Option<f64>>)>,
) {
    let mut groups: BTreeMap<Vec<Option<u64>>, Vec<String>> = BTreeMap::new();
    for cause in causes.iter() {
        let name = cause.cause.name();
        let key = columns[&name]
            .1
            .iter()
            .map(|v| v.map(f64::to_bits))
            .collect();
        groups.entry(key).or_default().push(name);
    }
    for cause in causes.iter_mut() {
        let name = cause.cause.name();
        let key: Vec<Option<u64>> = columns[&name]
            .1
            .iter()
            .map(|v| v.map(f64::to_bits))
            .collect();
        cause.same_evidence = groups[&key]
            .iter()
            .filter(|n| **n != name)
            .cloned()
            .collect();
    }
}

/// Most significant first: p-value, then |effect|, then name; unscored last.
fn significance(a: &Association, b: &Association) -> std::cmp::Ordering {
    let p = |x: &Association| x.p_value.unwrap_or(f64::INFINITY);
    let e = |x: &Association| x.effect.map_or(-1.0, f64::abs);
    p(a).total_cmp(&p(b))
        .then_with(|| e(b).total_cmp(&e(a)))
        .then_with(|| a.name.cmp(&b.name))
}

/// Benjamini–Hochberg step-up q-values over the scored causes (already in p order).
fn benjamini_hochberg(causes: &mut [Cause]) {
    let scored: Vec<usize> = (0..causes.len())
        .filter(|&i| causes[i].association.p_value.is_some())
        .collect();
    let m = scored.len() as f64;
    let mut running = 1.0_f64;
    for (k, &i) in scored.iter().enumerate().rev() {
        let p = causes[i].association.p_value.unwrap_or(1.0);
        running = running.min(p * m / (k + 1) as f64);
        causes[i].q_value = Some(running.min(1.0));
    }
}

#[cfg(test)]
mod tests;
