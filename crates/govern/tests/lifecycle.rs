//! The proposal lifecycle over a small table of plant facts: approval, application and
//! rollback, thresholds, four-eyes, expiry and scope — every proposal made on the server's
//! assessment of its diff, with claims corrected, kinds checked against what the diff
//! touches and areas computed from it.

use std::collections::BTreeSet;

use govern::evidence::{DispatchFacts, FactTable, OrderFacts, UnitFacts};
use govern::{
    ActionKind, Change, Entity, Evidence, Field, GovernError, Hierarchy, Outcome, Policy,
    Principal, PrincipalKind, Proposal, ProposalDraft, Role, Scope, Status, Trigger, assess,
};
use model::{EquipmentState, Priority, Timestamp};
use serde_json::json;

const DUE: &str = "2026-03-02T06:00:00Z";

/// `PO-1`: high priority, area MIX, step 0 dispatched on `U-MIX` at its due date; `PO-2`:
/// low priority, routed through MIX and PACK; units `U-MIX` and `U-PACK`, running.
fn facts() -> FactTable {
    let order = |priority, areas: &[&str]| OrderFacts {
        priority,
        due: Timestamp::parse(DUE).unwrap(),
        quantity: 10.0,
        areas: areas.iter().map(|a| a.to_string()).collect::<BTreeSet<_>>(),
        steps: 2,
    };
    let unit = |area: &str| UnitFacts {
        area: area.into(),
        state: Some(EquipmentState::Running),
    };
    FactTable {
        orders: [
            ("PO-1".to_owned(), order(Priority::High, &["MIX"])),
            ("PO-2".to_owned(), order(Priority::Low, &["MIX", "PACK"])),
        ]
        .into(),
        dispatches: [(
            ("PO-1".to_owned(), 0),
            DispatchFacts {
                unit: Some("U-MIX".into()),
                start: Some(Timestamp::parse(DUE).unwrap()),
            },
        )]
        .into(),
        units: [
            ("U-MIX".to_owned(), unit("MIX")),
            ("U-PACK".to_owned(), unit("PACK")),
        ]
        .into(),
        lots: [
            ("LOT-BOUGHT".to_owned(), BTreeSet::new()),
            ("LOT-MADE".to_owned(), ["MIX".to_owned()].into()),
        ]
        .into(),
        ..FactTable::default()
    }
}

/// Proposes `draft` on the assessment of its diff against [`facts`].
fn propose(
    id: &str,
    draft: ProposalDraft,
    who: &Principal,
    policy: &Policy,
    h: &Hierarchy,
    now: Timestamp,
) -> Result<Proposal, GovernError> {
    let assessment = assess(&draft.diff, &facts())?;
    Proposal::propose(id, draft, who, policy, h, &assessment, now)
}

fn change(
    entity: &str,
    id: &str,
    field: &str,
    before: serde_json::Value,
    after: serde_json::Value,
) -> Change {
    Change {
        entity: entity.into(),
        id: id.into(),
        field: field.into(),
        before,
        after,
        shift_minutes: None,
        high_priority: false,
    }
}

/// A change that implies `kind`: a due-date move of high-priority `PO-1` by `minutes`
/// (schedule_change, honestly declared), a disposition of an NC, a unit taken down.
fn change_of(kind: ActionKind, minutes: i64) -> Change {
    let due = Timestamp::parse(DUE).unwrap();
    match kind {
        ActionKind::NcDisposition => {
            change("nc", "NC-1", "disposition", json!("open"), json!("scrap"))
        }
        ActionKind::QualityHold => {
            change("unit", "U-MIX", "state", json!("running"), json!("down"))
        }
        _ => Change {
            shift_minutes: Some(minutes),
            high_priority: true,
            ..change(
                "order",
                "PO-1",
                "due",
                json!(due),
                json!(due.plus_minutes(minutes as f64)),
            )
        },
    }
}

