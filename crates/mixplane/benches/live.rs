//! From event to proposal, measured: the reference plant with `LIVE_DAYS` (default 7) of
//! simulated history in a SQLite store, a plan of the plant as it is after them put in force,
//! the API served in process with the live agents (default settings), and then, one at a
//! time, a downtime of a busy unit and a released rush order posted over HTTP. For each, the
//! time from sending the event to the agent's proposal being stored.
//!
//! Reports the median and p99 per trigger over `LIVE_RUNS` (default 20) events of each kind
//! (a downtime alternates with the unit coming back, so each downtime is news). Target:
//! a repair proposed within a second on the reference plant. Run with
//! `cargo bench -p mixplane --bench live`. Not a timed test: nothing fails on a slow
//! machine; the report says whether the target was met.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const TARGET_MS: f64 = 1000.0;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

struct Plant {
    app: app::App,
    agents: app::agents::live::AgentsHandle,
    address: std::net::SocketAddr,
    token: String,
    client: reqwest::Client,
    _dir: TempDir,
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn plant(days: f64) -> Plant {
    let dir = std::env::temp_dir().join(format!("mixplane-live-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let store = Arc::new(
        store::Store::open_sqlite(&dir.join("mixplane.db"))
            .await
            .unwrap(),
    );
    let actor = store::Actor::system("bench");
    let catalog = sim::reference_catalog();
    store
        .put_plant(catalog.plant().clone(), &actor)
        .await
        .unwrap();
    let options = sim::SimOptions {
        days,
        seed: 7,
        ..sim::SimOptions::default()
    };
    let events = sim::simulate(&catalog, &options, None, |_| {})
        .unwrap()
        .events;
    for chunk in events.chunks(2000) {
        store.append(chunk, &actor).await.unwrap();
    }
    let app = app::App::new(store.clone()).with_governance(app::Governance::new(
        govern::Policy::default_policy(),
        app::SinkKind::MesSim,
        None,
    ));
    let planner = govern::Principal::new(
        "bench",
        govern::PrincipalKind::Person,
        govern::Role::Planner,
        govern::Scope::All,
    );
    let plan = app::schedule::in_force::make_plan(
        &app,
        &planner,
        app::schedule::in_force::MakePlanRequest {
            time_limit_seconds: Some(3.0),
            seed: 1,
            reason: Some("the bench's first plan".into()),
        },
    )
    .await
    .unwrap();
    println!(
        "plant: {} events over {days} days, {} operations in the plan in force",
        events.len(),
        plan.schedule.assignments.len()
    );
    let token = store
        .create_token(
            "bench.admin",
            govern::PrincipalKind::Person,
            govern::Role::Admin,
            govern::Scope::All,
            store::TokenHashing::Fast,
            store::GovernanceWrite::by(actor.clone(), None),
        )
        .await
        .unwrap()
        .token;
    let agents = app::agents::live::start(
        app.clone(),
        app::agents::live::AgentSettings {
            improve_every_minutes: 0,
            ..Default::default()
        },
    );
    let state = server::AppState::from_app(app.clone()).with_agents(agents.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        server::serve(listener, state, std::future::pending::<()>())
            .await
            .unwrap();
    });
    Plant {
        app,
        agents,
        address,
        token,
        client: reqwest::Client::new(),
        _dir: TempDir(dir),
    }
}

impl Plant {
    /// Prints what the agents did last, when an event got no proposal.
    fn why_not(&self) {
        if let Some(last) = self.agents.status().recent.front() {
            println!(
                "  no proposal: last reaction {} by {}: {}",
                last.reaction,
                last.agent,
                last.note.as_deref().unwrap_or("(proposed)")
            );
        }
    }

    async fn post(&self, events: Value) {
        let response = self
            .client
            .post(format!("http://{}/v1/events", self.address))
            .bearer_auth(&self.token)
            .json(&events)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{}",
            response.text().await.unwrap()
        );
    }

