//! The OData read surface at `/odata/` over a plant that ran two simulated days: the service
//! document and `$metadata`, every entity set, filters, orders, windows, counts, paging by
//! `@odata.nextLink`, `$expand` with a nested `$select`, lambdas, key access, the OData
//! error bodies (400, 401, 404, 501) and the area scope. Expected answers are computed here
//! from the unfiltered rows (read page by page through the surface itself), never from the
//! code under test's own filter.

mod common;

use std::collections::BTreeSet;

use common::{Setup, TestApp};
use serde_json::Value;

const SETS: [&str; 12] = [
    "Orders",
    "Operations",
    "WorkCenters",
    "Units",
    "Lots",
    "Serials",
    "QualityResults",
    "Alerts",
    "Holds",
    "Nonconformances",
    "Proposals",
    "AuditRecords",
];

async fn app() -> TestApp {
    TestApp::with(Setup {
        simulated_days: Some(2.0),
        ..Setup::default()
    })
    .await
}

/// `GET` with a token and headers: status, headers and the body as JSON (or text).
async fn get(
    app: &TestApp,
    token: &str,
    path: &str,
    prefer: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let url = if path.starts_with("http") {
        path.to_owned()
    } else {
        app.url(path)
    };
    let mut request = app.client.get(url).bearer_auth(token);
    if let Some(prefer) = prefer {
        request = request.header("prefer", prefer);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, headers, body)
}

/// Every row of a query, following next links; also the number of pages.
async fn all_rows(app: &TestApp, token: &str, path: &str, page: usize) -> (Vec<Value>, usize) {
    let prefer = format!("odata.maxpagesize={page}");
    let mut rows = Vec::new();
    let mut pages = 0;
    let mut next = Some(path.to_owned());
    while let Some(url) = next {
        let (status, headers, body) = get(app, token, &url, Some(&prefer)).await;
        assert_eq!(status, 200, "{url}: {body}");
        assert_eq!(headers["odata-version"], "4.0");
        let value = body["value"].as_array().unwrap();
        assert!(
            value.len() <= page,
            "a page holds at most the preferred size"
        );
        rows.extend(value.iter().cloned());
        pages += 1;
        next = body["@odata.nextLink"].as_str().map(str::to_owned);
    }
    (rows, pages)
}

fn enc(text: &str) -> String {
    text.replace('%', "%25")
        .replace(' ', "%20")
        .replace('\'', "%27")
        .replace('(', "%28")
        .replace(')', "%29")
        .replace(',', "%2C")
        .replace('/', "%2F")
        .replace(':', "%3A")
        .replace('$', "%24")
        .replace('=', "%3D")
}

#[tokio::test]
async fn the_service_document_metadata_and_every_set_answer() {
    let app = app().await;
    let (status, headers, doc) = get(&app, &app.token, "/odata/", None).await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(headers["odata-version"], "4.0");
    let names: Vec<&str> = doc["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, SETS);
    let (status, headers, xml) = get(&app, &app.token, "/odata/$metadata", None).await;
    assert_eq!(status, 200);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/xml")
    );
    let xml = xml.as_str().unwrap();
    for set in SETS {
        assert!(xml.contains(&format!("<EntitySet Name=\"{set}\"")), "{set}");
    }
    for set in SETS {
        let (status, _, body) = get(&app, &app.token, &format!("/odata/{set}?$top=3"), None).await;
        assert_eq!(status, 200, "{set}: {body}");
        assert!(body["value"].is_array(), "{set}");
    }
    for set in [
        "Orders",
        "Operations",
        "Units",
        "WorkCenters",
        "Lots",
        "QualityResults",
    ] {
        let (_, _, body) = get(&app, &app.token, &format!("/odata/{set}?$top=1"), None).await;
        assert_eq!(body["value"].as_array().unwrap().len(), 1, "{set} has rows");
    }
}

