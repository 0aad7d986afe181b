//! Which stored events call for a reaction, and which one: the pure half of the live agents.
//!
//! A burst of events becomes at most one [`Reaction`] of each kind, so that five downtimes
//! reported in the same second give one repair of the plan, not five. Events that the plan
//! in force already reflects are not triggers: those the governor wrote when a proposal was
//! applied (source [`GOVERNOR_SOURCE`]), dispatches, and the shop floor's own progress
//! (operations started and completed, quality results, consumption, production, shipments).
//!
//! A receipt is late when a `receipt_expected` moves an expected receipt later than it was
//! last seen, when one is cancelled, or when the plant clock passes its expected time before
//! it is received; a late receipt of material open work consumes is a `Materials` reaction.
//! A receipt announced for the first time, or moved earlier, is none: it only adds supply.

use std::collections::{BTreeMap, BTreeSet};

use model::{
    Catalog, EquipmentState, EventKind, MaterialId, OrderStatus, PlantState, Priority, Timestamp,
};
use store::StoredEvent;

/// The source the simulated MES sink gives the events it appends for an applied proposal
/// (`govern::mes::events_for`): the plan in force already holds what they say.
pub const GOVERNOR_SOURCE: &str = "mixplane-governor";

/// What the agents do about a burst of events.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reaction {
    /// Units went down (or came back up): the plan in force is repaired around them.
    Equipment {
        down: Vec<String>,
        up: Vec<String>,
        events: Vec<String>,
    },
    /// Orders released, changed or cancelled: the plan is made again around them, with
    /// what-ifs ranked for the planner. `rush` names the orders that arrived or were raised
    /// to high priority.
    Orders {
        orders: Vec<String>,
        rush: Vec<String>,
        events: Vec<String>,
    },
    /// Material became available (a receipt), unusable (a quality hold on a lot) or later
    /// than expected (a late or cancelled expected receipt): the operations that consume it
    /// are planned again.
    Materials {
        materials: Vec<String>,
        lots_held: Vec<String>,
        /// Expected receipts that slipped, were cancelled or are overdue.
        late: Vec<String>,
        events: Vec<String>,
    },
}

impl Reaction {
    /// The events (or holds) that caused it, in log order; they seed the engine's search.
    pub fn causes(&self) -> &[String] {
        match self {
            Reaction::Equipment { events, .. }
            | Reaction::Orders { events, .. }
            | Reaction::Materials { events, .. } => events,
        }
    }

    /// A short name for logs and status: `equipment`, `orders`, `materials`.
    pub fn name(&self) -> &'static str {
        match self {
            Reaction::Equipment { .. } => "equipment",
            Reaction::Orders { .. } => "orders",
            Reaction::Materials { .. } => "materials",
        }
    }
}

/// What the classifier remembers between bursts: which units it last saw down, so a unit
/// coming back is told apart from an idle unit reporting in; when each open expected receipt
/// was last expected, so a slip is told apart from a first announcement; and the plant clock
/// it last saw, so a receipt falls overdue once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Memory {
    pub down: BTreeSet<String>,
    pub expected: BTreeMap<String, Timestamp>,
    pub clock: Option<Timestamp>,
}

impl Memory {
    /// The units down, the open receipts and the clock of `state`.
    pub fn from_state(state: &PlantState) -> Memory {
        Memory {
            down: state
                .units
                .iter()
                .filter(|(_, u)| u.state == EquipmentState::Down)
                .map(|(id, _)| id.to_string())
                .collect(),
            expected: state
                .receipts
                .iter()
                .filter(|(_, r)| r.is_open())
                .map(|(id, r)| (id.to_string(), r.expected))
                .collect(),
            clock: state.clock,
        }
    }
}

/// Materials that open orders still have to consume (a step not yet completed uses them).
fn materials_in_demand(catalog: &Catalog, state: &PlantState) -> BTreeSet<MaterialId> {
    let mut out = BTreeSet::new();
    for order in state.orders.values() {
        if matches!(
            order.status,
            OrderStatus::Completed | OrderStatus::Cancelled
        ) {
            continue;
        }
        let Some(routing) = catalog.routing(&order.order.routing) else {
            continue;
        };
        for step in routing.steps.iter().skip(order.steps_completed as usize) {
            out.extend(step.consumes.iter().map(|c| c.material.clone()));
        }
    }
    out
}

