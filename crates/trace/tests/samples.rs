//! Every EPCIS and B2MML document in `testdata/samples` is read; the EPCIS ones round-trip
//! (import → export → import gives the same events, in both bindings), and the links they
//! establish are the ones the documents describe.

mod sample_files;

use std::collections::BTreeMap;

use model::Timestamp;
use trace::epcis::query::EventQuery;
use trace::epcis::{self, EpcisEvent};
use trace::import::{Imported, read};
use trace::{Direction, EdgeKind, Genealogy, Id, IdKind, Index, TraceRequest};

use sample_files::samples;

fn t0() -> Timestamp {
    Timestamp::parse("2026-01-01T00:00:00Z").unwrap()
}

fn epcis_doc(name: &str, text: &str) -> epcis::EpcisDocument {
    match read(text, t0()).unwrap_or_else(|e| panic!("{name}: {e}")) {
        Imported::Epcis(doc) => doc,
        other => panic!("{name}: read as {:?}", other.format()),
    }
}

fn all_epcis() -> BTreeMap<String, Vec<EpcisEvent>> {
    samples("epcis")
        .into_iter()
        .filter(|(name, _)| !name.starts_with("query_SimpleEventQuery"))
        .map(|(name, text)| {
            let doc = epcis_doc(&name, &text);
            (name, doc.events)
        })
        .collect()
}

#[test]
fn every_epcis_sample_reads_and_round_trips_in_both_bindings() {
    let mut read_count = 0;
    for (name, text) in samples("epcis") {
        if name.starts_with("query_SimpleEventQuery") {
            continue;
        }
        let doc = epcis_doc(&name, &text);
        assert!(!doc.events.is_empty(), "{name}: no events");
        let json = epcis::json::document(&doc.events, &doc.namespaces, t0()).to_string();
        let again = epcis_doc(&name, &json);
        assert_eq!(again.events, doc.events, "{name}: JSON-LD round trip");
        let xml = epcis::xml::document(&doc.events, &doc.namespaces, t0());
        let again = epcis_doc(&name, &xml);
        assert_eq!(
            again.events.len(),
            doc.events.len(),
            "{name}: XML round trip count"
        );
        // XML → XML is exact for every document (sensor data included).
        let xml2 = epcis::xml::document(&again.events, &again.namespaces, t0());
        assert_eq!(
            epcis_doc(&name, &xml2).events,
            again.events,
            "{name}: XML round trip"
        );
        // JSON → XML → JSON is exact where no sensor data or nested extension arrays are involved.
        let plain = doc.events.iter().all(|e| {
            e.sensor_element_list.is_empty()
                && e.extensions
                    .values()
                    .chain(e.ilmd.values())
                    .all(|v| v.is_string())
        });
        if plain {
            assert_eq!(again.events, doc.events, "{name}: JSON → XML → JSON");
        }
        read_count += 1;
    }
    assert_eq!(read_count, 17);
}

#[test]
fn xml_and_json_bindings_of_the_same_events_agree() {
    let all = all_epcis();
    for kind in ["TransformationEvent", "AggregationEvent"] {
        let json = &all[&format!("{kind}.jsonld")];
        let xml = &all[&format!("{kind}.xml")];
        assert_eq!(json, xml, "{kind}");
    }
}

#[test]
fn digital_link_and_urn_samples_name_the_same_things() {
    let all = all_epcis();
    let urn = &all["TransformationEvent.jsonld"][0];
    let dl = &all["TransformationEvent_with_digitalLink.jsonld"][0];
    assert_eq!(
        urn.input_quantity_list[1].epc_class,
        dl.input_quantity_list[1].epc_class
    );
    assert_eq!(
        urn.input_quantity_list[2].epc_class,
        dl.input_quantity_list[2].epc_class
    );
    assert_eq!(urn.output_epc_list, dl.output_epc_list);
    let obj = &all["ObjectEvent_with_digitalLink.jsonld"][0];
    assert_eq!(
        obj.quantity_list[0].epc_class,
        Id::parse("urn:epc:class:lgtin:0614141.712345.998877")
            .unwrap()
            .id
    );
}

