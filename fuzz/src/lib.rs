//! Helpers shared by the fuzz targets in `fuzz_targets/`: turning the fuzzer's bytes into the
//! text a parser takes, the writers the round-trip properties need (JSPLIB and `.fjs`), and the
//! option line the CSV target reads its command-line options from.
//!
//! Every target checks the same contract of a parser: on any input it returns, never panics or
//! aborts, and a rejection is the parser's typed error. Where a writer exists, what was read is
//! written back and must read back the same.

use std::fmt::Write as _;
use std::sync::OnceLock;

use model::{Catalog, Timestamp};
use quality::ChartKind;
use quality::csv::CsvOptions;

/// The parsers take text: bytes that are not UTF-8 are rejected before them (by the HTTP layer
/// or the CLI), so they are not inputs of theirs.
pub fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// The fixed time handed to readers that need one (B2MML actuals without a time).
pub fn t0() -> Timestamp {
    Timestamp(1_767_225_600_000) // 2026-01-01T00:00:00Z
}

/// The reference plant, validated once per process.
pub fn reference_catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(sim::reference_catalog)
}

/// A job-shop problem in JSPLIB form (what [`schedule::parse_jsplib`] reads), when every job
/// has a single machine per operation; `None` otherwise.
pub fn write_jsplib(problem: &schedule::Problem) -> Option<String> {
    let mut out = format!("{} {}\n", problem.jobs.len(), problem.n_machines);
    for job in &problem.jobs {
        let mut fields = Vec::new();
        for op in &job.operations {
            let [alt] = op.alternatives.as_slice() else {
                return None;
            };
            fields.push(format!("{} {}", alt.machine, alt.duration));
        }
        out.push_str(&fields.join(" "));
        out.push('\n');
    }
    Some(out)
}

/// A job-shop problem in Brandimarte `.fjs` form (1-based machines).
pub fn write_fjs(problem: &schedule::Problem) -> String {
    let mut out = format!("{} {}\n", problem.jobs.len(), problem.n_machines);
    for job in &problem.jobs {
        let _ = write!(out, "{}", job.operations.len());
        for op in &job.operations {
            let _ = write!(out, " {}", op.alternatives.len());
            for alt in &op.alternatives {
                let _ = write!(out, " {} {}", alt.machine + 1, alt.duration);
            }
        }
        out.push('\n');
    }
    out
}

/// Splits a CSV case into its options and its CSV text. A case whose first line starts with
/// `#!` carries options there as space-separated `key=value` words, the command line's
/// options under short names: `chart=imr value=a,b subgroup=5 size=n phase1=1-20
/// rules=nelson:1,2 lsl=1.5 usl=9 delimiter=; noheader lambda=0.2` (an unknown key becomes an
/// extra parameter, passed through as a number when it reads as one). Without that line the
/// chart is `imr` and everything else is detected.
pub fn csv_case(case: &str) -> (CsvOptions, &str) {
    let mut opts = CsvOptions {
        chart: Some(ChartKind::Imr),
        ..CsvOptions::default()
    };
    let Some(rest) = case.strip_prefix("#!") else {
        return (opts, case);
    };
    let (line, csv) = rest.split_once('\n').unwrap_or((rest, ""));
    for word in line.split_whitespace() {
        let (key, value) = word.split_once('=').unwrap_or((word, ""));
        match key {
            "chart" => opts.chart = value.parse().ok(),
            "value" => opts.value_columns = value.split(',').map(str::to_owned).collect(),
            "subgroup" => opts.subgroup_size = value.parse().ok(),
            "size" => opts.size_column = Some(value.to_owned()),
            "phase1" => opts.phase1 = Some(value.to_owned()),
            "rules" => opts.rules = Some(value.to_owned()),
            "lsl" => opts.lsl = value.parse().ok(),
            "usl" => opts.usl = value.parse().ok(),
            "delimiter" => opts.delimiter = value.chars().next(),
            "noheader" => opts.no_header = true,
            _ => {
                let v = match value.parse::<f64>() {
                    Ok(x) if x.is_finite() => serde_json::json!(x),
                    _ => serde_json::json!(value),
                };
                opts.extra_params.insert(key.to_owned(), v);
            }
        }
    }
    (opts, csv)
}
