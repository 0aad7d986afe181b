//! Cross-mode root-cause ranking: which upstream process parameters best explain a
//! downstream defect signal.
//!
//! The caller joins items to their upstream parameter values through genealogy (items that
//! share a batch share its values — ties are handled). For a boolean defect each parameter
//! gets Cliff's delta (= the rank-biserial correlation, `P(def > good) − P(def < good)`) as
//! effect size and a two-sided Mann–Whitney U test (normal approximation with tie and
//! continuity correction); for a numeric defect, Spearman's ρ with a t-approximation
//! p-value. Parameters are ranked by |effect| descending, then p-value ascending, then name;
//! parameters without enough data come last. Missing values (`None`) drop that item for that
//! parameter only.

use std::cmp::Ordering;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::special::{beta_inc, erfc};

/// The downstream defect signal, one entry per item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DefectSignal {
    /// Item failed (true) or passed (false).
    Boolean(Vec<bool>),
    /// A numeric defect measure (defect count, leak rate, ...).
    Numeric(Vec<f64>),
}

impl DefectSignal {
    fn len(&self) -> usize {
        match self {
            DefectSignal::Boolean(v) => v.len(),
            DefectSignal::Numeric(v) => v.len(),
        }
    }
}

/// One upstream parameter's value for each item (`None` when genealogy gives none).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParameterValues {
    /// Parameter name (`reactor_3.temperature_peak`).
    pub name: String,
    /// Value per item, aligned with the defect signal.
    pub values: Vec<Option<f64>>,
}

/// Statistical method used for a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Cliff's delta with a Mann–Whitney U test (boolean defect).
    MannWhitney,
    /// Spearman rank correlation (numeric defect).
    Spearman,
}

/// How strongly one parameter is associated with the defect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Association {
    /// Parameter name.
    pub name: String,
    /// Method used.
    pub method: Method,
    /// Items with a value for this parameter.
    pub n: usize,
    /// Of those, defective items (boolean signal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n_defective: Option<usize>,
    /// Of those, good items (boolean signal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n_good: Option<usize>,
    /// Signed effect: Cliff's delta (positive = defective items have higher values) or ρ.
    pub effect: Option<f64>,
    /// Test statistic: U of the defective group, or ρ.
    pub statistic: Option<f64>,
    /// Normal-approximation z (Mann–Whitney) or t (Spearman).
    pub z: Option<f64>,
    /// Two-sided p-value.
    pub p_value: Option<f64>,
}

/// Why a ranking could not be computed.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum RootCauseError {
    /// A parameter's value list is not aligned with the defect signal.
    #[error("parameter `{parameter}` has {found} values but there are {expected} items")]
    LengthMismatch {
        /// Parameter name.
        parameter: String,
        /// Number of items.
        expected: usize,
        /// Number of values.
        found: usize,
    },
    /// A value is NaN or infinite.
    #[error("parameter `{parameter}` has a non-finite value at item {index}")]
    NonFinite {
        /// Parameter name (or `defect`).
        parameter: String,
        /// Item index.
        index: usize,
    },
    /// Two parameters share a name.
    #[error("parameter name `{0}` appears twice")]
    DuplicateName(String),
}

/// Mid-ranks (1-based) of `v`, and Σ(t³ − t) over tie groups.
fn midranks(v: &[f64]) -> (Vec<f64>, f64) {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut ranks = vec![0.0; v.len()];
    let mut ties = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && v[order[j + 1]] == v[order[i]] {
            j += 1;
        }
        let r = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            ranks[k] = r;
        }
        let t = (j - i + 1) as f64;
        ties += t * t * t - t;
        i = j + 1;
    }
    (ranks, ties)
}