#[test]
fn transformation_links_batch_inputs_to_serial_outputs() {
    let all = all_epcis();
    let index = Index::build(&epcis::lower(&all["TransformationEvent.jsonld"]));
    let lot = "urn:epc:class:lgtin:4012345.011111.4444";
    let report = trace::trace(&index, lot, Direction::Forward, &TraceRequest::default()).unwrap();
    let serials: Vec<_> = report
        .nodes
        .iter()
        .filter(|n| n.kind == IdKind::Serial)
        .map(|n| n.id.to_string())
        .collect();
    assert_eq!(serials.len(), 4);
    for s in 25..=28 {
        let id = Id::parse(&format!("urn:epc:id:sgtin:4012345.077889.{s}"))
            .unwrap()
            .id;
        assert!(serials.contains(&id));
        // And back: the serial comes from the lot, in 10 KGM.
        let back =
            trace::trace(&index, &id, Direction::Backward, &TraceRequest::default()).unwrap();
        let step = back
            .nodes
            .iter()
            .find(|n| n.id == Id::parse(lot).unwrap().id)
            .unwrap();
        assert_eq!(step.quantity, Some(10.0));
        assert_eq!(step.uom.as_deref(), Some("KGM"));
        assert_eq!(step.via, Some(EdgeKind::ConsumedInto));
    }
    assert_eq!(report.tree.children.len(), 1, "lot → transformation");
    assert_eq!(report.tree.children[0].children.len(), 4);
}

#[test]
fn aggregation_packs_serials_and_a_lot_into_the_sscc() {
    let all = all_epcis();
    let g = epcis::lower(&all["AggregationEvent.xml"]);
    let sscc = Id::parse("urn:epc:id:sscc:0614141.1234567890").unwrap().id;
    let packed: Vec<_> = g
        .edges
        .iter()
        .filter(|e| e.kind == EdgeKind::PackedInto && e.to.id == sscc)
        .collect();
    assert_eq!(packed.len(), 4, "2 serials, 1 class pattern, 1 lot");
    assert!(
        packed
            .iter()
            .any(|e| e.quantity == Some(200.5) && e.uom.as_deref() == Some("KGM"))
    );
}

#[test]
fn error_declarations_retract_links_and_persistent_dispositions_hold() {
    let all = all_epcis();
    let events = &all["ObjectEvent_with_error_declaration.jsonld"];
    assert!(events[0].error_declaration.is_some());
    let retracted = epcis::retracted(events);
    assert!(retracted.contains(events[0].event_id.as_str()));
    let g = epcis::lower(events);
    assert!(g.observations.iter().all(|o| o.event != events[0].event_id));
    assert!(g.observations.iter().any(|o| o.event == events[1].event_id));

    // persistentDisposition set/unset folds; a hold disposition puts items on hold.
    let events = &all["ObjectEvent_with_persistentDisposition.jsonld"];
    let pd = events[1].persistent_disposition.as_ref().unwrap();
    assert_eq!(pd.set, ["completeness_verified"]);
    assert_eq!(pd.unset, ["completeness_inferred"]);
    let mut held = events.clone();
    held[1]
        .persistent_disposition
        .as_mut()
        .unwrap()
        .set
        .push("non_conformant".into());
    let index = Index::build(&epcis::lower(&held));
    let serial = index
        .resolve("urn:epc:id:sgtin:9520001.012346.10000001001")
        .unwrap();
    assert!(index.is_held(serial));
    assert_eq!(
        trace::recall::status(&index, serial),
        trace::recall::Status::OnHold
    );
    let index = Index::build(&epcis::lower(events));
    assert!(!index.is_held(serial));
}

