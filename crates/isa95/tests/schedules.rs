//! B2MML schedules in as orders and out as an OperationsSchedule: the V0401 sample, the
//! faults each named by request and field, the per-request mode, and the round trips.

use std::path::Path;

use isa95::{
    Isa95Error, OperationsScheduleOut, OrderOptions, PlannedOrder, PlannedSegment, Strictness,
    orders_from_schedule, read_assignments, read_schedule, release_events,
    write_operations_schedule,
};
use model::{
    Catalog, Material, MaterialId, MaterialKind, Mode, OperationRef, Priority, ProductionOrder,
    Routing, RoutingId, Step, StepAlternative, StepDuration, Timestamp, Tracking, UnitId,
};

fn sample(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/samples/b2mml")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

const COURBON: &str = "courbon_v0401_SyncProductionSchedule_PRO-27942.xml";

fn at(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

/// The reference plant with the sample's product `SO1215` (kg) and one recipe making it.
fn plant_with_so1215() -> Catalog {
    let mut plant = sim::reference_plant();
    plant.materials.push(Material {
        id: MaterialId::from("SO1215"),
        name: "Final 1215".into(),
        kind: MaterialKind::Finished,
        uom: "kg".into(),
        tracking: Tracking::Lot,
        family: None,
        lead_time_days: None,
    });
    plant.routings.push(Routing {
        id: RoutingId::from("RCP-SO1215"),
        product: MaterialId::from("SO1215"),
        mode: Mode::Process,
        batch_size: None,
        expected_yield: 1.0,
        steps: vec![Step {
            name: "Weighing".into(),
            alternatives: vec![StepAlternative {
                unit: UnitId::from("R-101"),
                duration: StepDuration::Fixed { minutes: 45.0 },
            }],
            pools: vec![],
            consumes: vec![],
            parameters: vec![],
            max_wait_minutes: None,
            inspection: None,
        }],
    });
    Catalog::new(plant).unwrap()
}

fn request_error(error: Isa95Error) -> isa95::RequestError {
    match error {
        Isa95Error::Request(fault) => fault,
        other => panic!("expected a request fault, got {other:?}"),
    }
}

#[test]
fn the_courbon_schedule_names_a_product_the_reference_plant_does_not_make() {
    let document = read_schedule(&sample(COURBON)).unwrap();
    assert_eq!(document.version, isa95::Version::V0401);
    let catalog = Catalog::new(sim::reference_plant()).unwrap();
    let fault = request_error(
        orders_from_schedule(&document, &catalog, &OrderOptions::default()).unwrap_err(),
    );
    assert_eq!(fault.request, "258456");
    assert_eq!(
        fault.field,
        "SegmentRequirement[0].MaterialRequirement[0].MaterialDefinitionID"
    );
    assert!(fault.message.contains("SO1215"), "{}", fault.message);
}

#[test]
fn the_courbon_schedule_without_a_due_date_is_refused_unless_a_lead_time_is_given() {
    let document = read_schedule(&sample(COURBON)).unwrap();
    let catalog = plant_with_so1215();
    let fault = request_error(
        orders_from_schedule(&document, &catalog, &OrderOptions::default()).unwrap_err(),
    );
    assert_eq!(
        (fault.request.as_str(), fault.field.as_str()),
        ("258456", "EndTime")
    );

    let options = OrderOptions {
        due_after_hours: Some(24.0),
        ..OrderOptions::default()
    };
    let import = orders_from_schedule(&document, &catalog, &options).unwrap();
    assert_eq!(
        import.orders,
        vec![ProductionOrder {
            id: "258456".into(),
            product: "SO1215".into(),
            routing: "RCP-SO1215".into(),
            quantity: 1.0,
            // No StartTime: released when the document was created.
            release: at("2009-12-10T17:14:16Z"),
            due: at("2009-12-11T17:14:16Z"),
            priority: Priority::Medium,
            customer: None,
        }]
    );
    let events = release_events(&import);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].id.as_str(), "b2mml:258456:released");
    assert_eq!(events[0].time, at("2009-12-10T17:14:16Z"));
    // The same document gives the same events, so a second import stores nothing new.
    let again = orders_from_schedule(
        &read_schedule(&sample(COURBON)).unwrap(),
        &catalog,
        &options,
    )
    .unwrap();
    assert_eq!(release_events(&again), events);
}

