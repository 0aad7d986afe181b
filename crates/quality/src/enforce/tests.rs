//! Unit tests of the enforcer: phase I, alerts and reactions, log scale, resumed state.

use crate::enforce::{
    CharacteristicSpec, Enforcer, EnforcerState, Genealogy, ItemKind, ItemRef, NoGenealogy,
    Outcome, ResultInput, chart,
};
use crate::policy::{Mode, QualityPolicy, Severity, Transform};

pub(super) fn spec(id: &str, mode: Mode, chart: &str, n: usize) -> CharacteristicSpec {
    CharacteristicSpec {
        id: id.into(),
        mode,
        chart: chart.into(),
        subgroup_size: n,
        lsl: None,
        usl: None,
    }
}

pub(super) fn result(i: usize, c: &str, value: f64) -> ResultInput {
    ResultInput {
        event_id: format!("q-{c}-{i}"),
        at: i as i64 * 1000,
        characteristic: c.into(),
        value,
        sample: Some(i as u64),
        sample_size: None,
        order: Some(format!("MO-{}", i / 5)),
        lot: Some(format!("B-{i}")),
        serial: None,
    }
}

pub(super) struct Chain;

impl Genealogy for Chain {
    fn upstream(&self, item: &ItemRef) -> Vec<ItemRef> {
        if item.kind == ItemKind::Lot {
            vec![ItemRef::lot(format!("RM-for-{}", item.id))]
        } else {
            Vec::new()
        }
    }

    fn downstream(&self, item: &ItemRef) -> Vec<ItemRef> {
        if item.kind == ItemKind::Lot {
            vec![ItemRef::serial(format!("SN-from-{}", item.id))]
        } else {
            Vec::new()
        }
    }
}

// A deterministic in-control wiggle.
pub(super) fn noise(i: usize) -> f64 {
    [0.3, -0.5, 0.8, -0.2, 0.1, -0.9, 0.6, -0.4, 0.2, -0.1][i % 10]
}

