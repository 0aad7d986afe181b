//! What applying an `nc_disposition` proposal's nonconformance transitions does: a
//! nonconformance is mixplane's own record (the quality store's), so a diff of `nc.transition`
//! changes is carried out here, by moving each NC through its workflow
//! (`crate::quality::transition_nc_if`) on behalf of the principal who applies it, rather
//! than by a sink. The answer has the shape of a sink's and is recorded in the proposal and
//! its audit record the same way, under the name [`NC_SINK`].
//!
//! A change names the NC, `before` its state and row version when it was proposed, `after`
//! the workflow command. The NC must still be at that version (anyone's transition since makes
//! the proposal stale, refused without writing), and the applier must be allowed to move NCs
//! (`dispose_quality`) within the NC's areas. A workflow only moves forward: a rollback is
//! refused; the next transition is proposed instead.

use govern::{Change, Entity, Field, Permission, Principal};
use quality::nc::NcCommand;
use serde_json::{Value, json};

use crate::App;
use crate::conditional::{Expected, version_tag};

/// The name an NC delivery answers and is recorded under.
pub const NC_SINK: &str = "nonconformances";

/// The field of an NC change.
pub const TRANSITION: &str = "transition";

/// Whether a change moves a nonconformance through its workflow.
pub fn is_nc(change: &Change) -> bool {
    matches!(&change.entity, Entity::Other(e) if e == "nc")
        && matches!(&change.field, Field::Other(f) if f == TRANSITION)
}

fn error(message: impl Into<String>) -> Value {
    json!({ "sink": NC_SINK, "status": "Error", "message": message.into() })
}

/// Carries out (`apply`) the NC transitions of `diff`, every change of which is one, on
/// behalf of `on_behalf`; a `rollback` is refused. `Ok` and `Err` are answers, as a sink's.
pub(crate) async fn deliver(
    app: &App,
    diff: &[Change],
    direction: &str,
    on_behalf: &Principal,
) -> Result<Value, Value> {
    if direction == "rollback" {
        return Err(error(
            "a nonconformance's workflow only moves forward: its transition is not rolled back; \
             propose the next transition instead",
        ));
    }
    if !on_behalf.role.allows(Permission::DisposeQuality) {
        let mut answer = error(format!(
            "{} (role {}) may not move nonconformances",
            on_behalf.id, on_behalf.role
        ));
        answer["reason"] = json!("scope");
        return Err(answer);
    }
    let mut moved = Vec::new();
    for change in diff {
        let command: NcCommand = serde_json::from_value(change.after.clone()).map_err(|e| {
            error(format!(
                "nc.transition of `{}`: `after` is not a workflow command: {e}",
                change.id
            ))
        })?;
        let version = change.before["version"].as_i64().ok_or_else(|| {
            error(format!(
                "nc.transition of `{}`: `before` names no version",
                change.id
            ))
        })?;
        let expected = Expected::Tags(vec![version_tag(version)]);
        let nc =
            crate::quality::transition_nc_if(app, on_behalf, &change.id, &command, Some(&expected))
                .await
                .map_err(|e| {
                    let mut answer = error(e.to_string());
                    if matches!(e, crate::AppError::Forbidden(_)) {
                        answer["reason"] = json!("scope");
                    }
                    answer
                })?;
        moved.push(json!({
            "nc": nc.id,
            "command": command.name(),
            "state": nc.nonconformance.state.name(),
            "version": nc.version,
        }));
    }
    Ok(json!({ "sink": NC_SINK, "status": "Succeeded", "transitions": moved }))
}
