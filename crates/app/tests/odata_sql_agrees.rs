//! The OData surface's filters run in SQL (`app::odata::translate` → `store::query` →
//! `store/src/sqlite/query.rs`); `odata::eval` is an independent in-memory evaluator of the
//! same language, written for the MES emulator. On random filters — comparisons either way
//! round, with nulls, `in` lists with nulls, text tests (of `tolower` too, with empty
//! patterns), property against property, nested `and`/`or`/`not` — over quality results with
//! null and non-null fields, the rows SQL selects are exactly those the evaluator matches.

use std::sync::{Arc, OnceLock};

use odata::{CompareOp, DateTimeOffset, Expr, Function, Literal};
use proptest::prelude::*;
use serde_json::{Value, json};
use store::query::{self, Query, Set};

const CHARACTERISTICS: [&str; 3] = ["EA100-VISC", "EA100-EEW", "PU300-NCO"];
const SOURCES: [&str; 4] = ["sim", "mes", "Lab-A", "lab-a"];
const VALUES: [f64; 5] = [1.0, 2.5, 3.0, 10.0, -4.0];
const TIMES: [&str; 4] = [
    "2026-03-01T00:00:00Z",
    "2026-03-01T06:30:00Z",
    "2026-03-02T00:00:00.250Z",
    "2026-03-03T12:00:00Z",
];

struct Fixture {
    runtime: tokio::runtime::Runtime,
    store: Arc<store::Store>,
    rows: Vec<Value>,
}

/// 240 quality results whose fields take few values (so filters hit ties and nulls).
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let (store, rows) = runtime.block_on(async {
            let store = Arc::new(store::test_support::private_store().await.unwrap());
            let actor = store::Actor::system("test");
            store
                .put_plant(sim::reference_plant(), &actor)
                .await
                .unwrap();
            let mut rng = model::rng::Rng::new(3);
            let mut pick = |n: usize| (rng.next_u64() % n as u64) as usize;
            let events: Vec<model::Event> = (0..240)
                .map(|i| {
                    let mut event = json!({
                        "id": format!("qr-{i}"),
                        "time": TIMES[pick(TIMES.len())],
                        "type": "quality_result_recorded",
                        "characteristic": CHARACTERISTICS[pick(CHARACTERISTICS.len())],
                        "value": VALUES[pick(VALUES.len())],
                    });
                    if pick(3) > 0 {
                        event["sample"] = json!(pick(4));
                    }
                    if pick(2) == 0 {
                        event["sample_size"] = json!(VALUES[pick(VALUES.len())].abs());
                    }
                    if pick(3) > 0 {
                        event["source"] = json!(SOURCES[pick(SOURCES.len())]);
                    }
                    serde_json::from_value(event).unwrap()
                })
                .collect();
            store.append(&events, &actor).await.unwrap();
            let rows = store
                .query(&Query::new(Set::QualityResults))
                .await
                .unwrap()
                .rows;
            (store, rows.into_iter().map(Value::Object).collect())
        });
        Fixture {
            runtime,
            store,
            rows,
        }
    })
}

fn path(name: &str) -> Expr {
    Expr::path(name)
}

fn text_literal() -> impl Strategy<Value = Literal> {
    prop_oneof![
        Just(Literal::Null),
        (0..SOURCES.len()).prop_map(|i| Literal::String(SOURCES[i].to_owned())),
        (0..CHARACTERISTICS.len()).prop_map(|i| Literal::String(CHARACTERISTICS[i].to_owned())),
        Just(Literal::String(String::new())),
    ]
}

fn number_literal() -> impl Strategy<Value = Literal> {
    prop_oneof![
        Just(Literal::Null),
        (-5i64..12).prop_map(Literal::Integer),
        (0..VALUES.len()).prop_map(|i| Literal::Decimal(format!("{:?}", VALUES[i]))),
    ]
}

fn time_literal() -> impl Strategy<Value = Literal> {
    prop_oneof![
        Just(Literal::Null),
        (0..TIMES.len())
            .prop_map(|i| Literal::DateTimeOffset(DateTimeOffset::parse(TIMES[i]).unwrap())),
        Just(Literal::DateTimeOffset(
            DateTimeOffset::parse("2026-03-01T07:30:00+01:00").unwrap()
        )),
    ]
}

