//! The read model's queries (`crate::query`) in PostgreSQL SQL, answering exactly what the
//! SQLite translation (`crate::sqlite::query`) answers: each set is a `SELECT` over the
//! projection tables, the log or the plant document whose columns are the set's fields
//! ([`source`]); a query wraps it as `SELECT … FROM (source) AS t WHERE … ORDER BY … LIMIT …`,
//! which PostgreSQL pulls up, so the filter runs on the underlying columns and expressions and
//! the expression indexes of `migrations-postgres/0001_schema.sql` serve it (the expressions
//! here are written as those indexes write them: `(body::jsonb) ->> 'characteristic'`, …).
//! Every value is a bound parameter; the only text spliced in is field names and operators
//! from the closed descriptions in `crate::query`.
//!
//! How it differs from SQLite's, to give the same rows, order and values:
//! - JSON fields are read from `body::jsonb` with `->>` / `#>>` (text) and cast to the field's
//!   kind (`::bigint`, `::float8`); a text list is returned as JSON text, as SQLite's is, and
//!   iterated with `jsonb_array_elements_text`. Instants in the body's RFC 3339 text become
//!   milliseconds with `extract(epoch …)` rounded, as SQLite's `julianday` arithmetic is.
//! - Text is compared and ordered byte-wise, as SQLite does: `COLLATE "C"` on ordering
//!   comparisons and text sort keys, and `lower`/`upper` under `"C"` change ASCII letters only.
//!   The text tests are case-sensitive (SQLite's `instr`/`substr`): `strpos`, `left`, `right`.
//! - SQLite sorts nulls first ascending and last descending; PostgreSQL the other way round,
//!   so a key that may be null gets `NULLS FIRST` / `NULLS LAST` (a key that is a `NOT NULL`
//!   column gets none, so that an index still serves the order).
//! - Null rule (OData's, see `crate::sqlite::query`): `eq`/`ne` are `IS NOT DISTINCT FROM` /
//!   `IS DISTINCT FROM` (`IS [NOT] NULL` against a null literal; a plain `=` against a value
//!   outside a negation, where a null is dropped like false, so indexes serve it); an ordering
//!   comparison with a null literal is `false`; under a negation an ordering comparison or an
//!   `in` is `COALESCE(…, false)`.
//! - Lists are one array parameter (`= ANY($n)`), typed by the subject's kind, whatever their
//!   length, instead of inline `?`s or a JSON array expanded by `json_each`.
//! - Every placeholder carries its type (`$1::float8`), since sqlx caches a prepared statement
//!   by its text and PostgreSQL types a parameter once, when it is prepared.
//! - "No limit" is a null `LIMIT`.
//!
//! The tests put the same rows into both databases and check that every set, in every order
//! and under filters of every shape, answers alike (with `MIXPLANE_TEST_POSTGRES` set).

use serde_json::{Map, Value as Json};
use sqlx::Row;
use sqlx::postgres::{PgArguments, PgRow};

use super::Postgres;
use crate::backend::ReadModelStore;
use crate::error::{Context, Result};
use crate::query::{self, Filter, Kind, Op, Operand, Query, Rows, Set, SetDef, TextTest, Value};

/// The newest plant document, as `jsonb` (the work centers and units are read from it).
const PLANT: &str = "(SELECT body::jsonb FROM plants ORDER BY version DESC LIMIT 1)";

/// An instant in the body's RFC 3339 text as integer milliseconds (null for null).
fn ms(expr: &str) -> String {
    format!("(round(extract(epoch FROM ({expr})::timestamptz) * 1000))::bigint")
}

/// A top-level field of `alias.body` as text: the expression the indexes are built on.
fn jt(alias: &str, key: &str) -> String {
    format!("(({alias}body::jsonb) ->> '{key}')")
}

/// A nested field (`a.b`) of `body` as text.
fn jp(path: &str) -> String {
    format!("((body::jsonb) #>> '{{{}}}')", path.replace('.', ","))
}

