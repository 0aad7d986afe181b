//! The public request/response contract: `analyze(&AnalyzeRequest) -> AnalyzeResponse`.
//!
//! A request is `{chart, params, data}` exactly as in the shared test vectors; the response
//! serialises to the shape of a vector's `expected` (same field names, scalars or per-point
//! arrays as the vectors README says, `null` where undefined). Parsing happens in two stages:
//! this module turns loose JSON into the typed options of each chart (naming the field at
//! fault), then calls the typed chart function.
//!
//! | chart | `data` | `params` (all optional unless marked) |
//! |---|---|---|
//! | `constants` | `n`: list of sizes 2..=25 | `nsigma` (3) |
//! | `rules` | `values` | `center`*, `sigma`*, `ucl`, `lcl` (center ± 3σ), rules |
//! | `imr` | `values` | phase I, rules, `nsigma` (3), `phase1_iterate` (false) |
//! | `xbar_r`, `xbar_s` | `subgroups` m×n | as `imr` |
//! | `p`, `u` | `counts`, `sizes` | as `imr` |
//! | `np` | `counts`, `sizes` (or `params.size`) | as `imr` |
//! | `c` | `counts` | as `imr` |
//! | `ewma` | `values` or `subgroups` | `lambda`*, `L` (3), `target`, `sigma`, `sigma_method`, `phase1_indices` |
//! | `cusum` | `values` or `subgroups` | `k` (0.5), `h` (5), `headstart` (0), `target`, `sigma`, `sigma_method`, `phase1_indices` |
//! | `capability` | `values` or `subgroups` | `lsl`, `usl` (at least one), `sigma_method` |
//! | `t2_individual` | `observations` m×p, `phase2_observations` | `alpha` (0.0027) |
//! | `t2_subgroup` | `subgroups` m×n×p, `phase2_subgroups` | `alpha` (0.0027) |
//!
//! "Phase I" is `phase1_indices` (all points when absent); "rules" is `rule_set`
//! (`nelson` default, or `western_electric`) and `rules` (all rules of the set when absent).
//! "Standard given" (frozen) limits: `center` and `sigma` (σ of one observation) for `imr`,
//! `xbar_r`, `xbar_s`; `pbar` for `p`, `np`; `center` (c̄, ū) for `c`, `u` replace the phase-I
//! estimates, so phase-II points can be charted without resending phase-I data.
//! With `phase1_iterate: true`, phase-I points beyond the limits (main chart, and R/S chart)
//! are dropped and the limits re-estimated until none remain; the response then lists them
//! in `phase1_excluded`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::capability::{Capability, CapabilityOptions, capability};
use crate::constants::{self, ConstantsRow};
use crate::cusum::{CusumChart, CusumOptions, cusum};
use crate::error::QualityError;
use crate::estimate::{Series, SigmaMethod};
use crate::ewma::{EwmaChart, EwmaOptions, ewma};
use crate::rules::{PointLimits, RuleSelection, RuleSet};
use crate::shewhart::{self, RulesResult, ShewhartChart, ShewhartOptions};
use crate::t2::{T2Individual, T2Subgroup, t2_individual, t2_subgroup};

/// Chart kinds understood by [`analyze`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChartKind {
    /// Table of control-chart constants.
    Constants,
    /// Run rules on given values and limits.
    Rules,
    /// Individuals and moving range.
    Imr,
    /// X̄ and R.
    XbarR,
    /// X̄ and S.
    XbarS,
    /// Fraction nonconforming.
    P,
    /// Number nonconforming.
    Np,
    /// Nonconformities.
    C,
    /// Nonconformities per unit.
    U,
    /// Exponentially weighted moving average.
    Ewma,
    /// Tabular CUSUM.
    Cusum,
    /// Process capability.
    Capability,
    /// Hotelling T², individual observations.
    T2Individual,
    /// Hotelling T², subgroups.
    T2Subgroup,
}

model::wire_enum!(
    ChartKind,
    "chart",
    [
        Constants,
        Rules,
        Imr,
        XbarR,
        XbarS,
        P,
        Np,
        C,
        U,
        Ewma,
        Cusum,
        Capability,
        T2Individual,
        T2Subgroup
    ]
);

impl ChartKind {
    /// Parses a request name (case-insensitive; `-` may stand for `_`, as in `xbar-r`).
    pub fn parse(name: &str) -> Result<Self, QualityError> {
        let norm = name.trim().to_ascii_lowercase().replace('-', "_");
        norm.parse().map_err(|_| QualityError::UnknownChart {
            chart: name.to_string(),
        })
    }
}

