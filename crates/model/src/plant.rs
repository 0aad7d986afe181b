//! The static plant: ISA-95 hierarchy, pooled resources, materials, routings, changeovers,
//! calendars and inspection plans, plus the order book it starts with.
//!
//! These types are master data. What changes while the plant runs (order status, equipment
//! state, lots) lives in [`crate::state`] and is folded from [`crate::event`]s.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ids::*;
use crate::time::Timestamp;

/// The version of the plant document format this build reads and writes.
pub const PLANT_SCHEMA_VERSION: u32 = 1;

/// A whole plant: structure, master data and an initial order book.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Plant {
    /// Format version; must equal [`PLANT_SCHEMA_VERSION`].
    pub schema_version: u32,
    pub site: Site,
    pub areas: Vec<Area>,
    pub work_centers: Vec<WorkCenter>,
    pub units: Vec<Unit>,
    #[serde(default)]
    pub pools: Vec<ResourcePool>,
    #[serde(default)]
    pub certifications: Vec<Certification>,
    #[serde(default)]
    pub families: Vec<ProductFamily>,
    pub materials: Vec<Material>,
    pub routings: Vec<Routing>,
    #[serde(default)]
    pub changeover_matrices: Vec<ChangeoverMatrix>,
    pub calendars: Vec<Calendar>,
    #[serde(default)]
    pub inspection_plans: Vec<InspectionPlan>,
    /// The order book at the start of the plant's history; later orders arrive as events.
    #[serde(default)]
    pub orders: Vec<ProductionOrder>,
}

/// How a work center produces.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Countable items with serial numbers, made on assembly lines and cells.
    Discrete,
    /// Batches of material made in vessels by recipe.
    Process,
    /// Continuous runs at a line rate, tracked by lot code.
    Repetitive,
}

crate::wire_enum!(Mode, "mode", [Discrete, Process, Repetitive]);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Site {
    pub id: SiteId,
    pub name: String,
    /// IANA time zone name (e.g. `Europe/Berlin`) the calendars' shifts are read in, with
    /// daylight saving; without one, shifts are in UTC. Instants (events, blackouts, due
    /// dates) are UTC whatever the zone.
    #[serde(default)]
    pub time_zone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Area {
    pub id: AreaId,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkCenter {
    pub id: WorkCenterId,
    pub name: String,
    pub area: AreaId,
    pub mode: Mode,
}

/// A schedulable piece of equipment: a reactor, an assembly line, a packaging line, an oven.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Unit {
    pub id: UnitId,
    pub name: String,
    pub work_center: WorkCenterId,
    /// The working calendar; the unit is available only inside its shifts.
    pub calendar: CalendarId,
    /// Sequence-dependent changeovers between products on this unit.
    #[serde(default)]
    pub changeover_matrix: Option<ChangeoverMatrixId>,
    /// When the unit must be cleaned in place.
    #[serde(default)]
    pub cip: Option<CipRule>,
    /// Largest batch the vessel holds (process units), in the material's unit of measure.
    #[serde(default)]
    pub max_batch_size: Option<f64>,
    /// Mean time between failures, hours of running time.
    #[serde(default)]
    pub mtbf_hours: Option<f64>,
    /// Mean time to repair, hours.
    #[serde(default)]
    pub mttr_hours: Option<f64>,
}

/// Clean-in-place triggers: any one of them makes a CIP due before the next batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CipRule {
    pub duration_minutes: f64,
    /// A CIP whenever the product changes.
    #[serde(default)]
    pub on_product_change: bool,
    /// A CIP after this many batches since the last one.
    #[serde(default)]
    pub after_batches: Option<u32>,
    /// A CIP once the unit has run this long since the last one.
    #[serde(default)]
    pub max_run_minutes: Option<f64>,
}

/// What kind of thing a pool holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PoolKind {
    People,
    MobileTank,
    TestStation,
    Oven,
    Utility,
}

/// Interchangeable secondary resources shared across work centers and modes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourcePool {
    pub id: PoolId,
    pub name: String,
    pub kind: PoolKind,
    /// The areas this pool serves; members may be transferred between them.
    pub areas: Vec<AreaId>,
    pub calendar: CalendarId,
    pub members: Vec<PoolMember>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PoolMember {
    pub id: MemberId,
    pub name: String,
    /// Certifications held (people) or capabilities (equipment), with a level.
    #[serde(default)]
    pub certifications: Vec<HeldCertification>,
    /// Capacity of one member in its unit (litres for a tank); 1 for people and stations.
    #[serde(default = "one")]
    pub capacity: f64,
}

