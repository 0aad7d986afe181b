//! The compliance harness run against the `jsonl` source: a file of events the test appends
//! to, renamed away to take the peer down.

mod compliance;

use std::io::Write;
use std::path::PathBuf;

use compliance::Peer;
use connect::jsonl::{JsonlSettings, JsonlSource};
use model::{Event, Plant, Timestamp};

/// A file in a directory of its own, fed with events of a simulated day of the reference plant.
struct JsonlPeer {
    dir: PathBuf,
    events: Vec<Event>,
    next: usize,
    written: Vec<String>,
    start: Timestamp,
}

impl JsonlPeer {
    fn new(label: &str) -> JsonlPeer {
        let dir = std::env::temp_dir().join(format!(
            "mixplane-connect-{label}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let catalog = sim::reference_catalog();
        let options = sim::SimOptions {
            days: 2.0,
            ..sim::SimOptions::default()
        };
        let out = sim::simulate(&catalog, &options, None, |_| {}).unwrap();
        JsonlPeer {
            dir,
            events: out.events,
            next: 0,
            written: Vec::new(),
            start: options.start,
        }
    }

    fn path(&self) -> PathBuf {
        self.dir.join("events.jsonl")
    }

    fn append(&self, lines: &[String]) {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.path())
            .unwrap();
        for line in lines {
            writeln!(file, "{line}").unwrap();
        }
    }
}

impl Drop for JsonlPeer {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Peer for JsonlPeer {
    type Source = JsonlSource;

    fn source(&self, name: &str, _app: &app::App) -> JsonlSource {
        JsonlSource::new(
            name,
            JsonlSettings {
                path: self.path(),
                batch_lines: 25,
            },
        )
    }

    fn plant(&self) -> (Plant, Timestamp) {
        (sim::reference_plant(), self.start)
    }

    async fn produce(&mut self, n: usize) -> Vec<String> {
        let events = &self.events[self.next..self.next + n];
        self.next += n;
        let lines: Vec<String> = events
            .iter()
            .map(|e| serde_json::to_string(e).unwrap())
            .collect();
        self.append(&lines);
        self.written.extend(lines);
        events.iter().map(|e| e.id.to_string()).collect()
    }

    async fn repeat(&mut self) {
        let again = self.written.clone();
        self.append(&again);
    }

    async fn poison(&mut self) {
        self.append(&[
            r#"{"id": "poison", "type": "no_such_event", "time": "2026-03-02T06:00:00Z"}"#
                .to_owned(),
        ]);
    }

    async fn down(&mut self) {
        if self.path().exists() {
            std::fs::rename(self.path(), self.dir.join("away.jsonl")).unwrap();
        }
    }

    async fn up(&mut self) {
        let away = self.dir.join("away.jsonl");
        if away.exists() {
            std::fs::rename(away, self.path()).unwrap();
        }
    }
}

compliance_tests!(jsonl, JsonlPeer::new("jsonl"));
