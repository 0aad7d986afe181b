//! The EPCIS 2.0 XML binding: read an `epcis:EPCISDocument` or `epcisq:EPCISQueryDocument`,
//! write an `epcis:EPCISDocument`.
//!
//! Standard fields are elements without a prefix or with one bound to an EPCIS namespace
//! (some producers qualify every element: `<epcis:eventTime>`); elements with any other
//! prefix are extensions and keep their qualified name, as in JSON-LD. A single event
//! without a document around it reads as a document of that event. EPCIS 1.x `extension` / `baseExtension` wrappers are read
//! through. Sensor elements are read into the JSON-LD shape (attributes become fields; the
//! numeric and boolean report fields become numbers and booleans).

use std::collections::{BTreeMap, BTreeSet};

use model::Timestamp;
use serde_json::{Map, Value};

use super::json::valid_offset;
use super::{
    Action, BizTransaction, EpcisDocument, EpcisEvent, ErrorDeclaration, EventType, Party,
    PersistentDisposition, QuantityElement, Vocab, canonical, derived_id,
};
use crate::error::ImportError;
use crate::xml::{Element, escape, parse as parse_xml};

/// The EPCIS 2.0 XML namespace.
pub const NAMESPACE: &str = "urn:epcglobal:epcis:xsd:2";

/// Whether `uri` is one of EPCIS's own namespaces (capture, query or master data, 1.x or
/// 2.0): an element in one of them is a standard element, whatever prefix it carries. The
/// CBV's namespaces (`urn:epcglobal:cbv:…`) are not: their elements are extension fields.
fn is_epcis_namespace(uri: &str) -> bool {
    uri.starts_with("urn:epcglobal:epcis:")
        || uri.starts_with("urn:epcglobal:epcis-query:")
        || uri.starts_with("urn:epcglobal:epcis-masterdata:")
}

/// Drops the prefix of every element bound to an EPCIS namespace (`<epcis:eventTime>` is
/// `eventTime`), so the standard fields read alike however a producer qualified them.
fn unprefix_standard(element: &mut Element, epcis_prefixes: &BTreeSet<String>) {
    if let Some((prefix, local)) = element.name.split_once(':')
        && epcis_prefixes.contains(prefix)
    {
        element.name = local.to_owned();
    }
    for child in &mut element.children {
        unprefix_standard(child, epcis_prefixes);
    }
}

/// The XML tree of `text` with every element bound to an EPCIS namespace unprefixed, as
/// the reader and [`super::conformance::check_xml`] read it.
pub fn standard_tree(text: &str) -> Result<crate::xml::Document, ImportError> {
    let mut doc = parse_xml(text)?;
    let epcis_prefixes: BTreeSet<String> = doc
        .namespaces
        .iter()
        .filter(|(prefix, uri)| !prefix.is_empty() && is_epcis_namespace(uri))
        .map(|(prefix, _)| prefix.clone())
        .collect();
    unprefix_standard(&mut doc.root, &epcis_prefixes);
    // The root is not kept (a writer writes its own), so a sloppy producer's undeclared
    // `epcis:` on it is let pass.
    if let Some(name) = doc.root.children.iter().find_map(epcis_prefix_left) {
        return Err(ImportError::document(
            name.clone(),
            "the prefix `epcis` is not bound to an EPCIS namespace here: declare it \
             (xmlns:epcis=\"urn:epcglobal:epcis:xsd:2\") or name the extension with another prefix",
        ));
    }
    Ok(doc)
}

/// An element still named `epcis:…` once the EPCIS prefixes are dropped: its prefix is bound
/// to another namespace or to none. A writer binds `epcis` to EPCIS 2.0, so such an element
/// would come back as a standard one (fuzz finding 8); it is refused instead.
fn epcis_prefix_left(element: &Element) -> Option<&String> {
    if element.name.starts_with("epcis:") {
        return Some(&element.name);
    }
    element.children.iter().find_map(epcis_prefix_left)
}

/// Whether an XML root is EPCIS: a document, a query document, or one event on its own.
pub fn is_epcis_root(local_name: &str) -> bool {
    matches!(local_name, "EPCISDocument" | "EPCISQueryDocument")
        || EventType::from_name(local_name).is_some()
}

