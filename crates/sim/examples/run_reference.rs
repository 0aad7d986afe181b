//! Runs the reference plant for 14 days (seed from the first argument, default 7), prints
//! the summary, the ground truth's headline figures and the wall time, and checks that every
//! event folds into `PlantState`.
//! `cargo run --release -p sim --example run_reference -- 7 [--days 14] [--drift]`

use std::time::Instant;

fn main() {
    let seed = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(7);
    let args: Vec<String> = std::env::args().collect();
    let drift = args.iter().any(|a| a == "--drift");
    let days = args
        .iter()
        .position(|a| a == "--days")
        .and_then(|i| args.get(i + 1))
        .and_then(|d| d.parse().ok())
        .unwrap_or(14.0);
    let catalog = sim::reference_catalog();
    let mut options = sim::SimOptions {
        seed,
        days,
        ..Default::default()
    };
    if drift {
        options
            .drifts
            .push(sim::DriftSpec::reactor_temperature_creep());
    }
    let clock = Instant::now();
    let mut reports = 0;
    let out = sim::simulate(&catalog, &options, None, |_| reports += 1).expect("valid options");
    let elapsed = clock.elapsed();
    let mut state = model::PlantState::initial(&catalog, options.start);
    let mut errors = 0;
    for event in &out.events {
        if let Err(e) = state.apply(&catalog, event) {
            if errors < 5 {
                eprintln!("{e}");
            }
            errors += 1;
        }
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&out.summary).expect("serialises")
    );
    println!(
        "bottleneck: {:?}\nbreakdowns: {}\nmax-wait violations: {}\narrived orders: {}",
        out.truth.bottleneck,
        out.truth.breakdowns.len(),
        out.truth.max_wait_violations.len(),
        out.truth.arrived_orders.len()
    );
    for u in out.truth.utilisation.iter().take(8) {
        println!("  {:<12} {:<5} {:.3}", u.resource, u.kind, u.utilisation);
    }
    println!(
        "seed {seed}: {} events in {:.1} ms ({} progress reports), fold errors: {errors}",
        out.events.len(),
        elapsed.as_secs_f64() * 1000.0,
        reports
    );
}
