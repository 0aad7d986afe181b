//! Sinks: where an approved proposal's changes go, and what they answer.
//!
//! - `mes-sim` — the simulator acting as the MES: the diff becomes plant events
//!   ([`govern::mes::events_for`]) appended through the store (audited as `events.append` by
//!   the applying principal); the answer names the events and the log sequence numbers, like
//!   an Opcenter command's `Succeeded`/`Error`. A proposal's apply (or rollback) is carried
//!   out once, so a delivery whose answer was lost before the proposal recorded it is
//!   recognised when repeated (its events already stand in the log, made at that delivery's
//!   plant time) and succeeds without storing anything twice. Like `POST /v1/events`, it
//!   appends nothing that acts outside the scope of the principal on whose behalf it
//!   delivers ([`crate::events::check_event_scope`]): an area-scoped principal cannot reach
//!   another area's orders or units through a proposal.
//! - `file` — one JSON Lines record per applied or rolled-back change set, appended to a file
//!   (`<data-dir>/applied-changes.jsonl` under `mixplane serve`); the answer names the file
//!   and the byte offset of the record.
//!
//! - `mes` — an external MES (an Opcenter-style OData service) that takes the change set as
//!   commands through [`MesCommands`], which the binary injects (`connect::odata::sink`;
//!   `app` knows no HTTP). The delivery names who made the change ([`MesDelivery::modified_by`]:
//!   the engine and version, and the approvers) and carries the same scope check as
//!   `mes-sim`: nothing is sent that acts outside the scope of the principal on whose behalf
//!   it is delivered.
//!
//! Either way the answer is recorded in the proposal and in the audit record of the apply or
//! rollback. A sink that fails answers `{"status": "Error", …}`.

use std::io::Write as _;
use std::path::PathBuf;

use govern::{Change, Principal, Proposal};
use model::{Event, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::App;

/// A sink's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SinkKind {
    MesSim,
    File,
    Mes,
}

model::wire_enum!(SinkKind, "sink", [MesSim, File, Mes]);

/// One change set for an external MES: a proposal's diff (or its inverse, for a rollback).
#[derive(Debug, Clone, Copy)]
pub struct MesDelivery<'a> {
    pub proposal: &'a Proposal,
    pub diff: &'a [Change],
    /// `apply` or `rollback`.
    pub direction: &'a str,
    /// Who made the change, as the MES records it: `<engine>/<version> approved by <ids>`
    /// (or `… applied by <id>` for a proposal that applied by itself).
    pub modified_by: &'a str,
    /// The principal delivering it (the applier).
    pub actor: &'a store::Actor,
    /// The audit sequence number of this proposal's last failed delivery in this direction,
    /// if the last thing that happened to it was that failure: a new attempt, which must
    /// not be taken by the MES for the failed one (whose commands were undone).
    pub generation: Option<i64>,
}

/// An external MES that carries out change sets as its own commands. `Ok` is a
/// `{"status": "Succeeded", …}` answer, `Err` a `{"status": "Error", …}` one naming the MES's
/// error code and message; both are recorded in the proposal and audited. An implementation
/// leaves nothing of a change set half-applied, and sends a repeated delivery (same
/// proposal and direction) so that the MES recognises it.
pub trait MesCommands: Send + Sync + std::fmt::Debug {
    fn deliver<'a>(
        &'a self,
        delivery: MesDelivery<'a>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Value, Value>> + Send + 'a>>;
}

/// `<engine>/<version> approved by <approvers>`, or `… applied by <applier>` when nobody
/// approved (a proposal that applies by itself, or a rollback's applier).
pub fn modified_by(proposal: &Proposal, applier: &Principal) -> String {
    let approvers: Vec<&str> = proposal
        .decisions
        .iter()
        .filter(|d| d.decision == govern::DecisionKind::Approve)
        .map(|d| d.principal.as_str())
        .collect();
    let engine = proposal.evidence.modified_by();
    if approvers.is_empty() {
        format!("{engine} applied by {}", applier.id)
    } else {
        format!("{engine} approved by {}", approvers.join(", "))
    }
}

/// Sends `diff` (the proposal's diff, or its inverse for a rollback) to a sink on behalf of
/// `on_behalf` (the applier, or the proposer of a proposal that applies by itself), whose
/// scope must reach every area the change acts in. `Ok` carries a `Succeeded` answer, `Err`
/// an `Error` answer; both are what gets audited.
pub async fn deliver(
    app: &App,
    sink: SinkKind,
    proposal: &Proposal,
    diff: &[Change],
    direction: &str,
    actor: &store::Actor,
    on_behalf: &Principal,
) -> Result<Value, Value> {
    match sink {
        SinkKind::MesSim => mes_sim(app, proposal, diff, direction, actor, on_behalf).await,
        SinkKind::File => match &app.governance.file_sink {
            Some(path) => file(path.clone(), app.now(), proposal, diff, direction, actor).await,
            None => Err(error(sink, "no file sink is configured on this server")),
        },
        SinkKind::Mes => {
            let Some(mes) = app.governance.mes.clone() else {
                return Err(error(sink, "no MES is configured on this server"));
            };
            check_scope(app, SinkKind::Mes, proposal, diff, direction, on_behalf).await?;
            let who = modified_by(proposal, on_behalf);
            let subject = format!("proposal:{}", proposal.id);
            let failed = format!("proposal.{direction}_failed");
            let generation = match app.store.last_audit_of(&subject).await {
                Ok(Some(record)) if record.action == failed => Some(record.seq),
                Ok(_) => None,
                Err(e) => return Err(error(sink, e.to_string())),
            };
            let delivery = MesDelivery {
                generation,
                proposal,
                diff,
                direction,
                modified_by: &who,
                actor,
            };
            mes.deliver(delivery).await
        }
    }
}

