//! The in-memory genealogy index: interned node ids and compressed adjacency arrays.
//!
//! Built once from [`Genealogy`] records (or streamed in with [`IndexBuilder`]), then
//! read-only. Nodes are `u32`s; their canonical names live in one string arena and are looked
//! up through a table keyed by a 64-bit hash (collisions fall back to a small exact map).
//! Edges are stored column-wise (from, to, kind, time, location, quantity, uom, event) and
//! reached through CSR arrays in both directions, so a traversal touches only integer arrays
//! and one visited bitset: no string is allocated or compared until the caller asks for a
//! name.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use model::Timestamp;

use crate::graph::{EdgeKind, Genealogy, is_hold};
use crate::id::{Id, IdKind};

/// A node of the index.
pub type NodeId = u32;
/// An edge of the index.
pub type EdgeId = u32;

const NONE: u32 = u32::MAX;

/// Passes a precomputed 64-bit hash through.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

type HashIndex = HashMap<u64, u32, BuildHasherDefault<PassThrough>>;

/// 64-bit FNV-1a, then a final mix so that the low bits are well spread.
fn hash_str(text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in text.as_bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 33)
}

/// Strings stored end to end, each named by its position.
#[derive(Debug, Default, Clone)]
struct Arena {
    text: String,
    ends: Vec<u64>,
}

impl Arena {
    fn push(&mut self, s: &str) -> u32 {
        self.text.push_str(s);
        self.ends.push(self.text.len() as u64);
        (self.ends.len() - 1) as u32
    }
    fn get(&self, i: u32) -> &str {
        let i = i as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.text[start..self.ends[i] as usize]
    }
    fn len(&self) -> usize {
        self.ends.len()
    }
}

/// Interns canonical names to dense `u32`s.
#[derive(Default)]
struct Interner {
    arena: Arena,
    by_hash: HashIndex,
    collided: HashMap<Box<str>, u32>,
}

impl Interner {
    fn get(&self, name: &str) -> Option<u32> {
        let h = hash_str(name);
        match self.by_hash.get(&h) {
            Some(&i) if self.arena.get(i) == name => Some(i),
            Some(_) => self.collided.get(name).copied(),
            None => None,
        }
    }

    fn intern(&mut self, name: &str) -> (u32, bool) {
        let h = hash_str(name);
        match self.by_hash.get(&h) {
            Some(&i) if self.arena.get(i) == name => (i, false),
            Some(_) => {
                if let Some(&i) = self.collided.get(name) {
                    return (i, false);
                }
                let i = self.arena.push(name);
                self.collided.insert(name.into(), i);
                (i, true)
            }
            None => {
                let i = self.arena.push(name);
                self.by_hash.insert(h, i);
                (i, true)
            }
        }
    }
}

/// Streams edges and observations into an [`Index`].
#[derive(Default)]
pub struct IndexBuilder {
    nodes: Interner,
    kinds: Vec<u8>,
    events: Arena,
    last_event: Option<u32>,
    uoms: Vec<String>,
    e_from: Vec<u32>,
    e_to: Vec<u32>,
    e_kind: Vec<u8>,
    e_time: Vec<i64>,
    e_loc: Vec<u32>,
    e_qty: Vec<f64>,
    e_uom: Vec<u16>,
    e_event: Vec<u32>,
    received: Vec<(u32, f64)>,
    dispositions: Vec<(i64, u32, DispositionChange)>,
    disposition_names: Vec<String>,
}

#[derive(Debug, Clone, Copy)]
enum DispositionChange {
    Current(u16),
    PersistentSet(u16),
    PersistentUnset(u16),
}

impl IndexBuilder {
    pub fn new() -> IndexBuilder {
        IndexBuilder::default()
    }

    /// Reserves room for about `edges` more edges.
    pub fn reserve(&mut self, edges: usize) {
        for v in [
            &mut self.e_from,
            &mut self.e_to,
            &mut self.e_loc,
            &mut self.e_event,
        ] {
            v.reserve(edges);
        }
        self.e_kind.reserve(edges);
        self.e_time.reserve(edges);
        self.e_qty.reserve(edges);
        self.e_uom.reserve(edges);
    }

