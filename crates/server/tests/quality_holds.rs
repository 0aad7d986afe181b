//! The quality agent's holds go through governance, over real HTTP: a drifting
//! characteristic's results posted as events become one `quality_hold` proposal of the agent
//! (`mixplane-quality`); under a `copilot` rule it waits for a quality engineer of the lot's
//! area while the release gate refuses the lot, and applying places the hold naming the
//! proposal, rolling back releases it; under the shipped policy (`closed_loop`) the hold
//! applies by itself, audited as the agent's proposal. Another area's quality engineer
//! neither sees nor approves it.

mod common;

use common::{Setup, TestApp};
use govern::Role;
use serde_json::{Value, json};

/// The shipped policy with quality holds waiting for a quality engineer.
fn copilot_holds() -> govern::Policy {
    let text = govern::policy::DEFAULT_POLICY_TOML.replace(
        "kind = \"quality_hold\"\narea = \"*\"\nautonomy = \"closed_loop\"",
        "kind = \"quality_hold\"\narea = \"*\"\nautonomy = \"copilot\"",
    );
    assert_ne!(
        text,
        govern::policy::DEFAULT_POLICY_TOML,
        "the rule was found"
    );
    govern::Policy::from_toml(&text).unwrap()
}

async fn start(policy: Option<govern::Policy>) -> TestApp {
    TestApp::with(Setup {
        policy,
        ..Setup::default()
    })
    .await
}

/// Sixteen EA100 batches, each its own order (routing RCP-EA100: area A-CHEM) making one lot.
async fn make_batches(app: &TestApp) {
    let mut events = Vec::new();
    for i in 0..16 {
        events.push(json!({
            "id": format!("rel-{i}"), "time": "2026-03-02T00:00:00Z", "type": "order_released",
            "order": {
                "id": format!("MO-H-{i:02}"), "product": "RES-EA100", "routing": "RCP-EA100",
                "quantity": 1000.0, "release": "2026-03-02T00:00:00Z",
                "due": "2026-03-04T00:00:00Z", "priority": "medium"
            }
        }));
        events.push(json!({
            "id": format!("prod-{i}"), "time": "2026-03-02T04:00:00Z",
            "type": "material_produced", "order": format!("MO-H-{i:02}"),
            "material": "RES-EA100", "lot": format!("B-H-{i:02}"), "quantity": 970.0
        }));
    }
    let (status, _, body) = app.post("/v1/events", &Value::Array(events)).await;
    assert_eq!(status, 200, "{body}");
}

/// A viscosity result on batch `i`.
fn result(id: &str, i: usize, minute: usize, value: f64) -> Value {
    json!({
        "id": id, "time": format!("2026-03-02T{:02}:{:02}:00Z", 6 + minute / 60, minute % 60),
        "type": "quality_result_recorded", "characteristic": "EA100-VISC", "value": value,
        "order": format!("MO-H-{i:02}"), "lot": format!("B-H-{i:02}"),
    })
}

/// Phase I in control, then batch 15 far beyond the limits, posted as plant events.
async fn drift(app: &TestApp) {
    let wiggle = [
        120.0, -80.0, 40.0, -150.0, 90.0, -30.0, 60.0, -110.0, 10.0, 70.0,
    ];
    let mut results: Vec<Value> = (0..15)
        .map(|i| result(&format!("qr-{i}"), i, i, 12_000.0 + wiggle[i % 10]))
        .collect();
    results.push(result("qr-15", 15, 15, 14_500.0));
    let (status, _, body) = app.post("/v1/events", &Value::Array(results)).await;
    assert_eq!(status, 200, "{body}");
}

async fn hold_proposals(app: &TestApp) -> Vec<Value> {
    let (status, _, page) = app.get("/v1/proposals?kind=quality_hold").await;
    assert_eq!(status, 200, "{page}");
    page["items"].as_array().unwrap().clone()
}

