//! Reads of the plant and its current state: work centers with their units' state and
//! utilisation.

use std::collections::BTreeMap;

use model::{EquipmentState, Mode, Plant, Timestamp};
use schemars::JsonSchema;
use serde::Serialize;

/// A unit with its state and how its time was spent.
#[derive(Debug, Serialize, JsonSchema)]
pub struct UnitView {
    pub id: String,
    pub name: String,
    pub state: EquipmentState,
    pub since: Timestamp,
    /// Share of the recorded time spent running, 0 to 1.
    pub utilisation: f64,
    pub minutes_in_state: BTreeMap<EquipmentState, f64>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct WorkCenterView {
    pub id: String,
    pub name: String,
    pub area: String,
    pub mode: Mode,
    pub units: Vec<UnitView>,
    /// Mean utilisation of the units.
    pub utilisation: f64,
}

/// Work centers with their units' state and utilisation, from the current state.
pub fn work_center_views(plant: &Plant, state: &model::PlantState) -> Vec<WorkCenterView> {
    plant
        .work_centers
        .iter()
        .map(|wc| {
            let units: Vec<UnitView> = plant
                .units
                .iter()
                .filter(|u| u.work_center == wc.id)
                .map(|u| {
                    let unit_state = state.units.get(&u.id);
                    let minutes = unit_state
                        .map(|s| s.minutes_in_state.clone())
                        .unwrap_or_default();
                    let total: f64 = minutes.values().sum();
                    let running = minutes
                        .get(&EquipmentState::Running)
                        .copied()
                        .unwrap_or(0.0);
                    UnitView {
                        id: u.id.to_string(),
                        name: u.name.clone(),
                        state: unit_state.map_or(EquipmentState::Idle, |s| s.state),
                        since: unit_state.map_or(Timestamp::default(), |s| s.since),
                        utilisation: if total > 0.0 { running / total } else { 0.0 },
                        minutes_in_state: minutes,
                    }
                })
                .collect();
            let utilisation = if units.is_empty() {
                0.0
            } else {
                units.iter().map(|u| u.utilisation).sum::<f64>() / units.len() as f64
            };
            WorkCenterView {
                id: wc.id.to_string(),
                name: wc.name.clone(),
                area: wc.area.to_string(),
                mode: wc.mode,
                units,
                utilisation,
            }
        })
        .collect()
}
