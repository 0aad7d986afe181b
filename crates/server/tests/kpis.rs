//! `GET /v1/kpis` over real HTTP: an agent proposes, people approve and reject, one applies
//! by itself; the KPIs count each under its kind and area, time the decisions, count the
//! agent's calls for a site-wide reader only, and refuse an empty window.

mod common;

use common::{Setup, TestApp, chem_orders, due_move_draft};
use govern::Role;
use serde_json::json;

async fn start() -> TestApp {
    TestApp::with(Setup {
        simulated_days: Some(1.0),
        file_sink: true,
        caller: None,
        ..Setup::default()
    })
    .await
}

#[tokio::test]
async fn kpis_count_recommendations_decisions_and_agent_calls() {
    let app = start().await;
    let agent = app.token_for("scheduler-bot", Role::Agent, "*").await;
    let planner = app.token_for("ann", Role::Planner, "area:A-CHEM").await;
    let orders = chem_orders(&app).await;
    assert!(orders.len() >= 3, "{orders:?}");
    let mut ids = Vec::new();
    // Two above the 60-minute threshold (they wait), one within it (applies by itself).
    for ((order, due), minutes) in orders.iter().zip([120, 150, 30]) {
        let (status, proposal) = app
            .call(
                "POST",
                "/v1/proposals",
                &agent,
                Some(due_move_draft(order, due, minutes, "schedule_change")),
            )
            .await;
        assert_eq!(status, 201, "{proposal}");
        ids.push(proposal["id"].as_str().unwrap().to_owned());
    }
    let (status, _) = app
        .call(
            "POST",
            &format!("/v1/proposals/{}/approve", ids[0]),
            &planner,
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = app
        .call(
            "POST",
            &format!("/v1/proposals/{}/reject", ids[1]),
            &planner,
            Some(json!({"comment": "no"})),
        )
        .await;
    assert_eq!(status, 200);

    let admin = app.token_for("root", Role::Admin, "*").await;
    let (status, kpis) = app.call("GET", "/v1/kpis", &admin, None).await;
    assert_eq!(status, 200, "{kpis}");
    let chem = kpis["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "schedule_change" && r["area"] == "A-CHEM")
        .unwrap_or_else(|| panic!("{kpis}"));
    assert_eq!(chem["made"], 3, "{chem}");
    assert_eq!(chem["approved"], 1, "{chem}");
    assert_eq!(chem["rejected"], 1, "{chem}");
    assert_eq!(chem["applied_by_itself"], 1, "{chem}");
    assert_eq!(chem["acceptance_rate"], 0.5, "{chem}");
    assert_eq!(chem["time_to_decision"]["n"], 2, "{chem}");
    let calls = kpis["agent_calls"].as_array().unwrap();
    let created = calls
        .iter()
        .find(|t| t["tool"] == "proposal.create")
        .unwrap_or_else(|| panic!("{kpis}"));
    assert_eq!(created["calls"], 3);
    assert_eq!(created["agents"], 1);

    // An area reader sees its area's recommendations but not the audit trail's calls.
    let (status, scoped) = app.call("GET", "/v1/kpis", &planner, None).await;
    assert_eq!(status, 200, "{scoped}");
    assert!(scoped["agent_calls"].is_null(), "{scoped}");
    assert_eq!(scoped["total"]["made"], 3);

    // A window before any of it holds nothing; an empty one is refused by name.
    let (_, old) = app
        .call(
            "GET",
            "/v1/kpis?from=2020-01-01T00:00:00Z&to=2020-02-01T00:00:00Z",
            &admin,
            None,
        )
        .await;
    assert_eq!(old["total"]["made"], 0, "{old}");
    let (status, body) = app
        .call(
            "GET",
            "/v1/kpis?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z",
            &admin,
            None,
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("window is empty"),
        "{body}"
    );
    // Without a token, nothing.
    let (status, _) = app.call("GET", "/v1/kpis", "", None).await;
    assert_eq!(status, 401);
}
