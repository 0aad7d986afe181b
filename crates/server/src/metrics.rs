//! Prometheus metrics (`GET /metrics`, the text exposition format 0.0.4) and readiness
//! (`GET /readyz`).
//!
//! Two kinds of figures:
//! - counted as requests pass ([`Metrics::observe`], from [`crate::access_log`]): requests
//!   and their latency per route template (never the concrete path, so ids do not become
//!   labels), method and status, as a histogram;
//! - read at scrape time from what the service already keeps: events applied, audit records,
//!   proposals by status, alerts, active holds and open nonconformances, the quality
//!   enforcer's backlog, the connectors' counters and the live agents' reactions.
//!
//! Solver time shows as the latency of the routes that solve (`/v1/schedule/solve`,
//! `…/optimize`, `…/repair`, `…/plan`, `…/scenarios`) and as the agents' reaction latency.
//! What it must not do: expose anything of one area to a reader of another; the route is
//! for site-wide principals only.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::auth::Caller;
use crate::problem::Problem;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Quality results past the enforcer's cursor counted at most (the backlog's reading).
const BACKLOG_CAP: u32 = 10_000;

/// The route template a request matched, left in its response's extensions by the router.
#[derive(Debug, Clone, Copy)]
pub struct RouteLabel(pub &'static str);

/// One latency histogram.
#[derive(Debug, Default, Clone)]
struct Histogram {
    /// Observations at most each bound of [`BUCKETS`] (not yet cumulative).
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        if let Some(i) = BUCKETS.iter().position(|bound| seconds <= *bound) {
            self.buckets[i] += 1;
        }
        self.count += 1;
        self.sum += seconds;
    }
}

/// The request figures of this process.
#[derive(Debug)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(&'static str, String, u16), Histogram>>,
    started: Instant,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics {
            requests: Mutex::default(),
            started: Instant::now(),
        }
    }
}

impl Metrics {
    /// Counts one answered request.
    pub fn observe(&self, route: &'static str, method: &str, status: u16, seconds: f64) {
        self.requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry((route, method.to_owned(), status))
            .or_default()
            .observe(seconds);
    }

