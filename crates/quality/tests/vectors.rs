//! Runs every SPC test vector through `quality::analyze` and compares the response
//! with `expected` (numbers within 1e-9·max(1, |expected|), index lists exactly, `null` =
//! undefined) and with every `published[]` figure (absolute tolerance). All mismatches are
//! reported at once, as `vector: field path: detail`.
//!
//! The vectors are in the repository (`testdata/quality/vectors`, copied from the shared
//! folder; see `testdata/README.md`).

use std::path::{Path, PathBuf};

use quality::rules::evaluate;
use quality::{AnalyzeRequest, PointLimits, RuleSelection, RuleSet, analyze};
use serde_json::Value;

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/quality/vectors")
}

fn compare(path: &str, expected: &Value, actual: Option<&Value>, out: &mut Vec<String>) {
    let Some(actual) = actual else {
        out.push(format!("{path}: missing in response"));
        return;
    };
    match expected {
        Value::Null => {
            if !actual.is_null() {
                out.push(format!("{path}: expected null (undefined), got {actual}"));
            }
        }
        Value::Number(e) => {
            let e = e.as_f64().unwrap_or(f64::NAN);
            match actual.as_f64() {
                Some(a) if (a - e).abs() <= 1e-9 * e.abs().max(1.0) => {}
                _ => out.push(format!("{path}: expected {e}, got {actual}")),
            }
        }
        Value::Array(e) => match actual.as_array() {
            Some(a) if a.len() == e.len() => {
                for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                    compare(&format!("{path}[{i}]"), ev, Some(av), out);
                }
            }
            Some(a) => out.push(format!(
                "{path}: expected {} entries, got {}: expected {expected}, got {actual}",
                e.len(),
                a.len()
            )),
            None => out.push(format!("{path}: expected an array, got {actual}")),
        },
        Value::Object(e) => {
            for (k, ev) in e {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                compare(&p, ev, actual.get(k), out);
            }
        }
        Value::String(_) | Value::Bool(_) => {
            if expected != actual {
                out.push(format!("{path}: expected {expected}, got {actual}"));
            }
        }
    }
}

/// Resolves `a.b[3][1].c` inside `v`.
fn lookup<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = v;
    for part in path.split('.') {
        let (name, rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !name.is_empty() {
            cur = cur.get(name)?;
        }
        for idx in rest.split('[').filter(|s| !s.is_empty()) {
            let i: usize = idx.trim_end_matches(']').parse().ok()?;
            cur = cur.get(i)?;
        }
    }
    Some(cur)
}

/// Runs `quality::rules::evaluate` (the independent checker) on a `rules` request.
fn batch_rules(request: &AnalyzeRequest) -> Option<Value> {
    let num = |k: &str| request.params.get(k).and_then(Value::as_f64);
    let (center, sigma) = (num("center")?, num("sigma")?);
    let limits = PointLimits {
        center,
        sigma,
        lcl: num("lcl").unwrap_or(center - 3.0 * sigma),
        ucl: num("ucl").unwrap_or(center + 3.0 * sigma),
    };
    let set = RuleSet::parse(request.params.get("rule_set")?.as_str()?).ok()?;
    let rules: Vec<i64> = request
        .params
        .get("rules")?
        .as_array()?
        .iter()
        .filter_map(Value::as_i64)
        .collect();
    let selection = RuleSelection::new(set, &rules).ok()?;
    let values: Vec<f64> = request
        .data
        .get("values")?
        .as_array()?
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    serde_json::to_value(evaluate(&values, |_| limits, selection)).ok()
}

#[test]
fn every_vector_passes() {
    let dir = vectors_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("read vectors dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no vectors in {}", dir.display());
    let mut failures: Vec<String> = Vec::new();
    let mut checked_published = 0usize;
    for file in &files {
        let name = file
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                failures.push(format!("{name}: unreadable: {e}"));
                continue;
            }
        };
        let v: Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => {
                failures.push(format!("{name}: invalid JSON: {e}"));
                continue;
            }
        };
        let request = serde_json::json!({
            "chart": v["chart"],
            "params": v.get("params").cloned().unwrap_or(Value::Null).as_object().cloned().unwrap_or_default(),
            "data": v.get("data").cloned().unwrap_or(Value::Null).as_object().cloned().unwrap_or_default(),
        });
        let request: AnalyzeRequest = match serde_json::from_value(request) {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("{name}: bad request: {e}"));
                continue;
            }
        };
        let response = match analyze(&request) {
            Ok(r) => serde_json::to_value(&r).expect("serialise response"),
            Err(e) => {
                failures.push(format!("{name}: analyze failed: {e}"));
                continue;
            }
        };
        let mut out = Vec::new();
        compare("", &v["expected"], Some(&response), &mut out);
        if request.chart == "rules" {
            // The window-rescanning batch evaluator must agree with the vector as well.
            match batch_rules(&request) {
                Some(batch) => compare(
                    "rule_violations(batch)",
                    &v["expected"]["rule_violations"],
                    Some(&batch),
                    &mut out,
                ),
                None => out.push("batch evaluator could not read the request".into()),
            }
        }
        for p in v["published"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
            let field = p["field"].as_str().unwrap_or("?");
            checked_published += 1;
            let Some(actual) = lookup(&response, field) else {
                out.push(format!("published {field}: missing in response"));
                continue;
            };
            match (&p["value"], p["tolerance"].as_f64()) {
                (Value::Array(_), _) => {
                    if &p["value"] != actual
                        && serde_json::from_value::<Vec<f64>>(p["value"].clone()).ok()
                            != serde_json::from_value::<Vec<f64>>(actual.clone()).ok()
                    {
                        out.push(format!(
                            "published {field}: expected {}, got {actual}",
                            p["value"]
                        ));
                    }
                }
                (Value::Number(e), tol) => {
                    let e = e.as_f64().unwrap_or(f64::NAN);
                    let tol = tol.unwrap_or(0.0);
                    match actual.as_f64() {
                        Some(a) if (a - e).abs() <= tol => {}
                        _ => out.push(format!(
                            "published {field}: expected {e} ± {tol}, got {actual}"
                        )),
                    }
                }
                (other, _) => out.push(format!("published {field}: unsupported value {other}")),
            }
        }
        failures.extend(out.into_iter().map(|m| format!("{name}: {m}")));
    }
    assert!(
        failures.is_empty(),
        "{} mismatches over {} vectors:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
    eprintln!(
        "{} vectors passed ({} published figures checked)",
        files.len(),
        checked_published
    );
}