fn op() -> impl Strategy<Value = CompareOp> {
    prop_oneof![
        Just(CompareOp::Eq),
        Just(CompareOp::Ne),
        Just(CompareOp::Gt),
        Just(CompareOp::Ge),
        Just(CompareOp::Lt),
        Just(CompareOp::Le),
    ]
}

/// A property and a literal of its type.
fn property_and_literal() -> impl Strategy<Value = (Expr, Literal)> {
    prop_oneof![
        (
            prop_oneof![Just("characteristic"), Just("source")],
            text_literal()
        )
            .prop_map(|(f, l)| (path(f), l)),
        (
            prop_oneof![Just("value"), Just("sample"), Just("sample_size")],
            number_literal()
        )
            .prop_map(|(f, l)| (path(f), l)),
        time_literal().prop_map(|l| (path("time"), l)),
    ]
}

fn leaf() -> impl Strategy<Value = Expr> {
    let text_subject = prop_oneof![
        Just(path("source")),
        Just(path("characteristic")),
        Just(Expr::Call {
            function: Function::ToLower,
            args: vec![path("source")],
        }),
    ];
    prop_oneof![
        (property_and_literal(), op(), any::<bool>()).prop_map(|((p, l), op, swap)| {
            if swap {
                Expr::compare(Expr::Literal(l), op, p)
            } else {
                Expr::compare(p, op, Expr::Literal(l))
            }
        }),
        (
            prop_oneof![Just("value"), Just("sample"), Just("sample_size")],
            op(),
            prop_oneof![Just("value"), Just("sample"), Just("sample_size")],
        )
            .prop_map(|(a, op, b)| Expr::compare(path(a), op, path(b))),
        property_and_literal().prop_map(|(p, l)| Expr::In {
            value: Box::new(p),
            list: vec![Expr::Literal(l)],
        }),
        (
            prop_oneof![Just("source"), Just("characteristic")],
            text_literal(),
            text_literal()
        )
            .prop_map(|(f, a, b)| Expr::In {
                value: Box::new(path(f)),
                list: vec![Expr::Literal(a), Expr::Literal(b)],
            }),
        (
            prop_oneof![
                Just(Function::Contains),
                Just(Function::StartsWith),
                Just(Function::EndsWith)
            ],
            text_subject,
            prop_oneof![
                Just(""),
                Just("a"),
                Just("La"),
                Just("ab-"),
                Just("VISC"),
                Just("EA")
            ],
        )
            .prop_map(|(function, subject, pattern)| Expr::Call {
                function,
                args: vec![subject, Expr::Literal(Literal::String(pattern.to_owned()))],
            }),
    ]
}

fn filter() -> impl Strategy<Value = Expr> {
    leaf().prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Expr::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Expr::Or(Box::new(a), Box::new(b))),
            inner.prop_map(|a| Expr::Not(Box::new(a))),
        ]
    })
}

fn ids(rows: impl IntoIterator<Item = Value>) -> Vec<String> {
    rows.into_iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn sql_selects_what_the_evaluator_matches(expr in filter()) {
        let fixture = fixture();
        let def = query::def(Set::QualityResults);
        let translated = app::odata::translate::filter(def, &expr);
        let translated = match translated {
            Ok(filter) => filter,
            Err(error) => {
                // Only type errors may be refused here, and the evaluator agrees they are.
                let mismatch = fixture.rows.iter().any(|r| odata::eval::matches(&expr, r).is_err());
                prop_assert!(mismatch, "{expr} refused: {error}");
                return Ok(());
            }
        };
        let mut query = Query::new(Set::QualityResults);
        query.filter = Some(translated);
        query.order = vec![store::query::SortKey { field: "seq", descending: false }];
        let sql = fixture.runtime.block_on(fixture.store.query(&query)).unwrap().rows;
        let sql = ids(sql.into_iter().map(Value::Object));
        let evaluated = ids(
            fixture
                .rows
                .iter()
                .filter(|r| odata::eval::matches(&expr, r).unwrap())
                .cloned(),
        );
        prop_assert_eq!(sql, evaluated, "{}", expr);
    }
}
