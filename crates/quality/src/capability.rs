//! Process capability: Cp, Cpu, Cpl, Cpk (within σ) and Pp, Ppu, Ppl, Ppk (overall σ).
//!
//! `Cp = (USL−LSL)/(6σ_w)`, `Cpu = (USL−μ)/(3σ_w)`, `Cpl = (μ−LSL)/(3σ_w)`, `Cpk` = the
//! smaller defined one; the P indices use the overall sample standard deviation (n − 1, no
//! c4). μ is the mean of all values. A one-sided specification leaves Cp/Pp and the missing
//! side undefined (`None`, serialised as `null`).

use serde::{Deserialize, Serialize};

use crate::error::QualityError;
use crate::estimate::{Series, SigmaMethod, check_series, mean, sample_sd, sigma_within};

/// Specification and σ estimator.
#[derive(Debug, Clone, PartialEq)]
pub struct CapabilityOptions {
    /// Lower specification limit.
    pub lsl: Option<f64>,
    /// Upper specification limit.
    pub usl: Option<f64>,
    /// Within-σ estimator (default: R̄/d2 for subgroups, MR̄/d2 for individuals).
    pub sigma_method: Option<SigmaMethod>,
}

/// Capability indices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Capability {
    /// Mean of all values.
    pub mean: f64,
    /// Within-subgroup (short-term) σ.
    pub sigma_within: f64,
    /// Overall sample standard deviation.
    pub sigma_overall: f64,
    /// Potential capability (two-sided only).
    pub cp: Option<f64>,
    /// Upper capability.
    pub cpu: Option<f64>,
    /// Lower capability.
    pub cpl: Option<f64>,
    /// min(Cpu, Cpl) of the defined ones.
    pub cpk: Option<f64>,
    /// Performance (two-sided only).
    pub pp: Option<f64>,
    /// Upper performance.
    pub ppu: Option<f64>,
    /// Lower performance.
    pub ppl: Option<f64>,
    /// min(Ppu, Ppl) of the defined ones.
    pub ppk: Option<f64>,
}

fn indices(
    lsl: Option<f64>,
    usl: Option<f64>,
    mu: f64,
    s: f64,
) -> (Option<f64>, Option<f64>, Option<f64>, Option<f64>) {
    let p = match (lsl, usl) {
        (Some(l), Some(u)) => Some((u - l) / (6.0 * s)),
        _ => None,
    };
    let upper = usl.map(|u| (u - mu) / (3.0 * s));
    let lower = lsl.map(|l| (mu - l) / (3.0 * s));
    let k = match (upper, lower) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    (p, upper, lower, k)
}

/// Capability of individuals or subgroups against a one- or two-sided specification.
pub fn capability(
    series: Series<'_>,
    opts: &CapabilityOptions,
) -> Result<Capability, QualityError> {
    match (opts.lsl, opts.usl) {
        (None, None) => {
            return Err(QualityError::InvalidSpec {
                reason: "at least one of lsl and usl is needed",
            });
        }
        (Some(l), Some(u)) if l >= u => {
            return Err(QualityError::InvalidSpec {
                reason: "lsl must be below usl",
            });
        }
        (l, u) if l.is_some_and(|v| !v.is_finite()) || u.is_some_and(|v| !v.is_finite()) => {
            return Err(QualityError::InvalidSpec {
                reason: "specification limits must be finite",
            });
        }
        _ => {}
    }
    check_series("capability", series)?;
    let all: Vec<f64> = match series {
        Series::Individuals(v) => v.to_vec(),
        Series::Subgroups(s) => s.iter().flatten().copied().collect(),
    };
    if all.len() < 2 {
        return Err(QualityError::TooFewPoints {
            chart: "capability",
            what: "values",
            needed: 2,
            found: all.len(),
        });
    }
    let method = opts.sigma_method.unwrap_or(match series {
        Series::Individuals(_) => SigmaMethod::MrbarD2,
        Series::Subgroups(_) => SigmaMethod::RbarD2,
    });
    let mask = vec![true; series.len()];
    let sw = sigma_within("capability", series, &mask, method)?;
    let so = sample_sd(&all);
    for s in [sw, so] {
        if !(s > 0.0 && s.is_finite()) {
            return Err(QualityError::DegenerateSigma {
                chart: "capability",
                sigma: s,
            });
        }
    }
    let mu = mean(&all);
    let (cp, cpu, cpl, cpk) = indices(opts.lsl, opts.usl, mu, sw);
    let (pp, ppu, ppl, ppk) = indices(opts.lsl, opts.usl, mu, so);
    Ok(Capability {
        mean: mu,
        sigma_within: sw,
        sigma_overall: so,
        cp,
        cpu,
        cpl,
        cpk,
        pp,
        ppu,
        ppl,
        ppk,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_sided_leaves_cp_undefined() {
        let v = [1.0, 1.2, 0.9, 1.1, 1.0, 0.95];
        let c = capability(
            Series::Individuals(&v),
            &CapabilityOptions {
                lsl: None,
                usl: Some(2.0),
                sigma_method: None,
            },
        )
        .unwrap();
        assert!(c.cp.is_none() && c.cpl.is_none() && c.pp.is_none());
        assert_eq!(c.cpk, c.cpu);
    }

    #[test]
    fn missing_spec_is_an_error() {
        let e = capability(
            Series::Individuals(&[1.0, 2.0]),
            &CapabilityOptions {
                lsl: None,
                usl: None,
                sigma_method: None,
            },
        )
        .unwrap_err();
        assert!(matches!(e, QualityError::InvalidSpec { .. }));
    }
}
