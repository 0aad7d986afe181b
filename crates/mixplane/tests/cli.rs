//! The foundation commands, run as a user runs them: the built binary in a child process.

use std::process::{Command, Output};

fn mixplane(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mixplane"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mixplane-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn sim_output_is_byte_identical_for_the_same_seed() {
    let first = mixplane(&["sim", "--days", "3", "--seed", "7"]);
    let second = mixplane(&["sim", "--days", "3", "--seed", "7"]);
    let other = mixplane(&["sim", "--days", "3", "--seed", "8"]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(first.stdout.len() > 10_000, "a 3-day run writes events");
    assert!(first.stdout == second.stdout, "same seed, different bytes");
    assert!(
        first.stdout != other.stdout,
        "another seed should change the history"
    );
    let lines = String::from_utf8(first.stdout).unwrap();
    for line in lines.lines().take(50) {
        let event: model::Event = serde_json::from_str(line).expect("every line is an event");
        assert!(event.id.as_str().starts_with("sim-7-"));
    }
}

#[test]
fn sim_then_import_stores_every_event_once() {
    let dir = temp_dir("import");
    let events = dir.join("events.jsonl");
    let truth = dir.join("truth.json");
    let out = mixplane(&[
        "sim",
        "--days",
        "2",
        "--seed",
        "3",
        "--out",
        events.to_str().unwrap(),
        "--truth",
        truth.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let count = std::fs::read_to_string(&events).unwrap().lines().count();
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&truth).unwrap()).unwrap();
    assert_eq!(truth["seed"], 3);
    let data = dir.join("data");
    let import = |expect: &str| {
        let out = mixplane(&[
            "import",
            events.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
        ]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains(expect), "`{stdout}` should say `{expect}`");
    };
    import(&format!("imported {count} new events (0 already stored)"));
    import(&format!("imported 0 new events ({count} already stored)"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn import_names_the_line_of_a_malformed_event_and_stores_nothing() {
    let dir = temp_dir("bad-import");
    let events = dir.join("bad.jsonl");
    std::fs::write(
        &events,
        "{\"id\":\"e1\",\"time\":\"2026-03-02T06:00:00Z\",\"type\":\"equipment_state_changed\",\"unit\":\"R-101\",\"state\":\"down\"}\n{\"id\": broken\n",
    )
    .unwrap();
    let data = dir.join("data");
    let out = mixplane(&[
        "import",
        events.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("line 2"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn validate_accepts_the_reference_plant_and_names_every_problem_of_a_broken_one() {
    let dir = temp_dir("validate");
    let good = dir.join("plant.json");
    std::fs::write(&good, sim::REFERENCE_PLANT_JSON).unwrap();
    let out = mixplane(&["validate", good.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("valid"));

    let mut plant: serde_json::Value = serde_json::from_str(sim::REFERENCE_PLANT_JSON).unwrap();
    plant["units"][0]["work_center"] = "WC-NOWHERE".into();
    plant["orders"][1]["routing"] = "RCP-NOWHERE".into();
    let bad = dir.join("broken.json");
    std::fs::write(&bad, serde_json::to_string(&plant).unwrap()).unwrap();
    let out = mixplane(&["validate", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("units[0].work_center") && stderr.contains("WC-NOWHERE"),
        "{stderr}"
    );
    assert!(
        stderr.contains("orders[1].routing") && stderr.contains("RCP-NOWHERE"),
        "{stderr}"
    );

    std::fs::write(&bad, "{\"schema_version\": 1,\n \"site\": ").unwrap();
    let out = mixplane(&["validate", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 2"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn demo_without_serving_prints_the_summary() {
    let dir = temp_dir("demo");
    let out = mixplane(&[
        "demo",
        "--no-serve",
        "--days",
        "2",
        "--data-dir",
        dir.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "Orders by mode and status",
        "Utilisation per work center",
        "Events stored",
        "Quality results",
        "Lots",
    ] {
        assert!(
            stdout.contains(needle),
            "summary lacks `{needle}`:\n{stdout}"
        );
    }
    assert!(dir.join("mixplane.db").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Logs written to a pipe or a file used to be full of ANSI colour codes. Colour is for a
/// terminal only, and `MIXPLANE_LOG_FORMAT=json` (or `[log] format = "json"`) writes one JSON
/// object a line.
#[test]
fn logs_to_a_pipe_carry_no_colour_and_can_be_json() {
    use std::io::BufRead;
    for format in ["text", "json"] {
        let dir = temp_dir(&format!("log-{format}"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_mixplane"))
            .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
            .arg(&dir)
            .env("MIXPLANE_LOG_FORMAT", format)
            .env_remove("MIXPLANE_LOG")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("the binary runs");
        // An empty data directory: `serve` warns that there is no plant, then serves.
        let mut line = String::new();
        std::io::BufReader::new(child.stderr.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(line.contains("no plant"), "{format}: {line:?}");
        assert!(!line.contains('\x1b'), "{format}: colour codes in {line:?}");
        if format == "json" {
            let object: serde_json::Value = serde_json::from_str(&line).expect("a JSON line");
            assert_eq!(object["level"], "WARN", "{object}");
            assert!(object["message"].as_str().unwrap().contains("no plant"));
            assert!(object["time"].is_string(), "{object}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn trace_import_refuses_documents_nested_35000_deep_without_aborting() {
    let dir = temp_dir("deep");
    let data = dir.join("data");
    let xml = dir.join("deep.xml");
    std::fs::write(
        &xml,
        format!("{}{}", "<a>".repeat(35_000), "</a>".repeat(35_000)),
    )
    .unwrap();
    let json = dir.join("deep.json");
    std::fs::write(
        &json,
        format!("{}{}", "[".repeat(35_000), "]".repeat(35_000)),
    )
    .unwrap();
    for file in [&xml, &json] {
        let out = mixplane(&[
            "trace",
            "import",
            file.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        // Exit code 1 with a message: not a signal (a stack overflow aborts with SIGABRT).
        assert_eq!(out.status.code(), Some(1), "{}: {stderr}", file.display());
        assert!(stderr.contains("depth"), "{}: {stderr}", file.display());
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
