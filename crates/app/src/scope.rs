//! Object-level scope: which plant areas an order, lot, serial, unit, event or
//! characteristic belongs to, and whether a principal may read it or act on it. Every
//! use-case that reads or changes such an object asks here, so the rule lives once; the
//! edges' permission layer has already checked the role and that the scope reaches the site.
//!
//! # The areas of an object (derived from the store, never from the request)
//!
//! - a **unit** is in the area of its work center; a **work center** in its own area;
//! - an **order** is in every area whose units can run a step of its routing
//!   ([`model::Catalog::routing_areas`]; the reference plant's discrete routings span
//!   `A-ASSY` and the service area `A-SVC`);
//! - a **lot** or **serial** is in the areas of the order that produced it
//!   (`produced_by` in the folded state); a purchased or received one, made by no order, is
//!   **site-wide**;
//! - an **event** acts in the areas [`model::Catalog::event_areas`] names (the ingest rule);
//!   an event it calls site-wide but that names a lot or serial (a shipment, a quality
//!   result on a lot) is read as in that item's areas;
//! - a **characteristic** is in the areas of the routings that make the material its
//!   inspection plan inspects; an **alert** in its characteristic's areas;
//! - a **hold** is in its item's areas; a **nonconformance** in its items' areas.
//!
//! # The rule
//!
//! A principal whose scope is `*` or a site reaches every area of its site. A principal scoped
//! to `area:X`:
//!
//! - **reads** an object when the object is site-wide or one of its areas is `X` ("it touches
//!   my area"). An object whose area cannot be found (an item the plant state does not know)
//!   is not shown. Lists leave out what it does not read; a single object it does not read
//!   answers **404**, as if it did not exist, so that existence does not leak.
//! - **acts on** an object (hold, release, open or move a nonconformance) only when every
//!   area of the object is `X`: a site-wide object or one that also lives in another area
//!   needs a wider scope. The same rule as event ingest (`crate::events::check_event_scope`).
//!   A refusal is **403** naming the object and its areas; an item that does not exist is
//!   refused first, as **422** naming it, whatever the scope.
//!
//! Genealogy answers that cross areas keep their shape: nodes outside the reader's scope are
//! replaced by redacted nodes and counted (`crate::trace`).
//!
//! This module must not read or write the store itself beyond the snapshot it is given, and
//! knows no protocol.

use std::collections::BTreeSet;
use std::sync::Arc;

use govern::{Principal, PrincipalKind, Role, Scope};
use model::{AreaId, Catalog, Event, EventKind, PlantState};
use quality::enforce::ItemKind;

use crate::{App, AppError};

/// The principal the local CLI acts as where it calls scoped use-cases: whoever can run the
/// binary on the database file can read and change all of it anyway.
pub fn local_principal(name: &str) -> Principal {
    Principal::new(name, PrincipalKind::Person, Role::Admin, Scope::All)
}

/// A principal's reach over one snapshot of the plant and its state.
#[derive(Debug, Clone)]
pub struct Reach {
    /// The area the principal is confined to; none for site-wide scopes.
    area: Option<String>,
    who: String,
    catalog: Arc<Catalog>,
    state: Arc<PlantState>,
}

impl Reach {
    /// The reach of `who` over the store's current snapshot.
    pub async fn of(app: &App, who: &Principal) -> Result<Reach, AppError> {
        let snapshot = app.store.snapshot().await;
        let catalog = snapshot.catalog.ok_or(AppError::NoPlant)?;
        Ok(Reach::over(who, catalog, snapshot.state))
    }

    /// The reach of `who` over a given plant and state.
    pub fn over(who: &Principal, catalog: Arc<Catalog>, state: Arc<PlantState>) -> Reach {
        let area = match &who.scope {
            Scope::Area(area) => Some(area.clone()),
            Scope::All | Scope::Site(_) => None,
        };
        Reach {
            area,
            who: who.id.clone(),
            catalog,
            state,
        }
    }

