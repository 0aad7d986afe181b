//! The MCP server as an agent's client sees it: the official Python MCP SDK (`mcp` on PyPI,
//! pinned in `.ci/python/requirements.txt`, installed by `.ci/python/env`; `MIXPLANE_PYTHON`
//! names its python) drives `conformance/mcp/client.py` against
//!
//! - `mixplane mcp --token …` over stdio, and
//! - `POST /mcp` of a running `mixplane serve` over Streamable HTTP,
//!
//! listing the tools, calling every one, checking refusals outside the agent's role and scope
//! and that a schedule change above the policy's threshold waits for a person; then the audit
//! trail holds a record of each call under the agent.
//!
//! Without `MIXPLANE_PYTHON` the tests say why and pass, unless `MIXPLANE_REQUIRE_PY=1` (set
//! by `.ci/run`), where they fail.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::OnTestBackend;

use common::TempDir;
use common::serve::Server;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn mixplane(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_mixplane"))
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .env_remove("MIXPLANE_DATA_DIR")
        .env_remove("MIXPLANE_LOG")
        .env_remove("MIXPLANE_TOKEN")
        .on_test_backend()
        .output()
        .expect("the binary runs");
    assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    text(&out.stdout).trim().to_owned()
}

/// A demo store with three agents: site-wide, scoped to the assembly area, and one whose
/// role (viewer) may not propose; a nonconformance a quality engineer opened on a lot, and a
/// hold that engineer proposed on another lot (applied by itself under the policy).
struct Plant {
    _dir: TempDir,
    data: PathBuf,
    token: String,
    area_token: String,
    viewer_token: String,
    lot: String,
    nc: String,
    hold: String,
}

fn plant(label: &str) -> Plant {
    let dir = TempDir::new(label);
    let data = dir.0.join("data");
    mixplane(&data, &["demo", "--no-serve", "--days", "1"]);
    let token = |name: &str, role: &str, scope: &str| {
        mixplane(
            &data,
            &[
                "token", "create", "--name", name, "--kind", "agent", "--role", role, "--scope",
                scope,
            ],
        )
    };
    let lots = produced_lots(&data);
    let lot = lots[0].clone();
    let engineer = mixplane(
        &data,
        &[
            "token",
            "create",
            "--name",
            "quinn",
            "--role",
            "quality_engineer",
            "--scope",
            "*",
        ],
    );
    let server = Server::start(&data);
    let (status, body) = server.request(
        "POST",
        "/v1/quality/nonconformances",
        Some(&engineer),
        Some(
            &serde_json::json!({"description": "viscosity high", "items": [format!("lot:{lot}")]}),
        ),
    );
    assert_eq!(status, 201, "{body}");
    let nc: serde_json::Value = serde_json::from_str(&body).unwrap();
    let draft = serde_json::json!({
        "kind": "quality_hold",
        "area": "A-CHEM",
        "title": "hold for the MCP test",
        "evidence": {
            "input_sha256": "e".repeat(64),
            "engine": "mcp-test",
            "engine_version": "0",
            "trigger": {"type": "principal", "principal": "quinn"}
        },
        "diff": [{"entity": "lot", "id": lots[1], "field": "hold", "before": null,
                  "after": {"reason": "suspect viscosity", "severity": "major"}}]
    });
    let (status, body) = server.request("POST", "/v1/proposals", Some(&engineer), Some(&draft));
    assert_eq!(status, 201, "{body}");
    let proposal: serde_json::Value = serde_json::from_str(&body).unwrap();
    let hold = proposal["applied"]["answer"]["holds"][0]
        .as_str()
        .unwrap_or_else(|| panic!("the hold applied by itself: {proposal}"))
        .to_owned();
    drop(server);
    Plant {
        token: token("agent-site", "agent", "*"),
        area_token: token("agent-assembly", "agent", "area:A-ASSY"),
        viewer_token: token("agent-viewer", "viewer", "*"),
        nc: nc["id"].as_str().unwrap().to_owned(),
        hold,
        lot,
        data,
        _dir: dir,
    }
}

