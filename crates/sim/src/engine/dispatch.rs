//! The dispatcher: which ready operation starts where. Earliest due date first (orders
//! inside a max-wait window before all others), penalising changeover and CIP time, on the
//! alternative unit that would finish first; a plan's per-unit sequence when one is given.
//! An operation starts only with its pool members (certified for the whole operation) and
//! its materials in stock, and is held back when its successor would overrun max-wait.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use model::*;

use super::*;
use crate::measure::{self, round};

impl<'a> Sim<'a> {
    pub(super) fn dispatch(&mut self) {
        loop {
            let mut candidates = Vec::new();
            for (o, order) in self.orders.iter().enumerate() {
                if !order.released || order.done || order.busy {
                    continue;
                }
                let Some((_, overhead)) = self.best_unit(o) else {
                    continue;
                };
                let key = match order.deadline {
                    Some((deadline, _, _)) => (0, deadline),
                    None => {
                        let bonus = match order.order.priority {
                            Priority::High => -12 * HOUR,
                            Priority::Medium => 0,
                            Priority::Low => 12 * HOUR,
                        };
                        (1, order.order.due.0 + bonus + overhead * 20)
                    }
                };
                candidates.push((key, o));
            }
            if candidates.is_empty() {
                return;
            }
            candidates.sort_unstable();
            let mut started = false;
            for (_, o) in candidates {
                started |= self.try_start(o);
            }
            if !started {
                return;
            }
        }
    }

