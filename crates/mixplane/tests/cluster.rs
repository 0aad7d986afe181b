//! Three `mixplane serve` nodes over one PostgreSQL store and NATS JetStream: the leader is
//! killed with SIGKILL during HTTP ingest and connector ingest; another node takes the
//! plant's lease within seconds, nothing acknowledged is lost, nothing is stored or published
//! twice, and a paused old leader that wakes cannot write.
//!
//! Needs the `nats` feature, PostgreSQL (`MIXPLANE_TEST_POSTGRES`, as `.ci/run`'s PostgreSQL
//! pass sets) and the machine's NATS with JetStream on 127.0.0.1:4222 (required under
//! `MIXPLANE_REQUIRE_BROKERS=1`).

#![cfg(feature = "nats")]

mod common;

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::TempDir;
use common::serve::Server;

const NATS: &str = "nats://127.0.0.1:4222";
const TTL_MS: u64 = 1500;
const BATCH: usize = 50;
const CONNECTOR: &str = "svc-feed";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A POST that answers an error instead of panicking when the node is gone.
fn try_post(address: &str, path: &str, token: &str, body: &str) -> Result<u16, String> {
    let mut stream = TcpStream::connect(address).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Type: application/json\r\nAuthorization: Bearer {token}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(body.as_bytes()))
        .map_err(|e| e.to_string())?;
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .map_err(|e| e.to_string())?;
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("not an HTTP answer: {answer:?}"))
}

/// The characteristic the ingest measures: individuals, two-sided limits, 15 results of
/// phase I for a process-mode material.
const CHARACTERISTIC: &str = "EA100-VISC";

/// `count` fresh events `{prefix}-{n}` from `from`, as JSON objects: equipment states, and
/// every tenth a viscosity result (every 23rd of those far beyond the limits), so that
/// every batch has the node that takes it run quality enforcement.
fn events(prefix: &str, from: usize, count: usize, units: &[String]) -> Vec<(String, String)> {
    const STATES: [&str; 3] = ["running", "idle", "setup"];
    const WIGGLE: [f64; 10] = [
        120.0, -80.0, 40.0, -150.0, 90.0, -30.0, 60.0, -110.0, 10.0, 70.0,
    ];
    (from..from + count)
        .map(|n| {
            let id = format!("{prefix}-{n}");
            let time = model::Timestamp(1_800_000_000_000 + n as i64 * 10);
            let line = if n % 10 == 9 {
                let k = n / 10;
                let value = if k % 23 == 22 {
                    14_500.0
                } else {
                    12_000.0 + WIGGLE[k % WIGGLE.len()]
                };
                format!(
                    r#"{{"id":"{id}","time":"{time}","source":"cluster-test","type":"quality_result_recorded","characteristic":"{CHARACTERISTIC}","value":{value:.1}}}"#
                )
            } else {
                let unit = &units[n % units.len()];
                let state = STATES[(n / units.len()) % STATES.len()];
                format!(
                    r#"{{"id":"{id}","time":"{time}","source":"cluster-test","type":"equipment_state_changed","unit":"{unit}","state":"{state}"}}"#
                )
            };
            (id, line)
        })
        .collect()
}

/// Every alert of `store` (their bodies too: what was judged, against which limits) and
/// every nonconformance's id, state, characteristic and items, in the store's order.
async fn judged(store: &store::Store) -> (Vec<store::StoredAlert>, Vec<String>) {
    let alerts = every_page(|offset| {
        store.alerts(store::AlertFilter {
            limit: 500,
            offset,
            ..Default::default()
        })
    })
    .await;
    let ncs = every_page(|offset| {
        store.nonconformances(store::NcFilter {
            limit: 500,
            offset,
            ..Default::default()
        })
    })
    .await
    .into_iter()
    .map(|nc| {
        format!(
            "{} {} {:?} {:?}",
            nc.id, nc.state, nc.characteristic, nc.items
        )
    })
    .collect();
    (alerts, ncs)
}

/// Every item of a paged list, asking for each page from the offset reached.
async fn every_page<T, Fut>(mut page: impl FnMut(u32) -> Fut) -> Vec<T>
where
    Fut: std::future::Future<Output = store::Result<store::Page<T>>>,
{
    let mut all = Vec::new();
    loop {
        let next = page(all.len() as u32).await.expect("a page reads");
        let done = next.items.is_empty() || all.len() + next.items.len() >= next.total as usize;
        all.extend(next.items);
        if done {
            return all;
        }
    }
}

