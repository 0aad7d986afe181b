//! Hotelling T² charts for individual observations and for subgroups, phase I and phase II.
//!
//! Individuals (m observations of p variables): mean, covariance S (m − 1 divisor),
//! `T²_i = (x_i − x̄)ᵀS⁻¹(x_i − x̄)`; phase-I UCL `((m−1)²/m)·Beta_{1−α}(p/2, (m−p−1)/2)`,
//! phase-II UCL `p(m+1)(m−1)/(m²−mp)·F_{1−α}(p, m−p)`.
//!
//! Subgroups (m subgroups of n): grand mean, S = mean of the subgroup covariances,
//! `T²_j = n·dᵀS⁻¹d` with d the subgroup mean minus the grand mean; phase-I UCL
//! `p(m−1)(n−1)/(mn−m−p+1)·F_{1−α}(p, mn−m−p+1)`, phase II the same with (m+1).
//!
//! S⁻¹ is applied through a Cholesky factorisation; out of control is strictly above the UCL.

use serde::{Deserialize, Serialize};

use crate::error::QualityError;
use crate::estimate::check_finite;
use crate::special::{beta_upper_quantile, f_upper_quantile};

/// T² chart of individual observations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct T2Individual {
    /// Phase-I mean vector.
    pub mean: Vec<f64>,
    /// Phase-I covariance (m − 1 divisor).
    pub covariance: Vec<Vec<f64>>,
    /// Phase-I T² values.
    pub t2: Vec<f64>,
    /// Phase-I UCL (Beta quantile).
    pub ucl: f64,
    /// Lower limit, 0.
    pub lcl: f64,
    /// Phase-I points above `ucl`.
    pub points_out_of_control: Vec<usize>,
    /// Phase-II UCL (F quantile).
    pub ucl_phase2: f64,
    /// Phase-II T² values (when phase-II observations were given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub t2_phase2: Option<Vec<f64>>,
    /// Phase-II points above `ucl_phase2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points_out_of_control_phase2: Option<Vec<usize>>,
}

/// T² chart of subgroups.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct T2Subgroup {
    /// Grand mean.
    pub mean: Vec<f64>,
    /// Mean of the subgroup covariance matrices.
    pub covariance: Vec<Vec<f64>>,
    /// Subgroup mean vectors.
    pub subgroup_means: Vec<Vec<f64>>,
    /// Phase-I T² values.
    pub t2: Vec<f64>,
    /// Phase-I UCL.
    pub ucl: f64,
    /// Lower limit, 0.
    pub lcl: f64,
    /// Phase-I subgroups above `ucl`.
    pub points_out_of_control: Vec<usize>,
    /// Phase-II UCL.
    pub ucl_phase2: f64,
    /// Phase-II T² values (when phase-II subgroups were given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub t2_phase2: Option<Vec<f64>>,
    /// Phase-II subgroups above `ucl_phase2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points_out_of_control_phase2: Option<Vec<usize>>,
}

/// Lower-triangular Cholesky factor of a symmetric positive-definite matrix.
struct Cholesky {
    l: Vec<Vec<f64>>,
}

impl Cholesky {
    fn new(a: &[Vec<f64>]) -> Result<Self, QualityError> {
        let p = a.len();
        let mut l = vec![vec![0.0; p]; p];
        for i in 0..p {
            for j in 0..=i {
                let s: f64 = a[i][j] - (0..j).map(|k| l[i][k] * l[j][k]).sum::<f64>();
                if i == j {
                    if !(s > 0.0 && s.is_finite()) {
                        return Err(QualityError::SingularCovariance { pivot: i });
                    }
                    l[i][i] = s.sqrt();
                } else {
                    l[i][j] = s / l[j][j];
                }
            }
        }
        Ok(Cholesky { l })
    }

    /// dᵀA⁻¹d = |L⁻¹d|².
    fn quad(&self, d: &[f64]) -> f64 {
        let p = d.len();
        let mut y = vec![0.0; p];
        let mut q = 0.0;
        for i in 0..p {
            let s = d[i] - (0..i).map(|k| self.l[i][k] * y[k]).sum::<f64>();
            y[i] = s / self.l[i][i];
            q += y[i] * y[i];
        }
        q
    }
}

