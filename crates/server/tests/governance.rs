//! The governance flow over real HTTP: an agent's proposal waits for approval, nobody approves
//! their own, an approved change goes to the simulated MES (events in the log, order changed)
//! and is rolled back, a proposal within thresholds applies by itself, the file sink writes
//! JSON Lines, every step is audited with `modified_by` and the sink's answer, agents see
//! pseudonymised data and only admins resolve pseudonyms.

mod common;

use app::Clock as _;

use common::{Setup, TestApp, chem_order, due_move_draft};
use govern::{PrincipalKind, Role, Scope};
use model::Priority;
use serde_json::{Value, json};
use store::GovernanceWrite;

/// The reference plant with a day of simulated history, the simulated MES as the default
/// sink and a file sink; callers get their tokens as each test needs them.
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
async fn approve_apply_to_the_mes_and_roll_back_all_audited() {
    let app = start().await;
    let agent = app.token_for("scheduler-bot", Role::Agent, "*").await;
    let planner = app.token_for("ann", Role::Planner, "area:A-CHEM").await;
    let supervisor = app.token_for("sam", Role::Supervisor, "*").await;
    let (order, due) = chem_order(&app).await;

    // Above the 60-minute threshold: it waits.
    let (status, proposal) = app
        .call(
            "POST",
            "/v1/proposals",
            &agent,
            Some(due_move_draft(&order, &due, 120, "schedule_change")),
        )
        .await;
    assert_eq!(status, 201, "{proposal}");
    assert_eq!(proposal["status"], "proposed");
    assert_eq!(proposal["gate"]["approvals"], 1);
    let id = proposal["id"].as_str().unwrap().to_owned();

    // The agent cannot approve (its own or any), nor apply before approval.
    let (status, _) = app
        .call("POST", &format!("/v1/proposals/{id}/approve"), &agent, None)
        .await;
    assert_eq!(status, 403);
    let (status, body) = app
        .call("POST", &format!("/v1/proposals/{id}/apply"), &planner, None)
        .await;
    assert_eq!(status, 409, "{body}");

    // Filters.
    let (_, listed) = app
        .call(
            "GET",
            "/v1/proposals?status=proposed&kind=schedule_change",
            &planner,
            None,
        )
        .await;
    assert_eq!(listed["total"], 1);
    let (_, none) = app
        .call("GET", "/v1/proposals?status=applied", &planner, None)
        .await;
    assert_eq!(none["total"], 0);

    // The planner approves with a comment and applies to the simulated MES.
    let (status, approved) = app
        .call(
            "POST",
            &format!("/v1/proposals/{id}/approve"),
            &planner,
            Some(json!({"comment": "ok for the customer"})),
        )
        .await;
    assert_eq!(status, 200, "{approved}");
    assert_eq!(approved["status"], "approved");
    let (status, applied) = app
        .call("POST", &format!("/v1/proposals/{id}/apply"), &planner, None)
        .await;
    assert_eq!(status, 200, "{applied}");
    assert_eq!(applied["status"], "applied");
    assert_eq!(applied["applied"]["answer"]["status"], "Succeeded");
    let state = app.store.state().await;
    let now_due = state.orders[&model::OrderId::from(order.as_str())]
        .order
        .due;
    assert_eq!(
        now_due,
        model::Timestamp::parse(&due).unwrap().plus_minutes(120.0)
    );

    // The supervisor rolls it back through the same sink.
    let (status, rolled) = app
        .call(
            "POST",
            &format!("/v1/proposals/{id}/rollback"),
            &supervisor,
            None,
        )
        .await;
    assert_eq!(status, 200, "{rolled}");
    assert_eq!(rolled["status"], "rolled_back");
    let state = app.store.state().await;
    assert_eq!(
        state.orders[&model::OrderId::from(order.as_str())]
            .order
            .due
            .to_string(),
        due
    );

    // The audit trail tells the story with principals, modified_by, source event and answers.
    let audit = app.store.audit_log(0, 10_000).await.unwrap();
    let governance: Vec<&store::AuditRecord> = audit
        .iter()
        .filter(|r| r.subject == format!("proposal:{id}"))
        .collect();
    let actions: Vec<&str> = governance.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "proposal.create",
            "proposal.approve",
            "proposal.apply",
            "proposal.rollback"
        ]
    );
    assert_eq!(governance[0].actor.id, "scheduler-bot");
    assert_eq!(
        governance[0].detail["modified_by"],
        "mixplane-scheduler/0.3.1"
    );
    assert_eq!(governance[0].detail["source_event"], "sim-5-0000001");
    assert_eq!(governance[1].actor.id, "ann");
    assert_eq!(governance[1].detail["modified_by"], "ann");
    assert_eq!(governance[2].detail["sink"]["status"], "Succeeded");
    assert_eq!(governance[3].actor.id, "sam");
    assert!(
        audit
            .iter()
            .any(|r| r.action == "events.append" && r.detail["first_id"] == format!("{id}-apply-1"))
    );
    assert!(app.store.verify_audit().await.unwrap().is_intact());
}

