//! The borrowed records an `EPCISDocument` is deserialised into: strings that point into the
//! text unless they hold escapes, and one record per JSON object the fast path reads, each
//! marking what it does not know so the full reader decides. What a record does not read is
//! skipped by the `skip` module, told how deep the record sits.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};

use super::skip::{AnyArray, AnyObject, AnyStr, Skip};
use crate::limits::MAX_TEXT_BYTES;

/// A string of the text: borrowed, or owned when it held escapes; at most
/// [`MAX_TEXT_BYTES`] (a longer one goes to the full reader, which refuses it by name).
pub(super) struct Str<'a>(Cow<'a, str>);

pub(super) fn bounded<E: de::Error>(v: &str) -> Result<(), E> {
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

/// How many arrays and objects enclose a member of each record (the document is the first),
/// which [`Skip`] needs to hold what it skips to the depth bound counted from the root.
/// Each record is read at one place only: a member of the document, of its body, of an
/// event (document, body, event list, event), of an object in an event (`readPoint`,
/// `ilmd` …) or of an element of a list in an event (a quantity, a transaction, a party).
const IN_DOCUMENT: usize = 1;
const IN_BODY: usize = 2;
const IN_EVENT: usize = 4;
const IN_EVENT_OBJECT: usize = IN_EVENT + 1;
const IN_EVENT_LIST_ELEMENT: usize = IN_EVENT + 2;

#[derive(Default)]
pub(super) struct RawDocument<'a> {
    pub(super) kind: Option<Cow<'a, str>>,
    pub(super) events: Option<Vec<RawEvent<'a>>>,
}

json_object!(RawDocument, "an EPCIS document", Str, |map, key, out| {
    match key.as_ref() {
        "type" => out.kind = Some(map.next_value::<Str<'_>>()?.0),
        "epcisBody" => out.events = map.next_value::<RawBody<'_>>()?.events,
        _ => {
            map.next_value::<Skip<IN_DOCUMENT>>()?;
        }
    }
});

#[derive(Default)]
pub(super) struct RawBody<'a> {
    pub(super) events: Option<Vec<RawEvent<'a>>>,
}

json_object!(RawBody, "an EPCIS body", Str, |map, key, out| {
    match key.as_ref() {
        "eventList" => out.events = Some(map.next_value()?),
        _ => {
            map.next_value::<Skip<IN_BODY>>()?;
        }
    }
});

#[derive(Default)]
pub(super) struct RawQuantity<'a> {
    pub(super) class: Option<Cow<'a, str>>,
    pub(super) quantity: Option<f64>,
    pub(super) uom: Option<Cow<'a, str>>,
}

json_object!(RawQuantity, "a quantity element", Str, |map, key, out| {
    match key.as_ref() {
        "epcClass" => out.class = Some(map.next_value::<Str<'_>>()?.0),
        "quantity" => out.quantity = map.next_value::<Option<f64>>()?,
        "uom" => out.uom = map.next_value::<Option<Str<'_>>>()?.map(|s| s.0),
        _ => {
            map.next_value::<Skip<IN_EVENT_LIST_ELEMENT>>()?;
        }
    }
});

/// `readPoint`, `bizLocation`.
#[derive(Default)]
pub(super) struct RawLocation<'a> {
    pub(super) id: Option<Cow<'a, str>>,
}

json_object!(RawLocation, "a location", Str, |map, key, out| {
    match key.as_ref() {
        "id" => out.id = Some(map.next_value::<Str<'_>>()?.0),
        _ => {
            map.next_value::<Skip<IN_EVENT_OBJECT>>()?;
        }
    }
});

#[derive(Default)]
pub(super) struct RawTransaction<'a> {
    pub(super) kind: Option<Cow<'a, str>>,
    pub(super) id: Option<Cow<'a, str>>,
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
                map.next_value::<Skip<IN_EVENT_LIST_ELEMENT>>()?;
            }
        }
    }
);

/// A source or destination; which of the two keys counts depends on the list.
#[derive(Default)]
pub(super) struct RawParty<'a> {
    pub(super) kind: Option<Cow<'a, str>>,
    pub(super) source: Option<Cow<'a, str>>,
    pub(super) destination: Option<Cow<'a, str>>,
}

