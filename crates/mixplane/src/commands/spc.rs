//! `mixplane spc analyze`: statistical process control on a CSV file or a JSON request
//! (`spc root-cause` and `spc root-cause-evaluate` live in `commands::root_cause`).
//!
//! `spc analyze FILE.csv --chart KIND ...` reads the columns the options name (errors give the
//! line and column; the delimiter is detected or given with `--delimiter`, and decimal commas
//! read as such in a file not separated by commas), charts them with the `quality` engine and prints the center line, the
//! limits (one line per point where they vary), the violations as `{rule, index}` and, with
//! `--lsl`/`--usl`, the capability indices. `--json` prints the answer as JSON shaped like a
//! test vector's `expected` (plus `capability` when specification limits are given).
//! `spc analyze --request FILE.json` takes a request shaped like a vector's
//! `{chart, params, data}` and prints the `expected`-shaped JSON.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context, bail};
use serde_json::{Map, Value, json};

#[derive(Debug, clap::Args)]
pub struct SpcArgs {
    #[command(subcommand)]
    pub command: SpcCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum SpcCommand {
    /// Chart a CSV column (or a JSON request) and print limits, violations and capability.
    Analyze(AnalyzeArgs),
    /// Rank the upstream process parameters and component lots, across modes and through
    /// genealogy, that best explain a characteristic's results.
    RootCause(super::root_cause::RootCauseArgs),
    /// Score the root-cause ranking on simulator runs with one injected fault per seed.
    RootCauseEvaluate(super::root_cause::EvaluateArgs),
}

#[derive(Debug, clap::Args)]
pub struct AnalyzeArgs {
    /// CSV file with a header line (not with --request).
    #[arg(required_unless_present = "request", conflicts_with = "request")]
    pub file: Option<PathBuf>,
    /// A JSON request `{chart, params, data}`; prints the answer as JSON.
    #[arg(long)]
    pub request: Option<PathBuf>,
    /// Chart kind (`-` may stand for `_`, as in `xbar-r`).
    #[arg(long, required_unless_present = "request", value_parser = ChartKindParser)]
    pub chart: Option<quality::ChartKind>,
    /// Field delimiter: one character, or `tab` [default: detected: `;`, tab or `|` when every
    /// line splits evenly on it, else `,`]. With a delimiter other than `,`, `1,5` reads as 1.5.
    #[arg(long, value_parser = parse_delimiter)]
    pub delimiter: Option<char>,
    /// Value column(s) [default: the first column that is not the size column].
    #[arg(long = "column")]
    pub columns: Vec<String>,
    /// Consecutive rows form subgroups of N (X̄ charts); the constant sample size for p/np.
    #[arg(long, conflicts_with = "size_column")]
    pub subgroup_size: Option<usize>,
    /// Column with the sample sizes (p, np, u).
    #[arg(long)]
    pub size_column: Option<String>,
    /// Phase-I points, e.g. `0..24` or `0-24` (inclusive) [default: all].
    #[arg(long)]
    pub phase1: Option<String>,
    /// `nelson`, `we`, a list like `1,2,5` or `we:1,3` [default: nelson].
    #[arg(long)]
    pub rules: Option<String>,
    /// Lower specification limit (adds capability).
    #[arg(long)]
    pub lsl: Option<f64>,
    /// Upper specification limit (adds capability).
    #[arg(long)]
    pub usl: Option<f64>,
    /// Extra chart parameter NAME=NUMBER (lambda, L, k, h, alpha, nsigma, ...).
    #[arg(long = "param", value_name = "NAME=NUMBER")]
    pub params: Vec<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Parses `--chart` through [`quality::ChartKind`] (its error names the kinds) and lists the
/// kinds in `--help`.
#[derive(Debug, Clone, Copy)]
struct ChartKindParser;

impl clap::builder::TypedValueParser for ChartKindParser {
    type Value = quality::ChartKind;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Self::Value, clap::Error> {
        let invalid = |message: String| {
            clap::Error::raw(clap::error::ErrorKind::InvalidValue, format!("{message}\n"))
                .with_cmd(cmd)
        };
        let text = value
            .to_str()
            .ok_or_else(|| invalid("option `--chart`: not UTF-8".into()))?;
        quality::ChartKind::parse(text).map_err(|e| invalid(format!("option `--chart`: {e}")))
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(quality::ChartKind::ALL.iter().map(|kind| {
            clap::builder::PossibleValue::new(kind.as_str())
        })))
    }
}

/// `--delimiter`: one character, or `tab` / `\t` for a tab.
fn parse_delimiter(text: &str) -> Result<char, String> {
    if text == "tab" || text == "\\t" {
        return Ok('\t');
    }
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Ok(c),
        _ => Err(format!("`{text}` is not one character (or `tab`)")),
    }
}

pub fn run(args: SpcArgs) -> anyhow::Result<()> {
    match args.command {
        SpcCommand::Analyze(a) => {
            let out = analyze(&a)?;
            print!("{out}");
            Ok(())
        }
        SpcCommand::RootCause(a) => super::root_cause::root_cause(a),
        SpcCommand::RootCauseEvaluate(a) => super::root_cause::evaluate(a),
    }
}

