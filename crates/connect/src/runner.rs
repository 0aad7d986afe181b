//! The runner: one [`Source`] polled from its stored cursor, each batch stored through
//! `app::connectors::ingest_batch` as the connector's principal, until it is stopped.
//!
//! - The cursor is read from the store before each poll and is only ever advanced by the
//!   store transaction that stored the batch read from it, so a runner killed at any point
//!   and started again reads the unstored part again (the log skips what it already has).
//! - `Batch::more` polls again at once; otherwise the runner waits the poll interval.
//! - A peer that is unavailable is polled again after an exponential backoff with jitter
//!   (drawn from `model::rng::Rng` seeded per connector, so a run is reproducible), capped,
//!   or after the peer's own `Retry-After`. Refused credentials and answers that cannot be read
//!   mark the connector `failed` with the message and are retried at the cap: someone has to
//!   act, but the connector resumes by itself once they have. A store that fails (busy, no
//!   plant yet) is retried like an unavailable peer.
//! - A source whose peer keeps the position (a broker) is acknowledged after the store's
//!   transaction, so a kill between the two makes the peer deliver the batch again, which the
//!   log then skips.
//! - Counters and health go to the shared `app::connectors::Registry` the API reads.
//! - Sleeping and polling are cancelled by [`Stop`]: a stopped runner ends between two
//!   stores, never inside one.

use std::time::Duration;

use app::App;
use app::connectors::{Health, IncomingRecord};
use govern::{Permission, Principal};
use model::Timestamp;
use model::rng::Rng;
use tokio::sync::watch;

use crate::source::{Batch, PeerError, Source};

/// How a runner paces itself.
#[derive(Debug, Clone, PartialEq)]
pub struct Pacing {
    /// The wait after a poll that found nothing more.
    pub poll_interval: Duration,
    /// The first retry's backoff; each further failure doubles it.
    pub backoff_base: Duration,
    /// The longest backoff, and the retry interval of a failed connector.
    pub backoff_cap: Duration,
    /// The longest a peer's `Retry-After` is honoured for.
    pub max_retry_after: Duration,
    /// Seeds the jitter (with the connector's name).
    pub seed: u64,
}

impl Pacing {
    /// The defaults for a poll interval: backoff from 1 s, capped at 5 minutes, Retry-After
    /// honoured up to an hour.
    pub fn with_interval(poll_interval: Duration) -> Pacing {
        Pacing {
            poll_interval,
            backoff_base: Duration::from_secs(1),
            backoff_cap: Duration::from_secs(300),
            max_retry_after: Duration::from_secs(3600),
            seed: 0x6d69_7870_6c61_6e65,
        }
    }

    /// The backoff before retry number `failures` (from 1): `base · 2^(failures-1)`, capped,
    /// then scaled by a factor in [0.5, 1) drawn from `rng`, so that connectors failing
    /// together do not retry together.
    pub fn backoff(&self, failures: u32, rng: &mut Rng) -> Duration {
        let doubled = self
            .backoff_base
            .saturating_mul(1u32 << failures.saturating_sub(1).min(20));
        let capped = doubled.min(self.backoff_cap);
        capped.mul_f64(0.5 + 0.5 * rng.uniform())
    }
}

/// Tells runners to stop; dropping it stops them too.
#[derive(Debug)]
pub struct StopHandle(watch::Sender<bool>);

/// What a runner watches to know it should stop.
#[derive(Debug, Clone)]
pub struct Stop(watch::Receiver<bool>);

/// A stop handle and its receiver.
pub fn stop_pair() -> (StopHandle, Stop) {
    let (tx, rx) = watch::channel(false);
    (StopHandle(tx), Stop(rx))
}

impl StopHandle {
    /// Asks every runner watching to stop.
    pub fn stop(&self) {
        let _ = self.0.send(true);
    }
}

impl Stop {
    /// Resolves once a stop is asked for (or the handle is dropped).
    pub async fn stopped(&mut self) {
        loop {
            if *self.0.borrow_and_update() {
                return;
            }
            if self.0.changed().await.is_err() {
                return;
            }
        }
    }

    pub fn is_stopped(&self) -> bool {
        *self.0.borrow() || self.0.has_changed().is_err()
    }
}

/// One connector's loop.
pub struct Runner<S: Source> {
    pub source: S,
    pub app: App,
    pub principal: Principal,
    pub kind: String,
    pub pacing: Pacing,
}

/// What a step of the loop ended with.
enum Step {
    /// The peer has more: poll again at once.
    More,
    /// Wait the poll interval.
    Wait,
    /// A stop was asked for while polling.
    Stopped,
}

/// Why a step of the loop failed, and how long to wait before the next.
enum Failure {
    /// Retry with backoff (or after `after`).
    Retry {
        message: String,
        after: Option<Duration>,
    },
    /// Someone must act; retried at the cap.
    Failed(String),
}

