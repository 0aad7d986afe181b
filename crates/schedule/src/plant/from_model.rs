//! From the plant model and its current state to a native [`PlantProblem`].
//!
//! - every order that is not completed or cancelled becomes an order; its routing steps not
//!   yet completed become operations chained by precedence (a step's `max_wait_minutes` is
//!   the maximum lag to the next step); the step running now is fixed on its unit;
//! - durations follow the order quantity (fixed, per item, or line rate: the repetitive
//!   alternatives keep their rate so the problem shows it);
//! - unit calendars are expanded over the horizon into availability windows; blackouts and
//!   units that are down now become downtime;
//! - a pool requirement with a certification becomes a capacity resource of the members who
//!   hold it at the required level (unexpired), and also uses the pool's head count; a
//!   certification nobody holds is an error naming the order, step and certification; the
//!   crew of a running step is already at work: the step holds no pool itself, the pools it
//!   uses have that much less capacity (a dip) from minute 0 until its planned end (it
//!   started in the past, outside the horizon's shift windows);
//! - a pool member absent (the state's attendance: `member_attendance`) lowers by one the
//!   capacity of its pool, and of each certified sub-pool it counts in, over the part of its
//!   absence inside the horizon; crews and absences together become the pool's dips;
//! - intermediate materials are tracked: stock on hand from the lots, produced at the end of
//!   their orders, consumed at the start of the steps that use them. Purchased materials are
//!   tracked when receipts (ATP dates) are given for them. Lots the caller names as held
//!   (quality holds) are not stock: nothing on hand in them counts.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use model::{
    Catalog, ChangeoverKey, EquipmentState, LotId, MaterialId, MaterialKind, OperationRef,
    OrderState, OrderStatus, PlantState, ProductionOrder, ResourcePool, Routing, Step,
    StepDuration, Timestamp, UnitId,
};

use self::dips::{Taken, capacity_dips, running_crews};
use super::problem::*;

mod dips;

/// Inputs of the mapping besides the catalog and the state.
#[derive(Debug, Clone, PartialEq)]
pub struct FromModelOptions {
    /// Minute 0 of the problem ("now").
    pub start: Timestamp,
    pub horizon_minutes: i64,
    /// Purchased receipts on their ATP dates.
    pub receipts: Vec<(MaterialId, Timestamp, f64)>,
    /// Extra downtime (unit, from, to), e.g. a reported breakdown.
    pub downtime: Vec<(UnitId, Timestamp, Timestamp)>,
    /// Minutes a unit that is down now is assumed to stay down (default: its MTTR).
    pub down_minutes: Option<i64>,
    /// When intermediate demand exceeds stock plus production, raise the initial stock to
    /// cover it instead of failing (the reference plant's order book assumes stock).
    pub assume_intermediate_stock: bool,
    /// Lots that may not be used (on quality hold): their quantity on hand is not stock.
    pub held_lots: BTreeSet<LotId>,
}

impl FromModelOptions {
    pub fn new(start: Timestamp, horizon_minutes: i64) -> FromModelOptions {
        FromModelOptions {
            start,
            horizon_minutes,
            receipts: Vec::new(),
            downtime: Vec::new(),
            down_minutes: None,
            assume_intermediate_stock: true,
            held_lots: BTreeSet::new(),
        }
    }
}

/// Why the plant cannot be mapped.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FromModelError {
    #[error(
        "order `{order}` step {step}: nobody in pool `{pool}` holds certification `{certification}` at level {level} or above"
    )]
    CertificationUnheld {
        order: String,
        step: usize,
        pool: String,
        certification: String,
        level: u8,
    },
    #[error("order `{order}`: {message}")]
    Order { order: String, message: String },
    #[error(transparent)]
    Problem(#[from] ProblemError),
}

const MINUTE_MS: i64 = 60_000;

fn rel(start: Timestamp, t: Timestamp) -> i64 {
    (t.0 - start.0).div_euclid(MINUTE_MS)
}

