//! Schema migrations: a store created and reopened migrates cleanly, and what a database
//! records of its migrations is what sqlx makes of the files in `migrations/` (the versions,
//! descriptions and checksums a store migrated by any earlier build holds).

mod common;

use common::{Gen, T0, TempDir, assert_same_state, plant};
use model::Timestamp;
use sqlx::{Connection, Row};
use store::{Actor, Store};

/// `(version, description, checksum, success)` of every migration a database file records.
async fn applied(path: &std::path::Path) -> Vec<(i64, String, Vec<u8>, bool)> {
    let url = format!("sqlite://{}", path.display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let rows = sqlx::query(
        "SELECT version, description, checksum, success FROM _sqlx_migrations ORDER BY version",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    rows.iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect()
}

#[tokio::test]
async fn a_store_created_then_reopened_migrates_cleanly() {
    let dir = TempDir::new("migrate");
    let path = dir.path().join("store.sqlite");
    let store = Store::open_sqlite(&path).await.unwrap();
    store
        .put_plant_at(plant(), Some(Timestamp(T0)), &Actor::service("test"))
        .await
        .unwrap();
    store
        .append(&Gen::new(5, "m").take(50), &Actor::service("test"))
        .await
        .unwrap();
    let state = store.state().await;
    drop(store);
    let first = applied(&path).await;

    // What sqlx makes of the migration files: every one applied, with its checksum.
    let files = sqlx::migrate::resolve_blocking(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations"),
    )
    .unwrap();
    let expected: Vec<(i64, String, Vec<u8>, bool)> = files
        .iter()
        .map(|(m, _)| {
            (
                m.version,
                m.description.to_string(),
                m.checksum.to_vec(),
                true,
            )
        })
        .collect();
    assert_eq!(first, expected);
    assert_eq!(
        first.iter().map(|m| m.0).collect::<Vec<_>>(),
        [1, 2, 10, 11, 20, 30, 40, 41, 42, 43, 44, 45, 46]
    );

    // Reopened: nothing to migrate, nothing lost, the audit chain intact.
    let store = Store::open_sqlite(&path).await.unwrap();
    assert_same_state(&*store.state().await, &state, "reopened");
    assert!(store.verify_audit().await.unwrap().is_intact());
    drop(store);
    assert_eq!(applied(&path).await, first, "a reopen applies nothing");
}
