//! The MES commands of the profile: what an approved proposal's changes become
//! ([`commands_for`], the writer's side), how the MES reads one ([`parse_command`], the
//! emulator's side) and what it answers ([`CommandAnswer`]).
//!
//! A command is `POST /sit-svc/Application/{App}/odata/{Name}` with the body
//! `{"command": {…}}`. Every body carries [`IDEMPOTENCY_KEY`] (`<proposal>-<direction>-<n>`,
//! `n` counting the diff's changes from 1), so a delivery repeated after a lost answer is
//! recognised and answered as the first one was, and may carry `ModifiedBy` (the engine and
//! version, and the approver). Objects are named by their natural key (`…NId`).

use govern::{Change, Entity, Field};
use model::{
    EquipmentState, EventKind, LotId, OperationRef, OrderId, Priority, SerialId, Timestamp, UnitId,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::sets::{App, EntitySet};
use crate::tables::{Tables, operation_nid};
use crate::wire::{self, operation_status, order_status, time_text};

/// The body field every command carries: the key a repeated delivery is recognised by.
pub const IDEMPOTENCY_KEY: &str = "IdempotencyKey";
/// The optional body field naming who made the change (engine/version, approver).
pub const MODIFIED_BY: &str = "ModifiedBy";

/// Command names, by app.
pub mod names {
    /// AppU4DM: a work order's priority (`Priority`, 1 most urgent).
    pub const SET_WORK_ORDER_PRIORITY: &str = "UADMSetWorkOrderPriority";
    /// AppU4DM: a work order's due date (`DueDate`).
    pub const SET_WORK_ORDER_DUE_DATE: &str = "UADMSetWorkOrderDueDate";
    /// AppU4DM: a work order's quantity (`PlannedTargetQuantity`).
    pub const SET_WORK_ORDER_QUANTITY: &str = "UADMSetWorkOrderQuantity";
    /// AppU4DM: put a work order on hold or release it (`IsHold`, `HoldReason`).
    pub const SET_WORK_ORDER_HOLD: &str = "UADMSetWorkOrderHold";
    /// AppU4DM: plan an operation on a machine and/or from a start (`EquipmentNId`,
    /// `EstimatedStartTime`): dispatching and re-sequencing.
    pub const DISPATCH_OPERATION: &str = "UADMDispatchWorkOrderOperation";
    /// Material: put a lot (material tracking unit) on hold or release it.
    pub const SET_MTU_HOLD: &str = "SetMaterialTrackingUnitHold";
    /// Material: put a serial item on hold or release it.
    pub const SET_ITEM_HOLD: &str = "SetProducedMaterialItemHold";
    /// Equipment: set an equipment's status (`Status`, `Reason`).
    pub const SET_EQUIPMENT_STATUS: &str = "SetEquipmentStatus";
}

/// Error codes the emulator answers with (negative, as Opcenter's are; the values are ours).
pub mod codes {
    /// A field of the body is missing or wrong.
    pub const INVALID_ARGUMENT: i64 = -700_001;
    /// The object the command names does not exist.
    pub const NOT_FOUND: i64 = -700_002;
    /// The object exists but is in no state to take the command (a completed order, a
    /// started operation).
    pub const WRONG_STATE: i64 = -700_003;
    /// The idempotency key was used before for a different command.
    pub const IDEMPOTENCY_CONFLICT: i64 = -700_004;
}

/// One MES command: its app, name and JSON body (`{"command": {…}}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Command {
    pub app: String,
    pub name: String,
    pub body: Value,
}

impl Command {
    fn new(app: App, name: &str, key: String, fields: Value) -> Command {
        let mut fields = match fields {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        fields.insert(IDEMPOTENCY_KEY.into(), Value::String(key));
        Command {
            app: app.name().into(),
            name: name.into(),
            body: json!({ "command": fields }),
        }
    }

    /// The path of the command under the MES's base URL.
    pub fn path(&self) -> String {
        format!("/sit-svc/Application/{}/odata/{}", self.app, self.name)
    }

    /// The command's idempotency key.
    pub fn idempotency_key(&self) -> Option<&str> {
        self.body.get("command")?.get(IDEMPOTENCY_KEY)?.as_str()
    }

    /// Names who made the change (`ModifiedBy`), e.g. `mixplane-scheduler/0.1.0 approved by ana`.
    pub fn set_modified_by(&mut self, who: &str) {
        if let Some(Value::Object(fields)) = self.body.get_mut("command") {
            fields.insert(MODIFIED_BY.into(), Value::String(who.into()));
        }
    }
}

/// The MES's answer to a command: `{"Succeeded": …, "Error": {"ErrorCode", "ErrorMessage"}}`
/// (code 0 and an empty message on success). Other fields of a real answer are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CommandAnswer {
    pub succeeded: bool,
    pub error: AnswerError,
}