#[test]
fn change_kinds_and_fields_are_an_open_set_with_an_unchanged_wire_form() {
    let text = r#"{"entity":"operation","id":"MO-1/0","field":"start","before":null,"after":1,"high_priority":false}"#;
    let change: Change = serde_json::from_str(text).unwrap();
    assert_eq!(change.entity, Entity::Operation);
    assert_eq!(change.field, Field::Start);
    assert_eq!(serde_json::to_string(&change).unwrap(), text);
    let other: Change = serde_json::from_str(&text.replace("operation", "recipe")).unwrap();
    assert_eq!(other.entity, Entity::Other("recipe".into()));
    assert_eq!(other.entity.as_str(), "recipe");
    assert_eq!(Entity::from("pool_member"), Entity::PoolMember);
    assert_eq!(
        Field::from("overtime_windows").to_string(),
        "overtime_windows"
    );
    assert_eq!(Field::from("colour"), Field::Other("colour".into()));
}

fn hierarchy() -> Hierarchy {
    Hierarchy {
        site: "S".into(),
        areas: ["MIX", "PACK"].map(String::from).into(),
    }
}

fn person(id: &str, role: Role, scope: &str) -> Principal {
    Principal::new(id, PrincipalKind::Person, role, scope.parse().unwrap())
}

fn draft(kind: ActionKind, minutes: i64) -> ProposalDraft {
    ProposalDraft {
        kind,
        area: "MIX".into(),
        title: "move".into(),
        evidence: Evidence {
            input_sha256: "ab".repeat(32),
            engine: "mixplane-scheduler".into(),
            engine_version: "0.1.0".into(),
            trigger: Trigger::Event {
                event_id: "e-1".into(),
            },
            kpis_before: [("tardiness_min".into(), 90.0)].into(),
            kpis_after: [("tardiness_min".into(), 30.0)].into(),
        },
        diff: vec![change_of(kind, minutes)],
    }
}

fn outcome() -> Outcome {
    Outcome {
        by: "x".into(),
        at: Timestamp(5),
        sink: "file".into(),
        answer: json!({"ok": true}),
    }
}

#[test]
fn lifecycle_with_approval_apply_and_rollback() {
    let h = hierarchy();
    let policy = Policy::default_policy();
    let agent = Principal::new("bot", PrincipalKind::Agent, Role::Agent, Scope::All);
    let mut p = propose(
        "P1",
        draft(ActionKind::ScheduleChange, 120),
        &agent,
        &policy,
        &h,
        Timestamp(0),
    )
    .unwrap();
    assert_eq!(p.status, Status::Proposed);
    assert_eq!(p.expires_at, Timestamp(240 * 60_000));
    assert!(p.check_apply(None, &h).is_err());
    // Wrong role, wrong scope, agents.
    let qe = person("q", Role::QualityEngineer, "*");
    assert!(matches!(
        p.approve(&qe, &h, Timestamp(1), None),
        Err(GovernError::Forbidden(_))
    ));
    let pack = person("pp", Role::Planner, "area:PACK");
    assert!(matches!(
        p.approve(&pack, &h, Timestamp(1), None),
        Err(GovernError::Forbidden(_))
    ));
    assert!(matches!(
        p.approve(&agent, &h, Timestamp(1), None),
        Err(GovernError::Forbidden(_))
    ));
    let planner = person("ann", Role::Planner, "area:MIX");
    p.approve(&planner, &h, Timestamp(1), Some("ok".into()))
        .unwrap();
    assert_eq!(p.status, Status::Approved);
    let viewer = person("v", Role::Viewer, "*");
    assert!(matches!(
        p.check_apply(Some(&viewer), &h),
        Err(GovernError::Forbidden(_))
    ));
    p.apply(Some(&planner), &h, outcome()).unwrap();
    assert_eq!(p.status, Status::Applied);
    assert!(p.check_apply(Some(&planner), &h).is_err());
    p.check_roll_back(&planner, &h).unwrap();
    let inverse = p.inverse_diff();
    assert_eq!(inverse[0].after, p.diff[0].before);
    assert_eq!(inverse[0].shift_minutes, Some(-120));
    p.record_rolled_back(outcome());
    assert_eq!(p.status, Status::RolledBack);
}

