//! The runner's handling of what a peer answers, with a scripted peer: a `Retry-After` is
//! waited out (not the shorter backoff), refused credentials mark the connector `failed` with
//! the message until the peer accepts again, and a principal whose role may not write events
//! stores nothing and shows why.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use app::App;
use app::connectors::Health;
use connect::source::{Batch, PeerError, Record, Source};
use connect::{Pacing, Runner, stop_pair};
use govern::{Principal, PrincipalKind, Role, Scope};
use model::Event;
use store::Actor;

/// Answers from a script, one a poll, then empty batches; records when each poll came.
struct Scripted {
    script: VecDeque<Result<Batch, PeerError>>,
    polls: Arc<Mutex<Vec<Instant>>>,
}

impl Source for Scripted {
    fn name(&self) -> &str {
        "scripted"
    }

    async fn poll(&mut self, _cursor: Option<&str>) -> Result<Batch, PeerError> {
        self.polls.lock().unwrap().push(Instant::now());
        self.script
            .pop_front()
            .unwrap_or_else(|| Ok(Batch::default()))
    }

    async fn check(&mut self) -> Result<(), PeerError> {
        Ok(())
    }
}

fn events() -> (Vec<Event>, model::Timestamp) {
    let options = sim::SimOptions {
        days: 0.5,
        ..sim::SimOptions::default()
    };
    let out = sim::simulate(&sim::reference_catalog(), &options, None, |_| {}).unwrap();
    (out.events, options.start)
}

async fn app(start: model::Timestamp) -> App {
    let store = store::test_support::private_store().await.unwrap();
    store
        .put_plant_at(sim::reference_plant(), Some(start), &Actor::system("t"))
        .await
        .unwrap();
    App::new(Arc::new(store))
}

fn batch(events: &[Event], cursor: &str) -> Batch {
    Batch {
        records: events
            .iter()
            .map(|e| Record {
                source_id: e.id.to_string(),
                mapped: Ok(vec![e.clone()]),
                raw: serde_json::Value::Null,
            })
            .collect(),
        cursor: Some(cursor.into()),
        more: false,
    }
}

fn operator() -> Principal {
    Principal::new(
        "connector-t",
        PrincipalKind::Service,
        Role::Operator,
        Scope::All,
    )
}

fn pacing() -> Pacing {
    Pacing {
        poll_interval: Duration::from_millis(10),
        backoff_base: Duration::from_millis(5),
        backoff_cap: Duration::from_millis(40),
        max_retry_after: Duration::from_secs(5),
        seed: 1,
    }
}

async fn until(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_waited_out_and_refused_credentials_fail_until_accepted() {
    let (events, start) = events();
    let app = app(start).await;
    let polls = Arc::new(Mutex::new(Vec::new()));
    let script = VecDeque::from([
        Err(PeerError::Unavailable {
            message: "429".into(),
            retry_after: Some(Duration::from_millis(400)),
        }),
        Ok(batch(&events[..5], "5")),
        Err(PeerError::Unauthorized("the token was refused".into())),
        Err(PeerError::Unauthorized("the token was refused".into())),
        Ok(batch(&events[5..8], "8")),
    ]);
    let (stop, watch) = stop_pair();
    let runner = Runner {
        source: Scripted {
            script,
            polls: polls.clone(),
        },
        app: app.clone(),
        principal: operator(),
        kind: "scripted".into(),
        pacing: pacing(),
    };
    let task = tokio::spawn(runner.run(watch));
    until("the connector fails", || {
        app.connectors
            .get("scripted")
            .is_some_and(|s| s.state == Health::Failed)
    })
    .await;
    let status = app.connectors.get("scripted").unwrap();
    assert_eq!(
        status.counters.last_error.as_deref(),
        Some("the peer refused our credentials: the token was refused")
    );
    until("the connector recovers", || {
        app.connectors
            .get("scripted")
            .is_some_and(|s| s.state == Health::Ok && s.counters.events_stored == 8)
    })
    .await;
    stop.stop();
    task.await.unwrap();
    let polls = polls.lock().unwrap().clone();
    assert!(
        polls[1] - polls[0] >= Duration::from_millis(400),
        "polled again after {:?}, before the peer's Retry-After",
        polls[1] - polls[0]
    );
    let status = app.connectors.get("scripted").unwrap();
    assert_eq!(status.state, Health::Stopped);
    assert_eq!(status.counters.retries, 3);
    assert_eq!(
        app.store
            .connector_cursor("scripted")
            .await
            .unwrap()
            .unwrap()
            .cursor
            .as_deref(),
        Some("8")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_principal_that_may_not_write_events_stores_nothing_and_shows_why() {
    let (events, start) = events();
    let app = app(start).await;
    let (stop, watch) = stop_pair();
    let runner = Runner {
        source: Scripted {
            script: VecDeque::from([Ok(batch(&events[..5], "5"))]),
            polls: Arc::default(),
        },
        app: app.clone(),
        principal: Principal::new("viewer-c", PrincipalKind::Service, Role::Viewer, Scope::All),
        kind: "scripted".into(),
        pacing: pacing(),
    };
    let task = tokio::spawn(runner.run(watch));
    until("the connector fails", || {
        app.connectors
            .get("scripted")
            .is_some_and(|s| s.state == Health::Failed)
    })
    .await;
    let error = app
        .connectors
        .get("scripted")
        .unwrap()
        .counters
        .last_error
        .unwrap();
    assert!(error.contains("does not grant"), "{error}");
    assert_eq!(app.store.counts().await.unwrap().events, 0);
    assert_eq!(app.store.connector_cursor("scripted").await.unwrap(), None);
    stop.stop();
    task.await.unwrap();
}
