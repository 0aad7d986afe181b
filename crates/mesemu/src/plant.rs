//! The emulated MES's world on a thread of its own: the simulated plant ([`sim::Live`],
//! which borrows its catalog and options, so the thread holds them) and the Opcenter tables
//! its events are folded into ([`opcenter::Tables`]), with the idempotency keys of the
//! commands carried out so far.
//!
//! Everything that reads or changes the world is a job run on that thread, one at a time
//! ([`Plant::run`]), so its order is the order requests arrive in and a seed with the same
//! sequence of clock steps and commands gives the same rows. The simulation's work stays off
//! the async runtime.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use model::{Catalog, Event, Timestamp};
use opcenter::EntitySet;
use serde_json::{Map, Value};
use sim::{Live, SimOptions};
use tokio::sync::oneshot;

/// Why the plant could not start or answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlantError {
    #[error("the simulated plant cannot run: {0}")]
    Options(String),
    #[error("the simulated plant's thread stopped")]
    Stopped,
    #[error("starting the simulated plant's thread: {0}")]
    Thread(String),
}

/// The world the jobs see.
pub struct World<'a> {
    /// The simulated plant.
    pub live: Live<'a>,
    /// The plant's catalog (units, routings, orders of the order book).
    pub catalog: &'a Catalog,
    /// The rows served, folded from the plant's events and the commands applied.
    pub tables: opcenter::Tables,
    /// The idempotency keys of the commands carried out (the tables keep their answers).
    pub keys: HashSet<String>,
    /// Events the plant emitted so far.
    pub events: u64,
    /// Events the tables refused (each logged with the reason).
    pub refused: u64,
    /// Rows written by the poison-row fault so far.
    pub poisoned: u64,
    /// Each set's rows as last handed out, with the tables' last stamp then: every write
    /// to the tables stamps anew, so an unchanged stamp means unchanged rows, and the pages
    /// of a large set are cut without copying it again for each.
    cache: HashMap<EntitySet, (Option<Timestamp>, Vec<Value>)>,
}

impl World<'_> {
    /// Runs the plant up to `t` (never past its end) and folds what it emitted into the
    /// tables; answers how many events that was.
    pub fn advance_to(&mut self, t: Timestamp) -> usize {
        let emitted = self.live.advance_to(t);
        self.fold(&emitted);
        emitted.len()
    }

    /// The rows of `set`, in `ModifiedOn` order.
    pub fn rows(&mut self, set: EntitySet) -> &[Value] {
        let stamp = self.tables.last_modified();
        let cached = self.cache.entry(set).or_insert_with(|| (None, Vec::new()));
        if cached.0 != stamp || stamp.is_none() {
            *cached = (stamp, self.tables.set_rows(set));
        }
        &cached.1
    }

    /// Writes a row of `set` that no event made (the poison-row fault): `NId` `poison-<n>`,
    /// `fields` over every other property null, stamped at the plant's time or after every
    /// row before. Answers the row.
    pub fn poison(&mut self, set: EntitySet, fields: Map<String, Value>) -> Value {
        self.poisoned += 1;
        let nid = format!("poison-{}", self.poisoned);
        let mut row: Map<String, Value> = set
            .properties()
            .filter(|p| !matches!(p.name, "Id" | "NId" | "ModifiedOn"))
            .map(|p| (p.name.to_owned(), Value::Null))
            .collect();
        row.extend(fields);
        let written = self.tables.write_row(set, &nid, self.live.now(), row);
        tracing::info!(set = set.name(), id = ?written.get("Id"), "fault: a poison row was written");
        Value::Object(written)
    }

    /// Puts the tables back as they were (a command the plant could not follow).
    pub fn restore(&mut self, tables: opcenter::Tables) {
        self.tables = tables;
        // A later write may reuse a stamp the cache saw on the rows now undone.
        self.cache.clear();
    }

    /// Folds events into the tables.
    pub fn fold(&mut self, emitted: &[Event]) {
        for event in emitted {
            if let Err(error) = self.tables.apply(event) {
                // The plant goes on; the refusal is a bug of the profile worth seeing.
                tracing::warn!(%error, "an event of the plant does not fit the tables");
                self.refused += 1;
            }
        }
        self.events += emitted.len() as u64;
    }
}

type Job = Box<dyn for<'w> FnOnce(&mut World<'w>) + Send>;

/// The handle to the world's thread. Dropping every handle ends the thread.
#[derive(Debug, Clone)]
pub struct Plant {
    jobs: std::sync::mpsc::Sender<Job>,
    start: Timestamp,
    end: Timestamp,
}

impl Plant {
    /// Starts the run `sim::Live::new(catalog, options, None)` makes, with empty tables;
    /// nothing has happened yet.
    pub fn start(catalog: Arc<Catalog>, options: SimOptions) -> Result<Plant, PlantError> {
        let (jobs, inbox) = std::sync::mpsc::channel::<Job>();
        let (ready, started) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("mesemu-plant".into())
            .spawn(move || {
                let live = match Live::new(&catalog, &options, None) {
                    Ok(live) => live,
                    Err(e) => {
                        let _ = ready.send(Err(PlantError::Options(e.to_string())));
                        return;
                    }
                };
                let _ = ready.send(Ok((live.start(), live.end())));
                drop(ready);
                let mut world = World {
                    live,
                    catalog: &catalog,
                    tables: opcenter::Tables::new(&catalog, options.start),
                    keys: HashSet::new(),
                    events: 0,
                    refused: 0,
                    poisoned: 0,
                    cache: HashMap::new(),
                };
                while let Ok(job) = inbox.recv() {
                    job(&mut world);
                }
            })
            .map_err(|e| PlantError::Thread(e.to_string()))?;
        let (start, end) = started.recv().map_err(|_| PlantError::Stopped)??;
        Ok(Plant { jobs, start, end })
    }

    /// The run's first instant.
    pub fn start_time(&self) -> Timestamp {
        self.start
    }

    /// The run's last instant.
    pub fn end(&self) -> Timestamp {
        self.end
    }

    /// Sends `job` to run on the world's thread after the jobs sent before it, without
    /// waiting for it: a change asked by a caller that cannot wait (every read sent later
    /// runs after it, so sees it).
    pub fn post<F>(&self, job: F) -> Result<(), PlantError>
    where
        F: for<'w> FnOnce(&mut World<'w>) + Send + 'static,
    {
        self.jobs
            .send(Box::new(job))
            .map_err(|_| PlantError::Stopped)
    }

    /// Runs `job` on the world's thread after the jobs sent before it, and answers its
    /// result.
    pub async fn run<T, F>(&self, job: F) -> Result<T, PlantError>
    where
        T: Send + 'static,
        F: for<'w> FnOnce(&mut World<'w>) -> T + Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move |world: &mut World<'_>| {
            // The asker may have stopped waiting (its request was cut): nothing to do then.
            let _ = answer.send(job(world));
        });
        self.jobs.send(job).map_err(|_| PlantError::Stopped)?;
        answered.await.map_err(|_| PlantError::Stopped)
    }
}
