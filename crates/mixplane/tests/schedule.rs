//! `mixplane schedule …` and `mixplane bench …` run as a real binary; every schedule printed
//! is re-verified with the library checkers, and `schedule explain` on the reference plant
//! agrees with the library's explanation.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mixplane"))
}

/// The few benchmark instances kept in the repository (`testdata/bench/<kind>`).
fn bench_dir(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/bench")
        .join(kind)
}

fn run_json(args: &[&str]) -> Value {
    let out = bin().args(args).output().expect("binary runs");
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is one JSON object")
}

#[test]
fn solve_ft06_json_passes_the_checker() {
    let file = bench_dir("jssp").join("ft06.txt");
    let file = file.to_str().unwrap();
    let v = run_json(&[
        "schedule",
        "solve",
        file,
        "--format",
        "jsplib",
        "--time-limit",
        "5",
        "--threads",
        "2",
        "--seed",
        "3",
        "--iterations",
        "3000",
        "--json",
    ]);
    let text = std::fs::read_to_string(file).unwrap();
    let problem = schedule::parse_jsplib(&text).unwrap();
    let ops: Vec<schedule::ScheduledOp> = serde_json::from_value(v["schedule"].clone()).unwrap();
    assert_eq!(ops.len(), 36);
    let report = schedule::check(&problem, &ops, v["makespan"].as_u64());
    assert!(report.is_feasible(), "{:?}", report.violations);
    assert!(v["makespan"].as_u64().unwrap() <= 60);
    assert_eq!(v["objective"], v["makespan"]);
    // The same budget and seed give the same answer.
    let again = run_json(&[
        "schedule",
        "solve",
        file,
        "--format",
        "jsplib",
        "--time-limit",
        "5",
        "--threads",
        "2",
        "--seed",
        "3",
        "--iterations",
        "3000",
        "--json",
    ]);
    assert_eq!(again["schedule"], v["schedule"]);
}

#[test]
fn fjs_solve_and_check_command() {
    let dir = tempdir("fjs");
    let file = bench_dir("fjsp").join("mk01.fjs");
    let file = file.to_str().unwrap();
    let v = run_json(&[
        "schedule",
        "solve",
        file,
        "--time-limit",
        "1",
        "--iterations",
        "500",
        "--json",
    ]);
    let out = dir.join("mk01.json");
    std::fs::write(&out, v.to_string()).unwrap();
    let status = bin()
        .args(["schedule", "check", file, out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stdout)
    );
}

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mixplane-schedule-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn generate_solve_check_native() {
    let dir = tempdir("native");
    let problem = dir.join("p.json");
    let status = bin()
        .args([
            "schedule",
            "generate",
            "--operations",
            "200",
            "--units",
            "9",
            "--seed",
            "4",
            "--out",
        ])
        .arg(&problem)
        .status()
        .unwrap();
    assert!(status.success());
    let v = run_json(&[
        "schedule",
        "solve",
        problem.to_str().unwrap(),
        "--time-limit",
        "5",
        "--iterations",
        "100",
        "--objective",
        "minimize_tardiness",
        "--json",
    ]);
    assert!(v["objective"].as_f64().unwrap() <= v["initial_score"]["total"].as_f64().unwrap());
    let p: schedule::plant::PlantProblem =
        serde_json::from_str(&std::fs::read_to_string(&problem).unwrap()).unwrap();
    let assignments = serde_json::from_value(v["schedule"].clone()).unwrap();
    let report = schedule::plant::check(&p, &schedule::plant::PlantSchedule { assignments });
    assert!(report.feasible, "{:?}", report.violations);
    // And through the CLI checker, which fails on a broken schedule.
    let sol = dir.join("s.json");
    std::fs::write(&sol, v.to_string()).unwrap();
    let ok = bin()
        .args(["schedule", "check"])
        .arg(&problem)
        .arg(&sol)
        .output()
        .unwrap();
    assert!(ok.status.success());
    let mut broken = v.clone();
    broken["schedule"][0]["start"] = Value::from(-5000);
    broken["schedule"][0]["end"] = Value::from(-4000);
    std::fs::write(&sol, broken.to_string()).unwrap();
    let bad = bin()
        .args(["schedule", "check"])
        .arg(&problem)
        .arg(&sol)
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stdout).contains("wrong_duration"));
}

#[test]
fn impossible_native_problem_is_named() {
    let dir = tempdir("bad");
    let problem = dir.join("bad.json");
    std::fs::write(
        &problem,
        r#"{"horizon_start":"2026-03-02T00:00:00Z","horizon_minutes":100,"units":[{"id":"U1"}],
            "orders":[{"id":"A"}],
            "operations":[{"id":"a1","order":"A","alternatives":[{"unit":"GHOST","minutes":5}]}]}"#,
    )
    .unwrap();
    let out = bin()
        .args(["schedule", "solve"])
        .arg(&problem)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("a1") && err.contains("GHOST"), "{err}");
}

