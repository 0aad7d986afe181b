//! `mixplane validate` and `mixplane schema`.

use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// The plant document (JSON) to check.
    pub plant: PathBuf,
}

pub fn run(args: ValidateArgs) -> anyhow::Result<()> {
    let plant = super::read_plant(&args.plant)?;
    match model::Catalog::new(plant) {
        Ok(catalog) => {
            let p = catalog.plant();
            println!(
                "{}: valid — {} areas, {} work centers, {} units, {} pools, {} materials, {} routings, {} orders",
                args.plant.display(),
                p.areas.len(),
                p.work_centers.len(),
                p.units.len(),
                p.pools.len(),
                p.materials.len(),
                p.routings.len(),
                p.orders.len()
            );
            Ok(())
        }
        Err(errors) => anyhow::bail!("{}: {errors}", args.plant.display()),
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
