//! Conditional writes over real HTTP: proposals, holds and nonconformances answer an `ETag`
//! that changes with every change; two people acting at once on the version they both read —
//! the second's `If-Match` is stale and gets a 412 naming the first, when, and the current
//! tag, with nothing written; `If-None-Match` on a current copy is a 304; without `If-Match`
//! the writes behave as before.

mod common;

use common::{Setup, TestApp, chem_order, due_move_draft};
use govern::Role;
use serde_json::{Value, json};

async fn start() -> TestApp {
    TestApp::with(Setup {
        simulated_days: Some(1.0),
        ..Setup::default()
    })
    .await
}

/// `method path` as `token` with optional `If-Match`/`If-None-Match` and body: status, the
/// `ETag` header and the body.
async fn send(
    app: &TestApp,
    method: &str,
    path: &str,
    token: &str,
    condition: Option<(&str, &str)>,
    body: Option<Value>,
) -> (u16, Option<String>, Value) {
    let mut request = app
        .client
        .request(method.parse().unwrap(), app.url(path))
        .bearer_auth(token);
    if let Some((name, value)) = condition {
        request = request.header(name, value);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let etag = response
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_owned());
    let (status, _, body) = common::split(response).await;
    (status, etag, body)
}

/// The 412 of a stale `If-Match`: a problem naming `who` as the last change's author, with
/// the current tag in the body and the header.
fn assert_stale(status: u16, etag: Option<String>, problem: &Value, who: &str, action: &str) {
    assert_eq!(status, 412, "{problem}");
    assert_eq!(problem["type"], "urn:mixplane:problem:stale-version");
    assert_eq!(
        problem["changed"]["by"],
        format!("person:{who}"),
        "{problem}"
    );
    assert_eq!(problem["changed"]["action"], action, "{problem}");
    assert!(problem["changed"]["at"].is_string(), "{problem}");
    assert_eq!(
        problem["current_etag"].as_str(),
        etag.as_deref(),
        "{problem}"
    );
}

#[tokio::test]
async fn two_planners_deciding_at_once_the_second_gets_412_naming_the_first() {
    let app = start().await;
    let agent = app.token_for("scheduler-bot", Role::Agent, "*").await;
    let ann = app.token_for("ann", Role::Planner, "area:A-CHEM").await;
    let bob = app.token_for("bob", Role::Planner, "area:A-CHEM").await;
    let (order, due) = chem_order(&app).await;
    let (status, _, proposal) = send(
        &app,
        "POST",
        "/v1/proposals",
        &agent,
        None,
        Some(due_move_draft(&order, &due, 120, "schedule_change")),
    )
    .await;
    assert_eq!(status, 201, "{proposal}");
    assert_eq!(proposal["status"], "proposed", "{proposal}");
    let path = format!("/v1/proposals/{}", proposal["id"].as_str().unwrap());

    // Both read the same version.
    let (status, seen_by_ann, _) = send(&app, "GET", &path, &ann, None, None).await;
    assert_eq!(status, 200);
    let (_, seen_by_bob, _) = send(&app, "GET", &path, &bob, None, None).await;
    let tag = seen_by_ann.clone().expect("an ETag");
    assert_eq!(seen_by_bob.as_deref(), Some(tag.as_str()));
    let (status, _, body) = send(
        &app,
        "GET",
        &path,
        &bob,
        Some(("If-None-Match", &tag)),
        None,
    )
    .await;
    assert_eq!(status, 304, "{body}");

    // Ann approves first; Bob's rejection of the version he read is refused and writes
    // nothing.
    let (status, after_ann, approved) = send(
        &app,
        "POST",
        &format!("{path}/approve"),
        &ann,
        Some(("If-Match", &tag)),
        None,
    )
    .await;
    assert_eq!(status, 200, "{approved}");
    assert_eq!(approved["status"], "approved");
    let after_ann = after_ann.expect("the new version's ETag");
    assert_ne!(after_ann, tag);
    let audited = app.store.audit_log(0, 10_000).await.unwrap().len();
    let (status, current, problem) = send(
        &app,
        "POST",
        &format!("{path}/reject"),
        &bob,
        Some(("If-Match", &tag)),
        Some(json!({"comment": "too late"})),
    )
    .await;
    assert_stale(status, current.clone(), &problem, "ann", "proposal.approve");
    assert_eq!(current.as_deref(), Some(after_ann.as_str()));
    assert_eq!(app.store.audit_log(0, 10_000).await.unwrap().len(), audited);
    let (_, now_tag, shown) = send(&app, "GET", &path, &bob, None, None).await;
    assert_eq!(shown["status"], "approved", "nothing was written");
    assert_eq!(now_tag.as_deref(), Some(after_ann.as_str()));
    let (status, _, _) = send(
        &app,
        "GET",
        &path,
        &bob,
        Some(("If-None-Match", &tag)),
        None,
    )
    .await;
    assert_eq!(status, 200, "an old copy is not current");

    // Apply and roll back honour it too: a stale apply reaches no MES.
    let (status, current, problem) = send(
        &app,
        "POST",
        &format!("{path}/apply"),
        &bob,
        Some(("If-Match", &tag)),
        None,
    )
    .await;
    assert_stale(status, current, &problem, "ann", "proposal.approve");
    let (status, applied_tag, applied) = send(
        &app,
        "POST",
        &format!("{path}/apply"),
        &bob,
        Some(("If-Match", &after_ann)),
        None,
    )
    .await;
    assert_eq!(status, 200, "{applied}");
    assert_eq!(applied["status"], "applied");
    let applied_tag = applied_tag.unwrap();
    let sam = app.token_for("sam", Role::Supervisor, "*").await;
    let (status, current, problem) = send(
        &app,
        "POST",
        &format!("{path}/rollback"),
        &sam,
        Some(("If-Match", &after_ann)),
        None,
    )
    .await;
    assert_stale(status, current, &problem, "bob", "proposal.apply");
    let (status, _, rolled) = send(
        &app,
        "POST",
        &format!("{path}/rollback"),
        &sam,
        Some(("If-Match", &applied_tag)),
        None,
    )
    .await;
    assert_eq!(status, 200, "{rolled}");
    assert_eq!(rolled["status"], "rolled_back");

    // Without If-Match, as before: a decided proposal is a 409 state conflict.
    let (status, _, problem) =
        send(&app, "POST", &format!("{path}/approve"), &bob, None, None).await;
    assert_eq!(status, 409, "{problem}");
    // A tag that is not one is a 400 naming the header.
    let (status, _, problem) = send(
        &app,
        "POST",
        &format!("{path}/approve"),
        &bob,
        Some(("If-Match", "v1")),
        None,
    )
    .await;
    assert_eq!(status, 400, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("If-Match"));
}

