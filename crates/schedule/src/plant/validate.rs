//! Validation of a [`PlantProblem`]: the first malformed field (naming the id and field at
//! fault) or impossible requirement found, section by section in document order: header,
//! changeover tables, units, pools, materials, orders, operations, then the material balance
//! and precedence cycles.

use std::collections::{HashMap, HashSet};

use super::problem::{
    ChangeoverTable, Interval, MAX_TIME, MaterialSpec, OperationSpec, OrderSpec,
    PROBLEM_SCHEMA_VERSION, PlantProblem, PoolSpec, ProblemError, UnitSpec,
};

/// A time value within ±[`MAX_TIME`].
fn time(id: &str, field: &str, t: i64) -> Result<(), ProblemError> {
    if (-MAX_TIME..=MAX_TIME).contains(&t) {
        Ok(())
    } else {
        Err(ProblemError::invalid(
            id,
            field,
            format!("{t} is out of range"),
        ))
    }
}

/// Intervals with times in range and no end before its start.
fn intervals(id: &str, field: &str, list: &[Interval]) -> Result<(), ProblemError> {
    for (i, w) in list.iter().enumerate() {
        let f = format!("{field}[{i}]");
        time(id, &f, w.start)?;
        time(id, &f, w.end)?;
        if w.end < w.start {
            return Err(ProblemError::invalid(id, &f, "end is before start"));
        }
    }
    Ok(())
}

/// What the operations may refer to, by id.
struct Known<'a> {
    units: HashSet<&'a str>,
    /// Capacity per pool.
    pools: HashMap<&'a str, u32>,
    orders: HashSet<&'a str>,
    /// Position per operation.
    ops: HashMap<&'a str, usize>,
}

impl PlantProblem {
    /// Checks the problem; the first error found is returned.
    pub fn validate(&self) -> Result<(), ProblemError> {
        self.validate_header()?;
        let tables = validate_tables(&self.changeovers)?;
        let mut units = HashSet::new();
        for u in &self.units {
            validate_unit(u, &tables, &mut units)?;
        }
        let mut pools = HashMap::new();
        for p in &self.pools {
            validate_pool(p, &mut pools)?;
        }
        // Everything that could ever be on hand, per material: stock, receipts, production.
        let mut supply: HashMap<&str, f64> = HashMap::new();
        for m in &self.materials {
            validate_material(m, &mut supply)?;
        }
        let mut orders = HashSet::new();
        for o in &self.orders {
            validate_order(o, &mut orders)?;
        }
        let mut ops = HashMap::new();
        for (i, op) in self.operations.iter().enumerate() {
            if op.id.is_empty() || ops.insert(op.id.as_str(), i).is_some() {
                return Err(ProblemError::invalid(
                    &op.id,
                    "id",
                    "empty or duplicate operation id",
                ));
            }
        }
        let known = Known {
            units,
            pools,
            orders,
            ops,
        };
        let mut demand: HashMap<&str, f64> = HashMap::new();
        for op in &self.operations {
            validate_operation(op, &known, &supply)?;
            if op.cip_before {
                self.validate_cip_before(op)?;
            }
            for q in &op.consumes {
                *demand.entry(q.material.as_str()).or_default() += q.quantity;
            }
            for q in &op.produces {
                *supply.get_mut(q.material.as_str()).expect("checked") += q.quantity;
            }
        }
        material_balance(demand, &supply)?;
        self.find_cycle(&known.ops)
    }

    /// An operation that requires a CIP runs only on units with a CIP rule (its length).
    fn validate_cip_before(&self, op: &OperationSpec) -> Result<(), ProblemError> {
        for (k, alt) in op.alternatives.iter().enumerate() {
            if self
                .units
                .iter()
                .any(|u| u.id == alt.unit && u.cip.is_none())
            {
                return Err(ProblemError::invalid(
                    &op.id,
                    &format!("alternatives[{k}]"),
                    format!(
                        "cip_before needs a CIP on unit `{}`, which has no `cip` rule",
                        alt.unit
                    ),
                ));
            }
        }
        Ok(())
    }

