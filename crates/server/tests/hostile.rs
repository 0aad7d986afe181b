//! A hostile client against a served instance: documents nested 35,000 deep, bodies and
//! batches past their limits, axum's own rejections, wrong secrets in bulk, and connections
//! that send half a header and stop. Each test asserts what the server answers and that it
//! is still up; none asserts how fast (the figures are the `hostile` benchmark's).

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use common::{Served, split};
use govern::{Role, Scope};
use serde_json::{Value, json};
use server::limits::Limits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The reference plant served with `limits`, an admin token, and the server's token cache
/// (to read how many verifications ran at once).
struct Hostile {
    address: SocketAddr,
    store: Arc<store::Store>,
    client: reqwest::Client,
    token: String,
    tokens: Arc<server::auth::TokenCache>,
    _served: Served,
}

impl Hostile {
    async fn start(limits: Limits) -> Hostile {
        let store = common::reference_store().await;
        let token = common::token(&store, "alice", Role::Admin, Scope::All).await;
        let state = server::AppState::new(store.clone()).with_limits(limits);
        let tokens = state.tokens.clone();
        let served = common::serve_state(state).await;
        Hostile {
            address: served.address,
            store,
            client: reqwest::Client::new(),
            token,
            tokens,
            _served: served,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// `method` on `path` with `body` of `content_type`, as `token`.
    async fn send(
        &self,
        method: &str,
        path: &str,
        token: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> (u16, String, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let response = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        split(response).await
    }

    async fn post_json(&self, path: &str, body: &Value) -> (u16, String, Value) {
        self.send(
            "POST",
            path,
            &self.token,
            "application/json",
            body.to_string(),
        )
        .await
    }

    /// The service still answers: health and an authenticated read.
    async fn assert_up(&self) {
        let (status, _, body) = self
            .send("GET", "/healthz", &self.token, "text/plain", "")
            .await;
        assert_eq!(status, 200, "{body}");
        let (status, _, body) = self
            .send("GET", "/v1/orders?limit=1", &self.token, "text/plain", "")
            .await;
        assert_eq!(status, 200, "{body}");
    }
}

/// A problem+json answer of `status` whose detail mentions `needle`.
fn assert_problem(answer: &(u16, String, Value), status: u16, needle: &str) {
    let (got, content_type, body) = answer;
    assert_eq!(*got, status, "{body}");
    assert_eq!(content_type, "application/problem+json", "{body}");
    assert_eq!(body["status"], status, "{body}");
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains(needle),
        "detail `{detail}` should mention `{needle}`"
    );
}

const DEPTH: usize = 35_000;

fn deep_xml() -> String {
    format!("{}{}", "<a>".repeat(DEPTH), "</a>".repeat(DEPTH))
}

fn deep_json_array() -> String {
    format!("{}{}", "[".repeat(DEPTH), "]".repeat(DEPTH))
}

fn deep_json_object() -> String {
    format!(
        "{{\"problem\": {}1{}}}",
        "{\"a\": ".repeat(DEPTH),
        "}".repeat(DEPTH)
    )
}

/// Every endpoint that reads a body, from the route table, its path parameters filled in.
fn posting_endpoints() -> Vec<String> {
    server::api::endpoints()
        .into_iter()
        .filter(|e| e.method == axum::http::Method::POST)
        .map(|e| {
            e.path
                .replace("{id}", "x")
                .replace("{name}", "x")
                .replace("{pseudonym}", "x")
        })
        .collect()
}

#[tokio::test]
async fn documents_nested_35000_deep_get_a_problem_at_every_endpoint_and_the_server_stays_up() {
    let app = Hostile::start(Limits::default()).await;
    let endpoints = posting_endpoints();
    for needed in [
        "/v1/events",
        "/v1/trace/import",
        "/epcis/capture",
        "/v1/quality/results",
        "/v1/proposals",
        "/v1/schedule/scenarios",
        "/v1/schedule/solve",
        "/v1/schedule/check",
    ] {
        assert!(endpoints.iter().any(|e| e == needed), "{needed} is posted");
    }
    let documents = [
        ("application/xml", deep_xml()),
        ("application/json", deep_xml()),
        ("application/json", deep_json_array()),
        ("application/json", deep_json_object()),
        ("application/ld+json", deep_json_object()),
    ];
    for path in &endpoints {
        for (content_type, document) in &documents {
            let (status, got_type, body) = app
                .send("POST", path, &app.token, content_type, document.clone())
                .await;
            assert!(
                (400..500).contains(&status),
                "{path} with {content_type}: {status} {body}"
            );
            assert_eq!(got_type, "application/problem+json", "{path}: {body}");
        }
    }
    // The trace readers name the bound they refused.
    let answer = app
        .send(
            "POST",
            "/v1/trace/import",
            &app.token,
            "application/xml",
            deep_xml(),
        )
        .await;
    assert_problem(&answer, 422, "depth");
    let answer = app
        .send(
            "POST",
            "/epcis/capture",
            &app.token,
            "application/ld+json",
            deep_json_array(),
        )
        .await;
    assert_eq!(answer.0, 422, "{}", answer.2);
    app.assert_up().await;
}

/// A proposal draft whose one change has `after` nested `depth` levels deep.
fn draft_nested(depth: usize) -> Value {
    let after: Value =
        serde_json::from_str(&format!("{}1{}", "[".repeat(depth), "]".repeat(depth))).unwrap();
    json!({
        "kind": "schedule_change",
        "area": "A-CHEM",
        "title": "deep",
        "evidence": {
            "input_sha256": "a".repeat(64),
            "engine": "mixplane-scheduler",
            "engine_version": "0.3.1",
            "trigger": {"type": "event", "event_id": "sim-5-0000001"},
            "kpis_before": {},
            "kpis_after": {}
        },
        "diff": [{"entity": "order", "id": "MO-X", "field": "note",
                  "before": null, "after": after}]
    })
}

#[tokio::test]
async fn json_bodies_nest_at_most_64_deep_so_what_is_kept_reads_back() {
    let app = Hostile::start(Limits::default()).await;
    // Within serde_json's 128 levels (the draft, its diff and the change add 3), but kept and
    // listed inside more levels it would pass them: every client's reader (and the server's
    // own, pseudonymising for agents) would then refuse the list of proposals.
    let answer = app.post_json("/v1/proposals", &draft_nested(124)).await;
    assert_problem(&answer, 422, "limit of 64 levels");
    let (status, _, body) = app.post_json("/v1/proposals", &draft_nested(61)).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    let (status, _, body) = app
        .send(
            "GET",
            &format!("/v1/proposals/{id}"),
            &app.token,
            "text/plain",
            "",
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, _, body) = app
        .send("GET", "/v1/proposals", &app.token, "text/plain", "")
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["total"], 1, "the list parses as JSON: {body}");
    app.assert_up().await;
}

#[tokio::test]
async fn bodies_past_the_limit_answer_413_problems_naming_the_limit() {
    let app = Hostile::start(Limits {
        max_body_bytes: 2048,
        max_event_batch_bytes: 1024,
        ..Limits::default()
    })
    .await;
    let big = format!("{{\"pad\": \"{}\"}}", "x".repeat(4096));
    let answer = app
        .send(
            "POST",
            "/v1/schedule/solve",
            &app.token,
            "application/json",
            big.clone(),
        )
        .await;
    assert_problem(&answer, 413, "2048 bytes");
    let answer = app
        .send("POST", "/v1/events", &app.token, "application/json", {
            let pad = "y".repeat(1500);
            format!("[{{\"id\": \"{pad}\"}}]")
        })
        .await;
    assert_problem(&answer, 413, "1024 bytes");
    // A body without a length (chunked) is stopped at the same limit by the raw readers.
    let chunk = "z".repeat(3000);
    let request = format!(
        "POST /v1/trace/import HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/xml\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
         {:x}\r\n{chunk}\r\n0\r\n\r\n",
        app.token,
        chunk.len()
    );
    let answer = raw_exchange(app.address, request.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.contains("application/problem+json") && answer.contains("2048 bytes"),
        "{answer}"
    );
    app.assert_up().await;
}

#[tokio::test]
async fn event_batches_past_the_count_or_field_limits_are_refused_naming_the_limit() {
    let app = Hostile::start(Limits {
        max_events_per_batch: 3,
        max_event_field_bytes: 64,
        ..Limits::default()
    })
    .await;
    let event = |n: usize, reason: &str| {
        json!({"id": format!("hostile-{n}"), "time": "2026-03-02T06:00:00Z",
               "type": "equipment_state_changed", "unit": "U-NOPE", "state": "down",
               "reason": reason})
    };
    let four: Vec<Value> = (0..4).map(|n| event(n, "ok")).collect();
    let answer = app.post_json("/v1/events", &json!(four)).await;
    assert_problem(&answer, 413, "at most 3 events");
    assert!(answer.2["detail"].as_str().unwrap().contains("holds 4"));
    let batch = json!([event(0, "ok"), event(1, &"r".repeat(65))]);
    let answer = app.post_json("/v1/events", &batch).await;
    assert_problem(&answer, 422, "event at index 1");
    assert!(answer.2["detail"].as_str().unwrap().contains("64 bytes"));
    // Nothing of either batch was stored.
    assert_eq!(app.store.state().await.events_applied, 0);
    app.assert_up().await;
}

#[tokio::test]
async fn events_with_a_mistyped_field_a_24_hour_offset_or_an_overlong_id_are_refused() {
    let app = Hostile::start(Limits::default()).await;
    let order = app
        .store
        .state()
        .await
        .orders
        .keys()
        .next()
        .expect("an order")
        .to_string();
    let changed = json!([{"id": "chg-1", "time": "2026-03-02T06:00:00Z",
        "type": "order_changed", "order": order, "duee": "2026-03-20T00:00:00Z"}]);
    let answer = app.post_json("/v1/events", &changed).await;
    assert_problem(&answer, 422, "duee");
    let offset = json!([{"id": "chg-2", "time": "2026-03-02T06:00:00+24:00",
        "type": "order_changed", "order": order, "priority": "high"}]);
    let answer = app.post_json("/v1/events", &offset).await;
    assert_problem(&answer, 422, "time");
    let long_id = json!([{"id": "e".repeat(300), "time": "2026-03-02T06:00:00Z",
        "type": "order_changed", "order": order, "priority": "high"}]);
    let answer = app.post_json("/v1/events", &long_id).await;
    assert_problem(&answer, 422, "256");
    assert_eq!(app.store.state().await.events_applied, 0);
}

#[tokio::test]
async fn axum_rejections_and_timeouts_are_problem_json() {
    let app = Hostile::start(Limits {
        request_timeout_seconds: 1,
        ..Limits::default()
    })
    .await;
    let bad_json = app
        .send("POST", "/v1/events", &app.token, "application/json", "[{")
        .await;
    assert_problem(&bad_json, 400, "line 1");
    let wrong_type = app
        .send(
            "POST",
            "/v1/quality/results",
            &app.token,
            "text/csv",
            "a,b\n1,2\n",
        )
        .await;
    assert_problem(&wrong_type, 415, "application/json");
    let not_utf8 = app
        .send("GET", "/v1/orders/%FF%FE", &app.token, "text/plain", "")
        .await;
    assert_eq!(not_utf8.0, 400, "{}", not_utf8.2);
    assert_eq!(not_utf8.1, "application/problem+json");
    let not_allowed = app
        .send("DELETE", "/v1/events", &app.token, "text/plain", "")
        .await;
    assert_problem(&not_allowed, 405, "DELETE");
    let nowhere = app
        .send("GET", "/v1/nowhere", &app.token, "text/plain", "")
        .await;
    assert_problem(&nowhere, 404, "/v1/nowhere");
    // A body promised and never sent: the request deadline answers.
    let request = format!(
        "POST /v1/trace/import HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/xml\r\nContent-Length: 100\r\n\r\n<a>",
        app.token
    );
    let answer = raw_exchange(app.address, request.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.contains("application/problem+json") && answer.contains("limit of 1 s"),
        "{answer}"
    );
    app.assert_up().await;
}

/// Writes `request` on a new connection and reads the answer until the server closes the
/// connection or 30 s pass.
async fn raw_exchange(address: SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    let read = async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    answer.extend_from_slice(&buffer[..n]);
                    // One answer is enough: the header and a complete problem body.
                    if answer.ends_with(b"}") {
                        break;
                    }
                }
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(30), read).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn a_stalled_or_idle_connection_is_closed_after_the_header_timeout() {
    let app = Hostile::start(Limits {
        header_read_timeout_seconds: 1,
        ..Limits::default()
    })
    .await;
    let mut stalled = TcpStream::connect(app.address).await.unwrap();
    stalled
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nUser-Ag")
        .await
        .unwrap();
    let mut idle = TcpStream::connect(app.address).await.unwrap();
    for stream in [&mut stalled, &mut idle] {
        let mut buffer = [0u8; 256];
        // The server closes the connection (end of stream, or a reset) well before 30 s.
        let read = tokio::time::timeout(Duration::from_secs(30), stream.read(&mut buffer)).await;
        match read {
            Ok(Ok(n)) => assert_eq!(n, 0, "{}", String::from_utf8_lossy(&buffer[..n])),
            Ok(Err(_)) => {}
            Err(_) => panic!("the connection was still open after 30 s"),
        }
    }
    app.assert_up().await;
}

