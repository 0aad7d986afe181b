//! The one paging convention over real HTTP: following `next` (and the `Link` header that
//! repeats it) while rows are appended neither skips nor repeats a row; `sort` orders and an
//! unknown one is refused naming the choices; an altered or foreign cursor, and `offset`, are
//! 400 problems naming the parameter; an area-scoped reader's pages hold only what it reads,
//! every page but the last is full, and the total counts only what it reads.

mod common;

use std::collections::BTreeSet;

use common::{Setup, TestApp};
use govern::Role;
use serde_json::{Value, json};

async fn start() -> TestApp {
    TestApp::with(Setup {
        simulated_days: Some(1.0),
        ..Setup::default()
    })
    .await
}

/// Every page from `first` on, as `token`, checking each page's `Link` against its `next`;
/// `between` runs after each page (to append rows meanwhile).
async fn walk(
    app: &TestApp,
    token: &str,
    first: &str,
    mut between: impl AsyncFnMut(usize),
) -> Vec<Value> {
    let mut pages = Vec::new();
    let mut next = Some(first.to_owned());
    while let Some(path) = next {
        let response = app
            .client
            .get(app.url(&path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let link = response
            .headers()
            .get("link")
            .map(|v| v.to_str().unwrap().to_owned());
        let (status, _, page) = common::split(response).await;
        assert_eq!(status, 200, "{path}: {page}");
        next = page["next"].as_str().map(str::to_owned);
        assert_eq!(
            link,
            next.as_ref().map(|n| format!("<{n}>; rel=\"next\"")),
            "the Link header repeats `next`"
        );
        pages.push(page);
        between(pages.len()).await;
        assert!(pages.len() < 1000, "paging does not end");
    }
    pages
}

fn ids(pages: &[Value], field: &str) -> Vec<String> {
    pages
        .iter()
        .flat_map(|p| p["items"].as_array().unwrap().clone())
        .map(|item| match &item[field] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect()
}

fn assert_once(seen: &[String], expected: &BTreeSet<String>, what: &str) {
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "{what}: a row repeats: {seen:?}");
    for id in expected {
        assert!(seen.contains(id), "{what}: {id} was skipped: {seen:?}");
    }
}

async fn open_nc(app: &TestApp, order: &str) -> String {
    let body = json!({"description": "paging", "items": [format!("order:{order}")]});
    let (status, _, nc) = app.post("/v1/quality/nonconformances", &body).await;
    assert_eq!(status, 201, "{nc}");
    nc["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn pages_neither_skip_nor_repeat_while_rows_are_appended() {
    let app = start().await;
    let orders: Vec<String> = app
        .store
        .state()
        .await
        .orders
        .keys()
        .map(|id| id.to_string())
        .collect();
    let mut before = BTreeSet::new();
    for i in 0..7 {
        before.insert(open_nc(&app, &orders[i % orders.len()]).await);
    }

    // Newest first (the default) and oldest first: two NCs opened after every page.
    for sort in ["", "&sort=opened_at", "&sort=-id"] {
        let mut added = Vec::new();
        let first = format!("/v1/quality/nonconformances?limit=3{sort}");
        let pages = walk(&app, &app.token, &first, async |n| {
            if n <= 3 {
                for k in 0..2 {
                    added.push(open_nc(&app, &orders[(n + k) % orders.len()]).await);
                }
            }
        })
        .await;
        let seen = ids(&pages, "id");
        assert_once(&seen, &before, sort);
        assert!(pages.iter().all(|p| p["limit"] == 3));
        // Oldest first, what was appended comes after the cursor and is read on this pass.
        if sort == "&sort=opened_at" {
            for id in &added {
                assert!(seen.contains(id), "{id} appended but not read: {seen:?}");
            }
        }
        before.extend(added);
    }

    // The log pages by sequence number while events are appended.
    let (_, _, head) = app.get("/v1/events?limit=1").await;
    let unit = app.store.plant().await.unwrap().plant().units[0]
        .id
        .to_string();
    let extra: Vec<Value> = (0..30)
        .map(|i| {
            json!({"id": format!("paging-{i}"), "time": "2026-03-02T06:00:00Z",
                   "type": "equipment_state_changed", "unit": unit,
                   "state": if i % 2 == 0 { "down" } else { "idle" }})
        })
        .collect();
    assert!(head["next"].is_string(), "{head}");
    // Appended after each of the first pages, while many pages remain.
    let mut batches = extra.chunks(10);
    let pages = walk(&app, &app.token, "/v1/events?limit=100", async |_| {
        if let Some(batch) = batches.next() {
            let (status, _, answer) = app.post("/v1/events", &json!(batch)).await;
            assert_eq!(status, 200, "{answer}");
        }
    })
    .await;
    let seqs: Vec<i64> = pages
        .iter()
        .flat_map(|p| p["items"].as_array().unwrap().clone())
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert!(pages.len() > 5, "more pages than appended batches");
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "every seq once, in order"
    );
    let last = app.store.state().await.events_applied;
    assert_eq!(seqs.last().copied(), Some(last as i64), "read to the head");
}

#[tokio::test]
async fn sort_orders_the_list_and_an_unknown_sort_names_the_choices() {
    let app = start().await;
    let pages = walk(
        &app,
        &app.token,
        "/v1/orders?limit=7&sort=-due",
        async |_| {},
    )
    .await;
    let dues: Vec<(String, String)> = pages
        .iter()
        .flat_map(|p| p["items"].as_array().unwrap().clone())
        .map(|o| {
            (
                o["order"]["due"].as_str().unwrap().to_owned(),
                o["order"]["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(dues.len() > 7, "more than one page: {}", dues.len());
    assert!(
        dues.windows(2).all(|w| w[0] >= w[1]),
        "latest due first, ties by id descending"
    );
    assert_eq!(dues.len() as u64, pages[0]["total"].as_u64().unwrap());

    let (_, _, by_id) = app.get("/v1/orders?limit=1000&sort=id").await;
    let listed: Vec<&str> = by_id["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["order"]["id"].as_str().unwrap())
        .collect();
    let mut sorted = listed.clone();
    sorted.sort_unstable();
    assert_eq!(listed, sorted);

    let (status, content_type, problem) = app.get("/v1/orders?sort=colour").await;
    assert_eq!(
        (status, content_type.as_str()),
        (400, "application/problem+json")
    );
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("`sort`"), "{detail}");
    assert!(
        detail.contains("-due") && detail.contains("release"),
        "{detail}"
    );
    let (status, _, problem) = app.get("/v1/events?sort=seq").await;
    assert_eq!(status, 400, "the log has one order: {problem}");
}

#[tokio::test]
async fn an_altered_or_foreign_cursor_and_an_offset_are_refused_by_name() {
    let app = start().await;
    let (_, _, page) = app.get("/v1/orders?limit=2&status=completed").await;
    let next = page["next"].as_str().expect("a second page").to_owned();
    let cursor = next.split("cursor=").nth(1).unwrap().to_owned();
    let (status, _, _) = app.get(&next).await;
    assert_eq!(status, 200);

    let mut altered = cursor.clone().into_bytes();
    let at = altered.len() / 2;
    altered[at] = if altered[at] == b'0' { b'1' } else { b'0' };
    let altered = String::from_utf8(altered).unwrap();
    let refused = [
        format!("/v1/orders?limit=2&status=completed&cursor={altered}"),
        "/v1/orders?limit=2&status=completed&cursor=not-a-cursor".to_owned(),
        // Another filter, another order, another list.
        format!("/v1/orders?limit=2&status=released&cursor={cursor}"),
        format!("/v1/orders?limit=2&status=completed&sort=due&cursor={cursor}"),
        format!("/v1/quality/holds?cursor={cursor}"),
        format!("/v1/events?cursor={cursor}"),
        "/v1/orders?offset=2".to_owned(),
    ];
    for path in refused {
        let (status, content_type, problem) = app.get(&path).await;
        assert_eq!(status, 400, "{path}: {problem}");
        assert_eq!(content_type, "application/problem+json");
        let detail = problem["detail"].as_str().unwrap();
        assert!(
            detail.contains("`cursor`") || detail.contains("`offset`"),
            "{path}: {detail}"
        );
    }
    // Another page size keeps the place.
    let (status, _, _) = app
        .get(&format!(
            "/v1/orders?limit=5&status=completed&cursor={cursor}"
        ))
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_scoped_readers_pages_hold_only_what_it_reads() {
    let app = start().await;
    let viewer = app.token_for("vic", Role::Viewer, "area:A-PACK").await;
    let (status, everything) = app
        .call("GET", "/v1/orders?limit=1000", &viewer, None)
        .await;
    assert_eq!(status, 200, "{everything}");
    let readable: Vec<Value> = everything["items"].as_array().unwrap().clone();
    let (_, _, site) = app.get("/v1/orders?limit=1000").await;
    assert!(
        readable.len() < site["items"].as_array().unwrap().len() && !readable.is_empty(),
        "the area reads some orders, not all"
    );
    let pages = walk(&app, &viewer, "/v1/orders?limit=4", async |_| {}).await;
    let paged: Vec<Value> = pages
        .iter()
        .flat_map(|p| p["items"].as_array().unwrap().clone())
        .collect();
    assert_eq!(
        paged, readable,
        "the pages are exactly what it reads, in order"
    );
    for page in &pages {
        assert_eq!(page["total"].as_u64(), Some(readable.len() as u64));
        if !page["next"].is_null() {
            assert_eq!(
                page["items"].as_array().unwrap().len(),
                4,
                "only the last is short"
            );
        }
    }
    // The log too: every page but the last is full, and holds only the area's events.
    let pages = walk(&app, &viewer, "/v1/events?limit=300", async |_| {}).await;
    let (_, all) = app
        .call("GET", "/v1/events?limit=10000", &viewer, None)
        .await;
    let paged: Vec<Value> = pages
        .iter()
        .flat_map(|p| p["items"].as_array().unwrap().clone())
        .collect();
    assert_eq!(&paged, all["items"].as_array().unwrap());
    for page in &pages[..pages.len() - 1] {
        assert_eq!(page["items"].as_array().unwrap().len(), 300);
    }
}
