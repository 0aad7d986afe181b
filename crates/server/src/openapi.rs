//! The OpenAPI 3.0 document, generated from the route table and the types' JSON Schemas.
//!
//! Every operation declares the error answers it can give, each as `application/problem+json`
//! with the one `Problem` schema ([`crate::problem::Problem`]): which ones follow from the
//! route table (a body, parameters, path parameters, a permission that needs a token, the
//! conflicts its handler names) by the rules of [`error_responses`], so a new endpoint
//! declares them without anyone remembering to. This module only describes; what answers
//! the errors is `problem`, `limits`, `auth` and `verification`.

use schemars::Schema;
use serde_json::{Map, Value, json};

use crate::problem::Problem;
use crate::routes::{Endpoint, ParamIn, Permission};

/// Builds the OpenAPI document for these endpoints.
pub fn document(endpoints: &[Endpoint]) -> Value {
    let mut generator = schemars::generate::SchemaSettings::openapi3().into_generator();
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
        let parameters: Vec<Value> = endpoint
            .params
            .iter()
            .map(|p| {
                json!({
                    "name": p.name,
                    "in": match p.location { ParamIn::Path => "path", ParamIn::Query => "query" },
                    "description": p.description,
                    "required": p.required,
                    "schema": { "type": p.schema_type },
                })
            })
            .collect();
        if !parameters.is_empty() {
            operation.insert("parameters".into(), Value::Array(parameters));
        }
        if let Some(request) = endpoint.request {
            let schema = request(&mut generator);
            operation.insert(
                "requestBody".into(),
                json!({ "required": true, "content": { "application/json": { "schema": schema } } }),
            );
        }
        let response = (endpoint.response)(&mut generator);
        let mut responses = Map::new();
        responses.insert(
            endpoint.success_status.to_string(),
            json!({
                "description": "Success",
                "content": { "application/json": { "schema": response } }
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
    let schemas: Map<String, Value> = generator.take_definitions(true).into_iter().collect();
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "mixplane",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Control plane for mixed-mode manufacturing. Times are RFC 3339 UTC; durations are minutes unless a field name says otherwise; errors are application/problem+json (RFC 9457)."
        },
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
