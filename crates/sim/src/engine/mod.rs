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

use model::calendar::{Availability, MS_PER_MINUTE};
use model::rng::Rng;
use model::*;

use crate::measure::round;
use crate::options::*;
use crate::output::*;

mod completion;
mod demand;
mod dispatch;
mod live;
mod segments;

const HOUR: i64 = 3_600_000;
const DAY: i64 = 86_400_000;

/// Scrap multiplier of a trainee, a qualified operator and an expert (levels 1 to 3).
pub(crate) const SKILL_FACTORS: [f64; 3] = [1.6, 1.0, 0.7];

/// What happens next, ordered in the queue by `(time, sequence)`; `usize`s index units,
/// orders, receipts, arrivals, blackouts and changes.

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    Release(usize),
    /// A purchased receipt is announced (`receipt_expected` at its promised time).
    Announce(usize),
    /// The supplier says a late receipt will come later (`receipt_expected` again).
    Slip(usize),
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

/// Work committed to a unit: CIP and changeover phases (ms left) before the run.
#[derive(Debug, Clone)]
struct Job {
    phases: VecDeque<(Phase, i64, Option<String>)>,
    op: Op,
}

/// A unit's state: what it reports, what it works on, and its CIP/changeover memory.
struct UnitSim {
    id: UnitId,
    mode: Mode,
    windows: Availability,
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
    windows: Availability,
    members: Vec<MemberSim>,
    busy_ms: i64,
}

/// An order's progress inside the run.
struct OrderSim {
    /// As released, with any customer changes applied.
    order: ProductionOrder,
    routing: usize,
    mode: Mode,
    released: bool,
    /// The step to start next, or (while `busy`) the step running.
    next_step: u32,
    busy: bool,
    /// Finished, scrapped out or cancelled: nothing more to dispatch.
    done: bool,
    /// Quantity flowing into the next step (good output of the previous one).
    quantity: f64,
    /// Max-wait window after the previous step: (latest start, allowed minutes, its end).
    deadline: Option<(i64, f64, i64)>,
    /// The vessel holding this batch between steps.
    reserved_unit: Option<usize>,
    /// Defect factor inherited from the produced lots consumed (quantity-weighted).
    input_factor: f64,
    /// Defect factor from this order's own process parameters.
    own_factor: f64,
    /// Sum of the signed temperature indices of its parameters (moves viscosity).
    temperature: f64,
    /// Batch id or lot code, once allocated.
    lot: Option<LotId>,
    /// Serials of the items still good (discrete products).
    serials: Vec<SerialId>,
    /// Where the first step ran (names batch ids and lot codes).
    first_unit: Option<usize>,
}

/// One lot (or part of it) or one serial item on hand, with the defect factor it carries.
#[derive(Debug, Clone)]
struct Stock {
    lot: Option<LotId>,
    serial: Option<SerialId>,
    quantity: f64,
    factor: f64,
}

struct Receipt {
    /// The expected receipt's id and its purchase order.
    id: ReceiptId,
    purchase_order: String,
    /// When the supplier promised it.
    time: i64,
    /// When it really arrives (later than `time` for a late delivery).
    arrives: i64,
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
    /// Events emitted and not yet handed out (a live run drains them as it goes).
    events: Vec<Event>,
    /// Events emitted since the start: numbers the ids `sim-<seed>-<n>`.
    emitted: u64,
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
    /// The drifts in force: the options' and those drawn from the seed.
    drifts: Vec<DriftSpec>,
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
                windows: Availability::of(cal, cat.zone(), Some(&u.id), start, horizon),
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
                windows: Availability::of(cal, cat.zone(), None, start, horizon),
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
        let mut drifts = opts.drifts.clone();
        drifts.extend(crate::measure::random_drifts(cat, opts, end));
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
            emitted: 0,
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
            drift_orders: vec![BTreeSet::new(); drifts.len()],
            drift_lots: vec![BTreeSet::new(); drifts.len()],
            drifts,
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

    /// A cancelled or scrapped-out order leaves every unit's planned sequence, so the
    /// operations planned after it are not blocked.
    fn drop_from_plans(&mut self, o: usize) {
        for unit in &mut self.units {
            unit.plan.retain(|&(po, _, _)| po != o);
        }
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
        self.emitted += 1;
        let n = self.emitted;
        self.events.push(Event {
            id: format!("sim-{}-{n:07}", self.seed).into(),
            time: Timestamp(self.now),
            source: Some("sim".into()),
            kind,
        });
    }