fn mann_whitney(name: &str, x: &[f64], defective: &[bool]) -> Association {
    let n = x.len();
    let n1 = defective.iter().filter(|d| **d).count();
    let n2 = n - n1;
    let mut a = Association {
        name: name.to_string(),
        method: Method::MannWhitney,
        n,
        n_defective: Some(n1),
        n_good: Some(n2),
        effect: None,
        statistic: None,
        z: None,
        p_value: None,
    };
    if n1 == 0 || n2 == 0 {
        return a;
    }
    let (ranks, ties) = midranks(x);
    let r1: f64 = ranks
        .iter()
        .zip(defective)
        .filter(|(_, d)| **d)
        .map(|(r, _)| r)
        .sum();
    let (f1, f2, nf) = (n1 as f64, n2 as f64, n as f64);
    let u1 = r1 - f1 * (f1 + 1.0) / 2.0;
    let mean = f1 * f2 / 2.0;
    let var = f1 * f2 / 12.0 * ((nf + 1.0) - ties / (nf * (nf - 1.0)));
    a.effect = Some(2.0 * u1 / (f1 * f2) - 1.0);
    a.statistic = Some(u1);
    if var > 0.0 {
        let d = u1 - mean;
        let cc = d.abs().min(0.5);
        let z = (d - cc * d.signum()) / var.sqrt();
        a.z = Some(z);
        a.p_value = Some(erfc(z.abs() / std::f64::consts::SQRT_2).min(1.0));
    } else {
        a.z = Some(0.0);
        a.p_value = Some(1.0);
    }
    a
}

fn spearman(name: &str, x: &[f64], y: &[f64]) -> Association {
    let n = x.len();
    let mut a = Association {
        name: name.to_string(),
        method: Method::Spearman,
        n,
        n_defective: None,
        n_good: None,
        effect: None,
        statistic: None,
        z: None,
        p_value: None,
    };
    if n < 3 {
        return a;
    }
    let (rx, _) = midranks(x);
    let (ry, _) = midranks(y);
    let m = (n as f64 + 1.0) / 2.0;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in rx.iter().zip(&ry) {
        sxy += (a - m) * (b - m);
        sxx += (a - m) * (a - m);
        syy += (b - m) * (b - m);
    }
    if sxx == 0.0 || syy == 0.0 {
        return a;
    }
    let rho = (sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0);
    let df = n as f64 - 2.0;
    a.effect = Some(rho);
    a.statistic = Some(rho);
    if rho.abs() >= 1.0 {
        a.z = Some(f64::INFINITY.copysign(rho));
        a.p_value = Some(0.0);
    } else {
        let t = rho * (df / (1.0 - rho * rho)).sqrt();
        a.z = Some(t);
        a.p_value = Some(beta_inc(df / 2.0, 0.5, df / (df + t * t)).0);
    }
    a
}

fn order(a: &Association, b: &Association) -> Ordering {
    let key = |x: &Association| x.effect.map(f64::abs);
    match (key(a), key(b)) {
        (Some(x), Some(y)) => y
            .total_cmp(&x)
            .then_with(|| {
                a.p_value
                    .unwrap_or(1.0)
                    .total_cmp(&b.p_value.unwrap_or(1.0))
            })
            .then_with(|| a.name.cmp(&b.name)),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.name.cmp(&b.name),
    }
}

/// Ranks parameters by strength of association with the defect signal, strongest first.
pub fn rank(
    defect: &DefectSignal,
    parameters: &[ParameterValues],
) -> Result<Vec<Association>, RootCauseError> {
    let n = defect.len();
    if let DefectSignal::Numeric(v) = defect
        && let Some(index) = v.iter().position(|x| !x.is_finite())
    {
        return Err(RootCauseError::NonFinite {
            parameter: "defect".into(),
            index,
        });
    }
    let mut names: Vec<&str> = parameters.iter().map(|p| p.name.as_str()).collect();
    names.sort_unstable();
    if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
        return Err(RootCauseError::DuplicateName(w[0].to_string()));
    }
    let mut out = Vec::with_capacity(parameters.len());
    for p in parameters {
        if p.values.len() != n {
            return Err(RootCauseError::LengthMismatch {
                parameter: p.name.clone(),
                expected: n,
                found: p.values.len(),
            });
        }
        if let Some(index) = p
            .values
            .iter()
            .position(|v| v.is_some_and(|x| !x.is_finite()))
        {
            return Err(RootCauseError::NonFinite {
                parameter: p.name.clone(),
                index,
            });
        }
        let present: Vec<usize> = (0..n).filter(|&i| p.values[i].is_some()).collect();
        let x: Vec<f64> = present.iter().filter_map(|&i| p.values[i]).collect();
        out.push(match defect {
            DefectSignal::Boolean(d) => {
                let d: Vec<bool> = present.iter().map(|&i| d[i]).collect();
                mann_whitney(&p.name, &x, &d)
            }
            DefectSignal::Numeric(y) => {
                let y: Vec<f64> = present.iter().map(|&i| y[i]).collect();
                spearman(&p.name, &x, &y)
            }
        });
    }
    out.sort_by(order);
    Ok(out)
}

