//! The read model's query spec: the entity sets a reader may query with a filter, an order, a
//! window and a count (the OData surface's queries), described without naming a database, so
//! that each backend translates them (SQLite in `sqlite/query.rs`, with every value a bound
//! parameter) and a PostgreSQL backend would translate the same spec.
//!
//! A [`SetDef`] names a set's fields (wire name and kind) and its navigations (a join from one
//! of its fields to a field of another set); a [`Query`] filters one set by a [`Filter`] tree
//! whose leaves compare a field with a [`Value`] or another field. The backend answers rows as
//! JSON objects keyed by the fields' names (times as RFC 3339 text), so the caller needs to
//! know no column.

use serde_json::{Map, Value as Json};

/// The sets of the read model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Set {
    Orders,
    Operations,
    WorkCenters,
    Units,
    Lots,
    Serials,
    QualityResults,
    Alerts,
    Holds,
    Nonconformances,
    Proposals,
    AuditRecords,
}

/// What a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Integer,
    Real,
    Boolean,
    /// An instant: integer milliseconds inside, RFC 3339 text in answers.
    Time,
    /// A collection of texts (a nonconformance's items); only a lambda reads it.
    TextList,
}

/// One field of a set.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub nullable: bool,
}

/// A join from a field of one set to a field of another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Navigation {
    pub name: &'static str,
    pub target: Set,
    /// The field of the source set …
    pub from: &'static str,
    /// … equal to this field of the target set.
    pub to: &'static str,
    /// Many target rows per source row (else at most one).
    pub many: bool,
}

/// A set's description: its fields (the first is the key) and navigations.
#[derive(Debug, Clone, Copy)]
pub struct SetDef {
    pub set: Set,
    pub fields: &'static [Field],
    pub navigations: &'static [Navigation],
}

impl SetDef {
    pub fn key(&self) -> &'static Field {
        &self.fields[0]
    }

    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    pub fn navigation(&self, name: &str) -> Option<&'static Navigation> {
        self.navigations.iter().find(|n| n.name == name)
    }
}

/// A value a filter compares with.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Integer(i64),
    Real(f64),
    Text(String),
    /// Milliseconds since the Unix epoch.
    Time(i64),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

/// One side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Field(&'static str),
    /// A field lowered or uppered (`tolower`, `toupper`).
    Case {
        field: &'static str,
        upper: bool,
    },
    /// The item of a text-list lambda (`i` in `items/any(i: i eq 'x')`).
    Item,
    Value(Value),
}

/// How a text test matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextTest {
    Contains,
    StartsWith,
    EndsWith,
}

/// A row predicate, with OData's nulls: a comparison or `in` involving a null is false
/// (except `eq null` / `ne null`), a text test of a null is null, `Not` of a null is null, and
/// a row matches when its predicate is true.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Compare {
        op: Op,
        left: Operand,
        right: Operand,
    },
    Text {
        test: TextTest,
        subject: Operand,
        pattern: String,
    },
    In {
        subject: Operand,
        values: Vec<Value>,
    },
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    /// At least one row of a many-navigation (matching the predicate, over the target set).
    AnyRelated {
        navigation: &'static Navigation,
        predicate: Option<Box<Filter>>,
    },
    /// At least one item of a text-list field (matching the predicate, over [`Operand::Item`]).
    AnyItem {
        field: &'static str,
        predicate: Option<Box<Filter>>,
    },
}

impl Filter {
    pub fn and(self, other: Filter) -> Filter {
        Filter::And(Box::new(self), Box::new(other))
    }

    pub fn or(self, other: Filter) -> Filter {
        Filter::Or(Box::new(self), Box::new(other))
    }

    /// `field in (values)`.
    pub fn one_of(field: &'static str, values: Vec<Value>) -> Filter {
        Filter::In {
            subject: Operand::Field(field),
            values,
        }
    }