/// Standard normal draws from a fixed SplitMix64 stream (Box–Muller).
fn normals(n: usize) -> Vec<f64> {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut uniform = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        ((z >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    (0..n)
        .map(|_| {
            let (u1, u2) = (uniform(), uniform());
            (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
        })
        .collect()
}

#[test]
fn log_scale_tames_a_skewed_characteristic_and_reports_measured_units() {
    let mut policy = QualityPolicy::enterprise_default();
    policy.characteristics.insert(
        "LEAK-LOG".into(),
        crate::policy::PolicyLayer {
            transform: Some(Transform::Log),
            phase1_points: Some(400),
            ..Default::default()
        },
    );
    policy.characteristics.insert(
        "LEAK-RAW".into(),
        crate::policy::PolicyLayer {
            phase1_points: Some(400),
            ..Default::default()
        },
    );
    let leak: Vec<f64> = normals(3000)
        .iter()
        .map(|z| 0.8 * (0.3 * z).exp())
        .collect();
    let beyond = |id: &str| {
        let s = spec(id, Mode::Discrete, "imr", 1);
        let rs: Vec<ResultInput> = leak
            .iter()
            .enumerate()
            .map(|(i, v)| result(i, id, *v))
            .collect();
        let view = chart(&policy, &s, &rs);
        let n = view
            .points
            .iter()
            .filter(|p| p.phase == 2 && p.beyond_limits)
            .count();
        (n, view)
    };
    let (raw, raw_view) = beyond("LEAK-RAW");
    let (log, log_view) = beyond("LEAK-LOG");
    assert_eq!(raw_view.transform, Transform::None);
    assert_eq!(log_view.transform, Transform::Log);
    // About 0.27 % of 2,900 in-control points on the right scale; the raw scale's upper
    // limit sits inside the long right tail.
    assert!(log <= 15, "log scale: {log} points beyond limits");
    assert!(raw >= 2 * log.max(5), "raw {raw} vs log {log}");
    let raw_limits = raw_view.limits.unwrap();
    let l = log_view.limits.unwrap();
    assert!(l.lcl > 0.0, "{l:?}");
    assert!(
        l.ucl - l.center > l.center - l.lcl,
        "asymmetric in measured units: {l:?}"
    );
    assert!(
        (l.center - 0.8).abs() < 0.1,
        "geometric mean near 0.8: {l:?}"
    );
    assert!(raw_limits.ucl < l.ucl);
    // Points are reported in measured units too.
    let first = &log_view.points[0];
    assert!((first.value - leak[0]).abs() < 1e-9);

    // A value a log scale cannot take is skipped, not charted.
    let s = spec("LEAK-LOG", Mode::Discrete, "imr", 1);
    let mut e = Enforcer::new(policy.clone(), vec![s]);
    let out = e.feed(
        &[result(0, "LEAK-LOG", 0.0), result(1, "LEAK-LOG", -1.0)],
        &NoGenealogy,
    );
    assert_eq!(out.skipped, 2);
}

#[test]
fn phase1_spans_the_policy_s_minimum_of_orders() {
    let policy = QualityPolicy::enterprise_default();
    let resolved = policy.resolve(Mode::Discrete, "GAP");
    assert_eq!(resolved.phase1_min_orders, 3);
    let n = resolved.phase1_points;
    // One long order first: its points alone do not freeze the limits.
    let in_order = |i: usize, order: &str| ResultInput {
        order: Some(order.into()),
        ..result(i, "GAP", 5.0 + noise(i))
    };
    let s = spec("GAP", Mode::Discrete, "imr", 1);
    let mut rs: Vec<ResultInput> = (0..2 * n).map(|i| in_order(i, "MO-A")).collect();
    rs.extend((2 * n..2 * n + 3).map(|i| in_order(i, "MO-B")));
    let view = chart(&policy, &s, &rs);
    assert_eq!(view.status, "phase1");
    assert_eq!(view.pending_phase1, 2 * n + 3);
    // The first point of a third order completes phase I.
    rs.push(in_order(2 * n + 3, "MO-C"));
    let view = chart(&policy, &s, &rs);
    assert_eq!(view.status, "monitoring");
    assert_eq!(view.points.len(), 2 * n + 4);
    // Points that name no order are not held back, and a never-ending single order
    // freezes after ten times the phase-I length.
    let anonymous: Vec<ResultInput> = (0..n)
        .map(|i| ResultInput {
            order: None,
            ..result(i, "GAP", 5.0 + noise(i))
        })
        .collect();
    assert_eq!(chart(&policy, &s, &anonymous).status, "monitoring");
    let single: Vec<ResultInput> = (0..10 * n).map(|i| in_order(i, "MO-A")).collect();
    assert_eq!(chart(&policy, &s, &single[..10 * n - 1]).status, "phase1");
    assert_eq!(chart(&policy, &s, &single).status, "monitoring");
}

#[test]
fn phase1_then_alert_hold_linked_and_one_nc() {
    let policy = QualityPolicy::enterprise_default();
    let s = spec("VISC", Mode::Process, "imr", 1);
    let mut e = Enforcer::new(policy.clone(), vec![s.clone()]);
    let phase1 = policy.resolve(Mode::Process, "VISC").phase1_points;
    let mut rs: Vec<ResultInput> = (0..phase1)
        .map(|i| result(i, "VISC", 100.0 + noise(i)))
        .collect();
    let out = e.feed(&rs, &Chain);
    assert!(out.alerts.is_empty(), "{:?}", out.alerts);
    // Two points far beyond the limits: an alert each, one NC (cooldown), linked holds.
    rs = vec![
        result(phase1, "VISC", 130.0),
        result(phase1 + 1, "VISC", 131.0),
    ];
    let out = e.feed(&rs, &Chain);
    assert_eq!(out.alerts.len(), 2);
    let a = &out.alerts[0];
    assert_eq!(
        (a.index, a.phase, a.severity),
        (phase1, 2, Severity::Critical)
    );
    assert!(a.beyond_limits && a.rules.contains(&1));
    assert_eq!(out.nonconformances.len(), 1);
    let keys: Vec<String> = out.holds.iter().map(|h| h.item.key()).collect();
    let lot = format!("lot:B-{phase1}");
    assert!(keys.contains(&lot), "{keys:?}");
    assert!(keys.contains(&format!("lot:RM-for-B-{phase1}")), "{keys:?}");
    assert!(
        keys.contains(&format!("serial:SN-from-B-{phase1}")),
        "{keys:?}"
    );
    assert!(out.nonconformances[0].items.contains(&lot));
}

#[test]
fn resumed_state_gives_the_same_answers() {
    let policy = QualityPolicy::enterprise_default();
    let specs = vec![
        spec("W", Mode::Repetitive, "xbar_s", 5),
        spec("L", Mode::Discrete, "imr", 1),
        spec("N", Mode::Process, "ewma", 1),
    ];
    let mut all = Vec::new();
    for i in 0..400 {
        let drift = if i > 250 {
            (i - 250) as f64 * 0.02
        } else {
            0.0
        };
        all.push(result(i, "L", 5.0 + noise(i * 7) + drift));
        all.push(result(i, "N", 12.5 + 0.1 * noise(i * 3) + drift * 0.05));
        let mut w = result(i / 5, "W", 400.0 + noise(i) + drift);
        w.event_id = format!("w-{i}");
        all.push(w);
    }
    let mut one = Enforcer::new(policy.clone(), specs.clone());
    let whole = one.feed(&all, &Chain);
    let mut two = Enforcer::new(policy.clone(), specs.clone());
    let mut parts = Outcome::default();
    for chunk in all.chunks(97) {
        let json = serde_json::to_string(two.state()).unwrap();
        let state: EnforcerState = serde_json::from_str(&json).unwrap();
        two = Enforcer::resume(policy.clone(), specs.clone(), state);
        let o = two.feed(chunk, &Chain);
        parts.alerts.extend(o.alerts);
        parts.nonconformances.extend(o.nonconformances);
    }
    assert!(!whole.alerts.is_empty());
    assert_eq!(whole.alerts, parts.alerts);
    assert_eq!(whole.nonconformances, parts.nonconformances);
    // Every alert of the drifting characteristics lies where the data moved, or is a
    // phase-I or pattern alert; the chart view agrees with the enforcer.
    let view = chart(
        &policy,
        &specs[1],
        &all.iter()
            .filter(|r| r.characteristic == "L")
            .cloned()
            .collect::<Vec<_>>(),
    );
    assert_eq!(view.status, "monitoring");
    let from_view: Vec<usize> = view
        .points
        .iter()
        .filter(|p| !p.rules.is_empty() || p.beyond_limits || p.dispersion_out_of_control)
        .map(|p| p.index)
        .collect();
    let from_alerts: Vec<usize> = whole
        .alerts
        .iter()
        .filter(|a| a.characteristic == "L")
        .map(|a| a.index)
        .collect();
    assert_eq!(from_view, from_alerts);
}

#[test]
fn subgroups_p_and_unknown_characteristics() {
    let policy = QualityPolicy::enterprise_default();
    let specs = vec![
        spec("BORE", Mode::Discrete, "xbar_r", 5),
        spec("FAIL", Mode::Discrete, "p", 1),
    ];
    let mut e = Enforcer::new(policy.clone(), specs);
    let mut rs = Vec::new();
    for g in 0..40u64 {
        for k in 0..5 {
            rs.push(ResultInput {
                sample: Some(g),
                ..result(
                    g as usize * 5 + k,
                    "BORE",
                    22.0 + 0.01 * noise(g as usize + k * 3),
                )
            });
        }
        rs.push(ResultInput {
            sample_size: Some(50.0 + (g % 3) as f64 * 10.0),
            ..result(g as usize, "FAIL", (g % 4) as f64)
        });
    }
    rs.push(result(0, "NOPE", 1.0));
    let out = e.feed(&rs, &NoGenealogy);
    assert_eq!(out.skipped, 1);
    let view = chart(
        &policy,
        &spec("BORE", Mode::Discrete, "xbar_r", 5),
        &rs.iter()
            .filter(|r| r.characteristic == "BORE")
            .cloned()
            .collect::<Vec<_>>(),
    );
    assert_eq!(view.points.len(), 40);
    assert_eq!(view.status, "monitoring");
    let p = chart(
        &policy,
        &spec("FAIL", Mode::Discrete, "p", 1),
        &rs.iter()
            .filter(|r| r.characteristic == "FAIL")
            .cloned()
            .collect::<Vec<_>>(),
    );
    assert_eq!(p.points.len(), 40);
    // p-chart limits vary with the size.
    assert!(p.points[0].limits.ucl != p.points[1].limits.ucl);
}

#[test]
fn alerts_answer_rfc3339_and_alerts_stored_before_still_load() {
    let policy = QualityPolicy::enterprise_default();
    let s = spec("VISC", Mode::Process, "imr", 1);
    let mut e = Enforcer::new(policy.clone(), vec![s]);
    let phase1 = policy.resolve(Mode::Process, "VISC").phase1_points;
    let mut rs: Vec<ResultInput> = (0..phase1)
        .map(|i| result(i, "VISC", 100.0 + noise(i)))
        .collect();
    rs.push(ResultInput {
        at: 1_772_431_200_000,
        ..result(phase1, "VISC", 130.0)
    });
    let out = e.feed(&rs, &Chain);
    let alert = &out.alerts[0];
    let json = serde_json::to_value(alert).unwrap();
    assert_eq!(json["at"], "2026-03-02T06:00:00Z");
    assert_eq!(json["good_side"], false);
    assert_eq!(
        serde_json::to_value(&out.holds[0]).unwrap()["at"],
        json["at"]
    );
    assert_eq!(
        serde_json::to_value(&out.nonconformances[0]).unwrap()["at"],
        json["at"]
    );
    assert_eq!(
        &serde_json::from_value::<crate::enforce::Alert>(json.clone()).unwrap(),
        alert
    );
    // A body stored before: integer milliseconds, no good-side fields.
    let mut old = json;
    old["at"] = serde_json::json!(1_772_431_200_000i64);
    let map = old.as_object_mut().unwrap();
    map.remove("good_side");
    map.remove("good_side_rules");
    assert_eq!(
        &serde_json::from_value::<crate::enforce::Alert>(old).unwrap(),
        alert
    );
}
