//! BatchML master recipe reader (`isa95::routing_from_master_recipe`) against the reference
//! plant: any text is read or rejected with an `Isa95Error`, and a routing read has steps,
//! each on units of the plant with a finite, positive duration.
#![no_main]

use isa95::{RecipeOptions, routing_from_master_recipe};
use libfuzzer_sys::fuzz_target;
use mixplane_fuzz::{reference_catalog, text};
use model::StepDuration;

fuzz_target!(|data: &[u8]| {
    let Some(text) = text(data) else { return };
    let options = RecipeOptions {
        routing: Some("RCP-FUZZ".into()),
        product: Some("RES-EA100".into()),
        default_step_minutes: Some(30.0),
        ..RecipeOptions::default()
    };
    let Ok(import) = routing_from_master_recipe(text, reference_catalog(), &options) else {
        return;
    };
    assert!(!import.routing.steps.is_empty());
    assert_eq!(import.routing.steps.len(), import.origins.len());
    for step in &import.routing.steps {
        assert!(!step.alternatives.is_empty());
        for alternative in &step.alternatives {
            assert!(reference_catalog().unit(&alternative.unit).is_some());
            let StepDuration::Fixed { minutes } = alternative.duration else {
                panic!("a recipe step has a fixed duration");
            };
            assert!(minutes.is_finite() && minutes > 0.0, "{minutes}");
        }
    }
});
