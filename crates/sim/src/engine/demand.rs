//! Demand and supply around the order book: rush orders arriving during the run and the
//! make-to-stock orders planned to feed them (a small MRP), customers' changes and
//! cancellations, and the purchased-material receipts (opening stock, deliveries ahead of
//! each three-day window, expedites).

use std::collections::{BTreeMap, BTreeSet};

use model::*;

use super::*;

/// How long before its promised time a purchased receipt is announced.
const RECEIPT_NOTICE: i64 = 3 * DAY;
/// How long before the promised time a supplier warns of a late delivery, when it does.
const SLIP_NOTICE: i64 = 12 * HOUR;
/// The share of deliveries (after the opening lots) that arrive late.
const LATE_SHARE: f64 = 0.2;

impl Sim<'_> {
    /// Rush orders arriving as a Poisson stream, for finished products; their produced
    /// inputs are replenished by make-to-stock orders when they would run short.
    pub(super) fn plan_arrivals(&mut self) {
        if !self.opts.new_orders || self.opts.new_orders_per_day <= 0.0 {
            return;
        }
        let cat = self.cat;
        let plant = cat.plant();
        let candidates: Vec<&Routing> = plant
            .routings
            .iter()
            .filter(|r| {
                cat.material(&r.product)
                    .is_some_and(|m| m.kind == MaterialKind::Finished)
            })
            .collect();
        if candidates.is_empty() {
            return;
        }
        let customers: BTreeSet<&str> = plant
            .orders
            .iter()
            .filter_map(|o| o.customer.as_deref())
            .collect();
        let customers: Vec<&str> = if customers.is_empty() {
            vec!["Walk-in customer"]
        } else {
            customers.into_iter().collect()
        };
        let mut rng = Rng::derive(self.seed, "arrivals");
        let mut t = self.start as f64;
        let mut k = 0;
        loop {
            t += rng.exponential(DAY as f64 / self.opts.new_orders_per_day);
            if t >= self.end as f64 {
                break;
            }
            let routing = *rng.pick(&candidates);
            let examples: Vec<f64> = plant
                .orders
                .iter()
                .filter(|o| o.routing == routing.id)
                .map(|o| o.quantity)
                .collect();
            let quantity = if examples.is_empty() {
                routing.batch_size.unwrap_or(100.0)
            } else {
                *rng.pick(&examples)
            };
            let release = Timestamp((t / 60_000.0).round() as i64 * 60_000);
            let due_raw = release.0 + (3 + rng.below(3) as i64) * DAY;
            let due = Timestamp(due_raw - due_raw.rem_euclid(HOUR));
            k += 1;
            let order = ProductionOrder {
                id: format!("RUSH-{}-{k:03}", self.seed).into(),
                product: routing.product.clone(),
                routing: routing.id.clone(),
                quantity,
                release,
                due,
                priority: if rng.chance(0.5) {
                    Priority::High
                } else {
                    Priority::Medium
                },
                customer: Some((*rng.pick(&customers)).to_owned()),
            };
            let a = self.arrivals.len();
            self.arrivals.push(order);
            self.push(release.0, Ev::Arrival(a));
        }
    }

    /// Customers change some released make-to-order orders: due dates move, a few are
    /// expedited, quantities change or orders are cancelled before they start.
    pub(super) fn plan_changes(&mut self) {
        if !self.opts.order_changes {
            return;
        }
        let mut rng = Rng::derive(self.seed, "order-changes");
        for o in 0..self.orders.len() {
            let order = &self.orders[o].order;
            if order.customer.is_none() {
                continue;
            }
            let draw = rng.uniform();
            let window = (order.due.0 - order.release.0).max(HOUR);
            let at = order.release.0.max(self.start) + (rng.uniform() * 0.5 * window as f64) as i64;
            let at = at - at.rem_euclid(60_000);
            let change = if draw < 0.05 {
                Change::Due(o, [-24, 24, 48][rng.below(3) as usize])
            } else if draw < 0.08 {
                Change::Expedite(o)
            } else if draw < 0.11 && self.orders[o].mode != Mode::Process {
                Change::Quantity(o, [0.8, 1.2][rng.below(2) as usize])
            } else if draw < 0.13 {
                Change::Cancel(
                    o,
                    if rng.chance(0.5) {
                        "customer cancelled the order"
                    } else {
                        "order merged into a later delivery"
                    },
                )
            } else {
                continue;
            };
            let c = self.changes.len();
            self.changes.push(change);
            self.push(at, Ev::Change(c));
        }
    }

    pub(super) fn change(&mut self, c: usize) {
        let change = self.changes[c].clone();
        let o = match change {
            Change::Due(o, _)
            | Change::Expedite(o)
            | Change::Quantity(o, _)
            | Change::Cancel(o, _) => o,
        };
        let order = &self.orders[o];
        if !order.released || order.done {
            return;
        }
        let untouched = order.next_step == 0 && !order.busy;
        let id = order.order.id.clone();
        match change {
            Change::Due(_, hours) => {
                let due =
                    Timestamp((order.order.due.0 + hours * HOUR).max(order.order.release.0 + HOUR));
                self.orders[o].order.due = due;
                self.emit(EventKind::OrderChanged {
                    order: id,
                    quantity: None,
                    due: Some(due),
                    priority: None,
                });
            }
            Change::Expedite(_) => {
                if order.order.priority == Priority::High {
                    return;
                }
                self.orders[o].order.priority = Priority::High;
                self.emit(EventKind::OrderChanged {
                    order: id,
                    quantity: None,
                    due: None,
                    priority: Some(Priority::High),
                });
            }
            Change::Quantity(_, factor) => {
                if !untouched {
                    return;
                }
                let quantity = (order.order.quantity * factor / 10.0).round().max(1.0) * 10.0;
                self.orders[o].order.quantity = quantity;
                self.orders[o].quantity = quantity;
                self.emit(EventKind::OrderChanged {
                    order: id,
                    quantity: Some(quantity),
                    due: None,
                    priority: None,
                });
            }
            Change::Cancel(_, reason) => {
                if !untouched {
                    return;
                }
                self.orders[o].done = true;
                self.drop_from_plans(o);
                self.orders[o].deadline = None;
                if let Some(u) = self.orders[o].reserved_unit.take() {
                    self.units[u].reserved_for = None;
                }
                self.emit(EventKind::OrderCancelled {
                    order: id,
                    reason: reason.to_owned(),
                });
            }
        }
    }

    /// Purchased material arrives in lots, each announced by a `receipt_expected` three
    /// days ahead (or when it is ordered) and named by its `material_received`: an opening lot at the start and then one lot
    /// per material every three days (the day before each window), sized from the order
    /// book's requirements with a 20% margin.
    pub(super) fn plan_receipts(&mut self) {
        const WINDOW: i64 = 3 * DAY;
        let cat = self.cat;
        let plant = cat.plant();
        let mut demand: BTreeMap<(MaterialId, i64), f64> = BTreeMap::new();
        for o in &plant.orders {
            let b = (o.release.0.max(self.start) - self.start) / WINDOW;
            let routing = cat.routing(&o.routing).expect("validated");
            for s in &routing.steps {
                for u in &s.consumes {
                    if is_purchased(cat, &u.material) {
                        *demand.entry((u.material.clone(), b)).or_insert(0.0) +=
                            u.per_unit * o.quantity;
                    }
                }
            }
        }
        for ((material, b), qty) in demand {
            let t = if b == 0 {
                self.start
            } else {
                self.start + b * WINDOW - 17 * HOUR
            };
            // Announced within the run, even when it arrives after it: a longer run of the
            // same seed has the same past.
            if t - RECEIPT_NOTICE > self.end {
                continue;
            }
            self.schedule_receipt(t, &material, qty * 1.2, false);
        }
    }

    pub(super) fn schedule_receipt(
        &mut self,
        t: i64,
        material: &MaterialId,
        qty: f64,
        expedited: bool,
    ) {
        let cat = self.cat;
        let counted = cat.material(material).is_some_and(|m| m.uom == "ea");
        let pack = if counted { 100.0 } else { 25.0 };
        let suppliers = match cat.material(material).map(|m| m.kind) {
            Some(MaterialKind::Packaging) => SUPPLIERS[2],
            _ if counted => SUPPLIERS[1],
            _ => SUPPLIERS[0],
        };
        let quantity = (qty / pack).ceil().max(1.0) * pack;
        let h = material
            .as_str()
            .bytes()
            .fold(0usize, |a, b| a.wrapping_mul(31).wrapping_add(b as usize));
        let r = self.receipts.len();
        // Named by what it is, not by its place in the list, which a longer run changes.
        let name = if expedited {
            format!("X{:04}-{material}", self.next_id("expedite"))
        } else {
            format!("{}-{material}", date_code(t))
        };
        // The opening lots are on hand at the start; any later delivery may be late.
        let (delay, notice) = if t > self.start {
            receipt_delay(&mut Rng::derive(self.seed, &format!("receipt:{name}")))
        } else {
            (0, false)
        };
        self.receipts.push(Receipt {
            id: format!("RCV-{name}").into(),
            purchase_order: format!("PO-{name}"),
            time: t,
            arrives: t + delay,
            expedited,
            material: material.clone(),
            quantity,
            supplier: suppliers[h % suppliers.len()].to_owned(),
        });
        // Announced a window ahead (or as soon as ordered), before the delivery itself.
        let announced = (t - RECEIPT_NOTICE).max(self.now).max(self.start);
        self.push(announced, Ev::Announce(r));
        if notice {
            self.push((t - SLIP_NOTICE).max(announced), Ev::Slip(r));
        }
        self.push(t + delay, Ev::Receipt(r));
    }

    /// The supplier's `receipt_expected` for receipt `r`: its promised time, or when it
    /// `slipped`, the time it will really come.
    pub(super) fn announce(&mut self, r: usize, slipped: bool) {
        let receipt = &self.receipts[r];
        let expected = if slipped {
            receipt.arrives
        } else {
            receipt.time
        };
        self.emit(EventKind::ReceiptExpected {
            receipt: receipt.id.clone(),
            material: receipt.material.clone(),
            quantity: receipt.quantity,
            expected: Timestamp(expected),
            supplier: Some(receipt.supplier.clone()),
            purchase_order: Some(receipt.purchase_order.clone()),
        });
    }

    /// An order that was not in the book: release it, expedite its purchased inputs and
    /// plan replenishment batches or assemblies for the produced inputs it would run short of.
    pub(super) fn arrive(&mut self, order: ProductionOrder, depth: u32) {
        let o = self.add_order(order);
        self.release(o);
        let cat = self.cat;
        let routing = &cat.plant().routings[self.orders[o].routing];
        let qty = self.orders[o].order.quantity;
        for s in &routing.steps {
            for u in &s.consumes {
                if is_purchased(cat, &u.material) {
                    // Expedited from a distributor rather than on the supplier's lead time.
                    self.schedule_receipt(
                        self.now + 12 * HOUR,
                        &u.material,
                        u.per_unit * qty * 1.1,
                        true,
                    );
                } else if depth < 4 {
                    self.replenish(&u.material, depth + 1);
                }
            }
        }
    }

    /// Stock plus what open orders will still make, minus what open orders will still
    /// consume.
    pub(super) fn projected_balance(&self, m: &MaterialId) -> f64 {
        let plant = self.cat.plant();
        let mut balance = self.available(m);
        for o in &self.orders {
            if o.done {
                continue;
            }
            let routing = &plant.routings[o.routing];
            if &routing.product == m {
                balance += o.quantity * routing.expected_yield;
            }
            for (k, step) in routing.steps.iter().enumerate() {
                let k = k as u32;
                if k < o.next_step || (k == o.next_step && o.busy) {
                    continue;
                }
                for u in &step.consumes {
                    if &u.material == m {
                        balance -= u.per_unit * o.quantity;
                    }
                }
            }
        }
        balance
    }

    /// Make-to-stock orders (an MRP run for one material) until its projected balance is
    /// no longer negative.
    pub(super) fn replenish(&mut self, m: &MaterialId, depth: u32) {
        let plant = self.cat.plant();
        let Some(routing) = plant.routings.iter().find(|r| &r.product == m) else {
            return;
        };
        let mut balance = self.projected_balance(m);
        while balance < -1e-6 {
            let quantity = match routing.batch_size {
                Some(batch) => batch,
                None => {
                    let typical = plant
                        .orders
                        .iter()
                        .filter(|o| o.routing == routing.id)
                        .map(|o| o.quantity)
                        .fold(0.0, f64::max);
                    ((-balance / routing.expected_yield).max(typical) / 10.0).ceil() * 10.0
                }
            };
            let n = self.next_id("mrp");
            let order = ProductionOrder {
                id: format!("MRP-{}-{n:03}", self.seed).into(),
                product: m.clone(),
                routing: routing.id.clone(),
                quantity,
                release: Timestamp(self.now),
                due: Timestamp(self.now + 36 * HOUR),
                priority: Priority::High,
                customer: None,
            };
            self.replenished.push(order.id.clone());
            self.arrive(order, depth);
            balance += quantity * routing.expected_yield;
        }
    }
}

/// Whether a delivery is late, by how long, and whether the supplier says so ahead:
/// [`LATE_SHARE`] of deliveries come 4 to 48 hours late, half of them announced again
/// [`SLIP_NOTICE`] before the promised time, the rest simply overdue. Drawn from a generator
/// of the receipt's own, so one receipt's luck does not depend on how many came before.
fn receipt_delay(rng: &mut Rng) -> (i64, bool) {
    if !rng.chance(LATE_SHARE) {
        return (0, false);
    }
    let hours = 4 + rng.below(45) as i64;
    (hours * HOUR, rng.chance(0.5))
}
