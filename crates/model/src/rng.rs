//! A small seeded random number generator shared by the engines and the simulator.
//!
//! Determinism across releases matters more than speed or statistical finesse: the same seed
//! must give the same plant history on every machine and every version of our dependencies.
//! So the generator (xoshiro256**, seeded through splitmix64, both public-domain algorithms by
//! Blackman and Vigna) and the distributions are written here rather than taken from a crate
//! whose output may change between versions.

/// One splitmix64 step: advances `state` and returns the next output. It expands a seed into
/// the generator's state, and derives independent seeds (per thread, per run) from one.
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// xoshiro256** with helpers for the distributions a plant simulation needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    /// A generator whose whole stream is fixed by `seed`.
    pub fn new(seed: u64) -> Rng {
        let mut x = seed;
        Rng {
            s: [
                splitmix64(&mut x),
                splitmix64(&mut x),
                splitmix64(&mut x),
                splitmix64(&mut x),
            ],
        }
    }

    /// An independent stream derived from this seed and a label (a unit id, a purpose), so
    /// adding draws for one purpose does not shift the draws of another.
    pub fn derive(seed: u64, label: &str) -> Rng {
        // FNV-1a of the label, mixed with the seed.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in label.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        Rng::new(seed ^ h.rotate_left(17))
    }

    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform integer in [0, n); `n` must be positive.
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "below(0) has no values");
        // Lemire's multiply-shift; the tiny bias is irrelevant for simulation.
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform integer in [0, n) from the high 32 bits of one draw (one 32×32-bit
    /// multiply-shift); `n` must be positive. The schedule engines draw with this one: its
    /// values differ from [`Rng::below`] for some draws, so neither may replace the other
    /// without changing what a seed gives.
    pub fn below_u32(&mut self, n: u32) -> u32 {
        debug_assert!(n > 0, "below_u32(0) has no values");
        (((self.next_u64() >> 32) * u64::from(n)) >> 32) as u32
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.uniform() < p
    }

    /// Standard normal by the Box–Muller transform. The logarithm, cosine and exponential of
    /// these distributions come from `libm`, not std, whose results may differ by platform.
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(std::f64::consts::TAU * u2)
    }

    /// Exponential with the given mean.
    pub fn exponential(&mut self, mean: f64) -> f64 {
        -mean * libm::log(1.0 - self.uniform())
    }

    /// Log-normal with median 1 and the given spread (sigma of the log): a positive factor
    /// for stretching planned durations.
    pub fn lognormal_factor(&mut self, sigma: f64) -> f64 {
        libm::exp(sigma * self.normal())
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_labels_separate_streams() {
        let a: Vec<u64> = (0..5)
            .map({
                let mut r = Rng::new(7);
                move |_| r.next_u64()
            })
            .collect();
        let b: Vec<u64> = (0..5)
            .map({
                let mut r = Rng::new(7);
                move |_| r.next_u64()
            })
            .collect();
        assert_eq!(a, b);
        assert_ne!(
            Rng::derive(7, "R-101").next_u64(),
            Rng::derive(7, "R-102").next_u64()
        );
    }

    /// The streams are part of the product (a seed's schedules, plant histories and risk
    /// figures must not change between releases): the first outputs of seed 7 are pinned.
    #[test]
    fn streams_of_a_seed_are_pinned() {
        let mut r = Rng::new(7);
        assert_eq!(
            [r.next_u64(), r.next_u64(), r.next_u64()],
            [
                0xb358_faf7_4ef9_765a,
                0x475c_3d96_4f48_2cd2,
                0xd6f1_d349_952c_7996
            ]
        );
        let mut r = Rng::new(7);
        let small: Vec<u32> = (0..6).map(|_| r.below_u32(1000)).collect();
        assert_eq!(small, [700, 278, 839, 981, 990, 872]);
        let mut r = Rng::new(7);
        let small: Vec<u64> = (0..6).map(|_| r.below(1000)).collect();
        assert_eq!(small, [700, 278, 839, 981, 990, 872]);
        // With a large bound the two draws part: 32 bits of randomness against 64.
        let mut r = Rng::new(7);
        let wide32: Vec<u32> = (0..4).map(|_| r.below_u32(4_000_000_000)).collect();
        assert_eq!(
            wide32,
            [2_802_305_928, 1_115_004_917, 3_358_509_846, 3_924_390_899]
        );
        let mut r = Rng::new(7);
        let wide64: Vec<u64> = (0..4).map(|_| r.below(4_000_000_000)).collect();
        assert_eq!(
            wide64,
            [2_802_305_928, 1_115_004_917, 3_358_509_847, 3_924_390_900]
        );
        let mut r = Rng::new(7);
        assert_eq!(
            [r.uniform(), r.uniform()],
            [0.7005764821796896, 0.2787512294737843]
        );
        let mut state = 42;
        assert_eq!(
            [
                splitmix64(&mut state),
                splitmix64(&mut state),
                splitmix64(&mut state)
            ],
            [
                0xbdd7_3226_2feb_6e95,
                0x28ef_e333_b266_f103,
                0x4752_6757_130f_9f52
            ]
        );
    }

    #[test]
    fn distributions_have_the_expected_moments() {
        let mut r = Rng::new(1);
        let n = 200_000;
        let normals: Vec<f64> = (0..n).map(|_| r.normal()).collect();
        let mean = normals.iter().sum::<f64>() / n as f64;
        let var = normals.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.02, "var {var}");
        let exp_mean = (0..n).map(|_| r.exponential(3.0)).sum::<f64>() / n as f64;
        assert!((exp_mean - 3.0).abs() < 0.05, "exp mean {exp_mean}");
        assert!((0..1000).all(|_| r.below(6) < 6));
    }
}