    /// The node named `id` (canonical text), created with `kind` if new.
    pub fn node(&mut self, kind: IdKind, id: &str) -> NodeId {
        let (n, new) = self.nodes.intern(id);
        if new {
            self.kinds.push(kind.as_u8());
        }
        n
    }

    /// An event id, shared by consecutive edges of the same event.
    pub fn event(&mut self, id: &str) -> u32 {
        if let Some(last) = self.last_event
            && self.events.get(last) == id
        {
            return last;
        }
        let e = self.events.push(id);
        self.last_event = Some(e);
        e
    }

    fn uom(&mut self, uom: Option<&str>) -> u16 {
        let Some(uom) = uom else { return u16::MAX };
        if let Some(i) = self.uoms.iter().position(|u| u == uom) {
            return i as u16;
        }
        self.uoms.push(uom.to_owned());
        (self.uoms.len() - 1).min(u16::MAX as usize - 1) as u16
    }

    fn disposition_name(&mut self, name: &str) -> u16 {
        if let Some(i) = self.disposition_names.iter().position(|u| u == name) {
            return i as u16;
        }
        self.disposition_names.push(name.to_owned());
        (self.disposition_names.len() - 1) as u16
    }

    /// Adds one edge between interned nodes.
    #[allow(clippy::too_many_arguments)]
    pub fn add_edge_raw(
        &mut self,
        kind: EdgeKind,
        from: NodeId,
        to: NodeId,
        time: Timestamp,
        location: Option<NodeId>,
        quantity: Option<f64>,
        uom: Option<&str>,
        event: u32,
    ) {
        let uom = self.uom(uom);
        self.e_from.push(from);
        self.e_to.push(to);
        self.e_kind.push(kind as u8);
        self.e_time.push(time.0);
        self.e_loc.push(location.unwrap_or(NONE));
        self.e_qty.push(quantity.unwrap_or(f64::NAN));
        self.e_uom.push(uom);
        self.e_event.push(event);
    }

    /// Adds every edge and observation of `genealogy`.
    pub fn add(&mut self, genealogy: &Genealogy) {
        self.reserve(genealogy.edges.len());
        for edge in &genealogy.edges {
            let from = self.node(edge.from.kind, &edge.from.id);
            let to = self.node(edge.to.kind, &edge.to.id);
            let location = edge.location.as_ref().map(|l| self.node(l.kind, &l.id));
            let event = self.event(&edge.event);
            self.add_edge_raw(
                edge.kind,
                from,
                to,
                edge.time,
                location,
                edge.quantity,
                edge.uom.as_deref(),
                event,
            );
        }
        for obs in &genealogy.observations {
            let item = self.node(obs.item.kind, &obs.item.id);
            if let Some(q) = obs.received {
                self.received.push((item, q));
            }
            if let Some(d) = &obs.disposition {
                let d = self.disposition_name(d);
                self.dispositions
                    .push((obs.time.0, item, DispositionChange::Current(d)));
            }
            for d in &obs.persistent_set {
                let d = self.disposition_name(d);
                self.dispositions
                    .push((obs.time.0, item, DispositionChange::PersistentSet(d)));
            }
            for d in &obs.persistent_unset {
                let d = self.disposition_name(d);
                self.dispositions
                    .push((obs.time.0, item, DispositionChange::PersistentUnset(d)));
            }
        }
    }

    /// Number of edges added so far.
    pub fn edge_count(&self) -> usize {
        self.e_from.len()
    }

