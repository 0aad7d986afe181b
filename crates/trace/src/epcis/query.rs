//! EPCIS 2.0 `SimpleEventQuery` parameters: read from a query document (JSON) or from REST
//! query-string pairs, and matched against events.
//!
//! Supported: `eventType`, `GE_/LT_eventTime`, `GE_/LT_recordTime`, `EQ_action`,
//! `EQ_bizStep`, `EQ_disposition`, `EQ_readPoint`, `EQ_bizLocation`, `EQ_eventID`,
//! `MATCH_epc`, `MATCH_anyEPC`, `MATCH_parentID`, `MATCH_inputEPC`, `MATCH_outputEPC`,
//! `MATCH_epcClass`, `GE_/LT_quantity`, `orderBy` (`eventTime`, `recordTime`),
//! `orderDirection`, `eventCountLimit`, `perPage`, `nextPageToken`. Identifier and CBV
//! values are normalised like imported events, so any spelling matches. An unknown parameter
//! is an error naming it.

use model::Timestamp;
use serde_json::Value;

use super::{Action, EpcisEvent, EventType, Vocab, canonical};

/// A parsed query.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventQuery {
    pub event_types: Vec<EventType>,
    pub ge_event_time: Option<Timestamp>,
    pub lt_event_time: Option<Timestamp>,
    pub ge_record_time: Option<Timestamp>,
    pub lt_record_time: Option<Timestamp>,
    pub actions: Vec<Action>,
    pub biz_steps: Vec<String>,
    pub dispositions: Vec<String>,
    pub read_points: Vec<String>,
    pub biz_locations: Vec<String>,
    pub event_ids: Vec<String>,
    pub match_epc: Vec<String>,
    pub match_any_epc: Vec<String>,
    pub match_parent_id: Vec<String>,
    pub match_input_epc: Vec<String>,
    pub match_output_epc: Vec<String>,
    pub match_epc_class: Vec<String>,
    pub ge_quantity: Option<f64>,
    pub lt_quantity: Option<f64>,
    /// Order by record time instead of event time.
    pub order_by_record_time: bool,
    pub descending: bool,
    pub event_count_limit: Option<usize>,
    pub per_page: Option<usize>,
    pub next_page_token: Option<String>,
}

/// A parameter that is unknown or malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("query parameter `{parameter}`: {message}")]
pub struct QueryParamError {
    pub parameter: String,
    pub message: String,
}

fn bad(parameter: &str, message: impl Into<String>) -> QueryParamError {
    QueryParamError {
        parameter: parameter.to_owned(),
        message: message.into(),
    }
}

impl EventQuery {
    /// Reads a `SimpleEventQuery` JSON object (values as strings, numbers or arrays).
    pub fn from_json(value: &Value) -> Result<EventQuery, QueryParamError> {
        let object = value
            .as_object()
            .ok_or_else(|| bad("", "expected a JSON object"))?;
        let mut query = EventQuery::default();
        for (key, v) in object {
            if key.starts_with('@') || key == "queryType" {
                continue;
            }
            let values: Vec<String> = match v {
                Value::Array(items) => items
                    .iter()
                    .map(|i| match i {
                        Value::String(s) => Ok(s.clone()),
                        Value::Number(n) => Ok(n.to_string()),
                        _ => Err(bad(key, "expected strings or numbers")),
                    })
                    .collect::<Result<_, _>>()?,
                Value::String(s) => vec![s.clone()],
                Value::Number(n) => vec![n.to_string()],
                Value::Bool(b) => vec![b.to_string()],
                _ => return Err(bad(key, "expected a string, a number or an array")),
            };
            query.set(key, values)?;
        }
        Ok(query)
    }

