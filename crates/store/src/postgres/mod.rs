//! The PostgreSQL backend: connection settings, its own migrations, and every SQL statement
//! the store runs on PostgreSQL, as implementations of the seam's traits (`crate::backend`),
//! one module per area as in `crate::sqlite`.
//!
//! A store is one schema of a database: `postgres://USER@HOST/DB` uses `public`, and
//! `…?schema=NAME` (our parameter, taken out of the URL before sqlx reads it) another one,
//! created when missing, so several plants or test runs share one database without sharing
//! rows. Every connection's `search_path` is that schema.
//!
//! Writes of every process and node queue on one lock: a write transaction starts by taking a
//! transaction-scoped advisory lock keyed by the schema (`pg_advisory_xact_lock`), which
//! PostgreSQL releases at commit or rollback, and at a lost connection, so a writer killed
//! with `kill -9` never leaves the store locked. Under that lock the default isolation (read
//! committed) sees every earlier writer's rows. Reads the store folds from run in a
//! `REPEATABLE READ READ ONLY` transaction (one snapshot for all their statements).
//!
//! All statements are checked at run time (`sqlx::query`), so building needs no database.
//! Lists are bound as PostgreSQL arrays (`= ANY($1)`); JSON fields are read with `->>` from
//! `body::jsonb`. Durability is PostgreSQL's (`synchronous_commit` as the server has it, on
//! by default: a commit returns once its WAL is flushed).

mod connectors;
mod copy;
mod governance;
mod lease;
mod log;
mod migrate;
mod plans;
mod quality;
pub(crate) mod query;
mod snapshot;
mod trace;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use crate::backend::{Backend, Finish};
use crate::error::{Context, Result, StoreError};

/// Connections per store: readers run beside the one writer.
const MAX_CONNECTIONS: u32 = 10;

/// The first key of the store's advisory lock (the second is the schema's hash): a number of
/// our own, so other users of the database's advisory locks do not collide with ours.
const LOCK_CLASS: i32 = 0x6d78_706c; // "mxpl"

/// An open PostgreSQL store.
pub(crate) struct Postgres {
    pool: PgPool,
}

/// An open PostgreSQL transaction.
pub(crate) struct Tx(sqlx::Transaction<'static, sqlx::Postgres>);

impl Finish for Tx {
    async fn commit(self) -> Result<()> {
        self.0.commit().await.ctx("committing")
    }

    async fn rollback(self) -> Result<()> {
        self.0.rollback().await.ctx("rolling back")
    }
}

/// Whether `url` names a PostgreSQL database.
pub fn is_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// `url` without its `schema=` parameter (ours, which a PostgreSQL client does not know), and
/// the schema it named, if any.
fn take_schema(url: &str) -> (String, Option<String>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_owned(), None);
    };
    let mut schema = None;
    let mut rest = Vec::new();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        match pair.strip_prefix("schema=") {
            Some(name) => schema = Some(name.to_owned()),
            None => rest.push(pair),
        }
    }
    let url = if rest.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    (url, schema)
}

/// `url` without its `schema=` parameter: the database itself.
pub fn without_schema(url: &str) -> String {
    take_schema(url).0
}

/// `url` naming the store in `schema`: its `schema=` parameter replaced, or one added.
pub fn with_schema(url: &str, schema: &str) -> String {
    let base = without_schema(url);
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}schema={schema}")
}

/// Splits our `schema` parameter out of a PostgreSQL URL: `(url without it, schema)`, the
/// schema checked (`public` when none is named).
pub(crate) fn split_schema(url: &str) -> Result<(String, String)> {
    let (url, schema) = take_schema(url);
    let schema = schema.unwrap_or_else(|| "public".to_owned());
    check_schema(&schema)?;
    Ok((url, schema))
}

/// A schema name we put into statements unquoted: lower-case letters, digits and `_`, starting
/// with a letter or `_`, at most 63 bytes (PostgreSQL's identifier length).
fn check_schema(schema: &str) -> Result<()> {
    let ok = !schema.is_empty()
        && schema.len() <= 63
        && schema
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !schema.as_bytes()[0].is_ascii_digit();
    if ok {
        Ok(())
    } else {
        Err(StoreError::Url(format!(
            "schema `{schema}` is not a valid schema name (lower-case letters, digits and `_`, \
             starting with a letter or `_`, at most 63 characters)"
        )))
    }
}

/// The connection options of a URL without our `schema` parameter.
fn options(url: &str) -> Result<PgConnectOptions> {
    PgConnectOptions::from_str(url)
        .map_err(|e| StoreError::Url(format!("`{}` is not a PostgreSQL URL: {e}", redact(url))))
}

