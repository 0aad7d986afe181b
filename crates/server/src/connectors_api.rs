//! The connectors over HTTP: `GET /v1/connectors` (each configured connector's kind,
//! principal, health, counters, stored cursor, lag and dead-letter count) and
//! `GET /v1/connectors/{name}/dead-letters` (the records it could not map, paged), both
//! through `app::connectors`, which keeps the rule that dead letters need a site-wide scope.

use app::connectors::ConnectorView;
use axum::extract::{Path, RawQuery, State};
use axum::http::Method;
use axum::routing::get;
use govern::Permission;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use store::DeadLetter;

use crate::AppState;
use crate::api::{CURSOR, Json200};
use crate::auth::Caller;
use crate::extract::Query;
use crate::paging::{Key, Linked, ListSpec, PageRequest};
use crate::problem::Problem;
use crate::routes::{Endpoint, Param, path, query};

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint {
            method: Method::GET,
            path: "/v1/connectors",
            operation_id: "listConnectors",
            summary: "Every configured connector: kind, principal, state, counters, cursor, lag and dead-letter count",
            tag: "connectors",
            params: &[],
            request: None,
            response: |g| g.subschema_for::<ConnectorList>(),
            success_status: 200,
            permission: Permission::ReadEvents,
            conflicts: &[],
            handler: || get(list),
        },
        Endpoint {
            method: Method::GET,
            path: "/v1/connectors/{name}/dead-letters",
            operation_id: "listDeadLetters",
            summary: "The records a connector could not map, with the reason and the record as read, oldest first (site-wide scope and the audit permission: the records are the peer's own, unmasked)",
            tag: "connectors",
            params: DEAD_LETTER_PARAMS,
            request: None,
            response: |g| g.subschema_for::<DeadLetterPage>(),
            success_status: 200,
            // A dead letter is a record as the peer sent it: nothing in it can be masked or
            // pseudonymised, so only those who may read the audit trail read it (not agents).
            permission: Permission::ReadAudit,
            conflicts: &[],
            handler: || get(dead_letters),
        },
    ]
}

/// How the dead letters page: in the order they were kept.
pub static DEAD_LETTERS: ListSpec = ListSpec {
    path: "/v1/connectors/{name}/dead-letters",
    default_limit: 100,
    max_limit: 1000,
    sorts: &[],
};

const DEAD_LETTER_PARAMS: &[Param] = &[
    path("name", "the connector's name"),
    query("limit", "integer", "page size (default 100, max 1000)"),
    CURSOR,
];

/// The configured connectors, by name.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ConnectorList {
    pub items: Vec<ConnectorView>,
}

async fn list(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Json200<ConnectorList>, Problem> {
    Ok(Json200(ConnectorList {
        items: app::connectors::list(&app, &caller.0).await?,
    }))
}

#[derive(Debug, Deserialize)]
struct DeadLetterQuery {
    limit: Option<u32>,
    cursor: Option<String>,
    sort: Option<String>,
}

/// A page of a connector's dead letters.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DeadLetterPage {
    pub items: Vec<DeadLetter>,
    /// The path and query of the next page; `null` on the last.
    pub next: Option<String>,
}

async fn dead_letters(
    State(app): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    Query(q): Query<DeadLetterQuery>,
    RawQuery(raw): RawQuery,
) -> Result<Linked<DeadLetterPage>, Problem> {
    let at = format!("/v1/connectors/{name}/dead-letters");
    let request = PageRequest::parse_at(
        &DEAD_LETTERS,
        &at,
        q.limit,
        q.sort.as_deref(),
        q.cursor.as_deref(),
        raw.as_deref(),
    )?;
    let after_seq = request.after_seq(None)?;
    let mut items =
        app::connectors::dead_letters(&app, &caller.0, &name, after_seq, request.limit + 1).await?;
    let next = if items.len() > request.limit as usize {
        items.truncate(request.limit as usize);
        items
            .last()
            .map(|last| request.next_link(vec![Key::Int(last.seq)]))
    } else {
        None
    };
    Ok(Linked(
        DeadLetterPage {
            items,
            next: next.clone(),
        },
        next,
    ))
}
