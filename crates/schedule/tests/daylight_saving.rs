//! A plan across a daylight-saving change: a plant in Europe/Berlin whose line works 06:00–14:00
//! local time, mapped and solved over the week of the spring change (Sunday 2026-03-29). The
//! expected windows are written with fixed offsets (UTC+1 before the change, UTC+2 after), not
//! computed by the calendar code under test.

use schedule::Never;
use schedule::plant::checker::check;
use schedule::plant::from_model::{FromModelOptions, problem_from_model};
use schedule::plant::problem::Interval;
use schedule::plant::{PlantSolveOptions, solve_plant};

use model::{Catalog, PlantState, Timestamp};

/// Thursday before the change, midnight UTC: minute 0 of the plan.
const START: &str = "2026-03-26T00:00:00Z";
const HORIZON: i64 = 7 * 1440;
const ORDERS: usize = 8;

fn plant(time_zone: Option<&str>) -> model::Plant {
    let orders: Vec<serde_json::Value> = (0..ORDERS)
        .map(|i| {
            serde_json::json!({
                "id": format!("MO-{i}"), "product": "P", "routing": "R", "quantity": 1.0,
                "release": START, "due": "2026-04-01T00:00:00Z", "priority": "medium"
            })
        })
        .collect();
    serde_json::from_value(serde_json::json!({
        "schema_version": 1,
        "site": {"id": "S", "name": "Berlin works", "time_zone": time_zone},
        "areas": [{"id": "A", "name": "assembly"}],
        "work_centers": [{"id": "WC", "name": "line", "area": "A", "mode": "discrete"}],
        "units": [{"id": "L1", "name": "line 1", "work_center": "WC", "calendar": "EARLY"}],
        "materials": [{"id": "P", "name": "product", "kind": "finished", "uom": "ea",
                       "tracking": "serial"}],
        "routings": [{"id": "R", "product": "P", "mode": "discrete", "steps": [
            {"name": "assemble", "alternatives": [
                {"unit": "L1", "duration": {"kind": "fixed", "minutes": 240.0}}
            ]}
        ]}],
        "calendars": [{"id": "EARLY", "name": "early shift", "shifts": [
            {"name": "early", "weekdays": [1, 2, 3, 4, 5, 6], "start_minute": 360,
             "length_minutes": 480}
        ]}],
        "orders": orders
    }))
    .unwrap()
}

fn minute(text: &str) -> i64 {
    (Timestamp::parse(text).unwrap().0 - Timestamp::parse(START).unwrap().0) / 60_000
}

/// 06:00–14:00 in Berlin, written in UTC: CET (+01:00) up to Saturday, CEST (+02:00) from the
/// Monday after the change. Sunday is off.
fn local_early_shifts() -> Vec<Interval> {
    [
        ("2026-03-26T05:00:00Z", "2026-03-26T13:00:00Z"),
        ("2026-03-27T05:00:00Z", "2026-03-27T13:00:00Z"),
        ("2026-03-28T05:00:00Z", "2026-03-28T13:00:00Z"),
        ("2026-03-30T04:00:00Z", "2026-03-30T12:00:00Z"),
        ("2026-03-31T04:00:00Z", "2026-03-31T12:00:00Z"),
        ("2026-04-01T04:00:00Z", "2026-04-01T12:00:00Z"),
    ]
    .iter()
    .map(|&(a, b)| Interval {
        start: minute(a),
        end: minute(b),
    })
    .collect()
}

fn availability(time_zone: Option<&str>) -> (Catalog, schedule::plant::problem::PlantProblem) {
    let catalog = Catalog::new(plant(time_zone)).unwrap();
    let start = Timestamp::parse(START).unwrap();
    let state = PlantState::initial(&catalog, start);
    let problem =
        problem_from_model(&catalog, &state, &FromModelOptions::new(start, HORIZON)).unwrap();
    (catalog, problem)
}

