//! The audit record of a tool call an agent makes through a tool door (the MCP server):
//! every call, read or proposal, answered or refused, is one record in the hash-chained trail,
//! under the calling principal, so what an agent looked at and tried is accountable as what
//! it changed is.
//!
//! The record (action [`TOOL_CALL`], subject `tool:<name>`) carries the door, the tool, the
//! arguments (whole when small, else their size and SHA-256: a committed scenario carries a
//! whole schedule, which the proposal it makes already keeps), the outcome and, for a
//! proposal, its id and status. The actor is the principal, `modified_by` its id.
//!
//! What it must not do: decide anything. Whether the call was allowed is the use-case's
//! business; this only writes down what happened, through the store's audited write path.

use govern::Principal;
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::{App, AppError};

/// The audit action of a tool call.
pub const TOOL_CALL: &str = "agent.tool_call";

/// Arguments up to this many bytes (as JSON) are kept whole in the record.
pub const MAX_KEPT_ARGUMENTS: usize = 4096;

/// A tool name is kept up to this many characters (a client may send any name, and the
/// calls of tools that do not exist are recorded too).
pub const MAX_TOOL_CHARS: usize = 128;

/// How a tool call ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// A read answered.
    Answered,
    /// A proposal was made; `status` is where governance left it (applied by itself under the
    /// policy, or waiting for a person).
    Proposed { proposal: String, status: String },
    /// The caller's role or scope does not reach what it asked for.
    Refused { reason: String },
    /// The call failed for another reason (bad arguments, nothing found, a conflict).
    Failed { error: String },
}

/// One tool call, as the door saw it.
#[derive(Debug, Clone)]
pub struct ToolCall<'a> {
    /// The door it came through (`mcp-stdio`, `mcp-http`).
    pub door: &'a str,
    pub tool: &'a str,
    pub arguments: &'a Value,
    pub outcome: Outcome,
}

/// The arguments as kept in the record: whole when small, else their size and digest.
fn kept_arguments(arguments: &Value) -> Value {
    let text = serde_json::to_string(arguments).unwrap_or_default();
    if text.len() <= MAX_KEPT_ARGUMENTS {
        return arguments.clone();
    }
    let digest = Sha256::digest(text.as_bytes());
    json!({
        "bytes": text.len(),
        "sha256": digest.iter().map(|b| format!("{b:02x}")).collect::<String>(),
    })
}

/// Appends the audit record of `call` by `who`.
pub async fn record(app: &App, who: &Principal, call: ToolCall<'_>) -> Result<(), AppError> {
    let tool: String = call.tool.chars().take(MAX_TOOL_CHARS).collect();
    let mut detail = json!({
        "door": call.door,
        "tool": tool,
        "arguments": kept_arguments(call.arguments),
    });
    if let (Value::Object(into), Ok(Value::Object(outcome))) =
        (&mut detail, serde_json::to_value(&call.outcome))
    {
        into.extend(outcome);
    }
    let write = store::GovernanceWrite::by(store::actor_of(who), Some(who.role));
    app.store
        .audit_only(TOOL_CALL, format!("tool:{tool}"), detail, write)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_arguments_are_kept_and_large_ones_digested() {
        let small = json!({ "order_id": "PO-1" });
        assert_eq!(kept_arguments(&small), small);
        let large = json!({ "text": "x".repeat(MAX_KEPT_ARGUMENTS) });
        let kept = kept_arguments(&large);
        assert_eq!(kept["bytes"], json!(MAX_KEPT_ARGUMENTS + 11));
        assert_eq!(kept["sha256"].as_str().map(str::len), Some(64));
    }
}
