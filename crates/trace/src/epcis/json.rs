//! The EPCIS 2.0 JSON-LD binding: read an `EPCISDocument`, an `EPCISQueryDocument`, a single
//! event or an array of events; write an `EPCISDocument`.
//!
//! Reading is strict about the fields the standard defines (a wrong type or an unknown
//! unprefixed field is an error naming the event and field) and keeps every prefixed field
//! (`example:myField`) as an extension.

use std::collections::BTreeMap;

use model::Timestamp;
use serde_json::{Map, Value, json};

use super::{
    Action, BizTransaction, EpcisDocument, EpcisEvent, ErrorDeclaration, EventType, Party,
    PersistentDisposition, QuantityElement, Vocab, canonical, derived_id,
};
use crate::error::ImportError;

/// The standard EPCIS 2.0 JSON-LD context.
pub const CONTEXT: &str = "https://ref.gs1.org/standards/epcis/epcis-context.jsonld";

/// Reads a JSON-LD document (see the module docs), within [`crate::limits`].
pub fn parse(text: &str) -> Result<EpcisDocument, ImportError> {
    let value = crate::limits::parse_json(text, "malformed JSON")?;
    parse_value(&value)
}

/// [`parse`] on an already-decoded value.
pub fn parse_value(value: &Value) -> Result<EpcisDocument, ImportError> {
    let mut namespaces = BTreeMap::new();
    let list: &[Value] = match value {
        Value::Array(events) => events,
        Value::Object(object) => {
            if let Some(context) = object.get("@context") {
                collect_context(context, &mut namespaces);
            }
            match object.get("type").and_then(Value::as_str) {
                Some("EPCISDocument") => object
                    .get("epcisBody")
                    .and_then(|b| b.get("eventList"))
                    .and_then(Value::as_array)
                    .map(Vec::as_slice)
                    .ok_or_else(|| {
                        ImportError::document("epcisBody.eventList", "missing or not an array")
                    })?,
                Some("EPCISQueryDocument") => object
                    .get("epcisBody")
                    .and_then(|b| b.get("queryResults"))
                    .and_then(|b| b.get("resultsBody"))
                    .and_then(|b| b.get("eventList"))
                    .and_then(Value::as_array)
                    .map(Vec::as_slice)
                    .ok_or_else(|| {
                        ImportError::document(
                            "epcisBody.queryResults.resultsBody.eventList",
                            "missing or not an array",
                        )
                    })?,
                Some(t) if EventType::from_name(t).is_some() => std::slice::from_ref(value),
                Some(other) => {
                    return Err(ImportError::document(
                        "type",
                        format!(
                            "unknown document type `{other}` (expected EPCISDocument, EPCISQueryDocument or an event type)"
                        ),
                    ));
                }
                None => return Err(ImportError::document("type", "missing")),
            }
        }
        _ => {
            return Err(ImportError::document(
                "",
                "expected an EPCIS document, an event or an array of events",
            ));
        }
    };
    let events = list
        .iter()
        .enumerate()
        .map(|(index, v)| parse_event(index, v))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(EpcisDocument { events, namespaces })
}

fn collect_context(context: &Value, namespaces: &mut BTreeMap<String, String>) {
    match context {
        Value::Array(items) => items.iter().for_each(|c| collect_context(c, namespaces)),
        Value::Object(map) => {
            for (k, v) in map {
                if let Some(uri) = v.as_str() {
                    namespaces.insert(k.clone(), uri.to_owned());
                }
            }
        }
        _ => {}
    }
}

struct Ctx<'a> {
    index: usize,
    id: Option<&'a str>,
}

