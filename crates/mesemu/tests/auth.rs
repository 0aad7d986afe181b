//! Signing in over HTTP: the password grant with the client's Basic credentials, refresh,
//! refusals named as OAuth errors, and the bearer every service route needs — a missing,
//! unknown or expired token is refused with 401 and an OData error body.

mod common;

use std::time::Duration;

use common::{Emu, config};
use serde_json::{Value, json};

#[tokio::test]
async fn sign_in_refresh_and_use_the_token() {
    let emu = Emu::start(config()).await;
    let first = emu.sign_in().await;
    assert_eq!(first.token_type, "Bearer");
    assert_eq!(first.expires_in, 3600);
    let doc = emu
        .get_json(&emu.service("AppU4DM", ""), &first.access_token)
        .await;
    assert!(doc["value"].as_array().is_some_and(|sets| !sets.is_empty()));

    let refreshed = emu
        .token_request(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &first.refresh_token),
        ])
        .await;
    assert_eq!(refreshed.status(), 200);
    let second: mesemu::auth::TokenAnswer = refreshed.json().await.unwrap();
    assert_ne!(second.access_token, first.access_token);
    let answer = emu
        .get(&emu.service("AppU4DM", ""), &second.access_token)
        .await;
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["OData-Version"], "4.0");

    // The refresh token was used up.
    let again = emu
        .token_request(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &first.refresh_token),
        ])
        .await;
    assert_eq!(again.status(), 400);
    let body: Value = again.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
    emu.emulator.stop().await;
}

#[tokio::test]
async fn wrong_credentials_are_refused_by_name() {
    let emu = Emu::start(config()).await;
    let wrong_password = emu
        .token_request(&[
            ("grant_type", "password"),
            ("username", "mixplane"),
            ("password", "guess"),
            ("scope", "global"),
        ])
        .await;
    assert_eq!(wrong_password.status(), 400);
    let body: Value = wrong_password.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");

    let no_client = emu
        .client
        .post(emu.url("/sit-auth/OAuth/Token"))
        .form(&[
            ("grant_type", "password"),
            ("username", "mixplane"),
            ("password", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(no_client.status(), 401);
    let body: Value = no_client.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
    emu.emulator.stop().await;
}

#[tokio::test]
async fn service_routes_need_a_live_bearer() {
    let emu = Emu::start(config()).await;
    for (token, why) in [
        (None, "no bearer token"),
        (Some("not-a-token"), "not known"),
    ] {
        let mut request = emu.client.get(emu.service("AppU4DM", "WorkOrder"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let answer = request.send().await.unwrap();
        assert_eq!(answer.status(), 401);
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["error"]["code"], "Unauthorized");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(why),
            "{body}"
        );
    }
    // The admin routes are not open either.
    let admin = emu
        .client
        .post(emu.url("/emulator/faults"))
        .json(&json!({"expire_tokens": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(admin.status(), 401);
    emu.emulator.stop().await;
}

#[tokio::test]
async fn an_expired_token_is_refused_and_a_refresh_gets_a_live_one() {
    // Tokens live three seconds (time enough for a slow machine's first request): one is
    // refused once it has lived longer.
    let emu = Emu::start(mesemu::Config {
        token_lifetime: Duration::from_secs(3),
        ..config()
    })
    .await;
    let token = emu.sign_in().await;
    assert_eq!(token.expires_in, 3);
    assert_eq!(
        emu.get(&emu.service("AppU4DM", ""), &token.access_token)
            .await
            .status(),
        200
    );
    tokio::time::sleep(Duration::from_millis(3100)).await;
    let expired = emu
        .get(&emu.service("AppU4DM", ""), &token.access_token)
        .await;
    assert_eq!(expired.status(), 401);
    let body: Value = expired.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired")
    );

    // A refresh answers a live one.
    let refreshed: mesemu::auth::TokenAnswer = emu
        .token_request(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &token.refresh_token),
        ])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        emu.get(&emu.service("AppU4DM", ""), &refreshed.access_token)
            .await
            .status(),
        200
    );
    emu.emulator.stop().await;
}
