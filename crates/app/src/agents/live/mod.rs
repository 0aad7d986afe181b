//! The live agents: the loop that watches the event log and the holds, gathers a burst of
//! events into reactions ([`triggers`]), and runs each as its agent ([`react`]), proposing
//! through governance like any other proposer.
//!
//! - *Equipment down or back up* → `mixplane-repair` repairs the plan in force.
//! - *Orders released, changed, cancelled, a rush order* → `mixplane-replan` makes the plan
//!   again around them and ranks what-ifs beside its proposal.
//! - *Material received or a lot held that open work consumes* → `mixplane-replan` plans the
//!   affected operations again.
//! - *On a cadence of plant time* → `mixplane-improve` proposes a plan that beats the one in
//!   force by the configured margin.
//!
//! The loop starts at the log's head (history is not re-enacted), reads new events every
//! `poll_ms`, and closes a burst when no further trigger came for `quiet_ms` or `max_wait_ms`
//! after its first: a burst is one proposal per kind of reaction. What a reaction proposes
//! depends only on the store's state and the events it answers (iteration budgets, seeds
//! drawn from the event ids), so the same events give the same proposal. A proposal starts
//! from a version of the plan in force and expires when another version supersedes it
//! (`schedule::in_force`). A reaction that fails is logged and counted; the loop goes on.

pub mod react;
pub mod settings;
pub mod triggers;

use std::collections::{BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use model::Timestamp;
use serde::Serialize;
use store::{EventFilter, HoldFilter, StoredEvent};
use tokio::sync::watch;

pub use self::react::{IMPROVE_AGENT, Outcome, REPAIR_AGENT, REPLAN_AGENT, agent};
pub use self::settings::AgentSettings;
pub use self::triggers::{Memory, Reaction, classify};

use crate::App;

/// How many reactions the status keeps.
const KEPT_REACTIONS: usize = 50;
/// Events read from the log per query.
const PAGE: u32 = 1000;

/// One reaction as the status reports it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ReactionRecord {
    /// `equipment`, `orders`, `materials` or `improve`.
    pub reaction: String,
    pub agent: String,
    /// The events (or `hold:<lot>`) it answered, at most 20.
    pub causes: Vec<String>,
    /// The proposal it made, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proposal: Option<String>,
    /// The proposal's status when it was made (`applied` when the policy let it apply).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Why nothing was proposed, or what failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Milliseconds from the first event's storage to the proposal (wall clock).
    pub latency_ms: i64,
    pub at: Timestamp,
}

/// What the agents have done since they started.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct AgentStatus {
    pub running: bool,
    /// The last log sequence number read.
    pub read_through_seq: i64,
    pub reactions: u64,
    pub proposals: u64,
    pub failures: u64,
    /// Newest first.
    pub recent: VecDeque<ReactionRecord>,
}

/// The running agents: their status, and a way to stop them.
#[derive(Debug, Clone)]
pub struct AgentsHandle {
    status: Arc<Mutex<AgentStatus>>,
    stop: watch::Sender<bool>,
    settings: Arc<AgentSettings>,
}

impl AgentsHandle {
    /// A copy of the status.
    pub fn status(&self) -> AgentStatus {
        self.status.lock().expect("status lock").clone()
    }

    /// The settings they run with.
    pub fn settings(&self) -> &AgentSettings {
        &self.settings
    }

    /// Asks the loop to stop after the reaction it is running.
    pub fn stop(&self) {
        let _ = self.stop.send(true);
    }
}

/// Starts the agents on the current tokio runtime.
pub fn start(app: App, settings: AgentSettings) -> AgentsHandle {
    let status = Arc::new(Mutex::new(AgentStatus {
        running: true,
        ..Default::default()
    }));
    let (stop, stopped) = watch::channel(false);
    let settings = Arc::new(settings);
    let handle = AgentsHandle {
        status: status.clone(),
        stop,
        settings: settings.clone(),
    };
    tokio::spawn(async move {
        let mut runner = Runner::new(app, settings, status.clone()).await;
        runner.run(stopped).await;
        status.lock().expect("status lock").running = false;
    });
    handle
}

