//! Shewhart charts: I-MR, X̄-R, X̄-S, p, np, c, u, and the `rules` pseudo-chart.
//!
//! Phase I estimates center and σ from `phase1_indices` (all points when absent); every point,
//! phase I and phase II, is then charted against those frozen limits and tested. Optionally
//! (`iterate`), phase-I points beyond the limits of the main or secondary chart are dropped
//! and the limits re-estimated until none remain. Limits are `center ± k·σ`; lower limits of
//! p, np, c, u, R, S and MR are clipped at 0, the p UCL at 1 and the np UCL at n. Out of
//! control means strictly beyond a limit.
//!
//! Rules are evaluated with the O(1)-per-point [`Monitor`]; the window-rescanning
//! [`rules::evaluate`] is kept as its independent checker (property tests and the shared
//! `rules` vectors run both).

use serde::{Deserialize, Serialize};

use crate::constants;
use crate::error::QualityError;
use crate::estimate::{
    check_finite, check_subgroups, masked_mean, mean, mr_bar, need, phase1_mask, range, sample_sd,
};
use crate::monitor::Monitor;
use crate::rules::{self, PointLimits, RuleSelection, RuleSet, Violation};

/// A chart line: one value for every point, or one value per point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Line {
    /// Constant over the series.
    Constant(f64),
    /// One value per plotted point.
    PerPoint(Vec<f64>),
}

impl Line {
    /// The value at point `i`.
    #[inline]
    pub fn at(&self, i: usize) -> f64 {
        match self {
            Line::Constant(v) => *v,
            Line::PerPoint(v) => v[i],
        }
    }
}

/// Kind of the secondary (dispersion) chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecondaryKind {
    /// Moving range of two consecutive individuals.
    Mr,
    /// Subgroup range.
    R,
    /// Subgroup standard deviation.
    S,
}

/// The dispersion chart of I-MR, X̄-R and X̄-S. It gets only out-of-control points, no rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecondaryChart {
    /// `mr`, `r` or `s`.
    pub kind: SecondaryKind,
    /// Plotted dispersion values (n − 1 moving ranges for MR).
    pub statistic: Vec<f64>,
    /// Center (MR̄, R̄ or S̄).
    pub center: f64,
    /// Upper limit.
    pub ucl: f64,
    /// Lower limit (≥ 0).
    pub lcl: f64,
    /// Indices into `statistic` strictly beyond a limit.
    pub points_out_of_control: Vec<usize>,
}

/// A Shewhart chart with its phase-I limits, out-of-control points and rule violations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShewhartChart {
    /// Plotted values.
    pub statistic: Vec<f64>,
    /// Center line.
    pub center: Line,
    /// Upper control limit (clipped).
    pub ucl: Line,
    /// Lower control limit (clipped).
    pub lcl: Line,
    /// σ of the plotted statistic (unclipped), the zone unit.
    pub sigma_statistic: Line,
    /// σ of one observation (variables charts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sigma: Option<f64>,
    /// Phase-I fraction nonconforming (p, np).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pbar: Option<f64>,
    /// Indices strictly beyond a limit.
    pub points_out_of_control: Vec<usize>,
    /// Rule violations sorted by (index, rule).
    pub rule_violations: Vec<Violation>,
    /// Dispersion chart (I-MR, X̄-R, X̄-S).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secondary: Option<SecondaryChart>,
    /// Phase-I indices removed by the iterative re-estimation (only when iterating).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase1_excluded: Option<Vec<usize>>,
}

impl ShewhartChart {
    /// Limits of point `i` (for rules and monitoring).
    pub fn point_limits(&self, i: usize) -> PointLimits {
        PointLimits {
            center: self.center.at(i),
            sigma: self.sigma_statistic.at(i),
            lcl: self.lcl.at(i),
            ucl: self.ucl.at(i),
        }
    }

