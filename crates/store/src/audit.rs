//! The hash chain of the audit trail, as pure functions.
//!
//! Each record's hash is the SHA-256 (lower-case hex) of its predecessor's hash, a newline and
//! the canonical form of its own fields: the compact JSON array
//! `[seq, at_ms, actor_kind, actor_id, action, subject, detail_text]`, where `detail_text` is
//! the detail JSON exactly as stored. The first record's predecessor hash is 64 zeros
//! ([`GENESIS`]). Because the sequence number is hashed, moving a record to another position
//! breaks its hash; because each hash covers the previous one, removing, inserting or
//! reordering records breaks the link of the next record.
//!
//! This module knows nothing about the database; the store reads rows and hands them here.

use model::wire::hex;
use sha2::{Digest, Sha256};

use crate::types::{AuditBreak, AuditFault, AuditReport};

/// The predecessor hash of the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The stored columns of one audit record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawRecord {
    pub seq: i64,
    pub at: i64,
    pub actor_kind: String,
    pub actor_id: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The hash of a record with these fields after `prev_hash`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn record_hash(
    prev_hash: &str,
    seq: i64,
    at: i64,
    actor_kind: &str,
    actor_id: &str,
    action: &str,
    subject: &str,
    detail: &str,
) -> String {
    let canonical =
        serde_json::to_string(&(seq, at, actor_kind, actor_id, action, subject, detail))
            .expect("strings and integers always serialise");
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(b"\n");
    hasher.update(canonical.as_bytes());
    hex(&hasher.finalize())
}

/// Checks records in storage order (ascending `seq`) and names the first that breaks the chain.
/// `expected_head`, when known, is the seq and hash of the last record this process wrote or
/// read: the trail must still hold it (records after it were written by other processes on the
/// same database and are checked like the rest).
pub(crate) fn verify(records: &[RawRecord], expected_head: Option<(i64, &str)>) -> AuditReport {
    let mut prev_hash = GENESIS.to_owned();
    let mut expected_seq = 1i64;
    let mut first_bad = None;
    for record in records {
        if let Some(fault) = check_one(record, expected_seq, &prev_hash) {
            first_bad = Some(fault);
            break;
        }
        prev_hash.clone_from(&record.hash);
        expected_seq = record.seq + 1;
    }
    if first_bad.is_none()
        && let Some((seq, hash)) = expected_head
    {
        // An intact chain holds record n at index n - 1.
        let held = usize::try_from(seq - 1).ok().and_then(|i| records.get(i));
        first_bad = match held {
            Some(record) if record.hash == hash => None,
            Some(record) => Some(AuditBreak {
                seq: record.seq,
                fault: AuditFault::Head,
                message: format!(
                    "record {seq} is not the one this store wrote or read there (hash {hash}): the trail was rewritten from record {seq} on"
                ),
            }),
            None => Some(AuditBreak {
                seq: records.last().map_or(0, |r| r.seq),
                fault: AuditFault::Head,
                message: format!(
                    "the trail ends at record {} but this store wrote or read record {seq} (hash {hash}): records were removed from the end",
                    records.last().map_or(0, |r| r.seq)
                ),
            }),
        };
    }
    AuditReport {
        records: records.len() as u64,
        head_hash: records.last().map(|r| r.hash.clone()),
        first_bad,
    }
}