/// Expands a calendar's weekly shifts over `[0, horizon)` (minutes from `start`), read in the
/// site's time zone by [`model::calendar::shift_windows`] (UTC when the site names none):
/// sorted, clipped to the horizon, overlapping shifts kept apart.
pub fn expand_shifts(
    cal: &model::Calendar,
    zone: &model::calendar::SiteZone,
    start: Timestamp,
    horizon: i64,
) -> Vec<Interval> {
    let start_min = start.0.div_euclid(MINUTE_MS);
    let from = start_min * MINUTE_MS;
    let windows = model::calendar::shift_windows(cal, zone, from, from + horizon * MINUTE_MS);
    let mut out: Vec<Interval> = windows
        .into_iter()
        .map(|w| Interval {
            start: (w.start.div_euclid(MINUTE_MS) - start_min).max(0),
            end: (w.end.div_euclid(MINUTE_MS) - start_min).min(horizon),
        })
        .filter(|w| w.start < w.end)
        .collect();
    out.sort_by_key(|w| (w.start, w.end));
    out
}

fn ceil_min(x: f64) -> i64 {
    (x - 1e-9).ceil().max(1.0) as i64
}

/// Maps the catalog and state to a problem.
pub fn problem_from_model(
    catalog: &Catalog,
    state: &PlantState,
    options: &FromModelOptions,
) -> Result<PlantProblem, FromModelError> {
    let cx = Mapping::new(catalog, state, options);
    let units = catalog.plant().units.iter().map(|u| cx.unit(u)).collect();
    let mut pools = cx.pools();
    let mut tracked = cx.tracked_materials();
    let mut orders = Vec::new();
    let mut operations = Vec::new();
    for os in state.orders.values() {
        if matches!(os.status, OrderStatus::Completed | OrderStatus::Cancelled) {
            continue;
        }
        orders.push(cx.order(&os.order));
        cx.operations(os, &tracked, &mut pools, &mut operations)?;
    }
    let mut taken = running_crews(&mut operations);
    cx.absences(&pools, &mut taken);
    capacity_dips(taken, &mut pools);
    if options.assume_intermediate_stock {
        assume_intermediate_stock(&operations, &mut tracked);
    }
    let problem = PlantProblem {
        schema_version: PROBLEM_SCHEMA_VERSION,
        horizon_start: options.start,
        horizon_minutes: options.horizon_minutes,
        units,
        changeovers: changeover_tables(catalog.plant()),
        pools: pools.into_values().collect(),
        materials: tracked.into_values().collect(),
        orders,
        operations,
        reference: Vec::new(),
        objective: None,
    };
    problem.validate()?;
    Ok(problem)
}

/// The catalog, the state and the options, with the calendars and families by id.
struct Mapping<'a> {
    catalog: &'a Catalog,
    state: &'a PlantState,
    options: &'a FromModelOptions,
    calendars: HashMap<&'a str, &'a model::Calendar>,
    families: HashMap<&'a str, &'a model::ProductFamily>,
}