    /// A streaming monitor for new points against this chart's frozen limits. For charts
    /// with per-point limits, the limits of point 0 are used; call
    /// [`Monitor::push_with`] with the new point's own limits instead.
    pub fn monitor(&self, selection: RuleSelection) -> Monitor {
        Monitor::new(self.point_limits(0), selection)
    }
}

/// Options shared by the Shewhart charts.
#[derive(Debug, Clone, PartialEq)]
pub struct ShewhartOptions {
    /// Points used to estimate the limits (all when `None`).
    pub phase1_indices: Option<Vec<usize>>,
    /// Rules evaluated on the main chart.
    pub rules: RuleSelection,
    /// Width of the limits in σ (3 unless told).
    pub nsigma: f64,
    /// Re-estimate with out-of-control phase-I points removed until stable.
    pub iterate: bool,
    /// Known center ("standard given"): the mean for I and X̄, p̄ for p and np, c̄ for c, ū
    /// for u. Replaces the phase-I estimate.
    pub known_center: Option<f64>,
    /// Known σ of one observation for I-MR, X̄-R and X̄-S. Replaces the phase-I estimate;
    /// the dispersion chart is then centred on d2·σ (R, MR) or c4·σ (S).
    pub known_sigma: Option<f64>,
}

impl Default for ShewhartOptions {
    fn default() -> Self {
        ShewhartOptions {
            phase1_indices: None,
            rules: RuleSelection::all(RuleSet::Nelson),
            nsigma: 3.0,
            iterate: false,
            known_center: None,
            known_sigma: None,
        }
    }
}

/// The `rules` pseudo-chart result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RulesResult {
    /// Indices strictly beyond a limit.
    pub points_out_of_control: Vec<usize>,
    /// Rule violations sorted by (index, rule).
    pub rule_violations: Vec<Violation>,
}

/// Evaluates rules on given values against given limits.
pub fn rules_chart(
    values: &[f64],
    limits: PointLimits,
    selection: RuleSelection,
) -> Result<RulesResult, QualityError> {
    check_finite("values", values)?;
    if !(limits.sigma > 0.0 && limits.sigma.is_finite()) {
        return Err(QualityError::InvalidField {
            section: "params",
            field: "sigma".into(),
            reason: "must be a positive number".into(),
        });
    }
    Ok(RulesResult {
        points_out_of_control: rules::points_out_of_control(values, |_| limits),
        rule_violations: Monitor::run(selection, values, |_| limits),
    })
}

/// Phase-I estimate of one chart: per-point center/σ and how the limits are clipped.
struct Estimate {
    center: Line,
    sigma_statistic: Line,
    lower_floor: Option<f64>,
    upper_cap: Option<f64>,
    sigma: Option<f64>,
    pbar: Option<f64>,
    secondary: Option<SecondaryChart>,
}

fn check_sigma(chart: &'static str, s: &Line) -> Result<(), QualityError> {
    let bad = match s {
        Line::Constant(v) => (!(*v > 0.0 && v.is_finite())).then_some(*v),
        Line::PerPoint(v) => v.iter().copied().find(|v| !(*v > 0.0 && v.is_finite())),
    };
    match bad {
        Some(sigma) => Err(QualityError::DegenerateSigma { chart, sigma }),
        None => Ok(()),
    }
}

fn map_line(l: &Line, f: impl Fn(usize, f64) -> f64) -> Line {
    match l {
        Line::Constant(v) => Line::Constant(f(0, *v)),
        Line::PerPoint(v) => Line::PerPoint(v.iter().enumerate().map(|(i, x)| f(i, *x)).collect()),
    }
}

fn secondary_chart(
    kind: SecondaryKind,
    statistic: Vec<f64>,
    center: f64,
    lcl: f64,
    ucl: f64,
) -> SecondaryChart {
    let points_out_of_control = statistic
        .iter()
        .enumerate()
        .filter(|(_, x)| **x > ucl || **x < lcl)
        .map(|(i, _)| i)
        .collect();
    SecondaryChart {
        kind,
        statistic,
        center,
        ucl,
        lcl,
        points_out_of_control,
    }
}

