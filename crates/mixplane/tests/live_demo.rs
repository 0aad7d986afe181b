//! `mixplane demo --speed F`, run as a user runs it: the built binary serves while the
//! simulated plant runs on live, so the event log read over HTTP with the printed admin
//! token grows past the stored history, with the simulator's own events audited as
//! `mixplane-sim`.

use std::process::Command;
use std::time::{Duration, Instant};

mod common;
use common::OnTestBackend;

use common::TempDir;
use common::serve::Demo;

#[test]
fn the_demo_runs_the_plant_live_while_it_serves() {
    let dir = TempDir::new("live-demo");
    let (demo, printed) = Demo::start(&["--days", "1", "--speed", "3600"], &dir.0, |_| true);
    let history = printed
        .iter()
        .find_map(|l| l.strip_prefix("Events stored"))
        .map(|n| n.trim().parse::<i64>().expect("a count"))
        .expect("an events-stored line");
    let live_line = printed
        .iter()
        .find(|l| l.starts_with("live plant"))
        .cloned();
    let live_line = live_line.expect("a line saying the plant runs live");
    assert!(live_line.contains("×3600"), "{live_line}");

    // Events after the stored history arrive while we wait: the simulator's, in its order.
    // The demo's own writes (the plan's dispatch list, proposals) follow the history too, so
    // the log is read on page by page.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut after = history;
    let mut simulated: Vec<serde_json::Value> = Vec::new();
    let live: Vec<serde_json::Value> = loop {
        let (status, body) = demo.request(
            "GET",
            &format!("/v1/events?after_seq={after}&limit=500"),
            None,
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
    // Compared as instants, not as text: "…00:00:00.154Z" sorts before "…00:00:00Z".
    let history_end = model::Timestamp::parse("2026-03-03T00:00:00Z").expect("a time");
    let early: Vec<&serde_json::Value> = live
        .iter()
        .filter(|e| {
            let time = e["event"]["time"].as_str().expect("a time");
            model::Timestamp::parse(time).expect("an RFC 3339 time") < history_end
        })
        .collect();
    assert!(
        early.is_empty(),
        "live events begin at the end of the history ({history} events stored): {early:?}"
    );

    // Audited as the simulator.
    let (status, body) = demo.request("GET", "/v1/audit?limit=1000", None);
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("\"mixplane-sim\""),
        "no audit record by the simulator"
    );
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
            .on_test_backend()
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
