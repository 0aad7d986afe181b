//! The whole path of an approved change to the MES emulator: work orders read in by the
//! OData source (the `odata` kind, through the runner), a reprioritisation proposed, waiting
//! under a copilot policy, approved by a planner and applied through the `mes` sink — the
//! command lands in the emulator and shows in its OData, and the audit trail holds the
//! approval, `modified_by` and the MES's answer. A command the MES fails is audited with its
//! `ErrorCode`, leaves the proposal approved, and a later apply is a new delivery (new keys),
//! not a repeat of the failed one.

mod common;

use std::sync::Arc;
use std::time::Duration;

use app::{App, Governance, SinkKind};
use common::emu::{Emu, config};
use connect::odata::{MesSinkConfig, OdataCommandSink};
use connect::{ConnectorSpec, Kinds, Pacing, Runner, stop_pair};
use govern::{
    ActionKind, Change, DecisionKind, Evidence, Policy, Principal, PrincipalKind, ProposalDraft,
    Role, Scope, Status, Trigger,
};
use model::{OrderId, Priority};
use serde_json::{Value, json};

const COPILOT: &str = r#"
[[rule]]
kind = "schedule_change"
area = "*"
autonomy = "copilot"
approver_roles = ["planner"]
"#;

fn person(id: &str, role: Role) -> Principal {
    Principal::new(id, PrincipalKind::Person, role, Scope::All)
}

async fn app_for(emu: &Emu) -> App {
    let store = store::test_support::private_store().await.unwrap();
    store
        .put_plant_at(
            sim::reference_plant(),
            Some(emu.config.start),
            &store::Actor::system("test"),
        )
        .await
        .unwrap();
    let sink: MesSinkConfig =
        toml::from_str(&format!("base_url = {:?}\n{}", emu.base, emu.auth_toml())).unwrap();
    let governance = Governance::new(Policy::from_toml(COPILOT).unwrap(), SinkKind::Mes, None)
        .with_mes(Arc::new(OdataCommandSink::new(sink).unwrap()));
    App::new(Arc::new(store)).with_governance(governance)
}

