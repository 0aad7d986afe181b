//! Numeric columns and command-line style options to an [`AnalyzeRequest`] for a chart kind,
//! with the option parsers for `--phase1` ranges and `--rules` choices.

use serde_json::{Map, Value, json};

use super::CsvError;
use super::read::{ColumnSpec, detect_delimiter, parse_csv};
use crate::api::{AnalyzeRequest, ChartKind};
use crate::rules::RuleSet;

/// Parses a phase-I range: `0..24` or `0-24` (both inclusive, as `0..m−1` in the vectors
/// README), `0..=24`, or a comma list of such ranges and single indices (`0-9,12,14-20`).
pub fn parse_range(text: &str) -> Result<Vec<usize>, CsvError> {
    let bad = |reason: String| CsvError::BadOption {
        option: "--phase1",
        reason,
    };
    let num = |s: &str| {
        s.trim()
            .parse::<usize>()
            .map_err(|_| bad(format!("`{}` is not an index", s.trim())))
    };
    let mut out = Vec::new();
    for part in text.split(',').filter(|p| !p.trim().is_empty()) {
        let part = part.trim();
        let (a, b) = if let Some((a, b)) = part.split_once("..=") {
            (num(a)?, num(b)?)
        } else if let Some((a, b)) = part.split_once("..") {
            (num(a)?, num(b)?)
        } else if let Some((a, b)) = part.split_once('-') {
            (num(a)?, num(b)?)
        } else {
            let v = num(part)?;
            (v, v)
        };
        if a > b {
            return Err(bad(format!("`{part}` runs backwards")));
        }
        if b - a > 10_000_000 {
            return Err(bad(format!("`{part}` is too long")));
        }
        out.extend(a..=b);
    }
    if out.is_empty() {
        return Err(bad("empty range".into()));
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// Parses a rule choice: `nelson`, `we` / `western_electric`, a list like `1,2,5` (Nelson),
/// or `we:1,3` / `nelson:2,3`. Returns `(rule_set, rules)` as request values.
pub fn parse_rules(text: &str) -> Result<(RuleSet, Vec<i64>), CsvError> {
    let bad = |reason: String| CsvError::BadOption {
        option: "--rules",
        reason,
    };
    let t = text.trim();
    let (set, list) = match t.split_once(':') {
        Some((s, l)) => (RuleSet::parse(s).map_err(|e| bad(e.to_string()))?, Some(l)),
        None => match RuleSet::parse(t) {
            Ok(s) => (s, None),
            Err(_) => (RuleSet::Nelson, Some(t)),
        },
    };
    let rules = match list {
        None => (1..=i64::from(set.max_rule())).collect(),
        Some(l) => l
            .split(',')
            .map(|r| {
                let r = r.trim();
                match r.parse::<i64>() {
                    Ok(v) if v >= 1 && v <= i64::from(set.max_rule()) => Ok(v),
                    _ => Err(bad(format!(
                        "`{r}` is not a rule of {} (1..={})",
                        set.as_str(),
                        set.max_rule()
                    ))),
                }
            })
            .collect::<Result<Vec<_>, _>>()?,
    };
    Ok((set, rules))
}

/// Options of `spc analyze FILE.csv`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CsvOptions {
    /// Chart kind (`--chart`).
    pub chart: Option<ChartKind>,
    /// Value columns (default: the first column that is not the size column; for T², all
    /// such columns).
    pub value_columns: Vec<String>,
    /// Consecutive rows form subgroups of this size (`--subgroup-size`); for p and np it is
    /// the constant sample size when no size column is given.
    pub subgroup_size: Option<usize>,
    /// Column holding sample sizes for p, np, u (`--size-column`).
    pub size_column: Option<String>,
    /// Phase-I range (`--phase1`).
    pub phase1: Option<String>,
    /// Rule choice (`--rules`).
    pub rules: Option<String>,
    /// Lower specification limit (`--lsl`).
    pub lsl: Option<f64>,
    /// Upper specification limit (`--usl`).
    pub usl: Option<f64>,
    /// Extra parameters passed through unchanged (`lambda`, `L`, `k`, `h`, `alpha`, ...).
    pub extra_params: Map<String, Value>,
    /// Whether the input has a header line (true unless told).
    pub no_header: bool,
    /// Field delimiter (`--delimiter`); detected when `None` (see [`detect_delimiter`]).
    pub delimiter: Option<char>,
}

/// Builds an analysis request from CSV text and command-line style options.
pub fn request_from_csv(text: &str, opts: &CsvOptions) -> Result<AnalyzeRequest, CsvError> {
    let chart = opts.chart.ok_or(CsvError::BadOption {
        option: "--chart",
        reason: "a chart kind is required".into(),
    })?;
    let mut spec = ColumnSpec {
        columns: Vec::new(),
        has_header: !opts.no_header,
        delimiter: opts.delimiter.unwrap_or_else(|| detect_delimiter(text)),
    };
    // Resolve value columns from the header when not given.
    let header = parse_csv(text, &spec)?.headers;
    let size_col = opts.size_column.clone();
    let multi = matches!(chart, ChartKind::T2Individual | ChartKind::T2Subgroup);
    let values: Vec<String> = if !opts.value_columns.is_empty() {
        opts.value_columns.clone()
    } else {
        let candidates = header
            .iter()
            .filter(|h| Some(*h) != size_col.as_ref())
            .cloned();
        if multi {
            candidates.collect()
        } else {
            candidates.take(1).collect()
        }
    };
    if values.is_empty() {
        return Err(CsvError::BadOption {
            option: "--column",
            reason: "no value column in the input".into(),
        });
    }
    spec.columns = values.clone();
    if let Some(s) = &size_col {
        spec.columns.push(s.clone());
    }
    let table = parse_csv(text, &spec)?;
    let rows = table.lines.len();
    let last_line = table.lines.last().copied().unwrap_or(1);
    let first = &table.columns[0];
    let sizes: Option<&Vec<f64>> = size_col.as_ref().map(|_| &table.columns[values.len()]);

    let group = |size: usize, col: &[f64]| -> Result<Vec<Vec<f64>>, CsvError> {
        if size == 0 || rows % size != 0 {
            return Err(CsvError::IncompleteSubgroup {
                line: last_line,
                rows,
                size,
            });
        }
        Ok(col.chunks(size).map(<[f64]>::to_vec).collect())
    };

    let mut data = Map::new();
    match chart {
        ChartKind::P | ChartKind::Np | ChartKind::U => {
            data.insert("counts".into(), json!(first));
            let s: Vec<f64> = match (sizes, opts.subgroup_size) {
                (Some(s), _) => s.clone(),
                (None, Some(n)) if n > 0 => vec![n as f64; rows],
                _ => {
                    return Err(CsvError::BadOption {
                        option: "--size-column",
                        reason: format!(
                            "chart `{}` needs sample sizes: give --size-column or --subgroup-size",
                            chart.as_str()
                        ),
                    });
                }
            };
            data.insert("sizes".into(), json!(s));
        }
        ChartKind::C => {
            data.insert("counts".into(), json!(first));
        }
        ChartKind::Constants => {
            data.insert("n".into(), json!(first));
        }
        ChartKind::XbarR | ChartKind::XbarS => {
            let n = opts.subgroup_size.ok_or(CsvError::BadOption {
                option: "--subgroup-size",
                reason: format!("chart `{}` needs --subgroup-size", chart.as_str()),
            })?;
            data.insert("subgroups".into(), json!(group(n, first)?));
        }
        ChartKind::Imr | ChartKind::Rules => {
            data.insert("values".into(), json!(first));
        }
        ChartKind::Ewma | ChartKind::Cusum | ChartKind::Capability => match opts.subgroup_size {
            Some(n) if n > 1 => {
                data.insert("subgroups".into(), json!(group(n, first)?));
            }
            _ => {
                data.insert("values".into(), json!(first));
            }
        },
        ChartKind::T2Individual => {
            let obs: Vec<Vec<f64>> = (0..rows)
                .map(|r| (0..values.len()).map(|c| table.columns[c][r]).collect())
                .collect();
            data.insert("observations".into(), json!(obs));
        }
        ChartKind::T2Subgroup => {
            let n = opts.subgroup_size.ok_or(CsvError::BadOption {
                option: "--subgroup-size",
                reason: "chart `t2_subgroup` needs --subgroup-size".into(),
            })?;
            let obs: Vec<Vec<f64>> = (0..rows)
                .map(|r| (0..values.len()).map(|c| table.columns[c][r]).collect())
                .collect();
            if n == 0 || rows % n != 0 {
                return Err(CsvError::IncompleteSubgroup {
                    line: last_line,
                    rows,
                    size: n,
                });
            }
            let groups: Vec<Vec<Vec<f64>>> = obs.chunks(n).map(<[Vec<f64>]>::to_vec).collect();
            data.insert("subgroups".into(), json!(groups));
        }
    }

    let mut params = opts.extra_params.clone();
    if let Some(r) = &opts.phase1 {
        params.insert("phase1_indices".into(), json!(parse_range(r)?));
    }
    if let Some(r) = &opts.rules {
        let (set, list) = parse_rules(r)?;
        params.insert("rule_set".into(), json!(set.as_str()));
        params.insert("rules".into(), json!(list));
    }
    if let Some(v) = opts.lsl {
        params.insert("lsl".into(), json!(v));
    }
    if let Some(v) = opts.usl {
        params.insert("usl".into(), json!(v));
    }
    Ok(AnalyzeRequest {
        chart: chart.as_str().to_string(),
        params,
        data,
    })
}

/// Builds the request from CSV and analyses it (the `spc analyze FILE.csv` path).
pub fn analyze_csv(
    text: &str,
    opts: &CsvOptions,
) -> Result<crate::api::AnalyzeResponse, crate::error::QualityError> {
    crate::api::analyze(&request_from_csv(text, opts)?)
}
