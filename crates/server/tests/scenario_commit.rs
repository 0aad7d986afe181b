//! Committing a what-if scenario over real HTTP: the scenario chosen from
//! `POST /v1/schedule/scenarios` becomes a `schedule_change` proposal whose diff and evidence
//! are checked here against the plan and the scenario; a schedule that fails the checker, a
//! scenario or order that does not exist, changes that are not the scenario's own, and callers
//! without the permission or the scope are refused with problem+json naming what is wrong.

mod common;

use common::{Setup, TestApp};

use std::collections::BTreeMap;

use app::SinkKind;
use govern::Role;
use model::{Catalog, UnitId};
use schedule::plant::scenario::ScenarioReport;
use schedule::plant::{PlantProblem, PlantSchedule};
use serde_json::{Value, json};

const COMMIT: &str = "/v1/schedule/scenarios/commit";

/// The harness with the planner `paula` as the caller, and the tokens of a viewer and of a
/// planner of the packing area.
struct App {
    app: TestApp,
    viewer: String,
    pack_planner: String,
}

impl std::ops::Deref for App {
    type Target = TestApp;

    fn deref(&self) -> &TestApp {
        &self.app
    }
}

impl App {
    /// The reference plant, with the file sink as the default sink (the simulated MES cannot
    /// carry out operation moves).
    async fn start() -> App {
        let app = TestApp::with(Setup {
            default_sink: SinkKind::File,
            file_sink: true,
            caller: Some(("paula", Role::Planner)),
            ..Setup::default()
        })
        .await;
        let viewer = app.token_for("victor", Role::Viewer, "*").await;
        let pack_planner = app.token_for("pia", Role::Planner, "area:A-PACK").await;
        App {
            app,
            viewer,
            pack_planner,
        }
    }

    /// `GET` as the planner, which must answer 200.
    async fn get(&self, path: &str) -> Value {
        let (status, _, body) = self.app.get(path).await;
        assert_eq!(status, 200, "{body}");
        body
    }
}

/// The reference plant's order book over 14 days as a native problem (its units are the
/// loaded plant's, so proposals find their areas).
fn catalog() -> Catalog {
    Catalog::new(sim::reference_plant()).unwrap()
}

fn time(problem: &PlantProblem, minute: i64) -> Value {
    json!(problem.horizon_start.plus_minutes(minute as f64))
}

/// Scenarios of `problem` starting from `plan` (all five kinds that can apply).
async fn scenarios(app: &App, problem: &PlantProblem, plan: Option<&PlantSchedule>) -> Value {
    let mut request = json!({
        "problem": problem,
        "scenarios": ["maximize_throughput", "minimize_changeovers", "overtime_on_bottleneck", "defer_low_priority"],
        "iterations": 30,
        "risk_runs": 20,
        "seed": 2
    });
    if let Some(plan) = plan {
        request["plan"] = json!(plan);
    }
    let (status, _, body) = app.post("/v1/schedule/scenarios", &request).await;
    assert_eq!(status, 200, "{body}");
    body
}

fn scenario<'r>(report: &'r Value, kind: &str) -> &'r Value {
    report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["scenario"] == kind)
        .unwrap_or_else(|| panic!("no scenario {kind} in {}", report["skipped"]))
}

/// The operation changes a diff must hold: every operation whose unit or start differs.
fn expected_moves(plan: &PlantSchedule, chosen: &PlantSchedule) -> BTreeMap<(String, String), i64> {
    let before: BTreeMap<&str, _> = plan
        .assignments
        .iter()
        .map(|a| (a.op.as_str(), a))
        .collect();
    let mut out = BTreeMap::new();
    for a in &chosen.assignments {
        let b = before[a.op.as_str()];
        if b.unit != a.unit {
            out.insert((a.op.clone(), "unit".to_owned()), 0);
        }
        if b.start != a.start {
            out.insert((a.op.clone(), "start".to_owned()), a.start - b.start);
        }
    }
    out
}

