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

const HOUR: i64 = 3_600_000;
const DAY: i64 = 86_400_000;

/// Scrap multiplier of a trainee, a qualified operator and an expert (levels 1 to 3).
pub(crate) const SKILL_FACTORS: [f64; 3] = [1.6, 1.0, 0.7];

/// What happens next, ordered in the queue by `(time, sequence)`; `usize`s index units,
/// orders, receipts, arrivals, blackouts and changes.

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
