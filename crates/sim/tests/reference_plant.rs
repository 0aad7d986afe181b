//! The shipped reference plant: `data/reference-plant.json` is its only source (edit the
//! JSON); it validates and has the shape the rest of mixplane relies on (asserted here).

use std::collections::BTreeSet;

use model::calendar::Availability;
use model::*;

#[test]
fn reference_plant_validates() {
    if let Err(errors) = Catalog::new(sim::reference_plant()) {
        panic!("{errors}");
    }
}

fn units_of_mode(c: &Catalog, mode: Mode) -> Vec<&Unit> {
    c.plant()
        .units
        .iter()
        .filter(|u| c.unit_mode(&u.id) == Some(mode))
        .collect()
}

#[test]
fn equipment_meets_the_brief() {
    let c = sim::reference_catalog();
    let p = c.plant();
    let reactors: Vec<&Unit> = units_of_mode(&c, Mode::Process)
        .into_iter()
        .filter(|u| u.cip.is_some() && u.max_batch_size.is_some())
        .collect();
    assert!(reactors.len() >= 3, "three batch reactors with CIP rules");
    assert!(
        reactors
            .iter()
            .all(|r| r.cip.as_ref().unwrap().on_product_change)
    );
    assert!(
        reactors
            .iter()
            .any(|r| r.cip.as_ref().unwrap().after_batches.is_some())
    );
    assert!(
        reactors
            .iter()
            .any(|r| r.cip.as_ref().unwrap().max_run_minutes.is_some())
    );

    let inspecting: BTreeSet<&UnitId> = p
        .routings
        .iter()
        .flat_map(|r| r.steps.iter())
        .filter(|s| s.inspection.is_some())
        .flat_map(|s| s.alternatives.iter().map(|a| &a.unit))
        .collect();
    let discrete = units_of_mode(&c, Mode::Discrete);
    let lines = discrete
        .iter()
        .filter(|u| u.changeover_matrix.is_some())
        .count();
    let test_units = discrete
        .iter()
        .filter(|u| inspecting.contains(&u.id))
        .count();
    assert!(lines >= 2, "two discrete assembly lines");
    assert!(test_units >= 2, "discrete test stations");

    let packing = units_of_mode(&c, Mode::Repetitive);
    assert!(packing.len() >= 2);
    let keys: BTreeSet<&str> = packing
        .iter()
        .map(|u| {
            let m = c
                .changeover_matrix(
                    u.changeover_matrix
                        .as_ref()
                        .expect("packaging lines have a matrix"),
                )
                .unwrap();
            assert!(!m.entries.is_empty());
            match m.keyed_by {
                ChangeoverKey::Family => "family",
                ChangeoverKey::Attribute { .. } => "attribute",
            }
        })
        .collect();
    assert_eq!(keys.len(), 2, "matrices keyed by family and by attribute");

    assert!(
        p.units
            .iter()
            .all(|u| u.mtbf_hours.is_some() && u.mttr_hours.is_some())
    );
}

#[test]
fn pools_meet_the_brief() {
    let c = sim::reference_catalog();
    let p = c.plant();
    let members = |kind: PoolKind| -> usize {
        p.pools
            .iter()
            .filter(|x| x.kind == kind)
            .map(|x| x.members.len())
            .sum()
    };
    assert!(members(PoolKind::People) >= 12, "at least 12 technicians");
    assert!(members(PoolKind::MobileTank) >= 4, "four mobile tanks");
    assert!(members(PoolKind::TestStation) >= 2, "two test stations");
    let levels: BTreeSet<u8> = p
        .pools
        .iter()
        .filter(|x| x.kind == PoolKind::People)
        .flat_map(|x| x.members.iter())
        .flat_map(|m| m.certifications.iter().map(|h| h.level))
        .collect();
    assert_eq!(levels.len(), 3, "certification levels 1 to 3 are all used");

    // The oven is a pool that steps of both discrete and process routings hold.
    let oven: Vec<&PoolId> = p
        .pools
        .iter()
        .filter(|x| x.kind == PoolKind::Oven)
        .map(|x| &x.id)
        .collect();
    assert_eq!(oven.len(), 1);
    let modes: BTreeSet<Mode> = p
        .routings
        .iter()
        .filter(|r| {
            r.steps
                .iter()
                .any(|s| s.pools.iter().any(|q| &q.pool == oven[0]))
        })
        .map(|r| r.mode)
        .collect();
    assert!(modes.contains(&Mode::Discrete) && modes.contains(&Mode::Process));
}

