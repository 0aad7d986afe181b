//! The explanation of a schedule as text: each late order's chain of waits and the
//! bottleneck units and pools (`explain`), or the top of it (the end of a native `solve`).

use schedule::plant::explain::{CipReason, Explanation, LateOrder, Link, LinkKind, Via};

/// The minutes from the horizon start as `[from, to]`.
fn stretch(l: &Link) -> String {
    format!("[{:>6}, {:>6}]", l.from, l.to)
}

/// One line saying what a link of a chain is.
fn describe(l: &Link) -> String {
    match &l.kind {
        LinkKind::Operation {
            op,
            order,
            unit,
            via,
        } => match via {
            Via::Last => format!("{op} runs on {unit} (last operation)"),
            Via::Precedence { succ, min_lag } if *min_lag != 0 => {
                format!(
                    "{op} (order {order}) runs on {unit}; {succ} follows it (min lag {min_lag})"
                )
            }
            Via::Precedence { succ, .. } => {
                format!("{op} (order {order}) runs on {unit}; {succ} follows it")
            }
            Via::Unit { succ } => {
                format!("{unit} busy with {op} (order {order}) before {succ}")
            }
            Via::Pool {
                succ,
                pool,
                holders,
            } => format!(
                "{op} (order {order}, on {unit}) holds pool {pool} that {succ} needs (held by {})",
                holders.join(", ")
            ),
            Via::Material { succ, material } => {
                format!("{op} (order {order}, on {unit}) produces {material} that {succ} consumes")
            }
        },
        LinkKind::Lag { pred, op, min_lag } => {
            format!("min lag {min_lag} min between {pred} and {op}")
        }
        LinkKind::Setup {
            unit,
            op,
            after,
            changeover,
            cip,
        } => {
            let mut parts = Vec::new();
            if let Some(c) = changeover {
                parts.push(format!(
                    "changeover {}→{} {} min (table {})",
                    c.from, c.to, c.minutes, c.table
                ));
            }
            if let Some(c) = cip {
                let why: Vec<String> = c
                    .reasons
                    .iter()
                    .map(|r| match r {
                        CipReason::Required => "required by the operation".to_owned(),
                        CipReason::ProductChange { from, to } => {
                            format!(
                                "product {}→{}",
                                from.as_deref().unwrap_or("-"),
                                to.as_deref().unwrap_or("-")
                            )
                        }
                        CipReason::AfterBatches { batches } => {
                            format!("after {batches} batches")
                        }
                        CipReason::MaxRun { run_minutes, limit } => {
                            format!("run {run_minutes} > {limit} min")
                        }
                    })
                    .collect();
                parts.push(format!("CIP {} min ({})", c.minutes, why.join(", ")));
            }
            format!(
                "setup on {unit} after {after} before {op}: {}",
                parts.join(" + ")
            )
        }
        LinkKind::Calendar { unit, op } => format!("{unit} off shift for {op}"),
        LinkKind::Downtime { unit, op, window } => {
            format!("{unit} down [{}, {}] for {op}", window.start, window.end)
        }
        LinkKind::Pool {
            pool,
            op,
            holders,
            capacity,
        } => {
            let held = if holders.is_empty() {
                String::from("closed or reduced")
            } else {
                format!("held by {}", holders.join(", "))
            };
            match capacity {
                Some(c) => format!("pool {pool} full for {op} ({held}; capacity back to {c})"),
                None => format!("pool {pool} full for {op} ({held})"),
            }
        }
        LinkKind::Material {
            material,
            op,
            quantity,
            receipt,
        } => match receipt {
            Some(r) => format!(
                "{op} waits for {quantity} of {material}: receipt of {} at {}",
                r.quantity, r.time
            ),
            None => format!("{op} waits for {quantity} of {material}"),
        },
        LinkKind::MaxLag { op, succ, max_lag } => {
            format!("{op} held late: {succ} must start within {max_lag} min of its end")
        }
        LinkKind::Release { op, order, release } => {
            format!("{op} (order {order}) released at {release}")
        }
        LinkKind::Frozen { op, unit } => format!("{op} frozen on {unit}"),
        LinkKind::Idle { op } => format!("{op} idle: nothing in the problem held it"),
    }
}

