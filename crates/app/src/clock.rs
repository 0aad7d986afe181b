//! The one clock and the one id source of the use-cases: injected, so that tests can fix
//! "now" and the ids records get.
//!
//! Engines never read a clock; the application layer reads this one (the system clock in a
//! running service, a [`FixedClock`] in tests) wherever a record needs a time, and takes new
//! record ids (proposals) from an [`IdSource`] ([`ProcessIds`] in a service, [`SequentialIds`]
//! in tests).

use std::fmt::Debug;
use std::sync::atomic::{AtomicU64, Ordering};

use model::Timestamp;
use sha2::{Digest, Sha256};

/// Where "now" comes from.
pub trait Clock: Debug + Send + Sync {
    /// The current instant, in the model's time type (milliseconds since the epoch).
    fn now(&self) -> Timestamp;
}

/// The wall clock of the machine.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64),
        )
    }
}

/// A clock that always answers the same instant (tests, reproducible runs).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub Timestamp);

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        self.0
    }
}

/// Where new record ids come from.
pub trait IdSource: Debug + Send + Sync {
    /// A new id starting with `prefix` (`P-` for proposals); `context` (the time, who, what)
    /// may make it, but need not.
    fn next_id(&self, prefix: &str, now: Timestamp, context: &[&str]) -> String;
}

/// Ids unique within the process and across restarts: a digest of the time, a counter, the
/// process id and the context.
#[derive(Debug, Default)]
pub struct ProcessIds {
    counter: AtomicU64,
}

impl IdSource for ProcessIds {
    fn next_id(&self, prefix: &str, now: Timestamp, context: &[&str]) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let mut digest = Sha256::new()
            .chain_update(now.0.to_le_bytes())
            .chain_update(n.to_le_bytes())
            .chain_update(std::process::id().to_le_bytes());
        for part in context {
            digest.update(part.as_bytes());
        }
        format!("{prefix}{}", model::wire::hex(&digest.finalize()[..5]))
    }
}

/// Ids numbered in order (`P-000001`, `P-000002`, …): reproducible runs and tests.
#[derive(Debug, Default)]
pub struct SequentialIds {
    counter: AtomicU64,
}

impl IdSource for SequentialIds {
    fn next_id(&self, prefix: &str, _now: Timestamp, _context: &[&str]) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed) + 1;
        format!("{prefix}{n:06}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_ids_differ_and_sequential_ids_count() {
        let ids = ProcessIds::default();
        let a = ids.next_id("P-", Timestamp(1), &["ann", "move"]);
        let b = ids.next_id("P-", Timestamp(1), &["ann", "move"]);
        assert!(a.starts_with("P-") && a.len() == 12, "{a}");
        assert_ne!(a, b);
        let seq = SequentialIds::default();
        assert_eq!(seq.next_id("P-", Timestamp(1), &[]), "P-000001");
        assert_eq!(seq.next_id("P-", Timestamp(9), &["x"]), "P-000002");
    }

    #[test]
    fn a_fixed_clock_stands_still_and_the_system_clock_is_after_2020() {
        let fixed = FixedClock(Timestamp(42));
        assert_eq!(fixed.now(), Timestamp(42));
        assert_eq!(fixed.now(), Timestamp(42));
        assert!(SystemClock.now().0 > 1_577_836_800_000);
    }
}
