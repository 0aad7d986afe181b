//! Tests of the plan in force over a real store (SQLite in memory) holding the reference
//! plant and simulated days of its events.

use std::collections::BTreeSet;
use std::sync::Arc;

use govern::{Principal, PrincipalKind, Role, Scope, Status, Trigger};
use model::{EquipmentState, Event, EventKind, MaterialKind, OperationRef, OrderStatus, Timestamp};
use schedule::plant::checker::check;
use schedule::plant::from_model::{FromModelOptions, problem_from_model};
use schedule::plant::problem::{PlantProblem, PlantSchedule};
use serde_json::json;

use super::*;

/// A store with the reference plant and `days` simulated days (seed 5) of its events.
async fn simulated(days: f64) -> App {
    let store = Arc::new(store::test_support::private_store().await.unwrap());
    let actor = store::Actor::system("test");
    store
        .put_plant(sim::reference_plant(), &actor)
        .await
        .unwrap();
    let catalog = model::Catalog::new(sim::reference_plant()).unwrap();
    let options = sim::SimOptions {
        days,
        seed: 5,
        ..sim::SimOptions::default()
    };
    let events = sim::simulate(&catalog, &options, None, |_| {})
        .unwrap()
        .events;
    store.append(&events, &actor).await.unwrap();
    App::new(store)
}

fn person(name: &str, role: Role) -> Principal {
    Principal::new(name, PrincipalKind::Person, role, Scope::All)
}

#[tokio::test]
async fn the_current_problem_is_the_plant_as_it_is_now() {
    let app = simulated(2.0).await;
    let state = app.store.snapshot().await.state;
    let problem = current_problem(&app).await.unwrap();
    let clock = state.clock.unwrap();
    assert_eq!(problem.horizon_start.0, clock.0.div_euclid(60_000) * 60_000);
    assert!(problem.horizon_minutes >= 14 * 1440);
    let orders: BTreeSet<&str> = problem.orders.iter().map(|o| o.id.as_str()).collect();
    let ops: std::collections::HashMap<&str, &schedule::plant::problem::OperationSpec> = problem
        .operations
        .iter()
        .map(|op| (op.id.as_str(), op))
        .collect();
    let (mut closed, mut running, mut steps_done) = (0, 0, 0);
    for (id, order) in &state.orders {
        let op_id = |step: u32| OperationRef::new(id.clone(), step).to_string();
        if matches!(
            order.status,
            OrderStatus::Completed | OrderStatus::Cancelled
        ) {
            closed += 1;
            assert!(
                !orders.contains(id.as_str()),
                "closed order {id} is in the problem"
            );
            assert!(!ops.contains_key(op_id(0).as_str()));
            continue;
        }
        assert!(orders.contains(id.as_str()), "open order {id} is missing");
        for step in 0..order.steps_completed {
            steps_done += 1;
            assert!(
                !ops.contains_key(op_id(step).as_str()),
                "completed step {step} of {id}"
            );
        }
        if let Some(step) = order.current_step {
            running += 1;
            let fixed = ops[op_id(step).as_str()].fixed.as_ref().unwrap();
            assert!(fixed.in_progress);
            assert!(fixed.start <= 0);
            assert_eq!(
                Some(fixed.unit.as_str()),
                order.current_unit.as_ref().map(|u| u.as_str())
            );
        }
    }
    assert!(
        closed > 0 && running > 0 && steps_done > 0,
        "{closed} {running} {steps_done}"
    );
    // A running step's crew is a capacity dip of its pools, not a use of them.
    let running_ops = problem.operations.iter().filter(|op| op.fixed.is_some());
    assert!(running_ops.clone().all(|op| op.pools.is_empty()));
    assert!(problem.pools.iter().any(|p| !p.dips.is_empty()));
    // The same store gives the same problem, byte for byte, whoever asks.
    let again = current_problem(&App::new(app.store.clone())).await.unwrap();
    assert_eq!(
        serde_json::to_string(&problem).unwrap(),
        serde_json::to_string(&again).unwrap()
    );
}

