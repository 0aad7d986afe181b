//! mixplane's plant simulator: a seeded discrete-event digital twin of a mixed-mode plant.
//!
//! Owns the reference plant (shipped as data in `data/reference-plant.json`), the
//! simulation engine that executes a [`Plan`] or a built-in dispatch rule on any validated
//! [`model::Catalog`], and the [`GroundTruth`] behind the events it emits (injected
//! breakdowns and drifts, the true bottleneck, the effect of operator skill) so engines can
//! be scored against it.
//!
//! The run models stochastic durations, breakdowns from MTBF/MTTR, sequence-dependent
//! changeovers and CIP, shift calendars (read in the site's time zone by
//! [`model::calendar`]) and blackouts, pooled secondary resources held for a step, max-wait
//! between process steps, material availability with lot and serial genealogy, yield and
//! scrap, quality measurements for every inspection plan, and drifts whose effect travels
//! through genealogy to downstream defects.
//!
//! Code map:
//! - `options`: what the caller controls ([`SimOptions`], [`DriftSpec`], [`Plan`]), its
//!   validation against the plant, and [`Progress`], [`SimError`].
//! - `engine`: the event queue and blackouts; `engine::segments` runs a unit's work in
//!   segments (CIP, changeover, run) and its breakdowns, `engine::dispatch` decides what
//!   starts where, `engine::demand` handles arriving orders, MRP, customer changes and
//!   purchased receipts, and `engine::completion` quantities, inspection results, lots,
//!   serials and shipments.
//! - `measure`: parameter and measurement draws, and the lot-quality factor that carries a
//!   process deviation through genealogy to downstream defects.
//! - `live`: [`Live`], the same run taken step by step (advanced to a given instant, its
//!   events handed out as it goes) and replanned while it runs.
//! - `faults`: [`draw_fault`], one parameter creep or component-lot defect drawn from a seed,
//!   for scoring root-cause ranking.
//! - `report`: [`GroundTruth`] and [`Summary`] from the finished run.
//! - `output`: the serialisable result types.
//!
//! Examples: `run_reference` (a timed run with its summary and a fold check) and `dump_run`
//! (a run as one JSON document).
//!
//! Architecture invariant: this crate is pure. It performs no I/O, reads no clock, knows no
//! database, HTTP or async runtime; the caller passes the start time, options and seed, and
//! receives progress through a callback. Same plant + options + seed give byte-identical
//! events: nothing that shapes the output iterates a hash map or draws from an unseeded
//! source.

mod engine;
mod faults;
mod live;
mod measure;
mod options;
mod output;
mod report;

pub use faults::draw_fault;
pub use live::Live;
pub use measure::responds_to_lot_quality;
pub use options::{DriftSpec, DriftTarget, Plan, PlannedOperation, Progress, SimError, SimOptions};
pub use output::{
    BreakdownTruth, DriftTruth, GroundTruth, MaxWaitViolation, PurchaseReceipt, QualitySummary,
    Replanned, ResourceUtilisation, SimOutput, SkippedOperation, Summary, UnitSummary,
    WorkCenterSummary,
};
pub use report::downstream as downstream_characteristics;

use model::{Catalog, Plant};

/// The reference plant document, exactly as shipped.
pub const REFERENCE_PLANT_JSON: &str = include_str!("../data/reference-plant.json");

/// The reference plant: a specialty adhesives and dispensing-systems site (resin batches in
/// three reactors, dispenser assembly and test, cartridge and kit packaging, a curing oven
/// shared by discrete and process work) with a two-week order book from 2026-03-02.
pub fn reference_plant() -> Plant {
    serde_json::from_str(REFERENCE_PLANT_JSON).expect("the embedded reference plant parses")
}

/// The reference plant, validated.
pub fn reference_catalog() -> Catalog {
    Catalog::new(reference_plant()).expect("the embedded reference plant validates")
}

/// Simulates `options.days` days of the plant from `options.start`, executing `plan` when
/// given (operations it does not mention are dispatched by the built-in rule: earliest due
/// date among ready operations, penalising changeovers, on the alternative unit that would
/// finish first). `progress` is called about once per simulated hour and at the end.
pub fn simulate(
    catalog: &Catalog,
    options: &SimOptions,
    plan: Option<&Plan>,
    progress: impl FnMut(Progress),
) -> Result<SimOutput, SimError> {
    let sim = engine::Sim::new(catalog, options, plan)?;
    Ok(sim.run(progress))
}