    /// The defect factor a lot of purchased `material` received now carries: the sum of the
    /// component-lot drifts in force on it, each of which records the lot as affected.
    fn component_defect(&mut self, material: &MaterialId, lot: &LotId) -> f64 {
        let days = (self.now - self.start) as f64 / DAY as f64;
        let mut factor = 0.0;
        for (d, drift) in self.drifts.iter().enumerate() {
            if let DriftTarget::ComponentLot { material: m } = &drift.target
                && m == material
            {
                let f = drift.offset_at(days);
                if f > 0.0 {
                    factor += f;
                    self.drift_lots[d].insert(lot.clone());
                }
            }
        }
        factor
    }

    fn next_id(&mut self, counter: &'static str) -> u64 {
        let c = self.counters.entry(counter).or_insert(0);
        *c += 1;
        *c
    }

    /// Runs the simulation to its end.
    pub(crate) fn run(mut self, mut progress: impl FnMut(Progress)) -> SimOutput {
        let total = (self.end - self.start).max(1) as f64;
        let start = self.start;
        let mut next_report = start;
        self.process_until(self.end, &mut |t, events| {
            if t >= next_report {
                progress(Progress {
                    sim_time: Timestamp(t),
                    fraction: ((t - start) as f64 / total).clamp(0.0, 1.0),
                    events,
                });
                next_report = t - (t - start).rem_euclid(HOUR) + HOUR;
            }
        });
        self.now = self.end;
        progress(Progress {
            sim_time: Timestamp(self.end),
            fraction: 1.0,
            events: self.emitted,
        });
        self.finish()
    }

    /// Processes every queued happening at or before `limit` (never past the run's end) in
    /// `(time, sequence)` order, dispatching once each instant's happenings are handled;
    /// `after` is told each happening's time and the events emitted so far. Stopping at any
    /// `limit` and going on later handles the same happenings in the same order as one call.
    fn process_until(&mut self, limit: i64, after: &mut dyn FnMut(i64, u64)) {
        let limit = limit.min(self.end);
        while let Some(&Reverse((t, _, _))) = self.queue.peek() {
            if t > limit {
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
            after(t, self.emitted);
        }
    }

    fn handle(&mut self, ev: Ev) {
        match ev {
            Ev::Release(o) => self.release(o),
            Ev::Arrival(a) => {
                let order = self.arrivals[a].clone();
                self.arrive(order, 0);
            }
            Ev::Announce(r) => self.announce(r, false),
            Ev::Slip(r) => self.announce(r, true),
            Ev::Receipt(r) => {
                let receipt = &self.receipts[r];
                let (material, quantity, supplier, id) = (
                    receipt.material.clone(),
                    receipt.quantity,
                    receipt.supplier.clone(),
                    receipt.id.clone(),
                );
                let n = self.next_id("receipt");
                let lot: LotId = format!("PL-{}-{}-{n:04}", date_code(self.now), material).into();
                let factor = self.component_defect(&material, &lot);
                self.stock
                    .entry(material.clone())
                    .or_default()
                    .push_back(Stock {
                        lot: Some(lot.clone()),
                        serial: None,
                        quantity,
                        factor,
                    });
                self.emit(EventKind::MaterialReceived {
                    material,
                    lot,
                    quantity,
                    supplier: Some(supplier),
                    receipt: Some(id),
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

    fn release(&mut self, o: usize) {
        if self.orders[o].released {
            return;
        }
        self.orders[o].released = true;
        let order = self.orders[o].order.clone();
        self.emit(EventKind::OrderReleased { order });
    }

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
            drifts: self.drifts,
            drift_orders: self.drift_orders,
            drift_lots: self.drift_lots,
            purchasing: self
                .receipts
                .iter()
                .filter(|r| r.arrives <= end)
                .map(|r| PurchaseReceipt {
                    receipt: r.id.clone(),
                    due: Timestamp(r.time),
                    arrived: Timestamp(r.arrives),
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
    /// The drifts in force: the options' and those drawn from the seed.
    pub drifts: Vec<DriftSpec>,
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
