//! `mixplane bench`: the solver benchmarks (`jssp`, `fjsp`, `plant`, gap tables over instance
//! directories) and the service's trials over a real `mixplane serve` on loopback (`load`:
//! requests per second and latency; `crash`: `kill -9` during ingest, nothing acknowledged
//! lost).

use super::schedule::{SolverBench, SolverBenchArgs};

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub command: BenchCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum BenchCommand {
    /// JSPLIB job-shop instances of DIR: the gap table against DIR/bounds.csv.
    Jssp(SolverBenchArgs),
    /// Brandimarte flexible job-shop (.fjs) instances of DIR: the gap table against
    /// DIR/bounds.csv.
    Fjsp(SolverBenchArgs),
    /// Native plant problems of DIR plus generated families: plans, bounds, anytime curves.
    Plant(SolverBenchArgs),
    /// Load test of `mixplane serve` on loopback: requests/s and latency percentiles of
    /// authenticated reads and of event batches at 1, 8 and 64 concurrent clients.
    Load(super::bench_load::LoadArgs),
    /// `kill -9` trials: kill a `mixplane serve` during HTTP or connector ingest, restart it
    /// and check that nothing acknowledged was lost, nothing half-written or stored twice,
    /// and that the audit trail verifies.
    Crash(super::bench_crash::CrashArgs),
}

pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    match args.command {
        BenchCommand::Jssp(args) => super::schedule::bench(SolverBench::Jssp, args),
        BenchCommand::Fjsp(args) => super::schedule::bench(SolverBench::Fjsp, args),
        BenchCommand::Plant(args) => super::bench_plant::run(args),
        BenchCommand::Load(args) => super::bench_load::run(args),
        BenchCommand::Crash(args) => super::bench_crash::run(args),
    }
}