/// The `Error` of a [`CommandAnswer`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AnswerError {
    pub error_code: i64,
    pub error_message: String,
}

impl CommandAnswer {
    /// Success.
    pub fn succeeded() -> CommandAnswer {
        CommandAnswer {
            succeeded: true,
            error: AnswerError {
                error_code: 0,
                error_message: String::new(),
            },
        }
    }

    /// Failure with `code` and `message`.
    pub fn failed(code: i64, message: impl Into<String>) -> CommandAnswer {
        CommandAnswer {
            succeeded: false,
            error: AnswerError {
                error_code: code,
                error_message: message.into(),
            },
        }
    }
}

/// A change that no command carries out, or carries out with a value it cannot take.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("change {index} ({entity}.{field} of `{id}`): {message}")]
pub struct CommandsError {
    pub index: usize,
    pub entity: String,
    pub field: String,
    pub id: String,
    pub message: String,
}

/// The commands that carry out `diff` for proposal `proposal` (`direction` is `apply` or
/// `rollback`), one per change, in order; the idempotency key of change `i` (from 0) is
/// `<proposal>-<direction>-<i+1>`.
pub fn commands_for(
    proposal: &str,
    direction: &str,
    diff: &[Change],
) -> Result<Vec<Command>, CommandsError> {
    diff.iter()
        .enumerate()
        .map(|(index, change)| {
            let key = format!("{proposal}-{direction}-{}", index + 1);
            command_for(direction, change, key).map_err(|message| CommandsError {
                index,
                entity: change.entity.to_string(),
                field: change.field.to_string(),
                id: change.id.clone(),
                message,
            })
        })
        .collect()
}

fn after<T: serde::de::DeserializeOwned>(change: &Change) -> Result<T, String> {
    serde_json::from_value(change.after.clone())
        .map_err(|e| format!("`after` is not valid here: {e}"))
}

/// A hold value (`null`, or `{"reason", …}`) as `IsHold` and `HoldReason`.
fn hold_fields(change: &Change) -> Result<Value, String> {
    match &change.after {
        Value::Null => Ok(json!({"IsHold": false, "HoldReason": null})),
        Value::Object(hold) => {
            let reason = hold
                .get("reason")
                .and_then(Value::as_str)
                .filter(|r| !r.trim().is_empty())
                .unwrap_or("quality hold");
            Ok(json!({"IsHold": true, "HoldReason": reason}))
        }
        other => Err(format!(
            "`after` is not valid here: a hold is null or an object, not {other}"
        )),
    }
}

fn command_for(direction: &str, change: &Change, key: String) -> Result<Command, String> {
    let id = change.id.as_str();
    let u4dm =
        |name: &str, fields: Value| Ok(Command::new(App::AppU4DM, name, key.clone(), fields));
    match (&change.entity, &change.field) {
        (Entity::Order, Field::Priority) => {
            let priority: Priority = after(change)?;
            u4dm(
                names::SET_WORK_ORDER_PRIORITY,
                json!({"WorkOrderNId": id, "Priority": wire::priority_number(priority)}),
            )
        }
        (Entity::Order, Field::Due) => {
            let due: Timestamp = after(change)?;
            u4dm(
                names::SET_WORK_ORDER_DUE_DATE,
                json!({"WorkOrderNId": id, "DueDate": time_text(due)}),
            )
        }
        (Entity::Order, Field::Quantity) => {
            let quantity: f64 = after(change)?;
            if !(quantity.is_finite() && quantity > 0.0) {
                return Err(format!(
                    "`after` is not valid here: the quantity {quantity} is not positive"
                ));
            }
            u4dm(
                names::SET_WORK_ORDER_QUANTITY,
                json!({"WorkOrderNId": id, "PlannedTargetQuantity": quantity}),
            )
        }
        (Entity::Order, Field::Hold) => {
            let mut fields = hold_fields(change)?;
            fields["WorkOrderNId"] = json!(id);
            u4dm(names::SET_WORK_ORDER_HOLD, fields)
        }
        (Entity::Operation, Field::Unit | Field::Start) => {
            let OperationRef { order, step } =
                id.parse::<OperationRef>().map_err(|e| e.to_string())?;
            if change.after.is_null() {
                return Err(if direction == "rollback" {
                    "cannot roll back: the operation was not in the plan before the change (`before` is null), so there is no dispatch to return to".into()
                } else {
                    "`after` is null: an operation cannot be dispatched to nothing".into()
                });
            }
            let mut fields = json!({"WorkOrderNId": order, "Sequence": wire::sequence_of(step)});
            if change.field == Field::Unit {
                let unit: String = after(change)?;
                if unit.trim().is_empty() {
                    return Err("`after` is not valid here: the unit is empty".into());
                }
                fields["EquipmentNId"] = json!(unit);
            } else {
                fields["EstimatedStartTime"] = json!(time_text(after::<Timestamp>(change)?));
            }
            u4dm(names::DISPATCH_OPERATION, fields)
        }
        (Entity::Lot, Field::Hold) => {
            let mut fields = hold_fields(change)?;
            fields["MaterialTrackingUnitNId"] = json!(id);
            Ok(Command::new(
                App::Material,
                names::SET_MTU_HOLD,
                key,
                fields,
            ))
        }
        (Entity::Serial, Field::Hold) => {
            let mut fields = hold_fields(change)?;
            fields["ProducedMaterialItemNId"] = json!(id);
            Ok(Command::new(
                App::Material,
                names::SET_ITEM_HOLD,
                key,
                fields,
            ))
        }
        (Entity::Unit, Field::State) => {
            let state: EquipmentState = after(change)?;
            let fields = json!({"EquipmentNId": id, "Status": wire::equipment_status(state), "Reason": format!("mixplane change {key}")});
            Ok(Command::new(
                App::Equipment,
                names::SET_EQUIPMENT_STATUS,
                key,
                fields,
            ))
        }
        (entity, field) => Err(format!(
            "no Opcenter command carries out `{entity}.{field}`; use the file sink"
        )),
    }
}

