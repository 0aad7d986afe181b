//! A unit's work in segments: the equipment state it reports, a segment of its current
//! phase (CIP, changeover, run) that stops at the end of its calendar window, at a breakdown
//! (time to failure counts busy time) or when the phase is done, and the breakdown itself.

use model::*;

use super::*;

impl Sim<'_> {
    pub(super) fn set_state(&mut self, u: usize, state: EquipmentState, reason: Option<String>) {
        let now = self.now;
        let unit = &mut self.units[u];
        if unit.emitted == state {
            return;
        }
        unit.state_ms[state_index(unit.emitted)] += now - unit.since;
        unit.since = now;
        unit.emitted = state;
        let id = unit.id.clone();
        self.emit(EventKind::EquipmentStateChanged {
            unit: id,
            state,
            reason,
        });
    }

    /// A unit back from a repair or maintenance: its paused job continues, or it becomes
    /// idle unless the dispatcher gives it work at this same instant.
    pub(super) fn resume(&mut self, u: usize, reason: &str) {
        if self.units[u].job.is_some() {
            self.advance(u);
        } else {
            self.units[u].idle_pending = Some(Some(reason.to_owned()));
        }
    }

    /// Reports `idle` for units that finished or came back at this instant and got no new
    /// work, so a unit that goes straight on to its next operation shows no idle blip.
    pub(super) fn flush_idle(&mut self) {
        for u in 0..self.units.len() {
            let Some(reason) = self.units[u].idle_pending.take() else {
                continue;
            };
            let unit = &self.units[u];
            if unit.job.is_none() && !unit.broken && !unit.in_blackout {
                self.set_state(u, EquipmentState::Idle, reason);
            }
        }
    }

    /// Starts the next segment of the unit's job if it can progress now.
    pub(super) fn advance(&mut self, u: usize) {
        let now = self.now;
        {
            let unit = &self.units[u];
            if unit.broken || unit.in_blackout || unit.segment.is_some() || unit.job.is_none() {
                return;
            }
        }
        let Some(window_end) = self.units[u].windows.end_of_window_at(now) else {
            self.set_state(u, EquipmentState::Idle, Some("off shift".into()));
            return;
        };
        let (phase, remaining, reason) = {
            let job = self.units[u].job.as_ref().expect("checked");
            let (p, r, reason) = job.phases.front().expect("a job has a phase");
            (*p, *r, reason.clone())
        };
        if phase == Phase::Run && !self.units[u].job.as_ref().expect("checked").op.started {
            self.start_run(u);
        }
        let state = match phase {
            Phase::Cleaning => EquipmentState::Cleaning,
            Phase::Setup => EquipmentState::Setup,
            Phase::Run => EquipmentState::Running,
        };
        self.set_state(u, state, reason);
        let unit = &mut self.units[u];
        let mut seg = remaining.min(window_end - now);
        if let Some(ttf) = unit.ttf_ms {
            seg = seg.min(ttf.max(0));
        }
        unit.segment = Some(now);
        unit.token += 1;
        let token = unit.token;
        self.push(now + seg, Ev::SegmentEnd(u, token));
    }

    pub(super) fn start_run(&mut self, u: usize) {
        let job = self.units[u].job.as_mut().expect("running a job");
        job.op.started = true;
        let op = job.op.clone();
        let order = self.orders[op.order].order.id.clone();
        for t in &op.takes {
            self.emit(EventKind::MaterialConsumed {
                order: order.clone(),
                step: op.step,
                material: t.material.clone(),
                lot: t.lot.clone(),
                serial: t.serial.clone(),
                quantity: t.quantity,
            });
        }
        let members = op
            .members
            .iter()
            .map(|&(p, m)| self.cat.plant().pools[p].members[m].id.clone())
            .collect();
        let unit = self.units[u].id.clone();
        self.emit(EventKind::OperationStarted {
            order,
            step: op.step,
            unit,
            members,
        });
    }

    pub(super) fn segment_end(&mut self, u: usize, token: u64) {
        let now = self.now;
        let unit = &mut self.units[u];
        if unit.token != token {
            return;
        }
        let Some(seg_start) = unit.segment.take() else {
            return;
        };
        let elapsed = now - seg_start;
        if let Some(ttf) = unit.ttf_ms.as_mut() {
            *ttf -= elapsed;
        }
        let mut completed_run = false;
        if let Some(job) = unit.job.as_ref() {
            // Pool members count as busy while the unit works, not while it is paused.
            for &(p, _) in &job.op.members {
                self.pools[p].busy_ms += elapsed;
            }
        }
        if let Some(job) = unit.job.as_mut() {
            let front = job.phases.front_mut().expect("a job has a phase");
            front.1 -= elapsed;
            if front.0 == Phase::Run {
                unit.run_ms_since_cip += elapsed;
            }
            if front.1 <= 0 {
                let (phase, _, _) = job.phases.pop_front().expect("front exists");
                match phase {
                    Phase::Cleaning => {
                        unit.batches_since_cip = 0;
                        unit.run_ms_since_cip = 0;
                        self.cip_cycles += 1;
                    }
                    Phase::Setup => self.changeovers += 1,
                    Phase::Run => completed_run = true,
                }
            }
        }
        if completed_run {
            self.complete_op(u);
        }
        if self.units[u].ttf_ms.is_some_and(|t| t <= 0) {
            self.breakdown(u);
        } else {
            self.advance(u);
        }
    }

    pub(super) fn breakdown(&mut self, u: usize) {
        let cat = self.cat;
        let unit_def = cat.unit(&self.units[u].id).expect("known unit");
        let (mtbf, mttr) = (
            unit_def.mtbf_hours.unwrap_or(1e9),
            unit_def.mttr_hours.unwrap_or(1.0),
        );
        let mode_index = match self.units[u].mode {
            Mode::Discrete => 0,
            Mode::Process if unit_def.max_batch_size.is_some() => 1,
            Mode::Process => 2,
            Mode::Repetitive => 3,
        };
        let unit = &mut self.units[u];
        let repair_minutes = round((mttr * 60.0 * unit.rng.lognormal_factor(0.5)).max(5.0), 1);
        let failure_mode = (*unit.rng.pick(FAILURES[mode_index])).to_owned();
        unit.ttf_ms = Some(ms(unit.rng.exponential(mtbf) * 60.0).max(MS_PER_MINUTE));
        unit.broken = true;
        let order = unit
            .job
            .as_ref()
            .map(|j| self.orders[j.op.order].order.id.clone());
        let end = self.now + ms(repair_minutes);
        self.truth_breakdowns.push(BreakdownTruth {
            unit: self.units[u].id.clone(),
            start: Timestamp(self.now),
            end: Timestamp(end),
            repair_minutes,
            failure_mode: failure_mode.clone(),
            order,
        });
        self.set_state(
            u,
            EquipmentState::Down,
            Some(format!("breakdown: {failure_mode}")),
        );
        self.push(end, Ev::Repaired(u));
    }
}
