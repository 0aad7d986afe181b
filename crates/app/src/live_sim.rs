//! The live plant: the simulator running the plant in accelerated time while the service
//! serves, its events entering through the same ingest path as any source, and the
//! dispatches the MES carries out fed back into what it does next.
//!
//! - [`LivePlant`] owns a [`sim::Live`] run on a thread of its own (the run borrows its
//!   catalog and options, which the thread holds, and the simulation's work stays off the
//!   async runtime); it advances, replans and answers where an operation is planned.
//! - [`LiveDriver`] is one tick of the loop: advance the plant by the wall time elapsed
//!   times the speed, ingest the new events through [`crate::events::ingest`] as the
//!   [`simulator`] principal (the same path and audit as `POST /v1/events`) in batches of at
//!   most [`LiveConfig::max_batch`], then feed back the `operation_dispatched` events stored
//!   since the last tick by anyone but the simulator (the `mes-sim` sink writes them when a
//!   schedule proposal is applied): each names an operation, whose dispatch as folded into
//!   the order's state (unit and planned start) replans the simulated plant. Other events
//!   posted by others (a person reporting a downtime, an order released by hand) are facts
//!   in the store only: the simulated plant does not see them.
//! - [`spawn`] runs the driver as a tokio task ticking on tokio's clock (so tests can pause
//!   and advance it) until stopped through its [`LiveHandle`] or the run's end. A rejected
//!   batch does not stop the plant: it is retried event by event, so only what the store
//!   refuses is lost, and every refusal is logged with the plant time and event ids.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use govern::{Principal, PrincipalKind, Role, Scope};
use model::{Catalog, Event, EventKind, OrderId, Timestamp, UnitId};
use serde::Serialize;
use sim::{DriftSpec, Plan, PlannedOperation, Replanned, SimOptions};
use store::EventFilter;
use tokio::sync::{oneshot, watch};

use crate::{App, AppError};

/// The name the simulated plant ingests its events as.
pub const SIMULATOR: &str = "mixplane-sim";

/// The source every simulated event carries; dispatches with it are not fed back.
const SIM_SOURCE: &str = "sim";

/// The principal the simulated plant acts as: a service with the operator's role (it records
/// events) over every site.
pub fn simulator() -> Principal {
    Principal::new(
        SIMULATOR,
        PrincipalKind::Service,
        Role::Operator,
        Scope::All,
    )
}

type Planned = Vec<Option<(UnitId, Timestamp)>>;

enum Request {
    Advance(Timestamp, oneshot::Sender<(Vec<Event>, Timestamp)>),
    Replan(Plan, oneshot::Sender<Replanned>),
    Planned(Vec<(OrderId, u32)>, oneshot::Sender<Planned>),
}

/// A [`sim::Live`] run on a thread of its own. Dropping it ends the thread.
#[derive(Debug)]
pub struct LivePlant {
    requests: std::sync::mpsc::Sender<Request>,
    start: Timestamp,
    end: Timestamp,
    drifts: Vec<DriftSpec>,
}

impl LivePlant {
    /// Starts the run `sim::Live::new(catalog, options, plan)` would make; nothing has
    /// happened yet. Invalid options or an invalid plan are [`AppError::Invalid`].
    pub fn start(
        catalog: Arc<Catalog>,
        options: SimOptions,
        plan: Option<Plan>,
    ) -> Result<LivePlant, AppError> {
        let (requests, inbox) = std::sync::mpsc::channel::<Request>();
        let (ready, started) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("mixplane-sim".into())
            .spawn(move || {
                let mut live = match sim::Live::new(&catalog, &options, plan.as_ref()) {
                    Ok(live) => live,
                    Err(e) => {
                        let _ = ready.send(Err(e));
                        return;
                    }
                };
                let _ = ready.send(Ok((live.start(), live.end(), live.drifts().to_vec())));
                drop(ready);
                // Each answer's receiver may be gone (its caller stopped waiting): nothing
                // to do then but go on.
                while let Ok(request) = inbox.recv() {
                    match request {
                        Request::Advance(t, answer) => {
                            let events = live.advance_to(t);
                            let _ = answer.send((events, live.now()));
                        }
                        Request::Replan(plan, answer) => {
                            let _ = answer.send(live.replan(&plan));
                        }
                        Request::Planned(ops, answer) => {
                            let _ = answer.send(
                                ops.iter()
                                    .map(|(order, step)| live.planned(order, *step))
                                    .collect(),
                            );
                        }
                    }
                }
            })
            .map_err(|e| AppError::Internal(format!("starting the simulator thread: {e}")))?;
        let (start, end, drifts) = started
            .recv()
            .map_err(|_| AppError::Internal("the simulator thread stopped".into()))?
            .map_err(|e| AppError::Invalid(format!("the live plant cannot run: {e}")))?;
        Ok(LivePlant {
            requests,
            start,
            end,
            drifts,
        })
    }

