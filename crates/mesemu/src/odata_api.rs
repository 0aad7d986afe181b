//! The OData services of the apps, `/sit-svc/Application/{App}/odata/…`: the service
//! document, `$metadata`, each entity set with its query options and server-driven paging,
//! one entity by key, `/$count`, and the commands (`POST …/{Command}`).
//!
//! Reads are answered from the world's tables on the plant's thread (the query is evaluated
//! there, by `odata`), so a page is cut from one consistent state of the rows.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use odata::QueryOptions;
use opcenter::{App, EntitySet};
use serde_json::{Value, json};

use crate::http::odata_error;
use crate::{Shared, commands, lock};

/// The routes of every app's service.
pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/sit-svc/Application/{app}/odata", get(service_document))
        .route("/sit-svc/Application/{app}/odata/", get(service_document))
        .route(
            "/sit-svc/Application/{app}/odata/{resource}",
            get(read).post(commands::command),
        )
        .route("/sit-svc/Application/{app}/odata/{set}/{count}", get(count))
}

/// The app named in the path, or 404.
pub(crate) fn app_of(name: &str) -> Result<App, Response> {
    App::find(name).ok_or_else(|| {
        let known: Vec<&str> = App::ALL.iter().map(|a| a.name()).collect();
        odata_error(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("no app `{name}`; the apps are {}", known.join(", ")),
        )
    })
}

fn set_of(app: App, name: &str) -> Result<EntitySet, Response> {
    EntitySet::find(app.name(), name).ok_or_else(|| {
        let known: Vec<&str> = app.sets().map(|s| s.name()).collect();
        odata_error(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!(
                "app `{app}` has no entity set `{name}`; its sets are {}",
                known.join(", ")
            ),
        )
    })
}

/// The base URL of an app's service, as the client reached it.
fn service_root(headers: &HeaderMap, app: App) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}/sit-svc/Application/{app}/odata")
}

/// `GET …/odata/`: the service document (the app's entity sets).
async fn service_document(Path(app): Path<String>, headers: HeaderMap) -> Response {
    let app = match app_of(&app) {
        Ok(app) => app,
        Err(response) => return response,
    };
    let root = service_root(&headers, app);
    let sets: Vec<Value> = app
        .sets()
        .map(|s| json!({"name": s.name(), "kind": "EntitySet", "url": s.name()}))
        .collect(); // TEMP
    axum::Json(json!({"@odata.context": format!("{root}/$metadata"), "value": sets}))
        .into_response()
}

fn metadata(app: App) -> Response {
    let xml = format!("TEMP {app}");
    let mut response = xml.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    response
}

fn parse_options(query: Option<&str>) -> Result<QueryOptions, Response> {
    let options = QueryOptions::parse(query.unwrap_or(""))
        .map_err(|error| odata_error(StatusCode::BAD_REQUEST, "BadRequest", error.to_string()))?;
    if !options.expand.is_empty() {
        return Err(odata_error(
            StatusCode::NOT_IMPLEMENTED,
            "NotImplemented",
            "$expand is not supported by the emulator; read the related set by its `{Entity}_Id`",
        ));
    }
    if let Some(format) = &options.format
        && format != "json"
        && !format.starts_with("application/json")
    {
        return Err(odata_error(
            StatusCode::NOT_IMPLEMENTED,
            "NotImplemented",
            format!("$format `{format}` is not supported; the emulator answers JSON"),
        ));
    }
    Ok(options)
}

