//! The `kill -9` trials of ARCHITECTURE.md's Durability section, run by `.ci/run`: a few
//! trials of `mixplane bench crash` for each kind of ingest (HTTP batches from concurrent
//! clients, a `jsonl` connector tailing a file). Each kills `mixplane serve` with SIGKILL
//! mid-ingest, restarts it on the same store and checks that every acknowledged event is
//! stored once with its content, no batch is half-written, a resent batch is stored as
//! duplicates only, and `mixplane audit verify` passes. `mixplane bench crash --trials 100`
//! runs the full count.
//!
//! Every kind runs on SQLite (the data directory's file), and again on PostgreSQL when
//! `MIXPLANE_TEST_POSTGRES` names a database (`bench crash --database URL`: a fresh schema
//! per trial); without it the PostgreSQL trials say "skipped".

use std::process::Command;

mod common;

use common::TempDir;

/// The backend the trials run on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

/// Runs the trials of one kind on `backend` and answers its report, or `None` (having said
/// "skipped") on PostgreSQL when no database is named.
fn trials(kind: &str, trials: u32, backend: Backend) -> Option<serde_json::Value> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mixplane"));
    command
        .args(["bench", "crash", "--kind", kind, "--json", "--batch", "50"])
        .args(["--clients", "3", "--trials", &trials.to_string()])
        .env_remove("MIXPLANE_DATA_DIR")
        .env_remove("MIXPLANE_DATABASE");
    // On SQLite, a directory of the test's own; on PostgreSQL the command's temporary one,
    // removed with the trials' schemas when they pass (kept for a look when they fail).
    let _dir = match backend {
        Backend::Sqlite => {
            let dir = TempDir::new(&format!("crash-trials-{kind}"));
            command.arg("--data-dir").arg(&dir.0);
            Some(dir)
        }
        Backend::Postgres => {
            let Some(url) = store::test_support::postgres_url() else {
                println!(
                    "skipped: {} is not set (the kill -9 trials on PostgreSQL, --kind {kind})",
                    store::test_support::ENV
                );
                return None;
            };
            command.args(["--database", &url]);
            None
        }
    };
    let out = command.output().expect("the binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "bench crash --kind {kind}: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON object");
    assert_eq!(report["passed"], true, "{report:#}");
    let expected = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    assert_eq!(report["backend"], expected, "{report:#}");
    assert_eq!(report["kinds"][0]["backend"], expected, "{report:#}");
    Some(report["kinds"][0].clone())
}

fn http_trials(backend: Backend) {
    let Some(report) = trials("http", 5, backend) else {
        return;
    };
    println!("{report:#}");
    assert_eq!(report["trials"], 5, "{report:#}");
    assert_eq!(report["killed_mid_ingest"], 5, "{report:#}");
    assert!(report["acknowledged_events"].as_u64().unwrap() >= 5 * 50);
    for zero in [
        "lost_events",
        "half_written_batches",
        "duplicate_events",
        "mismatched_events",
        "audit_failures",
        "trial_errors",
    ] {
        assert_eq!(report[zero], 0, "{zero}: {report:#}");
    }
}

fn connector_trials(backend: Backend) {
    let Some(report) = trials("connector", 5, backend) else {
        return;
    };
    println!("{report:#}");
    assert_eq!(report["trials"], 5, "{report:#}");
    assert!(report["acknowledged_events"].as_u64().unwrap() >= 5);
    for zero in [
        "lost_events",
        "duplicate_events",
        "mismatched_events",
        "audit_failures",
        "trial_errors",
    ] {
        assert_eq!(report[zero], 0, "{zero}: {report:#}");
    }
}

#[test]
fn sigkill_during_http_ingest_loses_nothing_acknowledged() {
    http_trials(Backend::Sqlite);
}

#[test]
fn sigkill_during_connector_ingest_loses_nothing_and_stores_nothing_twice() {
    connector_trials(Backend::Sqlite);
}

#[test]
fn sigkill_during_http_ingest_on_postgres_loses_nothing_acknowledged() {
    http_trials(Backend::Postgres);
}

#[test]
fn sigkill_during_connector_ingest_on_postgres_loses_nothing_and_stores_nothing_twice() {
    connector_trials(Backend::Postgres);
}
