//! Input validation and the phase-I estimators shared by the charts: phase-I masks, subgroup
//! shape checks, means, ranges, standard deviations, MR̄, R̄ and S̄.

use serde::{Deserialize, Serialize};

use crate::constants;
use crate::error::QualityError;

/// The charted series: individual values or equal-size subgroups.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Series<'a> {
    /// One value per plotted point.
    Individuals(&'a [f64]),
    /// One subgroup per plotted point (its mean is plotted).
    Subgroups(&'a [Vec<f64>]),
}

impl Series<'_> {
    /// Number of plotted points.
    pub fn len(&self) -> usize {
        match self {
            Series::Individuals(v) => v.len(),
            Series::Subgroups(s) => s.len(),
        }
    }

    /// Whether there is no point.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// How σ of one observation is estimated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SigmaMethod {
    /// R̄/d2(n), subgroups.
    RbarD2,
    /// S̄/c4(n), subgroups.
    SbarC4,
    /// MR̄/d2(2), individuals.
    MrbarD2,
}

model::wire_enum!(SigmaMethod, "sigma method", [RbarD2, SbarC4, MrbarD2]);

/// Checks every value is finite.
pub(crate) fn check_finite(field: &str, values: &[f64]) -> Result<(), QualityError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(QualityError::NonFinite {
            field: field.to_string(),
            index,
        }),
        None => Ok(()),
    }
}

/// Checks subgroups are non-empty, of equal size within `min..=max` and finite; returns n.
pub(crate) fn check_subgroups(
    chart: &'static str,
    subgroups: &[Vec<f64>],
    min: usize,
    max: usize,
) -> Result<usize, QualityError> {
    let Some(first) = subgroups.first() else {
        return Err(QualityError::TooFewPoints {
            chart,
            what: "subgroups",
            needed: 1,
            found: 0,
        });
    };
    let n = first.len();
    for (index, s) in subgroups.iter().enumerate() {
        if s.len() != n {
            return Err(QualityError::UnequalSubgroupSize {
                index,
                expected: n,
                found: s.len(),
            });
        }
        check_finite(&format!("subgroups[{index}]"), s)?;
    }
    if n < min || n > max {
        return Err(QualityError::SubgroupSize {
            chart,
            size: n,
            min,
            max,
        });
    }
    Ok(n)
}

/// Validates `phase1_indices` against a series of `len` points and returns a mask
/// (all points when `None`).
pub(crate) fn phase1_mask(phase1: Option<&[usize]>, len: usize) -> Result<Vec<bool>, QualityError> {
    let Some(idx) = phase1 else {
        return Ok(vec![true; len]);
    };
    let mut mask = vec![false; len];
    for (position, &index) in idx.iter().enumerate() {
        if index >= len {
            return Err(QualityError::BadPhase1Index {
                position,
                index,
                len,
                reason: "out of range",
            });
        }
        if mask[index] {
            return Err(QualityError::BadPhase1Index {
                position,
                index,
                len,
                reason: "repeated",
            });
        }
        mask[index] = true;
    }
    Ok(mask)
}

/// Requires at least `needed` phase-I points.
pub(crate) fn need(
    chart: &'static str,
    what: &'static str,
    needed: usize,
    found: usize,
) -> Result<(), QualityError> {
    if found < needed {
        Err(QualityError::TooFewPoints {
            chart,
            what,
            needed,
            found,
        })
    } else {
        Ok(())
    }
}

/// Arithmetic mean.
pub fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// Range max − min.
pub fn range(v: &[f64]) -> f64 {
    let (lo, hi) = v
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        });
    hi - lo
}

/// Sample standard deviation (n − 1 divisor, two-pass).
pub fn sample_sd(v: &[f64]) -> f64 {
    let m = mean(v);
    (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (v.len() as f64 - 1.0)).sqrt()
}

/// Mean of the selected entries of `v`.
pub(crate) fn masked_mean(v: &[f64], mask: &[bool]) -> f64 {
    let (s, c) = v
        .iter()
        .zip(mask)
        .filter(|(_, m)| **m)
        .fold((0.0, 0usize), |(s, c), (x, _)| (s + x, c + 1));
    s / c as f64
}

/// MR̄ over consecutive pairs (j, j+1) both selected; returns (MR̄, number of ranges).
pub(crate) fn mr_bar(v: &[f64], mask: &[bool]) -> (f64, usize) {
    let (s, c) = (1..v.len())
        .filter(|&j| mask[j - 1] && mask[j])
        .fold((0.0, 0usize), |(s, c), j| {
            (s + (v[j] - v[j - 1]).abs(), c + 1)
        });
    (s / c as f64, c)
}

