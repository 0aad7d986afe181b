//! Phase I to phase II: limits frozen from the collected points with the batch chart
//! functions, and each later point charted against them (streaming Shewhart monitors, or the
//! EWMA and tabular CUSUM recursions kept here).

use crate::api::ChartKind;
use crate::monitor::Side;
use crate::phase2::{ChartMonitor, PointOutcome};
use crate::policy::ResolvedPolicy;
use crate::rules::PointLimits;
use crate::shewhart::{self, ShewhartChart, ShewhartOptions};

use super::enforcer::{Signal, plain};
use super::input::CharacteristicSpec;
use super::output::Limits;
use super::state::{Engine, Frozen, Pending};

pub(super) fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// Mean and MR̄/d2 σ of individual values (None when σ is not positive).
pub(super) fn individuals_estimate(values: &[f64]) -> Option<(f64, f64)> {
    if values.len() < 2 {
        return None;
    }
    let mr =
        values.windows(2).map(|w| (w[1] - w[0]).abs()).sum::<f64>() / (values.len() - 1) as f64;
    let sigma = mr / crate::constants::d2(2)?;
    (sigma > 0.0 && sigma.is_finite()).then(|| (mean(values), sigma))
}

/// Freezes the limits from the phase-I points, or says it cannot yet.
pub(super) fn freeze(
    spec: &CharacteristicSpec,
    policy: &ResolvedPolicy,
    points: &[Pending],
) -> Option<Frozen> {
    let kind = ChartKind::parse(&spec.chart).ok()?;
    let opts = ShewhartOptions {
        phase1_indices: None,
        rules: policy.selection(),
        nsigma: policy.nsigma,
        iterate: policy.phase1_iterate,
        known_center: None,
        known_sigma: None,
    };
    let first = |p: &Pending| p.values[0];
    let sizes: Vec<f64> = points.iter().map(|p| p.size.unwrap_or(1.0)).collect();
    let counts: Vec<f64> = points.iter().map(first).collect();
    let sel = policy.selection();
    let shewhart = |chart: ShewhartChart, engine: Engine, rate: Option<f64>| {
        let limits = chart.point_limits(0);
        let ok = limits.sigma > 0.0 && limits.sigma.is_finite();
        ok.then_some(Frozen {
            engine,
            limits,
            nsigma: policy.nsigma,
            rate_center: rate,
        })
    };
    match kind {
        ChartKind::Imr => {
            let chart = shewhart::imr(&counts, &opts).ok()?;
            let m = ChartMonitor::individuals(&chart, sel).ok()?;
            shewhart(chart, Engine::Individuals(m), None)
        }
        ChartKind::XbarR | ChartKind::XbarS => {
            let groups: Vec<Vec<f64>> = points.iter().map(|p| p.values.clone()).collect();
            let n = groups[0].len();
            let chart = if kind == ChartKind::XbarR {
                shewhart::xbar_r(&groups, &opts)
            } else {
                shewhart::xbar_s(&groups, &opts)
            }
            .ok()?;
            let m = ChartMonitor::subgroups(&chart, n, sel).ok()?;
            shewhart(chart, Engine::Subgroups(m), None)
        }
        ChartKind::P => {
            let chart = shewhart::p_chart(&counts, &sizes, &opts).ok()?;
            let pbar = chart.pbar?;
            let m = ChartMonitor::proportion(&chart, policy.nsigma, sel).ok()?;
            shewhart(chart, Engine::Proportion(m), Some(pbar))
        }
        ChartKind::Np => {
            let chart = shewhart::np_chart(&counts, &sizes, &opts).ok()?;
            let m = ChartMonitor::counts(&chart, Some(sizes[0]), sel).ok()?;
            shewhart(chart, Engine::Counts(m), None)
        }
        ChartKind::C => {
            let chart = shewhart::c_chart(&counts, &opts).ok()?;
            let m = ChartMonitor::counts(&chart, None, sel).ok()?;
            shewhart(chart, Engine::Counts(m), None)
        }
        ChartKind::U => {
            let chart = shewhart::u_chart(&counts, &sizes, &opts).ok()?;
            let ubar = chart.center.at(0);
            let m = ChartMonitor::rate(&chart, policy.nsigma, sel).ok()?;
            shewhart(chart, Engine::Rate(m), Some(ubar))
        }
        ChartKind::Ewma => {
            let (mu, sigma) = individuals_estimate(&counts)?;
            let (lambda, l) = (policy.ewma_lambda, policy.ewma_l);
            let w = l * sigma * (lambda / (2.0 - lambda)).sqrt();
            Some(Frozen {
                engine: Engine::Ewma {
                    mu,
                    sigma,
                    lambda,
                    l,
                    z: mu,
                    t: 0,
                },
                limits: PointLimits {
                    center: mu,
                    sigma,
                    lcl: mu - w,
                    ucl: mu + w,
                },
                nsigma: l,
                rate_center: None,
            })
        }
        ChartKind::Cusum => {
            let (mu, sigma) = individuals_estimate(&counts)?;
            let h = policy.cusum_h * sigma;
            Some(Frozen {
                engine: Engine::Cusum {
                    mu,
                    sigma,
                    k: policy.cusum_k,
                    h: policy.cusum_h,
                    hi: 0.0,
                    lo: 0.0,
                },
                limits: PointLimits {
                    center: 0.0,
                    sigma,
                    lcl: -h,
                    ucl: h,
                },
                nsigma: policy.cusum_h,
                rate_center: None,
            })
        }
        _ => None,
    }
}

