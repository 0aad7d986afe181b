//! The trace API over real HTTP: EPCIS capture and query, document import, trace both ways,
//! recall (JSON, CSV, EPCIS) and reconciliation, against an in-memory store.

mod common;

use common::TestApp;

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Value;

fn sample(path: &str) -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/samples");
    std::fs::read_to_string(root.join(path)).unwrap()
}

fn events_of(doc: &Value) -> Vec<Value> {
    doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn epcis_capture_and_query() {
    let app = TestApp::start().await;
    for name in [
        "ObjectEvent.jsonld",
        "AggregationEvent.jsonld",
        "TransformationEvent.jsonld",
        "TransformationEvent_with_digitalLink.jsonld",
        "Combination_of_different_event.jsonld",
    ] {
        let (status, _, body) = app
            .post_body(
                "/epcis/capture",
                "application/ld+json",
                sample(&format!("epcis/{name}")),
            )
            .await;
        assert_eq!(status, 202, "{name}: {body}");
    }
    // The XML binding of an event already captured from JSON-LD is a duplicate.
    let (status, _, body) = app
        .post_body(
            "/epcis/capture",
            "application/xml",
            sample("epcis/TransformationEvent.xml"),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["inserted"], 0);
    assert_eq!(body["duplicates"], 1);

    // A malformed document: 422 naming the event and field, and nothing stored.
    let (_, _, before, _) = app.get_with_headers("/epcis/events?perPage=1000").await;
    let bad = r#"{"type":"EPCISDocument","epcisBody":{"eventList":[
        {"type":"ObjectEvent","eventID":"ok-1","action":"ADD","eventTime":"2020-01-01T00:00:00Z","epcList":["urn:epc:id:sgtin:0614141.107346.9"]},
        {"type":"ObjectEvent","eventID":"bad-2","action":"ADD","eventTime":"2020-01-01T00:00:00Z","epcList":[42]}]}}"#;
    let (status, content_type, problem) = app
        .post_body("/epcis/capture", "application/json", bad)
        .await;
    assert_eq!(status, 422);
    assert_eq!(content_type, "application/problem+json");
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("event 1") && detail.contains("bad-2") && detail.contains("epcList[0]"),
        "{detail}"
    );
    let (_, _, after, _) = app.get_with_headers("/epcis/events?perPage=1000").await;
    assert_eq!(events_of(&before).len(), events_of(&after).len());

    // Query parameters.
    let (status, _, doc, _) = app
        .get_with_headers("/epcis/events?eventType=TransformationEvent")
        .await;
    assert_eq!(status, 200);
    let found = events_of(&doc);
    assert!(!found.is_empty());
    assert!(found.iter().all(|e| e["type"] == "TransformationEvent"));
    let (_, _, doc, _) = app
        .get_with_headers("/epcis/events?EQ_bizStep=shipping")
        .await;
    assert_eq!(events_of(&doc).len(), 1);
    // MATCH_epc in Digital Link form finds the URN-captured serial.
    let (_, _, doc, _) = app
        .get_with_headers(
            "/epcis/events?MATCH_epc=https%3A%2F%2Fid.gs1.org%2F01%2F10614141073464%2F21%2F2018",
        )
        .await;
    assert_eq!(events_of(&doc).len(), 3, "{doc}");
    let (_, _, doc, _) = app.get_with_headers("/epcis/events?GE_eventTime=2013-01-01T00:00:00Z&LT_eventTime=2014-01-01T00:00:00Z&EQ_disposition=in_progress")
        .await;
    assert!(
        events_of(&doc)
            .iter()
            .all(|e| e["eventTime"].as_str().unwrap().starts_with("2013"))
    );
    // Paging.
    let (_, _, all, _) = app.get_with_headers("/epcis/events?perPage=1000").await;
    let total = events_of(&all).len();
    let mut seen = 0;
    let mut path = "/epcis/events?perPage=2".to_owned();
    loop {
        let (status, _, doc, headers) = app.get_with_headers(&path).await;
        assert_eq!(status, 200);
        seen += events_of(&doc).len();
        let Some(link) = headers.get("link") else {
            break;
        };
        let link = link.to_str().unwrap();
        path = link
            .trim_start_matches('<')
            .split('>')
            .next()
            .unwrap()
            .to_owned();
    }
    assert_eq!(seen, total);
    // Unknown parameters are named.
    let (status, _, problem, _) = app.get_with_headers("/epcis/events?EQ_colour=red").await;
    assert_eq!(status, 400);
    assert!(problem["detail"].as_str().unwrap().contains("EQ_colour"));
    // XML answer on request.
    let response = app
        .client
        .get(app.url("/epcis/events?eventType=AggregationEvent"))
        .bearer_auth(&app.token)
        .header("accept", "application/xml")
        .send()
        .await
        .unwrap();
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("<AggregationEvent>")
    );

    // Genealogy from captured events: the lot reaches the four serials.
    let lot = "urn%3Aepc%3Aclass%3Algtin%3A4012345.011111.4444";
    let (status, _, report, _) = app
        .get_with_headers(&format!("/v1/trace/forward/{lot}"))
        .await;
    assert_eq!(status, 200, "{report}");
    let serials = report["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "serial")
        .count();
    assert_eq!(serials, 4);
    assert_eq!(app.store.verify_audit().await.unwrap().first_bad, None);
}

