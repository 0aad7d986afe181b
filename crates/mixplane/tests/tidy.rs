//! Tidy: the workspace's architecture invariants, checked over every crate's sources.
//!
//! - every Rust file of every crate (library, binary, tests, benches, examples, tools) opens
//!   with a `//!` doc saying what it is, and every crate root states its invariant (what the
//!   crate must not do);
//! - the engines (`model`, `sim`, `schedule`, `quality`, `trace`, `govern`) stay pure: their
//!   library code (unit-test modules aside) does no I/O, reads no clock or environment and prints nothing — time and
//!   data arrive as arguments (benches and tests may do all of that);
//! - the simulator keeps no hash-ordered maps or sets and no outside random source, so a
//!   seed gives the same bytes;
//! - crate directions: every workspace edge in a crate's `[dependencies]` is in
//!   [`ALLOWED_DEPENDENCIES`] (engines depend on `model` only, `app` sits below `server` and
//!   the CLI);
//! - file size: no library source file is over [`MAX_LINES`] lines (data tables aside), and
//!   those over [`REPORT_LINES`] are reported;
//! - tests read nothing outside the repository (their data is in `testdata/`); benches may
//!   read the shared folder beside a checkout.

use std::path::{Path, PathBuf};

/// Library code of these crates must not reach outside its arguments.
const ENGINES: [&str; 6] = ["model", "sim", "schedule", "quality", "trace", "govern"];

/// Libraries below the edges that are as pure as the engines, though not plant engines: the
/// OData v4 query language, the Opcenter profile (rows to events and back) and the ISA-95
/// documents (B2MML and BatchML to model types and back).
const PURE_LIBRARIES: [&str; 3] = ["odata", "opcenter", "isa95"];

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

/// Which workspace crates each crate may name in its `[dependencies]`, lowest layer first:
/// `model`; the pure engines, which know `model` only; `store`, which persists the engines'
/// values (and `govern`'s proposals); `app`, the use-cases over `store` and the engines;
/// `server`, the HTTP edge; `mixplane`, the CLI, which may also serve. Nothing but the CLI
/// depends on `server`, nothing but `server` and the CLI on `app`. A crate missing from this
/// table fails the check: add it here, at its layer, when it is created. (`server` and the
/// CLI keep their direct engine and store edges while the use-cases move into `app`.)
const ALLOWED_DEPENDENCIES: &[(&str, &[&str])] = &[
    ("odata", &[]),
    ("model", &[]),
    ("sim", &["model"]),
    ("schedule", &["model"]),
    ("quality", &["model"]),
    ("trace", &["model"]),
    ("govern", &["model"]),
    ("opcenter", &["model", "odata", "govern"]),
    ("isa95", &["model", "trace"]),
    ("store", &["model", "govern"]),
    (
        "app",
        &[
            "model", "store", "schedule", "quality", "trace", "govern", "sim", "isa95", "odata",
        ],
    ),
    (
        "mcp",
        &[
            "app", "model", "schedule", "store", "trace", "quality", "govern",
        ],
    ),
    (
        "server",
        &[
            "app", "mcp", "model", "schedule", "store", "trace", "quality", "govern", "isa95",
            "odata",
        ],
    ),
    (
        "connect",
        &["app", "model", "store", "govern", "odata", "opcenter"],
    ),
    ("mesemu", &["model", "sim", "odata", "opcenter"]),
    (
        "mixplane",
        &[
            "app", "server", "mcp", "connect", "mesemu", "model", "store", "govern", "sim",
            "schedule", "trace", "quality", "isa95",
        ],
    ),
];

/// A library source file over this many lines fails the size check (data tables aside).
const MAX_LINES: usize = 1_000;

/// A library source file over this many lines is reported as one to split next.
const REPORT_LINES: usize = 800;

