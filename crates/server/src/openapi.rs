//! The OpenAPI 3.1 document, generated from the route table and the types' JSON Schemas
//! (2020-12, the dialect of OpenAPI 3.1), with the media types and examples of
//! [`crate::openapi_content`].
//!
//! Every operation declares the error answers it can give, each as `application/problem+json`
//! with the one `Problem` schema ([`crate::problem::Problem`]): which ones follow from the
//! route table (a body, parameters, path parameters, a permission that needs a token, the
//! conflicts its handler names) by the rules of [`error_responses`], so a new endpoint
//! declares them without anyone remembering to. This module only describes; what answers
//! the errors is `problem`, `limits`, `auth` and `verification`.

use schemars::Schema;
use schemars::generate::SchemaSettings;
use schemars::transform::{ReplaceBoolSchemas, Transform};
use serde_json::{Map, Value, json};

use crate::openapi_content::{self, Media};
use crate::problem::Problem;
use crate::routes::{Endpoint, Param, ParamIn, Permission};

/// The tags of the document, in the order a reader meets them, with what each groups.
const TAGS: &[(&str, &str)] = &[
    (
        "operations",
        "Liveness, this document and its reference page",
    ),
    ("plant", "The plant model and its work centers"),
    ("orders", "Production orders and their progress"),
    ("events", "The event log: batch ingest and queries"),
    (
        "connectors",
        "The connectors reading the plant's systems: health, counters, lag, dead letters",
    ),
    (
        "schedule",
        "The plan in force, the scheduling engine, what-if scenarios",
    ),
    (
        "quality",
        "SPC, alerts, holds, nonconformances and the release gate",
    ),
    (
        "trace",
        "Genealogy: import, backward and forward trace, recall, reconciliation",
    ),
    (
        "epcis",
        "The EPCIS 2.0 REST binding: capture and events query",
    ),
    (
        "isa95",
        "ISA-95 and ISA-88 documents: B2MML schedules in as orders and the plan in force out, BatchML master recipes as routings",
    ),
    (
        "governance",
        "Proposals, their decisions, the policy, pseudonyms, the audit trail",
    ),
];

/// The settings of the schemas: JSON Schema 2020-12, kept under `components/schemas`, with
/// boolean schemas written as objects (`true` as `{}`): the same in 2020-12, and what client
/// generators read where OpenAPI says Schema Object.
fn schema_settings() -> SchemaSettings {
    SchemaSettings::draft2020_12().with(|s| {
        s.definitions_path = "/components/schemas".into();
        s.meta_schema = None;
        s.transforms = vec![Box::new(objects_only())];
    })
}

fn objects_only() -> ReplaceBoolSchemas {
    let mut transform = ReplaceBoolSchemas::default();
    transform.skip_additional_properties = true;
    transform
}

/// A schema the generator answered inline (not one of the components, which its transforms
/// already went through) as a Schema Object.
fn schema_object(mut schema: Schema) -> Value {
    objects_only().transform(&mut schema);
    schema.to_value()
}

/// The Parameter Object of `p`.
fn parameter(p: &Param) -> Value {
    let mut schema = json!({ "type": p.schema_type });
    if let Some(values) = p.values {
        schema["enum"] = json!(values());
    }
    if let Some(format) = p.format {
        schema["format"] = json!(format);
    }
    let mut parameter = json!({
        "name": p.name,
        "in": match p.location { ParamIn::Path => "path", ParamIn::Query => "query" },
        "description": p.description,
        "required": p.required,
    });
    if p.list {
        // `a,b,c`: one query parameter holding a comma-separated list.
        parameter["schema"] = json!({ "type": "array", "items": schema });
        parameter["style"] = json!("form");
        parameter["explode"] = json!(false);
    } else {
        parameter["schema"] = schema;
    }
    parameter
}