/// Runs phase I (optionally iterated) and charts every point.
fn build(
    chart: &'static str,
    statistic: Vec<f64>,
    opts: &ShewhartOptions,
    estimate: impl Fn(&[bool]) -> Result<Estimate, QualityError>,
) -> Result<ShewhartChart, QualityError> {
    let n = statistic.len();
    let mut mask = phase1_mask(opts.phase1_indices.as_deref(), n)?;
    let mut excluded = Vec::new();
    loop {
        let e = estimate(&mask)?;
        check_sigma(chart, &e.sigma_statistic)?;
        let k = opts.nsigma;
        let ucl = map_line(&e.sigma_statistic, |i, s| {
            let u = e.center.at(i) + k * s;
            match e.upper_cap {
                Some(cap) => u.min(cap),
                None => u,
            }
        });
        let lcl = map_line(&e.sigma_statistic, |i, s| {
            let l = e.center.at(i) - k * s;
            match e.lower_floor {
                Some(f) => l.max(f),
                None => l,
            }
        });
        let mut c = ShewhartChart {
            statistic: Vec::new(),
            center: e.center,
            ucl,
            lcl,
            sigma_statistic: e.sigma_statistic,
            sigma: e.sigma,
            pbar: e.pbar,
            points_out_of_control: Vec::new(),
            rule_violations: Vec::new(),
            secondary: e.secondary,
            phase1_excluded: opts.iterate.then(|| excluded.clone()),
        };
        c.points_out_of_control = rules::points_out_of_control(&statistic, |i| c.point_limits(i));
        if opts.iterate {
            let mut drop: Vec<usize> = c
                .points_out_of_control
                .iter()
                .copied()
                .filter(|&i| mask[i])
                .collect();
            if let Some(s) = c.secondary.as_ref().filter(|s| s.kind != SecondaryKind::Mr) {
                drop.extend(s.points_out_of_control.iter().copied().filter(|&i| mask[i]));
            }
            drop.sort_unstable();
            drop.dedup();
            if !drop.is_empty() {
                for &i in &drop {
                    mask[i] = false;
                }
                excluded.extend(drop);
                excluded.sort_unstable();
                continue;
            }
        }
        c.rule_violations = Monitor::run(opts.rules, &statistic, |i| c.point_limits(i));
        c.statistic = statistic;
        return Ok(c);
    }
}

fn count_of(mask: &[bool]) -> usize {
    mask.iter().filter(|m| **m).count()
}

/// The known center, or the phase-I mean of `values`.
fn center_of(
    opts: &ShewhartOptions,
    chart: &'static str,
    values: &[f64],
    mask: &[bool],
) -> Result<f64, QualityError> {
    match opts.known_center {
        Some(c) => Ok(c),
        None => {
            need(chart, "phase-I points", 1, count_of(mask))?;
            Ok(masked_mean(values, mask))
        }
    }
}

/// Individuals and moving-range chart.
pub fn imr(values: &[f64], opts: &ShewhartOptions) -> Result<ShewhartChart, QualityError> {
    check_finite("values", values)?;
    need("imr", "points", 2, values.len())?;
    let mr: Vec<f64> = values.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
    let d2 = constants::d2(2).unwrap_or(f64::NAN);
    let d3 = constants::d3(2).unwrap_or(f64::NAN);
    build("imr", values.to_vec(), opts, |mask| {
        let (mr_bar, sigma) = match opts.known_sigma {
            Some(s) => (d2 * s, s),
            None => {
                let (mr_bar, c) = mr_bar(values, mask);
                need("imr", "consecutive phase-I points", 2, c + 1)?;
                (mr_bar, mr_bar / d2)
            }
        };
        let k = opts.nsigma;
        Ok(Estimate {
            center: Line::Constant(center_of(opts, "imr", values, mask)?),
            sigma_statistic: Line::Constant(sigma),
            lower_floor: None,
            upper_cap: None,
            sigma: Some(sigma),
            pbar: None,
            secondary: Some(secondary_chart(
                SecondaryKind::Mr,
                mr.clone(),
                mr_bar,
                (mr_bar * (1.0 - k * d3 / d2)).max(0.0),
                mr_bar * (1.0 + k * d3 / d2),
            )),
        })
    })
}

