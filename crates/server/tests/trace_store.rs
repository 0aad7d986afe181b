//! Genealogy documents through the store at the sizes the batched statements split: a
//! document of thousands of events stored whole (its rows many to a statement), again as a
//! duplicate, a conflict late in a large document that stores nothing, and the index loaded
//! from the store (bodies joined by SQLite, lowered straight from their text) exactly equal to
//! the one built from the decoded events.

use std::sync::Arc;

use model::Timestamp;
use store::{Actor, Store, StoreError, TraceDocument, TraceEventRow};
use trace::epcis::{Action, EpcisEvent, EventType};

fn events(from: usize, n: usize) -> Vec<EpcisEvent> {
    (from..from + n)
        .map(|i| {
            let mut e = EpcisEvent::new(
                EventType::AggregationEvent,
                format!("urn:uuid:store-test-{i}"),
                Timestamp(1_772_409_600_000 + i as i64 * 1_000),
            );
            e.action = Some(Action::Add);
            e.biz_step = Some("packing".into());
            e.parent_id = Some(format!("urn:epc:id:sscc:4012345.{:010}", i / 10));
            e.child_epcs = vec![format!("urn:epc:id:sgtin:4012345.011111.{i}")];
            e
        })
        .collect()
}

fn document(events: &[EpcisEvent]) -> String {
    trace::epcis::json::document(events, &Default::default(), Timestamp(0)).to_string()
}

async fn store() -> (Arc<Store>, Actor) {
    let store = Arc::new(
        store::test_support::private_store()
            .await
            .expect("in-memory store"),
    );
    (store, Actor::system("test"))
}

/// Today's load: every stored row decoded into the event model, then assembled.
async fn decoded_index(store: &Store) -> trace::Index {
    let rows = store.all_trace_events().await.unwrap();
    let events = trace::persist::decode_events(rows.iter().map(|r| r.body.as_str())).unwrap();
    let genealogy = store.trace_genealogy().await.unwrap();
    trace::persist::assemble(
        &store.material_events().await.unwrap(),
        store.plant().await.as_deref(),
        &events,
        genealogy.iter().map(String::as_str),
    )
    .unwrap()
}

async fn stored_bodies(store: &Store) -> Vec<String> {
    let bodies = store.trace_event_bodies().await.unwrap();
    bodies.iter().map(str::to_owned).collect()
}

#[tokio::test]
async fn large_documents_store_whole_once_and_load_the_same_index() {
    let (store, actor) = store().await;
    let import = |text: String, name: &'static str| {
        let store = store.clone();
        let actor = actor.clone();
        async move { app::trace::import_text(&store, name, &text, &actor, Timestamp(0)).await }
    };
    let first = import(document(&events(0, 2_600)), "first").await.unwrap();
    assert_eq!((first.inserted, first.duplicates), (2_600, 0));
    // The same document again: nothing written.
    let again = import(document(&events(0, 2_600)), "again").await.unwrap();
    assert!(again.duplicate_document);
    assert_eq!((again.inserted, again.duplicates), (0, 2_600));
    // Another document overlapping the first: the overlap is found across lookup batches.
    let overlap = import(document(&events(1_200, 3_000)), "overlap")
        .await
        .unwrap();
    assert_eq!((overlap.inserted, overlap.duplicates), (1_600, 1_400));
    let stored = stored_bodies(&store).await;
    assert_eq!(stored.len(), 4_200);
    let rows = store.all_trace_events().await.unwrap();
    assert_eq!(
        stored,
        rows.iter().map(|r| r.body.clone()).collect::<Vec<_>>()
    );
    let loaded = app::trace::load_index(&store).await.unwrap();
    assert!(loaded == decoded_index(&store).await, "the indexes differ");
    assert_eq!(loaded.edge_count(), 4_200);

    // A conflict late in a large document: an event stored before, with other content.
    let mut late = events(4_200, 2_000);
    let mut changed = events(1_500, 1).remove(0);
    changed.biz_step = Some("shipping".into());
    late.insert(1_700, changed);
    let error = import(document(&late), "late").await.unwrap_err();
    match error {
        app::AppError::Store(StoreError::Conflict { index, id, .. }) => {
            assert_eq!(index, 1_700);
            assert_eq!(id, "urn:uuid:store-test-1500");
        }
        other => panic!("{other}"),
    }
    // Nothing of it was stored.
    assert_eq!(stored_bodies(&store).await.len(), 4_200);
    assert!(app::trace::load_index(&store).await.unwrap() == loaded);

    // Two events with one key in one document, with other content: the later one is named.
    let mut twice = events(9_000, 1_500);
    let mut other = twice[3].clone();
    other.biz_step = Some("shipping".into());
    twice.push(other);
    match import(document(&twice), "twice").await.unwrap_err() {
        app::AppError::Store(StoreError::Conflict { index, .. }) => {
            assert_eq!(index, 1_500)
        }
        other => panic!("{other}"),
    }
    assert_eq!(stored_bodies(&store).await.len(), 4_200);
}

#[tokio::test]
async fn bodies_holding_the_separator_are_read_a_row_at_a_time() {
    let (store, actor) = store().await;
    app::trace::import_text(
        &store,
        "plain",
        &document(&events(0, 700)),
        &actor,
        Timestamp(0),
    )
    .await
    .unwrap();
    // The store keeps bodies as given: one holding SQLite's join separator.
    let odd = "{\"odd\":\"a\u{1e}b\"}".to_owned();
    let row = TraceEventRow {
        key: "odd".into(),
        event_id: "odd".into(),
        event_type: "ObjectEvent".into(),
        event_time: 0,
        body: odd.clone(),
    };
    store
        .import_trace_document(
            TraceDocument {
                format: "epcis".into(),
                name: "odd".into(),
                sha256: "odd".into(),
                events: vec![row],
                genealogy: None,
            },
            &actor,
        )
        .await
        .unwrap();
    let stored = stored_bodies(&store).await;
    let rows = store.all_trace_events().await.unwrap();
    assert_eq!(stored.len(), 701);
    assert_eq!(stored.last(), Some(&odd));
    assert_eq!(
        stored,
        rows.iter().map(|r| r.body.clone()).collect::<Vec<_>>()
    );
    // It does not decode, on either load, with the same error.
    let load = app::trace::load_index(&store).await.unwrap_err();
    let bodies: Vec<&str> = stored.iter().map(String::as_str).collect();
    let expected = trace::persist::decode_events(bodies).unwrap_err();
    assert_eq!(load.to_string(), expected);
}
