//! A `mixplane serve` started by a test on a free port, and plain HTTP/1.1 requests to it
//! (no client library: what goes over the wire is what the test wrote).

use super::OnTestBackend;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A running `mixplane serve`, killed when dropped (also when the test fails).
pub struct Server {
    child: Child,
    pub address: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Serves `data_dir` on a free port and waits until it accepts connections.
    pub fn start(data_dir: &Path) -> Server {
        Server::start_with(data_dir, &[])
    }

    /// [`Server::start`] with more arguments of `serve` (`--config F`).
    pub fn start_with(data_dir: &Path, extra: &[&str]) -> Server {
        Server::start_with_env(data_dir, extra, &[])
    }

    /// [`Server::start_with`] with environment variables set (a connector's secret).
    pub fn start_with_env(data_dir: &Path, extra: &[&str], vars: &[(&str, &str)]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mixplane"))
            .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .args(extra)
            .env_remove("MIXPLANE_DATA_DIR")
            .env_remove("MIXPLANE_BIND")
            .env("MIXPLANE_LOG", "warn")
            .envs(vars.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .on_test_backend()
            .spawn()
            .expect("the binary runs");
        let stdout = child.stdout.take().expect("piped stdout");
        // The first line names the address the OS chose; read it on a thread so a server
        // that never prints fails the test instead of hanging it. The thread then drains the
        // pipe until the server exits (a closed pipe would fail the server's next print).
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = sender.send(line);
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let mut server = Server {
            child,
            address: "127.0.0.1:1".parse().unwrap(),
        };
        let line = receiver
            .recv_timeout(Duration::from_secs(60))
            .expect("the server prints its address within a minute");
        let address = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("no address in the server's first line: {line:?}"));
        server.address = address.parse().expect("a socket address");
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(server.address).is_err() {
            assert!(Instant::now() < deadline, "the server never accepted");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// One HTTP/1.1 request; returns the status and the body.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&serde_json::Value>,
    ) -> (u16, String) {
        request(&self.address.to_string(), method, path, token, body)
    }

    /// Kills the server with SIGKILL (no graceful stop) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends `signal` (`STOP`, `CONT`, …) to the server with `kill -SIGNAL`.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Whether the server exited, and how.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    pub fn events_applied(&self) -> u64 {
        let (status, body) = self.request("GET", "/healthz", None, None);
        assert_eq!(status, 200, "{body}");
        let health: serde_json::Value = serde_json::from_str(&body).unwrap();
        health["events"].as_u64().unwrap()
    }
}

/// One HTTP/1.1 request to `address`; returns the status and the body.
pub fn request(
    address: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&serde_json::Value>,
) -> (u16, String) {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !body.is_empty() {
        head.push_str("Content-Type: application/json\r\n");
    }
    if let Some(token) = token {
        head.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body.as_bytes()).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("read the answer");
    let answer = text(&answer);
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer:?}"));
    let (_, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    (status, dechunk(body))
}

/// A running `mixplane demo`, killed when dropped: the address it serves on and the admin
/// token it printed.
pub struct Demo {
    child: Child,
    pub address: String,
    pub token: String,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Demo {
    /// Runs `mixplane demo ARGS --bind 127.0.0.1:0 --data-dir DIR` and reads what it prints
    /// up to the first line `until` accepts (after the serving line); answers the demo and
    /// every line read. What it prints later is drained on a thread, since a closed pipe
    /// would end it at its next line.
    pub fn start(
        args: &[&str],
        data_dir: &Path,
        until: impl Fn(&str) -> bool,
    ) -> (Demo, Vec<String>) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mixplane"))
            .arg("demo")
            .args(args)
            .args(["--bind", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .env_remove("MIXPLANE_LOG")
            .env_remove("MIXPLANE_DATA_DIR")
            .env_remove("MIXPLANE_BIND")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .on_test_backend()
            .spawn()
            .expect("the binary runs");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut demo = Demo {
            child,
            address: String::new(),
            token: String::new(),
        };
        let mut read = Vec::new();
        let mut lines = BufReader::new(stdout).lines();
        for line in lines.by_ref() {
            let line = line.expect("stdout reads");
            if let Some(t) = line.strip_prefix("admin token") {
                demo.token = t.trim().to_owned();
            } else if let Some(rest) = line.strip_prefix("serving the API on http://") {
                demo.address = rest
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_owned();
            }
            let done = !demo.address.is_empty() && until(&line);
            read.push(line);
            if done {
                break;
            }
        }
        std::thread::spawn(move || lines.for_each(drop));
        assert!(!demo.token.is_empty(), "no admin token line in {read:#?}");
        assert!(!demo.address.is_empty(), "no serving line in {read:#?}");
        (demo, read)
    }

    /// One request with the admin token.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> (u16, String) {
        request(&self.address, method, path, Some(&self.token), body)
    }
}

/// The body of a `Transfer-Encoding: chunked` answer (or the body itself when it is not).
fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    loop {
        let Some((size, after)) = rest.split_once("\r\n") else {
            return body.to_owned();
        };
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            return body.to_owned();
        };
        if size == 0 {
            return out;
        }
        if after.len() < size {
            return body.to_owned();
        }
        out.push_str(&after[..size]);
        rest = after[size..].trim_start_matches("\r\n");
    }
}
