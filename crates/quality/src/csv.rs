//! CSV input for the SPC engine, as pure functions over `&str` (the caller reads the file).
//!
//! Two stages, as for the JSON contract: [`parse_csv`] turns text into named numeric columns
//! (errors name the 1-based line and the column), then [`request_from_csv`] shapes those
//! columns into an [`AnalyzeRequest`] for a chart kind, with the options of
//! `mixplane spc analyze FILE.csv --chart KIND [--subgroup-size N | --size-column C]
//! [--phase1 RANGE] [--rules SET] [--lsl X] [--usl Y]`.
//!
//! Dialect: comma separated (or the chosen delimiter), optional double quotes with `""`
//! escapes, CRLF or LF, blank lines ignored, a header line unless told otherwise (then the
//! columns are named `1`, `2`, ...). Empty cells and text in a numeric column are errors.

use serde_json::{Map, Value, json};
use thiserror::Error;

use crate::api::{AnalyzeRequest, ChartKind};
use crate::rules::RuleSet;

/// Why CSV input could not be turned into data.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum CsvError {
    /// No header line (or no line at all).
    #[error("empty input: no header line")]
    Empty,
    /// A quoted field runs to the end of the input.
    #[error("line {line}: unterminated quoted field")]
    UnterminatedQuote {
        /// Line where the record starts.
        line: usize,
    },
    /// A requested column is not in the header.
    #[error("line {line}: column `{column}` not found (columns: {available})")]
    MissingColumn {
        /// The header line.
        line: usize,
        /// Requested column.
        column: String,
        /// Comma-separated header names.
        available: String,
    },
    /// A row has no value for a requested column.
    #[error("line {line}: no value in column `{column}` (row has {found} fields)")]
    ShortRow {
        /// Line of the row.
        line: usize,
        /// Column name.
        column: String,
        /// Number of fields in the row.
        found: usize,
    },
    /// A cell of a numeric column is not a finite number.
    #[error("line {line}, column `{column}`: `{text}` is not a number")]
    NotANumber {
        /// Line of the row.
        line: usize,
        /// Column name.
        column: String,
        /// Cell text.
        text: String,
    },
    /// The rows do not fill whole subgroups.
    #[error("line {line}: {rows} data rows do not split into subgroups of {size}")]
    IncompleteSubgroup {
        /// Line of the last row.
        line: usize,
        /// Data rows read.
        rows: usize,
        /// Subgroup size.
        size: usize,
    },
    /// An option is invalid or missing for the chosen chart.
    #[error("option `{option}`: {reason}")]
    BadOption {
        /// Option name (`--phase1`, `--subgroup-size`, ...).
        option: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// Which columns to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnSpec {
    /// Column names, in the order wanted (header names, or `1`, `2`, ... without header).
    pub columns: Vec<String>,
    /// Whether the first non-blank line is a header.
    pub has_header: bool,
    /// Field delimiter.
    pub delimiter: char,
}

impl ColumnSpec {
    /// Named columns of a comma-separated file with a header.
    pub fn named<S: Into<String>>(columns: impl IntoIterator<Item = S>) -> Self {
        ColumnSpec {
            columns: columns.into_iter().map(Into::into).collect(),
            has_header: true,
            delimiter: ',',
        }
    }
}

/// Numeric columns read from CSV.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvTable {
    /// All header names (or `1`, `2`, ...).
    pub headers: Vec<String>,
    /// The requested columns, in [`ColumnSpec::columns`] order.
    pub columns: Vec<Vec<f64>>,
    /// 1-based line of each data row.
    pub lines: Vec<usize>,
}

/// One record: its starting line and its fields.
type Record = (usize, Vec<String>);

fn records(text: &str, delim: char) -> Result<Vec<Record>, CsvError> {
    let mut out = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut in_quotes = false;
    let mut line = 1usize;
    let mut start = 1usize;
    let mut any = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                '\n' => {
                    line += 1;
                    field.push('\n');
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' => {
                in_quotes = true;
                any = true;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => {
                fields.push(std::mem::take(&mut field));
                if any || fields.iter().any(|f| !f.trim().is_empty()) {
                    out.push((start, std::mem::take(&mut fields)));
                } else {
                    fields.clear();
                }
                any = false;
                line += 1;
                start = line;
            }
            c if c == delim => {
                fields.push(std::mem::take(&mut field));
                any = true;
            }
            _ => field.push(c),
        }
    }
    if in_quotes {
        return Err(CsvError::UnterminatedQuote { line: start });
    }
    fields.push(field);
    if any || fields.iter().any(|f| !f.trim().is_empty()) {
        out.push((start, fields));
    }
    Ok(out)
}

