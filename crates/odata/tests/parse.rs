//! `QueryOptions::parse`: every system query option, percent-decoding, the `$filter` grammar
//! (precedence, literals, functions, `in`, lambdas) and the errors that name the option, the
//! position and what was expected.

use odata::{CompareOp, ExpandItem, Expr, Function, LambdaKind, Literal, QueryError, QueryOptions};
use odata::{Date, DateTimeOffset, Guid, OrderBy, SelectItem};

fn filter(text: &str) -> Expr {
    let query = format!("$filter={}", text.replace(' ', "%20"));
    QueryOptions::parse(&query)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .filter
        .unwrap()
}

fn filter_error(text: &str) -> QueryError {
    let query = format!("$filter={}", text.replace(' ', "%20"));
    QueryOptions::parse(&query).expect_err(text)
}

fn path(p: &str) -> Expr {
    Expr::path(p)
}

fn lit(l: Literal) -> Expr {
    Expr::Literal(l)
}

#[test]
fn every_option_is_read() {
    let options = QueryOptions::parse(
        "$filter=Quantity%20gt%205&$select=Id,NId,Address/City&$orderby=ModifiedOn%20desc,Id\
         &$top=10&$skip=20&$count=true&$expand=Operations($select=NId;$top=2)&$skiptoken=abc\
         &$format=json&sap-client=100",
    )
    .unwrap();
    assert_eq!(
        options.filter,
        Some(Expr::compare(
            path("Quantity"),
            CompareOp::Gt,
            lit(Literal::Integer(5))
        ))
    );
    assert_eq!(
        options.select,
        Some(vec![
            SelectItem::Path(vec!["Id".into()]),
            SelectItem::Path(vec!["NId".into()]),
            SelectItem::Path(vec!["Address".into(), "City".into()]),
        ])
    );
    assert_eq!(
        options.orderby,
        vec![
            OrderBy {
                expr: path("ModifiedOn"),
                descending: true
            },
            OrderBy {
                expr: path("Id"),
                descending: false
            },
        ]
    );
    assert_eq!(
        (options.top, options.skip, options.count),
        (Some(10), Some(20), true)
    );
    assert_eq!(options.skiptoken.as_deref(), Some("abc"));
    assert_eq!(options.format.as_deref(), Some("json"));
    assert_eq!(options.custom, vec![("sap-client".into(), "100".into())]);
    let [
        ExpandItem {
            path,
            options: nested,
        },
    ] = options.expand.as_slice()
    else {
        panic!("{:?}", options.expand)
    };
    assert_eq!(path, &vec!["Operations".to_string()]);
    assert_eq!(nested.top, Some(2));
    assert_eq!(
        nested.select,
        Some(vec![SelectItem::Path(vec!["NId".into()])])
    );
}

#[test]
fn the_query_string_round_trips() {
    let text = "$filter=Name%20eq%20'a%26b%3Dc'%20and%20D%20gt%202026-12-01T08:00:00%2B01:00\
                &$select=*&$orderby=tolower(Name)%20desc&$top=3&$expand=Items($filter=Q%20eq%201;$count=true),*\
                &$skiptoken=x%2By&k=v%20w";
    let options = QueryOptions::parse(text).unwrap();
    let Some(Expr::And(left, _)) = &options.filter else {
        panic!()
    };
    assert_eq!(
        **left,
        Expr::compare(
            path("Name"),
            CompareOp::Eq,
            lit(Literal::String("a&b=c".into()))
        )
    );
    assert_eq!(options.skiptoken.as_deref(), Some("x+y"));
    let again = QueryOptions::parse(&options.to_query_string()).unwrap();
    assert_eq!(again, options);
}

#[test]
fn option_names_ignore_case_and_custom_parameters_are_kept() {
    let options = QueryOptions::parse("$TOP=1&$Filter=A%20eq%201&x=1&x=2&&").unwrap();
    assert_eq!(options.top, Some(1));
    assert!(options.filter.is_some());
    assert_eq!(options.custom.len(), 2);
}

#[test]
fn literals_of_every_type() {
    let cases = [
        ("'it''s'", Literal::String("it's".into())),
        ("42", Literal::Integer(42)),
        ("-7", Literal::Integer(-7)),
        ("1.25", Literal::Decimal("1.25".into())),
        ("-2.5E-3", Literal::Decimal("-2.5E-3".into())),
        ("true", Literal::Boolean(true)),
        ("false", Literal::Boolean(false)),
        ("null", Literal::Null),
        (
            "3F2B1C4D-0000-4A5B-9C8D-ABCDEF012345",
            Literal::Guid(Guid::parse("3f2b1c4d-0000-4a5b-9c8d-abcdef012345").unwrap()),
        ),
        (
            "2026-12-01T08:00:00.000Z",
            Literal::DateTimeOffset(DateTimeOffset::parse("2026-12-01T08:00:00Z").unwrap()),
        ),
        (
            "2026-12-01T08:00:00.5-05:30",
            Literal::DateTimeOffset(
                DateTimeOffset::parse("2026-12-01T08:00:00.500-05:30").unwrap(),
            ),
        ),
        ("2026-12-01", Literal::Date(Date::new(2026, 12, 1).unwrap())),
    ];
    for (text, expected) in cases {
        assert_eq!(
            filter(&format!("X eq {text}")),
            Expr::compare(path("X"), CompareOp::Eq, lit(expected)),
            "{text}"
        );
    }
}