fn one() -> f64 {
    1.0
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HeldCertification {
    pub certification: CertificationId,
    /// 1 = trainee, 2 = qualified, 3 = expert.
    pub level: u8,
    /// Expiry; past it the certification does not count.
    #[serde(default)]
    pub expires: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Certification {
    pub id: CertificationId,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductFamily {
    pub id: FamilyId,
    pub name: String,
    /// Free attributes (colour, allergen, viscosity class) that changeover matrices may key on.
    #[serde(default)]
    pub attributes: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MaterialKind {
    Raw,
    Intermediate,
    Finished,
    Packaging,
}

/// How a material is tracked through genealogy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Tracking {
    /// Each item carries a serial number.
    Serial,
    /// Quantities carry a lot or batch id.
    Lot,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Material {
    pub id: MaterialId,
    pub name: String,
    pub kind: MaterialKind,
    /// Unit of measure: `ea`, `kg`, `l`, `case`.
    pub uom: String,
    pub tracking: Tracking,
    #[serde(default)]
    pub family: Option<FamilyId>,
    /// Purchased lead time, days (raw and packaging materials).
    #[serde(default)]
    pub lead_time_days: Option<f64>,
}

/// How long a step takes on one unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum StepDuration {
    /// A fixed time whatever the quantity: a batch reaction, a cure cycle.
    Fixed { minutes: f64 },
    /// A setup plus a time per item: discrete assembly and test.
    PerItem {
        setup_minutes: f64,
        minutes_per_item: f64,
    },
    /// A line rate: repetitive runs, whose length follows the quantity.
    Rate {
        setup_minutes: f64,
        items_per_hour: f64,
    },
}

impl StepDuration {
    /// Minutes to make `quantity` items (or one batch) with this duration rule.
    pub fn minutes_for(&self, quantity: f64) -> f64 {
        match *self {
            StepDuration::Fixed { minutes } => minutes,
            StepDuration::PerItem {
                setup_minutes,
                minutes_per_item,
            } => setup_minutes + minutes_per_item * quantity,
            StepDuration::Rate {
                setup_minutes,
                items_per_hour,
            } => setup_minutes + 60.0 * quantity / items_per_hour,
        }
    }
}

/// One unit that can run a step, and how long it takes there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StepAlternative {
    pub unit: UnitId,
    pub duration: StepDuration,
}

/// A secondary resource a step holds for its whole duration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PoolRequirement {
    pub pool: PoolId,
    pub quantity: u32,
    /// For people: the certification each assigned member must hold.
    #[serde(default)]
    pub certification: Option<CertificationId>,
    #[serde(default)]
    pub min_level: Option<u8>,
}

/// Material a step consumes, per item (discrete, repetitive) or per batch unit of measure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MaterialUse {
    pub material: MaterialId,
    /// Quantity of `material` per unit of the order's quantity.
    pub per_unit: f64,
}

/// A controlled process parameter with its target and operating window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProcessParameter {
    pub name: String,
    pub uom: String,
    pub target: f64,
    pub low: f64,
    pub high: f64,
}

/// One operation of a routing, step of a recipe or phase of a line run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub name: String,
    /// The units that can run it; more than one makes the routing flexible.
    pub alternatives: Vec<StepAlternative>,
    #[serde(default)]
    pub pools: Vec<PoolRequirement>,
    #[serde(default)]
    pub consumes: Vec<MaterialUse>,
    #[serde(default)]
    pub parameters: Vec<ProcessParameter>,
    /// Longest wait allowed between the end of this step and the start of the next one.
    #[serde(default)]
    pub max_wait_minutes: Option<f64>,
    /// The inspection plan whose characteristics are measured at this step.
    #[serde(default)]
    pub inspection: Option<InspectionPlanId>,
}

/// How a product is made. For a discrete product it is a routing of operations; for a
/// process product a recipe of steps; for a repetitive product a line run. One shape serves
/// all three so that one scheduler reads them all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Routing {
    pub id: RoutingId,
    pub product: MaterialId,
    pub mode: Mode,
    /// The quantity one batch makes (process recipes); orders are made in whole batches.
    #[serde(default)]
    pub batch_size: Option<f64>,
    /// Expected yield as a fraction of the input (good output / planned output).
    #[serde(default = "full_yield")]
    pub expected_yield: f64,
    pub steps: Vec<Step>,
}

