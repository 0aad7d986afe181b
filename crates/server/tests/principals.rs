//! Principals and tokens over real HTTP: an administrator issues a token that works at once,
//! revokes it and it stops working at once; nobody grants more reach than they have; bad
//! requests are named; every change is audited with the administrator. The reproductions of
//! issue 12 item 3: an area administrator can neither rebind the global administrator's name,
//! nor revoke its tokens, nor turn another area's principal into an administrator; the last
//! global administrator stays; bad names answer 422, not 500.

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
    let names: Vec<&str> = list["items"]
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
        by_ada.contains(&"principal.create") && by_ada.contains(&"token.revoke"),
        "{by_ada:?}"
    );
}

/// A request as `token`: status and body (the content type must be problem+json for errors).
async fn call(
    served: &TestApp,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let (status, kind, body) = send(&served.client, served, method, path, token, body).await;
    if status >= 400 {
        assert_eq!(kind, "application/problem+json", "{status} {body}");
    }
    (status, body)
}

/// The audit records `actor` wrote.
async fn audited_by(served: &TestApp, actor: &str) -> Vec<store::AuditRecord> {
    let audit = served.store.audit_log(0, 10_000).await.unwrap();
    audit.into_iter().filter(|r| r.actor.id == actor).collect()
}

/// Issue 12, item 3, as reproduced on the demo: an `area:A-CHEM` administrator re-issued
/// `demo-admin` as an A-CHEM viewer, revoked the global administrator's tokens, and turned an
/// A-PACK planner's token into an administrator's by re-issuing that name. Each is refused
/// now, and nothing changes.
#[tokio::test]
async fn an_area_admin_cannot_touch_the_global_admin_or_another_areas_principals() {
    let served = TestApp::with(Setup {
        caller: Some(("demo-admin", govern::Role::Admin)),
        ..Setup::default()
    })
    .await;
    let root = served.token.clone();
    let chem_admin = served
        .token_for("chem-admin", govern::Role::Admin, "area:A-CHEM")
        .await;
    let pack_planner = served
        .token_for("pack-planner", govern::Role::Planner, "area:A-PACK")
        .await;
    let before = served.store.principals().await.unwrap();

    // Re-issuing `demo-admin` as an A-CHEM viewer: the name exists, it is not rebound.
    let (status, refused) = call(
        &served,
        "POST",
        "/v1/principals",
        &chem_admin,
        Some(json!({"name": "demo-admin", "role": "viewer", "scope": "area:A-CHEM"})),
    )
    .await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["type"], "urn:mixplane:problem:principal-exists");
    // Nor a token acting as `demo-admin`, nor a change, nor revoking its tokens.
    for (method, path, body) in [
        ("POST", "/v1/principals/demo-admin/tokens", None),
        (
            "PATCH",
            "/v1/principals/demo-admin",
            Some(json!({"role": "viewer", "scope": "area:A-CHEM"})),
        ),
        ("DELETE", "/v1/principals/demo-admin/tokens", None),
    ] {
        let (status, refused) = call(&served, method, path, &chem_admin, body).await;
        assert_eq!(status, 403, "{method} {path}: {refused}");
        assert!(
            refused["detail"].as_str().unwrap().contains("scope `*`"),
            "{refused}"
        );
    }
    // The A-PACK planner: neither re-issued as an administrator nor changed nor revoked.
    let (status, refused) = call(
        &served,
        "POST",
        "/v1/principals",
        &chem_admin,
        Some(json!({"name": "pack-planner", "role": "admin", "scope": "area:A-CHEM"})),
    )
    .await;
    assert_eq!(status, 409, "{refused}");
    for (method, path, body) in [
        (
            "PATCH",
            "/v1/principals/pack-planner",
            Some(json!({"role": "admin", "scope": "area:A-CHEM"})),
        ),
        ("POST", "/v1/principals/pack-planner/tokens", None),
        ("DELETE", "/v1/principals/pack-planner/tokens", None),
    ] {
        let (status, refused) = call(&served, method, path, &chem_admin, body).await;
        assert_eq!(status, 403, "{method} {path}: {refused}");
        assert!(
            refused["detail"].as_str().unwrap().contains("area:A-PACK"),
            "{refused}"
        );
    }

    // Nothing changed: the global administrator still administers, the planner still plans.
    assert_eq!(served.store.principals().await.unwrap(), before);
    let (status, _) = call(&served, "GET", "/v1/principals", &root, None).await;
    assert_eq!(status, 200);
    let (status, _) = call(&served, "GET", "/v1/principals", &pack_planner, None).await;
    assert_eq!(status, 403, "still a planner");
    assert!(audited_by(&served, "chem-admin").await.is_empty());

    // Within its area it does what an administrator does, and sees only its area.
    let (status, viewer) = call(
        &served,
        "POST",
        "/v1/principals",
        &chem_admin,
        Some(json!({"name": "chem-viewer", "role": "viewer", "scope": "area:A-CHEM"})),
    )
    .await;
    assert_eq!(status, 201, "{viewer}");
    let (status, changed) = call(
        &served,
        "PATCH",
        "/v1/principals/chem-viewer",
        &chem_admin,
        Some(json!({"role": "operator"})),
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["before"]["role"], "viewer");
    assert_eq!(changed["after"]["role"], "operator");
    assert_eq!(changed["after"]["scope"], "area:A-CHEM");
    let (status, widened) = call(
        &served,
        "PATCH",
        "/v1/principals/chem-viewer",
        &chem_admin,
        Some(json!({"scope": "site:RHF"})),
    )
    .await;
    assert_eq!(status, 403, "{widened}");
    let (status, another) = call(
        &served,
        "POST",
        "/v1/principals/chem-viewer/tokens",
        &chem_admin,
        None,
    )
    .await;
    assert_eq!(status, 201, "{another}");
    let first = viewer["token"].as_str().unwrap();
    let second = another["token"].as_str().unwrap();
    for token in [first, second] {
        let (status, _) = call(&served, "GET", "/v1/orders?limit=1", token, None).await;
        assert_eq!(status, 200);
    }
    let (_, listed) = call(&served, "GET", "/v1/principals", &chem_admin, None).await;
    let names: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["chem-admin", "chem-viewer"]);
    let (status, revoked) = call(
        &served,
        "DELETE",
        "/v1/principals/chem-viewer/tokens",
        &chem_admin,
        None,
    )
    .await;
    assert_eq!(status, 200, "{revoked}");
    assert_eq!(revoked["revoked"], 2);

    // Every change audited by the area administrator, with before and after.
    let records = audited_by(&served, "chem-admin").await;
    let actions: Vec<&str> = records.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "principal.create",
            "principal.update",
            "token.create",
            "token.revoke"
        ]
    );
    assert_eq!(records[0].detail["before"], Value::Null);
    assert_eq!(records[1].detail["before"]["role"], "viewer");
    assert_eq!(records[1].detail["after"]["role"], "operator");
    assert_eq!(records[3].detail["after"]["live_tokens"], 0);
    assert!(served.store.verify_audit().await.unwrap().is_intact());
}

