//! The gate decides on what a diff really does, computed by the server against the plant,
//! never on what the proposer declares (issue #12, items 1 and 2): each reproduction of a
//! proposer talking its way past the gate is refused or made to wait, over real HTTP.
//!
//! - a high-priority due-date move of 16 days declared as `high_priority: false,
//!   shift_minutes: 5` waits for a human, with the claims corrected and audited;
//! - a planner's 2,880-minute move of a rush order declared as 5 minutes waits too;
//! - an `order.due` change filed as a `quality_hold` (which applies by itself) is refused;
//! - a `before` other than the plant's value is refused as stale, when proposed and when an
//!   approved proposal is applied after the plant moved on;
//! - a proposal's areas are every area its diff touches: an A-CHEM planner neither sees nor
//!   approves one that also touches A-SVC, whatever area the proposer named;
//! - an A-CHEM agent cannot reach an A-PACK order or unit through a proposal, and the sink
//!   itself refuses to carry out a change outside the scope it acts for.

mod common;

use common::{Setup, TestApp};
use govern::{PrincipalKind, Role, Scope};
use model::{OrderId, Priority, Timestamp};
use serde_json::{Value, json};

async fn start() -> TestApp {
    TestApp::with(Setup {
        simulated_days: Some(1.0),
        caller: None,
        ..Setup::default()
    })
    .await
}

fn evidence() -> Value {
    json!({
        "input_sha256": "b".repeat(64),
        "engine": "sneaky-agent",
        "engine_version": "1.0.0",
        "trigger": {"type": "principal", "principal": "sneaky"},
        "kpis_before": {"late_orders": 9.0},
        "kpis_after": {"late_orders": 0.0}
    })
}

/// A draft of one change, with the proposer's claims as given.
fn draft(kind: &str, area: &str, change: Value) -> Value {
    json!({"kind": kind, "area": area, "title": "trust me", "evidence": evidence(), "diff": [change]})
}

fn due_move(order: &str, before: Timestamp, after: Timestamp, shift: i64, high: bool) -> Value {
    json!({
        "entity": "order", "id": order, "field": "due",
        "before": before, "after": after,
        "shift_minutes": shift, "high_priority": high
    })
}

async fn due_of(app: &TestApp, order: &str) -> Timestamp {
    app.store.state().await.orders[&OrderId::from(order)]
        .order
        .due
}

