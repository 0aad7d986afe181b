//! The log's write paths: putting a plant, resetting the log, rebuilding the projections and
//! appending a batch of events, each one write transaction with its audit record. The
//! transaction holds the database's write lock and starts from the writer caught up with what
//! other processes wrote (`Inner::begin_write`): an append checks its ids against the log and
//! numbers its events in it, and a plant is only put while the log is empty as read there.
//!
//! An append folds the batch into the writer's state with an undo journal
//! ([`crate::journal`]) instead of a cloned state, and hands the backend only the events it
//! accepted and the projection rows they touched.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use model::{Catalog, Event, PlantState, Priority, Timestamp};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::backend::{
    BodyRow, ConnectorRows, EventRow, MaterialRow, OrderRow, Projection, Tx, UnitRow, Write,
};
use crate::error::{Result, StoreError};
use crate::journal::{Journal, Touched};
use crate::store::{Inner, PROJECTION_VERSION, Writer, corrupt, now_ms};
use crate::types::*;

fn priority_str(p: Priority) -> &'static str {
    match p {
        Priority::High => "high",
        Priority::Medium => "medium",
        Priority::Low => "low",
    }
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("store rows always serialise")
}

/// Projection rows for the touched keys (or, with `touched = None`, for everything).
pub(crate) fn projection<'a>(
    state: &'a PlantState,
    touched: Option<&'a Touched>,
    last_seq: i64,
    plant_version: i64,
) -> Projection<'a> {
    fn rows<'a, K: Ord + 'a, V: 'a, R>(
        map: &'a BTreeMap<K, V>,
        keys: Option<&'a std::collections::BTreeSet<K>>,
        row: impl Fn(&'a K, &'a V) -> R,
    ) -> Vec<R> {
        match keys {
            None => map.iter().map(|(k, v)| row(k, v)).collect(),
            Some(keys) => keys
                .iter()
                .filter_map(|k| map.get_key_value(k))
                .map(|(k, v)| row(k, v))
                .collect(),
        }
    }
    let orders = rows(&state.orders, touched.map(|t| &t.orders), |id, o| {
        OrderRow {
            id: id.as_str(),
            mode: o.mode.as_str(),
            status: o.status.as_str(),
            due: o.order.due.0,
            priority: priority_str(o.order.priority),
            body: to_json(o),
        }
    });
    let units = rows(&state.units, touched.map(|t| &t.units), |id, u| UnitRow {
        id: id.as_str(),
        state: u.state.as_str(),
        since: u.since.0,
        body: to_json(u),
    });
    let lots = rows(&state.lots, touched.map(|t| &t.lots), |id, l| MaterialRow {
        id: id.as_str(),
        material: l.material.as_str(),
        body: to_json(l),
    });
    let serials = rows(&state.serials, touched.map(|t| &t.serials), |id, s| {
        MaterialRow {
            id: id.as_str(),
            material: s.material.as_str(),
            body: to_json(s),
        }
    });
    let receipt_row = |id: &'a model::ReceiptId, r: &'a model::ExpectedReceipt| MaterialRow {
        id: id.as_str(),
        material: r.material.as_str(),
        body: to_json(r),
    };
    let receipts = rows(&state.receipts, touched.map(|t| &t.receipts), receipt_row);
    let attendance = rows(&state.attendance, touched.map(|t| &t.pools), |id, a| {
        BodyRow {
            id: id.as_str(),
            body: to_json(a),
        }
    });
    let mut counters: Vec<(String, i64)> = rows(
        &state.quality_results,
        touched.map(|t| &t.quality),
        |id, n| (format!("quality:{id}"), *n as i64),
    );
    counters.push(("events_applied".into(), state.events_applied as i64));
    if let Some(clock) = state.clock {
        counters.push(("clock".into(), clock.0));
    }
    counters.push(("projection_seq".into(), last_seq));
    counters.push(("projection_version".into(), PROJECTION_VERSION));
    counters.push(("projection_plant".into(), plant_version));
    Projection {
        replace_all: touched.is_none(),
        orders,
        units,
        lots,
        serials,
        receipts,
        attendance,
        counters,
    }
}