/// A command as the MES reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedCommand {
    /// The idempotency key.
    pub key: String,
    pub modified_by: Option<String>,
    pub action: Action,
}

/// What a command asks.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    SetWorkOrderPriority {
        order: OrderId,
        priority: Priority,
    },
    SetWorkOrderDueDate {
        order: OrderId,
        due: Timestamp,
    },
    SetWorkOrderQuantity {
        order: OrderId,
        quantity: f64,
    },
    /// `hold` is the reason of a hold, `None` a release.
    SetWorkOrderHold {
        order: OrderId,
        hold: Option<String>,
    },
    DispatchOperation {
        order: OrderId,
        step: u32,
        unit: Option<UnitId>,
        start: Option<Timestamp>,
    },
    SetLotHold {
        lot: LotId,
        hold: Option<String>,
    },
    SetSerialHold {
        serial: SerialId,
        hold: Option<String>,
    },
    SetEquipmentStatus {
        unit: UnitId,
        state: EquipmentState,
        reason: Option<String>,
    },
}

/// A command the MES cannot read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("app `{app}` has no command `{name}`")]
    UnknownCommand { app: String, name: String },
    /// A field of the body is missing, unknown or wrong (`command` for the envelope).
    #[error("command `{command}`: field `{field}`: {message}")]
    Body {
        command: String,
        field: String,
        message: String,
    },
}

impl CommandError {
    /// The answer the MES gives to an unreadable command.
    pub fn answer(&self) -> CommandAnswer {
        CommandAnswer::failed(codes::INVALID_ARGUMENT, self.to_string())
    }
}

/// Reads command `name` of app `app` with body `body` (`{"command": {…}}`); an unknown or
/// missing field is refused by name.
pub fn parse_command(app: &str, name: &str, body: &Value) -> Result<ParsedCommand, CommandError> {
    crate::command_parse::parse(app, name, body)
}

/// Commands carried out against the tables (the emulator's side).
impl Tables {
    /// Carries out `command` at plant time `t` and answers as the MES would. A key seen
    /// before for the same command is answered as then, changing nothing; for another
    /// command it is refused. A refused command changes nothing.
    pub fn apply_command(&mut self, command: &ParsedCommand, t: Timestamp) -> CommandAnswer {
        let asked = crate::command_parse::fingerprint(&command.action);
        if let Some((before, answer)) = self.commands.get(&command.key) {
            return if *before == asked {
                answer.clone()
            } else {
                CommandAnswer::failed(
                    codes::IDEMPOTENCY_CONFLICT,
                    format!(
                        "idempotency key `{}` was used for another command",
                        command.key
                    ),
                )
            };
        }
        let applied = match self.check_command(&command.action) {
            Ok(applied) => applied,
            Err((code, message)) => return CommandAnswer::failed(code, message),
        };
        if let Err(message) = self.carry_out(&command.key, applied, t) {
            return CommandAnswer::failed(codes::WRONG_STATE, message);
        }
        let answer = CommandAnswer::succeeded();
        self.commands
            .insert(command.key.clone(), (asked, answer.clone()));
        answer
    }