fn operation_changes(proposal: &Value) -> BTreeMap<(String, String), i64> {
    proposal["diff"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["entity"] == "operation")
        .map(|c| {
            (
                (
                    c["id"].as_str().unwrap().to_owned(),
                    c["field"].as_str().unwrap().to_owned(),
                ),
                c["shift_minutes"].as_i64().unwrap_or(0),
            )
        })
        .collect()
}

#[tokio::test]
async fn committed_scenarios_carry_their_diff_and_evidence() {
    let app = App::start().await;
    let problem = common::reference_problem();
    let first = scenarios(&app, &problem, None).await;
    let plan: PlantSchedule =
        serde_json::from_value(scenario(&first, "as_planned")["schedule"].clone()).unwrap();
    let report_json = scenarios(&app, &problem, Some(&plan)).await;
    let report: ScenarioReport = serde_json::from_value(report_json.clone()).unwrap();
    let planned = report
        .scenarios
        .iter()
        .find(|s| s.scenario.as_str() == "as_planned")
        .unwrap();

    // Overtime on the bottleneck: the scenario as the scenarios call returned it.
    let overtime = scenario(&report_json, "overtime_on_bottleneck");
    let (status, _, proposal) = app
        .post(
            COMMIT,
            &json!({"problem": problem, "plan": plan, "scenario": overtime, "area": "A-CHEM", "risk_runs": 20, "seed": 2}),
        )
        .await;
    assert_eq!(status, 201, "{proposal}");
    assert_eq!(proposal["kind"], "schedule_change");
    assert_eq!(proposal["area"], "A-CHEM");
    assert_eq!(proposal["proposed_by"], "paula");
    let title = proposal["title"].as_str().unwrap();
    assert!(title.contains("overtime_on_bottleneck"), "{title}");
    let late_before = planned.kpis.late_orders;
    let late_after = overtime["kpis"]["late_orders"].as_u64().unwrap();
    assert!(
        title.contains(&format!("late orders {late_before} → {late_after}")),
        "{title}"
    );
    // Evidence: the plan in force and the scenario, recomputed by the server.
    let evidence = &proposal["evidence"];
    assert_eq!(evidence["engine"], "mixplane-scenarios");
    assert_eq!(evidence["trigger"]["principal"], "paula");
    assert_eq!(evidence["input_sha256"].as_str().unwrap().len(), 64);
    for key in [
        "makespan_minutes",
        "throughput_orders_per_day",
        "late_orders",
        "weighted_tardiness",
        "changeover_minutes",
        "changeover_cost",
        "on_time_risk",
        "expected_late_orders",
        "overtime_minutes",
    ] {
        assert!(
            evidence["kpis_before"][key].is_number(),
            "{key}: {evidence}"
        );
        assert!(evidence["kpis_after"][key].is_number(), "{key}: {evidence}");
    }
    assert_eq!(
        evidence["kpis_before"]["late_orders"].as_f64(),
        Some(late_before as f64)
    );
    assert_eq!(
        evidence["kpis_before"]["makespan_minutes"].as_f64(),
        Some(planned.kpis.makespan_minutes as f64)
    );
    for (key, field) in [
        ("late_orders", "late_orders"),
        ("makespan_minutes", "makespan_minutes"),
        ("changeover_cost", "changeover_cost"),
        ("overtime_minutes", "overtime_minutes"),
        ("weighted_tardiness", "weighted_tardiness"),
    ] {
        assert_eq!(
            evidence["kpis_after"][key].as_f64(),
            overtime["kpis"][field].as_f64(),
            "{key}"
        );
    }
    // The same risk runs and seed as the scenarios call: the same on-time risk.
    let risk = evidence["kpis_after"]["on_time_risk"].as_f64().unwrap();
    assert!((risk - overtime["kpis"]["on_time_risk"].as_f64().unwrap()).abs() < 1e-9);
    // Diff: the overtime windows on the calendars, then every moved operation.
    let diff = proposal["diff"].as_array().unwrap();
    let windows = overtime["changes"]["overtime"].as_array().unwrap();
    assert!(!windows.is_empty());
    for ot in windows {
        let change = diff
            .iter()
            .find(|c| c["entity"] == ot["kind"] && c["id"] == ot["id"])
            .unwrap_or_else(|| panic!("no calendar change for {ot}"));
        assert_eq!(change["field"], "overtime_windows");
        assert_eq!(change["before"], json!([]));
        let after: Vec<Value> = ot["windows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| {
                json!({
                    "start": time(&problem, w["start"].as_i64().unwrap()),
                    "end": time(&problem, w["end"].as_i64().unwrap()),
                })
            })
            .collect();
        assert_eq!(change["after"], json!(after));
    }
    let chosen: PlantSchedule = serde_json::from_value(overtime["schedule"].clone()).unwrap();
    let expected = expected_moves(&plan, &chosen);
    assert_eq!(operation_changes(&proposal), expected);
    assert!(
        diff.len() == expected.len() + windows.len(),
        "nothing else in the diff: {}",
        diff.len()
    );
    // Stored: the proposals endpoint shows the same proposal.
    let id = proposal["id"].as_str().unwrap();
    let stored = app.get(&format!("/v1/proposals/{id}")).await;
    assert_eq!(stored["diff"], proposal["diff"]);
    assert_eq!(stored["evidence"], proposal["evidence"]);
    // Many operations move: it waits for approval under the shipped policy.
    if expected.len() > 5 {
        assert_eq!(proposal["status"], "proposed", "{}", proposal["gate"]);
    }

    // Deferral of the low-priority orders: their due dates move, judged evidence unchanged.
    let defer = scenario(&report_json, "defer_low_priority");
    let (status, _, proposal) = app
        .post(
            COMMIT,
            &json!({"problem": problem, "plan": plan, "scenario": defer, "area": "A-CHEM"}),
        )
        .await;
    assert_eq!(status, 201, "{proposal}");
    let deferred = defer["changes"]["deferred"].as_array().unwrap();
    assert!(!deferred.is_empty());
    let dues: Vec<&Value> = proposal["diff"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["entity"] == "order")
        .collect();
    assert_eq!(dues.len(), deferred.len());
    for (change, d) in dues.iter().zip(deferred) {
        assert_eq!(change["id"], d["order"]);
        assert_eq!(change["field"], "due");
        let (due, later) = (
            d["due"].as_i64().unwrap(),
            d["deferred_due"].as_i64().unwrap(),
        );
        assert_eq!(change["before"], time(&problem, due));
        assert_eq!(change["after"], time(&problem, later));
        assert_eq!(change["shift_minutes"].as_i64(), Some(later - due));
        assert_eq!(change["high_priority"], false);
    }
    let chosen: PlantSchedule = serde_json::from_value(defer["schedule"].clone()).unwrap();
    assert_eq!(operation_changes(&proposal), expected_moves(&plan, &chosen));

    // The presets: exactly the operations that moved, with their times; some scenario moves
    // work (else this test would check nothing about operations).
    let mut moved = 0;
    for kind in [
        "minimize_changeovers",
        "maximize_throughput",
        "overtime_on_bottleneck",
    ] {
        let chosen_json = scenario(&report_json, kind);
        let chosen: PlantSchedule =
            serde_json::from_value(chosen_json["schedule"].clone()).unwrap();
        let expected = expected_moves(&plan, &chosen);
        let (status, _, proposal) = app
            .post(
                COMMIT,
                &json!({"problem": problem, "plan": plan, "scenario": chosen_json, "area": "A-CHEM"}),
            )
            .await;
        if expected.is_empty() && kind != "overtime_on_bottleneck" {
            assert_eq!(status, 422, "{kind}: {proposal}");
            continue;
        }
        assert_eq!(status, 201, "{kind}: {proposal}");
        assert_eq!(operation_changes(&proposal), expected, "{kind}");
        for change in proposal["diff"].as_array().unwrap() {
            if change["entity"] != "operation" {
                continue;
            }
            let op = change["id"].as_str().unwrap();
            let b = plan.assignments.iter().find(|x| x.op == op).unwrap();
            let a = chosen.assignments.iter().find(|x| x.op == op).unwrap();
            let (before, after) = match change["field"].as_str().unwrap() {
                "start" => (time(&problem, b.start), time(&problem, a.start)),
                "unit" => (json!(b.unit), json!(a.unit)),
                other => panic!("operation field {other}"),
            };
            assert_eq!((&change["before"], &change["after"]), (&before, &after));
        }
        moved += expected.len();
    }
    assert!(moved > 0, "no scenario moved any operation");
}

