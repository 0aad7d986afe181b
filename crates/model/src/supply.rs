//! What the plant expects beside its orders: purchased deliveries announced ahead
//! (`receipt_expected`, closed by `material_received` or `receipt_cancelled`; a delivery that
//! reaches the log before its announcement is kept, and the announcement completes it) and
//! the attendance of pool members (`member_attendance`). Both are folded into [`PlantState`] here,
//! checked first like every event (all-or-nothing, the field at fault named).

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;
use crate::event::{Event, EventKind};
use crate::ids::*;
use crate::state::{EventError, Fail, PlantState, known_material};
use crate::time::Timestamp;

/// Where an expected receipt stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptStatus {
    /// Announced and not yet delivered.
    Open,
    /// A `material_received` fulfilled it.
    Received,
    /// A `receipt_cancelled` withdrew it.
    Cancelled,
}

/// A delivery of purchased material the plant expects, as the latest `receipt_expected` for
/// it said, and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ExpectedReceipt {
    pub material: MaterialId,
    pub quantity: f64,
    /// When it is expected now.
    pub expected: Timestamp,
    /// When it was expected first (a later `expected` means the delivery slipped).
    pub first_expected: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purchase_order: Option<String>,
    pub status: ReceiptStatus,
    /// The lot that fulfilled it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lot: Option<LotId>,
    /// When it was received or cancelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed: Option<Timestamp>,
    /// False while the only fact about it is a delivery naming it: facts from two systems (a
    /// purchasing feed and the lot tracking, say) may reach the log in either order, so a
    /// delivery may come before its announcement, which then completes the record.
    #[serde(default = "announced", skip_serializing_if = "is_announced")]
    pub announced: bool,
}

fn announced() -> bool {
    true
}

fn is_announced(announced: &bool) -> bool {
    *announced
}

impl ExpectedReceipt {
    pub fn is_open(&self) -> bool {
        self.status == ReceiptStatus::Open
    }
}

/// The latest attendance fact of one pool member. An absent member is away over
/// `[from, until)` (open-ended without `until`); a present one is available from `from` on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Attendance {
    pub present: bool,
    pub from: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Timestamp>,
}

impl Attendance {
    /// The absence over `[from, until)` this fact states, if it is one.
    pub fn absence(&self) -> Option<(Timestamp, Option<Timestamp>)> {
        (!self.present).then_some((self.from, self.until))
    }
}

impl PlantState {
    /// The open receipt of `material` a delivery that names none fulfils: the one expected
    /// earliest, ties by receipt id.
    pub fn oldest_open_receipt(&self, material: &MaterialId) -> Option<&ReceiptId> {
        self.receipts.oldest_open(material)
    }

    /// The expected receipt an event names, refused unless it is expected and still open.
    fn open_receipt(
        &self,
        receipt: &ReceiptId,
        fail: &Fail<'_>,
    ) -> Result<&ExpectedReceipt, EventError> {
        let existing = self
            .receipts
            .get(receipt)
            .ok_or_else(|| fail("receipt", format!("receipt `{receipt}` is not expected")))?;
        open(receipt, existing).map_err(|m| fail("receipt", m))?;
        Ok(existing)
    }

