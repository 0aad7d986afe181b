//! Which parts of a [`PlantState`] an event touches, an undo journal built on that, and the set
//! of projection rows a batch dirtied.
//!
//! Batches are folded straight into the writer's live state, so that ingest costs O(batch)
//! rather than a clone of the whole state per batch. Before each event is applied, the journal
//! saves the entries it may touch (the same keys the model's fold writes to); if a later event
//! of the batch is invalid, or the database commit fails, the journal puts the saved entries
//! back. The same key list tells which projection rows to upsert after a batch. A property
//! test in `tests/` checks that an undone batch leaves the state exactly as it was.

use std::collections::BTreeSet;

use model::{
    Attendance, CharacteristicId, Event, EventKind, ExpectedReceipt, LotId, LotState, MaterialId,
    MemberId, OrderId, OrderState, PlantState, PoolId, ReceiptId, SerialId, SerialState, Timestamp,
    UnitId, UnitState,
};

/// A state entry an event may write.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Key<'a> {
    Order(&'a OrderId),
    Unit(&'a UnitId),
    Lot(&'a LotId),
    Serial(&'a SerialId),
    Quality(&'a CharacteristicId),
    Receipt(&'a ReceiptId),
    /// The open receipt of a material a delivery that names none fulfils: the oldest open
    /// one, which only the state before the delivery knows ([`Journal::save`] resolves it).
    OldestOpenReceipt(&'a MaterialId),
    /// The attendance of a pool's members.
    Pool(&'a PoolId),
}

/// Calls `f` with every entry `event` may write (besides the counters every event writes).
pub(crate) fn keys<'a>(event: &'a Event, mut f: impl FnMut(Key<'a>)) {
    match &event.kind {
        EventKind::OrderReleased { order } => f(Key::Order(&order.id)),
        EventKind::OrderChanged { order, .. }
        | EventKind::OrderCancelled { order, .. }
        | EventKind::OperationStarted { order, .. }
        | EventKind::OperationCompleted { order, .. }
        | EventKind::OperationDispatched { order, .. } => f(Key::Order(order)),
        EventKind::EquipmentStateChanged { unit, .. } => f(Key::Unit(unit)),
        EventKind::MaterialReceived {
            lot,
            material,
            receipt,
            ..
        } => {
            f(Key::Lot(lot));
            match receipt {
                Some(receipt) => f(Key::Receipt(receipt)),
                None => f(Key::OldestOpenReceipt(material)),
            }
        }
        EventKind::ReceiptExpected { receipt, .. }
        | EventKind::ReceiptCancelled { receipt, .. } => f(Key::Receipt(receipt)),
        EventKind::MemberAttendance { pool, .. } => f(Key::Pool(pool)),
        EventKind::MaterialConsumed { lot, serial, .. } => {
            if let Some(lot) = lot {
                f(Key::Lot(lot));
            }
            if let Some(serial) = serial {
                f(Key::Serial(serial));
            }
        }
        EventKind::MaterialProduced { lot, serials, .. }
        | EventKind::MaterialShipped { lot, serials, .. } => {
            if let Some(lot) = lot {
                f(Key::Lot(lot));
            }
            for serial in serials {
                f(Key::Serial(serial));
            }
        }
        EventKind::QualityResultRecorded { characteristic, .. } => f(Key::Quality(characteristic)),
    }
}

enum Saved {
    Order(OrderId, Option<Box<OrderState>>),
    Unit(UnitId, Option<UnitState>),
    Lot(LotId, Option<LotState>),
    Serial(SerialId, Option<SerialState>),
    Quality(CharacteristicId, Option<u64>),
    Receipt(ReceiptId, Option<ExpectedReceipt>),
    Pool(
        PoolId,
        Option<std::collections::BTreeMap<MemberId, Attendance>>,
    ),
    Counters(u64, Option<Timestamp>),
}

/// Saved entries to restore a state to what it was before a batch.
#[derive(Default)]
pub(crate) struct Journal {
    saved: Vec<Saved>,
    /// The receipts deliveries naming none fulfilled, resolved before each was applied: the
    /// projection rows of the batch to rewrite besides those its events name.
    fulfilled: BTreeSet<ReceiptId>,
}

impl Journal {
    /// Saves what `event` may overwrite in `state`; call before applying it.
    pub(crate) fn save(&mut self, state: &PlantState, event: &Event) {
        self.saved
            .push(Saved::Counters(state.events_applied, state.clock));
        keys(event, |key| {
            let saved = match key {
                Key::Order(id) => Saved::Order(id.clone(), state.orders.get(id).cloned()),
                Key::Unit(id) => Saved::Unit(id.clone(), state.units.get(id).cloned()),
                Key::Lot(id) => Saved::Lot(id.clone(), state.lots.get(id).cloned()),
                Key::Serial(id) => Saved::Serial(id.clone(), state.serials.get(id).cloned()),
                Key::Quality(id) => {
                    Saved::Quality(id.clone(), state.quality_results.get(id).copied())
                }
                Key::Receipt(id) => Saved::Receipt(id.clone(), state.receipts.get(id).cloned()),
                // Only that one receipt changes, however many the material had: saving (and
                // rewriting) them all made every delivery cost the material's whole history.
                Key::OldestOpenReceipt(material) => {
                    let Some(id) = state.oldest_open_receipt(material) else {
                        return; // it fulfils none
                    };
                    self.fulfilled.insert(id.clone());
                    Saved::Receipt(id.clone(), state.receipts.get(id).cloned())
                }
                Key::Pool(id) => Saved::Pool(id.clone(), state.attendance.get(id).cloned()),
            };
            self.saved.push(saved);
        });
    }

    /// Puts every saved entry back, newest first.
    pub(crate) fn undo(&mut self, state: &mut PlantState) {
        fn put<K: Ord, V>(map: &mut std::collections::BTreeMap<K, V>, key: K, value: Option<V>) {
            match value {
                Some(value) => {
                    map.insert(key, value);
                }
                None => {
                    map.remove(&key);
                }
            }
        }
        while let Some(saved) = self.saved.pop() {
            match saved {
                Saved::Order(k, v) => put(&mut state.orders, k, v),
                Saved::Unit(k, v) => put(&mut state.units, k, v),
                Saved::Lot(k, v) => put(&mut state.lots, k, v),
                Saved::Serial(k, v) => put(&mut state.serials, k, v),
                Saved::Quality(k, v) => put(&mut state.quality_results, k, v),
                Saved::Receipt(k, Some(v)) => {
                    state.receipts.insert(k, v);
                }
                Saved::Receipt(k, None) => {
                    state.receipts.remove(&k);
                }
                Saved::Pool(k, v) => put(&mut state.attendance, k, v),
                Saved::Counters(applied, clock) => {
                    state.events_applied = applied;
                    state.clock = clock;
                }
            }
        }
    }

    /// Forgets the saved entries (the batch was committed).
    pub(crate) fn clear(&mut self) {
        self.saved.clear();
        self.fulfilled.clear();
    }

    /// The receipts deliveries of the batch fulfilled without naming them.
    pub(crate) fn fulfilled(&self) -> &BTreeSet<ReceiptId> {
        &self.fulfilled
    }
}

/// Projection rows a batch dirtied.
#[derive(Debug, Default)]
pub(crate) struct Touched {
    pub orders: BTreeSet<OrderId>,
    pub units: BTreeSet<UnitId>,
    pub lots: BTreeSet<LotId>,
    pub serials: BTreeSet<SerialId>,
    pub quality: BTreeSet<CharacteristicId>,
    pub receipts: BTreeSet<ReceiptId>,
    pub pools: BTreeSet<PoolId>,
}

impl Touched {
    pub(crate) fn add(&mut self, event: &Event) {
        keys(event, |key| match key {
            Key::Order(id) => {
                self.orders.insert(id.clone());
            }
            Key::Unit(id) => {
                self.units.insert(id.clone());
            }
            Key::Lot(id) => {
                self.lots.insert(id.clone());
            }
            Key::Serial(id) => {
                self.serials.insert(id.clone());
            }
            Key::Quality(id) => {
                self.quality.insert(id.clone());
            }
            Key::Receipt(id) => {
                self.receipts.insert(id.clone());
            }
            // Resolved by the journal before the delivery applied (`Journal::fulfilled`).
            Key::OldestOpenReceipt(_) => {}
            Key::Pool(id) => {
                self.pools.insert(id.clone());
            }
        });
    }
}
