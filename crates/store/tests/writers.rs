//! Two writers on one database file: two `Store` handles opened on the same file behave like
//! two processes (each has its own connections, writer lock and in-memory state). Their
//! audited writes interleave — event batches that build on each other, principals, proposals,
//! a reset — and afterwards the audit chain verifies, every event is stored once, idempotency
//! and the conflict rule hold across the handles, and each handle's folded state equals what
//! a fresh open folds from the file.

mod common;

use std::collections::BTreeSet;

use common::{Gen, T0, TempDir, assert_same_state, plant};
use govern::{
    ActionKind, Change, Evidence, Hierarchy, Policy, PrincipalKind, Proposal, ProposalDraft, Role,
    Scope, Trigger,
};
use model::{EquipmentState, Event, EventKind, Timestamp};
use serde_json::json;
use store::{Actor, EventFilter, GovernanceWrite, Store, StoreError, TokenHashing};

fn actor(name: &str) -> Actor {
    Actor::service(name)
}

fn write(name: &str) -> GovernanceWrite {
    GovernanceWrite::by(Actor::person(name), None)
}

fn proposal(id: &str) -> Proposal {
    let draft = ProposalDraft {
        kind: ActionKind::ScheduleChange,
        area: "A1".into(),
        title: "expedite".into(),
        evidence: Evidence {
            input_sha256: "c".repeat(64),
            engine: "mixplane-scheduler".into(),
            engine_version: "0.1.0".into(),
            trigger: Trigger::Event {
                event_id: "ev-1".into(),
            },
            kpis_before: [("late_orders".into(), 3.0)].into(),
            kpis_after: [("late_orders".into(), 1.0)].into(),
        },
        diff: vec![Change {
            entity: "order".into(),
            id: "O-INIT".into(),
            field: "due".into(),
            before: json!("2026-03-03T06:00:00Z"),
            after: json!("2026-03-03T08:00:00Z"),
            shift_minutes: Some(120),
            high_priority: true,
        }],
    };
    let facts = govern::evidence::FactTable {
        orders: [(
            "O-INIT".to_owned(),
            govern::evidence::OrderFacts {
                priority: model::Priority::High,
                due: Timestamp::parse("2026-03-03T06:00:00Z").unwrap(),
                quantity: 100.0,
                areas: ["A1".to_owned()].into(),
                steps: 1,
            },
        )]
        .into(),
        ..Default::default()
    };
    let hierarchy = Hierarchy {
        site: "S1".into(),
        areas: ["A1".to_owned()].into(),
    };
    let bot = govern::Principal::new("bot", PrincipalKind::Agent, Role::Agent, Scope::All);
    let assessment = govern::assess(&draft.diff, &facts).unwrap();
    Proposal::propose(
        id,
        draft,
        &bot,
        &Policy::default_policy(),
        &hierarchy,
        &assessment,
        Timestamp(T0),
    )
    .unwrap()
}

async fn all_events(store: &Store) -> Vec<store::StoredEvent> {
    store
        .events(EventFilter {
            limit: store::MAX_PAGE,
            ..EventFilter::default()
        })
        .await
        .unwrap()
}

