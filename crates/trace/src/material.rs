//! The plant's own material events ([`model::Event`]) as genealogy.
//!
//! `material_consumed` is a `consumed_into` edge from the lot or serial to the order, at the
//! unit that ran the step (from the `operation_started` event of that order and step);
//! `material_produced` is a `produced_from` edge from the order to the lot and to each
//! serial; `material_shipped` a `shipped_to` edge to the customer; `material_received` a
//! receipt. Plant ids become local ids (`urn:mixplane:lot:<id>` …); units of measure come
//! from the catalog when one is given.

use std::collections::HashMap;

use model::{Catalog, Event, EventKind, MaterialId, OrderId, UnitId};

use crate::graph::{Edge, EdgeKind, Genealogy, Observation};
use crate::id::{Id, IdKind};

/// Lowers events statefully (it remembers which unit runs which order step).
#[derive(Debug, Default)]
pub struct MaterialLowering {
    step_units: HashMap<(OrderId, u32), UnitId>,
    last_unit: HashMap<OrderId, UnitId>,
    uoms: HashMap<MaterialId, String>,
    pub genealogy: Genealogy,
}

impl MaterialLowering {
    pub fn new(catalog: Option<&Catalog>) -> MaterialLowering {
        let uoms = catalog
            .map(|c| {
                c.plant()
                    .materials
                    .iter()
                    .map(|m| (m.id.clone(), m.uom.clone()))
                    .collect()
            })
            .unwrap_or_default();
        MaterialLowering {
            uoms,
            ..MaterialLowering::default()
        }
    }

    fn uom(&self, material: &MaterialId) -> Option<String> {
        self.uoms.get(material).cloned()
    }

    /// Adds one event (events that move no material only update the unit map).
    pub fn add(&mut self, event: &Event) {
        let time = event.time;
        let id = event.id.as_str();
        let order_id = |o: &OrderId| Id::local(IdKind::Order, o.as_str());
        let unit_id = |u: &UnitId| Id::local(IdKind::Unit, u.as_str());
        match &event.kind {
            EventKind::OperationStarted {
                order, step, unit, ..
            } => {
                self.step_units.insert((order.clone(), *step), unit.clone());
                self.last_unit.insert(order.clone(), unit.clone());
            }
            EventKind::MaterialReceived {
                material,
                lot,
                quantity,
                ..
            } => {
                let mut obs = Observation::new(Id::local(IdKind::Lot, lot.as_str()), time, id);
                obs.received = Some(*quantity);
                obs.uom = self.uom(material);
                self.genealogy.observations.push(obs);
            }
            EventKind::MaterialConsumed {
                order,
                step,
                material,
                lot,
                serial,
                quantity,
            } => {
                let item = match (lot, serial) {
                    (_, Some(s)) => Id::local(IdKind::Serial, s.as_str()),
                    (Some(l), None) => Id::local(IdKind::Lot, l.as_str()),
                    (None, None) => Id::local(IdKind::Product, material.as_str()),
                };
                let location = self.step_units.get(&(order.clone(), *step)).map(unit_id);
                let uom = self.uom(material);
                self.genealogy.edges.push(Edge {
                    kind: EdgeKind::ConsumedInto,
                    from: item,
                    to: order_id(order),
                    time,
                    location,
                    quantity: Some(*quantity),
                    uom,
                    event: id.to_owned(),
                });
            }
            EventKind::MaterialProduced {
                order,
                material,
                lot,
                serials,
                quantity,
            } => {
                let location = self.last_unit.get(order).map(unit_id);
                let uom = self.uom(material);
                if let Some(lot) = lot {
                    self.genealogy.edges.push(Edge {
                        kind: EdgeKind::ProducedFrom,
                        from: order_id(order),
                        to: Id::local(IdKind::Lot, lot.as_str()),
                        time,
                        location: location.clone(),
                        quantity: Some(if serials.is_empty() { *quantity } else { 0.0 }),
                        uom: uom.clone(),
                        event: id.to_owned(),
                    });
                }
                for s in serials {
                    self.genealogy.edges.push(Edge {
                        kind: EdgeKind::ProducedFrom,
                        from: order_id(order),
                        to: Id::local(IdKind::Serial, s.as_str()),
                        time,
                        location: location.clone(),
                        quantity: Some(1.0),
                        uom: uom.clone(),
                        event: id.to_owned(),
                    });
                }
            }
            EventKind::MaterialShipped {
                material,
                lot,
                serials,
                quantity,
                customer,
            } => {
                let to = Id::local(IdKind::Customer, customer);
                let uom = self.uom(material);
                if let Some(lot) = lot {
                    self.genealogy.edges.push(Edge {
                        kind: EdgeKind::ShippedTo,
                        from: Id::local(IdKind::Lot, lot.as_str()),
                        to: to.clone(),
                        time,
                        location: None,
                        quantity: Some(if serials.is_empty() { *quantity } else { 0.0 }),
                        uom: uom.clone(),
                        event: id.to_owned(),
                    });
                }
                for s in serials {
                    self.genealogy.edges.push(Edge {
                        kind: EdgeKind::ShippedTo,
                        from: Id::local(IdKind::Serial, s.as_str()),
                        to: to.clone(),
                        time,
                        location: None,
                        quantity: Some(1.0),
                        uom: uom.clone(),
                        event: id.to_owned(),
                    });
                }
            }
            _ => {}
        }
    }
}

/// Lowers a whole event list. Units are learnt from every `operation_started` first, so a
/// consumption reported before its step's start event still gets its unit.
pub fn lower(events: &[Event], catalog: Option<&Catalog>) -> Genealogy {
    let mut lowering = MaterialLowering::new(catalog);
    for e in events {
        if let EventKind::OperationStarted {
            order, step, unit, ..
        } = &e.kind
        {
            lowering
                .step_units
                .entry((order.clone(), *step))
                .or_insert_with(|| unit.clone());
        }
    }
    for e in events {
        lowering.add(e);
    }
    lowering.genealogy
}
