//! The classic integration payload: its translation to a native problem and its solve.

use std::collections::BTreeMap;

use model::Timestamp;
use schedule::plant::bound::Optimality;
use schedule::plant::construct::{Model, Rule, decode, initial};
use schedule::plant::problem::*;
use schedule::plant::solve_plant;

use super::{
    Capacity, ClassicKpis, ClassicSlot, OptimizeRequest, OptimizeResponse, checked, options,
    termination,
};
use crate::AppError;

/// Other names the classic payload accepts for the objective presets, beside the presets'
/// own names (`Preset::from_str`): the one table of them.
pub const PRESET_ALIASES: &[(&str, Preset)] = &[
    ("minimize_makespan", Preset::MaximizeThroughput),
    ("throughput", Preset::MaximizeThroughput),
    ("on_time_delivery", Preset::MinimizeTardiness),
    ("minimize_changeover", Preset::MinimizeChangeovers),
];

/// The preset an objective names (its own name or an alias); `balanced` when none is given.
pub fn preset(objective: Option<&str>) -> Result<Preset, AppError> {
    let name = objective.unwrap_or("balanced");
    name.parse::<Preset>().or_else(|unknown| {
        PRESET_ALIASES
            .iter()
            .find(|(alias, _)| *alias == name)
            .map(|(_, preset)| *preset)
            .ok_or_else(|| AppError::Impossible(format!("objective: {unknown}")))
    })
}

/// Maps the classic payload to a native problem (unit ids `WORK_CENTER#k`).
pub fn classic_problem(
    request: &OptimizeRequest,
    start: Timestamp,
) -> Result<PlantProblem, AppError> {
    if request.production_orders.is_empty() {
        return Err(AppError::impossible(
            "production_orders: there is no order to schedule",
        ));
    }
    let c = &request.constraints;
    let changeover = c.changeover_time_minutes.unwrap_or(0.0).max(0.0).ceil() as i64;
    let lead = c.material_lead_time_minutes.unwrap_or(480).max(0);
    let centers = work_centers(request)?;
    let units = units(request, &centers, changeover);
    let pools = certification_pools(request)?;
    let mut orders = Vec::new();
    let mut operations = Vec::new();
    for o in &request.production_orders {
        let weight = match o.priority.as_deref().unwrap_or("medium") {
            "high" => 4.0,
            "medium" => 2.0,
            "low" => 1.0,
            other => {
                return Err(AppError::impossible(format!(
                    "order `{}`: priority `{other}` is not high, medium or low",
                    o.order_id
                )));
            }
        };
        let due = o
            .due_minutes
            .or_else(|| o.due_date.map(|d| (d.0 - start.0).div_euclid(60_000)));
        orders.push(OrderSpec {
            id: o.order_id.clone(),
            release: if o.material_available { 0 } else { lead },
            due,
            weight,
        });
        let n = centers[o.work_center.as_str()];
        let minutes = o.estimated_duration_minutes.ceil() as i64;
        let mut attributes = BTreeMap::new();
        if let Some(ps) = &o.current_parameter_set {
            attributes.insert("parameter_set".to_string(), ps.clone());
        }
        operations.push(OperationSpec {
            id: o.order_id.clone(),
            order: o.order_id.clone(),
            release: None,
            predecessors: Vec::new(),
            alternatives: (1..=n)
                .map(|k| AltSpec {
                    unit: format!("{}#{k}", o.work_center),
                    minutes: Some(minutes),
                    items_per_hour: None,
                    setup_minutes: 0,
                })
                .collect(),
            quantity: 0.0,
            product: o.current_parameter_set.clone(),
            cip_before: o.cleaning_in_place_required,
            family: None,
            attributes,
            pools: o
                .operator_certifications_required
                .iter()
                .map(|cert| PoolUse {
                    pool: format!("cert:{cert}"),
                    quantity: 1,
                })
                .collect(),
            consumes: Vec::new(),
            produces: Vec::new(),
            fixed: None,
        });
    }
    let problem = PlantProblem {
        schema_version: PROBLEM_SCHEMA_VERSION,
        horizon_start: start,
        horizon_minutes: 0,
        units,
        changeovers: vec![ChangeoverTable {
            id: "parameter_set".into(),
            keyed_by: KeyedBy::Attribute {
                name: "parameter_set".into(),
            },
            default_minutes: changeover,
            default_cost: changeover as f64,
            entries: Vec::new(),
        }],
        pools,
        materials: Vec::new(),
        orders,
        operations,
        reference: Vec::new(),
        objective: Some(Objective::preset(preset(request.objective.as_deref())?)),
    };
    problem.validate().map_err(AppError::impossible)?;
    Ok(problem)
}

