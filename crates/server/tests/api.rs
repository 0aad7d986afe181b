//! The API over real HTTP: a server on an ephemeral port, a real client, an in-memory store.

mod common;

use common::{TestApp, split};

use model::{Catalog, Event};
use serde_json::{Value, json};

fn simulated_events(days: f64) -> Vec<Event> {
    let catalog = Catalog::new(sim::reference_plant()).unwrap();
    let options = sim::SimOptions {
        days,
        seed: 11,
        ..sim::SimOptions::default()
    };
    sim::simulate(&catalog, &options, None, |_| {})
        .unwrap()
        .events
}

fn assert_problem(
    status: u16,
    content_type: &str,
    body: &Value,
    expected_status: u16,
    needle: &str,
) {
    assert_eq!(status, expected_status, "body: {body}");
    assert_eq!(content_type, "application/problem+json");
    assert_eq!(body["status"], expected_status);
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains(needle),
        "detail `{detail}` should mention `{needle}`"
    );
}

#[tokio::test]
async fn health_plant_and_work_centers() {
    let app = TestApp::start().await;
    let (status, _, body) = app.get("/healthz").await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ok");
    let (status, _, plant) = app.get("/v1/plant").await;
    assert_eq!(status, 200);
    assert!(plant["units"].as_array().unwrap().len() >= 7);
    let (status, _, centers) = app.get("/v1/work-centers").await;
    assert_eq!(status, 200);
    let modes: Vec<&str> = centers
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["mode"].as_str().unwrap())
        .collect();
    for mode in ["discrete", "process", "repetitive"] {
        assert!(modes.contains(&mode), "no {mode} work center in {modes:?}");
    }
}

