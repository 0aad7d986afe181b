//! The scheduling endpoints over real HTTP. Every schedule an endpoint returns is re-checked
//! here with the independent checker; explanations are checked against hand-built cases.

mod common;

use common::{Setup, TestApp};

use schedule::plant::generate::{GenerateOptions, generate};
use schedule::plant::{PlantProblem, PlantSchedule, check};
use serde_json::{Value, json};

/// The harness with `paula`, a planner, as the caller, and a viewer's token.
struct Fixture {
    app: TestApp,
    viewer: String,
}

impl std::ops::Deref for Fixture {
    type Target = TestApp;

    fn deref(&self) -> &TestApp {
        &self.app
    }
}

async fn start() -> Fixture {
    let app = TestApp::with(Setup {
        caller: Some(("paula", govern::Role::Planner)),
        ..Setup::default()
    })
    .await;
    let viewer = app.token_for("victor", govern::Role::Viewer, "*").await;
    Fixture { app, viewer }
}

fn classic_payload() -> Value {
    json!({
        "production_orders": [
            {"order_id": "PO-1", "type": "process", "work_center": "REACTORS", "estimated_duration_minutes": 240, "priority": "high", "material_available": true, "operator_certifications_required": ["reactor"], "cleaning_in_place_required": true, "current_parameter_set": "EPOXY"},
            {"order_id": "PO-2", "type": "discrete", "work_center": "ASSEMBLY", "estimated_duration_minutes": 90, "priority": "medium", "material_available": true, "operator_certifications_required": [], "cleaning_in_place_required": false, "current_parameter_set": "M"},
            {"order_id": "PO-3", "type": "process", "work_center": "REACTORS", "estimated_duration_minutes": 180, "priority": "low", "material_available": true, "operator_certifications_required": ["reactor"], "cleaning_in_place_required": false, "current_parameter_set": "ACRYLIC"},
            {"order_id": "PO-4", "type": "repetitive", "work_center": "PACKING", "estimated_duration_minutes": 120, "priority": "high", "material_available": false, "operator_certifications_required": [], "cleaning_in_place_required": false, "current_parameter_set": "CART-12"},
            {"order_id": "PO-5", "type": "process", "work_center": "REACTORS", "estimated_duration_minutes": 200, "priority": "medium", "material_available": true, "operator_certifications_required": ["reactor"], "cleaning_in_place_required": false, "current_parameter_set": "EPOXY"},
            {"order_id": "PO-6", "type": "discrete", "work_center": "ASSEMBLY", "estimated_duration_minutes": 60, "priority": "low", "material_available": true, "operator_certifications_required": [], "cleaning_in_place_required": false, "current_parameter_set": "P"},
            {"order_id": "PO-7", "type": "process", "work_center": "REACTORS", "estimated_duration_minutes": 150, "priority": "high", "material_available": true, "operator_certifications_required": ["reactor"], "cleaning_in_place_required": false, "current_parameter_set": "ACRYLIC"},
            {"order_id": "PO-8", "type": "discrete", "work_center": "ASSEMBLY", "estimated_duration_minutes": 75, "priority": "medium", "material_available": true, "operator_certifications_required": [], "cleaning_in_place_required": false, "current_parameter_set": "M"}
        ],
        "constraints": {"work_center_capacity": {"REACTORS": 2, "ASSEMBLY": 1, "PACKING": 1}, "changeover_time_minutes": 45, "target_utilization_percent": 85, "certified_operators": {"reactor": 2}},
        "objective": "maximize_throughput",
        "start": "2026-03-02T06:00:00Z",
        "iterations": 300
    })
}

