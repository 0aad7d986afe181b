//! The JSON-LD import fast path (`trace::epcis::fast::import_json`) against the full reader
//! (`json::parse` → `lower` → `IndexBuilder::add`): on any text both give the same index, or
//! the same `ImportError` with nothing added to the builder.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mixplane_fuzz::text;
use trace::IndexBuilder;
use trace::epcis::{self, fast};

fuzz_target!(|data: &[u8]| {
    let Some(text) = text(data) else { return };
    let full = epcis::json::parse(text).map(|doc| {
        let mut builder = IndexBuilder::new();
        builder.add(&epcis::lower(&doc.events));
        builder.finish()
    });
    let mut builder = IndexBuilder::new();
    let got = fast::import_json(text, &mut builder);
    match (full, got) {
        (Ok(index), Ok(_)) => assert!(builder.finish() == index, "the indexes differ"),
        (Err(e), Err(f)) => {
            assert_eq!(e, f, "the errors differ");
            assert_eq!(
                builder.edge_count(),
                0,
                "a rejected document was half imported"
            );
        }
        (full, fast) => panic!(
            "the paths disagree: full reader {:?}, fast path {:?}",
            full.map(|_| ()),
            fast.map(|_| ())
        ),
    }
});
