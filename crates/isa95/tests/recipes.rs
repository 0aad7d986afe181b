//! The BatchML V02 cough syrup master recipe as a process routing: its operations in
//! procedure order, each on its unit procedure's work center, timed by its phases.

use std::collections::BTreeMap;
use std::path::Path;

use isa95::{Isa95Error, RecipeOptions, routing_from_master_recipe};
use model::{Catalog, MaterialId, Mode, RoutingId, StepDuration};

fn recipe() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/samples/batchml/batchml_v02_cough_syrup_master_recipe.xml");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn options() -> RecipeOptions {
    RecipeOptions {
        routing: Some(RoutingId::from("RCP-COUGH")),
        product: Some(MaterialId::from("RES-EA100")),
        equipment: BTreeMap::from([
            ("Make Suspension".to_owned(), "WC-RX".to_owned()),
            ("Package Suspension".to_owned(), "FS-2".to_owned()),
        ]),
        default_step_minutes: Some(30.0),
    }
}

fn reference() -> Catalog {
    Catalog::new(sim::reference_plant()).unwrap()
}

#[test]
fn the_cough_syrup_recipe_reads_into_a_routing_whose_steps_match_its_operations() {
    let import = routing_from_master_recipe(&recipe(), &reference(), &options()).unwrap();
    let routing = &import.routing;
    assert_eq!(routing.id.as_str(), "RCP-COUGH");
    assert_eq!(routing.mode, Mode::Process);
    assert_eq!(routing.batch_size, Some(5000.0));
    // The operations of "Make Suspension" then "Package Suspension", in the order their
    // procedure logic links them (worked out from the links independently of this reader).
    let names: Vec<&str> = routing.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Qualify Make",
            "Setup Make",
            "Mix Slurry 1",
            "Mix Slurry 2",
            "Blend Slurry",
            "Hold Slurry",
            "Close Slurry",
            "Qualify Pack",
            "Setup Pack",
            "Pack Operation",
            "Close Pack",
        ]
    );
    let units = |k: usize| -> Vec<&str> {
        routing.steps[k]
            .alternatives
            .iter()
            .map(|a| a.unit.as_str())
            .collect()
    };
    assert_eq!(units(0), ["R-101", "R-102", "R-103"]);
    assert_eq!(units(10), ["FS-2"]);
    // "Mix Slurry A1" agitates for 3600 seconds; the other operations give no time.
    let minutes: Vec<f64> = routing
        .steps
        .iter()
        .map(|s| match s.alternatives[0].duration {
            StepDuration::Fixed { minutes } => minutes,
            ref other => panic!("a recipe step has a fixed duration, not {other:?}"),
        })
        .collect();
    assert_eq!(minutes[2], 60.0);
    assert!(
        minutes
            .iter()
            .enumerate()
            .all(|(k, m)| k == 2 || *m == 30.0)
    );
    assert!(import.origins[2].timed_by_phases);
    assert_eq!(
        import.origins[2].phases,
        [
            "Mix Slurry A1",
            "Slurry Utility",
            "Partial WIP Confirmation",
            "Mark / Label WIP"
        ]
    );
    let speed = routing.steps[2]
        .parameters
        .iter()
        .find(|p| p.name == "Mix Slurry A1: AGITATE SPEED")
        .unwrap();
    assert_eq!((speed.target, speed.uom.as_str()), (3600.0, "RPM"));
    // Added to the plant, the routing passes the plant's own validation.
    let mut plant = sim::reference_plant();
    plant.routings.push(import.routing);
    Catalog::new(plant).unwrap();
}

#[test]
fn a_unit_procedure_without_equipment_or_an_operation_without_time_is_refused_by_name() {
    let mut no_equipment = options();
    no_equipment.equipment.remove("Package Suspension");
    let error = routing_from_master_recipe(&recipe(), &reference(), &no_equipment).unwrap_err();
    assert!(
        matches!(&error, Isa95Error::Recipe { element, .. } if element.contains("Package Suspension")),
        "{error}"
    );

    let mut discrete = options();
    discrete
        .equipment
        .insert("Make Suspension".into(), "WC-ASM1".into());
    let error = routing_from_master_recipe(&recipe(), &reference(), &discrete).unwrap_err();
    assert!(error.to_string().contains("discrete mode"), "{error}");

    let mut no_default = options();
    no_default.default_step_minutes = None;
    let error = routing_from_master_recipe(&recipe(), &reference(), &no_default).unwrap_err();
    assert!(
        matches!(&error, Isa95Error::Recipe { element, .. } if element.contains("Qualify Make")),
        "{error}"
    );

    let mut unknown_product = options();
    unknown_product.product = Some(MaterialId::from("COUGH-SYRUP"));
    let error = routing_from_master_recipe(&recipe(), &reference(), &unknown_product).unwrap_err();
    assert!(error.to_string().contains("COUGH-SYRUP"), "{error}");
}
