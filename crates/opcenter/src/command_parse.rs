//! Reading a command body (`{"command": {…}}`) into a [`ParsedCommand`], refusing a
//! missing, unknown or ill-typed field by name.

use model::{Timestamp, check_id};
use serde_json::{Map, Value};

use crate::command::{Action, CommandError, IDEMPOTENCY_KEY, MODIFIED_BY, ParsedCommand, names};
use crate::sets::{App, Edm};
use crate::wire;

/// A command field: its name, EDM type and whether it is required.
pub(crate) type CommandField = (&'static str, Edm, bool);

/// A command: its app, name and fields.
pub(crate) type CommandDef = (App, &'static str, &'static [CommandField]);

/// The commands of each app: name and the fields it takes besides the idempotency key and
/// `ModifiedBy`, with their EDM types and whether they are required.
pub(crate) const COMMANDS: &[CommandDef] = &[
    (
        App::AppU4DM,
        names::SET_WORK_ORDER_PRIORITY,
        &[
            ("WorkOrderNId", Edm::String, true),
            ("Priority", Edm::Int32, true),
        ],
    ),
    (
        App::AppU4DM,
        names::SET_WORK_ORDER_DUE_DATE,
        &[
            ("WorkOrderNId", Edm::String, true),
            ("DueDate", Edm::DateTimeOffset, true),
        ],
    ),
    (
        App::AppU4DM,
        names::SET_WORK_ORDER_QUANTITY,
        &[
            ("WorkOrderNId", Edm::String, true),
            ("PlannedTargetQuantity", Edm::Double, true),
        ],
    ),
    (
        App::AppU4DM,
        names::SET_WORK_ORDER_HOLD,
        &[
            ("WorkOrderNId", Edm::String, true),
            ("IsHold", Edm::Boolean, true),
            ("HoldReason", Edm::String, false),
        ],
    ),
    (
        App::AppU4DM,
        names::DISPATCH_OPERATION,
        &[
            ("WorkOrderNId", Edm::String, true),
            ("Sequence", Edm::Int32, true),
            ("EquipmentNId", Edm::String, false),
            ("EstimatedStartTime", Edm::DateTimeOffset, false),
        ],
    ),
    (
        App::Material,
        names::SET_MTU_HOLD,
        &[
            ("MaterialTrackingUnitNId", Edm::String, true),
            ("IsHold", Edm::Boolean, true),
            ("HoldReason", Edm::String, false),
        ],
    ),
    (
        App::Material,
        names::SET_ITEM_HOLD,
        &[
            ("ProducedMaterialItemNId", Edm::String, true),
            ("IsHold", Edm::Boolean, true),
            ("HoldReason", Edm::String, false),
        ],
    ),
    (
        App::Equipment,
        names::SET_EQUIPMENT_STATUS,
        &[
            ("EquipmentNId", Edm::String, true),
            ("Status", Edm::String, true),
            ("Reason", Edm::String, false),
        ],
    ),
];

fn fields_of(app: App, name: &str) -> Option<Vec<&'static str>> {
    COMMANDS
        .iter()
        .find(|(a, n, _)| *a == app && *n == name)
        .map(|(_, _, fields)| fields.iter().map(|(field, _, _)| *field).collect())
}

struct Body<'a> {
    command: &'a str,
    fields: &'a Map<String, Value>,
}

impl Body<'_> {
    fn fail(&self, field: &str, message: impl Into<String>) -> CommandError {
        CommandError::Body {
            command: self.command.into(),
            field: field.into(),
            message: message.into(),
        }
    }

    fn value(&self, field: &str) -> Option<&Value> {
        self.fields.get(field).filter(|v| !v.is_null())
    }

    fn opt_text(&self, field: &str) -> Result<Option<String>, CommandError> {
        match self.value(field) {
            None => Ok(None),
            Some(Value::String(text)) if text.trim().is_empty() => {
                Err(self.fail(field, "must not be empty"))
            }
            Some(Value::String(text)) => {
                check_id("text", text).map_err(|e| self.fail(field, e.to_string()))?;
                Ok(Some(text.clone()))
            }
            Some(other) => Err(self.fail(field, format!("expected a string, found {other}"))),
        }
    }

    /// Free text (a reason, who modified): blank reads as none; at most 4096 characters.
    fn opt_note(&self, field: &str) -> Result<Option<String>, CommandError> {
        match self.value(field) {
            None => Ok(None),
            Some(Value::String(text)) if text.trim().is_empty() => Ok(None),
            Some(Value::String(text)) if text.chars().count() > 4096 => {
                Err(self.fail(field, "longer than 4096 characters"))
            }
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(other) => Err(self.fail(field, format!("expected a string, found {other}"))),
        }
    }

    fn text(&self, field: &str) -> Result<String, CommandError> {
        self.opt_text(field)?
            .ok_or_else(|| self.fail(field, "missing"))
    }

    fn integer(&self, field: &str) -> Result<i64, CommandError> {
        match self.value(field) {
            None => Err(self.fail(field, "missing")),
            Some(v) => v
                .as_i64()
                .ok_or_else(|| self.fail(field, format!("expected an integer, found {v}"))),
        }
    }

    fn number(&self, field: &str) -> Result<f64, CommandError> {
        match self.value(field) {
            None => Err(self.fail(field, "missing")),
            Some(v) => v
                .as_f64()
                .filter(|x| x.is_finite())
                .ok_or_else(|| self.fail(field, format!("expected a number, found {v}"))),
        }
    }

    fn opt_time(&self, field: &str) -> Result<Option<Timestamp>, CommandError> {
        match self.opt_text(field)? {
            None => Ok(None),
            Some(text) => Timestamp::parse(&text)
                .map(Some)
                .map_err(|e| self.fail(field, e.to_string())),
        }
    }

    fn boolean(&self, field: &str) -> Result<bool, CommandError> {
        match self.value(field) {
            None => Err(self.fail(field, "missing")),
            Some(v) => v
                .as_bool()
                .ok_or_else(|| self.fail(field, format!("expected true or false, found {v}"))),
        }
    }

    /// `IsHold` and `HoldReason`: the reason of a hold (a default when none is given), or
    /// `None` for a release.
    fn hold(&self) -> Result<Option<String>, CommandError> {
        let reason = self.opt_note("HoldReason")?;
        Ok(self
            .boolean("IsHold")?
            .then(|| reason.unwrap_or_else(|| "hold".into())))
    }
}

