//! The pure half of persistence: a read document as plain rows for the store, and the
//! stored rows (plus the plant's material events) assembled back into an [`Index`].
//!
//! The store keeps EPCIS events as JSON bodies keyed by eventID (`<eventID>#error` for an
//! error declaration, which shares its eventID with the event it retracts) and B2MML
//! genealogy as JSON; it knows nothing of their meaning. Callers (the CLI and the server) do
//! the I/O around these two functions.

use model::{Catalog, Event};
use sha2::{Digest, Sha256};

use crate::epcis::EpcisEvent;
use crate::epcis::fast::with_room;
use crate::graph::Genealogy;
use crate::import::Imported;
use crate::index::{Index, IndexBuilder};

/// One EPCIS event as a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub key: String,
    pub event_id: String,
    pub event_type: String,
    pub event_time: i64,
    pub body: String,
}

/// A document ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    pub format: &'static str,
    /// SHA-256 (hex) of the normalised content.
    pub sha256: String,
    pub rows: Vec<Row>,
    pub genealogy: Option<String>,
}

/// The row of one event.
pub fn row(event: &EpcisEvent) -> Row {
    let body = serde_json::to_string(event).expect("events serialise");
    let key = if event.error_declaration.is_some() {
        format!("{}#error", event.event_id)
    } else {
        event.event_id.clone()
    };
    Row {
        key,
        event_id: event.event_id.clone(),
        event_type: event.event_type.as_str().to_owned(),
        event_time: event.event_time.0,
        body,
    }
}

fn sha256_hex(parts: impl IntoIterator<Item = impl AsRef<[u8]>>) -> String {
    let mut hasher = Sha256::new();
    for p in parts {
        hasher.update(p.as_ref());
        hasher.update(b"\n");
    }
    model::wire::hex(&hasher.finalize())
}

/// Rows for an EPCIS document or a B2MML import; `None` for model events and queries, which
/// are not stored as trace documents. EPCIS documents are identified by their normalised
/// events (the same events in JSON-LD and XML are one document); B2MML documents by their
/// text, `source`.
pub fn prepare(imported: &Imported, source: &str) -> Option<Prepared> {
    match imported {
        Imported::Epcis(doc) => {
            let rows: Vec<Row> = doc.events.iter().map(row).collect();
            Some(Prepared {
                format: "epcis",
                sha256: sha256_hex(rows.iter().map(|r| r.body.as_bytes())),
                rows,
                genealogy: None,
            })
        }
        Imported::B2mml(doc) => {
            let body = serde_json::to_string(&doc.genealogy).expect("genealogy serialises");
            Some(Prepared {
                format: "b2mml",
                sha256: sha256_hex([source.as_bytes()]),
                rows: Vec::new(),
                genealogy: Some(body),
            })
        }
        Imported::Events(_) | Imported::Query(_) => None,
    }
}

/// Decodes stored EPCIS bodies, on two threads for many (each half in order).
pub fn decode_events<'a>(
    bodies: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<EpcisEvent>, String> {
    let bodies: Vec<&str> = bodies.into_iter().collect();
    let decode = |offset: usize, part: &[&str]| -> Result<Vec<EpcisEvent>, String> {
        part.iter()
            .enumerate()
            .map(|(i, b)| {
                serde_json::from_str(b)
                    .map_err(|e| format!("stored EPCIS event {} does not decode: {e}", offset + i))
            })
            .collect()
    };
    if bodies.len() < PARALLEL_FROM {
        return decode(0, &bodies);
    }
    let mid = bodies.len() / 2;
    let (first, second) = bodies.split_at(mid);
    let (first, second) = std::thread::scope(|scope| {
        let worker = scope.spawn(|| decode(mid, second));
        let first = decode(0, first);
        let second = match worker.join() {
            Ok(second) => second,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        (first, second)
    });
    // The first error in storage order, as one thread would report it.
    let mut events = first?;
    events.extend(second?);
    Ok(events)
}

/// From this many stored events, decoding and lowering are shared by two threads.
const PARALLEL_FROM: usize = 2_048;

/// The genealogy index over the plant's material events, stored EPCIS events and stored
/// genealogy bodies.
pub fn assemble<'a>(
    material_events: &[Event],
    catalog: Option<&Catalog>,
    epcis_events: &[EpcisEvent],
    genealogy_bodies: impl IntoIterator<Item = &'a str>,
) -> Result<Index, String> {
    let mut builder = IndexBuilder::new();
    builder.add(&crate::material::lower(material_events, catalog));
    builder.add_epcis(epcis_events);
    add_genealogy(&mut builder, genealogy_bodies)?;
    Ok(builder.finish())
}

