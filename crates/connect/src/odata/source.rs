//! The OData change-feed source: one app's entity set read by its modified time.
//!
//! Each poll asks for the rows after the cursor (`$filter`, `$orderby={modified},Id`,
//! `$top`), maps them, and hands them to the runner with the last row as the new cursor. A
//! server that pages by itself answers fewer rows and an `@odata.nextLink`: the source reads
//! that as "more" and continues from its own cursor at once, rather than from the link's
//! `$skiptoken` — CAP's (and many servers') skiptokens are offsets, and an offset walks past
//! a row when an earlier one changes between two pages; the cursor cannot.

use std::future::Future;

use model::Event;
use serde_json::Value;

use super::config::{ConfigError, OdataConfig};
use super::cursor::{Cursor, check_guid, check_timestamp, encode_query_value};
use super::http::{AuthCounts, Credentials, Peer};
use crate::source::{Batch, PeerError, Record, Source};

/// Maps the rows of one page to events (or why each is not mapped). `connect::odata::ProfileMapper`
/// is the `opcenter` profile over what the store knows.
pub trait RowMapper: Send + Sync {
    fn map_rows(
        &self,
        app: &str,
        entity_set: &str,
        rows: &[Value],
    ) -> impl Future<Output = Vec<Result<Vec<Event>, Unmapped>>> + Send;
}

/// Why a row was not mapped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unmapped {
    /// It never will be: the row is dead-lettered with this reason.
    Refused(String),
    /// It refers to something not stored yet (a work order another connector reads): the
    /// source holds its cursor before the row and reads it again at the next poll, up to
    /// `max_waiting_polls` times (the configuration's), then dead-letters it with this reason.
    Waiting(String),
}

/// One page of the change feed, before mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub rows: Vec<Value>,
    /// The last row's position; `None` when the page is empty.
    pub cursor: Option<Cursor>,
    /// The server has more after this page.
    pub more: bool,
}

/// Reads an entity set's change feed (no mapping): the HTTP half of the source.
pub struct ChangeReader {
    config: OdataConfig,
    url: reqwest::Url,
    peer: Peer,
}

impl ChangeReader {
    /// Checks the configuration and reads its secrets.
    pub fn new(config: OdataConfig) -> Result<ChangeReader, ConfigError> {
        config.validate()?;
        let credentials = Credentials::resolve(&config.base_url, &config.auth)?;
        let url = config.entity_set_url()?;
        let peer = Peer::new(credentials, config.timeout()).map_err(|e| ConfigError {
            setting: "base_url".into(),
            message: e.to_string(),
        })?;
        Ok(ChangeReader { config, url, peer })
    }

    pub fn config(&self) -> &OdataConfig {
        &self.config
    }

    /// How often this reader signed in and refreshed its token.
    pub fn auth_counts(&self) -> AuthCounts {
        self.peer.counts
    }

    /// The request reading the rows after `cursor`.
    pub fn page_url(&self, cursor: Option<&Cursor>) -> reqwest::Url {
        let modified = &self.config.modified_property;
        let mut query = Vec::new();
        if let Some(cursor) = cursor {
            query.push(format!(
                "$filter={}",
                encode_query_value(&cursor.filter(modified))
            ));
        }
        query.push(format!(
            "$orderby={}",
            encode_query_value(&format!("{modified},Id"))
        ));
        query.push(format!("$top={}", self.config.page_size));
        let mut url = self.url.clone();
        url.set_query(Some(&query.join("&")));
        url
    }

    /// Reads the page after a stored cursor (or from the configured start).
    pub async fn read_after(&mut self, cursor: Option<&str>) -> Result<Page, PeerError> {
        let cursor = match cursor {
            Some(text) => Some(Cursor::parse(text).map_err(|e| {
                PeerError::Broken(format!("the stored cursor cannot be read: {e}"))
            })?),
            None => self
                .config
                .start_after
                .clone()
                .map(|modified| Cursor { modified, id: None }),
        };
        let url = self.page_url(cursor.as_ref());
        let body = self.peer.get_json(&url).await?;
        self.page_of(&url, body)
    }

