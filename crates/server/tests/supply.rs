//! What the plant expects beside its orders, over real HTTP: a pool member's absence posted as
//! a `member_attendance` event lowers the pool's capacity (and that of the certified
//! sub-pools the member counts in) in `GET /v1/schedule/problem` while it lasts, and a
//! presence ends it; an expected receipt posted as `receipt_expected` becomes a receipt of
//! its material there (an overdue one a day after now), and a `material_received` naming it
//! closes it. Bad facts are refused naming the field.

mod common;

use common::{Setup, TestApp};
use serde_json::{Value, json};

async fn simulated(days: f64) -> TestApp {
    TestApp::with(Setup {
        simulated_days: Some(days),
        ..Setup::default()
    })
    .await
}

async fn problem(app: &TestApp) -> Value {
    let (status, _, answer) = app.get("/v1/schedule/problem").await;
    assert_eq!(status, 200, "{answer}");
    answer["problem"].clone()
}

fn pool<'a>(problem: &'a Value, id: &str) -> &'a Value {
    problem["pools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == id)
        .unwrap_or_else(|| panic!("no pool {id}"))
}

/// The pool's capacity at minute `t` (dips applied; calendars left aside).
fn capacity_at(pool: &Value, t: i64) -> u64 {
    let mut capacity = pool["capacity"].as_u64().unwrap();
    for dip in pool["dips"].as_array().unwrap() {
        if dip["start"].as_i64().unwrap() <= t && t < dip["end"].as_i64().unwrap() {
            capacity = capacity.min(dip["capacity"].as_u64().unwrap());
        }
    }
    capacity
}

async fn post_events(app: &TestApp, events: Value) -> (u16, Value) {
    let (status, _, body) = app.post("/v1/events", &events).await;
    (status, body)
}

fn at(start: model::Timestamp, minutes: i64) -> String {
    start.plus_minutes(minutes as f64).to_string()
}

