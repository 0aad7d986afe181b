//! The one clock of the use-cases: injected, so that tests can fix "now".
//!
//! Engines never read a clock; the application layer reads this one (the system clock in a
//! running service, a [`FixedClock`] in tests) wherever a record needs a time.

use std::fmt::Debug;

use model::Timestamp;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_clock_stands_still_and_the_system_clock_is_after_2020() {
        let fixed = FixedClock(Timestamp(42));
        assert_eq!(fixed.now(), Timestamp(42));
        assert_eq!(fixed.now(), Timestamp(42));
        assert!(SystemClock.now().0 > 1_577_836_800_000);
    }
}
