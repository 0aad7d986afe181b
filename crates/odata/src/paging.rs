//! A query over an in-memory entity set ([`apply`]): filter, count, order, resume after a
//! `$skiptoken`, skip, top, cut to the server's page size, then project (`$select`) and shape
//! expanded navigation properties (their nested options).
//!
//! Server-driven paging is keyset-based: the rows are put in a total order — the `$orderby`
//! keys, then the entity key (`Paging::key`) or, without one, a fingerprint of the whole row —
//! and the `$skiptoken` of the next page carries the last row's position in that order (and a
//! fingerprint of the query it belongs to). The next page starts after that position, so it is
//! the same on every run, and rows inserted or changed between pages neither repeat nor
//! vanish unless they move across the position.
//!
//! Rows carry no model: a navigation property is whatever the caller put in the row. The
//! caller attaches the related entities `$expand` names (an array or an object under the
//! navigation property's name) and leaves the others out; `apply` then applies each item's
//! nested options to them and keeps them whatever `$select` says.

use std::cell::RefCell;
use std::cmp::Ordering;

use serde_json::{Map, Value};

use crate::error::EvalError;
use crate::eval::{Val, matches, order};
use crate::expr::Expr;
use crate::options::{ExpandItem, QueryOptions, SelectItem, render_orderby};

/// How the server pages a collection.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Paging {
    /// The most rows a page holds; 0: no server-driven paging.
    pub max_page: usize,
    /// The entity key's properties (the last sort keys, making the order total); empty: a
    /// fingerprint of the whole row stands in.
    pub key: Vec<String>,
}

/// One page of a collection.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub rows: Vec<Value>,
    /// The size of the filtered collection (before skip, top and paging), when `$count=true`.
    pub count: Option<u64>,
    /// The options of the next page (`$skiptoken` set, `$top` reduced by this page, `$skip`
    /// dropped) when there is one: the caller writes its `@odata.nextLink` from
    /// [`QueryOptions::to_query_string`].
    pub next: Option<QueryOptions>,
}

/// [`apply_paged`] without an entity key (the row's fingerprint orders ties).
pub fn apply(rows: &[Value], options: &QueryOptions, max_page: usize) -> Result<Page, EvalError> {
    let paging = Paging {
        max_page,
        key: Vec::new(),
    };
    apply_paged(rows, options, &paging)
}

/// The page of `rows` that `options` ask for.
pub fn apply_paged(
    rows: &[Value],
    options: &QueryOptions,
    paging: &Paging,
) -> Result<Page, EvalError> {
    let mut kept = Vec::new();
    for row in rows {
        if options
            .filter
            .as_ref()
            .map_or(Ok(true), |f| matches(f, row))?
        {
            kept.push(row);
        }
    }
    let count = options.count.then_some(kept.len() as u64);
    let directions: Vec<bool> = options
        .orderby
        .iter()
        .map(|o| o.descending)
        .chain(std::iter::repeat_n(false, paging.key.len().max(1)))
        .collect();
    let mut keyed = kept
        .into_iter()
        .map(|row| Ok((sort_key(row, options, paging)?, row)))
        .collect::<Result<Vec<_>, EvalError>>()?;
    let failure = RefCell::new(None);
    keyed.sort_by(|(a, _), (b, _)| compare_keys(a, b, &directions, &failure));
    if let Some(error) = failure.into_inner() {
        return Err(error);
    }
    let fingerprint = query_fingerprint(options, paging);
    let mut start = 0;
    if let Some(token) = &options.skiptoken {
        let after = decode_token(token, &fingerprint, directions.len())?;
        let failure = RefCell::new(None);
        start = keyed.partition_point(|(key, _)| {
            compare_keys(key, &after, &directions, &failure) != Ordering::Greater
        });
        if let Some(error) = failure.into_inner() {
            return Err(error);
        }
    }
    let skip = usize::try_from(options.skip.unwrap_or(0)).unwrap_or(usize::MAX);
    let rest = keyed.get(start.saturating_add(skip)..).unwrap_or(&[]);
    let wanted = options
        .top
        .map_or(usize::MAX, |t| usize::try_from(t).unwrap_or(usize::MAX));
    let cap = if paging.max_page == 0 {
        usize::MAX
    } else {
        paging.max_page
    };
    let size = rest.len().min(wanted).min(cap);
    let page = &rest[..size];
    let next = match page.last() {
        Some((last, _)) if size < rest.len() && size < wanted => {
            let mut next = options.clone();
            next.skip = None;
            next.top = options.top.map(|t| t - size as u64);
            next.skiptoken = Some(encode_token(&fingerprint, last));
            Some(next)
        }
        _ => None,
    };
    let rows = page
        .iter()
        .map(|(_, row)| shape(row, options))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page { rows, count, next })
}

/// The `$orderby` values of a row, then its tie-breaker.
fn sort_key(row: &Value, options: &QueryOptions, paging: &Paging) -> Result<Vec<Val>, EvalError> {
    let mut key = Vec::with_capacity(options.orderby.len() + 1);
    for item in &options.orderby {
        key.push(Val::from_json(&crate::eval::value_of(&item.expr, row)?));
    }
    if paging.key.is_empty() {
        key.push(Val::Str(format!(
            "{:016x}",
            fnv1a(row.to_string().as_bytes())
        )));
    } else {
        for name in &paging.key {
            key.push(row.get(name).map_or(Val::Null, Val::from_json));
        }
    }
    Ok(key)
}

