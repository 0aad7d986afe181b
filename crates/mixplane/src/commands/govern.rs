//! Governance at the edge: the governance settings from the data directory (the policy file
//! and the file sink), the demo's admin token, and the demo's run of the re-sequencing agent
//! (`app::agents::resequence`) so that the approval flow can be tried (`mixplane proposals`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use govern::{Policy, PrincipalKind, Proposal, Role, Scope, Status};

/// The policy file in a data directory.
pub fn policy_path(data_dir: &Path) -> PathBuf {
    data_dir.join("policy.toml")
}

/// The policy of a data directory: `policy.toml`, written from the shipped default when it
/// does not exist yet. Says whether it was written.
pub fn load_policy(data_dir: &Path) -> anyhow::Result<(Policy, bool)> {
    let path = policy_path(data_dir);
    let written = !path.exists();
    if written {
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("creating {}", data_dir.display()))?;
        std::fs::write(&path, govern::policy::DEFAULT_POLICY_TOML)
            .with_context(|| format!("writing the default policy to {}", path.display()))?;
    }
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let policy = Policy::from_toml(&text).with_context(|| format!("policy {}", path.display()))?;
    Ok((policy, written))
}

/// The use-cases over `store` with the data directory's policy, the simulated MES as the
/// default sink and `<data-dir>/applied-changes.jsonl` as the file sink.
pub fn app_over(store: std::sync::Arc<store::Store>, data_dir: &Path) -> anyhow::Result<app::App> {
    let (policy, _) = load_policy(data_dir)?;
    let governance = app::Governance::new(
        policy,
        app::SinkKind::MesSim,
        Some(data_dir.join("applied-changes.jsonl")),
    );
    Ok(app::App::new(store).with_governance(governance))
}

/// [`app_over`] with the sinks the settings configure: the default sink of `[governance]`
/// and the external MES of `[governance.mes]` (`connect::odata::OdataCommandSink`).
pub fn app_with_sinks(
    store: std::sync::Arc<store::Store>,
    settings: &crate::config::Settings,
) -> anyhow::Result<app::App> {
    let (policy, _) = load_policy(&settings.data_dir)?;
    let mut governance = app::Governance::new(
        policy,
        settings.default_sink,
        Some(settings.data_dir.join("applied-changes.jsonl")),
    );
    if let Some(mes) = &settings.mes {
        let sink = ::connect::odata::OdataCommandSink::new(mes.clone())
            .context("config [governance.mes]")?;
        governance = governance.with_mes(std::sync::Arc::new(sink));
    }
    Ok(app::App::new(store)
        .with_governance(governance)
        .with_epcis_validation(settings.epcis_validation))
}

/// The demo's administrator.
pub const DEMO_ADMIN: &str = "demo-admin";

/// A fresh token for the demo's administrator (`*` scope): created on the first demo; on a
/// later one its role and scope are restored if someone changed them, and the new token
/// replaces its others in one write (so it is never without one, and never the last global
/// administrator without a token).
pub async fn demo_admin_token(store: &store::Store) -> anyhow::Result<String> {
    let write = || store::GovernanceWrite::by(super::cli_actor(), None);
    let admin = govern::Principal::new(DEMO_ADMIN, PrincipalKind::Person, Role::Admin, Scope::All);
    let hashing = store::TokenHashing::Standard;
    let issued = match store.principal(DEMO_ADMIN).await? {
        None => store.create_principal(&admin, hashing, write()).await,
        Some(existing) => {
            let current = if existing == admin {
                existing
            } else {
                store
                    .update_principal(&existing, Role::Admin, Scope::All, write())
                    .await
                    .context("restoring the demo admin's role and scope")?
            };
            store.issue_token(&current, hashing, true, write()).await
        }
    }
    .context("issuing the demo admin token")?;
    Ok(issued.token)
}

