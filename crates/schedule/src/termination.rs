//! How the caller tells the engine to stop.
//!
//! The engine never reads a clock. A caller that wants a time limit passes a closure that
//! reads `Instant` (closures implement [`Termination`]); a caller that wants cancellation
//! passes a [`StopFlag`] (an `AtomicBool`) or combines both in one closure.

use std::sync::atomic::{AtomicBool, Ordering};

/// Asked by the solver now and then; returning `true` ends the search with the best
/// solution found so far.
pub trait Termination {
    /// Whether the search should stop now.
    fn should_stop(&mut self) -> bool;

    /// Elapsed time in seconds as measured by the caller's clock, if this termination has
    /// one; reported in [`crate::jobshop::search::Progress`].
    fn elapsed_seconds(&mut self) -> Option<f64> {
        None
    }

    /// Seconds left before this termination stops by its clock, if it has a time limit; a
    /// solver that runs phases (an exact mode, then a search) shares the time out with it.
    fn remaining_seconds(&mut self) -> Option<f64> {
        None
    }
}

impl<F: FnMut() -> bool> Termination for F {
    fn should_stop(&mut self) -> bool {
        self()
    }
}

/// Never stops (use with an iteration budget).
#[derive(Debug, Clone, Copy, Default)]
pub struct Never;

impl Termination for Never {
    fn should_stop(&mut self) -> bool {
        false
    }
}

/// Cancellation through a shared flag, e.g. set by another thread or a signal handler.
#[derive(Debug, Clone, Copy)]
pub struct StopFlag<'a>(pub &'a AtomicBool);

impl Termination for StopFlag<'_> {
    fn should_stop(&mut self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// A time limit measured by a caller-supplied clock: `clock()` returns the seconds elapsed
/// since the caller's start (the binary passes `move || start.elapsed().as_secs_f64()`).
#[derive(Debug, Clone)]
pub struct TimeLimit<C: FnMut() -> f64> {
    /// Seconds since the start, read from the caller's clock.
    pub clock: C,
    /// Stop once `clock() >= limit_seconds`.
    pub limit_seconds: f64,
}

impl<C: FnMut() -> f64> Termination for TimeLimit<C> {
    fn should_stop(&mut self) -> bool {
        (self.clock)() >= self.limit_seconds
    }

    fn elapsed_seconds(&mut self) -> Option<f64> {
        Some((self.clock)())
    }

    fn remaining_seconds(&mut self) -> Option<f64> {
        Some((self.limit_seconds - (self.clock)()).max(0.0))
    }
}

/// Stops when either part stops (e.g. a [`TimeLimit`] or a [`StopFlag`]).
#[derive(Debug, Clone)]
pub struct Either<A, B>(pub A, pub B);

impl<A: Termination, B: Termination> Termination for Either<A, B> {
    fn should_stop(&mut self) -> bool {
        self.0.should_stop() || self.1.should_stop()
    }

    fn elapsed_seconds(&mut self) -> Option<f64> {
        self.0
            .elapsed_seconds()
            .or_else(|| self.1.elapsed_seconds())
    }

    fn remaining_seconds(&mut self) -> Option<f64> {
        match (self.0.remaining_seconds(), self.1.remaining_seconds()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combinators() {
        let flag = AtomicBool::new(false);
        let mut t = 0.0;
        let mut term = Either(
            TimeLimit {
                clock: move || {
                    t += 1.0;
                    t
                },
                limit_seconds: 3.0,
            },
            StopFlag(&flag),
        );
        assert!(!term.should_stop());
        assert_eq!(term.elapsed_seconds(), Some(2.0));
        assert!(term.should_stop());
        assert_eq!(term.remaining_seconds(), Some(0.0));
        assert_eq!(Never.remaining_seconds(), None);
        flag.store(true, Ordering::Relaxed);
        let mut f = StopFlag(&flag);
        assert!(f.should_stop());
        assert!(!Never.should_stop());
        let mut c = || true;
        assert!(c.should_stop());
    }
}