/// `GET …/odata/{resource}`: `$metadata`, a set, or one entity `Set(Id)`.
async fn read(
    State(shared): State<Arc<Shared>>,
    Path((app, resource)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let app = match app_of(&app) {
        Ok(app) => app,
        Err(response) => return response,
    };
    if resource == "$metadata" {
        return metadata(app);
    }
    let root = service_root(&headers, app);
    match resource.split_once('(') {
        Some((set, key)) => {
            let Some(key) = key.strip_suffix(')') else {
                return odata_error(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    format!("`{resource}`: a key is written `Set(Id)`"),
                );
            };
            entity(&shared, app, set, key, query.as_deref(), &root).await
        }
        None => collection(&shared, app, &resource, query.as_deref(), &root).await,
    }
}

async fn collection(
    shared: &Shared,
    app: App,
    set: &str,
    query: Option<&str>,
    root: &str,
) -> Response {
    let set = match set_of(app, set) {
        Ok(set) => set,
        Err(response) => return response,
    };
    let options = match parse_options(query) {
        Ok(options) => options,
        Err(response) => return response,
    };
    if lock(&shared.faults).take_repeat_page()
        && let Some(page) = lock(&shared.last_page).clone()
    {
        return axum::Json(page).into_response();
    }
    let paging = odata::Paging {
        max_page: shared.page_size,
        key: vec!["Id".into()],
    };
    let page = shared
        .plant
        .run(move |world| odata::eval::apply_paged(world.rows(set), &options, &paging))
        .await;
    let page = match page {
        Ok(Ok(page)) => page,
        Ok(Err(error)) => {
            return odata_error(StatusCode::BAD_REQUEST, "BadRequest", error.to_string());
        }
        Err(error) => {
            return odata_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "PlantStopped",
                error.to_string(),
            );
        }
    };
    let mut body = serde_json::Map::new();
    body.insert(
        "@odata.context".into(),
        json!(format!("{root}/$metadata#{}", set.name())),
    );
    if let Some(count) = page.count {
        body.insert("@odata.count".into(), json!(count));
    }
    body.insert("value".into(), Value::Array(page.rows));
    if let Some(next) = page.next {
        body.insert(
            "@odata.nextLink".into(),
            json!(format!("{root}/{}?{}", set.name(), next.to_query_string())),
        );
    }
    let body = Value::Object(body);
    *lock(&shared.last_page) = Some(body.clone());
    axum::Json(body).into_response()
}

/// The `Id` of a key segment: a GUID unquoted or quoted, or `Id=…`.
fn key_id(key: &str) -> &str {
    let key = key.strip_prefix("Id=").unwrap_or(key);
    key.strip_prefix('\'')
        .and_then(|k| k.strip_suffix('\''))
        .unwrap_or(key)
}

async fn entity(
    shared: &Shared,
    app: App,
    set: &str,
    key: &str,
    query: Option<&str>,
    root: &str,
) -> Response {
    let set = match set_of(app, set) {
        Ok(set) => set,
        Err(response) => return response,
    };
    let options = match parse_options(query) {
        Ok(options) => options,
        Err(response) => return response,
    };
    if options.filter.is_some() || !options.orderby.is_empty() || options.top.is_some() {
        return odata_error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "one entity takes only $select",
        );
    }
    let id = key_id(key).to_ascii_lowercase();
    let found = shared
        .plant
        .run(move |world| {
            let row = world.rows(set).iter().find(|row| {
                row["Id"]
                    .as_str()
                    .is_some_and(|r| r.eq_ignore_ascii_case(&id))
            });
            row.map(|row| odata::eval::apply(std::slice::from_ref(row), &options, 0))
        })
        .await;
    let mut row = match found {
        Ok(Some(Ok(mut page))) if !page.rows.is_empty() => page.rows.remove(0),
        Ok(Some(Err(error))) => {
            return odata_error(StatusCode::BAD_REQUEST, "BadRequest", error.to_string());
        }
        Ok(_) => {
            return odata_error(
                StatusCode::NOT_FOUND,
                "NotFound",
                format!("{} has no entity with Id {key}", set.name()),
            );
        }
        Err(error) => {
            return odata_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "PlantStopped",
                error.to_string(),
            );
        }
    };
    if let Value::Object(fields) = &mut row {
        fields.insert(
            "@odata.context".into(),
            json!(format!("{root}/$metadata#{}/$entity", set.name())),
        );
    }
    axum::Json(row).into_response()
}

/// `GET …/odata/{Set}/$count`: the size of the (filtered) set, as plain text.
async fn count(
    State(shared): State<Arc<Shared>>,
    Path((app, set, segment)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
) -> Response {
    if segment != "$count" {
        return odata_error(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("no resource `{set}/{segment}`; only `{set}/$count` is served below a set"),
        );
    }
    let app = match app_of(&app) {
        Ok(app) => app,
        Err(response) => return response,
    };
    let set = match set_of(app, &set) {
        Ok(set) => set,
        Err(response) => return response,
    };
    let mut options = match parse_options(query.as_deref()) {
        Ok(options) => options,
        Err(response) => return response,
    };
    options.count = true;
    options.top = Some(0);
    let counted = shared
        .plant
        .run(move |world| odata::eval::apply(world.rows(set), &options, 0))
        .await;
    match counted {
        Ok(Ok(page)) => {
            let mut response = page.count.unwrap_or(0).to_string().into_response();
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
            response
        }
        Ok(Err(error)) => odata_error(StatusCode::BAD_REQUEST, "BadRequest", error.to_string()),
        Err(error) => odata_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "PlantStopped",
            error.to_string(),
        ),
    }
}
