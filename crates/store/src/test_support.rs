//! Which database a test's store lives in, so that one test suite runs on both backends.
//!
//! With `MIXPLANE_TEST_POSTGRES` set to a PostgreSQL URL (`postgres://root@127.0.0.1/test`),
//! every store a test opens through this module is a schema of its own in that database;
//! without it, SQLite as before (a private in-memory database, or a file). `.ci/run` runs the
//! suite once each way. Tests that exercise SQLite itself (its files, its WAL, its migrations)
//! open SQLite directly and run the same under both.
//!
//! Schemas are named from a digest, never reused across runs: a private store gets a random
//! one; a store "at a path" gets the digest of the path and a random nonce of this process, so
//! reopening the same path in the same test opens the same store (as reopening a file does),
//! and `url_at` names it for a child process.

use std::path::Path;
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

use crate::error::Result;
use crate::postgres::with_schema;
use crate::store::Store;

/// The environment variable naming the PostgreSQL database tests use.
pub const ENV: &str = "MIXPLANE_TEST_POSTGRES";

/// The PostgreSQL database tests use, when one is named.
pub fn postgres_url() -> Option<String> {
    std::env::var(ENV).ok().filter(|url| !url.trim().is_empty())
}

/// Whether tests run on PostgreSQL.
pub fn on_postgres() -> bool {
    postgres_url().is_some()
}

/// A fresh store nobody else opens: an in-memory SQLite database, or a new schema.
pub async fn private_store() -> Result<Store> {
    match postgres_url() {
        Some(url) => Store::open(&with_schema(&url, &format!("t_{}", crate::random_hex(10)))).await,
        None => Store::open_in_memory().await,
    }
}

/// The store "at" `path`: the SQLite file there, or the schema named for it. Opening the same
/// path again opens the same store.
pub async fn store_at(path: &Path) -> Result<Store> {
    match postgres_url() {
        Some(_) => Store::open(&url_at(path)).await,
        None => Store::open_sqlite(path).await,
    }
}

/// The URL of the store at `path`, for a `--database` argument (`sqlite://PATH` on SQLite).
pub fn url_at(path: &Path) -> String {
    match postgres_url() {
        Some(url) => with_schema(&url, &schema_for(path)),
        None => format!("sqlite://{}", path.display()),
    }
}

/// On PostgreSQL, the database URL and the schema of the store at `path` (for a test that
/// changes rows behind the store's back).
pub fn postgres_at(path: &Path) -> Option<(String, String)> {
    postgres_url().map(|url| (url, schema_for(path)))
}

fn schema_for(path: &Path) -> String {
    static NONCE: OnceLock<String> = OnceLock::new();
    let nonce = NONCE.get_or_init(|| crate::random_hex(8));
    let digest = Sha256::digest(format!("{nonce}\n{}", path.display()));
    format!("p_{}", model::wire::hex(&digest[..10]))
}
