//! `mixplane nc list|show|transition`: nonconformances of `app::quality`, as the token's
//! principal, on the local store or through a server (`commands::door`). The workflow (which
//! command applies in which state), scope and audit are the use-cases'.

use anyhow::Context;
use govern::Permission;
use serde_json::{Map, Value, json};

use super::door::{self, Door, DoorArgs};
use super::proposals::wire;
use crate::choice;
use quality::nc::NcState;

#[derive(Debug, clap::Args)]
pub struct NcArgs {
    #[command(subcommand)]
    pub command: NcCommandArg,
}

#[derive(Debug, clap::Subcommand)]
pub enum NcCommandArg {
    /// Nonconformances the token's scope reads, newest first (every page).
    List(ListArgs),
    /// One nonconformance with its items, CAPA actions and history.
    Show(ShowArgs),
    /// Move a nonconformance through its workflow (open → investigating → dispositioned →
    /// capa → verified → closed).
    Transition(TransitionArgs),
}

/// A workflow command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum ActionArg {
    /// open → investigating.
    StartInvestigation,
    /// investigating → dispositioned (needs --disposition).
    Disposition,
    /// dispositioned → capa.
    StartCapa,
    /// Adds a CAPA action (needs --action-id and --description).
    AddCapaAction,
    /// Marks a CAPA action done (needs --action-id).
    CompleteCapaAction,
    /// Marks a done CAPA action verified (needs --action-id).
    VerifyCapaAction,
    /// capa → verified (every action done).
    Verify,
    /// verified → closed (every action verified).
    Close,
}

/// What is decided about the nonconforming items.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum DispositionArg {
    /// Accept as is (concession).
    UseAsIs,
    /// Rework to conformance.
    Rework,
    /// Scrap.
    Scrap,
    /// Return to the supplier.
    Return,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub door: DoorArgs,
    /// Only nonconformances in this state.
    #[arg(long, value_parser = choice::of::<NcState>())]
    pub state: Option<NcState>,
    /// Only nonconformances not closed.
    #[arg(long)]
    pub open: bool,
    /// Print at most this many nonconformances [default: all].
    #[arg(long)]
    pub limit: Option<usize>,
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub door: DoorArgs,
    /// The nonconformance id.
    pub id: String,
}

#[derive(Debug, clap::Args)]
pub struct TransitionArgs {
    #[command(flatten)]
    pub door: DoorArgs,
    /// The nonconformance id.
    pub id: String,
    /// The workflow command to apply.
    #[arg(value_enum)]
    pub action: ActionArg,
    /// The disposition decided (with `disposition`).
    #[arg(long, value_enum)]
    pub disposition: Option<DispositionArg>,
    /// The CAPA action's id (with `add_capa_action`, `complete_capa_action`, `verify_capa_action`).
    #[arg(long)]
    pub action_id: Option<String>,
    /// What the CAPA action is to do (with `add_capa_action`).
    #[arg(long)]
    pub description: Option<String>,
    /// Transition only if the nonconformance is still at this ETag; the server answers 412
    /// naming who changed it meanwhile (needs --server).
    #[arg(long)]
    pub if_match: Option<String>,
}

pub fn run(args: NcArgs) -> anyhow::Result<()> {
    match args.command {
        NcCommandArg::List(args) => list(args),
        NcCommandArg::Show(args) => show(args),
        NcCommandArg::Transition(args) => transition(args),
    }
}

fn list(args: ListArgs) -> anyhow::Result<()> {
    let door = Door::open(&args.door)?;
    let state = args.state.map(|s| s.to_string());
    let open = args.open.then_some(true);
    let items = match &door {
        Door::Remote(remote) => {
            let path = door::query(
                "/v1/quality/nonconformances",
                &[("state", state), ("open", open.map(|o| o.to_string()))],
            );
            remote.list(&path, "items", args.limit)?
        }
        Door::Local(local) => door::local_pages(args.limit, |offset, limit| {
            let filter = store::NcFilter {
                state: state.clone(),
                open,
                limit,
                offset,
            };
            local.call(Permission::ReadQuality, |app, who| async move {
                app::quality::nonconformances(&app, &who, filter).await
            })
        })?,
    };
    door::print_list(
        args.door.json,
        "items",
        items,
        &["ID", "STATE", "ITEMS", "DESCRIPTION"],
        |nc| {
            vec![
                door::cell(nc, "/id"),
                door::cell(nc, "/nonconformance/state"),
                items_cell(nc),
                door::cell(nc, "/nonconformance/description"),
            ]
        },
    )
}