impl<'a> Mapping<'a> {
    fn new(
        catalog: &'a Catalog,
        state: &'a PlantState,
        options: &'a FromModelOptions,
    ) -> Mapping<'a> {
        let plant = catalog.plant();
        Mapping {
            catalog,
            state,
            options,
            calendars: plant.calendars.iter().map(|c| (c.id.as_str(), c)).collect(),
            families: plant.families.iter().map(|f| (f.id.as_str(), f)).collect(),
        }
    }

    fn rel(&self, t: Timestamp) -> i64 {
        rel(self.options.start, t)
    }

    /// A calendar's shifts over the horizon; `None` when they cover all of it.
    fn shift_windows(&self, cal: &model::Calendar) -> Option<Vec<Interval>> {
        let h = self.options.horizon_minutes;
        let w = expand_shifts(cal, self.catalog.zone(), self.options.start, h);
        (!(w.len() == 1 && w[0].start == 0 && w[0].end == h)).then_some(w)
    }

    /// A unit: its calendar as availability; blackouts, being down now and reported
    /// breakdowns as downtime; its changeover table and CIP rule.
    fn unit(&self, u: &model::Unit) -> UnitSpec {
        let cal = self.calendars.get(u.calendar.as_str());
        let mut downtime = Vec::new();
        let availability = cal.and_then(|cal| self.shift_windows(cal));
        if let Some(cal) = cal {
            for b in &cal.blackouts {
                if b.units.is_empty() || b.units.contains(&u.id) {
                    downtime.push(Interval {
                        start: self.rel(b.start),
                        end: self.rel(b.end),
                    });
                }
            }
        }
        if let Some(us) = self.state.units.get(&u.id)
            && us.state == EquipmentState::Down
        {
            let minutes = self
                .options
                .down_minutes
                .unwrap_or_else(|| ceil_min(u.mttr_hours.unwrap_or(1.0) * 60.0));
            downtime.push(Interval {
                start: 0,
                end: minutes,
            });
        }
        for (unit, a, b) in &self.options.downtime {
            if *unit == u.id {
                downtime.push(Interval {
                    start: self.rel(*a),
                    end: self.rel(*b),
                });
            }
        }
        downtime.retain(|d| d.end > d.start);
        UnitSpec {
            id: u.id.to_string(),
            mode: self.catalog.unit_mode(&u.id).map(|m| m.as_str().to_owned()),
            availability,
            downtime,
            changeover: u.changeover_matrix.as_ref().map(ToString::to_string),
            cip: u.cip.as_ref().map(|c| CipSpec {
                minutes: ceil_min(c.duration_minutes),
                cost: 0.0,
                on_product_change: c.on_product_change,
                after_batches: c.after_batches,
                max_run_minutes: c.max_run_minutes.map(ceil_min),
            }),
        }
    }

    /// Every pool with its head count as capacity (the certified sub-pools are added by the
    /// steps that need them).
    fn pools(&self) -> BTreeMap<String, PoolSpec> {
        let mut pools = BTreeMap::new();
        for p in &self.catalog.plant().pools {
            pools.insert(
                p.id.to_string(),
                PoolSpec {
                    id: p.id.to_string(),
                    description: Some(format!("{} ({:?})", p.name, p.kind)),
                    capacity: p.members.len() as u32,
                    availability: self.pool_windows(&p.calendar),
                    dips: Vec::new(),
                },
            );
        }
        pools
    }

    fn pool_windows(&self, calendar: &model::CalendarId) -> Option<Vec<Interval>> {
        self.calendars
            .get(calendar.as_str())
            .and_then(|c| self.shift_windows(c))
    }

    /// Intermediate materials with the stock on hand, and purchased ones with receipts.
    fn tracked_materials(&self) -> BTreeMap<String, MaterialSpec> {
        let mut on_hand: BTreeMap<String, f64> = BTreeMap::new();
        for (id, lot) in &self.state.lots {
            if self.options.held_lots.contains(id) {
                continue;
            }
            *on_hand.entry(lot.material.to_string()).or_default() += lot.on_hand().max(0.0);
        }
        let mut tracked: BTreeMap<String, MaterialSpec> = BTreeMap::new();
        for m in &self.catalog.plant().materials {
            if m.kind == MaterialKind::Intermediate {
                tracked.insert(
                    m.id.to_string(),
                    MaterialSpec {
                        id: m.id.to_string(),
                        initial: on_hand.get(m.id.as_str()).copied().unwrap_or(0.0),
                        receipts: Vec::new(),
                    },
                );
            }
        }
        for (mat, at, q) in &self.options.receipts {
            let spec = tracked
                .entry(mat.to_string())
                .or_insert_with(|| MaterialSpec {
                    id: mat.to_string(),
                    initial: on_hand.get(mat.as_str()).copied().unwrap_or(0.0),
                    receipts: Vec::new(),
                });
            spec.receipts.push(Receipt {
                time: self.rel(*at).max(0),
                quantity: *q,
            });
        }
        tracked
    }

    fn order(&self, order: &ProductionOrder) -> OrderSpec {
        OrderSpec {
            id: order.id.to_string(),
            release: self.rel(order.release).max(0),
            due: Some(self.rel(order.due)),
            weight: order.priority.weight(),
        }
    }

    /// The order's routing steps not yet completed, as operations chained by precedence.
    fn operations(
        &self,
        os: &OrderState,
        tracked: &BTreeMap<String, MaterialSpec>,
        pools: &mut BTreeMap<String, PoolSpec>,
        operations: &mut Vec<OperationSpec>,
    ) -> Result<(), FromModelError> {
        let order = &os.order;
        let oid = order.id.to_string();
        let routing =
            self.catalog
                .routing(&order.routing)
                .ok_or_else(|| FromModelError::Order {
                    order: oid.clone(),
                    message: format!("routing `{}` does not exist", order.routing),
                })?;
        let family = self
            .catalog
            .material(&order.product)
            .and_then(|m| m.family.as_ref())
            .map(ToString::to_string);
        let attributes: BTreeMap<String, String> = family
            .as_deref()
            .and_then(|f| self.families.get(f))
            .map(|f| f.attributes.clone())
            .unwrap_or_default();
        let first = os.steps_completed as usize;
        let running = os.current_step.map(|s| s as usize);
        let last = routing.steps.len().saturating_sub(1);
        for (k, step) in routing.steps.iter().enumerate().skip(first) {
            let alternatives = alternatives(step, order);
            let pool_uses = self.step_pools(&oid, k, step, pools)?;
            let in_progress = running == Some(k);
            let consumes = if in_progress {
                Vec::new()
            } else {
                step.consumes
                    .iter()
                    .filter(|c| tracked.contains_key(c.material.as_str()))
                    .map(|c| MaterialQty {
                        material: c.material.to_string(),
                        quantity: c.per_unit * order.quantity,
                    })
                    .collect()
            };
            let produces = if k == last && tracked.contains_key(order.product.as_str()) {
                vec![MaterialQty {
                    material: order.product.to_string(),
                    quantity: order.quantity,
                }]
            } else {
                Vec::new()
            };
            let fixed = if in_progress {
                self.running_on(os, &alternatives)
            } else {
                None
            };
            operations.push(OperationSpec {
                id: operation_id(order, k),
                order: oid.clone(),
                release: None,
                predecessors: predecessors(order, routing, first, k),
                alternatives,
                quantity: order.quantity,
                product: Some(order.product.to_string()),
                cip_before: false,
                family: family.clone(),
                attributes: attributes.clone(),
                pools: pool_uses,
                consumes,
                produces,
                fixed,
            });
        }
        Ok(())
    }

    /// The pools a step uses: each pool's head count and, for a certification, the sub-pool
    /// of the members who hold it at the level (added to `pools` on first use). A
    /// certification held by fewer members than needed is an error naming the step.
    fn step_pools(
        &self,
        oid: &str,
        k: usize,
        step: &Step,
        pools: &mut BTreeMap<String, PoolSpec>,
    ) -> Result<Vec<PoolUse>, FromModelError> {
        let mut pool_uses: Vec<PoolUse> = Vec::new();
        let mut add = |id: String, q: u32| match pool_uses.iter_mut().find(|u| u.pool == id) {
            Some(u) => u.quantity += q,
            None => pool_uses.push(PoolUse {
                pool: id,
                quantity: q,
            }),
        };
        for req in &step.pools {
            let Some(pool) = self.catalog.pool(&req.pool) else {
                continue;
            };
            add(pool.id.to_string(), req.quantity);
            if let Some(cert) = &req.certification {
                let level = req.min_level.unwrap_or(1);
                let holders = self.certified(pool, cert, level);
                if holders < req.quantity {
                    return Err(FromModelError::CertificationUnheld {
                        order: oid.to_owned(),
                        step: k,
                        pool: pool.id.to_string(),
                        certification: cert.to_string(),
                        level,
                    });
                }
                let pid = format!("{}/{}>={}", pool.id, cert, level);
                pools.entry(pid.clone()).or_insert_with(|| PoolSpec {
                    id: pid.clone(),
                    description: Some(format!("{} certified {cert} level {level}+", pool.name)),
                    capacity: holders,
                    availability: self.pool_windows(&pool.calendar),
                    dips: Vec::new(),
                });
                add(pid, req.quantity);
            }
        }
        Ok(pool_uses)
    }

    /// Members of `pool` holding `cert` at `level` or above, unexpired at the start.
    fn certified(&self, pool: &ResourcePool, cert: &model::CertificationId, level: u8) -> u32 {
        let start = self.options.start;
        pool.members
            .iter()
            .filter(|m| {
                m.certifications.iter().any(|c| {
                    c.certification == *cert
                        && c.level >= level
                        && c.expires.is_none_or(|e| e > start)
                })
            })
            .count() as u32
    }

    /// The absences of pool members over the horizon, as capacity taken from their pool and
    /// from every certified sub-pool of it (`pool/cert>=level`) they count in.
    fn absences(
        &self,
        pools: &BTreeMap<String, PoolSpec>,
        taken: &mut BTreeMap<String, Vec<Taken>>,
    ) {
        let h = self.options.horizon_minutes;
        for (pool_id, member_id, from, until) in self.state.absences() {
            let start = self.rel(from).max(0);
            let end = until.map_or(h, |u| self.rel(u)).min(h);
            let (Some(pool), true) = (self.catalog.pool(pool_id), end > start) else {
                continue;
            };
            let Some(member) = pool.members.iter().find(|m| &m.id == member_id) else {
                continue;
            };
            let prefix = format!("{}/", pool.id);
            let counts_in = |id: &str| {
                if id == pool.id.as_str() {
                    return true;
                }
                let Some((cert, level)) = id
                    .strip_prefix(&prefix)
                    .and_then(|rest| rest.rsplit_once(">="))
                else {
                    return false;
                };
                let level: u8 = level.parse().unwrap_or(u8::MAX);
                member.certifications.iter().any(|c| {
                    c.certification.as_str() == cert
                        && c.level >= level
                        && c.expires.is_none_or(|e| e > self.options.start)
                })
            };
            for id in pools.keys().filter(|id| counts_in(id)) {
                taken.entry(id.clone()).or_default().push(Taken {
                    start,
                    end,
                    quantity: 1,
                });
            }
        }
    }

    /// The running step fixed on its current unit since the unit's state changed (not after
    /// now), when that unit is one of its alternatives.
    fn running_on(&self, os: &OrderState, alternatives: &[AltSpec]) -> Option<Fixed> {
        let unit = os.current_unit.as_ref().map(ToString::to_string);
        unit.filter(|u| alternatives.iter().any(|a| a.unit == *u))
            .map(|u| {
                let since = self
                    .state
                    .units
                    .get(&UnitId::from(u.as_str()))
                    .map_or(0, |s| self.rel(s.since).min(0));
                Fixed {
                    unit: u,
                    start: since,
                    in_progress: true,
                }
            })
    }
}

