//! A run taken step by step: [`Live`] is the simulation [`crate::simulate`] makes, advanced
//! to a given instant at a time, so a caller (the demo's live plant) can feed its events on
//! as plant time passes and change the plan of what has not started yet.

use model::{Catalog, Event, OrderId, Timestamp, UnitId};

use crate::engine::Sim;
use crate::options::{DriftSpec, Plan, SimError, SimOptions};
use crate::output::Replanned;

/// A simulation run advanced step by step. Advancing it in any number of steps to its end
/// gives exactly the events of one [`crate::simulate`] call with the same catalog, options
/// and plan; [`Live::replan`] changes the plan of operations that have not started, and a
/// run with the same replans at the same plant times gives the same events again.
pub struct Live<'a> {
    sim: Sim<'a>,
}

impl std::fmt::Debug for Live<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live")
            .field("now", &self.now())
            .field("end", &self.end())
            .finish_non_exhaustive()
    }
}

impl<'a> Live<'a> {
    /// A run of `options.days` days from `options.start`, executing `plan` when given, as
    /// [`crate::simulate`] would make it; nothing has happened yet (its time is the start).
    pub fn new(
        catalog: &'a Catalog,
        options: &'a SimOptions,
        plan: Option<&Plan>,
    ) -> Result<Live<'a>, SimError> {
        Ok(Live {
            sim: Sim::new(catalog, options, plan)?,
        })
    }

    /// Processes everything that happens up to and including `t` (never past [`Live::end`])
    /// and returns the events emitted since the last call, in order. An instant at or
    /// before [`Live::now`] returns only what a replan at `now` set off, if anything.
    pub fn advance_to(&mut self, t: Timestamp) -> Vec<Event> {
        self.sim.advance_to(t.0)
    }

    /// Plant time reached: everything up to it has happened.
    pub fn now(&self) -> Timestamp {
        Timestamp(self.sim.now())
    }

    /// The run's first instant.
    pub fn start(&self) -> Timestamp {
        Timestamp(self.sim.bounds().0)
    }

    /// The run's last instant (`start + days`); nothing happens after it.
    pub fn end(&self) -> Timestamp {
        Timestamp(self.sim.bounds().1)
    }

    /// Whether the run has reached its end.
    pub fn finished(&self) -> bool {
        self.sim.now() >= self.sim.bounds().1
    }

    /// Replans the operations `plan` names that have not started: each leaves whatever
    /// unit's sequence held it and joins its unit's sequence at its planned start (behind
    /// the operations planned there no later), to start no earlier than that. Operations
    /// `plan` does not name keep their places; from now on the run executes plans as one
    /// given at the start (an operation no plan holds runs on a unit whose planned sequence
    /// is exhausted, and the built-in rule no longer holds work back for max-wait). An
    /// operation that has started or finished, of an order the run does not know, on a unit
    /// that cannot run it, or whose batch is held in another vessel that can, is skipped
    /// with the reason.
    pub fn replan(&mut self, plan: &Plan) -> Replanned {
        self.sim.replan(plan)
    }

    /// The drifts in force: the options' and those drawn from the seed
    /// (`drifts_per_month`), in that order.
    pub fn drifts(&self) -> &[DriftSpec] {
        self.sim.drifts()
    }

    /// Where and when the run plans `order`'s `step`, if a plan holds it and it has not
    /// started.
    pub fn planned(&self, order: &OrderId, step: u32) -> Option<(UnitId, Timestamp)> {
        self.sim.planned_at(order, step)
    }
}
