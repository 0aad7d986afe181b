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
