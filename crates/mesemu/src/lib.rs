//! An emulator of an Opcenter-style MES (SPEC C9): the simulator's plant ([`sim::Live`])
//! running in accelerated real time, its events folded into Opcenter's entity sets
//! ([`opcenter::Tables`]) and served as OData v4 (`odata`'s query options, paging,
//! `$metadata`), behind the OAuth password grant with expiring tokens, taking commands that
//! change its rows and the simulated plant (a dispatch replans it) — and misbehaving on
//! demand ([`faults`]): tokens expiring early, 429/503 with `Retry-After`, slow answers, a
//! page served twice, a row no connector can map, commands failing with an `ErrorCode`, the
//! port going away and back.
//!
//! It is a peer for mixplane's connectors to be tested against, not mixplane's API: it is the
//! second crate that serves HTTP (beside `server`), and shares nothing with it.
//!
//! - [`plant`]: the world (plant, tables, the commands' idempotency keys) on a thread of its
//!   own;
//! - [`clock`]: plant time (start + wall time × speed + steps taken by hand);
//! - [`auth`]: tokens; [`faults`]: misbehaviour; [`http`]: the token and admin routes and
//!   the gate; `odata_api`: the services; `commands`: the commands; `serve`: the accept loop
//!   and the outage that closes the port; [`client`]: the other side, for the harnesses that
//!   drive an emulator (sign-in, pages, admin calls).
//!
//! Architecture invariant: an I/O edge over pure libraries (`sim`, `odata`, `opcenter`,
//! `model`); it holds no mapping of its own between events and rows (that is `opcenter`'s)
//! and no query semantics (that is `odata`'s). It reads no configuration or environment:
//! the binary passes a [`Config`].

pub mod auth;
pub mod client;
pub mod clock;
mod commands;
pub mod faults;
pub mod http;
mod odata_api;
pub mod plant;
mod serve;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use model::Timestamp;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};

use crate::auth::{Credentials, Tokens};
use crate::clock::Clock;
use crate::faults::{FaultError, FaultRequest, Faults};
use crate::plant::{Plant, PlantError};

/// How an emulator runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Seed of the simulated plant.
    pub seed: u64,
    /// Plant time at start.
    pub start: Timestamp,
    /// Plant days the run lasts.
    pub days: f64,
    /// Plant seconds per wall second; 0 moves the plant only through `POST /emulator/advance`.
    pub speed: f64,
    /// The most rows a collection answer holds before `@odata.nextLink`.
    pub page_size: usize,
    /// Who may sign in (and use the admin routes).
    pub credentials: Credentials,
    /// Lifetime of access tokens.
    pub token_lifetime: Duration,
    /// Faults in force from the start.
    pub faults: FaultRequest,
    /// How often the plant is moved on to the clock's time (when the speed is not 0).
    pub tick: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            seed: 7,
            start: sim::SimOptions::default().start,
            days: 30.0,
            speed: 60.0,
            page_size: 100,
            credentials: Credentials::default(),
            token_lifetime: Duration::from_secs(3600),
            faults: FaultRequest::default(),
            tick: Duration::from_millis(250),
        }
    }
}

/// The apps served, each at `/sit-svc/Application/{App}/odata/`.
pub fn apps() -> Vec<&'static str> {
    opcenter::App::ALL.iter().map(|app| app.name()).collect()
}

/// Why an emulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Plant(#[from] PlantError),
    #[error("invalid fault: {0}")]
    Fault(#[from] FaultError),
    #[error("invalid option `{field}`: {message}")]
    Option {
        field: &'static str,
        message: String,
    },
    #[error("the listener: {0}")]
    Listener(#[from] std::io::Error),
}

/// What the routes share.
pub(crate) struct Shared {
    pub(crate) plant: Plant,
    pub(crate) clock: Mutex<Clock>,
    pub(crate) tokens: Mutex<Tokens>,
    pub(crate) faults: Mutex<Faults>,
    /// Woken when an outage is set or ended, for the accept loop to close or open the port.
    pub(crate) outage: Notify,
    /// Each set's last collection answer that held rows, for the repeated-page fault.
    pub(crate) last_pages: Mutex<HashMap<opcenter::EntitySet, serde_json::Value>>,
    pub(crate) page_size: usize,
}

impl Shared {
    /// Applies a fault request: the tokens' part and the rest.
    pub(crate) fn set_faults(&self, request: &FaultRequest) -> Result<(), FaultError> {
        request.validate()?;
        if let Some(poison) = &request.poison_row {
            let set = poison.entity_set()?;
            let fields = poison.fields.clone();
            self.plant
                .post(move |world| {
                    world.poison(set, fields);
                })
                .map_err(|_| FaultError::PlantStopped)?;
        }
        let now = Instant::now();
        {
            let mut tokens = lock(&self.tokens);
            if let Some(seconds) = request.token_lifetime_seconds {
                tokens.set_lifetime(Duration::from_secs(seconds));
            }
            if request.expire_tokens {
                tokens.expire_all(now);
            }
        }
        lock(&self.faults).apply(request, now);
        if request.down.is_some() || request.up {
            // The accept loop closes the port, or opens it again early.
            self.outage.notify_one();
        }
        Ok(())
    }
}

/// The emulator's state, as the admin routes show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub plant_time: Timestamp,
    pub start: Timestamp,
    pub end: Timestamp,
    pub speed: f64,
    /// Events the plant emitted so far.
    pub events: u64,
    /// Events the tables could not fold (each logged); 0 unless the profile has a bug.
    pub refused: u64,
}

