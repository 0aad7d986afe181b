//! The `kill -9` trials of ARCHITECTURE.md's Durability section, run by `.ci/run`: a few
//! trials of `mixplane bench crash` for each kind of ingest (HTTP batches from concurrent
//! clients, a `jsonl` connector tailing a file). Each kills `mixplane serve` with SIGKILL
//! mid-ingest, restarts it on the same data directory and checks that every acknowledged event
//! is stored once with its content, no batch is half-written, a resent batch is stored as
//! duplicates only, and `mixplane audit verify` passes. `mixplane bench crash --trials 100`
//! runs the full count.

use std::process::Command;

mod common;

use common::TempDir;

/// Runs the trials of one kind and answers its report.
fn trials(kind: &str, trials: u32) -> serde_json::Value {
    let dir = TempDir::new(&format!("crash-trials-{kind}"));
    let out = Command::new(env!("CARGO_BIN_EXE_mixplane"))
        .args(["bench", "crash", "--kind", kind, "--json", "--batch", "50"])
        .args([
            "--clients",
            "3",
            "--trials",
            &trials.to_string(),
            "--data-dir",
        ])
        .arg(&dir.0)
        .env_remove("MIXPLANE_DATA_DIR")
        .output()
        .expect("the binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "bench crash --kind {kind}: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON object");
    assert_eq!(report["passed"], true, "{report:#}");
    report["kinds"][0].clone()
}

#[test]
fn sigkill_during_http_ingest_loses_nothing_acknowledged() {
    let report = trials("http", 5);
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

#[test]
fn sigkill_during_connector_ingest_loses_nothing_and_stores_nothing_twice() {
    let report = trials("connector", 5);
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
