//! The CAP conformance peer's model and sample data, made from the `opcenter` profile itself
//! so CAP serves exactly the sets, properties and rows the MES emulator serves: the CDS
//! model from `opcenter::sets`, the rows from `opcenter::Tables` folding half a day of the
//! reference plant's simulation. `cap_model.rs` checks the committed files are these
//! (`MIXPLANE_BLESS=1` rewrites them).
//!
//! One change to the rows: `WorkOrder`'s `ModifiedOn` is cut to the hour, so many rows share
//! one and paging must break ties by `Id` (work orders are distinct objects, so the order
//! they are read in within an hour does not change what they map to).

use model::Catalog;
use opcenter::{App, Edm, EntitySet, Tables};
use serde_json::Value;
use sim::SimOptions;

pub const DB_NAMESPACE: &str = "mixplane.opcenter";

/// The simulated plant the sample rows come from.
pub fn plant() -> (Catalog, SimOptions) {
    let options = SimOptions {
        seed: 14,
        days: 0.5,
        ..SimOptions::default()
    };
    (sim::reference_catalog(), options)
}

/// Every set's rows, as the peer serves them, in each set's feed order.
pub fn rows() -> Vec<(EntitySet, Vec<Value>)> {
    let (catalog, options) = plant();
    let out = sim::simulate(&catalog, &options, None, |_| {}).expect("valid options");
    let mut tables = Tables::new(&catalog, options.start);
    for event in &out.events {
        tables
            .apply(event)
            .expect("the simulator's events fit the tables");
    }
    EntitySet::ALL
        .into_iter()
        .map(|set| {
            let mut rows = tables.set_rows(set);
            if set == EntitySet::WorkOrder {
                for row in &mut rows {
                    let stamp = row["ModifiedOn"].as_str().unwrap();
                    let ms = stamp.parse::<jiff::Timestamp>().unwrap().as_millisecond();
                    let cut = jiff::Timestamp::from_millisecond(ms - ms % 3_600_000).unwrap();
                    row["ModifiedOn"] = Value::String(format!("{cut:.3}"));
                }
            }
            rows.sort_by(|a, b| {
                (a["ModifiedOn"].as_str(), a["Id"].as_str())
                    .cmp(&(b["ModifiedOn"].as_str(), b["Id"].as_str()))
            });
            (set, rows)
        })
        .collect()
}

fn cds_type(edm: Edm) -> &'static str {
    match edm {
        Edm::Guid => "UUID",
        Edm::String => "String",
        Edm::Int32 => "Integer",
        Edm::Int64 => "Integer64",
        Edm::Double => "Double",
        Edm::Boolean => "Boolean",
        Edm::DateTimeOffset => "Timestamp",
        Edm::ParameterValue => "ParameterValue",
    }
}

/// `db/schema.cds`: one entity per set.
pub fn schema_cds() -> String {
    let mut out = String::from(
        "// Generated from the `opcenter` profile by crates/connect/tests/cap_model.rs\n\
         // (MIXPLANE_BLESS=1 cargo test -p connect --test cap_model): do not edit.\n",
    );
    out.push_str(&format!("namespace {DB_NAMESPACE};\n\n"));
    out.push_str("type ParameterValue {\n  Name  : String;\n  Value : Double;\n}\n");
    for set in EntitySet::ALL {
        out.push_str(&format!("\nentity {} {{\n", set.name()));
        for property in set.properties() {
            let key = if property.name == "Id" {
                "key "
            } else {
                "    "
            };
            let many = if property.collection { "many " } else { "" };
            let null = if property.nullable || property.collection || property.name == "Id" {
                ""
            } else {
                " not null"
            };
            out.push_str(&format!(
                "  {key}{} : {many}{}{null};\n",
                property.name,
                cds_type(property.edm)
            ));
        }
        out.push_str("}\n");
    }
    out
}

/// `srv/services.cds`: one service per app at the reference's path, named like the
/// emulator's CSDL namespace.
pub fn services_cds() -> String {
    let mut out = String::from(
        "// Generated from the `opcenter` profile by crates/connect/tests/cap_model.rs: do not edit.\n\
         // One service per Opcenter app at the reference's path\n\
         // (`/sit-svc/Application/{App}/odata/{EntitySet}`), the URLs the emulator serves.\n",
    );
    out.push_str(&format!(
        "using {{ {DB_NAMESPACE} as db }} from '../db/schema';\n"
    ));
    for app in App::ALL {
        out.push_str(&format!(
            "\n@path: '/sit-svc/Application/{}/odata'\nservice {} {{\n",
            app.name(),
            app.namespace()
        ));
        for set in app.sets() {
            out.push_str(&format!(
                "  @readonly entity {0} as projection on db.{0};\n",
                set.name()
            ));
        }
        out.push_str("}\n");
    }
    out
}

/// `db/data/<namespace>-<Set>.csv`: the rows, collections and complex values as JSON.
pub fn csv(set: EntitySet, rows: &[Value]) -> String {
    let mut writer = csv::WriterBuilder::new().from_writer(Vec::new());
    let names: Vec<&str> = set.properties().map(|p| p.name).collect();
    writer.write_record(&names).unwrap();
    for row in rows {
        let cells: Vec<String> = names
            .iter()
            .map(|name| match &row[*name] {
                Value::Null => String::new(),
                Value::String(text) => text.clone(),
                other => other.to_string(),
            })
            .collect();
        writer.write_record(&cells).unwrap();
    }
    String::from_utf8(writer.into_inner().unwrap()).unwrap()
}

pub fn csv_name(set: EntitySet) -> String {
    format!("{DB_NAMESPACE}-{}.csv", set.name())
}
