//! The serial schedule generation scheme ([`decode`]), the score of its result, the priority
//! rules for an initial genome, and [`construct`], the best first feasible schedule.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use super::genome::{DecodeError, Decoded, Genome, Score};
use super::state::{GroupFail, State};
use super::{Model, Objective};

/// Weight of setup minutes against end time when choosing a unit.
fn setup_weight(w: &Objective) -> f64 {
    let time = w.makespan + w.tardiness + 1e-9;
    (w.changeover_minutes + 0.1 * w.changeover_cost) / time
}

/// Decodes a genome into a feasible schedule.
pub fn decode(m: &Model, genome: &Genome) -> Result<Decoded, DecodeError> {
    let mut st = State::new(m);
    let n = m.ops.len();
    let ng = m.groups.len();
    // Fixed operations first, in time order per unit.
    let mut fixed: Vec<usize> = (0..n).filter(|&i| m.ops[i].fixed.is_some()).collect();
    fixed.sort_by_key(|&i| (m.ops[i].fixed.map(|f| f.1), i));
    for &i in &fixed {
        st.place_fixed(i);
    }
    // Groups of fixed operations are already placed: they come off the heap first.
    let mut pos = vec![0usize; ng];
    for (k, &g) in genome.order.iter().enumerate() {
        let all_fixed = m.groups[g].iter().all(|&i| m.ops[i].fixed.is_some());
        pos[g] = if all_fixed { 0 } else { k + 1 };
    }
    let mut indeg = vec![0usize; ng];
    for i in 0..n {
        for &(p, _, _) in &m.ops[i].preds {
            if m.ops[p].group != m.ops[i].group {
                indeg[m.ops[i].group] += 1;
            }
        }
    }
    let cw = setup_weight(&m.weights);
    let mut heap: BinaryHeap<Reverse<(usize, usize)>> = BinaryHeap::new();
    for g in 0..ng {
        if indeg[g] == 0 {
            heap.push(Reverse((pos[g], g)));
        }
    }
    let mut waiting: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut last_stuck: Option<(usize, usize)> = None;
    let mut done = 0usize;
    while done < ng {
        let Some(Reverse((_, g))) = heap.pop() else {
            let (mat, op) = last_stuck.unwrap_or((usize::MAX, 0));
            return Err(DecodeError::MaterialStuck {
                op: m.op_ids[op].clone(),
                material: m.mat_ids.get(mat).cloned().unwrap_or_default(),
            });
        };
        let all_fixed = m.groups[g].iter().all(|&i| m.ops[i].fixed.is_some());
        if !all_fixed {
            match st.place_group(g, genome, cw) {
                Ok(()) => {}
                Err(GroupFail::Material(mat, op)) => {
                    waiting.entry(mat).or_default().push(g);
                    last_stuck = Some((mat, op));
                    continue;
                }
                Err(GroupFail::MaxLag(op)) => {
                    return Err(DecodeError::MaxLag {
                        op: m.op_ids[op].clone(),
                    });
                }
            }
        }
        done += 1;
        for &i in &m.groups[g] {
            for &(mat, _) in &m.ops[i].produces {
                if let Some(list) = waiting.remove(&mat) {
                    for w in list {
                        heap.push(Reverse((pos[w], w)));
                    }
                }
            }
            for &s in &m.ops[i].succs {
                let sg = m.ops[s].group;
                if sg != g {
                    indeg[sg] -= 1;
                    if indeg[sg] == 0 {
                        heap.push(Reverse((pos[sg], sg)));
                    }
                }
            }
        }
    }
    let score = evaluate(
        m,
        &st.unit,
        &st.start,
        &st.end,
        &st.setup_min,
        &st.setup_cost,
    );
    Ok(Decoded {
        unit: st.unit,
        start: st.start,
        end: st.end,
        score,
    })
}

