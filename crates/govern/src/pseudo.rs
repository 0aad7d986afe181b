//! Pseudonymisation: operator identities become keyed HMAC-SHA256 pseudonyms and configured
//! fields (recipe parameters) are masked before data reaches engines or agents.
//!
//! A pseudonym is `psn_` and the first 24 hex digits (96 bits) of HMAC-SHA256(key, identity).
//! The same identity always gets the same pseudonym under one key, so an agent can still tell
//! operators apart; without the key nobody can compute or invert them. Resolving a pseudonym
//! ([`Pseudonymizer::resolve`]) recomputes the pseudonyms of the known identities and is for
//! admins only (the server enforces that); it compares MACs in constant time. HMAC (RFC 2104)
//! is RustCrypto's `hmac` over `sha2`.

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

    /// Replaces identity fields by pseudonyms and masks masked fields, anywhere in `value`.
    pub fn protect(&self, value: &mut Value) {
        match value {
            Value::Object(map) => {
                for (name, field) in map.iter_mut() {
                    if self.privacy.masked_fields.contains(name) {
                        mask(field);
                    } else if self.privacy.identity_fields.contains(name) {
                        self.pseudonymise(field);
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
