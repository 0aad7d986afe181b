//! The web dashboard's door over real HTTP: its embedded files under a content security
//! policy, sign-in to a session cookie (`HttpOnly`, `SameSite=Strict`), CSRF on writes by
//! cookie, the same roles as tokens, revocation and sign-out ending a session, both audited,
//! the live stream of changes, and the audit trail's filters and chain check it shows.

mod common;

use std::time::Duration;

use common::TestApp;
use govern::Role;
use reqwest::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};
use serde_json::{Value, json};

/// A signed-in browser: its cookie and CSRF token.
struct Browser {
    cookie: String,
    csrf: String,
    info: Value,
}

async fn sign_in(app: &TestApp, token: &str) -> Browser {
    let response = app
        .client
        .post(app.url("/ui/session"))
        .header(CONTENT_TYPE, "application/json")
        .body(json!({ "token": token }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let set_cookie = response
        .headers()
        .get(SET_COOKIE)
        .expect("a session cookie")
        .to_str()
        .unwrap()
        .to_owned();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set_cookie.contains(flag), "{flag} in {set_cookie}");
    }
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let info: Value = response.json().await.unwrap();
    Browser {
        cookie,
        csrf: info["csrf"].as_str().unwrap().to_owned(),
        info,
    }
}

async fn as_browser(
    app: &TestApp,
    browser: &Browser,
    method: reqwest::Method,
    path: &str,
    csrf: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = app
        .client
        .request(method, app.url(path))
        .header(COOKIE, &browser.cookie);
    if let Some(csrf) = csrf {
        request = request.header("x-csrf-token", csrf);
    }
    if let Some(body) = body {
        request = request
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_string());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A read by cookie alone: its status.
async fn browser_get(app: &TestApp, browser: &Browser, path: &str) -> u16 {
    as_browser(app, browser, reqwest::Method::GET, path, None, None)
        .await
        .0
}

async fn audit_actions(app: &TestApp) -> Vec<(String, String)> {
    app.store
        .audit_log(0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.action, r.actor.id))
        .collect()
}

