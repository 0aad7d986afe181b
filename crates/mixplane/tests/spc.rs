//! `mixplane spc analyze` as a user runs it: the built binary on an SPC vector of `testdata/` (as a
//! JSON request and as CSV), compared with the vector's `expected` within 1e-9, and on bad
//! CSV, whose error must name the line and column.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The SPC vectors kept in the repository (`testdata/quality/vectors`).
fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/quality/vectors")
}

fn mixplane(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mixplane"))
        .args(args)
        .output()
        .expect("run mixplane");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every key of `expected` is in `actual`: numbers within 1e-9·max(1, |x|), the rest equal.
fn matches(expected: &Value, actual: &Value, path: &str, errors: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Number(e), Value::Number(a)) => {
            let (e, a) = (e.as_f64().unwrap(), a.as_f64().unwrap());
            if (e - a).abs() > 1e-9 * e.abs().max(1.0) {
                errors.push(format!("{path}: expected {e}, got {a}"));
            }
        }
        (Value::Object(e), Value::Object(a)) => {
            for (k, v) in e {
                match a.get(k) {
                    Some(x) => matches(v, x, &format!("{path}.{k}"), errors),
                    None => errors.push(format!("{path}.{k}: missing")),
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                errors.push(format!("{path}: {} entries, expected {}", a.len(), e.len()));
                return;
            }
            for (i, (x, y)) in e.iter().zip(a).enumerate() {
                matches(x, y, &format!("{path}[{i}]"), errors);
            }
        }
        (e, a) if e == a => {}
        (e, a) => errors.push(format!("{path}: expected {e}, got {a}")),
    }
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mixplane-spc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn request_and_csv_reproduce_a_vector() {
    let dir = vectors();
    let file = dir.join("imr_outlier_and_trend.json");
    let vector: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let expected = &vector["expected"];

    let (ok, stdout, stderr) = mixplane(&["spc", "analyze", "--request", file.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    let answer: Value = serde_json::from_str(&stdout).expect("JSON answer");
    let mut errors = Vec::new();
    matches(expected, &answer, "expected", &mut errors);
    assert!(errors.is_empty(), "{}", errors.join("\n"));

    // The same data as CSV through the flags.
    let mut csv = String::from("reading\n");
    for v in vector["data"]["values"].as_array().unwrap() {
        csv.push_str(&format!("{v}\n"));
    }
    let path = temp_file("imr.csv", &csv);
    let (ok, stdout, stderr) = mixplane(&[
        "spc",
        "analyze",
        path.to_str().unwrap(),
        "--chart",
        "imr",
        "--rules",
        "nelson",
        "--json",
    ]);
    assert!(ok, "{stderr}");
    let answer: Value = serde_json::from_str(&stdout).expect("JSON answer");
    let mut errors = Vec::new();
    matches(expected, &answer, "expected", &mut errors);
    assert!(errors.is_empty(), "{}", errors.join("\n"));

    // Text output: center, limits, violations as {rule, index}, capability.
    let (ok, stdout, stderr) = mixplane(&[
        "spc",
        "analyze",
        path.to_str().unwrap(),
        "--chart",
        "imr",
        "--lsl",
        "8",
        "--usl",
        "12",
    ]);
    assert!(ok, "{stderr}");
    for needle in [
        "center",
        "ucl",
        "{rule: 1, index: 12}",
        "{rule: 3, index: 27}",
        "cpk",
    ] {
        assert!(
            stdout.contains(needle),
            "`{needle}` missing from:\n{stdout}"
        );
    }
}

#[test]
fn per_point_limits_are_printed_for_a_p_chart() {
    let path = temp_file("p.csv", "defects,n\n3,50\n5,80\n2,50\n4,100\n6,80\n1,50\n");
    let (ok, stdout, stderr) = mixplane(&[
        "spc",
        "analyze",
        path.to_str().unwrap(),
        "--chart",
        "p",
        "--size-column",
        "n",
    ]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("limits per point"), "{stdout}");
}

#[test]
fn bad_input_names_line_column_or_field() {
    let path = temp_file("bad.csv", "x,y\n1,2\n3,abc\n");
    let (ok, _, stderr) = mixplane(&[
        "spc",
        "analyze",
        path.to_str().unwrap(),
        "--chart",
        "imr",
        "--column",
        "y",
    ]);
    assert!(!ok);
    assert!(
        stderr.contains("line 3") && stderr.contains("`y`") && stderr.contains("abc"),
        "{stderr}"
    );

    let (ok, _, stderr) = mixplane(&[
        "spc",
        "analyze",
        path.to_str().unwrap(),
        "--chart",
        "imr",
        "--column",
        "z",
    ]);
    assert!(!ok);
    assert!(stderr.contains("column `z` not found"), "{stderr}");

    let (ok, _, stderr) = mixplane(&["spc", "analyze", path.to_str().unwrap(), "--chart", "pie"]);
    assert!(!ok);
    assert!(stderr.contains("unknown chart `pie`"), "{stderr}");

    let request = temp_file(
        "req.json",
        r#"{"chart": "xbar_r", "params": {}, "data": {"subgroups": [[1], [2], [3]]}}"#,
    );
    let (ok, _, stderr) = mixplane(&["spc", "analyze", "--request", request.to_str().unwrap()]);
    assert!(!ok);
    assert!(stderr.contains("size"), "{stderr}");
}

#[test]
fn semicolons_and_decimal_commas_are_read_not_misread() {
    // The defect: this file charted the values 1 and 2 and exited 0.
    let path = temp_file("semicolon.csv", "x;y\n1,5;2,1\n1,7;2,3\n1,6;2,2\n1,8;2,0\n");
    let file = path.to_str().unwrap();
    let (ok, stdout, stderr) = mixplane(&["spc", "analyze", file, "--chart", "imr", "--json"]);
    assert!(ok, "{stderr}");
    let answer: Value = serde_json::from_str(&stdout).expect("JSON answer");
    let center = answer["center"].as_f64().unwrap();
    assert!((center - 1.65).abs() < 1e-12, "{answer}");
    assert_eq!(answer["statistic"], serde_json::json!([1.5, 1.7, 1.6, 1.8]));
    let (ok, stdout, stderr) = mixplane(&[
        "spc",
        "analyze",
        file,
        "--chart",
        "imr",
        "--column",
        "y",
        "--delimiter",
        ";",
        "--json",
    ]);
    assert!(ok, "{stderr}");
    let answer: Value = serde_json::from_str(&stdout).expect("JSON answer");
    assert_eq!(answer["statistic"], serde_json::json!([2.1, 2.3, 2.2, 2.0]));

    // Told the file is comma-separated, a row is longer than the header: refused, line named.
    let (ok, _, stderr) = mixplane(&["spc", "analyze", file, "--chart", "imr", "--delimiter", ","]);
    assert!(!ok);
    assert!(stderr.contains("line 2: 3 fields"), "{stderr}");

    // A decimal comma in a comma-separated file is refused by name.
    let quoted = temp_file("quoted.csv", "x,y\n\"1,5\",2\n\"1,7\",3\n");
    let (ok, _, stderr) = mixplane(&["spc", "analyze", quoted.to_str().unwrap(), "--chart", "imr"]);
    assert!(!ok);
    assert!(
        stderr.contains("line 2") && stderr.contains("decimal comma"),
        "{stderr}"
    );
}

#[test]
fn chart_kinds_are_listed_in_help() {
    let (ok, stdout, stderr) = mixplane(&["spc", "analyze", "--help"]);
    assert!(ok, "{stderr}");
    for kind in ["imr", "xbar_r", "t2_subgroup", "--delimiter"] {
        assert!(stdout.contains(kind), "`{kind}` missing from:\n{stdout}");
    }
}
