//! The OData source against the MES emulator: every row version read once and in order
//! across the emulator's pages, tokens expiring early (a fresh sign-in) and running out (a
//! refresh before they do), 429 with `Retry-After` honoured, and a restart from the stored
//! cursor while the plant moves on, with nothing lost and nothing read twice.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::emu::{Emu, config};
use connect::odata::{ChangeReader, OdataConfig};
use connect::source::PeerError;
use serde_json::json;

fn source_config(emu: &Emu, app: &str, set: &str, page_size: u32) -> OdataConfig {
    toml::from_str(&format!(
        "base_url = {:?}\napp = {app:?}\nentity_set = {set:?}\npage_size = {page_size}\n{}",
        emu.base,
        emu.auth_toml()
    ))
    .unwrap()
}

type Version = (String, String); // (Id, ModifiedOn)

/// Reads until the feed has no more; the row versions read and the last cursor.
async fn drain(
    reader: &mut ChangeReader,
    mut cursor: Option<String>,
) -> (Vec<Version>, Option<String>) {
    let mut read = Vec::new();
    loop {
        let page = reader.read_after(cursor.as_deref()).await.unwrap();
        for row in &page.rows {
            read.push((
                row["Id"].as_str().unwrap().into(),
                row["ModifiedOn"].as_str().unwrap().into(),
            ));
        }
        if let Some(next) = page.cursor {
            cursor = Some(next.to_string());
        }
        if !page.more {
            return (read, cursor);
        }
    }
}

