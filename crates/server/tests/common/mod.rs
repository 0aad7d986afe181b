//! The one harness of the server's integration tests: [`TestApp`] (an in-memory store
//! holding the reference plant, its governance settings, the API served over real HTTP on an
//! ephemeral port, a bearer token and requests made with it), and the reference plant's
//! scheduling problem.

// Each test binary uses only part of the harness.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use app::Clock as _;

use schedule::plant::from_model::{FromModelOptions, problem_from_model};
use schedule::plant::{PlantProblem, PlantSchedule, check};
use serde_json::Value;

/// An in-memory store with the reference plant loaded.
pub async fn reference_store() -> Arc<store::Store> {
    let store = Arc::new(
        store::test_support::private_store()
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

/// How a [`TestApp`] is set up; the default is the reference plant, the default policy and
/// sink, no file sink, and an admin `alice` as the caller.
pub struct Setup {
    /// The store to serve (the reference plant is loaded into it when it has none); a new
    /// in-memory store by default.
    pub store: Option<Arc<store::Store>>,
    /// Events of this many simulated days (seed 5) appended before serving.
    pub simulated_days: Option<f64>,
    pub default_sink: app::SinkKind,
    /// Give the server a file sink (a fresh JSON Lines file under the temporary directory).
    pub file_sink: bool,
    /// The principal whose token [`TestApp::token`] holds, with its role (scope `*`); none
    /// issues no token.
    pub caller: Option<(&'static str, govern::Role)>,
    /// The governance policy in force; the shipped one by default.
    pub policy: Option<govern::Policy>,
    /// Run the live agents beside the server with these settings.
    pub agents: Option<app::agents::live::AgentSettings>,
}

impl Default for Setup {
    fn default() -> Setup {
        Setup {
            store: None,
            simulated_days: None,
            default_sink: app::SinkKind::MesSim,
            file_sink: false,
            caller: Some(("alice", govern::Role::Admin)),
            policy: None,
            agents: None,
        }
    }
}

/// The API served over a store, and a client to call it with.
pub struct TestApp {
    pub address: SocketAddr,
    pub store: Arc<store::Store>,
    pub client: reqwest::Client,
    /// The bearer token of the setup's caller (empty without one).
    pub token: String,
    /// The file sink's path, when the setup asked for one.
    pub file_sink: Option<PathBuf>,
    /// The use-cases the server runs over.
    pub app: app::App,
    /// The live agents, when the setup asked for them.
    pub agents: Option<app::agents::live::AgentsHandle>,
    _served: Served,
}

impl TestApp {
    /// The default setup.
    pub async fn start() -> TestApp {
        TestApp::with(Setup::default()).await
    }

    pub async fn with(setup: Setup) -> TestApp {
        let store = match setup.store {
            Some(store) => store,
            None => Arc::new(
                store::test_support::private_store()
                    .await
                    .expect("in-memory store"),
            ),
        };
        let actor = store::Actor::system("test");
        if store.plant().await.is_none() {
            store
                .put_plant(sim::reference_plant(), &actor)
                .await
                .expect("reference plant loads");
        }
        if let Some(days) = setup.simulated_days {
            let catalog = model::Catalog::new(sim::reference_plant()).unwrap();
            let options = sim::SimOptions {
                days,
                seed: 5,
                ..sim::SimOptions::default()
            };
            let events = sim::simulate(&catalog, &options, None, |_| {})
                .unwrap()
                .events;
            store.append(&events, &actor).await.unwrap();
        }
        let file_sink = setup.file_sink.then(|| {
            std::env::temp_dir().join(format!(
                "mixplane-test-sink-{}-{}.jsonl",
                std::process::id(),
                app::SystemClock.now().0
            ))
        });
        let governance = app::Governance::new(
            setup.policy.unwrap_or_else(govern::Policy::default_policy),
            setup.default_sink,
            file_sink.clone(),
        );
        let token = match setup.caller {
            Some((name, role)) => token(&store, name, role, govern::Scope::All).await,
            None => String::new(),
        };
        let mut state = server::AppState::new(store.clone()).with_governance(governance);
        let app = state.app.clone();
        let agents = setup
            .agents
            .map(|settings| app::agents::live::start(app.clone(), settings));
        if let Some(agents) = &agents {
            state = state.with_agents(agents.clone());
        }
        let served = serve_state(state).await;
        TestApp {
            address: served.address,
            store,
            client: reqwest::Client::new(),
            token,
            file_sink,
            app,
            agents,
            _served: served,
        }
    }

    /// A bearer token for a new principal of `role` in `scope` (its kind follows the role).
    pub async fn token_for(&self, name: &str, role: govern::Role, scope: &str) -> String {
        self.store
            .create_token(
                name,
                govern::PrincipalKind::for_role(role),
                role,
                scope.parse::<govern::Scope>().unwrap(),
                store::TokenHashing::Fast,
                store::GovernanceWrite::by(store::Actor::system("test"), None),
            )
            .await
            .expect("a token")
            .token
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// `GET` as the caller: status, content type and body.
    pub async fn get(&self, path: &str) -> (u16, String, Value) {
        let (status, content_type, body, _) = self.get_with_headers(path).await;
        (status, content_type, body)
    }

    /// `GET` as the caller, with the response's headers.
    pub async fn get_with_headers(
        &self,
        path: &str,
    ) -> (u16, String, Value, reqwest::header::HeaderMap) {
        let response = self
            .client
            .get(self.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        let headers = response.headers().clone();
        let (status, content_type, body) = split(response).await;
        (status, content_type, body, headers)
    }

    /// `POST` of a JSON value as the caller.
    pub async fn post(&self, path: &str, body: &Value) -> (u16, String, Value) {
        self.post_as(&self.token, path, body).await
    }

    /// `POST` of a JSON value as `token`.
    pub async fn post_as(&self, token: &str, path: &str, body: &Value) -> (u16, String, Value) {
        self.post_body_as(token, path, "application/json", body.to_string())
            .await
    }

    /// `POST` of a text said to be JSON (it may not be) as the caller.
    pub async fn post_raw(&self, path: &str, body: impl Into<String>) -> (u16, String, Value) {
        self.post_body_as(&self.token, path, "application/json", body.into())
            .await
    }

    /// `POST` of a body of `content_type` as the caller.
    pub async fn post_body(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<String>,
    ) -> (u16, String, Value) {
        self.post_body_as(&self.token, path, content_type, body.into())
            .await
    }

    /// `POST` of a body of `content_type` as `token`.
    pub async fn post_body_as(
        &self,
        token: &str,
        path: &str,
        content_type: &str,
        body: String,
    ) -> (u16, String, Value) {
        let response = self
            .client
            .post(self.url(path))
            .header("content-type", content_type)
            .bearer_auth(token)
            .body(body)
            .send()
            .await
            .unwrap();
        split(response).await
    }

    /// Any method as `token`, with an optional JSON body: status and body.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        call(&self.client, self.address, method, path, token, body).await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(path) = &self.file_sink {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The open high-priority orders that run in A-CHEM only (so an A-CHEM planner's scope
/// covers every area a change to one touches), with their due dates, in id order.
pub async fn chem_orders(app: &TestApp) -> Vec<(String, String)> {
    let snapshot = app.store.snapshot().await;
    let catalog = snapshot.catalog.unwrap();
    snapshot
        .state
        .orders
        .values()
        .filter(|o| {
            matches!(
                o.status,
                model::OrderStatus::Planned | model::OrderStatus::Released
            ) && o.order.priority == model::Priority::High
                && catalog
                    .routing_areas(&o.order.routing)
                    .iter()
                    .map(|a| a.as_str())
                    .eq(["A-CHEM"])
        })
        .map(|o| (o.order.id.to_string(), o.order.due.to_string()))
        .collect()
}

/// The first of [`chem_orders`].
pub async fn chem_order(app: &TestApp) -> (String, String) {
    chem_orders(app)
        .await
        .into_iter()
        .next()
        .expect("an open high-priority order of A-CHEM")
}

/// A proposal draft of `kind` in area A-CHEM moving `order`'s due date `due` by `minutes`,
/// with the scheduler's evidence.
pub fn due_move_draft(order: &str, due: &str, minutes: i64, kind: &str) -> Value {
    let moved = model::Timestamp::parse(due)
        .unwrap()
        .plus_minutes(minutes as f64);
    serde_json::json!({
        "kind": kind,
        "area": "A-CHEM",
        "title": format!("move {order}"),
        "evidence": {
            "input_sha256": "a".repeat(64),
            "engine": "mixplane-scheduler",
            "engine_version": "0.3.1",
            "trigger": {"type": "event", "event_id": "sim-5-0000001"},
            "kpis_before": {"tardiness_min": 120.0},
            "kpis_after": {"tardiness_min": 30.0}
        },
        "diff": [{
            "entity": "order", "id": order, "field": "due",
            "before": due, "after": moved.to_string(),
            "shift_minutes": minutes, "high_priority": true
        }]
    })
}