struct Runner {
    app: App,
    settings: Arc<AgentSettings>,
    status: Arc<Mutex<AgentStatus>>,
    last_seq: i64,
    memory: Memory,
    holds: BTreeSet<String>,
    last_improve: Option<Timestamp>,
}

/// A burst being gathered.
struct Burst {
    events: Vec<StoredEvent>,
    held: Vec<String>,
    first: Instant,
    last_trigger: Instant,
    /// When the first triggering event was stored (wall ms), for the latency.
    first_recorded: Option<Timestamp>,
}

impl Runner {
    async fn new(app: App, settings: Arc<AgentSettings>, status: Arc<Mutex<AgentStatus>>) -> Self {
        let snapshot = app.store.snapshot().await;
        let last_seq = head(&app, snapshot.state.clock).await;
        let holds = active_lot_holds(&app).await.unwrap_or_default();
        Runner {
            memory: Memory::from_state(&snapshot.state),
            app,
            settings,
            status,
            last_seq,
            holds,
            last_improve: None,
        }
    }

    async fn run(&mut self, mut stopped: watch::Receiver<bool>) {
        let poll = Duration::from_millis(self.settings.poll_ms);
        let mut burst: Option<Burst> = None;
        loop {
            tokio::select! {
                _ = tokio::time::sleep(poll) => {}
                _ = stopped.changed() => return,
            }
            if *stopped.borrow() {
                return;
            }
            let (events, held) = match self.read().await {
                Ok(read) => read,
                Err(e) => {
                    tracing::warn!("agents: reading the log failed: {e}");
                    continue;
                }
            };
            let triggers = self.triggers_in(&events, &held).await;
            let now = Instant::now();
            if triggers {
                let first_recorded = events.first().map(|e| e.recorded_at);
                let b = burst.get_or_insert(Burst {
                    events: Vec::new(),
                    held: Vec::new(),
                    first: now,
                    last_trigger: now,
                    first_recorded,
                });
                b.last_trigger = now;
            }
            if let Some(b) = burst.as_mut() {
                b.events.extend(events);
                b.held.extend(held);
            }
            let due = burst.as_ref().is_some_and(|b| {
                now.duration_since(b.last_trigger).as_millis() as u64 >= self.settings.quiet_ms
                    || now.duration_since(b.first).as_millis() as u64 >= self.settings.max_wait_ms
            });
            if due && let Some(b) = burst.take() {
                self.react_to(b).await;
            }
            if burst.is_none() {
                self.maybe_improve().await;
            }
        }
    }

    /// New events since the last read, and lots newly on hold (each once).
    async fn read(&mut self) -> Result<(Vec<StoredEvent>, Vec<String>), crate::AppError> {
        let mut events = Vec::new();
        loop {
            let page = self
                .app
                .store
                .events(EventFilter {
                    after_seq: Some(self.last_seq),
                    limit: PAGE,
                    ..Default::default()
                })
                .await?;
            let full = page.len() == PAGE as usize;
            if let Some(last) = page.last() {
                self.last_seq = last.seq;
            }
            events.extend(page);
            if !full {
                break;
            }
        }
        self.status.lock().expect("status lock").read_through_seq = self.last_seq;
        let active = active_lot_holds(&self.app).await?;
        let held: Vec<String> = active.difference(&self.holds).cloned().collect();
        self.holds = active;
        Ok((events, held))
    }

    /// Whether `events` or `held` call for any reaction (the memory is left as it was: the
    /// burst is classified once, whole, when it closes).
    async fn triggers_in(&self, events: &[StoredEvent], held: &[String]) -> bool {
        if events.is_empty() && held.is_empty() {
            return false;
        }
        let snapshot = self.app.store.snapshot().await;
        let Some(catalog) = snapshot.catalog else {
            return false;
        };
        let held = held_with_material(&snapshot.state, held);
        let mut scratch = self.memory.clone();
        !classify(&catalog, &snapshot.state, events, &held, &mut scratch).is_empty()
    }

