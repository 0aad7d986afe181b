//! State snapshots: a store opened from a snapshot and the log's tail after it serves the same
//! state, event count and audit head as one that folds the whole log; a snapshot that does not
//! match the log (tampered, another plant version, another layout, past the log's end, wiped
//! with a reset) is ignored for a full replay; and a writer killed while writing snapshots
//! leaves a database that opens to exactly the acknowledged events.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use common::{Gen, T0, TempDir, assert_same_state, plant, replay_log, tamper};
use model::{PlantState, Timestamp};
use proptest::prelude::*;
use store::{Actor, SnapshotMismatch, Store, StoreError};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn actor() -> Actor {
    Actor::service("snapshot-test")
}

/// The writer's count of the log's events, as `put_plant` reports it when it refuses.
async fn writer_events(store: &Store) -> i64 {
    match store.put_plant(plant(), &actor()).await {
        Err(StoreError::LogNotEmpty { events }) => events,
        Ok(()) => 0,
        Err(other) => panic!("put_plant: {other}"),
    }
}

/// What a store serves that a snapshot must reproduce.
#[derive(Debug, PartialEq)]
struct Served {
    state: PlantState,
    events: i64,
    audit_head: Option<(i64, String)>,
}

async fn served(store: &Store) -> Served {
    let state = (*store.state().await).clone();
    let log = store.counts().await.unwrap().events as i64;
    let events = writer_events(store).await;
    // An empty log lets `put_plant` through: a new plant version, so nothing to compare.
    assert!(
        log == 0 || events == log,
        "writer counts {events}, log {log}"
    );
    let trail = store.audit_log(0, store::MAX_PAGE).await.unwrap();
    let audit_head = trail.last().map(|r| (r.seq, r.hash.clone()));
    Served {
        state,
        events,
        audit_head,
    }
}

async fn new_store(path: &Path) -> Store {
    new_store_at(&store::test_support::url_at(path)).await
}

async fn new_store_at(url: &str) -> Store {
    let store = Store::open(url).await.unwrap();
    store
        .put_plant_at(plant(), Some(Timestamp(T0)), &actor())
        .await
        .unwrap();
    store
}

#[derive(Debug, Clone)]
struct Plan {
    seed: u64,
    batches: Vec<usize>,
    /// Events between snapshots written by appends (0: none).
    interval: u64,
    /// Per batch: write a snapshot explicitly after it.
    explicit: Vec<bool>,
}

fn plans() -> impl Strategy<Value = Plan> {
    (
        any::<u64>(),
        prop::collection::vec(1usize..80, 1..10),
        prop_oneof![Just(0u64), 1u64..120],
    )
        .prop_flat_map(|(seed, batches, interval)| {
            let n = batches.len();
            (
                Just(seed),
                Just(batches),
                Just(interval),
                prop::collection::vec(prop::bool::weighted(0.2), n),
            )
                .prop_map(|(seed, batches, interval, explicit)| Plan {
                    seed,
                    batches,
                    interval,
                    explicit,
                })
        })
}

async fn snapshot_and_replay(plan: Plan) {
    let dir = TempDir::new("snap-prop");
    let path = dir.path().join("snap.sqlite");
    let store = new_store(&path).await;
    store.set_snapshot_interval(plan.interval);
    store.set_snapshot_budget(0);
    let mut generator = Gen::new(plan.seed, "s");
    let mut snapshotted = None;
    for (b, &size) in plan.batches.iter().enumerate() {
        store.append(&generator.take(size), &actor()).await.unwrap();
        if plan.explicit[b] {
            let info = store
                .write_snapshot()
                .await
                .unwrap()
                .expect("events were stored");
            assert!(info.bytes > 0);
            snapshotted = Some(info.seq);
        }
    }
    let before = served(&store).await;
    drop(store);

    // Opened from the snapshot (when one was written) and the tail.
    let from_snapshot = store::test_support::store_at(&path).await.unwrap();
    let opened = from_snapshot.opened();
    assert_eq!(opened.fallback, None, "{plan:?}");
    if let Some(seq) = snapshotted {
        assert!(opened.snapshot_seq.is_some_and(|s| s >= seq), "{opened:?}");
    }
    if plan.interval == 0 && snapshotted.is_none() {
        assert_eq!(opened.snapshot_seq, None);
    }
    let folded = opened.snapshot_seq.unwrap_or(0) as u64 + opened.folded;
    assert_eq!(
        folded, before.events as u64,
        "snapshot plus tail cover the log"
    );
    let after_snapshot = served(&from_snapshot).await;
    assert_same_state(&after_snapshot.state, &before.state, "snapshot + tail");
    assert_eq!(after_snapshot, before);
    assert_same_state(
        &replay_log(&from_snapshot, 101).await,
        &after_snapshot.state,
        "fresh fold of the log vs snapshot + tail",
    );
    // It goes on from there like the store that wrote it.
    let more = generator.take(17);
    from_snapshot.append(&more, &actor()).await.unwrap();
    let continued = served(&from_snapshot).await;
    assert!(from_snapshot.verify_audit().await.unwrap().is_intact());
    drop(from_snapshot);

    // Opened by a full replay (the snapshots removed behind the store's back).
    tamper(&path, &["DELETE FROM state_snapshots"]).await;
    let replayed = store::test_support::store_at(&path).await.unwrap();
    assert_eq!(replayed.opened().snapshot_seq, None);
    assert_eq!(replayed.opened().folded, continued.events as u64);
    assert_eq!(served(&replayed).await, continued);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn snapshot_plus_tail_equals_full_replay(plan in plans()) {
        runtime().block_on(snapshot_and_replay(plan));
    }
}

