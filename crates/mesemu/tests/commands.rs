//! Commands over HTTP: a command changes what the sets show, a dispatch changes what the
//! simulated plant does (checked against a run of the same seed without it), a repeated
//! idempotency key is answered as the first time without being carried out again, an
//! injected failure applies nothing, and unreadable commands are refused by name.

mod common;

use common::{Emu, config};
use opcenter::command::{codes, names};
use serde_json::{Value, json};

const DAY: f64 = 24.0 * 60.0;

async fn operations(emu: &Emu, token: &str) -> Vec<Value> {
    emu.all_pages(
        &emu.service("AppU4DM", "WorkOrderOperation?$orderby=ModifiedOn,Id"),
        token,
    )
    .await
    .0
}

async fn row(emu: &Emu, token: &str, app: &str, set: &str, nid: &str) -> Value {
    let page = emu
        .get_json(
            &emu.service(app, &format!("{set}?$filter=NId%20eq%20'{nid}'")),
            token,
        )
        .await;
    page["value"][0].clone()
}

/// The units that can run step `sequence` of work order `order`.
fn alternatives(order_row: &Value, sequence: i64) -> Vec<String> {
    let catalog = sim::reference_catalog();
    let routing = order_row["ProcessNId"].as_str().unwrap();
    let step = opcenter::wire::step_of(sequence).unwrap() as usize;
    catalog
        .routing(&routing.into())
        .and_then(|r| r.steps.get(step))
        .map(|s| s.alternatives.iter().map(|a| a.unit.to_string()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_dispatch_moves_an_operation_in_the_rows_and_in_the_plant() {
    // The control: the same seed and clock steps, no command.
    let control = Emu::start(config()).await;
    let commanded = Emu::start(config()).await;
    control.advance(DAY).await;
    commanded.advance(DAY).await;
    let control_token = control.sign_in().await.access_token;
    let token = commanded.sign_in().await.access_token;
    let ready: Vec<Value> = operations(&commanded, &token)
        .await
        .into_iter()
        .filter(|op| op["Status"] == "Ready")
        .collect();
    control.advance(6.0 * DAY).await;
    let later: Vec<Value> = operations(&control, &control_token).await;
    let status = commanded
        .admin("/emulator/advance", json!({"minutes": 0}))
        .await;
    let now = model::Timestamp::parse(status["plant_time"].as_str().unwrap()).unwrap();
    let planned_start = model::Timestamp(now.0 + 3_600_000);

    let mut moved = None;
    for op in &ready {
        let order = op["WorkOrderNId"].as_str().unwrap();
        let sequence = op["Sequence"].as_i64().unwrap();
        let Some(natural) = later
            .iter()
            .find(|o| o["NId"] == op["NId"])
            .and_then(|o| o["ActualUsedMachine"].as_str())
        else {
            continue;
        };
        let order_row = row(&commanded, &token, "AppU4DM", "WorkOrder", order).await;
        let Some(other) = alternatives(&order_row, sequence)
            .into_iter()
            .find(|unit| unit != natural)
        else {
            continue;
        };
        let answer: Value = commanded
            .command(
                "AppU4DM",
                names::DISPATCH_OPERATION,
                &token,
                &json!({"command": {
                    "WorkOrderNId": order,
                    "Sequence": sequence,
                    "EquipmentNId": other,
                    "EstimatedStartTime": opcenter::wire::time_text(planned_start),
                    "IdempotencyKey": format!("dispatch-{order}-{sequence}"),
                }}),
            )
            .await
            .json()
            .await
            .unwrap();
        if answer["Succeeded"] == true {
            moved = Some((
                op["NId"].as_str().unwrap().to_owned(),
                natural.to_owned(),
                other,
            ));
            break;
        }
        // The plant may refuse a move (a batch held in another vessel): try another.
        assert_eq!(answer["Error"]["ErrorCode"], codes::WRONG_STATE, "{answer}");
    }
    let (nid, natural, other) = moved.expect("some ready operation could be moved");

    // The rows show the dispatch at once.
    let dispatched = row(&commanded, &token, "AppU4DM", "WorkOrderOperation", &nid).await;
    assert_eq!(dispatched["ToBeUsedMachine"], other.as_str());
    assert_eq!(
        dispatched["EstimatedStartTime"],
        opcenter::wire::time_text(planned_start)
    );
    // The plant runs it where it was sent, no earlier than planned; without the command it
    // ran elsewhere.
    commanded.advance(6.0 * DAY).await;
    let ran = row(&commanded, &token, "AppU4DM", "WorkOrderOperation", &nid).await;
    assert_eq!(
        ran["ActualUsedMachine"],
        other.as_str(),
        "not on {natural}: {ran}"
    );
    let started = model::Timestamp::parse(ran["ActualStartTime"].as_str().unwrap()).unwrap();
    assert!(
        started >= planned_start,
        "started {started} before {planned_start}"
    );
    control.emulator.stop().await;
    commanded.emulator.stop().await;
}

#[tokio::test]
async fn a_repeated_idempotency_key_is_answered_again_not_applied_again() {
    let emu = Emu::start(config()).await;
    emu.advance(60.0).await;
    let token = emu.sign_in().await.access_token;
    let orders = emu
        .get_json(
            &emu.service(
                "AppU4DM",
                "WorkOrder?$filter=Status%20eq%20'Released'&$top=1",
            ),
            &token,
        )
        .await;
    let order = orders["value"][0]["NId"].as_str().unwrap().to_owned();
    let priority = |key: &str, priority: i64| json!({"command": {"WorkOrderNId": order, "Priority": priority, "IdempotencyKey": key}});
    let set = names::SET_WORK_ORDER_PRIORITY;
    let first: Value = emu
        .command("AppU4DM", set, &token, &priority("k-1", 1))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["Succeeded"], true, "{first}");
    assert_eq!(
        row(&emu, &token, "AppU4DM", "WorkOrder", &order).await["Priority"],
        1
    );
    let second: Value = emu
        .command("AppU4DM", set, &token, &priority("k-2", 3))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["Succeeded"], true);
    let modified = row(&emu, &token, "AppU4DM", "WorkOrder", &order).await;
    assert_eq!(modified["Priority"], 3);

    // The first delivery again: the same answer, and the row is as the second left it.
    let replayed: Value = emu
        .command("AppU4DM", set, &token, &priority("k-1", 1))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(replayed, first);
    assert_eq!(
        row(&emu, &token, "AppU4DM", "WorkOrder", &order).await,
        modified
    );

    // The same key for another command is refused.
    let conflict: Value = emu
        .command("AppU4DM", set, &token, &priority("k-1", 2))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(conflict["Succeeded"], false);
    assert_eq!(conflict["Error"]["ErrorCode"], codes::IDEMPOTENCY_CONFLICT);
    emu.emulator.stop().await;
}

#[tokio::test]
async fn an_injected_failure_applies_nothing_and_a_retry_goes_through() {
    let emu = Emu::start(config()).await;
    emu.advance(60.0).await;
    let token = emu.sign_in().await.access_token;
    let unit = "R-101";
    let before = row(&emu, &token, "Equipment", "Equipment", unit).await;
    let body = json!({"command": {"EquipmentNId": unit, "Status": "Down", "Reason": "seal", "IdempotencyKey": "eq-1"}});
    emu.faults(json!({"fail_command": {"error_code": -702597, "message": "MES busy"}}))
        .await;
    let failed: Value = emu
        .command("Equipment", names::SET_EQUIPMENT_STATUS, &token, &body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        failed,
        json!({"Succeeded": false, "Error": {"ErrorCode": -702597, "ErrorMessage": "MES busy"}})
    );
    assert_eq!(
        row(&emu, &token, "Equipment", "Equipment", unit).await,
        before
    );
    let retried: Value = emu
        .command("Equipment", names::SET_EQUIPMENT_STATUS, &token, &body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(retried["Succeeded"], true, "{retried}");
    assert_eq!(
        row(&emu, &token, "Equipment", "Equipment", unit).await["Status"],
        "Down"
    );
    emu.emulator.stop().await;
}

#[tokio::test]
async fn unreadable_commands_are_refused_by_name() {
    let emu = Emu::start(config()).await;
    let token = emu.sign_in().await.access_token;
    let unknown = emu
        .command("AppU4DM", "UADMFrobnicate", &token, &json!({"command": {}}))
        .await;
    assert_eq!(unknown.status(), 404);
    let body: Value = unknown.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("UADMFrobnicate")
    );

    let missing = emu
        .command(
            "AppU4DM",
            names::SET_WORK_ORDER_PRIORITY,
            &token,
            &json!({"command": {"Priority": 1, "IdempotencyKey": "x"}}),
        )
        .await;
    assert_eq!(missing.status(), 400);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["Succeeded"], false);
    assert_eq!(body["Error"]["ErrorCode"], codes::INVALID_ARGUMENT);
    assert!(
        body["Error"]["ErrorMessage"]
            .as_str()
            .unwrap()
            .contains("WorkOrderNId")
    );

    let to_a_set = emu
        .command("AppU4DM", "WorkOrder", &token, &json!({"NId": "x"}))
        .await;
    assert_eq!(to_a_set.status(), 405);
    let no_token = emu
        .client
        .post(emu.service("AppU4DM", names::SET_WORK_ORDER_PRIORITY))
        .json(&json!({"command": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), 401);
    emu.emulator.stop().await;
}