    /// `field eq null` (or `ne null` when `negate`).
    pub fn null(field: &'static str, negate: bool) -> Filter {
        Filter::Compare {
            op: if negate { Op::Ne } else { Op::Eq },
            left: Operand::Field(field),
            right: Operand::Value(Value::Null),
        }
    }
}

/// One key of an order.
#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    pub field: &'static str,
    pub descending: bool,
}

/// A query of one set. The order always ends with the key, so windows are stable.
#[derive(Debug, Clone)]
pub struct Query {
    pub set: Set,
    pub filter: Option<Filter>,
    pub order: Vec<SortKey>,
    pub skip: u64,
    /// At most this many rows; `None`: all.
    pub limit: Option<u64>,
    /// Also count every row the filter matches (ignoring the window).
    pub count: bool,
}

impl Query {
    pub fn new(set: Set) -> Query {
        Query {
            set,
            filter: None,
            order: Vec::new(),
            skip: 0,
            limit: None,
            count: false,
        }
    }
}

/// What a query answers.
#[derive(Debug, Clone, Default)]
pub struct Rows {
    /// Each row keyed by field name; nulls included.
    pub rows: Vec<Map<String, Json>>,
    pub count: Option<u64>,
}

const fn f(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        kind,
        nullable: false,
    }
}

const fn n(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        kind,
        nullable: true,
    }
}

const fn one(name: &'static str, target: Set, from: &'static str, to: &'static str) -> Navigation {
    Navigation {
        name,
        target,
        from,
        to,
        many: false,
    }
}

const fn many(name: &'static str, target: Set, from: &'static str, to: &'static str) -> Navigation {
    Navigation {
        name,
        target,
        from,
        to,
        many: true,
    }
}

use Kind::{Boolean, Integer, Real, Text, TextList, Time};

