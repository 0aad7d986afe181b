//! `GET /v1/quality/root-cause` over real HTTP on two weeks of the simulated reference plant
//! with the EA-100 reactor temperature creeping: the drifted parameter ranks first for the
//! assemblies' failure counts, with the policy's corrective action; bad requests are named;
//! an area-scoped reader sees its characteristics but not the causes in another area; and a
//! nonconformance opened by an alert shows its suggested causes.

mod common;

use common::{Setup, TestApp};
use serde_json::Value;

const FAILURES: &str = "M50-FAIL,M200-FAIL,P400-FAIL,P600-FAIL";

async fn plant_with_creep() -> TestApp {
    let app = TestApp::with(Setup {
        caller: Some(("qe.anna", govern::Role::Admin)),
        ..Setup::default()
    })
    .await;
    let catalog = model::Catalog::new(sim::reference_plant()).unwrap();
    let options = sim::SimOptions {
        seed: 3,
        days: 14.0,
        drifts: vec![sim::DriftSpec::reactor_temperature_creep()],
        ..sim::SimOptions::default()
    };
    let events = sim::simulate(&catalog, &options, None, |_| {})
        .unwrap()
        .events;
    for chunk in events.chunks(5000) {
        let (status, _, outcome) = app
            .post_raw("/v1/events", serde_json::to_string(chunk).unwrap())
            .await;
        assert_eq!(status, 200, "{outcome}");
    }
    app
}

fn names(report: &Value) -> Vec<&str> {
    report["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn root_cause_ranks_the_drift_and_guards_its_doors() {
    let app = plant_with_creep().await;

    let (status, _, report) = app
        .get(&format!(
            "/v1/quality/root-cause?characteristic={FAILURES}&top=5"
        ))
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        names(&report)[0],
        "RCP-EA100 step 2 reactor_temperature",
        "{report}"
    );
    let top = &report["causes"][0];
    assert_eq!(top["cause"]["kind"], "parameter");
    assert_eq!(top["association"]["method"], "spearman");
    assert!(
        top["association"]["effect"].as_f64().unwrap() > 0.3,
        "{top}"
    );
    assert!(top["orders"].as_u64().unwrap() >= 20, "{top}");
    assert!(
        top["suggested_action"]
            .as_str()
            .unwrap()
            .contains("reactor_temperature of RCP-EA100 step 2"),
        "{top}"
    );
    assert_eq!(report["worse"], "higher");
    assert_eq!(report["causes"].as_array().unwrap().len(), 5);
    assert_eq!(report["outside_scope"], 0);

    // A window before the drift starts (day 5) holds no such signal.
    let (_, _, early) = app
        .get(&format!(
            "/v1/quality/root-cause?characteristic={FAILURES}&to=2026-03-06T00:00:00Z"
        ))
        .await;
    assert!(early["results"].as_u64().unwrap() < report["results"].as_u64().unwrap());

    // Bad requests name what is wrong; nothing is answered for them.
    for (query, status, needle) in [
        ("", 400, "characteristic"),
        ("?characteristic=NOPE", 404, "`NOPE`"),
        ("?characteristic=M50-FAIL&top=0", 400, "top"),
        ("?characteristic=M50-FAIL&depth=9", 400, "depth"),
        ("?characteristic=M50-FAIL&min_support=2", 422, "min_support"),
        ("?characteristic=M50-FAIL&from=yesterday", 400, "`from`"),
        (
            "?characteristic=M50-FAIL&from=2026-03-10T00:00:00Z&to=2026-03-09T00:00:00Z",
            422,
            "window is empty",
        ),
    ] {
        let (got, _, body) = app.get(&format!("/v1/quality/root-cause{query}")).await;
        assert_eq!(got, status, "{query}: {body}");
        assert!(
            body["detail"].as_str().unwrap_or_default().contains(needle),
            "{query}: {body}"
        );
    }
}

#[tokio::test]
async fn an_area_reader_learns_the_cause_is_elsewhere_without_reading_it() {
    let app = plant_with_creep().await;
    let assembly = app
        .token_for("qe.assy", govern::Role::Viewer, "area:A-ASSY")
        .await;
    let (status, report) = app
        .call(
            "GET",
            &format!("/v1/quality/root-cause?characteristic={FAILURES}"),
            &assembly,
            None,
        )
        .await;
    assert_eq!(status, 200, "{report}");
    assert!(
        names(&report).iter().all(|n| !n.starts_with("RCP-")),
        "the chemical area's recipes are not the assembly reader's: {report}"
    );
    assert!(report["outside_scope"].as_u64().unwrap() > 0, "{report}");

    // A characteristic of another area is not found for it.
    let (status, body) = app
        .call(
            "GET",
            "/v1/quality/root-cause?characteristic=CRT-EA100-50-SEAL",
            &assembly,
            None,
        )
        .await;
    assert_eq!(status, 404, "{body}");
}

#[tokio::test]
async fn an_open_nonconformance_suggests_causes_and_actions() {
    let app = plant_with_creep().await;
    let (status, _, list) = app.get("/v1/quality/nonconformances?limit=1000").await;
    assert_eq!(status, 200, "{list}");
    let opened: Vec<&Value> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|nc| nc["characteristic"].is_string())
        .collect();
    assert!(!opened.is_empty(), "alerts opened nonconformances: {list}");
    let mut suggested = 0;
    for nc in opened {
        let id = nc["id"].as_str().unwrap();
        let (status, _, one) = app.get(&format!("/v1/quality/nonconformances/{id}")).await;
        assert_eq!(status, 200, "{one}");
        if let Some(causes) = one["suggested_causes"].as_array() {
            assert!(causes.len() <= 3, "{one}");
            for cause in causes {
                assert!(!cause["suggested_action"].as_str().unwrap().is_empty());
            }
            suggested += usize::from(!causes.is_empty());
        }
    }
    assert!(
        suggested > 0,
        "no nonconformance had enough history for a suggestion"
    );
}
