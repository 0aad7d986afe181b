//! A caller may stop waiting for a write at any await point (an HTTP client goes away, a
//! deadline passes, a task is aborted): the write then either happens whole or not at all,
//! and the store goes on accepting writes.

mod common;

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Waker};

use common::{Gen, T0, plant};
use model::Timestamp;
use store::{Actor, ConnectorBatch, Store};

fn actor() -> Actor {
    Actor::service("test")
}

/// Polls `future` `polls` times (each poll lets it advance to its next await), then drops
/// it; true when it finished within those polls.
async fn poll_then_drop<F: Future>(future: F, polls: usize) -> bool {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    for _ in 0..polls {
        if future.as_mut().poll(&mut context).is_ready() {
            return true;
        }
        // Let the store's own tasks and the database worker make progress in between.
        tokio::task::yield_now().await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_append_dropped_at_any_await_leaves_the_store_writable() {
    let dir = common::TempDir::new("cancel-append");
    let url = store::test_support::url_at(&dir.path().join("mixplane.db"));
    let store = Store::open(&url).await.unwrap();
    store
        .put_plant_at(plant(), Some(Timestamp(T0)), &actor())
        .await
        .unwrap();
    let mut events = Gen::new(7, "e");
    let mut expected = 0u64;
    for polls in 0..60 {
        let batch = events.take(20);
        let dropped = poll_then_drop(store.append(&batch, &actor()), polls).await;
        // Whatever became of the dropped batch, storing it again completes it: it is there
        // whole afterwards, never half.
        let again = store.append(&batch, &actor()).await.unwrap_or_else(|e| {
            panic!("an append after one dropped at poll {polls} (finished: {dropped}): {e}")
        });
        assert_eq!(again.inserted + again.duplicates, 20, "poll {polls}");
        expected += 20;
        assert_eq!(
            store.counts().await.unwrap().events,
            expected,
            "poll {polls}"
        );
    }
    store.verify_audit().await.unwrap();
    drop(store);
    let reopened = Store::open(&url).await.unwrap();
    assert_eq!(reopened.counts().await.unwrap().events, expected);
    reopened.verify_audit().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connector_batch_dropped_at_any_await_leaves_the_store_writable() {
    let dir = common::TempDir::new("cancel-connector");
    let url = store::test_support::url_at(&dir.path().join("mixplane.db"));
    let store = Store::open(&url).await.unwrap();
    store
        .put_plant_at(plant(), Some(Timestamp(T0)), &actor())
        .await
        .unwrap();
    let mut events = Gen::new(8, "c");
    let actor = actor();
    for polls in 0..40 {
        let batch = events.take(10);
        let cursor = format!("offset-{polls}");
        let write = |cursor: String| {
            store.append_from_connector(
                &batch,
                &actor,
                ConnectorBatch {
                    connector: "feed".into(),
                    cursor: Some(cursor),
                    dead_letters: Vec::new(),
                },
            )
        };
        poll_then_drop(write(cursor.clone()), polls).await;
        write(cursor.clone())
            .await
            .unwrap_or_else(|e| panic!("a connector batch after one dropped at poll {polls}: {e}"));
        let stored = store.connector_cursor("feed").await.unwrap().unwrap();
        assert_eq!(
            stored.cursor.as_deref(),
            Some(cursor.as_str()),
            "poll {polls}"
        );
    }
    store.verify_audit().await.unwrap();
}