/// Makes `order` high priority through the event log (as the plant would report it).
async fn make_high(app: &TestApp, order: &str) {
    let clock = app.store.state().await.clock.unwrap();
    let event = model::Event {
        id: format!("test-high-{order}").into(),
        time: clock,
        source: None,
        kind: model::EventKind::OrderChanged {
            order: order.into(),
            quantity: None,
            due: None,
            priority: Some(Priority::High),
        },
    };
    app.store
        .append(&[event], &store::Actor::system("test"))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_high_priority_move_declared_small_and_unimportant_waits_for_a_human() {
    let app = start().await;
    let agent = app.token_for("sneaky", Role::Agent, "*").await;
    make_high(&app, "MO-260008").await;
    let due = due_of(&app, "MO-260008").await;
    assert_eq!(due.to_string(), "2026-03-04T04:15:00Z");
    let later = Timestamp::parse("2026-03-20T04:15:00Z").unwrap();
    let (status, proposal) = app
        .call(
            "POST",
            "/v1/proposals",
            &agent,
            Some(draft(
                "schedule_change",
                "A-CHEM",
                due_move("MO-260008", due, later, 5, false),
            )),
        )
        .await;
    assert_eq!(status, 201, "{proposal}");
    assert_eq!(proposal["status"], "proposed", "{}", proposal["gate"]);
    assert_eq!(proposal["gate"]["approvals"], 1);
    let reasons = proposal["gate"]["reasons"].to_string();
    assert!(reasons.contains("moves 23040 min (limit 60)"), "{reasons}");
    assert_eq!(proposal["diff"][0]["shift_minutes"], 23_040);
    assert_eq!(proposal["diff"][0]["high_priority"], true);
    let corrected = &proposal["checks"]["claims_corrected"];
    assert_eq!(corrected[0]["field"], "shift_minutes", "{corrected}");
    assert_eq!(corrected[0]["claimed"], 5);
    assert_eq!(corrected[1]["field"], "high_priority");
    assert_eq!(proposal["checks"]["kpis"], "claimed");
    // Nothing moved, and the corrections are in the audit record of the creation.
    assert_eq!(due_of(&app, "MO-260008").await, due);
    let audit = app.store.audit_log(0, 10_000).await.unwrap();
    let created = audit
        .iter()
        .find(|r| r.action == "proposal.create")
        .unwrap();
    assert_eq!(
        created.detail["claims_corrected"][0]["computed"], 23_040,
        "{}",
        created.detail
    );
    // MO-260008 runs in A-CHEM and A-SVC: both are the proposal's areas.
    assert_eq!(proposal["areas"], json!(["A-CHEM", "A-SVC"]));
}

#[tokio::test]
async fn a_planner_cannot_move_a_rush_order_two_days_by_calling_it_five_minutes() {
    let app = start().await;
    let planner = app.token_for("pia", Role::Planner, "*").await;
    let state = app.store.state().await;
    let rush = state
        .orders
        .values()
        .find(|o| o.order.id.as_str().starts_with("RUSH-") && o.order.priority == Priority::High)
        .expect("a rush order");
    let (id, due) = (rush.order.id.to_string(), rush.order.due);
    let (status, proposal) = app
        .call(
            "POST",
            "/v1/proposals",
            &planner,
            Some(draft(
                "schedule_change",
                "A-CHEM",
                due_move(&id, due, due.plus_minutes(2_880.0), 5, false),
            )),
        )
        .await;
    assert_eq!(status, 201, "{proposal}");
    assert_eq!(proposal["status"], "proposed", "{}", proposal["gate"]);
    assert_eq!(proposal["diff"][0]["shift_minutes"], 2_880);
    assert!(proposal["applied"].is_null());
    assert_eq!(due_of(&app, &id).await, due, "the rush order did not move");
}

#[tokio::test]
async fn an_order_change_filed_as_a_quality_hold_is_refused_and_nothing_applies() {
    let app = start().await;
    let agent = app.token_for("sneaky", Role::Agent, "*").await;
    let due = due_of(&app, "MO-260001").await;
    let (status, body) = app
        .call(
            "POST",
            "/v1/proposals",
            &agent,
            Some(draft(
                "quality_hold",
                "A-CHEM",
                due_move("MO-260001", due, due.plus_minutes(4_000.0), 0, false),
            )),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("change 0 (order.due of `MO-260001`)"),
        "{detail}"
    );
    assert!(
        detail.contains("is a schedule_change change, not quality_hold"),
        "{detail}"
    );
    assert_eq!(due_of(&app, "MO-260001").await, due);
    let (_, listed) = app.call("GET", "/v1/proposals", &agent, None).await;
    assert_eq!(listed["total"], 0, "nothing was stored");
}

#[tokio::test]
async fn a_before_other_than_the_plants_value_is_refused_as_stale() {
    let app = start().await;
    let planner = app.token_for("pia", Role::Planner, "*").await;
    let due = due_of(&app, "MO-260001").await;
    let (status, body) = app
        .call(
            "POST",
            "/v1/proposals",
            &planner,
            Some(draft(
                "schedule_change",
                "A-CHEM",
                due_move("MO-260001", due.plus_minutes(-600.0), due, 600, true),
            )),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["type"], "urn:mixplane:problem:stale-before");
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("order.due of `MO-260001`"), "{detail}");
    assert!(detail.contains(&due.to_string()), "{detail}");
}

#[tokio::test]
async fn approving_needs_scope_over_every_area_the_diff_touches() {
    let app = start().await;
    let agent = app.token_for("sneaky", Role::Agent, "*").await;
    let chem = app.token_for("carl", Role::Planner, "area:A-CHEM").await;
    let site = app.token_for("sita", Role::Planner, "site:RHF").await;
    make_high(&app, "MO-260008").await;
    let due = due_of(&app, "MO-260008").await;
    // Priorities of MO-260008 (A-CHEM and A-SVC) and MO-260012 (A-PACK); A-CHEM named.
    let priority = |order: &str, before: &str| json!({"entity": "order", "id": order, "field": "priority", "before": before, "after": "high"});
    let mut body = draft(
        "schedule_change",
        "A-CHEM",
        due_move("MO-260008", due, due.plus_minutes(120.0), 0, false),
    );
    body["diff"] = json!([
        due_move("MO-260008", due, due.plus_minutes(120.0), 0, false),
        priority("MO-260012", "medium"),
    ]);
    let (status, proposal) = app.call("POST", "/v1/proposals", &agent, Some(body)).await;
    assert_eq!(status, 201, "{proposal}");
    assert_eq!(proposal["area"], "A-CHEM");
    assert_eq!(proposal["areas"], json!(["A-CHEM", "A-PACK", "A-SVC"]));
    assert_eq!(proposal["status"], "proposed", "{}", proposal["gate"]);
    let id = proposal["id"].as_str().unwrap();

    let (status, body) = app
        .call("POST", &format!("/v1/proposals/{id}/approve"), &chem, None)
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("area `A-PACK`"),
        "{body}"
    );
    let (status, _) = app
        .call("GET", &format!("/v1/proposals/{id}"), &chem, None)
        .await;
    assert_eq!(status, 403);
    let (_, listed) = app.call("GET", "/v1/proposals", &chem, None).await;
    assert_eq!(listed["total"], 0, "{listed}");
    let (_, by_area) = app
        .call("GET", "/v1/proposals?area=A-PACK", &site, None)
        .await;
    assert_eq!(by_area["total"], 1, "listed under every area it touches");

    let (status, approved) = app
        .call("POST", &format!("/v1/proposals/{id}/approve"), &site, None)
        .await;
    assert_eq!(status, 200, "{approved}");
    let (status, body) = app
        .call("POST", &format!("/v1/proposals/{id}/apply"), &chem, None)
        .await;
    assert_eq!(status, 403, "{body}");
    let (status, applied) = app
        .call("POST", &format!("/v1/proposals/{id}/apply"), &site, None)
        .await;
    assert_eq!(status, 200, "{applied}");
}