fn add_genealogy<'a>(
    builder: &mut IndexBuilder,
    bodies: impl IntoIterator<Item = &'a str>,
) -> Result<(), String> {
    for (i, body) in bodies.into_iter().enumerate() {
        let g: Genealogy = serde_json::from_str(body)
            .map_err(|e| format!("stored genealogy {i} does not decode: {e}"))?;
        builder.add(&g);
    }
    Ok(())
}

/// [`assemble`] from the stored EPCIS bodies themselves: the same index (or the same error)
/// as [`decode_events`] and then [`assemble`], without building the events.
///
/// Each body is read straight into what lowering needs of it (its identifiers borrowed from
/// the body), the fields lowering does not need checked as [`EpcisEvent`] would check them;
/// two threads read the two halves, then one lowers slices of events while the other adds
/// them to the index, in storage order, so the index does not depend on how the work was
/// shared. A body this reader does not take (a string with escapes where it borrows, a shape
/// serde's derived reader would also take, …) sends the whole load to [`decode_events`] and
/// [`assemble`], which read it or name the event that does not decode.
pub fn assemble_stored<'a>(
    material_events: &[Event],
    catalog: Option<&Catalog>,
    epcis_bodies: &[&str],
    genealogy_bodies: impl IntoIterator<Item = &'a str>,
) -> Result<Index, String> {
    let Some(views) = stored::views(epcis_bodies) else {
        let events = decode_events(epcis_bodies.iter().copied())?;
        return assemble(material_events, catalog, &events, genealogy_bodies);
    };
    let mut builder = IndexBuilder::new();
    builder.add(&crate::material::lower(material_events, catalog));
    let bytes = epcis_bodies.iter().map(|b| b.len()).sum();
    with_room(&mut builder, bytes, |_, builder, rooms| {
        stored::lower_into(&views, builder, rooms);
    });
    drop(views);
    add_genealogy(&mut builder, genealogy_bodies)?;
    Ok(builder.finish())
}

/// The reader of stored bodies for lowering only (see [`assemble_stored`]).
mod stored {
    use std::collections::BTreeMap;
    use std::fmt;

    use model::Timestamp;
    use serde::de::{self, Deserialize, Deserializer, IgnoredAny, Visitor};

    use super::PARALLEL_FROM;
    use std::sync::mpsc::Receiver;

    use crate::epcis::fast::{Collector, IndexSink, lower_in_order};
    use crate::epcis::json_object;
    use crate::epcis::{
        Action, ErrorDeclaration, EventType, EventView, Party, QuantityView, lower_views_with,
        retracted_views,
    };
    use crate::index::{IndexBuilder, Room};

