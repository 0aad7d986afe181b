//! The gate in front of argon2 token verification: how many run at once, how many may wait,
//! which tokens are known to be wrong, and who has failed too often.
//!
//! A verification holds 19 MiB and a core for about 25 ms, and anyone who has seen a token id
//! (they are in audit records) can ask for one with a wrong secret. So, before
//! [`store::Store::authenticate`] runs:
//!
//! - a token that failed within the failure window is answered 401 without verifying it again
//!   ([`Admission::KnownBad`]);
//! - a client address with too many failures within the window, or a token id with too many
//!   failures asked for by a client that has failed itself, is answered 429 with the seconds
//!   until the window ends ([`Admission::Throttled`]): a client that has not failed is never
//!   locked out by others' failures on its token's id;
//! - at most `concurrent_verifications` run, `queued_verifications` wait for a slot, and any
//!   further one is answered 503 with `Retry-After` ([`Admission::Busy`]).
//!
//! Failures are counted for unknown ids exactly as for known ones (the store verifies an
//! unknown id against a decoy hash), so neither the answers nor their timing say which ids
//! exist. The tables only grow by one entry per failed verification, and verifications are
//! bounded above, so they hold at most (throughput × window) entries; expired entries are
//! swept when a table passes its cap.
//!
//! This module owns no HTTP: [`crate::auth::TokenCache`] turns an admission into an answer.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, SemaphorePermit};

use crate::limits::Limits;

/// Entries a table holds before expired ones are swept; past it after a sweep the table is
/// cleared (the throughput bound makes that unreachable within one window).
const TABLE_CAP: usize = 100_000;

/// Whether a token may be verified now.
#[derive(Debug)]
pub enum Admission<'a> {
    /// Verify it while holding this slot, then [`VerificationGate::record_failure`] or not.
    Verify(Slot<'a>),
    /// This exact token failed recently: it is wrong, answer as for any wrong token.
    KnownBad,
    /// Too many failures for this token id or client: try again after this long.
    Throttled { retry_after: Duration },
    /// Every slot and queue place is taken: try again after this long.
    Busy { retry_after: Duration },
}

/// A verification slot; dropping it frees the slot.
#[derive(Debug)]
pub struct Slot<'a> {
    _permit: SemaphorePermit<'a>,
    running: &'a AtomicUsize,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.running.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Counts a request waiting for a slot, for the queue bound.
struct InLine<'a>(&'a AtomicUsize);

impl Drop for InLine<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Failures within a fixed window per key.
#[derive(Debug)]
struct FailureCounts<K> {
    windows: HashMap<K, (Instant, u32)>,
}

impl<K> Default for FailureCounts<K> {
    fn default() -> Self {
        FailureCounts {
            windows: HashMap::new(),
        }
    }
}

impl<K: Hash + Eq> FailureCounts<K> {
    /// How long until `key` may fail again, when it has used up `allowed` failures.
    fn blocked_for(
        &self,
        key: &K,
        allowed: u32,
        window: Duration,
        now: Instant,
    ) -> Option<Duration> {
        let (start, count) = self.windows.get(key)?;
        let ends = *start + window;
        (*count >= allowed && ends > now).then(|| ends - now)
    }

    fn record(&mut self, key: K, window: Duration, now: Instant) {
        if self.windows.len() >= TABLE_CAP {
            self.windows.retain(|_, (start, _)| *start + window > now);
            if self.windows.len() >= TABLE_CAP {
                self.windows.clear();
            }
        }
        let entry = self.windows.entry(key).or_insert((now, 0));
        if entry.0 + window <= now {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }
}

#[derive(Debug, Default)]
struct Failures {
    /// SHA-256 of a token that failed → when it failed.
    tokens: HashMap<[u8; 32], Instant>,
    by_token_id: FailureCounts<String>,
    by_client: FailureCounts<IpAddr>,
}

/// The gate; one per server, shared by every request.
#[derive(Debug)]
pub struct VerificationGate {
    slots: Semaphore,
    in_line: AtomicUsize,
    running: AtomicUsize,
    most_running: AtomicUsize,
    /// Requests that may wait for a slot.
    queue_bound: usize,
    failures: Mutex<Failures>,
    per_token: u32,
    per_client: u32,
    window: Duration,
}

impl VerificationGate {
    pub fn new(limits: &Limits) -> VerificationGate {
        VerificationGate {
            slots: Semaphore::new(limits.concurrent_verifications),
            in_line: AtomicUsize::new(0),
            running: AtomicUsize::new(0),
            most_running: AtomicUsize::new(0),
            queue_bound: limits.queued_verifications,
            failures: Mutex::default(),
            per_token: limits.failures_per_token,
            per_client: limits.failures_per_client,
            window: limits.failure_window(),
        }
    }

