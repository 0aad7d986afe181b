//! Reading the entity sets over HTTP as a connector does: every set of every app served,
//! read as a change feed (`$filter=ModifiedOn gt …`, `$orderby=ModifiedOn,Id`) and paged to
//! the end with no row lost or repeated; `$count`, `$select`, `$top`/`$skip`, one entity by
//! key; refusals named; the same seed and clock steps giving the same rows.

mod common;

use std::collections::BTreeSet;

use common::{Emu, config};
use model::Timestamp;
use opcenter::EntitySet;
use serde_json::Value;

fn modified_on(row: &Value) -> Timestamp {
    Timestamp::parse(row["ModifiedOn"].as_str().expect("ModifiedOn")).unwrap()
}

fn ids(rows: &[Value]) -> Vec<String> {
    rows.iter()
        .map(|r| r["Id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn every_set_pages_to_the_end_and_filters_by_modified_on() {
    let emu = Emu::start(mesemu::Config {
        page_size: 40,
        ..config()
    })
    .await;
    emu.advance(3.0 * 24.0 * 60.0).await;
    let token = emu.sign_in().await.access_token;
    for set in EntitySet::ALL {
        let app = set.app().name();
        let name = set.name();
        let first = emu
            .get_json(
                &emu.service(app, &format!("{name}?$orderby=ModifiedOn,Id&$count=true")),
                &token,
            )
            .await;
        let count = first["@odata.count"].as_u64().expect("@odata.count");
        assert!(
            first["@odata.context"]
                .as_str()
                .unwrap()
                .ends_with(&format!("$metadata#{name}")),
            "{name}: {}",
            first["@odata.context"]
        );
        let (all, pages) = emu
            .all_pages(
                &emu.service(app, &format!("{name}?$orderby=ModifiedOn,Id&$count=true")),
                &token,
            )
            .await;
        assert!(!all.is_empty(), "{name} has rows after three plant days");
        assert_eq!(all.len() as u64, count, "{name}: every row once");
        assert_eq!(pages, all.len().div_ceil(40), "{name}: pages of 40");
        let unique: BTreeSet<String> = ids(&all).into_iter().collect();
        assert_eq!(unique.len(), all.len(), "{name}: no row repeated");
        assert!(
            all.windows(2)
                .all(|w| modified_on(&w[0]) <= modified_on(&w[1])),
            "{name}: in ModifiedOn order"
        );

        // The change feed from the middle: exactly the rows after the cursor, in order.
        let cursor = all[all.len() / 2]["ModifiedOn"]
            .as_str()
            .unwrap()
            .to_owned();
        let since = Timestamp::parse(&cursor).unwrap();
        let (changed, _) = emu
            .all_pages(
                &emu.service(
                    app,
                    &format!("{name}?$filter=ModifiedOn%20gt%20{cursor}&$orderby=ModifiedOn,Id"),
                ),
                &token,
            )
            .await;
        let expected: Vec<Value> = all
            .iter()
            .filter(|r| modified_on(r) > since)
            .cloned()
            .collect();
        assert_eq!(
            ids(&changed),
            ids(&expected),
            "{name}: the feed after {cursor}"
        );

        // `/$count` agrees.
        let counted = emu
            .get(&emu.service(app, &format!("{name}/$count")), &token)
            .await
            .text()
            .await
            .unwrap();
        assert_eq!(counted, count.to_string(), "{name}/$count");

        // One entity by key is the row of the collection.
        let row = &all[0];
        let id = row["Id"].as_str().unwrap();
        let mut one = emu
            .get_json(&emu.service(app, &format!("{name}({id})")), &token)
            .await;
        one.as_object_mut().unwrap().remove("@odata.context");
        assert_eq!(&one, row, "{name}({id})");
    }
    emu.emulator.stop().await;
}

#[tokio::test]
async fn select_top_skip_and_the_feed_going_on() {
    let emu = Emu::start(config()).await;
    emu.advance(2.0 * 24.0 * 60.0).await;
    let token = emu.sign_in().await.access_token;
    let url = |q: &str| emu.service("AppU4DM", &format!("WorkOrderOperation?{q}"));
    let (all, _) = emu.all_pages(&url("$orderby=ModifiedOn,Id"), &token).await;
    assert!(all.len() > 10);

    let selected = emu
        .get_json(
            &url("$select=Id,Status&$top=3&$skip=2&$orderby=ModifiedOn,Id"),
            &token,
        )
        .await;
    let rows = selected["value"].as_array().unwrap();
    assert_eq!(ids(rows), ids(&all[2..5]));
    for row in rows {
        let keys: BTreeSet<&str> = row
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, BTreeSet::from(["Id", "Status"]));
    }
    assert!(
        selected.get("@odata.nextLink").is_none(),
        "$top within a page"
    );

    // A client may ask for smaller pages (never larger than the server's).
    let small = emu
        .client
        .get(url("$orderby=ModifiedOn,Id"))
        .bearer_auth(&token)
        .header("Prefer", "odata.maxpagesize=4")
        .send()
        .await
        .unwrap();
    assert_eq!(small.headers()["Preference-Applied"], "odata.maxpagesize=4");
    let small: Value = small.json().await.unwrap();
    assert_eq!(ids(small["value"].as_array().unwrap()), ids(&all[..4]));
    assert!(small["@odata.nextLink"].is_string());

    // A reader keeps its cursor; the plant moves on; the next read brings only what changed.
    let cursor = all.last().unwrap()["ModifiedOn"]
        .as_str()
        .unwrap()
        .to_owned();
    emu.advance(12.0 * 60.0).await;
    let (changed, _) = emu
        .all_pages(
            &url(&format!(
                "$filter=ModifiedOn%20gt%20{cursor}&$orderby=ModifiedOn,Id"
            )),
            &token,
        )
        .await;
    assert!(!changed.is_empty(), "twelve plant hours change operations");
    let since = Timestamp::parse(&cursor).unwrap();
    assert!(changed.iter().all(|r| modified_on(r) > since));
    let filtered = emu
        .get_json(
            &url("$filter=Status%20eq%20'Complete'&$count=true&$top=0"),
            &token,
        )
        .await;
    assert!(filtered["@odata.count"].as_u64().unwrap() > 0);
    emu.emulator.stop().await;
}

#[tokio::test]
async fn refusals_are_odata_errors_naming_what_is_wrong() {
    let emu = Emu::start(config()).await;
    let token = emu.sign_in().await.access_token;
    let cases = [
        ("AppU4DM", "Nothing", 404, "no entity set `Nothing`"),
        ("AppU4DM", "WorkOrder?$filter=Status%20eq", 400, ""),
        ("AppU4DM", "WorkOrder?$frobnicate=1", 400, "$frobnicate"),
        ("AppU4DM", "WorkOrder?$expand=Operations", 501, "$expand"),
        (
            "AppU4DM",
            "WorkOrder(00000000-0000-0000-0000-000000000000)",
            404,
            "no entity",
        ),
        ("NoApp", "WorkOrder", 404, "no app `NoApp`"),
    ];
    for (app, resource, status, says) in cases {
        let answer = emu.get(&emu.service(app, resource), &token).await;
        assert_eq!(answer.status(), status, "{app}/{resource}");
        assert_eq!(answer.headers()["OData-Version"], "4.0");
        let body: Value = answer.json().await.unwrap();
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{app}/{resource}: {message}");
    }
    emu.emulator.stop().await;
}

#[tokio::test]
async fn the_same_seed_and_steps_give_the_same_rows() {
    // The clock stepped over HTTP, or through the Rust API a test harness may use instead.
    async fn rows_after(seed: u64, over_http: bool) -> Vec<Value> {
        let emu = Emu::start(mesemu::Config { seed, ..config() }).await;
        for minutes in [90.0, 600.0, 1440.0] {
            if over_http {
                emu.advance(minutes).await;
            } else {
                emu.emulator
                    .advance(mesemu::Step::Minutes(minutes))
                    .await
                    .unwrap();
            }
        }
        let token = emu.sign_in().await.access_token;
        let (rows, _) = emu
            .all_pages(
                &emu.service("AppU4DM", "WorkOrderOperation?$orderby=ModifiedOn,Id"),
                &token,
            )
            .await;
        emu.emulator.stop().await;
        rows
    }
    let first = rows_after(11, true).await;
    assert_eq!(first, rows_after(11, false).await);
    assert_ne!(first, rows_after(12, true).await);
}

#[tokio::test]
async fn the_tables_fold_every_event_of_a_whole_run() {
    let emu = Emu::start(config()).await;
    let status = emu
        .emulator
        .advance(mesemu::Step::Minutes(20.0 * 24.0 * 60.0))
        .await
        .unwrap();
    assert_eq!(status.plant_time, status.end, "the run's end");
    assert!(status.events > 1000, "{status:?}");
    assert_eq!(status.refused, 0, "{status:?}");
    emu.emulator.stop().await;
}
