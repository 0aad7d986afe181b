//! The read model's queries (`crate::query`) in SQL: each set is a `SELECT` over the
//! projection tables, the log or the plant document whose columns are the set's fields
//! ([`source`]); a query wraps it as `SELECT … FROM (source) AS t WHERE … ORDER BY … LIMIT …`,
//! which SQLite flattens, so the filter runs on the underlying columns and expressions and
//! their indexes (migration 0043) serve it. Every value is a bound parameter; the only text
//! spliced in is field names and operators from the closed descriptions in `crate::query`.
//!
//! Null rule, OData's: a comparison is true or false — `eq`/`ne` are SQL's null-safe
//! `IS`/`IS NOT` (so `x ne 'a'` holds for a null `x`), an ordering comparison or `in` with a
//! null is false — while a text test of a null is null, and `not null` is null again. In SQL an
//! ordering comparison with a null is null, which a `WHERE` drops like false; under a negation
//! it is written `COALESCE(…, 0)` (only there, so that a positive range keeps its index), and
//! SQL's `NOT`, `AND` and `OR` then treat the remaining nulls (of text tests) as OData does.

use serde_json::{Map, Value as Json};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::Sqlite;
use crate::backend::ReadModelStore;
use crate::error::{Context, Result};
use crate::query::{self, Filter, Kind, Op, Operand, Query, Rows, Set, SetDef, TextTest, Value};

/// The newest plant document (the work centers and units are read from it).
const PLANT: &str = "(SELECT body FROM plants ORDER BY version DESC LIMIT 1)";

/// Lists longer than this are bound as one JSON array and expanded with `json_each`, so that
/// a scope's thousands of ids stay one parameter.
const INLINE_LIST: usize = 16;

/// An instant in the body's RFC 3339 text as integer milliseconds.
fn ms(expr: &str) -> String {
    format!("CAST(round((julianday({expr}) - 2440587.5) * 86400000.0) AS INTEGER)")
}