/// Orders with their routing's steps, unplanned, as the writer takes them.
fn unplanned(orders: &[ProductionOrder], catalog: &Catalog) -> Vec<PlannedOrder> {
    orders
        .iter()
        .map(|order| {
            let routing = catalog.routing(&order.routing).unwrap();
            PlannedOrder {
                order: order.clone(),
                uom: catalog.material(&order.product).unwrap().uom.clone(),
                segments: routing
                    .steps
                    .iter()
                    .enumerate()
                    .map(|(k, step)| PlannedSegment {
                        op: OperationRef::new(order.id.clone(), k as u32),
                        step: step.name.clone(),
                        units: step.alternatives.iter().map(|a| a.unit.clone()).collect(),
                        times: None,
                    })
                    .collect(),
            }
        })
        .collect()
}

#[test]
fn the_courbon_orders_written_as_an_operations_schedule_read_back_the_same() {
    let catalog = plant_with_so1215();
    let options = OrderOptions {
        due_after_hours: Some(24.0),
        ..OrderOptions::default()
    };
    let first = orders_from_schedule(
        &read_schedule(&sample(COURBON)).unwrap(),
        &catalog,
        &options,
    )
    .unwrap();
    let written = write_operations_schedule(&OperationsScheduleOut {
        id: "PRO-27942".into(),
        published: at("2009-12-10T17:14:16Z"),
        requests: unplanned(&first.orders, &catalog),
    });
    let document = read_schedule(&written).unwrap();
    assert_eq!(document.version, isa95::Version::V0700);
    assert_eq!(document.noun, "SyncOperationsSchedule");
    // Written with its due date, the order needs no default any more.
    let second = orders_from_schedule(&document, &catalog, &OrderOptions::default()).unwrap();
    assert_eq!(second.orders, first.orders);
    assert_eq!(release_events(&second), release_events(&first));
    // Nothing is planned, so there is nothing to read back as an assignment.
    assert_eq!(read_assignments(&document).unwrap(), vec![]);
}

#[test]
fn a_plan_written_and_read_back_gives_the_same_assignments_and_times() {
    let catalog = Catalog::new(sim::reference_plant()).unwrap();
    let orders: Vec<ProductionOrder> = catalog.plant().orders.iter().take(6).cloned().collect();
    let mut planned = unplanned(&orders, &catalog);
    let mut expected = Vec::new();
    let mut clock = at("2026-03-02T06:00:00Z");
    for request in &mut planned {
        for (k, segment) in request.segments.iter_mut().enumerate() {
            // The last alternative, so the test does not pass by reading the first unit.
            let unit = segment.units.last().unwrap().clone();
            let start = clock;
            let end = start.plus_minutes(37.0 + k as f64);
            segment.units = vec![unit.clone()];
            segment.times = Some((start, end));
            expected.push(isa95::ReadAssignment {
                op: segment.op.clone(),
                unit,
                start,
                end,
            });
            clock = end.plus_minutes(3.0);
        }
    }
    expected.sort();
    let written = write_operations_schedule(&OperationsScheduleOut {
        id: "plan-7".into(),
        published: at("2026-03-02T05:00:00Z"),
        requests: planned,
    });
    let document = read_schedule(&written).unwrap();
    assert_eq!(document.schedule_id.as_deref(), Some("plan-7"));
    assert_eq!(read_assignments(&document).unwrap(), expected);
    let back = orders_from_schedule(&document, &catalog, &OrderOptions::default()).unwrap();
    assert_eq!(back.orders, orders);
}

