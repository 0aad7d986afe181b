//! Two processes on one data directory: `mixplane serve` keeps running while the CLI, as a
//! second process, puts the plant, imports events and creates a token in the same database.
//! The server sees what the CLI wrote, its own writes (with the administrator's token and with
//! the token the CLI created) succeed — no 500 — and the audit chain stays intact (issue #13:
//! the server kept the chain's head in memory and failed with `UNIQUE constraint failed:
//! audit.seq` after the CLI's write).

use std::path::Path;
use std::process::{Command, Output};

mod common;
use common::OnTestBackend;

use common::TempDir;
use common::serve::Server;

fn mixplane(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mixplane"))
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("MIXPLANE_DATA_DIR")
        .on_test_backend()
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `mixplane token create`, as its own process; returns the token.
fn create_token(data_dir: &Path, name: &str, role: &str) -> String {
    let out = mixplane(
        data_dir,
        &["token", "create", "--name", name, "--role", role],
    );
    assert!(out.status.success(), "token create: {}", text(&out.stderr));
    let token = text(&out.stdout).trim().to_owned();
    assert!(token.starts_with("mxp_"), "{token}");
    token
}

fn unit_event(id: &str, unit: &str, minute: u32, state: &str) -> serde_json::Value {
    serde_json::json!({
        "id": id,
        "time": format!("2026-03-02T06:{minute:02}:00Z"),
        "type": "equipment_state_changed",
        "unit": unit,
        "state": state,
    })
}

fn audit_verify(data_dir: &Path) -> String {
    let out = mixplane(data_dir, &["audit", "verify"]);
    assert!(
        out.status.success(),
        "audit verify: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let stdout = text(&out.stdout);
    assert!(stdout.contains("audit trail intact"), "{stdout}");
    stdout
}

#[test]
fn the_cli_writes_beside_a_running_server_and_both_keep_working() {
    let dir = TempDir::new("two-processes");
    let data = dir.0.join("data");
    let admin = create_token(&data, "root", "admin");
    let server = Server::start(&data);
    assert_eq!(server.events_applied(), 0);

    // The CLI puts the reference plant and imports three events while the server runs.
    let imported: Vec<serde_json::Value> = (0..3)
        .map(|i| unit_event(&format!("cli-{i}"), "ASM-L1", i, "down"))
        .collect();
    let file = dir.0.join("events.jsonl");
    let lines: Vec<String> = imported.iter().map(ToString::to_string).collect();
    std::fs::write(&file, lines.join("\n")).unwrap();
    let out = mixplane(&data, &["import", file.to_str().unwrap()]);
    assert!(out.status.success(), "import: {}", text(&out.stderr));
    assert_eq!(
        server.events_applied(),
        3,
        "the server folds what the CLI imported"
    );

    // The server's own write after the CLI's: new events stored, the CLI's one a duplicate.
    let batch = serde_json::json!([
        unit_event("api-1", "ASM-L2", 10, "running"),
        imported[0],
        unit_event("api-2", "ASM-L2", 11, "idle"),
    ]);
    let (status, body) = server.request("POST", "/v1/events", Some(&admin), Some(&batch));
    assert_eq!(status, 200, "{body}");
    let outcome: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(outcome["inserted"], 2, "{body}");
    assert_eq!(outcome["duplicates"], 1, "{body}");
    assert_eq!(outcome["first_seq"], 4, "{body}");

    // A second process creates a token: the server's next writes, with either token, succeed.
    let operator = create_token(&data, "line-bot", "operator");
    for (i, token) in [&admin, &operator].into_iter().enumerate() {
        let batch = serde_json::json!([unit_event(
            &format!("after-{i}"),
            "CB-1",
            20 + i as u32,
            "down"
        )]);
        let (status, body) = server.request("POST", "/v1/events", Some(token), Some(&batch));
        assert_eq!(status, 200, "write {i} after `token create`: {body}");
        let outcome: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(outcome["inserted"], 1, "{body}");
    }
    // The same id with other content is a conflict, whichever process stored it.
    let changed = serde_json::json!([unit_event("cli-1", "ASM-L1", 1, "running")]);
    let (status, body) = server.request("POST", "/v1/events", Some(&operator), Some(&changed));
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("cli-1"), "{body}");

    // Every event once; the chain is intact, read while the server runs and after it stops.
    assert_eq!(server.events_applied(), 7);
    let (status, body) = server.request("GET", "/v1/events?limit=100", Some(&admin), None);
    assert_eq!(status, 200, "{body}");
    let stored: serde_json::Value = serde_json::from_str(&body).unwrap();
    let ids: Vec<&str> = stored["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "cli-0", "cli-1", "cli-2", "api-1", "api-2", "after-0", "after-1"
        ]
    );
    audit_verify(&data);
    let (status, body) = server.request("GET", "/v1/audit?limit=100", Some(&admin), None);
    assert_eq!(status, 200, "{body}");
    let trail: serde_json::Value = serde_json::from_str(&body).unwrap();
    let actions: Vec<&str> = trail["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    for expected in ["principal.create", "plant.put", "events.append"] {
        assert!(actions.contains(&expected), "{actions:?}");
    }
    assert_eq!(
        actions.iter().filter(|a| **a == "principal.create").count(),
        2,
        "{actions:?}"
    );
    assert_eq!(
        actions.iter().filter(|a| **a == "events.append").count(),
        4,
        "{actions:?}"
    );
    drop(server);
    audit_verify(&data);
}
