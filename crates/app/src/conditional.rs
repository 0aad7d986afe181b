//! Conditional writes: the entity tag of a proposal, hold or nonconformance (a version the
//! store keeps, so it changes with every change of the object), and the check of what a
//! request expected against it. A write that names a version no longer current is refused
//! before anything is written, saying who changed the object meanwhile and when, from the
//! audit trail; a write that names none behaves as before. The edges read the expectation
//! from `If-Match` (HTTP) and answer the tag as `ETag`.

use model::Timestamp;
use schemars::JsonSchema;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{App, AppError};

/// What a request expects of the object it changes: any current version (`*`), or one of
/// these entity tags (as sent, quotes included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    Any,
    Tags(Vec<String>),
}

impl Expected {
    /// Reads an `If-Match` value (RFC 9110 §13.1.1): `*`, or a comma-separated list of entity
    /// tags, each quoted as an `ETag` sends it (a weak `W/` tag is kept as sent, so the strong
    /// comparison never matches it). The error says what is wrong with the value.
    pub fn parse(text: &str) -> Result<Expected, String> {
        let mut tags = Vec::new();
        for tag in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            if tag == "*" {
                return Ok(Expected::Any);
            }
            let quoted = tag.strip_prefix("W/").unwrap_or(tag);
            if quoted.len() < 2 || !quoted.starts_with('"') || !quoted.ends_with('"') {
                return Err(format!(
                    "`{tag}` is not an entity tag (a quoted value from an `ETag`, or `*`)"
                ));
            }
            tags.push(tag.to_owned());
        }
        if tags.is_empty() {
            return Err("it names no entity tag".into());
        }
        Ok(Expected::Tags(tags))
    }

    /// Whether `current` is what was expected (strong comparison: a weak tag never matches).
    pub fn matches(&self, current: &str) -> bool {
        match self {
            Expected::Any => true,
            Expected::Tags(tags) => tags.iter().any(|t| t == current),
        }
    }
}

/// The last change of an object, from the audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct LastChange {
    /// `kind:id` of the principal that made it.
    pub by: String,
    pub at: Timestamp,
    /// The audited action (`proposal.approve`, `quality.hold.release`, …).
    pub action: String,
}

/// The entity tag of an object the store keeps a revision counter for (proposals,
/// nonconformances).
pub fn version_tag(version: i64) -> String {
    format!("\"v{version}\"")
}

/// The entity tag of a stored record without a revision counter (a hold): a digest of the
/// record as stored.
pub fn digest_tag(record: &impl Serialize) -> String {
    let bytes = serde_json::to_vec(record).unwrap_or_default();
    let digest = Sha256::digest(&bytes);
    format!("\"h{}\"", model::wire::hex(&digest[..8]))
}

/// Refuses when `expected` does not match `current`, the tag of the object audited as
/// `subject` (`what` names it in the answer).
pub async fn check(
    app: &App,
    expected: Option<&Expected>,
    current: &str,
    subject: &str,
    what: &str,
) -> Result<(), AppError> {
    match expected {
        Some(expected) if !expected.matches(current) => {
            Err(stale(app, current, subject, what).await)
        }
        _ => Ok(()),
    }
}

/// The refusal of a write that expected another version of `subject`, naming its last
/// change.
pub async fn stale(app: &App, current: &str, subject: &str, what: &str) -> AppError {
    // A failure to read the trail must not turn a precondition failure into a 500; the
    // answer then only lacks the name.
    let last = app.store.last_audit_of(subject).await.ok().flatten();
    let changed = last.map(|r| LastChange {
        by: format!("{}:{}", r.actor.kind, r.actor.id),
        at: r.at,
        action: r.action,
    });
    AppError::Stale {
        what: what.to_owned(),
        current: current.to_owned(),
        changed,
    }
}
