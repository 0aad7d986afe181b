//! The in-memory genealogy index: interned node ids and compressed adjacency arrays.
//!
//! Built once from [`Genealogy`] records (or streamed in with [`IndexBuilder`], which EPCIS
//! imports lower into directly), then read-only. Nodes are `u32`s; their canonical names live
//! in one string arena and are looked up through an open-addressing table of hash bits and
//! node numbers (a name is compared only when its hash bits match). Edges are stored
//! column-wise (from, to, kind, event occurrence, measure, and when an unpacking ended them;
//! an event's time and location are stored once for all its edges, and the rare quantities
//! and units apart, so an edge costs 17 bytes) and reached through CSR arrays in both
//! directions, so a traversal touches only integer arrays and one visited bitset: no string is
//! allocated or compared until the caller asks for a name.

mod builder;
mod intern;
mod room;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

use model::Timestamp;

use crate::graph::{EdgeKind, Genealogy};
use crate::id::{Id, IdKind};

pub use builder::IndexBuilder;
pub(crate) use intern::hash_str;
use intern::{Arena, Interner};
pub use room::Room;

/// A node of the index.
pub type NodeId = u32;
/// An edge of the index.
pub type EdgeId = u32;

const NONE: u32 = u32::MAX;

/// Quantities that flowed into and out of one node.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Balance {
    pub produced: f64,
    pub received: f64,
    pub consumed: f64,
    pub shipped: f64,
}

impl Balance {
    /// Quantity still on hand.
    pub fn on_hand(&self) -> f64 {
        self.produced + self.received - self.consumed - self.shipped
    }
}

/// Which way a traversal goes.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Where used: from inputs to what was made of them and where it went.
    Forward,
    /// Where from: from an item back to its inputs.
    Backward,
}

/// Limits on a traversal.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    /// Hops from the start; `None` for no limit.
    pub max_depth: Option<u32>,
    /// Only edges at or after this instant.
    pub from: Option<Timestamp>,
    /// Only edges before this instant.
    pub to: Option<Timestamp>,
}

impl Filter {
    fn admits(&self, time: i64) -> bool {
        self.from.is_none_or(|f| time >= f.0) && self.to.is_none_or(|t| time < t.0)
    }
}

/// One node a traversal reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reached {
    pub node: NodeId,
    pub depth: u32,
    /// The edge it was first reached by; `u32::MAX` for a start node.
    pub via: EdgeId,
}

/// The read-only genealogy index.
pub struct Index {
    nodes: Interner,
    kinds: Vec<u8>,
    events: Arena,
    ev_time: Vec<i64>,
    ev_loc: Vec<u32>,
    uoms: Vec<String>,
    e_from: Vec<u32>,
    e_to: Vec<u32>,
    e_kind: Vec<u8>,
    e_event: Vec<u32>,
    e_measure: Vec<u32>,
    m_qty: Vec<f64>,
    m_uom: Vec<u16>,
    /// When each edge ended (unpacking), `i64::MAX` while it holds; empty when nothing ever
    /// ended.
    e_until: Vec<i64>,
    out_offsets: Vec<u32>,
    out_edges: Vec<u32>,
    in_offsets: Vec<u32>,
    in_edges: Vec<u32>,
    balance: Vec<Balance>,
    held: Vec<u64>,
    disposition: HashMap<u32, u16>,
    disposition_names: Vec<String>,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index")
            .field("nodes", &self.node_count())
            .field("edges", &self.edge_count())
            .finish()
    }
}

impl Index {
    /// Indexes `genealogy`.
    pub fn build(genealogy: &Genealogy) -> Index {
        let mut builder = IndexBuilder::new();
        builder.add(genealogy);
        builder.finish()
    }

    pub fn node_count(&self) -> usize {
        self.kinds.len()
    }

    pub fn edge_count(&self) -> usize {
        self.e_from.len()
    }

    /// The node with canonical name `id`.
    pub fn node(&self, id: &str) -> Option<NodeId> {
        self.nodes.get(id)
    }

    /// The node a user's text names: any spelling [`Id::parse`] accepts, or a bare local id
    /// of any kind (tried as lot, serial, order, pallet, customer, unit, product).
    pub fn resolve(&self, text: &str) -> Option<NodeId> {
        if let Ok(id) = Id::parse(text)
            && let Some(n) = self.node(&id.id)
        {
            return Some(n);
        }
        let text = text.trim();
        for kind in [
            IdKind::Lot,
            IdKind::Serial,
            IdKind::Order,
            IdKind::Pallet,
            IdKind::Customer,
            IdKind::Unit,
            IdKind::Product,
        ] {
            if let Some(n) = self.node(&Id::local(kind, text).id) {
                return Some(n);
            }
        }
        self.node(text)
    }

    /// The canonical name of `node`.
    pub fn name(&self, node: NodeId) -> &str {
        self.nodes.arena.get(node)
    }