#[tokio::test]
async fn a_small_tweak_applies_by_itself_in_its_units_area() {
    let app = App::start().await;
    let problem = common::reference_problem();
    let first = scenarios(&app, &problem, None).await;
    let plan: PlantSchedule =
        serde_json::from_value(scenario(&first, "as_planned")["schedule"].clone()).unwrap();
    let (tweaked, op, shift) = common::nudged(&problem, &plan);
    let unit = tweaked
        .assignments
        .iter()
        .find(|a| a.op == op)
        .unwrap()
        .unit
        .clone();
    let area = catalog()
        .unit_area(&UnitId::from(unit.as_str()))
        .unwrap()
        .to_string();
    let (status, _, proposal) = app
        .post(
            COMMIT,
            &json!({"problem": problem, "plan": plan,
                    "scenario": {"scenario": "minimize_changeovers", "schedule": tweaked}}),
        )
        .await;
    assert_eq!(status, 201, "{proposal}");
    // No area named: the one area of the unit whose work moved.
    assert_eq!(proposal["area"], area.as_str());
    let diff = proposal["diff"].as_array().unwrap();
    assert_eq!(diff.len(), 1, "{diff:?}");
    assert_eq!(diff[0]["entity"], "operation");
    assert_eq!(diff[0]["id"], op.as_str());
    assert_eq!(diff[0]["field"], "start");
    assert_eq!(diff[0]["shift_minutes"].as_i64(), Some(shift));
    // One operation, a few minutes: within the assisted thresholds, so it applied by itself
    // through the default (file) sink, which recorded the change.
    assert_eq!(proposal["status"], "applied", "{}", proposal["gate"]);
    assert_eq!(proposal["applied"]["by"], "policy:assisted");
    let written = std::fs::read_to_string(app.file_sink.as_ref().unwrap()).unwrap();
    let record: Value = serde_json::from_str(written.lines().last().unwrap()).unwrap();
    assert_eq!(record["proposal"], proposal["id"]);
    assert_eq!(record["changes"], proposal["diff"]);

    // An area-scoped planner elsewhere may not commit work on this unit.
    if area != "A-PACK" {
        let (status, kind, body) = app
            .post_as(
                &app.pack_planner,
                COMMIT,
                &json!({"problem": problem, "plan": plan,
                        "scenario": {"scenario": "minimize_changeovers", "schedule": tweaked}}),
            )
            .await;
        assert_eq!(status, 403, "{body}");
        assert_eq!(kind, "application/problem+json");
        assert!(body["detail"].as_str().unwrap().contains(&unit), "{body}");
    }
}

