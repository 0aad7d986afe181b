//! The site's time zone as a plant document states it: validated by name, and read by the
//! calendars of the catalog built from it.

use model::calendar::Availability;
use model::{Catalog, Plant, Timestamp};

fn plant(time_zone: Option<&str>) -> Plant {
    serde_json::from_value(serde_json::json!({
        "schema_version": 1,
        "site": {"id": "S", "name": "site", "time_zone": time_zone},
        "areas": [{"id": "A", "name": "area"}],
        "work_centers": [{"id": "WC", "name": "wc", "area": "A", "mode": "discrete"}],
        "units": [{"id": "U", "name": "unit", "work_center": "WC", "calendar": "CAL"}],
        "materials": [],
        "routings": [],
        "calendars": [{"id": "CAL", "name": "early", "shifts": [
            {"name": "early", "weekdays": [1, 2, 3, 4, 5], "start_minute": 360, "length_minutes": 480}
        ]}]
    }))
    .unwrap()
}

#[test]
fn an_unknown_zone_is_a_validation_error_naming_the_path_and_the_zone() {
    let errors = Catalog::new(plant(Some("Europe/Rheinfeld"))).unwrap_err();
    assert_eq!(errors.0.len(), 1, "{errors}");
    assert_eq!(errors.0[0].path, "site.time_zone");
    assert!(
        errors.0[0].message.contains("`Europe/Rheinfeld`"),
        "{errors}"
    );
}

#[test]
fn the_catalog_reads_its_calendars_in_the_site_zone() {
    let berlin = Catalog::new(plant(Some("Europe/Berlin"))).unwrap();
    let utc = Catalog::new(plant(None)).unwrap();
    assert_eq!(berlin.zone().name(), "Europe/Berlin");
    assert_eq!(utc.zone().name(), "UTC");
    let calendar = &berlin.plant().calendars[0];
    let from = Timestamp::parse("2026-03-30T00:00:00Z").unwrap().0;
    let to = from + 86_400_000;
    let at = |text: &str| Timestamp::parse(text).unwrap().0;
    // Monday after the spring change: 06:00 CEST is 04:00Z; in UTC the shift starts at 06:00Z.
    let local = Availability::of(calendar, berlin.zone(), None, from, to);
    assert_eq!(
        local.starts_between(from, to).collect::<Vec<_>>(),
        [at("2026-03-30T04:00:00Z")]
    );
    let plain = Availability::of(calendar, utc.zone(), None, from, to);
    assert_eq!(
        plain.starts_between(from, to).collect::<Vec<_>>(),
        [at("2026-03-30T06:00:00Z")]
    );
}

#[test]
fn calendar_problems_name_the_shift_or_blackout_at_fault() {
    let mut plant = plant(None);
    let calendar = &mut plant.calendars[0];
    calendar.shifts[0].weekdays = vec![1, 8];
    calendar.shifts[0].start_minute = 1440;
    calendar.blackouts.push(model::Blackout {
        reason: "backwards".into(),
        start: Timestamp::parse("2026-03-03T10:00:00Z").unwrap(),
        end: Timestamp::parse("2026-03-03T08:00:00Z").unwrap(),
        units: vec!["U9".into()],
    });
    let errors = Catalog::new(plant).unwrap_err();
    let found: Vec<(&str, &str)> = errors
        .0
        .iter()
        .map(|e| (e.path.as_str(), e.message.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (
                "calendars[0].shifts[0]",
                "weekdays must be a non-empty list of 1 (Monday) to 7 (Sunday)"
            ),
            ("calendars[0].shifts[0]", "start_minute must be below 1440"),
            ("calendars[0].blackouts[0]", "end must be after start"),
            ("calendars[0].blackouts[0]", "unit `U9` does not exist"),
        ]
    );
    assert!(errors.0.iter().all(|e| e.id.as_deref() == Some("CAL")));
}
