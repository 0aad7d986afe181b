//! The `opcua` kind against a real OPC UA server: `conformance/opcua/server.py`, an `asyncua`
//! server run by the venv's python (`MIXPLANE_PYTHON`, made by `.ci/python/env`; without it
//! these tests say why and pass, unless `MIXPLANE_REQUIRE_PY=1`, where they fail).
//!
//! - State changes made in the server arrive as stored events with the right units and
//!   states, over a live subscription (`history = false`), and values the map does not name
//!   or with a bad status are dead letters with their reasons.
//! - The compliance harness runs the kind as `Kinds::builtin` builds it (`history = true`):
//!   the server is driven through its stdin, killed (`down`) and started again on its journal
//!   (`up`).
//!
//! Run with `cargo test -p connect --features opcua --test opcua`.

#![cfg(feature = "opcua")]

mod compliance;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use app::App;
use compliance::Peer;
use connect::source::{PeerError, Source};
use connect::{AnySource, ConnectorSpec, Kinds};
use model::{EquipmentState, EventKind, Plant, Timestamp};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// The venv's python, or `None` (after saying why) where the tests may be skipped.
fn python() -> Option<PathBuf> {
    let required = std::env::var("MIXPLANE_REQUIRE_PY").is_ok_and(|v| v == "1");
    let python = std::env::var_os("MIXPLANE_PYTHON").map(PathBuf::from);
    let reason = match &python {
        None => "MIXPLANE_PYTHON is not set".to_owned(),
        Some(path) if !path.is_file() => format!("MIXPLANE_PYTHON={} is no file", path.display()),
        Some(path) => return Some(path.clone()),
    };
    let hint = "make the venv with `export MIXPLANE_PYTHON=\"$(.ci/python/env)\"`";
    assert!(!required, "MIXPLANE_REQUIRE_PY=1 but {reason}: {hint}");
    println!("skipped: {reason} ({hint})");
    None
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../conformance/opcua/server.py")
}

/// A port nobody listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The served variables, their units, and the values each takes in turn (every change
/// differs from the one before: OPC UA reports a change of value, not a rewrite).
const NODES: [(&str, &str); 4] = [
    ("R-101.State", "R-101"),
    ("R-102.State", "R-102"),
    ("R-103.State", "R-103"),
    ("TB-1.StateCode", "TB-1"),
];
const WORDS: [&str; 5] = ["RUN", "IDLE", "FAULT", "SETUP", "CIP"];

fn node_id(name: &str) -> String {
    format!("ns=2;s={name}")
}

/// The map the connector is configured with: the PLC's words, and codes 1–5 for `TB-1`.
fn map_of(name: &str) -> Value {
    if name.starts_with("TB-1") {
        json!({ "1": "idle", "2": "running", "3": "down", "4": "setup", "5": "cleaning" })
    } else {
        json!({ "RUN": "running", "IDLE": "idle", "FAULT": "down", "SETUP": "setup", "CIP": "cleaning" })
    }
}

/// A running server process: its stdin for commands, its stdout for answers.
struct Process {
    child: Child,
    stdin: ChildStdin,
    answers: Lines<BufReader<ChildStdout>>,
}

/// The server, driven through its stdin; killed and started again on the same journal.
struct Server {
    python: PathBuf,
    port: u16,
    dir: PathBuf,
    /// The script's options beyond the port and folder (`--user`, `--history-page`).
    options: Vec<String>,
    process: Option<Process>,
}

