//! Random draws with plant meaning: process parameters around their targets, quality
//! measurements around their specifications, and how lot quality shifts them.
//!
//! The causal chain the quality engines are tested on lives here: a process parameter away
//! from its target raises the lot's defect factor ([`parameter_factor`]); the factor is
//! inherited through genealogy by whatever consumes the lot, and pushes one-sided
//! upper-specification characteristics (leak rate, residual monomer) and defect counts up.

use model::rng::Rng;
use model::{Catalog, Characteristic, ProcessParameter};

use crate::options::{DriftSpec, DriftTarget, SimOptions};

/// A process parameter's actual value: target plus noise (six sigma across the window)
/// plus any drift offset.
pub(crate) fn parameter_value(rng: &mut Rng, p: &ProcessParameter, offset: f64) -> f64 {
    let sd = (p.high - p.low) / 12.0;
    round(p.target + sd * rng.normal() + offset, 3)
}

/// How much a parameter value degrades the lot: zero inside the central part of the
/// window, growing linearly beyond it; temperatures weigh most.
pub(crate) fn parameter_factor(p: &ProcessParameter, value: f64) -> f64 {
    let dev = if value >= p.target {
        let w = p.high - p.target;
        if w > 0.0 { (value - p.target) / w } else { 0.0 }
    } else {
        let w = p.target - p.low;
        if w > 0.0 { (p.target - value) / w } else { 0.0 }
    };
    let weight = if p.name.contains("temperature") {
        1.0
    } else {
        0.3
    };
    weight * (dev - 0.3).max(0.0)
}

/// Signed position of a temperature parameter in its upper or lower half-window.
pub(crate) fn temperature_index(p: &ProcessParameter, value: f64) -> f64 {
    if !p.name.contains("temperature") {
        return 0.0;
    }
    let w = if value >= p.target {
        p.high - p.target
    } else {
        p.target - p.low
    };
    if w > 0.0 { (value - p.target) / w } else { 0.0 }
}

/// Is this a characteristic measured as individual values or subgroups of values?
pub(crate) fn is_variable(c: &Characteristic) -> bool {
    use model::ChartKind::*;
    matches!(c.chart, Imr | XbarR | XbarS | Ewma | Cusum)
}

/// Whether a characteristic's simulated results rise with the defect factor of what is
/// measured: defect counts (`c`, `u`; and `p`, `np` when items are inspected one by one, in
/// discrete mode: a lot's pass/fail sample does not depend on upstream quality), and
/// one-sided upper-limit quantities (leak rate, residual monomer) drawn by
/// [`variable_value`]. What root-cause ranking can be scored on.
pub fn responds_to_lot_quality(cat: &Catalog, id: &model::CharacteristicId) -> bool {
    let Some((plan, c)) = cat.characteristic(id) else {
        return false;
    };
    use model::ChartKind::*;
    match c.chart {
        C | U => true,
        P | Np => cat.plant().routings.iter().any(|r| {
            r.mode == model::Mode::Discrete
                && r.steps
                    .iter()
                    .any(|s| s.inspection.as_ref() == Some(&plan.id))
        }),
        _ => matches!((c.lsl, c.usl), (None, Some(usl)) if c.target > 0.0 && usl > c.target),
    }
}

/// One variables measurement. `factor` is the defect factor of the item or lot,
/// `temperature` its temperature index, `offset` a drift of the characteristic itself.
pub(crate) fn variable_value(
    rng: &mut Rng,
    c: &Characteristic,
    factor: f64,
    temperature: f64,
    offset: f64,
) -> f64 {
    let value = match (c.lsl, c.usl) {
        (None, Some(usl)) if c.target > 0.0 && usl > c.target => {
            // One-sided, positive quantities (leak rate, residual monomer): log-normal,
            // pushed towards the limit by the defect factor.
            let base = c.target + factor * (usl - c.target);
            let spread = libm::log(usl / c.target) / 3.2;
            base * libm::exp(spread * rng.normal())
        }
        (Some(lsl), Some(usl)) => {
            let mut mean = c.target;
            if c.name.to_lowercase().contains("viscosity") {
                mean *= 1.0 + 0.05 * temperature + 0.02 * factor;
            }
            mean + (usl - lsl) / 8.0 * rng.normal()
        }
        _ => c.target + c.target.abs().max(1e-3) * 0.1 * rng.normal(),
    };
    round(value + offset, 4)
}

/// Is a variables value outside its specification limits?
pub(crate) fn out_of_spec(c: &Characteristic, value: f64) -> bool {
    c.lsl.is_some_and(|l| value < l) || c.usl.is_some_and(|u| value > u)
}

/// Number of successes in `n` trials of probability `p`.
pub(crate) fn binomial(rng: &mut Rng, n: u64, p: f64) -> u64 {
    let p = p.clamp(0.0, 1.0);
    if p == 0.0 {
        return 0;
    }
    (0..n).filter(|_| rng.chance(p)).count() as u64
}

/// A Poisson count with mean `lambda` (Knuth's method; means here are small).
pub(crate) fn poisson(rng: &mut Rng, lambda: f64) -> u64 {
    if lambda <= 0.0 {
        return 0;
    }
    if lambda > 30.0 {
        return (lambda + libm::sqrt(lambda) * rng.normal())
            .round()
            .max(0.0) as u64;
    }
    let limit = libm::exp(-lambda);
    let mut k = 0;
    let mut p = rng.uniform();
    while p > limit {
        k += 1;
        p *= rng.uniform();
    }
    k
}

