//! The entity sets of the profile as plain data: which app serves each, whether its rows are
//! state (one row per object, rewritten as the object changes) or events (one row per fact,
//! never rewritten), and its properties with their EDM types. [`crate::schema`] turns these
//! tables into the CSDL model; [`crate::Tables`] writes rows of exactly these properties.
//!
//! Names follow Opcenter Execution Foundation / Opcenter EX DS where its public integration
//! code shows them (`docs/opcenter-profile.md` lists the sources); a name marked *ours* in
//! that document has no public counterpart and is chosen in the same style.

use std::fmt;

/// An Opcenter app: its own OData service at `/sit-svc/Application/{App}/odata/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum App {
    /// Opcenter Execution Discrete (UADM): work orders, operations, quality results.
    AppU4DM,
    /// Equipment and its status.
    Equipment,
    /// Material tracking units (lots), serial items, their movements, expected receipts.
    Material,
}

impl App {
    /// Every app, in the order their services are listed.
    pub const ALL: [App; 3] = [App::AppU4DM, App::Equipment, App::Material];

    /// The app's name in its service path.
    pub fn name(self) -> &'static str {
        match self {
            App::AppU4DM => "AppU4DM",
            App::Equipment => "Equipment",
            App::Material => "Material",
        }
    }

    /// The app named `name`, if the profile has it.
    pub fn find(name: &str) -> Option<App> {
        App::ALL.into_iter().find(|app| app.name() == name)
    }

    /// The namespace of the app's CSDL schema.
    pub fn namespace(self) -> String {
        format!("Siemens.SimaticIT.{}", self.name())
    }

    /// The app's entity sets, in [`EntitySet::ALL`] order.
    pub fn sets(self) -> impl Iterator<Item = EntitySet> {
        EntitySet::ALL
            .into_iter()
            .filter(move |set| set.app() == self)
    }
}

impl fmt::Display for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether a set's rows are objects or facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetKind {
    /// One row per object, rewritten (and re-stamped) as it changes; a reader maps the
    /// difference from what it already knows.
    State,
    /// One row per fact, written once; a reader maps each row to one event.
    Event,
}

/// The EDM types the profile uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edm {
    Guid,
    String,
    Int32,
    Int64,
    Double,
    Boolean,
    DateTimeOffset,
    /// The complex type `ParameterValue { Name: Edm.String, Value: Edm.Double }`.
    ParameterValue,
}

impl Edm {
    /// The qualified type name in CSDL (`Edm.Guid`, or the app namespace's complex type).
    pub fn type_name(self, namespace: &str) -> String {
        match self {
            Edm::Guid => "Edm.Guid".into(),
            Edm::String => "Edm.String".into(),
            Edm::Int32 => "Edm.Int32".into(),
            Edm::Int64 => "Edm.Int64".into(),
            Edm::Double => "Edm.Double".into(),
            Edm::Boolean => "Edm.Boolean".into(),
            Edm::DateTimeOffset => "Edm.DateTimeOffset".into(),
            Edm::ParameterValue => format!("{namespace}.ParameterValue"),
        }
    }
}

/// One property of an entity type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PropertyDef {
    pub name: &'static str,
    pub edm: Edm,
    pub nullable: bool,
    /// A collection of `edm` values (never null; empty instead).
    pub collection: bool,
}

const fn required(name: &'static str, edm: Edm) -> PropertyDef {
    PropertyDef {
        name,
        edm,
        nullable: false,
        collection: false,
    }
}

const fn optional(name: &'static str, edm: Edm) -> PropertyDef {
    PropertyDef {
        name,
        edm,
        nullable: true,
        collection: false,
    }
}

const fn many(name: &'static str, edm: Edm) -> PropertyDef {
    PropertyDef {
        name,
        edm,
        nullable: false,
        collection: true,
    }
}

use Edm::{Boolean, DateTimeOffset, Double, Guid, Int32, Int64, ParameterValue, String as Text};

/// The three properties every entity opens with.
const KEY_AND_STAMP: [PropertyDef; 3] = [
    required("Id", Guid),
    required("NId", Text),
    required("ModifiedOn", DateTimeOffset),
];

const WORK_ORDER: &[PropertyDef] = &[
    required("FinalMaterialNId", Text),
    required("ProcessNId", Text),
    required("InitialQuantity", Double),
    required("PlannedTargetQuantity", Double),
    required("Priority", Int32),
    required("EstimatedStartTime", DateTimeOffset),
    required("DueDate", DateTimeOffset),
    optional("Customer", Text),
    required("Status", Text),
    optional("Notes", Text),
    optional("ActualStartTime", DateTimeOffset),
    optional("ActualEndTime", DateTimeOffset),
    required("ProducedQuantity", Double),
    required("ScrappedQuantity", Double),
    required("IsHold", Boolean),
    optional("HoldReason", Text),
];

