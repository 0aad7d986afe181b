//! The live loop end to end, over real HTTP: a plant with a plan in force and the agents
//! running beside the server. A downtime posted for a busy unit becomes a repair proposal
//! with KPI evidence; a rush order becomes a re-plan proposal with ranked what-ifs; approving
//! the re-plan dispatches its operations to the MES sink, puts its plan in force with its
//! provenance, and expires the repair that started from the plan it replaced.

mod common;

use std::time::{Duration, Instant};

use common::{Setup, TestApp};
use serde_json::{Value, json};

/// Agents tuned for a debug build: small budgets, a short burst window.
fn settings() -> app::agents::live::AgentSettings {
    app::agents::live::AgentSettings {
        poll_ms: 20,
        quiet_ms: 60,
        max_wait_ms: 300,
        repair_iterations: 40,
        replan_iterations: 40,
        scenario_iterations: 20,
        risk_runs: 10,
        improve_every_minutes: 0,
        safety_net_seconds: 20.0,
        ..Default::default()
    }
}

/// Two simulated days stored, and a plan of the plant as it is after them put in force.
async fn plant_with_a_plan() -> TestApp {
    let served = TestApp::with(Setup {
        simulated_days: Some(2.0),
        agents: Some(settings()),
        ..Setup::default()
    })
    .await;
    let app = &served.app;
    let problem = app::schedule::in_force::current_problem(app)
        .await
        .expect("the current problem");
    let solved = schedule::plant::solve_plant(
        &problem,
        &schedule::plant::PlantSolveOptions {
            seed: 1,
            threads: 1,
            max_iterations: Some(50),
            objective: None,
        },
        &mut schedule::TimeLimit {
            clock: || 0.0,
            limit_seconds: 1.0,
        },
        &mut |_| {},
    )
    .expect("a first plan");
    let admin = govern::Principal::new(
        "planner.paula",
        govern::PrincipalKind::Person,
        govern::Role::Planner,
        govern::Scope::All,
    );
    app::schedule::in_force::adopt(
        app,
        &admin,
        &problem,
        solved.schedule,
        app::schedule::in_force::Provenance {
            reason: "the first plan of the test plant".into(),
            modified_by: Some("test".into()),
            proposal: None,
        },
    )
    .await
    .expect("the first plan is put in force");
    served
}

/// Waits for a proposal made by `agent` that is not among `seen`.
async fn proposal_by(served: &TestApp, agent: &str, seen: &[String]) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (status, _, page) = served.get("/v1/proposals?limit=100").await;
        assert_eq!(status, 200, "{page}");
        if let Some(found) = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["proposed_by"] == agent && !seen.iter().any(|s| p["id"] == s.as_str()))
        {
            return found.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no proposal by {agent} within the deadline; agents: {}",
            served.get("/v1/agents").await.2
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_drive_the_agents_to_proposals_and_an_approval_to_dispatch_and_a_new_plan() {
    let served = plant_with_a_plan().await;
    let (status, _, plan) = served.get("/v1/schedule").await;
    assert_eq!(status, 200, "{plan}");
    assert_eq!(plan["version"], 1, "{plan}");
    let clock = served.store.state().await.clock.expect("a plant clock");

    // A busy unit goes down.
    let unit = busiest_unit(&plan);
    let (status, _, body) = served
        .post(
            "/v1/events",
            &json!([{
                "id": "live-down-1",
                "time": clock,
                "source": "test",
                "type": "equipment_state_changed",
                "unit": unit,
                "state": "down",
                "reason": "breakdown"
            }]),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let repair = proposal_by(&served, "mixplane-repair", &[]).await;
    assert_eq!(repair["kind"], "schedule_change", "{repair}");
    assert_eq!(
        repair["evidence"]["trigger"],
        json!({"type": "event", "event_id": "live-down-1"})
    );
    assert!(
        repair["evidence"]["engine"]
            .as_str()
            .unwrap()
            .starts_with("mixplane-repair"),
        "{repair}"
    );
    for side in ["kpis_before", "kpis_after"] {
        assert!(
            repair["evidence"][side]["weighted_tardiness"].is_number(),
            "{side}: {repair}"
        );
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

    // A rush order is released.
    let template = served
        .store
        .state()
        .await
        .orders
        .values()
        .find(|o| o.status == model::OrderStatus::Planned)
        .expect("an order not started")
        .order
        .clone();
    let mut rush = serde_json::to_value(&template).unwrap();
    rush["id"] = json!("RUSH-9001");
    rush["priority"] = json!("high");
    rush["release"] = json!(clock);
    rush["due"] = json!(clock.plus_minutes(24.0 * 60.0));
    let (status, _, body) = served
        .post(
            "/v1/events",
            &json!([{
                "id": "live-rush-1",
                "time": clock,
                "source": "test",
                "type": "order_released",
                "order": rush
            }]),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let replan = proposal_by(&served, "mixplane-replan", &[]).await;
    assert!(
        replan["title"].as_str().unwrap().contains("RUSH-9001"),
        "{replan}"
    );
    assert!(
        replan["diff"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"].as_str().unwrap().starts_with("RUSH-9001/")),
        "the rush order's operations are placed: {replan}"
    );
    let replan_id = replan["id"].as_str().unwrap().to_owned();
    let (status, _, candidate) = served.get(&format!("/v1/proposals/{replan_id}/plan")).await;
    assert_eq!(status, 200, "{candidate}");
    let alternatives = candidate["alternatives"].as_array().unwrap();
    assert!(alternatives.len() >= 2, "{candidate}");
    let ranks: Vec<i64> = alternatives
        .iter()
        .map(|a| a["rank"].as_i64().unwrap())
        .collect();
    let mut sorted = ranks.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (1..=ranks.len() as i64).collect::<Vec<_>>());

    // The planner approves the re-plan: its dispatches reach the MES, its plan is in force.
    if replan["status"] == "proposed" {
        let (status, _, body) = served
            .post(&format!("/v1/proposals/{replan_id}/approve"), &json!({}))
            .await;
        assert_eq!(status, 200, "{body}");
        let (status, _, body) = served
            .post(&format!("/v1/proposals/{replan_id}/apply"), &json!({}))
            .await;
        assert!(status == 200 || status == 409, "{status} {body}");
    }
    let (_, _, applied) = served.get(&format!("/v1/proposals/{replan_id}")).await;
    assert_eq!(applied["status"], "applied", "{applied}");
    let (status, _, dispatched) = served
        .get("/v1/events?type=operation_dispatched&limit=1000")
        .await;
    assert_eq!(status, 200, "{dispatched}");
    let ours = dispatched["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["event"]["id"]
                .as_str()
                .unwrap_or_default()
                .starts_with(&format!("{replan_id}-apply-"))
        })
        .count();
    assert!(
        ours > 0,
        "the MES sink received the dispatches: {dispatched}"
    );
    let (status, _, now) = served.get("/v1/schedule").await;
    assert_eq!(status, 200, "{now}");
    assert!(now["version"].as_u64().unwrap() >= 2, "{now}");
    assert_eq!(now["proposal"], replan_id.as_str(), "{now}");
    assert_eq!(now["made_by"], "mixplane-replan", "{now}");

    // The repair started from the plan the re-plan replaced.
    let (_, _, repair) = served.get(&format!("/v1/proposals/{repair_id}")).await;
    assert!(
        repair["status"] == "expired" || repair["status"] == "applied",
        "{repair}"
    );
}
