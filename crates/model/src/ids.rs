//! Typed identifiers.
//!
//! Every entity is named by a string id chosen by the plant (an MES key, a lot code, a serial
//! number). Wrapping each kind in its own type stops a unit id from being passed where an order
//! id is expected; on the wire they are plain strings.
//!
//! An id holds its text as a `CompactString`: up to 24 bytes inline, longer on the heap. Plant
//! ids are short, and a large state holds millions of them (every order's key, product and
//! routing), so they cost no allocation each to decode from a snapshot, clone or drop.
//!
//! An id read from outside (an event, a plant document: anything deserialised) holds at most
//! [`MAX_ID_CHARS`] characters and no control character (Unicode category Cc: U+0000 to
//! U+001F, U+007F to U+009F), or it is refused naming the id type and what is wrong
//! ([`IdError`]). The JSON Schemas say the same (`maxLength` and a `pattern`). Ids made in
//! code (`From<&str>`) are trusted as they are.

/// The longest id, in characters (Unicode scalar values, as JSON Schema's `maxLength`
/// counts), so at most 1 KiB of UTF-8.
pub const MAX_ID_CHARS: usize = 256;

/// An id that cannot be read: too long, or holding a control character.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("{kind} of {chars} characters is longer than the limit of {max} characters", max = MAX_ID_CHARS)]
    TooLong { kind: &'static str, chars: usize },
    #[error("{kind} `{shown}` holds the control character U+{code:04X} at character {at}")]
    ControlCharacter {
        kind: &'static str,
        /// The id with control characters escaped, cut to a readable length.
        shown: String,
        code: u32,
        at: usize,
    },
}

/// Checks an id of type `kind` read from outside (see the module docs).
pub fn check_id(kind: &'static str, text: &str) -> Result<(), IdError> {
    let mut chars = 0;
    for (at, c) in text.chars().enumerate() {
        if c.is_control() {
            return Err(IdError::ControlCharacter {
                kind,
                shown: text.chars().take(64).flat_map(char::escape_debug).collect(),
                code: u32::from(c),
                at,
            });
        }
        chars = at + 1;
    }
    if chars > MAX_ID_CHARS {
        return Err(IdError::TooLong { kind, chars });
    }
    Ok(())
}

macro_rules! string_id {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        #[derive(serde::Serialize, schemars::JsonSchema)]
        #[serde(transparent)]
        pub struct $name(
            #[schemars(length(max = MAX_ID_CHARS), regex(pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$"))]
            pub compact_str::CompactString,
        );

        impl $name {
            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = compact_str::CompactString::deserialize(deserializer)?;
                check_id(stringify!($name), &text).map_err(serde::de::Error::custom)?;
                Ok(Self(text))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> Self {
                Self(text.into())
            }
        }

        impl From<String> for $name {
            fn from(text: String) -> Self {
                Self(text.into())
            }
        }
    )*};
}

string_id! {
    /// An ISA-95 site.
    SiteId;
    /// An ISA-95 area inside a site.
    AreaId;
    /// A work center (a line, a reactor bay, a cell) inside an area.
    WorkCenterId;
    /// A schedulable unit of equipment inside a work center.
    UnitId;
    /// A pool of shared secondary resources (people, tanks, stations).
    PoolId;
    /// One member of a pool: a person, a tank, a station.
    MemberId;
    /// A material: raw, intermediate, finished or packaging.
    MaterialId;
    /// A family of products that share changeover behaviour.
    FamilyId;
    /// How a product is made: a routing, a recipe or a line run.
    RoutingId;
    /// A sequence-dependent changeover matrix.
    ChangeoverMatrixId;
    /// A working calendar.
    CalendarId;
    /// A production order.
    OrderId;
    /// A lot of material: a process batch, a repetitive lot code or a purchased lot.
    LotId;
    /// A serial number of one discrete item.
    SerialId;
    /// An expected delivery of purchased material (a purchase order line).
    ReceiptId;
    /// An inspection plan.
    InspectionPlanId;
    /// A measured characteristic inside an inspection plan.
    CharacteristicId;
    /// A certification that people in a pool may hold.
    CertificationId;
    /// An event, unique across the whole log; the key of idempotent ingest.
    EventId;
}

/// One step of one order: the operation the scheduler places and the MES dispatches.
///
/// On the wire it is `<order>/<step>` with a 0-based step; it is split at the last `/`, so
/// order ids may hold `/` themselves.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OperationRef {
    pub order: OrderId,
    /// 0-based index into the order's routing steps.
    pub step: u32,
}

impl OperationRef {
    pub fn new(order: impl Into<OrderId>, step: u32) -> OperationRef {
        OperationRef {
            order: order.into(),
            step,
        }
    }
}

impl std::fmt::Display for OperationRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.order, self.step)
    }
}

/// Text that is not an operation reference `<order>/<step>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("operation id `{given}` is not `<order>/<step>`: {why}")]
pub struct OperationRefError {
    pub given: String,
    pub why: String,
}

impl std::str::FromStr for OperationRef {
    type Err = OperationRefError;

    fn from_str(text: &str) -> Result<OperationRef, OperationRefError> {
        let fail = |why: String| OperationRefError {
            given: text.to_owned(),
            why,
        };
        let (order, step) = text
            .rsplit_once('/')
            .ok_or_else(|| fail("there is no `/`".into()))?;
        if order.trim().is_empty() {
            return Err(fail("the order is empty".into()));
        }
        let step = step
            .parse::<u32>()
            .map_err(|_| fail(format!("step `{step}` is not a non-negative integer")))?;
        Ok(OperationRef::new(order, step))
    }
}

impl serde::Serialize for OperationRef {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for OperationRef {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::OperationRef;

    #[test]
    fn operation_refs_round_trip_and_split_at_the_last_slash() {
        let op: OperationRef = "MO/2026/7/3".parse().unwrap();
        assert_eq!(op, OperationRef::new("MO/2026/7", 3));
        assert_eq!(op.to_string(), "MO/2026/7/3");
        let json = serde_json::to_string(&op).unwrap();
        assert_eq!(json, "\"MO/2026/7/3\"");
        assert_eq!(serde_json::from_str::<OperationRef>(&json).unwrap(), op);
    }

    #[test]
    fn malformed_operation_refs_say_why() {
        for (text, why) in [
            ("MO-1", "there is no `/`"),
            ("/3", "the order is empty"),
            ("MO-1/x", "step `x` is not a non-negative integer"),
        ] {
            let err = text.parse::<OperationRef>().unwrap_err();
            assert_eq!(err.why, why, "{text}");
        }
    }
}
