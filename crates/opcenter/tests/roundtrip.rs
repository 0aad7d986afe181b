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
    /// Mapped events by type.
    mapped: BTreeMap<&'static str, usize>,
}

impl Reader {
    fn poll(&mut self, catalog: &Catalog, tables: &Tables) {
        for set in EntitySet::ALL {
            let cursor = self.cursors.get(&set).cloned().unwrap_or_default();
            let rows: Vec<Value> = tables.changed_since(set, &cursor);
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
                for event in &events {
                    *self.mapped.entry(event.kind.type_name()).or_default() += 1;
                }
                self.rows_read += 1;
                self.cursors
                    .insert(set, row["ModifiedOn"].as_str().unwrap().to_owned());
            }
        }
    }
}

/// What a round trip gives: the state from the simulator's events, the state from the
/// mapped rows, and the events of each type on both sides.
struct Trip {
    truth: PlantState,
    mapped: PlantState,
    simulated_types: BTreeMap<&'static str, usize>,
    mapped_types: BTreeMap<&'static str, usize>,
}

/// Runs `days` days from `seed`, polling every `poll_minutes` of plant time; with
/// `commands`, a command (a priority, a dispatch, an equipment status, in turn) is carried
/// out on the tables before every 40th event, and the event it stands for (`cmd-<key>`, as
/// the profile documents) joins the simulator's in the truth.
fn round_trip(seed: u64, days: f64, poll_minutes: f64) -> Trip {
    round_trip_with(seed, days, poll_minutes, false)
}

/// The command the `n`th turn carries out at `now`, and the event it stands for, if the
/// tables hold something for it.
fn a_command(
    tables: &Tables,
    n: usize,
    now: Timestamp,
) -> Option<(opcenter::ParsedCommand, Event)> {
    use opcenter::command::names;
    let key = format!("RT-{n}");
    let (app, name, fields, kind) = match n % 3 {
        0 => {
            let row = tables
                .set_rows(EntitySet::WorkOrder)
                .into_iter()
                .find(|r| r["Status"] == "Released" || r["Status"] == "Active")?;
            let priority = if row["Priority"] == 1 {
                model::Priority::Low
            } else {
                model::Priority::High
            };
            let number = if priority == model::Priority::High {
                1
            } else {
                3
            };
            let order = row["NId"].as_str()?.to_owned();
            let fields = serde_json::json!({"WorkOrderNId": order, "Priority": number});
            let kind = model::EventKind::OrderChanged {
                order: order.into(),
                quantity: None,
                due: None,
                priority: Some(priority),
            };
            ("AppU4DM", names::SET_WORK_ORDER_PRIORITY, fields, kind)
        }
        1 => {
            let row = tables
                .set_rows(EntitySet::WorkOrderOperation)
                .into_iter()
                .find(|r| {
                    r["Status"] == "Ready"
                        && tables
                            .row(EntitySet::WorkOrder, r["WorkOrderNId"].as_str().unwrap())
                            .is_some_and(|o| o["Status"] == "Released" || o["Status"] == "Active")
                })?;
            let order = row["WorkOrderNId"].as_str()?.to_owned();
            let sequence = row["Sequence"].as_i64()?;
            let start = now.plus_minutes(90.0);
            let fields = serde_json::json!({"WorkOrderNId": order, "Sequence": sequence, "EstimatedStartTime": opcenter::wire::time_text(start)});
            let step = opcenter::wire::step_of(sequence)?;
            let kind = model::EventKind::OperationDispatched {
                order: order.into(),
                step,
                unit: None,
                start: Some(start),
            };
            ("AppU4DM", names::DISPATCH_OPERATION, fields, kind)
        }
        _ => {
            let row = tables.set_rows(EntitySet::Equipment).into_iter().next()?;
            let unit = row["NId"].as_str()?.to_owned();
            let fields =
                serde_json::json!({"EquipmentNId": unit, "Status": "Idle", "Reason": "planner"});
            let kind = model::EventKind::EquipmentStateChanged {
                unit: unit.into(),
                state: model::EquipmentState::Idle,
                reason: Some("planner".into()),
            };
            ("Equipment", names::SET_EQUIPMENT_STATUS, fields, kind)
        }
    };
    let mut fields = fields;
    fields["IdempotencyKey"] = serde_json::json!(key);
    let parsed = opcenter::parse_command(app, name, &serde_json::json!({ "command": fields }))
        .expect("reads");
    let event = Event {
        id: format!("cmd-{key}").into(),
        time: now,
        source: Some("opcenter-command".into()),
        kind,
    };
    Some((parsed, event))
}

