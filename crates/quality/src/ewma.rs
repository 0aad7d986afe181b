//! EWMA chart with time-varying limits (and the asymptotic ones).
//!
//! `z_i = λ·x_i + (1−λ)·z_{i−1}`, `z_0 = target`; limits at point i (1-based)
//! `target ± L·σ_x·sqrt(λ/(2−λ)·(1−(1−λ)^{2i}))` with `σ_x = σ/√n`. The target defaults to the
//! phase-I mean of the plotted values, σ to the phase-I estimate (R̄/d2 for subgroups, MR̄/d2(2)
//! for individuals, or the named `sigma_method`).

use serde::{Deserialize, Serialize};

use crate::error::QualityError;
use crate::estimate::{
    Series, SigmaMethod, check_series, masked_mean, phase1_mask, plotted, sigma_within,
};

/// EWMA parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct EwmaOptions {
    /// Smoothing weight, 0 < λ ≤ 1.
    pub lambda: f64,
    /// Limit width in σ of the EWMA statistic.
    pub l: f64,
    /// Known target (phase-I mean when `None`).
    pub target: Option<f64>,
    /// Known σ of one observation (estimated when `None`).
    pub sigma: Option<f64>,
    /// Estimator when σ is estimated (default: R̄/d2 for subgroups, MR̄/d2 for individuals).
    pub sigma_method: Option<SigmaMethod>,
    /// Phase-I points (all when `None`).
    pub phase1_indices: Option<Vec<usize>>,
}

/// An EWMA chart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EwmaChart {
    /// z_1..z_N.
    pub ewma: Vec<f64>,
    /// Center (= target).
    pub center: f64,
    /// Time-varying upper limits.
    pub ucl: Vec<f64>,
    /// Time-varying lower limits.
    pub lcl: Vec<f64>,
    /// Asymptotic upper limit.
    pub ucl_asymptotic: f64,
    /// Asymptotic lower limit.
    pub lcl_asymptotic: f64,
    /// Points beyond the time-varying limits.
    pub points_out_of_control: Vec<usize>,
    /// Points beyond the asymptotic limits.
    pub points_out_of_control_asymptotic: Vec<usize>,
    /// Target used.
    pub target: f64,
    /// σ of one observation.
    pub sigma: f64,
    /// σ of a plotted point, σ/√n.
    pub sigma_statistic: f64,
}

/// Resolves target and σ for EWMA/CUSUM: returns (plotted values, target, σ, σ/√n).
pub(crate) fn resolve(
    chart: &'static str,
    series: Series<'_>,
    target: Option<f64>,
    sigma: Option<f64>,
    method: Option<SigmaMethod>,
    phase1: Option<&[usize]>,
) -> Result<(Vec<f64>, f64, f64, f64), QualityError> {
    let n = check_series(chart, series)?;
    let x = plotted(series);
    let mask = phase1_mask(phase1, x.len())?;
    if !mask.iter().any(|m| *m) {
        return Err(QualityError::TooFewPoints {
            chart,
            what: "phase-I points",
            needed: 1,
            found: 0,
        });
    }
    let target = match target {
        Some(t) => t,
        None => masked_mean(&x, &mask),
    };
    let sigma = match sigma {
        Some(s) => s,
        None => {
            let method = method.unwrap_or(match series {
                Series::Individuals(_) => SigmaMethod::MrbarD2,
                Series::Subgroups(_) => SigmaMethod::RbarD2,
            });
            sigma_within(chart, series, &mask, method)?
        }
    };
    if !(sigma > 0.0 && sigma.is_finite()) {
        return Err(QualityError::DegenerateSigma { chart, sigma });
    }
    if !target.is_finite() {
        return Err(QualityError::InvalidField {
            section: "params",
            field: "target".into(),
            reason: "must be finite".into(),
        });
    }
    Ok((x, target, sigma, sigma / (n as f64).sqrt()))
}

/// EWMA chart of individuals or subgroup means.
pub fn ewma(series: Series<'_>, opts: &EwmaOptions) -> Result<EwmaChart, QualityError> {
    let lambda = opts.lambda;
    if !(lambda > 0.0 && lambda <= 1.0) {
        return Err(QualityError::InvalidField {
            section: "params",
            field: "lambda".into(),
            reason: format!("must be in (0, 1], got {lambda}"),
        });
    }
    if !(opts.l > 0.0 && opts.l.is_finite()) {
        return Err(QualityError::InvalidField {
            section: "params",
            field: "L".into(),
            reason: format!("must be positive, got {}", opts.l),
        });
    }
    let (x, target, sigma, sx) = resolve(
        "ewma",
        series,
        opts.target,
        opts.sigma,
        opts.sigma_method,
        opts.phase1_indices.as_deref(),
    )?;
    let ratio = lambda / (2.0 - lambda);
    let w = opts.l * sx;
    let mut z = target;
    let mut out = EwmaChart {
        ewma: Vec::with_capacity(x.len()),
        center: target,
        ucl: Vec::with_capacity(x.len()),
        lcl: Vec::with_capacity(x.len()),
        ucl_asymptotic: target + w * ratio.sqrt(),
        lcl_asymptotic: target - w * ratio.sqrt(),
        points_out_of_control: Vec::new(),
        points_out_of_control_asymptotic: Vec::new(),
        target,
        sigma,
        sigma_statistic: sx,
    };
    let q = (1.0 - lambda) * (1.0 - lambda);
    let mut qpow = 1.0;
    for (i, &xi) in x.iter().enumerate() {
        z = lambda * xi + (1.0 - lambda) * z;
        qpow *= q;
        let half = w * (ratio * (1.0 - qpow)).sqrt();
        let (u, l) = (target + half, target - half);
        if z > u || z < l {
            out.points_out_of_control.push(i);
        }
        if z > out.ucl_asymptotic || z < out.lcl_asymptotic {
            out.points_out_of_control_asymptotic.push(i);
        }
        out.ewma.push(z);
        out.ucl.push(u);
        out.lcl.push(l);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_limit_is_lambda_wide() {
        let v = [0.0, 0.0, 0.0];
        let c = ewma(
            Series::Individuals(&v),
            &EwmaOptions {
                lambda: 0.2,
                l: 3.0,
                target: Some(0.0),
                sigma: Some(1.0),
                sigma_method: None,
                phase1_indices: None,
            },
        )
        .unwrap();
        assert!((c.ucl[0] - 3.0 * 0.2).abs() < 1e-15);
        assert!(c.ucl[2] < c.ucl_asymptotic);
    }

    #[test]
    fn lambda_out_of_range() {
        let e = ewma(
            Series::Individuals(&[1.0, 2.0]),
            &EwmaOptions {
                lambda: 1.5,
                l: 3.0,
                target: None,
                sigma: None,
                sigma_method: None,
                phase1_indices: None,
            },
        )
        .unwrap_err();
        assert!(matches!(e, QualityError::InvalidField { ref field, .. } if field == "lambda"));
    }
}