/// Solves a classic payload; minute 0 is its `start`, else `now` rounded down to the minute.
/// CPU-bound: run it with [`crate::blocking`].
pub fn optimize(request: OptimizeRequest, now: Timestamp) -> Result<OptimizeResponse, AppError> {
    let start = request
        .start
        .unwrap_or(Timestamp(now.0 - now.0.rem_euclid(60_000)));
    let problem = classic_problem(&request, start)?;
    {
        // The baseline: the orders as given, each on the first free unit of its work center.
        let model = Model::compile(&problem);
        let baseline = decode(&model, &initial(&model, Rule::Topological))
            .map_err(|e| AppError::impossible(format!("no schedule: {e}")))?;
        let baseline_report = checked(&problem, &baseline.to_schedule(&model))?;
        let mut term = termination(&request.limits);
        let solution = solve_plant(
            &problem,
            &options(&request.limits, None),
            &mut term,
            &mut |_| {},
        )
        .map_err(AppError::impossible)?;
        let (schedule, score) = if solution.score.total <= baseline.score.total {
            (solution.schedule, solution.score)
        } else {
            (baseline.to_schedule(&model), baseline.score)
        };
        let report = checked(&problem, &schedule)?;
        let k = &report.kpis;
        let mut slots: Vec<ClassicSlot> = schedule
            .assignments
            .iter()
            .map(|a| ClassicSlot {
                order_id: a.op.clone(),
                work_center: a
                    .unit
                    .rsplit_once('#')
                    .map_or(a.unit.clone(), |x| x.0.to_owned()),
                unit: a.unit.clone(),
                start_minute: a.start,
                end_minute: a.end,
                start: start.plus_minutes(a.start as f64),
                end: start.plus_minutes(a.end as f64),
                setup_minutes: 0,
                cip: false,
            })
            .collect();
        slots.sort_by(|a, b| (a.start_minute, &a.unit).cmp(&(b.start_minute, &b.unit)));
        setups(&request, &mut slots);
        let base = baseline_report.kpis.makespan.max(1) as f64;
        let target = request.constraints.target_utilization_percent;
        Ok(OptimizeResponse {
            sequence: slots.iter().map(|s| s.order_id.clone()).collect(),
            throughput_gain_percent: ((base - k.makespan as f64) / base * 1000.0).round() / 10.0,
            kpis: ClassicKpis {
                makespan_minutes: k.makespan,
                baseline_makespan_minutes: baseline_report.kpis.makespan,
                changeover_minutes: k.changeover_minutes,
                baseline_changeover_minutes: baseline_report.kpis.changeover_minutes,
                cips: k.cips,
                weighted_tardiness: k.weighted_tardiness,
                late_orders: k.late_orders,
                utilization_percent: (k.utilization_percent * 10.0).round() / 10.0,
                target_utilization_percent: target,
                meets_target_utilization: target.map(|t| k.utilization_percent >= t),
            },
            schedule: slots,
            optimality: Optimality::new(score.total, solution.bound),
            score,
            feasible: report.feasible,
        })
    }
}

/// Fills each slot's setup right before it on its unit: the changeover from the unit's
/// previous parameter set and the CIP its order requires (`slots` sorted by start).
fn setups(request: &OptimizeRequest, slots: &mut [ClassicSlot]) {
    let changeover = request
        .constraints
        .changeover_time_minutes
        .unwrap_or(0.0)
        .max(0.0)
        .ceil() as i64;
    let orders: BTreeMap<&str, &super::ClassicOrder> = request
        .production_orders
        .iter()
        .map(|o| (o.order_id.as_str(), o))
        .collect();
    let mut last: BTreeMap<String, Option<String>> = BTreeMap::new();
    for slot in slots.iter_mut() {
        let o = orders[slot.order_id.as_str()];
        let set = o.current_parameter_set.clone();
        if let Some(Some(prev)) = last.get(&slot.unit)
            && let Some(now) = &set
            && prev != now
        {
            slot.setup_minutes += changeover;
        }
        if o.cleaning_in_place_required {
            slot.cip = true;
            slot.setup_minutes += changeover.max(1);
        }
        last.insert(slot.unit.clone(), set);
    }
}

