//! A validated, indexed plant.
//!
//! [`Catalog::new`] checks every cross-reference and value of a [`Plant`] and reports each
//! problem with the path and id at fault, then builds the lookups that event folding and the
//! engines need. Code that holds a `Catalog` may assume the plant is consistent.

use std::collections::{BTreeSet, HashMap};
use std::fmt;

use crate::calendar::SiteZone;
use crate::ids::*;
use crate::plant::*;

/// One problem found in a plant document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    /// Where: `units[3]`, `routings[2].steps[0].alternatives[1]`.
    pub path: String,
    /// The id of the entity at fault, when it has one.
    pub id: Option<String>,
    pub message: String,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.id {
            Some(id) => write!(f, "{} (id `{id}`): {}", self.path, self.message),
            None => write!(f, "{}: {}", self.path, self.message),
        }
    }
}

/// All problems found in a plant, in document order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ValidationErrors(pub Vec<ValidationError>);

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "the plant has {} problem(s):", self.0.len())?;
        for error in &self.0 {
            writeln!(f, "  - {error}")?;
        }
        Ok(())
    }
}

/// A plant known to be consistent, with id lookups.
#[derive(Debug, Clone)]
pub struct Catalog {
    plant: Plant,
    areas: HashMap<AreaId, usize>,
    work_centers: HashMap<WorkCenterId, usize>,
    units: HashMap<UnitId, usize>,
    pools: HashMap<PoolId, usize>,
    materials: HashMap<MaterialId, usize>,
    routings: HashMap<RoutingId, usize>,
    characteristics: HashMap<CharacteristicId, (usize, usize)>,
    /// The zone the calendars are read in (checked: the site names a known zone or none).
    zone: SiteZone,
}

impl Catalog {
    /// Validates `plant` and indexes it.
    pub fn new(plant: Plant) -> Result<Catalog, ValidationErrors> {
        let mut v = Validator::default();
        let catalog = Catalog {
            areas: v.index("areas", plant.areas.iter().map(|a| &a.id)),
            work_centers: v.index("work_centers", plant.work_centers.iter().map(|w| &w.id)),
            units: v.index("units", plant.units.iter().map(|u| &u.id)),
            pools: v.index("pools", plant.pools.iter().map(|p| &p.id)),
            materials: v.index("materials", plant.materials.iter().map(|m| &m.id)),
            routings: v.index("routings", plant.routings.iter().map(|r| &r.id)),
            characteristics: HashMap::new(),
            zone: v.zone(&plant.site),
            plant,
        };
        let mut catalog = catalog;
        catalog.characteristics = v.characteristics(&catalog.plant);
        v.check(&catalog);
        if v.errors.is_empty() {
            Ok(catalog)
        } else {
            Err(ValidationErrors(v.errors))
        }
    }

    pub fn plant(&self) -> &Plant {
        &self.plant
    }

    /// The time zone the plant's calendars are read in (UTC when the site names none).
    pub fn zone(&self) -> &SiteZone {
        &self.zone
    }

    pub fn area(&self, id: &AreaId) -> Option<&Area> {
        self.areas.get(id).map(|&i| &self.plant.areas[i])
    }

    pub fn work_center(&self, id: &WorkCenterId) -> Option<&WorkCenter> {
        self.work_centers
            .get(id)
            .map(|&i| &self.plant.work_centers[i])
    }

    pub fn unit(&self, id: &UnitId) -> Option<&Unit> {
        self.units.get(id).map(|&i| &self.plant.units[i])
    }

    /// The production mode of a unit (from its work center).
    pub fn unit_mode(&self, id: &UnitId) -> Option<Mode> {
        self.unit(id)
            .and_then(|u| self.work_center(&u.work_center))
            .map(|w| w.mode)
    }

    pub fn pool(&self, id: &PoolId) -> Option<&ResourcePool> {
        self.pools.get(id).map(|&i| &self.plant.pools[i])
    }

