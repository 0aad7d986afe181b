//! `mixplane b2mml` and `mixplane batchml`: ISA-95 documents from the command line.
//!
//! - `b2mml import FILE` releases a B2MML `ProductionSchedule`/`OperationsSchedule`'s
//!   requests as orders (whole document or nothing; `--per-request` keeps the good ones);
//!   importing it again stores nothing new.
//! - `b2mml export-schedule` writes the plan in force as a B2MML V0700 `OperationsSchedule`.
//! - `batchml import FILE` reads a BatchML master recipe as a process routing: added to the
//!   stored plant (only while the event log is empty), or with `--plant IN --out OUT` to a
//!   plant document on disk (nothing stored), or only printed with `--dry-run`.
//!
//! The work is the use-cases' in `app::isa95`, run as the CLI's local principal.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context;

use crate::DataArgs;
use crate::config;

#[derive(Debug, clap::Args)]
pub struct B2mmlArgs {
    #[command(subcommand)]
    pub command: B2mmlCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum B2mmlCommand {
    /// Release the orders of a B2MML ProductionSchedule or OperationsSchedule (V0401, V0600, V0700).
    Import {
        /// The schedule document (XML).
        file: PathBuf,
        /// Release the requests that map and list the others, instead of refusing the whole
        /// document on the first fault.
        #[arg(long)]
        per_request: bool,
        /// Due date of a request that gives none: this many hours after its release
        /// (without it such a request is refused).
        #[arg(long, value_name = "HOURS")]
        due_after_hours: Option<f64>,
        #[command(flatten)]
        data: DataArgs,
        /// Print JSON instead of a summary.
        #[arg(long)]
        json: bool,
    },
    /// Write the plan in force as a B2MML V0700 OperationsSchedule (to stdout, or --out).
    ExportSchedule {
        /// Where to write the document [default: stdout].
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Debug, clap::Args)]
pub struct BatchmlArgs {
    #[command(subcommand)]
    pub command: BatchmlCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum BatchmlCommand {
    /// Read a BatchML master recipe as a process routing and add it to the plant.
    Import {
        /// The master recipe document (XML).
        file: PathBuf,
        /// The routing's id [default: the recipe's ID].
        #[arg(long)]
        routing: Option<String>,
        /// The product the recipe makes [default: the recipe header's ProductID].
        #[arg(long)]
        product: Option<String>,
        /// A unit procedure (its ID or description) and the work center or unit that runs
        /// it: `--equipment "Make Suspension=WC-RX"`; repeat for each unit procedure the
        /// recipe's equipment requirements do not name.
        #[arg(long, value_name = "UNIT_PROCEDURE=ID")]
        equipment: Vec<String>,
        /// Minutes of an operation whose phases give no time.
        #[arg(long, value_name = "MINUTES")]
        default_step_minutes: Option<f64>,
        /// A plant document to add the routing to instead of the stored plant (needs --out).
        #[arg(long, requires = "out")]
        plant: Option<PathBuf>,
        /// Where to write the plant document with the routing (with --plant).
        #[arg(long, requires = "plant")]
        out: Option<PathBuf>,
        /// Print the routing only; store and write nothing.
        #[arg(long, conflicts_with = "out")]
        dry_run: bool,
        #[command(flatten)]
        data: DataArgs,
        /// Print JSON (the routing and where each step came from) instead of a summary.
        #[arg(long)]
        json: bool,
    },
}

fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

fn read(file: &PathBuf) -> anyhow::Result<String> {
    std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))
}

