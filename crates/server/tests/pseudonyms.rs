//! What agents see (issue 12, item 6): people with known names propose, decide, apply, roll
//! back, place and release holds and move a nonconformance through its workflow; then an
//! agent reads every answer it may read (every `GET` of the route table its role permits, and
//! the answer to its own proposal) and none of those names appears anywhere, while a
//! supervisor reading the same answers sees each of them. The pseudonyms stand in their
//! place, are stable, and an admin resolves them.

mod common;

use common::{Setup, TestApp};
use govern::{Permission, Pseudonymizer, Role};
use model::Priority;
use serde_json::{Value, json};

const PLANNER: &str = "zelda-planwright";
const APPROVER: &str = "yorick-approver";
const SUPERVISOR: &str = "vlad-supervisor";
const INSPECTOR: &str = "xenia-inspector";
const RELEASER: &str = "wanda-releaser";
const AGENT: &str = "tobias-agent";
const PEOPLE: [&str; 6] = [PLANNER, APPROVER, SUPERVISOR, INSPECTOR, RELEASER, AGENT];

/// An open high-priority order, its due date and a lot of the simulated day.
async fn ids(app: &TestApp) -> (String, String, String) {
    let state = app.store.state().await;
    let order = state
        .orders
        .values()
        .find(|o| {
            matches!(
                o.status,
                model::OrderStatus::Planned | model::OrderStatus::Released
            ) && o.order.priority == Priority::High
        })
        .expect("an open high-priority order");
    let lot = state.lots.keys().next().expect("a lot").to_string();
    (order.order.id.to_string(), order.order.due.to_string(), lot)
}

/// A due-date move of `minutes`, triggered by `who`'s request.
fn draft(order: &str, due: &str, minutes: i64, who: &str) -> Value {
    let moved = model::Timestamp::parse(due)
        .unwrap()
        .plus_minutes(minutes as f64);
    json!({
        "kind": "schedule_change",
        "area": "A-CHEM",
        "title": format!("move {order}"),
        "evidence": {
            "input_sha256": "b".repeat(64),
            "engine": "mixplane-scheduler",
            "engine_version": "0.3.1",
            "trigger": {"type": "principal", "principal": who},
            "kpis_before": {"tardiness_min": 120.0},
            "kpis_after": {"tardiness_min": 30.0}
        },
        "diff": [{
            "entity": "order", "id": order, "field": "due",
            "before": due, "after": moved.to_string(),
            "shift_minutes": minutes, "high_priority": true
        }]
    })
}

/// `method path` as `token`, which must succeed (2xx); its body.
async fn ok(app: &TestApp, method: &str, path: &str, token: &str, body: Option<Value>) -> Value {
    let (status, answer) = app.call(method, path, token, body).await;
    assert!(
        (200..300).contains(&status),
        "{method} {path}: {status} {answer}"
    );
    answer
}

/// The names of `PEOPLE` that occur in `text`.
fn named(text: &str) -> Vec<&'static str> {
    PEOPLE
        .into_iter()
        .filter(|name| text.contains(name))
        .collect()
}