#[tokio::test]
async fn rows_are_read_once_across_pages_and_a_restart_while_the_plant_moves_on() {
    let emu = Emu::start(config()).await;
    emu.advance(2.0 * 24.0 * 60.0).await;
    // The emulator pages at 25; the source asks for 40 and continues from its cursor.
    let mut reader =
        ChangeReader::new(source_config(&emu, "AppU4DM", "WorkOrderOperation", 40)).unwrap();
    let (first, cursor) = drain(&mut reader, None).await;
    let now: Vec<Version> = emu
        .rows("AppU4DM", "WorkOrderOperation")
        .await
        .iter()
        .map(|r| {
            (
                r["Id"].as_str().unwrap().into(),
                r["ModifiedOn"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(first.len() > 25, "{} rows: the emulator paged", first.len());
    assert_eq!(first, now, "every row once, in the feed's order");

    // The plant moves on; a new reader (a restart) continues from the stored cursor.
    emu.advance(12.0 * 60.0).await;
    drop(reader);
    let mut restarted =
        ChangeReader::new(source_config(&emu, "AppU4DM", "WorkOrderOperation", 40)).unwrap();
    let (second, _) = drain(&mut restarted, cursor).await;
    assert!(!second.is_empty());
    let all: Vec<Version> = first.iter().chain(&second).cloned().collect();
    let unique: BTreeSet<&Version> = all.iter().collect();
    assert_eq!(unique.len(), all.len(), "no row version read twice");
    // Every row as it stands now was read in its latest version.
    for row in emu.rows("AppU4DM", "WorkOrderOperation").await {
        let version = (
            row["Id"].as_str().unwrap().to_string(),
            row["ModifiedOn"].as_str().unwrap().to_string(),
        );
        assert!(unique.contains(&version), "{version:?} was not read");
    }
}

#[tokio::test]
async fn tokens_expired_early_are_replaced_and_running_out_are_refreshed() {
    let mut emulator = config();
    emulator.token_lifetime = Duration::from_secs(3);
    let emu = Emu::start(emulator).await;
    emu.advance(6.0 * 60.0).await;
    let mut reader = ChangeReader::new(source_config(&emu, "AppU4DM", "WorkOrder", 10)).unwrap();
    reader.read_after(None).await.unwrap();
    assert_eq!(reader.auth_counts().sign_ins, 1);

    // The emulator forgets every token: a 401, one fresh sign-in, the same page.
    emu.faults(json!({"expire_tokens": true})).await;
    reader.read_after(None).await.unwrap();
    assert_eq!(reader.auth_counts().sign_ins, 2);

    // A 3 s token is renewed a second before it runs out, by the refresh grant.
    tokio::time::sleep(Duration::from_millis(2300)).await;
    reader.read_after(None).await.unwrap();
    assert_eq!(
        reader.auth_counts().refreshes,
        1,
        "{:?}",
        reader.auth_counts()
    );
    assert_eq!(reader.auth_counts().sign_ins, 2);
}

#[tokio::test]
async fn a_429_with_retry_after_is_unavailable_for_that_long_and_wrong_credentials_unauthorized() {
    let emu = Emu::start(config()).await;
    emu.advance(60.0).await;
    let mut reader = ChangeReader::new(source_config(&emu, "Equipment", "Equipment", 10)).unwrap();
    reader.read_after(None).await.unwrap();
    emu.faults(json!({"throttle": {"count": 1, "status": 429, "retry_after_seconds": 7}}))
        .await;
    match reader.read_after(None).await {
        Err(PeerError::Unavailable {
            retry_after,
            message,
        }) => {
            assert_eq!(retry_after, Some(Duration::from_secs(7)), "{message}");
            assert!(message.contains("429"), "{message}");
        }
        other => panic!("a 429 is Unavailable, not {other:?}"),
    }
    reader.read_after(None).await.unwrap();

    let mut wrong = source_config(&emu, "Equipment", "Equipment", 10);
    if let connect::odata::AuthConfig::Password { password, .. } = &mut wrong.auth {
        password.0 = "not the password".into();
    }
    let mut wrong = ChangeReader::new(wrong).unwrap();
    assert!(matches!(
        wrong.read_after(None).await,
        Err(PeerError::Unauthorized(_))
    ));
}

#[tokio::test]
async fn an_operation_read_before_its_work_order_waits_for_it_then_maps() {
    use connect::odata::OdataSource;
    use connect::odata::config::DEFAULT_MAX_WAITING_POLLS;
    use connect::source::Source;
    use std::sync::{Arc, Mutex};

    let emu = Emu::start(config()).await;
    emu.advance(6.0 * 60.0).await;
    let catalog = sim::reference_catalog();
    let state = Arc::new(Mutex::new(model::PlantState::initial(
        &catalog,
        emu.config.start,
    )));
    let mapper = || common::FoldingMapper {
        state: state.clone(),
    };
    let fold = |events: &[model::Event]| {
        let mut state = state.lock().unwrap();
        for event in events {
            state.apply(&catalog, event).unwrap();
        }
    };
    let mut operations = OdataSource::new(
        "ops",
        source_config(&emu, "AppU4DM", "WorkOrderOperation", 40),
        mapper(),
    )
    .unwrap();

    // No work order is known: the feed holds at its first row, nothing refused, no cursor.
    for _ in 0..3 {
        let batch = operations.poll(None).await.unwrap();
        assert!(batch.records.is_empty(), "{:?}", batch.records.first());
        assert_eq!(batch.cursor, None);
        assert!(!batch.more);
    }

    // The work orders arrive (another connector stores them): the operations map.
    let mut orders = OdataSource::new(
        "orders",
        source_config(&emu, "AppU4DM", "WorkOrder", 100),
        mapper(),
    )
    .unwrap();
    let mut cursor = None;
    loop {
        let batch = orders.poll(cursor.as_deref()).await.unwrap();
        for record in &batch.records {
            fold(record.mapped.as_ref().unwrap());
        }
        cursor = batch.cursor.or(cursor);
        if !batch.more {
            break;
        }
    }
    let batch = operations.poll(None).await.unwrap();
    assert!(!batch.records.is_empty());
    for record in &batch.records {
        let events = record.mapped.as_ref().unwrap_or_else(|e| panic!("{e}"));
        fold(events);
    }
    assert!(batch.cursor.is_some());

    // A row that waits longer than the bound is let through as refused (a dead letter).
    let mut stranger = OdataSource::new(
        "late",
        source_config(&emu, "AppU4DM", "WorkOrderOperation", 40),
        common::FoldingMapper {
            state: Arc::new(Mutex::new(model::PlantState::initial(
                &catalog,
                emu.config.start,
            ))),
        },
    )
    .unwrap();
    for _ in 0..DEFAULT_MAX_WAITING_POLLS {
        assert!(stranger.poll(None).await.unwrap().records.is_empty());
    }
    let batch = stranger.poll(None).await.unwrap();
    let first = batch.records.first().expect("the waiting row, refused");
    let reason = first.mapped.as_ref().unwrap_err();
    assert!(reason.contains("is not known yet"), "{reason}");
    assert!(reason.contains("polls"), "{reason}");
    assert!(batch.cursor.is_some(), "the feed moves past it");
}