    /// Waits for a slot to verify the token of `digest` and `token_id` from `client`, or says
    /// why not. The failure tables are read again once a slot is held, since requests that
    /// waited alongside may have failed meanwhile.
    pub async fn admit(
        &self,
        digest: &[u8; 32],
        token_id: &str,
        client: Option<IpAddr>,
    ) -> Admission<'_> {
        if let Some(refusal) = self.refusal(digest, token_id, client) {
            return refusal;
        }
        // The semaphore is fair: a slot is free only when nobody waits for one.
        let permit = match self.slots.try_acquire() {
            Ok(permit) => permit,
            Err(_) => {
                if self.in_line.fetch_add(1, Ordering::SeqCst) >= self.queue_bound {
                    self.in_line.fetch_sub(1, Ordering::SeqCst);
                    return Admission::Busy {
                        retry_after: Duration::from_secs(1),
                    };
                }
                let _in_line = InLine(&self.in_line);
                self.slots
                    .acquire()
                    .await
                    .expect("the verification semaphore is never closed")
            }
        };
        // Counted after the permit: `running` can never pass the number of slots.
        let running = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_running.fetch_max(running, Ordering::SeqCst);
        let slot = Slot {
            _permit: permit,
            running: &self.running,
        };
        match self.refusal(digest, token_id, client) {
            Some(refusal) => refusal,
            None => Admission::Verify(slot),
        }
    }

