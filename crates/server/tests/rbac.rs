//! The table-driven access test: every endpoint of `server::api::endpoints()` is called with
//! no token, a bad token, and a token of every role in every kind of scope, and must answer
//! 401 without a valid token, 403 where the role or the scope does not permit, 404 where the
//! role permits but the one object read lies in another area (its existence is hidden, see
//! `app::scope`), and success (not 401/403; 2xx where the test knows a valid request) where
//! it does. What scoped callers see and change with data in several areas is the matrix of
//! `tests/rbac_areas.rs`.
//!
//! Who may call what is written out here, independently of `govern`'s role table:
//! [`granted`] maps every permission to the roles that hold it (an exhaustive match, so a new
//! permission does not compile without a rule), and [`RULES`] names every endpoint by its
//! operation id with how to call it and any object-level narrowing (approver roles of the
//! proposal's kind, the proposal's area in scope). An endpoint missing from `RULES` fails the
//! test.

mod common;

use common::{Setup, TestApp};

use app::Clock as _;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use govern::{
    ActionKind, Change, Evidence, Hierarchy, Outcome, Permission, Policy, Principal, PrincipalKind,
    Proposal, ProposalDraft, Pseudonymizer, Role, Scope, Status, Trigger,
};
use serde_json::{Value, json};
use store::GovernanceWrite;

/// The roles that hold each permission.
fn granted(permission: Permission) -> &'static [Role] {
    use Role::*;
    const EVERYONE: &[Role] = &[
        Viewer,
        Operator,
        Planner,
        QualityEngineer,
        Supervisor,
        Admin,
        Agent,
    ];
    match permission {
        Permission::Public => EVERYONE,
        Permission::ReadPlant
        | Permission::ReadEvents
        | Permission::ReadQuality
        | Permission::ReadTrace
        | Permission::ReadSchedule
        | Permission::ReadProposals => EVERYONE,
        Permission::WriteEvents => &[Operator, Supervisor, Admin],
        Permission::WriteQuality | Permission::WriteTrace => {
            &[Operator, QualityEngineer, Supervisor, Admin]
        }
        Permission::DisposeQuality => &[QualityEngineer, Supervisor, Admin],
        Permission::WriteSchedule => &[Planner, Supervisor, Admin, Agent],
        Permission::ReadAudit => &[Supervisor, Admin],
        Permission::ProposeChanges => &[Planner, QualityEngineer, Supervisor, Admin, Agent],
        Permission::DecideProposals | Permission::ApplyProposals => {
            &[Planner, QualityEngineer, Supervisor, Admin]
        }
        Permission::ResolvePseudonyms | Permission::ManagePrincipals => &[Admin],
    }
}

