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

use std::collections::HashMap;

use model::Timestamp;

use crate::graph::{EdgeKind, Genealogy, is_hold};
use crate::id::{Id, IdKind};

/// A node of the index.
pub type NodeId = u32;
/// An edge of the index.
pub type EdgeId = u32;

const NONE: u32 = u32::MAX;

/// A multiplicative hash over eight bytes at a time, then a final avalanche (the 64-bit
/// finaliser of MurmurHash3) so that every bit of the result depends on every input bit.
/// Deterministic: the same text always hashes the same.
pub(crate) fn hash_str(text: &str) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let bytes = text.as_bytes();
    let mut h = bytes.len() as u64;
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        let w = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        h = (h.rotate_left(5) ^ w).wrapping_mul(K);
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        let mut last = [0u8; 8];
        last[..rest.len()].copy_from_slice(rest);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(last)).wrapping_mul(K);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// Strings stored end to end, each named by its position.
#[derive(Debug, Default, Clone, PartialEq)]
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

/// Interns canonical names to dense `u32`s: an open-addressing table (linear probing) of
/// 64-bit slots, each the upper 32 bits of the name's hash (the tag) and its number + 1 (0 is
/// an empty slot), so that a probe touches one cache line and a name is compared only when
/// its tag matches. A name's home slot is a function of its tag alone (its tag scaled to the
/// table's size, which need not be a power of two), so the table can be rebuilt from its
/// slots (no hash kept per name, no name read again). The table is made half full and grows
/// (doubles) past three quarters, so that an estimate of the names to come can be off by half
/// before every name has to move. Names with equal tags simply take further slots.
#[derive(Default)]
struct Interner {
    arena: Arena,
    slots: Vec<u64>,
}

impl Interner {
    const EMPTY: u64 = 0;

    /// The slot where probing for a name with this tag (or slot, whose upper half is the
    /// tag) starts, in a table of `size` slots.
    fn home(tagged: u64, size: usize) -> usize {
        (((tagged >> 32) * size as u64) >> 32) as usize
    }

    /// The name's number, or the empty slot where it would go.
    fn find(&self, name: &str, h: u64) -> Result<u32, usize> {
        let size = self.slots.len();
        if size == 0 {
            return Err(usize::MAX);
        }
        let tag = h >> 32;
        let mut i = Self::home(h, size);
        loop {
            let slot = self.slots[i];
            if slot == Self::EMPTY {
                return Err(i);
            }
            if slot >> 32 == tag {
                let n = (slot as u32) - 1;
                if self.arena.get(n) == name {
                    return Ok(n);
                }
            }
            i += 1;
            if i == size {
                i = 0;
            }
        }
    }

    fn get(&self, name: &str) -> Option<u32> {
        self.find(name, hash_str(name)).ok()
    }

    fn intern(&mut self, name: &str) -> (u32, bool) {
        self.intern_hashed(name, hash_str(name))
    }

    fn intern_hashed(&mut self, name: &str, h: u64) -> (u32, bool) {
        match self.find(name, h) {
            Ok(n) => (n, false),
            Err(mut slot) => {
                if (self.arena.len() + 1) * 4 > self.slots.len() * 3 {
                    self.rebuild_into(vec![Self::EMPTY; Self::table_size(self.arena.len() + 1)]);
                    slot = match self.find(name, h) {
                        Err(slot) => slot,
                        Ok(_) => unreachable!("the name was not there before growing"),
                    };
                }
                let n = self.arena.push(name);
                self.slots[slot] = (h >> 32) << 32 | u64::from(n + 1);
                (n, true)
            }
        }
    }

    /// Room for `more` names beyond those held without growing the table again.
    fn reserve(&mut self, more: usize) {
        let size = Self::table_size(self.arena.len().saturating_add(more));
        if size > self.slots.len() {
            self.rebuild_into(vec![Self::EMPTY; size]);
        }
        self.arena.ends.reserve(more);
    }

    /// The size of a half-full table of `names` names.
    fn table_size(names: usize) -> usize {
        names.saturating_mul(2).clamp(1 << 10, u32::MAX as usize)
    }