#[tokio::test]
async fn agents_read_no_real_name() {
    let app = TestApp::with(Setup {
        simulated_days: Some(1.0),
        ..Setup::default()
    })
    .await;
    let admin = app.token.clone();
    let token = |name, role| app.token_for(name, role, "*");
    let planner = token(PLANNER, Role::Planner).await;
    let approver = token(APPROVER, Role::Supervisor).await;
    let supervisor = token(SUPERVISOR, Role::Supervisor).await;
    let inspector = token(INSPECTOR, Role::QualityEngineer).await;
    let releaser = token(RELEASER, Role::Operator).await;
    let agent = token(AGENT, Role::Agent).await;
    let (order, due, lot) = ids(&app).await;

    // A proposal: proposed, approved, applied, rolled back — four people.
    let proposal = ok(
        &app,
        "POST",
        "/v1/proposals",
        &planner,
        Some(draft(&order, &due, 120, PLANNER)),
    )
    .await;
    assert_eq!(proposal["status"], "proposed", "{proposal}");
    let id = proposal["id"].as_str().unwrap().to_owned();
    let step = |verb: &str| format!("/v1/proposals/{id}/{verb}");
    ok(&app, "POST", &step("approve"), &approver, None).await;
    ok(&app, "POST", &step("apply"), &approver, None).await;
    ok(&app, "POST", &step("rollback"), &supervisor, None).await;

    // A hold placed by one and released by another.
    let hold = ok(
        &app,
        "POST",
        "/v1/quality/holds",
        &inspector,
        Some(json!({"item_kind": "order", "item_id": order, "reason": "suspect viscosity"})),
    )
    .await;
    let hold_id = hold["id"].as_str().unwrap();
    ok(
        &app,
        "POST",
        &format!("/v1/quality/holds/{hold_id}/release"),
        &releaser,
        Some(json!({"reason": "retested"})),
    )
    .await;

    // A nonconformance through its CAPA: opened, moved and added by one, done by another.
    let nc = ok(
        &app,
        "POST",
        "/v1/quality/nonconformances",
        &inspector,
        Some(json!({"description": "foreign particle", "items": [format!("order:{order}")]})),
    )
    .await;
    let nc_id = nc["id"].as_str().unwrap().to_owned();
    let transitions = format!("/v1/quality/nonconformances/{nc_id}/transitions");
    for (who, step) in [
        (&inspector, json!({"action": "start_investigation"})),
        (
            &inspector,
            json!({"action": "disposition", "disposition": "rework"}),
        ),
        (&inspector, json!({"action": "start_capa"})),
        (
            &inspector,
            json!({"action": "add_capa_action", "id": "A1", "description": "sieve"}),
        ),
        (
            &supervisor,
            json!({"action": "complete_capa_action", "id": "A1"}),
        ),
        (
            &inspector,
            json!({"action": "verify_capa_action", "id": "A1"}),
        ),
    ] {
        ok(&app, "POST", &transitions, who, Some(step)).await;
    }

    // A plan put in force by the planner, and a what-if of it the planner commits: the plan
    // in force names who made it, the proposal carries a candidate plan.
    ok(
        &app,
        "POST",
        "/v1/schedule/plan",
        &planner,
        Some(json!({"time_limit_seconds": 0.3})),
    )
    .await;
    let report = ok(
        &app,
        "POST",
        "/v1/schedule/scenarios",
        &planner,
        Some(json!({"scenarios": ["maximize_throughput", "minimize_changeovers"], "iterations": 60, "risk_runs": 10})),
    )
    .await;
    let chosen = report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kept_plan"] == false)
        .expect("a what-if that changes the plan")
        .clone();
    let what_if = ok(
        &app,
        "POST",
        "/v1/schedule/scenarios/commit",
        &planner,
        Some(json!({"scenario": chosen, "area": "A-CHEM", "risk_runs": 10})),
    )
    .await;
    let what_if_id = what_if["id"].as_str().unwrap().to_owned();

    // The agent's own proposal answers it with its own name hidden too.
    let own = ok(
        &app,
        "POST",
        "/v1/proposals",
        &agent,
        Some(draft(&order, &due, 90, AGENT)),
    )
    .await;
    let own_text = own.to_string();
    assert_eq!(named(&own_text), Vec::<&str>::new(), "{own_text}");

    // Every GET an agent may call, as the agent and as a supervisor.
    let samples = [
        ("getOrder", format!("/v1/orders/{order}")),
        ("getProposal", format!("/v1/proposals/{id}")),
        ("getHold", format!("/v1/quality/holds/{hold_id}")),
        (
            "getProposalPlan",
            format!("/v1/proposals/{what_if_id}/plan"),
        ),
        (
            "getNonconformance",
            format!("/v1/quality/nonconformances/{nc_id}"),
        ),
        (
            "getCharacteristicChart",
            "/v1/quality/characteristics/EA100-VISC/chart".to_owned(),
        ),
        ("releaseGate", format!("/v1/quality/release-gate?lot={lot}")),
        (
            "rankRootCauses",
            "/v1/quality/root-cause?characteristic=EA100-VISC".to_owned(),
        ),
        ("traceBackward", format!("/v1/trace/backward/{lot}")),
        ("traceForward", format!("/v1/trace/forward/{lot}")),
        ("traceRecall", format!("/v1/trace/recall/{lot}")),
        ("listEvents", "/v1/events?limit=10000".to_owned()),
        ("listProposals", "/v1/proposals?limit=1000".to_owned()),
        ("listHolds", "/v1/quality/holds?limit=1000".to_owned()),
        (
            "listNonconformances",
            "/v1/quality/nonconformances?limit=1000".to_owned(),
        ),
        (
            "listQualityAlerts",
            "/v1/quality/alerts?limit=1000".to_owned(),
        ),
    ];
    let mut read = 0;
    let mut seen_by_supervisor = String::new();
    for endpoint in server::api::endpoints() {
        if endpoint.method != axum::http::Method::GET || !Role::Agent.allows(endpoint.permission) {
            continue;
        }
        let path = match samples.iter().find(|(op, _)| *op == endpoint.operation_id) {
            Some((_, path)) => path.clone(),
            None => {
                assert!(
                    !endpoint.path.contains('{'),
                    "{} ({}) reads something by id: give it a sample in tests/pseudonyms.rs",
                    endpoint.path,
                    endpoint.operation_id
                );
                endpoint.path.to_owned()
            }
        };
        let (status, masked) = app.call("GET", &path, &agent, None).await;
        assert_eq!(status, 200, "{path} as the agent: {masked}");
        let text = masked.to_string();
        assert_eq!(
            named(&text),
            Vec::<&str>::new(),
            "{path} shows the agent real names: {text}"
        );
        if endpoint.permission != Permission::Public {
            seen_by_supervisor
                .push_str(&ok(&app, "GET", &path, &supervisor, None).await.to_string());
        }
        read += 1;
    }
    assert!(read >= 15, "only {read} answers read");
    assert_eq!(
        named(&seen_by_supervisor),
        PEOPLE,
        "each person acted visibly, so the test would catch a leak"
    );

    // Pseudonyms in their place: stable, and resolved by an admin.
    let key = app.store.pseudonym_key().await.unwrap();
    let pseudonymizer = Pseudonymizer::new(key, Default::default());
    let pseudonym = |name: &str| pseudonymizer.pseudonym(name);
    let seen = ok(&app, "GET", &format!("/v1/proposals/{id}"), &agent, None).await;
    assert_eq!(seen["proposed_by"], pseudonym(PLANNER));
    assert_eq!(seen["evidence"]["trigger"]["principal"], pseudonym(PLANNER));
    assert_eq!(seen["decisions"][0]["principal"], pseudonym(APPROVER));
    assert_eq!(seen["applied"]["by"], pseudonym(APPROVER));
    assert_eq!(seen["rolled_back"]["by"], pseudonym(SUPERVISOR));
    assert_eq!(own["proposed_by"], pseudonym(AGENT));
    let plan = ok(&app, "GET", "/v1/schedule", &agent, None).await;
    assert_eq!(plan["made_by"], pseudonym(PLANNER));
    let holds = ok(&app, "GET", "/v1/quality/holds?limit=1000", &agent, None).await;
    let seen_hold = holds["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["id"] == hold_id)
        .unwrap();
    assert_eq!(
        seen_hold["placed_by"],
        format!("person:{}", pseudonym(INSPECTOR))
    );
    assert_eq!(
        seen_hold["released_by"],
        format!("person:{}", pseudonym(RELEASER))
    );
    let seen_nc = ok(
        &app,
        "GET",
        &format!("/v1/quality/nonconformances/{nc_id}"),
        &agent,
        None,
    )
    .await
    .to_string();
    for name in [INSPECTOR, SUPERVISOR] {
        assert!(seen_nc.contains(&pseudonym(name)), "{name}: {seen_nc}");
    }
    let resolved = ok(
        &app,
        "GET",
        &format!("/v1/pseudonyms/{}", pseudonym(APPROVER)),
        &admin,
        None,
    )
    .await;
    assert_eq!(resolved["identity"], APPROVER);
}

/// What `token` learns resolving the pseudonym of `identity`: the identity, or the 404's
/// detail.
async fn resolve_as(app: &TestApp, token: &str, pseudonym: &str) -> Result<String, String> {
    let (status, answer) = app
        .call("GET", &format!("/v1/pseudonyms/{pseudonym}"), token, None)
        .await;
    match status {
        200 => Ok(answer["identity"].as_str().unwrap().to_owned()),
        404 => Err(answer["detail"].as_str().unwrap().to_owned()),
        other => panic!("resolving {pseudonym}: {other} {answer}"),
    }
}

#[tokio::test]
async fn an_area_admin_resolves_only_identities_within_its_scope() {
    let app = TestApp::start().await;
    let global = app.token.clone();
    let chem_admin = app
        .token_for("chem-admin", Role::Admin, "area:A-CHEM")
        .await;
    let pack_admin = app
        .token_for("pack-admin", Role::Admin, "area:A-PACK")
        .await;
    app.token_for("carl-chemist", Role::Operator, "area:A-CHEM")
        .await;
    app.token_for("pia-packer", Role::Operator, "area:A-PACK")
        .await;
    app.token_for("sam-planner", Role::Planner, "site:RHF")
        .await;
    let key = app.store.pseudonym_key().await.unwrap();
    let pseudonymizer = Pseudonymizer::new(key, Default::default());

    // CH-01 is in P-CHEM-OPS (A-CHEM, A-SVC); AS-01 in P-ASSY-OPS (A-ASSY, A-PACK); T-01 in
    // P-TANKS, which serves both A-CHEM and A-PACK. An admin is within itself.
    let within_chem = ["chem-admin", "carl-chemist", "CH-01", "T-01"];
    let within_pack = ["pack-admin", "pia-packer", "AS-01", "T-01"];
    let everyone = [
        "carl-chemist",
        "pia-packer",
        "sam-planner",
        "chem-admin",
        "pack-admin",
        "alice",
        "CH-01",
        "AS-01",
        "T-01",
    ];
    let nobody = pseudonymizer.pseudonym("nobody-at-all");
    for (token, within) in [(&chem_admin, &within_chem), (&pack_admin, &within_pack)] {
        let refusal = resolve_as(&app, token, &nobody).await.unwrap_err();
        assert!(
            refusal.contains("no identity within your scope"),
            "{refusal}"
        );
        for identity in everyone {
            let pseudonym = pseudonymizer.pseudonym(identity);
            let answer = resolve_as(&app, token, &pseudonym).await;
            if within.contains(&identity) {
                assert_eq!(answer, Ok(identity.to_owned()));
            } else {
                // The same answer as for nobody: the admin learns nothing outside its area.
                assert_eq!(
                    answer,
                    Err(refusal.replace(&nobody, &pseudonym)),
                    "{identity}"
                );
            }
        }
    }
    for identity in everyone {
        let pseudonym = pseudonymizer.pseudonym(identity);
        assert_eq!(
            resolve_as(&app, &global, &pseudonym).await,
            Ok(identity.to_owned())
        );
    }

    // Every lookup is audited, found or not, with the scope it was made in.
    let audit = app.store.audit_log(0, 10_000).await.unwrap();
    let by_chem: Vec<_> = audit
        .iter()
        .filter(|r| r.action == "pseudonym.resolve" && r.actor.id == "chem-admin")
        .collect();
    assert_eq!(by_chem.len(), 1 + everyone.len());
    let found = by_chem.iter().filter(|r| r.detail["found"] == true).count();
    assert_eq!(found, within_chem.len());
    assert!(by_chem.iter().all(|r| r.detail["scope"] == "area:A-CHEM"));
}
