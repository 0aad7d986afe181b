//! Leadership leases and the fence on a leader's writes.
//!
//! Several processes (API nodes) may serve one store; the work that must run once per plant
//! (connectors, agents, the outbox to NATS) runs on the node that holds the plant's lease. A
//! lease has a holder, an expiry by the database's clock (so the nodes' clocks do not matter)
//! and an epoch that grows with every change of holder. The holder renews it well before it
//! expires; a node that stops renewing (killed, paused, cut off) loses it once it expires, and
//! the next candidate takes it in a new epoch.
//!
//! **Fencing.** A process that leads calls [`Store::fence_writes`]: from then on every write
//! transaction of that process checks, inside the transaction and under the store's write
//! lock, that the lease is still its own in its epoch, and is refused
//! ([`StoreError::Fenced`]) otherwise. A leader paused past its lease (a long GC, `SIGSTOP`,
//! a VM migration) that wakes up cannot write anything once another node took over: writes are
//! serialised by the write lock, and the new epoch is in the table they read.

use std::time::Duration;

use crate::backend::{LeaseRow, Tx};
use crate::error::{Result, StoreError};
use crate::store::{Inner, Store};

/// A lease held (or seen held) by `holder`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub name: String,
    pub holder: String,
    pub epoch: i64,
    /// Unix milliseconds by the database's clock.
    pub expires_at: i64,
    /// Milliseconds left when it was read (0 when expired).
    pub remaining_ms: i64,
}

impl Lease {
    fn of(name: &str, row: LeaseRow) -> Lease {
        Lease {
            name: name.to_owned(),
            remaining_ms: (row.expires_at - row.now).max(0),
            holder: row.holder,
            epoch: row.epoch,
            expires_at: row.expires_at,
        }
    }
}

fn ttl_ms(ttl: Duration) -> Result<i64> {
    let ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
    if ms <= 0 {
        return Err(StoreError::Url(format!(
            "a lease must last at least a millisecond, not {ttl:?}"
        )));
    }
    Ok(ms)
}

impl Store {
    /// Takes lease `name` for `holder` for `ttl` when it is free, expired, or `holder`'s own
    /// from an earlier run (always in a new epoch); none while another holder's lease runs.
    pub async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<Option<Lease>> {
        let row = self
            .inner
            .backend
            .acquire_lease(name, holder, ttl_ms(ttl)?)
            .await?;
        Ok(row.map(|row| Lease::of(name, row)))
    }

    /// Extends a lease held: false when its epoch is over (another holder took it).
    pub async fn renew_lease(&self, lease: &Lease, ttl: Duration) -> Result<bool> {
        self.inner
            .backend
            .renew_lease(&lease.name, &lease.holder, lease.epoch, ttl_ms(ttl)?)
            .await
    }

    /// Ends a lease held now, so that the next candidate need not wait for it to expire.
    pub async fn release_lease(&self, lease: &Lease) -> Result<()> {
        self.inner
            .backend
            .release_lease(&lease.name, &lease.holder, lease.epoch)
            .await
    }

    /// Lease `name` as it stands (expired or not), if anyone ever took it.
    pub async fn lease(&self, name: &str) -> Result<Option<Lease>> {
        let row = self.inner.backend.lease(name).await?;
        Ok(row.map(|row| Lease::of(name, row)))
    }

    /// Makes every later write of this process (every handle of this store) check inside its
    /// transaction that `lease` is still held in its epoch; `None` lifts the check.
    pub fn fence_writes(&self, lease: Option<Lease>) {
        *self
            .inner
            .fence
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = lease;
    }
}

/// Refuses a write transaction of a process whose lease was taken over.
pub(crate) async fn check_fence(inner: &Inner, tx: &mut Tx) -> Result<()> {
    let fence = inner
        .fence
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    let Some(lease) = fence else {
        return Ok(());
    };
    if tx
        .holds_lease(&lease.name, &lease.holder, lease.epoch)
        .await?
    {
        Ok(())
    } else {
        Err(StoreError::Fenced {
            name: lease.name,
            holder: lease.holder,
            epoch: lease.epoch,
        })
    }
}
