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
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
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

/// Decodes stored EPCIS bodies.
pub fn decode_events<'a>(
    bodies: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<EpcisEvent>, String> {
    bodies
        .into_iter()
        .enumerate()
        .map(|(i, b)| {
            serde_json::from_str(b)
                .map_err(|e| format!("stored EPCIS event {i} does not decode: {e}"))
        })
        .collect()
}

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
    for (i, body) in genealogy_bodies.into_iter().enumerate() {
        let g: Genealogy = serde_json::from_str(body)
            .map_err(|e| format!("stored genealogy {i} does not decode: {e}"))?;
        builder.add(&g);
    }
    Ok(builder.finish())
}