#[test]
fn combination_document_has_all_five_types_and_transactions_link() {
    let all = all_epcis();
    let events = &all["Combination_of_different_event.jsonld"];
    let types: std::collections::BTreeSet<_> = events.iter().map(|e| e.event_type).collect();
    assert_eq!(types.len(), 5);
    let g = epcis::lower(&all["TransactionEvent.jsonld"]);
    assert!(g.edges.iter().any(|e| e.kind == EdgeKind::Transaction));
    let g = epcis::lower(&all["AssociationEvent.jsonld"]);
    assert!(g.edges.iter().any(|e| e.kind == EdgeKind::Associated));
    let g = epcis::lower(&all["ObjectEvent.jsonld"]);
    let keys = &all["epcisDocWithAllGS1Keys.jsonld"][0];
    assert_eq!(
        keys.epc_list[1], keys.epc_list[2],
        "SSCC as URN and as Digital Link"
    );
    assert!(g.edges.iter().any(|e| e.kind == EdgeKind::Transaction));
}

#[test]
fn the_simple_event_query_sample_reads_and_filters() {
    let (_, text) = samples("epcis")
        .into_iter()
        .find(|(n, _)| n == "query_SimpleEventQuery.json")
        .unwrap();
    let Imported::Query(query) = read(&text, t0()).unwrap() else {
        panic!("not read as a query")
    };
    assert_eq!(query.biz_steps, ["shipping"]);
    assert_eq!(query.dispositions, ["in_transit"]);
    assert!(query.descending);
    let all = all_epcis();
    // The sample's time window is 2026; the sample events are older, so nothing matches …
    assert!(all.values().flatten().all(|e| !query.matches(e)));
    // … but without the window the shipping event of ObjectEvent.jsonld carries the EPC.
    let open = EventQuery {
        ge_event_time: None,
        lt_event_time: None,
        biz_locations: vec![],
        ge_quantity: None,
        lt_quantity: None,
        match_epc: vec![
            Id::parse("urn:epc:id:sgtin:0614141.107346.2017")
                .unwrap()
                .id,
        ],
        ..*query
    };
    assert!(open.matches(&all["ObjectEvent.jsonld"][0]));
    assert!(!open.matches(&all["ObjectEvent.jsonld"][1]));
}

#[test]
fn every_b2mml_sample_reads_and_performance_links_the_lot() {
    let mut genealogy = Genealogy::default();
    let mut versions = Vec::new();
    for (name, text) in samples("b2mml") {
        let Imported::B2mml(doc) = read(&text, t0()).unwrap_or_else(|e| panic!("{name}: {e}"))
        else {
            panic!("{name}: not B2MML")
        };
        versions.push(doc.version);
        if name.contains("ProductionPerformance") {
            assert_eq!(doc.material_actuals, 1);
        }
        if name.contains("MaterialInformation") {
            assert_eq!(doc.material_lots, if name.contains("INV") { 2 } else { 1 });
        }
        genealogy.extend(doc.genealogy);
    }
    assert!(versions.contains(&trace::b2mml::Version::V0401));
    assert!(versions.contains(&trace::b2mml::Version::V0600));
    let index = Index::build(&genealogy);
    let report = trace::trace(
        &index,
        "CRBN0001_LOT01",
        Direction::Forward,
        &TraceRequest::default(),
    )
    .unwrap();
    assert_eq!(report.nodes[1].id, "urn:mixplane:order:53107");
    assert_eq!(report.nodes[1].quantity, Some(0.41));
    assert_eq!(report.nodes[1].uom.as_deref(), Some("KG"));
    // The NotValid sub-lot is on hold.
    let sub = index.resolve("CRBN0001_LOT01_01").unwrap();
    assert!(index.is_held(sub));
}