/// The Media Type Objects of a body: `listed`, or JSON of `own` when none is listed.
fn content(listed: &[Media], own: &Value, example: Option<Value>) -> Value {
    let mut content = Map::new();
    if listed.is_empty() {
        content.insert("application/json".into(), json!({ "schema": own }));
    }
    for media in listed {
        let schema = media.schema.map_or_else(|| own.clone(), |schema| schema());
        let mut object = json!({ "schema": schema });
        if !media.description.is_empty() {
            object["x-description"] = json!(media.description);
        }
        content.insert(media.media_type.into(), object);
    }
    if let Some(example) = example {
        for object in content.values_mut() {
            if object["schema"]["type"] != "string" {
                object["example"] = example.clone();
            }
        }
    }
    Value::Object(content)
}

/// Builds the OpenAPI document for these endpoints.
pub fn document(endpoints: &[Endpoint]) -> Value {
    let mut generator = schema_settings().into_generator();
    let problem = generator.subschema_for::<Problem>();
    let mut paths = Map::new();
    for endpoint in endpoints {
        let mut operation = Map::new();
        operation.insert("operationId".into(), json!(endpoint.operation_id));
        operation.insert("summary".into(), json!(endpoint.summary));
        operation.insert("tags".into(), json!([endpoint.tag]));
        operation.insert(
            "x-mixplane-permission".into(),
            json!(format!("{:?}", endpoint.permission)),
        );
        if endpoint.permission != Permission::Public {
            operation.insert("security".into(), json!([{ "bearer": [] }]));
        }
        let parameters: Vec<Value> = endpoint.params.iter().map(parameter).collect();
        if !parameters.is_empty() {
            operation.insert("parameters".into(), Value::Array(parameters));
        }
        if let Some(request) = endpoint.request {
            let schema = schema_object(request(&mut generator));
            let example = openapi_content::request_example(endpoint.operation_id);
            let listed = openapi_content::requests(endpoint.operation_id);
            operation.insert(
                "requestBody".into(),
                json!({ "required": true, "content": content(listed, &schema, example) }),
            );
        }
        let response = schema_object((endpoint.response)(&mut generator));
        let listed = openapi_content::responses(endpoint.operation_id);
        let mut responses = Map::new();
        responses.insert(
            endpoint.success_status.to_string(),
            json!({
                "description": "Success",
                "content": content(listed, &response, None),
            }),
        );
        responses.extend(error_responses(endpoint, &problem));
        headers_of(endpoint, &mut operation, &mut responses, &problem);
        operation.insert("responses".into(), Value::Object(responses));
        let item = paths
            .entry(endpoint.path.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        item.as_object_mut()
            .expect("path items are objects")
            .insert(
                endpoint.method.as_str().to_ascii_lowercase(),
                Value::Object(operation),
            );
    }
    let mut schemas: Map<String, Value> = generator.take_definitions(true).into_iter().collect();
    name_tagged_variants(&mut schemas);
    if let Some(problem) = schemas.get_mut("Problem") {
        // A real one, as the server writes it.
        let example = Problem::not_found("no order `MO-999999`");
        problem["examples"] = json!([example]);
    }
    let tags: Vec<Value> = TAGS
        .iter()
        .map(|(name, description)| json!({ "name": name, "description": description }))
        .collect();
    json!({
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "mixplane",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Control plane for mixed-mode manufacturing. Times are RFC 3339 UTC; durations are minutes unless a field name says otherwise; errors are application/problem+json (RFC 9457). The reference page of this document is served at /docs."
        },
        "tags": tags,
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token from `mixplane token create`; 401 without a valid one, 403 when the token's role or scope does not permit the call."
                }
            },
        },
    })
}

/// The writes that honour `If-Match` (and answer the object's new `ETag`).
pub const CONDITIONAL_WRITES: &[&str] = &[
    "approveProposal",
    "rejectProposal",
    "applyProposal",
    "rollBackProposal",
    "releaseHold",
    "transitionNonconformance",
];

/// The reads that answer an `ETag` and honour `If-None-Match`, and the writes that create an
/// object and answer its first `ETag`.
pub const TAGGED_READS: &[&str] = &["getProposal", "getHold", "getNonconformance"];
pub const TAGGED_CREATES: &[&str] = &["placeHold", "openNonconformance"];

