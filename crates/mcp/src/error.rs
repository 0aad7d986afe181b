//! Why a tool call failed, in words that tell the calling model what to do next: which tool
//! lists valid ids, which permission or scope is missing, which argument is wrong.
//!
//! Every failure is answered as a tool result with `isError: true` (the model reads it), not
//! as a protocol error (which clients show opaquely).

use app::AppError;

/// A failed tool call.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// No tool has this name.
    #[error("there is no tool `{name}`; the tools are: {known}")]
    UnknownTool { name: String, known: String },
    /// The arguments do not read as the tool's schema says.
    #[error("tool `{tool}`: {message}")]
    Arguments { tool: &'static str, message: String },
    /// The principal's role does not grant what the tool needs.
    #[error(
        "tool `{tool}` needs the permission `{permission}`, which role `{role}` does not grant; \
         an administrator can give this agent's principal a role that does"
    )]
    Permission {
        tool: &'static str,
        permission: String,
        role: String,
    },
    /// The principal's scope does not reach what the call acts on or reads.
    #[error("out of scope: {message} (this agent's scope is `{scope}`); {next}")]
    Scope {
        message: String,
        scope: String,
        next: String,
    },
    /// What the call names does not exist, or the agent may not see it.
    #[error("{message}; {next}")]
    NotFound { message: String, next: String },
    /// The token the server was started with no longer authenticates.
    #[error(
        "this agent's token was revoked or its principal removed; ask for a new token (`mixplane token issue`)"
    )]
    Revoked,
    /// A use-case refused or failed.
    #[error("{0}")]
    App(#[source] AppError),
    /// The call could not be audited, so its answer is withheld.
    #[error("the call could not be audited, so its answer is withheld: {0}")]
    Audit(#[source] AppError),
}

impl ToolError {
    /// Bad arguments of `tool`.
    pub fn arguments(tool: &'static str, message: impl Into<String>) -> ToolError {
        ToolError::Arguments {
            tool,
            message: message.into(),
        }
    }

    /// `error` from a use-case called by `tool`, with the next step a caller can take.
    pub fn from_app(tool: &'static str, scope: &govern::Scope, error: AppError) -> ToolError {
        match error {
            AppError::NotFound(message) => ToolError::NotFound {
                message,
                next: not_found_hint(tool).into(),
            },
            AppError::Forbidden(message) => ToolError::Scope {
                message,
                scope: scope.to_string(),
                next: "a principal whose scope covers every area of the item must do this, or the \
                       administrator widens this agent's scope"
                    .into(),
            },
            AppError::Govern(govern::GovernError::Forbidden(message)) => ToolError::Scope {
                message,
                scope: scope.to_string(),
                next: "propose only changes inside this agent's scope".into(),
            },
            AppError::NoPlant => ToolError::NotFound {
                message: "no plant is loaded in this store".into(),
                next: "an operator loads one (`mixplane demo` or `mixplane import`)".into(),
            },
            AppError::BadRequest(message) | AppError::Invalid(message) => {
                ToolError::Arguments { tool, message }
            }
            other => ToolError::App(other),
        }
    }

    /// Whether the call was refused for want of permission or scope (audited as `refused`).
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            ToolError::Permission { .. } | ToolError::Scope { .. } | ToolError::Revoked
        )
    }
}

/// Which tool lists the ids a tool takes.
fn not_found_hint(tool: &str) -> &'static str {
    match tool {
        "get_order" | "explain_lateness" => "`list_orders` lists the order ids this agent may read",
        "get_control_chart" => {
            "`list_alerts` names characteristics that signalled; the plant's inspection plans name the rest"
        }
        "release_gate" | "trace_backward" | "trace_forward" | "simulate_recall" => {
            "`list_holds`, `list_orders` and the trace tools answer the lot, serial and order ids this agent may read"
        }
        "get_proposal" => "a propose tool answers the id of the proposal it made",
        "propose_nc_transition" => "`list_nonconformances` lists the NC ids this agent may read",
        "propose_hold" => {
            "`list_holds`, `list_orders` and `trace_forward` answer item ids this agent may read; `list_alerts` the alert ids"
        }
        "get_schedule" | "run_what_if" | "commit_scenario" => {
            "without a plan in force, a planner puts one in force first (`POST /v1/schedule/plan`)"
        }
        _ => "the list tools answer the ids this agent may read",
    }
}