    /// Expected receipts, attendance, and the receipt a delivery names.
    pub(crate) fn check_supply_event(
        &self,
        catalog: &Catalog,
        kind: &EventKind,
        fail: &Fail<'_>,
    ) -> Result<(), EventError> {
        match kind {
            EventKind::ReceiptExpected {
                receipt,
                material,
                quantity,
                ..
            } => {
                if receipt.as_str().trim().is_empty() {
                    return Err(fail("receipt", "must not be empty".into()));
                }
                known_material(catalog, fail, "material", material)?;
                if !(quantity.is_finite() && *quantity > 0.0) {
                    return Err(fail(
                        "quantity",
                        format!("must be a positive number, got {quantity}"),
                    ));
                }
                if let Some(existing) = self.receipts.get(receipt) {
                    if existing.announced {
                        open(receipt, existing).map_err(|m| fail("receipt", m))?;
                    }
                    if &existing.material != material {
                        return Err(fail(
                            "material",
                            format!(
                                "receipt `{receipt}` expects `{}`; a receipt's material does not change",
                                existing.material
                            ),
                        ));
                    }
                }
            }
            EventKind::ReceiptCancelled { receipt, .. } => {
                self.open_receipt(receipt, fail)?;
            }
            EventKind::MaterialReceived {
                material,
                receipt: Some(receipt),
                ..
            } => {
                // A delivery naming a receipt not announced (yet) is a fact all the same.
                if !self.receipts.contains_key(receipt) {
                    return Ok(());
                }
                let existing = self.open_receipt(receipt, fail)?;
                if &existing.material != material {
                    return Err(fail(
                        "receipt",
                        format!(
                            "receipt `{receipt}` expects `{}`, not `{material}`",
                            existing.material
                        ),
                    ));
                }
            }
            EventKind::MemberAttendance {
                pool,
                member,
                present,
                from,
                until,
            } => {
                let Some(p) = catalog.pool(pool) else {
                    return Err(fail("pool", format!("pool `{pool}` does not exist")));
                };
                if !p.members.iter().any(|m| &m.id == member) {
                    return Err(fail(
                        "member",
                        format!("pool `{pool}` has no member `{member}`"),
                    ));
                }
                if *present && until.is_some() {
                    return Err(fail(
                        "until",
                        "applies to an absence; a member present stays so until the next \
                         attendance fact"
                            .into(),
                    ));
                }
                if let (Some(from), Some(until)) = (from, until)
                    && until <= from
                {
                    return Err(fail("until", format!("{until} is not after `from` {from}")));
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Folds a checked expected receipt, cancellation or attendance fact, and closes the
    /// receipt a delivery fulfils.
    pub(crate) fn fold_supply_event(&mut self, event: &Event) {
        match &event.kind {
            EventKind::ReceiptExpected {
                receipt,
                material,
                quantity,
                expected,
                supplier,
                purchase_order,
            } => {
                // The announcement of a delivery already recorded completes its record.
                if self.receipts.get(receipt).is_some_and(|r| !r.announced) {
                    self.receipts.update(receipt, |r| {
                        r.quantity = *quantity;
                        r.expected = *expected;
                        r.first_expected = *expected;
                        r.supplier = supplier.clone().or(r.supplier.take());
                        r.purchase_order = purchase_order.clone();
                        r.announced = true;
                    });
                    return;
                }
                let first = self
                    .receipts
                    .get(receipt)
                    .map_or(*expected, |r| r.first_expected);
                self.receipts.insert(
                    receipt.clone(),
                    ExpectedReceipt {
                        material: material.clone(),
                        quantity: *quantity,
                        expected: *expected,
                        first_expected: first,
                        supplier: supplier.clone(),
                        purchase_order: purchase_order.clone(),
                        status: ReceiptStatus::Open,
                        lot: None,
                        closed: None,
                        announced: true,
                    },
                );
            }
            EventKind::ReceiptCancelled { receipt, .. } => {
                self.receipts.update(receipt, |r| {
                    r.status = ReceiptStatus::Cancelled;
                    r.closed = Some(event.time);
                });
            }
            EventKind::MaterialReceived {
                material,
                lot,
                receipt: Some(receipt),
                quantity,
                supplier,
            } if !self.receipts.contains_key(receipt) => {
                self.receipts.insert(
                    receipt.clone(),
                    ExpectedReceipt {
                        material: material.clone(),
                        quantity: *quantity,
                        expected: event.time,
                        first_expected: event.time,
                        supplier: supplier.clone(),
                        purchase_order: None,
                        status: ReceiptStatus::Received,
                        lot: Some(lot.clone()),
                        closed: Some(event.time),
                        announced: false,
                    },
                );
            }
            EventKind::MaterialReceived {
                material,
                lot,
                receipt,
                ..
            } => {
                let fulfils = receipt
                    .clone()
                    .or_else(|| self.oldest_open_receipt(material).cloned());
                if let Some(id) = fulfils {
                    self.receipts.update(&id, |r| {
                        r.status = ReceiptStatus::Received;
                        r.lot = Some(lot.clone());
                        r.closed = Some(event.time);
                    });
                }
            }
            EventKind::MemberAttendance {
                pool,
                member,
                present,
                from,
                until,
            } => {
                let from = from.unwrap_or(event.time);
                let members = self.attendance.entry(pool.clone()).or_default();
                let fact = match members.get(member) {
                    // Back before an absence ends: the absence ends then.
                    Some(Attendance {
                        present: false,
                        from: away,
                        until: back,
                    }) if *present && from > *away => Attendance {
                        present: false,
                        from: *away,
                        until: Some(back.map_or(from, |b| b.min(from))),
                    },
                    _ => Attendance {
                        present: *present,
                        from,
                        until: *until,
                    },
                };
                members.insert(member.clone(), fact);
            }
            _ => {}
        }
    }

    /// Absences of pool members as `(pool, member, from, until)`, in pool and member order.
    pub fn absences(
        &self,
    ) -> impl Iterator<Item = (&PoolId, &MemberId, Timestamp, Option<Timestamp>)> {
        self.attendance.iter().flat_map(|(pool, members)| {
            members.iter().filter_map(move |(member, fact)| {
                fact.absence()
                    .map(|(from, until)| (pool, member, from, until))
            })
        })
    }
}

fn open(id: &ReceiptId, r: &ExpectedReceipt) -> Result<(), String> {
    match r.status {
        ReceiptStatus::Open => Ok(()),
        ReceiptStatus::Received => Err(format!(
            "receipt `{id}` was already received{}",
            r.lot
                .as_ref()
                .map(|l| format!(" as lot `{l}`"))
                .unwrap_or_default()
        )),
        ReceiptStatus::Cancelled => Err(format!("receipt `{id}` was cancelled")),
    }
}

/// The expected receipts by id, with the open ones indexed by material, so that a delivery
/// naming no receipt finds the one it fulfils without a look at every receipt the plant ever
/// expected (closed ones pile up: a scan made every delivery cost the whole history). Reads go
/// through `Deref` to the map; every change goes through the methods here, which keep the
/// index in step. It serialises, reads back and compares as the map alone.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(from = "BTreeMap<ReceiptId, ExpectedReceipt>")]
pub struct Receipts {
    all: BTreeMap<ReceiptId, ExpectedReceipt>,
    /// Of each material, its open receipts by when they are expected, ties by id.
    open: BTreeMap<MaterialId, BTreeSet<(Timestamp, ReceiptId)>>,
}

impl Receipts {
    /// The open receipt of `material` expected earliest, ties by receipt id.
    pub fn oldest_open(&self, material: &MaterialId) -> Option<&ReceiptId> {
        self.open
            .get(material)
            .and_then(BTreeSet::first)
            .map(|(_, id)| id)
    }

    pub fn is_empty(&self) -> bool {
        self.all.is_empty()
    }

    /// Sets the receipt `id`; returns what it was.
    pub fn insert(&mut self, id: ReceiptId, receipt: ExpectedReceipt) -> Option<ExpectedReceipt> {
        self.index(&id, &receipt);
        let old = self.all.insert(id.clone(), receipt);
        if let Some(old) = &old {
            self.unindex(&id, old);
        }
        old
    }

    pub fn remove(&mut self, id: &ReceiptId) -> Option<ExpectedReceipt> {
        let old = self.all.remove(id)?;
        self.unindex(id, &old);
        Some(old)
    }

    /// Changes the receipt `id` with `change`, if there is one; says whether there was.
    pub fn update(&mut self, id: &ReceiptId, change: impl FnOnce(&mut ExpectedReceipt)) -> bool {
        let Some(receipt) = self.all.get_mut(id) else {
            return false;
        };
        let before = (
            receipt.is_open(),
            receipt.material.clone(),
            receipt.expected,
        );
        change(receipt);
        let after = (
            receipt.is_open(),
            receipt.material.clone(),
            receipt.expected,
        );
        if before != after {
            if before.0 {
                self.unindex_open(id, &before.1, before.2);
            }
            // Indexed from what `after` took, not from a copy of the whole receipt.
            let (open, material, expected) = after;
            if open {
                self.open
                    .entry(material)
                    .or_default()
                    .insert((expected, id.clone()));
            }
        }
        true
    }

    fn index(&mut self, id: &ReceiptId, r: &ExpectedReceipt) {
        if r.is_open() {
            self.open
                .entry(r.material.clone())
                .or_default()
                .insert((r.expected, id.clone()));
        }
    }

    /// Takes `old` (the receipt `id` was) out of the index, unless `id` is still open with the
    /// same material and time (re-inserted as it was).
    fn unindex(&mut self, id: &ReceiptId, old: &ExpectedReceipt) {
        let now = self.all.get(id);
        let same = now.is_some_and(|r| {
            r.is_open() && r.material == old.material && r.expected == old.expected
        });
        if old.is_open() && !same {
            self.unindex_open(id, &old.material, old.expected);
        }
    }

    fn unindex_open(&mut self, id: &ReceiptId, material: &MaterialId, expected: Timestamp) {
        if let Some(set) = self.open.get_mut(material) {
            set.remove(&(expected, id.clone()));
            if set.is_empty() {
                self.open.remove(material);
            }
        }
    }
}

impl std::ops::Deref for Receipts {
    type Target = BTreeMap<ReceiptId, ExpectedReceipt>;

    fn deref(&self) -> &Self::Target {
        &self.all
    }
}

impl PartialEq for Receipts {
    fn eq(&self, other: &Receipts) -> bool {
        // The index is a function of the map.
        self.all == other.all
    }
}

impl From<BTreeMap<ReceiptId, ExpectedReceipt>> for Receipts {
    fn from(all: BTreeMap<ReceiptId, ExpectedReceipt>) -> Receipts {
        let mut receipts = Receipts {
            all: BTreeMap::new(),
            open: BTreeMap::new(),
        };
        for (id, r) in &all {
            receipts.index(id, r);
        }
        receipts.all = all;
        receipts
    }
}

impl FromIterator<(ReceiptId, ExpectedReceipt)> for Receipts {
    fn from_iter<I: IntoIterator<Item = (ReceiptId, ExpectedReceipt)>>(iter: I) -> Receipts {
        Receipts::from(iter.into_iter().collect::<BTreeMap<_, _>>())
    }
}

impl<'a> IntoIterator for &'a Receipts {
    type Item = (&'a ReceiptId, &'a ExpectedReceipt);
    type IntoIter = std::collections::btree_map::Iter<'a, ReceiptId, ExpectedReceipt>;

    fn into_iter(self) -> Self::IntoIter {
        self.all.iter()
    }
}

impl Serialize for Receipts {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.all.serialize(serializer)
    }
}

/// The map's schema: the index is not part of what is written.
impl JsonSchema for Receipts {
    fn inline_schema() -> bool {
        <BTreeMap<ReceiptId, ExpectedReceipt>>::inline_schema()
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        <BTreeMap<ReceiptId, ExpectedReceipt>>::schema_name()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        <BTreeMap<ReceiptId, ExpectedReceipt>>::schema_id()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        <BTreeMap<ReceiptId, ExpectedReceipt>>::json_schema(generator)
    }
}

/// Attendance per pool, then per member.
pub type AttendanceBook = BTreeMap<PoolId, BTreeMap<MemberId, Attendance>>;

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        let plant =
            serde_json::from_str(include_str!("../../sim/data/reference-plant.json")).unwrap();
        Catalog::new(plant).unwrap()
    }

    fn at(hours: i64) -> Timestamp {
        Timestamp(Timestamp::parse("2026-03-02T00:00:00Z").unwrap().0 + hours * 3_600_000)
    }

    fn event(id: &str, hour: i64, kind: EventKind) -> Event {
        Event {
            id: id.into(),
            time: at(hour),
            source: None,
            kind,
        }
    }

    fn expect(id: &str, receipt: &str, expected: i64, quantity: f64) -> Event {
        event(
            id,
            0,
            EventKind::ReceiptExpected {
                receipt: receipt.into(),
                material: "RM-BPA".into(),
                quantity,
                expected: at(expected),
                supplier: None,
                purchase_order: None,
            },
        )
    }

    fn receive(id: &str, lot: &str, receipt: Option<&str>) -> Event {
        event(
            id,
            1,
            EventKind::MaterialReceived {
                material: "RM-BPA".into(),
                lot: lot.into(),
                quantity: 100.0,
                supplier: None,
                receipt: receipt.map(ReceiptId::from),
            },
        )
    }

    #[test]
    fn a_delivery_before_its_announcement_is_kept_and_completed_by_it() {
        let catalog = catalog();
        let mut state = PlantState::initial(&catalog, at(0));
        // The lot tracking's delivery reaches the log before the purchasing feed's
        // announcement.
        state
            .apply(&catalog, &receive("d1", "L-1", Some("R-1")))
            .unwrap();
        let r = state.receipts[&ReceiptId::from("R-1")].clone();
        assert_eq!(
            (r.status, r.lot.clone(), r.announced, r.quantity),
            (
                ReceiptStatus::Received,
                Some(LotId::from("L-1")),
                false,
                100.0
            )
        );
        assert_eq!(state.oldest_open_receipt(&"RM-BPA".into()), None);
        state
            .apply(&catalog, &expect("a1", "R-1", 48, 120.0))
            .unwrap();
        let r = &state.receipts[&ReceiptId::from("R-1")];
        assert_eq!(
            (r.status, r.announced, r.expected, r.quantity),
            (ReceiptStatus::Received, true, at(48), 120.0)
        );
        assert_eq!(r.lot, Some(LotId::from("L-1")));
        // Now complete, it takes no more facts.
        let mut copy = state.clone();
        let again = copy
            .apply(&catalog, &expect("a2", "R-1", 50, 1.0))
            .unwrap_err();
        assert!(again.message.contains("already received"), "{again}");
        let twice = copy
            .apply(&catalog, &receive("d2", "L-2", Some("R-1")))
            .unwrap_err();
        assert!(twice.message.contains("already received"), "{twice}");
        // An announcement of another material under the delivered receipt is refused.
        let mut other = receive("d3", "L-3", Some("R-2"));
        if let EventKind::MaterialReceived { material, .. } = &mut other.kind {
            *material = "RM-SILICA".into();
        }
        state.apply(&catalog, &other).unwrap();
        let error = state
            .apply(&catalog, &expect("a3", "R-2", 48, 1.0))
            .unwrap_err();
        assert_eq!(error.field, "material", "{error}");
    }

    #[test]
    fn a_receipt_is_updated_by_id_and_closed_by_the_delivery_naming_it_or_the_oldest() {
        let catalog = catalog();
        let mut state = PlantState::initial(&catalog, at(0));
        for e in [
            expect("e1", "R-1", 48, 100.0),
            expect("e2", "R-2", 24, 100.0),
            expect("e3", "R-3", 72, 100.0),
            // R-1 slips and grows; its first promise is kept.
            expect("e4", "R-1", 60, 150.0),
        ] {
            state.apply(&catalog, &e).unwrap();
        }
        let r1 = &state.receipts[&ReceiptId::from("R-1")];
        assert_eq!(
            (r1.expected, r1.first_expected, r1.quantity),
            (at(60), at(48), 150.0)
        );
        // Naming none closes the one expected earliest, naming one closes that one.
        state.apply(&catalog, &receive("d1", "L-1", None)).unwrap();
        state
            .apply(&catalog, &receive("d2", "L-2", Some("R-3")))
            .unwrap();
        let status = |id: &str| state.receipts[&ReceiptId::from(id)].status;
        assert_eq!(status("R-2"), ReceiptStatus::Received);
        assert_eq!(status("R-3"), ReceiptStatus::Received);
        assert_eq!(status("R-1"), ReceiptStatus::Open);
        assert_eq!(
            state.receipts[&ReceiptId::from("R-2")].lot,
            Some(LotId::from("L-1"))
        );
        // Closed receipts take no more facts; the errors name the field.
        let refused = |state: &PlantState, e: Event, field: &str, needle: &str| {
            let mut copy = state.clone();
            let error = copy.apply(&catalog, &e).unwrap_err();
            assert_eq!(error.field, field, "{error}");
            assert!(error.message.contains(needle), "{error}");
            assert_eq!(&copy, state);
        };
        refused(
            &state,
            expect("x1", "R-2", 80, 1.0),
            "receipt",
            "already received as lot `L-1`",
        );

        refused(&state, expect("x3", "R-4", 80, 0.0), "quantity", "positive");
        let mut other = expect("x4", "R-1", 80, 1.0);
        if let EventKind::ReceiptExpected { material, .. } = &mut other.kind {
            *material = "RM-SILICA".into();
        }
        refused(&state, other, "material", "does not change");
        let cancel = |id: &str, receipt: &str| {
            event(
                id,
                2,
                EventKind::ReceiptCancelled {
                    receipt: receipt.into(),
                    reason: None,
                },
            )
        };
        state.apply(&catalog, &cancel("c1", "R-1")).unwrap();
        assert_eq!(
            state.receipts[&ReceiptId::from("R-1")].status,
            ReceiptStatus::Cancelled
        );
        refused(&state, cancel("c2", "R-1"), "receipt", "was cancelled");
        // With nothing open, a delivery closes nothing and is still a delivery.
        state.apply(&catalog, &receive("d3", "L-3", None)).unwrap();
        assert_eq!(state.lots[&LotId::from("L-3")].received, 100.0);
    }

    #[test]
    fn an_absence_lasts_until_its_end_or_a_presence_and_a_presence_before_it_cancels_it() {
        let catalog = catalog();
        let mut state = PlantState::initial(&catalog, at(0));
        let attend = |id: &str, hour: i64, present: bool, from: Option<i64>, until: Option<i64>| {
            event(
                id,
                hour,
                EventKind::MemberAttendance {
                    pool: "P-CHEM-OPS".into(),
                    member: "CH-01".into(),
                    present,
                    from: from.map(at),
                    until: until.map(at),
                },
            )
        };
        let fact = |state: &PlantState| {
            state.attendance[&PoolId::from("P-CHEM-OPS")][&MemberId::from("CH-01")].clone()
        };
        state
            .apply(&catalog, &attend("a1", 1, false, None, None))
            .unwrap();
        assert_eq!(fact(&state).absence(), Some((at(1), None)));
        // Back at hour 5, said at hour 3: the absence ends then.
        state
            .apply(&catalog, &attend("a2", 3, true, Some(5), None))
            .unwrap();
        assert_eq!(fact(&state).absence(), Some((at(1), Some(at(5)))));
        assert_eq!(state.absences().count(), 1);
        // Present from before the absence began: no absence.
        state
            .apply(&catalog, &attend("a3", 4, false, Some(10), Some(20)))
            .unwrap();
        state
            .apply(&catalog, &attend("a4", 4, true, Some(8), None))
            .unwrap();
        assert_eq!(fact(&state).absence(), None);
        assert_eq!(state.absences().count(), 0);
        let mut copy = state.clone();
        let error = copy
            .apply(&catalog, &attend("x1", 4, false, Some(10), Some(10)))
            .unwrap_err();
        assert_eq!(error.field, "until");
        let mut stranger = attend("x2", 4, false, None, None);
        if let EventKind::MemberAttendance { member, .. } = &mut stranger.kind {
            *member = "AS-01".into();
        }
        let error = copy.apply(&catalog, &stranger).unwrap_err();
        assert_eq!(error.field, "member");
        assert!(error.message.contains("has no member `AS-01`"), "{error}");
    }

    mod index {
        use proptest::prelude::*;

        use super::*;

        /// What the index stands for: a look at every receipt.
        fn scanned<'a>(all: &'a Receipts, material: &MaterialId) -> Option<&'a ReceiptId> {
            all.iter()
                .filter(|(_, r)| r.is_open() && &r.material == material)
                .min_by_key(|(id, r)| (r.expected, *id))
                .map(|(id, _)| id)
        }

