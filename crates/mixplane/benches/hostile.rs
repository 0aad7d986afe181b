//! A hostile client against a served instance, measured: `mixplane serve` runs in a child
//! process on loopback over a demo data directory, and while normal readers list orders the
//! bench sends documents nested 35,000 deep (XML and JSON, to the trace, EPCIS, event and
//! schedule endpoints), a flood of wrong secrets (128 clients at once, known and unknown
//! token ids) and 500 connections that send half a header and stop.
//!
//! It reports whether the server stayed up, its peak resident memory (`VmHWM` of the child,
//! and `VmRSS` sampled every 50 ms), the normal reads' latency (p50, p99, max) before and
//! during the attack, what the attackers were answered, and how soon the stalled connections
//! were closed. Targets: peak memory under 500 MB, p99 of normal reads under 100 ms.
//!
//! Run with `cargo bench -p mixplane --bench hostile` (the bench profile builds the binary
//! optimised). Environment overrides: `HOSTILE_SECONDS` (attack length, default 20),
//! `HOSTILE_FLOOD` (concurrent wrong-secret clients, 128), `HOSTILE_STALLED` (500),
//! `HOSTILE_READERS` (4), `HOSTILE_BIN` (another `mixplane` binary). Not a timed test:
//! nothing fails on a slow machine; the report says whether the targets were met.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Mutex;

const PEAK_TARGET_MB: f64 = 500.0;
const P99_TARGET_MS: f64 = 100.0;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn binary() -> PathBuf {
    std::env::var_os("HOSTILE_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_mixplane")))
}