/// Library files that are data tables rather than code, exempt from the size check.
const DATA_TABLES: &[&str] = &[];

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
        if !ENGINES.contains(&name.as_str()) && !PURE_LIBRARIES.contains(&name.as_str()) {
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

/// The workspace crates a manifest names in its `[dependencies]` (also target-specific ones),
/// by package name; dev-dependencies are for tests and are not edges of the library graph.
fn workspace_dependencies(manifest: &str, members: &[String]) -> Vec<String> {
    let table: toml::Table = manifest.parse().expect("Cargo.toml is TOML");
    let mut sections: Vec<&toml::Table> = Vec::new();
    if let Some(deps) = table.get("dependencies").and_then(toml::Value::as_table) {
        sections.push(deps);
    }
    if let Some(targets) = table.get("target").and_then(toml::Value::as_table) {
        for target in targets.values() {
            if let Some(deps) = target.get("dependencies").and_then(toml::Value::as_table) {
                sections.push(deps);
            }
        }
    }
    let mut out: Vec<String> = sections
        .into_iter()
        .flat_map(|deps| deps.iter())
        .map(|(key, spec)| {
            spec.get("package")
                .and_then(toml::Value::as_str)
                .unwrap_or(key)
                .to_owned()
        })
        .filter(|name| members.contains(name))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Edges of `crate_name` not in [`ALLOWED_DEPENDENCIES`], as messages.
fn forbidden_edges(crate_name: &str, deps: &[String]) -> Vec<String> {
    let Some((_, allowed)) = ALLOWED_DEPENDENCIES.iter().find(|(c, _)| *c == crate_name) else {
        return vec![format!(
            "crate `{crate_name}` is not in ALLOWED_DEPENDENCIES (crates/mixplane/tests/tidy.rs): \
             give it a place in the layering"
        )];
    };
    deps.iter()
        .filter(|d| !allowed.contains(&d.as_str()))
        .map(|d| format!("`{crate_name}` → `{d}` is not an allowed direction"))
        .collect()
}

fn package_name(manifest: &str) -> String {
    let table: toml::Table = manifest.parse().expect("Cargo.toml is TOML");
    table["package"]["name"]
        .as_str()
        .expect("[package] name")
        .to_owned()
}

#[test]
fn crates_depend_only_in_the_allowed_directions() {
    let manifests: Vec<(String, String)> = crates()
        .into_iter()
        .map(|(_, dir)| {
            let text = std::fs::read_to_string(dir.join("Cargo.toml")).expect("readable manifest");
            (package_name(&text), text)
        })
        .collect();
    let members: Vec<String> = manifests.iter().map(|(n, _)| n.clone()).collect();
    assert!(members.len() >= 9, "found only {members:?}");
    let mut problems = Vec::new();
    let mut edges = 0;
    for (name, text) in &manifests {
        let deps = workspace_dependencies(text, &members);
        edges += deps.len();
        problems.extend(forbidden_edges(name, &deps));
    }
    assert!(edges >= 20, "read only {edges} workspace edges");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_direction_table_is_layered() {
    // The table itself has no cycle and keeps the engines on `model` alone.
    for engine in ENGINES {
        let (_, allowed) = ALLOWED_DEPENDENCIES
            .iter()
            .find(|(c, _)| *c == engine)
            .unwrap_or_else(|| panic!("engine `{engine}` missing from the table"));
        let expected: &[&str] = if engine == "model" { &[] } else { &["model"] };
        assert_eq!(*allowed, expected, "engine `{engine}`");
    }
    // Every allowed dependency appears earlier in the table (lower layer).
    for (i, (name, allowed)) in ALLOWED_DEPENDENCIES.iter().enumerate() {
        for dep in *allowed {
            let at = ALLOWED_DEPENDENCIES.iter().position(|(c, _)| c == dep);
            assert!(
                at.is_some_and(|j| j < i),
                "`{name}` → `{dep}`: `{dep}` must be listed before `{name}`"
            );
        }
    }
    // Only the CLI sees `server`; only the edges (`mcp`, `server`, `connect`, the CLI) see
    // `app`.
    for (name, allowed) in ALLOWED_DEPENDENCIES {
        if allowed.contains(&"server") {
            assert_eq!(*name, "mixplane");
        }
        if allowed.contains(&"app") {
            assert!(
                ["mcp", "server", "connect", "mixplane"].contains(name),
                "`{name}` → `app`"
            );
        }
    }
    // And the check would catch a wrong edge or an unknown crate.
    let members = vec!["model".to_owned(), "store".to_owned(), "quality".to_owned()];
    let deps = workspace_dependencies(
        "[package]\nname = \"quality\"\n[dependencies]\nmodel.workspace = true\n\
         db = { package = \"store\", path = \"../store\" }\nserde = \"1\"\n\
         [dev-dependencies]\nsim.workspace = true\n",
        &members,
    );
    assert_eq!(deps, ["model", "store"]);
    assert_eq!(forbidden_edges("quality", &deps).len(), 1);
    assert_eq!(forbidden_edges("newcomer", &[]).len(), 1);
}

/// Lines of a library file, with the files over [`REPORT_LINES`] and over [`MAX_LINES`].
fn oversized_files() -> (Vec<String>, Vec<String>) {
    let (mut report, mut fail) = (Vec::new(), Vec::new());
    for (_, dir) in crates() {
        let mut files = Vec::new();
        rust_files(&dir.join("src"), &mut files);
        for file in files {
            let name = short(&file);
            if DATA_TABLES.contains(&name.as_str()) {
                continue;
            }
            let lines = std::fs::read_to_string(&file)
                .expect("readable source")
                .lines()
                .count();
            if lines > MAX_LINES {
                fail.push(format!("{name}: {lines} lines"));
            } else if lines > REPORT_LINES {
                report.push(format!("{name}: {lines} lines"));
            }
        }
    }
    (report, fail)
}

#[test]
fn library_files_stay_small() {
    let (report, fail) = oversized_files();
    if !report.is_empty() {
        eprintln!(
            "library files over {REPORT_LINES} lines (split next):\n{}",
            report.join("\n")
        );
    }
    assert!(
        fail.is_empty(),
        "library files over {MAX_LINES} lines (split them along their sections):\n{}",
        fail.join("\n")
    );
}

/// String literals of a Rust source with their byte offsets (comments and char literals
/// skipped; escapes kept as written).
fn string_literals(text: &str) -> Vec<(usize, &str)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'\'' if bytes.get(i + 2) == Some(&b'\'') => i += 3,
            b'\'' if bytes.get(i + 1) == Some(&b'\\') && bytes.get(i + 3) == Some(&b'\'') => i += 4,
            b'"' => {
                let start = i + 1;
                let mut end = start;
                while end < bytes.len() && bytes[end] != b'"' {
                    end += if bytes[end] == b'\\' { 2 } else { 1 };
                }
                let end = end.min(bytes.len());
                out.push((start, &text[start..end]));
                i = end + 1;
            }
            _ => i += 1,
        }
    }
    out
}

