//! What each tool does: its arguments read, the use-case of `app` it calls, its answer as
//! JSON. Nothing here decides who may do what (the use-cases and governance do) or touches
//! the store beyond the use-cases.

use app::App;
use govern::Principal;
use model::{Mode, OrderStatus, Timestamp};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::args;
use crate::error::ToolError;

/// Reads a tool's arguments (absent arguments read as `{}`).
fn read<T: DeserializeOwned>(tool: &'static str, arguments: &Value) -> Result<T, ToolError> {
    let value = if arguments.is_null() {
        json!({})
    } else {
        arguments.clone()
    };
    serde_json::from_value(value).map_err(|e| ToolError::arguments(tool, e.to_string()))
}

fn to_json(value: impl Serialize) -> Result<Value, ToolError> {
    serde_json::to_value(value)
        .map_err(|e| ToolError::App(app::AppError::Internal(format!("answer: {e}"))))
}

/// A list cut to `limit`, with how many there were.
fn page<T: Serialize>(items: Vec<T>, limit: usize) -> Result<Value, ToolError> {
    let total = items.len();
    let shown: Vec<T> = items.into_iter().take(limit).collect();
    Ok(json!({
        "items": to_json(shown)?,
        "total": total,
        "truncated": total > limit,
    }))
}

fn parse_opt<T: std::str::FromStr>(
    tool: &'static str,
    field: &str,
    value: Option<&str>,
) -> Result<Option<T>, ToolError>
where
    T::Err: std::fmt::Display,
{
    value
        .map(|v| {
            v.trim()
                .parse::<T>()
                .map_err(|e| ToolError::arguments(tool, format!("`{field}`: {e}")))
        })
        .transpose()
}

/// What a call is made with.
pub struct Call<'a> {
    pub app: &'a App,
    pub who: &'a Principal,
    pub tool: &'static str,
}

