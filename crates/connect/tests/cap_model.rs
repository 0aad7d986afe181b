//! The CAP conformance peer (`conformance/cap`) describes the `opcenter` profile's sets and
//! serves its rows: its CDS model and sample data are generated from the profile
//! (`common::sample`), and this test fails when the committed files differ.
//! `MIXPLANE_BLESS=1 cargo test -p connect --test cap_model` rewrites them.

mod common;

use std::path::PathBuf;

use common::sample;

#[test]
fn the_cap_project_is_the_profiles_sets_and_rows() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../conformance/cap");
    let mut files = vec![
        (root.join("db/schema.cds"), sample::schema_cds()),
        (root.join("srv/services.cds"), sample::services_cds()),
    ];
    for (set, rows) in sample::rows() {
        files.push((
            root.join("db/data").join(sample::csv_name(set)),
            sample::csv(set, &rows),
        ));
    }
    let bless = std::env::var("MIXPLANE_BLESS").is_ok_and(|v| v == "1");
    if bless {
        let data = root.join("db/data");
        for old in std::fs::read_dir(&data).unwrap() {
            std::fs::remove_file(old.unwrap().path()).unwrap();
        }
    }
    for (path, text) in files {
        if bless {
            std::fs::write(&path, &text).unwrap();
        } else {
            let committed = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(
                committed == text,
                "{} is not what the profile gives; rerun with MIXPLANE_BLESS=1",
                path.display()
            );
        }
    }
}