    /// The views of `bodies`, in order; `None` when any body is not one this reader takes.
    pub(super) fn views<'a>(bodies: &[&'a str]) -> Option<Vec<EventView<'a>>> {
        let decode = |part: &[&'a str]| -> Option<Vec<EventView<'a>>> {
            part.iter()
                .map(|b| serde_json::from_str::<Stored<'a>>(b).ok().map(|s| s.view))
                .collect()
        };
        if bodies.len() < PARALLEL_FROM {
            return decode(bodies);
        }
        let (first, second) = bodies.split_at(bodies.len() / 2);
        std::thread::scope(|scope| {
            let worker = scope.spawn(|| decode(second));
            let first = decode(first);
            let second = match worker.join() {
                Ok(second) => second,
                Err(panic) => std::panic::resume_unwind(panic),
            };
            let mut views = first?;
            views.extend(second?);
            Some(views)
        })
    }

    /// Lowers `views` into `builder` as [`IndexBuilder::add_epcis`] on their events would:
    /// one thread lowers slices while this one adds them, in order.
    pub(super) fn lower_into<'a>(
        views: &[EventView<'a>],
        builder: &mut IndexBuilder,
        rooms: &Receiver<Room>,
    ) {
        let retracted = retracted_views(views);
        let mut sink = IndexSink::new(builder);
        if views.len() < PARALLEL_FROM {
            let mut collected = Collector::default();
            lower_views_with(views, &retracted, &mut collected);
            sink.absorb(&mut collected);
        } else {
            lower_in_order(&mut sink, &retracted, rooms, |lower| {
                for slice in views.chunks(512) {
                    if !lower(slice) {
                        return;
                    }
                }
            });
        }
        sink.flush();
    }

    /// A string borrowed from the body (one without escapes; a field name with escapes, which
    /// serde's derive would still match, also sends the load to the full reader).
    struct Borrowed<'a>(&'a str);

    impl<'de> Deserialize<'de> for Borrowed<'de> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Borrowed<'de>;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a string without escapes")
                }
                fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                    Ok(Borrowed(v))
                }
            }
            d.deserialize_str(V)
        }
    }

    /// A string, escaped or not, that is only checked to be one.
    struct AnyStr;

    impl<'de> Deserialize<'de> for AnyStr {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = AnyStr;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a string")
                }
                fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                    Ok(AnyStr)
                }
            }
            d.deserialize_str(V)
        }
    }

    fn strs(list: Vec<Borrowed<'_>>) -> Vec<&str> {
        list.into_iter().map(|b| b.0).collect()
    }

    /// Fails on a field seen twice (as serde's derive does).
    fn once<E: de::Error>(seen: &mut u64, bit: u32, name: &'static str) -> Result<(), E> {
        if *seen & (1 << bit) != 0 {
            return Err(E::duplicate_field(name));
        }
        *seen |= 1 << bit;
        Ok(())
    }

    #[derive(Default)]
    struct Quantity<'a> {
        class: &'a str,
        quantity: Option<f64>,
        uom: Option<&'a str>,
    }

    json_object!(
        Quantity,
        "a quantity element",
        Borrowed,
        |map, key, seen, out| {
            match key {
                "epc_class" => {
                    once(&mut seen, 0, "epc_class")?;
                    out.class = map.next_value::<Borrowed<'_>>()?.0;
                }
                "quantity" => {
                    once(&mut seen, 1, "quantity")?;
                    out.quantity = map.next_value::<Option<f64>>()?;
                }
                "uom" => {
                    once(&mut seen, 2, "uom")?;
                    out.uom = map.next_value::<Option<Borrowed<'_>>>()?.map(|b| b.0);
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        },
        |q| {
            if seen & 1 == 0 {
                return Err(de::Error::missing_field("epc_class"));
            }
            Ok(q)
        }
    );

    fn quantities(list: Vec<Quantity<'_>>) -> Vec<QuantityView<'_>> {
        list.into_iter()
            .map(|q| QuantityView {
                class: q.class,
                quantity: q.quantity,
                uom: q.uom,
            })
            .collect()
    }

    #[derive(Default)]
    struct Persistent<'a> {
        set: Vec<&'a str>,
        unset: Vec<&'a str>,
    }

    json_object!(
        Persistent,
        "persistent dispositions",
        Borrowed,
        |map, key, seen, out| {
            match key {
                "set" => {
                    once(&mut seen, 0, "set")?;
                    out.set = strs(map.next_value()?);
                }
                "unset" => {
                    once(&mut seen, 1, "unset")?;
                    out.unset = strs(map.next_value()?);
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        },
        |p| { Ok(p) }
    );

    #[derive(Default)]
    struct Transaction<'a>(&'a str);

    json_object!(
        Transaction,
        "a business transaction",
        Borrowed,
        |map, key, seen, out| {
            match key {
                "kind" => {
                    once(&mut seen, 0, "kind")?;
                    map.next_value::<Option<AnyStr>>()?;
                }
                "id" => {
                    once(&mut seen, 1, "id")?;
                    out.0 = map.next_value::<Borrowed<'_>>()?.0;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        },
        |t| {
            if seen & 2 == 0 {
                return Err(de::Error::missing_field("id"));
            }
            Ok(t)
        }
    );

    #[derive(Default)]
    struct Destination<'a>(&'a str, &'a str);

    json_object!(
        Destination,
        "a source or destination",
        Borrowed,
        |map, key, seen, out| {
            match key {
                "kind" => {
                    once(&mut seen, 0, "kind")?;
                    out.0 = map.next_value::<Borrowed<'_>>()?.0;
                }
                "id" => {
                    once(&mut seen, 1, "id")?;
                    out.1 = map.next_value::<Borrowed<'_>>()?.0;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        },
        |p| {
            if seen & 1 == 0 {
                return Err(de::Error::missing_field("kind"));
            }
            if seen & 2 == 0 {
                return Err(de::Error::missing_field("id"));
            }
            Ok(p)
        }
    );

    /// One stored event as lowering sees it.
    #[derive(Default)]
    struct Stored<'a> {
        view: EventView<'a>,
        read_point: Option<&'a str>,
        biz_location: Option<&'a str>,
    }

    json_object!(
        Stored,
        "a stored EPCIS event",
        Borrowed,
        |map, key, seen, out| {
            let v = &mut out.view;
            match key {
                "event_type" => {
                    once(&mut seen, 0, "event_type")?;
                    v.event_type = Some(map.next_value::<EventType>()?);
                }
                "event_id" => {
                    once(&mut seen, 1, "event_id")?;
                    v.event_id = map.next_value::<Borrowed<'_>>()?.0;
                }
                "event_time" => {
                    once(&mut seen, 2, "event_time")?;
                    let text = map.next_value::<Borrowed<'_>>()?.0;
                    v.time = Timestamp::parse(text).map_err(de::Error::custom)?;
                }
                "event_time_zone_offset" => {
                    once(&mut seen, 3, "event_time_zone_offset")?;
                    map.next_value::<AnyStr>()?;
                }
                "record_time" => {
                    once(&mut seen, 4, "record_time")?;
                    map.next_value::<Option<Timestamp>>()?;
                }
                "certification_info" => {
                    once(&mut seen, 5, "certification_info")?;
                    map.next_value::<Option<AnyStr>>()?;
                }
                "error_declaration" => {
                    once(&mut seen, 6, "error_declaration")?;
                    v.declares_error = map.next_value::<Option<ErrorDeclaration>>()?.is_some();
                }
                "action" => {
                    once(&mut seen, 7, "action")?;
                    v.action = map.next_value::<Option<Action>>()?;
                }
                "parent_id" => {
                    once(&mut seen, 8, "parent_id")?;
                    v.parent = map.next_value::<Option<Borrowed<'_>>>()?.map(|b| b.0);
                }
                "epc_list" => {
                    once(&mut seen, 9, "epc_list")?;
                    v.epcs = strs(map.next_value()?);
                }
                "child_epcs" => {
                    once(&mut seen, 10, "child_epcs")?;
                    v.children = strs(map.next_value()?);
                }
                "input_epc_list" => {
                    once(&mut seen, 11, "input_epc_list")?;
                    v.inputs = strs(map.next_value()?);
                }
                "output_epc_list" => {
                    once(&mut seen, 12, "output_epc_list")?;
                    v.outputs = strs(map.next_value()?);
                }
                "quantity_list" => {
                    once(&mut seen, 13, "quantity_list")?;
                    v.quantities = quantities(map.next_value()?);
                }
                "child_quantity_list" => {
                    once(&mut seen, 14, "child_quantity_list")?;
                    v.child_quantities = quantities(map.next_value()?);
                }
                "input_quantity_list" => {
                    once(&mut seen, 15, "input_quantity_list")?;
                    v.input_quantities = quantities(map.next_value()?);
                }
                "output_quantity_list" => {
                    once(&mut seen, 16, "output_quantity_list")?;
                    v.output_quantities = quantities(map.next_value()?);
                }
                "transformation_id" => {
                    once(&mut seen, 17, "transformation_id")?;
                    v.transformation_id = map.next_value::<Option<Borrowed<'_>>>()?.map(|b| b.0);
                }
                "biz_step" => {
                    once(&mut seen, 18, "biz_step")?;
                    v.biz_step = map.next_value::<Option<Borrowed<'_>>>()?.map(|b| b.0);
                }
                "disposition" => {
                    once(&mut seen, 19, "disposition")?;
                    v.disposition = map.next_value::<Option<Borrowed<'_>>>()?.map(|b| b.0);
                }
                "persistent_disposition" => {
                    once(&mut seen, 20, "persistent_disposition")?;
                    if let Some(p) = map.next_value::<Option<Persistent<'_>>>()? {
                        v.persistent_set = p.set;
                        v.persistent_unset = p.unset;
                    }
                }
                "read_point" => {
                    once(&mut seen, 21, "read_point")?;
                    out.read_point = map.next_value::<Option<Borrowed<'_>>>()?.map(|b| b.0);
                }
                "biz_location" => {
                    once(&mut seen, 22, "biz_location")?;
                    out.biz_location = map.next_value::<Option<Borrowed<'_>>>()?.map(|b| b.0);
                }
                "biz_transaction_list" => {
                    once(&mut seen, 23, "biz_transaction_list")?;
                    let list: Vec<Transaction<'_>> = map.next_value()?;
                    v.biz_transactions = list.into_iter().map(|t| t.0).collect();
                }
                "source_list" => {
                    once(&mut seen, 24, "source_list")?;
                    map.next_value::<Vec<Party>>()?;
                }
                "destination_list" => {
                    once(&mut seen, 25, "destination_list")?;
                    let list: Vec<Destination<'_>> = map.next_value()?;
                    v.destinations = list.into_iter().map(|d| (d.0, d.1)).collect();
                }
                "sensor_element_list" => {
                    once(&mut seen, 26, "sensor_element_list")?;
                    map.next_value::<Vec<serde_json::Value>>()?;
                }
                "ilmd" => {
                    once(&mut seen, 27, "ilmd")?;
                    map.next_value::<BTreeMap<String, serde_json::Value>>()?;
                }
                "extensions" => {
                    once(&mut seen, 28, "extensions")?;
                    map.next_value::<BTreeMap<String, serde_json::Value>>()?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        },
        |s| {
            let mut s = s;
            // The business location, else the read point.
            s.view.location = s.biz_location.or(s.read_point);
            for (bit, name) in [
                (0, "event_type"),
                (1, "event_id"),
                (2, "event_time"),
                (3, "event_time_zone_offset"),
            ] {
                if seen & (1 << bit) == 0 {
                    return Err(de::Error::missing_field(name));
                }
            }
            Ok(s)
        }
    );
}