/// Each work center of the orders with its parallel units (at most 64), after checking each
/// order's id, type, duration and capacity.
fn work_centers(request: &OptimizeRequest) -> Result<BTreeMap<&str, u32>, AppError> {
    let c = &request.constraints;
    let mut centers: BTreeMap<&str, u32> = BTreeMap::new();
    let mut seen = std::collections::HashSet::new();
    for (i, o) in request.production_orders.iter().enumerate() {
        if !seen.insert(o.order_id.as_str()) {
            return Err(AppError::impossible(format!(
                "production_orders: order `{}` is listed twice",
                o.order_id
            )));
        }
        if !matches!(o.kind.as_str(), "discrete" | "process" | "repetitive") {
            return Err(AppError::impossible(format!(
                "order `{}`: type `{}` is not discrete, process or repetitive",
                o.order_id, o.kind
            )));
        }
        if !(o.estimated_duration_minutes.is_finite() && o.estimated_duration_minutes > 0.0) {
            return Err(AppError::impossible(format!(
                "order `{}`: estimated_duration_minutes must be a positive number",
                o.order_id
            )));
        }
        let capacity = match &c.work_center_capacity {
            None => 1,
            Some(Capacity::All(n)) => *n,
            Some(Capacity::PerWorkCenter(map)) => {
                map.get(&o.work_center).copied().ok_or_else(|| {
                    AppError::Invalid(format!(
                        "production_orders[{i}].work_center: \"{}\" (order `{}`) has no capacity in constraints.work_center_capacity",
                        o.work_center, o.order_id
                    ))
                })?
            }
        };
        if capacity == 0 {
            return Err(AppError::impossible(format!(
                "production_orders[{i}].work_center: order `{}` cannot run: work center `{}` has no capacity (constraints.work_center_capacity is 0)",
                o.order_id, o.work_center
            )));
        }
        centers.insert(&o.work_center, capacity.min(64));
    }
    Ok(centers)
}

/// `WORK_CENTER#k` for each parallel unit; the units of a work center where an order needs
/// cleaning have a CIP of `changeover_time_minutes` (at least 1), run only before the orders
/// that require it (`cip_before`).
fn units(
    request: &OptimizeRequest,
    centers: &BTreeMap<&str, u32>,
    changeover: i64,
) -> Vec<UnitSpec> {
    let cip_centers: std::collections::HashSet<&str> = request
        .production_orders
        .iter()
        .filter(|o| o.cleaning_in_place_required)
        .map(|o| o.work_center.as_str())
        .collect();
    let mut units = Vec::new();
    for (wc, n) in centers {
        for k in 1..=*n {
            units.push(UnitSpec {
                id: format!("{wc}#{k}"),
                mode: None,
                availability: None,
                downtime: Vec::new(),
                changeover: Some("parameter_set".into()),
                cip: cip_centers.contains(wc).then(|| CipSpec {
                    minutes: changeover.max(1),
                    cost: 0.0,
                    on_product_change: false,
                    after_batches: None,
                    max_run_minutes: None,
                }),
            });
        }
    }
    units
}

/// One pool per required certification, sized by `certified_operators`: a required
/// certification is a constraint, so how many people hold it must be given (a certification
/// missing from `certified_operators`, or held by 0, is refused naming the order and the
/// field).
fn certification_pools(request: &OptimizeRequest) -> Result<Vec<PoolSpec>, AppError> {
    let certified = request.constraints.certified_operators.as_ref();
    let mut needed: BTreeMap<&str, u32> = BTreeMap::new();
    for (i, o) in request.production_orders.iter().enumerate() {
        for (k, cert) in o.operator_certifications_required.iter().enumerate() {
            let field = format!("production_orders[{i}].operator_certifications_required[{k}]");
            let Some(certified) = certified else {
                return Err(AppError::Invalid(format!(
                    "{field}: order `{}` needs certification \"{cert}\" but constraints.certified_operators is missing: say how many operators hold each required certification",
                    o.order_id
                )));
            };
            match certified.get(cert) {
                None => {
                    return Err(AppError::Invalid(format!(
                        "{field}: order `{}` needs certification \"{cert}\", which constraints.certified_operators does not list",
                        o.order_id
                    )));
                }
                Some(0) => {
                    return Err(AppError::Invalid(format!(
                        "{field}: order `{}` needs certification \"{cert}\", which nobody holds (constraints.certified_operators.{cert} is 0)",
                        o.order_id
                    )));
                }
                Some(&n) => {
                    needed.insert(cert, n);
                }
            }
        }
    }
    Ok(needed
        .into_iter()
        .map(|(cert, capacity)| PoolSpec {
            id: format!("cert:{cert}"),
            description: Some(format!("operators certified {cert}")),
            capacity,
            availability: None,
            dips: Vec::new(),
        })
        .collect())
}