/// Reads an XML document: an `EPCISDocument`, an `EPCISQueryDocument`, or a single event
/// (`<ObjectEvent>…</ObjectEvent>`, read as a document of that one event).
pub fn parse(text: &str) -> Result<EpcisDocument, ImportError> {
    read_tree(&standard_tree(text)?)
}

/// [`parse`] of a tree already read by [`standard_tree`] (the one the conformance check
/// reads too).
pub fn read_tree(doc: &crate::xml::Document) -> Result<EpcisDocument, ImportError> {
    let mut events = Vec::new();
    for (index, element) in event_elements(&doc.root)?.into_iter().enumerate() {
        events.push(parse_event(index, element)?);
    }
    let namespaces = doc
        .namespaces
        .iter()
        .filter(|(prefix, uri)| {
            !prefix.is_empty()
                && !uri.starts_with("urn:epcglobal:")
                && *uri != "http://www.w3.org/2001/XMLSchema-instance"
                && *uri != "http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader"
        })
        .map(|(prefix, uri)| (prefix.clone(), uri.clone()))
        .collect();
    Ok(EpcisDocument { events, namespaces })
}

/// An element as a JSON value: text for a leaf, an object of children (repeated names as
/// arrays) otherwise.
fn element_value(e: &Element) -> Value {
    if e.children.is_empty() && e.attributes.is_empty() {
        return Value::String(e.text.trim().to_owned());
    }
    let mut map = Map::new();
    for (k, v) in &e.attributes {
        map.insert(k.clone(), typed_attribute(k, v));
    }
    for child in &e.children {
        let v = element_value(child);
        match map.get_mut(&child.name) {
            Some(Value::Array(list)) => list.push(v),
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, v]);
            }
            None => {
                map.insert(child.name.clone(), v);
            }
        }
    }
    Value::Object(map)
}

/// An attribute of an extension or sensor element as a JSON value, its outer white space
/// trimmed as an element's text is: such a field may be written back as an element.
fn typed_attribute(key: &str, text: &str) -> Value {
    let text = text.trim();
    if super::SENSOR_NUMBERS.contains(&key)
        && let Some(n) = text
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
    {
        return Value::Number(n);
    }
    if key == "booleanValue"
        && let Ok(b) = text.parse::<bool>()
    {
        return Value::Bool(b);
    }
    Value::String(text.to_owned())
}

fn sensor_element(e: &Element) -> Value {
    let mut map = Map::new();
    let mut reports = Vec::new();
    for child in &e.children {
        match child.name.as_str() {
            "sensorMetadata" => {
                map.insert("sensorMetadata".into(), element_value(child));
            }
            "sensorReport" => reports.push(element_value(child)),
            _ => {
                map.insert(child.name.clone(), element_value(child));
            }
        }
    }
    if !reports.is_empty() {
        map.insert("sensorReport".into(), Value::Array(reports));
    }
    Value::Object(map)
}

/// The event elements of a document, query document or single event (the root itself),
/// in document order, 1.x `extension` wrappers in the event list read through.
pub(crate) fn event_elements(root: &Element) -> Result<Vec<&Element>, ImportError> {
    if EventType::from_name(root.local()).is_some() {
        return Ok(vec![root]);
    }
    let body = root
        .child("EPCISBody")
        .ok_or_else(|| ImportError::document("EPCISBody", "missing"))?;
    let list = match root.local() {
        "EPCISDocument" => body.child("EventList"),
        "EPCISQueryDocument" => body
            .child("QueryResults")
            .and_then(|q| q.child("resultsBody"))
            .and_then(|r| r.child("EventList")),
        other => {
            return Err(ImportError::document(
                other,
                "unknown root element (expected EPCISDocument, EPCISQueryDocument or one \
                 of the five EPCIS 2.0 event types)",
            ));
        }
    };
    let mut elements: Vec<&Element> = Vec::new();
    for child in list.iter().flat_map(|l| &l.children) {
        if child.local() == "extension" {
            elements.extend(child.children.iter());
        } else {
            elements.push(child);
        }
    }
    Ok(elements)
}

