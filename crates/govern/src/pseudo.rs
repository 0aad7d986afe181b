//! Pseudonymisation: operator identities become keyed HMAC-SHA256 pseudonyms and configured
//! fields (recipe parameters) are masked before data reaches engines or agents.
//!
//! A pseudonym is `psn_` and the first 24 hex digits (96 bits) of HMAC-SHA256(key, identity).
//! The same identity always gets the same pseudonym under one key, so an agent can still tell
//! operators apart; without the key nobody can compute or invert them. Resolving a pseudonym
//! ([`Pseudonymizer::resolve`]) recomputes the pseudonyms of the known identities and is for
//! admins only (the server enforces that); it compares MACs in constant time. HMAC (RFC 2104)
//! is RustCrypto's `hmac` over `sha2`.
//!
//! Two kinds of field are pseudonymised by [`Pseudonymizer::protect`]: the policy's
//! `identity_fields` (operators in plant data and events: pool `members`, `operator`, …),
//! configured per plant, and [`PRINCIPAL_FIELDS`], the fields in which mixplane's own answers
//! name who did something (who proposed, decided, applied, placed or released a hold, moved a
//! nonconformance, wrote an audit record), fixed here because mixplane writes them. A principal
//! written as `kind:name` keeps its kind (`person:psn_…`); mixplane's own machinery
//! (`system:…`, `policy:…`) names no one and is kept; a pseudonym is never pseudonymised
//! again. Principals are among the identities an admin resolves, so an agent can still refer
//! back to who did what.

use std::collections::BTreeSet;

use hmac::{Hmac, Mac};
use model::wire::hex;
use serde_json::Value;
use sha2::Sha256;

use crate::policy::Privacy;

type HmacSha256 = Hmac<Sha256>;

/// Length of a pseudonym's MAC prefix in bytes (24 hex digits).
const PSEUDONYM_BYTES: usize = 12;

/// HMAC-SHA256 of `message` under `key` (RFC 2104).
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    keyed(key, message).finalize().into_bytes().into()
}

/// The MAC state for `message` under `key` (HMAC accepts keys of any length).
fn keyed(key: &[u8], message: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(message);
    mac
}

/// The bytes a pseudonym's hex digits stand for; `None` unless it is `psn_` and 24
/// lower-case hex digits (the only form [`Pseudonymizer::pseudonym`] writes).
fn pseudonym_bytes(pseudonym: &str) -> Option<[u8; PSEUDONYM_BYTES]> {
    let digits = pseudonym.strip_prefix("psn_")?.as_bytes();
    if digits.len() != PSEUDONYM_BYTES * 2 {
        return None;
    }
    let nibble = |d: u8| match d {
        b'0'..=b'9' => Some(d - b'0'),
        b'a'..=b'f' => Some(d - b'a' + 10),
        _ => None,
    };
    let mut bytes = [0u8; PSEUDONYM_BYTES];
    for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = nibble(pair[0])? << 4 | nibble(pair[1])?;
    }
    Some(bytes)
}

/// The value masked fields get.
pub const MASK: &str = "***";

/// The JSON fields in which mixplane's answers name a principal (a person, a service or an
/// agent) who did something; agents read them pseudonymised wherever they appear:
///
/// - `actor` — who wrote an audit record (`{kind, id}`);
/// - `added_by`, `done_by`, `verified_by` — a nonconformance's CAPA actions;
/// - `approved_by`, `opened_by` — kept for answers that name them so (none does yet);
/// - `by` — a nonconformance's history, and who applied or rolled back a proposal
///   (`policy:…` when it applied by itself);
/// - `made_by` — who put a version of the plan in force (or proposed it);
/// - `modified_by` — the person or engine behind a governance write;
/// - `placed_by`, `released_by` — a hold (`kind:name`);
/// - `principal` — who decided a proposal, whose request triggered it, whose tokens a
///   record concerns;
/// - `proposed_by` — who proposed a change.
///
/// The names are field names, not paths, so a new answer that uses one is covered at once;
/// a new answer that names people under another field must add it here (the server's
/// `agents_read_no_real_name` test reads every answer an agent can and fails otherwise).
pub const PRINCIPAL_FIELDS: &[&str] = &[
    "actor",
    "added_by",
    "approved_by",
    "by",
    "done_by",
    "made_by",
    "modified_by",
    "opened_by",
    "placed_by",
    "principal",
    "proposed_by",
    "released_by",
    "verified_by",
];

/// Kinds written before a principal's name (`person:ann`): the name is pseudonymised, the kind
/// kept.
const PRINCIPAL_KINDS: &[&str] = &["person", "service", "agent"];

/// Kinds of mixplane's own machinery (`system:quality-enforcer`, `policy:assisted`): they name
/// no one and are kept.
const MACHINERY_KINDS: &[&str] = &["system", "policy"];

/// Computes pseudonyms under one secret key and applies a [`Privacy`] setting to JSON.
#[derive(Clone)]
pub struct Pseudonymizer {
    key: Vec<u8>,
    privacy: Privacy,
}