fn check_alpha(alpha: f64) -> Result<(), QualityError> {
    if alpha > 0.0 && alpha < 1.0 {
        Ok(())
    } else {
        Err(QualityError::InvalidField {
            section: "params",
            field: "alpha".into(),
            reason: format!("must be in (0, 1), got {alpha}"),
        })
    }
}

fn check_rows(field: &str, rows: &[Vec<f64>], p: usize) -> Result<(), QualityError> {
    for (i, r) in rows.iter().enumerate() {
        if r.len() != p {
            return Err(QualityError::InvalidField {
                section: "data",
                field: format!("{field}[{i}]"),
                reason: format!("has {} variables, expected {p}", r.len()),
            });
        }
        check_finite(&format!("{field}[{i}]"), r)?;
    }
    Ok(())
}

fn mean_vec(rows: &[Vec<f64>], p: usize) -> Vec<f64> {
    (0..p)
        .map(|j| rows.iter().map(|r| r[j]).sum::<f64>() / rows.len() as f64)
        .collect()
}

fn covariance(rows: &[Vec<f64>], mean: &[f64]) -> Vec<Vec<f64>> {
    let p = mean.len();
    let m = rows.len() as f64;
    let mut c = vec![vec![0.0; p]; p];
    for a in 0..p {
        for b in 0..=a {
            let s = rows
                .iter()
                .map(|r| (r[a] - mean[a]) * (r[b] - mean[b]))
                .sum::<f64>()
                / (m - 1.0);
            c[a][b] = s;
            c[b][a] = s;
        }
    }
    c
}

fn diff(x: &[f64], m: &[f64]) -> Vec<f64> {
    x.iter().zip(m).map(|(a, b)| a - b).collect()
}

fn above(v: &[f64], ucl: f64) -> Vec<usize> {
    v.iter()
        .enumerate()
        .filter(|(_, t)| **t > ucl)
        .map(|(i, _)| i)
        .collect()
}

/// T² for individual observations (m × p), with optional phase-II observations.
pub fn t2_individual(
    observations: &[Vec<f64>],
    phase2: Option<&[Vec<f64>]>,
    alpha: f64,
) -> Result<T2Individual, QualityError> {
    check_alpha(alpha)?;
    let p = observations.first().map_or(0, Vec::len);
    if p == 0 {
        return Err(QualityError::InvalidField {
            section: "data",
            field: "observations".into(),
            reason: "needs at least one observation of at least one variable".into(),
        });
    }
    check_rows("observations", observations, p)?;
    let m = observations.len();
    if m < p + 2 {
        return Err(QualityError::TooFewPoints {
            chart: "t2_individual",
            what: "observations (p + 2)",
            needed: p + 2,
            found: m,
        });
    }
    if let Some(p2) = phase2 {
        check_rows("phase2_observations", p2, p)?;
    }
    let mean = mean_vec(observations, p);
    let cov = covariance(observations, &mean);
    let ch = Cholesky::new(&cov)?;
    let t2: Vec<f64> = observations
        .iter()
        .map(|x| ch.quad(&diff(x, &mean)))
        .collect();
    let (mf, pf) = (m as f64, p as f64);
    let ucl =
        (mf - 1.0) * (mf - 1.0) / mf * beta_upper_quantile(pf / 2.0, (mf - pf - 1.0) / 2.0, alpha);
    let ucl_phase2 =
        pf * (mf + 1.0) * (mf - 1.0) / (mf * mf - mf * pf) * f_upper_quantile(pf, mf - pf, alpha);
    let t2_phase2: Option<Vec<f64>> =
        phase2.map(|rows| rows.iter().map(|x| ch.quad(&diff(x, &mean))).collect());
    Ok(T2Individual {
        points_out_of_control: above(&t2, ucl),
        points_out_of_control_phase2: t2_phase2.as_deref().map(|t| above(t, ucl_phase2)),
        mean,
        covariance: cov,
        t2,
        ucl,
        lcl: 0.0,
        ucl_phase2,
        t2_phase2,
    })
}