/// Stored rows `(seq, recorded_at, body)` as events.
pub(crate) fn decode_stored(rows: Vec<(i64, i64, String)>) -> Result<Vec<StoredEvent>> {
    rows.into_iter()
        .map(|(seq, recorded_at, body)| {
            let event = serde_json::from_str(&body)
                .map_err(|e| corrupt(format!("event at seq {seq}: {e}")))?;
            Ok(StoredEvent {
                seq,
                recorded_at: Timestamp(recorded_at),
                event,
            })
        })
        .collect()
}

/// Folds a batch into `state`: skips duplicates, stops at the first conflict or invalid event.
/// Returns the indexes of the events applied and the number of duplicates. On error the caller
/// undoes the journal.
fn fold_batch(
    state: &mut PlantState,
    catalog: &Catalog,
    events: &[Event],
    bodies: &[String],
    existing: &HashMap<String, (i64, String)>,
    journal: &mut Journal,
) -> Result<(Vec<usize>, usize)> {
    let mut seen: HashMap<&str, usize> = HashMap::with_capacity(events.len());
    let mut accepted = Vec::with_capacity(events.len());
    let mut duplicates = 0;
    for (index, event) in events.iter().enumerate() {
        let id = event.id.as_str();
        if let Some((seq, body)) = existing.get(id) {
            if *body == bodies[index] {
                duplicates += 1;
                continue;
            }
            return Err(StoreError::Conflict {
                index,
                id: id.to_owned(),
                where_: format!("stored at seq {seq}"),
            });
        }
        if let Some(&earlier) = seen.get(id) {
            if bodies[earlier] == bodies[index] {
                duplicates += 1;
                continue;
            }
            return Err(StoreError::Conflict {
                index,
                id: id.to_owned(),
                where_: format!("at batch index {earlier}"),
            });
        }
        journal.save(state, event);
        state
            .apply(catalog, event)
            .map_err(|source| StoreError::Invalid {
                index,
                id: id.to_owned(),
                source,
            })?;
        seen.insert(id, index);
        accepted.push(index);
    }
    Ok((accepted, duplicates))
}

fn sha256_hex(parts: impl IntoIterator<Item = impl AsRef<[u8]>>) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_ref());
        hasher.update(b"\n");
    }
    model::wire::hex(&hasher.finalize())
}

impl Inner {
    pub(crate) async fn put_plant(
        &self,
        catalog: Catalog,
        start: Option<Timestamp>,
        actor: Actor,
    ) -> Result<()> {
        let (mut guard, mut tx) = self.begin_write().await?;
        let w = &mut *guard;
        if w.events > 0 {
            return Err(StoreError::LogNotEmpty { events: w.events });
        }
        let start = start
            .or_else(|| catalog.plant().orders.iter().map(|o| o.release).min())
            .unwrap_or_else(|| Timestamp(now_ms()));
        let state = PlantState::initial(&catalog, start);
        let body = to_json(catalog.plant());
        let version = w.plant_version + 1;
        let projection = projection(&state, None, w.last_seq, version);
        let at = now_ms();
        let plant = catalog.plant();
        let detail = json!({
            "version": version,
            "start": start,
            "sha256": sha256_hex([&body]),
            "site": plant.site.id,
            "units": plant.units.len(),
            "routings": plant.routings.len(),
            "orders": plant.orders.len(),
        });
        let record = w.audit_record(
            &actor,
            "plant.put",
            format!("plant:v{version}"),
            &detail,
            at,
        );
        tx.write_log(Write {
            plant: Some((version, &body, start.0, at)),
            wipe_events: false,
            events: &[],
            projection: &projection,
            audit: &record,
        })
        .await?;
        tx.commit().await?;
        w.audited(record);
        w.catalog = Some(Arc::new(catalog));
        w.plant_version = version;
        w.start = start;
        w.state = state;
        w.snapshot_seq = 0;
        self.publish_all(w);
        Ok(())
    }

