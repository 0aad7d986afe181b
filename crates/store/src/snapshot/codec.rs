//! The binary encoding of a [`PlantState`] in a snapshot.
//!
//! Not serde: the model's serde forms are made for the wire (timestamps as RFC 3339 text, ids
//! checked on the way in, fields skipped when empty), which a non-self-describing format cannot
//! carry and which costs seconds to parse at millions of orders. This encoding is a plain walk:
//! integers as LEB128 varints (signed ones zigzagged), floats as a varint when they hold a
//! whole number (most quantities do) and as their 8 bytes otherwise (so every float comes back
//! bit for bit), strings as length and UTF-8, options as a tag byte, maps as a count and
//! their entries in key order, enums as their position. Strings that repeat across entries
//! (materials, routings, units, characteristics) are interned: written once, then named by
//! their number.
//!
//! Every struct is destructured with all its fields named when written and built with all its
//! fields when read, so a field added to the model is a compile error here rather than a
//! snapshot that silently loses it; a snapshot written before such a change is refused at open
//! because the state's layout fingerprint (`super::layout`) changed with it.

use std::collections::{BTreeMap, HashMap};

use model::state::Dispatch;
use model::{
    Attendance, EquipmentState, ExpectedReceipt, LotState, Mode, OrderId, OrderState, OrderStatus,
    PlantState, Priority, ProductionOrder, ReceiptStatus, SerialState, Timestamp, UnitState,
};

/// Why a snapshot's body does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("snapshot body does not decode at byte {at}: {what}")]
pub struct CodecError {
    pub at: usize,
    pub what: &'static str,
}

/// Encodes a state (public for the open bench's timings).
pub fn encode(state: &PlantState) -> Vec<u8> {
    encode_with(state, PARALLEL_BYTES)
}

/// [`encode`], writing the orders' halves on two threads when the second would take about
/// `parallel` bytes or more (the bytes are the same either way).
fn encode_with(state: &PlantState, parallel: usize) -> Vec<u8> {
    let mut e = Enc::default();
    let PlantState {
        orders,
        units,
        lots,
        serials,
        quality_results,
        events_applied,
        clock,
        receipts,
        attendance,
    } = state;
    // Orders are most of a large state: written as two halves, each a section with its own
    // symbols, so that two threads can read them.
    // The halves are written on two threads when large (as they are read).
    let orders: Vec<(&OrderId, &OrderState)> = orders.iter().map(|(k, v)| (k, &**v)).collect();
    let (first, second) = orders.split_at(orders.len() / 2);
    let (first, second) = if second.len() * MIN_ORDER_BYTES < parallel {
        (encode_orders(first), encode_orders(second))
    } else {
        std::thread::scope(|scope| {
            let theirs = scope.spawn(|| encode_orders(second));
            let mine = encode_orders(first);
            (mine, join(theirs))
        })
    };
    for half in [first, second] {
        e.u64(half.len() as u64);
        e.buf.extend_from_slice(&half);
    }
    e.map(units, |e, k, v| {
        e.sym(&k.0);
        e.unit(v);
    });
    e.map(lots, |e, k, v| {
        e.str(&k.0);
        e.lot(v);
    });
    e.map(serials, |e, k, v| {
        e.str(&k.0);
        e.serial(v);
    });
    e.map(quality_results, |e, k, v| {
        e.sym(&k.0);
        e.u64(*v);
    });
    e.u64(*events_applied);
    e.opt(clock.as_ref(), |e, t| e.time(*t));
    e.map(receipts, |e, k, v| {
        e.str(&k.0);
        e.receipt(v);
    });
    e.map(attendance, |e, pool, members| {
        e.sym(&pool.0);
        e.map(members, |e, member, a| {
            e.sym(&member.0);
            let Attendance {
                present,
                from,
                until,
            } = a;
            e.bool(*present);
            e.time(*from);
            e.opt(until.as_ref(), |e, t| e.time(*t));
        });
    });
    e.buf
}

/// One half of the orders: its count, then each entry with its own symbols.
fn encode_orders(half: &[(&OrderId, &OrderState)]) -> Vec<u8> {
    let mut part = Enc::default();
    part.u64(half.len() as u64);
    for (k, v) in half {
        part.str(&k.0);
        // The order's own id is its key (always, as the fold keeps them): a flag then.
        if v.order.id == **k {
            part.bool(true);
        } else {
            part.bool(false);
            part.str(&v.order.id.0);
        }
        part.order(v);
    }
    part.buf
}

