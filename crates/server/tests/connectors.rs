//! The connectors over real HTTP: `GET /v1/connectors` shows a configured connector's state,
//! stored cursor, lag and dead-letter count; `GET /v1/connectors/{name}/dead-letters` pages
//! its dead letters with the one paging convention; an area-scoped reader sees the status but
//! not the raw records; a batch is audited as the connector's principal naming it.

mod common;

use app::connectors::IncomingRecord;
use common::{Setup, TestApp};
use govern::{Principal, PrincipalKind, Role, Scope};
use serde_json::json;

async fn with_a_connector() -> (TestApp, Vec<model::Event>) {
    let app = TestApp::with(Setup {
        caller: Some(("admin", Role::Admin)),
        ..Setup::default()
    })
    .await;
    let catalog = sim::reference_catalog();
    let options = sim::SimOptions {
        days: 1.0,
        ..sim::SimOptions::default()
    };
    let events = sim::simulate(&catalog, &options, None, |_| {})
        .unwrap()
        .events;
    app.app
        .connectors
        .register("line-3", "jsonl", "connector-line-3");
    let principal = Principal::new(
        "connector-line-3",
        PrincipalKind::Service,
        Role::Operator,
        Scope::All,
    );
    let ok = |i: usize| IncomingRecord {
        source_id: format!("events.jsonl@{i}"),
        mapped: Ok(vec![events[i].clone()]),
        raw: json!({"line": i}),
    };
    let poison = |i: usize| IncomingRecord {
        source_id: format!("events.jsonl@{i}"),
        mapped: Err(format!("line {i} is not an event")),
        raw: json!(format!("garbage {i}")),
    };
    // The same id as the first event with other content: the log refuses it as a conflict.
    let mut conflicting = events[0].clone();
    conflicting.time = model::Timestamp(conflicting.time.0 + 1);
    let conflict = IncomingRecord {
        source_id: "events.jsonl@9".into(),
        mapped: Ok(vec![conflicting]),
        raw: json!("conflict"),
    };
    let outcome = app::connectors::ingest_batch(
        &app.app,
        &principal,
        "line-3",
        vec![ok(0), poison(1), ok(2), poison(3), conflict],
        Some("42".into()),
    )
    .await
    .unwrap();
    assert_eq!(outcome.append.inserted, 2);
    assert_eq!(outcome.dead_lettered, 3);
    assert_eq!(outcome.dead_letters_new, 3);
    (app, events)
}

#[tokio::test]
async fn connectors_show_their_cursor_lag_and_dead_letters() {
    let (app, events) = with_a_connector().await;
    let (status, _, answer) = app.get("/v1/connectors").await;
    assert_eq!(status, 200, "{answer}");
    let items = answer["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    let line = &items[0];
    assert_eq!(line["name"], "line-3");
    assert_eq!(line["kind"], "jsonl");
    assert_eq!(line["principal"], "connector-line-3");
    assert_eq!(line["state"], "starting");
    assert_eq!(line["cursor"], "42");
    assert_eq!(line["dead_letter_count"], 3);
    assert_eq!(line["counters"]["polls"], 0);
    let newest = events[0].time.0.max(events[2].time.0);
    let lag = line["lag_seconds"].as_f64().unwrap();
    let expected = (app.app.now().0 - newest) as f64 / 1000.0;
    assert!(
        (lag - expected).abs() < 60.0,
        "lag {lag}, expected about {expected}"
    );

    // The batch is audited as the connector's principal, naming it, its cursor and letters.
    let (_, _, audit) = app.get("/v1/audit?limit=1000").await;
    let append = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["action"] == "events.append")
        .expect("an events.append record");
    assert_eq!(append["actor"]["id"], "connector-line-3");
    assert_eq!(append["detail"]["connector"]["name"], "line-3");
    assert_eq!(append["detail"]["connector"]["cursor"], "42");
    assert_eq!(
        append["detail"]["connector"]["dead_letters"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[tokio::test]
async fn dead_letters_page_with_the_one_convention() {
    let (app, _) = with_a_connector().await;
    let (status, _, first, headers) = app
        .get_with_headers("/v1/connectors/line-3/dead-letters?limit=2")
        .await;
    assert_eq!(status, 200, "{first}");
    let items = first["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["source_id"], "events.jsonl@1");
    assert_eq!(items[0]["reason"], "line 1 is not an event");
    assert_eq!(items[0]["raw"], "garbage 1");
    assert_eq!(items[0]["connector"], "line-3");
    let next = first["next"].as_str().expect("a next page");
    assert!(
        next.starts_with("/v1/connectors/line-3/dead-letters?"),
        "{next}"
    );
    assert!(headers["link"].to_str().unwrap().contains("rel=\"next\""));
    let (status, _, second) = app.get(next).await;
    assert_eq!(status, 200, "{second}");
    let rest = second["items"].as_array().unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0]["source_id"], "events.jsonl@9");
    assert!(
        rest[0]["reason"].as_str().unwrap().contains("conflict")
            || rest[0]["reason"]
                .as_str()
                .unwrap()
                .contains("stored at seq"),
        "{}",
        rest[0]["reason"]
    );
    assert_eq!(second["next"], serde_json::Value::Null);

    // A cursor made for one connector's list is refused on another's.
    let cursor = next.split("cursor=").nth(1).unwrap();
    app.app.connectors.register("other", "jsonl", "x");
    let (status, _, refused) = app
        .get(&format!(
            "/v1/connectors/other/dead-letters?limit=2&cursor={cursor}"
        ))
        .await;
    assert_eq!(status, 400, "{refused}");
    assert!(refused["detail"].as_str().unwrap().contains("cursor"));
}

#[tokio::test]
async fn area_readers_see_the_status_but_not_the_raw_records() {
    let (app, _) = with_a_connector().await;
    let viewer = app
        .token_for("chem-viewer", Role::Viewer, "area:A-CHEM")
        .await;
    let get = |path: &'static str| {
        let request = app.client.get(app.url(path)).bearer_auth(&viewer);
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    let (status, body) = get("/v1/connectors").await;
    assert_eq!(status, 200, "{body}");
    // Raw records are the peer's own, unmasked: reading them takes the audit permission…
    let (status, body) = get("/v1/connectors/line-3/dead-letters").await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("ReadAudit"), "{body}");
    // …and a site-wide scope.
    let supervisor = app
        .token_for("chem-supervisor", Role::Supervisor, "area:A-CHEM")
        .await;
    let response = app
        .client
        .get(app.url("/v1/connectors/line-3/dead-letters"))
        .bearer_auth(&supervisor)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 403);
    let body = response.text().await.unwrap();
    assert!(body.contains("site-wide scope"), "{body}");
    let (status, _, body) = app.get("/v1/connectors/nowhere/dead-letters").await;
    assert_eq!(status, 404, "{body}");
}
