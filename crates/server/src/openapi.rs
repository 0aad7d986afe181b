//! The OpenAPI 3.0 document, generated from the route table and the types' JSON Schemas.

use serde_json::{Map, Value, json};

use crate::problem::Problem;
use crate::routes::{Endpoint, ParamIn};

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
        if endpoint.permission != crate::routes::Permission::Public {
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
        let problem_response = json!({
            "description": "A problem: the detail names the field, line or id at fault",
            "content": { "application/problem+json": { "schema": problem.clone() } }
        });
        operation.insert(
            "responses".into(),
            json!({
                endpoint.success_status.to_string(): {
                    "description": "Success",
                    "content": { "application/json": { "schema": response } }
                },
                "4XX": problem_response.clone(),
                "5XX": problem_response,
            }),
        );
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