    /// Checks an answer is a page of the change feed in order.
    fn page_of(&self, url: &reqwest::Url, mut body: Value) -> Result<Page, PeerError> {
        let broken = |what: String| PeerError::Broken(format!("{url}: {what}"));
        let more = match body.get("@odata.nextLink") {
            None | Some(Value::Null) => false,
            Some(Value::String(_)) => true,
            Some(other) => return Err(broken(format!("@odata.nextLink is {other}, not a URL"))),
        };
        let rows = match body.get_mut("value").map(Value::take) {
            Some(Value::Array(rows)) => rows,
            Some(other) => {
                return Err(broken(format!(
                    "`value` is {}, not an array",
                    kind_of(&other)
                )));
            }
            None => return Err(broken("the answer has no `value` array of rows".into())),
        };
        let modified = &self.config.modified_property;
        let mut last: Option<(jiff::Timestamp, Cursor)> = None;
        for (index, row) in rows.iter().enumerate() {
            let field = |name: &str| -> Result<String, PeerError> {
                match row.get(name) {
                    Some(Value::String(text)) => Ok(text.clone()),
                    Some(other) => Err(broken(format!(
                        "row {index}: `{name}` is {other}, not a string"
                    ))),
                    None => Err(broken(format!("row {index} has no `{name}`"))),
                }
            };
            let time = field(modified)?;
            let id = field("Id")?;
            check_timestamp(&time)
                .map_err(|e| broken(format!("row {index}: `{modified}`: {e}")))?;
            check_guid(&id).map_err(|e| broken(format!("row {index}: `Id`: {e}")))?;
            let instant: jiff::Timestamp = time.parse().map_err(|e| broken(format!("{e}")))?;
            if let Some((previous, _)) = &last
                && instant < *previous
            {
                return Err(broken(format!(
                    "row {index} is out of order: `{modified}` {time} comes after a later one; \
                     the peer does not honour $orderby"
                )));
            }
            last = Some((
                instant,
                Cursor {
                    modified: time,
                    id: Some(id),
                },
            ));
        }
        let full = rows.len() >= self.config.page_size as usize;
        Ok(Page {
            more: more || full,
            cursor: last.map(|(_, cursor)| cursor),
            rows,
        })
    }

