//! The facts about the plant that assessing a diff needs, behind one read-only trait
//! ([`Facts`]): an order's priority, due date, quantity and areas; where and when the MES
//! plans a step; a unit's area and state; a pool's areas; the pool a member belongs to; the
//! areas of a lot or serial; whether an item is on quality hold.
//!
//! [`PlantView`] answers them from a validated plant and its folded state (what the app layer
//! hands over from its store snapshot); [`FactTable`] from plain maps, for callers and tests
//! that have no plant. Neither reads anything but what it is given.

use std::collections::{BTreeMap, BTreeSet};

use model::{Catalog, EquipmentState, PlantState, Priority, Timestamp};

/// What the store knows of an order.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderFacts {
    pub priority: Priority,
    pub due: Timestamp,
    pub quantity: f64,
    /// The areas whose units can run some step of its routing.
    pub areas: BTreeSet<String>,
    /// How many steps its routing has (operations are `<order>/<step>`, 0-based).
    pub steps: u32,
}

/// Where and when the MES's dispatch list plans a step; `None` fields were never dispatched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DispatchFacts {
    pub unit: Option<String>,
    pub start: Option<Timestamp>,
}

/// What the store knows of a unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitFacts {
    pub area: String,
    /// Its current state; `None` when no state was ever recorded.
    pub state: Option<EquipmentState>,
}

/// The read-only view of the plant that [`super::assess`] checks a diff against. `None` means
/// the plant has no such object.
pub trait Facts {
    fn order(&self, id: &str) -> Option<OrderFacts>;
    /// The dispatch of step `step` of `order` (an empty one when nothing was dispatched).
    fn dispatch(&self, order: &str, step: u32) -> DispatchFacts;
    fn unit(&self, id: &str) -> Option<UnitFacts>;
    /// The areas a pool serves.
    fn pool_areas(&self, id: &str) -> Option<BTreeSet<String>>;
    /// The pool a member belongs to.
    fn member_pool(&self, id: &str) -> Option<String>;
    /// The areas of a lot: those of the order that made it; empty for a purchased lot.
    fn lot_areas(&self, id: &str) -> Option<BTreeSet<String>>;
    /// The areas of a serial: those of the order that made it; empty for a bought-in one.
    /// `None` by default: a view that does not know serials refuses changes to them.
    fn serial_areas(&self, _id: &str) -> Option<BTreeSet<String>> {
        None
    }
    /// Whether an item (`lot:ID`, `serial:ID`, `order:ID`) is on quality hold now; `None` when
    /// this view does not know holds (they are kept by the quality store, not the plant
    /// state: see [`WithHolds`]).
    fn on_hold(&self, _item: &str) -> Option<bool> {
        None
    }
}

/// A view of the plant that also knows which items are on hold: `held` lists the items
/// (`lot:ID`, …) with an active hold among those the caller looked up. Every other fact is
/// `facts`'.
#[derive(Debug, Clone, Copy)]
pub struct WithHolds<'a, F> {
    pub facts: F,
    pub held: &'a BTreeSet<String>,
}

impl<F: Facts> Facts for WithHolds<'_, F> {
    fn order(&self, id: &str) -> Option<OrderFacts> {
        self.facts.order(id)
    }

    fn dispatch(&self, order: &str, step: u32) -> DispatchFacts {
        self.facts.dispatch(order, step)
    }

    fn unit(&self, id: &str) -> Option<UnitFacts> {
        self.facts.unit(id)
    }

    fn pool_areas(&self, id: &str) -> Option<BTreeSet<String>> {
        self.facts.pool_areas(id)
    }

    fn member_pool(&self, id: &str) -> Option<String> {
        self.facts.member_pool(id)
    }

    fn lot_areas(&self, id: &str) -> Option<BTreeSet<String>> {
        self.facts.lot_areas(id)
    }

    fn serial_areas(&self, id: &str) -> Option<BTreeSet<String>> {
        self.facts.serial_areas(id)
    }

    fn on_hold(&self, item: &str) -> Option<bool> {
        Some(self.held.contains(item))
    }
}

