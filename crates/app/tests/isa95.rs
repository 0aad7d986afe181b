//! ISA-95 documents through the use-cases over a real store (SQLite in memory): a schedule's
//! orders released once however often it is imported, a refused document storing nothing,
//! the plan in force exported and read back, a recipe added to the plant.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use app::App;
use app::schedule::in_force::{MakePlanRequest, make_plan, view};
use govern::{Principal, PrincipalKind, Role, Scope};
use isa95::{OrderOptions, RecipeOptions, Strictness};
use model::{OrderId, Priority, Timestamp};

async fn reference_app() -> App {
    let store = Arc::new(store::test_support::private_store().await.unwrap());
    store
        .put_plant(sim::reference_plant(), &store::Actor::system("test"))
        .await
        .unwrap();
    App::new(store).with_clock(app::FixedClock(
        Timestamp::parse("2026-03-02T05:00:00Z").unwrap(),
    ))
}

fn planner() -> Principal {
    Principal::new("pat", PrincipalKind::Person, Role::Planner, Scope::All)
}

const SCHEDULE: &str = r#"<SyncProductionSchedule xmlns="http://www.mesa.org/xml/B2MML-V0600" releaseID="6.0">
  <ApplicationArea><CreationDateTime>2026-03-01T12:00:00Z</CreationDateTime></ApplicationArea>
  <DataArea>
    <Sync/>
    <ProductionSchedule>
      <ID>ERP-WEEK-10</ID>
      <ProductionRequest>
        <ID>ERP-7001</ID>
        <StartTime>2026-03-02T06:00:00Z</StartTime>
        <EndTime>2026-03-04T18:00:00Z</EndTime>
        <Priority>1</Priority>
        <SegmentRequirement>
          <ID>1</ID>
          <MaterialProducedRequirement>
            <MaterialDefinitionID>RES-PU300</MaterialDefinitionID>
            <Quantity><QuantityString>1000</QuantityString><UnitOfMeasure>kg</UnitOfMeasure></Quantity>
          </MaterialProducedRequirement>
        </SegmentRequirement>
      </ProductionRequest>
      <ProductionRequest>
        <ID>ERP-7002</ID>
        <EndTime>2026-03-05T18:00:00Z</EndTime>
        <SegmentRequirement>
          <ID>1</ID>
          <MaterialProducedRequirement>
            <MaterialDefinitionID>UNKNOWN-X</MaterialDefinitionID>
            <Quantity><QuantityString>5</QuantityString></Quantity>
          </MaterialProducedRequirement>
        </SegmentRequirement>
      </ProductionRequest>
    </ProductionSchedule>
  </DataArea>
</SyncProductionSchedule>"#;

#[tokio::test]
async fn a_schedule_with_a_bad_request_stores_nothing_unless_taken_per_request() {
    let app = reference_app().await;
    let before = app.store.counts().await.unwrap().events;
    let error = app::isa95::import_schedule(&app, &planner(), SCHEDULE, &OrderOptions::default())
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("ERP-7002") && message.contains("UNKNOWN-X"),
        "{message}"
    );
    assert_eq!(app.store.counts().await.unwrap().events, before);

    let per_request = OrderOptions {
        strictness: Strictness::PerRequest,
        ..OrderOptions::default()
    };
    let first = app::isa95::import_schedule(&app, &planner(), SCHEDULE, &per_request)
        .await
        .unwrap();
    assert_eq!(first.orders, vec![OrderId::from("ERP-7001")]);
    assert_eq!((first.inserted, first.duplicates), (1, 0));
    assert_eq!(first.refused[0].request, "ERP-7002");
    let state = app.store.snapshot().await.state;
    let order = &state.orders[&OrderId::from("ERP-7001")].order;
    assert_eq!(order.routing.as_str(), "RCP-PU300");
    assert_eq!(order.priority, Priority::High);
    assert_eq!(order.quantity, 1000.0);

    // The same document again stores nothing new.
    let again = app::isa95::import_schedule(&app, &planner(), SCHEDULE, &per_request)
        .await
        .unwrap();
    assert_eq!((again.inserted, again.duplicates), (0, 1));
    assert_eq!(app.store.counts().await.unwrap().events, before + 1);
}