#[test]
fn precedence_follows_the_odata_table() {
    // and binds tighter than or
    let e = filter("A eq 1 or B eq 2 and C eq 3");
    assert!(
        matches!(&e, Expr::Or(_, right) if matches!(**right, Expr::And(..))),
        "{e:?}"
    );
    // relational binds tighter than equality
    let e = filter("A gt 1 eq true");
    assert_eq!(
        e,
        Expr::compare(
            Expr::compare(path("A"), CompareOp::Gt, lit(Literal::Integer(1))),
            CompareOp::Eq,
            lit(Literal::Boolean(true))
        )
    );
    // not binds tighter than comparisons; parentheses group
    let e = filter("not (A eq 1)");
    assert!(matches!(&e, Expr::Not(inner) if matches!(**inner, Expr::Compare { .. })));
    let e = filter("not contains(Name,'x')");
    assert!(matches!(&e, Expr::Not(inner) if matches!(**inner, Expr::Call { .. })));
    // in is primary: `not A in (…)` negates the membership
    let e = filter("not Status in ('A','B')");
    assert!(matches!(&e, Expr::Not(inner) if matches!(**inner, Expr::In { .. })));
    // left associativity
    let e = filter("A eq 1 or B eq 2 or C eq 3");
    assert!(matches!(&e, Expr::Or(left, _) if matches!(**left, Expr::Or(..))));
}

#[test]
fn every_comparison_operator() {
    for (word, op) in [
        ("eq", CompareOp::Eq),
        ("ne", CompareOp::Ne),
        ("gt", CompareOp::Gt),
        ("ge", CompareOp::Ge),
        ("lt", CompareOp::Lt),
        ("le", CompareOp::Le),
    ] {
        assert_eq!(
            filter(&format!("Q {word} 1")),
            Expr::compare(path("Q"), op, lit(Literal::Integer(1)))
        );
    }
}

