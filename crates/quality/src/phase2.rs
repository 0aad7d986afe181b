//! Phase II monitoring of a Shewhart chart: new points (or subgroups, or counts with their
//! sizes) are charted one at a time against the frozen phase-I limits of a
//! [`ShewhartChart`], in O(1) per point (O(n) per subgroup) with the streaming
//! [`Monitor`]. The answers equal those of charting the whole series in batch with the same
//! phase-I set (checked by a property test).

use serde::{Deserialize, Serialize};

use crate::error::QualityError;
use crate::estimate::{mean, range, sample_sd};
use crate::monitor::{Fired, Monitor};
use crate::rules::{PointLimits, RuleSelection};
use crate::shewhart::{Line, SecondaryKind, ShewhartChart};

/// How a new observation is turned into a plotted point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Kind {
    Individuals {
        mr_lcl: f64,
        mr_ucl: f64,
    },
    Subgroups {
        n: usize,
        disp: SecondaryKind,
        lcl: f64,
        ucl: f64,
    },
    Proportion {
        pbar: f64,
        nsigma: f64,
    },
    Counts {
        size: Option<f64>,
    },
    Rate {
        ubar: f64,
        nsigma: f64,
    },
}

/// The outcome of one new point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PointOutcome {
    /// 0-based index of the point in the monitored stream.
    pub index: usize,
    /// Plotted value.
    pub statistic: f64,
    /// Out-of-control flag and fired rules of the main chart.
    pub fired: Fired,
    /// Dispersion value (MR, R or S) when the chart has one (MR: none for the first point).
    pub secondary: Option<f64>,
    /// Whether the dispersion value is beyond its limits.
    pub secondary_out_of_control: bool,
}

/// Streaming phase-II monitor of one Shewhart characteristic (serialisable, so a running
/// monitor can be persisted and resumed).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChartMonitor {
    kind: Kind,
    monitor: Monitor,
    last: Option<f64>,
}

fn constant(line: &Line, what: &str) -> Result<f64, QualityError> {
    match line {
        Line::Constant(v) => Ok(*v),
        Line::PerPoint(_) => Err(QualityError::MonitorMismatch {
            reason: format!(
                "`{what}` varies per point: use ChartMonitor::proportion or ChartMonitor::rate"
            ),
        }),
    }
}

fn wrong(reason: &str) -> QualityError {
    QualityError::MonitorMismatch {
        reason: reason.to_string(),
    }
}

impl ChartMonitor {
    fn with(
        kind: Kind,
        chart: &ShewhartChart,
        selection: RuleSelection,
    ) -> Result<Self, QualityError> {
        let limits = PointLimits {
            center: constant(&chart.center, "center")?,
            sigma: chart.sigma_statistic.at(0),
            lcl: chart.lcl.at(0),
            ucl: chart.ucl.at(0),
        };
        Ok(ChartMonitor {
            kind,
            monitor: Monitor::new(limits, selection),
            last: None,
        })
    }

    /// Monitors individuals against a frozen I-MR chart.
    pub fn individuals(
        chart: &ShewhartChart,
        selection: RuleSelection,
    ) -> Result<Self, QualityError> {
        let s = chart
            .secondary
            .as_ref()
            .filter(|s| s.kind == SecondaryKind::Mr)
            .ok_or_else(|| wrong("an I-MR chart is needed"))?;
        constant(&chart.ucl, "ucl")?;
        Self::with(
            Kind::Individuals {
                mr_lcl: s.lcl,
                mr_ucl: s.ucl,
            },
            chart,
            selection,
        )
    }

    /// Monitors subgroups of `n` against a frozen X̄-R or X̄-S chart.
    pub fn subgroups(
        chart: &ShewhartChart,
        n: usize,
        selection: RuleSelection,
    ) -> Result<Self, QualityError> {
        let s = chart
            .secondary
            .as_ref()
            .filter(|s| s.kind != SecondaryKind::Mr)
            .ok_or_else(|| wrong("an X̄-R or X̄-S chart is needed"))?;
        constant(&chart.ucl, "ucl")?;
        Self::with(
            Kind::Subgroups {
                n,
                disp: s.kind,
                lcl: s.lcl,
                ucl: s.ucl,
            },
            chart,
            selection,
        )
    }

    /// Monitors (count, size) pairs against a frozen p chart (sizes may vary).
    pub fn proportion(
        chart: &ShewhartChart,
        nsigma: f64,
        selection: RuleSelection,
    ) -> Result<Self, QualityError> {
        let pbar = chart.pbar.ok_or_else(|| wrong("a p chart is needed"))?;
        Self::with(Kind::Proportion { pbar, nsigma }, chart, selection)
    }

