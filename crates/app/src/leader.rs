//! Which node runs a plant's once-only work when several serve one store.
//!
//! Any number of API nodes may serve one store (over PostgreSQL); they all answer the API,
//! and every write is serialised by the store. What must run once per plant — the connectors'
//! polling, the live agents, the outbox to NATS — runs on the node holding the plant's lease
//! (`store::Lease`), taken for a few seconds at a time and renewed at a third of that. A node
//! that dies stops renewing; once the lease expires (by the database's clock), the next node
//! to try takes it in a new epoch. While it leads, a node's writes are fenced
//! (`Store::fence_writes`): should it be paused past its lease and wake, its writes are refused
//! instead of interleaving with the new leader's.
//!
//! A store holds one plant, so the lease is named once per store ([`LEASE`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use store::{Lease, Store};

/// The name of a store's leader lease.
pub const LEASE: &str = "plant-leader";

/// How a node takes part in the election.
#[derive(Debug, Clone)]
pub struct LeaderSettings {
    /// This node's name, unique among the nodes (the lease's holder).
    pub node: String,
    /// How long a lease lasts unrenewed: how long the plant's once-only work may stand still
    /// after its leader died.
    pub ttl: Duration,
}

impl LeaderSettings {
    /// How often a leader renews and a candidate tries.
    pub fn beat(&self) -> Duration {
        (self.ttl / 3).max(Duration::from_millis(50))
    }
}

/// Why a leader stopped leading.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LeadLost {
    #[error("another node took the lease (epoch {epoch} is over)")]
    TakenOver { epoch: i64 },
    #[error("the lease could not be renewed for {elapsed:?} (last error: {error})")]
    Unreachable { elapsed: Duration, error: String },
}

/// Waits until this node holds the lease (trying every beat), and fences its writes by it.
pub async fn acquire(store: &Arc<Store>, settings: &LeaderSettings) -> Lease {
    loop {
        match store
            .acquire_lease(LEASE, &settings.node, settings.ttl)
            .await
        {
            Ok(Some(lease)) => {
                store.fence_writes(Some(lease.clone()));
                return lease;
            }
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, "trying for the plant's lease"),
        }
        tokio::time::sleep(settings.beat()).await;
    }
}

/// Renews `lease` every beat until it is lost; then lifts nothing (the fence stays, so this
/// process writes nothing more as leader) and answers why.
pub async fn hold(store: &Arc<Store>, lease: &Lease, settings: &LeaderSettings) -> LeadLost {
    let mut renewed = Instant::now();
    loop {
        tokio::time::sleep(settings.beat()).await;
        match store.renew_lease(lease, settings.ttl).await {
            Ok(true) => renewed = Instant::now(),
            Ok(false) => return LeadLost::TakenOver { epoch: lease.epoch },
            Err(error) => {
                // The database may be down or the network cut: past the lease's length, the
                // lease may have gone to another node, so this one stops leading.
                let elapsed = renewed.elapsed();
                if elapsed >= settings.ttl {
                    return LeadLost::Unreachable {
                        elapsed,
                        error: error.to_string(),
                    };
                }
            }
        }
    }
}

/// Ends this node's lease now (a graceful stop), so that another node need not wait for it to
/// expire.
pub async fn release(store: &Arc<Store>, lease: &Lease) {
    if let Err(error) = store.release_lease(lease).await {
        tracing::warn!(%error, "releasing the plant's lease");
    }
}
