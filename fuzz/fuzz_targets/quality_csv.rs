//! The SPC CSV path (`quality::request_from_csv`, which reads the table with
//! `csv::parse_csv`, the phase-I range with `parse_range` and the rules with `parse_rules`,
//! then `quality::analyze`): any CSV with any options (see `mixplane_fuzz::csv_case`) gives a
//! response or a typed `CsvError`/`QualityError`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mixplane_fuzz::{csv_case, text};

fuzz_target!(|data: &[u8]| {
    let Some(text) = text(data) else { return };
    let (opts, csv) = csv_case(text);
    let _ = quality::analyze_csv(csv, &opts);
});
