//! Whole tables row for row on SQLite, for copying a store (`crate::copy`).

use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::Tx;
use crate::backend::CopyTx;
use crate::copy::{Cell, CopyTable, Kind};
use crate::error::{Context, Result};

/// SQLite's bound on a statement's parameters (32,766 since 3.32), with room to spare.
const MAX_PARAMS: usize = 30_000;

fn columns(table: &CopyTable) -> String {
    table
        .columns
        .iter()
        .map(|(name, _)| format!("\"{name}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

fn decode(table: &CopyTable, row: &SqliteRow) -> Result<Vec<Cell>, sqlx::Error> {
    table
        .columns
        .iter()
        .enumerate()
        .map(|(i, (_, kind))| {
            Ok(match kind {
                Kind::Int => row
                    .try_get::<Option<i64>, _>(i)?
                    .map_or(Cell::Null, Cell::Int),
                Kind::Text => row
                    .try_get::<Option<String>, _>(i)?
                    .map_or(Cell::Null, Cell::Text),
                Kind::Blob => row
                    .try_get::<Option<Vec<u8>>, _>(i)?
                    .map_or(Cell::Null, Cell::Blob),
            })
        })
        .collect()
}

impl CopyTx for Tx {
    async fn export_rows(
        &mut self,
        table: &'static CopyTable,
        after: Option<Cell>,
        limit: i64,
    ) -> Result<Vec<Vec<Cell>>> {
        let cols = columns(table);
        let key = table.columns[0].0;
        let name = table.name;
        let rows = if !table.single_key {
            sqlx::query(&format!("SELECT {cols} FROM {name}"))
                .fetch_all(&mut *self.0)
                .await
        } else {
            let sql = match after {
                None => format!("SELECT {cols} FROM {name} ORDER BY \"{key}\" LIMIT ?1"),
                Some(_) => format!(
                    "SELECT {cols} FROM {name} WHERE \"{key}\" > ?2 ORDER BY \"{key}\" LIMIT ?1"
                ),
            };
            let query = sqlx::query(&sql).bind(limit);
            let query = match after {
                None | Some(Cell::Null) => query,
                Some(Cell::Int(v)) => query.bind(v),
                Some(Cell::Text(v)) => query.bind(v),
                Some(Cell::Blob(v)) => query.bind(v),
            };
            query.fetch_all(&mut *self.0).await
        }
        .ctx("reading a table to copy")?;
        rows.iter()
            .map(|row| decode(table, row))
            .collect::<Result<_, sqlx::Error>>()
            .ctx("reading a table to copy")
    }

    async fn import_rows(&mut self, table: &'static CopyTable, rows: &[Vec<Cell>]) -> Result<()> {
        let width = table.columns.len();
        let per_statement = (MAX_PARAMS / width).max(1);
        for chunk in rows.chunks(per_statement) {
            let one = format!("({})", vec!["?"; width].join(", "));
            let sql = format!(
                "INSERT INTO {} ({}) VALUES {}",
                table.name,
                columns(table),
                vec![one; chunk.len()].join(", ")
            );
            let mut query = sqlx::query(&sql);
            for row in chunk {
                for (cell, (_, kind)) in row.iter().zip(table.columns) {
                    query = match (cell, kind) {
                        (Cell::Int(v), _) => query.bind(*v),
                        (Cell::Text(v), _) => query.bind(v.as_str()),
                        (Cell::Blob(v), _) => query.bind(v.as_slice()),
                        (Cell::Null, Kind::Int) => query.bind(None::<i64>),
                        (Cell::Null, Kind::Text) => query.bind(None::<String>),
                        (Cell::Null, Kind::Blob) => query.bind(None::<Vec<u8>>),
                    };
                }
            }
            query
                .execute(&mut *self.0)
                .await
                .ctx("writing a copied table")?;
        }
        Ok(())
    }

    async fn row_count(&mut self, table: &'static CopyTable) -> Result<i64> {
        sqlx::query(&format!("SELECT COUNT(*) FROM {}", table.name))
            .fetch_one(&mut *self.0)
            .await
            .and_then(|row| row.try_get(0))
            .ctx("counting a table's rows")
    }

    async fn finish_import(&mut self) -> Result<()> {
        // An explicit key past the largest moves SQLite's AUTOINCREMENT counter by itself.
        Ok(())
    }
}
