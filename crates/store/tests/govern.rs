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
use store::{Actor, AuditFault, GovernanceWrite, ProposalFilter, Store, TokenHashing};

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

fn hierarchy() -> Hierarchy {
    Hierarchy {
        site: "S1".into(),
        areas: ["A1".to_owned()].into(),
    }
}

#[tokio::test]
async fn tokens_are_hashed_authenticate_and_revoke() {
    let store = Store::open_in_memory().await.unwrap();
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
    let created = audit.iter().find(|r| r.action == "token.create").unwrap();
    assert_eq!(created.detail["granted_role"], "planner");
    assert_eq!(created.detail["modified_by"], "tester");
    assert!(!created.detail.to_string().contains(&issued.token[21..]));

    // The standard parameters verify too.
    let standard = store
        .create_token(
            "ann",
            PrincipalKind::Person,
            Role::Planner,
            Scope::All,
            TokenHashing::Standard,
            cli(),
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .authenticate(&standard.token)
            .await
            .unwrap()
            .unwrap()
            .scope,
        Scope::All,
        "re-issuing updates the principal"
    );
    assert_eq!(store.revoke_tokens("ann", cli()).await.unwrap(), 2);
    assert_eq!(store.authenticate(&issued.token).await.unwrap(), None);
    assert_eq!(store.authenticate(&standard.token).await.unwrap(), None);
    assert!(store.verify_audit().await.unwrap().is_intact());
}

#[tokio::test]
async fn proposals_round_trip_and_every_write_is_audited() {
    let store = Store::open_in_memory().await.unwrap();
    let h = hierarchy();
    let policy = Policy::default_policy();
    let bot = govern::Principal::new("bot", PrincipalKind::Agent, Role::Agent, Scope::All);
    let now = Timestamp(common::T0);
    let proposal = Proposal::propose("P-1", draft("A1", 120), &bot, &policy, &h, now).unwrap();
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
    let store = Store::open_sqlite(path).await.unwrap();
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