/// How the test calls an endpoint.
#[derive(Debug, Clone, Copy)]
enum Sample {
    /// The path as it is, no body; must succeed.
    Plain,
    /// A path with `{id}` = an order id.
    Order,
    /// A batch of one fresh valid event.
    Events,
    /// `{id}` = a fresh proposal in area A-CHEM with this status.
    Proposal(Status),
    /// A fresh copilot proposal draft in area A-CHEM.
    Submit,
    /// `{pseudonym}` = the pseudonym of a pool member.
    Pseudonym,
    /// Path parameters `x`, body as given: the test only checks access (not 401/403, no 5xx),
    /// not that the request is valid.
    Access(&'static str),
}

struct Rule {
    operation_id: &'static str,
    sample: Sample,
    /// Object-level narrowing of the roles (the approver roles of the proposal's kind).
    only: Option<&'static [Role]>,
    /// The object lives in area A-CHEM: an `area:A-PACK` principal is refused.
    area_bound: bool,
}

const fn rule(operation_id: &'static str, sample: Sample) -> Rule {
    Rule {
        operation_id,
        sample,
        only: None,
        area_bound: false,
    }
}

const fn in_area(operation_id: &'static str, sample: Sample) -> Rule {
    Rule {
        operation_id,
        sample,
        only: None,
        area_bound: true,
    }
}

/// Reads of one object of area A-CHEM (an order, a proposal touching only A-CHEM) that an `area:A-PACK` principal whose role permits
/// them gets as 404: to it the object does not exist. The pseudonym sample is CH-01's, a
/// member of a pool serving A-CHEM and A-SVC only.
const HIDDEN_OUTSIDE_AREA: &[&str] = &["getOrder", "getProposal", "resolvePseudonym"];

/// Approver roles of `schedule_change` in the shipped policy.
const SCHEDULE_APPROVERS: &[Role] = &[Role::Planner, Role::Supervisor, Role::Admin];

const RULES: &[Rule] = &[
    // Foundation.
    rule("health", Sample::Plain),
    rule("ready", Sample::Plain),
    // The metrics span every area: site-wide scopes only.
    in_area("metrics", Sample::Plain),
    rule("getPlant", Sample::Plain),
    rule("listOrders", Sample::Plain),
    rule("getOrder", Sample::Order),
    rule("listWorkCenters", Sample::Plain),
    in_area("ingestEvents", Sample::Events),
    rule("listEvents", Sample::Plain),
    // The audit trail names no area and is verified whole: site-wide scopes only.
    in_area("listAudit", Sample::Plain),
    in_area("verifyAudit", Sample::Plain),
    rule("openapi", Sample::Plain),
    // Connectors: their status names no plant object; dead letters are raw records of any
    // area, read with a site-wide scope only.
    rule("listConnectors", Sample::Plain),
    in_area("listDeadLetters", Sample::Access("")),
    rule("apiDocs", Sample::Plain),
    // Governance.
    rule("listProposals", Sample::Plain),
    // The KPIs count proposals the caller reads; agents' calls for a site-wide scope only.
    rule("getRolloutKpis", Sample::Plain),
    in_area("submitProposal", Sample::Submit),
    in_area("getProposal", Sample::Proposal(Status::Proposed)),
    Rule {
        operation_id: "approveProposal",
        sample: Sample::Proposal(Status::Proposed),
        only: Some(SCHEDULE_APPROVERS),
        area_bound: true,
    },
    Rule {
        operation_id: "rejectProposal",
        sample: Sample::Proposal(Status::Proposed),
        only: Some(SCHEDULE_APPROVERS),
        area_bound: true,
    },
    in_area("applyProposal", Sample::Proposal(Status::Approved)),
    in_area("rollBackProposal", Sample::Proposal(Status::Applied)),
    rule("getPolicy", Sample::Plain),
    rule("getAgents", Sample::Plain),
    rule("resolvePseudonym", Sample::Pseudonym),
    // Quality.
    rule("analyzeSpc", Sample::Access("{}")),
    rule("recordQualityResults", Sample::Access("{}")),
    rule("getCharacteristicChart", Sample::Access("")),
    // Root cause reads a characteristic the caller reads; its causes in other areas are
    // counted, not shown (tests/root_cause.rs).
    rule("rankRootCauses", Sample::Access("")),
    rule("listQualityAlerts", Sample::Access("")),
    rule("listHolds", Sample::Access("")),
    rule("placeHold", Sample::Access("{}")),
    rule("getHold", Sample::Access("")),
    rule("releaseHold", Sample::Access("{}")),
    rule("listNonconformances", Sample::Access("")),
    rule("openNonconformance", Sample::Access("{}")),
    rule("getNonconformance", Sample::Access("")),
    rule("transitionNonconformance", Sample::Access("{}")),
    rule("releaseGate", Sample::Access("")),
    // Genealogy.
    // Imports link material across areas: area-scoped principals are refused.
    in_area("traceImport", Sample::Access("{}")),
    rule("traceBackward", Sample::Access("")),
    rule("traceForward", Sample::Access("")),
    rule("traceRecall", Sample::Access("")),
    rule("traceRecallRequest", Sample::Access("{}")),
    rule("traceReconcile", Sample::Access("")),
    in_area("epcisCapture", Sample::Access("{}")),
    // Captured EPCIS events link material across areas: site-wide scopes only, like imports.
    in_area("epcisEvents", Sample::Access("")),
    // Scheduling.
    rule("optimizeSchedule", Sample::Access("{}")),
    rule("solveSchedule", Sample::Access("{}")),
    rule("checkSchedule", Sample::Access("{}")),
    rule("explainSchedule", Sample::Access("{}")),
    rule("scheduleScenarios", Sample::Access("{}")),
    rule("scheduleScenarioCommit", Sample::Access("{}")),
    rule("repairSchedule", Sample::Access("{}")),
    // The plan in force (none in the fixture: 404) and the current problem, read by all.
    rule("getSchedule", Sample::Access("")),
    rule("explainPlanInForce", Sample::Access("")),
    rule("listScheduleVersions", Sample::Plain),
    rule("getScheduleProblem", Sample::Plain),
    // A plan covers the site: planners, supervisors and administrators of the whole site.
    Rule {
        operation_id: "makeSchedulePlan",
        sample: Sample::Access(r#"{"time_limit_seconds": 0}"#),
        only: Some(SCHEDULE_APPROVERS),
        area_bound: true,
    },
    // The fixture's proposals carry no plan: 404 for everyone who reads proposals.
    rule("getProposalPlan", Sample::Access("")),
    // ISA-95 documents. An invalid schedule is refused (422) before any order is scoped;
    // no plan is in force in the fixture (404 for every reader); a recipe is only read.
    rule("importB2mmlSchedule", Sample::Access("{}")),
    rule("exportB2mmlSchedule", Sample::Access("")),
    rule("readBatchmlRecipe", Sample::Access("{}")),
    // The MCP door: the route needs `read_plant`; each tool then checks its own permission
    // and the object's scope (crates/mcp/tests/tools.rs, mixplane/tests/mcp_python.rs).
    rule(
        "mcp",
        Sample::Access(r#"{"jsonrpc": "2.0", "id": 1, "method": "ping"}"#),
    ),
    // Principals.
    rule("listPrincipals", Sample::Plain),
    rule("issueToken", Sample::Access("{}")),
    rule("revokeTokens", Sample::Access("")),
    rule("updatePrincipal", Sample::Access("{}")),
    rule("issueAnotherToken", Sample::Access("")),
];

/// The scopes every role is tried with, and whether each reaches area A-CHEM of site RHF.
const SCOPES: &[(&str, &str)] = &[
    ("all", "*"),
    ("site", "site:RHF"),
    ("pack", "area:A-PACK"),
    ("elsewhere", "site:ELSEWHERE"),
];

/// The harness with no caller of its own: a token for every role in every scope instead.
struct Fixture {
    app: TestApp,
    /// Principal name → token.
    tokens: BTreeMap<String, String>,
    hierarchy: Hierarchy,
    pseudonym: String,
    counter: AtomicU64,
}

fn system() -> GovernanceWrite {
    GovernanceWrite::by(store::Actor::system("rbac-test"), None)
}

impl Fixture {
    async fn start() -> Fixture {
        let app = TestApp::with(Setup {
            file_sink: true,
            caller: None,
            ..Setup::default()
        })
        .await;
        let mut tokens = BTreeMap::new();
        for role in Role::ALL {
            for (label, scope) in SCOPES {
                let name = format!("{role}-{label}");
                tokens.insert(name.clone(), app.token_for(&name, role, scope).await);
            }
        }
        let key = app.store.pseudonym_key().await.unwrap();
        let pseudonym = Pseudonymizer::new(key, Default::default()).pseudonym("CH-01");
        Fixture {
            app,
            tokens,
            hierarchy: Hierarchy::from_plant(&sim::reference_plant()),
            pseudonym,
            counter: AtomicU64::new(0),
        }
    }

    fn next(&self) -> u64 {
        self.counter.fetch_add(1, Ordering::Relaxed)
    }

    /// A fresh schedule-change proposal in A-CHEM that needs approval, brought to `status`.
    async fn proposal(&self, status: Status) -> String {
        let bot = Principal::new("rbac-bot", PrincipalKind::Agent, Role::Agent, Scope::All);
        let boss = Principal::new(
            "rbac-boss",
            PrincipalKind::Person,
            Role::Supervisor,
            Scope::All,
        );
        let now = app::SystemClock.now();
        let id = format!("T-{}", self.next());
        let policy = Policy::default_policy();
        let draft = draft(ActionKind::ScheduleChange, 120);
        let snapshot = self.app.store.snapshot().await;
        let catalog = snapshot.catalog.clone().unwrap();
        let facts = govern::PlantView {
            catalog: &catalog,
            state: &snapshot.state,
        };
        let assessment = govern::assess(&draft.diff, &facts).unwrap();
        let mut p = Proposal::propose(
            id.clone(),
            draft,
            &bot,
            &policy,
            &self.hierarchy,
            &assessment,
            now,
        )
        .unwrap();
        assert_eq!(p.status, Status::Proposed);
        if matches!(status, Status::Approved | Status::Applied) {
            p.approve(&boss, &self.hierarchy, now, None).unwrap();
        }
        if status == Status::Applied {
            p.record_applied(Outcome {
                by: "rbac-boss".into(),
                at: now,
                sink: "file".into(),
                answer: json!({"status": "Succeeded"}),
            });
        }
        self.app.store.insert_proposal(&p, system()).await.unwrap();
        id
    }

    /// The path and body to call `endpoint` with.
    async fn request(
        &self,
        endpoint: &server::routes::Endpoint,
        sample: Sample,
    ) -> (String, Option<String>) {
        let with = |name: &str, value: &str| endpoint.path.replace(&format!("{{{name}}}"), value);
        match sample {
            Sample::Plain => (endpoint.path.to_owned(), None),
            Sample::Order => (with("id", "MO-260001"), None),
            Sample::Events => {
                let event = json!([{
                    "id": format!("rbac-{}", self.next()),
                    "time": "2026-03-02T06:00:00Z",
                    "type": "equipment_state_changed",
                    "unit": "R-101",
                    "state": "idle",
                }]);
                (endpoint.path.to_owned(), Some(event.to_string()))
            }
            Sample::Proposal(status) => {
                let id = self.proposal(status).await;
                let body = (status == Status::Approved).then(|| r#"{"sink":"file"}"#.to_owned());
                (with("id", &id), body)
            }
            Sample::Submit => {
                let draft = draft(ActionKind::WorkInstructionChange, 0);
                (
                    endpoint.path.to_owned(),
                    Some(serde_json::to_string(&draft).unwrap()),
                )
            }
            Sample::Pseudonym => (with("pseudonym", &self.pseudonym), None),
            Sample::Access(body) => {
                let mut path = endpoint.path.to_owned();
                while let (Some(open), Some(close)) = (path.find('{'), path.find('}')) {
                    path.replace_range(open..=close, "x");
                }
                (path, (!body.is_empty()).then(|| body.to_owned()))
            }
        }
    }

    async fn call(
        &self,
        endpoint: &server::routes::Endpoint,
        path: &str,
        body: Option<String>,
        token: Option<&str>,
    ) -> (u16, Value) {
        let mut request = self
            .app
            .client
            .request(endpoint.method.clone(), self.app.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let text = response.text().await.unwrap();
        if matches!(status, 401 | 403) {
            assert_eq!(content_type, "application/problem+json", "{status} {text}");
        }
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
}

/// A draft whose diff implies `kind`: a due-date move of high-priority MO-260001 (A-CHEM)
/// by `minutes`, or an edit of a work instruction (which plant facts do not locate, so the
/// named area A-CHEM stands).
fn draft(kind: ActionKind, minutes: i64) -> ProposalDraft {
    let mut draft = due_move(minutes);
    draft.kind = kind;
    if kind == ActionKind::WorkInstructionChange {
        draft.diff = vec![Change {
            entity: "work_instruction".into(),
            id: "WI-REACTOR-CHARGE".into(),
            field: "text".into(),
            before: json!("charge 200 l"),
            after: json!("charge 180 l"),
            shift_minutes: None,
            high_priority: false,
        }];
    }
    draft
}

fn due_move(minutes: i64) -> ProposalDraft {
    ProposalDraft {
        kind: ActionKind::ScheduleChange,
        area: "A-CHEM".into(),
        title: "rbac".into(),
        evidence: Evidence {
            input_sha256: "e".repeat(64),
            engine: "rbac-test".into(),
            engine_version: "0.1.0".into(),
            trigger: Trigger::Principal {
                principal: "rbac".into(),
            },
            kpis_before: Default::default(),
            kpis_after: Default::default(),
        },
        diff: vec![Change {
            entity: "order".into(),
            id: "MO-260001".into(),
            field: "due".into(),
            before: json!("2026-03-02T16:00:00Z"),
            after: json!(
                model::Timestamp::parse("2026-03-02T16:00:00Z")
                    .unwrap()
                    .plus_minutes(minutes as f64)
            ),
            shift_minutes: Some(minutes),
            high_priority: true,
        }],
    }
}

#[tokio::test]
async fn every_endpoint_answers_401_403_or_success_for_every_role_and_scope() {
    let fx = Fixture::start().await;
    let endpoints = server::api::endpoints();
    let mut checked = 0;
    let mut failures = Vec::new();
    for endpoint in &endpoints {
        let Some(rule) = RULES
            .iter()
            .find(|r| r.operation_id == endpoint.operation_id)
        else {
            panic!(
                "endpoint {} {} ({}) has no rule in tests/rbac.rs RULES: say how to call it and who may",
                endpoint.method, endpoint.path, endpoint.operation_id
            );
        };
        let public = endpoint.permission == Permission::Public;
        let strict = !matches!(rule.sample, Sample::Access(_));
        let mut expect = |who: &str, status: u16, expected: Expectation, body: &Value| {
            checked += 1;
            let ok = match expected {
                Expectation::Unauthorized => status == 401,
                Expectation::Forbidden => status == 403,
                Expectation::Hidden => status == 404,
                Expectation::Success if strict => (200..300).contains(&status),
                Expectation::Success => !matches!(status, 401 | 403) && status < 500,
            };
            if !ok {
                failures.push(format!(
                    "{} {} as {who}: expected {expected:?}, got {status}: {body}",
                    endpoint.method, endpoint.path
                ));
            }
        };

        // No token, and a well-formed token nobody issued.
        for (who, token) in [
            ("no token", None),
            (
                "a bad token",
                Some(format!("mxp_{}_{}", "0".repeat(16), "1".repeat(64))),
            ),
        ] {
            let (path, body) = fx.request(endpoint, rule.sample).await;
            let (status, answer) = fx.call(endpoint, &path, body, token.as_deref()).await;
            let expected = if public {
                Expectation::Success
            } else {
                Expectation::Unauthorized
            };
            expect(who, status, expected, &answer);
        }

        // Every role in every scope.
        for role in Role::ALL {
            for (label, _) in SCOPES {
                let name = format!("{role}-{label}");
                let permitted_role = granted(endpoint.permission).contains(&role)
                    && rule.only.is_none_or(|only| only.contains(&role));
                let in_scope = match *label {
                    "all" | "site" => true,
                    "pack" => !rule.area_bound,
                    _ => false,
                };
                let hidden = *label == "pack" && HIDDEN_OUTSIDE_AREA.contains(&rule.operation_id);
                let expected = if public || (permitted_role && in_scope && !hidden) {
                    Expectation::Success
                } else if permitted_role && hidden {
                    Expectation::Hidden
                } else {
                    Expectation::Forbidden
                };
                let (path, body) = fx.request(endpoint, rule.sample).await;
                let (status, answer) = fx
                    .call(endpoint, &path, body, Some(&fx.tokens[&name]))
                    .await;
                expect(&name, status, expected, &answer);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} calls answered wrongly:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked >= endpoints.len() * 30);
    assert!(fx.app.store.verify_audit().await.unwrap().is_intact());
}

#[derive(Debug, Clone, Copy)]
enum Expectation {
    Unauthorized,
    Forbidden,
    /// 404: the object lies outside the caller's area.
    Hidden,
    Success,
}

/// The route-level rule of the test table agrees with `govern`'s role table, so the two
/// written-out tables cannot drift apart unnoticed.
#[test]
fn the_test_table_matches_the_role_table() {
    for permission in Permission::ALL {
        for role in Role::ALL {
            assert_eq!(
                granted(permission).contains(&role),
                role.allows(permission),
                "{role} and {permission:?}"
            );
        }
    }
}

/// Tokens are the only identity: a self-declared actor header is ignored and the audit names
/// the authenticated principal.
#[tokio::test]
async fn the_audited_actor_is_the_authenticated_principal() {
    let fx = Fixture::start().await;
    let endpoint = server::api::endpoints()
        .into_iter()
        .find(|e| e.operation_id == "ingestEvents")
        .unwrap();
    let (path, body) = fx.request(&endpoint, Sample::Events).await;
    let response = fx
        .app
        .client
        .post(fx.app.url(&path))
        .bearer_auth(&fx.tokens["operator-all"])
        .header("x-mixplane-actor", "person:somebody-else")
        .header("content-type", "application/json")
        .body(body.unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let audit = fx.app.store.audit_log(0, 1000).await.unwrap();
    let last = audit.last().unwrap();
    assert_eq!(last.action, "events.append");
    assert_eq!(last.actor.id, "operator-all");
    assert!(audit.iter().all(|r| r.actor.id != "somebody-else"));
}