/// One connection to the database itself (no search path), for a statement about a schema.
async fn one_connection(options: PgConnectOptions) -> Result<PgPool> {
    PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await
        .ctx("connecting to PostgreSQL")
}

/// Opens the store at a `postgres://` URL: creates its schema when missing and migrates it.
pub(crate) async fn open(url: &str) -> Result<Backend> {
    let (url, schema) = split_schema(url)?;
    let options = options(&url)?;
    // The schema must exist before a connection may name it in its search path.
    let admin = one_connection(options.clone()).await?;
    sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
        .execute(&admin)
        .await
        .ctx("creating the store's schema")?;
    admin.close().await;
    let pool = PgPoolOptions::new()
        .max_connections(MAX_CONNECTIONS)
        .acquire_timeout(Duration::from_secs(30))
        .connect_with(options.options([("search_path", schema.as_str())]))
        .await
        .ctx("connecting to PostgreSQL")?;
    migrate::migrator().await?.run(&pool).await?;
    Ok(Backend::Postgres(Postgres { pool }))
}

/// Whether the schema `url` names holds a store (its migrations table), without creating
/// anything.
pub(crate) async fn exists(url: &str) -> Result<bool> {
    let (url, schema) = split_schema(url)?;
    let pool = one_connection(options(&url)?).await?;
    let found: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM information_schema.tables
                        WHERE table_schema = $1 AND table_name = '_sqlx_migrations')",
    )
    .bind(&schema)
    .fetch_one(&pool)
    .await
    .ctx("looking for the store's schema")?;
    pool.close().await;
    Ok(found)
}

/// Drops the schema of the store at `url` and everything in it (not `public`, which holds
/// other things than a store).
pub(crate) async fn drop_store(url: &str) -> Result<()> {
    let (url, schema) = split_schema(url)?;
    if schema == "public" {
        return Err(StoreError::Url(
            "dropping a store drops its schema, and the store at this URL is in `public`: \
             name its own schema with ?schema=NAME"
                .to_owned(),
        ));
    }
    let pool = one_connection(options(&url)?).await?;
    // `check_schema` allowed only lower-case letters, digits and `_` in the name.
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .execute(&pool)
        .await
        .ctx("dropping the store's schema")?;
    pool.close().await;
    Ok(())
}

/// A database URL without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let user_info = &url[scheme + 3..at];
            match user_info.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

impl Postgres {
    /// Begins a write transaction holding the store's write lock.
    pub(crate) async fn begin_write(&self) -> Result<crate::backend::Tx> {
        let mut tx = self
            .pool
            .begin()
            .await
            .ctx("beginning a write transaction")?;
        sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))")
            .bind(LOCK_CLASS)
            .execute(&mut *tx)
            .await
            .ctx("taking the store's write lock (another process or node may hold it)")?;
        Ok(crate::backend::Tx::Postgres(Tx(tx)))
    }

    /// Begins a read-only transaction that sees one snapshot of the database.
    pub(crate) async fn begin_read_only(&self) -> Result<crate::backend::Tx> {
        let tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await
            .ctx("beginning a read transaction")?;
        Ok(crate::backend::Tx::Postgres(Tx(tx)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_parameter_is_ours_and_checked() {
        let (url, schema) =
            split_schema("postgres://u@h/db?schema=plant_a&sslmode=disable").expect("a valid URL");
        assert_eq!(url, "postgres://u@h/db?sslmode=disable");
        assert_eq!(schema, "plant_a");
        let (url, schema) = split_schema("postgres://u@h/db").expect("a valid URL");
        assert_eq!(
            (url.as_str(), schema.as_str()),
            ("postgres://u@h/db", "public")
        );
        for bad in ["x;drop", "Plant", "1a", "", "a-b"] {
            let err = split_schema(&format!("postgres://u@h/db?schema={bad}"))
                .expect_err("an invalid schema");
            assert!(err.to_string().contains("schema"), "{err}");
        }
    }

    #[test]
    fn a_schema_is_added_to_or_replaced_in_a_url() {
        let db = "postgres://root@127.0.0.1/bench";
        assert_eq!(with_schema(db, "crash_1"), format!("{db}?schema=crash_1"));
        assert_eq!(
            with_schema(&format!("{db}?schema=old&sslmode=disable"), "crash_2"),
            format!("{db}?sslmode=disable&schema=crash_2")
        );
        assert_eq!(without_schema(&format!("{db}?schema=old")), db);
        assert!(is_url(db) && !is_url("sqlite:///tmp/x.db"));
    }

    #[test]
    fn messages_do_not_show_the_password() {
        assert_eq!(
            redact("postgres://user:secret@host/db"),
            "postgres://user:***@host/db"
        );
        assert_eq!(redact("postgres://user@host/db"), "postgres://user@host/db");
    }
}
