//! Tidy checks of the crate's architecture invariants: every library module opens with a
//! `//!` doc saying what it owns, and the library does no I/O, reads no clock and prints
//! nothing (benches and tests may).

use std::path::Path;

#[test]
fn modules_are_documented_and_pure() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let forbidden = [
        "std::fs",
        "std::io",
        "std::net",
        "std::env",
        "std::time",
        "SystemTime",
        "Instant::now",
        "println!",
        "eprintln!",
        "print!(",
        "dbg!(",
    ];
    let mut problems = Vec::new();
    let mut files = 0;
    for entry in std::fs::read_dir(&src).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        files += 1;
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let text = std::fs::read_to_string(&path).expect("read module");
        if !text.trim_start().starts_with("//!") {
            problems.push(format!("{name}: does not start with a `//!` module doc"));
        }
        for word in forbidden {
            if text.contains(word) {
                problems.push(format!(
                    "{name}: uses `{word}` (the library must stay pure)"
                ));
            }
        }
    }
    assert!(files > 5, "found only {files} modules in {}", src.display());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
