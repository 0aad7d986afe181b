//! Sending the plan in force to the MES as its dispatch list: one `operation_dispatched` per
//! operation the plan places from now on (its unit and planned start), stored through event
//! ingest as the principal who put the plan in force, so the MES (the simulated plant, or a
//! connector reading the log) runs what the plan says. A proposal's changes reach the MES
//! through its sink when it is applied; this is the whole plan at once, for a plan put in
//! force directly.

use govern::Principal;
use model::{Event, EventKind, OperationRef, UnitId};

use super::PlanVersion;
use crate::{App, AppError};

/// The source of the dispatch events: what the governor sends is not news to the agents.
pub const DISPATCH_SOURCE: &str = "mixplane-governor";

/// Events per ingest.
const BATCH: usize = 2000;

/// Stores the dispatch list of `plan` (operations starting at or after its horizon start; the
/// ones running then are already where they run) as `who`; the number of operations
/// dispatched. Event ids are `plan-v<version>-<n>`, so dispatching the same version twice
/// stores nothing twice.
pub async fn dispatch(app: &App, who: &Principal, plan: &PlanVersion) -> Result<usize, AppError> {
    let time = app
        .store
        .state()
        .await
        .clock
        .unwrap_or(plan.header.plant_time);
    let mut events = Vec::new();
    for a in &plan.schedule.assignments {
        if a.start < 0 {
            continue;
        }
        let Ok(OperationRef { order, step }) = a.op.parse::<OperationRef>() else {
            continue;
        };
        events.push(Event {
            id: format!("plan-v{}-{}", plan.header.version, events.len() + 1).into(),
            time,
            source: Some(DISPATCH_SOURCE.into()),
            kind: EventKind::OperationDispatched {
                order,
                step,
                unit: Some(UnitId::from(a.unit.as_str())),
                start: Some(plan.header.horizon_start.plus_minutes(a.start as f64)),
            },
        });
    }
    for chunk in events.chunks(BATCH) {
        crate::events::ingest(app, who, chunk).await?;
    }
    Ok(events.len())
}
