//! Misbehaviour on demand: what the emulator does wrong, set at start (the binary's flags)
//! and at run time (`POST /emulator/faults`), so a connector can be tested against a peer
//! that throttles, times out, repeats itself, refuses commands and goes away.
//!
//! A [`FaultRequest`] names only what it changes; the [`Faults`] in force keep the rest.
//! Counted faults (throttle the next N requests, fail the next N commands, repeat the next
//! page) are used up as they fire; the delay stays until set to 0; an outage ends after its
//! duration (wall time) or when a request says `up`. A poison row is written once, into the
//! world's tables, when its request is applied (it is data, not a state of the faults).

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// How the emulator is unreachable while down.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DownMode {
    /// The port is closed: connections are refused and open ones cut.
    #[default]
    Refuse,
    /// The port answers, but every request gets 503 with `Retry-After`.
    Unavailable,
}

/// Answer the next `count` service requests with `status` and `Retry-After`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Throttle {
    pub count: u32,
    /// 429 or 503.
    #[serde(default = "default_throttle_status")]
    pub status: u16,
    /// Seconds, sent as `Retry-After`.
    #[serde(default = "default_retry_after")]
    pub retry_after_seconds: u64,
}

fn default_throttle_status() -> u16 {
    429
}

fn default_retry_after() -> u64 {
    1
}

/// Fail the next `count` commands with `error_code` (nothing is applied).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailCommand {
    pub error_code: i64,
    #[serde(default = "default_fail_message")]
    pub message: String,
    #[serde(default = "default_one")]
    pub count: u32,
}

fn default_fail_message() -> String {
    "the command was refused by the emulator (injected fault)".into()
}

fn default_one() -> u32 {
    1
}

/// Go down for `seconds` of wall time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Down {
    pub seconds: u64,
    #[serde(default)]
    pub mode: DownMode,
}

/// Write one row into `app`'s set `set` that no event made and a connector cannot map: its
/// `Id` (a name-based GUID of its `NId`, `poison-<n>`) and `ModifiedOn` (after every row
/// before) are well formed, so a change-feed reader can move past it; its other properties
/// are `fields`, null where not given. By default (no fields) every property the profile
/// needs is missing; `fields` makes it a realistic poison (e.g. an unknown `Status`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoisonRow {
    pub app: String,
    pub set: String,
    #[serde(default)]
    pub fields: Map<String, Value>,
}

impl PoisonRow {
    /// The set it names, after checking the fields are properties of that set's entity
    /// type other than the ones the emulator writes.
    pub fn entity_set(&self) -> Result<opcenter::EntitySet, FaultError> {
        let set = opcenter::EntitySet::find(&self.app, &self.set).ok_or_else(|| {
            FaultError::PoisonSet {
                app: self.app.clone(),
                set: self.set.clone(),
            }
        })?;
        for field in self.fields.keys() {
            if matches!(field.as_str(), "Id" | "NId" | "ModifiedOn") {
                return Err(FaultError::PoisonField {
                    set: set.name(),
                    field: field.clone(),
                    message: "is written by the emulator".into(),
                });
            }
            if set.property(field).is_none() {
                return Err(FaultError::PoisonField {
                    set: set.name(),
                    field: field.clone(),
                    message: format!("is not a property of {}", set.name()),
                });
            }
        }
        Ok(set)
    }
}

/// A change of the faults in force; absent fields leave them as they are.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRequest {
    /// Every access token issued so far expires now.
    #[serde(default)]
    pub expire_tokens: bool,
    /// Lifetime of access tokens issued from now on, in seconds.
    pub token_lifetime_seconds: Option<u64>,
    /// Throttle the next requests (replaces a throttle in force).
    pub throttle: Option<Throttle>,
    /// Delay every answer by this many milliseconds (0 ends the delay).
    pub delay_ms: Option<u64>,
    /// Answer the next collection request with the last page of its set served before it
    /// that held rows, once more (a reader at the head of a change feed, served its empty
    /// page again, would see nothing repeated).
    #[serde(default)]
    pub repeat_page: bool,
    /// Write one row that cannot be mapped into a set (see [`PoisonRow`]).
    pub poison_row: Option<PoisonRow>,
    /// Fail the next commands.
    pub fail_command: Option<FailCommand>,
    /// Go down for a while.
    pub down: Option<Down>,
    /// Come back up now (ends an outage early; in `refuse` mode the port opens again).
    #[serde(default)]
    pub up: bool,
    /// Clear every fault in force (before this request's own are set).
    #[serde(default)]
    pub clear: bool,
}