#[tokio::test]
async fn own_approval_four_eyes_scope_and_autonomous_application() {
    let app = start().await;
    let planner = app.token_for("ann", Role::Planner, "*").await;
    let packer = app.token_for("pat", Role::Planner, "area:A-PACK").await;
    let qe1 = app.token_for("quinn", Role::QualityEngineer, "*").await;
    let qe2 = app
        .token_for("quill", Role::QualityEngineer, "site:RHF")
        .await;
    let (order, due) = chem_order(&app).await;

    // A planner's own proposal: someone else must approve.
    let (_, mine) = app
        .call(
            "POST",
            "/v1/proposals",
            &planner,
            Some(due_move_draft(&order, &due, 120, "schedule_change")),
        )
        .await;
    let id = mine["id"].as_str().unwrap();
    let (status, body) = app
        .call(
            "POST",
            &format!("/v1/proposals/{id}/approve"),
            &planner,
            None,
        )
        .await;
    assert_eq!(status, 403);
    assert!(
        body["detail"].as_str().unwrap().contains("own proposal"),
        "{body}"
    );
    // Out of scope: an A-PACK planner neither sees nor decides an A-CHEM proposal; to its
    // reads the proposal does not exist.
    let (status, _) = app
        .call("GET", &format!("/v1/proposals/{id}"), &packer, None)
        .await;
    assert_eq!(status, 404);
    let (_, listed) = app.call("GET", "/v1/proposals", &packer, None).await;
    assert_eq!(listed["total"], 0);
    let (status, _) = app
        .call("POST", &format!("/v1/proposals/{id}/reject"), &packer, None)
        .await;
    assert_eq!(status, 403);

    // Four-eyes (nc_disposition): two different quality engineers. A disposition is what
    // the diff says: an NC's disposition.
    let mut disposition = due_move_draft(&order, &due, 0, "nc_disposition");
    disposition["diff"] = json!([{
        "entity": "nc", "id": "NC-7", "field": "disposition",
        "before": "open", "after": "rework"
    }]);
    let (status, nc) = app
        .call("POST", "/v1/proposals", &planner, Some(disposition))
        .await;
    assert_eq!(status, 201, "{nc}");
    let nc_id = nc["id"].as_str().unwrap();
    assert_eq!(nc["gate"]["approvals"], 2);
    let (_, first) = app
        .call(
            "POST",
            &format!("/v1/proposals/{nc_id}/approve"),
            &qe1,
            None,
        )
        .await;
    assert_eq!(first["status"], "proposed");
    let (status, _) = app
        .call(
            "POST",
            &format!("/v1/proposals/{nc_id}/approve"),
            &qe1,
            None,
        )
        .await;
    assert_eq!(status, 409, "the same approver twice");
    let (_, second) = app
        .call(
            "POST",
            &format!("/v1/proposals/{nc_id}/approve"),
            &qe2,
            None,
        )
        .await;
    assert_eq!(second["status"], "approved");
    let (status, filed) = app
        .call(
            "POST",
            &format!("/v1/proposals/{nc_id}/apply"),
            &qe2,
            Some(json!({"sink": "file"})),
        )
        .await;
    assert_eq!(status, 200, "{filed}");
    let line = std::fs::read_to_string(app.file_sink.as_ref().unwrap()).unwrap();
    let record: Value = serde_json::from_str(line.lines().last().unwrap()).unwrap();
    assert_eq!(record["proposal"], nc_id);
    assert_eq!(record["direction"], "apply");

    // Within the thresholds (assisted): applies by itself through the MES.
    let (status, auto) = app
        .call(
            "POST",
            "/v1/proposals",
            &planner,
            Some(due_move_draft(&order, &due, 30, "schedule_change")),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(auto["status"], "applied", "{auto}");
    assert_eq!(auto["applied"]["by"], "policy:assisted");
    assert_eq!(auto["applied"]["sink"], "mes-sim");
}

#[tokio::test]
async fn agents_see_pseudonyms_and_only_admins_resolve_them() {
    let app = start().await;
    let agent = app.token_for("bot", Role::Agent, "*").await;
    let admin = app.token_for("root", Role::Admin, "*").await;
    let supervisor = app.token_for("sam", Role::Supervisor, "*").await;

    let path = "/v1/events?type=operation_started,operation_completed&limit=200";
    let (_, plain) = app.call("GET", path, &supervisor, None).await;
    let (_, masked) = app.call("GET", path, &agent, None).await;
    let started = |events: &Value| -> Option<Value> {
        events["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| {
                e["event"]["members"]
                    .as_array()
                    .is_some_and(|m| !m.is_empty())
            })
            .cloned()
    };
    let original = started(&plain).expect("an operation with members");
    let member = original["event"]["members"][0].as_str().unwrap().to_owned();
    let text = masked.to_string();
    assert!(
        !text.contains(&format!("\"{member}\"")),
        "the agent sees no member id"
    );
    let seq = &original["seq"];
    let hidden = masked["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| &e["seq"] == seq)
        .unwrap();
    let pseudonym = hidden["event"]["members"][0].as_str().unwrap().to_owned();
    assert!(pseudonym.starts_with("psn_"), "{pseudonym}");
    if let Some(completed) = masked["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"]["parameters"].is_object())
    {
        assert!(
            completed["event"]["parameters"]
                .as_object()
                .unwrap()
                .values()
                .all(|v| v == "***"),
            "recipe parameters are masked"
        );
    }

    let resolve = format!("/v1/pseudonyms/{pseudonym}");
    let (status, _) = app.call("GET", &resolve, &supervisor, None).await;
    assert_eq!(status, 403);
    let (status, _) = app.call("GET", &resolve, &agent, None).await;
    assert_eq!(status, 403);
    let (status, resolved) = app.call("GET", &resolve, &admin, None).await;
    assert_eq!(status, 200, "{resolved}");
    assert_eq!(resolved["identity"], member);
    let audit = app.store.audit_log(0, 10_000).await.unwrap();
    let record = audit
        .iter()
        .find(|r| r.action == "pseudonym.resolve")
        .unwrap();
    assert_eq!(record.actor.id, "root");
    assert!(
        !record.detail.to_string().contains(&member),
        "the audit keeps the pseudonym only"
    );
}

