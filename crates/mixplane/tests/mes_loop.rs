//! Issue #14, item 7, on loopback with the real binary: `mixplane mes-emulator` (manual
//! clock, seed 7) runs the reference plant; `mixplane serve` reads it through the `odata`
//! connectors of `examples/mes.toml` (addresses and intervals changed, the password from the
//! environment) with the live agents on and the MES as its sink. Orders, equipment states,
//! lots and quality results flow in; a unit set down in the MES (the `SetEquipmentStatus`
//! command, as an operator of the MES would) reaches mixplane through the source and the
//! repair agent proposes; the proposal is above the policy's threshold and waits; a planner
//! approves and applies it over the API; its commands land in the emulator (the dispatched
//! operation's row, read back over the emulator's OData) and the audit trail holds the
//! approval, `modified_by` and the MES's answer.
//!
//! Two things the test does by hand, because mixplane has no door for them yet (see the
//! report of issue #14): the connectors are started in two rounds (work orders and expected
//! receipts first), since each set is its own connector and a row naming an order not stored
//! yet is dead-lettered, not retried; and the plan in force is loaded into the MES as its
//! dispatch list by the test, since mixplane sends only proposals to the MES, and a repair
//! that moves an operation's start only names no machine.

mod common;
use common::OnTestBackend;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::TempDir;
use common::serve::Server;
use serde_json::{Value, json};

const PASSWORD: &str = "mixplane-emulator";
/// After the order book's last release (2026-03-14T17:15Z), so every order of a plan is a
/// work order the MES knows.
const PLANT_TIME: &str = "2026-03-14T18:00:00Z";

/// A running `mixplane mes-emulator`, killed when dropped.
struct Emulator {
    child: Child,
    address: String,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// One HTTP/1.1 exchange with the emulator: the status and the JSON body.
fn exchange(
    address: &str,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &str,
) -> (u16, Value) {
    let mut stream = TcpStream::connect(address).expect("connect to the emulator");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body.as_bytes()).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_owned()
    };
    (
        status,
        serde_json::from_str(&body).unwrap_or(Value::String(body)),
    )
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 || after.len() < size {
            break;
        }
        out.push_str(&after[..size]);
        rest = after[size..].trim_start_matches("\r\n");
    }
    out
}

impl Emulator {
    fn start() -> Emulator {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mixplane"))
            .args([
                "mes-emulator",
                "--bind",
                "127.0.0.1:0",
                "--speed",
                "0",
                "--seed",
                "7",
            ])
            .args(["--days", "14", "--page-size", "500"])
            .env_remove("MIXPLANE_MES_EMULATOR_BIND")
            .env_remove("MIXPLANE_MES_PASSWORD")
            .env("MIXPLANE_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .on_test_backend()
            .spawn()
            .expect("the binary runs");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().expect("a first line").unwrap();
        std::thread::spawn(move || lines.for_each(drop));
        let address = first
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("no address in {first:?}"))
            .to_owned();
        Emulator { child, address }
    }

    fn admin(&self, path: &str, body: &Value) -> Value {
        let basic = format!(
            "Basic {}",
            base64(format!("mixplane:{PASSWORD}").as_bytes())
        );
        let (status, answer) = exchange(
            &self.address,
            "POST",
            path,
            &[
                ("Authorization", basic),
                ("Content-Type", "application/json".into()),
            ],
            &body.to_string(),
        );
        assert_eq!(status, 200, "{path}: {answer}");
        answer
    }

    fn token(&self) -> String {
        let basic = format!("Basic {}", base64(b"mixplane-connector:emulator-secret"));
        let (status, answer) = exchange(
            &self.address,
            "POST",
            "/sit-auth/OAuth/Token",
            &[
                ("Authorization", basic),
                ("Content-Type", "application/x-www-form-urlencoded".into()),
            ],
            &format!("grant_type=password&username=mixplane&password={PASSWORD}&scope=global"),
        );
        assert_eq!(status, 200, "{answer}");
        answer["access_token"].as_str().unwrap().to_owned()
    }

    /// `GET /sit-svc/Application/{app}/odata/{query}`.
    fn get(&self, app: &str, query: &str) -> Value {
        let (status, answer) = exchange(
            &self.address,
            "GET",
            &format!("/sit-svc/Application/{app}/odata/{query}"),
            &[("Authorization", format!("Bearer {}", self.token()))],
            "",
        );
        assert_eq!(status, 200, "{query}: {answer}");
        answer
    }

