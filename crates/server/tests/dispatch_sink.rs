//! Committed scenarios carried out by the simulated MES over real HTTP: operation moves
//! (`operation.unit`, `operation.start`) become `operation_dispatched` events in the log, the
//! order states show the dispatch, and a rollback dispatches back to the plan in force; a
//! rollback to a plan that did not hold the operation, and overtime windows (no calendar
//! event), are refused by the sink naming the change.

mod common;

use common::{Setup, TestApp};

use std::collections::BTreeMap;

use govern::Role;
use model::{OperationRef, OrderId, Timestamp, UnitId};
use schedule::plant::{PlantProblem, PlantSchedule};
use serde_json::{Value, json};

const COMMIT: &str = "/v1/schedule/scenarios/commit";

/// The harness with the planner `paula` as the caller and a supervisor's token.
struct App {
    app: TestApp,
    planner: String,
    supervisor: String,
}

impl std::ops::Deref for App {
    type Target = TestApp;

    fn deref(&self) -> &TestApp {
        &self.app
    }
}

impl App {
    /// The reference plant with its order book planned, the simulated MES as the default
    /// sink and no file sink at all: whatever applies went through `mes-sim`.
    async fn start() -> App {
        let app = TestApp::with(Setup {
            caller: Some(("paula", Role::Planner)),
            ..Setup::default()
        })
        .await;
        let supervisor = app.token_for("sam", Role::Supervisor, "*").await;
        App {
            planner: app.token.clone(),
            app,
            supervisor,
        }
    }

    async fn commit(&self, body: Value) -> Value {
        let (status, proposal) = self.call("POST", COMMIT, &self.planner, Some(body)).await;
        assert_eq!(status, 201, "{proposal}");
        proposal
    }

    /// Approves (as the supervisor: nobody approves their own) and applies through `mes-sim`,
    /// unless the policy already applied it.
    async fn approve_and_apply(&self, proposal: &Value) -> (u16, Value) {
        let id = proposal["id"].as_str().unwrap();
        if proposal["status"] == "applied" {
            return (200, proposal.clone());
        }
        assert_eq!(proposal["status"], "proposed", "{}", proposal["gate"]);
        let (status, approved) = self
            .call(
                "POST",
                &format!("/v1/proposals/{id}/approve"),
                &self.supervisor,
                Some(json!({"comment": "dispatch it"})),
            )
            .await;
        assert_eq!(status, 200, "{approved}");
        self.call(
            "POST",
            &format!("/v1/proposals/{id}/apply"),
            &self.supervisor,
            Some(json!({"sink": "mes-sim"})),
        )
        .await
    }

    async fn roll_back(&self, id: &str) -> (u16, Value) {
        self.call(
            "POST",
            &format!("/v1/proposals/{id}/rollback"),
            &self.supervisor,
            None,
        )
        .await
    }

    /// The stored `operation_dispatched` events whose id starts with `prefix`.
    async fn dispatches(&self, prefix: &str) -> Vec<Value> {
        let (status, events) = self
            .call(
                "GET",
                "/v1/events?type=operation_dispatched&limit=10000",
                &self.planner,
                None,
            )
            .await;
        assert_eq!(status, 200, "{events}");
        events["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["event"].clone())
            .filter(|e| e["id"].as_str().unwrap().starts_with(prefix))
            .collect()
    }
}

/// The reference plant's order book over 14 days as a native problem.
async fn scenarios(app: &App, problem: &PlantProblem, plan: Option<&PlantSchedule>) -> Value {
    let mut request = json!({
        "problem": problem,
        "scenarios": ["maximize_throughput", "minimize_changeovers", "overtime_on_bottleneck"],
        "iterations": 30,
        "risk_runs": 20,
        "seed": 2
    });
    if let Some(plan) = plan {
        request["plan"] = json!(plan);
    }
    let (status, body) = app
        .call(
            "POST",
            "/v1/schedule/scenarios",
            &app.planner,
            Some(request),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

fn scenario<'r>(report: &'r Value, kind: &str) -> Option<&'r Value> {
    report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["scenario"] == kind)
}

/// The order and step of an operation id `<order>/<step>`.
fn operation(id: &str) -> (OrderId, u32) {
    let operation: OperationRef = id.parse().unwrap();
    (operation.order, operation.step)
}

/// Where each (operation, field) of `diff` should stand: its `before` or its `after`.
fn targets(diff: &[Value], side: &str) -> BTreeMap<(String, String), Value> {
    diff.iter()
        .map(|c| {
            (
                (
                    c["id"].as_str().unwrap().to_owned(),
                    c["field"].as_str().unwrap().to_owned(),
                ),
                c[side].clone(),
            )
        })
        .collect()
}

