//! Open time: how long `Store::open_sqlite` takes on a database of N events (the ingest bench's
//! mix against the small plant), from a snapshot and by a full replay of the log.
//!
//! For each size the bench builds the database once (appending in batches with the default
//! snapshot interval, so it also reports the ingest rate with snapshots on), then times:
//! opening from the snapshot the appends left (a tail of up to one interval to fold), a
//! snapshot written on demand (`Store::write_snapshot`: its size and cost), opening from that
//! snapshot (no tail), and opening with the snapshots set aside (a full replay).
//!
//! Run with `cargo bench -p store --bench open`; environment: `OPEN_EVENTS` (comma-separated
//! sizes, default `200000`; e.g. `1500000,10000000`), `OPEN_RUNS` (timed opens per case, 5;
//! medians are reported), `OPEN_REPLAY_RUNS` (full-replay opens, 3: each takes minutes at 10 M; 0 skips them),
//! `OPEN_DIR` (where the databases go, the system temp dir by default: several GB at 10 M),
//! `OPEN_KEEP=1` to keep the databases and reuse one of the right size next time.
//! `OPEN_STATE_EVENTS` (comma-separated sizes, none by default) times the parts of an open that
//! grow with the state without building a database: the same events folded in memory, then the
//! snapshot's encoding, digest, decoding (alone, and after the digest as an open does; each
//! timed until the state is in hand, its drop apart) and the clone of the
//! writer's copy. Use `OPEN_EVENTS=` (empty) to time only that. With `OPEN_STATE_DUMP=FILE`
//! it also writes the snapshot body there, and `OPEN_DECODE_FILE=FILE` times only decoding
//! such a body, first in a fresh process, without folding a state first.
//! Not a timed test: nothing fails on a slow machine.

#[path = "../tests/common/mod.rs"]
mod common;

/// The binary's allocator, so that the figures are what `mixplane serve` waits for
/// (rebuild without these lines to compare with the system allocator).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::{Path, PathBuf};
use std::time::Instant;

use common::{Gen, T0, plant, tamper};
use model::Timestamp;
use store::{Actor, Store};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// User + system CPU seconds of this process so far (Linux).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
    ticks(11)
        .zip(ticks(12))
        .map_or(f64::NAN, |(u, s)| (u + s) / 100.0)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn db_size(path: &Path) -> f64 {
    let size = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len());
    (size(path) + size(&path.with_extension("sqlite-wal"))) as f64 / 1e6
}