    pub fn material(&self, id: &MaterialId) -> Option<&Material> {
        self.materials.get(id).map(|&i| &self.plant.materials[i])
    }

    pub fn routing(&self, id: &RoutingId) -> Option<&Routing> {
        self.routings.get(id).map(|&i| &self.plant.routings[i])
    }

    /// The characteristic and the inspection plan it belongs to.
    pub fn characteristic(
        &self,
        id: &CharacteristicId,
    ) -> Option<(&InspectionPlan, &Characteristic)> {
        self.characteristics.get(id).map(|&(p, c)| {
            let plan = &self.plant.inspection_plans[p];
            (plan, &plan.characteristics[c])
        })
    }

    pub fn changeover_matrix(&self, id: &ChangeoverMatrixId) -> Option<&ChangeoverMatrix> {
        self.plant.changeover_matrices.iter().find(|m| &m.id == id)
    }

    /// The area a unit belongs to (through its work center).
    pub fn unit_area(&self, id: &UnitId) -> Option<&AreaId> {
        self.unit(id)
            .and_then(|u| self.work_center(&u.work_center))
            .map(|w| &w.area)
    }

    /// The areas whose units can run some step of a routing.
    pub fn routing_areas(&self, id: &RoutingId) -> BTreeSet<AreaId> {
        self.routing(id)
            .into_iter()
            .flat_map(|r| r.steps.iter().flat_map(|s| s.alternatives.iter()))
            .filter_map(|alt| self.unit_area(&alt.unit).cloned())
            .collect()
    }

    /// The plant areas an event acts on, for scope checks: the unit's area for equipment
    /// and operation events, the areas of the order's routing for order and material
    /// movements of an order. An empty set means the event is site-wide (a purchased receipt,
    /// a shipment) or names an order or unit the plant does not know.
    pub fn event_areas(&self, event: &crate::Event, state: &crate::PlantState) -> BTreeSet<AreaId> {
        use crate::EventKind as K;
        let unit_areas = |unit: &UnitId| {
            self.unit_area(unit)
                .cloned()
                .into_iter()
                .collect::<BTreeSet<_>>()
        };
        let order_areas = |order: &OrderId| {
            state
                .orders
                .get(order)
                .map(|o| self.routing_areas(&o.order.routing))
                .unwrap_or_default()
        };
        match &event.kind {
            K::OrderReleased { order } => self.routing_areas(&order.routing),
            K::OrderChanged { order, .. } | K::OrderCancelled { order, .. } => order_areas(order),
            K::MaterialConsumed { order, .. } | K::MaterialProduced { order, .. } => {
                order_areas(order)
            }
            K::OperationStarted { unit, .. }
            | K::OperationCompleted { unit, .. }
            | K::EquipmentStateChanged { unit, .. } => unit_areas(unit),
            K::QualityResultRecorded {
                unit: Some(unit), ..
            } => unit_areas(unit),
            K::QualityResultRecorded {
                order: Some(order), ..
            } => order_areas(order),
            K::OperationDispatched { order, unit, .. } => match unit {
                Some(unit) => unit_areas(unit),
                None => order_areas(order),
            },
            K::MemberAttendance { pool, .. } => self
                .pool(pool)
                .map(|p| p.areas.iter().cloned().collect())
                .unwrap_or_default(),
            K::QualityResultRecorded { .. }
            | K::MaterialReceived { .. }
            | K::ReceiptExpected { .. }
            | K::ReceiptCancelled { .. }
            | K::MaterialShipped { .. } => BTreeSet::new(),
        }
    }

    /// Checks an order against the plant; the problems name the order's fields.
    pub fn check_order(&self, order: &ProductionOrder, path: &str) -> Vec<ValidationError> {
        let mut v = Validator::default();
        v.order(self, order, path);
        v.errors
    }
}

#[derive(Default)]
struct Validator {
    errors: Vec<ValidationError>,
}

