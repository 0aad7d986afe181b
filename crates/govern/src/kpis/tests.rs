//! The rollout KPIs on hand-made proposals, plan versions, agent calls and drifts: each count
//! and time checked against what the inputs hold.

use model::Timestamp;
use serde_json::json;

use super::*;
use crate::evidence::Checks;
use crate::policy::{Autonomy, Gate};
use crate::proposal::{Decision, Evidence, Outcome, Trigger};
use crate::rbac::{PrincipalKind, Role};

const H: i64 = 3_600_000;

fn proposal(id: &str, kind: ActionKind, area: &str, at_hours: i64, status: Status) -> Proposal {
    Proposal {
        id: id.into(),
        kind,
        site: "S".into(),
        area: area.into(),
        areas: vec![area.into()],
        title: id.into(),
        proposed_by: "agent".into(),
        proposed_by_kind: PrincipalKind::Agent,
        proposed_at: Timestamp(at_hours * H),
        expires_at: Timestamp((at_hours + 4) * H),
        evidence: Evidence {
            input_sha256: "ab".repeat(32),
            engine: "e".into(),
            engine_version: "1".into(),
            trigger: Trigger::Principal {
                principal: "agent".into(),
            },
            kpis_before: Default::default(),
            kpis_after: Default::default(),
        },
        diff: Vec::new(),
        checks: Checks::default(),
        autonomy: Autonomy::Assisted,
        gate: Gate::auto(),
        status,
        decisions: Vec::new(),
        applied: None,
        rolled_back: None,
    }
}

fn decided(mut p: Proposal, decision: DecisionKind, after_minutes: i64) -> Proposal {
    p.decisions.push(Decision {
        principal: "ann".into(),
        kind: PrincipalKind::Person,
        role: Role::Planner,
        decision,
        at: Timestamp(p.proposed_at.0 + after_minutes * 60_000),
        comment: None,
    });
    p
}

fn applied(mut p: Proposal, by: &str) -> Proposal {
    p.applied = Some(Outcome {
        by: by.into(),
        at: p.proposed_at,
        sink: "file".into(),
        answer: json!({}),
    });
    p
}

fn window(from_h: i64, to_h: i64) -> Window {
    Window {
        from: Timestamp(from_h * H),
        to: Timestamp(to_h * H),
    }
}

#[test]
fn recommendations_are_counted_per_kind_and_area() {
    use ActionKind::*;
    let proposals = vec![
        applied(
            proposal("a", ScheduleChange, "MIX", 1, Status::Applied),
            "policy:assisted",
        ),
        applied(
            decided(
                proposal("b", ScheduleChange, "MIX", 2, Status::Applied),
                DecisionKind::Approve,
                30,
            ),
            "ann",
        ),
        decided(
            proposal("c", ScheduleChange, "MIX", 3, Status::Rejected),
            DecisionKind::Reject,
            90,
        ),
        proposal("d", ScheduleChange, "MIX", 4, Status::Expired),
        proposal("e", QualityHold, "PACK", 5, Status::Proposed),
        decided(
            proposal("f", QualityHold, "PACK", 6, Status::Approved),
            DecisionKind::Approve,
            10,
        ),
        // Outside the window.
        proposal("g", ScheduleChange, "MIX", 30, Status::Expired),
    ];
    let kpis = rollout_kpis(
        window(0, 24),
        &KpiInput {
            proposals: &proposals,
            ..KpiInput::default()
        },
    );
    assert_eq!(kpis.recommendations.len(), 2);
    let mix = &kpis.recommendations[0];
    assert_eq!(
        (mix.kind, mix.area.as_deref()),
        (Some(ScheduleChange), Some("MIX"))
    );
    assert_eq!(
        (
            mix.made,
            mix.applied_by_itself,
            mix.approved,
            mix.rejected,
            mix.expired,
            mix.waiting
        ),
        (4, 1, 1, 1, 1, 0)
    );
    // One approved of the three put to people.
    assert_eq!(mix.acceptance_rate, Some(1.0 / 3.0));
    assert_eq!(mix.time_to_decision.n, 2);
    assert_eq!(mix.time_to_decision.median, Some(30.0));
    assert_eq!(mix.time_to_decision.p90, Some(90.0));
    let pack = &kpis.recommendations[1];
    assert_eq!((pack.made, pack.approved, pack.waiting), (2, 1, 1));
    assert_eq!(pack.acceptance_rate, Some(1.0));
    assert_eq!(kpis.total.made, 6);
    assert_eq!((kpis.total.kind, kpis.total.area.clone()), (None, None));
    assert_eq!(kpis.total.acceptance_rate, Some(0.5));
}

#[test]
fn schedule_changes_agent_calls_and_drift_detection() {
    let changes = vec![
        PlanChange {
            at: Timestamp(H),
            by: "ann".into(),
            proposal: None,
        },
        PlanChange {
            at: Timestamp(2 * H),
            by: "ann".into(),
            proposal: Some("P-1".into()),
        },
        PlanChange {
            at: Timestamp(3 * H),
            by: "bob".into(),
            proposal: None,
        },
        PlanChange {
            at: Timestamp(50 * H),
            by: "bob".into(),
            proposal: None,
        },
    ];
    let call = |h: i64, agent: &str, tool: &str| AgentCall {
        at: Timestamp(h * H),
        agent: agent.into(),
        tool: tool.into(),
    };
    let calls = vec![
        call(1, "bot-1", "trace"),
        call(2, "bot-2", "trace"),
        call(3, "bot-1", "trace"),
        call(4, "bot-1", "why_late"),
        call(40, "bot-1", "why_late"),
    ];
    let drifts = vec![
        KnownDrift {
            name: "reactor".into(),
            start: Timestamp(5 * H),
            characteristics: vec!["LEAK".into()],
        },
        KnownDrift {
            name: "unseen".into(),
            start: Timestamp(6 * H),
            characteristics: vec!["OTHER".into()],
        },
    ];
    let alerts = vec![
        ("LEAK".to_owned(), Timestamp(4 * H)), // before the drift: not its detection
        ("LEAK".to_owned(), Timestamp(9 * H)),
    ];
    let out_of_spec = vec![("LEAK".to_owned(), Timestamp(12 * H))];
    let kpis = rollout_kpis(
        window(0, 24),
        &KpiInput {
            plan_changes: &changes,
            agent_calls: Some(&calls),
            drifts: &drifts,
            alerts: &alerts,
            out_of_spec: &out_of_spec,
            ..KpiInput::default()
        },
    );
    assert_eq!(
        (kpis.manual_schedule_changes, kpis.proposed_schedule_changes),
        (2, 1)
    );
    let tools = kpis.agent_calls.unwrap();
    assert_eq!(
        tools,
        vec![
            ToolUse {
                tool: "trace".into(),
                calls: 3,
                agents: 2
            },
            ToolUse {
                tool: "why_late".into(),
                calls: 1,
                agents: 1
            },
        ]
    );
    let reactor = &kpis.drift_detection[0];
    assert_eq!(reactor.delay_minutes, Some(240.0));
    assert_eq!(reactor.lead_minutes, Some(180.0));
    assert_eq!(kpis.drift_detection[1].first_alert, None);
    assert_eq!(
        kpis.drift_detection.len(),
        2,
        "known drifts are reported whatever the window"
    );
    assert_eq!(kpis.drift_detection_delay.n, 1);
    // A reader without the audit trail gets no agent calls, not zero of them.
    let hidden = rollout_kpis(window(0, 24), &KpiInput::default());
    assert_eq!(hidden.agent_calls, None);
    assert_eq!(hidden.total.acceptance_rate, None);
}
