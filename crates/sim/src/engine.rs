//! The discrete-event engine: a time-ordered queue of plant happenings (releases, receipts,
//! ends of work segments, repairs, blackouts, shift starts, shipments) processed in
//! `(time, sequence)` order, a dispatcher that starts operations whenever resources free up,
//! and the bookkeeping that turns all of it into model [`Event`]s.
//!
//! Units work in segments that stop at the end of a calendar window, at a breakdown (time to
//! failure counts busy time) or when the phase (CIP, changeover, run) is done. Process
//! operations only start when they fit inside the current window; discrete and repetitive
//! work pauses at shift end and resumes at the next shift. Everything that can influence the
//! output is kept in ordered containers and drawn from labelled [`Rng`] streams, so the same
//! inputs give the same events.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, VecDeque};

use model::rng::Rng;
use model::*;

use crate::calendar::{MS_PER_MINUTE, Windows};
use crate::measure::{self, round};
use crate::options::*;
use crate::output::*;

const HOUR: i64 = 3_600_000;

/// Scrap multiplier of a trainee, a qualified operator and an expert (levels 1 to 3).
pub(crate) const SKILL_FACTORS: [f64; 3] = [1.6, 1.0, 0.7];
const DAY: i64 = 86_400_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    Release(usize),
    Receipt(usize),
    Arrival(usize),
    BlackoutStart(usize, usize),
    BlackoutEnd(usize, usize),
    Repaired(usize),
    SegmentEnd(usize, u64),
    Wake,
    Ship(usize),
    Change(usize),
}

/// A customer's change to an order after release.
#[derive(Debug, Clone)]
enum Change {
    /// Due date moved by this many hours (never before the release).
    Due(usize, i64),
    /// Priority raised to high (an expedite).
    Expedite(usize),
    /// Quantity scaled, if the order has not started.
    Quantity(usize, f64),
    /// Cancelled, if the order has not started.
    Cancel(usize, &'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Cleaning,
    Setup,
    Run,
}

#[derive(Debug, Clone)]
struct Take {
    material: MaterialId,
    lot: Option<LotId>,
    serial: Option<SerialId>,
    quantity: f64,
}

#[derive(Debug, Clone)]
struct Op {
    order: usize,
    step: u32,
    input: f64,
    members: Vec<(usize, usize)>,
    takes: Vec<Take>,
    parameters: BTreeMap<String, f64>,
    started: bool,
    /// Scrap and time multiplier from the certification levels of the people assigned.
    skill: f64,
}

#[derive(Debug, Clone)]
struct Job {
    phases: VecDeque<(Phase, i64, Option<String>)>,
    op: Op,
}

struct UnitSim {
    id: UnitId,
    mode: Mode,
    windows: Windows,
    blackouts: Vec<(i64, i64, String)>,
    emitted: EquipmentState,
    since: i64,
    state_ms: [i64; 5],
    job: Option<Job>,
    segment: Option<i64>,
    token: u64,
    broken: bool,
    in_blackout: bool,
    ttf_ms: Option<i64>,
    rng: Rng,
    last_key: Option<String>,
    last_product: Option<MaterialId>,
    batches_since_cip: u32,
    run_ms_since_cip: i64,
    reserved_for: Option<usize>,
    plan: VecDeque<(usize, u32, i64)>,
    /// Report `idle` (with this reason) at the end of the instant unless work starts.
    idle_pending: Option<Option<String>>,
}

struct MemberSim {
    certs: Vec<(CertificationId, u8, Option<i64>)>,
    busy: bool,
}

struct PoolSim {
    windows: Windows,
    members: Vec<MemberSim>,
    busy_ms: i64,
}

struct OrderSim {
    order: ProductionOrder,
    routing: usize,
    mode: Mode,
    released: bool,
    next_step: u32,
    busy: bool,
    done: bool,
    quantity: f64,
    deadline: Option<(i64, f64, i64)>,
    reserved_unit: Option<usize>,
    input_factor: f64,
    own_factor: f64,
    temperature: f64,
    lot: Option<LotId>,
    serials: Vec<SerialId>,
    first_unit: Option<usize>,
}

#[derive(Debug, Clone)]
struct Stock {
    lot: Option<LotId>,
    serial: Option<SerialId>,
    quantity: f64,
    factor: f64,
}

struct Receipt {
    time: i64,
    expedited: bool,
    material: MaterialId,
    quantity: f64,
    supplier: String,
}

pub(crate) struct Sim<'a> {
    cat: &'a Catalog,
    opts: &'a SimOptions,
    seed: u64,
    start: i64,
    end: i64,
    now: i64,
    queue: BinaryHeap<Reverse<(i64, u64, Ev)>>,
    seq: u64,
    wakes: BTreeSet<i64>,
    events: Vec<Event>,
    units: Vec<UnitSim>,
    unit_index: BTreeMap<UnitId, usize>,
    pools: Vec<PoolSim>,
    pool_index: BTreeMap<PoolId, usize>,
    orders: Vec<OrderSim>,
    order_index: BTreeMap<OrderId, usize>,
    routing_index: BTreeMap<RoutingId, usize>,
    stock: BTreeMap<MaterialId, VecDeque<Stock>>,
    receipts: Vec<Receipt>,
    arrivals: Vec<ProductionOrder>,
    changes: Vec<Change>,
    replenished: Vec<OrderId>,
    planned: BTreeSet<(usize, u32)>,
    plan_mode: bool,
    samples: BTreeMap<CharacteristicId, u64>,
    counters: BTreeMap<&'static str, u64>,
    rng_duration: Rng,
    rng_quality: Rng,
    rng_params: Rng,
    rng_yield: Rng,
    truth_breakdowns: Vec<BreakdownTruth>,
    drift_orders: Vec<BTreeSet<OrderId>>,
    drift_lots: Vec<BTreeSet<LotId>>,
    wait_violations: Vec<MaxWaitViolation>,
    changeovers: u64,
    cip_cycles: u64,
}

/// A CIP due before the next run: minutes and reason.
type CipNeed = (f64, String);
/// A changeover due before the next run: minutes, reason and the new setup key.
type SetupNeed = (f64, String, String);

/// Minutes to ms, rounded to whole seconds so event times read cleanly.
fn ms(minutes: f64) -> i64 {
    (minutes * 60.0).round().max(0.0) as i64 * 1000
}

fn state_index(s: EquipmentState) -> usize {
    match s {
        EquipmentState::Running => 0,
        EquipmentState::Idle => 1,
        EquipmentState::Setup => 2,
        EquipmentState::Cleaning => 3,
        EquipmentState::Down => 4,
    }
}

/// `yymmdd` of an instant, for lot codes.
fn date_code(t: i64) -> String {
    let s = Timestamp(t).to_string();
    format!("{}{}{}", &s[2..4], &s[5..7], &s[8..10])
}

const FAILURES: [&[&str]; 4] = [
    &[
        "press servo fault",
        "dispense valve clogged",
        "vision inspection fault",
        "fixture damage",
    ],
    &[
        "agitator seal leak",
        "temperature control loop fault",
        "vacuum pump trip",
        "bottom valve actuator failure",
    ],
    &[
        "temperature controller fault",
        "instrument air loss",
        "door interlock fault",
        "transfer pump trip",
    ],
    &[
        "filler nozzle blockage",
        "labeller jam",
        "case erector jam",
        "checkweigher fault",
    ],
];

/// Suppliers of bulk chemicals, of counted components and of packaging.
const SUPPLIERS: [&[&str]; 3] = [
    &[
        "Rhein Epoxy Chemie GmbH",
        "Nordwerk Polymers AB",
        "Danube Silica Kft",
    ],
    &[
        "Precision Mouldings s.r.o.",
        "Sato Pneumatics KK",
        "Brandt Feinmechanik GmbH",
    ],
    &["Vallee Packaging SAS", "Kartonwerk Sued GmbH"],
];