/// Runs the analysis and returns the text to print.
pub fn analyze(a: &AnalyzeArgs) -> anyhow::Result<String> {
    if let Some(path) = &a.request {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let request: quality::AnalyzeRequest = serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is not a request {{chart, params, data}}",
                path.display()
            )
        })?;
        let response = quality::analyze(&request)
            .with_context(|| format!("{}: invalid request", path.display()))?;
        return Ok(format!("{}\n", serde_json::to_string_pretty(&response)?));
    }
    let Some(path) = &a.file else {
        bail!("give a CSV file or --request FILE.json");
    };
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let Some(kind) = a.chart else {
        bail!("option `--chart`: a chart kind is required with a CSV file");
    };
    let mut extra = Map::new();
    for p in &a.params {
        let Some((name, value)) = p.split_once('=') else {
            bail!("option `--param`: `{p}` is not NAME=NUMBER");
        };
        let number: f64 = value
            .trim()
            .parse()
            .with_context(|| format!("option `--param {name}`: `{value}` is not a number"))?;
        extra.insert(name.trim().to_owned(), json!(number));
    }
    let options = quality::CsvOptions {
        chart: Some(kind),
        value_columns: a.columns.clone(),
        subgroup_size: a.subgroup_size,
        size_column: a.size_column.clone(),
        phase1: a.phase1.clone(),
        rules: a.rules.clone(),
        lsl: a.lsl,
        usl: a.usl,
        extra_params: extra,
        no_header: false,
        delimiter: a.delimiter,
    };
    let file = path.display();
    let request = quality::request_from_csv(&text, &options).with_context(|| format!("{file}"))?;
    let response = quality::analyze(&request).with_context(|| format!("{file}"))?;
    let mut value = serde_json::to_value(&response)?;
    let wants_capability =
        (a.lsl.is_some() || a.usl.is_some()) && !matches!(kind, quality::ChartKind::Capability);
    if wants_capability {
        let mut cap = request.clone();
        cap.chart = quality::ChartKind::Capability.as_str().into();
        cap.params = Map::new();
        if let Some(l) = a.lsl {
            cap.params.insert("lsl".into(), json!(l));
        }
        if let Some(u) = a.usl {
            cap.params.insert("usl".into(), json!(u));
        }
        cap.data.retain(|k, _| k == "values" || k == "subgroups");
        if !cap.data.is_empty() {
            let capability =
                quality::analyze(&cap).with_context(|| format!("{file}: capability"))?;
            if let Value::Object(map) = &mut value {
                map.insert("capability".into(), serde_json::to_value(&capability)?);
            }
        }
    }
    if a.json {
        return Ok(format!("{}\n", serde_json::to_string_pretty(&value)?));
    }
    Ok(text_report(kind, &value))
}

fn number(v: &Value) -> String {
    match v.as_f64() {
        Some(x) => format!("{x:.6}"),
        None => "—".into(),
    }
}

/// The human-readable answer: center, limits, violations, capability.
fn text_report(chart: quality::ChartKind, v: &Value) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "chart {chart}");
    let points = v
        .get("statistic")
        .or_else(|| v.get("t2"))
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    if points > 0 {
        let _ = writeln!(out, "points {points}");
    }
    let lines = ["center", "lcl", "ucl"];
    let per_point = lines.iter().any(|k| v.get(*k).is_some_and(Value::is_array));
    if per_point {
        let _ = writeln!(out, "limits per point:");
        let _ = writeln!(
            out,
            "  {:>6} {:>14} {:>14} {:>14}",
            "index", "lcl", "center", "ucl"
        );
        for i in 0..points {
            let at = |k: &str| match v.get(k) {
                Some(Value::Array(a)) => a.get(i).map(number).unwrap_or_default(),
                Some(x) => number(x),
                None => "—".into(),
            };
            let _ = writeln!(
                out,
                "  {i:>6} {:>14} {:>14} {:>14}",
                at("lcl"),
                at("center"),
                at("ucl")
            );
        }
    } else {
        for k in lines {
            if let Some(x) = v.get(k) {
                let _ = writeln!(out, "{k:<7}{}", number(x));
            }
        }
    }
    for k in ["sigma", "pbar", "h", "ucl_phase2", "ucl_phase1"] {
        if let Some(x) = v.get(k).filter(|x| x.is_number()) {
            let _ = writeln!(out, "{k:<7}{}", number(x));
        }
    }
    if let Some(Value::Array(ooc)) = v.get("points_out_of_control") {
        let list: Vec<String> = ooc.iter().map(ToString::to_string).collect();
        let _ = writeln!(out, "beyond limits: [{}]", list.join(", "));
    }
    if let Some(Value::Array(vs)) = v.get("rule_violations") {
        if vs.is_empty() {
            let _ = writeln!(out, "violations: none");
        } else {
            let _ = writeln!(out, "violations ({}):", vs.len());
            for x in vs {
                let _ = writeln!(out, "  {{rule: {}, index: {}}}", x["rule"], x["index"]);
            }
        }
    }
    if let Some(Value::Object(sec)) = v.get("secondary") {
        let kind = sec
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("dispersion");
        let _ = writeln!(
            out,
            "{kind} chart: center {} lcl {} ucl {} beyond {}",
            sec.get("center").map(number).unwrap_or_default(),
            sec.get("lcl").map(number).unwrap_or_default(),
            sec.get("ucl").map(number).unwrap_or_default(),
            sec.get("points_out_of_control").unwrap_or(&Value::Null)
        );
    }
    let capability = v
        .get("capability")
        .unwrap_or(if chart == quality::ChartKind::Capability {
            v
        } else {
            &Value::Null
        });
    if let Value::Object(cap) = capability {
        let _ = write!(out, "capability:");
        for k in ["cp", "cpk", "cpu", "cpl", "pp", "ppk", "ppu", "ppl"] {
            if let Some(x) = cap.get(k).filter(|x| !x.is_null()) {
                let _ = write!(out, " {k} {}", number(x));
            }
        }
        let _ = writeln!(out);
    }
    out
}
