//! Unit tests of one-sided specifications: signals on the good side are reported, not held.

use std::collections::BTreeMap;

use crate::enforce::{CharacteristicSpec, Enforcer, Outcome, ResultInput, chart};
use crate::policy::{HoldScope, Mode, PolicyLayer, QualityPolicy, Reaction, Severity, Transform};

use super::tests::{Chain, noise, result, spec};

const PHASE1: usize = 30;

/// A log-normal leak rate (charted on the log scale), limits frozen after 30 points.
fn leak_policy() -> QualityPolicy {
    let mut policy = QualityPolicy::enterprise_default();
    policy.characteristics.insert(
        "LEAK".into(),
        PolicyLayer {
            transform: Some(Transform::Log),
            phase1_points: Some(PHASE1),
            ..Default::default()
        },
    );
    policy
}

fn leak(lsl: Option<f64>, usl: Option<f64>) -> CharacteristicSpec {
    CharacteristicSpec {
        lsl,
        usl,
        ..spec("LEAK", Mode::Discrete, "imr", 1)
    }
}

fn phase1() -> Vec<ResultInput> {
    (0..PHASE1)
        .map(|i| result(i, "LEAK", 0.8 * (0.1 * noise(i)).exp()))
        .collect()
}

/// Phase II in σ of the log scale, from index 30: a point beyond the lower limit (31), nine
/// points just below the centre line (35–43), a point beyond the upper limit (46), a falling
/// trend across the centre line (49–54) and one entirely below it (57–62).
const PHASE2_Z: [f64; 33] = [
    -1.5, -3.5, -0.3, 0.3, 0.3, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5, 0.3, 1.5,
    3.5, 0.3, -0.3, 1.0, 0.6, 0.2, -0.2, -0.6, -1.0, 0.3, -0.3, -0.1, -0.4, -0.7, -1.0, -1.3, -1.6,
];

fn run(policy: &QualityPolicy, spec: &CharacteristicSpec) -> Outcome {
    let view = chart(policy, spec, &phase1());
    assert_eq!(view.status, "monitoring");
    let limits = view.limits.expect("frozen");
    let center = limits.center.ln();
    let sigma = (center - limits.lcl.ln()) / 3.0;
    let mut results = phase1();
    for (k, z) in PHASE2_Z.iter().enumerate() {
        results.push(result(PHASE1 + k, "LEAK", (center + z * sigma).exp()));
    }
    let mut e = Enforcer::new(policy.clone(), vec![spec.clone()]);
    e.feed(&results, &Chain)
}

/// `(index, rules, good_side, severity, items held, NC opened)` of each alert.
type Row = (usize, Vec<u8>, bool, Severity, usize, bool);

fn rows(out: &Outcome) -> Vec<Row> {
    out.alerts
        .iter()
        .map(|a| {
            let held = out.holds.iter().filter(|h| h.alert_id == a.id).count();
            let nc = out.nonconformances.iter().any(|n| n.alert_id == a.id);
            (a.index, a.rules.clone(), a.good_side, a.severity, held, nc)
        })
        .collect()
}

#[test]
fn upper_limit_only_reports_the_low_side_and_reacts_to_the_high_side() {
    let policy = leak_policy();
    let out = run(&policy, &leak(None, Some(2.0)));
    use Severity::{Critical, Major, Minor};
    assert_eq!(
        rows(&out),
        vec![
            // Beyond the lower limit, better than target: reported only.
            (31, vec![1], true, Minor, 0, false),
            // Nine points below the centre line: reported only.
            (43, vec![2], true, Minor, 0, false),
            // Beyond the upper limit: the item and its genealogy held, an NC opened.
            (46, vec![1], false, Critical, 3, true),
            // A trend that crosses the centre line has no side: held as before.
            (54, vec![3], false, Major, 1, false),
            // A falling trend entirely below the centre line: reported only.
            (62, vec![3], true, Minor, 0, false),
        ]
    );
    let low = &out.alerts[0];
    assert_eq!(low.good_side_rules, vec![1]);
    assert!(low.beyond_limits && low.value < low.limits.lcl);
    assert_eq!(out.alerts[2].good_side_rules, Vec::<u8>::new());
    assert!(
        out.holds
            .iter()
            .all(|h| h.alert_id == out.alerts[2].id || h.alert_id == out.alerts[3].id)
    );
    assert_eq!(out.nonconformances.len(), 1);
}

#[test]
fn lower_limit_only_mirrors_and_two_sided_reacts_to_both_sides() {
    let policy = leak_policy();
    use Severity::{Critical, Major};
    let lower = run(&policy, &leak(Some(0.1), None));
    let two = run(&policy, &leak(Some(0.1), Some(2.0)));
    let none = run(&policy, &leak(None, None));
    assert_eq!(
        rows(&lower),
        vec![
            (31, vec![1], false, Critical, 3, true),
            (43, vec![2], false, Major, 1, false),
            // Beyond the upper limit is the good side when only a lower limit exists.
            (46, vec![1], true, Severity::Minor, 0, false),
            (54, vec![3], false, Major, 1, false),
            (62, vec![3], false, Major, 1, false),
        ]
    );
    // Two limits (or none): every signal counts, exactly as before one-sidedness mattered.
    let expected = vec![
        (31, vec![1], false, Critical, 3, true),
        (43, vec![2], false, Major, 1, false),
        // The NC cooldown keeps this one from opening a second NC.
        (46, vec![1], false, Critical, 3, false),
        (54, vec![3], false, Major, 1, false),
        (62, vec![3], false, Major, 1, false),
    ];
    assert_eq!(rows(&two), expected);
    assert_eq!(rows(&none), expected);
    assert!(two.alerts.iter().all(|a| a.good_side_rules.is_empty()));
}