/// Refuses a change set that acts outside `on_behalf`'s scope: the events the change stands
/// for in the plant (as the simulated MES would record them) go through `POST /v1/events`'s
/// scope check.
async fn check_scope(
    app: &App,
    sink: SinkKind,
    proposal: &Proposal,
    diff: &[Change],
    direction: &str,
    on_behalf: &Principal,
) -> Result<(), Value> {
    let snapshot = app.store.snapshot().await;
    let time = snapshot.state.clock.unwrap_or_else(|| app.now());
    let catalog = snapshot
        .catalog
        .ok_or_else(|| error(sink, "no plant is loaded"))?;
    // A change the plant has no event for (an overtime window) names no unit or order, so
    // it is checked by the proposal's own areas, which the gate already checked.
    let Ok(events) = govern::mes::events_for(&proposal.id, direction, diff, time) else {
        return Ok(());
    };
    crate::events::check_event_scope(on_behalf, &catalog, &snapshot.state, &events).map_err(
        |refused| {
            let mut answer = error(sink, refused.to_string());
            answer["reason"] = json!("scope");
            answer
        },
    )
}

fn error(sink: SinkKind, message: impl Into<String>) -> Value {
    json!({ "sink": sink.as_str(), "status": "Error", "message": message.into() })
}

async fn mes_sim(
    app: &App,
    proposal: &Proposal,
    diff: &[Change],
    direction: &str,
    actor: &store::Actor,
    on_behalf: &Principal,
) -> Result<Value, Value> {
    let snapshot = app.store.snapshot().await;
    let time = snapshot.state.clock.unwrap_or_else(|| app.now());
    let events = govern::mes::events_for(&proposal.id, direction, diff, time)
        .map_err(|message| error(SinkKind::MesSim, message))?;
    let catalog = snapshot
        .catalog
        .ok_or_else(|| error(SinkKind::MesSim, "no plant is loaded"))?;
    crate::events::check_event_scope(on_behalf, &catalog, &snapshot.state, &events).map_err(
        |refused| {
            let mut answer = error(SinkKind::MesSim, refused.to_string());
            answer["reason"] = json!("scope");
            answer
        },
    )?;
    let outcome = match app.store.append(&events, actor).await {
        Ok(outcome) => outcome,
        Err(e @ store::StoreError::Conflict { .. }) => {
            return repeated(app, &events)
                .await
                .ok_or_else(|| error(SinkKind::MesSim, e.to_string()));
        }
        Err(e) => return Err(error(SinkKind::MesSim, e.to_string())),
    };
    Ok(json!({
        "sink": SinkKind::MesSim.as_str(),
        "status": "Succeeded",
        "events": events.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        "inserted": outcome.inserted,
        "duplicates": outcome.duplicates,
        "first_seq": outcome.first_seq,
        "last_seq": outcome.last_seq,
    }))
}

/// A delivery made before whose answer was never recorded (the proposal's own write failed
/// or the server stopped in between): the same proposal and direction is carried out once,
/// so its events already stand in the log, made at the plant time of that delivery. When
/// every one of `events` is stored with the same kind and source, this delivery is that one
/// again and succeeds without storing anything; otherwise `None`.
async fn repeated(app: &App, events: &[Event]) -> Option<Value> {
    let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
    let stored = app.store.events_with_ids(&ids).await.ok()?;
    let same = stored.len() == events.len()
        && events.iter().all(|e| {
            stored
                .iter()
                .any(|s| s.event.id == e.id && s.event.kind == e.kind && s.event.source == e.source)
        });
    same.then(|| {
        json!({
            "sink": SinkKind::MesSim.as_str(),
            "status": "Succeeded",
            "events": ids,
            "inserted": 0,
            "duplicates": events.len(),
            "first_seq": stored.first().map(|s| s.seq),
            "last_seq": stored.last().map(|s| s.seq),
            "repeat_of": stored.first().map(|s| s.event.time),
        })
    })
}

async fn file(
    path: PathBuf,
    now: Timestamp,
    proposal: &Proposal,
    diff: &[Change],
    direction: &str,
    actor: &store::Actor,
) -> Result<Value, Value> {
    let record = json!({
        "at": now,
        "proposal": proposal.id,
        "direction": direction,
        "kind": proposal.kind,
        "site": proposal.site,
        "area": proposal.area,
        "by": actor,
        "engine": proposal.evidence.modified_by(),
        "changes": diff,
    });
    let shown = path.display().to_string();
    tokio::task::spawn_blocking(move || {
        let mut line = serde_json::to_vec(&record).expect("JSON values serialise");
        line.push(b'\n');
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)?;
        let offset = file.metadata()?.len();
        file.write_all(&line)?;
        file.sync_data()?;
        Ok::<u64, std::io::Error>(offset)
    })
    .await
    .map_err(|e| error(SinkKind::File, e.to_string()))?
    .map(|offset| {
        json!({ "sink": SinkKind::File.as_str(), "status": "Succeeded", "path": shown, "offset": offset })
    })
    .map_err(|e| error(SinkKind::File, format!("writing {shown}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sink_names_read_from_serde() {
        assert_eq!(SinkKind::MesSim.as_str(), "mes-sim");
        assert_eq!("file".parse::<SinkKind>().unwrap(), SinkKind::File);
        assert_eq!(
            "kafka".parse::<SinkKind>().unwrap_err().to_string(),
            "unknown sink `kafka` (expected mes-sim, file or mes)"
        );
    }
}