    /// Monitors counts against a frozen np chart (constant size `size`) or c chart (`None`).
    pub fn counts(
        chart: &ShewhartChart,
        size: Option<f64>,
        selection: RuleSelection,
    ) -> Result<Self, QualityError> {
        constant(&chart.ucl, "ucl")?;
        Self::with(Kind::Counts { size }, chart, selection)
    }

    /// Monitors (count, units) pairs against a frozen u chart (sizes may vary).
    pub fn rate(
        chart: &ShewhartChart,
        nsigma: f64,
        selection: RuleSelection,
    ) -> Result<Self, QualityError> {
        let ubar = constant(&chart.center, "center")?;
        Self::with(Kind::Rate { ubar, nsigma }, chart, selection)
    }

    /// Number of points monitored so far.
    pub fn len(&self) -> usize {
        self.monitor.len()
    }

    /// Whether no point was monitored yet.
    pub fn is_empty(&self) -> bool {
        self.monitor.is_empty()
    }

    /// The side of the centre line the pattern of `rule` ending at the last point lies on
    /// (see [`Monitor::pattern_side`]).
    pub fn pattern_side(&self, rule: u8) -> Option<crate::monitor::Side> {
        self.monitor.pattern_side(rule)
    }

    /// A new individual value (I-MR).
    pub fn push_value(&mut self, x: f64) -> Result<PointOutcome, QualityError> {
        let Kind::Individuals { mr_lcl, mr_ucl } = self.kind else {
            return Err(wrong("push_value needs an individuals monitor"));
        };
        if !x.is_finite() {
            return Err(QualityError::NonFinite {
                field: "value".into(),
                index: self.len(),
            });
        }
        let index = self.len();
        let mr = self.last.map(|p| (x - p).abs());
        self.last = Some(x);
        let fired = self.monitor.push(x);
        Ok(PointOutcome {
            index,
            statistic: x,
            fired,
            secondary: mr,
            secondary_out_of_control: mr.is_some_and(|m| m > mr_ucl || m < mr_lcl),
        })
    }

    /// A new subgroup (X̄-R, X̄-S); its size must be the frozen n.
    pub fn push_subgroup(&mut self, subgroup: &[f64]) -> Result<PointOutcome, QualityError> {
        let Kind::Subgroups { n, disp, lcl, ucl } = self.kind else {
            return Err(wrong("push_subgroup needs a subgroup monitor"));
        };
        let index = self.len();
        if subgroup.len() != n {
            return Err(QualityError::UnequalSubgroupSize {
                index,
                expected: n,
                found: subgroup.len(),
            });
        }
        if subgroup.iter().any(|v| !v.is_finite()) {
            return Err(QualityError::NonFinite {
                field: format!("subgroups[{index}]"),
                index,
            });
        }
        let x = mean(subgroup);
        let d = if disp == SecondaryKind::S {
            sample_sd(subgroup)
        } else {
            range(subgroup)
        };
        let fired = self.monitor.push(x);
        Ok(PointOutcome {
            index,
            statistic: x,
            fired,
            secondary: Some(d),
            secondary_out_of_control: d > ucl || d < lcl,
        })
    }

