//! The live plant (`app::live_sim`) over a real store (SQLite in a temporary directory) and
//! the reference plant: its events arrive through ingest audited as `mixplane-sim`, in
//! bounded batches, exactly as the simulator emits them; an `operation_dispatched` stored by
//! someone else changes where and when the plant runs that operation; the spawned loop
//! follows tokio's clock and stops when told.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use app::App;
use app::live_sim::{LiveConfig, LiveDriver, LivePlant, SIMULATOR};
use govern::{Principal, PrincipalKind, Role, Scope};
use model::{Catalog, Event, EventKind, OrderId, Timestamp, UnitId};
use sim::SimOptions;
use store::{EventFilter, StoredEvent};

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("mixplane-live-sim-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temporary directory");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn app_with_plant(dir: &TempDir) -> (App, Arc<Catalog>) {
    let store = store::test_support::store_at(&dir.0.join("mixplane.db"))
        .await
        .expect("store opens");
    let catalog = Arc::new(sim::reference_catalog());
    store
        .put_plant(
            catalog.plant().clone(),
            &store::Actor::new(store::ActorKind::Person, "setup"),
        )
        .await
        .expect("plant stored");
    (App::new(Arc::new(store)), catalog)
}

fn options() -> SimOptions {
    SimOptions {
        days: 2.0,
        ..SimOptions::default()
    }
}

fn hours(t: Timestamp, h: f64) -> Timestamp {
    t.plus_minutes(h * 60.0)
}

async fn stored(app: &App) -> Vec<StoredEvent> {
    app.store
        .events(EventFilter {
            limit: store::MAX_PAGE,
            ..EventFilter::default()
        })
        .await
        .expect("events read")
}

/// One plant hour per wall second, batches of at most 20 events.
fn config() -> LiveConfig {
    LiveConfig {
        speed: 3600.0,
        max_batch: 20,
        ..LiveConfig::default()
    }
}

#[tokio::test]
async fn simulated_events_arrive_through_ingest_audited_as_the_simulator() {
    let dir = TempDir::new("ingest");
    let (app, catalog) = app_with_plant(&dir).await;
    let options = options();
    let plant = LivePlant::start(catalog.clone(), options.clone(), None).unwrap();
    let mut driver = LiveDriver::new(app.clone(), plant, options.start, config());
    for _ in 0..4 {
        driver.tick(Duration::from_secs(3)).await;
    }
    let status = driver.status().clone();
    assert_eq!(status.plant_time, hours(options.start, 12.0));
    assert_eq!(status.ticks, 4);
    assert_eq!((status.batches_rejected, status.errors), (0, 0));

    // Exactly the simulator's events up to that plant time, in its order.
    let mut reference = sim::Live::new(&catalog, &options, None).unwrap();
    let expected = reference.advance_to(hours(options.start, 12.0));
    let events: Vec<Event> = stored(&app).await.into_iter().map(|s| s.event).collect();
    assert!(expected.len() > 50, "{} events", expected.len());
    assert_eq!(status.events_ingested as usize, expected.len());
    assert!(events == expected, "the store holds other events");

    // Audited as the simulator, in batches of at most 20.
    let audit = app.store.audit_log(0, 1000).await.unwrap();
    let appends: Vec<_> = audit
        .iter()
        .filter(|r| r.action == "events.append")
        .collect();
    assert!(
        appends.len() * 20 >= expected.len(),
        "{} batches",
        appends.len()
    );
    for record in &appends {
        assert_eq!(record.actor.id, SIMULATOR);
        assert_eq!(record.actor.kind, store::ActorKind::Service);
    }
}

/// The first operation started after `after` whose step has another unit it could run on.
fn movable(
    events: &[Event],
    catalog: &Catalog,
    after: Timestamp,
) -> (OrderId, u32, UnitId, UnitId, Timestamp) {
    events
        .iter()
        .filter(|e| e.time > after)
        .find_map(|e| {
            let EventKind::OperationStarted {
                order, step, unit, ..
            } = &e.kind
            else {
                return None;
            };
            let routing = events.iter().find_map(|r| match &r.kind {
                EventKind::OrderReleased { order: o } if &o.id == order => {
                    catalog.routing(&o.routing)
                }
                _ => None,
            })?;
            let other = routing.steps[*step as usize]
                .alternatives
                .iter()
                .find(|a| &a.unit != unit)?;
            Some((
                order.clone(),
                *step,
                unit.clone(),
                other.unit.clone(),
                e.time,
            ))
        })
        .expect("an operation with an alternative unit")
}

