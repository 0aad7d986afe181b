//! [`chart`]: one characteristic's results replayed through the enforcer, as the data behind a
//! control chart display.

use crate::api::ChartKind;
use crate::policy::QualityPolicy;
use crate::rules::Violation;

use super::enforcer::{Enforcer, back, charted_scale, plain};
use super::input::{CharacteristicSpec, NoGenealogy, ResultInput};
use super::output::ChartView;

/// Charts one characteristic's results (in order) under the policy: the data behind a
/// control chart display, computed exactly as the enforcer computes it.
pub fn chart(
    policy: &QualityPolicy,
    spec: &CharacteristicSpec,
    results: &[ResultInput],
) -> ChartView {
    let mut e = Enforcer::new(policy.clone(), vec![spec.clone()]);
    e.trace = Some(Vec::new());
    let outcome = e.feed(results, &NoGenealogy);
    let points = e.trace.take().unwrap_or_default();
    let st = e.state.characteristics.remove(&spec.id).unwrap_or_default();
    let supported = matches!(
        ChartKind::parse(&spec.chart),
        Ok(ChartKind::Imr
            | ChartKind::XbarR
            | ChartKind::XbarS
            | ChartKind::P
            | ChartKind::Np
            | ChartKind::C
            | ChartKind::U
            | ChartKind::Ewma
            | ChartKind::Cusum)
    );
    let status = if !supported {
        "unsupported"
    } else if st.frozen.is_some() {
        "monitoring"
    } else {
        "phase1"
    };
    let violations = points
        .iter()
        .flat_map(|p| {
            p.rules.iter().map(|&rule| Violation {
                rule,
                index: p.index,
            })
        })
        .collect();
    let points_out_of_control = points
        .iter()
        .filter(|p| p.beyond_limits)
        .map(|p| p.index)
        .collect();
    let resolved = policy.resolve(spec.mode, &spec.id);
    let scale = charted_scale(spec, &resolved);
    ChartView {
        characteristic: spec.id.clone(),
        chart: spec.chart.clone(),
        mode: spec.mode,
        status: status.into(),
        transform: scale,
        policy: resolved,
        limits: st.frozen.as_ref().map(|f| back(scale, plain(f.limits))),
        points,
        violations,
        points_out_of_control,
        pending_phase1: st.phase1.len(),
        skipped: outcome.skipped,
    }
}