impl Call<'_> {
    fn app_error(&self, error: app::AppError) -> ToolError {
        ToolError::from_app(self.tool, &self.who.scope, error)
    }

    /// Runs the tool on `arguments`.
    pub async fn run(&self, arguments: &Value) -> Result<Value, ToolError> {
        match self.tool {
            "list_orders" => self.list_orders(read(self.tool, arguments)?).await,
            "get_order" => {
                let a: args::OrderId = read(self.tool, arguments)?;
                let order = app::plant::order(self.app, self.who, a.order_id.trim()).await;
                to_json(order.map_err(|e| self.app_error(e))?)
            }
            "list_work_centers" => {
                read::<args::NoArgs>(self.tool, arguments)?;
                let views = app::plant::work_centers(self.app, self.who).await;
                to_json(views.map_err(|e| self.app_error(e))?)
            }
            "get_schedule" => {
                read::<args::NoArgs>(self.tool, arguments)?;
                self.schedule().await
            }
            "explain_lateness" => {
                let a: args::ExplainLateness = read(self.tool, arguments)?;
                self.explain(a).await
            }
            "get_control_chart" => {
                let a: args::Characteristic = read(self.tool, arguments)?;
                let chart = app::quality::chart(self.app, self.who, a.characteristic.trim()).await;
                to_json(chart.map_err(|e| self.app_error(e))?)
            }
            "list_alerts" => self.list_alerts(read(self.tool, arguments)?).await,
            "list_holds" => self.list_holds(read(self.tool, arguments)?).await,
            "list_nonconformances" => self.list_ncs(read(self.tool, arguments)?).await,
            "release_gate" => self.gate(read(self.tool, arguments)?).await,
            "trace_backward" => {
                self.trace(read(self.tool, arguments)?, trace::Direction::Backward)
                    .await
            }
            "trace_forward" => {
                self.trace(read(self.tool, arguments)?, trace::Direction::Forward)
                    .await
            }
            "simulate_recall" => self.recall(read(self.tool, arguments)?).await,
            "rank_root_causes" => self.root_cause(read(self.tool, arguments)?).await,
            "get_rollout_kpis" => self.kpis(read(self.tool, arguments)?).await,
            "get_proposal" => {
                let a: args::ProposalId = read(self.tool, arguments)?;
                let proposal = app::govern::show(self.app, self.who, a.proposal_id.trim()).await;
                crate::propose::answer(&proposal.map_err(|e| self.app_error(e))?)
            }
            "run_what_if" => crate::propose::what_if(self, read(self.tool, arguments)?).await,
            "commit_scenario" => crate::propose::commit(self, read(self.tool, arguments)?).await,
            "propose_hold" => crate::propose::hold(self, read(self.tool, arguments)?).await,
            "propose_hold_release" => {
                crate::propose::release(self, read(self.tool, arguments)?).await
            }
            "propose_nc_transition" => {
                crate::propose::nc_transition(self, read(self.tool, arguments)?).await
            }
            other => Err(ToolError::UnknownTool {
                name: other.to_owned(),
                known: crate::tools::names(),
            }),
        }
    }

    pub(crate) fn fail(&self, error: app::AppError) -> ToolError {
        self.app_error(error)
    }

    async fn list_orders(&self, a: args::ListOrders) -> Result<Value, ToolError> {
        let limit = args::limit(a.limit).map_err(|m| ToolError::arguments(self.tool, m))?;
        let filter = store::OrderFilter {
            mode: parse_opt::<Mode>(self.tool, "mode", a.mode.as_deref())?,
            status: parse_opt::<OrderStatus>(self.tool, "status", a.status.as_deref())?,
            limit: 0,
            offset: 0,
        };
        let orders = app::plant::all_orders(self.app, self.who, filter).await;
        page(orders.map_err(|e| self.app_error(e))?, limit)
    }

    async fn schedule(&self) -> Result<Value, ToolError> {
        let plan = app::schedule::in_force::view(self.app, self.who).await;
        match plan.map_err(|e| self.app_error(e))? {
            Some(plan) => to_json(plan),
            None => Err(no_plan()),
        }
    }

    async fn explain(&self, a: args::ExplainLateness) -> Result<Value, ToolError> {
        let order = a.order_id.as_deref().map(str::trim);
        let answer = app::schedule::in_force::explain(self.app, self.who, order).await;
        match answer.map_err(|e| self.app_error(e))? {
            Some(answer) => to_json(answer),
            None => Err(no_plan()),
        }
    }

    async fn list_alerts(&self, a: args::ListAlerts) -> Result<Value, ToolError> {
        let limit = args::limit(a.limit).map_err(|m| ToolError::arguments(self.tool, m))?;
        let severity =
            parse_opt::<quality::policy::Severity>(self.tool, "severity", a.severity.as_deref())?;
        let filter = store::AlertFilter {
            characteristic: a.characteristic,
            severity: severity.map(|s| s.to_string()),
            limit: 0,
            offset: 0,
        };
        let alerts = app::quality::all_alerts(self.app, self.who, filter).await;
        page(alerts.map_err(|e| self.app_error(e))?, limit)
    }

    async fn list_holds(&self, a: args::ListHolds) -> Result<Value, ToolError> {
        let limit = args::limit(a.limit).map_err(|m| ToolError::arguments(self.tool, m))?;
        if let Some(kind) = &a.item_kind {
            app::quality::item_kind(kind, "item_kind").map_err(|e| self.app_error(e))?;
        }
        let filter = store::HoldFilter {
            active: a.active,
            item_kind: a.item_kind,
            item_id: a.item_id,
            limit: 0,
            offset: 0,
        };
        let holds = app::quality::all_holds(self.app, self.who, filter).await;
        page(holds.map_err(|e| self.app_error(e))?, limit)
    }

    async fn list_ncs(&self, a: args::ListNonconformances) -> Result<Value, ToolError> {
        let limit = args::limit(a.limit).map_err(|m| ToolError::arguments(self.tool, m))?;
        if let Some(state) = a
            .state
            .as_deref()
            .filter(|s| !app::quality::NC_STATES.contains(s))
        {
            return Err(ToolError::arguments(
                self.tool,
                format!(
                    "`state` is `{state}`; give one of {}",
                    app::quality::NC_STATES.join(", ")
                ),
            ));
        }
        let filter = store::NcFilter {
            state: a.state,
            open: a.open,
            limit: 0,
            offset: 0,
        };
        let ncs = app::quality::all_nonconformances(self.app, self.who, filter).await;
        page(ncs.map_err(|e| self.app_error(e))?, limit)
    }

    async fn gate(&self, a: args::ReleaseGate) -> Result<Value, ToolError> {
        let nonempty = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
        let item = match (nonempty(a.lot), nonempty(a.serial)) {
            (Some(lot), None) => quality::enforce::ItemRef::lot(lot.trim()),
            (None, Some(serial)) => quality::enforce::ItemRef::serial(serial.trim()),
            _ => {
                return Err(ToolError::arguments(
                    self.tool,
                    "give exactly one of `lot` or `serial`",
                ));
            }
        };
        let answer = app::quality::release_gate(self.app, self.who, item).await;
        to_json(answer.map_err(|e| self.app_error(e))?)
    }

    async fn trace(&self, a: args::Trace, direction: trace::Direction) -> Result<Value, ToolError> {
        let request = trace::TraceRequest {
            max_depth: a.max_depth,
            from: None,
            to: None,
        };
        let answer =
            app::trace::trace_item(self.app, self.who, a.id.trim(), direction, &request).await;
        to_json(answer.map_err(|e| self.app_error(e))?)
    }

    /// An optional RFC 3339 argument.
    fn instant(&self, field: &str, value: Option<&str>) -> Result<Option<Timestamp>, ToolError> {
        value
            .map(|v| {
                Timestamp::parse(v.trim())
                    .map_err(|e| ToolError::arguments(self.tool, format!("`{field}`: {e}")))
            })
            .transpose()
    }

    async fn root_cause(&self, a: args::RootCause) -> Result<Value, ToolError> {
        let request = app::quality::root_cause::RootCauseRequest {
            characteristics: a
                .characteristics
                .iter()
                .map(|c| c.trim().to_owned())
                .collect(),
            from: self.instant("from", a.from.as_deref())?,
            to: self.instant("to", a.to.as_deref())?,
            top: a.top,
            ..Default::default()
        };
        let answer = app::quality::root_cause::root_cause(self.app, self.who, request).await;
        to_json(answer.map_err(|e| self.app_error(e))?)
    }

    async fn kpis(&self, a: args::Kpis) -> Result<Value, ToolError> {
        let request = app::kpis::KpiRequest {
            from: self.instant("from", a.from.as_deref())?,
            to: self.instant("to", a.to.as_deref())?,
        };
        let answer = app::kpis::rollout(self.app, self.who, request).await;
        to_json(answer.map_err(|e| self.app_error(e))?)
    }

    async fn recall(&self, a: args::Recall) -> Result<Value, ToolError> {
        let instant = |field: &str, value: Option<&str>| self.instant(field, value);
        if a.id.is_some() == a.unit.is_some() {
            return Err(ToolError::arguments(
                self.tool,
                "give exactly one of `id` (a suspect item) or `unit` (with `from` and `to`)",
            ));
        }
        let request = trace::RecallRequest {
            from: instant("from", a.from.as_deref())?,
            to: instant("to", a.to.as_deref())?,
            id: a.id.map(|s| s.trim().to_owned()),
            unit: a.unit.map(|s| s.trim().to_owned()),
        };
        let answer = app::trace::recall(self.app, self.who, &request).await;
        to_json(answer.map_err(|e| self.app_error(e))?)
    }
}

fn no_plan() -> ToolError {
    ToolError::NotFound {
        message: "no plan is in force".into(),
        next: "a planner puts one in force first (`POST /v1/schedule/plan` or `mixplane demo`); \
               `list_orders` and `list_work_centers` still answer"
            .into(),
    }
}