#[tokio::test]
async fn the_page_and_its_files_are_served_under_a_content_security_policy() {
    let app = TestApp::start().await;
    let page = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let policy = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("script-src 'self'"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert!(page.text().await.unwrap().contains("/ui/app.js"));

    let script = app.client.get(app.url("/ui/app.js")).send().await.unwrap();
    assert_eq!(script.status(), 200);
    assert!(
        script.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    let etag = script.headers()["etag"].clone();
    let again = app
        .client
        .get(app.url("/ui/app.js"))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);

    for path in [
        "/ui/nothing.js",
        "/ui/pages%2F..%2F..%2Fbuild.rs",
        "/ui/..%2FCargo.toml",
    ] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
}

#[tokio::test]
async fn a_session_stands_for_its_token_and_writes_need_the_csrf_token() {
    let app = TestApp::start().await;
    let token = app.token_for("ann", Role::Planner, "*").await;

    // Only JSON signs in, and only a valid token.
    let form = app
        .client
        .post(app.url("/ui/session"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!("token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 415);
    let (status, problem) = common::call(
        &app.client,
        app.address,
        "POST",
        "/ui/session",
        "",
        Some(json!({ "token": "mxp_nope" })),
    )
    .await;
    assert_eq!(status, 401, "{problem}");
    let garbled = app
        .client
        .post(app.url("/ui/session"))
        .header(CONTENT_TYPE, "application/json")
        .body("{\"token\":")
        .send()
        .await
        .unwrap();
    assert_eq!(garbled.status(), 400);

    let browser = sign_in(&app, &token).await;
    assert_eq!(browser.info["principal"], "ann");
    assert_eq!(browser.info["role"], "planner");
    let permissions = browser.info["permissions"].as_array().unwrap();
    assert!(permissions.contains(&json!("decide_proposals")));
    assert!(!permissions.contains(&json!("read_audit")));
    assert!(
        audit_actions(&app)
            .await
            .contains(&("session.sign_in".to_owned(), "ann".to_owned()))
    );

    // Reads by cookie; the role still rules (a planner does not read the audit trail).
    let status = browser_get(&app, &browser, "/v1/work-centers").await;
    assert_eq!(status, 200);
    let status = browser_get(&app, &browser, "/v1/audit").await;
    assert_eq!(status, 403);

    // A write by cookie without the session's CSRF token, or with another, is refused
    // before anything runs; with it, the request reaches its handler (which refuses the
    // empty draft on its own terms).
    for csrf in [None, Some("0".repeat(64))] {
        let (status, problem) = as_browser(
            &app,
            &browser,
            reqwest::Method::POST,
            "/v1/proposals",
            csrf.as_deref(),
            Some(json!({})),
        )
        .await;
        assert_eq!(status, 403, "{problem}");
        assert!(
            problem["detail"].as_str().unwrap().contains("CSRF"),
            "{problem}"
        );
    }
    let (status, problem) = as_browser(
        &app,
        &browser,
        reqwest::Method::POST,
        "/v1/proposals",
        Some(&browser.csrf),
        Some(json!({})),
    )
    .await;
    assert!(
        status == 400 || status == 422,
        "{status} {problem}: the handler, not the door, refuses"
    );

    // Revoking the token ends its sessions.
    app.store
        .revoke_tokens(
            "ann",
            store::GovernanceWrite::by(store::Actor::system("test"), None),
        )
        .await
        .unwrap();
    let status = browser_get(&app, &browser, "/v1/work-centers").await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn signing_out_needs_the_csrf_token_ends_the_session_and_is_audited() {
    let app = TestApp::start().await;
    let token = app.token_for("bea", Role::Viewer, "*").await;
    let browser = sign_in(&app, &token).await;
    let status = browser_get(&app, &browser, "/ui/session").await;
    assert_eq!(status, 200);
    let (status, _) = as_browser(
        &app,
        &browser,
        reqwest::Method::DELETE,
        "/ui/session",
        None,
        None,
    )
    .await;
    assert_eq!(status, 403, "a sign-out forged by another site is refused");
    let (status, _) = as_browser(
        &app,
        &browser,
        reqwest::Method::DELETE,
        "/ui/session",
        Some(&browser.csrf),
        None,
    )
    .await;
    assert_eq!(status, 204);
    for path in ["/ui/session", "/v1/orders"] {
        let status = browser_get(&app, &browser, path).await;
        assert_eq!(status, 401, "{path} after sign-out");
    }
    assert!(
        audit_actions(&app)
            .await
            .contains(&("session.sign_out".to_owned(), "bea".to_owned()))
    );
}

#[tokio::test]
async fn the_live_stream_tells_which_topics_changed_after_a_write() {
    let app = TestApp::start().await;
    let anonymous = app.client.get(app.url("/ui/events")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);

    let token = app.token_for("cy", Role::Supervisor, "*").await;
    let browser = sign_in(&app, &token).await;
    let mut stream = app
        .client
        .get(app.url("/ui/events"))
        .header(COOKIE, &browser.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    assert!(
        stream.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut seen = String::new();
    let mut read_until = async |needle: &str, seen: &mut String| {
        tokio::time::timeout(Duration::from_secs(20), async {
            while !seen.contains(needle) {
                let chunk = stream
                    .chunk()
                    .await
                    .unwrap()
                    .expect("the stream stays open");
                seen.push_str(&String::from_utf8_lossy(&chunk));
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no `{needle}` in {seen:?}"));
    };
    read_until("event: hello", &mut seen).await;

    // Any audited write wakes the stream: here a principal created.
    app.token_for("dee", Role::Viewer, "*").await;
    read_until("event: change", &mut seen).await;
    let data = seen
        .lines()
        .skip_while(|l| !l.starts_with("event: change"))
        .find_map(|l| l.strip_prefix("data: "))
        .expect("the change's data");
    let change: Value = serde_json::from_str(data).unwrap();
    assert!(change["seq"].as_i64().unwrap() > 0);
    assert!(
        change["topics"]
            .as_array()
            .unwrap()
            .contains(&json!("audit"))
    );
}

#[tokio::test]
async fn the_audit_trail_filters_by_actor_action_and_time_and_verifies() {
    let app = TestApp::start().await;
    let supervisor = app.token_for("eve", Role::Supervisor, "*").await;
    for name in ["fay", "gus"] {
        let token = app.token_for(name, Role::Viewer, "*").await;
        sign_in(&app, &token).await;
    }
    let get = |path: String| {
        let supervisor = supervisor.clone();
        let app = &app;
        async move { app.call("GET", &path, &supervisor, None).await }
    };
    let (status, page) = get("/v1/audit?action=session.".into()).await;
    assert_eq!(status, 200, "{page}");
    let actors: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["actor"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(actors, ["fay", "gus"]);
    let (_, page) = get("/v1/audit?actor=gus".into()).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["action"], "session.sign_in");
    let (_, page) = get("/v1/audit?from=2999-01-01T00:00:00Z".into()).await;
    assert_eq!(page["items"], json!([]));
    let (_, page) = get("/v1/audit?to=2000-01-01T00:00:00Z".into()).await;
    assert_eq!(page["items"], json!([]));
    let (status, problem) = get("/v1/audit?from=yesterday".into()).await;
    assert_eq!(status, 400);
    assert!(
        problem["detail"].as_str().unwrap().contains("`from`"),
        "{problem}"
    );

    // Pages of a filtered list keep the filter.
    let (_, first) = get("/v1/audit?action=session.&limit=1".into()).await;
    let next = first["next"].as_str().expect("a second page").to_owned();
    let (_, second) = get(next).await;
    assert_eq!(second["items"][0]["actor"]["id"], "gus");

    // Newest first, paged by cursor; `after_seq` belongs to the oldest-first order.
    let (status, newest) = get("/v1/audit?sort=-seq&action=session.&limit=1".into()).await;
    assert_eq!(status, 200, "{newest}");
    assert_eq!(newest["items"][0]["actor"]["id"], "gus");
    let (_, older) = get(newest["next"].as_str().expect("a next page").to_owned()).await;
    assert_eq!(older["items"][0]["actor"]["id"], "fay");
    assert!(older["next"].is_null(), "{older}");
    let (status, _) = get("/v1/audit?sort=-seq&after_seq=3".into()).await;
    assert_eq!(status, 400);

    let (status, report) = get("/v1/audit/verify".into()).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["first_bad"], Value::Null);
    assert!(report["records"].as_u64().unwrap() >= 4);
    let viewer = app.token_for("hal", Role::Viewer, "*").await;
    let (status, _) = app.call("GET", "/v1/audit/verify", &viewer, None).await;
    assert_eq!(status, 403);
}
