//! The `mixplane` binary: a thin command-line shell over the library crates.
//!
//! Each subcommand parses its flags, resolves settings, opens the data directory (one path:
//! `commands::open_store`, which refuses a directory without a store for a command that reads
//! one), calls a use-case of `app` (or `sim` and an engine for the commands that need no
//! data), and prints; `server` is used only to serve. Errors are reported here, once, with
//! their context chain, and map to exit code 1 (2 for usage errors, which clap handles, and
//! for an audit trail that could not be read).
//!
//! Architecture invariant: the binary holds no domain logic. It must not decide anything an
//! engine, the store or a use-case should decide; it parses, calls and prints.

mod choice;
mod commands;
mod config;
mod connector_config;
mod logging;
mod progress;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc instead of the system's malloc: the folded state and the API's answers are many
/// small allocations, which glibc's malloc served slowly (`Cargo.toml` says how much).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "mixplane",
    version,
    about = "Control plane for mixed-mode manufacturing"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Flags shared by every command that touches stored data.
#[derive(Debug, clap::Args)]
pub struct DataArgs {
    /// Directory holding the embedded database [default: the config file's data_dir, else ./mixplane-data]
    #[arg(long, env = "MIXPLANE_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// The store's database, instead of the data directory's SQLite file: postgres://USER@HOST/DB (with ?schema=NAME for a store in a schema of its own) [default: the config file's database, else DATA_DIR/mixplane.db]
    #[arg(long, env = "MIXPLANE_DATABASE")]
    pub database: Option<String>,
    /// TOML config file (data_dir, database, [server] bind, [server.limits], [server.tls], [log] level and format, [agents], [[connectors]])
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Log level [default: the config file's [log] level, else info]
    #[arg(long, env = "MIXPLANE_LOG", value_enum, ignore_case = true)]
    pub log_level: Option<config::LogLevel>,
    /// Log line format [default: the config file's [log] format, else text]
    #[arg(long, env = "MIXPLANE_LOG_FORMAT", value_enum)]
    pub log_format: Option<config::LogFormat>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// (Re)create demo data from the reference plant, simulate it, print a summary and serve the API.
    Demo(commands::demo::DemoArgs),
    /// Serve the API over the data directory.
    Serve(commands::serve::ServeArgs),
    /// Simulate a plant and write its events as JSON Lines (stdout unless --out).
    Sim(commands::sim::SimArgs),
    /// Import events from a JSON Lines file into the store.
    Import(commands::import::ImportArgs),
    /// Validate a plant document and report every problem with its path and id.
    Validate(commands::validate::ValidateArgs),
    /// Print the JSON Schema of a document mixplane reads.
    Schema(commands::validate::SchemaArgs),
    /// Principals and API tokens: `token create --name N --role R --scope S` (printed once),
    /// `token issue --name N`, `token update --name N --role R`, `token revoke --name N`.
    Token(commands::token::TokenArgs),
    /// The audit trail: `audit verify` (names the first bad record), `audit export` (JSON Lines).
    Audit(commands::audit::AuditArgs),
    /// Copy a whole store into an empty one on another database (SQLite to PostgreSQL, or back) and verify its audit chain on arrival.
    MigrateStore(commands::migrate_store::MigrateStoreArgs),
    /// Statistical process control: `spc analyze FILE.csv --chart KIND` or `--request FILE.json`.
    Spc(commands::spc::SpcArgs),
    /// Finite scheduling: solve, check and generate problems (native, JSPLIB, .fjs).
    Schedule(commands::schedule::ScheduleArgs),
    /// Benchmarks and trials: the solvers (`bench jssp DIR` or `bench fjsp DIR`: gap table;
    /// `bench plant DIR`: plans, bounds, anytime curves) and the service (`bench load`:
    /// requests/s and latency over HTTP; `bench crash`: kill -9 during ingest, nothing lost).
    Bench(commands::bench::BenchArgs),
    /// Genealogy: `trace import FILE...`, `trace backward ID`, `trace forward ID`, `trace recall ID [--csv]`, `trace reconcile`.
    Trace(commands::trace::TraceArgs),
    /// ISA-95 B2MML: `b2mml import FILE` releases a schedule's orders, `b2mml export-schedule`
    /// writes the plan in force as an OperationsSchedule.
    B2mml(commands::isa95::B2mmlArgs),
    /// ISA-88 BatchML: `batchml import FILE` adds a master recipe to the plant as a process routing.
    Batchml(commands::isa95::BatchmlArgs),
    /// Governed proposals: `proposals list|show|approve|reject|apply|rollback`, as a token's
    /// principal, locally or with `--server URL`.
    Proposals(commands::proposals::ProposalsArgs),
    /// Rollout KPIs over a window: recommendations per action kind and area, manual schedule
    /// changes, agent calls by tool, drift detection (locally or with `--server URL`).
    Kpis(commands::kpis::KpiArgs),
    /// Quality holds: `holds list|release`, as a token's principal, locally or with `--server URL`.
    Holds(commands::holds::HoldsArgs),
    /// Nonconformances: `nc list|show|transition`, as a token's principal, locally or with
    /// `--server URL`.
    Nc(commands::nc::NcArgs),
    /// The MCP server for an AI agent on stdin/stdout: `mcp --token T` (the agent's principal;
    /// its role and scope apply, every tool call is audited). Over HTTP it is `POST /mcp`.
    Mcp(commands::mcp::McpArgs),
    /// Connectors: `connect check` prints each configured connector's health, lag and dead
    /// letters (exit 1 when one is unhealthy).
    Connect(commands::connect::ConnectArgs),
    /// Run the MES emulator: the simulated plant served as an Opcenter-style OData v4 MES
    /// (OAuth, entity sets, commands, faults on demand) on its own port, for connectors.
    MesEmulator(Box<commands::mes_emulator::MesEmulatorArgs>),
    /// Print a shell completion script: `mixplane completions bash > /etc/bash_completion.d/mixplane`.
    Completions(CompletionsArgs),
}

#[derive(Debug, clap::Args)]
struct CompletionsArgs {
    /// The shell to write the completion script for.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

fn completions(args: CompletionsArgs) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut command = <Cli as clap::CommandFactory>::command();
    // Into a buffer first: clap_complete panics when its writer fails (a closed pipe).
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "mixplane", &mut script);
    match std::io::stdout().write_all(&script) {
        // A reader that stopped early (`| head`) is not an error of ours.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(|e| anyhow::anyhow!("writing the completion script: {e}")),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(args) => commands::demo::run(args),
        Command::Serve(args) => commands::serve::run(args),
        Command::Connect(args) => commands::connect::run(args),
        Command::Sim(args) => commands::sim::run(args),
        Command::Import(args) => commands::import::run(args),
        Command::Validate(args) => commands::validate::run(args),
        Command::Schema(args) => commands::validate::schema(args),
        Command::Token(args) => commands::token::run(args),
        Command::Audit(args) => commands::audit::run(args),
        Command::MigrateStore(args) => commands::migrate_store::run(args),
        Command::Spc(args) => commands::spc::run(args),
        Command::Schedule(args) => commands::schedule::run(args),
        Command::Bench(args) => commands::bench::run(args),
        Command::Trace(args) => commands::trace::run(args),
        Command::B2mml(args) => commands::isa95::run_b2mml(args),
        Command::Batchml(args) => commands::isa95::run_batchml(args),
        Command::Proposals(args) => commands::proposals::run(args),
        Command::Holds(args) => commands::holds::run(args),
        Command::Kpis(args) => commands::kpis::run(args),
        Command::Nc(args) => commands::nc::run(args),
        Command::Mcp(args) => commands::mcp::run(args),
        Command::MesEmulator(args) => commands::mes_emulator::run(*args),
        Command::Completions(args) => completions(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            match error.downcast_ref::<commands::audit::VerifyFailure>() {
                Some(failure) => ExitCode::from(failure.exit_code()),
                None => ExitCode::FAILURE,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every argument of every command, however deep, says what it is for in `--help`.
    #[test]
    fn every_argument_has_help_text() {
        fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in command.get_arguments() {
                let generated = ["help", "version"].contains(&arg.get_id().as_str());
                if !generated && arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path} {}", arg.get_id()));
                }
            }
            for sub in command.get_subcommands() {
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let command = super::Cli::command();
        command.clone().debug_assert();
        let mut missing = Vec::new();
        walk(&command, "mixplane", &mut missing);
        assert!(
            missing.is_empty(),
            "arguments without help text:\n{}",
            missing.join("\n")
        );
    }
}
