//! Copying a whole store from one database to another (`mixplane migrate-store`): every
//! table, row for row, in one transaction on each side, so the copy holds the same event log,
//! audit chain (same hashes), governance, quality, trace, plans, connectors' cursors and
//! snapshots as the original. What a table holds is not interpreted here: the backends agree
//! on table and column names, and this module lists them once with each column's kind.
//!
//! The source is read under its write lock (nothing changes it while it is copied); the
//! destination must be empty and is written in one transaction (a failed copy leaves it
//! empty). After the commit the destination is opened as a store and its audit chain
//! verified against the source's head.

use crate::error::{Result, StoreError};
use crate::store::{Store, backend_for};

/// The kind of a column's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Int,
    Text,
    Blob,
}

/// One value of a row.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    Null,
    Int(i64),
    Text(String),
    Blob(Vec<u8>),
}

/// A table and its columns, in the order rows are read and written.
#[derive(Debug)]
pub(crate) struct CopyTable {
    pub name: &'static str,
    pub columns: &'static [(&'static str, Kind)],
    /// The first column is the table's key (rows are read in pages after it); a table keyed
    /// by several columns is small and read whole.
    pub single_key: bool,
}

use Kind::{Blob, Int, Text};

macro_rules! table {
    ($name:literal, $single:expr, [$(($col:literal, $kind:expr)),* $(,)?]) => {
        CopyTable { name: $name, columns: &[$(($col, $kind)),*], single_key: $single }
    };
}

/// Every table of a store, parents before children (foreign keys hold at every insert).
pub(crate) static TABLES: &[CopyTable] = &[
    table!(
        "plants",
        true,
        [
            ("version", Int),
            ("body", Text),
            ("start", Int),
            ("created_at", Int)
        ]
    ),
    table!(
        "events",
        true,
        [
            ("seq", Int),
            ("id", Text),
            ("type", Text),
            ("time", Int),
            ("source", Text),
            ("body", Text),
            ("recorded_at", Int),
        ]
    ),
    table!("counters", true, [("name", Text), ("value", Int)]),
    table!(
        "audit",
        true,
        [
            ("seq", Int),
            ("at", Int),
            ("actor_kind", Text),
            ("actor_id", Text),
            ("action", Text),
            ("subject", Text),
            ("detail", Text),
            ("prev_hash", Text),
            ("hash", Text),
        ]
    ),
    table!(
        "orders",
        true,
        [
            ("id", Text),
            ("mode", Text),
            ("status", Text),
            ("due", Int),
            ("priority", Text),
            ("body", Text),
        ]
    ),
    table!(
        "units",
        true,
        [
            ("id", Text),
            ("state", Text),
            ("since", Int),
            ("body", Text)
        ]
    ),
    table!(
        "lots",
        true,
        [("id", Text), ("material", Text), ("body", Text)]
    ),
    table!(
        "serials",
        true,
        [("id", Text), ("material", Text), ("body", Text)]
    ),
    table!(
        "receipts",
        true,
        [("id", Text), ("material", Text), ("body", Text)]
    ),
    table!("attendance", true, [("id", Text), ("body", Text)]),
    table!(
        "quality_enforcer",
        true,
        [
            ("id", Int),
            ("cursor_seq", Int),
            ("cursor_event", Text),
            ("policy_version", Text),
            ("state", Text),
            ("updated_at", Int),
        ]
    ),
    table!(
        "quality_alerts",
        true,
        [
            ("id", Text),
            ("n", Int),
            ("characteristic", Text),
            ("severity", Text),
            ("phase", Int),
            ("at", Int),
            ("body", Text),
        ]
    ),
    table!(
        "quality_holds",
        true,
        [
            ("id", Text),
            ("n", Int),
            ("item_kind", Text),
            ("item_id", Text),
            ("link", Text),
            ("reason", Text),
            ("alert_id", Text),
            ("placed_by", Text),
            ("placed_at", Int),
            ("released_by", Text),
            ("released_at", Int),
            ("release_reason", Text),
            ("proposal_id", Text),
        ]
    ),
    table!(
        "quality_ncs",
        true,
        [
            ("id", Text),
            ("n", Int),
            ("state", Text),
            ("characteristic", Text),
            ("alert_id", Text),
            ("opened_at", Int),
            ("updated_at", Int),
            ("version", Int),
            ("body", Text),
        ]
    ),
    table!("quality_nc_items", false, [("nc_id", Text), ("item", Text)]),
    table!(
        "quality_nc_transitions",
        false,
        [
            ("nc_id", Text),
            ("seq", Int),
            ("action", Text),
            ("from_state", Text),
            ("to_state", Text),
            ("by_actor", Text),
            ("at", Int),
            ("detail", Text),
        ]
    ),
    table!(
        "principals",
        true,
        [
            ("id", Text),
            ("kind", Text),
            ("role", Text),
            ("scope", Text),
            ("created_at", Int),
            ("updated_at", Int),
        ]
    ),
    table!(
        "tokens",
        true,
        [
            ("id", Text),
            ("principal_id", Text),
            ("hash", Text),
            ("created_at", Int),
            ("revoked_at", Int),
        ]
    ),
    table!(
        "proposals",
        true,
        [
            ("id", Text),
            ("kind", Text),
            ("site", Text),
            ("area", Text),
            ("status", Text),
            ("proposed_by", Text),
            ("proposed_at", Int),
            ("expires_at", Int),
            ("version", Int),
            ("body", Text),
        ]
    ),
    table!(
        "approvals",
        false,
        [
            ("proposal_id", Text),
            ("seq", Int),
            ("principal_id", Text),
            ("role", Text),
            ("decision", Text),
            ("at", Int),
            ("comment", Text),
        ]
    ),
    table!(
        "governance_keys",
        true,
        [("name", Text), ("value", Blob), ("created_at", Int)]
    ),
    table!(
        "trace_documents",
        true,
        [
            ("seq", Int),
            ("format", Text),
            ("name", Text),
            ("sha256", Text),
            ("events", Int),
            ("recorded_at", Int),
        ]
    ),
    table!(
        "trace_events",
        true,
        [
            ("seq", Int),
            ("key", Text),
            ("event_id", Text),
            ("document", Int),
            ("type", Text),
            ("event_time", Int),
            ("recorded_at", Int),
            ("body", Text),
        ]
    ),
    table!("trace_genealogy", true, [("document", Int), ("body", Text)]),
    table!(
        "plan_versions",
        true,
        [
            ("version", Int),
            ("made_at", Int),
            ("made_by", Text),
            ("proposal", Text),
            ("basis", Int),
            ("body", Text),
        ]
    ),
    table!(
        "plan_candidates",
        true,
        [
            ("proposal_id", Text),
            ("basis", Int),
            ("created_at", Int),
            ("body", Text),
        ]
    ),
    table!(
        "connector_cursors",
        true,
        [
            ("connector", Text),
            ("cursor", Text),
            ("last_event_time", Int),
            ("updated_at", Int),
        ]
    ),
    table!(
        "connector_dead_letters",
        true,
        [
            ("seq", Int),
            ("connector", Text),
            ("source_id", Text),
            ("reason", Text),
            ("raw", Text),
            ("at", Int),
        ]
    ),
    table!(
        "state_snapshots",
        true,
        [
            ("seq", Int),
            ("plant_version", Int),
            ("event_id", Text),
            ("events", Int),
            ("layout", Text),
            ("digest", Text),
            ("body", Blob),
            ("created_at", Int),
        ]
    ),
];