#[tokio::test]
async fn optimize_accepts_the_classic_payload() {
    let app = start().await;
    let payload = classic_payload();
    let (status, _, body) = app.post("/v1/schedule/optimize", &payload).await;
    assert_eq!(status, 200, "{body}");
    let sequence: Vec<String> = serde_json::from_value(body["sequence"].clone()).unwrap();
    assert_eq!(sequence.len(), 8);
    let gain = body["throughput_gain_percent"].as_f64().unwrap();
    assert!(gain >= 0.0, "{gain}");
    assert!(
        body["kpis"]["makespan_minutes"].as_i64().unwrap()
            <= body["kpis"]["baseline_makespan_minutes"].as_i64().unwrap()
    );
    assert_eq!(body["feasible"], true);
    // Re-check the schedule independently against the mapped problem.
    let request: app::schedule::OptimizeRequest = serde_json::from_value(payload).unwrap();
    let problem = app::schedule::classic_problem(
        &request,
        model::Timestamp::parse("2026-03-02T06:00:00Z").unwrap(),
    )
    .unwrap();
    let assignments = body["schedule"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| schedule::plant::Assignment {
            op: s["order_id"].as_str().unwrap().into(),
            unit: s["unit"].as_str().unwrap().into(),
            start: s["start_minute"].as_i64().unwrap(),
            end: s["end_minute"].as_i64().unwrap(),
        })
        .collect();
    let report = check(&problem, &PlantSchedule { assignments });
    assert!(report.feasible, "{:?}", report.violations);
    // The order without material starts after the lead time.
    let po4 = body["schedule"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["order_id"] == "PO-4")
        .unwrap();
    assert!(po4["start_minute"].as_i64().unwrap() >= 480);
}

#[tokio::test]
async fn optimize_names_impossible_input() {
    let app = start().await;
    let mut payload = classic_payload();
    payload["production_orders"][2]["operator_certifications_required"] = json!(["welding"]);
    let (status, content_type, body) = app.post("/v1/schedule/optimize", &payload).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(content_type, "application/problem+json");
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("PO-3") && detail.contains("welding"),
        "{detail}"
    );

    let mut payload = classic_payload();
    payload["constraints"]["work_center_capacity"]["PACKING"] = json!(0);
    let (status, _, body) = app.post("/v1/schedule/optimize", &payload).await;
    assert_eq!(status, 422);
    assert!(body["detail"].as_str().unwrap().contains("PO-4"), "{body}");

    let mut payload = classic_payload();
    payload["objective"] = json!("make_it_nice");
    let (status, _, body) = app.post("/v1/schedule/optimize", &payload).await;
    assert_eq!(status, 422);
    assert!(
        body["detail"].as_str().unwrap().contains("objective"),
        "{body}"
    );
}

/// The payload's field errors are 422s naming the order and the field.
#[tokio::test]
async fn optimize_names_what_its_constraints_do_not_define() {
    let app = start().await;
    let detail = |body: &Value| body["detail"].as_str().unwrap_or_default().to_owned();

    // A work center missing from a per-work-center capacity map.
    let mut payload = classic_payload();
    payload["production_orders"][3]["work_center"] = json!("WC-X");
    let (status, content_type, body) = app.post("/v1/schedule/optimize", &payload).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(content_type, "application/problem+json");
    let d = detail(&body);
    assert!(
        d.contains("production_orders[3].work_center")
            && d.contains("\"WC-X\"")
            && d.contains("constraints.work_center_capacity"),
        "{d}"
    );
    // One capacity for all: every work center named is valid.
    payload["constraints"]["work_center_capacity"] = json!(2);
    let (status, _, body) = app.post("/v1/schedule/optimize", &payload).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["schedule"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["work_center"] == "WC-X")
    );

    // Certifications required, but nobody said how many people hold them.
    let mut payload = classic_payload();
    payload["constraints"]
        .as_object_mut()
        .unwrap()
        .remove("certified_operators");
    let (status, _, body) = app.post("/v1/schedule/optimize", &payload).await;
    assert_eq!(status, 422, "{body}");
    let d = detail(&body);
    assert!(
        d.contains("production_orders[0].operator_certifications_required[0]")
            && d.contains("PO-1")
            && d.contains("\"reactor\"")
            && d.contains("constraints.certified_operators"),
        "{d}"
    );

    // A certification listed with nobody holding it.
    let mut payload = classic_payload();
    payload["constraints"]["certified_operators"]["reactor"] = json!(0);
    let (status, _, body) = app.post("/v1/schedule/optimize", &payload).await;
    assert_eq!(status, 422, "{body}");
    let d = detail(&body);
    assert!(
        d.contains("production_orders[0].operator_certifications_required[0]")
            && d.contains("constraints.certified_operators.reactor is 0"),
        "{d}"
    );
}

