//! The import entry point (`trace::import::read`) that detects the format (EPCIS JSON-LD or
//! XML, B2MML, the plant's own events, a query) and reads it: any text is read or rejected with
//! an `ImportError`, and what it reads is what the format's own reader reads.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mixplane_fuzz::{t0, text};
use trace::epcis;
use trace::import::{Imported, read};

fuzz_target!(|data: &[u8]| {
    let Some(text) = text(data) else { return };
    let Ok(imported) = read(text, t0()) else {
        return;
    };
    let body = text.trim_start_matches('\u{feff}').trim_start();
    match imported {
        Imported::Epcis(doc) if body.starts_with('<') => {
            assert_eq!(epcis::xml::parse(body).as_ref(), Ok(&doc));
        }
        Imported::B2mml(b) => assert_eq!(trace::b2mml::parse(body, t0()).as_ref(), Ok(&b)),
        _ => {}
    }
});