/// Clears the previous demo's proposals and runs the re-sequencing agent, whose proposals
/// go through the same submit path as any other (so the policy decides which apply by
/// themselves). Returns them.
pub async fn demo_proposals(
    app: &app::App,
    trigger_event: Option<&str>,
) -> anyhow::Result<Vec<Proposal>> {
    app.store
        .clear_proposals(store::GovernanceWrite::by(super::cli_actor(), None))
        .await
        .context("clearing the previous demo's proposals")?;
    app::agents::resequence::propose(app, trigger_event)
        .await
        .context("submitting the re-sequencing agent's proposals")
}

/// Sends the plan in force to the (simulated) MES as its dispatch list, as the demo's
/// administrator who put it in force; the number of operations dispatched.
pub async fn dispatch_plan(
    app: &app::App,
    plan: &app::schedule::in_force::PlanVersion,
) -> anyhow::Result<usize> {
    let admin = govern::Principal::new(DEMO_ADMIN, PrincipalKind::Person, Role::Admin, Scope::All);
    Ok(app::schedule::in_force::dispatch(app, &admin, plan).await?)
}

/// Seconds the demo's engine searches for the plan it puts in force.
const DEMO_PLAN_SECONDS: f64 = 2.0;

/// Clears the previous demo's plans and puts the engine's plan of the plant as it is now
/// (after the simulated days) in force as version 1, made by the demo's administrator, so
/// `GET /v1/schedule` answers and what-ifs start from it.
pub async fn demo_plan(
    app: &app::App,
    seed: u64,
) -> anyhow::Result<app::schedule::in_force::PlanVersion> {
    use app::schedule::in_force;
    app.store
        .clear_plans(store::GovernanceWrite::by(super::cli_actor(), None))
        .await
        .context("clearing the previous demo's plans")?;
    let problem = in_force::current_problem(app)
        .await
        .context("building the scheduling problem of the plant as it is now")?;
    let (problem, schedule) =
        app::blocking(move || in_force::solve_current(&problem, seed, DEMO_PLAN_SECONDS))
            .await
            .context("solving the plant as it is now")?;
    let admin = govern::Principal::new(DEMO_ADMIN, PrincipalKind::Person, Role::Admin, Scope::All);
    let provenance = in_force::Provenance {
        reason: "the demo's plan of the plant as it is after the simulated days".into(),
        modified_by: Some(format!(
            "{}/{}",
            in_force::PLAN_ENGINE,
            env!("CARGO_PKG_VERSION")
        )),
        proposal: None,
    };
    in_force::adopt(app, &admin, &problem, schedule, provenance)
        .await
        .context("putting the demo's plan in force")
}

/// The governance part of the demo's printout: the proposals and how to approve one.
pub fn summary(token: &str, proposals: &[Proposal], bind: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\nProposals (GET /v1/proposals)");
    for p in proposals {
        let state = match p.status {
            Status::Proposed => format!(
                "waiting for {} approval(s): {}",
                p.gate.approvals,
                p.gate.reasons.join("; ")
            ),
            Status::Applied => format!(
                "applied by itself ({}) through {}",
                p.applied.as_ref().map_or("", |o| o.by.as_str()),
                p.applied.as_ref().map_or("", |o| o.sink.as_str())
            ),
            other => other.to_string(),
        };
        let _ = writeln!(out, "  {} {}\n      {state}", p.id, p.title);
    }
    let waiting = proposals.iter().find(|p| p.status == Status::Proposed);
    let _ = writeln!(out, "\n  try:\n    export MIXPLANE_TOKEN={token}");
    let _ = writeln!(
        out,
        "    mixplane proposals list --status proposed     # or --server http://{bind} while it serves"
    );
    if let Some(p) = waiting {
        let _ = writeln!(
            out,
            "    mixplane proposals approve {} --comment 'customer agreed'",
            p.id
        );
        let _ = writeln!(out, "    mixplane proposals apply {}", p.id);
    }
    out
}
