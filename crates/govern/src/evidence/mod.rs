//! The evidence a gate decides on, computed from the diff against the plant — never taken
//! from the proposer's word.
//!
//! [`assess`] reads each change of a diff against a read-only view of the plant ([`Facts`])
//! and returns, per change, the action kinds it may be filed under (what the diff touches
//! implies the kind), its real size (`after − before` of a time field, rounded up to whole
//! minutes), whether it touches a high-priority order, and the areas and units it touches;
//! and it refuses a change whose object does not exist (422) or whose `before` is not what
//! the plant holds now (409, naming the field: the proposer's view is stale or false).
//!
//! What the proposer declares (`shift_minutes`, `high_priority`, the proposal's `kind` and
//! `area`) is at most a claim: [`crate::Proposal::propose`] compares it with the assessment,
//! records what it corrects, refuses a declared kind the diff does not imply, and gates on the
//! assessment.
//!
//! # Kinds a change implies
//!
//! | change                                             | kinds                               |
//! |----------------------------------------------------|-------------------------------------|
//! | `order.due` / `priority` / `quantity`              | schedule_change                     |
//! | `operation.unit` / `start`                         | schedule_change                     |
//! | `unit.overtime_windows`, `pool.overtime_windows`   | schedule_change, resource_transfer  |
//! | `pool_member.pool`                                 | resource_transfer                   |
//! | `unit.state` → `down`                              | quality_hold, schedule_change       |
//! | `unit.state` of a unit that is down → up           | nc_disposition (releasing a hold)   |
//! | `unit.state`, otherwise                            | schedule_change                     |
//! | `lot.state` → `held` / `on_hold` / `hold`          | quality_hold                        |
//! | `lot.state`, otherwise                             | nc_disposition                      |
//! | `lot.hold` / `serial.hold` / `order.hold` → a hold | quality_hold                        |
//! | `lot.hold` / `serial.hold` / `order.hold` → `null` | nc_disposition (releasing a hold)   |
//! | `nc.*` / `nonconformance.*`                        | nc_disposition                      |
//! | `work_instruction.*`                               | work_instruction_change             |
//!
//! A `hold` change places a quality hold (`before` `null`, `after` a [`HoldValue`]) or releases
//! one (the reverse). The item must exist in the plant state (a lot or serial produced,
//! received or booked here, an order); its areas are those of the order that made it (a
//! purchased lot acts site-wide), whatever area the proposer names; and when the view knows
//! holds ([`WithHolds`], the quality store's) `before` is checked against them: proposing to
//! hold an item already on hold, or to release one that is not, is stale (409).
//!
//! NCs and work instructions are not located by the plant facts: their area is the one the
//! proposer names (their gates are copilot with four eyes in the shipped policy).
//! | anything else                                      | none: it cannot be assessed, so the proposal always waits for approval |
//!
//! # What it must not do
//!
//! No I/O, no clock: the facts are handed in. It decides nothing about policies or
//! principals; [`crate::policy`] and [`crate::proposal`] do.

mod facts;

use std::collections::BTreeSet;

use model::{EquipmentState, Priority, Timestamp};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use self::facts::{
    DispatchFacts, FactTable, Facts, OrderFacts, PlantView, UnitFacts, WithHolds,
};
use crate::proposal::{ActionKind, Change, Entity, Field, GovernError};

/// The value of a `hold` field that places a hold: why, how severe, and the alert and
/// genealogy link it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldValue {
    /// Why, in words (1 to [`MAX_HOLD_REASON_CHARS`] characters).
    pub reason: String,
    /// `minor`, `major` or `critical`.
    pub severity: String,
    /// The alert that caused it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert: Option<String>,
    /// How the item relates to the alert: `item`, `upstream`, `downstream`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// The hold record a release releases (a release's `before`): that hold and no other is
    /// released when it applies, so a hold placed on the item since is left in force.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold: Option<String>,
}

/// Longest reason of a hold, in characters.
pub const MAX_HOLD_REASON_CHARS: usize = 2000;

/// What one change really is.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChangeAssessment {
    /// The action kinds it may be filed under; empty when mixplane cannot assess it.
    pub kinds: Vec<ActionKind>,
    /// How far a time field moves, in whole minutes (rounded away from zero); `None` for
    /// changes that are not moves in time (or place an operation the plan lacked).
    pub shift_minutes: Option<i64>,
    /// It touches an order that is high priority now or that the diff makes high priority.
    pub high_priority: bool,
    /// The plant areas it acts in (empty: site-wide, not located, or not assessed).
    pub areas: BTreeSet<String>,
    /// It acts on something outside every area (a purchased lot).
    pub site_wide: bool,
    /// The store held the value `before` was checked against (false: an operation the MES
    /// never dispatched, a lot's state — the proposer's word, recorded as such).
    pub before_checked: bool,
}