#[test]
fn the_line_is_available_in_local_shifts_on_both_sides_of_the_change() {
    let (_, problem) = availability(Some("Europe/Berlin"));
    assert_eq!(problem.units[0].availability, Some(local_early_shifts()));
    // Without a zone the same shifts are 06:00–14:00 UTC every day, as before time zones.
    let (_, utc) = availability(None);
    let windows = utc.units[0].availability.clone().unwrap();
    assert_eq!(windows.len(), 6);
    assert!(
        windows
            .iter()
            .all(|w| w.start.rem_euclid(1440) == 360 && w.end - w.start == 480)
    );
}

#[test]
fn a_plan_across_the_spring_change_keeps_every_operation_inside_a_local_shift() {
    let (_, problem) = availability(Some("Europe/Berlin"));
    let options = PlantSolveOptions {
        seed: 1,
        threads: 1,
        max_iterations: Some(200),
        objective: None,
    };
    let solution = solve_plant(&problem, &options, &mut Never, &mut |_| {}).unwrap();
    let report = check(&problem, &solution.schedule);
    assert!(report.feasible, "{:?}", report.violations);
    let shifts = local_early_shifts();
    let assignments = &solution.schedule.assignments;
    assert_eq!(assignments.len(), ORDERS);
    for a in assignments {
        assert!(
            shifts.iter().any(|w| w.start <= a.start && a.end <= w.end),
            "{} at minutes {}..{} is outside the local shifts {shifts:?}",
            a.op,
            a.start,
            a.end
        );
    }
    let change = minute("2026-03-29T01:00:00Z");
    assert!(
        assignments.iter().any(|a| a.end <= change),
        "work before the change"
    );
    assert!(
        assignments.iter().any(|a| a.start >= change),
        "work after the change"
    );
    // Eight four-hour operations fill the line's first four days: the two after the change
    // run 04:00–12:00Z, an hour earlier in UTC than the ones before it.
    let monday: Vec<(i64, i64)> = assignments
        .iter()
        .filter(|a| a.start >= change)
        .map(|a| (a.start, a.end))
        .collect();
    assert_eq!(monday.len(), 2, "{assignments:?}");
    assert!(
        monday
            .iter()
            .all(|&(s, e)| s >= minute("2026-03-30T04:00:00Z")
                && e <= minute("2026-03-30T12:00:00Z"))
    );
}

/// The scheduler's expansion before time zones: whole UTC days around the horizon, shifts
/// clipped to it, sorted, not merged.
fn utc_expansion(cal: &model::Calendar, start: Timestamp, horizon: i64) -> Vec<Interval> {
    let start_min = start.0.div_euclid(60_000);
    let mut out = Vec::new();
    for day in start_min.div_euclid(1440) - 1..=(start_min + horizon).div_euclid(1440) + 1 {
        let weekday = ((day + 3).rem_euclid(7) + 1) as u8;
        for s in &cal.shifts {
            if s.weekdays.contains(&weekday) {
                let a = day * 1440 + i64::from(s.start_minute) - start_min;
                let (a, b) = (a.max(0), (a + i64::from(s.length_minutes)).min(horizon));
                if a < b {
                    out.push(Interval { start: a, end: b });
                }
            }
        }
    }
    out.sort_by_key(|w| (w.start, w.end));
    out
}

proptest::proptest! {
    /// A site without a time zone plans exactly as before time zones existed.
    #[test]
    fn without_a_zone_shifts_expand_as_plain_utc(
        shifts in proptest::collection::vec(
            (proptest::collection::vec(1u8..=7, 1..4), 0u32..1440, 1u32..=1440),
            1..4,
        ),
        start_ms in 1_700_000_000_000i64..1_900_000_000_000,
        horizon in 0i64..20_000,
    ) {
        let cal = model::Calendar {
            id: "C".into(),
            name: "c".into(),
            shifts: shifts
                .into_iter()
                .map(|(weekdays, start_minute, length_minutes)| model::Shift {
                    name: "s".into(),
                    weekdays,
                    start_minute,
                    length_minutes,
                })
                .collect(),
            blackouts: vec![],
        };
        let start = Timestamp(start_ms);
        let zone = model::calendar::SiteZone::UTC;
        proptest::prop_assert_eq!(
            schedule::plant::from_model::expand_shifts(&cal, &zone, start, horizon),
            utc_expansion(&cal, start, horizon)
        );
    }
}