/// Rounds to `digits` decimals (at most 9). The scale is an exact integer power of ten,
/// which `powi` does not promise on every platform.
pub(crate) fn round(value: f64, digits: u32) -> f64 {
    let scale = f64::from(10u32.pow(digits));
    (value * scale).round() / scale
}

/// The drifts a run draws from its seed (`drifts_per_month`): Poisson arrivals over the run,
/// each on a random process parameter of a random step (every routing that has it there
/// drifts: a shared utility or instrument), creeping up or down at 40 to 80% of the
/// narrowest half-window a day (out of the window in about two days), and found and fixed
/// three to seven days after it starts. Its own random stream, so drawing them changes no
/// other draw.
pub(crate) fn random_drifts(cat: &Catalog, opts: &SimOptions, end: i64) -> Vec<DriftSpec> {
    const DAY: f64 = 86_400_000.0;
    if opts.drifts_per_month <= 0.0 {
        return Vec::new();
    }
    // Per (step, parameter name): the narrowest half-windows below and above the target.
    let mut targets: std::collections::BTreeMap<(u32, &str), (f64, f64)> = Default::default();
    for routing in &cat.plant().routings {
        for (k, step) in routing.steps.iter().enumerate() {
            for p in step.parameters.iter().filter(|p| p.high > p.low) {
                let (down, up) = (p.target - p.low, p.high - p.target);
                let entry = targets
                    .entry((k as u32, p.name.as_str()))
                    .or_insert((down, up));
                *entry = (entry.0.min(down), entry.1.min(up));
            }
        }
    }
    let targets: Vec<_> = targets.into_iter().collect();
    if targets.is_empty() {
        return Vec::new();
    }
    let mut rng = Rng::derive(opts.seed, "random-drifts");
    let days = (end - opts.start.0) as f64 / DAY;
    let mut drifts = Vec::new();
    let mut day = opts.drifts_from_day;
    loop {
        day += rng.exponential(30.0 / opts.drifts_per_month);
        if day >= days {
            return drifts;
        }
        let &((step, name), (down, up)) = rng.pick(&targets);
        let rising = rng.chance(0.5);
        let half_window = if rising { up } else { down };
        let rate = round(half_window * (0.4 + 0.4 * rng.uniform()), 3);
        let start_day = round(day, 3);
        drifts.push(DriftSpec {
            target: DriftTarget::Parameter {
                routing: None,
                step,
                name: name.to_owned(),
            },
            unit: None,
            start_day,
            shift: 0.0,
            rate_per_day: if rising { rate } else { -rate },
            end_day: Some(round(start_day + 3.0 + 4.0 * rng.uniform(), 3)),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::ChartKind;

    fn temperature() -> ProcessParameter {
        ProcessParameter {
            name: "reactor_temperature".into(),
            uom: "degC".into(),
            target: 85.0,
            low: 80.0,
            high: 90.0,
        }
    }

    #[test]
    fn parameter_factor_is_zero_near_target_and_grows_outside() {
        let p = temperature();
        assert_eq!(parameter_factor(&p, 85.0), 0.0);
        assert_eq!(parameter_factor(&p, 86.0), 0.0);
        assert!((parameter_factor(&p, 90.0) - 0.7).abs() < 1e-12);
        assert!(parameter_factor(&p, 95.0) > parameter_factor(&p, 90.0));
        assert!(parameter_factor(&p, 78.0) > 0.0);
        let hold = ProcessParameter {
            name: "hold_time".into(),
            ..temperature()
        };
        assert!(parameter_factor(&hold, 90.0) < parameter_factor(&p, 90.0));
        assert!((temperature_index(&p, 87.5) - 0.5).abs() < 1e-12);
        assert_eq!(temperature_index(&hold, 87.5), 0.0);
    }

    #[test]
    fn one_sided_characteristics_rise_with_the_defect_factor() {
        let leak = Characteristic {
            id: "LEAK".into(),
            name: "Helium leak rate".into(),
            uom: "x".into(),
            target: 0.8,
            lsl: None,
            usl: Some(2.0),
            chart: ChartKind::Imr,
            subgroup_size: 1,
        };
        let mut rng = Rng::new(3);
        let n = 20_000;
        let out = |rng: &mut Rng, factor: f64| {
            (0..n)
                .filter(|_| out_of_spec(&leak, variable_value(rng, &leak, factor, 0.0, 0.0)))
                .count() as f64
                / n as f64
        };
        let clean = out(&mut rng, 0.0);
        let degraded = out(&mut rng, 0.5);
        assert!(clean < 0.003, "{clean}");
        assert!(degraded > 0.05, "{degraded}");
    }

    #[test]
    fn counts_have_their_means() {
        let mut rng = Rng::new(9);
        let n = 20_000;
        let p = (0..n).map(|_| poisson(&mut rng, 2.5)).sum::<u64>() as f64 / n as f64;
        assert!((p - 2.5).abs() < 0.05, "{p}");
        let b = (0..n).map(|_| binomial(&mut rng, 50, 0.1)).sum::<u64>() as f64 / n as f64;
        assert!((b - 5.0).abs() < 0.1, "{b}");
        assert_eq!(binomial(&mut rng, 10, 0.0), 0);
        assert_eq!(poisson(&mut rng, 0.0), 0);
        assert_eq!(round(1.23456, 2), 1.23);
    }
}
