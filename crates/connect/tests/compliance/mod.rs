//! The connector compliance harness: every connector runs against the rules of
//! `docs/connectors.md` through the same scenarios, generic over a [`Peer`] the test controls.
//!
//! Adding a connector is one `impl Peer` (how to make its peer hold more records, repeat
//! some, hold one it cannot map, go down and come back, and how to build a source reading it)
//! and one `compliance_tests!(module, make_peer)` line: every scenario below then runs
//! against it.
//!
//! The scenarios: everything stored once with the cursor after it and the principal in the
//! audit trail; the runner killed mid-stream and started again from the store (nothing lost,
//! nothing twice); records served twice (stored once, counted as duplicates); a poison record
//! (dead-lettered with its reason, visible from the store, the records behind it stored); the
//! peer down and back (retrying with backoff and the last error shown, then everything
//! stored); a graceful stop. A peer that keeps the position itself (a broker) is acknowledged
//! only after the store, which the kill scenario puts to the test.

#![allow(dead_code)]

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use app::App;
use app::connectors::Health;
use connect::source::Source;
use connect::{Pacing, Runner, StopHandle, stop_pair};
use govern::{Principal, PrincipalKind, Role, Scope};
use model::{Plant, Timestamp};
use store::Actor;

/// The name every scenario's connector has.
pub const NAME: &str = "compliance";

/// A peer the harness controls.
pub trait Peer: Send + Sized + 'static {
    type Source: Source + 'static;
    /// A source reading this peer, named `name`, as the configuration would build it for
    /// `app` (a kind may map records against what the app's store knows).
    fn source(&self, name: &str, app: &App) -> Self::Source;
    /// The plant the peer's records refer to, and the start of its state.
    fn plant(&self) -> (Plant, Timestamp);
    /// Makes the peer hold `n` more mappable records; answers the ids of the events they map
    /// to (each exactly once in the log when the connector has caught up).
    fn produce(&mut self, n: usize) -> impl Future<Output = Vec<String>> + Send;
    /// Makes the peer serve records it served before again (a repeated page, a file written
    /// twice).
    fn repeat(&mut self) -> impl Future<Output = ()> + Send;
    /// Makes the peer hold one record that cannot be mapped.
    fn poison(&mut self) -> impl Future<Output = ()> + Send;
    /// Takes the peer down (polls fail as unavailable) or brings it back.
    fn down(&mut self) -> impl Future<Output = ()> + Send;
    fn up(&mut self) -> impl Future<Output = ()> + Send;
    /// Whether the peer can serve again what the connector already took, once the store has
    /// forgotten it (a log reset): a file, an OData feed or a JetStream stream can; an MQTT
    /// broker keeps no history past the session, so that part of a scenario does not apply.
    fn replays_after_reset(&self) -> bool {
        true
    }
}

/// The principal the scenarios' connector stores as.
pub fn principal() -> Principal {
    Principal::new(
        "connector-compliance",
        PrincipalKind::Service,
        Role::Operator,
        Scope::All,
    )
}

/// Fast pacing, so scenarios run in well under a second each.
pub fn pacing() -> Pacing {
    Pacing {
        poll_interval: Duration::from_millis(20),
        backoff_base: Duration::from_millis(10),
        backoff_cap: Duration::from_millis(80),
        max_retry_after: Duration::from_millis(200),
        seed: 7,
    }
}

/// A fresh store holding the peer's plant, and the use-cases over it.
pub async fn app_for<P: Peer>(peer: &P) -> App {
    let store = store::test_support::private_store().await.unwrap();
    let (plant, start) = peer.plant();
    store
        .put_plant_at(plant, Some(start), &Actor::system("compliance"))
        .await
        .unwrap();
    App::new(Arc::new(store))
}

/// A running connector: its stop handle and task.
pub struct Running {
    pub stop: StopHandle,
    pub task: tokio::task::JoinHandle<()>,
}

pub fn start<P: Peer>(app: &App, peer: &P) -> Running {
    let (stop, watch) = stop_pair();
    let runner = Runner {
        source: peer.source(NAME, app),
        app: app.clone(),
        principal: principal(),
        kind: "compliance".into(),
        pacing: pacing(),
    };
    Running {
        stop,
        task: tokio::spawn(runner.run(watch)),
    }
}

