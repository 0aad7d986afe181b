//! `mixplane b2mml` and `mixplane batchml` as a user runs them: the built binary in a child
//! process, over a data directory holding the reference plant.

mod common;
use common::OnTestBackend;

use std::path::Path;
use std::process::{Command, Output};

use common::TempDir;

fn mixplane(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mixplane"))
        .args(args)
        .on_test_backend()
        .output()
        .expect("the binary runs")
}

fn ok(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("a JSON answer")
}

const SCHEDULE: &str = r#"<ProcessOperationsSchedule xmlns="http://www.mesa.org/xml/B2MML" releaseID="7.0">
  <ApplicationArea><CreationDateTime>2026-03-01T12:00:00Z</CreationDateTime></ApplicationArea>
  <DataArea>
    <Process/>
    <OperationsSchedule>
      <ID>WEEK-10</ID>
      <OperationsRequest>
        <ID>ERP-9001</ID>
        <StartTime>2026-03-02T06:00:00Z</StartTime>
        <EndTime>2026-03-04T18:00:00Z</EndTime>
        <Priority>2</Priority>
        <OperationsDefinitionID>RCP-AC410</OperationsDefinitionID>
        <SegmentRequirement>
          <ID>ERP-9001/0</ID>
          <ProcessSegmentID>React</ProcessSegmentID>
          <OperationsDefinitionID>RCP-AC410</OperationsDefinitionID>
          <OperationsSegmentID>RCP-AC410/0</OperationsSegmentID>
          <MaterialRequirement>
            <ID>out</ID>
            <MaterialDefinitionID>RES-AC410</MaterialDefinitionID>
            <MaterialUse>Produced</MaterialUse>
            <Quantity><QuantityString>2000</QuantityString><UnitOfMeasure>kg</UnitOfMeasure></Quantity>
          </MaterialRequirement>
        </SegmentRequirement>
      </OperationsRequest>
    </OperationsSchedule>
  </DataArea>
</ProcessOperationsSchedule>"#;

/// A data directory with the reference plant and no events.
fn reference_store(dir: &TempDir) -> String {
    let data = dir.0.join("data");
    let empty = dir.0.join("none.jsonl");
    std::fs::write(&empty, "").unwrap();
    let out = mixplane(&[
        "import",
        empty.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    data.to_str().unwrap().to_owned()
}

#[test]
fn b2mml_import_releases_the_orders_once_and_refuses_a_bad_document_naming_the_request() {
    let dir = TempDir::new("b2mml-import");
    let data = reference_store(&dir);
    let file = dir.0.join("week-10.xml");
    std::fs::write(&file, SCHEDULE).unwrap();
    let file = file.to_str().unwrap();

    let first = ok(&mixplane(&[
        "b2mml",
        "import",
        file,
        "--data-dir",
        &data,
        "--json",
    ]));
    assert_eq!(first["orders"], serde_json::json!(["ERP-9001"]));
    assert_eq!(
        (first["inserted"].as_u64(), first["duplicates"].as_u64()),
        (Some(1), Some(0))
    );
    let again = ok(&mixplane(&[
        "b2mml",
        "import",
        file,
        "--data-dir",
        &data,
        "--json",
    ]));
    assert_eq!(
        (again["inserted"].as_u64(), again["duplicates"].as_u64()),
        (Some(0), Some(1))
    );

    let bad = dir.0.join("bad.xml");
    std::fs::write(
        &bad,
        SCHEDULE
            .replace("ERP-9001", "ERP-9002")
            .replace("2000", "lots"),
    )
    .unwrap();
    let out = mixplane(&[
        "b2mml",
        "import",
        bad.to_str().unwrap(),
        "--data-dir",
        &data,
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("ERP-9002") && stderr.contains("QuantityString"),
        "{stderr}"
    );

    // No plan is in force yet: the export says so instead of writing an empty schedule.
    let out = mixplane(&["b2mml", "export-schedule", "--data-dir", &data]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no plan is in force"));
}

#[test]
fn batchml_import_writes_a_plant_document_that_validates() {
    let dir = TempDir::new("batchml-import");
    let recipe = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/samples/batchml/batchml_v02_cough_syrup_master_recipe.xml");
    let plant = dir.0.join("plant.json");
    std::fs::write(
        &plant,
        serde_json::to_string(&sim::reference_plant()).unwrap(),
    )
    .unwrap();
    let out_plant = dir.0.join("plant-with-recipe.json");
    let answer = ok(&mixplane(&[
        "batchml",
        "import",
        recipe.to_str().unwrap(),
        "--routing",
        "RCP-COUGH",
        "--product",
        "RES-EA220",
        "--equipment",
        "Make Suspension=WC-RX",
        "--equipment",
        "Package Suspension=FS-1",
        "--default-step-minutes",
        "15",
        "--plant",
        plant.to_str().unwrap(),
        "--out",
        out_plant.to_str().unwrap(),
        "--json",
    ]));
    assert_eq!(answer["routing"]["steps"].as_array().unwrap().len(), 11);
    let written: model::Plant =
        serde_json::from_str(&std::fs::read_to_string(&out_plant).unwrap()).unwrap();
    let routing = written
        .routings
        .iter()
        .find(|r| r.id.as_str() == "RCP-COUGH")
        .expect("the routing is in the plant written");
    assert_eq!(routing.steps[2].name, "Mix Slurry 1");
    let out = mixplane(&["validate", out_plant.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // Without equipment for a unit procedure, the recipe is refused naming it.
    let out = mixplane(&[
        "batchml",
        "import",
        recipe.to_str().unwrap(),
        "--product",
        "RES-EA220",
        "--plant",
        plant.to_str().unwrap(),
        "--out",
        out_plant.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Make Suspension"));
}

#[test]
fn batchml_import_adds_the_routing_to_the_stored_plant_only_while_the_log_is_empty() {
    let dir = TempDir::new("batchml-store");
    let data = reference_store(&dir);
    let recipe = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/samples/batchml/batchml_v02_cough_syrup_master_recipe.xml");
    let import = |routing: &str| {
        mixplane(&[
            "batchml",
            "import",
            recipe.to_str().unwrap(),
            "--routing",
            routing,
            "--product",
            "RES-EA220",
            "--equipment",
            "Make Suspension=WC-RX",
            "--equipment",
            "Package Suspension=FS-1",
            "--default-step-minutes",
            "15",
            "--data-dir",
            &data,
        ])
    };
    let out = import("RCP-COUGH");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("11 step(s)"));

    // Once events are stored, the plant stays as it is and the refusal says why.
    let file = dir.0.join("week-10.xml");
    std::fs::write(&file, SCHEDULE).unwrap();
    ok(&mixplane(&[
        "b2mml",
        "import",
        file.to_str().unwrap(),
        "--data-dir",
        &data,
        "--json",
    ]));
    let out = import("RCP-COUGH-2");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("RCP-COUGH-2") && stderr.contains("plant document"),
        "{stderr}"
    );
}
