//! Running the engine step by step: advancing the queue to a given instant and handing out
//! the events emitted on the way, and replanning the operations that have not started (what
//! an MES dispatch changes on the plant floor).

use model::*;

use super::*;
use crate::output::{Replanned, SkippedOperation};

impl Sim<'_> {
    /// Processes everything up to `t` (clamped to the run's end) and returns the events
    /// emitted since the last call, in order. The engine's time is then `t`.
    pub(crate) fn advance_to(&mut self, t: i64) -> Vec<Event> {
        let target = t.min(self.end);
        if target >= self.now {
            self.process_until(target, &mut |_, _| {});
            self.now = target;
        }
        std::mem::take(&mut self.events)
    }

    pub(crate) fn now(&self) -> i64 {
        self.now
    }

    pub(crate) fn drifts(&self) -> &[DriftSpec] {
        &self.drifts
    }

    pub(crate) fn bounds(&self) -> (i64, i64) {
        (self.start, self.end)
    }

    /// Moves each operation `plan` names, if it has not started, to its unit's sequence at
    /// its planned start (after the operations planned there no later); the operations it
    /// does not name keep their places. From then on the run executes plans.
    pub(crate) fn replan(&mut self, plan: &Plan) -> Replanned {
        let mut report = Replanned::default();
        for (unit, ops) in &plan.units {
            for op in ops {
                match self.replan_one(unit, op) {
                    Ok(()) => report.applied += 1,
                    Err(reason) => report.skipped.push(SkippedOperation {
                        order: op.order.clone(),
                        step: op.step,
                        unit: unit.clone(),
                        reason,
                    }),
                }
            }
        }
        if report.applied > 0 {
            self.plan_mode = true;
        }
        report
    }

    fn replan_one(&mut self, unit: &UnitId, op: &PlannedOperation) -> Result<(), String> {
        let Some(&u) = self.unit_index.get(unit) else {
            return Err(format!("unit `{unit}` does not exist"));
        };
        let Some(&o) = self.order_index.get(&op.order) else {
            return Err(format!(
                "order `{}` is not one the simulated plant knows",
                op.order
            ));
        };
        let routing = &self.cat.plant().routings[self.orders[o].routing];
        let Some(step) = routing.steps.get(op.step as usize) else {
            return Err(format!("routing `{}` has no step {}", routing.id, op.step));
        };
        if !step.alternatives.iter().any(|a| &a.unit == unit) {
            return Err(format!("unit `{unit}` cannot run this step"));
        }
        let order = &self.orders[o];
        if order.done {
            return Err("the order is finished or cancelled".into());
        }
        if op.step < order.next_step || (op.step == order.next_step && order.busy) {
            return Err("the step has already started".into());
        }
        if let Some(r) = order.reserved_unit
            && r != u
            && step
                .alternatives
                .iter()
                .any(|a| self.unit_index[&a.unit] == r)
        {
            return Err(format!(
                "the batch is held in vessel `{}`, which runs this step",
                self.units[r].id
            ));
        }
        for other in &mut self.units {
            other
                .plan
                .retain(|&(po, ps, _)| !(po == o && ps == op.step));
        }
        self.planned.insert((o, op.step));
        let sequence = &mut self.units[u].plan;
        let at = sequence
            .iter()
            .position(|&(_, _, t)| t > op.start.0)
            .unwrap_or(sequence.len());
        sequence.insert(at, (o, op.step, op.start.0));
        let wake = op.start.0.max(self.now);
        if wake <= self.end {
            self.wake_at(wake);
        }
        Ok(())
    }

    /// Where and when the run plans `order`'s `step`, if a plan holds it.
    pub(crate) fn planned_at(&self, order: &OrderId, step: u32) -> Option<(UnitId, Timestamp)> {
        let &o = self.order_index.get(order)?;
        self.units.iter().find_map(|unit| {
            unit.plan
                .iter()
                .find(|&&(po, ps, _)| po == o && ps == step)
                .map(|&(_, _, t)| (unit.id.clone(), Timestamp(t)))
        })
    }
}
