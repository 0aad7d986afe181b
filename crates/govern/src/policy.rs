//! Policies: how much autonomy an engine or agent has per action kind and plant area, which
//! roles approve, four-eyes, expiry and the privacy settings.
//!
//! A policy is a list of [`Rule`]s read from TOML (`data/policy.toml` is the shipped default
//! and documents every field). The rule for a proposal is the one naming its kind and area;
//! failing that, its kind and `area = "*"`; failing that, [`Rule::fallback`] — copilot,
//! approved by a supervisor or an admin — so an action nobody configured never applies by
//! itself.

use std::collections::BTreeSet;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::proposal::{ActionKind, Change, Entity, Field};
use crate::rbac::Role;

/// How far an engine may go on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Autonomy {
    /// Never applies by itself: every proposal waits for approval.
    Copilot,
    /// Applies by itself within the thresholds; above them it waits for approval.
    Assisted,
    /// Applies by itself (still audited, still rollback-able).
    ClosedLoop,
}

/// Limits of what `assisted` applies without approval. An absent limit is no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// No high-priority order moves more than this many minutes.
    #[serde(default)]
    pub max_high_priority_move_minutes: Option<i64>,
    /// At most this many operations (distinct changed objects) change.
    #[serde(default)]
    pub max_operations_changed: Option<usize>,
}

impl Thresholds {
    /// Why `diff` exceeds these thresholds, or nothing when it stays within them.
    pub fn exceeded_by(&self, diff: &[Change]) -> Vec<String> {
        let mut reasons = Vec::new();
        if let Some(limit) = self.max_high_priority_move_minutes {
            for change in diff.iter().filter(|c| c.high_priority) {
                let moved = change.shift_minutes.unwrap_or(0).abs();
                if moved > limit {
                    reasons.push(format!(
                        "high-priority {} `{}` moves {moved} min (limit {limit})",
                        change.entity, change.id
                    ));
                }
                // Demoting a high-priority order, or changing its quantity, would take it out
                // of the limit above (or shrink it to nothing) without moving anything: a
                // human decides, as for a move past the limit.
                if change.entity == Entity::Order {
                    match change.field {
                        Field::Priority if change.after != "high" => {
                            reasons.push(format!(
                                "high-priority order `{}` is demoted to {}",
                                change.id, change.after
                            ));
                        }
                        Field::Quantity => reasons.push(format!(
                            "high-priority order `{}` changes its quantity",
                            change.id
                        )),
                        _ => {}
                    }
                }
            }
        }
        if let Some(limit) = self.max_operations_changed {
            let changed = Change::objects_changed(diff);
            if changed > limit {
                reasons.push(format!("{changed} operations change (limit {limit})"));
            }
        }
        reasons
    }
}

/// The policy for one action kind in one area (or every area).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub kind: ActionKind,
    /// An area id, or `*` for every area without a rule of its own.
    #[serde(default = "any_area")]
    pub area: String,
    pub autonomy: Autonomy,
    #[serde(default, flatten)]
    pub thresholds: Thresholds,
    /// Roles whose members may approve or reject.
    pub approver_roles: Vec<Role>,
    /// Two different approvers are needed.
    #[serde(default)]
    pub four_eyes: bool,
    /// Minutes a proposal waits for its approvals before it expires.
    #[serde(default = "default_expiry")]
    pub expiry_minutes: i64,
}

fn any_area() -> String {
    "*".into()
}

fn default_expiry() -> i64 {
    8 * 60
}

impl Rule {
    /// The rule for a kind nobody configured: copilot, supervisors and admins approve.
    pub fn fallback(kind: ActionKind) -> Rule {
        Rule {
            kind,
            area: any_area(),
            autonomy: Autonomy::Copilot,
            thresholds: Thresholds::default(),
            approver_roles: vec![Role::Supervisor, Role::Admin],
            four_eyes: false,
            expiry_minutes: default_expiry(),
        }
    }

    /// What a proposal with this diff needs before it may be applied.
    pub fn gate(&self, diff: &[Change]) -> Gate {
        let approvals = if self.four_eyes { 2 } else { 1 };
        let needs = |reasons: Vec<String>| Gate {
            approvals,
            approver_roles: self.approver_roles.clone(),
            reasons,
        };
        match self.autonomy {
            Autonomy::Copilot => needs(vec!["copilot: every change waits for approval".into()]),
            Autonomy::ClosedLoop => Gate::auto(),
            Autonomy::Assisted => {
                let reasons = self.thresholds.exceeded_by(diff);
                if reasons.is_empty() {
                    Gate::auto()
                } else {
                    needs(reasons)
                }
            }
        }
    }
}

