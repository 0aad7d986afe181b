//! Test support shared by the store's integration tests and its benchmark: a tiny mixed-mode
//! plant, a seeded generator of valid event streams against it, and throw-away directories.
//!
//! Deliberately independent of the simulator crate: the store's tests must not break when the
//! simulator changes.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use model::rng::Rng;
use model::{EquipmentState, Event, EventKind, Plant, Priority, ProductionOrder, Timestamp};

/// 2026-03-02T06:00:00Z, the start of every test history.
pub const T0: i64 = 1_772_431_200_000;

/// A plant with one discrete, one process and one repetitive work center.
pub fn plant() -> Plant {
    let shift = serde_json::json!([{"name": "all day", "weekdays": [1,2,3,4,5,6,7], "start_minute": 0, "length_minutes": 1440}]);
    serde_json::from_value(serde_json::json!({
        "schema_version": 1,
        "site": {"id": "S1", "name": "Test site"},
        "areas": [{"id": "A1", "name": "Hall"}],
        "work_centers": [
            {"id": "WC-D", "name": "Assembly", "area": "A1", "mode": "discrete"},
            {"id": "WC-P", "name": "Reactors", "area": "A1", "mode": "process"},
            {"id": "WC-R", "name": "Extrusion", "area": "A1", "mode": "repetitive"}
        ],
        "units": [
            {"id": "D1", "name": "Cell 1", "work_center": "WC-D", "calendar": "CAL"},
            {"id": "D2", "name": "Cell 2", "work_center": "WC-D", "calendar": "CAL"},
            {"id": "P1", "name": "Reactor 1", "work_center": "WC-P", "calendar": "CAL"},
            {"id": "R1", "name": "Line 1", "work_center": "WC-R", "calendar": "CAL"}
        ],
        "materials": [
            {"id": "RAW", "name": "Monomer", "kind": "raw", "uom": "kg", "tracking": "lot"},
            {"id": "RESIN", "name": "Resin", "kind": "intermediate", "uom": "kg", "tracking": "lot"},
            {"id": "WIDGET", "name": "Widget", "kind": "finished", "uom": "ea", "tracking": "serial"},
            {"id": "BAR", "name": "Bar", "kind": "finished", "uom": "m", "tracking": "lot"}
        ],
        "routings": [
            {"id": "R-WIDGET", "product": "WIDGET", "mode": "discrete", "steps": [
                {"name": "assemble", "alternatives": [
                    {"unit": "D1", "duration": {"kind": "per_item", "setup_minutes": 10, "minutes_per_item": 2}},
                    {"unit": "D2", "duration": {"kind": "per_item", "setup_minutes": 10, "minutes_per_item": 3}}]},
                {"name": "test", "alternatives": [
                    {"unit": "D2", "duration": {"kind": "fixed", "minutes": 15}}],
                 "inspection": "IP-WIDGET"}]},
            {"id": "R-RESIN", "product": "RESIN", "mode": "process", "batch_size": 500, "steps": [
                {"name": "react", "alternatives": [{"unit": "P1", "duration": {"kind": "fixed", "minutes": 120}}]}]},
            {"id": "R-BAR", "product": "BAR", "mode": "repetitive", "steps": [
                {"name": "extrude", "alternatives": [
                    {"unit": "R1", "duration": {"kind": "rate", "setup_minutes": 20, "items_per_hour": 600}}]}]}
        ],
        "calendars": [{"id": "CAL", "name": "24/7", "shifts": shift}],
        "inspection_plans": [{"id": "IP-WIDGET", "name": "Widget check", "material": "WIDGET",
            "characteristics": [
                {"id": "WIDTH", "name": "Width", "uom": "mm", "target": 10.0, "lsl": 9.5, "usl": 10.5, "chart": "imr"},
                {"id": "DEFECTS", "name": "Defects", "uom": "count", "target": 0.0, "chart": "c"}]}],
        "orders": [
            {"id": "O-INIT", "product": "BAR", "routing": "R-BAR", "quantity": 100,
             "release": "2026-03-02T06:00:00Z", "due": "2026-03-03T06:00:00Z", "priority": "low"}
        ]
    }))
    .expect("the test plant is well-formed")
}

const ROUTINGS: [(&str, &str, &[&[&str]]); 3] = [
    ("R-WIDGET", "WIDGET", &[&["D1", "D2"], &["D2"]]),
    ("R-RESIN", "RESIN", &[&["P1"]]),
    ("R-BAR", "BAR", &[&["R1"]]),
];
const UNITS: [&str; 4] = ["D1", "D2", "P1", "R1"];

