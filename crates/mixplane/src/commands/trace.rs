//! `mixplane trace`: genealogy from the command line — import documents (EPCIS 2.0 JSON-LD or
//! XML, B2MML, plant events), trace backward and forward, simulate a recall, reconcile.
//!
//! Every subcommand takes `--data-dir`/`--config` and `--json`; without `--json` it prints a
//! short human summary. The work is done by the use-cases in `app::trace`, the same the
//! HTTP API calls. Import creates the store when the directory has none; the other
//! subcommands refuse such a directory.

use std::path::PathBuf;

use anyhow::Context;
use model::Timestamp;
use trace::recall::RecallRequest;
use trace::{Direction, TraceRequest};

use crate::DataArgs;
use crate::config;

#[derive(Debug, clap::Args)]
pub struct TraceArgs {
    #[command(subcommand)]
    pub command: TraceCommand,
}

/// Flags every trace subcommand shares.
#[derive(Debug, clap::Args)]
pub struct Common {
    #[command(flatten)]
    pub data: DataArgs,
    /// Print JSON instead of a summary.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Subcommand)]
pub enum TraceCommand {
    /// Import genealogy documents (EPCIS 2.0 JSON-LD/XML, B2MML, plant events); each is stored whole or not at all.
    Import {
        /// The documents to import, in order.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Take EPCIS documents that break a rule of a conformant capture interface (no
        /// `@context`, a bare word outside the CBV, …) as long as they read; by default they
        /// are refused with the rule named, unless the config's `[trace] epcis = "lenient"`.
        #[arg(long)]
        lenient: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Where from: everything ID was made of.
    Backward {
        /// A lot, batch, serial or EPCIS identifier (GS1 URN or Digital Link).
        id: String,
        #[command(flatten)]
        filter: FilterArgs,
        #[command(flatten)]
        common: Common,
    },
    /// Where used: everything made from ID and where it went.
    Forward {
        /// A lot, batch, serial or EPCIS identifier (GS1 URN or Digital Link).
        id: String,
        #[command(flatten)]
        filter: FilterArgs,
        #[command(flatten)]
        common: Common,
    },
    /// Recall simulation from a suspect lot, batch or serial (or --unit with --from/--to).
    Recall {
        /// The suspect lot, batch or serial (or --unit with --from/--to instead).
        id: Option<String>,
        /// A unit whose output in the window is suspect.
        #[arg(long)]
        unit: Option<String>,
        /// Window start (RFC 3339) for --unit.
        #[arg(long)]
        from: Option<String>,
        /// Window end (RFC 3339) for --unit.
        #[arg(long)]
        to: Option<String>,
        /// Print the affected items as CSV.
        #[arg(long, conflicts_with = "epcis")]
        csv: bool,
        /// Print the recall as EPCIS 2.0 events (JSON-LD) with recalled / non_conformant dispositions.
        #[arg(long)]
        epcis: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Reconciliation: consumption without a producer, mass balance per batch, orphan serials.
    Reconcile {
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Debug, clap::Args)]
pub struct FilterArgs {
    /// Hops from the start.
    #[arg(long)]
    pub depth: Option<u32>,
    /// Only links at or after this instant (RFC 3339).
    #[arg(long)]
    pub from: Option<String>,
    /// Only links before this instant (RFC 3339).
    #[arg(long)]
    pub to: Option<String>,
}

fn time(flag: &str, text: Option<&String>) -> anyhow::Result<Option<Timestamp>> {
    text.map(|t| Timestamp::parse(t).with_context(|| format!("--{flag}")))
        .transpose()
}

/// Reads a file and makes its document ready to store (nothing is stored).
fn read_file(
    file: &std::path::Path,
    validation: app::trace::EpcisValidation,
) -> anyhow::Result<(&std::path::Path, app::trace::ReadDocument)> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let name = file.file_name().map_or_else(
        || file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let now = app::Clock::now(&app::SystemClock);
    let document = app::trace::read_document_held(&name, &text, now, validation)
        .with_context(|| format!("importing {}", file.display()))?;
    Ok((file, document))
}

fn common(command: &TraceCommand) -> &Common {
    match command {
        TraceCommand::Import { common, .. }
        | TraceCommand::Backward { common, .. }
        | TraceCommand::Forward { common, .. }
        | TraceCommand::Recall { common, .. }
        | TraceCommand::Reconcile { common } => common,
    }
}

/// Pretty JSON and a newline on stdout, written as it is made (a trace can be many
/// megabytes).
fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

pub fn run(args: TraceArgs) -> anyhow::Result<()> {
    let shared = common(&args.command);
    let settings = config::resolve(&shared.data, None)?;
    super::init_logging(&settings);
    let json = shared.json;
    let runtime = super::runtime()?;
    let open = match args.command {
        TraceCommand::Import { .. } => super::Open::OrCreate,
        _ => super::Open::Existing,
    };
    let app = super::open_app(&runtime, settings.store_at(), open)?;
    let store = &app.store;
    match args.command {
        TraceCommand::Import { files, lenient, .. } => {
            let validation = if lenient {
                app::trace::EpcisValidation::Lenient
            } else {
                settings.epcis_validation
            };
            import(&runtime, store, &files, validation, json)?
        }
        TraceCommand::Backward { id, filter, .. } => {
            show_trace(&runtime, &app, &id, Direction::Backward, &filter, json)?
        }
        TraceCommand::Forward { id, filter, .. } => {
            show_trace(&runtime, &app, &id, Direction::Forward, &filter, json)?
        }
        TraceCommand::Recall {
            id,
            unit,
            from,
            to,
            csv,
            epcis,
            ..
        } => {
            let request = RecallRequest {
                id,
                unit,
                from: time("from", from.as_ref())?,
                to: time("to", to.as_ref())?,
            };
            let scoped =
                runtime.block_on(app::trace::recall(&app, &super::cli_principal(), &request))?;
            let retracted = scoped.retracted;
            let report = scoped.report;
            if csv {
                print!("{}", report.to_csv());
            } else if epcis {
                let at = app::Clock::now(&app::SystemClock);
                let events = report.to_epcis(&at.0.to_string(), at);
                println!(
                    "{}",
                    trace::epcis::json::document(&events, &Default::default(), at)
                );
            } else if json {
                print_json(&report)?;
            } else {
                let t = &report.totals;
                println!(
                    "recall from {}: {} order(s), {} lot(s), {} serial(s), {} pallet(s), {} customer(s)",
                    report.seeds.join(", "),
                    t.orders,
                    t.lots,
                    t.serials,
                    t.pallets,
                    t.customers
                );
                for (status, n) in &t.by_status {
                    println!("  {status}: {n}");
                }
                for c in &report.customers {
                    let q: Vec<String> = c
                        .quantities
                        .iter()
                        .map(|(u, q)| format!("{q} {u}"))
                        .collect();
                    println!(
                        "  customer {}: {} item(s), {}",
                        c.label,
                        c.items,
                        q.join(", ")
                    );
                }
                print_retracted(&retracted);
            }
        }
        TraceCommand::Reconcile { .. } => {
            let report = runtime
                .block_on(app::trace::reconcile(&app, &super::cli_principal()))?
                .report;
            if json {
                print_json(&report)?;
            } else {
                println!(
                    "{} consumption(s) without a producer, {} batch(es) balanced ({} out of range), {} orphan serial(s)",
                    report.consumption_without_producer.len(),
                    report.mass_balance.len(),
                    report.out_of_balance,
                    report.orphan_serials.len()
                );
                for u in &report.consumption_without_producer {
                    println!(
                        "  unproduced {} {}: {} consumed by {}",
                        u.kind,
                        u.label,
                        u.consumed,
                        u.orders.join(", ")
                    );
                }
                for b in report.mass_balance.iter().filter(|b| {
                    !matches!(
                        b.status,
                        trace::reconcile::BalanceStatus::Ok
                            | trace::reconcile::BalanceStatus::Unchecked
                    )
                }) {
                    println!(
                        "  {} {:?}: yield {:?} expected {:?}",
                        b.label, b.status, b.actual_yield, b.expected
                    );
                }
                for o in &report.orphan_serials {
                    println!("  orphan serial {} ({})", o.label, o.seen_as.join(", "));
                }
            }
        }
    }
    Ok(())
}

/// Imports `files` in order, each whole or not at all, reading the next while the one before
/// is stored; the first that fails stops the import (the ones before it stay stored).
fn import(
    runtime: &tokio::runtime::Runtime,
    store: &store::Store,
    files: &[PathBuf],
    validation: app::trace::EpcisValidation,
    json: bool,
) -> anyhow::Result<()> {
    let actor = super::cli_actor();
    let mut summaries = Vec::new();
    // One thread reads and prepares the next document while this one stores the one
    // before: documents are stored in order, each whole or not at all, and the first
    // that fails stops the import (the ones before it stay stored).
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let (send, receive) = std::sync::mpsc::sync_channel(1);

        std::thread::Builder::new()
            .name("trace-read".into())
            .spawn_scoped(scope, move || {
                for file in files {
                    let read = read_file(file, validation);
                    let failed = read.is_err();
                    if send.send(read).is_err() || failed {
                        return;
                    }
                }
            })
            .context("starting a thread to read documents")?;
        for read in receive {
            let (file, document) = read?;
            if document.is_plant_events() && runtime.block_on(store.plant()).is_none() {
                let catalog = super::sim::load_catalog(None)?;
                runtime.block_on(store.put_plant(catalog.plant().clone(), &actor))?;
            }
            let summary = runtime
                .block_on(app::trace::store_document(store, document, &actor))
                .with_context(|| format!("importing {}", file.display()))?;
            if !json {
                println!(
                    "{}: {} ({} events): {} new, {} already stored{}",
                    summary.name,
                    summary.format,
                    summary.events,
                    summary.inserted,
                    summary.duplicates,
                    if summary.duplicate_document {
                        " (same document imported before)"
                    } else {
                        ""
                    }
                );
            }
            summaries.push(summary);
        }
        Ok(())
    })?;
    if json {
        print_json(&summaries)?;
    }
    Ok(())
}

fn show_trace(
    runtime: &tokio::runtime::Runtime,
    app: &app::App,
    id: &str,
    direction: Direction,
    filter: &FilterArgs,
    json: bool,
) -> anyhow::Result<()> {
    let request = TraceRequest {
        max_depth: filter.depth,
        from: time("from", filter.from.as_ref())?,
        to: time("to", filter.to.as_ref())?,
    };
    let scoped = runtime.block_on(app::trace::trace_item(
        app,
        &super::cli_principal(),
        id,
        direction,
        &request,
    ))?;
    let report = scoped.report;
    if json {
        print_json(&report)?;
    } else {
        fn show(tree: &trace::TraceTree, indent: usize) {
            let step = &tree.step;
            let mut line = format!(
                "{:indent$}{} {}",
                "",
                step.kind,
                step.label,
                indent = indent * 2
            );
            if let Some(via) = step.via {
                line.push_str(&format!("  [{}", via.as_str()));
                if let Some(q) = step.quantity {
                    line.push_str(&format!(
                        " {q}{}",
                        step.uom
                            .as_deref()
                            .map(|u| format!(" {u}"))
                            .unwrap_or_default()
                    ));
                }
                if let Some(t) = step.time {
                    line.push_str(&format!(" at {t}"));
                }
                line.push(']');
            }
            println!("{line}");
            for child in &tree.children {
                show(child, indent + 1);
            }
        }
        show(&report.tree, 0);
        println!("{} node(s) reached", report.nodes.len());
        print_retracted(&scoped.retracted);
    }
    Ok(())
}

/// The events error declarations retracted that named what a trace or recall shows: their
/// links are left out, and the reader should know.
fn print_retracted(retracted: &[trace::epcis::Retraction]) {
    for r in retracted {
        println!(
            "retracted: {}, its links left out; it named {}",
            r.describe(),
            r.ids.join(", ")
        );
    }
}
