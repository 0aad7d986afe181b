//! Evaluation over JSON rows: comparison semantics per type, nulls, functions, `in`,
//! lambdas; `apply` over an entity set: order (several keys, nulls first), count, skip/top,
//! projection, expansion and server-driven paging that resumes deterministically.

use odata::eval::{Paging, apply, apply_paged, matches};
use odata::{EvalError, QueryOptions};
use serde_json::{Value, json};

fn opts(query: &str) -> QueryOptions {
    QueryOptions::parse(&query.replace(' ', "%20")).unwrap_or_else(|e| panic!("{query}: {e}"))
}

fn test(filter: &str, row: &Value) -> Result<bool, EvalError> {
    matches(
        opts(&format!("$filter={filter}")).filter.as_ref().unwrap(),
        row,
    )
}

fn holds(filter: &str, row: &Value) -> bool {
    test(filter, row).unwrap_or_else(|e| panic!("{filter}: {e}"))
}

fn order() -> Value {
    json!({
        "Id": "3F2B1C4D-0000-4A5B-9C8D-ABCDEF012345",
        "NId": "WO-1001",
        "Name": "Gear Box",
        "Quantity": 12,
        "Weight": 2.5,
        "Released": true,
        "Note": null,
        "ModifiedOn": "2026-12-01T09:30:00.250+01:00",
        "DueDate": "2026-12-24",
        "Tags": ["rush", "export"],
        "Operations": [
            {"NId": "OP10", "Status": "Done", "Qty": 12},
            {"NId": "OP20", "Status": "Active", "Qty": 5}
        ],
        "Address": {"City": "Linz", "Zip": "4020"}
    })
}

#[test]
fn comparisons_per_type() {
    let row = order();
    assert!(holds("Quantity eq 12", &row));
    assert!(holds("Quantity gt 11.5 and Quantity le 12", &row));
    assert!(holds("Weight lt 3 and Weight ge 2.5", &row));
    assert!(holds(
        "Name eq 'Gear Box' and Name gt 'Gear' and Name lt 'H'",
        &row
    ));
    assert!(holds("Released eq true and Released ne false", &row));
    assert!(holds("Released", &row));
    assert!(holds("Address/City eq 'Linz'", &row));
    assert!(!holds("Address/Street eq 'x'", &row));
}

#[test]
fn date_times_compare_as_instants_not_strings() {
    let row = order();
    // 09:30+01:00 is 08:30Z: as text "2026-12-01T09…" > "2026-12-01T08:45Z", as instants less.
    assert!(holds("ModifiedOn lt 2026-12-01T08:45:00Z", &row));
    assert!(holds("ModifiedOn eq 2026-12-01T08:30:00.25Z", &row));
    assert!(holds("ModifiedOn gt 2026-12-01T08:30:00.249999999Z", &row));
    assert!(holds("ModifiedOn ge 2026-12-01T03:30:00.250-05:00", &row));
    assert!(holds(
        "DueDate gt 2026-12-23 and DueDate le 2026-12-24",
        &row
    ));
    assert!(holds(
        "year(ModifiedOn) eq 2026 and hour(ModifiedOn) eq 9",
        &row
    ));
    assert!(holds("month(DueDate) eq 12 and day(DueDate) eq 24", &row));
    let err = test("Name gt 2026-12-01T08:00:00Z", &row).unwrap_err();
    assert!(matches!(err, EvalError::TypeMismatch { .. }), "{err}");
}

#[test]
fn guids_compare_without_regard_to_case() {
    let row = order();
    assert!(holds("Id eq 3f2b1c4d-0000-4a5b-9c8d-abcdef012345", &row));
    assert!(holds("Id ne 3f2b1c4d-0000-4a5b-9c8d-abcdef012346", &row));
    assert!(holds(
        "Id in (00000000-0000-0000-0000-000000000000, 3F2B1C4D-0000-4A5B-9C8D-ABCDEF012345)",
        &row
    ));
    assert!(test("NId eq 3f2b1c4d-0000-4a5b-9c8d-abcdef012345", &row).is_err());
}

#[test]
fn nulls_follow_odata() {
    let row = order();
    assert!(holds("Note eq null", &row));
    assert!(holds("Missing eq null", &row));
    assert!(holds("Name ne null", &row));
    assert!(!holds("Note eq 'x'", &row));
    assert!(holds("Note ne 'x'", &row));
    assert!(!holds("Note gt 1", &row) && !holds("Note lt 1", &row));
    assert!(holds("Note ge null and Note le null", &row));
    assert!(!holds("Note gt null", &row));
    // null propagates through functions and logic; a null filter keeps nothing
    assert!(!holds("contains(Note,'x')", &row));
    assert!(!holds("not contains(Note,'x')", &row));
    assert!(holds("contains(Note,'x') or true", &row));
    assert!(!holds("contains(Note,'x') and true", &row));
    assert!(holds("not (contains(Note,'x') and false)", &row));
}

