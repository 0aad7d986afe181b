//! Throughput of streaming I-MR monitoring: limits are estimated from a 1 000-point phase I
//! with [`quality::shewhart::imr`], then a stream of 50 million individuals goes through
//! [`quality::ChartMonitor`] (I chart with all 8 Nelson rules plus the MR chart), repeated
//! 5 times; the median points per second is printed (one thread, so per core). The bare
//! rule evaluator [`quality::Monitor`] is measured the same way for reference.
//!
//! Run: `cargo bench -p quality`.

use std::hint::black_box;
use std::time::Instant;

use quality::shewhart::{ShewhartOptions, imr};
use quality::{ChartMonitor, Monitor, RuleSelection, RuleSet};

const POINTS: usize = 50_000_000;
const REPEATS: usize = 5;
const BUFFER: usize = 1 << 20;

/// Deterministic pseudo-normal values (xorshift64*, sum of 4 uniforms) around 10 with σ 0.5,
/// with a periodic 1.5σ shift so that rules actually fire.
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

fn median(rates: &[Rate], key: impl Fn(&Rate) -> f64) -> f64 {
    let mut v: Vec<f64> = rates.iter().map(key).collect();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// CPU seconds (user + system) used by this process so far, from `/proc/self/stat` (Linux,
/// 100 Hz ticks); `None` elsewhere. On a shared machine wall-clock time overstates the cost
/// per core, so the per-core figure uses CPU time when available.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// Points per second by wall clock and by CPU time.
#[derive(Clone, Copy)]
struct Rate {
    wall: f64,
    cpu: f64,
}

/// Feeds POINTS values (cycling through `data`) to `push`. The only per-point bookkeeping
/// is one add of the returned bits, so the monitor dominates.
fn timed(data: &[f64], mut push: impl FnMut(f64) -> u16) -> Rate {
    let mut acc = 0u64;
    let cpu0 = cpu_seconds();
    let start = Instant::now();
    let mut left = POINTS;
    while left > 0 {
        let take = left.min(data.len());
        for &x in &data[..take] {
            acc = acc.wrapping_add(u64::from(push(black_box(x))));
        }
        left -= take;
    }
    let wall = start.elapsed().as_secs_f64();
    black_box(acc);
    let cpu = match (cpu0, cpu_seconds()) {
        (Some(a), Some(b)) if b > a => b - a,
        _ => wall,
    };
    Rate {
        wall: POINTS as f64 / wall,
        cpu: POINTS as f64 / cpu,
    }
}

/// Untimed sanity pass: how often each rule fires on one buffer.
fn tally(data: &[f64], mut push: impl FnMut(f64) -> u16) -> [u64; 10] {
    let mut t = [0u64; 10];
    for &x in data {
        let b = push(x);
        for (r, slot) in t.iter_mut().enumerate() {
            *slot += u64::from((b >> r) & 1);
        }
    }
    t
}

fn main() {
    let data = series();
    let selection = RuleSelection::all(RuleSet::Nelson);
    let phase1 = imr(&data[..1000], &ShewhartOptions::default()).expect("phase I");
    println!(
        "phase I (1000 points): center {:.4}, sigma {:.4}, UCL {:.4}, LCL {:.4}",
        phase1.center.at(0),
        phase1.sigma.unwrap_or(f64::NAN),
        phase1.ucl.at(0),
        phase1.lcl.at(0)
    );

    let bits = |m: &mut ChartMonitor, x: f64| match m.push_value(x) {
        Ok(o) => o.fired.bits() | (u16::from(o.secondary_out_of_control) << 9),
        Err(_) => 0,
    };
    let mut m = ChartMonitor::individuals(&phase1, selection).expect("I-MR monitor");
    let t = tally(&data, |x| bits(&mut m, x));
    println!(
        "per {} points: out of control {}, Nelson rules 1..8 {:?}, MR out {}",
        data.len(),
        t[0],
        &t[1..9],
        t[9]
    );

    let mut chart_rates = Vec::new();
    for rep in 0..REPEATS {
        let mut m = ChartMonitor::individuals(&phase1, selection).expect("I-MR monitor");
        let rate = timed(&data, |x| bits(&mut m, x));
        println!(
            "ChartMonitor run {}: {:.1} M points/s per CPU second ({:.1} M/s wall clock)",
            rep + 1,
            rate.cpu / 1e6,
            rate.wall / 1e6
        );
        chart_rates.push(rate);
    }

    let mut rule_rates = Vec::new();
    for rep in 0..REPEATS {
        let mut m = Monitor::new(phase1.point_limits(0), selection);
        let rate = timed(&data, |x| m.push(x).bits());
        println!(
            "Monitor run {}: {:.1} M points/s per CPU second ({:.1} M/s wall clock)",
            rep + 1,
            rate.cpu / 1e6,
            rate.wall / 1e6
        );
        rule_rates.push(rate);
    }

    println!(
        "median I-MR ChartMonitor: {:.1} M points/s per core (CPU time), {:.1} M/s wall clock ({POINTS} points x {REPEATS}, Nelson 1-8 + MR)",
        median(&chart_rates, |r| r.cpu) / 1e6,
        median(&chart_rates, |r| r.wall) / 1e6
    );
    println!(
        "median bare rule Monitor: {:.1} M points/s per core (CPU time), {:.1} M/s wall clock",
        median(&rule_rates, |r| r.cpu) / 1e6,
        median(&rule_rates, |r| r.wall) / 1e6
    );
}