struct Open {
    id: String,
    routing: usize,
    next_step: usize,
    release: i64,
}

/// Emits a stream of events that are all valid when applied in order to
/// `PlantState::initial(&catalog(plant()), T0)`.
pub struct Gen {
    rng: Rng,
    prefix: String,
    n: u64,
    t: i64,
    orders: u64,
    open: Vec<Open>,
    all_orders: Vec<String>,
    lots: Vec<(String, &'static str)>,
    serials: Vec<String>,
    receipts: u64,
    /// Relative weights: release, progress, change/cancel, equipment, material, quality.
    pub weights: [u32; 6],
}

impl Gen {
    pub fn new(seed: u64, prefix: &str) -> Gen {
        Gen {
            rng: Rng::new(seed),
            prefix: prefix.to_owned(),
            n: 0,
            t: T0,
            orders: 0,
            open: Vec::new(),
            all_orders: vec!["O-INIT".into()],
            lots: Vec::new(),
            serials: Vec::new(),
            receipts: 0,
            weights: [2, 4, 1, 2, 3, 3],
        }
    }

    /// The bench mix: mostly releases, quality results and equipment states.
    pub fn bench(seed: u64) -> Gen {
        let mut generator = Gen::new(seed, "b");
        generator.weights = [3, 2, 0, 3, 1, 4];
        generator
    }

    pub fn take(&mut self, n: usize) -> Vec<Event> {
        (0..n).map(|_| self.next_event()).collect()
    }

    fn pick_weighted(&mut self) -> usize {
        let total: u32 = self.weights.iter().sum();
        let mut x = self.rng.below(u64::from(total)) as u32;
        for (i, w) in self.weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        0
    }

    pub fn next_event(&mut self) -> Event {
        self.n += 1;
        self.t += 1 + self.rng.below(60_000) as i64;
        let kind = loop {
            if let Some(kind) = self.try_kind() {
                break kind;
            }
        };
        Event {
            id: format!("{}-{}", self.prefix, self.n).into(),
            time: Timestamp(self.t),
            source: self.rng.chance(0.7).then(|| "test".into()),
            kind,
        }
    }

    fn try_kind(&mut self) -> Option<EventKind> {
        match self.pick_weighted() {
            0 => {
                self.orders += 1;
                let routing = self.rng.below(3) as usize;
                let (rid, product, _) = ROUTINGS[routing];
                let id = format!("{}-O{}", self.prefix, self.orders);
                self.open.push(Open {
                    id: id.clone(),
                    routing,
                    next_step: 0,
                    release: self.t,
                });
                self.all_orders.push(id.clone());
                Some(EventKind::OrderReleased {
                    order: ProductionOrder {
                        id: id.into(),
                        product: product.into(),
                        routing: rid.into(),
                        quantity: 1.0 + self.rng.below(500) as f64,
                        release: Timestamp(self.t),
                        due: Timestamp(self.t + 3_600_000 * (1 + self.rng.below(72) as i64)),
                        priority: *self.rng.pick(&[
                            Priority::High,
                            Priority::Medium,
                            Priority::Low,
                        ]),
                        customer: self.rng.chance(0.5).then(|| "ACME".to_owned()),
                    },
                })
            }
            1 => {
                if self.open.is_empty() {
                    return None;
                }
                let k = self.rng.below(self.open.len() as u64) as usize;
                let open = &mut self.open[k];
                let steps = ROUTINGS[open.routing].2;
                let step = open.next_step;
                let unit = (*self.rng.pick(steps[step])).into();
                let order = open.id.clone().into();
                if self.rng.chance(0.5) {
                    return Some(EventKind::OperationStarted {
                        order,
                        step: step as u32,
                        unit,
                        members: Vec::new(),
                    });
                }
                open.next_step += 1;
                if open.next_step == steps.len() {
                    self.open.swap_remove(k);
                }
                let mut parameters = BTreeMap::new();
                if self.rng.chance(0.3) {
                    parameters.insert("temperature".to_owned(), 80.0 + self.rng.normal());
                }
                Some(EventKind::OperationCompleted {
                    order,
                    step: step as u32,
                    unit,
                    good_quantity: self.rng.below(100) as f64,
                    scrap_quantity: self.rng.below(5) as f64,
                    parameters,
                })
            }
            2 => {
                if self.open.is_empty() {
                    return None;
                }
                let k = self.rng.below(self.open.len() as u64) as usize;
                if self.rng.chance(0.2) {
                    let open = self.open.swap_remove(k);
                    return Some(EventKind::OrderCancelled {
                        order: open.id.into(),
                        reason: "customer cancelled".into(),
                    });
                }
                let open = &self.open[k];
                Some(EventKind::OrderChanged {
                    order: open.id.clone().into(),
                    quantity: self
                        .rng
                        .chance(0.5)
                        .then(|| 1.0 + self.rng.below(50) as f64),
                    due: Some(Timestamp(open.release + 3_600_000 * 100)),
                    priority: Some(Priority::High),
                })
            }
            3 => Some(EventKind::EquipmentStateChanged {
                unit: (*self.rng.pick(&UNITS)).into(),
                state: *self.rng.pick(EquipmentState::ALL),
                reason: self.rng.chance(0.2).then(|| "sensor".to_owned()),
            }),
            4 => self.material(),
            _ => {
                let (characteristic, value) = if self.rng.chance(0.7) {
                    ("WIDTH", 10.0 + 0.1 * self.rng.normal())
                } else {
                    ("DEFECTS", self.rng.below(4) as f64)
                };
                let order = self
                    .rng
                    .chance(0.5)
                    .then(|| self.rng.pick(&self.all_orders).clone().into());
                Some(EventKind::QualityResultRecorded {
                    characteristic: characteristic.into(),
                    value,
                    sample: Some(self.n / 5),
                    sample_size: None,
                    order,
                    lot: None,
                    serial: None,
                    unit: self.rng.chance(0.5).then(|| "D2".into()),
                })
            }
        }
    }

