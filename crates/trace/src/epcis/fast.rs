//! The JSON-LD import fast path: an `EPCISDocument` read straight into an [`IndexBuilder`],
//! without building the event model ([`EpcisEvent`](super::EpcisEvent)) or genealogy records.
//!
//! The text is deserialised into borrowed records (strings point into the text unless they
//! hold escapes), every identifier is normalised into one shared buffer, and the events are
//! lowered by the same code as [`super::lower`] into the builder. Nothing touches the builder
//! until the whole document has read. Two threads share the work (normalising the two halves
//! of the document, then lowering slices on one while the other adds them to the builder),
//! always in document order, so the index does not depend on how the work was shared.
//! [`import_json_many`] reads a sequence of documents: one thread parses and normalises the
//! next document while the one before is lowered and added, still in document order, each
//! document whole or not at all (a rejected one stops the sequence after the ones before it).
//!
//! The fast path is an optimisation, never a second judge of what is valid: it accepts only a
//! subset of what the full reader ([`super::json::parse`]) accepts, and anything it does not
//! accept (another document shape, an event without an eventID, a field it does not know, a
//! wrong type, an identifier that does not parse, …) goes to the full reader, which either
//! reads it or rejects it with the error naming the event and field. So [`import_json`] and
//! `parse` + `lower` + [`IndexBuilder::add`] give the same index, or the same error.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt;

use model::Timestamp;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use super::json::valid_offset;
use super::{Action, EventType, EventView, NodeRef, QuantityView, Sink, Vocab, lower_views_with};
use crate::error::ImportError;
use crate::graph::EdgeKind;
use crate::id::{Canonicaliser, IdKind};
use std::sync::mpsc::Receiver;

use crate::index::{IndexBuilder, Room};
use crate::limits::MAX_TEXT_BYTES;

/// Reads an EPCIS 2.0 JSON-LD document (any shape [`super::json::parse`] reads) into
/// `builder`, whole or not at all; returns the number of events read.
pub fn import_json(text: &str, builder: &mut IndexBuilder) -> Result<usize, ImportError> {
    if let Some(events) = try_fast(text, builder) {
        return Ok(events);
    }
    full_reader(text, builder)
}

/// How [`import_json_many`] failed: which document, and how much was imported before it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "document {document} of the batch: {error} ({events_imported} events of the documents before it stay imported)"
)]
pub struct BulkImportError {
    /// 0-based position of the rejected document in the batch.
    pub document: usize,
    /// Events of the documents before it, all imported.
    pub events_imported: usize,
    /// Why the document was rejected (nothing of it was imported).
    pub error: ImportError,
}

/// Reads several EPCIS 2.0 JSON-LD documents into `builder`, in order; returns the number of
/// events read. The index is the one [`import_json`] called on each document in turn builds;
/// the work is only shared differently: one thread parses and normalises document k + 1 while
/// document k is lowered and added to the builder.
///
/// Each document is imported whole or not at all, in order: when document k is rejected, the
/// documents before it stay imported, nothing of document k or of any document after it is,
/// and the error names k (and the events imported before it).
///
/// A large batch (several megabytes) gets the builder's memory made ready on a third thread
/// ([`Room`]): the name table, sized once for the batch from the length of its text (about one
/// new name per 112 bytes) rather than doubling as names come (every name moved each time),
/// and the edge columns (about one edge per 56 bytes). Room that nothing fills costs memory,
/// not time on the thread that adds to the builder.
pub fn import_json_many(
    texts: &[&str],
    builder: &mut IndexBuilder,
) -> Result<usize, BulkImportError> {
    let bytes: usize = texts.iter().map(|t| t.len()).sum();
    let mut events_imported = 0;
    with_room(builder, bytes, |scope, builder, rooms| {
        // A bounded queue: at most one prepared document waits while one is being added.
        let (send, receive) = std::sync::mpsc::sync_channel::<Option<Prepared<'_>>>(1);
        // Documents done with go back to the reader to be freed where they were allocated
        // (freeing another thread's many small allocations costs the allocator more).
        let (done, finished) = std::sync::mpsc::channel::<Prepared<'_>>();
        let reader = std::thread::Builder::new()
            .name("epcis-read".into())
            .spawn_scoped(scope, move || {
                for text in texts {
                    finished.try_iter().for_each(drop);
                    if send.send(prepare(text, false)).is_err() {
                        return;
                    }
                }
            })
            .expect("a thread to read documents (as `scope.spawn` would)");
        for (document, prepared) in receive.into_iter().enumerate() {
            rooms.try_iter().for_each(|room| builder.take_room(room));
            let read = match prepared {
                Some(prepared) => {
                    let events = absorb(&prepared, builder, rooms);
                    // The reader may have finished: then this thread frees it.
                    let _ = done.send(prepared);
                    Ok(events)
                }
                None => full_reader(texts[document], builder),
            };
            match read {
                Ok(events) => events_imported += events,
                // Dropping the queue stops the reader at its next document.
                Err(error) => {
                    return Err(BulkImportError {
                        document,
                        events_imported,
                        error,
                    });
                }
            }
        }
        if let Err(panic) = reader.join() {
            std::panic::resume_unwind(panic);
        }
        Ok(events_imported)
    })
}