pub fn run_b2mml(args: B2mmlArgs) -> anyhow::Result<()> {
    match args.command {
        B2mmlCommand::Import {
            file,
            per_request,
            due_after_hours,
            data,
            json,
        } => {
            let settings = config::resolve(&data, None)?;
            super::init_logging(&settings);
            let text = read(&file)?;
            let runtime = super::runtime()?;
            let app = super::open_app(&runtime, settings.store_at(), super::Open::Existing)?;
            let options = isa95::OrderOptions {
                strictness: if per_request {
                    isa95::Strictness::PerRequest
                } else {
                    isa95::Strictness::WholeDocument
                },
                due_after_hours,
            };
            let imported = runtime
                .block_on(app::isa95::import_schedule(
                    &app,
                    &super::cli_principal(),
                    &text,
                    &options,
                ))
                .with_context(|| format!("importing {}", file.display()))?;
            if json {
                return print_json(&imported);
            }
            println!(
                "{}: {} ({:?}): {} order(s), {} released now, {} released before",
                file.display(),
                imported.noun,
                imported.version,
                imported.orders.len(),
                imported.inserted,
                imported.duplicates
            );
            for refused in &imported.refused {
                println!("  refused {refused}");
            }
            Ok(())
        }
        B2mmlCommand::ExportSchedule { out, data } => {
            let settings = config::resolve(&data, None)?;
            super::init_logging(&settings);
            let runtime = super::runtime()?;
            let app = super::open_app(&runtime, settings.store_at(), super::Open::Existing)?;
            let text =
                runtime.block_on(app::isa95::export_schedule(&app, &super::cli_principal()))?;
            match out {
                Some(path) => std::fs::write(&path, text)
                    .with_context(|| format!("writing {}", path.display())),
                None => {
                    print!("{text}");
                    Ok(())
                }
            }
        }
    }
}

/// `--equipment` pairs as the recipe options take them.
fn equipment_map(pairs: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    pairs
        .iter()
        .map(|pair| {
            let (unit_procedure, id) = pair.rsplit_once('=').with_context(|| {
                format!("--equipment `{pair}`: expected UNIT_PROCEDURE=WORK_CENTER_OR_UNIT")
            })?;
            Ok((unit_procedure.trim().to_owned(), id.trim().to_owned()))
        })
        .collect()
}

pub fn run_batchml(args: BatchmlArgs) -> anyhow::Result<()> {
    let BatchmlCommand::Import {
        file,
        routing,
        product,
        equipment,
        default_step_minutes,
        plant,
        out,
        dry_run,
        data,
        json,
    } = args.command;
    let settings = config::resolve(&data, None)?;
    super::init_logging(&settings);
    let text = read(&file)?;
    let options = isa95::RecipeOptions {
        routing: routing.map(model::RoutingId::from),
        product: product.map(model::MaterialId::from),
        equipment: equipment_map(&equipment)?,
        default_step_minutes,
    };
    let import = match (plant, out) {
        (Some(plant), Some(out)) => {
            // A plant document on disk: read, add the routing, write; nothing is stored.
            let catalog = super::sim::load_catalog(Some(&plant))?;
            let import = isa95::routing_from_master_recipe(&text, &catalog, &options)
                .with_context(|| format!("reading {}", file.display()))?;
            if !dry_run {
                let updated = app::isa95::plant_with_routing(
                    catalog.plant().clone(),
                    import.routing.clone(),
                )?;
                let body = serde_json::to_string_pretty(updated.plant())?;
                std::fs::write(&out, body + "\n")
                    .with_context(|| format!("writing {}", out.display()))?;
            }
            import
        }
        _ => {
            let runtime = super::runtime()?;
            let app = super::open_app(&runtime, settings.store_at(), super::Open::Existing)?;
            let work = async {
                if dry_run {
                    app::isa95::recipe_routing(&app, &text, &options).await
                } else {
                    app::isa95::import_recipe(&app, &super::cli_principal(), &text, &options).await
                }
            };
            runtime
                .block_on(work)
                .with_context(|| format!("importing {}", file.display()))?
        }
    };
    if json {
        return print_json(&import);
    }
    println!(
        "{}: routing `{}` makes `{}` in {} step(s){}",
        file.display(),
        import.routing.id,
        import.routing.product,
        import.routing.steps.len(),
        if dry_run {
            " (dry run, nothing stored)"
        } else {
            ""
        }
    );
    for (step, origin) in import.routing.steps.iter().zip(&import.origins) {
        let units: Vec<&str> = step.alternatives.iter().map(|a| a.unit.as_str()).collect();
        let minutes = step
            .alternatives
            .first()
            .map(|a| a.duration.minutes_for(1.0))
            .unwrap_or_default();
        println!(
            "  {} ({}): {minutes} min on {}{}",
            step.name,
            origin.unit_procedure,
            units.join(", "),
            if origin.timed_by_phases {
                ""
            } else {
                " (default duration)"
            }
        );
    }
    Ok(())
}