#[tokio::test]
async fn a_unit_down_now_and_a_lot_on_hold_shape_the_problem() {
    let app = simulated(1.0).await;
    let state = app.store.snapshot().await.state;
    let catalog = app.catalog().await.unwrap();
    let unit = state
        .units
        .iter()
        .find(|(_, u)| u.state != EquipmentState::Down)
        .map(|(id, _)| id.clone())
        .unwrap();
    let down = Event {
        id: "test-breakdown".into(),
        time: state.clock.unwrap(),
        source: Some("test".into()),
        kind: EventKind::EquipmentStateChanged {
            unit: unit.clone(),
            state: EquipmentState::Down,
            reason: Some("breakdown".into()),
        },
    };
    app.store
        .append(&[down], &store::Actor::system("test"))
        .await
        .unwrap();
    let problem = current_problem(&app).await.unwrap();
    let spec = problem
        .units
        .iter()
        .find(|u| u.id == unit.as_str())
        .unwrap();
    assert!(
        spec.downtime.iter().any(|d| d.start == 0 && d.end > 0),
        "{spec:?}"
    );

    // A lot of an intermediate with stock on hand, put on hold, is no longer stock.
    let (lot, on_hand, material) = state
        .lots
        .iter()
        .find(|(_, l)| {
            l.on_hand() > 0.0
                && catalog
                    .material(&l.material)
                    .is_some_and(|m| m.kind == MaterialKind::Intermediate)
        })
        .map(|(id, l)| (id.clone(), l.on_hand(), l.material.to_string()))
        .expect("a lot of an intermediate on hand");
    app.store
        .place_hold(
            &store::Actor::system("test"),
            "lot",
            lot.as_str(),
            "suspect",
        )
        .await
        .unwrap();
    let state = app.store.snapshot().await.state;
    let held = problem::held_lots(&app, &state).await.unwrap();
    assert!(held.contains(&lot));
    // With no demand (every order closed), the stock is what is on hand and not held.
    let mut quiet = (*state).clone();
    for order in quiet.orders.values_mut() {
        order.status = OrderStatus::Completed;
    }
    let mut options = FromModelOptions::new(problem.horizon_start, 1440);
    let initial = |p: &PlantProblem| {
        p.materials
            .iter()
            .find(|m| m.id == material)
            .map(|m| m.initial)
            .unwrap()
    };
    let free = problem_from_model(&catalog, &quiet, &options).unwrap();
    options.held_lots = held;
    let on_hold = problem_from_model(&catalog, &quiet, &options).unwrap();
    assert!((initial(&free) - initial(&on_hold) - on_hand).abs() < 1e-9);
}

fn tiny(start: Timestamp, ops: serde_json::Value) -> PlantProblem {
    serde_json::from_value(json!({
        "horizon_start": start,
        "horizon_minutes": 1440,
        "units": [{"id": "U1"}, {"id": "U2"}],
        "orders": [{"id": "O1"}, {"id": "O2"}, {"id": "O3"}],
        "operations": ops,
    }))
    .unwrap()
}

#[test]
fn rebase_keeps_instants_drops_what_is_gone_and_puts_running_work_where_it_runs() {
    let start = Timestamp::parse("2026-03-02T06:00:00Z").unwrap();
    let plan = PlanVersion {
        header: PlanHeader {
            version: 1,
            made_at: start,
            plant_time: start,
            made_by: "alice".into(),
            modified_by: None,
            proposal: None,
            basis: None,
            reason: "test".into(),
            horizon_start: start,
        },
        schedule: serde_json::from_value(json!({"assignments": [
            {"op": "O1/0", "unit": "U1", "start": 0, "end": 10},
            {"op": "O1/1", "unit": "U2", "start": 10, "end": 20},
            {"op": "O2/0", "unit": "U1", "start": 10, "end": 30},
        ]}))
        .unwrap(),
        kpis: Default::default(),
        optimality: None,
    };
    // Five minutes later: O1/0 is done, O2/0 runs (started 3 minutes ago on U2), O3/0 is new.
    let later = tiny(
        start.plus_minutes(5.0),
        json!([
            {"id": "O1/1", "order": "O1", "alternatives": [{"unit": "U2", "minutes": 10}]},
            {"id": "O2/0", "order": "O2", "alternatives": [{"unit": "U1", "minutes": 20}, {"unit": "U2", "minutes": 25}],
             "fixed": {"unit": "U2", "start": -3, "in_progress": true}},
            {"id": "O3/0", "order": "O3", "alternatives": [{"unit": "U1", "minutes": 5}]},
        ]),
    );
    let rebased = rebase(&plan, &later);
    let got: Vec<(String, String, i64, i64)> = rebased
        .assignments
        .iter()
        .map(|a| (a.op.clone(), a.unit.clone(), a.start, a.end))
        .collect();
    assert_eq!(
        got,
        [
            ("O1/1".into(), "U2".into(), 5, 15),
            ("O2/0".into(), "U2".into(), -3, 22),
        ]
    );
}

