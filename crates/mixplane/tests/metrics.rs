//! `GET /metrics` and `GET /readyz` of a running `mixplane demo`, read as Prometheus reads
//! them: the exposition is parsed by the official Python client's parser
//! (`conformance/prometheus/parse.py`, prometheus-client pinned in `.ci/python`), the
//! request histogram is labelled by route template (never by id), the store's figures are
//! there, and only a site-wide principal reads them.

use std::io::Write as _;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

mod common;

use common::TempDir;
use common::serve::{Demo, request};

fn parsed(python: &std::path::Path, text: &str) -> Value {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../conformance/prometheus/parse.py");
    let mut child = Command::new(python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the Prometheus parser refused the exposition: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON from parse.py")
}

#[test]
fn metrics_parse_as_prometheus_and_readyz_answers() {
    let Some(python) = common::venv_python() else {
        return;
    };
    let dir = TempDir::new("metrics");
    let (demo, _) = Demo::start(&["--days", "1", "--speed", "0"], &dir.0, |_| true);

    let (status, body) = request(&demo.address, "GET", "/readyz", None, None);
    assert_eq!(status, 200, "{body}");
    let (status, _) = request(&demo.address, "GET", "/metrics", None, None);
    assert_eq!(status, 401, "metrics need a token");

    for id in ["MO-260001", "MO-260002", "MO-NOPE"] {
        demo.request("GET", &format!("/v1/orders/{id}"), None);
    }
    let (status, text) = demo.request("GET", "/metrics", None);
    assert_eq!(status, 200, "{text}");
    let families = parsed(&python, &text);

    let requests = &families["mixplane_http_request_duration_seconds"];
    assert_eq!(requests["type"], "histogram");
    let samples = requests["samples"].as_array().unwrap();
    let count = |route: &str, status: &str| {
        samples
            .iter()
            .filter(|s| {
                s["name"] == "mixplane_http_request_duration_seconds_count"
                    && s["labels"]["route"] == route
                    && s["labels"]["status"] == status
            })
            .map(|s| s["value"].as_f64().unwrap())
            .sum::<f64>()
    };
    assert_eq!(count("/v1/orders/{id}", "200"), 2.0, "{text}");
    assert_eq!(count("/v1/orders/{id}", "404"), 1.0, "{text}");
    assert!(
        !samples.iter().any(|s| s["labels"]["route"]
            .as_str()
            .is_some_and(|r| r.contains("MO-"))),
        "no id becomes a label"
    );
    assert!(count("/readyz", "200") >= 1.0);
    assert!(count("/metrics", "401") >= 1.0);

    let value = |family: &str| families[family]["samples"][0]["value"].as_f64().unwrap();
    assert!(value("mixplane_events_applied") > 100.0, "{text}");
    assert!(value("mixplane_audit_records") > 0.0);
    let proposals = families["mixplane_proposals"]["samples"]
        .as_array()
        .unwrap();
    assert_eq!(proposals.len(), 6, "one sample per status");
    assert!(families["mixplane_quality_holds_active"]["samples"][0]["value"].is_number());
    assert!(value("mixplane_quality_enforcement_backlog") >= 0.0);
    assert!(
        families.get("mixplane_agent_reactions").is_some(),
        "the demo's agents report"
    );

    // An area-scoped principal does not read site-wide figures.
    let created = demo.request(
        "POST",
        "/v1/principals",
        Some(&json!({"name": "pack-reader", "role": "viewer", "scope": "area:A-PACK"})),
    );
    assert_eq!(created.0, 201, "{}", created.1);
    let token: Value = serde_json::from_str(&created.1).unwrap();
    let (status, _) = request(
        &demo.address,
        "GET",
        "/metrics",
        token["token"].as_str(),
        None,
    );
    assert_eq!(status, 403);
}