/// A V0600 ProductionSchedule with two requests, the second's quantity, start and unit of
/// measure as given (a fault goes there).
fn two_requests(second_quantity: &str, second_start: &str, second_uom: &str) -> String {
    format!(
        r#"<?xml version="1.0"?>
<ProductionSchedule xmlns="http://www.mesa.org/xml/B2MML-V0600">
  <ID>S-1</ID>
  <PublishedDate>2026-03-01T00:00:00Z</PublishedDate>
  <ProductionRequest>
    <ID>ERP-1</ID>
    <StartTime>2026-03-02T00:00:00Z</StartTime>
    <EndTime>2026-03-03T00:00:00Z</EndTime>
    <Priority>1</Priority>
    <SegmentRequirement>
      <ID>10</ID>
      <MaterialProducedRequirement>
        <MaterialDefinitionID>RES-EA100</MaterialDefinitionID>
        <Quantity><QuantityString>2000</QuantityString><UnitOfMeasure>KG</UnitOfMeasure></Quantity>
      </MaterialProducedRequirement>
    </SegmentRequirement>
  </ProductionRequest>
  <ProductionRequest>
    <ID>ERP-2</ID>
    <StartTime>{second_start}</StartTime>
    <EndTime>2026-03-04T00:00:00Z</EndTime>
    <Priority>3</Priority>
    <SegmentRequirement>
      <ID>10</ID>
      <EarliestStartTime>2026-03-02T02:00:00Z</EarliestStartTime>
      <MaterialProducedRequirement>
        <MaterialDefinitionID>RES-EA100</MaterialDefinitionID>
        <Quantity><QuantityString>{second_quantity}</QuantityString><UnitOfMeasure>{second_uom}</UnitOfMeasure></Quantity>
      </MaterialProducedRequirement>
    </SegmentRequirement>
  </ProductionRequest>
</ProductionSchedule>"#
    )
}

#[test]
fn a_v0600_production_schedule_becomes_orders_with_their_priorities() {
    let catalog = Catalog::new(sim::reference_plant()).unwrap();
    let document = read_schedule(&two_requests("1000", "2026-03-02T01:00:00Z", "kg")).unwrap();
    let import = orders_from_schedule(&document, &catalog, &OrderOptions::default()).unwrap();
    let summary: Vec<(&str, &str, f64, Priority, Timestamp)> = import
        .orders
        .iter()
        .map(|o| {
            (
                o.id.as_str(),
                o.routing.as_str(),
                o.quantity,
                o.priority,
                o.release,
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "ERP-1",
                "RCP-EA100",
                2000.0,
                Priority::High,
                at("2026-03-02T00:00:00Z")
            ),
            (
                "ERP-2",
                "RCP-EA100",
                1000.0,
                Priority::Low,
                at("2026-03-02T01:00:00Z")
            ),
        ]
    );
    // No CreationDateTime: the events are dated by the schedule's PublishedDate.
    assert!(
        release_events(&import)
            .iter()
            .all(|e| e.time == at("2026-03-01T00:00:00Z"))
    );
}

#[test]
fn each_fault_names_its_request_and_field_and_refuses_the_document() {
    let catalog = Catalog::new(sim::reference_plant()).unwrap();
    let cases = [
        (
            two_requests("-5", "2026-03-02T01:00:00Z", "kg"),
            "SegmentRequirement[0].MaterialProducedRequirement[0].Quantity.QuantityString",
            "`-5` is not a positive number",
        ),
        (
            two_requests("five", "2026-03-02T01:00:00Z", "kg"),
            "SegmentRequirement[0].MaterialProducedRequirement[0].Quantity.QuantityString",
            "`five` is not a positive number",
        ),
        (
            two_requests("1000", "next tuesday", "kg"),
            "StartTime",
            "`next tuesday` is not a date and time",
        ),
        (
            two_requests("1000", "2026-03-02T01:00:00Z", "lb"),
            "SegmentRequirement[0].MaterialProducedRequirement[0].Quantity.UnitOfMeasure",
            "`lb` is not `kg`",
        ),
        (
            two_requests("1000", "2026-03-05T00:00:00Z", "kg"),
            "EndTime",
            "is before the release",
        ),
    ];
    for (text, field, message) in cases {
        let document = read_schedule(&text).unwrap();
        let fault = request_error(
            orders_from_schedule(&document, &catalog, &OrderOptions::default()).unwrap_err(),
        );
        assert_eq!(fault.request, "ERP-2");
        assert_eq!(fault.field, field);
        assert!(fault.message.contains(message), "{}", fault.message);
    }
}

