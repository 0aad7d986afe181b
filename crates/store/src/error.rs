//! The store's error type.
//!
//! Policy: input problems (an invalid event, a conflicting duplicate, an invalid plant, a write
//! that the log's state forbids) get their own variants that name the batch index, the event id
//! and the field at fault, so that the server can answer 4xx with a precise message. Everything
//! that comes from the database or the file system is wrapped with a short context saying what
//! the store was doing; those are 5xx.

use model::{EventError, ValidationErrors};

/// Result with [`StoreError`].
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// An event of a batch cannot be applied; the whole batch was rejected and nothing stored.
    #[error("batch rejected, nothing stored: event {index} (id `{id}`) is invalid: {source}")]
    Invalid {
        /// 0-based position of the event in the batch.
        index: usize,
        id: String,
        #[source]
        source: EventError,
    },
    /// An event id is already in the log (or earlier in the batch) with different content.
    #[error(
        "batch rejected, nothing stored: event {index} (id `{id}`) conflicts with an event of the same id and different content {where_}"
    )]
    Conflict {
        index: usize,
        id: String,
        /// `in the log (seq N)` or `at batch index N`.
        where_: String,
    },
    /// An event body could not be decoded (from the wire or from the log).
    #[error("event {index}: {message}")]
    Decode { index: usize, message: String },
    /// No plant has been put yet, so events cannot be folded.
    #[error("no plant has been loaded; put a plant before appending events")]
    NoPlant,
    /// The plant document failed validation.
    #[error("{0}")]
    PlantInvalid(#[from] ValidationErrors),
    /// The plant can only be replaced while the event log is empty (see `Store::reset`).
    #[error(
        "the event log holds {events} event(s); the plant can only be replaced while it is empty (reset first)"
    )]
    LogNotEmpty { events: i64 },
    /// An event already in the log no longer applies (the log or the model changed).
    #[error("replaying the log failed at seq {seq}: {source}")]
    Replay {
        seq: i64,
        #[source]
        source: EventError,
    },
    /// A query filter is malformed.
    #[error("invalid filter: {field}: {message}")]
    BadFilter { field: String, message: String },
    /// A principal operation was refused: a bad or taken name, an unknown principal, one that
    /// changed meanwhile, or the last global administrator.
    #[error(transparent)]
    Principal(#[from] crate::principals::PrincipalError),
    /// The database URL is not one this build supports.
    #[error("{0}")]
    Url(String),
    /// A write of a process that led, after another took its lease over (`crate::lease`).
    #[error(
        "write refused: `{holder}` no longer holds the lease `{name}` of epoch {epoch} (another node took over)"
    )]
    Fenced {
        name: String,
        holder: String,
        epoch: i64,
    },
    /// A store copy was refused before anything was written (`Store::copy_store`).
    #[error("{0}")]
    CopyRefused(String),
    /// Stored data that should be well-formed is not.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A database call failed.
    #[error("database error while {context}: {source}")]
    Database {
        context: &'static str,
        #[source]
        source: sqlx::Error,
    },
    /// Running the embedded schema migrations failed.
    #[error("migrating the database schema failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A file-system call failed.
    #[error("{context} `{path}`: {source}")]
    Io {
        context: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl StoreError {
    /// True for errors caused by the caller's input (bad events, bad plant, forbidden write),
    /// as opposed to database or storage failures.
    pub fn is_client_error(&self) -> bool {
        matches!(
            self,
            StoreError::Invalid { .. }
                | StoreError::Conflict { .. }
                | StoreError::Decode { .. }
                | StoreError::NoPlant
                | StoreError::PlantInvalid(_)
                | StoreError::LogNotEmpty { .. }
                | StoreError::BadFilter { .. }
                | StoreError::Principal(_)
                | StoreError::Url(_)
                | StoreError::CopyRefused(_)
        )
    }
}

/// Attaches a context to sqlx errors.
pub(crate) trait Context<T> {
    fn ctx(self, context: &'static str) -> Result<T>;
}

impl<T> Context<T> for std::result::Result<T, sqlx::Error> {
    fn ctx(self, context: &'static str) -> Result<T> {
        self.map_err(|source| StoreError::Database { context, source })
    }
}
