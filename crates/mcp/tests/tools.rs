//! The tool layer over a real store (SQLite in memory, the reference plant and a simulated
//! day): every call audited under the agent, refusals by role and by scope that say what is
//! missing, pseudonymised answers, and an agent that cannot approve whatever its role.

use std::sync::Arc;

use app::App;
use govern::{DecisionKind, Principal, PrincipalKind, Role, Scope};
use mcp::error::ToolError;
use mcp::{Caller, McpServer};
use model::Timestamp;
use serde_json::{Value, json};

async fn plant_app() -> App {
    let store = Arc::new(store::test_support::private_store().await.unwrap());
    let system = store::Actor::system("test");
    store
        .put_plant(sim::reference_plant(), &system)
        .await
        .unwrap();
    let options = sim::SimOptions {
        days: 1.0,
        ..sim::SimOptions::default()
    };
    let run = sim::simulate(&sim::reference_catalog(), &options, None, |_| {}).unwrap();
    store.append(&run.events, &system).await.unwrap();
    App::new(store).with_clock(app::FixedClock(
        Timestamp::parse("2026-03-03T06:00:00Z").unwrap(),
    ))
}

fn agent(scope: Scope) -> Principal {
    Principal::new("agent-7", PrincipalKind::Agent, Role::Agent, scope)
}

fn server(app: &App, who: Principal) -> McpServer {
    McpServer::new(app.clone(), Caller::Resolved(who), "mcp-test")
}

async fn last_audit(app: &App) -> store::AuditRecord {
    app.store
        .audit_log(0, 100_000)
        .await
        .unwrap()
        .pop()
        .expect("an audit record")
}

/// The orders whose routing runs in `area` only (a chemical order is in A-CHEM alone).
async fn orders_of_area(app: &App, area: &str) -> Vec<String> {
    let reach = app::scope::Reach::of(app, &agent(Scope::All))
        .await
        .unwrap();
    reach
        .state()
        .orders
        .keys()
        .map(ToString::to_string)
        .filter(|id| {
            reach
                .order_areas(id)
                .is_some_and(|areas| areas.len() == 1 && areas.iter().all(|a| a.as_str() == area))
        })
        .collect()
}

async fn order_of_area(app: &App, area: &str) -> String {
    orders_of_area(app, area)
        .await
        .into_iter()
        .next()
        .expect("an order of the area")
}

#[tokio::test]
async fn every_call_is_audited_under_the_agent_answered_or_refused() {
    let app = plant_app().await;
    let mcp = server(&app, agent(Scope::All));
    let answer = mcp
        .call("list_orders", json!({ "status": "completed", "limit": 3 }))
        .await
        .unwrap();
    assert!(answer["items"].as_array().unwrap().len() <= 3);
    let record = last_audit(&app).await;
    assert_eq!(record.action, app::tool_calls::TOOL_CALL);
    assert_eq!(record.subject, "tool:list_orders");
    assert_eq!(record.actor.id, "agent-7");
    assert_eq!(record.detail["modified_by"], "agent-7");
    assert_eq!(record.detail["role"], "agent");
    assert_eq!(record.detail["door"], "mcp-test");
    assert_eq!(record.detail["outcome"], "answered");
    assert_eq!(record.detail["arguments"]["status"], "completed");

    // A refusal is audited too, with why.
    let viewer = Principal::new("agent-8", PrincipalKind::Agent, Role::Viewer, Scope::All);
    let error = server(&app, viewer)
        .call(
            "propose_hold",
            json!({ "item_kind": "lot", "item_id": "x", "reason": "r", "severity": "minor" }),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, ToolError::Permission { .. }), "{error}");
    let text = error.to_string();
    assert!(
        text.contains("propose_changes") && text.contains("viewer"),
        "{text}"
    );
    let record = last_audit(&app).await;
    assert_eq!(record.actor.id, "agent-8");
    assert_eq!(record.detail["outcome"], "refused");
    assert!(
        record.detail["reason"]
            .as_str()
            .unwrap()
            .contains("propose_changes")
    );

    // So is a call of a tool that does not exist; the trail still verifies.
    let error = mcp.call("approve_proposal", json!({})).await.unwrap_err();
    assert!(error.to_string().contains("list_orders"), "{error}");
    assert_eq!(last_audit(&app).await.subject, "tool:approve_proposal");
    app.store.verify_audit().await.unwrap();
}

