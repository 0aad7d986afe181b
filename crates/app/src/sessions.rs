//! Sign-ins and sign-outs of the web dashboard, written to the audit trail.
//!
//! A browser session is a door onto the same principal as its bearer token: the dashboard
//! reads and writes through the REST use-cases with the principal's role and scope. What
//! this adds is accountability for the door itself: who opened a session, from where, and
//! when it ended (signed out, or expired), as `session.sign_in` and `session.sign_out`
//! records under the principal.
//!
//! What it must not do: hold sessions or decide who may sign in. The server keeps the
//! sessions; the token's verification decides.

use govern::Principal;
use serde_json::json;

use crate::{App, AppError};

/// The audit action of a dashboard sign-in.
pub const SIGN_IN: &str = "session.sign_in";
/// The audit action of a dashboard sign-out.
pub const SIGN_OUT: &str = "session.sign_out";

/// Records that `who` opened a dashboard session (`session` is a short, non-secret
/// reference to it, `client` the peer's address when known).
pub async fn signed_in(
    app: &App,
    who: &Principal,
    session: &str,
    client: Option<String>,
) -> Result<(), AppError> {
    record(app, who, SIGN_IN, session, json!({ "client": client })).await
}

/// Records that `who` closed a dashboard session; `why` is `signed_out` or `expired`.
pub async fn signed_out(
    app: &App,
    who: &Principal,
    session: &str,
    why: &str,
) -> Result<(), AppError> {
    record(app, who, SIGN_OUT, session, json!({ "why": why })).await
}

async fn record(
    app: &App,
    who: &Principal,
    action: &'static str,
    session: &str,
    extra: serde_json::Value,
) -> Result<(), AppError> {
    let write = store::GovernanceWrite::by(store::actor_of(who), Some(who.role));
    app.store
        .audit_only(action, format!("session:{session}"), extra, write)
        .await?;
    Ok(())
}