    fn write_requests(&self, out: &mut String) {
        let requests = self
            .requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        help(
            out,
            "mixplane_http_request_duration_seconds",
            "histogram",
            "Requests answered and their latency, by route template, method and status",
        );
        for ((route, method, status), histogram) in &requests {
            let labels = format!(
                "route=\"{}\",method=\"{}\",status=\"{status}\"",
                escape(route),
                escape(method)
            );
            let mut cumulative = 0;
            for (bound, n) in BUCKETS.iter().zip(histogram.buckets) {
                cumulative += n;
                let _ = writeln!(
                    out,
                    "mixplane_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "mixplane_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                histogram.count
            );
            let _ = writeln!(
                out,
                "mixplane_http_request_duration_seconds_sum{{{labels}}} {}",
                histogram.sum
            );
            let _ = writeln!(
                out,
                "mixplane_http_request_duration_seconds_count{{{labels}}} {}",
                histogram.count
            );
        }
    }
}

fn help(out: &mut String, name: &str, kind: &str, text: &str) {
    let _ = writeln!(out, "# HELP {name} {text}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn sample(out: &mut String, name: &str, labels: &str, value: impl std::fmt::Display) {
    if labels.is_empty() {
        let _ = writeln!(out, "{name} {value}");
    } else {
        let _ = writeln!(out, "{name}{{{labels}}} {value}");
    }
}

/// A label value with `\`, `"` and line breaks escaped, as the format asks.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// `GET /metrics`: every figure, for a principal with a site-wide scope.
pub async fn metrics(State(app): State<AppState>, caller: Caller) -> Result<Response, Problem> {
    if let govern::Scope::Area(area) = &caller.0.scope {
        return Err(Problem::forbidden(format!(
            "the metrics span every area; reading them needs a site-wide scope, not `area:{area}`"
        )));
    }
    let mut out = String::with_capacity(16 * 1024);
    help(
        &mut out,
        "mixplane_up_seconds",
        "gauge",
        "Seconds since this process started serving",
    );
    sample(
        &mut out,
        "mixplane_up_seconds",
        "",
        app.metrics.started.elapsed().as_secs_f64(),
    );
    app.metrics.write_requests(&mut out);
    write_store(&app, &mut out).await?;
    write_connectors(&app, &mut out);
    write_agents(&app, &mut out);
    let mut response = out.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok(response)
}

async fn write_store(app: &AppState, out: &mut String) -> Result<(), Problem> {
    let state = app.store.state().await;
    help(
        out,
        "mixplane_events_applied_total",
        "counter",
        "Events stored and folded into the plant state (its rate is the ingest rate)",
    );
    sample(
        out,
        "mixplane_events_applied_total",
        "",
        state.events_applied,
    );
    help(
        out,
        "mixplane_audit_records_total",
        "counter",
        "Records of the audit trail",
    );
    sample(
        out,
        "mixplane_audit_records_total",
        "",
        *app.store.changes().borrow(),
    );

    help(out, "mixplane_proposals", "gauge", "Proposals by status");
    for &status in govern::Status::ALL {
        let filter = store::ProposalFilter {
            status: Some(status),
            limit: 1,
            ..store::ProposalFilter::default()
        };
        let total = app
            .store
            .proposals(&filter)
            .await
            .map_err(app::AppError::from)?
            .total;
        sample(
            out,
            "mixplane_proposals",
            &format!("status=\"{status}\""),
            total,
        );
    }

    let quality = app
        .store
        .quality_counts()
        .await
        .map_err(app::AppError::from)?;
    help(
        out,
        "mixplane_quality_alerts_total",
        "counter",
        "Quality alerts raised",
    );
    sample(out, "mixplane_quality_alerts_total", "", quality.alerts);
    help(
        out,
        "mixplane_quality_holds_active",
        "gauge",
        "Holds in force",
    );
    sample(
        out,
        "mixplane_quality_holds_active",
        "",
        quality.holds_active,
    );
    help(
        out,
        "mixplane_quality_nonconformances_open",
        "gauge",
        "Nonconformances not closed",
    );
    sample(
        out,
        "mixplane_quality_nonconformances_open",
        "",
        quality.nonconformances_open,
    );
    let backlog = app
        .store
        .events(store::EventFilter {
            types: vec!["quality_result_recorded".to_owned()],
            after_seq: Some(quality.cursor_seq),
            limit: BACKLOG_CAP,
            ..store::EventFilter::default()
        })
        .await
        .map_err(app::AppError::from)?
        .len();
    help(
        out,
        "mixplane_quality_enforcement_backlog",
        "gauge",
        "Quality results stored but not yet judged by the enforcer (counted up to 10000)",
    );
    sample(out, "mixplane_quality_enforcement_backlog", "", backlog);
    Ok(())
}

/// A counter of every connector: its name, type, help and how to read it.
type CounterFamily = (
    &'static str,
    &'static str,
    &'static str,
    fn(&app::connectors::Counters) -> u64,
);

fn write_connectors(app: &AppState, out: &mut String) {
    let connectors = app.connectors.all();
    if connectors.is_empty() {
        return;
    }
    let now = app.now();
    let families: [CounterFamily; 5] = [
        (
            "mixplane_connector_polls_total",
            "counter",
            "Polls of the peer",
            |c| c.polls,
        ),
        (
            "mixplane_connector_events_stored_total",
            "counter",
            "Events newly stored",
            |c| c.events_stored,
        ),
        (
            "mixplane_connector_duplicates_total",
            "counter",
            "Events already in the log",
            |c| c.duplicates,
        ),
        (
            "mixplane_connector_dead_letters_total",
            "counter",
            "Records dead-lettered",
            |c| c.dead_letters,
        ),
        (
            "mixplane_connector_retries_total",
            "counter",
            "Polls or stores retried after a failure",
            |c| c.retries,
        ),
    ];
    for (name, kind, text, value) in families {
        help(out, name, kind, text);
        for connector in &connectors {
            let labels = format!("connector=\"{}\"", escape(&connector.name));
            sample(out, name, &labels, value(&connector.counters));
        }
    }
    help(
        out,
        "mixplane_connector_up",
        "gauge",
        "1 while the connector's last poll and store succeeded",
    );
    help(
        out,
        "mixplane_connector_lag_seconds",
        "gauge",
        "Wall seconds since the connector's last successful poll",
    );
    for connector in &connectors {
        let labels = format!("connector=\"{}\"", escape(&connector.name));
        let up = u8::from(connector.state == app::connectors::Health::Ok);
        sample(out, "mixplane_connector_up", &labels, up);
        if let Some(at) = connector.counters.last_success_at {
            let lag = (now.0 - at.0).max(0) as f64 / 1000.0;
            sample(out, "mixplane_connector_lag_seconds", &labels, lag);
        }
    }
}

fn write_agents(app: &AppState, out: &mut String) {
    let Some(agents) = app.agents.get() else {
        return;
    };
    let status = agents.status();
    help(
        out,
        "mixplane_agent_reactions_total",
        "counter",
        "Reactions of the live agents to stored events",
    );
    sample(out, "mixplane_agent_reactions_total", "", status.reactions);
    help(
        out,
        "mixplane_agent_proposals_total",
        "counter",
        "Proposals the live agents made",
    );
    sample(out, "mixplane_agent_proposals_total", "", status.proposals);
    help(
        out,
        "mixplane_agent_failures_total",
        "counter",
        "Reactions that failed",
    );
    sample(out, "mixplane_agent_failures_total", "", status.failures);
    help(
        out,
        "mixplane_agent_read_through_seq",
        "gauge",
        "The last log sequence number the agents read",
    );
    sample(
        out,
        "mixplane_agent_read_through_seq",
        "",
        status.read_through_seq,
    );
    let mut latencies: Vec<i64> = status.recent.iter().map(|r| r.latency_ms).collect();
    if !latencies.is_empty() {
        latencies.sort_unstable();
        help(
            out,
            "mixplane_agent_reaction_seconds",
            "summary",
            "From an event's storage to the proposal answering it (solving included), over the recent reactions",
        );
        for q in [0.5, 0.9, 1.0] {
            let i = ((latencies.len() - 1) as f64 * q).round() as usize;
            sample(
                out,
                "mixplane_agent_reaction_seconds",
                &format!("quantile=\"{q}\""),
                latencies[i] as f64 / 1000.0,
            );
        }
    }
}

/// `GET /readyz`: 200 when the store answers and the server is not shutting down, else 503
/// naming why, so a load balancer sends no new requests to it.
pub async fn readyz(State(app): State<AppState>) -> Response {
    if *app.closing.borrow() {
        return not_ready("the server is shutting down");
    }
    match app.store.quality_counts().await {
        Ok(_) => (
            StatusCode::OK,
            axum::Json(serde_json::json!({ "status": "ready" })),
        )
            .into_response(),
        Err(error) => not_ready(&format!("the store does not answer: {error}")),
    }
}

fn not_ready(why: &str) -> Response {
    Problem::unavailable(why.to_owned(), 5).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_histogram_puts_each_observation_in_its_bucket() {
        let mut h = Histogram::default();
        for s in [0.0005, 0.003, 0.003, 20.0] {
            h.observe(s);
        }
        assert_eq!(h.count, 4);
        assert_eq!(h.buckets[0], 1);
        assert_eq!(h.buckets[2], 2);
        assert_eq!(
            h.buckets.iter().sum::<u64>(),
            3,
            "20 s is past every bound but +Inf"
        );
    }

    #[test]
    fn buckets_are_cumulative_and_labels_escaped() {
        let metrics = Metrics::default();
        metrics.observe("/v1/orders", "GET", 200, 0.002);
        metrics.observe("/v1/orders", "GET", 200, 0.02);
        let mut out = String::new();
        metrics.write_requests(&mut out);
        assert!(out.contains(
            "mixplane_http_request_duration_seconds_bucket{route=\"/v1/orders\",method=\"GET\",status=\"200\",le=\"0.0025\"} 1"
        ), "{out}");
        assert!(out.contains("le=\"0.025\"} 2"), "{out}");
        assert!(out.contains("_count{route=\"/v1/orders\",method=\"GET\",status=\"200\"} 2"));
        assert_eq!(escape("a\"b\\c"), "a\\\"b\\\\c");
    }
}