#[tokio::test]
async fn past_the_connection_limit_a_client_waits_until_a_connection_closes() {
    let app = Hostile::start(Limits {
        max_connections: 2,
        ..Limits::default()
    })
    .await;
    let held: Vec<TcpStream> = vec![
        TcpStream::connect(app.address).await.unwrap(),
        TcpStream::connect(app.address).await.unwrap(),
    ];
    let request = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let third = tokio::spawn(async move {
        let mut stream = TcpStream::connect(app.address).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer).await;
        (answer, app)
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !third.is_finished(),
        "a third connection was served while two were held"
    );
    drop(held);
    let (answer, _app) = tokio::time::timeout(Duration::from_secs(30), third)
        .await
        .expect("served once a connection closed")
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

/// A token of a real id with a wrong secret, and a token of an id that does not exist.
fn forged(token: &str, secret_byte: char) -> (String, String) {
    let id = store::token_id(token).expect("a well-formed token");
    let secret: String = std::iter::repeat_n(secret_byte, 64).collect();
    (
        format!("mxp_{id}_{secret}"),
        format!("mxp_{}_{secret}", "0".repeat(16)),
    )
}

#[tokio::test]
async fn unknown_ids_and_wrong_secrets_get_identical_answers() {
    let app = Hostile::start(Limits::default()).await;
    let (wrong_secret, unknown_id) = forged(&app.token, 'a');
    let mut answers = Vec::new();
    for token in [&wrong_secret, &unknown_id] {
        let response = app
            .client
            .get(app.url("/v1/orders"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let challenge = response.headers().get("www-authenticate").cloned();
        answers.push((split(response).await, challenge));
    }
    assert_eq!(answers[0], answers[1]);
    assert_problem(&answers[0].0, 401, "unknown, revoked or malformed");
    app.assert_up().await;
}

#[tokio::test]
async fn a_failed_token_is_not_verified_again_and_an_id_that_keeps_failing_is_throttled() {
    let app = Hostile::start(Limits {
        failures_per_token: 3,
        ..Limits::default()
    })
    .await;
    // The real token is verified (and cached) before anyone fails on its id.
    app.assert_up().await;
    let (wrong, _) = forged(&app.token, 'b');
    // The same wrong token again and again: remembered, answered 401 without a verification,
    // so it never uses up the id's failures.
    for _ in 0..6 {
        let answer = app
            .send("GET", "/v1/orders", &wrong, "text/plain", "")
            .await;
        assert_problem(&answer, 401, "unknown");
    }
    // Two more different wrong secrets use them up; the next is throttled with a delay.
    for byte in ['c', 'd'] {
        let (wrong, _) = forged(&app.token, byte);
        let answer = app
            .send("GET", "/v1/orders", &wrong, "text/plain", "")
            .await;
        assert_problem(&answer, 401, "unknown");
    }
    let (wrong, _) = forged(&app.token, 'e');
    let response = app
        .client
        .get(app.url("/v1/orders"))
        .bearer_auth(&wrong)
        .send()
        .await
        .unwrap();
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_problem(&split(response).await, 429, "try again");
    // The real token was verified before and is cached: it is not throttled.
    app.assert_up().await;
    // The throttled id's own holder, from an address that has not failed (loopback has
    // several: 127.0.0.2 is another client), is verified; from the failing address it waits.
    let holder = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()
        .unwrap();
    let ours = app.url("/v1/orders?limit=1");
    let response = holder
        .get(&ours)
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let bob = common::token(&app.store, "bob", Role::Viewer, Scope::All).await;
    for byte in ['c', 'd', 'e'] {
        let (wrong, _) = forged(&bob, byte);
        let answer = app
            .send("GET", "/v1/orders", &wrong, "text/plain", "")
            .await;
        assert!([401, 429].contains(&answer.0), "{answer:?}");
    }
    let (wrong, _) = forged(&bob, 'f');
    let answer = app
        .send("GET", "/v1/orders", &wrong, "text/plain", "")
        .await;
    assert_eq!(answer.0, 429, "{answer:?}");
    let answer = app.send("GET", "/v1/orders", &bob, "text/plain", "").await;
    assert_eq!(answer.0, 429, "the failing address waits: {answer:?}");
    let response = holder.get(&ours).bearer_auth(&bob).send().await.unwrap();
    assert_eq!(
        response.status(),
        200,
        "the holder elsewhere is not locked out"
    );
}

#[tokio::test]
async fn a_flood_of_wrong_secrets_never_runs_more_verifications_than_the_bound() {
    let app = Arc::new(
        Hostile::start(Limits {
            concurrent_verifications: 2,
            queued_verifications: 4,
            failures_per_token: 1000,
            failures_per_client: 1000,
            ..Limits::default()
        })
        .await,
    );
    let mut flood = tokio::task::JoinSet::new();
    for n in 0..48 {
        let app = app.clone();
        flood.spawn(async move {
            // Unknown ids: each is verified against the decoy, as slow as a real token.
            let token = format!("mxp_{n:016x}_{}", "f".repeat(64));
            let response = app
                .client
                .get(app.url("/v1/orders"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            let retry_after = response.headers().get("retry-after").cloned();
            (split(response).await, retry_after)
        });
    }
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    while let Some(joined) = flood.join_next().await {
        let ((status, content_type, body), retry_after) = joined.unwrap();
        assert_eq!(content_type, "application/problem+json", "{body}");
        match status {
            401 => {}
            503 => assert!(retry_after.is_some(), "503 without Retry-After: {body}"),
            other => panic!("unexpected {other}: {body}"),
        }
        *statuses.entry(status).or_default() += 1;
    }
    let most = app.tokens.most_concurrent_verifications();
    assert!((1..=2).contains(&most), "{most} verifications ran at once");
    assert!(
        statuses.get(&401).copied().unwrap_or(0) >= 1,
        "{statuses:?}"
    );
    app.assert_up().await;
}

/// The ObjectEvent sample with its first event's `ilmd` holding a value nested `depth` deep
/// (the document, its body, the event list, the event and `ilmd` add 5 levels).
fn epcis_nested(depth: usize) -> String {
    let sample = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/samples/epcis/ObjectEvent.jsonld");
    let mut document: Value =
        serde_json::from_str(&std::fs::read_to_string(sample).unwrap()).unwrap();
    let deep: Value =
        serde_json::from_str(&format!("{}1{}", "[".repeat(depth), "]".repeat(depth))).unwrap();
    // An ILMD field is an extension: in the namespace the sample's context declares.
    document["epcisBody"]["eventList"][0]["ilmd"] = json!({ "example:deep": deep });
    document.to_string()
}

#[tokio::test]
async fn an_epcis_capture_nests_at_most_64_deep_so_the_query_reads_back() {
    let app = Hostile::start(Limits::default()).await;
    // 126 levels pass the trace reader's 127, but served inside a query document they would
    // pass the 128 that clients read: refused at the edge.
    let answer = app
        .send(
            "POST",
            "/epcis/capture",
            &app.token,
            "application/ld+json",
            epcis_nested(121),
        )
        .await;
    assert_problem(&answer, 422, "limit of 64 levels");
    let answer = app
        .send(
            "POST",
            "/v1/trace/import",
            &app.token,
            "application/json",
            epcis_nested(121),
        )
        .await;
    assert_problem(&answer, 422, "limit of 64 levels");
    let (status, _, body) = app
        .send(
            "POST",
            "/epcis/capture",
            &app.token,
            "application/ld+json",
            epcis_nested(58),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let (status, content_type, body) = app
        .send("GET", "/epcis/events", &app.token, "text/plain", "")
        .await;
    assert_eq!(
        (status, content_type.as_str()),
        (200, "application/ld+json")
    );
    assert!(body.is_object(), "the query document parses as JSON");
    assert!(body.to_string().contains("deep"), "{body}");
}
