//! `mixplane token create`: create (or update) a principal and issue it an API token, printed
//! once. Only the token's argon2id hash is stored.

use anyhow::Context;
use govern::{PrincipalKind, Role, Scope};

use crate::DataArgs;

#[derive(Debug, clap::Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    pub command: TokenCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum TokenCommand {
    /// Create a principal (or update its role and scope) and print a new token for it once.
    Create(CreateArgs),
    /// Revoke every token of a principal.
    Revoke(RevokeArgs),
}

#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Principal name: a user name, a service name or an agent id.
    #[arg(long)]
    pub name: String,
    /// viewer, operator, planner, quality_engineer, supervisor, admin or agent.
    #[arg(long)]
    pub role: String,
    /// `*`, `site:ID` or `area:ID`.
    #[arg(long, default_value = "*")]
    pub scope: String,
    /// person, service or agent [default: agent for the agent role, else person]
    #[arg(long)]
    pub kind: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct RevokeArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[arg(long)]
    pub name: String,
}

pub fn run(args: TokenArgs) -> anyhow::Result<()> {
    match args.command {
        TokenCommand::Create(args) => create(args),
        TokenCommand::Revoke(args) => revoke(args),
    }
}

fn create(args: CreateArgs) -> anyhow::Result<()> {
    let role: Role = args.role.parse().map_err(anyhow::Error::msg)?;
    let scope: Scope = args.scope.parse().map_err(anyhow::Error::msg)?;
    let kind = match &args.kind {
        Some(kind) => kind.parse().map_err(anyhow::Error::msg)?,
        None => PrincipalKind::for_role(role),
    };
    anyhow::ensure!(
        !(role == Role::Agent && kind != PrincipalKind::Agent),
        "the agent role is for principals of kind agent"
    );
    let super::DataDir { runtime, store, .. } =
        super::open_data(&args.data, super::Open::OrCreate)?;
    let issued = runtime
        .block_on(store.create_token(
            &args.name,
            kind,
            role,
            scope,
            store::TokenHashing::Standard,
            store::GovernanceWrite::by(super::cli_actor(), None),
        ))
        .context("creating the token")?;
    eprintln!(
        "created a token for {} ({}, role {}, scope {}); it is shown once and stored only as a hash:",
        issued.principal.id,
        issued.principal.kind.as_str(),
        issued.principal.role,
        issued.principal.scope
    );
    println!("{}", issued.token);
    Ok(())
}

fn revoke(args: RevokeArgs) -> anyhow::Result<()> {
    let super::DataDir { runtime, store, .. } =
        super::open_data(&args.data, super::Open::Existing)?;
    let revoked = runtime
        .block_on(store.revoke_tokens(
            &args.name,
            store::GovernanceWrite::by(super::cli_actor(), None),
        ))
        .context("revoking tokens")?;
    println!("revoked {revoked} token(s) of {}", args.name);
    Ok(())
}