/// What the policy decides for a proposal over every area it touches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decided {
    /// The least autonomy among the areas' rules.
    pub autonomy: Autonomy,
    pub gate: Gate,
    pub expiry_minutes: i64,
}

/// What a proposal needs before it may be applied; fixed when it is proposed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Gate {
    /// Distinct approvals needed; 0 means it applies by itself.
    pub approvals: u8,
    /// Roles whose members may approve or reject.
    pub approver_roles: Vec<Role>,
    /// Why approval is needed (thresholds exceeded, copilot); empty when it is not.
    pub reasons: Vec<String>,
}

impl Gate {
    pub fn auto() -> Gate {
        Gate {
            approvals: 0,
            approver_roles: Vec::new(),
            reasons: Vec::new(),
        }
    }

    pub fn is_auto(&self) -> bool {
        self.approvals == 0
    }
}

/// What engines and agents must not see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Privacy {
    /// JSON field names holding operator identities (a string or a list of strings); their
    /// values are replaced by keyed pseudonyms.
    #[serde(default = "default_identity_fields")]
    pub identity_fields: BTreeSet<String>,
    /// JSON field names whose values are masked (recipe parameters).
    #[serde(default = "default_masked_fields")]
    pub masked_fields: BTreeSet<String>,
}

fn default_identity_fields() -> BTreeSet<String> {
    ["members", "operator", "inspector", "person"]
        .map(String::from)
        .into()
}

fn default_masked_fields() -> BTreeSet<String> {
    ["parameters"].map(String::from).into()
}

impl Default for Privacy {
    fn default() -> Privacy {
        Privacy {
            identity_fields: default_identity_fields(),
            masked_fields: default_masked_fields(),
        }
    }
}

/// Every rule, and the privacy settings.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    #[serde(default, rename = "rule")]
    pub rules: Vec<Rule>,
    #[serde(default)]
    pub privacy: Privacy,
}

/// A policy document that does not parse or is inconsistent.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("policy is not valid TOML: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("policy rule {index} ({kind} in area `{area}`): {message}")]
    Rule {
        index: usize,
        kind: ActionKind,
        area: String,
        message: String,
    },
}

/// The default policy shipped with mixplane (`data/policy.toml`).
pub const DEFAULT_POLICY_TOML: &str = include_str!("../data/policy.toml");

impl Policy {
    /// Parses and checks a TOML policy.
    pub fn from_toml(text: &str) -> Result<Policy, PolicyError> {
        let policy: Policy = toml::from_str(text)?;
        policy.check()?;
        Ok(policy)
    }

    /// The shipped default.
    pub fn default_policy() -> Policy {
        Policy::from_toml(DEFAULT_POLICY_TOML).expect("the shipped policy is valid")
    }

    /// Rejects duplicate rules, rules without approvers, agents as approvers and
    /// non-positive expiry.
    pub fn check(&self) -> Result<(), PolicyError> {
        let mut seen = BTreeSet::new();
        for (index, rule) in self.rules.iter().enumerate() {
            let bad = |message: String| PolicyError::Rule {
                index,
                kind: rule.kind,
                area: rule.area.clone(),
                message,
            };
            if !seen.insert((rule.kind, rule.area.clone())) {
                return Err(bad("a rule for this kind and area comes earlier".into()));
            }
            if rule.approver_roles.is_empty() {
                return Err(bad("`approver_roles` is empty: nobody could approve".into()));
            }
            if rule.approver_roles.contains(&Role::Agent) {
                return Err(bad("agents cannot approve".into()));
            }
            if rule.expiry_minutes <= 0 {
                return Err(bad(format!(
                    "`expiry_minutes` must be positive, got {}",
                    rule.expiry_minutes
                )));
            }
        }
        Ok(())
    }

