//! Principals, tokens, proposals and the pseudonym key on PostgreSQL.

use sqlx::Row;
use sqlx::postgres::PgRow;

use super::{Postgres, Tx};
use crate::backend::{GovernanceRow, GovernanceStore, GovernanceTx, PrincipalRow};
use crate::error::{Context, Result};
use crate::govern::ProposalFilter;

fn principal_row(row: &PgRow) -> Result<PrincipalRow> {
    let get = |i: usize| row.try_get::<String, _>(i).ctx("reading a principal");
    Ok(PrincipalRow {
        id: get(0)?,
        kind: get(1)?,
        role: get(2)?,
        scope: get(3)?,
    })
}

fn proposal_row(row: &PgRow) -> Result<(String, i64)> {
    let body: String = row.try_get(0).ctx("reading a proposal")?;
    let version: i64 = row.try_get(1).ctx("reading a proposal")?;
    Ok((body, version))
}

impl GovernanceStore for Postgres {
    async fn live_tokens(&self, principal: &str) -> Result<i64> {
        sqlx::query("SELECT COUNT(*) FROM tokens WHERE principal_id = $1 AND revoked_at IS NULL")
            .bind(principal)
            .fetch_one(&self.pool)
            .await
            .and_then(|row| row.try_get(0))
            .ctx("counting tokens")
    }

    async fn token_hash(&self, token_id: &str) -> Result<Option<String>> {
        sqlx::query("SELECT hash FROM tokens WHERE id = $1 AND revoked_at IS NULL")
            .bind(token_id)
            .fetch_optional(&self.pool)
            .await
            .ctx("looking up a token")?
            .map(|row| row.try_get(0))
            .transpose()
            .ctx("looking up a token")
    }

    async fn token_principal(&self, token_id: &str) -> Result<Option<PrincipalRow>> {
        sqlx::query(
            "SELECT p.id, p.kind, p.role, p.scope FROM tokens t JOIN principals p
             ON p.id = t.principal_id WHERE t.id = $1 AND t.revoked_at IS NULL",
        )
        .bind(token_id)
        .fetch_optional(&self.pool)
        .await
        .ctx("looking up a token's principal")?
        .as_ref()
        .map(principal_row)
        .transpose()
    }