/// The reactions `events` (in log order) call for, over the state after them; `held` are
/// lots newly put on hold since the last burst, each with its material. Deterministic: the
/// same events, state and holds give the same reactions, in the order equipment, orders,
/// materials.
pub fn classify(
    catalog: &Catalog,
    state: &PlantState,
    events: &[StoredEvent],
    held: &[(String, String)],
    memory: &mut Memory,
) -> Vec<Reaction> {
    let mut down = BTreeSet::new();
    let mut up = BTreeSet::new();
    let mut equipment_events = Vec::new();
    let mut orders = BTreeSet::new();
    let mut rush = BTreeSet::new();
    let mut order_events = Vec::new();
    let mut received = BTreeSet::new();
    let mut late = BTreeSet::new();
    let mut material_events = Vec::new();
    let demand = materials_in_demand(catalog, state);
    for stored in events {
        let event = &stored.event;
        if event.source.as_deref() == Some(GOVERNOR_SOURCE) {
            continue;
        }
        let id = event.id.to_string();
        match &event.kind {
            EventKind::EquipmentStateChanged { unit, state, .. } => {
                let unit = unit.to_string();
                let was_down = memory.down.contains(&unit);
                if *state == EquipmentState::Down && !was_down {
                    memory.down.insert(unit.clone());
                    up.remove(&unit);
                    down.insert(unit);
                    equipment_events.push(id);
                } else if *state != EquipmentState::Down && was_down {
                    memory.down.remove(&unit);
                    if !down.remove(&unit) {
                        up.insert(unit);
                    }
                    equipment_events.push(id);
                }
            }
            EventKind::OrderReleased { order } => {
                if order.priority == Priority::High {
                    rush.insert(order.id.to_string());
                }
                orders.insert(order.id.to_string());
                order_events.push(id);
            }
            EventKind::OrderChanged {
                order, priority, ..
            } => {
                if *priority == Some(Priority::High) {
                    rush.insert(order.to_string());
                }
                orders.insert(order.to_string());
                order_events.push(id);
            }
            EventKind::OrderCancelled { order, .. } => {
                orders.insert(order.to_string());
                order_events.push(id);
            }
            EventKind::MaterialReceived { material, .. } if demand.contains(material) => {
                received.insert(material.to_string());
                material_events.push(id);
            }
            EventKind::ReceiptExpected {
                receipt,
                material,
                expected,
                ..
            } => {
                let before = memory.expected.insert(receipt.to_string(), *expected);
                if before.is_some_and(|b| b < *expected) && demand.contains(material) {
                    late.insert(receipt.to_string());
                    received.insert(material.to_string());
                    material_events.push(id);
                }
            }
            EventKind::ReceiptCancelled { receipt, .. } => {
                memory.expected.remove(receipt.as_str());
                if let Some(r) = state.receipts.get(receipt)
                    && demand.contains(&r.material)
                {
                    late.insert(receipt.to_string());
                    received.insert(r.material.to_string());
                    material_events.push(id);
                }
            }
            _ => {}
        }
    }
    // The plant clock passed an open receipt's expected time since the last burst (strictly:
    // a delivery on time carries that very time, and a log in time order has it in before
    // any later event).
    if let Some(clock) = state.clock {
        for (id, r) in &state.receipts {
            let passed = r.expected < clock && memory.clock.is_none_or(|seen| r.expected >= seen);
            if r.is_open() && passed && demand.contains(&r.material) {
                late.insert(id.to_string());
                received.insert(r.material.to_string());
                material_events.push(format!("overdue:{id}"));
            }
        }
        memory.clock = Some(memory.clock.map_or(clock, |seen| seen.max(clock)));
    }
    memory.expected.retain(|id, _| {
        state
            .receipts
            .get(&model::ReceiptId::from(id.as_str()))
            .is_some_and(|r| r.is_open())
    });
    let mut lots_held = BTreeSet::new();
    for (lot, material) in held {
        if demand.contains(&MaterialId::from(material.as_str())) {
            lots_held.insert(lot.clone());
            received.insert(material.clone());
            material_events.push(format!("hold:{lot}"));
        }
    }
    let mut reactions = Vec::new();
    if !down.is_empty() || !up.is_empty() {
        reactions.push(Reaction::Equipment {
            down: down.into_iter().collect(),
            up: up.into_iter().collect(),
            events: equipment_events,
        });
    }
    if !orders.is_empty() {
        reactions.push(Reaction::Orders {
            orders: orders.into_iter().collect(),
            rush: rush.into_iter().collect(),
            events: order_events,
        });
    }
    if !received.is_empty() {
        reactions.push(Reaction::Materials {
            materials: received.into_iter().collect(),
            lots_held: lots_held.into_iter().collect(),
            late: late.into_iter().collect(),
            events: material_events,
        });
    }
    reactions
}