impl<S: Source> Runner<S> {
    /// Runs until `stop`; registers the connector in `app.connectors` first and leaves it
    /// `stopped`.
    pub async fn run(mut self, mut stop: Stop) {
        let name = self.source.name().to_owned();
        let registry = self.app.connectors.clone();
        registry.register(&name, &self.kind, &self.principal.id);
        let mut rng = Rng::derive(self.pacing.seed, &name);
        let mut failures: u32 = 0;
        loop {
            if stop.is_stopped() {
                break;
            }
            let wait = match self.step(&mut stop).await {
                Ok(Step::Stopped) => break,
                Ok(Step::More) => {
                    failures = 0;
                    continue;
                }
                Ok(Step::Wait) => {
                    failures = 0;
                    self.pacing.poll_interval
                }
                Err(failure) => {
                    failures = failures.saturating_add(1);
                    let now = self.app.now();
                    let (state, message, wait) = match failure {
                        Failure::Retry { message, after } => {
                            let wait = match after {
                                Some(after) => after.min(self.pacing.max_retry_after),
                                None => self.pacing.backoff(failures, &mut rng),
                            };
                            (Health::Retrying, message, wait)
                        }
                        Failure::Failed(message) => {
                            (Health::Failed, message, self.pacing.backoff_cap)
                        }
                    };
                    tracing::warn!(connector = %name, retry_in_ms = wait.as_millis() as u64, "{message}");
                    registry.update(&name, |s| {
                        s.state = state;
                        s.counters.retries += 1;
                        s.counters.last_error = Some(message);
                        s.counters.last_error_at = Some(now);
                    });
                    wait
                }
            };
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = stop.stopped() => break,
            }
        }
        self.source.close().await;
        registry.update(&name, |s| s.state = Health::Stopped);
    }

    /// One poll from the stored cursor and its store. A stop cancels the poll, never the
    /// store.
    async fn step(&mut self, stop: &mut Stop) -> Result<Step, Failure> {
        let name = self.source.name().to_owned();
        let store_failure = |e: app::AppError| match e {
            app::AppError::Forbidden(message) => Failure::Failed(message),
            other => Failure::Retry {
                message: format!("storing failed: {other}"),
                after: None,
            },
        };
        // Read each time: another process or a reset may have moved it, and the store is the
        // only authority on where the log stands.
        app::access::authorize(&self.app, &self.principal, Permission::WriteEvents)
            .await
            .map_err(store_failure)?;
        let from = self
            .app
            .store
            .connector_cursor(&name)
            .await
            .map_err(|e| store_failure(e.into()))?
            .and_then(|s| s.cursor);
        self.app.connectors.update(&name, |s| s.counters.polls += 1);
        let polled = tokio::select! {
            polled = self.source.poll(from.as_deref()) => polled,
            () = stop.stopped() => return Ok(Step::Stopped),
        };
        let batch = polled.map_err(|e| match e {
            PeerError::Unavailable {
                message,
                retry_after,
            } => Failure::Retry {
                message: format!("the peer is unavailable: {message}"),
                after: retry_after,
            },
            failed @ (PeerError::Unauthorized(_) | PeerError::Broken(_)) => {
                Failure::Failed(failed.to_string())
            }
        })?;
        let Batch {
            records,
            cursor: next,
            more,
        } = batch;
        let read = records.len() as u64;
        let newest: Option<Timestamp> = records
            .iter()
            .filter_map(|r| r.mapped.as_ref().ok())
            .flatten()
            .map(|e| e.time)
            .max();
        let incoming: Vec<IncomingRecord> = records
            .into_iter()
            .map(|r| IncomingRecord {
                source_id: r.source_id,
                mapped: r.mapped,
                raw: r.raw,
            })
            .collect();
        let changed = next.is_some() && next != from;
        let outcome = if incoming.is_empty() && !changed {
            app::connectors::BatchOutcome::default()
        } else {
            let stored_cursor = if changed { next.clone() } else { None };
            app::connectors::ingest_batch(
                &self.app,
                &self.principal,
                &name,
                incoming,
                stored_cursor,
            )
            .await
            .map_err(store_failure)?
        };
        let now = self.app.now();
        self.app.connectors.update(&name, |s| {
            let c = &mut s.counters;
            c.records += read;
            c.events_stored += outcome.append.inserted as u64;
            c.duplicates += outcome.append.duplicates as u64;
            c.dead_letters += outcome.dead_lettered as u64;
            c.last_success_at = Some(now);
            if outcome.append.inserted > 0 {
                c.newest_event_time = c.newest_event_time.max(newest);
            }
            s.state = Health::Ok;
        });
        // Only now, with the batch committed (and counted), may a peer that keeps the position
        // forget it.
        self.source
            .acknowledge()
            .await
            .map_err(|e| Failure::Retry {
                message: format!("acknowledging the stored batch failed: {e}"),
                after: None,
            })?;
        Ok(if more { Step::More } else { Step::Wait })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_is_capped_and_jittered_within_half() {
        let pacing = Pacing {
            backoff_base: Duration::from_millis(100),
            backoff_cap: Duration::from_millis(1000),
            ..Pacing::with_interval(Duration::from_secs(1))
        };
        let mut rng = Rng::derive(1, "c");
        for (failures, full) in [
            (1, 100),
            (2, 200),
            (3, 400),
            (4, 800),
            (5, 1000),
            (40, 1000),
        ] {
            let wait = pacing.backoff(failures, &mut rng).as_millis() as u64;
            assert!(
                wait >= full / 2 && wait < full,
                "retry {failures}: {wait} ms not in [{}, {full})",
                full / 2
            );
        }
    }

    #[test]
    fn jitter_is_seeded_per_connector() {
        let pacing = Pacing::with_interval(Duration::from_secs(1));
        let draws = |name: &str| {
            let mut rng = Rng::derive(pacing.seed, name);
            (1..6)
                .map(|n| pacing.backoff(n, &mut rng))
                .collect::<Vec<_>>()
        };
        assert_eq!(draws("a"), draws("a"));
        assert_ne!(draws("a"), draws("b"));
    }
}