    fn material(&mut self) -> Option<EventKind> {
        match self.rng.below(4) {
            0 if self.rng.chance(0.5) => {
                // A fresh expected receipt; the deliveries below, naming none, close the
                // oldest open one (a journal entry the state chooses).
                self.receipts += 1;
                Some(EventKind::ReceiptExpected {
                    receipt: format!("{}-R{}", self.prefix, self.receipts).into(),
                    material: "RAW".into(),
                    quantity: 1000.0,
                    expected: Timestamp(3_600_000 * self.rng.below(1000) as i64),
                    supplier: None,
                    purchase_order: None,
                })
            }
            0 => {
                let lot = format!("{}-L{}", self.prefix, self.lots.len() + 1);
                self.lots.push((lot.clone(), "RAW"));
                Some(EventKind::MaterialReceived {
                    material: "RAW".into(),
                    lot: lot.into(),
                    quantity: 1000.0,
                    supplier: Some("Chem Co".into()),
                    receipt: None,
                })
            }
            1 => {
                if self.lots.is_empty() {
                    return None;
                }
                let (lot, material) = self.rng.pick(&self.lots).clone();
                let order = self.rng.pick(&self.all_orders).clone();
                Some(EventKind::MaterialConsumed {
                    order: order.into(),
                    step: 0,
                    material: material.into(),
                    lot: Some(lot.into()),
                    serial: None,
                    quantity: 1.0 + self.rng.below(20) as f64,
                })
            }
            2 => {
                let order = self.rng.pick(&self.all_orders).clone();
                if self.rng.chance(0.5) {
                    let lot = format!("{}-L{}", self.prefix, self.lots.len() + 1);
                    self.lots.push((lot.clone(), "RESIN"));
                    Some(EventKind::MaterialProduced {
                        order: order.into(),
                        material: "RESIN".into(),
                        lot: Some(lot.into()),
                        serials: Vec::new(),
                        quantity: 500.0,
                    })
                } else {
                    let first = self.serials.len();
                    let serials: Vec<String> = (first..first + 2)
                        .map(|i| format!("{}-SN{i}", self.prefix))
                        .collect();
                    self.serials.extend(serials.iter().cloned());
                    Some(EventKind::MaterialProduced {
                        order: order.into(),
                        material: "WIDGET".into(),
                        lot: None,
                        serials: serials.into_iter().map(Into::into).collect(),
                        quantity: 2.0,
                    })
                }
            }
            _ => {
                if self.serials.is_empty() {
                    return None;
                }
                let serial = self.rng.pick(&self.serials).clone();
                Some(EventKind::MaterialShipped {
                    material: "WIDGET".into(),
                    lot: None,
                    serials: vec![serial.into()],
                    quantity: 1.0,
                    customer: "ACME".into(),
                })
            }
        }
    }
}

/// An event that no plant state accepts: a step on a unit that cannot run it.
pub fn invalid_event(id: &str) -> Event {
    Event {
        id: id.into(),
        time: Timestamp(T0 + 1),
        source: None,
        kind: EventKind::EquipmentStateChanged {
            unit: "NO-SUCH-UNIT".into(),
            state: EquipmentState::Down,
            reason: None,
        },
    }
}

/// A directory under the system temp dir, removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = std::env::temp_dir().join(format!(
            "mixplane-store-{label}-{}-{n}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Asserts two states are equal, naming the first entry that differs (the full debug output
/// of a large state is unreadable).
#[track_caller]
pub fn assert_same_state(left: &model::PlantState, right: &model::PlantState, what: &str) {
    fn first_diff<K: Ord + std::fmt::Debug, V: PartialEq + std::fmt::Debug>(
        name: &str,
        a: &BTreeMap<K, V>,
        b: &BTreeMap<K, V>,
    ) -> Option<String> {
        for (k, v) in a {
            match b.get(k) {
                None => return Some(format!("{name}[{k:?}] only on the left: {v:?}")),
                Some(w) if w != v => {
                    return Some(format!(
                        "{name}[{k:?}] differs:\n  left:  {v:?}\n  right: {w:?}"
                    ));
                }
                _ => {}
            }
        }
        b.iter()
            .find(|(k, _)| !a.contains_key(k))
            .map(|(k, v)| format!("{name}[{k:?}] only on the right: {v:?}"))
    }
    let diff = first_diff("orders", &left.orders, &right.orders)
        .or_else(|| first_diff("units", &left.units, &right.units))
        .or_else(|| first_diff("lots", &left.lots, &right.lots))
        .or_else(|| first_diff("serials", &left.serials, &right.serials))
        .or_else(|| {
            first_diff(
                "quality_results",
                &left.quality_results,
                &right.quality_results,
            )
        })
        .or_else(|| {
            (left.events_applied != right.events_applied).then(|| {
                format!(
                    "events_applied {} != {}",
                    left.events_applied, right.events_applied
                )
            })
        })
        .or_else(|| {
            (left.clock != right.clock)
                .then(|| format!("clock {:?} != {:?}", left.clock, right.clock))
        });
    if let Some(diff) = diff {
        panic!("{what}: states differ: {diff}");
    }
    assert!(left == right, "{what}: states differ");
}

/// The state that folding the stored log from scratch gives, reading it `page` events at a
/// time (a small page exercises the paging).
pub async fn replay_log(store: &store::Store, page: u32) -> model::PlantState {
    let catalog = store.plant().await.expect("a plant was put");
    let start = Timestamp(T0);
    let mut state = model::PlantState::initial(&catalog, start);
    let mut after = None;
    loop {
        let events = store
            .events(store::EventFilter {
                after_seq: after,
                limit: page,
                ..store::EventFilter::default()
            })
            .await
            .unwrap();
        let Some(last) = events.last() else {
            return state;
        };
        after = Some(last.seq);
        for stored in &events {
            state.apply(&catalog, &stored.event).unwrap();
        }
    }
}

/// Runs SQL statements on a closed store behind its back (the SQLite file at `path`, or on
/// PostgreSQL the schema of the store at `path`).
pub async fn tamper(path: &Path, statements: &[&str]) {
    use sqlx::Connection;
    if let Some((url, schema)) = store::test_support::postgres_at(path) {
        let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
        sqlx::query(&format!("SET search_path TO {schema}"))
            .execute(&mut conn)
            .await
            .unwrap();
        for sql in statements {
            sqlx::query(sql).execute(&mut conn).await.unwrap();
        }
        conn.close().await.unwrap();
        return;
    }
    let url = format!("sqlite://{}", path.display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    for sql in statements {
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    }
    conn.close().await.unwrap();
}

/// Reopens a database file and names the first record that breaks its audit chain.
pub async fn first_bad(path: &Path) -> (i64, store::AuditFault) {
    let store = store::test_support::store_at(path).await.unwrap();
    let bad = store
        .verify_audit()
        .await
        .unwrap()
        .first_bad
        .expect("tampering is found");
    (bad.seq, bad.fault)
}
