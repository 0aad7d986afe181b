//! The `mes` command sink against the MES emulator: a change set carried out as commands
//! with `ModifiedBy`; a failure in the middle undone so nothing is left half-applied, with
//! the MES's code and message; a repeated delivery recognised by its idempotency keys; a
//! 429 waited out; a rollback through the same path.

mod common;

use common::emu::{Emu, config};
use connect::odata::{MesSinkConfig, OdataCommandSink};
use govern::{Change, Entity, Field};
use model::Priority;
use serde_json::{Value, json};

const WHO: &str = "mixplane-scheduler/0.1.0 approved by ana";

fn sink(emu: &Emu) -> OdataCommandSink {
    let config: MesSinkConfig = toml::from_str(&format!(
        "base_url = {:?}\nmax_retry_after_seconds = 2\n{}",
        emu.base,
        emu.auth_toml()
    ))
    .unwrap();
    OdataCommandSink::new(config).unwrap()
}

/// Open work orders (neither complete nor aborted), by NId.
async fn open_orders(emu: &Emu) -> Vec<Value> {
    emu.rows("AppU4DM", "WorkOrder")
        .await
        .into_iter()
        .filter(|r| !matches!(r["Status"].as_str(), Some("Complete" | "Aborted")))
        .collect()
}

async fn order(emu: &Emu, nid: &str) -> Value {
    emu.rows("AppU4DM", "WorkOrder")
        .await
        .into_iter()
        .find(|r| r["NId"] == nid)
        .unwrap()
}

fn priority_change(row: &Value) -> Change {
    let number = row["Priority"].as_i64().unwrap();
    let before = opcenter::wire::priority_of(number).unwrap();
    let after = if before == Priority::High {
        Priority::Low
    } else {
        Priority::High
    };
    Change {
        entity: Entity::Order,
        id: row["NId"].as_str().unwrap().into(),
        field: Field::Priority,
        before: json!(before),
        after: json!(after),
        shift_minutes: None,
        high_priority: false,
    }
}

async fn setup() -> (Emu, Vec<Value>) {
    let emu = Emu::start(config()).await;
    emu.advance(60.0).await;
    let orders = open_orders(&emu).await;
    assert!(orders.len() >= 2, "open orders to change");
    (emu, orders)
}

#[tokio::test]
async fn a_change_set_lands_as_commands_naming_who_made_it_and_rolls_back() {
    let (emu, orders) = setup().await;
    let diff = vec![priority_change(&orders[0]), priority_change(&orders[1])];
    let answer = sink(&emu)
        .deliver_diff("P-1", &diff, "apply", WHO)
        .await
        .unwrap();
    assert_eq!(answer["status"], "Succeeded");
    assert_eq!(answer["modified_by"], WHO);
    let commands = answer["commands"].as_array().unwrap();
    assert_eq!(commands.len(), 2);
    assert_eq!(commands[0]["key"], "P-1-apply-1");
    assert_eq!(commands[1]["name"], "UADMSetWorkOrderPriority");
    for (row, change) in orders.iter().zip(&diff) {
        let now = order(&emu, row["NId"].as_str().unwrap()).await;
        let expected: Priority = serde_json::from_value(change.after.clone()).unwrap();
        assert_eq!(
            now["Priority"],
            opcenter::wire::priority_number(expected),
            "{now}"
        );
    }

    // The same delivery again (its answer lost): the MES recognises the keys.
    let again = sink(&emu)
        .deliver_diff("P-1", &diff, "apply", WHO)
        .await
        .unwrap();
    assert_eq!(again["status"], "Succeeded");

    // Rolled back through the same path: the inverse diff, its own keys.
    let inverse = Change::inverse_diff(&diff);
    let back = sink(&emu)
        .deliver_diff("P-1", &inverse, "rollback", WHO)
        .await
        .unwrap();
    assert_eq!(back["commands"][0]["key"], "P-1-rollback-1");
    for row in &orders[..2] {
        let now = order(&emu, row["NId"].as_str().unwrap()).await;
        assert_eq!(now["Priority"], row["Priority"], "rolled back: {now}");
    }
}

#[tokio::test]
async fn a_failure_in_the_middle_is_undone_and_names_the_mes_error() {
    let (emu, orders) = setup().await;
    let mut missing = priority_change(&orders[1]);
    missing.id = "NO-SUCH-ORDER".into();
    let diff = vec![priority_change(&orders[0]), missing];
    let answer = sink(&emu)
        .deliver_diff("P-2", &diff, "apply", WHO)
        .await
        .unwrap_err();
    assert_eq!(answer["status"], "Error");
    assert_eq!(
        answer["error_code"],
        opcenter::command::codes::NOT_FOUND,
        "{answer}"
    );
    assert!(
        answer["message"].as_str().unwrap().contains("P-2-apply-2"),
        "{answer}"
    );
    assert_eq!(answer["half_applied"], false);
    assert_eq!(answer["undone"][0]["key"], "P-2-apply-undo-1");
    assert_eq!(answer["undone"][0]["answer"]["Succeeded"], true);
    // Nothing of it stands: the first order has its priority back.
    let first = order(&emu, orders[0]["NId"].as_str().unwrap()).await;
    assert_eq!(first["Priority"], orders[0]["Priority"]);

    // An injected failure carries the MES's own code and message.
    emu.faults(json!({"fail_command": {"error_code": -702597, "message": "locked by another user", "count": 1}})).await;
    let failed = sink(&emu)
        .deliver_diff("P-3", &diff[..1], "apply", WHO)
        .await
        .unwrap_err();
    assert_eq!(failed["error_code"], -702597);
    assert_eq!(failed["error_message"], "locked by another user");
}

#[tokio::test]
async fn a_throttled_command_is_sent_again_after_retry_after() {
    let (emu, orders) = setup().await;
    emu.faults(json!({"throttle": {"count": 1, "status": 429, "retry_after_seconds": 1}}))
        .await;
    let diff = vec![priority_change(&orders[0])];
    let started = std::time::Instant::now();
    let answer = sink(&emu)
        .deliver_diff("P-4", &diff, "apply", WHO)
        .await
        .unwrap();
    assert_eq!(answer["status"], "Succeeded");
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(1),
        "waited for Retry-After"
    );
}
