//! Run rules (Nelson 1–8, Western Electric 1–4): rule selection and the batch evaluator.
//!
//! The batch evaluator here is written straight from the rule table of the vectors README
//! (each rule re-checks its whole window), so it doubles as the independent checker of the
//! streaming [`crate::monitor::Monitor`], which must give the same answers in O(1) per point.
//!
//! Conventions (the contract): `z = (x − center)/σ` with the *unclipped* σ of the point;
//! "beyond kσ" is strict, "within 1σ" is inclusive, z = 0 is on neither side; rule 1 uses the
//! reported (clipped) limits and is strict. A rule is reported at every index whose window
//! ending there satisfies it; rules 5/6 use partial windows at the series start.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::QualityError;

/// A family of run rules.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RuleSet {
    /// Nelson rules 1–8.
    Nelson,
    /// Western Electric rules 1–4.
    WesternElectric,
}

model::wire_enum!(RuleSet, "rule set", [Nelson, WesternElectric]);

impl RuleSet {
    /// Highest rule number of the set.
    pub fn max_rule(self) -> u8 {
        match self {
            RuleSet::Nelson => 8,
            RuleSet::WesternElectric => 4,
        }
    }

    /// Parses `nelson`, `western_electric` (also `we`, `western-electric`).
    pub fn parse(name: &str) -> Result<Self, QualityError> {
        match name.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "we" => Ok(RuleSet::WesternElectric),
            norm => norm.parse().map_err(|_| QualityError::UnknownRuleSet {
                rule_set: name.to_string(),
            }),
        }
    }
}

/// Which rules of which set are evaluated for a characteristic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RuleSelection {
    set: RuleSet,
    /// Bit r set when rule r is selected (bit 0 unused).
    mask: u16,
}

impl RuleSelection {
    /// Every rule of `set`.
    pub fn all(set: RuleSet) -> Self {
        let mask = ((1u16 << (set.max_rule() + 1)) - 1) & !1;
        RuleSelection { set, mask }
    }

    /// No rules at all (only limits are checked).
    pub fn none(set: RuleSet) -> Self {
        RuleSelection { set, mask: 0 }
    }

    /// The listed rules of `set`; an unknown number is an error naming it.
    pub fn new(set: RuleSet, rules: &[i64]) -> Result<Self, QualityError> {
        let mut mask = 0u16;
        for &r in rules {
            if r < 1 || r > i64::from(set.max_rule()) {
                return Err(QualityError::UnknownRule {
                    rule_set: set.as_str(),
                    rule: r,
                    max: set.max_rule(),
                });
            }
            mask |= 1 << r;
        }
        Ok(RuleSelection { set, mask })
    }

    /// The rule set.
    pub fn set(&self) -> RuleSet {
        self.set
    }

    /// Bit mask with bit r set for each selected rule r.
    pub fn mask(&self) -> u16 {
        self.mask
    }

    /// Whether rule `r` is selected.
    pub fn contains(&self, r: u8) -> bool {
        r < 16 && self.mask & (1 << r) != 0
    }

    /// The selected rule numbers, ascending.
    pub fn rules(&self) -> Vec<u8> {
        (1..=self.set.max_rule())
            .filter(|&r| self.contains(r))
            .collect()
    }
}

/// One rule firing at one index.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub struct Violation {
    /// Rule number within the selected rule set.
    pub rule: u8,
    /// 0-based index of the plotted point.
    pub index: usize,
}

/// The reference of one plotted point: its center, the *unclipped* σ of the plotted
/// statistic, and the reported (clipped) limits.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PointLimits {
    /// Center line.
    pub center: f64,
    /// σ of the plotted statistic (unclipped), used for zones.
    pub sigma: f64,
    /// Reported lower control limit.
    pub lcl: f64,
    /// Reported upper control limit.
    pub ucl: f64,
}

impl PointLimits {
    /// Zone coordinate of `x`.
    #[inline]
    pub fn z(&self, x: f64) -> f64 {
        (x - self.center) / self.sigma
    }

    /// Strictly beyond a limit.
    #[inline]
    pub fn is_out(&self, x: f64) -> bool {
        x > self.ucl || x < self.lcl
    }
}

/// Indices strictly beyond their limits.
pub fn points_out_of_control<F: Fn(usize) -> PointLimits>(values: &[f64], limits: F) -> Vec<usize> {
    values
        .iter()
        .enumerate()
        .filter(|&(i, &x)| limits(i).is_out(x))
        .map(|(i, _)| i)
        .collect()
}