#[tokio::test]
async fn an_area_agent_cannot_reach_another_area_through_a_proposal() {
    let app = start().await;
    let agent = app.token_for("chem-bot", Role::Agent, "area:A-CHEM").await;
    let due = due_of(&app, "MO-260012").await;
    // An A-PACK order, named A-CHEM.
    let (status, body) = app
        .call(
            "POST",
            "/v1/proposals",
            &agent,
            Some(draft(
                "schedule_change",
                "A-CHEM",
                due_move("MO-260012", due, due.plus_minutes(30.0), 30, false),
            )),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("area `A-PACK`"),
        "{body}"
    );
    // An A-PACK unit taken down as a quality hold (closed loop), named A-CHEM.
    let snapshot = app.store.snapshot().await;
    let catalog = snapshot.catalog.clone().unwrap();
    let (unit, state) = snapshot
        .state
        .units
        .iter()
        .find(|(u, s)| {
            catalog.unit_area(u).map(|a| a.as_str()) == Some("A-PACK")
                && s.state != model::EquipmentState::Down
        })
        .expect("a running A-PACK unit");
    let hold = json!({"entity": "unit", "id": unit, "field": "state",
                      "before": state.state, "after": "down"});
    let (status, body) = app
        .call(
            "POST",
            "/v1/proposals",
            &agent,
            Some(draft("quality_hold", "A-CHEM", hold)),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(due_of(&app, "MO-260012").await, due);
    assert_eq!(app.store.state().await.units[unit].state, state.state);
}

/// A proposal approved on a move from the plant's value of the time is not applied once the
/// plant holds another value: its `after` would now be a different move.
#[tokio::test]
async fn an_approved_proposal_whose_before_went_stale_is_not_applied() {
    let app = start().await;
    let agent = app.token_for("sneaky", Role::Agent, "*").await;
    let boss = app.token_for("sam", Role::Supervisor, "*").await;
    let state = app.store.state().await;
    let order = state
        .orders
        .values()
        .find(|o| o.status == model::OrderStatus::Planned)
        .expect("a planned order")
        .order
        .id
        .to_string();
    // High priority, so a 2-hour move waits for approval.
    make_high(&app, &order).await;
    let due = due_of(&app, &order).await;
    let (status, proposal) = app
        .call(
            "POST",
            "/v1/proposals",
            &agent,
            Some(draft(
                "schedule_change",
                "A-CHEM",
                due_move(&order, due, due.plus_minutes(120.0), 120, true),
            )),
        )
        .await;
    assert_eq!(status, 201, "{proposal}");
    let id = proposal["id"].as_str().unwrap();
    let (status, _) = app
        .call("POST", &format!("/v1/proposals/{id}/approve"), &boss, None)
        .await;
    assert_eq!(status, 200);
    // Meanwhile the plant reports the order due three days earlier.
    let clock = app.store.state().await.clock.unwrap();
    let earlier = due.plus_minutes(-3.0 * 1440.0);
    let moved = model::Event {
        id: "test-due-moved".into(),
        time: clock,
        source: None,
        kind: model::EventKind::OrderChanged {
            order: order.as_str().into(),
            quantity: None,
            due: Some(earlier),
            priority: None,
        },
    };
    app.store
        .append(&[moved], &store::Actor::system("test"))
        .await
        .unwrap();
    let (status, body) = app
        .call("POST", &format!("/v1/proposals/{id}/apply"), &boss, None)
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["type"], "urn:mixplane:problem:stale-before");
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("no longer applies"), "{detail}");
    assert!(
        detail.contains(&format!("order.due of `{order}`")),
        "{detail}"
    );
    assert_eq!(due_of(&app, &order).await, earlier);
}

