//! `mixplane holds list|release`: the quality holds of `app::quality`, as the token's
//! principal, on the local store or through a server (`commands::door`). Scope (a hold's item
//! wholly in the actor's area) and audit are the use-cases'.

use anyhow::Context;
use govern::Permission;
use serde_json::json;

use super::door::{self, Door, DoorArgs};
use crate::choice;
use quality::enforce::ItemKind;

#[derive(Debug, clap::Args)]
pub struct HoldsArgs {
    #[command(subcommand)]
    pub command: HoldsCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum HoldsCommand {
    /// Holds on items the token's scope reads, newest first (every page).
    List(ListArgs),
    /// Release a hold, with the reason recorded and audited.
    Release(ReleaseArgs),
}

/// Whether a hold is in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HoldState {
    /// Holds in force.
    Active,
    /// Holds released.
    Released,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub door: DoorArgs,
    /// Only holds in force, or only released ones [default: both].
    #[arg(long, value_enum)]
    pub state: Option<HoldState>,
    /// Only holds on items of this kind.
    #[arg(long, value_parser = choice::of::<ItemKind>())]
    pub item_kind: Option<ItemKind>,
    /// Only holds on this item id.
    #[arg(long)]
    pub item_id: Option<String>,
    /// Print at most this many holds [default: all].
    #[arg(long)]
    pub limit: Option<usize>,
}

#[derive(Debug, clap::Args)]
pub struct ReleaseArgs {
    #[command(flatten)]
    pub door: DoorArgs,
    /// The hold id.
    pub id: String,
    /// Why the hold is released (recorded with the release).
    #[arg(long)]
    pub reason: String,
    /// Release only if the hold is still at this ETag; the server answers 412 naming who
    /// changed it meanwhile (needs --server).
    #[arg(long)]
    pub if_match: Option<String>,
}

pub fn run(args: HoldsArgs) -> anyhow::Result<()> {
    match args.command {
        HoldsCommand::List(args) => list(args),
        HoldsCommand::Release(args) => release(args),
    }
}

fn list(args: ListArgs) -> anyhow::Result<()> {
    let door = Door::open(&args.door)?;
    let active = args.state.map(|s| s == HoldState::Active);
    let item_kind = args.item_kind.map(|k| k.to_string());
    let items = match &door {
        Door::Remote(remote) => {
            let path = door::query(
                "/v1/quality/holds",
                &[
                    ("active", active.map(|a| a.to_string())),
                    ("item_kind", item_kind),
                    ("item_id", args.item_id.clone()),
                ],
            );
            remote.list(&path, "items", args.limit)?
        }
        Door::Local(local) => door::local_pages(args.limit, |offset, limit| {
            let filter = store::HoldFilter {
                active,
                item_kind: item_kind.clone(),
                item_id: args.item_id.clone(),
                limit,
                offset,
            };
            local.call(Permission::ReadQuality, |app, who| async move {
                app::quality::holds(&app, &who, filter).await
            })
        })?,
    };
    door::print_list(
        args.door.json,
        "items",
        items,
        &["ID", "ITEM", "ACTIVE", "PLACED BY", "PROPOSAL", "REASON"],
        |h| {
            vec![
                door::cell(h, "/id"),
                format!(
                    "{}:{}",
                    door::cell(h, "/item_kind"),
                    door::cell(h, "/item_id")
                ),
                door::cell(h, "/active"),
                door::cell(h, "/placed_by"),
                door::cell(h, "/proposal"),
                door::cell(h, "/reason"),
            ]
        },
    )
}

fn release(args: ReleaseArgs) -> anyhow::Result<()> {
    let door = Door::open(&args.door)?;
    door::refuse_local_if_match(&door, args.if_match.as_deref())?;
    let hold = match &door {
        Door::Remote(remote) => remote.post(
            &format!("/v1/quality/holds/{}/release", door::encode(&args.id)),
            &json!({ "reason": args.reason }),
            args.if_match.as_deref(),
        ),
        Door::Local(local) => {
            let (id, reason) = (args.id.clone(), args.reason.clone());
            local.call(Permission::WriteQuality, |app, who| async move {
                let request = app::quality::ReleaseRequest { reason };
                app::quality::release_hold(&app, &who, &id, request).await
            })
        }
    }
    .with_context(|| format!("release hold `{}`", args.id))?;
    if args.door.json {
        return door::print_json(&hold);
    }
    let c = |pointer: &str| door::cell(&hold, pointer);
    println!(
        "released {} on {}:{} by {} at {}: {}",
        c("/id"),
        c("/item_kind"),
        c("/item_id"),
        c("/released_by"),
        c("/released_at"),
        c("/release_reason")
    );
    Ok(())
}
