//! The enterprise quality policy: one rule set, applied to every characteristic of every mode.
//!
//! A [`QualityPolicy`] is a JSON document (the shipped default is
//! `crates/quality/data/quality-policy.json`, embedded at build time and returned by
//! [`QualityPolicy::enterprise_default`]). It has three layers, each overriding the one before:
//! `defaults` (complete) → `modes.{discrete,process,repetitive}` → `characteristics.{id}`.
//! A layer says which rule set and rules apply, how many points phase I uses to freeze the
//! limits and from how many distinct orders they must come (limits from thirty serials of one
//! order miss the order-to-order variation every later order shows), the EWMA/CUSUM parameters, how long after a nonconformance (NC) the same
//! characteristic may open another one, and — by rule **severity** — what a violation does:
//!
//! | `hold` | effect |
//! |---|---|
//! | `none` | alert only |
//! | `item` | hold the lot, batch, serial or order the point was measured on |
//! | `linked` | hold the item and every lot or serial linked to it through genealogy (the lots its order consumed, what consuming orders made from it) |
//!
//! and whether a nonconformance opens (`nonconformance: true`). The severity of each rule is
//! given per rule set (`severity.nelson`, `severity.western_electric`); a point gets the most
//! severe of its fired rules, and a dispersion chart (MR, R, S) signal counts as
//! `dispersion_severity`.
//!
//! A layer may also chart a characteristic on a **transformed scale**: `"transform": "log"`
//! charts the natural logarithm of individual values (I-MR, X̄-R, X̄-S, EWMA). Leak rates,
//! residual monomer and other positive, right-skewed quantities are roughly log-normal; on
//! their raw scale 3σ limits sit too close above the mean (false alarms) and the lower limit
//! goes below zero. Values and limits are reported back in measured units (exp of the
//! charted log), so the limits become asymmetric around the geometric mean.
//!
//! [`QualityPolicy::resolve`] flattens the layers for one characteristic into a
//! [`ResolvedPolicy`]; [`QualityPolicy::validate`] names the field at fault in a bad document.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::rules::{RuleSelection, RuleSet};

/// The shipped enterprise policy (JSON).
pub const DEFAULT_POLICY_JSON: &str = include_str!("../data/quality-policy.json");

/// Production mode of the work a characteristic is measured on: the plant model's own.
pub use model::Mode;

/// How serious a rule violation is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// A point beyond the limits, typically: act on the material now.
    Critical,
    /// A sustained shift or a trend.
    Major,
    /// A pattern worth a look.
    Minor,
}

impl Severity {
    /// 2 for critical, 1 for major, 0 for minor (higher is worse).
    pub fn weight(self) -> u8 {
        match self {
            Severity::Critical => 2,
            Severity::Major => 1,
            Severity::Minor => 0,
        }
    }

    /// The snake_case name (the same as [`Severity::as_str`], kept for the edges that call it).
    pub fn name(self) -> &'static str {
        self.as_str()
    }
}

model::wire_enum!(Severity, "severity", [Critical, Major, Minor]);

/// What is held when a violation occurs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HoldScope {
    /// Nothing (alert only).
    None,
    /// The measured item (lot, batch, serial or order).
    Item,
    /// The item and its upstream- and downstream-linked lots and serials.
    Linked,
}

model::wire_enum!(HoldScope, "hold scope", [None, Item, Linked]);

/// The reaction to a violation of one severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Reaction {
    /// What goes on hold.
    pub hold: HoldScope,
    /// Whether a nonconformance opens.
    #[serde(default)]
    pub nonconformance: bool,
}

/// The scale a variables characteristic is charted on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Transform {
    /// As measured.
    #[default]
    None,
    /// Natural logarithm (values must be positive).
    Log,
}

model::wire_enum!(Transform, "transform", [None, Log]);

impl Transform {
    /// The charted value of a measurement; `None` when the scale cannot take it.
    pub fn forward(self, value: f64) -> Option<f64> {
        match self {
            Transform::None => Some(value),
            Transform::Log => (value > 0.0 && value.is_finite()).then(|| value.ln()),
        }
    }