/// Convenience: rank against a boolean defect (fail = true).
pub fn rank_boolean(
    failed: &[bool],
    parameters: &[ParameterValues],
) -> Result<Vec<Association>, RootCauseError> {
    rank(&DefectSignal::Boolean(failed.to_vec()), parameters)
}

/// Convenience: rank against a numeric defect measure.
pub fn rank_numeric(
    defect: &[f64],
    parameters: &[ParameterValues],
) -> Result<Vec<Association>, RootCauseError> {
    rank(&DefectSignal::Numeric(defect.to_vec()), parameters)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Small deterministic generator for test data.
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> f64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    fn param(name: &str, v: Vec<f64>) -> ParameterValues {
        ParameterValues {
            name: name.into(),
            values: v.into_iter().map(Some).collect(),
        }
    }

    #[test]
    fn planted_cause_ranks_first_boolean() {
        // 40 batches of 5 items each: items share their batch's reactor temperature.
        let mut g = Lcg(7);
        let mut temp = Vec::new();
        let mut noise_a = Vec::new();
        let mut noise_b = Vec::new();
        let mut fail = Vec::new();
        for _ in 0..40 {
            let t = 180.0 + 10.0 * g.next();
            let a = g.next();
            for _ in 0..5 {
                temp.push(t);
                noise_a.push(a);
                noise_b.push(g.next());
                // Failures much likelier for hot batches.
                fail.push(g.next() < if t > 186.0 { 0.6 } else { 0.05 });
            }
        }
        let ranked = rank_boolean(
            &fail,
            &[
                param("coating.thickness", noise_b),
                param("reactor.temperature", temp),
                param("mixer.speed", noise_a),
            ],
        )
        .unwrap();
        assert_eq!(ranked[0].name, "reactor.temperature");
        assert!(ranked[0].effect.unwrap() > 0.4);
        assert!(ranked[0].p_value.unwrap() < 1e-6);
        assert_eq!(ranked[0].n, 200);
        assert!(ranked[1].p_value.unwrap() > 1e-3);
    }

    #[test]
    fn planted_cause_ranks_first_numeric_with_missing_values() {
        let mut g = Lcg(11);
        let n = 80;
        let x: Vec<f64> = (0..n).map(|_| g.next()).collect();
        let y: Vec<f64> = x.iter().map(|v| v * 3.0 + 0.3 * g.next()).collect();
        let mut cause = param("dryer.humidity", x);
        cause.values[3] = None;
        let ranked = rank_numeric(
            &y,
            &[param("a.noise", (0..n).map(|_| g.next()).collect()), cause],
        )
        .unwrap();
        assert_eq!(ranked[0].name, "dryer.humidity");
        assert_eq!(ranked[0].n, n - 1);
        assert!(ranked[0].effect.unwrap() > 0.9);
    }

    #[test]
    fn ties_broken_by_name_and_undefined_last() {
        let fail = [true, false, true, false];
        let v = vec![1.0, 2.0, 3.0, 4.0];
        let ranked = rank_boolean(
            &fail,
            &[
                param("zeta", v.clone()),
                param("alpha", v),
                ParameterValues {
                    name: "empty".into(),
                    values: vec![None; 4],
                },
            ],
        )
        .unwrap();
        let names: Vec<&str> = ranked.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["alpha", "zeta", "empty"]);
    }

    #[test]
    fn mann_whitney_known_value() {
        // Defective {3, 4, 5} vs good {1, 2}: U1 = 6 = n1·n2, delta = 1.
        let a = mann_whitney(
            "x",
            &[1.0, 2.0, 3.0, 4.0, 5.0],
            &[false, false, true, true, true],
        );
        assert_eq!(a.statistic, Some(6.0));
        assert_eq!(a.effect, Some(1.0));
        // σ² = 3·2/12·6 = 3; z = (6 − 3 − 0.5)/√3.
        assert!((a.z.unwrap() - 2.5 / 3f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn errors() {
        assert!(matches!(
            rank_boolean(&[true], &[param("a", vec![1.0, 2.0])]),
            Err(RootCauseError::LengthMismatch { .. })
        ));
        assert!(matches!(
            rank_boolean(&[true], &[param("a", vec![1.0]), param("a", vec![1.0])]),
            Err(RootCauseError::DuplicateName(_))
        ));
    }
}
