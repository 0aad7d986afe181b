//! The live loop on the real binary (issue #13): `mixplane demo` serves with its agents
//! running, and a user over HTTP with the printed admin token posts a downtime of a busy unit
//! → a repair proposal by `mixplane-repair` with KPI evidence; posts a rush order → a re-plan
//! by `mixplane-replan` with ranked alternatives; approves and applies a proposal → the plan
//! in force is a new version naming it, and the MES sink's `operation_dispatched` events are
//! in the log.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod common;

use common::TempDir;
use common::serve::Demo;

struct Client(Demo);

impl Client {
    /// One request with the admin token; the status and the JSON body (`null` when empty).
    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let (status, body) = self.0.request(method, path, body);
        let value = if body.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"))
        };
        (status, value)
    }

    fn get(&self, path: &str) -> Value {
        let (status, body) = self.call("GET", path, None);
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.call("POST", path, Some(body))
    }

    /// Waits for a proposal by `agent` (its latest first) not among `seen`.
    fn proposal_by(&self, agent: &str, seen: &[String]) -> Value {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let page = self.get("/v1/proposals?limit=200");
            if let Some(found) =
                page["items"].as_array().unwrap().iter().find(|p| {
                    p["proposed_by"] == agent && !seen.iter().any(|s| p["id"] == s.as_str())
                })
            {
                return found.clone();
            }
            assert!(
                Instant::now() < deadline,
                "no proposal by {agent} within two minutes; agents: {}",
                self.get("/v1/agents")
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Starts `mixplane demo` on a free port (`--speed 0`: the store stays as the demo left it,
/// so only our events move the plant), once it says its agents run.
fn start(dir: &std::path::Path) -> Client {
    // Printed once the agents are started, after the address.
    let (demo, _) = Demo::start(&["--days", "1", "--speed", "0"], dir, |line| {
        line.starts_with("agents ")
    });
    Client(demo)
}

/// The unit with the most planned operations starting in the next eight hours.
fn busiest_unit(plan: &Value) -> String {
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for a in plan["assignments"].as_array().unwrap() {
        let start = a["start"].as_i64().unwrap();
        if (0..480).contains(&start) && a["in_progress"] != true {
            *counts
                .entry(a["unit"].as_str().unwrap().to_owned())
                .or_default() += 1;
        }
    }
    counts
        .into_iter()
        .max_by_key(|(unit, n)| (*n, std::cmp::Reverse(unit.clone())))
        .expect("work is planned in the next eight hours")
        .0
}

/// Approves and applies a waiting proposal to the simulated MES as the administrator.
fn approve_and_apply(client: &Client, id: &str) {
    let (status, body) = client.post(&format!("/v1/proposals/{id}/approve"), &json!({}));
    assert_eq!(status, 200, "approve {id}: {body}");
    let (status, body) = client.post(
        &format!("/v1/proposals/{id}/apply"),
        &json!({"sink": "mes-sim"}),
    );
    assert_eq!(status, 200, "apply {id}: {body}");
    assert_eq!(body["status"], "applied", "{body}");
}

#[test]
fn the_served_demo_turns_a_downtime_and_a_rush_order_into_proposals_and_an_approval_into_a_plan() {
    let dir = TempDir::new("demo-loop");
    let client = start(&dir.0);
    let plan = client.get("/v1/schedule");
    let first_version = plan["version"]
        .as_u64()
        .expect("the demo put a plan in force");
    let clock = client.get("/v1/schedule/problem")["problem"]["horizon_start"].clone();
    let seen: Vec<String> = client.get("/v1/proposals?limit=200")["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect();

    // A busy unit goes down: a repair by mixplane-repair, with the KPIs before and after.
    let unit = busiest_unit(&plan);
    let (status, body) = client.post(
        "/v1/events",
        &json!([{"id": "e2e-down-1", "time": clock, "source": "test",
                 "type": "equipment_state_changed", "unit": unit, "state": "down",
                 "reason": "breakdown"}]),
    );
    assert_eq!(status, 200, "{body}");
    let repair = client.proposal_by("mixplane-repair", &seen);
    assert_eq!(repair["kind"], "schedule_change", "{repair}");
    assert_eq!(
        repair["evidence"]["trigger"],
        json!({"type": "event", "event_id": "e2e-down-1"})
    );
    for side in ["kpis_before", "kpis_after"] {
        let kpis = repair["evidence"][side].as_object().expect("KPIs");
        assert!(kpis["weighted_tardiness"].is_number(), "{side}: {repair}");
        assert!(kpis["makespan"].is_number(), "{side}: {repair}");
    }
    assert!(
        repair["diff"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["entity"] == "operation"),
        "a repair moves operations: {repair}"
    );
    let repair_id = repair["id"].as_str().unwrap().to_owned();

    // A rush order, like an order of the book, released now and due tomorrow: a re-plan by
    // mixplane-replan with ranked what-ifs.
    let book = sim::reference_plant();
    let mut rush = serde_json::to_value(&book.orders[0]).unwrap();
    rush["id"] = json!("RUSH-E2E-1");
    rush["priority"] = json!("high");
    rush["release"] = clock.clone();
    let due = model::Timestamp::parse(clock.as_str().unwrap())
        .unwrap()
        .plus_minutes(24.0 * 60.0);
    rush["due"] = json!(due);
    let (status, body) = client.post(
        "/v1/events",
        &json!([{"id": "e2e-rush-1", "time": clock, "source": "test",
                 "type": "order_released", "order": rush}]),
    );
    assert_eq!(status, 200, "{body}");
    let replan = client.proposal_by("mixplane-replan", &seen);
    assert!(
        replan["title"].as_str().unwrap().contains("RUSH-E2E-1"),
        "{replan}"
    );
    let replan_id = replan["id"].as_str().unwrap().to_owned();
    let candidate = client.get(&format!("/v1/proposals/{replan_id}/plan"));
    let alternatives = candidate["alternatives"].as_array().unwrap();
    assert!(!alternatives.is_empty(), "ranked what-ifs: {candidate}");
    let mut ranks: Vec<i64> = alternatives
        .iter()
        .map(|a| a["rank"].as_i64().unwrap())
        .collect();
    ranks.sort_unstable();
    assert_eq!(ranks, (1..=ranks.len() as i64).collect::<Vec<_>>());

    // The planner approves and applies one: the re-plan, or the repair when the policy
    // already applied the re-plan by itself (a minor change).
    let status_of = |id: &str| client.get(&format!("/v1/proposals/{id}"))["status"].clone();
    let chosen = if status_of(&replan_id) == "proposed" {
        replan_id.clone()
    } else {
        assert_eq!(status_of(&repair_id), "proposed", "one proposal waits");
        repair_id.clone()
    };
    approve_and_apply(&client, &chosen);
    let now = client.get("/v1/schedule");
    assert!(
        now["version"].as_u64().unwrap() > first_version,
        "a new version: {now}"
    );
    assert_eq!(now["proposal"], chosen.as_str(), "{now}");
    assert_eq!(
        now["basis"].as_u64().unwrap() + 1,
        now["version"].as_u64().unwrap()
    );
    let dispatched = client.get("/v1/events?type=operation_dispatched&limit=10000");
    let ours = dispatched["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["event"]["id"]
                .as_str()
                .unwrap_or_default()
                .starts_with(&format!("{chosen}-apply-"))
        })
        .count();
    assert!(ours > 0, "the MES sink's dispatches are in the log");
}