    /// A command, as a user of the MES sends it.
    fn command(&self, app: &str, name: &str, body: Value) -> Value {
        let (status, answer) = exchange(
            &self.address,
            "POST",
            &format!("/sit-svc/Application/{app}/odata/{name}"),
            &[
                ("Authorization", format!("Bearer {}", self.token())),
                ("Content-Type", "application/json".into()),
            ],
            &json!({ "command": body }).to_string(),
        );
        assert_eq!(status, 200, "{name}: {answer}");
        answer
    }

    /// The cursor of a set's newest row, as the connector writes it.
    fn newest(&self, app: &str, set: &str) -> Option<String> {
        let page = self.get(
            app,
            &format!("{set}?$orderby=ModifiedOn%20desc,Id%20desc&$top=1"),
        );
        let row = page["value"].get(0)?;
        Some(format!(
            "{}|{}",
            row["ModifiedOn"].as_str()?,
            row["Id"].as_str()?
        ))
    }
}

fn mixplane(data: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_mixplane"))
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env_remove("MIXPLANE_DATA_DIR")
        .env("MIXPLANE_LOG", "error")
        .on_test_backend()
        .output()
        .expect("the binary runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{args:?}: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text.trim().to_owned()
}

/// `examples/mes.toml` pointed at the emulator, polling fast, with only the connectors
/// `keep` accepts.
fn config(dir: &Path, emulator: &str, name: &str, keep: impl Fn(&str) -> bool) -> String {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/mes.toml");
    let text = std::fs::read_to_string(&example).unwrap();
    let text = text.replace("http://127.0.0.1:8090", &format!("http://{emulator}"));
    let mut table: toml::Table = toml::from_str(&text).expect("examples/mes.toml reads");
    let connectors = table["connectors"].as_array_mut().unwrap();
    connectors.retain(|c| keep(c["name"].as_str().unwrap()));
    for c in connectors.iter_mut() {
        let c = c.as_table_mut().unwrap();
        c.insert("poll_interval_seconds".into(), toml::Value::Float(0.1));
        // At this fast pace, 20 polls would be 2 s for the work orders to be stored before an
        // operation that names one is given up as a dead letter: give them 60 s.
        c["settings"]
            .as_table_mut()
            .unwrap()
            .insert("max_waiting_polls".into(), toml::Value::Integer(600));
    }
    table.insert(
        "agents".into(),
        toml::Value::Table(toml::from_str("enabled = true").unwrap()),
    );
    let path = dir.join(name);
    std::fs::write(&path, toml::to_string(&table).unwrap()).unwrap();
    path.to_str().unwrap().to_owned()
}

fn wait_for<T>(what: &str, seconds: u64, mut ready: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        if let Some(value) = ready() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

struct Api<'a> {
    server: &'a Server,
}

impl Api<'_> {
    fn call(&self, method: &str, path: &str, token: &str, body: Option<&Value>) -> (u16, Value) {
        let (status, body) = self.server.request(method, path, Some(token), body);
        (
            status,
            serde_json::from_str(&body).unwrap_or(Value::String(body)),
        )
    }

    fn get(&self, path: &str, token: &str) -> Value {
        let (status, body) = self.call("GET", path, token, None);
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }
}

/// Serves until every connector's cursor is its set's newest row in the emulator.
fn caught_up(api: &Api<'_>, admin: &str, emulator: &Emulator) {
    wait_for(
        "every connector has read its set to the newest row",
        180,
        || {
            let list = api.get("/v1/connectors", admin);
            let items = list["items"].as_array().unwrap();
            items
                .iter()
                .all(|c| {
                    let settings = SETS.iter().find(|(name, _, _)| *name == c["name"]).unwrap();
                    let newest = emulator.newest(settings.1, settings.2);
                    c["cursor"].as_str().map(str::to_owned) == newest
                })
                .then_some(())
        },
    );
}

/// The example's connectors: name, app, entity set.
const SETS: &[(&str, &str, &str)] = &[
    ("mes-work-orders", "AppU4DM", "WorkOrder"),
    ("mes-expected-receipts", "Material", "ExpectedReceipt"),
    ("mes-operations", "AppU4DM", "WorkOrderOperation"),
    ("mes-quality-results", "AppU4DM", "ResultHistory"),
    (
        "mes-equipment-status",
        "Equipment",
        "EquipmentStatusHistory",
    ),
    ("mes-lots", "Material", "MaterialTrackingUnit"),
    ("mes-lot-tracking", "Material", "MTUOperationTracking"),
];

