//! `value-format`: values held to the schemas' types and patterns.

use super::*;

/// The identifier fields the JSON schema types as `"format": "uri"` (single values).
pub(super) const URI_FIELDS: [&str; 4] = [
    "eventID",
    "parentID",
    "transformationID",
    "certificationInfo",
];
/// The lists of identifiers the JSON schema types as URIs.
pub(super) const URI_LISTS: [&str; 4] = ["epcList", "childEPCs", "inputEPCList", "outputEPCList"];

/// `value-format` (JSON-LD): the JSON schema's patterns and formats on the event's values.
pub(super) fn formats_json(at: &EventAt<'_>, event: &Value) -> Result<(), Violation> {
    if let Some(offset) = event["eventTimeZoneOffset"].as_str()
        && !schema_offset(offset.as_bytes())
    {
        return Err(malformed(
            at,
            "eventTimeZoneOffset",
            offset,
            "a UTC offset ±hh:mm from -14:00 to +14:00",
        ));
    }
    for (field, value) in [
        ("eventTime", &event["eventTime"]),
        ("recordTime", &event["recordTime"]),
        (
            "errorDeclaration.declarationTime",
            &event["errorDeclaration"]["declarationTime"],
        ),
    ] {
        if let Some(text) = value.as_str()
            && !rfc3339_date_time(text)
        {
            return Err(malformed(
                at,
                field,
                text,
                "an RFC 3339 date-time such as 2026-03-02T06:00:00Z",
            ));
        }
    }
    let uri = |field: String, value: &Value| match value.as_str() {
        Some(text) if !is_uri(text) => Err(malformed(
            at,
            &field,
            text,
            "a URI (a scheme such as `urn:` or `https:`, then no spaces)",
        )),
        _ => Ok(()),
    };
    for field in URI_FIELDS {
        uri(field.into(), &event[field])?;
    }
    for (i, id) in event["certificationInfo"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        uri(format!("certificationInfo[{i}]"), id)?;
    }
    for list in URI_LISTS {
        for (i, id) in event[list].as_array().into_iter().flatten().enumerate() {
            uri(format!("{list}[{i}]"), id)?;
        }
    }
    for list in QUANTITY_LISTS {
        for (i, element) in event[list].as_array().into_iter().flatten().enumerate() {
            uri(format!("{list}[{i}].epcClass"), &element["epcClass"])?;
        }
    }
    for field in ["readPoint", "bizLocation"] {
        uri(format!("{field}.id"), &event[field]["id"])?;
    }
    for (list, key) in [
        ("bizTransactionList", "bizTransaction"),
        ("sourceList", "source"),
        ("destinationList", "destination"),
    ] {
        for (i, element) in event[list].as_array().into_iter().flatten().enumerate() {
            uri(format!("{list}[{i}].{key}"), &element[key])?;
        }
    }
    // The CBV's terms of the three vocabularies, or a URI of another.
    let mut typed: Vec<(&Terms, String, &str)> = Vec::new();
    for (list, terms) in [
        ("bizTransactionList", &BIZ_TRANSACTION_TYPE),
        ("sourceList", &SOURCE_DEST_TYPE),
        ("destinationList", &SOURCE_DEST_TYPE),
    ] {
        for (i, element) in event[list].as_array().into_iter().flatten().enumerate() {
            if let Some(kind) = element["type"].as_str() {
                typed.push((terms, format!("{list}[{i}].type"), kind));
            }
        }
    }
    if let Some(reason) = event["errorDeclaration"]["reason"].as_str() {
        typed.push((&ERROR_REASON, "errorDeclaration.reason".into(), reason));
    }
    for (terms, field, value) in typed {
        at.term(terms, &field, value)?;
        if value.contains(':') {
            uri(field, &Value::from(value))?;
        }
    }
    for (i, id) in event["errorDeclaration"]["correctiveEventIDs"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        uri(format!("errorDeclaration.correctiveEventIDs[{i}]"), id)?;
    }
    sensor_formats_json(at, event)
}

/// The sensor metadata fields the JSON schema types as date-times and as URIs.
pub(super) const SENSOR_METADATA_TIMES: [&str; 3] = ["time", "startTime", "endTime"];
pub(super) const SENSOR_URIS: [&str; 5] = [
    "deviceID",
    "deviceMetadata",
    "rawData",
    "dataProcessingMethod",
    "bizRules",
];
/// The sensor report fields the JSON schema types as URIs beyond [`SENSOR_URIS`], and as
/// numbers (`decimal`); the XSD types the numbers `xsd:double`.
pub(super) const SENSOR_REPORT_URIS: [&str; 4] = [
    "microorganism",
    "chemicalSubstance",
    "coordinateReferenceSystem",
    "uriValue",
];