/// The first item of a nonconformance and how many more (a table row stays one line; `show`
/// lists them all).
fn items_cell(nc: &Value) -> String {
    let items: Vec<&str> = nc
        .get("items")
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    match items.as_slice() {
        [] => "-".to_owned(),
        [one] => (*one).to_owned(),
        [first, rest @ ..] => format!("{first} +{} more", rest.len()),
    }
}

fn show(args: ShowArgs) -> anyhow::Result<()> {
    let door = Door::open(&args.door)?;
    let (nc, etag) = match &door {
        Door::Remote(remote) => remote.get_tagged(&format!(
            "/v1/quality/nonconformances/{}",
            door::encode(&args.id)
        )),
        Door::Local(local) => {
            let id = args.id.clone();
            local
                .call(Permission::ReadQuality, |app, who| async move {
                    app::quality::nonconformance(&app, &who, &id).await
                })
                .map(|nc| (nc, None))
        }
    }
    .with_context(|| format!("reading nonconformance `{}`", args.id))?;
    print_nc(args.door.json, &nc)?;
    door::print_etag(args.door.json, etag.as_deref());
    Ok(())
}

/// The command's JSON body, as the API reads it (`{"action": …, …}`), naming a flag the
/// action needs and was not given.
fn command_body(args: &TransitionArgs) -> anyhow::Result<Value> {
    let mut body = Map::new();
    body.insert("action".into(), json!(wire(&args.action)));
    let needs = |flag: &str, present: bool| {
        anyhow::ensure!(present, "`{}` needs {flag}", wire(&args.action));
        Ok(())
    };
    match args.action {
        ActionArg::Disposition => {
            needs("--disposition", args.disposition.is_some())?;
            body.insert(
                "disposition".into(),
                json!(args.disposition.as_ref().map(wire)),
            );
        }
        ActionArg::AddCapaAction => {
            needs("--action-id", args.action_id.is_some())?;
            needs("--description", args.description.is_some())?;
            body.insert("id".into(), json!(args.action_id));
            body.insert("description".into(), json!(args.description));
        }
        ActionArg::CompleteCapaAction | ActionArg::VerifyCapaAction => {
            needs("--action-id", args.action_id.is_some())?;
            body.insert("id".into(), json!(args.action_id));
        }
        ActionArg::StartInvestigation
        | ActionArg::StartCapa
        | ActionArg::Verify
        | ActionArg::Close => {}
    }
    Ok(Value::Object(body))
}

fn transition(args: TransitionArgs) -> anyhow::Result<()> {
    let body = command_body(&args)?;
    let door = Door::open(&args.door)?;
    door::refuse_local_if_match(&door, args.if_match.as_deref())?;
    let nc = match &door {
        Door::Remote(remote) => remote.post(
            &format!(
                "/v1/quality/nonconformances/{}/transitions",
                door::encode(&args.id)
            ),
            &body,
            args.if_match.as_deref(),
        ),
        Door::Local(local) => {
            let command: quality::nc::NcCommand =
                serde_json::from_value(body).context("the workflow command does not read")?;
            let id = args.id.clone();
            local.call(Permission::DisposeQuality, |app, who| async move {
                app::quality::transition_nc(&app, &who, &id, &command).await
            })
        }
    }
    .with_context(|| format!("{} nonconformance `{}`", wire(&args.action), args.id))?;
    print_nc(args.door.json, &nc)
}

/// A nonconformance as JSON, or as lines: state, items, disposition, CAPA and history.
fn print_nc(json: bool, nc: &Value) -> anyhow::Result<()> {
    if json {
        return door::print_json(nc);
    }
    let c = |pointer: &str| door::cell(nc, pointer);
    println!("{}  {}", c("/id"), c("/nonconformance/description"));
    println!("  state        {}", c("/nonconformance/state"));
    println!(
        "  items        {}",
        nc.get("items")
            .and_then(Value::as_array)
            .map(|i| i
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", "))
            .unwrap_or_default()
    );
    println!("  disposition  {}", c("/nonconformance/disposition"));
    for action in nc
        .pointer("/nonconformance/capa")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        println!(
            "  capa         {}: {} (done by {}, verified by {})",
            door::cell(action, "/id"),
            door::cell(action, "/description"),
            door::cell(action, "/done_by"),
            door::cell(action, "/verified_by")
        );
    }
    for record in nc
        .pointer("/nonconformance/history")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        println!(
            "  history      {} {} → {} by {} at {}{}",
            door::cell(record, "/action"),
            door::cell(record, "/from"),
            door::cell(record, "/to"),
            door::cell(record, "/by"),
            door::cell(record, "/at"),
            record
                .get("detail")
                .and_then(Value::as_str)
                .map(|d| format!(" ({d})"))
                .unwrap_or_default()
        );
    }
    Ok(())
}
