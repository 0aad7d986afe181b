//! HTTPS served by `mixplane serve` itself (the `tls` feature, `[server.tls]`): curl
//! verifies the test certificate (`testdata/tls/`) and reads `/healthz` and an
//! authenticated route over TLS; plain HTTP to the same port gets nothing; and a key that
//! does not exist stops the start, naming the file.

#![cfg(feature = "tls")]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

mod common;
use common::OnTestBackend;

use common::TempDir;

fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/tls")
        .join(name)
}

fn config(dir: &Path, key: &Path) -> PathBuf {
    let path = dir.join("mixplane.toml");
    std::fs::write(
        &path,
        format!(
            "[server]\nbind = \"127.0.0.1:0\"\n[server.tls]\ncert_file = {:?}\nkey_file = {:?}\n",
            testdata("cert.pem"),
            key
        ),
    )
    .unwrap();
    path
}

fn curl(resolve: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "10", "--resolve", resolve])
        .args(args)
        .output()
        .expect("curl runs");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn serve_speaks_https_with_the_configured_certificate() {
    let dir = TempDir::new("tls");
    let config = config(&dir.0, &testdata("key.pem"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_mixplane"))
        .args(["serve", "--data-dir"])
        .arg(dir.0.join("data"))
        .arg("--config")
        .arg(&config)
        .env("MIXPLANE_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .on_test_backend()
        .spawn()
        .expect("the binary runs");
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    // Drained until the server exits: a closed pipe would fail its next line.
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    let address = line
        .split("https://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no https address in {line:?}"))
        .to_owned();
    let port = address.rsplit(':').next().unwrap().to_owned();
    let url = format!("https://localhost:{port}");
    // The certificate names `localhost`; the server listens on IPv4 only.
    let resolve = format!("localhost:{port}:127.0.0.1");
    let cert = testdata("cert.pem");
    let cacert = cert.to_str().unwrap();

    // Wait until it accepts, then read over a verified TLS connection.
    let mut answer = (false, String::new());
    for _ in 0..100 {
        answer = curl(&resolve, &["--cacert", cacert, &format!("{url}/healthz")]);
        if answer.0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        answer.0 && answer.1.contains("\"status\":\"ok\""),
        "{answer:?}"
    );
    let (ok, body) = curl(
        &resolve,
        &[
            "--cacert",
            cacert,
            "-w",
            "%{http_code}",
            &format!("{url}/v1/orders"),
        ],
    );
    assert!(
        ok && body.ends_with("401"),
        "an authenticated route over TLS: {body}"
    );

    // Without trusting the certificate the client refuses; plain HTTP gets no answer.
    let (ok, _) = curl(&resolve, &[&format!("{url}/healthz")]);
    assert!(!ok, "an unknown certificate is not trusted");
    let (ok, body) = curl(
        &resolve,
        &[
            "-w",
            "%{http_code}",
            &format!("http://127.0.0.1:{port}/healthz"),
        ],
    );
    assert!(
        !ok || !body.contains("\"status\":\"ok\""),
        "plain HTTP: {body}"
    );

    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn a_missing_key_stops_the_start_naming_the_file() {
    let dir = TempDir::new("tls-bad");
    let missing = dir.0.join("no-such-key.pem");
    let config = config(&dir.0, &missing);
    let out = Command::new(env!("CARGO_BIN_EXE_mixplane"))
        .args(["serve", "--data-dir"])
        .arg(dir.0.join("data"))
        .arg("--config")
        .arg(&config)
        .on_test_backend()
        .output()
        .expect("the binary runs");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no-such-key.pem") && stderr.contains("[server.tls]"),
        "{stderr}"
    );
}
