//! Typed errors of the SPC engine.
//!
//! Every variant names the field, index or option at fault, so that the edge (CLI, HTTP) can
//! show the message as is. Errors of the CSV reader ([`crate::csv::CsvError`]) convert into
//! [`QualityError::Csv`]; the nonconformance workflow ([`crate::nc::NcError`]) and the
//! root-cause ranking ([`crate::rootcause::RootCauseError`]) have their own error types.

use thiserror::Error;

/// Why an SPC request could not be analysed.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum QualityError {
    /// `chart` names no supported chart.
    #[error(
        "unknown chart `{chart}` (expected one of: constants, rules, imr, xbar_r, xbar_s, p, np, c, u, ewma, cusum, capability, t2_individual, t2_subgroup)"
    )]
    UnknownChart {
        /// The chart name as given.
        chart: String,
    },
    /// A required field is absent (or `null`).
    #[error("missing field `{section}.{field}`")]
    MissingField {
        /// `params` or `data`.
        section: &'static str,
        /// Field name.
        field: String,
    },
    /// A field is present but has the wrong type or an invalid value.
    #[error("invalid field `{section}.{field}`: {reason}")]
    InvalidField {
        /// `params` or `data`.
        section: &'static str,
        /// Field name, possibly with an index (`subgroups[3][1]`).
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// A value is NaN or infinite.
    #[error("non-finite value in `{field}` at index {index}")]
    NonFinite {
        /// Field name.
        field: String,
        /// Position of the value.
        index: usize,
    },
    /// Subgroups of a subgroup chart do not all have the same size.
    #[error(
        "subgroup {index} has {found} values but subgroup 0 has {expected}: subgroups must be of equal size"
    )]
    UnequalSubgroupSize {
        /// Index of the first offending subgroup.
        index: usize,
        /// Size of subgroup 0.
        expected: usize,
        /// Size of the offending subgroup.
        found: usize,
    },
    /// The subgroup size is outside the range the chart supports.
    #[error("chart `{chart}` needs subgroups of size {min}..={max}, got {size}")]
    SubgroupSize {
        /// Chart name.
        chart: &'static str,
        /// Size given.
        size: usize,
        /// Smallest allowed size.
        min: usize,
        /// Largest allowed size.
        max: usize,
    },
    /// Two parallel arrays have different lengths (counts vs sizes, for example).
    #[error("`{first}` has {first_len} entries but `{second}` has {second_len}")]
    LengthMismatch {
        /// First field.
        first: &'static str,
        /// Its length.
        first_len: usize,
        /// Second field.
        second: &'static str,
        /// Its length.
        second_len: usize,
    },
    /// An np chart needs one constant sample size.
    #[error(
        "np chart needs a constant sample size: sizes[{index}] = {found} but sizes[0] = {expected}"
    )]
    NonConstantSize {
        /// Index of the first differing size.
        index: usize,
        /// `sizes[0]`.
        expected: f64,
        /// The differing size.
        found: f64,
    },
    /// A size is not positive or a count exceeds its size.
    #[error("invalid `{field}[{index}]` = {value}: {reason}")]
    InvalidValue {
        /// Field name.
        field: &'static str,
        /// Position.
        index: usize,
        /// Offending value.
        value: f64,
        /// Why it is invalid.
        reason: &'static str,
    },
    /// Not enough points (or phase-I points) to estimate the chart.
    #[error("chart `{chart}` needs at least {needed} {what}, got {found}")]
    TooFewPoints {
        /// Chart name.
        chart: &'static str,
        /// What is counted (points, phase-I points, subgroups, observations).
        what: &'static str,
        /// Minimum needed.
        needed: usize,
        /// Number given.
        found: usize,
    },
    /// A phase-I index does not address a point, or is repeated.
    #[error("params.phase1_indices[{position}] = {index} is {reason} (series has {len} points)")]
    BadPhase1Index {
        /// Position within `phase1_indices`.
        position: usize,
        /// The index given.
        index: usize,
        /// Series length.
        len: usize,
        /// `out of range`, `repeated` or `not a prefix`.
        reason: &'static str,
    },
    /// `rule_set` is neither `nelson` nor `western_electric`.
    #[error("unknown rule set `{rule_set}` (expected `nelson` or `western_electric`)")]
    UnknownRuleSet {
        /// The name given.
        rule_set: String,
    },
    /// A rule number does not exist in the rule set.
    #[error("rule {rule} does not exist in rule set `{rule_set}` (valid: 1..={max})")]
    UnknownRule {
        /// Rule set name.
        rule_set: &'static str,
        /// Rule number given.
        rule: i64,
        /// Highest valid rule number.
        max: u8,
    },
    /// The estimated sigma is zero or not finite, so no limits exist.
    #[error("chart `{chart}`: estimated sigma is {sigma}, limits are undefined")]
    DegenerateSigma {
        /// Chart name.
        chart: &'static str,
        /// The estimate.
        sigma: f64,
    },
    /// The covariance matrix of a T² chart is singular.
    #[error("T² covariance matrix is singular or not positive definite (pivot {pivot})")]
    SingularCovariance {
        /// Pivot at which the Cholesky factorisation failed.
        pivot: usize,
    },
    /// A phase-II monitor was built from, or fed with, the wrong kind of chart or input.
    #[error("monitor: {reason}")]
    MonitorMismatch {
        /// What does not fit.
        reason: String,
    },
    /// CSV input could not be read.
    #[error(transparent)]
    Csv(#[from] crate::csv::CsvError),
    /// A specification is inconsistent (no limit at all, or LSL ≥ USL).
    #[error("invalid specification: {reason}")]
    InvalidSpec {
        /// What is wrong.
        reason: &'static str,
    },
}