/// The facts of a validated plant and its state.
#[derive(Debug, Clone, Copy)]
pub struct PlantView<'a> {
    pub catalog: &'a Catalog,
    pub state: &'a PlantState,
}

impl PlantView<'_> {
    fn order_areas(&self, id: &model::OrderId) -> BTreeSet<String> {
        self.state
            .orders
            .get(id)
            .map(|o| self.catalog.routing_areas(&o.order.routing))
            .unwrap_or_default()
            .into_iter()
            .map(|a| a.to_string())
            .collect()
    }
}

impl Facts for PlantView<'_> {
    fn order(&self, id: &str) -> Option<OrderFacts> {
        let id = model::OrderId::from(id);
        let order = self.state.orders.get(&id)?;
        Some(OrderFacts {
            priority: order.order.priority,
            due: order.order.due,
            quantity: order.order.quantity,
            areas: self.order_areas(&id),
            steps: self
                .catalog
                .routing(&order.order.routing)
                .map_or(0, |r| r.steps.len() as u32),
        })
    }

    fn dispatch(&self, order: &str, step: u32) -> DispatchFacts {
        self.state
            .orders
            .get(&model::OrderId::from(order))
            .and_then(|o| o.dispatched.get(&step))
            .map(|d| DispatchFacts {
                unit: d.unit.as_ref().map(ToString::to_string),
                start: d.start,
            })
            .unwrap_or_default()
    }

    fn unit(&self, id: &str) -> Option<UnitFacts> {
        let id = model::UnitId::from(id);
        Some(UnitFacts {
            area: self.catalog.unit_area(&id)?.to_string(),
            state: self.state.units.get(&id).map(|u| u.state),
        })
    }

    fn pool_areas(&self, id: &str) -> Option<BTreeSet<String>> {
        let pool = self.catalog.pool(&model::PoolId::from(id))?;
        Some(pool.areas.iter().map(ToString::to_string).collect())
    }

    fn member_pool(&self, id: &str) -> Option<String> {
        self.catalog
            .plant()
            .pools
            .iter()
            .find(|p| p.members.iter().any(|m| m.id.as_str() == id))
            .map(|p| p.id.to_string())
    }

    fn lot_areas(&self, id: &str) -> Option<BTreeSet<String>> {
        let lot = self.state.lots.get(&model::LotId::from(id))?;
        Some(
            lot.produced_by
                .as_ref()
                .map(|order| self.order_areas(order))
                .unwrap_or_default(),
        )
    }

    fn serial_areas(&self, id: &str) -> Option<BTreeSet<String>> {
        let serial = self.state.serials.get(&model::SerialId::from(id))?;
        Some(
            serial
                .produced_by
                .as_ref()
                .map(|order| self.order_areas(order))
                .unwrap_or_default(),
        )
    }
}

/// Facts from plain maps.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FactTable {
    pub orders: BTreeMap<String, OrderFacts>,
    /// By `(order, step)`.
    pub dispatches: BTreeMap<(String, u32), DispatchFacts>,
    pub units: BTreeMap<String, UnitFacts>,
    pub pools: BTreeMap<String, BTreeSet<String>>,
    /// Member → pool.
    pub members: BTreeMap<String, String>,
    pub lots: BTreeMap<String, BTreeSet<String>>,
}

impl Facts for FactTable {
    fn order(&self, id: &str) -> Option<OrderFacts> {
        self.orders.get(id).cloned()
    }

    fn dispatch(&self, order: &str, step: u32) -> DispatchFacts {
        self.dispatches
            .get(&(order.to_owned(), step))
            .cloned()
            .unwrap_or_default()
    }

    fn unit(&self, id: &str) -> Option<UnitFacts> {
        self.units.get(id).cloned()
    }

    fn pool_areas(&self, id: &str) -> Option<BTreeSet<String>> {
        self.pools.get(id).cloned()
    }

    fn member_pool(&self, id: &str) -> Option<String> {
        self.members.get(id).cloned()
    }

    fn lot_areas(&self, id: &str) -> Option<BTreeSet<String>> {
        self.lots.get(id).cloned()
    }
}
