//! The command sink: an approved proposal's change set carried out by an Opcenter-style MES
//! as its commands (`POST /sit-svc/Application/{App}/odata/{Command}` with
//! `{"command": {…}}`), built by `opcenter::commands_for`; `app`'s `mes` sink
//! ([`app::MesCommands`]).
//!
//! - **Who**: every command carries `ModifiedBy` — the engine and version and the approvers
//!   (`mixplane-scheduler/0.1.0 approved by ana`) — and so does the answer that is audited.
//! - **Nothing half-applied**: the commands go one by one, in the diff's order. When one
//!   fails (`Succeeded: false`), the commands that succeeded before it are undone by the
//!   inverse of their changes, sent in reverse order (keys `…-undo-<n>`), and the delivery
//!   fails with the MES's `ErrorCode` and `ErrorMessage`. A command whose outcome is unknown
//!   (the MES stayed unreachable after the retries) is undone too: an inverse of a change
//!   that never landed sets what the MES already holds. If an undo itself fails, the answer
//!   says so (`"half_applied": true`, with each undo's answer) so a person can act.
//!   Opcenter has no command taking a mixed change set at once, so compensation, not one
//!   list command, is what keeps the MES whole.
//! - **Repeated deliveries**: the idempotency key of change `n` is
//!   `<proposal>-<direction>-<n>`, so a delivery repeated after its answer was lost is
//!   answered by the MES as the first one was. After a delivery failed (and was undone), the
//!   next attempt must not be taken for it: `app` passes the audit sequence number of that
//!   failure as the delivery's generation, and the keys become
//!   `<proposal>~g<seq>-<direction>-<n>`.
//! - **Unavailable**: 429/503 (and 5xx, timeouts) are retried with the same key, after the
//!   `Retry-After` the MES gave (at most `max_retry_after_seconds`), `attempts` times in all.
//!
//! A rollback goes through the same path with the inverse diff.

use std::pin::Pin;
use std::time::Duration;

use app::{MesCommands, MesDelivery};
use govern::Change;
use opcenter::{Command, CommandAnswer};
use reqwest::{Method, StatusCode, Url};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use super::config::{AuthConfig, ConfigError};
use super::http::{Credentials, Peer, parse_retry_after};
use crate::source::PeerError;

/// The `mes` sink's settings: where the MES is and how to sign in.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MesSinkConfig {
    /// The MES's origin (`http://host:port`); command paths are joined to it.
    pub base_url: String,
    #[serde(default)]
    pub auth: AuthConfig,
    #[serde(default = "default_timeout_seconds")]
    pub timeout_seconds: u64,
    /// Sends of one command, in all, while the MES is unavailable.
    #[serde(default = "default_attempts")]
    pub attempts: u32,
    /// The longest `Retry-After` waited for between two sends.
    #[serde(default = "default_max_retry_after")]
    pub max_retry_after_seconds: u64,
}

fn default_timeout_seconds() -> u64 {
    30
}
fn default_attempts() -> u32 {
    3
}
fn default_max_retry_after() -> u64 {
    10
}

const SINK: &str = "mes";

/// What became of one command.
enum Sent {
    /// The MES answered (either way).
    Answered(CommandAnswer),
    /// The MES refused the request itself (not a command answer): it was not carried out.
    Refused(String),
    /// No answer after the retries: it may or may not have been carried out.
    Unknown(String),
}

/// The MES as `app`'s `mes` sink.
#[derive(Debug)]
pub struct OdataCommandSink {
    base: Url,
    config: MesSinkConfig,
    peer: Mutex<PeerHandle>,
}

struct PeerHandle(Peer);

impl std::fmt::Debug for PeerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Peer")
    }
}

impl OdataCommandSink {
    /// Checks the settings and reads their secrets.
    pub fn new(config: MesSinkConfig) -> Result<OdataCommandSink, ConfigError> {
        let base = Url::parse(&config.base_url).map_err(|e| ConfigError {
            setting: "base_url".into(),
            message: format!("{:?}: {e}", config.base_url),
        })?;
        if config.attempts == 0 || config.timeout_seconds == 0 {
            return Err(ConfigError {
                setting: "attempts".into(),
                message: "attempts and timeout_seconds must be at least 1".into(),
            });
        }
        let credentials = Credentials::resolve(&config.base_url, &config.auth)?;
        let peer =
            Peer::new(credentials, Duration::from_secs(config.timeout_seconds)).map_err(|e| {
                ConfigError {
                    setting: "base_url".into(),
                    message: e.to_string(),
                }
            })?;
        Ok(OdataCommandSink {
            base,
            config,
            peer: Mutex::new(PeerHandle(peer)),
        })
    }