impl Ctx<'_> {
    fn err(&self, field: impl Into<String>, message: impl Into<String>) -> ImportError {
        ImportError::event(self.index, self.id, field, message)
    }

    fn string(&self, field: &str, v: &Value) -> Result<String, ImportError> {
        v.as_str()
            .map(str::to_owned)
            .ok_or_else(|| self.err(field, "expected a string"))
    }

    fn time(&self, field: &str, v: &Value) -> Result<Timestamp, ImportError> {
        let text = self.string(field, v)?;
        Timestamp::parse(&text).map_err(|e| self.err(field, e.to_string()))
    }

    fn epc(&self, field: &str, v: &Value) -> Result<String, ImportError> {
        let text = self.string(field, v)?;
        canonical(&text).map_err(|e| self.err(field, e))
    }

    fn epcs(&self, field: &str, v: &Value) -> Result<Vec<String>, ImportError> {
        let list = v
            .as_array()
            .ok_or_else(|| self.err(field, "expected an array"))?;
        list.iter()
            .enumerate()
            .map(|(i, e)| self.epc(&format!("{field}[{i}]"), e))
            .collect()
    }

    fn quantities(&self, field: &str, v: &Value) -> Result<Vec<QuantityElement>, ImportError> {
        let list = v
            .as_array()
            .ok_or_else(|| self.err(field, "expected an array"))?;
        list.iter()
            .enumerate()
            .map(|(i, q)| {
                let at = format!("{field}[{i}]");
                let object = q
                    .as_object()
                    .ok_or_else(|| self.err(&at, "expected an object"))?;
                let class = object
                    .get("epcClass")
                    .ok_or_else(|| self.err(format!("{at}.epcClass"), "missing"))?;
                let quantity =
                    match object.get("quantity") {
                        None | Some(Value::Null) => None,
                        Some(q) => Some(q.as_f64().filter(|q| q.is_finite()).ok_or_else(|| {
                            self.err(format!("{at}.quantity"), "expected a number")
                        })?),
                    };
                let uom = match object.get("uom") {
                    None | Some(Value::Null) => None,
                    Some(u) => Some(self.string(&format!("{at}.uom"), u)?),
                };
                Ok(QuantityElement {
                    epc_class: self.epc(&format!("{at}.epcClass"), class)?,
                    quantity,
                    uom,
                })
            })
            .collect()
    }

    fn location(&self, field: &str, v: &Value) -> Result<String, ImportError> {
        let id = v
            .get("id")
            .ok_or_else(|| self.err(format!("{field}.id"), "missing"))?;
        self.epc(&format!("{field}.id"), id)
    }

    fn parties(&self, field: &str, key: &str, v: &Value) -> Result<Vec<Party>, ImportError> {
        let list = v
            .as_array()
            .ok_or_else(|| self.err(field, "expected an array"))?;
        list.iter()
            .enumerate()
            .map(|(i, p)| {
                let at = format!("{field}[{i}]");
                let kind = p
                    .get("type")
                    .ok_or_else(|| self.err(format!("{at}.type"), "missing"))?;
                let id = p
                    .get(key)
                    .ok_or_else(|| self.err(format!("{at}.{key}"), "missing"))?;
                Ok(Party {
                    kind: Vocab::SourceDestType.shorten(&self.string(&format!("{at}.type"), kind)?),
                    id: self.epc(&format!("{at}.{key}"), id)?,
                })
            })
            .collect()
    }

    fn strings(&self, field: &str, v: &Value) -> Result<Vec<String>, ImportError> {
        let list = v
            .as_array()
            .ok_or_else(|| self.err(field, "expected an array"))?;
        list.iter()
            .enumerate()
            .map(|(i, s)| self.string(&format!("{field}[{i}]"), s))
            .collect()
    }
}