/// Why a fault request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultError {
    #[error("throttle.status must be 429 or 503, not {0}")]
    ThrottleStatus(u16),
    #[error("down.seconds must be at least 1")]
    DownSeconds,
    #[error("fail_command.count must be at least 1")]
    FailCount,
    #[error("token_lifetime_seconds must be at least 1")]
    TokenLifetime,
    #[error("poison_row: app `{app}` has no entity set `{set}`")]
    PoisonSet { app: String, set: String },
    #[error("poison_row.fields: `{field}` {message}")]
    PoisonField {
        set: &'static str,
        field: String,
        message: String,
    },
    #[error("the simulated plant's thread stopped")]
    PlantStopped,
}

impl FaultRequest {
    /// Checks the request before anything of it is applied.
    pub fn validate(&self) -> Result<(), FaultError> {
        if let Some(t) = &self.throttle
            && t.status != 429
            && t.status != 503
        {
            return Err(FaultError::ThrottleStatus(t.status));
        }
        if self.down.is_some_and(|d| d.seconds == 0) {
            return Err(FaultError::DownSeconds);
        }
        if self.fail_command.as_ref().is_some_and(|f| f.count == 0) {
            return Err(FaultError::FailCount);
        }
        if self.token_lifetime_seconds == Some(0) {
            return Err(FaultError::TokenLifetime);
        }
        if let Some(poison) = &self.poison_row {
            poison.entity_set()?;
        }
        Ok(())
    }
}

/// The faults in force.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    pub throttle: Option<Throttle>,
    pub delay: Duration,
    pub repeat_page: bool,
    pub fail_command: Option<FailCommand>,
    /// Until when, and how, the emulator is down.
    pub down: Option<(Instant, DownMode)>,
}

/// What the faults say about one service request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Serve it (after `delay`).
    Serve { delay: Duration },
    /// Answer `status` with `Retry-After: retry_after` seconds instead.
    Refuse { status: u16, retry_after: u64 },
}

/// What [`Faults::view`] shows over the admin endpoint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FaultsView {
    pub throttle: Option<Throttle>,
    pub delay_ms: u64,
    pub repeat_page: bool,
    pub fail_command: Option<FailCommand>,
    /// Seconds of the outage left, if down.
    pub down_seconds_left: Option<f64>,
    pub down_mode: Option<DownMode>,
}

impl Faults {
    /// Applies a validated request (not `expire_tokens` and the token lifetime, which the
    /// tokens own, nor the poison row, which the world's tables own).
    pub fn apply(&mut self, request: &FaultRequest, now: Instant) {
        if request.clear {
            *self = Faults::default();
        }
        if let Some(throttle) = request.throttle {
            self.throttle = (throttle.count > 0).then_some(throttle);
        }
        if let Some(ms) = request.delay_ms {
            self.delay = Duration::from_millis(ms);
        }
        if request.repeat_page {
            self.repeat_page = true;
        }
        if let Some(fail) = &request.fail_command {
            self.fail_command = Some(fail.clone());
        }
        if let Some(down) = request.down {
            self.down = Some((now + Duration::from_secs(down.seconds), down.mode));
        }
        if request.up {
            self.down = None;
        }
    }

    /// The outage in force at `now`, if any (an outage past its end is over).
    pub fn down_at(&mut self, now: Instant) -> Option<(Instant, DownMode)> {
        if self.down.is_some_and(|(until, _)| until <= now) {
            self.down = None;
        }
        self.down
    }

    /// Decides one service request, using up a throttle's count.
    pub fn gate(&mut self, now: Instant) -> Gate {
        if let Some((until, _)) = self.down_at(now) {
            let left = until.saturating_duration_since(now);
            return Gate::Refuse {
                status: 503,
                retry_after: left.as_secs() + u64::from(left.subsec_nanos() > 0),
            };
        }
        if let Some(throttle) = &mut self.throttle {
            throttle.count -= 1;
            let refused = Gate::Refuse {
                status: throttle.status,
                retry_after: throttle.retry_after_seconds,
            };
            if throttle.count == 0 {
                self.throttle = None;
            }
            return refused;
        }
        Gate::Serve { delay: self.delay }
    }

