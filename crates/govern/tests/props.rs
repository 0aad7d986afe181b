//! Property tests of the governance rules over random policies, principals and sequences of
//! proposals, approvals, rejections, applications and rollbacks.
//!
//! The invariants are checked against the test's own reading of the policy (not the crate's
//! `Rule::gate`): a proposal above its policy's threshold (any copilot proposal; an assisted
//! one that moves a high-priority order more than M minutes or changes more than K objects)
//! is never applied without approvals from enough distinct permitted principals — of an
//! approver role, in scope, not the proposer, not an agent — and no agent ever approves its
//! own proposal.
//!
//! Proposers lie: every change declares a random `shift_minutes` and `high_priority`, and the
//! proposal a random kind and area. The test's reading uses the plant's facts instead — the
//! order's real priority, the real move from `before` to `after`, every area the diff
//! touches — and checks that no proposal is made under a kind its diff does not imply and
//! none passes a gate the truth says it should not (approvers need scope over every area).

use std::collections::BTreeSet;

use govern::evidence::{DispatchFacts, FactTable, OrderFacts, UnitFacts};
use model::{EquipmentState, Priority};

use govern::{
    ActionKind, Autonomy, Change, DecisionKind, Evidence, Hierarchy, Outcome, Policy, Principal,
    PrincipalKind, Privacy, Proposal, ProposalDraft, Role, Rule, Scope, Status, Thresholds,
    Trigger,
};
use model::Timestamp;
use proptest::prelude::*;
use serde_json::json;

const AREAS: [&str; 2] = ["MIX", "PACK"];

fn hierarchy() -> Hierarchy {
    Hierarchy {
        site: "S".into(),
        areas: AREAS.map(String::from).into(),
    }
}

fn any_role() -> impl Strategy<Value = Role> {
    prop::sample::select(Role::ALL.to_vec())
}

fn any_kind() -> impl Strategy<Value = ActionKind> {
    prop::sample::select(ActionKind::ALL.to_vec())
}

fn any_scope() -> impl Strategy<Value = Scope> {
    prop_oneof![
        Just(Scope::All),
        Just(Scope::Site("S".into())),
        Just(Scope::Site("OTHER".into())),
        Just(Scope::Area("MIX".into())),
        Just(Scope::Area("PACK".into())),
    ]
}

fn any_rule() -> impl Strategy<Value = Rule> {
    (
        any_kind(),
        prop::sample::select(vec!["*", "MIX", "PACK"]),
        prop::sample::select(vec![
            Autonomy::Copilot,
            Autonomy::Assisted,
            Autonomy::ClosedLoop,
        ]),
        prop::option::of(0i64..180),
        prop::option::of(1usize..5),
        prop::sample::subsequence(
            vec![
                Role::Viewer,
                Role::Operator,
                Role::Planner,
                Role::QualityEngineer,
                Role::Supervisor,
                Role::Admin,
            ],
            1..4,
        ),
        any::<bool>(),
        10i64..600,
    )
        .prop_map(
            |(kind, area, autonomy, m, k, approver_roles, four_eyes, expiry_minutes)| Rule {
                kind,
                area: area.into(),
                autonomy,
                thresholds: Thresholds {
                    max_high_priority_move_minutes: m,
                    max_operations_changed: k,
                },
                approver_roles,
                four_eyes,
                expiry_minutes,
            },
        )
}

fn any_policy() -> impl Strategy<Value = Policy> {
    prop::collection::vec(any_rule(), 0..8).prop_map(|rules| {
        let mut seen = BTreeSet::new();
        let rules = rules
            .into_iter()
            .filter(|r| seen.insert((r.kind, r.area.clone())))
            .collect();
        Policy {
            rules,
            privacy: Privacy::default(),
        }
    })
}

fn any_principal() -> impl Strategy<Value = (PrincipalKind, Role, Scope)> {
    (
        prop::sample::select(vec![
            PrincipalKind::Person,
            PrincipalKind::Service,
            PrincipalKind::Agent,
        ]),
        any_role(),
        any_scope(),
    )
}

#[derive(Debug, Clone)]
enum Op {
    Propose {
        by: usize,
        kind: ActionKind,
        area: usize,
        changes: Vec<Lie>,
    },
    Approve {
        proposal: usize,
        by: usize,
    },
    Reject {
        proposal: usize,
        by: usize,
    },
    Apply {
        proposal: usize,
        by: Option<usize>,
    },
    RollBack {
        proposal: usize,
        by: usize,
    },
}

