//! Parsers for the standard benchmark formats: JSPLIB job shop, Brandimarte `.fjs` flexible
//! job shop, and the `bounds.csv` tables that ship with the benchmark sets.
//!
//! Pure functions from text to data; every error names the 1-based line (and field) at fault.
//! Blank lines and lines starting with `#` are skipped in instance files.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::problem::{Alternative, Job, Operation, Problem};

/// A parse failure at a given 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    /// 1-based line number (0 when the input ended early and no line exists).
    pub line: usize,
    /// What is wrong, naming the field.
    pub message: String,
}

fn err(line: usize, message: impl Into<String>) -> ParseError {
    ParseError {
        line,
        message: message.into(),
    }
}

/// Non-empty, non-comment lines with their 1-based numbers.
fn content_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines().enumerate().filter_map(|(i, l)| {
        let t = l.trim();
        (!t.is_empty() && !t.starts_with('#')).then_some((i + 1, t))
    })
}

fn parse_num<T: std::str::FromStr>(tok: &str, line: usize, field: &str) -> Result<T, ParseError> {
    tok.parse::<T>().map_err(|_| {
        err(
            line,
            format!("{field}: expected a non-negative integer, got {tok:?}"),
        )
    })
}

const MAX_DIM: usize = 1 << 20;

/// Parses a JSPLIB / OR-Library job shop: `n_jobs n_machines`, then one line per job with
/// `machine duration` pairs (0-based machines) in technological order.
pub fn parse_jsplib(text: &str) -> Result<Problem, ParseError> {
    let mut lines = content_lines(text);
    let (hl, header) = lines
        .next()
        .ok_or_else(|| err(0, "empty input: expected header `n_jobs n_machines`"))?;
    let toks: Vec<&str> = header.split_whitespace().collect();
    if toks.len() != 2 {
        return Err(err(
            hl,
            format!(
                "header: expected `n_jobs n_machines`, got {} fields",
                toks.len()
            ),
        ));
    }
    let n_jobs: usize = parse_num(toks[0], hl, "header n_jobs")?;
    let n_machines: usize = parse_num(toks[1], hl, "header n_machines")?;
    if n_jobs == 0 || n_machines == 0 || n_jobs > MAX_DIM || n_machines > MAX_DIM {
        return Err(err(
            hl,
            format!("header: n_jobs {n_jobs} and n_machines {n_machines} must be in 1..={MAX_DIM}"),
        ));
    }
    let mut jobs = Vec::with_capacity(n_jobs.min(4096));
    for j in 0..n_jobs {
        let (ln, line) = lines.next().ok_or_else(|| {
            err(
                0,
                format!("input ends before job {j} (expected {n_jobs} job lines)"),
            )
        })?;
        let toks: Vec<&str> = line.split_whitespace().collect();
        if !toks.len().is_multiple_of(2) {
            return Err(err(
                ln,
                format!(
                    "job {j}: expected `machine duration` pairs, got {} numbers",
                    toks.len()
                ),
            ));
        }
        let mut ops = Vec::with_capacity(toks.len() / 2);
        for (o, pair) in toks.chunks(2).enumerate() {
            let machine: usize = parse_num(pair[0], ln, &format!("job {j} operation {o} machine"))?;
            let duration: u32 = parse_num(pair[1], ln, &format!("job {j} operation {o} duration"))?;
            if machine >= n_machines {
                return Err(err(
                    ln,
                    format!(
                        "job {j} operation {o} machine: {machine} out of range 0..{n_machines}"
                    ),
                ));
            }
            ops.push(Operation {
                alternatives: vec![Alternative { machine, duration }],
            });
        }
        if ops.is_empty() {
            return Err(err(ln, format!("job {j}: no operations")));
        }
        jobs.push(Job { operations: ops });
    }
    if let Some((ln, _)) = lines.next() {
        return Err(err(
            ln,
            format!("unexpected content after the {n_jobs} job lines"),
        ));
    }
    Ok(Problem { n_machines, jobs })
}

