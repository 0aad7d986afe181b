//! What `bench load` and `bench crash` drive: a `mixplane serve` started as a child process
//! on loopback (the same binary, so what is measured is what ships), a keep-alive HTTP
//! client holding a bearer token, and fresh events the store accepts.
//!
//! The server is a separate process on purpose: `bench crash` kills it with SIGKILL, and a
//! load test whose server shared the client's runtime would measure neither honestly. The
//! target is named by a base URL only, so a server on another backend is measured by the
//! same code. A store is named as every command names it ([`StoreAt`]: the data directory,
//! and a `--database` URL when the store is on PostgreSQL); the children are given it
//! explicitly and never inherit `MIXPLANE_DATABASE` or `MIXPLANE_DATA_DIR`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use model::Timestamp;
use serde_json::Value;

use super::StoreAt;

/// How long a server may take to open its store and print its address.
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// What went wrong talking to, or starting, the server under test.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("starting `{program} serve`: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("`mixplane serve` printed no address within {seconds} s (first line: {line:?})")]
    NoAddress { seconds: u64, line: String },
    #[error("{what}: the answer was {status}: {body}")]
    Status {
        what: String,
        status: u16,
        body: String,
    },
    #[error("{what}: {source}")]
    Transport {
        what: String,
        source: reqwest::Error,
    },
    #[error("{what}: unexpected answer: {message}")]
    Answer { what: String, message: String },
    #[error("{what} failed: {output}")]
    Command { what: String, output: String },
}

/// A `mixplane serve` child of this process, killed (SIGKILL) when dropped.
pub struct ServeProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
}

impl ServeProcess {
    /// Serves the store `at` on a free loopback port (with `config`'s connectors, pinned to
    /// `cpus` through `taskset` when given) and returns once the listener is bound: the
    /// server prints its address after binding, so connections made from then on wait in
    /// the backlog rather than fail.
    pub fn start(
        at: StoreAt<'_>,
        config: Option<&Path>,
        cpus: Option<&str>,
    ) -> Result<ServeProcess, TargetError> {
        let exe = std::env::current_exe().map_err(|source| TargetError::Spawn {
            program: "mixplane".into(),
            source,
        })?;
        let mut command = match cpus {
            Some(cpus) => {
                let mut c = Command::new("taskset");
                c.args(["-c", cpus]).arg(&exe);
                c
            }
            None => Command::new(&exe),
        };
        command
            .args(["serve", "--bind", "127.0.0.1:0"])
            .args(store_args(at))
            .env_remove("MIXPLANE_DATA_DIR")
            .env_remove("MIXPLANE_DATABASE")
            .env_remove("MIXPLANE_BIND")
            .env("MIXPLANE_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if let Some(config) = config {
            command.arg("--config").arg(config);
        }
        let mut child = command.spawn().map_err(|source| TargetError::Spawn {
            program: exe.display().to_string(),
            source,
        })?;
        let stdout = child.stdout.take().expect("stdout is piped");
        // Read the first line on a thread so a server that never prints is a timeout, then
        // drain the pipe: a closed pipe would fail the server's next print.
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = sender.send(line);
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let mut process = ServeProcess {
            child,
            base_url: String::new(),
        };
        let line = receiver.recv_timeout(START_TIMEOUT).unwrap_or_default();
        let address = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next());
        match address {
            Some(address) => process.base_url = format!("http://{address}"),
            None => {
                return Err(TargetError::NoAddress {
                    seconds: START_TIMEOUT.as_secs(),
                    line,
                });
            }
        }
        Ok(process)
    }

    /// `kill -9`: SIGKILL, then reap the process.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// `--data-dir DIR`, and `--database URL` when the store is not the directory's SQLite file.
fn store_args(at: StoreAt<'_>) -> Vec<std::ffi::OsString> {
    let mut args = vec!["--data-dir".into(), at.data_dir.as_os_str().to_owned()];
    if let Some(url) = at.database {
        args.extend(["--database".into(), url.into()]);
    }
    args
}

/// Runs this binary with `args` on the store `at` and answers its stdout, or its output as
/// the error.
pub fn mixplane(args: &[&str], at: StoreAt<'_>) -> Result<String, TargetError> {
    let exe = std::env::current_exe().map_err(|source| TargetError::Spawn {
        program: "mixplane".into(),
        source,
    })?;
    let output = Command::new(&exe)
        .args(args)
        .args(store_args(at))
        .env_remove("MIXPLANE_DATA_DIR")
        .env_remove("MIXPLANE_DATABASE")
        .env("MIXPLANE_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .map_err(|source| TargetError::Spawn {
            program: exe.display().to_string(),
            source,
        })?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if output.status.success() {
        Ok(stdout)
    } else {
        Err(TargetError::Command {
            what: format!("mixplane {}", args.join(" ")),
            output: format!(
                "{}{stdout}",
                String::from_utf8_lossy(&output.stderr).trim_end()
            ),
        })
    }
}