#[test]
fn within_thresholds_applies_by_itself() {
    let h = hierarchy();
    let planner = person("ann", Role::Planner, "*");
    let p = propose(
        "P",
        draft(ActionKind::ScheduleChange, 30),
        &planner,
        &Policy::default_policy(),
        &h,
        Timestamp(0),
    )
    .unwrap();
    assert_eq!(p.status, Status::Approved);
    p.check_apply(None, &h).unwrap();
}

#[test]
fn four_eyes_expiry_own_and_rejection() {
    let h = hierarchy();
    let policy = Policy::default_policy();
    let qe = person("q1", Role::QualityEngineer, "*");
    let mut p = propose(
        "P",
        draft(ActionKind::NcDisposition, 0),
        &qe,
        &policy,
        &h,
        Timestamp(0),
    )
    .unwrap();
    assert_eq!(p.gate.approvals, 2);
    assert!(
        matches!(
            p.approve(&qe, &h, Timestamp(1), None),
            Err(GovernError::Forbidden(_))
        ),
        "own"
    );
    let q2 = person("q2", Role::QualityEngineer, "site:S");
    p.approve(&q2, &h, Timestamp(1), None).unwrap();
    assert_eq!(p.status, Status::Proposed);
    assert!(matches!(
        p.approve(&q2, &h, Timestamp(2), None),
        Err(GovernError::Conflict(_))
    ));
    let mut expired = p.clone();
    let sup = person("s", Role::Supervisor, "*");
    let late = p.expires_at;
    assert!(matches!(
        expired.approve(&sup, &h, late, None),
        Err(GovernError::Conflict(_))
    ));
    assert_eq!(expired.status, Status::Expired);
    p.approve(&sup, &h, Timestamp(3), None).unwrap();
    assert_eq!(p.status, Status::Approved);
    assert!(p.gate_satisfied());

    let mut r = propose(
        "R",
        draft(ActionKind::NcDisposition, 0),
        &qe,
        &policy,
        &h,
        Timestamp(0),
    )
    .unwrap();
    r.reject(&sup, &h, Timestamp(1), Some("no".into())).unwrap();
    assert_eq!(r.status, Status::Rejected);
    assert!(r.approve(&q2, &h, Timestamp(2), None).is_err());
}

#[test]
fn proposing_checks_role_scope_and_content() {
    let h = hierarchy();
    let policy = Policy::default_policy();
    let viewer = person("v", Role::Viewer, "*");
    assert!(matches!(
        propose(
            "P",
            draft(ActionKind::QualityHold, 0),
            &viewer,
            &policy,
            &h,
            Timestamp(0)
        ),
        Err(GovernError::Forbidden(_))
    ));
    let pack = person("p", Role::Planner, "area:PACK");
    assert!(matches!(
        propose(
            "P",
            draft(ActionKind::QualityHold, 0),
            &pack,
            &policy,
            &h,
            Timestamp(0)
        ),
        Err(GovernError::Forbidden(_))
    ));
    let mut nowhere = draft(ActionKind::QualityHold, 0);
    nowhere.area = "MARS".into();
    assert!(matches!(
        propose("P", nowhere, &viewer, &policy, &h, Timestamp(0)),
        Err(GovernError::Forbidden(_) | GovernError::Invalid(_))
    ));
    assert_eq!(
        "nc_disposition".parse::<ActionKind>(),
        Ok(ActionKind::NcDisposition)
    );
    assert_eq!("rolled_back".parse::<Status>(), Ok(Status::RolledBack));
}

#[test]
fn lying_claims_are_corrected_and_the_gate_uses_the_real_move() {
    let h = hierarchy();
    let planner = person("ann", Role::Planner, "*");
    let mut lying = draft(ActionKind::ScheduleChange, 16 * 24 * 60);
    lying.diff[0].shift_minutes = Some(5);
    lying.diff[0].high_priority = false;
    let p = propose(
        "P",
        lying,
        &planner,
        &Policy::default_policy(),
        &h,
        Timestamp(0),
    )
    .unwrap();
    assert_eq!(p.status, Status::Proposed, "{:?}", p.gate);
    assert!(p.gate.reasons[0].contains("23040 min"), "{:?}", p.gate);
    assert_eq!(p.diff[0].shift_minutes, Some(23_040));
    assert!(p.diff[0].high_priority);
    let corrected: Vec<&str> = p
        .checks
        .claims_corrected
        .iter()
        .map(|c| c.field.as_str())
        .collect();
    assert_eq!(corrected, ["shift_minutes", "high_priority"]);
    assert_eq!(p.checks.claims_corrected[0].claimed, json!(5));
    assert_eq!(p.checks.claims_corrected[0].computed, json!(23_040));
    assert!(p.checks.unchecked_before.is_empty());
}