/// The fields of an event element, 1.x's `extension` and `baseExtension` wrappers read
/// through, so every field is one element of the list.
pub(crate) fn event_fields(event: &Element) -> Vec<&Element> {
    fn flatten<'a>(e: &'a Element, out: &mut Vec<&'a Element>) {
        for c in &e.children {
            if c.name == "extension" || c.name == "baseExtension" {
                flatten(c, out);
            } else {
                out.push(c);
            }
        }
    }
    let mut fields = Vec::new();
    flatten(event, &mut fields);
    fields
}

fn parse_event(index: usize, element: &Element) -> Result<EpcisEvent, ImportError> {
    let fields = event_fields(element);
    let id = fields
        .iter()
        .find(|f| f.name == "eventID")
        .map(|f| f.text.trim().to_owned());
    let reader = FieldReader {
        index,
        id: id.as_deref(),
    };
    let err = |field: &str, message: String| reader.err(field, message);
    let event_type = EventType::from_name(element.local()).ok_or_else(|| {
        err(
            element.local(),
            "unknown event type (expected one of the five EPCIS 2.0 event types)".into(),
        )
    })?;

    let time_field = fields
        .iter()
        .find(|f| f.name == "eventTime")
        .ok_or_else(|| err("eventTime", "missing".into()))?;
    let mut event = EpcisEvent::new(
        event_type,
        String::new(),
        reader.time("eventTime", time_field)?,
    );
    let own = super::conformance::type_sequence(event_type.as_str());
    for f in fields {
        // An element of another event type (a `parentID` in a TransformationEvent): the XSD
        // refuses it there and the writer never writes it, so it is not read either, and a
        // document read, written and read again says the same.
        if !own.contains(&f.name.as_str()) && of_some_type(&f.name) {
            continue;
        }
        reader.field(&mut event, f)?;
    }
    if event.action.is_none() && event_type != EventType::TransformationEvent {
        return Err(err(
            "action",
            "missing (required for this event type)".into(),
        ));
    }
    if event.event_id.is_empty() {
        event.event_id = derived_id(&event);
    }
    Ok(event)
}

/// Whether `name` is an element of some event type's own sequence (not a field every event
/// has, nor an extension).
fn of_some_type(name: &str) -> bool {
    [
        EventType::ObjectEvent,
        EventType::AggregationEvent,
        EventType::TransactionEvent,
        EventType::TransformationEvent,
        EventType::AssociationEvent,
    ]
    .iter()
    .any(|t| super::conformance::type_sequence(t.as_str()).contains(&name))
}

/// An element's trimmed text.
fn text(f: &Element) -> String {
    f.text.trim().to_owned()
}

/// Reads the fields of one event, naming the event (its index and id) in every error.
struct FieldReader<'a> {
    index: usize,
    id: Option<&'a str>,
}