/// An analysis request: `{chart, params, data}` as in a vector file. Extra top-level keys
/// (`name`, `expected`, ...) are ignored, so a whole vector file deserialises as a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalyzeRequest {
    /// Chart name (see [`ChartKind`]).
    pub chart: String,
    /// Chart parameters.
    #[serde(default)]
    pub params: Map<String, Value>,
    /// Input data.
    #[serde(default)]
    pub data: Map<String, Value>,
}

/// The constants table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConstantsTable {
    /// One row per requested n.
    pub table: Vec<ConstantsRow>,
}

/// The result of [`analyze`]; serialises (untagged) to the shape of a vector's `expected`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum AnalyzeResponse {
    /// `constants`.
    Constants(ConstantsTable),
    /// `rules`.
    Rules(RulesResult),
    /// `imr`, `xbar_r`, `xbar_s`, `p`, `np`, `c`, `u`.
    Shewhart(ShewhartChart),
    /// `ewma`.
    Ewma(EwmaChart),
    /// `cusum`.
    Cusum(CusumChart),
    /// `capability`.
    Capability(Capability),
    /// `t2_individual`.
    T2Individual(T2Individual),
    /// `t2_subgroup`.
    T2Subgroup(T2Subgroup),
}

/// Read access to one section (`params` or `data`) with errors naming the field.
struct Section<'a> {
    name: &'static str,
    map: &'a Map<String, Value>,
}

impl<'a> Section<'a> {
    fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    fn invalid(&self, field: impl Into<String>, reason: impl Into<String>) -> QualityError {
        QualityError::InvalidField {
            section: self.name,
            field: field.into(),
            reason: reason.into(),
        }
    }

    fn missing(&self, key: &str) -> QualityError {
        QualityError::MissingField {
            section: self.name,
            field: key.to_string(),
        }
    }

