//! ISA-95 documents over real HTTP: a B2MML schedule's orders released (all or nothing, or
//! per request; once however often it is posted; within the caller's scope), the plan in
//! force answered as a B2MML OperationsSchedule that reads back to the same assignments, and
//! a BatchML recipe read as a routing.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use common::TestApp;
use govern::Role;
use serde_json::json;

fn schedule(second_quantity: &str) -> String {
    format!(
        r#"<SyncProductionSchedule xmlns="http://www.mesa.org/xml/B2MML-V0600" releaseID="6.0">
  <ApplicationArea><CreationDateTime>2026-03-01T12:00:00Z</CreationDateTime></ApplicationArea>
  <DataArea><Sync/><ProductionSchedule>
    <ProductionRequest>
      <ID>ERP-1</ID>
      <StartTime>2026-03-02T06:00:00Z</StartTime><EndTime>2026-03-04T18:00:00Z</EndTime>
      <SegmentRequirement><ID>1</ID><MaterialProducedRequirement>
        <MaterialDefinitionID>RES-EA100</MaterialDefinitionID>
        <Quantity><QuantityString>1000</QuantityString><UnitOfMeasure>kg</UnitOfMeasure></Quantity>
      </MaterialProducedRequirement></SegmentRequirement>
    </ProductionRequest>
    <ProductionRequest>
      <ID>ERP-2</ID>
      <StartTime>2026-03-02T06:00:00Z</StartTime><EndTime>2026-03-05T18:00:00Z</EndTime>
      <SegmentRequirement><ID>1</ID><MaterialProducedRequirement>
        <MaterialDefinitionID>RES-EA220</MaterialDefinitionID>
        <Quantity><QuantityString>{second_quantity}</QuantityString></Quantity>
      </MaterialProducedRequirement></SegmentRequirement>
    </ProductionRequest>
  </ProductionSchedule></DataArea>
</SyncProductionSchedule>"#
    )
}

#[tokio::test]
async fn a_schedule_releases_its_orders_once_and_a_bad_one_stores_nothing() {
    let app = TestApp::start().await;
    let (status, content_type, body) = app
        .post_body("/v1/b2mml/schedule", "application/xml", schedule("-1"))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(content_type, "application/problem+json");
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("ERP-2") && detail.contains("QuantityString"),
        "{detail}"
    );
    let (status, _, _) = app.get("/v1/orders/ERP-1").await;
    assert_eq!(status, 404, "nothing of a refused document is stored");

    let (status, _, body) = app
        .post_body(
            "/v1/b2mml/schedule?per_request=true",
            // A client uploading the file as bytes (the document's other media type).
            "application/octet-stream",
            schedule("-1"),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["orders"], json!(["ERP-1"]));
    assert_eq!(body["refused"][0]["request"], "ERP-2");
    assert_eq!(body["inserted"], 1);

    let (status, _, body) = app
        .post_body("/v1/b2mml/schedule", "application/xml", schedule("500"))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["inserted"].as_u64(), body["duplicates"].as_u64()),
        (Some(1), Some(1))
    );
    let (status, _, order) = app.get("/v1/orders/ERP-2").await;
    assert_eq!(status, 200, "{order}");

    // An operator of the packaging area may not release resin orders (reactors in A-CHEM).
    let packer = app.token_for("pia", Role::Operator, "area:A-PACK").await;
    let (status, _, body) = app
        .post_body_as(
            &packer,
            "/v1/b2mml/schedule",
            "application/xml",
            schedule("700").replace("ERP-", "ERP-P"),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    // A viewer may not write events at all.
    let viewer = app.token_for("vic", Role::Viewer, "*").await;
    let (status, _, _) = app
        .post_body_as(
            &viewer,
            "/v1/b2mml/schedule",
            "application/xml",
            schedule("1"),
        )
        .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn the_plan_in_force_is_answered_as_an_operations_schedule_with_the_same_assignments() {
    let app = TestApp::start().await;
    let (status, _, body) = app.get("/v1/b2mml/schedule").await;
    assert_eq!(status, 404, "{body}");
    let (status, _, plan) = app
        .post(
            "/v1/schedule/plan",
            &json!({"time_limit_seconds": 0.5, "seed": 1, "reason": "test plan"}),
        )
        .await;
    assert_eq!(status, 201, "{plan}");
    let (status, content_type, document) = app.get("/v1/b2mml/schedule").await;
    assert_eq!(status, 200);
    assert_eq!(content_type, "application/xml");
    let document = isa95::read_schedule(document.as_str().unwrap()).unwrap();
    let read: BTreeSet<(String, String, String, String)> = isa95::read_assignments(&document)
        .unwrap()
        .into_iter()
        .map(|a| {
            (
                a.op.to_string(),
                a.unit.to_string(),
                a.start.to_string(),
                a.end.to_string(),
            )
        })
        .collect();
    let (_, _, in_force) = app.get("/v1/schedule").await;
    let expected: BTreeSet<(String, String, String, String)> = in_force["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let text = |k: &str| a[k].as_str().unwrap().to_owned();
            (text("op"), text("unit"), text("start_at"), text("end_at"))
        })
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(read, expected);

    // An area reader gets its area's operations only.
    let packer = app.token_for("pia", Role::Viewer, "area:A-PACK").await;
    let response = app
        .client
        .get(app.url("/v1/b2mml/schedule"))
        .bearer_auth(&packer)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let document = isa95::read_schedule(&response.text().await.unwrap()).unwrap();
    let units: BTreeSet<String> = isa95::read_assignments(&document)
        .unwrap()
        .into_iter()
        .map(|a| a.unit.to_string())
        .collect();
    assert!(!units.is_empty());
    assert!(units.iter().all(|u| u.starts_with("PK-")), "{units:?}");
}

#[tokio::test]
async fn a_batchml_recipe_is_read_as_a_routing_of_the_plant() {
    let app = TestApp::start().await;
    let recipe = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata/samples/batchml/batchml_v02_cough_syrup_master_recipe.xml"),
    )
    .unwrap();
    let path = "/v1/batchml/routing?routing=RCP-COUGH&product=RES-EA100&default_step_minutes=20\
                &equipment=Make%20Suspension%3DWC-RX%3BPackage%20Suspension%3DFS-1";
    let (status, _, body) = app.post_body(path, "application/xml", recipe.clone()).await;
    assert_eq!(status, 200, "{body}");
    let steps: Vec<&str> = body["routing"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(steps.len(), 11);
    assert_eq!(steps[2], "Mix Slurry 1");
    // Without equipment for its unit procedures the recipe is refused by name.
    let (status, _, body) = app
        .post_body(
            "/v1/batchml/routing?product=RES-EA100",
            "application/xml",
            recipe,
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("Make Suspension"),
        "{body}"
    );
}