#[tokio::test]
async fn the_plan_in_force_exported_reads_back_with_the_same_assignments_and_orders() {
    let app = reference_app().await;
    let error = app::isa95::export_schedule(&app, &planner())
        .await
        .unwrap_err();
    assert!(error.to_string().contains("no plan is in force"), "{error}");
    make_plan(
        &app,
        &planner(),
        MakePlanRequest {
            time_limit_seconds: Some(0.5),
            seed: 3,
            reason: None,
        },
    )
    .await
    .unwrap();
    let text = app::isa95::export_schedule(&app, &planner()).await.unwrap();
    let document = isa95::read_schedule(&text).unwrap();
    assert_eq!(document.version, isa95::Version::V0700);
    assert_eq!(document.created, Some(app.now()));

    let plan = view(&app, &planner()).await.unwrap().unwrap();
    let mut expected: Vec<(String, String, Timestamp, Timestamp)> = plan
        .assignments
        .iter()
        .map(|a| (a.op.clone(), a.unit.clone(), a.start_at, a.end_at))
        .collect();
    expected.sort();
    let read: Vec<(String, String, Timestamp, Timestamp)> = isa95::read_assignments(&document)
        .unwrap()
        .into_iter()
        .map(|a| (a.op.to_string(), a.unit.to_string(), a.start, a.end))
        .collect();
    assert!(!read.is_empty());
    assert_eq!(read, expected);

    // The orders read back are the plant's orders the plan places, but for the customer,
    // which an ISA-95 request does not carry.
    let catalog = app.catalog().await.unwrap();
    let back = isa95::orders_from_schedule(&document, &catalog, &OrderOptions::default()).unwrap();
    let state = app.store.snapshot().await.state;
    let placed: std::collections::BTreeSet<&str> = plan
        .assignments
        .iter()
        .map(|a| a.op.rsplit_once('/').unwrap().0)
        .collect();
    let ids: std::collections::BTreeSet<&str> = back.orders.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids, placed);
    for order in &back.orders {
        let mut stored = state.orders[&order.id].order.clone();
        stored.customer = None;
        assert_eq!(order, &stored);
    }
}

fn recipe() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/samples/batchml/batchml_v02_cough_syrup_master_recipe.xml");
    std::fs::read_to_string(path).unwrap()
}

#[tokio::test]
async fn a_recipe_becomes_a_routing_of_the_stored_plant_once() {
    let app = reference_app().await;
    let options = RecipeOptions {
        routing: Some("RCP-COUGH".into()),
        product: Some("RES-EA220".into()),
        equipment: BTreeMap::from([
            ("Make Suspension".to_owned(), "WC-RX".to_owned()),
            ("Package Suspension".to_owned(), "WC-FILT".to_owned()),
        ]),
        default_step_minutes: Some(20.0),
    };
    let import = app::isa95::import_recipe(&app, &planner(), &recipe(), &options)
        .await
        .unwrap();
    let catalog = app.catalog().await.unwrap();
    assert_eq!(catalog.routing(&"RCP-COUGH".into()), Some(&import.routing));
    assert_eq!(import.routing.steps.len(), 11);
    // Again: the same routing is already there, nothing changes.
    app::isa95::import_recipe(&app, &planner(), &recipe(), &options)
        .await
        .unwrap();
    // Another recipe under the same id is refused by name.
    let other = RecipeOptions {
        default_step_minutes: Some(25.0),
        ..options
    };
    let error = app::isa95::import_recipe(&app, &planner(), &recipe(), &other)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("RCP-COUGH"), "{error}");
}
