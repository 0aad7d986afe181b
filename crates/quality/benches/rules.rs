//! Throughput of the streaming rule evaluator: an I-MR individuals stream of 50 million
//! points through [`quality::Monitor`] with all 8 Nelson rules, repeated 5 times; prints the
//! median points per second (single thread, so per core). Run: `cargo bench -p quality`.

use std::hint::black_box;
use std::time::Instant;

use quality::{Monitor, PointLimits, RuleSelection, RuleSet};

const POINTS: usize = 50_000_000;
const REPEATS: usize = 5;
const BUFFER: usize = 1 << 20;

/// Deterministic pseudo-normal values (xorshift64*, sum of 4 uniforms), with an occasional
/// shift so that rules actually fire.
fn series() -> Vec<f64> {
    let mut s: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        (s.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..BUFFER)
        .map(|i| {
            let u = next() + next() + next() + next() - 2.0;
            let shift = if (i / 5000) % 7 == 3 { 1.5 } else { 0.0 };
            10.0 + (u * 3f64.sqrt() + shift) * 0.5
        })
        .collect()
}

fn main() {
    let data = series();
    let limits = PointLimits {
        center: 10.0,
        sigma: 0.5,
        lcl: 8.5,
        ucl: 11.5,
    };
    let selection = RuleSelection::all(RuleSet::Nelson);
    let mut rates = Vec::with_capacity(REPEATS);
    for rep in 0..REPEATS {
        let mut monitor = Monitor::new(limits, selection);
        let mut fired = [0u64; 9];
        let start = Instant::now();
        let mut left = POINTS;
        while left > 0 {
            let take = left.min(BUFFER);
            for &x in &data[..take] {
                let f = monitor.push(black_box(x));
                // Branch-free tally of bit 0 (out of control) and rules 1..8.
                let b = f.bits();
                for (r, slot) in fired.iter_mut().enumerate() {
                    *slot += u64::from((b >> r) & 1);
                }
            }
            left -= take;
        }
        let secs = start.elapsed().as_secs_f64();
        let rate = POINTS as f64 / secs;
        println!(
            "run {}: {POINTS} points in {secs:.3} s = {:.1} M points/s (fired per rule 1..8: {:?})",
            rep + 1,
            rate / 1e6,
            &black_box(fired)[1..]
        );
        rates.push(rate);
    }
    rates.sort_by(f64::total_cmp);
    let median = rates[REPEATS / 2];
    println!(
        "median: {:.1} M points/s per core (I-MR stream, Nelson rules 1-8, streaming Monitor)",
        median / 1e6
    );
}