impl Drop for Server {
    fn drop(&mut self) {
        // The child is killed on drop (`kill_on_drop`); its journal goes with the folder.
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Server {
    /// Starts a server with a state folder of its own; answers it and the changes it made
    /// when it first started (each variable's first value).
    async fn start(python: PathBuf, label: &str) -> (Server, Vec<Value>) {
        Server::start_with(python, label, &[]).await
    }

    async fn start_with(python: PathBuf, label: &str, options: &[&str]) -> (Server, Vec<Value>) {
        let dir = std::env::temp_dir().join(format!(
            "mixplane-opcua-{label}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let mut server = Server {
            python,
            port: free_port(),
            dir,
            options: options.iter().map(|o| o.to_string()).collect(),
            process: None,
        };
        let initial = server.up().await;
        (server, initial)
    }

    fn endpoint(&self) -> String {
        format!("opc.tcp://127.0.0.1:{}/mixplane/", self.port)
    }

    /// Starts the process (again, on the same journal and port); answers the changes it made
    /// on starting (none when started again).
    async fn up(&mut self) -> Vec<Value> {
        assert!(self.process.is_none(), "the server is running already");
        let log = std::fs::File::create(self.dir.join("server.log")).unwrap();
        let mut command = Command::new(&self.python);
        command
            .arg(script())
            .arg("--port")
            .arg(self.port.to_string())
            .arg("--state-dir")
            .arg(&self.dir)
            .args(&self.options);
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .expect("the venv's python runs");
        let mut process = Process {
            stdin: child.stdin.take().unwrap(),
            answers: BufReader::new(child.stdout.take().unwrap()).lines(),
            child,
        };
        let ready = next_answer(&mut process, &self.dir).await;
        assert_eq!(ready["ready"], self.port, "{ready}");
        self.process = Some(process);
        ready["initial"].as_array().unwrap().clone()
    }

    /// Kills the process (as a crash would: no goodbye to its clients).
    async fn down(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.child.kill().await.unwrap();
        }
    }

    /// Sets a variable; answers the change as the server made it.
    async fn set(&mut self, name: &str, value: Value, status: &str) -> Value {
        let process = self.process.as_mut().expect("the server is up");
        let command = json!({ "set": name, "value": value, "status": status });
        process
            .stdin
            .write_all(format!("{command}\n").as_bytes())
            .await
            .unwrap();
        process.stdin.flush().await.unwrap();
        let answer = next_answer(process, &self.dir).await;
        assert!(answer.get("error").is_none(), "{answer}");
        answer
    }
}

async fn next_answer(process: &mut Process, dir: &Path) -> Value {
    let line = tokio::time::timeout(Duration::from_secs(30), process.answers.next_line())
        .await
        .ok()
        .and_then(|line| line.ok().flatten());
    let Some(line) = line else {
        let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
        panic!("the OPC UA server did not answer; its log:\n{log}");
    };
    serde_json::from_str(&line).unwrap()
}

/// The event id a change the server answered maps to.
fn event_id_of(change: &Value) -> String {
    let node = change["node"].as_str().unwrap();
    let at: jiff::Timestamp = change["source_time"].as_str().unwrap().parse().unwrap();
    connect::opcua::event_id(node, at)
}

/// The connector's settings for this server.
fn settings_for(server: &Server, history: bool) -> Value {
    let nodes: Vec<Value> = NODES
        .iter()
        .map(|(node, unit)| json!({ "node": node_id(node), "unit": unit, "map": map_of(node) }))
        .collect();
    json!({
        "endpoint": server.endpoint(),
        "security": "none",
        "publishing_interval_ms": 50,
        "history": history,
        "batch_size": 40,
        "timeout_seconds": 5,
        "pki_dir": server.dir.join("pki"),
        "nodes": nodes,
    })
}

/// A source of these settings, built as `mixplane serve` builds it.
fn build(name: &str, settings: Value) -> AnySource {
    let spec = ConnectorSpec {
        name: name.into(),
        kind: connect::opcua::KIND.into(),
        principal: compliance::principal().id,
        poll_interval: Duration::from_millis(20),
        settings,
    };
    Kinds::builtin().build(&spec).unwrap()
}

fn source_for(server: &Server, name: &str, history: bool) -> AnySource {
    build(name, settings_for(server, history))
}

/// The peer of the compliance harness: the server, each variable's next value, and the
/// first values it made on starting, answered with the first `produce`.
struct OpcuaPeer {
    server: Server,
    turn: usize,
    unanswered: Vec<String>,
}

impl OpcuaPeer {
    async fn start(label: &str) -> Option<OpcuaPeer> {
        let (server, initial) = Server::start(python()?, label).await;
        Some(OpcuaPeer {
            server,
            turn: 0,
            unanswered: initial.iter().map(event_id_of).collect(),
        })
    }

    /// The next change: the variables in turn, each to the value after its current one.
    fn next_change(&mut self) -> (&'static str, Value) {
        let (name, _) = NODES[self.turn % NODES.len()];
        // Every variable starts at `IDLE` (`WORDS[1]`) or code 1; its k-th change (from 0)
        // takes `WORDS[k + 2]` or code `(k + 2) % 5 + 1` (cyclically): never the value before.
        let k = self.turn / NODES.len() + 2;
        self.turn += 1;
        let value = if name.starts_with("TB-1") {
            json!((k % 5) + 1)
        } else {
            json!(WORDS[k % WORDS.len()])
        };
        (name, value)
    }
}

impl Peer for OpcuaPeer {
    type Source = AnySource;

    fn source(&self, name: &str, _app: &App) -> AnySource {
        source_for(&self.server, name, true)
    }

    fn plant(&self) -> (Plant, Timestamp) {
        let start = Timestamp::parse("2026-01-01T00:00:00Z").unwrap();
        (sim::reference_plant(), start)
    }

    async fn produce(&mut self, n: usize) -> Vec<String> {
        let mut ids = std::mem::take(&mut self.unanswered);
        for _ in 0..n {
            let (name, value) = self.next_change();
            let change = self.server.set(name, value, "Good").await;
            ids.push(event_id_of(&change));
        }
        ids
    }

    /// OPC UA has no "serve it again" of its own: the closest honest repeat is the server
    /// restarted, which drops the connection; the source subscribes again, and the new
    /// subscription re-sends every node's current value and the history read from the cursor
    /// re-reads the value at it — values stored already, which must count as duplicates.
    async fn repeat(&mut self) {
        self.server.down().await;
        self.server.up().await;
    }

    /// A value the connector's map does not name (on a variable of words: its next change,
    /// a word, differs from it).
    async fn poison(&mut self) {
        self.server
            .set("R-101.State", json!("EXPLODED"), "Good")
            .await;
    }

    async fn down(&mut self) {
        self.server.down().await;
    }

    async fn up(&mut self) {
        self.server.up().await;
    }
}

/// Changes made in the server while the connector is subscribed (no history read) arrive as
/// stored events naming the variable's unit and the state its value maps to; a value the
/// map does not name and a value with a bad status are dead letters with their reasons, and
/// the changes behind them are stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_changes_made_in_the_server_arrive_as_stored_events() {
    let Some(python) = python() else { return };
    let (server, initial) = Server::start(python, "states").await;
    let mut peer = OpcuaPeer {
        server,
        turn: 0,
        unanswered: Vec::new(),
    };
    let app = compliance::app_for(&peer).await;
    let running = run(&app, source_for(&peer.server, compliance::NAME, false));

    // A new subscription sends each variable's current value: its first.
    let first: Vec<String> = initial.iter().map(event_id_of).collect();
    wait_stored(&app, &first).await;

    let mut expected = Vec::new();
    for (name, value, unit, state) in [
        ("R-101.State", json!("FAULT"), "R-101", EquipmentState::Down),
        ("TB-1.StateCode", json!(2), "TB-1", EquipmentState::Running),
        (
            "R-102.State",
            json!("SETUP"),
            "R-102",
            EquipmentState::Setup,
        ),
    ] {
        let change = peer.server.set(name, value, "Good").await;
        expected.push((event_id_of(&change), unit, state));
    }
    let outside = peer
        .server
        .set("R-103.State", json!("EXPLODED"), "Good")
        .await;
    let failed = peer
        .server
        .set("R-101.State", json!("RUN"), "BadSensorFailure")
        .await;
    for (name, value, unit, state) in [
        (
            "R-101.State",
            json!("CIP"),
            "R-101",
            EquipmentState::Cleaning,
        ),
        ("TB-1.StateCode", json!(3), "TB-1", EquipmentState::Down),
    ] {
        let change = peer.server.set(name, value, "Good").await;
        expected.push((event_id_of(&change), unit, state));
    }

    let ids: Vec<String> = expected.iter().map(|(id, _, _)| id.clone()).collect();
    wait_stored(&app, &ids).await;
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let stored = app.store.events_with_ids(&refs).await.unwrap();
    for (id, unit, state) in &expected {
        let event = &stored
            .iter()
            .find(|s| s.event.id.as_str() == id)
            .unwrap_or_else(|| panic!("{id} is stored"))
            .event;
        assert_eq!(
            event.kind,
            EventKind::EquipmentStateChanged {
                unit: (*unit).into(),
                state: *state,
                reason: None
            },
            "{id}"
        );
        assert_eq!(event.source.as_deref(), Some(connect::opcua::EVENT_SOURCE));
    }
    // Nothing else was stored: the refused values made no event.
    assert_eq!(
        app.store.counts().await.unwrap().events,
        (first.len() + ids.len()) as u64
    );

    let letters = app
        .store
        .dead_letters(compliance::NAME, 0, 10)
        .await
        .unwrap();
    assert_eq!(letters.len(), 2, "{letters:#?}");
    let at = |change: &Value| change["source_time"].as_str().unwrap().parse().unwrap();
    for (node, change, named) in [
        ("ns=2;s=R-103.State", &outside, "`EXPLODED`"),
        ("ns=2;s=R-101.State", &failed, "BadSensorFailure"),
    ] {
        let id = connect::opcua::source_id(node, at(change));
        let letter = letters
            .iter()
            .find(|l| l.source_id == id)
            .unwrap_or_else(|| panic!("{id} is a dead letter: {letters:#?}"));
        assert!(letter.reason.contains(named), "{}", letter.reason);
    }

    // The server gone and back: the connector subscribes again, the new subscription
    // re-sends every current value (stored already: duplicates), and later changes arrive.
    peer.server.down().await;
    peer.server.up().await;
    let change = peer.server.set("R-102.State", json!("RUN"), "Good").await;
    wait_stored(&app, &[event_id_of(&change)]).await;
    let counters = app.connectors.get(compliance::NAME).unwrap().counters;
    assert!(counters.duplicates > 0, "{counters:#?}");
    assert!(counters.last_error.is_some(), "{counters:#?}");
    running.stop.stop();
    running.task.await.unwrap();
}

/// A server that pages its history below what the source asks for (answering a
/// continuation point) is read to the end: everything changed before the connector started
/// is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_paged_by_the_server_is_read_to_the_end() {
    let Some(python) = python() else { return };
    let (server, initial) = Server::start_with(python, "paged", &["--history-page", "3"]).await;
    let mut peer = OpcuaPeer {
        server,
        turn: 0,
        unanswered: initial.iter().map(event_id_of).collect(),
    };
    let ids = peer.produce(30).await;
    let app = compliance::app_for(&peer).await;
    let running = run(&app, source_for(&peer.server, compliance::NAME, true));
    wait_stored(&app, &ids).await;
    assert_eq!(compliance::stored(&app, &ids).await.1, ids.len() as u64);
    running.stop.stop();
    running.task.await.unwrap();
}

