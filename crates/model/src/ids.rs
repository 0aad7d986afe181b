//! Typed identifiers.
//!
//! Every entity is named by a string id chosen by the plant (an MES key, a lot code, a serial
//! number). Wrapping each kind in its own type stops a unit id from being passed where an order
//! id is expected; on the wire they are plain strings.

macro_rules! string_id {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> Self {
                Self(text.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(text: String) -> Self {
                Self(text)
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
    /// An inspection plan.
    InspectionPlanId;
    /// A measured characteristic inside an inspection plan.
    CharacteristicId;
    /// A certification that people in a pool may hold.
    CertificationId;
    /// An event, unique across the whole log; the key of idempotent ingest.
    EventId;
}