    /// Moves every name into `slots` (empty, with room for them all).
    fn rebuild_into(&mut self, mut slots: Vec<u64>) {
        let size = slots.len();
        for &slot in &self.slots {
            if slot == Self::EMPTY {
                continue;
            }
            let mut i = Self::home(slot, size);
            while slots[i] != Self::EMPTY {
                i += 1;
                if i == size {
                    i = 0;
                }
            }
            slots[i] = slot;
        }
        self.slots = slots;
    }
}

/// Memory for an [`IndexBuilder`] to grow into, every page of it already written once.
///
/// On a virtual machine the first write to fresh memory is a page fault that costs about as
/// much as filling the page several times over; a builder of millions of edges spends more of
/// its time there than interning names. A `Room` is made on another thread ([`Room::nodes`],
/// [`Room::edges`]), where those faults overlap the builder's work, and handed over with
/// [`IndexBuilder::take_room`]. The index built is the same with or without it.
#[derive(Default)]
pub struct Room {
    /// An empty name table (every slot written), or nothing.
    slots: Vec<u64>,
    text: Vec<u8>,
    ends: Vec<u64>,
    kinds: Vec<u8>,
    e_from: Vec<u32>,
    e_to: Vec<u32>,
    e_kind: Vec<u8>,
    e_event: Vec<u32>,
    e_measure: Vec<u32>,
}

/// An empty vector whose room for `capacity` elements has been written (so is resident).
fn resident<T: Copy + Default>(capacity: usize) -> Vec<T> {
    let mut v = Vec::with_capacity(capacity);
    v.resize(capacity, T::default());
    // Kept from being optimised away: the writes are the point.
    let mut v = std::hint::black_box(v);
    v.clear();
    v
}

impl Room {
    /// Room for `nodes` distinct names in all, of about `name_bytes` bytes of text.
    pub fn nodes(nodes: usize, name_bytes: usize) -> Room {
        let mut slots = Vec::new();
        slots.resize(Interner::table_size(nodes), Interner::EMPTY);
        Room {
            slots: std::hint::black_box(slots),
            text: resident(name_bytes),
            ends: resident(nodes),
            kinds: resident(nodes),
            ..Room::default()
        }
    }

    /// Room for `edges` edges in all.
    pub fn edges(edges: usize) -> Room {
        Room {
            e_from: resident(edges),
            e_to: resident(edges),
            e_kind: resident(edges),
            e_event: resident(edges),
            e_measure: resident(edges),
            ..Room::default()
        }
    }
}

/// Moves what `mine` holds into `room` when `room` is larger, and keeps that.
fn adopt<T: Copy>(mine: &mut Vec<T>, mut room: Vec<T>) {
    if room.capacity() > mine.capacity() {
        room.clear();
        room.extend_from_slice(mine);
        *mine = room;
    }
}

/// Streams edges and observations into an [`Index`].
#[derive(Default)]
pub struct IndexBuilder {
    nodes: Interner,
    kinds: Vec<u8>,
    /// Event occurrences: an event's id, time and location, shared by its edges.
    events: Arena,
    ev_time: Vec<i64>,
    ev_loc: Vec<u32>,
    last_event: Option<u32>,
    uoms: Vec<String>,
    e_from: Vec<u32>,
    e_to: Vec<u32>,
    e_kind: Vec<u8>,
    e_event: Vec<u32>,
    /// The edge's quantity and unit in `m_qty` and `m_uom`; `NONE` without either (most
    /// edges: instance-level EPCs carry none).
    e_measure: Vec<u32>,
    m_qty: Vec<f64>,
    m_uom: Vec<u16>,
    received: Vec<(u32, f64)>,
    dispositions: Vec<(i64, u32, DispositionChange)>,
    disposition_names: Vec<String>,
    removals: Vec<RemovalRaw>,
    /// The last few nodes interned (consecutive edges of one event share their ends).
    recent: [u32; 4],
    recent_next: usize,
}

