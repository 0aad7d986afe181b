//! What the route table does not say about an operation's bodies: the media types it reads
//! and answers besides JSON (CSV, XML, JSON-LD, HTML), and examples of the main requests.
//! Keyed by operation id; `tests/openapi.rs` checks that every key names an operation and
//! sends every example of an operation without path parameters to a server.

use serde_json::{Value, json};

/// A media type and the schema of its bodies.
pub struct Media {
    pub media_type: &'static str,
    /// `None`: the operation's own schema (the route table's request or response).
    pub schema: Option<fn() -> Value>,
    pub description: &'static str,
}

const fn own(media_type: &'static str, description: &'static str) -> Media {
    Media {
        media_type,
        schema: None,
        description,
    }
}

const fn text(media_type: &'static str, description: &'static str) -> Media {
    Media {
        media_type,
        schema: Some(|| json!({ "type": "string" })),
        description,
    }
}

/// A document sent as the bytes of its file (`application/octet-stream`), for clients that
/// upload files rather than text of a named type.
const fn file(description: &'static str) -> Media {
    Media {
        media_type: "application/octet-stream",
        schema: Some(|| json!({ "type": "string", "format": "binary" })),
        description,
    }
}

const fn epcis(media_type: &'static str, description: &'static str) -> Media {
    Media {
        media_type,
        schema: Some(|| json!({ "type": "object", "required": ["type"] })),
        description,
    }
}

/// The media types of the success answer of `operation_id`; JSON of the route table's schema
/// when it is not listed.
pub fn responses(operation_id: &str) -> &'static [Media] {
    const RECALL: &[Media] = &[
        own("application/json", "`format=json` (the default)"),
        text(
            "text/csv",
            "`format=csv`: one line per affected item, with a header line",
        ),
        epcis(
            "application/ld+json",
            "`format=epcis`: the recall as an EPCIS 2.0 EPCISDocument",
        ),
    ];
    const EPCIS_EVENTS: &[Media] = &[
        epcis(
            "application/ld+json",
            "An EPCIS 2.0 EPCISQueryDocument (the default)",
        ),
        text(
            "application/xml",
            "The same as EPCIS 2.0 XML, for `Accept: application/xml`",
        ),
    ];
    const DOCS: &[Media] = &[text("text/html", "The API reference page")];
    const METRICS: &[Media] = &[text(
        "text/plain",
        "The Prometheus text exposition format, version 0.0.4",
    )];
    const B2MML_SCHEDULE: &[Media] = &[text(
        "application/xml",
        "A B2MML V0700 SyncOperationsSchedule (namespace `http://www.mesa.org/xml/B2MML`)",
    )];
    match operation_id {
        "traceRecall" | "traceRecallRequest" => RECALL,
        "epcisEvents" => EPCIS_EVENTS,
        "apiDocs" => DOCS,
        "metrics" => METRICS,
        "exportB2mmlSchedule" => B2MML_SCHEDULE,
        _ => &[],
    }
}

/// The media types of the request body of `operation_id`; JSON of the route table's schema
/// when it is not listed.
pub fn requests(operation_id: &str) -> &'static [Media] {
    const CAPTURE: &[Media] = &[
        epcis("application/ld+json", "An EPCIS 2.0 EPCISDocument, JSON-LD"),
        epcis("application/json", "The same, said to be JSON"),
        text("application/xml", "An EPCIS 2.0 EPCISDocument, XML"),
    ];
    const IMPORT: &[Media] = &[
        epcis(
            "application/ld+json",
            "An EPCIS 2.0 document, JSON-LD (the format is read from the body)",
        ),
        own(
            "application/json",
            "EPCIS JSON-LD, or the plant's own events (`[…]` or `{\"events\": […]}`)",
        ),
        text(
            "application/xml",
            "EPCIS 2.0 XML, or B2MML MaterialActual (V0401, V0600, V0700)",
        ),
    ];
    const B2MML_SCHEDULE: &[Media] = &[
        text(
            "application/xml",
            "A B2MML ProductionSchedule (V0401, V0600) or OperationsSchedule (V0600, V0700), alone or in a BOD (`SyncProductionSchedule`, `ProcessOperationsSchedule`, …)",
        ),
        file("The same document as the bytes of its file"),
    ];
    const BATCHML_RECIPE: &[Media] = &[
        text(
            "application/xml",
            "A BatchML master recipe (V02, V0401, V0600, V0700), alone or in `BatchInformation`",
        ),
        file("The same document as the bytes of its file"),
    ];
    match operation_id {
        "epcisCapture" => CAPTURE,
        "traceImport" => IMPORT,
        "importB2mmlSchedule" => B2MML_SCHEDULE,
        "readBatchmlRecipe" => BATCHML_RECIPE,
        _ => &[],
    }
}

/// An example request body of `operation_id`, for the main requests.
pub fn request_example(operation_id: &str) -> Option<Value> {
    Some(match operation_id {
        "ingestEvents" => json!([
            {
                "id": "mes-4711",
                "time": "2026-03-02T06:00:00Z",
                "source": "mes",
                "type": "equipment_state_changed",
                "unit": "R-101",
                "state": "idle"
            }
        ]),
        "analyzeSpc" => json!({
            "chart": "imr",
            "data": { "values": [10.1, 9.8, 10.3, 10.0, 9.9, 10.2, 10.4, 9.7] }
        }),
        "epcisCapture" | "traceImport" => json!({
            "@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"],
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": "2026-03-02T08:00:00Z",
            "epcisBody": {
                "eventList": [{
                    "type": "ObjectEvent",
                    "eventID": "urn:uuid:6f1c2a4e-0d3b-4c55-9a21-2b7e8f9d0c11",
                    "action": "OBSERVE",
                    "bizStep": "shipping",
                    "disposition": "in_transit",
                    "epcList": ["urn:epc:id:sgtin:4012345.011111.1001"],
                    "eventTime": "2026-03-02T07:45:00Z",
                    "eventTimeZoneOffset": "+00:00",
                    "readPoint": { "id": "urn:epc:id:sgln:4012345.00001.0" }
                }]
            }
        }),
        "issueToken" => json!({
            "name": "mes-bridge",
            "role": "operator",
            "scope": "area:A-CHEM",
            "kind": "service"
        }),
        "approveProposal" => json!({ "comment": "checked against the shift plan" }),
        "rejectProposal" => json!({ "comment": "the line is needed for the rush order" }),
        "applyProposal" => json!({ "sink": "file" }),
        "traceRecallRequest" => json!({
            "unit": "R-101",
            "from": "2026-03-02T00:00:00Z",
            "to": "2026-03-03T00:00:00Z"
        }),
        _ => return None,
    })
}

/// Every operation id this module names, for the test that each is an operation.
pub const NAMED: &[&str] = &[
    "traceRecall",
    "traceRecallRequest",
    "epcisEvents",
    "apiDocs",
    "epcisCapture",
    "traceImport",
    "ingestEvents",
    "analyzeSpc",
    "issueToken",
    "approveProposal",
    "rejectProposal",
    "applyProposal",
    "exportB2mmlSchedule",
    "importB2mmlSchedule",
    "readBatchmlRecipe",
];
