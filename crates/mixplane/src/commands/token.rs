//! `mixplane token …`: principals and their API tokens, for whoever holds the data directory
//! (the way back in when no administrator token is left). `create` makes a new principal and
//! prints its first token once, `issue` prints another token for an existing one, `update`
//! changes its role or scope, `revoke` revokes its tokens. Creating refuses a name that
//! exists (a name is never rebound) and the last administrator with scope `*` and a live token
//! can be neither demoted nor revoked — the store's rules, the same as over HTTP. Only a
//! token's argon2id hash is stored.

use anyhow::Context;
use govern::{Principal, PrincipalKind, Role, Scope};

use crate::DataArgs;

#[derive(Debug, clap::Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    pub command: TokenCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum TokenCommand {
    /// Create a principal and print its first token once (refused when the name exists).
    Create(CreateArgs),
    /// Print another token for an existing principal, once.
    Issue(NameArgs),
    /// Change a principal's role or scope.
    Update(UpdateArgs),
    /// Revoke every token of a principal.
    Revoke(NameArgs),
}

#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Principal name: a user name, a service name or an agent id (1 to 128 characters).
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
pub struct NameArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[arg(long)]
    pub name: String,
}

#[derive(Debug, clap::Args)]
pub struct UpdateArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[arg(long)]
    pub name: String,
    /// The new role.
    #[arg(long)]
    pub role: Option<String>,
    /// The new scope: `*`, `site:ID` or `area:ID`.
    #[arg(long)]
    pub scope: Option<String>,
}

pub fn run(args: TokenArgs) -> anyhow::Result<()> {
    match args.command {
        TokenCommand::Create(args) => create(args),
        TokenCommand::Issue(args) => issue(args),
        TokenCommand::Update(args) => update(args),
        TokenCommand::Revoke(args) => revoke(args),
    }
}

fn write() -> store::GovernanceWrite {
    store::GovernanceWrite::by(super::cli_actor(), None)
}

/// Says what was issued on stderr and prints the token alone on stdout.
fn print_token(what: &str, issued: &store::IssuedToken) {
    let p = &issued.principal;
    eprintln!(
        "{what} {} ({}, role {}, scope {}), token id {}; it is shown once and stored only as a hash:",
        p.id,
        p.kind.as_str(),
        p.role,
        p.scope,
        issued.token_id
    );
    println!("{}", issued.token);
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
    store::check_principal_name(&args.name)?;
    let super::DataDir { runtime, store, .. } =
        super::open_data(&args.data, super::Open::OrCreate)?;
    let principal = Principal::new(args.name, kind, role, scope);
    let issued = runtime
        .block_on(store.create_principal(&principal, store::TokenHashing::Standard, write()))
        .context("creating the principal")?;
    print_token("created", &issued);
    Ok(())
}

fn issue(args: NameArgs) -> anyhow::Result<()> {
    let super::DataDir { runtime, store, .. } =
        super::open_data(&args.data, super::Open::Existing)?;
    let issued = runtime
        .block_on(async {
            let principal = store.existing_principal(&args.name).await?;
            store
                .issue_token(&principal, store::TokenHashing::Standard, false, write())
                .await
        })
        .context("issuing a token")?;
    print_token("issued another token to", &issued);
    Ok(())
}

fn update(args: UpdateArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.role.is_some() || args.scope.is_some(),
        "name a --role or a --scope to change"
    );
    let role: Option<Role> = args
        .role
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let scope: Option<Scope> = args
        .scope
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let super::DataDir { runtime, store, .. } =
        super::open_data(&args.data, super::Open::Existing)?;
    let (before, after) = runtime
        .block_on(async {
            let before = store.existing_principal(&args.name).await?;
            let role = role.unwrap_or(before.role);
            anyhow::ensure!(
                !(role == Role::Agent && before.kind != PrincipalKind::Agent),
                "the agent role is for principals of kind agent; `{}` is a {}",
                before.id,
                before.kind
            );
            let scope = scope.unwrap_or_else(|| before.scope.clone());
            let after = store
                .update_principal(&before, role, scope, write())
                .await?;
            Ok((before, after))
        })
        .context("changing the principal")?;
    println!(
        "{}: role {} → {}, scope {} → {}",
        after.id, before.role, after.role, before.scope, after.scope
    );
    Ok(())
}

fn revoke(args: NameArgs) -> anyhow::Result<()> {
    let super::DataDir { runtime, store, .. } =
        super::open_data(&args.data, super::Open::Existing)?;
    let revoked = runtime
        .block_on(async {
            let principal = store.existing_principal(&args.name).await?;
            store.revoke_principal_tokens(&principal, write()).await
        })
        .context("revoking tokens")?;
    println!("revoked {revoked} token(s) of {}", args.name);
    Ok(())
}
