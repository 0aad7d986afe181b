//! Each app's CSDL model (`odata::csdl`), as its `$metadata` describes it: one entity type
//! and entity set per [`EntitySet`] of the app (key `Id`), a navigation property from each
//! foreign key `{Entity}_Id` to the entity it names when that entity is in the same app
//! (bound to its set), the complex type `ParameterValue`, and the app's commands as unbound
//! actions taking one parameter `command` (a complex type `<Command>Parameters` with the
//! command's fields and `IdempotencyKey`, `ModifiedBy`) and returning `CommandResponse`
//! (`Succeeded`, `Error { ErrorCode, ErrorMessage }`).

use odata::csdl::{
    Action, ComplexType, EntitySet as CsdlSet, EntityType, NavigationProperty,
    NavigationPropertyBinding, Property, Schema,
};

use crate::command::{IDEMPOTENCY_KEY, MODIFIED_BY};
use crate::command_parse::COMMANDS;
use crate::sets::{App, Edm, EntitySet, PropertyDef};

/// The models of every app, in [`App::ALL`] order.
pub fn schema() -> Vec<(App, Schema)> {
    App::ALL
        .into_iter()
        .map(|app| (app, app_schema(app)))
        .collect()
}

fn property(p: &PropertyDef, namespace: &str) -> Property {
    Property {
        name: p.name.into(),
        edm_type: p.edm.type_name(namespace),
        nullable: p.nullable,
        collection: p.collection,
    }
}

/// The model of app `app`.
pub fn app_schema(app: App) -> Schema {
    let namespace = app.namespace();
    let mut schema = Schema {
        namespace: namespace.clone(),
        container: String::new(),
        ..Schema::default()
    };
    for set in app.sets() {
        let in_app: Vec<(&str, EntitySet)> = set
            .foreign_keys()
            .into_iter()
            .filter(|(_, target)| target.app() == app)
            .collect();
        schema.entity_types.push(EntityType {
            name: set.name().into(),
            key: vec!["Id".into()],
            properties: set.properties().map(|p| property(&p, &namespace)).collect(),
            navigation: in_app
                .iter()
                .map(|(fk, target)| NavigationProperty {
                    name: fk.trim_end_matches("_Id").into(),
                    target: target.name().into(),
                    collection: false,
                    nullable: set.property(fk).is_none_or(|p| p.nullable),
                    partner: None,
                })
                .collect(),
        });
        schema.entity_sets.push(CsdlSet {
            name: set.name().into(),
            entity_type: set.name().into(),
            bindings: in_app
                .iter()
                .map(|(fk, target)| NavigationPropertyBinding {
                    path: fk.trim_end_matches("_Id").into(),
                    target: target.name().into(),
                })
                .collect(),
        });
    }
    let uses_parameters = app
        .sets()
        .any(|set| set.properties().any(|p| p.edm == Edm::ParameterValue));
    if uses_parameters {
        schema.complex_types.push(ComplexType {
            name: "ParameterValue".into(),
            properties: vec![
                Property::new("Name", "Edm.String").required(),
                Property::new("Value", "Edm.Double").required(),
            ],
        });
    }
    let commands: Vec<_> = COMMANDS.iter().filter(|(a, _, _)| *a == app).collect();
    if !commands.is_empty() {
        schema.complex_types.push(ComplexType {
            name: "ExecutionError".into(),
            properties: vec![
                Property::new("ErrorCode", "Edm.Int64").required(),
                Property::new("ErrorMessage", "Edm.String").required(),
            ],
        });
        schema.complex_types.push(ComplexType {
            name: "CommandResponse".into(),
            properties: vec![
                Property::new("Succeeded", "Edm.Boolean").required(),
                Property::new("Error", "ExecutionError").required(),
            ],
        });
    }
    for (_, name, fields) in commands {
        let parameters = format!("{name}Parameters");
        let mut properties: Vec<Property> = fields
            .iter()
            .map(|(field, edm, required)| Property {
                name: (*field).into(),
                edm_type: edm.type_name(&namespace),
                nullable: !required,
                collection: false,
            })
            .collect();
        properties.push(Property::new(IDEMPOTENCY_KEY, "Edm.String").required());
        properties.push(Property::new(MODIFIED_BY, "Edm.String"));
        schema.complex_types.push(ComplexType {
            name: parameters.clone(),
            properties,
        });
        schema.actions.push(Action {
            name: (*name).into(),
            parameters: vec![Property::new("command", &parameters).required()],
            returns: Some(Property::new("CommandResponse", "CommandResponse").required()),
        });
    }
    schema
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_app_model_is_valid_and_renders() {
        let models = schema();
        let total: usize = models.iter().map(|(_, s)| s.entity_sets.len()).sum();
        assert_eq!(total, EntitySet::ALL.len());
        for (app, model) in &models {
            model.validate().unwrap_or_else(|e| panic!("{app}: {e}"));
            let xml = model.to_xml().unwrap();
            assert!(xml.contains("Version=\"4.0\""), "{xml}");
            for set in app.sets() {
                assert!(
                    xml.contains(&format!("EntitySet Name=\"{set}\"")),
                    "{app}: {set}"
                );
            }
        }
        let u4dm = app_schema(App::AppU4DM);
        let operation = u4dm
            .entity_types
            .iter()
            .find(|t| t.name == "WorkOrderOperation")
            .unwrap();
        // Equipment is another app's: its key stays a plain GUID there.
        assert_eq!(operation.navigation.len(), 1);
        assert_eq!(
            (
                operation.navigation[0].name.as_str(),
                operation.navigation[0].nullable
            ),
            ("WorkOrder", false)
        );
        let xml = u4dm.to_xml().unwrap();
        assert!(
            xml.contains("Action Name=\"UADMSetWorkOrderPriority\""),
            "{xml}"
        );
        assert!(
            xml.contains("Siemens.SimaticIT.AppU4DM.ParameterValue"),
            "{xml}"
        );
        let material = app_schema(App::Material);
        assert!(
            material
                .actions
                .iter()
                .any(|a| a.name == "SetMaterialTrackingUnitHold")
        );
        assert!(
            app_schema(App::Equipment)
                .complex_types
                .iter()
                .all(|t| t.name != "ParameterValue")
        );
    }
}
