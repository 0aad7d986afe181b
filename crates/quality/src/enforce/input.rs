//! What the enforcer reads: the characteristics of the inspection plan, the quality results,
//! the traceable items they name and the caller's genealogy of those items.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::monitor::Side;
use crate::nc::EpochMillis;
use crate::policy::Mode;

/// What the inspection plan says about one characteristic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CharacteristicSpec {
    /// Characteristic id.
    pub id: String,
    /// Mode of the work it is measured on.
    pub mode: Mode,
    /// Chart kind (`imr`, `xbar_r`, `xbar_s`, `p`, `np`, `c`, `u`, `ewma`, `cusum`).
    pub chart: String,
    /// Values per subgroup (X̄ charts).
    pub subgroup_size: usize,
    /// Lower specification limit.
    pub lsl: Option<f64>,
    /// Upper specification limit.
    pub usl: Option<f64>,
}

impl CharacteristicSpec {
    /// The better side of the centre line when the specification is one-sided: below it
    /// with only an upper limit (smaller is better: leak rate, residual monomer), above it
    /// with only a lower one (larger is better). `None` for two limits or none.
    pub fn good_side(&self) -> Option<Side> {
        let set = |l: Option<f64>| l.is_some_and(f64::is_finite);
        match (set(self.lsl), set(self.usl)) {
            (false, true) => Some(Side::Below),
            (true, false) => Some(Side::Above),
            _ => None,
        }
    }
}

/// Kind of a traceable item.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// A lot, batch or lot code.
    Lot,
    /// A serial number.
    Serial,
    /// A production order (stands for everything it makes).
    Order,
}

model::wire_enum!(ItemKind, "item kind", [Lot, Serial, Order]);

impl ItemKind {
    /// The snake_case name (the same as [`ItemKind::as_str`], kept for the edges that call it).
    pub fn name(self) -> &'static str {
        self.as_str()
    }
}

/// A lot, serial or order.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub struct ItemRef {
    /// What it is.
    pub kind: ItemKind,
    /// Its id.
    pub id: String,
}

impl ItemRef {
    /// A lot.
    pub fn lot(id: impl Into<String>) -> ItemRef {
        ItemRef {
            kind: ItemKind::Lot,
            id: id.into(),
        }
    }

    /// A serial.
    pub fn serial(id: impl Into<String>) -> ItemRef {
        ItemRef {
            kind: ItemKind::Serial,
            id: id.into(),
        }
    }

    /// An order.
    pub fn order(id: impl Into<String>) -> ItemRef {
        ItemRef {
            kind: ItemKind::Order,
            id: id.into(),
        }
    }

    /// `lot:ID`, `serial:ID` or `order:ID`.
    pub fn key(&self) -> String {
        format!("{}:{}", self.kind.name(), self.id)
    }
}

/// Genealogy as the enforcer needs it (the caller builds it from its plant state).
pub trait Genealogy {
    /// Lots and serials the item came from: what the order that made it consumed (for an
    /// order, what it consumed).
    fn upstream(&self, item: &ItemRef) -> Vec<ItemRef>;
    /// Lots and serials made from the item: what the orders that consumed it produced (for
    /// an order, what it produced).
    fn downstream(&self, item: &ItemRef) -> Vec<ItemRef>;
}

/// No genealogy at all (linked holds then hold the item only).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoGenealogy;

impl Genealogy for NoGenealogy {
    fn upstream(&self, _: &ItemRef) -> Vec<ItemRef> {
        Vec::new()
    }

    fn downstream(&self, _: &ItemRef) -> Vec<ItemRef> {
        Vec::new()
    }
}

/// One quality result, as the enforcer reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultInput {
    /// Id of the event that recorded it.
    pub event_id: String,
    /// When it was measured.
    pub at: EpochMillis,
    /// Characteristic id.
    pub characteristic: String,
    /// Measured value (a count for attribute charts).
    pub value: f64,
    /// Subgroup number.
    pub sample: Option<u64>,
    /// Inspected size (attribute charts).
    pub sample_size: Option<f64>,
    /// Order measured.
    pub order: Option<String>,
    /// Lot or batch measured.
    pub lot: Option<String>,
    /// Serial measured.
    pub serial: Option<String>,
}

impl ResultInput {
    pub(super) fn items(&self) -> Vec<ItemRef> {
        let mut items = Vec::new();
        if let Some(s) = &self.serial {
            items.push(ItemRef::serial(s));
        }
        if let Some(l) = &self.lot {
            items.push(ItemRef::lot(l));
        }
        if let Some(o) = &self.order {
            items.push(ItemRef::order(o));
        }
        items
    }
}