fn any_op(principals: usize) -> impl Strategy<Value = Op> {
    let p = 0..principals;
    prop_oneof![
        2 => (p.clone(), any_kind(), 0..AREAS.len(), prop::collection::vec(any_lie(), 1..8))
            .prop_map(|(by, kind, area, changes)| Op::Propose { by, kind, area, changes }),
        4 => (0usize..16, p.clone()).prop_map(|(proposal, by)| Op::Approve { proposal, by }),
        1 => (0usize..16, p.clone()).prop_map(|(proposal, by)| Op::Reject { proposal, by }),
        3 => (0usize..16, prop::option::of(p.clone())).prop_map(|(proposal, by)| Op::Apply { proposal, by }),
        1 => (0usize..16, p).prop_map(|(proposal, by)| Op::RollBack { proposal, by }),
    ]
}

/// One change as proposed: which object, what shape, how far it really moves, and what the
/// proposer claims about it.
#[derive(Debug, Clone, Copy)]
struct Lie {
    object: u8,
    /// 0: `operation.start` of `MO-k/0`; 1: `order.due` of `MO-k`; 2: a unit taken down.
    shape: u8,
    minutes: i64,
    claimed_shift: Option<i64>,
    claimed_high: bool,
}

fn any_lie() -> impl Strategy<Value = Lie> {
    (
        0u8..8,
        0u8..3,
        -240i64..240,
        prop::option::of(-10i64..10),
        any::<bool>(),
    )
        .prop_map(
            |(object, shape, minutes, claimed_shift, claimed_high)| Lie {
                object,
                shape,
                minutes,
                claimed_shift,
                claimed_high,
            },
        )
}

fn t0() -> Timestamp {
    Timestamp::parse("2026-03-02T06:00:00Z").unwrap()
}

/// Orders `MO-0`…`MO-7`: even ones high priority; 0–2 in MIX, 3–5 in PACK, 6–7 in both; each
/// one step, dispatched at `t0`. Units `U-MIX` and `U-PACK`, running.
fn order_areas(k: u8) -> BTreeSet<String> {
    let names: &[&str] = match k {
        0..=2 => &["MIX"],
        3..=5 => &["PACK"],
        _ => &["MIX", "PACK"],
    };
    names.iter().map(|a| a.to_string()).collect()
}

fn high(k: u8) -> bool {
    k.is_multiple_of(2)
}

fn facts() -> FactTable {
    FactTable {
        orders: (0..8u8)
            .map(|k| {
                let facts = OrderFacts {
                    priority: if high(k) {
                        Priority::High
                    } else {
                        Priority::Low
                    },
                    due: t0(),
                    quantity: 1.0,
                    areas: order_areas(k),
                    steps: 1,
                };
                (format!("MO-{k}"), facts)
            })
            .collect(),
        dispatches: (0..8u8)
            .map(|k| {
                let dispatch = DispatchFacts {
                    unit: None,
                    start: Some(t0()),
                };
                ((format!("MO-{k}"), 0), dispatch)
            })
            .collect(),
        units: AREAS
            .iter()
            .map(|area| {
                let unit = UnitFacts {
                    area: area.to_string(),
                    state: Some(EquipmentState::Running),
                };
                (format!("U-{area}"), unit)
            })
            .collect(),
        ..FactTable::default()
    }
}

fn change_of(lie: &Lie) -> Change {
    let (entity, id, field, before, after) = match lie.shape {
        0 => (
            "operation",
            format!("MO-{}/0", lie.object),
            "start",
            json!(t0()),
            json!(t0().plus_minutes(lie.minutes as f64)),
        ),
        1 => (
            "order",
            format!("MO-{}", lie.object),
            "due",
            json!(t0()),
            json!(t0().plus_minutes(lie.minutes as f64)),
        ),
        _ => (
            "unit",
            format!("U-{}", AREAS[usize::from(lie.object) % 2]),
            "state",
            json!("running"),
            json!("down"),
        ),
    };
    Change {
        entity: entity.into(),
        id,
        field: field.into(),
        before,
        after,
        shift_minutes: lie.claimed_shift,
        high_priority: lie.claimed_high,
    }
}

/// The truth about a lie: the kinds it may be filed under, its areas, its real move and
/// priority, and the object it changes.
struct Truth {
    kinds: Vec<ActionKind>,
    areas: BTreeSet<String>,
    high: bool,
    moved: i64,
    object: String,
}

