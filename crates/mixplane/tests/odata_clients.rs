//! The OData surface as two clients nobody here wrote read it, against a real `mixplane
//! serve` over a five-day demo (alerts, holds, a nonconformance and proposals among its rows):
//!
//! - `python-odata` (PyPI, pinned in `.ci/python/requirements.txt`, in the venv of
//!   `.ci/python/env`; `MIXPLANE_PYTHON` names its python): `conformance/odata-clients/
//!   python_odata.py` reflects the model from `$metadata`, reads every entity set whole
//!   following `@odata.nextLink`, filters, orders, counts and expands;
//! - `@odata/client` (npm, pinned by `conformance/odata-clients/npm/package-lock.json`,
//!   installed outside the clone by `.ci/odata-npm/env`; `MIXPLANE_ODATA_NPM` names the folder
//!   of its `node_modules`): `conformance/odata-clients/odata_client.js` reads every set in
//!   `$top`/`$skip` windows with its count, filters, selects, expands and follows next links.
//!
//! What each client parsed is compared with the server's raw answers, fetched here. Without
//! the variable a test says why and passes, unless `MIXPLANE_REQUIRE_PY=1` (python) or
//! `MIXPLANE_REQUIRE_ODATA_NPM=1` (npm), both set by `.ci/run`, where it fails.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

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
        .on_test_backend()
        .output()
        .expect("the binary runs");
    assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    text(&out.stdout)
}

/// A five-day demo served on a free loopback port: the process, its base URL and an admin's
/// token of scope `*` (the audit trail is one of the sets read).
fn serve_demo(dir: &Path) -> (Server, String, String) {
    let data = dir.join("data");
    mixplane(&data, &["demo", "--no-serve", "--days", "5"]);
    let token = mixplane(
        &data,
        &[
            "token", "create", "--name", "bi-tool", "--role", "admin", "--scope", "*",
        ],
    )
    .trim()
    .to_owned();
    // No live agents: they would write (proposals, audit records) while the clients read, and
    // the comparison with the server's answers needs data that holds still.
    let config = dir.join("mixplane.toml");
    std::fs::write(&config, "[agents]\nenabled = false\n").unwrap();
    let server = Server::start_with(&data, &["--config", &config.to_string_lossy()]);
    let base = format!("http://{}", server.address);
    (server, base, token)
}

/// Every row of `path` on the server (following next links), raw.
async fn raw_rows(http: &reqwest::Client, base: &str, token: &str, path: &str) -> Vec<Value> {
    let mut rows = Vec::new();
    let mut next = Some(format!("{base}{path}"));
    while let Some(url) = next {
        let body: Value = http
            .get(&url)
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        rows.extend(
            body["value"]
                .as_array()
                .expect("a collection")
                .iter()
                .cloned(),
        );
        next = body["@odata.nextLink"].as_str().map(str::to_owned);
    }
    rows
}