#[test]
fn b2mml_v0600_and_v0700_performance_documents_read() {
    for ns in [
        "http://www.mesa.org/xml/B2MML-V0600",
        "http://www.mesa.org/xml/B2MML",
    ] {
        let (noun, response) = if ns.ends_with("V0600") {
            ("ProductionPerformance", "ProductionResponse")
        } else {
            ("OperationsPerformance", "OperationsResponse")
        };
        let text = format!(
            r#"<Sync{noun} xmlns="{ns}"><DataArea><Sync/><{noun}><{response}><ID>WO-9</ID>
            <SegmentResponse><ID>Mix</ID><ActualEndTime>2026-03-02T08:00:00Z</ActualEndTime>
            <EquipmentActual><EquipmentID>R-101</EquipmentID></EquipmentActual>
            <MaterialActual><MaterialDefinitionID>RESIN</MaterialDefinitionID><MaterialLotID>L-1</MaterialLotID>
              <MaterialUse>Consumed</MaterialUse><Quantity><QuantityString>12.5</QuantityString><UnitOfMeasure>kg</UnitOfMeasure></Quantity></MaterialActual>
            <MaterialActual><MaterialDefinitionID>BATCH</MaterialDefinitionID><MaterialLotID>B-7</MaterialLotID>
              <MaterialUse>Produced</MaterialUse><Quantity><QuantityString>12</QuantityString><UnitOfMeasure>kg</UnitOfMeasure></Quantity></MaterialActual>
            </SegmentResponse></{response}></{noun}></DataArea></Sync{noun}>"#
        );
        let doc = trace::b2mml::parse(&text, t0()).unwrap();
        assert_eq!(doc.material_actuals, 2);
        let index = Index::build(&doc.genealogy);
        let back =
            trace::trace(&index, "B-7", Direction::Backward, &TraceRequest::default()).unwrap();
        assert!(back.nodes.iter().any(|n| n.id == "urn:mixplane:lot:L-1"));
        assert_eq!(
            back.nodes[1].location.as_deref(),
            Some("urn:mixplane:unit:R-101")
        );
    }
}

#[test]
fn malformed_input_names_the_event_and_field() {
    let bad_time = r#"{"type":"EPCISDocument","epcisBody":{"eventList":[
        {"type":"ObjectEvent","action":"ADD","eventTime":"2020-01-01T00:00:00Z","eventTimeZoneOffset":"+00:00","epcList":[]},
        {"type":"ObjectEvent","eventID":"e-2","action":"ADD","eventTime":"yesterday","eventTimeZoneOffset":"+00:00"}]}}"#;
    let e = read(bad_time, t0()).unwrap_err();
    assert_eq!(e.index, Some(1));
    assert_eq!(e.event_id.as_deref(), Some("e-2"));
    assert_eq!(e.field, "eventTime");
    assert!(e.to_string().contains("nothing imported"));
    let unknown = r#"[{"type":"ObjectEvent","action":"ADD","eventTime":"2020-01-01T00:00:00Z","colour":"red"}]"#;
    assert_eq!(read(unknown, t0()).unwrap_err().field, "colour");
    let bad_type = r#"[{"type":"TeleportEvent","eventTime":"2020-01-01T00:00:00Z"}]"#;
    assert_eq!(read(bad_type, t0()).unwrap_err().field, "type");
    let bad_epc = r#"[{"type":"ObjectEvent","action":"ADD","eventTime":"2020-01-01T00:00:00Z","epcList":["ok:1",""]}]"#;
    assert_eq!(read(bad_epc, t0()).unwrap_err().field, "epcList[1]");
    let bad_action = "<epcis:EPCISDocument xmlns:epcis='urn:epcglobal:epcis:xsd:2'><EPCISBody><EventList><ObjectEvent><eventTime>2020-01-01T00:00:00Z</eventTime><eventID>x</eventID><action>JUMP</action></ObjectEvent></EventList></EPCISBody></epcis:EPCISDocument>";
    let e = read(bad_action, t0()).unwrap_err();
    assert_eq!((e.index, e.field.as_str()), (Some(0), "action"));
    let bad_qty = "<SyncProductionPerformance xmlns='http://www.wbf.org/xml/B2MML-V0401'><DataArea><ProductionPerformance><ProductionResponse><ID>1</ID><SegmentResponse><MaterialActual><MaterialLotID>L</MaterialLotID><MaterialUse>Consumed</MaterialUse><Quantity><QuantityString>lots</QuantityString></Quantity></MaterialActual></SegmentResponse></ProductionResponse></ProductionPerformance></DataArea></SyncProductionPerformance>";
    let e = read(bad_qty, t0()).unwrap_err();
    assert_eq!(e.field, "MaterialActual.Quantity.QuantityString");
    assert!(read("<Foo xmlns='urn:nope'/>", t0()).is_err());
    assert!(read("{not json", t0()).is_err());
}
