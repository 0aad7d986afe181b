//! Pseudonymisation: operator identities become keyed HMAC-SHA256 pseudonyms and configured
//! fields (recipe parameters) are masked before data reaches engines or agents.
//!
//! A pseudonym is `psn_` and the first 24 hex digits (96 bits) of HMAC-SHA256(key, identity).
//! The same identity always gets the same pseudonym under one key, so an agent can still tell
//! operators apart; without the key nobody can compute or invert them. Resolving a pseudonym
//! ([`Pseudonymizer::resolve`]) recomputes the pseudonyms of the known identities and is for
//! admins only (the server enforces that). HMAC (RFC 2104) is written here over `sha2`.

use std::collections::BTreeSet;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::policy::Privacy;

const BLOCK: usize = 64;

/// HMAC-SHA256 of `message` under `key` (RFC 2104).
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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
        format!("psn_{}", &hex(&mac)[..24])
    }

    /// Whether `text` looks like a pseudonym.
    pub fn is_pseudonym(text: &str) -> bool {
        text.len() == 28
            && text.starts_with("psn_")
            && text[4..].bytes().all(|b| b.is_ascii_hexdigit())
    }

    /// The identity among `candidates` whose pseudonym is `pseudonym`.
    pub fn resolve<'a>(
        &self,
        pseudonym: &str,
        candidates: impl IntoIterator<Item = &'a str>,
    ) -> Option<&'a str> {
        candidates
            .into_iter()
            .find(|identity| self.pseudonym(identity) == pseudonym)
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
}