/// The headers of the conditional requests and of paged lists (see `crate::paging`): a
/// list's `Link` to its next page, an object's `ETag`, `If-Match` with its 412, and
/// `If-None-Match` with its 304.
fn headers_of(
    endpoint: &Endpoint,
    operation: &mut Map<String, Value>,
    responses: &mut Map<String, Value>,
    problem: &Schema,
) {
    let id = endpoint.operation_id;
    let success = endpoint.success_status.to_string();
    let mut add_header = |name: &str, description: &str| {
        if let Some(answer) = responses.get_mut(&success) {
            answer["headers"][name] =
                json!({ "description": description, "schema": { "type": "string" } });
        }
    };
    if endpoint.params.iter().any(|p| p.name == "cursor") {
        add_header(
            "Link",
            "`<path?query>; rel=\"next\"`, the same link as the answer's `next`; absent on the last page",
        );
    }
    let conditional = CONDITIONAL_WRITES.contains(&id);
    let read = TAGGED_READS.contains(&id);
    if conditional || read || TAGGED_CREATES.contains(&id) {
        add_header(
            "ETag",
            "The object's entity tag: it changes with every change of the object",
        );
    }
    let header = |name: &str, description: &str| json!({ "name": name, "in": "header", "required": false, "description": description, "schema": { "type": "string" } });
    let mut extra = Vec::new();
    if conditional {
        extra.push(header(
            "If-Match",
            "Act only if the object is still at one of these entity tags (or `*`); 412 otherwise, naming who changed it meanwhile",
        ));
        responses.insert(
            "412".into(),
            json!({
                "description": "`If-Match` named a version no longer current: the problem (`stale-version`) names who changed the object last and when (`changed`, from the audit trail) and its current tag (`current_etag`, also the `ETag` header); nothing was written",
                "content": { "application/problem+json": { "schema": problem } }
            }),
        );
    }
    if read {
        extra.push(header(
            "If-None-Match",
            "Answer 304 without a body if the object is still at one of these entity tags",
        ));
        responses.insert(
            "304".into(),
            json!({ "description": "The object is still at the entity tag `If-None-Match` named" }),
        );
    }
    if !extra.is_empty() {
        let params = operation
            .entry("parameters")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(params) = params {
            params.extend(extra);
        }
    }
}

/// Gives every variant of a union tagged by `type` (an `Event`, a `Trigger`) a component of
/// its own, named by its tag (`operation_completed` of `Event` → `OperationCompletedEvent`),
/// and the union a `discriminator` naming them: clients generated from the document then
/// have a type per variant with a name a reader knows (not `EventType4`), and generators
/// that trip over an object nested inline in a union's variant read it as any other schema.
fn name_tagged_variants(schemas: &mut Map<String, Value>) {
    let unions: Vec<String> = schemas.keys().cloned().collect();
    for union in unions {
        let Some(variants) = schemas[&union]["oneOf"].as_array() else {
            continue;
        };
        let tags: Option<Vec<String>> = variants
            .iter()
            .map(|v| v["properties"]["type"]["const"].as_str().map(str::to_owned))
            .collect();
        let Some(tags) = tags else { continue };
        let names: Vec<String> = tags
            .iter()
            .map(|tag| {
                let words = tag.split('_').map(|word| {
                    let mut chars = word.chars();
                    chars.next().map_or(String::new(), |first| {
                        first.to_ascii_uppercase().to_string() + chars.as_str()
                    })
                });
                words.collect::<String>() + &union
            })
            .collect();
        if names.iter().any(|name| schemas.contains_key(name)) {
            continue; // a name taken: left inline rather than overwrite
        }
        let variants = schemas[&union]["oneOf"].take();
        let mut mapping = Map::new();
        let mut refs = Vec::new();
        for ((tag, name), variant) in tags.iter().zip(&names).zip(variants.as_array().unwrap()) {
            let reference = format!("#/components/schemas/{name}");
            schemas.insert(name.clone(), variant.clone());
            mapping.insert(tag.clone(), json!(reference));
            refs.push(json!({ "$ref": reference }));
        }
        schemas[&union]["oneOf"] = Value::Array(refs);
        schemas[&union]["discriminator"] = json!({ "propertyName": "type", "mapping": mapping });
    }
}