const WORK_ORDER_OPERATION: &[PropertyDef] = &[
    required("WorkOrder_Id", Guid),
    required("WorkOrderNId", Text),
    required("Sequence", Int32),
    required("Name", Text),
    required("Status", Text),
    required("TargetQuantity", Double),
    optional("ToBeUsedMachine", Text),
    optional("EstimatedStartTime", DateTimeOffset),
    optional("ActualUsedMachine", Text),
    optional("Equipment_Id", Guid),
    many("ActualUsedResources", Text),
    optional("ActualStartTime", DateTimeOffset),
    optional("ActualEndTime", DateTimeOffset),
    required("ProducedQuantity", Double),
    required("ScrappedQuantity", Double),
    many("ActualParameters", ParameterValue),
];

const RESULT_HISTORY: &[PropertyDef] = &[
    required("Date", DateTimeOffset),
    required("CharacteristicNId", Text),
    required("ResultValue", Double),
    required("IsKO", Boolean),
    optional("SampleNumber", Int64),
    optional("SampleSize", Double),
    optional("WorkOrderNId", Text),
    optional("WorkOrder_Id", Guid),
    optional("MaterialTrackingUnitNId", Text),
    optional("MaterialTrackingUnit_Id", Guid),
    optional("SerialNumber", Text),
    optional("EquipmentNId", Text),
    optional("Equipment_Id", Guid),
];

const EQUIPMENT: &[PropertyDef] = &[
    required("Name", Text),
    required("LevelNId", Text),
    required("Status", Text),
    optional("StatusReason", Text),
    required("StatusSince", DateTimeOffset),
];

const EQUIPMENT_STATUS_HISTORY: &[PropertyDef] = &[
    required("Equipment_Id", Guid),
    required("EquipmentNId", Text),
    required("Date", DateTimeOffset),
    required("Status", Text),
    optional("Reason", Text),
];

const MATERIAL_TRACKING_UNIT: &[PropertyDef] = &[
    required("MaterialNId", Text),
    required("UoMNId", Text),
    required("Quantity", Double),
    required("ReceivedQuantity", Double),
    required("ProducedQuantity", Double),
    required("ConsumedQuantity", Double),
    required("ShippedQuantity", Double),
    optional("ProducedByWorkOrderNId", Text),
    required("Status", Text),
    required("IsHold", Boolean),
    optional("HoldReason", Text),
];

const PRODUCED_MATERIAL_ITEM: &[PropertyDef] = &[
    required("MaterialNId", Text),
    optional("WorkOrderNId", Text),
    optional("WorkOrder_Id", Guid),
    optional("ConsumedByWorkOrderNId", Text),
    optional("Customer", Text),
    required("Status", Text),
    required("IsHold", Boolean),
    optional("HoldReason", Text),
];

const MTU_OPERATION_TRACKING: &[PropertyDef] = &[
    required("Date", DateTimeOffset),
    required("Action", Text),
    required("MaterialNId", Text),
    optional("MaterialTrackingUnitNId", Text),
    optional("MaterialTrackingUnit_Id", Guid),
    many("SerialNumbers", Text),
    required("Quantity", Double),
    optional("WorkOrderNId", Text),
    optional("WorkOrder_Id", Guid),
    optional("WorkOrderOperation_Id", Guid),
    optional("Sequence", Int32),
    optional("Supplier", Text),
    optional("Customer", Text),
    optional("ExpectedReceiptNId", Text),
];

const EXPECTED_RECEIPT: &[PropertyDef] = &[
    required("MaterialNId", Text),
    required("Quantity", Double),
    required("ExpectedDate", DateTimeOffset),
    optional("Supplier", Text),
    optional("PurchaseOrder", Text),
    required("Status", Text),
    optional("Notes", Text),
];

/// An entity set of the profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EntitySet {
    WorkOrder,
    WorkOrderOperation,
    ResultHistory,
    Equipment,
    EquipmentStatusHistory,
    MaterialTrackingUnit,
    ProducedMaterialItem,
    MtuOperationTracking,
    ExpectedReceipt,
}

impl EntitySet {
    /// Every set, in the order a reader should take them within one poll: a set comes
    /// after the sets its rows refer to (operations and movements name work orders; a
    /// receipt's delivery names the expected receipt), so each row finds what it names; and
    /// a set of facts comes before the set of objects they change (the status history before
    /// `Equipment`), so the object's row finds its latest fact already known.
    pub const ALL: [EntitySet; 9] = [
        EntitySet::ExpectedReceipt,
        EntitySet::WorkOrder,
        EntitySet::WorkOrderOperation,
        EntitySet::EquipmentStatusHistory,
        EntitySet::Equipment,
        EntitySet::MaterialTrackingUnit,
        EntitySet::ProducedMaterialItem,
        EntitySet::MtuOperationTracking,
        EntitySet::ResultHistory,
    ];