impl std::fmt::Debug for Pseudonymizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pseudonymizer")
            .field("key", &"<secret>")
            .field("privacy", &self.privacy)
            .finish()
    }
}

impl Pseudonymizer {
    pub fn new(key: impl Into<Vec<u8>>, privacy: Privacy) -> Pseudonymizer {
        Pseudonymizer {
            key: key.into(),
            privacy,
        }
    }

    /// The pseudonym of an identity.
    pub fn pseudonym(&self, identity: &str) -> String {
        let mac = hmac_sha256(&self.key, identity.as_bytes());
        format!("psn_{}", hex(&mac[..PSEUDONYM_BYTES]))
    }

    /// Whether `text` looks like a pseudonym.
    pub fn is_pseudonym(text: &str) -> bool {
        text.len() == 28
            && text.starts_with("psn_")
            && text[4..].bytes().all(|b| b.is_ascii_hexdigit())
    }

    /// The identity among `candidates` whose pseudonym is `pseudonym`. Each candidate's MAC
    /// is checked against the pseudonym in constant time.
    pub fn resolve<'a>(
        &self,
        pseudonym: &str,
        candidates: impl IntoIterator<Item = &'a str>,
    ) -> Option<&'a str> {
        let tag = pseudonym_bytes(pseudonym)?;
        candidates.into_iter().find(|identity| {
            keyed(&self.key, identity.as_bytes())
                .verify_truncated_left(&tag)
                .is_ok()
        })
    }

    /// Replaces identity fields and [`PRINCIPAL_FIELDS`] by pseudonyms and masks masked
    /// fields, anywhere in `value`.
    pub fn protect(&self, value: &mut Value) {
        match value {
            Value::Object(map) => {
                for (name, field) in map.iter_mut() {
                    if self.privacy.masked_fields.contains(name) {
                        mask(field);
                    } else if self.privacy.identity_fields.contains(name) {
                        self.pseudonymise(field);
                    } else if PRINCIPAL_FIELDS.contains(&name.as_str()) {
                        self.pseudonymise_principal(field);
                    } else {
                        self.protect(field);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.protect(v)),
            _ => {}
        }
    }

    fn pseudonymise(&self, value: &mut Value) {
        match value {
            Value::String(identity) => *identity = self.pseudonym(identity),
            Value::Array(items) => items.iter_mut().for_each(|v| self.pseudonymise(v)),
            Value::Object(map) => map.values_mut().for_each(|v| self.pseudonymise(v)),
            _ => {}
        }
    }

    /// A principal field's value: a name, `kind:name`, a list of them, or an object naming
    /// one by its `id` (an audit actor, a principal) whose other fields are protected as
    /// usual.
    fn pseudonymise_principal(&self, value: &mut Value) {
        match value {
            Value::String(text) => {
                if let Some(pseudonymised) = self.principal_pseudonym(text) {
                    *text = pseudonymised;
                }
            }
            Value::Array(items) => items
                .iter_mut()
                .for_each(|v| self.pseudonymise_principal(v)),
            Value::Object(map) => {
                let machinery = map
                    .get("kind")
                    .and_then(Value::as_str)
                    .is_some_and(|kind| MACHINERY_KINDS.contains(&kind));
                for (name, field) in map.iter_mut() {
                    if name == "id" {
                        if !machinery {
                            self.pseudonymise_principal(field);
                        }
                    } else {
                        self.protect(field);
                    }
                }
            }
            _ => {}
        }
    }

    /// What a principal reference becomes, or `None` when it stays: machinery and pseudonyms.
    fn principal_pseudonym(&self, text: &str) -> Option<String> {
        if Self::is_pseudonym(text) {
            return None;
        }
        match text.split_once(':') {
            Some((kind, _)) if MACHINERY_KINDS.contains(&kind) => None,
            Some((kind, name)) if PRINCIPAL_KINDS.contains(&kind) => {
                (!Self::is_pseudonym(name)).then(|| format!("{kind}:{}", self.pseudonym(name)))
            }
            _ => Some(self.pseudonym(text)),
        }
    }

    /// The configured identity fields.
    pub fn identity_fields(&self) -> &BTreeSet<String> {
        &self.privacy.identity_fields
    }
}

/// Masks every scalar under `value`, keeping object keys (so a reader sees which parameters
/// exist but not their values).
fn mask(value: &mut Value) {
    match value {
        Value::Object(map) => map.values_mut().for_each(mask),
        Value::Array(items) => items.iter_mut().for_each(mask),
        Value::Null => {}
        other => *other = Value::String(MASK.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test case 1.
        assert_eq!(
            hex(&hmac_sha256(&[0x0b; 20], b"Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        // Test case 2.
        assert_eq!(
            hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 6: a key longer than the block.
        assert_eq!(
            hex(&hmac_sha256(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn identities_are_pseudonymised_and_parameters_masked() {
        let p = Pseudonymizer::new(b"k".to_vec(), Privacy::default());
        let mut event = json!({
            "type": "operation_started",
            "members": ["OP-ANNA", "OP-BEN"],
            "unit": "R-101",
            "nested": [{"operator": "OP-ANNA", "parameters": {"temp_c": 81.5, "rpm": 300}}],
        });
        p.protect(&mut event);
        let anna = p.pseudonym("OP-ANNA");
        assert!(Pseudonymizer::is_pseudonym(&anna));
        assert_eq!(event["members"][0], anna);
        assert_eq!(event["nested"][0]["operator"], anna);
        assert_ne!(event["members"][1], anna);
        assert_eq!(event["unit"], "R-101");
        assert_eq!(
            event["nested"][0]["parameters"],
            json!({"temp_c": MASK, "rpm": MASK})
        );
        assert_eq!(p.resolve(&anna, ["OP-BEN", "OP-ANNA"]), Some("OP-ANNA"));
        let other = Pseudonymizer::new(b"other key".to_vec(), Privacy::default());
        assert_ne!(other.pseudonym("OP-ANNA"), anna, "the key matters");
        assert_eq!(other.resolve(&anna, ["OP-ANNA"]), None);
    }

    #[test]
    fn principal_fields_are_pseudonymised_keeping_kinds_and_machinery() {
        let p = Pseudonymizer::new(b"k".to_vec(), Privacy::default());
        let ann = p.pseudonym("ann");
        let mut answer = json!({
            "proposed_by": "ann",
            "placed_by": "person:ann",
            "released_by": "system:quality-enforcer",
            "applied": {"by": "policy:assisted", "at": "t"},
            "rolled_back": {"by": "ann"},
            "decisions": [{"principal": "ann", "kind": "person", "role": "planner"}],
            "evidence": {"trigger": {"type": "principal", "principal": "ann"}},
            "history": [{"by": "ann", "detail": "scrap"}],
            "actor": {"kind": "person", "id": "ann"},
            "records": [{"actor": {"kind": "system", "id": "store/governance"}}],
            "capa": [{"added_by": "ann", "done_by": null, "verified_by": ann}],
            "produced_by": "MO-1",
            "title": "ann",
        });
        p.protect(&mut answer);
        assert_eq!(answer["proposed_by"], ann);
        assert_eq!(answer["placed_by"], format!("person:{ann}"));
        assert_eq!(answer["released_by"], "system:quality-enforcer");
        assert_eq!(answer["applied"]["by"], "policy:assisted");
        assert_eq!(answer["rolled_back"]["by"], ann);
        assert_eq!(answer["decisions"][0]["principal"], ann);
        assert_eq!(answer["decisions"][0]["kind"], "person");
        assert_eq!(answer["evidence"]["trigger"]["principal"], ann);
        assert_eq!(answer["history"][0]["by"], ann);
        assert_eq!(answer["history"][0]["detail"], "scrap");
        assert_eq!(answer["actor"], json!({"kind": "person", "id": ann}));
        assert_eq!(answer["records"][0]["actor"]["id"], "store/governance");
        assert_eq!(answer["capa"][0]["added_by"], ann);
        assert_eq!(answer["capa"][0]["done_by"], Value::Null);
        assert_eq!(
            answer["capa"][0]["verified_by"], ann,
            "not pseudonymised twice"
        );
        // Other fields, even ending in `_by`, and free text are left alone.
        assert_eq!(answer["produced_by"], "MO-1");
        assert_eq!(answer["title"], "ann");
        assert_eq!(p.resolve(&ann, ["bob", "ann"]), Some("ann"));
    }

    /// Values computed by the hand-written HMAC this module had before it used the `hmac`
    /// crate: pseudonyms already handed out keep resolving.
    #[test]
    fn pseudonyms_are_pinned() {
        let p = Pseudonymizer::new(b"k".to_vec(), Privacy::default());
        assert_eq!(p.pseudonym("OP-ANNA"), "psn_fd6fd988fbade6d3d9c519cf");
        let key: Vec<u8> = (0..32).collect();
        let q = Pseudonymizer::new(key, Privacy::default());
        assert_eq!(q.pseudonym("OP-BEN"), "psn_81559d6cf5db42fbdb3ebe21");
        assert_eq!(
            q.resolve("psn_81559d6cf5db42fbdb3ebe21", ["OP-ANNA", "OP-BEN"]),
            Some("OP-BEN")
        );
    }

    #[test]
    fn only_well_formed_pseudonyms_resolve() {
        let p = Pseudonymizer::new(b"k".to_vec(), Privacy::default());
        let anna = p.pseudonym("OP-ANNA");
        assert_eq!(
            p.resolve(&format!("psn_{}", anna[4..].to_uppercase()), ["OP-ANNA"]),
            None
        );
        assert_eq!(p.resolve(&anna[..27], ["OP-ANNA"]), None);
        assert_eq!(p.resolve(&format!("{anna}0"), ["OP-ANNA"]), None);
        assert_eq!(p.resolve("psn_fd6fd988fbade6d3d9c519cg", ["OP-ANNA"]), None);
        // One digit off is another pseudonym.
        assert_eq!(p.resolve("psn_fd6fd988fbade6d3d9c519ce", ["OP-ANNA"]), None);
    }
}
