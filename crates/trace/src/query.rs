//! Backward (where from) and forward (where used) trace, answered as a flat list and a tree.
//!
//! The traversal itself is [`Index::reach`] (integers only); this module turns its result into
//! the serialisable [`TraceReport`]: every node reached with its depth, the edge it was first
//! reached by and that edge's time, location and quantity, plus the same as a tree in which
//! each node hangs under the node it was first reached from (a node reached along several
//! paths appears once, at its shallowest depth).

use model::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::graph::EdgeKind;
use crate::id::{IdKind, short};
use crate::index::{Direction, Filter, Index, NodeId, Reached};

/// What to trace.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TraceRequest {
    /// Hops from the start; none for no limit.
    #[serde(default)]
    pub max_depth: Option<u32>,
    /// Only links at or after this instant.
    #[serde(default)]
    pub from: Option<Timestamp>,
    /// Only links before this instant.
    #[serde(default)]
    pub to: Option<Timestamp>,
}

impl TraceRequest {
    pub fn filter(&self) -> Filter {
        Filter {
            max_depth: self.max_depth,
            from: self.from,
            to: self.to,
        }
    }
}

/// One node of a trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TraceStep {
    /// Canonical id.
    pub id: String,
    /// The id without the `urn:mixplane:<kind>:` prefix.
    pub label: String,
    pub kind: IdKind,
    pub depth: u32,
    /// The node it was first reached from (none for the start).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<EdgeKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uom: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
}

/// A node and what was reached through it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TraceTree {
    #[serde(flatten)]
    pub step: TraceStep,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<TraceTree>,
}

/// A trace answered both ways.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TraceReport {
    pub direction: Direction,
    pub root: String,
    /// Every node reached (the start first), breadth-first.
    pub nodes: Vec<TraceStep>,
    pub tree: TraceTree,
}

/// Errors of a query.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("`{0}` is not in the genealogy")]
    NotFound(String),
}

fn step(index: &Index, r: &Reached, direction: Direction) -> TraceStep {
    let name = index.name(r.node);
    let mut step = TraceStep {
        id: name.to_owned(),
        label: short(name).to_owned(),
        kind: index.kind(r.node),
        depth: r.depth,
        parent: None,
        via: None,
        time: None,
        location: None,
        quantity: None,
        uom: None,
        event: None,
    };
    if r.via != u32::MAX {
        let e = r.via;
        let parent = match direction {
            Direction::Forward => index.edge_from(e),
            Direction::Backward => index.edge_to(e),
        };
        step.parent = Some(index.name(parent).to_owned());
        step.via = Some(index.edge_kind(e));
        step.time = Some(index.edge_time(e));
        step.location = index.edge_location(e).map(|l| index.name(l).to_owned());
        step.quantity = index.edge_quantity(e);
        step.uom = index.edge_uom(e).map(str::to_owned);
        step.event = Some(index.edge_event(e).to_owned());
    }
    step
}

/// Traces from the node `text` names (see [`Index::resolve`]).
pub fn trace(
    index: &Index,
    text: &str,
    direction: Direction,
    request: &TraceRequest,
) -> Result<TraceReport, QueryError> {
    let start = index
        .resolve(text)
        .ok_or_else(|| QueryError::NotFound(text.to_owned()))?;
    Ok(trace_node(index, start, direction, request))
}

/// Traces from `start`.
pub fn trace_node(
    index: &Index,
    start: NodeId,
    direction: Direction,
    request: &TraceRequest,
) -> TraceReport {
    let reached = index.reach(&[start], direction, &request.filter());
    let nodes: Vec<TraceStep> = reached.iter().map(|r| step(index, r, direction)).collect();
    // Children lists by position in `reached`; a node's parent always comes earlier.
    let position: std::collections::HashMap<NodeId, usize> = reached
        .iter()
        .enumerate()
        .map(|(i, r)| (r.node, i))
        .collect();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); reached.len()];
    for (i, r) in reached.iter().enumerate().skip(1) {
        let parent = match direction {
            Direction::Forward => index.edge_from(r.via),
            Direction::Backward => index.edge_to(r.via),
        };
        if let Some(&p) = position.get(&parent) {
            children[p].push(i);
        }
    }
    fn build(i: usize, nodes: &[TraceStep], children: &[Vec<usize>]) -> TraceTree {
        TraceTree {
            step: nodes[i].clone(),
            children: children[i]
                .iter()
                .map(|&c| build(c, nodes, children))
                .collect(),
        }
    }
    let tree = build(0, &nodes, &children);
    TraceReport {
        direction,
        root: index.name(start).to_owned(),
        nodes,
        tree,
    }
}