    pub fn kind(&self, node: NodeId) -> IdKind {
        IdKind::from_u8(self.kinds[node as usize])
    }

    pub fn balance(&self, node: NodeId) -> Balance {
        self.balance[node as usize]
    }

    /// Whether the item's latest disposition or a persistent disposition is a hold.
    pub fn is_held(&self, node: NodeId) -> bool {
        self.held[node as usize / 64] & (1 << (node % 64)) != 0
    }

    /// The item's latest disposition.
    pub fn disposition(&self, node: NodeId) -> Option<&str> {
        self.disposition
            .get(&node)
            .map(|&d| self.disposition_names[d as usize].as_str())
    }

    pub fn edge_kind(&self, e: EdgeId) -> EdgeKind {
        EdgeKind::from_u8(self.e_kind[e as usize])
    }
    pub fn edge_from(&self, e: EdgeId) -> NodeId {
        self.e_from[e as usize]
    }
    pub fn edge_to(&self, e: EdgeId) -> NodeId {
        self.e_to[e as usize]
    }
    pub fn edge_time(&self, e: EdgeId) -> Timestamp {
        Timestamp(self.ev_time[self.e_event[e as usize] as usize])
    }
    pub fn edge_location(&self, e: EdgeId) -> Option<NodeId> {
        Some(self.ev_loc[self.e_event[e as usize] as usize]).filter(|&l| l != NONE)
    }
    fn edge_measure(&self, e: EdgeId) -> Option<usize> {
        Some(self.e_measure[e as usize])
            .filter(|&m| m != NONE)
            .map(|m| m as usize)
    }
    pub fn edge_quantity(&self, e: EdgeId) -> Option<f64> {
        self.edge_measure(e)
            .map(|m| self.m_qty[m])
            .filter(|q| !q.is_nan())
    }
    pub fn edge_uom(&self, e: EdgeId) -> Option<&str> {
        self.edge_measure(e)
            .and_then(|m| self.uoms.get(self.m_uom[m] as usize))
            .map(String::as_str)
    }
    pub fn edge_event(&self, e: EdgeId) -> &str {
        self.events.get(self.e_event[e as usize])
    }
    /// The number of the event that established the edge (equal for edges of one event).
    pub fn edge_event_number(&self, e: EdgeId) -> u32 {
        self.e_event[e as usize]
    }
    /// When a packed-into or associated link ended (an unpacking); `None` while it holds.
    pub fn edge_until(&self, e: EdgeId) -> Option<Timestamp> {
        self.e_until
            .get(e as usize)
            .filter(|&&t| t != i64::MAX)
            .map(|&t| Timestamp(t))
    }
    /// Whether the link still holds (it was never unpacked).
    pub fn edge_holds(&self, e: EdgeId) -> bool {
        self.e_until.get(e as usize).is_none_or(|&t| t == i64::MAX)
    }

    /// Edges leaving `node` downstream.
    pub fn out_edges(&self, node: NodeId) -> &[EdgeId] {
        let n = node as usize;
        &self.out_edges[self.out_offsets[n] as usize..self.out_offsets[n + 1] as usize]
    }

    /// Edges arriving at `node` from upstream.
    pub fn in_edges(&self, node: NodeId) -> &[EdgeId] {
        let n = node as usize;
        &self.in_edges[self.in_offsets[n] as usize..self.in_offsets[n + 1] as usize]
    }

