//! Leadership leases on PostgreSQL, timed by the server's clock (`crate::lease`).

use sqlx::Row;
use sqlx::postgres::PgRow;

use super::{Postgres, Tx};
use crate::backend::{LeaseRow, LeaseStore, LeaseTx};
use crate::error::{Context, Result};

/// Now, in unix milliseconds, by the server's clock (the time of the statement, not of the
/// transaction's start).
const NOW: &str = "(round(extract(epoch FROM clock_timestamp()) * 1000))::bigint";

fn lease_row(row: &PgRow) -> Result<LeaseRow, sqlx::Error> {
    Ok(LeaseRow {
        epoch: row.try_get(0)?,
        holder: row.try_get(1)?,
        expires_at: row.try_get(2)?,
        now: row.try_get(3)?,
    })
}

impl LeaseStore for Postgres {
    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl_ms: i64,
    ) -> Result<Option<LeaseRow>> {
        sqlx::query(&format!(
            "INSERT INTO leases (name, epoch, holder, expires_at) VALUES ($1, 1, $2, {NOW} + $3)
             ON CONFLICT (name) DO UPDATE SET epoch = leases.epoch + 1, holder = excluded.holder,
                 expires_at = excluded.expires_at
             WHERE leases.expires_at <= {NOW} OR leases.holder = excluded.holder
             RETURNING epoch, holder, expires_at, {NOW}"
        ))
        .bind(name)
        .bind(holder)
        .bind(ttl_ms)
        .fetch_optional(&self.pool)
        .await
        .and_then(|row| row.as_ref().map(lease_row).transpose())
        .ctx("taking a lease")
    }

    async fn renew_lease(&self, name: &str, holder: &str, epoch: i64, ttl_ms: i64) -> Result<bool> {
        sqlx::query(&format!(
            "UPDATE leases SET expires_at = {NOW} + $4 WHERE name = $1 AND holder = $2 AND epoch = $3"
        ))
        .bind(name)
        .bind(holder)
        .bind(epoch)
        .bind(ttl_ms)
        .execute(&self.pool)
        .await
        .map(|done| done.rows_affected() == 1)
        .ctx("renewing a lease")
    }

    async fn release_lease(&self, name: &str, holder: &str, epoch: i64) -> Result<()> {
        sqlx::query(&format!(
            "UPDATE leases SET expires_at = {NOW} WHERE name = $1 AND holder = $2 AND epoch = $3"
        ))
        .bind(name)
        .bind(holder)
        .bind(epoch)
        .execute(&self.pool)
        .await
        .map(|_| ())
        .ctx("releasing a lease")
    }

    async fn lease(&self, name: &str) -> Result<Option<LeaseRow>> {
        sqlx::query(&format!(
            "SELECT epoch, holder, expires_at, {NOW} FROM leases WHERE name = $1"
        ))
        .bind(name)
        .fetch_optional(&self.pool)
        .await
        .and_then(|row| row.as_ref().map(lease_row).transpose())
        .ctx("reading a lease")
    }
}

impl LeaseTx for Tx {
    async fn holds_lease(&mut self, name: &str, holder: &str, epoch: i64) -> Result<bool> {
        sqlx::query("SELECT 1 FROM leases WHERE name = $1 AND holder = $2 AND epoch = $3")
            .bind(name)
            .bind(holder)
            .bind(epoch)
            .fetch_optional(&mut *self.0)
            .await
            .map(|row| row.is_some())
            .ctx("checking the writer's lease")
    }
}