/// Reads the emulator's work orders into the store through the `odata` kind and the runner.
async fn read_orders(app: &App, emu: &Emu) {
    let settings: toml::Table = toml::from_str(&format!(
        "base_url = {:?}\napp = \"AppU4DM\"\nentity_set = \"WorkOrder\"\npage_size = 50\n{}",
        emu.base,
        emu.auth_toml()
    ))
    .unwrap();
    let spec = ConnectorSpec {
        name: "mes-orders".into(),
        kind: "odata".into(),
        principal: "connector-mes".into(),
        poll_interval: Duration::from_millis(50),
        settings: serde_json::to_value(settings).unwrap(),
    };
    let source = Kinds::for_app(app).build(&spec).unwrap();
    let (stop, watch) = stop_pair();
    let runner = Runner {
        source,
        app: app.clone(),
        principal: Principal::new(
            "connector-mes",
            PrincipalKind::Service,
            Role::Operator,
            Scope::All,
        ),
        kind: "odata".into(),
        pacing: Pacing {
            poll_interval: Duration::from_millis(50),
            backoff_base: Duration::from_millis(10),
            backoff_cap: Duration::from_millis(100),
            max_retry_after: Duration::from_millis(500),
            seed: 1,
        },
    };
    let task = tokio::spawn(runner.run(watch));
    let expected = emu.rows("AppU4DM", "WorkOrder").await.len();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let released = app
            .store
            .snapshot()
            .await
            .state
            .orders
            .values()
            .filter(|o| o.status != model::OrderStatus::Planned)
            .count();
        if released >= expected {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{released} of {expected} orders read: {:#?}",
            app.connectors.get("mes-orders")
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.stop();
    task.await.unwrap();
}

fn reprioritise(order: &str, before: Priority, after: Priority) -> ProposalDraft {
    ProposalDraft {
        kind: ActionKind::ScheduleChange,
        area: "A-CHEM".into(),
        title: format!("expedite {order}"),
        evidence: Evidence {
            input_sha256: "e".repeat(64),
            engine: "mixplane-scheduler".into(),
            engine_version: "0.1.0".into(),
            trigger: Trigger::Principal {
                principal: "paula".into(),
            },
            kpis_before: Default::default(),
            kpis_after: Default::default(),
        },
        diff: vec![Change {
            entity: "order".into(),
            id: order.into(),
            field: "priority".into(),
            before: json!(before),
            after: json!(after),
            shift_minutes: None,
            high_priority: false,
        }],
    }
}

async fn emu_order(emu: &Emu, nid: &str) -> Value {
    emu.rows("AppU4DM", "WorkOrder")
        .await
        .into_iter()
        .find(|r| r["NId"] == nid)
        .unwrap()
}

#[tokio::test]
async fn an_approved_change_lands_in_the_mes_with_who_made_it_and_a_failure_is_audited() {
    let emu = Emu::start(config()).await;
    emu.advance(60.0).await;
    let app = app_for(&emu).await;
    read_orders(&app, &emu).await;

    // An open order and a priority it does not have.
    let snapshot = app.store.snapshot().await;
    let (order, state) = snapshot
        .state
        .orders
        .iter()
        .find(|(_, o)| {
            matches!(
                o.status,
                model::OrderStatus::Released | model::OrderStatus::InProgress
            )
        })
        .expect("an open order");
    let before = state.order.priority;
    let after = if before == Priority::Low {
        Priority::High
    } else {
        Priority::Low
    };
    let order: OrderId = order.clone();

    let planner = person("paula", Role::Planner);
    let approver = person("pete", Role::Planner);
    let proposal = app::govern::submit(&app, &planner, reprioritise(order.as_str(), before, after))
        .await
        .unwrap();
    assert_eq!(proposal.status, Status::Proposed, "copilot: it waits");

    // The MES fails the command: the apply fails with its code, audited; nothing changed.
    app::govern::decide(&app, &approver, &proposal.id, DecisionKind::Approve, None)
        .await
        .unwrap();
    emu.faults(json!({"fail_command": {"error_code": -702597, "message": "the order is locked", "count": 1}})).await;
    let error = app::govern::apply(&app, &approver, &proposal.id, None)
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("-702597") && error.to_string().contains("the order is locked"),
        "{error}"
    );
    let failed = app
        .store
        .last_audit_of(&format!("proposal:{}", proposal.id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(failed.action, "proposal.apply_failed");
    let shown = failed.detail.to_string();
    assert!(
        shown.contains("-702597") && shown.contains("mixplane-scheduler/0.1.0 approved by pete"),
        "{shown}"
    );
    assert_eq!(
        emu_order(&emu, order.as_str()).await["Priority"],
        opcenter::wire::priority_number(before)
    );

    // Applied again: a new delivery (keys after the failure's audit record), which lands.
    let applied = app::govern::apply(&app, &approver, &proposal.id, None)
        .await
        .unwrap();
    assert_eq!(applied.status, Status::Applied);
    let answer = &applied.applied.as_ref().unwrap().answer;
    assert_eq!(answer["status"], "Succeeded");
    assert_eq!(
        answer["modified_by"],
        "mixplane-scheduler/0.1.0 approved by pete"
    );
    let key = answer["commands"][0]["key"].as_str().unwrap();
    assert_eq!(key, format!("{}~g{}-apply-1", proposal.id, failed.seq));
    assert_eq!(
        emu_order(&emu, order.as_str()).await["Priority"],
        opcenter::wire::priority_number(after)
    );
    let record = app
        .store
        .last_audit_of(&format!("proposal:{}", proposal.id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.action, "proposal.apply");
    let shown = record.detail.to_string();
    assert!(
        shown.contains("approved by pete") && shown.contains("Succeeded"),
        "{shown}"
    );

    // Rolled back through the same sink: the MES holds the priority from before.
    let rolled = app::govern::roll_back(&app, &approver, &proposal.id)
        .await
        .unwrap();
    assert_eq!(rolled.status, Status::RolledBack);
    assert_eq!(
        emu_order(&emu, order.as_str()).await["Priority"],
        opcenter::wire::priority_number(before)
    );
}