impl<'a> Sim<'a> {
    pub(crate) fn new(
        cat: &'a Catalog,
        opts: &'a SimOptions,
        plan: Option<&Plan>,
    ) -> Result<Sim<'a>, SimError> {
        validate_options(cat, opts)?;
        let plant = cat.plant();
        let seed = opts.seed;
        let start = opts.start.0;
        let end = start + (opts.days * DAY as f64).round() as i64;
        let horizon = end + 30 * DAY;
        let calendars: BTreeMap<&CalendarId, &Calendar> =
            plant.calendars.iter().map(|c| (&c.id, c)).collect();
        let mut units = Vec::new();
        let mut unit_index = BTreeMap::new();
        for (i, u) in plant.units.iter().enumerate() {
            let cal = calendars[&u.calendar];
            let blackouts = cal
                .blackouts
                .iter()
                .filter(|b| b.units.is_empty() || b.units.contains(&u.id))
                .map(|b| (b.start.0, b.end.0, b.reason.clone()))
                .collect();
            let mut rng = Rng::derive(seed, &format!("failures:{}", u.id));
            let ttf_ms = match (opts.breakdowns, u.mtbf_hours, u.mttr_hours) {
                (true, Some(mtbf), Some(_)) => Some(ms(rng.exponential(mtbf) * 60.0)),
                _ => None,
            };
            units.push(UnitSim {
                id: u.id.clone(),
                mode: cat.unit_mode(&u.id).expect("validated"),
                windows: Windows::expand(cal, Some(&u.id), start, horizon),
                blackouts,
                emitted: EquipmentState::Idle,
                since: start,
                state_ms: [0; 5],
                job: None,
                segment: None,
                token: 0,
                broken: false,
                in_blackout: false,
                ttf_ms,
                rng,
                last_key: None,
                last_product: None,
                batches_since_cip: 0,
                run_ms_since_cip: 0,
                reserved_for: None,
                plan: VecDeque::new(),
                idle_pending: None,
            });
            unit_index.insert(u.id.clone(), i);
        }
        let mut pools = Vec::new();
        let mut pool_index = BTreeMap::new();
        for (i, p) in plant.pools.iter().enumerate() {
            let cal = calendars[&p.calendar];
            pools.push(PoolSim {
                windows: Windows::expand(cal, None, start, horizon),
                members: p
                    .members
                    .iter()
                    .map(|m| MemberSim {
                        certs: m
                            .certifications
                            .iter()
                            .map(|h| (h.certification.clone(), h.level, h.expires.map(|e| e.0)))
                            .collect(),
                        busy: false,
                    })
                    .collect(),
                busy_ms: 0,
            });
            pool_index.insert(p.id.clone(), i);
        }
        let routing_index = plant
            .routings
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.clone(), i))
            .collect();
        let mut sim = Sim {
            cat,
            opts,
            seed,
            start,
            end,
            now: start,
            queue: BinaryHeap::new(),
            seq: 0,
            wakes: BTreeSet::new(),
            events: Vec::new(),
            units,
            unit_index,
            pools,
            pool_index,
            orders: Vec::new(),
            order_index: BTreeMap::new(),
            routing_index,
            stock: BTreeMap::new(),
            receipts: Vec::new(),
            arrivals: Vec::new(),
            changes: Vec::new(),
            replenished: Vec::new(),
            planned: BTreeSet::new(),
            plan_mode: plan.is_some(),
            samples: BTreeMap::new(),
            counters: BTreeMap::new(),
            rng_duration: Rng::derive(seed, "durations"),
            rng_quality: Rng::derive(seed, "quality"),
            rng_params: Rng::derive(seed, "parameters"),
            rng_yield: Rng::derive(seed, "yield"),
            truth_breakdowns: Vec::new(),
            drift_orders: vec![BTreeSet::new(); opts.drifts.len()],
            drift_lots: vec![BTreeSet::new(); opts.drifts.len()],
            wait_violations: Vec::new(),
            changeovers: 0,
            cip_cycles: 0,
        };
        for order in &plant.orders {
            let i = sim.add_order(order.clone());
            sim.push(order.release.0.max(start), Ev::Release(i));
        }
        if let Some(plan) = plan {
            sim.load_plan(plan)?;
        }
        sim.plan_arrivals();
        sim.plan_changes();
        sim.plan_receipts();
        for u in 0..sim.units.len() {
            for (b, &(s, e, _)) in sim.units[u].blackouts.clone().iter().enumerate() {
                if e > start && s <= end {
                    sim.push(s.max(start), Ev::BlackoutStart(u, b));
                    sim.push(e, Ev::BlackoutEnd(u, b));
                }
            }
        }
        let mut starts: BTreeSet<i64> = BTreeSet::new();
        for u in &sim.units {
            starts.extend(u.windows.starts_between(start, end + 1));
        }
        for p in &sim.pools {
            starts.extend(p.windows.starts_between(start, end + 1));
        }
        for t in starts {
            sim.wake_at(t);
        }
        Ok(sim)
    }

    fn add_order(&mut self, order: ProductionOrder) -> usize {
        let routing = self.routing_index[&order.routing];
        let mode = self.cat.plant().routings[routing].mode;
        let i = self.orders.len();
        self.order_index.insert(order.id.clone(), i);
        self.orders.push(OrderSim {
            quantity: order.quantity,
            order,
            routing,
            mode,
            released: false,
            next_step: 0,
            busy: false,
            done: false,
            deadline: None,
            reserved_unit: None,
            input_factor: 0.0,
            own_factor: 0.0,
            temperature: 0.0,
            lot: None,
            serials: Vec::new(),
            first_unit: None,
        });
        i
    }

    fn load_plan(&mut self, plan: &Plan) -> Result<(), SimError> {
        for (unit, ops) in &plan.units {
            let path = format!("units.{unit}");
            let Some(&u) = self.unit_index.get(unit) else {
                return Err(SimError::Plan {
                    path,
                    message: format!("unit `{unit}` does not exist"),
                });
            };
            for (k, op) in ops.iter().enumerate() {
                let path = format!("units.{unit}[{k}]");
                let Some(&o) = self.order_index.get(&op.order) else {
                    return Err(SimError::Plan {
                        path,
                        message: format!("order `{}` is not in the plant's order book", op.order),
                    });
                };
                let routing = &self.cat.plant().routings[self.orders[o].routing];
                let Some(step) = routing.steps.get(op.step as usize) else {
                    return Err(SimError::Plan {
                        path,
                        message: format!("routing `{}` has no step {}", routing.id, op.step),
                    });
                };
                if !step.alternatives.iter().any(|a| &a.unit == unit) {
                    return Err(SimError::Plan {
                        path,
                        message: format!(
                            "unit `{unit}` cannot run step {} of order `{}`",
                            op.step, op.order
                        ),
                    });
                }
                if !self.planned.insert((o, op.step)) {
                    return Err(SimError::Plan {
                        path,
                        message: format!("order `{}` step {} is planned twice", op.order, op.step),
                    });
                }
                self.units[u].plan.push_back((o, op.step, op.start.0));
                if op.start.0 > self.start && op.start.0 <= self.end {
                    self.wake_at(op.start.0);
                }
            }
        }
        Ok(())
    }

    /// Rush orders arriving as a Poisson stream, for finished products; their produced
    /// inputs are replenished by make-to-stock orders when they would run short.
    fn plan_arrivals(&mut self) {
        if !self.opts.new_orders || self.opts.new_orders_per_day <= 0.0 {
            return;
        }
        let cat = self.cat;
        let plant = cat.plant();
        let candidates: Vec<&Routing> = plant
            .routings
            .iter()
            .filter(|r| {
                cat.material(&r.product)
                    .is_some_and(|m| m.kind == MaterialKind::Finished)
            })
            .collect();
        if candidates.is_empty() {
            return;
        }
        let customers: BTreeSet<&str> = plant
            .orders
            .iter()
            .filter_map(|o| o.customer.as_deref())
            .collect();
        let customers: Vec<&str> = if customers.is_empty() {
            vec!["Walk-in customer"]
        } else {
            customers.into_iter().collect()
        };
        let mut rng = Rng::derive(self.seed, "arrivals");
        let mut t = self.start as f64;
        let mut k = 0;
        loop {
            t += rng.exponential(DAY as f64 / self.opts.new_orders_per_day);
            if t >= self.end as f64 {
                break;
            }
            let routing = *rng.pick(&candidates);
            let examples: Vec<f64> = plant
                .orders
                .iter()
                .filter(|o| o.routing == routing.id)
                .map(|o| o.quantity)
                .collect();
            let quantity = if examples.is_empty() {
                routing.batch_size.unwrap_or(100.0)
            } else {
                *rng.pick(&examples)
            };
            let release = Timestamp((t / 60_000.0).round() as i64 * 60_000);
            let due_raw = release.0 + (3 + rng.below(3) as i64) * DAY;
            let due = Timestamp(due_raw - due_raw.rem_euclid(HOUR));
            k += 1;
            let order = ProductionOrder {
                id: format!("RUSH-{}-{k:03}", self.seed).into(),
                product: routing.product.clone(),
                routing: routing.id.clone(),
                quantity,
                release,
                due,
                priority: if rng.chance(0.5) {
                    Priority::High
                } else {
                    Priority::Medium
                },
                customer: Some((*rng.pick(&customers)).to_owned()),
            };
            let a = self.arrivals.len();
            self.arrivals.push(order);
            self.push(release.0, Ev::Arrival(a));
        }
    }

    /// Customers change some released make-to-order orders: due dates move, a few are
    /// expedited, quantities change or orders are cancelled before they start.
    fn plan_changes(&mut self) {
        if !self.opts.order_changes {
            return;
        }
        let mut rng = Rng::derive(self.seed, "order-changes");
        for o in 0..self.orders.len() {
            let order = &self.orders[o].order;
            if order.customer.is_none() {
                continue;
            }
            let draw = rng.uniform();
            let window = (order.due.0 - order.release.0).max(HOUR);
            let at = order.release.0.max(self.start) + (rng.uniform() * 0.5 * window as f64) as i64;
            let at = at - at.rem_euclid(60_000);
            let change = if draw < 0.05 {
                Change::Due(o, [-24, 24, 48][rng.below(3) as usize])
            } else if draw < 0.08 {
                Change::Expedite(o)
            } else if draw < 0.11 && self.orders[o].mode != Mode::Process {
                Change::Quantity(o, [0.8, 1.2][rng.below(2) as usize])
            } else if draw < 0.13 {
                Change::Cancel(
                    o,
                    if rng.chance(0.5) {
                        "customer cancelled the order"
                    } else {
                        "order merged into a later delivery"
                    },
                )
            } else {
                continue;
            };
            let c = self.changes.len();
            self.changes.push(change);
            self.push(at, Ev::Change(c));
        }
    }

    fn change(&mut self, c: usize) {
        let change = self.changes[c].clone();
        let o = match change {
            Change::Due(o, _)
            | Change::Expedite(o)
            | Change::Quantity(o, _)
            | Change::Cancel(o, _) => o,
        };
        let order = &self.orders[o];
        if !order.released || order.done {
            return;
        }
        let untouched = order.next_step == 0 && !order.busy;
        let id = order.order.id.clone();
        match change {
            Change::Due(_, hours) => {
                let due =
                    Timestamp((order.order.due.0 + hours * HOUR).max(order.order.release.0 + HOUR));
                self.orders[o].order.due = due;
                self.emit(EventKind::OrderChanged {
                    order: id,
                    quantity: None,
                    due: Some(due),
                    priority: None,
                });
            }
            Change::Expedite(_) => {
                if order.order.priority == Priority::High {
                    return;
                }
                self.orders[o].order.priority = Priority::High;
                self.emit(EventKind::OrderChanged {
                    order: id,
                    quantity: None,
                    due: None,
                    priority: Some(Priority::High),
                });
            }
            Change::Quantity(_, factor) => {
                if !untouched {
                    return;
                }
                let quantity = (order.order.quantity * factor / 10.0).round().max(1.0) * 10.0;
                self.orders[o].order.quantity = quantity;
                self.orders[o].quantity = quantity;
                self.emit(EventKind::OrderChanged {
                    order: id,
                    quantity: Some(quantity),
                    due: None,
                    priority: None,
                });
            }
            Change::Cancel(_, reason) => {
                if !untouched {
                    return;
                }
                self.orders[o].done = true;
                self.orders[o].deadline = None;
                if let Some(u) = self.orders[o].reserved_unit.take() {
                    self.units[u].reserved_for = None;
                }
                self.emit(EventKind::OrderCancelled {
                    order: id,
                    reason: reason.to_owned(),
                });
            }
        }
    }

    /// Purchased material arrives in lots: an opening lot at the start and then one lot
    /// per material every three days (the day before each window), sized from the order
    /// book's requirements with a 20% margin.
    fn plan_receipts(&mut self) {
        const WINDOW: i64 = 3 * DAY;
        let cat = self.cat;
        let plant = cat.plant();
        let mut demand: BTreeMap<(MaterialId, i64), f64> = BTreeMap::new();
        for o in &plant.orders {
            let b = (o.release.0.max(self.start) - self.start) / WINDOW;
            let routing = cat.routing(&o.routing).expect("validated");
            for s in &routing.steps {
                for u in &s.consumes {
                    if is_purchased(cat, &u.material) {
                        *demand.entry((u.material.clone(), b)).or_insert(0.0) +=
                            u.per_unit * o.quantity;
                    }
                }
            }
        }
        for ((material, b), qty) in demand {
            let t = if b == 0 {
                self.start
            } else {
                self.start + b * WINDOW - 17 * HOUR
            };
            if t > self.end {
                continue;
            }
            self.schedule_receipt(t, &material, qty * 1.2, false);
        }
    }

    fn schedule_receipt(&mut self, t: i64, material: &MaterialId, qty: f64, expedited: bool) {
        let cat = self.cat;
        let counted = cat.material(material).is_some_and(|m| m.uom == "ea");
        let pack = if counted { 100.0 } else { 25.0 };
        let suppliers = match cat.material(material).map(|m| m.kind) {
            Some(MaterialKind::Packaging) => SUPPLIERS[2],
            _ if counted => SUPPLIERS[1],
            _ => SUPPLIERS[0],
        };
        let quantity = (qty / pack).ceil().max(1.0) * pack;
        let h = material
            .as_str()
            .bytes()
            .fold(0usize, |a, b| a.wrapping_mul(31).wrapping_add(b as usize));
        let r = self.receipts.len();
        self.receipts.push(Receipt {
            time: t,
            expedited,
            material: material.clone(),
            quantity,
            supplier: suppliers[h % suppliers.len()].to_owned(),
        });
        self.push(t, Ev::Receipt(r));
    }

    fn push(&mut self, t: i64, ev: Ev) {
        self.seq += 1;
        self.queue.push(Reverse((t, self.seq, ev)));
    }

    fn wake_at(&mut self, t: i64) {
        if self.wakes.insert(t) {
            self.push(t, Ev::Wake);
        }
    }

    fn emit(&mut self, kind: EventKind) {
        let n = self.events.len() + 1;
        self.events.push(Event {
            id: format!("sim-{}-{n:07}", self.seed).into(),
            time: Timestamp(self.now),
            source: Some("sim".into()),
            kind,
        });
    }

    fn next_id(&mut self, counter: &'static str) -> u64 {
        let c = self.counters.entry(counter).or_insert(0);
        *c += 1;
        *c
    }

    /// Runs the simulation to its end.
    pub(crate) fn run(mut self, mut progress: impl FnMut(Progress)) -> SimOutput {
        let total = (self.end - self.start).max(1) as f64;
        let mut next_report = self.start;
        while let Some(&Reverse((t, _, _))) = self.queue.peek() {
            if t > self.end {
                break;
            }
            let Reverse((t, _, ev)) = self.queue.pop().expect("peeked");
            self.now = t;
            self.handle(ev);
            let batch_done = self
                .queue
                .peek()
                .is_none_or(|&Reverse((next, _, _))| next != t);
            if batch_done {
                self.dispatch();
                self.flush_idle();
            }
            if t >= next_report {
                progress(Progress {
                    sim_time: Timestamp(t),
                    fraction: ((t - self.start) as f64 / total).clamp(0.0, 1.0),
                    events: self.events.len() as u64,
                });
                next_report = t - (t - self.start).rem_euclid(HOUR) + HOUR;
            }
        }
        self.now = self.end;
        progress(Progress {
            sim_time: Timestamp(self.end),
            fraction: 1.0,
            events: self.events.len() as u64,
        });
        self.finish()
    }

    fn handle(&mut self, ev: Ev) {
        match ev {
            Ev::Release(o) => self.release(o),
            Ev::Arrival(a) => {
                let order = self.arrivals[a].clone();
                self.arrive(order, 0);
            }
            Ev::Receipt(r) => {
                let receipt = &self.receipts[r];
                let (material, quantity, supplier) = (
                    receipt.material.clone(),
                    receipt.quantity,
                    receipt.supplier.clone(),
                );
                let n = self.next_id("receipt");
                let lot: LotId = format!("PL-{}-{}-{n:04}", date_code(self.now), material).into();
                self.stock
                    .entry(material.clone())
                    .or_default()
                    .push_back(Stock {
                        lot: Some(lot.clone()),
                        serial: None,
                        quantity,
                        factor: 0.0,
                    });
                self.emit(EventKind::MaterialReceived {
                    material,
                    lot,
                    quantity,
                    supplier: Some(supplier),
                });
            }
            Ev::BlackoutStart(u, b) => {
                let reason = self.units[u].blackouts[b].2.clone();
                self.units[u].in_blackout = true;
                if !self.units[u].broken {
                    self.set_state(u, EquipmentState::Down, Some(reason));
                }
            }
            Ev::BlackoutEnd(u, _) => {
                let now = self.now;
                let still = self.units[u]
                    .blackouts
                    .iter()
                    .any(|&(s, e, _)| s <= now && now < e);
                self.units[u].in_blackout = still;
                if !still && !self.units[u].broken {
                    self.resume(u, "planned maintenance done");
                }
            }
            Ev::Repaired(u) => {
                self.units[u].broken = false;
                if !self.units[u].in_blackout {
                    self.resume(u, "repaired");
                }
            }
            Ev::SegmentEnd(u, token) => self.segment_end(u, token),
            Ev::Wake => {
                self.wakes.remove(&self.now);
                for u in 0..self.units.len() {
                    if self.units[u].job.is_some() {
                        self.advance(u);
                    }
                }
            }
            Ev::Ship(o) => self.ship(o),
            Ev::Change(c) => self.change(c),
        }
    }

    /// An order that was not in the book: release it, expedite its purchased inputs and
    /// plan replenishment batches or assemblies for the produced inputs it would run short of.
    fn arrive(&mut self, order: ProductionOrder, depth: u32) {
        let o = self.add_order(order);
        self.release(o);
        let cat = self.cat;
        let routing = &cat.plant().routings[self.orders[o].routing];
        let qty = self.orders[o].order.quantity;
        for s in &routing.steps {
            for u in &s.consumes {
                if is_purchased(cat, &u.material) {
                    // Expedited from a distributor rather than on the supplier's lead time.
                    self.schedule_receipt(
                        self.now + 12 * HOUR,
                        &u.material,
                        u.per_unit * qty * 1.1,
                        true,
                    );
                } else if depth < 4 {
                    self.replenish(&u.material, depth + 1);
                }
            }
        }
    }

    /// Stock plus what open orders will still make, minus what open orders will still
    /// consume.
    fn projected_balance(&self, m: &MaterialId) -> f64 {
        let plant = self.cat.plant();
        let mut balance = self.available(m);
        for o in &self.orders {
            if o.done {
                continue;
            }
            let routing = &plant.routings[o.routing];
            if &routing.product == m {
                balance += o.quantity * routing.expected_yield;
            }
            for (k, step) in routing.steps.iter().enumerate() {
                let k = k as u32;
                if k < o.next_step || (k == o.next_step && o.busy) {
                    continue;
                }
                for u in &step.consumes {
                    if &u.material == m {
                        balance -= u.per_unit * o.quantity;
                    }
                }
            }
        }
        balance
    }

    /// Make-to-stock orders (an MRP run for one material) until its projected balance is
    /// no longer negative.
    fn replenish(&mut self, m: &MaterialId, depth: u32) {
        let plant = self.cat.plant();
        let Some(routing) = plant.routings.iter().find(|r| &r.product == m) else {
            return;
        };
        let mut balance = self.projected_balance(m);
        while balance < -1e-6 {
            let quantity = match routing.batch_size {
                Some(batch) => batch,
                None => {
                    let typical = plant
                        .orders
                        .iter()
                        .filter(|o| o.routing == routing.id)
                        .map(|o| o.quantity)
                        .fold(0.0, f64::max);
                    ((-balance / routing.expected_yield).max(typical) / 10.0).ceil() * 10.0
                }
            };
            let n = self.next_id("mrp");
            let order = ProductionOrder {
                id: format!("MRP-{}-{n:03}", self.seed).into(),
                product: m.clone(),
                routing: routing.id.clone(),
                quantity,
                release: Timestamp(self.now),
                due: Timestamp(self.now + 36 * HOUR),
                priority: Priority::High,
                customer: None,
            };
            self.replenished.push(order.id.clone());
            self.arrive(order, depth);
            balance += quantity * routing.expected_yield;
        }
    }

    fn release(&mut self, o: usize) {
        if self.orders[o].released {
            return;
        }
        self.orders[o].released = true;
        let order = self.orders[o].order.clone();
        self.emit(EventKind::OrderReleased { order });
    }

    fn set_state(&mut self, u: usize, state: EquipmentState, reason: Option<String>) {
        let now = self.now;
        let unit = &mut self.units[u];
        if unit.emitted == state {
            return;
        }
        unit.state_ms[state_index(unit.emitted)] += now - unit.since;
        unit.since = now;
        unit.emitted = state;
        let id = unit.id.clone();
        self.emit(EventKind::EquipmentStateChanged {
            unit: id,
            state,
            reason,
        });
    }

    /// A unit back from a repair or maintenance: its paused job continues, or it becomes
    /// idle unless the dispatcher gives it work at this same instant.
    fn resume(&mut self, u: usize, reason: &str) {
        if self.units[u].job.is_some() {
            self.advance(u);
        } else {
            self.units[u].idle_pending = Some(Some(reason.to_owned()));
        }
    }

    /// Reports `idle` for units that finished or came back at this instant and got no new
    /// work, so a unit that goes straight on to its next operation shows no idle blip.
    fn flush_idle(&mut self) {
        for u in 0..self.units.len() {
            let Some(reason) = self.units[u].idle_pending.take() else {
                continue;
            };
            let unit = &self.units[u];
            if unit.job.is_none() && !unit.broken && !unit.in_blackout {
                self.set_state(u, EquipmentState::Idle, reason);
            }
        }
    }

    /// Starts the next segment of the unit's job if it can progress now.
    fn advance(&mut self, u: usize) {
        let now = self.now;
        {
            let unit = &self.units[u];
            if unit.broken || unit.in_blackout || unit.segment.is_some() || unit.job.is_none() {
                return;
            }
        }
        let Some(window_end) = self.units[u].windows.end_of_window_at(now) else {
            self.set_state(u, EquipmentState::Idle, Some("off shift".into()));
            return;
        };
        let (phase, remaining, reason) = {
            let job = self.units[u].job.as_ref().expect("checked");
            let (p, r, reason) = job.phases.front().expect("a job has a phase");
            (*p, *r, reason.clone())
        };
        if phase == Phase::Run && !self.units[u].job.as_ref().expect("checked").op.started {
            self.start_run(u);
        }
        let state = match phase {
            Phase::Cleaning => EquipmentState::Cleaning,
            Phase::Setup => EquipmentState::Setup,
            Phase::Run => EquipmentState::Running,
        };
        self.set_state(u, state, reason);
        let unit = &mut self.units[u];
        let mut seg = remaining.min(window_end - now);
        if let Some(ttf) = unit.ttf_ms {
            seg = seg.min(ttf.max(0));
        }
        unit.segment = Some(now);
        unit.token += 1;
        let token = unit.token;
        self.push(now + seg, Ev::SegmentEnd(u, token));
    }

    fn start_run(&mut self, u: usize) {
        let job = self.units[u].job.as_mut().expect("running a job");
        job.op.started = true;
        let op = job.op.clone();
        let order = self.orders[op.order].order.id.clone();
        for t in &op.takes {
            self.emit(EventKind::MaterialConsumed {
                order: order.clone(),
                step: op.step,
                material: t.material.clone(),
                lot: t.lot.clone(),
                serial: t.serial.clone(),
                quantity: t.quantity,
            });
        }
        let members = op
            .members
            .iter()
            .map(|&(p, m)| self.cat.plant().pools[p].members[m].id.clone())
            .collect();
        let unit = self.units[u].id.clone();
        self.emit(EventKind::OperationStarted {
            order,
            step: op.step,
            unit,
            members,
        });
    }

    fn segment_end(&mut self, u: usize, token: u64) {
        let now = self.now;
        let unit = &mut self.units[u];
        if unit.token != token {
            return;
        }
        let Some(seg_start) = unit.segment.take() else {
            return;
        };
        let elapsed = now - seg_start;
        if let Some(ttf) = unit.ttf_ms.as_mut() {
            *ttf -= elapsed;
        }
        let mut completed_run = false;
        if let Some(job) = unit.job.as_ref() {
            // Pool members count as busy while the unit works, not while it is paused.
            for &(p, _) in &job.op.members {
                self.pools[p].busy_ms += elapsed;
            }
        }
        if let Some(job) = unit.job.as_mut() {
            let front = job.phases.front_mut().expect("a job has a phase");
            front.1 -= elapsed;
            if front.0 == Phase::Run {
                unit.run_ms_since_cip += elapsed;
            }
            if front.1 <= 0 {
                let (phase, _, _) = job.phases.pop_front().expect("front exists");
                match phase {
                    Phase::Cleaning => {
                        unit.batches_since_cip = 0;
                        unit.run_ms_since_cip = 0;
                        self.cip_cycles += 1;
                    }
                    Phase::Setup => self.changeovers += 1,
                    Phase::Run => completed_run = true,
                }
            }
        }
        if completed_run {
            self.complete_op(u);
        }
        if self.units[u].ttf_ms.is_some_and(|t| t <= 0) {
            self.breakdown(u);
        } else {
            self.advance(u);
        }
    }

    fn breakdown(&mut self, u: usize) {
        let cat = self.cat;
        let unit_def = cat.unit(&self.units[u].id).expect("known unit");
        let (mtbf, mttr) = (
            unit_def.mtbf_hours.unwrap_or(1e9),
            unit_def.mttr_hours.unwrap_or(1.0),
        );
        let mode_index = match self.units[u].mode {
            Mode::Discrete => 0,
            Mode::Process if unit_def.max_batch_size.is_some() => 1,
            Mode::Process => 2,
            Mode::Repetitive => 3,
        };
        let unit = &mut self.units[u];
        let repair_minutes = round((mttr * 60.0 * unit.rng.lognormal_factor(0.5)).max(5.0), 1);
        let failure_mode = (*unit.rng.pick(FAILURES[mode_index])).to_owned();
        unit.ttf_ms = Some(ms(unit.rng.exponential(mtbf) * 60.0).max(MS_PER_MINUTE));
        unit.broken = true;
        let order = unit
            .job
            .as_ref()
            .map(|j| self.orders[j.op.order].order.id.clone());
        let end = self.now + ms(repair_minutes);
        self.truth_breakdowns.push(BreakdownTruth {
            unit: self.units[u].id.clone(),
            start: Timestamp(self.now),
            end: Timestamp(end),
            repair_minutes,
            failure_mode: failure_mode.clone(),
            order,
        });
        self.set_state(
            u,
            EquipmentState::Down,
            Some(format!("breakdown: {failure_mode}")),
        );
        self.push(end, Ev::Repaired(u));
    }

    // ----- dispatching -------------------------------------------------------------------

    fn dispatch(&mut self) {
        loop {
            let mut candidates = Vec::new();
            for (o, order) in self.orders.iter().enumerate() {
                if !order.released || order.done || order.busy {
                    continue;
                }
                let Some((_, overhead)) = self.best_unit(o) else {
                    continue;
                };
                let key = match order.deadline {
                    Some((deadline, _, _)) => (0, deadline),
                    None => {
                        let bonus = match order.order.priority {
                            Priority::High => -12 * HOUR,
                            Priority::Medium => 0,
                            Priority::Low => 12 * HOUR,
                        };
                        (1, order.order.due.0 + bonus + overhead * 20)
                    }
                };
                candidates.push((key, o));
            }
            if candidates.is_empty() {
                return;
            }
            candidates.sort_unstable();
            let mut started = false;
            for (_, o) in candidates {
                started |= self.try_start(o);
            }
            if !started {
                return;
            }
        }
    }

    fn step_def(&self, o: usize) -> &'a Step {
        let routing = &self.cat.plant().routings[self.orders[o].routing];
        &routing.steps[self.orders[o].next_step as usize]
    }

    fn product(&self, o: usize) -> &'a MaterialId {
        &self.cat.plant().routings[self.orders[o].routing].product
    }

    /// The changeover key of a product on a unit with a matrix.
    fn setup_key(&self, matrix: &ChangeoverMatrix, product: &MaterialId) -> String {
        let cat = self.cat;
        let family = cat.material(product).and_then(|m| m.family.clone());
        match &matrix.keyed_by {
            ChangeoverKey::Family => family.map_or_else(|| product.to_string(), |f| f.0),
            ChangeoverKey::Attribute { name } => family
                .and_then(|f| {
                    cat.plant()
                        .families
                        .iter()
                        .find(|x| x.id == f)
                        .map(|x| x.attributes.get(name).cloned().unwrap_or(f.0.clone()))
                })
                .unwrap_or_else(|| product.to_string()),
        }
    }

    /// CIP and changeover the unit needs before running `o`'s next step, with reasons.
    fn overheads(&self, u: usize, o: usize) -> (Option<CipNeed>, Option<SetupNeed>) {
        let unit = &self.units[u];
        if unit.reserved_for == Some(o) {
            return (None, None);
        }
        let def = self.cat.unit(&unit.id).expect("known unit");
        let product = self.product(o);
        let mut cip = None;
        if let Some(rule) = &def.cip {
            let reason = if rule.on_product_change
                && unit.last_product.as_ref().is_some_and(|p| p != product)
            {
                Some("CIP: product change".to_owned())
            } else if rule
                .after_batches
                .is_some_and(|n| unit.batches_since_cip >= n)
            {
                Some(format!(
                    "CIP: after {} batches",
                    rule.after_batches.unwrap_or(0)
                ))
            } else if rule
                .max_run_minutes
                .is_some_and(|m| unit.run_ms_since_cip >= ms(m))
            {
                Some("CIP: maximum run length".to_owned())
            } else {
                None
            };
            cip = reason.map(|r| (rule.duration_minutes, r));
        }
        let mut setup = None;
        if let Some(matrix) = def
            .changeover_matrix
            .as_ref()
            .and_then(|m| self.cat.changeover_matrix(m))
        {
            let key = self.setup_key(matrix, product);
            if let Some(last) = &unit.last_key {
                let (minutes, _) = matrix.lookup(last, &key);
                if minutes > 0.0 {
                    setup = Some((minutes, format!("changeover {last} -> {key}"), key));
                }
            }
        }
        (cip, setup)
    }

    /// The alternative unit that can take `o`'s next step now and finishes it first, with
    /// the changeover and CIP overhead it needs (ms).
    fn best_unit(&self, o: usize) -> Option<(usize, i64)> {
        let order = &self.orders[o];
        let step = self.step_def(o);
        let now = self.now;
        let planned = self.planned.contains(&(o, order.next_step));
        let mut best: Option<(i64, usize, i64)> = None;
        for alt in &step.alternatives {
            let u = self.unit_index[&alt.unit];
            let unit = &self.units[u];
            if unit.job.is_some() || unit.broken || unit.in_blackout {
                continue;
            }
            if let Some(r) = unit.reserved_for
                && r != o
            {
                continue;
            }
            if let Some(r) = order.reserved_unit
                && r != u
                && step
                    .alternatives
                    .iter()
                    .any(|a| self.unit_index[&a.unit] == r)
            {
                continue;
            }
            if self.plan_mode {
                if planned {
                    match unit.plan.front() {
                        Some(&(po, ps, t)) if po == o && ps == order.next_step && t <= now => {}
                        _ => continue,
                    }
                } else if !unit.plan.is_empty() {
                    continue;
                }
            }
            if order.mode == Mode::Process {
                let def = self.cat.unit(&unit.id).expect("known unit");
                if def
                    .max_batch_size
                    .is_some_and(|m| m + 1e-9 < order.quantity)
                {
                    continue;
                }
            }
            let Some(window_end) = unit.windows.end_of_window_at(now) else {
                continue;
            };
            let (cip, setup) = self.overheads(u, o);
            let overhead = ms(cip.map_or(0.0, |c| c.0) + setup.map_or(0.0, |s| s.0));
            let mut work = ms(alt.duration.minutes_for(order.quantity));
            if order.mode == Mode::Process {
                // The batch stays in the vessel for the following steps this unit can run.
                let routing = &self.cat.plant().routings[order.routing];
                for next in routing.steps.iter().skip(order.next_step as usize + 1) {
                    match next.alternatives.iter().find(|a| a.unit == alt.unit) {
                        Some(a) => work += ms(a.duration.minutes_for(order.quantity)),
                        None => break,
                    }
                }
                if now + overhead + work > window_end {
                    continue;
                }
            }
            let finish = now + overhead + work;
            if best.is_none_or(|(f, _, _)| finish < f) {
                best = Some((finish, u, overhead));
            }
        }
        best.map(|(_, u, overhead)| (u, overhead))
    }

    /// Free members of each required pool, least-qualified first, whose certification is
    /// still valid at `valid_until`; none if any pool lacks them.
    fn pick_members(&self, step: &Step, valid_until: i64) -> Option<Vec<(usize, usize)>> {
        let now = self.now;
        let mut chosen: Vec<(usize, usize)> = Vec::new();
        for req in &step.pools {
            let p = self.pool_index[&req.pool];
            let pool = &self.pools[p];
            pool.windows.end_of_window_at(now)?;
            let min_level = req.min_level.unwrap_or(1);
            let mut fits: Vec<(u8, usize)> = pool
                .members
                .iter()
                .enumerate()
                .filter(|&(m, member)| !member.busy && !chosen.contains(&(p, m)))
                .filter_map(|(m, member)| match &req.certification {
                    None => Some((0, m)),
                    Some(cert) => member
                        .certs
                        .iter()
                        .find(|(c, level, expires)| {
                            c == cert
                                && *level >= min_level
                                && expires.is_none_or(|e| e > valid_until)
                        })
                        .map(|&(_, level, _)| (level, m)),
                })
                .collect();
            if fits.len() < req.quantity as usize {
                return None;
            }
            fits.sort_unstable();
            chosen.extend(
                fits.iter()
                    .take(req.quantity as usize)
                    .map(|&(_, m)| (p, m)),
            );
        }
        Some(chosen)
    }

    /// Trainees (level 1) scrap more and work slower, experts (level 3) less: the mean over
    /// the certified people assigned of 1.6, 1.0 or 0.7; 1 when no certification applies.
    fn skill_factor(&self, members: &[(usize, usize)], step: &Step) -> f64 {
        let mut factors = Vec::new();
        for req in &step.pools {
            let Some(cert) = &req.certification else {
                continue;
            };
            let p = self.pool_index[&req.pool];
            for &(pool, m) in members {
                if pool != p {
                    continue;
                }
                if let Some(&(_, level, _)) = self.pools[p].members[m]
                    .certs
                    .iter()
                    .find(|(c, ..)| c == cert)
                {
                    factors.push(SKILL_FACTORS[usize::from(level.clamp(1, 3)) - 1]);
                }
            }
        }
        if factors.is_empty() {
            1.0
        } else {
            factors.iter().sum::<f64>() / factors.len() as f64
        }
    }

    fn needed(&self, use_: &MaterialUse, input: f64) -> f64 {
        let q = use_.per_unit * input;
        if self.is_serial(&use_.material) {
            (q - 1e-9).ceil()
        } else {
            round(q, 3)
        }
    }

    fn is_serial(&self, m: &MaterialId) -> bool {
        self.cat
            .material(m)
            .is_some_and(|x| x.tracking == Tracking::Serial)
    }

    fn available(&self, m: &MaterialId) -> f64 {
        self.stock
            .get(m)
            .map_or(0.0, |s| s.iter().map(|x| x.quantity).sum())
    }

    /// Would starting `o`'s next step on `u` now make its successor wait longer than the
    /// step's `max_wait_minutes`, given the work already queued for the successor's units
    /// and equipment pools? Holding the predecessor back is how the dispatcher respects
    /// max-wait. For a process batch the chain of steps it runs in the same vessel counts.
    fn would_overrun_wait(&self, o: usize, u: usize) -> bool {
        let order = &self.orders[o];
        let routing = &self.cat.plant().routings[order.routing];
        let unit_id = &self.units[u].id;
        let mut lead = 0i64;
        let mut k = order.next_step as usize;
        loop {
            let step = &routing.steps[k];
            let Some(alt) = step.alternatives.iter().find(|a| &a.unit == unit_id) else {
                return false;
            };
            lead += ms(alt.duration.minutes_for(order.quantity));
            if let Some(w) = step.max_wait_minutes {
                let Some(next) = routing.steps.get(k + 1) else {
                    return false;
                };
                return self.successor_backlog(next, o) - lead > ms(w);
            }
            if order.mode != Mode::Process || k + 1 >= routing.steps.len() {
                return false;
            }
            k += 1;
        }
    }

    /// Expected ms until a newly arriving job could start `next`: the work in progress and
    /// queued for its units and equipment pools, divided by how many can run at once.
    fn successor_backlog(&self, next: &Step, exclude: usize) -> i64 {
        let units: BTreeSet<usize> = next
            .alternatives
            .iter()
            .map(|a| self.unit_index[&a.unit])
            .collect();
        let pools: BTreeSet<usize> = next
            .pools
            .iter()
            .filter(|r| r.certification.is_none())
            .map(|r| self.pool_index[&r.pool])
            .collect();
        let capacity = pools
            .iter()
            .map(|&p| self.pools[p].members.len())
            .fold(units.len(), usize::min)
            .max(1) as i64;
        let mut load = 0i64;
        for (x, unit) in self.units.iter().enumerate() {
            if let Some(job) = &unit.job
                && (units.contains(&x) || job.op.members.iter().any(|(p, _)| pools.contains(p)))
            {
                load += job.phases.iter().map(|p| p.1).sum::<i64>();
            }
        }
        let plant = self.cat.plant();
        for (y, other) in self.orders.iter().enumerate() {
            if y == exclude || other.done {
                continue;
            }
            let routing = &plant.routings[other.routing];
            let upcoming = if other.busy {
                let current = &routing.steps[other.next_step as usize];
                if current.max_wait_minutes.is_none() {
                    continue;
                }
                other.next_step as usize + 1
            } else if other.deadline.is_some() {
                other.next_step as usize
            } else {
                continue;
            };
            let Some(step) = routing.steps.get(upcoming) else {
                continue;
            };
            let shares = step
                .alternatives
                .iter()
                .any(|a| units.contains(&self.unit_index[&a.unit]))
                || step
                    .pools
                    .iter()
                    .any(|r| pools.contains(&self.pool_index[&r.pool]));
            if shares {
                load += step
                    .alternatives
                    .iter()
                    .map(|a| ms(a.duration.minutes_for(other.quantity)))
                    .min()
                    .unwrap_or(0);
            }
        }
        load / capacity
    }

    fn try_start(&mut self, o: usize) -> bool {
        if self.orders[o].busy || self.orders[o].done {
            return false;
        }
        let Some((u, overhead)) = self.best_unit(o) else {
            return false;
        };
        // An order already inside a max-wait window is never held back.
        if !self.plan_mode
            && self.units[u].reserved_for != Some(o)
            && self.orders[o].deadline.is_none()
            && self.would_overrun_wait(o, u)
        {
            return false;
        }
        let step = self.step_def(o);
        let planned_run = step
            .alternatives
            .iter()
            .find(|a| a.unit == self.units[u].id)
            .map_or(0, |a| ms(a.duration.minutes_for(self.orders[o].quantity)));
        let Some(members) = self.pick_members(step, self.now + overhead + planned_run) else {
            return false;
        };
        let input = self.orders[o].quantity;
        for use_ in &step.consumes {
            if self.available(&use_.material) + 1e-9 < self.needed(use_, input) {
                return false;
            }
        }
        // Commit: overheads, members, materials, parameters, the job.
        let now = self.now;
        let (cip, setup) = self.overheads(u, o);
        let spread = self.opts.duration_spread;
        let sigma = match self.orders[o].mode {
            Mode::Process => 0.06,
            Mode::Discrete => 0.12,
            Mode::Repetitive => 0.08,
        } * spread;
        let mut phases = VecDeque::new();
        if let Some((minutes, reason)) = cip {
            let f = self.rng_duration.lognormal_factor(0.1 * spread);
            phases.push_back((Phase::Cleaning, ms(minutes * f).max(1000), Some(reason)));
        }
        if let Some((minutes, reason, _)) = &setup {
            let f = self.rng_duration.lognormal_factor(0.15 * spread);
            phases.push_back((
                Phase::Setup,
                ms(minutes * f).max(1000),
                Some(reason.clone()),
            ));
        }
        let alt = step
            .alternatives
            .iter()
            .find(|a| a.unit == self.units[u].id)
            .expect("best unit is an alternative");
        let f = self.rng_duration.lognormal_factor(sigma);
        let order_id = self.orders[o].order.id.clone();
        let skill = self.skill_factor(&members, step);
        let run_ms = ms(alt.duration.minutes_for(input) * f * (0.92 + 0.08 * skill)).max(1000);
        phases.push_back((
            Phase::Run,
            run_ms,
            Some(format!(
                "order {order_id} step {}",
                self.orders[o].next_step
            )),
        ));
        for &(p, m) in &members {
            self.pools[p].members[m].busy = true;
        }
        let mut takes = Vec::new();
        let mut factor_sum = 0.0;
        let mut factor_weight = 0.0;
        for use_ in &step.consumes {
            let mut left = self.needed(use_, input);
            let serial = self.is_serial(&use_.material);
            let produced = !is_purchased(self.cat, &use_.material);
            let queue = self.stock.entry(use_.material.clone()).or_default();
            while left > 1e-9 {
                let Some(front) = queue.front_mut() else {
                    break;
                };
                let take = if serial {
                    1.0
                } else {
                    round(left.min(front.quantity), 3)
                };
                front.quantity = round(front.quantity - take, 3);
                left = round(left - take, 3);
                if produced {
                    factor_sum += front.factor * take;
                    factor_weight += take;
                }
                takes.push(Take {
                    material: use_.material.clone(),
                    lot: front.lot.clone(),
                    serial: front.serial.clone(),
                    quantity: take,
                });
                if front.quantity <= 1e-9 {
                    queue.pop_front();
                }
            }
        }
        let next_step = self.orders[o].next_step;
        let routing_id = &self.cat.plant().routings[self.orders[o].routing].id;
        let unit_id = self.units[u].id.clone();
        let mut parameters = BTreeMap::new();
        let days = (now - self.start) as f64 / DAY as f64;
        for p in &step.parameters {
            let mut offset = 0.0;
            for (d, drift) in self.opts.drifts.iter().enumerate() {
                if let DriftTarget::Parameter {
                    routing,
                    step: s,
                    name,
                } = &drift.target
                    && routing.as_ref().is_none_or(|r| r == routing_id)
                    && *s == next_step
                    && name == &p.name
                    && drift.unit.as_ref().is_none_or(|x| x == &unit_id)
                {
                    let off = drift.offset_at(days);
                    if off != 0.0 {
                        offset += off;
                        self.drift_orders[d].insert(order_id.clone());
                    }
                }
            }
            let value = measure::parameter_value(&mut self.rng_params, p, offset);
            let order = &mut self.orders[o];
            order.own_factor += measure::parameter_factor(p, value);
            order.temperature += measure::temperature_index(p, value);
            parameters.insert(p.name.clone(), value);
        }
        let order = &mut self.orders[o];
        if factor_weight > 0.0 {
            order.input_factor = order.input_factor.max(factor_sum / factor_weight);
        }
        if let Some((deadline, allowed, prev_end)) = order.deadline.take()
            && now > deadline
        {
            self.wait_violations.push(MaxWaitViolation {
                order: order_id.clone(),
                step: next_step,
                allowed_minutes: allowed,
                waited_minutes: round((now - prev_end) as f64 / MS_PER_MINUTE as f64, 1),
            });
        }
        order.busy = true;
        order.reserved_unit = None;
        order.first_unit.get_or_insert(u);
        let product = self.product(o).clone();
        let setup_key = setup.map(|s| s.2).or_else(|| {
            self.cat
                .unit(&unit_id)
                .and_then(|d| d.changeover_matrix.as_ref())
                .and_then(|m| self.cat.changeover_matrix(m))
                .map(|m| self.setup_key(m, &product))
        });
        let unit = &mut self.units[u];
        unit.reserved_for = None;
        unit.last_product = Some(product);
        if setup_key.is_some() {
            unit.last_key = setup_key;
        }
        if self.plan_mode
            && unit
                .plan
                .front()
                .is_some_and(|&(po, ps, _)| po == o && ps == next_step)
        {
            unit.plan.pop_front();
        }
        unit.job = Some(Job {
            phases,
            op: Op {
                order: o,
                step: next_step,
                input,
                members,
                takes,
                parameters,
                started: false,
                skill,
            },
        });
        self.advance(u);
        true
    }

    // ----- completion ------------------------------------------------------------------

    fn complete_op(&mut self, u: usize) {
        let now = self.now;
        let job = self.units[u].job.take().expect("completing a job");
        let op = job.op;
        for &(p, m) in &op.members {
            self.pools[p].members[m].busy = false;
        }
        let cat = self.cat;
        let o = op.order;
        let routing = &cat.plant().routings[self.orders[o].routing];
        let step = &routing.steps[op.step as usize];
        let last = op.step as usize + 1 == routing.steps.len();
        let mode = self.orders[o].mode;
        let factor = self.orders[o].input_factor + self.orders[o].own_factor;
        let order_id = self.orders[o].order.id.clone();
        let unit_id = self.units[u].id.clone();

        // Good and scrap quantities, and the measurements of an inspection step.
        let mut results: Vec<EventKind> = Vec::new();
        let good = match mode {
            Mode::Process => {
                // Most of a batch's loss is taken where it is filtered and inspected; the
                // other steps lose only hold-up.
                let loss = 1.0 - routing.expected_yield;
                let share = match (step.inspection.is_some(), routing.steps.len()) {
                    (_, 1) => 1.0,
                    (true, _) => 0.7,
                    (false, n) => 0.3 / (n - 1) as f64,
                };
                let y = 1.0 - loss * share * self.rng_yield.lognormal_factor(0.3);
                round(op.input * y.clamp(0.5, 1.0), 1)
            }
            Mode::Discrete => {
                let n = op.input.round() as u64;
                let failures = if let Some(plan) = &step.inspection {
                    self.inspect_items(o, u, plan, n, factor, &mut results)
                } else {
                    let p = (0.002 + 0.004 * self.orders[o].own_factor) * op.skill;
                    measure::binomial(&mut self.rng_yield, n, p)
                };
                n.saturating_sub(failures) as f64
            }
            Mode::Repetitive => {
                let s = (1.0 - routing.expected_yield)
                    * op.skill
                    * self.rng_yield.lognormal_factor(0.3);
                (op.input * (1.0 - s.min(0.5))).floor()
            }
        };
        if mode != Mode::Discrete
            && let Some(plan) = &step.inspection
        {
            self.inspect_lot(o, u, plan, op.input, factor, &mut results);
        }
        let scrap = round((op.input - good).max(0.0), 3);
        self.emit(EventKind::OperationCompleted {
            order: order_id.clone(),
            step: op.step,
            unit: unit_id,
            good_quantity: good,
            scrap_quantity: scrap,
            parameters: op.parameters,
        });
        let order = &mut self.orders[o];
        order.busy = false;
        order.next_step += 1;
        order.quantity = good;
        order.deadline = step.max_wait_minutes.map(|w| (now + ms(w), w, now));
        if last || good <= 0.0 {
            order.done = true;
            order.deadline = None;
        }
        if last && good > 0.0 {
            self.produce(o, good);
        }
        let continues_here = !last
            && good > 0.0
            && !self.plan_mode
            && mode == Mode::Process
            && routing.steps[op.step as usize + 1]
                .alternatives
                .iter()
                .any(|a| a.unit == self.units[u].id);
        if continues_here {
            self.units[u].reserved_for = Some(o);
            self.orders[o].reserved_unit = Some(u);
        } else if cat.unit(&self.units[u].id).is_some_and(|d| d.cip.is_some()) {
            self.units[u].batches_since_cip += 1;
        }
        for kind in results {
            self.emit(kind);
        }
        self.units[u].idle_pending = Some(None);
    }

    fn lot_of(&mut self, o: usize) -> LotId {
        if let Some(lot) = &self.orders[o].lot {
            return lot.clone();
        }
        let mode = self.orders[o].mode;
        let unit = self.orders[o].first_unit.map_or_else(
            || "X".to_owned(),
            |u| self.units[u].id.as_str().replace('-', ""),
        );
        let date = date_code(self.now);
        let lot: LotId = match mode {
            Mode::Process => {
                let n = self.next_id("batch");
                format!("B{date}-{unit}-{n:04}").into()
            }
            _ => {
                let n = self.next_id("lotcode");
                format!("LC-{unit}-{date}-{n:04}").into()
            }
        };
        self.orders[o].lot = Some(lot.clone());
        lot
    }

    fn new_serial(&mut self, o: usize) -> SerialId {
        let n = self.next_id("serial");
        let product = self
            .product(o)
            .as_str()
            .trim_start_matches("DSP-")
            .to_owned();
        format!("SN-{product}-{}-{n:06}", date_code(self.now)).into()
    }

    fn produce(&mut self, o: usize, good: f64) {
        let product = self.product(o).clone();
        let order_id = self.orders[o].order.id.clone();
        let factor = self.orders[o].input_factor + self.orders[o].own_factor;
        if self.is_serial(&product) {
            let n = good.round() as usize;
            let mut serials: Vec<SerialId> =
                self.orders[o].serials.iter().take(n).cloned().collect();
            while serials.len() < n {
                let s = self.new_serial(o);
                serials.push(s);
            }
            let queue = self.stock.entry(product.clone()).or_default();
            for s in &serials {
                queue.push_back(Stock {
                    lot: None,
                    serial: Some(s.clone()),
                    quantity: 1.0,
                    factor,
                });
            }
            self.orders[o].serials = serials.clone();
            self.emit(EventKind::MaterialProduced {
                order: order_id,
                material: product.clone(),
                lot: None,
                serials,
                quantity: n as f64,
            });
        } else {
            let lot = self.lot_of(o);
            for (d, orders) in self.drift_orders.iter().enumerate() {
                if orders.contains(&order_id) {
                    self.drift_lots[d].insert(lot.clone());
                }
            }
            self.stock
                .entry(product.clone())
                .or_default()
                .push_back(Stock {
                    lot: Some(lot.clone()),
                    serial: None,
                    quantity: good,
                    factor,
                });
            self.emit(EventKind::MaterialProduced {
                order: order_id,
                material: product.clone(),
                lot: Some(lot),
                serials: Vec::new(),
                quantity: good,
            });
        }
        let finished = self
            .cat
            .material(&product)
            .is_some_and(|m| m.kind == MaterialKind::Finished);
        if finished && self.orders[o].order.customer.is_some() {
            self.push(self.now + 2 * HOUR, Ev::Ship(o));
        }
    }

    fn ship(&mut self, o: usize) {
        let product = self.product(o).clone();
        let Some(customer) = self.orders[o].order.customer.clone() else {
            return;
        };
        let queue = self.stock.entry(product.clone()).or_default();
        if self
            .cat
            .material(&product)
            .is_some_and(|m| m.tracking == Tracking::Serial)
        {
            let wanted: BTreeSet<SerialId> = self.orders[o].serials.iter().cloned().collect();
            let before = queue.len();
            let mut shipped = Vec::new();
            queue.retain(|s| match &s.serial {
                Some(x) if wanted.contains(x) => {
                    shipped.push(x.clone());
                    false
                }
                _ => true,
            });
            debug_assert_eq!(before - queue.len(), shipped.len());
            if shipped.is_empty() {
                return;
            }
            let quantity = shipped.len() as f64;
            self.emit(EventKind::MaterialShipped {
                material: product,
                lot: None,
                serials: shipped,
                quantity,
                customer,
            });
        } else {
            let Some(lot) = self.orders[o].lot.clone() else {
                return;
            };
            let mut quantity = 0.0;
            for s in queue.iter_mut() {
                if s.lot.as_ref() == Some(&lot) {
                    quantity += s.quantity;
                    s.quantity = 0.0;
                }
            }
            queue.retain(|s| s.quantity > 1e-9);
            if quantity <= 0.0 {
                return;
            }
            self.emit(EventKind::MaterialShipped {
                material: product,
                lot: Some(lot),
                serials: Vec::new(),
                quantity: round(quantity, 3),
                customer,
            });
        }
    }

    // ----- quality -----------------------------------------------------------------------

    fn characteristic_offset(&mut self, o: usize, u: usize, c: &CharacteristicId) -> f64 {
        let days = (self.now - self.start) as f64 / DAY as f64;
        let mut offset = 0.0;
        for (d, drift) in self.opts.drifts.iter().enumerate() {
            if let DriftTarget::Characteristic { characteristic } = &drift.target
                && characteristic == c
                && drift.unit.as_ref().is_none_or(|x| x == &self.units[u].id)
            {
                let off = drift.offset_at(days);
                if off != 0.0 {
                    offset += off;
                    self.drift_orders[d].insert(self.orders[o].order.id.clone());
                }
            }
        }
        offset
    }

    fn next_sample(&mut self, c: &CharacteristicId) -> u64 {
        let n = self.samples.entry(c.clone()).or_insert(0);
        *n += 1;
        *n
    }

    /// Measures every item of a discrete inspection step; returns the number that failed.
    fn inspect_items(
        &mut self,
        o: usize,
        u: usize,
        plan: &InspectionPlanId,
        n: u64,
        factor: f64,
        out: &mut Vec<EventKind>,
    ) -> u64 {
        let cat = self.cat;
        let Some(plan) = cat.plant().inspection_plans.iter().find(|p| &p.id == plan) else {
            return 0;
        };
        let order = Some(self.orders[o].order.id.clone());
        let unit = Some(self.units[u].id.clone());
        let temperature = self.orders[o].temperature;
        let mut serials = Vec::with_capacity(n as usize);
        for _ in 0..n {
            let s = self.new_serial(o);
            serials.push(s);
        }
        let mut failed = vec![false; n as usize];
        for c in &plan.characteristics {
            let offset = self.characteristic_offset(o, u, &c.id);
            use model::ChartKind::*;
            match c.chart {
                Imr | Ewma | Cusum => {
                    for (i, serial) in serials.iter().enumerate() {
                        let v = measure::variable_value(
                            &mut self.rng_quality,
                            c,
                            factor,
                            temperature,
                            offset,
                        );
                        if measure::out_of_spec(c, v) {
                            failed[i] = true;
                        }
                        let sample = Some(self.next_sample(&c.id));
                        out.push(EventKind::QualityResultRecorded {
                            characteristic: c.id.clone(),
                            value: v,
                            sample,
                            sample_size: None,
                            order: order.clone(),
                            lot: None,
                            serial: Some(serial.clone()),
                            unit: unit.clone(),
                        });
                    }
                }
                XbarR | XbarS => {
                    let size = c.subgroup_size.max(1) as usize;
                    let groups = ((n as usize) / 25).max(1);
                    for g in 0..groups {
                        let sample = Some(self.next_sample(&c.id));
                        for k in 0..size.min(n as usize) {
                            let i = (g * 25 + k) % n.max(1) as usize;
                            let v = measure::variable_value(
                                &mut self.rng_quality,
                                c,
                                factor,
                                temperature,
                                offset,
                            );
                            out.push(EventKind::QualityResultRecorded {
                                characteristic: c.id.clone(),
                                value: v,
                                sample,
                                sample_size: None,
                                order: order.clone(),
                                lot: None,
                                serial: serials.get(i).cloned(),
                                unit: unit.clone(),
                            });
                        }
                    }
                }
                _ => {}
            }
        }
        // Function failures beyond the measured characteristics.
        for f in failed.iter_mut() {
            if self.rng_quality.chance(0.003 + 0.02 * factor) {
                *f = true;
            }
        }
        let failures = failed.iter().filter(|&&f| f).count() as u64;
        for c in &plan.characteristics {
            use model::ChartKind::*;
            let offset = self.characteristic_offset(o, u, &c.id);
            let (value, size) = match c.chart {
                P | Np => (failures as f64 + offset.max(0.0).round(), n as f64),
                C | U => (
                    measure::poisson(
                        &mut self.rng_quality,
                        (c.target * (1.0 + factor) + offset).max(0.0),
                    ) as f64,
                    n as f64,
                ),
                _ => continue,
            };
            let sample = Some(self.next_sample(&c.id));
            out.push(EventKind::QualityResultRecorded {
                characteristic: c.id.clone(),
                value,
                sample,
                sample_size: Some(size.max(1.0)),
                order: order.clone(),
                lot: None,
                serial: None,
                unit: unit.clone(),
            });
        }
        self.orders[o].serials = serials
            .into_iter()
            .zip(failed)
            .filter(|(_, f)| !f)
            .map(|(s, _)| s)
            .collect();
        failures
    }

    /// Measures a batch (one result or subgroup per characteristic) or a repetitive run
    /// (one result or subgroup per 100 units, at most 20).
    fn inspect_lot(
        &mut self,
        o: usize,
        u: usize,
        plan: &InspectionPlanId,
        input: f64,
        factor: f64,
        out: &mut Vec<EventKind>,
    ) {
        let cat = self.cat;
        let Some(plan) = cat.plant().inspection_plans.iter().find(|p| &p.id == plan) else {
            return;
        };
        let order = Some(self.orders[o].order.id.clone());
        let unit = Some(self.units[u].id.clone());
        let lot = Some(self.lot_of(o));
        let temperature = self.orders[o].temperature;
        let groups = if self.orders[o].mode == Mode::Process {
            1
        } else {
            ((input / 100.0) as usize).clamp(1, 20)
        };
        for c in &plan.characteristics {
            let offset = self.characteristic_offset(o, u, &c.id);
            for _ in 0..groups {
                let sample = Some(self.next_sample(&c.id));
                if measure::is_variable(c) {
                    let size = match c.chart {
                        ChartKind::XbarR | ChartKind::XbarS => c.subgroup_size.max(1),
                        _ => 1,
                    };
                    for _ in 0..size {
                        let v = measure::variable_value(
                            &mut self.rng_quality,
                            c,
                            factor,
                            temperature,
                            offset,
                        );
                        out.push(EventKind::QualityResultRecorded {
                            characteristic: c.id.clone(),
                            value: v,
                            sample,
                            sample_size: None,
                            order: order.clone(),
                            lot: lot.clone(),
                            serial: None,
                            unit: unit.clone(),
                        });
                    }
                } else {
                    let (value, size) = match c.chart {
                        ChartKind::Np | ChartKind::P => {
                            let p = if c.chart == ChartKind::Np {
                                c.target / 50.0
                            } else {
                                c.target
                            };
                            // Kit completeness does not depend on upstream lot quality.
                            let p = (p + offset / 50.0).clamp(0.0, 1.0);
                            (
                                measure::binomial(&mut self.rng_quality, 50, p) as f64,
                                Some(50.0),
                            )
                        }
                        _ => {
                            let lambda = (c.target * (1.0 + factor) + offset).max(0.0);
                            let size = (c.chart == ChartKind::U).then_some(1.0);
                            (measure::poisson(&mut self.rng_quality, lambda) as f64, size)
                        }
                    };
                    out.push(EventKind::QualityResultRecorded {
                        characteristic: c.id.clone(),
                        value,
                        sample,
                        sample_size: size,
                        order: order.clone(),
                        lot: lot.clone(),
                        serial: None,
                        unit: unit.clone(),
                    });
                }
            }
        }
    }

    // ----- results -----------------------------------------------------------------------

    fn finish(mut self) -> SimOutput {
        let end = self.end;
        for unit in &mut self.units {
            unit.state_ms[state_index(unit.emitted)] += end - unit.since;
            unit.since = end;
        }
        for unit in &self.units {
            if let (Some(seg_start), Some(job)) = (unit.segment, unit.job.as_ref()) {
                for &(p, _) in &job.op.members {
                    self.pools[p].busy_ms += end - seg_start;
                }
            }
        }
        crate::report::build(ReportInput {
            cat: self.cat,
            opts: self.opts,
            start: self.start,
            end,
            events: self.events,
            unit_state_ms: self
                .units
                .iter()
                .map(|u| (u.id.clone(), u.state_ms))
                .collect(),
            pool_busy_ms: self
                .pools
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    (
                        self.cat.plant().pools[i].id.clone(),
                        p.busy_ms,
                        p.members.len(),
                    )
                })
                .collect(),
            breakdowns: self.truth_breakdowns,
            drift_orders: self.drift_orders,
            drift_lots: self.drift_lots,
            purchasing: self
                .receipts
                .iter()
                .filter(|r| r.time <= end)
                .map(|r| PurchaseReceipt {
                    due: Timestamp(r.time),
                    material: r.material.clone(),
                    quantity: r.quantity,
                    supplier: r.supplier.clone(),
                    expedited: r.expedited,
                })
                .collect(),
            arrived: self
                .arrivals
                .into_iter()
                .filter(|a| a.release.0 <= end)
                .map(|a| a.id)
                .chain(self.replenished)
                .collect(),
            wait_violations: self.wait_violations,
            changeovers: self.changeovers,
            cip_cycles: self.cip_cycles,
        })
    }
}

