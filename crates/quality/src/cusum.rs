//! Tabular CUSUM.
//!
//! `C⁺_i = max(0, x_i − target − K + C⁺_{i−1})`, `C⁻_i = max(0, target − K − x_i + C⁻_{i−1})`,
//! `C_0 = headstart·σ_x`, `K = k·σ_x`, `H = h·σ_x`, `σ_x = σ/√n`. Signals are strict
//! (`C > H`) and the sums are never reset. Target and σ default to the phase-I estimates.

use serde::{Deserialize, Serialize};

use crate::error::QualityError;
use crate::estimate::{Series, SigmaMethod};
use crate::ewma::resolve;

/// CUSUM parameters (k, h and headstart in units of σ_x).
#[derive(Debug, Clone, PartialEq)]
pub struct CusumOptions {
    /// Reference value in σ_x.
    pub k: f64,
    /// Decision interval in σ_x.
    pub h: f64,
    /// Fast-initial-response headstart in σ_x (0 for none).
    pub headstart: f64,
    /// Known target (phase-I mean when `None`).
    pub target: Option<f64>,
    /// Known σ of one observation (estimated when `None`).
    pub sigma: Option<f64>,
    /// Estimator when σ is estimated.
    pub sigma_method: Option<SigmaMethod>,
    /// Phase-I points (all when `None`).
    pub phase1_indices: Option<Vec<usize>>,
}

/// A tabular CUSUM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(non_snake_case)]
pub struct CusumChart {
    /// Upper cumulative sums.
    pub c_plus: Vec<f64>,
    /// Lower cumulative sums (≥ 0).
    pub c_minus: Vec<f64>,
    /// K = k·σ_x.
    pub K: f64,
    /// H = h·σ_x.
    pub H: f64,
    /// Indices with C⁺ > H.
    pub signals_upper: Vec<usize>,
    /// Indices with C⁻ > H.
    pub signals_lower: Vec<usize>,
    /// Union of both signal lists.
    pub points_out_of_control: Vec<usize>,
    /// Target used.
    pub target: f64,
    /// σ of one observation.
    pub sigma: f64,
    /// σ_x = σ/√n.
    pub sigma_statistic: f64,
}

/// Tabular CUSUM of individuals or subgroup means.
pub fn cusum(series: Series<'_>, opts: &CusumOptions) -> Result<CusumChart, QualityError> {
    for (name, v) in [("k", opts.k), ("h", opts.h), ("headstart", opts.headstart)] {
        if !(v >= 0.0 && v.is_finite()) {
            return Err(QualityError::InvalidField {
                section: "params",
                field: name.into(),
                reason: format!("must be a finite number ≥ 0, got {v}"),
            });
        }
    }
    let (x, target, sigma, sx) = resolve(
        "cusum",
        series,
        opts.target,
        opts.sigma,
        opts.sigma_method,
        opts.phase1_indices.as_deref(),
    )?;
    let k = opts.k * sx;
    let h = opts.h * sx;
    let mut cp = opts.headstart * sx;
    let mut cm = cp;
    let mut out = CusumChart {
        c_plus: Vec::with_capacity(x.len()),
        c_minus: Vec::with_capacity(x.len()),
        K: k,
        H: h,
        signals_upper: Vec::new(),
        signals_lower: Vec::new(),
        points_out_of_control: Vec::new(),
        target,
        sigma,
        sigma_statistic: sx,
    };
    for (i, &xi) in x.iter().enumerate() {
        cp = (xi - target - k + cp).max(0.0);
        cm = (target - k - xi + cm).max(0.0);
        let (up, down) = (cp > h, cm > h);
        if up {
            out.signals_upper.push(i);
        }
        if down {
            out.signals_lower.push(i);
        }
        if up || down {
            out.points_out_of_control.push(i);
        }
        out.c_plus.push(cp);
        out.c_minus.push(cm);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upward_shift_signals_upper_only() {
        let v: Vec<f64> = (0..20).map(|i| if i < 10 { 0.0 } else { 2.0 }).collect();
        let c = cusum(
            Series::Individuals(&v),
            &CusumOptions {
                k: 0.5,
                h: 4.0,
                headstart: 0.0,
                target: Some(0.0),
                sigma: Some(1.0),
                sigma_method: None,
                phase1_indices: None,
            },
        )
        .unwrap();
        // C⁺ grows by 1.5 per point from index 10: 1.5, 3.0, 4.5 > 4 at index 12.
        assert_eq!(c.signals_upper.first(), Some(&12));
        assert!(c.signals_lower.is_empty());
    }
}
