//! Ingest behaviour: idempotency, conflicts, atomic rejection of bad batches, plant rules,
//! queries, reopen, and the audit trail's tamper evidence against raw SQL edits.

mod common;

use common::{
    Gen, T0, TempDir, assert_same_state, first_bad, invalid_event, plant, replay_log, tamper,
};
use model::{Mode, OrderStatus, Timestamp};
use store::{Actor, AuditFault, EventFilter, OrderFilter, Store, StoreError, audit::GENESIS};

fn actor() -> Actor {
    Actor::service("test")
}

async fn store_with_plant() -> Store {
    let store = store::test_support::private_store().await.unwrap();
    store
        .put_plant_at(plant(), Some(Timestamp(T0)), &actor())
        .await
        .unwrap();
    store
}

#[tokio::test]
async fn same_batch_twice_is_all_duplicates() {
    let store = store_with_plant().await;
    let events = Gen::new(1, "e").take(300);
    let first = store.append(&events, &actor()).await.unwrap();
    assert_eq!(first.inserted, 300);
    assert_eq!(first.duplicates, 0);
    assert_eq!((first.first_seq, first.last_seq), (Some(1), Some(300)));
    let state = store.state().await;

    let second = store.append(&events, &actor()).await.unwrap();
    assert_eq!(second.inserted, 0);
    assert_eq!(second.duplicates, 300);
    assert_eq!(second.first_seq, None);
    assert_same_state(&*store.state().await, &state, "memory");
    assert_eq!(store.counts().await.unwrap().events, 300);

    // Duplicates inside one batch, mixed with new events.
    let mut more = Gen::new(1, "e").take(310)[295..].to_vec();
    more.push(more[7].clone());
    let third = store.append(&more, &actor()).await.unwrap();
    assert_eq!((third.inserted, third.duplicates), (10, 6));
    assert_eq!((third.first_seq, third.last_seq), (Some(301), Some(310)));
}

#[tokio::test]
async fn same_id_with_other_content_is_a_conflict() {
    let store = store_with_plant().await;
    let events = Gen::new(2, "e").take(50);
    store.append(&events, &actor()).await.unwrap();
    let before = store.state().await;

    let mut changed = events[10].clone();
    changed.source = Some("somebody else".into());
    let mut batch = Gen::new(3, "x").take(5);
    batch.push(changed);
    let error = store.append(&batch, &actor()).await.unwrap_err();
    match &error {
        StoreError::Conflict { index, id, .. } => assert_eq!((*index, id.as_str()), (5, "e-11")),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert!(error.is_client_error());
    assert!(error.to_string().contains("seq 11"), "{error}");

    // Inside one batch.
    let mut twin = batch[0].clone();
    twin.time = Timestamp(twin.time.0 + 1);
    let error = store
        .append(&[batch[0].clone(), twin], &actor())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, StoreError::Conflict { index: 1, where_, .. } if where_.contains("batch index 0")),
        "{error:?}"
    );
    assert_eq!(*store.state().await, *before);
    assert_eq!(store.counts().await.unwrap().events, 50);
}