/// The sink checks areas like `POST /v1/events`: delivering a proposal on behalf of an
/// A-CHEM principal appends nothing that acts in A-PACK, and says why.
#[tokio::test]
async fn the_sink_refuses_a_change_outside_the_scope_it_acts_for() {
    let app = start().await;
    let due = due_of(&app, "MO-260012").await;
    let admin = govern::Principal::new("root", PrincipalKind::Person, Role::Admin, Scope::All);
    let draft: govern::ProposalDraft = serde_json::from_value(draft(
        "schedule_change",
        "A-PACK",
        due_move("MO-260012", due, due.plus_minutes(30.0), 30, false),
    ))
    .unwrap();
    let snapshot = app.store.snapshot().await;
    let catalog = snapshot.catalog.clone().unwrap();
    let facts = govern::PlantView {
        catalog: &catalog,
        state: &snapshot.state,
    };
    let assessment = govern::assess(&draft.diff, &facts).unwrap();
    let proposal = govern::Proposal::propose(
        "P-sink",
        draft,
        &admin,
        &govern::Policy::default_policy(),
        &govern::Hierarchy::from_plant(catalog.plant()),
        &assessment,
        Timestamp(0),
    )
    .unwrap();
    let chem = govern::Principal::new(
        "chem-admin",
        PrincipalKind::Person,
        Role::Admin,
        "area:A-CHEM".parse().unwrap(),
    );
    let state = server::AppState::new(app.store.clone());
    let events_before = app.store.counts().await.unwrap().events;
    let actor = store::Actor::system("test");
    let refused = app::govern::sink::deliver(
        &state,
        app::SinkKind::MesSim,
        &proposal,
        &proposal.diff,
        "apply",
        &actor,
        &chem,
    )
    .await
    .unwrap_err();
    assert_eq!(refused["status"], "Error", "{refused}");
    assert_eq!(refused["reason"], "scope", "{refused}");
    let message = refused["message"].as_str().unwrap();
    assert!(message.contains("A-PACK"), "{message}");
    assert!(message.contains("area:A-CHEM"), "{message}");
    assert_eq!(app.store.counts().await.unwrap().events, events_before);
    assert_eq!(due_of(&app, "MO-260012").await, due);
    // The same delivery on behalf of a principal whose scope reaches A-PACK goes through.
    let answer = app::govern::sink::deliver(
        &state,
        app::SinkKind::MesSim,
        &proposal,
        &proposal.diff,
        "apply",
        &actor,
        &admin,
    )
    .await
    .unwrap();
    assert_eq!(answer["status"], "Succeeded", "{answer}");
    assert_eq!(due_of(&app, "MO-260012").await, due.plus_minutes(30.0));
}

/// Review of issue #12: demoting a high-priority order, or changing its quantity, moves no
/// date, so the move limit alone let an agent take MO-260008 out of high priority by itself
/// and then move its due date 16 days, also by itself, or shrink it to nothing. Both wait for
/// a human now; nothing changes meanwhile.
#[tokio::test]
async fn demoting_or_shrinking_a_high_priority_order_waits_for_a_human() {
    let app = start().await;
    let agent = app.token_for("sneaky", Role::Agent, "*").await;
    make_high(&app, "MO-260008").await;
    let before = app.store.state().await.orders[&OrderId::from("MO-260008")]
        .order
        .clone();
    let changes = [
        json!({"entity": "order", "id": "MO-260008", "field": "priority",
               "before": "high", "after": "low", "high_priority": false}),
        json!({"entity": "order", "id": "MO-260008", "field": "quantity",
               "before": before.quantity, "after": 0.001, "high_priority": false}),
    ];
    for (change, reason) in changes
        .into_iter()
        .zip(["is demoted to", "changes its quantity"])
    {
        let (status, proposal) = app
            .call(
                "POST",
                "/v1/proposals",
                &agent,
                Some(draft("schedule_change", "A-CHEM", change)),
            )
            .await;
        assert_eq!(status, 201, "{proposal}");
        assert_eq!(proposal["status"], "proposed", "{}", proposal["gate"]);
        assert_eq!(proposal["gate"]["approvals"], 1);
        let reasons = proposal["gate"]["reasons"].to_string();
        assert!(reasons.contains(reason), "{reasons}");
    }
    let after = &app.store.state().await.orders[&OrderId::from("MO-260008")].order;
    assert_eq!(after.priority, Priority::High);
    assert_eq!(after.quantity, before.quantity);

    // Raising an order to high priority still applies by itself (it only tightens the gate).
    let (status, proposal) = app
        .call(
            "POST",
            "/v1/proposals",
            &agent,
            Some(draft(
                "schedule_change",
                "A-CHEM",
                json!({"entity": "order", "id": "MO-260009", "field": "priority",
                       "before": app.store.state().await.orders[&OrderId::from("MO-260009")].order.priority,
                       "after": "high"}),
            )),
        )
        .await;
    assert_eq!(status, 201, "{proposal}");
    assert_eq!(proposal["status"], "applied", "{}", proposal["gate"]);
}