#[test]
fn functions_in_and_lambdas() {
    assert_eq!(
        filter("startswith(tolower(Name),'ab')"),
        Expr::Call {
            function: Function::StartsWith,
            args: vec![
                Expr::Call {
                    function: Function::ToLower,
                    args: vec![path("Name")]
                },
                lit(Literal::String("ab".into()))
            ]
        }
    );
    assert_eq!(
        filter("Status in ('Released', 'Active')"),
        Expr::In {
            value: Box::new(path("Status")),
            list: vec![
                lit(Literal::String("Released".into())),
                lit(Literal::String("Active".into()))
            ]
        }
    );
    let e = filter("Operations/any(o: o/Status eq 'Done' and o/Qty gt 1)");
    let Expr::Lambda {
        path: p,
        kind: LambdaKind::Any,
        body: Some(body),
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!(p, &vec!["Operations".to_string()]);
    assert_eq!(body.variable, "o");
    assert!(matches!(*body.predicate, Expr::And(..)));
    assert!(matches!(
        filter("Tags/all(t:t ne 'x')"),
        Expr::Lambda {
            kind: LambdaKind::All,
            ..
        }
    ));
    assert!(matches!(
        filter("Header/Lines/any()"),
        Expr::Lambda { body: None, ref path, .. } if path.len() == 2
    ));
    assert!(matches!(
        filter("substring(Name,1,2) eq 'b'"),
        Expr::Compare { .. }
    ));
    assert!(matches!(
        filter("year(ModifiedOn) eq 2026"),
        Expr::Compare { .. }
    ));
}

fn syntax(error: &QueryError) -> (&str, usize, &str, &str) {
    match error {
        QueryError::Syntax {
            option,
            position,
            expected,
            found,
        } => (option, *position, expected, found),
        other => panic!("not a syntax error: {other}"),
    }
}

#[test]
fn errors_name_the_option_the_position_and_what_was_expected() {
    let e = filter_error("Name eq");
    let (option, position, expected, found) = syntax(&e);
    assert_eq!((option, position, found), ("$filter", 7, "end of input"));
    assert!(expected.contains("operand"), "{e}");

    let e = filter_error("Name eq 'x' Qty");
    assert_eq!(syntax(&e).1, 12);
    assert!(syntax(&e).2.contains("operator"), "{e}");

    let e = filter_error("(A eq 1");
    assert!(syntax(&e).2.contains("')'"), "{e}");

    let e = filter_error("frobnicate(A)");
    assert!(syntax(&e).2.contains("known function"), "{e}");

    let e = filter_error("contains(A)");
    assert!(syntax(&e).2.contains("2 argument"), "{e}");

    let e = filter_error("A in ()");
    assert!(syntax(&e).2.contains("at least one"), "{e}");

    let e = filter_error("Items/any(x x eq 1)");
    assert!(syntax(&e).2.contains("':'"), "{e}");

    let deep = format!("{}A eq 1{}", "(".repeat(200), ")".repeat(200));
    assert!(filter_error(&deep).to_string().contains("nesting"));
    let nots = format!("{}A", "not ".repeat(200));
    assert!(filter_error(&nots).to_string().contains("nesting"));

    let e = QueryOptions::parse("$top=-1").unwrap_err();
    assert_eq!(syntax(&e).0, "$top");
    let e = QueryOptions::parse("$count=yes").unwrap_err();
    assert_eq!(syntax(&e).0, "$count");
    let e = QueryOptions::parse("$orderby=A%20up").unwrap_err();
    assert_eq!(syntax(&e).1, 2);
    let e = QueryOptions::parse("$select=A,").unwrap_err();
    assert_eq!(syntax(&e).0, "$select");
}

#[test]
fn option_level_errors() {
    assert_eq!(
        QueryOptions::parse("$search=x").unwrap_err(),
        QueryError::UnknownOption("$search".into())
    );
    assert!(
        QueryOptions::parse("$search=x")
            .unwrap_err()
            .to_string()
            .contains("$filter")
    );
    assert_eq!(
        QueryOptions::parse("$top=1&$top=2").unwrap_err(),
        QueryError::Repeated("$top".into())
    );
    assert!(matches!(
        QueryOptions::parse("$filter=A%2").unwrap_err(),
        QueryError::Encoding { position: 9, .. }
    ));
    assert!(matches!(
        QueryOptions::parse("$filter=%FF").unwrap_err(),
        QueryError::Encoding { .. }
    ));
    assert!(matches!(
        QueryOptions::parse("$expand=A($expand=B)").unwrap_err(),
        QueryError::Invalid { .. }
    ));
    let e = QueryOptions::parse("$expand=A($filter=Q%20eq)").unwrap_err();
    let (option, position, _, _) = syntax(&e);
    assert!(option.starts_with("$expand"), "{e}");
    assert_eq!(position, 14, "{e}"); // the `)` after `A($filter=Q eq`
    assert!(QueryOptions::parse("$expand=A($top=1").is_err());
    assert!(QueryOptions::parse("$expand=A($foo=1)").is_err());
    assert!(QueryOptions::parse("$skiptoken=").is_err());
}

#[test]
fn rendering_reads_back() {
    for text in [
        "A eq 1 or B eq 2 and C eq 3",
        "(A eq 1 or B eq 2) and C eq 3",
        "not (A eq 1)",
        "(not A) eq true",
        "A gt 1 eq (B lt 2)",
        "Items/any(i:i/Tags/all(t:t ne 'it''s'))",
        "Id in (3f2b1c4d-0000-4a5b-9c8d-abcdef012345,null) and D ge 2026-12-01",
        "concat(trim(A),'x') eq 'y' and indexof(A,'b') ge -1",
    ] {
        let parsed = filter(text);
        let rendered = parsed.to_string();
        assert_eq!(filter(&rendered), parsed, "{text} → {rendered}");
    }
    assert_eq!(
        filter("(A eq 1 or B eq 2) and C eq 3").to_string(),
        "(A eq 1 or B eq 2) and C eq 3"
    );
}

#[test]
fn the_fuzz_seeds_are_valid_queries() {
    // fuzz/corpus/odata_query/seed_* (fuzz/seed.sh writes them): they must be read, so that
    // fuzzing starts from inputs that reach evaluation.
    for seed in [
        "$filter=ModifiedOn%20gt%202026-12-01T08:00:00.000Z%20and%20Id%20ne%203f2b1c4d-0000-4a5b-9c8d-abcdef012345&$orderby=ModifiedOn,Id&$top=100&$count=true",
        "$filter=Items/any(i:i/Q%20gt%201)%20and%20not%20contains(tolower(Name),'a''b')%20or%20Id%20in%20(1,2)&$select=Id,Name,Site/City&$skip=1",
        "$expand=Items($filter=Q%20ge%202.5E-3;$select=Q;$orderby=Q%20desc;$top=2;$count=true),*&$filter=Due%20le%202026-12-02%20and%20Name%20eq%20null&$format=json&sap-client=100",
    ] {
        QueryOptions::parse(seed).unwrap_or_else(|e| panic!("{seed}: {e}"));
    }
}