    /// The set's name in URLs (also its entity type's name).
    pub fn name(self) -> &'static str {
        match self {
            EntitySet::WorkOrder => "WorkOrder",
            EntitySet::WorkOrderOperation => "WorkOrderOperation",
            EntitySet::ResultHistory => "ResultHistory",
            EntitySet::Equipment => "Equipment",
            EntitySet::EquipmentStatusHistory => "EquipmentStatusHistory",
            EntitySet::MaterialTrackingUnit => "MaterialTrackingUnit",
            EntitySet::ProducedMaterialItem => "ProducedMaterialItem",
            EntitySet::MtuOperationTracking => "MTUOperationTracking",
            EntitySet::ExpectedReceipt => "ExpectedReceipt",
        }
    }

    /// The app that serves the set.
    pub fn app(self) -> App {
        match self {
            EntitySet::WorkOrder | EntitySet::WorkOrderOperation | EntitySet::ResultHistory => {
                App::AppU4DM
            }
            EntitySet::Equipment | EntitySet::EquipmentStatusHistory => App::Equipment,
            EntitySet::MaterialTrackingUnit
            | EntitySet::ProducedMaterialItem
            | EntitySet::MtuOperationTracking
            | EntitySet::ExpectedReceipt => App::Material,
        }
    }

    /// Whether rows are objects or facts.
    pub fn kind(self) -> SetKind {
        match self {
            EntitySet::ResultHistory
            | EntitySet::EquipmentStatusHistory
            | EntitySet::MtuOperationTracking => SetKind::Event,
            _ => SetKind::State,
        }
    }

    /// The set named `set` in app `app`.
    pub fn find(app: &str, set: &str) -> Option<EntitySet> {
        EntitySet::ALL
            .into_iter()
            .find(|s| s.app().name() == app && s.name() == set)
    }

    /// Every property of the set's entity type: `Id`, `NId`, `ModifiedOn`, then its own.
    pub fn properties(self) -> impl Iterator<Item = PropertyDef> {
        let own = match self {
            EntitySet::WorkOrder => WORK_ORDER,
            EntitySet::WorkOrderOperation => WORK_ORDER_OPERATION,
            EntitySet::ResultHistory => RESULT_HISTORY,
            EntitySet::Equipment => EQUIPMENT,
            EntitySet::EquipmentStatusHistory => EQUIPMENT_STATUS_HISTORY,
            EntitySet::MaterialTrackingUnit => MATERIAL_TRACKING_UNIT,
            EntitySet::ProducedMaterialItem => PRODUCED_MATERIAL_ITEM,
            EntitySet::MtuOperationTracking => MTU_OPERATION_TRACKING,
            EntitySet::ExpectedReceipt => EXPECTED_RECEIPT,
        };
        KEY_AND_STAMP.into_iter().chain(own.iter().copied())
    }

    /// The property `name`, if the set has it.
    pub fn property(self, name: &str) -> Option<PropertyDef> {
        self.properties().find(|p| p.name == name)
    }

    /// Foreign keys (`{Entity}_Id`) with the set they point at, for navigation properties.
    pub fn foreign_keys(self) -> Vec<(&'static str, EntitySet)> {
        self.properties()
            .filter_map(|p| {
                let target = p.name.strip_suffix("_Id")?;
                let set = EntitySet::ALL.into_iter().find(|s| s.name() == target)?;
                Some((p.name, set))
            })
            .collect()
    }
}

impl fmt::Display for EntitySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_set_has_a_unique_name_key_stamp_and_no_duplicate_property() {
        let mut names: Vec<_> = EntitySet::ALL.iter().map(|s| s.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), EntitySet::ALL.len());
        for set in EntitySet::ALL {
            let props: Vec<_> = set.properties().map(|p| p.name).collect();
            assert_eq!(&props[..3], ["Id", "NId", "ModifiedOn"], "{set}");
            let mut unique = props.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(unique.len(), props.len(), "{set}");
            assert_eq!(EntitySet::find(set.app().name(), set.name()), Some(set));
        }
        assert_eq!(EntitySet::find("Material", "WorkOrder"), None);
    }

    #[test]
    fn foreign_keys_point_at_served_sets() {
        assert_eq!(
            EntitySet::WorkOrderOperation.foreign_keys(),
            vec![
                ("WorkOrder_Id", EntitySet::WorkOrder),
                ("Equipment_Id", EntitySet::Equipment)
            ]
        );
        for set in EntitySet::ALL {
            for p in set.properties().filter(|p| p.name.ends_with("_Id")) {
                assert_eq!(p.edm, Edm::Guid, "{set}.{}", p.name);
                assert!(
                    set.foreign_keys().iter().any(|(name, _)| *name == p.name),
                    "{set}.{} points at no set",
                    p.name
                );
            }
        }
    }
}