#[test]
fn a_kind_the_diff_does_not_imply_is_refused_naming_the_change() {
    let h = hierarchy();
    let planner = person("ann", Role::Planner, "*");
    let mut disguised = draft(ActionKind::ScheduleChange, 30);
    disguised.kind = ActionKind::QualityHold;
    let error = propose(
        "P",
        disguised,
        &planner,
        &Policy::default_policy(),
        &h,
        Timestamp(0),
    )
    .unwrap_err();
    let GovernError::Invalid(message) = error else {
        panic!("{error:?}")
    };
    assert!(
        message.contains("change 0 (order.due of `PO-1`)"),
        "{message}"
    );
    assert!(
        message.contains("schedule_change change, not quality_hold"),
        "{message}"
    );
}

#[test]
fn a_stale_before_is_refused_naming_the_field() {
    let h = hierarchy();
    let planner = person("ann", Role::Planner, "*");
    let mut stale = draft(ActionKind::ScheduleChange, 30);
    stale.diff[0].before = json!("2026-03-01T06:00:00Z");
    let error = propose(
        "P",
        stale,
        &planner,
        &Policy::default_policy(),
        &h,
        Timestamp(0),
    )
    .unwrap_err();
    let GovernError::Stale(message) = error else {
        panic!("{error:?}")
    };
    assert!(
        message.contains("change 0 (order.due of `PO-1`)"),
        "{message}"
    );
    assert!(message.contains(DUE), "{message}");
    // A change to an object the plant lacks is malformed.
    let mut ghost = draft(ActionKind::ScheduleChange, 30);
    ghost.diff[0].id = "PO-404".into();
    assert!(matches!(
        propose("P", ghost, &planner, &Policy::default_policy(), &h, Timestamp(0)),
        Err(GovernError::Invalid(m)) if m.contains("no order `PO-404`")
    ));
}

#[test]
fn the_areas_are_those_the_diff_touches_and_deciding_needs_all_of_them() {
    let h = hierarchy();
    let policy = Policy::default_policy();
    let proposer = person("pat", Role::Planner, "*");
    let mut both = draft(ActionKind::ScheduleChange, 30);
    both.diff = vec![change(
        "order",
        "PO-2",
        "priority",
        json!("low"),
        json!("medium"),
    )];
    both.diff.push(change(
        "unit",
        "U-PACK",
        "state",
        json!("running"),
        json!("idle"),
    ));
    let mut p = propose("P", both.clone(), &proposer, &policy, &h, Timestamp(0)).unwrap();
    assert_eq!(p.area, "MIX", "the named area is kept as the primary one");
    assert_eq!(p.areas, ["MIX", "PACK"]);
    assert_eq!(p.checks.units, ["U-PACK"]);
    // Two objects are within the assisted thresholds: it applied by itself. Make it wait.
    p.status = Status::Proposed;
    p.gate.approvals = 1;
    p.gate.approver_roles = vec![Role::Planner];
    let mix = person("mia", Role::Planner, "area:MIX");
    let error = p.approve(&mix, &h, Timestamp(1), None).unwrap_err();
    assert!(
        matches!(&error, GovernError::Forbidden(m) if m.contains("area `PACK`")),
        "{error:?}"
    );
    assert!(p.scope_gap(&mix, &h).is_some());
    let site = person("sid", Role::Planner, "site:S");
    p.approve(&site, &h, Timestamp(1), None).unwrap();
    assert!(p.check_apply(Some(&mix), &h).is_err());
    p.check_apply(Some(&site), &h).unwrap();
    // An area-scoped proposer cannot propose it, whatever area it names.
    let mut named = both;
    named.area = "MIX".into();
    assert!(matches!(
        propose("Q", named, &mix, &policy, &h, Timestamp(0)),
        Err(GovernError::Forbidden(m)) if m.contains("area `PACK`")
    ));
}

