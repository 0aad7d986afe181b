//! `mixplane kpis`: the rollout KPIs (`app::kpis`) over a window, as the token's principal,
//! on the local store or through a server.

use anyhow::Context;
use govern::Permission;
use model::Timestamp;
use serde_json::Value;

use super::door::{self, Door, DoorArgs};

#[derive(Debug, clap::Args)]
pub struct KpiArgs {
    #[command(flatten)]
    pub door: DoorArgs,
    /// Start of the window (RFC 3339) [default: 30 days before --to].
    #[arg(long)]
    pub from: Option<String>,
    /// End of the window, exclusive (RFC 3339) [default: now].
    #[arg(long)]
    pub to: Option<String>,
}

pub fn run(args: KpiArgs) -> anyhow::Result<()> {
    let instant = |text: &Option<String>, flag: &str| {
        text.as_deref()
            .map(|t| Timestamp::parse(t).with_context(|| format!("--{flag}")))
            .transpose()
    };
    let (from, to) = (instant(&args.from, "from")?, instant(&args.to, "to")?);
    let door = Door::open(&args.door)?;
    let kpis = match &door {
        Door::Remote(remote) => {
            let query: Vec<String> = [("from", from), ("to", to)]
                .into_iter()
                .filter_map(|(k, v)| v.map(|t| format!("{k}={}", door::encode(&t.to_string()))))
                .collect();
            remote.get(&format!("/v1/kpis?{}", query.join("&")))?
        }
        Door::Local(local) => local.call(Permission::ReadProposals, |app, who| async move {
            app::kpis::rollout(&app, &who, app::kpis::KpiRequest { from, to }).await
        })?,
    };
    if args.door.json {
        return door::print_json(&kpis);
    }
    print_kpis(&kpis);
    Ok(())
}

fn print_kpis(kpis: &Value) {
    println!(
        "window {} to {}",
        door::cell(kpis, "/window/from"),
        door::cell(kpis, "/window/to")
    );
    let mut rows: Vec<Vec<String>> = kpis["recommendations"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(recommendation_row)
        .collect();
    let mut total = recommendation_row(&kpis["total"]);
    total[0] = "all".into();
    total[1] = "all".into();
    rows.push(total);
    door::print_table(
        &[
            "KIND",
            "AREA",
            "MADE",
            "BY ITSELF",
            "APPROVED",
            "REJECTED",
            "EXPIRED",
            "WAITING",
            "ACCEPTED",
            "DECISION MIN (MEDIAN/P90)",
        ],
        &rows,
    );
    println!(
        "schedule changes: {} manual, {} from proposals",
        door::cell(kpis, "/manual_schedule_changes"),
        door::cell(kpis, "/proposed_schedule_changes")
    );
    match kpis["agent_calls"].as_array() {
        None => println!("agent calls: not shown (the audit trail needs a site-wide scope)"),
        Some(tools) if tools.is_empty() => println!("agent calls: none"),
        Some(tools) => {
            let list: Vec<String> = tools
                .iter()
                .map(|t| format!("{} {}", door::cell(t, "/tool"), door::cell(t, "/calls")))
                .collect();
            println!("agent calls: {}", list.join(", "));
        }
    }
    for drift in kpis["drift_detection"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        println!(
            "drift {}: first alert {} (after {} min), first out of spec {} (lead {} min)",
            door::cell(&drift, "/drift/name"),
            door::cell(&drift, "/first_alert"),
            door::cell(&drift, "/delay_minutes"),
            door::cell(&drift, "/first_out_of_spec"),
            door::cell(&drift, "/lead_minutes"),
        );
    }
}

fn recommendation_row(r: &Value) -> Vec<String> {
    let rate = r["acceptance_rate"]
        .as_f64()
        .map_or("-".to_owned(), |x| format!("{:.0}%", x * 100.0));
    vec![
        door::cell(r, "/kind"),
        door::cell(r, "/area"),
        door::cell(r, "/made"),
        door::cell(r, "/applied_by_itself"),
        door::cell(r, "/approved"),
        door::cell(r, "/rejected"),
        door::cell(r, "/expired"),
        door::cell(r, "/waiting"),
        rate,
        format!(
            "{}/{}",
            door::cell(r, "/time_to_decision/median"),
            door::cell(r, "/time_to_decision/p90")
        ),
    ]
}
