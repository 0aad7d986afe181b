//! The quality API over real HTTP: SPC analysis with the vector contract, quality results
//! ingest with enforcement (alerts, holds, nonconformances), the NC workflow, the release
//! gate, chart data, and quality state surviving a restart.

mod common;

use common::{Setup, TestApp};

use std::sync::Arc;

use model::{Catalog, Event};
use serde_json::{Value, json};

/// The harness over `store` (a new one by default) with `qe.anna`, an admin, as the caller.
async fn quality_app(store: Option<Arc<store::Store>>) -> TestApp {
    TestApp::with(Setup {
        store,
        caller: Some(("qe.anna", govern::Role::Admin)),
        ..Setup::default()
    })
    .await
}

fn assert_problem(response: &(u16, String, Value), status: u16, needles: &[&str]) {
    let (s, content_type, body) = response;
    assert_eq!(*s, status, "body: {body}");
    assert_eq!(content_type, "application/problem+json");
    let detail = body["detail"].as_str().unwrap_or_default();
    for needle in needles {
        assert!(
            detail.contains(needle),
            "detail `{detail}` should mention `{needle}`"
        );
    }
}

/// Numbers within 1e-9·max(1, |x|), everything else equal, every expected key present.
fn close(expected: &Value, actual: &Value, path: &str) {
    match (expected, actual) {
        (Value::Number(e), Value::Number(a)) => {
            let (e, a) = (e.as_f64().unwrap(), a.as_f64().unwrap());
            assert!(
                (e - a).abs() <= 1e-9 * e.abs().max(1.0),
                "{path}: {e} vs {a}"
            );
        }
        (Value::Object(e), Value::Object(a)) => {
            for (k, v) in e {
                close(v, a.get(k).unwrap_or(&Value::Null), &format!("{path}.{k}"));
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            assert_eq!(e.len(), a.len(), "{path}");
            for (i, (x, y)) in e.iter().zip(a).enumerate() {
                close(x, y, &format!("{path}[{i}]"));
            }
        }
        (e, a) => assert_eq!(e, a, "{path}"),
    }
}

#[tokio::test]
async fn spc_analyze_answers_with_the_vector_contract() {
    let app = quality_app(None).await;
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/quality/vectors");
    let mut checked = 0;
    for name in [
        "imr_outlier_and_trend.json",
        "dyedcloth_u_variable_sizes.json",
        "ewma_shift_1sigma.json",
    ] {
        let text = std::fs::read_to_string(dir.join(name))
            .unwrap_or_else(|e| panic!("{}: {e}", dir.join(name).display()));
        let vector: Value = serde_json::from_str(&text).unwrap();
        let request =
            json!({"chart": vector["chart"], "params": vector["params"], "data": vector["data"]});
        let (status, _, answer) = app.post("/v1/quality/spc/analyze", &request).await;
        assert_eq!(status, 200, "{name}: {answer}");
        close(&vector["expected"], &answer, name);
        checked += 1;
    }
    assert_eq!(checked, 3);
    // Bad input names the field.
    let missing = app
        .post(
            "/v1/quality/spc/analyze",
            &json!({"chart": "imr", "params": {}, "data": {}}),
        )
        .await;
    assert_problem(&missing, 422, &["data.values"]);
    let text = app
        .post(
            "/v1/quality/spc/analyze",
            &json!({"chart": "imr", "data": {"values": [1, "x", 3]}}),
        )
        .await;
    assert_problem(&text, 422, &["values[1]"]);
    let unknown = app
        .post(
            "/v1/quality/spc/analyze",
            &json!({"chart": "pie", "data": {}}),
        )
        .await;
    assert_problem(&unknown, 422, &["unknown chart `pie`"]);
    let small = app
        .post(
            "/v1/quality/spc/analyze",
            &json!({"chart": "xbar_r", "data": {"subgroups": [[1.0], [2.0]]}}),
        )
        .await;
    assert_problem(&small, 422, &["size"]);
    let malformed = app
        .post_raw("/v1/quality/spc/analyze", "{\"chart\": ")
        .await;
    assert_eq!(malformed.0, 400);
}

/// A time of an answer, which must be RFC 3339 text.
fn rfc3339(v: &Value) -> model::Timestamp {
    let text = v
        .as_str()
        .unwrap_or_else(|| panic!("`{v}` is not RFC 3339 text"));
    model::Timestamp::parse(text).unwrap()
}

fn viscosity(i: usize, value: f64) -> Value {
    json!({
        "id": format!("qr-visc-{i}"),
        "time": format!("2026-03-02T{:02}:{:02}:00Z", 6 + i / 60, i % 60),
        "source": "lims",
        "characteristic": "EA100-VISC",
        "value": value,
        "sample": i,
        "lot": format!("B-TEST-{i:02}"),
    })
}

#[tokio::test]
async fn results_raise_alerts_holds_and_ncs_and_the_gate_follows_the_workflow() {
    let app = quality_app(None).await;
    // The lot the out-of-limits batch measures is known to the plant (received here): the
    // quality agent proposes holds only on items the plant state knows.
    let received = json!([
        {"id": "rcv-15", "time": "2026-03-02T05:00:00Z", "type": "material_received",
         "material": "RES-EA100", "lot": "B-TEST-15", "quantity": 10.0},
    ]);
    let (status, _, body) = app.post("/v1/events", &received).await;
    assert_eq!(status, 200, "{body}");
    // Phase I (15 batches for process mode), then one batch far beyond the limits.
    let wiggle = [
        120.0, -80.0, 40.0, -150.0, 90.0, -30.0, 60.0, -110.0, 10.0, 70.0,
    ];
    let mut batch: Vec<Value> = (0..15)
        .map(|i| viscosity(i, 12_000.0 + wiggle[i % 10]))
        .collect();
    batch.push(viscosity(15, 14_500.0));
    let (status, _, ingest) = app
        .post("/v1/quality/results", &Value::Array(batch.clone()))
        .await;
    assert_eq!(status, 200, "{ingest}");
    assert_eq!(ingest["inserted"], 16);
    assert_eq!(ingest["enforcement"]["results"], 16);
    assert_eq!(ingest["enforcement"]["alerts"], 1);
    // Idempotent: the same batch again stores and judges nothing.
    let (status, _, again) = app.post("/v1/quality/results", &Value::Array(batch)).await;
    assert_eq!(status, 200);
    assert_eq!(
        (again["inserted"].clone(), again["duplicates"].clone()),
        (json!(0), json!(16))
    );
    assert_eq!(again["enforcement"], Value::Null);

    // Reads with nothing new to judge write nothing, not even an audit record.
    let audited = app.store.audit_log(0, 10_000).await.unwrap().len();
    let (_, _, alerts) = app
        .get("/v1/quality/alerts?characteristic=EA100-VISC")
        .await;
    let _ = app.get("/v1/quality/holds").await;
    let after = app.store.audit_log(0, 10_000).await.unwrap();
    assert_eq!(
        after.len(),
        audited,
        "reads wrote audit records: {:?}",
        after
            .iter()
            .map(|r| (r.seq, &r.action, r.detail.to_string()))
            .collect::<Vec<_>>()
    );
    assert_eq!(alerts["total"], 1, "{alerts}");
    let alert = &alerts["items"][0];
    assert_eq!(alert["index"], 15);
    assert_eq!(alert["severity"], "critical");
    assert_eq!(alert["at"], "2026-03-02T06:15:00Z", "times are RFC 3339");
    assert_eq!(alert["good_side"], false, "EA100-VISC has two limits");
    assert_eq!(alert["rule_set"], "western_electric");
    assert!(alert["rules"].as_array().unwrap().contains(&json!(1)));
    assert!(alert["value"].as_f64().unwrap() > alert["limits"]["ucl"].as_f64().unwrap());

    let (_, _, holds) = app.get("/v1/quality/holds?active=true").await;
    assert_eq!(holds["total"], 1, "{holds}");
    let hold = &holds["items"][0];
    assert_eq!(
        (hold["item_kind"].clone(), hold["item_id"].clone()),
        (json!("lot"), json!("B-TEST-15"))
    );
    let hold_id = hold["id"].as_str().unwrap().to_owned();
    // The hold was proposed by the quality agent and applied by itself (quality_hold is
    // closed_loop in the shipped policy); the hold names its proposal.
    assert_eq!(ingest["enforcement"]["hold_proposals"], 1, "{ingest}");
    assert_eq!(ingest["enforcement"]["holds"], 1, "{ingest}");
    let proposal_id = hold["proposal"]
        .as_str()
        .expect("the hold names its proposal");
    let (_, _, proposal) = app.get(&format!("/v1/proposals/{proposal_id}")).await;
    assert_eq!(proposal["kind"], "quality_hold", "{proposal}");
    assert_eq!(proposal["status"], "applied", "{proposal}");
    assert_eq!(proposal["proposed_by"], "mixplane-quality");
    assert_eq!(proposal["applied"]["by"], "policy:closed_loop");

    let (_, _, ncs) = app.get("/v1/quality/nonconformances?open=true").await;
    assert_eq!(ncs["total"], 1, "{ncs}");
    let nc_id = ncs["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(ncs["items"][0]["nonconformance"]["state"], "open");

    // The gate blocks the held lot (hold and open NC) and lets an unaffected lot go.
    let (_, _, gate) = app.get("/v1/quality/release-gate?lot=B-TEST-15").await;
    assert_eq!(gate["allowed"], false, "{gate}");
    let kinds: Vec<&str> = gate["decision"]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["hold", "open_nonconformance"], "{gate}");
    let (_, _, fine) = app.get("/v1/quality/release-gate?lot=B-TEST-03").await;
    assert_eq!(fine["allowed"], true, "{fine}");
    assert_problem(
        &app.get("/v1/quality/release-gate").await,
        400,
        &["lot", "serial"],
    );

    // The NC workflow, with who and when.
    let path = format!("/v1/quality/nonconformances/{nc_id}/transitions");
    let viewer = app.token_for("vic", govern::Role::Viewer, "*").await;
    let denied = app
        .post_as(&viewer, &path, &json!({"action": "start_investigation"}))
        .await;
    assert_eq!(denied.0, 403, "a viewer may not dispose: {:?}", denied.2);
    let invalid = app.post(&path, &json!({"action": "close"})).await;
    assert_problem(&invalid, 409, &["close", "`open`"]);
    for step in [
        json!({"action": "start_investigation"}),
        json!({"action": "disposition", "disposition": "use_as_is"}),
        json!({"action": "start_capa"}),
        json!({"action": "add_capa_action", "id": "A1", "description": "recalibrate the viscometer"}),
        json!({"action": "complete_capa_action", "id": "A1"}),
        json!({"action": "verify_capa_action", "id": "A1"}),
        json!({"action": "verify"}),
    ] {
        let (status, _, body) = app.post(&path, &step).await;
        assert_eq!(status, 200, "{step}: {body}");
    }
    let (_, _, gate) = app.get("/v1/quality/release-gate?lot=B-TEST-15").await;
    assert_eq!(
        gate["decision"]["reasons"].as_array().unwrap().len(),
        2,
        "{gate}"
    );
    let (status, _, closed) = app.post(&path, &json!({"action": "close"})).await;
    assert_eq!(status, 200, "{closed}");
    assert_eq!(closed["nonconformance"]["state"], "closed");
    let history = closed["nonconformance"]["history"].as_array().unwrap();
    assert_eq!(history.len(), 9);
    assert!(
        history
            .iter()
            .skip(1)
            .all(|r| r["by"] == "person:qe.anna" && rfc3339(&r["at"]).0 > 0)
    );
    let capa = &closed["nonconformance"]["capa"][0];
    for when in ["added_at", "done_at", "verified_at"] {
        assert!(rfc3339(&capa[when]).0 > 0, "{when}: {capa}");
    }
    let again = app.post(&path, &json!({"action": "start_capa"})).await;
    assert_problem(&again, 409, &["start_capa", "`closed`"]);
    assert_problem(
        &app.post(
            "/v1/quality/nonconformances/NC-NOPE/transitions",
            &json!({"action": "verify"}),
        )
        .await,
        404,
        &["NC-NOPE"],
    );
    assert_eq!(app.post(&path, &json!({"action": "fly"})).await.0, 422);

    // Still held; releasing the hold lets it ship (the NC was dispositioned use-as-is).
    let (_, _, gate) = app.get("/v1/quality/release-gate?lot=B-TEST-15").await;
    assert_eq!(gate["allowed"], false);
    let release = format!("/v1/quality/holds/{hold_id}/release");
    let (status, _, released) = app
        .post(&release, &json!({"reason": "MRB: use as is"}))
        .await;
    assert_eq!(status, 200, "{released}");
    assert_eq!(released["active"], false);
    assert_problem(
        &app.post(&release, &json!({"reason": "again"})).await,
        409,
        &[&hold_id],
    );
    let (_, _, gate) = app.get("/v1/quality/release-gate?lot=B-TEST-15").await;
    assert_eq!(gate["allowed"], true, "{gate}");

    // Manual holds and NCs, on lots the plant state knows (received here); a hold or an NC
    // on a lot it does not know is refused, naming it.
    let received = json!([
        {"id": "rcv-03", "time": "2026-03-02T05:00:00Z", "type": "material_received",
         "material": "RES-EA100", "lot": "B-TEST-03", "quantity": 10.0},
        {"id": "rcv-04", "time": "2026-03-02T05:00:00Z", "type": "material_received",
         "material": "RES-EA100", "lot": "B-TEST-04", "quantity": 10.0},
    ]);
    let (status, _, body) = app.post("/v1/events", &received).await;
    assert_eq!(status, 200, "{body}");
    assert_problem(
        &app.post(
            "/v1/quality/holds",
            &json!({"item_kind": "lot", "item_id": "B-NOWHERE", "reason": "typo"}),
        )
        .await,
        422,
        &["lot `B-NOWHERE`", "does not exist"],
    );
    assert_problem(
        &app.post(
            "/v1/quality/nonconformances",
            &json!({"description": "x", "items": ["serial:SN-NOWHERE"]}),
        )
        .await,
        422,
        &["items[0]", "serial `SN-NOWHERE`"],
    );
    let (status, _, manual) = app
        .post(
            "/v1/quality/holds",
            &json!({"item_kind": "lot", "item_id": "B-TEST-03", "reason": "customer complaint"}),
        )
        .await;
    assert_eq!(status, 201, "{manual}");
    assert_eq!(manual["placed_by"], "person:qe.anna");
    assert_problem(
        &app.post(
            "/v1/quality/holds",
            &json!({"item_kind": "lot", "item_id": "B-TEST-03", "reason": "twice"}),
        )
        .await,
        409,
        &["already on hold"],
    );
    assert_problem(
        &app.post(
            "/v1/quality/holds",
            &json!({"item_kind": "pallet", "item_id": "P1", "reason": "x"}),
        )
        .await,
        422,
        &["item_kind", "pallet"],
    );
    let (status, _, nc) = app
        .post(
            "/v1/quality/nonconformances",
            &json!({"description": "foreign particle", "items": ["lot:B-TEST-04"]}),
        )
        .await;
    assert_eq!(status, 201, "{nc}");
    let (_, _, gate) = app.get("/v1/quality/release-gate?lot=B-TEST-04").await;
    assert_eq!(
        gate["decision"]["reasons"][0]["kind"],
        "open_nonconformance"
    );
    assert_problem(
        &app.post(
            "/v1/quality/nonconformances",
            &json!({"description": "x", "items": ["B-1"]}),
        )
        .await,
        422,
        &["items[0]"],
    );

    // Chart data.
    let (status, _, chart) = app
        .get("/v1/quality/characteristics/EA100-VISC/chart")
        .await;
    assert_eq!(status, 200, "{chart}");
    assert_eq!(chart["status"], "monitoring");
    assert_eq!(chart["points"].as_array().unwrap().len(), 16);
    assert_eq!(chart["points_out_of_control"], json!([15]));
    assert_eq!(chart["points"][15]["at"], "2026-03-02T06:15:00Z");
    assert!(chart["limits"]["ucl"].as_f64().unwrap() > 12_000.0);
    assert_problem(
        &app.get("/v1/quality/characteristics/NOPE/chart").await,
        404,
        &["NOPE"],
    );

    // Every one of these writes is in the audit chain, which still verifies.
    let report = app.store.verify_audit().await.unwrap();
    assert!(report.first_bad.is_none(), "{report:?}");
    let (_, _, audit) = app.get("/v1/audit?limit=1000").await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    for action in [
        "quality.enforce",
        "quality.nc.transition",
        "quality.hold.release",
        "quality.hold.place",
        "quality.nc.open",
    ] {
        assert!(
            actions.contains(&action),
            "{action} not audited: {actions:?}"
        );
    }
}

#[tokio::test]
async fn a_nonconformance_stored_with_integer_times_loads_and_answers_rfc3339() {
    let app = TestApp::start().await;
    // A body as the store kept it before times were RFC 3339: integer milliseconds.
    let at = 1_772_431_200_000i64;
    let stored = app
        .store
        .create_nc(&store::Actor::system("test"), move |id| store::NewNc {
            body: json!({
                "id": id, "description": "stored before RFC 3339", "items": ["lot:B-OLD-1"],
                "state": "open", "disposition": null, "capa": [],
                "history": [{"action": "open", "from": "open", "to": "open",
                             "by": "person:qe.anna", "at": at}],
            }),
            id,
            state: "open".into(),
            characteristic: None,
            alert_id: None,
            items: vec!["lot:B-OLD-1".into()],
            at: model::Timestamp(at),
            transitions: vec![store::NcTransition {
                action: "open".into(),
                from: "open".into(),
                to: "open".into(),
                by: "person:qe.anna".into(),
                at: model::Timestamp(at),
                detail: None,
            }],
        })
        .await
        .unwrap();
    let path = format!("/v1/quality/nonconformances/{}", stored.id);
    let (status, _, nc) = app.get(&path).await;
    assert_eq!(status, 200, "{nc}");
    assert_eq!(
        nc["nonconformance"]["history"][0]["at"],
        "2026-03-02T06:00:00Z"
    );
    // A transition reads the old body and writes it back with RFC 3339 times.
    let (status, _, moved) = app
        .post(
            &format!("{path}/transitions"),
            &json!({"action": "start_investigation"}),
        )
        .await;
    assert_eq!(status, 200, "{moved}");
    let history = moved["nonconformance"]["history"].as_array().unwrap();
    assert_eq!(history.len(), 2, "{moved}");
    assert_eq!(history[0]["at"], "2026-03-02T06:00:00Z");
    assert!(rfc3339(&history[1]["at"]) >= rfc3339(&history[0]["at"]));
    let body = app
        .store
        .nonconformance(&stored.id)
        .await
        .unwrap()
        .unwrap()
        .body;
    assert!(body["history"][0]["at"].is_string(), "{body}");
}

fn simulated_events(days: f64) -> Vec<Event> {
    let catalog = Catalog::new(sim::reference_plant()).unwrap();
    let options = sim::SimOptions {
        days,
        seed: 11,
        drifts: vec![sim::DriftSpec::reactor_temperature_creep()],
        ..sim::SimOptions::default()
    };
    sim::simulate(&catalog, &options, None, |_| {})
        .unwrap()
        .events
}

#[tokio::test]
async fn simulated_plant_is_enforced_through_genealogy_and_survives_a_restart() {
    let dir = std::env::temp_dir().join(format!("mixplane-quality-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("q.db");
    let events = simulated_events(12.0);
    let (half, rest) = events.split_at(events.len() / 2);
    let counts = {
        let store = Arc::new(store::test_support::store_at(&db).await.unwrap());
        let app = quality_app(Some(store.clone())).await;
        for chunk in half.chunks(2000) {
            let body = serde_json::to_string(chunk).unwrap();
            let (status, _, outcome) = app.post_raw("/v1/events", body).await;
            assert_eq!(status, 200, "{outcome}");
        }
        // Results that came in through /v1/events are judged before any quality read.
        let (_, _, alerts) = app.get("/v1/quality/alerts?limit=5").await;
        assert!(alerts["total"].as_u64().unwrap() > 0, "{alerts}");
        let (_, _, holds) = app.get("/v1/quality/holds?limit=1000").await;
        let links: Vec<&str> = holds["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["link"].as_str().unwrap())
            .collect();
        assert!(links.contains(&"item"), "{links:?}");
        assert!(
            links.iter().any(|l| *l == "upstream" || *l == "downstream"),
            "no hold through genealogy: {links:?}"
        );
        // A held lot or serial does not ship.
        let held = holds["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["item_kind"] == "lot" || h["item_kind"] == "serial")
            .expect("a held lot or serial");
        let (_, _, gate) = app
            .get(&format!(
                "/v1/quality/release-gate?{}={}",
                held["item_kind"].as_str().unwrap(),
                held["item_id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(gate["allowed"], false, "{gate}");
        store.quality_counts().await.unwrap()
    };
    // Reopen: every hold, NC and the enforcer's place are still there.
    let store = Arc::new(store::test_support::store_at(&db).await.unwrap());
    assert_eq!(store.quality_counts().await.unwrap(), counts);
    let audit_before = store.audit_log(0, 10_000).await.unwrap().len();
    let app = quality_app(Some(store.clone())).await;
    // `POST /v1/events` judges the quality results of each batch as it is stored.
    for chunk in rest.chunks(2000) {
        let body = serde_json::to_string(chunk).unwrap();
        assert_eq!(app.post_raw("/v1/events", body).await.0, 200);
    }
    let quality_in_rest = rest
        .iter()
        .filter(|e| e.kind.type_name() == "quality_result_recorded")
        .count();
    let audit = store.audit_log(0, 10_000).await.unwrap();
    let runs: Vec<&serde_json::Value> = audit[audit_before..]
        .iter()
        .filter(|r| r.action == "quality.enforce")
        .map(|r| &r.detail)
        .collect();
    assert!(!runs.is_empty());
    let judged: u64 = runs.iter().map(|d| d["results"].as_u64().unwrap()).sum();
    assert_eq!(
        judged as usize, quality_in_rest,
        "only the new results are judged, once"
    );
    assert!(runs.iter().all(|d| d["restarted"] == false));
    let after = store.quality_counts().await.unwrap();
    assert!(after.alerts >= counts.alerts);
    assert_eq!(after.cursor_seq, store.state().await.events_applied as i64);
    assert!(app::quality::enforce(&store).await.unwrap().is_none());
    // A reset wipes what was judged with the log, even when the same events (same ids, same
    // sequence numbers) come again: they are judged afresh, not skipped as already seen.
    store.reset(&store::Actor::person("ann")).await.unwrap();
    let wiped = store.quality_counts().await.unwrap();
    assert_eq!((wiped.alerts, wiped.cursor_seq), (0, 0), "{wiped:?}");
    for chunk in half.chunks(2000) {
        let body = serde_json::to_string(chunk).unwrap();
        assert_eq!(app.post_raw("/v1/events", body).await.0, 200);
    }
    let again = store.quality_counts().await.unwrap();
    assert_eq!(again.alerts, counts.alerts);
    assert_eq!(again.cursor_seq, counts.cursor_seq);
    let _ = std::fs::remove_dir_all(&dir);
}
