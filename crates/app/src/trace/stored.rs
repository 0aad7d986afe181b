//! Genealogy documents into the store, and the genealogy index over what is stored.
//!
//! [`import_text`] reads a document (EPCIS 2.0 JSON-LD or XML, B2MML, the plant's own
//! events) and stores it whole or not at all; it comes in two halves, [`read_document`] (CPU
//! only) and [`store_document`], so that a caller can read one document while the one before
//! is stored. [`load_index`] builds the genealogy index from everything stored.
//!
//! [`IndexCache`] keeps the index built last and builds it again only when the store changed
//! since: every write appends an audit record in its own transaction, so the last audit
//! sequence number is the store's version. An import, a capture, an event batch, a plant load
//! or a reset is seen by the next query.

use std::collections::BTreeMap;
use std::sync::Arc;

use model::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use store::{Actor, Store, StoreError, TraceDocument, TraceEventRow, TraceImportOutcome};
use trace::epcis::Retraction;
use trace::import::Imported;
use trace::{Expectation, Id, IdKind};

use crate::AppError;

/// What importing one document did.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ImportSummary {
    pub name: String,
    /// `epcis`, `b2mml` or `events` (the plant's own events, appended to the log).
    pub format: String,
    /// Events (or B2MML material actuals) the document held.
    pub events: usize,
    pub inserted: usize,
    pub duplicates: usize,
    pub duplicate_document: bool,
}

/// Reads `text` (any supported format) and stores it whole, or nothing of it.
pub async fn import_text(
    store: &Store,
    name: &str,
    text: &str,
    actor: &Actor,
    now: Timestamp,
) -> Result<ImportSummary, AppError> {
    store_document(store, read_document(name, text, now)?, actor).await
}

/// [`import_text`] of a document already read from `text` (with [`trace::import::read`]):
/// stores it whole, or nothing of it.
pub async fn import_read(
    store: &Store,
    name: &str,
    text: &str,
    imported: Imported,
    actor: &Actor,
) -> Result<ImportSummary, AppError> {
    store_document(store, ready(name, text, imported)?, actor).await
}

/// A document read and made ready to store, with nothing stored yet ([`read_document`]).
#[derive(Debug)]
pub struct ReadDocument {
    name: String,
    what: Ready,
}

#[derive(Debug)]
enum Ready {
    /// The plant's own events, for the log.
    Events(Vec<model::Event>),
    /// EPCIS or B2MML rows for the trace tables; `events` as [`ImportSummary::events`].
    Trace {
        prepared: trace::persist::Prepared,
        events: usize,
        b2mml: bool,
    },
}

impl ReadDocument {
    /// Whether the document holds the plant's own events (which need a plant to be stored).
    pub fn is_plant_events(&self) -> bool {
        matches!(self.what, Ready::Events(_))
    }
}

/// The CPU half of [`import_text`]: reads `text` and turns it into rows, touching no store,
/// so that a caller can read the next document while the one before is being stored.
pub fn read_document(name: &str, text: &str, now: Timestamp) -> Result<ReadDocument, AppError> {
    ready(name, text, trace::import::read(text, now)?)
}

/// [`read_document`] holding an EPCIS document to `validation`
/// ([`trace::import::read_held`]).
pub fn read_document_held(
    name: &str,
    text: &str,
    now: Timestamp,
    validation: super::EpcisValidation,
) -> Result<ReadDocument, AppError> {
    let imported = trace::import::read_held(text, now, validation.is_strict())?;
    ready(name, text, imported)
}

pub fn ready(name: &str, text: &str, imported: Imported) -> Result<ReadDocument, AppError> {
    let what = match imported {
        Imported::Events(events) => Ready::Events(events),
        Imported::Query(_) => {
            return Err(AppError::Invalid(format!(
                "{name} is an EPCIS SimpleEventQuery, not a document of events; pass its parameters to GET /epcis/events"
            )));
        }
        Imported::Epcis(_) | Imported::B2mml(_) => {
            let (events, b2mml) = match &imported {
                Imported::B2mml(doc) => (doc.material_actuals, true),
                Imported::Epcis(doc) => (doc.events.len(), false),
                _ => (0, false),
            };
            let prepared =
                trace::persist::prepare(&imported, text).expect("EPCIS and B2MML are stored");
            Ready::Trace {
                prepared,
                events,
                b2mml,
            }
        }
    };
    Ok(ReadDocument {
        name: name.to_owned(),
        what,
    })
}

/// The store half of [`import_text`]: stores a document read with [`read_document`] whole,
/// or nothing of it.
pub async fn store_document(
    store: &Store,
    document: ReadDocument,
    actor: &Actor,
) -> Result<ImportSummary, AppError> {
    let name = document.name;
    let (prepared, events, b2mml) = match document.what {
        Ready::Events(events) => {
            let outcome = store.append(&events, actor).await?;
            return Ok(ImportSummary {
                name,
                format: "events".into(),
                events: events.len(),
                inserted: outcome.inserted,
                duplicates: outcome.duplicates,
                duplicate_document: false,
            });
        }
        Ready::Trace {
            prepared,
            events,
            b2mml,
        } => (prepared, events, b2mml),
    };
    let format = prepared.format;
    let outcome: TraceImportOutcome = store
        .import_trace_document(
            TraceDocument {
                format: format.to_owned(),
                name: name.clone(),
                sha256: prepared.sha256,
                events: prepared
                    .rows
                    .into_iter()
                    .map(|r| TraceEventRow {
                        key: r.key,
                        event_id: r.event_id,
                        event_type: r.event_type,
                        event_time: r.event_time,
                        body: r.body,
                    })
                    .collect(),
                genealogy: prepared.genealogy,
            },
            actor,
        )
        .await?;
    Ok(ImportSummary {
        name,
        format: format.to_owned(),
        events,
        inserted: if b2mml && !outcome.duplicate_document {
            events
        } else {
            outcome.inserted
        },
        duplicates: if b2mml && outcome.duplicate_document {
            events
        } else {
            outcome.duplicates
        },
        duplicate_document: outcome.duplicate_document,
    })
}