    /// Whether the principal reaches every area of the site (nothing to filter).
    pub fn is_site_wide(&self) -> bool {
        self.area.is_none()
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    pub fn state(&self) -> &PlantState {
        &self.state
    }

    /// Whether the principal reads an object in `areas` (empty: site-wide).
    pub fn reads(&self, areas: &BTreeSet<AreaId>) -> bool {
        match &self.area {
            None => true,
            Some(own) => areas.is_empty() || areas.iter().any(|a| a.as_str() == own),
        }
    }

    /// Whether the principal reads an object of this one area.
    pub fn reads_area(&self, area: &AreaId) -> bool {
        self.area.as_ref().is_none_or(|own| own == area.as_str())
    }

    /// The areas of an order, none when the order is unknown.
    pub fn order_areas(&self, id: &str) -> Option<BTreeSet<AreaId>> {
        let order = self.state.orders.get(&id.into())?;
        Some(self.catalog.routing_areas(&order.order.routing))
    }

    /// Whether the principal reads an order of the state (as [`Reach::order_areas`] and
    /// [`Reach::reads`] decide, without looking the order up again, and without working out
    /// its areas for a site-wide principal, who reads every order).
    pub fn reads_order(&self, order: &model::OrderState) -> bool {
        self.is_site_wide() || self.reads(&self.catalog.routing_areas(&order.order.routing))
    }

    /// The areas of a lot, serial or order (empty: site-wide), none when it is unknown.
    pub fn item_areas(&self, kind: ItemKind, id: &str) -> Option<BTreeSet<AreaId>> {
        let producer = match kind {
            ItemKind::Order => return self.order_areas(id),
            ItemKind::Lot => self.state.lots.get(&id.into())?.produced_by.clone(),
            ItemKind::Serial => self.state.serials.get(&id.into())?.produced_by.clone(),
        };
        Some(match producer {
            Some(order) => self.order_areas(order.as_str()).unwrap_or_default(),
            None => BTreeSet::new(),
        })
    }

    /// Whether the principal reads an item; an unknown item only with a site-wide scope.
    pub fn reads_item(&self, kind: ItemKind, id: &str) -> bool {
        self.is_site_wide() || self.item_areas(kind, id).is_some_and(|a| self.reads(&a))
    }

    /// Whether the principal reads an item written `kind:id` (as nonconformances name them).
    pub fn reads_item_key(&self, key: &str) -> bool {
        self.is_site_wide() || parse_key(key).is_some_and(|(kind, id)| self.reads_item(kind, id))
    }

    /// Whether the principal reads an event (see the module docs for its areas).
    pub fn reads_event(&self, event: &Event) -> bool {
        self.is_site_wide() || self.reads(&self.event_areas(event))
    }

    /// The areas an event is read in.
    pub fn event_areas(&self, event: &Event) -> BTreeSet<AreaId> {
        let areas = self.catalog.event_areas(event, &self.state);
        if !areas.is_empty() {
            return areas;
        }
        let item = |kind, id: &str| self.item_areas(kind, id).unwrap_or_default();
        match &event.kind {
            EventKind::MaterialShipped { lot, serials, .. } => lot
                .iter()
                .flat_map(|l| item(ItemKind::Lot, l.as_str()))
                .chain(
                    serials
                        .iter()
                        .flat_map(|s| item(ItemKind::Serial, s.as_str())),
                )
                .collect(),
            EventKind::QualityResultRecorded { lot, serial, .. } => lot
                .iter()
                .flat_map(|l| item(ItemKind::Lot, l.as_str()))
                .chain(
                    serial
                        .iter()
                        .flat_map(|s| item(ItemKind::Serial, s.as_str())),
                )
                .collect(),
            _ => areas,
        }
    }

    /// The areas of a characteristic: those of the routings making the material its
    /// inspection plan inspects. None when the plant has no such characteristic.
    pub fn characteristic_areas(&self, id: &str) -> Option<BTreeSet<AreaId>> {
        characteristic_areas(&self.catalog, id)
    }

    /// Whether the principal reads a characteristic (its chart, its alerts).
    pub fn reads_characteristic(&self, id: &str) -> bool {
        self.is_site_wide()
            || self
                .characteristic_areas(id)
                .is_some_and(|a| self.reads(&a))
    }

    /// Refuses, with a 403-style error, an object the principal may not act on: its areas
    /// must all be the principal's own area (see the module docs).
    pub fn check_acts(&self, what: &str, areas: &BTreeSet<AreaId>) -> Result<(), AppError> {
        let Some(own) = &self.area else {
            return Ok(());
        };
        let outside: Vec<&str> = areas
            .iter()
            .map(AreaId::as_str)
            .filter(|a| a != own)
            .collect();
        if areas.is_empty() || !outside.is_empty() {
            let reach = if areas.is_empty() {
                "is site-wide".to_owned()
            } else {
                format!("is in area(s) {}", outside.join(", "))
            };
            return Err(AppError::Forbidden(format!(
                "{what} {reach}, outside {}'s scope `area:{own}`",
                self.who
            )));
        }
        Ok(())
    }

    /// The areas of an item the principal is to act on: a 422-style error naming it when
    /// the plant state does not know it, a 403-style one when it lies outside the scope.
    pub fn check_acts_on_item(&self, kind: ItemKind, id: &str) -> Result<(), AppError> {
        let areas = self.item_areas(kind, id).ok_or_else(|| {
            AppError::Invalid(format!(
                "{} `{id}` does not exist in the plant state (produced, received or released)",
                kind.name()
            ))
        })?;
        self.check_acts(&format!("{} `{id}`", kind.name()), &areas)
    }

    /// [`Reach::check_acts_on_item`] for an item written `kind:id`.
    pub fn check_acts_on_key(&self, key: &str) -> Result<(), AppError> {
        let (kind, id) = parse_key(key).ok_or_else(|| {
            AppError::Invalid(format!(
                "`{key}` is not `lot:ID`, `serial:ID` or `order:ID`"
            ))
        })?;
        self.check_acts_on_item(kind, id)
    }
}

/// `lot:ID`, `serial:ID` or `order:ID` as a kind and an id.
pub fn parse_key(key: &str) -> Option<(ItemKind, &str)> {
    let (kind, id) = key.split_once(':')?;
    let kind = match kind {
        "lot" => ItemKind::Lot,
        "serial" => ItemKind::Serial,
        "order" => ItemKind::Order,
        _ => return None,
    };
    (!id.trim().is_empty()).then_some((kind, id.trim()))
}

/// One page (`limit` items after `offset`) of a whole list the reader reads, with its total:
/// the offset pages of the local command line, cut like the API's keyset pages from the list
/// after the scope applied.
pub fn page_of<T>(all: Vec<T>, limit: u32, offset: u32) -> store::Page<T> {
    let total = all.len() as u64;
    let items = all
        .into_iter()
        .skip(offset as usize)
        .take(limit as usize)
        .collect();
    store::Page {
        items,
        total,
        limit,
        offset,
    }
}

/// Every item of a list the reader reads: `fetch(offset, limit)` reads one page of the
/// unfiltered list, walked whole in chunks. The keyset pages of the HTTP lists are cut from
/// this, so the scope applies before paging (the lists concerned are small: proposals, holds,
/// nonconformances, alerts, orders).
pub async fn all_filtered<T, F, Fut>(
    mut fetch: F,
    keep: impl Fn(&T) -> bool,
) -> Result<Vec<T>, AppError>
where
    F: FnMut(u32, u32) -> Fut,
    Fut: std::future::Future<Output = Result<store::Page<T>, AppError>>,
{
    const CHUNK: u32 = 1000;
    let mut kept = Vec::new();
    let mut at = 0u32;
    loop {
        let page = fetch(at, CHUNK).await?;
        let read = u32::try_from(page.items.len()).unwrap_or(u32::MAX);
        kept.extend(page.items.into_iter().filter(|item| keep(item)));
        at = at.saturating_add(read);
        if read < CHUNK || u64::from(at) >= page.total {
            return Ok(kept);
        }
    }
}

/// The areas of a characteristic from the catalog alone (see [`Reach::characteristic_areas`]):
/// those of the routings making the material its inspection plan inspects; none when the plant
/// has no such characteristic.
pub fn characteristic_areas(catalog: &model::Catalog, id: &str) -> Option<BTreeSet<AreaId>> {
    let (plan, _) = catalog.characteristic(&id.into())?;
    Some(
        catalog
            .plant()
            .routings
            .iter()
            .filter(|r| r.product == plan.material)
            .flat_map(|r| catalog.routing_areas(&r.id))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reach(scope: &str) -> Reach {
        let catalog = Arc::new(sim::reference_catalog());
        let start = sim::SimOptions::default().start;
        let mut state = PlantState::initial(&catalog, start);
        let pack_order = state
            .orders
            .values()
            .find(|o| o.order.routing.as_str().starts_with("RUN-CRT"))
            .unwrap()
            .order
            .id
            .clone();
        state.lots.insert(
            "L-PACK".into(),
            model::LotState {
                material: "CRT-EA100-50".into(),
                produced_by: Some(pack_order),
                received: 0.0,
                produced: 1.0,
                consumed: 0.0,
                shipped: 0.0,
                consumed_by: vec![],
            },
        );
        state.lots.insert(
            "L-BOUGHT".into(),
            model::LotState {
                material: "CRT-EA100-50".into(),
                produced_by: None,
                received: 1.0,
                produced: 0.0,
                consumed: 0.0,
                shipped: 0.0,
                consumed_by: vec![],
            },
        );
        let who = Principal::new(
            "p",
            PrincipalKind::Person,
            Role::Operator,
            scope.parse().unwrap(),
        );
        Reach::over(&who, catalog, Arc::new(state))
    }

    #[test]
    fn an_area_scope_reads_what_touches_its_area_and_acts_only_inside_it() {
        let chem = reach("area:A-CHEM");
        let pack = reach("area:A-PACK");
        let site = reach("site:RHF");
        assert!(!chem.reads_item(ItemKind::Lot, "L-PACK"));
        assert!(pack.reads_item(ItemKind::Lot, "L-PACK"));
        assert!(chem.reads_item(ItemKind::Lot, "L-BOUGHT"), "site-wide lot");
        assert!(!chem.reads_item(ItemKind::Lot, "L-NOPE"));
        assert!(site.reads_item(ItemKind::Lot, "L-NOPE"));
        assert!(pack.check_acts_on_item(ItemKind::Lot, "L-PACK").is_ok());
        assert!(matches!(
            chem.check_acts_on_item(ItemKind::Lot, "L-PACK"),
            Err(AppError::Forbidden(m)) if m.contains("A-PACK") && m.contains("area:A-CHEM")
        ));
        assert!(matches!(
            chem.check_acts_on_item(ItemKind::Lot, "L-BOUGHT"),
            Err(AppError::Forbidden(m)) if m.contains("site-wide")
        ));
        assert!(matches!(
            site.check_acts_on_item(ItemKind::Serial, "S-NOPE"),
            Err(AppError::Invalid(m)) if m.contains("S-NOPE")
        ));
        assert!(site.check_acts_on_item(ItemKind::Lot, "L-BOUGHT").is_ok());
        // MO-260001 runs RCP-EA100, in A-CHEM only.
        assert!(chem.check_acts_on_key("order:MO-260001").is_ok());
        assert!(pack.check_acts_on_key("order:MO-260001").is_err());
        assert!(chem.reads_characteristic("EA100-VISC"));
        assert!(!pack.reads_characteristic("EA100-VISC"));
        assert!(!chem.reads_characteristic("NOPE") && site.reads_characteristic("NOPE"));
    }

    #[test]
    fn an_item_in_two_areas_is_read_from_both_and_acted_on_from_neither() {
        // RTG-M50 runs in A-ASSY and A-SVC.
        let assy = reach("area:A-ASSY");
        let order = assy
            .state()
            .orders
            .values()
            .find(|o| o.order.routing.as_str() == "RTG-M50")
            .unwrap()
            .order
            .id
            .to_string();
        assert!(assy.reads_item(ItemKind::Order, &order));
        assert!(reach("area:A-SVC").reads_item(ItemKind::Order, &order));
        assert!(assy.check_acts_on_item(ItemKind::Order, &order).is_err());
        assert!(parse_key("pallet:P1").is_none() && parse_key("lot: ").is_none());
    }
}