/// `schedule` with `count` operations delayed by a few minutes, still feasible; the ids moved.
fn delayed(
    problem: &PlantProblem,
    schedule: &PlantSchedule,
    count: usize,
) -> (PlantSchedule, Vec<String>) {
    let mut out = schedule.clone();
    let mut moved = Vec::new();
    let mut order: Vec<usize> = (0..out.assignments.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(out.assignments[i].end));
    for i in order {
        if moved.len() == count {
            break;
        }
        for shift in [7, 3, 1] {
            let mut candidate = out.clone();
            candidate.assignments[i].start += shift;
            candidate.assignments[i].end += shift;
            if check(problem, &candidate).feasible {
                moved.push(candidate.assignments[i].op.clone());
                out = candidate;
                break;
            }
        }
    }
    assert_eq!(moved.len(), count, "could not delay {count} operations");
    (out, moved)
}

fn draft(
    app_problem: &PlantProblem,
    schedule: PlantSchedule,
    area: String,
    title: &str,
) -> PlanDraft {
    PlanDraft {
        title: title.into(),
        area: Some(area),
        problem: app_problem.clone(),
        schedule,
        basis: Some(1),
        trigger: Trigger::Principal {
            principal: "paula".into(),
        },
        engine: "test-agent".into(),
        alternatives: vec![Alternative {
            scenario: "as_planned".into(),
            rank: 2,
            kpis: [("late_orders".to_owned(), 1.0)].into(),
            description: None,
        }],
    }
}

#[tokio::test]
async fn an_applied_candidate_is_the_plan_in_force_and_a_rollback_puts_the_old_one_back() {
    let app = simulated(1.0).await;
    let admin = person("alice", Role::Admin);
    let planner = person("paula", Role::Planner);
    assert!(in_force(&app).await.unwrap().is_none());
    let problem = current_problem(&app).await.unwrap();
    let first = {
        let problem = problem.clone();
        blocking(move || solve_current(&problem, 3, 0.3).map(|(_, schedule)| schedule))
            .await
            .unwrap()
    };
    let provenance = Provenance {
        reason: "first plan".into(),
        modified_by: Some("mixplane-scheduler/test".into()),
        proposal: None,
    };
    // Only an administrator, supervisor or planner of the whole site puts a plan in force.
    let viewer = person("victor", Role::Viewer);
    assert!(matches!(
        adopt(&app, &viewer, &problem, first.clone(), provenance.clone()).await,
        Err(AppError::Forbidden(_))
    ));
    let v1 = adopt(&app, &admin, &problem, first.clone(), provenance)
        .await
        .unwrap();
    assert_eq!((v1.header.version, v1.header.basis), (1, None));
    assert_eq!(in_force(&app).await.unwrap().unwrap(), v1);

    // The plan on the same problem is itself.
    let mut never = schedule::Never;
    let (on, seed) = plan_on(&v1, &problem, 0, &mut never).unwrap();
    assert_eq!(seed, first);
    assert_eq!(on.reference, first.assignments);
    // A plan the plant is ten hours behind: what it started before now and the plant has
    // not is held from minute 0, and the result passes the checker.
    let mut behind = v1.clone();
    behind.header.horizon_start = Timestamp(v1.header.horizon_start.0 - 600 * 60_000);
    assert!(!check(&problem, &rebase(&behind, &problem)).feasible);
    let started = std::time::Instant::now();
    let mut half_second = schedule::TimeLimit {
        clock: move || started.elapsed().as_secs_f64(),
        limit_seconds: 0.5,
    };
    let (on, repaired) = plan_on(&behind, &problem, 0, &mut half_second).unwrap();
    let verdict = check(&on, &repaired);
    assert!(verdict.feasible, "{:?}", verdict.violations);
    assert_eq!(on.reference, rebase(&behind, &problem).assignments);
    let running: BTreeSet<&str> = problem
        .operations
        .iter()
        .filter(|op| op.fixed.is_some())
        .map(|op| op.id.as_str())
        .collect();
    for a in &repaired.assignments {
        assert!(a.start >= 0 || running.contains(a.op.as_str()), "{a:?}");
    }

    let catalog = app.catalog().await.unwrap();
    let area_of = |schedule: &PlantSchedule, op: &str| {
        let unit = &schedule
            .assignments
            .iter()
            .find(|a| a.op == op)
            .unwrap()
            .unit;
        catalog
            .unit_area(&model::UnitId::from(unit.as_str()))
            .unwrap()
            .to_string()
    };
    // A candidate moving many operations waits for approval...
    let (many, moved) = delayed(&problem, &first, 7);
    let area = area_of(&many, &moved[0]);
    let waiting = propose(&app, &planner, draft(&problem, many, area, "seven moves"))
        .await
        .unwrap();
    assert_eq!(waiting.status, Status::Proposed, "{:?}", waiting.gate);
    let stored = app
        .store
        .plan_candidate(&waiting.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.basis, Some(1));
    // ...one moving a single operation applies by itself, and is the plan in force.
    let (one, moved) = delayed(&problem, &first, 1);
    let area = area_of(&one, &moved[0]);
    let applied = propose(
        &app,
        &planner,
        draft(&problem, one.clone(), area.clone(), "one move"),
    )
    .await
    .unwrap();
    assert_eq!(applied.status, Status::Applied, "{:?}", applied.gate);
    assert_eq!(
        applied.evidence.kpis_before.len(),
        applied.evidence.kpis_after.len()
    );
    let v2 = in_force(&app).await.unwrap().unwrap();
    assert_eq!(v2.header.version, 2);
    assert_eq!(v2.header.basis, Some(1));
    assert_eq!(v2.header.proposal.as_deref(), Some(applied.id.as_str()));
    assert_eq!(v2.header.made_by, "paula");
    assert_eq!(
        v2.header.modified_by.as_deref(),
        Some(format!("test-agent/{}", env!("CARGO_PKG_VERSION")).as_str())
    );
    assert_eq!(v2.schedule, one);
    // The waiting proposal started from version 1: it expired, and cannot be applied.
    let expired = app.store.proposal(&waiting.id).await.unwrap().unwrap();
    assert_eq!(expired.proposal.status, Status::Expired);
    assert!(
        crate::govern::apply(&app, &admin, &waiting.id, None)
            .await
            .is_err()
    );
    // A draft from an older version is refused as stale.
    let (other, moved) = delayed(&problem, &first, 1);
    let area2 = area_of(&other, &moved[0]);
    assert!(matches!(
        propose(&app, &planner, draft(&problem, other, area2, "late")).await,
        Err(AppError::Govern(govern::GovernError::Stale(_)))
    ));
    // The same plan again changes nothing.
    let mut same = draft(&problem, one.clone(), area, "nothing");
    same.basis = Some(2);
    assert!(matches!(
        propose(&app, &planner, same).await,
        Err(AppError::NothingToCommit(_))
    ));

    // Rolled back, the plan it replaced is in force again, as a new version.
    crate::govern::roll_back(&app, &admin, &applied.id)
        .await
        .unwrap();
    let v3 = in_force(&app).await.unwrap().unwrap();
    assert_eq!((v3.header.version, v3.header.basis), (3, Some(2)));
    assert_eq!(v3.schedule, first);
    assert!(
        v3.header
            .reason
            .contains(&format!("rollback of {}", applied.id)),
        "{}",
        v3.header.reason
    );
    let versions: Vec<u64> = history(&app, 10)
        .await
        .unwrap()
        .iter()
        .map(|v| v.header.version)
        .collect();
    assert_eq!(versions, [3, 2, 1]);

    let audit = app.store.verify_audit().await.unwrap();
    assert!(audit.first_bad.is_none(), "{audit:?}");
}

