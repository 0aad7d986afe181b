//! Governance persistence: tokens hashed with argon2 and authenticated, proposals stored and
//! updated through the audited write path with optimistic concurrency, and tamper tests of the
//! audit chain (edit, delete, insert, swap a record in the database file, then verify).

mod common;

use govern::{
    ActionKind, Change, Evidence, Hierarchy, Outcome, Policy, PrincipalKind, Proposal,
    ProposalDraft, Role, Scope, Status, Trigger,
};
use model::Timestamp;
use serde_json::json;
use store::{
    Actor, AuditFault, GovernanceWrite, PrincipalError, ProposalFilter, StoreError, TokenHashing,
};

fn cli() -> GovernanceWrite {
    GovernanceWrite::by(Actor::person("tester"), None)
}

fn draft(area: &str, minutes: i64) -> ProposalDraft {
    ProposalDraft {
        kind: ActionKind::ScheduleChange,
        area: area.into(),
        title: "expedite".into(),
        evidence: Evidence {
            input_sha256: "c".repeat(64),
            engine: "mixplane-scheduler".into(),
            engine_version: "0.1.0".into(),
            trigger: Trigger::Event {
                event_id: "ev-9".into(),
            },
            kpis_before: [("late_orders".into(), 3.0)].into(),
            kpis_after: [("late_orders".into(), 1.0)].into(),
        },
        diff: vec![Change {
            entity: "order".into(),
            id: "PO-1".into(),
            field: "due".into(),
            before: json!("2026-03-02T10:00:00Z"),
            after: json!("2026-03-02T12:00:00Z"),
            shift_minutes: Some(minutes),
            high_priority: true,
        }],
    }
}

/// The plant as the proposal's diff needs it: `PO-1`, high priority, due at the diff's
/// `before`, routed through `A1`.
fn facts() -> govern::evidence::FactTable {
    let order = govern::evidence::OrderFacts {
        priority: model::Priority::High,
        due: Timestamp::parse("2026-03-02T10:00:00Z").unwrap(),
        quantity: 1.0,
        areas: ["A1".to_owned()].into(),
        steps: 1,
    };
    govern::evidence::FactTable {
        orders: [("PO-1".to_owned(), order)].into(),
        ..Default::default()
    }
}

fn hierarchy() -> Hierarchy {
    Hierarchy {
        site: "S1".into(),
        areas: ["A1".to_owned()].into(),
    }
}

#[tokio::test]
async fn tokens_are_hashed_authenticate_and_revoke() {
    let store = store::test_support::private_store().await.unwrap();
    let issued = store
        .create_token(
            "ann",
            PrincipalKind::Person,
            Role::Planner,
            "area:A1".parse().unwrap(),
            TokenHashing::Fast,
            cli(),
        )
        .await
        .unwrap();
    assert!(issued.token.starts_with("mxp_"));
    let principal = store.authenticate(&issued.token).await.unwrap().unwrap();
    assert_eq!(principal.role, Role::Planner);
    assert_eq!(principal.scope, Scope::Area("A1".into()));
    // A wrong secret with the right id, garbage, and nothing.
    let (head, last) = issued.token.split_at(issued.token.len() - 1);
    let forged = format!("{head}{}", if last == "0" { "1" } else { "0" });
    assert_eq!(store.authenticate(&forged).await.unwrap(), None);
    assert_eq!(store.authenticate("mxp_nope").await.unwrap(), None);

    // Only the argon2id hash is stored, and the creation is audited without the secret.
    let audit = store.audit_log(0, 100).await.unwrap();
    let created = audit
        .iter()
        .find(|r| r.action == "principal.create")
        .unwrap();
    assert_eq!(created.detail["before"], json!(null));
    assert_eq!(created.detail["after"]["role"], "planner");
    assert_eq!(created.detail["granted_role"], "planner");
    assert_eq!(created.detail["modified_by"], "tester");
    assert!(!created.detail.to_string().contains(&issued.token[21..]));

    // The standard parameters verify too; the same name, kind, role and scope is another
    // token for the same principal.
    let standard = store
        .create_token(
            "ann",
            PrincipalKind::Person,
            Role::Planner,
            "area:A1".parse().unwrap(),
            TokenHashing::Standard,
            cli(),
        )
        .await
        .unwrap();
    assert_eq!(
        store.authenticate(&standard.token).await.unwrap().unwrap(),
        principal
    );
    // Another role or scope under that name is refused, not a silent rebinding.
    let rebound = store
        .create_token(
            "ann",
            PrincipalKind::Person,
            Role::Admin,
            Scope::All,
            TokenHashing::Fast,
            cli(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&rebound, StoreError::Principal(PrincipalError::Exists(name)) if name == "ann"),
        "{rebound}"
    );
    assert_eq!(
        store.authenticate(&issued.token).await.unwrap().unwrap(),
        principal,
        "the refused re-issue changed nothing"
    );
    assert_eq!(store.revoke_tokens("ann", cli()).await.unwrap(), 2);
    assert_eq!(store.authenticate(&issued.token).await.unwrap(), None);
    assert_eq!(store.authenticate(&standard.token).await.unwrap(), None);
    assert!(store.verify_audit().await.unwrap().is_intact());
}

