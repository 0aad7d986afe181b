//! The OData v4 read surface's use-case: a request's entity set and query options, read for a
//! principal. The options become one `store::query::Query` ([`translate`]) that the store
//! runs in the database — filter, order, window and count — with the principal's scope added
//! to its filter as a restriction ([`reach`]); `$expand` is one more query per navigation
//! (the related rows of the page's keys); `$select` and masking shape the rows. Server-driven
//! paging: a page holds at most `max_page` rows and the answer says which options fetch the
//! next one (`$skiptoken`: how many rows of the requested window were already served).
//!
//! The same access rules as the REST API: the permission of the set's REST counterpart
//! ([`schema::NAMES`]), the object-level scope of `crate::scope`, and for a principal that
//! reads pseudonymised ([`crate::access::reads_pseudonymised`]) the policy's pseudonyms and
//! masks applied to every row; such a principal may not filter or order by a protected field,
//! which would reveal the clear value.

pub mod reach;
pub mod schema;
pub mod translate;

use ::odata::{ExpandItem, Expr, Literal, QueryOptions};
use govern::{PRINCIPAL_FIELDS, Principal};
use serde_json::{Map, Value as Json};
use store::query::{self, Filter, Query, SetDef, Value};
use thiserror::Error;

use crate::{App, AppError};