#[tokio::test]
async fn an_expired_proposal_cannot_be_approved_and_its_expiry_is_audited() {
    let app = start().await;
    let planner = app.token_for("ann", Role::Planner, "*").await;
    let (order, due) = chem_order(&app).await;
    let draft: govern::ProposalDraft =
        serde_json::from_value(due_move_draft(&order, &due, 120, "schedule_change")).unwrap();
    let bot = govern::Principal::new("bot", PrincipalKind::Agent, Role::Agent, Scope::All);
    let hierarchy = govern::Hierarchy::from_plant(&sim::reference_plant());
    let long_ago = model::Timestamp(app::SystemClock.now().0 - 24 * 3_600_000);
    let snapshot = app.store.snapshot().await;
    let catalog = snapshot.catalog.clone().unwrap();
    let facts = govern::PlantView {
        catalog: &catalog,
        state: &snapshot.state,
    };
    let assessment = govern::assess(&draft.diff, &facts).unwrap();
    let proposal = govern::Proposal::propose(
        "P-old",
        draft,
        &bot,
        &govern::Policy::default_policy(),
        &hierarchy,
        &assessment,
        long_ago,
    )
    .unwrap();
    app.store
        .insert_proposal(
            &proposal,
            GovernanceWrite::by(store::actor_of(&bot), Some(Role::Agent)),
        )
        .await
        .unwrap();

    let (_, shown) = app.call("GET", "/v1/proposals/P-old", &planner, None).await;
    assert_eq!(
        shown["status"], "expired",
        "shown as expired once past its expiry"
    );
    let (status, body) = app
        .call("POST", "/v1/proposals/P-old/approve", &planner, None)
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("expired"));
    let stored = app.store.proposal("P-old").await.unwrap().unwrap();
    assert_eq!(stored.proposal.status, govern::Status::Expired);
    let audit = app.store.audit_log(0, 10_000).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|r| r.action == "proposal.expire" && r.subject == "proposal:P-old")
    );
}

