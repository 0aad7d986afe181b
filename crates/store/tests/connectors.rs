//! A connector's batch: its events, dead letters and cursor are one audited write; a batch
//! that stored no event still keeps its cursor and letters (`connector.batch`); nothing new
//! writes nothing; a dead letter is kept once per source id; a reset forgets the cursors and
//! keeps the letters; two handles on one file see each other's cursors.

mod common;

use common::{Gen, T0, TempDir, plant};
use model::Timestamp;
use serde_json::json;
use store::{Actor, ConnectorBatch, NewDeadLetter, Store};

fn letter(id: &str) -> NewDeadLetter {
    NewDeadLetter {
        source_id: id.into(),
        reason: format!("{id} does not map"),
        raw: json!({"record": id}),
    }
}

fn batch(cursor: Option<&str>, letters: &[&str]) -> ConnectorBatch {
    ConnectorBatch {
        connector: "line".into(),
        cursor: cursor.map(str::to_owned),
        dead_letters: letters.iter().map(|id| letter(id)).collect(),
    }
}

async fn store_with_plant() -> Store {
    let store = store::test_support::private_store().await.unwrap();
    store
        .put_plant_at(plant(), Some(Timestamp(T0)), &Actor::system("test"))
        .await
        .unwrap();
    store
}

#[tokio::test]
async fn events_letters_and_cursor_are_one_audited_write() {
    let store = store_with_plant().await;
    let actor = Actor::service("connector-line");
    let events = Gen::new(1, "c").take(20);
    let outcome = store
        .append_from_connector(&events, &actor, batch(Some("20"), &["r-3", "r-7"]))
        .await
        .unwrap();
    assert_eq!(outcome.append.inserted, 20);
    assert_eq!(outcome.dead_letters, 2);
    let cursor = store.connector_cursor("line").await.unwrap().unwrap();
    assert_eq!(cursor.cursor.as_deref(), Some("20"));
    let newest = events.iter().map(|e| e.time).max();
    assert_eq!(cursor.last_event_time, newest);
    let audit = store.audit_log(0, 100).await.unwrap();
    let last = audit.last().unwrap();
    assert_eq!(last.action, "events.append");
    assert_eq!(last.actor.id, "connector-line");
    assert_eq!(last.detail["connector"]["cursor"], "20");
    assert_eq!(
        last.detail["connector"]["dead_letters"][1]["source_id"],
        "r-7"
    );

    // The same batch again (a replay): no event stored, no letter kept twice; the cursor it
    // names is written with an audit record of its own (the runner names a cursor only when
    // it moved).
    let heads = store.audit_log(0, 1000).await.unwrap().len();
    let again = store
        .append_from_connector(&events, &actor, batch(Some("20"), &["r-3", "r-7"]))
        .await
        .unwrap();
    assert_eq!(again.append.inserted, 0);
    assert_eq!(again.append.duplicates, 20);
    assert_eq!(again.dead_letters, 0);
    let audit = store.audit_log(0, 1000).await.unwrap();
    assert_eq!(audit.len(), heads + 1);
    assert_eq!(audit.last().unwrap().action, "connector.batch");
    assert_eq!(store.dead_letters("line", 0, 100).await.unwrap().len(), 2);

    // Nothing read, no cursor: nothing written at all.
    store
        .append_from_connector(&[], &actor, batch(None, &[]))
        .await
        .unwrap();
    assert_eq!(store.audit_log(0, 1000).await.unwrap().len(), heads + 1);

    // Only a letter: kept with the cursor, under `connector.batch`.
    let only = store
        .append_from_connector(&[], &actor, batch(Some("21"), &["r-21"]))
        .await
        .unwrap();
    assert_eq!(only.dead_letters, 1);
    let letters = store.dead_letters("line", 0, 100).await.unwrap();
    assert_eq!(
        letters
            .iter()
            .map(|l| l.source_id.as_str())
            .collect::<Vec<_>>(),
        ["r-3", "r-7", "r-21"]
    );
    assert_eq!(letters[2].raw, json!({"record": "r-21"}));
    assert_eq!(letters[2].reason, "r-21 does not map");
    let after_first = store.dead_letters("line", letters[0].seq, 1).await.unwrap();
    assert_eq!(after_first.len(), 1);
    assert_eq!(after_first[0].source_id, "r-7");
    assert_eq!(
        store.dead_letter_counts().await.unwrap(),
        [("line".to_owned(), 3)]
    );
    assert_eq!(
        store
            .connector_cursor("line")
            .await
            .unwrap()
            .unwrap()
            .cursor
            .as_deref(),
        Some("21")
    );
    assert!(store.verify_audit().await.unwrap().is_intact());
}

#[tokio::test]
async fn a_refused_batch_stores_neither_events_nor_cursor_nor_letters() {
    let store = store_with_plant().await;
    let actor = Actor::service("connector-line");
    let mut events = Gen::new(2, "r").take(5);
    events[3].id = events[1].id.clone();
    events[3].time = Timestamp(events[3].time.0 + 1);
    let error = store
        .append_from_connector(&events, &actor, batch(Some("5"), &["x"]))
        .await
        .unwrap_err();
    assert!(
        matches!(error, store::StoreError::Conflict { index: 3, .. }),
        "{error}"
    );
    assert_eq!(store.connector_cursor("line").await.unwrap(), None);
    assert!(store.dead_letters("line", 0, 10).await.unwrap().is_empty());
    assert_eq!(store.counts().await.unwrap().events, 0);
}

#[tokio::test]
async fn a_reset_forgets_cursors_and_keeps_letters_and_other_handles_see_them() {
    let dir = TempDir::new("connectors");
    let path = dir.path().join("store.sqlite");
    let store = store::test_support::store_at(&path).await.unwrap();
    store
        .put_plant_at(plant(), Some(Timestamp(T0)), &Actor::system("test"))
        .await
        .unwrap();
    let actor = Actor::service("connector-line");
    store
        .append_from_connector(
            &Gen::new(3, "s").take(4),
            &actor,
            batch(Some("4"), &["bad"]),
        )
        .await
        .unwrap();
    let other = store::test_support::store_at(&path).await.unwrap();
    assert_eq!(
        other
            .connector_cursor("line")
            .await
            .unwrap()
            .unwrap()
            .cursor
            .as_deref(),
        Some("4")
    );
    other.reset(&Actor::system("test")).await.unwrap();
    assert_eq!(store.connector_cursor("line").await.unwrap(), None);
    assert_eq!(store.connector_cursors().await.unwrap(), []);
    assert_eq!(store.dead_letters("line", 0, 10).await.unwrap().len(), 1);
}
