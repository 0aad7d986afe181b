//! The crate's handle on the one seeded generator, [`model::rng::Rng`]; no generator of its own.
//!
//! Every module draws from `model::rng::Rng` directly (`below_u32`, `uniform`), except
//! `plant/improve.rs`, which is being reworked on another branch and still names
//! `crate::rng::Rng` with a `below(u32)` draw. This newtype forwards those two calls so that
//! file compiles unchanged; once it names `model::rng::Rng` and `below_u32`, delete this file.

/// Forwards to [`model::rng::Rng`]: the same stream for the same seed.
#[derive(Debug, Clone)]
pub(crate) struct Rng(model::rng::Rng);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(model::rng::Rng::new(seed))
    }

    /// [`model::rng::Rng::below_u32`].
    pub(crate) fn below(&mut self, n: u32) -> u32 {
        self.0.below_u32(n)
    }
}