/// Every set's description, in the order the service document lists them.
pub const SETS: &[SetDef] = &[
    SetDef {
        set: Set::Orders,
        fields: &[
            f("id", Text),
            f("product", Text),
            f("routing", Text),
            f("mode", Text),
            f("status", Text),
            f("priority", Text),
            f("quantity", Real),
            f("release", Time),
            f("due", Time),
            n("customer", Text),
            f("steps_completed", Integer),
            f("steps_total", Integer),
            n("current_step", Integer),
            n("current_unit", Text),
            f("good_quantity", Real),
            f("scrap_quantity", Real),
            n("started", Time),
            n("completed", Time),
        ],
        navigations: &[
            many("operations", Set::Operations, "id", "order"),
            many("quality_results", Set::QualityResults, "id", "order"),
            many("lots", Set::Lots, "id", "produced_by"),
            one("current_unit_ref", Set::Units, "current_unit", "id"),
        ],
    },
    SetDef {
        set: Set::Operations,
        fields: &[
            f("id", Text),
            f("order", Text),
            f("step", Integer),
            f("unit", Text),
            f("started", Time),
            n("completed", Time),
            n("good_quantity", Real),
            n("scrap_quantity", Real),
        ],
        navigations: &[
            one("order_ref", Set::Orders, "order", "id"),
            one("unit_ref", Set::Units, "unit", "id"),
        ],
    },
    SetDef {
        set: Set::WorkCenters,
        fields: &[
            f("id", Text),
            f("name", Text),
            f("area", Text),
            f("mode", Text),
        ],
        navigations: &[many("units", Set::Units, "id", "work_center")],
    },
    SetDef {
        set: Set::Units,
        fields: &[
            f("id", Text),
            f("name", Text),
            f("work_center", Text),
            n("state", Text),
            n("since", Time),
        ],
        navigations: &[
            one("work_center_ref", Set::WorkCenters, "work_center", "id"),
            many("operations", Set::Operations, "id", "unit"),
            many("quality_results", Set::QualityResults, "id", "unit"),
        ],
    },
    SetDef {
        set: Set::Lots,
        fields: &[
            f("id", Text),
            f("material", Text),
            n("produced_by", Text),
            f("received", Real),
            f("produced", Real),
            f("consumed", Real),
            f("shipped", Real),
        ],
        navigations: &[
            one("produced_by_ref", Set::Orders, "produced_by", "id"),
            many("quality_results", Set::QualityResults, "id", "lot"),
        ],
    },
    SetDef {
        set: Set::Serials,
        fields: &[
            f("id", Text),
            f("material", Text),
            n("produced_by", Text),
            n("consumed_by", Text),
            n("shipped_to", Text),
        ],
        navigations: &[
            one("produced_by_ref", Set::Orders, "produced_by", "id"),
            many("quality_results", Set::QualityResults, "id", "serial"),
        ],
    },
    SetDef {
        set: Set::QualityResults,
        fields: &[
            f("id", Text),
            f("seq", Integer),
            f("time", Time),
            f("characteristic", Text),
            f("value", Real),
            n("sample", Integer),
            n("sample_size", Real),
            n("order", Text),
            n("lot", Text),
            n("serial", Text),
            n("unit", Text),
            n("source", Text),
            f("recorded_at", Time),
        ],
        navigations: &[
            one("order_ref", Set::Orders, "order", "id"),
            one("lot_ref", Set::Lots, "lot", "id"),
            one("serial_ref", Set::Serials, "serial", "id"),
            one("unit_ref", Set::Units, "unit", "id"),
        ],
    },
    SetDef {
        set: Set::Alerts,
        fields: &[
            f("id", Text),
            f("n", Integer),
            f("characteristic", Text),
            f("severity", Text),
            f("phase", Integer),
            f("at", Time),
            n("mode", Text),
            n("chart", Text),
        ],
        navigations: &[
            many("holds", Set::Holds, "id", "alert_id"),
            many("nonconformances", Set::Nonconformances, "id", "alert_id"),
        ],
    },
    SetDef {
        set: Set::Holds,
        fields: &[
            f("id", Text),
            f("item_kind", Text),
            f("item_id", Text),
            f("link", Text),
            f("reason", Text),
            n("alert_id", Text),
            f("placed_by", Text),
            f("placed_at", Time),
            n("released_by", Text),
            n("released_at", Time),
            n("release_reason", Text),
            n("proposal_id", Text),
            f("active", Boolean),
        ],
        navigations: &[
            one("alert", Set::Alerts, "alert_id", "id"),
            one("proposal", Set::Proposals, "proposal_id", "id"),
        ],
    },
    SetDef {
        set: Set::Nonconformances,
        fields: &[
            f("id", Text),
            f("state", Text),
            n("characteristic", Text),
            n("alert_id", Text),
            f("opened_at", Time),
            f("updated_at", Time),
            f("version", Integer),
            f("items", TextList),
        ],
        navigations: &[one("alert", Set::Alerts, "alert_id", "id")],
    },
    SetDef {
        set: Set::Proposals,
        fields: &[
            f("id", Text),
            f("kind", Text),
            f("site", Text),
            f("area", Text),
            f("status", Text),
            f("proposed_by", Text),
            f("proposed_at", Time),
            f("expires_at", Time),
            f("version", Integer),
            n("title", Text),
            f("areas", TextList),
            f("site_wide", Boolean),
        ],
        navigations: &[many("holds", Set::Holds, "id", "proposal_id")],
    },
    SetDef {
        set: Set::AuditRecords,
        fields: &[
            f("seq", Integer),
            f("at", Time),
            f("actor_kind", Text),
            f("actor", Text),
            f("action", Text),
            f("subject", Text),
            f("hash", Text),
        ],
        navigations: &[],
    },
];

/// The description of `set`.
pub fn def(set: Set) -> &'static SetDef {
    SETS.iter()
        .find(|d| d.set == set)
        .expect("every set is described in SETS")
}

impl crate::Store {
    /// The rows of one query of the read model (see the module docs).
    pub async fn query(&self, query: &Query) -> crate::Result<Rows> {
        self.inner.backend.query(query).await
    }
}