/// Review of issue #12: rolling back an applied due move put the old due date back even
/// after later changes had moved the order on, silently overwriting them (a 47-day jump with
/// nobody deciding on it). A rollback is refused as stale unless the plant still holds what
/// the proposal set; the latest change still rolls back.
#[tokio::test]
async fn a_rollback_does_not_overwrite_what_changed_since() {
    let app = start().await;
    let agent = app.token_for("sneaky", Role::Agent, "*").await;
    let boss = app.token_for("sam", Role::Supervisor, "*").await;
    let state = app.store.state().await;
    let order = state
        .orders
        .values()
        .find(|o| o.status == model::OrderStatus::Planned)
        .expect("a planned order")
        .order
        .id
        .to_string();
    let due = due_of(&app, &order).await;
    let mut ids = Vec::new();
    for step in 1..=2 {
        let from = due.plus_minutes(30.0 * f64::from(step - 1));
        let to = due.plus_minutes(30.0 * f64::from(step));
        let (status, proposal) = app
            .call(
                "POST",
                "/v1/proposals",
                &agent,
                Some(draft(
                    "schedule_change",
                    "A-CHEM",
                    due_move(&order, from, to, 30, false),
                )),
            )
            .await;
        assert_eq!(status, 201, "{proposal}");
        assert_eq!(proposal["status"], "applied", "{}", proposal["gate"]);
        ids.push(proposal["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(due_of(&app, &order).await, due.plus_minutes(60.0));
    let (status, body) = app
        .call(
            "POST",
            &format!("/v1/proposals/{}/rollback", ids[0]),
            &boss,
            None,
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["type"], "urn:mixplane:problem:stale-before");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("cannot be rolled back"),
        "{body}"
    );
    assert_eq!(due_of(&app, &order).await, due.plus_minutes(60.0));
    // The latest one still rolls back, and then the first one does too.
    for id in ids.iter().rev() {
        let (status, body) = app
            .call("POST", &format!("/v1/proposals/{id}/rollback"), &boss, None)
            .await;
        assert_eq!(status, 200, "{body}");
    }
    assert_eq!(due_of(&app, &order).await, due);
}

#[tokio::test]
async fn a_proposal_with_fields_nobody_defined_or_an_outsized_title_is_refused_by_name() {
    let app = start().await;
    let agent = app.token_for("sneaky", Role::Agent, "*").await;
    let due = due_of(&app, "MO-260001").await;
    let valid = draft(
        "schedule_change",
        "A-CHEM",
        due_move("MO-260001", due, due.plus_minutes(30.0), 30, false),
    );
    let mut claims_status = valid.clone();
    claims_status["status"] = json!("applied");
    let mut odd_change = valid.clone();
    odd_change["diff"][0]["bogus"] = json!(1);
    let mut odd_evidence = valid.clone();
    odd_evidence["evidence"]["autonomy"] = json!("closed_loop");
    let mut long_title = valid.clone();
    long_title["title"] = json!("t".repeat(100_000));
    for (body, named) in [
        (claims_status, "status"),
        (odd_change, "bogus"),
        (odd_evidence, "autonomy"),
        (long_title, "title"),
    ] {
        let (status, answer) = app.call("POST", "/v1/proposals", &agent, Some(body)).await;
        assert_eq!(status, 422, "{answer}");
        let detail = answer["detail"].as_str().unwrap();
        assert!(detail.contains(named), "{named}: {detail}");
    }
    let (_, listed) = app.call("GET", "/v1/proposals", &agent, None).await;
    assert_eq!(listed["total"], 0, "nothing was stored");
    let (status, answer) = app.call("POST", "/v1/proposals", &agent, Some(valid)).await;
    assert_eq!(
        status, 201,
        "the same draft without them is taken: {answer}"
    );
}
