//! What the caller controls: run options, injected drifts, an optional plan to execute, the
//! progress callback's payload and the errors a run can end with.

use std::collections::BTreeMap;

use model::{
    Catalog, CharacteristicId, Event, EventKind, MaterialId, OrderId, Routing, RoutingId,
    Timestamp, UnitId,
};
use serde::{Deserialize, Serialize};

/// Options of one simulation run. Same plant + same options (including `seed`) give
/// byte-identical events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimOptions {
    /// Seed of every random stream in the run.
    pub seed: u64,
    /// First simulated instant.
    pub start: Timestamp,
    /// Length of the run in days; events after `start + days` are never emitted.
    pub days: f64,
    /// Inject random breakdowns from each unit's MTBF/MTTR.
    pub breakdowns: bool,
    /// Parameter or characteristic drifts to inject.
    pub drifts: Vec<DriftSpec>,
    /// Let rush orders arrive during the run (released by `order_released` events).
    pub new_orders: bool,
    /// Mean number of arriving orders per day when `new_orders` is on.
    pub new_orders_per_day: f64,
    /// Let customers change released orders (due date, expedite, quantity) or cancel
    /// orders that have not started (`order_changed`, `order_cancelled` events).
    pub order_changes: bool,
    /// Multiplier on the spread (log-sigma) of stochastic durations; 0 makes them exact.
    pub duration_spread: f64,
    /// Mean number of process-parameter drifts per 30 days drawn from the seed, on top of
    /// `drifts`: each starts at a random time, creeps a random parameter of a random step
    /// (of every routing that has it there) out of its window within about two days, and is
    /// found and fixed three to seven days later (its `end_day`). 0 (the default) draws none.
    pub drifts_per_month: f64,
    /// Drawn drifts start no earlier than this many days after `start` (a live run drifts
    /// only past the history it continues, which then stays as it was).
    pub drifts_from_day: f64,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            seed: 7,
            start: Timestamp::parse("2026-03-02T00:00:00Z").expect("valid constant"),
            days: 14.0,
            breakdowns: true,
            drifts: Vec::new(),
            new_orders: true,
            new_orders_per_day: 1.5,
            order_changes: true,
            duration_spread: 1.0,
            drifts_per_month: 0.0,
            drifts_from_day: 0.0,
        }
    }
}

/// What a drift moves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum DriftTarget {
    /// A process parameter of a routing step (0-based `step`), on every routing when
    /// `routing` is none. Parameters feed the lot's quality and, through genealogy, the
    /// defect rates of whatever consumes the lot.
    Parameter {
        #[serde(default)]
        routing: Option<RoutingId>,
        step: u32,
        name: String,
    },
    /// The measured value of an inspection characteristic.
    Characteristic { characteristic: CharacteristicId },
    /// A supplier's bad deliveries: every lot of the purchased `material` received while the
    /// drift is in force carries a defect factor of `shift` (`rate_per_day` must be zero),
    /// which whatever consumes the lot inherits, as it inherits a produced lot's.
    ComponentLot { material: MaterialId },
}

/// A drift: from `start_day` days after the run's start, the target is offset by
/// `shift + rate_per_day * (days since start_day)`.
///
/// In an options document:
/// `{"drifts": [{"target": {"kind": "parameter", "routing": "RCP-EA100", "step": 1,
/// "name": "reactor_temperature"}, "start_day": 5, "rate_per_day": 2}]}` or
/// `{"target": {"kind": "characteristic", "characteristic": "M50-BORE"}, "start_day": 3,
/// "shift": 0.02}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DriftSpec {
    pub target: DriftTarget,
    /// Only on this unit, when given.
    #[serde(default)]
    pub unit: Option<UnitId>,
    pub start_day: f64,
    /// Step change at `start_day`, in the target's unit of measure.
    #[serde(default)]
    pub shift: f64,
    /// Linear creep per day after `start_day`.
    #[serde(default)]
    pub rate_per_day: f64,
    /// When the cause is found and fixed, if it is: no offset from this day on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_day: Option<f64>,
}

