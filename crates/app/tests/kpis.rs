//! The rollout KPIs' drift detection over a real store: two weeks of the simulated plant
//! with the EA-100 reactor creep, the live plant's ground truth recorded on the `App`, and
//! enforcement's alerts: the drift is found after it starts, and a drift reaching only
//! another area's characteristics is not told to an area reader.

use std::sync::Arc;

use app::App;
use app::kpis::{KpiRequest, rollout};
use app::live_sim::LivePlant;
use govern::{Principal, PrincipalKind, Role, Scope};
use sim::SimOptions;

#[tokio::test]
async fn a_known_drift_is_detected_after_it_starts() {
    let store = store::test_support::private_store().await.unwrap();
    let catalog = Arc::new(sim::reference_catalog());
    let actor = store::Actor::new(store::ActorKind::Person, "setup");
    store
        .put_plant(catalog.plant().clone(), &actor)
        .await
        .unwrap();
    let options = SimOptions {
        seed: 3,
        days: 14.0,
        drifts: vec![sim::DriftSpec::reactor_temperature_creep()],
        ..SimOptions::default()
    };
    let out = sim::simulate(&catalog, &options, None, |_| {}).unwrap();
    for chunk in out.events.chunks(5000) {
        store.append(chunk, &actor).await.unwrap();
    }
    let app = App::new(Arc::new(store));
    // The live plant over the same options knows the same drift, from the same start.
    let plant = LivePlant::start(catalog.clone(), options.clone(), None).unwrap();
    let known = plant.known_drifts(&catalog);
    assert_eq!(known.len(), 1);
    assert_eq!(known[0].start, out.truth.drifts[0].start);
    assert!(known[0].name.contains("reactor_temperature"), "{known:?}");
    app.know_drifts(known);

    let admin = Principal::new("qa", PrincipalKind::Person, Role::Admin, Scope::All);
    let kpis = rollout(&app, &admin, KpiRequest::default()).await.unwrap();
    assert_eq!(kpis.drift_detection.len(), 1);
    let detection = &kpis.drift_detection[0];
    let alert = detection.first_alert.expect("the creep raised an alert");
    assert!(alert >= detection.drift.start);
    let delay = detection.delay_minutes.unwrap();
    assert!(delay > 0.0 && delay < 14.0 * 1440.0, "{detection:?}");
    assert_eq!(kpis.drift_detection_delay.n, 1);

    // A drift reaching only the chemical area's characteristics is not told to an assembly
    // reader, who is told about the creep (it reaches the assemblies).
    let chemistry: Vec<String> = catalog
        .plant()
        .inspection_plans
        .iter()
        .flat_map(|p| &p.characteristics)
        .map(|c| c.id.to_string())
        .filter(|c| {
            app::scope::characteristic_areas(&catalog, c)
                .is_some_and(|a| a.iter().map(|x| x.as_str()).eq(["A-CHEM"]))
        })
        .collect();
    assert!(!chemistry.is_empty());
    let mut known = app.known_drifts();
    known.push(govern::kpis::KnownDrift {
        name: "chemistry only".into(),
        start: detection.drift.start,
        characteristics: chemistry,
    });
    app.know_drifts(known);
    let assembly = Principal::new(
        "assy",
        PrincipalKind::Person,
        Role::Viewer,
        "area:A-ASSY".parse().unwrap(),
    );
    let scoped = rollout(&app, &assembly, KpiRequest::default())
        .await
        .unwrap();
    let names: Vec<&str> = scoped
        .drift_detection
        .iter()
        .map(|d| d.drift.name.as_str())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(names[0].contains("reactor_temperature"), "{names:?}");
    assert!(scoped.agent_calls.is_none());
    let all = rollout(&app, &admin, KpiRequest::default()).await.unwrap();
    assert_eq!(all.drift_detection.len(), 2);
}