/// `value-format` on sensor elements (JSON-LD): the types `event-definitions-JSON-Schema.json`
/// gives `sensorMetadata` and `sensorReport` fields.
pub(super) fn sensor_formats_json(at: &EventAt<'_>, event: &Value) -> Result<(), Violation> {
    let wrong = |field: String, value: &Value, expected: &str| {
        let text = value
            .as_str()
            .map_or_else(|| value.to_string(), str::to_owned);
        Err(malformed(at, &field, &text, expected))
    };
    let uri = |field: String, value: &Value| match value.as_str() {
        Some(text) if is_uri(text) => Ok(()),
        _ => wrong(
            field,
            value,
            "a URI (a scheme such as `urn:` or `https:`, then no spaces)",
        ),
    };
    let time = |field: String, value: &Value| match value.as_str() {
        Some(text) if rfc3339_date_time(text) => Ok(()),
        _ => wrong(
            field,
            value,
            "an RFC 3339 date-time such as 2026-03-02T06:00:00Z",
        ),
    };
    for (i, element) in event["sensorElementList"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let metadata = &element["sensorMetadata"];
        for key in SENSOR_METADATA_TIMES {
            if let Some(v) = metadata.get(key) {
                time(format!("sensorElementList[{i}].sensorMetadata.{key}"), v)?;
            }
        }
        for key in SENSOR_URIS {
            if let Some(v) = metadata.get(key) {
                uri(format!("sensorElementList[{i}].sensorMetadata.{key}"), v)?;
            }
        }
        for (j, report) in element["sensorReport"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let field = |key: &str| format!("sensorElementList[{i}].sensorReport[{j}].{key}");
            if let Some(v) = report.get("time") {
                time(field("time"), v)?;
            }
            for key in SENSOR_URIS.iter().chain(&SENSOR_REPORT_URIS) {
                if let Some(v) = report.get(*key) {
                    uri(field(key), v)?;
                }
            }
            for key in crate::epcis::SENSOR_NUMBERS {
                if let Some(v) = report.get(key)
                    && !v.is_number()
                {
                    wrong(field(key), v, "a number")?;
                }
            }
            if let Some(v) = report.get("booleanValue")
                && !v.is_boolean()
            {
                wrong(field("booleanValue"), v, "true or false")?;
            }
            if let Some(v) = report.get("hexBinaryValue")
                && !v
                    .as_str()
                    .is_some_and(|t| !t.is_empty() && t.bytes().all(|c| c.is_ascii_hexdigit()))
            {
                wrong(field("hexBinaryValue"), v, "hexadecimal digits")?;
            }
            for key in ["stringValue", "uom"] {
                if let Some(v) = report.get(key)
                    && !v.is_string()
                {
                    wrong(field(key), v, "a string")?;
                }
            }
        }
    }
    Ok(())
}

/// `value-format` (XML): the XSD's `DateTimeStamp` pattern on the event's times and
/// `xsd:decimal` on quantities.
pub(super) fn formats_xml(at: &EventAt<'_>, fields: &[&Element]) -> Result<(), Violation> {
    for f in fields {
        let name = f.name.as_str();
        let time = match name {
            "eventTime" | "recordTime" => Some((name.to_owned(), f.text.trim())),
            "errorDeclaration" => f
                .child("declarationTime")
                .map(|t| ("errorDeclaration.declarationTime".to_owned(), t.text.trim())),
            _ => None,
        };
        if let Some((field, text)) = time
            && !xsd_date_time(text.as_bytes())
        {
            return Err(malformed(
                at,
                &field,
                text,
                "an XSD DateTimeStamp such as 2026-03-02T06:00:00Z (offset -14:00 to +14:00)",
            ));
        }
        if name == "sensorElementList" {
            sensor_formats_xml(at, f)?;
        }
        if QUANTITY_LISTS.contains(&name) {
            for (i, element) in f.children_named("quantityElement").enumerate() {
                if let Some(q) = element.child("quantity")
                    && !q.text.trim().is_empty()
                    && !xsd_decimal(q.text.trim().as_bytes())
                {
                    return Err(malformed(
                        at,
                        &format!("{name}[{i}].quantity"),
                        q.text.trim(),
                        "an xsd:decimal such as 12.5",
                    ));
                }
            }
        }
    }
    Ok(())
}

/// The attributes of one type, how to tell a value of it, and what it looks like.
type AttributeCheck<'a> = (&'a [&'a str], fn(&[u8]) -> bool, &'a str);

/// `value-format` on sensor elements (XML): the XSD's attribute types on `sensorMetadata`
/// and `sensorReport` (`DateTimeStamp` times, `xsd:double` numbers, `xsd:boolean`,
/// `xsd:hexBinary`).
pub(super) fn sensor_formats_xml(at: &EventAt<'_>, list: &Element) -> Result<(), Violation> {
    for (i, element) in list.children_named("sensorElement").enumerate() {
        if let Some(metadata) = element.child("sensorMetadata") {
            for key in SENSOR_METADATA_TIMES {
                if let Some(text) = metadata.attribute(key)
                    && !xsd_date_time(text.trim().as_bytes())
                {
                    return Err(malformed(
                        at,
                        &format!("sensorElementList[{i}].sensorMetadata.{key}"),
                        text,
                        "an XSD DateTimeStamp such as 2026-03-02T06:00:00Z",
                    ));
                }
            }
        }
        for (j, report) in element.children_named("sensorReport").enumerate() {
            let field = |key: &str| format!("sensorElementList[{i}].sensorReport[{j}].{key}");
            let checks: [AttributeCheck<'_>; 4] = [
                (
                    &["time"],
                    xsd_date_time,
                    "an XSD DateTimeStamp such as 2026-03-02T06:00:00Z",
                ),
                (
                    &crate::epcis::SENSOR_NUMBERS,
                    xsd_double,
                    "an xsd:double such as 26.5 or 1.2E3",
                ),
                (&["booleanValue"], xsd_boolean, "true, false, 1 or 0"),
                (
                    &["hexBinaryValue"],
                    xsd_hex_binary,
                    "pairs of hexadecimal digits",
                ),
            ];
            for (keys, valid, expected) in checks {
                for key in keys {
                    if let Some(text) = report.attribute(key)
                        && !valid(text.trim().as_bytes())
                    {
                        return Err(malformed(at, &field(key), text, expected));
                    }
                }
            }
        }
    }
    Ok(())
}