#[tokio::test]
async fn ingest_is_idempotent_and_orders_filter_by_mode() {
    let app = TestApp::start().await;
    let events = simulated_events(2.0);
    assert!(events.len() > 100);
    let body = serde_json::to_string(&events).unwrap();
    let (status, _, first) = app.post_raw("/v1/events", body.clone()).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["inserted"], events.len());
    let (status, _, second) = app.post_raw("/v1/events", body).await;
    assert_eq!(status, 200);
    assert_eq!(second["inserted"], 0);
    assert_eq!(second["duplicates"], events.len());

    let (status, _, page) = app.get("/v1/orders?mode=process&limit=1000").await;
    assert_eq!(status, 200);
    let items = page["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert!(items.iter().all(|o| o["mode"] == "process"));
    let expected = app
        .store
        .state()
        .await
        .orders
        .values()
        .filter(|o| o.mode == model::Mode::Process)
        .count();
    assert_eq!(page["total"], expected);

    let (_, _, paged) = app.get("/v1/orders?limit=2").await;
    assert_eq!(paged["items"].as_array().unwrap().len(), 2);
    let next = paged["next"].as_str().expect("more than two orders");
    let (_, _, second) = app.get(next).await;
    assert_ne!(second["items"][0], paged["items"][0]);

    let id = items[0]["order"]["id"].as_str().unwrap();
    let (status, _, order) = app.get(&format!("/v1/orders/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(order["order"]["id"], id);

    let (status, _, stored) = app
        .get("/v1/events?type=equipment_state_changed&limit=5")
        .await;
    assert_eq!(status, 200);
    let stored = stored["items"].as_array().unwrap();
    assert!(!stored.is_empty() && stored.len() <= 5);
    assert!(
        stored
            .iter()
            .all(|e| e["event"]["type"] == "equipment_state_changed")
    );

    let (status, _, audit) = app.get("/v1/audit").await;
    assert_eq!(status, 200);
    let audit = audit["items"].as_array().unwrap();
    assert!(
        audit.iter().any(|r| r["actor"]["id"] == "alice"),
        "audit should name the caller: {audit:?}"
    );
}

#[tokio::test]
async fn bad_input_gets_a_problem_and_changes_nothing() {
    let app = TestApp::start().await;
    let before = app.store.state().await.events_applied;

    let (status, content_type, body) = app.post_raw("/v1/events", "[{\"id\": \"x\",").await;
    assert_problem(status, &content_type, &body, 400, "line 1");

    let (status, content_type, body) = app
        .post_raw("/v1/events", json!([{"id": "x"}]).to_string())
        .await;
    assert_problem(status, &content_type, &body, 422, "time");

    let good = json!({"id": "ok-1", "time": "2026-03-02T06:00:00Z", "type": "equipment_state_changed", "unit": app.store.plant().await.unwrap().plant().units[0].id, "state": "down"});
    let bad = json!({"id": "bad-1", "time": "2026-03-02T06:00:00Z", "type": "equipment_state_changed", "unit": "NO-SUCH-UNIT", "state": "down"});
    let (status, content_type, body) = app
        .post_raw("/v1/events", json!([good, bad]).to_string())
        .await;
    assert_problem(status, &content_type, &body, 422, "NO-SUCH-UNIT");
    assert!(body["detail"].as_str().unwrap().contains("bad-1"));
    assert_eq!(
        app.store.state().await.events_applied,
        before,
        "a rejected batch stores nothing"
    );

    let (status, content_type, body) = app.get("/v1/orders/NO-SUCH-ORDER").await;
    assert_problem(status, &content_type, &body, 404, "NO-SUCH-ORDER");
    let (status, content_type, body) = app.get("/v1/orders?mode=batch").await;
    assert_problem(status, &content_type, &body, 400, "mode");
    let (status, content_type, body) = app.get("/v1/events?type=nonsense").await;
    assert_problem(status, &content_type, &body, 422, "nonsense");
    let (status, content_type, body) = app.get("/v1/events?from=yesterday").await;
    assert_problem(status, &content_type, &body, 400, "from");
    let (status, content_type, body) = app.get("/v1/nowhere").await;
    assert_problem(status, &content_type, &body, 404, "/v1/nowhere");

    // The service is still up and the good event alone goes in.
    let (status, _, body) = app.post_raw("/v1/events", json!([good]).to_string()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(app.store.state().await.events_applied, before + 1);
}

#[tokio::test]
async fn a_filter_the_store_refuses_is_a_422_problem_naming_the_filter() {
    let app = TestApp::start().await;
    let (status, content_type, body) = app
        .get("/v1/events?type=operation_completed,no_such_type&limit=5")
        .await;
    assert_problem(status, &content_type, &body, 422, "types[1]");
    assert_eq!(body["type"], "urn:mixplane:problem:invalid-filter");
    assert!(
        body["detail"].as_str().unwrap().contains("no_such_type"),
        "{body}"
    );

    // An area-scoped reader's lists read the log page by page: the same refusal, not a 500.
    let token = common::token(
        &app.store,
        "viewer.pack",
        govern::Role::Viewer,
        govern::Scope::Area("A-PACK".into()),
    )
    .await;
    let (status, content_type, body) = split(
        app.client
            .get(app.url("/v1/events?type=no_such_type"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_problem(status, &content_type, &body, 422, "types[0]");
}

#[tokio::test]
async fn every_operation_declares_its_error_answers_as_problems() {
    let app = TestApp::start().await;
    let (status, _, document) = app.get("/v1/openapi.json").await;
    assert_eq!(status, 200);
    let problem_ref = json!({ "$ref": "#/components/schemas/Problem" });
    let schema = &document["components"]["schemas"]["Problem"];
    let properties = schema["properties"].as_object().expect("a Problem schema");
    for member in ["type", "title", "status", "detail"] {
        assert!(properties.contains_key(member), "Problem lacks `{member}`");
    }

    // The schema is what the server answers: a real problem has every required member and
    // nothing the schema does not name.
    let (status, _, answer) = app.get("/v1/orders/NO-SUCH-ORDER").await;
    assert_eq!(status, 404);
    let answer = answer.as_object().unwrap();
    for required in schema["required"].as_array().unwrap() {
        assert!(
            answer.contains_key(required.as_str().unwrap()),
            "{answer:?}"
        );
    }
    for member in answer.keys() {
        assert!(
            properties.contains_key(member),
            "`{member}` is not in the schema"
        );
    }

    for endpoint in server::api::endpoints() {
        let name = format!("{} {}", endpoint.method, endpoint.path);
        let operation =
            &document["paths"][endpoint.path][endpoint.method.as_str().to_ascii_lowercase()];
        let responses = operation["responses"].as_object().unwrap();
        let declares = |status: &str| responses.contains_key(status);
        let mut expected = vec!["408", "500", "default"];
        if endpoint.request.is_some() {
            expected.extend(["400", "413", "422"]);
        }
        if !endpoint.params.is_empty() {
            expected.extend(["400", "422"]);
        }
        if endpoint.path.contains('{')
            || server::openapi::ANSWERS_NOT_FOUND.contains(&endpoint.operation_id)
        {
            expected.push("404");
        }
        if endpoint.permission != govern::Permission::Public {
            expected.extend(["401", "403", "429", "503"]);
            for throttled in ["429", "503"] {
                assert!(
                    responses[throttled]["headers"]["Retry-After"].is_object(),
                    "{name}: {throttled} without Retry-After"
                );
            }
        } else {
            assert!(!declares("401") && !declares("403"), "{name} is public");
        }
        if !endpoint.conflicts.is_empty() {
            expected.push("409");
            let description = responses["409"]["description"].as_str().unwrap();
            for kind in endpoint.conflicts {
                assert!(description.contains(kind), "{name}: 409 omits {kind}");
            }
        }
        if server::openapi::CONDITIONAL_WRITES.contains(&endpoint.operation_id) {
            expected.push("412");
        }
        for status in &expected {
            assert!(declares(status), "{name} does not declare {status}");
        }
        // A 304 carries no body; only the reads that answer an `ETag` declare it.
        assert_eq!(
            declares("304"),
            server::openapi::TAGGED_READS.contains(&endpoint.operation_id),
            "{name} 304"
        );
        for (status, response) in responses {
            if status.starts_with('2') || status == "304" {
                continue;
            }
            assert!(
                expected.contains(&status.as_str()),
                "{name} declares {status}, which its route does not imply"
            );
            let content = response["content"].as_object().unwrap();
            assert_eq!(
                content.keys().collect::<Vec<_>>(),
                ["application/problem+json"],
                "{name} {status}"
            );
            assert_eq!(
                content["application/problem+json"]["schema"], problem_ref,
                "{name} {status}"
            );
        }
    }
}

#[tokio::test]
async fn openapi_lists_every_route_and_matches_the_snapshot() {
    let app = TestApp::start().await;
    let (status, _, document) = app.get("/v1/openapi.json").await;
    assert_eq!(status, 200);
    for endpoint in server::api::endpoints() {
        let operation =
            &document["paths"][endpoint.path][endpoint.method.as_str().to_ascii_lowercase()];
        assert_eq!(
            operation["operationId"], endpoint.operation_id,
            "{} {}",
            endpoint.method, endpoint.path
        );
    }
    let snapshot_path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");
    let current = serde_json::to_string_pretty(&document).unwrap() + "\n";
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(snapshot_path, &current).unwrap();
    }
    let committed = std::fs::read_to_string(snapshot_path).unwrap_or_default();
    assert!(
        committed == current,
        "the OpenAPI document changed; review it and rerun with UPDATE_SNAPSHOTS=1 to accept ({snapshot_path})"
    );
}

#[tokio::test]
async fn an_area_scoped_principal_writes_only_events_in_its_area() {
    let app = TestApp::start().await;
    let catalog = app.store.plant().await.unwrap();
    let plant = catalog.plant();
    let area_of = |unit: &model::Unit| catalog.unit_area(&unit.id).unwrap().to_string();
    let own_unit = plant
        .units
        .iter()
        .find(|u| area_of(u) == "A-CHEM")
        .expect("a unit in A-CHEM");
    let other_unit = plant
        .units
        .iter()
        .find(|u| area_of(u) != "A-CHEM")
        .expect("a unit elsewhere");
    let token = common::token(
        &app.store,
        "op.chem",
        govern::Role::Operator,
        govern::Scope::Area("A-CHEM".into()),
    )
    .await;
    let post = |body: Value| {
        let request = app
            .client
            .post(app.url("/v1/events"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body.to_string());
        async move { split(request.send().await.unwrap()).await }
    };
    let state_change = |id: &str, unit: &str| json!({"id": id, "time": "2026-03-02T06:00:00Z", "type": "equipment_state_changed", "unit": unit, "state": "down"});
    let before = app.store.state().await.events_applied;

    let (status, content_type, body) = post(json!([
        state_change("scope-1", own_unit.id.as_str()),
        state_change("scope-2", other_unit.id.as_str())
    ]))
    .await;
    assert_problem(status, &content_type, &body, 403, "scope-2");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains(&area_of(other_unit)),
        "{body}"
    );
    let receipt = json!({"id": "scope-3", "time": "2026-03-02T06:00:00Z", "type": "material_received", "material": plant.materials[0].id, "lot": "L-SCOPE", "quantity": 5});
    let (status, content_type, body) = post(json!([receipt])).await;
    assert_problem(status, &content_type, &body, 403, "site-wide");
    assert_eq!(
        app.store.state().await.events_applied,
        before,
        "a refused batch stores nothing"
    );

    let (status, _, body) = post(json!([state_change("scope-1", own_unit.id.as_str())])).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(app.store.state().await.events_applied, before + 1);
}