/// The log of `store` appended, in its order and in batches of other sizes, to a fresh store
/// of one process, then judged there in one enforcement run: what the cluster judged batch by
/// batch on whichever node took each batch (a leader killed and one paused among them) must
/// be exactly this.
async fn judged_again_in_one_store(store: &store::Store) -> (Vec<store::StoredAlert>, Vec<String>) {
    let replay = store::test_support::private_store()
        .await
        .expect("a store for the replay");
    let actor = store::Actor::service("cluster-replay");
    replay
        .put_plant(sim::reference_plant(), &actor)
        .await
        .expect("the plant");
    let mut after = None;
    loop {
        let page = store
            .events(store::EventFilter {
                after_seq: after,
                limit: 700,
                ..Default::default()
            })
            .await
            .expect("the log reads");
        let Some(last) = page.last() else { break };
        after = Some(last.seq);
        let events: Vec<model::Event> = page.into_iter().map(|e| e.event).collect();
        replay.append(&events, &actor).await.expect("the replay");
    }
    app::quality::enforce(&replay)
        .await
        .expect("the replay's enforcement");
    judged(&replay).await
}

/// The store, its plant, an administrator's token and the connector's principal.
async fn prepare(url: &str) -> (Arc<store::Store>, String, Vec<String>) {
    use govern::{Principal, PrincipalKind, Role, Scope};
    let store = Arc::new(store::Store::open(url).await.expect("the store opens"));
    let actor = store::actor_of(&Principal::new(
        "cluster-test",
        PrincipalKind::Person,
        Role::Admin,
        Scope::All,
    ));
    let plant = sim::reference_plant();
    let units = plant.units.iter().map(|u| u.id.to_string()).collect();
    store.put_plant(plant, &actor).await.expect("the plant");
    let admin = store
        .create_token(
            "cluster-admin",
            PrincipalKind::Person,
            Role::Admin,
            Scope::All,
            store::TokenHashing::Standard,
            store::GovernanceWrite::by(actor.clone(), None),
        )
        .await
        .expect("a token")
        .token;
    store
        .create_principal(
            &Principal::new(
                CONNECTOR,
                PrincipalKind::Service,
                Role::Operator,
                Scope::All,
            ),
            store::TokenHashing::Standard,
            store::GovernanceWrite::by(actor, None),
        )
        .await
        .expect("the connector's principal");
    (store, admin, units)
}