    fn validate_header(&self) -> Result<(), ProblemError> {
        if self.schema_version != PROBLEM_SCHEMA_VERSION {
            return Err(ProblemError::invalid(
                "problem",
                "schema_version",
                format!(
                    "must be {PROBLEM_SCHEMA_VERSION}, got {}",
                    self.schema_version
                ),
            ));
        }
        if !(0..=MAX_TIME).contains(&self.horizon_minutes) {
            return Err(ProblemError::invalid(
                "problem",
                "horizon_minutes",
                "must be between 0 and 2^40",
            ));
        }
        Ok(())
    }

    /// A precedence cycle, found by an iterative depth-first search with colours; on a back
    /// edge the cycle's members are reported.
    fn find_cycle(&self, ops: &HashMap<&str, usize>) -> Result<(), ProblemError> {
        let n = self.operations.len();
        let mut colour = vec![0u8; n];
        let mut parent = vec![usize::MAX; n];
        for root in 0..n {
            if colour[root] != 0 {
                continue;
            }
            let mut stack = vec![(root, 0usize)];
            colour[root] = 1;
            while let Some(&mut (v, ref mut k)) = stack.last_mut() {
                let preds = &self.operations[v].predecessors;
                if *k < preds.len() {
                    let w = ops[preds[*k].op.as_str()];
                    *k += 1;
                    match colour[w] {
                        0 => {
                            colour[w] = 1;
                            parent[w] = v;
                            stack.push((w, 0));
                        }
                        1 => {
                            let mut cycle = vec![self.operations[w].id.clone()];
                            let mut x = v;
                            while x != w && x != usize::MAX {
                                cycle.push(self.operations[x].id.clone());
                                x = parent[x];
                            }
                            return Err(ProblemError::PrecedenceCycle { ops: cycle });
                        }
                        _ => {}
                    }
                } else {
                    colour[v] = 2;
                    stack.pop();
                }
            }
        }
        Ok(())
    }
}

/// Unique table ids and no negative minutes; returns the ids.
fn validate_tables(tables: &[ChangeoverTable]) -> Result<HashSet<&str>, ProblemError> {
    let mut ids = HashSet::new();
    for t in tables {
        if !ids.insert(t.id.as_str()) {
            return Err(ProblemError::invalid(
                &t.id,
                "id",
                "duplicate changeover table id",
            ));
        }
        if t.default_minutes < 0 || t.entries.iter().any(|e| e.minutes < 0) {
            return Err(ProblemError::invalid(
                &t.id,
                "minutes",
                "must not be negative",
            ));
        }
    }
    Ok(ids)
}

fn validate_unit<'a>(
    u: &'a UnitSpec,
    tables: &HashSet<&str>,
    units: &mut HashSet<&'a str>,
) -> Result<(), ProblemError> {
    if u.id.is_empty() || !units.insert(u.id.as_str()) {
        return Err(ProblemError::invalid(
            &u.id,
            "id",
            "empty or duplicate unit id",
        ));
    }
    if let Some(w) = &u.availability {
        intervals(&u.id, "availability", w)?;
    }
    intervals(&u.id, "downtime", &u.downtime)?;
    if let Some(c) = &u.changeover
        && !tables.contains(c.as_str())
    {
        return Err(ProblemError::invalid(
            &u.id,
            "changeover",
            format!("changeover table `{c}` does not exist"),
        ));
    }
    if let Some(cip) = &u.cip
        && (cip.minutes < 0 || cip.max_run_minutes.is_some_and(|m| m <= 0))
    {
        return Err(ProblemError::invalid(
            &u.id,
            "cip",
            "minutes must be positive",
        ));
    }
    Ok(())
}