/// Every operation change's target as the folded state shows it, and over HTTP for one order.
async fn assert_dispatched(app: &App, expected: &BTreeMap<(String, String), Value>) {
    let state = app.store.state().await;
    for ((op, field), value) in expected {
        let (order, step) = operation(op);
        let dispatch = state.orders[&order]
            .dispatched
            .get(&step)
            .unwrap_or_else(|| panic!("no dispatch of {op}"));
        match field.as_str() {
            "unit" => assert_eq!(
                dispatch.unit,
                Some(UnitId::from(value.as_str().unwrap())),
                "{op}"
            ),
            "start" => assert_eq!(
                dispatch.start,
                Some(Timestamp::parse(value.as_str().unwrap()).unwrap()),
                "{op}"
            ),
            other => panic!("operation field {other}"),
        }
    }
    let ((op, field), value) = expected.iter().next().unwrap();
    let (order, step) = operation(op);
    let (status, body) = app
        .call("GET", &format!("/v1/orders/{order}"), &app.planner, None)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        &body["dispatched"][step.to_string()][field],
        value,
        "{body}"
    );
}

#[tokio::test]
async fn committed_operation_moves_are_dispatched_by_the_simulated_mes_and_rolled_back() {
    let app = App::start().await;
    let problem = common::reference_problem();
    let first = scenarios(&app, &problem, None).await;
    let plan: PlantSchedule =
        serde_json::from_value(scenario(&first, "as_planned").unwrap()["schedule"].clone())
            .unwrap();

    // A hand tweak within the assisted thresholds applies by itself, through the simulated MES.
    let tweaked = common::nudged(&problem, &plan).0;
    let proposal = app
        .commit(json!({"problem": problem, "plan": plan,
                       "scenario": {"scenario": "minimize_changeovers", "schedule": tweaked}}))
        .await;
    let id = proposal["id"].as_str().unwrap();
    assert_eq!(proposal["status"], "applied", "{}", proposal["gate"]);
    assert_eq!(proposal["applied"]["sink"], "mes-sim");
    assert_eq!(proposal["applied"]["answer"]["status"], "Succeeded");
    assert_eq!(
        proposal["applied"]["answer"]["events"],
        json!([format!("{id}-apply-1")])
    );
    let diff = proposal["diff"].as_array().unwrap();
    assert_eq!(diff.len(), 1, "{diff:?}");
    let events = app.dispatches(&format!("{id}-")).await;
    assert_eq!(events.len(), 1);
    let (order, step) = operation(diff[0]["id"].as_str().unwrap());
    assert_eq!(events[0]["type"], "operation_dispatched");
    assert_eq!(events[0]["order"], order.as_str());
    assert_eq!(events[0]["step"], step);
    assert_eq!(events[0]["start"], diff[0]["after"]);
    assert!(events[0].get("unit").is_none(), "{}", events[0]);
    assert_dispatched(&app, &targets(diff, "after")).await;

    // A preset scenario against the plan in force (the tweak applied): only operation moves,
    // waiting for approval or not.
    let plan = tweaked;
    let report = scenarios(&app, &problem, Some(&plan)).await;
    let mut committed = None;
    for kind in ["maximize_throughput", "minimize_changeovers"] {
        let Some(chosen) = scenario(&report, kind) else {
            continue;
        };
        let (status, proposal) = app
            .call(
                "POST",
                COMMIT,
                &app.planner,
                Some(
                    json!({"problem": problem, "plan": plan, "scenario": chosen, "area": "A-CHEM"}),
                ),
            )
            .await;
        if status == 201 {
            committed = Some(proposal);
            break;
        }
        assert_eq!(status, 422, "{kind}: {proposal}");
    }
    let proposal = committed.expect("a preset scenario that moves operations");
    let id = proposal["id"].as_str().unwrap().to_owned();
    let diff = proposal["diff"].as_array().unwrap().clone();
    assert!(!diff.is_empty());
    assert!(
        diff.iter().all(|c| c["entity"] == "operation"),
        "only operation changes: {diff:?}"
    );
    assert!(diff.iter().any(|c| c["field"] == "start"));
    let (status, applied) = app.approve_and_apply(&proposal).await;
    assert_eq!(status, 200, "{applied}");
    assert_eq!(applied["status"], "applied");
    assert_eq!(applied["applied"]["sink"], "mes-sim");
    assert_eq!(
        applied["applied"]["answer"]["inserted"].as_u64(),
        Some(diff.len() as u64)
    );
    let events = app.dispatches(&format!("{id}-apply-")).await;
    assert_eq!(events.len(), diff.len());
    for (event, change) in events.iter().zip(&diff) {
        let (order, step) = operation(change["id"].as_str().unwrap());
        assert_eq!(event["order"], order.as_str(), "{event}");
        assert_eq!(event["step"], step, "{event}");
        let field = change["field"].as_str().unwrap();
        assert_eq!(event[field], change["after"], "{event}");
    }
    assert_dispatched(&app, &targets(&diff, "after")).await;
    // Dispatching plans, it does not progress the orders.
    let state = app.store.state().await;
    assert!(state.orders.values().all(|o| o.steps_completed == 0));

    // Rolled back through the same sink: every operation is dispatched back to the plan.
    let (status, rolled) = app.roll_back(&id).await;
    assert_eq!(status, 200, "{rolled}");
    assert_eq!(rolled["status"], "rolled_back");
    assert_eq!(rolled["rolled_back"]["sink"], "mes-sim");
    let back = app.dispatches(&format!("{id}-rollback-")).await;
    assert_eq!(back.len(), diff.len());
    assert_dispatched(&app, &targets(&diff, "before")).await;
    assert!(app.store.verify_audit().await.unwrap().is_intact());
}

