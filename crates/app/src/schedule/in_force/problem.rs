//! The scheduling problem of the plant as it is now, from the store.
//!
//! `schedule::plant::from_model` maps the catalog and the folded state; this module decides
//! what "now" is and what the store adds beside the state:
//!
//! - minute 0 is the plant clock (the time of the latest event; the service's clock before
//!   any), rounded down to the whole minute, so plans made at different times move between
//!   horizons by whole minutes;
//! - the horizon covers every open order: the longer of 14 days and the latest due date plus
//!   two days, in whole days, at most a year;
//! - completed and cancelled orders and completed steps are left out; the step running now is
//!   fixed on its unit since it started; a unit down now is down for its MTTR;
//! - lots on an active quality hold, and lots made by an order on hold, are not stock;
//! - pool members are the plant's, with certifications unexpired at minute 0; a member absent
//!   (`member_attendance`) lowers its pool's capacity, and that of each certified sub-pool it
//!   counts in, while the absence lasts;
//! - open expected receipts (`receipt_expected` not yet received or cancelled) are the
//!   receipts of their materials, which are then tracked: opening stock is what their lots
//!   not on hold have on hand, and work that consumes them waits for the receipts. A receipt
//!   overdue (expected before minute 0, not received) is assumed to arrive
//!   [`OVERDUE_RECEIPT_HOURS`] after minute 0: it is still coming, but not now; the plan is
//!   made again when it arrives. Demand beyond stock and every expected receipt is assumed
//!   covered from minute 0, as for intermediates (purchases nobody has announced yet).
//!
//! Nothing here reads a clock but the state's (and `app.now()` only for an empty log): the
//! same store gives the same problem, byte for byte.

use std::collections::BTreeSet;

use model::{LotId, OrderId, OrderStatus, Timestamp};
use schedule::plant::from_model::{FromModelOptions, problem_from_model};
use schedule::plant::problem::PlantProblem;
use store::HoldFilter;

use crate::{App, AppError};

const DAY_MINUTES: i64 = 1440;
/// The shortest horizon of the current problem.
const MIN_HORIZON_DAYS: i64 = 14;
/// Slack after the latest due date.
const SLACK_DAYS: i64 = 2;
/// The longest horizon.
const MAX_HORIZON_DAYS: i64 = 366;
/// How long after minute 0 an overdue receipt is assumed to arrive.
pub const OVERDUE_RECEIPT_HOURS: i64 = 24;

/// The problem of the plant as it is now (see the module documentation).
pub async fn current_problem(app: &App) -> Result<PlantProblem, AppError> {
    let snapshot = app.store.snapshot().await;
    let catalog = snapshot.catalog.ok_or(AppError::NoPlant)?;
    let state = snapshot.state;
    let clock = state.clock.unwrap_or_else(|| app.now());
    let start = Timestamp(clock.0.div_euclid(60_000) * 60_000);
    let latest_due = state
        .orders
        .values()
        .filter(|o| !matches!(o.status, OrderStatus::Completed | OrderStatus::Cancelled))
        .map(|o| o.order.due)
        .max();
    let needed = latest_due.map_or(0, |due| {
        let minutes = (due.0 - start.0).div_euclid(60_000);
        (minutes + DAY_MINUTES - 1).div_euclid(DAY_MINUTES) + SLACK_DAYS
    });
    let days = needed.clamp(MIN_HORIZON_DAYS, MAX_HORIZON_DAYS);
    let mut options = FromModelOptions::new(start, days * DAY_MINUTES);
    options.held_lots = held_lots(app, &state).await?;
    options.receipts = open_receipts(&state, start);
    tokio::task::spawn_blocking(move || {
        problem_from_model(&catalog, &state, &options).map_err(|e| {
            AppError::Impossible(format!(
                "the plant as it is now does not map to a scheduling problem: {e}"
            ))
        })
    })
    .await
    .map_err(|_| AppError::Internal("mapping the plant failed; see the server log".into()))?
}

/// The open expected receipts as `(material, time, quantity)`, an overdue one at
/// [`OVERDUE_RECEIPT_HOURS`] after `start`, in receipt id order.
pub fn open_receipts(
    state: &model::PlantState,
    start: Timestamp,
) -> Vec<(model::MaterialId, Timestamp, f64)> {
    let assumed = Timestamp(start.0 + OVERDUE_RECEIPT_HOURS * 3_600_000);
    state
        .receipts
        .values()
        .filter(|r| r.is_open())
        .map(|r| {
            let at = if r.expected < start {
                assumed
            } else {
                r.expected
            };
            (r.material.clone(), at, r.quantity)
        })
        .collect()
}

/// Lots on an active hold, and the lots made by orders on an active hold.
pub(super) async fn held_lots(
    app: &App,
    state: &model::PlantState,
) -> Result<BTreeSet<LotId>, AppError> {
    let mut lots = BTreeSet::new();
    let mut orders = BTreeSet::new();
    let mut offset = 0;
    loop {
        let page = app
            .store
            .holds(HoldFilter {
                active: Some(true),
                limit: store::MAX_PAGE,
                offset,
                ..HoldFilter::default()
            })
            .await?;
        let read = page.items.len() as u32;
        for hold in page.items {
            match hold.item_kind.as_str() {
                "lot" => {
                    lots.insert(LotId::from(hold.item_id.as_str()));
                }
                "order" => {
                    orders.insert(OrderId::from(hold.item_id.as_str()));
                }
                _ => {}
            }
        }
        offset += read;
        if read == 0 || u64::from(offset) >= page.total {
            break;
        }
    }
    for (id, lot) in &state.lots {
        if lot.produced_by.as_ref().is_some_and(|o| orders.contains(o)) {
            lots.insert(id.clone());
        }
    }
    Ok(lots)
}