#[tokio::test]
async fn an_area_agent_reads_and_acts_only_inside_its_area() {
    let app = plant_app().await;
    let chemical = order_of_area(&app, "A-CHEM").await;
    let assembly = agent(Scope::Area("A-ASSY".into()));
    let mcp = server(&app, assembly);

    // Another area's order does not exist for it, and the error says where ids come from.
    let error = mcp
        .call("get_order", json!({ "order_id": chemical }))
        .await
        .unwrap_err();
    assert!(matches!(error, ToolError::NotFound { .. }), "{error}");
    assert!(error.to_string().contains("list_orders"), "{error}");
    let listed = mcp
        .call("list_orders", json!({ "limit": 500 }))
        .await
        .unwrap();
    assert!(
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["order"]["id"] != chemical.as_str())
    );

    // The what-ifs read the whole plant: refused, naming the scope it needs.
    let error = mcp.call("run_what_if", json!({})).await.unwrap_err();
    assert!(matches!(error, ToolError::Scope { .. }), "{error}");
    let text = error.to_string();
    assert!(
        text.contains("area:A-ASSY") && text.contains("site-wide"),
        "{text}"
    );
    assert_eq!(last_audit(&app).await.detail["outcome"], "refused");

    // A hold on a lot made in another area: as if the lot did not exist.
    let reach = app::scope::Reach::of(&app, &agent(Scope::All))
        .await
        .unwrap();
    let lot = reach
        .state()
        .lots
        .iter()
        .find(|(_, lot)| {
            lot.produced_by
                .as_ref()
                .is_some_and(|o| o.as_str() == chemical)
        })
        .map(|(id, _)| id.to_string());
    if let Some(lot) = lot {
        let error = mcp
            .call(
                "propose_hold",
                json!({ "item_kind": "lot", "item_id": lot, "reason": "r", "severity": "major" }),
            )
            .await
            .unwrap_err();
        assert!(matches!(error, ToolError::NotFound { .. }), "{error}");
    }
}

#[tokio::test]
async fn an_agent_never_approves_even_with_a_role_that_could() {
    let app = plant_app().await;
    let order = order_of_area(&app, "A-CHEM").await;
    // An agent given a supervisor's role: its hold proposal is gated like anyone's...
    let strong = Principal::new(
        "agent-9",
        PrincipalKind::Agent,
        Role::Supervisor,
        Scope::All,
    );
    let mcp = server(&app, strong.clone());
    let answer = mcp
        .call(
            "propose_hold",
            json!({ "item_kind": "order", "item_id": order, "reason": "suspect resin", "severity": "major" }),
        )
        .await
        .unwrap();
    let proposal = answer["governance"]["proposal"]
        .as_str()
        .unwrap()
        .to_owned();
    let record = last_audit(&app).await;
    assert_eq!(record.detail["outcome"], "proposed");
    assert_eq!(record.detail["proposal"], proposal.as_str());
    // ...no tool decides, and the use-case refuses its decision whatever its role.
    assert!(
        mcp::tools::TOOLS
            .iter()
            .all(|t| !t.name.contains("approve"))
    );
    let refused = app::govern::decide(&app, &strong, &proposal, DecisionKind::Approve, None).await;
    assert!(refused.is_err(), "an agent approved {proposal}");
}

#[tokio::test]
async fn answers_name_no_person_and_a_proposal_says_whether_it_waits() {
    let app = plant_app().await;
    let mcp = server(&app, agent(Scope::All));
    let centers = mcp.call("list_work_centers", json!({})).await.unwrap();
    assert!(centers["items"].as_array().is_some_and(|c| !c.is_empty()));

    // The agent may not place holds itself: the policy's closed loop approves the proposal,
    // but it is not applied on the agent's behalf; a person who may hold applies it.
    let order = order_of_area(&app, "A-CHEM").await;
    let answer = mcp
        .call(
            "propose_hold",
            json!({ "item_kind": "order", "item_id": order, "reason": "suspect resin", "severity": "major" }),
        )
        .await
        .unwrap();
    let governance = &answer["governance"];
    assert_eq!(governance["applied_by_itself"], false, "{governance}");
    assert!(governance["waits_for"].as_str().is_some(), "{governance}");
    // The proposer's identity is pseudonymised in what the agent reads back.
    let followed = mcp
        .call(
            "get_proposal",
            json!({ "proposal_id": governance["proposal"] }),
        )
        .await
        .unwrap();
    let proposed_by = followed["proposal"]["proposed_by"].as_str().unwrap();
    assert_ne!(proposed_by, "agent-7", "{proposed_by}");
    let holds = app
        .store
        .active_holds_on(&[("order".into(), order.clone())])
        .await
        .unwrap();
    assert!(holds.is_empty(), "an agent's hold was placed: {holds:?}");

    // Bad arguments name the field.
    let error = mcp
        .call("list_orders", json!({ "status": "finished" }))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("status"), "{error}");
    let error = mcp
        .call("get_order", json!({ "order": "x" }))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("order_id"), "{error}");
    let _: Value = mcp.call("list_alerts", Value::Null).await.unwrap();
}