/// A step of plant time taken by hand.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Step {
    /// On by this many plant minutes (a negative or non-finite number moves nothing).
    Minutes(f64),
    /// On to this instant (an instant already past moves nothing).
    To(Timestamp),
}

impl Shared {
    pub(crate) async fn status(&self) -> Result<Status, PlantError> {
        let (plant_time, events, refused) = self
            .plant
            .run(|world| (world.live.now(), world.events, world.refused))
            .await?;
        Ok(Status {
            plant_time,
            start: self.plant.start_time(),
            end: self.plant.end(),
            speed: lock(&self.clock).speed(),
            events,
            refused,
        })
    }

    /// Moves the clock by hand and the plant with it.
    pub(crate) async fn step(&self, step: Step) -> Result<Status, PlantError> {
        let target = {
            let mut clock = lock(&self.clock);
            let now = Instant::now();
            match step {
                Step::Minutes(minutes) if minutes.is_finite() => {
                    clock.add((minutes * 60_000.0).round() as i64);
                }
                Step::Minutes(_) => {}
                Step::To(to) => clock.move_to(to, now),
            }
            clock.at(now)
        };
        self.plant
            .run(move |world| world.advance_to(target))
            .await?;
        self.status().await
    }
}

/// Locks a mutex; a panic while holding one of these is a bug the emulator cannot recover
/// from, so poisoning is not expected.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A running emulator.
pub struct Emulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// Starts the plant, the clock's ticker and the accept loop on `listener`.
    pub async fn start(listener: TcpListener, config: Config) -> Result<Emulator, StartError> {
        if config.page_size == 0 {
            return Err(StartError::Option {
                field: "page_size",
                message: "must be at least 1".into(),
            });
        }
        if !(config.speed.is_finite() && config.speed >= 0.0) {
            return Err(StartError::Option {
                field: "speed",
                message: format!("must be 0 or more, not {}", config.speed),
            });
        }
        let options = sim::SimOptions {
            seed: config.seed,
            start: config.start,
            days: config.days,
            // A long run keeps drifting, as the demo's live plant does.
            drifts_per_month: 4.0,
            ..sim::SimOptions::default()
        };
        let plant = Plant::start(Arc::new(sim::reference_catalog()), options)?;
        let addr = listener.local_addr()?;
        let now = Instant::now();
        let shared = Arc::new(Shared {
            clock: Mutex::new(Clock::new(plant.start_time(), config.speed, now)),
            plant,
            tokens: Mutex::new(Tokens::new(
                config.credentials.clone(),
                config.token_lifetime,
            )),
            faults: Mutex::new(Faults::default()),
            outage: Notify::new(),
            last_pages: Mutex::new(HashMap::new()),
            page_size: config.page_size,
        });
        shared.set_faults(&config.faults)?;
        let (stop, stopped) = watch::channel(false);
        let router = http::router(shared.clone());
        let mut tasks = vec![tokio::spawn(serve::accept_loop(
            listener,
            router,
            shared.clone(),
            stopped.clone(),
        ))];
        if config.speed > 0.0 {
            tasks.push(tokio::spawn(tick(shared.clone(), config.tick, stopped)));
        }
        Ok(Emulator {
            addr,
            shared,
            stop,
            tasks,
        })
    }

    /// The address it serves on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// What the admin route `GET /emulator/status` shows.
    pub async fn status(&self) -> Result<Status, PlantError> {
        self.shared.status().await
    }

    /// Moves plant time by hand, as `POST /emulator/advance` does.
    pub async fn advance(&self, step: Step) -> Result<Status, PlantError> {
        self.shared.step(step).await
    }

    /// Every row of `set` as it stands, in `ModifiedOn` order: what a reader of the whole
    /// set would get, without the faults' gate (a test's view of the truth).
    pub async fn rows(
        &self,
        set: opcenter::EntitySet,
    ) -> Result<Vec<serde_json::Value>, PlantError> {
        self.shared
            .plant
            .run(move |world| world.rows(set).to_vec())
            .await
    }

    /// Changes the faults in force, as `POST /emulator/faults` does (a poison row is
    /// written before any request sent after this call is read).
    pub fn set_faults(&self, request: &FaultRequest) -> Result<(), FaultError> {
        self.shared.set_faults(request)
    }

    /// Stops serving (open requests finish) and the clock.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// Moves the plant on to the clock's time every `every`, until stopped or the run's end.
async fn tick(shared: Arc<Shared>, every: Duration, mut stopped: watch::Receiver<bool>) {
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = stopped.changed() => return,
        }
        let target = lock(&shared.clock).at(Instant::now());
        let end = shared.plant.end();
        if shared
            .plant
            .run(move |world| world.advance_to(target))
            .await
            .is_err()
        {
            tracing::error!("the simulated plant stopped");
            return;
        }
        if target >= end {
            tracing::info!(%end, "the simulated plant reached the end of its run");
            return;
        }
    }
}
