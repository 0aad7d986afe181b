//! Misbehaviour on demand over HTTP: each fault set through `POST /emulator/faults` does what
//! it says, for as long as it says, and then the emulator behaves again.

mod common;

use std::time::{Duration, Instant};

use common::{Emu, config};
use serde_json::{Value, json};

#[tokio::test]
async fn tokens_expire_early_when_told() {
    let emu = Emu::start(config()).await;
    let token = emu.sign_in().await;
    let doc = emu.service("AppU4DM", "");
    assert_eq!(emu.get(&doc, &token.access_token).await.status(), 200);
    emu.faults(json!({"expire_tokens": true})).await;
    let refused = emu.get(&doc, &token.access_token).await;
    assert_eq!(refused.status(), 401);
    // A new sign-in works as before.
    let fresh = emu.sign_in().await;
    assert_eq!(emu.get(&doc, &fresh.access_token).await.status(), 200);
    emu.emulator.stop().await;
}

#[tokio::test]
async fn throttled_requests_carry_retry_after_for_the_count_given() {
    let emu = Emu::start(config()).await;
    let token = emu.sign_in().await;
    let url = emu.service("AppU4DM", "WorkOrder");
    for status in [429, 503] {
        emu.faults(json!({"throttle": {"count": 2, "status": status, "retry_after_seconds": 3}}))
            .await;
        for _ in 0..2 {
            let answer = emu.get(&url, &token.access_token).await;
            assert_eq!(answer.status(), status);
            assert_eq!(answer.headers()["Retry-After"], "3");
            let body: Value = answer.json().await.unwrap();
            assert!(body["error"]["code"].is_string(), "{body}");
        }
        assert_eq!(emu.get(&url, &token.access_token).await.status(), 200);
    }
    emu.emulator.stop().await;
}

#[tokio::test]
async fn answers_are_delayed_until_the_delay_is_cleared() {
    let emu = Emu::start(config()).await;
    let token = emu.sign_in().await;
    let url = emu.service("AppU4DM", "");
    emu.faults(json!({"delay_ms": 400})).await;
    let began = Instant::now();
    assert_eq!(emu.get(&url, &token.access_token).await.status(), 200);
    assert!(began.elapsed() >= Duration::from_millis(400));
    let view = emu.faults(json!({"delay_ms": 0})).await;
    assert_eq!(view["delay_ms"], 0);
    emu.emulator.stop().await;
}

#[tokio::test]
async fn a_page_is_repeated_once() {
    let emu = Emu::start(mesemu::Config {
        page_size: 3,
        ..config()
    })
    .await;
    emu.advance(24.0 * 60.0).await;
    let token = emu.sign_in().await;
    let first_url = emu.service("AppU4DM", "WorkOrder?$orderby=ModifiedOn,Id");
    let first = emu.get_json(&first_url, &token.access_token).await;
    let next = first["@odata.nextLink"]
        .as_str()
        .expect("more than one page")
        .to_owned();
    emu.faults(json!({"repeat_page": true})).await;
    let repeated = emu.get_json(&next, &token.access_token).await;
    assert_eq!(repeated, first, "the page before is served again");
    let second = emu.get_json(&next, &token.access_token).await;
    assert_ne!(second, first, "only once");
    emu.emulator.stop().await;
}

