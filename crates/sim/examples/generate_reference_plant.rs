//! Writes `crates/sim/data/reference-plant.json` from the deterministic generator in
//! `tools/reference_plant_gen.rs`. Run with
//! `cargo run -p sim --example generate_reference_plant` after changing the generator.

#[path = "../tools/reference_plant_gen.rs"]
mod reference_plant_gen;

fn main() {
    let text = reference_plant_gen::generate_json();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/reference-plant.json");
    std::fs::write(path, &text).expect("write the reference plant");
    let plant: model::Plant = serde_json::from_str(&text).expect("parse back");
    match model::Catalog::new(plant) {
        Ok(catalog) => println!(
            "wrote {path}: {} units, {} orders",
            catalog.plant().units.len(),
            catalog.plant().orders.len()
        ),
        Err(errors) => {
            eprintln!("{errors}");
            std::process::exit(1);
        }
    }
}