impl DriftSpec {
    /// The canonical demo fault: the reactor temperature of the EA-100 epoxy base recipe
    /// (step 2, `React and hold`) creeps up by 2 degC a day from day 5, leaving its
    /// 80-90 degC window after two and a half days. EA-100 bonds the
    /// dispensers, so leak-test failures on the assemblies made from those batches rise.
    pub fn reactor_temperature_creep() -> DriftSpec {
        DriftSpec {
            target: DriftTarget::Parameter {
                routing: Some("RCP-EA100".into()),
                step: 1,
                name: "reactor_temperature".into(),
            },
            unit: None,
            start_day: 5.0,
            shift: 0.0,
            rate_per_day: 2.0,
            end_day: None,
        }
    }

    /// The drift in words: `RCP-EA100 step 2 reactor_temperature +2/day from day 5`.
    pub fn describe(&self) -> String {
        let until = self
            .end_day
            .map_or(String::new(), |end| format!(" to day {end}"));
        match &self.target {
            DriftTarget::Parameter {
                routing,
                step,
                name,
            } => format!(
                "{} step {} {name} {:+}/day from day {}{until}",
                routing.as_ref().map_or("every routing", |r| r.as_str()),
                step + 1,
                self.rate_per_day,
                self.start_day
            ),
            DriftTarget::ComponentLot { material } => format!(
                "bad {material} deliveries (defect factor {}) from day {}{until}",
                self.shift, self.start_day
            ),
            DriftTarget::Characteristic { characteristic } => format!(
                "{characteristic} {:+} and {:+}/day from day {}{until}",
                self.shift, self.rate_per_day, self.start_day
            ),
        }
    }

    /// Offset at `days` days after the run's start.
    pub fn offset_at(&self, days: f64) -> f64 {
        if days < self.start_day || self.end_day.is_some_and(|end| days >= end) {
            0.0
        } else {
            self.shift + self.rate_per_day * (days - self.start_day)
        }
    }
}

/// A schedule to execute: per unit, the operations in the order they must run, each no
/// earlier than its planned start. Operations the plan does not mention are dispatched by
/// the built-in rule on units whose planned sequence is exhausted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub units: BTreeMap<UnitId, Vec<PlannedOperation>>,
}

impl Plan {
    /// The plan a past run actually followed: every `operation_started` of an order in the
    /// catalog's order book, per unit in time order. Replaying it reproduces that run's
    /// sequencing decisions (orders that arrived during the run are left to the dispatcher).
    pub fn from_events(catalog: &Catalog, events: &[Event]) -> Plan {
        let known: std::collections::BTreeSet<&OrderId> =
            catalog.plant().orders.iter().map(|o| &o.id).collect();
        let mut plan = Plan::default();
        for event in events {
            if let EventKind::OperationStarted {
                order, step, unit, ..
            } = &event.kind
                && known.contains(order)
            {
                plan.units
                    .entry(unit.clone())
                    .or_default()
                    .push(PlannedOperation {
                        order: order.clone(),
                        step: *step,
                        start: event.time,
                    });
            }
        }
        plan
    }
}

/// One (order, step) assignment inside a unit's sequence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlannedOperation {
    pub order: OrderId,
    /// 0-based step of the order's routing.
    pub step: u32,
    pub start: Timestamp,
}

/// Reported to the progress callback about once per simulated hour and at the end.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// Simulated time reached.
    pub sim_time: Timestamp,
    /// Fraction of the run done, 0 to 1.
    pub fraction: f64,
    /// Events emitted so far.
    pub events: u64,
}

/// Why a run could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimError {
    #[error("invalid option `{field}`: {message}")]
    Options { field: String, message: String },
    #[error("invalid plan at `{path}`: {message}")]
    Plan { path: String, message: String },
}