/// The lots orders of the demo produced (the genealogy, gate and hold tools are asked about
/// them), read from the store before the client starts.
fn produced_lots(data: &Path) -> Vec<String> {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = store::test_support::store_at(&data.join("mixplane.db"))
            .await
            .unwrap();
        let state = store.state().await;
        let lots: Vec<String> = state
            .lots
            .iter()
            .filter(|(_, lot)| lot.produced_by.is_some())
            .map(|(id, _)| id.to_string())
            .collect();
        assert!(lots.len() >= 2, "the demo produced {} lots", lots.len());
        lots
    })
}

fn characteristic() -> String {
    sim::reference_plant().inspection_plans[0].characteristics[0]
        .id
        .to_string()
}

fn tool_names() -> String {
    mcp::tools::TOOLS
        .iter()
        .map(|t| t.name)
        .collect::<Vec<_>>()
        .join(",")
}

fn run_client(python: &Path, plant: &Plant, transport: &[&str]) -> Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../conformance/mcp/client.py");
    Command::new(python)
        .arg(script)
        .args(transport)
        .args(["--token", &plant.token])
        .args(["--area-token", &plant.area_token])
        .args(["--viewer-token", &plant.viewer_token])
        .args(["--expect-tools", &tool_names()])
        .args(["--characteristic", &characteristic()])
        .args(["--lot", &plant.lot])
        .args(["--nc", &plant.nc])
        .args(["--hold", &plant.hold])
        // The stdio server the client starts (`mixplane mcp --data-dir D`) finds the store
        // where the tests' backend keeps the one of D.
        .envs(store::test_support::postgres_url().map(|_| {
            (
                "MIXPLANE_DATABASE",
                store::test_support::url_at(&plant.data.join("mixplane.db")),
            )
        }))
        .output()
        .expect("python runs")
}

/// The audit records of tool calls by `agent`, and their outcomes.
fn tool_calls_of(data: &Path, agent: &str) -> Vec<String> {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = store::test_support::store_at(&data.join("mixplane.db"))
            .await
            .unwrap();
        store
            .audit_log(0, 100_000)
            .await
            .unwrap()
            .into_iter()
            .filter(|r| r.action == app::tool_calls::TOOL_CALL && r.actor.id == agent)
            .map(|r| format!("{} {}", r.subject, r.detail["outcome"]))
            .collect()
    })
}

fn assert_client_passed(out: &Output) {
    assert!(
        out.status.success(),
        "the MCP client failed:\n{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    println!("{}", text(&out.stdout).trim());
}

fn assert_every_tool_audited(data: &Path) {
    let calls = tool_calls_of(data, "agent-site");
    for tool in mcp::tools::TOOLS {
        assert!(
            calls
                .iter()
                .any(|c| c.starts_with(&format!("tool:{} ", tool.name))),
            "no audit record of `{}` by agent-site: {calls:?}",
            tool.name
        );
    }
    let refused = tool_calls_of(data, "agent-assembly");
    assert!(
        refused.iter().any(|c| c == "tool:run_what_if \"refused\""),
        "{refused:?}"
    );
}

#[test]
fn the_python_sdk_uses_every_tool_over_stdio() {
    let Some(python) = common::venv_python() else {
        return;
    };
    let plant = plant("mcp-stdio");
    let binary = env!("CARGO_BIN_EXE_mixplane");
    let data = plant.data.to_string_lossy().into_owned();
    // The stdio server the client starts finds the store where the tests' backend keeps D's.
    let mut transport = vec!["stdio", "--binary", binary, "--data-dir", &data];
    let database = store::test_support::url_at(&plant.data.join("mixplane.db"));
    if store::test_support::on_postgres() {
        transport.extend(["--database", database.as_str()]);
    }
    let out = run_client(&python, &plant, &transport);
    assert_client_passed(&out);
    assert_every_tool_audited(&plant.data);
}

#[test]
fn the_python_sdk_uses_every_tool_over_streamable_http() {
    let Some(python) = common::venv_python() else {
        return;
    };
    let plant = plant("mcp-http");
    let server = Server::start(&plant.data);
    let url = format!("http://{}/mcp", server.address);
    let out = run_client(&python, &plant, &["http", "--url", &url]);
    assert_client_passed(&out);
    drop(server);
    assert_every_tool_audited(&plant.data);
}