#[tokio::test]
async fn an_nc_transition_waits_for_two_people_and_is_carried_out_when_applied() {
    let app = plant_app().await;
    let order = order_of_area(&app, "A-CHEM").await;
    let engineer =
        |id: &str| Principal::new(id, PrincipalKind::Person, Role::QualityEngineer, Scope::All);
    let nc = app::quality::open_nc(
        &app,
        &engineer("qe-1"),
        app::quality::NcRequest {
            description: "viscosity out of spec".into(),
            items: vec![format!("order:{order}")],
            characteristic: None,
        },
    )
    .await
    .unwrap();
    let mcp = server(&app, agent(Scope::All));

    // A command the workflow does not take now is refused before anything is proposed.
    let error = mcp
        .call(
            "propose_nc_transition",
            json!({ "nc_id": nc.id, "transition": { "action": "close" } }),
        )
        .await
        .unwrap_err();
    assert!(error.to_string().contains(&nc.id), "{error}");
    let error = mcp
        .call(
            "propose_nc_transition",
            json!({ "nc_id": nc.id, "transition": { "action": "investigate" } }),
        )
        .await
        .unwrap_err();
    assert!(error.to_string().contains("start_investigation"), "{error}");

    let answer = mcp
        .call(
            "propose_nc_transition",
            json!({ "nc_id": nc.id, "transition": { "action": "start_investigation" } }),
        )
        .await
        .unwrap();
    let governance = &answer["governance"];
    assert_eq!(governance["status"], "proposed", "{governance}");
    assert_eq!(governance["applied_by_itself"], false);
    assert!(
        governance["waits_for"]
            .as_str()
            .unwrap()
            .contains("2 approval"),
        "{governance}"
    );
    let proposal = governance["proposal"].as_str().unwrap();
    // Nothing moved yet.
    let now = app::quality::nonconformance(&app, &engineer("qe-1"), &nc.id)
        .await
        .unwrap();
    assert_eq!(now.nonconformance.state.name(), "open");

    // Two people approve (four eyes), one applies: the NC moves, by the applier.
    for who in ["qe-2", "qe-3"] {
        app::govern::decide(&app, &engineer(who), proposal, DecisionKind::Approve, None)
            .await
            .unwrap();
    }
    let applied = app::govern::apply(&app, &engineer("qe-2"), proposal, None)
        .await
        .unwrap();
    assert_eq!(applied.applied.as_ref().unwrap().sink, "nonconformances");
    let now = app::quality::nonconformance(&app, &engineer("qe-1"), &nc.id)
        .await
        .unwrap();
    assert_eq!(now.nonconformance.state.name(), "investigating");
    assert_eq!(now.nonconformance.history.last().unwrap().by, "person:qe-2");
}

#[tokio::test]
async fn a_hold_release_waits_for_two_people_releases_only_that_hold_and_rolls_back() {
    let app = plant_app().await;
    let order = order_of_area(&app, "A-CHEM").await;
    let engineer =
        |id: &str| Principal::new(id, PrincipalKind::Person, Role::QualityEngineer, Scope::All);
    let mcp = server(&app, agent(Scope::All));
    // The agent's hold, approved by the policy, placed when a quality engineer applies it.
    let placed = mcp
        .call(
            "propose_hold",
            json!({ "item_kind": "order", "item_id": order, "reason": "suspect resin", "severity": "critical" }),
        )
        .await
        .unwrap();
    let placing = placed["governance"]["proposal"]
        .as_str()
        .unwrap()
        .to_owned();
    app::govern::apply(&app, &engineer("qe-1"), &placing, None)
        .await
        .unwrap();
    let item = [("order".to_owned(), order.clone())];
    let holds = app.store.active_holds_on(&item).await.unwrap();
    assert_eq!(holds.len(), 1, "{holds:?}");
    let hold = holds[0].id.clone();

    // A hold placed by hand without a severity cannot be proposed for release.
    let other = app::quality::place_hold(
        &app,
        &engineer("qe-1"),
        app::quality::HoldRequest {
            item_kind: "order".into(),
            item_id: orders_of_area(&app, "A-CHEM").await[1].clone(),
            reason: "seal".into(),
        },
    )
    .await
    .unwrap();
    let error = mcp
        .call(
            "propose_hold_release",
            json!({ "hold_id": other.id, "reason": "fine" }),
        )
        .await
        .unwrap_err();
    assert!(error.to_string().contains("holds release"), "{error}");

    let answer = mcp
        .call(
            "propose_hold_release",
            json!({ "hold_id": hold, "reason": "retest in spec" }),
        )
        .await
        .unwrap();
    let governance = &answer["governance"];
    assert_eq!(governance["status"], "proposed", "{governance}");
    assert!(
        governance["waits_for"]
            .as_str()
            .unwrap()
            .contains("2 approval"),
        "{governance}"
    );
    let proposal = governance["proposal"].as_str().unwrap();
    assert_eq!(app.store.active_holds_on(&item).await.unwrap().len(), 1);
    for who in ["qe-2", "qe-3"] {
        app::govern::decide(&app, &engineer(who), proposal, DecisionKind::Approve, None)
            .await
            .unwrap();
    }
    let applied = app::govern::apply(&app, &engineer("qe-2"), proposal, None)
        .await
        .unwrap();
    assert_eq!(applied.applied.as_ref().unwrap().sink, "quality-holds");
    assert!(app.store.active_holds_on(&item).await.unwrap().is_empty());
    let (released, _) = app::quality::hold(&app, &engineer("qe-1"), &hold)
        .await
        .unwrap();
    assert!(!released.active);
    assert!(released.release_reason.unwrap().contains(proposal));

    // Rolled back: the item is on hold again.
    app::govern::roll_back(&app, &engineer("qe-2"), proposal)
        .await
        .unwrap();
    assert_eq!(app.store.active_holds_on(&item).await.unwrap().len(), 1);
}