        fn receipt(material: u8, expected: i64, status: u8) -> ExpectedReceipt {
            ExpectedReceipt {
                material: format!("M{material}").into(),
                quantity: 1.0,
                expected: Timestamp(expected),
                first_expected: Timestamp(expected),
                supplier: None,
                purchase_order: None,
                status: [
                    ReceiptStatus::Open,
                    ReceiptStatus::Received,
                    ReceiptStatus::Cancelled,
                ][usize::from(status % 3)],
                lot: None,
                closed: None,
                announced: true,
            }
        }

        #[derive(Debug, Clone)]
        enum Change {
            Insert(u8, u8, i64, u8),
            Remove(u8),
            Close(u8),
            Slip(u8, i64),
            Rematerial(u8, u8),
        }

        fn change() -> impl Strategy<Value = Change> {
            // Few ids, materials and times, so that changes hit the same receipts and ties.
            let (id, material, time) = (0u8..12, 0u8..3, 0i64..5);
            prop_oneof![
                (id.clone(), material.clone(), time.clone(), 0u8..3)
                    .prop_map(|(i, m, t, s)| Change::Insert(i, m, t, s)),
                id.clone().prop_map(Change::Remove),
                id.clone().prop_map(Change::Close),
                (id.clone(), time).prop_map(|(i, t)| Change::Slip(i, t)),
                (id, material).prop_map(|(i, m)| Change::Rematerial(i, m)),
            ]
        }

