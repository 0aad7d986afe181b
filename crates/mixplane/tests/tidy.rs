//! Tidy: the workspace's architecture invariants, checked over every crate's sources.
//!
//! - every Rust file of every crate (library, binary, tests, benches, examples, tools) opens
//!   with a `//!` doc saying what it is, and every crate root states its invariant (what the
//!   crate must not do);
//! - the engines (`model`, `sim`, `schedule`, `quality`, `trace`, `govern`) stay pure: their
//!   library code (unit-test modules aside) does no I/O, reads no clock or environment and prints nothing — time and
//!   data arrive as arguments (benches and tests may do all of that);
//! - the simulator keeps no hash-ordered maps or sets and no outside random source, so a
//!   seed gives the same bytes.

use std::path::{Path, PathBuf};

/// Library code of these crates must not reach outside its arguments.
const ENGINES: [&str; 6] = ["model", "sim", "schedule", "quality", "trace", "govern"];

const IMPURE: [&str; 12] = [
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
    "eprint!(",
    "dbg!(",
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the workspace root exists")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn crates() -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(workspace().join("crates"))
        .expect("crates/ exists")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.join("Cargo.toml").exists())
        .map(|p| {
            let name = p
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            (name, p)
        })
        .collect();
    out.sort();
    out
}

fn short(path: &Path) -> String {
    path.strip_prefix(workspace())
        .unwrap_or(path)
        .display()
        .to_string()
}

#[test]
fn every_source_file_opens_with_a_module_doc() {
    let mut files = Vec::new();
    for (_, dir) in crates() {
        for sub in ["src", "tests", "benches", "examples", "tools"] {
            rust_files(&dir.join(sub), &mut files);
        }
    }
    assert!(files.len() > 100, "found only {} files", files.len());
    let missing: Vec<String> = files
        .iter()
        .filter(|f| {
            !std::fs::read_to_string(f)
                .expect("readable source")
                .starts_with("//!")
        })
        .map(|f| short(f))
        .collect();
    assert!(missing.is_empty(), "no leading `//!` doc: {missing:?}");
}

#[test]
fn every_crate_root_says_what_it_must_not_do() {
    let mut silent = Vec::new();
    for (name, dir) in crates() {
        let root = [dir.join("src/lib.rs"), dir.join("src/main.rs")]
            .into_iter()
            .find(|p| p.exists())
            .unwrap_or_else(|| panic!("crate {name} has no lib.rs or main.rs"));
        let text = std::fs::read_to_string(&root).expect("readable crate root");
        let doc: String = text
            .lines()
            .take_while(|l| l.starts_with("//!"))
            .collect::<Vec<_>>()
            .join("\n")
            .to_lowercase();
        if !doc.contains("must not") && !doc.contains("invariant") {
            silent.push(short(&root));
        }
    }
    assert!(
        silent.is_empty(),
        "crate docs that do not say what the crate must not do: {silent:?}"
    );
}

#[test]
fn engines_stay_pure() {
    let mut problems = Vec::new();
    let mut checked = 0;
    for (name, dir) in crates() {
        if !ENGINES.contains(&name.as_str()) {
            continue;
        }
        let mut files = Vec::new();
        rust_files(&dir.join("src"), &mut files);
        for file in files {
            checked += 1;
            let text = std::fs::read_to_string(&file).expect("readable source");
            // Unit tests inside the library may read the environment (proptest cases).
            let library = text.split("#[cfg(test)]").next().unwrap_or_default();
            let mut banned: Vec<&str> = IMPURE.to_vec();
            if name == "sim" {
                banned.extend(["HashMap", "HashSet", "rand::"]);
            }
            for word in banned {
                if library.contains(word) {
                    problems.push(format!("{}: uses `{word}`", short(&file)));
                }
            }
        }
    }
    assert!(checked > 50, "checked only {checked} engine files");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