/// The certification is a constraint: one certified operator runs one reactor order at a
/// time even with two reactors.
#[tokio::test]
async fn optimize_holds_certified_operators_to_their_number() {
    let app = start().await;
    let mut payload = classic_payload();
    payload["constraints"]["certified_operators"]["reactor"] = json!(1);
    let (status, _, body) = app.post("/v1/schedule/optimize", &payload).await;
    assert_eq!(status, 200, "{body}");
    let mut reactor: Vec<(i64, i64)> = body["schedule"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["work_center"] == "REACTORS")
        .map(|s| {
            (
                s["start_minute"].as_i64().unwrap(),
                s["end_minute"].as_i64().unwrap(),
            )
        })
        .collect();
    reactor.sort_unstable();
    assert_eq!(reactor.len(), 4);
    for pair in reactor.windows(2) {
        assert!(pair[1].0 >= pair[0].1, "overlap: {reactor:?}");
    }
}

/// A CIP asked for runs before the order, also as its unit's first batch, and shows in the
/// slot and the KPIs; an order that does not ask gets none.
#[tokio::test]
async fn optimize_cleans_before_the_first_batch_that_asks_for_it() {
    let app = start().await;
    let order = |id: &str, cip: bool| {
        json!({"order_id": id, "type": "process", "work_center": "REACTORS",
               "estimated_duration_minutes": 120, "cleaning_in_place_required": cip,
               "current_parameter_set": "EPOXY"})
    };
    let payload = json!({
        "production_orders": [order("PO-1", true)],
        "constraints": {"work_center_capacity": {"REACTORS": 1}, "changeover_time_minutes": 45},
        "start": "2026-03-02T06:00:00Z",
        "iterations": 50
    });
    let (status, _, body) = app.post("/v1/schedule/optimize", &payload).await;
    assert_eq!(status, 200, "{body}");
    let slot = &body["schedule"][0];
    assert_eq!(slot["cip"], true, "{body}");
    assert_eq!(slot["setup_minutes"], 45);
    assert_eq!(slot["start_minute"], 45, "the CIP runs from minute 0");
    assert_eq!(body["kpis"]["cips"], 1);
    assert_eq!(body["kpis"]["changeover_minutes"], 45);
    assert_eq!(body["kpis"]["makespan_minutes"], 165);

    // Two orders of one parameter set: only the one that asks is cleaned before.
    let payload = json!({
        "production_orders": [order("PO-1", false), order("PO-2", true)],
        "constraints": {"work_center_capacity": 1, "changeover_time_minutes": 45},
        "start": "2026-03-02T06:00:00Z",
        "iterations": 50
    });
    let (status, _, body) = app.post("/v1/schedule/optimize", &payload).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["kpis"]["cips"], 1, "{body}");
    assert_eq!(body["kpis"]["makespan_minutes"], 285);
    for slot in body["schedule"].as_array().unwrap() {
        let asked = slot["order_id"] == "PO-2";
        assert_eq!(slot["cip"], asked, "{slot}");
        assert_eq!(slot["setup_minutes"], if asked { 45 } else { 0 }, "{slot}");
    }
}