/// The longest link charged to the order's dominant cause.
fn main_link(o: &LateOrder) -> Option<&Link> {
    o.chain
        .iter()
        .filter(|l| l.cause == o.dominant_cause)
        .max_by_key(|l| l.minutes)
}

fn percent(p: Option<f64>) -> String {
    p.map_or_else(|| "-".into(), |p| format!("{p:.1}"))
}

/// The full explanation: late orders with their chains, then units and pools by rank.
pub(super) fn print_explanation(e: &Explanation) {
    println!(
        "{} late order(s), {} minutes late in all (span {} – {} min)",
        e.late_orders.len(),
        e.total_minutes_late,
        e.span.start,
        e.span.end
    );
    for o in &e.late_orders {
        println!(
            "\norder {}: {} min late (due {}, done {}, released {}), dominant cause: {}",
            o.order, o.minutes_late, o.due, o.completion, o.release, o.dominant_cause
        );
        let by: Vec<String> = o
            .minutes_by_cause
            .iter()
            .map(|c| format!("{} {}", c.cause, c.minutes))
            .collect();
        println!("  minutes by cause: {}", by.join(", "));
        for l in &o.chain {
            println!(
                "  {} {:>6} min  {:<10}  {}",
                stretch(l),
                l.minutes,
                l.cause.as_str(),
                describe(l)
            );
        }
    }
    let w = e
        .units
        .iter()
        .map(|u| u.unit.len())
        .max()
        .unwrap_or(0)
        .max(4);
    println!("\nbottleneck units");
    println!(
        "{:>4}  {:<w$} {:>7} {:>8} {:>8} {:>7} {:>11} {:>5} {:>11} {:>9}",
        "rank",
        "unit",
        "load %",
        "busy",
        "avail",
        "setup",
        "changeovers",
        "CIPs",
        "late orders",
        "late min"
    );
    for u in &e.units {
        println!(
            "{:>4}  {:<w$} {:>7} {:>8} {:>8} {:>7} {:>11} {:>5} {:>11} {:>9}",
            u.rank,
            u.unit,
            percent(u.load_percent),
            u.busy_minutes,
            u.available_minutes,
            u.setup_minutes,
            u.changeovers,
            u.cips,
            u.late_orders,
            u.late_minutes
        );
    }
    let w = e
        .pools
        .iter()
        .map(|p| p.pool.len())
        .max()
        .unwrap_or(0)
        .max(4);
    println!("\nbottleneck pools");
    println!(
        "{:>4}  {:<w$} {:>8} {:>9} {:>9} {:>11} {:>9}",
        "rank", "pool", "avg %", "full min", "peak/cap", "late orders", "late min"
    );
    for p in &e.pools {
        println!(
            "{:>4}  {:<w$} {:>8} {:>9} {:>9} {:>11} {:>9}",
            p.rank,
            p.pool,
            percent(p.average_utilization_percent),
            p.minutes_at_full_capacity,
            format!("{}/{}", p.peak, p.capacity),
            p.late_orders,
            p.late_minutes
        );
    }
}

/// A few lines after a solved schedule: the worst late orders and the top bottlenecks.
pub(super) fn print_summary(e: &Explanation, top: usize) {
    println!(
        "late orders: {} ({} min late in all)",
        e.late_orders.len(),
        e.total_minutes_late
    );
    for o in e.late_orders.iter().take(top) {
        let why = main_link(o).map_or_else(String::new, |l| format!(": {}", describe(l)));
        println!(
            "  {} {} min late, mostly {}{why}",
            o.order, o.minutes_late, o.dominant_cause
        );
    }
    let units: Vec<String> = e
        .units
        .iter()
        .take(3)
        .map(|u| {
            format!(
                "{} {}% load ({} late orders)",
                u.unit,
                percent(u.load_percent),
                u.late_orders
            )
        })
        .collect();
    println!("bottleneck units: {}", units.join(", "));
    let pools: Vec<String> = e
        .pools
        .iter()
        .take(3)
        .map(|p| {
            format!(
                "{} {}% average, {} min full ({} late orders)",
                p.pool,
                percent(p.average_utilization_percent),
                p.minutes_at_full_capacity,
                p.late_orders
            )
        })
        .collect();
    if !pools.is_empty() {
        println!("bottleneck pools: {}", pools.join(", "));
    }
    println!("(`mixplane schedule explain` prints every chain)");
}