    /// Every edge id.
    pub fn edges(&self) -> impl Iterator<Item = EdgeId> + '_ {
        0..self.e_from.len() as u32
    }

    /// Breadth-first traversal from `start` in `direction`, within `filter`. Each node appears
    /// once, at its smallest depth, starts first (depth 0).
    ///
    /// Unpacked links (see [`Index::edge_until`]) hold only for their time: going forward, what
    /// happened to a container after a child left it does not reach the child's trace; going
    /// backward, a child that left a container before the moment the container is traced at
    /// (when it shipped, was consumed or packed further) is not part of it.
    pub fn reach(&self, start: &[NodeId], direction: Direction, filter: &Filter) -> Vec<Reached> {
        if !self.e_until.is_empty() {
            return self.reach_timed(start, direction, filter);
        }
        let mut visited = vec![0u64; self.kinds.len().div_ceil(64)];
        let mut out: Vec<Reached> = Vec::new();
        for &s in start {
            if (s as usize) < self.kinds.len() && visited[s as usize / 64] & (1 << (s % 64)) == 0 {
                visited[s as usize / 64] |= 1 << (s % 64);
                out.push(Reached {
                    node: s,
                    depth: 0,
                    via: NONE,
                });
            }
        }
        let (offsets, list, ends) = match direction {
            Direction::Forward => (&self.out_offsets, &self.out_edges, &self.e_to),
            Direction::Backward => (&self.in_offsets, &self.in_edges, &self.e_from),
        };
        let filtered = filter.from.is_some() || filter.to.is_some();
        let mut cursor = 0;
        while cursor < out.len() {
            let Reached { node, depth, .. } = out[cursor];
            cursor += 1;
            if filter.max_depth.is_some_and(|d| depth >= d) {
                continue;
            }
            let n = node as usize;
            for &e in &list[offsets[n] as usize..offsets[n + 1] as usize] {
                if filtered && !filter.admits(self.ev_time[self.e_event[e as usize] as usize]) {
                    continue;
                }
                let next = ends[e as usize];
                let (word, bit) = (next as usize / 64, 1u64 << (next % 64));
                if visited[word] & bit == 0 {
                    visited[word] |= bit;
                    out.push(Reached {
                        node: next,
                        depth: depth + 1,
                        via: e,
                    });
                }
            }
        }
        out
    }

    /// [`Index::reach`] when some links ended: each node carries a time bound (forward: the
    /// instant the traced thing left the container it is in, backward: the instant the
    /// container is traced at) and is expanded again when reached with a looser bound.
    fn reach_timed(&self, start: &[NodeId], direction: Direction, filter: &Filter) -> Vec<Reached> {
        let n = self.kinds.len();
        let forward = direction == Direction::Forward;
        // Forward: edges must happen before the bound; backward: links must last beyond it.
        let loosest = if forward { i64::MAX } else { i64::MIN };
        let mut bound = vec![0i64; n];
        let mut seen = vec![false; n];
        let mut out: Vec<Reached> = Vec::new();
        let mut queue = std::collections::VecDeque::new();
        for &s in start {
            if (s as usize) < n && !seen[s as usize] {
                seen[s as usize] = true;
                bound[s as usize] = loosest;
                out.push(Reached {
                    node: s,
                    depth: 0,
                    via: NONE,
                });
                queue.push_back((s, 0u32, loosest));
            }
        }
        let (offsets, list, ends) = if forward {
            (&self.out_offsets, &self.out_edges, &self.e_to)
        } else {
            (&self.in_offsets, &self.in_edges, &self.e_from)
        };
        // Each state is expanded with the bound it was reached with (a looser bound found later
        // is its own, deeper state): a node's depth is the length of a path that admits it.
        while let Some((node, depth, b)) = queue.pop_front() {
            if filter.max_depth.is_some_and(|d| depth >= d) {
                continue;
            }
            let i = node as usize;
            for &e in &list[offsets[i] as usize..offsets[i + 1] as usize] {
                let time = self.ev_time[self.e_event[e as usize] as usize];
                let until = self.e_until[e as usize];
                if !filter.admits(time) {
                    continue;
                }
                let containment = matches!(
                    EdgeKind::from_u8(self.e_kind[e as usize]),
                    EdgeKind::PackedInto | EdgeKind::Associated
                );
                let next_bound = if forward {
                    if time >= b {
                        continue;
                    }
                    if containment { b.min(until) } else { i64::MAX }
                } else {
                    if until <= b {
                        continue;
                    }
                    if containment { b.max(time) } else { time }
                };
                let next = ends[e as usize];
                let j = next as usize;
                if !seen[j] {
                    seen[j] = true;
                    bound[j] = next_bound;
                    out.push(Reached {
                        node: next,
                        depth: depth + 1,
                        via: e,
                    });
                    queue.push_back((next, depth + 1, next_bound));
                } else if (forward && next_bound > bound[j]) || (!forward && next_bound < bound[j])
                {
                    bound[j] = next_bound;
                    queue.push_back((next, depth + 1, next_bound));
                }
            }
        }
        out
    }
}

impl PartialEq for Index {
    /// Same nodes (names, kinds, numbering), same edges in the same order with the same
    /// attributes, same balances and dispositions: two indexes answer every query alike.
    fn eq(&self, other: &Index) -> bool {
        let bits = |v: &[f64]| v.iter().map(|q| q.to_bits()).collect::<Vec<_>>();
        self.nodes.arena == other.nodes.arena
            && self.kinds == other.kinds
            && self.events == other.events
            && self.ev_time == other.ev_time
            && self.ev_loc == other.ev_loc
            && self.uoms == other.uoms
            && self.e_from == other.e_from
            && self.e_to == other.e_to
            && self.e_kind == other.e_kind
            && self.e_event == other.e_event
            && self.e_measure == other.e_measure
            && bits(&self.m_qty) == bits(&other.m_qty)
            && self.m_uom == other.m_uom
            && self.e_until == other.e_until
            && self.out_offsets == other.out_offsets
            && self.out_edges == other.out_edges
            && self.in_offsets == other.in_offsets
            && self.in_edges == other.in_edges
            && self.balance == other.balance
            && self.held == other.held
            && self.disposition == other.disposition
            && self.disposition_names == other.disposition_names
    }
}