#[test]
fn a_downtime_in_the_mes_becomes_a_repair_that_a_planner_approves_into_mes_commands() {
    let dir = TempDir::new("mes-loop");
    let data = dir.0.join("data");
    let emulator = Emulator::start();
    emulator.admin("/emulator/advance", &json!({"to": PLANT_TIME}));

    // The reference plant, the connector's principal, an administrator and a planner.
    let empty = dir.0.join("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    mixplane(&data, &["import", empty.to_str().unwrap()]);
    // The shipped policy, with any change of an operation's plan above the threshold (the
    // plant near the end of the order book has little work left, and a repair moves little).
    let policy = govern::policy::DEFAULT_POLICY_TOML.replacen(
        "max_operations_changed = 5",
        "max_operations_changed = 0",
        1,
    );
    assert_ne!(policy, govern::policy::DEFAULT_POLICY_TOML);
    std::fs::write(data.join("policy.toml"), policy).unwrap();
    mixplane(
        &data,
        &[
            "token",
            "create",
            "--name",
            "connector-mes",
            "--role",
            "operator",
            "--kind",
            "service",
        ],
    );
    let admin = mixplane(
        &data,
        &["token", "create", "--name", "root", "--role", "admin"],
    );
    let planner = mixplane(
        &data,
        &["token", "create", "--name", "ana", "--role", "planner"],
    );
    let admin = admin.lines().last().unwrap().trim().to_owned();
    let planner = planner.lines().last().unwrap().trim().to_owned();

    // Every connector at once, agents on, the MES the sink: rows that name a work order not
    // stored yet (another connector reads those) wait for it.
    let all = config(&dir.0, &emulator.address, "mes.toml", |_| true);
    let server = Server::start_with_env(&data, &["--config", &all], &[("MES_PASSWORD", PASSWORD)]);
    let api = Api { server: &server };
    caught_up(&api, &admin, &emulator);

    // What flowed in: every work order, equipment states, lots, quality results.
    let rows = emulator.get("AppU4DM", "WorkOrder?$count=true&$top=0");
    let orders = api.get("/v1/orders?limit=1000", &admin);
    let released = orders["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["status"] != "planned")
        .count();
    assert_eq!(
        released as u64,
        rows["@odata.count"].as_u64().unwrap(),
        "every MES work order is known"
    );
    for kind in [
        "order_released",
        "equipment_state_changed",
        "material_received",
        "material_consumed",
        "quality_result_recorded",
    ] {
        let page = api.get(&format!("/v1/events?type={kind}&limit=1"), &admin);
        let first = &page["items"][0]["event"];
        assert_eq!(
            first["source"], "opcenter",
            "{kind} events came from the MES: {page}"
        );
    }
    for c in api.get("/v1/connectors", &admin)["items"]
        .as_array()
        .unwrap()
    {
        let letters = api.get(
            &format!(
                "/v1/connectors/{}/dead-letters",
                c["name"].as_str().unwrap()
            ),
            &admin,
        );
        assert_eq!(
            c["dead_letter_count"], 0,
            "nothing dead-lettered: {c} {letters}"
        );
    }

    // The plan in force, loaded into the MES as its dispatch list.
    let (status, plan) = api.call(
        "POST",
        "/v1/schedule/plan",
        &admin,
        Some(&json!({"time_limit_seconds": 2, "seed": 1})),
    );
    assert_eq!(status, 201, "{plan}");
    let plan = api.get("/v1/schedule", &admin);
    let horizon = model::Timestamp::parse(plan["horizon_start"].as_str().unwrap()).unwrap();
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for (n, a) in plan["assignments"].as_array().unwrap().iter().enumerate() {
        if a["in_progress"] == true || a["start"].as_i64().unwrap() < 0 {
            continue;
        }
        let (order, step) = a["op"].as_str().unwrap().split_once('/').unwrap();
        let sequence = (step.parse::<u32>().unwrap() + 1) * 10;
        let start = horizon.plus_minutes(a["start"].as_f64().unwrap());
        let answer = emulator.command(
            "AppU4DM",
            "UADMDispatchWorkOrderOperation",
            json!({
            "WorkOrderNId": order, "Sequence": sequence, "EquipmentNId": a["unit"],
            "EstimatedStartTime": start, "IdempotencyKey": format!("plan-v1-{n}")}),
        );
        assert_eq!(answer["Succeeded"], true, "{a}: {answer}");
        if a["start"].as_i64().unwrap() < 480 {
            *counts
                .entry(a["unit"].as_str().unwrap().to_owned())
                .or_default() += 1;
        }
    }
    let unit = counts
        .into_iter()
        .max_by_key(|(u, n)| (*n, std::cmp::Reverse(u.clone())))
        .expect("work in the next eight hours")
        .0;
    caught_up(&api, &admin, &emulator);
    let seen: Vec<Value> = api.get("/v1/proposals?limit=200", &admin)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].clone())
        .collect();

    // A busy unit goes down in the MES.
    let answer = emulator.command("Equipment", "SetEquipmentStatus", json!({
        "EquipmentNId": unit, "Status": "Down", "Reason": "breakdown: seal leak", "IdempotencyKey": "mes-loop-down-1"}));
    assert_eq!(answer["Succeeded"], true, "{answer}");
    let repair = wait_for("a repair proposal", 120, || {
        api.get("/v1/proposals?limit=200", &admin)["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["proposed_by"] == "mixplane-repair" && !seen.contains(&p["id"]))
            .cloned()
    });
    let trigger = repair["evidence"]["trigger"]["event_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        trigger.starts_with("opc-EquipmentStatusHistory-"),
        "{repair}"
    );
    let event = api.get("/v1/events?type=equipment_state_changed&limit=1000", &admin);
    assert!(
        event["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["event"]["id"] == trigger.as_str()
                && e["event"]["unit"] == unit.as_str()
                && e["event"]["state"] == "down"),
        "the downtime came through the source"
    );
    let reasons = repair["gate"]["reasons"].to_string();
    assert!(reasons.contains("operations change (limit 0)"), "{repair}");
    assert_eq!(
        repair["status"], "proposed",
        "above the threshold, it waits: {repair}"
    );
    let id = repair["id"].as_str().unwrap().to_owned();

    // The planner approves and applies it; the MES carries it out.
    let (status, body) = api.call(
        "POST",
        &format!("/v1/proposals/{id}/approve"),
        &planner,
        Some(&json!({})),
    );
    assert_eq!(status, 200, "{body}");
    let (status, applied) = api.call(
        "POST",
        &format!("/v1/proposals/{id}/apply"),
        &planner,
        Some(&json!({})),
    );
    assert_eq!(status, 200, "{applied}");
    assert_eq!(applied["status"], "applied", "{applied}");
    let answer = &applied["applied"]["answer"];
    assert_eq!(answer["status"], "Succeeded", "{answer}");
    let modified_by = answer["modified_by"].as_str().unwrap().to_owned();
    assert!(
        modified_by.starts_with("mixplane-repair/") && modified_by.ends_with("approved by ana"),
        "{modified_by}"
    );
    let command = answer["commands"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "UADMDispatchWorkOrderOperation")
        .expect("a dispatch")
        .clone();
    let change = repair["diff"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["entity"] == "operation")
        .unwrap()
        .clone();
    let (order, step) = change["id"].as_str().unwrap().split_once('/').unwrap();
    let nid = format!("{order}/{step}");
    let row = emulator.get(
        "AppU4DM",
        &format!(
            "WorkOrderOperation?$filter=NId%20eq%20'{}'",
            nid.replace('/', "%2F")
        ),
    );
    let row = &row["value"][0];
    match change["field"].as_str().unwrap() {
        "unit" => assert_eq!(row["ToBeUsedMachine"], change["after"], "{row}"),
        "start" => {
            let want = model::Timestamp::parse(change["after"].as_str().unwrap()).unwrap();
            let got = model::Timestamp::parse(row["EstimatedStartTime"].as_str().unwrap()).unwrap();
            assert_eq!(got, want, "{row}");
        }
        other => panic!("an operation change of `{other}`"),
    }
    assert!(
        command["key"].as_str().unwrap().starts_with(&id),
        "{command}"
    );

    // The audit trail: the approval, who made the change, the MES's answer.
    let mut records = Vec::new();
    let mut after = 0;
    loop {
        let page = api.get(&format!("/v1/audit?limit=1000&after_seq={after}"), &admin);
        let items = page["items"].as_array().unwrap().clone();
        let Some(last) = items.last() else { break };
        after = last["seq"].as_i64().unwrap();
        records.extend(
            items
                .into_iter()
                .filter(|r| r["subject"] == format!("proposal:{id}").as_str()),
        );
    }
    let actions: Vec<&str> = records
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    let approval = records
        .iter()
        .find(|r| r["action"] == "proposal.approve")
        .unwrap_or_else(|| panic!("no approval among {actions:?}"));
    assert!(approval.to_string().contains("ana"), "{approval}");
    let apply = records
        .iter()
        .find(|r| r["action"] == "proposal.apply")
        .unwrap_or_else(|| panic!("no apply among {actions:?}"));
    let shown = apply.to_string();
    assert!(
        shown.contains(&modified_by) && shown.contains("Succeeded"),
        "{shown}"
    );
}