/// A store with 300 events and a snapshot at 250, closed; returns what it served.
async fn snapshotted_store(path: &Path) -> Served {
    let store = new_store(path).await;
    store.set_snapshot_interval(0);
    let mut generator = Gen::new(5, "t");
    store.append(&generator.take(250), &actor()).await.unwrap();
    let info = store.write_snapshot().await.unwrap().unwrap();
    assert_eq!((info.seq, info.events), (250, 250));
    store.append(&generator.take(50), &actor()).await.unwrap();
    served(&store).await
}

/// A replay reads the log a group of events per row on SQLite (bodies joined by newlines):
/// bodies that hold a newline themselves (valid JSON, though the store never writes one) are
/// read one per row instead, and the replay serves the same state.
#[test]
fn a_replay_reads_bodies_that_hold_newlines() {
    let newline = if store::test_support::on_postgres() {
        "chr(10)"
    } else {
        "char(10)"
    };
    let spread = format!(
        "UPDATE events SET body = replace(body, ',\"time\"', {newline} || ',\"time\"') WHERE seq % 7 = 3"
    );
    runtime().block_on(async {
        let dir = TempDir::new("snap-newlines");
        let path = dir.path().join("snap.sqlite");
        let before = snapshotted_store(&path).await;
        tamper(&path, &[&spread, "DELETE FROM state_snapshots"]).await;
        let store = store::test_support::store_at(&path).await.unwrap();
        assert_eq!(store.opened().snapshot_seq, None);
        assert_eq!(store.opened().folded, 300);
        assert_eq!(served(&store).await, before);
    });
}

/// Each way a snapshot can fail to match the log is noticed, named, and answered by a full
/// replay that serves the right state.
#[test]
fn a_mismatched_snapshot_falls_back_to_a_full_replay() {
    type Expect = fn(&SnapshotMismatch) -> bool;
    let (zeroed, truncated) = if store::test_support::on_postgres() {
        (
            "UPDATE state_snapshots SET body = decode(repeat('00', length(body)), 'hex')",
            "UPDATE state_snapshots SET body = substring(body from 1 for length(body) - 1)",
        )
    } else {
        (
            "UPDATE state_snapshots SET body = zeroblob(length(body))",
            "UPDATE state_snapshots SET body = substr(body, 1, length(body) - 1)",
        )
    };
    let cases: [(&str, Expect); 7] = [
        (zeroed, |m| *m == SnapshotMismatch::Digest),
        (truncated, |m| *m == SnapshotMismatch::Digest),
        ("UPDATE state_snapshots SET events = events + 1", |m| {
            *m == SnapshotMismatch::Digest
        }),
        ("UPDATE state_snapshots SET plant_version = 7", |m| {
            matches!(
                m,
                SnapshotMismatch::PlantVersion {
                    snapshot: 7,
                    plant: 1
                }
            )
        }),
        ("UPDATE state_snapshots SET layout = 'another build'", |m| {
            *m == SnapshotMismatch::Layout
        }),
        ("UPDATE state_snapshots SET event_id = 'not-there'", |m| {
            matches!(m, SnapshotMismatch::Event { seq: 250, .. })
        }),
        ("UPDATE state_snapshots SET seq = 9999", |m| {
            matches!(
                m,
                SnapshotMismatch::AheadOfLog {
                    seq: 9999,
                    last: 300
                }
            )
        }),
    ];
    runtime().block_on(async {
        for (sql, expected) in cases {
            let dir = TempDir::new("snap-mismatch");
            let path = dir.path().join("snap.sqlite");
            let before = snapshotted_store(&path).await;
            tamper(&path, &[sql]).await;
            let store = store::test_support::store_at(&path).await.unwrap();
            let opened = store.opened();
            let fallback = opened.fallback.clone().expect(sql);
            assert!(expected(&fallback), "{sql}: {fallback}");
            assert_eq!(opened.snapshot_seq, None, "{sql}");
            assert_eq!(opened.folded, 300, "{sql}");
            assert_eq!(served(&store).await, before, "{sql}");
        }
    });
}