#[test]
fn bench_jssp_prints_a_gap_table() {
    let dir = bench_dir("jssp");
    let out = bin()
        .args(["bench", "jssp"])
        .arg(&dir)
        .args(["--time-limit", "0.3", "--threads", "1", "--only", "ft06"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("ft06") && text.contains("55") && text.contains("mean gap"),
        "{text}"
    );
    let out = bin()
        .args(["bench", "jssp"])
        .arg(&dir)
        .args([
            "--time-limit",
            "0.3",
            "--threads",
            "1",
            "--only",
            "ft06",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(report["rows"][0]["instance"], "ft06", "{report}");
}

#[test]
fn explain_the_reference_plant() {
    let dir = tempdir("explain");
    let problem = dir.join("reference.json");
    let status = bin()
        .args(["schedule", "reference", "--out"])
        .arg(&problem)
        .status()
        .unwrap();
    assert!(status.success());
    let file = problem.to_str().unwrap();
    let v = run_json(&[
        "schedule",
        "solve",
        file,
        "--time-limit",
        "5",
        "--iterations",
        "100",
        "--json",
    ]);
    let sol = dir.join("s.json");
    std::fs::write(&sol, v.to_string()).unwrap();
    // The JSON explanation is the library's for the same problem and schedule.
    let e = run_json(&["schedule", "explain", file, sol.to_str().unwrap(), "--json"]);
    let p: schedule::plant::PlantProblem =
        serde_json::from_str(&std::fs::read_to_string(&problem).unwrap()).unwrap();
    let assignments = serde_json::from_value(v["schedule"].clone()).unwrap();
    let s = schedule::plant::PlantSchedule { assignments };
    let lib = schedule::plant::explain(&p, &s).unwrap();
    assert_eq!(e, serde_json::to_value(&lib).unwrap());
    assert_eq!(
        lib.late_orders.len() as u64,
        v["kpis"]["late_orders"].as_u64().unwrap()
    );
    assert_eq!(lib.units.len(), p.units.len());
    for o in &lib.late_orders {
        let release = p.orders.iter().find(|x| x.id == o.order).unwrap().release;
        assert_eq!(o.chain.first().unwrap().to, o.completion);
        assert_eq!(o.chain.last().unwrap().from, release);
    }
    // The human table: late orders with their chains, then the ranked units and pools.
    let out = bin()
        .args(["schedule", "explain"])
        .arg(&problem)
        .arg(&sol)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("bottleneck units") && text.contains("bottleneck pools"));
    assert!(text.contains(&lib.units[0].unit), "{text}");
    for o in &lib.late_orders {
        assert!(
            text.contains(&format!("order {}: {} min late", o.order, o.minutes_late)),
            "{text}"
        );
    }
    // `solve` ends its human output with the summary.
    let out = bin()
        .args([
            "schedule",
            "solve",
            file,
            "--time-limit",
            "5",
            "--iterations",
            "100",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("late orders: {}", lib.late_orders.len()))
            && text.contains("bottleneck units: "),
        "{text}"
    );
    // A schedule naming an operation the problem does not have is refused, naming it.
    let mut broken = v.clone();
    broken["schedule"][0]["op"] = Value::from("GHOST-OP");
    std::fs::write(&sol, broken.to_string()).unwrap();
    let out = bin()
        .args(["schedule", "explain"])
        .arg(&problem)
        .arg(&sol)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("GHOST-OP"), "{err}");
}

#[test]
fn scenarios_of_the_reference_plant() {
    let dir = tempdir("scenarios");
    let problem = dir.join("reference.json");
    let status = bin()
        .args(["schedule", "reference", "--out"])
        .arg(&problem)
        .status()
        .unwrap();
    assert!(status.success());
    let file = problem.to_str().unwrap();
    let args = [
        "schedule",
        "scenarios",
        file,
        "--iterations",
        "60",
        "--time-limit",
        "60",
        "--risk-runs",
        "30",
        "--seed",
        "2",
        "--json",
    ];
    let report = run_json(&args);
    let p: schedule::plant::PlantProblem =
        serde_json::from_str(&std::fs::read_to_string(&problem).unwrap()).unwrap();
    let typed: schedule::plant::scenario::ScenarioReport =
        serde_json::from_value(report.clone()).unwrap();
    // Every what-if is answered with an alternative or reported as finding none.
    assert!(typed.skipped.is_empty(), "skipped: {:?}", typed.skipped);
    assert_eq!(
        typed.scenarios.len() + typed.none_found.len(),
        5,
        "{:?}",
        typed.none_found
    );
    assert!(typed.scenarios.len() >= 3, "{:?}", typed.none_found);
    for s in &typed.scenarios {
        let own = typed.problem_of(&p, s.scenario);
        let verdict = schedule::plant::check(&own, &s.schedule);
        assert!(verdict.feasible, "{}: {:?}", s.scenario, verdict.violations);
    }
    // Seeded with an iteration budget: the same report twice.
    assert_eq!(run_json(&args), report);
    // The table names every scenario with its rank, and where the overtime went.
    let out = bin().args(&args[..args.len() - 1]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let bottleneck = typed.bottleneck.as_ref().unwrap();
    assert!(
        text.contains(&format!("overtime goes to {}", bottleneck.unit)),
        "{text}"
    );
    for s in &typed.scenarios {
        assert!(
            text.contains(&format!("{:<4} {:<24}", s.rank, s.scenario.as_str())),
            "{text}"
        );
    }
    for n in &typed.none_found {
        assert!(
            text.contains(&format!("no alternative from {}: {}", n.scenario, n.reason)),
            "{text}"
        );
    }
    // A scenario name that does not exist is named.
    let out = bin()
        .args([
            "schedule",
            "scenarios",
            file,
            "--scenarios",
            "overtime,maximize_throughput",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("invalid value 'overtime'"), "{err}");
    assert!(err.contains("overtime_on_bottleneck"), "{err}");
}