        proptest! {
            /// After any changes, the index names what a scan of every receipt finds, for
            /// every material, and a copy rebuilt from the map alone equals it.
            #[test]
            fn the_index_answers_as_a_scan(changes in proptest::collection::vec(change(), 0..60)) {
                let mut receipts = Receipts::default();
                let id = |i: u8| ReceiptId::from(format!("R{i}"));
                for change in changes {
                    match change {
                        Change::Insert(i, m, t, s) => {
                            receipts.insert(id(i), receipt(m, t, s));
                        }
                        Change::Remove(i) => {
                            receipts.remove(&id(i));
                        }
                        Change::Close(i) => {
                            receipts.update(&id(i), |r| r.status = ReceiptStatus::Received);
                        }
                        Change::Slip(i, t) => {
                            receipts.update(&id(i), |r| r.expected = Timestamp(t));
                        }
                        Change::Rematerial(i, m) => {
                            receipts.update(&id(i), |r| r.material = format!("M{m}").into());
                        }
                    }
                    for m in 0..3u8 {
                        let material = MaterialId::from(format!("M{m}"));
                        prop_assert_eq!(receipts.oldest_open(&material), scanned(&receipts, &material));
                    }
                }
                let rebuilt = Receipts::from((*receipts).clone());
                prop_assert_eq!(&rebuilt.open, &receipts.open);
                let json = serde_json::to_string(&receipts).unwrap();
                let read: Receipts = serde_json::from_str(&json).unwrap();
                prop_assert_eq!(&read.open, &receipts.open);
                prop_assert_eq!(read, receipts);
            }
        }
    }
}
