//! Two processes on one data directory: `mixplane serve` keeps running while the CLI, as a
//! second process, puts the plant, imports events and creates a token in the same database.
//! The server sees what the CLI wrote, its own writes (with the administrator's token and with
//! the token the CLI created) succeed — no 500 — and the audit chain stays intact (issue #13:
//! the server kept the chain's head in memory and failed with `UNIQUE constraint failed:
//! audit.seq` after the CLI's write).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::TempDir;

fn mixplane(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mixplane"))
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("MIXPLANE_DATA_DIR")
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `mixplane token create`, as its own process; returns the token.
fn create_token(data_dir: &Path, name: &str, role: &str) -> String {
    let out = mixplane(
        data_dir,
        &["token", "create", "--name", name, "--role", role],
    );
    assert!(out.status.success(), "token create: {}", text(&out.stderr));
    let token = text(&out.stdout).trim().to_owned();
    assert!(token.starts_with("mxp_"), "{token}");
    token
}

/// A running `mixplane serve`, killed when dropped (also when the test fails).
struct Server {
    child: Child,
    address: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Serves `data_dir` on a free port and waits until it accepts connections.
    fn start(data_dir: &Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mixplane"))
            .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .env_remove("MIXPLANE_DATA_DIR")
            .env_remove("MIXPLANE_BIND")
            .env("MIXPLANE_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the binary runs");
        let stdout = child.stdout.take().expect("piped stdout");
        // The first line names the address the OS chose; read it on a thread so a server
        // that never prints fails the test instead of hanging it. The thread then drains the
        // pipe until the server exits (a closed pipe would fail the server's next print).
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = sender.send(line);
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let mut server = Server {
            child,
            address: "127.0.0.1:1".parse().unwrap(),
        };
        let line = receiver
            .recv_timeout(Duration::from_secs(60))
            .expect("the server prints its address within a minute");
        let address = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("no address in the server's first line: {line:?}"));
        server.address = address.parse().expect("a socket address");
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(server.address).is_err() {
            assert!(Instant::now() < deadline, "the server never accepted");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// One HTTP/1.1 request; returns the status and the body.
    fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&serde_json::Value>,
    ) -> (u16, String) {
        let mut stream = TcpStream::connect(self.address).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.address,
            body.len()
        );
        if !body.is_empty() {
            head.push_str("Content-Type: application/json\r\n");
        }
        if let Some(token) = token {
            head.push_str(&format!("Authorization: Bearer {token}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(body.as_bytes()).unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).expect("read the answer");
        let answer = text(&answer);
        let status = answer
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("not an HTTP answer: {answer:?}"));
        let (_, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
        (status, dechunk(body))
    }

    fn events_applied(&self) -> u64 {
        let (status, body) = self.request("GET", "/healthz", None, None);
        assert_eq!(status, 200, "{body}");
        let health: serde_json::Value = serde_json::from_str(&body).unwrap();
        health["events"].as_u64().unwrap()
    }
}

/// The body of a `Transfer-Encoding: chunked` answer (or the body itself when it is not).
fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    loop {
        let Some((size, after)) = rest.split_once("\r\n") else {
            return body.to_owned();
        };
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            return body.to_owned();
        };
        if size == 0 {
            return out;
        }
        if after.len() < size {
            return body.to_owned();
        }
        out.push_str(&after[..size]);
        rest = after[size..].trim_start_matches("\r\n");
    }
}

fn unit_event(id: &str, unit: &str, minute: u32, state: &str) -> serde_json::Value {
    serde_json::json!({
        "id": id,
        "time": format!("2026-03-02T06:{minute:02}:00Z"),
        "type": "equipment_state_changed",
        "unit": unit,
        "state": state,
    })
}

fn audit_verify(data_dir: &Path) -> String {
    let out = mixplane(data_dir, &["audit", "verify"]);
    assert!(
        out.status.success(),
        "audit verify: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let stdout = text(&out.stdout);
    assert!(stdout.contains("audit trail intact"), "{stdout}");
    stdout
}

#[test]
fn the_cli_writes_beside_a_running_server_and_both_keep_working() {
    let dir = TempDir::new("two-processes");
    let data = dir.0.join("data");
    let admin = create_token(&data, "root", "admin");
    let server = Server::start(&data);
    assert_eq!(server.events_applied(), 0);

    // The CLI puts the reference plant and imports three events while the server runs.
    let imported: Vec<serde_json::Value> = (0..3)
        .map(|i| unit_event(&format!("cli-{i}"), "ASM-L1", i, "down"))
        .collect();
    let file = dir.0.join("events.jsonl");
    let lines: Vec<String> = imported.iter().map(ToString::to_string).collect();
    std::fs::write(&file, lines.join("\n")).unwrap();
    let out = mixplane(&data, &["import", file.to_str().unwrap()]);
    assert!(out.status.success(), "import: {}", text(&out.stderr));
    assert_eq!(
        server.events_applied(),
        3,
        "the server folds what the CLI imported"
    );

    // The server's own write after the CLI's: new events stored, the CLI's one a duplicate.
    let batch = serde_json::json!([
        unit_event("api-1", "ASM-L2", 10, "running"),
        imported[0],
        unit_event("api-2", "ASM-L2", 11, "idle"),
    ]);
    let (status, body) = server.request("POST", "/v1/events", Some(&admin), Some(&batch));
    assert_eq!(status, 200, "{body}");
    let outcome: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(outcome["inserted"], 2, "{body}");
    assert_eq!(outcome["duplicates"], 1, "{body}");
    assert_eq!(outcome["first_seq"], 4, "{body}");

    // A second process creates a token: the server's next writes, with either token, succeed.
    let operator = create_token(&data, "line-bot", "operator");
    for (i, token) in [&admin, &operator].into_iter().enumerate() {
        let batch = serde_json::json!([unit_event(
            &format!("after-{i}"),
            "CB-1",
            20 + i as u32,
            "down"
        )]);
        let (status, body) = server.request("POST", "/v1/events", Some(token), Some(&batch));
        assert_eq!(status, 200, "write {i} after `token create`: {body}");
        let outcome: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(outcome["inserted"], 1, "{body}");
    }
    // The same id with other content is a conflict, whichever process stored it.
    let changed = serde_json::json!([unit_event("cli-1", "ASM-L1", 1, "running")]);
    let (status, body) = server.request("POST", "/v1/events", Some(&operator), Some(&changed));
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("cli-1"), "{body}");

    // Every event once; the chain is intact, read while the server runs and after it stops.
    assert_eq!(server.events_applied(), 7);
    let (status, body) = server.request("GET", "/v1/events?limit=100", Some(&admin), None);
    assert_eq!(status, 200, "{body}");
    let stored: serde_json::Value = serde_json::from_str(&body).unwrap();
    let ids: Vec<&str> = stored["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "cli-0", "cli-1", "cli-2", "api-1", "api-2", "after-0", "after-1"
        ]
    );
    audit_verify(&data);
    let (status, body) = server.request("GET", "/v1/audit?limit=100", Some(&admin), None);
    assert_eq!(status, 200, "{body}");
    let trail: serde_json::Value = serde_json::from_str(&body).unwrap();
    let actions: Vec<&str> = trail["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    for expected in ["principal.create", "plant.put", "events.append"] {
        assert!(actions.contains(&expected), "{actions:?}");
    }
    assert_eq!(
        actions.iter().filter(|a| **a == "principal.create").count(),
        2,
        "{actions:?}"
    );
    assert_eq!(
        actions.iter().filter(|a| **a == "events.append").count(),
        4,
        "{actions:?}"
    );
    drop(server);
    audit_verify(&data);
}