fn validate_pool<'a>(
    p: &'a PoolSpec,
    pools: &mut HashMap<&'a str, u32>,
) -> Result<(), ProblemError> {
    if p.id.is_empty() || pools.insert(p.id.as_str(), p.capacity).is_some() {
        return Err(ProblemError::invalid(
            &p.id,
            "id",
            "empty or duplicate pool id",
        ));
    }
    if let Some(w) = &p.availability {
        intervals(&p.id, "availability", w)?;
    }
    for (i, d) in p.dips.iter().enumerate() {
        if d.end < d.start || d.capacity > p.capacity {
            return Err(ProblemError::invalid(
                &p.id,
                &format!("dips[{i}]"),
                "end before start or capacity above the pool's",
            ));
        }
    }
    Ok(())
}

/// A material with non-negative quantities; records its stock plus receipts in `supply`.
fn validate_material<'a>(
    m: &'a MaterialSpec,
    supply: &mut HashMap<&'a str, f64>,
) -> Result<(), ProblemError> {
    if m.id.is_empty() || supply.contains_key(m.id.as_str()) {
        return Err(ProblemError::invalid(
            &m.id,
            "id",
            "empty or duplicate material id",
        ));
    }
    let bad = |q: f64| !(q.is_finite() && q >= 0.0);
    if bad(m.initial) || m.receipts.iter().any(|r| bad(r.quantity)) {
        return Err(ProblemError::invalid(
            &m.id,
            "initial/receipts",
            "quantities must be non-negative numbers",
        ));
    }
    for (i, r) in m.receipts.iter().enumerate() {
        time(&m.id, &format!("receipts[{i}].time"), r.time)?;
    }
    supply.insert(
        &m.id,
        m.initial + m.receipts.iter().map(|r| r.quantity).sum::<f64>(),
    );
    Ok(())
}

fn validate_order<'a>(o: &'a OrderSpec, orders: &mut HashSet<&'a str>) -> Result<(), ProblemError> {
    if o.id.is_empty() || !orders.insert(o.id.as_str()) {
        return Err(ProblemError::invalid(
            &o.id,
            "id",
            "empty or duplicate order id",
        ));
    }
    time(&o.id, "release", o.release)?;
    if let Some(d) = o.due {
        time(&o.id, "due", d)?;
    }
    if !(o.weight.is_finite() && o.weight >= 0.0) {
        return Err(ProblemError::invalid(
            &o.id,
            "weight",
            "must be a non-negative number",
        ));
    }
    Ok(())
}

/// One operation: its order, times and quantity, predecessors, alternatives, pools,
/// materials and fixing, in that order.
fn validate_operation(
    op: &OperationSpec,
    known: &Known<'_>,
    supply: &HashMap<&str, f64>,
) -> Result<(), ProblemError> {
    let id = op.id.as_str();
    if !known.orders.contains(op.order.as_str()) {
        return Err(ProblemError::invalid(
            id,
            "order",
            format!("order `{}` does not exist", op.order),
        ));
    }
    if let Some(r) = op.release {
        time(id, "release", r)?;
    }
    if !(op.quantity.is_finite() && op.quantity >= 0.0) {
        return Err(ProblemError::invalid(
            id,
            "quantity",
            "must be a non-negative number",
        ));
    }
    validate_predecessors(op, &known.ops)?;
    validate_alternatives(op, &known.units)?;
    validate_pool_uses(op, &known.pools)?;
    for (field, list) in [("consumes", &op.consumes), ("produces", &op.produces)] {
        for q in list {
            if !supply.contains_key(q.material.as_str()) {
                return Err(ProblemError::invalid(
                    id,
                    field,
                    format!("material `{}` does not exist", q.material),
                ));
            }
            if !(q.quantity.is_finite() && q.quantity >= 0.0) {
                return Err(ProblemError::invalid(
                    id,
                    field,
                    "quantity must be non-negative",
                ));
            }
        }
    }
    if let Some(f) = &op.fixed {
        time(id, "fixed.start", f.start)?;
        if !op.alternatives.iter().any(|a| a.unit == f.unit) {
            return Err(ProblemError::invalid(
                id,
                "fixed.unit",
                format!("unit `{}` is not one of the alternatives", f.unit),
            ));
        }
    }
    Ok(())
}