fn check_one(record: &RawRecord, expected_seq: i64, prev_hash: &str) -> Option<AuditBreak> {
    let bad = |fault, message: String| {
        Some(AuditBreak {
            seq: record.seq,
            fault,
            message,
        })
    };
    let recomputed = record_hash(
        &record.prev_hash,
        record.seq,
        record.at,
        &record.actor_kind,
        &record.actor_id,
        &record.action,
        &record.subject,
        &record.detail,
    );
    if recomputed != record.hash {
        return bad(
            AuditFault::Altered,
            format!(
                "record {} does not match its hash: its fields were altered or it was moved",
                record.seq
            ),
        );
    }
    if record.seq != expected_seq {
        return bad(
            AuditFault::Removed,
            format!(
                "record {} follows record {}: records {expected_seq} to {} were removed",
                record.seq,
                expected_seq - 1,
                record.seq - 1
            ),
        );
    }
    if record.prev_hash != prev_hash {
        return bad(
            AuditFault::Relinked,
            format!(
                "record {} does not link to the previous record's hash: records before it were inserted, removed or reordered",
                record.seq
            ),
        );
    }
    if record.actor_kind.parse::<crate::ActorKind>().is_err()
        || serde_json::from_str::<serde_json::Value>(&record.detail).is_err()
    {
        return bad(
            AuditFault::Unreadable,
            format!(
                "record {} has an unknown actor kind or a detail that is not JSON",
                record.seq
            ),
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<RawRecord> {
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|seq| {
                let detail = format!(r#"{{"n":{seq}}}"#);
                let hash = record_hash(&prev, seq, 1000 + seq, "system", "t", "a", "s", &detail);
                let record = RawRecord {
                    seq,
                    at: 1000 + seq,
                    actor_kind: "system".into(),
                    actor_id: "t".into(),
                    action: "a".into(),
                    subject: "s".into(),
                    detail,
                    prev_hash: prev.clone(),
                    hash: hash.clone(),
                };
                prev = hash;
                record
            })
            .collect()
    }

    fn rehash(r: &mut RawRecord) {
        r.hash = record_hash(
            &r.prev_hash,
            r.seq,
            r.at,
            &r.actor_kind,
            &r.actor_id,
            &r.action,
            &r.subject,
            &r.detail,
        );
    }

    #[test]
    fn an_intact_chain_verifies() {
        let records = chain(5);
        let report = verify(&records, Some((5, &records[4].hash)));
        assert!(report.is_intact(), "{report:?}");
        // Records another process appended after the head this one knows.
        let report = verify(&records, Some((3, &records[2].hash)));
        assert!(report.is_intact(), "{report:?}");
        assert_eq!(report.records, 5);
        assert!(verify(&[], None).is_intact());
    }

    #[test]
    fn hash_is_sha256_hex_of_prev_and_canonical_fields() {
        let hash = record_hash(GENESIS, 1, 2, "person", "ann", "x", "y", "{}");
        assert_eq!(hash.len(), 64);
        let mut h = Sha256::new();
        h.update(format!("{GENESIS}\n[1,2,\"person\",\"ann\",\"x\",\"y\",\"{{}}\"]").as_bytes());
        assert_eq!(hash, hex(&h.finalize()));
    }

    #[test]
    fn names_the_first_bad_record() {
        // Altered field.
        let mut records = chain(5);
        records[2].subject = "forged".into();
        let bad = verify(&records, None).first_bad.unwrap();
        assert_eq!((bad.seq, bad.fault), (3, AuditFault::Altered));

        // Altered and rehashed: the next record no longer links.
        let mut records = chain(5);
        records[2].subject = "forged".into();
        rehash(&mut records[2]);
        let bad = verify(&records, None).first_bad.unwrap();
        assert_eq!((bad.seq, bad.fault), (4, AuditFault::Relinked));

        // Removed from the middle.
        let mut records = chain(5);
        records.remove(1);
        let bad = verify(&records, None).first_bad.unwrap();
        assert_eq!((bad.seq, bad.fault), (3, AuditFault::Removed));

        // Removed from the end: only the head check sees it.
        let records = chain(5);
        let head = records[4].hash.clone();
        let bad = verify(&records[..4], Some((5, &head))).first_bad.unwrap();
        assert_eq!((bad.seq, bad.fault), (4, AuditFault::Head));
        assert!(
            bad.message.contains("removed from the end"),
            "{}",
            bad.message
        );

        // Rewritten from the known head on, with a chain that links: the head check sees it.
        let mut records = chain(5);
        records[4].detail = r#"{"n":"forged"}"#.into();
        rehash(&mut records[4]);
        let bad = verify(&records, Some((5, &head))).first_bad.unwrap();
        assert_eq!((bad.seq, bad.fault), (5, AuditFault::Head));
        assert!(bad.message.contains("rewritten"), "{}", bad.message);
    }
}