/// The `SELECT` whose columns are `set`'s fields, in their order.
fn source(set: Set) -> String {
    let j = |key: &str| jt("", key);
    match set {
        Set::Orders => format!(
            "SELECT id AS \"id\", {} AS \"product\", {} AS \"routing\", mode AS \"mode\",
                    status AS \"status\", priority AS \"priority\",
                    {}::float8 AS \"quantity\", {} AS \"release\", due AS \"due\",
                    {} AS \"customer\", {}::bigint AS \"steps_completed\",
                    {}::bigint AS \"steps_total\",
                    {}::bigint AS \"current_step\", {} AS \"current_unit\",
                    {}::float8 AS \"good_quantity\", {}::float8 AS \"scrap_quantity\",
                    {} AS \"started\", {} AS \"completed\"
             FROM orders",
            jp("order.product"),
            jp("order.routing"),
            jp("order.quantity"),
            ms(&jp("order.release")),
            jp("order.customer"),
            j("steps_completed"),
            j("steps_total"),
            j("current_step"),
            j("current_unit"),
            j("good_quantity"),
            j("scrap_quantity"),
            ms(&j("started")),
            ms(&j("completed")),
        ),
        // One row per start of a step; its completion is the first one of the same order and
        // step logged after it (index `events_operation_completed`).
        Set::Operations => {
            let done = |what: &str| {
                format!(
                    "(SELECT {what} FROM events c
                      WHERE c.type = 'operation_completed'
                        AND {} = {}
                        AND {} = {}
                        AND c.seq > s.seq
                      ORDER BY c.seq LIMIT 1)",
                    jt("c.", "order"),
                    jt("s.", "order"),
                    jt("c.", "step"),
                    jt("s.", "step"),
                )
            };
            format!(
                "SELECT s.id AS \"id\", {} AS \"order\", {}::bigint AS \"step\",
                        {} AS \"unit\", s.time AS \"started\",
                        {} AS \"completed\", {} AS \"good_quantity\", {} AS \"scrap_quantity\"
                 FROM events s WHERE s.type = 'operation_started'",
                jt("s.", "order"),
                jt("s.", "step"),
                jt("s.", "unit"),
                done("c.time"),
                done(&format!("{}::float8", jt("c.", "good_quantity"))),
                done(&format!("{}::float8", jt("c.", "scrap_quantity"))),
            )
        }
        Set::WorkCenters => format!(
            "SELECT w.value ->> 'id' AS \"id\", w.value ->> 'name' AS \"name\",
                    w.value ->> 'area' AS \"area\", w.value ->> 'mode' AS \"mode\"
             FROM jsonb_array_elements({PLANT} -> 'work_centers') AS w(value)"
        ),
        Set::Units => format!(
            "SELECT p.value ->> 'id' AS \"id\", p.value ->> 'name' AS \"name\",
                    p.value ->> 'work_center' AS \"work_center\",
                    u.state AS \"state\", u.since AS \"since\"
             FROM jsonb_array_elements({PLANT} -> 'units') AS p(value)
             LEFT JOIN units u ON u.id = p.value ->> 'id'"
        ),
        Set::Lots => format!(
            "SELECT id AS \"id\", material AS \"material\", {} AS \"produced_by\",
                    {}::float8 AS \"received\", {}::float8 AS \"produced\",
                    {}::float8 AS \"consumed\", {}::float8 AS \"shipped\"
             FROM lots",
            j("produced_by"),
            j("received"),
            j("produced"),
            j("consumed"),
            j("shipped"),
        ),
        Set::Serials => format!(
            "SELECT id AS \"id\", material AS \"material\", {} AS \"produced_by\",
                    {} AS \"consumed_by\", {} AS \"shipped_to\"
             FROM serials",
            j("produced_by"),
            j("consumed_by"),
            j("shipped_to"),
        ),
        // `characteristic` is the expression of index `events_quality_characteristic_time`.
        Set::QualityResults => format!(
            "SELECT id AS \"id\", seq AS \"seq\", time AS \"time\",
                    {} AS \"characteristic\", {}::float8 AS \"value\",
                    {}::bigint AS \"sample\", {}::float8 AS \"sample_size\",
                    {} AS \"order\", {} AS \"lot\", {} AS \"serial\", {} AS \"unit\",
                    source AS \"source\", recorded_at AS \"recorded_at\"
             FROM events WHERE type = 'quality_result_recorded'",
            j("characteristic"),
            j("value"),
            j("sample"),
            j("sample_size"),
            j("order"),
            j("lot"),
            j("serial"),
            j("unit"),
        ),
        Set::Alerts => format!(
            "SELECT id AS \"id\", n AS \"n\", characteristic AS \"characteristic\",
                    severity AS \"severity\", phase AS \"phase\", at AS \"at\",
                    {} AS \"mode\", {} AS \"chart\"
             FROM quality_alerts",
            j("mode"),
            j("chart"),
        ),
        Set::Holds => "SELECT id AS \"id\", item_kind AS \"item_kind\", item_id AS \"item_id\",
                    link AS \"link\", reason AS \"reason\", alert_id AS \"alert_id\",
                    placed_by AS \"placed_by\", placed_at AS \"placed_at\",
                    released_by AS \"released_by\", released_at AS \"released_at\",
                    release_reason AS \"release_reason\", proposal_id AS \"proposal_id\",
                    (released_at IS NULL) AS \"active\"
             FROM quality_holds"
            .to_owned(),
        // The items as a JSON array in byte order (SQLite's `json_group_array`, `[]` when none).
        Set::Nonconformances => "SELECT n.id AS \"id\", n.state AS \"state\",
                    n.characteristic AS \"characteristic\", n.alert_id AS \"alert_id\",
                    n.opened_at AS \"opened_at\", n.updated_at AS \"updated_at\",
                    n.version AS \"version\",
                    (SELECT COALESCE(json_agg(i.item ORDER BY i.item COLLATE \"C\"), '[]'::json)::text
                       FROM quality_nc_items i WHERE i.nc_id = n.id) AS \"items\"
             FROM quality_ncs n"
            .to_owned(),
        // `site_wide`: SQLite's `COALESCE(json_extract(…), 0) != 0`, i.e. true unless the
        // value is missing, null, false or zero.
        Set::Proposals => format!(
            "SELECT id AS \"id\", kind AS \"kind\", site AS \"site\", area AS \"area\",
                    status AS \"status\", proposed_by AS \"proposed_by\",
                    proposed_at AS \"proposed_at\", expires_at AS \"expires_at\",
                    version AS \"version\", {} AS \"title\",
                    COALESCE(NULLIF((body::jsonb) -> 'areas', 'null'::jsonb)::text, '[]')
                      AS \"areas\",
                    COALESCE(NOT (((body::jsonb) #> '{{checks,site_wide}}')
                                  IN ('false'::jsonb, '0'::jsonb, 'null'::jsonb)), false)
                      AS \"site_wide\"
             FROM proposals",
            j("title"),
        ),
        Set::AuditRecords => "SELECT seq AS \"seq\", at AS \"at\", actor_kind AS \"actor_kind\",
                    actor_id AS \"actor\", action AS \"action\", subject AS \"subject\",
                    hash AS \"hash\"
             FROM audit"
            .to_owned(),
    }
}

/// Whether a field that the description calls non-nullable is read from a JSON body (or the
/// plant document), so that a missing key would still make it null: its sort key then says
/// where nulls go, as for the nullable fields.
fn from_json(set: Set, field: &str) -> bool {
    match set {
        Set::Orders => matches!(
            field,
            "product"
                | "routing"
                | "quantity"
                | "release"
                | "steps_completed"
                | "steps_total"
                | "good_quantity"
                | "scrap_quantity"
        ),
        Set::Operations => matches!(field, "order" | "step" | "unit"),
        Set::WorkCenters | Set::Units => true,
        Set::Lots => matches!(field, "received" | "produced" | "consumed" | "shipped"),
        Set::QualityResults => matches!(field, "characteristic" | "value"),
        _ => false,
    }
}

/// A bound parameter.
#[derive(Clone)]
enum Param {
    Text(String),
    Integer(i64),
    Real(f64),
    Bool(bool),
    Texts(Vec<String>),
    Integers(Vec<i64>),
    Reals(Vec<f64>),
    Bools(Vec<bool>),
    /// A `LIMIT`: null for none.
    Limit(Option<i64>),
}

/// SQL text and its parameters, built together so they stay in step.
struct Sql {
    text: String,
    params: Vec<Param>,
    /// Aliases in use, for nested lambdas.
    depth: usize,
    /// Inside a negation (within the current `EXISTS`), where a null comparison must be false.
    negated: bool,
}

/// The kind of an operand over `def` (`None`: a null literal).
fn kind_of(def: &SetDef, operand: &Operand) -> Option<Kind> {
    match operand {
        Operand::Field(name) => def.field(name).map(|f| f.kind),
        Operand::Case { .. } | Operand::Item => Some(Kind::Text),
        Operand::Value(value) => match value {
            Value::Null => None,
            Value::Bool(_) => Some(Kind::Boolean),
            Value::Integer(_) => Some(Kind::Integer),
            Value::Real(_) => Some(Kind::Real),
            Value::Text(_) => Some(Kind::Text),
            Value::Time(_) => Some(Kind::Time),
        },
    }
}

fn is_null(operand: &Operand) -> bool {
    matches!(operand, Operand::Value(Value::Null))
}

impl Sql {
    fn push(&mut self, text: &str) {
        self.text.push_str(text);
    }

    /// Adds a parameter and returns its placeholder, cast to the parameter's type: sqlx
    /// caches a prepared statement by its text, with the types of its first parameters, so
    /// the text must say them (else a later `Real` bound where an `Integer` was prepared would
    /// be read as an integer's bytes).
    fn param(&mut self, param: Param) -> String {
        let ty = match &param {
            Param::Text(_) => "text",
            Param::Integer(_) | Param::Limit(_) => "int8",
            Param::Real(_) => "float8",
            Param::Bool(_) => "bool",
            Param::Texts(_) => "text[]",
            Param::Integers(_) => "int8[]",
            Param::Reals(_) => "float8[]",
            Param::Bools(_) => "bool[]",
        };
        self.params.push(param);
        format!("${}::{ty}", self.params.len())
    }

    fn bind(&mut self, param: Param) {
        let placeholder = self.param(param);
        self.push(&placeholder);
    }

    fn operand(&mut self, alias: &str, operand: &Operand, item: Option<&str>) {
        match operand {
            Operand::Field(name) => self.push(&format!("{alias}.\"{name}\"")),
            // Under "C", `lower`/`upper` change ASCII letters only, as SQLite's do.
            Operand::Case { field, upper } => {
                let f = if *upper { "upper" } else { "lower" };
                self.push(&format!("{f}({alias}.\"{field}\" COLLATE \"C\")"));
            }
            Operand::Item => self.push(item.unwrap_or("NULL")),
            Operand::Value(value) => match value {
                Value::Null => self.push("NULL"),
                Value::Bool(b) => self.bind(Param::Bool(*b)),
                Value::Integer(i) | Value::Time(i) => self.bind(Param::Integer(*i)),
                Value::Real(r) => self.bind(Param::Real(*r)),
                Value::Text(t) => self.bind(Param::Text(t.clone())),
            },
        }
    }

    /// Writes `filter` over the row of `def` aliased `alias` (`item`: the item of an enclosing
    /// text-list lambda).
    fn filter(&mut self, def: &SetDef, alias: &str, filter: &Filter, item: Option<&str>) {
        match filter {
            Filter::Compare { op, left, right } => match op {
                Op::Eq | Op::Ne => {
                    let eq = *op == Op::Eq;
                    self.push("(");
                    if is_null(left) || is_null(right) {
                        let other = if is_null(left) { right } else { left };
                        self.operand(alias, other, item);
                        self.push(if eq { " IS NULL" } else { " IS NOT NULL" });
                    } else {
                        // Outside a negation a null is dropped like false, so against a value
                        // a plain `=` (which an index serves) selects what `IS` would.
                        let plain = eq
                            && !self.negated
                            && (matches!(left, Operand::Value(_))
                                || matches!(right, Operand::Value(_)));
                        self.operand(alias, left, item);
                        self.push(if plain {
                            " = "
                        } else if eq {
                            " IS NOT DISTINCT FROM "
                        } else {
                            " IS DISTINCT FROM "
                        });
                        self.operand(alias, right, item);
                    }
                    self.push(")");
                }
                _ if is_null(left) || is_null(right) => {
                    // An ordering comparison with a null is null, which is false here (a
                    // `WHERE` drops it; under a negation it is made false).
                    self.push("false");
                }
                _ => {
                    let two_valued = self.negated;
                    let text = kind_of(def, left) == Some(Kind::Text)
                        || kind_of(def, right) == Some(Kind::Text);
                    self.push(if two_valued { "COALESCE((" } else { "(" });
                    if text {
                        self.push("(");
                        self.operand(alias, left, item);
                        self.push(") COLLATE \"C\"");
                    } else {
                        self.operand(alias, left, item);
                    }
                    self.push(match op {
                        Op::Gt => " > ",
                        Op::Ge => " >= ",
                        Op::Lt => " < ",
                        _ => " <= ",
                    });
                    self.operand(alias, right, item);
                    // Null equals null, so `a ge b` and `a le b` hold when both are null.
                    let both_may_be_null =
                        !matches!(left, Operand::Value(_)) && !matches!(right, Operand::Value(_));
                    if matches!(op, Op::Ge | Op::Le) && both_may_be_null {
                        self.push(" OR (");
                        self.operand(alias, left, item);
                        self.push(" IS NULL AND ");
                        self.operand(alias, right, item);
                        self.push(" IS NULL)");
                    }
                    self.push(if two_valued { "), false)" } else { ")" });
                }
            },
            Filter::Text {
                test,
                subject,
                pattern,
            } => {
                // Case-sensitive, by characters, as SQLite's `instr` and `substr`: the empty
                // pattern matches any text, and a null subject gives null.
                let p = self.param(Param::Text(pattern.clone()));
                self.push("(");
                match test {
                    TextTest::Contains => {
                        self.push("strpos(");
                        self.operand(alias, subject, item);
                        self.push(&format!(", {p}) > 0"));
                    }
                    TextTest::StartsWith | TextTest::EndsWith => {
                        let f = if *test == TextTest::StartsWith {
                            "left"
                        } else {
                            "right"
                        };
                        self.push(&format!("{f}("));
                        self.operand(alias, subject, item);
                        self.push(&format!(", length({p})) = {p}"));
                    }
                }
                self.push(")");
            }
            Filter::In { subject, values } => {
                let negated = self.negated;
                if negated {
                    self.push("COALESCE(");
                }
                self.in_list(def, alias, subject, values, item);
                if negated {
                    self.push(", false)");
                }
            }
            Filter::And(a, b) | Filter::Or(a, b) => {
                self.push("(");
                self.filter(def, alias, a, item);
                self.push(if matches!(filter, Filter::And(..)) {
                    " AND "
                } else {
                    " OR "
                });
                self.filter(def, alias, b, item);
                self.push(")");
            }
            Filter::Not(inner) => {
                let outer = std::mem::replace(&mut self.negated, true);
                self.push("(NOT (");
                self.filter(def, alias, inner, item);
                self.push("))");
                self.negated = outer;
            }
            Filter::AnyRelated {
                navigation,
                predicate,
            } => {
                self.depth += 1;
                let inner = format!("r{}", self.depth);
                self.push(&format!(
                    "EXISTS (SELECT 1 FROM ({}) AS {inner} WHERE {inner}.\"{}\" = {alias}.\"{}\"",
                    source(navigation.target),
                    navigation.to,
                    navigation.from
                ));
                if let Some(predicate) = predicate {
                    // Its own `WHERE`: a null there is dropped like false, whatever is outside.
                    let outer = std::mem::replace(&mut self.negated, false);
                    self.push(" AND ");
                    self.filter(query::def(navigation.target), &inner, predicate, None);
                    self.negated = outer;
                }
                self.push(")");
            }
            Filter::AnyItem { field, predicate } => {
                self.depth += 1;
                let inner = format!("i{}", self.depth);
                // A text list is JSON text; its items are the array's elements as text.
                self.push(&format!(
                    "EXISTS (SELECT 1 FROM jsonb_array_elements_text(({alias}.\"{field}\")::jsonb) \
                     AS {inner}(value)"
                ));
                if let Some(predicate) = predicate {
                    let outer = std::mem::replace(&mut self.negated, false);
                    self.push(" WHERE ");
                    let item = format!("{inner}.value");
                    self.filter(def, alias, predicate, Some(&item));
                    self.negated = outer;
                }
                self.push(")");
            }
        }
    }

    /// `subject in (values)` as `subject = ANY($n)`, the values one array of the subject's
    /// kind (a value of another kind never equals the subject in SQLite, so it is left out).
    fn in_list(
        &mut self,
        def: &SetDef,
        alias: &str,
        subject: &Operand,
        values: &[Value],
        item: Option<&str>,
    ) {
        let has_null = values.contains(&Value::Null);
        let kind = kind_of(def, subject).or_else(|| {
            values
                .iter()
                .find_map(|v| kind_of(def, &Operand::Value(v.clone())))
        });
        let array = match kind {
            Some(Kind::Text | Kind::TextList) | None => Param::Texts(
                values
                    .iter()
                    .filter_map(|v| match v {
                        Value::Text(t) => Some(t.clone()),
                        _ => None,
                    })
                    .collect(),
            ),
            Some(Kind::Boolean) => Param::Bools(
                values
                    .iter()
                    .filter_map(|v| match v {
                        Value::Bool(b) => Some(*b),
                        _ => None,
                    })
                    .collect(),
            ),
            Some(Kind::Time) => Param::Integers(
                values
                    .iter()
                    .filter_map(|v| match v {
                        Value::Time(i) | Value::Integer(i) => Some(*i),
                        _ => None,
                    })
                    .collect(),
            ),
            Some(Kind::Integer) if !values.iter().any(|v| matches!(v, Value::Real(_))) => {
                Param::Integers(
                    values
                        .iter()
                        .filter_map(|v| match v {
                            Value::Integer(i) => Some(*i),
                            _ => None,
                        })
                        .collect(),
                )
            }
            Some(Kind::Integer | Kind::Real) => Param::Reals(
                values
                    .iter()
                    .filter_map(|v| match v {
                        Value::Real(r) => Some(*r),
                        Value::Integer(i) => Some(*i as f64),
                        _ => None,
                    })
                    .collect(),
            ),
        };
        self.push("(");
        if has_null {
            self.operand(alias, subject, item);
            self.push(" IS NULL OR ");
        }
        self.operand(alias, subject, item);
        self.push(" = ANY(");
        self.bind(array);
        self.push("))");
    }
}

/// The `WHERE` clause (with its leading keyword) and its parameters.
fn where_clause(query: &Query) -> Sql {
    let mut sql = Sql {
        text: String::new(),
        params: Vec::new(),
        depth: 0,
        negated: false,
    };
    if let Some(filter) = &query.filter {
        sql.push(" WHERE ");
        sql.filter(query::def(query.set), "t", filter, None);
    }
    sql
}

/// One sort key: text byte-wise, nulls where SQLite puts them (first ascending).
fn sort_key(def: &SetDef, name: &str, descending: bool) -> String {
    let field = def.field(name);
    let collate = if field.is_some_and(|f| f.kind == Kind::Text) {
        " COLLATE \"C\""
    } else {
        ""
    };
    let dir = if descending { "DESC" } else { "ASC" };
    let may_be_null = field.is_none_or(|f| f.nullable) || from_json(def.set, name);
    let nulls = match (may_be_null, descending) {
        (false, _) => "",
        (true, false) => " NULLS FIRST",
        (true, true) => " NULLS LAST",
    };
    format!("t.\"{name}\"{collate} {dir}{nulls}")
}

/// A statement's text and its parameters, in order.
type Statement = (String, Vec<Param>);

/// The SQL of a query's rows and of its count, with the parameters of each.
fn statements(query: &Query) -> (Statement, Option<Statement>) {
    let def = query::def(query.set);
    let from = format!("FROM ({}) AS t", source(query.set));
    let filter = where_clause(query);
    let count = query.count.then(|| {
        (
            format!("SELECT COUNT(*) {from}{}", filter.text),
            filter.params.clone(),
        )
    });
    let mut order: Vec<String> = query
        .order
        .iter()
        .map(|k| sort_key(def, k.field, k.descending))
        .collect();
    // A unique tie-breaker makes windows stable, running the way the last key runs (as in
    // SQLite's translation); for quality results it is the log's sequence number.
    let unique = match query.set {
        Set::QualityResults => "seq",
        _ => def.key().name,
    };
    if !query.order.iter().any(|k| k.field == unique) {
        let descending = query.order.last().is_some_and(|k| k.descending);
        order.push(sort_key(def, unique, descending));
    }
    let mut sql = filter;
    let limit = sql.param(Param::Limit(
        query.limit.map(|l| i64::try_from(l).unwrap_or(i64::MAX)),
    ));
    let offset = sql.param(Param::Integer(
        i64::try_from(query.skip).unwrap_or(i64::MAX),
    ));
    let text = format!(
        "SELECT * {from}{} ORDER BY {} LIMIT {limit} OFFSET {offset}",
        sql.text,
        order.join(", ")
    );
    ((text, sql.params), count)
}

fn bind_all<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Postgres, PgArguments>,
    params: &'q [Param],
) -> sqlx::query::Query<'q, sqlx::Postgres, PgArguments> {
    for p in params {
        q = match p {
            Param::Text(t) => q.bind(t.as_str()),
            Param::Integer(i) => q.bind(*i),
            Param::Real(r) => q.bind(*r),
            Param::Bool(b) => q.bind(*b),
            Param::Texts(v) => q.bind(v.as_slice()),
            Param::Integers(v) => q.bind(v.as_slice()),
            Param::Reals(v) => q.bind(v.as_slice()),
            Param::Bools(v) => q.bind(v.as_slice()),
            Param::Limit(l) => q.bind(*l),
        };
    }
    q
}