/// Where the KPIs of a proposal's evidence come from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum KpiSource {
    /// As the proposer declared them: never used to lower a gate.
    #[default]
    Claimed,
    /// Recomputed by the server from the inputs (a committed scenario).
    Recomputed,
}

/// What a whole diff really is.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Assessment {
    /// One per change, in diff order.
    pub changes: Vec<ChangeAssessment>,
    /// Units whose work, state or calendar changes.
    pub units: BTreeSet<String>,
    /// Some assessed change acts on nothing inside an area (a purchased lot): only a site or
    /// all-site scope reaches it.
    pub site_wide: bool,
    pub kpis: KpiSource,
}

impl Assessment {
    /// Every area some change touches.
    pub fn areas(&self) -> BTreeSet<String> {
        self.changes
            .iter()
            .flat_map(|c| c.areas.iter().cloned())
            .collect()
    }

    /// Indexes of the changes mixplane cannot assess.
    pub fn unassessed(&self) -> Vec<usize> {
        (0..self.changes.len())
            .filter(|&i| self.changes[i].kinds.is_empty())
            .collect()
    }

    /// Indexes of the assessed changes whose `before` the store could not confirm.
    pub fn unchecked_before(&self) -> Vec<usize> {
        (0..self.changes.len())
            .filter(|&i| !self.changes[i].kinds.is_empty() && !self.changes[i].before_checked)
            .collect()
    }
}

/// `change 2 (order.due of `MO-1`)`, as every refusal names a change.
pub fn describe(index: usize, change: &Change) -> String {
    format!(
        "change {index} ({}.{} of `{}`)",
        change.entity, change.field, change.id
    )
}

/// Assesses `diff` against `facts`. Refuses a change to an object the plant lacks, a value
/// of the wrong type, a `before` other than the plant's current value, and the same field of
/// the same object changed twice.
pub fn assess(diff: &[Change], facts: &dyn Facts) -> Result<Assessment, GovernError> {
    let mut seen = BTreeSet::new();
    for (index, change) in diff.iter().enumerate() {
        if !seen.insert((&change.entity, change.id.as_str(), &change.field)) {
            return Err(GovernError::Invalid(format!(
                "{}: the diff changes this field twice; send one change per field",
                describe(index, change)
            )));
        }
    }
    let raised: BTreeSet<&str> = diff
        .iter()
        .filter(|c| c.entity == Entity::Order && c.field == Field::Priority)
        .filter(|c| c.after == serde_json::json!(Priority::High))
        .map(|c| c.id.as_str())
        .collect();
    let mut assessment = Assessment::default();
    for (index, change) in diff.iter().enumerate() {
        let mut reader = Reader {
            index,
            change,
            facts,
            raised: &raised,
            units: &mut assessment.units,
        };
        let assessed = reader.assess()?;
        assessment.site_wide |= assessed.site_wide;
        assessment.changes.push(assessed);
    }
    Ok(assessment)
}

/// One change being assessed.
struct Reader<'a> {
    index: usize,
    change: &'a Change,
    facts: &'a dyn Facts,
    raised: &'a BTreeSet<&'a str>,
    units: &'a mut BTreeSet<String>,
}

/// `before` against the plant's value: equal, or a refusal naming both.
fn stale(what: String, before: &Value, current: impl Serialize) -> GovernError {
    GovernError::Stale(format!(
        "{what}: `before` is {before}, but the plant holds {} now; re-read the plant and propose again",
        serde_json::json!(current)
    ))
}