fn full_yield() -> f64 {
    1.0
}

/// Sequence-dependent changeover times and costs on the units that use this matrix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeoverMatrix {
    pub id: ChangeoverMatrixId,
    /// What the rows and columns are: product families, or the values of a family attribute.
    pub keyed_by: ChangeoverKey,
    /// Applies to any pair without an entry (and different keys).
    pub default_minutes: f64,
    pub default_cost: f64,
    pub entries: Vec<ChangeoverEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ChangeoverKey {
    Family,
    Attribute { name: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeoverEntry {
    pub from: String,
    pub to: String,
    pub minutes: f64,
    pub cost: f64,
}

impl ChangeoverMatrix {
    /// Minutes and cost to change from key `from` to key `to`; nothing for equal keys.
    pub fn lookup(&self, from: &str, to: &str) -> (f64, f64) {
        if from == to {
            return (0.0, 0.0);
        }
        self.entries
            .iter()
            .find(|e| e.from == from && e.to == to)
            .map_or((self.default_minutes, self.default_cost), |e| {
                (e.minutes, e.cost)
            })
    }
}

/// A weekly pattern of shifts plus dated exceptions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Calendar {
    pub id: CalendarId,
    pub name: String,
    pub shifts: Vec<Shift>,
    /// Planned maintenance and holidays: the calendar's units are unavailable inside them.
    #[serde(default)]
    pub blackouts: Vec<Blackout>,
}

/// A shift that repeats on the given weekdays (1 = Monday … 7 = Sunday) in the site's time
/// zone (UTC when the site names none). It ends at the wall-clock time `length_minutes`
/// after its start, so across a daylight-saving change it is an hour shorter or longer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Shift {
    pub name: String,
    pub weekdays: Vec<u8>,
    /// Minutes after local midnight (in the site's time zone; UTC without one).
    pub start_minute: u32,
    pub length_minutes: u32,
}

/// Planned unavailability between two instants: RFC 3339 with `Z` or an offset, never local
/// wall-clock times, so the site's time zone does not move them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Blackout {
    pub reason: String,
    pub start: Timestamp,
    pub end: Timestamp,
    /// Only these units; all units on the calendar when empty.
    #[serde(default)]
    pub units: Vec<UnitId>,
}

/// Which control chart a characteristic is monitored with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChartKind {
    Imr,
    XbarR,
    XbarS,
    P,
    Np,
    C,
    U,
    Ewma,
    Cusum,
}

/// A characteristic measured under an inspection plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Characteristic {
    pub id: CharacteristicId,
    pub name: String,
    pub uom: String,
    pub target: f64,
    #[serde(default)]
    pub lsl: Option<f64>,
    #[serde(default)]
    pub usl: Option<f64>,
    pub chart: ChartKind,
    /// Items measured per subgroup (1 for individuals charts).
    #[serde(default = "one_u32")]
    pub subgroup_size: u32,
}

fn one_u32() -> u32 {
    1
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InspectionPlan {
    pub id: InspectionPlanId,
    pub name: String,
    /// The material whose items, batches or lots are inspected.
    pub material: MaterialId,
    pub characteristics: Vec<Characteristic>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    High,
    Medium,
    Low,
}

impl Priority {
    /// The weight of a unit of tardiness in scheduling objectives.
    pub fn weight(self) -> f64 {
        match self {
            Priority::High => 4.0,
            Priority::Medium => 2.0,
            Priority::Low => 1.0,
        }
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Planned,
    Released,
    InProgress,
    Completed,
    Cancelled,
}

crate::wire_enum!(
    OrderStatus,
    "order status",
    [Planned, Released, InProgress, Completed, Cancelled]
);

/// A production order as the MES releases it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductionOrder {
    pub id: OrderId,
    pub product: MaterialId,
    pub routing: RoutingId,
    /// Quantity to make, in the product's unit of measure.
    pub quantity: f64,
    /// Earliest start.
    pub release: Timestamp,
    pub due: Timestamp,
    pub priority: Priority,
    /// The customer the output ships to, when made to order.
    #[serde(default)]
    pub customer: Option<String>,
}
