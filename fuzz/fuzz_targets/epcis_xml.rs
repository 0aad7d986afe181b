//! EPCIS 2.0 XML reader (`trace::epcis::xml::parse`): any text is read or rejected with an
//! `ImportError`; a document read, written back (`xml::document`) and read again gives the same
//! events, except a `uom` of no stated `quantity`, which the writer leaves out on purpose (the
//! XSD allows a `uom` only after a `quantity`; finding 5 in `fuzz/FINDINGS.md`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mixplane_fuzz::{t0, text};
use trace::epcis::xml;

fuzz_target!(|data: &[u8]| {
    let Some(text) = text(data) else { return };
    let Ok(doc) = xml::parse(text) else { return };
    let written = xml::document(&doc.events, &doc.namespaces, t0());
    let again = xml::parse(&written)
        .unwrap_or_else(|e| panic!("a written document must read back: {e}\n{written}"));
    let mut expected = doc.events;
    expected.iter_mut().for_each(drop_unstated_uoms);
    assert_eq!(again.events, expected, "XML round trip");
});

fn drop_unstated_uoms(event: &mut trace::epcis::EpcisEvent) {
    for list in [
        &mut event.quantity_list,
        &mut event.child_quantity_list,
        &mut event.input_quantity_list,
        &mut event.output_quantity_list,
    ] {
        list.iter_mut()
            .filter(|q| q.quantity.is_none())
            .for_each(|q| q.uom = None);
    }
}