    /// A charted value back in measured units.
    pub fn back(self, charted: f64) -> f64 {
        match self {
            Transform::None => charted,
            Transform::Log => charted.exp(),
        }
    }
}

/// One layer of the policy; absent fields inherit from the layer below.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyLayer {
    /// `nelson` or `western_electric`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_set: Option<RuleSet>,
    /// Rule numbers of the set (all rules of the set when absent everywhere).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<Vec<u8>>,
    /// Points (or subgroups) of phase I; the limits freeze after them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase1_points: Option<usize>,
    /// Distinct orders the phase-I points must come from before the limits freeze (points
    /// without an order do not count against it); after ten times `phase1_points` points the
    /// limits freeze anyway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase1_min_orders: Option<usize>,
    /// Drop out-of-control phase-I points and re-estimate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase1_iterate: Option<bool>,
    /// Width of the Shewhart limits in σ.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nsigma: Option<f64>,
    /// EWMA weight λ.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ewma_lambda: Option<f64>,
    /// EWMA limit width L.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ewma_l: Option<f64>,
    /// CUSUM reference value k (in σ).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cusum_k: Option<f64>,
    /// CUSUM decision interval h (in σ).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cusum_h: Option<f64>,
    /// A characteristic opens at most one NC per this many points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nc_cooldown_points: Option<usize>,
    /// Severity of a dispersion-chart (MR, R, S) signal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispersion_severity: Option<Severity>,
    /// Reaction per severity (merged key by key over the layer below).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub reactions: BTreeMap<Severity, Reaction>,
    /// Scale of variables charts (`none` or `log`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transform: Option<Transform>,
}

/// The policy document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QualityPolicy {
    /// Name of the rule set.
    pub name: String,
    /// Version label, recorded with every alert.
    pub version: String,
    /// What it is for.
    #[serde(default)]
    pub description: String,
    /// Severity of each rule number, per rule set.
    pub severity: BTreeMap<RuleSet, BTreeMap<u8, Severity>>,
    /// The complete base layer.
    pub defaults: PolicyLayer,
    /// Per-mode overrides.
    #[serde(default)]
    pub modes: BTreeMap<Mode, PolicyLayer>,
    /// Per-characteristic overrides (by characteristic id).
    #[serde(default)]
    pub characteristics: BTreeMap<String, PolicyLayer>,
    /// What a nonconformance suggests doing about its most likely cause.
    #[serde(default)]
    pub corrective_actions: CorrectiveActions,
}

/// The corrective action suggested for a ranked cause, per kind of cause. Placeholders in
/// braces are filled from the cause: `{routing}`, `{step}` (1-based), `{parameter}` and
/// `{direction}` (`higher` or `lower`: which values go with the defect) for a process
/// parameter; `{material}`, `{lot}` and `{supplier}` for a component lot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectiveActions {
    /// For a process parameter.
    pub parameter: String,
    /// For a delivered lot of purchased material.
    pub component_lot: String,
}

impl Default for CorrectiveActions {
    fn default() -> Self {
        CorrectiveActions {
            parameter: "Bring {parameter} of {routing} step {step} back to its target ({direction} values go with the defect): check its controller, the instrument's calibration and the recipe set point, then watch the next batches' results.".into(),
            component_lot: "Hold what is left of lot {lot} of {material} and what was made from it, and ask {supplier} for a corrective action on that delivery.".into(),
        }
    }
}

impl CorrectiveActions {
    /// The suggestion for `cause`, whose association with the defect has sign `effect`.
    pub fn suggest(&self, cause: &crate::upstream::CauseKind, effect: f64) -> String {
        use crate::upstream::CauseKind;
        match cause {
            CauseKind::Parameter {
                routing,
                step,
                parameter,
            } => self
                .parameter
                .replace("{routing}", routing.as_str())
                .replace("{step}", &(step + 1).to_string())
                .replace("{parameter}", parameter)
                .replace(
                    "{direction}",
                    if effect >= 0.0 { "higher" } else { "lower" },
                ),
            CauseKind::ComponentLot {
                material,
                lot,
                supplier,
            } => self
                .component_lot
                .replace("{material}", material.as_str())
                .replace("{lot}", lot.as_str())
                .replace("{supplier}", supplier.as_deref().unwrap_or("the supplier")),
        }
    }
}