fn xbar(
    chart: &'static str,
    subgroups: &[Vec<f64>],
    opts: &ShewhartOptions,
    kind: SecondaryKind,
) -> Result<ShewhartChart, QualityError> {
    let n = check_subgroups(chart, subgroups, constants::MIN_N, constants::MAX_N)?;
    let means: Vec<f64> = subgroups.iter().map(|g| mean(g)).collect();
    let disp: Vec<f64> = match kind {
        SecondaryKind::S => subgroups.iter().map(|g| sample_sd(g)).collect(),
        _ => subgroups.iter().map(|g| range(g)).collect(),
    };
    let row = constants::row(n, opts.nsigma).ok_or(QualityError::SubgroupSize {
        chart,
        size: n,
        min: constants::MIN_N,
        max: constants::MAX_N,
    })?;
    let sn = (n as f64).sqrt();
    build(chart, means.clone(), opts, |mask| {
        let center = center_of(opts, chart, &means, mask)?;
        let dbar = match (opts.known_sigma, kind) {
            (Some(s), SecondaryKind::S) => row.c4 * s,
            (Some(s), _) => row.d2 * s,
            (None, _) => {
                need(chart, "phase-I subgroups", 1, count_of(mask))?;
                masked_mean(&disp, mask)
            }
        };
        let (sigma, lcl, ucl) = match kind {
            SecondaryKind::S => (dbar / row.c4, row.B3 * dbar, row.B4 * dbar),
            _ => (dbar / row.d2, row.D3 * dbar, row.D4 * dbar),
        };
        let sigma = opts.known_sigma.unwrap_or(sigma);
        Ok(Estimate {
            center: Line::Constant(center),
            sigma_statistic: Line::Constant(sigma / sn),
            lower_floor: None,
            upper_cap: None,
            sigma: Some(sigma),
            pbar: None,
            secondary: Some(secondary_chart(kind, disp.clone(), dbar, lcl, ucl)),
        })
    })
}

/// X̄ and R chart (equal subgroups of 2..=25).
pub fn xbar_r(
    subgroups: &[Vec<f64>],
    opts: &ShewhartOptions,
) -> Result<ShewhartChart, QualityError> {
    xbar("xbar_r", subgroups, opts, SecondaryKind::R)
}

/// X̄ and S chart (equal subgroups of 2..=25).
pub fn xbar_s(
    subgroups: &[Vec<f64>],
    opts: &ShewhartOptions,
) -> Result<ShewhartChart, QualityError> {
    xbar("xbar_s", subgroups, opts, SecondaryKind::S)
}

fn check_attribute(
    counts: &[f64],
    sizes: Option<&[f64]>,
    count_le_size: bool,
) -> Result<(), QualityError> {
    check_finite("counts", counts)?;
    for (index, &c) in counts.iter().enumerate() {
        if c < 0.0 {
            return Err(QualityError::InvalidValue {
                field: "counts",
                index,
                value: c,
                reason: "a count cannot be negative",
            });
        }
    }
    if let Some(sizes) = sizes {
        if sizes.len() != counts.len() {
            return Err(QualityError::LengthMismatch {
                first: "counts",
                first_len: counts.len(),
                second: "sizes",
                second_len: sizes.len(),
            });
        }
        check_finite("sizes", sizes)?;
        for (index, (&n, &c)) in sizes.iter().zip(counts).enumerate() {
            if n <= 0.0 {
                return Err(QualityError::InvalidValue {
                    field: "sizes",
                    index,
                    value: n,
                    reason: "a size must be positive",
                });
            }
            if count_le_size && c > n {
                return Err(QualityError::InvalidValue {
                    field: "counts",
                    index,
                    value: c,
                    reason: "more nonconforming units than inspected",
                });
            }
        }
    }
    Ok(())
}