    /// Carries out `diff` as commands; see the module's documentation.
    pub async fn deliver_diff(
        &self,
        key_prefix: &str,
        diff: &[Change],
        direction: &str,
        modified_by: &str,
    ) -> Result<Value, Value> {
        let commands = opcenter::commands_for(key_prefix, direction, diff)
            .map_err(|e| error_answer(e.to_string(), modified_by))?;
        let mut peer = self.peer.lock().await;
        let mut done: Vec<Value> = Vec::new();
        for (index, mut command) in commands.into_iter().enumerate() {
            command.set_modified_by(modified_by);
            let sent = self.send(&mut peer.0, &command).await;
            let (failure, landed_maybe) = match sent {
                Sent::Answered(answer) if answer.succeeded => {
                    done.push(command_record(&command, &answer));
                    continue;
                }
                Sent::Answered(answer) => (
                    (
                        format!(
                            "{} ({}) failed: ErrorCode {}: {}",
                            command.name,
                            command.idempotency_key().unwrap_or(""),
                            answer.error.error_code,
                            answer.error.error_message
                        ),
                        Some(answer.error),
                    ),
                    false,
                ),
                Sent::Refused(message) => ((message, None), false),
                Sent::Unknown(message) => ((message, None), true),
            };
            // Undo what succeeded (and what may have), newest first.
            let undo_upto = if landed_maybe { index + 1 } else { index };
            let undo = Change::inverse_diff(&diff[..undo_upto]);
            let undone = self
                .undo(&mut peer.0, key_prefix, direction, &undo, modified_by)
                .await;
            let half_applied = undone
                .iter()
                .any(|u| u["answer"]["Succeeded"] != json!(true));
            let (message, error) = failure;
            let mut answer = error_answer(
                if half_applied {
                    format!(
                        "{message}; undoing the commands before it failed too: the MES holds part of the change"
                    )
                } else {
                    message
                },
                modified_by,
            );
            if let Some(error) = error {
                answer["error_code"] = json!(error.error_code);
                answer["error_message"] = json!(error.error_message);
            }
            answer["commands"] = Value::Array(done);
            answer["undone"] = Value::Array(undone);
            answer["half_applied"] = json!(half_applied);
            return Err(answer);
        }
        Ok(json!({
            "sink": SINK,
            "status": "Succeeded",
            "modified_by": modified_by,
            "commands": done,
        }))
    }

    async fn undo(
        &self,
        peer: &mut Peer,
        key_prefix: &str,
        direction: &str,
        inverse: &[Change],
        modified_by: &str,
    ) -> Vec<Value> {
        let undo_direction = format!("{direction}-undo");
        let commands = match opcenter::commands_for(key_prefix, &undo_direction, inverse) {
            Ok(commands) => commands,
            Err(e) => return vec![json!({"error": e.to_string()})],
        };
        let mut records = Vec::new();
        for mut command in commands {
            command.set_modified_by(&format!("{modified_by} (undoing a failed {direction})"));
            let record = match self.send(peer, &command).await {
                Sent::Answered(answer) => command_record(&command, &answer),
                Sent::Refused(message) | Sent::Unknown(message) => {
                    let mut record =
                        command_record(&command, &CommandAnswer::failed(0, message.clone()));
                    record["error"] = json!(message);
                    record
                }
            };
            records.push(record);
        }
        records
    }

    /// Sends one command, retrying the same key while the MES is unavailable.
    async fn send(&self, peer: &mut Peer, command: &Command) -> Sent {
        let url = match self.base.join(&command.path()) {
            Ok(url) => url,
            Err(e) => return Sent::Refused(format!("{}: {e}", command.path())),
        };
        let mut last = String::new();
        for attempt in 1..=self.config.attempts {
            let wait = match peer.exchange(Method::POST, &url, Some(&command.body)).await {
                Ok(response) => {
                    let status = response.status();
                    let retry_after = response
                        .headers()
                        .get("Retry-After")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| parse_retry_after(v, std::time::SystemTime::now()));
                    let text = response.text().await.unwrap_or_default();
                    if let Ok(answer) = serde_json::from_str::<CommandAnswer>(&text) {
                        return Sent::Answered(answer);
                    }
                    last = format!(
                        "{url} answered {status}: {}",
                        text.chars().take(300).collect::<String>()
                    );
                    if !unavailable(status) {
                        return Sent::Refused(last);
                    }
                    retry_after
                }
                Err(PeerError::Unavailable {
                    message,
                    retry_after,
                }) => {
                    last = message;
                    retry_after
                }
                Err(other) => return Sent::Refused(other.to_string()),
            };
            if attempt < self.config.attempts {
                let cap = Duration::from_secs(self.config.max_retry_after_seconds);
                let backoff = Duration::from_millis(200 * u64::from(attempt));
                tokio::time::sleep(wait.unwrap_or(backoff).min(cap)).await;
            }
        }
        Sent::Unknown(format!(
            "{} ({}): no answer after {} attempts: {last}",
            command.name,
            command.idempotency_key().unwrap_or(""),
            self.config.attempts
        ))
    }
}

fn unavailable(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

fn command_record(command: &Command, answer: &CommandAnswer) -> Value {
    json!({
        "app": command.app,
        "name": command.name,
        "key": command.idempotency_key(),
        "answer": answer,
    })
}

fn error_answer(message: String, modified_by: &str) -> Value {
    json!({ "sink": SINK, "status": "Error", "message": message, "modified_by": modified_by })
}

impl MesCommands for OdataCommandSink {
    fn deliver<'a>(
        &'a self,
        delivery: MesDelivery<'a>,
    ) -> Pin<Box<dyn std::future::Future<Output = Result<Value, Value>> + Send + 'a>> {
        Box::pin(async move {
            let prefix = match delivery.generation {
                Some(seq) => format!("{}~g{seq}", delivery.proposal.id),
                None => delivery.proposal.id.clone(),
            };
            self.deliver_diff(
                &prefix,
                delivery.diff,
                delivery.direction,
                delivery.modified_by,
            )
            .await
        })
    }
}