/// σ of one observation from phase-I data with the given method.
pub(crate) fn sigma_within(
    chart: &'static str,
    series: Series<'_>,
    mask: &[bool],
    method: SigmaMethod,
) -> Result<f64, QualityError> {
    let count = mask.iter().filter(|m| **m).count();
    match (series, method) {
        (Series::Individuals(v), SigmaMethod::MrbarD2) => {
            let (mr, c) = mr_bar(v, mask);
            need(chart, "consecutive phase-I points (one moving range)", 1, c)?;
            Ok(mr / constants::d2(2).unwrap_or(f64::NAN))
        }
        (Series::Subgroups(s), SigmaMethod::MrbarD2) => {
            let flat: Vec<f64> = s
                .iter()
                .zip(mask)
                .filter(|(_, m)| **m)
                .flat_map(|(g, _)| g.iter().copied())
                .collect();
            need(chart, "phase-I values", 2, flat.len())?;
            let (mr, _) = mr_bar(&flat, &vec![true; flat.len()]);
            Ok(mr / constants::d2(2).unwrap_or(f64::NAN))
        }
        (Series::Subgroups(s), SigmaMethod::RbarD2) => {
            need(chart, "phase-I subgroups", 1, count)?;
            let n = s[0].len();
            let r: Vec<f64> = s.iter().map(|g| range(g)).collect();
            let d2 = constants::d2(n).ok_or(QualityError::SubgroupSize {
                chart,
                size: n,
                min: constants::MIN_N,
                max: constants::MAX_N,
            })?;
            Ok(masked_mean(&r, mask) / d2)
        }
        (Series::Subgroups(s), SigmaMethod::SbarC4) => {
            need(chart, "phase-I subgroups", 1, count)?;
            let n = s[0].len();
            let sd: Vec<f64> = s.iter().map(|g| sample_sd(g)).collect();
            let c4 = constants::c4(n).ok_or(QualityError::SubgroupSize {
                chart,
                size: n,
                min: 2,
                max: usize::MAX,
            })?;
            Ok(masked_mean(&sd, mask) / c4)
        }
        (Series::Individuals(_), m) => Err(QualityError::InvalidField {
            section: "params",
            field: "sigma_method".into(),
            reason: format!("{m:?} needs subgroups; individuals support only mrbar_d2"),
        }),
    }
}

/// The plotted values: the values themselves or the subgroup means.
pub(crate) fn plotted(series: Series<'_>) -> Vec<f64> {
    match series {
        Series::Individuals(v) => v.to_vec(),
        Series::Subgroups(s) => s.iter().map(|g| mean(g)).collect(),
    }
}

/// Validates a series for EWMA, CUSUM and capability; returns the subgroup size (1 for
/// individuals).
pub(crate) fn check_series(chart: &'static str, series: Series<'_>) -> Result<usize, QualityError> {
    match series {
        Series::Individuals(v) => {
            check_finite("values", v)?;
            need(chart, "points", 1, v.len())?;
            Ok(1)
        }
        Series::Subgroups(s) => check_subgroups(chart, s, 2, constants::MAX_N),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phase1_errors_name_position() {
        assert!(matches!(
            phase1_mask(Some(&[0, 5]), 3),
            Err(QualityError::BadPhase1Index {
                position: 1,
                index: 5,
                ..
            })
        ));
        assert!(matches!(
            phase1_mask(Some(&[1, 1]), 3),
            Err(QualityError::BadPhase1Index {
                reason: "repeated",
                ..
            })
        ));
    }

    #[test]
    fn subgroup_checks() {
        let s = vec![vec![1.0, 2.0], vec![1.0]];
        assert!(matches!(
            check_subgroups("xbar_r", &s, 2, 25),
            Err(QualityError::UnequalSubgroupSize {
                index: 1,
                expected: 2,
                found: 1
            })
        ));
        let s = vec![vec![1.0], vec![2.0]];
        assert!(matches!(
            check_subgroups("xbar_r", &s, 2, 25),
            Err(QualityError::SubgroupSize { size: 1, .. })
        ));
    }

    #[test]
    fn basic_stats() {
        assert_eq!(range(&[3.0, 1.0, 2.0]), 2.0);
        assert!((sample_sd(&[1.0, 2.0, 3.0]) - 1.0).abs() < 1e-15);
        assert_eq!(mr_bar(&[1.0, 3.0, 2.0], &[true, true, true]), (1.5, 2));
    }
}
