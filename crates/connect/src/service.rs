//! The connectors of a service: built from their specs by kind, each run by a [`Runner`] on a
//! task of its own as its configured principal, stopped together; and the one-shot check
//! `mixplane connect check` prints.

use std::collections::BTreeSet;
use std::time::Duration;

use app::App;
use serde::Serialize;
use tokio::task::JoinHandle;

use crate::kinds::{AnySource, ConnectError, ConnectorSpec, Kinds};
use crate::runner::{Pacing, Runner, Stop};
use crate::source::Source;

/// Builds every connector first (so one bad entry starts none), then starts each.
pub async fn start(
    app: &App,
    specs: &[ConnectorSpec],
    kinds: &Kinds,
    stop: &Stop,
) -> Result<Vec<JoinHandle<()>>, ConnectError> {
    let built = build_all(app, specs, kinds).await?;
    Ok(built
        .into_iter()
        .map(|(spec, source, principal)| {
            let runner = Runner {
                source,
                app: app.clone(),
                principal,
                kind: spec.kind.clone(),
                pacing: Pacing::with_interval(spec.poll_interval),
            };
            tokio::spawn(runner.run(stop.clone()))
        })
        .collect())
}

async fn build_all<'s>(
    app: &App,
    specs: &'s [ConnectorSpec],
    kinds: &Kinds,
) -> Result<Vec<(&'s ConnectorSpec, AnySource, govern::Principal)>, ConnectError> {
    let mut names = BTreeSet::new();
    let mut built = Vec::new();
    for spec in specs {
        if !names.insert(spec.name.as_str()) {
            return Err(ConnectError::DuplicateName(spec.name.clone()));
        }
        let source = kinds.build(spec)?;
        let principal = app
            .store
            .principal(&spec.principal)
            .await
            .map_err(|e| ConnectError::App {
                connector: spec.name.clone(),
                source: Box::new(e.into()),
            })?
            .ok_or_else(|| ConnectError::NoPrincipal {
                connector: spec.name.clone(),
                principal: spec.principal.clone(),
            })?;
        built.push((spec, source, principal));
    }
    Ok(built)
}

/// One connector as `connect check` reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckReport {
    pub name: String,
    pub kind: String,
    pub principal: String,
    /// Whether the peer answered and the principal may write events.
    pub healthy: bool,
    /// What is wrong, when it is not.
    pub error: Option<String>,
    /// The stored cursor (none before the first batch).
    pub cursor: Option<String>,
    /// Now minus the plant time of the newest event stored through it, in seconds.
    pub lag_seconds: Option<f64>,
    pub dead_letters: u64,
}

/// Checks every connector once: builds it, asks its peer (`Source::check`, at most `timeout`)
/// and whether its principal may write events, and reads its stored cursor and lag.
pub async fn check(
    app: &App,
    specs: &[ConnectorSpec],
    kinds: &Kinds,
    timeout: Duration,
) -> Result<Vec<CheckReport>, ConnectError> {
    let built = build_all(app, specs, kinds).await?;
    let counts = app
        .store
        .dead_letter_counts()
        .await
        .map_err(|e| ConnectError::Store(Box::new(e)))?;
    let now = app.now();
    let mut reports = Vec::new();
    for (spec, mut source, principal) in built {
        let allowed = app::access::authorize(app, &principal, govern::Permission::WriteEvents)
            .await
            .map_err(|e| e.to_string());
        let answered = match tokio::time::timeout(timeout, source.check()).await {
            Ok(answer) => answer.map_err(|e| e.to_string()),
            Err(_) => Err(format!("the peer did not answer within {timeout:?}")),
        };
        let stored =
            app.store
                .connector_cursor(&spec.name)
                .await
                .map_err(|e| ConnectError::App {
                    connector: spec.name.clone(),
                    source: Box::new(e.into()),
                })?;
        let error = answered.and(allowed).err();
        reports.push(CheckReport {
            name: spec.name.clone(),
            kind: spec.kind.clone(),
            principal: spec.principal.clone(),
            healthy: error.is_none(),
            error,
            cursor: stored.as_ref().and_then(|s| s.cursor.clone()),
            lag_seconds: stored
                .and_then(|s| s.last_event_time)
                .map(|t| (now.0 - t.0) as f64 / 1000.0),
            dead_letters: counts
                .iter()
                .find(|(n, _)| *n == spec.name)
                .map_or(0, |(_, n)| *n),
        });
    }
    Ok(reports)
}