/// Decodes what [`encode`] wrote; every byte must be used.
pub fn decode(bytes: &[u8]) -> Result<PlantState, CodecError> {
    decode_with(bytes, PARALLEL_BYTES)
}

/// [`decode`], reading the orders' halves on two threads when the second is `parallel` bytes
/// or more.
fn decode_with(bytes: &[u8], parallel: usize) -> Result<PlantState, CodecError> {
    let mut d = Dec {
        buf: bytes,
        at: 0,
        symbols: Vec::new(),
    };
    let mut first = Dec::new(d.section()?);
    let mut second = Dec::new(d.section()?);
    let (n1, n2) = (first.len()?, second.len()?);
    // Both halves go into one list of the right size (the second half read on its own thread
    // is appended with one copy), which the map is then built from in one pass.
    // (A count is at most the bytes left, and an order takes far more than one: the list is
    // not made larger than the bytes could hold, whatever a corrupt count says.)
    let room = |n: usize, d: &Dec<'_>| n.min(d.buf.len() / MIN_ORDER_BYTES);
    let mut orders = Vec::with_capacity(room(n1, &first) + room(n2, &second));
    // In key order and without duplicates (checked as read): `BTreeMap` builds itself from
    // such a list without moving it first (the list's buffer is reused, its sort finds one run).
    let (orders, rest) = if second.buf.len() < parallel {
        first.orders(n1, &mut orders)?;
        second.orders(n2, &mut orders)?;
        let rest = d.rest()?;
        (orders.into_iter().collect::<BTreeMap<_, _>>(), rest)
    } else {
        let capacity = room(n2, &second);
        std::thread::scope(|scope| {
            let theirs = scope.spawn(move || {
                let mut other = Vec::with_capacity(capacity);
                second.orders(n2, &mut other).map(|()| other)
            });
            let mine = first.orders(n1, &mut orders);
            let theirs = join(theirs);
            mine?;
            let mut other = theirs?;
            if let (Some(last), Some(next)) = (orders.last(), other.first())
                && last.0 >= next.0
            {
                return Err(d.fail("order halves out of order"));
            }
            orders.append(&mut other);
            // The rest of the state is read on the other thread while this one builds the map.
            let rest = scope.spawn(|| d.rest());
            let orders = orders.into_iter().collect::<BTreeMap<_, _>>();
            Ok((orders, join(rest)?))
        })?
    };
    let Rest {
        units,
        lots,
        serials,
        quality_results,
        events_applied,
        clock,
        receipts,
        attendance,
    } = rest;
    Ok(PlantState {
        orders,
        units,
        lots,
        serials,
        quality_results,
        events_applied,
        clock,
        receipts,
        attendance,
    })
}

/// What a scoped thread returned (its panic carried on).
fn join<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// A half of the orders smaller than this is read on the calling thread (a thread costs more
/// than it saves on a small state).
const PARALLEL_BYTES: usize = 1 << 20;

/// The state after its orders.
struct Rest {
    units: BTreeMap<model::UnitId, UnitState>,
    lots: BTreeMap<model::LotId, LotState>,
    serials: BTreeMap<model::SerialId, SerialState>,
    quality_results: BTreeMap<model::CharacteristicId, u64>,
    events_applied: u64,
    clock: Option<Timestamp>,
    receipts: model::Receipts,
    attendance: model::supply::AttendanceBook,
}

/// Fewer bytes than any order takes encoded (its key and id flag, two symbols, three numbers,
/// seven options or enum positions, four more numbers and a map's count).
const MIN_ORDER_BYTES: usize = 16;

/// Maps of at most this many entries (one `BTreeMap` leaf holds 11) are read by inserting.
const SMALL_MAP: usize = 11;

/// Position of `value` in `all` (the enum's variants in declaration order).
fn index_of<T: PartialEq>(all: &[T], value: &T) -> u64 {
    all.iter()
        .position(|v| v == value)
        .expect("every variant is listed") as u64
}

