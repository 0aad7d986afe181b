//! The compliance harness run against the `odata` kind, built as the configuration builds it
//! (`Kinds::for_app`), reading the MES emulator's `Equipment/EquipmentStatusHistory` (one row,
//! one `equipment_state_changed`, whatever mixplane already knows) over real HTTP.
//!
//! The emulator runs on a manual clock: the peer holds more records when the test moves its
//! plant on; it repeats the last page that held rows (`repeat_page`), writes one row with a
//! status the profile does not know (`poison_row`), and closes its port and opens it again
//! (`down` in `refuse` mode, then `up`) — the emulator's own faults, through its Rust API.

mod common;
mod compliance;

use std::collections::HashSet;
use std::time::Duration;

use app::App;
use common::emu::{Emu, config};
use compliance::Peer;
use connect::{AnySource, ConnectorSpec, Kinds};
use mesemu::Step;
use mesemu::faults::{Down, DownMode, FaultRequest, PoisonRow};
use model::{Plant, PlantState, Timestamp};
use opcenter::EntitySet;
use serde_json::{Value, json};

const SET: EntitySet = EntitySet::EquipmentStatusHistory;

/// The emulator and the rows of the set the test has answered for (produced or poisoned).
struct OdataPeer {
    emu: Emu,
    answered: HashSet<String>,
    /// What the rows are mapped against to name their events (an event-like row's events do
    /// not depend on it).
    known: PlantState,
}

impl OdataPeer {
    async fn new() -> OdataPeer {
        let emu = Emu::start(config()).await;
        let known = PlantState::initial(&sim::reference_catalog(), emu.config.start);
        OdataPeer {
            emu,
            answered: HashSet::new(),
            known,
        }
    }

    /// The set's rows as the emulator holds them (not through the faults' gate: reading
    /// them here must neither be refused nor use up a fault meant for the connector).
    async fn rows(&self) -> Vec<Value> {
        self.emu.emulator.rows(SET).await.unwrap()
    }

    /// The rows not answered for yet.
    async fn new_rows(&self) -> Vec<Value> {
        self.rows()
            .await
            .into_iter()
            .filter(|row| !self.answered.contains(id_of(row)))
            .collect()
    }

    fn set_faults(&self, request: FaultRequest) {
        self.emu.emulator.set_faults(&request).unwrap();
    }
}

fn id_of(row: &Value) -> &str {
    row["Id"].as_str().expect("every row has an Id")
}

impl Peer for OdataPeer {
    type Source = AnySource;

    fn source(&self, name: &str, app: &App) -> AnySource {
        let c = &self.emu.config.credentials;
        let spec = ConnectorSpec {
            name: name.into(),
            kind: connect::odata::KIND.into(),
            principal: compliance::principal().id,
            poll_interval: Duration::from_millis(20),
            settings: json!({
                "base_url": self.emu.base,
                "app": SET.app().name(),
                "entity_set": SET.name(),
                // More than the emulator's page (25): it pages by itself too.
                "page_size": 40,
                "timeout_seconds": 5,
                "auth": {
                    "kind": "password",
                    "username": c.username,
                    "password": c.password,
                    "client_id": c.client_id,
                    "client_secret": c.client_secret,
                },
            }),
        };
        Kinds::for_app(app).build(&spec).unwrap()
    }

    fn plant(&self) -> (Plant, Timestamp) {
        (sim::reference_plant(), self.emu.config.start)
    }

    async fn produce(&mut self, n: usize) -> Vec<String> {
        let mut rows = self.new_rows().await;
        while rows.len() < n {
            let status = self
                .emu
                .emulator
                .advance(Step::Minutes(30.0))
                .await
                .unwrap();
            assert!(
                status.plant_time < status.end,
                "the plant's run ended before {n} rows were made"
            );
            rows = self.new_rows().await;
        }
        let mut ids = Vec::new();
        for row in &rows {
            let events = opcenter::map_row(SET.app().name(), SET.name(), row, &self.known)
                .unwrap_or_else(|e| panic!("a row of the plant does not map: {e}"));
            assert_eq!(events.len(), 1, "one row, one event: {row}");
            ids.extend(events.into_iter().map(|e| e.id.to_string()));
            self.answered.insert(id_of(row).to_owned());
        }
        ids
    }

    async fn repeat(&mut self) {
        self.set_faults(FaultRequest {
            repeat_page: true,
            ..FaultRequest::default()
        });
    }

    async fn poison(&mut self) {
        // The latest row's shape, with a status the profile does not know.
        let mut fields = self
            .rows()
            .await
            .last()
            .and_then(Value::as_object)
            .cloned()
            .expect("a row to poison after");
        for owned in ["Id", "NId", "ModifiedOn"] {
            fields.remove(owned);
        }
        fields.insert("Status".into(), json!("Exploded"));
        self.set_faults(FaultRequest {
            poison_row: Some(PoisonRow {
                app: SET.app().name().into(),
                set: SET.name().into(),
                fields,
            }),
            ..FaultRequest::default()
        });
        let written = self.new_rows().await;
        assert_eq!(written.len(), 1, "one poison row: {written:?}");
        assert_eq!(written[0]["Status"], "Exploded");
        assert!(opcenter::map_row(SET.app().name(), SET.name(), &written[0], &self.known).is_err());
        self.answered.insert(id_of(&written[0]).to_owned());
    }

    async fn down(&mut self) {
        // The port closed for longer than any scenario waits: only `up` opens it.
        self.set_faults(FaultRequest {
            down: Some(Down {
                seconds: 600,
                mode: DownMode::Refuse,
            }),
            ..FaultRequest::default()
        });
    }

    async fn up(&mut self) {
        self.set_faults(FaultRequest {
            up: true,
            ..FaultRequest::default()
        });
    }
}

compliance_tests!(odata, OdataPeer::new().await);