/// The MES carried a change out but its answer was never recorded (the server stopped in
/// between). Applying again after the plant clock moved on finds the change's events already
/// in the log: the apply is recorded, nothing is stored twice. Events of that id with other
/// content are still a conflict.
#[tokio::test]
async fn an_apply_whose_answer_was_lost_is_recognised_when_repeated() {
    let app = start().await;
    let agent = app.token_for("scheduler-bot", Role::Agent, "*").await;
    let planner = app.token_for("ann", Role::Planner, "area:A-CHEM").await;
    let (order, due) = chem_order(&app).await;
    let (status, proposal) = app
        .call(
            "POST",
            "/v1/proposals",
            &agent,
            Some(due_move_draft(&order, &due, 120, "schedule_change")),
        )
        .await;
    assert_eq!(status, 201, "{proposal}");
    let id = proposal["id"].as_str().unwrap().to_owned();
    let (status, approved) = app
        .call(
            "POST",
            &format!("/v1/proposals/{id}/approve"),
            &planner,
            None,
        )
        .await;
    assert_eq!(status, 200, "{approved}");

    // The MES gets the change; its answer is lost.
    let stored = app.store.proposal(&id).await.unwrap().unwrap().proposal;
    let state = server::AppState::new(app.store.clone());
    let actor = store::Actor::system("test");
    let everywhere =
        govern::Principal::new("test", PrincipalKind::Service, Role::Admin, Scope::All);
    let answer = app::govern::sink::deliver(
        &state,
        app::SinkKind::MesSim,
        &stored,
        &stored.diff,
        "apply",
        &actor,
        &everywhere,
    )
    .await
    .unwrap();
    assert_eq!(answer["inserted"], 1, "{answer}");
    let first_seq = answer["first_seq"].clone();

    // The plant clock moves on, so the same change now would be made at another time.
    let clock = app.store.state().await.clock.unwrap();
    let unit = app.store.units().await[0].0.clone();
    let later = model::Event {
        id: "test-later-1".into(),
        time: clock.plus_minutes(60.0),
        source: None,
        kind: model::EventKind::EquipmentStateChanged {
            unit,
            state: model::EquipmentState::Idle,
            reason: None,
        },
    };
    app.store.append(&[later], &actor).await.unwrap();
    let events_before = app.store.counts().await.unwrap().events;

    let (status, applied) = app
        .call("POST", &format!("/v1/proposals/{id}/apply"), &planner, None)
        .await;
    assert_eq!(status, 200, "{applied}");
    assert_eq!(applied["status"], "applied");
    let answer = &applied["applied"]["answer"];
    assert_eq!(answer["status"], "Succeeded", "{answer}");
    assert_eq!(answer["inserted"], 0, "{answer}");
    assert_eq!(answer["first_seq"], first_seq, "{answer}");
    assert_eq!(app.store.counts().await.unwrap().events, events_before);
    let now_due = app.store.state().await.orders[&model::OrderId::from(order.as_str())]
        .order
        .due;
    assert_eq!(
        now_due,
        model::Timestamp::parse(&due).unwrap().plus_minutes(120.0)
    );

    // An event of the rollback's id with other content is not a repeat: the sink answers
    // Error and names the conflict.
    let squatter = model::Event {
        id: format!("{id}-rollback-1").into(),
        time: clock.plus_minutes(61.0),
        source: Some("someone-else".into()),
        kind: model::EventKind::OrderChanged {
            order: order.as_str().into(),
            priority: Some(Priority::Low),
            quantity: None,
            due: None,
        },
    };
    app.store.append(&[squatter], &actor).await.unwrap();
    let inverse = stored.inverse_diff();
    let refused = app::govern::sink::deliver(
        &state,
        app::SinkKind::MesSim,
        &stored,
        &inverse,
        "rollback",
        &actor,
        &everywhere,
    )
    .await
    .unwrap_err();
    assert_eq!(refused["status"], "Error", "{refused}");
    assert!(
        refused["message"].as_str().unwrap().contains("conflicts"),
        "{refused}"
    );
}