/// Waits (up to 20 s) until `ready` holds of the app, failing with `what` otherwise.
pub async fn until<F>(app: &App, what: &str, mut ready: impl FnMut(App) -> F)
where
    F: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !ready(app.clone()).await {
        if tokio::time::Instant::now() > deadline {
            let status = app.connectors.get(NAME);
            panic!("timed out waiting until {what}; connector: {status:#?}");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// How many of `ids` the log holds, and how many events it holds.
pub async fn stored(app: &App, ids: &[String]) -> (usize, u64) {
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let mut found = 0;
    for chunk in refs.chunks(500) {
        found += app.store.events_with_ids(chunk).await.unwrap().len();
    }
    (found, app.store.counts().await.unwrap().events)
}

async fn all_stored(app: &App, ids: &[String]) -> bool {
    stored(app, ids).await.0 == ids.len()
}

fn health(app: &App) -> Option<Health> {
    app.connectors.get(NAME).map(|s| s.state)
}

/// Everything the peer holds is stored once, as the connector's principal, with the cursor
/// stored after it and the connector healthy.
pub async fn stores_everything_once<P: Peer>(mut peer: P) {
    let ids = peer.produce(40).await;
    let app = app_for(&peer).await;
    let running = start(&app, &peer);
    until(&app, "every event is stored", |a| {
        let ids = &ids;
        async move { all_stored(&a, ids).await }
    })
    .await;
    until(&app, "the connector is ok", |a| {
        let ok = health(&a) == Some(Health::Ok);
        async move { ok }
    })
    .await;
    assert_eq!(stored(&app, &ids).await, (ids.len(), ids.len() as u64));
    let cursor = app.store.connector_cursor(NAME).await.unwrap();
    assert!(
        cursor.and_then(|c| c.cursor).is_some(),
        "no cursor was stored"
    );
    // The counters follow the store's commit (the runner counts a batch once it is stored).
    let wanted = ids.len() as u64;
    until(&app, "the counters show every event stored", |a| {
        let counted = a.connectors.get(NAME).map(|s| s.counters.events_stored);
        async move { counted == Some(wanted) }
    })
    .await;
    let status = app.connectors.get(NAME).unwrap();
    assert!(status.counters.newest_event_time.is_some());
    let audit = app.store.audit_log(0, 1000).await.unwrap();
    let appends: Vec<_> = audit
        .iter()
        .filter(|r| r.action == "events.append")
        .collect();
    assert!(!appends.is_empty());
    for record in appends {
        assert_eq!(
            record.actor.id,
            principal().id,
            "stored under another actor"
        );
        assert_eq!(record.detail["connector"]["name"], NAME);
    }
    assert!(app.store.verify_audit().await.unwrap().is_intact());
    running.stop.stop();
    running.task.await.unwrap();
}

/// A runner killed at any point (its task aborted mid-stream, its store handle dropped as a
/// killed process's would be) and started again over the same database file stores every
/// event exactly once.
pub async fn resumes_after_a_kill<P: Peer>(mut peer: P) {
    let ids = peer.produce(300).await;
    let dir = std::env::temp_dir().join(format!(
        "mixplane-compliance-kill-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    let path = dir.join("store.sqlite");
    let open = || async {
        App::new(Arc::new(
            store::test_support::store_at(&path).await.unwrap(),
        ))
    };
    {
        let (plant, start) = peer.plant();
        let app = open().await;
        app.store
            .put_plant_at(plant, Some(start), &Actor::system("compliance"))
            .await
            .unwrap();
    }
    for round in 0..3 {
        let app = open().await;
        let running = start(&app, &peer);
        let target = ids.len() * (round + 1) / 4;
        until(&app, "part of the stream is stored", |a| {
            let ids = &ids;
            async move { stored(&a, ids).await.0 >= target }
        })
        .await;
        running.task.abort();
        let _ = running.task.await;
    }
    let app = open().await;
    let running = start(&app, &peer);
    until(&app, "every event is stored", |a| {
        let ids = &ids;
        async move { all_stored(&a, ids).await }
    })
    .await;
    assert_eq!(stored(&app, &ids).await, (ids.len(), ids.len() as u64));
    assert!(app.store.verify_audit().await.unwrap().is_intact());
    running.stop.stop();
    running.task.await.unwrap();
    drop(app);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Records served again are stored once and counted as duplicates.
pub async fn duplicates_are_stored_once<P: Peer>(mut peer: P) {
    let first = peer.produce(30).await;
    let app = app_for(&peer).await;
    let running = start(&app, &peer);
    until(&app, "the first records are stored", |a| {
        let ids = &first;
        async move { all_stored(&a, ids).await }
    })
    .await;
    peer.repeat().await;
    let second = peer.produce(10).await;
    until(&app, "the later records are stored", |a| {
        let ids = &second;
        async move { all_stored(&a, ids).await }
    })
    .await;
    until(&app, "the repeats are counted", |a| {
        let n = a.connectors.get(NAME).map_or(0, |s| s.counters.duplicates);
        async move { n > 0 }
    })
    .await;
    let all: Vec<String> = first.iter().chain(&second).cloned().collect();
    assert_eq!(stored(&app, &all).await, (all.len(), all.len() as u64));
    running.stop.stop();
    running.task.await.unwrap();
}

/// A record that cannot be mapped is dead-lettered with its reason and raw record, once, and
/// the records behind it are stored.
pub async fn a_poison_record_is_dead_lettered<P: Peer>(mut peer: P) {
    let before = peer.produce(10).await;
    peer.poison().await;
    let after = peer.produce(10).await;
    let app = app_for(&peer).await;
    let running = start(&app, &peer);
    let all: Vec<String> = before.iter().chain(&after).cloned().collect();
    until(&app, "the records around the poison are stored", |a| {
        let ids = &all;
        async move { all_stored(&a, ids).await }
    })
    .await;
    let letters = app.store.dead_letters(NAME, 0, 100).await.unwrap();
    assert_eq!(letters.len(), 1, "{letters:#?}");
    assert!(!letters[0].reason.is_empty());
    assert!(!letters[0].source_id.is_empty());
    until(&app, "the counters show the dead letter", |a| {
        let counted = a.connectors.get(NAME).map(|s| s.counters.dead_letters);
        async move { counted == Some(1) }
    })
    .await;
    running.stop.stop();
    running.task.await.unwrap();
    if !peer.replays_after_reset() {
        return;
    }

    // The log reset (which forgets connectors' cursors), the peer is read again from its
    // start: everything is stored again, and the poison is not kept twice.
    app.store.reset(&Actor::system("compliance")).await.unwrap();
    assert_eq!(app.store.connector_cursor(NAME).await.unwrap(), None);
    let running = start(&app, &peer);
    until(&app, "the records are stored again", |a| {
        let ids = &all;
        async move { all_stored(&a, ids).await }
    })
    .await;
    running.stop.stop();
    running.task.await.unwrap();
    assert_eq!(app.store.dead_letters(NAME, 0, 100).await.unwrap().len(), 1);
    assert_eq!(
        app.store.dead_letter_counts().await.unwrap(),
        [(NAME.to_owned(), 1)]
    );
}

/// A peer that is down is retried with backoff, the connector shows `retrying` with the last
/// error; back up, everything is stored and the connector is `ok`.
pub async fn survives_the_peer_down_and_back<P: Peer>(mut peer: P) {
    let first = peer.produce(10).await;
    peer.down().await;
    let app = app_for(&peer).await;
    let running = start(&app, &peer);
    until(&app, "the connector retries", |a| {
        let status = a.connectors.get(NAME);
        async move {
            status.is_some_and(|s| {
                s.state == Health::Retrying
                    && s.counters.retries >= 3
                    && s.counters.last_error.is_some()
                    && s.counters.last_error_at.is_some()
            })
        }
    })
    .await;
    assert_eq!(stored(&app, &first).await.0, 0);
    peer.up().await;
    let second = peer.produce(10).await;
    let all: Vec<String> = first.iter().chain(&second).cloned().collect();
    until(&app, "everything is stored", |a| {
        let ids = &all;
        async move { all_stored(&a, ids).await }
    })
    .await;
    until(&app, "the connector is ok", |a| {
        let ok = health(&a) == Some(Health::Ok);
        async move { ok }
    })
    .await;
    running.stop.stop();
    running.task.await.unwrap();
}

/// A stop ends the runner promptly, between stores, and shows it `stopped`.
pub async fn stops_gracefully<P: Peer>(mut peer: P) {
    let ids = peer.produce(5).await;
    let app = app_for(&peer).await;
    let running = start(&app, &peer);
    until(&app, "the events are stored", |a| {
        let ids = &ids;
        async move { all_stored(&a, ids).await }
    })
    .await;
    running.stop.stop();
    tokio::time::timeout(Duration::from_secs(5), running.task)
        .await
        .expect("the runner stops within 5 s")
        .unwrap();
    assert_eq!(health(&app), Some(Health::Stopped));
}

/// Records the peer takes while the connector is stopped (a broker's session or stream holding
/// them) are stored when it starts again; a stream of equipment states and quality results
/// lands as those two kinds of event. Answers the app and the stored cursor, for the kind's
/// own assertions on it.
pub async fn holds_states_and_results_while_stopped<P: Peer>(mut peer: P) -> (App, Option<String>) {
    let app = app_for(&peer).await;
    let running = start(&app, &peer);
    let mut ids = peer.produce(10).await;
    until(&app, "the first records are stored", |a| {
        let ids = &ids;
        async move { all_stored(&a, ids).await }
    })
    .await;
    running.stop.stop();
    running.task.await.unwrap();

    ids.extend(peer.produce(10).await);
    let running = start(&app, &peer);
    until(&app, "what the peer took meanwhile is stored", |a| {
        let ids = &ids;
        async move { all_stored(&a, ids).await }
    })
    .await;
    running.stop.stop();
    running.task.await.unwrap();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let events = app.store.events_with_ids(&refs).await.unwrap();
    assert_eq!(events.len(), 20);
    let kinds: std::collections::BTreeSet<&str> = events
        .iter()
        .map(|e| match e.event.kind {
            model::EventKind::EquipmentStateChanged { .. } => "equipment_state_changed",
            model::EventKind::QualityResultRecorded { .. } => "quality_result_recorded",
            _ => "other",
        })
        .collect();
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        ["equipment_state_changed", "quality_result_recorded"]
    );
    let cursor = app
        .store
        .connector_cursor(NAME)
        .await
        .unwrap()
        .and_then(|c| c.cursor);
    (app, cursor)
}

/// One `#[tokio::test]` per scenario for a peer made by `$make` (an async expression); with
/// `optional`, `$make` gives an `Option` and a test without a peer passes having said why (a
/// peer this machine may not run, such as a broker).
#[macro_export]
macro_rules! compliance_tests {
    ($module:ident, optional $make:expr) => {
        mod $module {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn stores_everything_once() {
                let Some(peer) = $make else { return };
                compliance::stores_everything_once(peer).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn resumes_after_a_kill() {
                let Some(peer) = $make else { return };
                compliance::resumes_after_a_kill(peer).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn duplicates_are_stored_once() {
                let Some(peer) = $make else { return };
                compliance::duplicates_are_stored_once(peer).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_poison_record_is_dead_lettered() {
                let Some(peer) = $make else { return };
                compliance::a_poison_record_is_dead_lettered(peer).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn survives_the_peer_down_and_back() {
                let Some(peer) = $make else { return };
                compliance::survives_the_peer_down_and_back(peer).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn stops_gracefully() {
                let Some(peer) = $make else { return };
                compliance::stops_gracefully(peer).await;
            }
        }
    };
    ($module:ident, $make:expr) => {
        mod $module {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn stores_everything_once() {
                compliance::stores_everything_once($make).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn resumes_after_a_kill() {
                compliance::resumes_after_a_kill($make).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn duplicates_are_stored_once() {
                compliance::duplicates_are_stored_once($make).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_poison_record_is_dead_lettered() {
                compliance::a_poison_record_is_dead_lettered($make).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn survives_the_peer_down_and_back() {
                compliance::survives_the_peer_down_and_back($make).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn stops_gracefully() {
                compliance::stops_gracefully($make).await;
            }
        }
    };
}