/// A keep-alive HTTP/1.1 client of one server, sending one principal's bearer token.
#[derive(Clone)]
pub struct Api {
    client: reqwest::Client,
    base_url: String,
    authorization: String,
}

/// What `POST /v1/events` answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ingested {
    pub inserted: u64,
    pub duplicates: u64,
}

impl Api {
    /// A client keeping up to `connections` idle connections to `base_url` open.
    pub fn new(base_url: &str, token: &str, connections: usize) -> Result<Api, TargetError> {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(connections.max(1))
            .tcp_nodelay(true)
            .timeout(Duration::from_secs(120))
            .build()
            .map_err(|source| TargetError::Transport {
                what: "building the HTTP client".into(),
                source,
            })?;
        Ok(Api {
            client,
            base_url: base_url.trim_end_matches('/').to_owned(),
            authorization: format!("Bearer {token}"),
        })
    }

    /// `GET path` with the token; the status and the whole body (read, so the connection
    /// goes back to the pool).
    pub async fn get(&self, path: &str) -> Result<(u16, Vec<u8>), reqwest::Error> {
        let answer = self
            .client
            .get(format!("{}{path}", self.base_url))
            .header(reqwest::header::AUTHORIZATION, &self.authorization)
            .send()
            .await?;
        let status = answer.status().as_u16();
        Ok((status, answer.bytes().await?.to_vec()))
    }

    /// `POST /v1/events` with a JSON array already written; the status and the body.
    pub async fn post_events(&self, body: String) -> Result<(u16, Vec<u8>), reqwest::Error> {
        let answer = self
            .client
            .post(format!("{}/v1/events", self.base_url))
            .header(reqwest::header::AUTHORIZATION, &self.authorization)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await?;
        let status = answer.status().as_u16();
        Ok((status, answer.bytes().await?.to_vec()))
    }

    /// `GET path`, answered 2xx, as JSON.
    pub async fn get_json(&self, path: &str) -> Result<Value, TargetError> {
        let what = format!("GET {path}");
        let (status, body) = self
            .get(path)
            .await
            .map_err(|source| TargetError::Transport {
                what: what.clone(),
                source,
            })?;
        json_answer(what, status, &body)
    }

    /// Posts a batch and reads how many events were new and how many already stored.
    pub async fn ingest(&self, body: String) -> Result<Ingested, TargetError> {
        let what = "POST /v1/events".to_owned();
        let (status, answer) =
            self.post_events(body)
                .await
                .map_err(|source| TargetError::Transport {
                    what: what.clone(),
                    source,
                })?;
        let outcome = json_answer(what.clone(), status, &answer)?;
        let count = |field: &str| outcome[field].as_u64();
        match (count("inserted"), count("duplicates")) {
            (Some(inserted), Some(duplicates)) => Ok(Ingested {
                inserted,
                duplicates,
            }),
            _ => Err(TargetError::Answer {
                what,
                message: format!("no inserted/duplicates counts in {outcome}"),
            }),
        }
    }

    /// The number of events the server has folded (`GET /healthz`).
    pub async fn events_applied(&self) -> Result<u64, TargetError> {
        let health = self.get_json("/healthz").await?;
        health["events"]
            .as_u64()
            .ok_or_else(|| TargetError::Answer {
                what: "GET /healthz".into(),
                message: format!("no event count in {health}"),
            })
    }

    /// Every stored event after `after_seq`, in log order, following the pages' `next`.
    pub async fn events_after(&self, after_seq: u64) -> Result<Vec<Value>, TargetError> {
        let mut path = format!("/v1/events?after_seq={after_seq}&limit=10000");
        let mut events = Vec::new();
        loop {
            let mut page = self.get_json(&path).await?;
            if let Some(items) = page["items"].as_array_mut() {
                events.append(items);
            }
            match page["next"].as_str() {
                Some(next) => path = next.to_owned(),
                None => return Ok(events),
            }
        }
    }

    /// The ids of the plant's units (`GET /v1/plant`).
    pub async fn unit_ids(&self) -> Result<Vec<String>, TargetError> {
        let plant = self.get_json("/v1/plant").await?;
        let units: Vec<String> = plant["units"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|u| u["id"].as_str().map(str::to_owned))
            .collect();
        if units.is_empty() {
            return Err(TargetError::Answer {
                what: "GET /v1/plant".into(),
                message: "the plant has no units to send equipment states for".into(),
            });
        }
        Ok(units)
    }

    /// The time of the newest stored event (new events are stamped just after it, so the
    /// plant's clock barely moves and no time-driven agent is woken by the test), or `None`
    /// for an empty log.
    pub async fn newest_event_time(&self) -> Result<Option<Timestamp>, TargetError> {
        let count = self.events_applied().await?;
        if count == 0 {
            return Ok(None);
        }
        let page = self
            .get_json(&format!("/v1/events?after_seq={}&limit=1", count - 1))
            .await?;
        Ok(page["items"][0]["event"]["time"]
            .as_str()
            .and_then(|t| Timestamp::parse(t).ok()))
    }
}

