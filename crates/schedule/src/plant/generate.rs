//! Seeded random mixed-mode instances that use every constraint type: shift windows,
//! maintenance and downtime, changeover tables keyed by family and by attribute, CIP rules
//! (product change, batch count, run length), pools with calendars and capacity dips,
//! materials with receipts and intermediates made by one order and used by another,
//! precedence with min and max lags, releases, due dates, weights, line rates, frozen and
//! in-progress operations. Used for scale targets, property tests and comparisons.

use std::collections::BTreeMap;

use model::Timestamp;

use super::problem::*;
use model::rng::Rng;

/// Size and seed of a generated instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenerateOptions {
    pub operations: usize,
    pub units: usize,
    pub seed: u64,
}

fn pick(rng: &mut Rng, n: usize) -> usize {
    rng.below_u32(n.max(1) as u32) as usize
}

/// Generates an instance with about `operations` operations on `units` units.
pub fn generate(options: GenerateOptions) -> PlantProblem {
    let mut rng = Rng::new(options.seed);
    let n_units = options.units.max(3);
    let n_ops = options.operations.max(1);
    // Stages: 0 = process (reactors), 1 = discrete (assembly), 2 = repetitive (packing).
    let stage_of = |u: usize| u % 3;
    let stage_units: Vec<Vec<usize>> = (0..3)
        .map(|s| (0..n_units).filter(|&u| stage_of(u) == s).collect())
        .collect();
    let mean_dur = 90i64;
    let work = n_ops as i64 * mean_dur;
    let days = ((work as f64 / n_units as f64 * 1.6) / 1440.0)
        .ceil()
        .max(2.0) as i64;
    let horizon = days * 1440;
    let shifts: Vec<Interval> = (0..days)
        .filter(|d| d % 7 != 6)
        .map(|d| Interval {
            start: d * 1440 + 360,
            end: d * 1440 + 1320,
        })
        .collect();
    let families = ["FAM-A", "FAM-B", "FAM-C", "FAM-D"];
    let colours = ["white", "grey", "black"];
    let products: Vec<String> = (0..6).map(|p| format!("PRD-{p}")).collect();
    let changeovers = vec![
        ChangeoverTable {
            id: "CO-FAMILY".into(),
            keyed_by: KeyedBy::Family,
            default_minutes: 30,
            default_cost: 80.0,
            entries: vec![
                ChangeoverEntry {
                    from: "FAM-A".into(),
                    to: "FAM-B".into(),
                    minutes: 45,
                    cost: 120.0,
                },
                ChangeoverEntry {
                    from: "FAM-B".into(),
                    to: "FAM-A".into(),
                    minutes: 20,
                    cost: 60.0,
                },
            ],
        },
        ChangeoverTable {
            id: "CO-COLOUR".into(),
            keyed_by: KeyedBy::Attribute {
                name: "colour".into(),
            },
            default_minutes: 40,
            default_cost: 150.0,
            entries: vec![ChangeoverEntry {
                from: "white".into(),
                to: "black".into(),
                minutes: 15,
                cost: 40.0,
            }],
        },
    ];
    let units: Vec<UnitSpec> = (0..n_units)
        .map(|u| {
            let stage = stage_of(u);
            let downtime = if u % 5 == 1 {
                let at = pick(&mut rng, days as usize) as i64 * 1440 + 600;
                vec![Interval {
                    start: at,
                    end: at + 240,
                }]
            } else {
                Vec::new()
            };
            UnitSpec {
                id: format!("U{u:03}"),
                mode: Some(["process", "discrete", "repetitive"][stage].into()),
                availability: if stage == 0 {
                    None
                } else {
                    Some(shifts.clone())
                },
                downtime,
                changeover: match stage {
                    0 => None,
                    1 => Some("CO-FAMILY".into()),
                    _ => Some("CO-COLOUR".into()),
                },
                cip: match stage {
                    0 => Some(CipSpec {
                        minutes: 60,
                        cost: 200.0,
                        on_product_change: true,
                        after_batches: Some(6),
                        max_run_minutes: Some(2880),
                    }),
                    2 => Some(CipSpec {
                        minutes: 30,
                        cost: 50.0,
                        on_product_change: false,
                        after_batches: None,
                        max_run_minutes: Some(1440),
                    }),
                    _ => None,
                },
            }
        })
        .collect();
    let cap = (n_units / 8).max(2) as u32;
    let pools = vec![
        PoolSpec {
            id: "TECH-REACTOR".into(),
            description: Some("people certified reactor>=2".into()),
            capacity: cap,
            availability: None,
            dips: vec![CapacityDip {
                start: 1440,
                end: 2880,
                capacity: cap - 1,
            }],
        },
        PoolSpec {
            id: "TANKS".into(),
            description: Some("mobile tanks".into()),
            capacity: cap + 1,
            availability: None,
            dips: Vec::new(),
        },
        PoolSpec {
            id: "TEST".into(),
            description: Some("test stations".into()),
            capacity: cap,
            availability: Some(shifts.clone()),
            dips: Vec::new(),
        },
        PoolSpec {
            id: "OVEN".into(),
            description: Some("shared curing oven slots".into()),
            capacity: cap,
            availability: None,
            dips: Vec::new(),
        },
    ];
    let mut orders = Vec::new();
    let mut operations: Vec<OperationSpec> = Vec::new();
    let mut resin_orders = 0usize;
    let mut o = 0usize;
    while operations.len() < n_ops {
        let kind = pick(&mut rng, 3); // 0 process, 1 discrete, 2 repetitive
        let steps = match kind {
            0 => 2 + pick(&mut rng, 2),
            1 => 1 + pick(&mut rng, 4),
            _ => 1 + pick(&mut rng, 2),
        }
        .min(n_ops - operations.len());
        let id = format!("O{o:05}");
        let release = pick(&mut rng, (horizon / 2).max(1) as usize) as i64;
        let weight = [1.0, 2.0, 4.0][pick(&mut rng, 3)];
        let product = products[pick(&mut rng, products.len())].clone();
        let family = families[pick(&mut rng, families.len())].to_string();
        let colour = colours[pick(&mut rng, colours.len())].to_string();
        let mut total = 0i64;
        for s in 0..steps {
            let stage = if kind == 1 && s == steps - 1 && steps > 1 {
                2
            } else {
                kind
            };
            let candidates = &stage_units[stage];
            let n_alt = 1 + pick(&mut rng, 3.min(candidates.len()));
            let first = pick(&mut rng, candidates.len());
            let quantity = (50 + pick(&mut rng, 500)) as f64;
            let base = 30 + pick(&mut rng, 120) as i64;
            let alternatives: Vec<AltSpec> = (0..n_alt)
                .map(|k| {
                    let unit = format!("U{:03}", candidates[(first + k) % candidates.len()]);
                    if stage == 2 {
                        AltSpec {
                            unit,
                            minutes: None,
                            items_per_hour: Some(200.0 + 100.0 * k as f64),
                            setup_minutes: 10,
                        }
                    } else {
                        AltSpec {
                            unit,
                            minutes: Some(base + 10 * k as i64),
                            items_per_hour: None,
                            setup_minutes: 0,
                        }
                    }
                })
                .collect();
            total += base;
            let mut pools_used = Vec::new();
            match stage {
                0 => pools_used.push(PoolUse {
                    pool: "TECH-REACTOR".into(),
                    quantity: 1,
                }),
                1 if s == steps - 1 => pools_used.push(PoolUse {
                    pool: "TEST".into(),
                    quantity: 1,
                }),
                _ => {}
            }
            if stage == 0 && s == steps - 1 {
                pools_used.push(PoolUse {
                    pool: "TANKS".into(),
                    quantity: 1,
                });
            }
            if pick(&mut rng, 20) == 0 {
                pools_used.push(PoolUse {
                    pool: "OVEN".into(),
                    quantity: 1,
                });
            }
            let mut consumes = Vec::new();
            let mut produces = Vec::new();
            if s == 0 {
                consumes.push(MaterialQty {
                    material: format!("RAW-{}", pick(&mut rng, 3)),
                    quantity: 10.0,
                });
                if kind == 1 && resin_orders > 0 && pick(&mut rng, 2) == 0 {
                    consumes.push(MaterialQty {
                        material: "INT-RESIN".into(),
                        quantity: 40.0,
                    });
                }
            }
            if kind == 0 && s == steps - 1 {
                produces.push(MaterialQty {
                    material: "INT-RESIN".into(),
                    quantity: 100.0,
                });
                resin_orders += 1;
            }
            let predecessors = if s == 0 {
                Vec::new()
            } else {
                vec![Lag {
                    op: format!("{id}-{}", s - 1),
                    min_lag: if kind == 1 {
                        pick(&mut rng, 30) as i64
                    } else {
                        0
                    },
                    max_lag: if kind == 0 { Some(240) } else { None },
                }]
            };
            let mut attributes = BTreeMap::new();
            attributes.insert("colour".to_string(), colour.clone());
            operations.push(OperationSpec {
                id: format!("{id}-{s}"),
                order: id.clone(),
                release: None,
                predecessors,
                alternatives,
                quantity,
                product: Some(product.clone()),
                family: Some(family.clone()),
                attributes,
                pools: pools_used,
                consumes,
                produces,
                fixed: None,
            });
        }
        let due = release + total * (2 + pick(&mut rng, 4) as i64) + 1440;
        orders.push(OrderSpec {
            id,
            release,
            due: Some(due),
            weight,
        });
        o += 1;
    }
    // Freeze the first operation of a few orders released at 0 on distinct units.
    // (Not the head of a max-lag chain: a frozen head could make its chain infeasible.)
    let tied: std::collections::HashSet<String> = operations
        .iter()
        .flat_map(|o| o.predecessors.iter())
        .filter(|l| l.max_lag.is_some())
        .map(|l| l.op.clone())
        .collect();
    let mut used_units = std::collections::HashSet::new();
    for op in operations.iter_mut() {
        if used_units.len() >= 3 {
            break;
        }
        if op.predecessors.is_empty()
            && !tied.contains(&op.id)
            && op.consumes.iter().all(|c| c.material != "INT-RESIN")
        {
            let unit = op.alternatives[0].unit.clone();
            if used_units.insert(unit.clone()) {
                if let Some(o) = orders.iter_mut().find(|o| o.id == op.order) {
                    o.release = 0;
                }
                op.fixed = Some(Fixed {
                    unit,
                    start: -30 + 30 * used_units.len() as i64,
                    in_progress: used_units.len() == 1,
                });
                op.pools.clear();
                op.consumes.clear();
            }
        }
    }
    // Materials: enough supply overall, part of it arriving on ATP dates.
    let mut demand: BTreeMap<String, f64> = BTreeMap::new();
    for op in &operations {
        for c in &op.consumes {
            *demand.entry(c.material.clone()).or_default() += c.quantity;
        }
    }
    let mut materials = Vec::new();
    for r in 0..3 {
        let id = format!("RAW-{r}");
        let d = demand.get(&id).copied().unwrap_or(0.0);
        materials.push(MaterialSpec {
            id,
            initial: (d * 0.4).ceil() + 10.0,
            receipts: (1..=4)
                .map(|k| Receipt {
                    time: horizon * k / 6,
                    quantity: (d * 0.2).ceil(),
                })
                .collect(),
        });
    }
    let resin_demand = demand.get("INT-RESIN").copied().unwrap_or(0.0);
    let resin_supply = 100.0 * resin_orders as f64;
    materials.push(MaterialSpec {
        id: "INT-RESIN".into(),
        initial: (resin_demand - resin_supply).max(0.0) + 80.0,
        receipts: Vec::new(),
    });
    PlantProblem {
        schema_version: PROBLEM_SCHEMA_VERSION,
        horizon_start: Timestamp::parse("2026-03-02T00:00:00Z").expect("valid constant"),
        horizon_minutes: horizon,
        units,
        changeovers,
        pools,
        materials,
        orders,
        operations,
        reference: Vec::new(),
        objective: None,
    }
}