#[test]
fn per_request_mode_releases_the_good_requests_and_lists_the_bad() {
    let catalog = Catalog::new(sim::reference_plant()).unwrap();
    let document = read_schedule(&two_requests("1000", "not a time", "kg")).unwrap();
    let options = OrderOptions {
        strictness: Strictness::PerRequest,
        ..OrderOptions::default()
    };
    let import = orders_from_schedule(&document, &catalog, &options).unwrap();
    let ids: Vec<&str> = import.orders.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids, ["ERP-1"]);
    assert_eq!(import.refused.len(), 1);
    assert_eq!(
        (
            import.refused[0].request.as_str(),
            import.refused[0].field.as_str()
        ),
        ("ERP-2", "StartTime")
    );
}

#[test]
fn a_repeated_request_id_and_a_document_of_another_kind_are_refused() {
    let catalog = Catalog::new(sim::reference_plant()).unwrap();
    let twice = two_requests("1000", "2026-03-02T01:00:00Z", "kg").replace("ERP-2", "ERP-1");
    let fault = request_error(
        orders_from_schedule(
            &read_schedule(&twice).unwrap(),
            &catalog,
            &OrderOptions::default(),
        )
        .unwrap_err(),
    );
    assert_eq!(
        (fault.request.as_str(), fault.field.as_str()),
        ("ERP-1", "ID")
    );

    let performance = read_schedule(&sample(
        "courbon_v0401_SyncProductionPerformance_PES-53107.xml",
    ));
    assert!(
        matches!(&performance, Err(Isa95Error::Document { message, .. }) if message.contains("not a schedule")),
        "{performance:?}"
    );
    let epcis = read_schedule("<EPCISDocument xmlns='urn:epcglobal:epcis:xsd:2'/>");
    assert!(matches!(epcis, Err(Isa95Error::Document { field, .. }) if field == "xmlns"));
}

#[test]
fn a_v0600_operations_schedule_takes_its_dates_from_nested_segments() {
    // No StartTime or EndTime on the request: the release is the earliest segment start and
    // the due date the latest segment end, nested segments included.
    let text = r#"<OperationsSchedule xmlns="http://www.mesa.org/xml/B2MML-V0600">
  <ID>OS-1</ID>
  <PublishedDate>2026-03-01T00:00:00+01:00</PublishedDate>
  <OperationsRequest>
    <ID>MES-77</ID>
    <Priority>3</Priority>
    <SegmentRequirement>
      <ID>10</ID>
      <EarliestStartTime>2026-03-02T08:00:00+01:00</EarliestStartTime>
      <LatestEndTime>2026-03-02T12:00:00+01:00</LatestEndTime>
      <EquipmentRequirement><EquipmentID>R-102</EquipmentID></EquipmentRequirement>
      <SegmentRequirement>
        <ID>20</ID>
        <EarliestStartTime>2026-03-02T05:30:00Z</EarliestStartTime>
        <LatestEndTime>2026-03-03T18:00:00Z</LatestEndTime>
        <MaterialRequirement>
          <MaterialDefinitionID>RES-PU300</MaterialDefinitionID>
          <MaterialUse>Produced</MaterialUse>
          <Quantity><QuantityString>250.5</QuantityString><UnitOfMeasure>KG</UnitOfMeasure></Quantity>
        </MaterialRequirement>
      </SegmentRequirement>
    </SegmentRequirement>
  </OperationsRequest>
</OperationsSchedule>"#;
    let document = read_schedule(text).unwrap();
    assert_eq!(document.version, isa95::Version::V0600);
    // The offset is kept: midnight at +01:00 is 23:00 UTC the day before.
    assert_eq!(document.created, Some(at("2026-02-28T23:00:00Z")));
    let paths: Vec<&str> = match &document.requests[0] {
        Ok(request) => request.segments.iter().map(|s| s.path.as_str()).collect(),
        Err(fault) => panic!("{fault}"),
    };
    assert_eq!(
        paths,
        [
            "SegmentRequirement[0]",
            "SegmentRequirement[0].SegmentRequirement[0]"
        ]
    );
    let catalog = Catalog::new(sim::reference_plant()).unwrap();
    let import = orders_from_schedule(&document, &catalog, &OrderOptions::default()).unwrap();
    let order = &import.orders[0];
    assert_eq!(order.release, at("2026-03-02T05:30:00Z"));
    assert_eq!(order.due, at("2026-03-03T18:00:00Z"));
    assert_eq!((order.quantity, order.priority), (250.5, Priority::Low));
    assert_eq!(order.routing.as_str(), "RCP-PU300");
}
