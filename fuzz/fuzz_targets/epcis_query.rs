//! EPCIS query parameters (`trace::epcis::query::EventQuery`): a `SimpleEventQuery` JSON object
//! (`from_json`) when the text is JSON, else REST query-string pairs (`from_pairs`, `k=v&k=v`).
//! Any input is read or rejected with a `QueryParamError`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mixplane_fuzz::text;
use trace::epcis::query::EventQuery;

fuzz_target!(|data: &[u8]| {
    let Some(text) = text(data) else { return };
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(text) {
        let _ = EventQuery::from_json(&value);
    } else {
        let pairs = text
            .split('&')
            .map(|pair| pair.split_once('=').unwrap_or((pair, "")));
        let _ = EventQuery::from_pairs(pairs);
    }
});