/// More notifications between two polls than the channel holds: the source says so
/// (`Unavailable`), subscribes again and reads history from its cursor, losing nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overflowing_channel_starts_over_from_history() {
    let Some(python) = python() else { return };
    let (server, initial) = Server::start(python, "overflow").await;
    let mut peer = OpcuaPeer {
        server,
        turn: 0,
        unanswered: initial.iter().map(event_id_of).collect(),
    };
    let app = compliance::app_for(&peer).await;
    let mut settings = settings_for(&peer.server, true);
    settings["channel_capacity"] = json!(2);
    let running = run(&app, build(compliance::NAME, settings));
    let first = peer.produce(0).await;
    wait_stored(&app, &first).await;
    // One publish (every 50 ms) carries these twenty at once.
    let burst = peer.produce(20).await;
    wait_stored(&app, &burst).await;
    let counters = app.connectors.get(compliance::NAME).unwrap().counters;
    let error = counters.last_error.unwrap_or_default();
    assert!(error.contains("overflowed"), "{error}");
    assert_eq!(
        compliance::stored(&app, &burst).await.1,
        (first.len() + burst.len()) as u64
    );
    running.stop.stop();
    running.task.await.unwrap();
}

/// A runner of this source, as the service starts one.
fn run(app: &App, source: AnySource) -> compliance::Running {
    let (stop, watch) = connect::stop_pair();
    let runner = connect::Runner {
        source,
        app: app.clone(),
        principal: compliance::principal(),
        kind: connect::opcua::KIND.into(),
        pacing: compliance::pacing(),
    };
    compliance::Running {
        stop,
        task: tokio::spawn(runner.run(watch)),
    }
}