fn evaluate(
    m: &Model,
    unit: &[usize],
    start: &[i64],
    end: &[i64],
    smin: &[i64],
    scost: &[f64],
) -> Score {
    let mut s = Score {
        makespan: end.iter().copied().max().unwrap_or(0).max(0),
        ..Score::default()
    };
    let mut completion = vec![i64::MIN; m.orders.len()];
    for (i, o) in m.ops.iter().enumerate() {
        completion[o.order] = completion[o.order].max(end[i]);
        s.changeover_minutes += smin[i];
        s.changeover_cost += scost[i];
        if let Some((u, st)) = m.reference[i] {
            s.stability += (start[i] - st).abs() + if u != unit[i] { 60 } else { 0 };
        }
    }
    for (k, o) in m.orders.iter().enumerate() {
        if let Some(due) = o.due
            && completion[k] > due
        {
            s.weighted_tardiness += o.weight * (completion[k] - due) as f64;
        }
    }
    let w = &m.weights;
    s.total = w.makespan * s.makespan as f64
        + w.tardiness * s.weighted_tardiness
        + w.changeover_minutes * s.changeover_minutes as f64
        + w.changeover_cost * s.changeover_cost
        + w.stability * s.stability as f64;
    s
}

/// Priority rules for the initial order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Earliest latest-start (due minus remaining work), ties by changeover key (campaigns).
    Slack,
    /// Weighted earliest due date.
    WeightedDue,
    /// Campaigns: by changeover key, then due date.
    Campaign,
    /// As given (group topological order).
    Topological,
}

/// The initial genome for a priority rule.
pub fn initial(m: &Model, rule: Rule) -> Genome {
    let n = m.ops.len();
    // Remaining work from each op to the end of its chain (shortest alternatives).
    let mut tail = vec![0i64; n];
    for &g in m.topo_groups.iter().rev() {
        for &i in m.groups[g].iter().rev() {
            let d = m.ops[i].alts.iter().map(|a| a.dur).min().unwrap_or(0);
            let after = m.ops[i].succs.iter().map(|&s| tail[s]).max().unwrap_or(0);
            tail[i] = d + after;
        }
    }
    let key = |i: usize| {
        i64::from(
            m.ops[i]
                .alts
                .first()
                .and_then(|a| a.key)
                .unwrap_or(u32::MAX),
        )
    };
    let mut topo_rank = vec![0usize; m.groups.len()];
    for (k, &g) in m.topo_groups.iter().enumerate() {
        topo_rank[g] = k;
    }
    // Groups right after a fixed operation they are tied to by a maximum lag go first.
    let urgent = |g: usize| -> i64 {
        let tied = m.groups[g].iter().any(|&i| {
            m.ops[i]
                .preds
                .iter()
                .any(|&(p, _, max)| max.is_some() && m.ops[p].fixed.is_some())
        });
        if tied { 0 } else { 1 }
    };
    let mut order: Vec<usize> = m.topo_groups.clone();
    let horizon = m.frontier.max(1);
    let sort_key = |g: usize| -> (i64, i64, i64, usize) {
        let head = m.groups[g][0];
        let o = &m.orders[m.ops[head].order];
        let due = o.due.unwrap_or(horizon * 2);
        let (a, b) = match rule {
            Rule::Slack => (due - tail[head], key(head)),
            Rule::WeightedDue => (
                ((due - tail[head]) as f64 / o.weight.max(0.1)) as i64,
                key(head),
            ),
            Rule::Campaign => (key(head), due.div_euclid(1440)),
            Rule::Topological => (0, 0),
        };
        (urgent(g), a, b, topo_rank[g])
    };
    order.sort_by_key(|&g| sort_key(g));
    Genome {
        order,
        unit_pref: vec![None; n],
        hold: None,
    }
}

/// Builds the first feasible schedule: tries each priority rule and keeps the best.
pub fn construct(m: &Model) -> Result<(Genome, Decoded), DecodeError> {
    let mut best: Option<(Genome, Decoded)> = None;
    let mut last_err = None;
    let rules: &[Rule] = if m.ops.len() > 5_000 {
        &[Rule::Slack]
    } else {
        &[
            Rule::Slack,
            Rule::WeightedDue,
            Rule::Campaign,
            Rule::Topological,
        ]
    };
    for &rule in rules {
        let g = initial(m, rule);
        match decode(m, &g) {
            Ok(d) => {
                if best
                    .as_ref()
                    .is_none_or(|b| d.score.total < b.1.score.total)
                {
                    best = Some((g, d));
                }
            }
            Err(e) => last_err = Some(e),
        }
    }
    best.ok_or_else(|| last_err.expect("at least one rule ran"))
}
