//! The web dashboard in a real browser: `mixplane demo --speed 600` serves it, and
//! Playwright (`playwright-core`) drives Debian's chromium through every page's main path
//! (`tests/browser/*.spec.mjs`, run by `tests/browser/run.mjs`), as several principals with
//! different roles, each signed in through the sign-in page.
//!
//! Needs `MIXPLANE_BROWSER_NPM` (`.ci/browser/env` installs chromium and playwright-core
//! outside the clone and prints it); skipped without it, failed under
//! `MIXPLANE_REQUIRE_BROWSER=1`, as `.ci/run` sets. `MIXPLANE_SHOTS=docs/screenshots` keeps
//! the screenshots the README shows; the render and panning figures are printed.

use std::collections::BTreeMap;
use std::process::Command;

mod common;

use common::TempDir;
use common::serve::Demo;

/// The principals the specs sign in as: name, role, scope.
const PRINCIPALS: &[(&str, &str, &str)] = &[
    ("planner", "planner", "*"),
    ("planner2", "planner", "*"),
    ("quality", "quality_engineer", "*"),
    ("supervisor", "supervisor", "*"),
    ("viewer", "viewer", "*"),
    ("chem_supervisor", "supervisor", "area:A-CHEM"),
];

#[test]
fn every_page_works_in_a_real_browser() {
    let Some(npm) = common::required_tool(
        "MIXPLANE_BROWSER_NPM",
        "MIXPLANE_REQUIRE_BROWSER",
        "install chromium and playwright-core with `export MIXPLANE_BROWSER_NPM=\"$(.ci/browser/env)\"`",
    ) else {
        return;
    };
    let dir = TempDir::new("browser");
    let (demo, _) = Demo::start(&["--speed", "600"], &dir.0, |_| true);
    let mut tokens = BTreeMap::new();
    tokens.insert("admin".to_owned(), demo.token.clone());
    for (name, role, scope) in PRINCIPALS {
        let principal = format!("ui-{name}");
        let body = serde_json::json!({ "name": principal, "role": role, "scope": scope, "kind": "person" });
        let (status, answer) = demo.request("POST", "/v1/principals", Some(&body));
        assert_eq!(status, 201, "creating {principal}: {answer}");
        let answer: serde_json::Value = serde_json::from_str(&answer).expect("JSON");
        let token = answer["token"].as_str().expect("a token").to_owned();
        tokens.insert((*name).to_owned(), token);
    }
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    let filter: Vec<String> = std::env::var("MIXPLANE_BROWSER_SPECS")
        .map(|s| s.split(',').map(str::to_owned).collect())
        .unwrap_or_default();
    let status = Command::new(std::env::var("NODE").unwrap_or_else(|_| "node".to_owned()))
        .arg(here.join("run.mjs"))
        .args(&filter)
        .env("MIXPLANE_BASE", format!("http://{}", demo.address))
        .env("MIXPLANE_TOKENS", serde_json::to_string(&tokens).unwrap())
        .env("MIXPLANE_BROWSER_NPM", &npm)
        // The Gantt spec makes its 10,000-operation problem with `mixplane schedule generate`.
        .env("MIXPLANE_BIN", env!("CARGO_BIN_EXE_mixplane"))
        .status()
        .expect("node runs");
    assert!(status.success(), "the browser specs failed (above)");
}
