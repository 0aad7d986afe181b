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
    /// The principal's role (what it may do).
    #[arg(long, value_parser = crate::choice::of::<Role>())]
    pub role: Role,
    /// `*`, `site:ID` or `area:ID`.
    #[arg(long, default_value = "*")]
    pub scope: String,
    /// What the principal is [default: agent for the agent role, else person]
    #[arg(long, value_parser = crate::choice::of::<PrincipalKind>())]
    pub kind: Option<PrincipalKind>,
    /// Print one JSON object (the principal, its token id and the token) instead of the token alone.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct NameArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// The principal's name.
    #[arg(long)]
    pub name: String,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct UpdateArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// The principal's name.
    #[arg(long)]
    pub name: String,
    /// The new role.
    #[arg(long, value_parser = crate::choice::of::<Role>())]
    pub role: Option<Role>,
    /// The new scope: `*`, `site:ID` or `area:ID`.
    #[arg(long)]
    pub scope: Option<String>,
    /// Print the principal before and after as one JSON object.
    #[arg(long)]
    pub json: bool,
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

/// Says what was issued on stderr and prints the token alone on stdout (or, with `json`,
/// one object naming the principal and the token).
fn print_token(what: &str, issued: &store::IssuedToken, json: bool) {
    let p = &issued.principal;
    if json {
        let answer = serde_json::json!({
            "principal": principal_json(p),
            "token_id": issued.token_id,
            "token": issued.token,
        });
        println!("{answer}");
        return;
    }
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
    let role = args.role;
    let scope: Scope = args.scope.parse().map_err(anyhow::Error::msg)?;
    let kind = args.kind.unwrap_or_else(|| PrincipalKind::for_role(role));
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
    print_token("created", &issued, args.json);
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
    print_token("issued another token to", &issued, args.json);
    Ok(())
}

fn update(args: UpdateArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.role.is_some() || args.scope.is_some(),
        "name a --role or a --scope to change"
    );
    let role = args.role;
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
    if args.json {
        let answer = serde_json::json!({
            "before": principal_json(&before),
            "after": principal_json(&after),
        });
        println!("{answer}");
        return Ok(());
    }
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
    if args.json {
        let answer = serde_json::json!({ "principal": args.name, "revoked": revoked });
        println!("{answer}");
    } else {
        println!("revoked {revoked} token(s) of {}", args.name);
    }
    Ok(())
}

/// A principal as the API names its fields.
fn principal_json(p: &Principal) -> serde_json::Value {
    serde_json::json!({
        "name": p.id,
        "kind": p.kind.as_str(),
        "role": p.role.as_str(),
        "scope": p.scope.to_string(),
    })
}
