//! The one paging and sorting convention of every list the API answers (the EPCIS query keeps
//! the standard's own `perPage`/`nextPageToken`).
//!
//! A list takes `limit` (a default and a maximum per list), `cursor` (opaque, made by the
//! server) and, where it has a choice of orders, `sort` (a field name, `-field` descending,
//! from a closed set per list). Its answer carries the items under the list's usual key and
//! `next`: the path and query of the next page, or `null` on the last one; the same link is
//! sent as `Link: <…>; rel="next"`. Pages are keyset pages: every sort key ends in a unique
//! tie-breaker (an id or a sequence number) and a cursor holds the key of the last item
//! served, so the next page starts strictly after it — rows added meanwhile never make a page
//! skip or repeat one. The caller's scope is applied before paging (by the use-cases), so a
//! page holds only what the caller may read and counts only that.
//!
//! A cursor is hex of a small JSON document (the list, a digest of the filters and sort it was
//! made for, the key) followed by a check value; one that was altered, or made for another
//! list, sort or filter, is refused (400 naming `cursor`). The check is no secret: a cursor
//! only says where to start, and scope is enforced whatever it says.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::problem::Problem;

/// How one list pages and sorts.
#[derive(Debug)]
pub struct ListSpec {
    /// The list's path, from which `next` links are made.
    pub path: &'static str,
    pub default_limit: u32,
    pub max_limit: u32,
    /// The orders it offers, each a field name or `-field`; the first is the default. Empty
    /// when the list has one order (log order by sequence number).
    pub sorts: &'static [&'static str],
}

impl ListSpec {
    /// The description of `limit` in the OpenAPI document.
    pub fn limit_doc(&self) -> String {
        format!(
            "page size (default {}, max {})",
            self.default_limit, self.max_limit
        )
    }
}

/// One part of a sort key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Key {
    Int(i64),
    Text(String),
}

impl From<&str> for Key {
    fn from(text: &str) -> Key {
        Key::Text(text.to_owned())
    }
}

impl From<i64> for Key {
    fn from(n: i64) -> Key {
        Key::Int(n)
    }
}

/// A list request's page: its size, order and where it starts.
#[derive(Debug)]
pub struct PageRequest {
    pub limit: u32,
    /// The sort field, without the `-`.
    pub sort: &'static str,
    pub descending: bool,
    /// The key of the last item of the page before.
    pub after: Option<Vec<Key>>,
    /// The query's pairs but `cursor` and `after_seq` (which the cursor supersedes), as
    /// sent (for `next`).
    kept: Vec<String>,
    /// Digest of the filters and sort, which a cursor must carry.
    digest: String,
    /// The concrete path of the list (the spec's, with its path parameters filled in).
    path: String,
}

/// What a cursor holds.
#[derive(Serialize, Deserialize)]
struct CursorBody {
    /// The list's path.
    l: String,
    /// Digest of the filters and sort.
    f: String,
    /// The key of the last item served.
    k: Vec<Key>,
}

impl PageRequest {
    /// Reads `limit`, `sort` and `cursor` of a request to `spec` whose raw query is `raw`.
    /// `offset` is refused by name: a client still paging by offset would otherwise read the
    /// first page again and again.
    pub fn parse(
        spec: &'static ListSpec,
        limit: Option<u32>,
        sort: Option<&str>,
        cursor: Option<&str>,
        raw: Option<&str>,
    ) -> Result<PageRequest, Problem> {
        PageRequest::parse_at(spec, spec.path, limit, sort, cursor, raw)
    }

