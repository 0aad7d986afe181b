//! Property: however a valid event stream is cut into batches, and whatever duplicates and
//! rejected batches are mixed in, the state the store serves equals its SQL projections, equals
//! a fresh fold of its log, equals a fold of the accepted events, and survives reopening.

mod common;

use common::{Gen, T0, TempDir, assert_same_state, plant, replay_log};
use model::{EquipmentState, Event, EventKind, PlantState, Timestamp};
use proptest::prelude::*;
use store::{Actor, StoreError};

/// An event that is invalid whatever the state: one of several kinds, so that rejected
/// batches exercise the undo of different state entries before them.
fn poison(kind: u8, id: String) -> Event {
    let kind = match kind % 4 {
        0 => EventKind::EquipmentStateChanged {
            unit: "NO-SUCH-UNIT".into(),
            state: EquipmentState::Down,
            reason: None,
        },
        1 => EventKind::OperationStarted {
            order: "NO-SUCH-ORDER".into(),
            step: 0,
            unit: "D1".into(),
            members: Vec::new(),
        },
        2 => EventKind::QualityResultRecorded {
            characteristic: "NO-SUCH-CHARACTERISTIC".into(),
            value: 1.0,
            sample: None,
            sample_size: None,
            order: None,
            lot: None,
            serial: None,
            unit: None,
        },
        _ => EventKind::MaterialShipped {
            material: "WIDGET".into(),
            lot: None,
            serials: Vec::new(),
            quantity: 1.0,
            customer: " ".into(),
        },
    };
    Event {
        id: id.into(),
        time: Timestamp(T0),
        source: None,
        kind,
    }
}

#[derive(Debug, Clone)]
struct Plan {
    seed: u64,
    /// Batch sizes; the stream is as long as their sum.
    batches: Vec<usize>,
    /// Per batch: poison it at this position (then resend it clean), or not.
    poison: Vec<Option<(usize, u8)>>,
    /// Per batch: resend the previous batch before it.
    resend: Vec<bool>,
}

fn plans() -> impl Strategy<Value = Plan> {
    (any::<u64>(), prop::collection::vec(1usize..60, 1..12)).prop_flat_map(|(seed, batches)| {
        let n = batches.len();
        (
            Just(seed),
            Just(batches),
            prop::collection::vec(prop::option::weighted(0.3, (0usize..60, any::<u8>())), n),
            prop::collection::vec(prop::bool::weighted(0.2), n),
        )
            .prop_map(|(seed, batches, poison, resend)| Plan {
                seed,
                batches,
                poison,
                resend,
            })
    })
}

async fn run(plan: Plan) {
    let dir = TempDir::new("prop");
    let path = dir.path().join("prop.sqlite");
    let actor = Actor::service("prop");
    let store = store::test_support::store_at(&path).await.unwrap();
    store
        .put_plant_at(plant(), Some(Timestamp(T0)), &actor)
        .await
        .unwrap();
    let catalog = store.plant().await.unwrap();
    let mut expected = PlantState::initial(&catalog, Timestamp(T0));
    let mut generator = Gen::new(plan.seed, "p");
    let mut previous: Vec<Event> = Vec::new();

    for (b, &size) in plan.batches.iter().enumerate() {
        let batch = generator.take(size);
        if plan.resend[b] && !previous.is_empty() {
            let outcome = store.append(&previous, &actor).await.unwrap();
            assert_eq!(outcome.inserted, 0);
            assert_eq!(outcome.duplicates, previous.len());
        }
        if let Some((at, kind)) = plan.poison[b] {
            let at = at % (batch.len() + 1);
            let before = store.state().await;
            let mut poisoned = batch.clone();
            poisoned.insert(at, poison(kind, format!("poison-{b}")));
            match store.append(&poisoned, &actor).await {
                Err(StoreError::Invalid { index, .. }) => assert_eq!(index, at),
                other => panic!("poisoned batch {b} was not rejected: {other:?}"),
            }
            assert_same_state(&*store.state().await, &before, "after a rejected batch");
        }
        let outcome = store.append(&batch, &actor).await.unwrap();
        assert_eq!(outcome.inserted, batch.len());
        for event in &batch {
            expected.apply(&catalog, event).unwrap();
        }
        previous = batch;
    }

    let state = store.state().await;
    assert_same_state(&state, &expected, "served state vs fold of accepted events");
    assert_same_state(
        &store.projected_state().await.unwrap(),
        &state,
        "projections vs served state",
    );
    assert_same_state(
        &replay_log(&store, 97).await,
        &state,
        "fresh fold of the log vs served state",
    );
    assert!(store.verify_audit().await.unwrap().is_intact());
    drop(store);

    let reopened = store::test_support::store_at(&path).await.unwrap();
    assert_same_state(&*reopened.state().await, &state, "state after reopen");
    assert_same_state(
        &reopened.projected_state().await.unwrap(),
        &state,
        "projections after reopen",
    );
    assert!(reopened.verify_audit().await.unwrap().is_intact());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn projections_equal_replay_and_survive_reopen(plan in plans()) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(run(plan));
    }
}