    async fn react_to(&mut self, burst: Burst) {
        let snapshot = self.app.store.snapshot().await;
        let Some(catalog) = snapshot.catalog else {
            return;
        };
        let held = held_with_material(&snapshot.state, &burst.held);
        let reactions = classify(
            &catalog,
            &snapshot.state,
            &burst.events,
            &held,
            &mut self.memory,
        );
        for reaction in reactions {
            let agent = match reaction {
                Reaction::Equipment { .. } => REPAIR_AGENT,
                _ => REPLAN_AGENT,
            };
            let outcome = react::react(&self.app, &self.settings, &reaction).await;
            self.record(
                reaction.name(),
                agent,
                reaction.causes(),
                burst.first_recorded,
                outcome,
            );
        }
    }

    /// Runs the improver when `improve_every_minutes` of plant time passed since its last run
    /// (and once at start).
    async fn maybe_improve(&mut self) {
        let every = self.settings.improve_every_minutes;
        if every == 0 {
            return;
        }
        let clock = self.app.store.snapshot().await.state.clock;
        let Some(clock) = clock else {
            return;
        };
        if self
            .last_improve
            .is_some_and(|last| clock.0 - last.0 < every * 60_000)
        {
            return;
        }
        self.last_improve = Some(clock);
        // One improvement waiting for a planner is enough: another would only repeat it.
        if self.improvement_waiting().await {
            return;
        }
        let outcome = react::improve(&self.app, &self.settings).await;
        self.record("improve", IMPROVE_AGENT, &[], None, outcome);
    }

    /// Whether a proposal of the improver still waits for a decision.
    async fn improvement_waiting(&self) -> bool {
        let waiting = self
            .app
            .store
            .proposals(&store::ProposalFilter {
                status: Some(govern::Status::Proposed),
                limit: store::MAX_PAGE,
                ..Default::default()
            })
            .await;
        let now = self.app.now();
        waiting.is_ok_and(|page| {
            page.items
                .iter()
                .any(|p| p.proposed_by == IMPROVE_AGENT && p.expires_at > now)
        })
    }

    fn record(
        &self,
        reaction: &str,
        agent: &str,
        causes: &[String],
        first_recorded: Option<Timestamp>,
        outcome: Result<Outcome, crate::AppError>,
    ) {
        let at = self.app.now();
        let latency_ms = first_recorded.map_or(0, |t| (at.0 - t.0).max(0));
        let mut record = ReactionRecord {
            reaction: reaction.to_owned(),
            agent: agent.to_owned(),
            causes: causes.iter().take(20).cloned().collect(),
            proposal: None,
            status: None,
            note: None,
            latency_ms,
            at,
        };
        let mut status = self.status.lock().expect("status lock");
        status.reactions += 1;
        match outcome {
            Ok(Outcome::Proposed(proposal)) => {
                tracing::info!(
                    agent,
                    proposal = %proposal.id,
                    status = %proposal.status,
                    latency_ms,
                    "agents: {}",
                    proposal.title
                );
                status.proposals += 1;
                record.proposal = Some(proposal.id.clone());
                record.status = Some(proposal.status.to_string());
            }
            Ok(Outcome::Nothing(why)) => {
                tracing::debug!(agent, "agents: nothing to propose: {why}");
                record.note = Some(why);
            }
            Err(e) => {
                tracing::warn!(agent, "agents: {reaction} reaction failed: {e}");
                status.failures += 1;
                record.note = Some(e.to_string());
            }
        }
        status.recent.push_front(record);
        status.recent.truncate(KEPT_REACTIONS);
    }
}