#[tokio::test]
async fn down_refusing_connections_then_back() {
    let emu = Emu::start(config()).await;
    let token = emu.sign_in().await;
    let url = emu.service("AppU4DM", "");
    emu.faults(json!({"down": {"seconds": 3, "mode": "refuse"}}))
        .await;
    // The port closes just after the admin answer went out.
    let mut refused = false;
    for _ in 0..50 {
        match emu
            .client
            .get(&url)
            .bearer_auth(&token.access_token)
            .send()
            .await
        {
            Err(error) if error.is_connect() || error.is_request() => {
                refused = true;
                break;
            }
            Err(error) => panic!("unexpected error: {error}"),
            Ok(answer) => assert_eq!(answer.status(), 503, "served while down"),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(refused, "connections were never refused");
    // Back after the outage.
    let began = Instant::now();
    loop {
        if let Ok(answer) = emu
            .client
            .get(&url)
            .bearer_auth(&token.access_token)
            .send()
            .await
            && answer.status() == 200
        {
            break;
        }
        assert!(began.elapsed() < Duration::from_secs(10), "never came back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    emu.emulator.stop().await;
}

#[tokio::test]
async fn down_answering_503_until_told_up() {
    let emu = Emu::start(config()).await;
    let token = emu.sign_in().await;
    let url = emu.service("AppU4DM", "");
    let view = emu
        .faults(json!({"down": {"seconds": 600, "mode": "unavailable"}}))
        .await;
    assert_eq!(view["down_mode"], "unavailable");
    let answer = emu.get(&url, &token.access_token).await;
    assert_eq!(answer.status(), 503);
    let retry: u64 = answer.headers()["Retry-After"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((590..=600).contains(&retry), "Retry-After {retry}");
    // Signing in is down too; the admin routes are not.
    let sign_in = emu.token_request(&[("grant_type", "password")]).await;
    assert_eq!(sign_in.status(), 503);
    emu.faults(json!({"up": true})).await;
    assert_eq!(emu.get(&url, &token.access_token).await.status(), 200);
    emu.emulator.stop().await;
}

#[tokio::test]
async fn bad_fault_requests_are_refused_by_name() {
    let emu = Emu::start(config()).await;
    let answer = emu
        .client
        .post(emu.url("/emulator/faults"))
        .basic_auth(&emu.credentials.username, Some(&emu.credentials.password))
        .json(&json!({"throttle": {"count": 1, "status": 500}}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    let body: Value = answer.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("429 or 503")
    );
    emu.emulator.stop().await;
}

/// The rows of a set in the change feed's order, and the rows after a stamp.
async fn feed(emu: &Emu, token: &str, app: &str, set: &str, after: Option<&str>) -> Vec<Value> {
    let filter = after.map_or(String::new(), |t| format!("&$filter=ModifiedOn gt {t}"));
    let url = emu.service(app, &format!("{set}?$orderby=ModifiedOn,Id{filter}"));
    emu.all_pages(&url, token).await.0
}

fn text<'a>(row: &'a Value, field: &str) -> &'a str {
    row[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} in {row}"))
}

#[tokio::test]
async fn a_poison_row_is_stamped_after_every_row_and_cannot_be_mapped() {
    let emu = Emu::start(config()).await;
    emu.advance(6.0 * 60.0).await;
    let token = emu.sign_in().await.access_token;
    let (app, set) = ("Equipment", "EquipmentStatusHistory");
    let before = feed(&emu, &token, app, set, None).await;
    let latest = before.last().expect("the plant changed states").clone();
    let known = model::PlantState::initial(&sim::reference_catalog(), config().start);
    assert!(opcenter::map_row(app, set, &latest, &known).is_ok());

    // A row as the latest, but with a status the profile does not know.
    let mut fields = latest.as_object().unwrap().clone();
    for owned in ["Id", "NId", "ModifiedOn"] {
        fields.remove(owned);
    }
    fields.insert("Status".into(), json!("Exploded"));
    emu.faults(json!({"poison_row": {"app": app, "set": set, "fields": fields}}))
        .await;
    let after = feed(&emu, &token, app, set, None).await;
    assert_eq!(after.len(), before.len() + 1);
    let poison = after.last().unwrap();
    assert_eq!(poison["NId"], "poison-1");
    assert_eq!(poison["Status"], "Exploded");
    assert_eq!(poison["EquipmentNId"], latest["EquipmentNId"]);
    assert_ne!(poison["Id"], latest["Id"]);
    assert_eq!(text(poison, "Id").len(), 36, "a GUID: {poison}");
    // Stamps are RFC 3339 with milliseconds: their text sorts as the instants do.
    assert!(text(poison, "ModifiedOn") > text(&latest, "ModifiedOn"));
    match opcenter::map_row(app, set, poison, &known) {
        Err(opcenter::MapError::Field { field, id, .. }) => {
            assert_eq!(field, "Status");
            assert_eq!(id, text(poison, "Id"));
        }
        other => panic!("the poison row mapped: {other:?}"),
    }
    // A change feed after the rows before reads it; the plant's later rows come after it.
    let fresh = feed(&emu, &token, app, set, Some(text(&latest, "ModifiedOn"))).await;
    assert_eq!(fresh, std::slice::from_ref(poison));
    emu.advance(6.0 * 60.0).await;
    let later = feed(&emu, &token, app, set, Some(text(poison, "ModifiedOn"))).await;
    assert!(!later.is_empty(), "the plant went on");
    assert_eq!(
        feed(&emu, &token, app, set, None).await.len(),
        before.len() + 1 + later.len()
    );

    // By default every property but the key and stamp is null: the profile names one missing.
    emu.faults(json!({"poison_row": {"app": "AppU4DM", "set": "ResultHistory"}}))
        .await;
    let results = feed(&emu, &token, "AppU4DM", "ResultHistory", None).await;
    let bare = results.last().unwrap();
    assert_eq!(bare["NId"], "poison-2");
    assert!(
        bare["Date"].is_null() && bare["ResultValue"].is_null(),
        "{bare}"
    );
    let refused = opcenter::map_row("AppU4DM", "ResultHistory", bare, &known).unwrap_err();
    assert!(refused.to_string().contains("Date"), "{refused}");

    // A set or a field that does not exist is refused by name, and nothing is written.
    for (body, named) in [
        (json!({"app": "Equipment", "set": "WorkOrder"}), "WorkOrder"),
        (
            json!({"app": app, "set": set, "fields": {"Colour": "red"}}),
            "Colour",
        ),
        (
            json!({"app": app, "set": set, "fields": {"ModifiedOn": "2026-03-02T06:00:00.000Z"}}),
            "ModifiedOn",
        ),
    ] {
        let answer = emu
            .client
            .post(emu.url("/emulator/faults"))
            .basic_auth(&emu.credentials.username, Some(&emu.credentials.password))
            .json(&json!({ "poison_row": body }))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 400);
        let body: Value = answer.json().await.unwrap();
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(named), "{message}");
    }
    let rows = feed(&emu, &token, app, set, None).await;
    assert_eq!(rows.iter().filter(|r| r["NId"] == "poison-1").count(), 1);
    assert!(!rows.iter().any(|r| r["NId"] == "poison-3"));
    emu.emulator.stop().await;
}

#[tokio::test]
async fn the_page_repeated_is_the_last_that_held_rows() {
    let emu = Emu::start(config()).await;
    emu.advance(12.0 * 60.0).await;
    let token = emu.sign_in().await.access_token;
    let url = |filter: &str| {
        emu.service(
            "AppU4DM",
            &format!("WorkOrder?$orderby=ModifiedOn,Id&$filter={filter}"),
        )
    };
    let rows = feed(&emu, &token, "AppU4DM", "WorkOrder", None).await;
    let last = text(rows.last().unwrap(), "ModifiedOn").to_owned();
    let held = emu
        .get_json(
            &url(&format!("ModifiedOn gt {}", text(&rows[0], "ModifiedOn"))),
            &token,
        )
        .await;
    assert!(!held["value"].as_array().unwrap().is_empty());
    // A reader at the head of the feed is served an empty page, then the repeat.
    let head = emu
        .get_json(&url(&format!("ModifiedOn gt {last}")), &token)
        .await;
    assert_eq!(head["value"], json!([]));
    emu.faults(json!({"repeat_page": true})).await;
    let repeated = emu
        .get_json(&url(&format!("ModifiedOn gt {last}")), &token)
        .await;
    assert_eq!(repeated, held);
    let again = emu
        .get_json(&url(&format!("ModifiedOn gt {last}")), &token)
        .await;
    assert_eq!(again, head, "only once");
    emu.emulator.stop().await;
}

#[tokio::test]
async fn a_closed_port_opens_again_when_told_up() {
    let emu = Emu::start(config()).await;
    let token = emu.sign_in().await.access_token;
    let url = emu.service("AppU4DM", "");
    emu.emulator
        .set_faults(&mesemu::faults::FaultRequest {
            down: Some(mesemu::faults::Down {
                seconds: 600,
                mode: mesemu::faults::DownMode::Refuse,
            }),
            ..Default::default()
        })
        .unwrap();
    let began = Instant::now();
    while emu
        .client
        .get(&url)
        .bearer_auth(&token)
        .send()
        .await
        .is_ok()
    {
        assert!(began.elapsed() < Duration::from_secs(10), "never closed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    emu.emulator
        .set_faults(&mesemu::faults::FaultRequest {
            up: true,
            ..Default::default()
        })
        .unwrap();
    // Long before the 600 s are over.
    let began = Instant::now();
    loop {
        if let Ok(answer) = emu.client.get(&url).bearer_auth(&token).send().await {
            assert_eq!(answer.status(), 200);
            break;
        }
        assert!(began.elapsed() < Duration::from_secs(10), "never opened");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    emu.emulator.stop().await;
}
