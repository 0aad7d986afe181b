//! Ingest throughput: N valid events (order releases and progress, quality results, equipment
//! states, material movements) against a small plant, appended in batches to a file-backed
//! SQLite database with the production durability settings (WAL, `synchronous = FULL`).
//!
//! Run with `cargo bench -p store --bench ingest`; environment overrides: `INGEST_EVENTS`
//! (default 200000), `INGEST_BATCH` (1000), `INGEST_RUNS` (5), `INGEST_SNAPSHOT_EVERY` (events
//! between state snapshots, `store::snapshot::DEFAULT_INTERVAL` by default; 0 writes none, as
//! before snapshots existed). Prints every run and the median
//! events per second, and the time of a read of the in-memory state (`Store::snapshot`, which
//! first checks whether another process wrote). Not a timed test: nothing fails on a slow
//! machine.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use common::{Gen, T0, TempDir, plant};
use model::Timestamp;
use store::{Actor, Store};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// User + system CPU seconds of this process so far (Linux), to tell the store's own cost apart
/// from other load on a shared machine.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing else we need.
    let events_n = env("INGEST_EVENTS", 200_000);
    let batch = env("INGEST_BATCH", 1_000);
    let runs = env("INGEST_RUNS", 5);
    let snapshot_every = env(
        "INGEST_SNAPSHOT_EVERY",
        store::snapshot::DEFAULT_INTERVAL as usize,
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");

    let events = Gen::bench(42).take(events_n);
    let kinds = {
        let mut kinds = std::collections::BTreeMap::<&str, usize>::new();
        for event in &events {
            *kinds.entry(event.kind.type_name()).or_default() += 1;
        }
        kinds
    };
    println!(
        "ingest: {events_n} events in batches of {batch}, {runs} runs, a snapshot every {snapshot_every} events; mix {kinds:?}"
    );

    let actor = Actor::service("bench");
    let mut rates = Vec::new();
    let mut reads = Vec::new();
    for run in 1..=runs {
        let dir = TempDir::new("bench");
        let path = dir.path().join("bench.sqlite");
        let (rate, read_us) = runtime.block_on(async {
            let store = Store::open_sqlite(&path).await.expect("open");
            store.set_snapshot_interval(snapshot_every as u64);
            store
                .put_plant_at(plant(), Some(Timestamp(T0)), &actor)
                .await
                .expect("plant");
            let started = Instant::now();
            let cpu_start = cpu_seconds();
            for chunk in events.chunks(batch) {
                let outcome = store.append(chunk, &actor).await.expect("append");
                assert_eq!(outcome.inserted, chunk.len());
            }
            let seconds = started.elapsed().as_secs_f64();
            let cpu = cpu_seconds().zip(cpu_start).map(|(end, start)| end - start);
            let rate = events_n as f64 / seconds;
            let state = store.state().await;
            const READS: u32 = 20_000;
            let read_started = Instant::now();
            for _ in 0..READS {
                std::hint::black_box(store.snapshot().await);
            }
            let read_us = read_started.elapsed().as_secs_f64() * 1e6 / f64::from(READS);
            drop(store);

            let reopened = Instant::now();
            let store = Store::open_sqlite(&path).await.expect("reopen");
            let reopen = reopened.elapsed().as_secs_f64();
            assert_eq!(store.state().await.events_applied, state.events_applied);
            let from = store.opened().snapshot_seq;
            let size = std::fs::metadata(&path).map_or(0, |m| m.len())
                + std::fs::metadata(path.with_extension("sqlite-wal")).map_or(0, |m| m.len());
            println!(
                "run {run}: {seconds:.2} s, {rate:.0} events/s (process CPU {}); {} orders, {} lots in state; reopen {reopen:.2} s (from snapshot at {:?}); db {:.1} MB; snapshot read {read_us:.1} µs",
                cpu.map_or("n/a".to_owned(), |c| format!("{c:.2} s")),
                state.orders.len(),
                state.lots.len(),
                from,
                size as f64 / 1e6
            );
            (rate, read_us)
        });
        rates.push(rate);
        reads.push(read_us);
    }
    rates.sort_by(f64::total_cmp);
    reads.sort_by(f64::total_cmp);
    let median = rates[rates.len() / 2];
    let read = reads[reads.len() / 2];
    println!(
        "median: {median:.0} events/s ({events_n} events, batches of {batch}, {runs} runs); snapshot read {read:.1} µs"
    );
}