fn truth(lie: &Lie) -> Truth {
    let change = change_of(lie);
    let object = format!("{}:{}", change.entity, change.id);
    if lie.shape == 2 {
        return Truth {
            kinds: vec![ActionKind::QualityHold, ActionKind::ScheduleChange],
            areas: [AREAS[usize::from(lie.object) % 2].to_string()].into(),
            high: false,
            moved: 0,
            object,
        };
    }
    Truth {
        kinds: vec![ActionKind::ScheduleChange],
        areas: order_areas(lie.object),
        high: high(lie.object),
        moved: lie.minutes.abs(),
        object,
    }
}

fn draft(kind: ActionKind, area: &str, changes: &[Lie]) -> ProposalDraft {
    ProposalDraft {
        kind,
        area: area.into(),
        title: "random".into(),
        evidence: Evidence {
            input_sha256: "0".repeat(64),
            engine: "prop".into(),
            engine_version: "0".into(),
            trigger: Trigger::Principal {
                principal: "prop".into(),
            },
            kpis_before: Default::default(),
            kpis_after: Default::default(),
        },
        diff: changes.iter().map(change_of).collect(),
    }
}

fn propose(
    id: String,
    draft: ProposalDraft,
    who: &Principal,
    policy: &Policy,
    h: &Hierarchy,
    now: Timestamp,
) -> Result<Proposal, govern::GovernError> {
    let assessment = govern::assess(&draft.diff, &facts())?;
    Proposal::propose(id, draft, who, policy, h, &assessment, now)
}

/// The test's own reading of the policy: the rule for a kind and area, and whether a diff is
/// above its threshold.
fn rule_for<'a>(policy: &'a Policy, kind: ActionKind, area: &str) -> Option<&'a Rule> {
    policy
        .rules
        .iter()
        .find(|r| r.kind == kind && r.area == area)
        .or_else(|| {
            policy
                .rules
                .iter()
                .find(|r| r.kind == kind && r.area == "*")
        })
}

fn above_threshold(rule: Option<&Rule>, truth: &[Truth]) -> bool {
    let Some(rule) = rule else {
        return true; // unconfigured: copilot
    };
    match rule.autonomy {
        Autonomy::Copilot => true,
        Autonomy::ClosedLoop => false,
        Autonomy::Assisted => {
            let t = rule.thresholds;
            let moved = t
                .max_high_priority_move_minutes
                .is_some_and(|m| truth.iter().any(|c| c.high && c.moved > m));
            let objects: BTreeSet<&str> = truth.iter().map(|c| c.object.as_str()).collect();
            let many = t.max_operations_changed.is_some_and(|k| objects.len() > k);
            moved || many
        }
    }
}