/// The operation id of step `k` of `order`: its [`OperationRef`].
fn operation_id(order: &ProductionOrder, k: usize) -> String {
    OperationRef::new(order.id.clone(), k as u32).to_string()
}

/// The step before `k` (when it is not completed) as predecessor, its `max_wait_minutes` the
/// maximum lag.
fn predecessors(order: &ProductionOrder, routing: &Routing, first: usize, k: usize) -> Vec<Lag> {
    if k > first {
        vec![Lag {
            op: operation_id(order, k - 1),
            min_lag: 0,
            max_lag: routing.steps[k - 1]
                .max_wait_minutes
                .map(|m| m.floor() as i64),
        }]
    } else {
        Vec::new()
    }
}

/// A step's units with the duration for the order's quantity (repetitive alternatives keep
/// their line rate).
fn alternatives(step: &Step, order: &ProductionOrder) -> Vec<AltSpec> {
    step.alternatives
        .iter()
        .map(|alt| match alt.duration {
            StepDuration::Rate {
                setup_minutes,
                items_per_hour,
            } => AltSpec {
                unit: alt.unit.to_string(),
                minutes: None,
                items_per_hour: Some(items_per_hour),
                setup_minutes: setup_minutes.ceil() as i64,
            },
            ref d => AltSpec {
                unit: alt.unit.to_string(),
                minutes: Some(ceil_min(d.minutes_for(order.quantity))),
                items_per_hour: None,
                setup_minutes: 0,
            },
        })
        .collect()
}

