//! Commands, `POST /sit-svc/Application/{App}/odata/{Command}` with `{"command": {…}}`: read
//! by `opcenter::parse_command`, carried out against the tables (`Tables::apply_command`,
//! which recognises a repeated idempotency key and answers as the first time) and, for a
//! dispatch, against the simulated plant (`sim::Live::replan`), all or nothing.
//!
//! Answers: a command read and carried out, or refused by the MES's rules, is 200 with
//! `{"Succeeded": …, "Error": {"ErrorCode", "ErrorMessage"}}`; a body that cannot be read is
//! 400 with the same shape; an unknown command is 404 with an OData error; a set written to
//! directly is 405 (writes are commands).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use opcenter::command::codes;
use opcenter::{Action, CommandAnswer, CommandError, EntitySet, ParsedCommand};
use serde_json::Value;
use sim::{Plan, PlannedOperation};

use crate::http::odata_error;
use crate::odata_api::app_of;
use crate::plant::World;
use crate::{Shared, lock};

/// `POST …/odata/{Command}`.
pub(crate) async fn command(
    State(shared): State<Arc<Shared>>,
    Path((app, name)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let app = match app_of(&app) {
        Ok(app) => app,
        Err(refusal) => return refusal.into_response(),
    };
    if EntitySet::find(app.name(), &name).is_some() {
        return odata_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            format!(
                "`{name}` is an entity set, read only: writes are commands (POST …/odata/{{Command}})"
            ),
        );
    }
    let body: Value = match serde_json::from_slice(&body) {
        Ok(body) => body,
        Err(error) => {
            return answer(
                StatusCode::BAD_REQUEST,
                &CommandAnswer::failed(
                    codes::INVALID_ARGUMENT,
                    format!("the body is not JSON: {error}"),
                ),
            );
        }
    };
    let parsed = match opcenter::parse_command(app.name(), &name, &body) {
        Ok(parsed) => parsed,
        Err(error @ CommandError::UnknownCommand { .. }) => {
            return odata_error(StatusCode::NOT_FOUND, "NotFound", error.to_string());
        }
        Err(error) => return answer(StatusCode::BAD_REQUEST, &error.answer()),
    };
    // An injected failure is transient: nothing is applied or remembered, so a retry with
    // the same key is carried out.
    if let Some((code, message)) = lock(&shared.faults).take_command_failure() {
        return answer(StatusCode::OK, &CommandAnswer::failed(code, message));
    }
    match shared
        .plant
        .run(move |world| carry_out(world, &parsed))
        .await
    {
        Ok(outcome) => answer(StatusCode::OK, &outcome),
        Err(error) => odata_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "PlantStopped",
            error.to_string(),
        ),
    }
}

fn answer(status: StatusCode, answer: &CommandAnswer) -> Response {
    (status, axum::Json(answer)).into_response()
}

/// Carries a command out on the world at the plant's time: the tables first (their rules
/// decide), then, for a dispatch, the plant; when the plant cannot follow, the tables are put
/// back as they were and the command fails.
pub fn carry_out(world: &mut World<'_>, command: &ParsedCommand) -> CommandAnswer {
    let now = world.live.now();
    // A key answered before is answered again by the tables, without touching the plant.
    if world.keys.contains(&command.key) {
        return world.tables.apply_command(command, now);
    }
    let plan = match &command.action {
        Action::DispatchOperation {
            order,
            step,
            unit,
            start,
        } => {
            let planned = world.live.planned(order, *step);
            let Some(unit) = unit
                .clone()
                .or_else(|| planned.as_ref().map(|p| p.0.clone()))
            else {
                return CommandAnswer::failed(
                    codes::INVALID_ARGUMENT,
                    format!(
                        "operation {} of work order `{order}` is planned on no equipment yet: name `EquipmentNId`",
                        opcenter::wire::sequence_of(*step)
                    ),
                );
            };
            let start = start.or(planned.map(|p| p.1)).unwrap_or(now).max(now);
            let mut plan = Plan::default();
            plan.units.entry(unit).or_default().push(PlannedOperation {
                order: order.clone(),
                step: *step,
                start,
            });
            Some(plan)
        }
        _ => None,
    };
    let before = plan.as_ref().map(|_| world.tables.clone());
    let outcome = world.tables.apply_command(command, now);
    if !outcome.succeeded {
        return outcome;
    }
    world.keys.insert(command.key.clone());
    if let (Some(plan), Some(before)) = (plan, before) {
        let replanned = world.live.replan(&plan);
        if let Some(skipped) = replanned.skipped.first() {
            world.restore(before);
            world.keys.remove(&command.key);
            return CommandAnswer::failed(
                codes::WRONG_STATE,
                format!(
                    "the plant cannot dispatch operation {} of work order `{}` on `{}`: {}",
                    opcenter::wire::sequence_of(skipped.step),
                    skipped.order,
                    skipped.unit,
                    skipped.reason
                ),
            );
        }
        // What the replan set off at this instant (an operation starting now).
        let emitted = world.live.advance_to(now);
        world.fold(&emitted);
    }
    outcome
}
