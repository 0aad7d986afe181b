//! `mixplane proposals list|show|approve|reject|apply|rollback`: the governance use-cases of
//! `app::govern`, as the token's principal, on the local store or through a server
//! (`commands::door`). The approver roles, four-eyes, scope and audit are the use-cases'.

use anyhow::Context;
use govern::{ActionKind, DecisionKind, Permission, Status};
use serde_json::{Value, json};

use super::door::{self, Door, DoorArgs};
use crate::choice;

#[derive(Debug, clap::Args)]
pub struct ProposalsArgs {
    #[command(subcommand)]
    pub command: ProposalsCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum ProposalsCommand {
    /// Proposals in the token's scope, newest first (every page).
    List(ListArgs),
    /// One proposal with its evidence, gate, decisions and sink answers.
    Show(IdArgs),
    /// Approve a proposal (an approver role of its kind, in scope, not the proposer).
    Approve(DecideArgs),
    /// Reject a proposal.
    Reject(DecideArgs),
    /// Send an approved proposal to a sink; the sink's answer is recorded and audited.
    Apply(ApplyArgs),
    /// Apply the inverse of an applied proposal through the sink that applied it.
    Rollback(WriteArgs),
}

/// The wire name of a clap value enum's variant (its `--help` name).
pub fn wire(value: &impl clap::ValueEnum) -> String {
    value
        .to_possible_value()
        .map(|v| v.get_name().to_owned())
        .unwrap_or_default()
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub door: DoorArgs,
    /// Only proposals in this status.
    #[arg(long, value_parser = choice::of::<Status>())]
    pub status: Option<Status>,
    /// Only proposals of this action kind.
    #[arg(long, value_parser = choice::of::<ActionKind>())]
    pub kind: Option<ActionKind>,
    /// Only proposals acting in this area id.
    #[arg(long)]
    pub area: Option<String>,
    /// Print at most this many proposals [default: all].
    #[arg(long)]
    pub limit: Option<usize>,
}

#[derive(Debug, clap::Args)]
pub struct IdArgs {
    #[command(flatten)]
    pub door: DoorArgs,
    /// The proposal id (`P-…`).
    pub id: String,
}

#[derive(Debug, clap::Args)]
pub struct WriteArgs {
    #[command(flatten)]
    pub door: DoorArgs,
    /// The proposal id (`P-…`).
    pub id: String,
    /// Act only if the proposal is still at this ETag (`show` prints it over --server); the
    /// server answers 412 naming who changed it meanwhile (needs --server).
    #[arg(long)]
    pub if_match: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct DecideArgs {
    #[command(flatten)]
    pub write: WriteArgs,
    /// A comment recorded with the decision.
    #[arg(long)]
    pub comment: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub write: WriteArgs,
    /// The sink to apply to: the simulated MES, or the file sink (`applied-changes.jsonl` in
    /// the serving side's data directory) [default: the serving side's default, mes-sim].
    #[arg(long, value_parser = choice::of::<app::SinkKind>())]
    pub sink: Option<app::SinkKind>,
}

pub fn run(args: ProposalsArgs) -> anyhow::Result<()> {
    match args.command {
        ProposalsCommand::List(args) => list(args),
        ProposalsCommand::Show(args) => show(args),
        ProposalsCommand::Approve(args) => decide(args, DecisionKind::Approve),
        ProposalsCommand::Reject(args) => decide(args, DecisionKind::Reject),
        ProposalsCommand::Apply(args) => apply(args),
        ProposalsCommand::Rollback(args) => rollback(args),
    }
}

fn list(args: ListArgs) -> anyhow::Result<()> {
    let door = Door::open(&args.door)?;
    let (status, kind) = (args.status, args.kind);
    let items = match &door {
        Door::Remote(remote) => {
            let path = door::query(
                "/v1/proposals",
                &[
                    ("status", status.map(|s| s.to_string())),
                    ("kind", kind.map(|k| k.to_string())),
                    ("area", args.area.clone()),
                ],
            );
            remote.list(&path, "items", args.limit)?
        }
        Door::Local(local) => door::local_pages(args.limit, |offset, limit| {
            let area = args.area.clone();
            local.call(Permission::ReadProposals, |app, who| async move {
                let query = app::govern::ListProposals {
                    status,
                    kind,
                    area,
                    limit,
                    offset,
                };
                app::govern::list(&app, &who, query).await
            })
        })?,
    };
    door::print_list(
        args.door.json,
        "items",
        items,
        &["ID", "STATUS", "KIND", "AREA", "PROPOSED BY", "TITLE"],
        |p| {
            vec![
                door::cell(p, "/id"),
                door::cell(p, "/status"),
                door::cell(p, "/kind"),
                door::cell(p, "/area"),
                door::cell(p, "/proposed_by"),
                door::cell(p, "/title"),
            ]
        },
    )
}

fn show(args: IdArgs) -> anyhow::Result<()> {
    let door = Door::open(&args.door)?;
    let (proposal, etag) = match &door {
        Door::Remote(remote) => {
            remote.get_tagged(&format!("/v1/proposals/{}", door::encode(&args.id)))
        }
        Door::Local(local) => {
            let id = args.id.clone();
            local
                .call(Permission::ReadProposals, |app, who| async move {
                    app::govern::show(&app, &who, &id).await
                })
                .map(|p| (p, None))
        }
    }
    .with_context(|| format!("reading proposal `{}`", args.id))?;
    print_proposal(args.door.json, &proposal)?;
    door::print_etag(args.door.json, etag.as_deref());
    Ok(())
}

fn decide(args: DecideArgs, decision: DecisionKind) -> anyhow::Result<()> {
    let write = args.write;
    let door = Door::open(&write.door)?;
    door::refuse_local_if_match(&door, write.if_match.as_deref())?;
    let verb = match decision {
        DecisionKind::Approve => "approve",
        DecisionKind::Reject => "reject",
    };
    let proposal = match &door {
        Door::Remote(remote) => remote.post(
            &format!("/v1/proposals/{}/{verb}", door::encode(&write.id)),
            &json!({ "comment": args.comment }),
            write.if_match.as_deref(),
        ),
        Door::Local(local) => {
            let id = write.id.clone();
            local.call(Permission::DecideProposals, |app, who| async move {
                app::govern::decide(&app, &who, &id, decision, args.comment).await
            })
        }
    }
    .with_context(|| format!("{verb} proposal `{}`", write.id))?;
    print_proposal(write.door.json, &proposal)
}

fn apply(args: ApplyArgs) -> anyhow::Result<()> {
    let write = args.write;
    let door = Door::open(&write.door)?;
    door::refuse_local_if_match(&door, write.if_match.as_deref())?;
    let sink = args.sink;
    let proposal = match &door {
        Door::Remote(remote) => remote.post(
            &format!("/v1/proposals/{}/apply", door::encode(&write.id)),
            &json!({ "sink": sink.map(|s| s.to_string()) }),
            write.if_match.as_deref(),
        ),
        Door::Local(local) => {
            let id = write.id.clone();
            local.call(Permission::ApplyProposals, |app, who| async move {
                app::govern::apply(&app, &who, &id, sink).await
            })
        }
    }
    .with_context(|| format!("apply proposal `{}`", write.id))?;
    print_proposal(write.door.json, &proposal)
}

fn rollback(write: WriteArgs) -> anyhow::Result<()> {
    let door = Door::open(&write.door)?;
    door::refuse_local_if_match(&door, write.if_match.as_deref())?;
    let proposal = match &door {
        Door::Remote(remote) => remote.post(
            &format!("/v1/proposals/{}/rollback", door::encode(&write.id)),
            &json!({}),
            write.if_match.as_deref(),
        ),
        Door::Local(local) => {
            let id = write.id.clone();
            local.call(Permission::ApplyProposals, |app, who| async move {
                app::govern::roll_back(&app, &who, &id).await
            })
        }
    }
    .with_context(|| format!("roll back proposal `{}`", write.id))?;
    print_proposal(write.door.json, &proposal)
}

/// A proposal as JSON, or as a few lines: what it is, where it stands, its gate and decisions.
fn print_proposal(json: bool, p: &Value) -> anyhow::Result<()> {
    if json {
        return door::print_json(p);
    }
    let c = |pointer: &str| door::cell(p, pointer);
    println!("{}  {}", c("/id"), c("/title"));
    println!("  status       {}", c("/status"));
    println!("  kind         {} in area {}", c("/kind"), c("/area"));
    println!(
        "  proposed by  {} at {} (expires {})",
        c("/proposed_by"),
        c("/proposed_at"),
        c("/expires_at")
    );
    println!(
        "  gate         {} approval(s): {}",
        c("/gate/approvals"),
        p.pointer("/gate/reasons")
            .and_then(Value::as_array)
            .map(|r| r
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("; "))
            .unwrap_or_default()
    );
    let changes = p.get("diff").and_then(Value::as_array).map_or(0, Vec::len);
    println!("  changes      {changes}");
    for d in p
        .get("decisions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        println!(
            "  decision     {} by {} at {}{}",
            door::cell(d, "/decision"),
            door::cell(d, "/principal"),
            door::cell(d, "/at"),
            d.get("comment")
                .and_then(Value::as_str)
                .map(|c| format!(": {c}"))
                .unwrap_or_default()
        );
    }
    for (what, pointer) in [("applied", "/applied"), ("rolled back", "/rolled_back")] {
        if let Some(outcome) = p.pointer(pointer).filter(|v| !v.is_null()) {
            println!(
                "  {what:<12} by {} through {} at {}",
                door::cell(outcome, "/by"),
                door::cell(outcome, "/sink"),
                door::cell(outcome, "/at")
            );
        }
    }
    Ok(())
}
