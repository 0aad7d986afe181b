//! Durability: a writer killed with SIGKILL in the middle of ingest loses nothing it
//! acknowledged, and leaves a database that opens, verifies and replays.
//!
//! The test re-executes its own binary as the writer (selected by an environment variable).
//! The writer appends batches to a file database and prints `ACK <last_seq>` after each
//! append returns; the parent kills it after a few acknowledgements, while it is ingesting
//! the next batch, then reopens the database and checks every acknowledged event.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use common::{Gen, T0, TempDir, assert_same_state, plant};
use model::{PlantState, Timestamp};
use sqlx::Connection;
use store::{Actor, EventFilter, Store};

const CHILD_ENV: &str = "MIXPLANE_STORE_CRASH_CHILD_DB";
const BATCH: usize = 400;
const SEED: u64 = 77;

/// The writer: ingests until killed (or a generous cap), acknowledging each batch on stdout.
fn writer(db: &Path) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store = Store::open_sqlite(db).await.unwrap();
        let actor = Actor::service("crash-writer");
        store
            .put_plant_at(plant(), Some(Timestamp(T0)), &actor)
            .await
            .unwrap();
        println!("READY");
        let mut generator = Gen::new(SEED, "c");
        for _ in 0..2_000 {
            let outcome = store.append(&generator.take(BATCH), &actor).await.unwrap();
            // println! flushes on newline only for terminals; be explicit for the pipe.
            use std::io::Write as _;
            let mut out = std::io::stdout().lock();
            writeln!(out, "ACK {}", outcome.last_seq.unwrap()).unwrap();
            out.flush().unwrap();
        }
    });
}

#[test]
fn acknowledged_batches_survive_sigkill() {
    if let Some(db) = std::env::var_os(CHILD_ENV) {
        writer(Path::new(&db));
        return;
    }
    let dir = TempDir::new("crash");
    let db = dir.path().join("crash.sqlite");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "acknowledged_batches_survive_sigkill",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &db)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the writer");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut acked = 0i64;
    let mut acks = 0;
    // Kill at a varying point: after 3 to 8 acknowledgements.
    let kill_after = 3 + (std::process::id() % 6) as usize;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(seq) = line.strip_prefix("ACK ") {
            acked = seq.parse().unwrap();
            acks += 1;
            if acks == kill_after {
                // Somewhere inside the next batch: generating, folding, writing or committing.
                let pause = std::time::Duration::from_millis(u64::from(std::process::id() % 25));
                std::thread::sleep(pause);
                child.kill().expect("SIGKILL the writer");
                break;
            }
        }
    }
    // Acknowledgements already in the pipe were given before the kill: they count too.
    for line in lines {
        if let Some(seq) = line.unwrap().strip_prefix("ACK ") {
            acked = seq.parse().unwrap();
        }
    }
    let status = child.wait().unwrap();
    assert!(!status.success(), "the writer should have been killed");
    assert!(acked >= (kill_after * BATCH) as i64, "acked only {acked}");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        // The file is a sound SQLite database.
        let url = format!("sqlite://{}", db.display());
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        let check: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(check, "ok");
        conn.close().await.unwrap();

        let store = Store::open_sqlite(&db).await.unwrap();
        let counts = store.counts().await.unwrap();
        println!(
            "killed after {acks} acknowledgements (last acknowledged seq {acked}); {} events survived",
            counts.events
        );
        assert!(
            counts.events as i64 >= acked,
            "{acked} events were acknowledged but only {} survived",
            counts.events
        );
        // Batches are atomic: whatever survived is a whole number of batches.
        assert_eq!(counts.events as usize % BATCH, 0);

        // Every acknowledged event is there, in order, with its content.
        let expected = Gen::new(SEED, "c").take(counts.events as usize);
        let mut stored = Vec::new();
        let mut after = None;
        loop {
            let page = store
                .events(EventFilter {
                    after_seq: after,
                    limit: 5_000,
                    ..EventFilter::default()
                })
                .await
                .unwrap();
            let Some(last) = page.last() else { break };
            after = Some(last.seq);
            stored.extend(page);
        }
        assert_eq!(stored.len(), expected.len());
        for (i, (stored, expected)) in stored.iter().zip(&expected).enumerate() {
            assert_eq!(stored.seq, i as i64 + 1);
            assert_eq!(&stored.event, expected, "event at seq {}", stored.seq);
        }

        // The audit chain verifies and covers every batch; state and projections agree.
        let report = store.verify_audit().await.unwrap();
        assert!(report.is_intact(), "{report:?}");
        assert_eq!(report.records, 1 + counts.events / BATCH as u64);
        let catalog = store.plant().await.unwrap();
        let mut replayed = PlantState::initial(&catalog, Timestamp(T0));
        for event in &expected {
            replayed.apply(&catalog, event).unwrap();
        }
        assert_same_state(&*store.state().await, &replayed, "state after the crash");
        assert_same_state(
            &store.projected_state().await.unwrap(),
            &replayed,
            "projections after the crash",
        );
    });
}