/// A removal between interned nodes; `edges` is the number of edges added before it (an
/// edge at the same instant ends only if it came earlier).
#[derive(Debug, Clone, Copy)]
struct RemovalRaw {
    kind: EdgeKind,
    child: u32,
    parent: u32,
    time: i64,
    edges: u32,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum DispositionChange {
    Current(u16),
    PersistentSet(u16),
    PersistentUnset(u16),
}

impl IndexBuilder {
    pub fn new() -> IndexBuilder {
        IndexBuilder {
            recent: [NONE; 4],
            ..IndexBuilder::default()
        }
    }

    /// A builder with room for about `nodes` distinct names and `edges` edges, so that the
    /// name table is not rebuilt (every name moved) each time it doubles.
    pub fn with_capacity(nodes: usize, edges: usize) -> IndexBuilder {
        let mut b = IndexBuilder::new();
        b.reserve_nodes(nodes);
        b.reserve(edges);
        b
    }

    /// Reserves room for about `nodes` more distinct names: the name table is sized for them
    /// once instead of doubling (and moving every name) as they come.
    pub fn reserve_nodes(&mut self, nodes: usize) {
        self.nodes.reserve(nodes);
        self.kinds.reserve(nodes);
    }

    /// Takes over the parts of `room` larger than what the builder holds (see [`Room`]).
    pub fn take_room(&mut self, room: Room) {
        if room.slots.len() > self.nodes.slots.len()
            && room.slots.len() >= Interner::table_size(self.nodes.arena.len())
        {
            self.nodes.rebuild_into(room.slots);
        }
        if room.text.capacity() > self.nodes.arena.text.capacity()
            && let Ok(mut text) = String::from_utf8(room.text)
        {
            text.push_str(&self.nodes.arena.text);
            self.nodes.arena.text = text;
        }
        adopt(&mut self.nodes.arena.ends, room.ends);
        adopt(&mut self.kinds, room.kinds);
        adopt(&mut self.e_from, room.e_from);
        adopt(&mut self.e_to, room.e_to);
        adopt(&mut self.e_kind, room.e_kind);
        adopt(&mut self.e_event, room.e_event);
        adopt(&mut self.e_measure, room.e_measure);
    }

    /// Number of distinct names interned so far.
    pub fn node_count(&self) -> usize {
        self.nodes.arena.len()
    }

    /// Reserves room for about `edges` more edges.
    pub fn reserve(&mut self, edges: usize) {
        for v in [
            &mut self.e_from,
            &mut self.e_to,
            &mut self.e_event,
            &mut self.e_measure,
        ] {
            v.reserve(edges);
        }
        self.e_kind.reserve(edges);
    }

    /// The node named `id` (canonical text), created with `kind` if new.
    pub fn node(&mut self, kind: IdKind, id: &str) -> NodeId {
        for &r in &self.recent {
            if r != NONE && self.nodes.arena.get(r) == id {
                return r;
            }
        }
        let (n, new) = self.nodes.intern(id);
        if new {
            self.kinds.push(kind.as_u8());
        }
        self.recent[self.recent_next] = n;
        self.recent_next = (self.recent_next + 1) % self.recent.len();
        n
    }

