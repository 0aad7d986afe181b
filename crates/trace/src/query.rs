//! Backward (where from) and forward (where used) trace, answered as a flat list and a tree.
//!
//! The traversal itself is [`Index::reach`] (integers only); this module turns its result into
//! the serialisable [`TraceReport`]: every node reached with its depth, the edge it was first
//! reached by and that edge's time, location and quantity, plus the same as a tree in which
//! each node hangs under the node it was first reached from (a node reached along several
//! paths appears once, at its shallowest depth). A depth is the length of a path that admits
//! the node: when an unpacking ends the first path through a container early, what the
//! container went into later is reached along a longer path, and its depth can exceed its
//! tree parent's depth + 1.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

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

/// Text shared between the steps of a report (a node's id is also its children's `parent`,
/// and every step appears in the flat list and in the tree): cloning it copies a pointer.
/// It reads (and serialises) as a plain string.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(transparent)]
pub struct Name(Arc<str>);

impl std::ops::Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Name {
    fn from(text: &str) -> Name {
        Name(Arc::from(text))
    }
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        *self.0 == *other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<String> for Name {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

/// One node of a trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TraceStep {
    /// Canonical id.
    pub id: Name,
    /// The id without the `urn:mixplane:<kind>:` prefix.
    pub label: Name,
    pub kind: IdKind,
    pub depth: u32,
    /// The node it was first reached from (none for the start).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<Name>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<EdgeKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Name>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uom: Option<Name>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<Name>,
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

/// Names made once per report: each node's id and label, each event's and unit's text.
struct Names<'i> {
    index: &'i Index,
    /// Position in the traversal of each reached node.
    position: HashMap<NodeId, usize, BuildHasherDefault<NodeHasher>>,
    ids: Vec<(Name, Name)>,
    events: HashMap<u32, Name, BuildHasherDefault<NodeHasher>>,
    others: HashMap<NodeId, Name, BuildHasherDefault<NodeHasher>>,
    uoms: Vec<(String, Name)>,
}

impl Names<'_> {
    fn other(&mut self, node: NodeId) -> Name {
        if let Some(&i) = self.position.get(&node) {
            return self.ids[i].0.clone();
        }
        let index = self.index;
        self.others
            .entry(node)
            .or_insert_with(|| Name::from(index.name(node)))
            .clone()
    }

    fn uom(&mut self, uom: &str) -> Name {
        if let Some((_, n)) = self.uoms.iter().find(|(u, _)| u == uom) {
            return n.clone();
        }
        let n = Name::from(uom);
        self.uoms.push((uom.to_owned(), n.clone()));
        n
    }
}

/// Multiplies a node number into a well-spread hash (node numbers are dense and small).
#[derive(Default)]
struct NodeHasher(u64);

impl Hasher for NodeHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_u32(&mut self, value: u32) {
        self.0 = u64::from(value).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

fn step(names: &mut Names<'_>, i: usize, r: &Reached, direction: Direction) -> TraceStep {
    let index = names.index;
    let (id, label) = names.ids[i].clone();
    let mut step = TraceStep {
        id,
        label,
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
        step.parent = Some(names.other(parent));
        step.via = Some(index.edge_kind(e));
        step.time = Some(index.edge_time(e));
        step.location = index.edge_location(e).map(|l| names.other(l));
        step.quantity = index.edge_quantity(e);
        step.uom = index.edge_uom(e).map(|u| names.uom(u));
        step.event = Some(
            names
                .events
                .entry(index.edge_event_number(e))
                .or_insert_with(|| Name::from(index.edge_event(e)))
                .clone(),
        );
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
    let mut position = HashMap::with_capacity_and_hasher(reached.len(), Default::default());
    let ids = reached
        .iter()
        .enumerate()
        .map(|(i, r)| {
            position.insert(r.node, i);
            let name = index.name(r.node);
            let id = Name::from(name);
            let label = short(name);
            let label = if label.len() == name.len() {
                id.clone()
            } else {
                Name::from(label)
            };
            (id, label)
        })
        .collect();
    let mut names = Names {
        index,
        position,
        ids,
        events: HashMap::default(),
        others: HashMap::default(),
        uoms: Vec::new(),
    };
    let nodes: Vec<TraceStep> = reached
        .iter()
        .enumerate()
        .map(|(i, r)| step(&mut names, i, r, direction))
        .collect();
    // Children lists by position in `reached`; a node's parent always comes earlier.
    let mut first_child = vec![usize::MAX; reached.len()];
    let mut next_sibling = vec![usize::MAX; reached.len()];
    let mut last_child = vec![usize::MAX; reached.len()];
    for (i, r) in reached.iter().enumerate().skip(1) {
        let parent = match direction {
            Direction::Forward => index.edge_from(r.via),
            Direction::Backward => index.edge_to(r.via),
        };
        if let Some(&p) = names.position.get(&parent) {
            if last_child[p] == usize::MAX {
                first_child[p] = i;
            } else {
                next_sibling[last_child[p]] = i;
            }
            last_child[p] = i;
        }
    }
    // Built bottom-up (children come later in breadth-first order), without recursion.
    let mut built: Vec<Option<TraceTree>> = vec![None; reached.len()];
    for i in (0..reached.len()).rev() {
        let mut children = Vec::new();
        let mut c = first_child[i];
        while c != usize::MAX {
            children.push(built[c].take().expect("a child is built before its parent"));
            c = next_sibling[c];
        }
        built[i] = Some(TraceTree {
            step: nodes[i].clone(),
            children,
        });
    }
    let tree = built[0].take().expect("the start is reached");
    TraceReport {
        direction,
        root: index.name(start).to_owned(),
        nodes,
        tree,
    }
}
