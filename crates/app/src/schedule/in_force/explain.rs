//! Why orders are late under the plan in force, and which units and pools hold them up: the
//! engine's explanation (`schedule::plant::explain`) of the plan in force rebased on the
//! current problem, as a reader may see it. An area reader sees only the late orders it reads,
//! its area's units and the pools serving its area (decided from the store's plant, never
//! from the request; `crate::scope`).

use govern::Principal;
use schemars::JsonSchema;
use serde::Serialize;

use schedule::plant::explain::{Explanation, LateOrder};

use super::view::area_units;
use super::{current_problem, in_force, rebase};
use crate::scope::Reach;
use crate::{App, AppError};

/// The explanation of the plan in force, limited to what the reader reads.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct LatenessAnswer {
    /// The version of the plan in force explained.
    pub plan_version: u64,
    /// The order asked about, when one was: its chain of waits if it is late, else `null`
    /// and `on_time` true.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<OrderLateness>,
    #[serde(flatten)]
    pub explanation: Explanation,
}

/// One order's lateness under the plan in force.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct OrderLateness {
    pub id: String,
    /// Whether the plan completes it by its due date.
    pub on_time: bool,
    /// Its chain of waits back to its release (absent when on time).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub late: Option<LateOrder>,
}

/// Explains the plan in force for `who`: every late order it reads (or, with `order`, that
/// one order, 404 when it does not exist or `who` does not read it) and the bottlenecks.
/// `Ok(None)` when no plan is in force.
pub async fn explain(
    app: &App,
    who: &Principal,
    order: Option<&str>,
) -> Result<Option<LatenessAnswer>, AppError> {
    let reach = Reach::of(app, who).await?;
    if let Some(id) = order
        && !reach
            .order_areas(id)
            .is_some_and(|areas| reach.reads(&areas))
    {
        return Err(AppError::NotFound(format!("order `{id}` does not exist")));
    }
    let Some(plan) = in_force(app).await? else {
        return Ok(None);
    };
    let problem = current_problem(app).await?;
    let version = plan.header.version;
    let mut explanation = crate::blocking(move || {
        let schedule = rebase(&plan, &problem);
        schedule::plant::explain(&problem, &schedule).map_err(AppError::impossible)
    })
    .await?;
    explanation.late_orders.retain(|late| {
        reach
            .order_areas(&late.order)
            .is_some_and(|a| reach.reads(&a))
    });
    explanation.total_minutes_late = explanation
        .late_orders
        .iter()
        .map(|late| late.minutes_late)
        .sum();
    if let Some(units) = area_units(&reach) {
        explanation.units.retain(|u| units.contains(&u.unit));
        let plant = reach.catalog().plant();
        explanation.pools.retain(|load| {
            plant
                .pools
                .iter()
                .find(|pool| pool.id.as_str() == load.pool)
                .is_some_and(|pool| pool.areas.iter().any(|area| reach.reads_area(area)))
        });
    }
    let order = order.map(|id| {
        let late = explanation
            .late_orders
            .iter()
            .find(|late| late.order == id)
            .cloned();
        OrderLateness {
            id: id.to_owned(),
            on_time: late.is_none(),
            late,
        }
    });
    Ok(Some(LatenessAnswer {
        plan_version: version,
        order,
        explanation,
    }))
}