// Listed here rather than taken from the model's `ALL` where one exists, so that every enum
// the state holds is read back by the same rule; the match in each test below makes a new
// variant a compile error.
const MODES: [Mode; 3] = [Mode::Discrete, Mode::Process, Mode::Repetitive];
const STATUSES: [OrderStatus; 5] = [
    OrderStatus::Planned,
    OrderStatus::Released,
    OrderStatus::InProgress,
    OrderStatus::Completed,
    OrderStatus::Cancelled,
];
const PRIORITIES: [Priority; 3] = [Priority::High, Priority::Medium, Priority::Low];
const EQUIPMENT: [EquipmentState; 5] = [
    EquipmentState::Running,
    EquipmentState::Idle,
    EquipmentState::Setup,
    EquipmentState::Cleaning,
    EquipmentState::Down,
];
const RECEIPTS: [ReceiptStatus; 3] = [
    ReceiptStatus::Open,
    ReceiptStatus::Received,
    ReceiptStatus::Cancelled,
];

#[derive(Default)]
struct Enc<'s> {
    buf: Vec<u8>,
    symbols: HashMap<&'s str, u64>,
}

impl<'s> Enc<'s> {
    fn u64(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
    }

    fn i64(&mut self, v: i64) {
        self.u64(((v << 1) ^ (v >> 63)) as u64);
    }

    /// A whole number that converts back exactly (not -0.0, within ±2^53) as its zigzag
    /// shifted left, an even varint; anything else as the varint 1 and its 8 bytes.
    fn f64(&mut self, v: f64) {
        let whole = v as i64;
        if (whole as f64).to_bits() == v.to_bits() && whole.unsigned_abs() < 1 << 53 {
            self.u64((((whole << 1) ^ (whole >> 63)) as u64) << 1);
        } else {
            self.u64(1);
            self.buf.extend_from_slice(&v.to_bits().to_le_bytes());
        }
    }

    fn bool(&mut self, v: bool) {
        self.buf.push(u8::from(v));
    }

    fn time(&mut self, t: Timestamp) {
        self.i64(t.0);
    }

    fn str(&mut self, s: &str) {
        self.u64(s.len() as u64);
        self.buf.extend_from_slice(s.as_bytes());
    }

    /// A string likely to repeat: its number when seen before (shifted, so that 0 says "new"),
    /// else 0 and the string.
    fn sym(&mut self, s: &'s str) {
        match self.symbols.get(s) {
            Some(&n) => self.u64(n + 1),
            None => {
                let n = self.symbols.len() as u64;
                self.symbols.insert(s, n);
                self.u64(0);
                self.str(s);
            }
        }
    }

    fn opt<T>(&mut self, v: Option<T>, f: impl FnOnce(&mut Self, T)) {
        match v {
            None => self.bool(false),
            Some(v) => {
                self.bool(true);
                f(self, v);
            }
        }
    }

    fn map<K, V>(&mut self, map: &'s BTreeMap<K, V>, mut f: impl FnMut(&mut Self, &'s K, &'s V)) {
        self.u64(map.len() as u64);
        for (k, v) in map {
            f(self, k, v);
        }
    }

    fn order(&mut self, o: &'s OrderState) {
        let OrderState {
            order,
            mode,
            status,
            steps_completed,
            steps_total,
            current_step,
            current_unit,
            good_quantity,
            scrap_quantity,
            started,
            completed,
            dispatched,
        } = o;
        let ProductionOrder {
            // Written with the map's key, in `encode`.
            id: _,
            product,
            routing,
            quantity,
            release,
            due,
            priority,
            customer,
        } = order;
        self.sym(&product.0);
        self.sym(&routing.0);
        self.f64(*quantity);
        self.time(*release);
        self.time(*due);
        self.u64(index_of(&PRIORITIES, priority));
        self.opt(customer.as_deref(), Self::sym);
        self.u64(index_of(&MODES, mode));
        self.u64(index_of(&STATUSES, status));
        self.u64(u64::from(*steps_completed));
        self.u64(u64::from(*steps_total));
        self.opt(*current_step, |e, s| e.u64(u64::from(s)));
        self.opt(current_unit.as_ref(), |e, u| e.sym(&u.0));
        self.f64(*good_quantity);
        self.f64(*scrap_quantity);
        self.opt(*started, Self::time);
        self.opt(*completed, Self::time);
        self.map(dispatched, |e, step, d| {
            let Dispatch { unit, start } = d;
            e.u64(u64::from(*step));
            e.opt(unit.as_ref(), |e, u| e.sym(&u.0));
            e.opt(*start, Self::time);
        });
    }