#[tokio::test]
async fn an_invalid_event_rejects_the_whole_batch() {
    let store = store_with_plant().await;
    store
        .append(&Gen::new(4, "a").take(100), &actor())
        .await
        .unwrap();
    let state = store.state().await;
    let projected = store.projected_state().await.unwrap();
    let audit = store.audit_log(0, 1000).await.unwrap();
    let orders = store.orders(OrderFilter::default()).await.unwrap();

    let mut batch = Gen::new(5, "b").take(40);
    batch.insert(17, invalid_event("bad-1"));
    let error = store.append(&batch, &actor()).await.unwrap_err();
    match &error {
        StoreError::Invalid { index, id, source } => {
            assert_eq!((*index, id.as_str()), (17, "bad-1"));
            assert_eq!(source.field, "unit");
        }
        other => panic!("expected an invalid event, got {other:?}"),
    }
    let message = error.to_string();
    assert!(
        message.contains("event 17") && message.contains("bad-1") && message.contains("unit"),
        "{message}"
    );

    // Nothing changed: memory, projections, log, audit.
    assert_same_state(&*store.state().await, &state, "memory");
    assert_eq!(store.projected_state().await.unwrap(), projected);
    assert_eq!(store.audit_log(0, 1000).await.unwrap(), audit);
    assert_eq!(store.orders(OrderFilter::default()).await.unwrap(), orders);
    assert_eq!(store.counts().await.unwrap().events, 100);

    // The good part of the batch goes in afterwards, with contiguous seqs.
    batch.remove(17);
    let outcome = store.append(&batch, &actor()).await.unwrap();
    assert_eq!(
        (outcome.first_seq, outcome.last_seq),
        (Some(101), Some(140))
    );
    assert_same_state(
        &*store.state().await,
        &replay_log(&store, 10_000).await,
        "memory vs replay",
    );
    assert_same_state(
        &store.projected_state().await.unwrap(),
        &*store.state().await,
        "projection vs memory",
    );
}

#[tokio::test]
async fn plant_rules() {
    let store = store::test_support::private_store().await.unwrap();
    assert!(store.plant().await.is_none());
    let error = store
        .append(&Gen::new(1, "e").take(1), &actor())
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::NoPlant), "{error:?}");

    let mut bad = plant();
    bad.units[0].calendar = "NOPE".into();
    bad.routings[1].product = "GHOST".into();
    let error = store.put_plant(bad, &actor()).await.unwrap_err();
    let message = error.to_string();
    assert!(message.contains("units[0].calendar"), "{message}");
    assert!(message.contains("routings[1].product"), "{message}");
    assert!(store.plant().await.is_none());

    // Start defaults to the earliest release of the order book.
    store.put_plant(plant(), &actor()).await.unwrap();
    let state = store.state().await;
    assert_eq!(state.units[&model::UnitId::from("D1")].since, Timestamp(T0));
    assert_eq!(
        state.orders[&model::OrderId::from("O-INIT")].status,
        OrderStatus::Planned
    );

    // Replacing the plant is allowed while the log is empty, not after.
    store.put_plant(plant(), &actor()).await.unwrap();
    store
        .append(&Gen::new(1, "e").take(10), &actor())
        .await
        .unwrap();
    let error = store.put_plant(plant(), &actor()).await.unwrap_err();
    assert!(
        matches!(error, StoreError::LogNotEmpty { events: 10 }),
        "{error:?}"
    );

    // Reset wipes events and projections and allows a new plant; seqs start again.
    store.reset(&Actor::person("ann")).await.unwrap();
    assert_eq!(store.counts().await.unwrap().events, 0);
    assert_eq!(store.state().await.events_applied, 0);
    store.put_plant(plant(), &actor()).await.unwrap();
    let outcome = store
        .append(&Gen::new(1, "e").take(10), &actor())
        .await
        .unwrap();
    assert_eq!(outcome.first_seq, Some(1));

    let actions: Vec<String> = store
        .audit_log(0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.action)
        .collect();
    assert_eq!(
        actions,
        [
            "plant.put",
            "plant.put",
            "events.append",
            "store.reset",
            "plant.put",
            "events.append"
        ]
    );
    assert!(store.verify_audit().await.unwrap().is_intact());
}

