//! Each app's data model, as plain data ([`app_schema`], an [`AppModel`]) and as the CSDL
//! model of `odata::csdl` ([`csdl`], [`schema`]) that its `$metadata` renders: one entity type
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

/// One app's model as plain data.
#[derive(Debug, Clone, PartialEq)]
pub struct AppModel {
    pub app: App,
    pub namespace: String,
    pub entity_types: Vec<EntityTypeModel>,
    /// Complex types the entity types use (`ParameterValue`), with their properties.
    pub complex_types: Vec<(String, Vec<PropertyDef>)>,
}

/// One entity type, served by the entity set of the same name.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityTypeModel {
    pub set: EntitySet,
    pub name: &'static str,
    pub key: &'static str,
    pub properties: Vec<PropertyDef>,
    /// Navigation properties within the app: (name, target entity type, foreign key).
    pub navigation: Vec<(String, &'static str, &'static str)>,
}

/// The CSDL models of every app, in [`App::ALL`] order.
pub fn schema() -> Vec<(App, Schema)> {
    App::ALL.into_iter().map(|app| (app, csdl(app))).collect()
}

/// The model of app `app` as plain data.
pub fn app_schema(app: App) -> AppModel {
    let entity_types = app
        .sets()
        .map(|set| EntityTypeModel {
            set,
            name: set.name(),
            key: "Id",
            properties: set.properties().collect(),
            navigation: set
                .foreign_keys()
                .into_iter()
                .filter(|(_, target)| target.app() == app)
                .map(|(fk, target)| (fk.trim_end_matches("_Id").to_owned(), target.name(), fk))
                .collect(),
        })
        .collect::<Vec<_>>();
    let uses_parameters = entity_types
        .iter()
        .any(|t| t.properties.iter().any(|p| p.edm == Edm::ParameterValue));
    let complex_types = if uses_parameters {
        let field = |name, edm| PropertyDef {
            name,
            edm,
            nullable: false,
            collection: false,
        };
        vec![(
            "ParameterValue".to_owned(),
            vec![field("Name", Edm::String), field("Value", Edm::Double)],
        )]
    } else {
        Vec::new()
    };
    AppModel {
        app,
        namespace: app.namespace(),
        entity_types,
        complex_types,
    }
}

fn property(p: &PropertyDef, namespace: &str) -> Property {
    Property {
        name: p.name.into(),
        edm_type: p.edm.type_name(namespace),
        nullable: p.nullable,
        collection: p.collection,
    }
}

/// The CSDL model of app `app` (what its `$metadata` renders), with its commands as actions.
pub fn csdl(app: App) -> Schema {
    let model = app_schema(app);
    let namespace = model.namespace.clone();
    let mut schema = Schema {
        namespace: namespace.clone(),
        container: String::new(),
        ..Schema::default()
    };
    for t in &model.entity_types {
        let nullable = |fk: &str| {
            t.properties
                .iter()
                .find(|p| p.name == fk)
                .is_none_or(|p| p.nullable)
        };
        schema.entity_types.push(EntityType {
            name: t.name.into(),
            key: vec![t.key.into()],
            properties: t
                .properties
                .iter()
                .map(|p| property(p, &namespace))
                .collect(),
            navigation: t
                .navigation
                .iter()
                .map(|(name, target, fk)| NavigationProperty {
                    name: name.clone(),
                    target: (*target).into(),
                    collection: false,
                    nullable: nullable(fk),
                    partner: None,
                })
                .collect(),
        });
        schema.entity_sets.push(CsdlSet {
            name: t.set.name().into(),
            entity_type: t.name.into(),
            bindings: t
                .navigation
                .iter()
                .map(|(name, target, _)| NavigationPropertyBinding {
                    path: name.clone(),
                    target: (*target).into(),
                })
                .collect(),
        });
    }
    for (name, properties) in &model.complex_types {
        schema.complex_types.push(ComplexType {
            name: name.clone(),
            properties: properties.iter().map(|p| property(p, &namespace)).collect(),
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
        let u4dm = csdl(App::AppU4DM);
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
        let material = csdl(App::Material);
        assert!(
            material
                .actions
                .iter()
                .any(|a| a.name == "SetMaterialTrackingUnitHold")
        );
        assert!(
            csdl(App::Equipment)
                .complex_types
                .iter()
                .all(|t| t.name != "ParameterValue")
        );
        // The plain model and the CSDL one say the same.
        for app in App::ALL {
            let (plain, rendered) = (app_schema(app), csdl(app));
            let names: Vec<&str> = plain.entity_types.iter().map(|t| t.name).collect();
            let rendered: Vec<&str> = rendered
                .entity_types
                .iter()
                .map(|t| t.name.as_str())
                .collect();
            assert_eq!(names, rendered);
            assert_eq!(plain.complex_types.len() == 1, app == App::AppU4DM);
        }
    }
}