/// Parses a Brandimarte `.fjs` flexible job shop: header `n_jobs n_machines [avg]`, then one
/// line per job: `n_ops`, then per operation `k` followed by `k` pairs `machine time` with
/// **1-based** machines (converted to 0-based).
pub fn parse_fjs(text: &str) -> Result<Problem, ParseError> {
    let mut lines = content_lines(text);
    let (hl, header) = lines.next().ok_or_else(|| {
        err(
            0,
            "empty input: expected header `n_jobs n_machines [avg_machines]`",
        )
    })?;
    let toks: Vec<&str> = header.split_whitespace().collect();
    if toks.len() < 2 || toks.len() > 3 {
        return Err(err(
            hl,
            format!(
                "header: expected `n_jobs n_machines [avg_machines]`, got {} fields",
                toks.len()
            ),
        ));
    }
    let n_jobs: usize = parse_num(toks[0], hl, "header n_jobs")?;
    let n_machines: usize = parse_num(toks[1], hl, "header n_machines")?;
    if let Some(avg) = toks.get(2) {
        avg.parse::<f64>().map_err(|_| {
            err(
                hl,
                format!("header avg_machines: expected a number, got {avg:?}"),
            )
        })?;
    }
    if n_jobs == 0 || n_machines == 0 || n_jobs > MAX_DIM || n_machines > MAX_DIM {
        return Err(err(
            hl,
            format!("header: n_jobs {n_jobs} and n_machines {n_machines} must be in 1..={MAX_DIM}"),
        ));
    }
    let mut jobs = Vec::with_capacity(n_jobs.min(4096));
    for j in 0..n_jobs {
        let (ln, line) = lines.next().ok_or_else(|| {
            err(
                0,
                format!("input ends before job {j} (expected {n_jobs} job lines)"),
            )
        })?;
        let mut toks = line.split_whitespace();
        let mut next = |field: &dyn Fn() -> String| -> Result<usize, ParseError> {
            let t = toks
                .next()
                .ok_or_else(|| err(ln, format!("{}: missing (line ends early)", field())))?;
            parse_num(t, ln, &field())
        };
        let n_ops = next(&|| format!("job {j} n_ops"))?;
        if n_ops == 0 || n_ops > MAX_DIM {
            return Err(err(
                ln,
                format!("job {j} n_ops: {n_ops} must be in 1..={MAX_DIM}"),
            ));
        }
        let mut ops = Vec::with_capacity(n_ops.min(4096));
        for o in 0..n_ops {
            let k = next(&|| format!("job {j} operation {o} number of machines"))?;
            if k == 0 || k > n_machines {
                return Err(err(
                    ln,
                    format!(
                        "job {j} operation {o} number of machines: {k} must be in 1..={n_machines}"
                    ),
                ));
            }
            let mut alternatives = Vec::with_capacity(k);
            for a in 0..k {
                let m1 = next(&|| format!("job {j} operation {o} alternative {a} machine"))?;
                if m1 == 0 || m1 > n_machines {
                    return Err(err(
                        ln,
                        format!(
                            "job {j} operation {o} alternative {a} machine: {m1} out of range 1..={n_machines} (1-based)"
                        ),
                    ));
                }
                let d = next(&|| format!("job {j} operation {o} alternative {a} time"))?;
                let duration = u32::try_from(d).map_err(|_| {
                    err(
                        ln,
                        format!("job {j} operation {o} alternative {a} time: {d} too large"),
                    )
                })?;
                let machine = m1 - 1;
                if alternatives
                    .iter()
                    .any(|x: &Alternative| x.machine == machine)
                {
                    return Err(err(
                        ln,
                        format!("job {j} operation {o} alternative {a} machine: {m1} listed twice"),
                    ));
                }
                alternatives.push(Alternative { machine, duration });
            }
            ops.push(Operation { alternatives });
        }
        if let Some(extra) = toks.next() {
            return Err(err(
                ln,
                format!("job {j}: unexpected extra field {extra:?} after {n_ops} operations"),
            ));
        }
        jobs.push(Job { operations: ops });
    }
    if let Some((ln, _)) = lines.next() {
        return Err(err(
            ln,
            format!("unexpected content after the {n_jobs} job lines"),
        ));
    }
    Ok(Problem { n_machines, jobs })
}

/// One row of a `bounds.csv` table (JSSP: `name,jobs,machines,optimum,lower_bound,upper_bound`;
/// FJSP: `name,jobs,machines,operations,optimum,lower_bound,best_known_ub,note`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoundRow {
    /// Instance name (file stem).
    pub name: String,
    /// Number of jobs, if given.
    pub jobs: Option<usize>,
    /// Number of machines, if given.
    pub machines: Option<usize>,
    /// Number of operations, if given.
    pub operations: Option<usize>,
    /// Proven optimum, if known.
    pub optimum: Option<u64>,
    /// Best known lower bound.
    pub lower_bound: Option<u64>,
    /// Best known feasible makespan (BKS): `upper_bound` or `best_known_ub`.
    pub upper_bound: Option<u64>,
    /// Free-text note, if the table has one.
    pub note: Option<String>,
}

