//! The one error of the use-cases.
//!
//! Every use-case answers `Result<_, AppError>`. Its variants say what went wrong in the
//! domain's words; an edge decides what that looks like: `server::problem` maps each variant
//! to its status code and problem type in one place, the CLI prints it through `anyhow`. The
//! `Display` text of a variant is the detail a caller reads.

use govern::GovernError;
use quality::nc::NcError;
use store::StoreError;
use trace::ImportError;

/// Why a use-case failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The store refused or failed (its own variants say which).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A proposal's lifecycle refused the step (forbidden, wrong state, malformed).
    #[error(transparent)]
    Govern(#[from] GovernError),
    /// A genealogy document does not read (names the event and field).
    #[error(transparent)]
    Document(#[from] ImportError),
    /// Stored data does not decode: a defect of the store's contents, not of the request.
    #[error("{0}")]
    Corrupt(String),
    /// The use-case needs a plant and none is loaded.
    #[error("no plant is loaded; run `mixplane demo` or load one first")]
    NoPlant,
    /// What was asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The caller's role or scope does not reach what it asked for.
    #[error("{0}")]
    Forbidden(String),
    /// The request is malformed (a parameter out of range, an id of the wrong form).
    #[error("{0}")]
    BadRequest(String),
    /// The request is well-formed but its content is invalid.
    #[error("{0}")]
    Invalid(String),
    /// A scheduling problem or its options cannot be solved as given.
    #[error("{0}")]
    Impossible(String),
    /// A schedule names operations or units its problem does not have.
    #[error("{0}")]
    InvalidSchedule(String),
    /// A schedule fails the independent checker; `violations` lists the first few.
    #[error("{detail}")]
    Infeasible {
        detail: String,
        violations: Vec<String>,
    },
    /// A scenario changes nothing against the plan in force.
    #[error("{0}")]
    NothingToCommit(String),
    /// A proposal changed between its read and its write.
    #[error("proposal `{0}` changed while this request ran; reload it and try again")]
    ProposalChanged(String),
    /// A sink refused an apply or rollback (the refusal is audited).
    #[error("{0}")]
    Sink(String),
    /// The item is already on hold.
    #[error("{0}")]
    AlreadyOnHold(String),
    /// The hold was released before.
    #[error("{0}")]
    HoldReleased(String),
    /// A nonconformance's workflow refused the command.
    #[error("nonconformance `{id}`: {error}")]
    Nonconformance { id: String, error: NcError },
    /// A nonconformance changed twice while a transition was applied.
    #[error("nonconformance `{0}` changed while this transition was applied; retry")]
    ConcurrentTransition(String),
    /// A conditional write expected a version of the object that is no longer current.
    #[error("{what} changed since the version the request expected (it is now {current}){}", changed_note(.changed))]
    Stale {
        what: String,
        /// The object's current entity tag.
        current: String,
        /// Its last change, from the audit trail.
        changed: Option<crate::conditional::LastChange>,
    },
    /// A defect of mixplane itself (a solver's schedule failed the checker, a task died).
    #[error("{0}")]
    Internal(String),
}

fn changed_note(changed: &Option<crate::conditional::LastChange>) -> String {
    changed.as_ref().map_or_else(String::new, |c| {
        format!("; last changed by {} at {} ({})", c.by, c.at, c.action)
    })
}

impl AppError {
    /// A 422-style refusal of a scheduling problem.
    pub fn impossible(error: impl std::fmt::Display) -> AppError {
        AppError::Impossible(error.to_string())
    }
}