/// Endpoints without a path parameter that answer 404 all the same (nothing to show yet).
pub const ANSWERS_NOT_FOUND: &[&str] = &["getSchedule"];

/// The error answers `endpoint` can give, by status (and `default` for the rare rest), each
/// a problem of the schema `problem`.
fn error_responses(endpoint: &Endpoint, problem: &Schema) -> Map<String, Value> {
    let takes_body = endpoint.request.is_some();
    let takes_input = takes_body || !endpoint.params.is_empty();
    let has_path_params = endpoint
        .params
        .iter()
        .any(|p| matches!(p.location, ParamIn::Path));
    let needs_token = endpoint.permission != Permission::Public;
    let retry_after = json!({
        "Retry-After": {
            "description": "Seconds after which the request may be tried again",
            "schema": { "type": "integer", "minimum": 1 }
        }
    });
    let mut answers: Vec<(&str, String, Option<Value>)> = Vec::new();
    if takes_input {
        answers.push((
            "400",
            "The body is not JSON, or a parameter does not parse; the detail names it".into(),
            None,
        ));
    }
    if needs_token {
        answers.push((
            "401",
            "No token, or one that is unknown, revoked or wrong (with a `WWW-Authenticate` challenge)".into(),
            Some(json!({
                "WWW-Authenticate": {
                    "description": "`Bearer realm=\"mixplane\"`",
                    "schema": { "type": "string" }
                }
            })),
        ));
        answers.push((
            "403",
            "The token's role or scope does not permit this call or this object".into(),
            None,
        ));
    }
    if has_path_params || ANSWERS_NOT_FOUND.contains(&endpoint.operation_id) {
        answers.push((
            "404",
            "Nothing of that id, or nothing the caller's scope reaches".into(),
            None,
        ));
    }
    answers.push((
        "408",
        "The request was not answered within the request deadline (`request_timeout_seconds`); it was stopped".into(),
        None,
    ));
    if !endpoint.conflicts.is_empty() {
        answers.push((
            "409",
            format!(
                "What the request acts on is in a state that refuses it; the problem type is one of: {}",
                endpoint.conflicts.join(", ")
            ),
            None,
        ));
    }
    if takes_body {
        answers.push((
            "413",
            "The body is larger than this endpoint's limit (`max_body_bytes`, `max_event_batch_bytes`); the detail names the limit".into(),
            None,
        ));
    }
    if takes_input {
        answers.push((
            "422",
            "The request is well-formed but its content is invalid; the detail names the field, filter, line or id at fault".into(),
            None,
        ));
    }
    if needs_token {
        answers.push((
            "429",
            "This token id or client failed verification too often; try again after `Retry-After`"
                .into(),
            Some(retry_after.clone()),
        ));
    }
    answers.push((
        "500",
        "A defect or a store failure; the request changed nothing (see the server log)".into(),
        None,
    ));
    if needs_token {
        answers.push((
            "503",
            "Token verifications are at their bound (`queued_verifications`); try again after `Retry-After`".into(),
            Some(retry_after),
        ));
    }
    answers.push((
        "default",
        "Any other error, also a problem; for example 405 for a method the path does not serve, 415 for a body of another media type, 409 `no-plant` while no plant is loaded, 502 when a sink refuses".into(),
        None,
    ));
    answers
        .into_iter()
        .map(|(status, description, headers)| {
            let mut answer = json!({
                "description": description,
                "content": { "application/problem+json": { "schema": problem } }
            });
            if let Some(headers) = headers {
                answer["headers"] = headers;
            }
            (status.to_owned(), answer)
        })
        .collect()
}
