//! Properties of the parser: what `Display` writes for a generated expression (and what
//! `to_query_string` writes for generated options) reads back to the same value, and no input
//! makes `QueryOptions::parse` — or evaluating what it reads — panic.

use odata::csdl::ODataError;
use odata::eval::apply;
use odata::expr::LambdaBody;
use odata::{
    CompareOp, Date, DateTimeOffset, ExpandItem, Expr, Function, Guid, LambdaKind, Literal,
    OrderBy, QueryOptions, SelectItem,
};
use proptest::prelude::*;
use serde_json::json;

const KEYWORDS: [&str; 17] = [
    "eq", "ne", "gt", "ge", "lt", "le", "and", "or", "not", "in", "true", "false", "null", "asc",
    "desc", "any", "all",
];

fn identifier() -> impl Strategy<Value = String> {
    "[A-Za-z_][A-Za-z0-9_]{0,6}".prop_filter("not a keyword", |s| !KEYWORDS.contains(&s.as_str()))
}

fn path() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(identifier(), 1..3)
}

fn date() -> impl Strategy<Value = Date> {
    (0u16..=9999, 1u8..=12, 1u8..=28).prop_map(|(y, m, d)| Date::new(y, m, d).unwrap())
}

fn date_time() -> impl Strategy<Value = DateTimeOffset> {
    (
        date(),
        0u8..24,
        0u8..60,
        0u8..60,
        0u32..1_000_000_000,
        -1439i16..=1439,
    )
        .prop_map(
            |(date, hour, minute, second, nanos, offset_minutes)| DateTimeOffset {
                date,
                hour,
                minute,
                second,
                nanos,
                offset_minutes,
            },
        )
}

fn literal() -> impl Strategy<Value = Literal> {
    prop_oneof![
        Just(Literal::Null),
        any::<bool>().prop_map(Literal::Boolean),
        any::<i64>().prop_map(Literal::Integer),
        "-?[0-9]{1,6}(\\.[0-9]{1,6})?([eE][+-]?[0-9]{1,3})?"
            .prop_filter("a decimal, not an integer", |s| s.contains(['.', 'e', 'E']))
            .prop_map(Literal::Decimal),
        any::<String>().prop_map(Literal::String),
        any::<u128>().prop_map(|g| Literal::Guid(Guid(g))),
        date_time().prop_map(Literal::DateTimeOffset),
        date().prop_map(Literal::Date),
    ]
}

fn expr() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        literal().prop_map(Expr::Literal),
        path().prop_map(Expr::Path),
    ];
    leaf.prop_recursive(4, 48, 4, |inner| {
        let op = prop::sample::select(vec![
            CompareOp::Eq,
            CompareOp::Ne,
            CompareOp::Gt,
            CompareOp::Ge,
            CompareOp::Lt,
            CompareOp::Le,
        ]);
        let call = (
            prop::sample::select(Function::ALL.to_vec()),
            prop::collection::vec(inner.clone(), 3),
        )
            .prop_map(|(function, mut args)| {
                let (min, max) = function.arity();
                args.truncate(if args.len() > max {
                    max
                } else {
                    min.max(args.len())
                });
                Expr::Call { function, args }
            });
        let lambda = (
            path(),
            prop::sample::select(vec![LambdaKind::Any, LambdaKind::All]),
            prop::option::of((identifier(), inner.clone())),
        )
            .prop_map(|(path, kind, body)| {
                let body = match (kind, body) {
                    (LambdaKind::All, None) => Some(LambdaBody {
                        variable: "x".into(),
                        predicate: Box::new(Expr::Literal(Literal::Boolean(true))),
                    }),
                    (_, body) => body.map(|(variable, predicate)| LambdaBody {
                        variable,
                        predicate: Box::new(predicate),
                    }),
                };
                Expr::Lambda { path, kind, body }
            });
        prop_oneof![
            (inner.clone(), op, inner.clone()).prop_map(|(l, op, r)| Expr::compare(l, op, r)),
            (inner.clone(), inner.clone()).prop_map(|(l, r)| Expr::And(Box::new(l), Box::new(r))),
            (inner.clone(), inner.clone()).prop_map(|(l, r)| Expr::Or(Box::new(l), Box::new(r))),
            inner.clone().prop_map(|e| Expr::Not(Box::new(e))),
            (inner.clone(), prop::collection::vec(inner.clone(), 1..4)).prop_map(
                |(value, list)| Expr::In {
                    value: Box::new(value),
                    list
                }
            ),
            call,
            lambda,
        ]
    })
}

