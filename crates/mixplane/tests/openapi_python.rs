//! The OpenAPI document as the ecosystem reads it, with standard tools from PyPI (pinned in
//! `.ci/python/requirements.txt`, installed by `.ci/python/env` into a venv outside the
//! clone; `MIXPLANE_PYTHON` names its python):
//!
//! - `openapi-spec-validator` finds the document valid OpenAPI 3.1, and every request
//!   example valid under its schema (`tests/openapi/check_document.py`);
//! - `openapi-python-client` generates a client from the document a running `mixplane serve`
//!   answers, with a module for every operation, and that client calls the server
//!   (`tests/openapi/call_client.py`): what it parsed is compared with the raw answers.
//!
//! Without `MIXPLANE_PYTHON` the tests say why and pass, unless `MIXPLANE_REQUIRE_PY=1` (set
//! by `.ci/run`), where they fail: CI cannot pass them silently.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

mod common;
use common::OnTestBackend;

use common::TempDir;
use common::serve::Server;

/// `python args…` with the venv's tools on the path (the generator runs `ruff` from it).
fn run_python(python: &Path, args: &[&std::ffi::OsStr]) -> Output {
    let bin = python.parent().expect("the venv's bin");
    let path = std::env::join_paths(std::iter::once(bin.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    Command::new(python)
        .args(args)
        .env("PATH", path)
        .output()
        .expect("python runs")
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/openapi")
        .join(name)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_document_is_valid_openapi_3_1_and_its_examples_fit_their_schemas() {
    let Some(python) = common::venv_python() else {
        return;
    };
    let dir = TempDir::new("openapi-valid");
    let document = server::openapi::document(&server::api::endpoints());
    let path = dir.0.join("openapi.json");
    std::fs::write(&path, serde_json::to_vec(&document).unwrap()).unwrap();
    let out = run_python(
        &python,
        &[script("check_document.py").as_os_str(), path.as_os_str()],
    );
    assert!(
        out.status.success(),
        "the validator refused the document:\n{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    println!("{}", text(&out.stdout).trim());
}

fn mixplane(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_mixplane"))
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .env_remove("MIXPLANE_DATA_DIR")
        .env_remove("MIXPLANE_LOG")
        .on_test_backend()
        .output()
        .expect("the binary runs");
    assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    text(&out.stdout)
}

/// `GET url`, with the token unless it is empty: the status and the JSON body.
async fn get(client: &reqwest::Client, url: String, token: &str) -> (u16, Value) {
    let mut request = client.get(url);
    if !token.is_empty() {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn a_client_generated_from_the_document_calls_the_server() {
    let Some(python) = common::venv_python() else {
        return;
    };
    let dir = TempDir::new("openapi-client");
    let data = dir.0.join("data");
    mixplane(&data, &["demo", "--no-serve", "--days", "1"]);
    let token = mixplane(
        &data,
        &[
            "token", "create", "--name", "client", "--role", "viewer", "--scope", "*",
        ],
    )
    .trim()
    .to_owned();
    let server = Server::start(&data);
    let base = format!("http://{}", server.address);
    // A connection a call: the server closes idle ones while the generator runs.
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();

    // The document as a client fetches it from the server.
    let (status, document) = get(&http, format!("{base}/v1/openapi.json"), "").await;
    assert_eq!(status, 200);
    let path = dir.0.join("openapi.json");
    std::fs::write(&path, serde_json::to_vec(&document).unwrap()).unwrap();
    let package = dir.0.join("mixplane_client");
    let out = run_python(
        &python,
        &[
            "-m".as_ref(),
            "openapi_python_client".as_ref(),
            "generate".as_ref(),
            "--path".as_ref(),
            path.as_os_str(),
            "--meta".as_ref(),
            "none".as_ref(),
            "--output-path".as_ref(),
            package.as_os_str(),
        ],
    );
    let log = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "the generator failed:\n{log}");
    // A module for every operation (the generator leaves out what it cannot read).
    let operations = document["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum::<usize>();
    let modules = std::fs::read_dir(package.join("api"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|tag| tag.is_dir())
        .flat_map(|tag| std::fs::read_dir(tag).unwrap())
        .map(|module| module.unwrap().file_name())
        .filter(|name| name != "__init__.py" && name.to_string_lossy().ends_with(".py"))
        .count();
    assert_eq!(modules, operations, "operations left out:\n{log}");

    let out = run_python(
        &python,
        &[
            script("call_client.py").as_os_str(),
            dir.0.as_os_str(),
            base.as_ref(),
            token.as_ref(),
        ],
    );
    assert!(
        out.status.success(),
        "the generated client failed:\n{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let parsed: Value = serde_json::from_slice(&out.stdout).expect("a JSON summary");

    // What the client parsed is what the server answered.
    let (_, health) = get(&http, format!("{base}/healthz"), "").await;
    assert_eq!(parsed["health"]["status"], "ok");
    assert_eq!(parsed["health"]["events"], health["events"]);

    let (_, orders) = get(&http, format!("{base}/v1/orders?mode=discrete"), &token).await;
    let ids: Vec<&Value> = orders["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| &o["order"]["id"])
        .collect();
    assert!(!ids.is_empty(), "the demo has discrete orders: {orders}");
    assert_eq!(parsed["orders"]["ids"], serde_json::json!(ids));
    assert_eq!(parsed["orders"]["total"], orders["total"]);
    assert_eq!(parsed["orders"]["modes"], serde_json::json!(["discrete"]));

    let first = ids[0].as_str().unwrap();
    let (_, order) = get(&http, format!("{base}/v1/orders/{first}"), &token).await;
    assert_eq!(parsed["order"]["id"], first);
    assert_eq!(parsed["order"]["status"], order["status"]);
    assert_eq!(parsed["order"]["steps_total"], order["steps_total"]);

    assert_eq!(parsed["missing"]["http"], 404);
    assert_eq!(parsed["missing"]["status"], 404);
    assert_eq!(parsed["missing"]["type"], "urn:mixplane:problem:not-found");

    let (_, events) = get(
        &http,
        format!("{base}/v1/events?type=operation_completed"),
        &token,
    )
    .await;
    let seqs: Vec<&Value> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["seq"])
        .collect();
    assert!(!seqs.is_empty(), "the demo completed operations");
    assert_eq!(parsed["events"]["seqs"], serde_json::json!(seqs));
    assert_eq!(
        parsed["events"]["types"],
        serde_json::json!(["operation_completed"])
    );
}