/// Charts one point against the frozen limits (None when the chart cannot take it).
pub(super) fn step(f: &mut Frozen, p: &Pending) -> Option<Signal> {
    let from = |o: PointOutcome, limits: Limits, m: &ChartMonitor| {
        let rules: Vec<u8> = o.fired.rules().collect();
        let beyond = o.fired.out_of_control();
        Signal {
            value: o.statistic,
            limits,
            sides: rules.iter().map(|&r| m.pattern_side(r)).collect(),
            rules,
            beyond,
            beyond_side: if beyond { m.pattern_side(1) } else { None },
            dispersion: o.secondary_out_of_control,
        }
    };
    let size = p.size.unwrap_or(1.0);
    let constant = plain(f.limits);
    let is_p = matches!(f.engine, Engine::Proportion(_));
    match &mut f.engine {
        Engine::Individuals(m) => {
            let o = m.push_value(p.values[0]).ok()?;
            Some(from(o, constant, m))
        }
        Engine::Subgroups(m) => {
            let o = m.push_subgroup(&p.values).ok()?;
            Some(from(o, constant, m))
        }
        Engine::Counts(m) => {
            let o = m.push_count(p.values[0], size).ok()?;
            Some(from(o, constant, m))
        }
        Engine::Proportion(m) | Engine::Rate(m) => {
            let o = m.push_count(p.values[0], size).ok()?;
            let c = f.rate_center.unwrap_or(f.limits.center);
            let s = if is_p {
                (c * (1.0 - c) / size).sqrt()
            } else {
                (c / size).sqrt()
            };
            let ucl = c + f.nsigma * s;
            let limits = Limits {
                center: c,
                lcl: (c - f.nsigma * s).max(0.0),
                ucl: if is_p { ucl.min(1.0) } else { ucl },
            };
            Some(from(o, limits, m))
        }
        Engine::Ewma {
            mu,
            sigma,
            lambda,
            l,
            z,
            t,
        } => {
            let x = p.values[0];
            if !x.is_finite() {
                return None;
            }
            *t += 1;
            *z = *lambda * x + (1.0 - *lambda) * *z;
            let factor = *lambda / (2.0 - *lambda) * (1.0 - (1.0 - *lambda).powf(2.0 * *t as f64));
            let w = *l * *sigma * factor.sqrt();
            let limits = Limits {
                center: *mu,
                lcl: *mu - w,
                ucl: *mu + w,
            };
            let side = if *z > limits.ucl {
                Some(Side::Above)
            } else if *z < limits.lcl {
                Some(Side::Below)
            } else {
                None
            };
            Some(Signal::limit_only(*z, limits, side.is_some(), side))
        }
        Engine::Cusum {
            mu,
            sigma,
            k,
            h,
            hi,
            lo,
        } => {
            let x = p.values[0];
            if !x.is_finite() {
                return None;
            }
            let kk = *k * *sigma;
            *hi = (x - (*mu + kk) + *hi).max(0.0);
            *lo = ((*mu - kk) - x + *lo).max(0.0);
            let hh = *h * *sigma;
            let value = if *hi >= *lo { *hi } else { -*lo };
            // The upper sum signals a shift up, the lower one a shift down; both at once
            // (possible only after a large swing) have no single side.
            let side = match (*hi > hh, *lo > hh) {
                (true, false) => Some(Side::Above),
                (false, true) => Some(Side::Below),
                _ => None,
            };
            let limits = Limits {
                center: 0.0,
                lcl: -hh,
                ucl: hh,
            };
            let beyond = *hi > hh || *lo > hh;
            Some(Signal::limit_only(value, limits, beyond, side))
        }
    }
}
