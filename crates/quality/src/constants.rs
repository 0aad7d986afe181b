//! Control-chart constants d2, d3, c4 and the factors derived from them, for subgroup sizes
//! 2..=25, at full double precision.
//!
//! * d2(n) = E[R/σ] and d3(n) = sd[R/σ] for the range R of n standard normal values. They are
//!   hard-coded: the values are those of the shared test vector
//!   `control_chart_constants_n2_25.json`, computed there by numerical integration of the
//!   range distribution (and cross-checked against qcc with exact constants). A unit test
//!   re-derives d2 by quadrature of `∫ 1 − Φ(x)ⁿ − (1 − Φ(x))ⁿ dx`.
//! * c4(n) = sqrt(2/(n−1))·Γ(n/2)/Γ((n−1)/2), computed from log-gamma.
//! * A2 = 3/(d2√n), A3 = 3/(c4√n), E2 = 3/d2, D3 = max(0, 1 − 3d3/d2), D4 = 1 + 3d3/d2,
//!   B3 = max(0, 1 − 3√(1−c4²)/c4), B4 = 1 + 3√(1−c4²)/c4.
//!
//! The 3-decimal textbook tables differ from these by up to 4e-4 relative and must not be
//! used.

use serde::{Deserialize, Serialize};

use crate::special::ln_gamma;

/// Smallest subgroup size with tabulated constants.
pub const MIN_N: usize = 2;
/// Largest subgroup size with tabulated constants.
pub const MAX_N: usize = 25;

const D2: [f64; 24] = [
    1.1283791670955128,
    1.6925687506432687,
    2.0587507460079286,
    2.3259289472810396,
    2.5344127212229424,
    2.704356751213809,
    2.847200612090554,
    2.9700263244184737,
    3.0775054616703454,
    3.172872703816,
    3.258455279743826,
    3.3359803540982544,
    3.406763108199953,
    3.471826889882075,
    3.5319827861095754,
    3.5878839617653817,
    3.6400637579374435,
    3.6889630232076493,
    3.73495011959664,
    3.77833582984262,
    3.819384643362833,
    3.8583234232850065,
    3.8953481484513555,
    3.930629219507113,
];

const D3: [f64; 24] = [
    0.8525024664274224,
    0.8883680040452056,
    0.8798082028249847,
    0.8640819410995058,
    0.8480396861175002,
    0.8332053356222962,
    0.8198314897919518,
    0.8078342745533285,
    0.7970506735194174,
    0.7873146205503372,
    0.778478341203392,
    0.7704162020637645,
    0.7630230956247972,
    0.7562114297279546,
    0.7499080894099296,
    0.7440517839607445,
    0.7385908533781931,
    0.7334814955188819,
    0.7286863457073252,
    0.7241733407175178,
    0.7199148084342373,
    0.715886735491834,
    0.712068175147959,
    0.7084407658886739,
];

fn check(n: usize) -> Option<usize> {
    (MIN_N..=MAX_N).contains(&n).then(|| n - MIN_N)
}

/// d2(n), the mean of the relative range; `None` outside 2..=25.
pub fn d2(n: usize) -> Option<f64> {
    check(n).map(|i| D2[i])
}

/// d3(n), the standard deviation of the relative range; `None` outside 2..=25.
pub fn d3(n: usize) -> Option<f64> {
    check(n).map(|i| D3[i])
}

/// c4(n) = E(s)/σ for samples of n ≥ 2 normal values (any n ≥ 2).
pub fn c4(n: usize) -> Option<f64> {
    if n < 2 {
        return None;
    }
    let nf = n as f64;
    Some((2.0 / (nf - 1.0)).sqrt() * (ln_gamma(nf / 2.0) - ln_gamma((nf - 1.0) / 2.0)).exp())
}

/// One row of the constants table.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[allow(non_snake_case)]
pub struct ConstantsRow {
    /// Subgroup size.
    pub n: usize,
    /// E[R/σ].
    pub d2: f64,
    /// sd[R/σ].
    pub d3: f64,
    /// E[s/σ].
    pub c4: f64,
    /// X̄ limits from R̄: k/(d2√n).
    pub A2: f64,
    /// X̄ limits from S̄: k/(c4√n).
    pub A3: f64,
    /// S chart lower factor.
    pub B3: f64,
    /// S chart upper factor.
    pub B4: f64,
    /// R chart lower factor.
    pub D3: f64,
    /// R chart upper factor.
    pub D4: f64,
    /// Individuals limits from MR̄: k/d2.
    pub E2: f64,
}

/// The constants for subgroup size `n` with `nsigma`-sigma limits; `None` outside 2..=25.
pub fn row(n: usize, nsigma: f64) -> Option<ConstantsRow> {
    let d2 = d2(n)?;
    let d3 = d3(n)?;
    let c4 = c4(n)?;
    let sn = (n as f64).sqrt();
    let s = (1.0 - c4 * c4).sqrt() / c4;
    Some(ConstantsRow {
        n,
        d2,
        d3,
        c4,
        A2: nsigma / (d2 * sn),
        A3: nsigma / (c4 * sn),
        B3: (1.0 - nsigma * s).max(0.0),
        B4: 1.0 + nsigma * s,
        D3: (1.0 - nsigma * d3 / d2).max(0.0),
        D4: 1.0 + nsigma * d3 / d2,
        E2: nsigma / d2,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::special::normal_cdf;

    #[test]
    fn c4_closed_forms() {
        // c4(2) = sqrt(2/π).
        let v = c4(2).unwrap();
        assert!((v - (2.0 / std::f64::consts::PI).sqrt()).abs() < 1e-14);
        assert!((c4(25).unwrap() - 0.9896403755857051).abs() < 1e-14);
    }

    #[test]
    fn d2_two_is_two_over_sqrt_pi() {
        assert!((d2(2).unwrap() - 2.0 / std::f64::consts::PI.sqrt()).abs() < 1e-15);
    }

    #[test]
    fn d2_matches_quadrature() {
        // Trapezoid rule on a smooth, rapidly decaying integrand converges geometrically.
        for n in [2_usize, 5, 10, 25] {
            let h = 0.005;
            let mut sum = 0.0;
            let mut x = -12.0;
            while x <= 12.0 {
                let p = normal_cdf(x);
                sum += 1.0 - p.powi(n as i32) - (1.0 - p).powi(n as i32);
                x += h;
            }
            let q = sum * h;
            assert!((q - d2(n).unwrap()).abs() < 1e-10, "n={n} quadrature {q}");
        }
    }

    #[test]
    fn out_of_range() {
        assert!(row(1, 3.0).is_none());
        assert!(row(26, 3.0).is_none());
        let r = row(8, 3.0).unwrap();
        assert!(r.D3 > 0.0 && r.B3 > 0.0);
    }
}
