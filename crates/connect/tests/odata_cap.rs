//! The OData source against SAP CAP, an OData v4 server nobody here wrote
//! (`conformance/cap`): the same reader the MES emulator is read with, unchanged — every row
//! read once and in order across CAP's own paging (`@odata.nextLink` with offset
//! skiptokens), a restart resuming from the stored cursor, typed errors for what CAP refuses.

mod common;

use std::collections::BTreeSet;

use common::cap::CapPeer;
use connect::odata::{ChangeReader, OdataConfig};
use connect::source::PeerError;

fn config(origin: &str, app: &str, set: &str, page_size: u32) -> OdataConfig {
    toml::from_str(&format!(
        "base_url = {origin:?}\napp = {app:?}\nentity_set = {set:?}\npage_size = {page_size}\n"
    ))
    .unwrap()
}

/// The sample rows of an entity set, as `(ModifiedOn, Id)` in the feed's order.
fn sample(set: &str) -> Vec<(String, String)> {
    let path = format!(
        "{}/../../conformance/cap/db/data/mixplane.opcenter-{set}.csv",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut reader = csv::Reader::from_path(&path).unwrap();
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (modified, id) = (column("ModifiedOn"), column("Id"));
    let mut rows: Vec<(String, String)> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[modified].to_string(), r[id].to_string())
        })
        .collect();
    rows.sort();
    rows
}

/// Reads pages until the feed says there is no more, from `cursor`; returns the rows'
/// `(ModifiedOn, Id)` and the cursor after each page.
async fn read_all(
    reader: &mut ChangeReader,
    mut cursor: Option<String>,
    max_pages: usize,
) -> (Vec<(String, String)>, Vec<Option<String>>) {
    let (mut rows, mut cursors) = (Vec::new(), Vec::new());
    for _ in 0..max_pages {
        let page = reader.read_after(cursor.as_deref()).await.unwrap();
        for row in &page.rows {
            rows.push((
                row["ModifiedOn"].as_str().unwrap().to_string(),
                row["Id"].as_str().unwrap().to_string(),
            ));
        }
        if let Some(next) = page.cursor {
            cursor = Some(next.to_string());
        }
        cursors.push(cursor.clone());
        if !page.more {
            break;
        }
    }
    (rows, cursors)
}

#[tokio::test]
async fn every_row_is_read_once_in_order_across_caps_paging_and_a_restart() {
    // CAP pages at 3 rows, the reader asks for 5: CAP answers 3 and a next link.
    let Some(peer) = CapPeer::start(3) else {
        return;
    };
    for (app, set) in [
        ("AppU4DM", "WorkOrder"),
        ("AppU4DM", "WorkOrderOperation"),
        ("Material", "MaterialTrackingUnit"),
        ("Material", "MTUOperationTracking"),
        ("Equipment", "EquipmentStateChange"),
        ("Quality", "QualityResult"),
    ] {
        let expected = sample(set);
        let mut reader = ChangeReader::new(config(&peer.origin, app, set, 5)).unwrap();
        let (rows, cursors) = read_all(&mut reader, None, 100).await;
        assert_eq!(rows, expected, "{app}/{set}");
        assert!(cursors.len() > 1 || expected.len() <= 3, "{set}: CAP paged");

        // A restart from each stored cursor reads exactly the rest.
        for (pages_before, cursor) in cursors.iter().enumerate() {
            let mut restarted = ChangeReader::new(config(&peer.origin, app, set, 5)).unwrap();
            let (rest, _) = read_all(&mut restarted, cursor.clone(), 100).await;
            let read_before = rows.len() - rest.len();
            assert_eq!(
                rest,
                expected[read_before..],
                "{set}: restart after page {pages_before}"
            );
        }
    }

    // Ties: three work orders share each ModifiedOn, and a page boundary falls inside them.
    let orders = sample("WorkOrder");
    let instants: BTreeSet<&String> = orders.iter().map(|(m, _)| m).collect();
    assert!(instants.len() < orders.len(), "the sample data has ties");
}

#[tokio::test]
async fn the_start_instant_and_caps_refusals() {
    let Some(peer) = CapPeer::start(1000) else {
        return;
    };
    let mut from_start = config(&peer.origin, "AppU4DM", "WorkOrder", 100);
    from_start.start_after = Some("2026-12-01T06:10:00.000Z".to_string());
    let mut reader = ChangeReader::new(from_start).unwrap();
    let page = reader.read_after(None).await.unwrap();
    let expected: Vec<_> = sample("WorkOrder")
        .into_iter()
        .filter(|(m, _)| m.as_str() > "2026-12-01T06:10:00.000Z")
        .collect();
    assert_eq!(page.rows.len(), expected.len());
    assert!(!page.more);
    reader.check().await.unwrap();

    let mut missing = ChangeReader::new(config(&peer.origin, "AppU4DM", "NoSuchSet", 10)).unwrap();
    match missing.read_after(None).await {
        Err(PeerError::Broken(message)) => assert!(message.contains("404"), "{message}"),
        other => panic!("a missing entity set is Broken, not {other:?}"),
    }
    // A property CAP does not know, as the modified time: CAP answers 400, named.
    let mut wrong = config(&peer.origin, "AppU4DM", "WorkOrder", 10);
    wrong.modified_property = "ChangedAt".into();
    let mut wrong = ChangeReader::new(wrong).unwrap();
    match wrong.read_after(None).await {
        Err(PeerError::Broken(message)) => assert!(message.contains("400"), "{message}"),
        other => panic!("an unknown property is Broken, not {other:?}"),
    }
}
