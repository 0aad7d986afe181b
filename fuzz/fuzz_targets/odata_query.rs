//! OData system query options (`odata::QueryOptions::parse`, the query string of an OData
//! request): any text is read or refused with a `QueryError`. What is read is written back
//! (`to_query_string`) and must read back the same, and applying it to a few rows (filter,
//! order, paging with a skiptoken, select, expand) returns or fails with an `EvalError`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mixplane_fuzz::text;
use odata::QueryOptions;
use serde_json::json;

fuzz_target!(|data: &[u8]| {
    let Some(text) = text(data) else { return };
    let Ok(options) = QueryOptions::parse(text) else {
        return;
    };
    let written = options.to_query_string();
    let again = QueryOptions::parse(&written)
        .unwrap_or_else(|e| panic!("{written:?} does not read back: {e}"));
    assert_eq!(again, options, "{written:?} reads back differently");
    let rows = [
        json!({"Id": 1, "Name": "a'b", "At": "2026-12-01T08:00:00Z", "Tags": ["x"],
               "Items": [{"Q": 2}], "Site": {"City": "Linz"}}),
        json!({"Id": 2, "Name": null, "At": "2026-12-01T09:00:00+02:00", "Tags": [],
               "Items": null, "Guid": "3f2b1c4d-0000-4a5b-9c8d-abcdef012345"}),
        json!({"Id": 3, "Name": "C", "Due": "2026-12-02", "Q": 1.5, "Ok": true}),
    ];
    if let Ok(page) = odata::eval::apply(&rows, &options, 2)
        && let Some(next) = page.next
    {
        let _ = odata::eval::apply(&rows, &next, 2);
    }
});