/// `path` with `.` and `..` resolved lexically.
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Paths a test source names that lie outside the repository `root`: a relative path that
/// climbs above it (from the crate directory, or from the file itself inside `include_str!`
/// and `include_bytes!`), or an absolute path beside the repository (the shared folder).
fn reads_outside(text: &str, file: &Path, crate_dir: &Path, root: &Path) -> Vec<String> {
    let beside = root.parent().filter(|p| p.parent().is_some());
    let mut out = Vec::new();
    for (at, literal) in string_literals(text) {
        let path = Path::new(literal);
        let outside = if literal.split('/').any(|part| part == "..") {
            let before = &text.as_bytes()[at.saturating_sub(40)..at];
            let from_file = [&b"include_str!("[..], b"include_bytes!("]
                .iter()
                .any(|m| before.windows(m.len()).any(|w| w == *m));
            let base = if from_file {
                file.parent().unwrap_or(crate_dir)
            } else {
                crate_dir
            };
            !normalise(&base.join(path)).starts_with(root)
        } else {
            path.is_absolute()
                && (path.components().any(|c| c.as_os_str() == "shared")
                    || beside.is_some_and(|b| path.starts_with(b) && !path.starts_with(root)))
        };
        if outside {
            out.push(literal.to_owned());
        }
    }
    out
}

#[test]
fn tests_read_nothing_outside_the_repository() {
    let root = workspace();
    let mut checked = 0;
    let mut problems = Vec::new();
    for (_, dir) in crates() {
        let mut files = Vec::new();
        rust_files(&dir.join("tests"), &mut files);
        for file in &files {
            checked += 1;
            let text = std::fs::read_to_string(file).expect("readable source");
            for path in reads_outside(&text, file, &dir, &root) {
                problems.push(format!("{}: `{path}`", short(file)));
            }
        }
    }
    assert!(checked > 30, "checked only {checked} test files");
    assert!(
        problems.is_empty(),
        "tests reading outside the repository (copy the data into testdata/):\n{}",
        problems.join("\n")
    );
    assert!(
        root.join("testdata/README.md").is_file(),
        "testdata/README.md names each file's source and licence"
    );

    // The check sees what it is meant to catch, and only that.
    let crate_dir = root.join("crates/demo");
    let file = crate_dir.join("tests/common/mod.rs");
    let up = "..";
    let beside = root.parent().expect("the repository has a parent");
    let text = format!(
        "let a = dir.join(\"{up}/{up}/{up}/shared/x\");\n\
         // dir.join(\"{up}/{up}/{up}/in/a/comment\")\n\
         let b = dir.join(\"{up}/{up}/testdata/x\");\n\
         let c = include_str!(\"{up}/{up}/{up}/sim/data/p.json\");\n\
         let d = include_str!(\"{up}/{up}/{up}/{up}/{up}/x\");\n\
         let e = \"{}/shared/bench\";\n\
         let f = ('\"', \"/v1/quality\");\n",
        beside.display()
    );
    let found = reads_outside(&text, &file, &crate_dir, &root);
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(
        found[0].ends_with("shared/x") && found[1].ends_with("/x"),
        "{found:?}"
    );
    assert!(found[2].ends_with("shared/bench"), "{found:?}");
}