impl Validator {
    fn push(&mut self, path: impl Into<String>, id: Option<&str>, message: impl Into<String>) {
        self.errors.push(ValidationError {
            path: path.into(),
            id: id.map(str::to_owned),
            message: message.into(),
        });
    }

    fn index<'a, Id>(
        &mut self,
        collection: &str,
        ids: impl Iterator<Item = &'a Id>,
    ) -> HashMap<Id, usize>
    where
        Id: Clone + Eq + std::hash::Hash + fmt::Display + 'a,
    {
        let mut map = HashMap::new();
        for (i, id) in ids.enumerate() {
            if id.to_string().trim().is_empty() {
                self.push(
                    format!("{collection}[{i}].id"),
                    None,
                    "id must not be empty",
                );
            } else if map.insert(id.clone(), i).is_some() {
                self.push(
                    format!("{collection}[{i}]"),
                    Some(&id.to_string()),
                    "duplicate id",
                );
            }
        }
        map
    }

    fn characteristics(&mut self, plant: &Plant) -> HashMap<CharacteristicId, (usize, usize)> {
        let mut map = HashMap::new();
        for (p, plan) in plant.inspection_plans.iter().enumerate() {
            for (c, ch) in plan.characteristics.iter().enumerate() {
                if map.insert(ch.id.clone(), (p, c)).is_some() {
                    self.push(
                        format!("inspection_plans[{p}].characteristics[{c}]"),
                        Some(ch.id.as_str()),
                        "duplicate characteristic id (ids are unique across all plans)",
                    );
                }
            }
        }
        map
    }

    /// Each calendar's problems ([`crate::calendar::problems`]), under its path and id.
    fn calendars(&mut self, c: &Catalog) {
        for (i, calendar) in c.plant.calendars.iter().enumerate() {
            for (path, message) in crate::calendar::problems(calendar, |u| c.unit(u).is_some()) {
                let id = Some(calendar.id.as_str());
                self.push(format!("calendars[{i}]{path}"), id, message);
            }
        }
    }

    /// The site's time zone; an unknown name is a problem (and calendars fall back to UTC).
    fn zone(&mut self, site: &Site) -> SiteZone {
        SiteZone::of_site(site).unwrap_or_else(|e| {
            self.push("site.time_zone", Some(site.id.as_str()), e.to_string());
            SiteZone::UTC
        })
    }

    fn positive(&mut self, path: String, id: Option<&str>, field: &str, value: f64) {
        if !(value.is_finite() && value > 0.0) {
            self.push(
                path,
                id,
                format!("{field} must be a positive number, got {value}"),
            );
        }
    }

    fn check(&mut self, c: &Catalog) {
        let p = &c.plant;
        if p.schema_version != PLANT_SCHEMA_VERSION {
            self.push(
                "schema_version",
                None,
                format!(
                    "unsupported version {} (this build reads {PLANT_SCHEMA_VERSION})",
                    p.schema_version
                ),
            );
        }
        let calendars: BTreeSet<&CalendarId> = p.calendars.iter().map(|c| &c.id).collect();
        let matrices: BTreeSet<&ChangeoverMatrixId> =
            p.changeover_matrices.iter().map(|m| &m.id).collect();
        let families: BTreeSet<&FamilyId> = p.families.iter().map(|f| &f.id).collect();
        let certifications: BTreeSet<&CertificationId> =
            p.certifications.iter().map(|c| &c.id).collect();
        let plans: BTreeSet<&InspectionPlanId> = p.inspection_plans.iter().map(|p| &p.id).collect();

        self.work_centers(c);
        self.units(c, &calendars, &matrices);
        self.pools(c, &calendars, &certifications);
        self.materials(c, &families);
        for (i, routing) in p.routings.iter().enumerate() {
            self.routing(c, i, routing, &plans);
        }
        self.changeover_matrices(c, &families);
        self.calendars(c);
        self.inspection_plans(c);
        self.orders(c);
    }

    /// Every work center sits in an existing area.
    fn work_centers(&mut self, c: &Catalog) {
        let p = &c.plant;
        for (i, wc) in p.work_centers.iter().enumerate() {
            if c.area(&wc.area).is_none() {
                self.push(
                    format!("work_centers[{i}].area"),
                    Some(wc.id.as_str()),
                    format!("area `{}` does not exist", wc.area),
                );
            }
        }
    }

    /// Each unit's work center, calendar, changeover matrix, CIP rule and positive figures.
    fn units(
        &mut self,
        c: &Catalog,
        calendars: &BTreeSet<&CalendarId>,
        matrices: &BTreeSet<&ChangeoverMatrixId>,
    ) {
        let p = &c.plant;
        for (i, unit) in p.units.iter().enumerate() {
            let id = Some(unit.id.as_str());
            let path = format!("units[{i}]");
            if c.work_center(&unit.work_center).is_none() {
                self.push(
                    format!("{path}.work_center"),
                    id,
                    format!("work center `{}` does not exist", unit.work_center),
                );
            }
            if !calendars.contains(&unit.calendar) {
                self.push(
                    format!("{path}.calendar"),
                    id,
                    format!("calendar `{}` does not exist", unit.calendar),
                );
            }
            if let Some(m) = &unit.changeover_matrix
                && !matrices.contains(m)
            {
                self.push(
                    format!("{path}.changeover_matrix"),
                    id,
                    format!("changeover matrix `{m}` does not exist"),
                );
            }
            if let Some(cip) = &unit.cip {
                self.positive(
                    format!("{path}.cip.duration_minutes"),
                    id,
                    "duration_minutes",
                    cip.duration_minutes,
                );
                if !cip.on_product_change
                    && cip.after_batches.is_none()
                    && cip.max_run_minutes.is_none()
                {
                    self.push(
                        format!("{path}.cip"),
                        id,
                        "a CIP rule needs at least one trigger",
                    );
                }
                if cip.after_batches == Some(0) {
                    self.push(
                        format!("{path}.cip.after_batches"),
                        id,
                        "after_batches must be at least 1",
                    );
                }
                if let Some(max) = cip.max_run_minutes {
                    self.positive(
                        format!("{path}.cip.max_run_minutes"),
                        id,
                        "max_run_minutes",
                        max,
                    );
                }
            }
            for (field, value) in [
                ("max_batch_size", unit.max_batch_size),
                ("mtbf_hours", unit.mtbf_hours),
                ("mttr_hours", unit.mttr_hours),
            ] {
                if let Some(value) = value {
                    self.positive(format!("{path}.{field}"), id, field, value);
                }
            }
        }
    }

    /// Each pool's calendar, areas and members (unique ids, capacity, certifications).
    fn pools(
        &mut self,
        c: &Catalog,
        calendars: &BTreeSet<&CalendarId>,
        certifications: &BTreeSet<&CertificationId>,
    ) {
        let p = &c.plant;
        for (i, pool) in p.pools.iter().enumerate() {
            let id = Some(pool.id.as_str());
            if !calendars.contains(&pool.calendar) {
                self.push(
                    format!("pools[{i}].calendar"),
                    id,
                    format!("calendar `{}` does not exist", pool.calendar),
                );
            }
            if pool.members.is_empty() {
                self.push(
                    format!("pools[{i}].members"),
                    id,
                    "a pool needs at least one member",
                );
            }
            for (a, area) in pool.areas.iter().enumerate() {
                if c.area(area).is_none() {
                    self.push(
                        format!("pools[{i}].areas[{a}]"),
                        id,
                        format!("area `{area}` does not exist"),
                    );
                }
            }
            let mut seen = BTreeSet::new();
            for (m, member) in pool.members.iter().enumerate() {
                let path = format!("pools[{i}].members[{m}]");
                if !seen.insert(&member.id) {
                    self.push(
                        path.clone(),
                        Some(member.id.as_str()),
                        "duplicate member id in pool",
                    );
                }
                self.positive(
                    format!("{path}.capacity"),
                    Some(member.id.as_str()),
                    "capacity",
                    member.capacity,
                );
                for (k, held) in member.certifications.iter().enumerate() {
                    if !certifications.contains(&held.certification) {
                        self.push(
                            format!("{path}.certifications[{k}]"),
                            Some(member.id.as_str()),
                            format!("certification `{}` does not exist", held.certification),
                        );
                    }
                    if !(1..=3).contains(&held.level) {
                        self.push(
                            format!("{path}.certifications[{k}].level"),
                            Some(member.id.as_str()),
                            "level must be 1, 2 or 3",
                        );
                    }
                }
            }
        }
    }

    /// Each material's family exists.
    fn materials(&mut self, c: &Catalog, families: &BTreeSet<&FamilyId>) {
        let p = &c.plant;
        for (i, material) in p.materials.iter().enumerate() {
            if let Some(f) = &material.family
                && !families.contains(f)
            {
                self.push(
                    format!("materials[{i}].family"),
                    Some(material.id.as_str()),
                    format!("family `{f}` does not exist"),
                );
            }
        }
    }

    /// Each changeover matrix: no negative minutes or costs; family keys name existing families.
    fn changeover_matrices(&mut self, c: &Catalog, families: &BTreeSet<&FamilyId>) {
        let p = &c.plant;
        for (i, matrix) in p.changeover_matrices.iter().enumerate() {
            let id = Some(matrix.id.as_str());
            if !(matrix.default_minutes >= 0.0 && matrix.default_cost >= 0.0) {
                self.push(
                    format!("changeover_matrices[{i}]"),
                    id,
                    "default minutes and cost must not be negative",
                );
            }
            for (e, entry) in matrix.entries.iter().enumerate() {
                let path = format!("changeover_matrices[{i}].entries[{e}]");
                if matches!(matrix.keyed_by, ChangeoverKey::Family) {
                    for key in [&entry.from, &entry.to] {
                        if !families.contains(&FamilyId::from(key.as_str())) {
                            self.push(path.clone(), id, format!("family `{key}` does not exist"));
                        }
                    }
                }
                if !(entry.minutes >= 0.0 && entry.cost >= 0.0) {
                    self.push(path, id, "minutes and cost must not be negative");
                }
            }
        }
    }

    /// Each inspection plan's material exists and its characteristics are well formed.
    fn inspection_plans(&mut self, c: &Catalog) {
        let p = &c.plant;
        for (i, plan) in p.inspection_plans.iter().enumerate() {
            if c.material(&plan.material).is_none() {
                self.push(
                    format!("inspection_plans[{i}].material"),
                    Some(plan.id.as_str()),
                    format!("material `{}` does not exist", plan.material),
                );
            }
            for (k, ch) in plan.characteristics.iter().enumerate() {
                let path = format!("inspection_plans[{i}].characteristics[{k}]");
                if let (Some(lsl), Some(usl)) = (ch.lsl, ch.usl)
                    && lsl >= usl
                {
                    self.push(
                        path.clone(),
                        Some(ch.id.as_str()),
                        format!("lsl {lsl} must be below usl {usl}"),
                    );
                }
                if ch.subgroup_size == 0 || ch.subgroup_size > 25 {
                    self.push(
                        path.clone(),
                        Some(ch.id.as_str()),
                        "subgroup_size must be 1 to 25",
                    );
                }
                let needs_subgroups = matches!(ch.chart, ChartKind::XbarR | ChartKind::XbarS);
                if needs_subgroups && ch.subgroup_size < 2 {
                    self.push(
                        path,
                        Some(ch.id.as_str()),
                        "x-bar charts need subgroup_size of at least 2",
                    );
                }
            }
        }
    }

    /// Order ids are unique, and each order checks against the catalog.
    fn orders(&mut self, c: &Catalog) {
        let p = &c.plant;
        let mut order_ids = BTreeSet::new();
        for (i, order) in p.orders.iter().enumerate() {
            let path = format!("orders[{i}]");
            if !order_ids.insert(&order.id) {
                self.push(path.clone(), Some(order.id.as_str()), "duplicate order id");
            }
            self.order(c, order, &path);
        }
    }

    fn routing(
        &mut self,
        c: &Catalog,
        i: usize,
        routing: &Routing,
        plans: &BTreeSet<&InspectionPlanId>,
    ) {
        let id = Some(routing.id.as_str());
        let path = format!("routings[{i}]");
        match c.material(&routing.product) {
            None => self.push(
                format!("{path}.product"),
                id,
                format!("material `{}` does not exist", routing.product),
            ),
            Some(m) if matches!(m.kind, MaterialKind::Raw | MaterialKind::Packaging) => self.push(
                format!("{path}.product"),
                id,
                format!("material `{}` is purchased, not produced", m.id),
            ),
            Some(_) => {}
        }
        if routing.steps.is_empty() {
            self.push(
                format!("{path}.steps"),
                id,
                "a routing needs at least one step",
            );
        }
        if !(routing.expected_yield > 0.0 && routing.expected_yield <= 1.0) {
            self.push(
                format!("{path}.expected_yield"),
                id,
                "expected_yield must be in (0, 1]",
            );
        }
        if let Some(size) = routing.batch_size {
            self.positive(format!("{path}.batch_size"), id, "batch_size", size);
        }
        for (s, step) in routing.steps.iter().enumerate() {
            let spath = format!("{path}.steps[{s}]");
            if step.alternatives.is_empty() {
                self.push(
                    format!("{spath}.alternatives"),
                    id,
                    format!("step `{}` has no unit that can run it", step.name),
                );
            }
            self.step_alternatives(c, routing, &spath, id, step);
            self.step_inputs(c, &spath, id, step, plans);
        }
    }

    /// Each alternative of a step: an existing unit of the routing's mode and a valid duration.
    fn step_alternatives(
        &mut self,
        c: &Catalog,
        routing: &Routing,
        spath: &str,
        id: Option<&str>,
        step: &Step,
    ) {
        for (a, alt) in step.alternatives.iter().enumerate() {
            let apath = format!("{spath}.alternatives[{a}]");
            match c.unit_mode(&alt.unit) {
                None => self.push(
                    format!("{apath}.unit"),
                    id,
                    format!("unit `{}` does not exist", alt.unit),
                ),
                Some(mode) if mode != routing.mode => self.push(
                    format!("{apath}.unit"),
                    id,
                    format!(
                        "unit `{}` is a {} unit but the routing is {}",
                        alt.unit,
                        mode.as_str(),
                        routing.mode.as_str()
                    ),
                ),
                Some(_) => {}
            }
            match alt.duration {
                StepDuration::Fixed { minutes } => {
                    self.positive(format!("{apath}.duration.minutes"), id, "minutes", minutes)
                }
                StepDuration::PerItem {
                    setup_minutes,
                    minutes_per_item,
                } => {
                    self.non_negative(format!("{apath}.duration.setup_minutes"), id, setup_minutes);
                    self.positive(
                        format!("{apath}.duration.minutes_per_item"),
                        id,
                        "minutes_per_item",
                        minutes_per_item,
                    );
                }
                StepDuration::Rate {
                    setup_minutes,
                    items_per_hour,
                } => {
                    self.non_negative(format!("{apath}.duration.setup_minutes"), id, setup_minutes);
                    self.positive(
                        format!("{apath}.duration.items_per_hour"),
                        id,
                        "items_per_hour",
                        items_per_hour,
                    );
                }
            }
        }
    }

    /// A step's pools, consumed materials, parameter ranges, wait limit and inspection plan.
    fn step_inputs(
        &mut self,
        c: &Catalog,
        spath: &str,
        id: Option<&str>,
        step: &Step,
        plans: &BTreeSet<&InspectionPlanId>,
    ) {
        for (r, req) in step.pools.iter().enumerate() {
            self.pool_requirement(c, &format!("{spath}.pools[{r}]"), id, req);
        }
        for (u, usage) in step.consumes.iter().enumerate() {
            if c.material(&usage.material).is_none() {
                self.push(
                    format!("{spath}.consumes[{u}].material"),
                    id,
                    format!("material `{}` does not exist", usage.material),
                );
            }
            self.positive(
                format!("{spath}.consumes[{u}].per_unit"),
                id,
                "per_unit",
                usage.per_unit,
            );
        }
        for (k, param) in step.parameters.iter().enumerate() {
            if !(param.low <= param.target && param.target <= param.high) {
                self.push(
                    format!("{spath}.parameters[{k}]"),
                    id,
                    format!("parameter `{}` needs low <= target <= high", param.name),
                );
            }
        }
        if let Some(wait) = step.max_wait_minutes
            && !(wait >= 0.0 && wait.is_finite())
        {
            self.push(
                format!("{spath}.max_wait_minutes"),
                id,
                "max_wait_minutes must not be negative",
            );
        }
        if let Some(plan) = &step.inspection
            && !plans.contains(plan)
        {
            self.push(
                format!("{spath}.inspection"),
                id,
                format!("inspection plan `{plan}` does not exist"),
            );
        }
    }

    fn non_negative(&mut self, path: String, id: Option<&str>, value: f64) {
        if !(value.is_finite() && value >= 0.0) {
            self.push(path, id, format!("must not be negative, got {value}"));
        }
    }

    fn pool_requirement(
        &mut self,
        c: &Catalog,
        path: &str,
        id: Option<&str>,
        req: &PoolRequirement,
    ) {
        let Some(pool) = c.pool(&req.pool) else {
            self.push(
                format!("{path}.pool"),
                id,
                format!("pool `{}` does not exist", req.pool),
            );
            return;
        };
        if req.quantity == 0 {
            self.push(
                format!("{path}.quantity"),
                id,
                "quantity must be at least 1",
            );
        }
        let min_level = req.min_level.unwrap_or(1);
        let qualified = pool
            .members
            .iter()
            .filter(|m| match &req.certification {
                None => true,
                Some(cert) => m
                    .certifications
                    .iter()
                    .any(|h| &h.certification == cert && h.level >= min_level),
            })
            .count();
        if qualified < req.quantity as usize {
            let what = match &req.certification {
                Some(cert) => format!("members certified `{cert}` at level {min_level} or above"),
                None => "members".to_owned(),
            };
            self.push(
                path.to_owned(),
                id,
                format!(
                    "needs {} {what} of pool `{}` but only {qualified} exist",
                    req.quantity, pool.id
                ),
            );
        }
    }

    fn order(&mut self, c: &Catalog, order: &ProductionOrder, path: &str) {
        let id = Some(order.id.as_str());
        if order.id.as_str().trim().is_empty() {
            self.push(format!("{path}.id"), None, "id must not be empty");
        }
        if c.material(&order.product).is_none() {
            self.push(
                format!("{path}.product"),
                id,
                format!("material `{}` does not exist", order.product),
            );
        }
        match c.routing(&order.routing) {
            None => self.push(
                format!("{path}.routing"),
                id,
                format!("routing `{}` does not exist", order.routing),
            ),
            Some(r) if r.product != order.product => self.push(
                format!("{path}.routing"),
                id,
                format!(
                    "routing `{}` makes `{}`, not `{}`",
                    r.id, r.product, order.product
                ),
            ),
            Some(_) => {}
        }
        self.positive(format!("{path}.quantity"), id, "quantity", order.quantity);
        if order.due < order.release {
            self.push(
                format!("{path}.due"),
                id,
                format!("due {} is before release {}", order.due, order.release),
            );
        }
    }
}