#[test]
fn a_killed_leader_is_replaced_and_nothing_is_lost_or_doubled() {
    let Some(postgres) = store::test_support::postgres_url() else {
        println!("skipped: {} is not set", store::test_support::ENV);
        return;
    };
    if std::net::TcpStream::connect("127.0.0.1:4222").is_err() {
        let required = std::env::var("MIXPLANE_REQUIRE_BROKERS").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "MIXPLANE_REQUIRE_BROKERS=1 but NATS does not answer on 4222"
        );
        println!("skipped: NATS does not answer on 127.0.0.1:4222");
        return;
    }
    let nonce = store::random_hex(5);
    let url = store::with_schema(&postgres, &format!("cluster_{nonce}"));
    let stream = format!("CLUSTER_{}", nonce.to_uppercase());
    let subject = format!("cluster.{nonce}");
    let rt = runtime();
    let (store, token, units) = rt.block_on(prepare(&url));

    let root = TempDir::new("cluster");
    let feed = root.0.join("feed.jsonl");
    std::fs::write(&feed, "").unwrap();
    let config = root.0.join("cluster.toml");
    std::fs::write(
        &config,
        format!(
            "[[connectors]]\nname = \"feed\"\nkind = \"jsonl\"\nprincipal = \"{CONNECTOR}\"\n\
             poll_interval_seconds = 0.05\n[connectors.settings]\npath = {:?}\nbatch_lines = 40\n",
            feed.display().to_string()
        ),
    )
    .unwrap();
    let ttl = TTL_MS.to_string();
    let start = |node: &str| {
        let dir = root.0.join(node);
        std::fs::create_dir_all(&dir).unwrap();
        let args = [
            "--database",
            &url,
            "--node",
            node,
            "--lease-ttl-ms",
            &ttl,
            "--config",
            config.to_str().unwrap(),
            "--outbox-nats",
            NATS,
            "--outbox-stream",
            &stream,
            "--outbox-subject",
            &subject,
        ];
        Server::start_with(&dir, &args)
    };
    let mut nodes: Vec<(String, Server)> = ["n1", "n2", "n3"]
        .iter()
        .map(|name| ((*name).to_owned(), start(name)))
        .collect();
    let lease_now = || {
        rt.block_on(store.lease(app::leader::LEASE))
            .expect("the lease reads")
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let first = loop {
        if let Some(lease) = lease_now().filter(|l| l.remaining_ms > 0) {
            break lease;
        }
        assert!(Instant::now() < deadline, "no node took the lease");
        std::thread::sleep(Duration::from_millis(50));
    };

    // HTTP ingest to every node in turn, a batch retried on the next node when one fails.
    let addresses: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(
        nodes.iter().map(|(_, s)| s.address.to_string()).collect(),
    ));
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let sent = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let ingest = {
        let (addresses, acked, sent, stop, token, units) = (
            addresses.clone(),
            acked.clone(),
            sent.clone(),
            stop.clone(),
            token.clone(),
            units.clone(),
        );
        std::thread::spawn(move || {
            let mut n = 0usize;
            let mut turn = 0usize;
            while !stop.load(Ordering::Relaxed) {
                let batch = events("http", n, BATCH, &units);
                let body = format!(
                    "[{}]",
                    batch
                        .iter()
                        .map(|(_, l)| l.as_str())
                        .collect::<Vec<_>>()
                        .join(",")
                );
                let mut tries = 0;
                loop {
                    let address = {
                        let all = addresses.lock().unwrap();
                        all[turn % all.len()].clone()
                    };
                    turn += 1;
                    match try_post(&address, "/v1/events", &token, &body) {
                        Ok(status) if (200..300).contains(&status) => {
                            acked
                                .lock()
                                .unwrap()
                                .extend(batch.iter().map(|(id, _)| id.clone()));
                            break;
                        }
                        _ => {
                            tries += 1;
                            assert!(tries < 200, "a batch found no node to take it");
                            std::thread::sleep(Duration::from_millis(20));
                        }
                    }
                }
                n += BATCH;
                sent.store(n, Ordering::Relaxed);
            }
        })
    };
    // Connector ingest: lines appended to the leader's feed as the test goes.
    let mut fed = 0usize;
    let mut feed_more = |count: usize| {
        let lines: String = events("feed", fed, count, &units)
            .into_iter()
            .map(|(_, line)| line + "\n")
            .collect();
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&feed)
            .unwrap();
        file.write_all(lines.as_bytes()).unwrap();
        fed += count;
    };
    feed_more(400);
    while sent.load(Ordering::Relaxed) < 10 * BATCH {
        std::thread::sleep(Duration::from_millis(20));
    }
    feed_more(400);

    // Kill the leader mid-ingest.
    let leader_at = nodes
        .iter()
        .position(|(name, _)| *name == first.holder)
        .expect("the leader is one of the nodes");
    let (killed_name, mut killed) = nodes.remove(leader_at);
    addresses
        .lock()
        .unwrap()
        .retain(|a| *a != killed.address.to_string());
    let killed_at = Instant::now();
    killed.kill();
    let second = loop {
        if let Some(lease) = lease_now().filter(|l| l.holder != killed_name && l.remaining_ms > 0) {
            break lease;
        }
        assert!(
            killed_at.elapsed() < Duration::from_secs(15),
            "no node took over within 15 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let failover = killed_at.elapsed();
    assert!(second.epoch > first.epoch, "{first:?} then {second:?}");
    feed_more(400);
    let more = sent.load(Ordering::Relaxed) + 10 * BATCH;
    while sent.load(Ordering::Relaxed) < more {
        std::thread::sleep(Duration::from_millis(20));
    }

    // A leader paused past its lease wakes fenced: it writes nothing and stops.
    let paused_at = nodes
        .iter()
        .position(|(name, _)| *name == second.holder)
        .expect("the new leader is a node");
    let (paused_name, mut paused) = nodes.remove(paused_at);
    addresses
        .lock()
        .unwrap()
        .retain(|a| *a != paused.address.to_string());
    paused.signal("STOP");
    let third = loop {
        if let Some(lease) = lease_now().filter(|l| l.holder != paused_name && l.remaining_ms > 0) {
            break lease;
        }
        assert!(
            Instant::now().duration_since(killed_at) < Duration::from_secs(60),
            "no node took over from the paused leader"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    feed_more(400);
    paused.signal("CONT");
    let woke = Instant::now();
    let status = loop {
        if let Some(status) = paused.exited() {
            break status;
        }
        assert!(
            woke.elapsed() < Duration::from_secs(20),
            "the paused leader did not stop after waking"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(
        status.code(),
        Some(75),
        "the woken leader stops as one that lost its lease"
    );
    stop.store(true, Ordering::Relaxed);
    ingest.join().expect("the ingest thread");

    // Everything acknowledged or fed is stored, once; the log is published once, in order.
    let acked = acked.lock().unwrap().clone();
    let feed_ids: Vec<String> = events("feed", 0, fed, &units)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let wanted: HashSet<&str> = acked.iter().chain(&feed_ids).map(String::as_str).collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    let stored = loop {
        let ids: Vec<&str> = feed_ids.iter().map(String::as_str).collect();
        let found = rt.block_on(store.events_with_ids(&ids)).unwrap().len();
        if found == feed_ids.len() {
            break rt.block_on(store.counts()).unwrap().events;
        }
        assert!(
            Instant::now() < deadline,
            "{found} of {} fed events stored",
            feed_ids.len()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let acked_ids: Vec<&str> = acked.iter().map(String::as_str).collect();
    let acked_stored = rt
        .block_on(store.events_with_ids(&acked_ids))
        .unwrap()
        .len();
    assert_eq!(acked_stored, acked.len(), "acknowledged events lost");
    assert_eq!(
        stored as usize,
        wanted.len(),
        "events stored that nobody sent, or twice"
    );
    let settings = connect::outbox::OutboxSettings {
        url: NATS.into(),
        stream: stream.clone(),
        subject,
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let published = loop {
        let published = rt.block_on(connect::outbox::published(&settings)).unwrap();
        if published.ids.len() as u64 >= stored {
            break published;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {stored} events published",
            published.ids.len()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let unique: HashSet<&String> = published.ids.iter().collect();
    assert_eq!(
        unique.len(),
        published.ids.len(),
        "an event published twice"
    );
    assert_eq!(published.ids.len() as u64, stored, "published ≠ stored");
    let in_order = published.seqs.windows(2).all(|w| w[0] < w[1]);
    assert!(in_order, "the stream is not in log order");
    let audit = rt.block_on(store.verify_audit()).unwrap();
    assert!(audit.is_intact(), "{audit:?}");

    // Quality enforcement ran on the nodes as they took batches, the killed and the paused
    // leader among them. Judge what is left (results of the last batches, or of a batch whose
    // node died between its commit and its enforcement), then compare with one store judging
    // the same log at once: each result judged once, in log order, whichever node judged it.
    let (alerts_on_nodes, _) = rt.block_on(judged(&store));
    assert!(
        !alerts_on_nodes.is_empty(),
        "the nodes raised no alert during the ingest: enforcement was not exercised"
    );
    rt.block_on(app::quality::enforce(&store))
        .expect("the last enforcement");
    let (alerts, ncs) = rt.block_on(judged(&store));
    let (alerts_again, ncs_again) = rt.block_on(judged_again_in_one_store(&store));
    assert_eq!(
        alerts.len(),
        alerts_again.len(),
        "alerts: {} by the cluster, {} by one store",
        alerts.len(),
        alerts_again.len()
    );
    assert!(
        alerts == alerts_again,
        "the cluster's alerts differ from one store's"
    );
    assert_eq!(ncs, ncs_again, "the cluster's NCs differ from one store's");
    let results = wanted.iter().filter(|id| id.ends_with('9')).count();
    println!(
        "cluster: {} events acknowledged over HTTP, {fed} fed to the connector, {stored} stored and published once each; \
         leader {} killed, {} took over in {} ms (lease {TTL_MS} ms); {} paused, {} took over (epoch {}), the woken one exited 75; \
         {results} quality results: {} alerts ({} raised on the nodes during the ingest) and {} NCs, as one store judges them",
        acked.len(),
        first.holder,
        second.holder,
        failover.as_millis(),
        paused_name,
        third.holder,
        third.epoch,
        alerts.len(),
        alerts_on_nodes.len(),
        ncs.len(),
    );
    rt.block_on(async {
        let _ = connect::outbox::delete_stream(&settings).await;
    });
    drop(nodes);
}
