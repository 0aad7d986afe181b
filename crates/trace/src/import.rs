//! One entry point for every input format: detect it, read it whole, or reject it whole.
//!
//! [`read`] looks at the text (after a byte-order mark and white space): JSON that is an
//! EPCIS document, query document, event or event array is EPCIS JSON-LD; JSON holding the
//! plant's own events (`[{"type":"material_consumed",…}]` or `{"events":[…]}`) is model
//! events; a JSON `SimpleEventQuery` is a query; XML whose root is `EPCISDocument`,
//! `EPCISQueryDocument` or one of the five event types (a single event) is EPCIS XML, any
//! other XML root is B2MML. Either the whole document
//! reads, or an [`ImportError`] names the event and field at fault (or the bound of
//! [`crate::limits`] it went past, and where).

use model::{Event, Timestamp};
use serde_json::Value;

use crate::b2mml::{self, B2mmlImport};
use crate::epcis::query::EventQuery;
use crate::epcis::{self, EpcisDocument};
use crate::error::ImportError;

/// A document, read.
#[derive(Debug, Clone, PartialEq)]
pub enum Imported {
    Epcis(EpcisDocument),
    B2mml(B2mmlImport),
    /// The plant's own events (material events are genealogy; the rest is ignored here).
    Events(Vec<Event>),
    /// A `SimpleEventQuery` definition (no events).
    Query(Box<EventQuery>),
}

/// The format [`read`] detected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    EpcisJson,
    EpcisXml,
    B2mml,
    ModelEvents,
    Query,
}

impl Imported {
    pub fn format(&self) -> Format {
        match self {
            Imported::Epcis(_) => Format::EpcisJson,
            Imported::B2mml(_) => Format::B2mml,
            Imported::Events(_) => Format::ModelEvents,
            Imported::Query(_) => Format::Query,
        }
    }
}

fn model_events(value: &Value) -> Option<&Vec<Value>> {
    let list = match value {
        Value::Array(list) => list,
        Value::Object(map) => map.get("events")?.as_array()?,
        _ => return None,
    };
    let first_type = list.first()?.get("type")?.as_str()?;
    model::EventKind::TYPE_NAMES
        .contains(&first_type)
        .then_some(list)
}

/// Reads `text` in whichever supported format it is. `default_time` dates B2MML actuals
/// that carry no time at all.
pub fn read(text: &str, default_time: Timestamp) -> Result<Imported, ImportError> {
    read_held(text, default_time, false)
}

/// [`read`], and with `conformant` an EPCIS document is also held to the rules of a
/// conformant capture interface ([`epcis::conformance`]), checked on the tree or value just
/// read (after the reader's own faults, which name their event and field first).
pub fn read_held(
    text: &str,
    default_time: Timestamp,
    conformant: bool,
) -> Result<Imported, ImportError> {
    let body = text.trim_start_matches('\u{feff}').trim_start();
    if body.starts_with('<') {
        // The root element's local name decides.
        let doc = epcis::xml::standard_tree(body)?;
        if !epcis::xml::is_epcis_root(doc.root.local()) {
            return b2mml::parse(body, default_time).map(Imported::B2mml);
        }
        let read = epcis::xml::read_tree(&doc)?;
        if conformant {
            epcis::conformance::check_xml(&doc)?;
        }
        return Ok(Imported::Epcis(read));
    }
    let value = crate::limits::parse_json(body, "neither XML nor valid JSON")?;
    if let Some(list) = model_events(&value) {
        let events = list
            .iter()
            .enumerate()
            .map(|(index, v)| {
                serde_json::from_value::<Event>(v.clone()).map_err(|e| {
                    ImportError::event(
                        index,
                        v.get("id").and_then(Value::as_str),
                        "",
                        e.to_string(),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(Imported::Events(events));
    }
    if let Value::Object(map) = &value {
        let is_query = map.get("type").is_none()
            && (map
                .get("@context")
                .and_then(Value::as_str)
                .is_some_and(|c| c.contains("query"))
                || map.keys().any(|k| {
                    k == "eventType"
                        || k.starts_with("GE_")
                        || k.starts_with("EQ_")
                        || k.starts_with("MATCH_")
                }));
        if is_query {
            return EventQuery::from_json(&value)
                .map(|q| Imported::Query(Box::new(q)))
                .map_err(|e| ImportError::document(e.parameter, e.message));
        }
    }
    let read = epcis::json::parse_value(&value)?;
    if conformant {
        epcis::conformance::check_json(&value)?;
    }
    Ok(Imported::Epcis(read))
}
