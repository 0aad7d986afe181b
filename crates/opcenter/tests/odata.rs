//! The rows `Tables` hands out are queryable as the OData source queries them: a change feed
//! by `ModifiedOn` with ties ordered by `Id`, unquoted GUIDs and date-times in `$filter`,
//! server-driven paging — evaluated by the `odata` crate over a simulator run's rows.

use odata::QueryOptions;
use odata::eval::{Page, Paging, apply_paged};
use opcenter::{EntitySet, Tables};
use serde_json::Value;
use sim::SimOptions;

fn tables() -> Tables {
    let catalog = sim::reference_catalog();
    let options = SimOptions {
        seed: 5,
        days: 1.0,
        ..SimOptions::default()
    };
    let out = sim::simulate(&catalog, &options, None, |_| {}).unwrap();
    let mut tables = Tables::new(&catalog, options.start);
    for event in &out.events {
        tables.apply(event).unwrap();
    }
    tables
}

fn query(rows: &[Value], text: &str, max_page: usize) -> Page {
    let options = QueryOptions::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
    let paging = Paging {
        max_page,
        key: vec!["Id".into()],
    };
    apply_paged(rows, &options, &paging).unwrap()
}

#[test]
fn a_change_feed_over_the_rows_reads_every_row_once_in_order() {
    let tables = tables();
    for set in [
        EntitySet::WorkOrderOperation,
        EntitySet::MtuOperationTracking,
    ] {
        let rows = tables.set_rows(set);
        assert!(rows.len() > 20, "{set}: {}", rows.len());
        let mid = rows[rows.len() / 2]["ModifiedOn"]
            .as_str()
            .unwrap()
            .to_owned();
        let mut read = Vec::new();
        let mut page = query(
            &rows,
            &format!("$filter=ModifiedOn gt {mid}&$orderby=ModifiedOn,Id&$count=true"),
            7,
        );
        let total = page.count.unwrap();
        loop {
            read.extend(page.rows.iter().cloned());
            let Some(next) = page.next else { break };
            page = query(&rows, &next.to_query_string(), 7);
        }
        let expected: Vec<Value> = rows
            .iter()
            .filter(|r| r["ModifiedOn"].as_str().unwrap() > mid.as_str())
            .cloned()
            .collect();
        assert_eq!(read.len() as u64, total);
        assert_eq!(read, expected, "{set}");
    }
}

#[test]
fn rows_are_found_by_guid_and_typed_values() {
    let tables = tables();
    let rows = tables.set_rows(EntitySet::WorkOrder);
    let wanted = &rows[0];
    let id = wanted["Id"].as_str().unwrap();
    let page = query(&rows, &format!("$filter=Id eq {id}"), 0);
    assert_eq!(page.rows, vec![wanted.clone()]);
    let page = query(
        &rows,
        "$filter=Priority le 1 and Status ne 'Aborted'&$select=NId,Priority",
        0,
    );
    assert!(
        page.rows
            .iter()
            .all(|r| r["Priority"] == 1 && r.as_object().unwrap().len() == 2)
    );
    let equipment = tables.set_rows(EntitySet::EquipmentStatusHistory);
    let page = query(&equipment, "$filter=Status eq 'Down'&$count=true&$top=1", 0);
    let downs = equipment.iter().filter(|r| r["Status"] == "Down").count() as u64;
    assert_eq!(page.count, Some(downs));
}