impl FieldReader<'_> {
    fn err(&self, field: &str, message: String) -> ImportError {
        ImportError::event(self.index, self.id, field.to_owned(), message)
    }

    fn time(&self, field: &str, f: &Element) -> Result<Timestamp, ImportError> {
        Timestamp::parse(f.text.trim()).map_err(|e| self.err(field, e.to_string()))
    }

    fn epc(&self, field: &str, f: &Element) -> Result<String, ImportError> {
        canonical(f.text.trim()).map_err(|e| self.err(field, e))
    }

    fn epcs(&self, field: &str, f: &Element) -> Result<Vec<String>, ImportError> {
        f.children_named("epc")
            .enumerate()
            .map(|(i, e)| self.epc(&format!("{field}[{i}]"), e))
            .collect()
    }

    fn quantities(&self, field: &str, f: &Element) -> Result<Vec<QuantityElement>, ImportError> {
        f.children_named("quantityElement")
            .enumerate()
            .map(|(i, q)| {
                let at = format!("{field}[{i}]");
                let class = q
                    .child("epcClass")
                    .ok_or_else(|| self.err(&format!("{at}.epcClass"), "missing".into()))?;
                let quantity = match q.child_text("quantity") {
                    Some(t) => Some(t.parse::<f64>().ok().filter(|q| q.is_finite()).ok_or_else(
                        || self.err(&format!("{at}.quantity"), format!("`{t}` is not a number")),
                    )?),
                    None => None,
                };
                Ok(QuantityElement {
                    epc_class: self.epc(&format!("{at}.epcClass"), class)?,
                    quantity,
                    uom: q.child_text("uom").map(str::to_owned),
                })
            })
            .collect()
    }

    fn location(&self, field: &str, f: &Element) -> Result<String, ImportError> {
        let id = f
            .child("id")
            .ok_or_else(|| self.err(&format!("{field}.id"), "missing".into()))?;
        self.epc(&format!("{field}.id"), id)
    }

    fn parties(&self, field: &str, tag: &str, f: &Element) -> Result<Vec<Party>, ImportError> {
        f.children_named(tag)
            .enumerate()
            .map(|(i, p)| {
                let kind = p
                    .attribute("type")
                    .ok_or_else(|| self.err(&format!("{field}[{i}].type"), "missing".into()))?;
                Ok(Party {
                    kind: Vocab::SourceDestType.shorten(kind),
                    id: self.epc(&format!("{field}[{i}]"), p)?,
                })
            })
            .collect()
    }

    /// One field of the event, read into its place; an unknown element without a namespace
    /// prefix is an error.
    fn field(&self, event: &mut EpcisEvent, f: &Element) -> Result<(), ImportError> {
        let name = f.name.as_str();
        match name {
            "eventTime" => {}
            "eventID" => event.event_id = text(f),
            "eventTimeZoneOffset" => {
                let offset = text(f);
                if !valid_offset(&offset) {
                    return Err(self.err(
                        name,
                        format!("`{offset}` is not ±hh:mm (hours 00 to 23, minutes 00 to 59)"),
                    ));
                }
                event.event_time_zone_offset = offset;
            }
            "recordTime" => event.record_time = Some(self.time(name, f)?),
            "certificationInfo" => event.certification_info = Some(text(f)),
            "errorDeclaration" => {
                let t = f.child("declarationTime").ok_or_else(|| {
                    self.err("errorDeclaration.declarationTime", "missing".into())
                })?;
                event.error_declaration = Some(ErrorDeclaration {
                    declaration_time: self.time("errorDeclaration.declarationTime", t)?,
                    reason: f
                        .child_text("reason")
                        .map(|r| Vocab::ErrorReason.shorten(r)),
                    corrective_event_ids: f
                        .child("correctiveEventIDs")
                        .map(|c| c.children_named("correctiveEventID").map(text).collect())
                        .unwrap_or_default(),
                });
            }
            "action" => {
                let a = text(f);
                event.action = Some(Action::from_name(&a).ok_or_else(|| {
                    self.err(name, format!("`{a}` is not ADD, OBSERVE or DELETE"))
                })?);
            }
            "parentID" => event.parent_id = Some(self.epc(name, f)?),
            "epcList" => event.epc_list = self.epcs(name, f)?,
            "childEPCs" => event.child_epcs = self.epcs(name, f)?,
            "inputEPCList" => event.input_epc_list = self.epcs(name, f)?,
            "outputEPCList" => event.output_epc_list = self.epcs(name, f)?,
            "quantityList" => event.quantity_list = self.quantities(name, f)?,
            "childQuantityList" => event.child_quantity_list = self.quantities(name, f)?,
            "inputQuantityList" => event.input_quantity_list = self.quantities(name, f)?,
            "outputQuantityList" => event.output_quantity_list = self.quantities(name, f)?,
            "transformationID" => event.transformation_id = Some(text(f)),
            "bizStep" => event.biz_step = Some(Vocab::BizStep.shorten(&f.text)),
            "disposition" => event.disposition = Some(Vocab::Disposition.shorten(&f.text)),
            "persistentDisposition" => {
                let pd = PersistentDisposition {
                    set: f
                        .children_named("set")
                        .map(|s| Vocab::Disposition.shorten(&s.text))
                        .collect(),
                    unset: f
                        .children_named("unset")
                        .map(|s| Vocab::Disposition.shorten(&s.text))
                        .collect(),
                };
                // One that sets and unsets nothing says nothing (and is not written).
                event.persistent_disposition = pd.says_something().then_some(pd)
            }
            "readPoint" => event.read_point = Some(self.location(name, f)?),
            "bizLocation" => event.biz_location = Some(self.location(name, f)?),
            "bizTransactionList" => {
                for (i, bt) in f.children_named("bizTransaction").enumerate() {
                    event.biz_transaction_list.push(BizTransaction {
                        kind: bt
                            .attribute("type")
                            .map(|t| Vocab::BizTransactionType.shorten(t)),
                        id: self.epc(&format!("bizTransactionList[{i}]"), bt)?,
                    });
                }
            }
            "sourceList" => event.source_list = self.parties(name, "source", f)?,
            "destinationList" => event.destination_list = self.parties(name, "destination", f)?,
            "sensorElementList" => {
                event.sensor_element_list = f
                    .children_named("sensorElement")
                    .map(sensor_element)
                    .collect()
            }
            "ilmd" => {
                for c in &f.children {
                    event.ilmd.insert(c.name.clone(), element_value(c));
                }
            }
            other if other.contains(':') => {
                event.extensions.insert(other.to_owned(), element_value(f));
            }
            other => {
                return Err(self.err(
                    other,
                    "unknown element (extensions need a namespace prefix)".into(),
                ));
            }
        }
        Ok(())
    }
}

