//! How fresh a read must be, and what may be answered from memory because of it.
//!
//! A read of the in-memory state answers with everything acknowledged before the read began,
//! by this process or any other on the same database. It looks at the database's audit head
//! first ([`crate::store::Inner::refresh`]) — one round trip to the database per read. A request
//! that reads several times (authenticate, authorise, answer) needs that look only once: any
//! look that *began after the request did* and whose result this process has caught up with
//! covers all of the request's reads. [`Store::fresh_from_start`] runs a request so; under
//! concurrent requests, one look then covers every request that began before it.
//!
//! Looks are numbered as they begin ([`Freshness::begin`]); a request remembers the number of
//! looks begun before it ([`Freshness::mark`]), and is covered once a look numbered past its mark
//! has been applied ([`Freshness::applied`]).
//!
//! The audit head is also the database's change counter (every write of every process
//! appends one audit record, governance changes included), so a token's principal read while
//! the head stood at `h` is still the principal while the head stands at `h`
//! ([`Store::live_principal`]): a revocation, a role or a scope change moves the head.
//!
//! This module must not decide what is fresh by time: only by the order of looks at the head.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use govern::Principal;

use crate::error::Result;
use crate::store::Store;

tokio::task_local! {
    /// The store (its address) and the mark of the request the current task runs.
    static REQUEST: (usize, u64);
}

/// The numbering of this process's looks at the database's audit head.
#[derive(Debug, Default)]
pub(crate) struct Freshness {
    /// Looks begun.
    begun: AtomicU64,
    /// The highest-numbered look whose head the view has caught up with.
    applied: AtomicU64,
}

impl Freshness {
    /// The number of the look about to begin.
    pub(crate) fn begin(&self) -> u64 {
        self.begun.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Look `number` read a head the view now holds (or a later one).
    pub(crate) fn applied(&self, number: u64) {
        self.applied.fetch_max(number, Ordering::SeqCst);
    }

    /// How many looks had begun: a request begun now is covered by any look numbered past it.
    fn mark(&self) -> u64 {
        self.begun.load(Ordering::SeqCst)
    }

    /// Whether the task runs a request of store `owner` that a look begun after it covers.
    pub(crate) fn covers_current(&self, owner: usize) -> bool {
        REQUEST
            .try_with(|&(store, mark)| store == owner && self.applied.load(Ordering::SeqCst) > mark)
            .unwrap_or(false)
    }
}

/// Answers that only a write can change, each kept under the audit head it was read at and
/// given back only while the head is the same (every write of every process moves it). Past
/// `limit` keys it starts again: a bound, not an eviction policy; keys in use come back on
/// their next read.
#[derive(Debug)]
pub struct KeptUnderHead<K, V> {
    entries: Mutex<HashMap<K, (i64, V)>>,
    limit: usize,
}

impl<K: Eq + Hash, V: Clone> KeptUnderHead<K, V> {
    /// Empty, keeping at most `limit` keys.
    pub fn new(limit: usize) -> KeptUnderHead<K, V> {
        KeptUnderHead {
            entries: Mutex::default(),
            limit,
        }
    }

    /// The answer kept for `key`, if it was read at `head`.
    pub fn get<Q>(&self, key: &Q, head: i64) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        match entries.get(key) {
            Some((at, value)) if *at == head => Some(value.clone()),
            _ => None,
        }
    }

    /// Keeps `value` for `key`, read at `head` (taken before the read, so that a write in
    /// between moves the head past it and the value is read again).
    pub fn put(&self, key: K, head: i64, value: V) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= self.limit && !entries.contains_key(&key) {
            entries.clear();
        }
        entries.insert(key, (head, value));
    }
}

/// Live principals by token id.
pub(crate) type PrincipalCache = KeptUnderHead<String, Option<Principal>>;

/// Token ids whose principals are kept at once.
pub(crate) const PRINCIPAL_CACHE_LIMIT: usize = 10_000;

impl Store {
    /// Runs `work` (one request) so that its reads answer with at least everything
    /// acknowledged before it began, looking at the database for that once rather than once
    /// per read — or not at all, when a look another request began after this one has
    /// already answered.
    pub async fn fresh_from_start<F: Future>(&self, work: F) -> F::Output {
        let owner = self.inner.owner();
        let mark = self.inner.freshness.mark();
        REQUEST.scope((owner, mark), work).await
    }

    /// Brings this process's view up to every write acknowledged before the read began (see
    /// [`Store::fresh_from_start`]); an error when the database cannot be read.
    pub async fn refresh_reads(&self) -> Result<()> {
        self.inner.refresh().await
    }

    /// The principal of a live token id (as [`Store::token_principal`]), fresh as a read is:
    /// answered from memory while the audit head this process knows is the one the principal
    /// was read at, since every change to principals and tokens moves it.
    pub async fn live_principal(&self, token_id: &str) -> Result<Option<Principal>> {
        self.refresh_reads().await?;
        let head = self.known_audit_seq();
        if let Some(principal) = self.inner.principals.get(token_id, head) {
            return Ok(principal);
        }
        let principal = self.token_principal(token_id).await?;
        self.inner
            .principals
            .put(token_id.to_owned(), head, principal.clone());
        Ok(principal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_covered_only_by_a_look_begun_after_it() {
        let freshness = Freshness::default();
        let before = freshness.begin();
        let covered =
            |mark| block_on(REQUEST.scope((1, mark), async { freshness.covers_current(1) }));
        let mark = freshness.mark();
        freshness.applied(before);
        assert!(!covered(mark), "a look begun before the request");
        let after = freshness.begin();
        assert!(!covered(mark), "a look begun after it but not yet applied");
        freshness.applied(after);
        assert!(covered(mark));
        assert!(
            !block_on(REQUEST.scope((2, mark), async { freshness.covers_current(1) })),
            "another store's request"
        );
        assert!(!freshness.covers_current(1), "outside any request");
    }

    fn block_on<F: Future>(work: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime")
            .block_on(work)
    }
}
