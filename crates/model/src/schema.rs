//! JSON Schemas of the documents mixplane reads: the plant and the event.
//!
//! The schemas are generated from the Rust types, so they cannot drift from what the code
//! accepts; the repository also publishes them under `schemas/` (a test keeps those in step).

use crate::{Event, Plant};

/// The JSON Schema of a plant document, pretty-printed.
pub fn plant_schema() -> String {
    pretty(schemars::schema_for!(Plant))
}

/// The JSON Schema of one event, pretty-printed.
pub fn event_schema() -> String {
    pretty(schemars::schema_for!(Event))
}

fn pretty(schema: schemars::Schema) -> String {
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema always serialises");
    text.push('\n');
    text
}