fn sizes_constant(sizes: &[f64]) -> bool {
    sizes.iter().all(|&n| n == sizes[0])
}

/// Fraction-nonconforming chart; sizes may vary (then limits are per point).
pub fn p_chart(
    counts: &[f64],
    sizes: &[f64],
    opts: &ShewhartOptions,
) -> Result<ShewhartChart, QualityError> {
    check_attribute(counts, Some(sizes), true)?;
    need("p", "points", 1, counts.len())?;
    let stat: Vec<f64> = counts.iter().zip(sizes).map(|(c, n)| c / n).collect();
    let constant = sizes_constant(sizes);
    build("p", stat, opts, |mask| {
        let pbar = match opts.known_center {
            Some(p) => p,
            None => {
                need("p", "phase-I points", 1, count_of(mask))?;
                let (d, n) = (0..counts.len())
                    .filter(|&i| mask[i])
                    .fold((0.0, 0.0), |(d, n), i| (d + counts[i], n + sizes[i]));
                d / n
            }
        };
        let sig = |n: f64| (pbar * (1.0 - pbar) / n).sqrt();
        Ok(Estimate {
            center: Line::Constant(pbar),
            sigma_statistic: if constant {
                Line::Constant(sig(sizes[0]))
            } else {
                Line::PerPoint(sizes.iter().map(|&n| sig(n)).collect())
            },
            lower_floor: Some(0.0),
            upper_cap: Some(1.0),
            sigma: None,
            pbar: Some(pbar),
            secondary: None,
        })
    })
}

/// Number-nonconforming chart; the sample size must be constant.
pub fn np_chart(
    counts: &[f64],
    sizes: &[f64],
    opts: &ShewhartOptions,
) -> Result<ShewhartChart, QualityError> {
    check_attribute(counts, Some(sizes), true)?;
    need("np", "points", 1, counts.len())?;
    if let Some(index) = sizes.iter().position(|&n| n != sizes[0]) {
        return Err(QualityError::NonConstantSize {
            index,
            expected: sizes[0],
            found: sizes[index],
        });
    }
    let n = sizes[0];
    build("np", counts.to_vec(), opts, |mask| {
        let pbar = match opts.known_center {
            Some(p) => p,
            None => {
                need("np", "phase-I points", 1, count_of(mask))?;
                masked_mean(counts, mask) / n
            }
        };
        Ok(Estimate {
            center: Line::Constant(n * pbar),
            sigma_statistic: Line::Constant((n * pbar * (1.0 - pbar)).sqrt()),
            lower_floor: Some(0.0),
            upper_cap: Some(n),
            sigma: None,
            pbar: Some(pbar),
            secondary: None,
        })
    })
}

/// Nonconformities chart (constant inspection unit).
pub fn c_chart(counts: &[f64], opts: &ShewhartOptions) -> Result<ShewhartChart, QualityError> {
    check_attribute(counts, None, false)?;
    need("c", "points", 1, counts.len())?;
    build("c", counts.to_vec(), opts, |mask| {
        let cbar = center_of(opts, "c", counts, mask)?;
        Ok(Estimate {
            center: Line::Constant(cbar),
            sigma_statistic: Line::Constant(cbar.sqrt()),
            lower_floor: Some(0.0),
            upper_cap: None,
            sigma: None,
            pbar: None,
            secondary: None,
        })
    })
}

