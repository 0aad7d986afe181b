//! What lowering produces, collected ([`Collector`]) and added to an [`IndexBuilder`] with the
//! identifiers of many edges interned in one batch ([`IndexSink`]).

use model::Timestamp;

use super::super::{NodeRef, Sink};
use crate::graph::EdgeKind;
use crate::id::IdKind;

use crate::index::IndexBuilder;

pub(super) struct PendingEdge<'a> {
    pub(super) kind: EdgeKind,
    /// The names' hashes (from, to, location), computed where the edge is lowered.
    pub(super) hashes: [u64; 3],
    pub(super) from: NodeRef<'a>,
    pub(super) to: NodeRef<'a>,
    pub(super) location: Option<NodeRef<'a>>,
    pub(super) time: Timestamp,
    pub(super) quantity: Option<f64>,
    pub(super) uom: Option<&'a str>,
    pub(super) event: &'a str,
}

pub(super) struct PendingObservation<'a> {
    pub(super) item: NodeRef<'a>,
    pub(super) time: Timestamp,
    pub(super) received: Option<f64>,
    pub(super) disposition: Option<&'a str>,
    pub(super) persistent_set: Vec<&'a str>,
    pub(super) persistent_unset: Vec<&'a str>,
}

pub(super) struct PendingRemoval<'a> {
    pub(super) kind: EdgeKind,
    pub(super) child: Option<NodeRef<'a>>,
    pub(super) parent: NodeRef<'a>,
    pub(super) time: Timestamp,
}

/// Lowering's records of some events, held (a slice of a document, lowered on another
/// thread while the builder takes the slice before).
#[derive(Default)]
pub(crate) struct Collector<'a> {
    edges: Vec<PendingEdge<'a>>,
    observations: Vec<PendingObservation<'a>>,
    removals: Vec<PendingRemoval<'a>>,
}

impl<'a> Sink<'a> for Collector<'a> {
    fn edge(
        &mut self,
        kind: EdgeKind,
        from: &NodeRef<'a>,
        to: &NodeRef<'a>,
        time: Timestamp,
        location: Option<&NodeRef<'a>>,
        quantity: Option<f64>,
        uom: Option<&'a str>,
        event: &'a str,
    ) {
        let hash = |n: &NodeRef<'_>| crate::index::hash_str(&n.id);
        self.edges.push(PendingEdge {
            kind,
            hashes: [hash(from), hash(to), location.map_or(0, hash)],
            from: from.clone(),
            to: to.clone(),
            location: location.cloned(),
            time,
            quantity,
            uom,
            event,
        });
    }

    fn observation(
        &mut self,
        item: &NodeRef<'a>,
        time: Timestamp,
        _event: &'a str,
        received: Option<(f64, Option<&'a str>)>,
        disposition: Option<&'a str>,
        persistent_set: &[&'a str],
        persistent_unset: &[&'a str],
    ) {
        self.observations.push(PendingObservation {
            item: item.clone(),
            time,
            received: received.map(|r| r.0),
            disposition,
            persistent_set: persistent_set.to_vec(),
            persistent_unset: persistent_unset.to_vec(),
        });
    }

    fn removal(
        &mut self,
        kind: EdgeKind,
        child: Option<&NodeRef<'a>>,
        parent: &NodeRef<'a>,
        time: Timestamp,
        _event: &'a str,
    ) {
        self.removals.push(PendingRemoval {
            kind,
            child: child.cloned(),
            parent: parent.clone(),
            time,
        });
    }
}

/// Adds what lowering collected ([`Collector`]) to an [`IndexBuilder`]: interns the
/// identifiers of many edges in one batch ([`IndexBuilder::nodes`]) and holds observations
/// and removals back until [`IndexSink::flush`], in the order
/// [`IndexBuilder::add`] meets them (every edge's ends and location first, then
/// observations, then removals), so that nodes are numbered alike on every path.
pub(crate) struct IndexSink<'a, 'b> {
    pub(super) builder: &'b mut IndexBuilder,
    pending: Collector<'a>,
}

/// Adds edges to the builder, their identifiers interned in one batch.
fn add_edges(b: &mut IndexBuilder, edges: &[PendingEdge<'_>]) {
    let mut names: Vec<(IdKind, &str, u64)> = Vec::with_capacity(edges.len() * 2);
    for e in edges {
        names.push((e.from.kind, &e.from.id, e.hashes[0]));
        names.push((e.to.kind, &e.to.id, e.hashes[1]));
        if let Some(l) = &e.location {
            names.push((l.kind, &l.id, e.hashes[2]));
        }
    }
    let ids = b.nodes_hashed(&names);
    let mut ids = ids.into_iter();
    let mut next = || ids.next().expect("one id per name");
    b.reserve(edges.len());
    for e in edges {
        let from = next();
        let to = next();
        let location = e.location.as_ref().map(|_| next());
        let event = b.event(e.event, e.time, location);
        b.add_edge_raw(e.kind, from, to, event, e.quantity, e.uom);
    }
}

impl<'a> IndexSink<'a, '_> {
    pub(crate) fn new(builder: &mut IndexBuilder) -> IndexSink<'a, '_> {
        IndexSink {
            builder,
            pending: Collector::default(),
        }
    }

    /// Adds what `collected` holds after what came before.
    /// `collected` is left empty (its room kept, to be filled again).
    pub(crate) fn absorb(&mut self, collected: &mut Collector<'a>) {
        self.add_pending_edges();
        for batch in collected.edges.chunks(1 << 12) {
            add_edges(self.builder, batch);
        }
        collected.edges.clear();
        self.pending
            .observations
            .append(&mut collected.observations);
        self.pending.removals.append(&mut collected.removals);
    }

    fn add_pending_edges(&mut self) {
        add_edges(self.builder, &self.pending.edges);
        self.pending.edges.clear();
    }

    /// Adds everything collected: the edges, then observations and removals.
    pub(crate) fn flush(mut self) {
        self.add_pending_edges();
        let b = self.builder;
        let pending = self.pending;
        let mut names: Vec<(IdKind, &str)> = Vec::new();
        names.extend(
            pending
                .observations
                .iter()
                .map(|o| (o.item.kind, &*o.item.id)),
        );
        for r in &pending.removals {
            if let Some(c) = &r.child {
                names.push((c.kind, &c.id));
            }
            names.push((r.parent.kind, &r.parent.id));
        }
        let ids = b.nodes(names.into_iter());
        let mut ids = ids.into_iter();
        let mut next = || ids.next().expect("one id per name");
        for o in &pending.observations {
            let item = next();
            b.observe(
                item,
                o.time,
                o.received,
                o.disposition,
                o.persistent_set.iter().copied(),
                o.persistent_unset.iter().copied(),
            );
        }
        for r in &pending.removals {
            let child = r.child.as_ref().map(|_| next());
            let parent = next();
            b.remove_raw(r.kind, child, parent, r.time);
        }
    }
}