/// Reads the requested numeric columns.
pub fn parse_csv(text: &str, spec: &ColumnSpec) -> Result<CsvTable, CsvError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let recs = records(text, spec.delimiter)?;
    let (header_line, headers, data) = if spec.has_header {
        let Some(((line, h), rest)) = recs.split_first() else {
            return Err(CsvError::Empty);
        };
        (
            *line,
            h.iter().map(|s| s.trim().to_string()).collect::<Vec<_>>(),
            rest,
        )
    } else {
        let width = recs.iter().map(|r| r.1.len()).max().unwrap_or(0);
        (1, (1..=width).map(|i| i.to_string()).collect(), &recs[..])
    };
    let mut idx = Vec::with_capacity(spec.columns.len());
    for col in &spec.columns {
        let want = col.trim();
        let pos = headers
            .iter()
            .position(|h| h == want)
            .or_else(|| headers.iter().position(|h| h.eq_ignore_ascii_case(want)));
        match pos {
            Some(p) => idx.push(p),
            None => {
                return Err(CsvError::MissingColumn {
                    line: header_line,
                    column: col.clone(),
                    available: headers.join(", "),
                });
            }
        }
    }
    let mut columns = vec![Vec::with_capacity(data.len()); idx.len()];
    let mut lines = Vec::with_capacity(data.len());
    for (line, fields) in data {
        for (k, &p) in idx.iter().enumerate() {
            let Some(cell) = fields.get(p) else {
                return Err(CsvError::ShortRow {
                    line: *line,
                    column: headers[p].clone(),
                    found: fields.len(),
                });
            };
            let t = cell.trim();
            match t.parse::<f64>() {
                Ok(v) if v.is_finite() => columns[k].push(v),
                _ => {
                    return Err(CsvError::NotANumber {
                        line: *line,
                        column: headers[p].clone(),
                        text: t.to_string(),
                    });
                }
            }
        }
        lines.push(*line);
    }
    Ok(CsvTable {
        headers,
        columns,
        lines,
    })
}

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
                        set.name(),
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
        delimiter: ',',
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
                            chart.name()
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
                reason: format!("chart `{}` needs --subgroup-size", chart.name()),
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
        params.insert("rule_set".into(), json!(set.name()));
        params.insert("rules".into(), json!(list));
    }
    if let Some(v) = opts.lsl {
        params.insert("lsl".into(), json!(v));
    }
    if let Some(v) = opts.usl {
        params.insert("usl".into(), json!(v));
    }
    Ok(AnalyzeRequest {
        chart: chart.name().to_string(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{AnalyzeResponse, analyze};
    use proptest::prelude::*;

    #[test]
    fn reads_named_columns_with_quotes_and_crlf() {
        let t = "lot,\"weight, g\",n\r\nA,1.5,10\r\n\r\n\"B\",\"2.5\",10\r\n";
        let tab = parse_csv(t, &ColumnSpec::named(["weight, g", "n"])).unwrap();
        assert_eq!(tab.columns, vec![vec![1.5, 2.5], vec![10.0, 10.0]]);
        assert_eq!(tab.lines, vec![2, 4]);
    }

    #[test]
    fn errors_name_line_and_column() {
        let t = "x,y\n1,2\n3,abc\n";
        assert_eq!(
            parse_csv(t, &ColumnSpec::named(["y"])).unwrap_err(),
            CsvError::NotANumber {
                line: 3,
                column: "y".into(),
                text: "abc".into()
            }
        );
        assert!(matches!(
            parse_csv(t, &ColumnSpec::named(["z"])).unwrap_err(),
            CsvError::MissingColumn { line: 1, .. }
        ));
        let t = "x,y\n1,2\n3\n";
        assert!(matches!(
            parse_csv(t, &ColumnSpec::named(["y"])).unwrap_err(),
            CsvError::ShortRow { line: 3, .. }
        ));
        let t = "x,y\n1,\n";
        assert!(matches!(
            parse_csv(t, &ColumnSpec::named(["y"])).unwrap_err(),
            CsvError::NotANumber { line: 2, .. }
        ));
    }

    #[test]
    fn ranges_and_rules() {
        assert_eq!(parse_range("0..3").unwrap(), vec![0, 1, 2, 3]);
        assert_eq!(parse_range("0-3").unwrap(), vec![0, 1, 2, 3]);
        assert_eq!(parse_range("0-1, 5, 7..=8").unwrap(), vec![0, 1, 5, 7, 8]);
        assert!(parse_range("5-2").is_err());
        assert!(parse_range("a-2").is_err());
        assert_eq!(
            parse_rules("we").unwrap(),
            (RuleSet::WesternElectric, vec![1, 2, 3, 4])
        );
        assert_eq!(
            parse_rules("1,2,5").unwrap(),
            (RuleSet::Nelson, vec![1, 2, 5])
        );
        assert_eq!(
            parse_rules("we:1,3").unwrap(),
            (RuleSet::WesternElectric, vec![1, 3])
        );
        assert!(parse_rules("9").is_err());
    }

    #[test]
    fn xbar_request_from_csv_matches_json_path() {
        let mut t = String::from("d\n");
        for i in 0..20 {
            t.push_str(&format!("{}\n", 10.0 + f64::from(i % 7) * 0.1));
        }
        let req = request_from_csv(
            &t,
            &CsvOptions {
                chart: Some(ChartKind::XbarR),
                subgroup_size: Some(4),
                phase1: Some("0-3".into()),
                rules: Some("we".into()),
                ..CsvOptions::default()
            },
        )
        .unwrap();
        assert_eq!(req.data["subgroups"].as_array().unwrap().len(), 5);
        let AnalyzeResponse::Shewhart(c) = analyze(&req).unwrap() else {
            panic!("expected a Shewhart chart");
        };
        assert_eq!(c.statistic.len(), 5);
        let bad = request_from_csv(
            "d\n1\n2\n3\n",
            &CsvOptions {
                chart: Some(ChartKind::XbarR),
                subgroup_size: Some(2),
                ..CsvOptions::default()
            },
        );
        assert!(matches!(
            bad,
            Err(CsvError::IncompleteSubgroup { line: 4, .. })
        ));
    }

    #[test]
    fn p_chart_with_size_column() {
        let t = "defects,inspected\n3,50\n5,60\n2,40\n";
        let req = request_from_csv(
            t,
            &CsvOptions {
                chart: Some(ChartKind::P),
                size_column: Some("inspected".into()),
                ..CsvOptions::default()
            },
        )
        .unwrap();
        assert_eq!(req.data["sizes"], json!([50.0, 60.0, 40.0]));
        assert!(analyze(&req).is_ok());
        let e = analyze_csv(
            "defects\n1\nx\n",
            &CsvOptions {
                chart: Some(ChartKind::C),
                ..CsvOptions::default()
            },
        );
        assert!(matches!(
            e,
            Err(crate::error::QualityError::Csv(CsvError::NotANumber {
                line: 3,
                ..
            }))
        ));
    }

    proptest! {
        #[test]
        fn parser_never_panics(text in "\\PC*", col in "[a-z,\"]{0,3}") {
            let _ = parse_csv(&text, &ColumnSpec::named([col.clone()]));
            let _ = parse_csv(&text, &ColumnSpec { columns: vec!["1".into()], has_header: false, delimiter: ';' });
            let _ = parse_range(&text);
            let _ = parse_rules(&text);
        }

        #[test]
        fn csv_like_input_never_panics(
            text in "([0-9a-z.\",\\-]{0,6}(,|\n|\r\n)){0,30}",
            size in proptest::option::of(0usize..5),
        ) {
            for chart in ChartKind::ALL {
                let opts = CsvOptions { chart: Some(chart), subgroup_size: size, ..CsvOptions::default() };
                if let Ok(req) = request_from_csv(&text, &opts) {
                    let _ = analyze(&req);
                }
            }
        }
    }
}