    /// Builds the adjacency arrays and per-node balances.
    pub fn finish(self) -> Index {
        let n = self.nodes.arena.len();
        let m = self.e_from.len();
        let csr = |keys: &[u32]| -> (Vec<u32>, Vec<u32>) {
            let mut offsets = vec![0u32; n + 1];
            for &k in keys {
                offsets[k as usize + 1] += 1;
            }
            for i in 0..n {
                offsets[i + 1] += offsets[i];
            }
            let mut fill = offsets.clone();
            let mut list = vec![0u32; m];
            for (e, &k) in keys.iter().enumerate() {
                let slot = &mut fill[k as usize];
                list[*slot as usize] = e as u32;
                *slot += 1;
            }
            (offsets, list)
        };
        let (out_offsets, out_edges) = csr(&self.e_from);
        let (in_offsets, in_edges) = csr(&self.e_to);

        let mut balance = vec![Balance::default(); n];
        for e in 0..m {
            let q = self.e_qty[e];
            let q = if q.is_nan() { 1.0 } else { q };
            match EdgeKind::from_u8(self.e_kind[e]) {
                EdgeKind::ProducedFrom => balance[self.e_to[e] as usize].produced += q,
                EdgeKind::ConsumedInto => balance[self.e_from[e] as usize].consumed += q,
                EdgeKind::ShippedTo => balance[self.e_from[e] as usize].shipped += q,
                _ => {}
            }
        }
        for &(item, q) in &self.received {
            balance[item as usize].received += q;
        }

        let mut dispositions = self.dispositions;
        dispositions.sort_by_key(|&(t, item, _)| (item, t));
        let mut disposition = HashMap::new();
        let mut held = vec![0u64; n.div_ceil(64)];
        let mut i = 0;
        while i < dispositions.len() {
            let item = dispositions[i].1;
            let mut current: Option<u16> = None;
            let mut persistent: Vec<u16> = Vec::new();
            while i < dispositions.len() && dispositions[i].1 == item {
                match dispositions[i].2 {
                    DispositionChange::Current(d) => current = Some(d),
                    DispositionChange::PersistentSet(d) => {
                        if !persistent.contains(&d) {
                            persistent.push(d);
                        }
                    }
                    DispositionChange::PersistentUnset(d) => persistent.retain(|&p| p != d),
                }
                i += 1;
            }
            let names = &self.disposition_names;
            let hold = current.is_some_and(|d| is_hold(&names[d as usize]))
                || persistent.iter().any(|&d| is_hold(&names[d as usize]));
            if hold {
                held[item as usize / 64] |= 1 << (item % 64);
            }
            if let Some(d) = current {
                disposition.insert(item, d);
            }
        }

        Index {
            nodes: self.nodes,
            kinds: self.kinds,
            events: self.events,
            uoms: self.uoms,
            e_from: self.e_from,
            e_to: self.e_to,
            e_kind: self.e_kind,
            e_time: self.e_time,
            e_loc: self.e_loc,
            e_qty: self.e_qty,
            e_uom: self.e_uom,
            e_event: self.e_event,
            out_offsets,
            out_edges,
            in_offsets,
            in_edges,
            balance,
            held,
            disposition,
            disposition_names: self.disposition_names,
        }
    }
}

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
    uoms: Vec<String>,
    e_from: Vec<u32>,
    e_to: Vec<u32>,
    e_kind: Vec<u8>,
    e_time: Vec<i64>,
    e_loc: Vec<u32>,
    e_qty: Vec<f64>,
    e_uom: Vec<u16>,
    e_event: Vec<u32>,
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
        Timestamp(self.e_time[e as usize])
    }
    pub fn edge_location(&self, e: EdgeId) -> Option<NodeId> {
        Some(self.e_loc[e as usize]).filter(|&l| l != NONE)
    }
    pub fn edge_quantity(&self, e: EdgeId) -> Option<f64> {
        Some(self.e_qty[e as usize]).filter(|q| !q.is_nan())
    }
    pub fn edge_uom(&self, e: EdgeId) -> Option<&str> {
        self.uoms
            .get(self.e_uom[e as usize] as usize)
            .map(String::as_str)
    }
    pub fn edge_event(&self, e: EdgeId) -> &str {
        self.events.get(self.e_event[e as usize])
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
    pub fn reach(&self, start: &[NodeId], direction: Direction, filter: &Filter) -> Vec<Reached> {
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
                if filtered && !filter.admits(self.e_time[e as usize]) {
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
}