    /// Takes the next command failure, if one is set.
    pub fn take_command_failure(&mut self) -> Option<(i64, String)> {
        let fail = self.fail_command.as_mut()?;
        fail.count -= 1;
        let answer = (fail.error_code, fail.message.clone());
        if fail.count == 0 {
            self.fail_command = None;
        }
        Some(answer)
    }

    /// Takes the page repeat, if one is set.
    pub fn take_repeat_page(&mut self) -> bool {
        std::mem::take(&mut self.repeat_page)
    }

    /// The faults in force, for the admin endpoint.
    pub fn view(&mut self, now: Instant) -> FaultsView {
        let down = self.down_at(now);
        FaultsView {
            throttle: self.throttle,
            delay_ms: self.delay.as_millis() as u64,
            repeat_page: self.repeat_page,
            fail_command: self.fail_command.clone(),
            down_seconds_left: down.map(|(until, _)| (until - now).as_secs_f64()),
            down_mode: down.map(|(_, mode)| mode),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_faults_are_used_up() {
        let now = Instant::now();
        let mut faults = Faults::default();
        let request: FaultRequest = serde_json::from_str(
            r#"{"throttle": {"count": 2, "status": 503, "retry_after_seconds": 7},
                "fail_command": {"error_code": -702597},
                "repeat_page": true}"#,
        )
        .unwrap();
        request.validate().unwrap();
        faults.apply(&request, now);
        let refused = Gate::Refuse {
            status: 503,
            retry_after: 7,
        };
        assert_eq!(faults.gate(now), refused);
        assert_eq!(faults.gate(now), refused);
        assert_eq!(
            faults.gate(now),
            Gate::Serve {
                delay: Duration::ZERO
            }
        );
        assert_eq!(faults.take_command_failure().map(|f| f.0), Some(-702597));
        assert_eq!(faults.take_command_failure(), None);
        assert!(faults.take_repeat_page());
        assert!(!faults.take_repeat_page());
    }

    #[test]
    fn an_outage_ends_by_itself_or_when_told() {
        let now = Instant::now();
        let mut faults = Faults::default();
        let down = FaultRequest {
            down: Some(Down {
                seconds: 2,
                mode: DownMode::Unavailable,
            }),
            ..FaultRequest::default()
        };
        faults.apply(&down, now);
        assert_eq!(
            faults.gate(now),
            Gate::Refuse {
                status: 503,
                retry_after: 2
            }
        );
        assert!(matches!(
            faults.gate(now + Duration::from_secs(2)),
            Gate::Serve { .. }
        ));
        faults.apply(&down, now);
        faults.apply(
            &FaultRequest {
                up: true,
                ..FaultRequest::default()
            },
            now,
        );
        assert!(matches!(faults.gate(now), Gate::Serve { .. }));
    }

    #[test]
    fn bad_requests_are_named() {
        let bad: FaultRequest =
            serde_json::from_str(r#"{"throttle": {"count": 1, "status": 500}}"#).unwrap();
        assert_eq!(bad.validate(), Err(FaultError::ThrottleStatus(500)));
        assert!(serde_json::from_str::<FaultRequest>(r#"{"slow": true}"#).is_err());
        let poison = |text: &str| {
            serde_json::from_str::<FaultRequest>(&format!(r#"{{"poison_row": {text}}}"#))
                .unwrap()
                .validate()
        };
        assert_eq!(
            poison(
                r#"{"app": "Equipment", "set": "EquipmentStatusHistory", "fields": {"Status": "Exploded"}}"#
            ),
            Ok(())
        );
        assert_eq!(
            poison(r#"{"app": "Equipment", "set": "WorkOrder"}"#),
            Err(FaultError::PoisonSet {
                app: "Equipment".into(),
                set: "WorkOrder".into()
            })
        );
        for field in ["Colour", "ModifiedOn"] {
            let refused = poison(&format!(
                r#"{{"app": "AppU4DM", "set": "ResultHistory", "fields": {{"{field}": 1}}}}"#
            ))
            .unwrap_err()
            .to_string();
            assert!(refused.contains(field), "{refused}");
        }
    }
}