#[test]
fn string_functions() {
    let row = order();
    assert!(holds("contains(Name,'ar B')", &row));
    assert!(holds(
        "startswith(NId,'WO-') and endswith(NId,'1001')",
        &row
    ));
    assert!(holds(
        "tolower(Name) eq 'gear box' and toupper(Name) eq 'GEAR BOX'",
        &row
    ));
    assert!(holds("length(Name) eq 8 and length(Tags) eq 2", &row));
    assert!(holds(
        "indexof(Name,'Box') eq 5 and indexof(Name,'z') eq -1",
        &row
    ));
    assert!(holds(
        "substring(Name,5) eq 'Box' and substring(Name,0,4) eq 'Gear'",
        &row
    ));
    assert!(holds(
        "concat(NId,'/x') eq 'WO-1001/x' and trim('  a ') eq 'a'",
        &row
    ));
    assert!(!holds("contains(Name,'gear')", &row));
    let err = test("contains(Quantity,'1')", &row).unwrap_err();
    assert!(matches!(err, EvalError::WrongType { .. }), "{err}");
    assert!(test("Name", &row).is_err());
}

#[test]
fn in_and_lambdas() {
    let row = order();
    assert!(holds("NId in ('WO-1000','WO-1001')", &row));
    assert!(!holds("NId in ('WO-1000')", &row));
    assert!(holds("Note in (null)", &row));
    assert!(holds(
        "Operations/any(o: o/Status eq 'Active' and o/Qty lt 10)",
        &row
    ));
    assert!(!holds(
        "Operations/any(o: o/Status eq 'Active' and o/Qty gt 10)",
        &row
    ));
    assert!(holds("Operations/all(o: o/Qty ge 5)", &row));
    assert!(!holds("Operations/all(o: o/Status eq 'Done')", &row));
    assert!(holds("Tags/any(t: t eq 'rush')", &row));
    assert!(holds("Tags/all(t: length(t) ge 4)", &row));
    assert!(holds("Operations/any()", &row));
    // the outer row and nested variables stay in scope
    assert!(holds(
        "Operations/any(o: o/Qty eq $it/Quantity and Tags/any(t: t eq 'export'))",
        &row
    ));
    let empty = json!({"Tags": [], "Gone": null});
    assert!(!holds("Tags/any()", &empty) && !holds("Tags/any(t: t eq 'x')", &empty));
    assert!(holds("Tags/all(t: t eq 'x')", &empty));
    assert!(holds("Gone/all(t: t eq 'x')", &empty) && !holds("Gone/any()", &empty));
    let err = test("Name/any(x: x eq 'G')", &row).unwrap_err();
    assert!(matches!(err, EvalError::NotACollection { .. }), "{err}");
}

fn rows() -> Vec<Value> {
    vec![
        json!({"Id": 1, "Line": "B", "Qty": 5, "At": "2026-12-01T10:00:00Z"}),
        json!({"Id": 2, "Line": "A", "Qty": null, "At": "2026-12-01T09:00:00Z"}),
        json!({"Id": 3, "Line": "A", "Qty": 7, "At": "2026-12-01T10:30:00+02:00"}),
        json!({"Id": 4, "Line": "B", "Qty": 5, "At": "2026-12-01T07:00:00Z"}),
        json!({"Id": 5, "Line": null, "Qty": 1, "At": "2026-12-01T11:00:00Z"}),
    ]
}

fn ids(page: &odata::Page) -> Vec<i64> {
    page.rows
        .iter()
        .map(|r| r["Id"].as_i64().unwrap())
        .collect()
}

#[test]
fn ordering_by_several_keys_with_nulls_first_ascending() {
    let page = apply(&rows(), &opts("$orderby=Line,Qty desc,Id"), 0).unwrap();
    assert_eq!(ids(&page), vec![5, 3, 2, 1, 4]);
    let page = apply(&rows(), &opts("$orderby=Line desc,Qty"), 0).unwrap();
    assert_eq!(ids(&page)[..3], [1, 4, 2]);
    assert_eq!(page.rows[4]["Id"], 5, "nulls last descending");
    // date-times order as instants: 10:30+02:00 is 08:30Z
    let page = apply(&rows(), &opts("$orderby=At"), 0).unwrap();
    assert_eq!(ids(&page), vec![4, 3, 2, 1, 5]);
    let mixed = vec![json!({"V": 1}), json!({"V": "a"})];
    assert!(apply(&mixed, &opts("$orderby=V"), 0).is_err());
}

#[test]
fn count_skip_top_and_select() {
    let page = apply(
        &rows(),
        &opts("$filter=Qty ge 5&$count=true&$orderby=Id&$skip=1&$top=1&$select=Id,Qty"),
        0,
    )
    .unwrap();
    assert_eq!(page.count, Some(3));
    assert_eq!(page.rows, vec![json!({"Id": 3, "Qty": 7})]);
    assert!(page.next.is_none(), "$top reached: no next page");
    let page = apply(&rows(), &opts("$skip=10"), 0).unwrap();
    assert!(page.rows.is_empty() && page.next.is_none());
    let page = apply(&rows(), &opts("$top=0&$count=true"), 0).unwrap();
    assert_eq!((page.rows.len(), page.count), (0, Some(5)));
    let err = apply(&rows(), &opts("$filter=Line gt 1"), 0).unwrap_err();
    assert!(matches!(err, EvalError::TypeMismatch { .. }));
}