    /// What the command changes, or why it cannot.
    fn check_command(&self, action: &Action) -> Result<Applied, (i64, String)> {
        let found = |set: EntitySet, nid: &str| {
            self.row(set, nid)
                .ok_or_else(|| (codes::NOT_FOUND, format!("{set} `{nid}` does not exist")))
        };
        let open_order = |order: &OrderId| {
            let row = found(EntitySet::WorkOrder, order.as_str())?;
            let status = row["Status"].as_str().unwrap_or_default();
            if status == order_status::COMPLETE || status == order_status::ABORTED {
                return Err((
                    codes::WRONG_STATE,
                    format!("work order `{order}` is {status}"),
                ));
            }
            Ok(row)
        };
        let hold = |set: EntitySet, nid: &str, hold: &Option<String>| {
            found(set, nid)?;
            Ok(Applied::Hold {
                set,
                nid: nid.to_owned(),
                hold: hold.clone(),
            })
        };
        let change = |order: &OrderId| EventKind::OrderChanged {
            order: order.clone(),
            quantity: None,
            due: None,
            priority: None,
        };
        Ok(match action {
            Action::SetWorkOrderPriority { order, priority } => {
                open_order(order)?;
                let mut kind = change(order);
                if let EventKind::OrderChanged { priority: p, .. } = &mut kind {
                    *p = Some(*priority);
                }
                Applied::Event(kind)
            }
            Action::SetWorkOrderDueDate { order, due } => {
                let row = open_order(order)?;
                let release = row["EstimatedStartTime"]
                    .as_str()
                    .and_then(|t| Timestamp::parse(t).ok());
                if release.is_some_and(|r| *due < r) {
                    return Err((
                        codes::INVALID_ARGUMENT,
                        format!("due date {} is before the order's start", time_text(*due)),
                    ));
                }
                let mut kind = change(order);
                if let EventKind::OrderChanged { due: d, .. } = &mut kind {
                    *d = Some(*due);
                }
                Applied::Event(kind)
            }
            Action::SetWorkOrderQuantity { order, quantity } => {
                open_order(order)?;
                let mut kind = change(order);
                if let EventKind::OrderChanged { quantity: q, .. } = &mut kind {
                    *q = Some(*quantity);
                }
                Applied::Event(kind)
            }
            Action::SetWorkOrderHold { order, hold: h } => {
                hold(EntitySet::WorkOrder, order.as_str(), h)?
            }
            Action::SetLotHold { lot, hold: h } => {
                hold(EntitySet::MaterialTrackingUnit, lot.as_str(), h)?
            }
            Action::SetSerialHold { serial, hold: h } => {
                hold(EntitySet::ProducedMaterialItem, serial.as_str(), h)?
            }
            Action::DispatchOperation {
                order,
                step,
                unit,
                start,
            } => {
                let header = open_order(order)?;
                let row = found(
                    EntitySet::WorkOrderOperation,
                    &operation_nid(order.as_str(), *step),
                )?;
                if row["Status"] != operation_status::READY {
                    let status = row["Status"].as_str().unwrap_or_default();
                    return Err((
                        codes::WRONG_STATE,
                        format!(
                            "operation {} of work order `{order}` is {status}",
                            wire::sequence_of(*step)
                        ),
                    ));
                }
                if let Some(unit) = unit {
                    let routing = header["ProcessNId"].as_str().unwrap_or_default();
                    let can_run = self
                        .catalog()
                        .routing(&routing.into())
                        .and_then(|r| r.steps.get(*step as usize))
                        .is_some_and(|s| s.alternatives.iter().any(|a| &a.unit == unit));
                    if !can_run {
                        return Err((
                            codes::INVALID_ARGUMENT,
                            format!(
                                "equipment `{unit}` cannot run operation {} of work order `{order}`",
                                wire::sequence_of(*step)
                            ),
                        ));
                    }
                }
                Applied::Event(EventKind::OperationDispatched {
                    order: order.clone(),
                    step: *step,
                    unit: unit.clone(),
                    start: *start,
                })
            }
            Action::SetEquipmentStatus {
                unit,
                state,
                reason,
            } => {
                found(EntitySet::Equipment, unit.as_str())?;
                Applied::Event(EventKind::EquipmentStateChanged {
                    unit: unit.clone(),
                    state: *state,
                    reason: reason.clone(),
                })
            }
        })
    }
}

/// What carrying a command out does to the tables.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Applied {
    /// The plant event the MES would report, folded like any other.
    Event(EventKind),
    /// A hold set (`Some(reason)`) or released on a row: no plant event.
    Hold {
        set: EntitySet,
        nid: String,
        hold: Option<String>,
    },
}