json_object!(RawParty, "a source or destination", Str, |map, key, out| {
    match key.as_ref() {
        "type" => out.kind = Some(map.next_value::<Str<'_>>()?.0),
        "source" => out.source = Some(map.next_value::<Str<'_>>()?.0),
        "destination" => out.destination = Some(map.next_value::<Str<'_>>()?.0),
        _ => {
            map.next_value::<Skip<IN_EVENT_LIST_ELEMENT>>()?;
        }
    }
});

#[derive(Default)]
pub(super) struct RawPersistent<'a> {
    pub(super) set: Vec<Cow<'a, str>>,
    pub(super) unset: Vec<Cow<'a, str>>,
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
                map.next_value::<Skip<IN_EVENT_OBJECT>>()?;
            }
        }
    }
);

#[derive(Default)]
pub(super) struct RawErrorDeclaration<'a> {
    pub(super) time: Option<Cow<'a, str>>,
}

json_object!(
    RawErrorDeclaration,
    "an error declaration",
    Str,
    |map, key, out| {
        match key.as_ref() {
            "declarationTime" => out.time = Some(map.next_value::<Str<'_>>()?.0),
            "reason" => {
                map.next_value::<AnyStr>()?;
            }
            "correctiveEventIDs" => {
                map.next_value::<Vec<AnyStr>>()?;
            }
            _ => {
                map.next_value::<Skip<IN_EVENT_OBJECT>>()?;
            }
        }
    }
);

fn strings(list: Vec<Str<'_>>) -> Vec<Cow<'_, str>> {
    list.into_iter().map(|s| s.0).collect()
}

/// One event as written, identifiers not yet normalised.
#[derive(Default)]
pub(super) struct RawEvent<'a> {
    pub(super) kind: Option<Cow<'a, str>>,
    pub(super) id: Option<Cow<'a, str>>,
    pub(super) time: Option<Cow<'a, str>>,
    pub(super) offset: Option<Cow<'a, str>>,
    pub(super) record_time: Option<Cow<'a, str>>,
    pub(super) action: Option<Cow<'a, str>>,
    pub(super) parent: Option<Cow<'a, str>>,
    pub(super) epcs: Vec<Cow<'a, str>>,
    pub(super) children: Vec<Cow<'a, str>>,
    pub(super) inputs: Vec<Cow<'a, str>>,
    pub(super) outputs: Vec<Cow<'a, str>>,
    pub(super) quantities: Vec<RawQuantity<'a>>,
    pub(super) child_quantities: Vec<RawQuantity<'a>>,
    pub(super) input_quantities: Vec<RawQuantity<'a>>,
    pub(super) output_quantities: Vec<RawQuantity<'a>>,
    pub(super) transformation_id: Option<Cow<'a, str>>,
    pub(super) biz_step: Option<Cow<'a, str>>,
    pub(super) disposition: Option<Cow<'a, str>>,
    pub(super) persistent: Option<RawPersistent<'a>>,
    pub(super) read_point: Option<RawLocation<'a>>,
    pub(super) biz_location: Option<RawLocation<'a>>,
    pub(super) transactions: Vec<RawTransaction<'a>>,
    pub(super) sources: Vec<RawParty<'a>>,
    pub(super) destinations: Vec<RawParty<'a>>,
    pub(super) error: Option<RawErrorDeclaration<'a>>,
    /// A field the fast path does not know (and that needs no prefix): the full reader decides.
    pub(super) unknown: bool,
}

json_object!(RawEvent, "an event", Str, |map, key, out| {
    match key.as_ref() {
        "type" => out.kind = Some(map.next_value::<Str<'_>>()?.0),
        "eventID" => out.id = Some(map.next_value::<Str<'_>>()?.0),
        "eventTime" => out.time = Some(map.next_value::<Str<'_>>()?.0),
        "eventTimeZoneOffset" => out.offset = Some(map.next_value::<Str<'_>>()?.0),
        "recordTime" => out.record_time = Some(map.next_value::<Str<'_>>()?.0),
        "certificationInfo" => {
            map.next_value::<AnyStr>()?;
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
            map.next_value::<AnyArray<IN_EVENT>>()?;
        }
        "ilmd" => {
            map.next_value::<AnyObject<IN_EVENT>>()?;
        }
        "@context" => {
            map.next_value::<Skip<IN_EVENT>>()?;
        }
        other => {
            if !other.contains(':') {
                out.unknown = true;
            }
            map.next_value::<Skip<IN_EVENT>>()?;
        }
    }
});
