//! What happens when an operation ends: good and scrap quantities, measurements for the
//! step's inspection plan (per item, per batch or per sampled subgroup of a run), lots,
//! batch ids, lot codes and serials produced, and shipments to the order's customer.

use std::collections::BTreeSet;

use model::*;

use super::*;
use crate::measure::{self, round};

impl Sim<'_> {
    pub(super) fn complete_op(&mut self, u: usize) {
        let now = self.now;
        let job = self.units[u].job.take().expect("completing a job");
        let op = job.op;
        for &(p, m) in &op.members {
            self.pools[p].members[m].busy = false;
        }
        let cat = self.cat;
        let o = op.order;
        let routing = &cat.plant().routings[self.orders[o].routing];
        let step = &routing.steps[op.step as usize];
        let last = op.step as usize + 1 == routing.steps.len();
        let mode = self.orders[o].mode;
        let factor = self.orders[o].input_factor + self.orders[o].own_factor;
        let order_id = self.orders[o].order.id.clone();
        let unit_id = self.units[u].id.clone();

        // Good and scrap quantities, and the measurements of an inspection step.
        let mut results: Vec<EventKind> = Vec::new();
        let good = match mode {
            Mode::Process => {
                // Most of a batch's loss is taken where it is filtered and inspected; the
                // other steps lose only hold-up.
                let loss = 1.0 - routing.expected_yield;
                let share = match (step.inspection.is_some(), routing.steps.len()) {
                    (_, 1) => 1.0,
                    (true, _) => 0.7,
                    (false, n) => 0.3 / (n - 1) as f64,
                };
                let y = 1.0 - loss * share * self.rng_yield.lognormal_factor(0.3);
                round(op.input * y.clamp(0.5, 1.0), 1)
            }
            Mode::Discrete => {
                let n = op.input.round() as u64;
                let failures = if let Some(plan) = &step.inspection {
                    self.inspect_items(o, u, plan, n, factor, &mut results)
                } else {
                    let p = (0.002 + 0.004 * self.orders[o].own_factor) * op.skill;
                    measure::binomial(&mut self.rng_yield, n, p)
                };
                n.saturating_sub(failures) as f64
            }
            Mode::Repetitive => {
                let s = (1.0 - routing.expected_yield)
                    * op.skill
                    * self.rng_yield.lognormal_factor(0.3);
                (op.input * (1.0 - s.min(0.5))).floor()
            }
        };
        if mode != Mode::Discrete
            && let Some(plan) = &step.inspection
        {
            self.inspect_lot(o, u, plan, op.input, factor, &mut results);
        }
        let scrap = round((op.input - good).max(0.0), 3);
        self.emit(EventKind::OperationCompleted {
            order: order_id.clone(),
            step: op.step,
            unit: unit_id,
            good_quantity: good,
            scrap_quantity: scrap,
            parameters: op.parameters,
        });
        let order = &mut self.orders[o];
        order.busy = false;
        order.next_step += 1;
        order.quantity = good;
        order.deadline = step.max_wait_minutes.map(|w| (now + ms(w), w, now));
        if last || good <= 0.0 {
            order.done = true;
            order.deadline = None;
            if !last {
                self.drop_from_plans(o);
            }
        }
        if last && good > 0.0 {
            self.produce(o, good);
        }
        let continues_here = !last
            && good > 0.0
            && !self.plan_mode
            && mode == Mode::Process
            && routing.steps[op.step as usize + 1]
                .alternatives
                .iter()
                .any(|a| a.unit == self.units[u].id);
        if continues_here {
            self.units[u].reserved_for = Some(o);
            self.orders[o].reserved_unit = Some(u);
        } else if cat.unit(&self.units[u].id).is_some_and(|d| d.cip.is_some()) {
            self.units[u].batches_since_cip += 1;
        }
        for kind in results {
            self.emit(kind);
        }
        self.units[u].idle_pending = Some(None);
    }

    pub(super) fn lot_of(&mut self, o: usize) -> LotId {
        if let Some(lot) = &self.orders[o].lot {
            return lot.clone();
        }
        let mode = self.orders[o].mode;
        let unit = self.orders[o].first_unit.map_or_else(
            || "X".to_owned(),
            |u| self.units[u].id.as_str().replace('-', ""),
        );
        let date = date_code(self.now);
        let lot: LotId = match mode {
            Mode::Process => {
                let n = self.next_id("batch");
                format!("B{date}-{unit}-{n:04}").into()
            }
            _ => {
                let n = self.next_id("lotcode");
                format!("LC-{unit}-{date}-{n:04}").into()
            }
        };
        self.orders[o].lot = Some(lot.clone());
        lot
    }

    pub(super) fn new_serial(&mut self, o: usize) -> SerialId {
        let n = self.next_id("serial");
        let product = self
            .product(o)
            .as_str()
            .trim_start_matches("DSP-")
            .to_owned();
        format!("SN-{product}-{}-{n:06}", date_code(self.now)).into()
    }

    pub(super) fn produce(&mut self, o: usize, good: f64) {
        let product = self.product(o).clone();
        let order_id = self.orders[o].order.id.clone();
        let factor = self.orders[o].input_factor + self.orders[o].own_factor;
        if self.is_serial(&product) {
            let n = good.round() as usize;
            let mut serials: Vec<SerialId> =
                self.orders[o].serials.iter().take(n).cloned().collect();
            while serials.len() < n {
                let s = self.new_serial(o);
                serials.push(s);
            }
            let queue = self.stock.entry(product.clone()).or_default();
            for s in &serials {
                queue.push_back(Stock {
                    lot: None,
                    serial: Some(s.clone()),
                    quantity: 1.0,
                    factor,
                });
            }
            self.orders[o].serials = serials.clone();
            self.emit(EventKind::MaterialProduced {
                order: order_id,
                material: product.clone(),
                lot: None,
                serials,
                quantity: n as f64,
            });
        } else {
            let lot = self.lot_of(o);
            for (d, orders) in self.drift_orders.iter().enumerate() {
                if orders.contains(&order_id) {
                    self.drift_lots[d].insert(lot.clone());
                }
            }
            self.stock
                .entry(product.clone())
                .or_default()
                .push_back(Stock {
                    lot: Some(lot.clone()),
                    serial: None,
                    quantity: good,
                    factor,
                });
            self.emit(EventKind::MaterialProduced {
                order: order_id,
                material: product.clone(),
                lot: Some(lot),
                serials: Vec::new(),
                quantity: good,
            });
        }
        let finished = self
            .cat
            .material(&product)
            .is_some_and(|m| m.kind == MaterialKind::Finished);
        if finished && self.orders[o].order.customer.is_some() {
            self.push(self.now + 2 * HOUR, Ev::Ship(o));
        }
    }

    pub(super) fn ship(&mut self, o: usize) {
        let product = self.product(o).clone();
        let Some(customer) = self.orders[o].order.customer.clone() else {
            return;
        };
        let queue = self.stock.entry(product.clone()).or_default();
        if self
            .cat
            .material(&product)
            .is_some_and(|m| m.tracking == Tracking::Serial)
        {
            let wanted: BTreeSet<SerialId> = self.orders[o].serials.iter().cloned().collect();
            let before = queue.len();
            let mut shipped = Vec::new();
            queue.retain(|s| match &s.serial {
                Some(x) if wanted.contains(x) => {
                    shipped.push(x.clone());
                    false
                }
                _ => true,
            });
            debug_assert_eq!(before - queue.len(), shipped.len());
            if shipped.is_empty() {
                return;
            }
            let quantity = shipped.len() as f64;
            self.emit(EventKind::MaterialShipped {
                material: product,
                lot: None,
                serials: shipped,
                quantity,
                customer,
            });
        } else {
            let Some(lot) = self.orders[o].lot.clone() else {
                return;
            };
            let mut quantity = 0.0;
            for s in queue.iter_mut() {
                if s.lot.as_ref() == Some(&lot) {
                    quantity += s.quantity;
                    s.quantity = 0.0;
                }
            }
            queue.retain(|s| s.quantity > 1e-9);
            if quantity <= 0.0 {
                return;
            }
            self.emit(EventKind::MaterialShipped {
                material: product,
                lot: Some(lot),
                serials: Vec::new(),
                quantity: round(quantity, 3),
                customer,
            });
        }
    }

    pub(super) fn characteristic_offset(
        &mut self,
        o: usize,
        u: usize,
        c: &CharacteristicId,
    ) -> f64 {
        let days = (self.now - self.start) as f64 / DAY as f64;
        let mut offset = 0.0;
        for (d, drift) in self.drifts.iter().enumerate() {
            if let DriftTarget::Characteristic { characteristic } = &drift.target
                && characteristic == c
                && drift.unit.as_ref().is_none_or(|x| x == &self.units[u].id)
            {
                let off = drift.offset_at(days);
                if off != 0.0 {
                    offset += off;
                    self.drift_orders[d].insert(self.orders[o].order.id.clone());
                }
            }
        }
        offset
    }

    pub(super) fn next_sample(&mut self, c: &CharacteristicId) -> u64 {
        let n = self.samples.entry(c.clone()).or_insert(0);
        *n += 1;
        *n
    }

    /// Measures every item of a discrete inspection step; returns the number that failed.
    pub(super) fn inspect_items(
        &mut self,
        o: usize,
        u: usize,
        plan: &InspectionPlanId,
        n: u64,
        factor: f64,
        out: &mut Vec<EventKind>,
    ) -> u64 {
        let cat = self.cat;
        let Some(plan) = cat.plant().inspection_plans.iter().find(|p| &p.id == plan) else {
            return 0;
        };
        let order = Some(self.orders[o].order.id.clone());
        let unit = Some(self.units[u].id.clone());
        let temperature = self.orders[o].temperature;
        let mut serials = Vec::with_capacity(n as usize);
        for _ in 0..n {
            let s = self.new_serial(o);
            serials.push(s);
        }
        let mut failed = vec![false; n as usize];
        for c in &plan.characteristics {
            let offset = self.characteristic_offset(o, u, &c.id);
            use model::ChartKind::*;
            match c.chart {
                Imr | Ewma | Cusum => {
                    for (i, serial) in serials.iter().enumerate() {
                        let v = measure::variable_value(
                            &mut self.rng_quality,
                            c,
                            factor,
                            temperature,
                            offset,
                        );
                        if measure::out_of_spec(c, v) {
                            failed[i] = true;
                        }
                        let sample = Some(self.next_sample(&c.id));
                        out.push(EventKind::QualityResultRecorded {
                            characteristic: c.id.clone(),
                            value: v,
                            sample,
                            sample_size: None,
                            order: order.clone(),
                            lot: None,
                            serial: Some(serial.clone()),
                            unit: unit.clone(),
                        });
                    }
                }
                XbarR | XbarS => {
                    let size = c.subgroup_size.max(1) as usize;
                    let groups = ((n as usize) / 25).max(1);
                    for g in 0..groups {
                        let sample = Some(self.next_sample(&c.id));
                        for k in 0..size.min(n as usize) {
                            let i = (g * 25 + k) % n.max(1) as usize;
                            let v = measure::variable_value(
                                &mut self.rng_quality,
                                c,
                                factor,
                                temperature,
                                offset,
                            );
                            out.push(EventKind::QualityResultRecorded {
                                characteristic: c.id.clone(),
                                value: v,
                                sample,
                                sample_size: None,
                                order: order.clone(),
                                lot: None,
                                serial: serials.get(i).cloned(),
                                unit: unit.clone(),
                            });
                        }
                    }
                }
                _ => {}
            }
        }
        // Function failures beyond the measured characteristics.
        for f in failed.iter_mut() {
            if self.rng_quality.chance(0.003 + 0.02 * factor) {
                *f = true;
            }
        }
        let failures = failed.iter().filter(|&&f| f).count() as u64;
        for c in &plan.characteristics {
            use model::ChartKind::*;
            let offset = self.characteristic_offset(o, u, &c.id);
            let (value, size) = match c.chart {
                P | Np => (failures as f64 + offset.max(0.0).round(), n as f64),
                C | U => (
                    measure::poisson(
                        &mut self.rng_quality,
                        (c.target * (1.0 + factor) + offset).max(0.0),
                    ) as f64,
                    n as f64,
                ),
                _ => continue,
            };
            let sample = Some(self.next_sample(&c.id));
            out.push(EventKind::QualityResultRecorded {
                characteristic: c.id.clone(),
                value,
                sample,
                sample_size: Some(size.max(1.0)),
                order: order.clone(),
                lot: None,
                serial: None,
                unit: unit.clone(),
            });
        }
        self.orders[o].serials = serials
            .into_iter()
            .zip(failed)
            .filter(|(_, f)| !f)
            .map(|(s, _)| s)
            .collect();
        failures
    }

    /// Measures a batch (one result or subgroup per characteristic) or a repetitive run
    /// (one result or subgroup per 100 units, at most 20).
    pub(super) fn inspect_lot(
        &mut self,
        o: usize,
        u: usize,
        plan: &InspectionPlanId,
        input: f64,
        factor: f64,
        out: &mut Vec<EventKind>,
    ) {
        let cat = self.cat;
        let Some(plan) = cat.plant().inspection_plans.iter().find(|p| &p.id == plan) else {
            return;
        };
        let order = Some(self.orders[o].order.id.clone());
        let unit = Some(self.units[u].id.clone());
        let lot = Some(self.lot_of(o));
        let temperature = self.orders[o].temperature;
        let groups = if self.orders[o].mode == Mode::Process {
            1
        } else {
            ((input / 100.0) as usize).clamp(1, 20)
        };
        for c in &plan.characteristics {
            let offset = self.characteristic_offset(o, u, &c.id);
            for _ in 0..groups {
                let sample = Some(self.next_sample(&c.id));
                if measure::is_variable(c) {
                    let size = match c.chart {
                        ChartKind::XbarR | ChartKind::XbarS => c.subgroup_size.max(1),
                        _ => 1,
                    };
                    for _ in 0..size {
                        let v = measure::variable_value(
                            &mut self.rng_quality,
                            c,
                            factor,
                            temperature,
                            offset,
                        );
                        out.push(EventKind::QualityResultRecorded {
                            characteristic: c.id.clone(),
                            value: v,
                            sample,
                            sample_size: None,
                            order: order.clone(),
                            lot: lot.clone(),
                            serial: None,
                            unit: unit.clone(),
                        });
                    }
                } else {
                    let (value, size) = match c.chart {
                        ChartKind::Np | ChartKind::P => {
                            let p = if c.chart == ChartKind::Np {
                                c.target / 50.0
                            } else {
                                c.target
                            };
                            // Kit completeness does not depend on upstream lot quality.
                            let p = (p + offset / 50.0).clamp(0.0, 1.0);
                            (
                                measure::binomial(&mut self.rng_quality, 50, p) as f64,
                                Some(50.0),
                            )
                        }
                        _ => {
                            let lambda = (c.target * (1.0 + factor) + offset).max(0.0);
                            let size = (c.chart == ChartKind::U).then_some(1.0);
                            (measure::poisson(&mut self.rng_quality, lambda) as f64, size)
                        }
                    };
                    out.push(EventKind::QualityResultRecorded {
                        characteristic: c.id.clone(),
                        value,
                        sample,
                        sample_size: size,
                        order: order.clone(),
                        lot: lot.clone(),
                        serial: None,
                        unit: unit.clone(),
                    });
                }
            }
        }
    }
}