#[test]
fn good_side_signals_hold_nothing_even_when_the_policy_holds_minor_ones() {
    let mut policy = leak_policy();
    policy.defaults.reactions = BTreeMap::from([
        (
            Severity::Critical,
            Reaction {
                hold: HoldScope::Linked,
                nonconformance: true,
            },
        ),
        (
            Severity::Major,
            Reaction {
                hold: HoldScope::Item,
                nonconformance: true,
            },
        ),
        (
            Severity::Minor,
            Reaction {
                hold: HoldScope::Item,
                nonconformance: true,
            },
        ),
    ]);
    let out = run(&policy, &leak(None, Some(2.0)));
    let good: Vec<&str> = out
        .alerts
        .iter()
        .filter(|a| a.good_side)
        .map(|a| a.id.as_str())
        .collect();
    assert_eq!(good.len(), 3);
    assert!(
        out.holds
            .iter()
            .all(|h| !good.contains(&h.alert_id.as_str()))
    );
    assert!(
        out.nonconformances
            .iter()
            .all(|n| !good.contains(&n.alert_id.as_str()))
    );
    // The adverse ones still react.
    assert!(!out.holds.is_empty() && !out.nonconformances.is_empty());
    let reason = &out.alerts[0];
    assert!(reason.good_side);
    let text = super::enforcer::describe(reason);
    assert!(
        text.contains("good side of a one-sided specification"),
        "{text}"
    );
}

#[test]
fn a_good_side_point_with_a_dispersion_signal_is_judged_by_the_dispersion() {
    // A jump far below the lower limit also puts the moving range out of control: the
    // low value is on the good side, the jump is not, and the policy's dispersion severity
    // (minor: alert only) decides.
    let policy = leak_policy();
    let s = leak(None, Some(2.0));
    let mut results = phase1();
    results.push(result(PHASE1, "LEAK", 0.8 * (-2.0f64).exp()));
    let mut e = Enforcer::new(policy.clone(), vec![s.clone()]);
    let out = e.feed(&results, &Chain);
    let a = out.alerts.last().expect("an alert");
    assert!(a.beyond_limits && a.dispersion_out_of_control, "{a:?}");
    assert!(!a.good_side);
    assert_eq!(a.good_side_rules, vec![1]);
    assert_eq!(a.severity, Severity::Minor);
    assert!(out.holds.is_empty() && out.nonconformances.is_empty());
    // The same point on a two-sided characteristic is critical.
    let mut e = Enforcer::new(policy, vec![leak(Some(0.1), Some(2.0))]);
    let out = e.feed(&results, &Chain);
    assert_eq!(out.alerts.last().unwrap().severity, Severity::Critical);
    assert_eq!(out.nonconformances.len(), 1);
}

#[test]
fn cusum_and_ewma_sides_follow_the_shift() {
    // A sustained shift down, then up, on EWMA and CUSUM charts of a characteristic with
    // only an upper specification limit: the shift down is reported, the shift up held.
    let policy = QualityPolicy::enterprise_default();
    for kind in ["cusum", "ewma"] {
        let id = format!("NCO-{kind}");
        let s = CharacteristicSpec {
            usl: Some(20.0),
            ..spec(&id, Mode::Discrete, kind, 1)
        };
        let mut results: Vec<ResultInput> = (0..PHASE1)
            .map(|i| result(i, &id, 10.0 + noise(i)))
            .collect();
        let n = results.len();
        results.extend((0..15).map(|k| result(n + k, &id, 8.0 + noise(k))));
        let n = results.len();
        results.extend((0..40).map(|k| result(n + k, &id, 12.5 + noise(k))));
        let mut e = Enforcer::new(policy.clone(), vec![s]);
        let out = e.feed(&results, &Chain);
        let phase2: Vec<_> = out.alerts.iter().filter(|a| a.phase == 2).collect();
        let down: Vec<_> = phase2.iter().filter(|a| a.index < PHASE1 + 15).collect();
        let up: Vec<_> = phase2.iter().filter(|a| a.index >= PHASE1 + 20).collect();
        assert!(!down.is_empty() && !up.is_empty(), "{kind}: {phase2:?}");
        assert!(
            down.iter()
                .all(|a| a.good_side && a.severity == Severity::Minor),
            "{kind}: {down:?}"
        );
        assert!(
            up.iter()
                .all(|a| !a.good_side && a.severity == Severity::Critical),
            "{kind}: {up:?}"
        );
        let down_ids: Vec<&str> = down.iter().map(|a| a.id.as_str()).collect();
        assert!(
            out.holds
                .iter()
                .all(|h| !down_ids.contains(&h.alert_id.as_str()))
        );
        assert!(!out.holds.is_empty() && !out.nonconformances.is_empty());
    }
}