/// Both handles, and a third opened afresh, hold the same state, and it is the projections'.
async fn assert_agree(path: &std::path::Path, a: &Store, b: &Store) {
    let fresh = store::test_support::store_at(path).await.unwrap();
    let expected = fresh.state().await;
    assert_same_state(&*a.state().await, &expected, "handle A vs a fresh open");
    assert_same_state(&*b.state().await, &expected, "handle B vs a fresh open");
    assert_same_state(
        &fresh.projected_state().await.unwrap(),
        &expected,
        "projections vs the fold",
    );
    for (name, store) in [("A", a), ("B", b), ("fresh", &fresh)] {
        let report = store.verify_audit().await.unwrap();
        assert!(report.is_intact(), "handle {name}: {report:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_handles_interleave_audited_writes_and_agree() {
    let dir = TempDir::new("writers");
    let path = dir.path().join("shared.sqlite");
    let a = store::test_support::store_at(&path).await.unwrap();
    let b = store::test_support::store_at(&path).await.unwrap();
    // The plant is put through A after B opened: B learns it from the database.
    a.put_plant_at(plant(), Some(Timestamp(T0)), &actor("a"))
        .await
        .unwrap();
    assert!(b.plant().await.is_some(), "B reads the plant A put");

    // Each batch continues the stream of the one before, written by the other handle: an
    // operation on an order the other handle released only applies if that release was folded.
    let mut generator = Gen::new(7, "w");
    let batches: Vec<Vec<Event>> = (0..12).map(|_| generator.take(40)).collect();
    let mut expected_actions = vec!["plant.put"];
    for (i, batch) in batches.iter().enumerate() {
        let (writer, other) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
        let outcome = writer.append(batch, &actor("ingest")).await.unwrap();
        assert_eq!(outcome.inserted, 40, "batch {i}");
        assert_eq!(outcome.first_seq, Some(i as i64 * 40 + 1), "batch {i}");
        expected_actions.push("events.append");
        // A non-event audited write from the other handle in between.
        match i % 3 {
            0 => {
                let name = format!("user-{i}");
                other
                    .create_token(
                        &name,
                        PrincipalKind::Person,
                        Role::Viewer,
                        Scope::All,
                        TokenHashing::Fast,
                        write("cli"),
                    )
                    .await
                    .unwrap();
                expected_actions.push("principal.create");
            }
            1 => {
                other
                    .insert_proposal(&proposal(&format!("P-{i}")), write("bot"))
                    .await
                    .unwrap();
                expected_actions.push("proposal.create");
            }
            _ => {
                // The proposal the first handle stored, decided through the second.
                let id = format!("P-{}", i - 1);
                let stored = writer.proposal(&id).await.unwrap().unwrap();
                let mut rejected = stored.proposal.clone();
                let ann =
                    govern::Principal::new("ann", PrincipalKind::Person, Role::Planner, Scope::All);
                let hierarchy = Hierarchy {
                    site: "S1".into(),
                    areas: ["A1".to_owned()].into(),
                };
                rejected
                    .reject(&ann, &hierarchy, Timestamp(T0), Some("no".into()))
                    .unwrap();
                assert!(
                    writer
                        .update_proposal(&rejected, stored.version, "proposal.reject", write("ann"))
                        .await
                        .unwrap()
                );
                expected_actions.push("proposal.reject");
            }
        }
        // Reads through the handle that did not append see the batch.
        assert_eq!(
            other.state().await.events_applied,
            (i as u64 + 1) * 40,
            "batch {i} read through the other handle"
        );
    }

    // Idempotent across handles: B re-sends what A stored, A re-sends what B stored.
    let again = b.append(&batches[0], &actor("ingest")).await.unwrap();
    assert_eq!((again.inserted, again.duplicates), (0, 40));
    let again = a.append(&batches[1], &actor("ingest")).await.unwrap();
    assert_eq!((again.inserted, again.duplicates), (0, 40));
    // The same id with other content is a conflict, whichever handle stored it first.
    let mut changed = batches[1][0].clone();
    changed.time = Timestamp(changed.time.0 + 1);
    match a.append(&[changed], &actor("ingest")).await {
        Err(StoreError::Conflict { id, where_, .. }) => {
            assert_eq!(id, batches[1][0].id.as_str());
            assert_eq!(where_, "stored at seq 41");
        }
        other => panic!("expected a conflict, got {other:?}"),
    }

    // Every event once, in the order the batches were written.
    let stored = all_events(&a).await;
    let ids: Vec<&str> = stored.iter().map(|e| e.event.id.as_str()).collect();
    let sent: Vec<&str> = batches.iter().flatten().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, sent);
    let seqs: Vec<i64> = stored.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=480).collect::<Vec<i64>>());

    // One audit record per write, in the order they were made, chained.
    let trail = b.audit_log(0, 1000).await.unwrap();
    let actions: Vec<&str> = trail.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(actions, expected_actions);
    assert_agree(&path, &a, &b).await;
}