/// Nonconformities per unit; sizes (inspection units, may be fractional) may vary.
pub fn u_chart(
    counts: &[f64],
    sizes: &[f64],
    opts: &ShewhartOptions,
) -> Result<ShewhartChart, QualityError> {
    check_attribute(counts, Some(sizes), false)?;
    need("u", "points", 1, counts.len())?;
    let stat: Vec<f64> = counts.iter().zip(sizes).map(|(c, n)| c / n).collect();
    let constant = sizes_constant(sizes);
    build("u", stat, opts, |mask| {
        let ubar = match opts.known_center {
            Some(u) => u,
            None => {
                need("u", "phase-I points", 1, count_of(mask))?;
                let (c, n) = (0..counts.len())
                    .filter(|&i| mask[i])
                    .fold((0.0, 0.0), |(c, n), i| (c + counts[i], n + sizes[i]));
                c / n
            }
        };
        Ok(Estimate {
            center: Line::Constant(ubar),
            sigma_statistic: if constant {
                Line::Constant((ubar / sizes[0]).sqrt())
            } else {
                Line::PerPoint(sizes.iter().map(|&n| (ubar / n).sqrt()).collect())
            },
            lower_floor: Some(0.0),
            upper_cap: None,
            sigma: None,
            pbar: None,
            secondary: None,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_chart_zero_on_lcl_is_in_control() {
        let counts = [1.0, 0.0, 2.0, 1.0, 1.0];
        let c = c_chart(&counts, &ShewhartOptions::default()).unwrap();
        assert_eq!(c.lcl, Line::Constant(0.0));
        assert!(c.points_out_of_control.is_empty());
    }

    #[test]
    fn np_rejects_varying_sizes() {
        let e = np_chart(&[1.0, 2.0], &[50.0, 60.0], &ShewhartOptions::default()).unwrap_err();
        assert!(matches!(e, QualityError::NonConstantSize { index: 1, .. }));
    }

    #[test]
    fn p_rejects_count_above_size() {
        let e = p_chart(&[1.0, 70.0], &[50.0, 60.0], &ShewhartOptions::default()).unwrap_err();
        assert!(matches!(
            e,
            QualityError::InvalidValue {
                field: "counts",
                index: 1,
                ..
            }
        ));
    }

    #[test]
    fn standard_given_replaces_estimates() {
        let v = [1.0, 2.0, 3.0, 2.0, 1.0];
        let c = imr(
            &v,
            &ShewhartOptions {
                known_center: Some(2.0),
                known_sigma: Some(0.5),
                ..ShewhartOptions::default()
            },
        )
        .unwrap();
        assert_eq!((c.center.at(0), c.ucl.at(0), c.lcl.at(0)), (2.0, 3.5, 0.5));
        let mr = c.secondary.unwrap();
        let d2 = constants::d2(2).unwrap();
        assert!((mr.center - d2 * 0.5).abs() < 1e-15);
        let g = vec![vec![1.0, 2.0, 3.0], vec![2.0, 2.0, 2.5]];
        let c = xbar_s(
            &g,
            &ShewhartOptions {
                known_sigma: Some(1.0),
                ..ShewhartOptions::default()
            },
        )
        .unwrap();
        assert_eq!(c.sigma, Some(1.0));
        assert!((c.secondary.unwrap().center - constants::c4(3).unwrap()).abs() < 1e-15);
    }

    #[test]
    fn iteration_drops_outliers_from_phase1() {
        let mut v: Vec<f64> = (0..30).map(|i| 10.0 + f64::from(i % 3) * 0.1).collect();
        v[10] = 30.0;
        let plain = imr(&v, &ShewhartOptions::default()).unwrap();
        let it = imr(
            &v,
            &ShewhartOptions {
                iterate: true,
                ..ShewhartOptions::default()
            },
        )
        .unwrap();
        assert_eq!(it.phase1_excluded, Some(vec![10]));
        assert!(it.sigma.unwrap() < plain.sigma.unwrap());
        assert!(it.points_out_of_control.contains(&10));
    }
}
