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
    let (_, rows) = common::sample::rows()
        .into_iter()
        .find(|(s, _)| s.name() == set)
        .unwrap();
    rows.iter()
        .map(|r| {
            (
                r["ModifiedOn"].as_str().unwrap().to_string(),
                r["Id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
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
        ("AppU4DM", "ResultHistory"),
        ("Equipment", "EquipmentStatusHistory"),
        ("Material", "MaterialTrackingUnit"),
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
    let orders = sample("WorkOrder");
    let start = orders[orders.len() / 2].0.clone();
    from_start.start_after = Some(start.clone());
    let mut reader = ChangeReader::new(from_start).unwrap();
    let page = reader.read_after(None).await.unwrap();
    let expected: Vec<_> = orders.into_iter().filter(|(m, _)| *m > start).collect();
    assert!(!expected.is_empty());
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

#[tokio::test]
async fn the_source_reads_the_profiles_sets_from_cap_as_from_the_rows_themselves() {
    use connect::source::Source;
    use model::PlantState;
    use std::sync::{Arc, Mutex};

    let Some(peer) = CapPeer::start(7) else {
        return;
    };
    let (catalog, options) = common::sample::plant();
    let fold = |state: &mut PlantState, events: &[model::Event]| {
        for event in events {
            state
                .apply(&catalog, event)
                .unwrap_or_else(|e| panic!("{e}: {event:?}"));
        }
    };

    // The rows as the profile made them, mapped and folded set by set.
    let mut expected = PlantState::initial(&catalog, options.start);
    let mut expected_events = 0;
    for (set, rows) in common::sample::rows() {
        let known = expected.clone();
        for mapped in connect::odata::profile::map_page(set.app().name(), set.name(), &rows, &known)
        {
            let events = mapped.unwrap();
            expected_events += events.len();
            fold(&mut expected, &events);
        }
    }

    // The same sets read from CAP through the source, 20 rows a request, CAP paging at 7.
    let state = Arc::new(Mutex::new(PlantState::initial(&catalog, options.start)));
    let (mut read_events, mut records) = (0, 0);
    for (set, rows) in common::sample::rows() {
        let mapper = common::FoldingMapper {
            state: state.clone(),
        };
        let config = config(&peer.origin, set.app().name(), set.name(), 20);
        let mut source =
            connect::odata::OdataSource::new(format!("cap-{set}"), config, mapper).unwrap();
        let mut cursor: Option<String> = None;
        let mut ids = Vec::new();
        loop {
            let batch = source.poll(cursor.as_deref()).await.unwrap();
            for record in &batch.records {
                let events = record
                    .mapped
                    .clone()
                    .unwrap_or_else(|e| panic!("{}: {e}", record.source_id));
                read_events += events.len();
                fold(&mut state.lock().unwrap(), &events);
                ids.push(record.raw["Id"].as_str().unwrap().to_string());
            }
            records += batch.records.len();
            if let Some(next) = batch.cursor {
                cursor = Some(next);
            }
            if !batch.more {
                break;
            }
        }
        let expected_ids: Vec<_> = rows
            .iter()
            .map(|r| r["Id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            ids, expected_ids,
            "{set}: every row once, in the feed's order"
        );
    }
    assert!(records > 100, "{records} rows read");
    assert_eq!(read_events, expected_events);
    let read = state.lock().unwrap().clone();
    assert_eq!(read.orders, expected.orders);
    assert_eq!(read.units, expected.units);
    assert_eq!(read.lots, expected.lots);
    assert_eq!(read.quality_results, expected.quality_results);
    assert_eq!(read.receipts.len(), expected.receipts.len());
}