fn one() -> usize {
    1
}

/// The policy flattened for one characteristic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ResolvedPolicy {
    /// Rule set.
    pub rule_set: RuleSet,
    /// Selected rule numbers.
    pub rules: Vec<u8>,
    /// Phase-I length.
    pub phase1_points: usize,
    /// Distinct orders phase I must span.
    #[serde(default = "one")]
    pub phase1_min_orders: usize,
    /// Iterative phase-I estimation.
    pub phase1_iterate: bool,
    /// Shewhart limit width.
    pub nsigma: f64,
    /// EWMA λ.
    pub ewma_lambda: f64,
    /// EWMA L.
    pub ewma_l: f64,
    /// CUSUM k.
    pub cusum_k: f64,
    /// CUSUM h.
    pub cusum_h: f64,
    /// NC cooldown in points.
    pub nc_cooldown_points: usize,
    /// Severity of a dispersion signal.
    pub dispersion_severity: Severity,
    /// Severity of each selected rule.
    pub severity: BTreeMap<u8, Severity>,
    /// Reaction per severity.
    pub reactions: BTreeMap<Severity, Reaction>,
    /// Scale of variables charts.
    #[serde(default)]
    pub transform: Transform,
}

impl ResolvedPolicy {
    /// The rule selection for the monitors.
    pub fn selection(&self) -> RuleSelection {
        let rules: Vec<i64> = self.rules.iter().map(|&r| i64::from(r)).collect();
        RuleSelection::new(self.rule_set, &rules)
            .unwrap_or_else(|_| RuleSelection::all(self.rule_set))
    }

    /// The reaction to a violation of `severity` (alert only when the policy names none).
    pub fn reaction(&self, severity: Severity) -> Reaction {
        self.reactions.get(&severity).copied().unwrap_or(Reaction {
            hold: HoldScope::None,
            nonconformance: false,
        })
    }

    /// Severity of rule `r` (minor when the policy names none).
    pub fn rule_severity(&self, r: u8) -> Severity {
        self.severity.get(&r).copied().unwrap_or(Severity::Minor)
    }
}

/// A policy document that cannot be used, naming the field at fault.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum PolicyError {
    /// Not valid JSON or not the policy's shape.
    #[error("quality policy: {0}")]
    Parse(String),
    /// A field has an invalid value.
    #[error("quality policy: `{field}`: {reason}")]
    Invalid {
        /// Path of the field (`modes.process.phase1_points`).
        field: String,
        /// What is wrong.
        reason: String,
    },
}

fn pick<T: Clone>(layers: &[&PolicyLayer], f: impl Fn(&PolicyLayer) -> Option<T>) -> Option<T> {
    layers.iter().rev().find_map(|l| f(l))
}

impl QualityPolicy {
    /// The shipped enterprise policy.
    pub fn enterprise_default() -> QualityPolicy {
        QualityPolicy::parse(DEFAULT_POLICY_JSON).expect("the shipped quality policy is valid")
    }

    /// Parses and validates a policy document.
    pub fn parse(text: &str) -> Result<QualityPolicy, PolicyError> {
        let policy: QualityPolicy =
            serde_json::from_str(text).map_err(|e| PolicyError::Parse(e.to_string()))?;
        policy.validate()?;
        Ok(policy)
    }