/// The size of a batch from which [`with_room`] makes room on another thread.
const ROOM_FROM_BYTES: usize = 8 << 20;

/// Runs `work` (given a thread scope) while memory for about `bytes` more of EPCIS text is
/// made ready on another thread ([`Room`], for batches of [`ROOM_FROM_BYTES`] or more);
/// `work` takes what is ready ([`IndexBuilder::take_room`]) whenever it suits it. The
/// estimates: about one new name per 112 bytes of text and one edge per 56. Room that nothing
/// fills costs memory, not time on the thread that adds to the builder.
pub(crate) fn with_room<'env, T>(
    builder: &mut IndexBuilder,
    bytes: usize,
    work: impl for<'scope> FnOnce(
        &'scope std::thread::Scope<'scope, 'env>,
        &mut IndexBuilder,
        &Receiver<Room>,
    ) -> T,
) -> T {
    let nodes = builder.node_count() + bytes / 112;
    let edges = builder.edge_count() + bytes / 56;
    std::thread::scope(|scope| {
        let (room_send, rooms) = std::sync::mpsc::channel::<Room>();
        if bytes >= ROOM_FROM_BYTES {
            std::thread::Builder::new()
                .name("epcis-room".into())
                .spawn_scoped(scope, move || {
                    // The name table first: names are probed all over it from the start.
                    if room_send.send(Room::nodes(nodes, nodes * 36)).is_ok() {
                        let _ = room_send.send(Room::edges(edges));
                    }
                })
                .expect("a thread to make room (as `scope.spawn` would)");
        }
        work(scope, builder, &rooms)
    })
}

/// Lowers events into `sink` on two threads, in order: `slices` runs on another thread and
/// hands each slice of views to its callback (which answers `false` once this side has
/// stopped); this thread adds each slice's records to the builder as they come, taking any
/// room that is ready between slices. The index is the one a single thread would build.
pub(crate) fn lower_in_order<'a>(
    sink: &mut IndexSink<'a, '_>,
    retracted: &BTreeSet<&str>,
    rooms: &Receiver<Room>,
    slices: impl FnOnce(&mut dyn FnMut(&[EventView<'a>]) -> bool) + Send,
) {
    std::thread::scope(|scope| {
        let (send, receive) = std::sync::mpsc::sync_channel::<Collector<'a>>(4);
        // Emptied collectors go back to be filled again: no allocation is freed by a thread
        // other than the one that made it, and most slices allocate nothing.
        let (emptied, reuse) = std::sync::mpsc::channel::<Collector<'a>>();
        let worker = std::thread::Builder::new()
            .name("epcis-lower".into())
            .spawn_scoped(scope, move || {
                slices(&mut |views| {
                    let mut collected = reuse.try_recv().unwrap_or_default();
                    lower_views_with(views, retracted, &mut collected);
                    send.send(collected).is_ok()
                });
            })
            .expect("a thread to lower events (as `scope.spawn` would)");
        for mut collected in receive {
            rooms
                .try_iter()
                .for_each(|room| sink.builder.take_room(room));
            sink.absorb(&mut collected);
            // The worker may have finished: then this thread frees it.
            let _ = emptied.send(collected);
        }
        if let Err(panic) = worker.join() {
            std::panic::resume_unwind(panic);
        }
    });
}

/// The full reader's import of one document.
fn full_reader(text: &str, builder: &mut IndexBuilder) -> Result<usize, ImportError> {
    let doc = super::json::parse(text)?;
    builder.add_epcis(&doc.events);
    Ok(doc.events.len())
}

/// A document read and checked by the fast path, identifiers normalised, not yet lowered.
struct Prepared<'t> {
    events: Vec<RawEvent<'t>>,
    /// The identifiers of `events[..mid]` and of `events[mid..]`.
    first_ids: Normalised,
    second_ids: Normalised,
    mid: usize,
}

/// Parses and checks `text`, normalising its identifiers (in two halves at once when `split`);
/// `None` when the fast path does not apply.
fn prepare(text: &str, split: bool) -> Option<Prepared<'_>> {
    let doc: RawDocument<'_> = serde_json::from_str(text).ok()?;
    if doc.kind.as_deref() != Some("EPCISDocument") {
        return None;
    }
    let events = doc.events?;
    let mid = if split && events.len() >= 256 {
        events.len() / 2
    } else {
        events.len()
    };
    let (first, second) = events.split_at(mid);
    let (first_ids, second_ids) = std::thread::scope(|scope| {
        let worker = (!second.is_empty()).then(|| scope.spawn(|| Normalised::of(second)));
        let first = Normalised::of(first);
        let second = match worker {
            Some(w) => w.join().ok()?,
            None => Some(Normalised::default()),
        };
        Some((first?, second?))
    })?;
    Some(Prepared {
        events,
        first_ids,
        second_ids,
        mid,
    })
}