impl Reader<'_> {
    fn what(&self) -> String {
        describe(self.index, self.change)
    }

    fn invalid(&self, why: impl std::fmt::Display) -> GovernError {
        GovernError::Invalid(format!("{}: {why}", self.what()))
    }

    fn read<T: DeserializeOwned>(&self, side: &str, value: &Value) -> Result<T, GovernError> {
        serde_json::from_value(value.clone())
            .map_err(|e| self.invalid(format!("`{side}` is not valid here: {e}")))
    }

    fn read_opt<T: DeserializeOwned>(
        &self,
        side: &str,
        value: &Value,
    ) -> Result<Option<T>, GovernError> {
        if value.is_null() {
            return Ok(None);
        }
        self.read(side, value).map(Some)
    }

    fn check_before<T: PartialEq + Serialize + DeserializeOwned>(
        &self,
        current: T,
    ) -> Result<(), GovernError> {
        let claimed: T = self.read("before", &self.change.before)?;
        if claimed != current {
            return Err(stale(self.what(), &self.change.before, current));
        }
        Ok(())
    }

    fn order(&self, id: &str) -> Result<OrderFacts, GovernError> {
        self.facts
            .order(id)
            .ok_or_else(|| self.invalid(format!("the plant has no order `{id}`")))
    }

    fn assess(&mut self) -> Result<ChangeAssessment, GovernError> {
        let change = self.change;
        match (&change.entity, &change.field) {
            (Entity::Order, Field::Due | Field::Priority | Field::Quantity) => self.order_change(),
            (Entity::Operation, Field::Unit | Field::Start) => self.operation_change(),
            (Entity::Unit, Field::State) => self.unit_state(),
            (Entity::Unit, Field::OvertimeWindows) => {
                let unit = self.unit(&change.id)?;
                self.units.insert(change.id.clone());
                Ok(ChangeAssessment {
                    kinds: vec![ActionKind::ScheduleChange, ActionKind::ResourceTransfer],
                    areas: [unit.area].into(),
                    // Calendars are not kept by the store: the proposer's word.
                    before_checked: false,
                    ..ChangeAssessment::default()
                })
            }
            (Entity::Pool, Field::OvertimeWindows) => Ok(ChangeAssessment {
                kinds: vec![ActionKind::ScheduleChange, ActionKind::ResourceTransfer],
                // The scheduler names a pool's members of one qualification
                // `<pool>/<qualification>`: the plant's pool is the part before the `/`.
                areas: match self.facts.pool_areas(&change.id) {
                    Some(areas) => areas,
                    None => self.pool(change.id.split('/').next().unwrap_or_default())?,
                },
                before_checked: false,
                ..ChangeAssessment::default()
            }),
            (Entity::PoolMember, Field::Other(name)) if name == "pool" => self.member_transfer(),
            (Entity::Lot, Field::State) => self.lot_state(),
            (Entity::Lot | Entity::Serial | Entity::Order, Field::Hold) => self.hold(),
            (Entity::Other(entity), _) => Ok(ChangeAssessment {
                kinds: match entity.as_str() {
                    "nc" | "nonconformance" => vec![ActionKind::NcDisposition],
                    "work_instruction" => vec![ActionKind::WorkInstructionChange],
                    _ => Vec::new(),
                },
                ..ChangeAssessment::default()
            }),
            _ => Ok(ChangeAssessment::default()),
        }
    }

    fn order_change(&self) -> Result<ChangeAssessment, GovernError> {
        let change = self.change;
        let order = self.order(&change.id)?;
        let mut shift_minutes = None;
        match change.field {
            Field::Due => {
                self.check_before(order.due)?;
                let after: Timestamp = self.read("after", &change.after)?;
                shift_minutes = Some(minutes_between(order.due, after));
            }
            Field::Priority => {
                self.check_before(order.priority)?;
                self.read::<Priority>("after", &change.after)?;
            }
            _ => {
                let claimed: f64 = self.read("before", &change.before)?;
                if (claimed - order.quantity).abs() > 1e-9 * order.quantity.abs().max(1.0) {
                    return Err(stale(self.what(), &change.before, order.quantity));
                }
                self.read::<f64>("after", &change.after)?;
            }
        }
        Ok(ChangeAssessment {
            kinds: vec![ActionKind::ScheduleChange],
            shift_minutes,
            high_priority: order.priority == Priority::High
                || self.raised.contains(change.id.as_str()),
            areas: order.areas,
            before_checked: true,
            site_wide: false,
        })
    }

    fn operation_change(&mut self) -> Result<ChangeAssessment, GovernError> {
        let change = self.change;
        let op: model::OperationRef = change.id.parse().map_err(|e| self.invalid(e))?;
        let order = self.order(op.order.as_str())?;
        if op.step >= order.steps {
            return Err(self.invalid(format!(
                "order `{}` has {} step(s); there is no step {}",
                op.order, order.steps, op.step
            )));
        }
        let dispatch = self.facts.dispatch(op.order.as_str(), op.step);
        let mut assessed = ChangeAssessment {
            kinds: vec![ActionKind::ScheduleChange],
            high_priority: order.priority == Priority::High
                || self.raised.contains(op.order.as_str()),
            areas: order.areas,
            ..ChangeAssessment::default()
        };
        if change.field == Field::Unit {
            let before: Option<String> = self.read_opt("before", &change.before)?;
            let after: Option<String> = self.read_opt("after", &change.after)?;
            if let Some(current) = &dispatch.unit {
                if before.as_ref() != Some(current) {
                    return Err(stale(self.what(), &change.before, current));
                }
                assessed.before_checked = true;
            }
            for unit in before.iter().chain(&after) {
                let facts = self.unit(unit)?;
                assessed.areas.insert(facts.area);
                self.units.insert(unit.clone());
            }
        } else {
            let before: Option<Timestamp> = self.read_opt("before", &change.before)?;
            let after: Option<Timestamp> = self.read_opt("after", &change.after)?;
            if let Some(current) = dispatch.start {
                if before != Some(current) {
                    return Err(stale(self.what(), &change.before, current));
                }
                assessed.before_checked = true;
            }
            if let Some(unit) = &dispatch.unit {
                self.units.insert(unit.clone());
            }
            assessed.shift_minutes = before.zip(after).map(|(b, a)| minutes_between(b, a));
        }
        Ok(assessed)
    }

    fn unit(&self, id: &str) -> Result<UnitFacts, GovernError> {
        self.facts
            .unit(id)
            .ok_or_else(|| self.invalid(format!("the plant has no unit `{id}`")))
    }

    fn pool(&self, id: &str) -> Result<BTreeSet<String>, GovernError> {
        self.facts
            .pool_areas(id)
            .ok_or_else(|| self.invalid(format!("the plant has no pool `{id}`")))
    }

    fn unit_state(&mut self) -> Result<ChangeAssessment, GovernError> {
        let change = self.change;
        let unit = self.unit(&change.id)?;
        let after: EquipmentState = self.read("after", &change.after)?;
        let before_checked = match unit.state {
            Some(current) => {
                self.check_before(current)?;
                true
            }
            None => false,
        };
        self.units.insert(change.id.clone());
        let kinds = if after == EquipmentState::Down {
            vec![ActionKind::QualityHold, ActionKind::ScheduleChange]
        } else if unit.state == Some(EquipmentState::Down) {
            vec![ActionKind::NcDisposition]
        } else {
            vec![ActionKind::ScheduleChange]
        };
        Ok(ChangeAssessment {
            kinds,
            areas: [unit.area].into(),
            before_checked,
            ..ChangeAssessment::default()
        })
    }

    fn member_transfer(&self) -> Result<ChangeAssessment, GovernError> {
        let change = self.change;
        let current = self
            .facts
            .member_pool(&change.id)
            .ok_or_else(|| self.invalid(format!("the plant has no pool member `{}`", change.id)))?;
        self.check_before(current.clone())?;
        let target: String = self.read("after", &change.after)?;
        let mut areas = self.pool(&current)?;
        areas.extend(self.pool(&target)?);
        Ok(ChangeAssessment {
            kinds: vec![ActionKind::ResourceTransfer],
            areas,
            before_checked: true,
            ..ChangeAssessment::default()
        })
    }

    fn lot_state(&self) -> Result<ChangeAssessment, GovernError> {
        let change = self.change;
        let areas = self
            .facts
            .lot_areas(&change.id)
            .ok_or_else(|| self.invalid(format!("the plant has no lot `{}`", change.id)))?;
        let after: String = self.read("after", &change.after)?;
        let kinds = match after.as_str() {
            "held" | "on_hold" | "hold" => vec![ActionKind::QualityHold],
            _ => vec![ActionKind::NcDisposition],
        };
        Ok(ChangeAssessment {
            kinds,
            site_wide: areas.is_empty(),
            areas,
            // Holds are kept by the quality store, not the plant state: the proposer's word.
            before_checked: false,
            ..ChangeAssessment::default()
        })
    }
}

