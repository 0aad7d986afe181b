//! `analyze` never panics: arbitrary JSON in `params` and `data` (with the field names the
//! charts look for) gives either a response or a typed error.

use proptest::prelude::*;
use quality::{AnalyzeRequest, ChartKind, analyze};
use serde_json::{Map, Value};

const KEYS: &[&str] = &[
    "values",
    "subgroups",
    "counts",
    "sizes",
    "n",
    "observations",
    "phase2_observations",
    "phase2_subgroups",
    "phase1_indices",
    "phase1_iterate",
    "rule_set",
    "rules",
    "center",
    "sigma",
    "ucl",
    "lcl",
    "lambda",
    "L",
    "target",
    "k",
    "h",
    "headstart",
    "lsl",
    "usl",
    "sigma_method",
    "alpha",
    "nsigma",
    "size",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-3i64..30).prop_map(Value::from),
        (-1e3f64..1e3).prop_map(Value::from),
        Just(Value::from(0.5)),
        prop::sample::select(vec![
            "nelson",
            "we",
            "western_electric",
            "rbar_d2",
            "sbar_c4",
            "mrbar_d2",
            "x"
        ])
        .prop_map(Value::from),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 64, 12, |inner| {
        prop::collection::vec(inner, 0..12).prop_map(Value::Array)
    })
}

fn section() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::vec((prop::sample::select(KEYS.to_vec()), value()), 0..6)
        .prop_map(|kv| kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn analyze_never_panics(params in section(), data in section()) {
        for kind in ChartKind::ALL {
            let req = AnalyzeRequest { chart: kind.as_str().into(), params: params.clone(), data: data.clone() };
            let _ = analyze(&req);
        }
    }
}

fn grid() -> impl Strategy<Value = Value> {
    (0i32..6).prop_map(|k| Value::from(f64::from(k) * 0.5))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn well_shaped_degenerate_data_never_panics(
        m in 0usize..8,
        n in 0usize..4,
        p in 0usize..3,
        cells in prop::collection::vec(grid(), 100),
        phase1 in prop::option::of(prop::collection::vec(0u64..10, 0..6)),
        iterate in any::<bool>(),
    ) {
        let mut it = cells.iter().cycle().cloned();
        let vec_of = |len: usize, it: &mut dyn Iterator<Item = Value>| Value::Array((0..len).map(|_| it.next().unwrap_or(Value::Null)).collect());
        let values = vec_of(m * n.max(1), &mut it);
        let subgroups = Value::Array((0..m).map(|_| vec_of(n, &mut it)).collect());
        let observations = Value::Array((0..m).map(|_| vec_of(p, &mut it)).collect());
        let subgroups3 = Value::Array((0..m).map(|_| Value::Array((0..n).map(|_| vec_of(p, &mut it)).collect())).collect());
        let counts = vec_of(m, &mut it);
        let sizes = Value::Array((0..m).map(|i| Value::from(1 + (i % 3) as u64 * 2)).collect());
        for kind in ChartKind::ALL {
            let mut data = Map::new();
            let mut params = Map::new();
            params.insert("phase1_iterate".into(), Value::Bool(iterate));
            if let Some(p1) = &phase1 {
                params.insert("phase1_indices".into(), Value::from(p1.clone()));
            }
            params.insert("lambda".into(), Value::from(0.2));
            params.insert("center".into(), Value::from(1.0));
            params.insert("sigma".into(), Value::from(0.5));
            params.insert("usl".into(), Value::from(2.0));
            params.insert("alpha".into(), Value::from(0.01));
            match kind {
                ChartKind::T2Individual => { data.insert("observations".into(), observations.clone()); }
                ChartKind::T2Subgroup => { data.insert("subgroups".into(), subgroups3.clone()); }
                ChartKind::P | ChartKind::Np | ChartKind::U | ChartKind::C => {
                    data.insert("counts".into(), counts.clone());
                    data.insert("sizes".into(), sizes.clone());
                }
                ChartKind::Constants => { data.insert("n".into(), counts.clone()); }
                _ => {
                    data.insert("values".into(), values.clone());
                    if n > 1 { data.insert("subgroups".into(), subgroups.clone()); }
                }
            }
            let req = AnalyzeRequest { chart: kind.as_str().into(), params, data };
            if let Ok(resp) = analyze(&req) {
                // Whatever comes back must serialise (no NaN smuggled into numbers as panics).
                let _ = serde_json::to_string(&resp);
            }
        }
    }
}