/// Runs `mixplane args…` to completion; its stdout.
fn run(args: &[&str]) -> String {
    let out = Command::new(binary())
        .args(args)
        .stderr(Stdio::null())
        .output()
        .expect("the mixplane binary runs");
    assert!(out.status.success(), "mixplane {args:?} failed");
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// A demo data directory and an admin token for it.
fn prepare(dir: &Path) -> String {
    let data = dir.to_str().unwrap();
    run(&["demo", "--no-serve", "--days", "2", "--data-dir", data]);
    let token = run(&[
        "token",
        "create",
        "--name",
        "bench-admin",
        "--role",
        "admin",
        "--scope",
        "*",
        "--data-dir",
        data,
    ]);
    token.trim().to_owned()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `/proc/PID/status` figure in MB (`VmRSS`, `VmHWM`).
fn memory_mb(pid: u32, field: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Milliseconds of each normal read, and the failures among them.
#[derive(Default)]
struct Reads {
    millis: Vec<f64>,
    failed: u64,
}

impl Reads {
    fn summary(&mut self) -> (f64, f64, f64) {
        self.millis.sort_by(f64::total_cmp);
        let max = self.millis.last().copied().unwrap_or(f64::NAN);
        (
            percentile(&self.millis, 50.0),
            percentile(&self.millis, 99.0),
            max,
        )
    }
}

/// Normal readers: each lists 20 orders, then pauses 20 ms, until `stop`.
async fn read_normally(
    client: reqwest::Client,
    url: String,
    token: String,
    stop: Arc<AtomicBool>,
) -> Reads {
    let mut reads = Reads::default();
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        match client.get(&url).bearer_auth(&token).send().await {
            Ok(response) if response.status() == 200 => {
                let _ = response.bytes().await;
                reads.millis.push(started.elapsed().as_secs_f64() * 1e3);
            }
            _ => reads.failed += 1,
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    reads
}

type Statuses = Arc<Mutex<BTreeMap<String, u64>>>;

async fn count(statuses: &Statuses, key: String) {
    *statuses.lock().await.entry(key).or_default() += 1;
}

/// One wrong-secret client: known and unknown ids in turn, a new secret each time.
async fn flood(
    client: reqwest::Client,
    url: String,
    known_id: String,
    worker: u64,
    deadline: Instant,
    statuses: Statuses,
) {
    let mut n = 0u64;
    while Instant::now() < deadline {
        n += 1;
        let id = if n.is_multiple_of(2) {
            known_id.clone()
        } else {
            format!("{:016x}", worker << 32 | n)
        };
        let token = format!("mxp_{id}_{:064x}", u128::from(worker) << 64 | u128::from(n));
        let key = match client.get(&url).bearer_auth(&token).send().await {
            Ok(response) => response.status().as_u16().to_string(),
            Err(_) => "connection error".to_owned(),
        };
        count(&statuses, key).await;
    }
}

fn deep_documents() -> Vec<(&'static str, &'static str, String)> {
    let depth = 35_000;
    let xml = format!("{}{}", "<a>".repeat(depth), "</a>".repeat(depth));
    let json = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let object = format!(
        "{{\"problem\": {}1{}}}",
        "{\"a\": ".repeat(depth),
        "}".repeat(depth)
    );
    vec![
        ("/v1/trace/import", "application/xml", xml.clone()),
        ("/epcis/capture", "application/xml", xml),
        ("/v1/trace/import", "application/json", json.clone()),
        ("/epcis/capture", "application/ld+json", json.clone()),
        ("/v1/events", "application/json", json),
        ("/v1/schedule/solve", "application/json", object.clone()),
        ("/v1/schedule/check", "application/json", object),
    ]
}

/// Sends the deep documents in turn until `deadline`.
async fn send_deep(
    client: reqwest::Client,
    base: String,
    token: String,
    deadline: Instant,
    statuses: Statuses,
) {
    let documents = deep_documents();
    while Instant::now() < deadline {
        for (path, content_type, body) in &documents {
            let answer = client
                .post(format!("{base}{path}"))
                .bearer_auth(&token)
                .header("content-type", *content_type)
                .body(body.clone())
                .send()
                .await;
            let key = match answer {
                Ok(response) => {
                    let problem = response
                        .headers()
                        .get("content-type")
                        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
                    format!(
                        "{} {}",
                        response.status().as_u16(),
                        if problem { "problem+json" } else { "other" }
                    )
                }
                Err(_) => "connection error".to_owned(),
            };
            count(&statuses, key).await;
        }
    }
}

/// Medians, in ms, of the 401 for a wrong secret on the known id and on unknown ids: 8 of
/// each, alternating, one at a time (within the default failure limits).
async fn probe_timing(client: &reqwest::Client, url: &str, known_id: &str) -> (f64, f64) {
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for n in 0..16u64 {
        let id = if n.is_multiple_of(2) {
            known_id.to_owned()
        } else {
            format!("{:016x}", 0xdead_0000 + n)
        };
        let token = format!("mxp_{id}_{:064x}", 0xbeef_0000 + n);
        let started = Instant::now();
        let status = client
            .get(url)
            .bearer_auth(&token)
            .send()
            .await
            .map(|r| r.status().as_u16());
        let millis = started.elapsed().as_secs_f64() * 1e3;
        assert_eq!(status.ok(), Some(401), "a wrong secret is a 401");
        if n.is_multiple_of(2) {
            known.push(millis);
        } else {
            unknown.push(millis);
        }
    }
    known.sort_by(f64::total_cmp);
    unknown.sort_by(f64::total_cmp);
    (percentile(&known, 50.0), percentile(&unknown, 50.0))
}

/// A connection that sends half a header and stops: how long until the server closed it
/// (`None` if it was still open at `give_up`).
async fn stall(address: SocketAddr, give_up: Instant) -> Option<Duration> {
    let mut stream = TcpStream::connect(address).await.ok()?;
    let opened = Instant::now();
    stream
        .write_all(b"GET /v1/orders HTTP/1.1\r\nHost: bench\r\nAuthoriz")
        .await
        .ok()?;
    let mut buffer = [0u8; 512];
    let read = tokio::time::timeout_at(give_up.into(), stream.read(&mut buffer)).await;
    match read {
        Ok(_) => Some(opened.elapsed()),
        Err(_) => None,
    }
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The attacks are run twice: against the default limits (one attacker address, soon held
/// back by the failure limits), and with the failure limits lifted, as many addresses would
/// see them, so that every wrong secret reaches the verification slots and queue.
const SCENARIOS: [(&str, Option<&str>); 2] = [
    ("default limits", None),
    (
        "failure limits lifted (every wrong secret reaches the verification slots)",
        Some(
            "[server.limits]\nfailures_per_token = 1000000000\nfailures_per_client = 1000000000\n",
        ),
    ),
];

fn main() {
    let seconds = env("HOSTILE_SECONDS", 20);
    let flooders = env("HOSTILE_FLOOD", 128);
    let stalled = env("HOSTILE_STALLED", 500);
    let readers = env("HOSTILE_READERS", 4);
    let dir = std::env::temp_dir().join(format!("mixplane-hostile-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    println!(
        "# hostile client: preparing a demo data directory in {}",
        dir.display()
    );
    let token = prepare(&dir);
    let known_id = token
        .split('_')
        .nth(1)
        .expect("mxp_<id>_<secret>")
        .to_owned();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for (name, config) in SCENARIOS {
        println!("\n## {name}");
        let address: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let mut command = Command::new(binary());
        command
            .args(["serve", "--data-dir", dir.to_str().unwrap(), "--bind"])
            .arg(address.to_string());
        if let Some(config) = config {
            let path = dir.join("limits.toml");
            std::fs::write(&path, config).unwrap();
            command.arg("--config").arg(path);
        }
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mixplane serve starts");
        let mut server = Server(child);
        let pid = server.0.id();
        let report = runtime.block_on(attack(
            address,
            pid,
            token.clone(),
            known_id.clone(),
            seconds,
            flooders,
            stalled,
            readers,
        ));
        let alive = server.0.try_wait().ok().flatten().is_none();
        drop(server);
        report.print(alive);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

struct Report {
    /// Median ms of a wrong secret's 401 on the known id, and on unknown ids.
    timing: (f64, f64),
    baseline: (f64, f64, f64),
    baseline_failed: u64,
    under_attack: (f64, f64, f64),
    reads: usize,
    failed: u64,
    rss_before: f64,
    rss_peak_sampled: f64,
    hwm: f64,
    flood: BTreeMap<String, u64>,
    deep: BTreeMap<String, u64>,
    stalled_closed: Vec<f64>,
    stalled_total: u64,
    healthy_after: bool,
    seconds: u64,
    flooders: u64,
}

impl Report {
    fn print(&self, alive: bool) {
        let up = alive && self.healthy_after;
        println!("server stayed up: {}", if up { "yes" } else { "NO" });
        println!(
            "memory: {:.0} MB before the attack; peak {:.0} MB (VmHWM), {:.0} MB sampled VmRSS; target < {PEAK_TARGET_MB:.0} MB: {}",
            self.rss_before,
            self.hwm,
            self.rss_peak_sampled,
            if self.hwm < PEAK_TARGET_MB {
                "met"
            } else {
                "MISSED"
            }
        );
        println!(
            "wrong secret answered 401 in {:.1} ms (median) for a known id, {:.1} ms for an unknown id",
            self.timing.0, self.timing.1
        );
        let (p50, p99, max) = self.baseline;
        println!(
            "normal reads before: p50 {p50:.1} ms, p99 {p99:.1} ms, max {max:.1} ms ({} failed)",
            self.baseline_failed
        );
        let (p50, p99, max) = self.under_attack;
        println!(
            "normal reads during ({} reads, {} failed): p50 {p50:.1} ms, p99 {p99:.1} ms, max {max:.1} ms; target p99 < {P99_TARGET_MS:.0} ms: {}",
            self.reads,
            self.failed,
            if p99 < P99_TARGET_MS { "met" } else { "MISSED" }
        );
        let total: u64 = self.flood.values().sum();
        println!(
            "wrong-secret flood ({} clients, {} s): {total} requests, answers {:?}",
            self.flooders, self.seconds, self.flood
        );
        println!("deep documents: answers {:?}", self.deep);
        let mut closed = self.stalled_closed.clone();
        closed.sort_by(f64::total_cmp);
        println!(
            "stalled connections: {} of {} closed by the server, median after {:.1} s, last after {:.1} s",
            closed.len(),
            self.stalled_total,
            percentile(&closed, 50.0),
            closed.last().copied().unwrap_or(f64::NAN)
        );
    }
}

#[allow(clippy::too_many_arguments)]
async fn attack(
    address: SocketAddr,
    pid: u32,
    token: String,
    known_id: String,
    seconds: u64,
    flooders: u64,
    stalled: u64,
    readers: u64,
) -> Report {
    let base = format!("http://{address}");
    let client = reqwest::Client::new();
    let health = format!("{base}/healthz");
    let up = async {
        for _ in 0..200 {
            if client
                .get(&health)
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
            {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    };
    assert!(up.await, "the server did not come up");
    let orders = format!("{base}/v1/orders?limit=20");
    // Baseline: the readers alone for 3 s (the first read also verifies the token once).
    let _ = client.get(&orders).bearer_auth(&token).send().await;
    let baseline = run_readers(&client, &orders, &token, readers, Duration::from_secs(3)).await;
    let timing = probe_timing(&client, &format!("{base}/v1/orders"), &known_id).await;
    let rss_before = memory_mb(pid, "VmRSS:").unwrap_or(f64::NAN);
    println!(
        "# attack: {seconds} s, {flooders} wrong-secret clients, {stalled} stalled connections, deep documents, {readers} readers"
    );

    let deadline = Instant::now() + Duration::from_secs(seconds);
    let stop = Arc::new(AtomicBool::new(false));
    let peak_rss = Arc::new(AtomicU64::new(0));
    let sampler = {
        let stop = stop.clone();
        let peak_rss = peak_rss.clone();
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                if let Some(mb) = memory_mb(pid, "VmRSS:") {
                    peak_rss.fetch_max(mb as u64, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    let give_up = deadline + Duration::from_secs(15);
    let stalls: Vec<_> = (0..stalled)
        .map(|_| tokio::spawn(stall(address, give_up)))
        .collect();
    let flood_statuses = Statuses::default();
    let floods: Vec<_> = (0..flooders)
        .map(|worker| {
            // One client each, as many attackers would be: each its own connections.
            tokio::spawn(flood(
                reqwest::Client::new(),
                format!("{base}/v1/orders"),
                known_id.clone(),
                worker,
                deadline,
                flood_statuses.clone(),
            ))
        })
        .collect();
    let deep_statuses = Statuses::default();
    let deep = tokio::spawn(send_deep(
        reqwest::Client::new(),
        base.clone(),
        token.clone(),
        deadline,
        deep_statuses.clone(),
    ));
    // The readers run on a thread and runtime of their own, so that the attackers' tasks in
    // this runtime do not delay them: what they measure is the server.
    let readers_thread = {
        let (orders, token) = (orders.clone(), token.clone());
        let length = deadline.saturating_duration_since(Instant::now());
        std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(run_readers(
                    &reqwest::Client::new(),
                    &orders,
                    &token,
                    readers,
                    length,
                ))
        })
    };
    let mut under_attack = tokio::task::spawn_blocking(move || readers_thread.join())
        .await
        .unwrap()
        .expect("the readers' thread finishes");
    for flood in floods {
        let _ = flood.await;
    }
    let _ = deep.await;
    let mut stalled_closed = Vec::new();
    for stall in stalls {
        if let Ok(Some(after)) = stall.await {
            stalled_closed.push(after.as_secs_f64());
        }
    }
    stop.store(true, Ordering::Relaxed);
    let _ = sampler.await;
    let healthy_after = client
        .get(&orders)
        .bearer_auth(&token)
        .send()
        .await
        .is_ok_and(|r| r.status() == 200);
    let hwm = memory_mb(pid, "VmHWM:").unwrap_or(f64::NAN);
    let mut baseline = baseline;
    Report {
        timing,
        baseline: baseline.summary(),
        baseline_failed: baseline.failed,
        reads: under_attack.millis.len(),
        failed: under_attack.failed,
        under_attack: under_attack.summary(),
        rss_before,
        rss_peak_sampled: peak_rss.load(Ordering::Relaxed) as f64,
        hwm,
        flood: flood_statuses.lock().await.clone(),
        deep: deep_statuses.lock().await.clone(),
        stalled_closed,
        stalled_total: stalled,
        healthy_after,
        seconds,
        flooders,
    }
}

/// `readers` normal readers for `length`; their reads together.
async fn run_readers(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    readers: u64,
    length: Duration,
) -> Reads {
    let stop = Arc::new(AtomicBool::new(false));
    let tasks: Vec<_> = (0..readers)
        .map(|_| {
            tokio::spawn(read_normally(
                client.clone(),
                url.to_owned(),
                token.to_owned(),
                stop.clone(),
            ))
        })
        .collect();
    tokio::time::sleep(length).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Reads::default();
    for task in tasks {
        if let Ok(reads) = task.await {
            all.millis.extend(reads.millis);
            all.failed += reads.failed;
        }
    }
    all
}