fn round_trip_with(seed: u64, days: f64, poll_minutes: f64, commands: bool) -> Trip {
    let catalog = sim::reference_catalog();
    let options = SimOptions {
        seed,
        days,
        ..SimOptions::default()
    };
    let out = sim::simulate(&catalog, &options, None, |_| {}).expect("valid options");
    let mut happened = Vec::new();

    let mut tables = Tables::new(&catalog, options.start);
    let mut reader = Reader {
        cursors: BTreeMap::new(),
        state: PlantState::initial(&catalog, options.start),
        rows_read: 0,
        mapped: BTreeMap::new(),
    };
    let mut next_poll = options.start.plus_minutes(poll_minutes);
    for (n, event) in out.events.iter().enumerate() {
        while event.time > next_poll {
            reader.poll(&catalog, &tables);
            next_poll = next_poll.plus_minutes(poll_minutes);
        }
        if commands
            && n % 40 == 39
            && let Some((command, made)) = a_command(&tables, n / 40, event.time)
        {
            let answer = tables.apply_command(&command, event.time);
            assert!(answer.succeeded, "{answer:?}");
            happened.push(made);
        }
        happened.push(event.clone());
        let carried = tables
            .apply(event)
            .expect("the simulator's events fit the tables");
        assert_eq!(
            carried,
            !matches!(event.kind, model::EventKind::MemberAttendance { .. })
        );
    }
    reader.poll(&catalog, &tables);
    assert!(reader.rows_read > 0);
    let truth = fold(&catalog, options.start, &happened);
    let mut simulated_types = BTreeMap::new();
    for event in &out.events {
        *simulated_types.entry(event.kind.type_name()).or_default() += 1;
    }
    Trip {
        truth,
        mapped: reader.state,
        simulated_types,
        mapped_types: reader.mapped,
    }
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
fn a_two_day_run_reads_back_polled_every_minute() {
    let trip = round_trip(7, 2.0, 1.0);
    // Polled this often, every fact comes back as the event it was (an expectation
    // announced again within a minute is read once, at its latest).
    for (kind, count) in &trip.simulated_types {
        let mapped = trip.mapped_types.get(kind).copied().unwrap_or(0);
        if *kind == "receipt_expected" {
            assert!(
                mapped <= *count && mapped > 0,
                "{kind}: {mapped} of {count}"
            );
        } else {
            assert_eq!(mapped, *count, "{kind}");
        }
    }
    for kind in [
        "order_released",
        "operation_started",
        "operation_completed",
        "equipment_state_changed",
        "material_received",
        "material_consumed",
        "material_produced",
        "quality_result_recorded",
        "receipt_expected",
    ] {
        assert!(
            trip.simulated_types.contains_key(kind),
            "the run has no {kind}"
        );
    }
    let completed = trip
        .truth
        .orders
        .values()
        .filter(|o| o.status == model::OrderStatus::Completed);
    assert!(completed.count() > 3);
    assert_agree(&trip.truth, &trip.mapped);
}

#[test]
fn a_five_day_run_reads_back_polled_every_six_hours() {
    let trip = round_trip(11, 5.0, 360.0);
    for kind in ["order_changed", "material_shipped"] {
        assert!(
            trip.simulated_types.contains_key(kind),
            "the run has no {kind}"
        );
    }
    assert_agree(&trip.truth, &trip.mapped);
}

#[test]
fn commands_carried_out_on_the_way_read_back_too() {
    for poll in [1.0, 240.0] {
        let trip = round_trip_with(13, 2.0, poll, true);
        let dispatched = trip
            .truth
            .orders
            .values()
            .filter(|o| !o.dispatched.is_empty())
            .count();
        assert!(dispatched > 3, "{dispatched} orders dispatched");
        assert_agree(&trip.truth, &trip.mapped);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3, ..ProptestConfig::default() })]

    #[test]
    fn any_seed_and_poll_interval_reads_back(seed in 1u64..1_000, poll in 1.0f64..1_440.0) {
        let trip = round_trip(seed, 1.5, poll);
        assert_agree(&trip.truth, &trip.mapped);
    }
}

/// Whether `value` is a value of property `p` as the schema declares it.
fn conforms(p: &opcenter::PropertyDef, value: &Value) -> bool {
    use opcenter::Edm;
    if value.is_null() {
        return p.nullable;
    }
    if p.collection {
        let item = opcenter::PropertyDef {
            collection: false,
            nullable: false,
            ..*p
        };
        return value
            .as_array()
            .is_some_and(|items| items.iter().all(|v| conforms(&item, v)));
    }
    match p.edm {
        Edm::Guid => value.as_str().is_some_and(|g| {
            g.len() == 36
                && g.char_indices().all(|(i, c)| {
                    if matches!(i, 8 | 13 | 18 | 23) {
                        c == '-'
                    } else {
                        c.is_ascii_hexdigit()
                    }
                })
        }),
        Edm::String => value.is_string(),
        Edm::Int32 => value.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
        Edm::Int64 => value.is_i64() || value.is_u64(),
        Edm::Double => value.is_number(),
        Edm::Boolean => value.is_boolean(),
        Edm::DateTimeOffset => value
            .as_str()
            .is_some_and(|t| t.ends_with('Z') && t.len() == 24 && Timestamp::parse(t).is_ok()),
        Edm::ParameterValue => {
            value.get("Name").is_some_and(Value::is_string)
                && value.get("Value").is_some_and(Value::is_number)
                && value.as_object().is_some_and(|o| o.len() == 2)
        }
    }
}

