//! Tidy: every source file of the crate opens with a `//!` module doc.

use std::path::Path;

fn visit(dir: &Path, bad: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).expect("read_dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            visit(&path, bad);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("read");
            if !text.trim_start().starts_with("//!") {
                bad.push(path.display().to_string());
            }
        }
    }
}

#[test]
fn every_module_has_a_doc() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut bad = Vec::new();
    for d in ["src", "tests", "examples"] {
        visit(&root.join(d), &mut bad);
    }
    assert!(bad.is_empty(), "files without a leading `//!` doc: {bad:?}");
}