    pub(crate) async fn reset(&self, actor: Actor) -> Result<()> {
        let (mut guard, mut tx) = self.begin_write().await?;
        let w = &mut *guard;
        let state = match &w.catalog {
            Some(catalog) => PlantState::initial(catalog, w.start),
            None => PlantState::default(),
        };
        let projection = projection(&state, None, 0, w.plant_version);
        let at = now_ms();
        let detail = json!({ "events_removed": w.events, "plant_version": w.plant_version });
        let record = w.audit_record(&actor, "store.reset", "events".into(), &detail, at);
        tx.write_log(Write {
            plant: None,
            wipe_events: true,
            events: &[],
            projection: &projection,
            audit: &record,
        })
        .await?;
        tx.commit().await?;
        w.audited(record);
        w.state = state;
        w.last_seq = 0;
        w.events = 0;
        // The wipe deleted the snapshots with the log.
        w.snapshot_seq = 0;
        self.publish_all(w);
        Ok(())
    }

    /// Replays the log into a fresh state and rewrites every projection row from it.
    pub(crate) async fn rebuild(&self, actor: Actor, reason: &str) -> Result<u64> {
        let (mut guard, mut tx) = self.begin_write().await?;
        let w = &mut *guard;
        let Some(catalog) = w.catalog.clone() else {
            return Ok(0);
        };
        let mut state = PlantState::initial(&catalog, w.start);
        let replayed = crate::fold::fold_log(&mut tx, 0, |seq, event| {
            state
                .apply(&catalog, &event)
                .map_err(|source| StoreError::Replay { seq, source })
        })
        .await? as u64;
        let projection = projection(&state, None, w.last_seq, w.plant_version);
        let at = now_ms();
        let detail = json!({ "events_replayed": replayed, "reason": reason });
        let record = w.audit_record(
            &actor,
            "projections.rebuild",
            format!("projections:1-{}", w.last_seq),
            &detail,
            at,
        );
        tx.write_log(Write {
            plant: None,
            wipe_events: false,
            events: &[],
            projection: &projection,
            audit: &record,
        })
        .await?;
        // The state just folded from the whole log replaces any snapshot, which is how a
        // snapshot in doubt is repaired.
        let snapshot = crate::snapshot::snapshot_in(&mut tx, w, &state).await?;
        tx.commit().await?;
        w.audited(record);
        w.state = state;
        w.stale = false;
        if let Some(snapshot) = snapshot {
            w.snapshot_seq = snapshot.seq;
        }
        self.publish_all(w);
        Ok(replayed)
    }