/// The log's last sequence number. An event at the plant clock is among the newest; from
/// the first of them the log is read on to its end (events stored later with an earlier
/// plant time included).
async fn head(app: &App, clock: Option<Timestamp>) -> i64 {
    let Some(clock) = clock else {
        return 0;
    };
    let first = app
        .store
        .events(EventFilter {
            from: Some(clock),
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap_or_default();
    let Some(mut last) = first.first().map(|e| e.seq) else {
        return 0;
    };
    loop {
        let page = app
            .store
            .events(EventFilter {
                after_seq: Some(last),
                limit: PAGE,
                ..Default::default()
            })
            .await
            .unwrap_or_default();
        let Some(end) = page.last() else {
            break;
        };
        last = end.seq;
        if page.len() < PAGE as usize {
            break;
        }
    }
    last
}

/// Ids of the lots on hold now.
async fn active_lot_holds(app: &App) -> Result<BTreeSet<String>, crate::AppError> {
    let page = app
        .store
        .holds(HoldFilter {
            active: Some(true),
            item_kind: Some("lot".into()),
            item_id: None,
            limit: store::MAX_PAGE,
            offset: 0,
        })
        .await?;
    Ok(page.items.into_iter().map(|h| h.item_id).collect())
}

fn held_with_material(state: &model::PlantState, lots: &[String]) -> Vec<(String, String)> {
    let holds: Vec<(String, String)> = lots.iter().map(|l| ("lot".into(), l.clone())).collect();
    triggers::held_lots(state, &holds)
}

/// One agent as `GET /v1/agents` describes it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct AgentView {
    /// Its principal's name, as proposals and the audit trail name it.
    pub name: String,
    pub kind: String,
    pub role: String,
    pub scope: String,
    /// What makes it act.
    pub reacts_to: String,
}

/// The live agents as a reader sees them: who they are, whether they run, and what they did
/// lately (only reactions whose proposal the reader may read, or that proposed nothing, for
/// a reader whose scope does not cover every area).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct AgentsView {
    pub running: bool,
    pub agents: Vec<AgentView>,
    pub reactions: u64,
    pub proposals: u64,
    pub failures: u64,
    pub read_through_seq: i64,
    /// Newest first.
    pub recent: Vec<ReactionRecord>,
}

/// The agents' description and status for `who`; `handle` is `None` when they do not run on
/// this server.
pub async fn view(
    app: &App,
    who: &govern::Principal,
    handle: Option<&AgentsHandle>,
) -> Result<AgentsView, crate::AppError> {
    let scope = handle.map_or(govern::Scope::All, |h| h.settings().scope.clone());
    let describe = |name: &str, reacts_to: &str| AgentView {
        name: name.to_owned(),
        kind: govern::PrincipalKind::Agent.to_string(),
        role: govern::Role::Agent.to_string(),
        scope: scope.to_string(),
        reacts_to: reacts_to.to_owned(),
    };
    let agents = vec![
        describe(
            REPAIR_AGENT,
            "equipment going down or coming back up: a repair of the plan in force",
        ),
        describe(
            REPLAN_AGENT,
            "orders released, changed or cancelled, rush orders, receipts and held lots of material open work consumes: the plan made again, with ranked what-ifs",
        ),
        describe(
            IMPROVE_AGENT,
            "a cadence of plant time: a plan that beats the one in force by the configured margin",
        ),
    ];
    let Some(handle) = handle else {
        return Ok(AgentsView {
            running: false,
            agents,
            reactions: 0,
            proposals: 0,
            failures: 0,
            read_through_seq: 0,
            recent: Vec::new(),
        });
    };
    let status = handle.status();
    let mut recent = Vec::new();
    for record in status.recent {
        let visible = match &record.proposal {
            Some(id) => crate::govern::show(app, who, id).await.is_ok(),
            None => who.scope == govern::Scope::All,
        };
        if visible {
            recent.push(record);
        }
    }
    Ok(AgentsView {
        running: status.running,
        agents,
        reactions: status.reactions,
        proposals: status.proposals,
        failures: status.failures,
        read_through_seq: status.read_through_seq,
        recent,
    })
}