/// `check` signs in (as the configured user) and reads every configured node once: refused
/// credentials are `Unauthorized`, no credentials where the server wants some and a node the
/// server does not have are `Broken`, named, and a server that is gone `Unavailable`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_signs_in_and_reads_the_configured_nodes() {
    let Some(python) = python() else { return };
    let (mut server, _) = Server::start_with(python, "check", &["--user", "mixplane:s3cret"]).await;
    let signed_in = |user: Option<&str>, password: Option<&str>| {
        let mut settings = settings_for(&server, false);
        if let (Some(user), Some(password)) = (user, password) {
            settings["username"] = json!(user);
            settings["password"] = json!(password);
        }
        settings
    };

    let mut good = build("check", signed_in(Some("mixplane"), Some("s3cret")));
    good.check().await.unwrap();

    let mut refused = build("check", signed_in(Some("mixplane"), Some("wrong")));
    let error = refused.check().await.unwrap_err();
    assert!(matches!(error, PeerError::Unauthorized(_)), "{error:?}");
    // No user configured where the server admits no anonymous session: a configuration
    // that cannot work, which the message says.
    let mut anonymous = build("check", signed_in(None, None));
    match anonymous.check().await.unwrap_err() {
        PeerError::Broken(message) => assert!(
            message.contains("signing in anonymously")
                && message.contains("BadSecurityPolicyRejected"),
            "{message}"
        ),
        other => panic!("anonymous where a user is wanted is broken, not {other:?}"),
    }

    let mut settings = signed_in(Some("mixplane"), Some("s3cret"));
    settings["nodes"][1]["node"] = json!("ns=2;s=R-999.State");
    let error = build("check", settings).check().await.unwrap_err();
    match error {
        PeerError::Broken(message) => assert!(message.contains("R-999"), "{message}"),
        other => panic!("an unknown node is broken, not {other:?}"),
    }

    server.down().await;
    let error = good.check().await.unwrap_err();
    assert!(matches!(error, PeerError::Unavailable { .. }), "{error:?}");
}

async fn wait_stored(app: &App, ids: &[String]) {
    compliance::until(app, "the changes are stored", |a| {
        let ids = ids.to_vec();
        async move { compliance::stored(&a, &ids).await.0 == ids.len() }
    })
    .await;
}

compliance_tests!(
    opcua,
    match OpcuaPeer::start("compliance").await {
        Some(peer) => peer,
        None => return,
    }
);