    /// Checks every layer, naming the first field at fault.
    pub fn validate(&self) -> Result<(), PolicyError> {
        let invalid = |field: String, reason: &str| PolicyError::Invalid {
            field,
            reason: reason.to_string(),
        };
        for (set, map) in &self.severity {
            for r in map.keys() {
                if *r < 1 || *r > set.max_rule() {
                    return Err(invalid(
                        format!("severity.{}.{r}", set.as_str()),
                        "no such rule in this set",
                    ));
                }
            }
        }
        let d = &self.defaults;
        let required = [
            ("rule_set", d.rule_set.is_some()),
            ("phase1_points", d.phase1_points.is_some()),
            ("nsigma", d.nsigma.is_some()),
            ("ewma_lambda", d.ewma_lambda.is_some()),
            ("ewma_l", d.ewma_l.is_some()),
            ("cusum_k", d.cusum_k.is_some()),
            ("cusum_h", d.cusum_h.is_some()),
            ("nc_cooldown_points", d.nc_cooldown_points.is_some()),
            ("dispersion_severity", d.dispersion_severity.is_some()),
        ];
        if let Some((name, _)) = required.iter().find(|(_, present)| !present) {
            return Err(invalid(
                format!("defaults.{name}"),
                "the defaults layer must set it",
            ));
        }
        let mut layers: Vec<(String, &PolicyLayer)> = vec![("defaults".into(), d)];
        layers.extend(self.modes.iter().map(|(m, l)| (format!("modes.{m}"), l)));
        layers.extend(
            self.characteristics
                .iter()
                .map(|(c, l)| (format!("characteristics.{c}"), l)),
        );
        for (path, layer) in layers {
            if let Some(n) = layer.phase1_points
                && !(2..=10_000).contains(&n)
            {
                return Err(invalid(
                    format!("{path}.phase1_points"),
                    "must be 2..=10000",
                ));
            }
            if let Some(n) = layer.phase1_min_orders
                && !(1..=1000).contains(&n)
            {
                return Err(invalid(
                    format!("{path}.phase1_min_orders"),
                    "must be 1..=1000",
                ));
            }
            let positive = [
                ("nsigma", layer.nsigma),
                ("ewma_l", layer.ewma_l),
                ("cusum_h", layer.cusum_h),
            ];
            for (name, v) in positive {
                if let Some(v) = v
                    && !(v > 0.0 && v.is_finite())
                {
                    return Err(invalid(
                        format!("{path}.{name}"),
                        "must be a positive number",
                    ));
                }
            }
            if let Some(k) = layer.cusum_k
                && !(k >= 0.0 && k.is_finite())
            {
                return Err(invalid(format!("{path}.cusum_k"), "must be ≥ 0"));
            }
            if let Some(l) = layer.ewma_lambda
                && !(l > 0.0 && l <= 1.0)
            {
                return Err(invalid(format!("{path}.ewma_lambda"), "must be in (0, 1]"));
            }
            if let Some(rules) = &layer.rules {
                let set = layer.rule_set.or(d.rule_set).unwrap_or(RuleSet::Nelson);
                if let Some((i, r)) = rules
                    .iter()
                    .enumerate()
                    .find(|(_, r)| **r < 1 || **r > set.max_rule())
                {
                    return Err(invalid(
                        format!("{path}.rules[{i}]"),
                        &format!("rule {r} is not a rule of {}", set.as_str()),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The policy for characteristic `id` measured in `mode`.
    pub fn resolve(&self, mode: Mode, id: &str) -> ResolvedPolicy {
        let mut layers = vec![&self.defaults];
        if let Some(l) = self.modes.get(&mode) {
            layers.push(l);
        }
        if let Some(l) = self.characteristics.get(id) {
            layers.push(l);
        }
        let rule_set = pick(&layers, |l| l.rule_set).unwrap_or(RuleSet::Nelson);
        // A layer that switches the rule set without listing rules means all of its rules.
        let rules = layers
            .iter()
            .rev()
            .find(|l| l.rules.is_some() || l.rule_set.is_some())
            .and_then(|l| l.rules.clone())
            .filter(|r| r.iter().all(|&x| x >= 1 && x <= rule_set.max_rule()))
            .unwrap_or_else(|| (1..=rule_set.max_rule()).collect());
        let mut reactions = BTreeMap::new();
        for l in &layers {
            reactions.extend(l.reactions.iter().map(|(k, v)| (*k, *v)));
        }
        let severity_table = self.severity.get(&rule_set).cloned().unwrap_or_default();
        let severity = rules
            .iter()
            .map(|&r| {
                (
                    r,
                    severity_table.get(&r).copied().unwrap_or(Severity::Minor),
                )
            })
            .collect();
        ResolvedPolicy {
            rule_set,
            rules,
            phase1_points: pick(&layers, |l| l.phase1_points).unwrap_or(20),
            phase1_min_orders: pick(&layers, |l| l.phase1_min_orders).unwrap_or(1),
            phase1_iterate: pick(&layers, |l| l.phase1_iterate).unwrap_or(false),
            nsigma: pick(&layers, |l| l.nsigma).unwrap_or(3.0),
            ewma_lambda: pick(&layers, |l| l.ewma_lambda).unwrap_or(0.2),
            ewma_l: pick(&layers, |l| l.ewma_l).unwrap_or(3.0),
            cusum_k: pick(&layers, |l| l.cusum_k).unwrap_or(0.5),
            cusum_h: pick(&layers, |l| l.cusum_h).unwrap_or(5.0),
            nc_cooldown_points: pick(&layers, |l| l.nc_cooldown_points).unwrap_or(25),
            dispersion_severity: pick(&layers, |l| l.dispersion_severity)
                .unwrap_or(Severity::Major),
            severity,
            reactions,
            transform: pick(&layers, |l| l.transform).unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_policy_is_valid_and_layers_resolve() {
        let p = QualityPolicy::enterprise_default();
        let discrete = p.resolve(Mode::Discrete, "M50-LEAK");
        assert_eq!(discrete.rule_set, RuleSet::Nelson);
        assert_eq!(discrete.rule_severity(1), Severity::Critical);
        assert_eq!(
            discrete.reaction(Severity::Critical).hold,
            HoldScope::Linked
        );
        assert!(discrete.reaction(Severity::Critical).nonconformance);
        let process = p.resolve(Mode::Process, "EA100-VISC");
        assert!(process.phase1_points >= 2);
        for mode in [Mode::Discrete, Mode::Process, Mode::Repetitive] {
            let r = p.resolve(mode, "X");
            assert!(!r.rules.is_empty());
            assert!(r.reactions.contains_key(&Severity::Critical));
        }
    }

    #[test]
    fn bad_documents_name_the_field() {
        let mut p = QualityPolicy::enterprise_default();
        p.modes.entry(Mode::Process).or_default().phase1_points = Some(1);
        let e = p.validate().unwrap_err().to_string();
        assert!(e.contains("modes.process.phase1_points"), "{e}");
        let mut p = QualityPolicy::enterprise_default();
        p.characteristics.insert(
            "C1".into(),
            PolicyLayer {
                rule_set: Some(RuleSet::WesternElectric),
                rules: Some(vec![1, 7]),
                ..PolicyLayer::default()
            },
        );
        let e = p.validate().unwrap_err().to_string();
        assert!(e.contains("characteristics.C1.rules[1]"), "{e}");
        let e = QualityPolicy::parse("{\"name\": 3}")
            .unwrap_err()
            .to_string();
        assert!(e.contains("quality policy"), "{e}");
    }

    #[test]
    fn characteristic_override_wins() {
        let mut p = QualityPolicy::enterprise_default();
        p.characteristics.insert(
            "C1".into(),
            PolicyLayer {
                rule_set: Some(RuleSet::WesternElectric),
                phase1_points: Some(30),
                reactions: BTreeMap::from([(
                    Severity::Minor,
                    Reaction {
                        hold: HoldScope::Item,
                        nonconformance: false,
                    },
                )]),
                ..PolicyLayer::default()
            },
        );
        let r = p.resolve(Mode::Discrete, "C1");
        assert_eq!(r.rule_set, RuleSet::WesternElectric);
        assert_eq!(r.rules, vec![1, 2, 3, 4]);
        assert_eq!(r.phase1_points, 30);
        assert_eq!(r.reaction(Severity::Minor).hold, HoldScope::Item);
        // Other severities still come from the lower layers.
        assert_eq!(r.reaction(Severity::Critical).hold, HoldScope::Linked);
    }
}