/// The fast path; `None` (with `builder` untouched) when it does not apply.
fn try_fast(text: &str, builder: &mut IndexBuilder) -> Option<usize> {
    // Two threads, in document order: identifiers are normalised (and the whole document
    // checked) in two halves at once before anything reaches the builder; then one thread
    // lowers slices of events while the other adds them to the builder, slice after slice.
    // The index is the one a single thread would build.
    let (_, no_room) = std::sync::mpsc::channel();
    Some(absorb(&prepare(text, true)?, builder, &no_room))
}

/// Lowers a prepared document into `builder`; returns its number of events. Nothing fails.
fn absorb(prepared: &Prepared<'_>, builder: &mut IndexBuilder, rooms: &Receiver<Room>) -> usize {
    let events = &prepared.events;
    let retracted: BTreeSet<&str> = events
        .iter()
        .filter(|e| e.error.is_some())
        .filter_map(|e| e.id.as_deref())
        .collect();
    let (first, second) = events.split_at(prepared.mid);
    let halves = [(&prepared.first_ids, first), (&prepared.second_ids, second)];
    let mut sink = IndexSink::new(builder);
    lower_in_order(&mut sink, &retracted, rooms, |lower| {
        for (ids, events) in halves {
            // Views a slice at a time, so that the first slice reaches the builder without
            // waiting for the views of the whole document.
            for (events, spans) in events.chunks(512).zip(ids.spans.chunks(512)) {
                let views: Vec<EventView<'_>> = events
                    .iter()
                    .zip(spans)
                    .map(|(e, s)| view(e, s, &ids.canon))
                    .collect();
                if !lower(&views) {
                    return;
                }
            }
        }
    });
    sink.flush();
    events.len()
}

/// The normalised identifiers of some events: one buffer, and where each event's are in it.
#[derive(Default)]
struct Normalised {
    canon: String,
    spans: Vec<Spans>,
}

impl Normalised {
    fn of(events: &[RawEvent<'_>]) -> Option<Normalised> {
        let mut canon = Canon {
            text: String::with_capacity(events.len() * 64),
            ids: Canonicaliser::default(),
        };
        let spans = events
            .iter()
            .map(|e| Spans::of(e, &mut canon))
            .collect::<Option<Vec<_>>>()?;
        Some(Normalised {
            canon: canon.text,
            spans,
        })
    }
}

/// A string of the text: borrowed, or owned when it held escapes; at most
/// [`MAX_TEXT_BYTES`] (a longer one goes to the full reader, which refuses it by name).
struct Str<'a>(Cow<'a, str>);

fn bounded<E: de::Error>(v: &str) -> Result<(), E> {
    if v.len() > MAX_TEXT_BYTES {
        return Err(E::custom("a string longer than the text length limit"));
    }
    Ok(())
}