    fn unit(&mut self, u: &'s UnitState) {
        let UnitState {
            state,
            since,
            minutes_in_state,
        } = u;
        self.u64(index_of(&EQUIPMENT, state));
        self.time(*since);
        self.map(minutes_in_state, |e, s, m| {
            e.u64(index_of(&EQUIPMENT, s));
            e.f64(*m);
        });
    }

    fn lot(&mut self, l: &'s LotState) {
        let LotState {
            material,
            produced_by,
            received,
            produced,
            consumed,
            shipped,
            consumed_by,
        } = l;
        self.sym(&material.0);
        self.opt(produced_by.as_ref(), |e, o| e.str(&o.0));
        for q in [received, produced, consumed, shipped] {
            self.f64(*q);
        }
        self.u64(consumed_by.len() as u64);
        for o in consumed_by {
            self.str(&o.0);
        }
    }

    fn serial(&mut self, s: &'s SerialState) {
        let SerialState {
            material,
            produced_by,
            consumed_by,
            shipped_to,
        } = s;
        self.sym(&material.0);
        self.opt(produced_by.as_ref(), |e, o| e.str(&o.0));
        self.opt(consumed_by.as_ref(), |e, o| e.str(&o.0));
        self.opt(shipped_to.as_deref(), Self::sym);
    }

    fn receipt(&mut self, r: &'s ExpectedReceipt) {
        let ExpectedReceipt {
            material,
            quantity,
            expected,
            first_expected,
            supplier,
            purchase_order,
            status,
            lot,
            closed,
            announced,
        } = r;
        self.sym(&material.0);
        self.f64(*quantity);
        self.time(*expected);
        self.time(*first_expected);
        self.opt(supplier.as_deref(), Self::sym);
        self.opt(purchase_order.as_deref(), Self::str);
        self.u64(index_of(&RECEIPTS, status));
        self.opt(lot.as_ref(), |e, l| e.str(&l.0));
        self.opt(*closed, Self::time);
        self.bool(*announced);
    }
}

struct Dec<'b> {
    buf: &'b [u8],
    at: usize,
    /// Borrowed from the body: a symbol becomes an id (held inline when short) or a string
    /// only where it is used.
    symbols: Vec<&'b str>,
}

type R<T> = Result<T, CodecError>;

impl<'b> Dec<'b> {
    fn new(buf: &'b [u8]) -> Self {
        Dec {
            buf,
            at: 0,
            symbols: Vec::new(),
        }
    }

    #[cold]
    #[inline(never)]
    fn fail(&self, what: &'static str) -> CodecError {
        CodecError { at: self.at, what }
    }

    /// One half of the orders, as `encode` wrote it after its count `n`: the entries in key
    /// order, pushed onto `entries` (keys must follow on from the last one there).
    fn orders(&mut self, n: usize, entries: &mut Vec<(OrderId, Box<OrderState>)>) -> R<()> {
        for _ in 0..n {
            let key: OrderId = self.id()?;
            let id = if self.bool()? {
                key.clone()
            } else {
                self.id()?
            };
            let entry = (key, Box::new(self.order(id)?));
            if entries.last().is_some_and(|(k, _)| *k >= entry.0) {
                return Err(self.fail("order keys out of order"));
            }
            entries.push(entry);
        }
        if self.at != self.buf.len() {
            return Err(self.fail("bytes left over after the orders"));
        }
        Ok(())
    }

    /// The state after its orders, to the end of the body.
    fn rest(&mut self) -> R<Rest> {
        let units = self.map(|d| Ok((d.sym_id()?, d.unit()?)))?;
        let lots = self.map(|d| Ok((d.id()?, d.lot()?)))?;
        let serials = self.map(|d| Ok((d.id()?, d.serial()?)))?;
        let quality_results = self.map(|d| Ok((d.sym_id()?, d.u64()?)))?;
        let events_applied = self.u64()?;
        let clock = self.opt(Dec::time)?;
        // The open receipts' index by material is built from the map.
        let receipts = self.map(|d| Ok((d.id()?, d.receipt()?)))?.into();
        let attendance = self.map(|d| {
            let pool = d.sym_id()?;
            let members = d.map(|d| {
                let member = d.sym_id()?;
                let attendance = Attendance {
                    present: d.bool()?,
                    from: d.time()?,
                    until: d.opt(Dec::time)?,
                };
                Ok((member, attendance))
            })?;
            Ok((pool, members))
        })?;
        if self.at != self.buf.len() {
            return Err(self.fail("bytes left over after the state"));
        }
        Ok(Rest {
            units,
            lots,
            serials,
            quality_results,
            events_applied,
            clock,
            receipts,
            attendance,
        })
    }