/// Batch evaluation of the selected rules; violations sorted by (index, rule).
///
/// Straightforward window re-scans, written to mirror the README table line by line.
pub fn evaluate<F: Fn(usize) -> PointLimits>(
    values: &[f64],
    limits: F,
    selection: RuleSelection,
) -> Vec<Violation> {
    let n = values.len();
    let z: Vec<f64> = (0..n).map(|i| limits(i).z(values[i])).collect();
    let mut out = Vec::new();
    // Window [i+1−len, i] when it fits.
    let full = |i: usize, len: usize| (i + 1 >= len).then(|| i + 1 - len..=i);
    let partial = |i: usize, len: usize| (i + 1).saturating_sub(len)..=i;
    for i in 0..n {
        let beyond1 = limits(i).is_out(values[i]);
        let same_side = |len: usize| {
            full(i, len)
                .is_some_and(|w| w.clone().all(|j| z[j] > 0.0) || w.clone().all(|j| z[j] < 0.0))
        };
        let k_of_window = |len: usize, k: usize, t: f64| {
            let w = partial(i, len);
            (z[i] > t && w.clone().filter(|&j| z[j] > t).count() >= k)
                || (z[i] < -t && w.clone().filter(|&j| z[j] < -t).count() >= k)
        };
        let fired: [bool; 9] = match selection.set() {
            RuleSet::Nelson => {
                let r3 = full(i, 6).is_some_and(|w| {
                    let w: Vec<usize> = w.collect();
                    w.windows(2).all(|p| values[p[1]] > values[p[0]])
                        || w.windows(2).all(|p| values[p[1]] < values[p[0]])
                });
                let r4 = full(i, 14).is_some_and(|w| {
                    let d: Vec<f64> = w
                        .collect::<Vec<_>>()
                        .windows(2)
                        .map(|p| values[p[1]] - values[p[0]])
                        .collect();
                    d.iter()
                        .all(|&x| x.partial_cmp(&0.0).is_some_and(|o| o.is_ne()))
                        && d.windows(2)
                            .all(|q| (q[0] > 0.0 && q[1] < 0.0) || (q[0] < 0.0 && q[1] > 0.0))
                });
                let r7 = full(i, 15).is_some_and(|mut w| w.all(|j| z[j].abs() <= 1.0));
                let r8 = full(i, 8).is_some_and(|w| {
                    w.clone().all(|j| z[j] > 1.0 || z[j] < -1.0)
                        && w.clone().any(|j| z[j] > 1.0)
                        && w.clone().any(|j| z[j] < -1.0)
                });
                [
                    false,
                    beyond1,
                    same_side(9),
                    r3,
                    r4,
                    k_of_window(3, 2, 2.0),
                    k_of_window(5, 4, 1.0),
                    r7,
                    r8,
                ]
            }
            RuleSet::WesternElectric => [
                false,
                beyond1,
                k_of_window(3, 2, 2.0),
                k_of_window(5, 4, 1.0),
                same_side(8),
                false,
                false,
                false,
                false,
            ],
        };
        for (r, &f) in fired.iter().enumerate() {
            if f && selection.contains(r as u8) {
                out.push(Violation {
                    rule: r as u8,
                    index: i,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: PointLimits = PointLimits {
        center: 10.0,
        sigma: 2.0,
        lcl: 4.0,
        ucl: 16.0,
    };

    #[test]
    fn selection_parsing() {
        assert_eq!(
            RuleSelection::all(RuleSet::Nelson).rules(),
            (1..=8).collect::<Vec<u8>>()
        );
        assert_eq!(
            RuleSelection::all(RuleSet::WesternElectric).rules(),
            vec![1, 2, 3, 4]
        );
        assert!(matches!(
            RuleSelection::new(RuleSet::WesternElectric, &[5]),
            Err(QualityError::UnknownRule { rule: 5, .. })
        ));
        assert_eq!(RuleSet::parse("we").unwrap(), RuleSet::WesternElectric);
        assert!(RuleSet::parse("acme").is_err());
    }

    #[test]
    fn rule5_partial_window_at_start() {
        let v = [14.5, 14.5, 10.0];
        let got = evaluate(&v, |_| L, RuleSelection::all(RuleSet::Nelson));
        assert_eq!(got, vec![Violation { rule: 5, index: 1 }]);
    }

    #[test]
    fn long_run_reports_every_point() {
        let v = [11.0; 11];
        let got: Vec<usize> = evaluate(
            &v,
            |_| L,
            RuleSelection::new(RuleSet::Nelson, &[2]).unwrap(),
        )
        .iter()
        .map(|v| v.index)
        .collect();
        assert_eq!(got, vec![8, 9, 10]);
    }

    #[test]
    fn point_on_limit_is_in_control() {
        let v = [16.0, 4.0];
        assert!(points_out_of_control(&v, |_| L).is_empty());
    }
}
