//! What a source is: a peer read in batches from a cursor, each record mapped to events or
//! refused with a reason. The runner owns storing, cursors, retries and counters; a source
//! only talks to its peer and maps.

use std::future::Future;
use std::time::Duration;

use model::Event;

/// One record read from the peer, already mapped (or refused).
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The peer's identity of this record (e.g. `AppU4DM/WorkOrderOperation(<Id>)@<ModifiedOn>`):
    /// the same record read again has the same id, and the events mapped from it the same
    /// event ids, so a replay stores nothing twice.
    pub source_id: String,
    /// The events the record maps to (possibly none), or why it cannot be mapped: such a
    /// record is dead-lettered with the reason and the raw record.
    pub mapped: Result<Vec<Event>, String>,
    /// The record as the peer sent it, kept with a dead letter.
    pub raw: serde_json::Value,
}

/// What one poll of the peer gave.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Batch {
    /// In the peer's order; stored in that order.
    pub records: Vec<Record>,
    /// The cursor to resume from once every record of this batch is stored (or dead-lettered);
    /// `None` keeps the cursor the batch was read from.
    pub cursor: Option<String>,
    /// The peer has more after this batch: poll again at once rather than after the interval.
    pub more: bool,
}

/// Why a poll (or a command) failed at the peer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PeerError {
    /// The peer is down, overloaded or timed out; try again, after `retry_after` when the
    /// peer said so (`Retry-After`), else after the runner's backoff.
    #[error("the peer is unavailable: {message}")]
    Unavailable {
        message: String,
        retry_after: Option<Duration>,
    },
    /// The peer refused our credentials, even after a fresh sign-in.
    #[error("the peer refused our credentials: {0}")]
    Unauthorized(String),
    /// The peer answered something we cannot read, or the configuration is wrong: retrying
    /// will not help until someone acts; the connector shows it as failed.
    #[error("{0}")]
    Broken(String),
}

impl PeerError {
    /// The peer is unavailable for `message`, with no `Retry-After` of its own.
    pub fn unavailable(message: impl Into<String>) -> PeerError {
        PeerError::Unavailable {
            message: message.into(),
            retry_after: None,
        }
    }
}

/// A peer read in batches from a cursor. `poll` must not advance anything on the peer: the
/// runner stores the batch and then persists `Batch::cursor`, and a restart polls again
/// from the last persisted cursor. A peer that keeps the position itself (a broker's durable
/// consumer or persistent session) is told with [`Source::acknowledge`], only once the batch
/// is stored.
pub trait Source: Send {
    /// The connector's name, unique in the configuration (`mes-discrete`).
    fn name(&self) -> &str;
    /// Reads the next records after `cursor` (`None`: from the beginning the configuration
    /// sets).
    fn poll(
        &mut self,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<Batch, PeerError>> + Send;
    /// Whether the peer answers at all (sign-in and a cheap read), for `connect check`.
    fn check(&mut self) -> impl Future<Output = Result<(), PeerError>> + Send;
    /// Tells the peer that every record of the last batch `poll` returned is stored (or
    /// dead-lettered), so it may forget them. Called by the runner after the store's
    /// transaction committed, never before; a source whose position lives only in the
    /// stored cursor does nothing. A failure here loses nothing: the peer delivers the
    /// records again and the log skips them.
    fn acknowledge(&mut self) -> impl Future<Output = Result<(), PeerError>> + Send {
        async { Ok(()) }
    }
    /// Ends the connection to the peer in good order, at a graceful stop: a connection that is
    /// merely dropped can lose acknowledgements still on their way (the peer then delivers
    /// those records again, which the log skips).
    fn close(&mut self) -> impl Future<Output = ()> + Send {
        async {}
    }
}
