//! Principals and tokens over real HTTP: an administrator issues a token that works at once,
//! revokes it and it stops working at once; nobody grants more reach than they have; bad
//! requests are named; every change is audited with the administrator.

mod common;

use common::{Setup, TestApp};

use serde_json::{Value, json};

async fn send(
    client: &reqwest::Client,
    served: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, String, Value) {
    let mut request = client.request(method, served.url(path)).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    common::split(request.send().await.unwrap()).await
}

/// `POST /v1/principals` as the holder of `token`.
async fn issue(
    client: &reqwest::Client,
    served: &TestApp,
    token: &str,
    body: Value,
) -> (u16, String, Value) {
    send(
        client,
        served,
        reqwest::Method::POST,
        "/v1/principals",
        token,
        Some(body),
    )
    .await
}

#[tokio::test]
async fn an_admin_issues_and_revokes_tokens_within_its_reach() {
    let served = TestApp::with(Setup {
        caller: Some(("ada", govern::Role::Admin)),
        ..Setup::default()
    })
    .await;
    let admin = served.token.clone();
    let chem_admin = served
        .token_for("carl", govern::Role::Admin, "area:A-CHEM")
        .await;
    let planner = served.token_for("paula", govern::Role::Planner, "*").await;
    let store = served.store.clone();
    let client = reqwest::Client::new();
    use reqwest::Method;

    // Issue: 201 with the token, shown once; it works on the next call.
    let (status, _, issued) = issue(
        &client,
        &served,
        &admin,
        json!({"name": "mes-bridge", "role": "operator", "kind": "service", "scope": "site:RHF"}),
    )
    .await;
    assert_eq!(status, 201, "{issued}");
    assert_eq!(issued["principal"]["kind"], "service");
    assert_eq!(issued["principal"]["scope"], "site:RHF");
    let token = issued["token"].as_str().unwrap().to_owned();
    let (status, _, _) = send(
        &client,
        &served,
        Method::GET,
        "/v1/orders?limit=1",
        &token,
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _, list) = send(
        &client,
        &served,
        Method::GET,
        "/v1/principals",
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 200);
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"mes-bridge") && names.contains(&"paula"),
        "{names:?}"
    );

    // Revoke: the token stops working on the next call.
    let (status, _, revoked) = send(
        &client,
        &served,
        Method::DELETE,
        "/v1/principals/mes-bridge/tokens",
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 200, "{revoked}");
    assert_eq!(revoked["revoked"], 1);
    let (status, _, _) = send(
        &client,
        &served,
        Method::GET,
        "/v1/orders?limit=1",
        &token,
        None,
    )
    .await;
    assert_eq!(status, 401);

    // No more reach than the caller's: an area admin grants its area, not the site.
    let (status, kind, refused) = issue(
        &client,
        &served,
        &chem_admin,
        json!({"name": "sam", "role": "supervisor", "scope": "site:RHF"}),
    )
    .await;
    assert_eq!(status, 403, "{refused}");
    assert_eq!(kind, "application/problem+json");
    assert!(refused["detail"].as_str().unwrap().contains("site:RHF"));
    let (status, _, _) = issue(
        &client,
        &served,
        &chem_admin,
        json!({"name": "sam", "role": "supervisor", "scope": "area:A-CHEM"}),
    )
    .await;
    assert_eq!(status, 201);

    // Only administrators manage principals; bad input is named.
    let (status, _, _) = send(
        &client,
        &served,
        Method::GET,
        "/v1/principals",
        &planner,
        None,
    )
    .await;
    assert_eq!(status, 403);
    let (status, _, bad) = issue(
        &client,
        &served,
        &admin,
        json!({"name": "x", "role": "overlord", "scope": "*"}),
    )
    .await;
    assert_eq!(status, 422, "{bad}");
    assert!(
        bad["detail"].as_str().unwrap().contains("overlord"),
        "{bad}"
    );
    let (status, _, bad) = issue(
        &client,
        &served,
        &admin,
        json!({"name": "bot", "role": "agent", "scope": "*", "kind": "person"}),
    )
    .await;
    assert_eq!(status, 422, "{bad}");
    assert!(bad["detail"].as_str().unwrap().contains("agent"), "{bad}");
    let (status, _, missing) = send(
        &client,
        &served,
        Method::DELETE,
        "/v1/principals/nobody/tokens",
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 404, "{missing}");
    assert!(missing["detail"].as_str().unwrap().contains("nobody"));

    // Audited with the administrator who did it.
    let audit = store.audit_log(0, 10_000).await.unwrap();
    let by_ada: Vec<&str> = audit
        .iter()
        .filter(|r| r.actor.id == "ada")
        .map(|r| r.action.as_str())
        .collect();
    assert!(
        by_ada.contains(&"token.create") && by_ada.contains(&"token.revoke"),
        "{by_ada:?}"
    );
}