#[tokio::test]
async fn solve_check_and_repair_native() {
    let app = start().await;
    let problem = generate(GenerateOptions {
        operations: 150,
        units: 9,
        seed: 12,
    });
    let (status, _, body) = app
        .post(
            "/v1/schedule/solve",
            &json!({"problem": problem, "iterations": 200, "objective": "minimize_tardiness"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let schedule: PlantSchedule = serde_json::from_value(body["schedule"].clone()).unwrap();
    let mut weighted = problem.clone();
    weighted.objective = Some(schedule::plant::Objective::preset(
        schedule::plant::Preset::MinimizeTardiness,
    ));
    let report = check(&weighted, &schedule);
    assert!(report.feasible, "{:?}", report.violations);
    assert_eq!(
        body["kpis"]["objective"].as_f64(),
        Some(report.kpis.objective)
    );
    // The solve answer explains its own schedule: the same late orders as the checker, and
    // the same explanation the explain endpoint gives for that schedule.
    let explanation = &body["explanation"];
    assert_eq!(
        explanation["late_orders"].as_array().unwrap().len(),
        report.kpis.late_orders
    );
    assert_eq!(
        explanation["units"].as_array().unwrap().len(),
        problem.units.len()
    );
    let (status, _, explained) = app
        .post(
            "/v1/schedule/explain",
            &json!({"problem": weighted, "schedule": schedule}),
        )
        .await;
    assert_eq!(status, 200, "{explained}");
    assert_eq!(&explained, explanation);
    // Callers that do not want it can leave it out.
    let (status, _, body) = app
        .post(
            "/v1/schedule/solve",
            &json!({"problem": problem, "iterations": 20, "explain": false}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("explanation").is_none());

    // The check endpoint names what a broken schedule violates.
    let mut broken = schedule.clone();
    broken.assignments.pop();
    let (status, _, body) = app
        .post(
            "/v1/schedule/check",
            &json!({"problem": problem, "schedule": broken}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["feasible"], false);
    assert_eq!(body["violations"][0]["kind"], "missing_operation");

    // Repair after a downtime on the unit of an operation in the middle of the schedule.
    let mid = schedule
        .assignments
        .iter()
        .filter(|a| a.start > 600)
        .min_by_key(|a| a.start)
        .unwrap();
    let (status, _, body) = app
        .post(
            "/v1/schedule/repair",
            &json!({"problem": problem, "schedule": schedule, "now": mid.start - 30,
                    "disruptions": [{"kind": "downtime", "unit": mid.unit, "start": mid.start - 30, "end": mid.start + 300}],
                    "iterations": 100}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let repaired: PlantProblem = serde_json::from_value(body["problem"].clone()).unwrap();
    let new: PlantSchedule = serde_json::from_value(body["schedule"].clone()).unwrap();
    let report = check(&repaired, &new);
    assert!(report.feasible, "{:?}", report.violations);
    let moved = body["moved"].as_array().unwrap();
    assert!(moved.iter().any(|m| m == &json!(mid.op)));
    assert!(moved.len() < problem.operations.len());
    // Every breached maximum wait is one the schedule really exceeds.
    for b in body["breached_max_lags"].as_array().unwrap() {
        let at = |id: &Value| new.assignments.iter().find(|a| json!(a.op) == *id).unwrap();
        let wait = at(&b["op"]).start - at(&b["predecessor"]).end;
        assert_eq!(b["wait"].as_i64(), Some(wait));
        assert!(wait > b["max_lag"].as_i64().unwrap());
    }
}

#[tokio::test]
async fn impossible_native_problem_is_a_422_naming_it() {
    let app = start().await;
    let mut problem = generate(GenerateOptions {
        operations: 20,
        units: 3,
        seed: 1,
    });
    let a = problem.operations[3].id.clone();
    let b = problem.operations[5].id.clone();
    problem.operations[3]
        .predecessors
        .push(schedule::plant::problem::Lag {
            op: b.clone(),
            min_lag: 0,
            max_lag: None,
        });
    problem.operations[5]
        .predecessors
        .push(schedule::plant::problem::Lag {
            op: a.clone(),
            min_lag: 0,
            max_lag: None,
        });
    let (status, content_type, body) = app
        .post("/v1/schedule/solve", &json!({"problem": problem}))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(content_type, "application/problem+json");
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("cycle") && detail.contains(&a) && detail.contains(&b),
        "{detail}"
    );
}

#[tokio::test]
async fn viewers_may_check_but_not_compute_schedules() {
    let app = start().await;
    let problem = generate(GenerateOptions {
        operations: 10,
        units: 3,
        seed: 1,
    });
    let (status, _, _) = app
        .post_as(
            &app.viewer,
            "/v1/schedule/solve",
            &json!({"problem": problem, "iterations": 5}),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _, _) = app
        .post_as(
            &app.viewer,
            "/v1/schedule/check",
            &json!({"problem": problem, "schedule": {"assignments": []}}),
        )
        .await;
    assert_eq!(status, 200);
}

/// Two orders on one reactor that needs a technician: B holds the reactor, then a CIP and a
/// changeover hold A, which is late.
fn contended() -> Value {
    json!({
        "horizon_start": "2026-03-02T00:00:00Z",
        "horizon_minutes": 1440,
        "units": [{"id": "R1", "changeover": "CO", "cip": {"minutes": 30, "on_product_change": true}}],
        "changeovers": [{"id": "CO", "keyed_by": {"kind": "family"}, "default_minutes": 15}],
        "pools": [{"id": "TECH", "capacity": 1}],
        "orders": [{"id": "A", "due": 150}, {"id": "B", "due": 500}],
        "operations": [
            {"id": "a1", "order": "A", "family": "EPOXY", "product": "E", "alternatives": [{"unit": "R1", "minutes": 60}],
             "pools": [{"pool": "TECH", "quantity": 1}]},
            {"id": "b1", "order": "B", "family": "ACRYLIC", "product": "C", "alternatives": [{"unit": "R1", "minutes": 100}],
             "pools": [{"pool": "TECH", "quantity": 1}]}
        ]
    })
}

#[tokio::test]
async fn explain_names_the_chain_of_a_late_order_and_the_bottlenecks() {
    let app = start().await;
    let schedule = json!({"assignments": [
        {"op": "b1", "unit": "R1", "start": 0, "end": 100},
        {"op": "a1", "unit": "R1", "start": 145, "end": 205}
    ]});
    let (status, _, body) = app
        .post_as(
            &app.viewer,
            "/v1/schedule/explain",
            &json!({"problem": contended(), "schedule": schedule}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let late = body["late_orders"].as_array().unwrap();
    assert_eq!(late.len(), 1, "{body}");
    let a = &late[0];
    assert_eq!(a["order"], "A");
    assert_eq!(a["minutes_late"], 55);
    assert_eq!(a["dominant_cause"], "unit");
    let chain = a["chain"].as_array().unwrap();
    let kinds: Vec<(&str, i64, i64)> = chain
        .iter()
        .map(|l| {
            (
                l["kind"].as_str().unwrap(),
                l["from"].as_i64().unwrap(),
                l["to"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("operation", 145, 205),
            ("setup", 100, 145),
            ("operation", 0, 100)
        ]
    );
    assert_eq!(chain[0]["op"], "a1");
    assert_eq!(chain[1]["after"], "b1");
    assert_eq!(chain[1]["changeover"]["from"], "ACRYLIC");
    assert_eq!(chain[1]["changeover"]["to"], "EPOXY");
    assert_eq!(chain[1]["changeover"]["minutes"], 15);
    assert_eq!(chain[1]["cip"]["minutes"], 30);
    assert_eq!(chain[1]["minutes"], 45);
    assert_eq!(chain[2]["op"], "b1");
    assert_eq!(chain[2]["order"], "B");
    assert_eq!(chain[2]["via"]["kind"], "unit");
    assert_eq!(chain[2]["cause"], "unit");
    let r1 = &body["units"][0];
    assert_eq!(r1["unit"], "R1");
    assert_eq!(r1["rank"], 1);
    assert_eq!(r1["busy_minutes"], 205);
    assert_eq!(r1["changeover_minutes"], 15);
    assert_eq!(r1["cip_minutes"], 30);
    assert_eq!(r1["late_orders"], 1);
    assert_eq!(body["pools"][0]["pool"], "TECH");
    assert_eq!(body["pools"][0]["minutes_at_full_capacity"], 160);
}

#[tokio::test]
async fn explain_names_bad_input() {
    let app = start().await;
    // An operation the problem does not have.
    let (status, content_type, body) = app
        .post(
            "/v1/schedule/explain",
            &json!({"problem": contended(), "schedule": {"assignments": [
                {"op": "ghost-7", "unit": "R1", "start": 0, "end": 10}
            ]}}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(content_type, "application/problem+json");
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("ghost-7"), "{detail}");
    // A unit the problem does not have.
    let (status, _, body) = app
        .post(
            "/v1/schedule/explain",
            &json!({"problem": contended(), "schedule": {"assignments": [
                {"op": "a1", "unit": "R9", "start": 0, "end": 60}
            ]}}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("R9"), "{body}");
    // An impossible problem.
    let mut problem = contended();
    problem["operations"][0]["alternatives"][0]["unit"] = json!("NOWHERE");
    let (status, _, body) = app
        .post(
            "/v1/schedule/explain",
            &json!({"problem": problem, "schedule": {"assignments": []}}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("NOWHERE"),
        "{body}"
    );
    // Malformed JSON.
    let (status, content_type, body) = app
        .post_raw("/v1/schedule/explain", r#"{"problem": {"#)
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(content_type, "application/problem+json");
    assert_eq!(body["type"], "urn:mixplane:problem:malformed-json");
    // Well-formed, wrong shape: the field is named.
    let (status, _, body) = app
        .post(
            "/v1/schedule/explain",
            &json!({"problem": contended(), "schedule": {"assignments": [{"op": "a1"}]}}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("unit"), "{body}");
}

#[tokio::test]
async fn scenarios_are_ranked_feasible_and_reproducible() {
    let app = start().await;
    let problem = generate(GenerateOptions {
        operations: 120,
        units: 8,
        seed: 21,
    });
    let request = json!({
        "problem": problem,
        "scenarios": ["maximize_throughput", "minimize_tardiness", "defer_low_priority"],
        "iterations": 60,
        "risk_runs": 30,
        "seed": 4
    });
    let (status, _, body) = app.post("/v1/schedule/scenarios", &request).await;
    assert_eq!(status, 200, "{body}");
    let scenarios = body["scenarios"].as_array().unwrap();
    let skipped = body["skipped"].as_array().unwrap();
    let none_found = body["none_found"].as_array().unwrap();
    // Every what-if asked for is answered, skipped or reported as finding no alternative.
    assert_eq!(
        scenarios.len() + skipped.len() + none_found.len(),
        4,
        "{body}"
    );
    assert!((2..=4).contains(&scenarios.len()), "{body}");
    for n in none_found {
        assert!(
            n["reason"].as_str().unwrap().contains("within the budget"),
            "{body}"
        );
    }
    let mut last = f64::INFINITY;
    for (i, s) in scenarios.iter().enumerate() {
        assert_eq!(s["rank"].as_u64(), Some(i as u64 + 1));
        let total = s["scores"]["total"].as_f64().unwrap();
        assert!(total <= last);
        last = total;
        // No overtime was asked for, so every schedule must hold on the problem as given.
        let schedule: PlantSchedule = serde_json::from_value(s["schedule"].clone()).unwrap();
        let report = check(&problem, &schedule);
        assert!(
            report.feasible,
            "{}: {:?}",
            s["scenario"], report.violations
        );
        assert_eq!(
            s["kpis"]["late_orders"].as_u64(),
            Some(report.kpis.late_orders as u64)
        );
        for risk in s["order_risk"].as_array().unwrap() {
            let p = risk["probability_late"].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&p));
        }
    }
    assert!(scenarios.iter().any(|s| s["scenario"] == "as_planned"));
    // With an iteration budget the answer is the same every time.
    let (_, _, again) = app.post("/v1/schedule/scenarios", &request).await;
    assert_eq!(again, body);
    // With the plan in force, as_planned is that plan.
    let planned = scenarios
        .iter()
        .find(|s| s["scenario"] == "as_planned")
        .unwrap();
    let mut with_plan = request.clone();
    with_plan["plan"] = planned["schedule"].clone();
    let (status, _, body) = app.post("/v1/schedule/scenarios", &with_plan).await;
    assert_eq!(status, 200, "{body}");
    let kept = body["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["scenario"] == "as_planned")
        .unwrap();
    assert_eq!(kept["schedule"], planned["schedule"]);
    assert_eq!(kept["iterations"], 0);
}

#[tokio::test]
async fn scenarios_name_bad_requests() {
    let app = start().await;
    let problem = generate(GenerateOptions {
        operations: 20,
        units: 3,
        seed: 2,
    });
    let (status, kind, body) = app
        .post(
            "/v1/schedule/scenarios",
            &json!({"problem": problem, "scenarios": ["maximize_throughput"], "iterations": 5}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(kind, "application/problem+json");
    assert!(
        body["detail"].as_str().unwrap().contains("2 to 5"),
        "{body}"
    );
    let (status, _, body) = app
        .post(
            "/v1/schedule/scenarios",
            &json!({"problem": problem, "scenarios": ["overtime", "maximize_throughput"]}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("overtime"),
        "{body}"
    );
    let mut impossible: PlantProblem = problem.clone();
    impossible.operations[0].alternatives.clear();
    let (status, _, body) = app
        .post(
            "/v1/schedule/scenarios",
            &json!({"problem": impossible, "iterations": 5}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains(&problem.operations[0].id),
        "{body}"
    );
    let (status, _, _) = app
        .post_as(
            &app.viewer,
            "/v1/schedule/scenarios",
            &json!({"problem": problem}),
        )
        .await;
    assert_eq!(status, 403);
}
