//! The PostgreSQL read model checked against SQLite's: the same rows put in both, the same
//! queries (every set, every sort key both ways, filters of every shape), the same answers.

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