    /// The run's first instant.
    pub fn start_time(&self) -> Timestamp {
        self.start
    }

    /// The run's last instant.
    pub fn end(&self) -> Timestamp {
        self.end
    }

    /// The drifts in force (the options' and those drawn from the seed).
    pub fn drifts(&self) -> &[DriftSpec] {
        &self.drifts
    }

    /// The drifts as ground truth for the rollout KPIs: what, from when, and the
    /// characteristics they reach in `catalog`.
    pub fn known_drifts(&self, catalog: &Catalog) -> Vec<govern::kpis::KnownDrift> {
        self.drifts
            .iter()
            .map(|d| govern::kpis::KnownDrift {
                name: d.describe(),
                start: self.start.plus_minutes(d.start_day * 1440.0),
                characteristics: sim::downstream_characteristics(catalog, &d.target)
                    .into_iter()
                    .map(|c| c.to_string())
                    .collect(),
            })
            .collect()
    }

    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Request,
    ) -> Result<T, AppError> {
        let (answer, answered) = oneshot::channel();
        let gone = || AppError::Internal("the simulator thread stopped".into());
        self.requests.send(make(answer)).map_err(|_| gone())?;
        answered.await.map_err(|_| gone())
    }

    /// Runs the plant up to `t` (never past its end): the events emitted since the last
    /// call, in order, and the plant time reached.
    pub async fn advance_to(&self, t: Timestamp) -> Result<(Vec<Event>, Timestamp), AppError> {
        self.ask(|answer| Request::Advance(t, answer)).await
    }

    /// Replans the operations `plan` names that have not started ([`sim::Live::replan`]).
    pub async fn replan(&self, plan: Plan) -> Result<Replanned, AppError> {
        self.ask(|answer| Request::Replan(plan, answer)).await
    }

    /// Where and when the run plans each operation, if a plan holds it.
    pub async fn planned(&self, ops: Vec<(OrderId, u32)>) -> Result<Planned, AppError> {
        self.ask(|answer| Request::Planned(ops, answer)).await
    }
}

/// How the live plant runs.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveConfig {
    /// Plant time per wall time: 60 makes a wall second a plant minute.
    pub speed: f64,
    /// Wall time between ticks.
    pub tick: Duration,
    /// Most events ingested in one batch.
    pub max_batch: usize,
    /// Dispatches stored at or before this log sequence number are not fed back (0: every
    /// dispatch in the log counts, those of a plan adopted before the plant went live too).
    pub dispatches_after_seq: i64,
}

impl Default for LiveConfig {
    fn default() -> Self {
        LiveConfig {
            speed: 60.0,
            tick: Duration::from_millis(250),
            max_batch: 2_000,
            dispatches_after_seq: 0,
        }
    }
}

/// What the live plant has done so far, for a status line.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LiveStatus {
    /// Plant time reached.
    pub plant_time: Timestamp,
    /// The run's last instant.
    pub end: Timestamp,
    pub ticks: u64,
    /// Events stored through ingest (duplicates not counted).
    pub events_ingested: u64,
    /// Batches the store refused (each then retried event by event).
    pub batches_rejected: u64,
    /// Events the store refused on their own: lost to the log.
    pub events_rejected: u64,
    /// Replans made from stored dispatches.
    pub replans: u64,
    /// Dispatched operations the plant now runs where and when dispatched.
    pub dispatches_applied: u64,
    /// Dispatched operations it could not move (started, unknown, held elsewhere).
    pub dispatches_skipped: u64,
    /// Ticks whose work failed (logged); the plant went on.
    pub errors: u64,
    /// The run reached its end.
    pub finished: bool,
    /// Why the plant stopped before its end (its thread is gone); the loop stops too.
    pub failed: Option<String>,
}