struct Writer {
    out: String,
    depth: usize,
}

impl Writer {
    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }
    fn leaf(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        for (k, v) in attrs {
            self.out.push_str(&format!(" {k}=\"{}\"", escape(v)));
        }
        self.out.push_str(&format!(">{}</{name}>\n", escape(text)));
    }
    fn open(&mut self, name: &str) {
        self.indent();
        self.out.push_str(&format!("<{name}>\n"));
        self.depth += 1;
    }
    fn close(&mut self, name: &str) {
        self.depth -= 1;
        self.indent();
        self.out.push_str(&format!("</{name}>\n"));
    }
    fn value(&mut self, name: &str, v: &Value) {
        match v {
            Value::Array(items) => items.iter().for_each(|i| self.value(name, i)),
            Value::Object(map) => {
                self.open(name);
                for (k, v) in map {
                    self.value(k, v);
                }
                self.close(name);
            }
            Value::String(s) => self.leaf(name, &[], s),
            Value::Null => self.leaf(name, &[], ""),
            other => self.leaf(name, &[], &other.to_string()),
        }
    }
    fn epcs(&mut self, name: &str, list: &[String]) {
        if list.is_empty() {
            return;
        }
        self.open(name);
        for e in list {
            self.leaf("epc", &[], e);
        }
        self.close(name);
    }
    fn quantities(&mut self, name: &str, list: &[QuantityElement]) {
        if list.is_empty() {
            return;
        }
        self.open(name);
        for q in list {
            self.open("quantityElement");
            self.leaf("epcClass", &[], &q.epc_class);
            // The XSD's `uom` follows a `quantity` only: a unit of no stated quantity
            // (which the JSON-LD binding allows) is left out.
            if let Some(quantity) = q.quantity {
                self.leaf("quantity", &[], &format_quantity(quantity));
                if let Some(uom) = &q.uom {
                    self.leaf("uom", &[], uom);
                }
            }
            self.close("quantityElement");
        }
        self.close(name);
    }
    fn sensor(&mut self, v: &Value) {
        self.open("sensorElement");
        if let Value::Object(map) = v {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("sensorMetadata", Value::Object(m)) => self.attr_element(k, m),
                    ("sensorReport", Value::Array(reports)) => {
                        for r in reports {
                            if let Value::Object(m) = r {
                                self.attr_element(k, m);
                            }
                        }
                    }
                    _ => self.value(k, v),
                }
            }
        }
        self.close("sensorElement");
    }
    /// Scalars as attributes, anything else as child elements.
    fn attr_element(&mut self, name: &str, map: &Map<String, Value>) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        let mut nested = Vec::new();
        for (k, v) in map {
            match v {
                Value::String(s) => self.out.push_str(&format!(" {k}=\"{}\"", escape(s))),
                Value::Number(n) => self.out.push_str(&format!(" {k}=\"{n}\"")),
                Value::Bool(b) => self.out.push_str(&format!(" {k}=\"{b}\"")),
                _ => nested.push((k, v)),
            }
        }
        if nested.is_empty() {
            self.out.push_str("/>\n");
            return;
        }
        self.out.push_str(">\n");
        self.depth += 1;
        for (k, v) in nested {
            self.value(k, v);
        }
        self.close(name);
    }
}

