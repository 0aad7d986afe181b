//! `mixplane spc root-cause` and `mixplane spc root-cause-evaluate`: the upstream causes of a
//! characteristic's results through genealogy (`app::quality::root_cause`, as the token's
//! principal, on the local store or through a server), and how often the ranking finds faults
//! the simulator injects.

use std::ops::RangeInclusive;

use anyhow::{Context, bail};
use govern::Permission;
use model::Timestamp;
use serde_json::Value;

use super::door::{self, Door, DoorArgs};

#[derive(Debug, clap::Args)]
pub struct RootCauseArgs {
    #[command(flatten)]
    pub door: DoorArgs,
    /// The characteristic (repeat for a defect seen in several, e.g. every assembly's
    /// failure count).
    #[arg(long = "characteristic", required = true)]
    pub characteristics: Vec<String>,
    /// Only results at or after this instant (RFC 3339).
    #[arg(long)]
    pub from: Option<String>,
    /// Only results before this instant (RFC 3339).
    #[arg(long)]
    pub to: Option<String>,
    /// Orders upstream of the measured one to look through [default: 4].
    #[arg(long)]
    pub depth: Option<u32>,
    /// Orders a candidate needs values on [default: 8].
    #[arg(long)]
    pub min_support: Option<usize>,
    /// Causes shown [default: 10].
    #[arg(long)]
    pub top: Option<usize>,
}

#[derive(Debug, clap::Args)]
pub struct EvaluateArgs {
    /// Seeds to score, `A..B` (inclusive), each drawing one fault.
    #[arg(long, value_parser = parse_seeds)]
    pub seeds: RangeInclusive<u64>,
    /// Simulated days per seed.
    #[arg(long, default_value_t = 28.0)]
    pub days: f64,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

fn parse_seeds(text: &str) -> Result<RangeInclusive<u64>, String> {
    let (a, b) = text
        .split_once("..")
        .ok_or_else(|| format!("expected A..B, got `{text}`"))?;
    let parse = |s: &str| {
        s.trim()
            .parse::<u64>()
            .map_err(|e| format!("`{s}` is not a seed: {e}"))
    };
    let (a, b) = (parse(a)?, parse(b.trim_start_matches('='))?);
    if a > b {
        return Err(format!("the range {a}..{b} is empty"));
    }
    Ok(a..=b)
}

fn instant(text: Option<&str>, flag: &str) -> anyhow::Result<Option<Timestamp>> {
    text.map(|t| Timestamp::parse(t).with_context(|| format!("--{flag}")))
        .transpose()
}

pub fn root_cause(args: RootCauseArgs) -> anyhow::Result<()> {
    let from = instant(args.from.as_deref(), "from")?;
    let to = instant(args.to.as_deref(), "to")?;
    let door = Door::open(&args.door)?;
    let report = match &door {
        Door::Remote(remote) => {
            let pairs: Vec<(&str, Option<String>)> = vec![
                ("characteristic", Some(args.characteristics.join(","))),
                ("from", from.map(|t| t.to_string())),
                ("to", to.map(|t| t.to_string())),
                ("depth", args.depth.map(|d| d.to_string())),
                ("min_support", args.min_support.map(|m| m.to_string())),
                ("top", args.top.map(|t| t.to_string())),
            ];
            let query: Vec<String> = pairs
                .into_iter()
                .filter_map(|(k, v)| v.map(|v| format!("{k}={}", door::encode(&v))))
                .collect();
            remote.get(&format!("/v1/quality/root-cause?{}", query.join("&")))?
        }
        Door::Local(local) => {
            let request = app::quality::root_cause::RootCauseRequest {
                characteristics: args.characteristics.clone(),
                from,
                to,
                depth: args.depth,
                min_support: args.min_support,
                top: args.top,
            };
            local.call(Permission::ReadQuality, |app, who| async move {
                app::quality::root_cause::root_cause(&app, &who, request).await
            })?
        }
    };
    if args.door.json {
        return door::print_json(&report);
    }
    print_report(&report);
    Ok(())
}

fn print_report(report: &Value) {
    println!(
        "{} results ({} tied to {} orders); {} candidates upstream; worse is {}",
        door::cell(report, "/results"),
        door::cell(report, "/linked_results"),
        door::cell(report, "/orders"),
        door::cell(report, "/candidates"),
        door::cell(report, "/worse"),
    );
    let causes = report["causes"].as_array().cloned().unwrap_or_default();
    let rows: Vec<Vec<String>> = causes
        .iter()
        .map(|c| {
            let number = |p: &str, digits: usize| {
                c.pointer(p)
                    .and_then(Value::as_f64)
                    .map_or("-".to_owned(), |x| format!("{x:.digits$}"))
            };
            let p_value = c
                .pointer("/association/p_value")
                .and_then(Value::as_f64)
                .map_or("-".to_owned(), |x| format!("{x:.1e}"));
            vec![
                door::cell(c, "/rank"),
                door::cell(c, "/name"),
                number("/association/effect", 2),
                p_value,
                door::cell(c, "/orders"),
                door::cell(c, "/items"),
                c["same_evidence"]
                    .as_array()
                    .map(|a| a.len().to_string())
                    .unwrap_or_else(|| "0".into()),
            ]
        })
        .collect();
    door::print_table(
        &[
            "RANK",
            "CAUSE",
            "RHO",
            "P",
            "ORDERS",
            "ITEMS",
            "SAME EVIDENCE",
        ],
        &rows,
    );
    if let Some(first) = causes.first() {
        println!("suggested: {}", door::cell(first, "/suggested_action"));
    }
    let outside = door::cell(report, "/outside_scope");
    if outside != "0" && outside != "-" {
        println!("{outside} more causes lie outside your areas");
    }
}

pub fn evaluate(args: EvaluateArgs) -> anyhow::Result<()> {
    if args.seeds.end() - args.seeds.start() >= 1000 {
        bail!("--seeds: at most 1000 seeds at a time");
    }
    let evaluation = app::quality::root_cause::evaluate(args.seeds.clone(), args.days)?;
    if args.json {
        return door::print_json(&serde_json::to_value(&evaluation)?);
    }
    let rows: Vec<Vec<String>> = evaluation
        .faults
        .iter()
        .map(|f| {
            vec![
                f.seed.to_string(),
                f.fault.describe(),
                f.rank.map_or("-".to_owned(), |r| r.to_string()),
                f.top.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    door::print_table(&["SEED", "INJECTED", "RANK", "TOP CAUSE"], &rows);
    println!(
        "{} faults over {} days each: ranked first {:.0}% ({:.0}% counting causes the data cannot tell apart), in the top 3 {:.0}%",
        evaluation.faults.len(),
        evaluation.days,
        evaluation.first * 100.0,
        evaluation.first_or_same_evidence * 100.0,
        evaluation.top3 * 100.0
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_ranges_read() {
        assert_eq!(parse_seeds("1..5"), Ok(1..=5));
        assert_eq!(parse_seeds("7..=9"), Ok(7..=9));
        assert!(parse_seeds("5..1").unwrap_err().contains("empty"));
        assert!(parse_seeds("x..2").unwrap_err().contains("not a seed"));
        assert!(parse_seeds("3").unwrap_err().contains("A..B"));
    }
}