/// T² for subgroups (m × n × p), with optional phase-II subgroups of the same n.
pub fn t2_subgroup(
    subgroups: &[Vec<Vec<f64>>],
    phase2: Option<&[Vec<Vec<f64>>]>,
    alpha: f64,
) -> Result<T2Subgroup, QualityError> {
    check_alpha(alpha)?;
    let m = subgroups.len();
    let n = subgroups.first().map_or(0, Vec::len);
    let p = subgroups
        .first()
        .and_then(|g| g.first())
        .map_or(0, Vec::len);
    if p == 0 {
        return Err(QualityError::InvalidField {
            section: "data",
            field: "subgroups".into(),
            reason: "needs subgroups of observations of at least one variable".into(),
        });
    }
    let check = |field: &str, groups: &[Vec<Vec<f64>>]| -> Result<(), QualityError> {
        for (i, g) in groups.iter().enumerate() {
            if g.len() != n {
                return Err(QualityError::UnequalSubgroupSize {
                    index: i,
                    expected: n,
                    found: g.len(),
                });
            }
            check_rows(&format!("{field}[{i}]"), g, p)?;
        }
        Ok(())
    };
    check("subgroups", subgroups)?;
    if n < 2 {
        return Err(QualityError::SubgroupSize {
            chart: "t2_subgroup",
            size: n,
            min: 2,
            max: usize::MAX,
        });
    }
    let dof = (m * n) as i64 - m as i64 - p as i64 + 1;
    if m < 2 || dof < 1 {
        return Err(QualityError::TooFewPoints {
            chart: "t2_subgroup",
            what: "subgroups (m·n − m − p + 1 ≥ 1)",
            needed: (p + n) / (n - 1) + 1,
            found: m,
        });
    }
    if let Some(p2) = phase2 {
        check("phase2_subgroups", p2)?;
    }
    let subgroup_means: Vec<Vec<f64>> = subgroups.iter().map(|g| mean_vec(g, p)).collect();
    let mean = mean_vec(&subgroup_means, p);
    let mut cov = vec![vec![0.0; p]; p];
    for (g, gm) in subgroups.iter().zip(&subgroup_means) {
        let c = covariance(g, gm);
        for a in 0..p {
            for b in 0..p {
                cov[a][b] += c[a][b];
            }
        }
    }
    for row in &mut cov {
        for v in row.iter_mut() {
            *v /= m as f64;
        }
    }
    let ch = Cholesky::new(&cov)?;
    let nf = n as f64;
    let t2_of = |gm: &[f64]| nf * ch.quad(&diff(gm, &mean));
    let t2: Vec<f64> = subgroup_means.iter().map(|gm| t2_of(gm)).collect();
    let (mf, pf, df) = (m as f64, p as f64, dof as f64);
    let f = f_upper_quantile(pf, df, alpha);
    let ucl = pf * (mf - 1.0) * (nf - 1.0) / df * f;
    let ucl_phase2 = pf * (mf + 1.0) * (nf - 1.0) / df * f;
    let t2_phase2: Option<Vec<f64>> =
        phase2.map(|groups| groups.iter().map(|g| t2_of(&mean_vec(g, p))).collect());
    Ok(T2Subgroup {
        points_out_of_control: above(&t2, ucl),
        points_out_of_control_phase2: t2_phase2.as_deref().map(|t| above(t, ucl_phase2)),
        mean,
        covariance: cov,
        subgroup_means,
        t2,
        ucl,
        lcl: 0.0,
        ucl_phase2,
        t2_phase2,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn univariate_t2_is_squared_z() {
        let obs: Vec<Vec<f64>> = [1.0, 2.0, 4.0, 3.0, 5.0].iter().map(|v| vec![*v]).collect();
        let r = t2_individual(&obs, None, 0.05).unwrap();
        // mean 3, variance 2.5: T² of 5 is 4/2.5.
        assert!((r.t2[4] - 1.6).abs() < 1e-14);
    }

    #[test]
    fn singular_covariance_is_reported() {
        let obs: Vec<Vec<f64>> = (0..6)
            .map(|i| vec![f64::from(i), 2.0 * f64::from(i)])
            .collect();
        assert!(matches!(
            t2_individual(&obs, None, 0.01),
            Err(QualityError::SingularCovariance { .. })
        ));
    }
}
