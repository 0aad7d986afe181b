//! `mixplane demo --speed F`, run as a user runs it: the built binary serves while the
//! simulated plant runs on live, so the event log read over HTTP with the printed admin
//! token grows past the stored history, with the simulator's own events audited as
//! `mixplane-sim`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Demo(Child);

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `GET path` with the bearer token: the status code and the body.
fn get(address: &str, token: &str, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(address).expect("the server accepts");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("a response");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        unchunk(body)
    } else {
        body.to_owned()
    };
    (status, body)
}

fn unchunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).expect("a chunk size");
        if size == 0 {
            break;
        }
        out.push_str(&rest[..size]);
        body = &rest[size + 2..];
    }
    out
}

#[test]
fn the_demo_runs_the_plant_live_while_it_serves() {
    let dir = std::env::temp_dir().join(format!("mixplane-live-demo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut child = Command::new(env!("CARGO_BIN_EXE_mixplane"))
        .args([
            "demo",
            "--days",
            "1",
            "--speed",
            "3600",
            "--bind",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(&dir)
        .env_remove("MIXPLANE_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary runs");
    let stdout = child.stdout.take().unwrap();
    let _demo = Demo(child);
    let (mut token, mut history, mut address, mut live_line) = (None, None, None, None);
    let mut lines = BufReader::new(stdout).lines();
    for line in lines.by_ref() {
        let line = line.expect("stdout reads");
        if let Some(t) = line.strip_prefix("admin token  ") {
            token = Some(t.trim().to_owned());
        } else if let Some(n) = line.strip_prefix("Events stored") {
            history = Some(n.trim().parse::<i64>().expect("a count"));
        } else if line.starts_with("live plant") {
            live_line = Some(line.clone());
        } else if let Some(rest) = line.strip_prefix("serving the API on http://") {
            address = rest.split_whitespace().next().map(str::to_owned);
            break;
        }
    }
    let (token, history, address) = (
        token.expect("an admin token line"),
        history.expect("an events-stored line"),
        address.expect("a serving line"),
    );
    let live_line = live_line.expect("a line saying the plant runs live");
    // Keep reading what it prints: a closed pipe would end it at its next line.
    std::thread::spawn(move || lines.for_each(drop));
    assert!(live_line.contains("×3600"), "{live_line}");

    // Events after the stored history arrive while we wait: the simulator's, in its order.
    // The demo's own writes (the plan's dispatch list, proposals) follow the history too, so
    // the log is read on page by page.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut after = history;
    let mut simulated: Vec<serde_json::Value> = Vec::new();
    let live: Vec<serde_json::Value> = loop {
        let (status, body) = get(
            &address,
            &token,
            &format!("/v1/events?after_seq={after}&limit=500"),
        );
        assert_eq!(status, 200, "{body}");
        let answer: serde_json::Value = serde_json::from_str(&body).expect("JSON events");
        let page = answer["items"]
            .as_array()
            .expect("a page of events")
            .clone();
        if let Some(last) = page.last() {
            after = last["seq"].as_i64().expect("a seq");
        }
        simulated.extend(page.into_iter().filter(|e| e["event"]["source"] == "sim"));
        if simulated.len() >= 20 {
            break simulated;
        }
        assert!(
            Instant::now() < deadline,
            "no live events after a minute: {simulated:?}"
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    let ids: Vec<&str> = live
        .iter()
        .map(|e| e["event"]["id"].as_str().expect("an id"))
        .collect();
    let numbers: Vec<u64> = ids
        .iter()
        .map(|id| {
            id.strip_prefix("sim-7-")
                .expect("the seed's ids")
                .parse()
                .unwrap()
        })
        .collect();
    assert!(
        numbers.windows(2).all(|w| w[0] < w[1]),
        "the live events come in the simulator's order: {ids:?}"
    );
    assert!(
        live.iter()
            .all(|e| e["event"]["time"].as_str() >= Some("2026-03-03T00:00:00Z")),
        "live events begin at the end of the history"
    );

    // Audited as the simulator.
    let (status, body) = get(&address, &token, "/v1/audit?limit=1000");
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("\"mixplane-sim\""),
        "no audit record by the simulator"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_speed_that_is_not_a_plant_rate_is_refused_by_name() {
    for speed in ["-1", "NaN", "1e9"] {
        let out = Command::new(env!("CARGO_BIN_EXE_mixplane"))
            .args([
                "demo",
                "--no-serve",
                "--days",
                "1",
                &format!("--speed={speed}"),
            ])
            .args(["--data-dir", "/nonexistent/never-created"])
            .output()
            .expect("the binary runs");
        assert!(!out.status.success(), "--speed {speed} was taken");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("--speed must be in [0, 1000000]"),
            "{stderr}"
        );
    }
}