    /// Waits until a proposal whose evidence answers `event` is stored; the time it took.
    async fn proposal_for(&self, event: &str, since: Instant) -> Option<f64> {
        let deadline = since + Duration::from_secs(10);
        while Instant::now() < deadline {
            let page = self
                .app
                .store
                .proposals(&store::ProposalFilter {
                    limit: 20,
                    ..Default::default()
                })
                .await
                .unwrap();
            if page.items.iter().any(|p| {
                matches!(&p.evidence.trigger,
                    govern::Trigger::Event { event_id } if event_id == event)
            }) {
                return Some(since.elapsed().as_secs_f64() * 1000.0);
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        None
    }
}

fn report(name: &str, mut ms: Vec<f64>, missed: usize) {
    ms.sort_by(f64::total_cmp);
    let median = percentile(&ms, 50.0);
    let p99 = percentile(&ms, 99.0);
    println!(
        "{name:<10} n={:<3} median {median:>7.1} ms  p99 {p99:>7.1} ms  max {:>7.1} ms  missed {missed}  {}",
        ms.len(),
        ms.last().copied().unwrap_or(f64::NAN),
        if median <= TARGET_MS {
            "(median within 1 s)"
        } else {
            "(median above 1 s)"
        }
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let days = env("LIVE_DAYS", 7) as f64;
        let runs = env("LIVE_RUNS", 20) as usize;
        let plant = plant(days).await;
        let clock = plant.app.store.state().await.clock.unwrap();
        // The units with the most work planned from now on, busiest first: a
        // downtime there moves planned work, so the repair has something to propose.
        let plan = app::schedule::in_force::in_force(&plant.app)
            .await
            .unwrap()
            .expect("a plan in force");
        let mut load = std::collections::BTreeMap::<String, usize>::new();
        for a in &plan.schedule.assignments {
            if a.start >= 0 {
                *load.entry(a.unit.clone()).or_default() += 1;
            }
        }
        let mut units: Vec<(String, usize)> = load.into_iter().collect();
        units.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let units: Vec<String> = units.into_iter().take(4).map(|(u, _)| u).collect();
        assert!(
            !units.is_empty(),
            "the plan in force places no work from now on"
        );
        println!("downtimes on {}", units.join(", "));
        let mut down = Vec::new();
        let mut missed_down = 0;
        for run in 0..runs {
            let unit = &units[run % units.len()];
            let id = format!("bench-down-{run}");
            let sent = Instant::now();
            plant
                .post(
                    json!([{"id": id, "time": clock, "type": "equipment_state_changed",
                    "unit": unit, "state": "down", "reason": "bench"}]),
                )
                .await;
            match plant.proposal_for(&id, sent).await {
                Some(ms) => down.push(ms),
                None => {
                    missed_down += 1;
                    plant.why_not();
                }
            }
            plant
                .post(json!([{"id": format!("bench-up-{run}"), "time": clock,
                    "type": "equipment_state_changed", "unit": unit, "state": "idle"}]))
                .await;
            // Let the "back up" reaction pass before the next downtime.
            tokio::time::sleep(Duration::from_millis(1500)).await;
        }
        let template = plant
            .app
            .store
            .state()
            .await
            .orders
            .values()
            .find(|o| {
                o.status == model::OrderStatus::Planned || o.status == model::OrderStatus::Released
            })
            .expect("an open order")
            .order
            .clone();
        let mut rush_ms = Vec::new();
        let mut missed_rush = 0;
        for run in 0..runs {
            let mut order = serde_json::to_value(&template).unwrap();
            order["id"] = json!(format!("BENCH-RUSH-{run}"));
            order["priority"] = json!("high");
            order["release"] = json!(clock);
            order["due"] = json!(clock.plus_minutes(1440.0));
            let id = format!("bench-rush-{run}");
            let sent = Instant::now();
            plant
                .post(json!([{"id": id, "time": clock, "type": "order_released", "order": order}]))
                .await;
            match plant.proposal_for(&id, sent).await {
                Some(ms) => rush_ms.push(ms),
                None => {
                    missed_rush += 1;
                    plant.why_not();
                }
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        println!("from the event's POST to the agent's stored proposal (burst window included):");
        report("downtime", down, missed_down);
        report("rush order", rush_ms, missed_rush);
    });
}
