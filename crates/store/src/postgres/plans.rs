//! Plan versions and proposals' candidate plans on PostgreSQL.

use sqlx::Row;
use sqlx::postgres::PgRow;

use super::{Postgres, Tx};
use crate::backend::{PlanRow, PlanStore, PlanTx};
use crate::error::{Context, Result};

const COLUMNS: &str = "version, made_at, made_by, proposal, basis, body";

fn plan_row(row: &PgRow) -> Result<PlanRow> {
    let read = "reading a plan version";
    Ok(PlanRow {
        version: row.try_get(0).ctx(read)?,
        made_at: row.try_get(1).ctx(read)?,
        made_by: row.try_get(2).ctx(read)?,
        proposal: row.try_get(3).ctx(read)?,
        basis: row.try_get(4).ctx(read)?,
        body: row.try_get(5).ctx(read)?,
    })
}

impl PlanStore for Postgres {
    async fn plan_latest(&self) -> Result<Option<PlanRow>> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM plan_versions ORDER BY version DESC LIMIT 1"
        ))
        .fetch_optional(&self.pool)
        .await
        .ctx("reading the plan in force")?
        .as_ref()
        .map(plan_row)
        .transpose()
    }

    async fn plan_version(&self, version: i64) -> Result<Option<PlanRow>> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM plan_versions WHERE version = $1"
        ))
        .bind(version)
        .fetch_optional(&self.pool)
        .await
        .ctx("reading a plan version")?
        .as_ref()
        .map(plan_row)
        .transpose()
    }

    async fn plan_versions(&self, before: i64, limit: i64) -> Result<Vec<PlanRow>> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM plan_versions WHERE version < $1 ORDER BY version DESC LIMIT $2"
        ))
        .bind(before)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .ctx("reading plan versions")?
        .iter()
        .map(plan_row)
        .collect()
    }

    async fn plan_of_proposal(&self, proposal: &str) -> Result<Option<PlanRow>> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM plan_versions WHERE proposal = $1
             ORDER BY version DESC LIMIT 1"
        ))
        .bind(proposal)
        .fetch_optional(&self.pool)
        .await
        .ctx("reading a proposal's plan version")?
        .as_ref()
        .map(plan_row)
        .transpose()
    }

    async fn plan_candidate(&self, proposal: &str) -> Result<Option<(Option<i64>, i64, String)>> {
        let row = sqlx::query(
            "SELECT basis, created_at, body FROM plan_candidates WHERE proposal_id = $1",
        )
        .bind(proposal)
        .fetch_optional(&self.pool)
        .await
        .ctx("reading a candidate plan")?;
        let Some(row) = row else { return Ok(None) };
        let read = "reading a candidate plan";
        Ok(Some((
            row.try_get(0).ctx(read)?,
            row.try_get(1).ctx(read)?,
            row.try_get(2).ctx(read)?,
        )))
    }

    async fn pending_candidates_before(&self, version: i64) -> Result<Vec<String>> {
        sqlx::query(
            "SELECT c.proposal_id FROM plan_candidates c JOIN proposals p ON p.id = c.proposal_id
             WHERE p.status IN ('proposed', 'approved') AND (c.basis IS NULL OR c.basis < $1)
             ORDER BY p.proposed_at, p.id",
        )
        .bind(version)
        .fetch_all(&self.pool)
        .await
        .ctx("reading pending candidate plans")?
        .iter()
        .map(|row| row.try_get(0).ctx("reading pending candidate plans"))
        .collect()
    }
}

impl PlanTx for Tx {
    async fn insert_plan_version(&mut self, row: &PlanRow) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO plan_versions (version, made_at, made_by, proposal, basis, body)
             SELECT $1, $2, $3, $4, $5, $6
             WHERE (SELECT COALESCE(MAX(version), 0) FROM plan_versions) = $1 - 1",
        )
        .bind(row.version)
        .bind(row.made_at)
        .bind(&row.made_by)
        .bind(&row.proposal)
        .bind(row.basis)
        .bind(&row.body)
        .execute(&mut *self.0)
        .await
        .ctx("writing a plan version")?;
        Ok(done.rows_affected() > 0)
    }

    async fn insert_plan_candidate(
        &mut self,
        proposal: &str,
        basis: Option<i64>,
        at: i64,
        body: &str,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO plan_candidates (proposal_id, basis, created_at, body)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (proposal_id) DO UPDATE SET basis = excluded.basis,
                 created_at = excluded.created_at, body = excluded.body",
        )
        .bind(proposal)
        .bind(basis)
        .bind(at)
        .bind(body)
        .execute(&mut *self.0)
        .await
        .ctx("writing a candidate plan")?;
        Ok(())
    }

    async fn clear_plans(&mut self) -> Result<()> {
        for sql in ["DELETE FROM plan_candidates", "DELETE FROM plan_versions"] {
            sqlx::query(sql)
                .execute(&mut *self.0)
                .await
                .ctx("clearing plans")?;
        }
        Ok(())
    }
}