    /// Signs in and reads one row.
    pub async fn check(&mut self) -> Result<(), PeerError> {
        let mut url = self.url.clone();
        url.set_query(Some("$top=1"));
        let body = self.peer.get_json(&url).await?;
        match body.get("value") {
            Some(Value::Array(_)) => Ok(()),
            _ => Err(PeerError::Broken(format!(
                "{url}: the answer has no `value` array of rows"
            ))),
        }
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The OData source the runner polls: a [`ChangeReader`] and a [`RowMapper`].
pub struct OdataSource<M> {
    name: String,
    reader: ChangeReader,
    mapper: M,
    /// The row the feed waits at (its source id) and how many polls it has waited.
    waiting: Option<(String, u32)>,
}

impl<M: RowMapper> OdataSource<M> {
    pub fn new(
        name: impl Into<String>,
        config: OdataConfig,
        mapper: M,
    ) -> Result<Self, ConfigError> {
        Ok(OdataSource {
            name: name.into(),
            reader: ChangeReader::new(config)?,
            mapper,
            waiting: None,
        })
    }

    pub fn reader(&self) -> &ChangeReader {
        &self.reader
    }
}

impl<M: RowMapper> Source for OdataSource<M> {
    fn name(&self) -> &str {
        &self.name
    }

    async fn poll(&mut self, cursor: Option<&str>) -> Result<Batch, PeerError> {
        let page = self.reader.read_after(cursor).await?;
        let config = self.reader.config();
        let (app, set) = (config.app.clone(), config.entity_set.clone());
        let modified = config.modified_property.clone();
        let max_waiting = config.max_waiting_polls;
        let mapped = self.mapper.map_rows(&app, &set, &page.rows).await;
        if mapped.len() != page.rows.len() {
            return Err(PeerError::Broken(format!(
                "the mapper answered {} results for {} rows",
                mapped.len(),
                page.rows.len()
            )));
        }
        // Both fields were checked to be strings by `read_after`.
        let text = |raw: &Value, field: &str| raw[field].as_str().unwrap_or_default().to_owned();
        let mut records: Vec<Record> = Vec::with_capacity(page.rows.len());
        let mut cursor = page.cursor.map(|c| c.to_string());
        let mut more = page.more;
        let mut held = false;
        for (raw, mapped) in page.rows.into_iter().zip(mapped) {
            let source_id = format!(
                "{app}/{set}({})@{}",
                text(&raw, "Id"),
                text(&raw, &modified)
            );
            let mapped = match mapped {
                Ok(events) => Ok(events),
                Err(Unmapped::Refused(reason)) => Err(reason),
                Err(Unmapped::Waiting(reason)) => {
                    let waited = match &self.waiting {
                        Some((row, polls)) if *row == source_id => *polls,
                        _ => 0,
                    };
                    if waited < max_waiting {
                        // Hold the cursor before this row: the records before it are
                        // stored, this one and those after it are read again next poll.
                        self.waiting = Some((source_id, waited + 1));
                        cursor = records.last().map(|r| {
                            Cursor {
                                modified: text(&r.raw, &modified),
                                id: Some(text(&r.raw, "Id")),
                            }
                            .to_string()
                        });
                        more = false;
                        held = true;
                        break;
                    }
                    Err(format!("{reason} (still, after {max_waiting} polls)"))
                }
            };
            records.push(Record {
                source_id,
                mapped,
                raw,
            });
        }
        if !held {
            self.waiting = None;
        }
        Ok(Batch {
            records,
            cursor,
            more,
        })
    }

    async fn check(&mut self) -> Result<(), PeerError> {
        self.reader.check().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reader() -> ChangeReader {
        let config: OdataConfig = serde_json::from_value(json!({
            "base_url": "http://127.0.0.1:9",
            "app": "Equipment",
            "entity_set": "EquipmentStatusHistory",
            "page_size": 10,
        }))
        .unwrap();
        ChangeReader::new(config).unwrap()
    }

    const ID: &str = "5f50f112-4536-5e2a-ab01-4fbf7a4c939a";

    #[test]
    fn only_a_row_without_a_usable_id_or_stamp_breaks_the_page() {
        let reader = reader();
        let url = reader.page_url(None);
        // A row the profile cannot map (an unknown status, nothing else) is a page row like
        // any: the source maps it and the runner dead-letters it; the cursor moves past it.
        let poison =
            json!({"Id": ID, "ModifiedOn": "2026-03-02T06:00:00.001Z", "Status": "Exploded"});
        let page = reader
            .page_of(&url, json!({"value": [poison.clone()]}))
            .unwrap();
        assert_eq!(page.rows, [poison]);
        assert_eq!(page.cursor.unwrap().id.as_deref(), Some(ID));
        for (row, named) in [
            (json!({"ModifiedOn": "2026-03-02T06:00:00.001Z"}), "`Id`"),
            (
                json!({"Id": 7, "ModifiedOn": "2026-03-02T06:00:00.001Z"}),
                "`Id`",
            ),
            (
                json!({"Id": "row-1", "ModifiedOn": "2026-03-02T06:00:00.001Z"}),
                "`Id`",
            ),
            (json!({"Id": ID}), "`ModifiedOn`"),
            (json!({"Id": ID, "ModifiedOn": "yesterday"}), "`ModifiedOn`"),
        ] {
            match reader.page_of(&url, json!({"value": [row]})) {
                Err(PeerError::Broken(message)) => assert!(message.contains(named), "{message}"),
                other => panic!("{row}: not Broken but {other:?}"),
            }
        }
    }
}