/// The last administrator with scope `*` and a live token can be neither demoted, narrowed
/// nor revoked (over HTTP that would lock everyone out); with a second one it can.
#[tokio::test]
async fn the_last_global_admin_stays() {
    let served = TestApp::with(Setup {
        caller: Some(("root", govern::Role::Admin)),
        ..Setup::default()
    })
    .await;
    let root = served.token.clone();
    for (method, path, body) in [
        (
            "PATCH",
            "/v1/principals/root",
            Some(json!({"role": "viewer"})),
        ),
        (
            "PATCH",
            "/v1/principals/root",
            Some(json!({"scope": "site:RHF"})),
        ),
        ("DELETE", "/v1/principals/root/tokens", None),
    ] {
        let (status, refused) = call(&served, method, path, &root, body).await;
        assert_eq!(status, 409, "{method} {path}: {refused}");
        assert_eq!(refused["type"], "urn:mixplane:problem:last-global-admin");
    }
    let (status, _) = call(&served, "GET", "/v1/principals", &root, None).await;
    assert_eq!(status, 200, "root still administers");

    let (status, ada) = call(
        &served,
        "POST",
        "/v1/principals",
        &root,
        Some(json!({"name": "ada", "role": "admin", "scope": "*"})),
    )
    .await;
    assert_eq!(status, 201, "{ada}");
    let ada = ada["token"].as_str().unwrap().to_owned();
    let (status, changed) = call(
        &served,
        "PATCH",
        "/v1/principals/root",
        &ada,
        Some(json!({"role": "viewer"})),
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    let (status, _) = call(&served, "GET", "/v1/principals", &root, None).await;
    assert_eq!(status, 403, "root is a viewer from its next call");
    let (status, refused) = call(&served, "DELETE", "/v1/principals/ada/tokens", &ada, None).await;
    assert_eq!(status, 409, "{refused}");
    let update = served
        .store
        .audit_log(0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.action == "principal.update")
        .unwrap();
    assert_eq!(update.actor.id, "ada");
    assert_eq!(update.subject, "principal:root");
    assert_eq!(update.detail["before"]["role"], "admin");
    assert_eq!(update.detail["after"]["role"], "viewer");
}

/// Bad principal names answer 422 problem+json naming what is wrong (a 129-character name
/// used to answer 500), in a body and in a path alike.
#[tokio::test]
async fn bad_principal_names_answer_422_naming_the_problem() {
    let served = TestApp::start().await;
    let admin = served.token.clone();
    let long = "n".repeat(129);
    for (name, expected) in [
        ("", "empty"),
        (long.as_str(), "129 characters"),
        ("bell\u{7}", "U+0007"),
        ("zero\u{200B}width", "U+200B"),
        ("person:eve", "`:`"),
        (" padded", "white space"),
        ("psn_0123456789abcdef01234567", "pseudonym"),
    ] {
        let (status, bad) = call(
            &served,
            "POST",
            "/v1/principals",
            &admin,
            Some(json!({"name": name, "role": "viewer", "scope": "*"})),
        )
        .await;
        assert_eq!(status, 422, "{name:?}: {bad}");
        let detail = bad["detail"].as_str().unwrap();
        assert!(
            detail.contains("principal name") && detail.contains(expected),
            "{name:?}: {detail}"
        );
    }
    for path in [
        format!("/v1/principals/{long}/tokens"),
        "/v1/principals/bell%07/tokens".to_owned(),
        "/v1/principals/a%3Ab/tokens".to_owned(),
    ] {
        let (status, bad) = call(&served, "POST", &path, &admin, None).await;
        assert_eq!(status, 422, "{path}: {bad}");
        let (status, bad) = call(&served, "DELETE", &path, &admin, None).await;
        assert_eq!(status, 422, "{path}: {bad}");
    }
    let (status, bad) = call(
        &served,
        "PATCH",
        "/v1/principals/alice",
        &admin,
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 422, "{bad}");
    assert!(
        bad["detail"]
            .as_str()
            .unwrap()
            .contains("`role` or a `scope`")
    );
    assert_eq!(served.store.principals().await.unwrap().len(), 1);
}