    /// What a proposal of `kind` acting in `areas` with this (assessed) `diff` needs: the
    /// strictest of the rules of every area. It applies by itself only when every area's
    /// rule lets it and no change is `unassessed`; otherwise it needs the most approvals any
    /// of those rules asks for, from a role every rule that asks for approval names, and it
    /// expires at the earliest expiry. `Err` when those rules share no approver role.
    pub fn decide(
        &self,
        kind: ActionKind,
        areas: &[String],
        diff: &[Change],
        unassessed: &[usize],
    ) -> Result<Decided, String> {
        let rules: Vec<(&str, Rule)> = areas
            .iter()
            .map(|area| (area.as_str(), self.rule_for(kind, area)))
            .collect();
        let several = rules.len() > 1;
        let mut needing: Vec<(&str, &Rule, Vec<String>)> = Vec::new();
        for (area, rule) in &rules {
            let gate = rule.gate(diff);
            if !gate.is_auto() {
                let reasons = gate
                    .reasons
                    .into_iter()
                    .map(|r| {
                        if several {
                            format!("area {area}: {r}")
                        } else {
                            r
                        }
                    })
                    .collect();
                needing.push((area, rule, reasons));
            }
        }
        if needing.is_empty() && !unassessed.is_empty() {
            let listed: Vec<String> = unassessed.iter().map(|i| format!("change {i}")).collect();
            let reason = format!(
                "{} cannot be assessed by mixplane: it waits for approval",
                listed.join(", ")
            );
            // Every area's approvers must agree, as if each rule asked.
            needing = rules
                .iter()
                .enumerate()
                .map(|(i, (area, rule))| {
                    let reasons = if i == 0 {
                        vec![reason.clone()]
                    } else {
                        Vec::new()
                    };
                    (*area, rule, reasons)
                })
                .collect();
        }
        let autonomy = rules
            .iter()
            .map(|(_, r)| r.autonomy)
            .min_by_key(|a| match a {
                Autonomy::Copilot => 0,
                Autonomy::Assisted => 1,
                Autonomy::ClosedLoop => 2,
            })
            .unwrap_or(Autonomy::Copilot);
        let expiry_minutes = rules
            .iter()
            .map(|(_, r)| r.expiry_minutes)
            .min()
            .unwrap_or_else(default_expiry);
        if needing.is_empty() {
            return Ok(Decided {
                autonomy,
                gate: Gate::auto(),
                expiry_minutes,
            });
        }
        let mut approver_roles = needing[0].1.approver_roles.clone();
        approver_roles.retain(|role| {
            needing
                .iter()
                .all(|(_, r, _)| r.approver_roles.contains(role))
        });
        if approver_roles.is_empty() {
            let named: Vec<&str> = needing.iter().map(|(a, _, _)| *a).collect();
            return Err(format!(
                "the {kind} rules of areas {} share no approver role, so nobody could approve \
                 this proposal; split it into one proposal per area",
                named.join(", ")
            ));
        }
        Ok(Decided {
            autonomy,
            gate: Gate {
                approvals: if needing.iter().any(|(_, r, _)| r.four_eyes) {
                    2
                } else {
                    1
                },
                approver_roles,
                reasons: needing.into_iter().flat_map(|(_, _, r)| r).collect(),
            },
            expiry_minutes,
        })
    }