#[test]
fn every_row_has_exactly_its_sets_properties_and_stamps_only_grow() {
    let catalog = sim::reference_catalog();
    let options = SimOptions {
        seed: 3,
        days: 1.0,
        ..SimOptions::default()
    };
    let out = sim::simulate(&catalog, &options, None, |_| {}).expect("valid options");
    let mut tables = Tables::new(&catalog, options.start);
    let mut last = String::new();
    for event in &out.events {
        tables.apply(event).unwrap();
        // Every row the event wrote is stamped after every row before it.
        let stamp = opcenter::wire::time_text(tables.last_modified().unwrap());
        assert!(stamp >= last);
        assert!(tables.last_modified().unwrap() >= event.time);
        last = stamp;
    }
    let mut stamps = Vec::new();
    for set in EntitySet::ALL {
        let rows = tables.rows(set.app().name(), set.name()).unwrap();
        assert!(
            !rows.is_empty() || set == EntitySet::ProducedMaterialItem,
            "{set} is empty"
        );
        for row in rows {
            let fields = row.as_object().unwrap();
            let declared: Vec<_> = set.properties().map(|p| p.name).collect();
            let mut names: Vec<_> = fields.keys().map(String::as_str).collect();
            names.sort_unstable();
            let mut expected = declared.clone();
            expected.sort_unstable();
            assert_eq!(names, expected, "{set} row {row}");
            for p in set.properties() {
                assert!(
                    conforms(&p, &fields[p.name]),
                    "{set}.{} = {}",
                    p.name,
                    fields[p.name]
                );
            }
            assert_eq!(
                fields["Id"],
                opcenter::wire::guid(set.name(), fields["NId"].as_str().unwrap())
            );
            stamps.push(fields["ModifiedOn"].as_str().unwrap().to_owned());
        }
    }
    let count = stamps.len();
    stamps.sort();
    stamps.dedup();
    assert_eq!(stamps.len(), count, "no two rows share a ModifiedOn");
    assert!(tables.rows("AppU4DM", "Teleporter").is_err());
}

/// The rows of a one-day run, and a state that knows its orders released and nothing else
/// (so every field of a row is read), made once for the property below.
fn sample_rows() -> &'static (Vec<(EntitySet, Value)>, PlantState) {
    static ROWS: std::sync::OnceLock<(Vec<(EntitySet, Value)>, PlantState)> =
        std::sync::OnceLock::new();
    ROWS.get_or_init(|| {
        let catalog = sim::reference_catalog();
        let options = SimOptions {
            seed: 9,
            days: 1.0,
            ..SimOptions::default()
        };
        let out = sim::simulate(&catalog, &options, None, |_| {}).expect("valid options");
        let mut tables = Tables::new(&catalog, options.start);
        let mut known = PlantState::initial(&catalog, options.start);
        for event in &out.events {
            tables.apply(event).unwrap();
            if let model::EventKind::OrderReleased { .. } = event.kind {
                known.apply(&catalog, event).unwrap();
            }
        }
        let rows = EntitySet::ALL
            .into_iter()
            .flat_map(|set| tables.set_rows(set).into_iter().map(move |row| (set, row)))
            .collect();
        (rows, known)
    })
}

/// A value of the wrong JSON type for property `p` (never null).
fn wrong_value(p: &opcenter::PropertyDef, pick: u8) -> Value {
    use opcenter::Edm;
    if p.collection {
        return serde_json::json!({"not": "a collection"});
    }
    match (p.edm, pick % 2) {
        (Edm::String | Edm::Guid | Edm::DateTimeOffset, 0) => serde_json::json!(7),
        (Edm::String | Edm::Guid | Edm::DateTimeOffset, _) => serde_json::json!(["x"]),
        (Edm::Int32 | Edm::Int64 | Edm::Double, 0) => serde_json::json!("12"),
        (Edm::Int32 | Edm::Int64 | Edm::Double, _) => serde_json::json!({"value": 1}),
        (Edm::Boolean, _) => serde_json::json!("true"),
        (Edm::ParameterValue, _) => serde_json::json!(3),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// A field of the wrong type is either not read by the mapping, or refused by its name.
    #[test]
    fn a_wrong_field_is_refused_by_its_name(row_pick in any::<prop::sample::Index>(), field_pick in any::<prop::sample::Index>(), pick in any::<u8>()) {
        let (rows, known) = sample_rows();
        let (set, row) = &rows[row_pick.index(rows.len())];
        let properties: Vec<_> = set.properties().collect();
        let p = properties[field_pick.index(properties.len())];
        let mut broken = row.clone();
        broken[p.name] = wrong_value(&p, pick);
        match map_set_row(*set, &broken, known) {
            Ok(_) => {}
            Err(opcenter::MapError::Field { field, set: named, id, .. }) => {
                prop_assert_eq!(named, set.name());
                if p.name != "Id" {
                    prop_assert_eq!(&id, row["Id"].as_str().unwrap());
                }
                let named_it = field == p.name || field.starts_with(&format!("{}[", p.name));
                prop_assert!(named_it, "{} broken, {} named", p.name, field);
            }
            Err(other) => prop_assert!(false, "{}", other),
        }
    }
}
