//! What the emulator can serve, measured: an emulator on loopback with a manual clock, the
//! plant moved on `FEED_DAYS` (default 7) plant days, then every set of every app read as a
//! connector's change feed (`$filter=ModifiedOn gt <cursor>&$orderby=ModifiedOn,Id`, pages of
//! `FEED_PAGE` rows, default 100, following `@odata.nextLink` to the end) over HTTP, from
//! the run's start, `FEED_RUNS` times (default 5).
//!
//! Reports per set the rows, the median time of a whole read and rows per second, and per
//! page the median and p99 latency: the ceiling the OData source's own benchmark runs under.
//! Run with `cargo bench -p mesemu --bench feed`. Not a timed test: nothing fails on a slow
//! machine.

use std::time::{Duration, Instant};

use mesemu::client::{Client, next_link};
use mesemu::{Config, Emulator, Step};
use opcenter::EntitySet;
use serde_json::Value;

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

fn main() {
    let days = env("FEED_DAYS", 7);
    let page_size = env("FEED_PAGE", 100) as usize;
    let runs = env("FEED_RUNS", 5).max(1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let config = Config {
            speed: 0.0,
            days: days as f64 + 1.0,
            page_size,
            ..Config::default()
        };
        let credentials = config.credentials.clone();
        let start = config.start;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let emulator = Emulator::start(listener, config).await.unwrap();
        let began = Instant::now();
        let status = emulator
            .advance(Step::Minutes(days as f64 * 24.0 * 60.0))
            .await
            .unwrap();
        println!(
            "plant: {days} days, {} events folded in {:.2} s; pages of {page_size}, {runs} runs",
            status.events,
            began.elapsed().as_secs_f64()
        );
        let base = format!("http://{}", emulator.addr());
        let client = Client::new(base.clone(), credentials);
        let token = client.sign_in().await.unwrap();
        let cursor = opcenter::wire::time_text(start);
        println!(
            "{:<24} {:>7} {:>10} {:>10} {:>10} {:>10}",
            "set", "rows", "read ms", "rows/s", "page p50", "page p99"
        );
        let (mut all_rows, mut all_time) = (0usize, Duration::ZERO);
        for set in EntitySet::ALL {
            let first = format!(
                "{base}/sit-svc/Application/{}/odata/{}?$filter=ModifiedOn%20gt%20{cursor}&$orderby=ModifiedOn,Id",
                set.app(),
                set.name()
            );
            let mut reads = Vec::new();
            let mut pages = Vec::new();
            let mut rows = 0;
            for _ in 0..runs {
                let read_began = Instant::now();
                let mut next = Some(first.clone());
                rows = 0;
                while let Some(url) = next.take() {
                    let page_began = Instant::now();
                    let page: Value = client.page(&token, &url).await.unwrap();
                    pages.push(page_began.elapsed().as_secs_f64() * 1000.0);
                    rows += page["value"].as_array().map_or(0, Vec::len);
                    next = next_link(&url, &page);
                }
                reads.push(read_began.elapsed());
            }
            reads.sort();
            pages.sort_by(f64::total_cmp);
            let median = reads[reads.len() / 2];
            all_rows += rows;
            all_time += median;
            println!(
                "{:<24} {:>7} {:>10.1} {:>10.0} {:>10.2} {:>10.2}",
                set.name(),
                rows,
                median.as_secs_f64() * 1000.0,
                rows as f64 / median.as_secs_f64().max(1e-9),
                percentile(&pages, 50.0),
                percentile(&pages, 99.0)
            );
        }
        println!(
            "all sets: {all_rows} rows in {:.1} ms (median reads) = {:.0} rows/s",
            all_time.as_secs_f64() * 1000.0,
            all_rows as f64 / all_time.as_secs_f64().max(1e-9)
        );
        emulator.stop().await;
    });
}