    /// Appends `events`; with `connector`, also its dead letters and cursor in the same
    /// transaction (audited with the events, or alone as `connector.batch` when the batch
    /// stored no event), returning how many dead letters were new.
    pub(crate) async fn append(
        &self,
        events: &[Event],
        actor: &Actor,
        connector: Option<&mut ConnectorRows>,
    ) -> Result<(AppendOutcome, u64)> {
        let (mut guard, mut tx) = self.begin_write().await?;
        let w = &mut *guard;
        let catalog = w.catalog.clone().ok_or(StoreError::NoPlant)?;
        if events.is_empty() {
            let letters = match connector {
                Some(rows) => connector_alone(w, tx, actor, rows, 0).await?,
                None => 0,
            };
            return Ok((AppendOutcome::default(), letters));
        }
        let bodies = events
            .iter()
            .enumerate()
            .map(|(index, event)| {
                serde_json::to_string(event).map_err(|e| StoreError::Decode {
                    index,
                    message: e.to_string(),
                })
            })
            .collect::<Result<Vec<String>>>()?;
        let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
        // Read in the write transaction: an id another process stored is seen here.
        let existing = tx.existing(&ids).await?;

        // From here until the commit is acknowledged, the writer's state runs ahead of the
        // database; `stale` makes the next write reload it should this future be dropped half-way.
        w.stale = true;
        let mut journal = Journal::default();
        let (accepted, duplicates) = match fold_batch(
            &mut w.state,
            &catalog,
            events,
            &bodies,
            &existing,
            &mut journal,
        ) {
            Ok(folded) => folded,
            Err(error) => {
                journal.undo(&mut w.state);
                w.stale = false;
                return Err(error);
            }
        };
        if accepted.is_empty() {
            w.stale = false;
            let letters = match connector {
                Some(rows) => connector_alone(w, tx, actor, rows, duplicates).await?,
                None => 0,
            };
            let outcome = AppendOutcome {
                inserted: 0,
                duplicates,
                first_seq: None,
                last_seq: None,
            };
            return Ok((outcome, letters));
        }

        let first_seq = w.last_seq + 1;
        let last_seq = w.last_seq + accepted.len() as i64;
        let at = now_ms();
        let mut touched = Touched::default();
        let rows: Vec<EventRow<'_>> = accepted
            .iter()
            .zip(first_seq..)
            .map(|(&i, seq)| {
                let event = &events[i];
                touched.add(event);
                EventRow {
                    recorded_at: at,
                    seq,
                    id: event.id.as_str(),
                    kind: event.kind.type_name(),
                    time: event.time.0,
                    source: event.source.as_deref(),
                    body: bodies[i].as_str(),
                }
            })
            .collect();
        touched.receipts.extend(journal.fulfilled().iter().cloned());
        let projection = projection(&w.state, Some(&touched), last_seq, w.plant_version);
        let written_bytes = (rows.iter().map(|r| r.body.len()).sum::<usize>()
            + projection
                .orders
                .iter()
                .map(|r| r.body.len())
                .sum::<usize>()
            + projection.lots.iter().map(|r| r.body.len()).sum::<usize>()
            + projection
                .serials
                .iter()
                .map(|r| r.body.len())
                .sum::<usize>()) as u64;
        let mut detail = json!({
            "inserted": accepted.len(),
            "duplicates": duplicates,
            "first_seq": first_seq,
            "last_seq": last_seq,
            "first_id": events[accepted[0]].id,
            "last_id": events[accepted[accepted.len() - 1]].id,
            "events_sha256": sha256_hex(accepted.iter().map(|&i| &bodies[i])),
        });
        if let Some(rows) = &connector {
            detail["connector"] = connector_detail(rows);
        }
        let record = w.audit_record(
            actor,
            "events.append",
            format!("events:{first_seq}-{last_seq}"),
            &detail,
            at,
        );
        let mut letters = 0;
        let written = async {
            tx.write_log(Write {
                plant: None,
                wipe_events: false,
                events: &rows,
                projection: &projection,
                audit: &record,
            })
            .await?;
            if let Some(rows) = connector {
                rows.at = at;
                letters = tx.write_connector(rows).await?;
            }
            tx.commit().await
        }
        .await;
        if let Err(error) = written {
            // Not committed: put the state back, and still reload it before the next write in
            // case the database saw more than it reported.
            journal.undo(&mut w.state);
            return Err(error);
        }
        journal.clear();
        w.audited(record);
        w.last_seq = last_seq;
        w.events += accepted.len() as i64;
        w.stale = false;
        self.publish_batch(w, &catalog, accepted.iter().map(|&i| &events[i]));
        self.backend.wrote(written_bytes).await;
        // Committed and published above: the snapshot, when one is due, delays this batch's
        // answer but cannot undo or fail it.
        self.snapshot_if_due(w).await;
        let outcome = AppendOutcome {
            inserted: accepted.len(),
            duplicates,
            first_seq: Some(first_seq),
            last_seq: Some(last_seq),
        };
        Ok((outcome, letters))
    }
}

/// The audit detail of a connector's rows.
fn connector_detail(rows: &ConnectorRows) -> serde_json::Value {
    json!({
        "name": rows.connector,
        "cursor": rows.cursor,
        "dead_letters": rows.dead_letters.iter().map(|(id, reason, _)| json!({
            "source_id": id,
            "reason": reason,
        })).collect::<Vec<_>>(),
    })
}

/// Writes a connector's rows when its batch stored no event (all duplicates, all dead letters,
/// or none read): nothing at all when there is nothing new, else with an audit record of its
/// own, `connector.batch`.
async fn connector_alone(
    w: &mut Writer,
    mut tx: Tx,
    actor: &Actor,
    rows: &mut ConnectorRows,
    duplicates: usize,
) -> Result<u64> {
    if rows.cursor.is_none() && rows.dead_letters.is_empty() {
        return Ok(0);
    }
    let at = now_ms();
    rows.at = at;
    let mut detail = connector_detail(rows);
    detail["duplicates"] = json!(duplicates);
    let record = w.audit_record(
        actor,
        "connector.batch",
        format!("connector:{}", rows.connector),
        &detail,
        at,
    );
    let letters = tx.write_connector(rows).await?;
    tx.insert_audit(&record).await?;
    tx.commit().await?;
    w.audited(record);
    Ok(letters)
}