fn format_quantity(q: f64) -> String {
    let text = q.to_string();
    if text.contains(['.', 'e', 'E']) || !q.is_finite() {
        text
    } else {
        format!("{text}.0")
    }
}

fn prefixes(events: &[EpcisEvent]) -> BTreeSet<String> {
    fn walk(v: &Value, out: &mut BTreeSet<String>) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    if let Some((p, _)) = k.split_once(':') {
                        out.insert(p.to_owned());
                    }
                    walk(v, out);
                }
            }
            Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    for e in events {
        for (k, v) in e.extensions.iter().chain(&e.ilmd) {
            if let Some((p, _)) = k.split_once(':') {
                out.insert(p.to_owned());
            }
            walk(v, &mut out);
        }
        for s in &e.sensor_element_list {
            walk(s, &mut out);
        }
    }
    out
}

/// An `epcis:EPCISDocument` holding `events`. `creation_date` is passed in.
pub fn document(
    events: &[EpcisEvent],
    namespaces: &BTreeMap<String, String>,
    creation_date: Timestamp,
) -> String {
    let mut w = Writer {
        out: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"),
        depth: 0,
    };
    let declared = declared_namespaces(events, namespaces);
    w.out
        .push_str(&format!("<epcis:EPCISDocument xmlns:epcis=\"{NAMESPACE}\""));
    for (p, u) in &declared {
        w.out.push_str(&format!(" xmlns:{p}=\"{}\"", escape(u)));
    }
    w.out.push_str(&format!(
        " schemaVersion=\"2.0\" creationDate=\"{creation_date}\">\n"
    ));
    w.depth = 1;
    w.open("EPCISBody");
    w.open("EventList");
    for e in events {
        w.event(e);
    }
    w.close("EventList");
    w.close("EPCISBody");
    w.out.push_str("</epcis:EPCISDocument>\n");
    w.out
}

/// The namespaces the document declares: the given ones (not `epcis` or the default), then a
/// made-up URN for every other prefix the events use.
fn declared_namespaces(
    events: &[EpcisEvent],
    namespaces: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut declared: BTreeMap<String, String> = namespaces
        .iter()
        .filter(|(p, _)| !p.is_empty() && p.as_str() != "epcis")
        .map(|(p, u)| (p.clone(), u.clone()))
        .collect();
    for p in prefixes(events) {
        if p != "epcis" && !p.is_empty() && !p.contains(['<', '>', '"', ' ']) {
            declared
                .entry(p.clone())
                .or_insert_with(|| format!("urn:mixplane:ns:{p}"));
        }
    }
    declared
}

impl Writer {
    /// One event element with its fields in the EPCIS 2.0 schema order.
    fn event(&mut self, e: &EpcisEvent) {
        let tag = e.event_type.as_str();
        self.open(tag);
        self.leaf("eventTime", &[], &e.event_time.to_string());
        if let Some(t) = e.record_time {
            self.leaf("recordTime", &[], &t.to_string());
        }
        self.leaf(
            "eventTimeZoneOffset",
            &[],
            super::json::schema_offset(&e.event_time_zone_offset),
        );
        self.leaf("eventID", &[], &e.event_id);
        if let Some(d) = &e.error_declaration {
            self.error_declaration(d);
        }
        if let Some(c) = &e.certification_info {
            self.leaf("certificationInfo", &[], c);
        }
        // The type's own elements in its XSD sequence (the one the conformance check holds
        // captures to), then the extensions.
        for &name in super::conformance::type_sequence(tag) {
            self.field(e, name);
        }
        for (k, v) in &e.extensions {
            self.value(k, v);
        }
        self.close(tag);
    }

