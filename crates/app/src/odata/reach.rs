//! A principal's scope as a restriction of the read model's queries: the rule of
//! `crate::scope` (what an area-scoped reader reads) written as a `store::query::Filter` that
//! the database applies with the request's own filter, so that counts, orders and pages are
//! those of what the reader may see. The objects of the area are derived from the plant and
//! the folded state exactly as `crate::scope::Reach` derives them; long lists of ids are one
//! bound parameter in the store's translation.

use govern::{Principal, Scope};
use quality::enforce::ItemKind;
use store::query::{Filter, Op, Operand, Set, Value};

use super::ReadError;
use crate::scope::Reach;
use crate::{App, AppError};

/// The filter every row of `set` read by `who` must also pass; `None` for a site-wide scope.
pub async fn restriction(
    app: &App,
    who: &Principal,
    set: Set,
) -> Result<Option<Filter>, ReadError> {
    let Scope::Area(own) = &who.scope else {
        return Ok(None);
    };
    if set == Set::AuditRecords {
        // As `crate::events::audit`: the trail is verified whole, never cut by area.
        return Err(ReadError::App(AppError::Forbidden(format!(
            "the audit trail spans every area and is verified whole; reading it needs a site-wide scope, not `area:{own}`"
        ))));
    }
    if set == Set::Proposals {
        // As `crate::govern::list`: every area of the proposal is the reader's, and it does
        // not act site-wide.
        return Ok(Some(
            Filter::Compare {
                op: Op::Eq,
                left: Operand::Field("site_wide"),
                right: Operand::Value(Value::Bool(false)),
            }
            .and(Filter::Not(Box::new(Filter::AnyItem {
                field: "areas",
                predicate: Some(Box::new(Filter::Compare {
                    op: Op::Ne,
                    left: Operand::Item,
                    right: Operand::Value(Value::Text(own.clone())),
                })),
            }))),
        ));
    }
    let reach = Reach::of(app, who).await?;
    let ids = Ids::of(&reach);
    Ok(Some(match set {
        Set::Orders => Filter::one_of("id", ids.orders.clone()),
        Set::Operations => Filter::one_of("order", ids.orders.clone()),
        Set::WorkCenters => Filter::one_of("id", ids.work_centers.clone()),
        Set::Units => Filter::one_of("id", ids.units.clone()),
        Set::Lots => Filter::one_of("id", ids.lots.clone()),
        Set::Serials => Filter::one_of("id", ids.serials.clone()),
        // An event's areas: its unit's, else its order's, else those of its lot or serial
        // (`Reach::event_areas`); one naming none of them is site-wide.
        Set::QualityResults => {
            let unit = Filter::null("unit", true).and(Filter::one_of("unit", ids.units.clone()));
            let order = Filter::null("unit", false)
                .and(Filter::null("order", true))
                .and(Filter::one_of("order", ids.orders.clone()));
            let item = Filter::null("unit", false)
                .and(Filter::null("order", false))
                .and(
                    Filter::null("lot", false)
                        .and(Filter::null("serial", false))
                        .or(Filter::one_of("lot", ids.lots.clone()))
                        .or(Filter::one_of("serial", ids.serials.clone())),
                );
            unit.or(order).or(item)
        }
        Set::Alerts => Filter::one_of("characteristic", ids.characteristics.clone()),
        Set::Holds => ids.item_rule(),
        Set::Nonconformances => Filter::AnyItem {
            field: "items",
            predicate: Some(Box::new(Filter::In {
                subject: Operand::Item,
                values: ids.item_keys(),
            })),
        },
        Set::Proposals | Set::AuditRecords => unreachable!("answered above"),
    }))
}

/// The ids of each kind of object an area-scoped reader reads.
struct Ids {
    orders: Vec<Value>,
    units: Vec<Value>,
    work_centers: Vec<Value>,
    lots: Vec<Value>,
    serials: Vec<Value>,
    characteristics: Vec<Value>,
}

fn text(id: &str) -> Value {
    Value::Text(id.to_owned())
}

impl Ids {
    fn of(reach: &Reach) -> Ids {
        let catalog = reach.catalog();
        let state = reach.state();
        let plant = catalog.plant();
        let orders = state
            .orders
            .keys()
            .filter(|id| reach.reads_item(ItemKind::Order, id.as_str()))
            .map(|id| text(id.as_str()))
            .collect();
        let units = plant
            .units
            .iter()
            .filter(|u| {
                catalog
                    .unit_area(&u.id)
                    .is_some_and(|a| reach.reads_area(a))
            })
            .map(|u| text(u.id.as_str()))
            .collect();
        let work_centers = plant
            .work_centers
            .iter()
            .filter(|w| reach.reads_area(&w.area))
            .map(|w| text(w.id.as_str()))
            .collect();
        let lots = state
            .lots
            .keys()
            .filter(|id| reach.reads_item(ItemKind::Lot, id.as_str()))
            .map(|id| text(id.as_str()))
            .collect();
        let serials = state
            .serials
            .keys()
            .filter(|id| reach.reads_item(ItemKind::Serial, id.as_str()))
            .map(|id| text(id.as_str()))
            .collect();
        let characteristics = plant
            .inspection_plans
            .iter()
            .flat_map(|p| p.characteristics.iter())
            .filter(|c| reach.reads_characteristic(c.id.as_str()))
            .map(|c| text(c.id.as_str()))
            .collect();
        Ids {
            orders,
            units,
            work_centers,
            lots,
            serials,
            characteristics,
        }
    }

    /// A hold is in its item's areas.
    fn item_rule(&self) -> Filter {
        let kind = |k: &str| Filter::Compare {
            op: Op::Eq,
            left: Operand::Field("item_kind"),
            right: Operand::Value(text(k)),
        };
        kind("lot")
            .and(Filter::one_of("item_id", self.lots.clone()))
            .or(kind("serial").and(Filter::one_of("item_id", self.serials.clone())))
            .or(kind("order").and(Filter::one_of("item_id", self.orders.clone())))
    }

    /// The items as nonconformances name them, `kind:id`.
    fn item_keys(&self) -> Vec<Value> {
        let keyed = |kind: &str, ids: &[Value]| -> Vec<Value> {
            ids.iter()
                .filter_map(|v| match v {
                    Value::Text(id) => Some(Value::Text(format!("{kind}:{id}"))),
                    _ => None,
                })
                .collect()
        };
        let mut keys = keyed("lot", &self.lots);
        keys.extend(keyed("serial", &self.serials));
        keys.extend(keyed("order", &self.orders));
        keys
    }
}