/// Why a read is refused.
#[derive(Debug, Error)]
pub enum ReadError {
    /// The request is wrong: an unknown set or property, a malformed or mistyped option (400).
    #[error("{0}")]
    Bad(String),
    /// Valid OData this service does not implement (501).
    #[error("{0}")]
    Unsupported(String),
    /// No entity with the key, or one outside the reader's scope (404).
    #[error("{0}")]
    NotFound(String),
    /// Everything else the use-cases answer: permission, scope, the store.
    #[error(transparent)]
    App(#[from] AppError),
}

impl ReadError {
    /// The same error naming `option` instead of `$filter`.
    fn in_option(self, option: &str) -> ReadError {
        match self {
            ReadError::Bad(m) => ReadError::Bad(m.replacen("$filter", option, 1)),
            other => other,
        }
    }
}

impl From<store::StoreError> for ReadError {
    fn from(error: store::StoreError) -> ReadError {
        ReadError::App(error.into())
    }
}

/// One page of an entity set (or the one entity of a key).
#[derive(Debug, Clone)]
pub struct Answer {
    pub rows: Vec<Json>,
    pub count: Option<u64>,
    /// The options of the next page, when there is one.
    pub next: Option<QueryOptions>,
}

/// Reads `set` (its OData name) for `who`: one page of at most `max_page` rows, or with
/// `key`, the entity of that key.
pub async fn read(
    app: &App,
    who: &Principal,
    set: &str,
    key: Option<&Literal>,
    options: &QueryOptions,
    max_page: u64,
) -> Result<Answer, ReadError> {
    let names = schema::by_entity_set(set).ok_or_else(|| {
        let known: Vec<&str> = schema::NAMES.iter().map(|n| n.entity_set).collect();
        ReadError::NotFound(format!(
            "no entity set `{set}` (the sets: {})",
            known.join(", ")
        ))
    })?;
    crate::access::authorize(app, who, names.permission).await?;
    let def = query::def(names.set);
    let restriction = reach::restriction(app, who, names.set).await?;
    let protected = protected_fields(app, who);
    if options
        .format
        .as_deref()
        .is_some_and(|f| !f.eq_ignore_ascii_case("json") && !f.starts_with("application/json"))
    {
        return Err(ReadError::Unsupported(format!(
            "$format={} is not supported (only json)",
            options.format.as_deref().unwrap_or_default()
        )));
    }
    let mut filter = options
        .filter
        .as_ref()
        .map(|e| translate::filter(def, e))
        .transpose()?;
    if let Some(key) = key {
        let key_filter = translate::filter(
            def,
            &Expr::compare(
                Expr::path(def.key().name),
                ::odata::CompareOp::Eq,
                Expr::Literal(key.clone()),
            ),
        )
        .map_err(|e| e.in_option("key"))?;
        filter = Some(match filter {
            Some(f) => key_filter.and(f),
            None => key_filter,
        });
    }
    let order = translate::order(def, &options.orderby)?;
    check_protected(&protected, filter.as_ref(), &order)?;
    let select = translate::select(def, options.select.as_deref())?;
    let served: u64 = match &options.skiptoken {
        Some(token) => token.parse().map_err(|_| {
            ReadError::Bad(format!(
                "$skiptoken: `{token}` is not a token this service gave"
            ))
        })?,
        None => 0,
    };
    let wanted = options.top.map(|top| top.saturating_sub(served));
    let limit = wanted.map_or(max_page, |w| w.min(max_page));
    let query = Query {
        set: names.set,
        filter: and_restriction(filter, restriction),
        order,
        skip: options.skip.unwrap_or(0).saturating_add(served),
        // One more than the page, to know whether another follows.
        limit: Some(limit + 1),
        count: options.count,
    };
    let mut result = app.store.query(&query).await?;
    // Another page follows when the store had a row past this page and the requested window
    // (`$top`) is not used up by it.
    let more = result.rows.len() as u64 > limit && wanted.is_none_or(|w| w > limit);
    result.rows.truncate(limit as usize);
    let page_len = result.rows.len() as u64;
    for item in &options.expand {
        expand(app, who, def, item, &mut result.rows).await?;
    }
    let rows = shape(app, who, result.rows, select.as_deref(), def).await?;
    if key.is_some() && rows.is_empty() {
        return Err(ReadError::NotFound(format!(
            "no {} with the key {}",
            names.entity_type,
            key.map(ToString::to_string).unwrap_or_default()
        )));
    }
    let next = (more && key.is_none()).then(|| QueryOptions {
        skiptoken: Some((served + page_len).to_string()),
        ..options.clone()
    });
    Ok(Answer {
        rows,
        count: result.count,
        next,
    })
}

fn and_restriction(filter: Option<Filter>, restriction: Option<Filter>) -> Option<Filter> {
    match (filter, restriction) {
        (Some(f), Some(r)) => Some(r.and(f)),
        (f, r) => f.or(r),
    }
}

/// Fills `rows[nav]` with each row's related rows (a list, or one row or null), read in one
/// query over the page's join values, the target's own scope and the item's options.
async fn expand(
    app: &App,
    who: &Principal,
    def: &SetDef,
    item: &ExpandItem,
    rows: &mut [Map<String, Json>],
) -> Result<(), ReadError> {
    let [name] = item.path.as_slice() else {
        return Err(ReadError::Unsupported(format!(
            "$expand of the path `{}` is not supported (one navigation property)",
            item.path.join("/")
        )));
    };
    let navigation = def.navigation(name).ok_or_else(|| {
        let known: Vec<&str> = def.navigations.iter().map(|n| n.name).collect();
        ReadError::Bad(format!(
            "$expand: `{name}` is not a navigation property of {} (its navigation properties: {})",
            schema::of(def.set).entity_type,
            known.join(", ")
        ))
    })?;
    let nested = &item.options;
    if nested.top.is_some() || nested.skip.is_some() || nested.count || !nested.expand.is_empty() {
        return Err(ReadError::Unsupported(
            "$expand with a nested $top, $skip, $count or $expand is not supported \
             (nested $select, $filter and $orderby are)"
                .into(),
        ));
    }
    let target = query::def(navigation.target);
    let target_names = schema::of(navigation.target);
    crate::access::authorize(app, who, target_names.permission).await?;
    let restriction = reach::restriction(app, who, navigation.target).await?;
    let keys: Vec<Value> = rows
        .iter()
        .filter_map(|r| r.get(navigation.from).and_then(Json::as_str))
        .map(|s| Value::Text(s.to_owned()))
        .collect();
    let mut filter = Filter::one_of(navigation.to, keys);
    if let Some(e) = &nested.filter {
        filter = filter.and(translate::filter(target, e)?);
    }
    let order = translate::order(target, &nested.orderby)?;
    check_protected(&protected_fields(app, who), Some(&filter), &order)?;
    let select = translate::select(target, nested.select.as_deref())?;
    let related = app
        .store
        .query(&Query {
            set: navigation.target,
            filter: and_restriction(Some(filter), restriction),
            order,
            skip: 0,
            limit: None,
            count: false,
        })
        .await?
        .rows;
    for row in rows.iter_mut() {
        let from = row.get(navigation.from).cloned().unwrap_or(Json::Null);
        let matching = related
            .iter()
            .filter(|r| !from.is_null() && r.get(navigation.to) == Some(&from))
            .map(|r| Json::Object(selected(r, select.as_deref(), target)));
        let value = if navigation.many {
            Json::Array(matching.collect())
        } else {
            matching.into_iter().next().unwrap_or(Json::Null)
        };
        row.insert(navigation.name.to_owned(), value);
    }
    Ok(())
}

/// A row with only the selected fields (and every expanded navigation it carries).
fn selected(row: &Map<String, Json>, select: Option<&[String]>, def: &SetDef) -> Map<String, Json> {
    match select {
        None => row.clone(),
        Some(names) => row
            .iter()
            .filter(|(k, _)| {
                names.iter().any(|n| n == *k)
                    || (def.navigation(k).is_some() && def.field(k).is_none())
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}

/// The rows as answered: selected, then pseudonymised and masked for a reader who reads so.
async fn shape(
    app: &App,
    who: &Principal,
    rows: Vec<Map<String, Json>>,
    select: Option<&[String]>,
    def: &SetDef,
) -> Result<Vec<Json>, ReadError> {
    let mut out: Vec<Json> = rows
        .iter()
        .map(|row| Json::Object(selected(row, select, def)))
        .collect();
    if crate::access::reads_pseudonymised(who) {
        let pseudonymizer = app.governance.pseudonymizer(&app.store).await?;
        for row in &mut out {
            pseudonymizer.protect(row);
        }
    }
    Ok(out)
}

/// The fields whose clear values a pseudonymised reader does not see.
fn protected_fields(app: &App, who: &Principal) -> Vec<String> {
    if !crate::access::reads_pseudonymised(who) {
        return Vec::new();
    }
    let privacy = &app.governance.policy.privacy;
    PRINCIPAL_FIELDS
        .iter()
        .map(|f| (*f).to_owned())
        .chain(privacy.identity_fields.iter().cloned())
        .chain(privacy.masked_fields.iter().cloned())
        .collect()
}

fn check_protected(
    protected: &[String],
    filter: Option<&Filter>,
    order: &[query::SortKey],
) -> Result<(), ReadError> {
    let mut read = Vec::new();
    if let Some(f) = filter {
        translate::fields_read(f, &mut read);
    }
    read.extend(order.iter().map(|k| k.field));
    match read.iter().find(|f| protected.iter().any(|p| p == *f)) {
        Some(field) => Err(ReadError::App(AppError::Forbidden(format!(
            "`{field}` is pseudonymised for this principal: it can be read, not filtered or ordered by"
        )))),
        None => Ok(()),
    }
}
