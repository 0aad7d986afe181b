//! EPCIS 2.0 XML reader (`trace::epcis::xml::parse`): any text is read or rejected with an
//! `ImportError`; a document read, written back (`xml::document`) and read again gives the same
//! events.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mixplane_fuzz::{cbv_prefix_left, t0, text, xml_unsafe_text};
use trace::epcis::xml;

fuzz_target!(|data: &[u8]| {
    let Some(text) = text(data) else { return };
    let Ok(doc) = xml::parse(text) else { return };
    if cbv_prefix_left(&doc.events) {
        return; // finding 1 (fuzz/FINDINGS.md): not a round trip until the reader is fixed
    }
    if xml_unsafe_text(&doc.events) {
        return; // finding 3 (fuzz/FINDINGS.md): not a round trip until the writer is fixed
    }
    let written = xml::document(&doc.events, &doc.namespaces, t0());
    let again = xml::parse(&written)
        .unwrap_or_else(|e| panic!("a written document must read back: {e}\n{written}"));
    assert_eq!(again.events, doc.events, "XML round trip");
});
