//! `Store::copy_store`: a whole store copied to another database (SQLite to SQLite always;
//! SQLite to PostgreSQL and back when `MIXPLANE_TEST_POSTGRES` names one) arrives with the
//! same log, state, audit chain (same head), principals, connectors' cursors and letters and
//! snapshots; a copy into a store that holds anything is refused before anything is written;
//! a copy's generated keys go on after the copied ones.

mod common;

use common::{Gen, T0, TempDir, plant};
use govern::{PrincipalKind, Role, Scope};
use model::Timestamp;
use serde_json::json;
use store::{
    Actor, ConnectorBatch, GovernanceWrite, NewDeadLetter, Store, StoreError, TokenHashing,
};

/// A store with a plant, events (some by a connector, with a dead letter), a principal and a
/// snapshot.
async fn filled(url: &str) -> Store {
    let store = Store::open(url).await.unwrap();
    let actor = Actor::system("test");
    store
        .put_plant_at(plant(), Some(Timestamp(T0)), &actor)
        .await
        .unwrap();
    let mut generator = Gen::new(7, "copy");
    store.append(&generator.take(300), &actor).await.unwrap();
    store
        .append_from_connector(
            &generator.take(40),
            &Actor::service("connector-line"),
            ConnectorBatch {
                connector: "line".into(),
                cursor: Some("40".into()),
                dead_letters: vec![NewDeadLetter {
                    source_id: "r-1".into(),
                    reason: "does not map".into(),
                    raw: json!({"record": 1}),
                }],
            },
        )
        .await
        .unwrap();
    store
        .create_token(
            "ops",
            PrincipalKind::Person,
            Role::Planner,
            Scope::All,
            TokenHashing::Standard,
            GovernanceWrite::by(actor.clone(), None),
        )
        .await
        .unwrap();
    store.write_snapshot().await.unwrap();
    store.append(&generator.take(25), &actor).await.unwrap();
    store
}

async fn assert_same(source: &Store, copy: &Store, what: &str) {
    let (a, b) = (source.counts().await.unwrap(), copy.counts().await.unwrap());
    assert_eq!(a.events, b.events, "{what}: events");
    let (a_audit, b_audit) = (
        source.verify_audit().await.unwrap(),
        copy.verify_audit().await.unwrap(),
    );
    assert!(b_audit.is_intact(), "{what}: {b_audit:?}");
    assert_eq!(a_audit.head_hash, b_audit.head_hash, "{what}: audit head");
    assert_eq!(a_audit.records, b_audit.records, "{what}: audit records");
    common::assert_same_state(&*source.state().await, &*copy.state().await, what);
    assert_eq!(
        source.principals().await.unwrap(),
        copy.principals().await.unwrap(),
        "{what}: principals"
    );
    assert_eq!(
        source.connector_cursors().await.unwrap(),
        copy.connector_cursors().await.unwrap(),
        "{what}: cursors"
    );
    assert_eq!(
        source.dead_letters("line", 0, 10).await.unwrap(),
        copy.dead_letters("line", 0, 10).await.unwrap(),
        "{what}: dead letters"
    );
    // The copy opened from the copied snapshot, and folded only what came after it.
    assert!(
        copy.opened().snapshot_seq.is_some(),
        "{what}: {:?}",
        copy.opened()
    );
}

/// Copies `from` into `to` (empty), checks the copy, then checks a second copy is refused and
/// that the copy takes new writes (its generated keys past the copied ones).
async fn copy_and_check(source: &Store, from: &str, to: &str, what: &str) {
    let report = Store::copy_store(from, to).await.unwrap();
    assert_eq!(report.events, 365, "{what}");
    let copy = Store::open(to).await.unwrap();
    assert_eq!(
        Some(report.audit_head.clone().unwrap()),
        copy.verify_audit().await.unwrap().head_hash,
        "{what}"
    );
    assert_same(source, &copy, what).await;

    let again = Store::copy_store(from, to).await.unwrap_err();
    assert!(
        matches!(&again, StoreError::CopyRefused(m) if m.contains("not an empty store")),
        "{what}: {again}"
    );
    // New rows in the copy: a dead letter (a generated key) and events.
    copy.append_from_connector(
        &Gen::new(8, "after").take(5),
        &Actor::service("connector-line"),
        ConnectorBatch {
            connector: "line".into(),
            cursor: Some("45".into()),
            dead_letters: vec![NewDeadLetter {
                source_id: "r-2".into(),
                reason: "does not map".into(),
                raw: json!({"record": 2}),
            }],
        },
    )
    .await
    .unwrap();
    let letters = copy.dead_letters("line", 0, 10).await.unwrap();
    assert_eq!(letters.len(), 2, "{what}");
    assert!(letters[1].seq > letters[0].seq, "{what}: {letters:?}");
    assert!(copy.verify_audit().await.unwrap().is_intact(), "{what}");
}

#[tokio::test]
async fn a_store_copies_whole_between_databases() {
    let dir = TempDir::new("copy");
    let from = format!("sqlite://{}", dir.path().join("from.db").display());
    let source = filled(&from).await;
    let to = format!("sqlite://{}", dir.path().join("to.db").display());
    copy_and_check(&source, &from, &to, "sqlite to sqlite").await;

    let Some(postgres) = store::test_support::postgres_url() else {
        println!(
            "sqlite to postgres skipped: {} is not set",
            store::test_support::ENV
        );
        return;
    };
    let schema = format!("copy_{}", store::random_hex(6));
    let on_postgres = store::with_schema(&postgres, &schema);
    copy_and_check(&source, &from, &on_postgres, "sqlite to postgres").await;
    let back = format!("sqlite://{}", dir.path().join("back.db").display());
    let copy = Store::open(&on_postgres).await.unwrap();
    let report = Store::copy_store(&on_postgres, &back).await.unwrap();
    assert_eq!(
        report.events, 370,
        "postgres to sqlite (with the copy's own writes)"
    );
    let back_store = Store::open(&back).await.unwrap();
    assert_same(&copy, &back_store, "postgres to sqlite").await;
    Store::drop_postgres_store(&on_postgres).await.unwrap();
}
