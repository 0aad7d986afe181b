//! The profile's round trip: a simulator run folded into `Tables`, every row read back as a
//! change feed (per set, `ModifiedOn` after the set's cursor, sets in `EntitySet::ALL`
//! order, polled every few plant minutes or hours) and mapped with `map_set_row` against the
//! state folded so far, gives the plant state the simulator's own events give — for what the
//! profile carries: orders and their operations' progress, equipment states, lots, serials,
//! quality results and expected receipts.

use std::collections::BTreeMap;

use model::{Catalog, Event, PlantState, Timestamp};
use opcenter::{EntitySet, SetKind, Tables, map_set_row};
use proptest::prelude::*;
use serde_json::Value;
use sim::SimOptions;

fn fold(catalog: &Catalog, start: Timestamp, events: &[Event]) -> PlantState {
    let mut state = PlantState::initial(catalog, start);
    for event in events {
        state
            .apply(catalog, event)
            .expect("the simulator's events fold");
    }
    state
}

/// Reads the rows changed since each set's cursor and folds what they map to.
struct Reader {
    cursors: BTreeMap<EntitySet, String>,
    state: PlantState,
    rows_read: usize,
    events_mapped: usize,
}

impl Reader {
    fn poll(&mut self, catalog: &Catalog, tables: &Tables) {
        for set in EntitySet::ALL {
            let cursor = self.cursors.get(&set).cloned().unwrap_or_default();
            let rows: Vec<Value> = tables
                .set_rows(set)
                .into_iter()
                .filter(|row| row["ModifiedOn"].as_str().unwrap() > cursor.as_str())
                .collect();
            for row in rows {
                let events = map_set_row(set, &row, &self.state)
                    .unwrap_or_else(|e| panic!("row does not map: {e}\n{row:#}"));
                // Mapping is a function of the row and what is known: a second read maps
                // to the same events, with the same ids.
                assert_eq!(map_set_row(set, &row, &self.state).unwrap(), events);
                if set.kind() == SetKind::Event {
                    assert_eq!(events.len(), 1, "{set} maps one to one");
                }
                for event in &events {
                    self.state
                        .apply(catalog, event)
                        .unwrap_or_else(|e| panic!("mapped event rejected: {e}\n{row:#}"));
                }
                if set.kind() == SetKind::State && !events.is_empty() {
                    // Once folded, the same row says nothing new.
                    assert_eq!(
                        map_set_row(set, &row, &self.state).unwrap(),
                        vec![],
                        "{row:#}"
                    );
                }
                self.events_mapped += events.len();
                self.rows_read += 1;
                self.cursors
                    .insert(set, row["ModifiedOn"].as_str().unwrap().to_owned());
            }
        }
    }
}

/// Runs `days` days from `seed`, polling every `poll_minutes` of plant time.
fn round_trip(seed: u64, days: f64, poll_minutes: f64) -> (PlantState, PlantState, usize) {
    let catalog = sim::reference_catalog();
    let options = SimOptions {
        seed,
        days,
        ..SimOptions::default()
    };
    let out = sim::simulate(&catalog, &options, None, |_| {}).expect("valid options");
    let truth = fold(&catalog, options.start, &out.events);

    let mut tables = Tables::new(&catalog, options.start);
    let mut reader = Reader {
        cursors: BTreeMap::new(),
        state: PlantState::initial(&catalog, options.start),
        rows_read: 0,
        events_mapped: 0,
    };
    let mut next_poll = options.start.plus_minutes(poll_minutes);
    for event in &out.events {
        while event.time > next_poll {
            reader.poll(&catalog, &tables);
            next_poll = next_poll.plus_minutes(poll_minutes);
        }
        let carried = tables
            .apply(event)
            .expect("the simulator's events fit the tables");
        assert_eq!(
            carried,
            !matches!(event.kind, model::EventKind::MemberAttendance { .. })
        );
    }
    reader.poll(&catalog, &tables);
    assert!(reader.rows_read > 0 && reader.events_mapped > 0);
    (truth, reader.state, out.events.len())
}

/// The parts of the state the profile carries must agree.
fn assert_agree(truth: &PlantState, mapped: &PlantState) {
    assert_eq!(truth.orders.len(), mapped.orders.len());
    for (id, order) in &truth.orders {
        assert_eq!(Some(order), mapped.orders.get(id), "order {id}");
    }
    assert_eq!(truth.units, mapped.units, "equipment states");
    assert_eq!(truth.lots, mapped.lots, "lots");
    assert_eq!(truth.serials, mapped.serials, "serials");
    assert_eq!(
        truth.quality_results, mapped.quality_results,
        "quality results"
    );
    assert_eq!(truth.receipts.len(), mapped.receipts.len(), "receipts");
    for (id, receipt) in &truth.receipts {
        let other = &mapped.receipts[id];
        // A reader that polls sees a receipt's latest expectation only, not its first.
        assert_eq!(
            (
                receipt.material.clone(),
                receipt.quantity,
                receipt.expected,
                &receipt.supplier
            ),
            (
                other.material.clone(),
                other.quantity,
                other.expected,
                &other.supplier
            ),
            "receipt {id}"
        );
        assert_eq!(
            (receipt.status, &receipt.lot, receipt.closed),
            (other.status, &other.lot, other.closed),
            "receipt {id}"
        );
    }
}

#[test]
fn a_three_day_run_reads_back_polled_every_minute() {
    let (truth, mapped, events) = round_trip(7, 3.0, 1.0);
    assert!(events > 500, "a real run: {events} events");
    assert!(
        truth
            .orders
            .values()
            .any(|o| o.status == model::OrderStatus::Completed)
    );
    assert_agree(&truth, &mapped);
}

#[test]
fn a_three_day_run_reads_back_polled_every_six_hours() {
    let (truth, mapped, _) = round_trip(11, 3.0, 360.0);
    assert_agree(&truth, &mapped);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, ..ProptestConfig::default() })]

    #[test]
    fn any_seed_and_poll_interval_reads_back(seed in 1u64..1_000, poll in 1.0f64..1_440.0) {
        let (truth, mapped, _) = round_trip(seed, 2.0, poll);
        assert_agree(&truth, &mapped);
    }
}