impl Reader<'_> {
    fn hold_value(&self, side: &str, value: &Value) -> Result<Option<HoldValue>, GovernError> {
        let Some(hold) = self.read_opt::<HoldValue>(side, value)? else {
            return Ok(None);
        };
        let chars = hold.reason.chars().count();
        if hold.reason.trim().is_empty() || chars > MAX_HOLD_REASON_CHARS {
            return Err(self.invalid(format!(
                "`{side}.reason`: 1 to {MAX_HOLD_REASON_CHARS} characters ({chars} given)"
            )));
        }
        if !matches!(hold.severity.as_str(), "minor" | "major" | "critical") {
            return Err(self.invalid(format!(
                "`{side}.severity` is `{}`; expected minor, major or critical",
                hold.severity
            )));
        }
        Ok(Some(hold))
    }

    /// A quality hold placed on (or released from) a lot, serial or order.
    fn hold(&self) -> Result<ChangeAssessment, GovernError> {
        let change = self.change;
        let (kind, areas) = match change.entity {
            Entity::Lot => ("lot", self.facts.lot_areas(&change.id)),
            Entity::Serial => ("serial", self.facts.serial_areas(&change.id)),
            _ => ("order", self.facts.order(&change.id).map(|o| o.areas)),
        };
        let areas = areas
            .ok_or_else(|| self.invalid(format!("the plant has no {kind} `{}`", change.id)))?;
        let before = self.hold_value("before", &change.before)?;
        let after = self.hold_value("after", &change.after)?;
        if before.is_some() == after.is_some() {
            return Err(self.invalid(
                "a hold change places a hold (`before` null, `after` the hold) or releases one \
                 (`before` the hold, `after` null)",
            ));
        }
        let key = format!("{kind}:{}", change.id);
        let before_checked = match self.facts.on_hold(&key) {
            Some(held) if held != before.is_some() => {
                let current = if held {
                    Value::String("an active hold".into())
                } else {
                    Value::Null
                };
                return Err(stale(self.what(), &change.before, current));
            }
            Some(_) => true,
            None => false,
        };
        let kinds = if after.is_some() {
            vec![ActionKind::QualityHold]
        } else {
            vec![ActionKind::NcDisposition]
        };
        Ok(ChangeAssessment {
            kinds,
            site_wide: areas.is_empty(),
            areas,
            before_checked,
            ..ChangeAssessment::default()
        })
    }
}