#[test]
fn a_maximum_wait_the_plant_can_no_longer_keep_is_dropped_to_plan_at_all() {
    // A runs now on U1 until minute 10; B must start within 5 minutes of its end, but its
    // only unit is down until minute 100.
    let problem: PlantProblem = serde_json::from_value(json!({
        "horizon_start": "2026-03-02T06:00:00Z",
        "horizon_minutes": 1440,
        "units": [{"id": "U1"}, {"id": "U2", "downtime": [{"start": 0, "end": 100}]}],
        "orders": [{"id": "O1"}],
        "operations": [
            {"id": "O1/0", "order": "O1", "alternatives": [{"unit": "U1", "minutes": 30}],
             "fixed": {"unit": "U1", "start": -20, "in_progress": true}},
            {"id": "O1/1", "order": "O1", "alternatives": [{"unit": "U2", "minutes": 10}],
             "predecessors": [{"op": "O1/0", "max_lag": 5}]},
        ],
    }))
    .unwrap();
    assert!(
        schedule::plant::solve_plant(
            &problem,
            &PlantSolveOptions::default(),
            &mut schedule::Never,
            &mut |_| {}
        )
        .is_err()
    );
    let (relaxed, plan) = solve_current(&problem, 1, 0.2).unwrap();
    assert!(relaxed.operations[1].predecessors[0].max_lag.is_none());
    assert!(check(&relaxed, &plan).feasible);
    let b = plan.assignments.iter().find(|a| a.op == "O1/1").unwrap();
    assert!(b.start >= 100, "{b:?}");
}