/// Builds (or, with `OPEN_KEEP`, reuses) a database of `n` events.
async fn build(path: &Path, n: usize, keep: bool) {
    if keep && path.exists() {
        // The first open of a process, as a service starting on the database has it (its
        // allocator takes all the memory fresh from the system).
        let started = Instant::now();
        let store = Store::open_sqlite(path).await.expect("open");
        let first = started.elapsed().as_secs_f64();
        if store.counts().await.expect("counts").events == n as u64 {
            println!(
                "  reusing {}; the process's first open took {first:.3} s ({} events folded)",
                path.display(),
                store.opened().folded
            );
            return;
        }
        drop(store);
    }
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(file));
    }
    let actor = Actor::service("bench");
    let store = Store::open_sqlite(path).await.expect("open");
    store
        .put_plant_at(plant(), Some(Timestamp(T0)), &actor)
        .await
        .expect("plant");
    let batch = env("OPEN_BATCH", 1_000);
    let mut generator = Gen::bench(42);
    let (started, cpu) = (Instant::now(), cpu_seconds());
    let mut done = 0;
    while done < n {
        let events = generator.take(batch.min(n - done));
        store.append(&events, &actor).await.expect("append");
        done += events.len();
        if done % 1_000_000 < batch {
            println!(
                "  {done} events, {:.0} events/s so far",
                done as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "  built: {n} events in {seconds:.0} s, {:.0} events/s with a snapshot every {} events (process CPU {:.0} s); db {:.0} MB",
        n as f64 / seconds,
        store::snapshot::DEFAULT_INTERVAL,
        cpu_seconds() - cpu,
        db_size(path)
    );
}

/// Waits until this process is idle (under 10 ms of CPU in 200 ms): an open hands the
/// writer's copy of the state to a background task, and dropping a store frees millions of
/// strings, so without this a timed open would share the CPU with the last one's leftovers.
async fn settle() {
    loop {
        let cpu = cpu_seconds();
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        if cpu_seconds() - cpu < 0.01 {
            return;
        }
    }
}

/// Opens `path` `runs` times, each on an idle process; the median wall and CPU seconds (the
/// CPU of the writer's copy, which starts in the background before an open returns, partly
/// included) and what the last open folded.
async fn time_opens(path: &Path, runs: usize) -> (f64, f64, store::Opened) {
    let (mut walls, mut cpus) = (Vec::new(), Vec::new());
    let mut opened = store::Opened::default();
    for _ in 0..runs {
        settle().await;
        let (started, cpu) = (Instant::now(), cpu_seconds());
        let store = Store::open_sqlite(path).await.expect("open");
        walls.push(started.elapsed().as_secs_f64());
        cpus.push(cpu_seconds() - cpu);
        opened = store.opened();
        drop(store);
    }
    (median(walls), median(cpus), opened)
}

/// The state-size-bound parts of an open, on a state folded in memory from `n` events.
fn state_only(n: usize) {
    let catalog = model::Catalog::new(plant()).expect("the bench plant validates");
    let mut state = model::PlantState::initial(&catalog, Timestamp(T0));
    let mut generator = Gen::bench(42);
    let started = Instant::now();
    for _ in 0..n {
        state
            .apply(&catalog, &generator.next_event())
            .expect("valid");
    }
    println!(
        "state of {n} events (folded in memory in {:.0} s): {} orders, {} lots, {} serials",
        started.elapsed().as_secs_f64(),
        state.orders.len(),
        state.lots.len(),
        state.serials.len()
    );
    let time = |f: &mut dyn FnMut()| {
        median(
            (0..3)
                .map(|_| {
                    let started = Instant::now();
                    f();
                    started.elapsed().as_secs_f64()
                })
                .collect(),
        )
    };
    let mut body = Vec::new();
    let encode = time(&mut || body = store::snapshot::codec::encode(&state));
    if let Some(path) = std::env::var_os("OPEN_STATE_DUMP") {
        std::fs::write(path, &body).expect("dump");
    }
    let digest = time(&mut || {
        use sha2::Digest as _;
        std::hint::black_box(sha2::Sha256::digest(&body));
    });
    // Timed to the decoded state in hand: its drop (freeing millions of strings, seconds at
    // 10 M events) is what an open never does, so it happens after the clock stops.
    let time_decode = |f: &mut dyn FnMut() -> model::PlantState| {
        let mut drops = Vec::new();
        let wall = median(
            (0..3)
                .map(|_| {
                    let started = Instant::now();
                    let decoded = f();
                    let seconds = started.elapsed().as_secs_f64();
                    assert_eq!(decoded.orders.len(), state.orders.len());
                    let dropped = Instant::now();
                    drop(decoded);
                    drops.push(dropped.elapsed().as_secs_f64());
                    seconds
                })
                .collect(),
        );
        (wall, median(drops))
    };
    let (decode, drop_decoded) =
        time_decode(&mut || store::snapshot::codec::decode(&body).expect("decodes"));
    // What an open does with the body: check its digest, then decode it.
    let (verify_decode, _) = time_decode(&mut || {
        use sha2::Digest as _;
        std::hint::black_box(sha2::Sha256::digest(&body));
        store::snapshot::codec::decode(&body).expect("decodes")
    });
    assert!(store::snapshot::codec::decode(&body).expect("decodes") == state);
    let (clone, _) = time_decode(&mut || state.clone());
    println!(
        "  snapshot {:.1} MB: encode {encode:.3} s, SHA-256 {digest:.3} s, decode {decode:.3} s, digest then decode (as an open) {verify_decode:.3} s (medians of 3; dropping a decoded state {drop_decoded:.3} s, not counted); the writer's copy (clone, in the background) {clone:.3} s",
        body.len() as f64 / 1e6
    );
}

/// Decodes a body written by `OPEN_STATE_DUMP` five times in this fresh process: the first
/// decode takes its memory fresh from the system, as a service's first open does.
fn decode_file(path: &str) {
    let body = std::fs::read(path).expect("the body to decode");
    let mut walls = Vec::new();
    for run in 1..=5 {
        let (started, cpu) = (Instant::now(), cpu_seconds());
        let decoded = store::snapshot::codec::decode(&body).expect("decodes");
        let wall = started.elapsed().as_secs_f64();
        println!(
            "  decode {run}: {wall:.3} s (CPU {:.3} s), {} orders",
            cpu_seconds() - cpu,
            decoded.orders.len()
        );
        walls.push(wall);
        drop(decoded);
    }
    println!(
        "decoding {:.1} MB: first {:.3} s, median {:.3} s",
        body.len() as f64 / 1e6,
        walls[0],
        median(walls.clone())
    );
}

fn main() {
    if let Ok(path) = std::env::var("OPEN_DECODE_FILE") {
        decode_file(&path);
        return;
    }
    for n in std::env::var("OPEN_STATE_EVENTS")
        .unwrap_or_default()
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
    {
        state_only(n);
    }
    let sizes: Vec<usize> = std::env::var("OPEN_EVENTS")
        .unwrap_or_else(|_| "200000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let runs = env("OPEN_RUNS", 5).max(1);
    let replay_runs = env("OPEN_REPLAY_RUNS", 3);
    let keep = std::env::var_os("OPEN_KEEP").is_some();
    let dir = std::env::var_os("OPEN_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");

    for n in sizes {
        let path = dir.join(format!("mixplane-open-bench-{n}.sqlite"));
        println!("open: {n} events at {}", path.display());
        runtime.block_on(async {
            build(&path, n, keep).await;

            let (wall, cpu, opened) = time_opens(&path, runs).await;
            println!(
                "  open from the appends' snapshot: median {wall:.3} s (CPU {cpu:.3} s) over {runs}; snapshot at seq {:?}, {} events folded after it",
                opened.snapshot_seq, opened.folded
            );

            let store = Store::open_sqlite(&path).await.expect("open");
            let state = store.state().await;
            println!(
                "  state: {} orders, {} units, {} lots, {} serials",
                state.orders.len(),
                state.units.len(),
                state.lots.len(),
                state.serials.len()
            );
            drop(state);
            let mut infos = Vec::new();
            for _ in 0..3 {
                infos.push(store.write_snapshot().await.expect("snapshot").expect("events"));
            }
            let info = infos.last().expect("three").clone();
            println!(
                "  snapshot at seq {}: {:.1} MB, encode+hash median {:.0} ms, write+commit median {:.0} ms",
                info.seq,
                info.bytes as f64 / 1e6,
                median(infos.iter().map(|i| i.encode_ms).collect()),
                median(infos.iter().map(|i| i.write_ms).collect()),
            );
            drop(store);

            let (wall, cpu, opened) = time_opens(&path, runs).await;
            println!(
                "  open from a snapshot at the log's end: median {wall:.3} s (CPU {cpu:.3} s) over {runs}; {} events folded",
                opened.folded
            );

            if replay_runs == 0 {
                return;
            }
            // Set the snapshot aside (and put it back after) to time the full replay.
            tamper(
                &path,
                &[
                    "DROP TABLE IF EXISTS bench_snapshots",
                    "CREATE TABLE bench_snapshots AS SELECT * FROM state_snapshots",
                    "DELETE FROM state_snapshots",
                ],
            )
            .await;
            let (wall, cpu, opened) = time_opens(&path, replay_runs).await;
            println!(
                "  open by a full replay: median {wall:.3} s (CPU {cpu:.3} s) over {replay_runs}; {} events folded",
                opened.folded
            );
            tamper(
                &path,
                &[
                    "INSERT INTO state_snapshots SELECT * FROM bench_snapshots",
                    "DROP TABLE bench_snapshots",
                ],
            )
            .await;
        });
        if !keep {
            for suffix in ["", "-wal", "-shm"] {
                let mut file = path.as_os_str().to_owned();
                file.push(suffix);
                let _ = std::fs::remove_file(PathBuf::from(file));
            }
        }
    }
}