    /// [`PageRequest::parse`] of a list whose path has parameters (`/v1/connectors/{name}/…`),
    /// requested at `path` (them filled in): its cursors are bound to that path and its
    /// `next` links go to it.
    pub fn parse_at(
        spec: &'static ListSpec,
        path: &str,
        limit: Option<u32>,
        sort: Option<&str>,
        cursor: Option<&str>,
        raw: Option<&str>,
    ) -> Result<PageRequest, Problem> {
        let limit = limit.unwrap_or(spec.default_limit);
        if limit == 0 || limit > spec.max_limit {
            return Err(Problem::bad_request(format!(
                "query parameter `limit` must be 1 to {}",
                spec.max_limit
            )));
        }
        let pairs: Vec<&str> = raw
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty())
            .collect();
        let name = |pair: &str| pair.split('=').next().unwrap_or("").to_owned();
        if pairs.iter().any(|p| name(p) == "offset") {
            return Err(Problem::bad_request(
                "query parameter `offset` is not taken: lists page by `cursor`; follow the answer's `next`",
            ));
        }
        let (sort, descending) = match (sort, spec.sorts.first()) {
            (None, None) => ("seq", false),
            (None, Some(default)) => split_sort(default),
            (Some(asked), _) => match spec.sorts.iter().find(|s| **s == asked) {
                Some(known) => split_sort(known),
                None if spec.sorts.is_empty() => {
                    return Err(Problem::bad_request(format!(
                        "query parameter `sort`: {} is in log order only; leave `sort` out",
                        spec.path
                    )));
                }
                None => {
                    return Err(Problem::bad_request(format!(
                        "query parameter `sort`: `{asked}` is not one of {}",
                        spec.sorts.join(", ")
                    )));
                }
            },
        };
        let kept: Vec<String> = pairs
            .iter()
            .filter(|p| name(p) != "cursor" && name(p) != "after_seq")
            .map(|p| (*p).to_owned())
            .collect();
        // The cursor is bound to the filters and the order, not to the page size.
        let mut bound: Vec<&String> = kept.iter().filter(|p| name(p) != "limit").collect();
        bound.sort();
        let mut hasher = Sha256::new();
        hasher.update(path.as_bytes());
        for pair in bound {
            hasher.update(b"\0");
            hasher.update(pair.as_bytes());
        }
        hasher.update(format!("\0sort={}{sort}", if descending { "-" } else { "" }).as_bytes());
        let digest = model::wire::hex(&hasher.finalize()[..8]);
        let after = cursor
            .map(|c| decode_cursor(path, &digest, c))
            .transpose()?;
        Ok(PageRequest {
            limit,
            sort,
            descending,
            after,
            kept,
            digest,
            path: path.to_owned(),
        })
    }

    /// The sequence number a log-ordered list starts after: the cursor's, else `after_seq`
    /// (the older way to say it, still taken), else 0.
    pub fn after_seq(&self, after_seq: Option<i64>) -> Result<i64, Problem> {
        match (&self.after, after_seq) {
            (Some(_), Some(_)) => Err(Problem::bad_request(
                "query parameters `cursor` and `after_seq` both say where to start; give one",
            )),
            (Some(key), None) => match key.as_slice() {
                [Key::Int(seq)] => Ok(*seq),
                _ => Err(bad_cursor("it does not hold a sequence number")),
            },
            (None, seq) => Ok(seq.unwrap_or(0)),
        }
    }

    /// The page of `items` (all the caller may read that match the filters) in the requested
    /// order: `key(item, sort)` is the item's sort key for the sort field, ending in a unique
    /// tie-breaker. Answers the page and the `next` link.
    pub fn page<T>(&self, items: Vec<T>, key: impl Fn(&T, &str) -> Vec<Key>) -> Page<T> {
        let total = items.len() as u64;
        let mut keyed: Vec<(Vec<Key>, T)> = items
            .into_iter()
            .map(|item| (key(&item, self.sort), item))
            .collect();
        keyed.sort_by(|a, b| {
            let order = a.0.cmp(&b.0);
            if self.descending {
                order.reverse()
            } else {
                order
            }
        });
        let start = match &self.after {
            None => 0,
            Some(after) => keyed.partition_point(|(k, _)| {
                if self.descending {
                    k >= after
                } else {
                    k <= after
                }
            }),
        };
        let mut rest = keyed.into_iter().skip(start);
        let page: Vec<(Vec<Key>, T)> = rest.by_ref().take(self.limit as usize).collect();
        let more = rest.next().is_some();
        let next = match (more, page.last()) {
            (true, Some((last, _))) => Some(self.next_link(last.clone())),
            _ => None,
        };
        Page {
            items: page.into_iter().map(|(_, item)| item).collect(),
            total,
            next,
        }
    }

    /// The link to the page after the one that ends with an item of key `last`.
    pub fn next_link(&self, last: Vec<Key>) -> String {
        let body = CursorBody {
            l: self.path.clone(),
            f: self.digest.clone(),
            k: last,
        };
        let json = serde_json::to_vec(&body).expect("a cursor serialises");
        let cursor = format!(
            "{}{}",
            model::wire::hex(&json),
            model::wire::hex(&check(&json))
        );
        let mut query = self.kept.clone();
        query.push(format!("cursor={cursor}"));
        format!("{}?{}", self.path, query.join("&"))
    }
}

/// One page: the items, how many there are over all pages, the link to the next.
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub next: Option<String>,
}

fn split_sort(sort: &'static str) -> (&'static str, bool) {
    match sort.strip_prefix('-') {
        Some(field) => (field, true),
        None => (sort, false),
    }
}

fn check(payload: &[u8]) -> [u8; 8] {
    let mut hasher = Sha256::new();
    hasher.update(b"mixplane cursor v1\0");
    hasher.update(payload);
    let mut out = [0u8; 8];
    out.copy_from_slice(&hasher.finalize()[..8]);
    out
}

