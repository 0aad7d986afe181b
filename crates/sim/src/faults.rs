//! One fault drawn from a seed, for scoring root-cause ranking on more than the canonical
//! reactor-temperature creep: either a creep of one process parameter of one step of one
//! routing, or a run of defective deliveries of one purchased material. Only faults whose
//! effect reaches an inspected characteristic that responds to lot quality
//! ([`crate::responds_to_lot_quality`]) are drawn, so every draw can be found.

use model::rng::Rng;
use model::{Catalog, MaterialKind};

use crate::measure::{responds_to_lot_quality, round};
use crate::options::{DriftSpec, DriftTarget};
use crate::report::downstream;

/// The fault for `seed` in a run of `days` days: a parameter creep or a component-lot defect
/// (even odds when the plant has both), starting between day 1 and a third of the run so the
/// run holds enough of its effect to be found. `None` when the plant has no process parameter
/// and no purchased material whose effect an inspection would see.
pub fn draw_fault(cat: &Catalog, seed: u64, days: f64) -> Option<DriftSpec> {
    let plant = cat.plant();
    let mut parameters = Vec::new();
    for routing in &plant.routings {
        for (k, step) in routing.steps.iter().enumerate() {
            for p in step.parameters.iter().filter(|p| p.high > p.low) {
                let target = DriftTarget::Parameter {
                    routing: Some(routing.id.clone()),
                    step: k as u32,
                    name: p.name.clone(),
                };
                if seen(cat, &target) {
                    parameters.push((target, p.target - p.low, p.high - p.target));
                }
            }
        }
    }
    let components: Vec<DriftTarget> = plant
        .materials
        .iter()
        .filter(|m| matches!(m.kind, MaterialKind::Raw | MaterialKind::Packaging))
        .map(|m| DriftTarget::ComponentLot {
            material: m.id.clone(),
        })
        .filter(|t| seen(cat, t))
        .collect();
    if parameters.is_empty() && components.is_empty() {
        return None;
    }
    let mut rng = Rng::derive(seed, "root-cause-fault");
    let start_day = round(1.0 + (days / 3.0 - 1.0).max(0.0) * rng.uniform(), 3);
    let component = !components.is_empty() && (parameters.is_empty() || rng.chance(0.5));
    if component {
        let target = rng.pick(&components).clone();
        return Some(DriftSpec {
            target,
            unit: None,
            start_day,
            shift: round(0.6 + 0.6 * rng.uniform(), 3),
            rate_per_day: 0.0,
            end_day: Some(round(start_day + 3.0 + 4.0 * rng.uniform(), 3)),
        });
    }
    let (target, down, up) = rng.pick(&parameters).clone();
    let rising = rng.chance(0.5);
    let rate = round(
        (if rising { up } else { down }) * (0.4 + 0.4 * rng.uniform()),
        3,
    );
    Some(DriftSpec {
        target,
        unit: None,
        start_day,
        shift: 0.0,
        rate_per_day: if rising { rate } else { -rate },
        end_day: None,
    })
}

/// Whether some characteristic downstream of `target` responds to lot quality.
fn seen(cat: &Catalog, target: &DriftTarget) -> bool {
    downstream(cat, target)
        .iter()
        .any(|id| responds_to_lot_quality(cat, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_valid_reachable_and_of_both_kinds() {
        let catalog = crate::reference_catalog();
        let (mut parameters, mut components) = (0, 0);
        for seed in 0..40 {
            let fault = draw_fault(&catalog, seed, 21.0).expect("the reference plant has faults");
            assert_eq!(draw_fault(&catalog, seed, 21.0).as_ref(), Some(&fault));
            assert!((1.0..=7.0).contains(&fault.start_day), "{fault:?}");
            assert!(seen(&catalog, &fault.target));
            let options = crate::SimOptions {
                drifts: vec![fault.clone()],
                ..Default::default()
            };
            crate::options::validate_options(&catalog, &options).expect("a drawn fault is valid");
            match fault.target {
                DriftTarget::Parameter { .. } => parameters += 1,
                DriftTarget::ComponentLot { .. } => components += 1,
                DriftTarget::Characteristic { .. } => panic!("not drawn: {fault:?}"),
            }
        }
        assert!(
            parameters >= 10 && components >= 10,
            "{parameters} / {components}"
        );
    }
}