/// What the report builder needs from a finished run.
pub(crate) struct ReportInput<'a> {
    pub cat: &'a Catalog,
    pub opts: &'a SimOptions,
    pub start: i64,
    pub end: i64,
    pub events: Vec<Event>,
    /// Per unit: ms in running, idle, setup, cleaning, down.
    pub unit_state_ms: Vec<(UnitId, [i64; 5])>,
    /// Per pool: busy member-ms and member count.
    pub pool_busy_ms: Vec<(PoolId, i64, usize)>,
    pub breakdowns: Vec<BreakdownTruth>,
    pub drift_orders: Vec<BTreeSet<OrderId>>,
    pub drift_lots: Vec<BTreeSet<LotId>>,
    pub arrived: Vec<OrderId>,
    pub purchasing: Vec<PurchaseReceipt>,
    pub wait_violations: Vec<MaxWaitViolation>,
    pub changeovers: u64,
    pub cip_cycles: u64,
}

fn is_purchased(cat: &Catalog, m: &MaterialId) -> bool {
    cat.material(m)
        .is_some_and(|x| matches!(x.kind, MaterialKind::Raw | MaterialKind::Packaging))
}

fn validate_options(cat: &Catalog, opts: &SimOptions) -> Result<(), SimError> {
    let bad = |field: &str, message: String| SimError::Options {
        field: field.to_owned(),
        message,
    };
    if !(opts.days.is_finite() && opts.days > 0.0 && opts.days <= 366.0) {
        return Err(bad(
            "days",
            format!("must be in (0, 366], got {}", opts.days),
        ));
    }
    if !(opts.new_orders_per_day.is_finite() && opts.new_orders_per_day >= 0.0) {
        return Err(bad(
            "new_orders_per_day",
            format!(
                "must be a non-negative number, got {}",
                opts.new_orders_per_day
            ),
        ));
    }
    if !(opts.duration_spread.is_finite() && (0.0..=5.0).contains(&opts.duration_spread)) {
        return Err(bad(
            "duration_spread",
            format!("must be in [0, 5], got {}", opts.duration_spread),
        ));
    }
    let plant = cat.plant();
    for (i, d) in opts.drifts.iter().enumerate() {
        let field = format!("drifts[{i}]");
        if !(d.start_day.is_finite() && d.shift.is_finite() && d.rate_per_day.is_finite()) {
            return Err(bad(
                &field,
                "start_day, shift and rate_per_day must be finite".into(),
            ));
        }
        if let Some(u) = &d.unit
            && cat.unit(u).is_none()
        {
            return Err(bad(
                &format!("{field}.unit"),
                format!("unit `{u}` does not exist"),
            ));
        }
        match &d.target {
            DriftTarget::Parameter {
                routing,
                step,
                name,
            } => {
                let routings: Vec<&Routing> = match routing {
                    Some(r) => match cat.routing(r) {
                        Some(x) => vec![x],
                        None => {
                            return Err(bad(
                                &format!("{field}.target.routing"),
                                format!("routing `{r}` does not exist"),
                            ));
                        }
                    },
                    None => plant.routings.iter().collect(),
                };
                let found = routings.iter().any(|r| {
                    r.steps
                        .get(*step as usize)
                        .is_some_and(|s| s.parameters.iter().any(|p| &p.name == name))
                });
                if !found {
                    return Err(bad(
                        &format!("{field}.target"),
                        format!("no routing has parameter `{name}` at step {step}"),
                    ));
                }
            }
            DriftTarget::Characteristic { characteristic } => {
                if cat.characteristic(characteristic).is_none() {
                    return Err(bad(
                        &format!("{field}.target.characteristic"),
                        format!("characteristic `{characteristic}` does not exist"),
                    ));
                }
            }
        }
    }
    Ok(())
}