#[tokio::test]
async fn bad_commits_are_refused_naming_what_is_wrong() {
    let app = App::start().await;
    let problem = common::reference_problem();
    let first = scenarios(&app, &problem, None).await;
    let plan: PlantSchedule =
        serde_json::from_value(scenario(&first, "as_planned")["schedule"].clone()).unwrap();
    let report = scenarios(&app, &problem, Some(&plan)).await;
    let commit = |scenario: Value| json!({"problem": problem, "plan": plan, "scenario": scenario, "area": "A-CHEM"});
    let refused = |status: u16, kind: &str, body: &Value, needle: &str| {
        assert_eq!(status, 422, "{body}");
        assert_eq!(kind, "application/problem+json");
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.contains(needle), "`{needle}` not in {detail}");
    };

    // A schedule that fails the checker: the violation is named.
    let mut wrong = plan.clone();
    wrong.assignments[0].end += 7;
    let op = wrong.assignments[0].op.clone();
    let (status, kind, body) = app
        .post(
            COMMIT,
            &commit(json!({"scenario": "minimize_changeovers", "schedule": wrong})),
        )
        .await;
    refused(status, &kind, &body, "wrong_duration");
    assert!(body["detail"].as_str().unwrap().contains(&op), "{body}");
    assert_eq!(body["type"], "urn:mixplane:problem:infeasible-schedule");
    assert!(!body["errors"].as_array().unwrap().is_empty());

    // A schedule of another problem: an operation the problem does not have.
    let mut ghost = plan.clone();
    ghost.assignments[0].op = "GHOST-OP".into();
    let (status, kind, body) = app
        .post(
            COMMIT,
            &commit(json!({"scenario": "minimize_changeovers", "schedule": ghost})),
        )
        .await;
    refused(status, &kind, &body, "GHOST-OP");

    // An overtime schedule judged without its overtime windows fails where it uses them.
    let overtime = scenario(&report, "overtime_on_bottleneck");
    if overtime["kpis"]["overtime_minutes"].as_i64().unwrap() > 0 {
        let (status, kind, body) = app
            .post(
                COMMIT,
                &commit(
                    json!({"scenario": "overtime_on_bottleneck", "schedule": overtime["schedule"],
                               "changes": {"overtime": [], "deferred": []}}),
                ),
            )
            .await;
        refused(status, &kind, &body, "must list its overtime windows");
        let (status, kind, body) = app
            .post(
                COMMIT,
                &commit(
                    json!({"scenario": "maximize_throughput", "schedule": overtime["schedule"]}),
                ),
            )
            .await;
        refused(status, &kind, &body, "fails the independent checker");
    }
    // Changes that are not the scenario's own.
    let mut borrowed = overtime.clone();
    borrowed["scenario"] = json!("minimize_changeovers");
    let (status, kind, body) = app.post(COMMIT, &commit(borrowed)).await;
    refused(status, &kind, &body, "adds no overtime");
    // Overtime on a unit the problem does not have.
    let mut elsewhere = overtime.clone();
    elsewhere["changes"]["overtime"][0]["id"] = json!("U-NOWHERE");
    let (status, kind, body) = app.post(COMMIT, &commit(elsewhere)).await;
    refused(status, &kind, &body, "U-NOWHERE");

    // An order the problem does not have, and a due date that is not the order's.
    let defer = scenario(&report, "defer_low_priority");
    let mut unknown = defer.clone();
    unknown["changes"]["deferred"][0]["order"] = json!("MO-NOPE");
    let (status, kind, body) = app.post(COMMIT, &commit(unknown)).await;
    refused(
        status,
        &kind,
        &body,
        "order `MO-NOPE` is not in the problem",
    );
    let mut moved = defer.clone();
    let due = moved["changes"]["deferred"][0]["due"].as_i64().unwrap();
    moved["changes"]["deferred"][0]["due"] = json!(due + 1);
    let (status, kind, body) = app.post(COMMIT, &commit(moved)).await;
    refused(status, &kind, &body, "scenario.changes.deferred[0]");

    // A scenario kind that does not exist.
    let mut invented = defer.clone();
    invented["scenario"] = json!("overtime");
    let (status, kind, body) = app.post(COMMIT, &commit(invented)).await;
    refused(status, &kind, &body, "overtime");

    // The plan itself: nothing to commit.
    let (status, kind, body) = app
        .post(
            COMMIT,
            &commit(json!({"scenario": "as_planned", "schedule": plan})),
        )
        .await;
    refused(status, &kind, &body, "nothing to commit");
    assert_eq!(body["type"], "urn:mixplane:problem:nothing-to-commit");

    // Without the permission to propose changes.
    let (status, kind, body) = app
        .post_as(
            &app.viewer,
            COMMIT,
            &commit(json!({"scenario": "defer_low_priority", "schedule": defer["schedule"], "changes": defer["changes"]})),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(kind, "application/problem+json");

    // Nothing of the above was stored.
    let page = app.get("/v1/proposals").await;
    assert_eq!(page["total"], 0, "{page}");
}
