//! Times of the quality records: integers inside, RFC 3339 at the edges.
//!
//! The engine reads no clock: every time arrives as an argument, as [`EpochMillis`] (the
//! integer inside `model::Timestamp`), and it only compares them. The records that leave
//! the engine — alerts, chart points, holds and nonconformances to place, NC history and
//! CAPA actions — carry those integers but serialise them as RFC 3339 UTC strings, exactly
//! as `model::Timestamp` does everywhere else at the edges (their JSON schema says so too).
//!
//! On input both forms are accepted: an RFC 3339 string, or the integer milliseconds that
//! records written before this convention hold (alert and NC bodies kept as JSON by the
//! store), so those records still load and are written back as RFC 3339.

use std::fmt;

use model::Timestamp;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// Milliseconds since 1970-01-01T00:00:00Z (the integer inside `model::Timestamp`).
pub type EpochMillis = i64;

/// An instant read from RFC 3339 text or from integer milliseconds.
struct AnyTime(EpochMillis);

struct AnyTimeVisitor;

impl Visitor<'_> for AnyTimeVisitor {
    type Value = AnyTime;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an RFC 3339 date-time (or integer milliseconds since the Unix epoch)")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<AnyTime, E> {
        Ok(AnyTime(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<AnyTime, E> {
        i64::try_from(v)
            .map(AnyTime)
            .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<AnyTime, E> {
        Timestamp::parse(v).map(|t| AnyTime(t.0)).map_err(E::custom)
    }
}

impl<'de> Deserialize<'de> for AnyTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(AnyTimeVisitor)
    }
}

/// `#[serde(with = "crate::time::rfc3339")]` for an [`EpochMillis`] field.
pub mod rfc3339 {
    use super::*;

    /// Writes the instant as RFC 3339.
    pub fn serialize<S: Serializer>(ms: &EpochMillis, s: S) -> Result<S::Ok, S::Error> {
        Timestamp(*ms).serialize(s)
    }

    /// Reads RFC 3339 text or integer milliseconds.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<EpochMillis, D::Error> {
        AnyTime::deserialize(d).map(|t| t.0)
    }
}

/// `#[serde(default, with = "crate::time::rfc3339_opt")]` for an `Option<EpochMillis>` field.
pub mod rfc3339_opt {
    use super::*;

    /// Writes the instant as RFC 3339, or `null`.
    pub fn serialize<S: Serializer>(ms: &Option<EpochMillis>, s: S) -> Result<S::Ok, S::Error> {
        ms.map(Timestamp).serialize(s)
    }

    /// Reads RFC 3339 text, integer milliseconds or `null`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<EpochMillis>, D::Error> {
        Option::<AnyTime>::deserialize(d).map(|t| t.map(|t| t.0))
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};
    use serde_json::json;

    use super::EpochMillis;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Rec {
        #[serde(with = "super::rfc3339")]
        at: EpochMillis,
        #[serde(default, with = "super::rfc3339_opt")]
        done: Option<EpochMillis>,
    }

    #[test]
    fn writes_rfc3339_and_reads_both_forms() {
        let r = Rec {
            at: 1_772_431_200_000,
            done: Some(1_772_431_200_250),
        };
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(
            v,
            json!({"at": "2026-03-02T06:00:00Z", "done": "2026-03-02T06:00:00.250Z"})
        );
        assert_eq!(serde_json::from_value::<Rec>(v).unwrap(), r);
        // A record stored before times were RFC 3339 (integer milliseconds) still loads.
        let old = json!({"at": 1_772_431_200_000i64, "done": 1_772_431_200_250i64});
        assert_eq!(serde_json::from_value::<Rec>(old).unwrap(), r);
        let old_text = r#"{"at": 1772431200000, "done": null}"#;
        let read: Rec = serde_json::from_str(old_text).unwrap();
        assert_eq!((read.at, read.done), (1_772_431_200_000, None));
        let absent: Rec = serde_json::from_str(r#"{"at": "2026-03-02T06:00:00Z"}"#).unwrap();
        assert_eq!(absent.done, None);
        let e = serde_json::from_str::<Rec>(r#"{"at": "yesterday"}"#).unwrap_err();
        assert!(e.to_string().contains("RFC 3339"), "{e}");
        assert!(serde_json::from_str::<Rec>(r#"{"at": true}"#).is_err());
    }
}