#[tokio::test]
async fn what_the_simulated_mes_cannot_carry_out_is_refused_by_name() {
    let app = App::start().await;
    let problem = common::reference_problem();
    let first = scenarios(&app, &problem, None).await;
    let plan: PlantSchedule =
        serde_json::from_value(scenario(&first, "as_planned").unwrap()["schedule"].clone())
            .unwrap();

    // No plan in force: every operation is new (`before` null). It applies, but there is no
    // dispatch to roll back to.
    let tweaked = common::nudged(&problem, &plan).0;
    let proposal = app
        .commit(json!({"problem": problem,
                       "scenario": {"scenario": "minimize_changeovers", "schedule": tweaked},
                       "area": "A-CHEM"}))
        .await;
    let id = proposal["id"].as_str().unwrap().to_owned();
    let diff = proposal["diff"].as_array().unwrap();
    assert!(diff.iter().all(|c| c["before"].is_null()));
    let (status, applied) = app.approve_and_apply(&proposal).await;
    assert_eq!(status, 200, "{applied}");
    assert_eq!(
        app.dispatches(&format!("{id}-apply-")).await.len(),
        diff.len()
    );
    let (status, body) = app.roll_back(&id).await;
    assert_eq!(status, 502, "{body}");
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("cannot roll back"), "{detail}");
    assert!(detail.contains("not in the plan"), "{detail}");
    assert!(detail.contains("operation."), "{detail}");
    assert!(app.dispatches(&format!("{id}-rollback-")).await.is_empty());
    let (_, stored) = app
        .call("GET", &format!("/v1/proposals/{id}"), &app.planner, None)
        .await;
    assert_eq!(stored["status"], "applied");

    // Overtime windows: the scenario commits, but the simulated MES refuses it whole. The
    // plan in force is now what the MES has dispatched (`tweaked`): a diff against an older
    // plan would be refused as stale.
    let plan = tweaked;
    let report = scenarios(&app, &problem, Some(&plan)).await;
    let overtime = scenario(&report, "overtime_on_bottleneck").expect("an overtime scenario");
    let windows = overtime["changes"]["overtime"].as_array().unwrap();
    assert!(!windows.is_empty(), "{overtime}");
    let proposal = app
        .commit(json!({"problem": problem, "plan": plan, "scenario": overtime, "area": "A-CHEM"}))
        .await;
    let id = proposal["id"].as_str().unwrap().to_owned();
    let calendar = proposal["diff"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["field"] == "overtime_windows")
        .expect("an overtime change")
        .clone();
    let (status, body) = app.approve_and_apply(&proposal).await;
    assert_eq!(status, 502, "{body}");
    let detail = body["detail"].as_str().unwrap();
    let name = format!(
        "{}.overtime_windows of `{}`",
        calendar["entity"].as_str().unwrap(),
        calendar["id"].as_str().unwrap()
    );
    assert!(detail.contains(&name), "`{name}` not in {detail}");
    assert!(detail.contains("calendar"), "{detail}");
    assert!(detail.contains("file sink"), "{detail}");
    assert!(app.dispatches(&format!("{id}-")).await.is_empty());
    let (_, stored) = app
        .call("GET", &format!("/v1/proposals/{id}"), &app.planner, None)
        .await;
    assert_eq!(stored["status"], "approved");
}