/// Reads one event object; `index` is its position in the document.
pub fn parse_event(index: usize, value: &Value) -> Result<EpcisEvent, ImportError> {
    let object = value
        .as_object()
        .ok_or_else(|| ImportError::event(index, None, "", "expected an event object"))?;
    let id = object.get("eventID").and_then(Value::as_str);
    let cx = Ctx { index, id };
    let event_type = object
        .get("type")
        .ok_or_else(|| cx.err("type", "missing"))
        .and_then(|t| cx.string("type", t))?;
    let event_type = EventType::from_name(&event_type).ok_or_else(|| {
        cx.err(
            "type",
            format!(
                "unknown event type `{event_type}` (expected one of the five EPCIS 2.0 event types)"
            ),
        )
    })?;
    let event_time = object
        .get("eventTime")
        .ok_or_else(|| cx.err("eventTime", "missing"))
        .and_then(|t| cx.time("eventTime", t))?;
    let mut event = EpcisEvent::new(event_type, String::new(), event_time);
    for (key, v) in object {
        match key.as_str() {
            "type" | "eventTime" | "@context" => {}
            "eventID" => event.event_id = cx.string(key, v)?,
            "eventTimeZoneOffset" => {
                let offset = cx.string(key, v)?;
                if !valid_offset(&offset) {
                    return Err(cx.err(
                        key,
                        format!("`{offset}` is not ±hh:mm (hours 00 to 23, minutes 00 to 59)"),
                    ));
                }
                event.event_time_zone_offset = offset;
            }
            "recordTime" => event.record_time = Some(cx.time(key, v)?),
            "certificationInfo" => event.certification_info = Some(cx.string(key, v)?),
            "errorDeclaration" => {
                let time = v
                    .get("declarationTime")
                    .ok_or_else(|| cx.err("errorDeclaration.declarationTime", "missing"))
                    .and_then(|t| cx.time("errorDeclaration.declarationTime", t))?;
                let reason = match v.get("reason") {
                    Some(r) => {
                        Some(Vocab::ErrorReason.shorten(&cx.string("errorDeclaration.reason", r)?))
                    }
                    None => None,
                };
                let corrective = match v.get("correctiveEventIDs") {
                    Some(c) => cx.strings("errorDeclaration.correctiveEventIDs", c)?,
                    None => Vec::new(),
                };
                event.error_declaration = Some(ErrorDeclaration {
                    declaration_time: time,
                    reason,
                    corrective_event_ids: corrective,
                });
            }
            "action" => {
                let text = cx.string(key, v)?;
                event.action = Some(Action::from_name(&text).ok_or_else(|| {
                    cx.err(key, format!("`{text}` is not ADD, OBSERVE or DELETE"))
                })?);
            }
            "parentID" => event.parent_id = Some(cx.epc(key, v)?),
            "epcList" => event.epc_list = cx.epcs(key, v)?,
            "childEPCs" => event.child_epcs = cx.epcs(key, v)?,
            "inputEPCList" => event.input_epc_list = cx.epcs(key, v)?,
            "outputEPCList" => event.output_epc_list = cx.epcs(key, v)?,
            "quantityList" => event.quantity_list = cx.quantities(key, v)?,
            "childQuantityList" => event.child_quantity_list = cx.quantities(key, v)?,
            "inputQuantityList" => event.input_quantity_list = cx.quantities(key, v)?,
            "outputQuantityList" => event.output_quantity_list = cx.quantities(key, v)?,
            "transformationID" => event.transformation_id = Some(cx.string(key, v)?),
            "bizStep" => event.biz_step = Some(Vocab::BizStep.shorten(&cx.string(key, v)?)),
            "disposition" => {
                event.disposition = Some(Vocab::Disposition.shorten(&cx.string(key, v)?))
            }
            "persistentDisposition" => {
                let mut pd = PersistentDisposition::default();
                for (part, list) in [("set", &mut pd.set), ("unset", &mut pd.unset)] {
                    if let Some(values) = v.get(part) {
                        *list = cx
                            .strings(&format!("{key}.{part}"), values)?
                            .iter()
                            .map(|d| Vocab::Disposition.shorten(d))
                            .collect();
                    }
                }
                // One that sets and unsets nothing says nothing (and is not written).
                event.persistent_disposition = pd.says_something().then_some(pd);
            }
            "readPoint" => event.read_point = Some(cx.location(key, v)?),
            "bizLocation" => event.biz_location = Some(cx.location(key, v)?),
            "bizTransactionList" => {
                let list = v
                    .as_array()
                    .ok_or_else(|| cx.err(key, "expected an array"))?;
                for (i, bt) in list.iter().enumerate() {
                    let at = format!("{key}[{i}]");
                    let id = bt
                        .get("bizTransaction")
                        .ok_or_else(|| cx.err(format!("{at}.bizTransaction"), "missing"))?;
                    let kind = match bt.get("type") {
                        Some(t) => Some(
                            Vocab::BizTransactionType
                                .shorten(&cx.string(&format!("{at}.type"), t)?),
                        ),
                        None => None,
                    };
                    event.biz_transaction_list.push(BizTransaction {
                        kind,
                        id: cx.epc(&format!("{at}.bizTransaction"), id)?,
                    });
                }
            }
            "sourceList" => event.source_list = cx.parties(key, "source", v)?,
            "destinationList" => event.destination_list = cx.parties(key, "destination", v)?,
            "sensorElementList" => {
                event.sensor_element_list = v
                    .as_array()
                    .ok_or_else(|| cx.err(key, "expected an array"))?
                    .clone()
            }
            "ilmd" => {
                let map = v
                    .as_object()
                    .ok_or_else(|| cx.err(key, "expected an object"))?;
                event.ilmd = map.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            }
            other if other.contains(':') => {
                event.extensions.insert(other.to_owned(), v.clone());
            }
            other => {
                return Err(cx.err(
                    other,
                    "unknown field (extensions need a namespace prefix such as `example:field`)",
                ));
            }
        }
    }
    if event.action.is_none() && event_type != EventType::TransformationEvent {
        return Err(cx.err("action", "missing (required for this event type)"));
    }
    if event.event_id.is_empty() {
        event.event_id = derived_id(&event);
    }
    Ok(event)
}

