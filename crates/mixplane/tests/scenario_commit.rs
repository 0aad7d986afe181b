//! `mixplane schedule scenarios … --commit SCENARIO` as a real binary: the chosen scenario is
//! stored as a governed proposal in the data directory (read back from the store here), its
//! diff and evidence match the scenario the same run printed, and a scenario that was not run
//! or does not exist is named.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

mod common;
use common::OnTestBackend;

use common::TempDir;

fn mixplane(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mixplane"))
        .args(args)
        .env_remove("MIXPLANE_DATA_DIR")
        .env("USER", "cli-planner")
        .on_test_backend()
        .output()
        .expect("the binary runs")
}

fn ok(args: &[&str]) -> String {
    let out = mixplane(args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn a_committed_scenario_is_a_stored_proposal() {
    let dir = TempDir::new("ok");
    let data = dir.0.join("data");
    let problem = dir.0.join("reference.json");
    let plan = dir.0.join("plan.json");
    ok(&[
        "demo",
        "--no-serve",
        "--days",
        "1",
        "--data-dir",
        path(&data),
    ]);
    ok(&["schedule", "reference", "--out", path(&problem)]);
    let common = [
        "--iterations",
        "30",
        "--time-limit",
        "60",
        "--risk-runs",
        "20",
        "--seed",
        "2",
    ];
    let mut args = vec!["schedule", "scenarios", path(&problem)];
    args.extend(common);
    args.push("--json");
    let first: Value = serde_json::from_str(&ok(&args)).unwrap();
    let planned = first["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["scenario"] == "as_planned")
        .unwrap();
    std::fs::write(&plan, planned["schedule"].to_string()).unwrap();

    // Commit the deferral, as JSON: the report plus the stored proposal.
    let mut args = vec![
        "schedule",
        "scenarios",
        path(&problem),
        "--plan",
        path(&plan),
    ];
    args.extend(common);
    args.extend([
        "--commit",
        "defer_low_priority",
        "--area",
        "A-CHEM",
        "--data-dir",
        path(&data),
        "--json",
    ]);
    let out: Value = serde_json::from_str(&ok(&args)).unwrap();
    let proposal = &out["proposal"];
    let chosen = out["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["scenario"] == "defer_low_priority")
        .unwrap();
    assert_eq!(proposal["kind"], "schedule_change");
    assert_eq!(proposal["area"], "A-CHEM");
    assert_eq!(proposal["proposed_by"], "cli-planner");
    assert!(
        proposal["title"]
            .as_str()
            .unwrap()
            .contains("defer_low_priority")
    );
    assert_eq!(
        proposal["evidence"]["kpis_after"]["late_orders"].as_f64(),
        chosen["kpis"]["late_orders"].as_f64()
    );
    assert_eq!(
        proposal["evidence"]["kpis_before"]["late_orders"].as_f64(),
        planned["kpis"]["late_orders"].as_f64()
    );
    let deferred: Vec<&Value> = chosen["changes"]["deferred"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| &d["order"])
        .collect();
    let due_changes: Vec<&Value> = proposal["diff"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["entity"] == "order" && c["field"] == "due")
        .map(|c| &c["id"])
        .collect();
    assert!(!deferred.is_empty());
    assert_eq!(due_changes, deferred);

    // It is in the store, as the server would have stored it.
    let id = proposal["id"].as_str().unwrap().to_owned();
    let stored = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let store = store::test_support::store_at(&data.join("mixplane.db"))
            .await
            .unwrap();
        store.proposal(&id).await.unwrap().expect("stored")
    });
    assert_eq!(
        serde_json::to_value(&stored.proposal.diff).unwrap(),
        proposal["diff"]
    );
    assert_eq!(stored.proposal.status.as_str(), proposal["status"]);

    // The table names the proposal, its status and the KPI deltas.
    args.pop();
    let text = ok(&args);
    assert!(text.contains("committed as proposal P-"), "{text}");
    assert!(text.contains("status: "), "{text}");
    assert!(text.contains("late_orders"), "{text}");
    assert!(
        text.contains(&format!("{} order due date(s)", deferred.len())),
        "{text}"
    );

    // A scenario that was not run, and one that does not exist.
    let mut args = vec!["schedule", "scenarios", path(&problem)];
    args.extend(common);
    args.extend([
        "--scenarios",
        "maximize_throughput,minimize_changeovers",
        "--commit",
        "defer_low_priority",
        "--data-dir",
        path(&data),
    ]);
    let out = mixplane(&args);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--commit defer_low_priority: the scenario was not run"),
        "{err}"
    );
    let last = args.len() - 3;
    args[last] = "nonsense";
    let out = mixplane(&args);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    // A closed choice: clap refuses it and lists the scenarios.
    assert!(err.contains("invalid value 'nonsense'"), "{err}");
    assert!(err.contains("defer_low_priority"), "{err}");
}
