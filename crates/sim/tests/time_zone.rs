//! The simulator reads calendars in the site's time zone. The reference plant, moved to
//! Europe/Berlin, is run across the spring change (Sunday 2026-03-29): units are busy only
//! inside their shifts read as Berlin wall-clock times (checked here with fixed offsets, UTC+1
//! before the change and UTC+2 after, not with the calendar code), and on the Monday after the
//! change the lines start at 06:00 local, which is 04:00Z.

use std::collections::BTreeMap;

use model::{Calendar, Catalog, EquipmentState, EventKind, Timestamp, UnitId};
use sim::SimOptions;

const H: i64 = 3_600_000;
const DAY: i64 = 24 * H;

fn at(text: &str) -> i64 {
    Timestamp::parse(text).unwrap().0
}

/// Berlin's offset from UTC at `t`, in ms, around the 2026 spring change.
fn berlin_offset(t: i64) -> i64 {
    if t < at("2026-03-29T01:00:00Z") {
        H
    } else {
        2 * H
    }
}

/// Is `t` inside one of the calendar's shifts read as Berlin wall-clock times and outside
/// the blackouts that apply to `unit`?
fn open_in_berlin(calendar: &Calendar, unit: &UnitId, t: i64) -> bool {
    let blocked = calendar
        .blackouts
        .iter()
        .any(|b| (b.units.is_empty() || b.units.contains(unit)) && b.start.0 <= t && t < b.end.0);
    let wall = t + berlin_offset(t);
    let day = wall.div_euclid(DAY);
    !blocked
        && (day - 1..=day).any(|d| {
            let weekday = ((d + 3).rem_euclid(7) + 1) as u8;
            calendar.shifts.iter().any(|s| {
                let start = d * DAY + i64::from(s.start_minute) * 60_000;
                s.weekdays.contains(&weekday)
                    && start <= wall
                    && wall < start + i64::from(s.length_minutes) * 60_000
            })
        })
}

fn berlin_catalog() -> Catalog {
    let mut plant = sim::reference_plant();
    plant.site.time_zone = Some("Europe/Berlin".into());
    Catalog::new(plant).unwrap()
}

#[test]
fn units_work_inside_local_shifts_across_the_spring_change() {
    let catalog = berlin_catalog();
    let options = SimOptions {
        start: Timestamp::parse("2026-03-26T00:00:00Z").unwrap(),
        days: 6.0,
        ..Default::default()
    };
    let out = sim::simulate(&catalog, &options, None, |_| {}).unwrap();
    let calendar_of = |unit: &UnitId| {
        let id = &catalog.unit(unit).unwrap().calendar;
        catalog
            .plant()
            .calendars
            .iter()
            .find(|c| &c.id == id)
            .unwrap()
    };
    let busy = |s: &EquipmentState| {
        matches!(
            s,
            EquipmentState::Running | EquipmentState::Setup | EquipmentState::Cleaning
        )
    };
    let mut busy_since: BTreeMap<UnitId, i64> = BTreeMap::new();
    let mut intervals: Vec<(UnitId, i64, i64)> = Vec::new();
    for e in &out.events {
        if let EventKind::EquipmentStateChanged { unit, state, .. } = &e.kind {
            if let Some(since) = busy_since.remove(unit) {
                intervals.push((unit.clone(), since, e.time.0));
            }
            if busy(state) {
                busy_since.insert(unit.clone(), e.time.0);
            }
        }
    }
    assert!(intervals.len() > 50, "{} busy intervals", intervals.len());
    for (unit, a, b) in &intervals {
        let calendar = calendar_of(unit);
        let mut t = *a;
        while t < *b {
            assert!(
                open_in_berlin(calendar, unit, t),
                "{unit} busy at {} outside its Berlin shifts ({}..{})",
                Timestamp(t),
                Timestamp(*a),
                Timestamp(*b)
            );
            t += 5 * 60_000;
        }
    }
    // The assembly lines (Monday to Friday, 06:00–22:00 local) start the week after the
    // change at 04:00Z; read in UTC they would not start before 06:00Z.
    let monday = at("2026-03-30T04:00:00Z");
    let two_shift_busy_before_six_utc = intervals.iter().any(|(unit, a, b)| {
        calendar_of(unit).id.as_str() == "CAL-2SHIFT" && *a < monday + 2 * H && *b > monday
    });
    assert!(
        two_shift_busy_before_six_utc,
        "an assembly line works between 04:00Z and 06:00Z on Monday 2026-03-30"
    );
}