/// Parses a `bounds.csv`; columns are located by the header names (`name` is required;
/// `upper_bound` and `best_known_ub` are synonyms). Empty cells become `None`.
pub fn parse_bounds(text: &str) -> Result<Vec<BoundRow>, ParseError> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty());
    let (hl, header) = lines
        .next()
        .ok_or_else(|| err(0, "empty input: expected a CSV header"))?;
    let cols: Vec<&str> = header.split(',').map(str::trim).collect();
    let find = |names: &[&str]| cols.iter().position(|c| names.contains(c));
    let name_col = find(&["name"]).ok_or_else(|| err(hl, "header: missing column `name`"))?;
    let jobs_col = find(&["jobs"]);
    let machines_col = find(&["machines"]);
    let ops_col = find(&["operations"]);
    let opt_col = find(&["optimum"]);
    let lb_col = find(&["lower_bound"]);
    let ub_col = find(&["upper_bound", "best_known_ub"]);
    let note_col = find(&["note"]);
    let mut rows = Vec::new();
    for (ln, line) in lines {
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        if cells.len() > cols.len() {
            return Err(err(
                ln,
                format!(
                    "expected at most {} fields, got {}",
                    cols.len(),
                    cells.len()
                ),
            ));
        }
        let cell = |c: Option<usize>| {
            c.and_then(|i| cells.get(i).copied())
                .filter(|s| !s.is_empty())
        };
        fn num<T: std::str::FromStr>(
            v: Option<&str>,
            ln: usize,
            field: &str,
        ) -> Result<Option<T>, ParseError> {
            v.map(|s| parse_num(s, ln, field)).transpose()
        }
        let name = cell(Some(name_col)).ok_or_else(|| err(ln, "field `name` is empty"))?;
        rows.push(BoundRow {
            name: name.to_string(),
            jobs: num(cell(jobs_col), ln, "jobs")?,
            machines: num(cell(machines_col), ln, "machines")?,
            operations: num(cell(ops_col), ln, "operations")?,
            optimum: num(cell(opt_col), ln, "optimum")?,
            lower_bound: num(cell(lb_col), ln, "lower_bound")?,
            upper_bound: num(cell(ub_col), ln, "upper_bound")?,
            note: cell(note_col).map(str::to_string),
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn jsplib_small() {
        let p = parse_jsplib("2 2\n0 3 1 2\n1 4 0 1\n").unwrap();
        assert_eq!(p.n_machines, 2);
        assert_eq!(
            p.jobs[1].operations[0].alternatives[0],
            Alternative {
                machine: 1,
                duration: 4
            }
        );
    }

    #[test]
    fn jsplib_errors_name_line() {
        let e = parse_jsplib("2 2\n0 3 1 2\n1 4 5 1\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("machine"), "{e}");
        let e = parse_jsplib("2 2\n0 3 1\n").unwrap_err();
        assert_eq!(e.line, 2);
        let e = parse_jsplib("2 x\n").unwrap_err();
        assert!(
            e.to_string().starts_with("line 1: header n_machines"),
            "{e}"
        );
    }

    #[test]
    fn fjs_small_is_zero_based() {
        let p = parse_fjs("2 3 1.5\n2 1 1 5 2 2 3 3 4\n1 1 3 7\n").unwrap();
        assert_eq!(
            p.jobs[0].operations[0].alternatives,
            vec![Alternative {
                machine: 0,
                duration: 5
            }]
        );
        assert_eq!(p.jobs[0].operations[1].alternatives.len(), 2);
        assert_eq!(p.jobs[1].operations[0].alternatives[0].machine, 2);
        let e = parse_fjs("1 3\n1 1 4 5\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("alternative 0 machine"), "{e}");
        let e = parse_fjs("1 3\n1 2 1 5\n").unwrap_err();
        assert!(e.message.contains("missing"), "{e}");
    }

    #[test]
    fn bounds_both_layouts() {
        let j = parse_bounds("name,jobs,machines,optimum,lower_bound,upper_bound\nft06,6,6,55,55,55\nta22,20,20,,1600,1600\n").unwrap();
        assert_eq!(j[0].optimum, Some(55));
        assert_eq!(j[1].optimum, None);
        assert_eq!(j[1].upper_bound, Some(1600));
        let f = parse_bounds("name,jobs,machines,operations,optimum,lower_bound,best_known_ub,note\nmk02,10,6,58,,24,26,\n").unwrap();
        assert_eq!(f[0].upper_bound, Some(26));
        assert_eq!(f[0].operations, Some(58));
        let e = parse_bounds("name,optimum\nx,abc\n").unwrap_err();
        assert_eq!(e.line, 2);
    }

    proptest! {
        #[test]
        fn parsers_never_panic(s in "\\PC{0,200}") {
            let _ = parse_jsplib(&s);
            let _ = parse_fjs(&s);
            let _ = parse_bounds(&s);
        }

        #[test]
        fn parsers_never_panic_numeric(s in "[0-9 \n.,-]{0,120}") {
            let _ = parse_jsplib(&s);
            let _ = parse_fjs(&s);
            let _ = parse_bounds(&s);
        }
    }
}
