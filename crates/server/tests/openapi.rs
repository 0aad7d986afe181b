//! The OpenAPI document's descriptions hold for the server that serves it: every value a
//! parameter's `enum` lists is accepted and others are refused by name, every example of a
//! request is one the server takes, and the reference page at `/docs` names every
//! operation. (Its validity under a standard OpenAPI 3.1 validator, and a client generated
//! from it, are tested by the binary's `tests/openapi_python.rs`.)

mod common;

use common::{Setup, TestApp};

/// `path` with every `{name}` replaced by `x`.
fn filled(path: &str) -> String {
    let mut path = path.to_owned();
    while let (Some(open), Some(close)) = (path.find('{'), path.find('}')) {
        path.replace_range(open..=close, "x");
    }
    path
}

#[tokio::test]
async fn every_listed_parameter_value_is_accepted_and_others_are_refused_by_name() {
    let app = TestApp::with(Setup {
        simulated_days: Some(1.0),
        ..Setup::default()
    })
    .await;
    let (_, _, document) = app.get("/v1/openapi.json").await;
    let mut checked = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        let Some(operation) = item.get("get") else {
            continue;
        };
        for parameter in operation["parameters"].as_array().into_iter().flatten() {
            let schema = &parameter["schema"];
            let values = schema["enum"]
                .as_array()
                .or(schema["items"]["enum"].as_array());
            let Some(values) = values else { continue };
            let name = parameter["name"].as_str().unwrap();
            assert!(!values.is_empty(), "{path} {name}: an empty enum");
            for value in values {
                let value = value.as_str().unwrap();
                let (status, _, body) = app.get(&format!("{}?{name}={value}", filled(path))).await;
                assert!(
                    !matches!(status, 400 | 422),
                    "GET {path}?{name}={value}: the document lists it, the server refused it: {status} {body}"
                );
                checked += 1;
            }
            let (status, _, body) = app
                .get(&format!("{}?{name}=not-a-value", filled(path)))
                .await;
            assert!(
                matches!(status, 400 | 422),
                "GET {path}?{name}=not-a-value: not refused ({status})"
            );
            assert!(
                body["detail"].as_str().unwrap_or("").contains(name),
                "{path}: the refusal does not name `{name}`: {body}"
            );
        }
    }
    // Orders' mode and status, events' types, alerts' severity, holds' item kind, NCs'
    // state, proposals' status and kind, the recall formats, EPCIS event types and actions.
    assert!(checked >= 50, "only {checked} listed values");
}

#[tokio::test]
async fn every_request_example_is_taken_by_the_server() {
    let app = TestApp::with(Setup {
        simulated_days: Some(1.0),
        ..Setup::default()
    })
    .await;
    let (_, _, document) = app.get("/v1/openapi.json").await;
    let ids: Vec<&str> = server::api::endpoints()
        .iter()
        .map(|e| e.operation_id)
        .collect();
    for named in server::openapi_content::NAMED {
        assert!(ids.contains(named), "`{named}` is no operation");
    }
    let mut sent = 0;
    for endpoint in server::api::endpoints() {
        let Some(example) = server::openapi_content::request_example(endpoint.operation_id) else {
            continue;
        };
        let operation =
            &document["paths"][endpoint.path][endpoint.method.as_str().to_ascii_lowercase()];
        let content = operation["requestBody"]["content"].as_object().unwrap();
        for (media_type, media) in content {
            if media["schema"]["type"] != "string" {
                assert_eq!(media["example"], example, "{media_type}");
            }
        }
        if endpoint.path.contains('{') {
            // Its ids come from the data; the validator test checks it against its schema.
            continue;
        }
        let (status, answer) = app
            .call(
                endpoint.method.as_str(),
                endpoint.path,
                &app.token,
                Some(example),
            )
            .await;
        assert!(
            (200..300).contains(&status),
            "{} {}: the example was refused: {status} {answer}",
            endpoint.method,
            endpoint.path
        );
        sent += 1;
    }
    assert!(sent >= 5, "only {sent} examples sent");
}

#[tokio::test]
async fn the_reference_page_is_public_and_names_every_operation() {
    let app = TestApp::start().await;
    let (_, _, document) = app.get("/v1/openapi.json").await;
    // No token, like the document it is rendered from.
    let response = app.client.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/html; charset=utf-8"
    );
    let page = response.text().await.unwrap();
    assert!(page.starts_with("<!doctype html>"));
    // Offline: nothing is loaded from elsewhere.
    for outside in ["<script", "src=\"http", "href=\"http", "@import"] {
        assert!(!page.contains(outside), "the page loads `{outside}`");
    }
    let paths = document["paths"].as_object().unwrap();
    assert!(paths.contains_key("/docs"));
    for (path, item) in paths {
        assert!(
            page.contains(&format!("<code>{path}</code>")),
            "the page lacks {path}"
        );
        for (method, operation) in item.as_object().unwrap() {
            let id = operation["operationId"].as_str().unwrap();
            assert!(
                page.contains(&format!("id=\"op-{id}\"")),
                "the page lacks {method} {path} ({id})"
            );
        }
    }
    for name in document["components"]["schemas"]
        .as_object()
        .unwrap()
        .keys()
    {
        assert!(
            page.contains(&format!("id=\"schema-{name}\"")),
            "the page lacks the schema {name}"
        );
    }
    // Parameters with their values, and the examples.
    assert!(page.contains("<code>repetitive</code>"), "no enum values");
    assert!(page.contains("equipment_state_changed"), "no example");
}
