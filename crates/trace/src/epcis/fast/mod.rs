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
//!
//! This file holds the entry points and the threading; `raw` the borrowed records the text is
//! deserialised into, `skip` the values they read past (held to the full reader's bounds
//! without being decoded), `spans` the identifier normalisation and the lowering view of an
//! event, and `sink` the collecting and batched adding of what lowering produces.

mod raw;
mod sink;
mod skip;
mod spans;

use std::collections::BTreeSet;

use super::{EventView, lower_views_with};
use crate::error::ImportError;
use crate::id::Canonicaliser;
use std::sync::mpsc::Receiver;

use crate::index::{IndexBuilder, Room};
use raw::{RawDocument, RawEvent};
pub(crate) use sink::{Collector, IndexSink};
use spans::{Canon, Spans, view};

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