pub(crate) fn parse(
    app_name: &str,
    name: &str,
    body: &Value,
) -> Result<ParsedCommand, CommandError> {
    let unknown = || CommandError::UnknownCommand {
        app: app_name.into(),
        name: name.into(),
    };
    let app = App::find(app_name).ok_or_else(unknown)?;
    let allowed = fields_of(app, name).ok_or_else(unknown)?;
    let fields = body
        .get("command")
        .and_then(Value::as_object)
        .ok_or_else(|| CommandError::Body {
            command: name.into(),
            field: "command".into(),
            message: "the body is not `{\"command\": {…}}`".into(),
        })?;
    if let Some(extra) = body
        .as_object()
        .and_then(|o| o.keys().find(|k| *k != "command"))
    {
        return Err(CommandError::Body {
            command: name.into(),
            field: extra.clone(),
            message: "unknown field beside `command`".into(),
        });
    }
    let body = Body {
        command: name,
        fields,
    };
    if let Some(extra) = fields
        .keys()
        .find(|k| !allowed.contains(&k.as_str()) && *k != IDEMPOTENCY_KEY && *k != MODIFIED_BY)
    {
        return Err(body.fail(
            extra,
            format!(
                "unknown field; `{name}` takes {}, {IDEMPOTENCY_KEY} and {MODIFIED_BY}",
                allowed.join(", ")
            ),
        ));
    }
    let key = body.text(IDEMPOTENCY_KEY)?;
    let modified_by = body.opt_note(MODIFIED_BY)?;
    let order = || body.text("WorkOrderNId").map(Into::into);
    let action = match name {
        names::SET_WORK_ORDER_PRIORITY => {
            let number = body.integer("Priority")?;
            let priority = wire::priority_of(number).ok_or_else(|| {
                body.fail(
                    "Priority",
                    format!("{number} is not a priority (1 high, 2 medium, 3 or more low)"),
                )
            })?;
            Action::SetWorkOrderPriority {
                order: order()?,
                priority,
            }
        }
        names::SET_WORK_ORDER_DUE_DATE => Action::SetWorkOrderDueDate {
            order: order()?,
            due: body
                .opt_time("DueDate")?
                .ok_or_else(|| body.fail("DueDate", "missing"))?,
        },
        names::SET_WORK_ORDER_QUANTITY => {
            let quantity = body.number("PlannedTargetQuantity")?;
            if quantity <= 0.0 {
                return Err(body.fail(
                    "PlannedTargetQuantity",
                    format!("{quantity} is not positive"),
                ));
            }
            Action::SetWorkOrderQuantity {
                order: order()?,
                quantity,
            }
        }
        names::SET_WORK_ORDER_HOLD => Action::SetWorkOrderHold {
            order: order()?,
            hold: body.hold()?,
        },
        names::DISPATCH_OPERATION => {
            let sequence = body.integer("Sequence")?;
            let step = wire::step_of(sequence).ok_or_else(|| {
                body.fail(
                    "Sequence",
                    format!("{sequence} is not a positive multiple of 10"),
                )
            })?;
            let unit = body.opt_text("EquipmentNId")?.map(Into::into);
            let start = body.opt_time("EstimatedStartTime")?;
            if unit.is_none() && start.is_none() {
                return Err(body.fail(
                    "EquipmentNId",
                    "a dispatch needs EquipmentNId, EstimatedStartTime or both",
                ));
            }
            Action::DispatchOperation {
                order: order()?,
                step,
                unit,
                start,
            }
        }
        names::SET_MTU_HOLD => Action::SetLotHold {
            lot: body.text("MaterialTrackingUnitNId")?.into(),
            hold: body.hold()?,
        },
        names::SET_ITEM_HOLD => Action::SetSerialHold {
            serial: body.text("ProducedMaterialItemNId")?.into(),
            hold: body.hold()?,
        },
        _ => {
            let status = body.text("Status")?;
            let state = wire::equipment_state_of(&status).ok_or_else(|| {
                body.fail(
                    "Status",
                    format!("`{status}` is none of Running, Idle, Setup, Cleaning, Down"),
                )
            })?;
            Action::SetEquipmentStatus {
                unit: body.text("EquipmentNId")?.into(),
                state,
                reason: body.opt_note("Reason")?,
            }
        }
    };
    Ok(ParsedCommand {
        key,
        modified_by,
        action,
    })
}

/// What a command asks, as text that is equal exactly when two commands ask the same.
pub(crate) fn fingerprint(action: &Action) -> String {
    format!("{action:?}")
}
