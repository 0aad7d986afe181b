//! The published JSON Schemas in `schemas/` stay in step with the types.

use std::path::PathBuf;

fn check(file: &str, current: String) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../schemas")
        .join(file);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &current).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == current,
        "{} is out of date with the model types; rerun with UPDATE_SNAPSHOTS=1 after reviewing",
        path.display()
    );
}

#[test]
fn plant_schema_is_published() {
    check("plant.schema.json", model::schema::plant_schema());
}

#[test]
fn event_schema_is_published() {
    check("event.schema.json", model::schema::event_schema());
}
