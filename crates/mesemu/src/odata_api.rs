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
use odata::csdl::ODataError;
use opcenter::{App, EntitySet};
use serde_json::{Value, json};

use crate::http::Refusal;
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
pub(crate) fn app_of(name: &str) -> Result<App, Refusal> {
    App::find(name).ok_or_else(|| {
        let known: Vec<&str> = App::ALL.iter().map(|a| a.name()).collect();
        Refusal::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("no app `{name}`; the apps are {}", known.join(", ")),
        )
    })
}

fn set_of(app: App, name: &str) -> Result<EntitySet, Refusal> {
    EntitySet::find(app.name(), name).ok_or_else(|| {
        let known: Vec<&str> = app.sets().map(|s| s.name()).collect();
        Refusal::new(
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

fn with_content_type(mut response: Response, content_type: &'static str) -> Response {
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// `GET …/odata/`: the service document (the app's entity sets).
async fn service_document(
    Path(app): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Refusal> {
    let app = app_of(&app)?;
    let root = service_root(&headers, app);
    Ok(axum::Json(opcenter::csdl(app).service_document(&root)).into_response())
}

fn metadata_document(app: App) -> Result<Response, Refusal> {
    let xml = opcenter::csdl(app).to_xml().map_err(|error| {
        // The profile checks its model in its tests; this is a bug if it happens.
        Refusal::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InvalidModel",
            error.to_string(),
        )
    })?;
    Ok(with_content_type(xml.into_response(), "application/xml"))
}

fn parse_options(query: Option<&str>) -> Result<QueryOptions, Refusal> {
    let options = QueryOptions::parse(query.unwrap_or(""))
        .map_err(|error| Refusal::bad_query(ODataError::from(&error)))?;
    if !options.expand.is_empty() {
        return Err(Refusal::new(
            StatusCode::NOT_IMPLEMENTED,
            "NotImplemented",
            "$expand is not supported by the emulator; read the related set by its `{Entity}_Id`",
        ));
    }
    if let Some(format) = &options.format
        && format != "json"
        && !format.starts_with("application/json")
    {
        return Err(Refusal::new(
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
) -> Result<Response, Refusal> {
    let app = app_of(&app)?;
    if resource == "$metadata" {
        return metadata_document(app);
    }
    let root = service_root(&headers, app);
    match resource.split_once('(') {
        Some((set, key)) => {
            let key = key.strip_suffix(')').ok_or_else(|| {
                Refusal::new(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    format!("`{resource}`: a key is written `Set(Id)`"),
                )
            })?;
            entity(&shared, set_of(app, set)?, key, query.as_deref(), &root).await
        }
        None => {
            let set = set_of(app, &resource)?;
            let page_size = match preferred_page_size(&headers) {
                Some(asked) => asked.clamp(1, shared.page_size),
                None => shared.page_size,
            };
            let mut response = collection(&shared, set, query.as_deref(), &root, page_size).await?;
            if preferred_page_size(&headers).is_some() {
                let applied = format!("odata.maxpagesize={page_size}");
                if let Ok(value) = HeaderValue::from_str(&applied) {
                    response.headers_mut().insert("Preference-Applied", value);
                }
            }
            Ok(response)
        }
    }
}

/// The page size a client asks for with `Prefer: odata.maxpagesize=N` (OData 4.0 §8.2.8.3).
fn preferred_page_size(headers: &HeaderMap) -> Option<usize> {
    headers
        .get_all("Prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|p| p.trim().strip_prefix("odata.maxpagesize="))
        .and_then(|n| n.trim().parse().ok())
}

async fn collection(
    shared: &Shared,
    set: EntitySet,
    query: Option<&str>,
    root: &str,
    page_size: usize,
) -> Result<Response, Refusal> {
    let options = parse_options(query)?;
    // The repeated-page fault serves this set's last page that held rows once more (a set
    // not read yet leaves the fault waiting for one that was).
    if let Some(page) = lock(&shared.last_pages).get(&set).cloned()
        && lock(&shared.faults).take_repeat_page()
    {
        return Ok(axum::Json(page).into_response());
    }
    let paging = odata::Paging {
        max_page: page_size,
        key: vec!["Id".into()],
    };
    let page = shared
        .plant
        .run(move |world| odata::eval::apply_paged(world.rows(set), &options, &paging))
        .await
        .map_err(|e| Refusal::plant_stopped(&e))?
        .map_err(|e| Refusal::bad_query(ODataError::from(&e)))?;
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
    if body["value"]
        .as_array()
        .is_some_and(|rows| !rows.is_empty())
    {
        lock(&shared.last_pages).insert(set, body.clone());
    }
    Ok(axum::Json(body).into_response())
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
    set: EntitySet,
    key: &str,
    query: Option<&str>,
    root: &str,
) -> Result<Response, Refusal> {
    let options = parse_options(query)?;
    if options.filter.is_some() || !options.orderby.is_empty() || options.top.is_some() {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "one entity takes only $select",
        ));
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
        .await
        .map_err(|e| Refusal::plant_stopped(&e))?
        .transpose()
        .map_err(|e| Refusal::bad_query(ODataError::from(&e)))?;
    let mut row = found
        .and_then(|mut page| (!page.rows.is_empty()).then(|| page.rows.remove(0)))
        .ok_or_else(|| {
            Refusal::new(
                StatusCode::NOT_FOUND,
                "NotFound",
                format!("{} has no entity with Id {key}", set.name()),
            )
        })?;
    if let Value::Object(fields) = &mut row {
        fields.insert(
            "@odata.context".into(),
            json!(format!("{root}/$metadata#{}/$entity", set.name())),
        );
    }
    Ok(axum::Json(row).into_response())
}

/// `GET …/odata/{Set}/$count`: the size of the (filtered) set, as plain text.
async fn count(
    State(shared): State<Arc<Shared>>,
    Path((app, set, segment)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, Refusal> {
    if segment != "$count" {
        return Err(Refusal::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("no resource `{set}/{segment}`; only `{set}/$count` is served below a set"),
        ));
    }
    let set = set_of(app_of(&app)?, &set)?;
    let mut options = parse_options(query.as_deref())?;
    options.count = true;
    options.top = Some(0);
    let page = shared
        .plant
        .run(move |world| odata::eval::apply(world.rows(set), &options, 0))
        .await
        .map_err(|e| Refusal::plant_stopped(&e))?
        .map_err(|e| Refusal::bad_query(ODataError::from(&e)))?;
    let count = page.count.unwrap_or(0).to_string();
    Ok(with_content_type(count.into_response(), "text/plain"))
}
