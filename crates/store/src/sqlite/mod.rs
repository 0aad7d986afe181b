//! The SQLite backend: connection settings, migrations, and every SQL statement the store
//! runs, as implementations of the seam's traits (`crate::backend`).
//!
//! All statements are checked at run time (`sqlx::query`), so building needs no database. Bulk
//! writes send many rows per `INSERT` or pass a list as one JSON array parameter expanded with
//! `json_each`.
//!
//! Connection settings: WAL journal, `synchronous = FULL` (every commit is fsynced to the WAL
//! before it returns, so an acknowledged batch survives power loss and `kill -9`), foreign keys
//! on, a 10 s busy timeout. Write transactions start with `BEGIN IMMEDIATE`, which takes the
//! database's write lock at once: the writes of several processes on one file queue for it
//! (for up to the busy timeout) instead of failing half-way. The WAL is checkpointed in the background ([`Checkpointer`]). The
//! database file and its `-wal` and `-shm` files are readable by their owner only (mode 0600,
//! `owner_only`): they hold the pseudonym key.

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

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::backend::{Backend, Finish};
use crate::error::{Context, Result, StoreError};

const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// An open SQLite database.
pub(crate) struct Sqlite {
    pool: SqlitePool,
    checkpoint: Checkpointer,
    /// A file, which other processes may open too (not a private in-memory database).
    file: bool,
}

impl Sqlite {
    pub(crate) fn shared(&self) -> bool {
        self.file
    }
}

/// An open SQLite transaction.
pub(crate) struct Tx(sqlx::Transaction<'static, sqlx::Sqlite>);

impl Finish for Tx {
    async fn commit(self) -> Result<()> {
        self.0.commit().await.ctx("committing")
    }

    async fn rollback(self) -> Result<()> {
        self.0.rollback().await.ctx("rolling back")
    }
}

fn base_options(options: SqliteConnectOptions) -> SqliteConnectOptions {
    options
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT)
        // 64 MiB of page cache per connection: the id index and the projections of a busy
        // plant stay in memory.
        .pragma("cache_size", "-65536")
        .pragma("temp_store", "memory")
        // The WAL is checkpointed in the background (`Checkpointer`); SQLite's automatic
        // checkpoint inside a commit only steps in past 64 MiB of WAL.
        .pragma("wal_autocheckpoint", "16000")
}

/// Opens (creating if missing) a database file and migrates it.
pub(crate) async fn open_file(path: &Path) -> Result<Backend> {
    if let Some(parent) = path.parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).map_err(|source| StoreError::Io {
            context: "creating the database directory",
            path: parent.display().to_string(),
            source,
        })?;
    }
    owner_only(path)?;
    let options = base_options(
        SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true),
    );
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        // A local file needs no liveness round trip before each statement (sqlx pings by
        // default); every read of the in-memory state asks the file for its audit head.
        .test_before_acquire(false)
        .connect_with(options)
        .await
        .ctx("opening the database file")?;
    migrate::migrator().await?.run(&pool).await?;
    Ok(Backend::Sqlite(Sqlite {
        pool,
        checkpoint: Checkpointer::new(true),
        file: true,
    }))
}

/// Makes the database file readable and writable by its owner only (mode 0600), creating it
/// empty when missing, and tightens a write-ahead log and shared-memory file left by an earlier
/// run. The database holds the pseudonym key and the token hashes. SQLite gives the `-wal` and
/// `-shm` files it creates the database file's mode, so they are 0600 too. (Elsewhere than
/// on unix the file system's own access control applies.)
fn owner_only(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let io = |context: &'static str, path: &Path| {
            let path = path.display().to_string();
            move |source| StoreError::Io {
                context,
                path,
                source,
            }
        };
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)
            .map_err(io("creating the database file", path))?;
        for suffix in ["", "-wal", "-shm"] {
            let mut file = path.as_os_str().to_owned();
            file.push(suffix);
            let file = Path::new(&file);
            let Ok(meta) = std::fs::metadata(file) else {
                continue;
            };
            if meta.permissions().mode() & 0o077 != 0 {
                std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600))
                    .map_err(io("making the database file private", file))?;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Opens a private in-memory database (one connection, kept for the pool's life).
pub(crate) async fn open_memory() -> Result<Backend> {
    let options = SqliteConnectOptions::from_str("sqlite::memory:")
        .ctx("parsing the in-memory database URL")?
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_with(options)
        .await
        .ctx("opening an in-memory database")?;
    migrate::migrator().await?.run(&pool).await?;
    Ok(Backend::Sqlite(Sqlite {
        pool,
        // An in-memory database has no WAL.
        checkpoint: Checkpointer::new(false),
        file: false,
    }))
}

/// Copies the write-ahead log back into the database file in the background, so that appends
/// do not pay for checkpoints in their commit (SQLite's own automatic checkpoint, which runs
/// inside a commit, stays on as a backstop with a larger threshold).
struct Checkpointer {
    /// File-backed WAL database (an in-memory one has no WAL).
    enabled: bool,
    running: Arc<AtomicBool>,
    /// Bytes written since the last checkpoint started (an estimate: the rows' text).
    pending: AtomicU64,
}

/// Start a background checkpoint after this much new row text (≈ 2–3× that in WAL pages).
const CHECKPOINT_BYTES: u64 = 16 << 20;

impl Checkpointer {
    fn new(enabled: bool) -> Checkpointer {
        Checkpointer {
            enabled,
            running: Arc::new(AtomicBool::new(false)),
            pending: AtomicU64::new(0),
        }
    }

    /// Notes `bytes` of committed row text and starts a passive checkpoint when enough piled up.
    fn wrote(&self, pool: &SqlitePool, bytes: u64) {
        if !self.enabled
            || self.pending.fetch_add(bytes, Ordering::Relaxed) + bytes < CHECKPOINT_BYTES
        {
            return;
        }
        if self.running.swap(true, Ordering::AcqRel) {
            return;
        }
        self.pending.store(0, Ordering::Relaxed);
        let pool = pool.clone();
        let running = Arc::clone(&self.running);
        tokio::spawn(async move {
            // PASSIVE copies what it can without blocking the writer or readers. A failure only
            // means the WAL grows until the next attempt or SQLite's own checkpoint.
            let _ = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&pool)
                .await;
            running.store(false, Ordering::Release);
        });
    }
}