/// Predecessors exist, are not the operation itself, and have lags in range with
/// `min_lag <= max_lag`.
fn validate_predecessors(
    op: &OperationSpec,
    ops: &HashMap<&str, usize>,
) -> Result<(), ProblemError> {
    let id = op.id.as_str();
    for (k, lag) in op.predecessors.iter().enumerate() {
        let f = format!("predecessors[{k}]");
        if !ops.contains_key(lag.op.as_str()) {
            return Err(ProblemError::invalid(
                id,
                &f,
                format!("operation `{}` does not exist", lag.op),
            ));
        }
        if lag.op == op.id {
            return Err(ProblemError::PrecedenceCycle {
                ops: vec![op.id.clone()],
            });
        }
        time(id, &f, lag.min_lag)?;
        if let Some(max) = lag.max_lag {
            time(id, &f, max)?;
            if max < lag.min_lag {
                return Err(ProblemError::invalid(id, &f, "max_lag is below min_lag"));
            }
        }
    }
    Ok(())
}

/// At least one alternative, each on a distinct existing unit with a valid duration.
fn validate_alternatives(op: &OperationSpec, units: &HashSet<&str>) -> Result<(), ProblemError> {
    let id = op.id.as_str();
    if op.alternatives.is_empty() {
        return Err(ProblemError::NoUnit {
            op: op.id.clone(),
            reason: "no alternative is listed".into(),
        });
    }
    let mut seen = HashSet::new();
    for (k, alt) in op.alternatives.iter().enumerate() {
        let f = format!("alternatives[{k}]");
        if !units.contains(alt.unit.as_str()) {
            return Err(ProblemError::NoUnit {
                op: op.id.clone(),
                reason: format!("unit `{}` does not exist", alt.unit),
            });
        }
        if !seen.insert(alt.unit.as_str()) {
            return Err(ProblemError::invalid(id, &f, "unit listed twice"));
        }
        if !(0..=MAX_TIME).contains(&alt.setup_minutes) {
            return Err(ProblemError::invalid(
                id,
                &f,
                format!(
                    "setup_minutes {} is outside 0..={MAX_TIME}",
                    alt.setup_minutes
                ),
            ));
        }
        match alt.duration(op.quantity) {
            Some(d) if (1..=MAX_TIME).contains(&d) => {}
            _ => {
                return Err(ProblemError::invalid(
                    id,
                    &f,
                    "give `minutes` (at least 1) or a positive `items_per_hour`, not both",
                ));
            }
        }
    }
    Ok(())
}

/// Pools exist and each requirement fits the pool's capacity.
fn validate_pool_uses(op: &OperationSpec, pools: &HashMap<&str, u32>) -> Result<(), ProblemError> {
    for u in &op.pools {
        match pools.get(u.pool.as_str()) {
            None => {
                return Err(ProblemError::invalid(
                    &op.id,
                    "pools",
                    format!("pool `{}` does not exist", u.pool),
                ));
            }
            Some(&cap) if u.quantity > cap => {
                return Err(ProblemError::PoolOverCapacity {
                    op: op.id.clone(),
                    pool: u.pool.clone(),
                    quantity: u.quantity,
                    capacity: cap,
                });
            }
            _ => {}
        }
    }
    Ok(())
}

/// No material is consumed beyond everything that could ever be on hand (the first such
/// material by id is reported).
fn material_balance(
    demand: HashMap<&str, f64>,
    supply: &HashMap<&str, f64>,
) -> Result<(), ProblemError> {
    let mut short: Vec<(&str, f64)> = demand.into_iter().collect();
    short.sort_by(|a, b| a.0.cmp(b.0));
    for (m, d) in short {
        let s = supply[m];
        if d > s + 1e-6 * s.abs().max(1.0) {
            return Err(ProblemError::MaterialNeverAvailable {
                material: m.to_owned(),
                demand: d,
                supply: s,
            });
        }
    }
    Ok(())
}
