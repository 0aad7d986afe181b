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