#[tokio::test]
async fn trace_recall_and_reconcile_on_simulated_plant_data() {
    let app = TestApp::start().await;
    let catalog = sim::reference_catalog();
    let options = sim::SimOptions {
        days: 6.0,
        ..sim::SimOptions::default()
    };
    let out = sim::simulate(&catalog, &options, None, |_| {}).unwrap();
    app.store
        .append(&out.events, &store::Actor::system("sim"))
        .await
        .unwrap();

    // A shipped serial, and the batch lots it came from.
    let (serial, customer) = out
        .events
        .iter()
        .find_map(|e| match &e.kind {
            model::EventKind::MaterialShipped {
                serials, customer, ..
            } if !serials.is_empty() => Some((serials[0].to_string(), customer.clone())),
            _ => None,
        })
        .expect("the run ships serials");
    let (status, _, back, _) = app
        .get_with_headers(&format!("/v1/trace/backward/{serial}"))
        .await;
    assert_eq!(status, 200, "{back}");
    let lots: Vec<String> = back["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "lot")
        .map(|n| n["label"].as_str().unwrap().to_owned())
        .collect();
    assert!(!lots.is_empty(), "the serial has upstream lots: {back}");
    // Depth filter: one hop back is the order only.
    let (_, _, shallow, _) = app
        .get_with_headers(&format!("/v1/trace/backward/{serial}?max_depth=1"))
        .await;
    assert_eq!(shallow["nodes"].as_array().unwrap().len(), 2);
    assert_eq!(shallow["tree"]["children"][0]["kind"], "order");

    // Recall from one of those lots reaches the serial and its customer.
    let lot = &lots[0];
    let (status, _, recall, _) = app
        .get_with_headers(&format!("/v1/trace/recall/{lot}"))
        .await;
    assert_eq!(status, 200, "{recall}");
    let serial_item = recall["serials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["label"] == serial.as_str())
        .expect("the recall reaches the serial");
    assert_eq!(serial_item["status"], "shipped");
    assert!(
        recall["customers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["label"] == customer.as_str())
    );
    let response = app
        .client
        .get(app.url(&format!("/v1/trace/recall/{lot}?format=csv")))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = response.text().await.unwrap();
    assert!(csv.starts_with("category,id,label"));
    assert!(csv.contains(&serial));
    let (_, content_type, epcis, _) = app
        .get_with_headers(&format!("/v1/trace/recall/{lot}?format=epcis"))
        .await;
    assert_eq!(content_type, "application/ld+json");
    let dispositions: Vec<&str> = epcis["epcisBody"]["eventList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["disposition"].as_str().unwrap())
        .collect();
    assert!(dispositions.contains(&"recalled"));
    // Unit + time window.
    let unit = out
        .events
        .iter()
        .find_map(|e| match &e.kind {
            model::EventKind::OperationStarted { unit, .. } => Some(unit.to_string()),
            _ => None,
        })
        .unwrap();
    let body = serde_json::json!({ "unit": unit, "from": "2026-03-01T00:00:00Z", "to": "2026-03-10T00:00:00Z" });
    let (status, _, by_unit) = app
        .post_body("/v1/trace/recall", "application/json", body.to_string())
        .await;
    assert_eq!(status, 200, "{by_unit}");
    assert!(!by_unit["orders"].as_array().unwrap().is_empty());

    // Unknown ids are 404 problems.
    let (status, content_type, _, _) = app.get_with_headers("/v1/trace/forward/NO-SUCH-LOT").await;
    assert_eq!(
        (status, content_type.as_str()),
        (404, "application/problem+json")
    );

    // Reconciliation.
    let (status, _, report, _) = app.get_with_headers("/v1/trace/reconcile").await;
    assert_eq!(status, 200);
    assert!(!report["mass_balance"].as_array().unwrap().is_empty());
    assert!(report["orphan_serials"].as_array().unwrap().is_empty());

    // B2MML import through the API links its lot.
    let (status, _, summary) = app
        .post_body(
            "/v1/trace/import?name=PES-53107.xml",
            "application/xml",
            sample("b2mml/courbon_v0401_SyncProductionPerformance_PES-53107.xml"),
        )
        .await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(summary["format"], "b2mml");
    let (_, _, forward, _) = app
        .get_with_headers("/v1/trace/forward/CRBN0001_LOT01")
        .await;
    assert_eq!(forward["nodes"][1]["label"], "53107");
}

fn packing_document(
    event: &str,
    minute: u32,
    parent: &str,
    children: &[&str],
    action: &str,
) -> String {
    serde_json::json!({
        "@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"],
        "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-03-02T07:00:00Z",
        "epcisBody": { "eventList": [{
            "type": "AggregationEvent", "eventID": event,
            "eventTime": format!("2026-03-02T06:{minute:02}:00Z"),
            "eventTimeZoneOffset": "+00:00", "action": action, "parentID": parent,
            "childEPCs": children, "bizStep": "packing",
        }]},
    })
    .to_string()
}

fn reached(report: &Value) -> Vec<String> {
    report["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The server keeps the genealogy index between queries and builds it again when the store
/// changed: a query after an import or a capture sees the new data.
#[tokio::test]
async fn a_query_after_an_import_sees_the_new_data() {
    let app = TestApp::start().await;
    let serial = "urn:epc:id:sgtin:4012345.011111.700";
    let case = "https://id.gs1.org/00/040123450000007005";
    let pallet = "https://id.gs1.org/00/040123450000007012";
    let path = format!("/v1/trace/forward/{}", serial.replace(':', "%3A"));

    // Not there yet (and the index of the store so far is now cached).
    let (status, _, _, _) = app.get_with_headers(&path).await;
    assert_eq!(status, 404);

    let (status, _, body) = app
        .post_body(
            "/v1/trace/import?name=case",
            "application/ld+json",
            packing_document("urn:example:cache-1", 0, case, &[serial], "ADD"),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, _, report, _) = app.get_with_headers(&path).await;
    assert_eq!(status, 200, "{report}");
    let ids = reached(&report);
    assert!(ids.iter().any(|id| id == case), "{ids:?}");
    assert!(!ids.iter().any(|id| id == pallet), "{ids:?}");

    // A capture extends it; the next query follows.
    let (status, _, body) = app
        .post_body(
            "/epcis/capture",
            "application/ld+json",
            packing_document("urn:example:cache-2", 10, pallet, &[case], "ADD"),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let (_, _, report, _) = app.get_with_headers(&path).await;
    assert!(reached(&report).iter().any(|id| id == pallet), "{report}");

    // The serial was taken out of the case (DELETE) before the case went onto the pallet:
    // forward from the serial reaches the case, no longer the pallet.
    let (status, _, body) = app
        .post_body(
            "/epcis/capture",
            "application/ld+json",
            packing_document("urn:example:cache-3", 5, case, &[serial], "DELETE"),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let (_, _, report, _) = app.get_with_headers(&path).await;
    let ids = reached(&report);
    assert!(ids.iter().any(|id| id == case), "{ids:?}");
    assert!(!ids.iter().any(|id| id == pallet), "{ids:?}");
}

/// The cache itself: the same index while nothing is written, another one after a write.
#[tokio::test]
async fn the_index_cache_rebuilds_only_after_a_write() {
    let store = common::reference_store().await;
    let cache = app::trace::IndexCache::default();
    let first = cache.get(&store).await.unwrap();
    let again = cache.get(&store).await.unwrap();
    assert!(Arc::ptr_eq(&first, &again), "nothing was written");
    let actor = store::Actor::new(store::ActorKind::System, "test");
    app::trace::import_text(
        &store,
        "case",
        &packing_document(
            "urn:example:cache-unit-1",
            0,
            "https://id.gs1.org/00/040123450000007005",
            &["urn:epc:id:sgtin:4012345.011111.701"],
            "ADD",
        ),
        &actor,
        model::Timestamp(0),
    )
    .await
    .unwrap();
    let after = cache.get(&store).await.unwrap();
    assert!(!Arc::ptr_eq(&first, &after));
    assert_eq!(after.edge_count(), first.edge_count() + 1);
    assert!(Arc::ptr_eq(&after, &cache.get(&store).await.unwrap()));
}

/// `POST /epcis/capture` used to answer with `Location: /epcis/capture/{number of events}`,
/// which answers 404. A capture is stored before the answer, so there is no capture job to
/// point at: whatever `Location` the answer carries must answer.
#[tokio::test]
async fn a_capture_names_no_location_that_answers_404() {
    let app = TestApp::start().await;
    let document = r#"{"@context":["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"],"type":"EPCISDocument","epcisBody":{"eventList":[
        {"type":"ObjectEvent","eventID":"urn:example:where-1","action":"ADD","eventTime":"2020-01-01T00:00:00Z","eventTimeZoneOffset":"+00:00","epcList":["urn:epc:id:sgtin:0614141.107346.9"]}]}}"#;
    let response = app
        .client
        .post(app.url("/epcis/capture"))
        .bearer_auth(&app.token)
        .header("content-type", "application/ld+json")
        .body(document)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    if let Some(location) = response.headers().get("location") {
        let location = location.to_str().unwrap().to_owned();
        let (status, _, body) = app.get(&location).await;
        assert_eq!(
            status, 200,
            "Location `{location}` answers {status}: {body}"
        );
    }
    let summary: Value = response.json().await.unwrap();
    assert_eq!(summary["inserted"], 1, "{summary}");
}

/// An error declaration captured after the event it retracts (the same eventID, with
/// `errorDeclaration`): the event's links drop out of traces and recalls, which name the
/// retraction; an item only that event named is not found, and the answer says why.
#[tokio::test]
async fn a_retracted_event_drops_out_and_the_answers_say_so() {
    let app = TestApp::start().await;
    let serial = "urn:epc:id:sgtin:4012345.011111.800";
    let case = "https://id.gs1.org/00/040123450000008002";
    let pallet = "https://id.gs1.org/00/040123450000008019";
    for (event, minute, parent, child) in [
        ("urn:example:retract-1", 0, case, serial),
        ("urn:example:retract-2", 10, pallet, case),
    ] {
        let (status, _, body) = app
            .post_body(
                "/epcis/capture",
                "application/ld+json",
                packing_document(event, minute, parent, &[child], "ADD"),
            )
            .await;
        assert_eq!(status, 202, "{body}");
    }
    let serial_path = format!("/v1/trace/forward/{}", serial.replace(':', "%3A"));
    let (status, _, report, _) = app.get_with_headers(&serial_path).await;
    assert_eq!(status, 200, "{report}");
    assert!(reached(&report).iter().any(|id| id == pallet), "{report}");
    assert_eq!(report["retracted"], serde_json::json!([]));
    let serial_id = reached(&report)[0].clone();

    // The packing of the serial into the case did not happen: the same event, declared in
    // error, in a later capture.
    let mut declaration: Value = serde_json::from_str(&packing_document(
        "urn:example:retract-1",
        0,
        case,
        &[serial],
        "ADD",
    ))
    .unwrap();
    declaration["epcisBody"]["eventList"][0]["errorDeclaration"] = serde_json::json!({
        "declarationTime": "2026-03-02T08:00:00Z", "reason": "did_not_occur",
    });
    let (status, _, body) = app
        .post_body(
            "/epcis/capture",
            "application/ld+json",
            declaration.to_string(),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["inserted"], 1, "{body}");

    // The serial was only in that event: not found, and the answer names the retraction.
    let (status, _, problem, _) = app.get_with_headers(&serial_path).await;
    assert_eq!(status, 404, "{problem}");
    let detail = problem["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("retracted")
            && detail.contains("urn:example:retract-1")
            && detail.contains("did_not_occur"),
        "{problem}"
    );
    // The case is still on the pallet; its trace shows the retraction that named it.
    let case_path = format!(
        "/v1/trace/forward/{}",
        case.replace(':', "%3A").replace('/', "%2F")
    );
    let (status, _, report, _) = app.get_with_headers(&case_path).await;
    assert_eq!(status, 200, "{report}");
    assert!(reached(&report).iter().any(|id| id == pallet), "{report}");
    assert!(
        !reached(&report).iter().any(|id| id.contains("011111")),
        "{report}"
    );
    let retracted = report["retracted"].as_array().expect("a list");
    assert_eq!(retracted.len(), 1, "{report}");
    assert_eq!(retracted[0]["event_id"], "urn:example:retract-1");
    assert_eq!(retracted[0]["reason"], "did_not_occur");
    assert!(
        retracted[0]["ids"]
            .as_array()
            .unwrap()
            .iter()
            .any(|id| id == case),
        "{report}"
    );
    // A recall from the case reaches the pallet, not the serial, and names the retraction.
    let (status, _, recall, _) = app
        .get_with_headers(&format!(
            "/v1/trace/recall/{}",
            case.replace(':', "%3A").replace('/', "%2F")
        ))
        .await;
    assert_eq!(status, 200, "{recall}");
    assert!(recall.to_string().contains(pallet), "{recall}");
    let affected: Vec<&Value> = ["orders", "lots", "serials", "pallets", "other"]
        .iter()
        .flat_map(|list| recall[*list].as_array().unwrap())
        .collect();
    assert!(
        affected.iter().all(|item| item["id"] != serial_id.as_str()),
        "{recall}"
    );
    assert_eq!(
        recall["retracted"][0]["event_id"], "urn:example:retract-1",
        "{recall}"
    );
}

/// A document a conformant EPCIS 2.0 capture interface refuses is refused whole, at capture
/// and at import, with the rule named; nothing of it is stored. The lenient mode takes it.
#[tokio::test]
async fn a_document_that_breaks_a_capture_rule_is_refused_whole_with_the_rule_named() {
    let app = TestApp::start().await;
    let good: Value = serde_json::from_str(&packing_document(
        "urn:example:rule-1",
        0,
        "https://id.gs1.org/00/040123450000009009",
        &["urn:epc:id:sgtin:4012345.011111.900"],
        "ADD",
    ))
    .unwrap();
    let mut no_context = good.clone();
    no_context.as_object_mut().unwrap().remove("@context");
    let mut not_cbv = good.clone();
    not_cbv["epcisBody"]["eventList"][0]["bizStep"] = Value::from("sorting");
    let mut bare_ilmd = good.clone();
    bare_ilmd["epcisBody"]["eventList"][0]["ilmd"] = serde_json::json!({"lotNumber": "L1"});
    let mut no_offset = good.clone();
    no_offset["epcisBody"]["eventList"][0]
        .as_object_mut()
        .unwrap()
        .remove("eventTimeZoneOffset");
    let mut id_not_uri = good.clone();
    id_not_uri["epcisBody"]["eventList"][0]["eventID"] = Value::from("rule 1");
    for (document, rule, field) in [
        (&no_context, "context-required", "@context"),
        (&not_cbv, "cbv-bizstep", "bizStep"),
        (&bare_ilmd, "ilmd-namespace", "ilmd.lotNumber"),
        (&no_offset, "required-field", "eventTimeZoneOffset"),
        (&id_not_uri, "value-format", "eventID"),
    ] {
        for path in ["/epcis/capture", "/v1/trace/import?name=rules"] {
            let (status, _, problem) = app
                .post_body(path, "application/ld+json", document.to_string())
                .await;
            assert_eq!(status, 422, "{path}: {problem}");
            let detail = problem["detail"].as_str().unwrap_or_default();
            assert!(
                detail.contains(rule) && detail.contains(field),
                "{path}: {detail}"
            );
        }
    }
    let (_, _, stored, _) = app.get_with_headers("/epcis/events?perPage=1000").await;
    assert!(events_of(&stored).is_empty(), "{stored}");
    // The conformant one is taken; the lenient mode takes the others too.
    let (status, _, body) = app
        .post_body("/epcis/capture", "application/ld+json", good.to_string())
        .await;
    assert_eq!(status, 202, "{body}");
    for document in [&no_context, &not_cbv, &bare_ilmd, &no_offset, &id_not_uri] {
        let text = document.to_string();
        assert!(trace::import::read_held(&text, model::Timestamp(0), true).is_err());
        trace::import::read_held(&text, model::Timestamp(0), false).unwrap();
    }
}