    async fn principal(&self, name: &str) -> Result<Option<PrincipalRow>> {
        sqlx::query("SELECT id, kind, role, scope FROM principals WHERE id = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .ctx("reading a principal")?
            .as_ref()
            .map(principal_row)
            .transpose()
    }

    async fn principals(&self) -> Result<Vec<PrincipalRow>> {
        sqlx::query("SELECT id, kind, role, scope FROM principals ORDER BY id COLLATE \"C\"")
            .fetch_all(&self.pool)
            .await
            .ctx("reading principals")?
            .iter()
            .map(principal_row)
            .collect()
    }

    async fn decisions_stored(&self, proposal: &str) -> Result<i64> {
        sqlx::query("SELECT COUNT(*) FROM approvals WHERE proposal_id = $1")
            .bind(proposal)
            .fetch_one(&self.pool)
            .await
            .and_then(|row| row.try_get(0))
            .ctx("counting decisions")
    }

    async fn proposal(&self, id: &str) -> Result<Option<(String, i64)>> {
        sqlx::query("SELECT body, version FROM proposals WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .ctx("reading a proposal")?
            .as_ref()
            .map(proposal_row)
            .transpose()
    }

    async fn proposals(
        &self,
        filter: &ProposalFilter,
        limit: u32,
    ) -> Result<(Vec<(String, i64)>, u64)> {
        // A proposal's areas are its body's `areas` (every area its diff touches), or its
        // `area` alone for proposals stored before they were kept. `$3` matches a proposal
        // acting in that area; `$4` keeps only proposals acting in no area outside the list
        // and not site-wide (`checks.site_wide` is a JSON boolean, missing in old bodies).
        const WHERE: &str = "WHERE ($1::text IS NULL OR status = $1)
            AND ($2::text IS NULL OR kind = $2)
            AND ($3::text IS NULL OR area = $3 OR EXISTS (
                SELECT 1 FROM jsonb_array_elements_text(body::jsonb -> 'areas') AS a(value)
                WHERE a.value = $3))
            AND ($4::text[] IS NULL OR (area = ANY($4)
                AND NOT EXISTS (
                    SELECT 1 FROM jsonb_array_elements_text(body::jsonb -> 'areas') AS a(value)
                    WHERE NOT (a.value = ANY($4)))
                AND COALESCE((body::jsonb #>> '{checks,site_wide}')::boolean, false) = false))";
        let areas = filter.areas_in.as_deref();
        let status = filter.status.map(govern::Status::as_str);
        let kind = filter.kind.map(govern::ActionKind::as_str);
        let total: i64 = sqlx::query(&format!("SELECT COUNT(*) FROM proposals {WHERE}"))
            .bind(status)
            .bind(kind)
            .bind(filter.area.as_deref())
            .bind(areas)
            .fetch_one(&self.pool)
            .await
            .and_then(|row| row.try_get(0))
            .ctx("counting proposals")?;
        let items = sqlx::query(&format!(
            "SELECT body, version FROM proposals {WHERE}
             ORDER BY proposed_at DESC, id COLLATE \"C\" DESC LIMIT $5 OFFSET $6"
        ))
        .bind(status)
        .bind(kind)
        .bind(filter.area.as_deref())
        .bind(areas)
        .bind(i64::from(limit))
        .bind(i64::from(filter.offset))
        .fetch_all(&self.pool)
        .await
        .ctx("reading proposals")?
        .iter()
        .map(proposal_row)
        .collect::<Result<_>>()?;
        Ok((items, total as u64))
    }

    async fn pseudonym_key(&self) -> Result<Option<Vec<u8>>> {
        sqlx::query("SELECT value FROM governance_keys WHERE name = 'pseudonym'")
            .fetch_optional(&self.pool)
            .await
            .ctx("reading the pseudonym key")?
            .map(|row| row.try_get::<Vec<u8>, _>(0))
            .transpose()
            .ctx("reading the pseudonym key")
    }
}

impl GovernanceTx for Tx {
    async fn governance_row(&mut self, row: &GovernanceRow) -> Result<bool> {
        let query = match row {
            GovernanceRow::NewPrincipal {
                id,
                kind,
                role,
                scope,
                at,
            } => {
                let done = sqlx::query(
                    "INSERT INTO principals (id, kind, role, scope, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (id) DO NOTHING",
                )
                .bind(id)
                .bind(kind.as_str())
                .bind(role.as_str())
                .bind(scope)
                .bind(at)
                .execute(&mut *self.0)
                .await
                .ctx("writing governance data")?;
                return Ok(done.rows_affected() > 0);
            }
            GovernanceRow::PrincipalUpdate {
                before,
                role,
                scope,
                at,
            } => {
                let done = sqlx::query(
                    "UPDATE principals SET role = $1, scope = $2, updated_at = $3
                     WHERE id = $4 AND kind = $5 AND role = $6 AND scope = $7",
                )
                .bind(role.as_str())
                .bind(scope)
                .bind(at)
                .bind(&before.id)
                .bind(&before.kind)
                .bind(&before.role)
                .bind(&before.scope)
                .execute(&mut *self.0)
                .await
                .ctx("writing governance data")?;
                return Ok(done.rows_affected() > 0);
            }
            GovernanceRow::PrincipalIs(expected) => {
                let found = sqlx::query(
                    "SELECT 1 FROM principals
                     WHERE id = $1 AND kind = $2 AND role = $3 AND scope = $4",
                )
                .bind(&expected.id)
                .bind(&expected.kind)
                .bind(&expected.role)
                .bind(&expected.scope)
                .fetch_optional(&mut *self.0)
                .await
                .ctx("reading a principal")?;
                return Ok(found.is_some());
            }
            GovernanceRow::KeepGlobalAdmin => {
                let left: i64 = sqlx::query(
                    "SELECT COUNT(*) FROM principals p WHERE p.role = 'admin' AND p.scope = '*'
                     AND EXISTS (SELECT 1 FROM tokens t
                                 WHERE t.principal_id = p.id AND t.revoked_at IS NULL)",
                )
                .fetch_one(&mut *self.0)
                .await
                .and_then(|row| row.try_get(0))
                .ctx("counting global administrators")?;
                return Ok(left > 0);
            }
            GovernanceRow::Token {
                id,
                principal,
                hash,
                at,
            } => sqlx::query(
                "INSERT INTO tokens (id, principal_id, hash, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(id)
            .bind(principal)
            .bind(hash)
            .bind(at),
            GovernanceRow::RevokeTokens {
                principal,
                except,
                at,
            } => sqlx::query(
                "UPDATE tokens SET revoked_at = $1
                 WHERE principal_id = $2 AND revoked_at IS NULL
                   AND ($3::text IS NULL OR id <> $3)",
            )
            .bind(at)
            .bind(principal)
            .bind(except),
            GovernanceRow::Proposal {
                id,
                kind,
                site,
                area,
                status,
                proposed_by,
                proposed_at,
                expires_at,
                body,
            } => sqlx::query(
                "INSERT INTO proposals (id, kind, site, area, status, proposed_by, proposed_at,
                     expires_at, version, body) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9)",
            )
            .bind(id)
            .bind(kind)
            .bind(site)
            .bind(area)
            .bind(status)
            .bind(proposed_by)
            .bind(proposed_at)
            .bind(expires_at)
            .bind(body),
            GovernanceRow::ProposalUpdate {
                id,
                status,
                body,
                version,
            } => {
                let done = sqlx::query(
                    "UPDATE proposals SET status = $1, version = version + 1, body = $2
                     WHERE id = $3 AND version = $4",
                )
                .bind(status)
                .bind(body)
                .bind(id)
                .bind(version)
                .execute(&mut *self.0)
                .await
                .ctx("writing governance data")?;
                return Ok(done.rows_affected() > 0);
            }
            GovernanceRow::Decision {
                proposal,
                seq,
                principal,
                role,
                decision,
                at,
                comment,
            } => sqlx::query(
                "INSERT INTO approvals (proposal_id, seq, principal_id, role, decision, at, comment)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(proposal)
            .bind(seq)
            .bind(principal)
            .bind(role.as_str())
            .bind(decision)
            .bind(at)
            .bind(comment),
            GovernanceRow::ClearProposals => {
                for sql in ["DELETE FROM approvals", "DELETE FROM proposals"] {
                    sqlx::query(sql)
                        .execute(&mut *self.0)
                        .await
                        .ctx("writing governance data")?;
                }
                return Ok(true);
            }
            GovernanceRow::PseudonymKey { key, at } => sqlx::query(
                "INSERT INTO governance_keys (name, value, created_at)
                 VALUES ('pseudonym', $1, $2) ON CONFLICT (name) DO NOTHING",
            )
            .bind(key.as_slice())
            .bind(at),
        };
        query
            .execute(&mut *self.0)
            .await
            .ctx("writing governance data")?;
        Ok(true)
    }
}