/// One row as JSON keyed by field name, as SQLite's decoder makes it.
fn decode(def: &SetDef, row: &PgRow) -> Result<Map<String, Json>> {
    let mut out = Map::new();
    for (i, field) in def.fields.iter().enumerate() {
        let value = match field.kind {
            Kind::Text => row
                .try_get::<Option<String>, _>(i)
                .map(|v| v.map(Json::from)),
            Kind::Integer => row.try_get::<Option<i64>, _>(i).map(|v| v.map(Json::from)),
            Kind::Real => row.try_get::<Option<f64>, _>(i).map(|v| v.map(Json::from)),
            Kind::Boolean => row.try_get::<Option<bool>, _>(i).map(|v| v.map(Json::from)),
            Kind::Time => row
                .try_get::<Option<i64>, _>(i)
                .map(|v| v.map(|ms| Json::from(model::Timestamp(ms).to_string()))),
            Kind::TextList => row.try_get::<Option<String>, _>(i).map(|v| {
                Some(
                    v.and_then(|text| serde_json::from_str::<Json>(&text).ok())
                        .unwrap_or_else(|| Json::Array(Vec::new())),
                )
            }),
        }
        .ctx("reading a row of the read model")?;
        out.insert(field.name.to_owned(), value.unwrap_or(Json::Null));
    }
    Ok(out)
}

impl ReadModelStore for Postgres {
    async fn query(&self, query: &Query) -> Result<Rows> {
        let def = query::def(query.set);
        let ((text, params), count) = statements(query);
        let rows = bind_all(sqlx::query(&text), &params)
            .fetch_all(&self.pool)
            .await
            .ctx("querying the read model")?;
        let rows = rows
            .iter()
            .map(|row| decode(def, row))
            .collect::<Result<Vec<_>>>()?;
        let count = match count {
            Some((text, params)) => {
                let n: i64 = bind_all(sqlx::query(&text), &params)
                    .fetch_one(&self.pool)
                    .await
                    .ctx("counting in the read model")?
                    .try_get(0)
                    .ctx("counting in the read model")?;
                Some(n.max(0) as u64)
            }
            None => None,
        };
        Ok(Rows { rows, count })
    }
}

/// The PostgreSQL translation against SQLite's: the same rows are put into both databases
/// (PostgreSQL through its migrations, SQLite into the queried tables' columns), and every set
/// is queried, in every order and with filters of every shape, on both; the answers must be
/// identical. Runs when `MIXPLANE_TEST_POSTGRES` names a database.
#[cfg(test)]
#[path = "query_tests.rs"]
mod tests;