#[tokio::test]
async fn proposals_round_trip_and_every_write_is_audited() {
    let store = store::test_support::private_store().await.unwrap();
    let h = hierarchy();
    let policy = Policy::default_policy();
    let bot = govern::Principal::new("bot", PrincipalKind::Agent, Role::Agent, Scope::All);
    let now = Timestamp(common::T0);
    let draft = draft("A1", 120);
    let assessment = govern::assess(&draft.diff, &facts()).unwrap();
    let proposal = Proposal::propose("P-1", draft, &bot, &policy, &h, &assessment, now).unwrap();
    assert_eq!(proposal.areas, ["A1"]);
    let mut write = GovernanceWrite::by(store::actor_of(&bot), Some(Role::Agent));
    write.modified_by = proposal.evidence.modified_by();
    write.source_event = Some("ev-9".into());
    store.insert_proposal(&proposal, write).await.unwrap();

    let stored = store.proposal("P-1").await.unwrap().unwrap();
    assert_eq!(stored.proposal, proposal);
    assert_eq!(stored.version, 1);

    let planner = govern::Principal::new("ann", PrincipalKind::Person, Role::Planner, Scope::All);
    let mut approved = stored.proposal.clone();
    approved
        .approve(&planner, &h, now, Some("fine".into()))
        .unwrap();
    let by_ann = GovernanceWrite::by(store::actor_of(&planner), Some(Role::Planner));
    assert!(
        store
            .update_proposal(&approved, 1, "proposal.approve", by_ann.clone())
            .await
            .unwrap()
    );
    // A second writer holding the old version loses and writes nothing.
    let records_before = store.audit_log(0, 1000).await.unwrap().len();
    assert!(
        !store
            .update_proposal(&approved, 1, "proposal.approve", by_ann.clone())
            .await
            .unwrap()
    );
    assert_eq!(
        store.audit_log(0, 1000).await.unwrap().len(),
        records_before
    );

    let mut applied = approved.clone();
    applied.record_applied(Outcome {
        by: "ann".into(),
        at: now,
        sink: "file".into(),
        answer: json!({"status": "Succeeded", "line": 1}),
    });
    let mut with_sink = by_ann.clone();
    with_sink.sink = Some(json!({"status": "Succeeded", "line": 1}));
    assert!(
        store
            .update_proposal(&applied, 2, "proposal.apply", with_sink)
            .await
            .unwrap()
    );

    let page = store
        .proposals(&ProposalFilter {
            status: Some(Status::Applied),
            ..ProposalFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.items[0].status, Status::Applied);
    let none = store
        .proposals(&ProposalFilter {
            areas_in: Some(vec!["ELSEWHERE".into()]),
            ..ProposalFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(none.total, 0);

    let audit = store.audit_log(0, 1000).await.unwrap();
    let actions: Vec<&str> = audit.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(
        actions,
        ["proposal.create", "proposal.approve", "proposal.apply"]
    );
    assert_eq!(audit[0].detail["modified_by"], "mixplane-scheduler/0.1.0");
    assert_eq!(audit[0].detail["source_event"], "ev-9");
    assert_eq!(audit[0].actor.id, "bot");
    assert_eq!(audit[2].detail["sink"]["status"], "Succeeded");
    assert!(store.verify_audit().await.unwrap().is_intact());

    let key = store.pseudonym_key().await.unwrap();
    assert_eq!(key.len(), 32);
    assert_eq!(store.pseudonym_key().await.unwrap(), key, "created once");
}

/// Writes a few audited records into a database file and closes it.
async fn trail(path: &std::path::Path) {
    let store = store::test_support::store_at(path).await.unwrap();
    store
        .put_plant(common::plant(), &Actor::system("test"))
        .await
        .unwrap();
    for name in ["a", "b", "c", "d"] {
        store
            .create_token(
                name,
                PrincipalKind::Person,
                Role::Viewer,
                Scope::All,
                TokenHashing::Fast,
                cli(),
            )
            .await
            .unwrap();
    }
    let report = store.verify_audit().await.unwrap();
    assert!(report.is_intact());
    assert_eq!(report.records, 5);
}

#[tokio::test]
async fn tampering_with_the_audit_table_names_the_first_bad_record() {
    let dir = common::TempDir::new("govern-tamper");
    let cases: [(&str, &[&str], (i64, AuditFault)); 5] = [
        (
            "edit",
            &["UPDATE audit SET actor_id = 'mallory' WHERE seq = 3"],
            (3, AuditFault::Altered),
        ),
        ("delete", &["DELETE FROM audit WHERE seq = 2"], (3, AuditFault::Removed)),
        (
            "insert",
            // A forged record squeezed in as seq 3, the rest shifted up: its hash is wrong.
            &[
                "UPDATE audit SET seq = seq + 100 WHERE seq >= 3",
                "UPDATE audit SET seq = seq - 99 WHERE seq >= 103",
                "INSERT INTO audit (seq, at, actor_kind, actor_id, action, subject, detail, prev_hash, hash)
                 SELECT 3, at, actor_kind, 'mallory', 'token.create', 'principal:mallory', detail, hash, hash
                 FROM audit WHERE seq = 2",
            ],
            (3, AuditFault::Altered),
        ),
        (
            "swap",
            &[
                "UPDATE audit SET seq = -1 WHERE seq = 2",
                "UPDATE audit SET seq = 2 WHERE seq = 3",
                "UPDATE audit SET seq = 3 WHERE seq = -1",
            ],
            (2, AuditFault::Altered),
        ),
        (
            "edit the detail of the last",
            &["UPDATE audit SET detail = '{\"granted_role\":\"admin\"}' WHERE seq = 5"],
            (5, AuditFault::Altered),
        ),
    ];
    for (name, sql, expected) in cases {
        let path = dir.path().join(format!("{}.db", name.replace(' ', "-")));
        trail(&path).await;
        common::tamper(&path, sql).await;
        assert_eq!(common::first_bad(&path).await, expected, "{name}");
    }
}

fn refused(error: StoreError) -> PrincipalError {
    match error {
        StoreError::Principal(refusal) => refusal,
        other => panic!("not a principal refusal: {other}"),
    }
}

/// Creating never rebinds a name; a change made on a stale read writes nothing; the last
/// administrator with scope `*` and a live token can be neither demoted nor revoked; every
/// change is audited with the principal before and after.
#[tokio::test]
async fn names_are_never_rebound_and_the_last_global_admin_stays() {
    let store = store::test_support::private_store().await.unwrap();
    let root = govern::Principal::new("root", PrincipalKind::Person, Role::Admin, Scope::All);
    let root_token = store
        .create_principal(&root, TokenHashing::Fast, cli())
        .await
        .unwrap();
    let impostor = govern::Principal::new(
        "root",
        PrincipalKind::Person,
        Role::Viewer,
        "area:A1".parse().unwrap(),
    );
    assert_eq!(
        refused(
            store
                .create_principal(&impostor, TokenHashing::Fast, cli())
                .await
                .unwrap_err()
        ),
        PrincipalError::Exists("root".into())
    );
    assert_eq!(store.principal("root").await.unwrap(), Some(root.clone()));

    // The last global administrator: not demoted, not narrowed, not revoked.
    for (role, scope) in [
        (Role::Viewer, Scope::All),
        (Role::Admin, Scope::Site("S1".into())),
    ] {
        let error = store
            .update_principal(&root, role, scope, cli())
            .await
            .unwrap_err();
        assert_eq!(
            refused(error),
            PrincipalError::LastGlobalAdmin("root".into())
        );
    }
    let error = store
        .revoke_principal_tokens(&root, cli())
        .await
        .unwrap_err();
    assert_eq!(
        refused(error),
        PrincipalError::LastGlobalAdmin("root".into())
    );
    assert_eq!(
        store.authenticate(&root_token.token).await.unwrap(),
        Some(root.clone()),
        "the refusals changed nothing"
    );
    // Rotating keeps a live token, so it is allowed.
    let rotated = store
        .issue_token(&root, TokenHashing::Fast, true, cli())
        .await
        .unwrap();
    assert_eq!(store.authenticate(&root_token.token).await.unwrap(), None);
    assert_eq!(
        store.authenticate(&rotated.token).await.unwrap(),
        Some(root.clone())
    );

    // With a second live global administrator, the first may go.
    let ada = govern::Principal::new("ada", PrincipalKind::Person, Role::Admin, Scope::All);
    store
        .create_principal(&ada, TokenHashing::Fast, cli())
        .await
        .unwrap();
    let demoted = store
        .update_principal(&root, Role::Viewer, Scope::All, cli())
        .await
        .unwrap();
    assert_eq!(demoted.role, Role::Viewer);
    assert_eq!(
        store.authenticate(&rotated.token).await.unwrap(),
        Some(demoted.clone()),
        "its token acts with the new role at once"
    );
    // A change made on what the caller read before is refused and writes nothing.
    let records = store.audit_log(0, 1000).await.unwrap().len();
    let error = store
        .update_principal(&root, Role::Planner, Scope::All, cli())
        .await
        .unwrap_err();
    assert_eq!(refused(error), PrincipalError::Changed("root".into()));
    let error = store
        .issue_token(&root, TokenHashing::Fast, false, cli())
        .await
        .unwrap_err();
    assert_eq!(refused(error), PrincipalError::Changed("root".into()));
    assert_eq!(store.audit_log(0, 1000).await.unwrap().len(), records);
    // Now `ada` is the last one.
    let error = store
        .revoke_principal_tokens(&ada, cli())
        .await
        .unwrap_err();
    assert_eq!(
        refused(error),
        PrincipalError::LastGlobalAdmin("ada".into())
    );
    assert_eq!(
        store
            .revoke_principal_tokens(&demoted, cli())
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        refused(store.existing_principal("nobody").await.unwrap_err()),
        PrincipalError::Unknown("nobody".into())
    );

    // Before and after, in every record.
    let audit = store.audit_log(0, 1000).await.unwrap();
    let actions: Vec<&str> = audit.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "principal.create",
            "token.create",
            "principal.create",
            "principal.update",
            "token.revoke"
        ]
    );
    let update = &audit[3].detail;
    assert_eq!(update["principal"], "root");
    assert_eq!(update["before"]["role"], "admin");
    assert_eq!(update["after"]["role"], "viewer");
    assert_eq!(update["after"]["scope"], "*");
    assert_eq!(audit[1].detail["revoked_others"], 1);
    assert_eq!(audit[1].detail["after"]["live_tokens"], 1);
    assert_eq!(audit[4].detail["before"]["live_tokens"], 1);
    assert_eq!(audit[4].detail["after"]["live_tokens"], 0);
    assert!(store.verify_audit().await.unwrap().is_intact());
}

/// The database file and its write-ahead log and shared memory hold the pseudonym key and
/// the token hashes: they are created readable by their owner only, and a file left readable
/// by others is tightened when the store opens it.
#[cfg(unix)]
#[tokio::test]
async fn database_files_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = common::TempDir::new("govern-mode");
    let path = dir.path().join("private.db");
    let mode = |suffix: &str| {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        std::fs::metadata(&file).map(|m| m.permissions().mode() & 0o777)
    };
    {
        let store = store::Store::open_sqlite(&path).await.unwrap();
        store.pseudonym_key().await.unwrap();
        for suffix in ["", "-wal", "-shm"] {
            assert_eq!(mode(suffix).unwrap(), 0o600, "`{suffix}`");
        }
    }
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let store = store::Store::open_sqlite(&path).await.unwrap();
    assert_eq!(mode("").unwrap(), 0o600, "tightened on open");
    assert_eq!(store.pseudonym_key().await.unwrap().len(), 32);
}