/// Rows read per page of a table.
const PAGE: i64 = 5_000;

/// What a copy moved and found on arrival.
#[derive(Debug, Clone)]
pub struct CopyReport {
    /// `(table, rows)` for every table, in copy order.
    pub tables: Vec<(&'static str, u64)>,
    /// Audit records verified on arrival.
    pub audit_records: u64,
    /// The hash of the last audit record, the same on both sides (none for an empty trail).
    pub audit_head: Option<String>,
    /// Events in the copied log.
    pub events: u64,
}

impl Store {
    /// Copies the store at `from` into the empty store at `to` (any two database URLs that
    /// [`Store::open`] takes), then opens the copy and verifies its audit chain: the copy is
    /// refused unless every record verifies and its head is the source's.
    pub async fn copy_store(from: &str, to: &str) -> Result<CopyReport> {
        let source = backend_for(from).await?;
        let target = backend_for(to).await?;
        let mut read = source.begin().await?;
        let source_head = read.audit_head().await?;
        let mut write = target.begin().await?;
        for table in TABLES {
            let rows = write.row_count(table).await?;
            if rows > 0 {
                return Err(StoreError::CopyRefused(format!(
                    "the destination is not an empty store: its table `{}` holds {rows} rows",
                    table.name
                )));
            }
        }
        let mut tables = Vec::with_capacity(TABLES.len());
        for table in TABLES {
            let mut after = None;
            let mut copied = 0u64;
            loop {
                let rows = read.export_rows(table, after.clone(), PAGE).await?;
                if rows.is_empty() {
                    break;
                }
                write.import_rows(table, &rows).await?;
                copied += rows.len() as u64;
                if !table.single_key || (rows.len() as i64) < PAGE {
                    break;
                }
                after = rows.last().map(|row| row[0].clone());
            }
            tables.push((table.name, copied));
        }
        write.finish_import().await?;
        write.commit().await?;
        read.rollback().await?;
        drop((source, target));

        let copy = Store::open(to).await?;
        let report = copy.verify_audit().await?;
        if let Some(bad) = &report.first_bad {
            return Err(StoreError::Corrupt(format!(
                "the copy's audit chain does not verify at record {}: {:?}",
                bad.seq, bad.fault
            )));
        }
        let source_hash = source_head.map(|(_, hash)| hash);
        if report.head_hash != source_hash {
            return Err(StoreError::Corrupt(format!(
                "the copy's audit head {:?} is not the source's {source_hash:?}",
                report.head_hash
            )));
        }
        let rows_of = |name: &str| {
            tables
                .iter()
                .find(|(table, _)| *table == name)
                .map_or(0, |(_, rows)| *rows)
        };
        Ok(CopyReport {
            audit_records: report.records,
            events: rows_of("events"),
            audit_head: report.head_hash,
            tables,
        })
    }
}