/// The `SELECT` whose columns are `set`'s fields, in their order.
fn source(set: Set) -> String {
    let j = |path: &str| format!("json_extract(body, '$.{path}')");
    match set {
        Set::Orders => format!(
            "SELECT id AS \"id\", {} AS \"product\", {} AS \"routing\", mode AS \"mode\",
                    status AS \"status\", priority AS \"priority\",
                    CAST({} AS REAL) AS \"quantity\", {} AS \"release\", due AS \"due\",
                    {} AS \"customer\", {} AS \"steps_completed\", {} AS \"steps_total\",
                    {} AS \"current_step\", {} AS \"current_unit\",
                    CAST({} AS REAL) AS \"good_quantity\", CAST({} AS REAL) AS \"scrap_quantity\",
                    {} AS \"started\", {} AS \"completed\"
             FROM orders",
            j("order.product"),
            j("order.routing"),
            j("order.quantity"),
            ms(&j("order.release")),
            j("order.customer"),
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
        // step logged after it.
        Set::Operations => {
            let done = |what: &str| {
                format!(
                    "(SELECT {what} FROM events c
                      WHERE c.type = 'operation_completed'
                        AND json_extract(c.body, '$.order') = json_extract(s.body, '$.order')
                        AND json_extract(c.body, '$.step') = json_extract(s.body, '$.step')
                        AND c.seq > s.seq
                      ORDER BY c.seq LIMIT 1)"
                )
            };
            format!(
                "SELECT s.id AS \"id\", json_extract(s.body, '$.order') AS \"order\",
                        json_extract(s.body, '$.step') AS \"step\",
                        json_extract(s.body, '$.unit') AS \"unit\", s.time AS \"started\",
                        {} AS \"completed\", {} AS \"good_quantity\", {} AS \"scrap_quantity\"
                 FROM events s WHERE s.type = 'operation_started'",
                done("c.time"),
                done("CAST(json_extract(c.body, '$.good_quantity') AS REAL)"),
                done("CAST(json_extract(c.body, '$.scrap_quantity') AS REAL)"),
            )
        }
        Set::WorkCenters => format!(
            "SELECT json_extract(w.value, '$.id') AS \"id\", json_extract(w.value, '$.name') AS \"name\",
                    json_extract(w.value, '$.area') AS \"area\", json_extract(w.value, '$.mode') AS \"mode\"
             FROM json_each({PLANT}, '$.work_centers') AS w"
        ),
        Set::Units => format!(
            "SELECT json_extract(p.value, '$.id') AS \"id\", json_extract(p.value, '$.name') AS \"name\",
                    json_extract(p.value, '$.work_center') AS \"work_center\",
                    u.state AS \"state\", u.since AS \"since\"
             FROM json_each({PLANT}, '$.units') AS p
             LEFT JOIN units u ON u.id = json_extract(p.value, '$.id')"
        ),
        Set::Lots => format!(
            "SELECT id AS \"id\", material AS \"material\", {} AS \"produced_by\",
                    CAST({} AS REAL) AS \"received\", CAST({} AS REAL) AS \"produced\",
                    CAST({} AS REAL) AS \"consumed\", CAST({} AS REAL) AS \"shipped\"
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
        // The expressions are those of migration 0043's indexes, word for word.
        Set::QualityResults => format!(
            "SELECT id AS \"id\", seq AS \"seq\", time AS \"time\",
                    {} AS \"characteristic\", CAST({} AS REAL) AS \"value\",
                    {} AS \"sample\", CAST({} AS REAL) AS \"sample_size\",
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
        Set::Nonconformances => "SELECT n.id AS \"id\", n.state AS \"state\",
                    n.characteristic AS \"characteristic\", n.alert_id AS \"alert_id\",
                    n.opened_at AS \"opened_at\", n.updated_at AS \"updated_at\",
                    n.version AS \"version\",
                    (SELECT json_group_array(item) FROM
                        (SELECT item FROM quality_nc_items i WHERE i.nc_id = n.id ORDER BY item))
                      AS \"items\"
             FROM quality_ncs n"
            .to_owned(),
        Set::Proposals => format!(
            "SELECT id AS \"id\", kind AS \"kind\", site AS \"site\", area AS \"area\",
                    status AS \"status\", proposed_by AS \"proposed_by\",
                    proposed_at AS \"proposed_at\", expires_at AS \"expires_at\",
                    version AS \"version\", {} AS \"title\",
                    COALESCE({}, '[]') AS \"areas\",
                    (COALESCE({}, 0) != 0) AS \"site_wide\"
             FROM proposals",
            j("title"),
            j("areas"),
            j("checks.site_wide"),
        ),
        Set::AuditRecords => "SELECT seq AS \"seq\", at AS \"at\", actor_kind AS \"actor_kind\",
                    actor_id AS \"actor\", action AS \"action\", subject AS \"subject\",
                    hash AS \"hash\"
             FROM audit"
            .to_owned(),
    }
}

/// SQL text and its parameters, built together so they stay in step.
struct Sql {
    text: String,
    params: Vec<Value>,
    /// Aliases in use, for nested lambdas.
    depth: usize,
    /// Inside a negation (within the current `EXISTS`), where a null comparison must be false.
    negated: bool,
}

impl Sql {
    fn push(&mut self, text: &str) {
        self.text.push_str(text);
    }

    fn bind(&mut self, value: Value) {
        self.text.push('?');
        self.params.push(value);
    }

    fn operand(&mut self, alias: &str, operand: &Operand, item: Option<&str>) {
        match operand {
            Operand::Field(name) => self.push(&format!("{alias}.\"{name}\"")),
            Operand::Case { field, upper } => {
                let f = if *upper { "upper" } else { "lower" };
                self.push(&format!("{f}({alias}.\"{field}\")"));
            }
            Operand::Item => self.push(item.unwrap_or("NULL")),
            Operand::Value(value) => self.bind(value.clone()),
        }
    }

    /// Writes `filter` over the row aliased `alias` (`item`: the item of an enclosing text-list lambda).
    fn filter(&mut self, alias: &str, filter: &Filter, item: Option<&str>) {
        match filter {
            Filter::Compare { op, left, right } => {
                let two_valued = self.negated && !matches!(op, Op::Eq | Op::Ne);
                self.push(if two_valued { "COALESCE((" } else { "(" });
                self.operand(alias, left, item);
                self.push(match op {
                    Op::Eq => " IS ",
                    Op::Ne => " IS NOT ",
                    Op::Gt => " > ",
                    Op::Ge => " >= ",
                    Op::Lt => " < ",
                    Op::Le => " <= ",
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
                self.push(if two_valued { "), 0)" } else { ")" });
            }
            Filter::Text {
                test,
                subject,
                pattern,
            } => {
                let p = Value::Text(pattern.clone());
                self.push("(");
                match test {
                    TextTest::Contains => {
                        self.push("instr(");
                        self.operand(alias, subject, item);
                        self.push(", ");
                        self.bind(p);
                        self.push(") > 0");
                    }
                    TextTest::StartsWith => {
                        self.push("substr(");
                        self.operand(alias, subject, item);
                        self.push(", 1, length(");
                        self.bind(p.clone());
                        self.push(")) = ");
                        self.bind(p);
                    }
                    TextTest::EndsWith => {
                        // `substr(x, -0)` is the whole text, so the empty suffix is its own
                        // case: true for any text, null for a null one (`x = x`).
                        self.push("CASE WHEN ");
                        self.bind(p.clone());
                        self.push(" = '' THEN ");
                        self.operand(alias, subject, item);
                        self.push(" = ");
                        self.operand(alias, subject, item);
                        self.push(" ELSE substr(");
                        self.operand(alias, subject, item);
                        self.push(", -length(");
                        self.bind(p.clone());
                        self.push(")) = ");
                        self.bind(p);
                        self.push(" END");
                    }
                }
                self.push(")");
            }
            Filter::In { subject, values } => {
                let negated = self.negated;
                if negated {
                    self.push("COALESCE(");
                }
                self.in_list(alias, subject, values, item);
                if negated {
                    self.push(", 0)");
                }
            }
            Filter::And(a, b) | Filter::Or(a, b) => {
                self.push("(");
                self.filter(alias, a, item);
                self.push(if matches!(filter, Filter::And(..)) {
                    " AND "
                } else {
                    " OR "
                });
                self.filter(alias, b, item);
                self.push(")");
            }
            Filter::Not(inner) => {
                let outer = std::mem::replace(&mut self.negated, true);
                self.push("(NOT (");
                self.filter(alias, inner, item);
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
                    self.filter(&inner, predicate, None);
                    self.negated = outer;
                }
                self.push(")");
            }
            Filter::AnyItem { field, predicate } => {
                self.depth += 1;
                let inner = format!("i{}", self.depth);
                // A text list is a JSON array column; its items are `json_each`'s values.
                self.push(&format!(
                    "EXISTS (SELECT 1 FROM json_each({alias}.\"{field}\") AS {inner}"
                ));
                if let Some(predicate) = predicate {
                    let outer = std::mem::replace(&mut self.negated, false);
                    self.push(" WHERE ");
                    let item = format!("{inner}.value");
                    self.filter(alias, predicate, Some(&item));
                    self.negated = outer;
                }
                self.push(")");
            }
        }
    }

    fn in_list(&mut self, alias: &str, subject: &Operand, values: &[Value], item: Option<&str>) {
        let has_null = values.contains(&Value::Null);
        let values: Vec<&Value> = values.iter().filter(|v| **v != Value::Null).collect();
        self.push("(");
        if has_null {
            self.operand(alias, subject, item);
            self.push(" IS NULL OR ");
        }
        self.operand(alias, subject, item);
        if values.len() > INLINE_LIST {
            let array: Vec<Json> = values.iter().map(|v| to_json(v)).collect();
            self.push(" IN (SELECT value FROM json_each(");
            self.bind(Value::Text(Json::Array(array).to_string()));
            self.push("))");
        } else {
            self.push(" IN (");
            for (i, value) in values.iter().enumerate() {
                if i > 0 {
                    self.push(", ");
                }
                self.bind((*value).clone());
            }
            self.push(")");
        }
        self.push(")");
    }
}

fn to_json(value: &Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::from(*b),
        Value::Integer(i) | Value::Time(i) => Json::from(*i),
        Value::Real(r) => Json::from(*r),
        Value::Text(t) => Json::from(t.as_str()),
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
        sql.filter("t", filter, None);
    }
    sql
}

/// A statement's text and its parameters, in order.
type Statement = (String, Vec<Value>);

/// The SQL of a query's rows and of its count, with the parameters of each.
pub(crate) fn statements(query: &Query) -> (Statement, Option<Statement>) {
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
        .map(|k| {
            let dir = if k.descending { "DESC" } else { "ASC" };
            format!("t.\"{}\" {dir}", k.field)
        })
        .collect();
    // A unique tie-breaker makes windows stable. It runs the way the last key runs, so that
    // an index on (…, key) read backwards serves a descending order whole; for quality
    // results it is the log's sequence number, the rowid every index of theirs ends with.
    let unique = match query.set {
        Set::QualityResults => "seq",
        _ => def.key().name,
    };
    if !query.order.iter().any(|k| k.field == unique) {
        let descending = query.order.last().is_some_and(|k| k.descending);
        let dir = if descending { "DESC" } else { "ASC" };
        order.push(format!("t.\"{unique}\" {dir}"));
    }
    let mut params = filter.params;
    let mut text = format!(
        "SELECT * {from}{} ORDER BY {} LIMIT ? OFFSET ?",
        filter.text,
        order.join(", ")
    );
    // SQLite's "no limit" is -1.
    let limit = query
        .limit
        .map_or(-1, |l| i64::try_from(l).unwrap_or(i64::MAX));
    params.push(Value::Integer(limit));
    params.push(Value::Integer(
        i64::try_from(query.skip).unwrap_or(i64::MAX),
    ));
    text.shrink_to_fit();
    ((text, params), count)
}

fn bind_all<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
    params: &'q [Value],
) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
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

/// One row as JSON keyed by field name.
fn decode(def: &SetDef, row: &SqliteRow) -> Result<Map<String, Json>> {
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

impl ReadModelStore for Sqlite {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::Backend;
    use crate::query::SortKey;

    /// The plan SQLite makes for a query, one line per step.
    async fn plan(query: &Query) -> Vec<String> {
        let Backend::Sqlite(sqlite) = crate::sqlite::open_memory().await.unwrap() else {
            unreachable!("an SQLite database opened as SQLite")
        };
        let ((text, params), _) = statements(query);
        let rows = bind_all(sqlx::query(&format!("EXPLAIN QUERY PLAN {text}")), &params)
            .fetch_all(&sqlite.pool)
            .await
            .unwrap();
        rows.iter()
            .map(|row| row.try_get::<String, _>("detail").unwrap())
            .collect()
    }

    #[tokio::test]
    async fn the_dashboard_query_of_quality_results_is_an_index_range_without_a_sort() {
        let characteristic = Filter::Compare {
            op: Op::Eq,
            left: Operand::Field("characteristic"),
            right: Operand::Value(Value::Text("EA100-VISC".into())),
        };
        let above = Filter::Compare {
            op: Op::Gt,
            left: Operand::Field("value"),
            right: Operand::Value(Value::Real(12.0)),
        };
        let mut query = Query::new(Set::QualityResults);
        query.filter = Some(characteristic.and(above));
        query.order = vec![SortKey {
            field: "time",
            descending: true,
        }];
        query.limit = Some(50);
        let steps = plan(&query).await;
        assert!(
            steps
                .iter()
                .any(|s| s.contains("USING INDEX events_quality_characteristic_time")),
            "{steps:?}"
        );
        assert!(
            !steps
                .iter()
                .any(|s| s.contains("SCAN") || s.contains("TEMP B-TREE")),
            "{steps:?}"
        );
    }

    #[tokio::test]
    async fn an_operations_completion_is_found_by_index() {
        let steps = plan(&Query::new(Set::Operations)).await;
        assert!(
            steps
                .iter()
                .any(|s| s.contains("USING INDEX events_operation_completed")),
            "{steps:?}"
        );
    }
}