/// Every stored EPCIS event with its log position and record time.
pub async fn stored_epcis(
    store: &Store,
) -> Result<Vec<(i64, Timestamp, trace::epcis::EpcisEvent)>, AppError> {
    let rows = store.all_trace_events().await?;
    let events = trace::persist::decode_events(rows.iter().map(|r| r.body.as_str()))
        .map_err(AppError::Corrupt)?;
    Ok(rows
        .iter()
        .zip(events)
        .map(|(r, e)| (r.seq, r.recorded_at, e))
        .collect())
}

/// The genealogy index over everything stored: the log's material events, captured EPCIS
/// events and imported B2MML genealogy. The EPCIS bodies are read in one pass and lowered
/// straight from their text ([`trace::persist::assemble_stored`]).
pub async fn load_index(store: &Store) -> Result<trace::Index, AppError> {
    Ok(load_genealogy(store).await?.0)
}

/// [`load_index`] and the retractions the stored error declarations make.
async fn load_genealogy(store: &Store) -> Result<(trace::Index, Vec<Retraction>), AppError> {
    let material = store.material_events().await?;
    let catalog = store.plant().await;
    let bodies = store.trace_event_bodies().await?;
    let genealogy = store.trace_genealogy().await?;
    let bodies: Vec<&str> = bodies.iter().collect();
    let index = trace::persist::assemble_stored(
        &material,
        catalog.as_deref(),
        &bodies,
        genealogy.iter().map(String::as_str),
    )
    .map_err(AppError::Corrupt)?;
    // Only a declaration's body names the field (an absent one is not written).
    let declarations = trace::persist::decode_events(
        bodies
            .iter()
            .copied()
            .filter(|b| b.contains("\"error_declaration\":")),
    )
    .map_err(AppError::Corrupt)?;
    Ok((index, trace::epcis::retractions(&declarations)))
}

/// The genealogy index of the store's current version (see the module docs), with the
/// retractions of its error declarations.
#[derive(Default)]
pub struct IndexCache {
    current: tokio::sync::Mutex<Option<Built>>,
}

/// The audit sequence number the index was built at, the index and the retractions.
type Built = (i64, Arc<trace::Index>, Arc<Vec<Retraction>>);

impl std::fmt::Debug for IndexCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexCache").finish_non_exhaustive()
    }
}

impl IndexCache {
    /// The index over everything stored, built again only if the store changed since the
    /// last call. One caller builds while the others wait for it.
    pub async fn get(&self, store: &Store) -> Result<Arc<trace::Index>, AppError> {
        Ok(self.get_with_retractions(store).await?.0)
    }

    /// [`IndexCache::get`] and the retractions of the stored error declarations.
    pub async fn get_with_retractions(
        &self,
        store: &Store,
    ) -> Result<(Arc<trace::Index>, Arc<Vec<Retraction>>), AppError> {
        let mut current = self.current.lock().await;
        let known = current.as_ref().map_or(0, |(version, _, _)| *version);
        // The version is read before the data: a write landing while the index is built
        // makes the next call build again, never hides that write.
        let version = audit_head(store, known).await?;
        if let Some((v, index, retractions)) = current.as_ref()
            && *v == version
        {
            return Ok((Arc::clone(index), Arc::clone(retractions)));
        }
        let (index, retractions) = load_genealogy(store).await?;
        let (index, retractions) = (Arc::new(index), Arc::new(retractions));
        *current = Some((version, Arc::clone(&index), Arc::clone(&retractions)));
        Ok((index, retractions))
    }
}

/// The last audit sequence number, reading only records after `known`.
async fn audit_head(store: &Store, known: i64) -> Result<i64, StoreError> {
    let mut after = known;
    loop {
        let page = store.audit_log(after, store::MAX_PAGE).await?;
        match page.last() {
            Some(record) => after = record.seq,
            None => return Ok(after),
        }
    }
}

/// Mass-balance expectations from the plant's orders and routings (5 % tolerance).
pub async fn expectations(store: &Store) -> BTreeMap<String, Expectation> {
    let Some(catalog) = store.plant().await else {
        return BTreeMap::new();
    };
    let state = store.state().await;
    let plant = catalog.plant();
    state
        .orders
        .values()
        .filter_map(|o| {
            let routing = plant.routings.iter().find(|r| r.id == o.order.routing)?;
            Some((
                Id::local(IdKind::Order, o.order.id.as_str()).id,
                Expectation::from_routing(o.order.quantity, routing.expected_yield, 0.05),
            ))
        })
        .collect()
}