#[test]
fn a_named_area_the_diff_does_not_touch_is_corrected() {
    let h = hierarchy();
    let planner = person("ann", Role::Planner, "*");
    let mut elsewhere = draft(ActionKind::ScheduleChange, 30);
    elsewhere.area = "PACK".into();
    let p = propose(
        "P",
        elsewhere,
        &planner,
        &Policy::default_policy(),
        &h,
        Timestamp(0),
    )
    .unwrap();
    assert_eq!(p.area, "MIX");
    assert_eq!(p.areas, ["MIX"]);
    let correction = &p.checks.claims_corrected[0];
    assert_eq!(
        (correction.change, correction.field.as_str()),
        (None, "area")
    );
    assert_eq!(correction.claimed, json!("PACK"));
}

#[test]
fn a_change_mixplane_cannot_assess_always_waits() {
    let h = hierarchy();
    let policy = Policy::from_toml(
        r#"
        [[rule]]
        kind = "quality_hold"
        autonomy = "closed_loop"
        approver_roles = ["supervisor"]
        "#,
    )
    .unwrap();
    let planner = person("ann", Role::Planner, "*");
    let mut odd = draft(ActionKind::QualityHold, 0);
    odd.diff = vec![change(
        "recipe",
        "R-1",
        "colour",
        json!("red"),
        json!("blue"),
    )];
    let p = propose("P", odd, &planner, &policy, &h, Timestamp(0)).unwrap();
    assert_eq!(p.status, Status::Proposed);
    assert_eq!(p.gate.approver_roles, [Role::Supervisor]);
    assert!(
        p.gate.reasons[0].contains("cannot be assessed"),
        "{:?}",
        p.gate
    );
    assert_eq!(p.checks.unassessed, [0]);
    assert_eq!(p.checks.kpis, govern::KpiSource::Claimed);
}

#[test]
fn a_hold_on_a_purchased_lot_is_site_wide_and_out_of_reach_of_area_scopes() {
    let h = hierarchy();
    let policy = Policy::default_policy();
    let hold = |lot: &str| {
        let mut d = draft(ActionKind::QualityHold, 0);
        d.diff = vec![change(
            "lot",
            lot,
            "state",
            json!("released"),
            json!("held"),
        )];
        d
    };
    let mix_qe = person("quinn", Role::QualityEngineer, "area:MIX");
    let error = propose("P", hold("LOT-BOUGHT"), &mix_qe, &policy, &h, Timestamp(0)).unwrap_err();
    assert!(
        matches!(&error, GovernError::Forbidden(m) if m.contains("site `S` as a whole")),
        "{error:?}"
    );
    // Its own area's lot it may hold (closed loop), with the `before` recorded as unchecked.
    let made = propose("M", hold("LOT-MADE"), &mix_qe, &policy, &h, Timestamp(0)).unwrap();
    assert_eq!(made.status, Status::Approved);
    assert_eq!(made.checks.unchecked_before, [0]);
    let site_qe = person("quill", Role::QualityEngineer, "site:S");
    let bought = propose("B", hold("LOT-BOUGHT"), &site_qe, &policy, &h, Timestamp(0)).unwrap();
    assert!(bought.checks.site_wide);
    assert!(bought.scope_gap(&mix_qe, &h).is_some());
    assert!(bought.scope_gap(&site_qe, &h).is_none());
    // Releasing a held lot is a disposition, not a hold.
    let mut release = hold("LOT-MADE");
    release.diff[0].before = json!("held");
    release.diff[0].after = json!("released");
    assert!(matches!(
        propose("R", release, &mix_qe, &policy, &h, Timestamp(0)),
        Err(GovernError::Invalid(m)) if m.contains("nc_disposition change, not quality_hold")
    ));
}