#[test]
fn products_and_material_flow_cross_modes() {
    let c = sim::reference_catalog();
    let p = c.plant();
    assert!(p.routings.len() >= 15, "at least 15 products");
    for r in &p.routings {
        assert!(
            c.material(&r.product).unwrap().family.is_some(),
            "{} has a family",
            r.product
        );
        for s in &r.steps {
            assert!(
                !s.parameters.is_empty(),
                "{} `{}` has parameters",
                r.id,
                s.name
            );
        }
    }
    let made_by = |mode: Mode| -> BTreeSet<&MaterialId> {
        p.routings
            .iter()
            .filter(|r| r.mode == mode)
            .map(|r| &r.product)
            .collect()
    };
    let consumed_by = |mode: Mode| -> BTreeSet<&MaterialId> {
        p.routings
            .iter()
            .filter(|r| r.mode == mode)
            .flat_map(|r| {
                r.steps
                    .iter()
                    .flat_map(|s| s.consumes.iter().map(|u| &u.material))
            })
            .collect()
    };
    let process_out = made_by(Mode::Process);
    let discrete_out = made_by(Mode::Discrete);
    assert!(
        consumed_by(Mode::Discrete)
            .iter()
            .any(|m| process_out.contains(m)),
        "assemblies consume batch intermediates"
    );
    assert!(
        consumed_by(Mode::Repetitive)
            .iter()
            .any(|m| discrete_out.contains(m)),
        "packaging lines pack assemblies"
    );
    for kind in [MaterialKind::Raw, MaterialKind::Packaging] {
        let purchased: Vec<&Material> = p.materials.iter().filter(|m| m.kind == kind).collect();
        assert!(!purchased.is_empty());
        assert!(purchased.iter().all(|m| m.lead_time_days.is_some()));
    }
    assert!(
        p.routings
            .iter()
            .filter(|r| r.mode == Mode::Process)
            .all(|r| r.steps.iter().any(|s| s.max_wait_minutes.is_some()))
    );
}

/// The site names no time zone, so its shifts are minutes after midnight UTC (early shift
/// 06:00Z, 07:00 in Rheinfeld in winter). Seeded runs of the reference plant (and the tests and
/// examples that replay them) depend on these windows: a zone would move every shift.
#[test]
fn calendars_are_read_in_utc() {
    let c = sim::reference_catalog();
    assert_eq!(c.plant().site.time_zone, None);
    let monday = Timestamp::parse("2026-03-02T00:00:00Z").unwrap().0;
    let two_shift = c
        .plant()
        .calendars
        .iter()
        .find(|cal| cal.id.as_str() == "CAL-2SHIFT")
        .unwrap();
    let week = Availability::of(two_shift, c.zone(), None, monday, monday + 7 * 86_400_000);
    let first = week.windows()[0];
    assert_eq!(Timestamp(first.start).to_string(), "2026-03-02T06:00:00Z");
    assert_eq!(Timestamp(first.end).to_string(), "2026-03-02T22:00:00Z");
}

#[test]
fn calendars_and_inspection_meet_the_brief() {
    let c = sim::reference_catalog();
    let p = c.plant();
    let shifts: BTreeSet<usize> = p.calendars.iter().map(|c| c.shifts.len()).collect();
    assert!(shifts.contains(&3) && shifts.contains(&2));
    assert!(p.calendars.iter().any(|c| !c.blackouts.is_empty()));
    for &mode in Mode::ALL {
        assert!(
            p.routings
                .iter()
                .filter(|r| r.mode == mode)
                .all(|r| r.steps.iter().any(|s| s.inspection.is_some())),
            "every {} routing inspects",
            mode.as_str()
        );
    }
    let charts: BTreeSet<String> = p
        .inspection_plans
        .iter()
        .flat_map(|x| x.characteristics.iter())
        .map(|ch| format!("{:?}", ch.chart))
        .collect();
    assert!(charts.len() >= 6, "{charts:?}");
    assert!(
        p.inspection_plans
            .iter()
            .flat_map(|x| x.characteristics.iter())
            .any(|ch| ch.lsl.is_some() && ch.usl.is_some())
    );
}

#[test]
fn order_book_covers_two_weeks() {
    let c = sim::reference_catalog();
    let p = c.plant();
    let start = Timestamp::parse("2026-03-02T00:00:00Z").unwrap();
    let end = start.plus_minutes(14.0 * 1440.0);
    assert!(p.orders.len() >= 150);
    assert!(
        p.orders
            .iter()
            .all(|o| o.release >= start && o.release < end)
    );
    assert!(p.orders.iter().all(|o| o.due > o.release));
    let priorities: BTreeSet<Priority> = p.orders.iter().map(|o| o.priority).collect();
    assert_eq!(priorities.len(), 3);
    let customers: BTreeSet<&str> = p
        .orders
        .iter()
        .filter_map(|o| o.customer.as_deref())
        .collect();
    assert!(customers.len() >= 8);
    let modes: BTreeSet<Mode> = p
        .orders
        .iter()
        .map(|o| c.routing(&o.routing).unwrap().mode)
        .collect();
    assert_eq!(modes.len(), 3);
}