#[tokio::test]
async fn an_absent_member_lowers_its_pools_capacity_until_it_is_present_again() {
    let app = simulated(1.0).await;
    let before = problem(&app).await;
    let start = model::Timestamp::parse(before["horizon_start"].as_str().unwrap()).unwrap();
    // CH-01 holds reactor at level 3: it counts in the chemists' pool and in every reactor
    // sub-pool the open orders need.
    let catalog = sim::reference_catalog();
    let chemists = catalog.pool(&"P-CHEM-OPS".into()).unwrap();
    let sub_pools: Vec<String> = before["pools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["id"].as_str())
        .filter(|id| id.starts_with("P-CHEM-OPS/"))
        .map(str::to_owned)
        .collect();
    assert!(!sub_pools.is_empty(), "open orders need certified chemists");
    // A time clear of any running crew's dip in the problem before.
    let probe = 600;
    let mut was = vec![(
        "P-CHEM-OPS".to_owned(),
        capacity_at(pool(&before, "P-CHEM-OPS"), probe),
    )];
    was.extend(
        sub_pools
            .iter()
            .map(|id| (id.clone(), capacity_at(pool(&before, id), probe))),
    );

    let (status, body) = post_events(
        &app,
        json!([{"id": "att-1", "time": at(start, 0), "type": "member_attendance",
                "pool": "P-CHEM-OPS", "member": "CH-01", "present": false,
                "until": at(start, 900)}]),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let absent = problem(&app).await;
    for (id, capacity) in &was {
        let holds = id == "P-CHEM-OPS" || {
            let (cert, level) = id
                .trim_start_matches("P-CHEM-OPS/")
                .rsplit_once(">=")
                .unwrap();
            let level: u8 = level.parse().unwrap();
            chemists.members[0]
                .certifications
                .iter()
                .any(|c| c.certification.as_str() == cert && c.level >= level)
        };
        let now = capacity_at(pool(&absent, id), probe);
        let expected = if holds { capacity - 1 } else { *capacity };
        assert_eq!(now, expected, "{id} at minute {probe}");
        // After the absence, back to what it was.
        assert_eq!(
            capacity_at(pool(&absent, id), 900),
            capacity_at(pool(&before, id), 900),
            "{id} after the absence"
        );
    }
    // Present again from minute 300: the absence ends there.
    let (status, body) = post_events(
        &app,
        json!([{"id": "att-2", "time": at(start, 1), "type": "member_attendance",
                "pool": "P-CHEM-OPS", "member": "CH-01", "present": true,
                "from": at(start, 300)}]),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let back = problem(&app).await;
    let chem = |p: &Value, t| capacity_at(pool(p, "P-CHEM-OPS"), t);
    assert_eq!(chem(&back, 200), chem(&absent, 200));
    assert_eq!(chem(&back, probe), chem(&before, probe));
    // The state says so too.
    let state = app.store.state().await;
    let fact =
        &state.attendance[&model::PoolId::from("P-CHEM-OPS")][&model::MemberId::from("CH-01")];
    assert!(!fact.present);
    assert_eq!(fact.until, Some(start.plus_minutes(300.0)));

    // A member the pool does not have, or an end on a presence, is refused by field.
    for (event, field) in [
        (
            json!({"id": "att-3", "time": at(start, 2), "type": "member_attendance",
                   "pool": "P-CHEM-OPS", "member": "AS-01", "present": false}),
            "member",
        ),
        (
            json!({"id": "att-4", "time": at(start, 2), "type": "member_attendance",
                   "pool": "P-CHEM-OPS", "member": "CH-02", "present": true,
                   "until": at(start, 60)}),
            "until",
        ),
    ] {
        let (status, body) = post_events(&app, json!([event])).await;
        assert_eq!(status, 422, "{body}");
        let detail = body.to_string();
        assert!(detail.contains(field), "{detail}");
    }
}

#[tokio::test]
async fn an_expected_receipt_is_a_receipt_of_the_current_problem_until_it_is_received() {
    let app = simulated(1.0).await;
    let before = problem(&app).await;
    let start = model::Timestamp::parse(before["horizon_start"].as_str().unwrap()).unwrap();
    let material = |p: &Value, id: &str| {
        p["materials"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == id)
            .cloned()
    };
    // The simulated supplier's receipts of a raw material make it tracked; cancelled, the
    // material is not tracked any more.
    assert!(material(&before, "RM-BPA").is_some());
    let open: Vec<String> = app
        .store
        .state()
        .await
        .receipts
        .iter()
        .filter(|(_, r)| r.is_open() && r.material.as_str() == "RM-BPA")
        .map(|(id, _)| id.to_string())
        .collect();
    assert!(!open.is_empty());
    let cancellations: Vec<Value> = open
        .iter()
        .map(|id| {
            json!({"id": format!("cancel-{id}"), "time": at(start, 0),
                   "type": "receipt_cancelled", "receipt": id})
        })
        .collect();
    let (status, body) = post_events(&app, Value::Array(cancellations)).await;
    assert_eq!(status, 200, "{body}");
    assert!(material(&problem(&app).await, "RM-BPA").is_none());
    let (status, body) = post_events(
        &app,
        json!([
            {"id": "po-1", "time": at(start, 0), "type": "receipt_expected", "receipt": "PO-9/1",
             "material": "RM-BPA", "quantity": 500, "expected": at(start, 2880),
             "supplier": "Chem Co", "purchase_order": "PO-9"},
            // Expected an hour ago and not here: assumed a day after now.
            {"id": "po-2", "time": at(start, 0), "type": "receipt_expected", "receipt": "PO-9/2",
             "material": "RM-BPA", "quantity": 200, "expected": at(start, -60)},
        ]),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let with = problem(&app).await;
    let bpa = material(&with, "RM-BPA").expect("tracked now");
    let receipts: Vec<(i64, f64)> = bpa["receipts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["time"].as_i64().unwrap(), r["quantity"].as_f64().unwrap()))
        .collect();
    assert_eq!(
        receipts,
        [
            (2880, 500.0),
            (app::schedule::in_force::OVERDUE_RECEIPT_HOURS * 60, 200.0)
        ]
    );
    // Opening stock is what the material's lots have on hand.
    let state = app.store.state().await;
    let on_hand: f64 = state
        .lots
        .values()
        .filter(|l| l.material.as_str() == "RM-BPA")
        .map(|l| l.on_hand().max(0.0))
        .sum();
    assert!(bpa["initial"].as_f64().unwrap() >= on_hand - 1e-6, "{bpa}");

    // Delivered, naming the receipt: it leaves the problem; a second delivery against it is
    // refused by field.
    let received = |id: &str, lot: &str| {
        json!([{"id": id, "time": at(start, 1), "type": "material_received",
                "material": "RM-BPA", "lot": lot, "quantity": 500, "receipt": "PO-9/1"}])
    };
    let (status, body) = post_events(&app, received("rcv-1", "L-PO-9-1")).await;
    assert_eq!(status, 200, "{body}");
    let after = problem(&app).await;
    let bpa = material(&after, "RM-BPA").expect("still tracked: PO-9/2 is open");
    assert_eq!(bpa["receipts"].as_array().unwrap().len(), 1, "{bpa}");
    let (status, body) = post_events(&app, received("rcv-2", "L-PO-9-2")).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("already received"), "{body}");
    // Cancelled, the last one: the material is not tracked any more.
    let (status, body) = post_events(
        &app,
        json!([{"id": "po-3", "time": at(start, 2), "type": "receipt_cancelled",
                "receipt": "PO-9/2", "reason": "supplier out of stock"}]),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(material(&problem(&app).await, "RM-BPA").is_none());
    // The projections hold the receipts as the fold does.
    assert_eq!(
        app.store.projected_state().await.unwrap().receipts,
        app.store.state().await.receipts
    );
}
