//! The plan in force over real HTTP: `GET /v1/schedule` answers 404 until a plan is put in
//! force and then its version, provenance and assignments; an area reader sees only its
//! area's units; and a what-if computed from the plant as it is now (no problem sent) commits
//! and applies on a simulated store, becoming the next version of the plan in force.

mod common;

use std::collections::BTreeSet;

use common::{Setup, TestApp};
use govern::Role;
use serde_json::{Value, json};

/// The reference plant with `days` simulated days, an admin `alice` as the caller.
async fn simulated(days: f64) -> TestApp {
    TestApp::with(Setup {
        simulated_days: Some(days),
        ..Setup::default()
    })
    .await
}

/// Puts the engine's plan of the current problem in force as the caller; its version.
async fn make_plan(app: &TestApp) -> Value {
    let (status, _, plan) = app
        .post(
            "/v1/schedule/plan",
            &json!({"time_limit_seconds": 0.5, "seed": 1, "reason": "test plan"}),
        )
        .await;
    assert_eq!(status, 201, "{plan}");
    plan
}

/// The ids of the units of `area` in the reference plant.
fn units_of(area: &str) -> BTreeSet<String> {
    let catalog = sim::reference_catalog();
    catalog
        .plant()
        .units
        .iter()
        .filter(|u| catalog.unit_area(&u.id).is_some_and(|a| a.as_str() == area))
        .map(|u| u.id.to_string())
        .collect()
}

#[tokio::test]
async fn no_plan_is_404_until_one_is_put_in_force() {
    let app = simulated(1.0).await;
    let (status, content_type, body) = app.get("/v1/schedule").await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(content_type, "application/problem+json");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("POST /v1/schedule/plan"),
        "{body}"
    );
    // Only administrators and site-wide planners put a plan in force.
    let viewer = app.token_for("victor", Role::Viewer, "*").await;
    let (status, body) = app
        .call("POST", "/v1/schedule/plan", &viewer, Some(json!({})))
        .await;
    assert_eq!(status, 403, "{body}");
    let pack_planner = app.token_for("pia", Role::Planner, "area:A-PACK").await;
    let (status, body) = app
        .call("POST", "/v1/schedule/plan", &pack_planner, Some(json!({})))
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("A-PACK"),
        "{body}"
    );

    let made = make_plan(&app).await;
    assert_eq!(made["version"], 1);
    assert_eq!(made["made_by"], "alice");
    let (status, _, plan) = app.get("/v1/schedule").await;
    assert_eq!(status, 200, "{plan}");
    assert_eq!(plan["version"], 1);
    assert_eq!(plan["reason"], "test plan");
    assert_eq!(plan["area"], Value::Null);
    let (_, _, problem) = app.get("/v1/schedule/problem").await;
    assert_eq!(plan["horizon_start"], problem["problem"]["horizon_start"]);
    let assignments = plan["assignments"].as_array().unwrap();
    assert_eq!(
        assignments.len(),
        made["schedule"]["assignments"].as_array().unwrap().len()
    );
    let first = &assignments[0];
    let start = model::Timestamp::parse(plan["horizon_start"].as_str().unwrap()).unwrap();
    assert_eq!(
        first["start_at"],
        json!(start.plus_minutes(first["start"].as_i64().unwrap() as f64))
    );
    let (status, _, versions) = app.get("/v1/schedule/versions?limit=5").await;
    assert_eq!(status, 200, "{versions}");
    assert_eq!(versions["items"][0]["version"], 1);
    assert_eq!(versions["items"][0]["in_force"], true);
    assert_eq!(versions["next"], Value::Null);
    let (status, _, _) = app.get("/v1/schedule/versions?limit=0").await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn an_area_reader_sees_only_its_areas_units() {
    let app = simulated(1.0).await;
    make_plan(&app).await;
    let (_, _, whole) = app.get("/v1/schedule").await;
    let reader = app.token_for("vera", Role::Viewer, "area:A-PACK").await;
    let (status, plan) = app.call("GET", "/v1/schedule", &reader, None).await;
    assert_eq!(status, 200, "{plan}");
    assert_eq!(plan["area"], "A-PACK");
    let pack = units_of("A-PACK");
    let seen = plan["assignments"].as_array().unwrap();
    assert!(!seen.is_empty());
    assert!(seen.len() < whole["assignments"].as_array().unwrap().len());
    for a in seen {
        assert!(pack.contains(a["unit"].as_str().unwrap()), "{a}");
    }
    let (status, answer) = app.call("GET", "/v1/schedule/problem", &reader, None).await;
    assert_eq!(status, 200, "{answer}");
    let units = answer["problem"]["units"].as_array().unwrap();
    assert!(!units.is_empty());
    for u in units {
        assert!(pack.contains(u["id"].as_str().unwrap()), "{u}");
    }
    for op in answer["problem"]["operations"].as_array().unwrap() {
        for alt in op["alternatives"].as_array().unwrap() {
            assert!(pack.contains(alt["unit"].as_str().unwrap()), "{op}");
        }
    }
}