/// One live plant's loop, a tick at a time.
#[derive(Debug)]
pub struct LiveDriver {
    app: App,
    plant: LivePlant,
    who: Principal,
    config: LiveConfig,
    /// Plant time aimed at, in ms (kept fractional so short ticks add up).
    target: f64,
    dispatch_seq: i64,
    status: LiveStatus,
}

impl LiveDriver {
    /// A driver of `plant` into `app`'s store, from the plant time `plant` has reached
    /// (`from`: the end of the history already stored, or the run's start).
    pub fn new(app: App, plant: LivePlant, from: Timestamp, config: LiveConfig) -> LiveDriver {
        let status = LiveStatus {
            plant_time: from,
            end: plant.end(),
            ..LiveStatus::default()
        };
        LiveDriver {
            app,
            plant,
            who: simulator(),
            target: from.0 as f64,
            dispatch_seq: config.dispatches_after_seq,
            config,
            status,
        }
    }

    pub fn status(&self) -> &LiveStatus {
        &self.status
    }

    /// One tick: `elapsed` wall time has passed since the last. Runs the plant on by
    /// `elapsed × speed`, ingests what happened, then replans from the dispatches stored
    /// since the last tick. Failures are logged and counted; the next tick goes on.
    pub async fn tick(&mut self, elapsed: Duration) -> &LiveStatus {
        self.status.ticks += 1;
        let end = self.plant.end().0 as f64;
        self.target = (self.target + elapsed.as_secs_f64() * 1000.0 * self.config.speed).min(end);
        let target = Timestamp(self.target.floor() as i64);
        match self.plant.advance_to(target).await {
            Ok((events, reached)) => {
                self.ingest(&events).await;
                self.status.plant_time = reached;
                self.status.finished = reached >= self.plant.end();
            }
            Err(e) => {
                // Only a simulator thread that is gone answers nothing: nothing to go on with.
                self.status.errors += 1;
                tracing::error!(error = %e, "the live plant could not advance to {target}; it stops");
                self.status.failed = Some(e.to_string());
                return &self.status;
            }
        }
        if let Err(e) = self.feed_back().await {
            self.status.errors += 1;
            tracing::warn!(error = %e, "reading the dispatches to feed back into the live plant failed; retried next tick");
        }
        &self.status
    }

    async fn ingest(&mut self, events: &[Event]) {
        for batch in events.chunks(self.config.max_batch.max(1)) {
            match crate::events::ingest(&self.app, &self.who, batch).await {
                Ok(outcome) => self.status.events_ingested += outcome.inserted as u64,
                Err(e) => {
                    self.status.batches_rejected += 1;
                    tracing::warn!(
                        error = %e,
                        first = %batch[0].id,
                        last = %batch[batch.len() - 1].id,
                        plant_time = %batch[0].time,
                        "the store refused a batch of {} simulated events; storing them one by one",
                        batch.len()
                    );
                    self.ingest_one_by_one(batch).await;
                }
            }
        }
    }

    async fn ingest_one_by_one(&mut self, batch: &[Event]) {
        for event in batch {
            match crate::events::ingest(&self.app, &self.who, std::slice::from_ref(event)).await {
                Ok(outcome) => self.status.events_ingested += outcome.inserted as u64,
                Err(e) => {
                    self.status.events_rejected += 1;
                    tracing::warn!(
                        error = %e,
                        event = %event.id,
                        kind = event.kind.type_name(),
                        plant_time = %event.time,
                        "the store refused a simulated event; it is lost to the log"
                    );
                }
            }
        }
    }

