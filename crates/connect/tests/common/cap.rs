//! Starts the SAP CAP conformance peer (`conformance/cap/serve`) on a free loopback port.
//!
//! Its packages come from `MIXPLANE_CAP`, else from `.ci/cap/env --if-present` (the cache
//! outside the clone); with `MIXPLANE_REQUIRE_CAP=1` (`.ci/run`) `.ci/cap/env` installs them
//! and a peer that does not start fails the test. Without either, the tests say why and pass.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct CapPeer {
    child: Child,
    pub origin: String,
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn required() -> bool {
    std::env::var("MIXPLANE_REQUIRE_CAP").is_ok_and(|v| v == "1")
}

/// The folder of the peer's npm packages, or why there is none.
fn packages() -> Result<String, String> {
    if let Ok(dir) = std::env::var("MIXPLANE_CAP") {
        return Ok(dir);
    }
    let env = repo_root().join(".ci/cap/env");
    let mut command = Command::new(&env);
    if !required() {
        command.arg("--if-present");
    }
    let out = command
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("running {}: {e}", env.display()))?;
    if !out.status.success() {
        return Err("the CAP packages are not installed (run .ci/cap/env)".into());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

impl CapPeer {
    /// Starts a peer whose largest page is `max_page`; `None` (after saying why) when CAP is
    /// not installed and not required.
    pub fn start(max_page: u32) -> Option<CapPeer> {
        let packages = match packages() {
            Ok(dir) => dir,
            Err(reason) => {
                assert!(!required(), "MIXPLANE_REQUIRE_CAP=1 but {reason}");
                eprintln!("skipped: {reason}");
                return None;
            }
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(repo_root().join("conformance/cap/serve"))
            .arg(port.to_string())
            .arg(max_page.to_string())
            .env("MIXPLANE_CAP", &packages)
            // CAP logs every request and each refusal's stack; the tests read answers instead.
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting conformance/cap/serve");
        let mut peer = CapPeer {
            child,
            origin: format!("http://127.0.0.1:{port}"),
        };
        peer.wait_ready();
        Some(peer)
    }

    /// Waits until the peer answers HTTP, not merely accepts a connection: a CI run once saw
    /// a peer accept and then fail every request. A peer that exits first (its port taken,
    /// say) fails the test at once, naming its exit.
    fn wait_ready(&mut self) {
        let address = self.origin.trim_start_matches("http://").to_string();
        let deadline = Instant::now() + Duration::from_secs(90);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the CAP peer for {address} exited before it answered: {status}");
            }
            if answers_http(&address) {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!(
            "the CAP peer did not listen on {address} within 90 s \
             (try `conformance/cap/serve PORT` by hand)"
        );
    }
}

/// Whether something at `address` answers `GET /` with an HTTP status line.
fn answers_http(address: &str) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(address) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = format!("GET / HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 5];
    stream.read_exact(&mut head).is_ok() && &head == b"HTTP/"
}

impl Drop for CapPeer {
    fn drop(&mut self) {
        // TERM, not KILL: the script's trap stops node and removes its copy of the project.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}