fn starts_of(events: &[StoredEvent], order: &OrderId, step: u32) -> Vec<(UnitId, Timestamp)> {
    events
        .iter()
        .filter_map(|s| match &s.event.kind {
            EventKind::OperationStarted {
                order: o,
                step: k,
                unit,
                ..
            } if o == order && *k == step => Some((unit.clone(), s.event.time)),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_dispatch_stored_by_someone_else_changes_what_the_plant_does_next() {
    let dir = TempDir::new("dispatch");
    let (app, catalog) = app_with_plant(&dir).await;
    let options = options();
    let reference = sim::simulate(&catalog, &options, None, |_| {})
        .unwrap()
        .events;
    let now = hours(options.start, 10.0);
    let (order, step, natural, other, natural_start) =
        movable(&reference, &catalog, hours(now, 2.0));
    let dispatched_start = natural_start.plus_minutes(45.0);

    let plant = LivePlant::start(catalog.clone(), options.clone(), None).unwrap();
    let mut driver = LiveDriver::new(app.clone(), plant, options.start, config());
    for _ in 0..10 {
        driver.tick(Duration::from_secs(1)).await;
    }
    assert_eq!(driver.status().plant_time, now);
    assert_eq!(driver.status().replans, 0);

    // A planner's dispatch, as the mes-sim sink writes it when a proposal is applied; and a
    // downtime an operator posts, which the simulated plant does not see.
    let planner = Principal::new("ann", PrincipalKind::Person, Role::Planner, Scope::All);
    let dispatch = Event {
        id: "P-1-apply-1".into(),
        time: now,
        source: Some("mixplane-governor".into()),
        kind: EventKind::OperationDispatched {
            order: order.clone(),
            step,
            unit: Some(other.clone()),
            start: Some(dispatched_start),
        },
    };
    app::events::ingest(&app, &planner, &[dispatch])
        .await
        .unwrap();
    driver.tick(Duration::from_secs(1)).await;
    let status = driver.status().clone();
    assert_eq!(status.replans, 1);
    assert_eq!(status.dispatches_applied, 1, "{status:?}");
    // Nothing new is fed back on the next tick.
    driver.tick(Duration::from_secs(1)).await;
    assert_eq!(driver.status().replans, 1);

    for _ in 0..36 {
        driver.tick(Duration::from_secs(1)).await;
    }
    let events = stored(&app).await;
    let starts = starts_of(&events, &order, step);
    assert_eq!(starts.len(), 1, "{starts:?}");
    let (unit, time) = &starts[0];
    assert_eq!(unit, &other, "ran on {unit}, the rule put it on {natural}");
    assert!(
        *time >= dispatched_start,
        "started {time}, dispatched for {dispatched_start}"
    );
}

#[tokio::test]
async fn a_refused_batch_does_not_stop_the_plant() {
    let dir = TempDir::new("refused");
    let (app, catalog) = app_with_plant(&dir).await;
    let options = options();
    // Someone stored an event under an id the simulator will use, with other content: the
    // batch holding the simulator's event is a conflict.
    let operator = Principal::new("otto", PrincipalKind::Person, Role::Operator, Scope::All);
    let squatter = Event {
        id: "sim-7-0000003".into(),
        time: options.start,
        source: None,
        kind: EventKind::EquipmentStateChanged {
            unit: catalog.plant().units[0].id.clone(),
            state: model::EquipmentState::Down,
            reason: Some("posted by hand".into()),
        },
    };
    app::events::ingest(&app, &operator, &[squatter])
        .await
        .unwrap();
    let plant = LivePlant::start(catalog.clone(), options.clone(), None).unwrap();
    let mut driver = LiveDriver::new(app.clone(), plant, options.start, config());
    for _ in 0..4 {
        driver.tick(Duration::from_secs(3)).await;
    }
    let status = driver.status().clone();
    assert_eq!(status.batches_rejected, 1, "{status:?}");
    assert_eq!(status.events_rejected, 1, "{status:?}");
    assert_eq!(status.plant_time, hours(options.start, 12.0));
    let mut reference = sim::Live::new(&catalog, &options, None).unwrap();
    let expected = reference.advance_to(hours(options.start, 12.0));
    assert_eq!(status.events_ingested as usize, expected.len() - 1);
    assert_eq!(stored(&app).await.len(), expected.len());
}

#[tokio::test]
async fn the_spawned_loop_follows_the_clock_and_stops() {
    let dir = TempDir::new("spawn");
    let (app, catalog) = app_with_plant(&dir).await;
    let options = options();
    let plant = LivePlant::start(catalog, options.clone(), None).unwrap();
    // Ten plant hours per wall second.
    let config = LiveConfig {
        speed: 36_000.0,
        tick: Duration::from_millis(50),
        ..LiveConfig::default()
    };
    let began = std::time::Instant::now();
    let handle = app::live_sim::spawn(LiveDriver::new(app.clone(), plant, options.start, config));
    let mut updates = handle.watch();
    updates
        .wait_for(|s| s.plant_time >= hours(options.start, 12.0))
        .await
        .unwrap();
    let status = handle.status();
    let wall = began.elapsed().as_secs_f64();
    let reached = (status.plant_time.0 - options.start.0) as f64 / 3_600_000.0;
    assert!(
        reached <= wall * 10.0 + 1e-6,
        "{reached} plant hours in {wall} s"
    );
    assert!(
        status.ticks >= 2 && status.events_ingested > 50,
        "{status:?}"
    );
    handle.stop().await;
    let count = stored(&app).await.len();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        stored(&app).await.len(),
        count,
        "the plant ran on after stop"
    );
}
