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
mod tests {
    use super::*;
    use crate::query::SortKey;
    use sqlx::sqlite::{SqlitePool, SqlitePoolOptions, SqliteRow};

    /// The columns the read model reads, for SQLite (affinities as the real schema's).
    const SQLITE_TABLES: &[&str] = &[
        "CREATE TABLE plants (version INTEGER PRIMARY KEY, body TEXT NOT NULL)",
        "CREATE TABLE events (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, type TEXT NOT NULL,
            time INTEGER NOT NULL, source TEXT, body TEXT NOT NULL, recorded_at INTEGER NOT NULL)",
        "CREATE TABLE orders (id TEXT PRIMARY KEY, mode TEXT NOT NULL, status TEXT NOT NULL,
            due INTEGER NOT NULL, priority TEXT NOT NULL, body TEXT NOT NULL)",
        "CREATE TABLE units (id TEXT PRIMARY KEY, state TEXT NOT NULL, since INTEGER NOT NULL,
            body TEXT NOT NULL)",
        "CREATE TABLE lots (id TEXT PRIMARY KEY, material TEXT NOT NULL, body TEXT NOT NULL)",
        "CREATE TABLE serials (id TEXT PRIMARY KEY, material TEXT NOT NULL, body TEXT NOT NULL)",
        "CREATE TABLE quality_alerts (id TEXT PRIMARY KEY, n INTEGER NOT NULL,
            characteristic TEXT NOT NULL, severity TEXT NOT NULL, phase INTEGER NOT NULL,
            at INTEGER NOT NULL, body TEXT NOT NULL)",
        "CREATE TABLE quality_holds (id TEXT PRIMARY KEY, n INTEGER NOT NULL,
            item_kind TEXT NOT NULL, item_id TEXT NOT NULL, link TEXT NOT NULL,
            reason TEXT NOT NULL, alert_id TEXT, placed_by TEXT NOT NULL,
            placed_at INTEGER NOT NULL, released_by TEXT, released_at INTEGER,
            release_reason TEXT, proposal_id TEXT)",
        "CREATE TABLE quality_ncs (id TEXT PRIMARY KEY, n INTEGER NOT NULL, state TEXT NOT NULL,
            characteristic TEXT, alert_id TEXT, opened_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL, version INTEGER NOT NULL, body TEXT NOT NULL)",
        "CREATE TABLE quality_nc_items (nc_id TEXT NOT NULL, item TEXT NOT NULL,
            PRIMARY KEY (nc_id, item))",
        "CREATE TABLE proposals (id TEXT PRIMARY KEY, kind TEXT NOT NULL, site TEXT NOT NULL,
            area TEXT NOT NULL, status TEXT NOT NULL, proposed_by TEXT NOT NULL,
            proposed_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, version INTEGER NOT NULL,
            body TEXT NOT NULL)",
        "CREATE TABLE audit (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL,
            actor_kind TEXT NOT NULL, actor_id TEXT NOT NULL, action TEXT NOT NULL,
            subject TEXT NOT NULL, detail TEXT NOT NULL, prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL)",
    ];

    /// The same rows for both, as literal SQL both read alike.
    const ROWS: &[&str] = &[
        r#"INSERT INTO plants (version, body, start, created_at) VALUES (1, '{"work_centers":[]}', 0, 0)"#,
        r#"INSERT INTO plants (version, body, start, created_at) VALUES (2, '{"work_centers":[{"id":"WC-b","name":"Mix","area":"a1","mode":"batch"},{"id":"WC-A","name":"Été","area":"a2","mode":"discrete"}],"units":[{"id":"U1","name":"Reactor","work_center":"WC-b"},{"id":"U2","name":"filler","work_center":"WC-A"},{"id":"u3","name":"Zeta","work_center":"WC-A"}]}', 0, 0)"#,
        r#"INSERT INTO units (id, state, since, body) VALUES ('U1', 'running', 1000, '{}'), ('u3', 'Idle', 500, '{}')"#,
        r#"INSERT INTO events (seq, id, type, time, source, body, recorded_at) VALUES
            (1, 'qr-1', 'quality_result_recorded', 3000, 'Lab-A', '{"characteristic":"EA100-VISC","value":2.5,"sample":2,"sample_size":3.0,"order":"O-1","lot":"L1"}', 10),
            (2, 'qr-2', 'quality_result_recorded', 1000, 'lab-a', '{"characteristic":"EA100-EEW","value":-4.0,"order":"O-2","unit":"U1"}', 11),
            (3, 'qr-3', 'quality_result_recorded', 3000, NULL, '{"characteristic":"PU300-NCO","value":10,"sample":3,"serial":"S1"}', 12),
            (4, 'qr-4', 'quality_result_recorded', 2000, 'Été', '{"characteristic":"EA100-VISC","value":3.0,"sample_size":2.5,"lot":"L2"}', 13),
            (5, 'qr-5', 'quality_result_recorded', 2000, 'zeta', '{"characteristic":"ea100-visc","value":1.0,"sample":1}', 14),
            (6, 'op-1', 'operation_started', 1500, NULL, '{"order":"O-1","step":1,"unit":"U1"}', 15),
            (7, 'op-2', 'operation_completed', 1600, NULL, '{"order":"O-1","step":1,"good_quantity":4,"scrap_quantity":0.5}', 16),
            (8, 'op-3', 'operation_started', 1700, NULL, '{"order":"O-1","step":2,"unit":"U2"}', 17),
            (9, 'op-4', 'operation_started', 1800, NULL, '{"order":"O-2","step":1,"unit":"U1"}', 18),
            (10, 'op-5', 'operation_completed', 1900, NULL, '{"order":"O-2","step":1,"good_quantity":2.5}', 19)"#,
        r#"INSERT INTO orders (id, mode, status, due, priority, body) VALUES
            ('O-1', 'batch', 'running', 5000, 'high', '{"order":{"product":"P-a","routing":"R1","quantity":10,"release":"2026-03-01T06:30:00.250Z","customer":"ACME"},"steps_completed":1,"steps_total":3,"current_step":2,"current_unit":"U1","good_quantity":5.5,"scrap_quantity":0,"started":"2026-03-01T07:30:00+01:00"}'),
            ('O-2', 'discrete', 'released', 4000, 'Low', '{"order":{"product":"P-B","routing":"R2","quantity":2.5,"release":"2026-03-02T00:00:00Z"},"steps_completed":0,"steps_total":2,"good_quantity":0,"scrap_quantity":1.5}'),
            ('o-3', 'batch', 'completed', 4000, 'high', '{"order":{"product":"P-a","routing":"R1","quantity":1,"release":"2026-02-28T23:59:59.999Z","customer":"Beta"},"steps_completed":2,"steps_total":2,"good_quantity":1,"scrap_quantity":0,"started":"2026-03-01T00:00:00Z","completed":"2026-03-03T12:00:00.001Z"}')"#,
        r#"INSERT INTO lots (id, material, body) VALUES
            ('L1', 'resin', '{"produced_by":"O-1","received":0,"produced":10.5,"consumed":1,"shipped":0}'),
            ('L2', 'Amine', '{"received":4,"produced":0,"consumed":0.25,"shipped":2}')"#,
        r#"INSERT INTO serials (id, material, body) VALUES
            ('S1', 'drum', '{"produced_by":"O-2","shipped_to":"ACME"}'),
            ('S2', 'Drum', '{"consumed_by":"O-1"}')"#,
        r#"INSERT INTO quality_alerts (id, n, characteristic, severity, phase, at, body) VALUES
            ('A1', 1, 'EA100-VISC', 'warning', 2, 2500, '{"mode":"batch","chart":"xbar_r"}'),
            ('A2', 2, 'PU300-NCO', 'Critical', 1, 2600, '{}')"#,
        r#"INSERT INTO quality_holds (id, n, item_kind, item_id, link, reason, alert_id, placed_by, placed_at, released_by, released_at, release_reason, proposal_id) VALUES
            ('H1', 1, 'lot', 'L1', 'l', 'visc', 'A1', 'qe', 2700, NULL, NULL, NULL, NULL),
            ('H2', 2, 'serial', 'S1', 'l', 'nco', 'A2', 'qe', 2800, 'boss', 2900, 'ok', 'P1'),
            ('H3', 3, 'order', 'O-2', 'l', 'manual', NULL, 'Op', 2750, NULL, NULL, NULL, 'P1')"#,
        r#"INSERT INTO quality_ncs (id, n, state, characteristic, alert_id, opened_at, updated_at, version, body) VALUES
            ('NC1', 1, 'open', 'EA100-VISC', 'A1', 3000, 3100, 2, '{}'),
            ('NC2', 2, 'closed', NULL, NULL, 3200, 3300, 1, '{}')"#,
        r#"INSERT INTO quality_nc_items (nc_id, item) VALUES ('NC1', 'lot:L1'), ('NC1', 'Lot:L2'), ('NC1', 'serial:S1')"#,
        r#"INSERT INTO proposals (id, kind, site, area, status, proposed_by, proposed_at, expires_at, version, body) VALUES
            ('P1', 'release', 's', 'a1', 'pending', 'qe', 100, 200, 1, '{"title":"Release","areas":["a1","A2"],"checks":{"site_wide":true}}'),
            ('P2', 'plan', 's', 'a2', 'approved', 'Planner', 150, 250, 3, '{"areas":null,"checks":{"site_wide":false}}'),
            ('P3', 'plan', 's', 'a2', 'approved', 'Planner', 150, 250, 3, '{"checks":{"site_wide":0}}'),
            ('P4', 'plan', 's', 'a1', 'expired', 'qe', 50, 60, 2, '{"title":"x","areas":[],"checks":{"site_wide":"yes"}}')"#,
        r#"INSERT INTO audit (seq, at, actor_kind, actor_id, action, subject, detail, prev_hash, hash) VALUES
            (1, 10, 'system', 'test', 'put_plant', 'plant', '{}', '', 'h1'),
            (2, 20, 'user', 'Alice', 'append', 'events', '{}', 'h1', 'H2')"#,
    ];

    async fn sqlite() -> SqlitePool {
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .unwrap();
        for table in SQLITE_TABLES {
            sqlx::query(table).execute(&pool).await.unwrap();
        }
        for rows in ROWS {
            // SQLite's tables here have fewer columns: plants without `start`/`created_at`.
            let rows = rows
                .replace("(version, body, start, created_at)", "(version, body)")
                .replace(", 0, 0)", ")");
            sqlx::query(&rows).execute(&pool).await.unwrap();
        }
        pool
    }

    async fn postgres(url: &str) -> (Postgres, String) {
        let schema = format!("t_{}", crate::random_hex(10));
        let separator = if url.contains('?') { '&' } else { '?' };
        let crate::backend::Backend::Postgres(pg) =
            super::super::open(&format!("{url}{separator}schema={schema}"))
                .await
                .unwrap()
        else {
            unreachable!("a PostgreSQL URL opens PostgreSQL")
        };
        for rows in ROWS {
            sqlx::query(rows).execute(&pg.pool).await.unwrap();
        }
        (pg, schema)
    }

    fn bind<'q>(
        text: &'q str,
        params: &'q [Value],
    ) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
        let mut q = sqlx::query(text);
        for p in params {
            q = match p {
                Value::Null => q.bind(None::<i64>),
                Value::Bool(b) => q.bind(*b),
                Value::Integer(i) | Value::Time(i) => q.bind(*i),
                Value::Real(r) => q.bind(*r),
                Value::Text(t) => q.bind(t.as_str()),
            };
        }
        q
    }

    /// SQLite's answer, through SQLite's translation.
    async fn on_sqlite(pool: &SqlitePool, query: &Query) -> Rows {
        let def = query::def(query.set);
        let ((text, params), count) = crate::sqlite::query::statements(query);
        let rows: Vec<SqliteRow> = bind(&text, &params).fetch_all(pool).await.unwrap();
        let rows = rows
            .iter()
            .map(|row| {
                let mut out = Map::new();
                for (i, field) in def.fields.iter().enumerate() {
                    let value = match field.kind {
                        Kind::Text => row.get::<Option<String>, _>(i).map(Json::from),
                        Kind::Integer => row.get::<Option<i64>, _>(i).map(Json::from),
                        Kind::Real => row.get::<Option<f64>, _>(i).map(Json::from),
                        Kind::Boolean => row.get::<Option<bool>, _>(i).map(Json::from),
                        Kind::Time => row
                            .get::<Option<i64>, _>(i)
                            .map(|ms| Json::from(model::Timestamp(ms).to_string())),
                        Kind::TextList => Some(
                            row.get::<Option<String>, _>(i)
                                .and_then(|t| serde_json::from_str(&t).ok())
                                .unwrap_or_else(|| Json::Array(Vec::new())),
                        ),
                    };
                    out.insert(field.name.to_owned(), value.unwrap_or(Json::Null));
                }
                out
            })
            .collect();
        let count = match count {
            Some((text, params)) => {
                let n: i64 = bind(&text, &params).fetch_one(pool).await.unwrap().get(0);
                Some(n as u64)
            }
            None => None,
        };
        Rows { rows, count }
    }

    fn cmp(op: Op, left: Operand, right: Operand) -> Filter {
        Filter::Compare { op, left, right }
    }

    fn field(name: &'static str) -> Operand {
        Operand::Field(name)
    }

    fn text(t: &str) -> Operand {
        Operand::Value(Value::Text(t.to_owned()))
    }

    fn not(f: Filter) -> Filter {
        Filter::Not(Box::new(f))
    }

    /// Filters of every shape, per set.
    fn filters(set: Set) -> Vec<Filter> {
        let ops = [Op::Eq, Op::Ne, Op::Gt, Op::Ge, Op::Lt, Op::Le];
        let mut out = Vec::new();
        let def = query::def(set);
        for f in def.fields {
            let values: Vec<Value> = match f.kind {
                Kind::Text => vec![
                    Value::Text("EA100-VISC".into()),
                    Value::Text("lab-a".into()),
                    Value::Text("O-1".into()),
                    Value::Text("Été".into()),
                    Value::Text("a".into()),
                    Value::Text(String::new()),
                ],
                Kind::Integer => vec![Value::Integer(1), Value::Integer(2), Value::Real(2.5)],
                Kind::Real => vec![Value::Real(2.5), Value::Real(-4.0), Value::Real(0.0)],
                Kind::Boolean => vec![Value::Bool(true), Value::Bool(false)],
                Kind::Time => vec![Value::Time(2000), Value::Time(1_772_346_600_250)],
                Kind::TextList => {
                    for pattern in ["", "a1", "lot:L1"] {
                        out.push(Filter::AnyItem {
                            field: f.name,
                            predicate: Some(Box::new(cmp(Op::Eq, Operand::Item, text(pattern)))),
                        });
                    }
                    out.push(Filter::AnyItem {
                        field: f.name,
                        predicate: None,
                    });
                    out.push(not(Filter::AnyItem {
                        field: f.name,
                        predicate: Some(Box::new(not(Filter::Text {
                            test: TextTest::StartsWith,
                            subject: Operand::Item,
                            pattern: "l".into(),
                        }))),
                    }));
                    continue;
                }
            };
            for value in values.iter().chain([&Value::Null]) {
                for op in ops {
                    let c = cmp(op, field(f.name), Operand::Value(value.clone()));
                    out.push(not(c.clone()));
                    out.push(c);
                    out.push(cmp(op, Operand::Value(value.clone()), field(f.name)));
                }
            }
            let mut list = values.clone();
            out.push(Filter::one_of(f.name, list.clone()));
            list.push(Value::Null);
            out.push(not(Filter::one_of(f.name, list.clone())));
            // A long list.
            let long: Vec<Value> = (0..40)
                .map(|i| match f.kind {
                    Kind::Text => Value::Text(format!("x{i}")),
                    Kind::Real => Value::Real(f64::from(i) / 2.0 - 4.0),
                    Kind::Boolean => Value::Bool(i % 2 == 0),
                    Kind::Time => Value::Time(i64::from(i) * 100),
                    _ => Value::Integer(i64::from(i)),
                })
                .chain(values.iter().cloned())
                .collect();
            out.push(Filter::one_of(f.name, long.clone()));
            out.push(not(Filter::one_of(f.name, long)));
            if f.kind == Kind::Text {
                for test in [TextTest::Contains, TextTest::StartsWith, TextTest::EndsWith] {
                    for pattern in ["", "a", "A", "-", "é", "VISC", "ea"] {
                        for subject in [
                            field(f.name),
                            Operand::Case {
                                field: f.name,
                                upper: false,
                            },
                            Operand::Case {
                                field: f.name,
                                upper: true,
                            },
                        ] {
                            let t = Filter::Text {
                                test,
                                subject,
                                pattern: pattern.into(),
                            };
                            out.push(not(t.clone()));
                            out.push(t);
                        }
                    }
                }
            }
            // Field against field of comparable kinds.
            for g in def.fields {
                let numeric = |k| matches!(k, Kind::Integer | Kind::Real);
                if g.kind != Kind::TextList
                    && (g.kind == f.kind || (numeric(g.kind) && numeric(f.kind)))
                {
                    for op in ops {
                        let c = cmp(op, field(f.name), field(g.name));
                        out.push(not(c.clone()));
                        out.push(c);
                    }
                }
            }
        }
        for nav in def.navigations.iter().filter(|n| n.many) {
            let target = query::def(nav.target);
            out.push(Filter::AnyRelated {
                navigation: nav,
                predicate: None,
            });
            for f in target.fields.iter().filter(|f| f.kind == Kind::Text) {
                let p = Filter::Text {
                    test: TextTest::Contains,
                    subject: field(f.name),
                    pattern: "1".into(),
                };
                out.push(Filter::AnyRelated {
                    navigation: nav,
                    predicate: Some(Box::new(p.clone())),
                });
                out.push(not(Filter::AnyRelated {
                    navigation: nav,
                    predicate: Some(Box::new(not(p))),
                }));
            }
        }
        out
    }

    #[tokio::test]
    async fn postgres_answers_what_sqlite_answers() {
        let Some(url) = crate::test_support::postgres_url() else {
            return;
        };
        let lite = sqlite().await;
        let (pg, schema) = postgres(&url).await;
        let mut checked = 0;
        for def in query::SETS {
            let mut queries = Vec::new();
            for f in def.fields.iter().filter(|f| f.kind != Kind::TextList) {
                for descending in [false, true] {
                    let mut q = Query::new(def.set);
                    q.order = vec![SortKey {
                        field: f.name,
                        descending,
                    }];
                    q.count = true;
                    queries.push(q.clone());
                    q.skip = 1;
                    q.limit = Some(2);
                    queries.push(q);
                }
            }
            for filter in filters(def.set) {
                let mut q = Query::new(def.set);
                q.filter = Some(filter);
                q.count = true;
                queries.push(q);
            }
            for q in &queries {
                let want = on_sqlite(&lite, q).await;
                let got = pg
                    .query(q)
                    .await
                    .unwrap_or_else(|e| panic!("{q:?}: {e}\n{}", statements(q).0.0));
                assert_eq!(got.rows, want.rows, "{q:?}\n{}", statements(q).0.0);
                assert_eq!(got.count, want.count, "{q:?}");
                checked += 1;
            }
        }
        assert!(checked > 1000, "{checked}");
        sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
            .execute(&pg.pool)
            .await
            .unwrap();
    }
}