/// Lots among `holds` (item kind, item id) that the state knows, with their material; the
/// rest (serials, orders, unknown lots) are left out.
pub fn held_lots(state: &PlantState, holds: &[(String, String)]) -> Vec<(String, String)> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for (kind, id) in holds {
        if kind != "lot" {
            continue;
        }
        if let Some(lot) = state.lots.get(&model::LotId::from(id.as_str())) {
            out.insert(id.clone(), lot.material.to_string());
        }
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::{Event, Timestamp, UnitId};

    fn stored(seq: i64, id: &str, source: Option<&str>, kind: EventKind) -> StoredEvent {
        StoredEvent {
            seq,
            recorded_at: Timestamp(0),
            event: Event {
                id: id.into(),
                time: Timestamp(seq * 60_000),
                source: source.map(str::to_owned),
                kind,
            },
        }
    }

    fn state_change(unit: &str, state: EquipmentState) -> EventKind {
        EventKind::EquipmentStateChanged {
            unit: UnitId::from(unit),
            state,
            reason: None,
        }
    }

    fn plant() -> (Catalog, PlantState) {
        let catalog = sim::reference_catalog();
        let state = PlantState::initial(&catalog, sim::SimOptions::default().start);
        (catalog, state)
    }

    #[test]
    fn a_burst_of_downtimes_is_one_repair_and_a_unit_back_in_the_same_burst_cancels_out() {
        let (catalog, state) = plant();
        let mut memory = Memory::default();
        let events = [
            stored(1, "e1", None, state_change("R-101", EquipmentState::Down)),
            stored(2, "e2", None, state_change("R-102", EquipmentState::Down)),
            stored(3, "e3", None, state_change("R-102", EquipmentState::Idle)),
            stored(4, "e4", None, state_change("R-101", EquipmentState::Down)),
        ];
        let reactions = classify(&catalog, &state, &events, &[], &mut memory);
        assert_eq!(
            reactions,
            [Reaction::Equipment {
                down: vec!["R-101".into()],
                up: vec![],
                events: vec!["e1".into(), "e2".into(), "e3".into()],
            }]
        );
        assert_eq!(memory.down, BTreeSet::from(["R-101".to_owned()]));
        // Coming back in a later burst is a reaction of its own; an idle unit reporting in
        // is none.
        let later = [
            stored(
                5,
                "e5",
                None,
                state_change("R-101", EquipmentState::Running),
            ),
            stored(6, "e6", None, state_change("R-103", EquipmentState::Idle)),
        ];
        let reactions = classify(&catalog, &state, &later, &[], &mut memory);
        assert_eq!(
            reactions,
            [Reaction::Equipment {
                down: vec![],
                up: vec!["R-101".into()],
                events: vec!["e5".into()],
            }]
        );
    }

    #[test]
    fn what_the_governor_wrote_and_the_shop_floors_progress_trigger_nothing() {
        let (catalog, state) = plant();
        let mut memory = Memory::default();
        let order = catalog.plant().orders[0].id.clone();
        let events = [
            stored(
                1,
                "P-1-apply-1",
                Some(GOVERNOR_SOURCE),
                EventKind::OrderChanged {
                    order: order.clone(),
                    quantity: None,
                    due: None,
                    priority: Some(Priority::High),
                },
            ),
            stored(
                2,
                "s1",
                None,
                EventKind::OperationStarted {
                    order: order.clone(),
                    step: 0,
                    unit: UnitId::from("R-101"),
                    members: vec![],
                },
            ),
            stored(
                3,
                "d1",
                None,
                EventKind::OperationDispatched {
                    order,
                    step: 0,
                    unit: Some(UnitId::from("R-101")),
                    start: None,
                },
            ),
        ];
        assert!(classify(&catalog, &state, &events, &[], &mut memory).is_empty());
    }

    #[test]
    fn a_released_high_priority_order_is_a_rush_and_changes_of_others_join_the_same_replan() {
        let (catalog, state) = plant();
        let mut memory = Memory::default();
        let mut rush = catalog.plant().orders[0].clone();
        rush.id = "RUSH-1".into();
        rush.priority = Priority::High;
        let other = catalog.plant().orders[1].id.clone();
        let events = [
            stored(1, "r1", None, EventKind::OrderReleased { order: rush }),
            stored(
                2,
                "c1",
                None,
                EventKind::OrderCancelled {
                    order: other.clone(),
                    reason: "customer".into(),
                },
            ),
        ];
        let reactions = classify(&catalog, &state, &events, &[], &mut memory);
        assert_eq!(
            reactions,
            [Reaction::Orders {
                orders: {
                    let mut v = vec!["RUSH-1".to_owned(), other.to_string()];
                    v.sort();
                    v
                },
                rush: vec!["RUSH-1".into()],
                events: vec!["r1".into(), "c1".into()],
            }]
        );
    }

    #[test]
    fn a_receipt_or_a_hold_matters_only_for_material_that_open_work_consumes() {
        let (catalog, state) = plant();
        let demand = materials_in_demand(&catalog, &state);
        let needed = demand
            .iter()
            .next()
            .expect("the order book consumes material");
        let mut memory = Memory::default();
        let receipt = |id: &str, material: &str| {
            stored(
                1,
                id,
                None,
                EventKind::MaterialReceived {
                    material: MaterialId::from(material),
                    lot: format!("LOT-{id}").as_str().into(),
                    quantity: 10.0,
                    supplier: None,
                    receipt: None,
                },
            )
        };
        let unused = "NOT-A-MATERIAL-ANYONE-USES";
        assert!(
            classify(
                &catalog,
                &state,
                &[receipt("m0", unused)],
                &[("L9".into(), unused.into())],
                &mut memory
            )
            .is_empty()
        );
        let reactions = classify(
            &catalog,
            &state,
            &[receipt("m1", needed.as_str())],
            &[("L1".into(), needed.to_string())],
            &mut memory,
        );
        assert_eq!(
            reactions,
            [Reaction::Materials {
                materials: vec![needed.to_string()],
                lots_held: vec!["L1".into()],
                late: vec![],
                events: vec!["m1".into(), "hold:L1".into()],
            }]
        );
    }

    #[test]
    fn a_receipt_is_late_when_it_slips_is_cancelled_or_falls_overdue_and_not_when_announced() {
        let (catalog, mut state) = plant();
        let needed = materials_in_demand(&catalog, &state)
            .into_iter()
            .find(|m| {
                catalog
                    .material(m)
                    .is_some_and(|m| m.kind == model::MaterialKind::Raw)
            })
            .expect("the order book consumes raw material");
        let hours = |h: i64| Timestamp(sim::SimOptions::default().start.0 + h * 3_600_000);
        let expect = |state: &mut PlantState, seq: i64, id: &str, receipt: &str, at: Timestamp| {
            let event = stored(
                seq,
                id,
                None,
                EventKind::ReceiptExpected {
                    receipt: receipt.into(),
                    material: needed.clone(),
                    quantity: 100.0,
                    expected: at,
                    supplier: None,
                    purchase_order: Some("PO-7".into()),
                },
            );
            state.apply(&catalog, &event.event).unwrap();
            event
        };
        // Announced, then moved earlier: no reaction.
        let mut memory = Memory::from_state(&state);
        let first = [
            expect(&mut state, 1, "x1", "PO-7/1", hours(48)),
            expect(&mut state, 2, "x2", "PO-7/1", hours(40)),
            expect(&mut state, 3, "x3", "PO-7/2", hours(50)),
        ];
        assert!(classify(&catalog, &state, &first, &[], &mut memory).is_empty());
        // Moved later than last seen: late.
        let slip = [expect(&mut state, 4, "x4", "PO-7/1", hours(44))];
        assert_eq!(
            classify(&catalog, &state, &slip, &[], &mut memory),
            [Reaction::Materials {
                materials: vec![needed.to_string()],
                lots_held: vec![],
                late: vec!["PO-7/1".into()],
                events: vec!["x4".into()],
            }]
        );
        // The clock passes PO-7/1's time (44 h) but not PO-7/2's (50 h): PO-7/1 is overdue,
        // once.
        let tick = stored(5, "t1", None, state_change("R-103", EquipmentState::Idle));
        let mut tick = tick;
        tick.event.time = hours(45);
        state.apply(&catalog, &tick.event).unwrap();
        let reactions = classify(&catalog, &state, &[tick.clone()], &[], &mut memory);
        assert_eq!(
            reactions,
            [Reaction::Materials {
                materials: vec![needed.to_string()],
                lots_held: vec![],
                late: vec!["PO-7/1".into()],
                events: vec!["overdue:PO-7/1".into()],
            }]
        );
        assert!(classify(&catalog, &state, &[tick], &[], &mut memory).is_empty());
        // A cancellation is late for good.
        let cancel = stored(
            6,
            "c1",
            None,
            EventKind::ReceiptCancelled {
                receipt: "PO-7/2".into(),
                reason: None,
            },
        );
        state.apply(&catalog, &cancel.event).unwrap();
        let reactions = classify(&catalog, &state, &[cancel], &[], &mut memory);
        assert!(
            matches!(&reactions[..], [Reaction::Materials { late, .. }] if late == &["PO-7/2"])
        );
        assert!(!memory.expected.contains_key("PO-7/2"));
    }
}