#[tokio::test]
async fn filters_orders_windows_and_counts_agree_with_the_rows() {
    let app = app().await;
    let (all, pages) = all_rows(&app, &app.token, "/odata/QualityResults", 500).await;
    assert!(
        all.len() > 500 && pages > 1,
        "{} rows in {pages} pages",
        all.len()
    );
    let ids: BTreeSet<&str> = all.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), all.len(), "paging neither repeats nor skips");
    let characteristic = all[0]["characteristic"].as_str().unwrap().to_owned();
    let values: Vec<f64> = all
        .iter()
        .filter(|r| r["characteristic"] == characteristic.as_str())
        .map(|r| r["value"].as_f64().unwrap())
        .collect();
    let mut sorted = values.clone();
    sorted.sort_by(f64::total_cmp);
    let threshold = sorted[sorted.len() / 2];
    let mut expected: Vec<&Value> = all
        .iter()
        .filter(|r| {
            r["characteristic"] == characteristic.as_str()
                && r["value"].as_f64().unwrap() > threshold
        })
        .collect();
    expected.sort_by(|a, b| {
        b["time"]
            .as_str()
            .cmp(&a["time"].as_str())
            .then(b["seq"].as_i64().cmp(&a["seq"].as_i64()))
    });
    let filter = enc(&format!(
        "characteristic eq '{characteristic}' and value gt {threshold}"
    ));
    let path = format!(
        "/odata/QualityResults?$filter={filter}&$orderby=time%20desc&$top=7&$skip=2&$count=true"
    );
    let (status, _, body) = get(&app, &app.token, &path, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["@odata.count"], expected.len() as u64);
    let got: Vec<&str> = body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let want: Vec<&str> = expected
        .iter()
        .skip(2)
        .take(7)
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(got, want);

    // `in`, `not`, `startswith`, `contains`, `endswith` and the $count path.
    let (orders, _) = all_rows(&app, &app.token, "/odata/Orders", 1000).await;
    let first = orders[0]["id"].as_str().unwrap();
    let second = orders[1]["id"].as_str().unwrap();
    let query = enc(&format!(
        "id in ('{first}','{second}') or not (status ne 'completed')"
    ));
    let (rows, _) = all_rows(
        &app,
        &app.token,
        &format!("/odata/Orders?$filter={query}"),
        1000,
    )
    .await;
    let want: BTreeSet<&str> = orders
        .iter()
        .filter(|o| o["id"] == first || o["id"] == second || o["status"] == "completed")
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    let got: BTreeSet<&str> = rows.iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert_eq!(got, want);
    let prefix = &first[..first.len().min(3)];
    let query = enc(&format!(
        "startswith(id,'{prefix}') and contains(product,'{}') and endswith(id,'{}')",
        &orders[0]["product"].as_str().unwrap()[1..3],
        &first[first.len() - 1..]
    ));
    let (rows, _) = all_rows(
        &app,
        &app.token,
        &format!("/odata/Orders?$filter={query}"),
        1000,
    )
    .await;
    assert!(rows.iter().any(|o| o["id"] == first));
    assert!(
        rows.iter()
            .all(|o| o["id"].as_str().unwrap().starts_with(prefix))
    );
    let (status, _, count) = get(&app, &app.token, "/odata/Orders/$count", None).await;
    assert_eq!(status, 200);
    assert_eq!(count, Value::from(orders.len()));
}