/// An untouched snapshot is used, and a body swapped in from another point of the same log
/// (with its own digest, so it checks out on its own) is refused by the event id.
#[test]
fn a_snapshot_is_used_only_at_its_own_seq() {
    runtime().block_on(async {
        let dir = TempDir::new("snap-used");
        let path = dir.path().join("snap.sqlite");
        let before = snapshotted_store(&path).await;
        let store = store::test_support::store_at(&path).await.unwrap();
        assert_eq!(store.opened().snapshot_seq, Some(250));
        assert_eq!(store.opened().folded, 50);
        assert_eq!(served(&store).await, before);
        drop(store);
        tamper(&path, &["UPDATE state_snapshots SET seq = 200"]).await;
        let store = store::test_support::store_at(&path).await.unwrap();
        assert!(
            matches!(
                store.opened().fallback,
                Some(SnapshotMismatch::Event { seq: 200, .. })
            ),
            "{:?}",
            store.opened()
        );
        assert_eq!(served(&store).await, before);
    });
}

/// A reset wipes the snapshots with the log; new events after it (the same ids, other
/// content) are folded from the plant's initial state, not from the old snapshot.
#[test]
fn a_reset_discards_snapshots() {
    runtime().block_on(async {
        let dir = TempDir::new("snap-reset");
        let path = dir.path().join("snap.sqlite");
        snapshotted_store(&path).await;
        let store = store::test_support::store_at(&path).await.unwrap();
        store.reset(&actor()).await.unwrap();
        let mut other = Gen::new(6, "t");
        store.append(&other.take(280), &actor()).await.unwrap();
        let before = served(&store).await;
        drop(store);
        let store = store::test_support::store_at(&path).await.unwrap();
        assert_eq!(store.opened().snapshot_seq, None);
        assert_eq!(store.opened().fallback, None, "no snapshot was left");
        assert_eq!(served(&store).await, before);
        assert_same_state(&replay_log(&store, 64).await, &before.state, "after reset");
    });
}

/// Rebuilding the projections writes a snapshot from the full replay, which repairs a
/// snapshot in doubt; appends write one every interval.
#[test]
fn rebuilds_and_appends_write_snapshots() {
    runtime().block_on(async {
        let dir = TempDir::new("snap-rebuild");
        let path = dir.path().join("snap.sqlite");
        let before = snapshotted_store(&path).await;
        tamper(&path, &["UPDATE state_snapshots SET layout = 'old'"]).await;
        let store = store::test_support::store_at(&path).await.unwrap();
        assert_eq!(store.opened().fallback, Some(SnapshotMismatch::Layout));
        store.rebuild_projections().await.unwrap();
        drop(store);
        let store = store::test_support::store_at(&path).await.unwrap();
        assert_eq!(store.opened().snapshot_seq, Some(300));
        assert_eq!(store.opened().folded, 0);
        let rebuilt = served(&store).await;
        assert_eq!(rebuilt.state, before.state);
        assert_eq!(rebuilt.events, before.events);

        store.set_snapshot_interval(40);
        store.set_snapshot_budget(0);
        let mut generator = Gen::new(9, "u");
        for _ in 0..5 {
            store.append(&generator.take(25), &actor()).await.unwrap();
        }
        let after = served(&store).await;
        drop(store);
        let store = store::test_support::store_at(&path).await.unwrap();
        // 300 + 25k: due at 350 (two batches past 300), then at 400 (two more).
        assert_eq!(store.opened().snapshot_seq, Some(400));
        assert_eq!(store.opened().folded, 25);
        assert_eq!(served(&store).await, after);
    });
}

/// Another process's writes and snapshots: a store that reloads after another handle reset
/// the log and appended reads the other handle's snapshot, and both serve the same state.
#[test]
fn two_handles_share_snapshots() {
    runtime().block_on(async {
        let dir = TempDir::new("snap-writers");
        let path = dir.path().join("snap.sqlite");
        snapshotted_store(&path).await;
        let a = store::test_support::store_at(&path).await.unwrap();
        let b = store::test_support::store_at(&path).await.unwrap();
        a.reset(&actor()).await.unwrap();
        a.append(&Gen::new(11, "v").take(120), &actor())
            .await
            .unwrap();
        a.write_snapshot().await.unwrap().unwrap();
        // `b` learns of the reset at its next read and reloads: from `a`'s snapshot.
        let seen = served(&b).await;
        assert_eq!(b.opened().snapshot_seq, Some(120));
        assert_eq!(seen, served(&a).await);
    });
}

