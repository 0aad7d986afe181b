//! The harness the server's integration tests share: an in-memory store holding the
//! reference plant, bearer tokens, the API served over real HTTP on an ephemeral port, and
//! the reference plant's scheduling problem.

// Each test binary uses only part of the harness.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use schedule::plant::from_model::{FromModelOptions, problem_from_model};
use schedule::plant::{PlantProblem, PlantSchedule, check};
use serde_json::Value;

/// An in-memory store with the reference plant loaded.
pub async fn reference_store() -> Arc<store::Store> {
    let store = Arc::new(
        store::Store::open_in_memory()
            .await
            .expect("in-memory store"),
    );
    store
        .put_plant(sim::reference_plant(), &store::Actor::system("test"))
        .await
        .expect("reference plant loads");
    store
}

/// A bearer token for a new person principal (fast hashing, for tests).
pub async fn token(
    store: &store::Store,
    name: &str,
    role: govern::Role,
    scope: govern::Scope,
) -> String {
    store
        .create_token(
            name,
            govern::PrincipalKind::Person,
            role,
            scope,
            store::TokenHashing::Fast,
            store::GovernanceWrite::by(store::Actor::system("test"), None),
        )
        .await
        .expect("a token")
        .token
}

/// The API served on an ephemeral loopback port until this value is dropped.
pub struct Served {
    pub address: SocketAddr,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

impl Served {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }
}

/// Serves the API over `store`.
pub async fn serve(store: Arc<store::Store>) -> Served {
    serve_state(server::AppState::new(store)).await
}

/// Serves the API with `state` (a store with its governance, sinks, …).
pub async fn serve_state(state: server::AppState) -> Served {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        server::serve(listener, state, async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    Served {
        address,
        _shutdown: tx,
    }
}

/// Status, content type and body (JSON when it parses, else the text) of a response.
pub async fn split(response: reqwest::Response) -> (u16, String, Value) {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response.text().await.unwrap();
    let value = serde_json::from_str(&body).unwrap_or(Value::String(body));
    (status, content_type, value)
}

/// Calls the API at `address` as `token`: status and body (JSON when it parses, else the
/// text).
pub async fn call(
    client: &reqwest::Client,
    address: SocketAddr,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = client
        .request(method, format!("http://{address}{path}"))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let (status, _, body) = split(request.send().await.unwrap()).await;
    (status, body)
}

/// The native problem of the reference plant with its order book planned, 14 days.
pub fn reference_problem() -> PlantProblem {
    let catalog = sim::reference_catalog();
    let start = sim::SimOptions::default().start;
    let state = model::PlantState::initial(&catalog, start);
    problem_from_model(&catalog, &state, &FromModelOptions::new(start, 14 * 1440)).unwrap()
}

/// One operation of `plan` delayed by a few minutes, still feasible: a schedule a planner
/// could have tweaked by hand.
pub fn nudged(problem: &PlantProblem, plan: &PlantSchedule) -> (PlantSchedule, String, i64) {
    let mut order: Vec<usize> = (0..plan.assignments.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(plan.assignments[i].end));
    for i in order {
        for shift in [5, 1] {
            let mut candidate = plan.clone();
            candidate.assignments[i].start += shift;
            candidate.assignments[i].end += shift;
            if check(problem, &candidate).feasible {
                return (candidate, plan.assignments[i].op.clone(), shift);
            }
        }
    }
    panic!("no operation can be delayed");
}
