//! `mixplane validate` and `mixplane schema`.

use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// The plant document (JSON) to check.
    pub plant: PathBuf,
    /// Print one JSON object: `valid`, the counts, or every problem with its path and id.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: ValidateArgs) -> anyhow::Result<()> {
    let plant = super::read_plant(&args.plant)?;
    match model::Catalog::new(plant) {
        Ok(catalog) => {
            let p = catalog.plant();
            let counts = [
                ("areas", p.areas.len()),
                ("work_centers", p.work_centers.len()),
                ("units", p.units.len()),
                ("pools", p.pools.len()),
                ("materials", p.materials.len()),
                ("routings", p.routings.len()),
                ("orders", p.orders.len()),
            ];
            if args.json {
                let counts: serde_json::Map<String, serde_json::Value> = counts
                    .iter()
                    .map(|(name, n)| ((*name).to_owned(), (*n).into()))
                    .collect();
                let answer = serde_json::json!({
                    "file": args.plant.display().to_string(),
                    "valid": true,
                    "counts": counts,
                });
                println!("{answer}");
                return Ok(());
            }
            let listed: Vec<String> = counts
                .iter()
                .map(|(name, n)| format!("{n} {}", name.replace('_', " ")))
                .collect();
            println!("{}: valid — {}", args.plant.display(), listed.join(", "));
            Ok(())
        }
        Err(errors) => {
            if args.json {
                let problems: Vec<serde_json::Value> = errors
                    .0
                    .iter()
                    .map(
                        |e| serde_json::json!({ "path": e.path, "id": e.id, "message": e.message }),
                    )
                    .collect();
                let answer = serde_json::json!({
                    "file": args.plant.display().to_string(),
                    "valid": false,
                    "errors": problems,
                });
                println!("{answer}");
            }
            anyhow::bail!("{}: {errors}", args.plant.display())
        }
    }
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Document {
    Plant,
    Event,
}

#[derive(Debug, clap::Args)]
pub struct SchemaArgs {
    /// Which document's schema to print.
    pub document: Document,
}

pub fn schema(args: SchemaArgs) -> anyhow::Result<()> {
    let text = match args.document {
        Document::Plant => model::schema::plant_schema(),
        Document::Event => model::schema::event_schema(),
    };
    print!("{text}");
    Ok(())
}