impl<'de> Deserialize<'de> for Str<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                bounded(v)?;
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                bounded(v)?;
                Ok(Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                bounded(&v)?;
                Ok(Str(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// Any JSON value, not kept. Unlike `IgnoredAny` (which serde_json skips without a depth
/// limit) it is read like the full reader reads it: nested at most [`MAX_JSON_DEPTH`] deep
/// and with no string or member name longer than [`MAX_TEXT_BYTES`], so the fast path
/// accepts nothing the full reader refuses.
///
/// [`MAX_JSON_DEPTH`]: crate::limits::MAX_JSON_DEPTH
struct Skip;

impl<'de> Deserialize<'de> for Skip {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Skip;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Skip, E> {
                Ok(Skip)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Skip, E> {
                Ok(Skip)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Skip, E> {
                Ok(Skip)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Skip, E> {
                Ok(Skip)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Skip, E> {
                bounded(v).map(|()| Skip)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Skip, E> {
                Ok(Skip)
            }
            fn visit_none<E: de::Error>(self) -> Result<Skip, E> {
                Ok(Skip)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Skip, D::Error> {
                Skip::deserialize(d)
            }
            fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Skip, S::Error> {
                while seq.next_element::<Skip>()?.is_some() {}
                Ok(Skip)
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Skip, M::Error> {
                while map.next_entry::<Str<'de>, Skip>()?.is_some() {}
                Ok(Skip)
            }
        }
        d.deserialize_any(V)
    }
}

/// A value that must be a JSON array; its elements are not read.
struct AnyArray;

impl<'de> Deserialize<'de> for AnyArray {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = AnyArray;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array")
            }
            fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<AnyArray, S::Error> {
                while seq.next_element::<Skip>()?.is_some() {}
                Ok(AnyArray)
            }
        }
        d.deserialize_seq(V)
    }
}

/// A value that must be a JSON object; its members are not read.
struct AnyObject;

impl<'de> Deserialize<'de> for AnyObject {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = AnyObject;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<AnyObject, M::Error> {
                while map.next_entry::<Str<'de>, Skip>()?.is_some() {}
                Ok(AnyObject)
            }
        }
        d.deserialize_map(V)
    }
}

#[derive(Default)]
struct RawDocument<'a> {
    kind: Option<Cow<'a, str>>,
    events: Option<Vec<RawEvent<'a>>>,
}

json_object!(RawDocument, "an EPCIS document", Str, |map, key, out| {
    match key.as_ref() {
        "type" => out.kind = Some(map.next_value::<Str<'_>>()?.0),
        "epcisBody" => out.events = map.next_value::<RawBody<'_>>()?.events,
        _ => {
            map.next_value::<Skip>()?;
        }
    }
});

#[derive(Default)]
struct RawBody<'a> {
    events: Option<Vec<RawEvent<'a>>>,
}

json_object!(RawBody, "an EPCIS body", Str, |map, key, out| {
    match key.as_ref() {
        "eventList" => out.events = Some(map.next_value()?),
        _ => {
            map.next_value::<Skip>()?;
        }
    }
});

#[derive(Default)]
struct RawQuantity<'a> {
    class: Option<Cow<'a, str>>,
    quantity: Option<f64>,
    uom: Option<Cow<'a, str>>,
}

json_object!(RawQuantity, "a quantity element", Str, |map, key, out| {
    match key.as_ref() {
        "epcClass" => out.class = Some(map.next_value::<Str<'_>>()?.0),
        "quantity" => out.quantity = map.next_value::<Option<f64>>()?,
        "uom" => out.uom = map.next_value::<Option<Str<'_>>>()?.map(|s| s.0),
        _ => {
            map.next_value::<Skip>()?;
        }
    }
});

/// `readPoint`, `bizLocation`.
#[derive(Default)]
struct RawLocation<'a> {
    id: Option<Cow<'a, str>>,
}

json_object!(RawLocation, "a location", Str, |map, key, out| {
    match key.as_ref() {
        "id" => out.id = Some(map.next_value::<Str<'_>>()?.0),
        _ => {
            map.next_value::<Skip>()?;
        }
    }
});

#[derive(Default)]
struct RawTransaction<'a> {
    kind: Option<Cow<'a, str>>,
    id: Option<Cow<'a, str>>,
}

json_object!(
    RawTransaction,
    "a business transaction",
    Str,
    |map, key, out| {
        match key.as_ref() {
            "type" => out.kind = Some(map.next_value::<Str<'_>>()?.0),
            "bizTransaction" => out.id = Some(map.next_value::<Str<'_>>()?.0),
            _ => {
                map.next_value::<Skip>()?;
            }
        }
    }
);

/// A source or destination; which of the two keys counts depends on the list.
#[derive(Default)]
struct RawParty<'a> {
    kind: Option<Cow<'a, str>>,
    source: Option<Cow<'a, str>>,
    destination: Option<Cow<'a, str>>,
}

json_object!(RawParty, "a source or destination", Str, |map, key, out| {
    match key.as_ref() {
        "type" => out.kind = Some(map.next_value::<Str<'_>>()?.0),
        "source" => out.source = Some(map.next_value::<Str<'_>>()?.0),
        "destination" => out.destination = Some(map.next_value::<Str<'_>>()?.0),
        _ => {
            map.next_value::<Skip>()?;
        }
    }
});

#[derive(Default)]
struct RawPersistent<'a> {
    set: Vec<Cow<'a, str>>,
    unset: Vec<Cow<'a, str>>,
}

json_object!(
    RawPersistent,
    "a persistent disposition",
    Str,
    |map, key, out| {
        match key.as_ref() {
            "set" => out.set = strings(map.next_value()?),
            "unset" => out.unset = strings(map.next_value()?),
            _ => {
                map.next_value::<Skip>()?;
            }
        }
    }
);

#[derive(Default)]
struct RawErrorDeclaration<'a> {
    time: Option<Cow<'a, str>>,
}

json_object!(
    RawErrorDeclaration,
    "an error declaration",
    Str,
    |map, key, out| {
        match key.as_ref() {
            "declarationTime" => out.time = Some(map.next_value::<Str<'_>>()?.0),
            "reason" => {
                map.next_value::<Str<'_>>()?;
            }
            "correctiveEventIDs" => {
                map.next_value::<Vec<Str<'_>>>()?;
            }
            _ => {
                map.next_value::<Skip>()?;
            }
        }
    }
);

fn strings(list: Vec<Str<'_>>) -> Vec<Cow<'_, str>> {
    list.into_iter().map(|s| s.0).collect()
}

/// One event as written, identifiers not yet normalised.
#[derive(Default)]
struct RawEvent<'a> {
    kind: Option<Cow<'a, str>>,
    id: Option<Cow<'a, str>>,
    time: Option<Cow<'a, str>>,
    offset: Option<Cow<'a, str>>,
    record_time: Option<Cow<'a, str>>,
    action: Option<Cow<'a, str>>,
    parent: Option<Cow<'a, str>>,
    epcs: Vec<Cow<'a, str>>,
    children: Vec<Cow<'a, str>>,
    inputs: Vec<Cow<'a, str>>,
    outputs: Vec<Cow<'a, str>>,
    quantities: Vec<RawQuantity<'a>>,
    child_quantities: Vec<RawQuantity<'a>>,
    input_quantities: Vec<RawQuantity<'a>>,
    output_quantities: Vec<RawQuantity<'a>>,
    transformation_id: Option<Cow<'a, str>>,
    biz_step: Option<Cow<'a, str>>,
    disposition: Option<Cow<'a, str>>,
    persistent: Option<RawPersistent<'a>>,
    read_point: Option<RawLocation<'a>>,
    biz_location: Option<RawLocation<'a>>,
    transactions: Vec<RawTransaction<'a>>,
    sources: Vec<RawParty<'a>>,
    destinations: Vec<RawParty<'a>>,
    error: Option<RawErrorDeclaration<'a>>,
    /// A field the fast path does not know (and that needs no prefix): the full reader decides.
    unknown: bool,
}

json_object!(RawEvent, "an event", Str, |map, key, out| {
    match key.as_ref() {
        "type" => out.kind = Some(map.next_value::<Str<'_>>()?.0),
        "eventID" => out.id = Some(map.next_value::<Str<'_>>()?.0),
        "eventTime" => out.time = Some(map.next_value::<Str<'_>>()?.0),
        "eventTimeZoneOffset" => out.offset = Some(map.next_value::<Str<'_>>()?.0),
        "recordTime" => out.record_time = Some(map.next_value::<Str<'_>>()?.0),
        "certificationInfo" => {
            map.next_value::<Str<'_>>()?;
        }
        "errorDeclaration" => out.error = Some(map.next_value()?),
        "action" => out.action = Some(map.next_value::<Str<'_>>()?.0),
        "parentID" => out.parent = Some(map.next_value::<Str<'_>>()?.0),
        "epcList" => out.epcs = strings(map.next_value()?),
        "childEPCs" => out.children = strings(map.next_value()?),
        "inputEPCList" => out.inputs = strings(map.next_value()?),
        "outputEPCList" => out.outputs = strings(map.next_value()?),
        "quantityList" => out.quantities = map.next_value()?,
        "childQuantityList" => out.child_quantities = map.next_value()?,
        "inputQuantityList" => out.input_quantities = map.next_value()?,
        "outputQuantityList" => out.output_quantities = map.next_value()?,
        "transformationID" => out.transformation_id = Some(map.next_value::<Str<'_>>()?.0),
        "bizStep" => out.biz_step = Some(map.next_value::<Str<'_>>()?.0),
        "disposition" => out.disposition = Some(map.next_value::<Str<'_>>()?.0),
        "persistentDisposition" => out.persistent = Some(map.next_value()?),
        "readPoint" => out.read_point = Some(map.next_value()?),
        "bizLocation" => out.biz_location = Some(map.next_value()?),
        "bizTransactionList" => out.transactions = map.next_value()?,
        "sourceList" => out.sources = map.next_value()?,
        "destinationList" => out.destinations = map.next_value()?,
        "sensorElementList" => {
            map.next_value::<AnyArray>()?;
        }
        "ilmd" => {
            map.next_value::<AnyObject>()?;
        }
        "@context" => {
            map.next_value::<Skip>()?;
        }
        other => {
            if !other.contains(':') {
                out.unknown = true;
            }
            map.next_value::<Skip>()?;
        }
    }
});

/// A normalised identifier: a range of the shared buffer.
type Span = (u32, u32);

/// Where an event's normalised identifiers are in the shared buffer.
struct Spans {
    /// What was read and checked of the event itself.
    event_type: EventType,
    time: Timestamp,
    action: Option<Action>,
    parent: Option<Span>,
    epcs: Vec<Span>,
    children: Vec<Span>,
    inputs: Vec<Span>,
    outputs: Vec<Span>,
    quantities: [Vec<Span>; 4],
    location: Option<Span>,
    transactions: Vec<Span>,
    destinations: Vec<Span>,
}

/// The shared buffer of normalised ids.
struct Canon {
    text: String,
    ids: Canonicaliser,
}

fn canonical(text: &str, canon: &mut Canon) -> Option<Span> {
    let start = canon.text.len();
    canon.ids.parse_into(text, &mut canon.text).ok()?;
    let canon = &canon.text;
    Some((u32::try_from(start).ok()?, u32::try_from(canon.len()).ok()?))
}

fn canonical_all(list: &[Cow<'_, str>], canon: &mut Canon) -> Option<Vec<Span>> {
    list.iter().map(|t| canonical(t, canon)).collect()
}

impl Spans {
    /// Checks what the full reader checks and normalises every identifier into `canon`;
    /// `None` when the full reader must decide.
    fn of(e: &RawEvent<'_>, canon: &mut Canon) -> Option<Spans> {
        if e.unknown || e.id.as_deref().is_none_or(str::is_empty) {
            return None;
        }
        let kind = EventType::from_name(e.kind.as_deref()?)?;
        let time = Timestamp::parse(e.time.as_deref()?).ok()?;
        if let Some(offset) = &e.offset
            && !valid_offset(offset)
        {
            return None;
        }
        if let Some(t) = &e.record_time {
            Timestamp::parse(t).ok()?;
        }
        if let Some(err) = &e.error {
            Timestamp::parse(err.time.as_deref()?).ok()?;
        }
        let action = match &e.action {
            Some(a) => Some(Action::from_name(a)?),
            None if kind != EventType::TransformationEvent => return None,
            None => None,
        };
        for p in &e.sources {
            p.kind.as_ref()?;
            canonical(p.source.as_deref()?, canon)?;
        }
        let quantities = [
            &e.quantities,
            &e.child_quantities,
            &e.input_quantities,
            &e.output_quantities,
        ];
        let mut q_spans: [Vec<Span>; 4] = Default::default();
        for (list, spans) in quantities.into_iter().zip(&mut q_spans) {
            for q in list {
                if q.quantity.is_some_and(|q| !q.is_finite()) {
                    return None;
                }
                spans.push(canonical(q.class.as_deref()?, canon)?);
            }
        }
        // Both locations are checked; lowering uses the business location, else the read point.
        let read_point = match &e.read_point {
            Some(l) => Some(canonical(l.id.as_deref()?, canon)?),
            None => None,
        };
        let biz_location = match &e.biz_location {
            Some(l) => Some(canonical(l.id.as_deref()?, canon)?),
            None => None,
        };
        Some(Spans {
            event_type: kind,
            time,
            action,
            parent: match &e.parent {
                Some(p) => Some(canonical(p, canon)?),
                None => None,
            },
            epcs: canonical_all(&e.epcs, canon)?,
            children: canonical_all(&e.children, canon)?,
            inputs: canonical_all(&e.inputs, canon)?,
            outputs: canonical_all(&e.outputs, canon)?,
            quantities: q_spans,
            location: biz_location.or(read_point),
            transactions: e
                .transactions
                .iter()
                .map(|t| canonical(t.id.as_deref()?, canon))
                .collect::<Option<_>>()?,
            destinations: e
                .destinations
                .iter()
                .map(|p| {
                    p.kind.as_ref()?;
                    canonical(p.destination.as_deref()?, canon)
                })
                .collect::<Option<_>>()?,
        })
    }
}

/// The lowering view of a checked event.
fn view<'r>(e: &'r RawEvent<'_>, s: &Spans, canon: &'r str) -> EventView<'r> {
    let at = |&(a, b): &Span| &canon[a as usize..b as usize];
    let all = |spans: &[Span]| spans.iter().map(at).collect::<Vec<_>>();
    let quantities = |list: &'r [RawQuantity<'_>], spans: &[Span]| {
        list.iter()
            .zip(spans)
            .map(|(q, sp)| QuantityView {
                class: at(sp),
                quantity: q.quantity,
                uom: q.uom.as_deref(),
            })
            .collect::<Vec<_>>()
    };
    let dispositions = |list: &'r [Cow<'_, str>]| {
        list.iter()
            .map(|d| Vocab::Disposition.shorten_str(d))
            .collect::<Vec<_>>()
    };
    EventView {
        event_type: Some(s.event_type),
        event_id: e.id.as_deref().unwrap_or_default(),
        time: s.time,
        action: s.action,
        declares_error: e.error.is_some(),
        parent: s.parent.as_ref().map(at),
        epcs: all(&s.epcs),
        children: all(&s.children),
        inputs: all(&s.inputs),
        outputs: all(&s.outputs),
        quantities: quantities(&e.quantities, &s.quantities[0]),
        child_quantities: quantities(&e.child_quantities, &s.quantities[1]),
        input_quantities: quantities(&e.input_quantities, &s.quantities[2]),
        output_quantities: quantities(&e.output_quantities, &s.quantities[3]),
        transformation_id: e.transformation_id.as_deref(),
        biz_step: e.biz_step.as_deref().map(|t| Vocab::BizStep.shorten_str(t)),
        disposition: e
            .disposition
            .as_deref()
            .map(|t| Vocab::Disposition.shorten_str(t)),
        persistent_set: e
            .persistent
            .as_ref()
            .map_or_else(Vec::new, |p| dispositions(&p.set)),
        persistent_unset: e
            .persistent
            .as_ref()
            .map_or_else(Vec::new, |p| dispositions(&p.unset)),
        location: s.location.as_ref().map(at),
        biz_transactions: all(&s.transactions),
        destinations: e
            .destinations
            .iter()
            .zip(&s.destinations)
            .map(|(p, sp)| {
                let kind = p.kind.as_deref().unwrap_or_default();
                (Vocab::SourceDestType.shorten_str(kind), at(sp))
            })
            .collect(),
    }
}

struct PendingEdge<'a> {
    kind: EdgeKind,
    /// The names' hashes (from, to, location), computed where the edge is lowered.
    hashes: [u64; 3],
    from: NodeRef<'a>,
    to: NodeRef<'a>,
    location: Option<NodeRef<'a>>,
    time: Timestamp,
    quantity: Option<f64>,
    uom: Option<&'a str>,
    event: &'a str,
}

struct PendingObservation<'a> {
    item: NodeRef<'a>,
    time: Timestamp,
    received: Option<f64>,
    disposition: Option<&'a str>,
    persistent_set: Vec<&'a str>,
    persistent_unset: Vec<&'a str>,
}

struct PendingRemoval<'a> {
    kind: EdgeKind,
    child: Option<NodeRef<'a>>,
    parent: NodeRef<'a>,
    time: Timestamp,
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
    builder: &'b mut IndexBuilder,
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