/// The plant's changeover matrices as tables (minutes rounded up).
fn changeover_tables(plant: &model::Plant) -> Vec<ChangeoverTable> {
    plant
        .changeover_matrices
        .iter()
        .map(|m| ChangeoverTable {
            id: m.id.to_string(),
            keyed_by: match &m.keyed_by {
                ChangeoverKey::Family => KeyedBy::Family,
                ChangeoverKey::Attribute { name } => KeyedBy::Attribute { name: name.clone() },
            },
            default_minutes: m.default_minutes.ceil() as i64,
            default_cost: m.default_cost,
            entries: m
                .entries
                .iter()
                .map(|e| ChangeoverEntry {
                    from: e.from.clone(),
                    to: e.to.clone(),
                    minutes: e.minutes.ceil() as i64,
                    cost: e.cost,
                })
                .collect(),
        })
        .collect()
}

/// Raises the initial stock of each tracked material whose consumption exceeds its supply
/// (stock, receipts and production) to cover it.
fn assume_intermediate_stock(
    operations: &[OperationSpec],
    tracked: &mut BTreeMap<String, MaterialSpec>,
) {
    let mut balance: BTreeMap<&str, f64> = BTreeMap::new();
    for op in operations {
        for c in &op.consumes {
            *balance.entry(c.material.as_str()).or_default() -= c.quantity;
        }
        for p in &op.produces {
            *balance.entry(p.material.as_str()).or_default() += p.quantity;
        }
    }
    for (m, b) in balance {
        if let Some(spec) = tracked.get_mut(m) {
            let supply = spec.initial + spec.receipts.iter().map(|r| r.quantity).sum::<f64>();
            if supply + b < 0.0 {
                spec.initial += -(supply + b);
            }
        }
    }
}