/// Compares two sort keys (ascending: nulls first; descending: nulls last), remembering the
/// first pair of values that have no order.
fn compare_keys(
    a: &[Val],
    b: &[Val],
    descending: &[bool],
    failure: &RefCell<Option<EvalError>>,
) -> Ordering {
    for ((x, y), desc) in a.iter().zip(b).zip(descending) {
        let ordering = match order(x, y) {
            Ok(ordering) => ordering,
            Err(()) => {
                failure.borrow_mut().get_or_insert(EvalError::TypeMismatch {
                    operator: "$orderby".into(),
                    left: format!("{x:?}"),
                    right: format!("{y:?}"),
                });
                Ordering::Equal
            }
        };
        let ordering = if *desc { ordering.reverse() } else { ordering };
        if ordering != Ordering::Equal {
            return ordering;
        }
    }
    Ordering::Equal
}

/// 64-bit FNV-1a: a fixed, platform-independent fingerprint.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// What a token must have been made for: the filter, the order and the key.
fn query_fingerprint(options: &QueryOptions, paging: &Paging) -> String {
    let filter = options
        .filter
        .as_ref()
        .map(Expr::to_string)
        .unwrap_or_default();
    let text = format!(
        "{filter}\u{0}{}\u{0}{}",
        render_orderby(&options.orderby),
        paging.key.join(",")
    );
    format!("{:016x}", fnv1a(text.as_bytes()))
}

fn encode_token(fingerprint: &str, key: &[Val]) -> String {
    let values: Vec<Value> = key.iter().cloned().map(Val::into_json).collect();
    let body = serde_json::json!([fingerprint, values]).to_string();
    base64url(body.as_bytes())
}

fn decode_token(token: &str, fingerprint: &str, len: usize) -> Result<Vec<Val>, EvalError> {
    let bad = |why: &str| EvalError::BadSkipToken(why.to_owned());
    let bytes = unbase64url(token).ok_or_else(|| bad("not a token this service handed out"))?;
    let value: Value =
        serde_json::from_slice(&bytes).map_err(|_| bad("not a token this service handed out"))?;
    let (Some(made_for), Some(Value::Array(values))) = (value.get(0), value.get(1)) else {
        return Err(bad("not a token this service handed out"));
    };
    if made_for.as_str() != Some(fingerprint) || values.len() != len {
        return Err(bad(
            "the token belongs to another query ($filter, $orderby or entity set differ)",
        ));
    }
    Ok(values.iter().map(Val::from_json).collect())
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Base64url without padding (RFC 4648 §5): URL-safe as it is.
fn base64url(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

fn unbase64url(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for chunk in text.as_bytes().chunks(4) {
        if chunk.len() == 1 {
            return None;
        }
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            let digit = ALPHABET.iter().position(|&a| a == c)? as u32;
            n |= digit << (18 - 6 * i);
        }
        for i in 0..chunk.len() - 1 {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    Some(out)
}

/// A page row as returned: `$select` applied, expanded properties shaped by their options.
fn shape(row: &Value, options: &QueryOptions) -> Result<Value, EvalError> {
    let Value::Object(fields) = row else {
        return Ok(row.clone());
    };
    let mut out = match &options.select {
        Some(items) if !items.contains(&SelectItem::All) => {
            let mut out = Map::new();
            for (name, value) in fields {
                let annotated = name.split_once('@').map(|(p, _)| p);
                let keep = match annotated {
                    Some("") => true,
                    Some(property) => items.iter().any(|i| selects(i, property)),
                    None => false,
                };
                if keep {
                    out.insert(name.clone(), value.clone());
                }
            }
            for item in items {
                if let SelectItem::Path(path) = item {
                    project(fields, path, &mut out);
                }
            }
            out
        }
        _ => fields.clone(),
    };
    for item in &options.expand {
        expand(fields, item, &mut out)?;
    }
    Ok(Value::Object(out))
}

fn selects(item: &SelectItem, property: &str) -> bool {
    matches!(item, SelectItem::Path(path) if path.first().is_some_and(|p| p == property))
}

/// Copies the value at `path` of `from` into `into`, keeping its enclosing objects.
fn project(from: &Map<String, Value>, path: &[String], into: &mut Map<String, Value>) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    let Some(value) = from.get(first) else {
        return;
    };
    if rest.is_empty() {
        into.insert(first.clone(), value.clone());
        return;
    }
    let Value::Object(inner) = value else {
        into.insert(first.clone(), value.clone());
        return;
    };
    let slot = into
        .entry(first.clone())
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(slot) = slot {
        project(inner, rest, slot);
    }
}

/// An expanded navigation property: kept whatever `$select` says, its own options applied.
fn expand(
    from: &Map<String, Value>,
    item: &ExpandItem,
    into: &mut Map<String, Value>,
) -> Result<(), EvalError> {
    let [name] = item.path.as_slice() else {
        return Ok(());
    };
    if name == "*" {
        return Ok(());
    }
    let Some(value) = from.get(name) else {
        return Ok(());
    };
    let shaped = match value {
        Value::Array(items) => {
            let page = apply(items, &item.options, 0)?;
            if let Some(count) = page.count {
                into.insert(format!("{name}@odata.count"), Value::from(count));
            }
            Value::Array(page.rows)
        }
        Value::Object(_) => {
            let keep = match &item.options.filter {
                Some(filter) => matches(filter, value)?,
                None => true,
            };
            if keep {
                shape(value, &item.options)?
            } else {
                Value::Null
            }
        }
        other => other.clone(),
    };
    into.insert(name.clone(), shaped);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_round_trips() {
        for text in ["", "a", "ab", "abc", "abcd", "[\"x\",[1,null]]"] {
            let encoded = base64url(text.as_bytes());
            assert!(!encoded.contains(['+', '/', '=']));
            assert_eq!(unbase64url(&encoded).unwrap(), text.as_bytes());
        }
        assert_eq!(base64url(b"Man"), "TWFu");
        assert_eq!(unbase64url("T"), None);
        assert_eq!(unbase64url("T*Fu"), None);
    }
}