    /// The rule for `kind` in `area`: the area's own, else the kind's `*` rule, else the
    /// fallback.
    pub fn rule_for(&self, kind: ActionKind, area: &str) -> Rule {
        let of_kind = || self.rules.iter().filter(|r| r.kind == kind);
        of_kind()
            .find(|r| r.area == area)
            .or_else(|| of_kind().find(|r| r.area == "*"))
            .cloned()
            .unwrap_or_else(|| Rule::fallback(kind))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn moved(minutes: i64, high: bool, id: &str) -> Change {
        Change {
            entity: "order".into(),
            id: id.into(),
            field: "due".into(),
            before: json!(0),
            after: json!(minutes),
            shift_minutes: Some(minutes),
            high_priority: high,
        }
    }

    #[test]
    fn the_shipped_policy_parses_and_covers_every_kind() {
        let policy = Policy::default_policy();
        for &kind in ActionKind::ALL {
            assert!(
                policy.rules.iter().any(|r| r.kind == kind),
                "no rule for {kind}"
            );
        }
        assert!(policy.privacy.masked_fields.contains("parameters"));
    }

    #[test]
    fn assisted_applies_within_thresholds_only() {
        let rule = Rule {
            autonomy: Autonomy::Assisted,
            thresholds: Thresholds {
                max_high_priority_move_minutes: Some(60),
                max_operations_changed: Some(2),
            },
            ..Rule::fallback(ActionKind::ScheduleChange)
        };
        assert!(
            rule.gate(&[moved(60, true, "a"), moved(500, false, "b")])
                .is_auto()
        );
        let gate = rule.gate(&[moved(61, true, "a")]);
        assert_eq!(gate.approvals, 1);
        assert!(gate.reasons[0].contains("61 min"), "{gate:?}");
        let many = [
            moved(1, false, "a"),
            moved(1, false, "b"),
            moved(1, false, "c"),
        ];
        assert!(rule.gate(&many).reasons[0].contains("3 operations"));
        let four_eyes = Rule {
            four_eyes: true,
            ..rule
        };
        assert_eq!(four_eyes.gate(&many).approvals, 2);
    }

    #[test]
    fn rule_lookup_prefers_the_area_and_falls_back_to_copilot() {
        let text = r#"
            [[rule]]
            kind = "quality_hold"
            autonomy = "closed_loop"
            approver_roles = ["quality_engineer"]

            [[rule]]
            kind = "quality_hold"
            area = "PACK"
            autonomy = "copilot"
            approver_roles = ["supervisor"]
        "#;
        let policy = Policy::from_toml(text).unwrap();
        assert_eq!(
            policy.rule_for(ActionKind::QualityHold, "PACK").autonomy,
            Autonomy::Copilot
        );
        assert_eq!(
            policy.rule_for(ActionKind::QualityHold, "MIX").autonomy,
            Autonomy::ClosedLoop
        );
        let fallback = policy.rule_for(ActionKind::ResourceTransfer, "MIX");
        assert_eq!(fallback.autonomy, Autonomy::Copilot);
        assert!(!fallback.gate(&[]).is_auto());
    }

    #[test]
    fn several_areas_get_the_strictest_of_their_rules() {
        let text = r#"
            [[rule]]
            kind = "schedule_change"
            autonomy = "closed_loop"
            approver_roles = ["planner", "supervisor"]
            expiry_minutes = 300

            [[rule]]
            kind = "schedule_change"
            area = "PACK"
            autonomy = "copilot"
            approver_roles = ["supervisor", "admin"]
            four_eyes = true
            expiry_minutes = 60

            [[rule]]
            kind = "schedule_change"
            area = "SVC"
            autonomy = "copilot"
            approver_roles = ["planner"]
        "#;
        let policy = Policy::from_toml(text).unwrap();
        let kind = ActionKind::ScheduleChange;
        let areas = |names: &[&str]| names.iter().map(|a| a.to_string()).collect::<Vec<_>>();
        let diff = [moved(5, false, "a")];
        let alone = policy.decide(kind, &areas(&["MIX"]), &diff, &[]).unwrap();
        assert!(alone.gate.is_auto());
        assert_eq!(alone.autonomy, Autonomy::ClosedLoop);
        let both = policy
            .decide(kind, &areas(&["MIX", "PACK"]), &diff, &[])
            .unwrap();
        assert_eq!(both.autonomy, Autonomy::Copilot);
        assert_eq!(both.gate.approvals, 2);
        assert_eq!(both.gate.approver_roles, [Role::Supervisor, Role::Admin]);
        assert_eq!(both.expiry_minutes, 60);
        assert!(
            both.gate.reasons[0].starts_with("area PACK: copilot"),
            "{both:?}"
        );
        // An unassessed change makes even closed loop wait, for every area's approvers.
        let unknown = policy.decide(kind, &areas(&["MIX"]), &diff, &[0]).unwrap();
        assert_eq!(unknown.gate.approvals, 1);
        assert_eq!(
            unknown.gate.approver_roles,
            [Role::Planner, Role::Supervisor]
        );
        assert!(unknown.gate.reasons[0].contains("change 0 cannot be assessed"));
        // No role approves in both PACK and SVC: refused, naming the areas.
        let error = policy
            .decide(kind, &areas(&["PACK", "SVC"]), &diff, &[])
            .unwrap_err();
        assert!(
            error.contains("areas PACK, SVC share no approver role"),
            "{error}"
        );
    }

    #[test]
    fn inconsistent_policies_are_rejected() {
        let agent = r#"
            [[rule]]
            kind = "schedule_change"
            autonomy = "copilot"
            approver_roles = ["agent"]
        "#;
        assert!(
            Policy::from_toml(agent)
                .unwrap_err()
                .to_string()
                .contains("agents")
        );
        assert!(Policy::from_toml("[[rule]]\nkind = \"nope\"").is_err());
    }
}