/// Checks the options against the plant: ranges, and that drift targets exist.
pub(crate) fn validate_options(cat: &Catalog, opts: &SimOptions) -> Result<(), SimError> {
    let bad = |field: &str, message: String| SimError::Options {
        field: field.to_owned(),
        message,
    };
    if !(opts.days.is_finite() && opts.days > 0.0 && opts.days <= 366.0) {
        return Err(bad(
            "days",
            format!("must be in (0, 366], got {}", opts.days),
        ));
    }
    if !(opts.new_orders_per_day.is_finite() && opts.new_orders_per_day >= 0.0) {
        return Err(bad(
            "new_orders_per_day",
            format!(
                "must be a non-negative number, got {}",
                opts.new_orders_per_day
            ),
        ));
    }
    if !(opts.drifts_per_month.is_finite() && (0.0..=100.0).contains(&opts.drifts_per_month)) {
        return Err(bad(
            "drifts_per_month",
            format!("must be in [0, 100], got {}", opts.drifts_per_month),
        ));
    }
    if !(opts.drifts_from_day.is_finite() && opts.drifts_from_day >= 0.0) {
        return Err(bad(
            "drifts_from_day",
            format!(
                "must be a non-negative number, got {}",
                opts.drifts_from_day
            ),
        ));
    }
    if !(opts.duration_spread.is_finite() && (0.0..=5.0).contains(&opts.duration_spread)) {
        return Err(bad(
            "duration_spread",
            format!("must be in [0, 5], got {}", opts.duration_spread),
        ));
    }
    let plant = cat.plant();
    for (i, d) in opts.drifts.iter().enumerate() {
        let field = format!("drifts[{i}]");
        if !(d.start_day.is_finite() && d.shift.is_finite() && d.rate_per_day.is_finite()) {
            return Err(bad(
                &field,
                "start_day, shift and rate_per_day must be finite".into(),
            ));
        }
        if let Some(end) = d.end_day
            && !(end.is_finite() && end > d.start_day)
        {
            return Err(bad(
                &format!("{field}.end_day"),
                format!(
                    "must be a number after start_day ({}), got {end}",
                    d.start_day
                ),
            ));
        }
        if let Some(u) = &d.unit
            && cat.unit(u).is_none()
        {
            return Err(bad(
                &format!("{field}.unit"),
                format!("unit `{u}` does not exist"),
            ));
        }
        match &d.target {
            DriftTarget::Parameter {
                routing,
                step,
                name,
            } => {
                let routings: Vec<&Routing> = match routing {
                    Some(r) => match cat.routing(r) {
                        Some(x) => vec![x],
                        None => {
                            return Err(bad(
                                &format!("{field}.target.routing"),
                                format!("routing `{r}` does not exist"),
                            ));
                        }
                    },
                    None => plant.routings.iter().collect(),
                };
                let found = routings.iter().any(|r| {
                    r.steps
                        .get(*step as usize)
                        .is_some_and(|s| s.parameters.iter().any(|p| &p.name == name))
                });
                if !found {
                    return Err(bad(
                        &format!("{field}.target"),
                        format!("no routing has parameter `{name}` at step {step}"),
                    ));
                }
            }
            DriftTarget::Characteristic { characteristic } => {
                if cat.characteristic(characteristic).is_none() {
                    return Err(bad(
                        &format!("{field}.target.characteristic"),
                        format!("characteristic `{characteristic}` does not exist"),
                    ));
                }
            }
            DriftTarget::ComponentLot { material } => {
                let purchased = cat.material(material).map(|m| {
                    matches!(
                        m.kind,
                        model::MaterialKind::Raw | model::MaterialKind::Packaging
                    )
                });
                match purchased {
                    None => {
                        return Err(bad(
                            &format!("{field}.target.material"),
                            format!("material `{material}` does not exist"),
                        ));
                    }
                    Some(false) => {
                        return Err(bad(
                            &format!("{field}.target.material"),
                            format!(
                                "material `{material}` is made here, not purchased: drift a parameter of its routing instead"
                            ),
                        ));
                    }
                    Some(true) => {}
                }
                if d.rate_per_day != 0.0 || !(d.shift > 0.0 && d.shift <= 10.0) {
                    return Err(bad(
                        &field,
                        format!(
                            "a component-lot defect takes a defect factor `shift` in (0, 10] and no rate_per_day, got shift {} and rate_per_day {}",
                            d.shift, d.rate_per_day
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}