    pub(super) fn step_def(&self, o: usize) -> &'a Step {
        let routing = &self.cat.plant().routings[self.orders[o].routing];
        &routing.steps[self.orders[o].next_step as usize]
    }

    pub(super) fn product(&self, o: usize) -> &'a MaterialId {
        &self.cat.plant().routings[self.orders[o].routing].product
    }

    /// The changeover key of a product on a unit with a matrix.
    pub(super) fn setup_key(&self, matrix: &ChangeoverMatrix, product: &MaterialId) -> String {
        let cat = self.cat;
        let family = cat.material(product).and_then(|m| m.family.clone());
        match &matrix.keyed_by {
            ChangeoverKey::Family => {
                family.map_or_else(|| product.to_string(), |f| f.0.into_string())
            }
            ChangeoverKey::Attribute { name } => family
                .and_then(|f| {
                    cat.plant().families.iter().find(|x| x.id == f).map(|x| {
                        x.attributes
                            .get(name)
                            .cloned()
                            .unwrap_or_else(|| f.0.to_string())
                    })
                })
                .unwrap_or_else(|| product.to_string()),
        }
    }

    /// CIP and changeover the unit needs before running `o`'s next step, with reasons.
    pub(super) fn overheads(&self, u: usize, o: usize) -> (Option<CipNeed>, Option<SetupNeed>) {
        let unit = &self.units[u];
        if unit.reserved_for == Some(o) {
            return (None, None);
        }
        let def = self.cat.unit(&unit.id).expect("known unit");
        let product = self.product(o);
        let mut cip = None;
        if let Some(rule) = &def.cip {
            let reason = if rule.on_product_change
                && unit.last_product.as_ref().is_some_and(|p| p != product)
            {
                Some("CIP: product change".to_owned())
            } else if rule
                .after_batches
                .is_some_and(|n| unit.batches_since_cip >= n)
            {
                Some(format!(
                    "CIP: after {} batches",
                    rule.after_batches.unwrap_or(0)
                ))
            } else if rule
                .max_run_minutes
                .is_some_and(|m| unit.run_ms_since_cip >= ms(m))
            {
                Some("CIP: maximum run length".to_owned())
            } else {
                None
            };
            cip = reason.map(|r| (rule.duration_minutes, r));
        }
        let mut setup = None;
        if let Some(matrix) = def
            .changeover_matrix
            .as_ref()
            .and_then(|m| self.cat.changeover_matrix(m))
        {
            let key = self.setup_key(matrix, product);
            if let Some(last) = &unit.last_key {
                let (minutes, _) = matrix.lookup(last, &key);
                if minutes > 0.0 {
                    setup = Some((minutes, format!("changeover {last} -> {key}"), key));
                }
            }
        }
        (cip, setup)
    }

    /// Is `unit` too small for a batch of `quantity` while another alternative is not?
    fn too_small(&self, unit: &UnitId, quantity: f64, step: &Step) -> bool {
        let fits = |u: &UnitId| {
            self.cat
                .unit(u)
                .and_then(|d| d.max_batch_size)
                .is_none_or(|m| m + 1e-9 >= quantity)
        };
        !fits(unit) && step.alternatives.iter().any(|a| fits(&a.unit))
    }

    /// The alternative unit that can take `o`'s next step now and finishes it first, with
    /// the changeover and CIP overhead it needs (ms).
    pub(super) fn best_unit(&self, o: usize) -> Option<(usize, i64)> {
        let order = &self.orders[o];
        let step = self.step_def(o);
        let now = self.now;
        let planned = self.planned.contains(&(o, order.next_step));
        let mut best: Option<(i64, usize, i64)> = None;
        for alt in &step.alternatives {
            let u = self.unit_index[&alt.unit];
            let unit = &self.units[u];
            if unit.job.is_some() || unit.broken || unit.in_blackout {
                continue;
            }
            if let Some(r) = unit.reserved_for
                && r != o
            {
                continue;
            }
            if let Some(r) = order.reserved_unit
                && r != u
                && step
                    .alternatives
                    .iter()
                    .any(|a| self.unit_index[&a.unit] == r)
            {
                continue;
            }
            if self.plan_mode {
                if planned {
                    match unit.plan.front() {
                        Some(&(po, ps, t)) if po == o && ps == order.next_step && t <= now => {}
                        _ => continue,
                    }
                } else if !unit.plan.is_empty() {
                    continue;
                }
            }
            // A vessel too small for the batch is skipped, unless none is big enough (the
            // order then runs as one campaign on whichever vessel it gets).
            if order.mode == Mode::Process && self.too_small(&alt.unit, order.quantity, step) {
                continue;
            }
            let Some(window_end) = unit.windows.end_of_window_at(now) else {
                continue;
            };
            let (cip, setup) = self.overheads(u, o);
            let overhead = ms(cip.map_or(0.0, |c| c.0) + setup.map_or(0.0, |s| s.0));
            let mut work = ms(alt.duration.minutes_for(order.quantity));
            if order.mode == Mode::Process {
                // The batch stays in the vessel for the following steps this unit can run.
                let routing = &self.cat.plant().routings[order.routing];
                for next in routing.steps.iter().skip(order.next_step as usize + 1) {
                    match next.alternatives.iter().find(|a| a.unit == alt.unit) {
                        Some(a) => work += ms(a.duration.minutes_for(order.quantity)),
                        None => break,
                    }
                }
                if now + overhead + work > window_end {
                    continue;
                }
            }
            let finish = now + overhead + work;
            if best.is_none_or(|(f, _, _)| finish < f) {
                best = Some((finish, u, overhead));
            }
        }
        best.map(|(_, u, overhead)| (u, overhead))
    }

    /// Free members of each required pool, least-qualified first, whose certification is
    /// still valid at `valid_until`; none if any pool lacks them.
    pub(super) fn pick_members(
        &self,
        step: &Step,
        valid_until: i64,
    ) -> Option<Vec<(usize, usize)>> {
        let now = self.now;
        let mut chosen: Vec<(usize, usize)> = Vec::new();
        for req in &step.pools {
            let p = self.pool_index[&req.pool];
            let pool = &self.pools[p];
            pool.windows.end_of_window_at(now)?;
            let min_level = req.min_level.unwrap_or(1);
            let mut fits: Vec<(u8, usize)> = pool
                .members
                .iter()
                .enumerate()
                .filter(|&(m, member)| !member.busy && !chosen.contains(&(p, m)))
                .filter_map(|(m, member)| match &req.certification {
                    None => Some((0, m)),
                    Some(cert) => member
                        .certs
                        .iter()
                        .find(|(c, level, expires)| {
                            c == cert
                                && *level >= min_level
                                && expires.is_none_or(|e| e > valid_until)
                        })
                        .map(|&(_, level, _)| (level, m)),
                })
                .collect();
            if fits.len() < req.quantity as usize {
                return None;
            }
            fits.sort_unstable();
            chosen.extend(
                fits.iter()
                    .take(req.quantity as usize)
                    .map(|&(_, m)| (p, m)),
            );
        }
        Some(chosen)
    }

    /// Trainees (level 1) scrap more and work slower, experts (level 3) less: the mean over
    /// the certified people assigned of 1.6, 1.0 or 0.7; 1 when no certification applies.
    pub(super) fn skill_factor(&self, members: &[(usize, usize)], step: &Step) -> f64 {
        let mut factors = Vec::new();
        for req in &step.pools {
            let Some(cert) = &req.certification else {
                continue;
            };
            let p = self.pool_index[&req.pool];
            for &(pool, m) in members {
                if pool != p {
                    continue;
                }
                if let Some(&(_, level, _)) = self.pools[p].members[m]
                    .certs
                    .iter()
                    .find(|(c, ..)| c == cert)
                {
                    factors.push(SKILL_FACTORS[usize::from(level.clamp(1, 3)) - 1]);
                }
            }
        }
        if factors.is_empty() {
            1.0
        } else {
            factors.iter().sum::<f64>() / factors.len() as f64
        }
    }

    pub(super) fn needed(&self, use_: &MaterialUse, input: f64) -> f64 {
        let q = use_.per_unit * input;
        if self.is_serial(&use_.material) {
            (q - 1e-9).ceil()
        } else {
            round(q, 3)
        }
    }

    pub(super) fn is_serial(&self, m: &MaterialId) -> bool {
        self.cat
            .material(m)
            .is_some_and(|x| x.tracking == Tracking::Serial)
    }

    pub(super) fn available(&self, m: &MaterialId) -> f64 {
        self.stock
            .get(m)
            .map_or(0.0, |s| s.iter().map(|x| x.quantity).sum())
    }

    /// Would starting `o`'s next step on `u` now make its successor wait longer than the
    /// step's `max_wait_minutes`, given the work already queued for the successor's units
    /// and equipment pools? Holding the predecessor back is how the dispatcher respects
    /// max-wait. For a process batch the chain of steps it runs in the same vessel counts.
    pub(super) fn would_overrun_wait(&self, o: usize, u: usize) -> bool {
        let order = &self.orders[o];
        let routing = &self.cat.plant().routings[order.routing];
        let unit_id = &self.units[u].id;
        let mut lead = 0i64;
        let mut k = order.next_step as usize;
        loop {
            let step = &routing.steps[k];
            let Some(alt) = step.alternatives.iter().find(|a| &a.unit == unit_id) else {
                return false;
            };
            lead += ms(alt.duration.minutes_for(order.quantity));
            if let Some(w) = step.max_wait_minutes {
                let Some(next) = routing.steps.get(k + 1) else {
                    return false;
                };
                return self.successor_backlog(next, o) - lead > ms(w);
            }
            if order.mode != Mode::Process || k + 1 >= routing.steps.len() {
                return false;
            }
            k += 1;
        }
    }

    /// Expected ms until a newly arriving job could start `next`: the work in progress and
    /// queued for its units and equipment pools, divided by how many can run at once.
    pub(super) fn successor_backlog(&self, next: &Step, exclude: usize) -> i64 {
        let units: BTreeSet<usize> = next
            .alternatives
            .iter()
            .map(|a| self.unit_index[&a.unit])
            .collect();
        let pools: BTreeSet<usize> = next
            .pools
            .iter()
            .filter(|r| r.certification.is_none())
            .map(|r| self.pool_index[&r.pool])
            .collect();
        let capacity = pools
            .iter()
            .map(|&p| self.pools[p].members.len())
            .fold(units.len(), usize::min)
            .max(1) as i64;
        let mut load = 0i64;
        for (x, unit) in self.units.iter().enumerate() {
            if let Some(job) = &unit.job
                && (units.contains(&x) || job.op.members.iter().any(|(p, _)| pools.contains(p)))
            {
                load += job.phases.iter().map(|p| p.1).sum::<i64>();
            }
        }
        let plant = self.cat.plant();
        for (y, other) in self.orders.iter().enumerate() {
            if y == exclude || other.done {
                continue;
            }
            let routing = &plant.routings[other.routing];
            let upcoming = if other.busy {
                let current = &routing.steps[other.next_step as usize];
                if current.max_wait_minutes.is_none() {
                    continue;
                }
                other.next_step as usize + 1
            } else if other.deadline.is_some() {
                other.next_step as usize
            } else {
                continue;
            };
            let Some(step) = routing.steps.get(upcoming) else {
                continue;
            };
            let shares = step
                .alternatives
                .iter()
                .any(|a| units.contains(&self.unit_index[&a.unit]))
                || step
                    .pools
                    .iter()
                    .any(|r| pools.contains(&self.pool_index[&r.pool]));
            if shares {
                load += step
                    .alternatives
                    .iter()
                    .map(|a| ms(a.duration.minutes_for(other.quantity)))
                    .min()
                    .unwrap_or(0);
            }
        }
        load / capacity
    }

    pub(super) fn try_start(&mut self, o: usize) -> bool {
        if self.orders[o].busy || self.orders[o].done {
            return false;
        }
        let Some((u, overhead)) = self.best_unit(o) else {
            return false;
        };
        // An order already inside a max-wait window is never held back.
        if !self.plan_mode
            && self.units[u].reserved_for != Some(o)
            && self.orders[o].deadline.is_none()
            && self.would_overrun_wait(o, u)
        {
            return false;
        }
        let step = self.step_def(o);
        let planned_run = step
            .alternatives
            .iter()
            .find(|a| a.unit == self.units[u].id)
            .map_or(0, |a| ms(a.duration.minutes_for(self.orders[o].quantity)));
        let Some(members) = self.pick_members(step, self.now + overhead + planned_run) else {
            return false;
        };
        let input = self.orders[o].quantity;
        for use_ in &step.consumes {
            if self.available(&use_.material) + 1e-9 < self.needed(use_, input) {
                return false;
            }
        }
        // Commit: overheads, members, materials, parameters, the job.
        let now = self.now;
        let (cip, setup) = self.overheads(u, o);
        let spread = self.opts.duration_spread;
        let sigma = match self.orders[o].mode {
            Mode::Process => 0.06,
            Mode::Discrete => 0.12,
            Mode::Repetitive => 0.08,
        } * spread;
        let mut phases = VecDeque::new();
        if let Some((minutes, reason)) = cip {
            let f = self.rng_duration.lognormal_factor(0.1 * spread);
            phases.push_back((Phase::Cleaning, ms(minutes * f).max(1000), Some(reason)));
        }
        if let Some((minutes, reason, _)) = &setup {
            let f = self.rng_duration.lognormal_factor(0.15 * spread);
            phases.push_back((
                Phase::Setup,
                ms(minutes * f).max(1000),
                Some(reason.clone()),
            ));
        }
        let alt = step
            .alternatives
            .iter()
            .find(|a| a.unit == self.units[u].id)
            .expect("best unit is an alternative");
        let f = self.rng_duration.lognormal_factor(sigma);
        let order_id = self.orders[o].order.id.clone();
        let skill = self.skill_factor(&members, step);
        let run_ms = ms(alt.duration.minutes_for(input) * f * (0.92 + 0.08 * skill)).max(1000);
        phases.push_back((
            Phase::Run,
            run_ms,
            Some(format!(
                "order {order_id} step {}",
                self.orders[o].next_step
            )),
        ));
        for &(p, m) in &members {
            self.pools[p].members[m].busy = true;
        }
        let (takes, input_factor) = self.take_materials(step, input);
        self.note_defective_components(&order_id, &takes);
        let next_step = self.orders[o].next_step;
        let unit_id = self.units[u].id.clone();
        let parameters = self.draw_parameters(o, &unit_id, step);
        let order = &mut self.orders[o];
        if let Some(factor) = input_factor {
            order.input_factor = order.input_factor.max(factor);
        }
        if let Some((deadline, allowed, prev_end)) = order.deadline.take()
            && now > deadline
        {
            self.wait_violations.push(MaxWaitViolation {
                order: order_id.clone(),
                step: next_step,
                allowed_minutes: allowed,
                waited_minutes: round((now - prev_end) as f64 / MS_PER_MINUTE as f64, 1),
            });
        }
        order.busy = true;
        order.reserved_unit = None;
        order.first_unit.get_or_insert(u);
        let product = self.product(o).clone();
        let setup_key = setup.map(|s| s.2).or_else(|| {
            self.cat
                .unit(&unit_id)
                .and_then(|d| d.changeover_matrix.as_ref())
                .and_then(|m| self.cat.changeover_matrix(m))
                .map(|m| self.setup_key(m, &product))
        });
        let unit = &mut self.units[u];
        unit.reserved_for = None;
        unit.last_product = Some(product);
        if setup_key.is_some() {
            unit.last_key = setup_key;
        }
        if self.plan_mode
            && unit
                .plan
                .front()
                .is_some_and(|&(po, ps, _)| po == o && ps == next_step)
        {
            unit.plan.pop_front();
        }
        unit.job = Some(Job {
            phases,
            op: Op {
                order: o,
                step: next_step,
                input,
                members,
                takes,
                parameters,
                started: false,
                skill,
            },
        });
        self.advance(u);
        true
    }

    /// Takes the step's materials for `input` from stock, oldest lot first: what was taken,
    /// and the quantity-weighted quality factor of the produced (not purchased) lots.
    fn take_materials(&mut self, step: &Step, input: f64) -> (Vec<Take>, Option<f64>) {
        let mut takes = Vec::new();
        let mut factor_sum = 0.0;
        let mut factor_weight = 0.0;
        // A defective purchased lot (a component-lot drift) adds its factor whole: a bad
        // component spoils the assembly however little of it there is.
        let mut component_factor: Option<f64> = None;
        for use_ in &step.consumes {
            let mut left = self.needed(use_, input);
            let serial = self.is_serial(&use_.material);
            let produced = !is_purchased(self.cat, &use_.material);
            let queue = self.stock.entry(use_.material.clone()).or_default();
            while left > 1e-9 {
                let Some(front) = queue.front_mut() else {
                    break;
                };
                let take = if serial {
                    1.0
                } else {
                    round(left.min(front.quantity), 3)
                };
                front.quantity = round(front.quantity - take, 3);
                left = round(left - take, 3);
                if produced {
                    factor_sum += front.factor * take;
                    factor_weight += take;
                } else if front.factor > 0.0 {
                    component_factor = Some(component_factor.unwrap_or(0.0).max(front.factor));
                }
                takes.push(Take {
                    material: use_.material.clone(),
                    lot: front.lot.clone(),
                    serial: front.serial.clone(),
                    quantity: take,
                });
                if front.quantity <= 1e-9 {
                    queue.pop_front();
                }
            }
        }
        let produced_factor = (factor_weight > 0.0).then(|| factor_sum / factor_weight);
        let factor = match (produced_factor, component_factor) {
            (Some(p), Some(c)) => Some(p + c),
            (p, c) => p.or(c),
        };
        (takes, factor)
    }

    /// Records `order` as affected by each component-lot drift whose lots it took.
    fn note_defective_components(&mut self, order: &OrderId, takes: &[Take]) {
        for (d, lots) in self.drift_lots.iter().enumerate() {
            if matches!(self.drifts[d].target, DriftTarget::ComponentLot { .. })
                && takes
                    .iter()
                    .any(|t| t.lot.as_ref().is_some_and(|l| lots.contains(l)))
            {
                self.drift_orders[d].insert(order.clone());
            }
        }
    }

    /// The step's process parameter values for order `o` on `unit` (with the drifts that
    /// apply now), added to the order's defect factor and temperature index.
    fn draw_parameters(&mut self, o: usize, unit: &UnitId, step: &Step) -> BTreeMap<String, f64> {
        let next_step = self.orders[o].next_step;
        let routing_id = &self.cat.plant().routings[self.orders[o].routing].id;
        let order_id = self.orders[o].order.id.clone();
        let mut parameters = BTreeMap::new();
        let days = (self.now - self.start) as f64 / DAY as f64;
        for p in &step.parameters {
            let mut offset = 0.0;
            for (d, drift) in self.drifts.iter().enumerate() {
                if let DriftTarget::Parameter {
                    routing,
                    step: s,
                    name,
                } = &drift.target
                    && routing.as_ref().is_none_or(|r| r == routing_id)
                    && *s == next_step
                    && name == &p.name
                    && drift.unit.as_ref().is_none_or(|x| x == unit)
                {
                    let off = drift.offset_at(days);
                    if off != 0.0 {
                        offset += off;
                        self.drift_orders[d].insert(order_id.clone());
                    }
                }
            }
            let value = measure::parameter_value(&mut self.rng_params, p, offset);
            let order = &mut self.orders[o];
            order.own_factor += measure::parameter_factor(p, value);
            order.temperature += measure::temperature_index(p, value);
            parameters.insert(p.name.clone(), value);
        }
        parameters
    }
}