#[tokio::test]
async fn a_what_if_of_the_plant_as_it_is_now_commits_applies_and_is_the_next_plan() {
    let app = simulated(3.0).await;
    let supervisor = app.token_for("sam", Role::Supervisor, "*").await;
    make_plan(&app).await;
    // No problem sent: the plant as it is now, from the plan in force.
    let (status, _, report) = app
        .post(
            "/v1/schedule/scenarios",
            &json!({
                "scenarios": ["maximize_throughput", "minimize_changeovers", "defer_low_priority"],
                "iterations": 150,
                "risk_runs": 20,
                "seed": 2,
            }),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    let chosen = report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| {
            s["kept_plan"] == false
                && s["changes"]["overtime"]
                    .as_array()
                    .is_none_or(Vec::is_empty)
        })
        .expect("a scenario that changes the plan")
        .clone();
    let (status, _, proposal) = app
        .post(
            "/v1/schedule/scenarios/commit",
            &json!({"scenario": chosen, "risk_runs": 20, "area": "A-ASSY"}),
        )
        .await;
    assert_eq!(status, 201, "{proposal}");
    let id = proposal["id"].as_str().unwrap();
    let (status, _, candidate) = app.get(&format!("/v1/proposals/{id}/plan")).await;
    assert_eq!(status, 200, "{candidate}");
    assert_eq!(candidate["basis"], 1);
    if proposal["status"] != "applied" {
        assert_eq!(proposal["status"], "proposed", "{proposal}");
        let (status, body) = app
            .call(
                "POST",
                &format!("/v1/proposals/{id}/approve"),
                &supervisor,
                Some(json!({})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = app
            .call(
                "POST",
                &format!("/v1/proposals/{id}/apply"),
                &supervisor,
                Some(json!({"sink": "mes-sim"})),
            )
            .await;
        // Before: 502 "order … is completed and takes no further changes".
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["status"], "applied");
    }
    let (_, _, plan) = app.get("/v1/schedule").await;
    assert_eq!(plan["version"], 2, "{plan}");
    assert_eq!(plan["basis"], 1);
    assert_eq!(plan["proposal"], id);
    assert_eq!(plan["made_by"], "alice");
    assert!(
        plan["modified_by"]
            .as_str()
            .unwrap()
            .starts_with("mixplane-scenarios/"),
        "{plan}"
    );
    assert_eq!(
        plan["assignments"].as_array().unwrap().len(),
        chosen["schedule"]["assignments"].as_array().unwrap().len()
    );
}

#[tokio::test]
async fn the_plan_in_force_explains_its_late_orders_and_one_order_by_id() {
    let app = simulated(3.0).await;
    let (status, _, body) = app.get("/v1/schedule/explain").await;
    assert_eq!(status, 404, "no plan in force yet: {body}");
    let plan = make_plan(&app).await;
    let (status, _, all) = app.get("/v1/schedule/explain").await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(all["plan_version"], plan["version"]);
    assert!(all["order"].is_null(), "{all}");
    let late = all["late_orders"].as_array().expect("late orders");
    // One order by id: a late one carries its chain, an on-time one says so.
    let order = match late.first() {
        Some(late) => late["order"].as_str().unwrap().to_owned(),
        None => plan["assignments"][0]["op"]
            .as_str()
            .unwrap()
            .split('/')
            .next()
            .unwrap()
            .to_owned(),
    };
    let (status, _, one) = app
        .get(&format!("/v1/schedule/explain?order={order}"))
        .await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(one["order"]["id"], order);
    assert_eq!(one["order"]["on_time"], late.is_empty());
    if !late.is_empty() {
        assert!(one["order"]["late"]["chain"].as_array().is_some(), "{one}");
    }
    let (status, _, missing) = app.get("/v1/schedule/explain?order=MO-NOPE").await;
    assert_eq!(status, 404, "{missing}");
    let (status, _, typo) = app.get("/v1/schedule/explain?ordr=x").await;
    assert_eq!(status, 400, "{typo}");
}
