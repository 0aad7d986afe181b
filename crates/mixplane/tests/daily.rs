//! The daily tasks on the command line (`proposals`, `holds`, `nc`), on the local data
//! directory and against a running `mixplane serve` started here: the acting principal is the
//! token's (decisions audited under it), a role that may not act is refused with the reason,
//! both doors answer the same, and every `--json` answer parses.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};

mod common;
use common::OnTestBackend;

use common::TempDir;
use common::serve::Server;

/// The binary on `data_dir` (for the commands that take one), with no token, server or data
/// directory from the environment.
fn mixplane(data_dir: &Path, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mixplane"));
    command.args(args);
    if !["sim", "validate", "completions"].contains(&args[0]) {
        command.arg("--data-dir").arg(data_dir);
    }
    command
        .env_remove("MIXPLANE_DATA_DIR")
        .env_remove("MIXPLANE_TOKEN")
        .env_remove("MIXPLANE_SERVER")
        .env("MIXPLANE_LOG", "warn")
        .on_test_backend()
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs a command that must succeed and returns its stdout.
fn ok(data_dir: &Path, args: &[&str]) -> String {
    let out = mixplane(data_dir, args);
    assert!(
        out.status.success(),
        "mixplane {args:?} failed: {}",
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Runs a command that must succeed with `--json` and parses its answer.
fn json_of(data_dir: &Path, args: &[&str]) -> Value {
    let mut args = args.to_vec();
    args.push("--json");
    let out = ok(data_dir, &args);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("mixplane {args:?}: {e}: {out}"))
}

/// Runs a command that must fail; returns its stderr.
fn refused(data_dir: &Path, args: &[&str]) -> String {
    let out = mixplane(data_dir, args);
    assert!(
        !out.status.success(),
        "mixplane {args:?} should fail: {}",
        text(&out.stdout)
    );
    text(&out.stderr)
}

/// The demo's data without serving (its summary as JSON); its admin token.
fn demo(data_dir: &Path) -> String {
    let summary = json_of(
        data_dir,
        &["demo", "--no-serve", "--days", "3", "--speed", "0"],
    );
    // The simulator runs the plan the engine found in the demo's 3 s, so how many events
    // three days make depends on the machine (877 to 1,322 seen): a floor, not a figure.
    assert!(
        summary["plant"]["events_stored"].as_u64().unwrap() > 500,
        "{summary}"
    );
    assert!(
        summary["plan_in_force"]["operations"].as_u64().unwrap() > 0,
        "{summary}"
    );
    assert!(!summary["proposals"].as_array().unwrap().is_empty());
    summary["admin_token"]
        .as_str()
        .expect("the demo's summary names its admin token")
        .to_owned()
}

fn create_token(data_dir: &Path, name: &str, role: &str) -> String {
    let answer = json_of(
        data_dir,
        &["token", "create", "--name", name, "--role", role],
    );
    assert_eq!(answer["principal"]["role"], role, "{answer}");
    answer["token"].as_str().unwrap().to_owned()
}

fn ids(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .expect("a list answers `items`")
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The audit records of `action`, newest last.
fn audited(data_dir: &Path, action: &str) -> Vec<Value> {
    ok(data_dir, &["audit", "export"])
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["action"] == action)
        .collect()
}

#[test]
fn proposals_holds_and_ncs_locally_and_over_http() {
    let dir = TempDir::new("daily");
    let data = &dir.0;
    let admin = demo(data);
    let viewer = create_token(data, "vic", "viewer");
    let planner = create_token(data, "pia", "planner");

    // Locally, without a token: refused, saying how to get one.
    let error = refused(data, &["proposals", "list"]);
    assert!(error.contains("--token or set MIXPLANE_TOKEN"), "{error}");
    let error = refused(data, &["proposals", "list", "--token", "mxp_nonsense"]);
    assert!(error.contains("unknown, revoked or malformed"), "{error}");

    // The demo left one proposal waiting for approval.
    let waiting = json_of(
        data,
        &[
            "proposals",
            "list",
            "--status",
            "proposed",
            "--token",
            &admin,
        ],
    );
    let waiting = ids(&waiting);
    assert!(!waiting.is_empty(), "the demo leaves a proposal waiting");
    let id = waiting[0].as_str();
    let all = json_of(data, &["proposals", "list", "--token", &viewer]);
    assert!(ids(&all).contains(&id.to_owned()));
    let limited = json_of(
        data,
        &["proposals", "list", "--limit", "1", "--token", &viewer],
    );
    assert_eq!(ids(&limited).len(), 1);
    let table = ok(data, &["proposals", "list", "--token", &viewer]);
    assert!(table.starts_with("ID"), "{table}");
    assert!(table.contains(id), "{table}");
    let shown = ok(data, &["proposals", "show", id, "--token", &viewer]);
    assert!(shown.contains("status       proposed"), "{shown}");
    let error = refused(
        data,
        &[
            "proposals",
            "list",
            "--status",
            "waiting",
            "--token",
            &viewer,
        ],
    );
    assert!(
        error.contains("invalid value 'waiting'") && error.contains("rolled_back"),
        "{error}"
    );

    // A viewer may read but not decide: the route-level rule, as over HTTP.
    let error = refused(data, &["proposals", "approve", id, "--token", &viewer]);
    assert!(
        error.contains("vic has role viewer, which does not grant DecideProposals"),
        "{error}"
    );
    let error = refused(
        data,
        &[
            "proposals",
            "approve",
            id,
            "--token",
            &admin,
            "--if-match",
            "\"x\"",
        ],
    );
    assert!(
        error.contains("changed since the version the request expected")
            && error.contains("last changed by"),
        "{error}"
    );
    let error = refused(
        data,
        &[
            "proposals",
            "approve",
            id,
            "--token",
            &admin,
            "--if-match",
            "v1",
        ],
    );
    assert!(error.contains("is not an entity tag"), "{error}");

    // The admin approves locally, at the ETag `show` printed: audited under the token's
    // principal, not the local user.
    let shown = ok(data, &["proposals", "show", id, "--token", &admin]);
    let etag = shown
        .lines()
        .find_map(|l| l.trim().strip_prefix("etag"))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("show prints the ETag: {shown}"))
        .to_owned();
    let approved = json_of(
        data,
        &[
            "proposals",
            "approve",
            id,
            "--comment",
            "customer agreed",
            "--token",
            &admin,
            "--if-match",
            &etag,
        ],
    );
    assert_eq!(approved["status"], "approved", "{approved}");
    let decision = &approved["decisions"][0];
    assert_eq!(decision["principal"], "demo-admin");
    assert_eq!(decision["comment"], "customer agreed");
    let record = audited(data, "proposal.approve").pop().expect("audited");
    assert_eq!(record["actor"]["id"], "demo-admin", "{record}");
    let error = refused(data, &["proposals", "approve", id, "--token", &admin]);
    assert!(error.contains(id), "{error}");

    // Against a running server: the same store, the same answers, the same refusals.
    let server = Server::start(data);
    let url = format!("http://{}", server.address);
    let remote = |args: &[&str], token: &str| -> Vec<String> {
        let mut all: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        all.extend([
            "--server".into(),
            url.clone(),
            "--token".into(),
            token.to_owned(),
        ]);
        all
    };
    let args = remote(&["proposals", "list"], &viewer);
    let over_http = json_of(data, &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(ids(&over_http), ids(&all));
    let args = remote(&["proposals", "show", id], &viewer);
    let shown = json_of(data, &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(shown["status"], "approved");
    let args = remote(&["proposals", "apply", id], &viewer);
    let error = refused(data, &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(error.contains("403"), "{error}");
    assert!(error.contains("does not grant ApplyProposals"), "{error}");
    let args = remote(&["proposals", "apply", id, "--sink", "mes-sim"], &planner);
    let applied = json_of(data, &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(applied["status"], "applied", "{applied}");
    assert_eq!(applied["applied"]["by"], "pia");
    // A decision on a proposal no longer waiting: the server's refusal, with its reason.
    let args = remote(
        &["proposals", "reject", id, "--comment", "too late"],
        &admin,
    );
    let error = refused(data, &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(error.contains("409"), "{error}");
    assert!(
        error.contains(&format!("reject proposal `{id}`")),
        "{error}"
    );
    // Rolled back locally while the server runs on the same database.
    let rolled = json_of(data, &["proposals", "rollback", id, "--token", &planner]);
    assert_eq!(rolled["status"], "rolled_back", "{rolled}");
    let record = audited(data, "proposal.rollback").pop().expect("audited");
    assert_eq!(record["actor"]["id"], "pia", "{record}");

    // A hold and a nonconformance on an order of the demo, made over HTTP.
    let (status, body) = server.request(
        "POST",
        "/v1/quality/holds",
        Some(&admin),
        Some(&json!({"item_kind": "order", "item_id": "MO-260001", "reason": "check seal"})),
    );
    assert_eq!(status, 201, "{body}");
    let hold: Value = serde_json::from_str(&body).unwrap();
    let hold_id = hold["id"].as_str().unwrap();
    let (status, body) = server.request(
        "POST",
        "/v1/quality/nonconformances",
        Some(&admin),
        Some(&json!({"description": "seal leaks", "items": ["order:MO-260001"]})),
    );
    assert_eq!(status, 201, "{body}");
    let nc: Value = serde_json::from_str(&body).unwrap();
    let nc_id = nc["id"].as_str().unwrap();

    let held = json_of(
        data,
        &[
            "holds",
            "list",
            "--state",
            "active",
            "--item-kind",
            "order",
            "--token",
            &viewer,
        ],
    );
    assert!(ids(&held).contains(&hold_id.to_owned()), "{held}");
    let args = remote(&["holds", "list", "--item-id", "MO-260001"], &viewer);
    let held_http = json_of(data, &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(ids(&held_http).contains(&hold_id.to_owned()), "{held_http}");
    let error = refused(
        data,
        &[
            "holds", "release", hold_id, "--reason", "ok", "--token", &viewer,
        ],
    );
    assert!(error.contains("does not grant WriteQuality"), "{error}");
    let args = remote(
        &["holds", "release", hold_id, "--reason", "seal replaced"],
        &admin,
    );
    let released = json_of(data, &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(released["active"], false, "{released}");
    assert_eq!(released["released_by"], "person:demo-admin");

    let listed = json_of(data, &["nc", "list", "--open", "--token", &viewer]);
    assert!(ids(&listed).contains(&nc_id.to_owned()), "{listed}");
    let args = remote(&["nc", "transition", nc_id, "start_investigation"], &viewer);
    let error = refused(data, &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(
        error.contains("403") && error.contains("DisposeQuality"),
        "{error}"
    );
    let args = remote(&["nc", "transition", nc_id, "start_investigation"], &admin);
    let moved = json_of(data, &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(moved["nonconformance"]["state"], "investigating", "{moved}");
    let error = refused(
        data,
        &["nc", "transition", nc_id, "disposition", "--token", &admin],
    );
    assert!(
        error.contains("`disposition` needs --disposition"),
        "{error}"
    );
    let moved = json_of(
        data,
        &[
            "nc",
            "transition",
            nc_id,
            "disposition",
            "--disposition",
            "rework",
            "--token",
            &admin,
        ],
    );
    assert_eq!(moved["nonconformance"]["state"], "dispositioned", "{moved}");
    assert_eq!(moved["nonconformance"]["disposition"], "rework");
    let error = refused(
        data,
        &["nc", "transition", nc_id, "close", "--token", &admin],
    );
    assert!(error.contains("cannot close"), "{error}");
    let args = remote(&["nc", "show", nc_id], &viewer);
    let shown = text(&mixplane(data, &args.iter().map(String::as_str).collect::<Vec<_>>()).stdout);
    assert!(shown.contains("state        dispositioned"), "{shown}");
    assert!(
        shown.contains("investigating → dispositioned by person:demo-admin"),
        "{shown}"
    );
    assert!(shown.contains("(Rework)"), "{shown}");
    assert!(
        shown.contains("start_investigation open → investigating by person:demo-admin"),
        "{shown}"
    );

    let verify = json_of(data, &["audit", "verify"]);
    assert_eq!(verify["first_bad"], Value::Null, "{verify}");
}

#[test]
fn other_commands_answer_json_and_completions() {
    let dir = TempDir::new("daily-json");
    let data = &dir.0;
    let events = data.join("events.jsonl");
    ok(
        data,
        &[
            "sim",
            "--days",
            "1",
            "--seed",
            "3",
            "--out",
            events.to_str().unwrap(),
        ],
    );
    let imported = json_of(data, &["import", events.to_str().unwrap()]);
    assert!(imported["inserted"].as_u64().unwrap() > 0, "{imported}");
    let again = json_of(data, &["import", events.to_str().unwrap()]);
    assert_eq!(again["inserted"], 0);
    assert_eq!(again["duplicates"], imported["inserted"]);

    let good = data.join("plant.json");
    std::fs::write(&good, sim::REFERENCE_PLANT_JSON).unwrap();
    let answer = json_of(data, &["validate", good.to_str().unwrap()]);
    assert_eq!(answer["valid"], true, "{answer}");
    assert!(answer["counts"]["units"].as_u64().unwrap() > 0, "{answer}");
    let mut plant: Value = serde_json::from_str(sim::REFERENCE_PLANT_JSON).unwrap();
    plant["units"][0]["work_center"] = "WC-NOWHERE".into();
    let bad = data.join("bad-plant.json");
    std::fs::write(&bad, plant.to_string()).unwrap();
    let out = mixplane(data, &["validate", bad.to_str().unwrap(), "--json"]);
    assert!(!out.status.success());
    let answer: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", text(&out.stdout), text(&out.stderr)));
    assert_eq!(answer["valid"], false, "{answer}");
    assert_eq!(
        answer["errors"][0]["path"], "units[0].work_center",
        "{answer}"
    );

    let verify = json_of(data, &["audit", "verify"]);
    assert!(verify["records"].as_u64().unwrap() >= 2, "{verify}");

    let script = ok(data, &["completions", "bash"]);
    assert!(
        script.contains("mixplane") && script.contains("proposals"),
        "{script}"
    );
    let error = refused(data, &["completions", "tcsh"]);
    assert!(error.contains("possible values"), "{error}");
}