    /// The operations named by `operation_dispatched` events stored since the last tick by
    /// anyone but the simulator, replanned where and when their orders' folded dispatch says
    /// (a dispatch naming only a unit keeps the planned start, or starts as soon as it can;
    /// one naming only a start keeps the planned unit).
    async fn feed_back(&mut self) -> Result<(), AppError> {
        let mut named: Vec<(OrderId, u32)> = Vec::new();
        loop {
            let page = self
                .app
                .store
                .events(EventFilter {
                    types: vec!["operation_dispatched".into()],
                    after_seq: Some(self.dispatch_seq),
                    limit: store::MAX_PAGE,
                    ..EventFilter::default()
                })
                .await?;
            let full = page.len() >= store::MAX_PAGE as usize;
            for stored in &page {
                self.dispatch_seq = self.dispatch_seq.max(stored.seq);
                if stored.event.source.as_deref() == Some(SIM_SOURCE) {
                    continue;
                }
                if let EventKind::OperationDispatched { order, step, .. } = &stored.event.kind
                    && !named.iter().any(|(o, s)| o == order && s == step)
                {
                    named.push((order.clone(), *step));
                }
            }
            if !full {
                break;
            }
        }
        if named.is_empty() {
            return Ok(());
        }
        let state = self.app.store.snapshot().await.state;
        let planned = self.plant.planned(named.clone()).await?;
        let mut plan = Plan::default();
        let mut unplaced = 0;
        for ((order, step), planned) in named.into_iter().zip(planned) {
            let dispatch = state
                .orders
                .get(&order)
                .and_then(|o| o.dispatched.get(&step));
            let unit = dispatch
                .and_then(|d| d.unit.clone())
                .or_else(|| planned.as_ref().map(|p| p.0.clone()));
            let start = dispatch
                .and_then(|d| d.start)
                .or_else(|| planned.as_ref().map(|p| p.1))
                .unwrap_or(self.status.plant_time);
            let Some(unit) = unit else {
                unplaced += 1;
                tracing::info!(%order, step, "a dispatch names a start but no unit for an operation the live plant has not planned; left to its dispatcher");
                continue;
            };
            plan.units
                .entry(unit)
                .or_default()
                .push(PlannedOperation { order, step, start });
        }
        for ops in plan.units.values_mut() {
            ops.sort_by_key(|op| op.start);
        }
        self.status.dispatches_skipped += unplaced;
        if plan.units.is_empty() {
            return Ok(());
        }
        let replanned = self.plant.replan(plan).await?;
        self.status.replans += 1;
        self.status.dispatches_applied += replanned.applied as u64;
        self.status.dispatches_skipped += replanned.skipped.len() as u64;
        let skipped: BTreeMap<String, &str> = replanned
            .skipped
            .iter()
            .map(|s| {
                (
                    format!("{}/{} on {}", s.order, s.step, s.unit),
                    s.reason.as_str(),
                )
            })
            .collect();
        tracing::info!(
            applied = replanned.applied,
            ?skipped,
            plant_time = %self.status.plant_time,
            "the live plant follows the dispatches stored since the last tick"
        );
        Ok(())
    }
}

/// A running live plant: its status and the way to stop it.
#[derive(Debug)]
pub struct LiveHandle {
    stop: watch::Sender<bool>,
    status: watch::Receiver<LiveStatus>,
    task: tokio::task::JoinHandle<()>,
}

impl LiveHandle {
    /// The status after the latest tick.
    pub fn status(&self) -> LiveStatus {
        self.status.borrow().clone()
    }

    /// A receiver of the status after every tick.
    pub fn watch(&self) -> watch::Receiver<LiveStatus> {
        self.status.clone()
    }

    /// Stops the loop after the tick under way and waits for it.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Runs `driver` as a tokio task, a tick every `config.tick` of tokio's clock with the wall
/// time elapsed since the one before, until stopped, the run ends or its simulator thread is
/// gone. Logs a status line about once a minute.
pub fn spawn(mut driver: LiveDriver) -> LiveHandle {
    let (stop, mut stopped) = watch::channel(false);
    let (publish, status) = watch::channel(driver.status().clone());
    let period = driver.config.tick.max(Duration::from_millis(1));
    let task = tokio::spawn(async move {
        let mut interval = tokio::time::interval(period);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last = tokio::time::Instant::now();
        let mut last_line = last;
        loop {
            tokio::select! {
                _ = stopped.changed() => break,
                _ = interval.tick() => {}
            }
            let now = tokio::time::Instant::now();
            let status = driver.tick(now - last).await.clone();
            last = now;
            let _ = publish.send(status.clone());
            if status.finished {
                tracing::info!(plant_time = %status.plant_time, "the live plant reached the end of its run");
                break;
            }
            if status.failed.is_some() {
                break;
            }
            if now - last_line >= Duration::from_secs(60) {
                last_line = now;
                tracing::info!(
                    plant_time = %status.plant_time,
                    events = status.events_ingested,
                    replans = status.replans,
                    rejected = status.events_rejected,
                    "live plant"
                );
            }
        }
    });
    LiveHandle { stop, status, task }
}
