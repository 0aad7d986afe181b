//! The OData names of the read model's sets (`store::query`): entity set and entity type
//! names, the permission that reads each (the REST API's for the same data), and the CSDL
//! model `$metadata` renders, built from the store's set descriptions so that the two cannot
//! disagree on a field.

use ::odata::csdl::{
    EntitySet, EntityType, NavigationProperty, NavigationPropertyBinding, Property, Schema,
};
use govern::Permission;
use store::query::{Kind, SETS, Set, SetDef};

/// The schema namespace of `$metadata`.
pub const NAMESPACE: &str = "mixplane";

/// One set as OData names it.
#[derive(Debug, Clone, Copy)]
pub struct Names {
    pub set: Set,
    pub entity_set: &'static str,
    pub entity_type: &'static str,
    pub permission: Permission,
}

/// Every set's names, in the service document's order.
pub const NAMES: [Names; 12] = [
    names(Set::Orders, "Orders", "Order", Permission::ReadPlant),
    names(
        Set::Operations,
        "Operations",
        "Operation",
        Permission::ReadPlant,
    ),
    names(
        Set::WorkCenters,
        "WorkCenters",
        "WorkCenter",
        Permission::ReadPlant,
    ),
    names(Set::Units, "Units", "Unit", Permission::ReadPlant),
    names(Set::Lots, "Lots", "Lot", Permission::ReadPlant),
    names(Set::Serials, "Serials", "Serial", Permission::ReadPlant),
    names(
        Set::QualityResults,
        "QualityResults",
        "QualityResult",
        Permission::ReadQuality,
    ),
    names(Set::Alerts, "Alerts", "Alert", Permission::ReadQuality),
    names(Set::Holds, "Holds", "Hold", Permission::ReadQuality),
    names(
        Set::Nonconformances,
        "Nonconformances",
        "Nonconformance",
        Permission::ReadQuality,
    ),
    names(
        Set::Proposals,
        "Proposals",
        "Proposal",
        Permission::ReadProposals,
    ),
    names(
        Set::AuditRecords,
        "AuditRecords",
        "AuditRecord",
        Permission::ReadAudit,
    ),
];

const fn names(
    set: Set,
    entity_set: &'static str,
    entity_type: &'static str,
    permission: Permission,
) -> Names {
    Names {
        set,
        entity_set,
        entity_type,
        permission,
    }
}

/// The names of an entity set, by its OData name (case-sensitive, as OData is).
pub fn by_entity_set(name: &str) -> Option<&'static Names> {
    NAMES.iter().find(|n| n.entity_set == name)
}

/// The names of a set.
pub fn of(set: Set) -> &'static Names {
    NAMES
        .iter()
        .find(|n| n.set == set)
        .expect("every set is named")
}

/// The EDM type of a field kind (a text list is `Collection(Edm.String)`).
pub fn edm_type(kind: Kind) -> &'static str {
    match kind {
        Kind::Text | Kind::TextList => "Edm.String",
        Kind::Integer => "Edm.Int64",
        Kind::Real => "Edm.Double",
        Kind::Boolean => "Edm.Boolean",
        Kind::Time => "Edm.DateTimeOffset",
    }
}

fn entity_type(def: &SetDef) -> EntityType {
    let properties = def
        .fields
        .iter()
        .map(|f| {
            let mut p = Property::new(f.name, edm_type(f.kind));
            if !f.nullable {
                p = p.required();
            }
            if f.kind == Kind::TextList {
                p = p.many();
            }
            p
        })
        .collect();
    let navigation = def
        .navigations
        .iter()
        .map(|n| NavigationProperty {
            name: n.name.to_owned(),
            target: of(n.target).entity_type.to_owned(),
            collection: n.many,
            nullable: !n.many,
            partner: None,
        })
        .collect();
    EntityType {
        name: of(def.set).entity_type.to_owned(),
        key: vec![def.key().name.to_owned()],
        properties,
        navigation,
    }
}

/// The service's model: one entity type and set per read-model set.
pub fn schema() -> Schema {
    Schema {
        namespace: NAMESPACE.to_owned(),
        container: "Container".to_owned(),
        entity_types: SETS.iter().map(entity_type).collect(),
        complex_types: Vec::new(),
        entity_sets: SETS
            .iter()
            .map(|def| EntitySet {
                name: of(def.set).entity_set.to_owned(),
                entity_type: of(def.set).entity_type.to_owned(),
                bindings: def
                    .navigations
                    .iter()
                    .map(|n| NavigationPropertyBinding {
                        path: n.name.to_owned(),
                        target: of(n.target).entity_set.to_owned(),
                    })
                    .collect(),
            })
            .collect(),
        actions: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_set_is_named_once_and_the_model_validates() {
        for def in SETS {
            assert_eq!(NAMES.iter().filter(|n| n.set == def.set).count(), 1);
        }
        let xml = schema().to_xml().expect("the model is valid CSDL");
        assert!(xml.contains("<EntitySet Name=\"QualityResults\""));
        assert!(xml.contains("NavigationProperty Name=\"operations\""));
    }
}
