//! The plant document (`model::Plant` from JSON, then `model::Catalog::new`): any text is read
//! or rejected with a serde error, any plant read is validated or rejected with
//! `ValidationErrors` naming path and id; a plant read, written and read again is the same, and
//! a valid one gives an initial state.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mixplane_fuzz::{t0, text};
use model::{Catalog, Plant, PlantState};

fuzz_target!(|data: &[u8]| {
    let Some(text) = text(data) else { return };
    let Ok(plant) = serde_json::from_str::<Plant>(text) else {
        return;
    };
    let written = serde_json::to_string(&plant).expect("a plant serialises");
    let again: Plant = serde_json::from_str(&written)
        .unwrap_or_else(|e| panic!("a written plant must read back: {e}\n{written}"));
    assert_eq!(again, plant, "plant round trip");
    match Catalog::new(plant) {
        Ok(catalog) => {
            let state = PlantState::initial(&catalog, t0());
            assert_eq!(state.units.len(), catalog.plant().units.len());
        }
        Err(errors) => assert!(!errors.0.is_empty(), "a rejection names a problem"),
    }
});