    /// Reads REST query-string pairs; list values may be separated by `,` or `|`.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<EventQuery, QueryParamError> {
        let mut query = EventQuery::default();
        for (key, value) in pairs {
            let values = if matches!(
                key,
                "GE_eventTime"
                    | "LT_eventTime"
                    | "GE_recordTime"
                    | "LT_recordTime"
                    | "nextPageToken"
            ) {
                vec![value.to_owned()]
            } else {
                value
                    .split([',', '|'])
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            };
            query.set(key, values)?;
        }
        Ok(query)
    }

    fn set(&mut self, key: &str, values: Vec<String>) -> Result<(), QueryParamError> {
        let one = |values: &[String]| -> Result<String, QueryParamError> {
            match values {
                [v] => Ok(v.clone()),
                _ => Err(bad(key, "expected one value")),
            }
        };
        let time = |values: &[String]| -> Result<Timestamp, QueryParamError> {
            let v = one(values)?;
            Timestamp::parse(&v).map_err(|e| bad(key, e.to_string()))
        };
        let number = |values: &[String]| -> Result<f64, QueryParamError> {
            let v = one(values)?;
            v.parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .ok_or_else(|| bad(key, format!("`{v}` is not a number")))
        };
        let count = |values: &[String]| -> Result<usize, QueryParamError> {
            let v = one(values)?;
            v.parse::<usize>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| bad(key, format!("`{v}` is not a positive integer")))
        };
        let ids = |values: Vec<String>| -> Result<Vec<String>, QueryParamError> {
            values
                .iter()
                .map(|v| canonical(v).map_err(|e| bad(key, e)))
                .collect()
        };
        match key {
            "eventType" => {
                self.event_types = values
                    .iter()
                    .map(|v| {
                        EventType::from_name(v)
                            .ok_or_else(|| bad(key, format!("unknown event type `{v}`")))
                    })
                    .collect::<Result<_, _>>()?
            }
            "GE_eventTime" => self.ge_event_time = Some(time(&values)?),
            "LT_eventTime" => self.lt_event_time = Some(time(&values)?),
            "GE_recordTime" => self.ge_record_time = Some(time(&values)?),
            "LT_recordTime" => self.lt_record_time = Some(time(&values)?),
            "EQ_action" => {
                self.actions = values
                    .iter()
                    .map(|v| {
                        Action::from_name(v)
                            .ok_or_else(|| bad(key, format!("`{v}` is not ADD, OBSERVE or DELETE")))
                    })
                    .collect::<Result<_, _>>()?
            }
            "EQ_bizStep" => {
                self.biz_steps = values.iter().map(|v| Vocab::BizStep.shorten(v)).collect()
            }
            "EQ_disposition" => {
                self.dispositions = values
                    .iter()
                    .map(|v| Vocab::Disposition.shorten(v))
                    .collect()
            }
            "EQ_readPoint" => self.read_points = ids(values)?,
            "EQ_bizLocation" => self.biz_locations = ids(values)?,
            "EQ_eventID" => self.event_ids = values,
            "MATCH_epc" => self.match_epc = ids(values)?,
            "MATCH_anyEPC" => self.match_any_epc = ids(values)?,
            "MATCH_parentID" => self.match_parent_id = ids(values)?,
            "MATCH_inputEPC" => self.match_input_epc = ids(values)?,
            "MATCH_outputEPC" => self.match_output_epc = ids(values)?,
            "MATCH_epcClass" => self.match_epc_class = ids(values)?,
            "GE_quantity" => self.ge_quantity = Some(number(&values)?),
            "LT_quantity" => self.lt_quantity = Some(number(&values)?),
            "orderBy" => {
                let v = one(&values)?;
                self.order_by_record_time = match v.as_str() {
                    "eventTime" => false,
                    "recordTime" => true,
                    _ => return Err(bad(key, "expected eventTime or recordTime")),
                }
            }
            "orderDirection" => {
                let v = one(&values)?;
                self.descending = match v.as_str() {
                    "ASC" => false,
                    "DESC" => true,
                    _ => return Err(bad(key, "expected ASC or DESC")),
                }
            }
            "eventCountLimit" => self.event_count_limit = Some(count(&values)?),
            "perPage" => self.per_page = Some(count(&values)?),
            "nextPageToken" => self.next_page_token = Some(one(&values)?),
            other => return Err(bad(other, "unknown or unsupported query parameter")),
        }
        Ok(())
    }

    /// Whether `event` satisfies every condition (paging and ordering aside).
    pub fn matches(&self, e: &EpcisEvent) -> bool {
        fn any<'a>(wanted: &[String], mut have: impl Iterator<Item = &'a String>) -> bool {
            wanted.is_empty() || have.any(|h| wanted.contains(h))
        }
        let quantities = || {
            e.quantity_list
                .iter()
                .chain(&e.child_quantity_list)
                .chain(&e.input_quantity_list)
                .chain(&e.output_quantity_list)
        };
        (self.event_types.is_empty() || self.event_types.contains(&e.event_type))
            && self.ge_event_time.is_none_or(|t| e.event_time >= t)
            && self.lt_event_time.is_none_or(|t| e.event_time < t)
            && self
                .ge_record_time
                .is_none_or(|t| e.record_time.is_some_and(|r| r >= t))
            && self
                .lt_record_time
                .is_none_or(|t| e.record_time.is_some_and(|r| r < t))
            && (self.actions.is_empty() || e.action.is_some_and(|a| self.actions.contains(&a)))
            && any(&self.biz_steps, &mut e.biz_step.iter())
            && any(&self.dispositions, &mut e.disposition.iter())
            && any(&self.read_points, &mut e.read_point.iter())
            && any(&self.biz_locations, &mut e.biz_location.iter())
            && any(&self.event_ids, &mut std::iter::once(&e.event_id))
            && any(&self.match_epc, &mut e.epc_list.iter().chain(&e.child_epcs))
            && any(
                &self.match_any_epc,
                &mut e
                    .epc_list
                    .iter()
                    .chain(&e.child_epcs)
                    .chain(&e.parent_id)
                    .chain(&e.input_epc_list)
                    .chain(&e.output_epc_list),
            )
            && any(&self.match_parent_id, &mut e.parent_id.iter())
            && any(&self.match_input_epc, &mut e.input_epc_list.iter())
            && any(&self.match_output_epc, &mut e.output_epc_list.iter())
            && any(
                &self.match_epc_class,
                &mut quantities().map(|q| &q.epc_class),
            )
            && self
                .ge_quantity
                .is_none_or(|g| quantities().any(|q| q.quantity.is_some_and(|x| x >= g)))
            && self
                .lt_quantity
                .is_none_or(|l| quantities().any(|q| q.quantity.is_some_and(|x| x < l)))
    }
}
