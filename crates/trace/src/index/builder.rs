//! Streams edges, observations and removals into an [`super::Index`].

use std::collections::HashMap;

use model::Timestamp;

use super::room::{Room, adopt};
use super::{Arena, Balance, Index, Interner, NONE, NodeId, hash_str};
use crate::graph::{EdgeKind, Genealogy, is_hold};
use crate::id::IdKind;

/// Streams edges and observations into an [`Index`].
#[derive(Default)]
pub struct IndexBuilder {
    pub(super) nodes: Interner,
    pub(super) kinds: Vec<u8>,
    /// Event occurrences: an event's id, time and location, shared by its edges.
    pub(super) events: Arena,
    pub(super) ev_time: Vec<i64>,
    pub(super) ev_loc: Vec<u32>,
    pub(super) last_event: Option<u32>,
    pub(super) uoms: Vec<String>,
    pub(super) e_from: Vec<u32>,
    pub(super) e_to: Vec<u32>,
    pub(super) e_kind: Vec<u8>,
    pub(super) e_event: Vec<u32>,
    /// The edge's quantity and unit in `m_qty` and `m_uom`; `NONE` without either (most
    /// edges: instance-level EPCs carry none).
    pub(super) e_measure: Vec<u32>,
    pub(super) m_qty: Vec<f64>,
    pub(super) m_uom: Vec<u16>,
    pub(super) received: Vec<(u32, f64)>,
    pub(super) dispositions: Vec<(i64, u32, DispositionChange)>,
    pub(super) disposition_names: Vec<String>,
    pub(super) removals: Vec<RemovalRaw>,
    /// The last few nodes interned (consecutive edges of one event share their ends).
    pub(super) recent: [u32; 4],
    pub(super) recent_next: usize,
}

/// A removal between interned nodes; `edges` is the number of edges added before it (an
/// edge at the same instant ends only if it came earlier).
#[derive(Debug, Clone, Copy)]
pub(super) struct RemovalRaw {
    pub(super) kind: EdgeKind,
    pub(super) child: u32,
    pub(super) parent: u32,
    pub(super) time: i64,
    pub(super) edges: u32,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum DispositionChange {
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

    pub(super) fn node_hashed(&mut self, kind: IdKind, id: &str, h: u64) -> NodeId {
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

    pub(super) fn uom(&mut self, uom: Option<&str>) -> u16 {
        let Some(uom) = uom else { return u16::MAX };
        if let Some(i) = self.uoms.iter().position(|u| u == uom) {
            return i as u16;
        }
        self.uoms.push(uom.to_owned());
        (self.uoms.len() - 1).min(u16::MAX as usize - 1) as u16
    }

    pub(super) fn disposition_name(&mut self, name: &str) -> u16 {
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