#[test]
fn select_projects_paths_and_keeps_annotations_only_of_selected_properties() {
    let row = json!({
        "@odata.etag": "W/\"1\"", "Id": 1, "Name": "x", "Name@odata.type": "#String",
        "Qty@odata.type": "#Int32", "Qty": 3, "Address": {"City": "Linz", "Zip": "4020"}
    });
    let page = apply(
        std::slice::from_ref(&row),
        &opts("$select=Id,Name,Address/City"),
        0,
    )
    .unwrap();
    assert_eq!(
        page.rows[0],
        json!({"@odata.etag": "W/\"1\"", "Id": 1, "Name": "x", "Name@odata.type": "#String",
               "Address": {"City": "Linz"}})
    );
    let page = apply(std::slice::from_ref(&row), &opts("$select=*"), 0).unwrap();
    assert_eq!(page.rows[0], row);
}

#[test]
fn expand_applies_nested_options() {
    let row = order();
    let page = apply(
        &[row],
        &opts("$select=NId&$expand=Operations($filter=Qty gt 1;$orderby=Qty;$select=NId;$count=true),Address($select=City)"),
        0,
    )
    .unwrap();
    assert_eq!(
        page.rows[0],
        json!({
            "NId": "WO-1001",
            "Operations@odata.count": 2,
            "Operations": [{"NId": "OP20"}, {"NId": "OP10"}],
            "Address": {"City": "Linz"}
        })
    );
}

/// Follows next pages from `first` to the end, collecting ids.
fn all_pages(rows: &[Value], first: QueryOptions, paging: &Paging) -> (Vec<i64>, usize) {
    let (mut seen, mut pages, mut options) = (Vec::new(), 0, first);
    loop {
        let page = apply_paged(rows, &options, paging).unwrap();
        pages += 1;
        assert!(page.rows.len() <= paging.max_page);
        seen.extend(ids(&page));
        match page.next {
            // the next link as a client sends it back: through the query string
            Some(next) => options = QueryOptions::parse(&next.to_query_string()).unwrap(),
            None => return (seen, pages),
        }
    }
}

#[test]
fn server_driven_paging_resumes_deterministically() {
    let rows: Vec<Value> = (1..=23)
        .map(|i| json!({"Id": i, "Group": i % 3, "Name": format!("n{i}")}))
        .collect();
    let paging = Paging {
        max_page: 5,
        key: vec!["Id".into()],
    };
    let (seen, pages) = all_pages(&rows, opts("$orderby=Group desc&$count=true"), &paging);
    assert_eq!(pages, 5);
    let mut expected: Vec<i64> = (1..=23).collect();
    expected.sort_by_key(|i| (-(i % 3), *i));
    assert_eq!(seen, expected);

    // $top spans pages; $skip is applied once
    let (seen, pages) = all_pages(&rows, opts("$orderby=Id&$skip=2&$top=12"), &paging);
    assert_eq!(seen, (3..=14).collect::<Vec<_>>());
    assert_eq!(pages, 3);

    // the same token gives the same page, and rows inserted before it do not shift it
    let first = apply_paged(&rows, &opts("$orderby=Id"), &paging).unwrap();
    let next = first.next.unwrap();
    let again = apply_paged(&rows, &next, &paging).unwrap();
    let mut grown = rows.clone();
    grown.insert(0, json!({"Id": 0, "Group": 0}));
    let after_insert = apply_paged(&grown, &next, &paging).unwrap();
    assert_eq!(ids(&again), vec![6, 7, 8, 9, 10]);
    assert_eq!(ids(&after_insert), ids(&again));
    assert_eq!(
        again.next.unwrap().skiptoken,
        after_insert.next.unwrap().skiptoken
    );

    // without an entity key, the row fingerprint still makes the order total
    let (mut seen, _) = all_pages(
        &rows,
        opts("$orderby=Group"),
        &Paging {
            max_page: 4,
            key: vec![],
        },
    );
    seen.sort();
    assert_eq!(seen, (1..=23).collect::<Vec<_>>());
}

#[test]
fn foreign_or_forged_skiptokens_are_refused() {
    let rows: Vec<Value> = (1..=9).map(|i| json!({"Id": i})).collect();
    let first = apply(&rows, &opts("$orderby=Id"), 3).unwrap();
    let token = first.next.unwrap().skiptoken.unwrap();
    let other = opts(&format!("$orderby=Id desc&$skiptoken={token}"));
    let err = apply(&rows, &other, 3).unwrap_err();
    assert!(err.to_string().contains("another query"), "{err}");
    for forged in ["abc", "!!!!", "W10"] {
        let err = apply(&rows, &opts(&format!("$skiptoken={forged}")), 3).unwrap_err();
        assert!(matches!(err, EvalError::BadSkipToken(_)), "{forged}: {err}");
    }
}
