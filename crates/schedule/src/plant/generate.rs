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
    let units = units(&mut rng, n_units, days, &shifts);
    let pools = pools((n_units / 8).max(2) as u32, &shifts);
    let mut book = OrderBook {
        stage_units: (0..3)
            .map(|s| (0..n_units).filter(|&u| stage_of(u) == s).collect())
            .collect(),
        products: (0..6).map(|p| format!("PRD-{p}")).collect(),
        horizon,
        orders: Vec::new(),
        operations: Vec::new(),
        resin_orders: 0,
    };
    while book.operations.len() < n_ops {
        book.order(&mut rng, n_ops);
    }
    let OrderBook {
        mut orders,
        mut operations,
        resin_orders,
        ..
    } = book;
    freeze_heads(&mut operations, &mut orders);
    let materials = materials(&operations, horizon, resin_orders);
    PlantProblem {
        schema_version: PROBLEM_SCHEMA_VERSION,
        horizon_start: Timestamp::parse("2026-03-02T00:00:00Z").expect("valid constant"),
        horizon_minutes: horizon,
        units,
        changeovers: changeover_tables(),
        pools,
        materials,
        orders,
        operations,
        reference: Vec::new(),
        objective: None,
    }
}

/// Stages: 0 = process (reactors), 1 = discrete (assembly), 2 = repetitive (packing).
fn stage_of(u: usize) -> usize {
    u % 3
}

const FAMILIES: [&str; 4] = ["FAM-A", "FAM-B", "FAM-C", "FAM-D"];
const COLOURS: [&str; 3] = ["white", "grey", "black"];

/// A changeover table keyed by family (assembly) and one keyed by colour (packing).
fn changeover_tables() -> Vec<ChangeoverTable> {
    vec![
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
    ]
}

/// Units by stage: reactors run around the clock with a CIP rule, the others on shifts with
/// a changeover table; every fifth unit has a downtime on a random day.
fn units(rng: &mut Rng, n_units: usize, days: i64, shifts: &[Interval]) -> Vec<UnitSpec> {
    (0..n_units)
        .map(|u| {
            let stage = stage_of(u);
            let downtime = if u % 5 == 1 {
                let at = pick(rng, days as usize) as i64 * 1440 + 600;
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
                    Some(shifts.to_vec())
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
        .collect()
}

/// Technicians (with a capacity dip), tanks, test stations on shifts and an oven.
fn pools(cap: u32, shifts: &[Interval]) -> Vec<PoolSpec> {
    vec![
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
            availability: Some(shifts.to_vec()),
            dips: Vec::new(),
        },
        PoolSpec {
            id: "OVEN".into(),
            description: Some("shared curing oven slots".into()),
            capacity: cap,
            availability: None,
            dips: Vec::new(),
        },
    ]
}

/// The orders and operations drawn so far.
struct OrderBook {
    stage_units: Vec<Vec<usize>>,
    products: Vec<String>,
    horizon: i64,
    orders: Vec<OrderSpec>,
    operations: Vec<OperationSpec>,
    /// Orders producing the intermediate resin so far.
    resin_orders: usize,
}

/// What one order's steps share.
struct OrderDraw {
    id: String,
    kind: usize,
    steps: usize,
    product: String,
    family: String,
    colour: String,
}

impl OrderBook {
    /// Draws one order of a random kind (process, discrete, repetitive) with its steps, no
    /// more than the operations still wanted.
    fn order(&mut self, rng: &mut Rng, n_ops: usize) {
        let kind = pick(rng, 3); // 0 process, 1 discrete, 2 repetitive
        let steps = match kind {
            0 => 2 + pick(rng, 2),
            1 => 1 + pick(rng, 4),
            _ => 1 + pick(rng, 2),
        }
        .min(n_ops - self.operations.len());
        let id = format!("O{:05}", self.orders.len());
        let release = pick(rng, (self.horizon / 2).max(1) as usize) as i64;
        let weight = [1.0, 2.0, 4.0][pick(rng, 3)];
        let product = self.products[pick(rng, self.products.len())].clone();
        let family = FAMILIES[pick(rng, FAMILIES.len())].to_string();
        let colour = COLOURS[pick(rng, COLOURS.len())].to_string();
        let draw = OrderDraw {
            id,
            kind,
            steps,
            product,
            family,
            colour,
        };
        let mut total = 0i64;
        for s in 0..steps {
            total += self.step(rng, &draw, s);
        }
        let due = release + total * (2 + pick(rng, 4) as i64) + 1440;
        self.orders.push(OrderSpec {
            id: draw.id,
            release,
            due: Some(due),
            weight,
        });
    }

    /// Draws step `s` of an order; returns its base minutes.
    fn step(&mut self, rng: &mut Rng, draw: &OrderDraw, s: usize) -> i64 {
        let OrderDraw {
            id, kind, steps, ..
        } = draw;
        let (kind, steps) = (*kind, *steps);
        let stage = if kind == 1 && s == steps - 1 && steps > 1 {
            2
        } else {
            kind
        };
        let candidates = &self.stage_units[stage];
        let n_alt = 1 + pick(rng, 3.min(candidates.len()));
        let first = pick(rng, candidates.len());
        let quantity = (50 + pick(rng, 500)) as f64;
        let base = 30 + pick(rng, 120) as i64;
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
        if pick(rng, 20) == 0 {
            pools_used.push(PoolUse {
                pool: "OVEN".into(),
                quantity: 1,
            });
        }
        let mut consumes = Vec::new();
        let mut produces = Vec::new();
        if s == 0 {
            consumes.push(MaterialQty {
                material: format!("RAW-{}", pick(rng, 3)),
                quantity: 10.0,
            });
            if kind == 1 && self.resin_orders > 0 && pick(rng, 2) == 0 {
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
            self.resin_orders += 1;
        }
        let predecessors = if s == 0 {
            Vec::new()
        } else {
            vec![Lag {
                op: format!("{id}-{}", s - 1),
                min_lag: if kind == 1 { pick(rng, 30) as i64 } else { 0 },
                max_lag: if kind == 0 { Some(240) } else { None },
            }]
        };
        let mut attributes = BTreeMap::new();
        attributes.insert("colour".to_string(), draw.colour.clone());
        self.operations.push(OperationSpec {
            id: format!("{id}-{s}"),
            order: id.clone(),
            release: None,
            predecessors,
            alternatives,
            quantity,
            product: Some(draw.product.clone()),
            cip_before: false,
            family: Some(draw.family.clone()),
            attributes,
            pools: pools_used,
            consumes,
            produces,
            fixed: None,
        });
        base
    }
}

/// Freezes the first operation of a few orders on distinct units and releases those orders
/// at 0. (Not the head of a max-lag chain: a frozen head could make its chain infeasible.)
fn freeze_heads(operations: &mut [OperationSpec], orders: &mut [OrderSpec]) {
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
}

/// Raw materials with enough supply overall, part of it arriving on ATP dates, and the
/// intermediate resin with the stock its production does not cover.
fn materials(operations: &[OperationSpec], horizon: i64, resin_orders: usize) -> Vec<MaterialSpec> {
    let mut demand: BTreeMap<String, f64> = BTreeMap::new();
    for op in operations {
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
    materials
}