/// The JSON of a 2xx answer, or the status and body as the error.
fn json_answer(what: String, status: u16, body: &[u8]) -> Result<Value, TargetError> {
    if !(200..300).contains(&status) {
        return Err(TargetError::Status {
            what,
            status,
            body: snippet(body),
        });
    }
    serde_json::from_slice(body).map_err(|e| TargetError::Answer {
        what,
        message: format!("not JSON ({e}): {}", snippet(body)),
    })
}

/// The start of an answer's body, for an error message.
pub fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut cut: String = text.chars().take(300).collect();
    if cut.len() < text.len() {
        cut.push('…');
    }
    cut
}

/// The states the generated events cycle through. Never `down`: a unit going down (or coming
/// back up) wakes the repair agent, and these trials measure ingest, not the agents.
const STATES: [&str; 4] = ["running", "idle", "setup", "cleaning"];

/// Fresh `equipment_state_changed` events: ids `{prefix}-{n}` never used before (the prefix
/// carries the run's nonce), units of the plant in turn, times one millisecond apart from a
/// base just after the newest stored event.
pub struct EventGen {
    prefix: String,
    units: Vec<String>,
    base_ms: i64,
    next: u64,
}

/// One batch as sent: the JSON array and its events' ids, in order.
#[derive(Debug, Clone)]
pub struct Batch {
    pub body: String,
    pub ids: Vec<String>,
}

impl EventGen {
    pub fn new(prefix: String, units: Vec<String>, base: Timestamp) -> EventGen {
        assert!(!units.is_empty(), "events need a unit");
        EventGen {
            prefix,
            units,
            base_ms: base.0,
            next: 0,
        }
    }

    /// The next event as one JSON object on one line, and its id.
    pub fn event(&mut self) -> (String, String) {
        use std::fmt::Write as _;
        let n = self.next;
        self.next += 1;
        let id = format!("{}-{n}", self.prefix);
        let unit = &self.units[(n as usize) % self.units.len()];
        let state = STATES[(n as usize / self.units.len()) % STATES.len()];
        let time = Timestamp(self.base_ms + n as i64);
        let mut line = String::with_capacity(160);
        // Ids, units and states are plain ASCII without quotes or backslashes: written as
        // they are, the JSON is what serde would write, without its cost on the client.
        let _ = write!(
            line,
            r#"{{"id":"{id}","time":"{time}","source":"bench","type":"equipment_state_changed","unit":"{unit}","state":"{state}"}}"#
        );
        (line, id)
    }

    /// A batch of `size` fresh events.
    pub fn batch(&mut self, size: usize) -> Batch {
        let mut body = String::with_capacity(size * 160 + 2);
        let mut ids = Vec::with_capacity(size);
        body.push('[');
        for i in 0..size {
            if i > 0 {
                body.push(',');
            }
            let (line, id) = self.event();
            body.push_str(&line);
            ids.push(id);
        }
        body.push(']');
        Batch { body, ids }
    }
}

/// Drops `schemas` (each the store of a run or trial that passed) from the database `url`
/// names.
pub async fn drop_schemas(url: &str, schemas: &[String]) -> anyhow::Result<()> {
    use anyhow::Context as _;
    for schema in schemas {
        store::Store::drop_postgres_store(&store::with_schema(url, schema))
            .await
            .with_context(|| format!("dropping the schema {schema}"))?;
    }
    Ok(())
}

/// A token of this run, so ids stay fresh across runs on one store: the wall clock in
/// milliseconds, base 36.
pub fn nonce() -> String {
    let mut n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let mut digits = Vec::new();
    while n > 0 {
        digits.push(char::from_digit((n % 36) as u32, 36).unwrap_or('0'));
        n /= 36;
    }
    digits.iter().rev().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_events_are_events_the_model_reads_with_fresh_ids() {
        let base = Timestamp::parse("2026-03-02T06:00:00Z").unwrap();
        let mut generator = EventGen::new("t-x".into(), vec!["CB-1".into(), "FS-1".into()], base);
        let batch = generator.batch(9);
        let events: Vec<model::Event> = serde_json::from_str(&batch.body).unwrap();
        assert_eq!(events.len(), 9);
        let ids: Vec<String> = events.iter().map(|e| e.id.to_string()).collect();
        assert_eq!(ids, batch.ids);
        assert_eq!(ids[8], "t-x-8");
        assert_eq!(events[1].time, Timestamp(base.0 + 1));
        let next = generator.batch(1);
        assert_eq!(next.ids, ["t-x-9"]);
        assert!(!batch.body.contains("down"));
    }
}
