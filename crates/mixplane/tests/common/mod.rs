//! Set-up shared by the binary's integration tests.

#![allow(dead_code)]

pub mod serve;

use std::path::PathBuf;

/// A fresh directory under the system's temporary directory, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// `mixplane-<label>-<process>-<nanoseconds>`.
    pub fn new(label: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let path =
            std::env::temp_dir().join(format!("mixplane-{label}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The path an outside tool's variable names (a venv's python, an npm package directory), or
/// `None` after saying why, where the tests may be skipped; under `required_by=1` (as
/// `.ci/run` sets) a missing tool fails the test with `hint` on how to get it.
pub fn required_tool(variable: &str, required_by: &str, hint: &str) -> Option<PathBuf> {
    let required = std::env::var(required_by).is_ok_and(|v| v == "1");
    let path = std::env::var_os(variable).map(PathBuf::from);
    let reason = match &path {
        None => format!("{variable} is not set"),
        Some(p) if !p.exists() => format!("{variable}={} does not exist", p.display()),
        Some(p) => return Some(p.clone()),
    };
    assert!(!required, "{required_by}=1 but {reason}: {hint}");
    println!("skipped: {reason} ({hint})");
    None
}

/// The pinned venv's python (`MIXPLANE_PYTHON`, required under `MIXPLANE_REQUIRE_PY=1`).
pub fn venv_python() -> Option<PathBuf> {
    required_tool(
        "MIXPLANE_PYTHON",
        "MIXPLANE_REQUIRE_PY",
        "make the venv with `export MIXPLANE_PYTHON=\"$(.ci/python/env)\"`",
    )
}

/// Points a `mixplane` command at the tests' backend: on PostgreSQL (`MIXPLANE_TEST_POSTGRES`
/// set, as `.ci/run`'s second pass does), the store of the `--data-dir` it names is a schema
/// of that database, named in `MIXPLANE_DATABASE` (the same one `store::test_support::store_at`
/// opens for `DIR/mixplane.db` in this process); on SQLite nothing changes.
pub trait OnTestBackend {
    fn on_test_backend(&mut self) -> &mut Self;
}

impl OnTestBackend for std::process::Command {
    fn on_test_backend(&mut self) -> &mut Self {
        if !store::test_support::on_postgres() {
            return self;
        }
        let args: Vec<_> = self.get_args().map(|arg| arg.to_owned()).collect();
        if let Some(at) = args.iter().position(|arg| arg == "--data-dir")
            && let Some(dir) = args.get(at + 1)
        {
            let db = std::path::Path::new(dir).join("mixplane.db");
            self.env("MIXPLANE_DATABASE", store::test_support::url_at(&db));
        }
        self
    }
}