#[tokio::test]
async fn expand_lambda_and_key_access() {
    let app = app().await;
    let (ops, _) = all_rows(&app, &app.token, "/odata/Operations", 1000).await;
    let unit = ops[0]["unit"].as_str().unwrap();
    let want: BTreeSet<&str> = ops
        .iter()
        .filter(|o| o["unit"] == unit)
        .map(|o| o["order"].as_str().unwrap())
        .collect();
    let query = enc(&format!("operations/any(o: o/unit eq '{unit}')"));
    let path = format!("/odata/Orders?$filter={query}&$expand=operations($select=step,unit)");
    let (rows, _) = all_rows(&app, &app.token, &path, 1000).await;
    let got: BTreeSet<&str> = rows.iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert_eq!(got, want);
    for order in &rows {
        let expanded = order["operations"].as_array().unwrap();
        let want = ops.iter().filter(|o| o["order"] == order["id"]).count();
        assert_eq!(expanded.len(), want, "{}", order["id"]);
        for op in expanded {
            let keys: BTreeSet<&str> = op.as_object().unwrap().keys().map(String::as_str).collect();
            assert_eq!(keys, BTreeSet::from(["step", "unit"]));
        }
    }
    // One-valued navigation, and key access.
    let (status, _, body) = get(
        &app,
        &app.token,
        "/odata/Operations?$top=2&$expand=order_ref($select=id,status)&$select=id,order",
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    for op in body["value"].as_array().unwrap() {
        assert_eq!(op["order_ref"]["id"], op["order"]);
        assert!(op.get("unit").is_none(), "$select leaves the rest out");
    }
    let id = ops[0]["order"].as_str().unwrap();
    let (status, _, order) = get(&app, &app.token, &format!("/odata/Orders('{id}')"), None).await;
    assert_eq!(status, 200, "{order}");
    assert_eq!(order["id"], id);
    let (status, _, _) = get(&app, &app.token, "/odata/Orders('NO-SUCH')", None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn errors_are_odata_error_bodies_naming_the_fault() {
    let app = app().await;
    let cases = [
        ("/odata/Nothing", 404, "Nothing"),
        ("/odata/Orders?$filter=colour%20eq%20'red'", 400, "colour"),
        ("/odata/Orders?$filter=id%20eq", 400, "$filter"),
        ("/odata/Orders?$filter=due%20eq%20'soon'", 400, "'soon'"),
        ("/odata/Orders?$orderby=colour", 400, "colour"),
        ("/odata/Orders?$select=colour", 400, "colour"),
        ("/odata/Orders?$expand=colour", 400, "colour"),
        ("/odata/Orders?$filter=length(id)%20eq%203", 501, "length"),
        ("/odata/Orders?$expand=operations($top=1)", 501, "$top"),
        ("/odata/Orders?$format=xml", 501, "xml"),
        ("/odata/Orders?$frobnicate=1", 400, "$frobnicate"),
    ];
    for (path, status, names) in cases {
        let (got, headers, body) = get(&app, &app.token, path, None).await;
        assert_eq!(got, status, "{path}: {body}");
        assert_eq!(headers["odata-version"], "4.0", "{path}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(body["error"]["code"].is_string(), "{path}: {body}");
        assert!(message.contains(names), "{path}: {message}");
    }
    let (status, _, body) = get(&app, "mxp_nobody_secret", "/odata/Orders", None).await;
    assert_eq!(status, 401, "{body}");
    assert!(body["error"]["message"].is_string());
}

#[tokio::test]
async fn an_area_scope_limits_every_set_in_the_database() {
    let app = app().await;
    let chem = app
        .token_for("chem", govern::Role::Viewer, "area:A-CHEM")
        .await;
    let (all_orders, _) = all_rows(&app, &app.token, "/odata/Orders", 1000).await;
    let (chem_orders, _) = all_rows(&app, &chem, "/odata/Orders?$count=true", 1000).await;
    assert!(!chem_orders.is_empty() && chem_orders.len() < all_orders.len());
    let routings: BTreeSet<&str> = chem_orders
        .iter()
        .map(|o| o["routing"].as_str().unwrap())
        .collect();
    assert!(
        routings.iter().all(|r| !r.starts_with("RUN-")),
        "{routings:?}"
    );
    let (units, _) = all_rows(&app, &chem, "/odata/Units?$expand=work_center_ref", 1000).await;
    assert!(!units.is_empty());
    assert!(
        units
            .iter()
            .all(|u| u["work_center_ref"]["area"] == "A-CHEM"),
        "{units:?}"
    );
    let chem_admin = app
        .token_for("chem-admin", govern::Role::Admin, "area:A-CHEM")
        .await;
    let (status, _, body) = get(&app, &chem_admin, "/odata/AuditRecords", None).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("site-wide")
    );
    let (status, _, body) = get(
        &app,
        &chem,
        "/odata/QualityResults?$count=true&$top=0",
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, _, everything) = get(
        &app,
        &app.token,
        "/odata/QualityResults?$count=true&$top=0",
        None,
    )
    .await;
    assert!(body["@odata.count"].as_u64() < everything["@odata.count"].as_u64());
}

#[tokio::test]
async fn an_agent_reads_pseudonyms_and_cannot_filter_by_who() {
    let app = app().await;
    let (orders, _) = all_rows(&app, &app.token, "/odata/Orders", 1000).await;
    let order = orders[0]["id"].as_str().unwrap();
    let (status, body) = app
        .call(
            "POST",
            "/v1/quality/holds",
            &app.token,
            Some(serde_json::json!({"item_kind": "order", "item_id": order, "reason": "suspect"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (_, _, clear) = get(&app, &app.token, "/odata/Holds", None).await;
    assert_eq!(clear["value"][0]["placed_by"], "person:alice", "{clear}");
    let agent = app.token_for("bot", govern::Role::Agent, "*").await;
    let (status, _, seen) = get(&app, &agent, "/odata/Holds?$expand=alert", None).await;
    assert_eq!(status, 200, "{seen}");
    let placed_by = seen["value"][0]["placed_by"].as_str().unwrap();
    assert!(
        placed_by.starts_with("person:psn_") && !placed_by.contains("alice"),
        "{seen}"
    );
    assert_eq!(seen["value"][0]["item_id"], order);
    let path = "/odata/Holds?$filter=placed_by%20eq%20'alice'";
    let (status, _, body) = get(&app, &agent, path, None).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("placed_by")
    );
    let (status, _, _) = get(&app, &agent, "/odata/Holds?$orderby=placed_by", None).await;
    assert_eq!(status, 403);
    let (status, _, _) = get(&app, &agent, "/odata/AuditRecords", None).await;
    assert_eq!(status, 403, "an agent does not read the audit trail");
}

#[tokio::test]
async fn a_top_window_is_paged_to_its_end_and_no_further() {
    let app = app().await;
    let path = "/odata/QualityResults?$orderby=time&$top=5";
    let (rows, pages) = all_rows(&app, &app.token, path, 2).await;
    assert_eq!((rows.len(), pages), (5, 3), "pages of 2, 2 and 1");
    let (status, _, body) = get(&app, &app.token, path, None).await;
    assert_eq!(status, 200);
    assert_eq!(body["value"].as_array().unwrap().len(), 5);
    assert!(body.get("@odata.nextLink").is_none(), "{body}");
    let window: Vec<&Value> = body["value"].as_array().unwrap().iter().collect();
    assert_eq!(
        rows.iter().collect::<Vec<_>>(),
        window,
        "the pages are the window"
    );
    let (status, _, body) = get(
        &app,
        &app.token,
        "/odata/QualityResults?$top=0&$count=true",
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert!(body["value"].as_array().unwrap().is_empty() && body.get("@odata.nextLink").is_none());
    assert!(body["@odata.count"].as_u64().unwrap() > 5);
}