#[tokio::test]
async fn queries() {
    let store = store_with_plant().await;
    let events = Gen::new(7, "q").take(2_000);
    for chunk in events.chunks(250) {
        store.append(chunk, &actor()).await.unwrap();
    }
    let state = store.state().await;

    // Orders: filters, paging and totals agree with the in-memory state.
    let all = store
        .orders(OrderFilter {
            limit: 10_000,
            ..OrderFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(all.total as usize, state.orders.len());
    assert_eq!(all.items.len(), state.orders.len());
    let discrete_done = state
        .orders
        .values()
        .filter(|o| o.mode == Mode::Discrete && o.status == OrderStatus::Completed)
        .count();
    let page = store
        .orders(OrderFilter {
            mode: Some(Mode::Discrete),
            status: Some(OrderStatus::Completed),
            limit: 3,
            offset: 1,
        })
        .await
        .unwrap();
    assert_eq!(page.total as usize, discrete_done);
    assert!(page.items.len() <= 3);
    assert!(page.items.iter().all(|o| o.mode == Mode::Discrete));
    let first_id = &page.items[0].order.id;
    assert_eq!(store.order(first_id).await.as_ref(), Some(&page.items[0]));

    // Events: type, time and seq filters.
    let quality = store
        .events(EventFilter {
            types: vec!["quality_result_recorded".into()],
            limit: 10_000,
            ..EventFilter::default()
        })
        .await
        .unwrap();
    let expected = events
        .iter()
        .filter(|e| e.kind.type_name() == "quality_result_recorded")
        .count();
    assert_eq!(quality.len(), expected);
    let from = events[100].time;
    let to = events[200].time;
    let window = store
        .events(EventFilter {
            from: Some(from),
            to: Some(to),
            limit: 10_000,
            ..EventFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(window.len(), 100);
    assert_eq!(window[0].event, events[100]);
    let tail = store
        .events(EventFilter {
            after_seq: Some(1_990),
            ..EventFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(tail.len(), 10);
    assert_eq!(tail[0].seq, 1_991);
    let error = store
        .events(EventFilter {
            types: vec!["nope".into()],
            ..EventFilter::default()
        })
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::BadFilter { .. }), "{error:?}");

    // Counts.
    let counts = store.counts().await.unwrap();
    assert_eq!(counts.events, 2_000);
    assert_eq!(counts.lots as usize, state.lots.len());
    assert_eq!(counts.serials as usize, state.serials.len());
    assert_eq!(
        counts.quality_results,
        state.quality_results.values().sum::<u64>()
    );
    let orders: u64 = counts
        .orders_by_mode_status
        .values()
        .flat_map(|m| m.values())
        .sum();
    assert_eq!(orders as usize, state.orders.len());
    assert_eq!(store.units().await.len(), 4);
    assert_same_state(
        &state,
        &replay_log(&store, 10_000).await,
        "memory vs replay",
    );
    assert_same_state(
        &store.projected_state().await.unwrap(),
        &state,
        "projection vs memory",
    );
}

#[tokio::test]
async fn reopen_restores_state_and_rebuilds_stale_projections() {
    let dir = TempDir::new("reopen");
    let path = dir.path().join("nested/db.sqlite");
    let state = {
        let store = store::test_support::store_at(&path).await.unwrap();
        store
            .put_plant_at(plant(), Some(Timestamp(T0)), &actor())
            .await
            .unwrap();
        let mut generator = Gen::new(9, "r");
        for _ in 0..5 {
            store.append(&generator.take(200), &actor()).await.unwrap();
        }
        store.state().await
    };
    let store = store::test_support::store_at(&path).await.unwrap();
    assert_same_state(&*store.state().await, &state, "memory");
    assert_same_state(
        &store.projected_state().await.unwrap(),
        &state,
        "projection vs memory",
    );
    let audit_records = store.audit_log(0, 100).await.unwrap().len();
    drop(store);

    // Damage a projection: the store notices at open and rebuilds.
    tamper(
        &path,
        &[
            "DELETE FROM lots",
            "UPDATE counters SET value = 0 WHERE name = 'projection_seq'",
        ],
    )
    .await;
    let store = store::test_support::store_at(&path).await.unwrap();
    assert_same_state(
        &store.projected_state().await.unwrap(),
        &state,
        "projection vs memory",
    );
    let audit = store.audit_log(0, 100).await.unwrap();
    assert_eq!(audit.len(), audit_records + 1);
    assert_eq!(audit.last().unwrap().action, "projections.rebuild");
    assert!(store.verify_audit().await.unwrap().is_intact());

    // And on request.
    store.rebuild_projections().await.unwrap();
    assert_same_state(
        &store.projected_state().await.unwrap(),
        &state,
        "projection vs memory",
    );
    assert_same_state(&*store.state().await, &state, "memory");
}

/// Writes a small history to a file and returns its path and the number of audit records.
async fn audited_db(dir: &TempDir) -> (std::path::PathBuf, i64) {
    let path = dir.path().join("audit.sqlite");
    let store = store::test_support::store_at(&path).await.unwrap();
    store
        .put_plant_at(plant(), Some(Timestamp(T0)), &Actor::person("ann"))
        .await
        .unwrap();
    let mut generator = Gen::new(11, "t");
    for _ in 0..6 {
        store.append(&generator.take(20), &actor()).await.unwrap();
    }
    let report = store.verify_audit().await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.records, 7);
    let first = &store.audit_log(0, 1).await.unwrap()[0];
    assert_eq!(first.prev_hash, GENESIS);
    assert_eq!(first.actor, Actor::person("ann"));
    (path, 7)
}

#[tokio::test]
async fn audit_tampering_is_named() {
    // Altered field.
    let dir = TempDir::new("tamper-update");
    let (path, _) = audited_db(&dir).await;
    tamper(
        &path,
        &["UPDATE audit SET actor_id = 'mallory' WHERE seq = 3"],
    )
    .await;
    assert_eq!(first_bad(&path).await, (3, AuditFault::Altered));

    // Removed from the middle.
    let dir = TempDir::new("tamper-delete");
    let (path, _) = audited_db(&dir).await;
    tamper(&path, &["DELETE FROM audit WHERE seq = 4"]).await;
    assert_eq!(first_bad(&path).await, (5, AuditFault::Removed));

    // Inserted: a forged record squeezed in at seq 3, the rest renumbered.
    let dir = TempDir::new("tamper-insert");
    let (path, _) = audited_db(&dir).await;
    tamper(
        &path,
        &[
            "UPDATE audit SET seq = seq + 1000 WHERE seq >= 3",
            "UPDATE audit SET seq = seq - 999 WHERE seq >= 1000",
            "INSERT INTO audit (seq, at, actor_kind, actor_id, action, subject, detail, prev_hash, hash)
             SELECT 3, at, 'person', 'mallory', 'events.append', 'events:0-0', '{}', hash, hash
             FROM audit WHERE seq = 2",
        ],
    )
    .await;
    assert_eq!(first_bad(&path).await, (3, AuditFault::Altered));

    // Two records swapped.
    let dir = TempDir::new("tamper-swap");
    let (path, _) = audited_db(&dir).await;
    tamper(
        &path,
        &[
            "UPDATE audit SET seq = 100 WHERE seq = 5",
            "UPDATE audit SET seq = 5 WHERE seq = 6",
            "UPDATE audit SET seq = 6 WHERE seq = 100",
        ],
    )
    .await;
    assert_eq!(first_bad(&path).await, (5, AuditFault::Altered));

    // Tail removed while the store is running: the in-memory head notices.
    let dir = TempDir::new("tamper-tail");
    let path = dir.path().join("tail.sqlite");
    let store = store::test_support::store_at(&path).await.unwrap();
    store.put_plant(plant(), &actor()).await.unwrap();
    store
        .append(&Gen::new(12, "u").take(10), &actor())
        .await
        .unwrap();
    tamper(&path, &["DELETE FROM audit WHERE seq = 2"]).await;
    let bad = store.verify_audit().await.unwrap().first_bad.unwrap();
    assert_eq!((bad.seq, bad.fault), (1, AuditFault::Head));
}