    #[inline]
    fn byte(&mut self) -> R<u8> {
        match self.buf.get(self.at) {
            Some(&b) => {
                self.at += 1;
                Ok(b)
            }
            None => Err(self.fail("truncated")),
        }
    }

    #[inline]
    fn u64(&mut self) -> R<u64> {
        // Most numbers (counts, tags, enum positions, small quantities) take one byte.
        if let Some(&b) = self.buf.get(self.at)
            && b < 0x80
        {
            self.at += 1;
            return Ok(u64::from(b));
        }
        self.u64_long()
    }

    fn u64_long(&mut self) -> R<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(self.fail("varint too long"))
    }

    fn u32(&mut self) -> R<u32> {
        u32::try_from(self.u64()?).map_err(|_| self.fail("number out of range"))
    }

    fn i64(&mut self) -> R<i64> {
        let v = self.u64()?;
        Ok(((v >> 1) as i64) ^ -((v & 1) as i64))
    }

    fn f64(&mut self) -> R<f64> {
        match self.u64()? {
            1 => {}
            v if v & 1 == 0 => {
                let v = v >> 1;
                return Ok((((v >> 1) as i64) ^ -((v & 1) as i64)) as f64);
            }
            _ => return Err(self.fail("not a float")),
        }
        let bytes = self
            .buf
            .get(self.at..self.at + 8)
            .ok_or_else(|| self.fail("truncated"))?;
        self.at += 8;
        Ok(f64::from_bits(u64::from_le_bytes(
            bytes.try_into().expect("eight bytes"),
        )))
    }

    fn bool(&mut self) -> R<bool> {
        match self.byte()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(self.fail("not a boolean")),
        }
    }

    fn time(&mut self) -> R<Timestamp> {
        self.i64().map(Timestamp)
    }

    fn len(&mut self) -> R<usize> {
        let n = self.u64()?;
        // A length can never exceed the bytes left: refuse before allocating for it.
        if n > (self.buf.len() - self.at) as u64 {
            return Err(self.fail("length past the end"));
        }
        Ok(n as usize)
    }

    /// A length-prefixed run of bytes written by a nested encoder.
    fn section(&mut self) -> R<&'b [u8]> {
        let n = self.len()?;
        let bytes = &self.buf[self.at..self.at + n];
        self.at += n;
        Ok(bytes)
    }

    /// A string, borrowed from the body (validated once there).
    fn text(&mut self) -> R<&'b str> {
        let n = self.len()?;
        let bytes = &self.buf[self.at..self.at + n];
        let s = std::str::from_utf8(bytes).map_err(|_| self.fail("not UTF-8"))?;
        self.at += n;
        Ok(s)
    }

    fn string(&mut self) -> R<String> {
        self.text().map(str::to_owned)
    }

    /// An id: built from the borrowed text, so a short one costs no allocation.
    fn id<T: for<'t> From<&'t str>>(&mut self) -> R<T> {
        self.text().map(T::from)
    }

    fn sym_text(&mut self) -> R<&'b str> {
        match self.u64()? {
            0 => {
                let s = self.text()?;
                self.symbols.push(s);
                Ok(s)
            }
            n => self
                .symbols
                .get((n - 1) as usize)
                .copied()
                .ok_or_else(|| self.fail("unknown symbol")),
        }
    }

    fn sym(&mut self) -> R<String> {
        self.sym_text().map(str::to_owned)
    }

    /// An id written as a symbol.
    fn sym_id<T: for<'t> From<&'t str>>(&mut self) -> R<T> {
        self.sym_text().map(T::from)
    }

    fn opt<T>(&mut self, f: impl FnOnce(&mut Self) -> R<T>) -> R<Option<T>> {
        if self.bool()? {
            f(self).map(Some)
        } else {
            Ok(None)
        }
    }

    fn pick<T: Copy>(&mut self, all: &[T]) -> R<T> {
        let i = self.u64()?;
        all.get(i as usize)
            .copied()
            .ok_or_else(|| self.fail("unknown variant"))
    }

    /// A map written in key order: collected from a sorted list, which `BTreeMap` builds in
    /// one pass. Keys out of order mean a corrupt body.
    fn map<K: Ord, V>(&mut self, mut f: impl FnMut(&mut Self) -> R<(K, V)>) -> R<BTreeMap<K, V>> {
        let n = self.len()?;
        if n <= SMALL_MAP {
            // A map that fits in one node (an order's dispatches, a unit's minutes): inserted
            // in place, without a list to build it from.
            let mut map = BTreeMap::new();
            for _ in 0..n {
                let (k, v) = f(self)?;
                if map.last_key_value().is_some_and(|(last, _)| *last >= k) {
                    return Err(self.fail("map keys out of order"));
                }
                map.insert(k, v);
            }
            return Ok(map);
        }
        let mut entries: Vec<(K, V)> = Vec::with_capacity(n);
        for _ in 0..n {
            let entry = f(self)?;
            if entries.last().is_some_and(|(k, _)| *k >= entry.0) {
                return Err(self.fail("map keys out of order"));
            }
            entries.push(entry);
        }
        Ok(entries.into_iter().collect())
    }

    fn order(&mut self, id: OrderId) -> R<OrderState> {
        let order = ProductionOrder {
            id,
            product: self.sym_id()?,
            routing: self.sym_id()?,
            quantity: self.f64()?,
            release: self.time()?,
            due: self.time()?,
            priority: self.pick(&PRIORITIES)?,
            customer: self.opt(Self::sym)?,
        };
        Ok(OrderState {
            order,
            mode: self.pick(&MODES)?,
            status: self.pick(&STATUSES)?,
            steps_completed: self.u32()?,
            steps_total: self.u32()?,
            current_step: self.opt(Self::u32)?,
            current_unit: self.opt(|d| d.sym_id())?,
            good_quantity: self.f64()?,
            scrap_quantity: self.f64()?,
            started: self.opt(Self::time)?,
            completed: self.opt(Self::time)?,
            dispatched: self.map(|d| {
                let step = d.u32()?;
                let dispatch = Dispatch {
                    unit: d.opt(|d| d.sym_id())?,
                    start: d.opt(Self::time)?,
                };
                Ok((step, dispatch))
            })?,
        })
    }

    fn unit(&mut self) -> R<UnitState> {
        Ok(UnitState {
            state: self.pick(&EQUIPMENT)?,
            since: self.time()?,
            minutes_in_state: self.map(|d| Ok((d.pick(&EQUIPMENT)?, d.f64()?)))?,
        })
    }

    fn lot(&mut self) -> R<LotState> {
        let material = self.sym_id()?;
        let produced_by = self.opt(|d| d.id())?;
        let [received, produced, consumed, shipped] =
            [self.f64()?, self.f64()?, self.f64()?, self.f64()?];
        let n = self.len()?;
        let consumed_by = (0..n).map(|_| self.id()).collect::<R<_>>()?;
        Ok(LotState {
            material,
            produced_by,
            received,
            produced,
            consumed,
            shipped,
            consumed_by,
        })
    }

    fn serial(&mut self) -> R<SerialState> {
        Ok(SerialState {
            material: self.sym_id()?,
            produced_by: self.opt(|d| d.id())?,
            consumed_by: self.opt(|d| d.id())?,
            shipped_to: self.opt(Self::sym)?,
        })
    }

    fn receipt(&mut self) -> R<ExpectedReceipt> {
        Ok(ExpectedReceipt {
            material: self.sym_id()?,
            quantity: self.f64()?,
            expected: self.time()?,
            first_expected: self.time()?,
            supplier: self.opt(Self::sym)?,
            purchase_order: self.opt(Self::string)?,
            status: self.pick(&RECEIPTS)?,
            lot: self.opt(|d| d.id())?,
            closed: self.opt(Self::time)?,
            announced: self.bool()?,
        })
    }
}

#[cfg(test)]
#[path = "codec_tests.rs"]
mod tests;