#[tokio::test]
async fn two_releases_of_one_hold_the_second_gets_412_naming_the_first() {
    let app = start().await;
    let ivy = app.token_for("ivy", Role::QualityEngineer, "*").await;
    let joe = app.token_for("joe", Role::QualityEngineer, "*").await;
    let order = app
        .store
        .state()
        .await
        .orders
        .keys()
        .next()
        .unwrap()
        .to_string();
    let (status, placed_tag, hold) = send(
        &app,
        "POST",
        "/v1/quality/holds",
        &ivy,
        None,
        Some(json!({"item_kind": "order", "item_id": order, "reason": "suspect"})),
    )
    .await;
    assert_eq!(status, 201, "{hold}");
    let path = format!("/v1/quality/holds/{}", hold["id"].as_str().unwrap());
    let (status, tag, shown) = send(&app, "GET", &path, &joe, None, None).await;
    assert_eq!(status, 200, "{shown}");
    let tag = tag.unwrap();
    assert_eq!(placed_tag.as_deref(), Some(tag.as_str()));
    let (status, _, _) = send(
        &app,
        "GET",
        &path,
        &joe,
        Some(("If-None-Match", &tag)),
        None,
    )
    .await;
    assert_eq!(status, 304);

    let release = json!({"reason": "retested"});
    let (status, released_tag, released) = send(
        &app,
        "POST",
        &format!("{path}/release"),
        &ivy,
        Some(("If-Match", &tag)),
        Some(release.clone()),
    )
    .await;
    assert_eq!(status, 200, "{released}");
    assert_ne!(released_tag.as_deref(), Some(tag.as_str()));
    let (status, current, problem) = send(
        &app,
        "POST",
        &format!("{path}/release"),
        &joe,
        Some(("If-Match", &tag)),
        Some(release.clone()),
    )
    .await;
    assert_stale(
        status,
        current.clone(),
        &problem,
        "ivy",
        "quality.hold.release",
    );
    assert_eq!(current, released_tag);
    // Without If-Match: the released hold's 409, as before.
    let (status, _, problem) = send(
        &app,
        "POST",
        &format!("{path}/release"),
        &joe,
        None,
        Some(release),
    )
    .await;
    assert_eq!(status, 409, "{problem}");
    assert_eq!(problem["type"], "urn:mixplane:problem:hold-released");
}

#[tokio::test]
async fn two_transitions_of_one_nonconformance_the_second_gets_412_naming_the_first() {
    let app = start().await;
    let ivy = app.token_for("ivy", Role::QualityEngineer, "*").await;
    let joe = app.token_for("joe", Role::QualityEngineer, "*").await;
    let order = app
        .store
        .state()
        .await
        .orders
        .keys()
        .next()
        .unwrap()
        .to_string();
    let (status, opened_tag, nc) = send(
        &app,
        "POST",
        "/v1/quality/nonconformances",
        &ivy,
        None,
        Some(json!({"description": "burr", "items": [format!("order:{order}")]})),
    )
    .await;
    assert_eq!(status, 201, "{nc}");
    let path = format!("/v1/quality/nonconformances/{}", nc["id"].as_str().unwrap());
    let (_, tag, _) = send(&app, "GET", &path, &joe, None, None).await;
    let tag = tag.unwrap();
    assert_eq!(opened_tag.as_deref(), Some(tag.as_str()));

    let investigate = json!({"action": "start_investigation"});
    let (status, moved_tag, moved) = send(
        &app,
        "POST",
        &format!("{path}/transitions"),
        &ivy,
        Some(("If-Match", &tag)),
        Some(investigate.clone()),
    )
    .await;
    assert_eq!(status, 200, "{moved}");
    let moved_tag = moved_tag.unwrap();
    assert_ne!(moved_tag, tag);
    let (status, current, problem) = send(
        &app,
        "POST",
        &format!("{path}/transitions"),
        &joe,
        Some(("If-Match", &tag)),
        Some(investigate),
    )
    .await;
    assert_stale(
        status,
        current.clone(),
        &problem,
        "ivy",
        "quality.nc.transition",
    );
    assert_eq!(current.as_deref(), Some(moved_tag.as_str()));
    let (_, _, shown) = send(&app, "GET", &path, &joe, None, None).await;
    assert_eq!(shown["version"], moved["version"], "nothing was written");
    // `*` acts on whatever version is current: the workflow, not the precondition, judges.
    let (status, _, problem) = send(
        &app,
        "POST",
        &format!("{path}/transitions"),
        &joe,
        Some(("If-Match", "*")),
        Some(json!({"action": "close"})),
    )
    .await;
    assert_eq!(status, 409, "{problem}");
    assert_eq!(problem["type"], "urn:mixplane:problem:invalid-transition");
}
