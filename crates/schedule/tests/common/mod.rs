//! What the mixed-mode integration tests share: the reference plant as a native problem.

use schedule::plant::from_model::{FromModelOptions, problem_from_model};
use schedule::plant::problem::PlantProblem;

/// The reference plant's order book over 14 days from 2026-03-02, as a native problem.
pub fn reference_problem() -> PlantProblem {
    let plant: model::Plant =
        serde_json::from_str(include_str!("../../../sim/data/reference-plant.json")).unwrap();
    let catalog = model::Catalog::new(plant).unwrap();
    let start = model::Timestamp::parse("2026-03-02T00:00:00Z").unwrap();
    let state = model::PlantState::initial(&catalog, start);
    problem_from_model(&catalog, &state, &FromModelOptions::new(start, 14 * 1440)).unwrap()
}