fn options() -> impl Strategy<Value = QueryOptions> {
    (
        prop::option::of(expr()),
        prop::option::of(prop::collection::vec(
            prop_oneof![Just(SelectItem::All), path().prop_map(SelectItem::Path)],
            1..4,
        )),
        prop::collection::vec((expr(), any::<bool>()), 0..3),
        prop::option::of(any::<u64>()),
        prop::option::of(any::<u64>()),
        any::<bool>(),
        prop::option::of("[ -~]{1,20}"),
        prop::collection::vec(("[a-z@][ -~]{0,8}", any::<String>()), 0..3),
        prop::collection::vec(expand_item(), 0..3),
    )
        .prop_map(
            |(filter, select, orderby, top, skip, count, skiptoken, custom, expand)| QueryOptions {
                filter,
                select,
                orderby: orderby
                    .into_iter()
                    .map(|(expr, descending)| OrderBy { expr, descending })
                    .collect(),
                top,
                skip,
                count,
                skiptoken,
                custom,
                expand,
                ..QueryOptions::default()
            },
        )
}

fn expand_item() -> impl Strategy<Value = ExpandItem> {
    (
        prop_oneof![Just(vec!["*".to_owned()]), path()],
        prop::option::of(expr()),
        prop::option::of(prop::collection::vec(
            path().prop_map(SelectItem::Path),
            1..3,
        )),
        prop::collection::vec((expr(), any::<bool>()), 0..2),
        prop::option::of(any::<u64>()),
        any::<bool>(),
    )
        .prop_map(|(path, filter, select, orderby, top, count)| ExpandItem {
            path,
            options: QueryOptions {
                filter,
                select,
                orderby: orderby
                    .into_iter()
                    .map(|(expr, descending)| OrderBy { expr, descending })
                    .collect(),
                top,
                count,
                ..QueryOptions::default()
            },
        })
}

/// Fragments of OData text: random sequences of them reach deeper than random characters.
fn soup() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "$filter=",
        "$orderby=",
        "$select=",
        "$expand=",
        "$top=",
        "$skip=",
        "$count=",
        "$skiptoken=",
        "&",
        "=",
        "%20",
        " ",
        "(",
        ")",
        ",",
        "/",
        ":",
        ";",
        "'",
        "''",
        "A",
        "B/C",
        "eq",
        "ne",
        "gt",
        "and",
        "or",
        "not",
        "in",
        "any",
        "all",
        "x:",
        "contains",
        "substring",
        "tolower",
        "1",
        "-2",
        "1.5",
        "1e",
        "true",
        "null",
        "2026-12-01",
        "2026-12-01T08:00:00Z",
        "2026-12-01T08:00",
        "+01:00",
        "3f2b1c4d-0000-4a5b-9c8d-abcdef012345",
        "%",
        "%2",
        "%FF",
        "desc",
        "*",
        "$it",
        "é",
    ]);
    prop::collection::vec(pieces, 0..40).prop_map(|p| p.concat())
}

fn rows() -> Vec<serde_json::Value> {
    vec![
        json!({"A": 1, "B": {"C": "x"}, "Tags": ["a"], "At": "2026-12-01T08:00:00Z"}),
        json!({"A": null, "B": null, "Tags": [{"A": 2}], "At": "2026-12-02"}),
        json!({"A": "s", "Id": "3f2b1c4d-0000-4a5b-9c8d-abcdef012345"}),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn rendered_expressions_parse_back(e in expr()) {
        let text = e.to_string();
        let options = QueryOptions { filter: Some(e.clone()), ..QueryOptions::default() };
        let parsed = QueryOptions::parse(&options.to_query_string())
            .map_err(|err| TestCaseError::fail(format!("{text}: {err}")))?;
        prop_assert_eq!(parsed.filter, Some(e), "{}", text);
    }

    #[test]
    fn rendered_options_parse_back(o in options()) {
        let query = o.to_query_string();
        let parsed = QueryOptions::parse(&query)
            .map_err(|err| TestCaseError::fail(format!("{query}: {err}")))?;
        prop_assert_eq!(parsed, o, "{}", query);
    }

    #[test]
    fn any_text_is_read_or_refused_without_panicking(text in any::<String>()) {
        let _ = QueryOptions::parse(&text);
    }

    #[test]
    fn odata_like_text_is_read_or_refused_and_what_is_read_evaluates(text in soup()) {
        match QueryOptions::parse(&text) {
            Ok(options) => {
                let again = QueryOptions::parse(&options.to_query_string());
                prop_assert_eq!(again.as_ref(), Ok(&options));
                if let Err(err) = apply(&rows(), &options, 2) {
                    let _ = ODataError::from(&err).to_json();
                }
            }
            Err(err) => {
                let _ = ODataError::from(&err).to_json();
            }
        }
    }
}