fn unit_event(id: String, unit: &str, minute: i64) -> Event {
    Event {
        id: id.into(),
        time: Timestamp(T0 + minute * 60_000),
        source: None,
        kind: EventKind::EquipmentStateChanged {
            unit: unit.into(),
            state: if minute % 2 == 0 {
                EquipmentState::Running
            } else {
                EquipmentState::Idle
            },
            reason: None,
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_serialise_and_keep_one_chain() {
    let dir = TempDir::new("writers-race");
    let path = dir.path().join("race.sqlite");
    let a = store::test_support::store_at(&path).await.unwrap();
    a.put_plant_at(plant(), Some(Timestamp(T0)), &actor("a"))
        .await
        .unwrap();
    let b = store::test_support::store_at(&path).await.unwrap();

    // Both handles write at once: appends on their own units, principals, and the same
    // events sent through both (stored once, a duplicate for whichever comes second).
    let run = |store: Store, name: &'static str, unit: &'static str| async move {
        for i in 0..25i64 {
            let mut batch = vec![unit_event(format!("{name}-{i}"), unit, i)];
            batch.push(unit_event(format!("both-{i}"), "P1", i));
            store.append(&batch, &actor(name)).await.unwrap();
            if i % 5 == 0 {
                store
                    .create_principal(
                        &govern::Principal::new(
                            format!("{name}-user-{i}"),
                            PrincipalKind::Service,
                            Role::Operator,
                            Scope::All,
                        ),
                        TokenHashing::Fast,
                        write(name),
                    )
                    .await
                    .unwrap();
            }
        }
    };
    let (ra, rb) = tokio::join!(
        tokio::spawn(run(a.clone(), "a", "D1")),
        tokio::spawn(run(b.clone(), "b", "D2"))
    );
    ra.unwrap();
    rb.unwrap();

    let stored = all_events(&a).await;
    let ids: BTreeSet<&str> = stored.iter().map(|e| e.event.id.as_str()).collect();
    assert_eq!(
        stored.len(),
        75,
        "25 events of each handle and 25 sent by both"
    );
    assert_eq!(ids.len(), 75, "every event once");
    let seqs: Vec<i64> = stored.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=75).collect::<Vec<i64>>());
    assert_eq!(b.principals().await.unwrap().len(), 10);
    let trail = a.audit_log(0, 1000).await.unwrap();
    let appends = trail.iter().filter(|r| r.action == "events.append").count();
    // Every append stored at least its own event, so each is audited once.
    assert_eq!(appends, 50);
    assert_eq!(trail.len(), 1 + 50 + 10);
    assert_agree(&path, &a, &b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_through_one_handle_is_seen_by_the_other() {
    let dir = TempDir::new("writers-reset");
    let path = dir.path().join("reset.sqlite");
    let a = store::test_support::store_at(&path).await.unwrap();
    a.put_plant_at(plant(), Some(Timestamp(T0)), &actor("a"))
        .await
        .unwrap();
    let b = store::test_support::store_at(&path).await.unwrap();
    let mut generator = Gen::new(11, "r");
    a.append(&generator.take(50), &actor("a")).await.unwrap();
    assert_eq!(b.state().await.events_applied, 50);

    // B resets the log that A wrote; A's next append starts the new log at seq 1, on the
    // initial state, not on top of what it had folded.
    b.reset(&actor("b")).await.unwrap();
    assert_eq!(a.state().await.events_applied, 0);
    let mut generator = Gen::new(12, "n");
    let outcome = a.append(&generator.take(20), &actor("a")).await.unwrap();
    assert_eq!((outcome.first_seq, outcome.last_seq), (Some(1), Some(20)));
    // Replacing the plant while the log holds events is refused, whoever asks.
    assert!(matches!(
        b.put_plant(plant(), &actor("b")).await,
        Err(StoreError::LogNotEmpty { events: 20 })
    ));
    let more = b.append(&generator.take(20), &actor("b")).await.unwrap();
    assert_eq!(more.first_seq, Some(21));
    assert_agree(&path, &a, &b).await;
    let actions: Vec<String> = a
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
            "events.append",
            "store.reset",
            "events.append",
            "events.append"
        ]
    );
}

/// What one handle changes about a token or its principal, the other's next request sees,
/// although it answers principals from memory while nothing was written; and a request begun
/// after another handle's append sees the append, although an earlier request's look at the
/// database is still the last one this handle made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_principal_changed_through_one_handle_is_seen_by_the_other() {
    let dir = TempDir::new("writers-principals");
    let path = dir.path().join("principals.sqlite");
    let a = store::test_support::store_at(&path).await.unwrap();
    a.put_plant_at(plant(), Some(Timestamp(T0)), &actor("a"))
        .await
        .unwrap();
    let b = store::test_support::store_at(&path).await.unwrap();
    let issued = a
        .create_token(
            "ann",
            PrincipalKind::Person,
            Role::Planner,
            "area:A1".parse().unwrap(),
            TokenHashing::Fast,
            write("admin"),
        )
        .await
        .unwrap();
    let id = issued.token_id.clone();
    let request = |store: &Store| {
        let (store, id) = (store.clone(), id.clone());
        async move {
            store
                .fresh_from_start(async { store.live_principal(&id).await.unwrap() })
                .await
        }
    };
    let planner = request(&a).await.unwrap();
    assert_eq!(planner.role, Role::Planner);
    assert_eq!(request(&b).await.unwrap(), planner);
    assert_eq!(request(&a).await.unwrap(), planner, "answered from memory");

    // B changes the role: A's next request has the new one.
    let changed = b
        .update_principal(&planner, Role::Supervisor, Scope::All, write("admin"))
        .await
        .unwrap();
    assert_eq!(request(&a).await.unwrap(), changed);
    assert_eq!(request(&a).await.unwrap().role, Role::Supervisor);

    // B revokes the token: A's next request finds none, and so does B's.
    assert_eq!(b.revoke_tokens("ann", write("admin")).await.unwrap(), 1);
    assert_eq!(request(&a).await, None);
    assert_eq!(request(&b).await, None);
    assert_eq!(a.live_principal("no-such-token").await.unwrap(), None);

    // Within one request the database is looked at once; a request begun after B's append
    // looks again and sees it.
    let mut generator = Gen::new(21, "p");
    let seen = a
        .fresh_from_start(async {
            let first = a.state().await.events_applied;
            let second = a.state().await.events_applied;
            (first, second)
        })
        .await;
    assert_eq!(seen, (0, 0));
    b.append(&generator.take(30), &actor("b")).await.unwrap();
    let seen = a
        .fresh_from_start(async { a.state().await.events_applied })
        .await;
    assert_eq!(seen, 30, "a request begun after the append");
    assert_eq!(
        a.state().await.events_applied,
        30,
        "a read outside any request"
    );
}
