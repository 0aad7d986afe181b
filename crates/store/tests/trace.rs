//! Trace documents: stored whole with one audit record, idempotent by document and by event
//! key, a conflicting event rejects the whole document and leaves nothing behind.

use store::{Actor, TraceDocument, TraceEventRow};

fn row(key: &str, body: &str) -> TraceEventRow {
    TraceEventRow {
        key: key.into(),
        event_id: key.trim_end_matches("#error").into(),
        event_type: "ObjectEvent".into(),
        event_time: 1_000,
        body: body.into(),
    }
}

fn doc(sha: &str, events: Vec<TraceEventRow>) -> TraceDocument {
    TraceDocument {
        format: "epcis".into(),
        name: "test".into(),
        sha256: sha.into(),
        events,
        genealogy: None,
    }
}

#[tokio::test]
async fn documents_are_atomic_idempotent_and_audited() {
    let store = store::test_support::private_store().await.unwrap();
    let actor = Actor::person("qa");
    let first = store
        .import_trace_document(
            doc("a", vec![row("e1", "{\"x\":1}"), row("e2", "{\"x\":2}")]),
            &actor,
        )
        .await
        .unwrap();
    assert_eq!((first.inserted, first.duplicates), (2, 0));
    // Same document again: a duplicate, nothing written.
    let again = store
        .import_trace_document(
            doc("a", vec![row("e1", "{\"x\":1}"), row("e2", "{\"x\":2}")]),
            &actor,
        )
        .await
        .unwrap();
    assert!(again.duplicate_document);
    // Another document sharing one identical event and one declaration of error.
    let second = store
        .import_trace_document(
            doc(
                "b",
                vec![
                    row("e2", "{\"x\":2}"),
                    row("e1#error", "{\"x\":1,\"err\":1}"),
                ],
            ),
            &actor,
        )
        .await
        .unwrap();
    assert_eq!((second.inserted, second.duplicates), (1, 1));
    // A conflicting event rejects the whole document, naming its index and id.
    let error = store
        .import_trace_document(
            doc("c", vec![row("e3", "{}"), row("e2", "{\"x\":99}")]),
            &actor,
        )
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(text.contains("event 1") && text.contains("`e2`"), "{text}");
    let stored = store.all_trace_events().await.unwrap();
    assert_eq!(stored.len(), 3, "nothing of the rejected document stayed");
    assert!(stored.iter().all(|e| e.body != "{}"));
    // B2MML-style genealogy bodies.
    let mut b2mml = doc("d", vec![]);
    b2mml.format = "b2mml".into();
    b2mml.genealogy = Some("{\"edges\":[],\"observations\":[]}".into());
    store.import_trace_document(b2mml, &actor).await.unwrap();
    assert_eq!(store.trace_genealogy().await.unwrap().len(), 1);
    let audit = store.verify_audit().await.unwrap();
    assert!(audit.first_bad.is_none());
    let log = store.audit_log(0, 100).await.unwrap();
    assert_eq!(log.iter().filter(|r| r.action == "trace.import").count(), 3);
}