/// Whole minutes from `from` to `to`, rounded away from zero (a move of 60 min and 1 ms is a
/// move of 61 min, so a threshold cannot be slipped under by fractions).
pub fn minutes_between(from: Timestamp, to: Timestamp) -> i64 {
    let ms = to.0 - from.0;
    let minutes = ms.unsigned_abs().div_ceil(60_000) as i64;
    if ms < 0 { -minutes } else { minutes }
}

/// A claim in the draft the assessment contradicted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ClaimCorrection {
    /// The change it belongs to (none: the proposal's own `area`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<usize>,
    /// `shift_minutes`, `high_priority`, `area`.
    pub field: String,
    pub claimed: Value,
    pub computed: Value,
}

/// What the server computed when the proposal was made, beside what the proposer declared.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Checks {
    /// Units whose work, state or calendar changes.
    #[serde(default)]
    pub units: Vec<String>,
    /// Some change acts outside every area (a purchased lot): area scopes do not reach it.
    #[serde(default)]
    pub site_wide: bool,
    /// Whether the KPIs of the evidence are the proposer's claim or recomputed.
    #[serde(default)]
    pub kpis: KpiSource,
    /// Claims the assessment contradicted; the diff and the gate carry the computed values.
    #[serde(default)]
    pub claims_corrected: Vec<ClaimCorrection>,
    /// Changes whose `before` the store could not confirm (the proposer's word).
    #[serde(default)]
    pub unchecked_before: Vec<usize>,
    /// Changes mixplane cannot assess; their presence makes the proposal wait for approval.
    #[serde(default)]
    pub unassessed: Vec<usize>,
}

/// Sets each assessed change's `shift_minutes` and `high_priority` to the computed values,
/// returning what was claimed otherwise.
pub fn correct_claims(diff: &mut [Change], assessment: &Assessment) -> Vec<ClaimCorrection> {
    let mut corrections = Vec::new();
    for (index, (change, real)) in diff.iter_mut().zip(&assessment.changes).enumerate() {
        if real.kinds.is_empty() {
            continue;
        }
        if change.shift_minutes != real.shift_minutes {
            corrections.push(ClaimCorrection {
                change: Some(index),
                field: "shift_minutes".into(),
                claimed: serde_json::json!(change.shift_minutes),
                computed: serde_json::json!(real.shift_minutes),
            });
            change.shift_minutes = real.shift_minutes;
        }
        if change.high_priority != real.high_priority {
            corrections.push(ClaimCorrection {
                change: Some(index),
                field: "high_priority".into(),
                claimed: serde_json::json!(change.high_priority),
                computed: serde_json::json!(real.high_priority),
            });
            change.high_priority = real.high_priority;
        }
    }
    corrections
}

/// Kinds by name, for messages: `schedule_change or resource_transfer`.
pub fn kinds_text(kinds: &[ActionKind]) -> String {
    kinds
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(" or ")
}