fn ids(rows: &[Value], key: &str) -> Vec<String> {
    let mut ids: Vec<String> = rows
        .iter()
        .map(|r| match &r[key] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect();
    ids.sort();
    ids
}

/// Every set's rows as the server answers them, keyed by set.
async fn every_set(
    http: &reqwest::Client,
    base: &str,
    token: &str,
) -> BTreeMap<String, Vec<String>> {
    let doc: Value = http
        .get(format!("{base}/odata/"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut sets = BTreeMap::new();
    for set in doc["value"].as_array().unwrap() {
        let name = set["name"].as_str().unwrap();
        let key = if name == "AuditRecords" { "seq" } else { "id" };
        let rows = raw_rows(http, base, token, &format!("/odata/{name}")).await;
        sets.insert(name.to_owned(), ids(&rows, key));
    }
    assert_eq!(sets.len(), 12);
    sets
}

/// The client's summary of every set agrees with the server's rows.
fn check_sets(summary: &Value, sets: &BTreeMap<String, Vec<String>>) {
    for (name, keys) in sets {
        let got = &summary["sets"][name];
        assert_eq!(got["rows"], keys.len(), "{name}: {got}");
        assert_eq!(got["count"], keys.len(), "{name}: the client's count");
        assert_eq!(got["keys"], serde_json::json!(keys), "{name}");
    }
    for name in [
        "Orders",
        "Operations",
        "Units",
        "WorkCenters",
        "Lots",
        "QualityResults",
    ] {
        assert!(!sets[name].is_empty(), "the demo has {name}");
    }
}

fn enc(text: &str) -> String {
    text.replace('%', "%25")
        .replace(' ', "%20")
        .replace('+', "%2B")
        .replace('\'', "%27")
}

/// The expected answer of the clients' filter: results of one characteristic at or after
/// (`strict`: after) an instant, newest first.
async fn filtered(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    summary: &Value,
    strict: bool,
) -> Vec<String> {
    let all = raw_rows(http, base, token, "/odata/QualityResults").await;
    let characteristic = summary["filtered"]["characteristic"].as_str().unwrap();
    let since = model::Timestamp::parse(summary["filtered"]["since"].as_str().unwrap()).unwrap();
    let mut rows: Vec<&Value> = all
        .iter()
        .filter(|r| r["characteristic"] == characteristic)
        .filter(|r| {
            let t = model::Timestamp::parse(r["time"].as_str().unwrap()).unwrap();
            if strict { t > since } else { t >= since }
        })
        .collect();
    rows.sort_by(|a, b| {
        b["time"]
            .as_str()
            .cmp(&a["time"].as_str())
            .then(b["seq"].as_i64().cmp(&a["seq"].as_i64()))
    });
    assert!(!rows.is_empty(), "the filter is not vacuous");
    rows.iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Each order's operations as the server answers them.
async fn operations_of(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    order: &str,
) -> Vec<String> {
    let filter = enc(&format!("order eq '{order}'"));
    let rows = raw_rows(
        http,
        base,
        token,
        &format!("/odata/Operations?$filter={filter}"),
    )
    .await;
    ids(&rows, "id")
}

#[tokio::test]
async fn python_odata_reads_filters_expands_and_pages() {
    let Some(python) = common::venv_python() else {
        return;
    };
    let dir = TempDir::new("odata-python");
    let (_serving, base, token) = serve_demo(&dir.0);
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../conformance/odata-clients/python_odata.py");
    let out = Command::new(&python)
        .arg(&script)
        .args([&base, &token])
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "python-odata failed:\n{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).expect("a JSON summary");
    let http = reqwest::Client::new();
    let sets = every_set(&http, &base, &token).await;
    check_sets(&summary, &sets);
    let results = &summary["sets"]["QualityResults"];
    assert!(
        results["pages"].as_u64().unwrap() > 1,
        "it followed next links: {results}"
    );

    let want = filtered(&http, &base, &token, &summary, false).await;
    assert_eq!(summary["filtered"]["ids"], serde_json::json!(want));
    assert_eq!(summary["filtered"]["count"], want.len());

    let orders = raw_rows(&http, &base, &token, "/odata/Orders?$expand=operations").await;
    let prefix = summary["texts"]["prefix"].as_str().unwrap();
    let mut want: Vec<String> = orders
        .iter()
        .filter(|o| o["id"].as_str().unwrap().starts_with(prefix))
        .filter(|o| !o["status"].as_str().unwrap().contains("complete"))
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect();
    want.sort();
    assert_eq!(summary["texts"]["ids"], serde_json::json!(want));
    let mut want: Vec<String> = orders
        .iter()
        .filter(|o| matches!(o["status"].as_str(), Some("released" | "in_progress")))
        .filter(|o| {
            o["operations"]
                .as_array()
                .unwrap()
                .iter()
                .any(|op| op["step"] == 0)
        })
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect();
    want.sort();
    assert_eq!(summary["in_any"]["ids"], serde_json::json!(want));
    let expanded = summary["expanded"].as_object().unwrap();
    assert_eq!(expanded.len(), 20.min(orders.len()));
    for (order, operations) in expanded {
        assert_eq!(
            *operations,
            serde_json::json!(operations_of(&http, &base, &token, order).await)
        );
    }
}

#[tokio::test]
async fn odata_client_from_npm_reads_filters_expands_and_pages() {
    let hint = "install it with `export MIXPLANE_ODATA_NPM=\"$(.ci/odata-npm/env)\"`";
    let Some(modules) =
        common::required_tool("MIXPLANE_ODATA_NPM", "MIXPLANE_REQUIRE_ODATA_NPM", hint)
    else {
        return;
    };
    let dir = TempDir::new("odata-npm");
    let (_serving, base, token) = serve_demo(&dir.0);
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../conformance/odata-clients/odata_client.js");
    let out = Command::new("node")
        .arg(&script)
        .args([&base, &token])
        .env("NODE_PATH", modules.join("node_modules"))
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "@odata/client failed:\n{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).expect("a JSON summary");
    let http = reqwest::Client::new();
    let sets = every_set(&http, &base, &token).await;
    check_sets(&summary, &sets);

    let want = filtered(&http, &base, &token, &summary, true).await;
    assert_eq!(summary["filtered"]["ids"], serde_json::json!(want));
    let fields: Vec<&str> = summary["filtered"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .filter(|f| !f.starts_with('@'))
        .collect();
    assert_eq!(fields, ["id", "time"], "$select left the rest out");

    let expanded = summary["expanded"].as_object().unwrap();
    assert_eq!(expanded.len(), 3);
    for (order, operations) in expanded {
        assert_eq!(
            *operations,
            serde_json::json!(operations_of(&http, &base, &token, order).await)
        );
    }
    let paged = &summary["paged"];
    let total = sets["QualityResults"].len();
    assert_eq!(paged["rows"], total);
    assert_eq!(paged["distinct"], total);
    assert_eq!(paged["pages"], total.div_ceil(50));
}