    /// The nodes of many names at once, numbered as one [`IndexBuilder::node`] call per name
    /// in order would. The table slots of a group of names are read before any of them is
    /// looked up, so that their cache misses overlap instead of following one another.
    pub fn nodes<'n>(&mut self, names: impl Iterator<Item = (IdKind, &'n str)>) -> Vec<NodeId> {
        let names: Vec<(IdKind, &str, u64)> = names.map(|(k, n)| (k, n, hash_str(n))).collect();
        self.nodes_hashed(&names)
    }

    /// [`IndexBuilder::nodes`] of names whose [`hash_str`] is already known (computed on
    /// another thread, so that this one only probes the table).
    pub(crate) fn nodes_hashed(&mut self, names: &[(IdKind, &str, u64)]) -> Vec<NodeId> {
        const GROUP: usize = 16;
        let mut out = Vec::with_capacity(names.len());
        let mut recent: [(&str, u32); 2] = [("", NONE); 2];
        let mut turn = 0;
        for group in names.chunks(GROUP) {
            let size = self.nodes.slots.len();
            if size > 0 {
                let mut touch = 0u64;
                for &(_, _, h) in group {
                    touch ^= self.nodes.slots[Interner::home(h, size)];
                }
                std::hint::black_box(touch);
            }
            for &(kind, name, h) in group {
                // Consecutive edges of an event share one end: the same text (all of `names`
                // is alive, so the same address and length is the same text).
                let same = |p: &(&str, u32)| std::ptr::eq(p.0, name);
                let n = match recent.iter().find(|p| same(p)) {
                    Some(&(_, n)) => n,
                    None => self.node_hashed(kind, name, h),
                };
                recent[turn % 2] = (name, n);
                turn += 1;
                out.push(n);
            }
        }
        out
    }

    fn node_hashed(&mut self, kind: IdKind, id: &str, h: u64) -> NodeId {
        let (n, new) = self.nodes.intern_hashed(id, h);
        if new {
            self.kinds.push(kind.as_u8());
        }
        n
    }

    /// The occurrence of event `id` at `time` and `location`, shared by consecutive edges of
    /// one event (an event's edges all have its time and location).
    pub fn event(&mut self, id: &str, time: Timestamp, location: Option<NodeId>) -> u32 {
        let location = location.unwrap_or(NONE);
        if let Some(last) = self.last_event {
            let l = last as usize;
            if self.ev_time[l] == time.0
                && self.ev_loc[l] == location
                && self.events.get(last) == id
            {
                return last;
            }
        }
        let e = self.events.push(id);
        self.ev_time.push(time.0);
        self.ev_loc.push(location);
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

    /// Adds one edge between interned nodes, of the event occurrence `event`
    /// ([`IndexBuilder::event`]).
    pub fn add_edge_raw(
        &mut self,
        kind: EdgeKind,
        from: NodeId,
        to: NodeId,
        event: u32,
        quantity: Option<f64>,
        uom: Option<&str>,
    ) {
        let measure = if quantity.is_none() && uom.is_none() {
            NONE
        } else {
            let uom = self.uom(uom);
            self.m_qty.push(quantity.unwrap_or(f64::NAN));
            self.m_uom.push(uom);
            (self.m_qty.len() - 1) as u32
        };
        self.e_from.push(from);
        self.e_to.push(to);
        self.e_kind.push(kind as u8);
        self.e_event.push(event);
        self.e_measure.push(measure);
    }

    /// Adds every edge and observation of `genealogy`.
    pub fn add(&mut self, genealogy: &Genealogy) {
        self.reserve(genealogy.edges.len());
        for edge in &genealogy.edges {
            let from = self.node(edge.from.kind, &edge.from.id);
            let to = self.node(edge.to.kind, &edge.to.id);
            let location = edge.location.as_ref().map(|l| self.node(l.kind, &l.id));
            let event = self.event(&edge.event, edge.time, location);
            self.add_edge_raw(
                edge.kind,
                from,
                to,
                event,
                edge.quantity,
                edge.uom.as_deref(),
            );
        }
        for obs in &genealogy.observations {
            let item = self.node(obs.item.kind, &obs.item.id);
            self.observe(
                item,
                obs.time,
                obs.received,
                obs.disposition.as_deref(),
                obs.persistent_set.iter().map(String::as_str),
                obs.persistent_unset.iter().map(String::as_str),
            );
        }
        for r in &genealogy.removals {
            let child = r.child.as_ref().map(|c| self.node(c.kind, &c.id));
            let parent = self.node(r.parent.kind, &r.parent.id);
            self.remove_raw(r.kind, child, parent, r.time);
        }
    }

    /// Records what was seen of an interned item.
    pub(crate) fn observe<'a>(
        &mut self,
        item: NodeId,
        time: Timestamp,
        received: Option<f64>,
        disposition: Option<&str>,
        persistent_set: impl IntoIterator<Item = &'a str>,
        persistent_unset: impl IntoIterator<Item = &'a str>,
    ) {
        if let Some(q) = received {
            self.received.push((item, q));
        }
        if let Some(d) = disposition {
            let d = self.disposition_name(d);
            self.dispositions
                .push((time.0, item, DispositionChange::Current(d)));
        }
        for d in persistent_set {
            let d = self.disposition_name(d);
            self.dispositions
                .push((time.0, item, DispositionChange::PersistentSet(d)));
        }
        for d in persistent_unset {
            let d = self.disposition_name(d);
            self.dispositions
                .push((time.0, item, DispositionChange::PersistentUnset(d)));
        }
    }

    /// Ends the `kind` links of `child` (every child when `None`) into `parent` made up to
    /// `time`.
    pub fn remove_raw(
        &mut self,
        kind: EdgeKind,
        child: Option<NodeId>,
        parent: NodeId,
        time: Timestamp,
    ) {
        self.removals.push(RemovalRaw {
            kind,
            child: child.unwrap_or(NONE),
            parent,
            time: time.0,
            edges: self.e_from.len() as u32,
        });
    }

    /// Lowers EPCIS events (see [`crate::epcis::lower`]) straight into the index: the same
    /// result as `add(&lower(events))` without the intermediate records.
    pub fn add_epcis(&mut self, events: &[crate::epcis::EpcisEvent]) {
        let views: Vec<_> = events.iter().map(crate::epcis::EventView::of).collect();
        let mut collected = crate::epcis::fast::Collector::default();
        crate::epcis::lower_views(&views, &mut collected);
        let mut sink = crate::epcis::fast::IndexSink::new(self);
        sink.absorb(&mut collected);
        sink.flush();
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
        // Both directions at once (each is independent of the other).
        let ((out_offsets, out_edges), (in_offsets, in_edges)) = std::thread::scope(|scope| {
            let incoming = scope.spawn(|| csr(&self.e_to));
            let outgoing = csr(&self.e_from);
            match incoming.join() {
                Ok(incoming) => (outgoing, incoming),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        });

        // Unpacking ends earlier links: each edge ends at the first removal after it.
        let mut e_until = Vec::new();
        if !self.removals.is_empty() {
            e_until = vec![i64::MAX; m];
            for r in &self.removals {
                let candidates = if r.child != NONE {
                    let c = r.child as usize;
                    &out_edges[out_offsets[c] as usize..out_offsets[c + 1] as usize]
                } else {
                    let p = r.parent as usize;
                    &in_edges[in_offsets[p] as usize..in_offsets[p + 1] as usize]
                };
                for &e in candidates {
                    let i = e as usize;
                    let time = self.ev_time[self.e_event[i] as usize];
                    let before = time < r.time || (time == r.time && e < r.edges);
                    if self.e_kind[i] == r.kind as u8 && self.e_to[i] == r.parent && before {
                        e_until[i] = e_until[i].min(r.time);
                    }
                }
            }
        }

        let mut balance = vec![Balance::default(); n];
        for e in 0..m {
            let q = match self.e_measure[e] {
                NONE => 1.0,
                m if self.m_qty[m as usize].is_nan() => 1.0,
                m => self.m_qty[m as usize],
            };
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
            ev_time: self.ev_time,
            ev_loc: self.ev_loc,
            uoms: self.uoms,
            e_from: self.e_from,
            e_to: self.e_to,
            e_kind: self.e_kind,
            e_event: self.e_event,
            e_measure: self.e_measure,
            m_qty: self.m_qty,
            m_uom: self.m_uom,
            e_until,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn name(i: usize) -> String {
        format!("urn:epc:id:sgtin:4012345.077889.{i}")
    }

    #[test]
    fn names_keep_their_numbers_as_the_table_grows_past_three_quarters() {
        let mut names = Interner::default();
        let mut sizes = Vec::new();
        for i in 0..50_000 {
            assert_eq!(names.intern(&name(i)), (i as u32, true));
            if sizes.last() != Some(&names.slots.len()) {
                sizes.push(names.slots.len());
            }
            assert!(names.arena.len() * 4 <= names.slots.len() * 3);
        }
        // Grown several times, to sizes that are not all powers of two.
        assert!(sizes.len() >= 5, "{sizes:?}");
        assert!(sizes.iter().any(|s| !s.is_power_of_two()), "{sizes:?}");
        for i in 0..50_000 {
            assert_eq!(names.get(&name(i)), Some(i as u32));
            assert_eq!(names.intern(&name(i)), (i as u32, false));
        }
        assert_eq!(names.get("urn:epc:id:sgtin:4012345.077889.50000"), None);
    }

    #[test]
    fn names_with_one_tag_are_told_apart() {
        // Every name on the same tag (and so the same home slot): only comparing the text
        // tells them apart, and the probe wraps around the end of the table.
        let mut names = Interner::default();
        let h = u64::MAX;
        for i in 0..600 {
            assert_eq!(names.intern_hashed(&name(i), h), (i as u32, true));
        }
        for i in 0..600 {
            assert_eq!(names.find(&name(i), h), Ok(i as u32));
        }
        assert!(names.find(&name(600), h).is_err());
    }

    fn build(room_after: Option<usize>) -> Index {
        let mut b = IndexBuilder::new();
        for i in 0..20_000u32 {
            if Some(i as usize) == room_after {
                b.take_room(Room::nodes(60_000, 60_000 * 36));
                b.take_room(Room::edges(40_000));
            }
            let order = format!("urn:mixplane:order:ASM-{}", i / 100);
            let event = format!("urn:uuid:{}", i / 100);
            let from = b.node(IdKind::Order, &order);
            let to = b.node(IdKind::Serial, &name(i as usize));
            let e = b.event(&event, Timestamp(i64::from(i / 100)), None);
            let quantity = (i % 7 == 0).then_some(f64::from(i));
            b.add_edge_raw(EdgeKind::ProducedFrom, from, to, e, quantity, Some("EA"));
        }
        b.finish()
    }

    #[test]
    fn room_taken_at_any_point_gives_the_same_index() {
        let expected = build(None);
        assert_eq!(expected.node_count(), 20_000 + 200);
        for at in [0, 1, 5_000, 19_999] {
            assert!(build(Some(at)) == expected, "room taken after {at} edges");
        }
        // Room smaller than what the builder holds is not taken, and changes nothing.
        let mut b = IndexBuilder::new();
        b.reserve_nodes(100_000);
        let slots = b.nodes.slots.len();
        b.take_room(Room::nodes(10, 360));
        assert_eq!(b.nodes.slots.len(), slots);
    }

    #[test]
    fn edges_of_one_event_share_its_time_and_location() {
        let mut b = IndexBuilder::new();
        let (a, c, l) = (
            b.node(IdKind::Lot, "a"),
            b.node(IdKind::Lot, "c"),
            b.node(IdKind::Unit, "l"),
        );
        let e1 = b.event("e1", Timestamp(5), Some(l));
        b.add_edge_raw(EdgeKind::ConsumedInto, a, c, e1, Some(2.5), Some("KGM"));
        assert_eq!(b.event("e1", Timestamp(5), Some(l)), e1);
        b.add_edge_raw(EdgeKind::ConsumedInto, c, a, e1, None, None);
        // The same id at another time or place is another occurrence.
        let e2 = b.event("e1", Timestamp(6), Some(l));
        assert_ne!(e2, e1);
        b.add_edge_raw(EdgeKind::ConsumedInto, a, c, e2, None, Some("EA"));
        let index = b.finish();
        assert_eq!(index.edge_time(0), Timestamp(5));
        assert_eq!(index.edge_location(1), Some(l));
        assert_eq!(index.edge_quantity(0), Some(2.5));
        assert_eq!(index.edge_uom(0), Some("KGM"));
        assert_eq!((index.edge_quantity(1), index.edge_uom(1)), (None, None));
        assert_eq!(
            (index.edge_quantity(2), index.edge_uom(2)),
            (None, Some("EA"))
        );
        assert_eq!(index.edge_time(2), Timestamp(6));
        assert_eq!(index.edge_event(2), "e1");
    }
}