    fn req(&self, key: &str) -> Result<&'a Value, QualityError> {
        self.get(key).ok_or_else(|| self.missing(key))
    }

    fn num(&self, path: &str, v: &Value) -> Result<f64, QualityError> {
        v.as_f64()
            .ok_or_else(|| self.invalid(path, format!("expected a number, got {v}")))
    }

    fn f64_opt(&self, key: &str) -> Result<Option<f64>, QualityError> {
        self.get(key).map(|v| self.num(key, v)).transpose()
    }

    fn f64_req(&self, key: &str) -> Result<f64, QualityError> {
        self.num(key, self.req(key)?)
    }

    fn array(&self, path: &str, v: &'a Value) -> Result<&'a Vec<Value>, QualityError> {
        v.as_array()
            .ok_or_else(|| self.invalid(path, format!("expected an array, got {}", kind(v))))
    }

    fn vec_at(&self, path: &str, v: &Value) -> Result<Vec<f64>, QualityError> {
        self.array(path, v)?
            .iter()
            .enumerate()
            .map(|(i, x)| self.num(&format!("{path}[{i}]"), x))
            .collect()
    }

    fn vec(&self, key: &str) -> Result<Vec<f64>, QualityError> {
        self.vec_at(key, self.req(key)?)
    }

    fn matrix_at(&self, path: &str, v: &Value) -> Result<Vec<Vec<f64>>, QualityError> {
        self.array(path, v)?
            .iter()
            .enumerate()
            .map(|(i, row)| self.vec_at(&format!("{path}[{i}]"), row))
            .collect()
    }

    fn matrix(&self, key: &str) -> Result<Vec<Vec<f64>>, QualityError> {
        self.matrix_at(key, self.req(key)?)
    }

    fn tensor(&self, key: &str) -> Result<Vec<Vec<Vec<f64>>>, QualityError> {
        let v = self.req(key)?;
        self.array(key, v)?
            .iter()
            .enumerate()
            .map(|(i, g)| self.matrix_at(&format!("{key}[{i}]"), g))
            .collect()
    }

    fn indices(&self, key: &str) -> Result<Option<Vec<usize>>, QualityError> {
        let Some(v) = self.get(key) else {
            return Ok(None);
        };
        self.array(key, v)?
            .iter()
            .enumerate()
            .map(|(i, x)| {
                x.as_u64()
                    .or_else(|| {
                        x.as_f64()
                            .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < 9e15)
                            .map(|f| f as u64)
                    })
                    .and_then(|u| usize::try_from(u).ok())
                    .ok_or_else(|| {
                        self.invalid(
                            format!("{key}[{i}]"),
                            format!("expected an index ≥ 0, got {x}"),
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    fn bool_opt(&self, key: &str) -> Result<Option<bool>, QualityError> {
        self.get(key)
            .map(|v| {
                v.as_bool()
                    .ok_or_else(|| self.invalid(key, format!("expected true or false, got {v}")))
            })
            .transpose()
    }

    fn str_opt(&self, key: &str) -> Result<Option<&'a str>, QualityError> {
        self.get(key)
            .map(|v| {
                v.as_str()
                    .ok_or_else(|| self.invalid(key, format!("expected a string, got {v}")))
            })
            .transpose()
    }

    fn rules(&self) -> Result<RuleSelection, QualityError> {
        let set = match self.str_opt("rule_set")? {
            Some(s) => RuleSet::parse(s)?,
            None => RuleSet::Nelson,
        };
        let Some(v) = self.get("rules") else {
            return Ok(RuleSelection::all(set));
        };
        let list: Vec<i64> = self
            .array("rules", v)?
            .iter()
            .enumerate()
            .map(|(i, x)| {
                x.as_i64().ok_or_else(|| {
                    self.invalid(
                        format!("rules[{i}]"),
                        format!("expected a rule number, got {x}"),
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        RuleSelection::new(set, &list)
    }

    fn sigma_method(&self) -> Result<Option<SigmaMethod>, QualityError> {
        self.str_opt("sigma_method")?
            .map(|s| {
                s.parse::<SigmaMethod>().map_err(|_| {
                    self.invalid(
                        "sigma_method",
                        format!("unknown method `{s}` (rbar_d2, sbar_c4, mrbar_d2)"),
                    )
                })
            })
            .transpose()
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

enum OwnedSeries {
    Individuals(Vec<f64>),
    Subgroups(Vec<Vec<f64>>),
}

impl OwnedSeries {
    fn read(data: &Section<'_>) -> Result<Self, QualityError> {
        if data.has("subgroups") {
            Ok(OwnedSeries::Subgroups(data.matrix("subgroups")?))
        } else if data.has("values") {
            Ok(OwnedSeries::Individuals(data.vec("values")?))
        } else {
            Err(QualityError::MissingField {
                section: "data",
                field: "values (or subgroups)".into(),
            })
        }
    }

    fn view(&self) -> Series<'_> {
        match self {
            OwnedSeries::Individuals(v) => Series::Individuals(v),
            OwnedSeries::Subgroups(s) => Series::Subgroups(s),
        }
    }
}

fn shewhart_options(
    params: &Section<'_>,
    kind: ChartKind,
) -> Result<ShewhartOptions, QualityError> {
    let nsigma = params.f64_opt("nsigma")?.unwrap_or(3.0);
    if !(nsigma > 0.0 && nsigma.is_finite()) {
        return Err(params.invalid("nsigma", "must be a positive number"));
    }
    let center_key = match kind {
        ChartKind::P | ChartKind::Np => "pbar",
        _ => "center",
    };
    let known_center = params.f64_opt(center_key)?;
    if let Some(c) = known_center {
        let ok = match kind {
            ChartKind::P | ChartKind::Np => c > 0.0 && c < 1.0,
            ChartKind::C | ChartKind::U => c > 0.0 && c.is_finite(),
            _ => c.is_finite(),
        };
        if !ok {
            return Err(params.invalid(center_key, format!("{c} is not a valid known center")));
        }
    }
    let known_sigma = match kind {
        ChartKind::Imr | ChartKind::XbarR | ChartKind::XbarS => params.f64_opt("sigma")?,
        _ => None,
    };
    if let Some(s) = known_sigma.filter(|s| !(*s > 0.0 && s.is_finite())) {
        return Err(params.invalid("sigma", format!("{s} is not a positive number")));
    }
    Ok(ShewhartOptions {
        phase1_indices: params.indices("phase1_indices")?,
        rules: params.rules()?,
        nsigma,
        iterate: params.bool_opt("phase1_iterate")?.unwrap_or(false),
        known_center,
        known_sigma,
    })
}

/// Runs the chart named in the request.
pub fn analyze(request: &AnalyzeRequest) -> Result<AnalyzeResponse, QualityError> {
    let kind = ChartKind::parse(&request.chart)?;
    let params = Section {
        name: "params",
        map: &request.params,
    };
    let data = Section {
        name: "data",
        map: &request.data,
    };
    Ok(match kind {
        ChartKind::Constants => {
            let nsigma = params.f64_opt("nsigma")?.unwrap_or(3.0);
            let ns = data.vec("n")?;
            let table = ns
                .iter()
                .enumerate()
                .map(|(i, &n)| {
                    let ok = n.fract() == 0.0 && n >= 0.0;
                    ok.then(|| constants::row(n as usize, nsigma))
                        .flatten()
                        .ok_or_else(|| {
                            data.invalid(
                                format!("n[{i}]"),
                                format!("{n} is not an integer in 2..=25"),
                            )
                        })
                })
                .collect::<Result<_, _>>()?;
            AnalyzeResponse::Constants(ConstantsTable { table })
        }
        ChartKind::Rules => {
            let center = params.f64_req("center")?;
            let sigma = params.f64_req("sigma")?;
            let ucl = params.f64_opt("ucl")?.unwrap_or(center + 3.0 * sigma);
            let lcl = params.f64_opt("lcl")?.unwrap_or(center - 3.0 * sigma);
            let limits = PointLimits {
                center,
                sigma,
                lcl,
                ucl,
            };
            AnalyzeResponse::Rules(shewhart::rules_chart(
                &data.vec("values")?,
                limits,
                params.rules()?,
            )?)
        }
        ChartKind::Imr => AnalyzeResponse::Shewhart(shewhart::imr(
            &data.vec("values")?,
            &shewhart_options(&params, kind)?,
        )?),
        ChartKind::XbarR => AnalyzeResponse::Shewhart(shewhart::xbar_r(
            &data.matrix("subgroups")?,
            &shewhart_options(&params, kind)?,
        )?),
        ChartKind::XbarS => AnalyzeResponse::Shewhart(shewhart::xbar_s(
            &data.matrix("subgroups")?,
            &shewhart_options(&params, kind)?,
        )?),
        ChartKind::P => AnalyzeResponse::Shewhart(shewhart::p_chart(
            &data.vec("counts")?,
            &data.vec("sizes")?,
            &shewhart_options(&params, kind)?,
        )?),
        ChartKind::Np => {
            let counts = data.vec("counts")?;
            let sizes = match (data.has("sizes"), params.f64_opt("size")?) {
                (false, Some(n)) => vec![n; counts.len()],
                _ => data.vec("sizes")?,
            };
            AnalyzeResponse::Shewhart(shewhart::np_chart(
                &counts,
                &sizes,
                &shewhart_options(&params, kind)?,
            )?)
        }
        ChartKind::C => AnalyzeResponse::Shewhart(shewhart::c_chart(
            &data.vec("counts")?,
            &shewhart_options(&params, kind)?,
        )?),
        ChartKind::U => AnalyzeResponse::Shewhart(shewhart::u_chart(
            &data.vec("counts")?,
            &data.vec("sizes")?,
            &shewhart_options(&params, kind)?,
        )?),
        ChartKind::Ewma => {
            let series = OwnedSeries::read(&data)?;
            let opts = EwmaOptions {
                lambda: params.f64_req("lambda")?,
                l: params.f64_opt("L")?.unwrap_or(3.0),
                target: params.f64_opt("target")?,
                sigma: params.f64_opt("sigma")?,
                sigma_method: params.sigma_method()?,
                phase1_indices: params.indices("phase1_indices")?,
            };
            AnalyzeResponse::Ewma(ewma(series.view(), &opts)?)
        }
        ChartKind::Cusum => {
            let series = OwnedSeries::read(&data)?;
            let opts = CusumOptions {
                k: params.f64_opt("k")?.unwrap_or(0.5),
                h: params.f64_opt("h")?.unwrap_or(5.0),
                headstart: params.f64_opt("headstart")?.unwrap_or(0.0),
                target: params.f64_opt("target")?,
                sigma: params.f64_opt("sigma")?,
                sigma_method: params.sigma_method()?,
                phase1_indices: params.indices("phase1_indices")?,
            };
            AnalyzeResponse::Cusum(cusum(series.view(), &opts)?)
        }
        ChartKind::Capability => {
            let series = OwnedSeries::read(&data)?;
            let opts = CapabilityOptions {
                lsl: params.f64_opt("lsl")?,
                usl: params.f64_opt("usl")?,
                sigma_method: params.sigma_method()?,
            };
            AnalyzeResponse::Capability(capability(series.view(), &opts)?)
        }
        ChartKind::T2Individual => {
            let obs = data.matrix("observations")?;
            let p2 = if data.has("phase2_observations") {
                Some(data.matrix("phase2_observations")?)
            } else {
                None
            };
            let alpha = params.f64_opt("alpha")?.unwrap_or(0.0027);
            AnalyzeResponse::T2Individual(t2_individual(&obs, p2.as_deref(), alpha)?)
        }
        ChartKind::T2Subgroup => {
            let groups = data.tensor("subgroups")?;
            let p2 = if data.has("phase2_subgroups") {
                Some(data.tensor("phase2_subgroups")?)
            } else {
                None
            };
            let alpha = params.f64_opt("alpha")?.unwrap_or(0.0027);
            AnalyzeResponse::T2Subgroup(t2_subgroup(&groups, p2.as_deref(), alpha)?)
        }
    })
}

/// Parses a JSON request and analyses it (convenience for the edges).
pub fn analyze_json(request: &str) -> Result<AnalyzeResponse, QualityError> {
    let req: AnalyzeRequest =
        serde_json::from_str(request).map_err(|e| QualityError::InvalidField {
            section: "request",
            field: "(body)".into(),
            reason: e.to_string(),
        })?;
    analyze(&req)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn req(v: Value) -> AnalyzeRequest {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn unknown_chart() {
        let e = analyze(&req(json!({"chart": "pie", "params": {}, "data": {}}))).unwrap_err();
        assert_eq!(
            e,
            QualityError::UnknownChart {
                chart: "pie".into()
            }
        );
    }

    #[test]
    fn missing_field_named() {
        let e = analyze(&req(json!({"chart": "p", "data": {"counts": [1, 2]}}))).unwrap_err();
        assert_eq!(
            e,
            QualityError::MissingField {
                section: "data",
                field: "sizes".into()
            }
        );
    }

    #[test]
    fn text_in_numeric_field_named_with_index() {
        let e = analyze(&req(
            json!({"chart": "imr", "data": {"values": [1, "x", 3]}}),
        ))
        .unwrap_err();
        assert!(matches!(e, QualityError::InvalidField { ref field, .. } if field == "values[1]"));
    }

    #[test]
    fn bad_shapes() {
        let e = analyze(&req(
            json!({"chart": "xbar_r", "data": {"subgroups": [[1, 2], [3]]}}),
        ))
        .unwrap_err();
        assert!(matches!(
            e,
            QualityError::UnequalSubgroupSize { index: 1, .. }
        ));
        let e = analyze(&req(
            json!({"chart": "xbar_r", "data": {"subgroups": [[1], [3]]}}),
        ))
        .unwrap_err();
        assert!(matches!(e, QualityError::SubgroupSize { size: 1, .. }));
        let e = analyze(&req(
            json!({"chart": "u", "data": {"counts": [1, 2], "sizes": [1]}}),
        ))
        .unwrap_err();
        assert!(matches!(e, QualityError::LengthMismatch { .. }));
        let e = analyze(&req(
            json!({"chart": "np", "data": {"counts": [1, 2], "sizes": [10, 20]}}),
        ))
        .unwrap_err();
        assert!(matches!(e, QualityError::NonConstantSize { index: 1, .. }));
        let e = analyze(&req(json!({"chart": "imr", "data": {"values": [1]}}))).unwrap_err();
        assert!(matches!(e, QualityError::TooFewPoints { .. }));
        let e = analyze(&req(json!({"chart": "imr", "params": {"rule_set": "we", "rules": [7]}, "data": {"values": [1, 2, 3]}}))).unwrap_err();
        assert!(matches!(e, QualityError::UnknownRule { rule: 7, .. }));
    }

    #[test]
    fn response_shape_scalar_vs_array() {
        let r = analyze(&req(
            json!({"chart": "p", "data": {"counts": [1, 2, 3], "sizes": [10, 20, 10]}}),
        ))
        .unwrap();
        let v = serde_json::to_value(&r).unwrap();
        assert!(v["center"].is_number());
        assert!(v["ucl"].is_array());
        let r = analyze(&req(json!({"chart": "capability", "params": {"usl": 10}, "data": {"values": [1, 2, 1.5, 1.7]}}))).unwrap();
        let v = serde_json::to_value(&r).unwrap();
        assert!(v["cp"].is_null() && v["cpu"].is_number());
    }
}