/// The offset as the EPCIS 2.0 schemas write it: `Z` (which the readers take) as `+00:00`.
pub(crate) fn schema_offset(offset: &str) -> &str {
    if offset == "Z" { "+00:00" } else { offset }
}

/// `Z` or a UTC offset `±hh:mm` that [`model::time::parse_offset`] reads.
pub(crate) fn valid_offset(offset: &str) -> bool {
    offset == "Z" || model::time::parse_offset(offset).is_ok()
}

fn quantities(list: &[QuantityElement]) -> Value {
    Value::Array(
        list.iter()
            .map(|q| {
                let mut m = Map::new();
                m.insert("epcClass".into(), json!(q.epc_class));
                if let Some(quantity) = q.quantity {
                    m.insert("quantity".into(), json!(quantity));
                }
                if let Some(uom) = &q.uom {
                    m.insert("uom".into(), json!(uom));
                }
                Value::Object(m)
            })
            .collect(),
    )
}

/// One event as a JSON-LD object.
pub fn event_value(e: &EpcisEvent) -> Value {
    let mut m = Map::new();
    m.insert("type".into(), json!(e.event_type.as_str()));
    m.insert("eventID".into(), json!(e.event_id));
    m.insert("eventTime".into(), json!(e.event_time.to_string()));
    m.insert(
        "eventTimeZoneOffset".into(),
        json!(schema_offset(&e.event_time_zone_offset)),
    );
    if let Some(t) = e.record_time {
        m.insert("recordTime".into(), json!(t.to_string()));
    }
    if let Some(c) = &e.certification_info {
        m.insert("certificationInfo".into(), json!(c));
    }
    if let Some(d) = &e.error_declaration {
        let mut ed = Map::new();
        ed.insert(
            "declarationTime".into(),
            json!(d.declaration_time.to_string()),
        );
        if let Some(r) = &d.reason {
            ed.insert("reason".into(), json!(r));
        }
        if !d.corrective_event_ids.is_empty() {
            ed.insert("correctiveEventIDs".into(), json!(d.corrective_event_ids));
        }
        m.insert("errorDeclaration".into(), Value::Object(ed));
    }
    if let Some(p) = &e.parent_id {
        m.insert("parentID".into(), json!(p));
    }
    for (key, list) in [
        ("epcList", &e.epc_list),
        ("childEPCs", &e.child_epcs),
        ("inputEPCList", &e.input_epc_list),
        ("outputEPCList", &e.output_epc_list),
    ] {
        if !list.is_empty() {
            m.insert(key.into(), json!(list));
        }
    }
    if let Some(a) = e.action {
        m.insert("action".into(), json!(a.as_str()));
    }
    for (key, list) in [
        ("quantityList", &e.quantity_list),
        ("childQuantityList", &e.child_quantity_list),
        ("inputQuantityList", &e.input_quantity_list),
        ("outputQuantityList", &e.output_quantity_list),
    ] {
        if !list.is_empty() {
            m.insert(key.into(), quantities(list));
        }
    }
    // An ObjectEvent or TransactionEvent says what it saw with an epcList, empty if need be
    // (the JSON schema's `anyOf`; an empty quantityList does not count).
    if matches!(
        e.event_type,
        EventType::ObjectEvent | EventType::TransactionEvent
    ) && e.epc_list.is_empty()
        && e.quantity_list.is_empty()
    {
        m.insert("epcList".into(), json!([]));
    }
    if let Some(t) = &e.transformation_id {
        m.insert("transformationID".into(), json!(t));
    }
    if let Some(s) = &e.biz_step {
        m.insert("bizStep".into(), json!(s));
    }
    if let Some(d) = &e.disposition {
        m.insert("disposition".into(), json!(d));
    }
    // The schema wants a persistent disposition to set or unset something.
    if let Some(pd) = e
        .persistent_disposition
        .as_ref()
        .filter(|pd| pd.says_something())
    {
        let mut p = Map::new();
        if !pd.set.is_empty() {
            p.insert("set".into(), json!(pd.set));
        }
        if !pd.unset.is_empty() {
            p.insert("unset".into(), json!(pd.unset));
        }
        m.insert("persistentDisposition".into(), Value::Object(p));
    }
    if let Some(r) = &e.read_point {
        m.insert("readPoint".into(), json!({ "id": r }));
    }
    if let Some(b) = &e.biz_location {
        m.insert("bizLocation".into(), json!({ "id": b }));
    }
    if !e.biz_transaction_list.is_empty() {
        let list: Vec<Value> = e
            .biz_transaction_list
            .iter()
            .map(|bt| match &bt.kind {
                Some(k) => json!({ "type": k, "bizTransaction": bt.id }),
                None => json!({ "bizTransaction": bt.id }),
            })
            .collect();
        m.insert("bizTransactionList".into(), Value::Array(list));
    }
    for (key, field, list) in [
        ("sourceList", "source", &e.source_list),
        ("destinationList", "destination", &e.destination_list),
    ] {
        if !list.is_empty() {
            let list: Vec<Value> = list
                .iter()
                .map(|p| json!({ "type": p.kind, field: p.id }))
                .collect();
            m.insert(key.into(), Value::Array(list));
        }
    }
    if !e.sensor_element_list.is_empty() {
        m.insert(
            "sensorElementList".into(),
            Value::Array(e.sensor_element_list.clone()),
        );
    }
    if !e.ilmd.is_empty() {
        m.insert(
            "ilmd".into(),
            Value::Object(e.ilmd.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
        );
    }
    for (k, v) in &e.extensions {
        m.insert(k.clone(), v.clone());
    }
    Value::Object(m)
}

/// An `EPCISDocument` holding `events`, declaring `namespaces` in its context.
/// `creation_date` is passed in (this crate reads no clock).
pub fn document(
    events: &[EpcisEvent],
    namespaces: &BTreeMap<String, String>,
    creation_date: Timestamp,
) -> Value {
    let mut context = vec![json!(CONTEXT)];
    if !namespaces.is_empty() {
        let ns: Map<String, Value> = namespaces
            .iter()
            .filter(|(k, _)| !k.is_empty())
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        context.push(Value::Object(ns));
    }
    json!({
        "@context": context,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": creation_date.to_string(),
        "epcisBody": { "eventList": events.iter().map(event_value).collect::<Vec<_>>() },
    })
}