fn reason_kinds(gate: &Value) -> Vec<String> {
    gate["decision"]["reasons"]
        .as_array()
        .map(|r| {
            r.iter()
                .map(|r| r["kind"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn under_copilot_a_drift_proposes_a_hold_the_gate_refuses_the_lot_until_approved_and_applied()
{
    let app = start(Some(copilot_holds())).await;
    make_batches(&app).await;
    drift(&app).await;

    // A proposal, not a hold.
    let (_, _, holds) = app.get("/v1/quality/holds?active=true").await;
    assert_eq!(holds["total"], 0, "{holds}");
    let proposals = hold_proposals(&app).await;
    assert_eq!(proposals.len(), 1, "{proposals:?}");
    let proposal = &proposals[0];
    let id = proposal["id"].as_str().unwrap().to_owned();
    assert_eq!(proposal["status"], "proposed", "{proposal}");
    assert_eq!(proposal["proposed_by"], "mixplane-quality");
    assert_eq!(proposal["proposed_by_kind"], "agent");
    assert_eq!(
        proposal["areas"],
        json!(["A-CHEM"]),
        "the lot's area, from the store"
    );
    assert_eq!(proposal["gate"]["approvals"], 1, "{proposal}");
    let change = &proposal["diff"][0];
    assert_eq!(proposal["diff"].as_array().unwrap().len(), 1);
    assert_eq!(
        (&change["entity"], &change["id"], &change["field"]),
        (&json!("lot"), &json!("B-H-15"), &json!("hold"))
    );
    assert_eq!(change["before"], Value::Null);
    assert_eq!(change["after"]["severity"], "critical");
    assert_eq!(change["after"]["alert"], "AL-EA100-VISC-000015");
    assert!(
        change["after"]["reason"]
            .as_str()
            .unwrap()
            .contains("beyond"),
        "{change}"
    );
    let evidence = &proposal["evidence"];
    assert_eq!(evidence["engine"], "quality-enforcer");
    assert_eq!(evidence["engine_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(evidence["trigger"]["type"], "quality_alert");
    assert_eq!(evidence["trigger"]["event_id"], "qr-15");
    let finding = &evidence["trigger"]["finding"];
    assert_eq!(finding["characteristic"], "EA100-VISC");
    assert_eq!(finding["point"], 15);
    assert!(finding["rules"].as_array().unwrap().contains(&json!(1)));
    assert!(finding["value"].as_f64().unwrap() > finding["limits"]["ucl"].as_f64().unwrap());
    assert_eq!(
        finding["holds"],
        json!([{"item": "lot:B-H-15", "link": "item", "path": ["lot:B-H-15"]}])
    );
    assert_eq!(evidence["kpis_before"]["lots_held"], 0.0);
    assert_eq!(evidence["kpis_after"]["lots_held"], 1.0);
    assert_eq!(evidence["kpis_after"]["quantity_held"], 970.0);

    // While it waits, the lot does not ship, and the gate says why.
    let (_, _, gate) = app.get("/v1/quality/release-gate?lot=B-H-15").await;
    assert_eq!(gate["allowed"], false, "{gate}");
    assert!(
        reason_kinds(&gate).contains(&"hold_proposed".to_owned()),
        "{gate}"
    );
    let proposed = gate["decision"]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "hold_proposed")
        .unwrap();
    assert_eq!(proposed["proposal_id"], id.as_str());
    assert!(
        proposed["reason"]
            .as_str()
            .unwrap()
            .contains("awaiting approval"),
        "{proposed}"
    );

    // Idempotent: another signalling batch on the same lot proposes nothing new while the
    // agent's hold of it waits.
    let again = json!([result("qr-16", 15, 16, 14_600.0)]);
    assert_eq!(app.post("/v1/events", &again).await.0, 200);
    let (_, _, alerts) = app
        .get("/v1/quality/alerts?characteristic=EA100-VISC")
        .await;
    assert_eq!(alerts["total"], 2, "the second point signalled: {alerts}");
    assert_eq!(hold_proposals(&app).await.len(), 1);

    // A quality engineer of another area neither sees nor decides it.
    let pack = app
        .token_for("qe.pack", Role::QualityEngineer, "area:A-PACK")
        .await;
    let (status, body) = app
        .call("GET", &format!("/v1/proposals/{id}"), &pack, None)
        .await;
    assert_eq!(status, 404, "{body}");
    let (_, listed) = app
        .call("GET", "/v1/proposals?kind=quality_hold", &pack, None)
        .await;
    assert_eq!(listed["total"], 0, "{listed}");
    let (status, body) = app
        .call("POST", &format!("/v1/proposals/{id}/approve"), &pack, None)
        .await;
    assert_eq!(status, 403, "{body}");
    // The agent approves nothing, not even its own.
    let planner = app.token_for("pete", Role::Planner, "*").await;
    let (status, _) = app
        .call(
            "POST",
            &format!("/v1/proposals/{id}/approve"),
            &planner,
            None,
        )
        .await;
    assert_eq!(status, 403, "a planner is not among the approver roles");

    // The lot's quality engineer approves and applies: the hold names the proposal.
    let chem = app
        .token_for("qe.chem", Role::QualityEngineer, "area:A-CHEM")
        .await;
    let (status, approved) = app
        .call("POST", &format!("/v1/proposals/{id}/approve"), &chem, None)
        .await;
    assert_eq!(status, 200, "{approved}");
    assert_eq!(approved["status"], "approved");
    let (_, _, gate) = app.get("/v1/quality/release-gate?lot=B-H-15").await;
    assert!(
        reason_kinds(&gate).contains(&"hold_proposed".to_owned()),
        "approved and not applied still blocks: {gate}"
    );
    let (status, applied) = app
        .call("POST", &format!("/v1/proposals/{id}/apply"), &chem, None)
        .await;
    assert_eq!(status, 200, "{applied}");
    assert_eq!(applied["status"], "applied");
    assert_eq!(applied["applied"]["by"], "qe.chem");
    assert_eq!(applied["applied"]["sink"], "quality-holds");
    let (_, _, holds) = app.get("/v1/quality/holds?active=true").await;
    assert_eq!(holds["total"], 1, "{holds}");
    let hold = &holds["items"][0];
    assert_eq!(
        (&hold["item_kind"], &hold["item_id"], &hold["proposal"]),
        (&json!("lot"), &json!("B-H-15"), &json!(id))
    );
    assert_eq!(hold["placed_by"], "person:qe.chem");
    assert_eq!(hold["alert_id"], "AL-EA100-VISC-000015");
    let (_, _, gate) = app.get("/v1/quality/release-gate?lot=B-H-15").await;
    let kinds = reason_kinds(&gate);
    assert!(kinds.contains(&"hold".to_owned()), "{gate}");
    assert!(!kinds.contains(&"hold_proposed".to_owned()), "{gate}");
    // Nothing new to propose for a lot on hold.
    let third = json!([result("qr-17", 15, 17, 14_700.0)]);
    assert_eq!(app.post("/v1/events", &third).await.0, 200);
    assert_eq!(hold_proposals(&app).await.len(), 1);

    // Rolling back releases exactly that hold.
    let (status, rolled) = app
        .call("POST", &format!("/v1/proposals/{id}/rollback"), &chem, None)
        .await;
    assert_eq!(status, 200, "{rolled}");
    assert_eq!(rolled["status"], "rolled_back");
    let (_, _, holds) = app.get("/v1/quality/holds?item_id=B-H-15").await;
    let hold = &holds["items"][0];
    assert_eq!(hold["active"], false, "{holds}");
    assert_eq!(hold["released_by"], "person:qe.chem");
    let (_, _, gate) = app.get("/v1/quality/release-gate?lot=B-H-15").await;
    let kinds = reason_kinds(&gate);
    assert!(
        !kinds.contains(&"hold".to_owned()) && !kinds.contains(&"hold_proposed".to_owned()),
        "{gate}"
    );

    // The audit trail names the agent, the proposal and the approver.
    let audit = app.store.audit_log(0, 10_000).await.unwrap();
    let create = audit
        .iter()
        .find(|r| r.action == "proposal.create" && r.subject.contains(&id))
        .expect("the proposal's creation is audited");
    assert_eq!(
        (create.actor.kind.as_str(), create.actor.id.as_str()),
        ("agent", "mixplane-quality")
    );
    assert_eq!(
        create.detail["modified_by"],
        format!("quality-enforcer/{}", env!("CARGO_PKG_VERSION"))
    );
    let placed = audit
        .iter()
        .find(|r| r.action == "quality.hold.place")
        .expect("the hold's placement is audited");
    assert_eq!(placed.detail["proposal"], id.as_str());
    assert_eq!(placed.actor.id, "qe.chem");
    let released = audit
        .iter()
        .find(|r| r.action == "quality.hold.release")
        .expect("the release is audited");
    assert_eq!(released.detail["proposal"], id.as_str());
    assert!(app.store.verify_audit().await.unwrap().first_bad.is_none());
}

#[tokio::test]
async fn under_the_shipped_policy_the_agents_hold_applies_by_itself() {
    let app = start(None).await;
    make_batches(&app).await;
    drift(&app).await;
    let (_, _, holds) = app.get("/v1/quality/holds?active=true").await;
    assert_eq!(holds["total"], 1, "{holds}");
    let hold = &holds["items"][0];
    assert_eq!(hold["item_id"], "B-H-15");
    let id = hold["proposal"]
        .as_str()
        .expect("the hold names its proposal");
    let proposals = hold_proposals(&app).await;
    assert_eq!(proposals.len(), 1);
    let proposal = &proposals[0];
    assert_eq!(proposal["id"], id);
    assert_eq!(proposal["status"], "applied");
    assert_eq!(proposal["autonomy"], "closed_loop");
    assert_eq!(proposal["applied"]["by"], "policy:closed_loop");
    assert_eq!(proposal["applied"]["sink"], "quality-holds");
    let (_, _, gate) = app.get("/v1/quality/release-gate?lot=B-H-15").await;
    assert_eq!(gate["allowed"], false);
    assert!(reason_kinds(&gate).contains(&"hold".to_owned()), "{gate}");

    // Audited as the agent's proposal, applied by the policy in its name.
    let audit = app.store.audit_log(0, 10_000).await.unwrap();
    let of = |action: &str| {
        audit
            .iter()
            .find(|r| r.action == action && r.subject.contains(id))
            .unwrap_or_else(|| panic!("{action} of {id} not audited"))
    };
    let engine = format!("quality-enforcer/{}", env!("CARGO_PKG_VERSION"));
    let create = of("proposal.create");
    assert_eq!(create.actor.id, "mixplane-quality");
    assert_eq!(create.detail["modified_by"], engine.as_str());
    let apply = of("proposal.apply");
    assert_eq!(apply.detail["modified_by"], engine.as_str());
    assert_eq!(apply.detail["sink"]["sink"], "quality-holds");
    let placed = of("quality.hold.place");
    assert_eq!(placed.detail["items"], json!(["lot:B-H-15"]));

    // Enforcement run again judges nothing and proposes nothing.
    assert!(
        app::quality::enforce(&app.store).await.unwrap().is_none(),
        "nothing new"
    );
    assert_eq!(hold_proposals(&app).await.len(), 1);
}

#[tokio::test]
async fn hold_proposals_are_assessed_from_the_store_and_placed_only_for_who_may_hold() {
    let app = start(None).await;
    let draft = json!({
        "kind": "quality_hold", "area": "A-CHEM", "title": "hold a lot nobody made",
        "evidence": {"input_sha256": "00", "engine": "qe", "engine_version": "1",
                     "trigger": {"type": "principal", "principal": "alice"}},
        "diff": [{"entity": "lot", "id": "B-NOWHERE", "field": "hold", "before": null,
                  "after": {"reason": "suspect", "severity": "major"}}],
    });
    let (status, _, body) = app.post("/v1/proposals", &draft).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("the plant has no lot `B-NOWHERE`"),
        "{body}"
    );
    // A known lot's area comes from the store, whatever the draft claims; a hold that is
    // already in force is stale.
    make_batches(&app).await;
    let mut draft = draft;
    draft["area"] = json!("A-PACK");
    draft["diff"][0]["id"] = json!("B-H-03");
    let (status, _, proposal) = app.post("/v1/proposals", &draft).await;
    assert_eq!(status, 201, "{proposal}");
    assert_eq!(proposal["areas"], json!(["A-CHEM"]));
    assert_eq!(proposal["status"], "applied", "closed_loop: {proposal}");
    let (status, _, body) = app.post("/v1/proposals", &draft).await;
    assert_eq!(status, 409, "already on hold: {body}");

    // A planner, who may not place holds, cannot place one through a proposal that the
    // policy would let apply by itself: it waits, approved, for someone who may.
    let planner = app.token_for("pete", Role::Planner, "*").await;
    draft["diff"][0]["id"] = json!("B-H-04");
    let (status, proposal) = app
        .call("POST", "/v1/proposals", &planner, Some(draft.clone()))
        .await;
    assert_eq!(status, 201, "{proposal}");
    assert_eq!(proposal["status"], "approved", "{proposal}");
    let (_, _, holds) = app.get("/v1/quality/holds?item_id=B-H-04").await;
    assert_eq!(holds["total"], 0, "{holds}");
    let id = proposal["id"].as_str().unwrap();
    let (status, body) = app
        .call("POST", &format!("/v1/proposals/{id}/apply"), &planner, None)
        .await;
    assert_eq!(status, 403, "{body}");
    let (status, applied) = app
        .call(
            "POST",
            &format!("/v1/proposals/{id}/apply"),
            &app.token,
            None,
        )
        .await;
    assert_eq!(status, 200, "an admin may: {applied}");
    let (_, _, holds) = app.get("/v1/quality/holds?item_id=B-H-04").await;
    assert_eq!(holds["items"][0]["proposal"], id, "{holds}");
}

/// The same results give the same proposals: an app with sequential ids and a fixed clock,
/// twice over fresh stores.
#[tokio::test]
async fn the_same_results_give_the_same_proposals() {
    async fn run() -> Vec<Value> {
        let store = std::sync::Arc::new(store::test_support::private_store().await.unwrap());
        store
            .put_plant(sim::reference_plant(), &store::Actor::system("test"))
            .await
            .unwrap();
        let governance = app::Governance::new(copilot_holds(), app::SinkKind::MesSim, None)
            .with_ids(std::sync::Arc::new(app::SequentialIds::default()));
        let app = app::App::new(store)
            .with_governance(governance)
            .with_clock(app::FixedClock(
                model::Timestamp::parse("2026-03-02T07:00:00Z").unwrap(),
            ));
        let who = app::scope::local_principal("ann");
        let mut events: Vec<model::Event> = Vec::new();
        for i in 0..16 {
            events.push(
                serde_json::from_value(json!({
                    "id": format!("rel-{i}"), "time": "2026-03-02T00:00:00Z",
                    "type": "order_released",
                    "order": {
                        "id": format!("MO-H-{i:02}"), "product": "RES-EA100",
                        "routing": "RCP-EA100", "quantity": 1000.0,
                        "release": "2026-03-02T00:00:00Z", "due": "2026-03-04T00:00:00Z",
                        "priority": "medium"
                    }
                }))
                .unwrap(),
            );
            events.push(
                serde_json::from_value(json!({
                    "id": format!("prod-{i}"), "time": "2026-03-02T04:00:00Z",
                    "type": "material_produced", "order": format!("MO-H-{i:02}"),
                    "material": "RES-EA100", "lot": format!("B-H-{i:02}"), "quantity": 970.0
                }))
                .unwrap(),
            );
        }
        app::events::ingest(&app, &who, &events).await.unwrap();
        let wiggle = [120.0, -80.0, 40.0, -150.0, 90.0];
        let mut results: Vec<model::Event> = (0..15)
            .map(|i| {
                serde_json::from_value(result(&format!("qr-{i}"), i, i, 12_000.0 + wiggle[i % 5]))
                    .unwrap()
            })
            .collect();
        results.push(serde_json::from_value(result("qr-15", 15, 15, 14_500.0)).unwrap());
        app::events::ingest(&app, &who, &results).await.unwrap();
        let page = app::govern::list(
            &app,
            &who,
            app::govern::ListProposals {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        page.items
            .iter()
            .map(|p| serde_json::to_value(p).unwrap())
            .collect()
    }
    let first = run().await;
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(first[0]["id"], "P-000001");
    assert_eq!(first, run().await);
}