#[tokio::test]
async fn plan_versions_and_candidates_round_trip_and_expire_what_they_supersede() {
    let store = store::test_support::private_store().await.unwrap();
    let h = hierarchy();
    let policy = Policy::default_policy();
    let bot = govern::Principal::new("bot", PrincipalKind::Agent, Role::Agent, Scope::All);
    let now = Timestamp(common::T0);
    let draft = draft("A1", 120);
    let assessment = govern::assess(&draft.diff, &facts()).unwrap();
    let proposal = Proposal::propose("P-1", draft, &bot, &policy, &h, &assessment, now).unwrap();
    assert_eq!(proposal.status, Status::Proposed);
    store.insert_proposal(&proposal, cli()).await.unwrap();
    let candidate = json!({"schedule": {"assignments": [{"op": "PO-1/0", "unit": "U1", "start": 0, "end": 5}]}});
    store
        .insert_plan_candidate("P-1", None, &candidate, cli())
        .await
        .unwrap();
    let stored = store.plan_candidate("P-1").await.unwrap().unwrap();
    assert_eq!((stored.basis, &stored.body), (None, &candidate));
    assert_eq!(store.plan_in_force().await.unwrap(), None);
    assert_eq!(store.pending_candidates_before(1).await.unwrap(), ["P-1"]);

    let plan = |version: u64, basis: Option<u64>| store::StoredPlan {
        version,
        made_at: now,
        made_by: "alice".into(),
        proposal: None,
        basis,
        body: json!({"version": version, "schedule": {"assignments": []}}),
    };
    let mut expired = store.proposal("P-1").await.unwrap().unwrap();
    expired.proposal.status = Status::Expired;
    assert!(
        store
            .put_plan(
                plan(1, None),
                "first",
                vec![expired.clone()],
                "superseded",
                cli()
            )
            .await
            .unwrap()
    );
    let in_force = store.plan_in_force().await.unwrap().unwrap();
    assert_eq!(in_force, plan(1, None));
    let p1 = store.proposal("P-1").await.unwrap().unwrap();
    assert_eq!((p1.proposal.status, p1.version), (Status::Expired, 2));
    assert!(store.pending_candidates_before(2).await.unwrap().is_empty());

    // A version that is not the next one, or an expiry of a proposal read before it changed,
    // writes nothing, not even an audit record.
    let records = store.audit_log(0, 1000).await.unwrap().len();
    assert!(
        !store
            .put_plan(plan(1, None), "again", vec![], "", cli())
            .await
            .unwrap()
    );
    assert!(
        !store
            .put_plan(plan(3, Some(1)), "skip", vec![], "", cli())
            .await
            .unwrap()
    );
    assert!(
        !store
            .put_plan(
                plan(2, Some(1)),
                "stale",
                vec![expired],
                "superseded",
                cli()
            )
            .await
            .unwrap()
    );
    assert_eq!(store.audit_log(0, 1000).await.unwrap().len(), records);
    assert_eq!(store.plan_in_force().await.unwrap().unwrap().version, 1);

    let mut second = plan(2, Some(1));
    second.proposal = Some("P-1".into());
    assert!(
        store
            .put_plan(second.clone(), "second", vec![], "", cli())
            .await
            .unwrap()
    );
    let versions: Vec<u64> = store
        .plan_versions(10)
        .await
        .unwrap()
        .iter()
        .map(|p| p.version)
        .collect();
    assert_eq!(versions, [2, 1]);
    // Keyset pages of the history: the versions below one, newest first.
    let below: Vec<u64> = store
        .plan_versions_before(Some(2), 10)
        .await
        .unwrap()
        .iter()
        .map(|p| p.version)
        .collect();
    assert_eq!(below, [1]);
    assert_eq!(store.plan_version(1).await.unwrap().unwrap(), plan(1, None));
    assert_eq!(
        store.plan_of_proposal("P-1").await.unwrap().unwrap(),
        second
    );

    let log = store.audit_log(0, 1000).await.unwrap();
    // The last record about one subject, as a conditional write's refusal names it.
    let last = log.last().unwrap();
    assert_eq!(
        store.last_audit_of(&last.subject).await.unwrap().as_ref(),
        Some(last)
    );
    assert!(store.last_audit_of("nothing:here").await.unwrap().is_none());
    let adopt = log.iter().find(|r| r.action == "plan.adopt").unwrap();
    assert_eq!(adopt.detail["version"], 1);
    assert_eq!(adopt.detail["expired"][0]["proposal"], "P-1");
    assert_eq!(adopt.detail["expired"][0]["reason"], "superseded");
    assert!(log.iter().any(|r| r.action == "plan.candidate"));
    assert!(store.verify_audit().await.unwrap().is_intact());

    store.clear_plans(cli()).await.unwrap();
    assert_eq!(store.plan_in_force().await.unwrap(), None);
    assert_eq!(store.plan_candidate("P-1").await.unwrap(), None);
    assert!(store.verify_audit().await.unwrap().is_intact());
}