    fn refusal(
        &self,
        digest: &[u8; 32],
        token_id: &str,
        client: Option<IpAddr>,
    ) -> Option<Admission<'static>> {
        let now = Instant::now();
        let failures = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if failures
            .tokens
            .get(digest)
            .is_some_and(|at| *at + self.window > now)
        {
            return Some(Admission::KnownBad);
        }
        // An id's failures hold back only clients that have failed themselves (or whose
        // address is unknown): whoever floods an id cannot lock its holder out.
        let has_failed = client.is_none_or(|client| {
            failures
                .by_client
                .blocked_for(&client, 1, self.window, now)
                .is_some()
        });
        let by_id = has_failed
            .then(|| {
                failures.by_token_id.blocked_for(
                    &token_id.to_owned(),
                    self.per_token,
                    self.window,
                    now,
                )
            })
            .flatten();
        let by_client = client.and_then(|client| {
            failures
                .by_client
                .blocked_for(&client, self.per_client, self.window, now)
        });
        by_id
            .into_iter()
            .chain(by_client)
            .max()
            .map(|wait| Admission::Throttled {
                retry_after: wait.max(Duration::from_secs(1)),
            })
    }

    /// Remembers that the token of `digest` failed, and counts the failure against its id and
    /// client.
    pub fn record_failure(&self, digest: [u8; 32], token_id: &str, client: Option<IpAddr>) {
        let now = Instant::now();
        let window = self.window;
        let mut failures = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if failures.tokens.len() >= TABLE_CAP {
            failures.tokens.retain(|_, at| *at + window > now);
            if failures.tokens.len() >= TABLE_CAP {
                failures.tokens.clear();
            }
        }
        failures.tokens.insert(digest, now);
        failures
            .by_token_id
            .record(token_id.to_owned(), window, now);
        if let Some(client) = client {
            failures.by_client.record(client, window, now);
        }
    }

    /// The most verifications that have run at once since the server started (at most the
    /// configured concurrency; an operational figure, and what tests check the bound with).
    pub fn most_running(&self) -> usize {
        self.most_running.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(concurrent: usize, queued: usize) -> Limits {
        Limits {
            concurrent_verifications: concurrent,
            queued_verifications: queued,
            failures_per_token: 2,
            failures_per_client: 3,
            ..Limits::default()
        }
    }

    #[tokio::test]
    async fn a_failed_token_is_not_verified_again_and_its_id_is_throttled() {
        let gate = VerificationGate::new(&limits(2, 2));
        let client = Some(IpAddr::from([10, 0, 0, 1]));
        let admission = gate.admit(&[1; 32], "aaaa", client).await;
        assert!(matches!(admission, Admission::Verify(_)), "{admission:?}");
        drop(admission);
        gate.record_failure([1; 32], "aaaa", client);
        assert!(matches!(
            gate.admit(&[1; 32], "aaaa", client).await,
            Admission::KnownBad
        ));
        // Another secret for the same id is verified until the id has used its failures.
        assert!(matches!(
            gate.admit(&[2; 32], "aaaa", client).await,
            Admission::Verify(_)
        ));
        gate.record_failure([2; 32], "aaaa", client);
        match gate.admit(&[3; 32], "aaaa", client).await {
            Admission::Throttled { retry_after } => {
                assert!(retry_after <= Duration::from_secs(60) && retry_after.as_secs() >= 1);
            }
            other => panic!("expected a throttle, got {other:?}"),
        }
        // A different id from another client is not affected.
        let elsewhere = Some(IpAddr::from([10, 0, 0, 2]));
        assert!(matches!(
            gate.admit(&[4; 32], "bbbb", elsewhere).await,
            Admission::Verify(_)
        ));
        // Nor is the throttled id, asked for by a client that has not failed: the token's
        // holder is not locked out by whoever floods its id. Once it fails, it is held back.
        assert!(matches!(
            gate.admit(&[5; 32], "aaaa", elsewhere).await,
            Admission::Verify(_)
        ));
        gate.record_failure([5; 32], "aaaa", elsewhere);
        assert!(matches!(
            gate.admit(&[6; 32], "aaaa", elsewhere).await,
            Admission::Throttled { .. }
        ));
    }

    #[tokio::test]
    async fn a_client_that_fails_on_many_ids_is_throttled() {
        let gate = VerificationGate::new(&limits(2, 2));
        let client = Some(IpAddr::from([10, 0, 0, 9]));
        for (n, id) in ["a1", "a2", "a3"].into_iter().enumerate() {
            let digest = [n as u8 + 10; 32];
            assert!(matches!(
                gate.admit(&digest, id, client).await,
                Admission::Verify(_)
            ));
            gate.record_failure(digest, id, client);
        }
        assert!(matches!(
            gate.admit(&[99; 32], "a4", client).await,
            Admission::Throttled { .. }
        ));
        // Without a known address only the id's own count applies.
        assert!(matches!(
            gate.admit(&[99; 32], "a4", None).await,
            Admission::Verify(_)
        ));
    }

    #[tokio::test]
    async fn slots_and_queue_are_bounded() {
        let gate = VerificationGate::new(&limits(1, 1));
        let first = gate.admit(&[1; 32], "a", None).await;
        assert!(matches!(first, Admission::Verify(_)));
        // The second waits for the slot; the third finds the line full.
        let waiting = gate.admit(&[2; 32], "b", None);
        tokio::pin!(waiting);
        assert!(
            tokio::time::timeout(Duration::from_millis(20), &mut waiting)
                .await
                .is_err()
        );
        assert!(matches!(
            gate.admit(&[3; 32], "c", None).await,
            Admission::Busy { .. }
        ));
        drop(first);
        assert!(matches!(waiting.await, Admission::Verify(_)));
        assert_eq!(gate.most_running(), 1);
    }
}
