//! Writes a reference run (seed from the first argument, default 7) as JSON to stdout:
//! `{ "events": [...], "truth": {...}, "summary": {...} }`, for inspection with other tools.
//! `cargo run --release -p sim --example dump_run -- 7 > run.json`

fn main() {
    let seed = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(7);
    let mut options = sim::SimOptions {
        seed,
        ..Default::default()
    };
    if std::env::args().any(|a| a == "--drift") {
        options
            .drifts
            .push(sim::DriftSpec::reactor_temperature_creep());
    }
    let catalog = sim::reference_catalog();
    let out = sim::simulate(&catalog, &options, None, |_| {}).expect("valid options");
    println!("{}", serde_json::to_string(&out).expect("serialises"));
}