    /// A new count with its size (p, u), or a count alone for np/c (`size` must then be
    /// the chart's constant size or is ignored for c).
    pub fn push_count(&mut self, count: f64, size: f64) -> Result<PointOutcome, QualityError> {
        let index = self.len();
        if !count.is_finite() || count < 0.0 {
            return Err(QualityError::InvalidValue {
                field: "counts",
                index,
                value: count,
                reason: "must be a finite count ≥ 0",
            });
        }
        let (x, limits) = match self.kind {
            Kind::Proportion { pbar, nsigma } | Kind::Rate { ubar: pbar, nsigma } => {
                if !(size > 0.0 && size.is_finite()) {
                    return Err(QualityError::InvalidValue {
                        field: "sizes",
                        index,
                        value: size,
                        reason: "a size must be positive",
                    });
                }
                let is_p = matches!(self.kind, Kind::Proportion { .. });
                let s = if is_p {
                    (pbar * (1.0 - pbar) / size).sqrt()
                } else {
                    (pbar / size).sqrt()
                };
                let u = pbar + nsigma * s;
                let limits = PointLimits {
                    center: pbar,
                    sigma: s,
                    lcl: (pbar - nsigma * s).max(0.0),
                    ucl: if is_p { u.min(1.0) } else { u },
                };
                (count / size, limits)
            }
            Kind::Counts { size: fixed } => {
                if let Some(n) = fixed.filter(|&n| n != size) {
                    return Err(QualityError::NonConstantSize {
                        index,
                        expected: n,
                        found: size,
                    });
                }
                (count, self.monitor.limits())
            }
            _ => return Err(wrong("push_count needs an attribute monitor")),
        };
        let fired = self.monitor.push_with(x, limits);
        Ok(PointOutcome {
            index,
            statistic: x,
            fired,
            secondary: None,
            secondary_out_of_control: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{RuleSet, Violation};
    use crate::shewhart::{ShewhartOptions, imr, p_chart, xbar_r};
    use proptest::prelude::*;

    fn collect(outcomes: &[PointOutcome]) -> (Vec<usize>, Vec<Violation>, Vec<usize>) {
        let ooc = outcomes
            .iter()
            .filter(|o| o.fired.out_of_control())
            .map(|o| o.index)
            .collect();
        let v = outcomes
            .iter()
            .flat_map(|o| {
                o.fired.rules().map(move |rule| Violation {
                    rule,
                    index: o.index,
                })
            })
            .collect();
        let sec = outcomes
            .iter()
            .filter(|o| o.secondary_out_of_control)
            .map(|o| o.index)
            .collect();
        (ooc, v, sec)
    }

    fn opts(m: usize) -> ShewhartOptions {
        ShewhartOptions {
            phase1_indices: Some((0..m).collect()),
            ..ShewhartOptions::default()
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn imr_stream_equals_batch(v in proptest::collection::vec((0i32..40).prop_map(|k| f64::from(k) * 0.25), 25..90)) {
            let m = 20;
            let chart = imr(&v, &opts(m));
            prop_assume!(chart.is_ok());
            let chart = chart.unwrap();
            let sel = RuleSelection::all(RuleSet::Nelson);
            let mut mon = ChartMonitor::individuals(&chart, sel).unwrap();
            let out: Vec<PointOutcome> = v.iter().map(|&x| mon.push_value(x).unwrap()).collect();
            let (ooc, viol, sec) = collect(&out);
            prop_assert_eq!(ooc, chart.points_out_of_control.clone());
            prop_assert_eq!(viol, chart.rule_violations.clone());
            // MR index j covers points j, j+1: the stream reports it at point j+1.
            let mr: Vec<usize> = chart.secondary.unwrap().points_out_of_control.iter().map(|j| j + 1).collect();
            prop_assert_eq!(sec, mr);
        }

        #[test]
        fn xbar_stream_equals_batch(v in proptest::collection::vec((0i32..30).prop_map(|k| 5.0 + f64::from(k) * 0.1), 100..160)) {
            let n = 4;
            let groups: Vec<Vec<f64>> = v.chunks_exact(n).map(<[f64]>::to_vec).collect();
            let sel = RuleSelection::all(RuleSet::WesternElectric);
            let chart = xbar_r(&groups, &ShewhartOptions { rules: sel, ..opts(15) });
            prop_assume!(chart.is_ok());
            let chart = chart.unwrap();
            let mut mon = ChartMonitor::subgroups(&chart, n, sel).unwrap();
            let out: Vec<PointOutcome> = groups.iter().map(|g| mon.push_subgroup(g).unwrap()).collect();
            let (ooc, viol, sec) = collect(&out);
            prop_assert_eq!(ooc, chart.points_out_of_control.clone());
            prop_assert_eq!(viol, chart.rule_violations.clone());
            prop_assert_eq!(sec, chart.secondary.unwrap().points_out_of_control);
        }

        #[test]
        fn p_stream_equals_batch(cs in proptest::collection::vec((0u8..30, 0usize..4), 20..60)) {
            let sizes_pool = [50.0, 80.0, 100.0, 120.0];
            let sizes: Vec<f64> = cs.iter().map(|(_, s)| sizes_pool[*s]).collect();
            let counts: Vec<f64> = cs.iter().map(|(c, _)| f64::from(*c)).collect();
            let chart = p_chart(&counts, &sizes, &opts(15));
            prop_assume!(chart.is_ok());
            let chart = chart.unwrap();
            let sel = RuleSelection::all(RuleSet::Nelson);
            let mut mon = ChartMonitor::proportion(&chart, 3.0, sel).unwrap();
            let out: Vec<PointOutcome> = counts.iter().zip(&sizes).map(|(&c, &n)| mon.push_count(c, n).unwrap()).collect();
            let (ooc, viol, _) = collect(&out);
            prop_assert_eq!(ooc, chart.points_out_of_control.clone());
            prop_assert_eq!(viol, chart.rule_violations.clone());
        }
    }

    #[test]
    fn wrong_use_is_an_error() {
        let v: Vec<f64> = (0..10).map(f64::from).collect();
        let chart = imr(&v, &ShewhartOptions::default()).unwrap();
        let sel = RuleSelection::all(RuleSet::Nelson);
        let mut m = ChartMonitor::individuals(&chart, sel).unwrap();
        assert!(m.push_subgroup(&[1.0, 2.0]).is_err());
        assert!(ChartMonitor::subgroups(&chart, 4, sel).is_err());
        assert!(m.push_value(f64::NAN).is_err());
    }
}