    /// The element `name` of `e`, if `e` has it.
    fn field(&mut self, e: &EpcisEvent, name: &str) {
        match name {
            "parentID" => {
                if let Some(p) = &e.parent_id {
                    self.leaf("parentID", &[], p);
                }
            }
            "epcList" => self.epcs(name, &e.epc_list),
            "childEPCs" => self.epcs(name, &e.child_epcs),
            "inputEPCList" => self.epcs(name, &e.input_epc_list),
            "outputEPCList" => self.epcs(name, &e.output_epc_list),
            "quantityList" => self.quantities(name, &e.quantity_list),
            "childQuantityList" => self.quantities(name, &e.child_quantity_list),
            "inputQuantityList" => self.quantities(name, &e.input_quantity_list),
            "outputQuantityList" => self.quantities(name, &e.output_quantity_list),
            "transformationID" => {
                if let Some(t) = &e.transformation_id {
                    self.leaf(name, &[], t);
                }
            }
            "action" => {
                if let Some(a) = e.action {
                    self.leaf(name, &[], a.as_str());
                }
            }
            "bizStep" => {
                if let Some(s) = &e.biz_step {
                    self.leaf(name, &[], &Vocab::BizStep.to_urn(s));
                }
            }
            "disposition" => {
                if let Some(d) = &e.disposition {
                    self.leaf(name, &[], &Vocab::Disposition.to_urn(d));
                }
            }
            "readPoint" | "bizLocation" => {
                let place = if name == "readPoint" {
                    &e.read_point
                } else {
                    &e.biz_location
                };
                if let Some(id) = place {
                    self.open(name);
                    self.leaf("id", &[], id);
                    self.close(name);
                }
            }
            "bizTransactionList" => self.biz_transactions(&e.biz_transaction_list),
            "sourceList" | "destinationList" => {
                let (list, inner) = if name == "sourceList" {
                    (&e.source_list, "source")
                } else {
                    (&e.destination_list, "destination")
                };
                if !list.is_empty() {
                    self.open(name);
                    for p in list {
                        let kind = Vocab::SourceDestType.to_urn(&p.kind);
                        self.leaf(inner, &[("type", &kind)], &p.id);
                    }
                    self.close(name);
                }
            }
            "sensorElementList" if !e.sensor_element_list.is_empty() => {
                self.open(name);
                for s in &e.sensor_element_list {
                    self.sensor(s);
                }
                self.close(name);
            }
            "persistentDisposition" => {
                if let Some(pd) = &e.persistent_disposition {
                    self.open(name);
                    for s in &pd.set {
                        self.leaf("set", &[], &Vocab::Disposition.to_urn(s));
                    }
                    for s in &pd.unset {
                        self.leaf("unset", &[], &Vocab::Disposition.to_urn(s));
                    }
                    self.close(name);
                }
            }
            "ilmd" if !e.ilmd.is_empty() => {
                self.open(name);
                for (k, v) in &e.ilmd {
                    self.value(k, v);
                }
                self.close(name);
            }
            // `extension` is 1.x's wrapper: 2.0 writes extensions as elements of their own.
            _ => {}
        }
    }

    fn error_declaration(&mut self, d: &ErrorDeclaration) {
        self.open("errorDeclaration");
        self.leaf("declarationTime", &[], &d.declaration_time.to_string());
        if let Some(r) = &d.reason {
            self.leaf("reason", &[], &Vocab::ErrorReason.to_urn(r));
        }
        if !d.corrective_event_ids.is_empty() {
            self.open("correctiveEventIDs");
            for c in &d.corrective_event_ids {
                self.leaf("correctiveEventID", &[], c);
            }
            self.close("correctiveEventIDs");
        }
        self.close("errorDeclaration");
    }

    fn biz_transactions(&mut self, list: &[BizTransaction]) {
        if list.is_empty() {
            return;
        }
        self.open("bizTransactionList");
        for bt in list {
            let kind = bt
                .kind
                .as_deref()
                .map(|k| Vocab::BizTransactionType.to_urn(k));
            match &kind {
                Some(k) => self.leaf("bizTransaction", &[("type", k)], &bt.id),
                None => self.leaf("bizTransaction", &[], &bt.id),
            }
        }
        self.close("bizTransactionList");
    }
}
