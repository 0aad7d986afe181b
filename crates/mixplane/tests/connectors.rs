//! `mixplane serve` runs the `[[connectors]]` of its config file: a `jsonl` connector tails a
//! file of simulated events as its own principal (a poison line dead-lettered, a line already
//! imported counted as a duplicate, lines appended later picked up), `GET /v1/connectors`
//! shows it, and `mixplane connect check` reports its health, cursor, lag and dead letters,
//! exiting 1 for a connector whose peer is missing or whose principal does not exist.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::TempDir;
use common::serve::Server;

fn mixplane(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mixplane"))
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("MIXPLANE_DATA_DIR")
        .env("MIXPLANE_LOG", "error")
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn ok(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

fn config(dir: &Path, feed: &Path, principal: &str) -> String {
    let path = dir.join(format!("{principal}.toml"));
    std::fs::write(
        &path,
        format!(
            "[[connectors]]\nname = \"line\"\nkind = \"jsonl\"\nprincipal = \"{principal}\"\npoll_interval_seconds = 0.05\n[connectors.settings]\npath = \"{}\"\nbatch_lines = 100\n",
            feed.display()
        ),
    )
    .unwrap();
    path.to_str().unwrap().to_owned()
}

fn wait_for(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn serve_runs_a_jsonl_connector_and_connect_check_reports_it() {
    let dir = TempDir::new("connectors");
    let data = dir.0.join("data");
    let all = dir.0.join("all.jsonl");
    let sim = Command::new(env!("CARGO_BIN_EXE_mixplane"))
        .args(["sim", "--days", "1", "--out", all.to_str().unwrap()])
        .output()
        .expect("the binary runs");
    ok(&sim, "sim");
    let lines: Vec<String> = std::fs::read_to_string(&all)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert!(lines.len() > 40, "a simulated day has events");
    let half = lines.len() / 2;

    // The plant and the first event imported by hand; the connector's principal created.
    let first = dir.0.join("first.jsonl");
    std::fs::write(&first, format!("{}\n", lines[0])).unwrap();
    ok(
        &mixplane(&data, &["import", first.to_str().unwrap()]),
        "import",
    );
    let admin = ok(
        &mixplane(
            &data,
            &["token", "create", "--name", "root", "--role", "admin"],
        ),
        "token create",
    )
    .trim()
    .to_owned();
    ok(
        &mixplane(
            &data,
            &[
                "token",
                "create",
                "--name",
                "connector-line",
                "--role",
                "operator",
                "--kind",
                "service",
            ],
        ),
        "token create",
    );

    let feed = dir.0.join("feed.jsonl");
    let mut text_feed = lines[..half].join("\n");
    text_feed.push_str("\nthis line is no event\n");
    std::fs::write(&feed, &text_feed).unwrap();
    let config = config(&dir.0, &feed, "connector-line");

    let check = |config: &str| -> (bool, serde_json::Value) {
        let out = mixplane(&data, &["connect", "check", "--json", "--config", config]);
        let reports = serde_json::from_str(&text(&out.stdout)).unwrap_or_else(|e| {
            panic!(
                "connect check --json: {e}: {}{}",
                text(&out.stdout),
                text(&out.stderr)
            )
        });
        (out.status.success(), reports)
    };
    let (healthy, reports) = check(&config);
    assert!(healthy, "{reports}");
    assert_eq!(reports[0]["name"], "line");
    assert_eq!(reports[0]["cursor"], serde_json::Value::Null);

    let server = Server::start_with(&data, &["--config", &config]);
    wait_for("the first half is stored", || {
        server.events_applied() == half as u64
    });
    let mut more = lines[half..].join("\n");
    more.push('\n');
    std::fs::OpenOptions::new()
        .append(true)
        .open(&feed)
        .and_then(|mut f| std::io::Write::write_all(&mut f, more.as_bytes()))
        .unwrap();
    wait_for("every event is stored", || {
        server.events_applied() == lines.len() as u64
    });
    let status = || {
        let (code, body) = server.request("GET", "/v1/connectors", Some(&admin), None);
        assert_eq!(code, 200, "{body}");
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["items"][0].clone()
    };
    wait_for("the connector has caught up", || {
        let line = status();
        line["state"] == "ok"
            && line["cursor"] == std::fs::metadata(&feed).unwrap().len().to_string().as_str()
    });
    let line = status();
    assert_eq!(line["principal"], "connector-line");
    assert_eq!(line["dead_letter_count"], 1);
    assert_eq!(line["counters"]["duplicates"], 1, "{line}");
    assert_eq!(line["counters"]["events_stored"], lines.len() as u64 - 1);
    let (code, body) = server.request(
        "GET",
        "/v1/connectors/line/dead-letters",
        Some(&admin),
        None,
    );
    assert_eq!(code, 200, "{body}");
    let letters: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(letters["items"][0]["raw"], "this line is no event");
    drop(server);

    let (healthy, reports) = check(&config);
    assert!(healthy, "{reports}");
    assert_eq!(
        reports[0]["cursor"],
        std::fs::metadata(&feed).unwrap().len().to_string()
    );
    assert_eq!(reports[0]["dead_letters"], 1);
    assert!(reports[0]["lag_seconds"].as_f64().is_some());

    // A missing file, and a principal that does not exist, are reported, exit 1.
    let missing = self::config(&dir.0, &dir.0.join("nowhere.jsonl"), "connector-line");
    let (healthy, reports) = check(&missing);
    assert!(!healthy);
    assert!(
        reports[0]["error"]
            .as_str()
            .unwrap()
            .contains("nowhere.jsonl"),
        "{reports}"
    );
    let out = mixplane(
        &data,
        &[
            "connect",
            "check",
            "--config",
            &self::config(&dir.0, &feed, "nobody"),
        ],
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("principal `nobody` does not exist"),
        "{}",
        text(&out.stderr)
    );

    let out = mixplane(&data, &["audit", "verify"]);
    assert!(
        text(&out.stdout).contains("audit trail intact"),
        "{}",
        text(&out.stdout)
    );
}
