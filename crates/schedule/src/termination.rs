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
