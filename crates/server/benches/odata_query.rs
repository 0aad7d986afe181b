//! The OData surface's query latency on 100,000 quality results (issue #17): a store file
//! with the reference plant and 100,000 `quality_result_recorded` events over 12 characteristics
//! and 100 days, served on loopback; then, over HTTP with an admin's token, the query a BI
//! dashboard sends — one characteristic, values above a limit, newest first, top 50:
//!
//! `/odata/QualityResults?$filter=characteristic eq 'C' and value gt V&$orderby=time desc&$top=50`
//!
//! run 400 times (after 20 to warm up), cycling through the characteristics; prints the
//! median and p99 of the request latency, and the same for the query with `$count=true`.
//!
//! `cargo bench -p server --bench odata_query` (`ODATA_BENCH_ROWS` changes the row count).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

const RUNS: usize = 400;
const WARM_UP: usize = 20;
const BATCH: usize = 5_000;
const DAY_MS: i64 = 86_400_000;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let rows: usize = std::env::var("ODATA_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = std::env::temp_dir().join(format!("mixplane-odata-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = Arc::new(
        store::Store::open_sqlite(&dir.join("store.db"))
            .await
            .unwrap(),
    );
    let actor = store::Actor::system("bench");
    let plant = sim::reference_plant();
    let characteristics: Vec<String> = plant
        .inspection_plans
        .iter()
        .flat_map(|p| p.characteristics.iter().map(|c| c.id.to_string()))
        .take(12)
        .collect();
    store.put_plant(plant, &actor).await.unwrap();
    let start = model::Timestamp::parse("2026-01-01T00:00:00Z").unwrap().0;
    let span = 100 * DAY_MS;
    let loading = Instant::now();
    let mut rng = model::rng::Rng::new(17);
    for first in (0..rows).step_by(BATCH) {
        let events: Vec<model::Event> = (first..(first + BATCH).min(rows))
            .map(|i| {
                let time = start + span * i as i64 / rows as i64;
                serde_json::from_value(json!({
                    "id": format!("qr-{i}"),
                    "time": model::Timestamp(time).to_string(),
                    "type": "quality_result_recorded",
                    "characteristic": characteristics[i % characteristics.len()],
                    "value": 100.0 + 10.0 * rng.normal(),
                    "sample": i / 5,
                }))
                .unwrap()
            })
            .collect();
        store.append(&events, &actor).await.unwrap();
    }
    println!(
        "loaded {rows} quality results in {:.1} s",
        loading.elapsed().as_secs_f64()
    );
    let token = store
        .create_token(
            "bench",
            govern::PrincipalKind::Person,
            govern::Role::Admin,
            govern::Scope::All,
            store::TokenHashing::Fast,
            store::GovernanceWrite::by(actor.clone(), None),
        )
        .await
        .unwrap()
        .token;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let state = server::AppState::new(store.clone());
    tokio::spawn(async move {
        server::serve(listener, state, std::future::pending())
            .await
            .unwrap();
    });
    let client = reqwest::Client::new();
    for count in [false, true] {
        let mut times = Vec::with_capacity(RUNS);
        for run in 0..RUNS + WARM_UP {
            let c = &characteristics[run % characteristics.len()];
            let url = format!(
                "http://{address}/odata/QualityResults?$filter=characteristic%20eq%20'{c}'%20and%20value%20gt%20105\
                 &$orderby=time%20desc&$top=50{}",
                if count { "&$count=true" } else { "" }
            );
            let began = Instant::now();
            let response = client.get(&url).bearer_auth(&token).send().await.unwrap();
            assert_eq!(response.status(), 200);
            let body: serde_json::Value = response.json().await.unwrap();
            let elapsed = began.elapsed();
            assert_eq!(body["value"].as_array().unwrap().len(), 50);
            if run >= WARM_UP {
                times.push(elapsed);
            }
        }
        times.sort();
        println!(
            "filtered, ordered, top 50{}: median {:.2} ms, p99 {:.2} ms ({RUNS} requests over HTTP)",
            if count { ", with $count" } else { "" },
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.99)),
        );
    }
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}