fn bad_cursor(why: &str) -> Problem {
    Problem::bad_request(format!(
        "query parameter `cursor`: not a cursor of this list ({why}); start again without `cursor` and follow `next`"
    ))
}

fn decode_cursor(path: &str, digest: &str, cursor: &str) -> Result<Vec<Key>, Problem> {
    let bytes = unhex(cursor).ok_or_else(|| bad_cursor("it is not what the server makes"))?;
    if bytes.len() <= 8 {
        return Err(bad_cursor("it is too short"));
    }
    let (json, tag) = bytes.split_at(bytes.len() - 8);
    if check(json) != tag {
        return Err(bad_cursor("it was altered"));
    }
    let body: CursorBody =
        serde_json::from_slice(json).map_err(|_| bad_cursor("it does not decode"))?;
    if body.l != path {
        return Err(bad_cursor(&format!("it was made for {}", body.l)));
    }
    if body.f != digest {
        return Err(bad_cursor("it was made for other filters or another sort"));
    }
    Ok(body.k)
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

/// A JSON list answer with its `next` link also sent as a `Link` header.
pub struct Linked<T>(pub T, pub Option<String>);

impl<T: Serialize> IntoResponse for Linked<T> {
    fn into_response(self) -> Response {
        let mut response = axum::Json(self.0).into_response();
        if let Some(next) = self.1
            && let Ok(value) = HeaderValue::from_str(&format!("<{next}>; rel=\"next\""))
        {
            response.headers_mut().insert(header::LINK, value);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static SPEC: ListSpec = ListSpec {
        path: "/v1/things",
        default_limit: 2,
        max_limit: 10,
        sorts: &["-at", "at", "id"],
    };

    fn key(item: &(i64, &str), sort: &str) -> Vec<Key> {
        match sort {
            "at" => vec![item.0.into(), item.1.into()],
            _ => vec![item.1.into()],
        }
    }

    fn cursor_of(next: &str) -> &str {
        next.split("cursor=").nth(1).unwrap()
    }

    #[test]
    fn pages_follow_the_key_and_end_with_no_next() {
        let items = vec![(1, "a"), (3, "c"), (2, "b"), (3, "b")];
        let first = PageRequest::parse(&SPEC, None, None, None, None).unwrap();
        let page = first.page(items.clone(), key);
        assert_eq!(page.items, vec![(3, "c"), (3, "b")]);
        assert_eq!(page.total, 4);
        let next = page.next.unwrap();
        let second = PageRequest::parse(&SPEC, None, None, Some(cursor_of(&next)), None).unwrap();
        // A row added meanwhile ahead of the cursor is not served on this pass; none repeats.
        let mut grown = items;
        grown.push((9, "z"));
        let page = second.page(grown, key);
        assert_eq!(page.items, vec![(2, "b"), (1, "a")]);
        assert!(page.next.is_none());
    }

    #[test]
    fn a_cursor_is_bound_to_its_list_filters_and_sort() {
        let raw = Some("kind=x&limit=1");
        let request = PageRequest::parse(&SPEC, Some(1), None, None, raw).unwrap();
        let next = request.page(vec![(1, "a"), (2, "b")], key).next.unwrap();
        assert!(
            next.starts_with("/v1/things?kind=x&limit=1&cursor="),
            "{next}"
        );
        let cursor = cursor_of(&next);
        // Another page size keeps the cursor valid.
        assert!(PageRequest::parse(&SPEC, Some(5), None, Some(cursor), Some("kind=x")).is_ok());
        for (sort, raw) in [(None, Some("kind=y")), (Some("at"), Some("kind=x&sort=at"))] {
            let err = PageRequest::parse(&SPEC, None, sort, Some(cursor), raw).unwrap_err();
            assert!(err.detail.contains("`cursor`"), "{}", err.detail);
        }
        let mut altered = cursor.to_owned();
        let last = altered.pop().unwrap();
        altered.push(if last == '0' { '1' } else { '0' });
        let err = PageRequest::parse(&SPEC, None, None, Some(&altered), raw).unwrap_err();
        assert!(err.detail.contains("altered"), "{}", err.detail);
    }

    #[test]
    fn sorts_limits_and_offsets_are_checked_by_name() {
        let err = PageRequest::parse(&SPEC, None, Some("colour"), None, None).unwrap_err();
        assert!(err.detail.contains("-at, at, id"), "{}", err.detail);
        let err = PageRequest::parse(&SPEC, Some(11), None, None, None).unwrap_err();
        assert!(err.detail.contains("1 to 10"), "{}", err.detail);
        let err = PageRequest::parse(&SPEC, None, None, None, Some("offset=5")).unwrap_err();
        assert!(err.detail.contains("`offset`"), "{}", err.detail);
    }
}