fn in_scope(scope: &Scope, area: &str) -> bool {
    match scope {
        Scope::All => true,
        Scope::Site(site) => site == "S",
        Scope::Area(own) => own == area,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn nothing_above_threshold_applies_without_permitted_approval(
        policy in any_policy(),
        principals in prop::collection::vec(any_principal(), 2..7),
        ops in prop::collection::vec(any_op(7), 1..60),
        steps in prop::collection::vec(0i64..90, 60),
    ) {
        let h = hierarchy();
        let principals: Vec<Principal> = principals
            .into_iter()
            .enumerate()
            .map(|(i, (kind, role, scope))| Principal::new(format!("p{i}"), kind, role, scope))
            .collect();
        let who = |i: usize| &principals[i % principals.len()];
        let mut proposals: Vec<Proposal> = Vec::new();
        let mut truths: Vec<Vec<Truth>> = Vec::new();
        let mut now = Timestamp(0);
        for (op, step) in ops.iter().zip(&steps) {
            now = now.plus_minutes(*step as f64);
            let outcome = |by: &str| Outcome { by: by.into(), at: now, sink: "test".into(), answer: json!({}) };
            match op {
                Op::Propose { by, kind, area, changes } => {
                    let id = format!("P{}", proposals.len());
                    if let Ok(p) = propose(id, draft(*kind, AREAS[*area], changes), who(*by), &policy, &h, now) {
                        let truth: Vec<Truth> = changes.iter().map(truth).collect();
                        for t in &truth {
                            prop_assert!(t.kinds.contains(kind), "made as {kind} though a change is {:?}: {:?}", t.kinds, p);
                        }
                        let areas: BTreeSet<String> = truth.iter().flat_map(|t| t.areas.clone()).collect();
                        prop_assert_eq!(p.areas.iter().cloned().collect::<BTreeSet<_>>(), areas);
                        proposals.push(p);
                        truths.push(truth);
                    }
                }
                Op::Approve { proposal, by } => {
                    if let Some(p) = proposals.get_mut(*proposal) {
                        let approver = who(*by);
                        let result = p.approve(approver, &h, now, None);
                        if approver.kind == PrincipalKind::Agent && approver.id == p.proposed_by {
                            prop_assert!(result.is_err(), "an agent approved its own proposal");
                        }
                    }
                }
                Op::Reject { proposal, by } => {
                    if let Some(p) = proposals.get_mut(*proposal) {
                        let _ = p.reject(who(*by), &h, now, None);
                    }
                }
                Op::Apply { proposal, by } => {
                    if let Some(p) = proposals.get_mut(*proposal) {
                        let by = by.map(who);
                        let _ = p.apply(by, &h, outcome(by.map_or("policy", |b| b.id.as_str())));
                    }
                }
                Op::RollBack { proposal, by } => {
                    if let Some(p) = proposals.get_mut(*proposal)
                        && p.check_roll_back(who(*by), &h).is_ok()
                    {
                        p.record_rolled_back(outcome(&who(*by).id));
                    }
                }
            }
        }

        for (p, truth) in proposals.iter().zip(&truths) {
            // No agent approves, nobody approves their own.
            for d in p.decisions.iter().filter(|d| d.decision == DecisionKind::Approve) {
                prop_assert_ne!(&d.principal, &p.proposed_by, "own approval in {:?}", p);
                prop_assert!(d.kind != PrincipalKind::Agent && d.role != Role::Agent, "agent approval in {:?}", p);
            }
            if !matches!(p.status, Status::Applied | Status::RolledBack) {
                continue;
            }
            // The rules of every area the diff really touches that ask for approval.
            let needing: Vec<(Vec<Role>, bool)> = p
                .areas
                .iter()
                .map(|area| rule_for(&policy, p.kind, area))
                .filter(|rule| above_threshold(*rule, truth))
                .map(|rule| rule.map_or(
                    (vec![Role::Supervisor, Role::Admin], false),
                    |r| (r.approver_roles.clone(), r.four_eyes),
                ))
                .collect();
            if needing.is_empty() {
                continue;
            }
            let applied_at = p.applied.as_ref().expect("applied proposals have an outcome").at;
            let permitted: BTreeSet<&str> = p
                .decisions
                .iter()
                .filter(|d| d.decision == DecisionKind::Approve && d.at <= applied_at)
                .filter_map(|d| principals.iter().find(|x| x.id == d.principal))
                .filter(|x| {
                    needing.iter().all(|(roles, _)| roles.contains(&x.role))
                        && x.kind != PrincipalKind::Agent
                        && x.id != p.proposed_by
                        && p.areas.iter().all(|area| in_scope(&x.scope, area))
                })
                .map(|x| x.id.as_str())
                .collect();
            let needed = if needing.iter().any(|(_, four_eyes)| *four_eyes) { 2 } else { 1 };
            prop_assert!(
                permitted.len() >= needed,
                "{} applied above threshold with {} permitted approval(s), {} needed: {:?}",
                p.id, permitted.len(), needed, p
            );
        }
    }
}

/// Within thresholds an assisted proposal applies by itself, and above them it does not —
/// whatever the proposer claims about the move.
#[test]
fn assisted_threshold_boundary() {
    let h = hierarchy();
    let policy = Policy::default_policy();
    let bot = Principal::new("bot", PrincipalKind::Agent, Role::Agent, Scope::All);
    let lie = |minutes| Lie {
        object: 0,
        shape: 0,
        minutes,
        claimed_shift: Some(1),
        claimed_high: false,
    };
    let within = propose(
        "A".into(),
        draft(ActionKind::ScheduleChange, "MIX", &[lie(60)]),
        &bot,
        &policy,
        &h,
        Timestamp(0),
    )
    .unwrap();
    assert!(within.check_apply(None, &h).is_ok());
    let above = propose(
        "B".into(),
        draft(ActionKind::ScheduleChange, "MIX", &[lie(61)]),
        &bot,
        &policy,
        &h,
        Timestamp(0),
    )
    .unwrap();
    assert!(above.check_apply(None, &h).is_err());
    assert!(above_threshold(
        rule_for(&policy, ActionKind::ScheduleChange, "MIX"),
        &[truth(&lie(61))]
    ));
    assert_eq!(above.diff[0].shift_minutes, Some(61));
    assert!(above.diff[0].high_priority);
}