/// The store's URL, for the child.
const CHILD_ENV: &str = "MIXPLANE_STORE_SNAPSHOT_CRASH_CHILD_DB";
const BATCH: usize = 300;

/// The writer of the crash test: a snapshot after every batch, acknowledged after it.
fn crash_writer(url: &str) {
    runtime().block_on(async {
        let store = new_store_at(url).await;
        store.set_snapshot_interval(1);
        store.set_snapshot_budget(0);
        let mut generator = Gen::new(21, "k");
        for _ in 0..2_000 {
            let outcome = store
                .append(&generator.take(BATCH), &actor())
                .await
                .unwrap();
            use std::io::Write as _;
            let mut out = std::io::stdout().lock();
            writeln!(out, "ACK {}", outcome.last_seq.unwrap()).unwrap();
            out.flush().unwrap();
        }
    });
}

/// SIGKILL while every batch is followed by a snapshot: the database opens (from a snapshot,
/// which matches) to exactly a fold of the events that survived, which include every
/// acknowledged one.
#[test]
fn a_writer_killed_while_snapshotting_leaves_a_consistent_store() {
    if let Ok(url) = std::env::var(CHILD_ENV) {
        crash_writer(&url);
        return;
    }
    let dir = TempDir::new("snap-crash");
    let db = dir.path().join("crash.sqlite");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_writer_killed_while_snapshotting_leaves_a_consistent_store",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, store::test_support::url_at(&db))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the writer");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let kill_after = 3 + (std::process::id() % 5) as usize;
    let mut acked = 0i64;
    let mut acks = 0;
    for line in lines.by_ref() {
        if let Some(seq) = line.unwrap().strip_prefix("ACK ") {
            acked = seq.parse().unwrap();
            acks += 1;
            if acks == kill_after {
                let pause = std::time::Duration::from_millis(u64::from(std::process::id() % 30));
                std::thread::sleep(pause);
                child.kill().expect("SIGKILL the writer");
                break;
            }
        }
    }
    for line in lines {
        if let Some(seq) = line.unwrap().strip_prefix("ACK ") {
            acked = seq.parse().unwrap();
        }
    }
    assert!(!child.wait().unwrap().success());
    runtime().block_on(async {
        let store = store::test_support::store_at(&db).await.unwrap();
        let opened = store.opened();
        assert_eq!(opened.fallback, None);
        assert!(opened.snapshot_seq.is_some(), "{opened:?}");
        let events = store.counts().await.unwrap().events as i64;
        assert!(events >= acked, "{acked} acknowledged, {events} stored");
        let catalog = store.plant().await.unwrap();
        let mut expected = PlantState::initial(&catalog, Timestamp(T0));
        for event in Gen::new(21, "k").take(events as usize) {
            expected.apply(&catalog, &event).unwrap();
        }
        assert_same_state(&*store.state().await, &expected, "after the crash");
        assert_eq!(writer_events(&store).await, events);
        assert!(store.verify_audit().await.unwrap().is_intact());
    });
}

/// A clean stop's snapshot (`write_snapshot_if_behind`) writes nothing when the stored one
/// already holds the log's end as this build folds it, and writes one when the log grew or
/// the stored one was written by another build.
#[test]
fn a_snapshot_already_at_the_logs_end_is_not_written_again() {
    runtime().block_on(async {
        let dir = TempDir::new("snap-if-behind");
        let path = dir.path().join("snap.sqlite");
        let before = snapshotted_store(&path).await;
        let store = store::test_support::store_at(&path).await.unwrap();
        // The stored snapshot is at 250, the log at 300.
        let info = store.write_snapshot_if_behind().await.unwrap().unwrap();
        assert_eq!((info.seq, info.events), (300, 300));
        assert!(store.write_snapshot_if_behind().await.unwrap().is_none());
        drop(store);
        // Another build's snapshot is behind, whatever its seq.
        tamper(
            &path,
            &["UPDATE state_snapshots SET layout = 'another build'"],
        )
        .await;
        let store = store::test_support::store_at(&path).await.unwrap();
        assert_eq!(store.opened().fallback, Some(SnapshotMismatch::Layout));
        assert_eq!(
            store.write_snapshot_if_behind().await.unwrap().unwrap().seq,
            300
        );
        assert!(store.write_snapshot_if_behind().await.unwrap().is_none());
        drop(store);
        let store = store::test_support::store_at(&path).await.unwrap();
        assert_eq!(store.opened().snapshot_seq, Some(300));
        assert_eq!(store.opened().folded, 0);
        assert_eq!(served(&store).await, before);
    });
}
