//! The enforcer's serialisable running state: points waiting for phase I, the frozen chart
//! of each characteristic and what it has charted so far.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::nc::EpochMillis;
use crate::phase2::ChartMonitor;
use crate::rules::PointLimits;

use super::input::ItemRef;

/// One plotted point before it is charted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Pending {
    pub(super) values: Vec<f64>,
    pub(super) size: Option<f64>,
    pub(super) items: Vec<ItemRef>,
    pub(super) event_ids: Vec<String>,
    pub(super) at: EpochMillis,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) enum Engine {
    Individuals(ChartMonitor),
    Subgroups(ChartMonitor),
    Proportion(ChartMonitor),
    Counts(ChartMonitor),
    Rate(ChartMonitor),
    Ewma {
        mu: f64,
        sigma: f64,
        lambda: f64,
        l: f64,
        z: f64,
        t: u64,
    },
    Cusum {
        mu: f64,
        sigma: f64,
        k: f64,
        h: f64,
        hi: f64,
        lo: f64,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Frozen {
    pub(super) engine: Engine,
    pub(super) limits: PointLimits,
    pub(super) nsigma: f64,
    /// p̄ (p charts) or ū (u charts): limits vary with the size.
    pub(super) rate_center: Option<f64>,
}

/// Running state of one characteristic.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct CharState {
    pub(super) phase1: Vec<Pending>,
    pub(super) frozen: Option<Frozen>,
    /// Subgroup being collected: its sample number and results.
    pub(super) subgroup: Option<(Option<u64>, Pending)>,
    pub(super) points: usize,
    pub(super) last_nc: Option<usize>,
    pub(super) skipped: u64,
}

/// The serialisable running state of an [`Enforcer`](super::Enforcer).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EnforcerState {
    pub(super) characteristics: BTreeMap<String, CharState>,
    /// Results fed so far.
    pub results: u64,
}
